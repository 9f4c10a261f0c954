/* Portable x87 arithmetic: the "soft" back end (see fpu_impl.h).
 *
 * Values are unpacked to sign, biased exponent and a 64-bit significand
 * with the integer bit at bit 63 (denormals normalized, the exponent then
 * going below 1), computed exactly or with enough guard bits in 128-bit
 * integers, and rounded once by round_pack().  The rules follow the SDM:
 *   - rounding to the precision control's 24/53/64 bits (vol. 1, 8.1.5.2;
 *     the reserved PC = 01 behaves as 64 bits on the hardware we compare
 *     with) in the rounding control's direction, C1 = rounded up (8.1.3.3);
 *   - a result is tiny when, rounded to the precision with an unbounded
 *     exponent, it is below the smallest normal (tininess after rounding,
 *     4.9.1.5: what the hardware we compare with does); a masked underflow
 *     denormalizes the exact result and rounds it at the precision's bit
 *     position, so that a tiny result keeps fewer than PC bits; an unmasked
 *     overflow or underflow delivers the result with the exponent wrapped
 *     by 24,576 (4.9.1.4, 4.9.1.5), and infinity or zero when even that
 *     does not bring it in range;
 *   - NaN operands (4.8.3.5, table 4-7): an SNaN is quieted with IE; of two
 *     NaNs a QNaN beats an SNaN, else the larger significand wins and, at
 *     equal significands, the positive one; unsupported encodings (pseudo-
 *     NaN, pseudo-infinity, unnormal; 8.2.2) give IE and the indefinite;
 *   - exception priority (4.9.2): invalid, then divide-by-zero (which
 *     suppresses the denormal flag), then denormal operand, then overflow /
 *     underflow and precision.
 */
#include "cpu/fpu_impl.h"

typedef unsigned __int128 u128;

typedef struct Unp {
    bool sign;
    int32_t exp; /* biased, for m normalized (bit 63 set) */
    uint64_t m;
} Unp;

static inline int clz64(uint64_t v) { return v ? __builtin_clzll(v) : 64; }

static Unp unpack(F80 a)
{
    Unp u = {f80_sign(a), a.se & 0x7FFF, a.m};
    if (u.exp == 0 && u.m) {
        /* Denormals and pseudo-denormals both have the exponent of 1. */
        int sh = clz64(u.m);
        u.exp = 1 - sh;
        u.m <<= sh;
    }
    return u;
}

static int prec_bits(uint16_t cw)
{
    switch ((cw >> 8) & 3) {
    case 0: return 24;
    case 2: return 53;
    default: return 64;
    }
}

static inline int rc_of(uint16_t cw) { return (cw >> 10) & 3; }

/* Whether to round the kept bits up (in magnitude), given the dropped bits
 * aligned at the top of `r` (sticky ORed into bit 0) and the kept LSB. */
static bool round_up(int rc, bool sign, uint64_t r, bool lsb)
{
    switch (rc) {
    case RC_NEAREST: return r > (1ull << 63) || (r == (1ull << 63) && lsb);
    case RC_DOWN: return sign && r;
    case RC_UP: return !sign && r;
    default: return false;
    }
}

/* Shift the 128-bit hi:lo right by n, ORing what falls off into bit 0. */
static void shr_sticky(uint64_t *hi, uint64_t *lo, uint32_t n)
{
    if (n == 0)
        return;
    u128 v = ((u128)*hi << 64) | *lo;
    if (n >= 128) {
        v = v != 0;
    } else {
        bool lost = (v & (((u128)1 << n) - 1)) != 0;
        v = (v >> n) | lost;
    }
    *hi = (uint64_t)(v >> 64);
    *lo = (uint64_t)v;
}

static F80 f80_inf(bool sign) { return f80_make(sign, 0x7FFF, 1ull << 63); }
static F80 f80_zero(bool sign) { return f80_make(sign, 0, 0); }

/* An operand passed through unchanged, except that a pseudo-denormal takes
 * its canonical exponent of 1 (FSCALE by 0, FPREM by infinity). */
static F80 repack(F80 a)
{
    if ((a.se & 0x7FFF) == 0 && (a.m >> 63))
        a.se |= 1;
    return a;
}

static F80 invalid(FpCtx *x)
{
    x->sw |= FSW_IE;
    return F80_INDEFINITE;
}

