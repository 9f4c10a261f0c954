/* Segment registers: the hidden descriptor caches and segment loads.
 * SDM vol. 3, chapter 3 (segmentation) and 5.4-5.6 (checks). */
#include "cpu/cpu_impl.h"

/* Recompute the fast-path ranges from base/limit/attr. */
static void seg_cache_ranges(CpuState *c, SegCache *s, int idx)
{
    bool pm = (c->cr0 & CR0_PE) && !(c->eflags & FL_VM);
    uint16_t a = s->attr;
    bool present = a & SEG_ATTR_P;
    bool code = (a & 0x18) == 0x18;
    bool data = (a & 0x18) == 0x10;
    bool expand_down = data && (a & 0x04);
    bool writable = data && (a & 0x02);
    bool readable = data || (code && (a & 0x02));
    if (!pm) {
        /* Real and V86 mode: the cached limit applies, types do not (this is
         * what makes unreal mode work). */
        readable = writable = true;
        present = true;
    }
    if (!present || (idx != SEG_CS && pm && (s->sel & 0xFFFC) == 0 && !(a & SEG_ATTR_S))) {
        s->rlo = s->wlo = 1;
        s->rhi = s->whi = 0;
        return;
    }
    uint32_t lo = 0, hi = s->limit;
    if (expand_down) {
        lo = s->limit + 1;
        hi = (a & SEG_ATTR_DB) ? 0xFFFFFFFFu : 0xFFFF;
        if (s->limit == 0xFFFFFFFFu) {
            lo = 1;
            hi = 0;
        }
    }
    if (readable) {
        s->rlo = lo;
        s->rhi = hi;
    } else {
        s->rlo = 1;
        s->rhi = 0;
    }
    if (writable) {
        s->wlo = lo;
        s->whi = hi;
    } else {
        s->wlo = 1;
        s->whi = 0;
    }
}

void seg_update_mode(CpuState *c)
{
    c->code32 = (c->cr0 & CR0_PE) && !(c->eflags & FL_VM) && (c->seg[SEG_CS].attr & SEG_ATTR_DB);
    c->stack32 = (c->cr0 & CR0_PE) && !(c->eflags & FL_VM) && (c->seg[SEG_SS].attr & SEG_ATTR_DB);
    /* Unreal-mode style caches keep their D/B bit in real mode on real
     * hardware for SS/CS loaded in protected mode; follow the cache. */
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
    /* Real mode and V86 mode: only selector and base change; the limit and
     * attributes stay as cached (SDM vol. 3, 20.1.1), except that V86 mode
     * forces a 64 KiB writable segment. */
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
        uint16_t attr = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G |
                        (k == SEG_CS ? 0x0B : 0x03);
        c->seg[k].sel = k == SEG_CS ? 0x08 : 0x10;
        c->seg[k].base = 0;
        c->seg[k].limit = 0xFFFFFFFFu;
        c->seg[k].attr = attr;
    }
    seg_update_mode(c);
    cpu_tlb_flush(c);
}

/* Read the 8-byte descriptor for `sel` from the GDT or LDT; raises
 * #GP(sel) when the selector is outside the table. */
static void desc_read(CpuState *c, uint16_t sel, uint32_t d[2])
{
    uint32_t base = (sel & 4) ? c->ldtr.base : c->gdtr.base;
    uint32_t limit = (sel & 4) ? c->ldtr.limit : c->gdtr.limit;
    uint32_t off = sel & ~7u;
    if ((sel & 4) && (c->ldtr.sel & 0xFFFC) == 0)
        cpu_raise(c, EXC_GP, sel & 0xFFFC, true);
    if (off + 7 > limit)
        cpu_raise(c, EXC_GP, sel & 0xFFFC, true);
    /* Descriptor-table reads are supervisor accesses whatever the CPL. */
    TlbEntry *saved = c->tlb_cur;
    c->tlb_cur = c->tlb[0];
    d[0] = lin_read(c, base + off, 4);
    d[1] = lin_read(c, base + off + 4, 4);
    c->tlb_cur = saved;
}

static void desc_to_cache(SegCache *s, uint16_t sel, const uint32_t d[2])
{
    s->sel = sel;
    s->base = (d[0] >> 16) | ((d[1] & 0xFF) << 16) | (d[1] & 0xFF000000u);
    uint32_t limit = (d[0] & 0xFFFF) | (d[1] & 0x000F0000u);
    if (d[1] & (1u << 23))
        limit = (limit << 12) | 0xFFF;
    s->limit = limit;
    s->attr = (uint16_t)((d[1] >> 8) & 0xF0FF);
}

