/* The MMX oracle: the host's MMX/SSE2 unit is the reference for Kestrel's
 * MMX (cpu/mmx.c) and SSE/SSE2 integer (cpu/sse_int.c) instructions.
 *
 * For every form below (one MMX instruction, or one SSE/SSE2 integer
 * instruction on MMX registers; register forms use MM2 as the destination
 * and MM5 as the source, memory forms [esi], MASKMOVQ [edi] = [esi]) the
 * driver makes N cases: an x87 state (random control word with all
 * exceptions masked, random condition codes and masked flags, random TOP
 * and tags, random register contents including the exponent fields), the
 * destination and source operands, the 16 bytes at [esi] and EAX.  The
 * first cases are all pairs of edge patterns (0, -1, 80.., 7F..,
 * saturation boundaries of each lane width, 1); then each lane of each
 * operand is picked from the lane's edge values or at random, and shift
 * counts are small (0-70) most of the time.  Forms with an imm8 take every
 * value 0-255 once, then random ones.
 *
 * Each case runs on the host as FRSTOR image / instruction / FNSAVE image
 * (host_run.c) and in Kestrel as the same three instructions stepped in
 * flat 32-bit protected mode.  Compared bit for bit: the FNSAVE image's
 * control, status and tag words (so TOP = 0 and the tag word after the
 * MMX instruction, or all empty after EMMS) and all eight registers (the
 * 64-bit result, and the exponent field set to all ones in the register
 * written), EAX (MOVD r32, PEXTRW, PMOVMSKB), and the 16 bytes at [esi]
 * (stores).
 *
 * The XMM forms (66/F3/F2-prefixed) run the same way between FXRSTOR and
 * FXSAVE images (see "XMM forms" below); their names start with "xmm".
 *
 * Then Kestrel-only checks of the exception rules: #UD with CR0.EM, #NM
 * with CR0.TS, #MF for a pending unmasked x87 exception (MMX and the SSE
 * additions on MMX registers, which ignore CR4.OSFXSR); #UD without
 * CR4.OSFXSR, no #MF and the x87 state untouched for the XMM forms (but
 * #MF and the MMX transition for MOVQ2DQ); #GP for a misaligned m128; #UD
 * for prefixes an opcode does not define and for memory forms of 0F 71-73;
 * a MOVQ store that faults at a segment limit leaving memory unchanged;
 * and MASKMOVQ/MASKMOVDQU addressing and fault rules.
 *
 * Usage: mmx_oracle [-n CASES] [-v] [FILTER...]
 *   MMX_CASES  cases per form (default 10000, or KESTREL_FPU_CASES when
 *              that is smaller)
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
#include "tests/common/rng.h"
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

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* ---- Forms -------------------------------------------------------------------- */

enum {
    K_BIN,
    K_SHIFT,
    K_SHIFT_IMM,
    K_MOVD_LOAD,
    K_MOVD_STORE,
    K_MOVQ_STORE,
    K_EMMS,
    /* The SSE/SSE2 integer instructions on MMX registers. */
    K_PSHUFW,   /* mm2, mm5/m64, imm8 */
    K_PINSRW,   /* mm2, eax/m16, imm8 */
    K_PEXTRW,   /* eax, mm5, imm8 */
    K_PMOVMSKB, /* eax, mm5 */
    K_MOVNTQ,   /* [esi], mm5 */
    K_MASKMOVQ, /* [edi] <- mm2 under the byte mask mm5 */
};

typedef struct Form {
    char name[40];
    uint8_t bytes[4];
    uint8_t len;
    uint8_t kind;
    bool mem;
    bool imm; /* an imm8 follows the ModRM byte */
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
    /* SSE and SSE2 on MMX registers. */
    {"pminub", 0xDA, K_BIN},    {"pmaxub", 0xDE, K_BIN},    {"pavgb", 0xE0, K_BIN},
    {"pavgw", 0xE3, K_BIN},     {"pmulhuw", 0xE4, K_BIN},   {"pminsw", 0xEA, K_BIN},
    {"pmaxsw", 0xEE, K_BIN},    {"psadbw", 0xF6, K_BIN},    {"paddq", 0xD4, K_BIN},
    {"psubq", 0xFB, K_BIN},     {"pmuludq", 0xF4, K_BIN},   {"pshufw", 0x70, K_PSHUFW},
    {"pinsrw", 0xC4, K_PINSRW}, {"pextrw", 0xC5, K_PEXTRW}, {"pmovmskb", 0xD7, K_PMOVMSKB},
    {"movntq", 0xE7, K_MOVNTQ}, {"maskmovq", 0xF7, K_MASKMOVQ},
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
    f->imm = imm;
}

