/* The MMX oracle: the host's MMX unit is the reference for Kestrel's
 * (cpu/mmx.c).
 *
 * For every form below (one MMX instruction; register forms use MM2 as the
 * destination and MM5 as the source, memory forms [esi]) the driver makes
 * N cases: an x87 state (random control word with all exceptions masked,
 * random condition codes and masked flags, random TOP and tags, random
 * register contents including the exponent fields), the destination and
 * source operands, the 16 bytes at [esi] and EAX.  The first cases are all
 * pairs of edge patterns (0, -1, 80.., 7F.., saturation boundaries of each
 * lane width, 1); then each lane of each operand is picked from the lane's
 * edge values or at random, and shift counts are small (0-70) most of the
 * time.
 *
 * Each case runs on the host as FRSTOR image / instruction / FNSAVE image
 * (host_run.c) and in Kestrel as the same three instructions stepped in
 * flat 32-bit protected mode.  Compared bit for bit: the FNSAVE image's
 * control, status and tag words (so TOP = 0 and the tag word after the
 * MMX instruction, or all empty after EMMS) and all eight registers (the
 * 64-bit result, and the exponent field set to all ones in the register
 * written), EAX (MOVD r32), and the 16 bytes at [esi] (MOVD/MOVQ stores).
 * Then a few Kestrel-only checks of the exception rules: #UD with CR0.EM,
 * #NM with CR0.TS, #MF for a pending unmasked x87 exception, #UD for the
 * 66/F2/F3-prefixed (SSE/SSE2) encodings and for memory forms of 0F 71-73,
 * and a MOVQ store that faults at a segment limit leaving memory unchanged.
 *
 * Usage: mmx_oracle [-n CASES] [-v] [FILTER...]
 *   MMX_CASES  cases per form (default 10000)
 *   FPU_SEED   PRNG seed
 * Prints one line per failing form and "N passed, M failed" (forms and
 * checks); exit status 0 iff nothing failed.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common/flat_guest.h"
#include "cpu/cpu.h"
#include "machine/bus.h"
#include "tests/fpu/host_run.h"

#define RAM_SIZE (1u << 20)
#define CODE_BASE 0x1000u
#define IMG_BASE 0x10000u /* EBX: FRSTOR image, FNSAVE image at +108 */
#define MEM_BASE 0x20000u /* ESI: the memory operand */
#define MEMCMP 16
#define RDST 2
#define RSRC 5

/* ---- PRNG (splitmix64) ------------------------------------------------------ */

typedef struct Rng {
    uint64_t s;
} Rng;

