/* The lazy flag evaluator (cpu/flags.c) against the host CPU.
 *
 * For each operation and width, random operands (with the boundary values
 * 0, 1, 0x7F.., 0x80.., 0xFF.. mixed in) go through the instruction itself
 * on the x86-64 host, whose flags are read back with PUSHFQ, and through
 * the lazy state that the interpreter records for it (lf_set, as in
 * cpu/exec_alu.c).  flags_arith, flags_cf, flags_szp and all sixteen
 * flags_cond conditions must match the host.  Fixed seed, 100,000 cases
 * per operation and width. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cpu/cpu_impl.h"
#include "tests/common/rng.h"

#if !defined(__x86_64__)
#error "test_flags runs the operations on an x86-64 host"
#endif

#define CASES 100000

enum { OP_ADD, OP_ADC, OP_SUB, OP_SBB, OP_CMP, OP_AND, OP_OR, OP_XOR, OP_INC, OP_DEC, OP_NEG };
static const char *const op_name[] = {"add", "adc", "sub", "sbb", "cmp", "and",
                                      "or",  "xor", "inc", "dec", "neg"};

/* ---- The host ------------------------------------------------------------
 * Each sequence loads RFLAGS from `fin` (carry-in for ADC/SBB, kept CF for
 * INC/DEC), runs the instruction and stores RFLAGS in `fout`.  RSP steps
 * over the red zone first, since the pushes would clobber it; operands are
 * in registers only, because RSP-relative memory operands would move. */
#define HOST_OP2(insn, sfx, reg)                                                                   \
    __asm__ volatile("lea -128(%%rsp), %%rsp\n\t"                                                  \
                     "pushq %[fin]\n\t"                                                            \
                     "popfq\n\t" insn sfx " %" reg "[b], %" reg "[r]\n\t"                          \
                     "pushfq\n\t"                                                                  \
                     "popq %[fout]\n\t"                                                            \
                     "lea 128(%%rsp), %%rsp"                                                       \
                     : [r] "+q"(r), [fout] "=&r"(fout)                                             \
                     : [b] "q"(b), [fin] "r"(fin)                                                  \
                     : "cc", "memory")
#define HOST_OP1(insn, sfx, reg)                                                                   \
    __asm__ volatile("lea -128(%%rsp), %%rsp\n\t"                                                  \
                     "pushq %[fin]\n\t"                                                            \
                     "popfq\n\t" insn sfx " %" reg "[r]\n\t"                                       \
                     "pushfq\n\t"                                                                  \
                     "popq %[fout]\n\t"                                                            \
                     "lea 128(%%rsp), %%rsp"                                                       \
                     : [r] "+q"(r), [fout] "=&r"(fout)                                             \
                     : [fin] "r"(fin)                                                              \
                     : "cc", "memory")

#define HOST_SWITCH(T, sfx, reg)                                                                   \
    do {                                                                                           \
        T r = (T)a;                                                                                \
        T b = (T)bv;                                                                               \
        switch (op) {                                                                              \
        case OP_ADD:                                                                               \
            HOST_OP2("add", sfx, reg);                                                             \
            break;                                                                                 \
        case OP_ADC:                                                                               \
            HOST_OP2("adc", sfx, reg);                                                             \
            break;                                                                                 \
        case OP_SUB:                                                                               \
            HOST_OP2("sub", sfx, reg);                                                             \
            break;                                                                                 \
        case OP_SBB:                                                                               \
            HOST_OP2("sbb", sfx, reg);                                                             \
            break;                                                                                 \
        case OP_CMP:                                                                               \
            HOST_OP2("cmp", sfx, reg);                                                             \
            break;                                                                                 \
        case OP_AND:                                                                               \
            HOST_OP2("and", sfx, reg);                                                             \
            break;                                                                                 \
        case OP_OR:                                                                                \
            HOST_OP2("or", sfx, reg);                                                              \
            break;                                                                                 \
        case OP_XOR:                                                                               \
            HOST_OP2("xor", sfx, reg);                                                             \
            break;                                                                                 \
        case OP_INC:                                                                               \
            HOST_OP1("inc", sfx, reg);                                                             \
            (void)b;                                                                               \
            break;                                                                                 \
        case OP_DEC:                                                                               \
            HOST_OP1("dec", sfx, reg);                                                             \
            (void)b;                                                                               \
            break;                                                                                 \
        default:                                                                                   \
            HOST_OP1("neg", sfx, reg);                                                             \
            (void)b;                                                                               \
            break;                                                                                 \
        }                                                                                          \
        res = r;                                                                                   \
    } while (0)

