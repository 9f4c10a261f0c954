/* The event scheduler: one queue of timers in guest time.
 *
 * Devices never read the host clock (DESIGN.md, "Time"): they arm timers at
 * guest-nanosecond deadlines, and the machine's main loop runs the CPU up
 * to the next deadline, then fires what is due.  Guest time advances with
 * retired instructions (and jumps forward while the CPU halts), so a run
 * is deterministic. */
#ifndef KESTREL_MACHINE_SCHED_H
#define KESTREL_MACHINE_SCHED_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*SchedCb)(void *opaque);

typedef struct SchedTimer {
    uint64_t expire; /* guest ns */
    SchedCb cb;
    void *opaque;
    bool pending;
    struct SchedTimer *next;
} SchedTimer;

typedef struct Sched {
    SchedTimer *head;  /* pending timers sorted by expire */
    uint64_t (*clock)(void *opaque); /* current guest time in ns */
    void *clock_opaque;
} Sched;

#define SCHED_NEVER UINT64_MAX
#define NS_PER_SEC 1000000000ull

void sched_init(Sched *s, uint64_t (*clock)(void *), void *opaque);
static inline uint64_t sched_now(const Sched *s) { return s->clock(s->clock_opaque); }

void sched_timer_init(SchedTimer *t, SchedCb cb, void *opaque);
/* (Re)arm at absolute guest time `expire`. */
void sched_timer_mod(Sched *s, SchedTimer *t, uint64_t expire);
void sched_timer_del(Sched *s, SchedTimer *t);
static inline bool sched_timer_pending(const SchedTimer *t) { return t->pending; }

/* The earliest deadline, or SCHED_NEVER. */
static inline uint64_t sched_next(const Sched *s) { return s->head ? s->head->expire : SCHED_NEVER; }
/* Fire every timer due at the current time (callbacks may re-arm). */
void sched_run_due(Sched *s);

/* Guest-time helpers: scale `ticks` of a clock running at `hz` to ns and
 * back, without overflow for realistic values. */
uint64_t sched_ticks_to_ns(uint64_t ticks, uint64_t hz);
uint64_t sched_ns_to_ticks(uint64_t ns, uint64_t hz);

#endif
