/* Intel 8259A PIC pair with PIIX3 ELCR; see pic.h.
 *
 * References: Intel 8259A data sheet (231468), sections "Interrupt
 * sequence", "Initialization command words", "Operation command words",
 * "The fully nested mode", "End of interrupt", "Automatic rotation",
 * "Specific rotation", "Special mask mode", "Poll command", "Reading the
 * 8259A status", "Edge and level triggered modes", "The special fully nested
 * mode", "Cascade mode"; Intel PIIX3 data sheet, ELCR1/ELCR2 (I/O 4D0h,
 * 4D1h) and "Edge and Level Triggered Mode" (ELCR replaces ICW1.LTIM;
 * IRQ0, 1, 2, 8 and 13 are always edge triggered).
 *
 * One deliberate simplification: in edge mode the data sheet wants the IR
 * input to stay high until the first INTA, or a default IR7 results.  The
 * devices in Kestrel may pulse a line (irq_pulse), so an edge request stays
 * latched in IRR until it is acknowledged, as an edge-sense latch would
 * hold it.  Level-triggered inputs follow the line exactly, so a level
 * request that goes away before INTA gives the default (spurious) IR7. */
#include "devices/pic.h"

#include <string.h>

#define CASCADE_IR 2 /* the slave's INT drives the master's IR2 on the AT */

/* ---- Priority resolution ---------------------------------------------- */

/* Priority rank of IR `irq`: 0 is the highest.  "Lowest" is the level
 * rotated to the bottom (Specific rotation: OCW2 L2-L0); IR(lowest+1) is
 * then the highest. */
static int prio(const Pic8259 *c, int irq)
{
    return (irq - c->lowest - 1) & 7;
}

/* The highest-priority IR set in `bits`, or -1. */
static int highest(const Pic8259 *c, uint8_t bits)
{
    if (!bits)
        return -1;
    for (int r = 0; r < 8; r++) {
        int irq = (c->lowest + 1 + r) & 7;
        if (bits & (1u << irq))
            return irq;
    }
    return -1;
}

static bool is_master(const PicState *s, const Pic8259 *c)
{
    return c == &s->chip[PIC_MASTER];
}

/* The request the priority resolver would present on INT, or -1.
 * Fully nested mode: a request is blocked by an in-service level of equal
 * or higher priority.  Special mask mode: a masked in-service level does
 * not block anything.  Special fully nested mode (ICW4.SFNM, master only):
 * a request from a slave is not blocked by that slave's own in-service
 * bit, so higher-priority slave interrupts can nest. */
static int pending(const PicState *s, const Pic8259 *c)
{
    int irq = highest(c, c->irr & ~c->imr);
    if (irq < 0)
        return -1;
    uint8_t in_service = c->isr;
    if (c->special_mask)
        in_service &= ~c->imr;
    int cur = highest(c, in_service);
    if (cur < 0)
        return irq;
    if (prio(c, irq) < prio(c, cur))
        return irq;
    bool sfnm = (c->icw4 & 0x10) && is_master(s, c) && !c->single;
    if (irq == cur && sfnm && (c->icw3 & (1u << irq)))
        return irq;
    return -1;
}

/* ---- Inputs and outputs ------------------------------------------------- */

static bool level_mode(const Pic8259 *c, int irq)
{
    return (c->elcr >> irq) & 1;
}

/* Drive input `irq` of one chip.  Edge: a low-to-high transition latches
 * IRR.  Level: IRR follows the line (Edge and level triggered modes). */
static void chip_input(Pic8259 *c, int irq, int level)
{
    uint8_t bit = (uint8_t)(1u << irq);
    bool was = c->lines & bit;
    if (level)
        c->lines |= bit;
    else
        c->lines &= (uint8_t)~bit;
    if (level_mode(c, irq)) {
        if (level)
            c->irr |= bit;
        else
            c->irr &= (uint8_t)~bit;
    } else if (level && !was) {
        c->irr |= bit;
    }
}

/* Recompute the cascade and the INT output after any change. */
static void pic_update(PicState *s)
{
    Pic8259 *m = &s->chip[PIC_MASTER], *sl = &s->chip[PIC_SLAVE];
    chip_input(m, CASCADE_IR, pending(s, sl) >= 0);
    int out = pending(s, m) >= 0;
    if (out != s->intr.level)
        irq_set(&s->intr, out);
}

void pic_set_irq(void *opaque, int irq, int level)
{
    PicState *s = opaque;
    if (irq < 0 || irq >= 16 || irq == CASCADE_IR)
        return; /* machine wiring error, or the cascade input */
    chip_input(&s->chip[irq >> 3], irq & 7, level);
    pic_update(s);
}

bool pic_intr_pending(const PicState *s)
{
    return s->intr.level != 0;
}

/* ---- Interrupt acknowledge ---------------------------------------------- */

/* Acknowledge `irq` on one chip: clear an edge request (a level request
 * stays while the line is high), set the in-service bit, or with AEOI
 * clear it at the end of the second INTA (Automatic end of interrupt),
 * rotating priorities if "rotate in AEOI mode" is set. */
