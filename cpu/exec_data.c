/* Data movement: MOV forms, XCHG, LEA, MOVZX/MOVSX, PUSH/POP forms,
 * PUSHA/POPA, ENTER/LEAVE, CBW/CWD, LAHF/SAHF, XLAT, SALC, far-pointer
 * loads, BSWAP, CMPXCHG, XADD, CMPXCHG8B, CMOVcc, SETcc, BOUND, ARPL, NOP.
 * Semantics per SDM vol. 2. */
#include "cpu/handlers.h"

/* ---- MOV --------------------------------------------------------------- */

static ALWAYS_INLINE void mov_EG_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t v = reg_get(c, i->reg, size);
    if (mem)
        mem_write(c, i->seg, insn_ea(c, i), v, size);
    else
        reg_set(c, i->rm, size, v);
    NEXT(c, i);
}
SPECIALIZE(mov_EG)

static ALWAYS_INLINE void mov_GE_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t v = mem ? mem_read(c, i->seg, insn_ea(c, i), size) : reg_get(c, i->rm, size);
    reg_set(c, i->reg, size, v);
    NEXT(c, i);
}
SPECIALIZE(mov_GE)

static ALWAYS_INLINE void mov_EI_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    if (mem)
        mem_write(c, i->seg, insn_ea(c, i), i->imm, size);
    else
        reg_set(c, i->rm, size, i->imm);
    NEXT(c, i);
}
SPECIALIZE(mov_EI)

/* A0-A3: the offset is i->disp (no base or index), segment DS or override. */
static ALWAYS_INLINE void mov_AO_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    (void)mem;
    reg_set(c, R_EAX, size, mem_read(c, i->seg, insn_ea(c, i), size));
    NEXT(c, i);
}
SPECIALIZE(mov_AO)

static ALWAYS_INLINE void mov_OA_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    (void)mem;
    mem_write(c, i->seg, insn_ea(c, i), reg_get(c, R_EAX, size), size);
    NEXT(c, i);
}
SPECIALIZE(mov_OA)

/* MOV r/m, Sreg: a memory destination is always 16 bits; a 32-bit register
 * destination is zero-extended on P6 and later (SDM vol. 2, MOV). */
static ALWAYS_INLINE void mov_ES_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t sel = c->seg[i->reg].sel;
    if (mem)
        mem_write(c, i->seg, insn_ea(c, i), sel, 2);
    else
        reg_set(c, i->rm, size, sel);
    NEXT(c, i);
}
SPECIALIZE(mov_ES)

/* MOV Sreg, r/m16.  Loading SS inhibits interrupts for one instruction. */
static ALWAYS_INLINE void mov_SE_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    (void)size;
    uint32_t sel = mem ? mem_read(c, i->seg, insn_ea(c, i), 2) : reg16_get(c, i->rm);
    seg_load(c, i->reg, (uint16_t)sel);
    if (i->reg == SEG_SS)
        c->intr_shadow = 1;
    NEXT(c, i);
}
SPECIALIZE(mov_SE)

HANDLER(lea)
{
    reg_set(c, i->reg, i->size, insn_ea(c, i));
    NEXT(c, i);
}
SET_ALL(lea, lea)

/* ---- XCHG -------------------------------------------------------------- */

static ALWAYS_INLINE void xchg_EG_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t g = reg_get(c, i->reg, size);
    if (mem) {
        uint32_t lin = seg_lin_w(c, i->seg, insn_ea(c, i), size);
        uint32_t e = lin_read(c, lin, size);
        lin_write(c, lin, g, size);
        reg_set(c, i->reg, size, e);
    } else {
        reg_set(c, i->reg, size, reg_get(c, i->rm, size));
        reg_set(c, i->rm, size, g);
    }
    NEXT(c, i);
}
SPECIALIZE(xchg_EG)

static ALWAYS_INLINE void xchg_ZA_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    (void)mem;
    uint32_t a = reg_get(c, R_EAX, size);
    reg_set(c, R_EAX, size, reg_get(c, i->reg, size));
    reg_set(c, i->reg, size, a);
    NEXT(c, i);
}
SPECIALIZE(xchg_ZA)

