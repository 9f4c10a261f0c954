/* SSE and SSE2 integer instructions (SDM vol. 2, the instruction pages;
 * vol. 1, 10.4.4, 11.4.2 and 11.4.3):
 *   - the SSE additions on MMX registers (PSHUFW, PINSRW, PEXTRW, PMOVMSKB,
 *     PMINUB/PMAXUB, PMINSW/PMAXSW, PAVGB/PAVGW, PMULHUW, PSADBW, MOVNTQ,
 *     MASKMOVQ) and SSE2's PADDQ, PSUBQ, PMULUDQ on MMX registers;
 *   - the 66-prefixed XMM forms of all of these and of every MMX
 *     instruction, PSHUFD/PSHUFHW/PSHUFLW, PUNPCKLQDQ/PUNPCKHQDQ,
 *     PSRLDQ/PSLLDQ, MASKMOVDQU;
 *   - MOVD/MOVQ to and from XMM registers, MOVQ2DQ and MOVDQ2Q.
 *
 * The lane arithmetic is in simd_lanes.h, shared with cpu/mmx.c: an XMM
 * operation whose lanes stay inside a quadword applies the 64-bit helper
 * to each quadword; the packs and unpacks regroup quadwords first.
 *
 * Exception rules (simd.h): the MMX-register forms behave like MMX
 * instructions (#UD with CR0.EM, #NM with CR0.TS, #MF for a pending x87
 * exception, then TOP = 0 and all tags valid; CR4.OSFXSR is not checked);
 * the XMM forms check CR0.EM, CR4.OSFXSR and CR0.TS and leave the x87
 * state alone, except MOVQ2DQ and MOVDQ2Q, which touch an MMX register and
 * so also check #MF and make the transition to MMX state.  A 128-bit
 * memory operand must be 16-byte aligned (#GP(0)); 16-, 32- and 64-bit
 * ones need not be.
 */
#include "cpu/simd_lanes.h"

/* ---- SSE additions on MMX registers ------------------------------------------------ */

MMX_BIN(pminub)
MMX_BIN(pmaxub)
MMX_BIN(pminsw)
MMX_BIN(pmaxsw)
MMX_BIN(pavgb)
MMX_BIN(pavgw)
MMX_BIN(pmulhuw)
MMX_BIN(psadbw)
MMX_BIN(paddq)
MMX_BIN(psubq)
MMX_BIN(pmuludq)

/* 0F 70: PSHUFW mm, mm/m64, imm8. */
HANDLER(mmx_pshufw)
{
    mmx_enter(c);
    uint64_t s = mmx_src(c, i);
    mmx_set(c, i->reg, op_pshufw(s, i->imm & 0xFF));
    NEXT(c, i);
}
SET_ALL(mmx_pshufw, mmx_pshufw)

/* The r32/m16 source of PINSRW: the low word of the register, or a word of
 * memory (SDM vol. 2, PINSRW). */
static uint16_t pinsrw_src(CpuState *c, const Insn *i)
{
    if (i->flags & I_MEM)
        return (uint16_t)mem_read16(c, i->seg, insn_ea(c, i));
    return (uint16_t)c->regs[i->rm];
}

/* 0F C4: PINSRW mm, r32/m16, imm8: imm8 bits 1:0 select the word. */
HANDLER(mmx_pinsrw)
{
    mmx_enter(c);
    uint64_t w = pinsrw_src(c, i);
    unsigned sh = 16 * (i->imm & 3);
    uint64_t v = mmx_get(c, i->reg) & ~(0xFFFFull << sh);
    mmx_set(c, i->reg, v | w << sh);
    NEXT(c, i);
}
SET_ALL(mmx_pinsrw, mmx_pinsrw)

/* 0F C5: PEXTRW r32, mm, imm8: the selected word, zero-extended. */
HANDLER(mmx_pextrw)
{
    mmx_enter(c);
    c->regs[i->reg] = (uint32_t)(mmx_get(c, i->rm) >> (16 * (i->imm & 3))) & 0xFFFF;
    mmx_touch(&c->fpu);
    NEXT(c, i);
}
SET_ALL(mmx_pextrw, mmx_pextrw)

