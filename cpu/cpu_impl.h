/* CPU internals shared by the decoder, the interpreter handlers and (later)
 * the JIT: decoded instructions, the lazy flags, exceptions and the inline
 * memory fast path.  Nothing outside cpu/ and jit/ includes this. */
#ifndef KESTREL_CPU_IMPL_H
#define KESTREL_CPU_IMPL_H

#include <string.h>

#include "cpu/cpu.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- Decoded instructions ------------------------------------------- */

typedef void (*InsnFn)(CpuState *c, const Insn *i);

/* Insn.flags */
#define I_OP32 0x01  /* operand size is 32 bits */
#define I_AD32 0x02  /* address size is 32 bits */
#define I_REP 0x04   /* F3 prefix */
#define I_REPNE 0x08 /* F2 prefix */
#define I_LOCK 0x10
#define I_MEM 0x20   /* the ModRM operand is memory */
#define I_SEGOVR 0x40 /* a segment override prefix was given */
#define I_TERM 0x80  /* ends a decoded block */

struct Insn {
    InsnFn fn;
    uint32_t disp; /* memory displacement; moffs for A0-A3 */
    uint32_t imm;  /* immediate, sign-extended where the encoding says so;
                      for relative branches the target offset from the next insn */
    uint16_t imm2; /* second immediate: far selector, ENTER nesting level */
    uint8_t len;   /* total length in bytes */
    uint8_t op;    /* opcode byte (second byte in the 0F map) */
    uint8_t reg;   /* ModRM.reg, or the register encoded in the opcode */
    uint8_t rm;    /* ModRM.rm when register form */
    uint8_t base;  /* base register or R_ZERO */
    uint8_t index; /* index register or R_ZERO */
    uint8_t scale; /* shift count 0-3 */
    uint8_t seg;   /* effective segment of the memory operand */
    uint8_t flags; /* I_* */
    uint8_t size;  /* operand size in bytes: 1, 2 or 4 */
};

/* Handlers for undefined/illegal encodings. */
void op_ud(CpuState *c, const Insn *i);

/* ---- Exceptions ------------------------------------------------------- */

