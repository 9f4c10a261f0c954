/* Bit test and scan: BT BTS BTR BTC (0F A3 AB B3 BB, and 0F BA /4-/7 with an
 * immediate offset), BSF BSR (0F BC BD).  SDM vol. 2, "BT-Bit Test" and
 * following, "BSF-Bit Scan Forward", "BSR-Bit Scan Reverse".
 *
 * Undefined flags are set as a current Intel core sets them (measured on
 * the host): BT* change only CF; BSF/BSR clear CF, OF, SF and AF and set PF
 * from the bit index found (as if the index were 0 for a zero source). */
#include "cpu/handlers.h"

enum { BT_TEST, BT_SET, BT_RESET, BT_COMPLEMENT };

static ALWAYS_INLINE uint32_t bit_apply(unsigned kind, uint32_t v, uint32_t bit)
{
    switch (kind) {
    case BT_SET:
        return v | bit;
    case BT_RESET:
        return v & ~bit;
    case BT_COMPLEMENT:
        return v ^ bit;
    default:
        return v;
    }
}

/* `off` is the bit offset: for the register-offset forms it is the whole
 * source register, which for a memory operand is a signed number selecting
 * an operand-sized unit anywhere around the effective address (EA + size *
 * (offset SAR log2(8 * size)), SDM vol. 2 BT, "Bit Base Addressing"); with
 * 16-bit addressing the sum wraps at 64 KiB like any effective address.
 * The immediate forms pass the offset already taken modulo the width. */
static ALWAYS_INLINE void bit_run(CpuState *c, const Insn *i, unsigned size, bool mem,
                                  unsigned kind, uint32_t off, bool reg_offset)
{
    const unsigned n = 8 * size;
    uint32_t bit = 1u << (off & (n - 1));
    uint32_t v, ea = 0;
    if (mem) {
        ea = insn_ea(c, i);
        if (reg_offset) {
            int32_t soff = size == 2 ? (int16_t)off : (int32_t)off;
            ea += (uint32_t)((soff >> (size == 2 ? 4 : 5)) * (int32_t)size);
            if (!(i->flags & I_AD32))
                ea &= 0xFFFF;
        }
        v = mem_read(c, i->seg, ea, size);
    } else {
        v = reg_get(c, i->rm, size);
    }
    if (kind != BT_TEST) {
        uint32_t res = bit_apply(kind, v, bit);
        if (mem)
            mem_write(c, i->seg, ea, res, size);
        else
            reg_set(c, i->rm, size, res);
    }
    flags_set_bits(c, FL_CF, (v & bit) ? FL_CF : 0);
    NEXT(c, i);
}

/* BT* have no byte forms; the byte slots of the sets are unused. */
#define BIT_SET(name, kind, reg_offset, off_expr)                                                  \
    static ALWAYS_INLINE void name##_impl(CpuState *c, const Insn *i, unsigned size, bool mem)     \
    {                                                                                              \
        if (size == 1)                                                                             \
            size = 2;                                                                              \
        bit_run(c, i, size, mem, kind, (off_expr), reg_offset);                                    \
    }                                                                                              \
    SPECIALIZE(name)

BIT_SET(bit_bt_G, BT_TEST, true, reg_get(c, i->reg, size))
BIT_SET(bit_bts_G, BT_SET, true, reg_get(c, i->reg, size))
BIT_SET(bit_btr_G, BT_RESET, true, reg_get(c, i->reg, size))
BIT_SET(bit_btc_G, BT_COMPLEMENT, true, reg_get(c, i->reg, size))
BIT_SET(bit_bt_I, BT_TEST, false, i->imm)
BIT_SET(bit_bts_I, BT_SET, false, i->imm)
BIT_SET(bit_btr_I, BT_RESET, false, i->imm)
BIT_SET(bit_btc_I, BT_COMPLEMENT, false, i->imm)

/* BSF/BSR: ZF = (source == 0).  The SDM calls the destination undefined
 * for a zero source; Intel and AMD hardware leave it unchanged (and AMD
 * documents that), which software relies on. */
static ALWAYS_INLINE void bit_scan(CpuState *c, const Insn *i, unsigned size, bool mem,
                                   bool reverse)
{
    uint32_t src = mem ? mem_read(c, i->seg, insn_ea(c, i), size) : reg_get(c, i->rm, size);
    if (src == 0) {
        flags_set_bits(c, FL_ARITH, FL_ZF | FL_PF);
    } else {
        uint32_t idx = reverse ? 31 - (uint32_t)__builtin_clz(src) : (uint32_t)__builtin_ctz(src);
        reg_set(c, i->reg, size, idx);
        flags_set_bits(c, FL_ARITH, flags_szp(idx, 1) & FL_PF);
    }
    NEXT(c, i);
}

static ALWAYS_INLINE void bit_bsf_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    bit_scan(c, i, size == 1 ? 2 : size, mem, false);
}
SPECIALIZE(bit_bsf)

static ALWAYS_INLINE void bit_bsr_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    bit_scan(c, i, size == 1 ? 2 : size, mem, true);
}
SPECIALIZE(bit_bsr)
