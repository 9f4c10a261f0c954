/* The x87 instructions, opcodes D8-DF and 9B (SDM vol. 2, the F* pages;
 * opcode maps in vol. 2, tables ).
 *
 * One handler set per escape opcode, with separate register and memory
 * forms, dispatching on ModRM.reg (and ModRM.rm for the D9/DA/DB/DE/DF
 * register groups).  The register stack, the stack faults (IE with SF;
 * C1 = 1 for overflow, 0 for underflow; the masked response writes the
 * indefinite) and the unmasked-exception responses live here; arithmetic
 * is in the back ends (fpu_impl.h).
 *
 * Unmasked responses, as the hardware gives them (checked by the fpu
 * suite): after an unmasked IE, DE or ZE a register destination is not
 * written and nothing is pushed or popped; a store to memory is also
 * suppressed (and not popped) by an unmasked OE or UE; compares still set
 * the condition codes; FLD m32/m64 of a denormal with DE unmasked still
 * loads it.
 */
#include "cpu/fpu_impl.h"

#define FP(f, name, ...) FP_PICK(f, name, __VA_ARGS__)

/* ---- Helpers ------------------------------------------------------------------- */

/* The start of a waiting, non-control instruction. */
static FpuState *begin(CpuState *c, const Insn *i)
{
    fpu_check_nm(c);
    fpu_check_pending(c);
    fpu_note_insn(c, i);
    return &c->fpu;
}

static inline bool unmasked(const FpuState *f, uint16_t sw, uint16_t which)
{
    return (sw & ~f->cw & which) != 0;
}

static inline bool ie_masked(const FpuState *f) { return f->cw & FSW_IE; }

static inline void set_c1(FpuState *f, bool v)
{
    f->sw = (uint16_t)(v ? (f->sw | FSW_C1) : (f->sw & ~FSW_C1));
}

/* Take the condition bits in `ccmask` from the operation, raise its flags. */
static void commit(CpuState *c, const FpCtx *x, uint16_t ccmask)
{
    FpuState *f = &c->fpu;
    f->sw = (uint16_t)((f->sw & ~ccmask) | (x->sw & ccmask));
    fpu_raise(c, x->sw);
}

static void stack_fault(CpuState *c, bool overflow)
{
    set_c1(&c->fpu, overflow);
    fpu_raise(c, FSW_IE | FSW_SF);
}

static void fpop(FpuState *f)
{
    f->valid &= (uint8_t)~(1u << f->top);
    f->top = (f->top + 1) & 7;
}

static void put(FpuState *f, int i, F80 v)
{
    *fpu_st(f, i) = v;
    fpu_set_valid(f, i, true);
}

/* Push with the overflow check (C1 = 0 when there is room). */
static void fpush(CpuState *c, F80 v)
{
    FpuState *f = &c->fpu;
    unsigned p = (f->top - 1) & 7;
    if ((f->valid >> p) & 1) {
        stack_fault(c, true);
        if (!ie_masked(f))
            return;
        v = F80_INDEFINITE;
    } else {
        set_c1(f, false);
    }
    f->top = (uint8_t)p;
    f->st[p] = v;
    f->valid |= (uint8_t)(1u << p);
}

/* Push the result of a conversion: its flags are raised, and an unmasked
 * IE leaves the stack as it was. */
static void push_loaded(CpuState *c, F80 v, const FpCtx *x)
{
    FpuState *f = &c->fpu;
    if ((f->valid >> ((f->top - 1) & 7)) & 1) {
        fpush(c, v);
        return;
    }
    set_c1(f, false);
    fpu_raise(c, x->sw);
    if (unmasked(f, x->sw, FSW_IE))
        return;
    fpush(c, v);
}

/* Underflow of an instruction that writes ST(i): returns true when the
 * instruction is over. */
static bool underflow_into(CpuState *c, int i)
{
    FpuState *f = &c->fpu;
    stack_fault(c, false);
    if (ie_masked(f))
        put(f, i, F80_INDEFINITE);
    return true;
}

static uint64_t rd_mem(CpuState *c, const Insn *i, unsigned n)
{
    uint8_t b[8];
    fpu_mem_read(c, i->seg, insn_ea(c, i), b, n);
    switch (n) {
    case 2: return ld16_host(b);
    case 4: return ld32_host(b);
    default: return ld32_host(b) | (uint64_t)ld32_host(b + 4) << 32;
    }
}

static void wr_mem(CpuState *c, const Insn *i, uint64_t v, unsigned n)
{
    uint8_t b[8];
    st32_host(b, (uint32_t)v);
    st32_host(b + 4, (uint32_t)(v >> 32));
    fpu_mem_write(c, i->seg, insn_ea(c, i), b, n);
}

/* ---- Arithmetic ------------------------------------------------------------------ */