_Noreturn void cpu_raise(CpuState *c, int vector, int code, bool has_code);
_Noreturn void cpu_raise_ud(CpuState *c);
static inline _Noreturn void cpu_gp0(CpuState *c) { cpu_raise(c, EXC_GP, 0, true); }
void cpu_log(CpuState *c, int category, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Deliver an interrupt or exception through the IVT (real mode) or the IDT.
 * `soft` is set for INT n / INT3 / INTO (they push the next EIP). */
void cpu_interrupt(CpuState *c, int vector, int code, bool has_code, bool soft,
                   uint32_t next_eip);

/* ---- Registers -------------------------------------------------------- */

/* 8-bit register numbering: 0-3 = AL CL DL BL, 4-7 = AH CH DH BH. */
static inline uint32_t reg8_get(const CpuState *c, int r)
{
    return (c->regs[r & 3] >> ((r & 4) << 1)) & 0xFF;
}
static inline void reg8_set(CpuState *c, int r, uint32_t v)
{
    int sh = (r & 4) << 1;
    c->regs[r & 3] = (c->regs[r & 3] & ~(0xFFu << sh)) | ((v & 0xFF) << sh);
}
static inline uint32_t reg16_get(const CpuState *c, int r) { return c->regs[r] & 0xFFFF; }
static inline void reg16_set(CpuState *c, int r, uint32_t v)
{
    c->regs[r] = (c->regs[r] & 0xFFFF0000u) | (v & 0xFFFF);
}
/* Generic by size in bytes. */
static inline uint32_t reg_get(const CpuState *c, int r, unsigned size)
{
    return size == 4 ? c->regs[r] : size == 2 ? reg16_get(c, r) : reg8_get(c, r);
}
static inline void reg_set(CpuState *c, int r, unsigned size, uint32_t v)
{
    if (size == 4)
        c->regs[r] = v;
    else if (size == 2)
        reg16_set(c, r, v);
    else
        reg8_set(c, r, v);
}

static inline uint32_t size_mask(unsigned size)
{
    return 0xFFFFFFFFu >> (32 - 8 * size);
}

/* ---- Lazy flags ------------------------------------------------------- */

/* lf.op = kind * 4 + size index (0: 8, 1: 16, 2: 32 bits).  a, b and res
 * are stored truncated to the operation size. */
enum {
    LF_NONE = 0,
    LF_ADD = 1,   /* ADD, ADC: carry vector rules */
    LF_SUB = 2,   /* SUB, SBB, CMP, NEG */
    LF_LOGIC = 3, /* AND OR XOR TEST: CF = OF = AF = 0 */
    LF_INC = 4,   /* like ADD with b = 1, CF kept in eflags */
    LF_DEC = 5,   /* like SUB with b = 1, CF kept in eflags */
};
static inline uint32_t lf_size_idx(unsigned size) { return size >> 1; } /* 1->0 2->1 4->2 */

static inline void lf_set(CpuState *c, uint32_t kind, unsigned size, uint32_t a, uint32_t b,
                          uint32_t res)
{
    c->lf.op = kind * 4 + lf_size_idx(size);
    c->lf.a = a;
    c->lf.b = b;
    c->lf.res = res;
}

/* The six arithmetic flags as EFLAGS bits. */
uint32_t flags_arith(const CpuState *c);
/* Carry flag alone (0 or 1). */
uint32_t flags_cf_slow(const CpuState *c);
static inline uint32_t flags_cf(const CpuState *c)
{
    uint32_t kind = c->lf.op >> 2;
    /* LF_NONE, LF_INC and LF_DEC keep CF in eflags. */
    if (kind == LF_NONE || kind == LF_INC || kind == LF_DEC)
        return c->eflags & FL_CF;
    return flags_cf_slow(c);
}
/* Evaluate condition code cc (the low 4 bits of Jcc/SETcc/CMOVcc). */
bool flags_cond(const CpuState *c, unsigned cc);
/* Fold the lazy state into eflags (lf.op becomes LF_NONE). */
static inline void flags_materialize(CpuState *c)
{
    if (c->lf.op != LF_NONE) {
        c->eflags = (c->eflags & ~FL_ARITH) | flags_arith(c);
        c->lf.op = LF_NONE;
    }
}
/* Replace the arithmetic flags selected by `mask` with `bits`. */
static inline void flags_set_bits(CpuState *c, uint32_t mask, uint32_t bits)
{
    flags_materialize(c);
    c->eflags = (c->eflags & ~mask) | (bits & mask);
}
/* SF, ZF and PF of a result of `size` bytes, as EFLAGS bits. */
uint32_t flags_szp(uint32_t res, unsigned size);

/* ---- Memory ----------------------------------------------------------- */

/* Host loads and stores in guest (little-endian) byte order. */
static inline uint16_t ld16_host(const void *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap16(v);
#endif
    return v;
}
static inline uint32_t ld32_host(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}
static inline void st16_host(void *p, uint16_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap16(v);
#endif
    memcpy(p, &v, 2);
}
static inline void st32_host(void *p, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, 4);
}

/* Access kinds for the slow path. */
enum { ACC_R = 0, ACC_W = 1, ACC_X = 2 };

/* Slow paths (tlb.c): fill the TLB or go to MMIO, split page crossings. */
uint32_t lin_read_slow(CpuState *c, uint32_t lin, unsigned size, int acc);
void lin_write_slow(CpuState *c, uint32_t lin, uint32_t v, unsigned size);

static inline uint32_t lin_read(CpuState *c, uint32_t lin, unsigned size)
{
    const TlbEntry *e = &c->tlb_cur[(lin >> 12) & (TLB_SIZE - 1)];
    if (likely(e->tag_r == (lin & ~0xFFFu)) && likely((lin & 0xFFF) <= 0x1000 - size)) {
        const uint8_t *p = (const uint8_t *)(e->addend + lin);
        return size == 4 ? ld32_host(p) : size == 2 ? ld16_host(p) : *p;
    }
    return lin_read_slow(c, lin, size, ACC_R);
}

