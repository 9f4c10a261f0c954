/* The x87 oracle: the host's own x87 is the reference for Kestrel's.
 *
 * For every form below (one x87 instruction, its memory operand at [esi])
 * the driver makes N cases: a whole x87 state (control word with random
 * precision, rounding and masks; status word with random condition codes
 * and masked flags; TOP; which registers are empty; register contents),
 * memory operand bytes, EAX and EFLAGS.  Operands come from special
 * encodings (zeros, denormals, pseudo-denormals, unnormals, infinities,
 * pseudo-infinities, quiet and signalling NaNs, pseudo-NaNs, the
 * indefinite), values at the extremes of the exponent range and at the
 * rounding positions of 24/53/64-bit precision, values related to the other
 * operand (equal, negated, a few ulps apart, cancelling), and random ones.
 * A few percent of cases leave an operand register empty or fill the
 * register a push needs, to exercise stack faults.
 *
 * Each case runs on the host as FRSTOR image / instruction / FNSAVE image
 * (host_run.c) and in Kestrel as the same three instructions stepped in
 * flat 32-bit protected mode (CR0.NE = 1), with the arithmetic back end
 * chosen by --backend (host x87 or soft-float).  Compared bit for bit: the
 * FNSAVE image (control, status and tag words and the eight registers; not
 * the instruction/data pointers and opcode, which differ by mode and by
 * processor generation: see test_x87_unit.c), AX, ZF PF CF OF SF AF, and
 * the 128 bytes at [esi] (for FNSTENV/FNSAVE, not their pointer fields).
 * Transcendental forms (F2XM1 FYL2X FYL2XP1 FPTAN FPATAN FSIN FCOS
 * FSINCOS) allow each result register to differ from the host's by at
 * most 1 ulp, and do not compare C1: the processor sets it ("rounded up")
 * from its own internal approximation, so it differs from a more precise
 * computation whenever the exact value is near a rounding boundary.
 *
 * Usage: x87_oracle [--backend host|soft] [-n CASES] [-v] [FILTER...]
 *   KESTREL_FPU_CASES  cases per form (default 100000; the sanitizer run
 *                      uses fewer)
 *   FPU_SEED           PRNG seed
 * Prints one line per form and "N passed, M failed" (forms); exit status 0
 * iff no case differed.
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
#define MEMCMP 128

/* True pct times in 100: the case mix below is written in percentages. */
static bool chance(Rng *r, unsigned pct) { return rng_below(r, 100) < pct; }

/* ---- Forms -------------------------------------------------------------------- */

enum { M_NONE, M_F32, M_F64, M_I16, M_I32, M_I64, M_F80, M_BCD, M_ENV, M_SAVE, M_CW, M_OUT };
enum { D_ARITH, D_TRIG, D_2XM1, D_LOG, D_LOGP1, D_SCALE, D_PREM, D_INT, D_ATAN };

typedef struct Form {
    const char *name;
    uint8_t bytes[3];
    uint8_t len;
    uint8_t need;  /* ST0..ST(need-1) hold values */
    uint8_t push;  /* pushes: ST7 is normally empty */
    uint8_t mem;   /* M_*: the operand at [esi] */
    uint8_t dist;  /* D_*: how to pick the operands */
    uint8_t trans; /* transcendental: 1-ulp tolerance */
} Form;

#define R2(n, a, b, need, dist) {n, {a, b}, 2, need, 0, M_NONE, dist, 0}
#define RP(n, a, b, need, dist) {n, {a, b}, 2, need, 1, M_NONE, dist, 0}
#define RT(n, a, b, need, push, dist) {n, {a, b}, 2, need, push, M_NONE, dist, 1}
#define MM(n, a, b, need, push, mem) {n, {a, b}, 2, need, push, mem, D_ARITH, 0}

