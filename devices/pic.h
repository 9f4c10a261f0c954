/* Intel 8259A programmable interrupt controller pair, as on the PC/AT and
 * in the PIIX3: a master (ports 0x20-0x21, IRQ0-7) and a slave (ports
 * 0xA0-0xA1, IRQ8-15) whose INT output is wired to the master's IR2, plus
 * the PIIX3 edge/level control registers ELCR1/ELCR2 (ports 0x4D0-0x4D1).
 *
 * Wiring (machine/pc.c):
 *   bus_map_ports(b, 0x20, 2, &pic_master_ops, pic);
 *   bus_map_ports(b, 0xA0, 2, &pic_slave_ops, pic);
 *   bus_map_ports(b, 0x4D0, 2, &pic_elcr_ops, pic);
 *   irq_connect(&pic->intr, <sets the CPU's INTR>, cpu, 0);
 *   device IRQ n: irq_connect(&dev->irq, pic_set_irq, pic, n);
 *   CPU INTA: CpuIrqOps.ack = pic_ack_cb, opaque = pic.
 *
 * Inputs are levels (machine/irq.h); the PIC decides per IRQ whether it
 * latches the rising edge (ELCR bit 0) or follows the level (ELCR bit 1).
 * IRQ2 is the cascade input: an ISA device on the bus's "IRQ2" pin is wired
 * to IRQ9 on an AT, so pic_set_irq ignores n == 2. */
#ifndef KESTREL_DEVICES_PIC_H
#define KESTREL_DEVICES_PIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/devlog.h"
#include "machine/bus.h"
#include "machine/irq.h"

/* One 8259A. */
typedef struct Pic8259 {
    uint8_t irr;       /* interrupt request register */
    uint8_t isr;       /* in-service register */
    uint8_t imr;       /* interrupt mask register (OCW1) */
    uint8_t lines;     /* current input levels */
    uint8_t elcr;      /* PIIX3 ELCR: 1 = level-sensitive input */
    uint8_t elcr_mask; /* ELCR bits that may be set */
    uint8_t vector;    /* ICW2 & 0xF8 */
    uint8_t icw3;      /* master: slave bitmap; slave: its ID */
    uint8_t icw4;
    uint8_t init_step; /* 0: operational; 2, 3, 4: expecting ICWn */
    bool single;       /* ICW1.SNGL */
    bool need_icw4;    /* ICW1.IC4 */
    uint8_t lowest;    /* IR with the lowest priority (rotation) */
    bool read_isr;     /* OCW3 RR/RIS: even-port reads return ISR, else IRR */
    bool poll;         /* OCW3.P: the next even-port read is a poll */
    bool special_mask; /* OCW3 SMM */
    bool rotate_aeoi;  /* OCW2 rotate in automatic EOI mode */
} Pic8259;

typedef struct PicState {
    Pic8259 chip[2]; /* [0] master, [1] slave */
    IrqLine intr;    /* INT output of the master, to the CPU's INTR */
    DevLog log;
} PicState;

enum { PIC_MASTER = 0, PIC_SLAVE = 1 };

extern const BusOps pic_master_ops; /* ports 0x20-0x21 */
extern const BusOps pic_slave_ops;  /* ports 0xA0-0xA1 */
extern const BusOps pic_elcr_ops;   /* ports 0x4D0-0x4D1 */

void pic_init(PicState *s);
/* Hardware reset.  The 8259A has no defined power-on state (the data sheet
 * requires ICW1-ICW4 before use); Kestrel starts each chip with every IR
 * masked, vector base 0, fully nested priority and all inputs edge
 * triggered (PIIX3 ELCR default 0).  Input levels are kept: they belong to
 * the devices driving them. */
void pic_reset(PicState *s);

/* IrqHandler for inputs 0-15 (opaque is the PicState). */
void pic_set_irq(void *opaque, int irq, int level);

/* The INTA cycle: acknowledge the highest-priority request and return its
 * vector; with nothing to acknowledge, the spurious vector for IR7 of the
 * master (or of the slave, when the master's request came from it). */
int pic_ack(PicState *s);
int pic_ack_cb(void *opaque); /* the same, shaped for CpuIrqOps.ack */

/* Whether INT to the CPU is asserted (the same as s->intr.level). */
bool pic_intr_pending(const PicState *s);

#endif