static inline void lin_write(CpuState *c, uint32_t lin, uint32_t v, unsigned size)
{
    const TlbEntry *e = &c->tlb_cur[(lin >> 12) & (TLB_SIZE - 1)];
    if (likely(e->tag_w == (lin & ~0xFFFu)) && likely((lin & 0xFFF) <= 0x1000 - size)) {
        uint8_t *p = (uint8_t *)(e->addend + lin);
        if (size == 4)
            st32_host(p, v);
        else if (size == 2)
            st16_host(p, (uint16_t)v);
        else
            *p = (uint8_t)v;
        return;
    }
    lin_write_slow(c, lin, v, size);
}

static inline uint32_t lin_fetch8(CpuState *c, uint32_t lin)
{
    const TlbEntry *e = &c->tlb_cur[(lin >> 12) & (TLB_SIZE - 1)];
    if (likely(e->tag_x == (lin & ~0xFFFu)))
        return *(const uint8_t *)(e->addend + lin);
    return lin_read_slow(c, lin, 1, ACC_X);
}

/* Segment limit and type check: #SS(0) for SS, #GP(0) otherwise (SDM vol. 3,
 * 5.3; in real mode the same check applies with the real-mode limit). */
_Noreturn void seg_fault(CpuState *c, int seg);

static inline uint32_t seg_lin_r(CpuState *c, int seg, uint32_t off, unsigned size)
{
    const SegCache *s = &c->seg[seg];
    if (unlikely(off < s->rlo || (uint64_t)off + (size - 1) > s->rhi))
        seg_fault(c, seg);
    return s->base + off;
}
static inline uint32_t seg_lin_w(CpuState *c, int seg, uint32_t off, unsigned size)
{
    const SegCache *s = &c->seg[seg];
    if (unlikely(off < s->wlo || (uint64_t)off + (size - 1) > s->whi))
        seg_fault(c, seg);
    return s->base + off;
}

static inline uint32_t mem_read(CpuState *c, int seg, uint32_t off, unsigned size)
{
    return lin_read(c, seg_lin_r(c, seg, off, size), size);
}
static inline void mem_write(CpuState *c, int seg, uint32_t off, uint32_t v, unsigned size)
{
    lin_write(c, seg_lin_w(c, seg, off, size), v, size);
}
static inline uint32_t mem_read8(CpuState *c, int seg, uint32_t off) { return mem_read(c, seg, off, 1); }
static inline uint32_t mem_read16(CpuState *c, int seg, uint32_t off) { return mem_read(c, seg, off, 2); }
static inline uint32_t mem_read32(CpuState *c, int seg, uint32_t off) { return mem_read(c, seg, off, 4); }
static inline void mem_write8(CpuState *c, int seg, uint32_t off, uint32_t v) { mem_write(c, seg, off, v, 1); }
static inline void mem_write16(CpuState *c, int seg, uint32_t off, uint32_t v) { mem_write(c, seg, off, v, 2); }
static inline void mem_write32(CpuState *c, int seg, uint32_t off, uint32_t v) { mem_write(c, seg, off, v, 4); }

/* Check that a write of `size` bytes at seg:off would succeed (segment and
 * page), without writing: lets an instruction fault before it changes any
 * register. */
void mem_probe_write(CpuState *c, int seg, uint32_t off, unsigned size);
/* The same for a read: segment and page checks, no bus access (CLFLUSH). */
void mem_probe_read(CpuState *c, int seg, uint32_t off, unsigned size);

/* Effective address of the ModRM memory operand. */
static inline uint32_t insn_ea(const CpuState *c, const Insn *i)
{
    uint32_t ea = c->regs[i->base] + (c->regs[i->index] << i->scale) + i->disp;
    return (i->flags & I_AD32) ? ea : (ea & 0xFFFF);
}