/* Run `op` on the host; returns the destination after it and the flags. */
static uint32_t host_run(int op, unsigned size, uint32_t a, uint32_t bv, uint64_t fin,
                         uint64_t *flags_out)
{
    uint64_t fout;
    uint32_t res;
    if (size == 1)
        HOST_SWITCH(uint8_t, "b", "b");
    else if (size == 2)
        HOST_SWITCH(uint16_t, "w", "w");
    else
        HOST_SWITCH(uint32_t, "l", "k");
    *flags_out = fout;
    return res;
}

/* ---- Kestrel's side: what the handlers record (cpu/exec_alu.c) ------------ */

static uint32_t kestrel_run(CpuState *c, int op, unsigned size, uint32_t a, uint32_t b,
                            uint32_t cin)
{
    uint32_t m = size_mask(size), r;
    switch (op) {
    case OP_ADD:
        r = (a + b) & m;
        lf_set(c, LF_ADD, size, a, b, r);
        break;
    case OP_ADC:
        r = (a + b + cin) & m;
        lf_set(c, LF_ADD, size, a, b, r);
        break;
    case OP_SUB:
    case OP_CMP:
        r = (a - b) & m;
        lf_set(c, LF_SUB, size, a, b, r);
        break;
    case OP_SBB:
        r = (a - b - cin) & m;
        lf_set(c, LF_SUB, size, a, b, r);
        break;
    case OP_AND:
        r = a & b;
        lf_set(c, LF_LOGIC, size, a, b, r);
        break;
    case OP_OR:
        r = a | b;
        lf_set(c, LF_LOGIC, size, a, b, r);
        break;
    case OP_XOR:
        r = a ^ b;
        lf_set(c, LF_LOGIC, size, a, b, r);
        break;
    /* INC/DEC keep CF: the handler leaves it in eflags. */
    case OP_INC:
        r = (a + 1) & m;
        lf_set(c, LF_INC, size, a, 1, r);
        break;
    case OP_DEC:
        r = (a - 1) & m;
        lf_set(c, LF_DEC, size, a, 1, r);
        break;
    default:
        r = (0 - a) & m;
        lf_set(c, LF_SUB, size, 0, a, r);
        break; /* NEG */
    }
    return r;
}

/* Condition codes from flags (SDM vol. 1, appendix B, table B-1). */
static bool cond_of(uint32_t f, unsigned cc)
{
    bool of = f & FL_OF, cf = f & FL_CF, zf = f & FL_ZF, sf = f & FL_SF, pf = f & FL_PF;
    bool r;
    switch (cc >> 1) {
    case 0:
        r = of;
        break;
    case 1:
        r = cf;
        break;
    case 2:
        r = zf;
        break;
    case 3:
        r = cf || zf;
        break;
    case 4:
        r = sf;
        break;
    case 5:
        r = pf;
        break;
    case 6:
        r = sf != of;
        break;
    default:
        r = zf || sf != of;
        break;
    }
    return r ^ (cc & 1);
}

/* ---- Operands ------------------------------------------------------------ */

static Rng rng = {0x666c616773303031ull}; /* fixed seed */

/* A random operand of `size` bytes; one in four is a boundary value. */
static uint32_t operand(unsigned size)
{
    uint32_t m = size_mask(size), top = m ^ (m >> 1);
    uint64_t r = rng_next64(&rng);
    if ((r & 3) == 0) {
        switch ((r >> 2) % 8) {
        case 0:
            return 0;
        case 1:
            return 1;
        case 2:
            return top - 1; /* 0x7F.. */
        case 3:
            return top; /* 0x80.. */
        case 4:
            return m; /* 0xFF.. */
        case 5:
            return top + 1;
        case 6:
            return 0xF & m; /* AF boundaries */
        default:
            return 0x10 & m;
        }
    }
    return (uint32_t)(r >> 32) & m;
}

/* ---- The comparison ------------------------------------------------------ */

