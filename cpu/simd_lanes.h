/* Integer lane arithmetic shared by the MMX instructions (cpu/mmx.c) and
 * the SSE/SSE2 integer instructions (cpu/sse_int.c).
 *
 * Every operation here works on one 64-bit value, the width of an MMX
 * register.  The 128-bit XMM forms are built from these: an operation whose
 * lanes never cross a quadword boundary (add, compare, multiply, PSADBW,
 * PMULUDQ, ...) is applied to each quadword, and the packs, unpacks and
 * word shuffles regroup the quadwords before calling the same helpers (see
 * sse_int.c).  So the lane semantics exist once for both register files
 * (DESIGN.md: semantics are never written twice).
 *
 * Lane widths and saturation rules: SDM vol. 1, 9.2 (MMX data types and
 * saturation) and the instruction pages in vol. 2.
 */
#ifndef KESTREL_CPU_SIMD_LANES_H
#define KESTREL_CPU_SIMD_LANES_H

#include "cpu/simd.h"

/* ---- Lane helpers ----------------------------------------------------------------- */

static inline uint64_t lane_mask(int bits) { return bits == 64 ? ~0ull : (1ull << bits) - 1; }
static inline int64_t sx(uint64_t v, int bits)
{
    return (int64_t)(v << (64 - bits)) >> (64 - bits);
}
static inline uint64_t sat_s(int64_t v, int bits)
{
    int64_t hi = (int64_t)(lane_mask(bits - 1)), lo = -hi - 1;
    return (uint64_t)(v > hi ? hi : v < lo ? lo : v);
}
static inline uint64_t sat_u(int64_t v, int bits)
{
    int64_t hi = (int64_t)lane_mask(bits);
    return (uint64_t)(v > hi ? hi : v < 0 ? 0 : v);
}

/* Lane-wise a op b over bits-wide lanes; `x`, `y` are the zero-extended
 * lanes of a and b. */
#define LANES(name, bits, expr)                                                            \
    static inline uint64_t name(uint64_t a, uint64_t b)                                    \
    {                                                                                      \
        uint64_t r = 0, m = lane_mask(bits);                                               \
        for (int k = 0; k < 64 / (bits); k++) {                                            \
            uint64_t x = (a >> (k * (bits))) & m, y = (b >> (k * (bits))) & m;             \
            (void)x;                                                                       \
            (void)y;                                                                       \
            r |= ((uint64_t)(expr) & m) << (k * (bits));                                   \
        }                                                                                  \
        return r;                                                                          \
    }

/* A two-operand lane operation: result = op(destination, source). */
typedef uint64_t (*LaneOp)(uint64_t, uint64_t);

/* ---- Add, subtract (SDM vol. 1, 9.2.3: wrap-around and saturation) ------------------ */

LANES(op_paddb, 8, x + y)
LANES(op_paddw, 16, x + y)
LANES(op_paddd, 32, x + y)
LANES(op_psubb, 8, x - y)
LANES(op_psubw, 16, x - y)
LANES(op_psubd, 32, x - y)
LANES(op_paddsb, 8, sat_s(sx(x, 8) + sx(y, 8), 8))
LANES(op_paddsw, 16, sat_s(sx(x, 16) + sx(y, 16), 16))
LANES(op_psubsb, 8, sat_s(sx(x, 8) - sx(y, 8), 8))
LANES(op_psubsw, 16, sat_s(sx(x, 16) - sx(y, 16), 16))
LANES(op_paddusb, 8, sat_u((int64_t)x + (int64_t)y, 8))
LANES(op_paddusw, 16, sat_u((int64_t)x + (int64_t)y, 16))
LANES(op_psubusb, 8, sat_u((int64_t)x - (int64_t)y, 8))
LANES(op_psubusw, 16, sat_u((int64_t)x - (int64_t)y, 16))
/* PADDQ/PSUBQ (SSE2, also on MMX registers): one wrapping quadword. */
static inline uint64_t op_paddq(uint64_t a, uint64_t b) { return a + b; }
static inline uint64_t op_psubq(uint64_t a, uint64_t b) { return a - b; }

/* ---- Compares: all ones where true ---------------------------------------------------- */

LANES(op_pcmpeqb, 8, x == y ? ~0ull : 0)
LANES(op_pcmpeqw, 16, x == y ? ~0ull : 0)
LANES(op_pcmpeqd, 32, x == y ? ~0ull : 0)
LANES(op_pcmpgtb, 8, sx(x, 8) > sx(y, 8) ? ~0ull : 0)
LANES(op_pcmpgtw, 16, sx(x, 16) > sx(y, 16) ? ~0ull : 0)
LANES(op_pcmpgtd, 32, sx(x, 32) > sx(y, 32) ? ~0ull : 0)

/* ---- Minimum, maximum, average (the SSE additions, SDM vol. 1, 10.4.4) ------------- */

