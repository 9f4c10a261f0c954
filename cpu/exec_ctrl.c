/* Control transfer, flag instructions, port I/O, HLT, CPUID.
 * SDM vol. 2 for each instruction. */
#include "cpu/handlers.h"
#include "cpu/system.h"

/* ---- Near jumps, calls, returns, loops --------------------------------- */

static inline uint32_t rel_target(const CpuState *c, const Insn *i)
{
    return (c->eip + i->len + i->imm) & op_mask(i);
}

HANDLER(jcc)
{
    if (flags_cond(c, i->op & 15))
        jump_near(c, rel_target(c, i));
    else
        NEXT(c, i);
}
SET_ALL(jcc, jcc)

HANDLER(jmp_J)
{
    jump_near(c, rel_target(c, i));
}
SET_ALL(jmp_J, jmp_J)

static ALWAYS_INLINE void jmp_E_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t t = mem ? mem_read(c, i->seg, insn_ea(c, i), size) : reg_get(c, i->rm, size);
    jump_near(c, t);
}
SPECIALIZE(jmp_E)

/* CALL: the target is checked against the CS limit before anything is
 * pushed; the push happens before EIP changes. */
static inline void call_near(CpuState *c, const Insn *i, uint32_t target)
{
    if (target > c->seg[SEG_CS].limit)
        cpu_gp0(c);
    push(c, (c->eip + i->len) & op_mask(i), i->size);
    c->eip = target;
}

HANDLER(call_J)
{
    call_near(c, i, rel_target(c, i));
}
SET_ALL(call_J, call_J)

static ALWAYS_INLINE void call_E_impl(CpuState *c, const Insn *i, unsigned size, bool mem)
{
    uint32_t t = mem ? mem_read(c, i->seg, insn_ea(c, i), size) : reg_get(c, i->rm, size);
    call_near(c, i, t);
}
SPECIALIZE(call_E)

HANDLER(ret_near)
{
    uint32_t sp = sp_get(c);
    uint32_t t = mem_read(c, SEG_SS, sp, i->size);
    if (t > c->seg[SEG_CS].limit)
        cpu_gp0(c);
    sp_set(c, sp + i->size + (i->op == 0xC2 ? (i->imm & 0xFFFF) : 0));
    c->eip = t;
}
SET_ALL(ret_near, ret_near)

/* LOOP/LOOPE/LOOPNE count in CX or ECX by the address size. */
HANDLER(loop)
{
    uint32_t amask = (i->flags & I_AD32) ? 0xFFFFFFFFu : 0xFFFF;
    uint32_t cnt = (c->regs[R_ECX] - 1) & amask;
    bool take = cnt != 0;
    if (i->op == 0xE1)
        take = take && flags_cond(c, 4); /* LOOPE: ZF = 1 */
    else if (i->op == 0xE0)
        take = take && flags_cond(c, 5); /* LOOPNE: ZF = 0 */
    uint32_t target = rel_target(c, i);
    if (take && target > c->seg[SEG_CS].limit)
        cpu_gp0(c);
    c->regs[R_ECX] = (c->regs[R_ECX] & ~amask) | cnt;
    if (take)
        c->eip = target;
    else
        NEXT(c, i);
}
SET_ALL(loop, loop)

HANDLER(jcxz)
{
    uint32_t amask = (i->flags & I_AD32) ? 0xFFFFFFFFu : 0xFFFF;
    if ((c->regs[R_ECX] & amask) == 0)
        jump_near(c, rel_target(c, i));
    else
        NEXT(c, i);
}
SET_ALL(jcxz, jcxz)

/* ---- Far transfers ------------------------------------------------------ */

/* In protected mode these go through seg.c, which handles code segments,
 * call gates, task gates and TSSs (SDM vol. 2, JMP, CALL, RET). */
HANDLER(jmpf_A)
{
    far_jmp(c, i->imm2, i->imm & op_mask(i), c->eip + i->len);
}
SET_ALL(jmpf_A, jmpf_A)

static void far_ptr_read(CpuState *c, const Insn *i, uint32_t *off, uint16_t *sel)
{
    uint32_t ea = insn_ea(c, i);
    *off = mem_read(c, i->seg, ea, i->size);
    *sel = (uint16_t)mem_read(c, i->seg, (ea + i->size) & ((i->flags & I_AD32) ? ~0u : 0xFFFF), 2);
}

HANDLER(jmpf_M)
{
    uint32_t off;
    uint16_t sel;
    far_ptr_read(c, i, &off, &sel);
    far_jmp(c, sel, off, c->eip + i->len);
}
SET_ALL(jmpf_M, jmpf_M)