static uint64_t rnd(Rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static uint32_t below(Rng *r, uint32_t n) { return (uint32_t)(((rnd(r) >> 32) * n) >> 32); }

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* ---- Forms -------------------------------------------------------------------- */

enum { K_BIN, K_SHIFT, K_SHIFT_IMM, K_MOVD_LOAD, K_MOVD_STORE, K_MOVQ_STORE, K_EMMS };

typedef struct Form {
    char name[40];
    uint8_t bytes[4];
    uint8_t len;
    uint8_t kind;
    bool mem;
} Form;

static const struct {
    const char *name;
    uint8_t op;
    uint8_t kind;
} ops[] = {
    {"punpcklbw", 0x60, K_BIN}, {"punpcklwd", 0x61, K_BIN}, {"punpckldq", 0x62, K_BIN},
    {"packsswb", 0x63, K_BIN},  {"pcmpgtb", 0x64, K_BIN},   {"pcmpgtw", 0x65, K_BIN},
    {"pcmpgtd", 0x66, K_BIN},   {"packuswb", 0x67, K_BIN},  {"punpckhbw", 0x68, K_BIN},
    {"punpckhwd", 0x69, K_BIN}, {"punpckhdq", 0x6A, K_BIN}, {"packssdw", 0x6B, K_BIN},
    {"movd mm,r/m32", 0x6E, K_MOVD_LOAD}, {"movq mm,mm/m64", 0x6F, K_BIN},
    {"pcmpeqb", 0x74, K_BIN},   {"pcmpeqw", 0x75, K_BIN},   {"pcmpeqd", 0x76, K_BIN},
    {"movd r/m32,mm", 0x7E, K_MOVD_STORE}, {"movq mm/m64,mm", 0x7F, K_MOVQ_STORE},
    {"psrlw", 0xD1, K_SHIFT},   {"psrld", 0xD2, K_SHIFT},   {"psrlq", 0xD3, K_SHIFT},
    {"pmullw", 0xD5, K_BIN},    {"psubusb", 0xD8, K_BIN},   {"psubusw", 0xD9, K_BIN},
    {"pand", 0xDB, K_BIN},      {"paddusb", 0xDC, K_BIN},   {"paddusw", 0xDD, K_BIN},
    {"pandn", 0xDF, K_BIN},     {"psraw", 0xE1, K_SHIFT},   {"psrad", 0xE2, K_SHIFT},
    {"pmulhw", 0xE5, K_BIN},    {"psubsb", 0xE8, K_BIN},    {"psubsw", 0xE9, K_BIN},
    {"por", 0xEB, K_BIN},       {"paddsb", 0xEC, K_BIN},    {"paddsw", 0xED, K_BIN},
    {"pxor", 0xEF, K_BIN},      {"psllw", 0xF1, K_SHIFT},   {"pslld", 0xF2, K_SHIFT},
    {"psllq", 0xF3, K_SHIFT},   {"pmaddwd", 0xF5, K_BIN},   {"psubb", 0xF8, K_BIN},
    {"psubw", 0xF9, K_BIN},     {"psubd", 0xFA, K_BIN},     {"paddb", 0xFC, K_BIN},
    {"paddw", 0xFD, K_BIN},     {"paddd", 0xFE, K_BIN},
};

static const struct {
    const char *name;
    uint8_t op, reg;
} shift_imm[] = {
    {"psrlw imm", 0x71, 2}, {"psraw imm", 0x71, 4}, {"psllw imm", 0x71, 6},
    {"psrld imm", 0x72, 2}, {"psrad imm", 0x72, 4}, {"pslld imm", 0x72, 6},
    {"psrlq imm", 0x73, 2}, {"psllq imm", 0x73, 6},
};

static Form forms[160];
static int nforms;

static void add_form(const char *name, const char *sfx, uint8_t op, uint8_t modrm, int kind,
                     bool mem, bool imm)
{
    Form *f = &forms[nforms++];
    snprintf(f->name, sizeof f->name, "%s %s", name, sfx);
    f->bytes[0] = 0x0F;
    f->bytes[1] = op;
    f->bytes[2] = modrm;
    f->len = imm ? 4 : 3;
    f->kind = (uint8_t)kind;
    f->mem = mem;
}

static void build_forms(void)
{
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        int kind = ops[k].kind;
        uint8_t reg_rr = (uint8_t)(0xC0 | RDST << 3 | RSRC);
        if (kind == K_MOVD_LOAD || kind == K_MOVD_STORE)
            reg_rr = (uint8_t)(0xC0 | RDST << 3 | 0); /* EAX */
        else if (kind == K_MOVQ_STORE)
            reg_rr = (uint8_t)(0xC0 | RSRC << 3 | RDST); /* movq mm2, mm5 */
        add_form(ops[k].name, "reg", ops[k].op, reg_rr, kind, false, false);
        uint8_t reg = kind == K_MOVQ_STORE ? RSRC : RDST;
        add_form(ops[k].name, "mem", ops[k].op, (uint8_t)(reg << 3 | 6), kind, true, false);
    }
    for (size_t k = 0; k < sizeof shift_imm / sizeof shift_imm[0]; k++)
        add_form(shift_imm[k].name, "reg", shift_imm[k].op,
                 (uint8_t)(0xC0 | shift_imm[k].reg << 3 | RDST), K_SHIFT_IMM, false, true);
    add_form("emms", "", 0x77, 0, K_EMMS, false, false);
    forms[nforms - 1].len = 2;
}

/* ---- Cases -------------------------------------------------------------------- */

typedef struct Case {
    uint8_t img[108];
    uint8_t mem[MEMCMP];
    uint64_t rax;
} Case;

static const uint64_t edges[] = {
    0,
    ~0ull,
    0x8080808080808080ull,
    0x7F7F7F7F7F7F7F7Full,
    0x8000800080008000ull,
    0x7FFF7FFF7FFF7FFFull,
    0x8000000080000000ull,
    0x7FFFFFFF7FFFFFFFull,
    0x0101010101010101ull,
    0x00FF00FF00FF00FFull,
    0xFF00FF00FF00FF00ull,
    0x0000FFFF0000FFFFull,
    0x0000000000000001ull,
    0x8000000000000000ull,
    0x7FFFFFFFFFFFFFFFull,
    0x7F80017F80FF0001ull,
};
#define NEDGE (sizeof edges / sizeof edges[0])

