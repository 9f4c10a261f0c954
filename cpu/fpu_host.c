/* The host back end (see fpu_impl.h): x86-64 hosts run each x87 operation
 * on their own x87 under the guest's control word.
 *
 * Every sequence starts with FNINIT (the x86-64 ABI guarantees an empty
 * register stack; FNINIT also clears the condition codes, so that bits an
 * instruction leaves unchanged read as 0 and the caller knows them), loads
 * the operands with FLD m80 (which raises nothing for
 * any encoding: SDM vol. 2, FLD), runs the one instruction with the guest's
 * control word, reads the status word with FNSTSW, and clears the flags
 * with FNCLEX before any waiting instruction could fault on them; the host
 * control word is restored and the stack emptied before the asm ends.
 * Where an unmasked exception makes the stack depth unknown afterwards
 * (pops and pushes that do not happen) the result is taken with FNSAVE,
 * which also reinitializes the host x87.
 */
#include "cpu/fpu_impl.h"

#if KESTREL_HOST_X87

bool fpu_host_available(void)
{
    return true;
}

static inline uint16_t host_cw(void)
{
    uint16_t cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw;
}

/* Status bits a back end reports: flags, C1 and (prem, trig) C0 C2 C3. */
#define SW_OUT (FSW_EXC | FSW_CC)

/* ST0 = a op ST1 = b, one result. */
#define BIN_REG(ins)                                                                        \
    __asm__ volatile("fninit\n\t"                                                          \
                     "fldcw %[cw]\n\t"                                                     \
                     "fldt %[b]\n\t"                                                       \
                     "fldt %[a]\n\t" ins "\n\t"                                            \
                     "fnstsw %[sw]\n\t"                                                    \
                     "fnclex\n\t"                                                          \
                     "fldcw %[hcw]\n\t"                                                    \
                     "fstpt %[r]\n\t"                                                      \
                     "fstp %%st(0)"                                                        \
                     : [sw] "=m"(sw), [r] "=m"(r)                                          \
                     : [a] "m"(a), [b] "m"(b), [cw] "m"(cw), [hcw] "m"(hcw)                \
                     : "st", "st(1)")

/* ST0 = a op memory operand. */
#define BIN_MEM(ins, mv)                                                                   \
    __asm__ volatile("fninit\n\t"                                                          \
                     "fldcw %[cw]\n\t"                                                     \
                     "fldt %[a]\n\t" ins " %[m]\n\t"                                       \
                     "fnstsw %[sw]\n\t"                                                    \
                     "fnclex\n\t"                                                          \
                     "fldcw %[hcw]\n\t"                                                    \
                     "fstpt %[r]"                                                          \
                     : [sw] "=m"(sw), [r] "=m"(r)                                          \
                     : [a] "m"(a), [m] "m"(mv), [cw] "m"(cw), [hcw] "m"(hcw)               \
                     : "st")

/* ST0 = op(a). */
#define UN_REG(ins)                                                                        \
    __asm__ volatile("fninit\n\t"                                                          \
                     "fldcw %[cw]\n\t"                                                     \
                     "fldt %[a]\n\t" ins "\n\t"                                            \
                     "fnstsw %[sw]\n\t"                                                    \
                     "fnclex\n\t"                                                          \
                     "fldcw %[hcw]\n\t"                                                    \
                     "fstpt %[r]"                                                          \
                     : [sw] "=m"(sw), [r] "=m"(r)                                          \
                     : [a] "m"(a), [cw] "m"(cw), [hcw] "m"(hcw)                            \
                     : "st")

F80 host_arith(FpCtx *x, int op, F80 a, F80 b)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    F80 r;
    switch (op) {
    case FOP_ADD: BIN_REG("fadd %%st(1), %%st"); break;
    case FOP_MUL: BIN_REG("fmul %%st(1), %%st"); break;
    case FOP_SUB: BIN_REG("fsub %%st(1), %%st"); break;
    case FOP_SUBR: BIN_REG("fsubr %%st(1), %%st"); break;
    case FOP_DIV: BIN_REG("fdiv %%st(1), %%st"); break;
    default: BIN_REG("fdivr %%st(1), %%st"); break;
    }
    x->sw |= sw & (FSW_EXC | FSW_C1);
    return r;
}