/* ST(ia) = ST(ia) op ST(ib), then optionally pop. */
static void arith_reg(CpuState *c, int op, int ia, int ib, bool popit)
{
    FpuState *f = &c->fpu;
    if (fpu_empty(f, ia) || fpu_empty(f, ib)) {
        stack_fault(c, false);
        if (!ie_masked(f))
            return;
        put(f, ia, F80_INDEFINITE);
        if (popit)
            fpop(f);
        return;
    }
    FpCtx x = {f->cw, 0};
    F80 r = FP(f, arith, &x, op, *fpu_st(f, ia), *fpu_st(f, ib));
    commit(c, &x, FSW_C1);
    if (unmasked(f, x.sw, FSW_IE | FSW_DE | FSW_ZE))
        return;
    *fpu_st(f, ia) = r;
    if (popit)
        fpop(f);
}

/* ST0 = ST0 op memory operand of format fmt. */
static void arith_mem(CpuState *c, const Insn *i, int fmt)
{
    FpuState *f = begin(c, i);
    unsigned n = fmt == FMT_F64 ? 8 : fmt == FMT_I16 ? 2 : 4;
    uint64_t m = rd_mem(c, i, n);
    int op = i->reg;
    if (op == 2 || op == 3) {
        /* FCOM/FCOMP, FICOM/FICOMP m. */
        f->sw &= ~FSW_CC;
        if (fpu_empty(f, 0)) {
            stack_fault(c, false);
            f->sw |= FSW_C0 | FSW_C2 | FSW_C3;
            if (op == 3 && ie_masked(f))
                fpop(f);
            NEXT(c, i);
            return;
        }
        FpCtx x = {f->cw, 0};
        int rel = FP(f, cmp_m, &x, *fpu_st(f, 0), m, fmt);
        f->sw |= rel == FCMP_LT ? FSW_C0 : rel == FCMP_EQ ? FSW_C3 :
                 rel == FCMP_UN ? (FSW_C0 | FSW_C2 | FSW_C3) : 0;
        fpu_raise(c, x.sw);
        if (op == 3 && !unmasked(f, x.sw, FSW_IE | FSW_DE))
            fpop(f);
        NEXT(c, i);
        return;
    }
    if (fpu_empty(f, 0)) {
        underflow_into(c, 0);
        NEXT(c, i);
        return;
    }
    FpCtx x = {f->cw, 0};
    F80 r = FP(f, arith_m, &x, op, *fpu_st(f, 0), m, fmt);
    commit(c, &x, FSW_C1);
    if (!unmasked(f, x.sw, FSW_IE | FSW_DE | FSW_ZE))
        *fpu_st(f, 0) = r;
    NEXT(c, i);
}

/* ---- Compares --------------------------------------------------------------------- */

static void set_cc(FpuState *f, int rel)
{
    f->sw &= ~FSW_CC;
    f->sw |= rel == FCMP_LT ? FSW_C0 : rel == FCMP_EQ ? FSW_C3 :
             rel == FCMP_UN ? (FSW_C0 | FSW_C2 | FSW_C3) : 0;
}

/* FCOM/FUCOM family on ST0 and ST(ib), popping `pops` times. */
static void cmp_reg(CpuState *c, int ib, bool quiet, int pops)
{
    FpuState *f = &c->fpu;
    if (fpu_empty(f, 0) || fpu_empty(f, ib)) {
        stack_fault(c, false);
        set_cc(f, FCMP_UN);
        if (ie_masked(f))
            while (pops--)
                fpop(f);
        return;
    }
    FpCtx x = {f->cw, 0};
    int rel = FP(f, cmp, &x, *fpu_st(f, 0), *fpu_st(f, ib), quiet);
    set_cc(f, rel);
    fpu_raise(c, x.sw);
    if (unmasked(f, x.sw, FSW_IE | FSW_DE))
        return;
    while (pops--)
        fpop(f);
}

/* FCOMI/FUCOMI(P): the result in ZF PF CF; OF SF AF cleared (SDM vol. 2,
 * FCOMI).  The flags are written even when the invalid-operation exception
 * is unmasked (as the hardware we compare with does); C1 is left alone
 * except by a stack fault. */
static void comi_reg(CpuState *c, int ib, bool quiet, bool popit)
{
    FpuState *f = &c->fpu;
    const uint32_t mask = FL_ZF | FL_PF | FL_CF | FL_OF | FL_SF | FL_AF;
    if (fpu_empty(f, 0) || fpu_empty(f, ib)) {
        stack_fault(c, false);
        flags_set_bits(c, mask, FL_ZF | FL_PF | FL_CF);
        if (ie_masked(f) && popit)
            fpop(f);
        return;
    }
    FpCtx x = {f->cw, 0};
    int rel = FP(f, cmp, &x, *fpu_st(f, 0), *fpu_st(f, ib), quiet);
    fpu_raise(c, x.sw);
    uint32_t bits = rel == FCMP_LT ? FL_CF : rel == FCMP_EQ ? FL_ZF :
                    rel == FCMP_UN ? (FL_ZF | FL_PF | FL_CF) : 0;
    flags_set_bits(c, mask, bits);
    if (popit && !unmasked(f, x.sw, FSW_IE | FSW_DE))
        fpop(f);
}

/* ---- Loads and stores ----------------------------------------------------------------- */

static void load_f32(CpuState *c, uint32_t v)
{
    FpuState *f = &c->fpu;
    FpCtx x = {f->cw, 0};
    F80 r = FP(f, from_f32, &x, v);
    push_loaded(c, r, &x);
}

