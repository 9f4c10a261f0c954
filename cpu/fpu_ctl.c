/* x87 state and control: reset and FNINIT, the status/control/tag words,
 * error reporting (#MF / FERR#), #NM, the instruction and data pointers,
 * the FLDENV/FSTENV/FSAVE/FRSTOR images in their four formats, FXSAVE /
 * FXRSTOR, FWAIT and the control instructions.  SDM vol. 1, 8.1 and 8.7;
 * vol. 2 instruction pages; vol. 3, table 2-2 (#NM) and table 9-1 (reset).
 */
#include "cpu/simd.h"

/* ---- Words and reset ---------------------------------------------------------- */

/* FSTENV/FSAVE tag of one physical register (SDM vol. 1, 8.1.7): 00 valid,
 * 01 zero, 10 special (NaN, infinity, denormal, unsupported), 11 empty. */
static unsigned tag_of(F80 v)
{
    switch (f80_class(v)) {
    case FPC_NORMAL: return 0;
    case FPC_ZERO: return 1;
    default: return 2;
    }
}

uint16_t fpu_tag_word(const FpuState *f)
{
    uint16_t tw = 0;
    for (int r = 0; r < 8; r++)
        tw |= (uint16_t)(((f->valid >> r) & 1 ? tag_of(f->st[r]) : 3) << (2 * r));
    return tw;
}

static void set_ferr(CpuState *c, bool level)
{
    FpuState *f = &c->fpu;
    if (f->ferr == level)
        return;
    f->ferr = level;
    if (f->ferr_hook)
        f->ferr_hook(f->ferr_opaque, level);
}

void fpu_update_es(CpuState *c)
{
    FpuState *f = &c->fpu;
    bool es = (f->sw & ~f->cw & FSW_EXC) != 0;
    /* SF rides on IE: a stack fault is an invalid-operation exception. */
    if (es)
        f->sw |= FSW_ES | FSW_B;
    else
        f->sw &= ~(FSW_ES | FSW_B);
    /* MS-DOS compatibility mode: FERR# follows ES (SDM vol. 1, D.2). */
    set_ferr(c, es && !(c->cr0 & CR0_NE));
}

void fpu_raise(CpuState *c, uint16_t exc)
{
    FpuState *f = &c->fpu;
    f->sw |= exc & (FSW_EXC | FSW_SF);
    if (exc & ~f->cw & FSW_EXC)
        fpu_update_es(c);
}

void fpu_load_sw(CpuState *c, uint16_t sw)
{
    FpuState *f = &c->fpu;
    f->top = (sw >> 11) & 7;
    f->sw = sw & ~FSW_TOP;
    fpu_update_es(c);
}

void fpu_load_cw(CpuState *c, uint16_t cw)
{
    /* Bits 6 and 13-15 are reserved; bit 6 reads back as 1 on the 387 and
     * later (SDM vol. 1, figure 8-6), the others as 0. */
    c->fpu.cw = (uint16_t)((cw & 0x1F3F) | 0x0040);
    fpu_update_es(c);
}

void fpu_init_state(CpuState *c)
{
    FpuState *f = &c->fpu;
    f->cw = 0x037F;
    f->sw = 0;
    f->top = 0;
    f->valid = 0;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
    set_ferr(c, false);
}

void fpu_reset(CpuState *c)
{
    FpuState *f = &c->fpu;
    fpu_init_state(c);
    /* Power-up values of SDM vol. 3, table 9-1: control word 0040H, tag
     * word 5555H (every register +0.0), MXCSR 1F80H. */
    f->cw = 0x0040;
    f->valid = 0xFF;
    for (int r = 0; r < 8; r++)
        f->st[r] = (F80){0, 0};
    f->soft = !fpu_host_available();
    f->mxcsr = 0x1F80;
    memset(f->xmm, 0, sizeof f->xmm);
}

/* ---- Checks made at the start of an instruction ------------------------------------ */

void fpu_check_nm(CpuState *c)
{
    if (c->cr0 & (CR0_EM | CR0_TS))
        cpu_raise(c, EXC_NM, 0, false);
}

void fpu_check_pending(CpuState *c)
{
    if (!(c->fpu.sw & FSW_ES))
        return;
    /* Native mode: #MF at this (waiting) instruction, a fault whose return
     * address is this instruction (SDM vol. 1, 8.7.1).  Compatibility mode
     * asserted FERR# when the exception happened; the instruction then
     * proceeds as with IGNNE# asserted. */
    if (c->cr0 & CR0_NE)
        cpu_raise(c, EXC_MF, 0, false);
}