static void chip_ack(Pic8259 *c, int irq)
{
    uint8_t bit = (uint8_t)(1u << irq);
    if (!level_mode(c, irq))
        c->irr &= (uint8_t)~bit;
    if (c->icw4 & 0x02) {
        if (c->rotate_aeoi)
            c->lowest = (uint8_t)irq;
    } else {
        c->isr |= bit;
    }
}

int pic_ack(PicState *s)
{
    Pic8259 *m = &s->chip[PIC_MASTER], *sl = &s->chip[PIC_SLAVE];
    int irq = pending(s, m);
    int vector;
    if (irq < 0) {
        /* No request survived until INTA: the default IR7, with no ISR
         * bit set (Edge and level triggered modes). */
        vector = m->vector | 7;
    } else {
        chip_ack(m, irq);
        if (!m->single && (m->icw3 & (1u << irq))) {
            /* Cascade mode: the slave whose ID matches puts the vector on
             * the bus during the second INTA. */
            int sirq = pending(s, sl);
            if (sirq < 0) {
                vector = sl->vector | 7; /* spurious IRQ15; master ISR2 stays */
            } else {
                chip_ack(sl, sirq);
                vector = sl->vector | sirq;
            }
        } else {
            vector = m->vector | irq;
        }
    }
    pic_update(s);
    return vector;
}

int pic_ack_cb(void *opaque)
{
    return pic_ack(opaque);
}

/* Poll command: the read acts as an INTA for this chip alone and returns
 * 1000 0WWW with the level, or 0 with nothing pending. */
static uint8_t chip_poll(PicState *s, Pic8259 *c)
{
    int irq = pending(s, c);
    if (irq < 0)
        return 0x00;
    chip_ack(c, irq);
    pic_update(s);
    return (uint8_t)(0x80 | irq);
}

/* ---- Command words ------------------------------------------------------ */

static void chip_reset(Pic8259 *c)
{
    uint8_t lines = c->lines, elcr = c->elcr, mask = c->elcr_mask;
    memset(c, 0, sizeof *c);
    c->lines = lines;
    c->elcr = elcr;
    c->elcr_mask = mask;
    c->lowest = 7;
}

/* ICW1: "the edge sense circuit is reset ... the IMR is cleared, IR7 is
 * assigned priority 7, the slave mode address is set to 7, special mask
 * mode is cleared and status read is set to IRR; if IC4 = 0, all functions
 * selected in ICW4 are set to zero".  ISR is cleared too, so that a driver
 * re-initializing a chip does not inherit stale in-service levels. */
static void write_icw1(PicState *s, Pic8259 *c, uint8_t v)
{
    if (v & 0x08)
        devlog(&s->log, DEVLOG_GUEST_ERROR,
               "pic: ICW1.LTIM set; the PIIX3 ignores it (ELCR selects level mode)");
    c->imr = 0;
    c->isr = 0;
    c->lowest = 7;
    c->icw3 = 7;
    c->icw4 = 0;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->rotate_aeoi = false;
    c->single = v & 0x02;
    c->need_icw4 = v & 0x01;
    /* Edge sense reset: a line that is already high must go low and high
     * again; a level-sensitive input still requests while high. */
    c->irr = c->lines & c->elcr;
    c->init_step = 2;
}

static void write_icw(PicState *s, Pic8259 *c, uint8_t v)
{
    switch (c->init_step) {
    case 2:
        /* ICW2: T7-T3 of the vector; A10-A8 are 8080 call-address bits. */
        c->vector = v & 0xF8;
        c->init_step = c->single ? (c->need_icw4 ? 4 : 0) : 3;
        break;
    case 3:
        c->icw3 = v;
        c->init_step = c->need_icw4 ? 4 : 0;
        break;
    case 4:
        c->icw4 = v & 0x1F;
        if (!(v & 0x01))
            devlog(&s->log, DEVLOG_UNIMP, "pic: ICW4 selects 8080/8085 mode; x86 mode used");
        if (v & 0x10 && !is_master(s, c))
            devlog(&s->log, DEVLOG_GUEST_ERROR, "pic: SFNM programmed on the slave");
        c->init_step = 0;
        break;
    }
    if (c->init_step == 0 && !c->need_icw4)
        devlog(&s->log, DEVLOG_UNIMP, "pic: no ICW4 (8080/8085 mode); x86 mode used");
}

/* OCW2: R, SL, EOI and L2-L0 (table "Operation command words", OCW2). */
static void write_ocw2(PicState *s, Pic8259 *c, uint8_t v)
{
    int level = v & 7;
    switch (v >> 5) {
    case 0: /* rotate in automatic EOI mode (clear) */
        c->rotate_aeoi = false;
        break;
    case 4: /* rotate in automatic EOI mode (set) */
        c->rotate_aeoi = true;
        break;
    case 1:   /* non-specific EOI */
    case 5: { /* rotate on non-specific EOI */
        /* In fully nested mode the highest in-service level is the one
         * being serviced (End of interrupt). */
        int irq = highest(c, c->isr);
        if (irq >= 0) {
            c->isr &= (uint8_t) ~(1u << irq);
            if (v & 0x80)
                c->lowest = (uint8_t)irq;
        }
        break;
    }
    case 3: /* specific EOI */
        c->isr &= (uint8_t) ~(1u << level);
        break;
    case 7: /* rotate on specific EOI */
        c->isr &= (uint8_t) ~(1u << level);
        c->lowest = (uint8_t)level;
        break;
    case 6: /* set priority: L2-L0 becomes the lowest */
        c->lowest = (uint8_t)level;
        break;
    case 2: /* no operation */
        break;
    }
    pic_update(s);
}

