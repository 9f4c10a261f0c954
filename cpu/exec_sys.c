/* System instructions: descriptor-table registers, control and debug
 * registers, MSRs, RDTSC.  What needs protected-mode task/segment
 * machinery beyond this (LLDT, LTR, LAR, LSL, VERR, VERW, SYSENTER) is
 * reported as unimplemented and raises #UD until the system-architecture
 * work lands. */
#include "cpu/handlers.h"

static bool real_or_v86(const CpuState *c) { return !(c->cr0 & CR0_PE) || (c->eflags & FL_VM); }

/* Privileged instructions: #GP(0) unless CPL 0 (real mode is CPL 0; V86 is
 * CPL 3). */
static void need_cpl0(CpuState *c)
{
    if ((c->cr0 & CR0_PE) && (c->cpl != 0 || (c->eflags & FL_VM)))
        cpu_gp0(c);
}

static _Noreturn void sys_unimp(CpuState *c, const char *what)
{
    cpu_log(c, LOG_UNIMP, "%s at %04x:%08x", what, c->seg[SEG_CS].sel, c->eip);
    cpu_raise_ud(c);
}

/* ---- GDTR / IDTR ---------------------------------------------------------- */

static void load_dtr(CpuState *c, const Insn *i, DescTable *t)
{
    need_cpl0(c);
    uint32_t ea = insn_ea(c, i);
    uint32_t amask = (i->flags & I_AD32) ? ~0u : 0xFFFF;
    uint32_t limit = mem_read16(c, i->seg, ea);
    uint32_t base = mem_read32(c, i->seg, (ea + 2) & amask);
    if (i->size == 2)
        base &= 0x00FFFFFF; /* 16-bit operand size loads a 24-bit base */
    t->limit = limit;
    t->base = base;
    NEXT(c, i);
}

/* SGDT/SIDT with a 16-bit operand size store a zero top byte on the 386
 * and later (SDM vol. 2, SGDT). */
static void store_dtr(CpuState *c, const Insn *i, const DescTable *t)
{
    uint32_t ea = insn_ea(c, i);
    uint32_t amask = (i->flags & I_AD32) ? ~0u : 0xFFFF;
    uint32_t base = i->size == 2 ? t->base & 0x00FFFFFF : t->base;
    mem_probe_write(c, i->seg, ea, 6);
    mem_write16(c, i->seg, ea, t->limit);
    mem_write32(c, i->seg, (ea + 2) & amask, base);
    NEXT(c, i);
}

HANDLER(sys_lgdt) { load_dtr(c, i, &c->gdtr); }
SET_ALL(sys_lgdt, sys_lgdt)
HANDLER(sys_lidt) { load_dtr(c, i, &c->idtr); }
SET_ALL(sys_lidt, sys_lidt)
HANDLER(sys_sgdt) { store_dtr(c, i, &c->gdtr); }
SET_ALL(sys_sgdt, sys_sgdt)
HANDLER(sys_sidt) { store_dtr(c, i, &c->idtr); }
SET_ALL(sys_sidt, sys_sidt)

/* ---- LDTR, TR and descriptor queries --------------------------------------- */

static void store_sel(CpuState *c, const Insn *i, uint16_t sel)
{
    if (i->flags & I_MEM)
        mem_write16(c, i->seg, insn_ea(c, i), sel);
    else
        reg_set(c, i->rm, i->size, sel); /* zero-extended in a 32-bit register */
    NEXT(c, i);
}

HANDLER(sys_sldt)
{
    if (real_or_v86(c))
        cpu_raise_ud(c);
    store_sel(c, i, c->ldtr.sel);
}
SET_ALL(sys_sldt, sys_sldt)

HANDLER(sys_str)
{
    if (real_or_v86(c))
        cpu_raise_ud(c);
    store_sel(c, i, c->tr.sel);
}
SET_ALL(sys_str, sys_str)

#define PM_ONLY_UNIMP(name, what)                                                          \
    HANDLER(name)                                                                          \
    {                                                                                      \
        (void)i;                                                                           \
        if (real_or_v86(c))                                                                \
            cpu_raise_ud(c);                                                               \
        sys_unimp(c, what);                                                                \
    }                                                                                      \
    SET_ALL(name, name)

PM_ONLY_UNIMP(sys_lldt, "LLDT")
PM_ONLY_UNIMP(sys_ltr, "LTR")
PM_ONLY_UNIMP(sys_lar, "LAR")
PM_ONLY_UNIMP(sys_lsl, "LSL")
PM_ONLY_UNIMP(sys_verr, "VERR")
PM_ONLY_UNIMP(sys_verw, "VERW")

/* ---- Time stamp counter and MSRs --------------------------------------------- */

HANDLER(sys_rdtsc)
{
    if ((c->cr4 & CR4_TSD) && (c->cpl != 0 || (c->eflags & FL_VM)) && (c->cr0 & CR0_PE))
        cpu_gp0(c);
    uint64_t t = cpu_tsc(c);
    c->regs[R_EAX] = (uint32_t)t;
    c->regs[R_EDX] = (uint32_t)(t >> 32);
    NEXT(c, i);
}
SET_ALL(sys_rdtsc, sys_rdtsc)

/* CPUID does not advertise MSR support yet; RDMSR/WRMSR know the TSC and
 * otherwise raise #GP, logging the MSR as unimplemented. */
#define MSR_TSC 0x10

HANDLER(sys_rdmsr)
{
    need_cpl0(c);
    uint32_t msr = c->regs[R_ECX];
    if (msr == MSR_TSC) {
        uint64_t t = cpu_tsc(c);
        c->regs[R_EAX] = (uint32_t)t;
        c->regs[R_EDX] = (uint32_t)(t >> 32);
        NEXT(c, i);
        return;
    }
    cpu_log(c, LOG_UNIMP, "RDMSR %#x", msr);
    cpu_gp0(c);
}
SET_ALL(sys_rdmsr, sys_rdmsr)

HANDLER(sys_wrmsr)
{
    need_cpl0(c);
    uint32_t msr = c->regs[R_ECX];
    if (msr == MSR_TSC) {
        uint64_t v = ((uint64_t)c->regs[R_EDX] << 32) | c->regs[R_EAX];
        c->tsc_offset = v - (cpu_tsc(c) - c->tsc_offset);
        NEXT(c, i);
        return;
    }
    cpu_log(c, LOG_UNIMP, "WRMSR %#x", msr);
    cpu_gp0(c);
}
SET_ALL(sys_wrmsr, sys_wrmsr)

HANDLER(sys_rdpmc)
{
    (void)i;
    cpu_log(c, LOG_UNIMP, "RDPMC");
    cpu_gp0(c);
}
SET_ALL(sys_rdpmc, sys_rdpmc)

/* SYSENTER/SYSEXIT: CPUID does not report SEP yet. */
HANDLER(sys_sysenter)
{
    (void)i;
    sys_unimp(c, "SYSENTER");
}
SET_ALL(sys_sysenter, sys_sysenter)

HANDLER(sys_sysexit)
{
    (void)i;
    sys_unimp(c, "SYSEXIT");
}
SET_ALL(sys_sysexit, sys_sysexit)