/* A 64-bit operand whose lanes (of a random width) are edge values of that
 * lane or random. */
static uint64_t gen_value(Rng *r)
{
    if (below(r, 8) == 0)
        return rnd(r);
    if (below(r, 8) == 0)
        return edges[below(r, NEDGE)];
    static const int widths[] = {8, 16, 32, 64};
    int bits = widths[below(r, 4)];
    uint64_t m = bits == 64 ? ~0ull : (1ull << bits) - 1, v = 0;
    for (int k = 0; k < 64 / bits; k++) {
        uint64_t smax = m >> 1, lane;
        switch (below(r, 10)) {
        case 0: lane = 0; break;
        case 1: lane = m; break;                 /* -1, unsigned max */
        case 2: lane = smax; break;              /* signed max */
        case 3: lane = smax + 1; break;          /* signed min */
        case 4: lane = smax - below(r, 3); break;
        case 5: lane = smax + 1 + below(r, 3); break;
        case 6: lane = below(r, 3); break;
        case 7: lane = m - below(r, 3); break;
        default: lane = rnd(r) & m; break;
        }
        v |= lane << (bits * k);
    }
    return v;
}

/* A shift count: mostly 0-70, sometimes large. */
static uint64_t gen_count(Rng *r)
{
    switch (below(r, 8)) {
    case 0: return rnd(r);
    case 1: return (uint64_t)below(r, 256) | (below(r, 2) ? 1ull << (32 + below(r, 32)) : 0);
    default: return below(r, 71);
    }
}

static void set_reg(Case *c, int phys, uint64_t v)
{
    unsigned top = (get16(c->img + 4) >> 11) & 7;
    memcpy(c->img + 28 + 10 * ((phys - (int)top) & 7), &v, 8);
}

static void gen_case(Rng *r, const Form *f, long idx, Case *c)
{
    memset(c, 0, sizeof *c);
    /* Control word: all exceptions masked, random precision and rounding. */
    put16(c->img + 0, (uint16_t)(0x003F | 0x0040 | (rnd(r) & 0x0F00)));
    /* Status word: condition codes, masked flags, TOP; no ES/B. */
    put16(c->img + 4, (uint16_t)(rnd(r) & 0x7F3F & ~0x0080));
    put16(c->img + 8, (uint16_t)rnd(r)); /* tags: only empty/non-empty matters */
    for (int k = 0; k < 8; k++) {
        uint64_t m = gen_value(r);
        uint16_t se = (uint16_t)rnd(r);
        memcpy(c->img + 28 + 10 * k, &m, 8);
        memcpy(c->img + 36 + 10 * k, &se, 2);
    }
    for (int k = 0; k < MEMCMP; k += 8) {
        uint64_t v = rnd(r);
        memcpy(c->mem + k, &v, 8);
    }
    c->rax = rnd(r);

    uint64_t a, b;
    if (idx < (long)(NEDGE * NEDGE)) {
        a = edges[idx / NEDGE];
        b = edges[idx % NEDGE];
    } else {
        a = gen_value(r);
        b = gen_value(r);
    }
    if (f->kind == K_SHIFT && idx >= (long)(NEDGE * NEDGE))
        b = gen_count(r);
    set_reg(c, RDST, a);
    if (f->mem)
        memcpy(c->mem, &b, 8);
    else
        set_reg(c, RSRC, b);
    if (f->kind == K_MOVD_LOAD)
        c->rax = (c->rax & ~0xFFFFFFFFull) | (uint32_t)b;
}

/* ---- Kestrel ---------------------------------------------------------------- */

typedef FlatGuest Kes;

static void kes_init(Kes *k)
{
    flat_guest_init(k, RAM_SIZE, "mmx_oracle");
    k->cpu->cr0 |= CR0_NE | CR0_MP | CR0_ET;
    fpu_reset(k->cpu);
}

static void kes_free(Kes *k)
{
    flat_guest_free(k);
}

typedef struct Out {
    uint8_t img[108];
    uint8_t mem[MEMCMP];
    uint64_t rax;
    int exc;
} Out;

