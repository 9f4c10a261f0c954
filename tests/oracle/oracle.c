/* The oracle suite: the host CPU is the reference for Kestrel's integer ALU.
 *
 * For every form of forms.h (one instruction, one width, fixed registers)
 * the driver generates N operand sets (edge cases first, then random ones
 * from a seeded PRNG), runs each on the host (host_ops.c) and as one
 * cpu_step() of Kestrel in flat 32-bit protected mode, and compares EAX..EDI,
 * the memory operand, EIP, the exception vector and the arithmetic flags the
 * Intel SDM defines.  In half of the cases a flag producer (ADD, SUB, INC,
 * AND, SHL, IMUL, BT... on EDI) runs first, so that the form meets flags an
 * earlier instruction left (lazy flags in Kestrel) rather than fresh ones.  Flags the SDM leaves
 * undefined are not compared; the table printed at the start names them (see undef_table).  DAA DAS
 * AAA AAS AAM AAD and INTO do not exist in 64-bit mode: the -m32 helper bcd32 runs them on the host
 * and prints inputs and results, which the driver replays in Kestrel.
 *
 * Usage: oracle [--helper PATH] [-n CASES] [-v] [FILTER...]
 *   ORACLE_SEED  PRNG seed (default 0x4b657374), printed at the start
 *   ORACLE_UNDEF=1  also count, per form, the cases where host and Kestrel
 *                   differ in what the SDM leaves undefined (information)
 *   ORACLE_NOFORK=1  run every form in this process (for a debugger);
 *                    by default each form runs in a child process, so that a
 *                    crash or hang in the core fails that form only.
 * Exit status 0 iff every form ran with no mismatch.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/common/flat_guest.h"
#include "tests/common/rng.h"
#include "cpu/cpu.h"
#include "machine/bus.h"
#include "tests/oracle/host_ops.h"

/* ---- Guest layout -------------------------------------------------------- */

#define RAM_SIZE (4u << 20)
#define CODE_BASE 0x10000u /* immediate variant k of a form at CODE_BASE + 16 k */
#define PROD_BASE 0x18000u /* flag producer p at PROD_BASE + 16 p */
#define BCD_CODE 0x20000u
#define GDT_BASE 0x30000u
#define IDT_BASE 0x31000u
#define VEC_BASE 0x32000u   /* the gate for vector k leads to VEC_BASE + 16 k */
#define DATA_BASE 0x200000u /* ESI: the [esi] memory operand */
#define STACK_TOP 0x3F0000u
#define WIN_HALF 8192 /* memory operands lie in [esi - WIN_HALF, esi + WIN_HALF) */
#define MEMCMP 16     /* bytes of memory compared around the operand */

#define DEFAULT_CASES 10000
#define MAX_DETAILS 4    /* mismatches printed per form */
#define FORM_TIMEOUT 120 /* seconds per form (child process) */

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };
static const char *const reg_names[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};

static int opt_cases = DEFAULT_CASES;
static int opt_verbose;
static uint64_t opt_seed = 0x4b657374; /* "Kest" */

/* ---- Streams ------------------------------------------------------------- */

/* Each form has its own stream (seed ^ hash of its name), so adding a form
 * does not change the cases of the others. */
static void rng_for(Rng *r, const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    r->s = opt_seed ^ h;
}

/* ---- Cases and results ------------------------------------------------------ */

typedef struct Case {
    uint32_t r[8];   /* EAX..EDI in encoding order; ESP and ESI are set by the driver */
    uint32_t flags;  /* arithmetic flags in */
    int imm_idx;     /* immediate forms: index into imm_vals */
    int32_t mem_off; /* compared window [esi + mem_off, +MEMCMP) */
    uint8_t mem[MEMCMP];
} Case;

typedef struct Result {
    uint32_t r[8];
    uint32_t flags;
    uint32_t eip;
    int exc; /* -1, an exception vector, or 100 + CpuExit for an unexpected exit */
    uint8_t mem[MEMCMP];
} Result;

/* What to compare for one case. */
typedef struct Expect {
    uint32_t flags;  /* arithmetic flags the SDM defines for these operands */
    uint32_t reg[8]; /* bits of each register that are defined */
} Expect;

static uint32_t wmask(unsigned w)
{
    return w == 32 ? 0xFFFFFFFFu : (1u << w) - 1;
}
static uint32_t sext(uint32_t v, unsigned w)
{
    return w == 32 ? v : (uint32_t)((int32_t)(v << (32 - w)) >> (32 - w));
}

static bool has_mem(const HostForm *f)
{
    return f->dst == LOC_MEM || f->src == LOC_MEM || f->dst == LOC_MEMBIT;
}

/* Operand access by location (forms use EAX..EBX and AH/CH only). */
static void loc_put(Case *c, uint8_t loc, unsigned w, uint32_t v)
{
    if (loc == LOC_NONE || loc == LOC_MEMBIT)
        return;
    if (loc == LOC_MEM) {
        /* The operand of a plain [esi] form is at window offset 4. */
        for (unsigned i = 0; i < 4 && i < w / 8; i++)
            c->mem[4 + i] = (uint8_t)(v >> (8 * i));
        return;
    }
    int reg = loc >> 1;
    if (loc & 1)
        c->r[reg] = (c->r[reg] & ~0xFF00u) | ((v & 0xFF) << 8);
    else
        c->r[reg] = (c->r[reg] & ~wmask(w)) | (v & wmask(w));
}

static uint32_t loc_get(const Case *c, uint8_t loc, unsigned w)
{
    if (loc == LOC_MEM) {
        uint32_t v = 0;
        for (unsigned i = 0; i < 4 && i < w / 8; i++)
            v |= (uint32_t)c->mem[4 + i] << (8 * i);
        return v;
    }
    if (loc & 1)
        return (c->r[loc >> 1] >> 8) & 0xFF;
    return c->r[loc >> 1] & wmask(w);
}

