/* The SSE oracle: the host's SSE unit is the reference for Kestrel's SSE and
 * SSE2 (cpu/sse.c, cpu/sse_fp.c, cpu/sse_int.c, cpu/sse_float.c).
 *
 * Forms.  The form list is cpu/opcodes.def itself, read through an X-macro:
 * every entry of maps 3-5 (66/F3/F2 0F xx) and every map-2 entry with an
 * sse_ handler (the SE slots of SSE, LDMXCSR/STMXCSR, the fences, MOVNTI),
 * so an instruction added to the table is tested without touching this
 * file.  The map-2 entries with mmx_ handlers (PSHUFW, PAVGB, ... on MMX
 * registers) are mmx_oracle's.  Each entry gives a register form and a
 * memory form ([esi]: ModRM rm = 6, which is [rsi] on the host); the one
 * the operand notation forbids (M: memory only; U, N: register only) runs
 * as an "invalid" form with fewer cases, where the host decides (#UD).
 * Register forms use XMM2/MM2 as the destination, XMM5/MM5 as the source
 * and EAX for a general register; every other register holds random data
 * too, so a write to the wrong register shows.  Extra "prefix" forms put
 * two or more of 66/F2/F3 (and LOCK) before a few opcodes, and one of them
 * before the map-2 opcodes that have no such map 3-5 entry, to test which
 * prefix selects the instruction.
 *
 * Cases.  Per form N cases (default 10000): a random FXSAVE image (x87
 * control word with random precision and rounding, status word with random
 * flags and TOP, random abridged tags and registers; MXCSR over all
 * rounding modes, FZ and DAZ, random sticky flags, all exceptions masked in
 * 3 cases out of 4 and random masks in the others; XMM0-7), EAX, EFLAGS and
 * the 32 bytes around [esi].  The operands come from each lane type's
 * special values (signed zeros, smallest/largest denormals and normals, +-1,
 * infinities, quiet and signalling NaNs with random payloads, the default
 * NaN, values at and around +-2^31 and 2^32 for conversions, halfway
 * rounding cases, products that overflow/underflow), from exponent classes
 * (near 1, tiny, huge, near 2^31) and random bits, as 32-bit or 64-bit
 * float lanes or integer lanes with each width's edges; which one follows
 * the mnemonic (addps: single, cvtsd2si: double source, paddw: integer,
 * cvtdq2ps: int32), with a quarter of the operands drawn from another kind.
 * A source lane is sometimes tied to the destination's (equal, negated, one
 * ulp apart).  The first cases pair every special of the source's kind with
 * every other in lane 0.  imm8 forms get random immediates (CMPccPS mostly
 * 0-7 but also 8-255, shift counts mostly 0-70); one case in 8 puts the
 * memory operand at a misaligned address; one in 16 leaves an unmasked x87
 * exception pending (which the MMX-register forms must report as #MF).
 *
 * Running.  Host: FXRSTOR image / instruction / FXSAVE image (host_run.c).
 * Kestrel: the same three instructions stepped in flat 32-bit protected
 * mode with CR4.OSFXSR and CR4.OSXMMEXCPT set.  ESI and EDI (RSI and RDI
 * on the host) both point at the memory operand, EDI for MASKMOVDQU.  An
 * exception on the host (SIGFPE for #XM or #MF, SIGSEGV for #GP, SIGILL for
 * #UD) is caught with sigsetjmp/siglongjmp; the vector is the kernel's trap
 * number and the state the FXSAVE-format image in the signal frame.
 * Kestrel reports exceptions (trap_exceptions); it then runs the FXSAVE
 * alone.
 *
 * Compared bit for bit: the exception vector; MXCSR; XMM0-7; the x87
 * control, status and abridged tag words and the eight register fields
 * (so TOP = 0 and all tags valid after a transition to MMX state, the
 * exponent set to all ones in the MMX register written, and nothing
 * changed by an SSE-only instruction); not FOP/FIP/FDP/FCS/FDS, which
 * processors fill differently (SDM vol. 1, 8.1.8-8.1.10), nor MXCSR_MASK;
 * EAX; ZF PF CF OF SF AF; the 32 bytes around [esi].  RCPPS/RSQRTPS and
 * their scalar forms are compared bit for bit too (Kestrel models Intel's
 * results); a differing case says whether it is within the SDM's bound.
 *
 * Then a few Kestrel-only checks of what the host cannot show: #UD with
 * CR0.EM or CR4.OSFXSR = 0, #NM with CR0.TS, #UD instead of #XM with
 * CR4.OSXMMEXCPT = 0, #GP(0) for misaligned 128-bit operands, LDMXCSR's
 * reserved bits, and #UD for SSE3/SSSE3/SSE4 and XSAVE encodings that the
 * host has.
 *
 * Usage: sse_oracle [-n CASES] [-v] [-c CASE] [-S] [FILTER...]
 *   -n  cases per form (default 10000; SSE_CASES, else KESTREL_FPU_CASES)
 *   -v  list passing forms and up to 10 failing cases per form
 *   -c  run only case number CASE of each selected form and dump it
 *   -S  self-test of the harness (host vs host, imm8 bits 3-7 of the
 *       compare predicates, detection of a corrupted expectation)
 *   FILTER  run only the forms whose name contains one of these strings
 *   FPU_SEED  PRNG seed
 * Prints one line per failing form (with a reproducer: form, case, MXCSR,
 * inputs, expected vs got) and "N passed, M failed" (forms and checks);
 * exit status 0 iff nothing failed.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "tests/common/flat_guest.h"
#include "tests/common/rng.h"
#include "cpu/cpu.h"
#include "machine/bus.h"
#include "tests/fpu/host_run.h"

#define RAM_SIZE (1u << 20)
#define CODE_BASE 0x1000u  /* 256 slots of 32 bytes, one per imm8 */
#define SLOT 32u
#define CHECK_CODE 0x4000u /* the Kestrel-only checks */
#define STACK_TOP 0x8000u
#define IMG_BASE 0x10000u /* EBX: FXRSTOR image, FXSAVE image at +512 */
#define MEM_BASE 0x20000u /* ESI (and EDI) = MEM_BASE + the case's offset */
#define MEMLEN 32         /* bytes compared: a 16-byte operand at offset 0-15 */
#define RDST 2
#define RSRC 5
#define FLAGS_ARITH 0x8D5u /* CF PF AF ZF SF OF */

/* FXSAVE image offsets (SDM vol. 2, FXSAVE, table 3-53). */
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_ST 32
#define FX_XMM 160

static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* ---- The opcode table ---------------------------------------------------------- */

typedef struct Def {
    int map, op;
    const char *greg, *mn, *o1, *o2, *o3, *fl, *h;
} Def;

#define X(map, op, greg, mn, o1, o2, o3, fl, h) {map, op, #greg, #mn, #o1, #o2, #o3, #fl, #h},
static const Def defs[] = {
#include "cpu/opcodes.def"
};
#undef X

/* ---- Forms ---------------------------------------------------------------------- */

enum { LOC_NONE, LOC_XMM, LOC_MM, LOC_GPR, LOC_MEM };
/* Value kinds: single, double, integer lanes of any width, int32 lanes,
 * an MXCSR image (LDMXCSR), any of the first three. */
enum { T_F32, T_F64, T_INT, T_I32, T_MXCSR, T_MIX };
enum { IMM_NONE, IMM_CMP, IMM_SHIFT, IMM_BSHIFT, IMM_ANY, IMM_FIXED };
enum { FK_NORMAL, FK_INVALID, FK_PREFIX };

typedef struct Operand {
    uint8_t loc, reg, type;
} Operand;

typedef struct Form {
    char name[64];
    uint8_t bytes[12]; /* prefixes, 0F, opcode, ModRM[, imm8] */
    uint8_t len;       /* including the imm8 */
    uint8_t imm;  /* IMM_* */
    uint8_t kind; /* FK_* */
    bool mem;
    bool rcp; /* RCPPS/RSQRTPS family: note the SDM bound on a mismatch */
    bool rsqrt;
    bool scalar;
    Operand dst, src;
} Form;

static Form forms[900];
static int nforms;

static int lane_type(const char *t)
{
    if (!strncmp(t, "ps", 2) || !strncmp(t, "ss", 2))
        return T_F32;
    if (!strncmp(t, "pd", 2) || !strncmp(t, "sd", 2))
        return T_F64;
    return T_I32; /* dq, pi, si */
}

/* The value kinds of the destination and source, from the mnemonic. */
static void type_hints(const char *mn, int *dt, int *st)
{
    size_t n = strlen(mn);
    if (!strncmp(mn, "cvt", 3)) {
        const char *p = mn + 3 + (mn[3] == 't');
        *st = lane_type(p);
        *dt = lane_type(p + 3);
        return;
    }
    const char *e = mn + (n >= 2 ? n - 2 : 0);
    if (!strcmp(e, "ps") || !strcmp(e, "ss"))
        *dt = *st = T_F32;
    else if (!strcmp(e, "pd") || !strcmp(e, "sd"))
        *dt = *st = T_F64;
    else
        *dt = *st = T_INT;
}

static Form *new_form(void)
{
    if (nforms >= (int)(sizeof forms / sizeof forms[0])) {
        fprintf(stderr, "sse_oracle: too many forms\n");
        exit(2);
    }
    Form *f = &forms[nforms++];
    memset(f, 0, sizeof *f);
    return f;
}

static int opd_loc(char l)
{
    switch (l) {
    case 'V': case 'W': case 'U': return LOC_XMM;
    case 'P': case 'Q': case 'N': return LOC_MM;
    case 'G': case 'E': return LOC_GPR;
    case 'M': return LOC_MEM;
    default: return LOC_NONE;
    }
}

static bool is_operand(const char *s) { return strcmp(s, "__") && strcmp(s, "Ib"); }

