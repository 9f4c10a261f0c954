/* Intel 8254 PIT and port 0x61; see pit.h.
 *
 * References: Intel 8254 data sheet (231164): "Control Word Format",
 * "Write Operations", "Read Operations" (counter latch command, read-back
 * command, status byte), "Mode Definitions" (modes 0-5), "Operation Common
 * to All Modes" (gate, counter loading, null count); Intel PIIX3 data
 * sheet, "NMI Status and Control Register" (port 61h).
 *
 * Counting model.  CLK edge k happens at guest time ceil(k / 1.193182 MHz);
 * "tick t" is the state after edge t.  A counter runs in segments: a
 * segment starts at tick `anchor` with the counting element (CE) loaded
 * with `n`, and from there CE and OUT are a closed-form function of the
 * ticks elapsed, per mode:
 *
 *   mode 0  CE = n - d; OUT low until CE reaches 0 (d = n), then high.
 *   mode 1  as mode 0 but OUT high, low from the load to the count's end.
 *   mode 2  CE = n .. 1 repeating; OUT low while CE = 1.
 *   mode 3  CE counts down by two; OUT high for ceil(n/2), low floor(n/2).
 *   mode 4  CE = n - d; OUT low for the one tick at which CE reaches 0.
 *   mode 5  as mode 4, started by a gate trigger.
 *
 * "Loaded on the next CLK pulse" after a write or a trigger means anchor =
 * the current tick + 1.  A count written in modes 2 and 3 while counting
 * takes effect at the end of the period (mode 2) or half period (mode 3):
 * that is a pending switch to a new segment.  Gate low suspends counting in
 * modes 0, 2, 3 and 4 (the state is held, and OUT forced high in 2 and 3);
 * a rising gate restarts modes 2 and 3 and triggers modes 1 and 5.
 *
 * Counts of 1 in modes 2 and 3 are illegal per the data sheet; Kestrel uses
 * 2 so a guest cannot ask for zero-length half periods. */
#include "devices/pit.h"

#include <limits.h>
#include <string.h>

#define REFRESH_NS 15000u /* port 61h bit 4 toggles once per refresh, ~15 us */
#define MAX_CATCHUP 16    /* OUT edges replayed by one late timer callback */

/* ---- Time ----------------------------------------------------------------- */

static int64_t now_tick(const PitState *s)
{
    return (int64_t)sched_ns_to_ticks(sched_now(s->sched), PIT_HZ);
}

/* Guest time of CLK edge k: the first ns at which now_tick() >= k. */
static uint64_t tick_ns(int64_t k)
{
    return (uint64_t)(((unsigned __int128)k * NS_PER_SEC + PIT_HZ - 1) / PIT_HZ);
}

/* ---- Counting element --------------------------------------------------- */

static uint32_t modulus(const PitChannel *c)
{
    return c->bcd ? 10000u : 65536u;
}

/* The count register as a number of CLKs: 0 is the maximum, 2^16 in binary
 * and 10^4 in BCD (Count register: "0 is equivalent to 2^16 / 10^4"). */
static uint32_t cr_count(const PitChannel *c)
{
    uint32_t v = c->cr;
    if (c->bcd) {
        /* Digits above 9 are not valid BCD; any value is acceptable here. */
        v = ((v >> 12) & 15) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);
        v %= 10000;
    }
    return v ? v : modulus(c);
}

static uint32_t wrap(int64_t v, uint32_t m)
{
    int64_t r = v % (int64_t)m;
    return (uint32_t)(r < 0 ? r + m : r);
}

static uint32_t half_high(uint32_t n)
{
    return (n + 1) / 2;
}

/* Position within a mode 3 period: 0 .. n-1, the high half first. */
static uint32_t mode3_pos(const PitChannel *c, int64_t t)
{
    uint32_t off = c->start_low ? half_high(c->n) : 0;
    return (uint32_t)((t - c->anchor + off) % c->n);
}

/* Apply a pending count switch (modes 2 and 3) once its tick is reached. */
static void settle(PitChannel *c, int64_t t)
{
    if (c->switch_pending && t >= c->switch_tick) {
        c->anchor = c->switch_tick;
        c->n = c->switch_n;
        c->start_low = c->switch_low;
        c->switch_pending = false;
    }
}

