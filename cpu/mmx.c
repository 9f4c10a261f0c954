/* The MMX instructions of the Pentium II: 0F 60-6B, 6E, 6F, 71-77, 7E, 7F,
 * D1-FE (SDM vol. 2, the P* / MOVD / MOVQ / EMMS pages; opcode map in
 * vol. 2, table A-3).
 *
 * MMX registers alias the x87 data registers: MMi is the significand of
 * physical register Ri (SDM vol. 1, 9.5).  Every MMX instruction but EMMS
 * sets TOP to 0 and all tags to valid; one that writes an MMX register also
 * sets that register's sign and exponent field to all ones (SDM vol. 1,
 * 9.5.1, table 9-2).  EMMS marks all registers empty (TOP = 0 too).
 *
 * Exceptions (SDM vol. 3, table 12-1, "MMX instruction exception
 * handling", and table 2-2): #UD if CR0.EM = 1, #NM if CR0.TS = 1, then
 * #MF for a pending unmasked x87 exception (native mode), then memory
 * faults.  The SSE integer additions on MMX registers (PSHUFW, PINSRW,
 * PEXTRW, PMOVMSKB, PMINUB, ...) are in sse_int.c.
 */
#include "cpu/simd.h"

/* ---- Entry checks ------------------------------------------------------------ */

/* (66/F2/F3-prefixed forms of these opcodes are other instructions, chosen
 * by the decoder: see the SE slots in opcodes.def.) */
static inline void mmx_begin(CpuState *c, const Insn *i)
{
    (void)i;
    mmx_enter(c);
}

/* ---- Lane arithmetic -------------------------------------------------------- */

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

/* PADD/PSUB: wrap-around, signed and unsigned saturation (SDM vol. 1, 9.2.3). */
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
/* Compares: all ones where true. */
LANES(op_pcmpeqb, 8, x == y ? ~0ull : 0)
LANES(op_pcmpeqw, 16, x == y ? ~0ull : 0)
LANES(op_pcmpeqd, 32, x == y ? ~0ull : 0)
LANES(op_pcmpgtb, 8, sx(x, 8) > sx(y, 8) ? ~0ull : 0)
LANES(op_pcmpgtw, 16, sx(x, 16) > sx(y, 16) ? ~0ull : 0)
LANES(op_pcmpgtd, 32, sx(x, 32) > sx(y, 32) ? ~0ull : 0)
/* PMULLW/PMULHW: low/high 16 bits of the signed 32-bit products. */
LANES(op_pmullw, 16, (uint64_t)(sx(x, 16) * sx(y, 16)))
LANES(op_pmulhw, 16, (uint64_t)(sx(x, 16) * sx(y, 16)) >> 16)

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

static inline uint64_t op_pand(uint64_t a, uint64_t b) { return a & b; }
static inline uint64_t op_pandn(uint64_t a, uint64_t b) { return ~a & b; }
static inline uint64_t op_por(uint64_t a, uint64_t b) { return a | b; }
static inline uint64_t op_pxor(uint64_t a, uint64_t b) { return a ^ b; }

/* PACKSSWB/PACKSSDW/PACKUSWB: the destination's lanes saturated into the
 * low half of the result, the source's into the high half. */
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

/* PUNPCKL/PUNPCKH: interleave the low (high) halves, destination lane
 * first. */
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

/* Shifts by a 64-bit count: a count above the lane width clears the lane
 * (logical) or fills it with the sign bit (arithmetic). */
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

/* ---- Handlers --------------------------------------------------------------- */

