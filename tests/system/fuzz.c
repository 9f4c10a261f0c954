/* Robustness of the system architecture against an untrusted guest: random
 * descriptor tables, TSSs, IDTs, code and register state (protected, V86
 * and real mode, every CPL, debug registers, VME/PVI, interrupts and NMIs)
 * run for a bounded budget.  The CPU must neither crash, trip a sanitizer,
 * nor hang: every cpu_run returns and the guest clock advances.
 *
 *   sys_fuzz [rounds] [seed]     (defaults: 150 rounds or $SYS_FUZZ_ROUNDS,
 *                                 seed 1) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "machine/bus.h"
#include "tests/common/rng.h"

#define RAM_SIZE (4u << 20)
#define GDT_BASE 0x1000u
#define IDT_BASE 0x2000u
#define TSS_BASE 0x3000u
#define LDT_BASE 0x4000u
#define CODE_BASE 0x10000u
#define CODE_SIZE 0x10000u
#define BUDGET 20000

/* One stream for the whole run, seeded from the command line. */
static Rng rng;

static uint32_t pick(const uint32_t *v, size_t n)
{
    return v[rng_below(&rng, (uint32_t)n)];
}

/* A descriptor that is often plausible: a random type from the ones the
 * checks distinguish, a base and limit inside RAM or not. */
static void rand_desc(uint8_t *d)
{
    static const uint32_t types[] = {0x92, 0x93, 0x9A, 0x9B, 0x9E, 0x90, 0x96, 0x98, 0xF2, 0xFA,
                                     0xB2, 0xBA, 0xD2, 0xDA, 0x89, 0x8B, 0x81, 0x83, 0x82, 0x8C,
                                     0xEC, 0x84, 0xE4, 0x85, 0xE5, 0x8E, 0x8F, 0x12, 0x1A, 0x00};
    uint32_t base = (rng_next32(&rng) & 3) ? rng_below(&rng, RAM_SIZE) : rng_next32(&rng);
    uint32_t limit = (rng_next32(&rng) & 1) ? 0xFFFFF : rng_next32(&rng) & 0xFFFFF;
    uint32_t access = (rng_next32(&rng) & 7) ? pick(types, sizeof types / sizeof types[0])
                                             : rng_next32(&rng) & 0xFF;
    uint32_t flags = rng_next32(&rng) & 0xF;
    if ((access & 0x1F) == 0x0C || (access & 0x1F) == 0x04 || (access & 0x1F) == 0x05 ||
        (access & 0x1F) == 0x0E || (access & 0x1F) == 0x0F) {
        /* A gate: selector and offset (code near CODE_BASE often). */
        uint32_t off =
            (rng_next32(&rng) & 1) ? CODE_BASE + rng_below(&rng, CODE_SIZE) : rng_next32(&rng);
        uint16_t sel =
            (uint16_t)((rng_next32(&rng) & 3) ? rng_below(&rng, 32) * 8 + (rng_next32(&rng) & 7)
                                              : rng_next32(&rng));
        d[0] = (uint8_t)off;
        d[1] = (uint8_t)(off >> 8);
        d[2] = (uint8_t)sel;
        d[3] = (uint8_t)(sel >> 8);
        d[4] = (uint8_t)(rng_next32(&rng) & 0x1F);
        d[5] = (uint8_t)access;
        d[6] = (uint8_t)(off >> 16);
        d[7] = (uint8_t)(off >> 24);
        return;
    }
    d[0] = (uint8_t)limit;
    d[1] = (uint8_t)(limit >> 8);
    d[2] = (uint8_t)base;
    d[3] = (uint8_t)(base >> 8);
    d[4] = (uint8_t)(base >> 16);
    d[5] = (uint8_t)access;
    d[6] = (uint8_t)(((limit >> 16) & 0xF) | (flags << 4));
    d[7] = (uint8_t)(base >> 24);
}

