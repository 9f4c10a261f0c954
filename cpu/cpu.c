/* The CPU: reset, the execution loop over decoded blocks, the decoded-code
 * cache, exceptions and interrupt delivery.
 *
 * Code is decoded once into blocks of Insn (one handler call each), keyed by
 * the physical address of their first byte and the default operand size.
 * A block never crosses a 4 KiB page; an instruction that does is run
 * through the one-instruction path.  Writes to a page that holds blocks
 * drop them (see tlb.c). */
#include "cpu/cpu_impl.h"
#include "cpu/system.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu/decode.h"

#define BLOCK_MAX_INSNS 64
#define CC_HASH_BITS 16
#define CC_ARENA_SIZE (16u << 20)

typedef struct Block {
    uint64_t key;
    struct Block *hash_next;
    struct Block *page_next;
    uint32_t bytes; /* code bytes covered, for the CS limit check */
    uint16_t n;
    Insn insns[];
} Block;

struct CodeCache {
    uint8_t *arena;
    size_t used;
    Block *hash[1u << CC_HASH_BITS];
    Block **page_head; /* per 4 KiB physical page below 4 GiB */
    uint64_t flushes;
};

/* ---- Logging ---------------------------------------------------------- */

void cpu_log(CpuState *c, int category, const char *fmt, ...)
{
    if (!(c->log_mask & (unsigned)category) || !c->log)
        return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    c->log(c->log_opaque, category, buf);
}

/* ---- Code cache ------------------------------------------------------- */

static inline uint32_t cc_hash(uint64_t key)
{
    key ^= key >> 17;
    key *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(key >> (64 - CC_HASH_BITS));
}

static void cc_flush(CpuState *c)
{
    CodeCache *cc = c->cc;
    memset(cc->hash, 0, sizeof cc->hash);
    memset(cc->page_head, 0, sizeof(Block *) * (1u << 20));
    memset(c->code_pages, 0, 1u << 20);
    cc->used = 0;
    cc->flushes++;
    c->stop_block = true;
}

void cpu_flush_code(CpuState *c)
{
    cc_flush(c);
}

static void cc_invalidate_page(CpuState *c, uint32_t pfn)
{
    CodeCache *cc = c->cc;
    for (Block *b = cc->page_head[pfn]; b; b = b->page_next) {
        Block **pp = &cc->hash[cc_hash(b->key)];
        while (*pp && *pp != b)
            pp = &(*pp)->hash_next;
        if (*pp)
            *pp = b->hash_next;
    }
    cc->page_head[pfn] = NULL;
    c->code_pages[pfn] = 0;
    /* The running block may be among those dropped: finish the current
     * instruction and leave it. */
    c->stop_block = true;
}

void cpu_invalidate_code(CpuState *c, uint64_t phys, uint64_t len)
{
    if (len == 0)
        return;
    uint64_t end = phys + len;
    if (end > (1ull << 32))
        end = 1ull << 32;
    for (uint64_t p = phys & ~0xFFFull; p < end; p += 0x1000)
        if (c->code_pages[p >> 12])
            cc_invalidate_page(c, (uint32_t)(p >> 12));
}

static void bus_notify(void *opaque, uint64_t phys, uint64_t len)
{
    cpu_invalidate_code(opaque, phys, len);
}

static Block *cc_lookup(CpuState *c, uint64_t key)
{
    for (Block *b = c->cc->hash[cc_hash(key)]; b; b = b->hash_next)
        if (b->key == key)
            return b;
    return NULL;
}

/* Decode a block starting at `eip` from `avail` bytes at host address `p`.
 * Returns NULL when not even the first instruction fits (it crosses the
 * page or the CS limit). */
static Block *cc_translate(CpuState *c, uint64_t key, uint64_t phys, uint32_t lin,
                           const uint8_t *p, uint32_t avail)
{
    CodeCache *cc = c->cc;
    size_t need = sizeof(Block) + BLOCK_MAX_INSNS * sizeof(Insn);
    if (cc->used + need > CC_ARENA_SIZE)
        cc_flush(c);
    Block *b = (Block *)(cc->arena + cc->used);
    uint32_t off = 0;
    int n = 0;
    while (n < BLOCK_MAX_INSNS) {
        /* A debugger breakpoint always starts a block (see debug.c). */
        if (n > 0 && c->n_breakpoints && debug_breakpoint_at(c, lin + off))
            break;
        Insn *i = &b->insns[n];
        int r = decode_bytes(p + off, (int)(avail - off), c->code32, i);
        if (r == DECODE_SHORT)
            break;
        n++;
        off += i->len;
        if (r < 0 || (i->flags & I_TERM))
            break;
    }
    if (n == 0)
        return NULL;
    b->key = key;
    b->n = (uint16_t)n;
    b->bytes = off;
    cc->used += (sizeof(Block) + (size_t)n * sizeof(Insn) + 15) & ~(size_t)15;
    Block **h = &cc->hash[cc_hash(key)];
    b->hash_next = *h;
    *h = b;
    uint32_t pfn = (uint32_t)(phys >> 12);
    b->page_next = cc->page_head[pfn];
    cc->page_head[pfn] = b;
    tlb_protect_code_page(c, phys);
    return b;
}

