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

typedef uint32_t (*F32Bin)(SseFp *, uint32_t, uint32_t);
typedef uint64_t (*F64Bin)(SseFp *, uint64_t, uint64_t);
typedef uint32_t (*F32Un)(SseFp *, uint32_t);
typedef uint64_t (*F64Un)(SseFp *, uint64_t);

/* ---- Arithmetic: ADD SUB MUL DIV MIN MAX, packed and scalar ---------------- */

static ALWAYS_INLINE void ps_bin(CpuState *c, const Insn *i, F32Bin f)
{
    sse_begin(c);
    XmmReg b, r;
    sse_src128(c, i, &b);
    XmmReg *d = xmm_reg(c, i->reg);
    SseFp e = sse_fp_env(c);
    for (int k = 0; k < 4; k++)
        r.d[k] = f(&e, d->d[k], b.d[k]);
    sse_fp_commit(c, e.flags);
    *d = r;
}

static ALWAYS_INLINE void pd_bin(CpuState *c, const Insn *i, F64Bin f)
{
    sse_begin(c);
    XmmReg b, r;
    sse_src128(c, i, &b);
    XmmReg *d = xmm_reg(c, i->reg);
    SseFp e = sse_fp_env(c);
    for (int k = 0; k < 2; k++)
        r.q[k] = f(&e, d->q[k], b.q[k]);
    sse_fp_commit(c, e.flags);
    *d = r;
}

/* Scalar forms change only the low lane (SDM vol. 1, 10.4.2.1). */
static ALWAYS_INLINE void ss_bin(CpuState *c, const Insn *i, F32Bin f)
{
    sse_begin(c);
    uint32_t b = sse_src32(c, i);
    XmmReg *d = xmm_reg(c, i->reg);
    SseFp e = sse_fp_env(c);
    uint32_t r = f(&e, d->d[0], b);
    sse_fp_commit(c, e.flags);
    d->d[0] = r;
}

static ALWAYS_INLINE void sd_bin(CpuState *c, const Insn *i, F64Bin f)
{
    sse_begin(c);
    uint64_t b = sse_src64(c, i);
    XmmReg *d = xmm_reg(c, i->reg);
    SseFp e = sse_fp_env(c);
    uint64_t r = f(&e, d->q[0], b);
    sse_fp_commit(c, e.flags);
    d->q[0] = r;
}

