/* SSE/SSE2 common parts: memory operands, the SIMD floating-point exception
 * commit, MXCSR access, the 128-bit moves, fences, CLFLUSH and MOVNTI.
 * The arithmetic lives in sse_fp.c (floating point) and sse_int.c
 * (integer); the rules shared with MMX are in simd.h. */
#include "cpu/simd.h"

/* ---- Memory operands --------------------------------------------------------- */

void simd_check_align16(CpuState *c, int seg, uint32_t off)
{
    /* The rule is on the linear address (SDM vol. 2, MOVAPS: "If a memory
     * operand is not aligned on a 16-byte boundary, regardless of
     * segment"). */
    if ((c->seg[seg].base + off) & 15)
        cpu_gp0(c);
}

uint64_t simd_read64(CpuState *c, const Insn *i)
{
    uint8_t b[8];
    fpu_mem_read(c, i->seg, insn_ea(c, i), b, 8);
    return ld32_host(b) | (uint64_t)ld32_host(b + 4) << 32;
}

void simd_write64(CpuState *c, const Insn *i, uint64_t v)
{
    uint8_t b[8];
    st32_host(b, (uint32_t)v);
    st32_host(b + 4, (uint32_t)(v >> 32));
    fpu_mem_write(c, i->seg, insn_ea(c, i), b, 8);
}

void simd_read128(CpuState *c, const Insn *i, XmmReg *out, bool aligned)
{
    uint32_t off = insn_ea(c, i);
    uint8_t b[16];
    if (aligned)
        simd_check_align16(c, i->seg, off);
    fpu_mem_read(c, i->seg, off, b, 16);
    for (int k = 0; k < 4; k++)
        out->d[k] = ld32_host(b + 4 * k);
}

void simd_write128(CpuState *c, const Insn *i, const XmmReg *v, bool aligned)
{
    uint32_t off = insn_ea(c, i);
    uint8_t b[16];
    if (aligned)
        simd_check_align16(c, i->seg, off);
    for (int k = 0; k < 4; k++)
        st32_host(b + 4 * k, v->d[k]);
    fpu_mem_write(c, i->seg, off, b, 16);
}

/* ---- Exceptions ------------------------------------------------------------------ */

void sse_fp_commit(CpuState *c, uint32_t raised)
{
    uint32_t *m = &c->fpu.mxcsr;
    uint32_t unmasked = raised & ~(*m >> MXCSR_MASK_SHIFT) & MXCSR_FLAGS;
    if (likely(!unmasked)) {
        *m |= raised & MXCSR_FLAGS;
        return;
    }
    *m |= raised & ((unmasked & MXCSR_PRE) ? MXCSR_PRE : MXCSR_FLAGS);
    /* SDM vol. 3, 6.15, interrupt 19: #XM when CR4.OSXMMEXCPT = 1, else
     * #UD. */
    if (c->cr4 & CR4_OSXMMEXCPT)
        cpu_raise(c, EXC_XM, 0, false);
    cpu_raise_ud(c);
}

/* ---- MXCSR -------------------------------------------------------------------------- */

/* 0F AE /2: LDMXCSR m32.  Reserved bits set: #GP(0) (SDM vol. 2, LDMXCSR). */
HANDLER(ldmxcsr)
{
    sse_begin(c);
    uint32_t v = simd_read32(c, i);
    if (v & ~MXCSR_SUPPORTED)
        cpu_gp0(c);
    c->fpu.mxcsr = v;
    NEXT(c, i);
}
SET_ALL(sse_ldmxcsr, ldmxcsr)

/* 0F AE /3: STMXCSR m32. */
HANDLER(stmxcsr)
{
    sse_begin(c);
    mem_write32(c, i->seg, insn_ea(c, i), c->fpu.mxcsr);
    NEXT(c, i);
}
SET_ALL(sse_stmxcsr, stmxcsr)

/* ---- Fences and cache control -------------------------------------------------------- */

/* 0F AE /5, /6, /7 (register forms): LFENCE, MFENCE, SFENCE.  One CPU
 * whose memory accesses are all in program order needs nothing; none of
 * them depends on CR0.EM/TS or CR4.OSFXSR (SDM vol. 2, their "Exceptions":
 * only #UD for a missing CPUID feature or LOCK).  The memory form of /7 is
 * CLFLUSH: the cache line holding the byte is written back, which RAM
 * without caches does not need, but it faults as a one-byte read would
 * (SDM vol. 2, CLFLUSH: "treated as a byte load" for permission checks). */
HANDLER(fence)
{
    if (i->flags & I_MEM)
        mem_probe_read(c, i->seg, insn_ea(c, i), 1);
    NEXT(c, i);
}
SET_ALL(sse_fence, fence)

/* 0F C3: MOVNTI m32, r32 (SSE2).  A non-temporal hint on an ordinary
 * store; no CR0/CR4 checks (integer instruction). */
HANDLER(movnti)
{
    mem_write32(c, i->seg, insn_ea(c, i), c->regs[i->reg]);
    NEXT(c, i);
}
SET_ALL(sse_movnti, movnti)

/* ---- 128-bit moves ---------------------------------------------------------------------- */

/* MOVAPS/MOVAPD/MOVDQA (aligned) and MOVUPS/MOVUPD/MOVDQU (any alignment)
 * xmm, xmm/m128. */
static ALWAYS_INLINE void mov128_ld(CpuState *c, const Insn *i, bool aligned)
{
    sse_begin(c);
    XmmReg v;
    if (i->flags & I_MEM)
        simd_read128(c, i, &v, aligned);
    else
        v = *xmm_reg(c, i->rm);
    *xmm_reg(c, i->reg) = v;
}

/* The stores, xmm/m128, xmm; MOVNTPS/MOVNTPD/MOVNTDQ m128, xmm use the
 * aligned one (non-temporal hints are plain stores here). */
static ALWAYS_INLINE void mov128_st(CpuState *c, const Insn *i, bool aligned)
{
    sse_begin(c);
    const XmmReg *v = xmm_reg(c, i->reg);
    if (i->flags & I_MEM)
        simd_write128(c, i, v, aligned);
    else
        *xmm_reg(c, i->rm) = *v;
}

HANDLER(mova_ld) { mov128_ld(c, i, true); NEXT(c, i); }
HANDLER(movu_ld) { mov128_ld(c, i, false); NEXT(c, i); }
HANDLER(mova_st) { mov128_st(c, i, true); NEXT(c, i); }
HANDLER(movu_st) { mov128_st(c, i, false); NEXT(c, i); }
SET_ALL(sse_mova_ld, mova_ld)
SET_ALL(sse_movu_ld, movu_ld)
SET_ALL(sse_mova_st, mova_st)
SET_ALL(sse_movu_st, movu_st)
