/* Protected-mode system architecture shared by seg.c, interrupt.c, task.c,
 * exec_ctrl.c, exec_sys.c and the run loop: descriptors, implicit
 * supervisor accesses, far transfers, event delivery, task switches, the
 * TSS bitmaps and the debug registers.  SDM vol. 3, chapters 3, 5, 6, 7,
 * 17 and 20, and the instruction pages of vol. 2. */
#ifndef KESTREL_CPU_SYSTEM_H
#define KESTREL_CPU_SYSTEM_H

#include "cpu/cpu_impl.h"

/* ---- Descriptors (SDM vol. 3, 3.4.5) ------------------------------------ */

typedef struct Desc {
    uint32_t lo, hi;
} Desc;

/* Type field with the S bit (bit 4): 0x10-0x1F code/data, 0x00-0x0F system. */
static inline unsigned desc_type(const Desc *d)
{
    return (d->hi >> 8) & 0x1F;
}
static inline unsigned desc_dpl(const Desc *d)
{
    return (d->hi >> 13) & 3;
}
static inline bool desc_present(const Desc *d)
{
    return d->hi & 0x8000u;
}
static inline uint32_t desc_base(const Desc *d)
{
    return (d->lo >> 16) | ((d->hi & 0xFF) << 16) | (d->hi & 0xFF000000u);
}
/* The limit in bytes (G scales it by 4 KiB). */
static inline uint32_t desc_limit(const Desc *d)
{
    uint32_t l = (d->lo & 0xFFFF) | (d->hi & 0x000F0000u);
    return (d->hi & (1u << 23)) ? (l << 12) | 0xFFF : l;
}
/* Gate fields (SDM vol. 3, 5.8.3 and 6.11). */
static inline uint16_t gate_sel(const Desc *d)
{
    return (uint16_t)(d->lo >> 16);
}
static inline uint32_t gate_off(const Desc *d, bool gate32)
{
    return gate32 ? (d->lo & 0xFFFF) | (d->hi & 0xFFFF0000u) : d->lo & 0xFFFF;
}

#define DT_CODE(t) (((t)&0x18) == 0x18)
#define DT_DATA(t) (((t)&0x18) == 0x10)
#define DT_CONFORMING(t) (((t)&0x1C) == 0x1C)
#define DT_READABLE(t) (DT_DATA(t) || ((t)&0x1A) == 0x1A)
#define DT_WRITABLE_DATA(t) (((t)&0x1A) == 0x12)

/* System descriptor types (S = 0), SDM vol. 3, table 3-2. */
enum {
    SYS_TSS16 = 1,
    SYS_LDT = 2,
    SYS_TSS16_BUSY = 3,
    SYS_CALL16 = 4,
    SYS_TASK = 5,
    SYS_INT16 = 6,
    SYS_TRAP16 = 7,
    SYS_TSS32 = 9,
    SYS_TSS32_BUSY = 11,
    SYS_CALL32 = 12,
    SYS_INT32 = 14,
    SYS_TRAP32 = 15,
};

/* Implicit supervisor-mode accesses (descriptor tables, the TSS, the IDT):
 * made through tlb[0] whatever the CPL, so paging checks them as
 * supervisor accesses (tlb.c takes the privilege from the set in use).  A
 * fault inside leaves tlb_cur switched; the run loop restores it before
 * delivering the exception. */
uint32_t sys_read(CpuState *c, uint32_t lin, unsigned size);
void sys_write(CpuState *c, uint32_t lin, uint32_t v, unsigned size);
/* An access with the privilege of level `pl` (stack pushes to a new stack
 * before the CPL changes). */
void pl_write(CpuState *c, int pl, uint32_t lin, uint32_t v, unsigned size);

/* Read the descriptor `sel` names.  desc_fetch returns false when the
 * selector is beyond its table (or names the LDT while LDTR is null);
 * desc_load raises vector(sel | ext) then. */
bool desc_fetch(CpuState *c, uint16_t sel, Desc *d);
void desc_load(CpuState *c, uint16_t sel, Desc *d, int vector, int ext);
void desc_set_accessed(CpuState *c, uint16_t sel, Desc *d);
/* Set the busy bit of the TSS descriptor `sel` in the GDT, or clear it. */
void desc_set_busy(CpuState *c, uint16_t sel, bool busy);
void desc_to_cache(SegCache *s, uint16_t sel, const Desc *d);
/* Recompute a cache's access ranges; pm: protected mode rules apply. */
void seg_cache_ranges_pm(SegCache *s, int idx, bool pm);
/* Make a segment register null (selector sel, unusable cache). */
void seg_set_null(CpuState *c, int seg, uint16_t sel);

static inline bool real_or_v86(const CpuState *c)
{
    return !(c->cr0 & CR0_PE) || (c->eflags & FL_VM);
}
static inline unsigned cur_iopl(const CpuState *c)
{
    return (c->eflags & FL_IOPL) >> 12;
}

/* ---- Stack frames built before the state changes ------------------------- */

/* Pushes onto a stack that is not (yet) SS:ESP: each push is limit-checked
 * against `ss` (#SS(err) otherwise) and written with privilege `pl`; the
 * CPU state changes only when the caller commits `sp`. */
typedef struct Frame {
    SegCache ss;
    uint32_t sp;   /* full ESP; pushes change the bits in `mask` */
    uint32_t mask; /* 0xFFFF for a 16-bit stack */
    int pl;
    int err;
} Frame;

