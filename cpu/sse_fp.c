/* SSE/SSE2 floating point: packed and scalar arithmetic, compares,
 * conversions, logic, shuffles and the partial-register moves (SDM vol. 2,
 * the instruction pages; vol. 1, chapters 10 and 11).
 *
 * Every rounding operation goes through the soft-float library
 * (sse_float.h), so a guest gets the same bits on every host.  A handler
 * reads all its sources first, computes every lane with the exceptions
 * collected as if masked, then calls sse_fp_commit, which raises #XM/#UD
 * for an unmasked one before anything is written: the destination keeps
 * its old value (SDM vol. 1, 11.5.1).  Packed 128-bit memory operands must
 * be 16-byte aligned; 32- and 64-bit ones need not be (each instruction's
 * "Exceptions" section in SDM vol. 2).
 */
#include "cpu/simd.h"

/* ---- Lane operations ------------------------------------------------------------ */

/* One lane of a floating-point operation on `bits`-bit lanes (32: single,
 * 64: double), zero-extended: a is the destination's lane, b the
 * source's, imm the instruction's imm8.  Unary operations use b. */
typedef uint64_t (*LaneFn)(SseFp *e, uint64_t a, uint64_t b, unsigned imm);

#define LANE_BIN(op)                                                                       \
    static uint64_t op##_l32(SseFp *e, uint64_t a, uint64_t b, unsigned imm)               \
    {                                                                                      \
        (void)imm;                                                                         \
        return f32_##op(e, (uint32_t)a, (uint32_t)b);                                      \
    }                                                                                      \
    static uint64_t op##_l64(SseFp *e, uint64_t a, uint64_t b, unsigned imm)               \
    {                                                                                      \
        (void)imm;                                                                         \
        return f64_##op(e, a, b);                                                          \
    }
LANE_BIN(add)
LANE_BIN(sub)
LANE_BIN(mul)
LANE_BIN(div)
LANE_BIN(min)
LANE_BIN(max)

static uint64_t sqrt_l32(SseFp *e, uint64_t a, uint64_t b, unsigned imm)
{
    (void)a, (void)imm;
    return f32_sqrt(e, (uint32_t)b);
}
static uint64_t sqrt_l64(SseFp *e, uint64_t a, uint64_t b, unsigned imm)
{
    (void)a, (void)imm;
    return f64_sqrt(e, b);
}

/* RCP/RSQRT raise no exception and ignore MXCSR (SDM vol. 2, RCPPS). */
static uint64_t rcp_l32(SseFp *e, uint64_t a, uint64_t b, unsigned imm)
{
    (void)e, (void)a, (void)imm;
    return f32_rcp((uint32_t)b);
}
static uint64_t rsqrt_l32(SseFp *e, uint64_t a, uint64_t b, unsigned imm)
{
    (void)e, (void)a, (void)imm;
    return f32_rsqrt((uint32_t)b);
}

/* CMPPS/CMPPD/CMPSS/CMPSD: all ones where the predicate (imm8 bits 0-2;
 * the legacy encodings ignore bits 3-7, as the host CPU confirms) holds. */
static uint64_t cmp_l32(SseFp *e, uint64_t a, uint64_t b, unsigned imm)
{
    return f32_cmp(e, (uint32_t)a, (uint32_t)b, (int)(imm & 7)) ? 0xFFFFFFFFu : 0;
}
static uint64_t cmp_l64(SseFp *e, uint64_t a, uint64_t b, unsigned imm)
{
    return f64_cmp(e, a, b, (int)(imm & 7)) ? ~0ull : 0;
}

/* ---- Packed and scalar forms --------------------------------------------------- */

/* Packed: every lane of xmm op xmm/m128 (aligned). */
static ALWAYS_INLINE void fp_packed(CpuState *c, const Insn *i, int bits, LaneFn f)
{
    sse_begin(c);
    XmmReg b, r;
    sse_src128(c, i, &b);
    XmmReg *d = xmm_reg(c, i->reg);
    SseFp e = sse_fp_env(c);
    if (bits == 32)
        for (int k = 0; k < 4; k++)
            r.d[k] = (uint32_t)f(&e, d->d[k], b.d[k], i->imm);
    else
        for (int k = 0; k < 2; k++)
            r.q[k] = f(&e, d->q[k], b.q[k], i->imm);
    sse_fp_commit(c, e.flags);
    *d = r;
}

/* Scalar: the low lane only, from xmm/m32 or xmm/m64; the other lanes of
 * the destination are kept (SDM vol. 1, 10.4.2.1). */
