/* Direct Linux boot (the x86 boot protocol, 2.02 and later). */
#ifndef KESTREL_BIOS_LINUX_H
#define KESTREL_BIOS_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/bus.h"

typedef struct LinuxBoot {
    uint32_t entry;       /* 32-bit entry point */
    uint32_t boot_params; /* ESI */
    uint32_t gdt_base;    /* GDT holding __BOOT_CS (0x10) and __BOOT_DS (0x18) */
    uint16_t gdt_limit;
} LinuxBoot;

/* True if the image has a Linux setup header. */
bool linux_detect(const uint8_t *img, size_t len);

/* Place the kernel, initrd, command line, boot_params and a boot GDT in
 * guest RAM.  Returns 0, or -1 with a one-line reason in err. */
int linux_load(Bus *bus, uint64_t ram_size, const uint8_t *img, size_t len,
               const uint8_t *initrd, size_t initrd_len, const char *cmdline, LinuxBoot *out,
               char *err, size_t errlen);

#endif
