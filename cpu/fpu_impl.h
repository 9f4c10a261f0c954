/* x87 internals shared by the instruction handlers (fpu_x87.c, fpu_ctl.c,
 * fpu_env.c) and the two arithmetic back ends.
 *
 * Arithmetic back ends.  Every operation that rounds or may raise an
 * arithmetic exception goes through the fp_* functions below, which pick
 * one of two implementations per CPU (FpuState.soft):
 *
 *   host (fpu_host.c, x86-64 hosts): the host's own x87 runs the operation
 *     under the guest's control word (precision, rounding and, for register
 *     results, the exception masks, so that an unmasked overflow or
 *     underflow yields the exponent-wrapped result the SDM prescribes) and
 *     its status word supplies the exception flags and C1.  Bit-exact by
 *     construction for everything the host x87 does.
 *   soft (fpu_soft*.c, any host): a software implementation of the same
 *     operations on F80 values, written from the SDM's rules (vol. 1,
 *     chapter 4.8-4.9 and 8.5) and checked bit for bit against the host by
 *     the fpu test suite.
 *
 * Contract of an operation: it gets an FpCtx with the guest control word,
 * returns the value the destination receives when it is written, and ORs
 * into ctx->sw the exception flags it raised (FSW_IE..FSW_PE) and the
 * condition bits it defines (FSW_C1 = rounded up, and C0/C2/C3 where the
 * instruction sets them).  Whether the destination is written (it is not
 * after an unmasked IE, DE or ZE; stores to memory are also suppressed by
 * an unmasked OE or UE) and everything about the register stack is decided
 * by the caller.
 */
#ifndef KESTREL_CPU_FPU_IMPL_H
#define KESTREL_CPU_FPU_IMPL_H

#include "cpu/handlers.h"

/* Status word (SDM vol. 1, 8.1.3). */
#define FSW_IE 0x0001u
#define FSW_DE 0x0002u
#define FSW_ZE 0x0004u
#define FSW_OE 0x0008u
#define FSW_UE 0x0010u
#define FSW_PE 0x0020u
#define FSW_SF 0x0040u
#define FSW_ES 0x0080u
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_TOP 0x3800u
#define FSW_C3 0x4000u
#define FSW_B 0x8000u
#define FSW_EXC 0x003Fu
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

/* Control word (SDM vol. 1, 8.1.5). */
#define FCW_MASKS 0x003Fu
#define FCW_PC 0x0300u
#define FCW_RC 0x0C00u
enum { RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3 };

#define FP_EXP_BIAS 16383
#define FP_EXP_MAX 0x7FFF

/* The real indefinite (SDM vol. 1, 4.8.3.7): negative QNaN 1.1000...0. */
static const F80 F80_INDEFINITE = {0xC000000000000000ull, 0xFFFF};

typedef struct FpCtx {
    uint16_t cw; /* in: guest control word */
    uint16_t sw; /* out: exception flags and condition bits raised */
} FpCtx;

/* Operand classes (SDM vol. 1, table 8-3 and 8.2.2). */
enum {
    FPC_ZERO,
    FPC_NORMAL,
    FPC_DENORMAL, /* exponent 0, non-zero significand (also pseudo-denormals) */
    FPC_INF,
    FPC_QNAN,
    FPC_SNAN,
    FPC_UNSUPPORTED, /* pseudo-NaN, pseudo-infinity, unnormal */
};

static inline int f80_class(F80 a)
{
    unsigned e = a.se & 0x7FFF;
    bool j = a.m >> 63;
    if (e == 0)
        return a.m == 0 ? FPC_ZERO : FPC_DENORMAL;
    if (e == 0x7FFF) {
        if (!j)
            return FPC_UNSUPPORTED;
        if ((a.m << 1) == 0)
            return FPC_INF;
        return (a.m >> 62) & 1 ? FPC_QNAN : FPC_SNAN;
    }
    return j ? FPC_NORMAL : FPC_UNSUPPORTED;
}
static inline bool f80_sign(F80 a) { return a.se >> 15; }
static inline F80 f80_make(bool sign, unsigned exp, uint64_t m)
{
    F80 r = {m, (uint16_t)((sign ? 0x8000u : 0) | (exp & 0x7FFF))};
    return r;
}

/* Exact conversion of an integer (FILD, FIADD's operand, FXTRACT's exponent). */
static inline F80 f80_from_int(int64_t v)
{
    if (v == 0)
        return f80_make(false, 0, 0);
    bool s = v < 0;
    uint64_t m = s ? 0 - (uint64_t)v : (uint64_t)v;
    int sh = __builtin_clzll(m);
    return f80_make(s, (unsigned)(FP_EXP_BIAS + 63 - sh), m << sh);
}

