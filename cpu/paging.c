/* Paging: the page-table walker behind the TLB (tlb.c).  SDM vol. 3,
 * chapter 4:
 *   4.3  32-bit paging: 4 KiB pages, and 4 MiB pages with CR4.PSE (with
 *        PSE-36 when CPUID advertises it: PDE bits 16:13 give physical
 *        address bits 35:32);
 *   4.4  PAE paging: four PDPTE registers loaded with CR3, 4 KiB and 2 MiB
 *        pages, 64-bit entries with the XD bit when IA32_EFER.NXE = 1;
 *   4.6  access rights, 4.7 page-fault error codes, 4.8 accessed and dirty
 *        flags.
 * Page-table reads are physical accesses (RAM through the host pointer,
 * anything else through the bus: unassigned space reads as all ones, which
 * is a present entry with reserved bits set in PAE mode).  A malformed
 * table can only produce a #PF, never a host fault.
 *
 * Not modelled: paging-structure caches (the walk always reads memory, which
 * the SDM allows, 4.10.3), memory types (PWT, PCD, PAT only matter for
 * caching), SMEP/SMAP/PKE (not advertised). */
#include "cpu/paging.h"

/* Paging-structure entry bits (SDM vol. 3, tables 4-4 to 4-11). */
#define PG_P 0x001u
#define PG_RW 0x002u
#define PG_US 0x004u
#define PG_A 0x020u
#define PG_D 0x040u
#define PG_PS 0x080u
#define PG_G 0x100u
#define PG_PAT_LARGE 0x1000u /* PAT bit of a 4 MiB / 2 MiB page */
#define PG_XD (1ull << 63)

/* #PF error code bits (SDM vol. 3, 4.7 and figure 4-12). */
#define PFEC_P 0x01
#define PFEC_W 0x02
#define PFEC_U 0x04
#define PFEC_RSVD 0x08
#define PFEC_ID 0x10

#define EFER_NXE_BIT (1ull << 11) /* IA32_EFER.NXE (SDM vol. 3, 2.2.1) */

/* CPUID.01H:EDX features that change which entry bits are reserved. */
#define CPUID_PAT (1u << 16)
#define CPUID_PSE36 (1u << 17)

#define PHYS_MASK ((1ull << PAGING_MAXPHYADDR) - 1)
#define PAE_ADDR (PHYS_MASK & ~0xFFFull) /* bits M-1:12 */
/* Bits 62:M of PAE PDEs and PTEs are reserved; bit 63 too unless NXE
 * (SDM vol. 3, tables 4-9 to 4-11). */
#define PAE_RSVD_HIGH (~PHYS_MASK & ~PG_XD)
/* PDPTE: bits 2:1, 8:5 and 63:M are reserved (table 4-8; XD does not exist
 * in a PAE PDPTE). */
#define PDPTE_RSVD (0x006ull | 0x1E0ull | ~PHYS_MASK)

/* A finished walk: the final (leaf) entry and what the levels above add. */
typedef struct Walk {
    uint64_t leaf_addr; /* physical address of the PTE, or of the PDE of a large page */
    uint64_t leaf;
    uint64_t page;   /* 4 KiB frame holding the linear address */
    uint32_t rights; /* R/W and U/S ANDed over every level (4.6) */
    bool xd;         /* XD set at some level (NXE only) */
    bool large;
} Walk;

#define WALK_OK (-1)

static uint32_t cpuid1_edx(CpuState *c)
{
    uint32_t r[4] = {0, 0, 0, 0};
    cpu_cpuid(c, 1, 0, r);
    return r[3];
}

/* Read a 4- or 8-byte paging-structure entry at physical `addr`. */
static uint64_t pt_read(CpuState *c, uint64_t addr, bool pae)
{
    unsigned n = pae ? 8 : 4;
    uint64_t avail = 0;
    const uint8_t *h = bus_host_ptr(c->bus, addr, false, &avail);
    if (h && avail >= n)
        return pae ? ld32_host(h) | (uint64_t)ld32_host(h + 4) << 32 : ld32_host(h);
    uint64_t v = bus_mem_read(c->bus, addr, 4);
    if (pae)
        v |= (uint64_t)bus_mem_read(c->bus, addr + 4, 4) << 32;
    return v;
}

/* Set accessed/dirty bits in the entry at `addr`: a read-modify-write of
 * its current value, as the processor's locked update is (SDM vol. 3,
 * 4.8).  Both flags live in the low dword of a PAE entry.  A page table may
 * share a page with decoded code, which is dropped like after any write. */
