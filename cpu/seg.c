/* Segment registers: the hidden descriptor caches, segment loads with the
 * protection checks, and far JMP/CALL/RET through code segments, call
 * gates, task gates and TSSs.  SDM vol. 3, chapter 3 (segmentation), 5.3-5.8
 * (protection checks, privilege levels, call gates), and the JMP, CALL,
 * RET and MOV pages of vol. 2. */
#include "cpu/system.h"

/* ---- Hidden caches ------------------------------------------------------- */

/* The fast path checks an access against [rlo, rhi] (reads) or [wlo, whi]
 * (writes); an empty range (lo > hi) makes every access fault.  In real
 * and V86 mode the cached limit applies but the type does not (this is
 * what makes unreal mode work); in protected mode a null or not-present
 * cache is unusable, code is not writable and execute-only code not
 * readable (SDM vol. 3, 5.3 and 5.5). */
void seg_cache_ranges_pm(SegCache *s, int idx, bool pm)
{
    uint16_t a = s->attr;
    bool present = a & SEG_ATTR_P;
    bool code = (a & 0x18) == 0x18;
    bool data = (a & 0x18) == 0x10;
    bool expand_down = data && (a & 0x04);
    bool writable = data && (a & 0x02);
    bool readable = data || (code && (a & 0x02));
    if (!pm) {
        readable = writable = true;
        present = true;
    }
    if (!present || (idx != SEG_CS && pm && !(a & SEG_ATTR_S))) {
        s->rlo = s->wlo = 1;
        s->rhi = s->whi = 0;
        return;
    }
    uint32_t lo = 0, hi = s->limit;
    if (expand_down) {
        /* Valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF by the B flag
         * (SDM vol. 3, 3.4.5.1). */
        lo = s->limit + 1;
        hi = (a & SEG_ATTR_DB) ? 0xFFFFFFFFu : 0xFFFF;
        if (s->limit == 0xFFFFFFFFu) {
            lo = 1;
            hi = 0;
        }
    }
    s->rlo = readable ? lo : 1;
    s->rhi = readable ? hi : 0;
    s->wlo = writable ? lo : 1;
    s->whi = writable ? hi : 0;
}

static void seg_cache_ranges(CpuState *c, SegCache *s, int idx)
{
    seg_cache_ranges_pm(s, idx, !real_or_v86(c));
}

void seg_update_mode(CpuState *c)
{
    bool pm = !real_or_v86(c);
    c->code32 = pm && (c->seg[SEG_CS].attr & SEG_ATTR_DB);
    c->stack32 = pm && (c->seg[SEG_SS].attr & SEG_ATTR_DB);
    /* In real mode CS and SS keep the D/B bit they were cached with
     * (unreal mode); V86 mode is always 16-bit. */
    if (!(c->cr0 & CR0_PE)) {
        c->code32 = c->seg[SEG_CS].attr & SEG_ATTR_DB;
        c->stack32 = c->seg[SEG_SS].attr & SEG_ATTR_DB;
    }
    c->tlb_cur = c->tlb[c->cpl == 3];
    for (int k = 0; k < 6; k++)
        seg_cache_ranges(c, &c->seg[k], k);
}

void cpu_set_seg_cache(CpuState *c, int seg, uint16_t sel, uint32_t base, uint32_t limit,
                       uint16_t attr)
{
    SegCache *s = &c->seg[seg];
    s->sel = sel;
    s->base = base;
    s->limit = limit;
    s->attr = attr;
    seg_update_mode(c);
}

void cpu_load_seg_real(CpuState *c, int seg, uint16_t sel)
{
    /* Real mode: only selector and base change; the limit and attributes
     * stay as cached (SDM vol. 3, 20.1.1).  V86 mode forces a 64 KiB
     * writable DPL 3 segment (SDM vol. 3, 20.2.1). */
    SegCache *s = &c->seg[seg];
    s->sel = sel;
    s->base = (uint32_t)sel << 4;
    if (c->eflags & FL_VM) {
        s->limit = 0xFFFF;
        s->attr = SEG_ATTR_P | SEG_ATTR_S | 0x03 | (seg == SEG_CS ? 0x08 : 0) | 0x60;
    }
    if (seg == SEG_CS || seg == SEG_SS)
        seg_update_mode(c);
    else
        seg_cache_ranges(c, s, seg);
}