static uint32_t ce_at(const PitChannel *c, int64_t t)
{
    if (c->seg != PIT_SEG_RUN || t < c->anchor)
        return c->held_ce;
    int64_t d = t - c->anchor;
    uint32_t m = modulus(c), n = c->n;
    switch (c->mode) {
    case 2:
        return (n - (uint32_t)(d % n)) % m;
    case 3: {
        uint32_t h = half_high(n), e = mode3_pos(c, t);
        uint32_t top = (n & 1) ? n - 1 : n;
        return (top - 2 * (e < h ? e : e - h)) % m;
    }
    default:
        return wrap((int64_t)n - d, m);
    }
}

static bool out_at(const PitChannel *c, int64_t t)
{
    if (c->seg != PIT_SEG_RUN)
        return c->held_out;
    int64_t tc = c->anchor + (int64_t)c->n; /* tick at which CE reaches 0 */
    switch (c->mode) {
    case 0:
        return c->tc_done || t >= tc;
    case 1:
        return t < c->anchor || t >= tc;
    case 4:
        return c->tc_done || t != tc;
    case 5:
        return t != tc;
    case 2:
        return t < c->anchor || (t - c->anchor) % c->n != c->n - 1;
    case 3:
        return t < c->anchor || mode3_pos(c, t) < half_high(c->n);
    }
    return true;
}

/* The first tick after t at which OUT changes, or -1.  A pending switch
 * needs no special case: the old segment always has an edge at or before
 * the switch tick (the period or half period ends there). */
static int64_t next_edge(const PitChannel *c, int64_t t)
{
    if (c->seg != PIT_SEG_RUN)
        return -1;
    int64_t tc = c->anchor + (int64_t)c->n;
    switch (c->mode) {
    case 0:
        return !c->tc_done && t < tc ? tc : -1;
    case 4:
        if (c->tc_done)
            return -1;
        /* fall through */
    case 5:
        return t < tc ? tc : t == tc ? tc + 1 : -1;
    case 1:
        if (t < c->anchor)
            return c->anchor;
        return t < tc ? tc : -1;
    case 2: {
        if (t < c->anchor)
            return c->anchor + c->n - 1;
        int64_t e = (t - c->anchor) % c->n;
        return e < (int64_t)c->n - 1 ? t + (c->n - 1 - e) : t + 1;
    }
    case 3: {
        uint32_t h = half_high(c->n);
        if (t < c->anchor)
            return c->start_low ? c->anchor : c->anchor + h;
        uint32_t e = mode3_pos(c, t);
        return e < h ? t + (h - e) : t + (c->n - e);
    }
    }
    return -1;
}

static bool null_count(const PitChannel *c, int64_t t)
{
    return t < c->null_until;
}

/* Stop counting with the current CE and OUT held. */
static void hold(PitChannel *c, int64_t t, bool out)
{
    c->held_ce = ce_at(c, t);
    c->held_out = out;
    c->seg = PIT_SEG_HELD;
    c->switch_pending = false;
}

/* ---- OUT line ------------------------------------------------------------- */

/* Bring OUT of channel i up to date and arm the timer for its next edge.
 * From the timer, edges that fell due since the last call are replayed in
 * order (up to MAX_CATCHUP), so a late callback still shows the PIC a
 * mode 2 pulse rather than losing it. */
static void ch_update(PitState *s, int i, bool from_timer)
{
    PitChannel *c = &s->ch[i];
    IrqLine *l = &s->out[i];
    int64_t t = now_tick(s);
    if (from_timer) {
        int64_t e = c->timer.expire ? (int64_t)sched_ns_to_ticks(c->timer.expire, PIT_HZ) : t;
        for (int k = 0; k < MAX_CATCHUP && e >= 0 && e < t; k++) {
            settle(c, e);
            bool o = out_at(c, e);
            if (o != (l->level != 0))
                irq_set(l, o);
            e = next_edge(c, e);
        }
    }
    settle(c, t);
    bool o = out_at(c, t);
    if (o != (l->level != 0))
        irq_set(l, o);
    if (!l->handler) {
        sched_timer_del(s->sched, &c->timer);
        return;
    }
    int64_t e = next_edge(c, t);
    if (e < 0)
        sched_timer_del(s->sched, &c->timer);
    else
        sched_timer_mod(s->sched, &c->timer, tick_ns(e));
}

