/* String instructions: MOVS CMPS STOS LODS SCAS INS OUTS, with and without
 * REP/REPE/REPNE (SDM vol. 2, "MOVS/MOVSB/MOVSW/MOVSD", "CMPS", "STOS",
 * "LODS", "SCAS", "INS", "OUTS", "REP/REPE/REPZ/REPNE/REPNZ").
 *
 * The source is seg:(E)SI with seg = DS or the override, the destination
 * always ES:(E)DI.  The address size picks SI/DI/CX (wrapping at 64 KiB) or
 * ESI/EDI/ECX, and DF the direction.
 *
 * Restartability: each iteration commits its (E)SI/(E)DI/(E)CX updates
 * right after its own memory accesses, so a fault in iteration k leaves
 * the registers as they were before iteration k with EIP still on the
 * instruction, which is exactly how the hardware resumes a repeated string
 * instruction after the fault handler returns (SDM vol. 2, REP: "the
 * registers are updated ... the instruction can be restarted").  A
 * repeated instruction runs at most REP_CHUNK iterations per call; if it
 * is not finished it returns without advancing EIP and ends the block, so
 * pending interrupts are taken between iterations as on hardware (SDM
 * vol. 2, REP, "interrupts ... are recognized between iterations").
 *
 * F2 (REPNE) before MOVS/STOS/LODS/INS/OUTS acts as REP on Intel hardware;
 * only CMPS and SCAS tell the two apart. */
#include "cpu/handlers.h"

/* Iterations of a repeated string instruction per handler call (the same
 * figure as cpu.c's REP_CHUNK). */
#define STR_REP_CHUNK 4096

enum { S_MOVS, S_CMPS, S_STOS, S_LODS, S_SCAS, S_INS, S_OUTS };

/* Store an index/count register under address size a32. */
static ALWAYS_INLINE void areg_set(CpuState *c, bool a32, int r, uint32_t v)
{
    if (a32)
        c->regs[r] = v;
    else
        reg16_set(c, r, v);
}

/* One iteration of `op`.  Returns, for CMPS/SCAS, whether the two operands
 * were equal (the ZF the iteration produced). */
static ALWAYS_INLINE bool str_elem(CpuState *c, const Insn *i, unsigned size, unsigned op, bool a32,
                                   uint32_t delta)
{
    const uint32_t am = a32 ? 0xFFFFFFFFu : 0xFFFF;
    const uint32_t m = size_mask(size);
    uint32_t si = c->regs[R_ESI] & am, di = c->regs[R_EDI] & am;
    switch (op) {
    case S_MOVS: {
        uint32_t v = mem_read(c, i->seg, si, size);
        mem_write(c, SEG_ES, di, v, size);
        areg_set(c, a32, R_ESI, si + delta);
        areg_set(c, a32, R_EDI, di + delta);
        return false;
    }
    case S_CMPS: {
        /* CMPS compares the source with the destination: flags of
         * seg:[SI] - ES:[DI] (SDM vol. 2, CMPS). */
        uint32_t a = mem_read(c, i->seg, si, size);
        uint32_t b = mem_read(c, SEG_ES, di, size);
        areg_set(c, a32, R_ESI, si + delta);
        areg_set(c, a32, R_EDI, di + delta);
        lf_set(c, LF_SUB, size, a, b, (a - b) & m);
        return a == b;
    }
    case S_STOS:
        mem_write(c, SEG_ES, di, c->regs[R_EAX] & m, size);
        areg_set(c, a32, R_EDI, di + delta);
        return false;
    case S_LODS: {
        uint32_t v = mem_read(c, i->seg, si, size);
        reg_set(c, R_EAX, size, v);
        areg_set(c, a32, R_ESI, si + delta);
        return false;
    }
    case S_SCAS: {
        uint32_t a = c->regs[R_EAX] & m;
        uint32_t b = mem_read(c, SEG_ES, di, size);
        areg_set(c, a32, R_EDI, di + delta);
        lf_set(c, LF_SUB, size, a, b, (a - b) & m);
        return a == b;
    }
    case S_INS: {
        /* Check the destination before the port read so that a fault
         * does not lose the value a device handed over. */
        mem_probe_write(c, SEG_ES, di, size);
        uint32_t v = bus_io_read(c->bus, (uint16_t)c->regs[R_EDX], size);
        mem_write(c, SEG_ES, di, v, size);
        areg_set(c, a32, R_EDI, di + delta);
        dr_io_check(c, (uint16_t)c->regs[R_EDX], size);
        return false;
    }
    default: { /* S_OUTS */
        uint32_t v = mem_read(c, i->seg, si, size);
        bus_io_write(c->bus, (uint16_t)c->regs[R_EDX], v, size);
        areg_set(c, a32, R_ESI, si + delta);
        dr_io_check(c, (uint16_t)c->regs[R_EDX], size);
        return false;
    }
    }
}

