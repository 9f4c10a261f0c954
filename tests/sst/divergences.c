/* Known ways a 386-or-later CPU must differ from the 80286 in real mode.
 *
 * The SingleStepTests 80286 captures come from a real 286; Kestrel models a
 * P6-class CPU.  Where the manuals say a 386+ behaves differently, a test
 * can legitimately fail.  Each entry below names the rule and cites it, and
 * has two predicates:
 *
 *   applies()  decides from the test alone (form, bytes, initial state, the
 *              286's outcome) whether the rule covers it: SST_DIV_MUST when
 *              a 386+ cannot give the 286's result, SST_DIV_MAY when the
 *              test data cannot tell which of two legal outcomes the rule
 *              gives.
 *   explains() checks that Kestrel produced what the rule prescribes, not
 *              just anything different: a test is counted as a divergence
 *              only when both hold, and a failure Kestrel gets wrong in some
 *              other way stays a failure.
 *
 * A test that matches the 286 although a rule says a 386+ MUST differ (and
 * the rule's outcome is not the same as the 286's) is a failure too.
 *
 * Divergent tests are reported apart and never counted as passed.  Add an
 * entry only with a manual's reason; a Kestrel bug must stay a failure.
 *
 * Sources:
 *   [286]  80286 Programmer's Reference Manual (1987), Table 5-2 "Dedicated
 *          and Reserved Interrupt Vectors in Real Address Mode", and
 *          Appendix B.
 *   [386]  Intel 80386 Programmer's Reference Manual (1986), ch. 14
 *          "80386 Real-Address Mode" and ch. 17 (instruction pages).
 *   [SDM]  Intel 64 and IA-32 Architectures Software Developer's Manual.
 */
#include "sst.h"

#define FLAG_CF 0x0001u
#define FLAG_TF 0x0100u
#define FLAG_OF 0x0800u
#define FLAG_IF 0x0200u
#define VEC_UD 6
#define VEC_BR 5
#define VEC_SS 12
#define VEC_GP 13

/* ---- shared helpers --------------------------------------------------- */

static const uint16_t *init_regs(const SstCase *c) { return c->t->init.v; }

static uint16_t flags0(const SstCase *c) { return init_regs(c)[MOO_FLAGS] & 0x0FFFu; }

static bool addr_in(uint32_t a, const uint32_t *set, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (set[i] == a)
            return true;
    return false;
}

/* Every stray write Kestrel made is in `allowed`. */
static bool strays_within(const SstResult *r, const uint32_t *allowed, unsigned n)
{
    if (!(r->bad & SST_BAD_STRAY))
        return true;
    if (r->n_stray > SST_MAX_STRAY)
        return false;
    for (uint32_t i = 0; i < r->n_stray; i++)
        if (!addr_in(r->stray[i], allowed, n))
            return false;
    return true;
}

/* The INIT bytes, other than those in `except`, still hold their value. */
static bool init_bytes_kept(const SstCase *c, const SstResult *r, const uint32_t *except,
                            unsigned n)
{
    const MooTest *t = c->t;
    for (uint32_t i = 0; i < t->init_ram.n; i++) {
        uint32_t a = t->init_ram.e[i].addr;
        if (addr_in(a, except, n))
            continue;
        if (r->ram[a] != sst_initial_byte(t, a))
            return false;
    }
    return true;
}

/* LOCK is accepted by a 386+ only before these instructions, and only when
 * they write memory ([386] 14.8.1 and LOCK; [SDM] vol. 2A, LOCK: "#UD if the
 * LOCK prefix is used with any instruction not in the above list" and
 * "only to those forms ... where the destination operand is a memory
 * operand").  Returns SST_DIV_NO when LOCK is fine, MUST when it is #UD,
 * MAY for 82 (an undocumented alias of 80: no manual says whether LOCK
 * goes with it). */
static SstApplies lock_ud(const SstCase *c)
{
    const SstInsn *d = &c->insn;
    if (!c->decoded || !d->lock)
        return SST_DIV_NO;
    uint8_t op = d->op;
    bool ok;
    if (op < 0x40 && (op & 7) <= 1)
        ok = op < 0x38 && d->mem; /* ADD OR ADC SBB AND SUB XOR r/m, r; not CMP */
    else if (op == 0x80 || op == 0x81 || op == 0x83)
        ok = d->reg != 7 && d->mem; /* group 1 but CMP */
    else if (op == 0x82)
        return d->reg != 7 && d->mem ? SST_DIV_MAY : SST_DIV_MUST;
    else if (op == 0x86 || op == 0x87)
        ok = d->mem; /* XCHG */
    else if (op == 0xF6 || op == 0xF7)
        ok = (d->reg == 2 || d->reg == 3) && d->mem; /* NOT NEG */
    else if (op == 0xFE || op == 0xFF)
        ok = d->reg <= 1 && d->mem; /* INC DEC */
    else
        ok = false;
    return ok ? SST_DIV_NO : SST_DIV_MUST;
}

