/* Multiply, divide and the decimal adjusts: MUL IMUL (F6/F7 /4 /5, 0F AF,
 * 69, 6B), DIV IDIV (F6/F7 /6 /7), DAA DAS AAA AAS AAM AAD.
 *
 * Flags the SDM vol. 2 leaves undefined are set the way a current Intel
 * core sets them (measured on the host with the same operands), so the
 * host-oracle tests can compare every flag:
 *  - MUL/IMUL: SF and PF from the low half of the product (the register
 *    the destination's low part lands in), ZF = 0, AF = 0.
 *  - DIV/IDIV: no flag changes.
 *  - DAA/DAS: OF = 0.  AAA/AAS: OF = 0, SF/ZF/PF from the final AL.
 *    AAM: OF = AF = CF = 0.  AAD: OF/AF/CF of the byte addition it does.
 *  - A #DE (divide error, AAM 0) changes no flag.
 */
#include "cpu/handlers.h"

static ALWAYS_INLINE int32_t sext(uint32_t v, unsigned size)
{
    unsigned sh = 32 - 8 * size;
    return (int32_t)(v << sh) >> sh;
}

static ALWAYS_INLINE uint32_t src_read(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    return mem ? mem_read(c, i->seg, insn_ea(c, i), size) : reg_get(c, i->rm, size);
}

/* Flags after a multiply whose truncated result is `lo`; `ovf` is the
 * CF/OF condition of the SDM (the product does not fit the low half). */
static ALWAYS_INLINE void mul_flags(CpuState *c, uint32_t lo, unsigned size, bool ovf)
{
    uint32_t f = (flags_szp(lo, size) & (FL_SF | FL_PF)) | (ovf ? FL_CF | FL_OF : 0);
    flags_set_bits(c, FL_ARITH, f);
}

/* Store a double-width product or quotient/remainder pair: AL/AH for bytes
 * (AX as a whole), DX:AX and EDX:EAX otherwise (SDM vol. 2, MUL table 4-9). */
static ALWAYS_INLINE void acc_pair_set(CpuState *c, unsigned size, uint32_t lo, uint32_t hi)
{
    if (size == 1) {
        reg16_set(c, R_EAX, (lo & 0xFF) | ((hi & 0xFF) << 8));
    } else {
        reg_set(c, R_EAX, size, lo);
        reg_set(c, R_EDX, size, hi);
    }
}

/* ---- MUL / IMUL -------------------------------------------------------- */

static ALWAYS_INLINE void mul_E_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t src = src_read(c, i, size, mem);
    uint64_t p = (uint64_t)reg_get(c, R_EAX, size) * src;
    uint32_t lo = (uint32_t)p & size_mask(size);
    uint32_t hi = (uint32_t)(p >> (8 * size)) & size_mask(size);
    acc_pair_set(c, size, lo, hi);
    mul_flags(c, lo, size, hi != 0);
    NEXT(c, i);
}
SPECIALIZE(mul_E)

/* Signed product of two operands of `size` bytes; *ovf when it does not fit
 * `size` bytes signed (SDM vol. 2, IMUL: CF = OF = the sign-extended
 * truncated result differs from the full one). */
static ALWAYS_INLINE int64_t imul_full(uint32_t a, uint32_t b, unsigned size, bool *ovf)
{
    int64_t p = (int64_t)sext(a, size) * sext(b, size);
    *ovf = p != (int64_t)sext((uint32_t)p & size_mask(size), size);
    return p;
}

static ALWAYS_INLINE void imul_E_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t src = src_read(c, i, size, mem);
    bool ovf;
    int64_t p = imul_full(reg_get(c, R_EAX, size), src, size, &ovf);
    uint32_t lo = (uint32_t)p & size_mask(size);
    uint32_t hi = (uint32_t)((uint64_t)p >> (8 * size)) & size_mask(size);
    acc_pair_set(c, size, lo, hi);
    mul_flags(c, lo, size, ovf);
    NEXT(c, i);
}
SPECIALIZE(imul_E)

/* IMUL r, r/m (0F AF) and IMUL r, r/m, imm (69, 6B): the product is
 * truncated to the operand size.  No byte forms exist; the byte slots of
 * the sets are unused. */