/* Whether rounding m:lo to `prec` bits at its normal position carries out
 * of the significand (the result then has the next exponent). */
static bool round_carries(int rc, bool sign, uint64_t m, uint64_t lo, int prec)
{
    int k = 64 - prec;
    uint64_t kept = k ? m & (~0ull << k) : m;
    uint64_t r = k ? (m << prec) | (lo != 0) : lo;
    return kept == (~0ull << k) && round_up(rc, sign, r, (kept >> k) & 1);
}

/* Round hi:lo (hi normalized, value hi.lo * 2^(exp - bias)) to `prec`
 * bits for a register destination. */
static F80 round_pack(FpCtx *x, bool sign, int32_t exp, uint64_t m, uint64_t lo, int prec)
{
    int rc = rc_of(x->cw);
    bool tiny = exp < 0 || (exp == 0 && !round_carries(rc, sign, m, lo, prec));
    if (tiny) {
        if (!(x->cw & FSW_UE)) {
            /* Unmasked underflow: deliver the wrapped result. */
            x->sw |= FSW_UE;
            exp += 0x6000;
            if (exp <= 0) {
                x->sw |= FSW_PE;
                return f80_zero(sign);
            }
            tiny = false;
        } else {
            shr_sticky(&m, &lo, (uint32_t)(1 - exp));
            exp = 1;
        }
    }
    int k = 64 - prec;
    uint64_t kept, r;
    if (k == 0) {
        kept = m;
        r = lo;
    } else {
        kept = m & (~0ull << k);
        r = (m << prec) | (lo != 0);
    }
    bool inexact = r != 0;
    bool up = round_up(rc, sign, r, (kept >> k) & 1);
    if (up) {
        kept += 1ull << k;
        if (kept == 0) {
            kept = 1ull << 63;
            exp++;
        }
    }
    if (tiny) {
        if (inexact)
            x->sw |= FSW_UE | FSW_PE;
        if (up)
            x->sw |= FSW_C1;
        return f80_make(sign, (kept >> 63) ? (unsigned)exp : 0, kept);
    }
    if (exp >= 0x7FFF) {
        if (!(x->cw & FSW_OE)) {
            x->sw |= FSW_OE;
            exp -= 0x6000;
            if (exp >= 0x7FFF) {
                x->sw |= FSW_PE | FSW_C1;
                return f80_inf(sign);
            }
        } else {
            x->sw |= FSW_OE | FSW_PE;
            bool to_inf = rc == RC_NEAREST || (rc == RC_UP && !sign) || (rc == RC_DOWN && sign);
            if (to_inf) {
                x->sw |= FSW_C1;
                return f80_inf(sign);
            }
            return f80_make(sign, 0x7FFE, ~0ull << k);
        }
    }
    if (inexact)
        x->sw |= FSW_PE;
    if (up)
        x->sw |= FSW_C1;
    return f80_make(sign, (unsigned)exp, kept);
}

F80 soft_round(FpCtx *x, bool sign, int32_t exp, uint64_t m, uint64_t lo, int prec)
{
    return round_pack(x, sign, exp, m, lo, prec);
}

/* ---- NaN rules ---------------------------------------------------------- */

static bool is_nan_class(int c) { return c == FPC_QNAN || c == FPC_SNAN; }

static F80 quiet(F80 a)
{
    a.m |= 1ull << 62;
    return a;
}

/* Result of an operation with at least one NaN operand and no unsupported
 * one (SDM vol. 1, table 4-7, x87 column). */
static F80 nan_result(FpCtx *x, F80 a, int ca, F80 b, int cb)
{
    bool an = is_nan_class(ca), bn = is_nan_class(cb);
    if (ca == FPC_SNAN || cb == FPC_SNAN)
        x->sw |= FSW_IE;
    F80 r;
    if (an && bn) {
        if (ca != cb)
            r = ca == FPC_QNAN ? a : b;
        else if (a.m != b.m)
            r = a.m > b.m ? a : b;
        else
            r = f80_sign(a) ? b : a;
    } else {
        r = an ? a : b;
    }
    return quiet(r);
}

F80 soft_nan2(FpCtx *x, F80 a, F80 b)
{
    int ca = f80_class(a), cb = f80_class(b);
    if (ca == FPC_UNSUPPORTED || cb == FPC_UNSUPPORTED)
        return invalid(x);
    return nan_result(x, a, ca, b, cb);
}