/* Kestrel took a fault with `vector` at the instruction and did nothing
 * else: the 386+ makes these checks (prefix, opcode, operand limit) before
 * the instruction changes any state, so the result is the initial state
 * plus a real-mode interrupt frame ([386] 14.3; [SDM] vol. 3A 20.1.4):
 * FLAGS, CS and IP (of the instruction's first prefix) pushed, IF and TF
 * cleared, CS:IP from the vector -- then the HLT there. */
static bool is_fault_frame(const SstCase *c, const SstResult *r, unsigned vector)
{
    const uint16_t *iv = init_regs(c);
    uint16_t hcs, hip;
    sst_initial_ivt(c->t, vector, &hcs, &hip);
    if (r->bad & ~(uint32_t)SST_BAD_STRAY)
        return false;
    if (r->regs[MOO_CS] != hcs || r->regs[MOO_IP] != (uint16_t)(hip + 1))
        return false;
    for (int i = 0; i < MOO_NREGS; i++) {
        if (i == MOO_CS || i == MOO_IP || i == MOO_FLAGS)
            continue;
        uint16_t want = i == MOO_SP ? (uint16_t)(iv[MOO_SP] - 6) : iv[i];
        if (r->regs[i] != want)
            return false;
    }
    uint16_t m = c->flags_mask;
    uint16_t fl = flags0(c);
    if ((r->regs[MOO_FLAGS] ^ (fl & ~(FLAG_IF | FLAG_TF))) & m)
        return false;
    uint16_t ss = iv[MOO_SS], sp = iv[MOO_SP];
    uint32_t frame[6];
    uint8_t want[6] = {(uint8_t)iv[MOO_IP], (uint8_t)(iv[MOO_IP] >> 8), (uint8_t)iv[MOO_CS],
                       (uint8_t)(iv[MOO_CS] >> 8), (uint8_t)fl, (uint8_t)(fl >> 8)};
    uint8_t wmask[6] = {0xFF, 0xFF, 0xFF, 0xFF, (uint8_t)m, (uint8_t)(m >> 8)};
    for (unsigned k = 0; k < 6; k++) {
        frame[k] = sst_phys(ss, (uint16_t)(sp - 6 + k));
        if ((r->ram[frame[k]] ^ want[k]) & wmask[k])
            return false;
    }
    return init_bytes_kept(c, r, frame, 6) && strays_within(r, frame, 6);
}

/* Kestrel's result is the 286's except that the exception went through
 * `vector` instead of the 286's: same frame, same registers, different
 * handler. */
static bool is_286_but_vector(const SstCase *c, const SstResult *r, unsigned vector)
{
    uint16_t hcs, hip;
    sst_initial_ivt(c->t, vector, &hcs, &hip);
    if (r->bad || r->mem_diff)
        return false;
    if (r->reg_diff & ~((1u << MOO_CS) | (1u << MOO_IP)))
        return false;
    return r->regs[MOO_CS] == hcs && r->regs[MOO_IP] == (uint16_t)(hip + 1);
}

/* Register (MOO_*) that holds ModRM reg/rm number n as a 16-bit register. */
static int reg16(unsigned n)
{
    static const int map[8] = {MOO_AX, MOO_CX, MOO_DX, MOO_BX, MOO_SP, MOO_BP, MOO_SI, MOO_DI};
    return map[n & 7];
}

/* Kestrel executed the instruction to its end without a fault and stopped
 * at the HLT that follows it (or at the far target's HLT for EA/9A); only
 * registers in `may_change` (MOO_* bits) differ from the initial state, and
 * only bytes in `may_write` (besides INIT/FINA bytes) were written.  Used
 * where the 286 faulted before doing anything, so the capture holds no
 * result to compare against: this is all the test data can say. */
