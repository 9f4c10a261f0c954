/* A small decoder of 286 real-mode instructions, for classifying tests.
 *
 * The runner needs to know a test's prefixes, its ModRM operand and where
 * that operand lies, to decide whether a known 286/386 difference applies.
 * It never executes anything, and it is deliberately independent of
 * Kestrel's decoder so that it cannot share its bugs.  Encodings: 80286
 * Programmer's Reference, Appendix B (opcode map), and Intel SDM vol. 2,
 * Appendix A (one-byte opcode map) with Table 2-1 (16-bit ModRM).
 */
#include "sst.h"

/* One-byte opcodes followed by a ModRM byte (286 map; 0F handled apart).
 * Undefined encodings (8F/C6/C7 /1-7) are decoded at the length their /0
 * form has, as the 286 fetches them. */
static bool has_modrm(uint8_t op)
{
    if (op < 0x40)
        return (op & 7) < 4; /* ALU ops: 00-03, 08-0B, ..., 38-3B */
    switch (op) {
    case 0x62: case 0x63: case 0x69: case 0x6B:
    case 0xC0: case 0xC1: case 0xC4: case 0xC5: case 0xC6: case 0xC7:
    case 0xD0: case 0xD1: case 0xD2: case 0xD3:
    case 0xF6: case 0xF7: case 0xFE: case 0xFF:
        return true;
    default:
        return (op >= 0x80 && op <= 0x8F) || (op >= 0xD8 && op <= 0xDF);
    }
}

/* Immediate bytes after the opcode (and ModRM/displacement) in the 286
 * one-byte map. */
static unsigned imm_size(uint8_t op, uint8_t reg)
{
    switch (op) {
    case 0x04: case 0x0C: case 0x14: case 0x1C: case 0x24: case 0x2C: case 0x34: case 0x3C:
    case 0x6A: case 0x6B: case 0x80: case 0x82: case 0x83: case 0xA8: case 0xC0: case 0xC1:
    case 0xC6: case 0xCD: case 0xD4: case 0xD5: case 0xE0: case 0xE1: case 0xE2: case 0xE3:
    case 0xE4: case 0xE5: case 0xE6: case 0xE7: case 0xEB:
        return 1;
    case 0x05: case 0x0D: case 0x15: case 0x1D: case 0x25: case 0x2D: case 0x35: case 0x3D:
    case 0x68: case 0x69: case 0x81: case 0xA0: case 0xA1: case 0xA2: case 0xA3: case 0xA9:
    case 0xC2: case 0xC7: case 0xCA: case 0xE8: case 0xE9:
        return 2;
    case 0xC8:
        return 3;
    case 0x9A: case 0xEA:
        return 4;
    case 0xF6:
        return reg <= 1 ? 1 : 0; /* TEST r/m8, imm8 (and its /1 alias) */
    case 0xF7:
        return reg <= 1 ? 2 : 0;
    default:
        if (op >= 0x70 && op <= 0x7F)
            return 1; /* Jcc rel8 */
        if (op >= 0xB0 && op <= 0xB7)
            return 1;
        if (op >= 0xB8 && op <= 0xBF)
            return 2;
        return 0;
    }
}

bool sst_insn_decode(const MooTest *t, SstInsn *d)
{
    *d = (SstInsn){.seg_override = SST_SEG_NONE, .mem_seg = SST_SEG_NONE};
    if ((t->init.mask & 0x3FFF) != 0x3FFF)
        return false;
    /* The instruction as the CPU sees it: memory at CS:IP.  (BYTS can stop
     * short where the 286 faulted before fetching the rest.)  16 bytes is
     * one more than a 386 accepts, so an over-long one shows as such. */
    const uint16_t cs = t->init.v[MOO_CS], ip = t->init.v[MOO_IP];
    uint8_t *b = d->bytes;
    for (unsigned k = 0; k < sizeof(d->bytes); k++)
        b[k] = sst_initial_byte(t, sst_phys(cs, (uint16_t)(ip + k)));
    const unsigned max = sizeof(d->bytes);
    unsigned i = 0;
    for (; i < max; i++) {
        uint8_t p = b[i];
        if (p == 0x26 || p == 0x2E || p == 0x36 || p == 0x3E)
            d->seg_override = (p >> 3) & 3; /* 26 ES, 2E CS, 36 SS, 3E DS */
        else if (p == 0xF0)
            d->lock = true;
        else if (p == 0xF2 || p == 0xF3)
            d->rep = true;
        else
            break;
    }
    d->n_prefix = (uint8_t)i;
    if (i + 1 >= max)
        return false;
    d->op = b[i++];
    bool modrm = has_modrm(d->op);
    if (d->op == 0x0F) {
        d->op2 = b[i++];
        modrm = d->op2 <= 0x03;
    }
    if (modrm) {
        uint8_t m = b[i++];
        d->has_modrm = true;
        d->mod = m >> 6;
        d->reg = (m >> 3) & 7;
        d->rm = m & 7;
        d->mem = d->mod != 3;
    }
    if (d->mem) {
        const uint16_t *r = t->init.v;
        uint16_t ea = 0;
        int seg = SST_SEG_DS;
        switch (d->rm) {
        case 0: ea = r[MOO_BX] + r[MOO_SI]; break;
        case 1: ea = r[MOO_BX] + r[MOO_DI]; break;
        case 2: ea = r[MOO_BP] + r[MOO_SI]; seg = SST_SEG_SS; break;
        case 3: ea = r[MOO_BP] + r[MOO_DI]; seg = SST_SEG_SS; break;
        case 4: ea = r[MOO_SI]; break;
        case 5: ea = r[MOO_DI]; break;
        case 6:
            if (d->mod != 0) {
                ea = r[MOO_BP];
                seg = SST_SEG_SS;
            }
            break;
        case 7: ea = r[MOO_BX]; break;
        }
        unsigned disp_len = d->mod == 1 ? 1 : d->mod == 2 ? 2 : (d->rm == 6 ? 2 : 0);
        if (i + disp_len > max)
            return false;
        if (disp_len == 1)
            ea = (uint16_t)(ea + (int8_t)b[i]);
        else if (disp_len == 2)
            ea = (uint16_t)(ea + (b[i] | b[i + 1] << 8));
        i += disp_len;
        d->ea = ea;
        d->mem_seg = d->seg_override != SST_SEG_NONE ? d->seg_override : seg;
    }
    d->imm_at = (uint8_t)i;
    d->n_imm = (uint8_t)(d->op == 0x0F ? 0 : imm_size(d->op, d->reg));
    if (i + d->n_imm > max)
        return false;
    d->len = (uint8_t)(i + d->n_imm);
    return true;
}