/* ---- Memory operand formats ----------------------------------------------- */

/* Exact conversions of a binary32/64 image to F80, keeping SNaNs
 * signalling; *den tells that the source was a denormal (which is normal in
 * the extended format but still raises #D when used). */
static F80 f32_raw(uint32_t v, bool *den)
{
    bool s = v >> 31;
    unsigned e = (v >> 23) & 0xFF;
    uint64_t m = (uint64_t)(v & 0x7FFFFF) << 40;
    *den = false;
    if (e == 0xFF)
        return f80_make(s, 0x7FFF, (1ull << 63) | m);
    if (e == 0) {
        if (!m)
            return f80_zero(s);
        *den = true;
        int sh = clz64(m);
        return f80_make(s, (unsigned)(FP_EXP_BIAS - 126 - sh), m << sh);
    }
    return f80_make(s, e - 127 + FP_EXP_BIAS, (1ull << 63) | m);
}

static F80 f64_raw(uint64_t v, bool *den)
{
    bool s = v >> 63;
    unsigned e = (v >> 52) & 0x7FF;
    uint64_t m = (v & 0xFFFFFFFFFFFFFull) << 11;
    *den = false;
    if (e == 0x7FF)
        return f80_make(s, 0x7FFF, (1ull << 63) | m);
    if (e == 0) {
        if (!m)
            return f80_zero(s);
        *den = true;
        int sh = clz64(m);
        return f80_make(s, (unsigned)(FP_EXP_BIAS - 1022 - sh), m << sh);
    }
    return f80_make(s, e - 1023 + FP_EXP_BIAS, (1ull << 63) | m);
}

static F80 mem_raw(uint64_t v, int fmt, bool *den)
{
    *den = false;
    switch (fmt) {
    case FMT_F32: return f32_raw((uint32_t)v, den);
    case FMT_F64: return f64_raw(v, den);
    case FMT_I16: return f80_from_int((int16_t)v);
    default: return f80_from_int((int32_t)v);
    }
}

/* ---- Add, subtract, multiply, divide -------------------------------------- */

static F80 add_core(FpCtx *x, Unp a, Unp b, int prec)
{
    int rc = rc_of(x->cw);
    if (a.m == 0 && b.m == 0) {
        bool s = a.sign == b.sign ? a.sign : rc == RC_DOWN;
        return f80_zero(s);
    }
    if (a.m == 0)
        return round_pack(x, b.sign, b.exp, b.m, 0, prec);
    if (b.m == 0)
        return round_pack(x, a.sign, a.exp, a.m, 0, prec);
    if (a.exp < b.exp || (a.exp == b.exp && a.m < b.m)) {
        Unp t = a;
        a = b;
        b = t;
    }
    uint64_t ah = a.m, al = 0, bh = b.m, bl = 0;
    shr_sticky(&bh, &bl, (uint32_t)(a.exp - b.exp));
    u128 A = ((u128)ah << 64) | al, B = ((u128)bh << 64) | bl;
    int32_t exp = a.exp;
    u128 r;
    if (a.sign == b.sign) {
        r = A + B;
        if (r < A) {
            r = (r >> 1) | (r & 1) | ((u128)1 << 127);
            exp++;
        }
    } else {
        r = A - B; /* |a| >= |b| */
        if (r == 0)
            return f80_zero(rc == RC_DOWN);
        uint64_t hi = (uint64_t)(r >> 64);
        int sh = hi ? clz64(hi) : 64 + clz64((uint64_t)r);
        r <<= sh;
        exp -= sh;
    }
    return round_pack(x, a.sign, exp, (uint64_t)(r >> 64), (uint64_t)r, prec);
}

static F80 mul_core(FpCtx *x, Unp a, Unp b, int prec)
{
    bool s = a.sign ^ b.sign;
    if (a.m == 0 || b.m == 0)
        return f80_zero(s);
    u128 p = (u128)a.m * b.m;
    int32_t exp = a.exp + b.exp - FP_EXP_BIAS;
    if (p >> 127)
        exp++;
    else
        p <<= 1;
    return round_pack(x, s, exp, (uint64_t)(p >> 64), (uint64_t)p, prec);
}

