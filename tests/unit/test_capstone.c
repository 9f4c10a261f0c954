/* Capstone cross-check of the decoder.
 *
 * Random encodings (a fixed seed, every one-byte and 0F opcode in both 16-
 * and 32-bit code, 0-4 random prefixes, random ModRM/SIB/displacement/
 * immediate bytes) go through decode_bytes() and Capstone.  When both
 * accept, the lengths must be equal; so must, for a ModRM memory operand,
 * the base, index, scale, displacement, address size and segment override,
 * and the immediates; and an accepted LOCK prefix must sit on a lockable
 * instruction with a memory destination.  When only one accepts, the
 * difference must fall in one of the named categories below, each with its
 * reason; anything else fails.
 *
 * KESTREL_CAPSTONE_CASES overrides the number of cases (default 1,000,000;
 * use a smaller number under slow sanitizers). */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"
#include "tests/common/rng.h"

#define DEFAULT_CASES 1000000L
#define MAX_SHOWN 20
#define BUF 16

/* ---- Allowed differences ----------------------------------------------- */

enum {
    /* Capstone does not check LOCK: it accepts F0 on any instruction.  LOCK
     * is #UD unless the instruction is one of the lockable ones with a
     * memory destination (SDM vol. 2, LOCK).  Verified per case: without
     * the F0 bytes Kestrel accepts with Capstone's length. */
    CAT_LOCK,
    /* Capstone knows ISA extensions Kestrel does not implement yet (the
     * integer P6 core decodes them as #UD until the x87/SSE issue): Capstone
     * puts them in an ISA group (MMX, SSE1-4, SSSE3, SSE4a, 3DNow!, AVX,
     * AVX2, AVX-512, FMA, XOP, AES, SHA, VMX/SVM, RTM, ...). */
    CAT_ISA_GROUP,
    /* VEX (C4/C5), EVEX (62) and AMD XOP (8F) prefixes: outside 64-bit mode
     * they are told from LES/LDS/BOUND by ModRM.mod = 3, which those do not
     * allow (SDM vol. 2, chapter 2, the VEX and EVEX prefix sections), and
     * from POP Ev by ModRM.reg != 0.
     * Kestrel has no AVX: #UD.  Capstone decodes them (some without an ISA
     * group, e.g. VSQRTSS). */
    CAT_VEX,
    /* Later instructions with no Capstone ISA group: SYSCALL/SYSRET (0F
     * 05/07, AMD), GETSEC (0F 37, SMX), PREFETCHW (0F 0D), POPCNT (F3 0F
     * B8), MOVBE/CRC32 (0F 38 F0/F1), RDRAND/RDSEED and XSAVES/XSAVEC/
     * XRSTORS/VMPTRLD/VMPTRST (0F C7 /2-/7), the 0F 01 register forms
     * (MONITOR/MWAIT, XGETBV/XSETBV, SWAPGS, RDTSCP, CLAC/STAC, ENCLS/ENCLU,
     * VMX/SVM, XEND/XTEST), VIA PadLock (0F A6/A7). */
    CAT_LATER_ISA,
    /* MOV CS, r/m16 (8E /1): SDM vol. 2, MOV: "If an attempt is made to
     * load the CS register, #UD".  Capstone decodes it. */
    CAT_MOV_CS,
    /* Reserved x87 register forms (e.g. D9 D1-D7, D9 E2/E3, DA E0-FF except
     * E9, DB E0-E7 / F8-FF, DD C8-CF, DE D0-D8/DA-DF, DF C0-DF / E1-FF) and
     * reserved memory forms (D9 /1, DB /4 /6, ...), which Capstone rejects.
     * Kestrel decodes every D8-DF by its ModRM (SDM vol. 2, appendix A,
     * escape opcode instructions); the x87 handlers raise #UD for the
     * reserved forms. */
    CAT_X87_RESERVED,
    /* MMX/SSE opcodes with a prefix or ModRM form that is not defined (e.g.
     * F3 0F 13, a memory operand of 0F 71-73 or 0F 50/C5/D7/F7, 0F 71 /0,
     * 0F AE with mod = 3 and reg < 5): Kestrel decodes the ModRM length and
     * the handler raises #UD (the instruction is undefined either way). */
    CAT_SIMD_RESERVED,
    /* 0F 18-1F: the reserved-NOP hint space (SDM vol. 2, table A-3: 0F 18
     * prefetch group, 0F 19-1E reserved NOP, 0F 1F NOP Ev).  Every ModRM
     * form executes as a NOP on P6 and later; Capstone rejects some. */
    CAT_HINT_NOP,
    /* UD1 (0F B9 /r) and UD0 (0F FF /r) take a ModRM byte (SDM vol. 2,
     * UD-Undefined Instruction); Capstone 4 decodes them without one (or
     * rejects UD0).  Both raise #UD; only the reported length differs. */
    CAT_UD01_MODRM,
    /* Capstone 4 misreads some instructions that carry both 66 and F2/F3:
     * it drops the 66 on CALL rel (E8) and rejects MOV moffs (A0-A3).
     * F2/F3 are ignored by these instructions and 66 selects the 16-bit
     * form (SDM vol. 2, 2.1.1).  Verified per case: without the F2/F3
     * bytes Capstone agrees with Kestrel. */
    CAT_CS_REP_OPSIZE,
    /* LFENCE/MFENCE/SFENCE (0F AE /5 /6 /7, mod = 3): "the processor
     * ignores the r/m field of the ModR/M byte" (SDM vol. 2, LFENCE,
     * MFENCE, SFENCE), so 0F AE E8-FF are all fences; Capstone accepts only
     * r/m = 0. */
    CAT_FENCE_RM,
    /* Capstone 4 rejects SSE2 instructions unless the mandatory prefix
     * (66, F2, F3) is the last prefix before 0F, and some 66-prefixed ones
     * (e.g. PUNPCKLQDQ, PSRLDQ) in 16-bit code at all.  Prefix order does
     * not matter to the processor (SDM vol. 2, 2.1.1), and SSE instructions
     * do not depend on the operand size.  Verified per case: the same bytes
     * with the other prefixes first and the mandatory one last, as 32-bit
     * code (a 67 toggled so that the addressing form stays the same),
     * Capstone accepts with Kestrel's length. */
    CAT_CS_SSE_PREFIX,
    N_CAT
};

