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

/* ---- CR0 -------------------------------------------------------------------- */

/* Write CR0 (MOV CR0 and LMSW).  Paging is not implemented yet: setting PG
 * is reported and refused with #GP. */
static void cr0_write(CpuState *c, uint32_t v)
{
    if ((v & CR0_PG) && !(v & CR0_PE))
        cpu_gp0(c);
    if ((v & CR0_NW) && !(v & CR0_CD))
        cpu_gp0(c);
    if (v & CR0_PG) {
        cpu_log(c, LOG_UNIMP, "paging (CR0.PG)");
        cpu_gp0(c);
    }
    uint32_t old = c->cr0;
    /* ET is hardwired to 1 on P6 (SDM vol. 3, 2.5). */
    c->cr0 = (v & 0xE005003Fu) | CR0_ET;
    if ((old ^ c->cr0) & (CR0_PE | CR0_PG | CR0_WP)) {
        seg_update_mode(c);
        cpu_tlb_flush(c);
    }
    c->stop_block = true;
}

HANDLER(sys_smsw)
{
    if (i->flags & I_MEM)
        mem_write16(c, i->seg, insn_ea(c, i), c->cr0 & 0xFFFF);
    else
        reg_set(c, i->rm, i->size, c->cr0);
    NEXT(c, i);
}
SET_ALL(sys_smsw, sys_smsw)

/* LMSW loads PE, MP, EM and TS; it cannot clear PE (SDM vol. 2, LMSW). */
HANDLER(sys_lmsw)
{
    need_cpl0(c);
    uint32_t v = (i->flags & I_MEM) ? mem_read16(c, i->seg, insn_ea(c, i)) : reg16_get(c, i->rm);
    uint32_t cr0 = (c->cr0 & ~0xEu) | (v & 0xF) | (c->cr0 & CR0_PE);
    cr0_write(c, cr0);
    NEXT(c, i);
}
SET_ALL(sys_lmsw, sys_lmsw)

HANDLER(sys_clts)
{
    need_cpl0(c);
    c->cr0 &= ~CR0_TS;
    NEXT(c, i);
}
SET_ALL(sys_clts, sys_clts)

/* ---- MOV CRn / DRn ------------------------------------------------------------ */

/* CR4 bits this CPU implements: TSD and DE so far (VME, PVI, PSE, PAE,
 * PGE, OSFXSR come with their features; setting them is #GP as for any
 * reserved bit, SDM vol. 3, 2.5). */
#define CR4_TSD 0x4u
#define CR4_DE 0x8u
#define CR4_SUPPORTED (CR4_TSD | CR4_DE)

HANDLER(sys_mov_rc)
{
    need_cpl0(c);
    uint32_t v;
    switch (i->reg) {
    case 0: v = c->cr0; break;
    case 2: v = c->cr2; break;
    case 3: v = c->cr3; break;
    case 4: v = c->cr4; break;
    default: cpu_raise_ud(c);
    }
    c->regs[i->rm] = v;
    NEXT(c, i);
}
SET_ALL(sys_mov_rc, sys_mov_rc)

HANDLER(sys_mov_cr)
{
    need_cpl0(c);
    uint32_t v = c->regs[i->rm];
    switch (i->reg) {
    case 0: cr0_write(c, v); break;
    case 2: c->cr2 = v; break;
    case 3:
        c->cr3 = v;
        cpu_tlb_flush(c);
        break;
    case 4:
        if (v & ~CR4_SUPPORTED)
            cpu_gp0(c);
        c->cr4 = v;
        cpu_tlb_flush(c);
        break;
    default: cpu_raise_ud(c);
    }
    NEXT(c, i);
}
SET_ALL(sys_mov_cr, sys_mov_cr)

/* DR4/DR5 alias DR6/DR7 unless CR4.DE makes them #UD (SDM vol. 3, 17.2.2). */
static int dr_index(CpuState *c, int r)
{
    if (r == 4 || r == 5) {
        if (c->cr4 & CR4_DE)
            cpu_raise_ud(c);
        return r + 2;
    }
    return r;
}

HANDLER(sys_mov_rd)
{
    need_cpl0(c);
    c->regs[i->rm] = c->dr[dr_index(c, i->reg)];
    NEXT(c, i);
}
SET_ALL(sys_mov_rd, sys_mov_rd)

/* Debug-register breakpoints are not acted on yet (system-architecture
 * work); the values are kept so that a guest reads back what it wrote. */
HANDLER(sys_mov_dr)
{
    need_cpl0(c);
    int r = dr_index(c, i->reg);
    uint32_t v = c->regs[i->rm];
    if (r == 6)
        v = (v & 0x0000E00Fu) | 0xFFFF0FF0u;
    else if (r == 7)
        v = (v & 0xFFFF2BFFu) | 0x400;
    if (r == 7 && (v & 0xFF))
        cpu_log(c, LOG_UNIMP, "debug-register breakpoints (DR7 %#x)", v);
    c->dr[r] = v;
    NEXT(c, i);
}
SET_ALL(sys_mov_dr, sys_mov_dr)

/* ---- Caches, TLB --------------------------------------------------------------- */

HANDLER(sys_invlpg)
{
    need_cpl0(c);
    cpu_tlb_flush(c);
    NEXT(c, i);
}
SET_ALL(sys_invlpg, sys_invlpg)

HANDLER(sys_wbinvd)
{
    need_cpl0(c);
    NEXT(c, i);
}
SET_ALL(sys_wbinvd, sys_wbinvd)

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
