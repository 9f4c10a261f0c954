/* A CPU with RAM and no devices, in 32-bit flat protected mode, reporting
 * exceptions instead of delivering them: what the host-oracle tests run
 * single instructions on. */
#ifndef KESTREL_TESTS_FLAT_GUEST_H
#define KESTREL_TESTS_FLAT_GUEST_H

#include <stdio.h>
#include <stdlib.h>

#include "cpu/cpu.h"

typedef struct FlatGuest {
    Bus bus;
    uint8_t *ram;
    CpuState *cpu;
} FlatGuest;

/* Exits with status 2 and a message naming `who` when memory runs out. */
static inline void flat_guest_init(FlatGuest *g, size_t ram_size, const char *who)
{
    g->ram = calloc(1, ram_size);
    if (!g->ram || bus_init(&g->bus) != 0) {
        fprintf(stderr, "%s: out of memory\n", who);
        exit(2);
    }
    bus_map_ram(&g->bus, 0, ram_size, g->ram, 0);
    g->cpu = cpu_new(&g->bus);
    if (!g->cpu) {
        fprintf(stderr, "%s: cpu_new failed\n", who);
        exit(2);
    }
    cpu_set_flat32(g->cpu);
    g->cpu->trap_exceptions = true;
}

static inline void flat_guest_free(FlatGuest *g)
{
    cpu_free(g->cpu);
    bus_destroy(&g->bus);
    free(g->ram);
}

#endif