static const char *const cat_name[N_CAT] = {
    [CAT_LOCK] = "lock-not-checked-by-capstone",
    [CAT_ISA_GROUP] = "isa-extension (capstone group)",
    [CAT_VEX] = "vex-evex-xop",
    [CAT_LATER_ISA] = "later-isa (no capstone group)",
    [CAT_MOV_CS] = "mov-cs-is-ud",
    [CAT_X87_RESERVED] = "x87-reserved-form",
    [CAT_SIMD_RESERVED] = "simd-reserved-form",
    [CAT_HINT_NOP] = "hint-nop-0f18-1f",
    [CAT_UD01_MODRM] = "ud0-ud1-modrm",
    [CAT_CS_REP_OPSIZE] = "capstone-66-with-rep-quirk",
    [CAT_FENCE_RM] = "fence-rm-ignored",
    [CAT_CS_SSE_PREFIX] = "capstone-sse-prefix-quirk",
};
static uint64_t cat_count[N_CAT];

/* ---- Encodings --------------------------------------------------------- */

static Rng rng = {0x4b657374726c3031ull}; /* fixed seed */

static const uint8_t prefix_bytes[] = {0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65,
                                       0x66, 0x67, 0xF0, 0xF2, 0xF3};

static bool is_prefix(uint8_t b)
{
    return memchr(prefix_bytes, b, sizeof(prefix_bytes)) != NULL;
}

/* What the prefix run of an encoding holds (legacy prefixes of SDM vol. 2,
 * 2.1.1; the run may be longer than the generated prefixes when the random
 * "opcode" is itself a prefix byte). */
typedef struct Shape {
    int npfx;                 /* prefix bytes */
    bool p66, p67, lock, rep; /* rep: F2 or F3 */
    int map;                  /* 1 = one-byte, 2 = 0F */
    int op;                   /* opcode byte in its map, -1 if the buffer ends */
    int modrm;                /* the byte after the opcode (ModRM if it has one) */
    int op3;                  /* for 0F 38 / 0F 3A: the third opcode byte */
} Shape;

