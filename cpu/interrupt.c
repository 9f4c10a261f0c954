/* Exceptions and interrupts: raising, the double-fault rules, delivery
 * through the real-mode IVT and the protected-mode IDT (interrupt, trap and
 * task gates, privilege changes, V86 mode, VME redirection), IRET in every
 * mode, external INTR and NMI, and the debug registers.
 * SDM vol. 3, chapter 6 (interrupt and exception handling), 17.2-17.3
 * (debug registers and exceptions), chapter 20 (V86 mode); vol. 2, INT n
 * and IRET. */
#include "cpu/system.h"

/* ---- Raising ------------------------------------------------------------- */

_Noreturn void cpu_raise(CpuState *c, int vector, int code, bool has_code)
{
    c->exc_vector = vector;
    c->exc_code = code;
    c->exc_has_code = has_code;
    longjmp(c->jmp, 1);
}

_Noreturn void cpu_raise_ud(CpuState *c)
{
    cpu_raise(c, EXC_UD, 0, false);
}

/* ---- Real mode ------------------------------------------------------------ */

/* SDM vol. 3, 20.1.4: push FLAGS, CS, IP; clear IF, TF, AC (and RF); load
 * CS:IP from the IVT entry at IDTR.base + 4 * vector.  Pushes are checked
 * before SP changes. */
static void deliver_real(CpuState *c, int vector, uint32_t ret_eip)
{
    uint32_t ent = (uint32_t)vector * 4;
    if (ent + 3 > c->idtr.limit)
        cpu_gp0(c);
    uint32_t ip = lin_read(c, c->idtr.base + ent, 2);
    uint32_t cs = lin_read(c, c->idtr.base + ent + 2, 2);
    Frame f;
    frame_current(c, &f);
    frame_push(c, &f, cpu_get_eflags(c) & 0xFFFF, 2);
    frame_push(c, &f, c->seg[SEG_CS].sel, 2);
    frame_push(c, &f, ret_eip & 0xFFFF, 2);
    frame_commit_sp(c, &f);
    c->eflags &= ~(FL_IF | FL_TF | FL_AC | FL_RF);
    cpu_load_seg_real(c, SEG_CS, (uint16_t)cs);
    c->eip = ip;
}

/* VME: INT n redirected to the 8086 program's own handler through the IVT
 * at linear address 0 (SDM vol. 3, 20.3.3.5, methods 5 and 6).  With IOPL <
 * 3 the pushed FLAGS carry VIF in the IF position and IOPL = 3, and VIF is
 * cleared instead of IF. */
static void v86_redirect(CpuState *c, int vector, uint32_t ret_eip)
{
    bool iopl3 = cur_iopl(c) == 3;
    uint32_t fl = cpu_get_eflags(c) & 0xFFFF;
    if (!iopl3)
        fl = (fl & ~FL_IF) | ((c->eflags & FL_VIF) ? FL_IF : 0) | FL_IOPL;
    uint32_t ip = lin_read(c, (uint32_t)vector * 4, 2);
    uint32_t cs = lin_read(c, (uint32_t)vector * 4 + 2, 2);
    Frame f;
    frame_current(c, &f);
    frame_push(c, &f, fl, 2);
    frame_push(c, &f, c->seg[SEG_CS].sel, 2);
    frame_push(c, &f, ret_eip & 0xFFFF, 2);
    frame_commit_sp(c, &f);
    c->eflags &= ~(FL_TF | FL_RF | (iopl3 ? FL_IF : FL_VIF));
    cpu_load_seg_real(c, SEG_CS, (uint16_t)cs);
    c->eip = ip;
}

/* ---- Protected mode ---------------------------------------------------------- */

/* Task gate in the IDT: a nested task switch, then the error code on the
 * new task's stack (SDM vol. 2, INT n, TASK-GATE). */
