/* The i386 target description: see gdb_i386.h.  The XML follows the GDB
 * manual, appendix "Target Descriptions" (format, predefined types, and
 * "Standard Target Features": i386 Features). */
#include "frontends/gdb_i386.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

enum { FEAT_CORE, FEAT_SYS, NUM_FEATURES };

static const char *const feature_names[NUM_FEATURES] = {
    "org.gnu.gdb.i386.core",
    /* gdb has no standard feature for the i386 control registers; an
     * unknown feature is shown as it is described. */
    "org.kestrel.i386.sys",
};

// clang-format off
#define GPR(n, t) {n, 32, t, NULL, FEAT_CORE}
#define X87(n, bits, t) {n, bits, t, "float", FEAT_CORE}
#define SYS(n, t) {n, 32, t, "system", FEAT_SYS}
// clang-format on

const GdbRegInfo gdb_i386_regs[GDB_NUM_REGS] = {
    [GDB_REG_EAX] = GPR("eax", "int32"),
    [GDB_REG_ECX] = GPR("ecx", "int32"),
    [GDB_REG_EDX] = GPR("edx", "int32"),
    [GDB_REG_EBX] = GPR("ebx", "int32"),
    [GDB_REG_ESP] = GPR("esp", "data_ptr"),
    [GDB_REG_EBP] = GPR("ebp", "data_ptr"),
    [GDB_REG_ESI] = GPR("esi", "int32"),
    [GDB_REG_EDI] = GPR("edi", "int32"),
    [GDB_REG_EIP] = GPR("eip", "code_ptr"),
    [GDB_REG_EFLAGS] = GPR("eflags", "i386_eflags"),
    [GDB_REG_CS] = GPR("cs", "int32"),
    [GDB_REG_SS] = GPR("ss", "int32"),
    [GDB_REG_DS] = GPR("ds", "int32"),
    [GDB_REG_ES] = GPR("es", "int32"),
    [GDB_REG_FS] = GPR("fs", "int32"),
    [GDB_REG_GS] = GPR("gs", "int32"),
    [GDB_REG_ST0 + 0] = X87("st0", 80, "i387_ext"),
    [GDB_REG_ST0 + 1] = X87("st1", 80, "i387_ext"),
    [GDB_REG_ST0 + 2] = X87("st2", 80, "i387_ext"),
    [GDB_REG_ST0 + 3] = X87("st3", 80, "i387_ext"),
    [GDB_REG_ST0 + 4] = X87("st4", 80, "i387_ext"),
    [GDB_REG_ST0 + 5] = X87("st5", 80, "i387_ext"),
    [GDB_REG_ST0 + 6] = X87("st6", 80, "i387_ext"),
    [GDB_REG_ST0 + 7] = X87("st7", 80, "i387_ext"),
    [GDB_REG_FCTRL] = X87("fctrl", 32, "int"),
    [GDB_REG_FSTAT] = X87("fstat", 32, "int"),
    [GDB_REG_FTAG] = X87("ftag", 32, "int"),
    [GDB_REG_FISEG] = X87("fiseg", 32, "int"),
    [GDB_REG_FIOFF] = X87("fioff", 32, "int"),
    [GDB_REG_FOSEG] = X87("foseg", 32, "int"),
    [GDB_REG_FOOFF] = X87("fooff", 32, "int"),
    [GDB_REG_FOP] = X87("fop", 32, "int"),
    [GDB_REG_CR0] = SYS("cr0", "i386_cr0"),
    [GDB_REG_CR2] = SYS("cr2", "data_ptr"),
    [GDB_REG_CR3] = SYS("cr3", "uint32"),
    [GDB_REG_CR4] = SYS("cr4", "i386_cr4"),
};

typedef struct Flag {
    const char *name;
    int bit;
} Flag;

/* EFLAGS (SDM vol. 1, 3.4.3), as gdb's own 32bit-core.xml names them. */
static const Flag eflags_bits[] = {
    {"CF", 0},  {"", 1},    {"PF", 2},   {"AF", 4},   {"ZF", 6},  {"SF", 7},
    {"TF", 8},  {"IF", 9},  {"DF", 10},  {"OF", 11},  {"NT", 14}, {"RF", 16},
    {"VM", 17}, {"AC", 18}, {"VIF", 19}, {"VIP", 20}, {"ID", 21}, {NULL, 0},
};
/* CR0 and CR4 (SDM vol. 3, 2.5). */
static const Flag cr0_bits[] = {
    {"PE", 0},  {"MP", 1},  {"EM", 2},  {"TS", 3},  {"ET", 4},  {"NE", 5},
    {"WP", 16}, {"AM", 18}, {"NW", 29}, {"CD", 30}, {"PG", 31}, {NULL, 0},
};
static const Flag cr4_bits[] = {
    {"VME", 0}, {"PVI", 1}, {"TSD", 2}, {"DE", 3},     {"PSE", 4},         {"PAE", 5},
    {"MCE", 6}, {"PGE", 7}, {"PCE", 8}, {"OSFXSR", 9}, {"OSXMMEXCPT", 10}, {NULL, 0},
};

typedef struct Out {
    char *buf;
    size_t cap, len;
    bool full;
} Out;

static void out_printf(Out *o, const char *fmt, ...)
{
    if (o->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->full = true;
    else
        o->len += (size_t)n;
}

static void out_flags(Out *o, const char *id, const Flag *f)
{
    out_printf(o, "<flags id=\"%s\" size=\"4\">", id);
    for (; f->name; f++)
        out_printf(o, "<field name=\"%s\" start=\"%d\" end=\"%d\"/>", f->name, f->bit, f->bit);
    out_printf(o, "</flags>\n");
}

size_t gdb_i386_target_xml(char *buf, size_t cap)
{
    if (cap == 0)
        return 0;
    Out o = {buf, cap, 0, false};
    out_printf(&o, "<?xml version=\"1.0\"?>\n"
                   "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
                   "<target version=\"1.0\">\n"
                   "<architecture>i386</architecture>\n");
    for (int f = 0; f < NUM_FEATURES; f++) {
        out_printf(&o, "<feature name=\"%s\">\n", feature_names[f]);
        if (f == FEAT_CORE)
            out_flags(&o, "i386_eflags", eflags_bits);
        if (f == FEAT_SYS) {
            out_flags(&o, "i386_cr0", cr0_bits);
            out_flags(&o, "i386_cr4", cr4_bits);
        }
        for (int r = 0; r < GDB_NUM_REGS; r++) {
            const GdbRegInfo *ri = &gdb_i386_regs[r];
            if (ri->feature != f)
                continue;
            out_printf(&o, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%d\"", ri->name,
                       (unsigned)ri->bits, ri->type, r);
            if (ri->group)
                out_printf(&o, " group=\"%s\"", ri->group);
            out_printf(&o, "/>\n");
        }
        out_printf(&o, "</feature>\n");
    }
    out_printf(&o, "</target>\n");
    return o.full ? 0 : o.len;
}
