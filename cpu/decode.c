/* The instruction decoder: prefixes, opcode maps, ModRM/SIB, displacement
 * and immediates, driven by opcodes.def.  SDM vol. 2, chapter 2 and
 * appendix A. */
#include "cpu/decode.h"

#include <pthread.h>

#include "cpu/handlers.h"

/* ---- Operand tokens --------------------------------------------------
 * Each token of the table is a bit set; an entry's form is the OR of its
 * operands.  The size of the first sized non-immediate operand is the
 * instruction's operand size. */
enum {
    T_SZ_B = 1, T_SZ_W = 2, T_SZ_V = 3, T_SZ_D = 4, T_SZ_MASK = 7,
    T_MODRM = 1 << 3,
    T_MEMONLY = 1 << 4,
    T_RM0 = 1 << 5,  /* accumulator form: register operand 0 */
    T_ZREG = 1 << 6, /* register in opcode bits 0-2 */
    T_IMM_SHIFT = 8, /* first immediate kind, 4 bits */
    T_IMM2_B = 1 << 12, /* second immediate byte (ENTER) */
    T_ONE = 1 << 13,    /* shift count of one */
    T_SREG = 1 << 14,   /* ModRM.reg names a segment register */
    T_REGONLY = 1 << 15, /* ModRM.mod must be 3 (U, N operands) */
};
enum { IM_NONE, IM_B, IM_BS, IM_W, IM_Z, IM_JB, IM_JZ, IM_AP, IM_O };
#define IMM(k) ((k) << T_IMM_SHIFT)

#define __ 0
#define Eb (T_MODRM | T_SZ_B)
#define Ew (T_MODRM | T_SZ_W)
#define Ev (T_MODRM | T_SZ_V)
#define Ex (T_MODRM)
#define Gb (T_MODRM | T_SZ_B)
#define Gw (T_MODRM | T_SZ_W)
#define Gv (T_MODRM | T_SZ_V)
#define M (T_MODRM | T_MEMONLY)
#define Ma (T_MODRM | T_MEMONLY)
#define Mp (T_MODRM | T_MEMONLY)
#define Ms (T_MODRM | T_MEMONLY)
#define Mq (T_MODRM | T_MEMONLY)
#define Sw (T_MODRM | T_SREG | T_SZ_W)
#define Cd (T_MODRM | T_SZ_D)
#define Dd (T_MODRM | T_SZ_D)
#define Rd (T_MODRM | T_SZ_D)
#define Zb (T_ZREG | T_SZ_B)
#define Zv (T_ZREG | T_SZ_V)
#define Zd (T_ZREG | T_SZ_D)
#define AL (T_RM0 | T_SZ_B)
#define eAX (T_RM0 | T_SZ_V)
#define Ib IMM(IM_B)
#define Ibs (IMM(IM_BS) | T_SZ_V)
#define Iw IMM(IM_W)
#define Iz IMM(IM_Z)
#define Ib2 T_IMM2_B
#define Jb IMM(IM_JB)
#define Jz IMM(IM_JZ)
#define Ap IMM(IM_AP)
#define Ob (IMM(IM_O) | T_SZ_B)
#define Ov (IMM(IM_O) | T_SZ_V)
#define One T_ONE
#define CL 0
#define DX 0
#define ES 0
#define CS 0
#define SS 0
#define DS 0
#define FS 0
#define GS 0
#define Xb T_SZ_B
#define Xv T_SZ_V
#define Xz T_SZ_V
#define Yb T_SZ_B
#define Yv T_SZ_V
#define Yz T_SZ_V
/* SSE/SSE2 and MMX operands (SDM vol. 2, A.2.1): sizes do not matter to
 * the decoder, only which ModRM forms are allowed. */
#define Vps T_MODRM
#define Vpd T_MODRM
#define Vss T_MODRM
#define Vsd T_MODRM
#define Vdq T_MODRM
#define Vq T_MODRM
#define Wps T_MODRM
#define Wpd T_MODRM
#define Wss T_MODRM
#define Wsd T_MODRM
#define Wdq T_MODRM
#define Wq T_MODRM
#define Pq T_MODRM
#define Qq T_MODRM
#define Ups (T_MODRM | T_REGONLY)
#define Upd (T_MODRM | T_REGONLY)
#define Udq (T_MODRM | T_REGONLY)
#define Uq (T_MODRM | T_REGONLY)
#define Ux (T_MODRM | T_REGONLY)
#define Nq (T_MODRM | T_REGONLY)
#define Md (T_MODRM | T_MEMONLY)
#define Mps (T_MODRM | T_MEMONLY)
#define Mpd (T_MODRM | T_MEMONLY)
#define Mdq (T_MODRM | T_MEMONLY)
#define Ed (T_MODRM | T_SZ_D)
#define Gd (T_MODRM | T_SZ_D)

