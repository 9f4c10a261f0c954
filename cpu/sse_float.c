/* IEEE binary32/binary64 arithmetic with the SSE/SSE2 rules (see
 * sse_float.h for the contract).
 *
 * One generic implementation serves both formats: an operand is unpacked to
 * a sign, a biased exponent and a 64-bit significand with its leading one at
 * bit 62 (denormals normalized, their exponent then going below 1), the
 * operation is computed exactly or with a sticky bit in 64- or 128-bit
 * integers, and round_pack() rounds once to the format.  Only integer
 * arithmetic is used, so every host gives the same bits.
 *
 * Exception reporting, as measured on the processors we compare with (all
 * exceptions masked; SDM vol. 1, 11.5.2 and 4.9.2 give the priorities):
 *   - a NaN operand or an invalid operation reports IE (or, for a QNaN that
 *     is merely propagated, nothing) and never DE, even with a denormal
 *     other operand;
 *   - divide-by-zero reports ZE and not DE (a denormal dividend over zero);
 *   - otherwise a denormal source reports DE, unless MXCSR.DAZ turned it into
 *     a zero first, in which case DE is not reported (SDM vol. 1, 10.2.3.4);
 *   - the conversions to integers never report DE.
 */
#include "cpu/sse_float.h"

#include <stddef.h>

__extension__ typedef unsigned __int128 u128;

/* ---- formats and unpacking --------------------------------------------- */

typedef struct Fmt {
    int frac;       /* fraction bits */
    int32_t emax;   /* exponent field of infinities and NaNs */
    int32_t bias;
    int sign_shift; /* bit number of the sign */
} Fmt;

static const Fmt FMT32 = {23, 0xFF, 127, 31};
static const Fmt FMT64 = {52, 0x7FF, 1023, 63};

enum { CL_ZERO, CL_FIN, CL_INF, CL_NAN };

typedef struct Unp {
    int cls;
    bool sign;
    bool denormal; /* a denormal source that counts as one (DAZ off) */
    bool snan;
    int32_t exp;   /* biased; CL_FIN only */
    uint64_t sig;  /* CL_FIN: leading one at bit 62 */
} Unp;

static inline int rc_of(const SseFp *e) { return (e->mxcsr & MXCSR_RC) >> MXCSR_RC_SHIFT; }
enum { RC_NEAREST, RC_DOWN, RC_UP, RC_ZERO };

static inline uint64_t frac_mask(const Fmt *f) { return (1ull << f->frac) - 1; }
static inline uint64_t quiet_bit(const Fmt *f) { return 1ull << (f->frac - 1); }
static inline uint64_t sign_bit(const Fmt *f, bool s) { return (uint64_t)s << f->sign_shift; }

static inline uint64_t make_zero(const Fmt *f, bool s) { return sign_bit(f, s); }

static inline uint64_t make_inf(const Fmt *f, bool s)
{
    return sign_bit(f, s) | (uint64_t)f->emax << f->frac;
}

/* The "QNaN floating-point indefinite" (SDM vol. 1, 4.8.3.7): negative. */
static inline uint64_t default_nan(const Fmt *f) { return make_inf(f, true) | quiet_bit(f); }

static inline uint64_t make_max(const Fmt *f, bool s)
{
    return sign_bit(f, s) | ((uint64_t)(f->emax - 1) << f->frac) | frac_mask(f);
}

