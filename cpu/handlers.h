/* Handler sets: every opcode-table entry names one.  A set holds the six
 * specializations of an operation: operand size 8/16/32 by register or
 * memory ModRM form, chosen once at decode time so that handlers never
 * test the operand size or form while running. */
#ifndef KESTREL_CPU_HANDLERS_H
#define KESTREL_CPU_HANDLERS_H

#include "cpu/cpu_impl.h"

typedef struct HandlerSet {
    InsnFn f[3][2]; /* [size index: 8/16/32][0 = register, 1 = memory] */
} HandlerSet;

#define X(map, op, greg, mn, a, b, c, fl, hs) extern const HandlerSet hs_##hs;
#include "cpu/opcodes.def"
#undef X

/* Defining handlers.  A handler body written once as
 *     static ALWAYS_INLINE void name_impl(CpuState *c, const Insn *i,
 *                                          unsigned size, bool mem)
 * becomes six specialized functions and the set hs_name with
 * SPECIALIZE(name).  A handler that needs no specialization is defined with
 * HANDLER(fn) and published with SET_ALL(name, fn). */
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define HANDLER(fn) static void fn(CpuState *c, const Insn *i)

#define SPECIALIZE(name)                                                                   \
    static void name##_r8(CpuState *c, const Insn *i) { name##_impl(c, i, 1, false); }     \
    static void name##_m8(CpuState *c, const Insn *i) { name##_impl(c, i, 1, true); }      \
    static void name##_r16(CpuState *c, const Insn *i) { name##_impl(c, i, 2, false); }    \
    static void name##_m16(CpuState *c, const Insn *i) { name##_impl(c, i, 2, true); }     \
    static void name##_r32(CpuState *c, const Insn *i) { name##_impl(c, i, 4, false); }    \
    static void name##_m32(CpuState *c, const Insn *i) { name##_impl(c, i, 4, true); }     \
    const HandlerSet hs_##name = {{{name##_r8, name##_m8},                                 \
                                   {name##_r16, name##_m16},                               \
                                   {name##_r32, name##_m32}}};

/* Specialize by operand size only (8/16/32), for handlers whose register
 * and memory forms are the same code. */
#define SPECIALIZE_SIZE(name)                                                              \
    static void name##_s8(CpuState *c, const Insn *i) { name##_impl(c, i, 1); }            \
    static void name##_s16(CpuState *c, const Insn *i) { name##_impl(c, i, 2); }           \
    static void name##_s32(CpuState *c, const Insn *i) { name##_impl(c, i, 4); }           \
    const HandlerSet hs_##name = {{{name##_s8, name##_s8},                                 \
                                   {name##_s16, name##_s16},                               \
                                   {name##_s32, name##_s32}}};

#define SET_ALL(name, fn) const HandlerSet hs_##name = {{{fn, fn}, {fn, fn}, {fn, fn}}};

#endif