HANDLER(callf_A)
{
    far_call(c, i->imm2, i->imm & op_mask(i), i->size, c->eip + i->len);
}
SET_ALL(callf_A, callf_A)

HANDLER(callf_M)
{
    uint32_t off;
    uint16_t sel;
    far_ptr_read(c, i, &off, &sel);
    far_call(c, sel, off, i->size, c->eip + i->len);
}
SET_ALL(callf_M, callf_M)

HANDLER(ret_far)
{
    far_ret(c, i->size, i->op == 0xCA ? (i->imm & 0xFFFF) : 0);
}
SET_ALL(ret_far, ret_far)

/* ---- Software interrupts and IRET ---------------------------------------- */

/* Traps: the return address is the next instruction (SDM vol. 3, 6.5). */
HANDLER(int_n)
{
    intr_deliver(c, i->imm & 0xFF, EV_INTN, false, 0, c->eip + i->len);
}
SET_ALL(int_n, int_n)

HANDLER(int3)
{
    intr_deliver(c, EXC_BP, EV_SOFT, false, 0, c->eip + i->len);
}
SET_ALL(int3, int3)

HANDLER(into)
{
    if (flags_cond(c, 0))
        intr_deliver(c, EXC_OF, EV_SOFT, false, 0, c->eip + i->len);
    else
        NEXT(c, i);
}
SET_ALL(into, into)

/* INT1 (ICEBP) raises #DB as a trap, without the gate DPL check of INT n. */
HANDLER(int1)
{
    intr_deliver(c, EXC_DB, EV_ICEBP, false, 0, c->eip + i->len);
}
SET_ALL(int1, int1)

HANDLER(iret)
{
    intr_iret(c, i->size, c->eip + i->len);
}
SET_ALL(iret, iret)

/* ---- Flags --------------------------------------------------------------- */

HANDLER(clc)
{
    flags_set_bits(c, FL_CF, 0);
    NEXT(c, i);
}
SET_ALL(clc, clc)

HANDLER(stc)
{
    flags_set_bits(c, FL_CF, FL_CF);
    NEXT(c, i);
}
SET_ALL(stc, stc)

HANDLER(cmc)
{
    flags_set_bits(c, FL_CF, flags_cf(c) ? 0 : FL_CF);
    NEXT(c, i);
}
SET_ALL(cmc, cmc)

HANDLER(cld)
{
    c->eflags &= ~FL_DF;
    NEXT(c, i);
}
SET_ALL(cld, cld)

HANDLER(std)
{
    c->eflags |= FL_DF;
    NEXT(c, i);
}
SET_ALL(std, std)

static unsigned iopl(const CpuState *c) { return (c->eflags & FL_IOPL) >> 12; }
static bool pmode(const CpuState *c) { return c->cr0 & CR0_PE; }

/* CLI/STI (SDM vol. 2): allowed when CPL <= IOPL; otherwise VIF stands in
 * for IF in V86 mode with CR4.VME and at CPL 3 with CR4.PVI (SDM vol. 3,
 * 20.3 and 20.4), and anything else is #GP(0).  STI may not set VIF while
 * a virtual interrupt is pending (VIP). */
static bool vif_mode(const CpuState *c)
{
    if (c->eflags & FL_VM)
        return c->cr4 & CR4_VME;
    return c->cpl == 3 && (c->cr4 & CR4_PVI);
}

HANDLER(cli)
{
    if (pmode(c) && (unsigned)c->cpl > iopl(c)) {
        if (!vif_mode(c))
            cpu_gp0(c);
        c->eflags &= ~FL_VIF;
    } else {
        c->eflags &= ~FL_IF;
    }
    NEXT(c, i);
}
SET_ALL(cli, cli)

HANDLER(sti)
{
    if (pmode(c) && (unsigned)c->cpl > iopl(c)) {
        if (!vif_mode(c) || (c->eflags & FL_VIP))
            cpu_gp0(c);
        c->eflags |= FL_VIF;
    } else {
        /* Interrupts wait one more instruction (shadow kind 2: STI). */
        if (!(c->eflags & FL_IF))
            c->intr_shadow = 2;
        c->eflags |= FL_IF;
    }
    NEXT(c, i);
}
SET_ALL(sti, sti)

/* PUSHF: VM and RF are cleared in the pushed image.  In V86 mode at IOPL <
 * 3 only a 16-bit PUSHF with CR4.VME is allowed: it pushes VIF as IF and
 * IOPL as 3 (SDM vol. 2, PUSHF; vol. 3, 20.3.3.5). */