/* FRSTOR [ebx]; the instruction; FNSAVE [ebx+108]. */
static void kes_load_code(Kes *k, const uint8_t *insn, int len)
{
    uint8_t code[16] = {0xDD, 0x23};
    memcpy(code + 2, insn, (size_t)len);
    code[2 + len] = 0xDD;
    code[3 + len] = 0x73;
    code[4 + len] = 108;
    bus_write_phys(&k->bus, CODE_BASE, code, sizeof code);
}

static void kes_run(Kes *k, const Case *c, Out *o)
{
    CpuState *cpu = k->cpu;
    bus_write_phys(&k->bus, IMG_BASE, c->img, 108);
    bus_write_phys(&k->bus, MEM_BASE, c->mem, MEMCMP);
    memset(cpu->regs, 0, sizeof cpu->regs);
    cpu->regs[0] = (uint32_t)c->rax;
    cpu->regs[3] = IMG_BASE;
    cpu->regs[6] = MEM_BASE;
    cpu->regs[4] = 0x8000;
    cpu->eip = CODE_BASE;
    o->exc = -1;
    for (int s = 0; s < 3; s++) {
        CpuExit e = cpu_step(cpu);
        if (e != CPU_EXIT_BUDGET) {
            o->exc = e == CPU_EXIT_EXCEPTION ? cpu->exc_vector : 100 + (int)e;
            break;
        }
    }
    bus_read_phys(&k->bus, IMG_BASE + 108, o->img, 108);
    bus_read_phys(&k->bus, MEM_BASE, o->mem, MEMCMP);
    o->rax = cpu->regs[0];
}

static void host_exec(HostStub *s, const Case *c, Out *o)
{
    static uint8_t mem[MEMCMP] __attribute__((aligned(16)));
    HostCtx h;
    memcpy(h.in, c->img, 108);
    memcpy(mem, c->mem, MEMCMP);
    h.rax = c->rax;
    h.rflags = 0x2;
    h.mem = mem;
    host_stub_run(s, &h);
    memcpy(o->img, h.out, 108);
    memcpy(o->mem, mem, MEMCMP);
    o->rax = h.rax;
    o->exc = -1;
}

/* Compare everything but the instruction/data pointers and opcode (bytes
 * 12-27) and the reserved upper halves of the first three words. */
static bool same(const Out *h, const Out *k, char *why, size_t n)
{
    if (h->exc != k->exc) {
        snprintf(why, n, "exception: host %d, kestrel %d", h->exc, k->exc);
        return false;
    }
    static const char *const names[] = {"cw", "sw", "tw"};
    for (int w = 0; w < 3; w++) {
        if (get16(h->img + 4 * w) != get16(k->img + 4 * w)) {
            snprintf(why, n, "%s: host %04x, kestrel %04x", names[w], get16(h->img + 4 * w),
                     get16(k->img + 4 * w));
            return false;
        }
    }
    for (int i = 0; i < 8; i++) {
        const uint8_t *a = h->img + 28 + 10 * i, *b = k->img + 28 + 10 * i;
        if (memcmp(a, b, 10)) {
            uint64_t ma, mb;
            memcpy(&ma, a, 8);
            memcpy(&mb, b, 8);
            snprintf(why, n, "st%d: host %04x:%016" PRIx64 ", kestrel %04x:%016" PRIx64, i,
                     get16(a + 8), ma, get16(b + 8), mb);
            return false;
        }
    }
    if ((uint32_t)h->rax != (uint32_t)k->rax) {
        snprintf(why, n, "eax: host %08x, kestrel %08x", (uint32_t)h->rax, (uint32_t)k->rax);
        return false;
    }
    if (memcmp(h->mem, k->mem, MEMCMP)) {
        uint64_t a, b;
        memcpy(&a, h->mem, 8);
        memcpy(&b, k->mem, 8);
        snprintf(why, n, "mem: host %016" PRIx64 ", kestrel %016" PRIx64, a, b);
        return false;
    }
    return true;
}

/* ---- Kestrel-only exception checks ------------------------------------------ */

static int checks_passed, checks_failed;

static void check(bool ok, const char *what)
{
    if (ok) {
        checks_passed++;
    } else {
        checks_failed++;
        printf("FAIL check: %s\n", what);
    }
}