/* ---- Operand generation ----------------------------------------------------- */

/* Edge values for a width: 0, 1, -1, the sign bit, max positive and
 * neighbours, alternating patterns. */
static int edge_list(unsigned w, uint32_t *out)
{
    uint32_t m = wmask(w), s = 1u << (w - 1);
    const uint32_t raw[] = {0,
                            1,
                            2,
                            9,
                            0x0F,
                            m,
                            m - 1,
                            s,
                            s - 1,
                            s + 1,
                            s >> 1,
                            (s >> 1) - 1,
                            0x55555555u & m,
                            0xAAAAAAAAu & m,
                            0x7F,
                            0x80,
                            0xFF,
                            0x100,
                            0x7FFF,
                            0x8000,
                            0xFFFF};
    int n = 0;
    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
        uint32_t v = raw[i] & m;
        bool dup = false;
        for (int j = 0; j < n; j++)
            dup |= out[j] == v;
        if (!dup)
            out[n++] = v;
    }
    return n;
}

static uint32_t gen_val(Rng *r, unsigned w)
{
    uint32_t e[32];
    uint32_t v;
    switch (rng_below(r, 16)) {
    case 0:
    case 1:
    case 2:
    case 3:
        v = e[rng_below(r, (uint32_t)edge_list(w, e))];
        break;
    case 4:
    case 5:
        v = rng_below(r, 33);
        break;
    case 6:
        v = 0u - rng_below(r, 33);
        break;
    case 7:
        v = (1u << rng_below(r, w)) + rng_below(r, 3) - 1;
        break;
    case 8:
    case 9:
        v = rng_next32(r) >> rng_below(r, 32);
        break;
    default:
        v = rng_next32(r);
        break;
    }
    return v & wmask(w);
}

/* A shift count (the byte in CL): small counts, the width and its
 * neighbours, values with bits above the 5-bit mask, anything. */
static uint32_t gen_count(Rng *r, unsigned w)
{
    const uint32_t edge[] = {0,  1,  2,  w - 1, w,    w + 1, 2 * w - 1, 2 * w, 2 * w + 1, 31, 32,
                             33, 63, 64, 65,    0xE0, 0xE1,  0xFF,      9,     17,        8,  16};
    switch (rng_below(r, 8)) {
    case 0:
    case 1:
    case 2:
    case 3:
        return rng_below(r, 34);
    case 4:
    case 5:
        return edge[rng_below(r, sizeof(edge) / sizeof(edge[0]))];
    default:
        return rng_next32(r) & 0xFF;
    }
}

static uint32_t gen_flags(Rng *r)
{
    return rng_next32(r) & FL_ARITH;
}

/* Dividend (hi:lo, 2w bits) and divisor for DIV/IDIV: mostly valid
 * divisions built as q * d + rem with q at and near the quotient limits,
 * plus divide by zero, quotient overflow and raw random operands. */
static void gen_div(Rng *r, unsigned w, bool sign, uint64_t *dividend, uint32_t *divisor)
{
    uint64_t m2 = w == 32 ? ~0ull : (1ull << (2 * w)) - 1;
    unsigned k = rng_below(r, 20);
    uint32_t d = gen_val(r, w);
    if (k == 0) { /* divide by zero */
        *divisor = 0;
        *dividend = ((uint64_t)rng_next32(r) << 32 | rng_next32(r)) & m2;
        return;
    }
    if (d == 0)
        d = 1 + rng_below(r, 7);
    if (k <= 3) { /* raw operands: mostly overflow */
        *divisor = d;
        *dividend = ((uint64_t)rng_next32(r) << 32 | rng_next32(r)) & m2;
        if (k == 3)
            *dividend >>= rng_below(r, 2 * w);
        return;
    }
    if (!sign) {
        uint64_t qmax = wmask(w);
        uint64_t q;
        switch (rng_below(r, 4)) {
        case 0:
            q = qmax - rng_below(r, 2);
            break;
        case 1:
            q = qmax + 1;
            break; /* overflow by one */
        case 2:
            q = rng_below(r, 10);
            break;
        default:
            q = gen_val(r, w);
            break;
        }
        uint64_t rem = rng_next64(r) % d;
        if (rng_below(r, 4) == 0)
            rem = d - 1;
        *divisor = d;
        *dividend = (q * d + rem) & m2;
        return;
    }
    int64_t sd = (int32_t)sext(d, w);
    int64_t qmin = -(1ll << (w - 1)), qmax = (1ll << (w - 1)) - 1;
    int64_t q;
    switch (rng_below(r, 6)) {
    case 0:
        q = qmin;
        break;
    case 1:
        q = qmax;
        break;
    case 2:
        q = rng_below(r, 2) ? qmin - 1 : qmax + 1;
        break; /* overflow by one */
    case 3:
        q = (int64_t)rng_below(r, 21) - 10;
        break;
    default:
        q = (int32_t)sext(gen_val(r, w), w);
        break;
    }
    int64_t absd = sd < 0 ? -sd : sd;
    int64_t rem = (int64_t)(rng_next64(r) % (uint64_t)absd);
    if (rng_below(r, 4) == 0)
        rem = absd - 1;
    int64_t prod = q * sd;
    /* The remainder takes the dividend's sign (SDM vol. 2, IDIV). */
    int64_t dv = prod < 0 || (prod == 0 && rng_below(r, 2)) ? prod - rem : prod + rem;
    if (rng_below(r, 16) == 0) { /* the most negative dividend, / -1 and / others */
        dv = w == 32 ? INT64_MIN : -(1ll << (2 * w - 1));
        if (rng_below(r, 2))
            sd = -1;
    }
    *divisor = (uint32_t)sd & wmask(w);
    *dividend = (uint64_t)dv & m2;
}