/* ---- Bulk path ----------------------------------------------------------
 * REP MOVS and REP STOS over RAM: as many elements as lie within one page
 * of the source and of the destination, within the segment limits and
 * inside the address-size range, are moved with host memory operations,
 * in either direction.  The host pointers come from the TLB: a read entry
 * for the source, a write entry for the destination.  A write entry is
 * never installed for a page holding decoded code or for MMIO (tlb.c), so
 * this path can neither miss self-modifying code nor skip a device.
 *
 * The TLB is direct-mapped, so the source and destination pages may evict
 * each other; the entries are therefore (re)filled here, in the order the
 * first element would touch them, and each host pointer is taken as soon as
 * its entry is present.  The source is filled by the first element's own
 * read (so an MMIO source is read exactly once: that element is finished
 * with the value), the destination by a write probe, which has no side
 * effects.  Faults are those of the first element.
 * Returns the number of elements done (0: take the element path). */

static ALWAYS_INLINE const TlbEntry *bulk_entry(const CpuState *c, uint32_t lin)
{
    return &c->tlb_cur[(lin >> 12) & (TLB_SIZE - 1)];
}

/* How many elements of `size` bytes, the first at offset `off` (linear
 * `lin`) and the others following in direction `down`, stay inside the
 * segment range [lo, hi], the page and the address-size range `am`; at
 * most `n`. */
static ALWAYS_INLINE uint32_t bulk_span(uint32_t off, uint32_t lin, uint32_t lo, uint32_t hi,
                                        uint32_t am, unsigned size, uint32_t n, bool down)
{
    uint32_t pofs = lin & 0xFFF;
    uint32_t last = hi < am ? hi : am; /* last usable offset */
    if (off < lo || (uint64_t)off + size - 1 > last || pofs + size > 0x1000)
        return 0;
    uint32_t in_page, in_seg;
    if (down) {
        in_page = pofs / size + 1;
        in_seg = (off - lo) / size + 1; /* also keeps the offsets >= 0 */
    } else {
        in_page = (0x1000 - pofs) / size;
        in_seg = (uint32_t)(((uint64_t)last - off + 1) / size);
    }
    if (in_page < n)
        n = in_page;
    return in_seg < n ? in_seg : n;
}

/* Host pointer for writing `lin` (ES:di), probing the page in if needed;
 * NULL when the destination is not plain RAM. */
static ALWAYS_INLINE uint8_t *bulk_dst(CpuState *c, uint32_t di, uint32_t lin, unsigned size)
{
    const TlbEntry *e = bulk_entry(c, lin);
    if (e->tag_w != (lin & ~0xFFFu)) {
        mem_probe_write(c, SEG_ES, di, size);
        if (e->tag_w != (lin & ~0xFFFu))
            return NULL;
    }
    return (uint8_t *)(e->addend + lin);
}

static ALWAYS_INLINE void bulk_copy_elem(uint8_t *d, const uint8_t *s, unsigned size)
{
    if (size == 1)
        *d = *s;
    else if (size == 2)
        st16_host(d, ld16_host(s));
    else
        st32_host(d, ld32_host(s));
}