static void check_op(int op)
{
    static CpuState cpu; /* large (TLB): not on the stack */
    static const unsigned sizes[3] = {1, 2, 4};
    long bad = 0;

    for (int si = 0; si < 3; si++) {
        unsigned size = sizes[si];
        for (long n = 0; n < CASES; n++) {
            uint32_t a = operand(size), b = operand(size);
            uint32_t cin = (uint32_t)(rng_next64(&rng) & 1);
            /* Start from random arithmetic flags with the carry-in as CF, so
             * that stale bits in eflags would show. */
            uint32_t fin = ((uint32_t)rng_next64(&rng) & FL_ARITH & ~FL_CF) | cin | 2;

            uint64_t hf;
            uint32_t hres = host_run(op, size, a, b, fin, &hf);
            uint32_t host = (uint32_t)hf & FL_ARITH;

            memset(&cpu.lf, 0, sizeof(cpu.lf));
            cpu.eflags = fin;
            uint32_t kres = kestrel_run(&cpu, op, size, a, b, cin);
            uint32_t kf = flags_arith(&cpu);

            /* AND/OR/XOR leave AF undefined (SDM vol. 2, AND/OR/XOR: "The
             * state of the AF flag is undefined"): not compared. */
            uint32_t cmp_mask =
                (op == OP_AND || op == OP_OR || op == OP_XOR) ? FL_ARITH & ~FL_AF : FL_ARITH;
            const char *what = NULL;
            unsigned cc = 0;
            if (op != OP_CMP && kres != hres)
                what = "result";
            else if ((kf & cmp_mask) != (host & cmp_mask))
                what = "flags_arith";
            else if (flags_cf(&cpu) != (host & FL_CF))
                what = "flags_cf";
            else if ((flags_szp(kres, size) ^ host) & (FL_SF | FL_ZF | FL_PF))
                what = "flags_szp";
            else {
                for (cc = 0; cc < 16; cc++) {
                    if (flags_cond(&cpu, cc) != cond_of(host, cc)) {
                        what = "flags_cond";
                        break;
                    }
                }
            }
            if (what) {
                if (bad++ < 10)
                    print_error("%s%u %#x, %#x (carry-in %u): %s differs (cc %u): host "
                                "flags %#05x result %#x, kestrel flags %#05x result %#x\n",
                                op_name[op], size * 8, a, b, cin, what, cc, host, hres, kf, kres);
            }
        }
    }
    if (bad) {
        print_error("%s: %ld of %d cases differ\n", op_name[op], bad, 3 * CASES);
        fail();
    }
}

#define OP_TEST(name, op)                                                                          \
    static void test_##name(void **state)                                                          \
    {                                                                                              \
        (void)state;                                                                               \
        check_op(op);                                                                              \
    }
OP_TEST(add, OP_ADD)
OP_TEST(adc, OP_ADC)
OP_TEST(sub, OP_SUB)
OP_TEST(sbb, OP_SBB)
OP_TEST(cmp, OP_CMP)
OP_TEST(and, OP_AND)
OP_TEST(or, OP_OR)
OP_TEST(xor, OP_XOR)
OP_TEST(inc, OP_INC)
OP_TEST(dec, OP_DEC)
OP_TEST(neg, OP_NEG)

/* With no lazy operation pending, the evaluator reads eflags itself. */
static void test_none(void **state)
{
    (void)state;
    static CpuState cpu;
    for (uint32_t f = 0; f < 0x1000; f++) {
        uint32_t fl = (f & FL_ARITH) | 2;
        cpu.lf.op = LF_NONE;
        cpu.eflags = fl;
        assert_int_equal(flags_arith(&cpu), fl & FL_ARITH);
        assert_int_equal(flags_cf(&cpu), fl & FL_CF);
        for (unsigned cc = 0; cc < 16; cc++)
            assert_int_equal(flags_cond(&cpu, cc), cond_of(fl, cc));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add), cmocka_unit_test(test_adc), cmocka_unit_test(test_sub),
        cmocka_unit_test(test_sbb), cmocka_unit_test(test_cmp), cmocka_unit_test(test_and),
        cmocka_unit_test(test_or),  cmocka_unit_test(test_xor), cmocka_unit_test(test_inc),
        cmocka_unit_test(test_dec), cmocka_unit_test(test_neg), cmocka_unit_test(test_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
