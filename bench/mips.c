/* Interpreter micro-benchmark: MIPS on a tight integer loop and on a
 * memory-heavy loop (bench/loops.asm), flat 32-bit protected mode.
 * Usage: mips LOOPS.BIN [MILLIONS_OF_INSNS] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cpu/cpu.h"

#define RAM_SIZE (16u << 20)

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
        fprintf(stderr, "usage: mips LOOPS.BIN [MILLIONS_OF_INSNS]\n");
        return 2;
    }
    uint64_t insns = (argc > 2 ? strtoull(argv[2], NULL, 10) : 300) * 1000000ull;
    uint8_t *ram = calloc(1, RAM_SIZE);
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