static void ch0_timer(void *opaque)
{
    ch_update(opaque, 0, true);
}
static void ch1_timer(void *opaque)
{
    ch_update(opaque, 1, true);
}
static void ch2_timer(void *opaque)
{
    ch_update(opaque, 2, true);
}

/* ---- Programming ------------------------------------------------------------ */

/* Control word: "all Control Logic is immediately reset and OUT goes to a
 * known initial state" (low in mode 0, high otherwise); counting stops
 * until a count is written; Null Count is set. */
static void write_control(PitChannel *c, uint8_t cw, int64_t t)
{
    settle(c, t);
    c->held_ce = ce_at(c, t); /* the CE keeps whatever it held */
    c->ctrl = cw & 0x3F;
    c->rw = (cw >> 4) & 3;
    c->mode = (cw >> 1) & 7;
    if (c->mode > 5)
        c->mode -= 4; /* modes 6 and 7 are 2 and 3 (M2 is a don't care) */
    c->bcd = cw & 1;
    c->write_msb = c->read_msb = false;
    c->count_latched = c->count_latched_msb = c->status_latched = false;
    c->seg = PIT_SEG_IDLE;
    c->held_out = c->mode != 0;
    c->switch_pending = false;
    c->tc_done = false;
    c->null_until = INT64_MAX;
}

/* A complete count has been written to CR. */
static void count_written(PitState *s, PitChannel *c, int64_t t)
{
    uint32_t n = cr_count(c);
    settle(c, t);
    switch (c->mode) {
    case 0:
    case 4:
        /* Loaded on the next CLK; OUT low (mode 0) until terminal count. */
        c->anchor = t + 1;
        c->n = n;
        c->tc_done = false;
        c->null_until = t + 1;
        if (c->gate) {
            c->seg = PIT_SEG_RUN;
        } else {
            /* Loaded, but "GATE = 0 disables counting". */
            c->seg = PIT_SEG_HELD;
            c->held_ce = n % modulus(c);
            c->held_out = c->mode == 4;
        }
        break;
    case 2:
    case 3:
        if (n < 2) {
            devlog(&s->log, DEVLOG_GUEST_ERROR, "pit: count 1 is illegal in mode %u", c->mode);
            n = 2;
        }
        if (c->seg == PIT_SEG_IDLE) {
            /* First count after the control word: loaded on the next CLK. */
            c->anchor = t + 1;
            c->n = n;
            c->start_low = false;
            c->null_until = t + 1;
            if (c->gate) {
                c->seg = PIT_SEG_RUN;
            } else {
                c->seg = PIT_SEG_HELD;
                c->held_out = true;
                c->null_until = INT64_MAX; /* loads when the gate rises */
            }
        } else if (c->seg == PIT_SEG_RUN) {
            if (t < c->anchor) {
                c->n = n; /* not loaded yet: the newer count wins */
                break;
            }
            /* "The new count will be loaded at the end of the current
             * counting cycle" (mode 2) / "half-cycle" (mode 3). */
            if (c->mode == 2) {
                int64_t d = t - c->anchor;
                c->switch_tick = c->anchor + (d / c->n + 1) * (int64_t)c->n;
                c->switch_low = false;
            } else {
                uint32_t h = half_high(c->n), e = mode3_pos(c, t);
                c->switch_tick = e < h ? t + (h - e) : t + (c->n - e);
                c->switch_low = e < h; /* a new low half starts there */
            }
            c->switch_n = n;
            c->switch_pending = true;
            c->null_until = c->switch_tick;
        } else {
            c->null_until = INT64_MAX; /* held by the gate: loads when it rises */
        }
        break;
    case 1:
    case 5:
        /* Loaded by the next gate trigger only. */
        if (c->seg == PIT_SEG_IDLE)
            c->seg = PIT_SEG_HELD; /* a count exists; waiting for a trigger */
        c->null_until = INT64_MAX;
        break;
    }
}

