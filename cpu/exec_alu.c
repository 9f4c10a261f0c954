/* Two-operand arithmetic and logic (ADD OR ADC SBB AND SUB XOR CMP TEST),
 * INC, DEC, NOT and NEG.  SDM vol. 2 for each; flags are left lazy. */
#include "cpu/handlers.h"

enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP, ALU_TEST };

/* The result, without touching the flags (the carry-in of ADC/SBB is read
 * from them). */
static ALWAYS_INLINE uint32_t alu_result(CpuState *c, int op, uint32_t a, uint32_t b,
                                         unsigned size)
{
    uint32_t m = size_mask(size);
    switch (op) {
    case ALU_ADD: return (a + b) & m;
    case ALU_ADC: return (a + b + flags_cf(c)) & m;
    case ALU_SBB: return (a - b - flags_cf(c)) & m;
    case ALU_SUB:
    case ALU_CMP: return (a - b) & m;
    case ALU_OR: return a | b;
    case ALU_XOR: return a ^ b;
    default: return a & b; /* AND, TEST */
    }
}

static ALWAYS_INLINE void alu_flags(CpuState *c, int op, uint32_t a, uint32_t b, uint32_t r,
                                    unsigned size)
{
    switch (op) {
    case ALU_ADD:
    case ALU_ADC: lf_set(c, LF_ADD, size, a, b, r); break;
    case ALU_SUB:
    case ALU_SBB:
    case ALU_CMP: lf_set(c, LF_SUB, size, a, b, r); break;
    default: lf_set(c, LF_LOGIC, size, a, b, r); break;
    }
}

static ALWAYS_INLINE bool alu_writes(int op) { return op != ALU_CMP && op != ALU_TEST; }

/* E = E op src.  Memory results are written before the flags change, so a
 * faulting write leaves the flags as they were. */
static ALWAYS_INLINE void alu_to_e(CpuState *c, const Insn *i, unsigned size, bool mem, int op,
                                   uint32_t b)
{
    b &= size_mask(size);
    if (mem) {
        uint32_t off = insn_ea(c, i);
        uint32_t lin = alu_writes(op) ? seg_lin_w(c, i->seg, off, size)
                                      : seg_lin_r(c, i->seg, off, size);
        uint32_t a = lin_read(c, lin, size);
        uint32_t r = alu_result(c, op, a, b, size);
        if (alu_writes(op))
            lin_write(c, lin, r, size);
        alu_flags(c, op, a, b, r, size);
    } else {
        uint32_t a = reg_get(c, i->rm, size);
        uint32_t r = alu_result(c, op, a, b, size);
        if (alu_writes(op))
            reg_set(c, i->rm, size, r);
        alu_flags(c, op, a, b, r, size);
    }
    NEXT(c, i);
}

#define ALU_FAMILY(name, OP)                                                               \
    static ALWAYS_INLINE void alu_##name##_EG_impl(CpuState *c, const Insn *i,            \
                                                   unsigned size, bool mem)                \
    {                                                                                      \
        alu_to_e(c, i, size, mem, OP, reg_get(c, i->reg, size));                           \
    }                                                                                      \
    SPECIALIZE(alu_##name##_EG)                                                            \
    static ALWAYS_INLINE void alu_##name##_EI_impl(CpuState *c, const Insn *i,            \
                                                   unsigned size, bool mem)                \
    {                                                                                      \
        alu_to_e(c, i, size, mem, OP, i->imm);                                             \
    }                                                                                      \
    SPECIALIZE(alu_##name##_EI)

#define ALU_FAMILY_GE(name, OP)                                                            \
    static ALWAYS_INLINE void alu_##name##_GE_impl(CpuState *c, const Insn *i,            \
                                                   unsigned size, bool mem)                \
    {                                                                                      \
        uint32_t b = mem ? mem_read(c, i->seg, insn_ea(c, i), size) : reg_get(c, i->rm, size); \
        uint32_t a = reg_get(c, i->reg, size);                                             \
        uint32_t r = alu_result(c, OP, a, b, size);                                        \
        if (alu_writes(OP))                                                                \
            reg_set(c, i->reg, size, r);                                                   \
        alu_flags(c, OP, a, b, r, size);                                                   \
        NEXT(c, i);                                                                        \
    }                                                                                      \
    SPECIALIZE(alu_##name##_GE)

ALU_FAMILY(add, ALU_ADD)
ALU_FAMILY(or, ALU_OR)
ALU_FAMILY(adc, ALU_ADC)
ALU_FAMILY(sbb, ALU_SBB)
ALU_FAMILY(and, ALU_AND)
ALU_FAMILY(sub, ALU_SUB)
ALU_FAMILY(xor, ALU_XOR)
ALU_FAMILY(cmp, ALU_CMP)
ALU_FAMILY(test, ALU_TEST)
ALU_FAMILY_GE(add, ALU_ADD)
ALU_FAMILY_GE(or, ALU_OR)
ALU_FAMILY_GE(adc, ALU_ADC)
ALU_FAMILY_GE(sbb, ALU_SBB)
ALU_FAMILY_GE(and, ALU_AND)
ALU_FAMILY_GE(sub, ALU_SUB)
ALU_FAMILY_GE(xor, ALU_XOR)
ALU_FAMILY_GE(cmp, ALU_CMP)

/* INC and DEC keep CF (SDM vol. 2, INC): capture it in eflags before the
 * lazy state is replaced. */
static ALWAYS_INLINE void incdec(CpuState *c, const Insn *i, unsigned size, bool mem, int d)
{
    uint32_t m = size_mask(size);
    uint32_t lin = 0, a;
    if (mem) {
        lin = seg_lin_w(c, i->seg, insn_ea(c, i), size);
        a = lin_read(c, lin, size);
    } else {
        a = reg_get(c, i->rm, size);
    }
    uint32_t r = (a + (uint32_t)d) & m;
    if (mem)
        lin_write(c, lin, r, size);
    else
        reg_set(c, i->rm, size, r);
    uint32_t cf = flags_cf(c);
    c->eflags = (c->eflags & ~FL_CF) | cf;
    lf_set(c, d > 0 ? LF_INC : LF_DEC, size, a, 1, r);
    NEXT(c, i);
}

static ALWAYS_INLINE void inc_E_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    incdec(c, i, size, mem, 1);
}
SPECIALIZE(inc_E)

static ALWAYS_INLINE void dec_E_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    incdec(c, i, size, mem, -1);
}
SPECIALIZE(dec_E)

static ALWAYS_INLINE void not_E_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    (void)mem;
    rm_write(c, i, size, ~rm_read(c, i, size) & size_mask(size));
    NEXT(c, i);
}
SPECIALIZE(not_E)

/* NEG is 0 - src: CF = (src != 0) falls out of the borrow rule. */
static ALWAYS_INLINE void neg_E_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t lin = 0, a;
    if (mem) {
        lin = seg_lin_w(c, i->seg, insn_ea(c, i), size);
        a = lin_read(c, lin, size);
    } else {
        a = reg_get(c, i->rm, size);
    }
    uint32_t r = (0 - a) & size_mask(size);
    if (mem)
        lin_write(c, lin, r, size);
    else
        reg_set(c, i->rm, size, r);
    lf_set(c, LF_SUB, size, 0, a, r);
    NEXT(c, i);
}
SPECIALIZE(neg_E)