static Shape shape_of(const uint8_t *b, int n)
{
    Shape s = {0};
    int p = 0;
    while (p < n && is_prefix(b[p])) {
        s.p66 |= b[p] == 0x66;
        s.p67 |= b[p] == 0x67;
        s.lock |= b[p] == 0xF0;
        s.rep |= b[p] == 0xF2 || b[p] == 0xF3;
        p++;
    }
    s.npfx = p;
    s.map = 1;
    s.op = s.modrm = s.op3 = -1;
    if (p < n && b[p] == 0x0F) {
        s.map = 2;
        p++;
    }
    if (p < n)
        s.op = b[p++];
    if (p < n)
        s.modrm = b[p];
    if (p + 1 < n)
        s.op3 = b[p];
    return s;
}

/* Copy `b` without the prefix bytes for which drop(byte) holds; returns the
 * number dropped.  The tail is padded with zeros. */
static int strip_prefixes(const uint8_t *b, uint8_t *out, bool (*drop)(uint8_t))
{
    int p = 0, o = 0, n = 0;
    while (p < BUF && is_prefix(b[p])) {
        if (drop(b[p]))
            n++;
        else
            out[o++] = b[p];
        p++;
    }
    while (p < BUF)
        out[o++] = b[p++];
    while (o < BUF)
        out[o++] = 0;
    return n;
}
static bool is_lock(uint8_t b)
{
    return b == 0xF0;
}
static bool is_rep(uint8_t b)
{
    return b == 0xF2 || b == 0xF3;
}

/* ---- The two decoders --------------------------------------------------- */

static csh cs_h[2];
static cs_insn *cs_ins[2];

/* Capstone's length, or -1. */
static int cs_len(const uint8_t *b, bool code32)
{
    const uint8_t *p = b;
    size_t size = BUF;
    uint64_t addr = 0;
    if (!cs_disasm_iter(cs_h[code32], &p, &size, &addr, cs_ins[code32]))
        return -1;
    return (int)cs_ins[code32]->size;
}

static const char *k_mnemonic(const uint8_t *b, bool code32)
{
    const char *m = decode_mnemonic(b, BUF, code32);
    return m ? m : "-";
}

/* Kestrel's MMX entries that decode every ModRM form and leave the
 * reserved ones (memory forms of 0F 71-73, 0F 71 /0, ...) to the handler's
 * #UD. */
static bool k_is_simd(const uint8_t *b, bool code32)
{
    const char *m = decode_mnemonic(b, BUF, code32);
    return m && (!strcmp(m, "mmx") || !strcmp(m, "emms"));
}

static bool cs_has_isa_group(const cs_insn *ci)
{
    for (int g = 0; g < ci->detail->groups_count; g++) {
        switch (ci->detail->groups[g]) {
        case X86_GRP_VM:
        case X86_GRP_3DNOW:
        case X86_GRP_AES:
        case X86_GRP_ADX:
        case X86_GRP_AVX:
        case X86_GRP_AVX2:
        case X86_GRP_AVX512:
        case X86_GRP_BMI:
        case X86_GRP_BMI2:
        case X86_GRP_F16C:
        case X86_GRP_FMA:
        case X86_GRP_FMA4:
        case X86_GRP_FSGSBASE:
        case X86_GRP_HLE:
        case X86_GRP_MMX:
        case X86_GRP_RTM:
        case X86_GRP_SHA:
        case X86_GRP_SSE1:
        case X86_GRP_SSE2:
        case X86_GRP_SSE3:
        case X86_GRP_SSE41:
        case X86_GRP_SSE42:
        case X86_GRP_SSE4A:
        case X86_GRP_SSSE3:
        case X86_GRP_PCLMUL:
        case X86_GRP_XOP:
        case X86_GRP_CDI:
        case X86_GRP_ERI:
        case X86_GRP_TBM:
        case X86_GRP_SGX:
        case X86_GRP_DQI:
        case X86_GRP_BWI:
        case X86_GRP_PFI:
        case X86_GRP_VLX:
        case X86_GRP_SMAP:
        case X86_GRP_NOVLX:
            return true;
        default:
            break;
        }
    }
    return false;
}

