/* Debugger breakpoints and watchpoints, on linear addresses.
 *
 * This is the one place the debugger hooks into execution:
 *   - a breakpoint address always starts a decoded block (cc_translate stops
 *     a block before one), and the run loop stops before executing it;
 *   - a page with a watchpoint gets no read/write TLB entry, so every access
 *     to it takes the slow path, which reports a hit; the instruction
 *     completes and the run loop stops after it, as hardware data
 *     breakpoints do (SDM vol. 3, 17.3.1.2: data breakpoints are traps).
 * The JIT will honour the same two rules. */
#include "cpu/cpu_impl.h"

bool debug_breakpoint_at(const CpuState *c, uint32_t lin)
{
    for (int k = 0; k < c->n_breakpoints; k++)
        if (c->breakpoints[k] == lin)
            return true;
    return false;
}

bool cpu_breakpoint_insert(CpuState *c, uint32_t lin)
{
    if (debug_breakpoint_at(c, lin))
        return true;
    if (c->n_breakpoints >= CPU_MAX_BREAKPOINTS)
        return false;
    c->breakpoints[c->n_breakpoints++] = lin;
    cpu_flush_code(c);
    return true;
}

bool cpu_breakpoint_remove(CpuState *c, uint32_t lin)
{
    for (int k = 0; k < c->n_breakpoints; k++) {
        if (c->breakpoints[k] == lin) {
            c->breakpoints[k] = c->breakpoints[--c->n_breakpoints];
            cpu_flush_code(c);
            return true;
        }
    }
    return false;
}

static bool ranges_overlap(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
    /* Half-open ranges in 64-bit so that a range ending at 4 GiB works. */
    return (uint64_t)a < (uint64_t)b + blen && (uint64_t)b < (uint64_t)a + alen;
}

bool debug_page_watched(const CpuState *c, uint32_t lin)
{
    uint32_t page = lin & ~0xFFFu;
    for (int k = 0; k < c->n_watches; k++)
        if (ranges_overlap(page, 0x1000, c->watches[k].lin, c->watches[k].len))
            return true;
    return false;
}

void debug_watch_access(CpuState *c, uint32_t lin, unsigned size, int acc)
{
    if (acc == ACC_X)
        return;
    int kind = acc == ACC_W ? WATCH_WRITE : WATCH_READ;
    for (int k = 0; k < c->n_watches; k++) {
        const CpuWatch *w = &c->watches[k];
        if ((w->kind & kind) && ranges_overlap(lin, size, w->lin, w->len)) {
            if (!c->debug_pending) {
                c->debug_pending = true;
                c->debug_hit.breakpoint = false;
                c->debug_hit.watch_kind = w->kind;
                c->debug_hit.addr = w->lin;
            }
            c->stop_block = true;
            return;
        }
    }
}

bool cpu_watch_insert(CpuState *c, uint32_t lin, uint32_t len, int kind)
{
    if (len == 0 || kind < WATCH_WRITE || kind > WATCH_ACCESS ||
        c->n_watches >= CPU_MAX_WATCHPOINTS)
        return false;
    c->watches[c->n_watches++] = (CpuWatch){lin, len, kind};
    cpu_tlb_flush(c);
    return true;
}

bool cpu_watch_remove(CpuState *c, uint32_t lin, uint32_t len, int kind)
{
    for (int k = 0; k < c->n_watches; k++) {
        CpuWatch *w = &c->watches[k];
        if (w->lin == lin && w->len == len && w->kind == kind) {
            *w = c->watches[--c->n_watches];
            cpu_tlb_flush(c);
            return true;
        }
    }
    return false;
}