static Unp unpack(const SseFp *e, const Fmt *f, uint64_t a)
{
    Unp u = {CL_FIN, (a >> f->sign_shift) & 1, false, false, 0, 0};
    int32_t ex = (int32_t)((a >> f->frac) & (uint64_t)f->emax);
    uint64_t fr = a & frac_mask(f);
    if (ex == f->emax) {
        u.cls = fr ? CL_NAN : CL_INF;
        u.snan = fr && !(fr & quiet_bit(f));
    } else if (ex == 0) {
        if (!fr || (e->mxcsr & MXCSR_DAZ)) {
            /* DAZ: a denormal source is a zero of the same sign, and no
             * DE (SDM vol. 1, 10.2.3.4). */
            u.cls = CL_ZERO;
        } else {
            int sh = __builtin_clzll(fr) - 1;
            u.denormal = true;
            u.sig = fr << sh;
            u.exp = 1 - (sh - (62 - f->frac));
        }
    } else {
        u.exp = ex;
        u.sig = (fr | (1ull << f->frac)) << (62 - f->frac);
    }
    return u;
}

static inline bool is_denormal_enc(const Fmt *f, uint64_t a)
{
    return ((a >> f->frac) & (uint64_t)f->emax) == 0 && (a & frac_mask(f));
}

/* The encoding as the operation sees it: with DAZ a denormal is a zero of
 * the same sign.  MIN/MAX and the compares return or order these. */
static inline uint64_t daz_enc(const SseFp *e, const Fmt *f, uint64_t a)
{
    if ((e->mxcsr & MXCSR_DAZ) && is_denormal_enc(f, a))
        return a & sign_bit(f, true);
    return a;
}

static inline uint64_t shift_right_jam(uint64_t x, int32_t n)
{
    if (n <= 0)
        return x;
    if (n >= 64)
        return x != 0;
    return (x >> n) | ((x << (64 - n)) != 0);
}

/* ---- rounding ------------------------------------------------------------ */

/* Round sign * sig * 2^(exp - bias - 62) (sig nonzero, any position) to the
 * format per MXCSR.RC and pack it, raising OE/UE/PE.  Tininess is detected
 * after rounding (SDM vol. 1, 4.9.1.5: the result rounded with an unbounded
 * exponent is below the smallest normal); with underflow masked a tiny
 * result is denormalized and rounded, and UE is reported only together with
 * PE.  MXCSR.FZ instead returns a zero of the result's sign for any tiny
 * result, exact or not, and reports UE and PE (SDM vol. 1, 10.2.3.3). */
static uint64_t round_pack(SseFp *e, const Fmt *f, bool sign, int32_t exp, uint64_t sig)
{
    const int rbits = 62 - f->frac;
    const uint64_t rmask = (1ull << rbits) - 1, half = 1ull << (rbits - 1);
    int rc = rc_of(e);
    uint64_t inc;

    if (sig >> 63) {
        sig = shift_right_jam(sig, 1);
        exp++;
    } else {
        int sh = __builtin_clzll(sig) - 1;
        sig <<= sh;
        exp -= sh;
    }

    switch (rc) {
    case RC_NEAREST: inc = half; break;
    case RC_DOWN: inc = sign ? rmask : 0; break;
    case RC_UP: inc = sign ? 0 : rmask; break;
    default: inc = 0; break;
    }

    bool tiny = exp < 0 || (exp == 0 && sig + inc < (1ull << 63));
    /* Unmasked underflow (SDM vol. 1, 4.9.1.5 and 11.5.2.4): signalled for
     * any tiny result, exact or not, and no masked response (denormal or
     * FZ zero) is formed, so PE reports the rounding with an unbounded
     * exponent: the host CPU sets UE alone for a tiny result exact in the
     * format's precision.  The value returned is never stored (#XM). */
    if (tiny && !(e->mxcsr & (MXCSR_UE << MXCSR_MASK_SHIFT))) {
        e->flags |= MXCSR_UE | ((sig & rmask) ? MXCSR_PE : 0);
        return make_zero(f, sign);
    }
    if (tiny) {
        if (e->mxcsr & MXCSR_FZ) {
            e->flags |= MXCSR_UE | MXCSR_PE;
            return make_zero(f, sign);
        }
        sig = shift_right_jam(sig, 1 - exp);
        exp = 1;
    }

    uint64_t rb = sig & rmask;
    uint64_t kept = (sig + inc) >> rbits;
    if (rc == RC_NEAREST && rb == half)
        kept &= ~1ull; /* a tie goes to the even neighbour */
    if (kept >> (f->frac + 1)) {
        kept >>= 1;
        exp++;
    }
    if (rb) {
        e->flags |= MXCSR_PE;
        if (tiny)
            e->flags |= MXCSR_UE;
    }
    if (exp >= f->emax) {
        /* Unmasked overflow: OE, and PE only if the rounding above was
         * inexact; the value is never stored (#XM). */
        if (!(e->mxcsr & (MXCSR_OE << MXCSR_MASK_SHIFT))) {
            e->flags |= MXCSR_OE;
            return make_inf(f, sign);
        }
        /* Masked overflow (SDM vol. 1, 4.9.1.4, table 4-10): infinity or the
         * largest finite number, by the rounding direction. */
        e->flags |= MXCSR_OE | MXCSR_PE;
        bool to_inf = rc == RC_NEAREST || (rc == RC_DOWN && sign) || (rc == RC_UP && !sign);
        return to_inf ? make_inf(f, sign) : make_max(f, sign);
    }
    /* The leading one in `kept` adds one to the exponent field; a denormal
     * (exp 1, no leading one) keeps the field at zero. */
    return sign_bit(f, sign) + ((uint64_t)(exp - 1) << f->frac) + kept;
}