static void deliver_task_gate(CpuState *c, const Desc *g, bool has_code, uint32_t code,
                              uint32_t ret_eip, int ext)
{
    uint16_t tsel = gate_sel(g);
    int err = (tsel & 0xFFFC) | ext;
    if (tsel & 4)
        cpu_raise(c, EXC_GP, err, true);
    Desc t;
    desc_load(c, tsel, &t, EXC_GP, ext);
    unsigned tt = desc_type(&t);
    if (tt != SYS_TSS16 && tt != SYS_TSS32)
        cpu_raise(c, EXC_GP, err, true);
    if (!desc_present(&t))
        cpu_raise(c, EXC_NP, err, true);
    task_switch(c, tsel, &t, TS_INT, ret_eip, ext);
    if (has_code) {
        Frame f;
        frame_current(c, &f);
        f.err = ext;
        frame_push(c, &f, code, tt == SYS_TSS32 ? 4 : 2);
        frame_commit_sp(c, &f);
    }
}

static void deliver_protected(CpuState *c, int vector, int kind, bool has_code, uint32_t code,
                              uint32_t ret_eip)
{
    /* EXT: the event is not an INT n / INT3 / INTO instruction (SDM vol. 3,
     * 6.13). */
    int ext = (kind == EV_INTN || kind == EV_SOFT) ? 0 : 1;
    uint32_t ent = (uint32_t)vector * 8;
    int idt_err = (int)ent | 2 | ext;
    if (ent + 7 > c->idtr.limit)
        cpu_raise(c, EXC_GP, idt_err, true);
    Desc g;
    g.lo = sys_read(c, c->idtr.base + ent, 4);
    g.hi = sys_read(c, c->idtr.base + ent + 4, 4);
    unsigned type = desc_type(&g);
    if (type != SYS_TASK && type != SYS_INT16 && type != SYS_TRAP16 && type != SYS_INT32 &&
        type != SYS_TRAP32)
        cpu_raise(c, EXC_GP, idt_err, true);
    /* Software interrupts may only use gates with DPL >= CPL (6.12.1.1). */
    if ((kind == EV_INTN || kind == EV_SOFT) && desc_dpl(&g) < (unsigned)c->cpl)
        cpu_raise(c, EXC_GP, (int)ent | 2, true);
    if (!desc_present(&g))
        cpu_raise(c, EXC_NP, idt_err, true);
    if (type == SYS_TASK) {
        deliver_task_gate(c, &g, has_code, code, ret_eip, ext);
        return;
    }
    bool gate32 = type & 8;
    unsigned sz = gate32 ? 4 : 2;
    uint16_t sel = gate_sel(&g);
    uint32_t off = gate_off(&g, gate32);
    if ((sel & 0xFFFC) == 0)
        cpu_raise(c, EXC_GP, ext, true);
    Desc d;
    desc_load(c, sel, &d, EXC_GP, ext);
    unsigned ctype = desc_type(&d), dpl = desc_dpl(&d);
    int cerr = (sel & 0xFFFC) | ext;
    if (!DT_CODE(ctype) || dpl > (unsigned)c->cpl)
        cpu_raise(c, EXC_GP, cerr, true);
    if (!desc_present(&d))
        cpu_raise(c, EXC_NP, cerr, true);
    bool vm = c->eflags & FL_VM;
    /* RF image: 1 for faults, the current RF otherwise (17.3.1.1). */
    uint32_t image = cpu_get_eflags(c) | (kind == EV_FAULT ? FL_RF : 0);
    uint32_t mask = gate32 ? ~0u : 0xFFFF;
    Frame f;
    int npl;
    if (!DT_CONFORMING(ctype) && dpl < (unsigned)c->cpl) {
        /* Inner level: the stack of the handler's level from the TSS
         * (6.12.1, INTER-PRIVILEGE-LEVEL-INTERRUPT); from V86 mode the
         * handler must run at level 0 (INTERRUPT-FROM-VIRTUAL-8086-MODE). */
        npl = (int)dpl;
        if (vm && npl != 0)
            cpu_raise(c, EXC_GP, cerr, true);
        uint16_t nss;
        uint32_t nesp;
        task_stack(c, npl, &nss, &nesp, true, ext);
        Desc sd;
        seg_check_stack(c, nss, &sd, npl, EXC_TS, ext);
        SegCache ss;
        desc_to_cache(&ss, nss, &sd);
        if (off > desc_limit(&d))
            cpu_raise(c, EXC_GP, ext, true);
        frame_init(&f, &ss, nesp, npl, (nss & 0xFFFC) | ext);
        if (vm) {
            frame_push(c, &f, c->seg[SEG_GS].sel, sz);
            frame_push(c, &f, c->seg[SEG_FS].sel, sz);
            frame_push(c, &f, c->seg[SEG_DS].sel, sz);
            frame_push(c, &f, c->seg[SEG_ES].sel, sz);
        }
        frame_push(c, &f, c->seg[SEG_SS].sel, sz);
        frame_push(c, &f, c->regs[R_ESP] & mask, sz);
        frame_push(c, &f, image & mask, sz);
        frame_push(c, &f, c->seg[SEG_CS].sel, sz);
        frame_push(c, &f, ret_eip & mask, sz);
        if (has_code)
            frame_push(c, &f, code & mask, sz);
        /* Commit. */
        desc_set_accessed(c, nss, &sd);
        desc_set_accessed(c, sel, &d);
        c->eflags &= ~FL_VM;
        if (vm) {
            seg_set_null(c, SEG_GS, 0);
            seg_set_null(c, SEG_FS, 0);
            seg_set_null(c, SEG_DS, 0);
            seg_set_null(c, SEG_ES, 0);
        }
        c->seg[SEG_SS] = ss;
        c->regs[R_ESP] = f.sp;
    } else if (DT_CONFORMING(ctype) || dpl == (unsigned)c->cpl) {
        /* Same level (INTRA-PRIVILEGE-LEVEL-INTERRUPT); a conforming
         * handler runs at the current CPL. */
        if (vm)
            cpu_raise(c, EXC_GP, cerr, true);
        npl = c->cpl;
        if (off > desc_limit(&d))
            cpu_raise(c, EXC_GP, ext, true);
        frame_current(c, &f);
        f.err = ext;
        frame_push(c, &f, image & mask, sz);
        frame_push(c, &f, c->seg[SEG_CS].sel, sz);
        frame_push(c, &f, ret_eip & mask, sz);
        if (has_code)
            frame_push(c, &f, code & mask, sz);
        desc_set_accessed(c, sel, &d);
        frame_commit_sp(c, &f);
    } else {
        cpu_raise(c, EXC_GP, cerr, true);
    }
    c->eflags &= ~(FL_TF | FL_NT | FL_RF | FL_VM);
    if (type == SYS_INT16 || type == SYS_INT32)
        c->eflags &= ~FL_IF;
    seg_commit_cs(c, sel, &d, npl);
    c->eip = off;
}