static void add_def_forms(const Def *d)
{
    bool group = strcmp(d->greg, "NG") != 0;
    bool fence = !strcmp(d->h, "sse_fence");
    bool ldmxcsr = !strcmp(d->mn, "ldmxcsr");
    const char *o[2] = {d->o1, d->o2};
    int dt, st;
    type_hints(d->mn, &dt, &st);

    int regfield = group ? atoi(d->greg) : -1;
    int rm_idx = -1, reg_idx = -1;
    for (int k = 0; k < 2; k++) {
        if (!is_operand(o[k]))
            continue;
        if (strchr("WUMQNE", o[k][0]))
            rm_idx = k;
        else
            reg_idx = k;
    }
    char rml = rm_idx >= 0 ? o[rm_idx][0] : 'W';
    bool reg_ok = rml != 'M', mem_ok = rml != 'U' && rml != 'N';
    if (fence) {
        reg_ok = true;
        mem_ok = !strcmp(d->o1, "Ex"); /* 0F AE /7 memory: CLFLUSH */
    }
    if (reg_idx >= 0)
        regfield = opd_loc(o[reg_idx][0]) == LOC_GPR ? 0 : reg_idx == 0 ? RDST : RSRC;
    int rmreg = RSRC;
    if (rm_idx >= 0)
        rmreg = opd_loc(rml) == LOC_GPR ? 0 : rm_idx == 0 ? RDST : RSRC;

    for (int mem = 0; mem < 2; mem++) {
        bool valid = mem ? mem_ok : reg_ok;
        /* 0F AE /4, /5, /6 with a memory operand are XSAVE, XRSTOR and
         * XSAVEOPT on the host: never run them there. */
        if (fence && mem && !valid)
            continue;
        Form *f = new_form();
        f->kind = valid ? FK_NORMAL : FK_INVALID;
        f->mem = mem;
        int n = 0;
        if (d->map == 3)
            f->bytes[n++] = 0x66;
        else if (d->map == 4)
            f->bytes[n++] = 0xF3;
        else if (d->map == 5)
            f->bytes[n++] = 0xF2;
        f->bytes[n++] = 0x0F;
        f->bytes[n++] = (uint8_t)d->op;
        f->bytes[n++] =
            mem ? (uint8_t)(regfield << 3 | 6) : (uint8_t)(0xC0 | regfield << 3 | rmreg);
        bool imm = !strcmp(d->o3, "Ib") || !strcmp(d->o2, "Ib");
        if (imm) {
            f->bytes[n++] = 0;
            if (!strncmp(d->mn, "cmp", 3))
                f->imm = IMM_CMP;
            else if (group)
                f->imm =
                    (d->op == 0x73 && (regfield == 3 || regfield == 7)) ? IMM_BSHIFT : IMM_SHIFT;
            else
                f->imm = IMM_ANY;
        }
        f->len = (uint8_t)n;

        /* Operands: o1 is the destination, o2 the source; the ModRM rm one
         * is memory in the memory form. */
        for (int k = 0; k < 2; k++) {
            if (!is_operand(o[k]) || fence)
                continue;
            Operand *p = k == 0 ? &f->dst : &f->src;
            int loc = opd_loc(o[k][0]);
            if (k == rm_idx && mem)
                loc = LOC_MEM;
            else if (loc == LOC_MEM)
                loc = LOC_XMM; /* the invalid register form of an M operand */
            p->loc = (uint8_t)loc;
            p->reg = (uint8_t)(k == rm_idx ? rmreg : regfield);
            p->type = (uint8_t)(k == 0 ? dt : st);
            if (loc == LOC_GPR)
                p->type = T_I32;
        }
        if (ldmxcsr) {
            f->src = f->dst;
            f->src.type = T_MXCSR;
            memset(&f->dst, 0, sizeof f->dst);
        }
        if (fence && mem)
            f->src = (Operand){LOC_MEM, 0, T_INT};
        f->rcp = !strncmp(d->mn, "rcp", 3) || !strncmp(d->mn, "rsqrt", 5);
        f->rsqrt = !strncmp(d->mn, "rsqrt", 5);
        f->scalar = d->mn[strlen(d->mn) - 2] == 's' && strcmp(d->mn + strlen(d->mn) - 2, "ps");

        /* Name: mnemonic, operands, form. */
        char ops[32] = "";
        if (fence)
            ops[0] = 0;
        else if (!is_operand(d->o2))
            snprintf(ops, sizeof ops, " %s%s", d->o1, !strcmp(d->o2, "Ib") ? ",Ib" : "");
        else
            snprintf(ops, sizeof ops, " %s,%s%s", d->o1, d->o2, imm && !group ? ",Ib" : "");
        const char *mn = d->mn;
        if (d->map == 2 && !mem && d->op == 0x12) {
            mn = "movhlps";
            snprintf(ops, sizeof ops, " Vq,Uq");
        } else if (d->map == 2 && !mem && d->op == 0x16) {
            mn = "movlhps";
            snprintf(ops, sizeof ops, " Vq,Uq");
        } else if (fence && mem) {
            mn = "clflush";
        }
        snprintf(f->name, sizeof f->name, "%s%s %s%s", mn, ops, mem ? "mem" : "reg",
                 valid ? "" : "(#UD)");
    }
}

/* Prefix-selection forms: combinations of 66/F2/F3 (and LOCK) in front of
 * opcodes whose meaning depends on them, with ModRM C0 (reg 0, rm 0: XMM0,
 * MM0 or EAX as the opcode wants) or 06 ([esi]); and single prefixes in
 * front of the map-2 SE opcodes that have no such map 3-5 entry. */
static void add_prefix_forms(void)
{
    static const uint8_t combos[][3] = {
        {2, 0x66, 0xF3}, {2, 0xF3, 0x66}, {2, 0x66, 0xF2}, {2, 0xF2, 0x66}, {2, 0xF2, 0xF3},
        {2, 0xF3, 0xF2}, {2, 0x66, 0x66}, {2, 0xF3, 0xF3}, {1, 0xF0, 0},    {2, 0xF0, 0x66},
    };
    static const uint8_t opcodes[] = {0x10, 0x2A, 0x2D, 0x58, 0x5A, 0x6F, 0x70, 0x7E, 0xD6, 0xE6};
    for (size_t c = 0; c < sizeof combos / sizeof combos[0]; c++) {
        for (size_t o = 0; o < sizeof opcodes; o++) {
            for (int mem = 0; mem < 2; mem++) {
                Form *f = new_form();
                f->kind = FK_PREFIX;
                f->mem = mem;
                int n = 0;
                for (int p = 0; p < combos[c][0]; p++)
                    f->bytes[n++] = combos[c][1 + p];
                f->bytes[n++] = 0x0F;
                f->bytes[n++] = opcodes[o];
                f->bytes[n++] = mem ? 0x06 : 0xC0;
                if (opcodes[o] == 0x70) {
                    f->bytes[n++] = 0;
                    f->imm = IMM_ANY;
                }
                f->len = (uint8_t)n;
                if (mem)
                    f->src = (Operand){LOC_MEM, 0, T_MIX};
                char pfx[16];
                if (combos[c][0] == 2)
                    snprintf(pfx, sizeof pfx, "%02X %02X", combos[c][1], combos[c][2]);
                else
                    snprintf(pfx, sizeof pfx, "%02X", combos[c][1]);
                snprintf(f->name, sizeof f->name, "prefix %s 0F %02X %s", pfx, opcodes[o],
                         mem ? "mem" : "reg");
            }
        }
    }
    /* One prefix where the map-2 SE slot has no map 3-5 entry.  Not F2/F3
     * 0F 12 and F3 0F 16 (MOVDDUP, MOVSLDUP, MOVSHDUP: SSE3, which the host
     * has): those are Kestrel-only checks. */
    static const uint8_t pfx1[] = {0x66, 0xF3, 0xF2};
    for (size_t k = 0; k < sizeof defs / sizeof defs[0]; k++) {
        const Def *d = &defs[k];
        if (d->map != 2 || strcmp(d->fl, "SE") || strncmp(d->h, "sse_", 4))
            continue;
        for (int p = 0; p < 3; p++) {
            bool taken = false;
            for (size_t j = 0; j < sizeof defs / sizeof defs[0]; j++)
                taken |= defs[j].map == 3 + p && defs[j].op == d->op;
            if (taken || ((d->op == 0x12 || d->op == 0x16) && p > 0))
                continue;
            bool seen = false; /* 0F 12 etc. appear twice (load, reg) */
            for (int q = 0; q < nforms; q++)
                seen |= forms[q].kind == FK_PREFIX && forms[q].bytes[0] == pfx1[p] &&
                        forms[q].bytes[2] == d->op && forms[q].len == 4;
            if (seen)
                continue;
            for (int mem = 0; mem < 2; mem++) {
                Form *f = new_form();
                f->kind = FK_PREFIX;
                f->mem = mem;
                f->bytes[0] = pfx1[p];
                f->bytes[1] = 0x0F;
                f->bytes[2] = (uint8_t)d->op;
                f->bytes[3] = mem ? 0x06 : 0xC0;
                f->len = 4;
                if (!strcmp(d->o3, "Ib")) {
                    f->len = 5;
                    f->imm = IMM_ANY;
                }
                if (mem)
                    f->src = (Operand){LOC_MEM, 0, T_MIX};
                snprintf(f->name, sizeof f->name, "prefix %02X 0F %02X (%s) %s", pfx1[p], d->op,
                         d->mn, mem ? "mem" : "reg");
            }
        }
    }
}

static void build_forms(void)
{
    for (size_t k = 0; k < sizeof defs / sizeof defs[0]; k++) {
        const Def *d = &defs[k];
        if (d->map >= 3 || (d->map == 2 && !strncmp(d->h, "sse_", 4)))
            add_def_forms(d);
    }
    add_prefix_forms();
}

/* ---- Values ------------------------------------------------------------------------ */

