/* Hardware task switching and the TSS: the switch itself (JMP, CALL, INT
 * and IRET through TSS descriptors and task gates), the stack pointers of
 * the inner levels, the I/O permission bitmap and the V86 interrupt
 * redirection bitmap.  SDM vol. 3, chapter 7 (task management), 20.3.3
 * (redirection bitmap); vol. 1, 19.5 (I/O permission bitmap). */
#include "cpu/paging.h"
#include "cpu/system.h"

/* 32-bit TSS offsets (SDM vol. 3, figure 7-2). */
enum {
    T32_LINK = 0x00,
    T32_ESP0 = 0x04,
    T32_CR3 = 0x1C,
    T32_EIP = 0x20,
    T32_EFLAGS = 0x24,
    T32_REGS = 0x28,
    T32_SEGS = 0x48,
    T32_LDT = 0x60,
    T32_TRAP = 0x64,
    T32_IOMAP = 0x66,
    T32_MIN_LIMIT = 0x67,
};
/* 16-bit TSS offsets (SDM vol. 3, figure 7-11). */
enum {
    T16_LINK = 0x00,
    T16_SP0 = 0x02,
    T16_IP = 0x0E,
    T16_FLAGS = 0x10,
    T16_REGS = 0x12,
    T16_SEGS = 0x22,
    T16_LDT = 0x2A,
    T16_MIN_LIMIT = 0x2B,
};

static bool tss32(unsigned type)
{
    return type & 8;
}
static bool tr_is32(const CpuState *c)
{
    return tss32(c->tr.attr & 0x1F);
}

/* The state a task switch loads. */
typedef struct TaskState {
    uint32_t cr3, eip, eflags, regs[8];
    uint16_t segs[6], ldt;
    bool trap;
} TaskState;

static void tss_read(CpuState *c, uint32_t base, bool is32, TaskState *t)
{
    memset(t, 0, sizeof *t);
    if (is32) {
        t->cr3 = sys_read(c, base + T32_CR3, 4);
        t->eip = sys_read(c, base + T32_EIP, 4);
        t->eflags = sys_read(c, base + T32_EFLAGS, 4);
        for (int r = 0; r < 8; r++)
            t->regs[r] = sys_read(c, base + T32_REGS + 4 * (uint32_t)r, 4);
        for (int s = 0; s < 6; s++)
            t->segs[s] = (uint16_t)sys_read(c, base + T32_SEGS + 4 * (uint32_t)s, 2);
        t->ldt = (uint16_t)sys_read(c, base + T32_LDT, 2);
        t->trap = sys_read(c, base + T32_TRAP, 2) & 1;
    } else {
        /* A 16-bit TSS holds the low halves of the registers; the upper
         * halves keep their values (as on the Intel386 and later), FS and
         * GS become null. */
        t->eip = sys_read(c, base + T16_IP, 2);
        t->eflags = sys_read(c, base + T16_FLAGS, 2);
        for (int r = 0; r < 8; r++)
            t->regs[r] =
                (c->regs[r] & 0xFFFF0000u) | sys_read(c, base + T16_REGS + 2 * (uint32_t)r, 2);
        for (int s = 0; s < 4; s++)
            t->segs[s] = (uint16_t)sys_read(c, base + T16_SEGS + 2 * (uint32_t)s, 2);
        t->ldt = (uint16_t)sys_read(c, base + T16_LDT, 2);
    }
}

/* Save the dynamic fields of the outgoing task (SDM vol. 3, 7.3 step 10). */
static void tss_save(CpuState *c, uint32_t next_eip, uint32_t eflags)
{
    uint32_t base = c->tr.base;
    if (tr_is32(c)) {
        sys_write(c, base + T32_EIP, next_eip, 4);
        sys_write(c, base + T32_EFLAGS, eflags, 4);
        for (int r = 0; r < 8; r++)
            sys_write(c, base + T32_REGS + 4 * (uint32_t)r, c->regs[r], 4);
        for (int s = 0; s < 6; s++)
            sys_write(c, base + T32_SEGS + 4 * (uint32_t)s, c->seg[s].sel, 2);
    } else {
        sys_write(c, base + T16_IP, next_eip & 0xFFFF, 2);
        sys_write(c, base + T16_FLAGS, eflags & 0xFFFF, 2);
        for (int r = 0; r < 8; r++)
            sys_write(c, base + T16_REGS + 2 * (uint32_t)r, c->regs[r] & 0xFFFF, 2);
        for (int s = 0; s < 4; s++)
            sys_write(c, base + T16_SEGS + 2 * (uint32_t)s, c->seg[s].sel, 2);
    }
}

