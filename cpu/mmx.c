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
#include "cpu/simd_lanes.h"

/* (66/F2/F3-prefixed forms of these opcodes are other instructions, chosen
 * by the decoder: see the SE slots in opcodes.def.  The lane arithmetic is
 * in simd_lanes.h, shared with the XMM forms in sse_int.c.) */

/* ---- Handlers --------------------------------------------------------------- */

/* mm, mm/m32: the PUNPCKL forms read only the low doubleword from memory
 * (SDM vol. 2, PUNPCKLBW/PUNPCKLWD/PUNPCKLDQ). */
#define MMX_BIN32(name)                                                                    \
    HANDLER(mmx_##name)                                                                    \
    {                                                                                      \
        mmx_enter(c);                                                                      \
        uint64_t s = (i->flags & I_MEM) ? simd_read32(c, i) : mmx_get(c, i->rm);           \
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
 * XMM-only); the rest are undefined encodings, #UD before the CR0 and
 * x87 checks as for any undefined opcode. */
HANDLER(mmx_shift_imm)
{
    LaneOp f = shift_imm_op(i->op, i->reg);
    if (!f || (i->flags & I_MEM))
        cpu_raise_ud(c);
    mmx_enter(c);
    mmx_set(c, i->rm, f(mmx_get(c, i->rm), i->imm & 0xFF));
    NEXT(c, i);
}
SET_ALL(mmx_shift_imm, mmx_shift_imm)

/* 0F 6E: MOVD mm, r/m32 (zero-extended). */
HANDLER(mmx_movd_load)
{
    mmx_enter(c);
    uint32_t v = gpr_src32(c, i);
    mmx_set(c, i->reg, v);
    NEXT(c, i);
}
SET_ALL(mmx_movd_load, mmx_movd_load)

/* 0F 7E: MOVD r/m32, mm (the low doubleword). */
HANDLER(mmx_movd_store)
{
    mmx_enter(c);
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
    mmx_enter(c);
    mmx_set(c, i->reg, mmx_src(c, i));
    NEXT(c, i);
}
SET_ALL(mmx_movq_load, mmx_movq_load)

/* 0F 7F: MOVQ mm/m64, mm. */
HANDLER(mmx_movq_store)
{
    mmx_enter(c);
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
    mmx_enter(c);
    c->fpu.top = 0;
    c->fpu.valid = 0;
    NEXT(c, i);
}
SET_ALL(mmx_emms, mmx_emms)
