/* Interpreter micro-benchmark: MIPS on a tight integer loop and on a
 * memory-heavy loop (bench/loops.asm), flat 32-bit protected mode; with
 * "paging", through 4 KiB pages (an identity map with 32-bit paging).
 * Usage: mips LOOPS.BIN [MILLIONS_OF_INSNS] [paging] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/cpu.h"

#define RAM_SIZE (16u << 20)
/* Page directory and tables for the paging run, in the last 20 KiB of RAM. */
#define PD_ADDR (RAM_SIZE - 0x5000)

static bool use_paging;
static uint8_t *ram;

/* Identity-map RAM with 4 KiB pages (SDM vol. 3, 4.3). */
static void map_identity(CpuState *c)
{
    for (uint32_t i = 0; i < RAM_SIZE >> 12; i++) {
        uint32_t e = (i << 12) | 0x3; /* present, writable */
        memcpy(ram + PD_ADDR + 0x1000 + 4 * i, &e, 4);
    }
    for (uint32_t t = 0; t < RAM_SIZE >> 22; t++) {
        uint32_t e = (PD_ADDR + 0x1000 + 0x1000 * t) | 0x3;
        memcpy(ram + PD_ADDR + 4 * t, &e, 4);
    }
    c->cr3 = PD_ADDR;
    c->cr0 |= CR0_PG;
    cpu_tlb_flush(c);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double run(Bus *bus, uint32_t entry, uint64_t insns)
{
    CpuState *c = cpu_new(bus);
    if (!c) {
        fprintf(stderr, "mips: out of memory\n");
        exit(1);
    }
    cpu_set_flat32(c);
    if (use_paging)
        map_identity(c);
    c->eip = entry;
    c->regs[R_ESP] = 0x8000;
    double t0 = now();
    CpuExit r = cpu_run(c, insns);
    double t = now() - t0;
    if (r != CPU_EXIT_BUDGET || c->icount != insns) {
        fprintf(stderr, "mips: loop at %#x stopped early (exit %d after %llu insns, eip %#x)\n",
                entry, r, (unsigned long long)c->icount, c->eip);
        exit(1);
    }
    cpu_free(c);
    return insns / t / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: mips LOOPS.BIN [MILLIONS_OF_INSNS] [paging]\n");
        return 2;
    }
    uint64_t insns = (argc > 2 ? strtoull(argv[2], NULL, 10) : 300) * 1000000ull;
    use_paging = argc > 3 && strcmp(argv[3], "paging") == 0;
    ram = calloc(1, RAM_SIZE);
    Bus bus;
    if (!ram || bus_init(&bus) != 0 || bus_map_ram(&bus, 0, RAM_SIZE, ram, 0) != 0) {
        fprintf(stderr, "mips: out of memory\n");
        return 1;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "mips: cannot open %s\n", argv[1]);
        return 1;
    }
    size_t n = fread(ram + 0x1000, 1, 0x10000, f);
    fclose(f);
    if (n == 0) {
        fprintf(stderr, "mips: %s is empty\n", argv[1]);
        return 1;
    }
    double a = run(&bus, 0x1000, insns);
    double b = run(&bus, 0x1100, insns);
    printf("integer loop: %.1f MIPS\n", a);
    printf("memory loop:  %.1f MIPS\n", b);
    bus_destroy(&bus);
    free(ram);
    return 0;
}