/* ---- MOVZX / MOVSX ----------------------------------------------------- */

static ALWAYS_INLINE uint32_t src_read(CpuState *c, const Insn *i, unsigned ssize, bool mem)
{
    return mem ? mem_read(c, i->seg, insn_ea(c, i), ssize) : reg_get(c, i->rm, ssize);
}

static ALWAYS_INLINE void movzx_b_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    reg_set(c, i->reg, size, src_read(c, i, 1, mem));
    NEXT(c, i);
}
SPECIALIZE(movzx_b)

static ALWAYS_INLINE void movzx_w_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    reg_set(c, i->reg, size, src_read(c, i, 2, mem));
    NEXT(c, i);
}
SPECIALIZE(movzx_w)

static ALWAYS_INLINE void movsx_b_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    reg_set(c, i->reg, size, (uint32_t)(int32_t)(int8_t)src_read(c, i, 1, mem));
    NEXT(c, i);
}
SPECIALIZE(movsx_b)

static ALWAYS_INLINE void movsx_w_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    reg_set(c, i->reg, size, (uint32_t)(int32_t)(int16_t)src_read(c, i, 2, mem));
    NEXT(c, i);
}
SPECIALIZE(movsx_w)

/* ---- PUSH / POP -------------------------------------------------------- */

/* PUSH r/m and PUSH r: the value is read before ESP moves, so PUSH ESP
 * pushes the old value (SDM vol. 2, PUSH). */
static ALWAYS_INLINE void push_E_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t v = mem ? mem_read(c, i->seg, insn_ea(c, i), size) : reg_get(c, i->rm, size);
    push(c, v, size);
    NEXT(c, i);
}
SPECIALIZE(push_E)

/* POP r/m: a memory destination based on ESP is addressed with the
 * incremented ESP; a fault leaves ESP unchanged (SDM vol. 2, POP). */
static ALWAYS_INLINE void pop_E_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t sp = sp_get(c);
    uint32_t v = mem_read(c, SEG_SS, sp, size);
    if (mem) {
        uint32_t saved = c->regs[R_ESP];
        sp_set(c, sp + size);
        uint32_t ea = insn_ea(c, i);
        c->regs[R_ESP] = saved;
        mem_write(c, i->seg, ea, v, size);
        sp_set(c, sp + size);
    } else {
        sp_set(c, sp + size);
        reg_set(c, i->rm, size, v);
    }
    NEXT(c, i);
}
SPECIALIZE(pop_E)

HANDLER(push_I)
{
    push(c, i->imm & op_mask(i), i->size);
    NEXT(c, i);
}
SET_ALL(push_I, push_I)

static int sreg_of(const Insn *i)
{
    switch (i->op) {
    case 0xA0: case 0xA1: return SEG_FS;
    case 0xA8: case 0xA9: return SEG_GS;
    default: return i->op >> 3;
    }
}

/* PUSH Sreg with a 32-bit operand size moves ESP by 4 but writes only the
 * low 16 bits, as P6 and later processors do (SDM vol. 2, PUSH). */
HANDLER(push_sreg)
{
    uint32_t sel = c->seg[sreg_of(i)].sel;
    uint32_t sp = (c->regs[R_ESP] - i->size) & sp_mask(c);
    mem_write(c, SEG_SS, sp, sel, 2);
    if (i->size == 4)
        mem_probe_write(c, SEG_SS, sp, 4);
    sp_set(c, sp);
    NEXT(c, i);
}
SET_ALL(push_sreg, push_sreg)

HANDLER(pop_sreg)
{
    int s = sreg_of(i);
    uint32_t sp = sp_get(c);
    uint32_t sel = mem_read(c, SEG_SS, sp, 2);
    if (i->size == 4)
        mem_read(c, SEG_SS, sp, 4);
    seg_load(c, s, (uint16_t)sel);
    sp_set(c, sp + i->size);
    if (s == SEG_SS)
        c->intr_shadow = 1;
    NEXT(c, i);
}
SET_ALL(pop_sreg, pop_sreg)

/* PUSHA pushes EAX ECX EDX EBX, the original ESP, EBP ESI EDI; every write
 * is done before ESP changes. */
