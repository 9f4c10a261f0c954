/* Direct Linux boot through the 32-bit boot protocol (Linux
 * Documentation/arch/x86/boot.rst: "The Real-Mode Kernel Header", "32-bit
 * Boot Protocol", "Details of Header Fields", and zero-page.rst for
 * boot_params).  No firmware runs: Kestrel fills boot_params itself, with
 * an e820 map, the command line and the initrd, and enters the kernel's
 * 32-bit entry point in flat protected mode. */
#include "bios/linux.h"

#include <stdio.h>
#include <string.h>

/* Guest-physical layout of what the loader writes. */
#define BOOT_GDT 0x6000u     /* four descriptors: null, null, __BOOT_CS, __BOOT_DS */
#define BOOT_PARAMS 0x7000u  /* the zero page, 4 KiB */
#define BOOT_CMDLINE 0x20000u
#define BOOT_CMDLINE_MAX 0x10000u
#define KERNEL_ADDR 0x100000u

/* boot_params offsets (zero-page.rst). */
#define BP_EXT_MEM_K 0x002
#define BP_ALT_MEM_K 0x1E0
#define BP_E820_ENTRIES 0x1E8
#define BP_HDR 0x1F1
#define BP_E820_TABLE 0x2D0
/* Setup header offsets (boot.rst), absolute within the image and the page. */
#define HDR_SETUP_SECTS 0x1F1
#define HDR_BOOT_FLAG 0x1FE
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21C
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22C
#define HDR_CMDLINE_SIZE 0x238
#define HDR_INIT_SIZE 0x260

#define LOADED_HIGH 0x01

static uint32_t rd32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void wr32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}
static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

bool linux_detect(const uint8_t *img, size_t len)
{
    return len >= 0x264 && rd16(img + HDR_BOOT_FLAG) == 0xAA55 &&
           memcmp(img + HDR_MAGIC, "HdrS", 4) == 0;
}

static int put(Bus *bus, uint64_t addr, const void *src, uint64_t len)
{
    return bus_write_phys(bus, addr, src, len) == len ? 0 : -1;
}

