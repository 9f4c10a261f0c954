/* The i386 register set Kestrel shows to gdb and its target description.
 *
 * One table is the truth for three things: the register numbers of the
 * p/P packets, the layout of the g/G packets, and target.xml.  GDB's i386
 * architecture accepts a description only if its org.gnu.gdb.i386.core
 * feature also lists the x87 registers (without them gdb prints
 * "Architecture rejected target-supplied description" and falls back to a
 * guess), so st0-st7 and the x87 control registers are described; until
 * the FPU exists the stub reports them as unavailable ('x' digits), which
 * gdb shows as <unavailable>.
 *
 * Adding registers later: SSE is the feature org.gnu.gdb.i386.sse (xmm0-7
 * of the vec128 union type, then mxcsr as i386_mxcsr flags); add the enum
 * values after GDB_REG_FOP, rows to gdb_i386_regs[], the feature and types
 * to gdb_i386.c, and the accessors to frontends/gdbstub.c. */
#ifndef KESTREL_FRONTENDS_GDB_I386_H
#define KESTREL_FRONTENDS_GDB_I386_H

#include <stddef.h>
#include <stdint.h>

typedef enum GdbReg {
    /* org.gnu.gdb.i386.core: general registers in gdb's (= encoding) order */
    GDB_REG_EAX,
    GDB_REG_ECX,
    GDB_REG_EDX,
    GDB_REG_EBX,
    GDB_REG_ESP,
    GDB_REG_EBP,
    GDB_REG_ESI,
    GDB_REG_EDI,
    GDB_REG_EIP,
    GDB_REG_EFLAGS,
    GDB_REG_CS,
    GDB_REG_SS,
    GDB_REG_DS,
    GDB_REG_ES,
    GDB_REG_FS,
    GDB_REG_GS,
    /* org.gnu.gdb.i386.core, continued: the x87 stack and control words */
    GDB_REG_ST0,
    GDB_REG_ST7 = GDB_REG_ST0 + 7,
    GDB_REG_FCTRL,
    GDB_REG_FSTAT,
    GDB_REG_FTAG,
    GDB_REG_FISEG,
    GDB_REG_FIOFF,
    GDB_REG_FOSEG,
    GDB_REG_FOOFF,
    GDB_REG_FOP,
    /* (org.gnu.gdb.i386.sse goes here) */
    /* org.kestrel.i386.sys: control registers */
    GDB_REG_CR0,
    GDB_REG_CR2,
    GDB_REG_CR3,
    GDB_REG_CR4,
    GDB_NUM_REGS
} GdbReg;

/* Largest register in bytes (st0-st7: 80 bits). */
#define GDB_REG_MAX_BYTES 10

typedef struct GdbRegInfo {
    const char *name;
    uint16_t bits;
    const char *type;  /* gdb's predefined type or one defined in the XML */
    const char *group; /* NULL: gdb's default */
    uint8_t feature;   /* index into the feature list in gdb_i386.c */
} GdbRegInfo;

extern const GdbRegInfo gdb_i386_regs[GDB_NUM_REGS];

/* Bytes of register `r` (a valid GdbReg). */
static inline unsigned gdb_i386_reg_bytes(int r)
{
    return gdb_i386_regs[r].bits / 8u;
}

/* Write target.xml into buf; returns its length, or 0 if cap is too small. */
size_t gdb_i386_target_xml(char *buf, size_t cap);

#endif