#define FP_ARITH(op)                                                                       \
    HANDLER(op##ps) { ps_bin(c, i, f32_##op); NEXT(c, i); }                                \
    HANDLER(op##pd) { pd_bin(c, i, f64_##op); NEXT(c, i); }                                \
    HANDLER(op##ss) { ss_bin(c, i, f32_##op); NEXT(c, i); }                                \
    HANDLER(op##sd) { sd_bin(c, i, f64_##op); NEXT(c, i); }                                \
    SET_ALL(sse_##op##ps, op##ps)                                                          \
    SET_ALL(sse_##op##pd, op##pd)                                                          \
    SET_ALL(sse_##op##ss, op##ss)                                                          \
    SET_ALL(sse_##op##sd, op##sd)

FP_ARITH(add)
FP_ARITH(sub)
FP_ARITH(mul)
FP_ARITH(div)
FP_ARITH(min)
FP_ARITH(max)

/* ---- SQRT, and the RCP/RSQRT approximations -------------------------------------- */

static ALWAYS_INLINE void ps_un(CpuState *c, const Insn *i, F32Un f)
{
    sse_begin(c);
    XmmReg b, r;
    sse_src128(c, i, &b);
    SseFp e = sse_fp_env(c);
    for (int k = 0; k < 4; k++)
        r.d[k] = f(&e, b.d[k]);
    sse_fp_commit(c, e.flags);
    *xmm_reg(c, i->reg) = r;
}

static ALWAYS_INLINE void ss_un(CpuState *c, const Insn *i, F32Un f)
{
    sse_begin(c);
    uint32_t b = sse_src32(c, i);
    SseFp e = sse_fp_env(c);
    uint32_t r = f(&e, b);
    sse_fp_commit(c, e.flags);
    xmm_reg(c, i->reg)->d[0] = r;
}

HANDLER(sqrtps) { ps_un(c, i, f32_sqrt); NEXT(c, i); }
HANDLER(sqrtss) { ss_un(c, i, f32_sqrt); NEXT(c, i); }
SET_ALL(sse_sqrtps, sqrtps)
SET_ALL(sse_sqrtss, sqrtss)

HANDLER(sqrtpd)
{
    sse_begin(c);
    XmmReg b, r;
    sse_src128(c, i, &b);
    SseFp e = sse_fp_env(c);
    for (int k = 0; k < 2; k++)
        r.q[k] = f64_sqrt(&e, b.q[k]);
    sse_fp_commit(c, e.flags);
    *xmm_reg(c, i->reg) = r;
    NEXT(c, i);
}
SET_ALL(sse_sqrtpd, sqrtpd)

HANDLER(sqrtsd)
{
    sse_begin(c);
    uint64_t b = sse_src64(c, i);
    SseFp e = sse_fp_env(c);
    uint64_t r = f64_sqrt(&e, b);
    sse_fp_commit(c, e.flags);
    xmm_reg(c, i->reg)->q[0] = r;
    NEXT(c, i);
}
SET_ALL(sse_sqrtsd, sqrtsd)

/* RCP/RSQRT raise no exception and ignore MXCSR (SDM vol. 2, RCPPS). */
static uint32_t rcp_fp(SseFp *e, uint32_t a)
{
    (void)e;
    return f32_rcp(a);
}
static uint32_t rsqrt_fp(SseFp *e, uint32_t a)
{
    (void)e;
    return f32_rsqrt(a);
}
HANDLER(rcpps) { ps_un(c, i, rcp_fp); NEXT(c, i); }
HANDLER(rcpss) { ss_un(c, i, rcp_fp); NEXT(c, i); }
HANDLER(rsqrtps) { ps_un(c, i, rsqrt_fp); NEXT(c, i); }
HANDLER(rsqrtss) { ss_un(c, i, rsqrt_fp); NEXT(c, i); }
SET_ALL(sse_rcpps, rcpps)
SET_ALL(sse_rcpss, rcpss)
SET_ALL(sse_rsqrtps, rsqrtps)
SET_ALL(sse_rsqrtss, rsqrtss)

/* ---- Compares ------------------------------------------------------------------------ */

/* CMPPS/CMPPD/CMPSS/CMPSD: all ones where the predicate (imm8 bits 0-2;
 * the legacy encodings ignore bits 3-7) holds. */
HANDLER(cmpps)
{
    sse_begin(c);
    XmmReg b, r;
    sse_src128(c, i, &b);
    XmmReg *d = xmm_reg(c, i->reg);
    SseFp e = sse_fp_env(c);
    for (int k = 0; k < 4; k++)
        r.d[k] = f32_cmp(&e, d->d[k], b.d[k], i->imm & 7) ? ~0u : 0;
    sse_fp_commit(c, e.flags);
    *d = r;
    NEXT(c, i);
}
SET_ALL(sse_cmpps, cmpps)

HANDLER(cmppd)
{
    sse_begin(c);
    XmmReg b, r;
    sse_src128(c, i, &b);
    XmmReg *d = xmm_reg(c, i->reg);
    SseFp e = sse_fp_env(c);
    for (int k = 0; k < 2; k++)
        r.q[k] = f64_cmp(&e, d->q[k], b.q[k], i->imm & 7) ? ~0ull : 0;
    sse_fp_commit(c, e.flags);
    *d = r;
    NEXT(c, i);
}
SET_ALL(sse_cmppd, cmppd)

HANDLER(cmpss)
{
    sse_begin(c);
    uint32_t b = sse_src32(c, i);
    XmmReg *d = xmm_reg(c, i->reg);
    SseFp e = sse_fp_env(c);
    uint32_t r = f32_cmp(&e, d->d[0], b, i->imm & 7) ? ~0u : 0;
    sse_fp_commit(c, e.flags);
    d->d[0] = r;
    NEXT(c, i);
}
SET_ALL(sse_cmpss, cmpss)

HANDLER(cmpsd)
{
    sse_begin(c);
    uint64_t b = sse_src64(c, i);
    XmmReg *d = xmm_reg(c, i->reg);
    SseFp e = sse_fp_env(c);
    uint64_t r = f64_cmp(&e, d->q[0], b, i->imm & 7) ? ~0ull : 0;
    sse_fp_commit(c, e.flags);
    d->q[0] = r;
    NEXT(c, i);
}
SET_ALL(sse_cmpsd, cmpsd)

/* COMISS/UCOMISS/COMISD/UCOMISD: the relation in ZF PF CF (unordered 111,
 * greater 000, less 001, equal 100); OF SF AF cleared (SDM vol. 2,
 * COMISS). */
static void comi_flags(CpuState *c, SseFp *e, int rel)
{
    sse_fp_commit(c, e->flags);
    uint32_t bits = rel == FCMP_LT ? FL_CF : rel == FCMP_EQ ? FL_ZF :
                    rel == FCMP_UN ? (FL_ZF | FL_PF | FL_CF) : 0;
    flags_set_bits(c, FL_ZF | FL_PF | FL_CF | FL_OF | FL_SF | FL_AF, bits);
}

HANDLER(comiss)
{
    sse_begin(c);
    uint32_t b = sse_src32(c, i);
    SseFp e = sse_fp_env(c);
    comi_flags(c, &e, f32_compare(&e, xmm_reg(c, i->reg)->d[0], b, true));
    NEXT(c, i);
}
HANDLER(ucomiss)
{
    sse_begin(c);
    uint32_t b = sse_src32(c, i);
    SseFp e = sse_fp_env(c);
    comi_flags(c, &e, f32_compare(&e, xmm_reg(c, i->reg)->d[0], b, false));
    NEXT(c, i);
}
HANDLER(comisd)
{
    sse_begin(c);
    uint64_t b = sse_src64(c, i);
    SseFp e = sse_fp_env(c);
    comi_flags(c, &e, f64_compare(&e, xmm_reg(c, i->reg)->q[0], b, true));
    NEXT(c, i);
}
HANDLER(ucomisd)
{
    sse_begin(c);
    uint64_t b = sse_src64(c, i);
    SseFp e = sse_fp_env(c);
    comi_flags(c, &e, f64_compare(&e, xmm_reg(c, i->reg)->q[0], b, false));
    NEXT(c, i);
}
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

/* MOVSS xmm, xmm/m32: from memory the upper lanes are zeroed; from a
 * register they are kept (SDM vol. 2, MOVSS).  MOVSD likewise. */
HANDLER(movss_ld)
{
    sse_begin(c);
    XmmReg *d = xmm_reg(c, i->reg);
    if (i->flags & I_MEM) {
        uint32_t v = simd_read32(c, i);
        d->q[1] = 0;
        d->q[0] = v;
    } else {
        d->d[0] = xmm_reg(c, i->rm)->d[0];
    }
    NEXT(c, i);
}
SET_ALL(sse_movss_ld, movss_ld)

HANDLER(movsd_ld)
{
    sse_begin(c);
    XmmReg *d = xmm_reg(c, i->reg);
    if (i->flags & I_MEM) {
        uint64_t v = simd_read64(c, i);
        d->q[0] = v;
        d->q[1] = 0;
    } else {
        d->q[0] = xmm_reg(c, i->rm)->q[0];
    }
    NEXT(c, i);
}
SET_ALL(sse_movsd_ld, movsd_ld)

HANDLER(movss_st)
{
    sse_begin(c);
    uint32_t v = xmm_reg(c, i->reg)->d[0];
    if (i->flags & I_MEM)
        mem_write32(c, i->seg, insn_ea(c, i), v);
    else
        xmm_reg(c, i->rm)->d[0] = v;
    NEXT(c, i);
}
SET_ALL(sse_movss_st, movss_st)

HANDLER(movsd_st)
{
    sse_begin(c);
    uint64_t v = xmm_reg(c, i->reg)->q[0];
    if (i->flags & I_MEM)
        simd_write64(c, i, v);
    else
        xmm_reg(c, i->rm)->q[0] = v;
    NEXT(c, i);
}
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

/* The r/m32 integer source of CVTSI2SS/CVTSI2SD. */
static inline int32_t gpr_src32(CpuState *c, const Insn *i)
{
    return (int32_t)((i->flags & I_MEM) ? simd_read32(c, i) : c->regs[i->rm]);
}

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

HANDLER(cvtpi2ps)
{
    sse_begin(c);
    uint64_t s = mm_src_transition(c, i);
    SseFp e = sse_fp_env(c);
    uint32_t lo = i32_to_f32(&e, (int32_t)s), hi = i32_to_f32(&e, (int32_t)(s >> 32));
    sse_fp_commit(c, e.flags);
    XmmReg *d = xmm_reg(c, i->reg);
    d->d[0] = lo;
    d->d[1] = hi;
    NEXT(c, i);
}
SET_ALL(sse_cvtpi2ps, cvtpi2ps)

HANDLER(cvtpi2pd)
{
    sse_begin(c);
    uint64_t s = mm_src_transition(c, i);
    SseFp e = sse_fp_env(c);
    XmmReg *d = xmm_reg(c, i->reg);
    d->q[0] = i32_to_f64(&e, (int32_t)s);
    d->q[1] = i32_to_f64(&e, (int32_t)(s >> 32));
    NEXT(c, i);
}
SET_ALL(sse_cvtpi2pd, cvtpi2pd)

HANDLER(cvtsi2ss)
{
    sse_begin(c);
    int32_t s = gpr_src32(c, i);
    SseFp e = sse_fp_env(c);
    uint32_t r = i32_to_f32(&e, s);
    sse_fp_commit(c, e.flags);
    xmm_reg(c, i->reg)->d[0] = r;
    NEXT(c, i);
}
SET_ALL(sse_cvtsi2ss, cvtsi2ss)

HANDLER(cvtsi2sd)
{
    sse_begin(c);
    int32_t s = gpr_src32(c, i);
    SseFp e = sse_fp_env(c);
    xmm_reg(c, i->reg)->q[0] = i32_to_f64(&e, s);
    NEXT(c, i);
}
SET_ALL(sse_cvtsi2sd, cvtsi2sd)

/* CVT(T)PS2PI mm, xmm/m64 and CVT(T)PD2PI mm, xmm/m128: two integers into
 * an MMX register (an x87-to-MMX transition; SDM vol. 2, CVTPS2PI). */
static ALWAYS_INLINE void ps2pi(CpuState *c, const Insn *i, bool trunc)
{
    sse_mmx_begin(c);
    uint64_t s = sse_src64(c, i);
    mmx_touch(&c->fpu);
    SseFp e = sse_fp_env(c);
    uint64_t lo = f32_to_i32(&e, (uint32_t)s, trunc), hi = f32_to_i32(&e, (uint32_t)(s >> 32), trunc);
    sse_fp_commit(c, e.flags);
    mmx_set(c, i->reg, lo | hi << 32);
}
static ALWAYS_INLINE void pd2pi(CpuState *c, const Insn *i, bool trunc)
{
    sse_mmx_begin(c);
    XmmReg s;
    sse_src128(c, i, &s);
    mmx_touch(&c->fpu);
    SseFp e = sse_fp_env(c);
    uint64_t lo = f64_to_i32(&e, s.q[0], trunc), hi = f64_to_i32(&e, s.q[1], trunc);
    sse_fp_commit(c, e.flags);
    mmx_set(c, i->reg, lo | hi << 32);
}
HANDLER(cvtps2pi) { ps2pi(c, i, false); NEXT(c, i); }
HANDLER(cvttps2pi) { ps2pi(c, i, true); NEXT(c, i); }
HANDLER(cvtpd2pi) { pd2pi(c, i, false); NEXT(c, i); }
HANDLER(cvttpd2pi) { pd2pi(c, i, true); NEXT(c, i); }
SET_ALL(sse_cvtps2pi, cvtps2pi)
SET_ALL(sse_cvttps2pi, cvttps2pi)
SET_ALL(sse_cvtpd2pi, cvtpd2pi)
SET_ALL(sse_cvttpd2pi, cvttpd2pi)

/* CVT(T)SS2SI / CVT(T)SD2SI r32, xmm/m32|m64. */
static ALWAYS_INLINE void ss2si(CpuState *c, const Insn *i, bool dbl, bool trunc)
{
    sse_begin(c);
    SseFp e = sse_fp_env(c);
    uint32_t r = dbl ? f64_to_i32(&e, sse_src64(c, i), trunc) : f32_to_i32(&e, sse_src32(c, i), trunc);
    sse_fp_commit(c, e.flags);
    c->regs[i->reg] = r;
}
HANDLER(cvtss2si) { ss2si(c, i, false, false); NEXT(c, i); }
HANDLER(cvttss2si) { ss2si(c, i, false, true); NEXT(c, i); }
HANDLER(cvtsd2si) { ss2si(c, i, true, false); NEXT(c, i); }
HANDLER(cvttsd2si) { ss2si(c, i, true, true); NEXT(c, i); }
SET_ALL(sse_cvtss2si, cvtss2si)
SET_ALL(sse_cvttss2si, cvttss2si)
SET_ALL(sse_cvtsd2si, cvtsd2si)
SET_ALL(sse_cvttsd2si, cvttsd2si)

/* CVTPS2PD xmm, xmm/m64: two singles widened. */
HANDLER(cvtps2pd)
{
    sse_begin(c);
    uint64_t s = sse_src64(c, i);
    SseFp e = sse_fp_env(c);
    uint64_t lo = f32_to_f64(&e, (uint32_t)s), hi = f32_to_f64(&e, (uint32_t)(s >> 32));
    sse_fp_commit(c, e.flags);
    XmmReg *d = xmm_reg(c, i->reg);
    d->q[0] = lo;
    d->q[1] = hi;
    NEXT(c, i);
}
SET_ALL(sse_cvtps2pd, cvtps2pd)

/* CVTPD2PS xmm, xmm/m128: two doubles narrowed, upper half zeroed. */
HANDLER(cvtpd2ps)
{
    sse_begin(c);
    XmmReg s, r;
    sse_src128(c, i, &s);
    SseFp e = sse_fp_env(c);
    r.d[0] = f64_to_f32(&e, s.q[0]);
    r.d[1] = f64_to_f32(&e, s.q[1]);
    r.q[1] = 0;
    sse_fp_commit(c, e.flags);
    *xmm_reg(c, i->reg) = r;
    NEXT(c, i);
}
SET_ALL(sse_cvtpd2ps, cvtpd2ps)

HANDLER(cvtss2sd)
{
    sse_begin(c);
    uint32_t s = sse_src32(c, i);
    SseFp e = sse_fp_env(c);
    uint64_t r = f32_to_f64(&e, s);
    sse_fp_commit(c, e.flags);
    xmm_reg(c, i->reg)->q[0] = r;
    NEXT(c, i);
}
SET_ALL(sse_cvtss2sd, cvtss2sd)

HANDLER(cvtsd2ss)
{
    sse_begin(c);
    uint64_t s = sse_src64(c, i);
    SseFp e = sse_fp_env(c);
    uint32_t r = f64_to_f32(&e, s);
    sse_fp_commit(c, e.flags);
    xmm_reg(c, i->reg)->d[0] = r;
    NEXT(c, i);
}
SET_ALL(sse_cvtsd2ss, cvtsd2ss)

HANDLER(cvtdq2ps)
{
    sse_begin(c);
    XmmReg s, r;
    sse_src128(c, i, &s);
    SseFp e = sse_fp_env(c);
    for (int k = 0; k < 4; k++)
        r.d[k] = i32_to_f32(&e, (int32_t)s.d[k]);
    sse_fp_commit(c, e.flags);
    *xmm_reg(c, i->reg) = r;
    NEXT(c, i);
}
SET_ALL(sse_cvtdq2ps, cvtdq2ps)

static ALWAYS_INLINE void ps2dq(CpuState *c, const Insn *i, bool trunc)
{
    sse_begin(c);
    XmmReg s, r;
    sse_src128(c, i, &s);
    SseFp e = sse_fp_env(c);
    for (int k = 0; k < 4; k++)
        r.d[k] = f32_to_i32(&e, s.d[k], trunc);
    sse_fp_commit(c, e.flags);
    *xmm_reg(c, i->reg) = r;
}
HANDLER(cvtps2dq) { ps2dq(c, i, false); NEXT(c, i); }
HANDLER(cvttps2dq) { ps2dq(c, i, true); NEXT(c, i); }
SET_ALL(sse_cvtps2dq, cvtps2dq)
SET_ALL(sse_cvttps2dq, cvttps2dq)

/* CVT(T)PD2DQ xmm, xmm/m128: two integers, upper half zeroed. */
static ALWAYS_INLINE void pd2dq(CpuState *c, const Insn *i, bool trunc)
{
    sse_begin(c);
    XmmReg s, r;
    sse_src128(c, i, &s);
    SseFp e = sse_fp_env(c);
    r.d[0] = f64_to_i32(&e, s.q[0], trunc);
    r.d[1] = f64_to_i32(&e, s.q[1], trunc);
    r.q[1] = 0;
    sse_fp_commit(c, e.flags);
    *xmm_reg(c, i->reg) = r;
}
HANDLER(cvtpd2dq) { pd2dq(c, i, false); NEXT(c, i); }
HANDLER(cvttpd2dq) { pd2dq(c, i, true); NEXT(c, i); }
SET_ALL(sse_cvtpd2dq, cvtpd2dq)
SET_ALL(sse_cvttpd2dq, cvttpd2dq)

/* CVTDQ2PD xmm, xmm/m64: exact. */
HANDLER(cvtdq2pd)
{
    sse_begin(c);
    uint64_t s = sse_src64(c, i);
    SseFp e = sse_fp_env(c);
    XmmReg *d = xmm_reg(c, i->reg);
    d->q[0] = i32_to_f64(&e, (int32_t)s);
    d->q[1] = i32_to_f64(&e, (int32_t)(s >> 32));
    NEXT(c, i);
}
SET_ALL(sse_cvtdq2pd, cvtdq2pd)