/* Opcodes of the later, group-less instructions of CAT_LATER_ISA. */
static bool later_isa_opcode(const Shape *s)
{
    if (s->map != 2)
        return false;
    switch (s->op) {
    case 0x01: /* register forms of group 7 other than SMSW (/4), LMSW (/6) */
        return s->modrm >= 0xC0 && ((s->modrm >> 3) & 7) != 4 && ((s->modrm >> 3) & 7) != 6;
    case 0x05:
    case 0x07:
    case 0x0D:
    case 0x37:
    case 0xA6:
    case 0xA7:
        return true;
    case 0xB8:
        return s->rep; /* POPCNT */
    case 0xAE: /* XSAVE, XRSTOR, XSAVEOPT: memory forms of /4, /5, /6 */
        return s->modrm < 0xC0 && ((s->modrm >> 3) & 7) >= 4 && ((s->modrm >> 3) & 7) <= 6;
    case 0xC7:
        return ((s->modrm >> 3) & 7) != 1; /* group 9 beyond CMPXCHG8B */
    case 0x38:
        return s->op3 == 0xF0 || s->op3 == 0xF1; /* MOVBE, CRC32 */
    default:
        return false;
    }
}

/* CAT_CS_SSE_PREFIX: rewrite the prefixes as [others in order][mandatory]
 * in 32-bit code and ask Capstone again. */
static bool sse_prefix_quirk(const uint8_t *b, bool code32, int kr, const Shape *s)
{
    uint8_t t[BUF] = {0};
    uint8_t mand = 0;
    int o = 0;
    bool has67 = false;
    for (int p = 0; p < s->npfx; p++) {
        if (b[p] == 0xF2 || b[p] == 0xF3)
            mand = b[p];
        else if (b[p] == 0x66 && !(mand == 0xF2 || mand == 0xF3))
            mand = 0x66;
    }
    if (!mand)
        return false;
    for (int p = 0; p < s->npfx; p++) {
        if (b[p] == 0x66 || b[p] == 0xF2 || b[p] == 0xF3)
            continue;
        if (b[p] == 0x67) {
            has67 = true;
            if (!code32)
                continue; /* 16-bit code + 67 = 32-bit addressing */
        }
        t[o++] = b[p];
    }
    if (!code32 && !has67)
        t[o++] = 0x67; /* keep 16-bit addressing */
    t[o++] = mand;
    int rest = kr - s->npfx;
    if (o + rest > BUF)
        return false;
    memcpy(t + o, b + s->npfx, (size_t)rest);
    return cs_len(t, true) == o + rest;
}

/* Which allowed category explains a disagreement, or -1. */
static int classify(const uint8_t *b, bool code32, int kr, int cl)
{
    Shape s = shape_of(b, BUF);
    uint8_t t[BUF];
    Insn tmp;

    if (kr > 0 && cl > 0) {
        /* Both accept, the lengths differ. */
        if (s.map == 2 && (s.op == 0xB9 || s.op == 0xFF) && cl == s.npfx + 2)
            return CAT_UD01_MODRM;
        if (s.p66 && s.rep && !k_is_simd(b, code32)) {
            int n = strip_prefixes(b, t, is_rep);
            if (cs_len(t, code32) == kr - n)
                return CAT_CS_REP_OPSIZE;
        }
        return -1;
    }
    if (kr < 0 && cl > 0) {
        /* Capstone accepts, Kestrel says #UD. */
        if (s.lock) {
            /* Without the F0 bytes, Kestrel must accept and agree with
             * Capstone (or differ only for another allowed reason). */
            strip_prefixes(b, t, is_lock);
            int kr2 = decode_bytes(t, BUF, code32, &tmp), cl2 = cs_len(t, code32);
            if (kr2 > 0 && cl2 > 0 && (kr2 == cl2 || classify(t, code32, kr2, cl2) >= 0))
                return CAT_LOCK;
        }
        if (s.map == 1 && (((s.op == 0xC4 || s.op == 0xC5 || s.op == 0x62) && s.modrm >= 0xC0) ||
                           (s.op == 0x8F && ((s.modrm >> 3) & 7) != 0)))
            return CAT_VEX;
        cs_len(b, code32); /* reload the detail of the original */
        /* (0F 18-1F are NOPs in Kestrel whatever Capstone calls them.) */
        bool hint_nop = s.map == 2 && s.op >= 0x18 && s.op <= 0x1F;
        if (!hint_nop && cs_has_isa_group(cs_ins[code32]))
            return CAT_ISA_GROUP;
        if (later_isa_opcode(&s))
            return CAT_LATER_ISA;
        if (s.map == 1 && s.op == 0x8E && ((s.modrm >> 3) & 7) == 1)
            return CAT_MOV_CS;
        return -1;
    }
    /* Kestrel accepts, Capstone rejects. */
    if (s.map == 1 && s.op >= 0xD8 && s.op <= 0xDF)
        return CAT_X87_RESERVED;
    if (k_is_simd(b, code32))
        return CAT_SIMD_RESERVED;
    if (s.map == 2 && s.op == 0xAE && s.modrm >= 0xE8)
        return CAT_FENCE_RM;
    if (s.map == 2 && kr > 0 && sse_prefix_quirk(b, code32, kr, &s))
        return CAT_CS_SSE_PREFIX;
    if (s.map == 2 && s.op >= 0x18 && s.op <= 0x1F)
        return CAT_HINT_NOP;
    if (s.map == 2 && (s.op == 0xB9 || s.op == 0xFF))
        return CAT_UD01_MODRM;
    if (s.p66 && s.rep) {
        int n = strip_prefixes(b, t, is_rep);
        if (cs_len(t, code32) == kr - n)
            return CAT_CS_REP_OPSIZE;
    }
    return -1;
}