static F80 div_core(FpCtx *x, Unp a, Unp b, int prec)
{
    bool s = a.sign ^ b.sign;
    if (a.m == 0)
        return f80_zero(s);
    int32_t exp = a.exp - b.exp + FP_EXP_BIAS;
    u128 num;
    if (a.m >= b.m) {
        num = (u128)a.m << 63;
    } else {
        num = (u128)a.m << 64;
        exp--;
    }
    uint64_t q1 = (uint64_t)(num / b.m);
    uint64_t r1 = (uint64_t)(num % b.m);
    u128 n2 = (u128)r1 << 64;
    uint64_t q2 = (uint64_t)(n2 / b.m);
    bool sticky = (n2 % b.m) != 0;
    return round_pack(x, s, exp, q1, q2 | sticky, prec);
}

/* The operation proper, after the memory operand (if any) is unpacked;
 * aden/bden mark operands that came from single/double denormals. */
static F80 arith_core(FpCtx *x, int op, F80 a, F80 b, bool aden, bool bden)
{
    if (op == FOP_SUBR || op == FOP_DIVR) {
        F80 t = a;
        a = b;
        b = t;
        bool td = aden;
        aden = bden;
        bden = td;
        op = op == FOP_SUBR ? FOP_SUB : FOP_DIV;
    }
    int ca = f80_class(a), cb = f80_class(b);
    if (ca == FPC_UNSUPPORTED || cb == FPC_UNSUPPORTED)
        return invalid(x);
    if (is_nan_class(ca) || is_nan_class(cb))
        return nan_result(x, a, ca, b, cb);
    bool sa = f80_sign(a), sb = f80_sign(b);
    if (op == FOP_SUB)
        sb = !sb;
    bool ainf = ca == FPC_INF, binf = cb == FPC_INF;
    bool azero = ca == FPC_ZERO, bzero = cb == FPC_ZERO;
    switch (op) {
    case FOP_ADD:
    case FOP_SUB:
        if (ainf && binf && sa != sb)
            return invalid(x);
        break;
    case FOP_MUL:
        if ((ainf && bzero) || (azero && binf))
            return invalid(x);
        break;
    default: /* FOP_DIV */
        if ((ainf && binf) || (azero && bzero))
            return invalid(x);
        if (bzero && !ainf) {
            x->sw |= FSW_ZE;
            return f80_inf(sa ^ sb);
        }
        break;
    }
    if (aden || bden || ca == FPC_DENORMAL || cb == FPC_DENORMAL) {
        x->sw |= FSW_DE;
        if (!(x->cw & FSW_DE))
            return a;
    }
    int prec = prec_bits(x->cw);
    Unp ua = unpack(a), ub = unpack(b);
    ub.sign = sb;
    switch (op) {
    case FOP_ADD:
    case FOP_SUB:
        if (ainf || binf)
            return f80_inf(ainf ? sa : sb);
        return add_core(x, ua, ub, prec);
    case FOP_MUL:
        if (ainf || binf)
            return f80_inf(sa ^ sb);
        return mul_core(x, ua, ub, prec);
    default:
        if (ainf)
            return f80_inf(sa ^ sb);
        if (binf)
            return f80_zero(sa ^ sb);
        return div_core(x, ua, ub, prec);
    }
}

F80 soft_arith(FpCtx *x, int op, F80 a, F80 b)
{
    return arith_core(x, op, a, b, false, false);
}

F80 soft_arith_m(FpCtx *x, int op, F80 a, uint64_t m, int fmt)
{
    bool den;
    F80 b = mem_raw(m, fmt, &den);
    return arith_core(x, op, a, b, false, den);
}

/* ---- Square root ------------------------------------------------------------- */