/* Find or make the block at CS:EIP; NULL when the instruction there must
 * go through the one-instruction path. */
static Block *cc_get(CpuState *c)
{
    uint32_t eip = c->eip;
    const SegCache *cs = &c->seg[SEG_CS];
    if (eip > cs->limit)
        return NULL;
    uint32_t lin = cs->base + eip;
    TlbEntry *e = &c->tlb_cur[(lin >> 12) & (TLB_SIZE - 1)];
    if (e->tag_x != (lin & ~0xFFFu)) {
        lin_read_slow(c, lin, 1, ACC_X); /* fills the entry, or faults */
        if (e->tag_x != (lin & ~0xFFFu))
            return NULL; /* executing from MMIO */
    }
    uint64_t phys = e->phys | (lin & 0xFFF);
    if (phys >= (1ull << 32))
        return NULL;
    uint64_t key = (phys << 1) | c->code32;
    Block *b = cc_lookup(c, key);
    if (!b) {
        uint32_t avail = 0x1000 - (lin & 0xFFF);
        if ((uint64_t)cs->limit - eip + 1 < avail)
            avail = cs->limit - eip + 1;
        b = cc_translate(c, key, phys, lin, (const uint8_t *)(e->addend + lin), avail);
        if (!b)
            return NULL;
    }
    if ((uint64_t)eip + b->bytes - 1 > cs->limit)
        return NULL;
    return b;
}

/* Decode and run one instruction without the cache, fetching byte by byte
 * so that page and limit faults happen exactly where hardware's would. */
static void exec_one_uncached(CpuState *c)
{
    uint8_t buf[16];
    Insn insn;
    int n = 0;
    const SegCache *cs = &c->seg[SEG_CS];
    for (;;) {
        uint32_t off = c->eip + (uint32_t)n;
        if (off > cs->limit || off < c->eip)
            cpu_gp0(c);
        buf[n] = (uint8_t)lin_fetch8(c, cs->base + off);
        n++;
        int r = decode_bytes(buf, n, c->code32, &insn);
        if (r != DECODE_SHORT)
            break;
    }
    c->blk_start = c->cur_insn = &insn;
    insn.fn(c, &insn);
    c->icount++;
    c->blk_start = c->cur_insn = NULL;
}

/* ---- Interrupt lines ---------------------------------------------------- */

/* Raising, delivery and IRET live in interrupt.c; tasks in task.c. */

void cpu_set_irq(CpuState *c, bool level)
{
    c->irq_line = level;
    if (level)
        c->stop_block = true;
}

void cpu_set_nmi(CpuState *c)
{
    c->nmi_pending = true;
    c->stop_block = true;
}

void cpu_request_exit(CpuState *c)
{
    c->exit_request = true;
    c->stop_block = true;
}

/* ---- Execution loop --------------------------------------------------- */

static void run_block(CpuState *c, Block *b, uint64_t budget)
{
    const Insn *i = b->insns;
    const Insn *end = i + (b->n < budget ? b->n : budget);
    c->blk_start = i;
    c->stop_block = false;
    do {
        c->cur_insn = i;
        i->fn(c, i);
    } while (++i < end && !c->stop_block);
    c->icount += (uint64_t)(i - b->insns);
    c->blk_start = c->cur_insn = NULL;
}

/* One instruction with the debug checks of SDM vol. 3, 17.3: an enabled
 * code breakpoint at CS:EIP is a fault taken before it unless RF is set;
 * RF is cleared when the instruction starts; TF at its start and data
 * breakpoints hit by it leave DR6 bits in dr6_pending, delivered as a #DB
 * trap by the run loop once it completes.  After MOV SS / POP SS (shadow
 * 1) debug traps wait one more instruction (6.8.3): the bits deferred
 * then stay pending through this instruction, even if it is an INT n. */
static void step_checked(CpuState *c, uint8_t shadow)
{
    dr_sync(c);
    if (unlikely(c->trace_insn))
        c->trace_insn(c->trace_opaque, c);
    if ((c->dr[7] & 0xFF) && !(c->eflags & FL_RF) && shadow != 1) {
        uint32_t hits = dr_exec_match(c, c->seg[SEG_CS].base + c->eip);
        if (hits) {
            c->dr6_pending = 0;
            dr_deliver(c, hits);
            c->icount++;
            return;
        }
    }
    c->eflags &= ~FL_RF;
    uint32_t deferred = shadow == 1 ? c->dr6_pending : 0;
    c->dr6_pending = (c->eflags & FL_TF) ? DR6_BS : 0;
    /* A repeated string instruction paused between iterations sets RF
     * itself (exec_string.c), so the rest runs without its code breakpoint
     * again. */
    exec_one_uncached(c);
    c->dr6_pending |= deferred;
}