void cpu_set_flat32(CpuState *c)
{
    c->cr0 |= CR0_PE;
    c->cpl = 0;
    c->eflags &= ~FL_VM;
    for (int k = 0; k < 6; k++) {
        uint16_t attr =
            SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G | (k == SEG_CS ? 0x0B : 0x03);
        c->seg[k].sel = k == SEG_CS ? 0x08 : 0x10;
        c->seg[k].base = 0;
        c->seg[k].limit = 0xFFFFFFFFu;
        c->seg[k].attr = attr;
    }
    seg_update_mode(c);
    cpu_tlb_flush(c);
}

void seg_set_null(CpuState *c, int seg, uint16_t sel)
{
    SegCache *s = &c->seg[seg];
    s->sel = sel;
    s->base = 0;
    s->limit = 0;
    s->attr = 0;
    seg_cache_ranges_pm(s, seg, true);
}

/* ---- Implicit accesses ----------------------------------------------------- */

uint32_t sys_read(CpuState *c, uint32_t lin, unsigned size)
{
    TlbEntry *saved = c->tlb_cur;
    c->tlb_cur = c->tlb[0];
    uint32_t v = lin_read(c, lin, size);
    c->tlb_cur = saved;
    return v;
}

void sys_write(CpuState *c, uint32_t lin, uint32_t v, unsigned size)
{
    TlbEntry *saved = c->tlb_cur;
    c->tlb_cur = c->tlb[0];
    lin_write(c, lin, v, size);
    c->tlb_cur = saved;
}

void pl_write(CpuState *c, int pl, uint32_t lin, uint32_t v, unsigned size)
{
    TlbEntry *saved = c->tlb_cur;
    c->tlb_cur = c->tlb[pl == 3];
    lin_write(c, lin, v, size);
    c->tlb_cur = saved;
}

/* ---- Descriptors ------------------------------------------------------------ */

bool desc_fetch(CpuState *c, uint16_t sel, Desc *d)
{
    uint32_t base, limit;
    if (sel & 4) {
        /* A null LDTR makes every LDT reference fail (SDM vol. 2, LLDT). */
        if ((c->ldtr.sel & 0xFFFC) == 0 || !(c->ldtr.attr & SEG_ATTR_P))
            return false;
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdtr.base;
        limit = c->gdtr.limit;
    }
    uint32_t off = sel & ~7u;
    if ((uint64_t)off + 7 > limit)
        return false;
    d->lo = sys_read(c, base + off, 4);
    d->hi = sys_read(c, base + off + 4, 4);
    return true;
}

void desc_load(CpuState *c, uint16_t sel, Desc *d, int vector, int ext)
{
    if (!desc_fetch(c, sel, d))
        cpu_raise(c, vector, (sel & 0xFFFC) | ext, true);
}

static uint32_t desc_addr(const CpuState *c, uint16_t sel)
{
    return ((sel & 4) ? c->ldtr.base : c->gdtr.base) + (sel & ~7u);
}

/* Loading a segment register sets the accessed bit of its descriptor
 * (SDM vol. 3, 3.4.5.1). */
void desc_set_accessed(CpuState *c, uint16_t sel, Desc *d)
{
    if (!(d->hi & 0x1000) || (d->hi & 0x100))
        return;
    d->hi |= 0x100;
    sys_write(c, desc_addr(c, sel) + 5, (d->hi >> 8) & 0xFF, 1);
}

void desc_set_busy(CpuState *c, uint16_t sel, bool busy)
{
    uint32_t lin = c->gdtr.base + (sel & ~7u) + 5;
    uint32_t b = sys_read(c, lin, 1);
    b = busy ? b | 0x02 : b & ~0x02u;
    sys_write(c, lin, b, 1);
}

void desc_to_cache(SegCache *s, uint16_t sel, const Desc *d)
{
    s->sel = sel;
    s->base = desc_base(d);
    s->limit = desc_limit(d);
    s->attr = (uint16_t)((d->hi >> 8) & 0xF0FF);
}

/* ---- MOV/POP/LxS to a data or stack segment register ---------------------- */