static void load_f64(CpuState *c, uint64_t v)
{
    FpuState *f = &c->fpu;
    FpCtx x = {f->cw, 0};
    F80 r = FP(f, from_f64, &x, v);
    push_loaded(c, r, &x);
}

/* FST/FSTP m32/m64 (n = 4/8). */
static void store_real(CpuState *c, const Insn *i, unsigned n, bool popit)
{
    FpuState *f = &c->fpu;
    if (fpu_empty(f, 0)) {
        if (ie_masked(f))
            wr_mem(c, i, n == 4 ? 0xFFC00000u : 0xFFF8000000000000ull, n);
        stack_fault(c, false);
        if (ie_masked(f) && popit)
            fpop(f);
        return;
    }
    FpCtx x = {f->cw, 0};
    uint64_t v = n == 4 ? FP(f, to_f32, &x, *fpu_st(f, 0)) : FP(f, to_f64, &x, *fpu_st(f, 0));
    bool store = !unmasked(f, x.sw, FSW_IE | FSW_OE | FSW_UE);
    if (store)
        wr_mem(c, i, v, n);
    commit(c, &x, FSW_C1);
    if (store && popit)
        fpop(f);
}

/* FIST/FISTP m16/m32/m64 (bits = 16/32/64). */
static void store_int(CpuState *c, const Insn *i, int bits, bool popit)
{
    FpuState *f = &c->fpu;
    unsigned n = (unsigned)bits / 8;
    if (fpu_empty(f, 0)) {
        if (ie_masked(f))
            wr_mem(c, i, 1ull << (bits - 1), n);
        stack_fault(c, false);
        if (ie_masked(f) && popit)
            fpop(f);
        return;
    }
    FpCtx x = {f->cw, 0};
    int64_t v = FP(f, to_int, &x, *fpu_st(f, 0), bits);
    bool store = !unmasked(f, x.sw, FSW_IE | FSW_OE | FSW_UE);
    if (store)
        wr_mem(c, i, (uint64_t)v, n);
    commit(c, &x, FSW_C1);
    if (store && popit)
        fpop(f);
}

static void store_bcd(CpuState *c, const Insn *i)
{
    static const uint8_t indef[10] = {0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF};
    FpuState *f = &c->fpu;
    if (fpu_empty(f, 0)) {
        if (ie_masked(f))
            fpu_mem_write(c, i->seg, insn_ea(c, i), indef, 10);
        stack_fault(c, false);
        if (ie_masked(f))
            fpop(f);
        return;
    }
    FpCtx x = {f->cw, 0};
    uint8_t b[10];
    FP(f, to_bcd, &x, *fpu_st(f, 0), b);
    bool store = !unmasked(f, x.sw, FSW_IE | FSW_OE | FSW_UE);
    if (store)
        fpu_mem_write(c, i->seg, insn_ea(c, i), b, 10);
    commit(c, &x, FSW_C1);
    if (store)
        fpop(f);
}

static void store_ext(CpuState *c, const Insn *i)
{
    FpuState *f = &c->fpu;
    F80 v = fpu_empty(f, 0) ? F80_INDEFINITE : *fpu_st(f, 0);
    if (fpu_empty(f, 0)) {
        if (ie_masked(f)) {
            uint8_t b[10];
            st32_host(b, (uint32_t)v.m);
            st32_host(b + 4, (uint32_t)(v.m >> 32));
            st16_host(b + 8, v.se);
            fpu_mem_write(c, i->seg, insn_ea(c, i), b, 10);
        }
        stack_fault(c, false);
        if (ie_masked(f))
            fpop(f);
        return;
    }
    uint8_t b[10];
    st32_host(b, (uint32_t)v.m);
    st32_host(b + 4, (uint32_t)(v.m >> 32));
    st16_host(b + 8, v.se);
    fpu_mem_write(c, i->seg, insn_ea(c, i), b, 10);
    set_c1(f, false);
    fpop(f);
}

static F80 rd_ext(CpuState *c, const Insn *i)
{
    uint8_t b[10];
    fpu_mem_read(c, i->seg, insn_ea(c, i), b, 10);
    F80 v = {ld32_host(b) | (uint64_t)ld32_host(b + 4) << 32, ld16_host(b + 8)};
    return v;
}

/* FLDPI and friends: the constants to 66 bits, rounded by the rounding
 * control (SDM vol. 1, 8.3.8: "rounding control applies"). */
static F80 load_constant(const FpuState *f, int k)
{
    static const struct {
        uint64_t m;
        uint16_t e;
        bool rn_up; /* the bits beyond 64 round up to nearest */
    } tab[7] = {
        {0x8000000000000000ull, 0x3FFF, false}, /* 1 */
        {0xD49A784BCD1B8AFEull, 0x4000, false}, /* log2(10) */
        {0xB8AA3B295C17F0BBull, 0x3FFF, true},  /* log2(e) */
        {0xC90FDAA22168C234ull, 0x4000, true},  /* pi */
        {0x9A209A84FBCFF798ull, 0x3FFD, true},  /* log10(2) */
        {0xB17217F7D1CF79ABull, 0x3FFE, true},  /* ln(2) */
        {0, 0, false},                          /* +0 */
    };
    int rc = (f->cw >> 10) & 3;
    F80 v = {tab[k].m, tab[k].e};
    bool inexact = k >= 1 && k <= 5;
    if (inexact && (rc == RC_UP || (rc == RC_NEAREST && tab[k].rn_up)))
        v.m++;
    return v;
}