/* ---- Memory operand fields --------------------------------------------- */

static int cs_gpr(x86_reg r)
{
    switch (r) {
    case X86_REG_EAX:
    case X86_REG_AX:
        return R_EAX;
    case X86_REG_ECX:
    case X86_REG_CX:
        return R_ECX;
    case X86_REG_EDX:
    case X86_REG_DX:
        return R_EDX;
    case X86_REG_EBX:
    case X86_REG_BX:
        return R_EBX;
    case X86_REG_ESP:
    case X86_REG_SP:
        return R_ESP;
    case X86_REG_EBP:
    case X86_REG_BP:
        return R_EBP;
    case X86_REG_ESI:
    case X86_REG_SI:
        return R_ESI;
    case X86_REG_EDI:
    case X86_REG_DI:
        return R_EDI;
    case X86_REG_INVALID:
        return R_ZERO;
    default:
        return -1;
    }
}

static int cs_sreg(x86_reg r)
{
    switch (r) {
    case X86_REG_ES:
        return SEG_ES;
    case X86_REG_CS:
        return SEG_CS;
    case X86_REG_SS:
        return SEG_SS;
    case X86_REG_DS:
        return SEG_DS;
    case X86_REG_FS:
        return SEG_FS;
    case X86_REG_GS:
        return SEG_GS;
    default:
        return SEG_NONE;
    }
}

static uint64_t mem_compared;

/* For an accepted ModRM memory operand, compare the address fields with
 * Capstone's (the instruction must already be in cs_ins).  Returns NULL or
 * what differs. */
static const char *check_mem(const Insn *k, bool code32, char *why, size_t whysz)
{
    const cs_x86 *x = &cs_ins[code32]->detail->x86;
    const cs_x86_op *m = NULL;
    int nmem = 0;
    for (int o = 0; o < x->op_count; o++) {
        if (x->operands[o].type == X86_OP_MEM) {
            m = &x->operands[o];
            nmem++;
        }
    }
    if (!(k->flags & I_MEM) || nmem != 1)
        return NULL;
    mem_compared++;
    uint32_t amask = (k->flags & I_AD32) ? 0xFFFFFFFFu : 0xFFFFu;
    int base = cs_gpr(m->mem.base), index = cs_gpr(m->mem.index);
    const char *bad = NULL;
    if (x->addr_size != ((k->flags & I_AD32) ? 4 : 2))
        bad = "address size";
    else if (base != k->base)
        bad = "base";
    else if (index != k->index)
        bad = "index";
    else if (index != R_ZERO && m->mem.scale != (1 << k->scale))
        bad = "scale";
    else if (((uint32_t)m->mem.disp & amask) != (k->disp & amask))
        bad = "displacement";
    else if ((k->flags & I_SEGOVR) && cs_sreg(m->mem.segment) != k->seg)
        bad = "segment override";
    if (bad)
        snprintf(why, whysz, "%s: kestrel base %d index %d scale %d disp %#x seg %d ad%d", bad,
                 k->base, k->index, 1 << k->scale, k->disp & amask, k->seg,
                 (k->flags & I_AD32) ? 32 : 16);
    return bad ? why : NULL;
}

