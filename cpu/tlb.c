/* Linear-to-physical translation, the software TLB and its slow paths.
 *
 * A TLB entry maps one 4 KiB linear page to host memory when the physical
 * page is RAM or ROM.  Write entries are never installed for a page that
 * holds decoded code: such writes take the slow path, which drops the
 * decoded code first (self-modifying code), like QEMU's not-dirty pages.
 * MMIO is never cached and goes to the bus on every access. */
#include "cpu/cpu_impl.h"

#include <stdlib.h>

/* Paging is not implemented yet (issue: CPU system architecture); MOV to
 * CR0 refuses PG, so translation is the identity here. */
static uint64_t translate(CpuState *c, uint32_t lin, int acc)
{
    (void)acc;
    return (uint64_t)lin & c->a20_mask;
}

void cpu_tlb_flush(CpuState *c)
{
    for (int s = 0; s < 2; s++)
        for (unsigned k = 0; k < TLB_SIZE; k++) {
            TlbEntry *e = &c->tlb[s][k];
            e->tag_r = e->tag_w = e->tag_x = 1;
            e->phys = ~0ull;
        }
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

/* Install the translation of `lin` for access kind `acc`, if the page is
 * host memory.  Returns the entry, or NULL for MMIO / unassigned space. */
static TlbEntry *tlb_fill(CpuState *c, uint32_t lin, int acc, uint64_t *phys_out)
{
    uint64_t phys = translate(c, lin, acc);
    *phys_out = phys;
    /* Watched pages stay out of the TLB for data so every access is seen. */
    if (unlikely(c->n_watches) && acc != ACC_X && debug_page_watched(c, lin))
        return NULL;
    uint64_t page = phys & ~0xFFFull;
    uint64_t avail = 0;
    uint8_t *host = bus_host_ptr(c->bus, page, acc == ACC_W, &avail);
    if (!host || avail < 0x1000)
        return NULL;
    uint32_t lpage = lin & ~0xFFFu;
    TlbEntry *e = &c->tlb_cur[(lin >> 12) & (TLB_SIZE - 1)];
    uintptr_t addend = (uintptr_t)host - lpage;
    if (e->phys != page || e->addend != addend ||
        (e->tag_r != lpage && e->tag_w != lpage && e->tag_x != lpage)) {
        e->tag_r = e->tag_w = e->tag_x = 1;
        e->phys = page;
        e->addend = addend;
    }
    if (acc == ACC_W) {
        if (page_has_code(c, page))
            cpu_invalidate_code(c, page, 0x1000);
        e->tag_w = lpage;
    } else if (acc == ACC_X) {
        e->tag_x = lpage;
    } else {
        e->tag_r = lpage;
    }
    return e;
}

uint32_t lin_read_slow(CpuState *c, uint32_t lin, unsigned size, int acc)
{
    if (unlikely(c->n_watches))
        debug_watch_access(c, lin, size, acc);
    if ((lin & 0xFFF) + size > 0x1000) {
        /* Crosses a page: each byte through its own translation. */
        uint32_t v = 0;
        for (unsigned k = 0; k < size; k++)
            v |= lin_read_slow(c, lin + k, 1, acc) << (8 * k);
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
    if ((lin & 0xFFF) + size > 0x1000) {
        /* Check both pages before writing anything so that a fault on the
         * second page leaves memory unchanged. */
        uint64_t p1;
        tlb_fill(c, lin, ACC_W, &p1);
        uint64_t p2;
        tlb_fill(c, (lin | 0xFFF) + 1, ACC_W, &p2);
        for (unsigned k = 0; k < size; k++)
            lin_write_slow(c, lin + k, (v >> (8 * k)) & 0xFF, 1);
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

_Noreturn void seg_fault(CpuState *c, int seg)
{
    cpu_raise(c, seg == SEG_SS ? EXC_SS : EXC_GP, 0, true);
}

bool cpu_read_virt(CpuState *c, uint32_t lin, void *dst, uint32_t len)
{
    uint8_t *d = dst;
    for (uint32_t k = 0; k < len; k++) {
        uint64_t phys = translate(c, lin + k, ACC_R);
        if (bus_read_phys(c->bus, phys, d + k, 1) != 1)
            return false;
    }
    return true;
}

bool cpu_write_virt(CpuState *c, uint32_t lin, const void *src, uint32_t len)
{
    const uint8_t *s = src;
    for (uint32_t k = 0; k < len; k++) {
        uint64_t phys = translate(c, lin + k, ACC_W);
        if (bus_write_phys(c->bus, phys, s + k, 1) != 1)
            return false;
    }
    return true;
}
