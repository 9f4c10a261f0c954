/* Multiboot v1 loading (the Multiboot Specification 0.6.96). */
#ifndef KESTREL_BIOS_MULTIBOOT_H
#define KESTREL_BIOS_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/bus.h"

typedef struct MultibootBoot {
    uint32_t entry; /* EIP */
    uint32_t mbi;   /* EBX: physical address of the information structure */
} MultibootBoot;

/* True if the image holds a Multiboot header in its first 8 KiB. */
bool multiboot_detect(const uint8_t *img, size_t len);

/* Load the kernel image, the modules (`modules`: comma-separated paths,
 * each optionally followed by a space and its command line, as QEMU's
 * -initrd takes them; may be NULL) and build the information structure
 * with the memory map for `ram_size` bytes of RAM.  Returns 0, or -1 with
 * a one-line reason in err. */
int multiboot_load(Bus *bus, uint64_t ram_size, const uint8_t *img, size_t len,
                   const char *cmdline, const char *modules, MultibootBoot *out, char *err,
                   size_t errlen);

#endif
