/* Shifts and rotates: ROL ROR RCL RCR SHL/SAL SHR SAR (C0 C1 D0-D3) and the
 * double-precision shifts SHLD SHRD (0F A4 A5 AC AD).
 *
 * Results follow the SDM vol. 2 pseudo-code ("RCL/RCR/ROL/ROR-Rotate",
 * "SAL/SAR/SHL/SHR-Shift", "SHLD-Double Precision Shift Left", "SHRD-Double
 * Precision Shift Right"): the count is masked to 5 bits, and a masked count
 * of 0 changes neither the operand nor any flag.  The memory operand is
 * still read in that case (the access is part of the instruction), but not
 * written back.
 *
 * The SDM leaves several flags undefined; Kestrel does what a current Intel
 * core does (measured on the host, see the notes at each operation), so the
 * host-oracle tests can compare every flag:
 *  - OF for a count other than 1 is the count-1 formula applied to the
 *    original operand (SHL/ROL/RCL: its top two bits XORed; SHR: its top
 *    bit; SAR: 0; ROR: its top and bottom bits XORed; RCR: its top bit
 *    XOR the incoming CF; SHLD/SHRD likewise from the top bits of the
 *    destination and, for SHRD, bit 0 of the source).
 *  - AF is cleared by SHL/SHR/SAR/SHLD/SHRD with a non-zero count and left
 *    alone by the rotates.
 *  - SHLD/SHRD with a 16-bit operand and a count above 16 shift the 48-bit
 *    value dest:src:dest, which is what the hardware does (the SDM calls the
 *    result undefined).
 * (A 286 computes OF for counts above 1 from the last single-bit step
 * instead, so the SingleStepTests 286 suite disagrees there: the flag is
 * undefined, see tests/sst's undef-flags divergence.) */
#include "cpu/handlers.h"

enum { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAR };

static ALWAYS_INLINE uint32_t bit_of(uint32_t v, unsigned n)
{
    return (v >> n) & 1;
}

/* One shift or rotate of `v` (size bytes) by `count` (1..31, already
 * masked).  `cf_in` is the carry flag for RCL/RCR.  Returns the result and
 * sets *fl to the new flag bits and *fmask to the flags that change. */