CpuExit cpu_run(CpuState *c, uint64_t max_insns)
{
    uint64_t target = c->icount + max_insns;
    volatile int delivering = -1;
    /* Resuming from a breakpoint stop runs the instruction at it once. */
    volatile bool skip_bp = c->debug_resume;
    c->debug_resume = false;
    c->exit_request = false;
    if (setjmp(c->jmp)) {
        /* An exception unwound to here; EIP is at the faulting instruction. */
        c->icount += (uint64_t)(c->cur_insn - c->blk_start);
        c->blk_start = c->cur_insn = NULL;
        /* A fault inside an implicit supervisor access leaves tlb_cur
         * switched (system.h). */
        c->tlb_cur = c->tlb[c->cpl == 3];
        CpuExit r = intr_handle_exception(c, &delivering);
        if (r != CPU_EXIT_BUDGET)
            return r;
        c->intr_shadow = 0;
        /* Every delivered event takes a tick of guest time, so that a guest
         * caught in a loop of exceptions or interrupts that retires no
         * instruction still reaches the budget (and its devices' time
         * moves on). */
        c->icount++;
    }
    while (c->icount < target) {
        if (c->exit_request) {
            c->exit_request = false;
            return CPU_EXIT_REQUEST;
        }
        /* The shadow of STI / MOV SS covers exactly the next instruction. */
        uint8_t shadow = c->intr_shadow;
        c->intr_shadow = 0;
        if (unlikely(c->dr6_pending) && shadow != 1) {
            /* Debug traps of the previous instruction (and the T-bit trap of
             * a task switch) come before NMI and INTR (table 6-2). */
            uint32_t bits = c->dr6_pending;
            c->dr6_pending = 0;
            dr_deliver(c, bits);
            c->icount++;
            continue;
        }
        if (!shadow && (c->irq_line || c->nmi_pending) && intr_take_pending(c)) {
            c->icount++;
            continue;
        }
        if (c->halted)
            return CPU_EXIT_HALT;
        if (unlikely(c->n_breakpoints)) {
            uint32_t lin = c->seg[SEG_CS].base + c->eip;
            if (!skip_bp && debug_breakpoint_at(c, lin)) {
                c->intr_shadow = shadow;
                c->debug_hit = (CpuDebugHit){.breakpoint = true, .addr = lin};
                return CPU_EXIT_DEBUG;
            }
            skip_bp = false;
        }
        if (unlikely(shadow || (c->eflags & (FL_TF | FL_RF)) || (c->dr[7] & 0xFF) ||
                     c->dr_data_on || c->trace_insn)) {
            step_checked(c, shadow);
        } else {
            Block *b = cc_get(c);
            if (b)
                run_block(c, b, target - c->icount);
            else
                exec_one_uncached(c);
        }
        if (unlikely(c->debug_pending)) {
            c->debug_pending = false;
            return CPU_EXIT_DEBUG;
        }
    }
    return CPU_EXIT_BUDGET;
}

/* One instruction, or the delivery of an interrupt that arrives before it
 * (then EIP is at the handler's first instruction), exactly as cpu_run
 * would do it; a debugger breakpoint at EIP does not stop the step. */
CpuExit cpu_step(CpuState *c)
{
    c->debug_resume = true;
    CpuExit r = cpu_run(c, 1);
    c->debug_resume = false;
    return r;
}

/* ---- State ------------------------------------------------------------ */

uint64_t cpu_tsc(const CpuState *c)
{
    uint64_t n = c->icount;
    if (c->cur_insn && c->blk_start)
        n += (uint64_t)(c->cur_insn - c->blk_start);
    return n + c->tsc_offset;
}

void cpu_set_a20(CpuState *c, bool enabled)
{
    uint64_t m = enabled ? ~0ull : ~(1ull << 20);
    if (m != c->a20_mask) {
        c->a20_mask = m;
        cpu_tlb_flush(c);
    }
}

