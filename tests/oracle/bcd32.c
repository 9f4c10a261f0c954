/* The oracle suite's 32-bit helper: runs DAA DAS AAA AAS AAM AAD and INTO,
 * which are invalid in 64-bit mode (SDM vol. 2: "#UD in 64-bit mode"), on
 * the host as a -m32 process, and prints one line per case:
 *
 *   form imm eax_in flags_in eax_out flags_out vector eip_delta
 *
 * (hex; vector -1 when none; eip_delta is where the signal context's EIP
 * was relative to the instruction: 0 for a fault, its length for a trap).
 * The driver (oracle.c) replays the inputs in Kestrel.  Cases, from a
 * splitmix64 stream seeded by argv[1]:
 *
 *   daa das aaa aas  every (AL, CF, AF) combination, N/1024 times, with
 *                    random AH, upper EAX and other flags
 *   aam              every imm8 x every AL (65536); imm8 = 0 raises #DE
 *   aad              65536 random AX, every imm8 equally often
 *   into             N cases, OF alternating: OF = 1 raises #OF (vector 4;
 *                    Linux delivers it as SIGSEGV)
 *
 * Usage: bcd32 SEED N
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "tests/common/rng.h"
#include "tests/oracle/imm_lists.h"

#if !defined(__i386__)
#error "bcd32.c must be built with -m32"
#endif

#define FL_CF 0x001u
#define FL_PF 0x004u
#define FL_AF 0x010u
#define FL_ZF 0x040u
#define FL_SF 0x080u
#define FL_OF 0x800u
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* Stubs "insn; ret"; AAM and AAD are rows of 256, one per imm8, 16 bytes
 * apart. */
#define STUB(name, bytes)                                                                          \
    ".globl " name "\n\t.hidden " name "\n\t.balign 16\n" name ":\n\t.byte " bytes "\n\tret\n\t"
#define STUB_IMM(idx, val, op) ".balign 16\n\t.byte " op "," #val "\n\tret\n\t"

// clang-format off
__asm__(".text\n\t" STUB("b32_daa", "0x27") STUB("b32_das", "0x2F") STUB("b32_aaa", "0x37")
            STUB("b32_aas", "0x3F") STUB("b32_into", "0xCE")
        ".globl b32_aam\n\t.hidden b32_aam\n\t.balign 16\nb32_aam:\n\t" IMM8_ALL(STUB_IMM, "0xD4")
        ".globl b32_aad\n\t.hidden b32_aad\n\t.balign 16\nb32_aad:\n\t" IMM8_ALL(STUB_IMM, "0xD5")
        ".text\n");
// clang-format on

void b32_daa(void);
void b32_das(void);
void b32_aaa(void);
void b32_aas(void);
void b32_into(void);
void b32_aam(void);
void b32_aad(void);

static sigjmp_buf jb;
static volatile sig_atomic_t armed, vec;
static volatile uint32_t sig_eip;

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    if (!armed) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    const ucontext_t *uc = ucv;
    vec = (sig_atomic_t)uc->uc_mcontext.gregs[REG_TRAPNO];
    sig_eip = (uint32_t)uc->uc_mcontext.gregs[REG_EIP];
    armed = 0;
    siglongjmp(jb, 1);
}

static void exec32(uint32_t *eax, uint32_t *fl, void (*stub)(void))
{
    uint32_t a = *eax, f = *fl;
    __asm__ volatile("push %[f]\n\t"
                     "popfl\n\t"
                     "call *%[fn]\n\t"
                     "pushfl\n\t"
                     "pop %[f]"
                     : [f] "+r"(f), "+a"(a)
                     : [fn] "r"(stub)
                     : "cc", "memory");
    *eax = a;
    *fl = f;
}

/* Returns the vector raised, or -1; on an exception the outputs keep the
 * inputs (neither #DE nor the INTO trap changes EAX or the flags). */
static int run(void (*stub)(void), uint32_t *eax, uint32_t *fl)
{
    if (sigsetjmp(jb, 0))
        return vec;
    armed = 1;
    exec32(eax, fl, stub);
    armed = 0;
    return -1;
}

static Rng rng;

static void one(const char *name, void (*stub)(void), unsigned imm, uint32_t eax, uint32_t fl)
{
    uint32_t a = eax, f = 0x202 | (fl & FL_ARITH);
    int v = run(stub, &a, &f);
    uint32_t d = v >= 0 ? sig_eip - (uint32_t)(uintptr_t)stub : 0;
    printf("%s %u %08x %08x %08x %08x %d %u\n", name, imm, eax, fl & FL_ARITH, a, f & FL_ARITH, v,
           d);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bcd32 SEED N\n");
        return 2;
    }
    rng.s = strtoull(argv[1], NULL, 0) ^ 0x62636433ull;
    int n = atoi(argv[2]);
    if (n <= 0)
        n = 10000;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER; /* left by siglongjmp, mask not restored */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);

    static const struct {
        const char *name;
        void (*stub)(void);
    } plain[] = {{"daa", b32_daa}, {"das", b32_das}, {"aaa", b32_aaa}, {"aas", b32_aas}};
    int rounds = (n + 1023) / 1024;
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < rounds * 1024; i++) {
            uint32_t combo = (uint32_t)i & 1023;
            uint32_t eax = (rng_next32(&rng) & 0xFFFFFF00u) | (combo & 0xFF);
            uint32_t fl = rng_next32(&rng) & FL_ARITH & ~(FL_CF | FL_AF);
            fl |= (combo & 0x100 ? FL_CF : 0) | (combo & 0x200 ? FL_AF : 0);
            one(plain[k].name, plain[k].stub, 0, eax, fl);
        }
    for (uint32_t imm = 0; imm < 256; imm++)
        for (uint32_t al = 0; al < 256; al++)
            one("aam", (void (*)(void))((uintptr_t)b32_aam + 16 * imm), imm,
                (rng_next32(&rng) & 0xFFFFFF00u) | al, rng_next32(&rng));
    for (uint32_t i = 0; i < 65536; i++) {
        uint32_t imm = i & 255;
        one("aad", (void (*)(void))((uintptr_t)b32_aad + 16 * imm), imm, rng_next32(&rng),
            rng_next32(&rng));
    }
    for (int i = 0; i < n; i++) {
        uint32_t fl = (rng_next32(&rng) & FL_ARITH & ~FL_OF) | (i & 1 ? FL_OF : 0);
        one("into", b32_into, 0, rng_next32(&rng), fl);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