/* ModRM.mod of a memory form, which Insn does not keep: the encoding's
 * no-base forms are mod 0, otherwise the displacement length follows from
 * the instruction length less opcode, ModRM, SIB and the prefixes the
 * decoded flags imply. */
static unsigned insn_mod(const CpuState *c, const Insn *i)
{
    bool ad32 = i->flags & I_AD32;
    bool sib = ad32 && i->rm == 4;
    if (i->base == R_ZERO &&
        ((ad32 && (i->rm == 5 || sib)) || (!ad32 && i->rm == 6 && i->index == R_ZERO)))
        return 0;
    int npfx = !!(i->flags & I_SEGOVR) + (!!(i->flags & I_OP32) != c->code32) +
               (ad32 != c->code32) + !!(i->flags & (I_REP | I_REPNE)) + !!(i->flags & I_LOCK);
    int disp = i->len - 2 - sib - npfx;
    if (disp >= (ad32 ? 4 : 2))
        return 2;
    return disp >= 1 ? 1 : 0;
}

void fpu_note_insn(CpuState *c, const Insn *i)
{
    FpuState *f = &c->fpu;
    unsigned modrm;
    f->fip = c->eip;
    f->fcs = c->seg[SEG_CS].sel;
    if (i->flags & I_MEM) {
        modrm = insn_mod(c, i) << 6 | (unsigned)i->reg << 3 | i->rm;
        f->fdp = insn_ea(c, i);
        f->fds = c->seg[i->seg].sel;
    } else {
        modrm = 0xC0 | (unsigned)i->reg << 3 | i->rm;
    }
    f->fop = (uint16_t)((i->op & 7) << 8 | modrm);
}

/* ---- Memory images ---------------------------------------------------------------- */

void fpu_mem_read(CpuState *c, int seg, uint32_t off, void *buf, unsigned n)
{
    uint32_t lin = seg_lin_r(c, seg, off, n);
    uint8_t *b = buf;
    unsigned k = 0;
    for (; k + 4 <= n; k += 4)
        st32_host(b + k, lin_read(c, lin + k, 4));
    for (; k + 2 <= n; k += 2)
        st16_host(b + k, (uint16_t)lin_read(c, lin + k, 2));
    for (; k < n; k++)
        b[k] = (uint8_t)lin_read(c, lin + k, 1);
}

void fpu_mem_write(CpuState *c, int seg, uint32_t off, const void *buf, unsigned n)
{
    uint32_t lin = seg_lin_w(c, seg, off, n);
    const uint8_t *b = buf;
    unsigned k = 0;
    if (n > 4)
        mem_probe_write(c, seg, off, n);
    for (; k + 4 <= n; k += 4)
        lin_write(c, lin + k, ld32_host(b + k), 4);
    for (; k + 2 <= n; k += 2)
        lin_write(c, lin + k, ld16_host(b + k), 2);
    for (; k < n; k++)
        lin_write(c, lin + k, b[k], 1);
}

/* ---- FSTENV / FLDENV images (SDM vol. 1, figures 8-9 to 8-12) --------------------- */

static bool real_format(const CpuState *c)
{
    return !(c->cr0 & CR0_PE) || (c->eflags & FL_VM);
}