static const uint32_t spec32[] = {
    0x00000000, 0x80000000, /* +-0 */
    0x00000001, 0x80000001, /* +-smallest denormal */
    0x007FFFFF, 0x807FFFFF, /* +-largest denormal */
    0x00400000, 0x80400000, 0x00800000, 0x80800000, /* denormal, +-smallest normal */
    0x00800001, 0x7F7FFFFF, 0xFF7FFFFF, 0x7F7FFFFE, /* +-largest normal */
    0x3F800000, 0xBF800000, 0x3F800001, 0x3F7FFFFF, /* +-1, 1 +- ulp */
    0x40000000, 0xC0000000, 0x7F800000, 0xFF800000, /* +-2, +-inf */
    0x7FC00000, 0xFFC00000, 0x7FFFFFFF, 0xFFFFFFFF, /* QNaNs, the default NaN */
    0x7FC00001, 0x7F800001, 0xFF800001, 0x7FBFFFFF, 0xFFBFFFFF, /* SNaNs */
    0x4F000000, 0xCF000000, 0x4EFFFFFF, 0xCF000001, /* +-2^31 and neighbours */
    0x4F800000, 0x4E800000, 0xCF800000,             /* 2^32, 2^30, -2^32 */
    0x3F000000, 0xBF000000, 0x3FC00000, 0xBFC00000, /* +-0.5, +-1.5: halfway */
    0x40200000, 0xC0200000, 0x3F400000,             /* +-2.5, 0.75 */
    0x33800000, 0x33800001, 0x34000000, /* 2^-24 (half an ulp of 1), 2^-23 */
    0x4B000000, 0x4B000001, 0x4B7FFFFF, 0x4B800000, /* 2^23.. integers */
    0x0C000000, 0x72000000, 0x1F800000, 0x5F800000, /* under/overflowing products */
};
#define NSPEC32 (sizeof spec32 / sizeof spec32[0])

static const uint64_t spec64[] = {
    0x0000000000000000, 0x8000000000000000, 0x0000000000000001, 0x8000000000000001,
    0x000FFFFFFFFFFFFF, 0x800FFFFFFFFFFFFF, 0x0008000000000000, 0x0010000000000000,
    0x8010000000000000, 0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFF, 0x3FF0000000000000,
    0xBFF0000000000000, 0x3FF0000000000001, 0x3FEFFFFFFFFFFFFF, 0x4000000000000000,
    0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000, 0xFFF8000000000000,
    0x7FFFFFFFFFFFFFFF, 0x7FF8000000000001, 0x7FF0000000000001, 0xFFF0000000000001,
    0x7FF7FFFFFFFFFFFF,
    0x41E0000000000000, 0xC1E0000000000000, /* +-2^31 */
    0x41DFFFFFFFC00000, 0x41DFFFFFFFE00000, /* 2^31 - 1, 2^31 - 0.5 */
    0x41DFFFFFFFF00000, 0xC1E0000000100000, /* 2^31 - 0.25, -2^31 - 0.5 */
    0xC1E0000000200000, 0xC1E00000001FFFFF, /* -2^31 - 1, a little less */
    0x41F0000000000000, 0xC1DFFFFFFFC00000, /* 2^32, -(2^31 - 1) */
    0x3FE0000000000000, 0xBFE0000000000000, 0x3FF8000000000000, 0xBFF8000000000000,
    0x4004000000000000, 0xC004000000000000, /* +-0.5 +-1.5 +-2.5 */
    0x3CA0000000000000, 0x3CA0000000000001, 0x3CB0000000000000, /* 2^-53, 2^-52 */
    0x4330000000000000, 0x4330000000000001, /* 2^52 */
    0x36A0000000000000, 0x3690000000000000, /* 2^-149, 2^-150 (single's denormals) */
    0x3810000000000000, 0x380FFFFFF0000000, /* 2^-126 and just below */
    0x47EFFFFFE0000000, 0x47EFFFFFF0000000, /* FLT_MAX, FLT_MAX + half an ulp */
    0x3FF0000010000000, 0x3FF0000030000000, /* single halfway cases */
    0x1FF0000000000000, 0x5FF0000000000000, /* under/overflowing products */
};
#define NSPEC64 (sizeof spec64 / sizeof spec64[0])

static const uint32_t edge32[] = {
    0,          1,          0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 0x80000001, 0x7FFFFFFE,
    0x01000001, 0x00FFFFFF, 0xFEFFFFFF, 0x40000000, 0xC0000000, 2,          0xFFFFFFFE,
    0x7FFFFFC0, 0x7FFFFF80, 0x7FFFFFBF, 0x0000FFFF, 0xFFFF0000, 0x00008000, 0x00007FFF,
    0xFFFF8000, 0x12345678, 0x00000080, 0x0000007F,
};
#define NEDGE32 (sizeof edge32 / sizeof edge32[0])

