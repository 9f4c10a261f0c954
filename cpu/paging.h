/* Paging (cpu/paging.c) and TLB maintenance (cpu/tlb.c): the interface the
 * rest of cpu/ uses.  SDM vol. 3, chapter 4. */
#ifndef KESTREL_CPU_PAGING_H
#define KESTREL_CPU_PAGING_H

#include "cpu/cpu_impl.h"

/* Physical-address width (MAXPHYADDR, SDM vol. 3, 4.1.4).  Without CPUID
 * leaf 80000008H it is 36 when PAE is advertised; if that leaf is added it
 * must report this value. */
#define PAGING_MAXPHYADDR 36

/* What a successful walk may cache in the TLB for the privilege it was
 * made with. */
#define PERM_R 1u
#define PERM_W 2u /* writes allowed and the dirty bit already set */
#define PERM_X 4u

typedef struct PageWalk {
    uint64_t page;   /* physical address of the 4 KiB frame holding lin (before A20) */
    unsigned perm;   /* PERM_* */
    bool global;     /* G=1 in the final entry with CR4.PGE=1 */
    bool large;      /* part of a 4 MiB or 2 MiB page */
} PageWalk;

/* Translate `lin` for an access of kind `acc` (ACC_R/W/X) by a user-mode
 * (`user`) or supervisor-mode access with CR0.PG=1: sets the accessed and
 * dirty bits and, on failure, CR2 and raises #PF. */
void paging_translate(CpuState *c, uint32_t lin, int acc, bool user, PageWalk *w);

/* The physical address `lin` maps to, without side effects (no #PF, no
 * accessed/dirty bits, no CR2) and without access-rights checks: for the
 * debugger.  False where there is no valid translation.  Handles CR0.PG=0
 * and applies the A20 mask. */
bool paging_probe(CpuState *c, uint32_t lin, uint64_t *phys);

/* True when PAE paging is in use for these control-register values. */
static inline bool paging_pae(uint32_t cr0, uint32_t cr4)
{
    return (cr0 & CR0_PG) && (cr4 & CR4_PAE);
}

/* Load the four PDPTE registers from the table at `cr3` (SDM vol. 3,
 * 4.4.1).  Returns false, leaving the registers unchanged, when a present
 * PDPTE has a reserved bit set: the caller raises #GP(0). */
bool paging_load_pdptes(CpuState *c, uint32_t cr3);

/* Load CR3 as MOV to CR3 and a task switch do: with PAE paging in use the
 * PDPTEs are loaded first (false, and nothing changed, when that fails:
 * #GP(0) for MOV); then the non-global TLB entries are dropped. */
bool paging_load_cr3(CpuState *c, uint32_t v);

/* TLB maintenance (tlb.c).  Every flush also ends the running decoded block
 * so that the next fetch uses the new translation. */
void tlb_flush_nonglobal(CpuState *c);
/* Drop every entry for the page holding `lin`, in both TLB sets, global
 * ones too: INVLPG and page faults (SDM vol. 3, 4.10.4.1). */
void tlb_flush_page(CpuState *c, uint32_t lin);

#endif