HANDLER(pushf)
{
    uint32_t f = cpu_get_eflags(c) & ~(FL_VM | FL_RF);
    if ((c->eflags & FL_VM) && iopl(c) < 3) {
        if (!(c->cr4 & CR4_VME) || i->size != 2)
            cpu_gp0(c);
        f = (f & ~FL_IF) | ((c->eflags & FL_VIF) ? FL_IF : 0) | FL_IOPL;
    }
    push(c, f & size_mask(i->size), i->size);
    NEXT(c, i);
}
SET_ALL(pushf, pushf)

/* POPF (SDM vol. 2): IOPL only at CPL 0, IF only when CPL <= IOPL; VM, RF,
 * VIP and VIF never.  In V86 mode at IOPL < 3 a 16-bit POPF with CR4.VME
 * loads VIF from the popped IF, unless that would enable a pending virtual
 * interrupt or set TF (#GP(0)). */
HANDLER(popf)
{
    uint32_t sp = sp_get(c);
    uint32_t f = mem_read(c, SEG_SS, sp, i->size);
    uint32_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID;
    bool vme = false;
    if ((c->eflags & FL_VM) && iopl(c) < 3) {
        if (!(c->cr4 & CR4_VME) || i->size != 2)
            cpu_gp0(c);
        if (((f & FL_IF) && (c->eflags & FL_VIP)) || (f & FL_TF))
            cpu_gp0(c);
        vme = true;
    } else {
        if (c->cpl == 0 || !pmode(c))
            mask |= FL_IOPL;
        if (!pmode(c) || (unsigned)c->cpl <= iopl(c))
            mask |= FL_IF;
    }
    if (i->size == 2)
        mask &= 0xFFFF;
    sp_set(c, sp + i->size);
    flags_materialize(c);
    c->eflags = (c->eflags & ~mask) | (f & mask) | 2;
    if (vme)
        c->eflags = (f & FL_IF) ? c->eflags | FL_VIF : c->eflags & ~FL_VIF;
    NEXT(c, i);
}
SET_ALL(popf, popf)

/* ---- HLT, port I/O, CPUID ------------------------------------------------ */

HANDLER(hlt)
{
    if (pmode(c) && (c->cpl != 0 || (c->eflags & FL_VM)))
        cpu_gp0(c);
    NEXT(c, i);
    c->halted = true;
    c->stop_block = true;
}
SET_ALL(hlt, hlt)

/* I/O permission: in protected mode with CPL > IOPL, and always in V86
 * mode, the I/O permission bitmap of the TSS decides (SDM vol. 1, 19.5;
 * vol. 3, 20.2.8.1); a denied access is #GP(0). */
void io_check(CpuState *c, uint16_t port, unsigned size)
{
    if (pmode(c) && ((unsigned)c->cpl > iopl(c) || (c->eflags & FL_VM)) &&
        !task_io_allowed(c, port, size))
        cpu_gp0(c);
}

static void do_in(CpuState *c, const Insn *i, uint16_t port)
{
    io_check(c, port, i->size);
    reg_set(c, R_EAX, i->size, bus_io_read(c->bus, port, i->size));
    dr_io_check(c, port, i->size);
    NEXT(c, i);
}

static void do_out(CpuState *c, const Insn *i, uint16_t port)
{
    io_check(c, port, i->size);
    bus_io_write(c->bus, port, reg_get(c, R_EAX, i->size), i->size);
    dr_io_check(c, port, i->size);
    NEXT(c, i);
    /* A device may have raised an interrupt or changed the machine. */
    c->stop_block = true;
}

HANDLER(in_I)
{
    do_in(c, i, (uint16_t)(i->imm & 0xFF));
}
SET_ALL(in_I, in_I)

HANDLER(in_DX)
{
    do_in(c, i, (uint16_t)c->regs[R_EDX]);
}
SET_ALL(in_DX, in_DX)

HANDLER(out_I)
{
    do_out(c, i, (uint16_t)(i->imm & 0xFF));
}
SET_ALL(out_I, out_I)

HANDLER(out_DX)
{
    do_out(c, i, (uint16_t)c->regs[R_EDX]);
}
SET_ALL(out_DX, out_DX)

HANDLER(cpuid)
{
    uint32_t out[4];
    cpu_cpuid(c, c->regs[R_EAX], c->regs[R_ECX], out);
    c->regs[R_EAX] = out[0];
    c->regs[R_EBX] = out[1];
    c->regs[R_ECX] = out[2];
    c->regs[R_EDX] = out[3];
    NEXT(c, i);
}
SET_ALL(cpuid, cpuid)

SET_ALL(ud, op_ud)