void seg_load(CpuState *c, int seg, uint16_t sel)
{
    if (real_or_v86(c)) {
        cpu_load_seg_real(c, seg, sel);
        return;
    }
    /* SDM vol. 2, MOV (segment register loads in protected mode). */
    if ((sel & 0xFFFC) == 0) {
        /* A null selector may be loaded into a data segment register;
         * using it faults later.  Into SS it faults now. */
        if (seg == SEG_SS)
            cpu_gp0(c);
        seg_set_null(c, seg, sel);
        return;
    }
    Desc d;
    desc_load(c, sel, &d, EXC_GP, 0);
    unsigned type = desc_type(&d), dpl = desc_dpl(&d), rpl = sel & 3;
    int err = sel & 0xFFFC;
    if (seg == SEG_SS) {
        /* Writable data segment with RPL = DPL = CPL. */
        if (!DT_WRITABLE_DATA(type) || rpl != (unsigned)c->cpl || dpl != (unsigned)c->cpl)
            cpu_raise(c, EXC_GP, err, true);
        if (!desc_present(&d))
            cpu_raise(c, EXC_SS, err, true);
    } else {
        /* Data or readable code; for data and non-conforming code both RPL
         * and CPL must be <= DPL. */
        if (!DT_READABLE(type))
            cpu_raise(c, EXC_GP, err, true);
        if (!DT_CONFORMING(type) && (rpl > dpl || (unsigned)c->cpl > dpl))
            cpu_raise(c, EXC_GP, err, true);
        if (!desc_present(&d))
            cpu_raise(c, EXC_NP, err, true);
    }
    desc_set_accessed(c, sel, &d);
    desc_to_cache(&c->seg[seg], sel, &d);
    if (seg == SEG_SS)
        seg_update_mode(c);
    else
        seg_cache_ranges(c, &c->seg[seg], seg);
}

void seg_check_stack(CpuState *c, uint16_t sel, Desc *d, int pl, int vector, int ext)
{
    if ((sel & 0xFFFC) == 0)
        cpu_raise(c, vector, ext, true);
    desc_load(c, sel, d, vector, ext);
    int err = (sel & 0xFFFC) | ext;
    if ((sel & 3) != pl || desc_dpl(d) != (unsigned)pl || !DT_WRITABLE_DATA(desc_type(d)))
        cpu_raise(c, vector, err, true);
    if (!desc_present(d))
        cpu_raise(c, EXC_SS, err, true);
}

void seg_null_outer(CpuState *c)
{
    static const int segs[4] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
    for (int k = 0; k < 4; k++) {
        SegCache *s = &c->seg[segs[k]];
        unsigned type = s->attr & 0x1F, dpl = (s->attr >> 5) & 3;
        bool data_or_nc = DT_DATA(type) || (DT_CODE(type) && !DT_CONFORMING(type));
        if (data_or_nc && dpl < (unsigned)c->cpl)
            seg_set_null(c, segs[k], 0);
    }
}

/* ---- Stack frames ------------------------------------------------------------- */

void frame_init(Frame *f, const SegCache *ss, uint32_t esp, int pl, int err)
{
    f->ss = *ss;
    seg_cache_ranges_pm(&f->ss, SEG_SS, true);
    f->sp = esp;
    f->mask = (ss->attr & SEG_ATTR_DB) ? 0xFFFFFFFFu : 0xFFFF;
    f->pl = pl;
    f->err = err;
}

void frame_push(CpuState *c, Frame *f, uint32_t v, unsigned size)
{
    uint32_t sp = (f->sp - size) & f->mask;
    if (sp < f->ss.wlo || (uint64_t)sp + size - 1 > f->ss.whi)
        cpu_raise(c, EXC_SS, f->err, true);
    pl_write(c, f->pl, f->ss.base + sp, v, size);
    f->sp = (f->sp & ~f->mask) | sp;
}

void frame_current(CpuState *c, Frame *f)
{
    f->ss = c->seg[SEG_SS];
    f->sp = c->regs[R_ESP];
    f->mask = sp_mask(c);
    f->pl = c->cpl;
    f->err = 0;
}

void frame_commit_sp(CpuState *c, const Frame *f)
{
    c->regs[R_ESP] = (c->regs[R_ESP] & ~f->mask) | (f->sp & f->mask);
}

/* ---- Far transfers ------------------------------------------------------------- */

void seg_commit_cs(CpuState *c, uint16_t sel, const Desc *d, int cpl)
{
    desc_to_cache(&c->seg[SEG_CS], (uint16_t)((sel & ~3u) | (unsigned)cpl), d);
    c->cpl = cpl;
    seg_update_mode(c);
}

/* Real and V86 mode: the offset must fall within the cached CS limit
 * (#GP(0) otherwise, SDM vol. 2, JMP). */
static void far_real(CpuState *c, uint16_t sel, uint32_t off)
{
    if (off > c->seg[SEG_CS].limit)
        cpu_gp0(c);
    cpu_load_seg_real(c, SEG_CS, sel);
    c->eip = off;
}

