/* Intel 8254 programmable interval timer (ports 0x40-0x43) and the PC's
 * port 0x61 (PIIX3 "NMI status and control": timer 2 gate, speaker data,
 * refresh toggle, timer 2 output).
 *
 * Wiring (machine/pc.c):
 *   pit_init(pit, &m->sched);
 *   bus_map_ports(b, 0x40, 4, &pit_ops, pit);
 *   bus_map_ports(b, 0x61, 1, &pit_port61_ops, pit);
 *   irq_connect(&pit->out[0], pic_set_irq, pic, 0);       IRQ0
 *   (out[2] may feed a speaker; out[1] is unconnected on a PC)
 *
 * The counters run at 1.193182 MHz of guest time (sched_now).  Nothing is
 * stepped per tick: the counter value and OUT are computed from the time
 * elapsed since the count was loaded, and a timer is armed only for the
 * next edge of an OUT that is connected to something. */
#ifndef KESTREL_DEVICES_PIT_H
#define KESTREL_DEVICES_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/devlog.h"
#include "machine/bus.h"
#include "machine/irq.h"
#include "machine/sched.h"

#define PIT_HZ 1193182u

typedef struct PitChannel {
    /* Programming (control word and count register). */
    uint8_t ctrl; /* RW1 RW0 M2 M1 M0 BCD as last written (status D5-D0) */
    uint8_t mode; /* 0-5 (modes 6 and 7 are 2 and 3) */
    uint8_t rw;   /* 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    uint16_t cr;    /* count register (raw, as written) */
    uint8_t cr_lsb; /* LSB of a two-byte write in progress */
    bool write_msb; /* the next write is the MSB of a two-byte count */
    bool read_msb;  /* the next read is the MSB of a two-byte count */
    bool gate;

    /* Output latch (counter latch and read-back commands). */
    bool count_latched;
    bool count_latched_msb; /* LSB already read from the latch */
    uint16_t latch;
    bool status_latched;
    uint8_t status;

    /* Counting element: see pit.c, "Counting model". */
    uint8_t seg;         /* PIT_SEG_* */
    int64_t anchor;      /* tick at which the current segment started */
    uint32_t n;          /* initial count of the segment (0..0x10000) */
    bool start_low;      /* mode 3: the segment begins with its low half */
    bool tc_done;        /* modes 0 and 4: terminal count already reached */
    uint32_t held_ce;    /* CE while not counting */
    bool held_out;       /* OUT while not counting */
    bool switch_pending; /* modes 2, 3: a new count loads at switch_tick */
    int64_t switch_tick;
    uint32_t switch_n;
    bool switch_low;
    int64_t null_until; /* Null Count is set while tick < null_until */

    SchedTimer timer; /* next OUT edge, when out[] is connected */
} PitChannel;

typedef struct PitState {
    PitChannel ch[3];
    IrqLine out[3]; /* OUT0 is IRQ0; OUT2 goes to the speaker and port 0x61 */
    uint8_t port61; /* bits 0-3 as written */
    Sched *sched;
    DevLog log;
} PitState;

enum { PIT_SEG_IDLE, PIT_SEG_RUN, PIT_SEG_HELD };

extern const BusOps pit_ops;        /* 0x40-0x43 */
extern const BusOps pit_port61_ops; /* 0x61 */

void pit_init(PitState *s, Sched *sched);
/* Power-on state: every counter unprogrammed (mode 0, OUT low, not
 * counting), gates 0 and 1 high, gate 2 low (port 0x61 = 0). */
void pit_reset(PitState *s);

/* GATE input of counter `ch` (0-2); the board ties gates 0 and 1 high and
 * drives gate 2 from port 0x61 bit 0. */
void pit_set_gate(PitState *s, int ch, bool level);
/* OUT of counter `ch` at the current guest time. */
bool pit_get_out(PitState *s, int ch);
/* The speaker signal: OUT2 AND port 0x61 bit 1. */
bool pit_speaker_level(PitState *s);

#endif