void intr_deliver(CpuState *c, int vector, int kind, bool has_code, uint32_t code, uint32_t ret_eip)
{
    if (unlikely(c->trace_event))
        c->trace_event(c->trace_opaque, c, vector,
                       kind == EV_FAULT  ? CPU_EV_EXCEPTION
                       : kind == EV_TRAP ? CPU_EV_INTERRUPT
                                         : CPU_EV_SOFTWARE,
                       has_code, code);
    c->halted = false;
    /* Delivering an event drops the single-step trap of the instruction
     * that caused it: INT n and exceptions clear TF for the handler (SDM
     * vol. 3, 17.3.1.4). */
    c->dr6_pending = 0;
    if (!(c->cr0 & CR0_PE)) {
        deliver_real(c, vector, ret_eip);
        return;
    }
    if ((c->eflags & FL_VM) && kind == EV_INTN) {
        /* INT n in V86 mode (SDM vol. 3, table 20-2): with VME a clear bit
         * in the redirection bitmap sends it to the 8086 handler; otherwise
         * it goes through the IDT when IOPL = 3 and is #GP(0) when not. */
        if ((c->cr4 & CR4_VME) && task_int_redirected(c, vector)) {
            v86_redirect(c, vector, ret_eip);
            return;
        }
        if (cur_iopl(c) < 3)
            cpu_gp0(c);
    }
    deliver_protected(c, vector, kind, has_code, code, ret_eip);
}