static ALWAYS_INLINE void pusha_impl(CpuState *c, const Insn *i, unsigned size)
{
    uint32_t sp = c->regs[R_ESP];
    /* Real mode: SP of 7, 9, 11, 13 or 15 is #GP before anything is pushed
     * (SDM vol. 2, PUSHA, real-address mode exceptions). */
    if (!(c->cr0 & CR0_PE) && !c->stack32 && (sp & 0xFFFF) >= 7 && (sp & 0xFFFF) <= 15 &&
        (sp & 1))
        cpu_gp0(c);
    if ((sp & sp_mask(c)) >= 8 * size)
        mem_probe_write(c, SEG_SS, (sp - 8 * size) & sp_mask(c), 8 * size);
    for (int r = 0; r < 8; r++)
        mem_write(c, SEG_SS, (sp - (uint32_t)(r + 1) * size) & sp_mask(c),
                  reg_get(c, r, size), size);
    sp_set(c, sp - 8 * size);
    NEXT(c, i);
}
SPECIALIZE_SIZE(pusha)

/* POPA discards the stored ESP. */
static ALWAYS_INLINE void popa_impl(CpuState *c, const Insn *i, unsigned size)
{
    uint32_t sp = c->regs[R_ESP];
    uint32_t v[8];
    for (int r = 0; r < 8; r++)
        v[7 - r] = mem_read(c, SEG_SS, (sp + (uint32_t)r * size) & sp_mask(c), size);
    for (int r = 0; r < 8; r++)
        if (r != R_ESP)
            reg_set(c, r, size, v[r]);
    sp_set(c, sp + 8 * size);
    NEXT(c, i);
}
SPECIALIZE_SIZE(popa)

/* ENTER: SDM vol. 2 pseudo-code; the nesting level is taken modulo 32.  All
 * writes happen before ESP and EBP change. */
HANDLER(enter)
{
    unsigned size = i->size;
    unsigned level = i->imm2 & 31;
    uint32_t m = sp_mask(c);
    uint32_t sp = c->regs[R_ESP];
    uint32_t bp = c->regs[R_EBP];
    sp -= size;
    mem_write(c, SEG_SS, sp & m, bp & size_mask(size), size);
    uint32_t frame = sp & m;
    if (level > 0) {
        for (unsigned k = 1; k < level; k++) {
            bp -= size;
            uint32_t v = mem_read(c, SEG_SS, bp & m, size);
            sp -= size;
            mem_write(c, SEG_SS, sp & m, v, size);
        }
        sp -= size;
        mem_write(c, SEG_SS, sp & m, frame, size);
    }
    sp -= i->imm & 0xFFFF;
    if (c->stack32) {
        c->regs[R_EBP] = frame;
        c->regs[R_ESP] = sp;
    } else {
        reg16_set(c, R_EBP, frame);
        reg16_set(c, R_ESP, sp);
    }
    NEXT(c, i);
}
SET_ALL(enter, enter)

/* In real mode an EBP outside 0-FFFFh is #GP, not #SS (SDM vol. 2, LEAVE,
 * real-address mode exceptions). */
HANDLER(leave)
{
    uint32_t bp = c->regs[R_EBP] & sp_mask(c);
    if (!(c->cr0 & CR0_PE) && (uint64_t)bp + i->size - 1 > c->seg[SEG_SS].limit)
        cpu_gp0(c);
    uint32_t v = mem_read(c, SEG_SS, bp, i->size);
    sp_set(c, bp + i->size);
    reg_set(c, R_EBP, i->size, v);
    NEXT(c, i);
}
SET_ALL(leave, leave)

/* ---- Conversions and flags bytes -------------------------------------- */

HANDLER(cbw)
{
    if (i->size == 4)
        c->regs[R_EAX] = (uint32_t)(int32_t)(int16_t)c->regs[R_EAX];
    else
        reg16_set(c, R_EAX, (uint32_t)(int32_t)(int8_t)c->regs[R_EAX]);
    NEXT(c, i);
}
SET_ALL(cbw, cbw)