/* Comparison results (fp_cmp). */
/* Comparison results, shared by the x87 and SSE code (fpu_impl.h,
 * sse_float.h). */
#ifndef KESTREL_FCMP_DEFINED
#define KESTREL_FCMP_DEFINED
enum { FCMP_LT = 0, FCMP_EQ = 1, FCMP_GT = 2, FCMP_UN = 3 };
#endif

/* Arithmetic operations, numbered as ModRM.reg of D8 (SDM vol. 2, table
 * a op b for register operands, st0 op m for memory ones. */
enum {
    FOP_ADD = 0, FOP_MUL = 1, FOP_SUB = 4, FOP_SUBR = 5, FOP_DIV = 6, FOP_DIVR = 7,
};
/* Memory operand formats of arith_m / cmp_m. */
enum { FMT_F32, FMT_F64, FMT_I16, FMT_I32 };

/* ---- Back-end entry points (soft: fpu_soft*.c, host: fpu_host.c) ------ */

#define FP_DECLARE(pfx)                                                                    \
    F80 pfx##_arith(FpCtx *x, int op, F80 a, F80 b);                                       \
    F80 pfx##_arith_m(FpCtx *x, int op, F80 a, uint64_t m, int fmt);                       \
    int pfx##_cmp_m(FpCtx *x, F80 a, uint64_t m, int fmt);                                 \
    void pfx##_to_bcd(FpCtx *x, F80 a, uint8_t out[10]);                                   \
    F80 pfx##_from_bcd(FpCtx *x, const uint8_t in[10]);                                    \
    F80 pfx##_sqrt(FpCtx *x, F80 a);                                                       \
    int pfx##_cmp(FpCtx *x, F80 a, F80 b, bool quiet);                                     \
    F80 pfx##_from_f32(FpCtx *x, uint32_t v);                                              \
    F80 pfx##_from_f64(FpCtx *x, uint64_t v);                                              \
    uint32_t pfx##_to_f32(FpCtx *x, F80 a);                                                \
    uint64_t pfx##_to_f64(FpCtx *x, F80 a);                                                \
    int64_t pfx##_to_int(FpCtx *x, F80 a, int bits);                                       \
    F80 pfx##_rndint(FpCtx *x, F80 a);                                                     \
    F80 pfx##_scale(FpCtx *x, F80 a, F80 b);                                               \
    F80 pfx##_prem(FpCtx *x, F80 a, F80 b, bool ieee);                                     \
    void pfx##_xtract(FpCtx *x, F80 a, F80 *exp, F80 *sig);                                \
    F80 pfx##_sin(FpCtx *x, F80 a);                                                        \
    F80 pfx##_cos(FpCtx *x, F80 a);                                                        \
    void pfx##_sincos(FpCtx *x, F80 a, F80 *s, F80 *c);                                    \
    F80 pfx##_tan(FpCtx *x, F80 a);                                                        \
    F80 pfx##_atan(FpCtx *x, F80 y, F80 a);                                                \
    F80 pfx##_2xm1(FpCtx *x, F80 a);                                                       \
    F80 pfx##_yl2x(FpCtx *x, F80 y, F80 a);                                                \
    F80 pfx##_yl2xp1(FpCtx *x, F80 y, F80 a);

FP_DECLARE(soft)
/* Soft back end internals shared by fpu_soft.c and fpu_soft_trans.c:
 * rounding of m:lo (m normalized, biased exponent exp) to prec bits with
 * the x87's flags, and the result for NaN or unsupported operands. */
F80 soft_round(FpCtx *x, bool sign, int32_t exp, uint64_t m, uint64_t lo, int prec);
F80 soft_nan2(FpCtx *x, F80 a, F80 b);
#if defined(__x86_64__) && !defined(KESTREL_SOFTFPU_ONLY)
#define KESTREL_HOST_X87 1
FP_DECLARE(host)
#define FP_PICK(f, name, ...) ((f)->soft ? soft_##name(__VA_ARGS__) : host_##name(__VA_ARGS__))
#else
#define KESTREL_HOST_X87 0
#define FP_PICK(f, name, ...) soft_##name(__VA_ARGS__)
/* Memory operands of any length (limit and page checks for the whole
 * operand before any byte is written). */
void fpu_mem_read(CpuState *c, int seg, uint32_t off, void *buf, unsigned n);
void fpu_mem_write(CpuState *c, int seg, uint32_t off, const void *buf, unsigned n);