LANES(op_pminub, 8, x < y ? x : y)
LANES(op_pmaxub, 8, x > y ? x : y)
LANES(op_pminsw, 16, sx(x, 16) < sx(y, 16) ? x : y)
LANES(op_pmaxsw, 16, sx(x, 16) > sx(y, 16) ? x : y)
/* PAVGB/PAVGW: (a + b + 1) >> 1 computed one bit wider than the lane, so
 * it never overflows (SDM vol. 2, PAVGB/PAVGW). */
LANES(op_pavgb, 8, (x + y + 1) >> 1)
LANES(op_pavgw, 16, (x + y + 1) >> 1)

/* ---- Multiplies ------------------------------------------------------------------------- */

/* PMULLW/PMULHW: low/high 16 bits of the signed 32-bit products. */
LANES(op_pmullw, 16, (uint64_t)(sx(x, 16) * sx(y, 16)))
LANES(op_pmulhw, 16, (uint64_t)(sx(x, 16) * sx(y, 16)) >> 16)
/* PMULHUW: high 16 bits of the unsigned products. */
LANES(op_pmulhuw, 16, (x * y) >> 16)

/* PMADDWD: each dword is the sum of two signed word products, wrapping
 * (only 8000h * 8000h twice overflows, giving 80000000h). */
static inline uint64_t op_pmaddwd(uint64_t a, uint64_t b)
{
    uint64_t r = 0;
    for (int k = 0; k < 2; k++) {
        int64_t s = sx(a >> (32 * k), 16) * sx(b >> (32 * k), 16) +
                    sx(a >> (32 * k + 16), 16) * sx(b >> (32 * k + 16), 16);
        r |= ((uint64_t)s & 0xFFFFFFFFu) << (32 * k);
    }
    return r;
}

/* PMULUDQ: the low doublewords, unsigned, to a full 64-bit product
 * (SDM vol. 2, PMULUDQ). */
static inline uint64_t op_pmuludq(uint64_t a, uint64_t b)
{
    return (a & 0xFFFFFFFFu) * (b & 0xFFFFFFFFu);
}

/* PSADBW: the sum of the eight absolute byte differences in the low word,
 * the other three words zero (SDM vol. 2, PSADBW). */
static inline uint64_t op_psadbw(uint64_t a, uint64_t b)
{
    uint64_t s = 0;
    for (int k = 0; k < 8; k++) {
        unsigned x = (a >> (8 * k)) & 0xFF, y = (b >> (8 * k)) & 0xFF;
        s += x > y ? x - y : y - x;
    }
    return s;
}

/* ---- Logic ------------------------------------------------------------------------------- */

static inline uint64_t op_pand(uint64_t a, uint64_t b) { return a & b; }
static inline uint64_t op_pandn(uint64_t a, uint64_t b) { return ~a & b; }
static inline uint64_t op_por(uint64_t a, uint64_t b) { return a | b; }
static inline uint64_t op_pxor(uint64_t a, uint64_t b) { return a ^ b; }

/* ---- Pack, unpack ----------------------------------------------------------------------- */

/* PACKSSWB/PACKSSDW/PACKUSWB: a's lanes saturated into the low half of the
 * result, b's into the high half.  The 128-bit forms are pack(dest.lo,
 * dest.hi) : pack(src.lo, src.hi). */
static inline uint64_t pack(uint64_t a, uint64_t b, int bits, bool sgn)
{
    int n = 64 / bits, nb = bits / 2;
    uint64_t r = 0, m = lane_mask(nb);
    for (int k = 0; k < 2 * n; k++) {
        uint64_t v = k < n ? a : b;
        int64_t e = sx(v >> (bits * (k % n)), bits);
        r |= ((sgn ? sat_s(e, nb) : sat_u(e, nb)) & m) << (nb * k);
    }
    return r;
}
static inline uint64_t op_packsswb(uint64_t a, uint64_t b) { return pack(a, b, 16, true); }
static inline uint64_t op_packssdw(uint64_t a, uint64_t b) { return pack(a, b, 32, true); }
static inline uint64_t op_packuswb(uint64_t a, uint64_t b) { return pack(a, b, 16, false); }

/* PUNPCKL/PUNPCKH: interleave the low (high) halves of a and b, a's lane
 * first.  The 128-bit interleave of two quadwords is unpackl : unpackh of
 * those quadwords. */
static inline uint64_t unpack(uint64_t a, uint64_t b, int bits, bool high)
{
    int n = 32 / bits, base = high ? 32 : 0;
    uint64_t r = 0, m = lane_mask(bits);
    for (int k = 0; k < n; k++) {
        r |= ((a >> (base + bits * k)) & m) << (2 * bits * k);
        r |= ((b >> (base + bits * k)) & m) << (2 * bits * k + bits);
    }
    return r;
}
static inline uint64_t op_punpcklbw(uint64_t a, uint64_t b) { return unpack(a, b, 8, false); }
static inline uint64_t op_punpcklwd(uint64_t a, uint64_t b) { return unpack(a, b, 16, false); }
static inline uint64_t op_punpckldq(uint64_t a, uint64_t b) { return unpack(a, b, 32, false); }
static inline uint64_t op_punpckhbw(uint64_t a, uint64_t b) { return unpack(a, b, 8, true); }
static inline uint64_t op_punpckhwd(uint64_t a, uint64_t b) { return unpack(a, b, 16, true); }
static inline uint64_t op_punpckhdq(uint64_t a, uint64_t b) { return unpack(a, b, 32, true); }

