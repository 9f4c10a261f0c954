/* Lazy arithmetic flags (see LazyFlags in cpu.h).
 *
 * Carry and overflow come from the carry/borrow vectors of the operation:
 * for a + b (+ carry-in) = r, the carries out of every bit are
 * (a & b) | ((a | b) & ~r), so CF is its top bit and AF its bit 3, whether
 * or not a carry came in (this serves ADD and ADC alike); for a - b
 * (- borrow) = r the borrows are (~a & b) | ((~a | b) & r).  Signed
 * overflow is ((a ^ r) & (b ^ r)) for addition and ((a ^ b) & (a ^ r)) for
 * subtraction, taken at the sign bit (SDM vol. 1, 3.4.3.1). */
#include "cpu/cpu_impl.h"

static inline uint32_t parity_flag(uint32_t res)
{
    return __builtin_parity(res & 0xFF) ? 0 : FL_PF;
}

uint32_t flags_szp(uint32_t res, unsigned size)
{
    uint32_t m = size_mask(size);
    uint32_t f = parity_flag(res);
    if ((res & m) == 0)
        f |= FL_ZF;
    if (res & (m ^ (m >> 1)))
        f |= FL_SF;
    return f;
}

uint32_t flags_arith(const CpuState *c)
{
    uint32_t op = c->lf.op;
    if (op == LF_NONE)
        return c->eflags & FL_ARITH;
    uint32_t kind = op >> 2;
    unsigned bits = 8u << (op & 3);
    uint32_t a = c->lf.a, b = c->lf.b, r = c->lf.res;
    uint32_t f = flags_szp(r, bits / 8);
    uint32_t sh = bits - 1;
    switch (kind) {
    case LF_ADD: {
        uint32_t cv = (a & b) | ((a | b) & ~r);
        f |= ((cv >> sh) & 1) ? FL_CF : 0;
        f |= ((((a ^ r) & (b ^ r)) >> sh) & 1) ? FL_OF : 0;
        f |= (a ^ b ^ r) & FL_AF;
        break;
    }
    case LF_SUB: {
        uint32_t bv = (~a & b) | ((~a | b) & r);
        f |= ((bv >> sh) & 1) ? FL_CF : 0;
        f |= ((((a ^ b) & (a ^ r)) >> sh) & 1) ? FL_OF : 0;
        f |= (a ^ b ^ r) & FL_AF;
        break;
    }
    case LF_LOGIC:
        break;
    case LF_INC:
        f |= c->eflags & FL_CF;
        f |= (r == (1u << sh)) ? FL_OF : 0; /* 0x7F..F + 1 */
        f |= (a ^ 1 ^ r) & FL_AF;
        break;
    case LF_DEC:
        f |= c->eflags & FL_CF;
        f |= (r == (1u << sh) - 1) ? FL_OF : 0; /* 0x80..0 - 1 */
        f |= (a ^ 1 ^ r) & FL_AF;
        break;
    }
    return f;
}

uint32_t flags_cf_slow(const CpuState *c)
{
    uint32_t op = c->lf.op;
    uint32_t sh = (8u << (op & 3)) - 1;
    uint32_t a = c->lf.a, b = c->lf.b, r = c->lf.res;
    switch (op >> 2) {
    case LF_ADD:
        return (((a & b) | ((a | b) & ~r)) >> sh) & 1;
    case LF_SUB:
        return (((~a & b) | ((~a | b) & r)) >> sh) & 1;
    case LF_LOGIC:
        return 0;
    default: /* LF_NONE, LF_INC, LF_DEC keep CF in eflags */
        return c->eflags & FL_CF;
    }
}

static inline int32_t sext(uint32_t v, unsigned bits)
{
    unsigned sh = 32 - bits;
    return (int32_t)(v << sh) >> sh;
}

bool flags_cond(const CpuState *c, unsigned cc)
{
    uint32_t op = c->lf.op;
    if (op != LF_NONE) {
        /* ZF and SF come from the stored result for every lazy kind. */
        unsigned bits = 8u << (op & 3);
        if ((cc >> 1) == 2)
            return (c->lf.res == 0) ^ (cc & 1);
        if ((cc >> 1) == 4)
            return ((c->lf.res >> (bits - 1)) & 1) ^ (cc & 1);
        if ((op >> 2) == LF_LOGIC) {
            /* CF = OF = 0 after AND/OR/XOR/TEST. */
            bool sf = (c->lf.res >> (bits - 1)) & 1;
            bool zf = c->lf.res == 0;
            bool r;
            switch (cc >> 1) {
            case 0: case 1: r = false; break; /* O, B */
            case 3: r = zf; break;            /* BE */
            case 6: r = sf; break;            /* L */
            case 7: r = zf || sf; break;      /* LE */
            default: goto general;            /* P */
            }
            return r ^ (cc & 1);
        }
    }
    /* After CMP/SUB the unsigned and signed relations come straight from the
     * operands, the common case before a conditional jump. */
    if ((op >> 2) == LF_SUB) {
        unsigned bits = 8u << (op & 3);
        uint32_t a = c->lf.a, b = c->lf.b;
        bool r;
        switch (cc >> 1) {
        case 1: r = a < b; break;                                        /* B */
        case 2: r = a == b; break;                                       /* Z */
        case 3: r = a <= b; break;                                       /* BE */
        case 6: r = sext(a, bits) < sext(b, bits); break;                /* L */
        case 7: r = sext(a, bits) <= sext(b, bits); break;               /* LE */
        default: goto general;
        }
        /* SBB also records as LF_SUB, but its result includes the borrow;
         * the relations above hold only when res == a - b. */
        if (((a - b) & size_mask(bits / 8)) != c->lf.res)
            goto general;
        return r ^ (cc & 1);
    }
general:;
    uint32_t f = flags_arith(c);
    bool r;
    switch (cc >> 1) {
    case 0: r = f & FL_OF; break;
    case 1: r = f & FL_CF; break;
    case 2: r = f & FL_ZF; break;
    case 3: r = f & (FL_CF | FL_ZF); break;
    case 4: r = f & FL_SF; break;
    case 5: r = f & FL_PF; break;
    case 6: r = !(f & FL_SF) != !(f & FL_OF); break;
    default: r = (f & FL_ZF) || (!(f & FL_SF) != !(f & FL_OF)); break;
    }
    return r ^ (cc & 1);
}

uint32_t cpu_get_eflags(CpuState *c)
{
    return (c->eflags & ~FL_ARITH) | flags_arith(c) | 2;
}

void cpu_set_eflags(CpuState *c, uint32_t v)
{
    c->lf.op = LF_NONE;
    c->eflags = (v & 0x003F7FD5u) | 2;
}
