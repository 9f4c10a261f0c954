/* Internals shared by the MMX and SSE/SSE2 handlers (cpu/mmx.c, cpu/sse.c,
 * cpu/sse_fp.c, cpu/sse_int.c): entry checks, register access, memory
 * operands and the SIMD floating-point exception commit.
 *
 * Entry checks (SDM vol. 3, 13.1-13.2 and table 2-2; vol. 2, the
 * "Exceptions" section of each instruction):
 *   MMX and the SSE integer instructions on MMX registers: #UD if CR0.EM,
 *     #NM if CR0.TS, #MF if an unmasked x87 exception is pending.
 *   SSE/SSE2 on XMM registers: #UD if CR0.EM or CR4.OSFXSR = 0, #NM if
 *     CR0.TS.  Those that also read or write an MMX register (CVTPI2PS,
 *     CVTPS2PI, MOVQ2DQ, ...) check for a pending x87 exception (#MF) too
 *     and then make the x87 state MMX-like (TOP = 0, all tags valid).
 *   Then memory faults: a 128-bit operand that is not 16-byte aligned is
 *     #GP(0) except for the unaligned moves (SDM vol. 1, 11.4.1; MOVUPS,
 *     MOVUPD, MOVDQU and MASKMOVDQU are the exceptions); then #XM (or
 *     #UD with CR4.OSXMMEXCPT = 0) for an unmasked SIMD floating-point
 *     exception (vol. 1, 11.5.1).
 */
#ifndef KESTREL_CPU_SIMD_H
#define KESTREL_CPU_SIMD_H

#include "cpu/fpu_impl.h"
#include "cpu/sse_float.h"

/* MXCSR bits this CPU implements (DAZ included): the MXCSR_MASK field of
 * the FXSAVE image (SDM vol. 1, 11.6.6).  Setting any other is #GP(0). */
#define MXCSR_SUPPORTED 0x0000FFFFu

/* ---- Entry checks ------------------------------------------------------------ */

static inline void mmx_enter(CpuState *c)
{
    if (c->cr0 & CR0_EM)
        cpu_raise_ud(c);
    fpu_check_nm(c);
    fpu_check_pending(c);
}

static inline void sse_begin(CpuState *c)
{
    if ((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR))
        cpu_raise_ud(c);
    if (c->cr0 & CR0_TS)
        cpu_raise(c, EXC_NM, 0, false);
}

/* SSE instructions with an MMX register operand (the "x87 FPU transition"
 * ones).  The transition itself (mmx_touch: TOP = 0, tags valid) comes
 * after the memory operand is read and before an #XM: the host CPU leaves
 * TOP alone on a misaligned CVTPD2PI source but has set it when an
 * unmasked exception faults. */
static inline void sse_mmx_begin(CpuState *c)
{
    sse_begin(c);
    fpu_check_pending(c);
}

/* ---- Registers -------------------------------------------------------------- */

static inline XmmReg *xmm_reg(CpuState *c, int r) { return &c->fpu.xmm[r & 7]; }

/* The x87 side effects of any MMX register use but EMMS (SDM vol. 1,
 * 9.5.1, table 9-2): TOP = 0, tag word all valid. */
static inline void mmx_touch(FpuState *f)
{
    f->top = 0;
    f->valid = 0xFF;
}

/* MMi is the significand of physical register Ri (SDM vol. 1, 9.5). */
static inline uint64_t mmx_get(CpuState *c, int r) { return c->fpu.st[r & 7].m; }

/* Writing MMi also sets bits 64-79 of Ri to all ones (SDM vol. 1, 9.5.1). */
static inline void mmx_set(CpuState *c, int r, uint64_t v)
{
    FpuState *f = &c->fpu;
    f->st[r & 7].m = v;
    f->st[r & 7].se = 0xFFFF;
    mmx_touch(f);
}

/* ---- Memory operands (the ModRM memory operand of `i`) -------------------------- */

static inline uint32_t simd_read32(CpuState *c, const Insn *i)
{
    return mem_read32(c, i->seg, insn_ea(c, i));
}

/* A quadword as two dwords; limit and page checks cover all eight bytes
 * before anything is read. */
uint64_t simd_read64(CpuState *c, const Insn *i);
/* All eight bytes are checked before any is written, so that a fault leaves
 * memory unchanged. */
void simd_write64(CpuState *c, const Insn *i, uint64_t v);
/* 16 bytes; `aligned`: #GP(0) unless the linear address is a multiple of
 * 16 (checked before the segment limit and paging). */
void simd_read128(CpuState *c, const Insn *i, XmmReg *out, bool aligned);
void simd_write128(CpuState *c, const Insn *i, const XmmReg *v, bool aligned);
/* #GP(0) unless seg:off is 16-byte aligned in the linear address space. */
void simd_check_align16(CpuState *c, int seg, uint32_t off);

/* The xmm/m128 source operand (aligned memory). */
static inline void sse_src128(CpuState *c, const Insn *i, XmmReg *out)
{
    if (i->flags & I_MEM)
        simd_read128(c, i, out, true);
    else
        *out = *xmm_reg(c, i->rm);
}

/* The xmm/m64 and xmm/m32 sources: the low quadword or doubleword of the
 * register, or 8 or 4 bytes of memory (no alignment rule). */
static inline uint64_t sse_src64(CpuState *c, const Insn *i)
{
    return (i->flags & I_MEM) ? simd_read64(c, i) : xmm_reg(c, i->rm)->q[0];
}
static inline uint32_t sse_src32(CpuState *c, const Insn *i)
{
    return (i->flags & I_MEM) ? simd_read32(c, i) : xmm_reg(c, i->rm)->d[0];
}

/* The r/m32 source (MOVD, CVTSI2SS, PINSRW): memory or a general register. */
static inline uint32_t gpr_src32(CpuState *c, const Insn *i)
{
    return (i->flags & I_MEM) ? simd_read32(c, i) : c->regs[i->rm];
}

/* The mm/m64 source. */
static inline uint64_t mmx_src(CpuState *c, const Insn *i)
{
    return (i->flags & I_MEM) ? simd_read64(c, i) : mmx_get(c, i->rm);
}

/* ---- SIMD floating-point exceptions --------------------------------------------- */

/* Called after the operation computed every lane with SseFp.flags
 * collecting the exceptions raised (as if masked) and before anything is
 * written.  Sets the MXCSR flags; when any raised exception is unmasked it
 * does not return but raises #XM (#UD with CR4.OSXMMEXCPT = 0) so that the
 * destination keeps its value.  An unmasked pre-computation exception
 * (IE, DE, ZE) stops the instruction before the post-computation ones
 * (OE, UE, PE) are recorded (SDM vol. 1, 11.5.2 and 11.5.3). */
void sse_fp_commit(CpuState *c, uint32_t raised);

/* An SseFp for this CPU's MXCSR. */
static inline SseFp sse_fp_env(const CpuState *c)
{
    SseFp e = {c->fpu.mxcsr, 0};
    return e;
}

#endif