static void build_forms(void)
{
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        int kind = ops[k].kind;
        bool imm = kind == K_PSHUFW || kind == K_PINSRW || kind == K_PEXTRW;
        /* ModRM.reg and the register-form rm, and which forms exist. */
        int reg = RDST, rm = RSRC;
        bool has_reg = true, has_mem = true;
        switch (kind) {
        case K_MOVD_LOAD:
        case K_MOVD_STORE:
        case K_PINSRW: rm = 0; break; /* EAX */
        case K_MOVQ_STORE: reg = RSRC, rm = RDST; break; /* movq mm2, mm5 */
        case K_MOVNTQ: reg = RSRC, has_reg = false; break;
        case K_PEXTRW:
        case K_PMOVMSKB: reg = 0, has_mem = false; break; /* eax, mm5 */
        case K_MASKMOVQ: has_mem = false; break;
        }
        if (has_reg)
            add_form(ops[k].name, "reg", ops[k].op, (uint8_t)(0xC0 | reg << 3 | rm), kind, false,
                     imm);
        if (has_mem)
            add_form(ops[k].name, "mem", ops[k].op, (uint8_t)(reg << 3 | 6), kind, true, imm);
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
    if (rng_below(r, 8) == 0)
        return rng_next64(r);
    if (rng_below(r, 8) == 0)
        return edges[rng_below(r, NEDGE)];
    static const int widths[] = {8, 16, 32, 64};
    int bits = widths[rng_below(r, 4)];
    uint64_t m = bits == 64 ? ~0ull : (1ull << bits) - 1, v = 0;
    for (int k = 0; k < 64 / bits; k++) {
        uint64_t smax = m >> 1, lane;
        switch (rng_below(r, 10)) {
        case 0: lane = 0; break;
        case 1: lane = m; break;                 /* -1, unsigned max */
        case 2: lane = smax; break;              /* signed max */
        case 3: lane = smax + 1; break;          /* signed min */
        case 4: lane = smax - rng_below(r, 3); break;
        case 5: lane = smax + 1 + rng_below(r, 3); break;
        case 6: lane = rng_below(r, 3); break;
        case 7: lane = m - rng_below(r, 3); break;
        default: lane = rng_next64(r) & m; break;
        }
        v |= lane << (bits * k);
    }
    return v;
}