static const Form forms[] = {
    /* D8: ST0 op ST(i) / m32 */
    R2("fadd st0,st1", 0xD8, 0xC1, 2, D_ARITH), R2("fmul st0,st1", 0xD8, 0xC9, 2, D_ARITH),
    R2("fcom st1", 0xD8, 0xD1, 2, D_ARITH), R2("fcomp st1", 0xD8, 0xD9, 2, D_ARITH),
    R2("fsub st0,st1", 0xD8, 0xE1, 2, D_ARITH), R2("fsubr st0,st1", 0xD8, 0xE9, 2, D_ARITH),
    R2("fdiv st0,st1", 0xD8, 0xF1, 2, D_ARITH), R2("fdivr st0,st1", 0xD8, 0xF9, 2, D_ARITH),
    R2("fadd st0,st0", 0xD8, 0xC0, 1, D_ARITH), R2("fsub st0,st3", 0xD8, 0xE3, 4, D_ARITH),
    MM("fadd m32", 0xD8, 0x06, 1, 0, M_F32), MM("fmul m32", 0xD8, 0x0E, 1, 0, M_F32),
    MM("fcom m32", 0xD8, 0x16, 1, 0, M_F32), MM("fcomp m32", 0xD8, 0x1E, 1, 0, M_F32),
    MM("fsub m32", 0xD8, 0x26, 1, 0, M_F32), MM("fsubr m32", 0xD8, 0x2E, 1, 0, M_F32),
    MM("fdiv m32", 0xD8, 0x36, 1, 0, M_F32), MM("fdivr m32", 0xD8, 0x3E, 1, 0, M_F32),
    /* DC: ST(i) op ST0 / m64 */
    R2("fadd st1,st0", 0xDC, 0xC1, 2, D_ARITH), R2("fmul st1,st0", 0xDC, 0xC9, 2, D_ARITH),
    R2("fcom2 st1", 0xDC, 0xD1, 2, D_ARITH), R2("fcomp3 st1", 0xDC, 0xD9, 2, D_ARITH),
    R2("fsubr st1,st0", 0xDC, 0xE1, 2, D_ARITH), R2("fsub st1,st0", 0xDC, 0xE9, 2, D_ARITH),
    R2("fdivr st1,st0", 0xDC, 0xF1, 2, D_ARITH), R2("fdiv st1,st0", 0xDC, 0xF9, 2, D_ARITH),
    MM("fadd m64", 0xDC, 0x06, 1, 0, M_F64), MM("fmul m64", 0xDC, 0x0E, 1, 0, M_F64),
    MM("fcom m64", 0xDC, 0x16, 1, 0, M_F64), MM("fcomp m64", 0xDC, 0x1E, 1, 0, M_F64),
    MM("fsub m64", 0xDC, 0x26, 1, 0, M_F64), MM("fsubr m64", 0xDC, 0x2E, 1, 0, M_F64),
    MM("fdiv m64", 0xDC, 0x36, 1, 0, M_F64), MM("fdivr m64", 0xDC, 0x3E, 1, 0, M_F64),
    /* DE: ... and pop / m16int; DA: m32int */
    R2("faddp st1,st0", 0xDE, 0xC1, 2, D_ARITH), R2("fmulp st1,st0", 0xDE, 0xC9, 2, D_ARITH),
    R2("fcomp5 st1", 0xDE, 0xD1, 2, D_ARITH), R2("fcompp", 0xDE, 0xD9, 2, D_ARITH),
    R2("fsubrp st1,st0", 0xDE, 0xE1, 2, D_ARITH), R2("fsubp st1,st0", 0xDE, 0xE9, 2, D_ARITH),
    R2("fdivrp st1,st0", 0xDE, 0xF1, 2, D_ARITH), R2("fdivp st1,st0", 0xDE, 0xF9, 2, D_ARITH),
    R2("faddp st2,st0", 0xDE, 0xC2, 3, D_ARITH),
    MM("fiadd m16", 0xDE, 0x06, 1, 0, M_I16), MM("fimul m16", 0xDE, 0x0E, 1, 0, M_I16),
    MM("ficom m16", 0xDE, 0x16, 1, 0, M_I16), MM("ficomp m16", 0xDE, 0x1E, 1, 0, M_I16),
    MM("fisub m16", 0xDE, 0x26, 1, 0, M_I16), MM("fisubr m16", 0xDE, 0x2E, 1, 0, M_I16),
    MM("fidiv m16", 0xDE, 0x36, 1, 0, M_I16), MM("fidivr m16", 0xDE, 0x3E, 1, 0, M_I16),
    MM("fiadd m32", 0xDA, 0x06, 1, 0, M_I32), MM("fimul m32", 0xDA, 0x0E, 1, 0, M_I32),
    MM("ficom m32", 0xDA, 0x16, 1, 0, M_I32), MM("ficomp m32", 0xDA, 0x1E, 1, 0, M_I32),
    MM("fisub m32", 0xDA, 0x26, 1, 0, M_I32), MM("fisubr m32", 0xDA, 0x2E, 1, 0, M_I32),
    MM("fidiv m32", 0xDA, 0x36, 1, 0, M_I32), MM("fidivr m32", 0xDA, 0x3E, 1, 0, M_I32),
    /* Compares into EFLAGS, conditional moves */
    R2("fucompp", 0xDA, 0xE9, 2, D_ARITH), R2("fucom st1", 0xDD, 0xE1, 2, D_ARITH),
    R2("fucomp st1", 0xDD, 0xE9, 2, D_ARITH), R2("fucomi st1", 0xDB, 0xE9, 2, D_ARITH),
    R2("fcomi st1", 0xDB, 0xF1, 2, D_ARITH), R2("fucomip st1", 0xDF, 0xE9, 2, D_ARITH),
    R2("fcomip st1", 0xDF, 0xF1, 2, D_ARITH),
    R2("fcmovb", 0xDA, 0xC1, 2, D_ARITH), R2("fcmove", 0xDA, 0xC9, 2, D_ARITH),
    R2("fcmovbe", 0xDA, 0xD1, 2, D_ARITH), R2("fcmovu", 0xDA, 0xD9, 2, D_ARITH),
    R2("fcmovnb", 0xDB, 0xC1, 2, D_ARITH), R2("fcmovne", 0xDB, 0xC9, 2, D_ARITH),
    R2("fcmovnbe", 0xDB, 0xD1, 2, D_ARITH), R2("fcmovnu", 0xDB, 0xD9, 2, D_ARITH),
    /* Loads and stores */
    MM("fld m32", 0xD9, 0x06, 0, 1, M_F32), MM("fst m32", 0xD9, 0x16, 1, 0, M_OUT),
    MM("fstp m32", 0xD9, 0x1E, 1, 0, M_OUT), MM("fld m64", 0xDD, 0x06, 0, 1, M_F64),
    MM("fst m64", 0xDD, 0x16, 1, 0, M_OUT), MM("fstp m64", 0xDD, 0x1E, 1, 0, M_OUT),
    MM("fld m80", 0xDB, 0x2E, 0, 1, M_F80), MM("fstp m80", 0xDB, 0x3E, 1, 0, M_OUT),
    MM("fild m16", 0xDF, 0x06, 0, 1, M_I16), MM("fild m32", 0xDB, 0x06, 0, 1, M_I32),
    MM("fild m64", 0xDF, 0x2E, 0, 1, M_I64), MM("fist m16", 0xDF, 0x16, 1, 0, M_OUT),
    MM("fistp m16", 0xDF, 0x1E, 1, 0, M_OUT), MM("fist m32", 0xDB, 0x16, 1, 0, M_OUT),
    MM("fistp m32", 0xDB, 0x1E, 1, 0, M_OUT), MM("fistp m64", 0xDF, 0x3E, 1, 0, M_OUT),
    MM("fbld", 0xDF, 0x26, 0, 1, M_BCD), MM("fbstp", 0xDF, 0x36, 1, 0, M_OUT),
    R2("fld st1", 0xD9, 0xC1, 2, D_ARITH), R2("fld st0", 0xD9, 0xC0, 1, D_ARITH),
    R2("fst st1", 0xDD, 0xD1, 2, D_ARITH), R2("fstp st1", 0xDD, 0xD9, 2, D_ARITH),
    R2("fstp st0", 0xDD, 0xD8, 1, D_ARITH), R2("fstp1 st2", 0xD9, 0xDA, 3, D_ARITH),
    R2("fstp8 st1", 0xDF, 0xD1, 2, D_ARITH), R2("fstp9 st1", 0xDF, 0xD9, 2, D_ARITH),
    R2("fxch st1", 0xD9, 0xC9, 2, D_ARITH), R2("fxch4 st2", 0xDD, 0xCA, 3, D_ARITH),
    R2("fxch7 st1", 0xDF, 0xC9, 2, D_ARITH),
    /* Constants */
    RP("fld1", 0xD9, 0xE8, 0, D_ARITH), RP("fldl2t", 0xD9, 0xE9, 0, D_ARITH),
    RP("fldl2e", 0xD9, 0xEA, 0, D_ARITH), RP("fldpi", 0xD9, 0xEB, 0, D_ARITH),
    RP("fldlg2", 0xD9, 0xEC, 0, D_ARITH), RP("fldln2", 0xD9, 0xED, 0, D_ARITH),
    RP("fldz", 0xD9, 0xEE, 0, D_ARITH),
    /* One-operand arithmetic and tests */
    R2("fchs", 0xD9, 0xE0, 1, D_ARITH), R2("fabs", 0xD9, 0xE1, 1, D_ARITH),
    R2("ftst", 0xD9, 0xE4, 1, D_ARITH), R2("fxam", 0xD9, 0xE5, 1, D_ARITH),
    R2("fsqrt", 0xD9, 0xFA, 1, D_ARITH), R2("frndint", 0xD9, 0xFC, 1, D_INT),
    R2("fscale", 0xD9, 0xFD, 2, D_SCALE), R2("fprem", 0xD9, 0xF8, 2, D_PREM),
    R2("fprem1", 0xD9, 0xF5, 2, D_PREM), {"fxtract", {0xD9, 0xF4}, 2, 1, 1, M_NONE, D_ARITH, 0},
    /* Transcendental */
    RT("f2xm1", 0xD9, 0xF0, 1, 0, D_2XM1), RT("fyl2x", 0xD9, 0xF1, 2, 0, D_LOG),
    RT("fyl2xp1", 0xD9, 0xF9, 2, 0, D_LOGP1), RT("fptan", 0xD9, 0xF2, 1, 1, D_TRIG),
    RT("fpatan", 0xD9, 0xF3, 2, 0, D_ATAN), RT("fsin", 0xD9, 0xFE, 1, 0, D_TRIG),
    RT("fcos", 0xD9, 0xFF, 1, 0, D_TRIG), RT("fsincos", 0xD9, 0xFB, 1, 1, D_TRIG),
    /* Stack and control */
    R2("fnop", 0xD9, 0xD0, 0, D_ARITH), R2("fdecstp", 0xD9, 0xF6, 0, D_ARITH),
    R2("fincstp", 0xD9, 0xF7, 0, D_ARITH), R2("ffree st1", 0xDD, 0xC1, 2, D_ARITH),
    R2("ffreep st1", 0xDF, 0xC1, 2, D_ARITH), R2("fnclex", 0xDB, 0xE2, 0, D_ARITH),
    R2("fninit", 0xDB, 0xE3, 0, D_ARITH), {"fwait", {0x9B}, 1, 0, 0, M_NONE, D_ARITH, 0},
    R2("fnstsw ax", 0xDF, 0xE0, 0, D_ARITH), MM("fnstsw m16", 0xDD, 0x3E, 0, 0, M_OUT),
    MM("fnstcw m16", 0xD9, 0x3E, 0, 0, M_OUT), MM("fldcw m16", 0xD9, 0x2E, 0, 0, M_CW),
    MM("fnstenv", 0xD9, 0x36, 1, 0, M_OUT), MM("fldenv", 0xD9, 0x26, 0, 0, M_ENV),
    MM("fnsave", 0xDD, 0x36, 1, 0, M_OUT), MM("frstor", 0xDD, 0x26, 0, 0, M_SAVE),
    R2("fneni", 0xDB, 0xE0, 0, D_ARITH), R2("fndisi", 0xDB, 0xE1, 0, D_ARITH),
    R2("fnsetpm", 0xDB, 0xE4, 0, D_ARITH),
};
#define N_FORMS (sizeof(forms) / sizeof(forms[0]))