HANDLER(cwd)
{
    if (i->size == 4)
        c->regs[R_EDX] = (int32_t)c->regs[R_EAX] < 0 ? 0xFFFFFFFFu : 0;
    else
        reg16_set(c, R_EDX, (c->regs[R_EAX] & 0x8000) ? 0xFFFF : 0);
    NEXT(c, i);
}
SET_ALL(cwd, cwd)

HANDLER(lahf)
{
    reg8_set(c, 4, (cpu_get_eflags(c) & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)) | 2);
    NEXT(c, i);
}
SET_ALL(lahf, lahf)

HANDLER(sahf)
{
    flags_set_bits(c, FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF, reg8_get(c, 4));
    NEXT(c, i);
}
SET_ALL(sahf, sahf)

HANDLER(xlat)
{
    uint32_t off = c->regs[R_EBX] + reg8_get(c, 0);
    if (!(i->flags & I_AD32))
        off &= 0xFFFF;
    reg8_set(c, 0, mem_read8(c, i->seg, off));
    NEXT(c, i);
}
SET_ALL(xlat, xlat)

HANDLER(salc)
{
    reg8_set(c, 0, flags_cf(c) ? 0xFF : 0);
    NEXT(c, i);
}
SET_ALL(salc, salc)

/* ---- LDS LES LSS LFS LGS ----------------------------------------------- */

HANDLER(load_far_ptr)
{
    int s;
    switch (i->op) {
    case 0xC4: s = SEG_ES; break;
    case 0xC5: s = SEG_DS; break;
    case 0xB2: s = SEG_SS; break;
    case 0xB4: s = SEG_FS; break;
    default: s = SEG_GS; break;
    }
    uint32_t ea = insn_ea(c, i);
    uint32_t off = mem_read(c, i->seg, ea, i->size);
    uint32_t sel = mem_read(c, i->seg, (ea + i->size) & ((i->flags & I_AD32) ? ~0u : 0xFFFF), 2);
    seg_load(c, s, (uint16_t)sel);
    reg_set(c, i->reg, i->size, off);
    /* Unlike MOV SS and POP SS, LSS does not inhibit interrupts (SDM vol. 3,
     * 6.8.3). */
    NEXT(c, i);
}
SET_ALL(load_far_ptr, load_far_ptr)

/* ---- BSWAP, CMPXCHG, XADD, CMPXCHG8B ---------------------------------- */

/* BSWAP of a 16-bit register is undefined; P6-class and later processors
 * leave zero in it. */
HANDLER(bswap)
{
    if (i->flags & I_OP32)
        c->regs[i->rm] = __builtin_bswap32(c->regs[i->rm]);
    else
        reg16_set(c, i->rm, 0);
    NEXT(c, i);
}
SET_ALL(bswap, bswap)

/* CMPXCHG: the destination is written in both cases (with its own value
 * when the comparison fails), as on the 486 and later (SDM vol. 2). */
static ALWAYS_INLINE void cmpxchg_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t acc = reg_get(c, R_EAX, size);
    uint32_t lin = 0, d;
    if (mem) {
        lin = seg_lin_w(c, i->seg, insn_ea(c, i), size);
        d = lin_read(c, lin, size);
    } else {
        d = reg_get(c, i->rm, size);
    }
    uint32_t src = reg_get(c, i->reg, size);
    bool eq = acc == d;
    if (mem)
        lin_write(c, lin, eq ? src : d, size);
    else if (eq)
        reg_set(c, i->rm, size, src);
    if (!eq)
        reg_set(c, R_EAX, size, d);
    lf_set(c, LF_SUB, size, acc, d, (acc - d) & size_mask(size));
    NEXT(c, i);
}
SPECIALIZE(cmpxchg)

static ALWAYS_INLINE void xadd_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t src = reg_get(c, i->reg, size);
    uint32_t lin = 0, d;
    if (mem) {
        lin = seg_lin_w(c, i->seg, insn_ea(c, i), size);
        d = lin_read(c, lin, size);
    } else {
        d = reg_get(c, i->rm, size);
    }
    uint32_t sum = (d + src) & size_mask(size);
    if (mem) {
        lin_write(c, lin, sum, size);
        reg_set(c, i->reg, size, d);
    } else {
        reg_set(c, i->reg, size, d);
        reg_set(c, i->rm, size, sum);
    }
    lf_set(c, LF_ADD, size, d, src, sum);
    NEXT(c, i);
}
SPECIALIZE(xadd)