static bool ran_to_end(const SstCase *c, const SstResult *r, uint16_t may_change,
                       const uint32_t *may_write, unsigned n_write)
{
    const uint16_t *iv = init_regs(c);
    const SstInsn *d = &c->insn;
    if (r->bad & ~(uint32_t)SST_BAD_STRAY)
        return false;
    uint16_t want_cs = iv[MOO_CS], want_ip = (uint16_t)(iv[MOO_IP] + d->len + 1);
    if ((d->op == 0xEA || d->op == 0x9A) && d->n_imm >= 4) {
        want_ip = (uint16_t)((d->bytes[d->imm_at] | d->bytes[d->imm_at + 1] << 8) + 1);
        want_cs = (uint16_t)(d->bytes[d->imm_at + 2] | d->bytes[d->imm_at + 3] << 8);
    }
    if (r->regs[MOO_CS] != want_cs || r->regs[MOO_IP] != want_ip)
        return false;
    for (int i = 0; i < MOO_NREGS; i++) {
        if (i == MOO_CS || i == MOO_IP || (may_change >> i & 1))
            continue;
        uint16_t a = r->regs[i], b = iv[i];
        if (i == MOO_FLAGS) {
            a &= c->flags_mask;
            b &= c->flags_mask;
        }
        if (a != b)
            return false;
    }
    return init_bytes_kept(c, r, may_write, n_write) && strays_within(r, may_write, n_write);
}

/* Physical addresses of the first `size` bytes of the ModRM operand. */
static unsigned ea_bytes(const SstCase *c, uint32_t *out, unsigned size)
{
    if (!c->insn.mem)
        return 0;
    uint16_t seg = sst_seg_value(c->t, c->insn.mem_seg);
    for (unsigned k = 0; k < size; k++)
        out[k] = sst_phys(seg, (uint16_t)(c->insn.ea + k));
    return size;
}

/* Size of the ModRM memory operand, for limit checks. */
static unsigned modrm_size(const SstInsn *d)
{
    uint8_t op = d->op;
    if (op == 0x8D)
        return 0; /* LEA reads nothing */
    if ((op < 0x40 && !(op & 1)) || op == 0x80 || op == 0x82 || op == 0x84 || op == 0x86 ||
        op == 0x88 || op == 0x8A || op == 0xC0 || op == 0xC6 || op == 0xD0 || op == 0xD2 ||
        op == 0xF6 || op == 0xFE)
        return 1;
    if (op == 0xC4 || op == 0xC5 || op == 0x62 || op == 0xD8 ||
        (op == 0xFF && (d->reg == 3 || d->reg == 5)))
        return 4;
    return 2;
}

/* The ModRM operand runs past offset FFFF (a 386+ checks every byte). */
static bool modrm_crosses(const SstInsn *d)
{
    unsigned size = d->mem ? modrm_size(d) : 0;
    return size > 1 && (uint32_t)d->ea + size - 1 > 0xFFFF;
}

/* The 286 raised interrupt 13 as a fault (the captures record INT n's
 * vector the same way, so INT 0Dh is excluded). */
static bool faulted_13(const SstCase *c)
{
    const MooTest *t = c->t;
    if (!t->has_excp || t->excp != VEC_GP)
        return false;
    return !(c->insn.op == 0xCD && c->insn.n_imm >= 1 && c->insn.bytes[c->insn.imm_at] == VEC_GP);
}

/* ---- 1. LOCK before an instruction that cannot be locked ---------------- */

/* [386] 14.8.1 "Bus Lock": "LOCK may only be used with the following 80386
 * instructions when they modify memory. An undefined-opcode exception
 * results from using LOCK before any other instruction."  The 286 asserts
 * LOCK# for whatever follows and raises nothing ([286] LOCK). */
static SstApplies lock_applies(const SstCase *c) { return lock_ud(c); }

static bool lock_explains(const SstCase *c, const SstResult *r)
{
    return is_fault_frame(c, r, VEC_UD);
}

/* ---- 2. Instructions longer than 10 bytes --------------------------------- */

/* The 286 limits an instruction, prefixes included, to 10 bytes and raises
 * exception 13 past that (the captures show it for every 11- and 12-byte
 * test); the 386 and later allow 15 ([SDM] vol. 2A 2.3.11: "The maximum
 * length of an Intel 64 and IA-32 instruction remains 15 bytes"; [386]
 * Table 14-1: interrupt 13 for "instruction longer than 15 bytes"). */
static SstApplies long_applies(const SstCase *c)
{
    if (!c->decoded || c->insn.len <= 10 || c->insn.len > 15 || lock_ud(c) != SST_DIV_NO)
        return SST_DIV_NO;
    return faulted_13(c) ? SST_DIV_MUST : SST_DIV_NO;
}