/* ---- Operand generation ----------------------------------------------------- */

typedef struct F80v {
    uint64_t m;
    uint16_t se;
} F80v;

static uint64_t gen_mant(Rng *r)
{
    uint64_t m = rng_next64(r) | (1ull << 63);
    switch (rng_below(r, 8)) {
    case 0: { /* at the 24-bit or 53-bit rounding position */
        int k = chance(r, 50) ? 40 : 11;
        uint64_t low = (1ull << k) - 1;
        switch (rng_below(r, 5)) {
        case 0: m = (m & ~low) | (1ull << (k - 1)); break;          /* exactly half */
        case 1: m = (m & ~low) | (1ull << (k - 1)) | 1; break;      /* just above */
        case 2: m = (m & ~low) | ((1ull << (k - 1)) - 1); break;    /* just below */
        case 3: m |= low; break;                                    /* all ones */
        default: m &= ~low; break;                                  /* exact */
        }
        break;
    }
    case 1: m = chance(r, 50) ? ~0ull : (1ull << 63) | rng_below(r, 4); break;
    case 2: m = (1ull << 63) | (rng_next64(r) >> rng_below(r, 64)); break;
    case 3: m &= ~0ull << rng_below(r, 64); break; /* few significant bits */
    default: break;
    }
    return m;
}