static void pt_set_bits(CpuState *c, uint64_t addr, uint32_t bits)
{
    uint64_t avail = 0;
    uint8_t *h = bus_host_ptr(c->bus, addr, true, &avail);
    if (h && avail >= 4) {
        uint32_t v = ld32_host(h);
        if ((v & bits) != bits) {
            st32_host(h, v | bits);
            cpu_invalidate_code(c, addr, 4);
        }
        return;
    }
    /* ROM (the write is dropped by the bus) or MMIO. */
    uint32_t v = bus_mem_read(c->bus, addr, 4);
    if ((v & bits) != bits)
        bus_mem_write(c->bus, addr, v | bits, 4);
}

/* 32-bit paging (SDM vol. 3, 4.3).  Returns WALK_OK or the error-code bits
 * saying why there is no translation: 0 for a not-present entry, P|RSVD
 * for a reserved bit (checked only in present entries, 4.7).  `set_a` sets
 * the accessed flag of the page-directory entry the walk goes through. */
static int walk32(CpuState *c, uint32_t lin, bool set_a, Walk *w)
{
    uint64_t pde_addr = ((c->cr3 & 0xFFFFF000u) | ((lin >> 20) & 0xFFC)) & c->a20_mask;
    uint32_t pde = (uint32_t)pt_read(c, pde_addr, false);
    if (!(pde & PG_P))
        return 0;
    if ((pde & PG_PS) && (c->cr4 & CR4_PSE)) {
        /* 4 MiB page (table 4-4).  Bits 21:13 are reserved, except that
         * with PSE-36 bits 16:13 are physical address bits 35:32 (M = 36);
         * bit 12 is PAT, reserved when PAT is not supported. */
        uint64_t high = 0;
        if (pde & 0x003FF000u) {
            uint32_t edx = cpuid1_edx(c);
            uint32_t rsvd = 0x003FE000u;
            if (edx & CPUID_PSE36) {
                rsvd = 0x003E0000u;
                high = (uint64_t)((pde >> 13) & 0xF) << 32;
            }
            if (!(edx & CPUID_PAT))
                rsvd |= PG_PAT_LARGE;
            if (pde & rsvd)
                return PFEC_P | PFEC_RSVD;
        }
        w->page = high | (pde & 0xFFC00000u) | (lin & 0x003FF000u);
        w->leaf_addr = pde_addr;
        w->leaf = pde;
        w->rights = pde;
        w->xd = false;
        w->large = true;
        return WALK_OK;
    }
    /* A page table; PS is ignored without CR4.PSE (4.3). */
    if (set_a && !(pde & PG_A))
        pt_set_bits(c, pde_addr, PG_A);
    uint64_t pte_addr = ((pde & 0xFFFFF000u) | ((lin >> 10) & 0xFFC)) & c->a20_mask;
    uint32_t pte = (uint32_t)pt_read(c, pte_addr, false);
    if (!(pte & PG_P))
        return 0;
    w->page = pte & 0xFFFFF000u;
    w->leaf_addr = pte_addr;
    w->leaf = pte;
    w->rights = pde & pte;
    w->xd = false;
    w->large = false;
    return WALK_OK;
}

/* PAE paging (SDM vol. 3, 4.4.2); same contract as walk32.  The PDPTE
 * comes from the PDPTE registers, not from memory, and has no accessed
 * flag. */
static int walk_pae(CpuState *c, uint32_t lin, bool set_a, Walk *w)
{
    uint64_t pdpte = c->pdpte[lin >> 30];
    if (!(pdpte & PG_P))
        return 0;
    uint64_t rsvd = PAE_RSVD_HIGH | ((c->efer & EFER_NXE_BIT) ? 0 : PG_XD);
    uint64_t pde_addr = ((pdpte & PAE_ADDR) | ((lin >> 18) & 0xFF8)) & c->a20_mask;
    uint64_t pde = pt_read(c, pde_addr, true);
    if (!(pde & PG_P))
        return 0;
    if (pde & PG_PS) {
        /* 2 MiB page (table 4-9): bits 20:13 reserved, bit 12 PAT. */
        uint64_t r = rsvd | 0x1FE000ull;
        if ((pde & PG_PAT_LARGE) && !(cpuid1_edx(c) & CPUID_PAT))
            r |= PG_PAT_LARGE;
        if (pde & r)
            return PFEC_P | PFEC_RSVD;
        w->page = (pde & PAE_ADDR & ~0x1FFFFFull) | (lin & 0x1FF000u);
        w->leaf_addr = pde_addr;
        w->leaf = pde;
        w->rights = (uint32_t)pde;
        w->xd = pde & PG_XD;
        w->large = true;
        return WALK_OK;
    }
    if (pde & rsvd)
        return PFEC_P | PFEC_RSVD;
    if (set_a && !(pde & PG_A))
        pt_set_bits(c, pde_addr, PG_A);
    uint64_t pte_addr = ((pde & PAE_ADDR) | ((lin >> 9) & 0xFF8)) & c->a20_mask;
    uint64_t pte = pt_read(c, pte_addr, true);
    if (!(pte & PG_P))
        return 0;
    if (pte & rsvd)
        return PFEC_P | PFEC_RSVD;
    w->page = pte & PAE_ADDR;
    w->leaf_addr = pte_addr;
    w->leaf = pte;
    w->rights = (uint32_t)(pde & pte);
    w->xd = (pde | pte) & PG_XD;
    w->large = false;
    return WALK_OK;
}