/* State images (fpu_ctl.c). */
void fpu_fnstenv(CpuState *c, const Insn *i);
void fpu_fldenv(CpuState *c, const Insn *i);
void fpu_fnsave(CpuState *c, const Insn *i);
void fpu_frstor(CpuState *c, const Insn *i);
void fpu_fxsave(CpuState *c, const Insn *i);
void fpu_fxrstor(CpuState *c, const Insn *i);

/* A handler set whose register and memory forms differ. */
#define SET_RM(name, rfn, mfn) \
    const HandlerSet hs_##name = {{{rfn, mfn}, {rfn, mfn}, {rfn, mfn}}};

#endif

/* Notes on particular operations:
 *   arith: FOP_* of a and b (FOP_SUBR: b - a); arith_m: of a and a memory
 *     operand of format FMT_* (its raw bits), as FADD m32 ... FIDIVR m32.
 *   cmp: FCOM (quiet = false: any NaN is invalid) or FUCOM (quiet: only
 *     SNaNs are); returns FCMP_*.
 *   to_int: bits 16/32/64; the integer indefinite on invalid.
 *   to_f32/to_f64: the memory image.
 *   prem: FPREM (ieee = false) / FPREM1; sets C0 C1 C2 C3 in x->sw.
 *   sin/cos/tan/sincos: C2 in x->sw when the operand is out of range
 *     (|a| >= 2^63), the operand then being left as it is.
 *   tan: the tangent only; FPTAN's pushed 1.0 is the caller's.
 *   atan: arctan(y / a) with the quadrant of (a, y), as FPATAN.
 *   yl2x, yl2xp1: y * log2(a), y * log2(a + 1).
 */

/* ---- State helpers for the handlers ---------------------------------- */

static inline int fpu_phys(const FpuState *f, int i) { return (f->top + i) & 7; }
static inline F80 *fpu_st(FpuState *f, int i) { return &f->st[fpu_phys(f, i)]; }
static inline bool fpu_empty(const FpuState *f, int i)
{
    return !((f->valid >> fpu_phys(f, i)) & 1);
}
static inline void fpu_set_valid(FpuState *f, int i, bool v)
{
    unsigned bit = 1u << fpu_phys(f, i);
    f->valid = (uint8_t)(v ? (f->valid | bit) : (f->valid & ~bit));
}
static inline uint16_t fpu_get_sw(const FpuState *f)
{
    return (uint16_t)((f->sw & ~FSW_TOP) | ((f->top & 7) << 11));
}

/* (fpu_tag_word, the full tag word, is declared in fpu.h.) */
/* Load a status word (FLDENV, FRSTOR, FXRSTOR): sets TOP, recomputes ES/B
 * and FERR#. */
void fpu_load_sw(CpuState *c, uint16_t sw);
/* Load a control word (FLDCW and the environment loads): ES/B follow. */
void fpu_load_cw(CpuState *c, uint16_t cw);
/* Recompute ES and B from the flags and masks and drive FERR#. */
void fpu_update_es(CpuState *c);
/* FNINIT's state (SDM vol. 1, 8.1.10 and FINIT). */
void fpu_init_state(CpuState *c);

/* Checks every x87 instruction makes first: #NM for CR0.EM/TS (SDM vol. 3,
 * table 2-2) and, for waiting instructions, a pending unmasked exception
 * (#MF with CR0.NE, SDM vol. 1, 8.7). */
void fpu_check_nm(CpuState *c);
void fpu_check_pending(CpuState *c);

/* Record FIP/FCS/FOP (and FDP/FDS for memory forms) for a non-control
 * instruction (SDM vol. 1, 8.1.8 and 8.1.9). */
void fpu_note_insn(CpuState *c, const Insn *i);

/* Raise x87 exception flags: ORs `exc` into the status word and updates
 * ES/B/FERR#. */
void fpu_raise(CpuState *c, uint16_t exc);

/* Memory operands of any length (limit and page checks for the whole
 * operand before any byte is written). */
void fpu_mem_read(CpuState *c, int seg, uint32_t off, void *buf, unsigned n);
void fpu_mem_write(CpuState *c, int seg, uint32_t off, const void *buf, unsigned n);

/* State images (fpu_ctl.c). */
void fpu_fnstenv(CpuState *c, const Insn *i);
void fpu_fldenv(CpuState *c, const Insn *i);
void fpu_fnsave(CpuState *c, const Insn *i);
void fpu_frstor(CpuState *c, const Insn *i);
void fpu_fxsave(CpuState *c, const Insn *i);
void fpu_fxrstor(CpuState *c, const Insn *i);

/* A handler set whose register and memory forms differ. */
#define SET_RM(name, rfn, mfn) \
    const HandlerSet hs_##name = {{{rfn, mfn}, {rfn, mfn}, {rfn, mfn}}};

#endif