void frame_init(Frame *f, const SegCache *ss, uint32_t esp, int pl, int err);
/* A frame on the current SS:ESP (#SS(0) when a push leaves the segment). */
void frame_current(CpuState *c, Frame *f);
void frame_push(CpuState *c, Frame *f, uint32_t v, unsigned size);
/* Make the frame's stack pointer ESP (the bits its mask covers). */
void frame_commit_sp(CpuState *c, const Frame *f);

/* ---- Far transfers (seg.c) ----------------------------------------------- */

/* JMP/CALL ptr16:xx or m16:xx: code segments, call gates, task gates and
 * TSSs (SDM vol. 2, JMP and CALL).  next_eip is the return address. */
void far_jmp(CpuState *c, uint16_t sel, uint32_t off, uint32_t next_eip);
void far_call(CpuState *c, uint16_t sel, uint32_t off, unsigned opsize, uint32_t next_eip);
void far_ret(CpuState *c, unsigned opsize, uint32_t imm);
/* Load CS from a validated descriptor and make `cpl` current. */
void seg_commit_cs(CpuState *c, uint16_t sel, const Desc *d, int cpl);
/* After a return to an outer level: ES, DS, FS and GS that the new CPL may
 * not use become null (SDM vol. 2, RET and IRET). */
void seg_null_outer(CpuState *c);
/* Validate `sel` as the stack of level `pl` (stacks from the TSS, returns
 * to an outer level): a null selector raises vector(ext); the RPL, DPL and
 * type checks raise vector(sel | ext); a segment not present #SS(sel | ext). */
void seg_check_stack(CpuState *c, uint16_t sel, Desc *d, int pl, int vector, int ext);
/* The code segment a far RET or IRET returns to: RPL >= CPL, code,
 * conforming with DPL <= RPL or non-conforming with DPL = RPL, present
 * (#GP(sel) / #NP(sel), null: #GP(0)). */
void seg_check_return_cs(CpuState *c, uint16_t sel, Desc *d);

/* ---- Events (interrupt.c) ------------------------------------------------ */

/* How an event came about: decides the return address already given by
 * the caller, the EXT bit of error codes, the gate DPL check, IOPL
 * sensitivity in V86 mode and the RF image (SDM vol. 3, 6.12-6.13,
 * 17.3.1.1; vol. 2, INT n/INTO/INT3/INT1). */
enum {
    EV_FAULT, /* exception raised by an instruction (pushed RF = 1) */
    EV_TRAP,  /* external interrupt, NMI, #DB trap or code breakpoint */
    EV_INTN,  /* INT n (CD ib) */
    EV_SOFT,  /* INT3, INTO: gate DPL checked, not IOPL-sensitive */
    EV_ICEBP, /* INT1 (F1): no DPL check */
};
void intr_deliver(CpuState *c, int vector, int kind, bool has_code, uint32_t code,
                  uint32_t ret_eip);
/* IRET of `opsize` bytes in any mode; next_eip is saved in the TSS when
 * the IRET returns to another task. */
void intr_iret(CpuState *c, unsigned opsize, uint32_t next_eip);
/* The exception in c->exc_* was raised: deliver it or escalate (#DF,
 * shutdown).  *delivering holds the exception being delivered, -1 if none. */
CpuExit intr_handle_exception(CpuState *c, volatile int *delivering);
/* Accept a pending NMI or INTR if the CPU can take one now. */
bool intr_take_pending(CpuState *c);

/* ---- Debug registers (interrupt.c, SDM vol. 3, 17.2-17.3) ----------------- */

#define DR6_BD 0x2000u
#define DR6_BS 0x4000u
#define DR6_BT 0x8000u

/* Enabled instruction breakpoints at `lin`, as DR6 B0-B3 bits. */
uint32_t dr_exec_match(const CpuState *c, uint32_t lin);
/* Notice changed DR0-3/DR7 (the TLB must see new data breakpoints). */
void dr_sync(CpuState *c);
/* Deliver #DB for the DR6 status bits `bits` (traps: EIP past the
 * instruction; code breakpoints: EIP at it). */
void dr_deliver(CpuState *c, uint32_t bits);
/* DR7.GD: a MOV DRn while set is a #DB fault with DR6.BD (SDM vol. 3, 17.2.4). */
void dr_general_detect(CpuState *c);

/* ---- Tasks (task.c, SDM vol. 3, chapter 7) --------------------------------- */

enum { TS_JMP, TS_CALL, TS_IRET, TS_INT };
/* Switch to the task whose TSS descriptor `d` (present, of the right type,
 * checked by the caller) `sel` names.  next_eip is saved in the old TSS. */
void task_switch(CpuState *c, uint16_t sel, const Desc *d, int reason, uint32_t next_eip, int ext);
/* SS:ESP for privilege level pl from the current TSS, for an interrupt
 * or a CALL (#TS(TR | ext) when the TSS is too short). */
void task_stack(CpuState *c, int pl, uint16_t *ss, uint32_t *esp, bool intr, int ext);
/* The I/O permission bitmap allows `size` bytes at `port` (SDM vol. 1, 19.5.2). */
bool task_io_allowed(CpuState *c, uint16_t port, unsigned size);
/* VME: the interrupt redirection bitmap says INT n goes to the 8086
 * handler (bit clear).  #GP(0) when the bitmap is outside the TSS. */
bool task_int_redirected(CpuState *c, int vector);

/* MSR reset values (exec_sys.c). */
void msr_reset(CpuState *c);

#endif