static F80v special(Rng *r)
{
    uint16_t s = chance(r, 50) ? 0x8000 : 0;
    uint64_t x = rng_next64(r);
    switch (rng_below(r, 16)) {
    case 0: return (F80v){0, s};
    case 1: return (F80v){1ull << 63, (uint16_t)(s | 0x7FFF)};                        /* inf */
    case 2: return (F80v){(3ull << 62) | (x >> 2), (uint16_t)(s | 0x7FFF)};           /* QNaN */
    case 3: return (F80v){(1ull << 63) | ((x >> 2) | 1), (uint16_t)(s | 0x7FFF)};     /* SNaN */
    case 4: return (F80v){3ull << 62, 0xFFFF};                                        /* indefinite */
    case 5: return (F80v){x >> (1 + rng_below(r, 63)), s};                            /* denormal */
    case 6: return (F80v){(1ull << 63) | x, s};                                       /* pseudo-denormal */
    case 7: return (F80v){x >> 1, (uint16_t)(s | (1 + rng_below(r, 0x7FFE)))};        /* unnormal */
    case 8: return (F80v){0, (uint16_t)(s | 0x7FFF)};                                 /* pseudo-inf */
    case 9: return (F80v){(x >> 1) | 1, (uint16_t)(s | 0x7FFF)};                      /* pseudo-NaN */
    case 10: return (F80v){~0ull, (uint16_t)(s | 0x7FFE)};                            /* max */
    case 11: return (F80v){1ull << 63, (uint16_t)(s | 1)};                            /* min normal */
    case 12: return (F80v){1ull << 63, (uint16_t)(s | 0x3FFF)};                       /* 1 */
    case 13: return (F80v){x >> 40, s};                                               /* tiny denormal */
    case 14: /* near f32 max */
        return (F80v){gen_mant(r), (uint16_t)(s | (0x3FFF + 0x80 - rng_below(r, 4)))};
    default: /* near f64 min */
        return (F80v){gen_mant(r), (uint16_t)(s | (0x3FFF - 0x3FE + rng_below(r, 8) - 4))};
    }
}