/* ---- FXAM ---------------------------------------------------------------------------- */

static void fxam(FpuState *f)
{
    F80 v = *fpu_st(f, 0);
    uint16_t cc;
    if (fpu_empty(f, 0)) {
        cc = FSW_C3 | FSW_C0;
    } else {
        switch (f80_class(v)) {
        case FPC_UNSUPPORTED: cc = 0; break;
        case FPC_QNAN:
        case FPC_SNAN: cc = FSW_C0; break;
        case FPC_NORMAL: cc = FSW_C2; break;
        case FPC_INF: cc = FSW_C2 | FSW_C0; break;
        case FPC_ZERO: cc = FSW_C3; break;
        default: cc = FSW_C3 | FSW_C2; break; /* denormal */
        }
    }
    if (f80_sign(v))
        cc |= FSW_C1;
    f->sw = (uint16_t)((f->sw & ~FSW_CC) | cc);
}

/* ---- D8: arithmetic with m32 / ST(i) -------------------------------------------------- */

HANDLER(fpu_d8_r)
{
    begin(c, i);
    switch (i->reg) {
    case 2: cmp_reg(c, i->rm, false, 0); break;
    case 3: cmp_reg(c, i->rm, false, 1); break;
    default: arith_reg(c, i->reg, 0, i->rm, false); break;
    }
    NEXT(c, i);
}

HANDLER(fpu_d8_m)
{
    arith_mem(c, i, FMT_F32);
}
SET_RM(fpu_d8, fpu_d8_r, fpu_d8_m)

/* ---- D9: loads, stores, control, constants, transcendental -------------------------- */

/* ST0 = f(ST0) for the one-operand arithmetic of D9 E0-FF. */
static void unary(CpuState *c, int which)
{
    FpuState *f = &c->fpu;
    if (fpu_empty(f, 0)) {
        underflow_into(c, 0);
        if (which == 0xFE || which == 0xFF)
            f->sw &= ~FSW_C2;
        return;
    }
    F80 a = *fpu_st(f, 0);
    FpCtx x = {f->cw, 0};
    F80 r;
    switch (which) {
    case 0xE0: /* FCHS */
        a.se ^= 0x8000;
        *fpu_st(f, 0) = a;
        set_c1(f, false);
        return;
    case 0xE1: /* FABS */
        a.se &= 0x7FFF;
        *fpu_st(f, 0) = a;
        set_c1(f, false);
        return;
    case 0xF0: r = FP(f, 2xm1, &x, a); break;
    case 0xFA: r = FP(f, sqrt, &x, a); break;
    case 0xFC: r = FP(f, rndint, &x, a); break;
    case 0xFE: r = FP(f, sin, &x, a); break;
    default: r = FP(f, cos, &x, a); break;
    }
    if (x.sw & FSW_C2) {
        /* FSIN/FCOS beyond 2^63: C2 set, operand unchanged. */
        commit(c, &x, FSW_C1 | FSW_C2);
        return;
    }
    commit(c, &x, (which == 0xFE || which == 0xFF) ? (FSW_C1 | FSW_C2) : FSW_C1);
    if (!unmasked(f, x.sw, FSW_IE | FSW_DE | FSW_ZE))
        *fpu_st(f, 0) = r;
}

/* Two operands ST0, ST1: FPATAN FYL2X FYL2XP1 (result in ST1, pop) and
 * FSCALE FPREM FPREM1 (result in ST0). */
static void binary(CpuState *c, int which)
{
    FpuState *f = &c->fpu;
    bool to_st1 = which == 0xF1 || which == 0xF3 || which == 0xF9;
    if (fpu_empty(f, 0) || fpu_empty(f, 1)) {
        stack_fault(c, false);
        if (which == 0xF5 || which == 0xF8)
            f->sw &= ~FSW_C2;
        if (!ie_masked(f))
            return;
        put(f, to_st1 ? 1 : 0, F80_INDEFINITE);
        if (to_st1)
            fpop(f);
        return;
    }
    F80 a = *fpu_st(f, 0), b = *fpu_st(f, 1);
    FpCtx x = {f->cw, 0};
    F80 r;
    uint16_t cc = FSW_C1;
    switch (which) {
    case 0xF1: r = FP(f, yl2x, &x, b, a); break;
    case 0xF3: r = FP(f, atan, &x, b, a); break;
    case 0xF9: r = FP(f, yl2xp1, &x, b, a); break;
    case 0xFD: r = FP(f, scale, &x, a, b); break;
    default: {
        /* FPREM/FPREM1 set all four condition bits when they compute a
         * quotient (C2 = 1 for a partial remainder); otherwise C1 and C2
         * are cleared and C0/C3 are left as they were. */
        r = FP(f, prem, &x, a, b, which == 0xF5);
        int ca = f80_class(a), cb = f80_class(b);
        bool finite_a = ca == FPC_ZERO || ca == FPC_NORMAL || ca == FPC_DENORMAL;
        bool ok_b = cb == FPC_NORMAL || cb == FPC_DENORMAL || cb == FPC_INF;
        cc = finite_a && ok_b && !unmasked(f, x.sw, FSW_DE) ? FSW_CC : (FSW_C1 | FSW_C2);
        break;
    }
    }
    commit(c, &x, cc);
    if (unmasked(f, x.sw, FSW_IE | FSW_DE | FSW_ZE))
        return;
    if (to_st1) {
        *fpu_st(f, 1) = r;
        fpop(f);
    } else {
        *fpu_st(f, 0) = r;
    }
}

