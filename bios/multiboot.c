/* Multiboot v1 loader: the header (with or without the a.out kludge), ELF32
 * kernels, modules, and the information structure with a memory map.
 * Multiboot Specification 0.6.96, sections 3.1 (header), 3.2 (machine
 * state) and 3.3 (boot information). */
#include "bios/multiboot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_SEARCH 8192
#define MB_AOUT_KLUDGE (1u << 16)
/* Bits 0-15 are requirements; Kestrel meets 0 (page-aligned modules) and
 * 1 (memory information); 2 (video mode) is a preference it may ignore. */
#define MB_REQ_KNOWN 0x7u

/* Where the information structure and its tables go: conventional memory
 * below the loaded kernel, as GRUB does. */
#define MBI_ADDR 0x9000u
#define MBI_MMAP (MBI_ADDR + 0x100)
#define MBI_MODS (MBI_ADDR + 0x200)
#define MBI_STR (MBI_ADDR + 0x400)
#define MBI_END 0x10000u
#define LOW_RAM_END 0xA0000u

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

static long find_header(const uint8_t *img, size_t len)
{
    size_t lim = len < MB_SEARCH ? len : MB_SEARCH;
    for (size_t off = 0; off + 12 <= lim; off += 4) {
        uint32_t magic = rd32(img + off), flags = rd32(img + off + 4), sum = rd32(img + off + 8);
        if (magic == MB_MAGIC && (uint32_t)(magic + flags + sum) == 0)
            return (long)off;
    }
    return -1;
}

bool multiboot_detect(const uint8_t *img, size_t len) { return find_header(img, len) >= 0; }

/* The destination must be RAM the kernel may own: above the information
 * area and outside the 640 KiB-1 MiB hole. */
static bool dest_ok(uint64_t ram_size, uint64_t addr, uint64_t len)
{
    uint64_t end = addr + len;
    if (end < addr || end > ram_size)
        return false;
    if (addr < MBI_END)
        return false;
    return end <= LOW_RAM_END || addr >= 0x100000;
}

static int copy_in(Bus *bus, uint64_t addr, const void *src, uint64_t len)
{
    return bus_write_phys(bus, addr, src, len) == len ? 0 : -1;
}

static int zero_fill(Bus *bus, uint64_t addr, uint64_t len)
{
    static const uint8_t zeros[4096];
    while (len) {
        uint64_t n = len < sizeof zeros ? len : sizeof zeros;
        if (copy_in(bus, addr, zeros, n))
            return -1;
        addr += n;
        len -= n;
    }
    return 0;
}

static int load_aout(Bus *bus, uint64_t ram_size, const uint8_t *img, size_t len, long hoff,
                     uint32_t *entry, uint64_t *end, char *err, size_t errlen)
{
    if ((size_t)hoff + 32 > len) {
        snprintf(err, errlen, "multiboot header truncated");
        return -1;
    }
    uint32_t header_addr = rd32(img + hoff + 12), load_addr = rd32(img + hoff + 16);
    uint32_t load_end = rd32(img + hoff + 20), bss_end = rd32(img + hoff + 24);
    *entry = rd32(img + hoff + 28);
    if (header_addr < load_addr || header_addr - load_addr > (uint32_t)hoff) {
        snprintf(err, errlen, "multiboot header_addr/load_addr inconsistent");
        return -1;
    }
    uint64_t file_off = (uint64_t)hoff - (header_addr - load_addr);
    uint64_t size = load_end ? (uint64_t)load_end - load_addr : len - file_off;
    if (load_end && load_end < load_addr) {
        snprintf(err, errlen, "multiboot load_end_addr below load_addr");
        return -1;
    }
    if (file_off + size > len) {
        snprintf(err, errlen, "multiboot image shorter than its load range");
        return -1;
    }
    uint64_t bss = bss_end > load_addr + size ? bss_end - (load_addr + size) : 0;
    if (bss_end && bss_end < load_addr + size) {
        snprintf(err, errlen, "multiboot bss_end_addr below the loaded image");
        return -1;
    }
    if (!dest_ok(ram_size, load_addr, size + bss)) {
        snprintf(err, errlen, "multiboot image load range %#x-%#llx is not in RAM", load_addr,
                 (unsigned long long)(load_addr + size + bss));
        return -1;
    }
    if (copy_in(bus, load_addr, img + file_off, size) || zero_fill(bus, load_addr + size, bss)) {
        snprintf(err, errlen, "multiboot image does not fit in RAM");
        return -1;
    }
    *end = load_addr + size + bss;
    return 0;
}