static ALWAYS_INLINE uint32_t bulk_run(CpuState *c, const Insn *i, unsigned size, unsigned op,
                                       bool a32, bool down, uint32_t n)
{
    const uint32_t am = a32 ? 0xFFFFFFFFu : 0xFFFF;
    const uint32_t delta = down ? (uint32_t)-size : size;
    const SegCache *es = &c->seg[SEG_ES];
    uint32_t di = c->regs[R_EDI] & am;
    uint32_t dlin = es->base + di;
    n = bulk_span(di, dlin, es->wlo, es->whi, am, size, n, down);
    if (n < 2)
        return 0;
    /* The block covers [lowest element, highest element + size). */
    uint32_t bytes, back;
    if (op == S_STOS) {
        uint8_t *dp = bulk_dst(c, di, dlin, size);
        if (!dp)
            return 0;
        bytes = n * size;
        back = down ? bytes - size : 0;
        uint8_t *d = dp - back;
        uint32_t v = c->regs[R_EAX];
        if (size == 1) {
            memset(d, (int)(v & 0xFF), bytes);
        } else {
            for (uint32_t k = 0; k < bytes; k += size) {
                if (size == 2)
                    st16_host(d + k, (uint16_t)v);
                else
                    st32_host(d + k, v);
            }
        }
    } else { /* S_MOVS */
        const SegCache *ss = &c->seg[i->seg];
        uint32_t si = c->regs[R_ESI] & am;
        uint32_t slin = ss->base + si;
        n = bulk_span(si, slin, ss->rlo, ss->rhi, am, size, n, down);
        if (n < 2)
            return 0;
        const TlbEntry *se = bulk_entry(c, slin);
        if (se->tag_r != (slin & ~0xFFFu)) {
            uint32_t v = mem_read(c, i->seg, si, size);
            if (se->tag_r != (slin & ~0xFFFu)) {
                /* Not RAM: finish this one element with the value read. */
                mem_write(c, SEG_ES, di, v, size);
                areg_set(c, a32, R_ESI, si + delta);
                areg_set(c, a32, R_EDI, di + delta);
                return 1;
            }
        }
        const uint8_t *sp = (const uint8_t *)(se->addend + slin);
        uint8_t *dp = bulk_dst(c, di, dlin, size);
        if (!dp)
            return 0; /* the element path re-reads the source: RAM, no side effect */
        bytes = n * size;
        back = down ? bytes - size : 0;
        /* REP MOVS is defined element by element.  When the destination
         * lies ahead of the source in the direction of travel and the two
         * overlap, later elements read what earlier ones wrote, so copy in
         * that order; otherwise the sequential result equals memmove's. */
        uintptr_t ds = (uintptr_t)dp, ss_ = (uintptr_t)sp;
        bool ahead = down ? (ds < ss_ && ss_ - ds < bytes) : (ds > ss_ && ds - ss_ < bytes);
        if (ahead) {
            for (uint32_t k = 0; k < bytes; k += size) {
                if (down)
                    bulk_copy_elem(dp - k, sp - k, size);
                else
                    bulk_copy_elem(dp + k, sp + k, size);
            }
        } else {
            memmove(dp - back, sp - back, bytes);
        }
        areg_set(c, a32, R_ESI, down ? si - bytes : si + bytes);
    }
    areg_set(c, a32, R_EDI, down ? di - bytes : di + bytes);
    return n;
}

/* A reason to stop a repeated instruction between iterations: an
 * interrupt that can be taken now, an exit request, single-stepping (with
 * TF set the debug trap follows every iteration: SDM vol. 3, 17.3.1.4), or
 * a data or I/O breakpoint hit by this iteration, whose trap comes before
 * the next one (17.3.1.2: for REP INS/OUTS an I/O breakpoint traps after
 * the first iteration, a memory breakpoint after the iteration that
 * touched it). */
static ALWAYS_INLINE bool str_should_pause(const CpuState *c)
{
    return (c->irq_line && (c->eflags & FL_IF)) || c->nmi_pending || c->exit_request ||
           (c->eflags & FL_TF) || c->dr6_pending;
}

