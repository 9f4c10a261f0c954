/* Host reference implementations for the oracle suite (x86-64 hosts only).
 *
 * Each form is one x86 instruction with a fixed register assignment.  The
 * host executes the very same instruction bytes that Kestrel executes in
 * 32-bit protected mode: register-to-register ModRM encodings (mod = 11),
 * [esi]/[rsi] memory operands (mod = 00, rm = 110) and the 0x66 operand
 * size prefix mean the same in 64-bit mode with a 32-bit default operand
 * size.  The one exception is INC/DEC r32 (40+r / 48+r), which are REX
 * prefixes in 64-bit mode; the host runs FF /0 and FF /1 for them (same
 * operation, SDM vol. 2 INC/DEC).  Instructions that do not exist in 64-bit
 * mode at all (DAA DAS AAA AAS AAM AAD INTO) run in the -m32 helper
 * (bcd32.c).
 */
#ifndef KESTREL_TESTS_ORACLE_HOST_OPS_H
#define KESTREL_TESTS_ORACLE_HOST_OPS_H

#include <stdint.h>

/* Registers the instruction may read or write, flags in and out, and the
 * memory operand base (RSI on the host, ESI = a guest data address in
 * Kestrel). */
typedef struct HostRegs {
    uint32_t eax, ecx, edx, ebx, edi;
    uint64_t flags;
    uint8_t *mem;
} HostRegs;

/* What an instruction does, for operand generation and for the table of
 * flags the SDM leaves undefined. */
// clang-format off
typedef enum Family {
    FAM_ADD, FAM_ADC, FAM_SUB, FAM_SBB, FAM_CMP,
    FAM_AND, FAM_OR, FAM_XOR, FAM_TEST,
    FAM_INC, FAM_DEC, FAM_NEG, FAM_NOT,
    FAM_ROL, FAM_ROR, FAM_RCL, FAM_RCR, FAM_SHL, FAM_SHR, FAM_SAR,
    FAM_SHLD, FAM_SHRD,
    FAM_MUL, FAM_IMUL1, FAM_IMUL2, FAM_IMUL3,
    FAM_DIV, FAM_IDIV,
    FAM_BT, FAM_BTS, FAM_BTR, FAM_BTC,
    FAM_BSF, FAM_BSR,
    FAM_CMPXCHG, FAM_XADD,
    FAM_COUNT
} Family;
// clang-format on

/* Operand locations.  Register operands are (register << 1) | high-byte. */
#define LOC(r) ((r) << 1)
#define LOC_HI(r) (((r) << 1) | 1)
#define LOC_MEM 0x40    /* [esi] */
#define LOC_MEMBIT 0x41 /* [esi] addressed by a register bit offset (BT*) */
#define LOC_NONE 0xFF

/* Where the count (shifts, SHLD/SHRD) or bit offset (BT* imm) comes from. */
enum { CNT_NONE, CNT_ONE, CNT_CL, CNT_IMM };

typedef struct HostForm {
    const char *name;
    Family fam;
    uint8_t width;         /* operand size in bits: 8, 16 or 32 */
    uint8_t dst, src;      /* LOC_* of the first and second operand */
    uint8_t cnt;           /* CNT_* */
    uint8_t imm_size;      /* bytes of immediate appended to the encoding (0: none) */
    const char *host_enc;  /* ".byte" list run on the host */
    const char *guest_enc; /* bytes Kestrel runs (before the immediate) */
    void (*stub)(void);    /* "insn; ret"; immediate forms: one stub per value, 16 bytes apart */
    const uint32_t *imm_vals;
    int n_imm;
} HostForm;

extern const HostForm host_forms[];
extern const int n_host_forms;

/* A flag producer: an instruction on EDI run before a form, so that the
 * form sees flags an earlier instruction left (in Kestrel: lazy ones). */
typedef struct HostProducer {
    const char *name;
    const char *guest_enc;
    void (*stub)(void);
    uint32_t undef; /* arithmetic flags the SDM leaves undefined after it */
} HostProducer;

extern const HostProducer host_producers[];
extern const int n_host_producers;

/* Run a producer on the host (producers never fault). */
void host_run_producer(const HostProducer *p, HostRegs *s);

/* Run a form on the host.  Returns -1, or the exception vector the host
 * raised (0 = #DE, taken from the signal context's trap number); on an
 * exception *s is left as it was (faults change no register). */
int host_run(const HostForm *f, int imm_idx, HostRegs *s);

/* Install the SIGFPE handler host_run relies on. */
void host_init(void);

#endif
