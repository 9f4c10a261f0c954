/* The software TLB and its slow paths; the page-table walker is paging.c.
 *
 * A TLB entry maps one 4 KiB linear page to host memory when the physical
 * page is RAM or ROM (a 2 or 4 MiB page is cached as 4 KiB pieces).  There
 * are two sets: tlb[0] for supervisor-mode accesses and tlb[1] for
 * user-mode ones (CPL 3), selected by c->tlb_cur; an implicit supervisor
 * access at CPL 3 (descriptor tables) switches tlb_cur to tlb[0] around it,
 * and the walker takes the privilege of the access from the set in use.
 *
 * A fill installs every tag the translation allows for that privilege: read
 * and fetch as paging permits (fetch not from an XD page), write only when
 * paging permits it and the dirty flag is already set, so that the first
 * write to a clean page takes the slow path, which sets it (SDM vol. 3,
 * 4.8).  Write tags are never installed for a page that holds decoded code:
 * such writes take the slow path, which drops the decoded code first
 * (self-modifying code), like QEMU's not-dirty pages.  MMIO is never cached
 * and goes to the bus on every access.
 *
 * Invalidation follows SDM vol. 3, 4.10.4.1: MOV to CR3 drops the
 * non-global entries (global ones are marked in tlb_flags), INVLPG and page
 * faults drop one page (all pieces of a large page), and paging-mode
 * changes drop everything. */
#include "cpu/paging.h"

#include <stdlib.h>

/* tlb_flags[][] bits. */
#define TLBF_GLOBAL 1u
#define TLBF_LARGE 2u

static inline void tlb_entry_clear(TlbEntry *e)
{
    e->tag_r = e->tag_w = e->tag_x = 1;
    e->phys = ~0ull;
}

/* The linear page an entry maps; 1 for an entry with no tag left. */
static inline uint32_t tlb_entry_lpage(const TlbEntry *e)
{
    return e->tag_r != 1 ? e->tag_r : e->tag_x != 1 ? e->tag_x : e->tag_w;
}

void cpu_tlb_flush(CpuState *c)
{
    for (int s = 0; s < 2; s++)
        for (unsigned k = 0; k < TLB_SIZE; k++)
            tlb_entry_clear(&c->tlb[s][k]);
    memset(c->tlb_flags, 0, sizeof c->tlb_flags);
    c->tlb_has_large = false;
    c->stop_block = true;
}

void tlb_flush_nonglobal(CpuState *c)
{
    bool large = false;
    for (int s = 0; s < 2; s++)
        for (unsigned k = 0; k < TLB_SIZE; k++) {
            if (c->tlb_flags[s][k] & TLBF_GLOBAL) {
                large |= (c->tlb_flags[s][k] & TLBF_LARGE) != 0;
                continue;
            }
            tlb_entry_clear(&c->tlb[s][k]);
            c->tlb_flags[s][k] = 0;
        }
    c->tlb_has_large = large;
    c->stop_block = true;
}

void tlb_flush_page(CpuState *c, uint32_t lin)
{
    unsigned idx = (lin >> 12) & (TLB_SIZE - 1);
    for (int s = 0; s < 2; s++) {
        tlb_entry_clear(&c->tlb[s][idx]);
        c->tlb_flags[s][idx] = 0;
    }
    if (c->tlb_has_large) {
        /* Every 4 KiB piece of a large page containing lin goes too: INVLPG
         * and page faults invalidate all TLB entries for the translation,
         * also when a processor caches a large page as smaller ones (SDM
         * vol. 3, 4.10.4.1). */
        uint32_t m = (c->cr4 & CR4_PAE) ? ~0x1FFFFFu : ~0x3FFFFFu;
        for (int s = 0; s < 2; s++)
            for (unsigned k = 0; k < TLB_SIZE; k++) {
                TlbEntry *e = &c->tlb[s][k];
                if ((c->tlb_flags[s][k] & TLBF_LARGE) && (tlb_entry_lpage(e) & m) == (lin & m)) {
                    tlb_entry_clear(e);
                    c->tlb_flags[s][k] = 0;
                }
            }
    }
    c->stop_block = true;
}

