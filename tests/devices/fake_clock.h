/* A hand-driven guest clock for device tests: the scheduler reads
 * fake_now, and fake_advance() moves time forward the way the machine's
 * main loop does, stopping at every deadline on the way to fire it. */
#ifndef KESTREL_TESTS_FAKE_CLOCK_H
#define KESTREL_TESTS_FAKE_CLOCK_H

#include <stdint.h>

#include "machine/bus.h"
#include "machine/irq.h"
#include "machine/sched.h"

/* Byte port access through a test fixture's bus: every fixture struct has
 * a `Bus bus` member. */
static inline void fixture_outb(Bus *b, uint16_t port, uint8_t v)
{
    bus_io_write(b, port, v, 1);
}
static inline uint8_t fixture_inb(Bus *b, uint16_t port)
{
    return (uint8_t)bus_io_read(b, port, 1);
}
#define outb(f, port, v) fixture_outb(&(f)->bus, (port), (v))
#define inb(f, port) fixture_inb(&(f)->bus, (port))

static uint64_t fake_now __attribute__((unused));
static Sched fake_sched __attribute__((unused));

static inline uint64_t fake_clock(void *opaque)
{
    (void)opaque;
    return fake_now;
}

static inline void fake_clock_init(uint64_t start)
{
    fake_now = start;
    sched_init(&fake_sched, fake_clock, NULL);
}

/* Run to absolute guest time t (ns). */
static inline void fake_run_to(uint64_t t)
{
    while (sched_next(&fake_sched) <= t) {
        uint64_t next = sched_next(&fake_sched);
        if (next > fake_now)
            fake_now = next;
        sched_run_due(&fake_sched);
    }
    if (t > fake_now)
        fake_now = t;
}

static inline void fake_advance(uint64_t ns)
{
    fake_run_to(fake_now + ns);
}

/* An IRQ sink that records levels and counts rising edges per input. */
typedef struct IrqProbe {
    int level[16];
    int rises[16];
    int changes[16];
} IrqProbe;

static inline void probe_handler(void *opaque, int n, int level)
{
    IrqProbe *p = opaque;
    if (n < 0 || n >= 16)
        return;
    if (level && !p->level[n])
        p->rises[n]++;
    if (level != p->level[n])
        p->changes[n]++;
    p->level[n] = level;
}

#endif