static F80v gen_f80(Rng *r, int dist, const F80v *other)
{
    uint16_t s = chance(r, 50) ? 0x8000 : 0;
    unsigned e;
    switch (dist) {
    case D_TRIG:
        if (chance(r, 8))
            return special(r);
        if (chance(r, 3))
            return (F80v){gen_mant(r), (uint16_t)(s | (0x3FFF + 62 + rng_below(r, 4)))};
        e = 0x3FFF - 40 + rng_below(r, 105);
        if (chance(r, 40))
            e = 0x3FFF - 2 + rng_below(r, 8);
        return (F80v){gen_mant(r), (uint16_t)(s | e)};
    case D_2XM1:
        if (chance(r, 8))
            return special(r);
        if (chance(r, 5))
            return (F80v){1ull << 63, (uint16_t)(s | 0x3FFF)};
        return (F80v){gen_mant(r),
                      (uint16_t)(s | (0x3FFF - 1 - rng_below(r, chance(r, 20) ? 16000 : 70)))};
    case D_LOGP1:
        if (other) { /* y */
            if (chance(r, 8))
                return special(r);
            return (F80v){gen_mant(r), (uint16_t)(s | (0x3FFF - 70 + rng_below(r, 140)))};
        }
        if (chance(r, 8))
            return special(r);
        return (F80v){gen_mant(r),
                      (uint16_t)(s | (0x3FFF - 3 - rng_below(r, chance(r, 20) ? 16000 : 70)))};
    case D_LOG:
        if (chance(r, 10))
            return special(r);
        if (other) /* y */
            return (F80v){gen_mant(r), (uint16_t)(s | (0x3FFF - 70 + rng_below(r, 140)))};
        if (chance(r, 10)) /* power of 2 */
            return (F80v){1ull << 63, (uint16_t)(0x3FFF - 100 + rng_below(r, 200))};
        if (chance(r, 20))
            return (F80v){gen_mant(r), (uint16_t)(rng_below(r, 2) ? 0x3FFF : 0x3FFE)}; /* near 1 */
        return (F80v){gen_mant(r), (uint16_t)(1 + rng_below(r, 0x7FFE))};
    case D_INT:
        if (chance(r, 10))
            return special(r);
        if (chance(r, 20)) {
            uint64_t m = gen_mant(r);
            return (F80v){m, (uint16_t)(s | (0x3FFF + 63 - rng_below(r, 3)))};
        }
        return (F80v){gen_mant(r), (uint16_t)(s | (0x3FFF - 5 + rng_below(r, 75)))};
    case D_ATAN:
        if (chance(r, 12))
            return special(r);
        if (other && chance(r, 30))
            return (F80v){gen_mant(r),
                          (uint16_t)(s | ((other->se & 0x7FFF) - 2 + rng_below(r, 5)))};
        return (F80v){gen_mant(r), (uint16_t)(s | (0x3FFF - 80 + rng_below(r, 160)))};
    default:
        break;
    }
    if (chance(r, 15))
        return special(r);
    if (other && chance(r, 25)) {
        F80v v = *other;
        switch (rng_below(r, 6)) {
        case 0: return v;
        case 1: v.se ^= 0x8000; return v;
        case 2: v.m += (uint64_t)(int64_t)(int)(rng_below(r, 9) - 4); v.m |= 1ull << 63; return v;
        case 3:
            v.se = (uint16_t)((v.se & 0x8000) |
                              (((v.se & 0x7FFF) + rng_below(r, 130) - 65) & 0x7FFF));
            return v;
        case 4: v.se ^= 0x8000; v.m ^= 1ull << rng_below(r, 63); return v;
        default: v.se = (uint16_t)(s | (v.se & 0x7FFF)); return v;
        }
    }
    switch (rng_below(r, 4)) {
    case 0: e = 1 + rng_below(r, 0x7FFE); break;
    case 1: e = chance(r, 50) ? 1 + rng_below(r, 70) : 0x7FFE - rng_below(r, 70); break;
    default: e = 0x3FFF - 64 + rng_below(r, 129); break;
    }
    return (F80v){gen_mant(r), (uint16_t)(s | e)};
}

static uint32_t gen_f32(Rng *r)
{
    uint32_t s = chance(r, 50) ? 0x80000000u : 0, x = (uint32_t)rng_next64(r);
    switch (rng_below(r, 12)) {
    case 0: return s;
    case 1: return s | 0x7F800000u;
    case 2: return s | 0x7FC00000u | (x & 0x3FFFFF);
    case 3: return s | 0x7F800000u | ((x & 0x3FFFFF) | 1);
    case 4: return s | (x & 0x7FFFFF);                  /* denormal */
    case 5: return s | ((127u + rng_below(r, 8) - 4) << 23) | (x & 0x7FFFFF);
    case 6: return s | 0x7F7FFFFFu;
    default: return s | ((1 + rng_below(r, 254)) << 23) | (x & 0x7FFFFF);
    }
}

static uint64_t gen_f64(Rng *r)
{
    uint64_t s = chance(r, 50) ? 1ull << 63 : 0, x = rng_next64(r) & 0xFFFFFFFFFFFFFull;
    switch (rng_below(r, 12)) {
    case 0: return s;
    case 1: return s | 0x7FF0000000000000ull;
    case 2: return s | 0x7FF8000000000000ull | (x >> 1);
    case 3: return s | 0x7FF0000000000000ull | ((x >> 1) | 1);
    case 4: return s | x;
    case 5: return s | ((uint64_t)(1023 + rng_below(r, 8) - 4) << 52) | x;
    case 6: return s | 0x7FEFFFFFFFFFFFFFull;
    default: return s | ((uint64_t)(1 + rng_below(r, 2046)) << 52) | x;
    }
}

static uint64_t gen_int(Rng *r, unsigned bits)
{
    uint64_t v = rng_next64(r);
    switch (rng_below(r, 6)) {
    case 0: v = 0; break;
    case 1: v = 1ull << (bits - 1); break;
    case 2: v = (1ull << (bits - 1)) - 1; break;
    case 3: v >>= rng_below(r, 64); break;
    case 4: v = (uint64_t)-(int64_t)(v >> rng_below(r, 64)); break;
    default: break;
    }
    return bits == 64 ? v : v & ((1ull << bits) - 1);
}

static void put_f80(uint8_t *p, F80v v)
{
    memcpy(p, &v.m, 8);
    memcpy(p + 8, &v.se, 2);
}
static F80v get_f80(const uint8_t *p)
{
    F80v v;
    memcpy(&v.m, p, 8);
    memcpy(&v.se, p + 8, 2);
    return v;
}
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* A random FRSTOR image (32-bit protected-mode format). */
typedef struct Case {
    uint8_t img[108];
    uint8_t mem[MEMCMP];
    uint64_t rax, rflags;
} Case;

