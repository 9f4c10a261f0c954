/* Execution trace (see trace.h).  Capstone disassembles each instruction
 * from the guest's memory as the CPU is about to run it, in the code size
 * the CPU is in (16-bit in real mode, V86 mode and 16-bit code segments). */
#include "frontends/trace.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RANGES 32

typedef struct Range {
    uint32_t lo, hi; /* inclusive */
} Range;

struct Trace {
    unsigned what;
    FILE *out;
    csh cs16, cs32;
    cs_insn *insn;
    Range ranges[MAX_RANGES];
    int n_ranges;
};

static bool parse_u32(const char *s, const char *end, uint32_t *v)
{
    char buf[32];
    size_t n = (size_t)(end - s);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *e;
    errno = 0;
    unsigned long long x = strtoull(buf, &e, 0);
    if (*e || errno || x > 0xFFFFFFFFull)
        return false;
    *v = (uint32_t)x;
    return true;
}

bool trace_filter_parse(Trace *t, const char *spec, char *err, size_t errlen)
{
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *dots = NULL, *plus = NULL;
        for (const char *q = p; q < end; q++) {
            if (q + 1 < end && q[0] == '.' && q[1] == '.' && !dots)
                dots = q;
            else if (*q == '+' && !plus)
                plus = q;
        }
        uint32_t a, b;
        bool ok;
        if (dots) {
            ok = parse_u32(p, dots, &a) && parse_u32(dots + 2, end, &b) && b >= a;
        } else if (plus) {
            uint32_t len;
            ok = parse_u32(p, plus, &a) && parse_u32(plus + 1, end, &len) && len > 0 &&
                 (uint64_t)a + len - 1 <= 0xFFFFFFFFull;
            b = ok ? a + len - 1 : 0;
        } else {
            ok = parse_u32(p, end, &a);
            b = a;
        }
        if (!ok || t->n_ranges >= MAX_RANGES) {
            snprintf(err, errlen, "invalid -dfilter range '%.*s'", (int)(end - p), p);
            return false;
        }
        t->ranges[t->n_ranges++] = (Range){a, b};
        p = *end ? end + 1 : end;
    }
    return true;
}

static bool in_filter(const Trace *t, uint32_t lin)
{
    if (t->n_ranges == 0)
        return true;
    for (int k = 0; k < t->n_ranges; k++)
        if (lin >= t->ranges[k].lo && lin <= t->ranges[k].hi)
            return true;
    return false;
}

static void dump_cpu(Trace *t, CpuState *c)
{
    const uint32_t *r = c->regs;
    fprintf(t->out,
            "EAX=%08" PRIx32 " EBX=%08" PRIx32 " ECX=%08" PRIx32 " EDX=%08" PRIx32 "\n"
            "ESI=%08" PRIx32 " EDI=%08" PRIx32 " EBP=%08" PRIx32 " ESP=%08" PRIx32 "\n"
            "EIP=%08" PRIx32 " EFL=%08" PRIx32 " CPL=%d CR0=%08" PRIx32 " CR2=%08" PRIx32
            " CR3=%08" PRIx32 " CR4=%08" PRIx32 "\n"
            "ES=%04x CS=%04x SS=%04x DS=%04x FS=%04x GS=%04x\n",
            r[R_EAX], r[R_EBX], r[R_ECX], r[R_EDX], r[R_ESI], r[R_EDI], r[R_EBP], r[R_ESP],
            c->eip, cpu_get_eflags(c), c->cpl, c->cr0, c->cr2, c->cr3, c->cr4,
            c->seg[SEG_ES].sel, c->seg[SEG_CS].sel, c->seg[SEG_SS].sel, c->seg[SEG_DS].sel,
            c->seg[SEG_FS].sel, c->seg[SEG_GS].sel);
}