static ALWAYS_INLINE void str_rep(CpuState *c, const Insn *i, unsigned size, unsigned op, bool a32)
{
    const uint32_t am = a32 ? 0xFFFFFFFFu : 0xFFFF;
    uint32_t cnt = c->regs[R_ECX] & am;
    if (cnt == 0) {
        NEXT(c, i);
        return;
    }
    if (op == S_INS || op == S_OUTS)
        io_check(c, (uint16_t)c->regs[R_EDX], size);
    const bool down = c->eflags & FL_DF;
    const uint32_t delta = down ? (uint32_t)-size : size;
    /* REPE (F3) continues while equal, REPNE (F2) while not equal. */
    const bool want_eq = !(i->flags & I_REPNE);
    uint32_t budget = STR_REP_CHUNK;
    for (;;) {
        if ((op == S_MOVS || op == S_STOS) && budget >= 2 && !(c->eflags & FL_TF)) {
            uint32_t k = bulk_run(c, i, size, op, a32, down, cnt < budget ? cnt : budget);
            if (k) {
                cnt -= k;
                areg_set(c, a32, R_ECX, cnt);
                budget -= k;
                if (cnt == 0)
                    break;
                if (budget == 0 || str_should_pause(c))
                    goto pause;
                continue;
            }
        }
        bool eq = str_elem(c, i, size, op, a32, delta);
        areg_set(c, a32, R_ECX, --cnt);
        if (cnt == 0)
            break;
        if ((op == S_CMPS || op == S_SCAS) && eq != want_eq)
            break;
        if (--budget == 0 || str_should_pause(c))
            goto pause;
    }
    if (op == S_OUTS)
        c->stop_block = true; /* as after OUT: see str_outs */
    NEXT(c, i);
    return;
pause:
    /* Not finished: stay on the instruction and leave the block.  RF = 1
     * until the next iteration starts, so that an interrupt or trap taken
     * in between pushes RF = 1 and the instruction's code breakpoint does
     * not fire again when it resumes (SDM vol. 3, 17.3.1.1: "the processor
     * sets RF in the EFLAGS image ... for an interrupt taken between
     * iterations of a repeated string instruction").  The run loop clears
     * RF before the instruction executes again. */
    c->eflags |= FL_RF;
    c->stop_block = true;
}

static ALWAYS_INLINE void str_run_a(CpuState *c, const Insn *i, unsigned size, unsigned op,
                                    bool a32)
{
    if (i->flags & (I_REP | I_REPNE)) {
        str_rep(c, i, size, op, a32);
        return;
    }
    if (op == S_INS || op == S_OUTS)
        io_check(c, (uint16_t)c->regs[R_EDX], size);
    str_elem(c, i, size, op, a32, (c->eflags & FL_DF) ? (uint32_t)-size : size);
    if (op == S_OUTS)
        c->stop_block = true;
    NEXT(c, i);
}

/* The address size is chosen here once so that each loop is compiled for
 * one width. */
static ALWAYS_INLINE void str_run(CpuState *c, const Insn *i, unsigned size, unsigned op)
{
    if (i->flags & I_AD32)
        str_run_a(c, i, size, op, true);
    else
        str_run_a(c, i, size, op, false);
}

#define STR_SET(name, op)                                                                          \
    static ALWAYS_INLINE void name##_impl(CpuState *c, const Insn *i, unsigned size)               \
    {                                                                                              \
        str_run(c, i, size, op);                                                                   \
    }                                                                                              \
    SPECIALIZE_SIZE(name)

STR_SET(str_movs, S_MOVS)
STR_SET(str_cmps, S_CMPS)
STR_SET(str_stos, S_STOS)
STR_SET(str_lods, S_LODS)
STR_SET(str_scas, S_SCAS)
STR_SET(str_ins, S_INS)
/* OUTS ends the block like OUT (which the opcode table marks TM): a port
 * write may change how the following code is fetched (A20 via port 92h,
 * for one). */
STR_SET(str_outs, S_OUTS)
