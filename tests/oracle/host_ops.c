/* Host reference implementations: every form of forms.h as inline assembly
 * that loads EAX ECX EDX EBX EDI, RSI (memory operand base) and RFLAGS, runs the
 * instruction's bytes, and stores the registers and RFLAGS (pushfq) back.
 *
 * The asm steps RSP below the 128-byte red zone before it pushes, since the
 * compiler may keep locals there in a leaf function (SysV x86-64 ABI, 3.2.2).
 * The instruction itself sits in a stub ("insn; ret") emitted by a top-level
 * asm block, so thousands of immediate variants cost the compiler nothing:
 * an immediate is part of the instruction bytes, and inline asm cannot take
 * it at run time.
 */
#include "tests/oracle/host_ops.h"

#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <ucontext.h>

#include "tests/oracle/forms.h"
#include "tests/oracle/imm_lists.h"

#if !defined(__x86_64__)
#error "the oracle host side needs an x86-64 host"
#endif

/* Operand locations used by forms.h. */
#define L_A LOC(0)
#define L_C LOC(1)
#define L_D LOC(2)
#define L_B LOC(3)
#define L_AH LOC_HI(0)
#define L_CH LOC_HI(1)

/* ---- Instruction stubs -------------------------------------------------
 * Each form is a stub "instruction; ret" in .text.  An immediate form is a
 * row of stubs, one per value of its immediate list, 16 bytes apart (the
 * longest instruction here is 7 bytes), so one symbol per form suffices.
 * Hidden globals so that C can take their addresses in a PIE. */

#define STUB_HEAD(id)                                                                              \
    ".globl oracle_h_" #id "\n\t.hidden oracle_h_" #id "\n\t.balign 16\n"                          \
    "oracle_h_" #id ":\n\t"
#define STUB_F(id, name, fam, w, dst, src, cnt, henc, genc)                                        \
    STUB_HEAD(id) ".byte " henc "\n\tret\n\t"
#define STUB_IMM(idx, val, enc, dir) ".balign 16\n\t.byte " enc "\n\t" dir " " #val "\n\tret\n\t"
#define STUB_FI(id, name, fam, w, dst, src, cnt, enc, isz, LIST, dir)                              \
    STUB_HEAD(id) LIST(STUB_IMM, enc, dir)

#define STUB_P(id, name, henc, genc, undef) STUB_HEAD(p_##id) ".byte " henc "\n\tret\n\t"

__asm__(".text\n\t" ORACLE_FORMS(STUB_F, STUB_FI) ORACLE_PRODUCERS(STUB_P) ".text\n");

#define DECL_F(id, ...) void oracle_h_##id(void);
#define DECL_P(id, ...) void oracle_h_p_##id(void);
ORACLE_FORMS(DECL_F, DECL_F)
ORACLE_PRODUCERS(DECL_P)

#define VAL_IMM(idx, val, ...) val,
static const uint32_t vals_IMM8_ALL[] = {IMM8_ALL(VAL_IMM, 0)};
static const uint32_t vals_IMM8_SEL[] = {IMM8_SEL(VAL_IMM, 0)};
static const uint32_t vals_IMM8_ALU[] = {IMM8_ALU(VAL_IMM, 0)};
static const uint32_t vals_IMM16_SEL[] = {IMM16_SEL(VAL_IMM, 0)};
static const uint32_t vals_IMM32_SEL[] = {IMM32_SEL(VAL_IMM, 0)};

// clang-format off
#define ROW_F(id, name, fam, w, dst, src, cnt, henc, genc)                                        \
    {name, fam, w, dst, src, cnt, 0, henc, genc, oracle_h_##id, NULL, 0},
#define ROW_FI(id, name, fam, w, dst, src, cnt, enc, isz, LIST, dir)                              \
    {name, fam, w, dst, src, cnt, isz, enc, enc, oracle_h_##id, vals_##LIST,                     \
     (int)(sizeof(vals_##LIST) / sizeof(vals_##LIST[0]))},
// clang-format on

const HostForm host_forms[] = {ORACLE_FORMS(ROW_F, ROW_FI)};
const int n_host_forms = (int)(sizeof(host_forms) / sizeof(host_forms[0]));

#define ROW_P(id, name, henc, genc, undef) {name, genc, oracle_h_p_##id, undef},
const HostProducer host_producers[] = {ORACLE_PRODUCERS(ROW_P)};
const int n_host_producers = (int)(sizeof(host_producers) / sizeof(host_producers[0]));

/* Load the registers and RFLAGS, call the stub, store them back. */
static void host_exec(HostRegs *s, void (*stub)(void))
{
    uint64_t fl = s->flags;
    uint32_t a = s->eax, c = s->ecx, d = s->edx, b = s->ebx, di = s->edi;
    uint8_t *p = s->mem;
    __asm__ volatile("lea -128(%%rsp), %%rsp\n\t"
                     "push %[fl]\n\t"
                     "popfq\n\t"
                     "call *%[fn]\n\t"
                     "pushfq\n\t"
                     "pop %[fl]\n\t"
                     "lea 128(%%rsp), %%rsp"
                     : [fl] "+r"(fl), "+a"(a), "+b"(b), "+c"(c), "+d"(d), "+S"(p), "+D"(di)
                     : [fn] "r"(stub)
                     : "cc", "memory");
    s->eax = a;
    s->ecx = c;
    s->edx = d;
    s->ebx = b;
    s->edi = di;
    s->flags = fl;
}

/* ---- Running with #DE caught ------------------------------------------ */

/* Divide errors reach us as SIGFPE; the trap number in the signal context
 * is the exception vector.  A SIGFPE outside host_run (say, Kestrel dividing
 * by zero in C) is a real crash: restore the default action and re-raise. */
static sigjmp_buf host_jb;
static volatile sig_atomic_t host_armed;
static volatile sig_atomic_t host_vec;

static void host_sigfpe(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    if (!host_armed) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    const ucontext_t *uc = ucv;
    host_vec = (sig_atomic_t)uc->uc_mcontext.gregs[REG_TRAPNO];
    host_armed = 0;
    siglongjmp(host_jb, 1);
}

void host_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = host_sigfpe;
    /* SA_NODEFER: we leave the handler by siglongjmp without restoring the
     * signal mask, so SIGFPE must not be blocked while it runs. */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGFPE, &sa, NULL);
}

static void (*host_stub(const HostForm *f, int imm_idx))(void)
{
    uintptr_t p = (uintptr_t)f->stub;
    if (f->imm_size)
        p += 16 * (uintptr_t)imm_idx;
    return (void (*)(void))p;
}

int host_run(const HostForm *f, int imm_idx, HostRegs *s)
{
    if (sigsetjmp(host_jb, 0))
        return host_vec; /* *s untouched: host_exec writes it only after the asm */
    host_armed = 1;
    host_exec(s, host_stub(f, imm_idx));
    host_armed = 0;
    return -1;
}

void host_run_producer(const HostProducer *p, HostRegs *s)
{
    host_exec(s, p->stub);
}
