/* The x87 FPU, MMX and SSE/SSE2 register state (cpu/fpu_*.c, cpu/sse*.c).
 *
 * This header holds only types and the few functions the machine needs;
 * cpu.h includes it so that FpuState can live inside CpuState.  Everything
 * else is in fpu_impl.h.
 *
 * Error reporting (SDM vol. 1, 8.7): with CR0.NE = 1 an unmasked x87
 * exception raises #MF (vector 16) at the next waiting x87 or MMX
 * instruction.  With CR0.NE = 0 (MS-DOS compatibility) the FPU instead
 * drives its FERR# output, which a PC routes to IRQ 13: `ferr` is the line
 * level and `ferr_hook`, when set, is called on every change.  Kestrel
 * raises FERR# as soon as the unmasked exception is detected and then lets
 * execution continue as if IGNNE# were asserted (the PC's port F0h write in
 * the IRQ 13 handler); FERR# drops when the exception flags are cleared
 * (FNCLEX, FNINIT, FNSAVE, FLDENV/FRSTOR of a clean status word).  The
 * machine wires ferr_hook to its IRQ 13 input.
 */
#ifndef KESTREL_CPU_FPU_H
#define KESTREL_CPU_FPU_H

#include <stdbool.h>
#include <stdint.h>

/* An 80-bit double extended-precision value (SDM vol. 1, 4.2.2): 64-bit
 * significand with an explicit integer bit, sign and 15-bit biased exponent
 * in `se`.  Also the MMX view: mmx = the significand. */
typedef struct F80 {
    uint64_t m;
    uint16_t se;
} F80;

/* One XMM register, little-endian lanes. */
typedef union XmmReg {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
} XmmReg;

typedef struct FpuState {
    F80 st[8];        /* physical registers R0-R7; ST(i) is R((top + i) & 7) */
    uint16_t cw;      /* control word */
    uint16_t sw;      /* status word without TOP (bits 11-13 kept zero) */
    uint8_t top;      /* TOP field of the status word */
    uint8_t valid;    /* bit i set: R(i) is not empty (the abridged tag word) */
    uint16_t fop;     /* last non-control instruction's opcode (11 bits) */
    uint32_t fip, fdp; /* last instruction and data pointers (offsets) */
    uint16_t fcs, fds; /* and their selectors */

    bool soft;        /* use the portable soft-float arithmetic (see fpu_impl.h) */
    bool ferr;        /* FERR# output level (CR0.NE = 0 error reporting) */
    void (*ferr_hook)(void *opaque, bool level);
    void *ferr_opaque;

    /* SSE/SSE2 (cpu/sse*.c). */
    uint32_t mxcsr;
    XmmReg xmm[8];
} FpuState;

struct CpuState;

/* Power-on / RESET state (SDM vol. 3, table 9-1).  INIT keeps the x87 and
 * SSE state, so only cpu_reset calls this. */
void fpu_reset(struct CpuState *c);

/* The full 16-bit x87 tag word, two bits per physical register R0-R7
 * (00 valid, 01 zero, 10 special, 11 empty), computed from the abridged
 * `valid` bits and the register contents as FSTENV stores it (SDM vol. 1,
 * 8.1.7).  For the debugger, which sees only this header. */
uint16_t fpu_tag_word(const FpuState *f);

/* True when this build has the host-x87 arithmetic (x86-64 hosts without
 * -Dsoftfpu=true); FpuState.soft starts as !fpu_host_available(). */
bool fpu_host_available(void);

#endif