static ALWAYS_INLINE uint32_t shift_calc(unsigned kind, unsigned size, uint32_t v, unsigned count,
                                         uint32_t cf_in, uint32_t *fl, uint32_t *fmask)
{
    const unsigned n = 8 * size;
    const uint32_t m = size_mask(size);
    /* The two top bits of the operand: OF of a one-bit left shift. */
    const uint32_t of_left = bit_of(v, n - 1) ^ bit_of(v, n - 2);
    uint32_t res, cf, of;

    switch (kind) {
    case SH_ROL: {
        /* Rotates are modulo the operand width; CF and OF still change
         * when the masked count is a multiple of the width (SDM: "IF
         * (COUNT & countMASK) != 0 THEN CF <- LSB(DEST)"). */
        unsigned r = count & (n - 1);
        res = r ? ((v << r) | (v >> (n - r))) & m : v;
        cf = res & 1;
        of = of_left;
        *fl = (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        *fmask = FL_CF | FL_OF;
        return res;
    }
    case SH_ROR: {
        unsigned r = count & (n - 1);
        res = r ? ((v >> r) | (v << (n - r))) & m : v;
        cf = bit_of(res, n - 1);
        of = bit_of(v, n - 1) ^ (v & 1);
        *fl = (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        *fmask = FL_CF | FL_OF;
        return res;
    }
    case SH_RCL:
    case SH_RCR: {
        /* RCL/RCR rotate the n+1 bit value CF:operand, so 8- and 16-bit
         * counts are taken modulo 9 and 17 (SDM tempCOUNT).  A count that
         * reduces to 0 changes nothing, OF included (measured). */
        unsigned r = n == 32 ? count : count % (n + 1);
        if (r == 0) {
            *fl = *fmask = 0;
            return v;
        }
        uint64_t wide_mask = (2ull << n) - 1;
        uint64_t x = ((uint64_t)cf_in << n) | v;
        if (kind == SH_RCL) {
            x = ((x << r) | (x >> (n + 1 - r))) & wide_mask;
            of = of_left;
        } else {
            x = ((x >> r) | (x << (n + 1 - r))) & wide_mask;
            of = bit_of(v, n - 1) ^ cf_in;
        }
        res = (uint32_t)x & m;
        cf = (uint32_t)(x >> n) & 1;
        *fl = (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        *fmask = FL_CF | FL_OF;
        return res;
    }
    case SH_SHL:
        /* Counts up to 31 exceed an 8/16-bit operand: everything is
         * shifted out and CF is the bit shifted out last, 0 beyond n. */
        res = (uint32_t)((uint64_t)v << count) & m;
        cf = count <= n ? bit_of(v, n - count) : 0;
        of = of_left;
        break;
    case SH_SHR:
        res = v >> count; /* count <= 31 */
        cf = bit_of(v, count - 1);
        of = bit_of(v, n - 1);
        break;
    default: { /* SH_SAR */
        int32_t sv = (int32_t)(v << (32 - n)) >> (32 - n);
        res = (uint32_t)(sv >> count) & m;
        cf = (uint32_t)(sv >> (count - 1)) & 1;
        of = 0;
        break;
    }
    }
    *fl = flags_szp(res, size) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
    *fmask = FL_ARITH;
    return res;
}

static ALWAYS_INLINE void shift_run(CpuState *c, const Insn *i, unsigned size, bool mem,
                                    unsigned kind, unsigned count)
{
    uint32_t ea = 0, v;
    if (mem) {
        ea = insn_ea(c, i);
        v = mem_read(c, i->seg, ea, size);
    } else {
        v = reg_get(c, i->rm, size);
    }
    count &= 31;
    if (count == 0) {
        NEXT(c, i);
        return;
    }
    uint32_t cf_in = (kind == SH_RCL || kind == SH_RCR) ? flags_cf(c) : 0;
    uint32_t fl, fmask;
    uint32_t res = shift_calc(kind, size, v, count, cf_in, &fl, &fmask);
    if (mem)
        mem_write(c, i->seg, ea, res, size);
    else
        reg_set(c, i->rm, size, res);
    if (fmask)
        flags_set_bits(c, fmask, fl);
    NEXT(c, i);
}

/* The count: an immediate (C0/C1, or 1 for D0/D1) or CL (D2/D3). */
#define SHIFT_SET(name, kind, count_expr)                                                          \
    static ALWAYS_INLINE void name##_impl(CpuState *c, const Insn *i, unsigned size, bool mem)     \
    {                                                                                              \
        shift_run(c, i, size, mem, kind, (count_expr));                                            \
    }                                                                                              \
    SPECIALIZE(name)

SHIFT_SET(sh_rol_I, SH_ROL, i->imm)
SHIFT_SET(sh_ror_I, SH_ROR, i->imm)
SHIFT_SET(sh_rcl_I, SH_RCL, i->imm)
SHIFT_SET(sh_rcr_I, SH_RCR, i->imm)
SHIFT_SET(sh_shl_I, SH_SHL, i->imm)
SHIFT_SET(sh_shr_I, SH_SHR, i->imm)
SHIFT_SET(sh_sar_I, SH_SAR, i->imm)
SHIFT_SET(sh_rol_CL, SH_ROL, c->regs[R_ECX])
SHIFT_SET(sh_ror_CL, SH_ROR, c->regs[R_ECX])
SHIFT_SET(sh_rcl_CL, SH_RCL, c->regs[R_ECX])
SHIFT_SET(sh_rcr_CL, SH_RCR, c->regs[R_ECX])
SHIFT_SET(sh_shl_CL, SH_SHL, c->regs[R_ECX])
SHIFT_SET(sh_shr_CL, SH_SHR, c->regs[R_ECX])
SHIFT_SET(sh_sar_CL, SH_SAR, c->regs[R_ECX])

/* ---- SHLD / SHRD ------------------------------------------------------
 * The destination (ModRM r/m) is shifted, filled from the source register
 * (ModRM reg).  Both are modelled as one wide value: src:dest for SHRD and
 * dest:src for SHLD with a 32-bit operand; with a 16-bit operand the value
 * is dest:src:dest (48 bits), which covers counts 17-31 the way the
 * hardware does. */
static ALWAYS_INLINE uint32_t dshift_calc(bool left, unsigned size, uint32_t d, uint32_t s,
                                          unsigned count, uint32_t *fl)
{
    const unsigned n = 8 * size;
    const uint32_t m = size_mask(size);
    uint64_t x;
    uint32_t res, cf, of;
    if (size == 4)
        x = left ? ((uint64_t)d << 32) | s : ((uint64_t)s << 32) | d;
    else
        x = ((uint64_t)d << 32) | ((uint64_t)s << 16) | d;
    if (left) {
        unsigned top = size == 4 ? 64 : 48;
        res = (uint32_t)(x >> (top - n - count)) & m;
        cf = (uint32_t)(x >> (top - count)) & 1;
        of = bit_of(d, n - 1) ^ bit_of(d, n - 2);
    } else {
        res = (uint32_t)(x >> count) & m;
        cf = (uint32_t)(x >> (count - 1)) & 1;
        of = bit_of(d, n - 1) ^ (s & 1);
    }
    *fl = flags_szp(res, size) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
    return res;
}

static ALWAYS_INLINE void dshift_run(CpuState *c, const Insn *i, unsigned size, bool mem, bool left,
                                     unsigned count)
{
    uint32_t ea = 0, d;
    if (mem) {
        ea = insn_ea(c, i);
        d = mem_read(c, i->seg, ea, size);
    } else {
        d = reg_get(c, i->rm, size);
    }
    count &= 31;
    if (count == 0) {
        NEXT(c, i);
        return;
    }
    uint32_t fl;
    uint32_t res = dshift_calc(left, size, d, reg_get(c, i->reg, size), count, &fl);
    if (mem)
        mem_write(c, i->seg, ea, res, size);
    else
        reg_set(c, i->rm, size, res);
    flags_set_bits(c, FL_ARITH, fl);
    NEXT(c, i);
}

/* SHLD/SHRD have no byte form; the byte slots of the sets are unused. */
#define DSHIFT_SET(name, left, count_expr)                                                         \
    static ALWAYS_INLINE void name##_impl(CpuState *c, const Insn *i, unsigned size, bool mem)     \
    {                                                                                              \
        dshift_run(c, i, size == 1 ? 2 : size, mem, left, (count_expr));                           \
    }                                                                                              \
    SPECIALIZE(name)

DSHIFT_SET(shld_I, true, i->imm)
DSHIFT_SET(shld_CL, true, c->regs[R_ECX])
DSHIFT_SET(shrd_I, false, i->imm)
DSHIFT_SET(shrd_CL, false, c->regs[R_ECX])