F80 soft_sqrt(FpCtx *x, F80 a)
{
    int ca = f80_class(a);
    if (ca == FPC_UNSUPPORTED)
        return invalid(x);
    if (is_nan_class(ca))
        return nan_result(x, a, ca, a, ca);
    if (ca == FPC_ZERO)
        return a;
    if (f80_sign(a))
        return invalid(x);
    if (ca == FPC_INF)
        return a;
    if (ca == FPC_DENORMAL) {
        x->sw |= FSW_DE;
        if (!(x->cw & FSW_DE))
            return a;
    }
    Unp u = unpack(a);
    int32_t e = u.exp - FP_EXP_BIAS;
    u128 n = (e & 1) ? (u128)u.m << 64 : (u128)u.m << 63;
    int32_t re = (e & 1) ? (e - 1) / 2 : e / 2;
    /* Digit-by-digit square root: 64 result bits. */
    u128 rem = 0, root = 0;
    for (int k = 0; k < 64; k++) {
        rem = (rem << 2) | (uint64_t)(n >> 126);
        n <<= 2;
        root <<= 1;
        u128 t = (root << 1) | 1;
        if (rem >= t) {
            rem -= t;
            root |= 1;
        }
    }
    /* No square root lies exactly halfway, so the remainder tells above
     * or below half and inexactness. */
    uint64_t lo = rem == 0 ? 0 : rem > root ? 0xC000000000000000ull : 0x4000000000000000ull;
    return round_pack(x, false, re + FP_EXP_BIAS, (uint64_t)root, lo, prec_bits(x->cw));
}

/* ---- Compare ------------------------------------------------------------------ */

static int cmp_core(FpCtx *x, F80 a, F80 b, bool quiet_cmp, bool bden)
{
    int ca = f80_class(a), cb = f80_class(b);
    if (ca == FPC_UNSUPPORTED || cb == FPC_UNSUPPORTED) {
        x->sw |= FSW_IE;
        return FCMP_UN;
    }
    if (is_nan_class(ca) || is_nan_class(cb)) {
        if (ca == FPC_SNAN || cb == FPC_SNAN || !quiet_cmp)
            x->sw |= FSW_IE;
        return FCMP_UN;
    }
    if (bden || ca == FPC_DENORMAL || cb == FPC_DENORMAL)
        x->sw |= FSW_DE;
    if (ca == FPC_ZERO && cb == FPC_ZERO)
        return FCMP_EQ;
    bool sa = f80_sign(a), sb = f80_sign(b);
    if (ca == FPC_ZERO)
        return sb ? FCMP_GT : FCMP_LT;
    if (cb == FPC_ZERO)
        return sa ? FCMP_LT : FCMP_GT;
    if (sa != sb)
        return sa ? FCMP_LT : FCMP_GT;
    Unp ua = unpack(a), ub = unpack(b);
    int mag;
    if (ua.exp != ub.exp)
        mag = ua.exp > ub.exp ? 1 : -1;
    else
        mag = ua.m == ub.m ? 0 : ua.m > ub.m ? 1 : -1;
    if (mag == 0)
        return FCMP_EQ;
    return (mag > 0) != sa ? FCMP_GT : FCMP_LT;
}

int soft_cmp(FpCtx *x, F80 a, F80 b, bool quiet_cmp)
{
    return cmp_core(x, a, b, quiet_cmp, false);
}

int soft_cmp_m(FpCtx *x, F80 a, uint64_t m, int fmt)
{
    bool den;
    F80 b = mem_raw(m, fmt, &den);
    return cmp_core(x, a, b, false, den);
}

/* ---- Conversions ---------------------------------------------------------------- */

F80 soft_from_f32(FpCtx *x, uint32_t v)
{
    bool den;
    F80 r = f32_raw(v, &den);
    int c = f80_class(r);
    if (c == FPC_SNAN) {
        x->sw |= FSW_IE;
        r = quiet(r);
    }
    if (den)
        x->sw |= FSW_DE;
    return r;
}

F80 soft_from_f64(FpCtx *x, uint64_t v)
{
    bool den;
    F80 r = f64_raw(v, &den);
    if (f80_class(r) == FPC_SNAN) {
        x->sw |= FSW_IE;
        r = quiet(r);
    }
    if (den)
        x->sw |= FSW_DE;
    return r;
}

/* Round to a binary32/64 memory image (FST m32/m64): fbits fraction bits,
 * ebits exponent bits.  An unmasked overflow or underflow only sets its
 * flag: the caller does not store. */