/* Encodings a 386+ rejects with #UD whatever their length: the reg field
 * names no instruction (8F, C6, C7 /1-/7; FE /2-/7; FF /7; 8C/8E /6-/7) or
 * a register operand where memory is required (LEA, LES, LDS, BOUND)
 * ([SDM] vol. 2 Appendix A, opcode map and group tables). */
static bool ud_on_386(const SstInsn *d)
{
    switch (d->op) {
    case 0x8F: case 0xC6: case 0xC7:
        return d->reg != 0;
    case 0xFE:
        return d->reg >= 2;
    case 0xFF:
        return d->reg == 7;
    case 0x8C: case 0x8E:
        return d->reg >= 6;
    case 0x8D: case 0xC4: case 0xC5: case 0x62:
        return !d->mem;
    default:
        return false;
    }
}

static bool long_explains(const SstCase *c, const SstResult *r)
{
    const SstInsn *d = &c->insn;
    const uint16_t *iv = init_regs(c);
    uint16_t change = 1u << MOO_FLAGS;
    uint32_t wr[4];
    unsigned nwr = 0;
    if (ud_on_386(d))
        return is_fault_frame(c, r, VEC_UD);
    /* A 386 checks the whole operand against the limit before using it. */
    if (modrm_crosses(d))
        return is_fault_frame(c, r, d->mem_seg == SST_SEG_SS ? VEC_SS : VEC_GP);
    switch (d->op) {
    case 0x62: /* BOUND: no result, or interrupt 5 */
        return ran_to_end(c, r, 0, NULL, 0) || is_fault_frame(c, r, VEC_BR);
    case 0x69: case 0x6B: /* IMUL r16, r/m16, imm */
        change |= 1u << reg16(d->reg);
        break;
    case 0xC4: case 0xC5: /* LES/LDS */
        change |= (1u << reg16(d->reg)) | (1u << (d->op == 0xC4 ? MOO_ES : MOO_DS));
        break;
    case 0x9A: /* CALL far: pushes CS and IP */
        change |= 1u << MOO_SP;
        for (unsigned k = 1; k <= 4; k++)
            wr[nwr++] = sst_phys(iv[MOO_SS], (uint16_t)(iv[MOO_SP] - k));
        break;
    case 0xEA:
        break;
    default: /* group 1 (80-83), MOV r/m, imm (C6/C7), ...: write the r/m operand */
        if (d->has_modrm && !d->mem)
            change |= 1u << reg16(d->rm);
        nwr = ea_bytes(c, wr, 2);
        break;
    }
    return ran_to_end(c, r, change, wr, nwr);
}

/* ---- 3. MOV to and from FS and GS ----------------------------------------- */

/* 8C /4, /5 and 8E /4, /5 name FS and GS, which the 286 does not have: it
 * raises interrupt 6 ([286] Appendix B lists only ES CS SS DS).  The 386
 * added FS and GS and these MOVs in real mode ([386] 14.2: "New
 * instructions that explicitly operate on the segment registers FS and GS
 * are available"; [SDM] vol. 2B MOV, 8C /r and 8E /r). */
static SstApplies fsgs_applies(const SstCase *c)
{
    const SstInsn *d = &c->insn;
    if (!c->decoded || (d->op != 0x8C && d->op != 0x8E) || (d->reg != 4 && d->reg != 5))
        return SST_DIV_NO;
    if (lock_ud(c) != SST_DIV_NO || d->len > 10)
        return SST_DIV_NO;
    return SST_DIV_MUST;
}

static bool fsgs_explains(const SstCase *c, const SstResult *r)
{
    const SstInsn *d = &c->insn;
    if (modrm_crosses(d)) /* the word operand crosses the limit */
        return is_fault_frame(c, r, d->mem_seg == SST_SEG_SS ? VEC_SS : VEC_GP);
    uint32_t wr[2];
    unsigned nwr = 0;
    uint16_t change = 0;
    if (d->op == 0x8C) {
        if (d->mem)
            nwr = ea_bytes(c, wr, 2); /* stores the selector */
        else
            change = 1u << reg16(d->rm);
    }
    return ran_to_end(c, r, change, wr, nwr);
}

/* ---- 4. Stack-segment overrun: interrupt 13 on the 286, 12 on a 386+ ------- */