void cpu_interrupt(CpuState *c, int vector, int code, bool has_code, bool soft, uint32_t next_eip)
{
    intr_deliver(c, vector, soft ? EV_SOFT : EV_TRAP, has_code, (uint32_t)code,
                 soft ? next_eip : c->eip);
}

/* ---- Exceptions: the double-fault rules --------------------------------------- */

static bool exc_contributory(int v)
{
    return v == EXC_DE || (v >= EXC_TS && v <= EXC_GP);
}

/* SDM vol. 3, 6.15 (interrupt 8) and table 6-5: a contributory exception
 * while delivering a contributory one, or a page fault or contributory one
 * while delivering a page fault, is a double fault; any fault while
 * delivering #DF shuts the processor down.  Other pairs are delivered one
 * after the other. */
CpuExit intr_handle_exception(CpuState *c, volatile int *delivering)
{
    int first = *delivering;
    int v = c->exc_vector;
    if (c->trap_exceptions)
        return CPU_EXIT_EXCEPTION;
    if (first >= 0) {
        if (first == EXC_DF)
            return CPU_EXIT_SHUTDOWN;
        bool df = (exc_contributory(first) && exc_contributory(v)) ||
                  (first == EXC_PF && (v == EXC_PF || exc_contributory(v)));
        if (df) {
            c->exc_vector = v = EXC_DF;
            c->exc_code = 0;
            c->exc_has_code = true;
        }
    }
    bool pm = c->cr0 & CR0_PE;
    *delivering = v; /* a fault during delivery is judged against this one */
    intr_deliver(c, v, EV_FAULT, pm && c->exc_has_code, (uint32_t)c->exc_code, c->eip);
    *delivering = -1;
    return CPU_EXIT_BUDGET;
}

/* ---- External interrupts ---------------------------------------------------- */

/* NMI before INTR (SDM vol. 3, table 6-2); an NMI handler blocks further
 * NMIs until the next IRET (6.7.1); INTR needs IF. */
bool intr_take_pending(CpuState *c)
{
    if (c->nmi_pending && !c->nmi_blocked) {
        c->nmi_pending = false;
        c->nmi_blocked = true;
        intr_deliver(c, EXC_NMI, EV_TRAP, false, 0, c->eip);
        return true;
    }
    if (c->irq_line && (c->eflags & FL_IF) && c->irq_ops) {
        int vec = c->irq_ops->ack(c->irq_opaque);
        if (vec >= 0) {
            intr_deliver(c, vec & 0xFF, EV_TRAP, false, 0, c->eip);
            return true;
        }
    }
    return false;
}

/* ---- IRET -------------------------------------------------------------------- */

/* The flags a protected-mode IRET may change, judged with the CPL and IOPL
 * before it (SDM vol. 2, IRET): IF only when CPL <= IOPL, IOPL, VIF and VIP
 * only at CPL 0; VM never (the V86 return has its own path). */
static void iret_set_flags(CpuState *c, uint32_t fl, unsigned size, int cpl, unsigned iopl)
{
    uint32_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT;
    if (size == 4)
        mask |= FL_RF | FL_AC | FL_ID;
    if ((unsigned)cpl <= iopl)
        mask |= FL_IF;
    if (cpl == 0) {
        mask |= FL_IOPL;
        if (size == 4)
            mask |= FL_VIF | FL_VIP;
    }
    flags_materialize(c);
    c->eflags = (c->eflags & ~mask) | (fl & mask) | 2;
}