static uint64_t round_ieee(FpCtx *x, F80 a, int fbits, int ebits)
{
    bool s = f80_sign(a);
    uint64_t sbit = (uint64_t)s << (fbits + ebits);
    uint64_t emax = (1u << ebits) - 1;
    uint64_t fmask = (1ull << fbits) - 1;
    switch (f80_class(a)) {
    case FPC_ZERO:
        return sbit;
    case FPC_INF:
        return sbit | (emax << fbits);
    case FPC_SNAN:
        x->sw |= FSW_IE;
        /* fall through */
    case FPC_QNAN:
        return sbit | (emax << fbits) | (1ull << (fbits - 1)) | ((a.m >> (63 - fbits)) & fmask);
    case FPC_UNSUPPORTED:
        x->sw |= FSW_IE;
        return (1ull << (fbits + ebits)) | (emax << fbits) | (1ull << (fbits - 1));
    default:
        break;
    }
    Unp u = unpack(a);
    int32_t bias = (1 << (ebits - 1)) - 1;
    int32_t e = u.exp - FP_EXP_BIAS + bias;
    uint64_t m = u.m, lo = 0;
    int prec = fbits + 1, k = 64 - prec;
    int rc = rc_of(x->cw);
    bool tiny = e < 0 || (e == 0 && !round_carries(rc, s, m, lo, prec));
    if (tiny) {
        if (!(x->cw & FSW_UE)) {
            x->sw |= FSW_UE;
            return 0;
        }
        shr_sticky(&m, &lo, (uint32_t)(1 - e));
        e = 1;
    }
    uint64_t kept = m & (~0ull << k);
    uint64_t r = (m << prec) | (lo != 0);
    bool up = round_up(rc, s, r, (kept >> k) & 1);
    if (up) {
        kept += 1ull << k;
        if (kept == 0) {
            kept = 1ull << 63;
            e++;
        }
    }
    if (tiny) {
        if (r)
            x->sw |= FSW_UE | FSW_PE;
        if (!(kept >> 63))
            e = 0;
    } else if ((uint64_t)e >= emax) {
        if (!(x->cw & FSW_OE)) {
            x->sw |= FSW_OE;
            return 0;
        }
        x->sw |= FSW_OE | FSW_PE;
        bool to_inf = rc == RC_NEAREST || (rc == RC_UP && !s) || (rc == RC_DOWN && s);
        if (to_inf) {
            x->sw |= FSW_C1;
            return sbit | (emax << fbits);
        }
        return sbit | ((emax - 1) << fbits) | fmask;
    } else if (r) {
        x->sw |= FSW_PE;
    }
    if (up)
        x->sw |= FSW_C1;
    return sbit | ((uint64_t)e << fbits) | ((kept >> k) & fmask);
}

uint32_t soft_to_f32(FpCtx *x, F80 a)
{
    return (uint32_t)round_ieee(x, a, 23, 8);
}

uint64_t soft_to_f64(FpCtx *x, F80 a)
{
    return round_ieee(x, a, 52, 11);
}

/* Round a finite non-zero value to an integer magnitude in the rounding
 * control's direction; *ok = false when it needs more than 64 bits. */
static uint64_t round_to_integer(FpCtx *x, Unp u, bool *inexact, bool *up, bool *ok)
{
    int32_t sh = FP_EXP_BIAS + 63 - u.exp;
    uint64_t kept, r;
    *ok = true;
    if (sh < 0) {
        *ok = false;
        return 0;
    }
    if (sh == 0) {
        kept = u.m;
        r = 0;
    } else if (sh < 64) {
        kept = u.m >> sh;
        r = u.m << (64 - sh);
    } else if (sh == 64) {
        kept = 0;
        r = u.m;
    } else if (sh < 128) {
        kept = 0;
        r = (u.m >> (sh - 64)) | ((u.m << (128 - sh)) != 0);
    } else {
        kept = 0;
        r = 1;
    }
    *inexact = r != 0;
    *up = round_up(rc_of(x->cw), u.sign, r, kept & 1);
    if (*up) {
        kept++;
        if (kept == 0)
            *ok = false;
    }
    return kept;
}

int64_t soft_to_int(FpCtx *x, F80 a, int bits)
{
    uint64_t indef = 1ull << (bits - 1);
    int c = f80_class(a);
    if (c == FPC_ZERO)
        return 0;
    if (c != FPC_NORMAL && c != FPC_DENORMAL) {
        x->sw |= FSW_IE;
        return (int64_t)indef;
    }
    Unp u = unpack(a);
    bool inexact, up, ok;
    uint64_t v = round_to_integer(x, u, &inexact, &up, &ok);
    uint64_t limit = u.sign ? indef : indef - 1;
    if (!ok || v > limit) {
        x->sw |= FSW_IE;
        return (int64_t)indef;
    }
    if (inexact)
        x->sw |= FSW_PE;
    if (up)
        x->sw |= FSW_C1;
    return u.sign ? (int64_t)(0 - v) : (int64_t)v;
}