/* ---- NaNs ---------------------------------------------------------------- */

/* SDM vol. 1, table 4-7: the first source's NaN if it is one, else the
 * second's, quieted; an SNaN source raises IE. */
static uint64_t nan_result(SseFp *e, const Fmt *f, uint64_t a, const Unp *ua, uint64_t b,
                           const Unp *ub)
{
    if (ua->snan || (ub && ub->snan))
        e->flags |= MXCSR_IE;
    return (ua->cls == CL_NAN ? a : b) | quiet_bit(f);
}

static uint64_t invalid(SseFp *e, const Fmt *f)
{
    e->flags |= MXCSR_IE;
    return default_nan(f);
}

static inline void note_denormal(SseFp *e, const Unp *ua, const Unp *ub)
{
    if (ua->denormal || (ub && ub->denormal))
        e->flags |= MXCSR_DE;
}

/* ---- arithmetic ---------------------------------------------------------- */

static uint64_t gen_add(SseFp *e, const Fmt *f, uint64_t a, uint64_t b, bool negate_b)
{
    Unp ua = unpack(e, f, a), ub = unpack(e, f, b);
    if (ua.cls == CL_NAN || ub.cls == CL_NAN)
        return nan_result(e, f, a, &ua, b, &ub);
    ub.sign ^= negate_b;
    if (ua.cls == CL_INF && ub.cls == CL_INF && ua.sign != ub.sign)
        return invalid(e, f); /* inf - inf (SDM vol. 1, 4.9.1.2) */
    note_denormal(e, &ua, &ub);
    if (ua.cls == CL_INF || ub.cls == CL_INF)
        return make_inf(f, ua.cls == CL_INF ? ua.sign : ub.sign);
    if (ua.cls == CL_ZERO && ub.cls == CL_ZERO) {
        /* IEEE 754 6.3: a sum of opposite zeros is +0 except when rounding
         * down. */
        bool s = ua.sign == ub.sign ? ua.sign : rc_of(e) == RC_DOWN;
        return make_zero(f, s);
    }
    if (ua.cls == CL_ZERO)
        return round_pack(e, f, ub.sign, ub.exp, ub.sig);
    if (ub.cls == CL_ZERO)
        return round_pack(e, f, ua.sign, ua.exp, ua.sig);

    /* Align on the larger exponent; the smaller operand's lost bits go to a
     * sticky bit, which at bit 0 is far below the rounding position. */
    if (ua.exp < ub.exp || (ua.exp == ub.exp && ua.sig < ub.sig)) {
        Unp t = ua;
        ua = ub;
        ub = t;
    }
    uint64_t bs = shift_right_jam(ub.sig, ua.exp - ub.exp);
    if (ua.sign == ub.sign)
        return round_pack(e, f, ua.sign, ua.exp, ua.sig + bs);
    uint64_t d = ua.sig - bs;
    if (!d)
        return make_zero(f, rc_of(e) == RC_DOWN);
    return round_pack(e, f, ua.sign, ua.exp, d);
}