/* Immediates: Capstone's X86_OP_IMM operands against imm/imm2.  Relative
 * branches are compared as targets (Capstone decodes at address 0, so the
 * target is length + displacement, truncated to the operand size); far
 * pointers and ENTER have two immediates (selector and offset, size and
 * level); other values are compared modulo the operand size, since
 * Capstone sign-extends some immediates and not others.  x87/MMX/SSE
 * entries are left out (Kestrel decodes only their length). */
static uint64_t imm_compared;

static const char *check_imm(const uint8_t *b, const Insn *k, int len, bool code32, char *why,
                             size_t whysz)
{
    const cs_insn *ci = cs_ins[code32];
    const cs_x86 *x = &ci->detail->x86;
    int64_t v[4];
    int nimm = 0;
    for (int o = 0; o < x->op_count && nimm < 4; o++)
        if (x->operands[o].type == X86_OP_IMM)
            v[nimm++] = x->operands[o].imm;
    if (nimm == 0 || k_is_simd(b, code32))
        return NULL;
    Shape s = shape_of(b, BUF);
    if (s.map == 1 && s.op >= 0xD8 && s.op <= 0xDF)
        return NULL;
    imm_compared++;
    uint32_t omask = (k->flags & I_OP32) ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t smask = k->size == 1 ? 0xFFu : k->size == 2 ? 0xFFFFu : 0xFFFFFFFFu;
    bool rel = false;
    for (int g = 0; g < ci->detail->groups_count; g++)
        rel |= ci->detail->groups[g] == X86_GRP_BRANCH_RELATIVE;
    const char *bad = NULL;
    if (rel) {
        /* Capstone 4 truncates targets to 16 bits in 16-bit mode and with
         * 67, whatever the operand size: compare the low half there. */
        uint32_t tmask = (!code32 || s.p67) ? 0xFFFFu : omask;
        if (nimm != 1 || ((uint32_t)(len + k->imm) & tmask) != ((uint32_t)v[0] & tmask))
            bad = "branch target";
    } else if (s.map == 1 && (s.op == 0x9A || s.op == 0xEA)) {
        if (nimm != 2 || (uint16_t)v[0] != k->imm2 || ((uint32_t)v[1] & omask) != k->imm)
            bad = "far pointer";
    } else if (s.map == 1 && s.op == 0xC8) {
        if (nimm != 2 || (uint16_t)v[0] != k->imm || (uint8_t)v[1] != k->imm2)
            bad = "enter operands";
    } else if (nimm != 1 || ((uint32_t)v[0] & smask) != (k->imm & smask)) {
        bad = "immediate";
    }
    if (bad)
        snprintf(why, whysz,
                 "%s: kestrel imm %#x imm2 %#x size %u; capstone %d imm(s), first %#" PRIx64, bad,
                 k->imm, k->imm2, k->size, nimm, (uint64_t)v[0]);
    return bad ? why : NULL;
}

/* LOCK is legal only on these instructions, and only with a memory
 * destination (SDM vol. 2, LOCK-Assert LOCK# Signal Prefix).  When Kestrel
 * accepts a LOCK prefix, Capstone's identification must be one of them. */
static const char *check_lock(const Insn *k, bool code32)
{
    if (!(k->flags & I_LOCK))
        return NULL;
    const cs_insn *ci = cs_ins[code32];
    switch (ci->id) {
    case X86_INS_ADD:
    case X86_INS_ADC:
    case X86_INS_AND:
    case X86_INS_BTC:
    case X86_INS_BTR:
    case X86_INS_BTS:
    case X86_INS_CMPXCHG:
    case X86_INS_CMPXCHG8B:
    case X86_INS_DEC:
    case X86_INS_INC:
    case X86_INS_NEG:
    case X86_INS_NOT:
    case X86_INS_OR:
    case X86_INS_SBB:
    case X86_INS_SUB:
    case X86_INS_XOR:
    case X86_INS_XADD:
    case X86_INS_XCHG:
        break;
    default:
        return "kestrel accepts LOCK on an instruction that is not lockable";
    }
    const cs_x86 *x = &ci->detail->x86;
    if (x->op_count < 1 || x->operands[0].type != X86_OP_MEM)
        return "kestrel accepts LOCK without a memory destination";
    return NULL;
}

/* ---- Driver ------------------------------------------------------------ */

static long failures;