/* Run `insn` alone from a clean FNINIT state; returns the exception vector
 * or -1. */
static int kes_one(Kes *k, const uint8_t *insn, int len)
{
    CpuState *cpu = k->cpu;
    bus_write_phys(&k->bus, CODE_BASE, insn, (size_t)len);
    cpu->regs[6] = MEM_BASE;
    cpu->regs[4] = 0x8000;
    cpu->eip = CODE_BASE;
    CpuExit e = cpu_step(cpu);
    if (e == CPU_EXIT_BUDGET)
        return -1;
    return e == CPU_EXIT_EXCEPTION ? cpu->exc_vector : 100 + (int)e;
}

static void exception_checks(Kes *k)
{
    CpuState *cpu = k->cpu;
    static const uint8_t paddb[] = {0x0F, 0xFC, 0xD5}, emms[] = {0x0F, 0x77},
                         paddb66[] = {0x66, 0x0F, 0xFC, 0xD5}, paddbf3[] = {0xF3, 0x0F, 0xFC, 0xD5},
                         psrlw_m[] = {0x0F, 0x71, 0x16, 0x03}, psrlq3[] = {0x0F, 0x73, 0xDA, 0x03},
                         pshufw[] = {0x0F, 0x70, 0xD5, 0x1B}, fnclex[] = {0xDB, 0xE2};
    uint32_t cr0 = cpu->cr0;

    fpu_reset(cpu);
    cpu->cr0 = cr0 | CR0_EM;
    check(kes_one(k, paddb, 3) == EXC_UD, "paddb with CR0.EM raises #UD");
    check(kes_one(k, emms, 2) == EXC_UD, "emms with CR0.EM raises #UD");
    cpu->cr0 = cr0 | CR0_EM | CR0_TS;
    check(kes_one(k, paddb, 3) == EXC_UD, "paddb with CR0.EM and TS raises #UD");
    cpu->cr0 = cr0 | CR0_TS;
    check(kes_one(k, paddb, 3) == EXC_NM, "paddb with CR0.TS raises #NM");
    check(kes_one(k, emms, 2) == EXC_NM, "emms with CR0.TS raises #NM");
    cpu->cr0 = cr0;

    /* A pending unmasked exception: IE flagged and unmasked. */
    fpu_reset(cpu);
    cpu->fpu.cw = 0x037E;
    cpu->fpu.sw = 0x0001 | 0x0080 | 0x8000;
    cpu->fpu.top = 5;
    check(kes_one(k, paddb, 3) == EXC_MF, "paddb with a pending exception raises #MF");
    check(cpu->fpu.top == 5, "#MF leaves TOP unchanged");
    check(kes_one(k, emms, 2) == EXC_MF, "emms with a pending exception raises #MF");
    check(kes_one(k, fnclex, 2) == -1, "fnclex");
    check(kes_one(k, paddb, 3) == -1, "paddb after fnclex runs");
    check(cpu->fpu.top == 0 && cpu->fpu.valid == 0xFF, "paddb: TOP 0, all valid");
    check(kes_one(k, emms, 2) == -1 && cpu->fpu.valid == 0 && cpu->fpu.top == 0,
          "emms: all empty");

    fpu_reset(cpu);
    uint8_t valid0 = cpu->fpu.valid, top0 = cpu->fpu.top;
    check(kes_one(k, paddb66, 4) == EXC_UD, "66 0F FC (SSE2 paddb) raises #UD");
    check(kes_one(k, paddbf3, 4) == EXC_UD, "F3 0F FC raises #UD");
    check(kes_one(k, psrlw_m, 4) == EXC_UD, "0F 71 /2 memory form raises #UD");
    check(kes_one(k, psrlq3, 4) == EXC_UD, "0F 73 /3 (SSE2 psrldq) raises #UD");
    check(kes_one(k, pshufw, 4) == EXC_UD, "0F 70 (pshufw, SSE) stays #UD");
    check(cpu->fpu.valid == valid0 && cpu->fpu.top == top0, "#UD forms leave the x87 state alone");

    /* MOVQ [esi], mm0 straddling DS's limit: #GP and memory unchanged. */
    static const uint8_t movq_st[] = {0x0F, 0x7F, 0x06};
    uint8_t before[8] = {1, 2, 3, 4, 5, 6, 7, 8}, after[8];
    SegCache ds = cpu->seg[SEG_DS];
    bus_write_phys(&k->bus, 0x2FFFC, before, 8);
    cpu_set_seg_cache(cpu, SEG_DS, ds.sel, 0, 0x2FFFF, ds.attr & (uint16_t)~SEG_ATTR_G);
    cpu->fpu.st[0].m = 0x1122334455667788ull;
    bus_write_phys(&k->bus, CODE_BASE, movq_st, 3);
    cpu->regs[6] = 0x2FFFC;
    cpu->eip = CODE_BASE;
    CpuExit e = cpu_step(cpu);
    bus_read_phys(&k->bus, 0x2FFFC, after, 8);
    check(e == CPU_EXIT_EXCEPTION && cpu->exc_vector == EXC_GP, "movq store past the limit: #GP");
    check(!memcmp(before, after, 8), "movq store fault leaves memory unchanged");
    cpu_set_seg_cache(cpu, SEG_DS, ds.sel, ds.base, ds.limit, ds.attr);
}