static ALWAYS_INLINE void imul_GE_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t src = src_read(c, i, size, mem);
    bool ovf;
    uint32_t lo = (uint32_t)imul_full(reg_get(c, i->reg, size), src, size, &ovf) & size_mask(size);
    reg_set(c, i->reg, size, lo);
    mul_flags(c, lo, size, ovf);
    NEXT(c, i);
}
SPECIALIZE(imul_GE)

static ALWAYS_INLINE void imul_GEI_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t src = src_read(c, i, size, mem);
    bool ovf;
    /* imm is sign-extended for 6B; for 69 with a 16-bit operand it is the
     * raw word, which imul_full sign-extends from the operand size. */
    uint32_t lo = (uint32_t)imul_full(src, i->imm, size, &ovf) & size_mask(size);
    reg_set(c, i->reg, size, lo);
    mul_flags(c, lo, size, ovf);
    NEXT(c, i);
}
SPECIALIZE(imul_GEI)

/* ---- DIV / IDIV ---------------------------------------------------------
 * #DE (a fault: EIP stays on the instruction) for a zero divisor and for a
 * quotient that does not fit the destination (SDM vol. 2, DIV and IDIV).
 * On 286 and later parts the most negative quotient (-128, -32768, -2^31)
 * is representable and allowed.  Flags are undefined; the host leaves them
 * all unchanged and so does Kestrel. */

static ALWAYS_INLINE uint64_t dividend_get(const CpuState *c, unsigned size)
{
    if (size == 1)
        return reg16_get(c, R_EAX);
    if (size == 2)
        return ((uint32_t)reg16_get(c, R_EDX) << 16) | reg16_get(c, R_EAX);
    return ((uint64_t)c->regs[R_EDX] << 32) | c->regs[R_EAX];
}

static ALWAYS_INLINE void div_E_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t src = src_read(c, i, size, mem);
    uint64_t n = dividend_get(c, size);
    if (src == 0)
        cpu_raise(c, EXC_DE, 0, false);
    uint64_t q = n / src;
    if (q > size_mask(size))
        cpu_raise(c, EXC_DE, 0, false);
    acc_pair_set(c, size, (uint32_t)q, (uint32_t)(n % src));
    NEXT(c, i);
}
SPECIALIZE(div_E)

static ALWAYS_INLINE void idiv_E_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    int64_t d = sext(src_read(c, i, size, mem), size);
    uint64_t raw = dividend_get(c, size);
    int64_t n = size == 4 ? (int64_t)raw : (int64_t)sext((uint32_t)raw, 2 * size);
    /* -2^63 / -1 would overflow the host division itself. */
    if (d == 0 || (d == -1 && n == INT64_MIN))
        cpu_raise(c, EXC_DE, 0, false);
    int64_t q = n / d, r = n % d; /* C truncates toward zero, as IDIV does */
    int64_t lim = (int64_t)1 << (8 * size - 1);
    if (q < -lim || q > lim - 1)
        cpu_raise(c, EXC_DE, 0, false);
    acc_pair_set(c, size, (uint32_t)q, (uint32_t)r);
    NEXT(c, i);
}
SPECIALIZE(idiv_E)

/* ---- Decimal adjust ----------------------------------------------------- */

static inline uint32_t arith_flags(CpuState *c)
{
    flags_materialize(c);
    return c->eflags & FL_ARITH;
}

/* DAA (SDM vol. 2, DAA pseudo-code).  OF is undefined: cleared, as on the
 * host. */
HANDLER(bcd_daa)
{
    uint32_t f = arith_flags(c);
    uint32_t al = reg8_get(c, 0), old_al = al;
    bool old_cf = f & FL_CF;
    uint32_t nf = 0;
    if ((al & 0x0F) > 9 || (f & FL_AF)) {
        al = (al + 6) & 0xFF;
        nf |= FL_AF;
    }
    if (old_al > 0x99 || old_cf) {
        al = (al + 0x60) & 0xFF;
        nf |= FL_CF;
    }
    reg8_set(c, 0, al);
    flags_set_bits(c, FL_ARITH, nf | flags_szp(al, 1));
    NEXT(c, i);
}
SET_ALL(bcd_daa, bcd_daa)