int linux_load(Bus *bus, uint64_t ram_size, const uint8_t *img, size_t len,
               const uint8_t *initrd, size_t initrd_len, const char *cmdline, LinuxBoot *out,
               char *err, size_t errlen)
{
    if (!linux_detect(img, len)) {
        snprintf(err, errlen, "not a Linux bzImage (no setup header)");
        return -1;
    }
    uint16_t version = rd16(img + HDR_VERSION);
    if (version < 0x0202) {
        snprintf(err, errlen, "Linux boot protocol %x.%02x is older than 2.02", version >> 8,
                 version & 0xFF);
        return -1;
    }
    if (!(img[HDR_LOADFLAGS] & LOADED_HIGH)) {
        snprintf(err, errlen, "zImage kernels (loaded low) are not supported; use a bzImage");
        return -1;
    }
    unsigned setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
    size_t setup_size = (size_t)(setup_sects + 1) * 512;
    if (setup_size >= len) {
        snprintf(err, errlen, "bzImage is shorter than its setup code");
        return -1;
    }
    size_t kernel_size = len - setup_size;
    uint32_t init_size = version >= 0x020A ? rd32(img + HDR_INIT_SIZE) : 0;
    uint64_t kernel_need = init_size > kernel_size ? init_size : kernel_size;
    if (KERNEL_ADDR + kernel_need > ram_size) {
        snprintf(err, errlen, "not enough RAM for the kernel (%llu MiB needed)",
                 (unsigned long long)((KERNEL_ADDR + kernel_need) >> 20) + 1);
        return -1;
    }
    if (put(bus, KERNEL_ADDR, img + setup_size, kernel_size)) {
        snprintf(err, errlen, "cannot write the kernel to RAM");
        return -1;
    }

    /* The zero page: the setup header copied as is, then our fields. */
    static uint8_t bp[4096];
    memset(bp, 0, sizeof bp);
    size_t hdr_end = 0x202 + img[0x201]; /* the jump at 0x200 gives the header's end */
    if (hdr_end > len || hdr_end > sizeof bp)
        hdr_end = 0x264 < len ? 0x264 : len;
    memcpy(bp + BP_HDR, img + BP_HDR, hdr_end - BP_HDR);
    bp[HDR_TYPE_OF_LOADER] = 0xFF; /* undefined boot loader */
    bp[HDR_LOADFLAGS] &= ~0x20; /* QUIET_FLAG off: let the decompressor speak */

    uint32_t cmd_max = version >= 0x0206 ? rd32(img + HDR_CMDLINE_SIZE) : 255;
    const char *cl = cmdline ? cmdline : "";
    size_t cl_len = strlen(cl);
    if (cl_len > cmd_max || cl_len >= BOOT_CMDLINE_MAX) {
        snprintf(err, errlen, "kernel command line longer than the kernel accepts (%u)", cmd_max);
        return -1;
    }
    if (put(bus, BOOT_CMDLINE, cl, cl_len + 1)) {
        snprintf(err, errlen, "cannot write the command line");
        return -1;
    }
    wr32(bp + HDR_CMD_LINE_PTR, BOOT_CMDLINE);

    if (initrd && initrd_len) {
        uint32_t max = version >= 0x0203 ? rd32(img + HDR_INITRD_ADDR_MAX) : 0x37FFFFFF;
        uint64_t top = ram_size < (uint64_t)max + 1 ? ram_size : (uint64_t)max + 1;
        if (initrd_len > top || top - initrd_len < KERNEL_ADDR + kernel_need) {
            snprintf(err, errlen, "initrd (%zu bytes) does not fit below %#llx with the kernel",
                     initrd_len, (unsigned long long)top);
            return -1;
        }
        uint64_t at = (top - initrd_len) & ~0xFFFull;
        if (put(bus, at, initrd, initrd_len)) {
            snprintf(err, errlen, "cannot write the initrd to RAM");
            return -1;
        }
        wr32(bp + HDR_RAMDISK_IMAGE, (uint32_t)at);
        wr32(bp + HDR_RAMDISK_SIZE, (uint32_t)initrd_len);
    }

    /* Memory sizes and the e820 map (the BIOS's INT 15h E820 answer). */
    uint64_t ext_k = (ram_size - 0x100000) / 1024;
    wr16(bp + BP_EXT_MEM_K, (uint16_t)(ext_k > 0xFFFF ? 0xFFFF : ext_k));
    wr32(bp + BP_ALT_MEM_K, (uint32_t)ext_k);
    struct { uint64_t base, len; uint32_t type; } map[] = {
        {0, 0x9FC00, 1},               /* conventional memory */
        {0x9FC00, 0x400, 2},           /* EBDA */
        {0xF0000, 0x10000, 2},         /* BIOS area */
        {0x100000, ram_size - 0x100000, 1},
    };
    for (unsigned k = 0; k < 4; k++) {
        uint8_t *e = bp + BP_E820_TABLE + k * 20;
        wr64(e, map[k].base);
        wr64(e + 8, map[k].len);
        wr32(e + 16, map[k].type);
    }
    bp[BP_E820_ENTRIES] = 4;
    if (put(bus, BOOT_PARAMS, bp, sizeof bp)) {
        snprintf(err, errlen, "cannot write boot_params");
        return -1;
    }

    /* The GDT the protocol requires: 4 GiB flat __BOOT_CS (0x10,
     * execute/read) and __BOOT_DS (0x18, read/write). */
    static const uint8_t gdt[32] = {
        0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0,
        0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0,
        0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0,
    };
    if (put(bus, BOOT_GDT, gdt, sizeof gdt)) {
        snprintf(err, errlen, "cannot write the boot GDT");
        return -1;
    }
    /* code32_start is where a loader that moves the kernel must enter; the
     * kernel is where the protocol's default puts it. */
    out->entry = KERNEL_ADDR;
    out->boot_params = BOOT_PARAMS;
    out->gdt_base = BOOT_GDT;
    out->gdt_limit = sizeof gdt - 1;
    return 0;
}