/* 0F D7: PMOVMSKB r32, mm: the byte sign bits, upper bits zero. */
HANDLER(mmx_pmovmskb)
{
    mmx_enter(c);
    c->regs[i->reg] = op_pmovmskb(mmx_get(c, i->rm));
    mmx_touch(&c->fpu);
    NEXT(c, i);
}
SET_ALL(mmx_pmovmskb, mmx_pmovmskb)

/* 0F E7: MOVNTQ m64, mm.  The non-temporal hint changes nothing without
 * caches: an ordinary 64-bit store. */
HANDLER(mmx_movntq)
{
    mmx_enter(c);
    simd_write64(c, i, mmx_get(c, i->reg));
    mmx_touch(&c->fpu);
    NEXT(c, i);
}
SET_ALL(mmx_movntq, mmx_movntq)

/* MASKMOVQ / MASKMOVDQU: store the bytes of `data` whose `mask` byte has
 * its top bit set to DS:(E)DI (DS overridable; DI with a 16-bit address
 * size).  `nq` quadwords (1 or 2).
 *
 * Faults (SDM vol. 2, MASKMOVQ in the Pentium III edition: "a zero byte
 * mask does not prevent addressing faults (i.e., #GP, #SS) from being
 * signaled.  Signaling of page faults is implementation-specific"; the
 * current edition: "exceptions associated with addressing memory and page
 * faults may still be signaled (implementation dependent)"): the segment
 * limit and type checks cover the whole 8 or 16 bytes whatever the mask;
 * the page checks are made, for the whole operand, only when some byte is
 * to be written, and before any is, so that a fault leaves memory as it
 * was.  There is no alignment rule. */
static void masked_store(CpuState *c, const Insn *i, const uint64_t *data, const uint64_t *mask,
                         int nq)
{
    uint32_t off = c->regs[R_EDI];
    if (!(i->flags & I_AD32))
        off &= 0xFFFF;
    unsigned n = 8 * (unsigned)nq;
    seg_lin_w(c, i->seg, off, n);
    uint32_t sel = 0;
    for (int q = 0; q < nq; q++)
        sel |= op_pmovmskb(mask[q]) << (8 * q);
    if (!sel)
        return;
    mem_probe_write(c, i->seg, off, n);
    for (unsigned k = 0; k < n; k++)
        if (sel >> k & 1)
            mem_write8(c, i->seg, off + k, (uint32_t)(data[k / 8] >> (8 * (k % 8))) & 0xFF);
}

/* 0F F7: MASKMOVQ mm1, mm2 (data mm1, mask mm2).  The x87-to-MMX
 * transition happens whatever the mask. */
HANDLER(mmx_maskmovq)
{
    mmx_enter(c);
    uint64_t data = mmx_get(c, i->reg), mask = mmx_get(c, i->rm);
    masked_store(c, i, &data, &mask, 1);
    mmx_touch(&c->fpu);
    NEXT(c, i);
}
SET_ALL(mmx_maskmovq, mmx_maskmovq)

/* ---- XMM forms of the lane operations ----------------------------------------------- */

/* xmm, xmm/m128 with lanes inside each quadword: op on each quadword.
 * `count_lane` 0 gives the shifts' form, where the count is the source's
 * low quadword for both halves (SDM vol. 2, PSRLW: "COUNT <- SRC[63:0]"). */