static uint32_t count_of(const HostForm *f, const Case *c)
{
    switch (f->cnt) {
    case CNT_ONE:
        return 1;
    case CNT_CL:
        return c->r[ECX] & 0xFF;
    case CNT_IMM:
        return f->imm_vals[c->imm_idx];
    default:
        return 0;
    }
}

static void gen_case(const HostForm *f, Rng *r, int i, Case *c)
{
    unsigned w = f->width;
    uint32_t e[32];
    int ne = edge_list(w, e);

    for (int k = 0; k < 8; k++)
        c->r[k] = rng_next32(r);
    c->flags = gen_flags(r);
    c->imm_idx = f->imm_size ? i % f->n_imm : 0;
    c->mem_off = -4;
    for (int k = 0; k < MEMCMP; k++)
        c->mem[k] = (uint8_t)rng_next32(r);

    /* Edge pairs first: every (edge, edge, CF) combination, then random. */
    bool sys = i < 2 * ne * ne;
    uint32_t a = sys ? e[i % ne] : gen_val(r, w);
    uint32_t b = sys ? e[(i / ne) % ne] : gen_val(r, w);
    if (sys)
        c->flags = (c->flags & ~FL_CF) | (uint32_t)((i / (ne * ne)) & 1);

    switch (f->fam) {
    case FAM_ROL:
    case FAM_ROR:
    case FAM_RCL:
    case FAM_RCR:
    case FAM_SHL:
    case FAM_SHR:
    case FAM_SAR:
    case FAM_SHLD:
    case FAM_SHRD:
        if (f->cnt == CNT_CL) {
            /* Sweep count 0..40 over the edge values first. */
            uint32_t cnt = i < 41 * ne ? (uint32_t)(i / ne) : gen_count(r, w);
            c->r[ECX] = (c->r[ECX] & ~0xFFu) | cnt;
            a = i < 41 * ne ? e[i % ne] : a;
        }
        break;
    case FAM_DIV:
    case FAM_IDIV: {
        uint64_t dv;
        uint32_t d;
        gen_div(r, w, f->fam == FAM_IDIV, &dv, &d);
        if (w == 8) {
            c->r[EAX] = (c->r[EAX] & 0xFFFF0000u) | (uint32_t)(dv & 0xFFFF);
        } else {
            c->r[EAX] = (c->r[EAX] & ~wmask(w)) | ((uint32_t)dv & wmask(w));
            c->r[EDX] = (c->r[EDX] & ~wmask(w)) | ((uint32_t)(dv >> w) & wmask(w));
        }
        loc_put(c, f->src, w, d);
        return;
    }
    case FAM_MUL:
    case FAM_IMUL1:
        c->r[EAX] = (c->r[EAX] & ~wmask(w)) | a;
        loc_put(c, f->src, w, b);
        return;
    case FAM_BT:
    case FAM_BTS:
    case FAM_BTR:
    case FAM_BTC:
        if (f->src != LOC_NONE) {
            /* Bit offsets: small ones, ones just past the operand, anything
             * the memory window holds (SDM vol. 2, BT: a register offset
             * with a memory operand addresses beyond it, signed). */
            int32_t off;
            uint32_t k = rng_below(r, 4);
            int32_t lim = w == 16 ? 32768 : 60000;
            if (k == 0)
                off = (int32_t)rng_below(r, 2 * w + 2) - 1;
            else if (k == 1)
                off = -(int32_t)rng_below(r, 3 * w) - 1;
            else
                off = (int32_t)rng_below(r, 2 * (uint32_t)lim) - lim;
            if (f->dst == LOC_MEMBIT) {
                int32_t unit = (int32_t)w / 8;
                int32_t byte = w == 16 ? (off >> 4) * unit : (off >> 5) * unit;
                c->mem_off = byte - 4;
            } else if (k >= 2) {
                off = (int32_t)rng_next32(r);
            }
            b = (uint32_t)off & wmask(w);
        }
        break;
    case FAM_BSF:
    case FAM_BSR:
        switch (rng_below(r, 8)) {
        case 0:
            b = 0;
            break;
        case 1:
        case 2:
            b = 1u << rng_below(r, w);
            break;
        case 3:
            b = (1u << rng_below(r, w)) | (1u << rng_below(r, w));
            break;
        default:
            break;
        }
        break;
    case FAM_CMPXCHG:
        /* Half the time the destination equals the accumulator (low bits
         * only: the rest of EAX must not matter). */
        if (rng_below(r, 2))
            a = c->r[EAX] & wmask(w);
        else
            c->r[EAX] = (c->r[EAX] & ~wmask(w)) | b;
        loc_put(c, f->dst, w, a);
        loc_put(c, f->src, w, gen_val(r, w));
        return;
    default:
        break;
    }
    loc_put(c, f->dst, w, a);
    loc_put(c, f->src, w, b);
}

/* ---- Defined flags (Intel SDM vol. 2, "Flags Affected") ------------------ */