/* FPTAN, FSINCOS, FXTRACT: replace ST0 and push a second result. */
static void two_results(CpuState *c, int which)
{
    FpuState *f = &c->fpu;
    if (fpu_empty(f, 0) || !fpu_empty(f, 7)) {
        /* Underflow (ST0 empty) wins over overflow (ST7 in use) for C1;
         * the masked response fills both results with the indefinite. */
        stack_fault(c, !fpu_empty(f, 0));
        if (which != 0xF4)
            f->sw &= ~FSW_C2;
        if (!ie_masked(f))
            return;
        put(f, 0, F80_INDEFINITE);
        f->top = (f->top - 1) & 7;
        put(f, 0, F80_INDEFINITE);
        return;
    }
    F80 a = *fpu_st(f, 0), r0, r1;
    FpCtx x = {f->cw, 0};
    uint16_t cc = FSW_C1;
    switch (which) {
    case 0xF2: /* FPTAN: ST0 = tan, push 1.0 */
        r0 = FP(f, tan, &x, a);
        /* A NaN result is pushed in place of the 1.0 too. */
        r1 = f80_class(r0) == FPC_QNAN ? r0 : f80_make(false, FP_EXP_BIAS, 1ull << 63);
        cc |= FSW_C2;
        break;
    case 0xFB: /* FSINCOS: ST0 = sin, push cos */
        FP(f, sincos, &x, a, &r0, &r1);
        cc |= FSW_C2;
        break;
    default: /* FXTRACT: ST0 = exponent, push significand */
        FP(f, xtract, &x, a, &r0, &r1);
        break;
    }
    commit(c, &x, cc);
    if ((x.sw & FSW_C2) && which != 0xF4)
        return;
    if (unmasked(f, x.sw, FSW_IE | FSW_DE | FSW_ZE))
        return;
    *fpu_st(f, 0) = r0;
    f->top = (f->top - 1) & 7;
    put(f, 0, r1);
}

HANDLER(fpu_d9_r)
{
    FpuState *f = &c->fpu;
    unsigned rm = i->rm;
    switch (i->reg) {
    case 0: { /* FLD ST(i) */
        begin(c, i);
        if (fpu_empty(f, (int)rm)) {
            /* Underflow wins over a full stack: C1 = 0 and the indefinite
             * goes in regardless. */
            stack_fault(c, false);
            if (ie_masked(f)) {
                f->top = (f->top - 1) & 7;
                put(f, 0, F80_INDEFINITE);
            }
        } else {
            fpush(c, *fpu_st(f, (int)rm));
        }
        break;
    }
    case 1: /* FXCH ST(i) */
        begin(c, i);
        if (fpu_empty(f, 0) || fpu_empty(f, (int)rm)) {
            stack_fault(c, false);
            if (!ie_masked(f))
                break;
            if (fpu_empty(f, 0))
                put(f, 0, F80_INDEFINITE);
            if (fpu_empty(f, (int)rm))
                put(f, (int)rm, F80_INDEFINITE);
        } else {
            set_c1(f, false);
        }
        {
            F80 t = *fpu_st(f, 0);
            *fpu_st(f, 0) = *fpu_st(f, (int)rm);
            *fpu_st(f, (int)rm) = t;
        }
        break;
    case 2: /* FNOP */
        if (rm != 0)
            cpu_raise_ud(c);
        begin(c, i);
        break;
    case 3: /* FSTP1: FSTP ST(i) (reserved alias); unlike FSTP an empty ST0
             * is no fault: it only pops, as the hardware does. */
        begin(c, i);
        if (fpu_empty(f, 0)) {
            set_c1(f, false);
            fpop(f);
            break;
        } else {
            put(f, (int)rm, *fpu_st(f, 0));
            set_c1(f, false);
        }
        fpop(f);
        break;
    case 4:
        switch (rm) {
        case 0: /* FCHS */
        case 1: /* FABS */
            begin(c, i);
            unary(c, 0xE0 + (int)rm);
            break;
        case 4: { /* FTST */
            begin(c, i);
            if (fpu_empty(f, 0)) {
                stack_fault(c, false);
                set_cc(f, FCMP_UN);
                break;
            }
            FpCtx x = {f->cw, 0};
            int rel = FP(f, cmp, &x, *fpu_st(f, 0), f80_make(false, 0, 0), false);
            set_cc(f, rel);
            fpu_raise(c, x.sw);
            break;
        }
        case 5: /* FXAM */
            begin(c, i);
            fxam(f);
            break;
        default:
            cpu_raise_ud(c);
        }
        break;
    case 5: /* FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ */
        if (rm == 7)
            cpu_raise_ud(c);
        begin(c, i);
        fpush(c, load_constant(f, (int)rm));
        break;
    case 6:
        begin(c, i);
        switch (rm) {
        case 0: unary(c, 0xF0); break; /* F2XM1 */
        case 1: binary(c, 0xF1); break; /* FYL2X */
        case 2: two_results(c, 0xF2); break; /* FPTAN */
        case 3: binary(c, 0xF3); break; /* FPATAN */
        case 4: two_results(c, 0xF4); break; /* FXTRACT */
        case 5: binary(c, 0xF5); break; /* FPREM1 */
        case 6: /* FDECSTP */
            f->top = (f->top - 1) & 7;
            set_c1(f, false);
            break;
        default: /* FINCSTP */
            f->top = (f->top + 1) & 7;
            set_c1(f, false);
            break;
        }
        break;
    default:
        begin(c, i);
        switch (rm) {
        case 0: binary(c, 0xF8); break; /* FPREM */
        case 1: binary(c, 0xF9); break; /* FYL2XP1 */
        case 2: unary(c, 0xFA); break; /* FSQRT */
        case 3: two_results(c, 0xFB); break; /* FSINCOS */
        case 4: unary(c, 0xFC); break; /* FRNDINT */
        case 5: binary(c, 0xFD); break; /* FSCALE */
        case 6: unary(c, 0xFE); break; /* FSIN */
        default: unary(c, 0xFF); break; /* FCOS */
        }
        break;
    }
    NEXT(c, i);
}