/* Checks of a code segment named directly by JMP or CALL (SDM vol. 2, JMP:
 * conforming needs DPL <= CPL, non-conforming RPL <= CPL and DPL = CPL). */
static void check_direct_code(CpuState *c, uint16_t sel, const Desc *d, uint32_t off)
{
    unsigned type = desc_type(d), dpl = desc_dpl(d);
    int err = sel & 0xFFFC;
    if (DT_CONFORMING(type) ? dpl > (unsigned)c->cpl
                            : (dpl != (unsigned)c->cpl || (sel & 3u) > (unsigned)c->cpl))
        cpu_raise(c, EXC_GP, err, true);
    if (!desc_present(d))
        cpu_raise(c, EXC_NP, err, true);
    if (off > desc_limit(d))
        cpu_gp0(c);
}

/* Task gate or TSS named by JMP/CALL: DPL >= max(CPL, RPL), present, then
 * the TSS must be an available one in the GDT (SDM vol. 3, 7.3). */
static void far_task(CpuState *c, uint16_t sel, const Desc *d, int reason, uint32_t next_eip)
{
    unsigned type = desc_type(d), dpl = desc_dpl(d);
    int err = sel & 0xFFFC;
    if (dpl < (unsigned)c->cpl || dpl < (sel & 3u))
        cpu_raise(c, EXC_GP, err, true);
    if (!desc_present(d))
        cpu_raise(c, EXC_NP, err, true);
    if (type == SYS_TASK) {
        uint16_t tsel = gate_sel(d);
        Desc t;
        if (tsel & 4)
            cpu_raise(c, EXC_GP, tsel & 0xFFFC, true);
        desc_load(c, tsel, &t, EXC_GP, 0);
        unsigned tt = desc_type(&t);
        if (tt != SYS_TSS16 && tt != SYS_TSS32)
            cpu_raise(c, EXC_GP, tsel & 0xFFFC, true);
        if (!desc_present(&t))
            cpu_raise(c, EXC_NP, tsel & 0xFFFC, true);
        task_switch(c, tsel, &t, reason, next_eip, 0);
        return;
    }
    if (sel & 4)
        cpu_raise(c, EXC_GP, err, true);
    task_switch(c, sel, d, reason, next_eip, 0);
}

/* The target of a call gate: a present code segment with DPL <= CPL. */
static void gate_target(CpuState *c, const Desc *g, uint16_t *tsel, Desc *t)
{
    *tsel = gate_sel(g);
    if ((*tsel & 0xFFFC) == 0)
        cpu_gp0(c);
    desc_load(c, *tsel, t, EXC_GP, 0);
    if (!DT_CODE(desc_type(t)) || desc_dpl(t) > (unsigned)c->cpl)
        cpu_raise(c, EXC_GP, *tsel & 0xFFFC, true);
    if (!desc_present(t))
        cpu_raise(c, EXC_NP, *tsel & 0xFFFC, true);
}

/* The checks JMP and CALL share for a call gate (SDM vol. 2, JMP and
 * CALL): the gate's DPL against CPL and RPL, its presence, then its target
 * code segment.  Returns the target offset. */
static uint32_t call_gate_enter(CpuState *c, uint16_t sel, const Desc *g, uint16_t *tsel,
                                Desc *t)
{
    unsigned dpl = desc_dpl(g);
    int err = sel & 0xFFFC;
    if (dpl < (unsigned)c->cpl || dpl < (sel & 3u))
        cpu_raise(c, EXC_GP, err, true);
    if (!desc_present(g))
        cpu_raise(c, EXC_NP, err, true);
    gate_target(c, g, tsel, t);
    return gate_off(g, desc_type(g) == SYS_CALL32);
}

