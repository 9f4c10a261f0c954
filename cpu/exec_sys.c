/* System instructions: descriptor-table registers, LDTR and TR, the
 * descriptor queries (LAR, LSL, VERR, VERW), RDTSC, the MSRs and
 * SYSENTER/SYSEXIT.  SDM vol. 2 for each instruction, vol. 3 chapters 3,
 * 5.10 and 7.2, and vol. 4 (model-specific registers). */
#include "cpu/handlers.h"
#include "cpu/system.h"

/* Privileged instructions: #GP(0) unless CPL 0 (real mode is CPL 0; V86 is
 * CPL 3). */
static void need_cpl0(CpuState *c)
{
    if ((c->cr0 & CR0_PE) && (c->cpl != 0 || (c->eflags & FL_VM)))
        cpu_gp0(c);
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

/* The 16-bit selector operand of LLDT, LTR, LAR, LSL, VERR, VERW. */
static uint16_t sel_operand(CpuState *c, const Insn *i)
{
    if (i->flags & I_MEM)
        return (uint16_t)mem_read16(c, i->seg, insn_ea(c, i));
    return (uint16_t)reg16_get(c, i->rm);
}

/* LLDT: a null selector leaves LDTR unusable; otherwise an LDT descriptor
 * in the GDT (SDM vol. 2, LLDT). */
HANDLER(sys_lldt)
{
    if (real_or_v86(c))
        cpu_raise_ud(c);
    need_cpl0(c);
    uint16_t sel = sel_operand(c, i);
    int err = sel & 0xFFFC;
    if ((sel & 0xFFFC) == 0) {
        c->ldtr.sel = sel;
        c->ldtr.base = c->ldtr.limit = 0;
        c->ldtr.attr = 0;
        NEXT(c, i);
        return;
    }
    if (sel & 4)
        cpu_raise(c, EXC_GP, err, true);
    Desc d;
    desc_load(c, sel, &d, EXC_GP, 0);
    if (desc_type(&d) != SYS_LDT)
        cpu_raise(c, EXC_GP, err, true);
    if (!desc_present(&d))
        cpu_raise(c, EXC_NP, err, true);
    desc_to_cache(&c->ldtr, sel, &d);
    NEXT(c, i);
}
SET_ALL(sys_lldt, sys_lldt)

/* LTR: an available TSS in the GDT, which becomes busy (SDM vol. 2, LTR;
 * vol. 3, 7.2.4). */
HANDLER(sys_ltr)
{
    if (real_or_v86(c))
        cpu_raise_ud(c);
    need_cpl0(c);
    uint16_t sel = sel_operand(c, i);
    int err = sel & 0xFFFC;
    if ((sel & 0xFFFC) == 0)
        cpu_gp0(c);
    if (sel & 4)
        cpu_raise(c, EXC_GP, err, true);
    Desc d;
    desc_load(c, sel, &d, EXC_GP, 0);
    unsigned type = desc_type(&d);
    if (type != SYS_TSS16 && type != SYS_TSS32)
        cpu_raise(c, EXC_GP, err, true);
    if (!desc_present(&d))
        cpu_raise(c, EXC_NP, err, true);
    desc_set_busy(c, sel, true);
    d.hi |= 0x200;
    desc_to_cache(&c->tr, sel, &d);
    NEXT(c, i);
}
SET_ALL(sys_ltr, sys_ltr)

/* Shared by LAR, LSL, VERR and VERW: the descriptor `sel` names if it is
 * within its table and visible at the current CPL and the selector's RPL
 * (conforming code segments are always visible).  These instructions
 * report through ZF instead of faulting (SDM vol. 3, 5.10.1). */
static bool query_desc(CpuState *c, uint16_t sel, Desc *d)
{
    if ((sel & 0xFFFC) == 0 || !desc_fetch(c, sel, d))
        return false;
    unsigned type = desc_type(d), dpl = desc_dpl(d);
    if (DT_CONFORMING(type))
        return true;
    return dpl >= (unsigned)c->cpl && dpl >= (sel & 3u);
}

static void set_zf(CpuState *c, bool z)
{
    flags_set_bits(c, FL_ZF, z ? FL_ZF : 0);
}

HANDLER(sys_lar)
{
    if (real_or_v86(c))
        cpu_raise_ud(c);
    Desc d;
    uint16_t sel = sel_operand(c, i);
    bool ok = query_desc(c, sel, &d);
    if (ok && !(desc_type(&d) & 0x10)) {
        /* Valid system types: TSSs, LDT, call and task gates (vol. 2, LAR). */
        static const uint16_t valid = (1u << SYS_TSS16) | (1u << SYS_LDT) |
                                      (1u << SYS_TSS16_BUSY) | (1u << SYS_CALL16) |
                                      (1u << SYS_TASK) | (1u << SYS_TSS32) |
                                      (1u << SYS_TSS32_BUSY) | (1u << SYS_CALL32);
        ok = (valid >> desc_type(&d)) & 1;
    }
    if (ok)
        reg_set(c, i->reg, i->size, d.hi & (i->size == 4 ? 0x00F0FF00u : 0xFF00u));
    set_zf(c, ok);
    NEXT(c, i);
}
SET_ALL(sys_lar, sys_lar)

HANDLER(sys_lsl)
{
    if (real_or_v86(c))
        cpu_raise_ud(c);
    Desc d;
    uint16_t sel = sel_operand(c, i);
    bool ok = query_desc(c, sel, &d);
    if (ok && !(desc_type(&d) & 0x10)) {
        static const uint16_t valid = (1u << SYS_TSS16) | (1u << SYS_LDT) |
                                      (1u << SYS_TSS16_BUSY) | (1u << SYS_TSS32) |
                                      (1u << SYS_TSS32_BUSY);
        ok = (valid >> desc_type(&d)) & 1;
    }
    if (ok)
        reg_set(c, i->reg, i->size, desc_limit(&d)); /* the byte-granular limit */
    set_zf(c, ok);
    NEXT(c, i);
}
SET_ALL(sys_lsl, sys_lsl)

/* VERR/VERW: code and data segments only; readable (VERR) or writable data
 * (VERW), with the privilege rule of query_desc (SDM vol. 2, VERR/VERW). */
HANDLER(sys_verr)
{
    if (real_or_v86(c))
        cpu_raise_ud(c);
    Desc d;
    bool ok = query_desc(c, sel_operand(c, i), &d);
    set_zf(c, ok && DT_READABLE(desc_type(&d)));
    NEXT(c, i);
}
SET_ALL(sys_verr, sys_verr)

HANDLER(sys_verw)
{
    if (real_or_v86(c))
        cpu_raise_ud(c);
    Desc d;
    bool ok = query_desc(c, sel_operand(c, i), &d);
    set_zf(c, ok && DT_WRITABLE_DATA(desc_type(&d)));
    NEXT(c, i);
}
SET_ALL(sys_verw, sys_verw)

/* ---- Time stamp counter ------------------------------------------------------- */

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

/* ---- MSRs (SDM vol. 4, table 2-2 and the P6 family tables) -------------------- */

enum {
    MSR_TSC = 0x10, MSR_PLATFORM_ID = 0x17, MSR_APIC_BASE = 0x1B, MSR_BIOS_SIGN_ID = 0x8B,
    MSR_MTRRCAP = 0xFE, MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175,
    MSR_SYSENTER_EIP = 0x176, MSR_MISC_ENABLE = 0x1A0, MSR_MTRR_PHYS0 = 0x200,
    MSR_MTRR_FIX64K = 0x250, MSR_MTRR_FIX16K_80000 = 0x258, MSR_MTRR_FIX16K_A0000 = 0x259,
    MSR_MTRR_FIX4K_C0000 = 0x268, MSR_PAT = 0x277, MSR_MTRR_DEF_TYPE = 0x2FF,
    MSR_EFER = 0xC0000080u,
};

/* MTRRcap: 8 variable ranges, fixed ranges, write-combining (vol. 3, 11.11.1). */
#define MTRRCAP_VALUE 0x508u
/* Physical addresses have 36 bits (PAE): bits above are reserved. */
#define PHYS_MASK 0x0000000FFFFFF000ull
#define EFER_NXE (1u << 11)
#define APIC_BASE_BSP (1u << 8)

void msr_reset(CpuState *c)
{
    /* Power-up values (vol. 3, table 9-1; 11.12.4 for the PAT).  There is no
     * local APIC (CPUID.APIC = 0): the base reads as the default address
     * with the global enable clear. */
    c->sysenter_cs = c->sysenter_esp = c->sysenter_eip = 0;
    c->apic_base = 0xFEE00000u | APIC_BASE_BSP;
    c->pat = 0x0007040600070406ull;
    c->misc_enable = 1; /* fast-string operations enabled */
    c->mtrr_def_type = 0;
    memset(c->mtrr_var, 0, sizeof c->mtrr_var);
    memset(c->mtrr_fixed, 0, sizeof c->mtrr_fixed);
}

/* Memory types an MTRR may hold: UC, WC, WT, WP, WB (vol. 3, table 11-8). */
static bool mtrr_type_ok(unsigned t) { return t == 0 || t == 1 || t == 4 || t == 5 || t == 6; }

static bool mtrr_types_ok(uint64_t v)
{
    for (int k = 0; k < 8; k++)
        if (!mtrr_type_ok((v >> (8 * k)) & 0xFF))
            return false;
    return true;
}

/* Index of a fixed-range MTRR in mtrr_fixed, or -1. */
static int mtrr_fixed_index(uint32_t msr)
{
    if (msr == MSR_MTRR_FIX64K)
        return 0;
    if (msr == MSR_MTRR_FIX16K_80000)
        return 1;
    if (msr == MSR_MTRR_FIX16K_A0000)
        return 2;
    if (msr >= MSR_MTRR_FIX4K_C0000 && msr <= MSR_MTRR_FIX4K_C0000 + 7)
        return 3 + (int)(msr - MSR_MTRR_FIX4K_C0000);
    return -1;
}

/* Returns false for an MSR this CPU does not have. */
static bool msr_read(CpuState *c, uint32_t msr, uint64_t *v)
{
    int fx = mtrr_fixed_index(msr);
    if (fx >= 0) {
        *v = c->mtrr_fixed[fx];
        return true;
    }
    if (msr >= MSR_MTRR_PHYS0 && msr < MSR_MTRR_PHYS0 + 16) {
        *v = c->mtrr_var[msr - MSR_MTRR_PHYS0];
        return true;
    }
    switch (msr) {
    case MSR_TSC: *v = cpu_tsc(c); return true;
    case MSR_PLATFORM_ID: *v = 0; return true;
    case MSR_APIC_BASE: *v = c->apic_base; return true;
    case MSR_BIOS_SIGN_ID: *v = 0; return true; /* no microcode update loaded */
    case MSR_MTRRCAP: *v = MTRRCAP_VALUE; return true;
    case MSR_SYSENTER_CS: *v = c->sysenter_cs; return true;
    case MSR_SYSENTER_ESP: *v = c->sysenter_esp; return true;
    case MSR_SYSENTER_EIP: *v = c->sysenter_eip; return true;
    case MSR_MISC_ENABLE: *v = c->misc_enable; return true;
    case MSR_PAT: *v = c->pat; return true;
    case MSR_MTRR_DEF_TYPE: *v = c->mtrr_def_type; return true;
    case MSR_EFER: *v = c->efer; return true;
    default: return false;
    }
}

/* Returns false for an MSR this CPU does not have or a value with reserved
 * bits set (both #GP(0)). */
static bool msr_write(CpuState *c, uint32_t msr, uint64_t v)
{
    int fx = mtrr_fixed_index(msr);
    if (fx >= 0) {
        if (!mtrr_types_ok(v))
            return false;
        c->mtrr_fixed[fx] = v;
        return true;
    }
    if (msr >= MSR_MTRR_PHYS0 && msr < MSR_MTRR_PHYS0 + 16) {
        /* Even: PHYSBASE (type, base); odd: PHYSMASK (valid bit 11, mask). */
        bool base = !(msr & 1);
        uint64_t ok_bits = PHYS_MASK | (base ? 0xFF : 0x800);
        if ((v & ~ok_bits) || (base && !mtrr_type_ok(v & 0xFF)))
            return false;
        c->mtrr_var[msr - MSR_MTRR_PHYS0] = v;
        return true;
    }
    switch (msr) {
    case MSR_TSC:
        c->tsc_offset = v - (cpu_tsc(c) - c->tsc_offset);
        return true;
    case MSR_APIC_BASE:
        /* BSP is read-only; EN and the base are kept (no APIC responds). */
        if (v & ~(PHYS_MASK | 0x900ull))
            return false;
        c->apic_base = (v & ~(uint64_t)APIC_BASE_BSP) | (c->apic_base & APIC_BASE_BSP);
        return true;
    case MSR_BIOS_SIGN_ID:
        return true; /* written with 0 before CPUID to read the revision */
    case MSR_SYSENTER_CS: c->sysenter_cs = (uint32_t)v; return true;
    case MSR_SYSENTER_ESP: c->sysenter_esp = (uint32_t)v; return true;
    case MSR_SYSENTER_EIP: c->sysenter_eip = (uint32_t)v; return true;
    case MSR_MISC_ENABLE: c->misc_enable = v; return true;
    case MSR_PAT:
        /* Each entry UC, WC, WT, WP, WB or UC- (vol. 3, table 11-10). */
        for (int k = 0; k < 8; k++) {
            unsigned t = (v >> (8 * k)) & 0xFF;
            if (!mtrr_type_ok(t) && t != 7)
                return false;
        }
        c->pat = v;
        return true;
    case MSR_MTRR_DEF_TYPE:
        if ((v & ~0xCFFull) || !mtrr_type_ok(v & 0xFF))
            return false;
        c->mtrr_def_type = v;
        return true;
    case MSR_EFER:
        /* Only NXE exists on this 32-bit CPU (the paging code reads it). */
        if (v & ~(uint64_t)EFER_NXE)
            return false;
        if ((c->efer ^ v) & EFER_NXE)
            cpu_tlb_flush(c);
        c->efer = v;
        return true;
    default:
        return false;
    }
}

HANDLER(sys_rdmsr)
{
    need_cpl0(c);
    uint32_t msr = c->regs[R_ECX];
    uint64_t v;
    if (!msr_read(c, msr, &v)) {
        cpu_log(c, LOG_UNIMP, "RDMSR %#x", msr);
        cpu_gp0(c);
    }
    c->regs[R_EAX] = (uint32_t)v;
    c->regs[R_EDX] = (uint32_t)(v >> 32);
    NEXT(c, i);
}
SET_ALL(sys_rdmsr, sys_rdmsr)

HANDLER(sys_wrmsr)
{
    need_cpl0(c);
    uint32_t msr = c->regs[R_ECX];
    uint64_t v = ((uint64_t)c->regs[R_EDX] << 32) | c->regs[R_EAX];
    if (!msr_write(c, msr, v)) {
        uint64_t dummy;
        if (msr_read(c, msr, &dummy))
            cpu_log(c, LOG_GUEST_ERROR, "WRMSR %#x with reserved bits: %#llx", msr,
                    (unsigned long long)v);
        else
            cpu_log(c, LOG_UNIMP, "WRMSR %#x", msr);
        cpu_gp0(c);
    }
    NEXT(c, i);
}
SET_ALL(sys_wrmsr, sys_wrmsr)

HANDLER(sys_rdpmc)
{
    (void)i;
    cpu_log(c, LOG_UNIMP, "RDPMC");
    cpu_gp0(c);
}
SET_ALL(sys_rdpmc, sys_rdpmc)

/* ---- SYSENTER / SYSEXIT (SDM vol. 2) ------------------------------------------ */

/* Flat 4 GiB segments of the fixed form these instructions load. */
static void load_flat(CpuState *c, int seg, uint16_t sel, bool code, int dpl)
{
    SegCache *s = &c->seg[seg];
    s->sel = sel;
    s->base = 0;
    s->limit = 0xFFFFFFFFu;
    s->attr = (uint16_t)(SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G |
                         (code ? 0x0B : 0x03) | (dpl << 5));
}

HANDLER(sys_sysenter)
{
    (void)i;
    uint32_t cs = c->sysenter_cs;
    if (!(c->cr0 & CR0_PE) || (cs & 0xFFFC) == 0)
        cpu_gp0(c);
    c->eflags &= ~(FL_VM | FL_IF | FL_RF);
    load_flat(c, SEG_CS, (uint16_t)(cs & 0xFFFC), true, 0);
    load_flat(c, SEG_SS, (uint16_t)((cs + 8) & 0xFFFC), false, 0);
    c->cpl = 0;
    c->regs[R_ESP] = c->sysenter_esp;
    c->eip = c->sysenter_eip;
    seg_update_mode(c);
}
SET_ALL(sys_sysenter, sys_sysenter)

HANDLER(sys_sysexit)
{
    (void)i;
    uint32_t cs = c->sysenter_cs;
    if (!(c->cr0 & CR0_PE) || (c->eflags & FL_VM) || c->cpl != 0 || (cs & 0xFFFC) == 0)
        cpu_gp0(c);
    load_flat(c, SEG_CS, (uint16_t)((cs + 16) | 3), true, 3);
    load_flat(c, SEG_SS, (uint16_t)((cs + 24) | 3), false, 3);
    c->cpl = 3;
    c->regs[R_ESP] = c->regs[R_ECX];
    c->eip = c->regs[R_EDX];
    seg_update_mode(c);
}
SET_ALL(sys_sysexit, sys_sysexit)