static void expect_for(const HostForm *f, const Case *c, Expect *x)
{
    unsigned w = f->width;
    uint32_t mc = count_of(f, c) & 31; /* masked count */
    uint32_t fl = FL_ARITH;
    for (int k = 0; k < 8; k++)
        x->reg[k] = 0xFFFFFFFFu;

    switch (f->fam) {
    case FAM_AND:
    case FAM_OR:
    case FAM_XOR:
    case FAM_TEST:
        fl &= ~FL_AF;
        break;
    case FAM_ROL:
    case FAM_ROR:
    case FAM_RCL:
    case FAM_RCR:
        if (mc > 1)
            fl &= ~FL_OF;
        break;
    case FAM_SHL:
    case FAM_SHR:
    case FAM_SAR:
        if (mc != 0) {
            fl &= ~FL_AF;
            if (mc != 1)
                fl &= ~FL_OF;
            if (f->fam != FAM_SAR && mc >= w)
                fl &= ~FL_CF;
        }
        break;
    case FAM_SHLD:
    case FAM_SHRD:
        if (mc != 0) {
            fl &= ~FL_AF;
            if (mc != 1)
                fl &= ~FL_OF;
            if (mc >= w) { /* 16-bit only: result and flags undefined */
                fl = 0;
                if (f->dst != LOC_MEM)
                    x->reg[f->dst >> 1] &= ~wmask(w);
            }
        }
        break;
    case FAM_MUL:
    case FAM_IMUL1:
    case FAM_IMUL2:
    case FAM_IMUL3:
        fl = FL_CF | FL_OF;
        break;
    case FAM_DIV:
    case FAM_IDIV:
        fl = 0;
        break;
    case FAM_BT:
    case FAM_BTS:
    case FAM_BTR:
    case FAM_BTC:
        fl = FL_CF | FL_ZF;
        break;
    case FAM_BSF:
    case FAM_BSR:
        fl = FL_ZF;
        if (loc_get(c, f->src, w) == 0)
            x->reg[f->dst >> 1] &= ~wmask(w);
        break;
    default:
        break;
    }
    x->flags = fl;
}

static void print_undef_table(void)
{
    static const char *const rows[][2] = {
        {"AND OR XOR TEST", "AF"},
        {"SHL/SAL SHR SAR", "AF if masked count != 0; OF if masked count != 1; CF of SHL/SHR "
                            "if masked count >= width (8/16-bit)"},
        {"ROL ROR RCL RCR", "OF if masked count > 1 (count 0 affects no flag)"},
        {"SHLD SHRD", "AF if count != 0; OF if count != 1; 16-bit count >= 16: all flags and "
                      "the destination (80386 manual: >= size; current SDM: > size)"},
        {"MUL IMUL (1/2/3-op)", "SF ZF AF PF"},
        {"DIV IDIV", "CF OF SF ZF AF PF (all)"},
        {"BT BTS BTR BTC", "OF SF AF PF"},
        {"BSF BSR", "CF OF SF AF PF; the destination when the source is 0"},
        {"DAA DAS", "OF"},
        {"AAA AAS", "OF SF ZF PF"},
        {"AAM AAD", "OF AF CF"},
        {"ADD ADC SUB SBB CMP INC DEC NEG NOT CMPXCHG XADD INTO", "none"},
    };
    printf("Undefined flags not compared (Intel SDM vol. 2, \"Flags Affected\" of each "
           "instruction):\n");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        printf("  %-20s %s\n", rows[i][0], rows[i][1]);
    printf("Compared: EAX ECX EDX EBX EBP ESI EDI, the memory operand, EIP, the exception "
           "vector\nand the other arithmetic flags (CF PF AF ZF SF OF).  Half the cases run a "
           "flag\nproducer on EDI first; flags it leaves undefined are not compared then.\n\n");
}

static const char *undef_tag(Family fam)
{
    switch (fam) {
    case FAM_AND:
    case FAM_OR:
    case FAM_XOR:
    case FAM_TEST:
        return "AF";
    case FAM_SHL:
    case FAM_SHR:
    case FAM_SAR:
        return "AF OF (CF) by count";
    case FAM_ROL:
    case FAM_ROR:
    case FAM_RCL:
    case FAM_RCR:
        return "OF by count";
    case FAM_SHLD:
    case FAM_SHRD:
        return "AF OF (all) by count";
    case FAM_MUL:
    case FAM_IMUL1:
    case FAM_IMUL2:
    case FAM_IMUL3:
        return "SF ZF AF PF";
    case FAM_DIV:
    case FAM_IDIV:
        return "all";
    case FAM_BT:
    case FAM_BTS:
    case FAM_BTR:
    case FAM_BTC:
        return "OF SF AF PF";
    case FAM_BSF:
    case FAM_BSR:
        return "CF OF SF AF PF";
    default:
        return "-";
    }
}

/* ---- Kestrel ------------------------------------------------------------------ */

typedef FlatGuest Kes;

static void kes_init(Kes *k)
{
    flat_guest_init(k, RAM_SIZE, "oracle");
}

static void kes_free(Kes *k)
{
    flat_guest_free(k);
}

/* One instruction at `eip` with the case's registers, flags and memory;
 * when prod_eip is not 0, first the flag producer there, so that the
 * instruction meets the flags that one left. */
static void kes_run(Kes *k, uint32_t prod_eip, uint32_t eip, const Case *c, bool mem, Result *out)
{
    CpuState *cpu = k->cpu;
    for (int i = 0; i < 8; i++)
        cpu->regs[i] = c->r[i];
    cpu->regs[ESP] = STACK_TOP;
    cpu->eip = eip;
    cpu_set_eflags(cpu, 0x2 | (c->flags & FL_ARITH));
    if (mem)
        bus_write_phys(&k->bus, DATA_BASE + (uint32_t)c->mem_off, c->mem, MEMCMP);
    CpuExit e = CPU_EXIT_BUDGET;
    if (prod_eip) {
        cpu->eip = prod_eip;
        e = cpu_step(cpu);
        cpu->eip = eip;
    }
    if (e == CPU_EXIT_BUDGET)
        e = cpu_step(cpu);
    out->exc = e == CPU_EXIT_EXCEPTION ? cpu->exc_vector : e == CPU_EXIT_BUDGET ? -1 : 100 + (int)e;
    for (int i = 0; i < 8; i++)
        out->r[i] = cpu->regs[i];
    out->flags = cpu_get_eflags(cpu) & FL_ARITH;
    out->eip = cpu->eip;
    if (mem)
        bus_read_phys(&k->bus, DATA_BASE + (uint32_t)c->mem_off, out->mem, MEMCMP);
}