#define MEM_OPS(sfx, mv)                                                                   \
    switch (op) {                                                                          \
    case FOP_ADD: BIN_MEM("fadd" sfx, mv); break;                                          \
    case FOP_MUL: BIN_MEM("fmul" sfx, mv); break;                                          \
    case FOP_SUB: BIN_MEM("fsub" sfx, mv); break;                                          \
    case FOP_SUBR: BIN_MEM("fsubr" sfx, mv); break;                                        \
    case FOP_DIV: BIN_MEM("fdiv" sfx, mv); break;                                          \
    default: BIN_MEM("fdivr" sfx, mv); break;                                              \
    }

#define IMEM_OPS(sfx, mv)                                                                  \
    switch (op) {                                                                          \
    case FOP_ADD: BIN_MEM("fiadd" sfx, mv); break;                                         \
    case FOP_MUL: BIN_MEM("fimul" sfx, mv); break;                                         \
    case FOP_SUB: BIN_MEM("fisub" sfx, mv); break;                                         \
    case FOP_SUBR: BIN_MEM("fisubr" sfx, mv); break;                                       \
    case FOP_DIV: BIN_MEM("fidiv" sfx, mv); break;                                         \
    default: BIN_MEM("fidivr" sfx, mv); break;                                             \
    }

F80 host_arith_m(FpCtx *x, int op, F80 a, uint64_t m, int fmt)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    F80 r;
    uint32_t m32 = (uint32_t)m;
    uint64_t m64 = m;
    uint16_t i16 = (uint16_t)m;
    switch (fmt) {
    case FMT_F32: MEM_OPS("s", m32); break;
    case FMT_F64: MEM_OPS("l", m64); break;
    case FMT_I16: IMEM_OPS("s", i16); break;
    default: IMEM_OPS("l", m32); break;
    }
    x->sw |= sw & (FSW_EXC | FSW_C1);
    return r;
}

static int cc_to_cmp(uint16_t sw)
{
    switch (sw & (FSW_C0 | FSW_C2 | FSW_C3)) {
    case 0: return FCMP_GT;
    case FSW_C0: return FCMP_LT;
    case FSW_C3: return FCMP_EQ;
    default: return FCMP_UN;
    }
}

int host_cmp(FpCtx *x, F80 a, F80 b, bool quiet)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    F80 r;
    if (quiet)
        BIN_REG("fucom %%st(1)");
    else
        BIN_REG("fcom %%st(1)");
    (void)r;
    x->sw |= sw & FSW_EXC;
    return cc_to_cmp(sw);
}

int host_cmp_m(FpCtx *x, F80 a, uint64_t m, int fmt)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    F80 r;
    uint32_t m32 = (uint32_t)m;
    uint64_t m64 = m;
    uint16_t i16 = (uint16_t)m;
    switch (fmt) {
    case FMT_F32: BIN_MEM("fcoms", m32); break;
    case FMT_F64: BIN_MEM("fcoml", m64); break;
    case FMT_I16: BIN_MEM("ficoms", i16); break;
    default: BIN_MEM("ficoml", m32); break;
    }
    (void)r;
    x->sw |= sw & FSW_EXC;
    return cc_to_cmp(sw);
}

F80 host_sqrt(FpCtx *x, F80 a)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    F80 r;
    UN_REG("fsqrt");
    x->sw |= sw & (FSW_EXC | FSW_C1);
    return r;
}

F80 host_rndint(FpCtx *x, F80 a)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    F80 r;
    UN_REG("frndint");
    x->sw |= sw & (FSW_EXC | FSW_C1);
    return r;
}

/* Loads run with all exceptions masked so that the push always happens;
 * the caller applies the guest's masks (an unmasked #IA loads nothing). */
#define LOAD_MEM(ins, mv)                                                                  \
    __asm__ volatile("fninit\n\t"                                                          \
                     "fldcw %[cw]\n\t" ins " %[m]\n\t"                                     \
                     "fnstsw %[sw]\n\t"                                                    \
                     "fnclex\n\t"                                                          \
                     "fldcw %[hcw]\n\t"                                                    \
                     "fstpt %[r]"                                                          \
                     : [sw] "=m"(sw), [r] "=m"(r)                                          \
                     : [m] "m"(mv), [cw] "m"(cw), [hcw] "m"(hcw)                           \
                     : "st")

