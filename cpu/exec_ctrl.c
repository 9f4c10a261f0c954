/* Control transfer, flag instructions, port I/O, HLT, CPUID.
 * SDM vol. 2 for each instruction. */
#include "cpu/handlers.h"

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

HANDLER(jmpf_A)
{
    seg_load_cs_far(c, i->imm2, i->imm & op_mask(i));
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
    seg_load_cs_far(c, sel, off);
}
SET_ALL(jmpf_M, jmpf_M)

/* Far CALL: the stack is checked first, then CS is loaded (which may
 * fault with nothing changed), then the return address is pushed. */
static void call_far(CpuState *c, const Insn *i, uint16_t sel, uint32_t off)
{
    unsigned size = i->size;
    uint32_t sp = sp_get(c);
    uint16_t old_cs = c->seg[SEG_CS].sel;
    uint32_t ret = (c->eip + i->len) & op_mask(i);
    mem_probe_write(c, SEG_SS, (sp - 2 * size) & sp_mask(c), 2 * size);
    seg_load_cs_far(c, sel, off);
    push(c, old_cs, size);
    push(c, ret, size);
}

HANDLER(callf_A)
{
    call_far(c, i, i->imm2, i->imm & op_mask(i));
}
SET_ALL(callf_A, callf_A)

HANDLER(callf_M)
{
    uint32_t off;
    uint16_t sel;
    far_ptr_read(c, i, &off, &sel);
    call_far(c, i, sel, off);
}
SET_ALL(callf_M, callf_M)

/* Far RET to the same privilege level.  A return to an outer level needs
 * the system-architecture work and is reported as unimplemented. */
HANDLER(ret_far)
{
    unsigned size = i->size;
    uint32_t sp = sp_get(c);
    uint32_t off = mem_read(c, SEG_SS, sp, size);
    uint16_t sel = (uint16_t)mem_read(c, SEG_SS, (sp + size) & sp_mask(c), 2);
    bool pm = (c->cr0 & CR0_PE) && !(c->eflags & FL_VM);
    if (pm && (sel & 3) > c->cpl) {
        cpu_log(c, LOG_UNIMP, "far RET to an outer privilege level");
        cpu_raise(c, EXC_GP, sel & 0xFFFC, true);
    }
    seg_load_cs_far(c, sel, off);
    sp_set(c, sp + 2 * size + (i->op == 0xCA ? (i->imm & 0xFFFF) : 0));
}
SET_ALL(ret_far, ret_far)

/* ---- Software interrupts and IRET ---------------------------------------- */

HANDLER(int_n)
{
    cpu_interrupt(c, i->imm & 0xFF, 0, false, true, c->eip + i->len);
}
SET_ALL(int_n, int_n)

HANDLER(int3)
{
    cpu_interrupt(c, EXC_BP, 0, false, true, c->eip + i->len);
}
SET_ALL(int3, int3)

HANDLER(into)
{
    if (flags_cond(c, 0))
        cpu_interrupt(c, EXC_OF, 0, false, true, c->eip + i->len);
    else
        NEXT(c, i);
}
SET_ALL(into, into)

/* INT1 (ICEBP) raises #DB as a trap, without the gate DPL check of INT n. */
HANDLER(int1)
{
    NEXT(c, i);
    cpu_raise(c, EXC_DB, 0, false);
}
SET_ALL(int1, int1)

/* IRET in real mode, and in protected mode back to the same privilege
 * level.  Task returns (NT), returns to outer levels and to V86 mode need
 * the system-architecture work and are reported as unimplemented. */