/* DAS (SDM vol. 2, DAS pseudo-code: the first adjustment's borrow sets CF,
 * the second adjustment sets it, nothing clears it).  OF is undefined:
 * cleared, as on the host. */
HANDLER(bcd_das)
{
    uint32_t f = arith_flags(c);
    uint32_t al = reg8_get(c, 0), old_al = al;
    bool old_cf = f & FL_CF;
    uint32_t nf = 0;
    if ((al & 0x0F) > 9 || (f & FL_AF)) {
        nf |= FL_AF | ((old_cf || al < 6) ? FL_CF : 0);
        al = (al - 6) & 0xFF;
    }
    if (old_al > 0x99 || old_cf) {
        al = (al - 0x60) & 0xFF;
        nf |= FL_CF;
    }
    reg8_set(c, 0, al);
    flags_set_bits(c, FL_ARITH, nf | flags_szp(al, 1));
    NEXT(c, i);
}
SET_ALL(bcd_das, bcd_das)

/* AAA / AAS: from the 386 on, the adjustment is applied to AX as a whole
 * (AX +/- 106h), so a carry/borrow out of AL reaches AH (SDM vol. 2, AAA
 * and AAS pseudo-code).  OF, SF, ZF and PF are undefined; the host clears
 * OF and sets SF, ZF, PF from the final AL. */
HANDLER(bcd_aaa)
{
    uint32_t f = arith_flags(c);
    uint32_t ax = reg16_get(c, R_EAX);
    uint32_t nf = 0;
    if ((ax & 0x0F) > 9 || (f & FL_AF)) {
        ax += 0x106;
        nf = FL_AF | FL_CF;
    }
    ax &= 0xFF0F;
    reg16_set(c, R_EAX, ax);
    flags_set_bits(c, FL_ARITH, nf | flags_szp(ax & 0xFF, 1));
    NEXT(c, i);
}
SET_ALL(bcd_aaa, bcd_aaa)

HANDLER(bcd_aas)
{
    uint32_t f = arith_flags(c);
    uint32_t ax = reg16_get(c, R_EAX);
    uint32_t nf = 0;
    if ((ax & 0x0F) > 9 || (f & FL_AF)) {
        ax -= 0x106;
        nf = FL_AF | FL_CF;
    }
    ax &= 0xFF0F;
    reg16_set(c, R_EAX, ax);
    flags_set_bits(c, FL_ARITH, nf | flags_szp(ax & 0xFF, 1));
    NEXT(c, i);
}
SET_ALL(bcd_aas, bcd_aas)

/* AAM imm8: AH = AL / imm, AL = AL mod imm; #DE when imm is 0 (SDM vol. 2,
 * AAM).  SF, ZF, PF from AL; OF, AF, CF are undefined and cleared, as on
 * the host. */
HANDLER(bcd_aam)
{
    uint32_t base = i->imm & 0xFF;
    if (base == 0)
        cpu_raise(c, EXC_DE, 0, false);
    uint32_t al = reg8_get(c, 0);
    uint32_t q = al / base, r = al % base;
    reg16_set(c, R_EAX, (q << 8) | r);
    flags_set_bits(c, FL_ARITH, flags_szp(r, 1));
    NEXT(c, i);
}
SET_ALL(bcd_aam, bcd_aam)

/* AAD imm8: AL = (AL + AH * imm) & FFh, AH = 0 (SDM vol. 2, AAD).  SF, ZF,
 * PF from AL; OF, AF, CF are undefined, and the host sets them as the byte
 * addition AL + (AH * imm & FFh) would, so that is what Kestrel records. */
HANDLER(bcd_aad)
{
    uint32_t al = reg8_get(c, 0), ah = reg8_get(c, 4);
    uint32_t prod = (ah * (i->imm & 0xFF)) & 0xFF;
    uint32_t res = (al + prod) & 0xFF;
    reg16_set(c, R_EAX, res);
    lf_set(c, LF_ADD, 1, al, prod, res);
    NEXT(c, i);
}
SET_ALL(bcd_aad, bcd_aad)
