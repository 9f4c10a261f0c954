/* Interrupt request lines: level-triggered wires between a device and
 * whatever the machine file connects it to (DESIGN.md, "IRQ lines").  Edge
 * behaviour is the interrupt controller's business. */
#ifndef KESTREL_MACHINE_IRQ_H
#define KESTREL_MACHINE_IRQ_H

typedef void (*IrqHandler)(void *opaque, int n, int level);

typedef struct IrqLine {
    IrqHandler handler; /* NULL: not connected */
    void *opaque;
    int n;              /* which input of the receiver */
    int level;          /* current level, for tests and snapshots */
} IrqLine;

static inline void irq_connect(IrqLine *l, IrqHandler h, void *opaque, int n)
{
    l->handler = h;
    l->opaque = opaque;
    l->n = n;
}

static inline void irq_set(IrqLine *l, int level)
{
    l->level = level != 0;
    if (l->handler)
        l->handler(l->opaque, l->n, l->level);
}

static inline void irq_raise(IrqLine *l) { irq_set(l, 1); }
static inline void irq_lower(IrqLine *l) { irq_set(l, 0); }
/* A pulse, for edge-triggered inputs. */
static inline void irq_pulse(IrqLine *l)
{
    irq_set(l, 1);
    irq_set(l, 0);
}

/* Wired-OR of up to 32 level inputs onto one line (ISA IRQs shared by two
 * devices, e.g. COM1 and COM3 on IRQ4). */
typedef struct IrqOr {
    unsigned levels; /* bit per input */
    IrqLine out;
} IrqOr;

static inline void irq_or_set(void *opaque, int n, int level)
{
    IrqOr *o = (IrqOr *)opaque;
    unsigned before = o->levels;
    if (level)
        o->levels |= 1u << (n & 31);
    else
        o->levels &= ~(1u << (n & 31));
    if (!before != !o->levels)
        irq_set(&o->out, o->levels != 0);
}

#endif
