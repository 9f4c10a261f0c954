/* Control registers, debug registers, CLTS, LMSW/SMSW, INVLPG, WBINVD:
 * SDM vol. 3, 2.5 and 17.2, and the instruction pages of vol. 2. */
#include "cpu/handlers.h"
#include "cpu/system.h"
#include "cpu/paging.h"

/* Privileged instructions: #GP(0) unless CPL 0 (real mode is CPL 0; V86 is
 * CPL 3). */
static void need_cpl0(CpuState *c)
{
    if ((c->cr0 & CR0_PE) && (c->cpl != 0 || (c->eflags & FL_VM)))
        cpu_gp0(c);
}

/* ---- CR0 -------------------------------------------------------------------- */

/* Write CR0 (MOV CR0 and LMSW). */
static void cr0_write(CpuState *c, uint32_t v)
{
    if ((v & CR0_PG) && !(v & CR0_PE))
        cpu_gp0(c);
    if ((v & CR0_NW) && !(v & CR0_CD))
        cpu_gp0(c);
    uint32_t old = c->cr0;
    /* ET is hardwired to 1 on P6 (SDM vol. 3, 2.5). */
    uint32_t cr0 = (v & 0xE005003Fu) | CR0_ET;
    /* With PAE paging in use afterwards, a change of PG, CD or NW loads the
     * PDPTEs; reserved bits in one are #GP(0) with CR0 unchanged (SDM
     * vol. 3, 4.4.1). */
    bool pdptes = paging_pae(cr0, c->cr4) && ((old ^ cr0) & (CR0_PG | CR0_CD | CR0_NW));
    if (pdptes && !paging_load_pdptes(c, c->cr3))
        cpu_gp0(c);
    c->cr0 = cr0;
    /* The TLB caches translations made with PG and access rights made with
     * WP, and is split by privilege (PE): drop it all when they change. */
    if ((old ^ cr0) & (CR0_PE | CR0_PG | CR0_WP))
        seg_update_mode(c);
    if (pdptes || ((old ^ cr0) & (CR0_PE | CR0_PG | CR0_WP)))
        cpu_tlb_flush(c);
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

/* CR4 bits this CPU implements; setting any other is #GP(0) as for any
 * reserved bit (SDM vol. 3, 2.5).  MCE and PCE are not implemented. */
#define CR4_SUPPORTED                                                                          \
    (CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_PGE | CR4_OSFXSR |         \
     CR4_OSXMMEXCPT)
/* CR4 bits that change how linear addresses are translated. */
#define CR4_PAGING (CR4_PSE | CR4_PAE | CR4_PGE)

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
        /* PDPTEs loaded with PAE paging, non-global entries dropped. */
        if (!paging_load_cr3(c, v))
            cpu_gp0(c);
        break;
    case 4: {
        if (v & ~CR4_SUPPORTED)
            cpu_gp0(c);
        uint32_t changed = c->cr4 ^ v;
        /* Like CR0: PDPTEs reloaded when PAE paging results and PAE, PGE
         * or PSE changes (SDM vol. 3, 4.4.1). */
        if (paging_pae(c->cr0, v) && (changed & CR4_PAGING) && !paging_load_pdptes(c, c->cr3))
            cpu_gp0(c);
        c->cr4 = v;
        /* Changing PAE, PGE or PSE invalidates every TLB entry, global ones
         * included (SDM vol. 3, 4.10.4.1). */
        if (changed & CR4_PAGING)
            cpu_tlb_flush(c);
        c->stop_block = true;
        break;
    }
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
    int r = dr_index(c, i->reg);
    dr_general_detect(c);
    c->regs[i->rm] = c->dr[r];
    NEXT(c, i);
}
SET_ALL(sys_mov_rd, sys_mov_rd)

/* Debug-register breakpoints are not acted on yet (system-architecture
 * work); the values are kept so that a guest reads back what it wrote. */
HANDLER(sys_mov_dr)
{
    need_cpl0(c);
    int r = dr_index(c, i->reg);
    dr_general_detect(c);
    uint32_t v = c->regs[i->rm];
    if (r == 6)
        v = (v & 0x0000E00Fu) | 0xFFFF0FF0u;
    else if (r == 7)
        v = (v & 0xFFFF2BFFu) | 0x400;
    c->dr[r] = v;
    NEXT(c, i);
}
SET_ALL(sys_mov_dr, sys_mov_dr)

/* ---- Caches, TLB --------------------------------------------------------------- */

/* INVLPG drops the TLB entries for the page holding the operand's linear
 * address, global ones included.  The operand is not accessed: there is no
 * segment check (the instruction page lists only #GP(0) for CPL > 0 and #UD,
 * SDM vol. 2, INVLPG). */
HANDLER(sys_invlpg)
{
    need_cpl0(c);
    tlb_flush_page(c, c->seg[i->seg].base + insn_ea(c, i));
    NEXT(c, i);
}
SET_ALL(sys_invlpg, sys_invlpg)

HANDLER(sys_wbinvd)
{
    need_cpl0(c);
    NEXT(c, i);
}
SET_ALL(sys_wbinvd, sys_wbinvd)

