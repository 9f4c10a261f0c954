/* Event scheduler; see sched.h. */
#include "machine/sched.h"

#include <stddef.h>

void sched_init(Sched *s, uint64_t (*clock)(void *), void *opaque)
{
    s->head = NULL;
    s->clock = clock;
    s->clock_opaque = opaque;
}

void sched_timer_init(SchedTimer *t, SchedCb cb, void *opaque)
{
    t->expire = 0;
    t->cb = cb;
    t->opaque = opaque;
    t->pending = false;
    t->next = NULL;
}

void sched_timer_del(Sched *s, SchedTimer *t)
{
    if (!t->pending)
        return;
    for (SchedTimer **pp = &s->head; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->pending = false;
    t->next = NULL;
}

void sched_timer_mod(Sched *s, SchedTimer *t, uint64_t expire)
{
    sched_timer_del(s, t);
    SchedTimer **pp = &s->head;
    /* Equal deadlines fire in arming order, for determinism. */
    while (*pp && (*pp)->expire <= expire)
        pp = &(*pp)->next;
    t->expire = expire;
    t->next = *pp;
    t->pending = true;
    *pp = t;
}

void sched_run_due(Sched *s)
{
    uint64_t now = sched_now(s);
    while (s->head && s->head->expire <= now) {
        SchedTimer *t = s->head;
        s->head = t->next;
        t->pending = false;
        t->next = NULL;
        t->cb(t->opaque);
    }
}

uint64_t sched_ticks_to_ns(uint64_t ticks, uint64_t hz)
{
    return (uint64_t)((unsigned __int128)ticks * NS_PER_SEC / hz);
}

uint64_t sched_ns_to_ticks(uint64_t ns, uint64_t hz)
{
    return (uint64_t)((unsigned __int128)ns * hz / NS_PER_SEC);
}