void cpu_reset(CpuState *c)
{
    /* Power-on state, SDM vol. 3, table 9-1. */
    memset(c->regs, 0, sizeof c->regs);
    c->regs[R_EDX] = 0x00000619; /* family 6, model 1, stepping 9 */
    c->eflags = 2;
    c->lf.op = LF_NONE;
    c->cr0 = CR0_ET | CR0_CD | CR0_NW;
    c->cr2 = c->cr3 = c->cr4 = 0;
    memset(c->dr, 0, sizeof c->dr);
    c->dr[6] = 0xFFFF0FF0u;
    c->dr[7] = 0x400;
    c->efer = 0;
    c->cpl = 0;
    fpu_reset(c);
    c->halted = false;
    c->intr_shadow = 0;
    c->nmi_pending = false;
    c->nmi_blocked = false;
    c->dr6_pending = 0;
    c->dr_data_on = false;
    memset(c->dr_synced, 0, sizeof c->dr_synced);
    msr_reset(c);
    c->gdtr.base = c->idtr.base = 0;
    c->gdtr.limit = c->idtr.limit = 0xFFFF;
    for (int k = 0; k < 6; k++) {
        c->seg[k].sel = 0;
        c->seg[k].base = 0;
        c->seg[k].limit = 0xFFFF;
        c->seg[k].attr = SEG_ATTR_P | SEG_ATTR_S | (k == SEG_CS ? 0x0B : 0x03);
    }
    c->seg[SEG_CS].sel = 0xF000;
    c->seg[SEG_CS].base = 0xFFFF0000u;
    c->eip = 0xFFF0;
    memset(&c->ldtr, 0, sizeof c->ldtr);
    memset(&c->tr, 0, sizeof c->tr);
    c->ldtr.limit = c->tr.limit = 0xFFFF;
    c->ldtr.attr = 0x82;
    c->tr.attr = 0x8B;
    c->a20_mask = ~0ull;
    seg_update_mode(c);
    cpu_tlb_flush(c);
}

CpuState *cpu_new(Bus *bus)
{
    CpuState *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->bus = bus;
    c->cc = calloc(1, sizeof *c->cc);
    c->code_pages = calloc(1u << 20, 1);
    if (c->cc) {
        c->cc->arena = malloc(CC_ARENA_SIZE);
        c->cc->page_head = calloc(1u << 20, sizeof(Block *));
    }
    if (!c->cc || !c->code_pages || !c->cc->arena || !c->cc->page_head) {
        cpu_free(c);
        return NULL;
    }
    bus->notify = bus_notify;
    bus->notify_opaque = c;
    cpu_reset(c);
    return c;
}

void cpu_free(CpuState *c)
{
    if (!c)
        return;
    if (c->bus && c->bus->notify_opaque == c)
        c->bus->notify = NULL;
    if (c->cc) {
        free(c->cc->arena);
        free(c->cc->page_head);
        free(c->cc);
    }
    free(c->code_pages);
    free(c);
}

/* ---- CPUID ------------------------------------------------------------ */

/* Leaf 1 EDX: exactly the features that are implemented and tested:
 * FPU (x87, tests/fpu), VME with PVI (tests/system v86), PSE, PAE, PGE and
 * PSE-36 (tests/paging), TSC (RDTSC), MSR, CX8 (CMPXCHG8B), SEP
 * (SYSENTER/SYSEXIT), MTRR and PAT (MSR storage; tests/system msr), CMOV,
 * MMX (tests/fpu mmx), FXSR (FXSAVE/FXRSTOR, tests/fpu), SSE and SSE2
 * (tests/fpu sse, sse-float, mmx).  CLFSH is not advertised: CLFLUSH
 * executes (as a fault-checked no-op) but has no test of its own. */
#define CPUID_1_EDX                                                                        \
    ((1u << 0) | (1u << 1) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) |    \
     (1u << 11) | (1u << 12) | (1u << 13) | (1u << 15) | (1u << 16) | (1u << 17) |          \
     (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26))
/* Leaf 0x80000001 EDX: NX (the XD bit with EFER.NXE, tests/paging). */
#define CPUID_X1_EDX (1u << 20)

void cpu_cpuid(CpuState *c, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
    (void)c;
    (void)sub;
    switch (leaf) {
    case 0:
        out[0] = 1;
        out[1] = 0x756E6547; /* "Genu" */
        out[3] = 0x49656E69; /* "ineI" */
        out[2] = 0x6C65746E; /* "ntel" */
        break;
    case 1:
        /* Pentium Pro: family 6, model 1, stepping 9 (a stepping past the
         * 1-7 range whose errata #50 makes Linux reserve page 0). */
        out[0] = 0x00000619;
        out[1] = 0;
        out[2] = 0;
        out[3] = CPUID_1_EDX;
        break;
    case 0x80000000u:
        out[0] = 0x80000001u; /* highest extended leaf */
        out[1] = out[2] = out[3] = 0;
        break;
    case 0x80000001u:
        out[0] = out[1] = out[2] = 0;
        out[3] = CPUID_X1_EDX;
        break;
    default:
        /* Leaves above the maximum return the highest basic leaf's data on
         * Intel parts (SDM vol. 2, CPUID). */
        cpu_cpuid(c, 1, 0, out);
        break;
    }
}