void far_jmp(CpuState *c, uint16_t sel, uint32_t off, uint32_t next_eip)
{
    if (real_or_v86(c)) {
        far_real(c, sel, off);
        return;
    }
    if ((sel & 0xFFFC) == 0)
        cpu_gp0(c);
    Desc d;
    desc_load(c, sel, &d, EXC_GP, 0);
    unsigned type = desc_type(&d);
    int err = sel & 0xFFFC;
    if (DT_CODE(type)) {
        check_direct_code(c, sel, &d, off);
        desc_set_accessed(c, sel, &d);
        seg_commit_cs(c, sel, &d, c->cpl);
        c->eip = off;
        return;
    }
    switch (type) {
    case SYS_CALL16:
    case SYS_CALL32: {
        /* JMP through a call gate never changes privilege: the target must
         * be conforming or have DPL = CPL (SDM vol. 2, JMP). */
        uint16_t tsel;
        Desc t;
        uint32_t toff = call_gate_enter(c, sel, &d, &tsel, &t);
        if (!DT_CONFORMING(desc_type(&t)) && desc_dpl(&t) != (unsigned)c->cpl)
            cpu_raise(c, EXC_GP, tsel & 0xFFFC, true);
        if (toff > desc_limit(&t))
            cpu_gp0(c);
        desc_set_accessed(c, tsel, &t);
        seg_commit_cs(c, tsel, &t, c->cpl);
        c->eip = toff;
        return;
    }
    case SYS_TASK:
    case SYS_TSS16:
    case SYS_TSS32:
        far_task(c, sel, &d, TS_JMP, next_eip);
        return;
    default:
        cpu_raise(c, EXC_GP, err, true);
    }
}

/* CALL through a call gate to a more privileged non-conforming segment:
 * switch to the stack of the target level from the TSS, push the caller's
 * SS:ESP, copy the gate's parameter count of words or dwords from the
 * caller's stack, push the return address (SDM vol. 3, 5.8.5-5.8.6). */
static void call_gate_inner(CpuState *c, const Desc *g, uint16_t tsel, Desc *t, uint32_t toff,
                            uint32_t next_eip)
{
    int npl = (int)desc_dpl(t);
    bool gate32 = desc_type(g) == SYS_CALL32;
    unsigned sz = gate32 ? 4 : 2;
    unsigned count = g->hi & 0x1F;
    uint16_t nss;
    uint32_t nesp;
    task_stack(c, npl, &nss, &nesp, false, 0);
    Desc sd;
    seg_check_stack(c, nss, &sd, npl, EXC_TS, 0);
    SegCache ss;
    desc_to_cache(&ss, nss, &sd);
    if (toff > desc_limit(t))
        cpu_gp0(c);
    Frame f;
    frame_init(&f, &ss, nesp, npl, nss & 0xFFFC);
    uint32_t osp = c->regs[R_ESP];
    frame_push(c, &f, c->seg[SEG_SS].sel, sz);
    frame_push(c, &f, osp & (gate32 ? ~0u : 0xFFFF), sz);
    /* Parameters keep their order: the deepest one is pushed first. */
    for (unsigned k = count; k-- > 0;) {
        uint32_t v = mem_read(c, SEG_SS, (osp + k * sz) & sp_mask(c), sz);
        frame_push(c, &f, v, sz);
    }
    frame_push(c, &f, c->seg[SEG_CS].sel, sz);
    frame_push(c, &f, next_eip & (gate32 ? ~0u : 0xFFFF), sz);
    /* Commit. */
    desc_set_accessed(c, nss, &sd);
    desc_set_accessed(c, tsel, t);
    desc_to_cache(&c->seg[SEG_SS], nss, &sd);
    c->regs[R_ESP] = f.sp;
    seg_commit_cs(c, tsel, t, npl);
    c->eip = toff;
}