/* In real mode the 286 reports every segment overrun as interrupt 13 and
 * reserves 10-12 ([286] Table 5-2: "Segment overrun exception 13: any
 * memory reference instruction that attempts to reference 16-bit word at
 * offset 0FFFFH"; "Reserved 10-12").  A 386+ raises interrupt 12 (#SS) when
 * the reference uses SS ([386] 14.7 and 15.6, "Operand crossing offset 0
 * or 65,535": "exception 13 if the data segment (i.e., if CS, DS, ES, FS,
 * or GS is being used to address the segment), exception 12 if the stack
 * segment"; 14.1: "pseudo-protection faults (interrupt 12 or 13 with no
 * error code)"; [SDM] vol. 3A 6.15 Interrupt 12: "a limit
 * violation is detected during an operation that refers to the SS
 * register", e.g. MOV AX,[BP+6]; vol. 2 instruction pages, Real-Address
 * Mode Exceptions: "#SS If a memory operand effective address is outside
 * the SS segment limit"). */

static SstApplies ss_applies(const SstCase *c)
{
    const SstInsn *d = &c->insn;
    if (!c->decoded || !faulted_13(c) || d->len > 10 || lock_ud(c) != SST_DIV_NO)
        return SST_DIV_NO;
    /* PUSHA and LEAVE keep interrupt 13 on a 386+: PUSHA checks SP before
     * it pushes anything ([386] PUSHA: "if SP = 7, 9, 11, 13, or 15,
     * exception 13 occurs"; [SDM] vol. 2B PUSHA, Real-Address Mode
     * Exceptions: "#GP If the ESP or SP register contains 7, 9, 11, 13, or
     * 15"), and [SDM] vol. 2A LEAVE, Real-Address Mode Exceptions: "#GP If
     * the EBP register points to a location outside of the effective
     * address space from 0 to FFFFH". */
    if (d->op == 0x60 || d->op == 0xC9)
        return SST_DIV_NO;
    /* The code itself runs past offset FFFF: a code-segment fault,
     * interrupt 13 on both. */
    if ((uint32_t)init_regs(c)[MOO_IP] + d->len > 0x10000)
        return SST_DIV_NO;
    bool crosses = modrm_crosses(d);
    bool modrm_ss = crosses && d->mem_seg == SST_SEG_SS;
    bool other_side = crosses && d->mem_seg != SST_SEG_SS;
    bool stack = sst_insn_uses_stack(d);
    bool ss_possible = false;
    if (sst_insn_other_mem(d, &ss_possible)) {
        other_side = true; /* the ES:DI side, or a non-SS DS side */
        if (ss_possible && (d->op == 0xAC || d->op == 0xAD || d->op == 0x6E || d->op == 0x6F ||
                            d->op == 0xD7 || (d->op >= 0xA0 && d->op <= 0xA3))) {
            other_side = false; /* only the overridden side exists */
            modrm_ss = true;    /* an explicit SS operand, like a ModRM one */
        } else if (ss_possible) {
            stack = true; /* SS is one of two sides: which faulted is unknown */
        }
    }
    if (!modrm_ss && !stack)
        return SST_DIV_NO;
    /* MUST only for an explicit SS operand and nothing else that could
     * overrun: the SDM's instruction pages give #SS for "a memory operand
     * effective address ... outside the SS segment limit", and vol. 3A
     * 6.15 names MOV AX,[BP+6].  For the implicit stack accesses of POP,
     * RET, IRET, POPA... the manuals disagree ([386] instruction pages say
     * interrupt 13, [386] 14.7 says 12), so either vector is accepted. */
    return modrm_ss && !stack && !other_side ? SST_DIV_MUST : SST_DIV_MAY;
}

static bool ss_explains(const SstCase *c, const SstResult *r)
{
    return is_286_but_vector(c, r, VEC_SS);
}

/* ---- 5. ESC operands that cross the segment limit --------------------------- */

/* With no coprocessor the 286 treats ESC (D8) as a no-op that touches
 * only the operand's first word: the captures fault only at offset FFFF.
 * A 386+ with its FPU reads the whole m32 operand and checks the limit for
 * all of it: offsets FFFD-FFFF fault ([SDM] vol. 2A FADD etc., Real-Address
 * Mode Exceptions: "#GP If a memory operand effective address is outside
 * the CS, DS, ES, FS, or GS segment limit. #SS ... outside the SS segment
 * limit"). */
