/* The x86 CPU: architectural state and the public API.
 *
 * Frontends, the machine and tests drive the CPU through these functions;
 * everything inside cpu/ that is not here lives in cpu_impl.h.
 */
#ifndef KESTREL_CPU_H
#define KESTREL_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "machine/bus.h"
#include "cpu/fpu.h"

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI, R_ZERO };
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_NONE = 7 };

/* EFLAGS bits (Intel SDM vol. 1, 3.4.3). */
#define FL_CF 0x0001u
#define FL_PF 0x0004u
#define FL_AF 0x0010u
#define FL_ZF 0x0040u
#define FL_SF 0x0080u
#define FL_TF 0x0100u
#define FL_IF 0x0200u
#define FL_DF 0x0400u
#define FL_OF 0x0800u
#define FL_IOPL 0x3000u
#define FL_NT 0x4000u
#define FL_RF 0x10000u
#define FL_VM 0x20000u
#define FL_AC 0x40000u
#define FL_VIF 0x80000u
#define FL_VIP 0x100000u
#define FL_ID 0x200000u
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* CR0 bits (SDM vol. 3, 2.5). */
#define CR0_PE 0x00000001u
#define CR0_MP 0x00000002u
#define CR0_EM 0x00000004u
#define CR0_TS 0x00000008u
#define CR0_ET 0x00000010u
#define CR0_NE 0x00000020u
#define CR0_WP 0x00010000u
#define CR0_AM 0x00040000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u

/* CR4 bits (SDM vol. 3, 2.5). */
#define CR4_VME 0x001u
#define CR4_PVI 0x002u
#define CR4_TSD 0x004u
#define CR4_DE 0x008u
#define CR4_PSE 0x010u
#define CR4_PAE 0x020u
#define CR4_MCE 0x040u
#define CR4_PGE 0x080u
#define CR4_PCE 0x100u
#define CR4_OSFXSR 0x200u
#define CR4_OSXMMEXCPT 0x400u

/* Exception vectors. */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
    EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
    EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* Hidden part of a segment register (the descriptor cache).  `attr` holds
 * descriptor bytes 5 and 6 (type, S, DPL, P in the low byte; AVL, D/B, G in
 * bits 12-15 as in the descriptor).  The access check uses the ranges
 * [rlo, rhi] for reads and [wlo, whi] for writes, precomputed from the
 * limit, expand-down and the type, so the fast path does two compares. */
typedef struct SegCache {
    uint32_t base;
    uint32_t limit;
    uint32_t rlo, rhi;
    uint32_t wlo, whi;
    uint16_t sel;
    uint16_t attr;
} SegCache;

#define SEG_ATTR_P 0x0080u
#define SEG_ATTR_S 0x0010u
#define SEG_ATTR_DB 0x4000u
#define SEG_ATTR_G 0x8000u

typedef struct DescTable {
    uint32_t base;
    uint32_t limit;
} DescTable;

/* Lazy arithmetic flags: the last flag-setting operation and its operands.
 * When op is LF_NONE the arithmetic bits of `eflags` are authoritative. */
typedef struct LazyFlags {
    uint32_t op;
    uint32_t a, b, res;
} LazyFlags;

/* One software TLB entry.  A tag is the page-aligned linear address when
 * the entry allows that kind of access, or 1 (never page-aligned) when it
 * does not.  Host address = addend + linear address. */
typedef struct TlbEntry {
    uint32_t tag_r, tag_w, tag_x;
    uint32_t pad;
    uintptr_t addend;
    uint64_t phys; /* physical page base */
} TlbEntry;

#define TLB_BITS 8
#define TLB_SIZE (1u << TLB_BITS)

typedef struct CodeCache CodeCache;
typedef struct Insn Insn;

typedef enum CpuExit {
    CPU_EXIT_BUDGET = 0,   /* ran the requested number of instructions */
    CPU_EXIT_HALT,         /* HLT with no interrupt to wake it */
    CPU_EXIT_REQUEST,      /* cpu_request_exit() was called */
    CPU_EXIT_SHUTDOWN,     /* triple fault */
    CPU_EXIT_EXCEPTION,    /* an exception was reported, not delivered (see trap_exceptions) */
    CPU_EXIT_DEBUG,        /* a debugger breakpoint or watchpoint was hit (see debug_hit) */
} CpuExit;