HANDLER(iret)
{
    unsigned size = i->size;
    uint32_t sp = sp_get(c);
    uint32_t m = sp_mask(c);
    uint32_t off = mem_read(c, SEG_SS, sp, size);
    uint16_t sel = (uint16_t)mem_read(c, SEG_SS, (sp + size) & m, 2);
    uint32_t fl = mem_read(c, SEG_SS, (sp + 2 * size) & m, size);
    bool pm = c->cr0 & CR0_PE;
    if (pm) {
        if ((c->eflags & (FL_NT | FL_VM)) || (size == 4 && (fl & FL_VM) && c->cpl == 0) ||
            (sel & 3) != c->cpl) {
            cpu_log(c, LOG_UNIMP, "IRET with a task, V86 or privilege change");
            cpu_raise(c, EXC_GP, sel & 0xFFFC, true);
        }
    }
    seg_load_cs_far(c, sel, off);
    sp_set(c, sp + 3 * size);
    /* Which bits IRET may change: SDM vol. 2, IRET pseudo-code.  IOPL only
     * at CPL 0, IF only when CPL <= IOPL; VM/VIP/VIF are kept here. */
    uint32_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_IF | FL_IOPL;
    if (size == 4)
        mask |= FL_RF | FL_AC | FL_ID;
    if (pm) {
        if (c->cpl > 0)
            mask &= ~FL_IOPL;
        if ((unsigned)c->cpl > ((c->eflags & FL_IOPL) >> 12))
            mask &= ~FL_IF;
    }
    flags_materialize(c);
    c->eflags = (c->eflags & ~mask) | (fl & mask) | 2;
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

/* CLI/STI: #GP(0) in protected or V86 mode when CPL > IOPL (SDM vol. 2;
 * VME/PVI come with the system-architecture work). */
HANDLER(cli)
{
    if (pmode(c) && (unsigned)c->cpl > iopl(c))
        cpu_gp0(c);
    c->eflags &= ~FL_IF;
    NEXT(c, i);
}
SET_ALL(cli, cli)

HANDLER(sti)
{
    if (pmode(c) && (unsigned)c->cpl > iopl(c))
        cpu_gp0(c);
    if (!(c->eflags & FL_IF))
        c->intr_shadow = 1; /* interrupts wait one more instruction */
    c->eflags |= FL_IF;
    NEXT(c, i);
}
SET_ALL(sti, sti)

/* PUSHF: VM and RF are cleared in the pushed image (SDM vol. 2). */
HANDLER(pushf)
{
    if ((c->eflags & FL_VM) && iopl(c) < 3)
        cpu_gp0(c);
    uint32_t f = cpu_get_eflags(c) & ~(FL_VM | FL_RF);
    push(c, f & size_mask(i->size), i->size);
    NEXT(c, i);
}
SET_ALL(pushf, pushf)

HANDLER(popf)
{
    if ((c->eflags & FL_VM) && iopl(c) < 3)
        cpu_gp0(c);
    uint32_t f = pop(c, i->size);
    uint32_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID;
    if (c->cpl == 0 || !pmode(c))
        mask |= FL_IOPL;
    if (!pmode(c) || (unsigned)c->cpl <= iopl(c))
        mask |= FL_IF;
    if (i->size == 2)
        mask &= 0xFFFF;
    flags_materialize(c);
    c->eflags = (c->eflags & ~mask) | (f & mask) | 2;
    NEXT(c, i);
}
SET_ALL(popf, popf)

/* ---- HLT, port I/O, CPUID ------------------------------------------------ */

HANDLER(hlt)
{
    if (pmode(c) && c->cpl != 0)
        cpu_gp0(c);
    NEXT(c, i);
    c->halted = true;
    c->stop_block = true;
}
SET_ALL(hlt, hlt)

/* I/O permission: in protected mode with CPL > IOPL, or in V86 mode, the
 * TSS I/O bitmap decides (SDM vol. 1, 19.5).  The bitmap comes with task
 * support; until then such accesses fault. */
void io_check(CpuState *c, uint16_t port, unsigned size)
{
    if (pmode(c) && ((unsigned)c->cpl > iopl(c) || (c->eflags & FL_VM))) {
        cpu_log(c, LOG_UNIMP, "I/O permission bitmap for port %#x/%u", port, size);
        cpu_gp0(c);
    }
}

static void do_in(CpuState *c, const Insn *i, uint16_t port)
{
    io_check(c, port, i->size);
    reg_set(c, R_EAX, i->size, bus_io_read(c->bus, port, i->size));
    NEXT(c, i);
}

static void do_out(CpuState *c, const Insn *i, uint16_t port)
{
    io_check(c, port, i->size);
    bus_io_write(c->bus, port, reg_get(c, R_EAX, i->size), i->size);
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