F80 soft_rndint(FpCtx *x, F80 a)
{
    int c = f80_class(a);
    switch (c) {
    case FPC_UNSUPPORTED:
        return invalid(x);
    case FPC_SNAN:
    case FPC_QNAN:
        return nan_result(x, a, c, a, c);
    case FPC_ZERO:
    case FPC_INF:
        return a;
    case FPC_DENORMAL:
        x->sw |= FSW_DE;
        if (!(x->cw & FSW_DE))
            return a;
        break;
    default:
        break;
    }
    Unp u = unpack(a);
    if (u.exp >= FP_EXP_BIAS + 63)
        return a;
    bool inexact, up, ok;
    uint64_t v = round_to_integer(x, u, &inexact, &up, &ok);
    if (inexact)
        x->sw |= FSW_PE;
    if (up)
        x->sw |= FSW_C1;
    if (v == 0)
        return f80_zero(u.sign);
    int sh = clz64(v);
    return f80_make(u.sign, (unsigned)(FP_EXP_BIAS + 63 - sh), v << sh);
}

/* ---- Packed BCD (FBLD / FBSTP) --------------------------------------------------- */

F80 soft_from_bcd(FpCtx *x, const uint8_t in[10])
{
    (void)x;
    uint64_t v = 0;
    for (int k = 8; k >= 0; k--)
        v = v * 100 + (uint64_t)(in[k] >> 4) * 10 + (in[k] & 15);
    F80 r = f80_from_int((int64_t)v);
    if (in[9] & 0x80)
        r.se |= 0x8000;
    return r;
}

void soft_to_bcd(FpCtx *x, F80 a, uint8_t out[10])
{
    static const uint8_t indef[10] = {0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF};
    int c = f80_class(a);
    bool s = f80_sign(a);
    uint64_t v = 0;
    if (c != FPC_ZERO) {
        if (c != FPC_NORMAL && c != FPC_DENORMAL) {
            x->sw |= FSW_IE;
            memcpy(out, indef, 10);
            return;
        }
        Unp u = unpack(a);
        bool inexact, up, ok;
        v = round_to_integer(x, u, &inexact, &up, &ok);
        if (!ok || v > 999999999999999999ull) {
            x->sw |= FSW_IE;
            memcpy(out, indef, 10);
            return;
        }
        if (inexact)
            x->sw |= FSW_PE;
        if (up)
            x->sw |= FSW_C1;
    }
    for (int k = 0; k < 9; k++) {
        unsigned lo = (unsigned)(v % 10);
        v /= 10;
        unsigned hi = (unsigned)(v % 10);
        v /= 10;
        out[k] = (uint8_t)(hi << 4 | lo);
    }
    out[9] = s ? 0x80 : 0;
}

/* ---- FSCALE, FXTRACT, FPREM/FPREM1 ------------------------------------------------- */

F80 soft_scale(FpCtx *x, F80 a, F80 b)
{
    int ca = f80_class(a), cb = f80_class(b);
    if (ca == FPC_UNSUPPORTED || cb == FPC_UNSUPPORTED)
        return invalid(x);
    if (is_nan_class(ca) || is_nan_class(cb))
        return nan_result(x, a, ca, b, cb);
    bool sb = f80_sign(b);
    if (cb == FPC_INF && ((!sb && ca == FPC_ZERO) || (sb && ca == FPC_INF)))
        return invalid(x);
    if (ca == FPC_DENORMAL || cb == FPC_DENORMAL) {
        x->sw |= FSW_DE;
        if (!(x->cw & FSW_DE))
            return a;
    }
    if (ca == FPC_ZERO || ca == FPC_INF)
        return a;
    if (cb == FPC_INF)
        return sb ? f80_zero(f80_sign(a)) : f80_inf(f80_sign(a));
    /* The scale: ST(1) truncated toward zero, saturated well beyond any
     * exponent. */
    int32_t n = 0;
    if (cb != FPC_ZERO) {
        Unp ub = unpack(b);
        int32_t e = ub.exp - FP_EXP_BIAS;
        if (e >= 20)
            n = 1 << 20;
        else if (e >= 0)
            n = (int32_t)(ub.m >> (63 - e));
        if (sb)
            n = -n;
    }
    if (cb == FPC_ZERO)
        return repack(a);
    Unp u = unpack(a);
    return round_pack(x, u.sign, u.exp + n, u.m, 0, 64);
}