/* Debugger breakpoints and watchpoints on linear addresses (cpu/debug.c). */
#define CPU_MAX_BREAKPOINTS 64
#define CPU_MAX_WATCHPOINTS 16
enum { WATCH_WRITE = 1, WATCH_READ = 2, WATCH_ACCESS = 3 };
typedef struct CpuWatch {
    uint32_t lin, len;
    int kind; /* WATCH_* */
} CpuWatch;
typedef struct CpuDebugHit {
    bool breakpoint;  /* stopped before the instruction at a breakpoint */
    int watch_kind;   /* WATCH_* of the access that hit, 0 for a breakpoint */
    uint32_t addr;    /* breakpoint or accessed address */
} CpuDebugHit;

typedef struct CpuState CpuState;

/* Interrupt controller interface: the machine wires these to the PIC. */
/* What delivered an event (for trace_event). */
typedef enum CpuEventKind {
    CPU_EV_EXCEPTION, /* raised by an instruction (fault or trap class) */
    CPU_EV_INTERRUPT, /* INTR, NMI, or a debug trap */
    CPU_EV_SOFTWARE,  /* INT n, INT3, INTO, INT1 */
} CpuEventKind;

typedef struct CpuIrqOps {
    int (*ack)(void *opaque); /* INTA cycle: returns the vector */
} CpuIrqOps;

struct CpuState {
    /* General registers in encoding order; regs[R_ZERO] is always zero so
     * that an absent base or index costs no branch. */
    uint32_t regs[9];
    uint32_t eip;
    uint32_t eflags; /* bits other than the arithmetic ones always valid */
    LazyFlags lf;
    SegCache seg[6];
    DescTable gdtr, idtr;
    SegCache ldtr, tr;
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];
    uint64_t efer;
    int cpl;
    bool code32;  /* CS.D: default operand and address size */
    bool stack32; /* SS.B: stack pointer width */
    bool halted;
    uint8_t intr_shadow; /* interrupts inhibited for one instruction (STI, MOV SS) */

    /* Memory. */
    Bus *bus;
    uint64_t a20_mask;
    TlbEntry *tlb_cur; /* tlb[cpl == 3] */
    TlbEntry tlb[2][TLB_SIZE];
    uint8_t *code_pages; /* one byte per 4 KiB physical page below 4 GiB: decoded code lives there */
    uint8_t tlb_flags[2][TLB_SIZE]; /* TLBF_* of each tlb[][] entry (tlb.c) */
    bool tlb_has_large; /* some TLB entry maps part of a 2/4 MiB page */
    uint64_t pdpte[4];  /* PAE PDPTE registers, loaded with CR3 (SDM vol. 3, 4.4.1) */

    /* Execution. */
    CodeCache *cc;
    uint64_t icount;   /* instructions retired: the guest clock */
    uint64_t tsc_offset;
    const Insn *blk_start; /* first insn of the block being run */
    const Insn *cur_insn;  /* insn being run */
    volatile bool exit_request;
    bool stop_block;   /* leave the current block after this instruction */
    bool trap_exceptions; /* tests: report exceptions instead of delivering them */
    /* Tracing (the frontend's -d exec / -d int): when trace_insn is set,
     * cpu_run takes its one-instruction-at-a-time checked path and calls it
     * before every instruction, with EIP at it; trace_event is called for
     * every exception and interrupt as its delivery starts. */
    void (*trace_insn)(void *opaque, struct CpuState *c);
    void (*trace_event)(void *opaque, struct CpuState *c, int vector, CpuEventKind kind,
                        bool has_code, uint32_t code);
    void *trace_opaque;
    bool irq_line;     /* INTR is asserted */
    bool nmi_pending;
    const CpuIrqOps *irq_ops;
    void *irq_opaque;
    int exc_vector, exc_code; /* the exception being raised */
    bool exc_has_code;
    int exc_nesting;
    jmp_buf jmp;

    /* Debugger (cpu/debug.c). */
    uint32_t breakpoints[CPU_MAX_BREAKPOINTS];
    int n_breakpoints;
    CpuWatch watches[CPU_MAX_WATCHPOINTS];
    int n_watches;
    bool debug_pending;    /* a watchpoint hit: stop after this instruction */
    bool debug_resume;     /* ignore a breakpoint at the current EIP once */
    CpuDebugHit debug_hit;

    /* x87 FPU, MMX and SSE state (cpu/fpu.h). */
    FpuState fpu;

    /* Logging (unimp / guest_error); a NULL sink discards. */
    void (*log)(void *opaque, int category, const char *msg);
    void *log_opaque;
    unsigned log_mask;

    /* System architecture (seg.c, interrupt.c, task.c, exec_sys.c).
     * intr_shadow is 1 after MOV SS / POP SS (interrupts and debug traps
     * wait one instruction) and 2 after STI (interrupts only). */
    bool nmi_blocked;     /* an NMI handler runs: NMIs wait for the next IRET (SDM vol. 3, 6.7.1) */
    bool dr_data_on;      /* DR7 enables a data breakpoint: the TLB slow path calls dr_data_access */
    uint32_t dr6_pending; /* DR6 bits of a #DB trap due after the current instruction */
    uint32_t dr_synced[5]; /* DR0-3 and DR7 as dr_sync last saw them */
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t apic_base, pat, misc_enable, mtrr_def_type;
    uint64_t mtrr_var[16];  /* IA32_MTRR_PHYSBASE0/PHYSMASK0 .. 7 */
    uint64_t mtrr_fixed[11]; /* 0x250, 0x258, 0x259, 0x268-0x26F */
};