/* ---- Driver --------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    long n = 10000;
    const char *env = getenv("MMX_CASES");
    if (env)
        n = strtol(env, NULL, 0);
    bool verbose = false;
    const char *filters[16];
    int nfilt = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "-n") && a + 1 < argc)
            n = strtol(argv[++a], NULL, 0);
        else if (!strcmp(argv[a], "-v"))
            verbose = true;
        else if (nfilt < 16)
            filters[nfilt++] = argv[a];
    }
    uint64_t seed = 0x4D4D58;
    if (getenv("FPU_SEED"))
        seed = strtoull(getenv("FPU_SEED"), NULL, 0);

    build_forms();
    Kes k;
    kes_init(&k);
    int passed = 0, failed = 0;
    long total_cases = 0;
    for (int fi = 0; fi < nforms; fi++) {
        Form *f = &forms[fi];
        bool pick = nfilt == 0;
        for (int q = 0; q < nfilt; q++)
            pick |= strstr(f->name, filters[q]) != NULL;
        if (!pick)
            continue;
        Rng r = {seed ^ (uint64_t)fi * 0x100000001B3ull};
        HostStub *hs[256] = {0};
        long bad = 0;
        char why[160] = "";
        for (long idx = 0; idx < n; idx++) {
            Case c;
            gen_case(&r, f, idx, &c);
            uint8_t insn[4];
            memcpy(insn, f->bytes, 4);
            int imm = 0;
            if (f->kind == K_SHIFT_IMM) {
                imm = (int)(idx < 256 ? idx : below(&r, 8) ? below(&r, 70) : below(&r, 256));
                insn[3] = (uint8_t)imm;
                if (!hs[imm])
                    hs[imm] = host_stub_new(insn, f->len);
            } else if (!hs[0]) {
                hs[0] = host_stub_new(insn, f->len);
            }
            Out ho, ko;
            host_exec(hs[imm], &c, &ho);
            kes_load_code(&k, insn, f->len);
            kes_run(&k, &c, &ko);
            total_cases++;
            if (!same(&ho, &ko, why, sizeof why)) {
                if (bad++ < 3 || verbose) {
                    uint64_t a, b;
                    memcpy(&a, c.img + 28 + 10 * ((RDST - (int)((get16(c.img + 4) >> 11) & 7)) & 7), 8);
                    memcpy(&b, c.img + 28 + 10 * ((RSRC - (int)((get16(c.img + 4) >> 11) & 7)) & 7), 8);
                    printf("FAIL %s case %ld: %s (mm2 %016" PRIx64 " mm5 %016" PRIx64
                           " mem %016" PRIx64 " imm %d)\n",
                           f->name, idx, why, a, b, *(uint64_t *)c.mem, imm);
                }
            }
        }
        for (int q = 0; q < 256; q++)
            host_stub_free(hs[q]);
        if (bad) {
            failed++;
            printf("%-24s %ld/%ld cases differ\n", f->name, bad, n);
        } else {
            passed++;
            if (verbose)
                printf("%-24s ok\n", f->name);
        }
    }
    exception_checks(&k);
    printf("%ld cases over %d forms; %d exception checks\n", total_cases, passed + failed,
           checks_passed + checks_failed);
    passed += checks_passed;
    failed += checks_failed;
    kes_free(&k);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
