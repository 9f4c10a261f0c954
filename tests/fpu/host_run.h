/* Host x87 runner for the fpu suite: runs one x87/MMX/SSE instruction on the
 * host CPU between an FRSTOR (or FXRSTOR) of a given state and an FNSAVE
 * (or FXSAVE) of the result, so that the test compares whole machine states
 * with Kestrel running the same bytes.  x86-64 hosts only. */
#ifndef KESTREL_TESTS_FPU_HOST_RUN_H
#define KESTREL_TESTS_FPU_HOST_RUN_H

#include <stdbool.h>
#include <stdint.h>

/* Layout shared with the generated stub (offsets are disp8 in it). */
typedef struct HostCtx {
    uint8_t in[108];  /* FRSTOR image, 32-bit protected-mode format */
    uint8_t out[108]; /* FNSAVE image after the instruction */
    uint64_t rax;     /* in and out (FNSTSW AX) */
    uint64_t rflags;  /* arithmetic flags in and out (FCOMI, FCMOVcc) */
    uint8_t *mem;     /* RSI: the memory operand */
} HostCtx;

typedef struct HostStub HostStub;

/* Build a stub around `insn` (its ModRM memory operand must be [rsi], i.e.
 * rm = 6, so that the same bytes address [esi] in 32-bit code).  RDI holds
 * the same address as RSI when the instruction runs (the implicit [rdi]
 * operand of MASKMOVQ/MASKMOVDQU).  fx selects
 * FXRSTOR/FXSAVE (512-byte images at ctx->in/out, which must then point at
 * 16-byte-aligned 512-byte buffers: see HostFxCtx). */
HostStub *host_stub_new(const uint8_t *insn, int len);
void host_stub_run(HostStub *s, HostCtx *ctx);
void host_stub_free(HostStub *s);

/* FXSAVE-image variant: FXRSTOR [in], insn, FXSAVE [out]. */
typedef struct HostFxCtx {
    uint8_t *in, *out; /* 512 bytes each, 16-byte aligned */
    uint64_t rax, rflags;
    uint8_t *mem;
    uint64_t pad;
} HostFxCtx;
HostStub *host_fxstub_new(const uint8_t *insn, int len);
void host_fxstub_run(HostStub *s, HostFxCtx *ctx);

#endif
