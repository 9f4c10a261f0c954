/* The i386 target description: see gdb_i386.h.  The XML follows the GDB
 * manual, appendix "Target Descriptions" (format, predefined types, and
 * "Standard Target Features": i386 Features). */
#include "frontends/gdb_i386.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

enum { FEAT_CORE, FEAT_SSE, FEAT_SYS, NUM_FEATURES };

/* gdb's i386 layout numbers xmm0 32 and mxcsr 40 (its 32bit-sse.xml). */
_Static_assert(GDB_REG_XMM0 == 32 && GDB_REG_MXCSR == 40, "gdb's i386 register numbers");

static const char *const feature_names[NUM_FEATURES] = {
    "org.gnu.gdb.i386.core",
    "org.gnu.gdb.i386.sse",
    /* gdb has no standard feature for the i386 control registers; an
     * unknown feature is shown as it is described. */
    "org.kestrel.i386.sys",
};

// clang-format off
#define GPR(n, t) {n, 32, t, NULL, FEAT_CORE}
#define X87(n, bits, t) {n, bits, t, "float", FEAT_CORE}
#define XMM(n) {n, 128, "vec128", NULL, FEAT_SSE}
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
    [GDB_REG_XMM0 + 0] = XMM("xmm0"),
    [GDB_REG_XMM0 + 1] = XMM("xmm1"),
    [GDB_REG_XMM0 + 2] = XMM("xmm2"),
    [GDB_REG_XMM0 + 3] = XMM("xmm3"),
    [GDB_REG_XMM0 + 4] = XMM("xmm4"),
    [GDB_REG_XMM0 + 5] = XMM("xmm5"),
    [GDB_REG_XMM0 + 6] = XMM("xmm6"),
    [GDB_REG_XMM0 + 7] = XMM("xmm7"),
    [GDB_REG_MXCSR] = {"mxcsr", 32, "i386_mxcsr", "vector", FEAT_SSE},
    [GDB_REG_CR0] = SYS("cr0", "i386_cr0"),
    [GDB_REG_CR2] = SYS("cr2", "data_ptr"),
    [GDB_REG_CR3] = SYS("cr3", "uint32"),
    [GDB_REG_CR4] = SYS("cr4", "i386_cr4"),
};

typedef struct Flag {
    const char *name;
    int start, end; /* bit range */
} Flag;

// clang-format off
#define BIT(n, b) {n, b, b}
#define END {NULL, 0, 0}
// clang-format on

/* EFLAGS (SDM vol. 1, 3.4.3), as gdb's own 32bit-core.xml names them. */
static const Flag eflags_bits[] = {
    BIT("CF", 0),  BIT("", 1),    BIT("PF", 2),   BIT("AF", 4),   BIT("ZF", 6),  BIT("SF", 7),
    BIT("TF", 8),  BIT("IF", 9),  BIT("DF", 10),  BIT("OF", 11),  BIT("NT", 14), BIT("RF", 16),
    BIT("VM", 17), BIT("AC", 18), BIT("VIF", 19), BIT("VIP", 20), BIT("ID", 21), END,
};
/* CR0 and CR4 (SDM vol. 3, 2.5). */
static const Flag cr0_bits[] = {
    BIT("PE", 0),  BIT("MP", 1),  BIT("EM", 2),  BIT("TS", 3),  BIT("ET", 4),  BIT("NE", 5),
    BIT("WP", 16), BIT("AM", 18), BIT("NW", 29), BIT("CD", 30), BIT("PG", 31), END,
};
/* MXCSR (SDM vol. 1, 10.2.3): the flags, DAZ, the masks, the 2-bit
 * rounding control and FZ.  gdb's 32bit-sse.xml leaves RC out; a
 * multi-bit field shows as RC=n. */
static const Flag mxcsr_bits[] = {
    BIT("IE", 0),  BIT("DE", 1),   BIT("ZE", 2),  BIT("OE", 3), BIT("UE", 4),  BIT("PE", 5),
    BIT("DAZ", 6), BIT("IM", 7),   BIT("DM", 8),  BIT("ZM", 9), BIT("OM", 10), BIT("UM", 11),
    BIT("PM", 12), {"RC", 13, 14}, BIT("FZ", 15), END,
};
static const Flag cr4_bits[] = {
    BIT("VME", 0), BIT("PVI", 1),    BIT("TSD", 2),         BIT("DE", 3),
    BIT("PSE", 4), BIT("PAE", 5),    BIT("MCE", 6),         BIT("PGE", 7),
    BIT("PCE", 8), BIT("OSFXSR", 9), BIT("OSXMMEXCPT", 10), END,
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
        out_printf(o, "<field name=\"%s\" start=\"%d\" end=\"%d\"/>", f->name, f->start, f->end);
    out_printf(o, "</flags>\n");
}

/* The vec128 union of gdb's i386 SSE feature (manual, "i386 Features";
 * the field names are those gdb's own 32bit-sse.xml uses, so that
 * `p $xmm1.v4_int32` works as with a native target).  The bfloat16 and
 * half-precision views of gdb 12 and later are left out: an older gdb
 * rejects a whole description that names a type it does not know. */
static void out_vec128(Out *o)
{
    static const struct {
        const char *field, *id, *elem;
        int count;
    } views[] = {
        {"v4_float", "v4f", "ieee_single", 4}, {"v2_double", "v2d", "ieee_double", 2},
        {"v16_int8", "v16i8", "int8", 16},     {"v8_int16", "v8i16", "int16", 8},
        {"v4_int32", "v4i32", "int32", 4},     {"v2_int64", "v2i64", "int64", 2},
    };
    enum { NVIEWS = sizeof views / sizeof views[0] };
    for (int k = 0; k < NVIEWS; k++)
        out_printf(o, "<vector id=\"%s\" type=\"%s\" count=\"%d\"/>\n", views[k].id, views[k].elem,
                   views[k].count);
    out_printf(o, "<union id=\"vec128\">");
    for (int k = 0; k < NVIEWS; k++)
        out_printf(o, "<field name=\"%s\" type=\"%s\"/>", views[k].field, views[k].id);
    out_printf(o, "<field name=\"uint128\" type=\"uint128\"/></union>\n");
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
        if (f == FEAT_SSE) {
            out_vec128(&o);
            out_flags(&o, "i386_mxcsr", mxcsr_bits);
        }
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