HANDLER(fpu_d9_m)
{
    FpuState *f = &c->fpu;
    switch (i->reg) {
    case 0: /* FLD m32 */
        begin(c, i);
        load_f32(c, (uint32_t)rd_mem(c, i, 4));
        break;
    case 2: /* FST m32 */
    case 3: /* FSTP m32 */
        begin(c, i);
        store_real(c, i, 4, i->reg == 3);
        break;
    case 4: /* FLDENV */
        fpu_check_nm(c);
        fpu_check_pending(c);
        fpu_fldenv(c, i);
        break;
    case 5: { /* FLDCW */
        fpu_check_nm(c);
        fpu_check_pending(c);
        uint16_t cw = (uint16_t)rd_mem(c, i, 2);
        fpu_load_cw(c, cw);
        break;
    }
    case 6: /* FNSTENV */
        fpu_check_nm(c);
        fpu_fnstenv(c, i);
        break;
    case 7: /* FNSTCW */
        fpu_check_nm(c);
        wr_mem(c, i, f->cw, 2);
        break;
    default:
        cpu_raise_ud(c);
    }
    NEXT(c, i);
}
SET_RM(fpu_d9, fpu_d9_r, fpu_d9_m)

/* ---- DA: FCMOVcc, FUCOMPP, m32int arithmetic ------------------------------------------- */

static void fcmov(CpuState *c, const Insn *i, bool cond)
{
    FpuState *f = begin(c, i);
    if (fpu_empty(f, 0) || fpu_empty(f, i->rm)) {
        underflow_into(c, 0);
        return;
    }
    if (cond)
        *fpu_st(f, 0) = *fpu_st(f, i->rm);
}

HANDLER(fpu_da_r)
{
    switch (i->reg) {
    case 0: fcmov(c, i, flags_cond(c, 0x2)); break;  /* FCMOVB: CF */
    case 1: fcmov(c, i, flags_cond(c, 0x4)); break;  /* FCMOVE: ZF */
    case 2: fcmov(c, i, flags_cond(c, 0x6)); break;  /* FCMOVBE: CF or ZF */
    case 3: fcmov(c, i, flags_cond(c, 0xA)); break;  /* FCMOVU: PF */
    case 5:
        if (i->rm == 1) { /* FUCOMPP */
            begin(c, i);
            cmp_reg(c, 1, true, 2);
            break;
        }
        /* fall through */
    default:
        cpu_raise_ud(c);
    }
    NEXT(c, i);
}

HANDLER(fpu_da_m)
{
    arith_mem(c, i, FMT_I32);
}
SET_RM(fpu_da, fpu_da_r, fpu_da_m)

/* ---- DB: FCMOVNcc, FCOMI, FUCOMI, FNCLEX, FNINIT, m32int and m80 -------------------------- */

HANDLER(fpu_db_r)
{
    FpuState *f = &c->fpu;
    switch (i->reg) {
    case 0: fcmov(c, i, !flags_cond(c, 0x2)); break; /* FCMOVNB */
    case 1: fcmov(c, i, !flags_cond(c, 0x4)); break; /* FCMOVNE */
    case 2: fcmov(c, i, !flags_cond(c, 0x6)); break; /* FCMOVNBE */
    case 3: fcmov(c, i, !flags_cond(c, 0xA)); break; /* FCMOVNU */
    case 4:
        fpu_check_nm(c);
        switch (i->rm) {
        case 0: /* FNENI (8087): a no-op on the 387 and later */
        case 1: /* FNDISI (8087) */
        case 4: /* FNSETPM (287) */
            break;
        case 2: /* FNCLEX */
            f->sw &= ~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
            fpu_update_es(c);
            break;
        case 3: /* FNINIT */
            fpu_init_state(c);
            break;
        default:
            cpu_raise_ud(c);
        }
        break;
    case 5: /* FUCOMI */
        begin(c, i);
        comi_reg(c, i->rm, true, false);
        break;
    case 6: /* FCOMI */
        begin(c, i);
        comi_reg(c, i->rm, false, false);
        break;
    default:
        cpu_raise_ud(c);
    }
    NEXT(c, i);
}