static uint16_t gen_cw(Rng *r)
{
    static const uint16_t pcs[] = {0x000, 0x200, 0x300, 0x300, 0x300, 0x100};
    uint16_t cw = (uint16_t)(0x0040 | pcs[rng_below(r, 6)] | (rng_below(r, 4) << 10) |
                             (rng_below(r, 2) << 12));
    cw |= chance(r, 55) ? 0x3F : (uint16_t)(rng_next64(r) & 0x3F);
    return cw;
}

static void gen_case(Rng *r, const Form *f, Case *c)
{
    memset(c, 0, sizeof *c);
    uint16_t cw = gen_cw(r);
    unsigned top = rng_below(r, 8);
    /* Flags only among the masked exceptions: nothing is pending. */
    uint16_t flags = (uint16_t)(rng_next64(r) & cw & 0x3F);
    if (chance(r, 50))
        flags = 0;
    uint16_t sw = (uint16_t)((rng_next64(r) & 0x4700) | (top << 11) | flags);
    if ((flags & 1) && chance(r, 30))
        sw |= 0x40;
    uint16_t tw = 0xFFFF;
    uint8_t *regs = c->img + 28;
    F80v vals[8];
    int need = f->need;
    for (int i = 0; i < 8; i++) {
        bool valid;
        if (i < need)
            valid = !chance(r, 3);
        else if (i == 7 && f->push)
            valid = chance(r, 3);
        else
            valid = chance(r, 40);
        const F80v *other = i > 0 ? &vals[0] : NULL;
        if (f->dist == D_PREM && i == 1) {
            /* The divisor: a few to a hundred and fifty binades below. */
            vals[1] = (F80v){gen_mant(r),
                             (uint16_t)((chance(r, 50) ? 0x8000 : 0) |
                                        (((vals[0].se & 0x7FFF) - (rng_below(r, 150) - 3)) &
                                         0x7FFF))};
            if (chance(r, 10))
                vals[1] = special(r);
        } else if (f->dist == D_SCALE && i == 1) {
            int64_t n = (int64_t)rng_below(r, chance(r, 70) ? 200 : 70000) -
                        (chance(r, 70) ? 100 : 35000);
            uint64_t m = (uint64_t)(n < 0 ? -n : n);
            if (m == 0 || chance(r, 10)) {
                vals[1] = special(r);
            } else {
                int sh = __builtin_clzll(m);
                vals[1] = (F80v){m << sh, (uint16_t)((n < 0 ? 0x8000 : 0) | (0x3FFF + 63 - sh))};
                if (chance(r, 20))
                    vals[1].m |= rng_next64(r) >> (64 - sh + 1 > 63 ? 63 : 64 - sh + 1);
            }
        } else {
            vals[i] = gen_f80(r, f->dist, other);
        }
        put_f80(regs + 10 * i, vals[i]);
        if (valid) {
            unsigned phys = (top + (unsigned)i) & 7;
            tw &= (uint16_t)~(3u << (2 * phys));
        }
    }
    put16(c->img + 0, cw);
    put16(c->img + 2, 0xFFFF);
    put16(c->img + 4, sw);
    put16(c->img + 6, 0xFFFF);
    put16(c->img + 8, tw);
    put16(c->img + 10, 0xFFFF);
    for (int k = 0; k < MEMCMP; k++)
        c->mem[k] = (uint8_t)rng_next64(r);
    switch (f->mem) {
    case M_F32: { uint32_t v = gen_f32(r); memcpy(c->mem, &v, 4); break; }
    case M_F64: { uint64_t v = gen_f64(r); memcpy(c->mem, &v, 8); break; }
    case M_I16: { uint64_t v = gen_int(r, 16); memcpy(c->mem, &v, 2); break; }
    case M_I32: { uint64_t v = gen_int(r, 32); memcpy(c->mem, &v, 4); break; }
    case M_I64: { uint64_t v = gen_int(r, 64); memcpy(c->mem, &v, 8); break; }
    case M_F80: put_f80(c->mem, gen_f80(r, D_ARITH, NULL)); break;
    case M_BCD: {
        int nd = (int)rng_below(r, 19);
        for (int k = 0; k < 9; k++) {
            unsigned lo = 2 * k < nd ? rng_below(r, 10) : 0;
            unsigned hi = 2 * k + 1 < nd ? rng_below(r, 10) : 0;
            c->mem[k] = (uint8_t)(hi << 4 | lo);
        }
        c->mem[9] = (uint8_t)(chance(r, 50) ? 0x80 : 0);
        break;
    }
    case M_CW: put16(c->mem, (uint16_t)rng_next64(r)); break;
    case M_ENV:
    case M_SAVE: {
        /* Another random state, whose flags may now be unmasked: the
         * loading instruction does not wait on what it loads. */
        Case o;
        Form g = *f;
        g.need = 8;
        g.dist = D_ARITH;
        g.mem = M_NONE;
        gen_case(r, &g, &o);
        uint16_t ocw = gen_cw(r);
        put16(o.img, ocw);
        put16(o.img + 4, (uint16_t)((get16(o.img + 4) & ~0x3F) | (rng_next64(r) & 0x7F)));
        put16(o.img + 8, (uint16_t)rng_next64(r));
        memcpy(c->mem, o.img, f->mem == M_ENV ? 28 : 108);
        break;
    }
    default:
        break;
    }
    c->rax = rng_next64(r);
    c->rflags = 0x2 | (rng_next64(r) & 0x8D5);
}