static const uint64_t edge64[] = {
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
#define NEDGE64 (sizeof edge64 / sizeof edge64[0])

static bool host_daz; /* the host's MXCSR_MASK has DAZ */

static uint32_t gen_f32(Rng *r)
{
    uint32_t s = rng_below(r, 2) ? 0x80000000u : 0;
    uint32_t m = (uint32_t)rng_next64(r) & 0x7FFFFF;
    switch (rng_below(r, 16)) {
    case 0: case 1: case 2: case 3: case 4: return spec32[rng_below(r, NSPEC32)];
    case 5: /* NaN, quiet or signalling, random payload */
        m = rng_below(r, 2) ? m | 0x400000 : (m & 0x3FFFFF) | 1;
        return s | 0x7F800000 | m;
    case 6: return s | (m ? m : 1); /* denormal */
    case 7: return (uint32_t)rng_next64(r);
    case 8: case 9: case 10: return s | (123 + rng_below(r, 9)) << 23 | m; /* near 1 */
    case 11: return s | (1 + rng_below(r, 24)) << 23 | m;               /* tiny */
    case 12: return s | (230 + rng_below(r, 25)) << 23 | m;             /* huge */
    case 13: return s | (155 + rng_below(r, 5)) << 23 | m;              /* near 2^31 */
    case 14: { /* an integer or an integer and a half */
        float v = (float)(int32_t)(rng_next64(r) >> (33 + rng_below(r, 31)));
        if (rng_below(r, 2))
            v += 0.5f;
        uint32_t b;
        memcpy(&b, &v, 4);
        return s ^ b;
    }
    default: return s | rng_below(r, 255) << 23 | m;
    }
}

static uint64_t gen_f64(Rng *r)
{
    uint64_t s = rng_below(r, 2) ? 0x8000000000000000ull : 0;
    uint64_t m = rng_next64(r) & 0xFFFFFFFFFFFFFull;
    switch (rng_below(r, 17)) {
    case 0: case 1: case 2: case 3: case 4: return spec64[rng_below(r, NSPEC64)];
    case 5:
        m = rng_below(r, 2) ? m | 0x8000000000000ull : (m & 0x7FFFFFFFFFFFFull) | 1;
        return s | 0x7FF0000000000000ull | m;
    case 6: return s | (m ? m : 1);
    case 7: return rng_next64(r);
    case 8: case 9: case 10: return s | (uint64_t)(1019 + rng_below(r, 9)) << 52 | m;
    case 11: return s | (uint64_t)(1 + rng_below(r, 60)) << 52 | m;
    case 12: return s | (uint64_t)(1990 + rng_below(r, 57)) << 52 | m;
    case 13: return s | (uint64_t)(1051 + rng_below(r, 5)) << 52 | m;
    case 14: { /* an integer or an integer and a half */
        double v = (double)(int32_t)(rng_next64(r) >> (33 + rng_below(r, 31)));
        if (rng_below(r, 2))
            v += 0.5;
        uint64_t b;
        memcpy(&b, &v, 8);
        return s ^ b;
    }
    case 15: /* near the single range's ends, for CVTPD2PS/CVTSD2SS */
        return s |
               (uint64_t)(rng_below(r, 2) ? 870 + rng_below(r, 30) : 1148 + rng_below(r, 5)) << 52 |
               (rng_below(r, 2) ? m : m & 0xFFFFFF0000000ull) |
               (rng_below(r, 4) ? 0 : 0x10000000ull);
    default: return s | (uint64_t)rng_below(r, 2047) << 52 | m;
    }
}

static uint32_t gen_i32(Rng *r)
{
    switch (rng_below(r, 6)) {
    case 0: case 1: return edge32[rng_below(r, NEDGE32)];
    case 2: return (uint32_t)rng_next64(r);
    case 3: return (uint32_t)((int32_t)(rng_next64(r) >> 32) >> rng_below(r, 31));
    case 4: return edge32[rng_below(r, NEDGE32)] + rng_below(r, 5) - 2;
    default: return (uint32_t)(rng_next64(r) >> (32 + rng_below(r, 32)));
    }
}

/* A 64-bit integer operand whose lanes (of a random width) are edge values
 * of that lane or random. */
static uint64_t gen_int64(Rng *r)
{
    if (rng_below(r, 8) == 0)
        return rng_next64(r);
    if (rng_below(r, 8) == 0)
        return edge64[rng_below(r, NEDGE64)];
    static const int widths[] = {8, 16, 32, 64};
    int bits = widths[rng_below(r, 4)];
    uint64_t m = bits == 64 ? ~0ull : (1ull << bits) - 1, v = 0;
    for (int k = 0; k < 64 / bits; k++) {
        uint64_t smax = m >> 1, lane;
        switch (rng_below(r, 10)) {
        case 0: lane = 0; break;
        case 1: lane = m; break;
        case 2: lane = smax; break;
        case 3: lane = smax + 1; break;
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

static uint32_t gen_mxcsr(Rng *r)
{
    uint32_t m = (uint32_t)rng_below(r, 4) << 13;
    if (rng_below(r, 2))
        m |= 0x8000; /* FZ */
    if (host_daz && rng_below(r, 2))
        m |= 0x40; /* DAZ */
    if (rng_below(r, 3) == 0)
        m |= (uint32_t)rng_next64(r) & 0x3F; /* sticky flags */
    if (rng_below(r, 4) == 0)
        m |= ((uint32_t)rng_next64(r) & 0x3F) << 7;
    else
        m |= 0x1F80;
    return m;
}

/* A 128-bit operand of the given kind (a quarter of the time another). */
static void gen_operand(Rng *r, int type, uint8_t v[16])
{
    if (type == T_MIX || (type != T_MXCSR && rng_below(r, 4) == 0))
        type = (int)rng_below(r, 4);
    switch (type) {
    case T_F32:
        for (int k = 0; k < 4; k++)
            put32(v + 4 * k, gen_f32(r));
        break;
    case T_F64:
        for (int k = 0; k < 2; k++)
            put64(v + 8 * k, gen_f64(r));
        break;
    case T_I32:
        for (int k = 0; k < 4; k++)
            put32(v + 4 * k, gen_i32(r));
        break;
    case T_MXCSR: {
        uint32_t m = gen_mxcsr(r);
        if (rng_below(r, 8) == 0)
            m |= 1u << (16 + rng_below(r, 16)); /* reserved: #GP(0) */
        else if (rng_below(r, 16) == 0)
            m = (uint32_t)rng_next64(r);
        put32(v, m);
        put32(v + 4, (uint32_t)rng_next64(r));
        put64(v + 8, rng_next64(r));
        break;
    }
    default:
        for (int k = 0; k < 2; k++)
            put64(v + 8 * k, gen_int64(r));
        break;
    }
}

/* Tie some of src's lanes to dst's: equal, negated, one ulp apart. */
static void tie_lanes(Rng *r, int type, const uint8_t *d, uint8_t *s)
{
    if (type == T_F32) {
        for (int k = 0; k < 4; k++) {
            if (rng_below(r, 8))
                continue;
            uint32_t a = get32(d + 4 * k);
            static const uint32_t tweak[] = {0, 0x80000000u, 1, 0xFFFFFFFFu, 0x80000001u};
            uint32_t t = tweak[rng_below(r, 5)];
            put32(s + 4 * k, t & 0x80000000u ? (a ^ 0x80000000u) + (t & 1) : a + t);
        }
    } else if (type == T_F64) {
        for (int k = 0; k < 2; k++) {
            if (rng_below(r, 8))
                continue;
            uint64_t a = get64(d + 8 * k);
            switch (rng_below(r, 4)) {
            case 0: put64(s + 8 * k, a); break;
            case 1: put64(s + 8 * k, a ^ 0x8000000000000000ull); break;
            case 2: put64(s + 8 * k, a + 1); break;
            default: put64(s + 8 * k, a - 1); break;
            }
        }
    }
}

/* ---- Cases ------------------------------------------------------------------------- */

typedef struct Case {
    _Alignas(16) uint8_t img[512];
    uint8_t mem[MEMLEN];
    uint64_t rax, rflags;
    int off; /* [esi] = MEM_BASE + off */
    int imm;
} Case;

static int fx_top(const uint8_t *img) { return (get16(img + FX_FSW) >> 11) & 7; }

/* MMi is physical register Ri, FXSAVE slot (i - TOP) & 7. */
static uint8_t *mm_slot(uint8_t *img, int i) { return img + FX_ST + 16 * ((i - fx_top(img)) & 7); }

static void place(Case *c, const Operand *o, const uint8_t v[16])
{
    switch (o->loc) {
    case LOC_XMM: memcpy(c->img + FX_XMM + 16 * o->reg, v, 16); break;
    case LOC_MM: memcpy(mm_slot(c->img, o->reg), v, 8); break;
    case LOC_GPR: c->rax = (c->rax & ~0xFFFFFFFFull) | get32(v); break;
    case LOC_MEM: memcpy(c->mem + c->off, v, 16); break;
    default: break;
    }
}

static long nsys_of(int type)
{
    switch (type) {
    case T_F32: return (long)(NSPEC32 * NSPEC32);
    case T_F64: return (long)(NSPEC64 * NSPEC64);
    case T_I32: return (long)(NEDGE32 * NEDGE32);
    case T_INT: return (long)(NEDGE64 * NEDGE64);
    default: return 0;
    }
}

static int gen_imm(Rng *r, const Form *f, long idx)
{
    switch (f->imm) {
    case IMM_CMP:
        return idx < 64               ? (int)(idx & 7)
               : rng_below(r, 4) == 0 ? (int)rng_below(r, 256)
                                      : (int)rng_below(r, 8);
    case IMM_SHIFT: return rng_below(r, 8) == 0 ? (int)rng_below(r, 256) : (int)rng_below(r, 70);
    case IMM_BSHIFT: return rng_below(r, 8) == 0 ? (int)rng_below(r, 256) : (int)rng_below(r, 20);
    case IMM_ANY: return (int)rng_below(r, 256);
    default: return 0;
    }
}

static void gen_case(Rng *r, const Form *f, long idx, Case *c)
{
    memset(c, 0, sizeof *c);
    uint8_t *img = c->img;
    /* x87: all exceptions masked, random precision and rounding; random
     * condition codes, masked flags and TOP, no ES/B; random tags and
     * registers.  One case in 16: an unmasked invalid-operation exception
     * pending (IE, ES and B set, IM clear). */
    uint16_t fcw = (uint16_t)(0x007F | (rng_next64(r) & 0x0F00));
    uint16_t fsw = (uint16_t)(rng_next64(r) & 0x7F3F & ~0x0080);
    if (rng_below(r, 16) == 0) {
        fcw &= (uint16_t)~1;
        fsw |= 0x8081;
    }
    put16(img + FX_FCW, fcw);
    put16(img + FX_FSW, fsw);
    img[FX_FTW] = (uint8_t)rng_next64(r);
    for (int k = 0; k < 8; k++) {
        put64(img + FX_ST + 16 * k, gen_int64(r));
        put16(img + FX_ST + 16 * k + 8, (uint16_t)rng_next64(r));
    }
    put32(img + FX_MXCSR, gen_mxcsr(r));
    for (int k = 0; k < 8; k++)
        gen_operand(r, T_MIX, img + FX_XMM + 16 * k);
    for (int k = 0; k < MEMLEN; k += 8)
        put64(c->mem + k, rng_next64(r));
    c->rax = rng_next64(r);
    c->rflags = (rng_next64(r) & FLAGS_ARITH) | 2;
    if ((f->mem || strstr(f->name, "maskmovdqu")) && rng_below(r, 8) == 0)
        c->off = 1 + (int)rng_below(r, 15); /* MASKMOVDQU: [edi] needs no alignment */
    c->imm = gen_imm(r, f, idx);

    uint8_t d[16], s[16];
    gen_operand(r, f->dst.type, d);
    gen_operand(r, f->src.type, s);
    int st = f->src.type == T_MIX ? T_F32 : f->src.type;
    if (idx < nsys_of(st) && f->dst.type == st) {
        /* The pairs of special values, in lane 0. */
        switch (st) {
        case T_F32: put32(d, spec32[idx / NSPEC32]); put32(s, spec32[idx % NSPEC32]); break;
        case T_F64: put64(d, spec64[idx / NSPEC64]); put64(s, spec64[idx % NSPEC64]); break;
        case T_I32: put32(d, edge32[idx / NEDGE32]); put32(s, edge32[idx % NEDGE32]); break;
        default:
            put64(d, edge64[idx / NEDGE64]);
            put64(s, edge64[idx % NEDGE64]);
            put64(d + 8, edge64[idx % NEDGE64]);
            put64(s + 8, edge64[idx / NEDGE64]);
            break;
        }
    } else if (idx < nsys_of(st)) {
        switch (st) {
        case T_F32: put32(s, spec32[idx % NSPEC32]); break;
        case T_F64: put64(s, spec64[idx % NSPEC64]); break;
        case T_I32: put32(s, edge32[idx % NEDGE32]); break;
        default: put64(s, edge64[idx % NEDGE64]); break;
        }
    } else if (f->dst.type == f->src.type) {
        tie_lanes(r, f->src.type, d, s);
    }
    place(c, &f->dst, d);
    place(c, &f->src, s);
}

/* ---- Kestrel ----------------------------------------------------------------------- */

typedef FlatGuest Kes;

typedef struct Out {
    _Alignas(16) uint8_t img[512];
    uint8_t mem[MEMLEN];
    uint32_t eax, eflags;
    int exc; /* -1 or the vector; 100+ for an unexpected exit */
} Out;

static void kes_init(Kes *k)
{
    flat_guest_init(k, RAM_SIZE, "sse_oracle");
    k->cpu->cr0 |= CR0_NE | CR0_MP | CR0_ET;
    k->cpu->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    fpu_reset(k->cpu);
}

/* Slot i: FXRSTOR [ebx]; the instruction with imm8 i; FXSAVE [ebx+512]. */
static void kes_load_code(Kes *k, const Form *f)
{
    static uint8_t code[256 * SLOT];
    int nslots = f->imm ? 256 : 1;
    static const uint8_t fxrstor[] = {0x0F, 0xAE, 0x0B},
                         fxsave[] = {0x0F, 0xAE, 0x83, 0x00, 0x02, 0x00, 0x00};
    memset(code, 0x90, sizeof code);
    for (int i = 0; i < nslots; i++) {
        uint8_t *p = code + SLOT * (unsigned)i;
        memcpy(p, fxrstor, 3);
        memcpy(p + 3, f->bytes, f->len);
        if (f->imm)
            p[3 + f->len - 1] = (uint8_t)i;
        memcpy(p + 3 + f->len, fxsave, sizeof fxsave);
    }
    bus_write_phys(&k->bus, CODE_BASE, code, SLOT * (unsigned)nslots);
}

static int kes_exit(CpuState *cpu, CpuExit e)
{
    return e == CPU_EXIT_EXCEPTION ? cpu->exc_vector : 100 + (int)e;
}

static void kes_run(Kes *k, const Form *f, const Case *c, Out *o)
{
    CpuState *cpu = k->cpu;
    /* Data pages never hold code: write RAM directly. */
    memcpy(k->ram + IMG_BASE, c->img, 512);
    memcpy(k->ram + MEM_BASE, c->mem, MEMLEN);
    memset(cpu->regs, 0, sizeof cpu->regs);
    cpu->regs[0] = (uint32_t)c->rax;
    cpu->regs[3] = IMG_BASE;
    cpu->regs[4] = STACK_TOP;
    cpu->regs[6] = MEM_BASE + (uint32_t)c->off;
    cpu->regs[7] = MEM_BASE + (uint32_t)c->off;
    cpu_set_eflags(cpu, (uint32_t)c->rflags);
    uint32_t slot = CODE_BASE + SLOT * (uint32_t)(f->imm ? c->imm : 0);
    cpu->eip = slot;
    o->exc = -1;
    CpuExit e = cpu_step(cpu);
    if (e != CPU_EXIT_BUDGET) {
        o->exc = 200 + kes_exit(cpu, e); /* FXRSTOR failed: a harness bug */
    } else {
        e = cpu_step(cpu);
        if (e != CPU_EXIT_BUDGET) {
            o->exc = kes_exit(cpu, e);
            cpu->eip = slot + 3 + f->len;
        }
        e = cpu_step(cpu);
        if (e != CPU_EXIT_BUDGET)
            o->exc = 300 + kes_exit(cpu, e);
    }
    memcpy(o->img, k->ram + IMG_BASE + 512, 512);
    memcpy(o->mem, k->ram + MEM_BASE, MEMLEN);
    o->eax = cpu->regs[0];
    o->eflags = cpu_get_eflags(cpu);
}

/* ---- Host ----------------------------------------------------------------------------- */

static sigjmp_buf host_jb;
static volatile sig_atomic_t host_armed;
static _Alignas(16) uint8_t sig_img[512];
static volatile int sig_vec;
static volatile uint64_t sig_rax, sig_rflags;
static uint32_t c_mxcsr = 0x1F80;

/* An exception in the instruction under test: keep the trap number and the
 * FXSAVE-format state of the signal frame, and leave the stub. */
static void on_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    ucontext_t *uc = ucv;
    if (!host_armed) {
        /* Not ours: let the default action happen on the retry. */
        signal(sig, SIG_DFL);
        return;
    }
    host_armed = 0;
    sig_vec = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
    if (uc->uc_mcontext.fpregs)
        memcpy(sig_img, uc->uc_mcontext.fpregs, 512);
    else
        memset(sig_img, 0xEE, 512);
    sig_rax = (uint64_t)uc->uc_mcontext.gregs[REG_RAX];
    sig_rflags = (uint64_t)uc->uc_mcontext.gregs[REG_EFL];
    siglongjmp(host_jb, 1);
}

static void host_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    /* SA_NODEFER: nothing to unblock after siglongjmp, so sigsetjmp need
     * not save the mask (a system call per case). */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
}

typedef struct HostStubs {
    HostStub *s[256];
} HostStubs;

static HostStub *host_stub_for(HostStubs *hs, const Form *f, int imm)
{
    int i = f->imm ? imm : 0;
    if (!hs->s[i]) {
        uint8_t insn[16];
        memcpy(insn, f->bytes, f->len);
        if (f->imm)
            insn[f->len - 1] = (uint8_t)i;
        hs->s[i] = host_fxstub_new(insn, f->len);
    }
    return hs->s[i];
}

static void host_stubs_free(HostStubs *hs)
{
    for (int i = 0; i < 256; i++) {
        host_stub_free(hs->s[i]);
        hs->s[i] = NULL;
    }
}

static void host_run(HostStub *s, const Case *c, Out *o)
{
    static _Alignas(64) uint8_t in[512], out[512], mem[64];
    static HostFxCtx h;
    memcpy(in, c->img, 512);
    memset(out, 0, 512);
    memcpy(mem, c->mem, MEMLEN);
    h.in = in;
    h.out = out;
    h.rax = c->rax;
    h.rflags = c->rflags;
    h.mem = mem + c->off;
    if (sigsetjmp(host_jb, 0) == 0) {
        host_armed = 1;
        host_fxstub_run(s, &h);
        host_armed = 0;
        o->exc = -1;
        memcpy(o->img, out, 512);
        o->eax = (uint32_t)h.rax;
        o->eflags = (uint32_t)h.rflags;
    } else {
        /* The stub did not get to restore the C runtime's x87 and MXCSR
         * (the handler's fresh state is what is left, but be sure). */
        __asm__ volatile("fninit\n\tldmxcsr %0" : : "m"(c_mxcsr));
        o->exc = sig_vec;
        memcpy(o->img, sig_img, 512);
        o->eax = (uint32_t)sig_rax;
        o->eflags = (uint32_t)sig_rflags;
    }
    memcpy(o->mem, mem, MEMLEN);
}

/* ---- Comparison ------------------------------------------------------------------- */

static const char *vec_name(int v, char *buf, size_t n)
{
    switch (v) {
    case -1: return "none";
    case EXC_UD: return "#UD";
    case EXC_NM: return "#NM";
    case EXC_GP: return "#GP";
    case EXC_PF: return "#PF";
    case EXC_MF: return "#MF";
    case EXC_XM: return "#XM";
    default: snprintf(buf, n, "%d", v); return buf;
    }
}

static void fmt_xmm(const uint8_t *p, char *buf, size_t n)
{
    snprintf(buf, n, "%016" PRIx64 ":%016" PRIx64, get64(p + 8), get64(p));
}

/* A float32 that is neither zero, denormal, infinite nor NaN. */
static bool f32_normal(uint32_t v)
{
    uint32_t e = (v >> 23) & 0xFF;
    return e != 0 && e != 0xFF;
}

/* Whether each differing lane of a RCP/RSQRT result is within the SDM's
 * bound (relative error at most 1.5 * 2^-12). */
static bool rcp_within_bound(const Form *f, const Case *c, const Out *h, const Out *k)
{
    const uint8_t *src = f->src.loc == LOC_MEM ? c->mem + c->off : c->img + FX_XMM + 16 * RSRC;
    const uint8_t *hx = h->img + FX_XMM + 16 * RDST, *kx = k->img + FX_XMM + 16 * RDST;
    for (int l = 0; l < 4; l++) {
        uint32_t a = get32(hx + 4 * l), b = get32(kx + 4 * l), x = get32(src + 4 * l);
        if (a == b)
            continue;
        if ((f->scalar && l > 0) || !f32_normal(a) || !f32_normal(b) || !f32_normal(x))
            return false;
        float xf, bf;
        memcpy(&xf, &x, 4);
        memcpy(&bf, &b, 4);
        double t = f->rsqrt ? 1.0 / sqrt((double)xf) : 1.0 / (double)xf;
        if (!(fabs(((double)bf - t) / t) <= 1.5 / 4096))
            return false;
    }
    return true;
}

/* Compare; on a difference, describe the first one in `why`. */
static bool same(const Form *f, const Case *c, const Out *h, const Out *k, char *why, size_t n)
{
    char b1[48], b2[48];
    if (h->exc != k->exc) {
        char v1[16], v2[16];
        snprintf(why, n, "exception: host %s, kestrel %s", vec_name(h->exc, v1, sizeof v1),
                 vec_name(k->exc, v2, sizeof v2));
        return false;
    }
    if (get32(h->img + FX_MXCSR) != get32(k->img + FX_MXCSR)) {
        snprintf(why, n, "mxcsr: host %08x, kestrel %08x", get32(h->img + FX_MXCSR),
                 get32(k->img + FX_MXCSR));
        return false;
    }
    for (int i = 0; i < 8; i++) {
        const uint8_t *a = h->img + FX_XMM + 16 * i, *b = k->img + FX_XMM + 16 * i;
        if (memcmp(a, b, 16)) {
            fmt_xmm(a, b1, sizeof b1);
            fmt_xmm(b, b2, sizeof b2);
            snprintf(why, n, "xmm%d: host %s, kestrel %s%s", i, b1, b2,
                     f && f->rcp && i == RDST && rcp_within_bound(f, c, h, k)
                         ? " (within the SDM bound)" : "");
            return false;
        }
    }
    if (h->eax != k->eax) {
        snprintf(why, n, "eax: host %08x, kestrel %08x", h->eax, k->eax);
        return false;
    }
    if ((h->eflags ^ k->eflags) & FLAGS_ARITH) {
        snprintf(why, n, "eflags: host %03x, kestrel %03x", h->eflags & FLAGS_ARITH,
                 k->eflags & FLAGS_ARITH);
        return false;
    }
    static const char *const words[] = {"fcw", "fsw", "ftw"};
    for (int w = 0; w < 3; w++) {
        int o = 2 * w;
        uint16_t a = get16(h->img + o), b = get16(k->img + o);
        if (a != b) {
            snprintf(why, n, "%s: host %04x, kestrel %04x", words[w], a, b);
            return false;
        }
    }
    for (int i = 0; i < 8; i++) {
        const uint8_t *a = h->img + FX_ST + 16 * i, *b = k->img + FX_ST + 16 * i;
        if (memcmp(a, b, 10)) {
            snprintf(why, n, "st%d: host %04x:%016" PRIx64 ", kestrel %04x:%016" PRIx64, i,
                     get16(a + 8), get64(a), get16(b + 8), get64(b));
            return false;
        }
    }
    if (memcmp(h->mem, k->mem, MEMLEN)) {
        int i = 0;
        while (h->mem[i] == k->mem[i])
            i++;
        i &= ~7;
        snprintf(why, n, "mem+%d: host %016" PRIx64 ", kestrel %016" PRIx64, i,
                 get64(h->mem + i), get64(k->mem + i));
        return false;
    }
    return true;
}

/* The inputs of a case, for a reproducer. */
static void describe_case(const Form *f, const Case *c, char *buf, size_t n)
{
    char x2[48], x5[48], m[48];
    fmt_xmm(c->img + FX_XMM + 16 * RDST, x2, sizeof x2);
    fmt_xmm(c->img + FX_XMM + 16 * RSRC, x5, sizeof x5);
    fmt_xmm(c->mem + c->off, m, sizeof m);
    uint8_t img[512];
    memcpy(img, c->img, 512);
    int len = snprintf(buf, n, "mxcsr=%04x xmm2=%s xmm5=%s [esi+%d]=%s eax=%08x eflags=%03x",
                       get32(c->img + FX_MXCSR), x2, x5, c->off, m, (uint32_t)c->rax,
                       (unsigned)c->rflags);
    if (len > 0 && (size_t)len < n && (f->dst.loc == LOC_MM || f->src.loc == LOC_MM ||
                                       f->kind == FK_PREFIX)) {
        int l2 = snprintf(buf + len, n - (size_t)len, " mm2=%016" PRIx64 " mm5=%016" PRIx64,
                          get64(mm_slot(img, 2)), get64(mm_slot(img, 5)));
        if (l2 > 0)
            len += l2;
    }
    size_t l = strlen(buf);
    snprintf(buf + l, n - l, " fcw=%04x fsw=%04x ftw=%02x", get16(c->img), get16(c->img + 2),
             c->img[4]);
    if (f->imm) {
        l = strlen(buf);
        snprintf(buf + l, n - l, " imm=%02x", c->imm);
    }
}

static void dump_out(const char *who, const Out *o)
{
    char v[16], x[48];
    printf("  %s: exception %s mxcsr=%08x eax=%08x eflags=%03x fcw=%04x fsw=%04x ftw=%02x\n", who,
           vec_name(o->exc, v, sizeof v), get32(o->img + FX_MXCSR), o->eax,
           o->eflags & FLAGS_ARITH, get16(o->img), get16(o->img + 2), o->img[4]);
    for (int i = 0; i < 8; i++) {
        fmt_xmm(o->img + FX_XMM + 16 * i, x, sizeof x);
        printf("    xmm%d %s   st%d %04x:%016" PRIx64 "\n", i, x, i,
               get16(o->img + FX_ST + 16 * i + 8), get64(o->img + FX_ST + 16 * i));
    }
    printf("    mem");
    for (int i = 0; i < MEMLEN; i++)
        printf("%s%02x", i % 8 ? "" : " ", o->mem[i]);
    printf("\n");
}

/* ---- Self-test of the harness ---------------------------------------------------------- */

static long st_checks, st_failed;

static void st_expect(bool ok, const Form *f, long idx, const char *what)
{
    st_checks++;
    if (!ok) {
        st_failed++;
        if (st_failed <= 20)
            printf("SELFTEST FAIL %s case %ld: %s\n", f->name, idx, what);
    }
}

/* Host vs host on the same case; CMPccPS with imm8 vs imm8 & 7 (only bits
 * 0-2 are the predicate in the legacy encoding); and a corrupted copy of a
 * host result, which the comparison must catch. */
static void selftest_form(const Form *f, HostStubs *hs, Rng *r, long n)
{
    char why[256];
    for (long idx = 0; idx < n; idx++) {
        Case c;
        gen_case(r, f, idx, &c);
        Out a, b;
        host_run(host_stub_for(hs, f, c.imm), &c, &a);
        host_run(host_stub_for(hs, f, c.imm), &c, &b);
        st_expect(same(f, &c, &a, &b, why, sizeof why), f, idx, "host differs from itself");
        if (f->imm == IMM_CMP && (c.imm & ~7)) {
            host_run(host_stub_for(hs, f, c.imm & 7), &c, &b);
            st_expect(same(f, &c, &a, &b, why, sizeof why), f, idx,
                      "CMPcc imm8 bits 3-7 changed the result");
        }
        b = a;
        switch (rng_below(r, 8)) {
        case 0: b.exc = b.exc == -1 ? EXC_XM : -1; break;
        case 1: b.img[FX_MXCSR + rng_below(r, 2)] ^= (uint8_t)(1u << rng_below(r, 8)); break;
        case 2: b.eax ^= 1u << rng_below(r, 32); break;
        case 3: b.eflags ^= 1u << (rng_below(r, 2) ? 0 : 11); break;
        case 4: b.img[rng_below(r, 6)] ^= (uint8_t)(1u << rng_below(r, 8)); break;
        case 5:
            b.img[FX_ST + 16 * rng_below(r, 8) + rng_below(r, 10)] ^=
                (uint8_t)(1u << rng_below(r, 8));
            break;
        case 6: b.mem[rng_below(r, MEMLEN)] ^= (uint8_t)(1u << rng_below(r, 8)); break;
        default: b.img[FX_XMM + rng_below(r, 128)] ^= (uint8_t)(1u << rng_below(r, 8)); break;
        }
        st_expect(!same(f, &c, &a, &b, why, sizeof why), f, idx, "a corrupted result passed");
    }
}

/* ---- Kestrel-only checks ----------------------------------------------------------------- */

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

/* Run `insn` alone with [esi] = MEM_BASE + off; returns the vector or -1. */
static int kes_one(Kes *k, const uint8_t *insn, int len, uint32_t off)
{
    CpuState *cpu = k->cpu;
    bus_write_phys(&k->bus, CHECK_CODE, insn, (size_t)len);
    cpu->regs[4] = STACK_TOP;
    cpu->regs[6] = MEM_BASE + off;
    cpu->regs[7] = MEM_BASE + off;
    cpu->eip = CHECK_CODE;
    CpuExit e = cpu_step(cpu);
    if (e == CPU_EXIT_BUDGET)
        return -1;
    return kes_exit(cpu, e);
}

#define KES_ONE(k, bytes, off) kes_one((k), (bytes), (int)sizeof(bytes), (off))

static void fill_xmm(CpuState *cpu, uint32_t v)
{
    for (int r = 0; r < 8; r++)
        for (int l = 0; l < 4; l++)
            cpu->fpu.xmm[r].d[l] = v + (uint32_t)(r * 4 + l);
}

static void exception_checks(Kes *k)
{
    CpuState *cpu = k->cpu;
    uint32_t cr0 = cpu->cr0, cr4 = cpu->cr4;
    static const uint8_t movaps_rr[] = {0x0F, 0x28, 0xD5}, addps_rr[] = {0x0F, 0x58, 0xD5},
                         paddb_x[] = {0x66, 0x0F, 0xFC, 0xD5}, cvtpi2ps_rr[] = {0x0F, 0x2A, 0xD5},
                         movq2dq[] = {0xF3, 0x0F, 0xD6, 0xD5}, ldmxcsr[] = {0x0F, 0xAE, 0x16},
                         stmxcsr[] = {0x0F, 0xAE, 0x1E}, movnti[] = {0x0F, 0xC3, 0x06},
                         lfence[] = {0x0F, 0xAE, 0xE8}, sfence[] = {0x0F, 0xAE, 0xF8},
                         mfence[] = {0x0F, 0xAE, 0xF0}, movd_x[] = {0x66, 0x0F, 0x6E, 0xD0};
    char what[160];

    /* CR0.EM, CR4.OSFXSR, CR0.TS (SDM vol. 3, 13.1.3-13.1.4; vol. 2,
     * table 2-2 / the "Exceptions" sections). */
    fpu_reset(cpu);
    cpu->cr0 = cr0 | CR0_EM;
    check(KES_ONE(k, movaps_rr, 0) == EXC_UD, "movaps with CR0.EM: #UD");
    check(KES_ONE(k, addps_rr, 0) == EXC_UD, "addps with CR0.EM: #UD");
    check(KES_ONE(k, cvtpi2ps_rr, 0) == EXC_UD, "cvtpi2ps xmm, mm with CR0.EM: #UD");
    check(KES_ONE(k, ldmxcsr, 0) == EXC_UD, "ldmxcsr with CR0.EM: #UD");
    cpu->cr0 = cr0 | CR0_EM | CR0_TS;
    check(KES_ONE(k, movaps_rr, 0) == EXC_UD, "movaps with CR0.EM and TS: #UD (before #NM)");
    cpu->cr0 = cr0;
    cpu->cr4 = cr4 & ~CR4_OSFXSR;
    check(KES_ONE(k, movaps_rr, 0) == EXC_UD, "movaps with CR4.OSFXSR = 0: #UD");
    check(KES_ONE(k, addps_rr, 0) == EXC_UD, "addps with CR4.OSFXSR = 0: #UD");
    check(KES_ONE(k, paddb_x, 0) == EXC_UD, "paddb xmm with CR4.OSFXSR = 0: #UD");
    check(KES_ONE(k, movd_x, 0) == EXC_UD, "movd xmm, r32 with CR4.OSFXSR = 0: #UD");
    check(KES_ONE(k, ldmxcsr, 0) == EXC_UD, "ldmxcsr with CR4.OSFXSR = 0: #UD");
    check(KES_ONE(k, stmxcsr, 0) == EXC_UD, "stmxcsr with CR4.OSFXSR = 0: #UD");
    cpu->cr4 = cr4;
    cpu->cr0 = cr0 | CR0_TS;
    check(KES_ONE(k, movaps_rr, 0) == EXC_NM, "movaps with CR0.TS: #NM");
    check(KES_ONE(k, addps_rr, 0) == EXC_NM, "addps with CR0.TS: #NM");
    check(KES_ONE(k, cvtpi2ps_rr, 0) == EXC_NM, "cvtpi2ps with CR0.TS: #NM");
    check(KES_ONE(k, movq2dq, 0) == EXC_NM, "movq2dq with CR0.TS: #NM");
    check(KES_ONE(k, ldmxcsr, 0) == EXC_NM, "ldmxcsr with CR0.TS: #NM");
    /* MOVNTI and the fences are not x87/SSE-state instructions: no CR0/CR4
     * checks (SDM vol. 2, their "Exceptions": only CPUID and LOCK). */
    cpu->cr0 = cr0 | CR0_TS | CR0_EM;
    cpu->cr4 = cr4 & ~CR4_OSFXSR;
    check(KES_ONE(k, movnti, 0) == -1, "movnti with CR0.EM, CR0.TS, CR4.OSFXSR = 0 runs");
    check(KES_ONE(k, lfence, 0) == -1 && KES_ONE(k, sfence, 0) == -1 && KES_ONE(k, mfence, 0) == -1,
          "lfence/sfence/mfence with CR0.EM, CR0.TS, CR4.OSFXSR = 0 run");
    cpu->cr0 = cr0;
    cpu->cr4 = cr4;

    /* A pending x87 exception: #MF for the SSE instructions on MMX
     * registers, not for the m64 form of CVTPI2PS, nor for XMM-only ones
     * (SDM vol. 2, CVTPI2PS: "does not take x87 FPU exceptions"). */
    static const uint8_t cvtpi2ps_m[] = {0x0F, 0x2A, 0x16};
    fpu_reset(cpu);
    cpu->fpu.cw = 0x037E;
    cpu->fpu.sw = 0x0001 | 0x0080 | 0x8000;
    check(KES_ONE(k, cvtpi2ps_rr, 0) == EXC_MF,
          "cvtpi2ps xmm, mm with a pending x87 exception: #MF");
    check(KES_ONE(k, cvtpi2ps_m, 0) == -1, "cvtpi2ps xmm, m64 with a pending x87 exception runs");
    check(KES_ONE(k, movaps_rr, 0) == -1, "movaps with a pending x87 exception runs");
    fpu_reset(cpu);

    /* Alignment of 128-bit memory operands (SDM vol. 1, 11.4.1; vol. 2,
     * each instruction's #GP(0) "if a memory operand is not aligned on a
     * 16-byte boundary"), not for MOVUPS/MOVDQU and the scalar and 64-bit
     * operands. */
    static const struct {
        uint8_t b[6];
        int len;
        bool gp;
        const char *name;
    } align[] = {
        {{0x0F, 0x28, 0x16}, 3, true, "movaps xmm, m128"},
        {{0x0F, 0x29, 0x16}, 3, true, "movaps m128, xmm"},
        {{0x66, 0x0F, 0x6F, 0x16}, 4, true, "movdqa xmm, m128"},
        {{0x0F, 0x2B, 0x16}, 3, true, "movntps m128, xmm"},
        {{0x0F, 0x58, 0x16}, 3, true, "addps xmm, m128"},
        {{0x66, 0x0F, 0xFC, 0x16}, 4, true, "paddb xmm, m128"},
        {{0x66, 0x0F, 0x70, 0x16, 0x1B}, 5, true, "pshufd xmm, m128, imm8"},
        {{0x0F, 0x10, 0x16}, 3, false, "movups xmm, m128"},
        {{0x0F, 0x11, 0x16}, 3, false, "movups m128, xmm"},
        {{0xF3, 0x0F, 0x6F, 0x16}, 4, false, "movdqu xmm, m128"},
        {{0xF3, 0x0F, 0x7F, 0x16}, 4, false, "movdqu m128, xmm"},
        {{0xF3, 0x0F, 0x58, 0x16}, 4, false, "addss xmm, m32"},
        {{0xF2, 0x0F, 0x58, 0x16}, 4, false, "addsd xmm, m64"},
        {{0x0F, 0x5A, 0x16}, 3, false, "cvtps2pd xmm, m64"},
        {{0x0F, 0x12, 0x16}, 3, false, "movlps xmm, m64"},
    };
    for (size_t a = 0; a < sizeof align / sizeof align[0]; a++) {
        for (uint32_t off = 1; off <= 8; off += 7) {
            fpu_reset(cpu);
            cpu->exc_code = -1;
            int v = kes_one(k, align[a].b, align[a].len, off);
            snprintf(what, sizeof what, "%s at a 16-byte boundary + %u: %s", align[a].name, off,
                     align[a].gp ? "#GP(0)" : "no exception");
            check(align[a].gp ? v == EXC_GP && cpu->exc_code == 0 : v == -1, what);
        }
    }

    /* An unmasked SIMD floating-point exception: #XM with CR4.OSXMMEXCPT,
     * #UD without (SDM vol. 3, 6.15, interrupt 19); the destination keeps
     * its value and the flag is set either way. */
    static const uint8_t divps_rr[] = {0x0F, 0x5E, 0xD5};
    for (int os = 0; os < 2; os++) {
        fpu_reset(cpu);
        fill_xmm(cpu, 0x3F800000);
        memset(&cpu->fpu.xmm[RSRC], 0, 16);
        XmmReg before = cpu->fpu.xmm[RDST];
        cpu->fpu.mxcsr = 0x1F80 & ~0x0200u; /* ZM clear */
        cpu->cr4 = os ? cr4 | CR4_OSXMMEXCPT : cr4 & ~CR4_OSXMMEXCPT;
        int v = KES_ONE(k, divps_rr, 0);
        snprintf(what, sizeof what, "divps by zero, ZE unmasked, CR4.OSXMMEXCPT = %d: %s", os,
                 os ? "#XM" : "#UD");
        check(v == (os ? EXC_XM : EXC_UD), what);
        snprintf(what, sizeof what,
                 "divps by zero, ZE unmasked, CR4.OSXMMEXCPT = %d: xmm2 kept, ZE set", os);
        check(!memcmp(&before, &cpu->fpu.xmm[RDST], 16) && (cpu->fpu.mxcsr & 0x3F) == 0x04, what);
    }
    cpu->cr4 = cr4;
    fpu_reset(cpu);
    fill_xmm(cpu, 0x3F800000);
    memset(&cpu->fpu.xmm[RSRC], 0, 16);
    cpu->fpu.mxcsr = 0x1F80;
    cpu->cr4 = cr4 & ~CR4_OSXMMEXCPT;
    check(KES_ONE(k, divps_rr, 0) == -1 && cpu->fpu.xmm[RDST].d[0] == 0x7F800000 &&
              (cpu->fpu.mxcsr & 0x3F) == 0x04,
          "divps by zero, all masked, CR4.OSXMMEXCPT = 0: +inf and ZE");
    cpu->cr4 = cr4;

    /* LDMXCSR: reserved bits are #GP(0) and leave MXCSR alone (SDM vol. 2,
     * LDMXCSR); DAZ is supported (MXCSR_MASK 0xFFFF). */
    static const uint32_t ld_vals[] = {0x00011F80, 0x80001F80, 0xFFFFFFFF};
    for (size_t v = 0; v < 3; v++) {
        fpu_reset(cpu);
        cpu->fpu.mxcsr = 0x1F80;
        bus_write_phys(&k->bus, MEM_BASE, &ld_vals[v], 4);
        cpu->exc_code = -1;
        int e = KES_ONE(k, ldmxcsr, 0);
        snprintf(what, sizeof what, "ldmxcsr %08x: #GP(0), MXCSR unchanged", ld_vals[v]);
        check(e == EXC_GP && cpu->exc_code == 0 && cpu->fpu.mxcsr == 0x1F80, what);
    }
    uint32_t all = 0xFFFF, got = 0;
    bus_write_phys(&k->bus, MEM_BASE + 1, &all, 4);
    int e1 = KES_ONE(k, ldmxcsr, 1);
    check(e1 == -1 && cpu->fpu.mxcsr == 0xFFFF,
          "ldmxcsr 0000FFFF (DAZ included) at an odd address");
    int e2 = KES_ONE(k, stmxcsr, 9);
    bus_read_phys(&k->bus, MEM_BASE + 9, &got, 4);
    check(e2 == -1 && got == 0xFFFF, "stmxcsr at an odd address");
    fpu_reset(cpu);

    /* Encodings beyond SSE2 that the host has: SSSE3/SSE4 (0F 38, 0F 3A),
     * SSE3 in SSE slots, XSAVE family (0F AE /4-/6 memory): #UD here. */
    static const struct {
        uint8_t b[6];
        int len;
        const char *name;
    } ud[] = {
        {{0x0F, 0x38, 0x00, 0xD5}, 4, "0F 38 00 (pshufb mm)"},
        {{0x66, 0x0F, 0x38, 0x00, 0xD5}, 5, "66 0F 38 00 (pshufb xmm)"},
        {{0x66, 0x0F, 0x38, 0x17, 0xD5}, 5, "66 0F 38 17 (ptest)"},
        {{0x66, 0x0F, 0x38, 0x2A, 0x16}, 5, "66 0F 38 2A (movntdqa)"},
        {{0x0F, 0x3A, 0x0F, 0xD5, 0x08}, 5, "0F 3A 0F (palignr mm)"},
        {{0x66, 0x0F, 0x3A, 0x0F, 0xD5, 0x08}, 6, "66 0F 3A 0F (palignr xmm)"},
        {{0x66, 0x0F, 0x3A, 0x16, 0xC2, 0x01}, 6, "66 0F 3A 16 (pextrd)"},
        {{0xF2, 0x0F, 0x12, 0xD5}, 4, "F2 0F 12 (movddup)"},
        {{0xF3, 0x0F, 0x12, 0xD5}, 4, "F3 0F 12 (movsldup)"},
        {{0xF3, 0x0F, 0x16, 0xD5}, 4, "F3 0F 16 (movshdup)"},
        {{0x66, 0x0F, 0x7C, 0xD5}, 4, "66 0F 7C (haddpd)"},
        {{0xF2, 0x0F, 0x7C, 0xD5}, 4, "F2 0F 7C (haddps)"},
        {{0x66, 0x0F, 0xD0, 0xD5}, 4, "66 0F D0 (addsubpd)"},
        {{0xF2, 0x0F, 0xF0, 0x16}, 4, "F2 0F F0 (lddqu)"},
        {{0x0F, 0xAE, 0x26}, 3, "0F AE /4 m (xsave)"},
        {{0x0F, 0xAE, 0x2E}, 3, "0F AE /5 m (xrstor)"},
        {{0x0F, 0xAE, 0x36}, 3, "0F AE /6 m (xsaveopt)"},
    };
    for (size_t u = 0; u < sizeof ud / sizeof ud[0]; u++) {
        fpu_reset(cpu);
        snprintf(what, sizeof what, "%s: #UD", ud[u].name);
        check(kes_one(k, ud[u].b, ud[u].len, 0) == EXC_UD, what);
    }

    /* Mandatory-prefix selection on the moves: F3 0F 6F is MOVDQU (no
     * alignment), 66 0F 6F MOVDQA (#GP when misaligned), 0F 6F MOVQ mm;
     * with both 66 and F3, F3 selects (SDM vol. 2, 2.1.2). */
    static const uint8_t dq[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const uint8_t movdqu[] = {0xF3, 0x0F, 0x6F, 0x16}, movdqa[] = {0x66, 0x0F, 0x6F, 0x16},
                         movq_mm[] = {0x0F, 0x6F, 0x16}, both[] = {0x66, 0xF3, 0x0F, 0x6F, 0x16},
                         both2[] = {0xF3, 0x66, 0x0F, 0x6F, 0x16};
    bus_write_phys(&k->bus, MEM_BASE + 1, dq, 16);
    fpu_reset(cpu);
    check(KES_ONE(k, movdqu, 1) == -1 && !memcmp(cpu->fpu.xmm[RDST].b, dq, 16),
          "F3 0F 6F is movdqu");
    check(KES_ONE(k, movdqa, 1) == EXC_GP, "66 0F 6F is movdqa");
    fpu_reset(cpu);
    check(KES_ONE(k, movq_mm, 1) == -1 && cpu->fpu.st[RDST].m == get64(dq) &&
              cpu->fpu.xmm[RDST].q[0] == 0,
          "0F 6F is movq mm");
    fpu_reset(cpu);
    check(KES_ONE(k, both, 1) == -1 && !memcmp(cpu->fpu.xmm[RDST].b, dq, 16),
          "66 F3 0F 6F is movdqu");
    fpu_reset(cpu);
    check(KES_ONE(k, both2, 1) == -1 && !memcmp(cpu->fpu.xmm[RDST].b, dq, 16),
          "F3 66 0F 6F is movdqu");
    fpu_reset(cpu);
    cpu->cr0 = cr0;
    cpu->cr4 = cr4;
}

/* F2/F3/66/none 0F 58 on one state: four different results, each the
 * host's. */
static void prefix_selection_check(Kes *k)
{
    static const uint8_t enc[4][4] = {{0x0F, 0x58, 0xD5},
                                      {0x66, 0x0F, 0x58, 0xD5},
                                      {0xF3, 0x0F, 0x58, 0xD5},
                                      {0xF2, 0x0F, 0x58, 0xD5}};
    static const char *const names[4] = {"addps", "addpd", "addss", "addsd"};
    Case c;
    memset(&c, 0, sizeof c);
    put16(c.img + FX_FCW, 0x037F);
    put32(c.img + FX_MXCSR, 0x1F80);
    for (int r = 0; r < 8; r++) {
        float fv[4] = {1.5f + (float)r, 2.25f, -3.0f, 0.125f};
        memcpy(c.img + FX_XMM + 16 * r, fv, 16);
    }
    double dv[2] = {1e10, -2.5};
    memcpy(c.img + FX_XMM + 16 * RSRC, dv, 16);
    Out h[4], kk[4];
    for (int e = 0; e < 4; e++) {
        Form f;
        memset(&f, 0, sizeof f);
        int len = e ? 4 : 3;
        memcpy(f.bytes, enc[e], (size_t)len);
        f.len = (uint8_t)len;
        HostStub *s = host_fxstub_new(f.bytes, f.len);
        host_run(s, &c, &h[e]);
        host_stub_free(s);
        kes_load_code(k, &f);
        kes_run(k, &f, &c, &kk[e]);
        char why[256], what[320];
        bool ok = same(NULL, &c, &h[e], &kk[e], why, sizeof why);
        snprintf(what, sizeof what, "%02X.. 0F 58 selects %s%s%s", enc[e][0], names[e],
                 ok ? "" : ": ", ok ? "" : why);
        check(ok, what);
    }
    bool distinct = true;
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++)
            distinct &=
                memcmp(h[a].img + FX_XMM + 16 * RDST, h[b].img + FX_XMM + 16 * RDST, 16) != 0;
    check(distinct, "the four 0F 58 encodings give four different results on the host");
}

/* ---- Driver ------------------------------------------------------------------------------- */

static long cases_for(const Form *f, long n)
{
    if (f->kind == FK_PREFIX)
        return n / 10 > 20 ? n / 10 : (n < 20 ? n : 20);
    if (f->kind == FK_INVALID)
        return n / 50 > 20 ? n / 50 : (n < 20 ? n : 20);
    return n;
}

int main(int argc, char **argv)
{
    long n = 10000;
    const char *env = getenv("KESTREL_FPU_CASES");
    if (env && *env)
        n = strtol(env, NULL, 0);
    env = getenv("SSE_CASES");
    if (env && *env)
        n = strtol(env, NULL, 0);
    bool verbose = false, selftest = false;
    long only = -1;
    const char *filters[32];
    int nfilt = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "-n") && a + 1 < argc) {
            n = strtol(argv[++a], NULL, 0);
        } else if (!strcmp(argv[a], "-c") && a + 1 < argc) {
            only = strtol(argv[++a], NULL, 0);
        } else if (!strcmp(argv[a], "-v")) {
            verbose = true;
        } else if (!strcmp(argv[a], "-S")) {
            selftest = true;
        } else if (argv[a][0] == '-') {
            fprintf(stderr, "usage: sse_oracle [-n CASES] [-v] [-c CASE] [-S] [FILTER...]\n");
            return 2;
        } else if (nfilt < 32) {
            filters[nfilt++] = argv[a];
        }
    }
    if (n < 1)
        n = 1;
    uint64_t seed = rng_seed_env("FPU_SEED", 0x53534532);

    __asm__ volatile("stmxcsr %0" : "=m"(c_mxcsr));
    host_signals();
    {
        /* Does the host take DAZ (MXCSR_MASK bit 6; SDM vol. 1, 11.6.6)? */
        static _Alignas(16) uint8_t fx[512];
        memset(fx, 0, sizeof fx);
        __asm__ volatile("fxsave %0" : "=m"(fx));
        uint32_t mask = get32(fx + FX_MXCSR_MASK);
        host_daz = (mask ? mask : 0xFFBF) & 0x40;
    }

    build_forms();
    Kes k;
    kes_init(&k);
    int passed = 0, failed = 0, nnormal = 0;
    long total_cases = 0;
    char why[256], desc[512];
    for (int fi = 0; fi < nforms; fi++) {
        const Form *f = &forms[fi];
        nnormal += f->kind == FK_NORMAL;
        bool pick = nfilt == 0;
        for (int q = 0; q < nfilt; q++)
            pick |= strstr(f->name, filters[q]) != NULL;
        if (!pick)
            continue;
        Rng r = {seed ^ (uint64_t)(fi + 1) * 0x100000001B3ull};
        HostStubs hs;
        memset(&hs, 0, sizeof hs);
        long nf = cases_for(f, n);
        if (selftest) {
            selftest_form(f, &hs, &r, nf < 1000 ? nf : 1000);
            host_stubs_free(&hs);
            continue;
        }
        kes_load_code(&k, f);
        long bad = 0, hexc[4] = {0}; /* host #UD, #GP, #MF, #XM */
        bool all_ud = true;
        char first[1024] = "";
        for (long idx = 0; idx < nf; idx++) {
            Case c;
            gen_case(&r, f, idx, &c);
            if (only >= 0 && idx != only)
                continue;
            Out ho, ko;
            host_run(host_stub_for(&hs, f, c.imm), &c, &ho);
            kes_run(&k, f, &c, &ko);
            total_cases++;
            hexc[0] += ho.exc == EXC_UD;
            hexc[1] += ho.exc == EXC_GP;
            hexc[2] += ho.exc == EXC_MF;
            hexc[3] += ho.exc == EXC_XM;
            bool ok = same(f, &c, &ho, &ko, why, sizeof why);
            if (only >= 0) {
                describe_case(f, &c, desc, sizeof desc);
                printf("%s case %ld: %s\n  in: %s\n", f->name, idx, ok ? "same" : why, desc);
                dump_out("host", &ho);
                dump_out("kestrel", &ko);
            }
            if (ok)
                continue;
            all_ud &= ko.exc == EXC_UD && ho.exc != EXC_UD;
            if (bad == 0 || (verbose && bad < 10)) {
                describe_case(f, &c, desc, sizeof desc);
                if (bad == 0)
                    snprintf(first, sizeof first, "case %ld: %s | %s", idx, why, desc);
                else
                    printf("  %s case %ld: %s | %s\n", f->name, idx, why, desc);
            }
            bad++;
        }
        host_stubs_free(&hs);
        if (bad) {
            failed++;
            printf("FAIL %s: %ld/%ld cases differ%s; %s\n", f->name, bad, only >= 0 ? 1 : nf,
                   all_ud ? " [kestrel #UD]" : "", first);
        } else {
            passed++;
            if (verbose)
                printf("ok   %s (%ld cases; on the host #UD %ld, #GP %ld, #MF %ld, #XM %ld)\n",
                       f->name, only >= 0 ? 1 : nf, hexc[0], hexc[1], hexc[2], hexc[3]);
        }
        fflush(stdout);
    }
    /* The host stubs and the signal path must hand back the C runtime's
     * MXCSR. */
    uint32_t mxcsr_now;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr_now));
    if (mxcsr_now != c_mxcsr) {
        printf("FAIL harness: MXCSR %08x at the end, %08x at the start\n", mxcsr_now, c_mxcsr);
        failed++;
        st_failed++;
    }
    if (selftest) {
        printf("selftest: %ld checks, %ld failed\n", st_checks, st_failed);
        flat_guest_free(&k);
        return st_failed ? 1 : 0;
    }
    if (nfilt == 0 && only < 0) {
        exception_checks(&k);
        prefix_selection_check(&k);
    }
    printf("%ld cases over %d forms (%d instruction forms in the table, %d forms in all); %d "
           "exception checks\n",
           total_cases, passed + failed, nnormal, nforms, checks_passed + checks_failed);
    passed += checks_passed;
    failed += checks_failed;
    flat_guest_free(&k);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