HANDLER(fpu_db_m)
{
    FpuState *f;
    switch (i->reg) {
    case 0: { /* FILD m32 */
        f = begin(c, i);
        int32_t v = (int32_t)rd_mem(c, i, 4);
        fpush(c, f80_from_int(v));
        break;
    }
    case 2: /* FIST m32 */
    case 3: /* FISTP m32 */
        begin(c, i);
        store_int(c, i, 32, i->reg == 3);
        break;
    case 5: { /* FLD m80 */
        begin(c, i);
        F80 v = rd_ext(c, i);
        fpush(c, v);
        break;
    }
    case 7: /* FSTP m80 */
        begin(c, i);
        store_ext(c, i);
        break;
    default: /* /1 FISTTP is SSE3; /4 and /6 are reserved */
        cpu_raise_ud(c);
    }
    (void)f;
    NEXT(c, i);
}
SET_RM(fpu_db, fpu_db_r, fpu_db_m)

/* ---- DC: arithmetic with m64 / into ST(i) ---------------------------------------------------- */

/* DC and DE register forms name the subtraction and division the other way
 * round: /4 is FSUBR ST(i), ST0 = ST0 - ST(i) (SDM vol. 2, FSUBR). */
static int dc_op(int reg)
{
    return reg >= 4 ? reg ^ 1 : reg;
}

HANDLER(fpu_dc_r)
{
    begin(c, i);
    switch (i->reg) {
    case 2: cmp_reg(c, i->rm, false, 0); break; /* FCOM2 alias */
    case 3: cmp_reg(c, i->rm, false, 1); break; /* FCOMP3 alias */
    default: arith_reg(c, dc_op(i->reg), i->rm, 0, false); break;
    }
    NEXT(c, i);
}

HANDLER(fpu_dc_m)
{
    arith_mem(c, i, FMT_F64);
}
SET_RM(fpu_dc, fpu_dc_r, fpu_dc_m)

/* ---- DD: FFREE, FST(P) ST(i), FUCOM(P), m64, FRSTOR, FNSAVE, FNSTSW -------------------------- */

HANDLER(fpu_dd_r)
{
    FpuState *f = &c->fpu;
    switch (i->reg) {
    case 0: /* FFREE */
        begin(c, i);
        fpu_set_valid(f, i->rm, false);
        set_c1(f, false);
        break;
    case 1: /* FXCH4 alias */
    case 2: /* FST ST(i) */
    case 3: /* FSTP ST(i) */
        begin(c, i);
        if (i->reg == 1) {
            if (fpu_empty(f, 0) || fpu_empty(f, i->rm)) {
                stack_fault(c, false);
                if (!ie_masked(f))
                    break;
                if (fpu_empty(f, 0))
                    put(f, 0, F80_INDEFINITE);
                if (fpu_empty(f, i->rm))
                    put(f, i->rm, F80_INDEFINITE);
            } else {
                set_c1(f, false);
            }
            F80 t = *fpu_st(f, 0);
            *fpu_st(f, 0) = *fpu_st(f, i->rm);
            *fpu_st(f, i->rm) = t;
            break;
        }
        if (fpu_empty(f, 0)) {
            stack_fault(c, false);
            if (!ie_masked(f))
                break;
            put(f, i->rm, F80_INDEFINITE);
        } else {
            put(f, i->rm, *fpu_st(f, 0));
            set_c1(f, false);
        }
        if (i->reg == 3)
            fpop(f);
        break;
    case 4: /* FUCOM */
        begin(c, i);
        cmp_reg(c, i->rm, true, 0);
        break;
    case 5: /* FUCOMP */
        begin(c, i);
        cmp_reg(c, i->rm, true, 1);
        break;
    default:
        cpu_raise_ud(c);
    }
    NEXT(c, i);
}

HANDLER(fpu_dd_m)
{
    switch (i->reg) {
    case 0: /* FLD m64 */
        begin(c, i);
        load_f64(c, rd_mem(c, i, 8));
        break;
    case 2: /* FST m64 */
    case 3: /* FSTP m64 */
        begin(c, i);
        store_real(c, i, 8, i->reg == 3);
        break;
    case 4: /* FRSTOR */
        fpu_check_nm(c);
        fpu_check_pending(c);
        fpu_frstor(c, i);
        break;
    case 6: /* FNSAVE */
        fpu_check_nm(c);
        fpu_fnsave(c, i);
        break;
    case 7: /* FNSTSW m16 */
        fpu_check_nm(c);
        wr_mem(c, i, fpu_get_sw(&c->fpu), 2);
        break;
    default: /* /1 FISTTP is SSE3; /5 is reserved */
        cpu_raise_ud(c);
    }
    NEXT(c, i);
}
SET_RM(fpu_dd, fpu_dd_r, fpu_dd_m)