#define NG (-1)
#define LK 1
#define TM 2
#define SE 4

/* First operand's size wins; an operand with no size bits defers. */
#define FIRST_SIZE(a, b, c)                                                                \
    (((a) & T_SZ_MASK) ? ((a) & T_SZ_MASK) : ((b) & T_SZ_MASK) ? ((b) & T_SZ_MASK)         \
                                                               : ((c) & T_SZ_MASK))

static const struct OpEntry {
    uint8_t map, op;
    int8_t greg;
    uint8_t flags;
    uint32_t form;
    uint8_t size_kind;
    const char *mnemonic;
    const HandlerSet *hs;
} op_entries[] = {
#define X(map, op, greg, mn, a, b, c, fl, hs)                                              \
    {map, op, greg, fl, (uint32_t)((a) | (b) | (c)) & ~(uint32_t)T_SZ_MASK,                \
     FIRST_SIZE(a, b, c), #mn, &hs_##hs},
#include "cpu/opcodes.def"
#undef X
};

#undef __
#undef M

/* Index: [map-1][opcode] -> entry, or for groups [map-1][opcode] -> first
 * of eight entries in group_tab. */
typedef struct OpSlot {
    const struct OpEntry *e; /* non-group entry */
    const struct OpEntry *g[8]; /* group entries by ModRM.reg (NULL: #UD) */
    bool is_group;
    bool sse; /* an SE entry: 66/F2/F3 select map 3-5 or are #UD */
} OpSlot;

static OpSlot op_tab[5][256];
static pthread_once_t op_tab_once = PTHREAD_ONCE_INIT;

static void op_tab_build(void)
{
    for (size_t k = 0; k < sizeof(op_entries) / sizeof(op_entries[0]); k++) {
        const struct OpEntry *e = &op_entries[k];
        OpSlot *s = &op_tab[e->map - 1][e->op];
        /* A slot is in the SSE space when an entry says so or when any
         * prefixed map defines the opcode (0F D6 and E6 have no plain
         * form). */
        if (e->flags & SE)
            s->sse = true;
        if (e->map >= 3)
            op_tab[1][e->op].sse = true;
        if (e->greg < 0) {
            s->e = e;
        } else {
            s->is_group = true;
            s->g[e->greg] = e;
        }
    }
}

const char *decode_mnemonic(const uint8_t *bytes, int avail, bool code32)
{
    Insn tmp;
    const struct OpEntry *e = NULL;
    if (decode_full(bytes, avail, code32, &tmp, (const void **)&e) < 0 || !e)
        return NULL;
    return e->mnemonic;
}

static inline bool lock_ok(const struct OpEntry *e, bool mem) { return (e->flags & LK) && mem; }

/* Registers used by 16-bit ModRM addressing (SDM vol. 2, table 2-1). */
static const uint8_t rm16_base[8] = {R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX};
static const uint8_t rm16_index[8] = {R_ESI, R_EDI, R_ESI, R_EDI, R_ZERO, R_ZERO, R_ZERO, R_ZERO};

static void op_gp_too_long(CpuState *c, const Insn *i)
{
    (void)i;
    cpu_gp0(c);
}

void op_ud(CpuState *c, const Insn *i)
{
    (void)i;
    cpu_raise_ud(c);
}

int decode_full(const uint8_t *bytes, int avail, bool code32, Insn *out, const void **entry)
{
    pthread_once(&op_tab_once, op_tab_build);
    int pos = 0;
    bool op32 = code32, ad32 = code32;
    int seg = SEG_NONE;
    uint8_t flags = 0;
    int map = 1;
    uint8_t b;

    memset(out, 0, sizeof(*out));
    out->base = out->index = R_ZERO;
    out->fn = op_ud;
    if (entry)
        *entry = NULL;

#define NEED(n)                                                                            \
    do {                                                                                   \
        if (pos + (n) > 15)                                                                \
            goto too_long;                                                                 \
        if (pos + (n) > avail)                                                             \
            return DECODE_SHORT;                                                           \
    } while (0)

    /* Prefixes: any number, any order, within the 15-byte limit. */
    for (;;) {
        NEED(1);
        b = bytes[pos];
        switch (b) {
        case 0x26: seg = SEG_ES; break;
        case 0x2E: seg = SEG_CS; break;
        case 0x36: seg = SEG_SS; break;
        case 0x3E: seg = SEG_DS; break;
        case 0x64: seg = SEG_FS; break;
        case 0x65: seg = SEG_GS; break;
        case 0x66: op32 = !code32; break;
        case 0x67: ad32 = !code32; break;
        case 0xF0: flags |= I_LOCK; break;
        case 0xF2: flags = (flags & ~I_REP) | I_REPNE; break;
        case 0xF3: flags = (flags & ~I_REPNE) | I_REP; break;
        default: goto prefixes_done;
        }
        pos++;
    }
prefixes_done:
    pos++;
    if (b == 0x0F) {
        NEED(1);
        map = 2;
        b = bytes[pos++];
    }
    out->op = b;

    const OpSlot *slot = &op_tab[map - 1][b];
    if (map == 2 && slot->sse) {
        /* Mandatory prefixes (SDM vol. 2, 2.1.2): F2/F3 (the last one
         * given) take precedence over 66, even when the opcode has no F2/F3
         * form (then it is #UD, as the host CPU agrees: 66 F2 0F 6F); an
         * SSE-space opcode with a prefix it does not define is #UD.  Outside the SSE space the
         * prefixes keep their ordinary meaning (66 = operand size). */
        bool p66 = op32 != code32;
        int pm = (flags & I_REP) ? 4 : (flags & I_REPNE) ? 5 : p66 ? 3 : 0;
        if (pm)
            slot = &op_tab[pm - 1][b];
    }
    const struct OpEntry *e = slot->e;
    uint8_t modrm = 0;
    bool has_modrm = slot->is_group || (e && (e->form & T_MODRM));
    if (has_modrm) {
        NEED(1);
        modrm = bytes[pos++];
        if (slot->is_group)
            e = slot->g[(modrm >> 3) & 7];
    }
    if (!e) {
        /* Undefined: #UD.  The length still counts what was consumed so
         * that a disassembler view is sensible; it is never executed past. */
        out->len = (uint8_t)pos;
        out->flags = I_TERM;
        return DECODE_UD;
    }
    if (entry)
        *entry = e;

    unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
    bool mem = false;
    if (e->form & T_MODRM) {
        out->reg = (uint8_t)reg;
        out->rm = (uint8_t)rm;
        /* MOV to/from CRn/DRn ignore mod: always a register (SDM vol. 2). */
        bool force_reg = map == 2 && b >= 0x20 && b <= 0x23;
        if (mod != 3 && !force_reg) {
            mem = true;
            int def_seg = SEG_DS;
            if (ad32) {
                if (rm == 4) {
                    NEED(1);
                    uint8_t sib = bytes[pos++];
                    unsigned ss = sib >> 6, idx = (sib >> 3) & 7, base = sib & 7;
                    out->scale = (uint8_t)ss;
                    out->index = idx == 4 ? R_ZERO : (uint8_t)idx;
                    if (base == 5 && mod == 0) {
                        out->base = R_ZERO;
                        NEED(4);
                        out->disp = ld32_host(bytes + pos);
                        pos += 4;
                    } else {
                        out->base = (uint8_t)base;
                        if (base == R_ESP || base == R_EBP)
                            def_seg = SEG_SS;
                    }
                } else if (rm == 5 && mod == 0) {
                    NEED(4);
                    out->disp = ld32_host(bytes + pos);
                    pos += 4;
                } else {
                    out->base = (uint8_t)rm;
                    if (rm == R_EBP)
                        def_seg = SEG_SS;
                }
                if (mod == 1) {
                    NEED(1);
                    out->disp = (uint32_t)(int32_t)(int8_t)bytes[pos++];
                } else if (mod == 2) {
                    NEED(4);
                    out->disp = ld32_host(bytes + pos);
                    pos += 4;
                }
            } else {
                if (rm == 6 && mod == 0) {
                    NEED(2);
                    out->disp = ld16_host(bytes + pos);
                    pos += 2;
                } else {
                    out->base = rm16_base[rm];
                    out->index = rm16_index[rm];
                    if (out->base == R_EBP)
                        def_seg = SEG_SS;
                    if (mod == 1) {
                        NEED(1);
                        out->disp = (uint32_t)(int32_t)(int8_t)bytes[pos++];
                    } else if (mod == 2) {
                        NEED(2);
                        out->disp = ld16_host(bytes + pos);
                        pos += 2;
                    }
                }
            }
            out->seg = (uint8_t)(seg != SEG_NONE ? seg : def_seg);
        } else {
            out->seg = (uint8_t)(seg != SEG_NONE ? seg : SEG_DS);
        }
    } else {
        if (e->form & T_ZREG)
            out->reg = out->rm = b & 7;
        out->seg = (uint8_t)(seg != SEG_NONE ? seg : SEG_DS);
    }
    if (seg != SEG_NONE)
        flags |= I_SEGOVR;

    /* Immediates. */
    switch ((e->form >> T_IMM_SHIFT) & 15) {
    case IM_B:
        NEED(1);
        out->imm = bytes[pos++];
        break;
    case IM_BS:
    case IM_JB:
        NEED(1);
        out->imm = (uint32_t)(int32_t)(int8_t)bytes[pos++];
        break;
    case IM_W:
        NEED(2);
        out->imm = ld16_host(bytes + pos);
        pos += 2;
        break;
    case IM_Z:
    case IM_JZ:
        if (op32) {
            NEED(4);
            out->imm = ld32_host(bytes + pos);
            pos += 4;
        } else {
            NEED(2);
            out->imm = ld16_host(bytes + pos);
            if (((e->form >> T_IMM_SHIFT) & 15) == IM_JZ)
                out->imm = (uint32_t)(int32_t)(int16_t)out->imm;
            pos += 2;
        }
        break;
    case IM_AP:
        if (op32) {
            NEED(6);
            out->imm = ld32_host(bytes + pos);
            out->imm2 = ld16_host(bytes + pos + 4);
            pos += 6;
        } else {
            NEED(4);
            out->imm = ld16_host(bytes + pos);
            out->imm2 = ld16_host(bytes + pos + 2);
            pos += 4;
        }
        break;
    case IM_O:
        if (ad32) {
            NEED(4);
            out->disp = ld32_host(bytes + pos);
            pos += 4;
        } else {
            NEED(2);
            out->disp = ld16_host(bytes + pos);
            pos += 2;
        }
        break;
    }
    if (e->form & T_IMM2_B) {
        NEED(1);
        out->imm2 = bytes[pos++];
    }
    if (e->form & T_ONE)
        out->imm = 1;
    if (e->form & T_RM0)
        out->rm = 0;
#undef NEED

    out->len = (uint8_t)pos;
    if (op32)
        flags |= I_OP32;
    if (ad32)
        flags |= I_AD32;
    if (mem)
        flags |= I_MEM;
    if (e->flags & TM)
        flags |= I_TERM;
    out->flags = flags;

    switch (e->size_kind) {
    case T_SZ_B: out->size = 1; break;
    case T_SZ_W: out->size = 2; break;
    case T_SZ_D: out->size = 4; break;
    default: out->size = op32 ? 4 : 2; break;
    }

    /* Validity: memory-only operands, segment register numbers, LOCK. */
    if (((e->form & T_MEMONLY) && !mem) || ((e->form & T_REGONLY) && mem) ||
        ((e->form & T_SREG) && (reg > 5 || (b == 0x8E && reg == SEG_CS))) ||
        ((flags & I_LOCK) && !lock_ok(e, mem))) {
        out->flags |= I_TERM;
        return DECODE_UD;
    }

    out->fn = e->hs->f[lf_size_idx(out->size)][mem];
    return pos;

too_long:
    /* More than 15 bytes: #GP(0) (SDM vol. 2, 2.3.11). */
    out->len = 15;
    out->flags = I_TERM;
    out->fn = op_gp_too_long;
    return DECODE_TOO_LONG;
}

int decode_bytes(const uint8_t *bytes, int avail, bool code32, Insn *out)
{
    int r = decode_full(bytes, avail, code32, out, NULL);
    if (r == DECODE_UD)
        out->fn = op_ud;
    return r;
}