static ALWAYS_INLINE void fp_scalar(CpuState *c, const Insn *i, int bits, LaneFn f)
{
    sse_begin(c);
    uint64_t b = bits == 32 ? sse_src32(c, i) : sse_src64(c, i);
    XmmReg *d = xmm_reg(c, i->reg);
    SseFp e = sse_fp_env(c);
    uint64_t r = f(&e, bits == 32 ? d->d[0] : d->q[0], b, i->imm);
    sse_fp_commit(c, e.flags);
    if (bits == 32)
        d->d[0] = (uint32_t)r;
    else
        d->q[0] = r;
}

#define FP_PS_SS(op)                                                                       \
    HANDLER(op##ps) { fp_packed(c, i, 32, op##_l32); NEXT(c, i); }                         \
    HANDLER(op##ss) { fp_scalar(c, i, 32, op##_l32); NEXT(c, i); }                         \
    SET_ALL(sse_##op##ps, op##ps)                                                          \
    SET_ALL(sse_##op##ss, op##ss)
#define FP_FORMS(op)                                                                       \
    FP_PS_SS(op)                                                                           \
    HANDLER(op##pd) { fp_packed(c, i, 64, op##_l64); NEXT(c, i); }                         \
    HANDLER(op##sd) { fp_scalar(c, i, 64, op##_l64); NEXT(c, i); }                         \
    SET_ALL(sse_##op##pd, op##pd)                                                          \
    SET_ALL(sse_##op##sd, op##sd)

FP_FORMS(add)
FP_FORMS(sub)
FP_FORMS(mul)
FP_FORMS(div)
FP_FORMS(min)
FP_FORMS(max)
FP_FORMS(sqrt)
FP_FORMS(cmp)
FP_PS_SS(rcp)
FP_PS_SS(rsqrt)

/* COMISS/UCOMISS/COMISD/UCOMISD: the relation in ZF PF CF (unordered 111,
 * greater 000, less 001, equal 100); OF SF AF cleared (SDM vol. 2,
 * COMISS). */
static ALWAYS_INLINE void comi(CpuState *c, const Insn *i, int bits, bool signal_qnan)
{
    sse_begin(c);
    uint64_t b = bits == 32 ? sse_src32(c, i) : sse_src64(c, i);
    const XmmReg *d = xmm_reg(c, i->reg);
    SseFp e = sse_fp_env(c);
    int rel = bits == 32 ? f32_compare(&e, d->d[0], (uint32_t)b, signal_qnan)
                         : f64_compare(&e, d->q[0], b, signal_qnan);
    sse_fp_commit(c, e.flags);
    uint32_t fl = rel == FCMP_LT ? FL_CF : rel == FCMP_EQ ? FL_ZF :
                  rel == FCMP_UN ? (FL_ZF | FL_PF | FL_CF) : 0;
    flags_set_bits(c, FL_ZF | FL_PF | FL_CF | FL_OF | FL_SF | FL_AF, fl);
}

HANDLER(comiss) { comi(c, i, 32, true); NEXT(c, i); }
HANDLER(ucomiss) { comi(c, i, 32, false); NEXT(c, i); }
HANDLER(comisd) { comi(c, i, 64, true); NEXT(c, i); }
HANDLER(ucomisd) { comi(c, i, 64, false); NEXT(c, i); }
SET_ALL(sse_comiss, comiss)
SET_ALL(sse_ucomiss, ucomiss)
SET_ALL(sse_comisd, comisd)
SET_ALL(sse_ucomisd, ucomisd)

/* ---- Logic (ANDPS/ANDPD share handlers: bitwise on 128 bits) --------------------- */

#define FP_LOGIC(name, expr)                                                               \
    HANDLER(name)                                                                          \
    {                                                                                      \
        sse_begin(c);                                                                      \
        XmmReg b;                                                                          \
        sse_src128(c, i, &b);                                                              \
        XmmReg *d = xmm_reg(c, i->reg);                                                    \
        for (int k = 0; k < 2; k++) {                                                      \
            uint64_t x = d->q[k], y = b.q[k];                                              \
            d->q[k] = (expr);                                                              \
        }                                                                                  \
        NEXT(c, i);                                                                        \
    }                                                                                      \
    SET_ALL(sse_##name, name)

FP_LOGIC(andps, x & y)
FP_LOGIC(andnps, ~x & y)
FP_LOGIC(orps, x | y)
FP_LOGIC(xorps, x ^ y)

/* ---- Shuffles and unpacks --------------------------------------------------------------- */

/* UNPCKLPS: d0 s0 d1 s1; UNPCKHPS: d2 s2 d3 s3 (SDM vol. 2, UNPCKLPS). */
static ALWAYS_INLINE void unpck_ps(CpuState *c, const Insn *i, int half)
{
    sse_begin(c);
    XmmReg b, r;
    sse_src128(c, i, &b);
    XmmReg *d = xmm_reg(c, i->reg);
    r.d[0] = d->d[2 * half];
    r.d[1] = b.d[2 * half];
    r.d[2] = d->d[2 * half + 1];
    r.d[3] = b.d[2 * half + 1];
    *d = r;
}
static ALWAYS_INLINE void unpck_pd(CpuState *c, const Insn *i, int half)
{
    sse_begin(c);
    XmmReg b, r;
    sse_src128(c, i, &b);
    XmmReg *d = xmm_reg(c, i->reg);
    r.q[0] = d->q[half];
    r.q[1] = b.q[half];
    *d = r;
}
HANDLER(unpcklps) { unpck_ps(c, i, 0); NEXT(c, i); }
HANDLER(unpckhps) { unpck_ps(c, i, 1); NEXT(c, i); }
HANDLER(unpcklpd) { unpck_pd(c, i, 0); NEXT(c, i); }
HANDLER(unpckhpd) { unpck_pd(c, i, 1); NEXT(c, i); }
SET_ALL(sse_unpcklps, unpcklps)
SET_ALL(sse_unpckhps, unpckhps)
SET_ALL(sse_unpcklpd, unpcklpd)
SET_ALL(sse_unpckhpd, unpckhpd)

/* SHUFPS: two lanes of the destination, then two of the source, each
 * picked by two bits of imm8.  SHUFPD: one bit each. */
HANDLER(shufps)
{
    sse_begin(c);
    XmmReg b, r;
    sse_src128(c, i, &b);
    XmmReg *d = xmm_reg(c, i->reg);
    unsigned m = i->imm;
    r.d[0] = d->d[m & 3];
    r.d[1] = d->d[(m >> 2) & 3];
    r.d[2] = b.d[(m >> 4) & 3];
    r.d[3] = b.d[(m >> 6) & 3];
    *d = r;
    NEXT(c, i);
}
SET_ALL(sse_shufps, shufps)

HANDLER(shufpd)
{
    sse_begin(c);
    XmmReg b, r;
    sse_src128(c, i, &b);
    XmmReg *d = xmm_reg(c, i->reg);
    r.q[0] = d->q[i->imm & 1];
    r.q[1] = b.q[(i->imm >> 1) & 1];
    *d = r;
    NEXT(c, i);
}
SET_ALL(sse_shufpd, shufpd)

/* MOVMSKPS/MOVMSKPD r32, xmm: the sign bits. */
HANDLER(movmskps)
{
    sse_begin(c);
    const XmmReg *s = xmm_reg(c, i->rm);
    uint32_t m = 0;
    for (int k = 0; k < 4; k++)
        m |= (s->d[k] >> 31) << k;
    c->regs[i->reg] = m;
    NEXT(c, i);
}
SET_ALL(sse_movmskps, movmskps)

HANDLER(movmskpd)
{
    sse_begin(c);
    const XmmReg *s = xmm_reg(c, i->rm);
    c->regs[i->reg] = (uint32_t)(s->q[0] >> 63) | (uint32_t)(s->q[1] >> 63) << 1;
    NEXT(c, i);
}
SET_ALL(sse_movmskpd, movmskpd)

/* ---- Partial moves ----------------------------------------------------------------------- */

/* MOVSS/MOVSD xmm, xmm/m32|m64: from memory the lanes above are zeroed;
 * from a register they are kept (SDM vol. 2, MOVSS, MOVSD). */
static ALWAYS_INLINE void mov_scalar_ld(CpuState *c, const Insn *i, int bits)
{
    sse_begin(c);
    XmmReg *d = xmm_reg(c, i->reg);
    if (i->flags & I_MEM) {
        uint64_t v = bits == 32 ? simd_read32(c, i) : simd_read64(c, i);
        d->q[0] = v;
        d->q[1] = 0;
    } else if (bits == 32) {
        d->d[0] = xmm_reg(c, i->rm)->d[0];
    } else {
        d->q[0] = xmm_reg(c, i->rm)->q[0];
    }
}

/* MOVSS/MOVSD xmm/m32|m64, xmm: the low lane. */
static ALWAYS_INLINE void mov_scalar_st(CpuState *c, const Insn *i, int bits)
{
    sse_begin(c);
    const XmmReg *s = xmm_reg(c, i->reg);
    if (!(i->flags & I_MEM)) {
        if (bits == 32)
            xmm_reg(c, i->rm)->d[0] = s->d[0];
        else
            xmm_reg(c, i->rm)->q[0] = s->q[0];
    } else if (bits == 32) {
        mem_write32(c, i->seg, insn_ea(c, i), s->d[0]);
    } else {
        simd_write64(c, i, s->q[0]);
    }
}

HANDLER(movss_ld) { mov_scalar_ld(c, i, 32); NEXT(c, i); }
HANDLER(movsd_ld) { mov_scalar_ld(c, i, 64); NEXT(c, i); }
HANDLER(movss_st) { mov_scalar_st(c, i, 32); NEXT(c, i); }
HANDLER(movsd_st) { mov_scalar_st(c, i, 64); NEXT(c, i); }
SET_ALL(sse_movss_ld, movss_ld)
SET_ALL(sse_movsd_ld, movsd_ld)
SET_ALL(sse_movss_st, movss_st)
SET_ALL(sse_movsd_st, movsd_st)

/* 0F 12: MOVLPS/MOVLPD xmm, m64 (low quadword) or MOVHLPS xmm, xmm (the
 * source's high quadword to the low one).  0F 16: MOVHPS/MOVHPD xmm, m64
 * (high quadword) or MOVLHPS (the source's low quadword to the high one). */
HANDLER(movlps_ld)
{
    sse_begin(c);
    uint64_t v = (i->flags & I_MEM) ? simd_read64(c, i) : xmm_reg(c, i->rm)->q[1];
    xmm_reg(c, i->reg)->q[0] = v;
    NEXT(c, i);
}
SET_ALL(sse_movlps_ld, movlps_ld)

HANDLER(movhps_ld)
{
    sse_begin(c);
    uint64_t v = (i->flags & I_MEM) ? simd_read64(c, i) : xmm_reg(c, i->rm)->q[0];
    xmm_reg(c, i->reg)->q[1] = v;
    NEXT(c, i);
}
SET_ALL(sse_movhps_ld, movhps_ld)

/* 0F 13 / 0F 17: MOVLPS/MOVLPD, MOVHPS/MOVHPD m64, xmm. */
HANDLER(movlps_st)
{
    sse_begin(c);
    simd_write64(c, i, xmm_reg(c, i->reg)->q[0]);
    NEXT(c, i);
}
SET_ALL(sse_movlps_st, movlps_st)

HANDLER(movhps_st)
{
    sse_begin(c);
    simd_write64(c, i, xmm_reg(c, i->reg)->q[1]);
    NEXT(c, i);
}
SET_ALL(sse_movhps_st, movhps_st)

/* ---- Conversions ---------------------------------------------------------------------------- */

/* The mm/m64 source of CVTPI2PS/CVTPI2PD: an MMX register operand makes
 * the x87 state MMX-like and first reports a pending x87 exception (SDM
 * vol. 2, CVTPI2PS: "transition from x87 FPU to MMX technology
 * operation"); a memory operand does not. */
static uint64_t mm_src_transition(CpuState *c, const Insn *i)
{
    if (i->flags & I_MEM)
        return simd_read64(c, i);
    fpu_check_pending(c);
    mmx_touch(&c->fpu);
    return mmx_get(c, i->rm);
}

/* ---- One conversion template ------------------------------------------------------- */

/* A lane conversion; `trunc` selects the CVTT (toward zero) forms. */
typedef uint64_t (*CvtFn)(SseFp *e, uint64_t v, bool trunc);

static uint64_t i2s(SseFp *e, uint64_t v, bool t) { (void)t; return i32_to_f32(e, (int32_t)v); }
static uint64_t i2d(SseFp *e, uint64_t v, bool t) { (void)t; return i32_to_f64(e, (int32_t)v); }
static uint64_t s2i(SseFp *e, uint64_t v, bool t) { return f32_to_i32(e, (uint32_t)v, t); }
static uint64_t d2i(SseFp *e, uint64_t v, bool t) { return f64_to_i32(e, v, t); }
static uint64_t s2d(SseFp *e, uint64_t v, bool t) { (void)t; return f32_to_f64(e, (uint32_t)v); }
static uint64_t d2s(SseFp *e, uint64_t v, bool t) { (void)t; return f64_to_f32(e, v); }

/* Sources: xmm/m128 (aligned), xmm/m64, xmm/m32, mm/m64, r/m32.
 * Destinations: the xmm register with the lanes above the result zeroed,
 * or kept; an MMX register; a general register. */
enum { SRC_X128, SRC_X64, SRC_X32, SRC_MM, SRC_GPR };
enum { DST_X_ZERO, DST_X_KEEP, DST_MM, DST_GPR };

static ALWAYS_INLINE void cvt(CpuState *c, const Insn *i, int src, int in_bits, int n, CvtFn f,
                              int out_bits, int dst, bool trunc)
{
    if (dst == DST_MM)
        sse_mmx_begin(c);
    else
        sse_begin(c);
    XmmReg s = {{0}};
    switch (src) {
    case SRC_X128: sse_src128(c, i, &s); break;
    case SRC_X64: s.q[0] = sse_src64(c, i); break;
    case SRC_X32: s.d[0] = sse_src32(c, i); break;
    case SRC_MM: s.q[0] = mm_src_transition(c, i); break;
    default: s.d[0] = gpr_src32(c, i); break;
    }
    if (dst == DST_MM)
        mmx_touch(&c->fpu);
    SseFp e = sse_fp_env(c);
    XmmReg r = dst == DST_X_KEEP ? *xmm_reg(c, i->reg) : (XmmReg){{0}};
    for (int k = 0; k < n; k++) {
        uint64_t v = f(&e, in_bits == 32 ? s.d[k] : s.q[k], trunc);
        if (out_bits == 32)
            r.d[k] = (uint32_t)v;
        else
            r.q[k] = v;
    }
    sse_fp_commit(c, e.flags);
    switch (dst) {
    case DST_MM: mmx_set(c, i->reg, r.q[0]); break;
    case DST_GPR: c->regs[i->reg] = r.d[0]; break;
    default: *xmm_reg(c, i->reg) = r; break;
    }
}

#define CVT(name, src, in_bits, n, f, out_bits, dst, trunc)                                \
    HANDLER(name)                                                                          \
    {                                                                                      \
        cvt(c, i, src, in_bits, n, f, out_bits, dst, trunc);                               \
        NEXT(c, i);                                                                        \
    }                                                                                      \
    SET_ALL(sse_##name, name)

/* SDM vol. 2, each CVT page: which lanes are written and which kept. */
CVT(cvtpi2ps, SRC_MM, 32, 2, i2s, 32, DST_X_KEEP, false)
CVT(cvtpi2pd, SRC_MM, 32, 2, i2d, 64, DST_X_ZERO, false)
CVT(cvtsi2ss, SRC_GPR, 32, 1, i2s, 32, DST_X_KEEP, false)
CVT(cvtsi2sd, SRC_GPR, 32, 1, i2d, 64, DST_X_KEEP, false)
CVT(cvtps2pi, SRC_X64, 32, 2, s2i, 32, DST_MM, false)
CVT(cvttps2pi, SRC_X64, 32, 2, s2i, 32, DST_MM, true)
CVT(cvtpd2pi, SRC_X128, 64, 2, d2i, 32, DST_MM, false)
CVT(cvttpd2pi, SRC_X128, 64, 2, d2i, 32, DST_MM, true)
CVT(cvtss2si, SRC_X32, 32, 1, s2i, 32, DST_GPR, false)
CVT(cvttss2si, SRC_X32, 32, 1, s2i, 32, DST_GPR, true)
CVT(cvtsd2si, SRC_X64, 64, 1, d2i, 32, DST_GPR, false)
CVT(cvttsd2si, SRC_X64, 64, 1, d2i, 32, DST_GPR, true)
CVT(cvtps2pd, SRC_X64, 32, 2, s2d, 64, DST_X_ZERO, false)
CVT(cvtpd2ps, SRC_X128, 64, 2, d2s, 32, DST_X_ZERO, false)
CVT(cvtss2sd, SRC_X32, 32, 1, s2d, 64, DST_X_KEEP, false)
CVT(cvtsd2ss, SRC_X64, 64, 1, d2s, 32, DST_X_KEEP, false)
CVT(cvtdq2ps, SRC_X128, 32, 4, i2s, 32, DST_X_ZERO, false)
CVT(cvtps2dq, SRC_X128, 32, 4, s2i, 32, DST_X_ZERO, false)
CVT(cvttps2dq, SRC_X128, 32, 4, s2i, 32, DST_X_ZERO, true)
CVT(cvtpd2dq, SRC_X128, 64, 2, d2i, 32, DST_X_ZERO, false)
CVT(cvttpd2dq, SRC_X128, 64, 2, d2i, 32, DST_X_ZERO, true)
CVT(cvtdq2pd, SRC_X64, 32, 2, i2d, 64, DST_X_ZERO, false)
