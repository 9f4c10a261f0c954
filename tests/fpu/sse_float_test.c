/* The SSE soft-float oracle: the host's own SSE/SSE2 unit is the reference
 * for cpu/sse_float.c.
 *
 * For every form below (one scalar SSE/SSE2 instruction and the
 * sse_float.h function that implements it) the driver makes N cases: the
 * operands and an MXCSR with every exception masked, no flag set, and the
 * case number picking one of the 16 combinations of RC (4 modes), DAZ and
 * FZ.  Each case runs on the host as one `asm volatile` block
 * (LDMXCSR / the instruction / STMXCSR, then the test's own MXCSR back), and
 * through sse_float.c; the result bits and the six exception flags must be
 * identical.
 *
 * Operands mix random bit patterns with specials (zeros, the smallest and
 * largest denormals and normals, infinities, QNaNs and SNaNs with random
 * payloads, values near 1), values near the exponent range's ends, short
 * significands (whose products, quotients and sums are often exact or
 * halfway cases), second operands tied to the first (near it for add/sub
 * cancellation; scaled so that a product or quotient lands at the overflow
 * or underflow boundary), squares for SQRT, values near +-2^31 and
 * half-integers for the integer conversions, and binary64 values at the
 * binary32 range's ends and at binary32 halfway points for CVTSD2SS.
 *
 * RCPSS/RSQRTSS are matched bit for bit too (sse_float.c reproduces the
 * Intel results); besides the random cases they get a sweep over both
 * signs, all 256 exponents and all 2048 leading-fraction-bit patterns, and
 * `--exhaustive` checks all 2^32 inputs.  On a host whose RCPSS differs
 * (other vendors; the SDM only promises |relative error| <= 1.5 * 2^-12,
 * SDM vol. 2, RCPSS/RSQRTSS) these two forms would fail; KESTREL_RCP_BOUND=1
 * then checks the bound and the exact special cases instead.
 *
 * Usage: sse_float_test [-n CASES] [-v] [--exhaustive] [FILTER...]
 *   KESTREL_FPU_CASES  cases per form (default 100000)
 *   FPU_SEED           PRNG seed
 * Prints one line per failing form with its first failing case (operands,
 * MXCSR, host and Kestrel results and flags) and how many cases failed, then
 * "N passed, M failed" (forms); exit status 0 iff nothing failed.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/common/rng.h"
#include "cpu/sse_float.h"

/* ---- host operations --------------------------------------------------------- */

/* Every host operation is one asm block: save the test's MXCSR, load the
 * case's, run the instruction, store the MXCSR with its flags, restore the
 * test's.  `volatile` and the register/memory operands keep the compiler
 * from folding or moving any of it. */
typedef uint64_t (*OpFn)(uint64_t a, uint64_t b, uint32_t mx, uint32_t *flags);

#define HOST_BIN(fn, insn, mova, movr, T)                                                          \
    static uint64_t fn(uint64_t a, uint64_t b, uint32_t mx, uint32_t *fl)                          \
    {                                                                                              \
        T r = (T)a, bb = (T)b;                                                                     \
        uint32_t m = mx, save;                                                                     \
        __asm__ volatile("stmxcsr %[save]\n\t"                                                     \
                         "ldmxcsr %[m]\n\t" mova " %[r], %%xmm0\n\t" mova " %[b], %%xmm1\n\t" insn \
                         " %%xmm1, %%xmm0\n\t"                                                     \
                         "stmxcsr %[m]\n\t"                                                        \
                         "ldmxcsr %[save]\n\t" movr " %%xmm0, %[r]"                                \
                         : [r] "+r"(r), [m] "+m"(m), [save] "=m"(save)                             \
                         : [b] "r"(bb)                                                             \
                         : "xmm0", "xmm1");                                                        \
        *fl = m & MXCSR_FLAGS;                                                                     \
        return r;                                                                                  \
    }

/* One source (a), converted into a destination of another width. */
#define HOST_UN(fn, insn, mova, movr, TA, TR)                                                      \
    static uint64_t fn(uint64_t a, uint64_t b, uint32_t mx, uint32_t *fl)                          \
    {                                                                                              \
        (void)b;                                                                                   \
        TA aa = (TA)a;                                                                             \
        TR r;                                                                                      \
        uint32_t m = mx, save;                                                                     \
        __asm__ volatile("stmxcsr %[save]\n\t"                                                     \
                         "ldmxcsr %[m]\n\t"                                                        \
                         "xorps %%xmm0, %%xmm0\n\t" mova " %[a], %%xmm1\n\t" insn                   \
                         " %%xmm1, %%xmm0\n\t"                                                     \
                         "stmxcsr %[m]\n\t"                                                        \
                         "ldmxcsr %[save]\n\t" movr " %%xmm0, %[r]"                                \
                         : [r] "=r"(r), [m] "+m"(m), [save] "=m"(save)                             \
                         : [a] "r"(aa)                                                             \
                         : "xmm0", "xmm1");                                                        \
        *fl = m & MXCSR_FLAGS;                                                                     \
        return r;                                                                                  \
    }