static int load_elf(Bus *bus, uint64_t ram_size, const uint8_t *img, size_t len,
                    uint32_t *entry, uint64_t *end, char *err, size_t errlen)
{
    if (len < 52 || memcmp(img, "\177ELF", 4) != 0) {
        snprintf(err, errlen, "multiboot kernel is neither a.out-kludge nor ELF");
        return -1;
    }
    if (img[4] != 1 || img[5] != 1 || rd16(img + 18) != 3) {
        snprintf(err, errlen, "multiboot ELF kernel is not 32-bit little-endian i386");
        return -1;
    }
    *entry = rd32(img + 24);
    uint32_t phoff = rd32(img + 28);
    uint16_t phentsize = rd16(img + 42), phnum = rd16(img + 44);
    if (phentsize < 32 || (uint64_t)phoff + (uint64_t)phnum * phentsize > len) {
        snprintf(err, errlen, "multiboot ELF program headers out of the file");
        return -1;
    }
    *end = 0;
    int loaded = 0;
    for (unsigned k = 0; k < phnum; k++) {
        const uint8_t *ph = img + phoff + (size_t)k * phentsize;
        if (rd32(ph) != 1) /* PT_LOAD */
            continue;
        uint32_t off = rd32(ph + 4), paddr = rd32(ph + 12);
        uint32_t filesz = rd32(ph + 16), memsz = rd32(ph + 20);
        if (filesz > memsz || (uint64_t)off + filesz > len) {
            snprintf(err, errlen, "multiboot ELF segment %u out of the file", k);
            return -1;
        }
        if (!dest_ok(ram_size, paddr, memsz)) {
            snprintf(err, errlen, "multiboot ELF segment at %#x (%u bytes) is not in RAM", paddr,
                     memsz);
            return -1;
        }
        if (copy_in(bus, paddr, img + off, filesz) ||
            zero_fill(bus, (uint64_t)paddr + filesz, memsz - filesz)) {
            snprintf(err, errlen, "multiboot ELF segment %u does not fit in RAM", k);
            return -1;
        }
        if ((uint64_t)paddr + memsz > *end)
            *end = (uint64_t)paddr + memsz;
        loaded++;
    }
    if (!loaded) {
        snprintf(err, errlen, "multiboot ELF kernel has no loadable segment");
        return -1;
    }
    return 0;
}

static uint8_t *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open '%s'", path);
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1u << 20;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "'%s' is too large", path);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "cannot read '%s'", path);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Append a NUL-terminated string to the string area; 0 when it is full. */
static uint32_t put_string(uint8_t *mbi, uint32_t *str_off, const char *s, size_t n)
{
    uint32_t at = *str_off;
    if (at + n + 1 > MBI_END - MBI_ADDR)
        return 0;
    memcpy(mbi + at, s, n);
    mbi[at + n] = 0;
    *str_off = at + (uint32_t)n + 1;
    return MBI_ADDR + at;
}