static void write_counter(PitState *s, int i, uint8_t v)
{
    PitChannel *c = &s->ch[i];
    int64_t t = now_tick(s);
    switch (c->rw) {
    case 0: /* no access mode until a control word is written */
        devlog(&s->log, DEVLOG_GUEST_ERROR, "pit: counter %d written before a control word", i);
        return;
    case 1:
        c->cr = v;
        break;
    case 2:
        c->cr = (uint16_t)(v << 8);
        break;
    case 3:
        if (!c->write_msb) {
            c->cr_lsb = v;
            c->write_msb = true;
            /* Mode 0: "writing the first byte disables counting; OUT is set
             * low immediately". */
            if (c->mode == 0) {
                settle(c, t);
                hold(c, t, false);
                c->seg = PIT_SEG_IDLE;
                ch_update(s, i, false);
            }
            return;
        }
        c->cr = (uint16_t)(c->cr_lsb | (v << 8));
        c->write_msb = false;
        break;
    }
    count_written(s, c, t);
    ch_update(s, i, false);
}

/* Counter latch command: the first one holds until read; later ones are
 * ignored ("Counter Latch Command"). */
static void latch_count(PitChannel *c, int64_t t)
{
    if (c->count_latched)
        return;
    settle(c, t);
    uint32_t v = ce_at(c, t);
    if (c->bcd)
        v = ((v / 1000) % 10) << 12 | ((v / 100) % 10) << 8 | ((v / 10) % 10) << 4 | (v % 10);
    c->latch = (uint16_t)v;
    c->count_latched = true;
    c->count_latched_msb = false;
}

/* Status byte: OUT, Null Count, then the control word bits ("Status Byte"). */
static void latch_status(PitChannel *c, int64_t t)
{
    if (c->status_latched)
        return;
    settle(c, t);
    c->status = (uint8_t)((out_at(c, t) ? 0x80 : 0) | (null_count(c, t) ? 0x40 : 0) | c->ctrl);
    c->status_latched = true;
}

static void write_mode(PitState *s, uint8_t v)
{
    int64_t t = now_tick(s);
    int sc = v >> 6;
    if (sc == 3) {
        /* Read-back: D5 = /COUNT, D4 = /STATUS, D3-D1 select counters 2-0. */
        for (int i = 0; i < 3; i++) {
            if (!(v & (2u << i)))
                continue;
            if (!(v & 0x20))
                latch_count(&s->ch[i], t);
            if (!(v & 0x10))
                latch_status(&s->ch[i], t);
        }
        return;
    }
    if (((v >> 4) & 3) == 0) {
        latch_count(&s->ch[sc], t);
        return;
    }
    write_control(&s->ch[sc], v, t);
    ch_update(s, sc, false);
}

static uint8_t read_counter(PitState *s, int i)
{
    PitChannel *c = &s->ch[i];
    if (c->status_latched) {
        /* "If both count and status are latched, the first read returns
         * the status." */
        c->status_latched = false;
        return c->status;
    }
    uint16_t v;
    bool from_latch = c->count_latched;
    if (from_latch) {
        v = c->latch;
    } else {
        int64_t t = now_tick(s);
        settle(c, t);
        uint32_t x = ce_at(c, t);
        if (c->bcd)
            x = ((x / 1000) % 10) << 12 | ((x / 100) % 10) << 8 | ((x / 10) % 10) << 4 | (x % 10);
        v = (uint16_t)x;
    }
    uint8_t r;
    switch (c->rw) {
    case 1:
        r = (uint8_t)v;
        c->count_latched = false;
        break;
    case 2:
        r = (uint8_t)(v >> 8);
        c->count_latched = false;
        break;
    case 3:
        if (!c->read_msb) {
            r = (uint8_t)v;
            c->read_msb = true;
        } else {
            r = (uint8_t)(v >> 8);
            c->read_msb = false;
            c->count_latched = false;
        }
        break;
    default:
        r = 0xFF; /* never programmed */
        break;
    }
    return r;
}