/* To a general register (CVT(T)SS2SI, CVT(T)SD2SI). */
#define HOST_TOINT(fn, insn, mova, TA)                                                             \
    static uint64_t fn(uint64_t a, uint64_t b, uint32_t mx, uint32_t *fl)                          \
    {                                                                                              \
        (void)b;                                                                                   \
        TA aa = (TA)a;                                                                             \
        uint32_t r, m = mx, save;                                                                  \
        __asm__ volatile("stmxcsr %[save]\n\t"                                                     \
                         "ldmxcsr %[m]\n\t" mova " %[a], %%xmm1\n\t" insn " %%xmm1, %[r]\n\t"      \
                         "stmxcsr %[m]\n\t"                                                        \
                         "ldmxcsr %[save]"                                                         \
                         : [r] "=r"(r), [m] "+m"(m), [save] "=m"(save)                             \
                         : [a] "r"(aa)                                                             \
                         : "xmm1");                                                                \
        *fl = m & MXCSR_FLAGS;                                                                     \
        return r;                                                                                  \
    }

/* From a general register (CVTSI2SS, CVTSI2SD). */
#define HOST_FROMINT(fn, insn, movr, TR)                                                           \
    static uint64_t fn(uint64_t a, uint64_t b, uint32_t mx, uint32_t *fl)                          \
    {                                                                                              \
        (void)b;                                                                                   \
        uint32_t aa = (uint32_t)a, m = mx, save;                                                   \
        TR r;                                                                                      \
        __asm__ volatile("stmxcsr %[save]\n\t"                                                     \
                         "ldmxcsr %[m]\n\t"                                                        \
                         "xorps %%xmm0, %%xmm0\n\t" insn " %[a], %%xmm0\n\t"                        \
                         "stmxcsr %[m]\n\t"                                                        \
                         "ldmxcsr %[save]\n\t" movr " %%xmm0, %[r]"                                \
                         : [r] "=r"(r), [m] "+m"(m), [save] "=m"(save)                             \
                         : [a] "r"(aa)                                                             \
                         : "xmm0");                                                                \
        *fl = m & MXCSR_FLAGS;                                                                     \
        return r;                                                                                  \
    }

/* COMISS, UCOMISS, COMISD, UCOMISD: ZF, PF, CF give the relation (SDM vol. 2, COMISS). */
#define HOST_COMI(fn, insn, mova, T)                                                               \
    static uint64_t fn(uint64_t a, uint64_t b, uint32_t mx, uint32_t *fl)                          \
    {                                                                                              \
        T aa = (T)a, bb = (T)b;                                                                    \
        uint8_t z, p, c;                                                                           \
        uint32_t m = mx, save;                                                                     \
        __asm__ volatile("stmxcsr %[save]\n\t"                                                     \
                         "ldmxcsr %[m]\n\t" mova " %[a], %%xmm0\n\t" mova " %[b], %%xmm1\n\t" insn \
                         " %%xmm1, %%xmm0\n\t"                                                     \
                         "setz %[z]\n\t"                                                           \
                         "setp %[p]\n\t"                                                           \
                         "setc %[c]\n\t"                                                           \
                         "stmxcsr %[m]\n\t"                                                        \
                         "ldmxcsr %[save]"                                                         \
                         : [z] "=q"(z), [p] "=q"(p), [c] "=q"(c), [m] "+m"(m), [save] "=m"(save)   \
                         : [a] "r"(aa), [b] "r"(bb)                                                \
                         : "xmm0", "xmm1", "cc");                                                  \
        *fl = m & MXCSR_FLAGS;                                                                     \
        if (p)                                                                                     \
            return FCMP_UN;                                                                        \
        return z ? FCMP_EQ : c ? FCMP_LT : FCMP_GT;                                                \
    }

HOST_BIN(h_addss, "addss", "movd", "movd", uint32_t)
HOST_BIN(h_subss, "subss", "movd", "movd", uint32_t)
HOST_BIN(h_mulss, "mulss", "movd", "movd", uint32_t)
HOST_BIN(h_divss, "divss", "movd", "movd", uint32_t)
HOST_BIN(h_minss, "minss", "movd", "movd", uint32_t)
HOST_BIN(h_maxss, "maxss", "movd", "movd", uint32_t)
HOST_BIN(h_addsd, "addsd", "movq", "movq", uint64_t)
HOST_BIN(h_subsd, "subsd", "movq", "movq", uint64_t)
HOST_BIN(h_mulsd, "mulsd", "movq", "movq", uint64_t)
HOST_BIN(h_divsd, "divsd", "movq", "movq", uint64_t)
HOST_BIN(h_minsd, "minsd", "movq", "movq", uint64_t)
HOST_BIN(h_maxsd, "maxsd", "movq", "movq", uint64_t)
HOST_UN(h_sqrtss, "sqrtss", "movd", "movd", uint32_t, uint32_t)
HOST_UN(h_sqrtsd, "sqrtsd", "movq", "movq", uint64_t, uint64_t)
HOST_UN(h_rcpss, "rcpss", "movd", "movd", uint32_t, uint32_t)
HOST_UN(h_rsqrtss, "rsqrtss", "movd", "movd", uint32_t, uint32_t)
HOST_UN(h_cvtss2sd, "cvtss2sd", "movd", "movq", uint32_t, uint64_t)
HOST_UN(h_cvtsd2ss, "cvtsd2ss", "movq", "movd", uint64_t, uint32_t)
HOST_TOINT(h_cvtss2si, "cvtss2si", "movd", uint32_t)
HOST_TOINT(h_cvttss2si, "cvttss2si", "movd", uint32_t)
HOST_TOINT(h_cvtsd2si, "cvtsd2si", "movq", uint64_t)
HOST_TOINT(h_cvttsd2si, "cvttsd2si", "movq", uint64_t)
HOST_FROMINT(h_cvtsi2ss, "cvtsi2ssl", "movd", uint32_t)
HOST_FROMINT(h_cvtsi2sd, "cvtsi2sdl", "movq", uint64_t)
HOST_COMI(h_comiss, "comiss", "movd", uint32_t)
HOST_COMI(h_ucomiss, "ucomiss", "movd", uint32_t)
HOST_COMI(h_comisd, "comisd", "movq", uint64_t)
HOST_COMI(h_ucomisd, "ucomisd", "movq", uint64_t)