/* Set the accessed bit of a descriptor the way hardware does on a load. */
static void desc_set_accessed(CpuState *c, uint16_t sel, uint32_t d[2])
{
    if (d[1] & 0x100)
        return;
    d[1] |= 0x100;
    uint32_t base = (sel & 4) ? c->ldtr.base : c->gdtr.base;
    TlbEntry *saved = c->tlb_cur;
    c->tlb_cur = c->tlb[0];
    lin_write(c, base + (sel & ~7u) + 4, d[1], 4);
    c->tlb_cur = saved;
}

void seg_load(CpuState *c, int seg, uint16_t sel)
{
    if (!(c->cr0 & CR0_PE) || (c->eflags & FL_VM)) {
        cpu_load_seg_real(c, seg, sel);
        return;
    }
    SegCache *s = &c->seg[seg];
    int rpl = sel & 3;
    if ((sel & 0xFFFC) == 0) {
        /* A null selector may be loaded into a data segment register; using
         * it faults later.  Into SS it faults now (SDM vol. 2, MOV). */
        if (seg == SEG_SS)
            cpu_gp0(c);
        s->sel = sel;
        s->base = 0;
        s->limit = 0;
        s->attr = 0;
        seg_cache_ranges(c, s, seg);
        return;
    }
    uint32_t d[2];
    desc_read(c, sel, d);
    unsigned type = (d[1] >> 8) & 0x1F; /* S bit + type */
    unsigned dpl = (d[1] >> 13) & 3;
    bool present = d[1] & (1u << 15);
    int err = sel & 0xFFFC;
    if (seg == SEG_SS) {
        /* Writable data segment with RPL = DPL = CPL. */
        if ((type & 0x1A) != 0x12 || rpl != c->cpl || dpl != (unsigned)c->cpl)
            cpu_raise(c, EXC_GP, err, true);
        if (!present)
            cpu_raise(c, EXC_SS, err, true);
    } else {
        /* Data or readable code segment; for data and non-conforming code
         * both RPL and CPL must be <= DPL. */
        if (!(type & 0x10) || (type & 0x1A) == 0x18)
            cpu_raise(c, EXC_GP, err, true);
        bool conforming_code = (type & 0x1C) == 0x1C;
        if (!conforming_code && ((unsigned)rpl > dpl || (unsigned)c->cpl > dpl))
            cpu_raise(c, EXC_GP, err, true);
        if (!present)
            cpu_raise(c, EXC_NP, err, true);
    }
    desc_set_accessed(c, sel, d);
    desc_to_cache(s, sel, d);
    if (seg == SEG_SS)
        seg_update_mode(c);
    else
        seg_cache_ranges(c, s, seg);
}

void seg_load_cs_far(CpuState *c, uint16_t sel, uint32_t off)
{
    if (!(c->cr0 & CR0_PE) || (c->eflags & FL_VM)) {
        /* Real mode: the offset must fall within the cached CS limit
         * (#GP(0) otherwise, SDM vol. 2, JMP). */
        if (off > c->seg[SEG_CS].limit)
            cpu_gp0(c);
        cpu_load_seg_real(c, SEG_CS, sel);
        c->eip = off;
        return;
    }
    /* Protected mode: same-privilege transfer to a code segment.  Gates,
     * task switches and privilege changes belong to the system-architecture
     * work and are reported as unimplemented until then. */
    if ((sel & 0xFFFC) == 0)
        cpu_gp0(c);
    uint32_t d[2];
    desc_read(c, sel, d);
    unsigned type = (d[1] >> 8) & 0x1F;
    unsigned dpl = (d[1] >> 13) & 3;
    int err = sel & 0xFFFC;
    if ((type & 0x18) != 0x18) {
        cpu_log(c, LOG_UNIMP, "far transfer through system descriptor type %#x", type);
        cpu_raise(c, EXC_GP, err, true);
    }
    bool conforming = type & 0x04;
    if (conforming ? dpl > (unsigned)c->cpl : (dpl != (unsigned)c->cpl || (sel & 3) > c->cpl))
        cpu_raise(c, EXC_GP, err, true);
    if (!(d[1] & (1u << 15)))
        cpu_raise(c, EXC_NP, err, true);
    SegCache tmp;
    desc_to_cache(&tmp, (uint16_t)((sel & ~3) | c->cpl), d);
    if (off > tmp.limit)
        cpu_gp0(c);
    desc_set_accessed(c, sel, d);
    c->seg[SEG_CS] = tmp;
    c->eip = off;
    seg_update_mode(c);
}