/* ---- DE: arithmetic and pop, FCOMPP, m16int --------------------------------------------------- */

HANDLER(fpu_de_r)
{
    switch (i->reg) {
    case 2: /* FCOMP5 alias */
        begin(c, i);
        cmp_reg(c, i->rm, false, 1);
        break;
    case 3:
        if (i->rm != 1)
            cpu_raise_ud(c);
        begin(c, i); /* FCOMPP */
        cmp_reg(c, 1, false, 2);
        break;
    default:
        begin(c, i);
        arith_reg(c, dc_op(i->reg), i->rm, 0, true);
        break;
    }
    NEXT(c, i);
}

HANDLER(fpu_de_m)
{
    arith_mem(c, i, FMT_I16);
}
SET_RM(fpu_de, fpu_de_r, fpu_de_m)

/* ---- DF: FFREEP, FNSTSW AX, FCOMIP, FUCOMIP, m16int, m64int, BCD --------------------------------- */

HANDLER(fpu_df_r)
{
    FpuState *f = &c->fpu;
    switch (i->reg) {
    case 0: /* FFREEP (undocumented: free ST(i), then pop) */
        begin(c, i);
        fpu_set_valid(f, i->rm, false);
        set_c1(f, false);
        fpop(f);
        break;
    case 1: { /* FXCH7 alias */
        begin(c, i);
        if (fpu_empty(f, 0) || fpu_empty(f, i->rm)) {
            stack_fault(c, false);
            if (!ie_masked(f))
                break;
            if (fpu_empty(f, 0))
                put(f, 0, F80_INDEFINITE);
            if (fpu_empty(f, i->rm))
                put(f, i->rm, F80_INDEFINITE);
        } else {
            set_c1(f, false);
        }
        F80 t = *fpu_st(f, 0);
        *fpu_st(f, 0) = *fpu_st(f, i->rm);
        *fpu_st(f, i->rm) = t;
        break;
    }
    case 2: /* FSTP8 alias */
    case 3: /* FSTP9 alias */
        begin(c, i);
        if (fpu_empty(f, 0)) {
            stack_fault(c, false);
            if (!ie_masked(f))
                break;
            put(f, i->rm, F80_INDEFINITE);
        } else {
            put(f, i->rm, *fpu_st(f, 0));
            set_c1(f, false);
        }
        fpop(f);
        break;
    case 4:
        if (i->rm != 0)
            cpu_raise_ud(c);
        fpu_check_nm(c); /* FNSTSW AX */
        reg16_set(c, R_EAX, fpu_get_sw(f));
        break;
    case 5: /* FUCOMIP */
        begin(c, i);
        comi_reg(c, i->rm, true, true);
        break;
    case 6: /* FCOMIP */
        begin(c, i);
        comi_reg(c, i->rm, false, true);
        break;
    default:
        cpu_raise_ud(c);
    }
    NEXT(c, i);
}

HANDLER(fpu_df_m)
{
    FpuState *f;
    switch (i->reg) {
    case 0: /* FILD m16 */
        f = begin(c, i);
        fpush(c, f80_from_int((int16_t)rd_mem(c, i, 2)));
        break;
    case 2: /* FIST m16 */
    case 3: /* FISTP m16 */
        begin(c, i);
        store_int(c, i, 16, i->reg == 3);
        break;
    case 4: { /* FBLD */
        f = begin(c, i);
        uint8_t b[10];
        fpu_mem_read(c, i->seg, insn_ea(c, i), b, 10);
        FpCtx x = {f->cw, 0};
        F80 v = FP(f, from_bcd, &x, b);
        push_loaded(c, v, &x);
        break;
    }
    case 5: /* FILD m64 */
        f = begin(c, i);
        fpush(c, f80_from_int((int64_t)rd_mem(c, i, 8)));
        break;
    case 6: /* FBSTP */
        begin(c, i);
        store_bcd(c, i);
        break;
    case 7: /* FISTP m64 */
        begin(c, i);
        store_int(c, i, 64, true);
        break;
    default: /* /1 FISTTP is SSE3 */
        cpu_raise_ud(c);
    }
    NEXT(c, i);
}
SET_RM(fpu_df, fpu_df_r, fpu_df_m)

/* ---- 9B: FWAIT ---------------------------------------------------------------------------------- */

/* #NM only when both MP and TS are set (SDM vol. 3, table 2-2); then a
 * pending unmasked exception is reported. */
HANDLER(fwait)
{
    if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        cpu_raise(c, EXC_NM, 0, false);
    fpu_check_pending(c);
    NEXT(c, i);
}
SET_ALL(fwait, fwait)

/* ---- 0F AE /0 /1: FXSAVE, FXRSTOR ------------------------------------------------------ */

HANDLER(fxsave_m)
{
    fpu_fxsave(c, i);
    NEXT(c, i);
}
SET_RM(fxsave, op_ud, fxsave_m)

HANDLER(fxrstor_m)
{
    fpu_fxrstor(c, i);
    NEXT(c, i);
}
SET_RM(fxrstor, op_ud, fxrstor_m)