/* mm, mm/m64: MMreg = MMreg op source. */
#define MMX_BIN(name)                                                                      \
    HANDLER(mmx_##name)                                                                    \
    {                                                                                      \
        mmx_begin(c, i);                                                                   \
        uint64_t s = mmx_src(c, i);                                                        \
        mmx_set(c, i->reg, op_##name(mmx_get(c, i->reg), s));                              \
        NEXT(c, i);                                                                        \
    }                                                                                      \
    SET_ALL(mmx_##name, mmx_##name)

/* mm, mm/m32: the PUNPCKL forms read only the low doubleword from memory
 * (SDM vol. 2, PUNPCKLBW/PUNPCKLWD/PUNPCKLDQ). */
#define MMX_BIN32(name)                                                                    \
    HANDLER(mmx_##name)                                                                    \
    {                                                                                      \
        mmx_begin(c, i);                                                                   \
        uint64_t s = (i->flags & I_MEM) ? simd_read32(c, i)            \
                                        : mmx_get(c, i->rm);                               \
        mmx_set(c, i->reg, op_##name(mmx_get(c, i->reg), s));                              \
        NEXT(c, i);                                                                        \
    }                                                                                      \
    SET_ALL(mmx_##name, mmx_##name)

MMX_BIN32(punpcklbw)
MMX_BIN32(punpcklwd)
MMX_BIN32(punpckldq)
MMX_BIN(packsswb)
MMX_BIN(pcmpgtb)
MMX_BIN(pcmpgtw)
MMX_BIN(pcmpgtd)
MMX_BIN(packuswb)
MMX_BIN(punpckhbw)
MMX_BIN(punpckhwd)
MMX_BIN(punpckhdq)
MMX_BIN(packssdw)
MMX_BIN(pcmpeqb)
MMX_BIN(pcmpeqw)
MMX_BIN(pcmpeqd)
MMX_BIN(psrlw)
MMX_BIN(psrld)
MMX_BIN(psrlq)
MMX_BIN(pmullw)
MMX_BIN(psubusb)
MMX_BIN(psubusw)
MMX_BIN(pand)
MMX_BIN(paddusb)
MMX_BIN(paddusw)
MMX_BIN(pandn)
MMX_BIN(psraw)
MMX_BIN(psrad)
MMX_BIN(pmulhw)
MMX_BIN(psubsb)
MMX_BIN(psubsw)
MMX_BIN(por)
MMX_BIN(paddsb)
MMX_BIN(paddsw)
MMX_BIN(pxor)
MMX_BIN(psllw)
MMX_BIN(pslld)
MMX_BIN(psllq)
MMX_BIN(pmaddwd)
MMX_BIN(psubb)
MMX_BIN(psubw)
MMX_BIN(psubd)
MMX_BIN(paddb)
MMX_BIN(paddw)
MMX_BIN(paddd)

/* 0F 71/72/73 (groups 12-14, SDM vol. 2, table A-6): shifts of mm by imm8.
 * Only register forms of /2, /4, /6 exist for MMX (73 /3 and /7 are SSE2
 * XMM-only); the rest are #UD. */
HANDLER(mmx_shift_imm)
{
    mmx_begin(c, i);
    if (i->flags & I_MEM)
        cpu_raise_ud(c);
    uint64_t a = mmx_get(c, i->rm), n = i->imm & 0xFF, r;
    switch ((i->op - 0x71) * 8 + i->reg) {
    case 0 * 8 + 2: r = op_psrlw(a, n); break;
    case 0 * 8 + 4: r = op_psraw(a, n); break;
    case 0 * 8 + 6: r = op_psllw(a, n); break;
    case 1 * 8 + 2: r = op_psrld(a, n); break;
    case 1 * 8 + 4: r = op_psrad(a, n); break;
    case 1 * 8 + 6: r = op_pslld(a, n); break;
    case 2 * 8 + 2: r = op_psrlq(a, n); break;
    case 2 * 8 + 6: r = op_psllq(a, n); break;
    default: cpu_raise_ud(c);
    }
    mmx_set(c, i->rm, r);
    NEXT(c, i);
}
SET_ALL(mmx_shift_imm, mmx_shift_imm)

/* 0F 6E: MOVD mm, r/m32 (zero-extended). */
HANDLER(mmx_movd_load)
{
    mmx_begin(c, i);
    uint32_t v = (i->flags & I_MEM) ? simd_read32(c, i) : c->regs[i->rm];
    mmx_set(c, i->reg, v);
    NEXT(c, i);
}
SET_ALL(mmx_movd_load, mmx_movd_load)

/* 0F 7E: MOVD r/m32, mm (the low doubleword). */
HANDLER(mmx_movd_store)
{
    mmx_begin(c, i);
    uint32_t v = (uint32_t)mmx_get(c, i->reg);
    if (i->flags & I_MEM)
        mem_write32(c, i->seg, insn_ea(c, i), v);
    else
        c->regs[i->rm] = v;
    mmx_touch(&c->fpu);
    NEXT(c, i);
}
SET_ALL(mmx_movd_store, mmx_movd_store)

/* 0F 6F: MOVQ mm, mm/m64. */
HANDLER(mmx_movq_load)
{
    mmx_begin(c, i);
    mmx_set(c, i->reg, mmx_src(c, i));
    NEXT(c, i);
}
SET_ALL(mmx_movq_load, mmx_movq_load)

/* 0F 7F: MOVQ mm/m64, mm. */
HANDLER(mmx_movq_store)
{
    mmx_begin(c, i);
    uint64_t v = mmx_get(c, i->reg);
    if (i->flags & I_MEM) {
        simd_write64(c, i, v);
        mmx_touch(&c->fpu);
    } else {
        mmx_set(c, i->rm, v);
    }
    NEXT(c, i);
}
SET_ALL(mmx_movq_store, mmx_movq_store)

/* 0F 77: EMMS marks every x87 register empty and, like the other MMX
 * instructions, sets TOP to 0 (SDM vol. 1, table 9-2; vol. 2, EMMS). */
HANDLER(mmx_emms)
{
    mmx_begin(c, i);
    c->fpu.top = 0;
    c->fpu.valid = 0;
    NEXT(c, i);
}
SET_ALL(mmx_emms, mmx_emms)