/* Code: random bytes mixed with the system instructions under test. */
static void rand_code(uint8_t *p, uint32_t len)
{
    static const uint8_t ops[][3] = {
        {0xEA, 0, 0},    {0x9A, 0, 0},    {0xCA, 0, 0},    {0xCB, 0, 0},    {0xCF, 0, 0},
        {0xCD, 0, 0},    {0xCC, 0, 0},    {0xCE, 0, 0},    {0xF1, 0, 0},    {0x8E, 0, 0},
        {0x17, 0, 0},    {0x1F, 0, 0},    {0x07, 0, 0},    {0x0F, 0x00, 0}, {0x0F, 0x02, 0},
        {0x0F, 0x03, 0}, {0x0F, 0x01, 0}, {0x0F, 0x22, 0}, {0x0F, 0x23, 0}, {0x0F, 0x34, 0},
        {0x0F, 0x35, 0}, {0x0F, 0x30, 0}, {0x0F, 0x32, 0}, {0xFA, 0, 0},    {0xFB, 0, 0},
        {0x9C, 0, 0},    {0x9D, 0, 0},    {0xF4, 0, 0},    {0xE4, 0, 0},    {0xEC, 0, 0},
        {0xEE, 0, 0},    {0x6C, 0, 0},    {0xF3, 0xA4, 0}, {0xFF, 0, 0},    {0x66, 0xCF, 0},
        {0x63, 0, 0},
        /* SIMD: mandatory-prefix maps, 128-bit memory forms, MXCSR, the
         * masked stores to DS:EDI, FXSAVE/FXRSTOR. */
        {0x66, 0x0F, 0},  {0xF3, 0x0F, 0},  {0xF2, 0x0F, 0},  {0x0F, 0x28, 0}, {0x0F, 0x58, 0},
        {0x0F, 0xAE, 0},  {0x0F, 0xF7, 0},  {0x66, 0x0F, 0xF7}, {0x0F, 0xC2, 0}, {0x0F, 0x2D, 0},
        {0x66, 0x0F, 0x73},
    };
    uint32_t k = 0;
    while (k < len) {
        if (rng_next32(&rng) & 1) {
            p[k++] = (uint8_t)rng_next32(&rng);
            continue;
        }
        const uint8_t *o = ops[rng_below(&rng, sizeof ops / sizeof ops[0])];
        for (int j = 0; j < 3 && o[j] && k < len; j++)
            p[k++] = o[j];
        /* Operands: a ModRM byte and a few immediates, often selector-like. */
        for (int j = (int)rng_below(&rng, 7); j > 0 && k < len; j--)
            p[k++] =
                (uint8_t)((rng_next32(&rng) & 1) ? rng_below(&rng, 32) * 8 + (rng_next32(&rng) & 3)
                                                 : rng_next32(&rng));
    }
}

static int irq_ack(void *opaque)
{
    (void)opaque;
    return (rng_next32(&rng) & 7) ? (int)(rng_next32(&rng) & 0xFF) : -1;
}

static const CpuIrqOps irq_ops = {irq_ack};

static void set_cache(CpuState *c, int seg, uint16_t sel, uint32_t base, uint32_t limit,
                      uint16_t attr)
{
    cpu_set_seg_cache(c, seg, sel, base, limit, attr);
}