/* ---- Kestrel ---------------------------------------------------------------- */

typedef FlatGuest Kes;

static void kes_init(Kes *k, bool soft)
{
    flat_guest_init(k, RAM_SIZE, "x87_oracle");
    k->cpu->cr0 |= CR0_NE | CR0_MP | CR0_ET;
    fpu_reset(k->cpu);
    k->cpu->fpu.soft = soft;
}

typedef struct Out {
    uint8_t img[108];
    uint8_t mem[MEMCMP];
    uint64_t rax, rflags;
    int exc; /* -1 or vector */
} Out;

/* FRSTOR [ebx]; the form; FNSAVE [ebx+108]. */
static void kes_load_code(Kes *k, const Form *f)
{
    uint8_t code[16] = {0xDD, 0x23};
    memcpy(code + 2, f->bytes, f->len);
    code[2 + f->len] = 0xDD;
    code[3 + f->len] = 0x73;
    code[4 + f->len] = 108;
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
    cpu_set_eflags(cpu, (uint32_t)c->rflags);
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
    o->rflags = cpu_get_eflags(cpu);
}

static void host_exec(HostStub *s, const Case *c, Out *o)
{
    static uint8_t mem[MEMCMP] __attribute__((aligned(16)));
    HostCtx h;
    memcpy(h.in, c->img, 108);
    memcpy(mem, c->mem, MEMCMP);
    h.rax = c->rax;
    h.rflags = c->rflags;
    h.mem = mem;
    host_stub_run(s, &h);
    memcpy(o->img, h.out, 108);
    memcpy(o->mem, mem, MEMCMP);
    o->rax = h.rax;
    o->rflags = h.rflags;
    o->exc = -1;
}

/* ---- Comparing ------------------------------------------------------------------ */

/* The values as one ordered key (sign apart): finite values a ulp apart
 * differ by one. */
static bool ulp_close(F80v a, F80v b)
{
    if (a.m == b.m && a.se == b.se)
        return true;
    if ((a.se ^ b.se) & 0x8000)
        return false;
    unsigned ea = a.se & 0x7FFF, eb = b.se & 0x7FFF;
    if (ea == 0x7FFF || eb == 0x7FFF)
        return false;
    __int128 ka = ((__int128)ea << 63) + (a.m & ~(1ull << 63)) + (ea ? 0 : 0);
    __int128 kb = ((__int128)eb << 63) + (b.m & ~(1ull << 63));
    __int128 d = ka - kb;
    return d == 1 || d == -1;
}

static bool mem_compare(const Form *f, const Out *h, const Out *k, int *at)
{
    for (int i = 0; i < MEMCMP; i++) {
        bool skip = (!strcmp(f->name, "fnstenv") || !strcmp(f->name, "fnsave")) && i >= 12 && i < 28;
        if (!skip && h->mem[i] != k->mem[i]) {
            *at = i;
            return false;
        }
    }
    return true;
}

/* Returns a description of the first difference, or NULL. */
static const char *compare(const Form *f, const Out *h, const Out *k, char *why, size_t n)
{
    if (h->exc != k->exc) {
        snprintf(why, n, "exception: host %d, kestrel %d", h->exc, k->exc);
        return why;
    }
    bool tol_used = false;
    for (int i = 0; i < 8; i++) {
        F80v a = get_f80(h->img + 28 + 10 * i), b = get_f80(k->img + 28 + 10 * i);
        if (a.m == b.m && a.se == b.se)
            continue;
        if (f->trans && ulp_close(a, b)) {
            tol_used = true;
            continue;
        }
        snprintf(why, n, "st%d: host %04x:%016" PRIx64 ", kestrel %04x:%016" PRIx64, i, a.se, a.m,
                 b.se, b.m);
        return why;
    }
    static const char *const names[] = {"cw", "sw", "tw"};
    for (int w = 0; w < 3; w++) {
        uint16_t a = get16(h->img + 4 * w), b = get16(k->img + 4 * w);
        uint16_t ra = get16(h->img + 4 * w + 2), rb = get16(k->img + 4 * w + 2);
        if (w == 1 && f->trans) {
            a &= ~0x0200;
            b &= ~0x0200;
            if (tol_used) {
                /* A result a ulp apart may be on the other side of the
                 * smallest normal. */
                a &= ~0x0010;
                b &= ~0x0010;
            }
        }
        if (a != b || ra != rb) {
            snprintf(why, n, "%s: host %04x (%04x), kestrel %04x (%04x)", names[w], a, ra, b, rb);
            return why;
        }
    }
    if ((uint16_t)h->rax != (uint16_t)k->rax) {
        snprintf(why, n, "ax: host %04x, kestrel %04x", (unsigned)(uint16_t)h->rax,
                 (unsigned)(uint16_t)k->rax);
        return why;
    }
    if ((h->rflags & 0x8D5) != (k->rflags & 0x8D5)) {
        snprintf(why, n, "eflags: host %03x, kestrel %03x", (unsigned)(h->rflags & 0x8D5),
                 (unsigned)(k->rflags & 0x8D5));
        return why;
    }
    int at;
    if (!mem_compare(f, h, k, &at)) {
        snprintf(why, n, "memory at +%d: host %02x, kestrel %02x", at, h->mem[at], k->mem[at]);
        return why;
    }
    return NULL;
}