static uint64_t gen_mul(SseFp *e, const Fmt *f, uint64_t a, uint64_t b)
{
    Unp ua = unpack(e, f, a), ub = unpack(e, f, b);
    if (ua.cls == CL_NAN || ub.cls == CL_NAN)
        return nan_result(e, f, a, &ua, b, &ub);
    bool s = ua.sign ^ ub.sign;
    if ((ua.cls == CL_INF && ub.cls == CL_ZERO) || (ua.cls == CL_ZERO && ub.cls == CL_INF))
        return invalid(e, f);
    note_denormal(e, &ua, &ub);
    if (ua.cls == CL_INF || ub.cls == CL_INF)
        return make_inf(f, s);
    if (ua.cls == CL_ZERO || ub.cls == CL_ZERO)
        return make_zero(f, s);
    /* [2^124, 2^126): keep the top bits with a sticky bit. */
    u128 p = (u128)ua.sig * ub.sig;
    uint64_t sig = (uint64_t)(p >> 62) | (((uint64_t)p & ((1ull << 62) - 1)) != 0);
    return round_pack(e, f, s, ua.exp + ub.exp - f->bias, sig);
}

static uint64_t gen_div(SseFp *e, const Fmt *f, uint64_t a, uint64_t b)
{
    Unp ua = unpack(e, f, a), ub = unpack(e, f, b);
    if (ua.cls == CL_NAN || ub.cls == CL_NAN)
        return nan_result(e, f, a, &ua, b, &ub);
    bool s = ua.sign ^ ub.sign;
    if ((ua.cls == CL_INF && ub.cls == CL_INF) || (ua.cls == CL_ZERO && ub.cls == CL_ZERO))
        return invalid(e, f);
    if (ub.cls == CL_ZERO && ua.cls == CL_FIN) {
        /* Divide-by-zero outranks the denormal operand (SDM vol. 1, 4.9.2). */
        e->flags |= MXCSR_ZE;
        return make_inf(f, s);
    }
    note_denormal(e, &ua, &ub);
    if (ua.cls == CL_INF || ub.cls == CL_ZERO)
        return make_inf(f, s);
    if (ua.cls == CL_ZERO || ub.cls == CL_INF)
        return make_zero(f, s);
    /* (a.sig * 2^63) / b.sig lies in (2^62, 2^64): at least 62 quotient
     * bits, and the remainder makes the sticky bit. */
    u128 n = (u128)ua.sig << 63;
    uint64_t q = (uint64_t)(n / ub.sig);
    if (n % ub.sig)
        q |= 1;
    return round_pack(e, f, s, ua.exp - ub.exp + f->bias - 1, q);
}

/* floor(sqrt(n)) for n < 2^64, digit by digit. */
static uint64_t isqrt64(uint64_t n)
{
    if (!n)
        return 0;
    uint64_t res = 0, bit = 1ull << ((63 - __builtin_clzll(n)) & ~1);
    while (bit) {
        /* Branch-free: the digit is unpredictable. */
        uint64_t t = res + bit, take = 0 - (uint64_t)(n >= t);
        n -= t & take;
        res = (res >> 1) + (bit & take);
        bit >>= 2;
    }
    return res;
}

/* floor(sqrt(n)) for 2^124 <= n < 2^127; *inexact says whether the root
 * was not exact.  The root of the top 64 bits, rounded up, is within 2^-31
 * of the answer and above it; one Newton step from above brings it within
 * a few units, and squaring settles the last ones. */