/* ---- Comparing and reporting -------------------------------------------------- */

static void flag_names(uint32_t fl, char *buf)
{
    static const struct {
        uint32_t bit;
        const char *n;
    } t[] = {{FL_CF, "CF"}, {FL_PF, "PF"}, {FL_AF, "AF"},
             {FL_ZF, "ZF"}, {FL_SF, "SF"}, {FL_OF, "OF"}};
    buf[0] = 0;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (fl & t[i].bit) {
            strcat(buf, buf[0] ? " " : "");
            strcat(buf, t[i].n);
        }
    if (!buf[0])
        strcpy(buf, "-");
}

static void print_state(const char *tag, const uint32_t *r, uint32_t flags, int exc, uint32_t eip)
{
    char fb[32];
    flag_names(flags & FL_ARITH, fb);
    printf("      %-8s eax=%08x ecx=%08x edx=%08x ebx=%08x fl=[%s]", tag, r[EAX], r[ECX], r[EDX],
           r[EBX], fb);
    if (exc >= 0)
        printf(" exc=%d", exc);
    printf(" eip=%08x\n", eip);
}

/* Compare; on a mismatch describe it in `why` and return false. */
static bool compare(const Expect *x, const Result *h, const Result *k, bool mem, char *why,
                    size_t n)
{
    size_t len = 0;
    why[0] = 0;
#define WHY(...) (len += (size_t)snprintf(why + len, len < n ? n - len : 0, __VA_ARGS__))
    if (h->exc != k->exc) {
        if (k->exc >= 100)
            WHY(" cpu_step returned exit %d;", k->exc - 100);
        else
            WHY(" exception %d vs %d;", h->exc, k->exc);
    }
    for (int i = 0; i < 8; i++)
        if ((h->r[i] ^ k->r[i]) & x->reg[i])
            WHY(" %s %08x vs %08x;", reg_names[i], h->r[i], k->r[i]);
    uint32_t fd = (h->flags ^ k->flags) & x->flags;
    if (fd) {
        char fb[32];
        flag_names(fd, fb);
        WHY(" flags %s;", fb);
    }
    if (h->eip != k->eip)
        WHY(" eip %08x vs %08x;", h->eip, k->eip);
    if (mem && memcmp(h->mem, k->mem, MEMCMP) != 0)
        WHY(" memory;");
#undef WHY
    return why[0] == 0;
}

/* Do host and Kestrel differ in what is not compared (undefined flags, an
 * undefined destination)?  Information for ORACLE_UNDEF, never a failure. */
static bool undef_differs(const Expect *x, const Result *h, const Result *k)
{
    bool d = (h->flags ^ k->flags) & ~x->flags & FL_ARITH;
    for (int i = 0; i < 8; i++)
        d |= ((h->r[i] ^ k->r[i]) & ~x->reg[i]) != 0;
    return d;
}

static void print_mem(const char *tag, int32_t off, const uint8_t *m)
{
    printf("      %-8s [esi%+d..]", tag, off);
    for (int i = 0; i < MEMCMP; i++)
        printf(" %02x", m[i]);
    printf("\n");
}

typedef struct Tally {
    char name[48];
    int cases, mismatches;
    int exceptions;   /* cases where the host raised an exception */
    int undef_differ; /* cases that differ in flags the SDM leaves undefined (not a failure) */
} Tally;