/* CMPSS/CMPSD with each imm8 predicate; the all-ones mask becomes 1. */
#define HOST_CMP(fn, insn, mova, T, imm)                                                           \
    static uint64_t fn(uint64_t a, uint64_t b, uint32_t mx, uint32_t *fl)                          \
    {                                                                                              \
        T r = (T)a, bb = (T)b;                                                                     \
        uint32_t m = mx, save;                                                                     \
        __asm__ volatile("stmxcsr %[save]\n\t"                                                     \
                         "ldmxcsr %[m]\n\t" mova " %[r], %%xmm0\n\t" mova " %[b], %%xmm1\n\t" insn \
                         " $" #imm ", %%xmm1, %%xmm0\n\t"                                          \
                         "stmxcsr %[m]\n\t"                                                        \
                         "ldmxcsr %[save]\n\t" mova " %%xmm0, %[r]"                                \
                         : [r] "+r"(r), [m] "+m"(m), [save] "=m"(save)                             \
                         : [b] "r"(bb)                                                             \
                         : "xmm0", "xmm1");                                                        \
        *fl = m & MXCSR_FLAGS;                                                                     \
        return r == (T)-1 ? 1 : r == 0 ? 0 : 2;                                                    \
    }
#define HOST_CMPS(imm)                                                                             \
    HOST_CMP(h_cmpss##imm, "cmpss", "movd", uint32_t, imm)                                         \
    HOST_CMP(h_cmpsd##imm, "cmpsd", "movq", uint64_t, imm)
HOST_CMPS(0)
HOST_CMPS(1)
HOST_CMPS(2)
HOST_CMPS(3)
HOST_CMPS(4)
HOST_CMPS(5)
HOST_CMPS(6)
HOST_CMPS(7)

/* ---- the same operations in sse_float.c ------------------------------------- */

#define SOFT_BIN(fn, call, T)                                                                      \
    static uint64_t fn(uint64_t a, uint64_t b, uint32_t mx, uint32_t *fl)                          \
    {                                                                                              \
        SseFp e = {mx, 0};                                                                         \
        uint64_t r = call(&e, (T)a, (T)b);                                                         \
        *fl = e.flags;                                                                           \
        return r;                                                                                  \
    }
#define SOFT_UN(fn, call, T)                                                                       \
    static uint64_t fn(uint64_t a, uint64_t b, uint32_t mx, uint32_t *fl)                          \
    {                                                                                              \
        (void)b;                                                                                   \
        SseFp e = {mx, 0};                                                                         \
        uint64_t r = call(&e, (T)a);                                                               \
        *fl = e.flags;                                                                           \
        return r;                                                                                  \
    }
#define SOFT_TOINT(fn, call, T, trunc)                                                             \
    static uint64_t fn(uint64_t a, uint64_t b, uint32_t mx, uint32_t *fl)                          \
    {                                                                                              \
        (void)b;                                                                                   \
        SseFp e = {mx, 0};                                                                         \
        uint64_t r = call(&e, (T)a, trunc);                                                        \
        *fl = e.flags;                                                                           \
        return r;                                                                                  \
    }
#define SOFT_COMI(fn, call, T, sig)                                                                \
    static uint64_t fn(uint64_t a, uint64_t b, uint32_t mx, uint32_t *fl)                          \
    {                                                                                              \
        SseFp e = {mx, 0};                                                                         \
        uint64_t r = (uint64_t)call(&e, (T)a, (T)b, sig);                                          \
        *fl = e.flags;                                                                           \
        return r;                                                                                  \
    }
#define SOFT_APPROX(fn, call)                                                                      \
    static uint64_t fn(uint64_t a, uint64_t b, uint32_t mx, uint32_t *fl)                          \
    {                                                                                              \
        (void)b;                                                                                   \
        (void)mx;                                                                                  \
        *fl = 0;                                                                                   \
        return call((uint32_t)a);                                                                  \
    }

SOFT_BIN(s_addss, f32_add, uint32_t)
SOFT_BIN(s_subss, f32_sub, uint32_t)
SOFT_BIN(s_mulss, f32_mul, uint32_t)
SOFT_BIN(s_divss, f32_div, uint32_t)
SOFT_BIN(s_minss, f32_min, uint32_t)
SOFT_BIN(s_maxss, f32_max, uint32_t)
SOFT_BIN(s_addsd, f64_add, uint64_t)
SOFT_BIN(s_subsd, f64_sub, uint64_t)
SOFT_BIN(s_mulsd, f64_mul, uint64_t)
SOFT_BIN(s_divsd, f64_div, uint64_t)
SOFT_BIN(s_minsd, f64_min, uint64_t)
SOFT_BIN(s_maxsd, f64_max, uint64_t)
SOFT_UN(s_sqrtss, f32_sqrt, uint32_t)
SOFT_UN(s_sqrtsd, f64_sqrt, uint64_t)
SOFT_UN(s_cvtss2sd, f32_to_f64, uint32_t)
SOFT_UN(s_cvtsd2ss, f64_to_f32, uint64_t)
SOFT_UN(s_cvtsi2ss, i32_to_f32, int32_t)
SOFT_UN(s_cvtsi2sd, i32_to_f64, int32_t)
SOFT_TOINT(s_cvtss2si, f32_to_i32, uint32_t, false)
SOFT_TOINT(s_cvttss2si, f32_to_i32, uint32_t, true)
SOFT_TOINT(s_cvtsd2si, f64_to_i32, uint64_t, false)
SOFT_TOINT(s_cvttsd2si, f64_to_i32, uint64_t, true)
SOFT_COMI(s_comiss, f32_compare, uint32_t, true)
SOFT_COMI(s_ucomiss, f32_compare, uint32_t, false)
SOFT_COMI(s_comisd, f64_compare, uint64_t, true)
SOFT_COMI(s_ucomisd, f64_compare, uint64_t, false)
SOFT_APPROX(s_rcpss, f32_rcp)
SOFT_APPROX(s_rsqrtss, f32_rsqrt)

#define SOFT_CMP(imm)                                                                              \
    static uint64_t s_cmpss##imm(uint64_t a, uint64_t b, uint32_t mx, uint32_t *fl)                \
    {                                                                                              \
        SseFp e = {mx, 0};                                                                         \
        uint64_t r = f32_cmp(&e, (uint32_t)a, (uint32_t)b, imm);                                   \
        *fl = e.flags;                                                                           \
        return r;                                                                                  \
    }                                                                                              \
    static uint64_t s_cmpsd##imm(uint64_t a, uint64_t b, uint32_t mx, uint32_t *fl)                \
    {                                                                                              \
        SseFp e = {mx, 0};                                                                         \
        uint64_t r = f64_cmp(&e, a, b, imm);                                                       \
        *fl = e.flags;                                                                           \
        return r;                                                                                  \
    }
SOFT_CMP(0)
SOFT_CMP(1)
SOFT_CMP(2)
SOFT_CMP(3)
SOFT_CMP(4)
SOFT_CMP(5)
SOFT_CMP(6)
SOFT_CMP(7)

/* ---- forms ------------------------------------------------------------------- */

enum { T_F32, T_F64, T_I32, T_NONE };
/* What kind of operands make interesting cases. */
enum { G_ADD, G_MUL, G_DIV, G_SQRT, G_CMP, G_TOINT, G_NARROW, G_WIDEN, G_FROMINT, G_APPROX };

typedef struct Form {
    const char *name;
    int ta, tb, tr; /* operand and result types (tr T_NONE: a small code) */
    int gen;
    OpFn host, soft;
} Form;

#define CMP_FORMS(imm, pname)                                                                      \
    {"cmp" pname "ss", T_F32, T_F32, T_NONE, G_CMP, h_cmpss##imm, s_cmpss##imm},                   \
    {                                                                                              \
        "cmp" pname "sd", T_F64, T_F64, T_NONE, G_CMP, h_cmpsd##imm, s_cmpsd##imm                  \
    }

static const Form forms[] = {
    {"addss", T_F32, T_F32, T_F32, G_ADD, h_addss, s_addss},
    {"subss", T_F32, T_F32, T_F32, G_ADD, h_subss, s_subss},
    {"mulss", T_F32, T_F32, T_F32, G_MUL, h_mulss, s_mulss},
    {"divss", T_F32, T_F32, T_F32, G_DIV, h_divss, s_divss},
    {"sqrtss", T_F32, T_NONE, T_F32, G_SQRT, h_sqrtss, s_sqrtss},
    {"minss", T_F32, T_F32, T_F32, G_CMP, h_minss, s_minss},
    {"maxss", T_F32, T_F32, T_F32, G_CMP, h_maxss, s_maxss},
    {"addsd", T_F64, T_F64, T_F64, G_ADD, h_addsd, s_addsd},
    {"subsd", T_F64, T_F64, T_F64, G_ADD, h_subsd, s_subsd},
    {"mulsd", T_F64, T_F64, T_F64, G_MUL, h_mulsd, s_mulsd},
    {"divsd", T_F64, T_F64, T_F64, G_DIV, h_divsd, s_divsd},
    {"sqrtsd", T_F64, T_NONE, T_F64, G_SQRT, h_sqrtsd, s_sqrtsd},
    {"minsd", T_F64, T_F64, T_F64, G_CMP, h_minsd, s_minsd},
    {"maxsd", T_F64, T_F64, T_F64, G_CMP, h_maxsd, s_maxsd},
    CMP_FORMS(0, "eq"),
    CMP_FORMS(1, "lt"),
    CMP_FORMS(2, "le"),
    CMP_FORMS(3, "unord"),
    CMP_FORMS(4, "neq"),
    CMP_FORMS(5, "nlt"),
    CMP_FORMS(6, "nle"),
    CMP_FORMS(7, "ord"),
    {"comiss", T_F32, T_F32, T_NONE, G_CMP, h_comiss, s_comiss},
    {"ucomiss", T_F32, T_F32, T_NONE, G_CMP, h_ucomiss, s_ucomiss},
    {"comisd", T_F64, T_F64, T_NONE, G_CMP, h_comisd, s_comisd},
    {"ucomisd", T_F64, T_F64, T_NONE, G_CMP, h_ucomisd, s_ucomisd},
    {"cvtss2sd", T_F32, T_NONE, T_F64, G_WIDEN, h_cvtss2sd, s_cvtss2sd},
    {"cvtsd2ss", T_F64, T_NONE, T_F32, G_NARROW, h_cvtsd2ss, s_cvtsd2ss},
    {"cvtsi2ss", T_I32, T_NONE, T_F32, G_FROMINT, h_cvtsi2ss, s_cvtsi2ss},
    {"cvtsi2sd", T_I32, T_NONE, T_F64, G_FROMINT, h_cvtsi2sd, s_cvtsi2sd},
    {"cvtss2si", T_F32, T_NONE, T_I32, G_TOINT, h_cvtss2si, s_cvtss2si},
    {"cvttss2si", T_F32, T_NONE, T_I32, G_TOINT, h_cvttss2si, s_cvttss2si},
    {"cvtsd2si", T_F64, T_NONE, T_I32, G_TOINT, h_cvtsd2si, s_cvtsd2si},
    {"cvttsd2si", T_F64, T_NONE, T_I32, G_TOINT, h_cvttsd2si, s_cvttsd2si},
    {"rcpss", T_F32, T_NONE, T_F32, G_APPROX, h_rcpss, s_rcpss},
    {"rsqrtss", T_F32, T_NONE, T_F32, G_APPROX, h_rsqrtss, s_rsqrtss},
};
#define NFORMS (sizeof forms / sizeof forms[0])

/* ---- operand generation ------------------------------------------------------ */

typedef struct Ft {
    int fbits, ebits;
    uint64_t emax, bias;
} Ft;
static const Ft FT32 = {23, 8, 0xFF, 127};
static const Ft FT64 = {52, 11, 0x7FF, 1023};

static uint64_t fmask(const Ft *t) { return (1ull << t->fbits) - 1; }
static uint64_t mk(const Ft *t, bool s, uint64_t ex, uint64_t fr)
{
    return (uint64_t)s << (t->fbits + t->ebits) | (ex & t->emax) << t->fbits | (fr & fmask(t));
}
static uint64_t exp_of(const Ft *t, uint64_t v) { return (v >> t->fbits) & t->emax; }

/* Clamp an exponent computed in int64 to the finite range [0, emax-1]. */
static uint64_t clamp_exp(const Ft *t, int64_t e)
{
    return e < 0 ? 0 : e > (int64_t)t->emax - 1 ? t->emax - 1 : (uint64_t)e;
}

/* A fraction with only its top k bits random (k 0..fbits/2+1). */
static uint64_t short_frac(Rng *r, const Ft *t)
{
    int k = (int)rng_below(r, (uint32_t)(t->fbits / 2 + 2));
    uint64_t f = rng_next64(r) & fmask(t);
    return k ? f & ~(fmask(t) >> k) : 0;
}

static uint64_t edge_frac(Rng *r, const Ft *t)
{
    switch (rng_below(r, 6)) {
    case 0: return 0;
    case 1: return fmask(t);
    case 2: return rng_below(r, 4);
    case 3: return fmask(t) - rng_below(r, 4);
    case 4: return short_frac(r, t);
    default: return rng_next64(r);
    }
}

static uint64_t gen_special(Rng *r, const Ft *t, bool s)
{
    switch (rng_below(r, 12)) {
    case 0: return mk(t, s, 0, 0);                                      /* zero */
    case 1: return mk(t, s, 0, 1);                                      /* min denormal */
    case 2: return mk(t, s, 0, fmask(t));                               /* max denormal */
    case 3: return mk(t, s, 1, 0);                                      /* min normal */
    case 4: return mk(t, s, t->emax - 1, fmask(t));                     /* max normal */
    case 5: return mk(t, s, t->emax, 0);                                /* infinity */
    case 6: return mk(t, s, t->bias, 0);                                /* 1 */
    case 7: return mk(t, true, t->emax, 1ull << (t->fbits - 1));        /* indefinite */
    case 8: return mk(t, s, t->emax, (1ull << (t->fbits - 1)) | rng_next64(r)); /* QNaN */
    case 9: return mk(t, s, t->emax, (rng_next64(r) & (fmask(t) >> 1)) | 1); /* SNaN */
    case 10: return mk(t, s, t->bias, 1);
    default: return mk(t, s, t->bias - 1, fmask(t));
    }
}

static uint64_t gen_float(Rng *r, const Ft *t, int gen)
{
    bool s = rng_next64(r) & 1;
    switch (rng_below(r, 16)) {
    case 0:
    case 1: return gen_special(r, t, s);
    case 2:
    case 3: return rng_next64(r) & (t->fbits == 23 ? 0xFFFFFFFFull : ~0ull);
    case 4: return mk(t, s, 0, edge_frac(r, t));                       /* denormal */
    case 5: return mk(t, s, 1 + rng_below(r, 3), edge_frac(r, t));     /* smallest normals */
    case 6: return mk(t, s, t->bias - 1 + rng_below(r, 2), edge_frac(r, t)); /* near 1 */
    case 7: return mk(t, s, t->emax - 1 - rng_below(r, 3), edge_frac(r, t)); /* largest */
    case 8: return mk(t, s, t->emax, rng_next64(r) | rng_below(r, 2));  /* NaNs, rarely inf */
    case 9:
    case 10: return mk(t, s, t->bias - 40 + rng_below(r, 81), short_frac(r, t));
    case 11: return mk(t, s, rng_below(r, (uint32_t)t->emax), short_frac(r, t));
    default: break;
    }
    /* Operation-specific operands. */
    if (gen == G_TOINT) {
        /* Around +-2^31 and small halves: exponents -2..33. */
        uint64_t ex = t->bias - 2 + rng_below(r, 36);
        if (rng_below(r, 2))
            ex = t->bias + 30 + rng_below(r, 3);
        return mk(t, s, ex, rng_below(r, 2) ? short_frac(r, t) : edge_frac(r, t));
    }
    if (gen == G_NARROW) {
        /* The binary32 range's ends, and binary32 halfway points: the low
         * 29 fraction bits are what CVTSD2SS rounds away. */
        static const uint32_t lows[] = {0, 0x10000000, 0x0FFFFFFF, 0x10000001, 1, 0x1FFFFFFF};
        uint64_t ex;
        switch (rng_below(r, 4)) {
        case 0: ex = 1023 - 126 - rng_below(r, 26); break; /* binary32 denormals */
        case 1: ex = 1023 - 128 + rng_below(r, 4); break;
        case 2: ex = 1023 + 125 + rng_below(r, 4); break;
        default: ex = 1023 - 60 + rng_below(r, 120); break;
        }
        uint64_t lo = rng_below(r, 3) ? lows[rng_below(r, 6)] : (rng_next64(r) & 0x1FFFFFFF);
        uint64_t hi =
            rng_below(r, 2) ? (rng_next64(r) & 0x7FFFFF) : (rng_below(r, 2) ? 0x7FFFFF : 0);
        return mk(t, s, ex, hi << 29 | lo);
    }
    if (gen == G_SQRT && rng_below(r, 2)) {
        /* Squares of short significands: exact or halfway roots. */
        uint64_t q = mk(t, false, t->bias - 30 + rng_below(r, 61), short_frac(r, t));
        uint32_t fl;
        return t->fbits == 23 ? h_mulss(q, q, 0x1F80, &fl) : h_mulsd(q, q, 0x1F80, &fl);
    }
    return mk(t, s, rng_below(r, (uint32_t)t->emax + 1), rng_next64(r));
}

/* The second operand: often tied to the first. */
static uint64_t gen_partner(Rng *r, const Ft *t, uint64_t a, int gen)
{
    if (rng_below(r, 2))
        return gen_float(r, t, gen);
    bool s = rng_next64(r) & 1;
    int64_t ea = (int64_t)exp_of(t, a);
    if (ea == 0)
        ea = 1;
    if (ea == (int64_t)t->emax)
        ea = (int64_t)t->emax - 1;
    switch (rng_below(r, 6)) {
    case 5:
        if ((gen == G_MUL || gen == G_DIV) && ea > 0 && (a & ~(1ull << (t->fbits + t->ebits))) &&
            exp_of(t, a) != t->emax) {
            /* A few ulps from a result at the edge of the range: the
             * largest denormals, the smallest normals (tininess after
             * rounding) and the largest normals.  The host's own division
             * finds the partner; only the test uses host arithmetic. */
            uint64_t target;
            switch (rng_below(r, 3)) {
            case 0: target = mk(t, s, 0, fmask(t) - rng_below(r, 4)); break;
            case 1: target = mk(t, s, 1, rng_below(r, 4)); break;
            default: target = mk(t, s, t->emax - 1, fmask(t) - rng_below(r, 4)); break;
            }
            uint32_t fl;
            OpFn div = t->fbits == 23 ? h_divss : h_divsd;
            uint64_t b = gen == G_MUL ? div(target, a, 0x1F80, &fl) : div(a, target, 0x1F80, &fl);
            return b + rng_below(r, 5) - 2;
        }
        return gen_float(r, t, gen);
    case 0: {
        /* Near a: cancellation, rounding at every alignment. */
        int64_t d = (int64_t)rng_below(r, (uint32_t)(2 * t->fbits + 7)) - (t->fbits + 3);
        uint64_t f;
        switch (rng_below(r, 3)) {
        case 0: f = a + rng_below(r, 5) - 2; break;
        case 1: f = 0; break;
        default: f = rng_next64(r); break;
        }
        return mk(t, s, clamp_exp(t, ea + d), f);
    }
    case 1:
    case 2: {
        /* The product (gen MUL) or quotient (DIV) lands near the smallest
         * normal, the denormal range, 1 or the largest finite number. */
        int64_t target;
        switch (rng_below(r, 4)) {
        case 0: target = 1 + (int64_t)rng_below(r, 4) - 2; break;
        case 1: target = -(int64_t)rng_below(r, (uint32_t)t->fbits + 3); break;
        case 2: target = (int64_t)t->emax - 1 - (int64_t)rng_below(r, 3) + 1; break;
        default: target = (int64_t)t->bias; break;
        }
        int64_t eb = gen == G_DIV ? ea - target + (int64_t)t->bias
                                  : target - ea + (int64_t)t->bias;
        uint64_t f = rng_below(r, 2) ? short_frac(r, t) : edge_frac(r, t);
        if (gen == G_DIV && rng_below(r, 3) == 0)
            f = a; /* same significand: exact powers of two */
        return mk(t, s, clamp_exp(t, eb), f);
    }
    case 3: return a ^ ((uint64_t)rng_below(r, 2) << (t->fbits + t->ebits)); /* +-a */
    default: return mk(t, s, exp_of(t, a), a + rng_below(r, 3) - 1);
    }
}

static uint64_t gen_int(Rng *r)
{
    static const uint32_t sp[] = {0,          1,          0xFFFFFFFF, 0x80000000, 0x7FFFFFFF,
                                  0x80000001, 0x01000000, 0x01000001, 0xFEFFFFFF, 0x7FFFFFC0,
                                  0x7FFFFF80, 0x7FFFFF40, 0x00FFFFFF, 0x02000003};
    switch (rng_below(r, 4)) {
    case 0: return sp[rng_below(r, sizeof sp / sizeof sp[0])];
    case 1: return (uint32_t)rng_next64(r);
    case 2: {
        uint32_t v = (uint32_t)rng_next64(r) >> rng_below(r, 32);
        return rng_below(r, 2) ? 0u - v : v;
    }
    default: {
        /* 2^k plus or minus a little: ties and near-ties. */
        uint32_t v = (1u << (23 + rng_below(r, 9))) + rng_below(r, 256) - 128;
        return rng_below(r, 2) ? 0u - v : v;
    }
    }
}

static uint64_t gen_operand(Rng *r, int type, int gen)
{
    switch (type) {
    case T_F32: return gen_float(r, &FT32, gen);
    case T_F64: return gen_float(r, &FT64, gen);
    case T_I32: return gen_int(r);
    default: return 0;
    }
}

/* ---- running ----------------------------------------------------------------- */

static int width(int type) { return type == T_F64 ? 16 : type == T_NONE ? 1 : 8; }

/* Counts, and the first failure's reproducer line. */
typedef struct Stats {
    uint64_t cases, failed;
    char first[200];
} Stats;

static const uint32_t MX_BASE = 0x1F80; /* all exceptions masked */

static uint32_t mxcsr_of(uint64_t i)
{
    uint32_t c = (uint32_t)(i & 15);
    return MX_BASE | (c & 3) << MXCSR_RC_SHIFT | (c & 4 ? MXCSR_DAZ : 0) | (c & 8 ? MXCSR_FZ : 0);
}

static void check(const Form *f, Stats *st, uint64_t a, uint64_t b, uint32_t mx)
{
    uint32_t hf, sf;
    uint64_t hr = f->host(a, b, mx, &hf);
    uint64_t sr = f->soft(a, b, mx, &sf);
    st->cases++;
    if (hr == sr && hf == sf)
        return;
    if (st->failed++)
        return;
    int wr = width(f->tr);
    char bs[40] = "";
    if (f->tb != T_NONE)
        snprintf(bs, sizeof bs, " b=%0*" PRIx64, width(f->tb), b);
    snprintf(st->first, sizeof st->first,
             "a=%0*" PRIx64 "%s mxcsr=%04x: host %0*" PRIx64 " flags %02x, kestrel %0*" PRIx64
             " flags %02x",
             width(f->ta), a, bs, mx, wr, hr, hf, wr, sr, sf);
}

/* RCPSS/RSQRTSS sweep: both signs, every exponent, every pattern of the top
 * 11 fraction bits (what the Intel results depend on), random low bits. */
static void sweep_approx(const Form *f, Stats *st, Rng *r)
{
    for (uint32_t s = 0; s < 2; s++)
        for (uint32_t ex = 0; ex < 256; ex++)
            for (uint32_t i = 0; i < 2048; i++) {
                uint32_t a = s << 31 | ex << 23 | i << 12 | (uint32_t)(rng_next64(r) & 0xFFF);
                check(f, st, a, 0, mxcsr_of(rng_next64(r)));
            }
}

static void exhaustive_approx(const Form *f, Stats *st)
{
    uint32_t a = 0;
    do {
        check(f, st, a, 0, MX_BASE);
    } while (++a);
}

/* The SDM's bound instead of bit equality (KESTREL_RCP_BOUND=1, for hosts
 * whose RCPSS/RSQRTSS tables differ): special cases exact, else
 * |relative error| <= 1.5 * 2^-12 (SDM vol. 2, RCPSS and RSQRTSS), measured
 * against the exact quotient/root in 128-bit integers.  Returns true when
 * acceptable. */
static bool approx_within_bound(bool rsqrt, uint32_t a, uint32_t got)
{
    uint32_t ex = (a >> 23) & 0xFF, s = a & 0x80000000u;
    if (ex == 0xFF || ex == 0 || (rsqrt && s))
        return got == (rsqrt ? f32_rsqrt(a) : f32_rcp(a));
    if (((got >> 23) & 0xFF) == 0)
        return got == s && !rsqrt; /* flushed (only 1/x can be tiny) */
    if ((got & 0x80000000u) != s || ((got >> 23) & 0xFF) == 0xFF)
        return false;
    /* x = mx * 2^(ex-150), y = my * 2^(ey-150); check |x*y - 1| (rcp) or
     * |x*y*y - 1| (rsqrt) <= 1.5 * 2^-12 exactly on integers.  The second
     * error form is about twice the first, so rsqrt compares
     * |x y^2 - 1| <= 2 * 1.5 * 2^-12 + (1.5 * 2^-12)^2 (< 3.0006 * 2^-12). */
    unsigned __int128 mx = (a & 0x7FFFFF) | 0x800000, my = (got & 0x7FFFFF) | 0x800000;
    int ey = (int)((got >> 23) & 0xFF);
    int e2 = (int)ex - 150 + (rsqrt ? 2 : 1) * (ey - 150); /* exponent of the product */
    unsigned __int128 p = rsqrt ? mx * my * my : mx * my;
    if (e2 >= 0 || e2 < -100)
        return false;
    unsigned __int128 one = (unsigned __int128)1 << -e2;
    unsigned __int128 diff = p > one ? p - one : one - p;
    /* diff / one <= bound: rcp 3 * 2^-13, rsqrt ~3.0006 * 2^-12. */
    if (!rsqrt)
        return diff * 8192 <= one * 3;
    return diff * 4096 * 10000 <= one * 30006;
}

static void check_bound(const Form *f, Stats *st, uint32_t a)
{
    uint32_t hf;
    uint32_t got = (uint32_t)f->host(a, 0, MX_BASE, &hf);
    uint32_t mine = f->host == h_rsqrtss ? f32_rsqrt(a) : f32_rcp(a);
    bool rs = f->host == h_rsqrtss;
    st->cases++;
    if (hf == 0 && approx_within_bound(rs, a, got) && approx_within_bound(rs, a, mine))
        return;
    if (!st->failed++)
        snprintf(st->first, sizeof st->first,
                 "a=%08x (SDM bound): host %08x flags %02x, kestrel %08x", a, got, hf, mine);
}

static bool selected(const char *name, char **filt, int nfilt)
{
    if (!nfilt)
        return true;
    for (int i = 0; i < nfilt; i++)
        if (strstr(name, filt[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    long n = 100000;
    bool verbose = false, exhaustive = false;
    char *filt[64];
    int nfilt = 0;
    const char *env = getenv("KESTREL_FPU_CASES");
    if (env)
        n = strtol(env, NULL, 0);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n = strtol(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-v"))
            verbose = true;
        else if (!strcmp(argv[i], "--exhaustive"))
            exhaustive = true;
        else if (nfilt < 64)
            filt[nfilt++] = argv[i];
    }
    if (n < 1)
        n = 1;
    uint64_t seed = rng_seed_env("FPU_SEED", 0x5EEDF10A7ull);
    bool bound = getenv("KESTREL_RCP_BOUND") && atoi(getenv("KESTREL_RCP_BOUND"));

    unsigned passed = 0, failed = 0;
    uint64_t total = 0;
    clock_t t0 = clock();
    for (size_t k = 0; k < NFORMS; k++) {
        const Form *f = &forms[k];
        if (!selected(f->name, filt, nfilt))
            continue;
        Rng r = {seed ^ (0x9E37ull * (k + 1))};
        Stats st = {0, 0, ""};
        bool approx = f->gen == G_APPROX;
        if (approx && bound) {
            for (long i = 0; i < n; i++)
                check_bound(f, &st, (uint32_t)gen_operand(&r, f->ta, f->gen));
        } else {
            for (long i = 0; i < n; i++) {
                uint64_t a = gen_operand(&r, f->ta, f->gen);
                uint64_t b = 0;
                if (f->tb != T_NONE)
                    b = gen_partner(&r, f->tb == T_F32 ? &FT32 : &FT64, a, f->gen);
                /* Either order: the tied operand first half the time. */
                if (f->tb != T_NONE && (i & 16)) {
                    uint64_t t = a;
                    a = b;
                    b = t;
                }
                check(f, &st, a, b, mxcsr_of((uint64_t)i));
            }
            if (approx) {
                sweep_approx(f, &st, &r);
                if (exhaustive)
                    exhaustive_approx(f, &st);
            }
        }
        total += st.cases;
        if (st.failed) {
            failed++;
            printf("FAIL %s: %s (%" PRIu64 " of %" PRIu64 " cases failed)\n", f->name, st.first,
                   st.failed, st.cases);
        } else {
            passed++;
            if (verbose)
                printf("ok %s (%" PRIu64 " cases)\n", f->name, st.cases);
        }
    }
    printf("%" PRIu64 " cases in %.1f s\n", total, (double)(clock() - t0) / CLOCKS_PER_SEC);
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