/* Segment loads of the incoming task, after the commit point: errors are
 * #TS(sel | ext) (#NP / #SS for a segment not present) raised in the
 * context of the new task (SDM vol. 3, 7.3 step 13 and table 7-1). */
static void task_load_ldt(CpuState *c, uint16_t sel, int ext)
{
    int err = (sel & 0xFFFC) | ext;
    if ((sel & 0xFFFC) == 0)
        return; /* LDTR already null */
    if (sel & 4)
        cpu_raise(c, EXC_TS, err, true);
    Desc d;
    desc_load(c, sel, &d, EXC_TS, ext);
    if (desc_type(&d) != SYS_LDT)
        cpu_raise(c, EXC_TS, err, true);
    if (!desc_present(&d))
        cpu_raise(c, EXC_TS, err, true);
    desc_to_cache(&c->ldtr, sel, &d);
}

static void task_load_cs(CpuState *c, uint16_t sel, int ext)
{
    int err = (sel & 0xFFFC) | ext;
    if ((sel & 0xFFFC) == 0)
        cpu_raise(c, EXC_TS, ext, true);
    Desc d;
    desc_load(c, sel, &d, EXC_TS, ext);
    unsigned type = desc_type(&d), dpl = desc_dpl(&d), rpl = sel & 3;
    if (!DT_CODE(type) || (DT_CONFORMING(type) ? dpl > rpl : dpl != rpl))
        cpu_raise(c, EXC_TS, err, true);
    if (!desc_present(&d))
        cpu_raise(c, EXC_NP, err, true);
    desc_set_accessed(c, sel, &d);
    desc_to_cache(&c->seg[SEG_CS], sel, &d);
}

static void task_load_data(CpuState *c, int seg, uint16_t sel, int ext)
{
    int err = (sel & 0xFFFC) | ext;
    if ((sel & 0xFFFC) == 0) {
        seg_set_null(c, seg, sel);
        return;
    }
    Desc d;
    desc_load(c, sel, &d, EXC_TS, ext);
    unsigned type = desc_type(&d), dpl = desc_dpl(&d), rpl = sel & 3;
    if (!DT_READABLE(type))
        cpu_raise(c, EXC_TS, err, true);
    if (!DT_CONFORMING(type) && (dpl < (unsigned)c->cpl || dpl < rpl))
        cpu_raise(c, EXC_TS, err, true);
    if (!desc_present(&d))
        cpu_raise(c, EXC_NP, err, true);
    desc_set_accessed(c, sel, &d);
    desc_to_cache(&c->seg[seg], sel, &d);
}

void task_switch(CpuState *c, uint16_t sel, const Desc *d, int reason, uint32_t next_eip, int ext)
{
    unsigned type = desc_type(d);
    bool new32 = tss32(type);
    uint32_t base = desc_base(d), limit = desc_limit(d);
    int err = (sel & 0xFFFC) | ext;
    /* The new TSS must hold at least the fields a switch reads (7.2.2). */
    if (limit < (new32 ? (uint32_t)T32_MIN_LIMIT : (uint32_t)T16_MIN_LIMIT))
        cpu_raise(c, EXC_TS, err, true);
    /* And so must the current one, for the fields a switch writes. */
    bool old32 = tr_is32(c);
    if (c->tr.limit < (old32 ? (uint32_t)T32_LDT - 1 : (uint32_t)T16_LDT - 1))
        cpu_raise(c, EXC_TS, (c->tr.sel & 0xFFFC) | ext, true);
    /* Everything that can fault before the commit point: read the new
     * state, write the old one, update the busy bits and the link. */
    TaskState t;
    tss_read(c, base, new32, &t);
    uint32_t old_flags = cpu_get_eflags(c);
    if (reason == TS_IRET)
        old_flags &= ~FL_NT;
    uint16_t old_tr = c->tr.sel;
    /* With no task register loaded yet there is no old descriptor. */
    if ((reason == TS_JMP || reason == TS_IRET) && (old_tr & 0xFFFC))
        desc_set_busy(c, old_tr, false);
    tss_save(c, next_eip, old_flags);
    if (reason == TS_CALL || reason == TS_INT) {
        t.eflags |= FL_NT;
        sys_write(c, base + T32_LINK, old_tr, 2);
    }
    if (reason != TS_IRET)
        desc_set_busy(c, sel, true);

    /* Commit: TR, CR0.TS, CR3, registers (SDM vol. 3, 7.3 steps 11-12). */
    Desc busy = *d;
    busy.hi |= 0x200;
    desc_to_cache(&c->tr, sel, &busy);
    c->cr0 |= CR0_TS;
    /* Through the paging code so that PAE reloads the PDPTEs and global
     * TLB entries survive (SDM vol. 3, 4.4.1 and 4.10.4.1); a bad PDPTE
     * faults in the new task's context. */
    bool cr3_ok = !(new32 && (c->cr0 & CR0_PG)) || paging_load_cr3(c, t.cr3);
    memcpy(c->regs, t.regs, sizeof t.regs);
    cpu_set_eflags(c, new32 ? t.eflags : t.eflags & 0xFFFF);
    c->eip = new32 ? t.eip : t.eip & 0xFFFF;
    /* Local breakpoint enables belong to the old task (17.2.4). */
    c->dr[7] &= ~0x155u;
    c->stop_block = true;
    if (!cr3_ok)
        cpu_gp0(c);

    /* Segment registers: selectors first, with unusable caches, so that a
     * fault while loading them finds the new task's selectors. */
    c->ldtr.sel = t.ldt;
    c->ldtr.attr = 0;
    c->ldtr.base = c->ldtr.limit = 0;
    for (int s = 0; s < 6; s++)
        seg_set_null(c, s, t.segs[s]);
    if (c->eflags & FL_VM) {
        /* A V86 task: real-mode style segments at CPL 3. */
        c->cpl = 3;
        task_load_ldt(c, t.ldt, ext);
        for (int s = 0; s < 6; s++)
            cpu_load_seg_real(c, s, t.segs[s]);
    } else {
        c->cpl = t.segs[SEG_CS] & 3;
        seg_update_mode(c);
        task_load_ldt(c, t.ldt, ext);
        task_load_cs(c, t.segs[SEG_CS], ext);
        Desc sd;
        seg_check_stack(c, t.segs[SEG_SS], &sd, c->cpl, EXC_TS, ext);
        desc_set_accessed(c, t.segs[SEG_SS], &sd);
        desc_to_cache(&c->seg[SEG_SS], t.segs[SEG_SS], &sd);
        static const int data[4] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
        for (int k = 0; k < 4; k++)
            task_load_data(c, data[k], t.segs[data[k]], ext);
    }
    seg_update_mode(c);
    if (t.trap)
        c->dr6_pending |= DR6_BT; /* #DB before the first instruction (17.3.1.5) */
    if (c->eip > c->seg[SEG_CS].limit)
        cpu_raise(c, EXC_GP, ext, true);
}