static SstApplies esc_applies(const SstCase *c)
{
    const SstInsn *d = &c->insn;
    if (!c->decoded || d->op != 0xD8 || !d->mem || c->t->has_excp || d->len > 10 ||
        lock_ud(c) != SST_DIV_NO)
        return SST_DIV_NO;
    return d->ea > 0xFFFC ? SST_DIV_MUST : SST_DIV_NO;
}

static bool esc_explains(const SstCase *c, const SstResult *r)
{
    return is_fault_frame(c, r, c->insn.mem_seg == SST_SEG_SS ? VEC_SS : VEC_GP);
}

/* ---- 6. State a 286 fault leaves behind ----------------------------------------- */

/* The 286 commits part of some instructions before raising the fault that
 * stops them, and the captures show it: a string instruction has stepped
 * SI/DI (and CX) when the overrun of its second operand is found, POP
 * [mem] has incremented SP when its write overruns, AAM 0 has set SF, ZF
 * and PF before interrupt 0.  A 386+ reports a fault with the state from
 * before the instruction ([SDM] vol. 3A 6.5: "When a fault is reported,
 * the processor restores the machine state to the state prior to the
 * beginning of execution of the faulting instruction. The return address
 * (saved contents of the CS and EIP registers) for the fault handler
 * points to the faulting instruction"; [386] 9.8: faults are restartable).
 * Interrupts 0 (divide), 5 (BOUND), 6 (opcode) and 13 (overrun) are
 * faults on both; INT n with those numbers is not. */
static bool fault_vector(const SstCase *c, unsigned *v)
{
    const MooTest *t = c->t;
    if (!t->has_excp || c->insn.op == 0xCD || c->insn.op == 0xCC || c->insn.op == 0xCE)
        return false;
    *v = t->excp;
    return *v == 0 || *v == VEC_BR || *v == VEC_UD || *v == VEC_GP;
}

/* The capture is the initial state plus an interrupt frame. */
static bool clean_286_frame(const SstCase *c)
{
    const uint16_t *iv = init_regs(c);
    const MooRegs *f = &c->t->fina;
    for (int i = 0; i < MOO_NREGS; i++) {
        if (i == MOO_CS || i == MOO_IP || !(f->mask >> i & 1))
            continue;
        uint16_t want = iv[i], got = f->v[i];
        if (i == MOO_SP)
            want = (uint16_t)(iv[MOO_SP] - 6);
        if (i == MOO_FLAGS) {
            want = (uint16_t)((flags0(c) & ~(FLAG_IF | FLAG_TF)) & c->flags_mask);
            got &= c->flags_mask;
        }
        if (got != want)
            return false;
    }
    return (f->mask >> MOO_SP & 1) != 0; /* a frame was pushed */
}

static SstApplies fault_state_applies(const SstCase *c)
{
    unsigned v;
    if (!c->decoded || !fault_vector(c, &v) || c->insn.len > 10 || lock_ud(c) != SST_DIV_NO)
        return SST_DIV_NO;
    return clean_286_frame(c) ? SST_DIV_NO : SST_DIV_MUST;
}

/* A REP string instruction that faults after some iterations: a 386+
 * keeps the completed iterations and undoes the faulting one ([SDM] vol.
 * 2B REP: the instruction is restarted where it stopped, with the
 * registers of the last completed iteration).  The 286 has stepped SI/DI
 * once more and CX once or, after REPNE MOVS/STOS/INS, twice more (as the
 * captures show).  So: the memory written must match the 286's (the same
 * iterations completed), Kestrel's SI/DI/CX must sit exactly on an
 * iteration boundary counted from the initial values, and the 286 may be
 * ahead of it by that one step; the vector may be 12 for 13. */