void paging_translate(CpuState *c, uint32_t lin, int acc, bool user, PageWalk *out)
{
    bool pae = c->cr4 & CR4_PAE;
    Walk w;
    int err = pae ? walk_pae(c, lin, true, &w) : walk32(c, lin, true, &w);
    if (err == WALK_OK) {
        /* Access rights, SDM vol. 3, 4.6 (no SMEP/SMAP).  User-mode accesses
         * need U/S=1 at every level, and R/W=1 at every level to write.
         * Supervisor-mode accesses may read anything; they may write a
         * page with R/W=0 somewhere only when CR0.WP=0.  With NXE, no fetch
         * from a page with XD=1 at some level. */
        unsigned perm;
        if (user)
            perm = !(w.rights & PG_US) ? 0
                   : (w.rights & PG_RW) ? PERM_R | PERM_W | PERM_X
                                        : PERM_R | PERM_X;
        else
            perm = (!(c->cr0 & CR0_WP) || (w.rights & PG_RW)) ? PERM_R | PERM_W | PERM_X
                                                              : PERM_R | PERM_X;
        if (w.xd)
            perm &= ~PERM_X;
        static const unsigned need[3] = {PERM_R, PERM_W, PERM_X};
        if (perm & need[acc]) {
            /* SDM vol. 3, 4.8: accessed on every use, dirty on a write, in
             * the entry that maps the page.  The TLB may cache write access
             * only once the dirty flag is set, so that the first write to
             * a clean page comes back here. */
            uint32_t bits = PG_A | (acc == ACC_W ? PG_D : 0);
            if ((w.leaf & bits) != bits)
                pt_set_bits(c, w.leaf_addr, bits);
            if (!((w.leaf | bits) & PG_D))
                perm &= ~PERM_W;
            out->page = w.page;
            out->perm = perm;
            out->global = (w.leaf & PG_G) && (c->cr4 & CR4_PGE);
            out->large = w.large;
            return;
        }
        err = PFEC_P; /* a protection violation */
    }
    /* Error code, SDM vol. 3, 4.7: W/R and U/S describe the access; I/D is
     * set for fetches only with PAE paging and NXE. */
    if (acc == ACC_W)
        err |= PFEC_W;
    if (user)
        err |= PFEC_U;
    if (acc == ACC_X && pae && (c->efer & EFER_NXE_BIT))
        err |= PFEC_ID;
    c->cr2 = lin;
    /* A page fault invalidates the TLB entries for the page (4.10.4.1). */
    tlb_flush_page(c, lin);
    cpu_raise(c, EXC_PF, err, true);
}

bool paging_probe(CpuState *c, uint32_t lin, uint64_t *phys)
{
    if (!(c->cr0 & CR0_PG)) {
        *phys = lin & c->a20_mask;
        return true;
    }
    Walk w;
    int err = (c->cr4 & CR4_PAE) ? walk_pae(c, lin, false, &w) : walk32(c, lin, false, &w);
    if (err != WALK_OK)
        return false;
    *phys = (w.page | (lin & 0xFFF)) & c->a20_mask;
    return true;
}

bool paging_load_pdptes(CpuState *c, uint32_t cr3)
{
    /* CR3 bits 31:5 locate the 32-byte PDPT (SDM vol. 3, table 4-7). */
    uint64_t e[4];
    for (unsigned k = 0; k < 4; k++) {
        e[k] = pt_read(c, ((uint64_t)(cr3 & 0xFFFFFFE0u) + 8 * k) & c->a20_mask, true);
        if ((e[k] & PG_P) && (e[k] & PDPTE_RSVD))
            return false;
    }
    memcpy(c->pdpte, e, sizeof e);
    return true;
}

bool paging_load_cr3(CpuState *c, uint32_t v)
{
    /* MOV to CR3 with PAE paging in use loads the PDPTEs from the new
     * address (4.4.1); the load invalidates the non-global TLB entries
     * (4.10.4.1). */
    if (paging_pae(c->cr0, c->cr4) && !paging_load_pdptes(c, v))
        return false;
    c->cr3 = v;
    tlb_flush_nonglobal(c);
    return true;
}
