/* IEEE single and double precision arithmetic with the SSE/SSE2 rules
 * (cpu/sse_float.c): the one implementation of every rounding SSE/SSE2
 * operation, on every host.
 *
 * It is written in portable C on the integer encodings (no host floating
 * point), so that a guest computes the same bits on every host, which the
 * deterministic-run promise needs; the fpu test suite checks it bit for bit
 * against the host's own SSE unit (tests/fpu/sse_float_test.c).
 *
 * Contract.  Each operation takes an SseFp with the guest's MXCSR and ORs
 * into `flags` the MXCSR exception flags it raised (MXCSR_IE .. MXCSR_PE),
 * and returns the masked response (SDM vol. 1, 11.5.2 and 4.9.1).  The
 * masks matter in one place: an unmasked overflow or underflow has no
 * masked response, so it reports the flags of the unmasked one (UE for any
 * tiny result, PE for the rounding with an unbounded exponent) and returns
 * a value that is never stored.  Suppressing the write and raising #XM is
 * the caller's business (cpu/sse.c, sse_fp_commit).
 *
 * x86 specifics implemented here (SDM vol. 1, 4.8.3.5, table 4-7, 11.5):
 * the default NaN is the negative QNaN "indefinite" (FFC00000h /
 * FFF8000000000000h); when an operand is a NaN the result is the first
 * source's NaN (quieted) if it is one, else the second's; DE is raised for
 * a denormal source operand; DAZ turns denormal sources into zeros of the
 * same sign; FZ returns a zero of the same sign for a tiny result when
 * underflow is masked (raising UE and PE); tininess is detected after
 * rounding; a failed conversion to a 32-bit integer gives 80000000h.
 */
#ifndef KESTREL_CPU_SSE_FLOAT_H
#define KESTREL_CPU_SSE_FLOAT_H

#include <stdbool.h>
#include <stdint.h>

/* MXCSR fields (SDM vol. 1, 10.2.3). */
#define MXCSR_IE 0x0001u
#define MXCSR_DE 0x0002u
#define MXCSR_ZE 0x0004u
#define MXCSR_OE 0x0008u
#define MXCSR_UE 0x0010u
#define MXCSR_PE 0x0020u
#define MXCSR_FLAGS 0x003Fu
#define MXCSR_DAZ 0x0040u
#define MXCSR_MASK_SHIFT 7 /* IM..PM are the flags shifted left by 7 */
#define MXCSR_MASKS 0x1F80u
#define MXCSR_RC 0x6000u
#define MXCSR_RC_SHIFT 13 /* 0 nearest, 1 down, 2 up, 3 toward zero */
#define MXCSR_FZ 0x8000u
/* Pre-computation exceptions (SDM vol. 1, 11.5.2): an unmasked one stops
 * the instruction before any post-computation exception is looked at. */
#define MXCSR_PRE (MXCSR_IE | MXCSR_DE | MXCSR_ZE)
typedef struct SseFp {
    uint32_t mxcsr; /* in: RC, DAZ, FZ, and the OE/UE masks */
    uint32_t flags; /* out: exception flags raised, ORed in */
} SseFp;

/* Arithmetic: a is the first source (the destination register), b the
 * second. */
uint32_t f32_add(SseFp *e, uint32_t a, uint32_t b);
uint32_t f32_sub(SseFp *e, uint32_t a, uint32_t b);
uint32_t f32_mul(SseFp *e, uint32_t a, uint32_t b);
uint32_t f32_div(SseFp *e, uint32_t a, uint32_t b);
uint32_t f32_sqrt(SseFp *e, uint32_t a);
uint64_t f64_add(SseFp *e, uint64_t a, uint64_t b);
uint64_t f64_sub(SseFp *e, uint64_t a, uint64_t b);
uint64_t f64_mul(SseFp *e, uint64_t a, uint64_t b);
uint64_t f64_div(SseFp *e, uint64_t a, uint64_t b);
uint64_t f64_sqrt(SseFp *e, uint64_t a);

/* MINPS/MAXPS and friends: when either operand is a NaN, or both are zeros
 * of any sign, the second operand b is returned unchanged (SDM vol. 2,
 * MINPS/MAXPS), except that with DAZ a denormal b (like a denormal a) is
 * returned as the zero it counts as.  A NaN of either kind raises IE. */
uint32_t f32_min(SseFp *e, uint32_t a, uint32_t b);
uint32_t f32_max(SseFp *e, uint32_t a, uint32_t b);
uint64_t f64_min(SseFp *e, uint64_t a, uint64_t b);
uint64_t f64_max(SseFp *e, uint64_t a, uint64_t b);

/* CMPPS-style predicate (imm8 bits 0-2: EQ, LT, LE, UNORD, NEQ, NLT, NLE,
 * ORD): true or false; LT/LE/NLT/NLE signal IE on any NaN, the others only
 * on an SNaN. */
bool f32_cmp(SseFp *e, uint32_t a, uint32_t b, int pred);
bool f64_cmp(SseFp *e, uint64_t a, uint64_t b, int pred);

/* COMISS/UCOMISS: the relation of a to b.  `signal_qnan` (COMIS*) raises
 * IE for a QNaN operand too; UCOMIS* only for an SNaN. */
/* Comparison results, shared by the x87 and SSE code (fpu_impl.h,
 * sse_float.h). */
#ifndef KESTREL_FCMP_DEFINED
#define KESTREL_FCMP_DEFINED
enum { FCMP_LT = 0, FCMP_EQ = 1, FCMP_GT = 2, FCMP_UN = 3 };
#endif
int f32_compare(SseFp *e, uint32_t a, uint32_t b, bool signal_qnan);
int f64_compare(SseFp *e, uint64_t a, uint64_t b, bool signal_qnan);

/* Conversions. */
uint64_t f32_to_f64(SseFp *e, uint32_t a);
uint32_t f64_to_f32(SseFp *e, uint64_t a);
uint32_t i32_to_f32(SseFp *e, int32_t v);
uint64_t i32_to_f64(SseFp *e, int32_t v); /* exact */
/* To a signed 32-bit integer, rounding per MXCSR.RC or, with `truncate`,
 * toward zero (CVTT*); NaN or out of range: 80000000h and IE (no PE).  A
 * denormal source never raises DE (with DAZ it is a zero: no PE either). */
uint32_t f32_to_i32(SseFp *e, uint32_t a, bool truncate);
uint32_t f64_to_i32(SseFp *e, uint64_t a, bool truncate);

/* RCPSS/RSQRTSS approximations (relative error at most 1.5 * 2^-12, SDM
 * vol. 2, RCPSS/RSQRTSS).  They raise no exception and ignore MXCSR:
 * denormal inputs count as zeros of the same sign and tiny results are
 * flushed to zero. */
uint32_t f32_rcp(uint32_t a);
uint32_t f32_rsqrt(uint32_t a);

#endif