static bool rep_one_step_behind(const SstCase *c, const SstResult *r, unsigned v)
{
    const SstInsn *d = &c->insn;
    uint8_t op = d->op;
    bool uses_si = (op >= 0xA4 && op <= 0xA7) || op == 0xAC || op == 0xAD || op == 0x6E ||
                   op == 0x6F;
    bool uses_di = (op >= 0xA4 && op <= 0xA7) || (op >= 0xAA && op <= 0xAF && op != 0xAC &&
                                                  op != 0xAD) || op == 0x6C || op == 0x6D;
    if (!d->rep || !(uses_si || uses_di) || r->bad || r->mem_diff)
        return false;
    uint16_t allowed = (1u << MOO_SI) | (1u << MOO_DI) | (1u << MOO_CX);
    if (r->regs[MOO_CS] != r->want[MOO_CS] || r->regs[MOO_IP] != r->want[MOO_IP]) {
        uint16_t hcs, hip;
        sst_initial_ivt(c->t, VEC_SS, &hcs, &hip);
        if (!(v == VEC_GP && ss_applies(c) != SST_DIV_NO && r->regs[MOO_CS] == hcs &&
              r->regs[MOO_IP] == (uint16_t)(hip + 1)))
            return false;
        allowed |= (1u << MOO_CS) | (1u << MOO_IP);
    }
    if (r->reg_diff & ~allowed)
        return false;
    const uint16_t *iv = init_regs(c);
    uint16_t size = (op & 1) ? 2 : 1;
    uint16_t step = (iv[MOO_FLAGS] & 0x0400) ? (uint16_t)-size : size; /* DF */
    uint16_t done = (uint16_t)(iv[MOO_CX] - r->regs[MOO_CX]);
    if (done > iv[MOO_CX])
        return false;
    if (r->regs[MOO_SI] != (uint16_t)(iv[MOO_SI] + (uses_si ? done * step : 0)) ||
        r->regs[MOO_DI] != (uint16_t)(iv[MOO_DI] + (uses_di ? done * step : 0)))
        return false;
    for (int i = MOO_SI; i <= MOO_DI; i += MOO_DI - MOO_SI) {
        uint16_t ahead = (uint16_t)(r->want[i] - r->regs[i]);
        if (ahead != 0 && ahead != step)
            return false;
    }
    uint16_t cx_ahead = (uint16_t)(r->regs[MOO_CX] - r->want[MOO_CX]);
    return cx_ahead <= 2;
}

static bool fault_state_explains(const SstCase *c, const SstResult *r)
{
    unsigned v;
    if (!fault_vector(c, &v))
        return false;
    if (is_fault_frame(c, r, v) || rep_one_step_behind(c, r, v))
        return true;
    return v == VEC_GP && ss_applies(c) != SST_DIV_NO && is_fault_frame(c, r, VEC_SS);
}

/* ---- 7. Flags the SDM leaves undefined ----------------------------------------- */

/* Shifts and rotates by more than one: the 286 gives OF (and, for SHL/SHR
 * by the operand width or more, CF) a fixed value, and the suite's
 * flags-mask does not hide it for C0 and C1 /4-/7.  For a 386+ these flags
 * are undefined ([SDM] vol. 2B SAL/SAR/SHL/SHR, Flags Affected: "The OF
 * flag is affected only for 1-bit shifts ...; otherwise, it is undefined"
 * and CF "is undefined for SHL and SHR instructions where the count is
 * greater than or equal to the size (in bits) of the destination operand";
 * RCL/RCR/ROL/ROR: "The OF flag is defined only for the 1-bit rotates; it
 * is undefined in all other cases").  Any value is right; the rule is MAY
 * and explains only a difference in those bits. */
static uint16_t undefined_flags(const SstCase *c)
{
    const SstInsn *d = &c->insn;
    unsigned count;
    if (d->op == 0xC0 || d->op == 0xC1)
        count = d->n_imm ? d->bytes[d->imm_at] : 0;
    else if (d->op == 0xD2 || d->op == 0xD3)
        count = init_regs(c)[MOO_CX] & 0xFF;
    else
        return 0;
    count &= 0x1F; /* the 286 and the 386 both mask the count to 5 bits */
    if (count <= 1)
        return 0; /* 0: flags untouched; 1: OF defined */
    uint16_t bits = FLAG_OF;
    unsigned width = (d->op & 1) ? 16 : 8;
    if (d->reg >= 4 && d->reg <= 6 && count >= width)
        bits |= FLAG_CF; /* SHL, SHR and the /6 alias of SHL */
    return bits;
}

static SstApplies undef_applies(const SstCase *c)
{
    if (!c->decoded || c->t->has_excp || c->insn.len > 10 || lock_ud(c) != SST_DIV_NO)
        return SST_DIV_NO;
    return undefined_flags(c) ? SST_DIV_MAY : SST_DIV_NO;
}

static bool undef_explains(const SstCase *c, const SstResult *r)
{
    return !r->bad && !r->mem_diff && r->reg_diff == (1u << MOO_FLAGS) &&
           (r->flag_diff & ~undefined_flags(c)) == 0;
}

/* ---- 8. IDIV overflow the 286 lets through --------------------------------------- */