static uint64_t isqrt128(u128 n, bool *inexact)
{
    u128 x = (u128)(isqrt64((uint64_t)(n >> 64)) + 1) << 32;
    uint64_t r = (uint64_t)((x + n / x) >> 1);
    while ((u128)r * r > n)
        r--;
    while ((u128)(r + 1) * (r + 1) <= n)
        r++;
    *inexact = (u128)r * r != n;
    return r;
}

static uint64_t gen_sqrt(SseFp *e, const Fmt *f, uint64_t a)
{
    Unp ua = unpack(e, f, a);
    if (ua.cls == CL_NAN)
        return nan_result(e, f, a, &ua, 0, NULL);
    if (ua.cls == CL_ZERO)
        return a & sign_bit(f, true); /* sqrt(-0) = -0 (IEEE 754 6.3) */
    if (ua.sign)
        return invalid(e, f);
    note_denormal(e, &ua, NULL);
    if (ua.cls == CL_INF)
        return a;
    /* value = sig * 2^(ue - 62) with ue made even by doubling sig; the root
     * of sig * 2^62 then has its leading one at bit 62 or 63. */
    int32_t ue = ua.exp - f->bias;
    u128 n = (u128)ua.sig << 62;
    if (ue % 2) {
        n <<= 1;
        ue--;
    }
    bool inexact;
    uint64_t r = isqrt128(n, &inexact);
    return round_pack(e, f, false, ue / 2 + f->bias, r | inexact);
}

/* ---- comparisons --------------------------------------------------------- */

/* Total order key of a non-NaN encoding: zeros of both signs are equal. */
static inline int64_t order_key(const Fmt *f, uint64_t a)
{
    int64_t mag = (int64_t)(a & ~sign_bit(f, true));
    return (a >> f->sign_shift) & 1 ? -mag : mag;
}

/* The relation of a to b; IE for an SNaN, or any NaN when `signal_qnan`;
 * DE only when both are numbers. */
static int gen_compare(SseFp *e, const Fmt *f, uint64_t a, uint64_t b, bool signal_qnan)
{
    Unp ua = unpack(e, f, a), ub = unpack(e, f, b);
    if (ua.cls == CL_NAN || ub.cls == CL_NAN) {
        if (signal_qnan || ua.snan || ub.snan)
            e->flags |= MXCSR_IE;
        return FCMP_UN;
    }
    note_denormal(e, &ua, &ub);
    int64_t ka = order_key(f, daz_enc(e, f, a)), kb = order_key(f, daz_enc(e, f, b));
    return ka < kb ? FCMP_LT : ka == kb ? FCMP_EQ : FCMP_GT;
}

/* CMPPS imm8 predicates 0-7 (SDM vol. 2, CMPPS, table 3-1). */
static bool gen_cmp(SseFp *e, const Fmt *f, uint64_t a, uint64_t b, int pred)
{
    pred &= 7;
    /* LT, LE, NLT, NLE are the signalling predicates. */
    bool signal = (pred & 3) == 1 || (pred & 3) == 2;
    int r = gen_compare(e, f, a, b, signal);
    switch (pred) {
    case 0: return r == FCMP_EQ;
    case 1: return r == FCMP_LT;
    case 2: return r == FCMP_LT || r == FCMP_EQ;
    case 3: return r == FCMP_UN;
    case 4: return r != FCMP_EQ;
    case 5: return r != FCMP_LT;
    case 6: return !(r == FCMP_LT || r == FCMP_EQ);
    default: return r != FCMP_UN;
    }
}

/* MINPS/MAXPS (SDM vol. 2): the second operand for a NaN of either kind
 * (with IE, QNaN included) or for two zeros; otherwise the smaller/larger.
 * With DAZ, a denormal operand is returned as the zero it counts as, even
 * as the second operand beside a NaN (measured). */