/* ---- Shifts ------------------------------------------------------------------------------ */

/* Shifts by a 64-bit count: a count above the lane width clears the lane
 * (logical) or fills it with the sign bit (arithmetic) (SDM vol. 2,
 * PSRLW/PSRAW/PSLLW). */
enum { SH_RL, SH_RA, SH_LL };
static inline uint64_t shift(uint64_t a, uint64_t cnt, int bits, int kind)
{
    uint64_t r = 0, m = lane_mask(bits);
    for (int k = 0; k < 64 / bits; k++) {
        uint64_t x = (a >> (bits * k)) & m, v;
        if (kind == SH_RA)
            v = (uint64_t)(sx(x, bits) >> (cnt > (uint64_t)bits - 1 ? bits - 1 : (int)cnt));
        else if (cnt >= (uint64_t)bits)
            v = 0;
        else
            v = kind == SH_LL ? x << cnt : x >> cnt;
        r |= (v & m) << (bits * k);
    }
    return r;
}
static inline uint64_t op_psrlw(uint64_t a, uint64_t b) { return shift(a, b, 16, SH_RL); }
static inline uint64_t op_psrld(uint64_t a, uint64_t b) { return shift(a, b, 32, SH_RL); }
static inline uint64_t op_psrlq(uint64_t a, uint64_t b) { return shift(a, b, 64, SH_RL); }
static inline uint64_t op_psraw(uint64_t a, uint64_t b) { return shift(a, b, 16, SH_RA); }
static inline uint64_t op_psrad(uint64_t a, uint64_t b) { return shift(a, b, 32, SH_RA); }
static inline uint64_t op_psllw(uint64_t a, uint64_t b) { return shift(a, b, 16, SH_LL); }
static inline uint64_t op_pslld(uint64_t a, uint64_t b) { return shift(a, b, 32, SH_LL); }
static inline uint64_t op_psllq(uint64_t a, uint64_t b) { return shift(a, b, 64, SH_LL); }

/* The 0F 71/72/73 groups (SDM vol. 2, table A-6, groups 12-14): the word,
 * doubleword and quadword shift by imm8 that ModRM.reg /2, /4, /6 of
 * opcode `op` name, or NULL for the other slots. */
static inline LaneOp shift_imm_op(unsigned op, unsigned reg)
{
    static const LaneOp tab[3][8] = {
        {NULL, NULL, op_psrlw, NULL, op_psraw, NULL, op_psllw, NULL},
        {NULL, NULL, op_psrld, NULL, op_psrad, NULL, op_pslld, NULL},
        {NULL, NULL, op_psrlq, NULL, NULL, NULL, op_psllq, NULL},
    };
    return op >= 0x71 && op <= 0x73 ? tab[op - 0x71][reg & 7] : NULL;
}

/* ---- Shuffles, masks --------------------------------------------------------------------- */

/* PSHUFW (and each shuffled half of PSHUFLW/PSHUFHW): word k of the result
 * is the word of a that bits 2k+1:2k of imm select. */
static inline uint64_t op_pshufw(uint64_t a, unsigned imm)
{
    uint64_t r = 0;
    for (int k = 0; k < 4; k++)
        r |= ((a >> (16 * ((imm >> (2 * k)) & 3))) & 0xFFFF) << (16 * k);
    return r;
}

/* PMOVMSKB: bit k = the sign bit of byte k. */
static inline uint32_t op_pmovmskb(uint64_t a)
{
    uint32_t r = 0;
    for (int k = 0; k < 8; k++)
        r |= (uint32_t)((a >> (8 * k + 7)) & 1) << k;
    return r;
}

/* ---- MMX handler shape ------------------------------------------------------------------- */

/* mm, mm/m64: MMreg = MMreg op source.  Used by the MMX instructions and
 * by the SSE/SSE2 integer instructions on MMX registers, which have the
 * same exception rules and x87 side effects (SDM vol. 3, table 12-1 and
 * 13.1: CR4.OSFXSR is not consulted). */
#define MMX_BIN(name)                                                                      \
    HANDLER(mmx_##name)                                                                    \
    {                                                                                      \
        mmx_enter(c);                                                                      \
        uint64_t s = mmx_src(c, i);                                                        \
        mmx_set(c, i->reg, op_##name(mmx_get(c, i->reg), s));                              \
        NEXT(c, i);                                                                        \
    }                                                                                      \
    SET_ALL(mmx_##name, mmx_##name)

#endif