#define XMM_HALVES(name, count_lane)                                                       \
    HANDLER(sse_##name)                                                                    \
    {                                                                                      \
        sse_begin(c);                                                                      \
        XmmReg s;                                                                          \
        sse_src128(c, i, &s);                                                              \
        XmmReg *d = xmm_reg(c, i->reg);                                                    \
        d->q[0] = op_##name(d->q[0], s.q[0]);                                              \
        d->q[1] = op_##name(d->q[1], s.q[count_lane]);                                     \
        NEXT(c, i);                                                                        \
    }                                                                                      \
    SET_ALL(sse_##name, sse_##name)
#define XMM_BIN(name) XMM_HALVES(name, 1)
#define XMM_SHIFT(name) XMM_HALVES(name, 0)

XMM_BIN(paddb)
XMM_BIN(paddw)
XMM_BIN(paddd)
XMM_BIN(paddq)
XMM_BIN(psubb)
XMM_BIN(psubw)
XMM_BIN(psubd)
XMM_BIN(psubq)
XMM_BIN(paddsb)
XMM_BIN(paddsw)
XMM_BIN(psubsb)
XMM_BIN(psubsw)
XMM_BIN(paddusb)
XMM_BIN(paddusw)
XMM_BIN(psubusb)
XMM_BIN(psubusw)
XMM_BIN(pcmpeqb)
XMM_BIN(pcmpeqw)
XMM_BIN(pcmpeqd)
XMM_BIN(pcmpgtb)
XMM_BIN(pcmpgtw)
XMM_BIN(pcmpgtd)
XMM_BIN(pminub)
XMM_BIN(pmaxub)
XMM_BIN(pminsw)
XMM_BIN(pmaxsw)
XMM_BIN(pavgb)
XMM_BIN(pavgw)
XMM_BIN(pmullw)
XMM_BIN(pmulhw)
XMM_BIN(pmulhuw)
XMM_BIN(pmaddwd)
XMM_BIN(pmuludq)
XMM_BIN(psadbw)
XMM_BIN(pand)
XMM_BIN(pandn)
XMM_BIN(por)
XMM_BIN(pxor)

/* Packs: the destination's eight (four) lanes become the low quadword, the
 * source's the high one. */
#define XMM_PACK(name)                                                                     \
    HANDLER(sse_##name)                                                                    \
    {                                                                                      \
        sse_begin(c);                                                                      \
        XmmReg s;                                                                          \
        sse_src128(c, i, &s);                                                              \
        XmmReg *d = xmm_reg(c, i->reg);                                                    \
        d->q[0] = op_##name(d->q[0], d->q[1]);                                             \
        d->q[1] = op_##name(s.q[0], s.q[1]);                                               \
        NEXT(c, i);                                                                        \
    }                                                                                      \
    SET_ALL(sse_##name, sse_##name)

XMM_PACK(packsswb)
XMM_PACK(packssdw)
XMM_PACK(packuswb)

/* Unpacks: interleave the low (half 0) or high (half 1) quadwords of
 * destination and source; the interleave's low quadword is the 64-bit
 * "low" unpack of those quadwords, its high quadword the "high" unpack.
 * Unlike the MMX PUNPCKL forms, the memory operand is a whole aligned m128
 * (SDM vol. 2, PUNPCKLBW). */
#define XMM_UNPACK(name, w, half)                                                          \
    HANDLER(sse_##name)                                                                    \
    {                                                                                      \
        sse_begin(c);                                                                      \
        XmmReg s;                                                                          \
        sse_src128(c, i, &s);                                                              \
        XmmReg *d = xmm_reg(c, i->reg);                                                    \
        uint64_t a = d->q[half], b = s.q[half];                                            \
        d->q[0] = op_punpckl##w(a, b);                                                     \
        d->q[1] = op_punpckh##w(a, b);                                                     \
        NEXT(c, i);                                                                        \
    }                                                                                      \
    SET_ALL(sse_##name, sse_##name)

XMM_UNPACK(punpcklbw, bw, 0)
XMM_UNPACK(punpcklwd, wd, 0)
XMM_UNPACK(punpckldq, dq, 0)
XMM_UNPACK(punpckhbw, bw, 1)
XMM_UNPACK(punpckhwd, wd, 1)
XMM_UNPACK(punpckhdq, dq, 1)

/* PUNPCKLQDQ / PUNPCKHQDQ (SSE2): destination quadword, then source's. */
static ALWAYS_INLINE void unpack_qdq(CpuState *c, const Insn *i, int half)
{
    sse_begin(c);
    XmmReg s;
    sse_src128(c, i, &s);
    XmmReg *d = xmm_reg(c, i->reg);
    d->q[0] = d->q[half];
    d->q[1] = s.q[half];
}
HANDLER(sse_punpcklqdq)
{
    unpack_qdq(c, i, 0);
    NEXT(c, i);
}
SET_ALL(sse_punpcklqdq, sse_punpcklqdq)
HANDLER(sse_punpckhqdq)
{
    unpack_qdq(c, i, 1);
    NEXT(c, i);
}
SET_ALL(sse_punpckhqdq, sse_punpckhqdq)

/* Shifts by xmm/m128. */
XMM_SHIFT(psrlw)
XMM_SHIFT(psrld)
XMM_SHIFT(psrlq)
XMM_SHIFT(psraw)
XMM_SHIFT(psrad)
XMM_SHIFT(psllw)
XMM_SHIFT(pslld)
XMM_SHIFT(psllq)

/* PSRLDQ / PSLLDQ: the whole register shifted by imm8 bytes, zeros shifted
 * in; a count above 15 clears it (SDM vol. 2, PSRLDQ). */
static void xmm_byte_shift(XmmReg *v, unsigned n, bool left)
{
    XmmReg r;
    for (int k = 0; k < 16; k++) {
        int from = left ? k - (int)n : k + (int)n;
        r.b[k] = n < 16 && from >= 0 && from < 16 ? v->b[from] : 0;
    }
    *v = r;
}

/* 66 0F 71/72/73 (groups 12-14, register forms only): the shifts by imm8
 * of the MMX groups, plus 73 /3 PSRLDQ and 73 /7 PSLLDQ.  The decoder
 * admits only the defined ModRM.reg values. */
HANDLER(sse_shift_imm)
{
    sse_begin(c);
    XmmReg *d = xmm_reg(c, i->rm);
    unsigned n = i->imm & 0xFF;
    if (i->op == 0x73 && (i->reg == 3 || i->reg == 7)) {
        xmm_byte_shift(d, n, i->reg == 7);
    } else {
        LaneOp f = shift_imm_op(i->op, i->reg);
        if (!f)
            cpu_raise_ud(c);
        d->q[0] = f(d->q[0], n);
        d->q[1] = f(d->q[1], n);
    }
    NEXT(c, i);
}
SET_ALL(sse_shift_imm, sse_shift_imm)

/* ---- XMM shuffles, word insert/extract, byte masks ---------------------------------- */

/* 66 0F 70: PSHUFD xmm, xmm/m128, imm8: dword k of the result is the
 * source dword that imm8 bits 2k+1:2k select. */
HANDLER(sse_pshufd)
{
    sse_begin(c);
    XmmReg s, r;
    sse_src128(c, i, &s);
    for (int k = 0; k < 4; k++)
        r.d[k] = s.d[(i->imm >> (2 * k)) & 3];
    *xmm_reg(c, i->reg) = r;
    NEXT(c, i);
}
SET_ALL(sse_pshufd, sse_pshufd)

/* F2 0F 70: PSHUFLW (the low quadword's words shuffled as by PSHUFW, the
 * high quadword copied) and F3 0F 70: PSHUFHW (the reverse). */
static ALWAYS_INLINE void pshuf_half(CpuState *c, const Insn *i, int half)
{
    sse_begin(c);
    XmmReg s;
    sse_src128(c, i, &s);
    s.q[half] = op_pshufw(s.q[half], i->imm & 0xFF);
    *xmm_reg(c, i->reg) = s;
}
HANDLER(sse_pshuflw)
{
    pshuf_half(c, i, 0);
    NEXT(c, i);
}
SET_ALL(sse_pshuflw, sse_pshuflw)
HANDLER(sse_pshufhw)
{
    pshuf_half(c, i, 1);
    NEXT(c, i);
}
SET_ALL(sse_pshufhw, sse_pshufhw)

/* 66 0F C4: PINSRW xmm, r32/m16, imm8: imm8 bits 2:0 select the word. */
HANDLER(sse_pinsrw)
{
    sse_begin(c);
    uint16_t w = pinsrw_src(c, i);
    xmm_reg(c, i->reg)->w[i->imm & 7] = w;
    NEXT(c, i);
}
SET_ALL(sse_pinsrw, sse_pinsrw)

/* 66 0F C5: PEXTRW r32, xmm, imm8: the selected word, zero-extended. */
HANDLER(sse_pextrw)
{
    sse_begin(c);
    c->regs[i->reg] = xmm_reg(c, i->rm)->w[i->imm & 7];
    NEXT(c, i);
}
SET_ALL(sse_pextrw, sse_pextrw)

/* 66 0F D7: PMOVMSKB r32, xmm: 16 byte sign bits, upper bits zero. */
HANDLER(sse_pmovmskb)
{
    sse_begin(c);
    const XmmReg *s = xmm_reg(c, i->rm);
    c->regs[i->reg] = op_pmovmskb(s->q[0]) | op_pmovmskb(s->q[1]) << 8;
    NEXT(c, i);
}
SET_ALL(sse_pmovmskb, sse_pmovmskb)

/* 66 0F F7: MASKMOVDQU xmm1, xmm2 (data xmm1, mask xmm2); see
 * masked_store.  No alignment rule (SDM vol. 2, MASKMOVDQU: "the memory
 * location does not need to be aligned"). */
HANDLER(sse_maskmovdqu)
{
    sse_begin(c);
    XmmReg data = *xmm_reg(c, i->reg), mask = *xmm_reg(c, i->rm);
    masked_store(c, i, data.q, mask.q, 2);
    NEXT(c, i);
}
SET_ALL(sse_maskmovdqu, sse_maskmovdqu)

/* ---- MOVD / MOVQ with XMM registers -------------------------------------------------- */

/* 66 0F 6E: MOVD xmm, r/m32: zero-extended to 128 bits. */
HANDLER(sse_movd_ld)
{
    sse_begin(c);
    uint32_t v = gpr_src32(c, i);
    XmmReg *d = xmm_reg(c, i->reg);
    d->q[0] = v;
    d->q[1] = 0;
    NEXT(c, i);
}
SET_ALL(sse_movd_ld, sse_movd_ld)

/* 66 0F 7E: MOVD r/m32, xmm: the low doubleword. */
HANDLER(sse_movd_st)
{
    sse_begin(c);
    uint32_t v = xmm_reg(c, i->reg)->d[0];
    if (i->flags & I_MEM)
        mem_write32(c, i->seg, insn_ea(c, i), v);
    else
        c->regs[i->rm] = v;
    NEXT(c, i);
}
SET_ALL(sse_movd_st, sse_movd_st)

/* F3 0F 7E: MOVQ xmm, xmm/m64: the low quadword, the high one zeroed
 * (SDM vol. 2, MOVQ). */
HANDLER(sse_movq_ld)
{
    sse_begin(c);
    uint64_t v = sse_src64(c, i);
    XmmReg *d = xmm_reg(c, i->reg);
    d->q[0] = v;
    d->q[1] = 0;
    NEXT(c, i);
}
SET_ALL(sse_movq_ld, sse_movq_ld)

/* 66 0F D6: MOVQ xmm/m64, xmm: a register destination gets its high
 * quadword zeroed too. */
HANDLER(sse_movq_st)
{
    sse_begin(c);
    uint64_t v = xmm_reg(c, i->reg)->q[0];
    if (i->flags & I_MEM) {
        simd_write64(c, i, v);
    } else {
        XmmReg *d = xmm_reg(c, i->rm);
        d->q[0] = v;
        d->q[1] = 0;
    }
    NEXT(c, i);
}
SET_ALL(sse_movq_st, sse_movq_st)

/* F3 0F D6: MOVQ2DQ xmm, mm: zero-extended; reading an MMX register makes
 * the x87 transition (SDM vol. 2, MOVQ2DQ). */
HANDLER(sse_movq2dq)
{
    sse_mmx_begin(c);
    XmmReg *d = xmm_reg(c, i->reg);
    d->q[0] = mmx_get(c, i->rm);
    d->q[1] = 0;
    mmx_touch(&c->fpu);
    NEXT(c, i);
}
SET_ALL(sse_movq2dq, sse_movq2dq)

/* F2 0F D6: MOVDQ2Q mm, xmm: the low quadword. */
HANDLER(sse_movdq2q)
{
    sse_mmx_begin(c);
    mmx_set(c, i->reg, xmm_reg(c, i->rm)->q[0]);
    NEXT(c, i);
}
SET_ALL(sse_movdq2q, sse_movdq2q)
