/* Decoder interface (decode.c). */
#ifndef KESTREL_CPU_DECODE_H
#define KESTREL_CPU_DECODE_H

#include "cpu/cpu_impl.h"

enum {
    DECODE_UD = -1,       /* undefined or illegal encoding: #UD */
    DECODE_SHORT = -2,    /* the buffer ended before the instruction did */
    DECODE_TOO_LONG = -3, /* longer than 15 bytes: #GP(0) */
};

/* Decode one instruction from a byte buffer; `code32` is CS.D.  Returns the
 * length, or a DECODE_* code.  Even on DECODE_UD / DECODE_TOO_LONG, `out`
 * holds a handler that raises the right exception and a length. */
int decode_bytes(const uint8_t *bytes, int avail, bool code32, Insn *out);
/* The same, also returning the opcode-table entry (opaque) it used. */
int decode_full(const uint8_t *bytes, int avail, bool code32, Insn *out, const void **entry);
/* The table mnemonic of the instruction in `bytes`, or NULL (tests, traces). */
const char *decode_mnemonic(const uint8_t *bytes, int avail, bool code32);

#endif