/* F2XM1 and FYL2XP1 are undefined outside -1 <= x <= 1 and |x| < 1 -
 * sqrt(2)/2 (SDM vol. 2): the soft back end is not compared there. */
static bool out_of_domain(const Form *f, const Case *c)
{
    if (f->dist != D_2XM1 && f->dist != D_LOGP1)
        return false;
    unsigned top = (get16(c->img + 4) >> 11) & 7;
    unsigned tw = get16(c->img + 8);
    if (((tw >> (2 * top)) & 3) == 3)
        return false; /* ST0 empty: a stack fault, defined */
    F80v v = get_f80(c->img + 28);
    unsigned e = v.se & 0x7FFF;
    if (e == 0x7FFF || e == 0 || !(v.m >> 63))
        return false; /* specials are defined */
    if (f->dist == D_2XM1)
        return e > 0x3FFF || (e == 0x3FFF && v.m != 1ull << 63);
    return e > 0x3FFD || (e == 0x3FFD && v.m > 0x95F619980C4336F7ull);
}

static void print_case(const Case *c)
{
    printf("      in: cw %04x sw %04x tw %04x", get16(c->img), get16(c->img + 4), get16(c->img + 8));
    for (int i = 0; i < 4; i++) {
        F80v v = get_f80(c->img + 28 + 10 * i);
        printf(" st%d %04x:%016" PRIx64, i, v.se, v.m);
    }
    printf("\n      mem:");
    for (int i = 0; i < 16; i++)
        printf(" %02x", c->mem[i]);
    printf(" eflags %03x\n", (unsigned)(c->rflags & 0x8D5));
}

static void print_out(const char *who, const Out *o)
{
    printf("      %s: cw %04x sw %04x tw %04x", who, get16(o->img), get16(o->img + 4),
           get16(o->img + 8));
    for (int i = 0; i < 3; i++) {
        F80v v = get_f80(o->img + 28 + 10 * i);
        printf(" st%d %04x:%016" PRIx64, i, v.se, v.m);
    }
    printf(" mem");
    for (int i = 0; i < 10; i++)
        printf(" %02x", o->mem[i]);
    printf("\n");
}

int main(int argc, char **argv)
{
    long cases = 100000;
    bool soft = false, verbose = false;
    const char *env = getenv("KESTREL_FPU_CASES");
    if (env && *env)
        cases = strtol(env, NULL, 0);
    uint64_t seed = rng_seed_env("FPU_SEED", 0x4b387);
    const char *filters[64];
    int nfilters = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--backend") && a + 1 < argc) {
            soft = !strcmp(argv[++a], "soft");
        } else if (!strcmp(argv[a], "-n") && a + 1 < argc) {
            cases = strtol(argv[++a], NULL, 0);
        } else if (!strcmp(argv[a], "-v")) {
            verbose = true;
        } else if (nfilters < 64) {
            filters[nfilters++] = argv[a];
        }
    }
    printf("x87 oracle: backend %s, %ld cases per form, seed %#" PRIx64 "\n",
           soft ? "soft" : "host", cases, seed);
    Kes k;
    kes_init(&k, soft);
    int passed = 0, failed = 0;
    long total = 0, skipped = 0;
    for (size_t fi = 0; fi < N_FORMS; fi++) {
        const Form *f = &forms[fi];
        if (nfilters) {
            bool hit = false;
            for (int q = 0; q < nfilters; q++)
                hit |= strstr(f->name, filters[q]) != NULL;
            if (!hit)
                continue;
        }
        Rng r = {seed};
        for (const char *p = f->name; *p; p++)
            r.s = (r.s ^ (uint8_t)*p) * 0x100000001b3ull;
        HostStub *hs = host_stub_new(f->bytes, f->len);
        kes_load_code(&k, f);
        long bad = 0;
        for (long n = 0; n < cases; n++) {
            Case c;
            Out ho, ko;
            gen_case(&r, f, &c);
            if (soft && out_of_domain(f, &c)) {
                skipped++;
                continue;
            }
            host_exec(hs, &c, &ho);
            kes_run(&k, &c, &ko);
            char why[256];
            if (compare(f, &ho, &ko, why, sizeof why)) {
                if (bad < (verbose ? 20 : 3)) {
                    printf("  %-16s case %ld: %s\n", f->name, n, why);
                    print_case(&c);
                    print_out("host", &ho);
                    print_out("kes ", &ko);
                }
                bad++;
            }
        }
        host_stub_free(hs);
        total += cases;
        if (bad) {
            printf("%-18s FAIL %ld/%ld\n", f->name, bad, cases);
            failed++;
        } else {
            if (verbose)
                printf("%-18s ok\n", f->name);
            passed++;
        }
    }
    cpu_free(k.cpu);
    bus_destroy(&k.bus);
    free(k.ram);
    printf("%ld cases in %d forms (%ld outside F2XM1/FYL2XP1's domain not compared)\n", total,
           passed + failed, skipped);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