static void iret_real(CpuState *c, unsigned size)
{
    uint32_t sp = sp_get(c), m = sp_mask(c);
    uint32_t off = mem_read(c, SEG_SS, sp, size);
    uint16_t sel = (uint16_t)mem_read(c, SEG_SS, (sp + size) & m, size);
    uint32_t fl = mem_read(c, SEG_SS, (sp + 2 * size) & m, size);
    if (off > c->seg[SEG_CS].limit)
        cpu_gp0(c);
    cpu_load_seg_real(c, SEG_CS, sel);
    c->eip = off;
    sp_set(c, sp + 3 * size);
    uint32_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_IF | FL_IOPL;
    if (size == 4)
        mask |= FL_RF | FL_AC | FL_ID;
    flags_materialize(c);
    c->eflags = (c->eflags & ~mask) | (fl & mask) | 2;
}

/* IRET inside V86 mode: allowed at IOPL 3 (VM, IOPL, VIF and VIP kept);
 * with VME a 16-bit IRET at IOPL < 3 loads VIF from the popped IF unless
 * that would enable a pending virtual interrupt or set TF (SDM vol. 2,
 * IRET; vol. 3, 20.3.3.5). */
static void iret_v86(CpuState *c, unsigned size)
{
    bool iopl3 = cur_iopl(c) == 3;
    bool vme = (c->cr4 & CR4_VME) && size == 2;
    if (!iopl3 && !vme)
        cpu_gp0(c);
    uint32_t sp = sp_get(c), m = sp_mask(c);
    uint32_t off = mem_read(c, SEG_SS, sp, size);
    uint16_t sel = (uint16_t)mem_read(c, SEG_SS, (sp + size) & m, size);
    uint32_t fl = mem_read(c, SEG_SS, (sp + 2 * size) & m, size);
    uint32_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT;
    if (iopl3) {
        mask |= FL_IF;
        if (size == 4)
            mask |= FL_RF | FL_AC | FL_ID;
    } else if (((fl & FL_IF) && (c->eflags & FL_VIP)) || (fl & FL_TF)) {
        cpu_gp0(c);
    }
    if (off > c->seg[SEG_CS].limit)
        cpu_gp0(c);
    cpu_load_seg_real(c, SEG_CS, sel);
    c->eip = off;
    sp_set(c, sp + 3 * size);
    flags_materialize(c);
    c->eflags = (c->eflags & ~mask) | (fl & mask) | 2;
    if (!iopl3)
        c->eflags = (fl & FL_IF) ? c->eflags | FL_VIF : c->eflags & ~FL_VIF;
}

/* NT set: return to the task named by the back link of the current TSS
 * (SDM vol. 3, 7.3 and 7.4; vol. 2, IRET, TASK-RETURN). */
static void iret_task(CpuState *c, uint32_t next_eip)
{
    if (c->tr.limit < 1)
        cpu_raise(c, EXC_TS, c->tr.sel & 0xFFFC, true);
    uint16_t link = (uint16_t)sys_read(c, c->tr.base, 2);
    int err = link & 0xFFFC;
    if (link & 4)
        cpu_raise(c, EXC_TS, err, true);
    Desc t;
    desc_load(c, link, &t, EXC_TS, 0);
    unsigned tt = desc_type(&t);
    if (tt != SYS_TSS16_BUSY && tt != SYS_TSS32_BUSY)
        cpu_raise(c, EXC_TS, err, true);
    if (!desc_present(&t))
        cpu_raise(c, EXC_NP, err, true);
    task_switch(c, link, &t, TS_IRET, next_eip, 0);
}

/* From CPL 0 with VM set in the popped EFLAGS: the whole V86 frame (SDM
 * vol. 2, IRET, RETURN-TO-VIRTUAL-8086-MODE). */
static void iret_to_v86(CpuState *c, uint32_t off, uint16_t sel, uint32_t fl)
{
    uint32_t sp = sp_get(c), m = sp_mask(c);
    uint32_t v[6];
    for (int k = 0; k < 6; k++)
        v[k] = mem_read(c, SEG_SS, (sp + 12 + 4 * (uint32_t)k) & m, 4);
    if (off > 0xFFFF)
        cpu_gp0(c);
    cpu_set_eflags(c, fl);
    c->cpl = 3;
    cpu_load_seg_real(c, SEG_ES, (uint16_t)v[2]);
    cpu_load_seg_real(c, SEG_DS, (uint16_t)v[3]);
    cpu_load_seg_real(c, SEG_FS, (uint16_t)v[4]);
    cpu_load_seg_real(c, SEG_GS, (uint16_t)v[5]);
    cpu_load_seg_real(c, SEG_SS, (uint16_t)v[1]);
    cpu_load_seg_real(c, SEG_CS, sel);
    c->regs[R_ESP] = v[0];
    c->eip = off;
    seg_update_mode(c);
}