/* Some signed byte divisions whose quotient is below -128 complete on the
 * 286 with AL = 80h and no interrupt (the captures show it, e.g. 81C1h /
 * 7Ch).  A 386+ raises #DE for every quotient outside -128..127 ([SDM]
 * vol. 2A IDIV, Operation: "IF (temp > 7FH) or (temp < 80H) (* If a
 * positive result is greater than 7FH or a negative result is less than
 * 80H *) THEN #DE"). */
static bool idiv_quotient(const SstCase *c, int32_t *q)
{
    const SstInsn *d = &c->insn;
    const uint16_t *iv = init_regs(c);
    if ((d->op != 0xF6 && d->op != 0xF7) || d->reg != 7)
        return false;
    bool byte = d->op == 0xF6;
    int32_t divisor;
    if (!d->mem) {
        static const int r16[8] = {MOO_AX, MOO_CX, MOO_DX, MOO_BX, MOO_SP, MOO_BP, MOO_SI, MOO_DI};
        uint16_t v = iv[r16[d->rm & (byte ? 3 : 7)]];
        divisor = byte ? (int8_t)(d->rm & 4 ? v >> 8 : v) : (int16_t)v;
    } else {
        uint16_t seg = sst_seg_value(c->t, d->mem_seg);
        uint8_t lo = sst_initial_byte(c->t, sst_phys(seg, d->ea));
        uint8_t hi = sst_initial_byte(c->t, sst_phys(seg, (uint16_t)(d->ea + 1)));
        divisor = byte ? (int8_t)lo : (int16_t)(lo | hi << 8);
    }
    if (divisor == 0)
        return false;
    int32_t dividend = byte ? (int16_t)iv[MOO_AX]
                            : (int32_t)((uint32_t)iv[MOO_DX] << 16 | iv[MOO_AX]);
    if (!byte && dividend == INT32_MIN && divisor == -1)
        return false; /* overflows on both, and in C */
    *q = dividend / divisor;
    return byte ? (*q < -128 || *q > 127) : (*q < -32768 || *q > 32767);
}

static SstApplies idiv_applies(const SstCase *c)
{
    int32_t q;
    if (!c->decoded || c->t->has_excp || c->insn.len > 10 || lock_ud(c) != SST_DIV_NO)
        return SST_DIV_NO;
    if (c->insn.mem && modrm_crosses(&c->insn))
        return SST_DIV_NO;
    return idiv_quotient(c, &q) ? SST_DIV_MUST : SST_DIV_NO;
}

static bool idiv_explains(const SstCase *c, const SstResult *r) { return is_fault_frame(c, r, 0); }

/* ---- the table ---------------------------------------------------------- */

const SstDivergence sst_divergences[] = {
    {"lock-ud", "LOCK before a non-lockable instruction or a register destination: #UD on 386+",
     "386 PRM 14.8.1; SDM vol. 2A LOCK", lock_applies, lock_explains},
    {"insn-15", "11-15 byte instruction: 286 limit is 10 bytes (#13), 386+ limit is 15",
     "SDM vol. 2A 2.3.11; 386 PRM Table 14-1", long_applies, long_explains},
    {"mov-fsgs", "MOV to/from FS/GS (8C/8E /4,/5): #UD on the 286, valid on 386+",
     "386 PRM 14.2; SDM vol. 2B MOV", fsgs_applies, fsgs_explains},
    {"ss-overrun", "SS-relative overrun: 13 on the 286, #SS (12) on 386+ (may, for implicit stack use)",
     "80286 PRM Table 5-2; 386 PRM 14.7; SDM vol. 3A 6.15", ss_applies, ss_explains},
    {"esc-limit", "ESC m32 operand at offset FFFD-FFFE: 286 without FPU ignores it, 386+ faults",
     "SDM vol. 2A FADD/FSUB/... Real-Address Mode Exceptions", esc_applies, esc_explains},
    {"fault-state", "286 commits part of a faulting instruction; a 386+ fault restores the state",
     "SDM vol. 3A 6.5; 386 PRM 9.8", fault_state_applies, fault_state_explains},
    {"undef-flags", "OF (CF) after a shift/rotate by >1 (>= width): undefined on 386+, may differ",
     "SDM vol. 2B SAL/SHL/SHR, RCL/ROL Flags Affected", undef_applies, undef_explains},
    {"idiv-ovf", "IDIV quotient below -128: the 286 may return 80h, a 386+ raises #DE",
     "SDM vol. 2A IDIV Operation", idiv_applies, idiv_explains},
};
const size_t sst_n_divergences = sizeof(sst_divergences) / sizeof(sst_divergences[0]);