F80 host_from_f32(FpCtx *x, uint32_t v)
{
    uint16_t cw = x->cw | FCW_MASKS, hcw = host_cw(), sw;
    F80 r;
    LOAD_MEM("flds", v);
    x->sw |= sw & (FSW_EXC | FSW_C1);
    return r;
}

F80 host_from_f64(FpCtx *x, uint64_t v)
{
    uint16_t cw = x->cw | FCW_MASKS, hcw = host_cw(), sw;
    F80 r;
    LOAD_MEM("fldl", v);
    x->sw |= sw & (FSW_EXC | FSW_C1);
    return r;
}

F80 host_from_bcd(FpCtx *x, const uint8_t in[10])
{
    uint16_t cw = x->cw | FCW_MASKS, hcw = host_cw(), sw;
    F80 r;
    struct {
        uint8_t b[10];
    } v;
    memcpy(v.b, in, 10);
    LOAD_MEM("fbld", v);
    x->sw |= sw & (FSW_EXC | FSW_C1);
    return r;
}

/* Stores run with the guest's masks: an unmasked exception leaves the
 * memory image unwritten (the caller does not store it either). */
#define STORE_MEM(ins, mv)                                                                 \
    __asm__ volatile("fninit\n\t"                                                          \
                     "fldt %[a]\n\t"                                                       \
                     "fldcw %[cw]\n\t"                                                     \
                     "fld %%st(0)\n\t" ins " %[m]\n\t"                                     \
                     "fnstsw %[sw]\n\t"                                                    \
                     "fninit\n\t"                                                          \
                     "fldcw %[hcw]"                                                        \
                     : [sw] "=m"(sw), [m] "+m"(mv)                                         \
                     : [a] "m"(a), [cw] "m"(cw), [hcw] "m"(hcw)                            \
                     : "st", "st(1)")

uint32_t host_to_f32(FpCtx *x, F80 a)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    uint32_t m = 0;
    STORE_MEM("fstps", m);
    x->sw |= sw & (FSW_EXC | FSW_C1);
    return m;
}

uint64_t host_to_f64(FpCtx *x, F80 a)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    uint64_t m = 0;
    STORE_MEM("fstpl", m);
    x->sw |= sw & (FSW_EXC | FSW_C1);
    return m;
}

int64_t host_to_int(FpCtx *x, F80 a, int bits)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    int64_t r;
    if (bits == 16) {
        int16_t m = 0;
        STORE_MEM("fistps", m);
        r = m;
    } else if (bits == 32) {
        int32_t m = 0;
        STORE_MEM("fistpl", m);
        r = m;
    } else {
        int64_t m = 0;
        STORE_MEM("fistpll", m);
        r = m;
    }
    x->sw |= sw & (FSW_EXC | FSW_C1);
    return r;
}

void host_to_bcd(FpCtx *x, F80 a, uint8_t out[10])
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    struct {
        uint8_t b[10];
    } m;
    memset(&m, 0, sizeof m);
    STORE_MEM("fbstp", m);
    x->sw |= sw & (FSW_EXC | FSW_C1);
    memcpy(out, m.b, 10);
}

F80 host_scale(FpCtx *x, F80 a, F80 b)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    F80 r;
    BIN_REG("fscale");
    x->sw |= sw & (FSW_EXC | FSW_C1);
    return r;
}

F80 host_prem(FpCtx *x, F80 a, F80 b, bool ieee)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    F80 r;
    if (ieee)
        BIN_REG("fprem1");
    else
        BIN_REG("fprem");
    x->sw |= sw & SW_OUT;
    return r;
}

F80 host_sin(FpCtx *x, F80 a)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    F80 r;
    UN_REG("fsin");
    x->sw |= sw & (FSW_EXC | FSW_C1 | FSW_C2);
    return r;
}

F80 host_cos(FpCtx *x, F80 a)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    F80 r;
    UN_REG("fcos");
    x->sw |= sw & (FSW_EXC | FSW_C1 | FSW_C2);
    return r;
}