static void show(const char *what, const uint8_t *b, bool code32, int kr, int cl, const char *extra)
{
    if (++failures > MAX_SHOWN)
        return;
    printf("MISMATCH (%s) %d-bit:", what, code32 ? 32 : 16);
    for (int i = 0; i < BUF; i++)
        printf(" %02x", b[i]);
    printf("\n  kestrel: %d (%s)\n", kr, k_mnemonic(b, code32));
    if (cs_len(b, code32) > 0)
        printf("  capstone: %d (%s %s)\n", cl, cs_ins[code32]->mnemonic, cs_ins[code32]->op_str);
    else
        printf("  capstone: invalid\n");
    if (extra)
        printf("  %s\n", extra);
}

int main(void)
{
    long cases = DEFAULT_CASES;
    const char *env = getenv("KESTREL_CAPSTONE_CASES");
    if (env && *env)
        cases = strtol(env, NULL, 0);

    static const cs_mode modes[2] = {CS_MODE_16, CS_MODE_32};
    for (int m = 0; m < 2; m++) {
        if (cs_open(CS_ARCH_X86, modes[m], &cs_h[m]) != CS_ERR_OK) {
            fprintf(stderr, "capstone: cs_open failed\n");
            return 1;
        }
        cs_option(cs_h[m], CS_OPT_DETAIL, CS_OPT_ON);
        cs_ins[m] = cs_malloc(cs_h[m]);
    }

    long agree = 0, both_invalid = 0, allowed = 0;
    char why[160];
    for (long n = 0; n < cases; n++) {
        uint8_t b[BUF];
        /* Every opcode of both maps, each in 16- and 32-bit code. */
        int slot = (int)(n % 512);
        bool code32 = (n / 512) & 1;
        uint64_t r = rng_next64(&rng), r2 = rng_next64(&rng);
        for (int i = 0; i < 8; i++) {
            b[i] = (uint8_t)(r >> (8 * i));
            b[8 + i] = (uint8_t)(r2 >> (8 * i));
        }
        int np = (int)rng_below(&rng, 5), p = 0;
        uint64_t pr = rng_next64(&rng);
        for (; p < np; p++)
            b[p] = prefix_bytes[(pr >> (8 * p)) % sizeof(prefix_bytes)];
        if (slot >= 256)
            b[p++] = 0x0F;
        b[p] = (uint8_t)slot;

        Insn k;
        int kr = decode_bytes(b, BUF, code32, &k);
        int cl = cs_len(b, code32);
        if (kr < 0 && cl < 0) {
            both_invalid++;
            continue;
        }
        if (kr > 0 && cl > 0 && kr == cl) {
            const char *bad = check_mem(&k, code32, why, sizeof(why));
            const char *badlock = check_lock(&k, code32);
            const char *badimm = bad ? NULL : check_imm(b, &k, kr, code32, why, sizeof(why));
            if (bad)
                show("memory operand", b, code32, kr, cl, bad);
            else if (badimm)
                show("immediate", b, code32, kr, cl, badimm);
            else if (badlock)
                show("lock", b, code32, kr, cl, badlock);
            else
                agree++;
            continue;
        }
        int cat = classify(b, code32, kr, cl);
        if (cat >= 0) {
            cat_count[cat]++;
            allowed++;
        } else {
            show(kr > 0 && cl > 0 ? "length"
                 : kr > 0         ? "capstone rejects"
                                  : "kestrel rejects",
                 b, code32, kr, cl, NULL);
        }
    }

    printf("capstone cross-check: %ld encodings (seed fixed)\n", cases);
    printf("  both valid, agree:   %ld (memory operands compared: %" PRIu64 ", immediates: %" PRIu64
           ")\n",
           agree, mem_compared, imm_compared);
    printf("  both invalid:        %ld\n", both_invalid);
    printf("  allowed differences: %ld\n", allowed);
    for (int c = 0; c < N_CAT; c++)
        printf("    %-34s %" PRIu64 "\n", cat_name[c], cat_count[c]);
    printf("  mismatches:          %ld%s\n", failures,
           failures > MAX_SHOWN ? " (first 20 shown)" : "");
    printf("%ld passed, %ld failed\n", cases - failures, failures);

    for (int m = 0; m < 2; m++) {
        cs_free(cs_ins[m], 1);
        cs_close(&cs_h[m]);
    }
    return failures ? 1 : 0;
}