HANDLER(cmpxchg8b)
{
    uint32_t ea = insn_ea(c, i);
    uint32_t lin = seg_lin_w(c, i->seg, ea, 4);
    uint32_t lin_hi = seg_lin_w(c, i->seg, ea + 4, 4);
    uint32_t lo = lin_read(c, lin, 4);
    uint32_t hi = lin_read(c, lin_hi, 4);
    bool eq = lo == c->regs[R_EAX] && hi == c->regs[R_EDX];
    mem_probe_write(c, i->seg, ea, 8);
    if (eq) {
        lin_write(c, lin, c->regs[R_EBX], 4);
        lin_write(c, lin_hi, c->regs[R_ECX], 4);
    } else {
        lin_write(c, lin, lo, 4);
        lin_write(c, lin_hi, hi, 4);
        c->regs[R_EAX] = lo;
        c->regs[R_EDX] = hi;
    }
    flags_set_bits(c, FL_ZF, eq ? FL_ZF : 0);
    NEXT(c, i);
}
SET_ALL(cmpxchg8b, cmpxchg8b)

/* ---- CMOVcc, SETcc ------------------------------------------------------ */

/* The source is read (and may fault) whether or not the move happens. */
static ALWAYS_INLINE void cmov_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t v = src_read(c, i, size, mem);
    if (flags_cond(c, i->op & 15))
        reg_set(c, i->reg, size, v);
    NEXT(c, i);
}
SPECIALIZE(cmov)

static ALWAYS_INLINE void setcc_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    (void)size;
    uint32_t v = flags_cond(c, i->op & 15);
    if (mem)
        mem_write8(c, i->seg, insn_ea(c, i), v);
    else
        reg8_set(c, i->rm, v);
    NEXT(c, i);
}
SPECIALIZE(setcc)

/* ---- BOUND, ARPL, NOP -------------------------------------------------- */

HANDLER(bound)
{
    unsigned size = i->size;
    uint32_t ea = insn_ea(c, i);
    uint32_t amask = (i->flags & I_AD32) ? ~0u : 0xFFFF;
    int32_t lo, hi, v;
    if (size == 4) {
        lo = (int32_t)mem_read32(c, i->seg, ea);
        hi = (int32_t)mem_read32(c, i->seg, (ea + 4) & amask);
        v = (int32_t)c->regs[i->reg];
    } else {
        lo = (int16_t)mem_read16(c, i->seg, ea);
        hi = (int16_t)mem_read16(c, i->seg, (ea + 2) & amask);
        v = (int16_t)c->regs[i->reg];
    }
    if (v < lo || v > hi)
        cpu_raise(c, EXC_BR, 0, false);
    NEXT(c, i);
}
SET_ALL(bound, bound)

/* ARPL is a protected-mode instruction: #UD in real and V86 mode. */
HANDLER(arpl)
{
    if (!(c->cr0 & CR0_PE) || (c->eflags & FL_VM))
        cpu_raise_ud(c);
    uint32_t lin = 0, d;
    if (i->flags & I_MEM) {
        lin = seg_lin_w(c, i->seg, insn_ea(c, i), 2);
        d = lin_read(c, lin, 2);
    } else {
        d = reg16_get(c, i->rm);
    }
    uint32_t s = reg16_get(c, i->reg);
    bool adj = (d & 3) < (s & 3);
    if (adj) {
        d = (d & ~3u) | (s & 3);
        if (i->flags & I_MEM)
            lin_write(c, lin, d, 2);
        else
            reg16_set(c, i->rm, d);
    }
    flags_set_bits(c, FL_ZF, adj ? FL_ZF : 0);
    NEXT(c, i);
}
SET_ALL(arpl, arpl)

HANDLER(nop)
{
    NEXT(c, i);
}
SET_ALL(nop, nop)