static bool page_has_code(const CpuState *c, uint64_t phys)
{
    return phys < (1ull << 32) && c->code_pages[phys >> 12];
}

void tlb_protect_code_page(CpuState *c, uint64_t phys)
{
    uint64_t page = phys & ~0xFFFull;
    if (page >= (1ull << 32) || c->code_pages[page >> 12])
        return;
    c->code_pages[page >> 12] = 1;
    for (int s = 0; s < 2; s++)
        for (unsigned k = 0; k < TLB_SIZE; k++)
            if (c->tlb[s][k].phys == page)
                c->tlb[s][k].tag_w = 1;
}

/* Translate `lin` for access kind `acc` (faulting as the access would) and
 * install what the TLB may cache of the translation.  Returns the entry if
 * it now serves `acc`, or NULL when the access must go to the bus (MMIO,
 * unassigned space, a ROM write, a watched page); *phys_out is the
 * physical address either way. */
static TlbEntry *tlb_fill(CpuState *c, uint32_t lin, int acc, uint64_t *phys_out)
{
    int set = c->tlb_cur == c->tlb[1];
    PageWalk w;
    if (c->cr0 & CR0_PG) {
        paging_translate(c, lin, acc, set == 1, &w);
    } else {
        w.page = lin & ~0xFFFu;
        w.perm = PERM_R | PERM_W | PERM_X;
        w.global = w.large = false;
    }
    uint64_t page = w.page & c->a20_mask;
    *phys_out = page | (lin & 0xFFF);
    unsigned perm = w.perm;
    /* Pages with a debugger watchpoint or a debug-register data breakpoint
     * stay out of the TLB for data, so that the slow path sees every access
     * (debug.c, interrupt.c). */
    if ((unlikely(c->n_watches) && debug_page_watched(c, lin)) ||
        (unlikely(c->dr_data_on) && dr_page_watched(c, lin)))
        perm &= PERM_X;
    uint64_t avail = 0;
    uint8_t *host = bus_host_ptr(c->bus, page, true, &avail);
    if (!host || avail < 0x1000) {
        perm &= ~PERM_W; /* ROM: reads and fetches only */
        host = bus_host_ptr(c->bus, page, false, &avail);
        if (!host || avail < 0x1000)
            return NULL;
    }
    if ((perm & PERM_W) && page_has_code(c, page)) {
        if (acc == ACC_W)
            cpu_invalidate_code(c, page, 0x1000);
        else
            perm &= ~PERM_W;
    }
    uint32_t lpage = lin & ~0xFFFu;
    unsigned idx = (lin >> 12) & (TLB_SIZE - 1);
    TlbEntry *e = &c->tlb[set][idx];
    e->tag_r = (perm & PERM_R) ? lpage : 1;
    e->tag_w = (perm & PERM_W) ? lpage : 1;
    e->tag_x = (perm & PERM_X) ? lpage : 1;
    e->phys = page;
    e->addend = (uintptr_t)host - lpage;
    c->tlb_flags[set][idx] = (w.global ? TLBF_GLOBAL : 0) | (w.large ? TLBF_LARGE : 0);
    c->tlb_has_large |= w.large;
    static const unsigned need[3] = {PERM_R, PERM_W, PERM_X};
    return (perm & need[acc]) ? e : NULL;
}

uint32_t lin_read_slow(CpuState *c, uint32_t lin, unsigned size, int acc)
{
    if (unlikely(c->n_watches))
        debug_watch_access(c, lin, size, acc);
    if (unlikely(c->dr_data_on))
        dr_data_access(c, lin, size, acc);
    if ((lin & 0xFFF) + size > 0x1000) {
        /* Crosses a page: each byte through its own translation (the
         * TLB's once the first byte of each page has filled it). */
        uint32_t v = 0;
        for (unsigned k = 0; k < size; k++)
            v |= (acc == ACC_R ? lin_read(c, lin + k, 1) : lin_read_slow(c, lin + k, 1, acc))
                 << (8 * k);
        return v;
    }
    uint64_t phys;
    TlbEntry *e = tlb_fill(c, lin, acc, &phys);
    if (e) {
        const uint8_t *p = (const uint8_t *)(e->addend + lin);
        return size == 4 ? ld32_host(p) : size == 2 ? ld16_host(p) : *p;
    }
    return bus_mem_read(c->bus, phys, size);
}