/* Build the environment image: 28 bytes (32-bit operand size) or 14. */
static unsigned env_store(CpuState *c, const Insn *i, uint8_t *b)
{
    FpuState *f = &c->fpu;
    uint16_t sw = fpu_get_sw(f), tw = fpu_tag_word(f);
    bool op32 = i->flags & I_OP32;
    if (op32) {
        /* Reserved halves read as ones on the processors we compare with. */
        st32_host(b + 0, 0xFFFF0000u | f->cw);
        st32_host(b + 4, 0xFFFF0000u | sw);
        st32_host(b + 8, 0xFFFF0000u | tw);
        if (real_format(c)) {
            uint32_t ip = ((uint32_t)f->fcs << 4) + f->fip;
            uint32_t dp = ((uint32_t)f->fds << 4) + f->fdp;
            st32_host(b + 12, 0xFFFF0000u | (ip & 0xFFFF));
            st32_host(b + 16, ((ip >> 16) << 12) | (f->fop & 0x7FF));
            st32_host(b + 20, 0xFFFF0000u | (dp & 0xFFFF));
            st32_host(b + 24, (dp >> 16) << 12);
        } else {
            st32_host(b + 12, f->fip);
            st32_host(b + 16, (uint32_t)(f->fop & 0x7FF) << 16 | f->fcs);
            st32_host(b + 20, f->fdp);
            st32_host(b + 24, 0xFFFF0000u | f->fds);
        }
        return 28;
    }
    st16_host(b + 0, f->cw);
    st16_host(b + 2, sw);
    st16_host(b + 4, tw);
    if (real_format(c)) {
        uint32_t ip = ((uint32_t)f->fcs << 4) + f->fip;
        uint32_t dp = ((uint32_t)f->fds << 4) + f->fdp;
        st16_host(b + 6, (uint16_t)ip);
        st16_host(b + 8, (uint16_t)(((ip >> 16) & 15) << 12 | (f->fop & 0x7FF)));
        st16_host(b + 10, (uint16_t)dp);
        st16_host(b + 12, (uint16_t)(((dp >> 16) & 15) << 12));
    } else {
        st16_host(b + 6, (uint16_t)f->fip);
        st16_host(b + 8, f->fcs);
        st16_host(b + 10, (uint16_t)f->fdp);
        st16_host(b + 12, f->fds);
    }
    return 14;
}

/* Load an environment image.  The tag word only tells empty from not
 * empty: the processor recomputes the rest from the registers (8.1.7). */
static void env_load(CpuState *c, const Insn *i, const uint8_t *b)
{
    FpuState *f = &c->fpu;
    uint16_t cw, sw, tw;
    bool op32 = i->flags & I_OP32;
    if (op32) {
        cw = ld16_host(b + 0);
        sw = ld16_host(b + 4);
        tw = ld16_host(b + 8);
        if (real_format(c)) {
            uint32_t ip = ld16_host(b + 12) | (ld32_host(b + 16) >> 12 & 0xFFFF) << 16;
            uint32_t dp = ld16_host(b + 20) | (ld32_host(b + 24) >> 12 & 0xFFFF) << 16;
            f->fop = ld16_host(b + 16) & 0x7FF;
            f->fip = ip;
            f->fcs = 0;
            f->fdp = dp;
            f->fds = 0;
        } else {
            f->fip = ld32_host(b + 12);
            f->fcs = ld16_host(b + 16);
            f->fop = ld16_host(b + 18) & 0x7FF;
            f->fdp = ld32_host(b + 20);
            f->fds = ld16_host(b + 24);
        }
    } else {
        cw = ld16_host(b + 0);
        sw = ld16_host(b + 2);
        tw = ld16_host(b + 4);
        if (real_format(c)) {
            f->fip = ld16_host(b + 6) | (uint32_t)(ld16_host(b + 8) >> 12) << 16;
            f->fop = ld16_host(b + 8) & 0x7FF;
            f->fdp = ld16_host(b + 10) | (uint32_t)(ld16_host(b + 12) >> 12) << 16;
            f->fcs = f->fds = 0;
        } else {
            f->fip = ld16_host(b + 6);
            f->fcs = ld16_host(b + 8);
            f->fdp = ld16_host(b + 10);
            f->fds = ld16_host(b + 12);
        }
    }
    f->valid = 0;
    for (int r = 0; r < 8; r++)
        if (((tw >> (2 * r)) & 3) != 3)
            f->valid |= (uint8_t)(1u << r);
    c->fpu.cw = (uint16_t)((cw & 0x1F3F) | 0x0040);
    fpu_load_sw(c, sw);
}

static void st_to_bytes(const F80 *v, uint8_t *b)
{
    st32_host(b, (uint32_t)v->m);
    st32_host(b + 4, (uint32_t)(v->m >> 32));
    st16_host(b + 8, v->se);
}

static F80 st_from_bytes(const uint8_t *b)
{
    F80 v;
    v.m = ld32_host(b) | (uint64_t)ld32_host(b + 4) << 32;
    v.se = ld16_host(b + 8);
    return v;
}

/* FNSTENV: store, then mask every exception (SDM vol. 2, FSTENV). */
void fpu_fnstenv(CpuState *c, const Insn *i)
{
    uint8_t b[28];
    unsigned n = env_store(c, i, b);
    fpu_mem_write(c, i->seg, insn_ea(c, i), b, n);
    c->fpu.cw |= FCW_MASKS;
    fpu_update_es(c);
}