bool sst_insn_uses_stack(const SstInsn *d)
{
    uint8_t op = d->op;
    if (op >= 0x50 && op <= 0x61)
        return true; /* PUSH/POP reg, PUSHA, POPA */
    switch (op) {
    case 0x06: case 0x07: case 0x0E: case 0x16: case 0x17: case 0x1E: case 0x1F:
    case 0x68: case 0x6A: case 0x8F: case 0x9A: case 0x9C: case 0x9D:
    case 0xC2: case 0xC3: case 0xC8: case 0xC9: case 0xCA: case 0xCB:
    case 0xCC: case 0xCD: case 0xCE: case 0xCF: case 0xE8:
        return true;
    case 0xFF:
        return d->reg == 2 || d->reg == 3 || d->reg == 6; /* CALL, CALL far, PUSH */
    default:
        return false;
    }
}

bool sst_insn_other_mem(const SstInsn *d, bool *ss_possible)
{
    /* The DS-side operand of string instructions, XLAT and moffs MOV takes
     * a segment override; the ES:DI side never does. */
    bool ds_side = false, any = false;
    switch (d->op) {
    case 0xA4: case 0xA5: case 0xA6: case 0xA7: /* MOVS, CMPS: DS:SI and ES:DI */
        ds_side = any = true;
        break;
    case 0xAC: case 0xAD: case 0x6E: case 0x6F: /* LODS, OUTS: DS:SI */
    case 0xD7:                                  /* XLAT: DS:BX+AL */
    case 0xA0: case 0xA1: case 0xA2: case 0xA3: /* MOV AL/AX, moffs */
        ds_side = any = true;
        break;
    case 0xAA: case 0xAB: case 0xAE: case 0xAF: /* STOS, SCAS: ES:DI */
    case 0x6C: case 0x6D:                       /* INS: ES:DI */
        any = true;
        break;
    default:
        break;
    }
    *ss_possible = ds_side && d->seg_override == SST_SEG_SS;
    return any;
}

uint8_t sst_initial_byte(const MooTest *t, uint32_t addr)
{
    /* Later entries win, as they would when written in order. */
    for (uint32_t i = t->init_ram.n; i-- > 0;)
        if (t->init_ram.e[i].addr == addr)
            return t->init_ram.e[i].val;
    if (addr < 0x400) {
        /* Default IVT: vector v -> SST_STUB_SEG:v. */
        unsigned v = addr >> 2;
        switch (addr & 3) {
        case 0: return (uint8_t)v;
        case 1: return 0;
        case 2: return SST_STUB_SEG & 0xFF;
        default: return SST_STUB_SEG >> 8;
        }
    }
    return SST_FILL;
}

void sst_initial_ivt(const MooTest *t, unsigned v, uint16_t *cs, uint16_t *ip)
{
    uint32_t a = (v & 0xFF) * 4;
    *ip = (uint16_t)(sst_initial_byte(t, a) | sst_initial_byte(t, a + 1) << 8);
    *cs = (uint16_t)(sst_initial_byte(t, a + 2) | sst_initial_byte(t, a + 3) << 8);
}

uint16_t sst_seg_value(const MooTest *t, int seg)
{
    switch (seg) {
    case SST_SEG_ES: return t->init.v[MOO_ES];
    case SST_SEG_CS: return t->init.v[MOO_CS];
    case SST_SEG_SS: return t->init.v[MOO_SS];
    default: return t->init.v[MOO_DS];
    }
}