static uint64_t gen_minmax(SseFp *e, const Fmt *f, uint64_t a, uint64_t b, bool max)
{
    Unp ua = unpack(e, f, a), ub = unpack(e, f, b);
    if (ua.cls == CL_NAN || ub.cls == CL_NAN) {
        e->flags |= MXCSR_IE;
        return daz_enc(e, f, b);
    }
    note_denormal(e, &ua, &ub);
    a = daz_enc(e, f, a);
    b = daz_enc(e, f, b);
    int64_t ka = order_key(f, a), kb = order_key(f, b);
    return (max ? ka > kb : ka < kb) ? a : b;
}

/* ---- conversions to integers --------------------------------------------- */

/* CVT(T)SS2SI / CVT(T)SD2SI (SDM vol. 2): round per RC (or toward zero);
 * a NaN or a result outside int32 gives the integer indefinite 80000000h
 * with IE and no PE; no DE is ever reported. */
static uint32_t gen_to_i32(SseFp *e, const Fmt *f, uint64_t a, bool truncate)
{
    Unp ua = unpack(e, f, a);
    if (ua.cls == CL_NAN || ua.cls == CL_INF) {
        e->flags |= MXCSR_IE;
        return 0x80000000u;
    }
    if (ua.cls == CL_ZERO)
        return 0;
    int32_t ue = ua.exp - f->bias;
    if (ue > 31) {
        e->flags |= MXCSR_IE;
        return 0x80000000u;
    }
    /* Integer part with two more bits: the half bit and a sticky bit. */
    uint64_t x = shift_right_jam(ua.sig, 60 - ue);
    uint64_t ip = x >> 2, rb = x & 3;
    int rc = truncate ? RC_ZERO : rc_of(e);
    bool up;
    switch (rc) {
    case RC_NEAREST: up = rb > 2 || (rb == 2 && (ip & 1)); break;
    case RC_DOWN: up = rb && ua.sign; break;
    case RC_UP: up = rb && !ua.sign; break;
    default: up = false; break;
    }
    ip += up;
    if (ip > (ua.sign ? 0x80000000ull : 0x7FFFFFFFull)) {
        e->flags |= MXCSR_IE;
        return 0x80000000u;
    }
    if (rb)
        e->flags |= MXCSR_PE;
    return ua.sign ? (uint32_t)(0 - ip) : (uint32_t)ip;
}

static uint64_t gen_from_i32(SseFp *e, const Fmt *f, int32_t v)
{
    if (!v)
        return 0;
    bool s = v < 0;
    uint64_t m = s ? 0 - (uint64_t)(int64_t)v : (uint64_t)v;
    /* m = m * 2^0: with the leading one moved to bit 62 by round_pack,
     * the exponent is bias + 62. */
    return round_pack(e, f, s, f->bias + 62, m);
}

/* ---- public entry points ------------------------------------------------- */

uint32_t f32_add(SseFp *e, uint32_t a, uint32_t b) { return (uint32_t)gen_add(e, &FMT32, a, b, false); }
uint32_t f32_sub(SseFp *e, uint32_t a, uint32_t b) { return (uint32_t)gen_add(e, &FMT32, a, b, true); }
uint32_t f32_mul(SseFp *e, uint32_t a, uint32_t b) { return (uint32_t)gen_mul(e, &FMT32, a, b); }
uint32_t f32_div(SseFp *e, uint32_t a, uint32_t b) { return (uint32_t)gen_div(e, &FMT32, a, b); }
uint32_t f32_sqrt(SseFp *e, uint32_t a) { return (uint32_t)gen_sqrt(e, &FMT32, a); }
uint64_t f64_add(SseFp *e, uint64_t a, uint64_t b) { return gen_add(e, &FMT64, a, b, false); }
uint64_t f64_sub(SseFp *e, uint64_t a, uint64_t b) { return gen_add(e, &FMT64, a, b, true); }
uint64_t f64_mul(SseFp *e, uint64_t a, uint64_t b) { return gen_mul(e, &FMT64, a, b); }
uint64_t f64_div(SseFp *e, uint64_t a, uint64_t b) { return gen_div(e, &FMT64, a, b); }
uint64_t f64_sqrt(SseFp *e, uint64_t a) { return gen_sqrt(e, &FMT64, a); }