int multiboot_load(Bus *bus, uint64_t ram_size, const uint8_t *img, size_t len,
                   const char *cmdline, const char *modules, MultibootBoot *out, char *err,
                   size_t errlen)
{
    long hoff = find_header(img, len);
    if (hoff < 0) {
        snprintf(err, errlen, "no Multiboot header in the first 8 KiB of the kernel");
        return -1;
    }
    uint32_t flags = rd32(img + hoff + 4);
    if (flags & 0xFFFFu & ~MB_REQ_KNOWN) {
        snprintf(err, errlen, "kernel requires unsupported Multiboot features (flags %#x)", flags);
        return -1;
    }
    if (ram_size < 2u << 20) {
        snprintf(err, errlen, "Multiboot needs at least 2 MiB of RAM");
        return -1;
    }
    uint64_t end;
    int r = (flags & MB_AOUT_KLUDGE)
                ? load_aout(bus, ram_size, img, len, hoff, &out->entry, &end, err, errlen)
                : load_elf(bus, ram_size, img, len, &out->entry, &end, err, errlen);
    if (r)
        return -1;

    /* The information structure, SPEC 3.3. */
    static uint8_t mbi[MBI_END - MBI_ADDR];
    memset(mbi, 0, sizeof mbi);
    uint32_t str_off = MBI_STR - MBI_ADDR;
    uint32_t info = 0x1 | 0x4 | 0x40; /* mem_*, cmdline, mmap */
    wr32(mbi + 4, LOW_RAM_END / 1024);
    wr32(mbi + 8, (uint32_t)((ram_size - 0x100000) / 1024));
    const char *cl = cmdline ? cmdline : "";
    wr32(mbi + 16, put_string(mbi, &str_off, cl, strlen(cl)));

    /* Memory map (SPEC 3.3, "mmap_*"): entries of size 20 + the size field. */
    struct { uint64_t base, len; uint32_t type; } map[] = {
        {0, 0x9FC00, 1},
        {0x9FC00, 0x400, 2},
        {0xF0000, 0x10000, 2},
        {0x100000, ram_size - 0x100000, 1},
    };
    uint8_t *mm = mbi + (MBI_MMAP - MBI_ADDR);
    for (unsigned k = 0; k < 4; k++) {
        uint8_t *e = mm + k * 24;
        wr32(e, 20);
        wr32(e + 4, (uint32_t)map[k].base);
        wr32(e + 8, (uint32_t)(map[k].base >> 32));
        wr32(e + 12, (uint32_t)map[k].len);
        wr32(e + 16, (uint32_t)(map[k].len >> 32));
        wr32(e + 20, map[k].type);
    }
    wr32(mbi + 44, 4 * 24);
    wr32(mbi + 48, MBI_MMAP);

    /* Modules, page-aligned after the kernel (flag bit 0 asks for that). */
    unsigned nmods = 0;
    if (modules && *modules) {
        uint64_t at = (end + 0xFFF) & ~0xFFFull;
        const char *p = modules;
        while (*p) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            if (nmods >= 32 || n == 0 || n >= 1024) {
                snprintf(err, errlen, "bad -initrd module list");
                return -1;
            }
            char spec[1024];
            memcpy(spec, p, n);
            spec[n] = 0;
            char *sp = strchr(spec, ' ');
            const char *mcl = sp ? sp + 1 : spec;
            if (sp)
                *sp = 0;
            size_t mlen;
            uint8_t *mdata = read_file(spec, &mlen, err, errlen);
            if (!mdata)
                return -1;
            if (at < 0x100000)
                at = 0x100000;
            if (!dest_ok(ram_size, at, mlen) || copy_in(bus, at, mdata, mlen)) {
                free(mdata);
                snprintf(err, errlen, "module '%s' does not fit in RAM", spec);
                return -1;
            }
            free(mdata);
            uint8_t *me = mbi + (MBI_MODS - MBI_ADDR) + nmods * 16;
            wr32(me, (uint32_t)at);
            wr32(me + 4, (uint32_t)(at + mlen));
            wr32(me + 8, put_string(mbi, &str_off, mcl, strlen(mcl)));
            nmods++;
            at = (at + mlen + 0xFFF) & ~0xFFFull;
            p += n + (comma ? 1 : 0);
        }
        info |= 0x8;
        wr32(mbi + 20, nmods);
        wr32(mbi + 24, MBI_MODS);
    }
    wr32(mbi + 0, info);
    if (copy_in(bus, MBI_ADDR, mbi, sizeof mbi)) {
        snprintf(err, errlen, "cannot write the Multiboot information");
        return -1;
    }
    out->mbi = MBI_ADDR;
    return 0;
}