void fpu_fldenv(CpuState *c, const Insn *i)
{
    uint8_t b[28];
    unsigned n = (i->flags & I_OP32) ? 28 : 14;
    fpu_mem_read(c, i->seg, insn_ea(c, i), b, n);
    env_load(c, i, b);
}

void fpu_fnsave(CpuState *c, const Insn *i)
{
    uint8_t b[108];
    unsigned n = env_store(c, i, b);
    for (int k = 0; k < 8; k++)
        st_to_bytes(fpu_st(&c->fpu, k), b + n + 10 * k);
    fpu_mem_write(c, i->seg, insn_ea(c, i), b, n + 80);
    fpu_init_state(c);
}

void fpu_frstor(CpuState *c, const Insn *i)
{
    uint8_t b[108];
    unsigned n = (i->flags & I_OP32) ? 28 : 14;
    fpu_mem_read(c, i->seg, insn_ea(c, i), b, n + 80);
    env_load(c, i, b);
    for (int k = 0; k < 8; k++)
        *fpu_st(&c->fpu, k) = st_from_bytes(b + n + 10 * k);
}

/* ---- FXSAVE / FXRSTOR (SDM vol. 2, FXSAVE, table 3-53 legacy layout) -------------- */


static void fx_check(CpuState *c, const Insn *i)
{
    /* #NM as for x87 instructions (vol. 2, FXSAVE: CR0.TS or CR0.EM);
     * a memory operand that is not 16-byte aligned is #GP(0). */
    fpu_check_nm(c);
    simd_check_align16(c, i->seg, insn_ea(c, i));
}

void fpu_fxsave(CpuState *c, const Insn *i)
{
    FpuState *f = &c->fpu;
    uint8_t b[288];
    uint32_t off = insn_ea(c, i);
    fx_check(c, i);
    /* Bytes 288-511 (reserved, and available to software from 464) are
     * left as they are. */
    st16_host(b + 0, f->cw);
    st16_host(b + 2, fpu_get_sw(f));
    b[4] = 0;
    for (int k = 0; k < 8; k++)
        if ((f->valid >> k) & 1)
            b[4] |= (uint8_t)(1u << k);
    b[5] = 0;
    st16_host(b + 6, f->fop);
    st32_host(b + 8, f->fip);
    st16_host(b + 12, f->fcs);
    st16_host(b + 14, 0);
    st32_host(b + 16, f->fdp);
    st16_host(b + 20, f->fds);
    st16_host(b + 22, 0);
    st32_host(b + 24, f->mxcsr);
    st32_host(b + 28, MXCSR_SUPPORTED);
    for (int k = 0; k < 8; k++) {
        memset(b + 32 + 16 * k, 0, 16);
        st_to_bytes(fpu_st(f, k), b + 32 + 16 * k);
    }
    for (int k = 0; k < 8; k++)
        memcpy(b + 160 + 16 * k, f->xmm[k].b, 16);
    fpu_mem_write(c, i->seg, off, b, 288);
}

void fpu_fxrstor(CpuState *c, const Insn *i)
{
    FpuState *f = &c->fpu;
    uint8_t b[288];
    fx_check(c, i);
    fpu_mem_read(c, i->seg, insn_ea(c, i), b, 288);
    uint32_t mxcsr = ld32_host(b + 24);
    if (mxcsr & ~MXCSR_SUPPORTED)
        cpu_gp0(c);
    f->valid = b[4];
    f->fop = ld16_host(b + 6) & 0x7FF;
    f->fip = ld32_host(b + 8);
    f->fcs = ld16_host(b + 12);
    f->fdp = ld32_host(b + 16);
    f->fds = ld16_host(b + 20);
    f->top = (ld16_host(b + 2) >> 11) & 7;
    for (int k = 0; k < 8; k++)
        *fpu_st(f, k) = st_from_bytes(b + 32 + 16 * k);
    for (int k = 0; k < 8; k++)
        memcpy(f->xmm[k].b, b + 160 + 16 * k, 16);
    f->cw = (uint16_t)((ld16_host(b + 0) & 0x1F3F) | 0x0040);
    fpu_load_sw(c, ld16_host(b + 2));
    f->mxcsr = mxcsr;
}