void soft_xtract(FpCtx *x, F80 a, F80 *exp, F80 *sig)
{
    int c = f80_class(a);
    switch (c) {
    case FPC_UNSUPPORTED:
        *exp = *sig = invalid(x);
        return;
    case FPC_SNAN:
    case FPC_QNAN:
        *exp = *sig = nan_result(x, a, c, a, c);
        return;
    case FPC_ZERO:
        x->sw |= FSW_ZE;
        *exp = f80_inf(true);
        *sig = a;
        return;
    case FPC_INF:
        *exp = f80_inf(false);
        *sig = a;
        return;
    case FPC_DENORMAL:
        x->sw |= FSW_DE;
        if (!(x->cw & FSW_DE))
            return;
        break;
    default:
        break;
    }
    Unp u = unpack(a);
    *exp = f80_from_int(u.exp - FP_EXP_BIAS);
    *sig = f80_make(u.sign, FP_EXP_BIAS, u.m);
}

F80 soft_prem(FpCtx *x, F80 a, F80 b, bool ieee)
{
    int ca = f80_class(a), cb = f80_class(b);
    if (ca == FPC_UNSUPPORTED || cb == FPC_UNSUPPORTED)
        return invalid(x);
    if (is_nan_class(ca) || is_nan_class(cb))
        return nan_result(x, a, ca, b, cb);
    if (ca == FPC_INF || cb == FPC_ZERO)
        return invalid(x);
    if (ca == FPC_DENORMAL || cb == FPC_DENORMAL) {
        x->sw |= FSW_DE;
        if (!(x->cw & FSW_DE))
            return a;
    }
    if (ca == FPC_ZERO)
        return a;
    Unp ua = unpack(a), ub = unpack(b);
    if (cb == FPC_INF)
        return repack(a);
    int32_t d = ua.exp - ub.exp;
    if (d < -1 || (d == -1 && !ieee))
        return round_pack(x, ua.sign, ua.exp, ua.m, 0, 64); /* a, normalized */
    bool sign = ua.sign;
    uint64_t q = 0;
    u128 r;
    int32_t scale; /* exponent of r's units: r * 2^(scale - bias - 63) */
    bool partial = d >= 64;
    if (d == -1) {
        /* FPREM1 with |a| in [|b|/4, |b|): the quotient rounds to 1 when
         * |a| > |b| / 2. */
        if (ua.m <= ub.m)
            return round_pack(x, ua.sign, ua.exp, ua.m, 0, 64);
        q = 1;
        r = 2 * (u128)ub.m - ua.m;
        scale = ua.exp;
        sign = !sign;
    } else {
        /* Long division of the significands, one quotient bit per step.
         * A partial remainder (SDM vol. 2, FPREM: D >= 64) reduces by N =
         * 32 + (D mod 32) bits, as the processors we compare with do. */
        int32_t steps = partial ? 32 + (d % 32) : d;
        r = ua.m;
        for (int32_t k = 0; k <= steps; k++) {
            if (k)
                r <<= 1;
            q <<= 1;
            if (r >= ub.m) {
                r -= ub.m;
                q |= 1;
            }
        }
        scale = ub.exp + (d - steps);
        if (ieee && !partial) {
            u128 twice = r << 1;
            if (twice > ub.m || (twice == ub.m && (q & 1))) {
                q++;
                r = ub.m - r;
                sign = !sign;
            }
        }
    }
    if (partial) {
        x->sw |= FSW_C2;
    } else {
        if (q & 4)
            x->sw |= FSW_C0;
        if (q & 2)
            x->sw |= FSW_C3;
        if (q & 1)
            x->sw |= FSW_C1;
    }
    if (r == 0)
        return f80_zero(ua.sign);
    uint64_t rm = (uint64_t)r;
    int sh = clz64(rm);
    return round_pack(x, sign, scale - sh, rm << sh, 0, 64);
}
