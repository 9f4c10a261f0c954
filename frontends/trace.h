/* Execution trace for instruction-level debugging, in the spirit of QEMU's
 * -d exec,cpu,int with -dfilter: every executed instruction disassembled
 * by Capstone, optionally preceded by the register state, and every
 * exception or interrupt, written to the log file (-D) or stderr. */
#ifndef KESTREL_FRONTENDS_TRACE_H
#define KESTREL_FRONTENDS_TRACE_H

#include <stdbool.h>
#include <stdio.h>

#include "cpu/cpu.h"

enum {
    TRACE_EXEC = 1, /* each instruction, disassembled */
    TRACE_CPU = 2,  /* the registers before each traced instruction */
    TRACE_INT = 4,  /* exceptions and interrupts */
};

typedef struct Trace Trace;

/* Parse a -dfilter list: "A..B" (inclusive), "A+LEN" or "A" (one byte)
 * linear address ranges, comma-separated, numbers in C notation.  Returns
 * false with a message in err (size errlen) for a malformed list. */
bool trace_filter_parse(Trace *t, const char *spec, char *err, size_t errlen);

/* A tracer writing to `out`; NULL when Capstone cannot be opened (the
 * message is in err). */
Trace *trace_new(unsigned what, FILE *out, char *err, size_t errlen);
/* Install on the CPU (sets its trace hooks). */
void trace_attach(Trace *t, CpuState *c);
void trace_free(Trace *t);

#endif