enum { LOG_GUEST_ERROR = 1, LOG_UNIMP = 2 };

CpuState *cpu_new(Bus *bus);
void cpu_free(CpuState *c);
void cpu_reset(CpuState *c);

/* Run until `max_insns` more instructions have retired (the last block may
 * run a few more only when single-instruction precision is not needed:
 * the budget is exact), HLT, an exit request or a shutdown. */
CpuExit cpu_run(CpuState *c, uint64_t max_insns);

/* Execute exactly one instruction (delivering any exception it raises, or
 * reporting it when trap_exceptions is set). */
CpuExit cpu_step(CpuState *c);

void cpu_request_exit(CpuState *c);
void cpu_set_irq(CpuState *c, bool level);
void cpu_set_nmi(CpuState *c);

uint32_t cpu_get_eflags(CpuState *c);
void cpu_set_eflags(CpuState *c, uint32_t v);

/* Load a segment register as real mode (or V86) does: base = sel << 4. */
void cpu_load_seg_real(CpuState *c, int seg, uint16_t sel);
/* Set a segment's hidden cache directly (tests, loaders). */
void cpu_set_seg_cache(CpuState *c, int seg, uint16_t sel, uint32_t base, uint32_t limit,
                       uint16_t attr);
/* Enter 32-bit protected mode with flat 4 GiB segments and CPL 0 without
 * descriptor tables (tests, direct kernel boot). */
void cpu_set_flat32(CpuState *c);

void cpu_set_a20(CpuState *c, bool enabled);
void cpu_tlb_flush(CpuState *c);
/* Drop decoded code overlapping [phys, phys+len). */
void cpu_invalidate_code(CpuState *c, uint64_t phys, uint64_t len);

/* Debugger/test memory access through the current translation; returns
 * false where the address is not mapped (never faults the guest). */
bool cpu_read_virt(CpuState *c, uint32_t lin, void *dst, uint32_t len);
bool cpu_write_virt(CpuState *c, uint32_t lin, const void *src, uint32_t len);

/* Debugger breakpoints (instruction, linear address) and watchpoints
 * (data, linear range).  Return false when the table is full or the entry
 * is absent.  Inserting or removing drops decoded code and the TLB so that
 * both take effect at once. */
bool cpu_breakpoint_insert(CpuState *c, uint32_t lin);
bool cpu_breakpoint_remove(CpuState *c, uint32_t lin);
bool cpu_watch_insert(CpuState *c, uint32_t lin, uint32_t len, int kind);
bool cpu_watch_remove(CpuState *c, uint32_t lin, uint32_t len, int kind);
/* Drop every decoded block. */
void cpu_flush_code(CpuState *c);

/* CPUID as the guest sees it. */
void cpu_cpuid(CpuState *c, uint32_t leaf, uint32_t sub, uint32_t out[4]);
/* The /proc/cpuinfo names (Linux's) of the feature bits CPUID reports,
 * space-separated in Linux's order; with `all`, every name Kestrel knows. */
void cpu_feature_names(CpuState *c, bool all, char *out, size_t cap);

#endif