int main(int argc, char **argv)
{
    const char *env = getenv("SYS_FUZZ_ROUNDS");
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0)
                      : env    ? (unsigned)strtoul(env, NULL, 0)
                               : 150;
    rng.s = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
    uint8_t *ram = calloc(1, RAM_SIZE);
    static Bus bus;
    if (!ram || bus_init(&bus) || bus_map_ram(&bus, 0, RAM_SIZE, ram, 0)) {
        fprintf(stderr, "sys_fuzz: out of memory\n");
        return 2;
    }
    CpuState *c = cpu_new(&bus);
    if (!c) {
        fprintf(stderr, "sys_fuzz: out of memory\n");
        return 2;
    }
    c->irq_ops = &irq_ops;
    uint64_t total = 0, shutdowns = 0, halts = 0;
    for (unsigned r = 0; r < rounds; r++) {
        /* Memory: noise everywhere low, tables of mostly-plausible entries. */
        for (uint32_t k = 0; k < 0x10000; k += 4) {
            uint32_t v = rng_next32(&rng);
            memcpy(ram + k, &v, 4);
        }
        for (uint32_t k = 0; k < 64; k++)
            rand_desc(ram + GDT_BASE + 8 * k);
        for (uint32_t k = 0; k < 32; k++)
            rand_desc(ram + LDT_BASE + 8 * k);
        for (uint32_t k = 0; k < 256; k++)
            rand_desc(ram + IDT_BASE + 8 * k);
        /* Mostly a working system underneath, so that events get delivered
         * and the code runs deeper: flat ring 0 and 3 segments, an LDT and
         * a TSS with sane inner stacks, and most IDT gates usable. */
        if (rng_next32(&rng) & 3) {
            static const uint8_t flat[4][8] = {
                {0xFF, 0xFF, 0, 0, 0, 0x9A, 0xCF, 0},
                {0xFF, 0xFF, 0, 0, 0, 0x92, 0xCF, 0},
                {0xFF, 0xFF, 0, 0, 0, 0xFA, 0xCF, 0},
                {0xFF, 0xFF, 0, 0, 0, 0xF2, 0xCF, 0},
            };
            memcpy(ram + GDT_BASE + 8, flat, sizeof flat);
            const uint8_t ldt[8] = {0xFF, 0, LDT_BASE & 0xFF, LDT_BASE >> 8, 0, 0x82, 0, 0};
            const uint8_t tss[8] = {0x67, 0x20, TSS_BASE & 0xFF, TSS_BASE >> 8, 0, 0x89, 0, 0};
            memcpy(ram + GDT_BASE + 5 * 8, ldt, 8);
            memcpy(ram + GDT_BASE + 6 * 8, tss, 8);
            for (int pl = 0; pl < 3; pl++) {
                uint32_t esp = 0x9000 + 0x1000 * (uint32_t)pl, ss = 0x10;
                memcpy(ram + TSS_BASE + 4 + 8 * pl, &esp, 4);
                memcpy(ram + TSS_BASE + 8 + 8 * pl, &ss, 4);
            }
            uint16_t iomap = (rng_next32(&rng) & 1) ? 0x68 : (uint16_t)rng_next32(&rng);
            memcpy(ram + TSS_BASE + 0x66, &iomap, 2);
            for (uint32_t k = 0; k < 256; k++) {
                if (!rng_below(&rng, 5))
                    continue;
                uint8_t *g = ram + IDT_BASE + 8 * k;
                uint32_t off = CODE_BASE + rng_below(&rng, CODE_SIZE);
                uint8_t acc =
                    (uint8_t)(0x8E | (rng_next32(&rng) & 1) | ((rng_next32(&rng) & 1) ? 0x60 : 0));
                const uint8_t gate[8] = {(uint8_t)off,         (uint8_t)(off >> 8), 0x08, 0, 0, acc,
                                         (uint8_t)(off >> 16), (uint8_t)(off >> 24)};
                memcpy(g, gate, 8);
            }
        }
        rand_code(ram + CODE_BASE, CODE_SIZE);
        cpu_flush_code(c);

        cpu_reset(c);
        cpu_set_a20(c, true);
        unsigned mode = rng_below(&rng, 8); /* 0: real, 1: V86, else protected */
        if (mode != 0)
            cpu_set_flat32(c);
        c->gdtr.base = (rng_next32(&rng) & 7) ? GDT_BASE : rng_next32(&rng);
        c->gdtr.limit = (rng_next32(&rng) & 3) ? 64 * 8 - 1 : rng_next32(&rng) & 0xFFFF;
        c->idtr.base = (rng_next32(&rng) & 7) ? IDT_BASE : rng_next32(&rng);
        c->idtr.limit = (rng_next32(&rng) & 3) ? 256 * 8 - 1 : rng_next32(&rng) & 0xFFFF;
        c->ldtr.sel = (uint16_t)((rng_next32(&rng) & 1) ? 0x28 : 0);
        c->ldtr.base = LDT_BASE;
        c->ldtr.limit = (rng_next32(&rng) & 1) ? 0xFF : rng_next32(&rng) & 0xFFFF;
        c->ldtr.attr = 0x82;
        c->tr.sel = (uint16_t)((rng_next32(&rng) & 3) ? 0x30 : rng_next32(&rng));
        c->tr.base = (rng_next32(&rng) & 3) ? TSS_BASE : rng_next32(&rng);
        c->tr.limit = (rng_next32(&rng) & 1) ? 0x2067 : rng_next32(&rng) & 0x3FFF;
        c->tr.attr = (rng_next32(&rng) & 1) ? 0x8B : 0x83;
        for (int k = 0; k < 8; k++)
            c->regs[k] =
                (rng_next32(&rng) & 1) ? rng_next32(&rng) : CODE_BASE + rng_below(&rng, CODE_SIZE);
        c->regs[R_ESP] = 0x8000 + (rng_next32(&rng) & 0x7FFC);
        uint32_t fl =
            rng_next32(&rng) & (FL_ARITH | FL_DF | FL_IOPL | FL_NT | FL_AC | FL_VIF | FL_VIP |
                                FL_IF | ((rng_next32(&rng) & 3) ? 0 : FL_TF | FL_RF));
        cpu_set_eflags(c, fl);
        if (mode == 1) {
            c->eflags |= FL_VM;
            c->cpl = 3;
            for (int s = 0; s < 6; s++)
                cpu_load_seg_real(c, s, (uint16_t)(CODE_BASE >> 4));
            c->eip = rng_below(&rng, CODE_SIZE);
        } else if (mode == 0) {
            c->cr0 &= ~CR0_PE;
            for (int s = 0; s < 6; s++)
                cpu_load_seg_real(c, s, (uint16_t)(CODE_BASE >> 4));
            c->eip = rng_below(&rng, CODE_SIZE);
        } else {
            int cpl = (rng_next32(&rng) & 1) ? 3 : (int)(rng_next32(&rng) & 3);
            uint16_t dpl = (uint16_t)(cpl << 5);
            c->cpl = cpl;
            set_cache(c, SEG_CS, (uint16_t)(0x08 | cpl), 0, 0xFFFFFFFFu, (uint16_t)(0xC09B | dpl));
            set_cache(c, SEG_SS, (uint16_t)(0x10 | cpl), 0, 0xFFFFFFFFu, (uint16_t)(0xC093 | dpl));
            c->eip = CODE_BASE + rng_below(&rng, CODE_SIZE);
        }
        c->cr4 = rng_next32(&rng) & (CR4_VME | CR4_PVI | CR4_DE | CR4_TSD | CR4_OSFXSR |
                                     CR4_OSXMMEXCPT);
        /* SIMD state: any valid MXCSR (all exceptions unmasked at times),
         * random XMM contents. */
        c->fpu.mxcsr = rng_next32(&rng) & 0xFFFF;
        for (int k = 0; k < 8; k++)
            for (int w = 0; w < 4; w++)
                c->fpu.xmm[k].d[w] = rng_next32(&rng);
        if (!(rng_next32(&rng) & 3)) {
            for (int k = 0; k < 4; k++)
                c->dr[k] = (rng_next32(&rng) & 1) ? CODE_BASE + rng_below(&rng, CODE_SIZE)
                                                  : rng_below(&rng, 0x10000);
            c->dr[7] = 0x400 | (rng_next32(&rng) & 0xFFFF00FFu);
        }
        c->sysenter_cs = (rng_next32(&rng) & 1) ? 0x08 : rng_next32(&rng) & 0xFFFF;
        c->sysenter_eip = CODE_BASE + rng_below(&rng, CODE_SIZE);
        c->sysenter_esp = rng_next32(&rng);
        uint64_t start = c->icount;
        for (int slice = 0; slice < 8; slice++) {
            if (!(rng_next32(&rng) & 3))
                cpu_set_irq(c, true);
            if (!(rng_next32(&rng) & 7))
                cpu_set_nmi(c);
            uint64_t before = c->icount;
            CpuExit e = cpu_run(c, BUDGET / 8);
            if (e == CPU_EXIT_SHUTDOWN) {
                shutdowns++;
                break;
            }
            if (e == CPU_EXIT_HALT) {
                halts++;
                c->halted = false; /* as if an interrupt had ended it */
                cpu_set_irq(c, false);
                continue;
            }
            if (e == CPU_EXIT_BUDGET && c->icount == before) {
                fprintf(stderr, "sys_fuzz: round %u: budget exit without progress\n", r);
                return 1;
            }
        }
        total += c->icount - start;
    }
    printf("sys_fuzz: %u rounds, %" PRIu64 " instructions, %" PRIu64 " shutdowns, %" PRIu64
           " halts\n",
           rounds, total, shutdowns, halts);
    cpu_free(c);
    bus_destroy(&bus);
    free(ram);
    return 0;
}