void task_stack(CpuState *c, int pl, uint16_t *ss, uint32_t *esp, bool intr, int ext)
{
    int err = (c->tr.sel & 0xFFFC) | ext;
    if (tr_is32(c)) {
        /* Interrupt delivery checks 8 bytes, CALL the 6 it reads (vol. 2,
         * INT n and CALL). */
        uint32_t off = T32_ESP0 + 8 * (uint32_t)pl;
        if (off + (intr ? 7 : 5) > c->tr.limit)
            cpu_raise(c, EXC_TS, err, true);
        *esp = sys_read(c, c->tr.base + off, 4);
        *ss = (uint16_t)sys_read(c, c->tr.base + off + 4, 2);
    } else {
        uint32_t off = T16_SP0 + 4 * (uint32_t)pl;
        if (off + 3 > c->tr.limit)
            cpu_raise(c, EXC_TS, err, true);
        *esp = sys_read(c, c->tr.base + off, 2);
        *ss = (uint16_t)sys_read(c, c->tr.base + off + 2, 2);
    }
}

/* The bitmap starts at the 16-bit offset at 0x66 of a 32-bit TSS; every
 * bit of the accessed ports must be clear and the bytes holding them
 * within the TSS limit.  A 16-bit TSS has no bitmap. */
bool task_io_allowed(CpuState *c, uint16_t port, unsigned size)
{
    if (!tr_is32(c) || (c->tr.sel & 0xFFFC) == 0 || c->tr.limit < T32_MIN_LIMIT)
        return false;
    uint32_t map = sys_read(c, c->tr.base + T32_IOMAP, 2);
    uint32_t off = map + port / 8;
    if ((uint64_t)off + 1 > c->tr.limit)
        return false;
    uint32_t bits = sys_read(c, c->tr.base + off, 2);
    uint32_t want = ((1u << size) - 1) << (port & 7);
    return !(bits & want);
}

/* The 32-byte redirection bitmap sits just below the I/O bitmap (SDM vol.
 * 3, 20.3.3.4). */
bool task_int_redirected(CpuState *c, int vector)
{
    if (!tr_is32(c) || c->tr.limit < T32_MIN_LIMIT)
        cpu_gp0(c);
    uint32_t map = sys_read(c, c->tr.base + T32_IOMAP, 2);
    uint32_t off = map - 32 + (uint32_t)vector / 8;
    if (map < 32 || off > c->tr.limit)
        cpu_gp0(c);
    return !((sys_read(c, c->tr.base + off, 1) >> (vector & 7)) & 1);
}