/* Parse a ".byte" list ("0x66,0x01,0xD8"). */
static int parse_enc(const char *s, uint8_t *out)
{
    int n = 0;
    while (*s) {
        char *end;
        out[n++] = (uint8_t)strtoul(s, &end, 16);
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

static void run_form(const HostForm *f, Tally *t)
{
    static uint8_t host_win[2 * WIN_HALF];
    Kes k;
    kes_init(&k);

    /* Code: one copy per immediate value, written once. */
    uint8_t enc[16];
    int base_len = parse_enc(f->guest_enc, enc);
    int len = base_len + f->imm_size;
    int nvar = f->imm_size ? f->n_imm : 1;
    for (int v = 0; v < nvar; v++) {
        uint32_t imm = f->imm_size ? f->imm_vals[v] : 0;
        for (int b = 0; b < f->imm_size; b++)
            enc[base_len + b] = (uint8_t)(imm >> (8 * b));
        bus_write_phys(&k.bus, CODE_BASE + 16u * (uint32_t)v, enc, (uint64_t)len);
    }

    for (int p = 0; p < n_host_producers; p++) {
        int n = parse_enc(host_producers[p].guest_enc, enc);
        bus_write_phys(&k.bus, PROD_BASE + 16u * (uint32_t)p, enc, (uint64_t)n);
    }

    /* The whole memory window starts out the same on both sides. */
    bool mem = has_mem(f);
    Rng r;
    rng_for(&r, f->name);
    if (mem) {
        for (size_t i = 0; i < sizeof(host_win); i++)
            host_win[i] = (uint8_t)rng_next32(&r);
        bus_write_phys(&k.bus, DATA_BASE - WIN_HALF, host_win, sizeof(host_win));
    }

    snprintf(t->name, sizeof(t->name), "%s", f->name);
    t->cases = t->mismatches = t->exceptions = t->undef_differ = 0;
    for (int i = 0; i < opt_cases; i++) {
        Case c;
        gen_case(f, &r, i, &c);
        c.r[ESI] = DATA_BASE;
        uint32_t eip = CODE_BASE + 16u * (uint32_t)c.imm_idx;
        /* Half the cases (after the edge prefix too) run a flag producer
         * first. */
        int prod = rng_below(&r, 2) ? (int)rng_below(&r, (uint32_t)n_host_producers) : -1;
        const HostProducer *hp = prod >= 0 ? &host_producers[prod] : NULL;
        if (hp)
            c.r[EDI] = gen_val(&r, 32);

        /* Host. */
        Result h;
        HostRegs hs = {.eax = c.r[EAX],
                       .ecx = c.r[ECX],
                       .edx = c.r[EDX],
                       .ebx = c.r[EBX],
                       .edi = c.r[EDI],
                       .flags = 0x202 | c.flags,
                       .mem = host_win + WIN_HALF};
        if (hp)
            host_run_producer(hp, &hs);
        uint32_t flags_mid = (uint32_t)hs.flags & FL_ARITH, edi_mid = hs.edi;
        if (mem)
            memcpy(host_win + WIN_HALF + c.mem_off, c.mem, MEMCMP);
        h.exc = host_run(f, c.imm_idx, &hs);
        memcpy(h.r, c.r, sizeof(h.r));
        h.r[ESP] = STACK_TOP;
        h.r[EAX] = hs.eax;
        h.r[ECX] = hs.ecx;
        h.r[EDX] = hs.edx;
        h.r[EBX] = hs.ebx;
        h.r[EDI] = edi_mid;
        h.flags = h.exc >= 0 ? flags_mid : (uint32_t)hs.flags & FL_ARITH;
        h.eip = h.exc >= 0 ? eip : eip + (uint32_t)len; /* #DE is a fault */
        if (mem)
            memcpy(h.mem, host_win + WIN_HALF + c.mem_off, MEMCMP);

        /* Kestrel. */
        Result kr;
        kes_run(&k, hp ? PROD_BASE + 16u * (uint32_t)prod : 0, eip, &c, mem, &kr);

        Expect x;
        expect_for(f, &c, &x);
        if (h.exc >= 0)
            x.flags = 0; /* a faulting instruction: flags are not the point */
        if (hp)
            x.flags &= ~hp->undef; /* a flag the producer left undefined may survive */
        char why[256];
        t->cases++;
        t->exceptions += h.exc >= 0;
        if (h.exc < 0 && kr.exc < 0 && undef_differs(&x, &h, &kr))
            t->undef_differ++;
        if (compare(&x, &h, &kr, mem, why, sizeof(why)))
            continue;
        t->mismatches++;
        if (t->mismatches <= (opt_verbose ? 50 : MAX_DETAILS)) {
            char fb[32];
            flag_names(c.flags, fb);
            printf("    MISMATCH %s case %d:%s\n", f->name, i, why);
            printf("      in       eax=%08x ecx=%08x edx=%08x ebx=%08x fl=[%s]", c.r[EAX], c.r[ECX],
                   c.r[EDX], c.r[EBX], fb);
            if (f->imm_size)
                printf(" imm=%#x", f->imm_vals[c.imm_idx]);
            if (f->cnt != CNT_NONE)
                printf(" count=%u", count_of(f, &c));
            printf("\n");
            if (hp) {
                flag_names(flags_mid, fb);
                printf("      after    %s (edi=%08x -> %08x): fl=[%s]\n", hp->name, c.r[EDI],
                       edi_mid, fb);
            }
            if (mem)
                print_mem("mem in", c.mem_off, c.mem);
            print_state("host", h.r, h.flags & x.flags, h.exc, h.eip);
            print_state("kestrel", kr.r, kr.flags & x.flags, kr.exc, kr.eip);
            if (mem) {
                print_mem("host", c.mem_off, h.mem);
                print_mem("kestrel", c.mem_off, kr.mem);
            }
        }
        /* Keep both sides' memory in step after a mismatch. */
        if (mem)
            bus_write_phys(&k.bus, DATA_BASE + (uint32_t)c.mem_off, h.mem, MEMCMP);
    }

    /* Stray writes anywhere in the window. */
    if (mem) {
        static uint8_t kwin[2 * WIN_HALF];
        bus_read_phys(&k.bus, DATA_BASE - WIN_HALF, kwin, sizeof(kwin));
        if (memcmp(kwin, host_win, sizeof(kwin)) != 0) {
            t->mismatches++;
            printf("    MISMATCH %s: memory window differs after the run (stray write)\n", f->name);
        }
    }
    kes_free(&k);
}

/* ---- BCD and INTO through the -m32 helper ------------------------------------- */

typedef struct BcdForm {
    const char *name;
    const char *undef;
    uint32_t undef_flags;
    uint32_t code; /* guest address (row of 256 for AAM/AAD, 16 bytes apart) */
    uint8_t op;
    bool imm;
} BcdForm;

static const BcdForm bcd_forms[] = {
    {"daa", "OF", FL_OF, BCD_CODE + 0x00, 0x27, false},
    {"das", "OF", FL_OF, BCD_CODE + 0x10, 0x2F, false},
    {"aaa", "OF SF ZF PF", FL_OF | FL_SF | FL_ZF | FL_PF, BCD_CODE + 0x20, 0x37, false},
    {"aas", "OF SF ZF PF", FL_OF | FL_SF | FL_ZF | FL_PF, BCD_CODE + 0x30, 0x3F, false},
    {"into", "-", 0, BCD_CODE + 0x40, 0xCE, false},
    {"aam imm8", "OF AF CF", FL_OF | FL_AF | FL_CF, BCD_CODE + 0x1000, 0xD4, true},
    {"aad imm8", "OF AF CF", FL_OF | FL_AF | FL_CF, BCD_CODE + 0x2000, 0xD5, true},
};
#define N_BCD ((int)(sizeof(bcd_forms) / sizeof(bcd_forms[0])))

/* INTO with OF = 1 is a software interrupt: Kestrel, like hardware,
 * delivers it rather than reporting it through trap_exceptions, and in a
 * machine without an IDT the delivery itself faults (#GP).  So the BCD
 * machine gets a GDT with flat segments (selectors 08 and 10, as
 * cpu_set_flat32 uses) and an IDT of 32-bit interrupt gates, gate k leading
 * to VEC_BASE + 16 k: where EIP lands tells the vector (SDM vol. 3, 6.11). */
static void kes_add_idt(Kes *k)
{
    static const uint8_t gdt[24] = {0,    0,    0, 0, 0, 0,    0,    0,
                                    0xFF, 0xFF, 0, 0, 0, 0x9A, 0xCF, 0,  /* 08: code, 4 GiB */
                                    0xFF, 0xFF, 0, 0, 0, 0x92, 0xCF, 0}; /* 10: data */
    bus_write_phys(&k->bus, GDT_BASE, gdt, sizeof(gdt));
    for (uint32_t v = 0; v < 256; v++) {
        uint32_t off = VEC_BASE + 16 * v;
        uint8_t g[8] = {(uint8_t)off,         (uint8_t)(off >> 8), 0x08, 0, 0, 0x8E,
                        (uint8_t)(off >> 16), (uint8_t)(off >> 24)};
        bus_write_phys(&k->bus, IDT_BASE + 8 * v, g, 8);
    }
    k->cpu->gdtr.base = GDT_BASE;
    k->cpu->gdtr.limit = sizeof(gdt) - 1;
    k->cpu->idtr.base = IDT_BASE;
    k->cpu->idtr.limit = 256 * 8 - 1;
}

static void run_bcd(const char *helper, Tally *t)
{
    Kes k;
    kes_init(&k);
    kes_add_idt(&k);
    for (int i = 0; i < N_BCD; i++) {
        const BcdForm *b = &bcd_forms[i];
        for (int v = 0; v < (b->imm ? 256 : 1); v++) {
            uint8_t enc[2] = {b->op, (uint8_t)v};
            bus_write_phys(&k.bus, b->code + 16u * (uint32_t)v, enc, b->imm ? 2 : 1);
        }
        snprintf(t[i].name, sizeof(t[i].name), "%s", b->name);
        t[i].cases = t[i].mismatches = t[i].exceptions = t[i].undef_differ = 0;
    }

    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "'%s' %" PRIu64 " %d", helper, opt_seed, opt_cases);
    FILE *p = popen(cmd, "r");
    if (!p) {
        printf("    cannot run %s: %s\n", helper, strerror(errno));
        t[0].mismatches = 1;
        return;
    }
    char line[256], name[32];
    unsigned imm, ein, fin, eout, fout, eipd;
    int vec;
    Rng r;
    rng_for(&r, "bcd32");
    int lines = 0;
    while (fgets(line, sizeof(line), p)) {
        if (sscanf(line, "%31s %u %x %x %x %x %d %u", name, &imm, &ein, &fin, &eout, &fout, &vec,
                   &eipd) != 8)
            continue;
        int fi = 0;
        while (fi < N_BCD && strncmp(bcd_forms[fi].name, name, strlen(name)) != 0)
            fi++;
        if (fi == N_BCD)
            continue;
        lines++;
        const BcdForm *b = &bcd_forms[fi];
        Case c;
        for (int j = 0; j < 8; j++)
            c.r[j] = rng_next32(&r);
        c.r[EAX] = ein;
        c.flags = fin & FL_ARITH;
        c.mem_off = 0;
        uint32_t eip = b->code + (b->imm ? 16u * imm : 0);
        uint32_t len = b->imm ? 2 : 1;

        Result h, kr;
        memcpy(h.r, c.r, sizeof(h.r));
        h.r[ESP] = STACK_TOP;
        h.r[EAX] = eout;
        h.flags = fout & FL_ARITH;
        h.exc = vec;
        h.eip = vec == 0 ? eip : eip + len; /* #DE (AAM 0) is a fault */
        kes_run(&k, 0, eip, &c, false, &kr);

        Expect x;
        for (int j = 0; j < 8; j++)
            x.reg[j] = 0xFFFFFFFFu;
        x.flags = vec >= 0 ? 0 : FL_ARITH & ~b->undef_flags;
        char why[256] = "";
        if (vec == EXC_OF) {
            /* Delivered through the IDT: EIP at the vector-4 handler, EFLAGS
             * CS EIP pushed, the pushed EIP where the host's trap left it
             * (after INTO: a trap, SDM vol. 3 table 6-1). */
            h.exc = -1;
            h.eip = VEC_BASE + 16 * EXC_OF;
            h.r[ESP] = STACK_TOP - 12;
            uint8_t st[4];
            bus_read_phys(&k.bus, STACK_TOP - 12, st, 4);
            uint32_t pushed = st[0] | st[1] << 8 | st[2] << 16 | (uint32_t)st[3] << 24;
            if (kr.exc < 0 && pushed != eip + eipd)
                snprintf(why, sizeof(why), " pushed EIP %08x vs %08x;", eip + eipd, pushed);
        }
        t[fi].cases++;
        t[fi].exceptions += vec >= 0;
        if (vec < 0 && kr.exc < 0 && undef_differs(&x, &h, &kr))
            t[fi].undef_differ++;
        size_t wl = strlen(why);
        if (compare(&x, &h, &kr, false, why + wl, sizeof(why) - wl) && !why[0])
            continue;
        if (++t[fi].mismatches <= (opt_verbose ? 50 : MAX_DETAILS)) {
            char fb[32];
            flag_names(c.flags, fb);
            printf("    MISMATCH %s imm=%u:%s\n      in       eax=%08x fl=[%s]\n", b->name, imm,
                   why, ein, fb);
            print_state("host", h.r, h.flags & x.flags, h.exc, h.eip);
            print_state("kestrel", kr.r, kr.flags & x.flags, kr.exc, kr.eip);
        }
    }
    int st = pclose(p);
    if (st != 0 || lines == 0) {
        printf("    helper %s failed (status %d, %d lines)\n", helper, st, lines);
        t[0].mismatches++;
    }
    kes_free(&k);
}

/* ---- Driver --------------------------------------------------------------------- */

/* Run `fn` in a child so that a crash or hang fails only these forms.  The
 * child sends its tallies through a pipe. */
static int run_isolated(void (*fn)(const void *, Tally *), const void *arg, Tally *t, int nt)
{
    if (getenv("ORACLE_NOFORK")) {
        fn(arg, t);
        return 0;
    }
    int pfd[2];
    fflush(stdout);
    if (pipe(pfd) != 0) {
        perror("pipe");
        exit(2);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        close(pfd[0]);
        alarm(FORM_TIMEOUT);
        fn(arg, t);
        fflush(stdout);
        ssize_t wr = write(pfd[1], t, sizeof(*t) * (size_t)nt);
        _exit(wr == (ssize_t)(sizeof(*t) * (size_t)nt) ? 0 : 3);
    }
    close(pfd[1]);
    size_t got = 0, want = sizeof(*t) * (size_t)nt;
    while (got < want) {
        ssize_t n = read(pfd[0], (char *)t + got, want - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(pfd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (got == want && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFSIGNALED(status))
        return WTERMSIG(status);
    return -1;
}

static void form_thunk(const void *arg, Tally *t)
{
    run_form(arg, t);
}
static void bcd_thunk(const void *arg, Tally *t)
{
    run_bcd(arg, t);
}

static bool opt_undef; /* ORACLE_UNDEF=1: also count undefined-flag differences */

static void print_tally(const Tally *t, const char *undef)
{
    printf("%-34s %7d %10d  %s", t->name, t->cases, t->mismatches, undef);
    if (t->exceptions)
        printf("; host raised an exception in %d", t->exceptions);
    if (opt_undef && t->undef_differ)
        printf("; undefined flags/result differ in %d", t->undef_differ);
    printf("\n");
}

static bool selected(const char *name, int nfilt, char **filt)
{
    if (nfilt == 0)
        return true;
    for (int i = 0; i < nfilt; i++)
        if (strstr(name, filt[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    const char *helper = NULL;
    char **filt = calloc((size_t)argc, sizeof(char *));
    int nfilt = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--helper") && i + 1 < argc)
            helper = argv[++i];
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            opt_cases = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-v"))
            opt_verbose = 1;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: oracle [--helper PATH] [-n CASES] [-v] [FILTER...]\n"
                            "  FILTER: run only forms whose name contains it\n"
                            "  env ORACLE_SEED, ORACLE_UNDEF=1, ORACLE_NOFORK=1\n");
            return 2;
        } else
            filt[nfilt++] = argv[i];
    }
    opt_seed = rng_seed_env("ORACLE_SEED", opt_seed);
    opt_undef = getenv("ORACLE_UNDEF") && atoi(getenv("ORACLE_UNDEF")) > 0;
    if (opt_cases <= 0) {
        fprintf(stderr, "oracle: -n needs a positive number\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    host_init();

    printf("oracle: host CPU vs Kestrel, seed %#" PRIx64 " (ORACLE_SEED), %d cases per form\n",
           opt_seed, opt_cases);
    print_undef_table();
    printf("%-34s %7s %10s  %s\n", "form", "cases", "mismatches", "undefined (not compared)");

    int passed = 0, failed = 0;
    long total_cases = 0, total_mism = 0;
    for (int i = 0; i < n_host_forms; i++) {
        const HostForm *f = &host_forms[i];
        if (!selected(f->name, nfilt, filt))
            continue;
        Tally t;
        memset(&t, 0, sizeof(t));
        int rc = run_isolated(form_thunk, f, &t, 1);
        if (rc != 0) {
            printf("%-34s %7s %10s  (%s %d)\n", f->name, "-", "CRASH", rc > 0 ? "signal" : "status",
                   rc);
            failed++;
            continue;
        }
        print_tally(&t, undef_tag(f->fam));
        total_cases += t.cases;
        total_mism += t.mismatches;
        if (t.mismatches)
            failed++;
        else
            passed++;
    }

    bool want_bcd = false;
    for (int i = 0; i < N_BCD; i++)
        want_bcd |= selected(bcd_forms[i].name, nfilt, filt);
    if (want_bcd && !helper) {
        printf("%-34s %7s %10s  (no --helper: the -m32 helper was not built)\n",
               "daa das aaa aas aam aad into", "-", "NOT RUN");
        failed += N_BCD;
    } else if (want_bcd) {
        Tally t[N_BCD];
        memset(t, 0, sizeof(t));
        int rc = run_isolated(bcd_thunk, helper, t, N_BCD);
        for (int i = 0; i < N_BCD; i++) {
            if (rc != 0) {
                printf("%-34s %7s %10s  (%s %d)\n", bcd_forms[i].name, "-", "CRASH",
                       rc > 0 ? "signal" : "status", rc);
                failed++;
                continue;
            }
            print_tally(&t[i], bcd_forms[i].undef);
            total_cases += t[i].cases;
            total_mism += t[i].mismatches;
            if (t[i].mismatches || t[i].cases == 0)
                failed++;
            else
                passed++;
        }
    }

    if (passed + failed == 0) {
        fprintf(stderr, "oracle: no form matches the filter\n");
        return 2;
    }
    printf("\n%ld cases, %ld mismatching\n", total_cases, total_mism);
    printf("%d passed, %d failed (counted in forms)\n", passed, failed);
    free(filt);
    return failed ? 1 : 0;
}