void pit_set_gate(PitState *s, int i, bool level)
{
    if (i < 0 || i > 2)
        return;
    PitChannel *c = &s->ch[i];
    if (c->gate == level)
        return;
    int64_t t = now_tick(s);
    settle(c, t);
    c->gate = level;
    switch (c->mode) {
    case 0:
    case 4:
        if (!level && c->seg == PIT_SEG_RUN) {
            /* Suspend: remember the ticks still to go to terminal count. */
            bool loaded = t >= c->anchor;
            int64_t d = loaded ? t - c->anchor : 0;
            bool out = out_at(c, t);
            if (d >= (int64_t)c->n + (c->mode == 4))
                c->tc_done = true;
            hold(c, t, out);
            if (!loaded)
                c->held_ce = c->n % modulus(c); /* the load happens regardless */
            c->n = c->tc_done ? c->held_ce : (uint32_t)((int64_t)c->n - d);
        } else if (level && c->seg == PIT_SEG_HELD) {
            c->seg = PIT_SEG_RUN;
            c->anchor = t;
        }
        break;
    case 2:
    case 3:
        if (!level) {
            if (c->seg == PIT_SEG_RUN)
                hold(c, t, true); /* OUT high immediately, counting stops */
        } else if (c->seg != PIT_SEG_IDLE) {
            /* Rising gate: reload the count on the next CLK. */
            uint32_t n = cr_count(c);
            c->n = n < 2 ? 2 : n;
            c->anchor = t + 1;
            c->start_low = false;
            c->seg = PIT_SEG_RUN;
            c->null_until = t + 1;
        }
        break;
    case 1:
    case 5:
        if (level && c->seg != PIT_SEG_IDLE) {
            /* Trigger: load the count on the next CLK, retriggerable. */
            c->n = cr_count(c);
            c->anchor = t + 1;
            c->seg = PIT_SEG_RUN;
            c->null_until = t + 1;
        }
        break;
    }
    ch_update(s, i, false);
}

bool pit_get_out(PitState *s, int i)
{
    if (i < 0 || i > 2)
        return false;
    PitChannel *c = &s->ch[i];
    int64_t t = now_tick(s);
    settle(c, t);
    return out_at(c, t);
}

bool pit_speaker_level(PitState *s)
{
    return (s->port61 & 0x02) && pit_get_out(s, 2);
}

/* ---- Bus glue ------------------------------------------------------------- */

static uint32_t pit_read(void *opaque, uint32_t off, unsigned size)
{
    (void)size;
    PitState *s = opaque;
    if (off < 3)
        return read_counter(s, (int)off);
    return 0xFF; /* the control word register is write-only */
}

static void pit_write(void *opaque, uint32_t off, uint32_t v, unsigned size)
{
    (void)size;
    PitState *s = opaque;
    if (off < 3)
        write_counter(s, (int)off, (uint8_t)v);
    else
        write_mode(s, (uint8_t)v);
}

/* Port 61h: bit 0 timer 2 gate, bit 1 speaker data enable, bits 2-3 NMI
 * enables (stored), bit 4 refresh toggle, bit 5 OUT2, bits 6-7 NMI sources
 * (none are raised). */
static uint32_t port61_read(void *opaque, uint32_t off, unsigned size)
{
    (void)off;
    (void)size;
    PitState *s = opaque;
    uint8_t v = s->port61 & 0x0F;
    if ((sched_now(s->sched) / REFRESH_NS) & 1)
        v |= 0x10;
    if (pit_get_out(s, 2))
        v |= 0x20;
    return v;
}

static void port61_write(void *opaque, uint32_t off, uint32_t v, unsigned size)
{
    (void)off;
    (void)size;
    PitState *s = opaque;
    s->port61 = (uint8_t)(v & 0x0F);
    pit_set_gate(s, 2, v & 0x01);
}

const BusOps pit_ops = {pit_read, pit_write, 1, 1};
const BusOps pit_port61_ops = {port61_read, port61_write, 1, 1};

/* ---- Life cycle ------------------------------------------------------------- */

void pit_reset(PitState *s)
{
    for (int i = 0; i < 3; i++) {
        PitChannel *c = &s->ch[i];
        sched_timer_del(s->sched, &c->timer);
        SchedTimer timer = c->timer;
        memset(c, 0, sizeof *c);
        c->timer = timer;
        c->seg = PIT_SEG_IDLE;
        c->held_out = false;
        c->null_until = INT64_MAX;
        c->gate = i != 2;
    }
    s->port61 = 0;
    for (int i = 0; i < 3; i++)
        ch_update(s, i, false);
}

void pit_init(PitState *s, Sched *sched)
{
    memset(s, 0, sizeof *s);
    s->sched = sched;
    sched_timer_init(&s->ch[0].timer, ch0_timer, s);
    sched_timer_init(&s->ch[1].timer, ch1_timer, s);
    sched_timer_init(&s->ch[2].timer, ch2_timer, s);
    pit_reset(s);
}