/* ModRM operand (register or memory) of the instruction's size. */
static inline uint32_t rm_read(CpuState *c, const Insn *i, unsigned size)
{
    if (i->flags & I_MEM)
        return mem_read(c, i->seg, insn_ea(c, i), size);
    return reg_get(c, i->rm, size);
}
static inline void rm_write(CpuState *c, const Insn *i, unsigned size, uint32_t v)
{
    if (i->flags & I_MEM)
        mem_write(c, i->seg, insn_ea(c, i), v, size);
    else
        reg_set(c, i->rm, size, v);
}

/* ---- Stack ------------------------------------------------------------ */

static inline uint32_t sp_mask(const CpuState *c) { return c->stack32 ? 0xFFFFFFFFu : 0xFFFF; }
static inline uint32_t sp_get(const CpuState *c) { return c->regs[R_ESP] & sp_mask(c); }
static inline void sp_set(CpuState *c, uint32_t v)
{
    if (c->stack32)
        c->regs[R_ESP] = v;
    else
        reg16_set(c, R_ESP, v);
}
/* Push/pop of `size` bytes (2 or 4).  The write happens before ESP changes,
 * so a faulting push leaves ESP as it was. */
static inline void push(CpuState *c, uint32_t v, unsigned size)
{
    uint32_t sp = (c->regs[R_ESP] - size) & sp_mask(c);
    mem_write(c, SEG_SS, sp, v, size);
    sp_set(c, sp);
}
static inline uint32_t pop(CpuState *c, unsigned size)
{
    uint32_t sp = sp_get(c);
    uint32_t v = mem_read(c, SEG_SS, sp, size);
    sp_set(c, sp + size);
    return v;
}

/* ---- Control flow ----------------------------------------------------- */

/* Advance past the instruction. */
#define NEXT(c, i) ((c)->eip += (i)->len)

static inline uint32_t op_mask(const Insn *i) { return (i->flags & I_OP32) ? 0xFFFFFFFFu : 0xFFFF; }

/* Near jump to `target` (already truncated to the operand size); #GP(0)
 * when it is beyond the CS limit (SDM vol. 2, JMP). */
static inline void jump_near(CpuState *c, uint32_t target)
{
    if (unlikely(target > c->seg[SEG_CS].limit))
        cpu_gp0(c);
    c->eip = target;
}

/* Segment loading (seg.c). */
void seg_load(CpuState *c, int seg, uint16_t sel);
void seg_update_mode(CpuState *c);
/* Far transfer to sel:off (JMP/CALL/RET/IRET use it for the CS part). */
void seg_load_cs_far(CpuState *c, uint16_t sel, uint32_t off);

/* Port I/O with the permission checks (IOPL / bitmap) of the current mode. */
void io_check(CpuState *c, uint16_t port, unsigned size);

/* Guest-visible time stamp counter. */
uint64_t cpu_tsc(const CpuState *c);

/* Debugger hooks (debug.c). */
bool debug_breakpoint_at(const CpuState *c, uint32_t lin);
bool debug_page_watched(const CpuState *c, uint32_t lin);
void debug_watch_access(CpuState *c, uint32_t lin, unsigned size, int acc);

/* Mark the page holding phys as containing decoded code. */
void tlb_protect_code_page(CpuState *c, uint64_t phys);

/* Debug-register data breakpoints (interrupt.c, SDM vol. 3, 17.2.4): the
 * TLB keeps data tags out of pages dr_page_watched() names while
 * c->dr_data_on, and its slow path reports each data access to
 * dr_data_access(), which records the hit as a #DB trap. */
bool dr_page_watched(const CpuState *c, uint32_t lin);
void dr_data_access(CpuState *c, uint32_t lin, unsigned size, int acc);
/* I/O breakpoints (CR4.DE, DR7 R/W = 10): called after each port access
 * while DR7 enables any breakpoint. */
void dr_io_access(CpuState *c, uint16_t port, unsigned size);
static inline void dr_io_check(CpuState *c, uint16_t port, unsigned size)
{
    if (unlikely(c->dr[7] & 0xFF))
        dr_io_access(c, port, size);
}

#endif