void intr_iret(CpuState *c, unsigned size, uint32_t next_eip)
{
    /* IRET ends NMI blocking (SDM vol. 3, 6.7.1). */
    c->nmi_blocked = false;
    if (!(c->cr0 & CR0_PE)) {
        iret_real(c, size);
        return;
    }
    if (c->eflags & FL_VM) {
        iret_v86(c, size);
        return;
    }
    if (c->eflags & FL_NT) {
        iret_task(c, next_eip);
        return;
    }
    uint32_t sp = sp_get(c), m = sp_mask(c);
    uint32_t off = mem_read(c, SEG_SS, sp, size);
    uint16_t sel = (uint16_t)mem_read(c, SEG_SS, (sp + size) & m, size);
    uint32_t fl = mem_read(c, SEG_SS, (sp + 2 * size) & m, size);
    if (size == 4 && (fl & FL_VM) && c->cpl == 0) {
        iret_to_v86(c, off, sel, fl);
        return;
    }
    Desc d;
    seg_check_return_cs(c, sel, &d);
    int rpl = sel & 3, cpl = c->cpl;
    unsigned iopl = cur_iopl(c);
    if (size == 2)
        off &= 0xFFFF;
    if (rpl == cpl) {
        if (off > desc_limit(&d))
            cpu_gp0(c);
        desc_set_accessed(c, sel, &d);
        seg_commit_cs(c, sel, &d, rpl);
        c->eip = off;
        sp_set(c, sp + 3 * size);
        iret_set_flags(c, fl, size, cpl, iopl);
        return;
    }
    /* Return to an outer level: SS:ESP follow EFLAGS (RETURN-TO-OUTER-
     * PRIVILEGE-LEVEL). */
    uint32_t nesp = mem_read(c, SEG_SS, (sp + 3 * size) & m, size);
    uint16_t nss = (uint16_t)mem_read(c, SEG_SS, (sp + 4 * size) & m, size);
    Desc sd;
    seg_check_stack(c, nss, &sd, rpl, EXC_GP, 0);
    if (off > desc_limit(&d))
        cpu_gp0(c);
    desc_set_accessed(c, sel, &d);
    desc_set_accessed(c, nss, &sd);
    desc_to_cache(&c->seg[SEG_SS], nss, &sd);
    seg_commit_cs(c, sel, &d, rpl);
    c->eip = off;
    iret_set_flags(c, fl, size, cpl, iopl);
    if (size == 2)
        nesp &= 0xFFFF;
    if (c->stack32)
        c->regs[R_ESP] = nesp;
    else
        reg16_set(c, R_ESP, nesp);
    seg_null_outer(c);
}

/* ---- Debug registers ------------------------------------------------------------ */

/* DR7 fields of breakpoint n (SDM vol. 3, 17.2.4): enable bits L/G at 2n,
 * R/W at 16 + 4n (00 execute, 01 write, 10 I/O, 11 read/write), LEN at
 * 18 + 4n (00 1 byte, 01 2, 11 4; 10 is 8 bytes where defined). */
static bool dr_enabled(uint32_t dr7, int n)
{
    return (dr7 >> (2 * n)) & 3;
}
static unsigned dr_rw(uint32_t dr7, int n)
{
    return (dr7 >> (16 + 4 * n)) & 3;
}
static unsigned dr_len(uint32_t dr7, int n)
{
    static const unsigned len[4] = {1, 2, 8, 4};
    return len[(dr7 >> (18 + 4 * n)) & 3];
}

static bool overlap(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
    return (uint64_t)a < (uint64_t)b + blen && (uint64_t)b < (uint64_t)a + alen;
}