F80 host_2xm1(FpCtx *x, F80 a)
{
    uint16_t cw = x->cw, hcw = host_cw(), sw;
    F80 r;
    UN_REG("f2xm1");
    x->sw |= sw & (FSW_EXC | FSW_C1);
    return r;
}

/* Operations that push or pop: the whole state is taken with FNSAVE. */
typedef struct HostSave {
    uint8_t b[108];
} HostSave;

static F80 save_st(const HostSave *s, int i)
{
    F80 r;
    memcpy(&r.m, s->b + 28 + 10 * i, 8);
    memcpy(&r.se, s->b + 36 + 10 * i, 2);
    return r;
}
static uint16_t save_sw(const HostSave *s)
{
    return (uint16_t)(s->b[4] | s->b[5] << 8);
}

#define SAVE1(ins)                                                                         \
    __asm__ volatile("fninit\n\t"                                                          \
                     "fldcw %[cw]\n\t"                                                     \
                     "fldt %[a]\n\t" ins "\n\t"                                            \
                     "fnsave %[sv]\n\t"                                                    \
                     "fldcw %[hcw]"                                                        \
                     : [sv] "=m"(sv)                                                       \
                     : [a] "m"(a), [cw] "m"(cw), [hcw] "m"(hcw)                            \
                     : "st", "st(1)")

#define SAVE2(ins)                                                                         \
    __asm__ volatile("fninit\n\t"                                                          \
                     "fldcw %[cw]\n\t"                                                     \
                     "fldt %[y]\n\t"                                                       \
                     "fldt %[a]\n\t" ins "\n\t"                                            \
                     "fnsave %[sv]\n\t"                                                    \
                     "fldcw %[hcw]"                                                        \
                     : [sv] "=m"(sv)                                                       \
                     : [a] "m"(a), [y] "m"(y), [cw] "m"(cw), [hcw] "m"(hcw)                \
                     : "st", "st(1)", "st(2)")

void host_sincos(FpCtx *x, F80 a, F80 *s, F80 *c)
{
    uint16_t cw = x->cw, hcw = host_cw();
    HostSave sv;
    SAVE1("fsincos");
    x->sw |= save_sw(&sv) & (FSW_EXC | FSW_C1 | FSW_C2);
    *c = save_st(&sv, 0);
    *s = save_st(&sv, 1);
}

F80 host_tan(FpCtx *x, F80 a)
{
    uint16_t cw = x->cw, hcw = host_cw();
    HostSave sv;
    SAVE1("fptan");
    uint16_t sw = save_sw(&sv);
    x->sw |= sw & (FSW_EXC | FSW_C1 | FSW_C2);
    return save_st(&sv, 1);
}

void host_xtract(FpCtx *x, F80 a, F80 *exp, F80 *sig)
{
    uint16_t cw = x->cw, hcw = host_cw();
    HostSave sv;
    SAVE1("fxtract");
    x->sw |= save_sw(&sv) & (FSW_EXC | FSW_C1);
    *sig = save_st(&sv, 0);
    *exp = save_st(&sv, 1);
}

F80 host_atan(FpCtx *x, F80 y, F80 a)
{
    uint16_t cw = x->cw, hcw = host_cw();
    HostSave sv;
    SAVE2("fpatan");
    x->sw |= save_sw(&sv) & (FSW_EXC | FSW_C1);
    return save_st(&sv, 0);
}

F80 host_yl2x(FpCtx *x, F80 y, F80 a)
{
    uint16_t cw = x->cw, hcw = host_cw();
    HostSave sv;
    SAVE2("fyl2x");
    x->sw |= save_sw(&sv) & (FSW_EXC | FSW_C1);
    return save_st(&sv, 0);
}

F80 host_yl2xp1(FpCtx *x, F80 y, F80 a)
{
    uint16_t cw = x->cw, hcw = host_cw();
    HostSave sv;
    SAVE2("fyl2xp1");
    x->sw |= save_sw(&sv) & (FSW_EXC | FSW_C1);
    return save_st(&sv, 0);
}

#else

bool fpu_host_available(void)
{
    return false;
}

#endif