/* OCW3: ESMM/SMM, P, RR/RIS. */
static void write_ocw3(PicState *s, Pic8259 *c, uint8_t v)
{
    if (v & 0x40)
        c->special_mask = v & 0x20;
    if (v & 0x04)
        c->poll = true;
    if (v & 0x02)
        c->read_isr = v & 0x01;
    pic_update(s);
}

static void chip_write(PicState *s, Pic8259 *c, uint32_t off, uint8_t v)
{
    if (off == 0) {
        if (v & 0x10)
            write_icw1(s, c, v);
        else if (v & 0x08)
            write_ocw3(s, c, v);
        else
            write_ocw2(s, c, v);
        /* ICW1 also resets the outputs that depended on the old state. */
        if (v & 0x10)
            pic_update(s);
        return;
    }
    if (c->init_step) {
        write_icw(s, c, v);
    } else {
        c->imr = v; /* OCW1 */
    }
    pic_update(s);
}

static uint8_t chip_read(PicState *s, Pic8259 *c, uint32_t off)
{
    if (c->poll) {
        /* The poll applies to the next read at either address. */
        c->poll = false;
        return chip_poll(s, c);
    }
    if (off == 0)
        return c->read_isr ? c->isr : c->irr;
    return c->imr;
}

/* ---- Bus glue ------------------------------------------------------------- */

static uint32_t master_read(void *opaque, uint32_t off, unsigned size)
{
    (void)size;
    PicState *s = opaque;
    return chip_read(s, &s->chip[PIC_MASTER], off & 1);
}

static void master_write(void *opaque, uint32_t off, uint32_t v, unsigned size)
{
    (void)size;
    PicState *s = opaque;
    chip_write(s, &s->chip[PIC_MASTER], off & 1, (uint8_t)v);
}

static uint32_t slave_read(void *opaque, uint32_t off, unsigned size)
{
    (void)size;
    PicState *s = opaque;
    return chip_read(s, &s->chip[PIC_SLAVE], off & 1);
}

static void slave_write(void *opaque, uint32_t off, uint32_t v, unsigned size)
{
    (void)size;
    PicState *s = opaque;
    chip_write(s, &s->chip[PIC_SLAVE], off & 1, (uint8_t)v);
}

/* ELCR1 (4D0h, IRQ0-7) and ELCR2 (4D1h, IRQ8-15). */
static uint32_t elcr_read(void *opaque, uint32_t off, unsigned size)
{
    (void)size;
    PicState *s = opaque;
    return s->chip[off & 1].elcr;
}

static void elcr_write(void *opaque, uint32_t off, uint32_t v, unsigned size)
{
    (void)size;
    PicState *s = opaque;
    Pic8259 *c = &s->chip[off & 1];
    uint8_t old = c->elcr;
    c->elcr = (uint8_t)v & c->elcr_mask;
    if ((uint8_t)v & ~c->elcr_mask)
        devlog(&s->log, DEVLOG_GUEST_ERROR, "pic: ELCR%u reserved bits written (%02x)",
               (unsigned)(off & 1) + 1, (unsigned)(v & 0xFF));
    /* An input turned level-sensitive requests while high; one turned
     * edge-sensitive keeps a pending request latched. */
    uint8_t now_level = c->elcr & ~old;
    c->irr = (uint8_t)((c->irr & ~now_level) | (c->lines & now_level));
    pic_update(s);
}

const BusOps pic_master_ops = {master_read, master_write, 1, 1};
const BusOps pic_slave_ops = {slave_read, slave_write, 1, 1};
const BusOps pic_elcr_ops = {elcr_read, elcr_write, 1, 1};

/* ---- Life cycle ------------------------------------------------------------ */

void pic_reset(PicState *s)
{
    for (int i = 0; i < 2; i++) {
        Pic8259 *c = &s->chip[i];
        chip_reset(c);
        c->imr = 0xFF;
        c->elcr = 0;
        c->icw3 = i == PIC_MASTER ? (1u << CASCADE_IR) : CASCADE_IR;
    }
    pic_update(s);
}

void pic_init(PicState *s)
{
    memset(s, 0, sizeof *s);
    /* PIIX3 ELCR: IRQ0, 1, 2 and IRQ8, 13 cannot be level triggered. */
    s->chip[PIC_MASTER].elcr_mask = 0xF8;
    s->chip[PIC_SLAVE].elcr_mask = 0xDE;
    pic_reset(s);
}
