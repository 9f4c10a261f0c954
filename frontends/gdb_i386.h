/* The i386 register set Kestrel shows to gdb and its target description.
 *
 * One table is the truth for three things: the register numbers of the
 * p/P packets, the layout of the g/G packets, and target.xml.  The
 * features are those of the GDB manual, appendix "Target Descriptions",
 * "i386 Features":
 *
 *   org.gnu.gdb.i386.core  (required) eax..edi, eip, eflags, the segment
 *       selectors, st0-st7 and the x87 control registers.  GDB rejects a
 *       description whose core feature lacks the x87 registers ("Architecture
 *       rejected target-supplied description").
 *   org.gnu.gdb.i386.sse   xmm0-xmm7 (vec128) and mxcsr (i386_mxcsr).
 *   org.kestrel.i386.sys   cr0, cr2, cr3, cr4 (gdb has no standard feature
 *       for them; it shows an unknown feature's registers as described).
 *
 * The numbering is gdb's own i386 layout (its 32bit-core.xml and
 * 32bit-sse.xml): general registers 0-15, st0-st7 16-23, fctrl..fop 24-31,
 * xmm0-xmm7 32-39, mxcsr 40; Kestrel's system registers follow from 41.
 * target.xml gives every regnum explicitly. */
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
    /* org.gnu.gdb.i386.sse */
    GDB_REG_XMM0,
    GDB_REG_XMM7 = GDB_REG_XMM0 + 7,
    GDB_REG_MXCSR,
    /* org.kestrel.i386.sys: control registers */
    GDB_REG_CR0,
    GDB_REG_CR2,
    GDB_REG_CR3,
    GDB_REG_CR4,
    GDB_NUM_REGS
} GdbReg;

/* Largest register in bytes (xmm0-xmm7: 128 bits). */
#define GDB_REG_MAX_BYTES 16

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