void lin_write_slow(CpuState *c, uint32_t lin, uint32_t v, unsigned size)
{
    if (unlikely(c->n_watches))
        debug_watch_access(c, lin, size, ACC_W);
    if (unlikely(c->dr_data_on))
        dr_data_access(c, lin, size, ACC_W);
    if ((lin & 0xFFF) + size > 0x1000) {
        /* Check both pages before writing anything so that a fault on the
         * second page leaves memory unchanged. */
        uint64_t p1;
        tlb_fill(c, lin, ACC_W, &p1);
        uint64_t p2;
        tlb_fill(c, (lin | 0xFFF) + 1, ACC_W, &p2);
        for (unsigned k = 0; k < size; k++)
            lin_write(c, lin + k, (v >> (8 * k)) & 0xFF, 1);
        return;
    }
    uint64_t phys;
    TlbEntry *e = tlb_fill(c, lin, ACC_W, &phys);
    if (e) {
        uint8_t *p = (uint8_t *)(e->addend + lin);
        if (size == 4)
            st32_host(p, v);
        else if (size == 2)
            st16_host(p, (uint16_t)v);
        else
            *p = (uint8_t)v;
        return;
    }
    if (page_has_code(c, phys))
        cpu_invalidate_code(c, phys & ~0xFFFull, 0x1000);
    bus_mem_write(c->bus, phys, v, size);
}

void mem_probe_write(CpuState *c, int seg, uint32_t off, unsigned size)
{
    uint32_t lin = seg_lin_w(c, seg, off, size);
    uint64_t phys;
    tlb_fill(c, lin, ACC_W, &phys);
    if ((lin & 0xFFF) + size > 0x1000)
        tlb_fill(c, (lin | 0xFFF) + 1, ACC_W, &phys);
}

void mem_probe_read(CpuState *c, int seg, uint32_t off, unsigned size)
{
    uint32_t lin = seg_lin_r(c, seg, off, size);
    uint64_t phys;
    tlb_fill(c, lin, ACC_R, &phys);
    if ((lin & 0xFFF) + size > 0x1000)
        tlb_fill(c, (lin | 0xFFF) + 1, ACC_R, &phys);
}

_Noreturn void seg_fault(CpuState *c, int seg)
{
    cpu_raise(c, seg == SEG_SS ? EXC_SS : EXC_GP, 0, true);
}

/* Debugger access: translation without side effects and without access
 * rights (a debugger may read supervisor pages and plant breakpoints in
 * read-only code), one page at a time. */
bool cpu_read_virt(CpuState *c, uint32_t lin, void *dst, uint32_t len)
{
    uint8_t *d = dst;
    uint32_t done = 0;
    while (done < len) {
        uint32_t l = lin + done;
        uint32_t n = 0x1000 - (l & 0xFFF);
        if (n > len - done)
            n = len - done;
        uint64_t phys;
        if (!paging_probe(c, l, &phys) || bus_read_phys(c->bus, phys, d + done, n) != n)
            return false;
        done += n;
    }
    return true;
}

bool cpu_write_virt(CpuState *c, uint32_t lin, const void *src, uint32_t len)
{
    const uint8_t *s = src;
    uint32_t done = 0;
    while (done < len) {
        uint32_t l = lin + done;
        uint32_t n = 0x1000 - (l & 0xFFF);
        if (n > len - done)
            n = len - done;
        uint64_t phys;
        if (!paging_probe(c, l, &phys) || bus_write_phys(c->bus, phys, s + done, n) != n)
            return false;
        done += n;
    }
    return true;
}