uint32_t dr_exec_match(const CpuState *c, uint32_t lin)
{
    uint32_t dr7 = c->dr[7], hits = 0;
    for (int n = 0; n < 4; n++)
        if (dr_enabled(dr7, n) && dr_rw(dr7, n) == 0 && c->dr[n] == lin)
            hits |= 1u << n;
    return hits;
}

static bool dr_is_data(uint32_t dr7, int n)
{
    unsigned rw = dr_rw(dr7, n);
    return dr_enabled(dr7, n) && (rw == 1 || rw == 3);
}

bool dr_page_watched(const CpuState *c, uint32_t lin)
{
    uint32_t dr7 = c->dr[7];
    for (int n = 0; n < 4; n++) {
        if (!dr_is_data(dr7, n))
            continue;
        unsigned len = dr_len(dr7, n);
        if (overlap(lin & ~0xFFFu, 0x1000, c->dr[n] & ~(len - 1), len))
            return true;
    }
    return false;
}

/* A data access the TLB slow path saw: a matching data breakpoint is a
 * trap taken when the instruction completes (17.3.1.2). */
void dr_data_access(CpuState *c, uint32_t lin, unsigned size, int acc)
{
    uint32_t dr7 = c->dr[7];
    if (acc == ACC_X || !(dr7 & 0xFF))
        return;
    for (int n = 0; n < 4; n++) {
        if (!dr_is_data(dr7, n) || (dr_rw(dr7, n) == 1 && acc != ACC_W))
            continue;
        unsigned len = dr_len(dr7, n);
        if (overlap(lin, size, c->dr[n] & ~(len - 1), len)) {
            c->dr6_pending |= 1u << n;
            c->stop_block = true;
        }
    }
}

/* A port access (IN, OUT, INS, OUTS): with CR4.DE, R/W = 10 makes DRn an
 * I/O breakpoint on the port range, a trap taken when the instruction, or
 * for REP INS/OUTS the current iteration, completes (SDM vol. 3, 17.2.4
 * and 17.3.1.2).  Without CR4.DE the encoding is reserved and matches
 * nothing here. */
void dr_io_access(CpuState *c, uint16_t port, unsigned size)
{
    uint32_t dr7 = c->dr[7];
    if (!(c->cr4 & CR4_DE))
        return;
    for (int n = 0; n < 4; n++) {
        if (!dr_enabled(dr7, n) || dr_rw(dr7, n) != 2)
            continue;
        unsigned len = dr_len(dr7, n);
        if (overlap(port, size, (c->dr[n] & 0xFFFF) & ~(len - 1), len)) {
            c->dr6_pending |= 1u << n;
            c->stop_block = true;
        }
    }
}

void dr_sync(CpuState *c)
{
    uint32_t cur[5] = {c->dr[0], c->dr[1], c->dr[2], c->dr[3], c->dr[7]};
    if (!memcmp(cur, c->dr_synced, sizeof cur))
        return;
    memcpy(c->dr_synced, cur, sizeof cur);
    bool on = false;
    for (int n = 0; n < 4; n++)
        on |= dr_is_data(cur[4], n);
    /* Pages with a data breakpoint must leave the TLB fast path. */
    if (on || c->dr_data_on)
        cpu_tlb_flush(c);
    c->dr_data_on = on;
}

/* DR6: B0-B3 report the breakpoints of this exception; BD, BS and BT stay
 * set until software clears them (17.2.3). */
void dr_deliver(CpuState *c, uint32_t bits)
{
    c->dr[6] = (c->dr[6] & ~0xFu) | (bits & 0xFu) | (bits & (DR6_BD | DR6_BS | DR6_BT));
    intr_deliver(c, EXC_DB, EV_TRAP, false, 0, c->eip);
}

void dr_general_detect(CpuState *c)
{
    if (c->dr[7] & 0x2000) {
        c->dr[7] &= ~0x2000u;
        c->dr[6] |= DR6_BD;
        cpu_raise(c, EXC_DB, 0, false);
    }
}