/* A shift count: mostly 0-70, sometimes large. */
static uint64_t gen_count(Rng *r)
{
    switch (rng_below(r, 8)) {
    case 0: return rng_next64(r);
    case 1:
        return (uint64_t)rng_below(r, 256) |
               (rng_below(r, 2) ? 1ull << (32 + rng_below(r, 32)) : 0);
    default: return rng_below(r, 71);
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
    put16(c->img + 0, (uint16_t)(0x003F | 0x0040 | (rng_next64(r) & 0x0F00)));
    /* Status word: condition codes, masked flags, TOP; no ES/B. */
    put16(c->img + 4, (uint16_t)(rng_next64(r) & 0x7F3F & ~0x0080));
    put16(c->img + 8, (uint16_t)rng_next64(r)); /* tags: only empty/non-empty matters */
    for (int k = 0; k < 8; k++) {
        uint64_t m = gen_value(r);
        uint16_t se = (uint16_t)rng_next64(r);
        memcpy(c->img + 28 + 10 * k, &m, 8);
        memcpy(c->img + 36 + 10 * k, &se, 2);
    }
    for (int k = 0; k < MEMCMP; k += 8) {
        uint64_t v = rng_next64(r);
        memcpy(c->mem + k, &v, 8);
    }
    c->rax = rng_next64(r);

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
    if (f->kind == K_MOVD_LOAD || (f->kind == K_PINSRW && !f->mem))
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
    cpu->regs[7] = MEM_BASE; /* MASKMOVQ's [edi], as in host_run.c */
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

/* ---- XMM forms (SSE2 integer) ----------------------------------------------------- */

/* The 66/F2/F3-prefixed XMM forms of cpu/sse_int.c, run on the host as
 * FXRSTOR image / instruction / FXSAVE image (host_fxstub) and in Kestrel
 * (with CR4.OSFXSR = 1) as the same three instructions.  Register forms use
 * XMM2 as the destination and XMM5 as the source (MM2/MM5 for MOVQ2DQ and
 * MOVDQ2Q, EAX for the r32 operands), memory forms [esi] (16-byte
 * aligned), MASKMOVDQU [edi] = [esi].  Compared: the FXSAVE image's
 * control, status and abridged tag bytes, MXCSR, the x87/MMX register
 * area and all eight XMM registers, EAX and the 32 bytes at [esi]. */

#define XMEM 32
#define XIMG_OUT 512 /* FXSAVE image at EBX + 512 */

enum {
    X_BIN,      /* xmm2, xmm5/m128 */
    X_SHIFT,    /* xmm2, xmm5/m128 (count = low quadword) */
    X_SHIFT_IMM, /* xmm2, imm8 */
    X_SHUF,     /* xmm2, xmm5/m128, imm8 */
    X_PINSRW,   /* xmm2, eax/m16, imm8 */
    X_PEXTRW,   /* eax, xmm5, imm8 */
    X_PMOVMSKB, /* eax, xmm5 */
    X_MASKMOV,  /* [edi] <- xmm2 under the byte mask xmm5 */
    X_MOVD_LD,  /* xmm2, eax/m32 */
    X_MOVD_ST,  /* eax/m32, xmm5 */
    X_MOVQ_LD,  /* xmm2, xmm5/m64 */
    X_MOVQ_ST,  /* xmm2/m64, xmm5 */
    X_MOVQ2DQ,  /* xmm2, mm5 */
    X_MOVDQ2Q,  /* mm2, xmm5 */
};

static const struct {
    const char *name;
    uint8_t pfx, op;
    int8_t greg; /* ModRM.reg of a group form, else -1 */
    uint8_t kind;
} xops[] = {
    {"punpcklbw", 0x66, 0x60, -1, X_BIN},  {"punpcklwd", 0x66, 0x61, -1, X_BIN},
    {"punpckldq", 0x66, 0x62, -1, X_BIN},  {"packsswb", 0x66, 0x63, -1, X_BIN},
    {"pcmpgtb", 0x66, 0x64, -1, X_BIN},    {"pcmpgtw", 0x66, 0x65, -1, X_BIN},
    {"pcmpgtd", 0x66, 0x66, -1, X_BIN},    {"packuswb", 0x66, 0x67, -1, X_BIN},
    {"punpckhbw", 0x66, 0x68, -1, X_BIN},  {"punpckhwd", 0x66, 0x69, -1, X_BIN},
    {"punpckhdq", 0x66, 0x6A, -1, X_BIN},  {"packssdw", 0x66, 0x6B, -1, X_BIN},
    {"punpcklqdq", 0x66, 0x6C, -1, X_BIN}, {"punpckhqdq", 0x66, 0x6D, -1, X_BIN},
    {"movd xmm,r/m32", 0x66, 0x6E, -1, X_MOVD_LD},
    {"pshufd", 0x66, 0x70, -1, X_SHUF},    {"pshufhw", 0xF3, 0x70, -1, X_SHUF},
    {"pshuflw", 0xF2, 0x70, -1, X_SHUF},
    {"psrlw imm", 0x66, 0x71, 2, X_SHIFT_IMM}, {"psraw imm", 0x66, 0x71, 4, X_SHIFT_IMM},
    {"psllw imm", 0x66, 0x71, 6, X_SHIFT_IMM}, {"psrld imm", 0x66, 0x72, 2, X_SHIFT_IMM},
    {"psrad imm", 0x66, 0x72, 4, X_SHIFT_IMM}, {"pslld imm", 0x66, 0x72, 6, X_SHIFT_IMM},
    {"psrlq imm", 0x66, 0x73, 2, X_SHIFT_IMM}, {"psrldq imm", 0x66, 0x73, 3, X_SHIFT_IMM},
    {"psllq imm", 0x66, 0x73, 6, X_SHIFT_IMM}, {"pslldq imm", 0x66, 0x73, 7, X_SHIFT_IMM},
    {"pcmpeqb", 0x66, 0x74, -1, X_BIN},    {"pcmpeqw", 0x66, 0x75, -1, X_BIN},
    {"pcmpeqd", 0x66, 0x76, -1, X_BIN},
    {"movd r/m32,xmm", 0x66, 0x7E, -1, X_MOVD_ST},
    {"movq xmm,xmm/m64", 0xF3, 0x7E, -1, X_MOVQ_LD},
    {"pinsrw", 0x66, 0xC4, -1, X_PINSRW},  {"pextrw", 0x66, 0xC5, -1, X_PEXTRW},
    {"psrlw", 0x66, 0xD1, -1, X_SHIFT},    {"psrld", 0x66, 0xD2, -1, X_SHIFT},
    {"psrlq", 0x66, 0xD3, -1, X_SHIFT},    {"paddq", 0x66, 0xD4, -1, X_BIN},
    {"pmullw", 0x66, 0xD5, -1, X_BIN},
    {"movq xmm/m64,xmm", 0x66, 0xD6, -1, X_MOVQ_ST},
    {"movq2dq", 0xF3, 0xD6, -1, X_MOVQ2DQ}, {"movdq2q", 0xF2, 0xD6, -1, X_MOVDQ2Q},
    {"pmovmskb", 0x66, 0xD7, -1, X_PMOVMSKB},
    {"psubusb", 0x66, 0xD8, -1, X_BIN},    {"psubusw", 0x66, 0xD9, -1, X_BIN},
    {"pminub", 0x66, 0xDA, -1, X_BIN},     {"pand", 0x66, 0xDB, -1, X_BIN},
    {"paddusb", 0x66, 0xDC, -1, X_BIN},    {"paddusw", 0x66, 0xDD, -1, X_BIN},
    {"pmaxub", 0x66, 0xDE, -1, X_BIN},     {"pandn", 0x66, 0xDF, -1, X_BIN},
    {"pavgb", 0x66, 0xE0, -1, X_BIN},      {"psraw", 0x66, 0xE1, -1, X_SHIFT},
    {"psrad", 0x66, 0xE2, -1, X_SHIFT},    {"pavgw", 0x66, 0xE3, -1, X_BIN},
    {"pmulhuw", 0x66, 0xE4, -1, X_BIN},    {"pmulhw", 0x66, 0xE5, -1, X_BIN},
    {"psubsb", 0x66, 0xE8, -1, X_BIN},     {"psubsw", 0x66, 0xE9, -1, X_BIN},
    {"pminsw", 0x66, 0xEA, -1, X_BIN},     {"por", 0x66, 0xEB, -1, X_BIN},
    {"paddsb", 0x66, 0xEC, -1, X_BIN},     {"paddsw", 0x66, 0xED, -1, X_BIN},
    {"pmaxsw", 0x66, 0xEE, -1, X_BIN},     {"pxor", 0x66, 0xEF, -1, X_BIN},
    {"psllw", 0x66, 0xF1, -1, X_SHIFT},    {"pslld", 0x66, 0xF2, -1, X_SHIFT},
    {"psllq", 0x66, 0xF3, -1, X_SHIFT},    {"pmuludq", 0x66, 0xF4, -1, X_BIN},
    {"pmaddwd", 0x66, 0xF5, -1, X_BIN},    {"psadbw", 0x66, 0xF6, -1, X_BIN},
    {"maskmovdqu", 0x66, 0xF7, -1, X_MASKMOV},
    {"psubb", 0x66, 0xF8, -1, X_BIN},      {"psubw", 0x66, 0xF9, -1, X_BIN},
    {"psubd", 0x66, 0xFA, -1, X_BIN},      {"psubq", 0x66, 0xFB, -1, X_BIN},
    {"paddb", 0x66, 0xFC, -1, X_BIN},      {"paddw", 0x66, 0xFD, -1, X_BIN},
    {"paddd", 0x66, 0xFE, -1, X_BIN},
};

typedef struct XForm {
    char name[40];
    uint8_t bytes[5]; /* prefix 0F op ModRM [imm8] */
    uint8_t len;
    uint8_t kind;
    bool mem, imm;
} XForm;

static XForm xforms[2 * sizeof xops / sizeof xops[0]];
static int nxforms;

static void build_xforms(void)
{
    for (size_t k = 0; k < sizeof xops / sizeof xops[0]; k++) {
        int kind = xops[k].kind;
        int reg = 2, rm = 5;
        bool has_reg = true, has_mem = true;
        bool imm = kind == X_SHIFT_IMM || kind == X_SHUF || kind == X_PINSRW || kind == X_PEXTRW;
        switch (kind) {
        case X_SHIFT_IMM: reg = xops[k].greg, rm = 2, has_mem = false; break;
        case X_PINSRW:
        case X_MOVD_LD: rm = 0; break;
        case X_MOVD_ST: reg = 5, rm = 0; break;
        case X_MOVQ_ST: reg = 5, rm = 2; break;
        case X_PEXTRW:
        case X_PMOVMSKB: reg = 0, has_mem = false; break;
        case X_MASKMOV:
        case X_MOVQ2DQ:
        case X_MOVDQ2Q: has_mem = false; break;
        }
        for (int m = 0; m < 2; m++) {
            if (m ? !has_mem : !has_reg)
                continue;
            XForm *f = &xforms[nxforms++];
            snprintf(f->name, sizeof f->name, "xmm %s %s", xops[k].name, m ? "mem" : "reg");
            f->bytes[0] = xops[k].pfx;
            f->bytes[1] = 0x0F;
            f->bytes[2] = xops[k].op;
            f->bytes[3] = (uint8_t)(m ? reg << 3 | 6 : 0xC0 | reg << 3 | rm);
            f->len = imm ? 5 : 4;
            f->kind = (uint8_t)kind;
            f->mem = m;
            f->imm = imm;
        }
    }
}

typedef struct XCase {
    uint8_t img[512];
    uint8_t mem[XMEM];
    uint64_t rax;
} XCase;

typedef struct XOut {
    uint8_t img[512];
    uint8_t mem[XMEM];
    uint64_t rax;
    int exc;
} XOut;

static void xset_xmm(XCase *c, int r, uint64_t lo, uint64_t hi)
{
    memcpy(c->img + 160 + 16 * r, &lo, 8);
    memcpy(c->img + 168 + 16 * r, &hi, 8);
}

/* MMi is physical register Ri, at ST((i - TOP) & 7) in the image. */
static void xset_mmx(XCase *c, int phys, uint64_t v)
{
    unsigned top = (get16(c->img + 2) >> 11) & 7;
    memcpy(c->img + 32 + 16 * ((phys - (int)top) & 7), &v, 8);
}

static void xgen_case(Rng *r, const XForm *f, long idx, XCase *c)
{
    memset(c, 0, sizeof *c);
    put16(c->img + 0, (uint16_t)(0x003F | 0x0040 | (rng_next64(r) & 0x0F00)));
    put16(c->img + 2, (uint16_t)(rng_next64(r) & 0x7F3F & ~0x0080));
    c->img[4] = (uint8_t)rng_next64(r); /* abridged tag byte */
    uint32_t mxcsr = 0x1F80 | (uint32_t)(rng_next64(r) & 0x603F);
    memcpy(c->img + 24, &mxcsr, 4);
    for (int k = 0; k < 8; k++) {
        uint64_t m = gen_value(r);
        uint16_t se = (uint16_t)rng_next64(r);
        memcpy(c->img + 32 + 16 * k, &m, 8);
        memcpy(c->img + 40 + 16 * k, &se, 2);
        xset_xmm(c, k, gen_value(r), gen_value(r));
    }
    for (int k = 0; k < XMEM; k += 8) {
        uint64_t v = rng_next64(r);
        memcpy(c->mem + k, &v, 8);
    }
    c->rax = rng_next64(r);

    uint64_t a0, a1, b0, b1;
    if (idx < (long)(NEDGE * NEDGE)) {
        a0 = edges[idx / NEDGE];
        a1 = edges[(idx / NEDGE + 5) % NEDGE];
        b0 = edges[idx % NEDGE];
        b1 = edges[(idx % NEDGE + 3) % NEDGE];
    } else {
        a0 = gen_value(r);
        a1 = gen_value(r);
        b0 = gen_value(r);
        b1 = gen_value(r);
        if (f->kind == X_SHIFT)
            b0 = gen_count(r);
    }
    xset_xmm(c, 2, a0, a1);
    if (f->mem) {
        memcpy(c->mem, &b0, 8);
        memcpy(c->mem + 8, &b1, 8);
    } else {
        xset_xmm(c, 5, b0, b1);
    }
    if (f->kind == X_MOVQ2DQ)
        xset_mmx(c, 5, b0);
    if ((f->kind == X_MOVD_LD || f->kind == X_PINSRW) && !f->mem)
        c->rax = (c->rax & ~0xFFFFFFFFull) | (uint32_t)b0;
}

/* FXRSTOR [ebx]; the instruction; FXSAVE [ebx+512]. */
static void xkes_run(Kes *k, const XForm *f, const uint8_t *insn, const XCase *c, XOut *o)
{
    CpuState *cpu = k->cpu;
    uint8_t code[24] = {0x0F, 0xAE, 0x0B};
    memcpy(code + 3, insn, f->len);
    const uint8_t tail[] = {0x0F, 0xAE, 0x83, XIMG_OUT & 0xFF, XIMG_OUT >> 8, 0, 0};
    memcpy(code + 3 + f->len, tail, sizeof tail);
    bus_write_phys(&k->bus, CODE_BASE, code, sizeof code);
    bus_write_phys(&k->bus, IMG_BASE, c->img, 512);
    bus_write_phys(&k->bus, MEM_BASE, c->mem, XMEM);
    memset(cpu->regs, 0, sizeof cpu->regs);
    cpu->regs[0] = (uint32_t)c->rax;
    cpu->regs[3] = IMG_BASE;
    cpu->regs[6] = MEM_BASE;
    cpu->regs[7] = MEM_BASE;
    cpu->regs[4] = 0x8000;
    cpu->eip = CODE_BASE;
    cpu->cr4 |= CR4_OSFXSR;
    o->exc = -1;
    for (int s = 0; s < 3; s++) {
        CpuExit e = cpu_step(cpu);
        if (e != CPU_EXIT_BUDGET) {
            o->exc = e == CPU_EXIT_EXCEPTION ? cpu->exc_vector : 100 + (int)e;
            break;
        }
    }
    cpu->cr4 &= ~CR4_OSFXSR;
    bus_read_phys(&k->bus, IMG_BASE + XIMG_OUT, o->img, 512);
    bus_read_phys(&k->bus, MEM_BASE, o->mem, XMEM);
    o->rax = cpu->regs[0];
}

static void xhost_exec(HostStub *s, const XCase *c, XOut *o)
{
    static uint8_t in[512] __attribute__((aligned(16))), out[512] __attribute__((aligned(16)));
    static uint8_t mem[XMEM] __attribute__((aligned(16)));
    memcpy(in, c->img, 512);
    memset(out, 0, sizeof out);
    memcpy(mem, c->mem, XMEM);
    HostFxCtx h = {in, out, c->rax, 0x2, mem, 0};
    host_fxstub_run(s, &h);
    memcpy(o->img, out, 512);
    memcpy(o->mem, mem, XMEM);
    o->rax = h.rax;
    o->exc = -1;
}

static bool xsame(const XOut *h, const XOut *k, char *why, size_t n)
{
    if (h->exc != k->exc) {
        snprintf(why, n, "exception: host %d, kestrel %d", h->exc, k->exc);
        return false;
    }
    if (memcmp(h->img, k->img, 5) || memcmp(h->img + 24, k->img + 24, 4)) {
        snprintf(why, n, "fcw/fsw/ftw/mxcsr: host %04x %04x %02x %08x, kestrel %04x %04x %02x %08x",
                 get16(h->img), get16(h->img + 2), h->img[4], get16(h->img + 24) |
                 (uint32_t)get16(h->img + 26) << 16, get16(k->img), get16(k->img + 2), k->img[4],
                 get16(k->img + 24) | (uint32_t)get16(k->img + 26) << 16);
        return false;
    }
    for (int i = 0; i < 8; i++) {
        const uint8_t *a = h->img + 32 + 16 * i, *b = k->img + 32 + 16 * i;
        if (memcmp(a, b, 10)) {
            uint64_t ma, mb;
            memcpy(&ma, a, 8);
            memcpy(&mb, b, 8);
            snprintf(why, n, "st%d: host %04x:%016" PRIx64 ", kestrel %04x:%016" PRIx64, i,
                     get16(a + 8), ma, get16(b + 8), mb);
            return false;
        }
    }
    for (int i = 0; i < 8; i++) {
        const uint8_t *a = h->img + 160 + 16 * i, *b = k->img + 160 + 16 * i;
        if (memcmp(a, b, 16)) {
            uint64_t a0, a1, b0, b1;
            memcpy(&a0, a, 8);
            memcpy(&a1, a + 8, 8);
            memcpy(&b0, b, 8);
            memcpy(&b1, b + 8, 8);
            snprintf(why, n, "xmm%d: host %016" PRIx64 "%016" PRIx64 ", kestrel %016" PRIx64
                     "%016" PRIx64, i, a1, a0, b1, b0);
            return false;
        }
    }
    if ((uint32_t)h->rax != (uint32_t)k->rax) {
        snprintf(why, n, "eax: host %08x, kestrel %08x", (uint32_t)h->rax, (uint32_t)k->rax);
        return false;
    }
    if (memcmp(h->mem, k->mem, XMEM)) {
        uint64_t a0, a1, b0, b1;
        memcpy(&a0, h->mem, 8);
        memcpy(&a1, h->mem + 8, 8);
        memcpy(&b0, k->mem, 8);
        memcpy(&b1, k->mem + 8, 8);
        snprintf(why, n, "mem: host %016" PRIx64 "%016" PRIx64 ", kestrel %016" PRIx64
                 "%016" PRIx64, a1, a0, b1, b0);
        return false;
    }
    return true;
}

/* Runs every selected XMM form; returns the number of forms that failed. */
static int run_xforms(Kes *k, long n, uint64_t seed, const char *const *filters, int nfilt,
                      bool verbose, int *forms_run, long *cases)
{
    int failed = 0;
    for (int fi = 0; fi < nxforms; fi++) {
        XForm *f = &xforms[fi];
        bool pick = nfilt == 0;
        for (int q = 0; q < nfilt; q++)
            pick |= strstr(f->name, filters[q]) != NULL;
        if (!pick)
            continue;
        (*forms_run)++;
        Rng r = {seed ^ (uint64_t)(fi + 1000) * 0x100000001B3ull};
        HostStub *hs[256] = {0};
        long bad = 0;
        char why[200] = "";
        for (long idx = 0; idx < n; idx++) {
            XCase c;
            xgen_case(&r, f, idx, &c);
            uint8_t insn[5];
            memcpy(insn, f->bytes, 5);
            int imm = 0;
            if (f->imm) {
                if (idx < 256)
                    imm = (int)idx;
                else if (f->kind == X_SHIFT_IMM && rng_below(&r, 8))
                    imm = (int)rng_below(&r, 70);
                else
                    imm = (int)rng_below(&r, 256);
                insn[4] = (uint8_t)imm;
            }
            if (!hs[imm])
                hs[imm] = host_fxstub_new(insn, f->len);
            XOut ho, ko;
            xhost_exec(hs[imm], &c, &ho);
            xkes_run(k, f, insn, &c, &ko);
            (*cases)++;
            if (!xsame(&ho, &ko, why, sizeof why) && (bad++ < 3 || verbose)) {
                uint64_t d[2], s[2], m[2];
                memcpy(d, c.img + 160 + 32, 16);
                memcpy(s, c.img + 160 + 80, 16);
                memcpy(m, c.mem, 16);
                printf("FAIL %s case %ld: %s (xmm2 %016" PRIx64 "%016" PRIx64 " xmm5 %016" PRIx64
                       "%016" PRIx64 " mem %016" PRIx64 "%016" PRIx64 " imm %d)\n",
                       f->name, idx, why, d[1], d[0], s[1], s[0], m[1], m[0], imm);
            }
        }
        for (int q = 0; q < 256; q++)
            host_stub_free(hs[q]);
        if (bad) {
            failed++;
            printf("%-24s %ld/%ld cases differ\n", f->name, bad, n);
        } else if (verbose) {
            printf("%-24s ok\n", f->name);
        }
    }
    return failed;
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

/* Run `insn` once with EDI = edi; returns the exception vector or -1. */
static int kes_edi(Kes *k, const uint8_t *insn, int len, uint32_t edi)
{
    CpuState *cpu = k->cpu;
    bus_write_phys(&k->bus, CODE_BASE, insn, (size_t)len);
    cpu->regs[7] = edi;
    cpu->regs[4] = 0x8000;
    cpu->eip = CODE_BASE;
    CpuExit e = cpu_step(cpu);
    if (e == CPU_EXIT_BUDGET)
        return -1;
    return e == CPU_EXIT_EXCEPTION ? cpu->exc_vector : 100 + (int)e;
}

/* MASKMOVQ / MASKMOVDQU addressing and faults (cpu/sse_int.c,
 * masked_store): DS:EDI or DS:DI, segment override, segment checks on the
 * whole operand whatever the mask, page checks only with some mask bit
 * set, and a fault leaves memory unchanged. */
static void masked_store_checks(Kes *k)
{
    CpuState *cpu = k->cpu;
    static const uint8_t maskmovq[] = {0x0F, 0xF7, 0xD5}, /* data mm2, mask mm5 */
        maskmovq16[] = {0x67, 0x0F, 0xF7, 0xD5}, maskmovq_es[] = {0x26, 0x0F, 0xF7, 0xD5},
                         maskmovdqu[] = {0x66, 0x0F, 0xF7, 0xD5};
    const uint8_t fill[16] = {0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5,
                              0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5};
    uint8_t got[16];
    fpu_reset(cpu);
    cpu->cr4 |= CR4_OSFXSR;
    cpu->fpu.st[2].m = 0x8877665544332211ull;
    cpu->fpu.st[5].m = 0x0000000000000080ull; /* byte 0 only */
    cpu->fpu.xmm[2].q[0] = 0x8877665544332211ull;
    cpu->fpu.xmm[2].q[1] = 0x00FFEEDDCCBBAA99ull;
    cpu->fpu.xmm[5].q[0] = 0;
    cpu->fpu.xmm[5].q[1] = 0x8000000000000000ull; /* byte 15 only */

    /* 16-bit address size: DI, not EDI. */
    bus_write_phys(&k->bus, 0x100, fill, 16);
    check(kes_edi(k, maskmovq16, 4, 0x12340100u) == -1, "maskmovq with a 16-bit address size runs");
    bus_read_phys(&k->bus, 0x100, got, 16);
    check(got[0] == 0x11 && !memcmp(got + 1, fill, 15), "maskmovq a16 stores byte 0 at DS:DI");

    /* A segment override replaces DS. */
    SegCache es = cpu->seg[SEG_ES];
    cpu_set_seg_cache(cpu, SEG_ES, es.sel, 0x40000, es.limit, es.attr);
    bus_write_phys(&k->bus, 0x40100, fill, 16);
    check(kes_edi(k, maskmovq_es, 4, 0x100) == -1, "es: maskmovq runs");
    bus_read_phys(&k->bus, 0x40100, got, 16);
    check(got[0] == 0x11 && !memcmp(got + 1, fill, 15), "es: maskmovq stores at ES:EDI");
    cpu_set_seg_cache(cpu, SEG_ES, es.sel, es.base, es.limit, es.attr);

    /* MASKMOVDQU: no alignment rule; byte 15 only. */
    bus_write_phys(&k->bus, MEM_BASE, fill, 16);
    bus_write_phys(&k->bus, MEM_BASE + 16, fill, 16);
    check(kes_edi(k, maskmovdqu, 4, MEM_BASE + 3) == -1, "maskmovdqu to a misaligned address runs");
    bus_read_phys(&k->bus, MEM_BASE + 3, got, 16);
    check(got[15] == 0x00 && !memcmp(got, fill, 15), "maskmovdqu stores byte 15 only");

    /* Segment limit: #GP for the whole operand even with a zero mask. */
    SegCache ds = cpu->seg[SEG_DS];
    cpu_set_seg_cache(cpu, SEG_DS, ds.sel, 0, 0x2FFFF, ds.attr & (uint16_t)~SEG_ATTR_G);
    bus_write_phys(&k->bus, 0x2FFF8, fill, 8);
    check(kes_edi(k, maskmovq, 3, 0x2FFFC) == EXC_GP, "maskmovq past the DS limit: #GP");
    cpu->fpu.st[5].m = 0;
    check(kes_edi(k, maskmovq, 3, 0x2FFFC) == EXC_GP, "maskmovq past the DS limit, zero mask: #GP");
    bus_read_phys(&k->bus, 0x2FFF8, got, 8);
    check(!memcmp(got, fill, 8), "maskmovq limit faults leave memory unchanged");
    cpu_set_seg_cache(cpu, SEG_DS, ds.sel, ds.base, ds.limit, ds.attr);

    /* Paging: identity-map the first MiB but page 0x30000; a store
     * straddling into it faults only when some byte is to be written, and
     * then before any is. */
    enum { PD = 0x80000, PT = 0x81000 };
    uint8_t ent[4];
    for (uint32_t p = 0; p < 1024; p++) {
        uint32_t v = p < 256 && p != 0x30 ? (p << 12) | 3 : 0;
        memcpy(ent, &v, 4);
        bus_write_phys(&k->bus, PT + 4 * p, ent, 4);
        v = p == 0 ? PT | 3 : 0;
        memcpy(ent, &v, 4);
        bus_write_phys(&k->bus, PD + 4 * p, ent, 4);
    }
    static const uint8_t mov_cr0[] = {0x0F, 0x22, 0xC0}; /* mov cr0, eax */
    uint32_t cr0 = cpu->cr0;
    cpu->cr3 = PD;
    cpu->regs[0] = cr0 | CR0_PG;
    check(kes_one(k, mov_cr0, 3) == -1 && (cpu->cr0 & CR0_PG), "paging on");
    bus_write_phys(&k->bus, 0x2FFF8, fill, 8);
    cpu->fpu.st[5].m = 0;
    check(kes_edi(k, maskmovq, 3, 0x2FFFC) == -1,
          "maskmovq into a not-present page with a zero mask: no #PF");
    cpu->fpu.st[5].m = 0x80;
    check(kes_edi(k, maskmovq, 3, 0x2FFFC) == EXC_PF,
          "maskmovq into a not-present page, byte 0 in the present one: #PF");
    bus_read_phys(&k->bus, 0x2FFF8, got, 8);
    check(!memcmp(got, fill, 8), "maskmovq #PF leaves memory unchanged");
    cpu->regs[0] = cr0;
    check(kes_one(k, mov_cr0, 3) == -1 && !(cpu->cr0 & CR0_PG), "paging off");
    cpu->cr4 &= ~CR4_OSFXSR;
}

static void exception_checks(Kes *k)
{
    CpuState *cpu = k->cpu;
    static const uint8_t paddb[] = {0x0F, 0xFC, 0xD5}, emms[] = {0x0F, 0x77},
                         paddb66[] = {0x66, 0x0F, 0xFC, 0xD5}, paddbf3[] = {0xF3, 0x0F, 0xFC, 0xD5},
                         punpckf3[] = {0xF3, 0x0F, 0x60, 0xD5},
                         punpckf2[] = {0xF2, 0x0F, 0x60, 0xD5}, emms66[] = {0x66, 0x0F, 0x77},
                         psrlw_m[] = {0x0F, 0x71, 0x16, 0x03}, psrlq3[] = {0x0F, 0x73, 0xDA, 0x03},
                         psrldq_m[] = {0x66, 0x0F, 0x73, 0x1E, 0x03},
                         pshufw[] = {0x0F, 0x70, 0xD5, 0x1B}, fnclex[] = {0xDB, 0xE2},
                         movq2dq[] = {0xF3, 0x0F, 0xD6, 0xD5},
                         paddb_xm[] = {0x66, 0x0F, 0xFC, 0x16}, movq_xm[] = {0xF3, 0x0F, 0x7E, 0x16};
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

    /* The SSE integer instructions on MMX registers follow the MMX rules
     * and ignore CR4.OSFXSR (SDM vol. 3, 13.1; vol. 2, PSHUFW). */
    fpu_reset(cpu);
    cpu->cr4 &= ~CR4_OSFXSR;
    check(kes_one(k, pshufw, 4) == -1, "pshufw runs with CR4.OSFXSR = 0");
    check(cpu->fpu.top == 0 && cpu->fpu.valid == 0xFF, "pshufw: TOP 0, all valid");
    cpu->cr0 = cr0 | CR0_EM;
    check(kes_one(k, pshufw, 4) == EXC_UD, "pshufw with CR0.EM raises #UD");
    cpu->cr0 = cr0 | CR0_TS;
    check(kes_one(k, pshufw, 4) == EXC_NM, "pshufw with CR0.TS raises #NM");
    cpu->cr0 = cr0;
    cpu->fpu.cw = 0x037E;
    cpu->fpu.sw = 0x0001 | 0x0080 | 0x8000;
    check(kes_one(k, pshufw, 4) == EXC_MF, "pshufw with a pending exception raises #MF");

    /* The XMM forms: #UD without CR4.OSFXSR, no #MF, the x87 state left
     * alone; MOVQ2DQ (an MMX operand) checks #MF and makes the transition. */
    fpu_reset(cpu);
    cpu->fpu.cw = 0x037E;
    cpu->fpu.sw = 0x0001 | 0x0080 | 0x8000;
    cpu->fpu.top = 5;
    uint8_t valid0 = cpu->fpu.valid;
    check(kes_one(k, paddb66, 4) == EXC_UD, "66 0F FC (paddb xmm) with CR4.OSFXSR = 0 raises #UD");
    check(kes_one(k, movq2dq, 4) == EXC_UD, "movq2dq with CR4.OSFXSR = 0 raises #UD");
    cpu->cr4 |= CR4_OSFXSR;
    check(kes_one(k, paddb66, 4) == -1, "paddb xmm ignores a pending x87 exception");
    check(cpu->fpu.top == 5 && cpu->fpu.valid == valid0, "paddb xmm leaves TOP and tags alone");
    check(kes_one(k, movq2dq, 4) == EXC_MF, "movq2dq with a pending exception raises #MF");
    cpu->cr0 = cr0 | CR0_TS;
    check(kes_one(k, paddb66, 4) == EXC_NM, "paddb xmm with CR0.TS raises #NM");
    cpu->cr0 = cr0;
    check(kes_one(k, fnclex, 2) == -1, "fnclex");
    check(kes_one(k, movq2dq, 4) == -1 && cpu->fpu.top == 0 && cpu->fpu.valid == 0xFF,
          "movq2dq: TOP 0, all valid");
    /* 128-bit memory operands must be 16-byte aligned, 64-bit ones need not. */
    cpu->regs[6] = MEM_BASE + 8;
    bus_write_phys(&k->bus, CODE_BASE, paddb_xm, 4);
    cpu->eip = CODE_BASE;
    check(cpu_step(cpu) == CPU_EXIT_EXCEPTION && cpu->exc_vector == EXC_GP,
          "paddb xmm, [esi] misaligned: #GP");
    bus_write_phys(&k->bus, CODE_BASE, movq_xm, 4);
    cpu->eip = CODE_BASE;
    check(cpu_step(cpu) == CPU_EXIT_BUDGET, "movq xmm, [esi] misaligned runs");

    /* Prefixes an SSE-space opcode does not define are #UD (SDM vol. 2,
     * 2.1.2; opcode map table A-3 lists no F2/F3 form of 0F 60 or FC and no
     * 66 form of 0F 77), as are undefined group members and memory forms. */
    fpu_reset(cpu);
    uint8_t top0 = cpu->fpu.top;
    valid0 = cpu->fpu.valid;
    check(kes_one(k, paddbf3, 4) == EXC_UD, "F3 0F FC raises #UD");
    check(kes_one(k, punpckf3, 4) == EXC_UD, "F3 0F 60 raises #UD");
    check(kes_one(k, punpckf2, 4) == EXC_UD, "F2 0F 60 raises #UD");
    check(kes_one(k, emms66, 3) == EXC_UD, "66 0F 77 raises #UD");
    check(kes_one(k, psrlw_m, 4) == EXC_UD, "0F 71 /2 memory form raises #UD");
    check(kes_one(k, psrlq3, 4) == EXC_UD, "0F 73 /3 (SSE2 psrldq, XMM only) raises #UD");
    check(kes_one(k, psrldq_m, 5) == EXC_UD, "66 0F 73 /3 memory form raises #UD");
    check(cpu->fpu.valid == valid0 && cpu->fpu.top == top0, "#UD forms leave the x87 state alone");
    cpu->cr4 &= ~CR4_OSFXSR;

    masked_store_checks(k);

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
    /* The sanitizer run scales every fpu oracle with KESTREL_FPU_CASES;
     * MMX_CASES, when set, wins. */
    const char *env = getenv("KESTREL_FPU_CASES");
    if (env && strtol(env, NULL, 0) < n)
        n = strtol(env, NULL, 0);
    env = getenv("MMX_CASES");
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
    uint64_t seed = rng_seed_env("FPU_SEED", 0x4D4D58);

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
            if (f->imm) {
                /* Every imm8 once, then mostly small shift counts. */
                if (idx < 256)
                    imm = (int)idx;
                else if (f->kind == K_SHIFT_IMM && rng_below(&r, 8))
                    imm = (int)rng_below(&r, 70);
                else
                    imm = (int)rng_below(&r, 256);
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
    build_xforms();
    int xrun = 0;
    int xfailed = run_xforms(&k, n, seed, filters, nfilt, verbose, &xrun, &total_cases);
    passed += xrun - xfailed;
    failed += xfailed;
    exception_checks(&k);
    printf("%ld cases over %d forms; %d exception checks\n", total_cases, passed + failed,
           checks_passed + checks_failed);
    passed += checks_passed;
    failed += checks_failed;
    kes_free(&k);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