/* Up to 15 bytes at lin, fewer if a later page is not mapped. */
static size_t fetch(CpuState *c, uint32_t lin, uint8_t *buf)
{
    size_t n = 15;
    while (n > 0 && !cpu_read_virt(c, lin, buf, (uint32_t)n)) {
        size_t to_page = 0x1000 - (lin & 0xFFF);
        n = n > to_page ? to_page : n - 1;
    }
    return n;
}

static void on_insn(void *opaque, CpuState *c)
{
    Trace *t = opaque;
    uint32_t lin = c->seg[SEG_CS].base + c->eip;
    if (!in_filter(t, lin))
        return;
    if (t->what & TRACE_CPU)
        dump_cpu(t, c);
    if (!(t->what & TRACE_EXEC))
        return;
    uint8_t buf[16];
    size_t n = fetch(c, lin, buf);
    const uint8_t *code = buf;
    uint64_t addr = c->eip;
    size_t left = n;
    bool ok = n > 0 && cs_disasm_iter(c->code32 ? t->cs32 : t->cs16, &code, &left, &addr, t->insn);
    fprintf(t->out, "%04x:%08" PRIx32 " ", c->seg[SEG_CS].sel, c->eip);
    if (!ok) {
        fprintf(t->out, "%s\n", n ? "(not decodable: #UD)" : "(not mapped)");
        return;
    }
    char hex[3 * 16 + 1] = "";
    for (uint16_t k = 0; k < t->insn->size; k++)
        snprintf(hex + 2 * k, sizeof hex - 2 * k, "%02x", t->insn->bytes[k]);
    fprintf(t->out, "%-30s %s%s%s\n", hex, t->insn->mnemonic, t->insn->op_str[0] ? " " : "",
            t->insn->op_str);
}

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", NULL, "#TS",
    "#NP", "#SS", "#GP", "#PF", NULL,  "#MF", "#AC", "#MC", "#XM",
};

static void on_event(void *opaque, CpuState *c, int vector, CpuEventKind kind, bool has_code,
                     uint32_t code)
{
    Trace *t = opaque;
    if (!(t->what & TRACE_INT))
        return;
    static const char *const kinds[] = {"exception", "interrupt", "software"};
    const char *name = (kind != CPU_EV_SOFTWARE && vector < 32) ? exc_names[vector] : NULL;
    fprintf(t->out, "int: vector 0x%02x%s%s (%s) at %04x:%08" PRIx32, vector, name ? " " : "",
            name ? name : "", kinds[kind], c->seg[SEG_CS].sel, c->eip);
    if (has_code)
        fprintf(t->out, " error 0x%04" PRIx32, code);
    if (vector == EXC_PF && kind == CPU_EV_EXCEPTION)
        fprintf(t->out, " cr2 %08" PRIx32, c->cr2);
    fputc('\n', t->out);
}

Trace *trace_new(unsigned what, FILE *out, char *err, size_t errlen)
{
    Trace *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->what = what;
    t->out = out;
    if (cs_open(CS_ARCH_X86, CS_MODE_16, &t->cs16) != CS_ERR_OK) {
        snprintf(err, errlen, "cannot open the Capstone disassembler");
        free(t);
        return NULL;
    }
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &t->cs32) != CS_ERR_OK) {
        cs_close(&t->cs16);
        snprintf(err, errlen, "cannot open the Capstone disassembler");
        free(t);
        return NULL;
    }
    t->insn = cs_malloc(t->cs32);
    if (!t->insn) {
        cs_close(&t->cs16);
        cs_close(&t->cs32);
        snprintf(err, errlen, "out of memory");
        free(t);
        return NULL;
    }
    return t;
}

void trace_attach(Trace *t, CpuState *c)
{
    c->trace_opaque = t;
    c->trace_event = (t->what & TRACE_INT) ? on_event : NULL;
    c->trace_insn = (t->what & (TRACE_EXEC | TRACE_CPU)) ? on_insn : NULL;
}

void trace_free(Trace *t)
{
    if (!t)
        return;
    cs_free(t->insn, 1);
    cs_close(&t->cs16);
    cs_close(&t->cs32);
    free(t);
}