void far_call(CpuState *c, uint16_t sel, uint32_t off, unsigned opsize, uint32_t next_eip)
{
    uint32_t ret = next_eip & (opsize == 4 ? ~0u : 0xFFFF);
    if (real_or_v86(c)) {
        uint32_t sp = sp_get(c);
        uint16_t old_cs = c->seg[SEG_CS].sel;
        mem_probe_write(c, SEG_SS, (sp - 2 * opsize) & sp_mask(c), 2 * opsize);
        far_real(c, sel, off);
        push(c, old_cs, opsize);
        push(c, ret, opsize);
        return;
    }
    if ((sel & 0xFFFC) == 0)
        cpu_gp0(c);
    Desc d;
    desc_load(c, sel, &d, EXC_GP, 0);
    unsigned type = desc_type(&d);
    int err = sel & 0xFFFC;
    Frame f;
    if (DT_CODE(type)) {
        check_direct_code(c, sel, &d, off);
        frame_current(c, &f);
        frame_push(c, &f, c->seg[SEG_CS].sel, opsize);
        frame_push(c, &f, ret, opsize);
        desc_set_accessed(c, sel, &d);
        frame_commit_sp(c, &f);
        seg_commit_cs(c, sel, &d, c->cpl);
        c->eip = off;
        return;
    }
    switch (type) {
    case SYS_CALL16:
    case SYS_CALL32: {
        uint16_t tsel;
        Desc t;
        uint32_t toff = call_gate_enter(c, sel, &d, &tsel, &t);
        bool gate32 = type == SYS_CALL32;
        if (!DT_CONFORMING(desc_type(&t)) && desc_dpl(&t) < (unsigned)c->cpl) {
            call_gate_inner(c, &d, tsel, &t, toff, next_eip);
            return;
        }
        /* Same privilege: the gate's size decides the pushes. */
        unsigned sz = gate32 ? 4 : 2;
        if (toff > desc_limit(&t))
            cpu_gp0(c);
        frame_current(c, &f);
        frame_push(c, &f, c->seg[SEG_CS].sel, sz);
        frame_push(c, &f, next_eip & (gate32 ? ~0u : 0xFFFF), sz);
        desc_set_accessed(c, tsel, &t);
        frame_commit_sp(c, &f);
        seg_commit_cs(c, tsel, &t, c->cpl);
        c->eip = toff;
        return;
    }
    case SYS_TASK:
    case SYS_TSS16:
    case SYS_TSS32:
        far_task(c, sel, &d, TS_CALL, next_eip);
        return;
    default:
        cpu_raise(c, EXC_GP, err, true);
    }
}

/* SDM vol. 2, RET (RETURN-TO-SAME/OUTER-PRIVILEGE-LEVEL checks). */
void seg_check_return_cs(CpuState *c, uint16_t sel, Desc *d)
{
    if ((sel & 0xFFFC) == 0)
        cpu_gp0(c);
    desc_load(c, sel, d, EXC_GP, 0);
    unsigned type = desc_type(d), dpl = desc_dpl(d), rpl = sel & 3;
    int err = sel & 0xFFFC;
    if (rpl < (unsigned)c->cpl || !DT_CODE(type))
        cpu_raise(c, EXC_GP, err, true);
    if (DT_CONFORMING(type) ? dpl > rpl : dpl != rpl)
        cpu_raise(c, EXC_GP, err, true);
    if (!desc_present(d))
        cpu_raise(c, EXC_NP, err, true);
}

void far_ret(CpuState *c, unsigned opsize, uint32_t imm)
{
    uint32_t sp = sp_get(c);
    uint32_t m = sp_mask(c);
    uint32_t off = mem_read(c, SEG_SS, sp, opsize);
    uint16_t sel = (uint16_t)mem_read(c, SEG_SS, (sp + opsize) & m, opsize);
    if (real_or_v86(c)) {
        far_real(c, sel, off);
        sp_set(c, sp + 2 * opsize + imm);
        return;
    }
    Desc d;
    seg_check_return_cs(c, sel, &d);
    int rpl = sel & 3;
    if (rpl == c->cpl) {
        if (off > desc_limit(&d))
            cpu_gp0(c);
        desc_set_accessed(c, sel, &d);
        seg_commit_cs(c, sel, &d, rpl);
        c->eip = off;
        sp_set(c, sp + 2 * opsize + imm);
        return;
    }
    /* Return to an outer level: the caller's SS:ESP follows the parameters
     * (SDM vol. 2, RET, RETURN-TO-OUTER-PRIVILEGE-LEVEL). */
    uint32_t sp2 = sp + 2 * opsize + imm;
    uint32_t nesp = mem_read(c, SEG_SS, sp2 & m, opsize);
    uint16_t nss = (uint16_t)mem_read(c, SEG_SS, (sp2 + opsize) & m, opsize);
    Desc sd;
    seg_check_stack(c, nss, &sd, rpl, EXC_GP, 0);
    if (off > desc_limit(&d))
        cpu_gp0(c);
    desc_set_accessed(c, sel, &d);
    desc_set_accessed(c, nss, &sd);
    desc_to_cache(&c->seg[SEG_SS], nss, &sd);
    seg_commit_cs(c, sel, &d, rpl);
    c->eip = off;
    if (opsize == 2)
        nesp &= 0xFFFF;
    if (c->stack32)
        c->regs[R_ESP] = nesp + imm;
    else
        reg16_set(c, R_ESP, nesp + imm);
    seg_null_outer(c);
}

/* Kept for callers that want a plain far jump with no return address. */
void seg_load_cs_far(CpuState *c, uint16_t sel, uint32_t off)
{
    far_jmp(c, sel, off, c->eip);
}