uint32_t f32_min(SseFp *e, uint32_t a, uint32_t b) { return (uint32_t)gen_minmax(e, &FMT32, a, b, false); }
uint32_t f32_max(SseFp *e, uint32_t a, uint32_t b) { return (uint32_t)gen_minmax(e, &FMT32, a, b, true); }
uint64_t f64_min(SseFp *e, uint64_t a, uint64_t b) { return gen_minmax(e, &FMT64, a, b, false); }
uint64_t f64_max(SseFp *e, uint64_t a, uint64_t b) { return gen_minmax(e, &FMT64, a, b, true); }

bool f32_cmp(SseFp *e, uint32_t a, uint32_t b, int pred) { return gen_cmp(e, &FMT32, a, b, pred); }
bool f64_cmp(SseFp *e, uint64_t a, uint64_t b, int pred) { return gen_cmp(e, &FMT64, a, b, pred); }

int f32_compare(SseFp *e, uint32_t a, uint32_t b, bool signal_qnan)
{
    return gen_compare(e, &FMT32, a, b, signal_qnan);
}

int f64_compare(SseFp *e, uint64_t a, uint64_t b, bool signal_qnan)
{
    return gen_compare(e, &FMT64, a, b, signal_qnan);
}

/* CVTSS2SD: exact, but an SNaN is quieted (IE) and a denormal reports DE
 * (or is a zero under DAZ). */
uint64_t f32_to_f64(SseFp *e, uint32_t a)
{
    Unp u = unpack(e, &FMT32, a);
    switch (u.cls) {
    case CL_NAN:
        if (u.snan)
            e->flags |= MXCSR_IE;
        /* The payload keeps its place under the quiet bit. */
        return sign_bit(&FMT64, u.sign) | make_inf(&FMT64, false) | quiet_bit(&FMT64) |
               ((uint64_t)(a & 0x7FFFFFu) << 29);
    case CL_INF: return make_inf(&FMT64, u.sign);
    case CL_ZERO: return make_zero(&FMT64, u.sign);
    default:
        note_denormal(e, &u, NULL);
        return round_pack(e, &FMT64, u.sign, u.exp - FMT32.bias + FMT64.bias, u.sig);
    }
}

/* CVTSD2SS: rounds like any arithmetic result; a NaN keeps the top 22 bits
 * of its payload (quieted). */
uint32_t f64_to_f32(SseFp *e, uint64_t a)
{
    Unp u = unpack(e, &FMT64, a);
    switch (u.cls) {
    case CL_NAN:
        if (u.snan)
            e->flags |= MXCSR_IE;
        return (uint32_t)(sign_bit(&FMT32, u.sign) | make_inf(&FMT32, false) |
                          quiet_bit(&FMT32) | ((a & frac_mask(&FMT64)) >> 29));
    case CL_INF: return (uint32_t)make_inf(&FMT32, u.sign);
    case CL_ZERO: return (uint32_t)make_zero(&FMT32, u.sign);
    default:
        note_denormal(e, &u, NULL);
        return (uint32_t)round_pack(e, &FMT32, u.sign, u.exp - FMT64.bias + FMT32.bias, u.sig);
    }
}

uint32_t i32_to_f32(SseFp *e, int32_t v) { return (uint32_t)gen_from_i32(e, &FMT32, v); }
uint64_t i32_to_f64(SseFp *e, int32_t v) { return gen_from_i32(e, &FMT64, v); }

uint32_t f32_to_i32(SseFp *e, uint32_t a, bool truncate) { return gen_to_i32(e, &FMT32, a, truncate); }
uint32_t f64_to_i32(SseFp *e, uint64_t a, bool truncate) { return gen_to_i32(e, &FMT64, a, truncate); }

/* ---- RCPSS / RSQRTSS ----------------------------------------------------- */

/* The SDM only bounds these (relative error at most 1.5 * 2^-12, SDM vol. 2,
 * RCPSS/RSQRTSS).  Measured on the Intel processors we compare with, both
 * depend on 11 bits of the input only and return 12 fraction bits: the
 * value at the midpoint of the input's interval, rounded to nearest:
 *   RCPSS:   x = 2^k * m, m in [1, 2), i = the top 11 fraction bits;
 *            result = 2^-k * round(2^13 / mid) / 2^13, mid = 1 + (2i+1)/2^12.
 *   RSQRTSS: x = 4^k * y, y in [0.5, 2), i = the top 10 fraction bits;
 *            result = 2^-k * round(2^13 or 2^12 / sqrt(mid)) / 2^13 or 2^12,
 *            mid the midpoint of y's interval of width 2^-11 or 2^-10.
 * No rounding ties can occur (the quotients have odd denominators, the roots
 * are irrational or have odd denominators), so "nearest" needs no rule.
 * They read no MXCSR field and report no exception; a denormal input counts
 * as a zero and a tiny result is flushed to a zero of the input's sign. */

uint32_t f32_rcp(uint32_t a)
{
    uint32_t s = a & 0x80000000u;
    int32_t ex = (int32_t)((a >> 23) & 0xFF);
    if (ex == 0xFF)
        return (a & 0x7FFFFFu) ? a | 0x400000u : s; /* NaN quieted; 1/inf = 0 */
    if (ex == 0)
        return s | 0x7F800000u; /* zero or denormal: infinity */
    uint32_t d = 4097 + 2 * ((a >> 12) & 0x7FF); /* mid * 2^12 */
    /* n = round(2^25 / d) in [4097, 8190]: value n / 2^13 in (0.5, 1). */
    uint32_t n = ((1u << 26) + d) / (2 * d);
    int32_t rex = 253 - ex;
    if (rex <= 0)
        return s; /* tiny: flushed */
    return s | (uint32_t)rex << 23 | (n - 4096) << 11;
}

uint32_t f32_rsqrt(uint32_t a)
{
    uint32_t s = a & 0x80000000u;
    int32_t ex = (int32_t)((a >> 23) & 0xFF);
    if (ex == 0xFF && (a & 0x7FFFFFu))
        return a | 0x400000u;
    if (ex == 0)
        return s | 0x7F800000u; /* zero or denormal: infinity of its sign */
    if (s)
        return 0xFFC00000u; /* negative: the indefinite */
    if (ex == 0xFF)
        return 0;
    uint64_t d = 2049 + 2 * ((a >> 13) & 0x3FF);
    /* round(sqrt(Q)) = (floor(sqrt(floor(4Q))) + 1) / 2, rounded down. */
    if (ex % 2 == 0) {
        /* x = 2^(2k-1) * m, k = (ex - 126) / 2: y = m / 2 in [0.5, 1),
         * mid = d / 2^12, result n / 2^12 in (1, 1.42). */
        uint32_t n = (uint32_t)(isqrt64((1ull << 38) / d) + 1) >> 1;
        return (uint32_t)(127 - (ex - 126) / 2) << 23 | (n - 4096) << 11;
    }
    /* x = 2^(2k) * m, k = (ex - 127) / 2: mid = d / 2^11, result n / 2^13
     * in (0.7, 1). */
    uint32_t n = (uint32_t)(isqrt64((1ull << 39) / d) + 1) >> 1;
    return (uint32_t)(126 - (ex - 127) / 2) << 23 | (n - 4096) << 11;
}
