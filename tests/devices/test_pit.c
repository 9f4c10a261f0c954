/* 8254 PIT and port 61h: every mode's OUT waveform and counter value at
 * chosen CLK ticks, latching, read-back, access modes, BCD, gates.
 *
 * Tick k is the k-th 1.193182 MHz CLK edge of guest time; a count written
 * during tick w is loaded at tick w + 1 (8254 data sheet: "loaded on the
 * next CLK pulse").  The driver sequences are Linux's: 0x34 + LATCH for the
 * periodic tick (mode 2), 0x30 for one-shot (mode 0), and the TSC
 * calibration on channel 2 (gate via port 61h, 0xB0 = mode 0, poll bit 5
 * of port 61h for OUT2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devices/pit.h"
#include "fake_clock.h"

typedef struct Fix {
    Bus bus;
    PitState pit;
    IrqProbe irq;
} Fix;

/* Guest time of CLK edge k. */
static uint64_t tick_time(uint64_t k)
{
    return (uint64_t)(((unsigned __int128)k * 1000000000u + PIT_HZ - 1) / PIT_HZ);
}

/* Go to tick k (just after its edge). */
static void at_tick(uint64_t k)
{
    fake_run_to(tick_time(k));
}
/* Just before edge k: still tick k - 1. */
static void before_tick(uint64_t k)
{
    fake_run_to(tick_time(k) - 1);
}
/* The current tick. */
static uint64_t cur_tick(void)
{
    return sched_ns_to_ticks(fake_now, PIT_HZ);
}

static int setup(void **state)
{
    Fix *f = calloc(1, sizeof *f);
    fake_clock_init(0);
    assert_int_equal(bus_init(&f->bus), 0);
    pit_init(&f->pit, &fake_sched);
    irq_connect(&f->pit.out[0], probe_handler, &f->irq, 0);
    bus_map_ports(&f->bus, 0x40, 4, &pit_ops, &f->pit);
    bus_map_ports(&f->bus, 0x61, 1, &pit_port61_ops, &f->pit);
    /* Start at a tick boundary away from 0. */
    at_tick(100);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fix *f = *state;
    bus_destroy(&f->bus);
    free(f);
    return 0;
}

static void program(Fix *f, int ch, uint8_t cw, uint16_t count)
{
    outb(f, 0x43, (uint8_t)((ch << 6) | cw));
    outb(f, (uint16_t)(0x40 + ch), (uint8_t)count);
    outb(f, (uint16_t)(0x40 + ch), (uint8_t)(count >> 8));
}

/* Counter latch + two reads (lo/hi access mode). */
static uint16_t latch_read(Fix *f, int ch)
{
    outb(f, 0x43, (uint8_t)(ch << 6));
    uint8_t lo = inb(f, (uint16_t)(0x40 + ch));
    uint8_t hi = inb(f, (uint16_t)(0x40 + ch));
    return (uint16_t)(lo | hi << 8);
}

static bool out2(Fix *f)
{
    return inb(f, 0x61) & 0x20;
}

static void test_mode2_rate_generator(void **state)
{
    Fix *f = *state;
    const uint16_t n = 11932; /* Linux LATCH for HZ = 100 */
    program(f, 0, 0x34, n);   /* written during tick 100, loaded at 101 */
    int base = f->irq.rises[0];
    assert_int_equal(f->irq.level[0], 1); /* mode 2: OUT high */
    at_tick(101);
    assert_int_equal(latch_read(f, 0), n);
    at_tick(101 + 1000);
    assert_int_equal(latch_read(f, 0), n - 1000);
    /* OUT goes low while CE = 1, i.e. at tick 101 + n - 1, for one CLK. */
    before_tick(101 + n - 1);
    assert_int_equal(f->irq.level[0], 1);
    at_tick(101 + n - 1);
    assert_int_equal(f->irq.level[0], 0);
    assert_int_equal(latch_read(f, 0), 1);
    at_tick(101 + n);
    assert_int_equal(f->irq.level[0], 1);
    assert_int_equal(f->irq.rises[0] - base, 1);
    assert_int_equal(latch_read(f, 0), n); /* reloaded */
    /* One second later: 100 rising edges in all (one per period). */
    fake_run_to(tick_time(101 + 100ull * n));
    assert_int_equal(f->irq.rises[0] - base, 100);
    /* Only one timer per edge is armed, never one per tick. */
    assert_true(sched_timer_pending(&f->pit.ch[0].timer));
}

static void test_mode2_new_count_at_period_end(void **state)
{
    Fix *f = *state;
    program(f, 0, 0x34, 100); /* loaded at 101: periods end at 201, 301... */
    at_tick(150);
    outb(f, 0x40, 50);
    outb(f, 0x40, 0);
    assert_int_equal(latch_read(f, 0), 100 - 49); /* the current period goes on */
    at_tick(200);
    assert_int_equal(f->irq.level[0], 0); /* the old period's last tick */
    at_tick(201);
    assert_int_equal(latch_read(f, 0), 50);
    at_tick(201 + 49);
    assert_int_equal(f->irq.level[0], 0);
    at_tick(201 + 50);
    assert_int_equal(f->irq.level[0], 1);
}

static void test_late_timer_keeps_the_pulse(void **state)
{
    Fix *f = *state;
    program(f, 0, 0x34, 100); /* loaded at 101: low at 200, high at 201 */
    int base = f->irq.rises[0];
    /* The machine runs the timer 5 ticks late: the one-CLK low pulse is
     * over by then, but the PIC must still see the edge. */
    fake_now = tick_time(205);
    sched_run_due(&fake_sched);
    assert_int_equal(f->irq.rises[0] - base, 1);
    assert_int_equal(f->irq.level[0], 1);
    assert_int_equal(f->pit.ch[0].timer.expire, tick_time(300));
}

static void test_mode0_interrupt_on_terminal_count(void **state)
{
    Fix *f = *state;
    int base = f->irq.rises[0];
    outb(f, 0x43, 0x30);
    assert_int_equal(f->irq.level[0], 0); /* mode 0: OUT low after the control word */
    outb(f, 0x40, 0xE8);
    /* Writing the LSB alone does not start the count. */
    at_tick(150);
    outb(f, 0x40, 0x03); /* N = 1000, loaded at 151 */
    at_tick(151);
    assert_int_equal(latch_read(f, 0), 1000);
    /* OUT rises N + 1 CLKs after the count was written. */
    before_tick(151 + 1000);
    assert_int_equal(f->irq.level[0], 0);
    assert_int_equal(latch_read(f, 0), 1);
    at_tick(151 + 1000);
    assert_int_equal(f->irq.level[0], 1);
    assert_int_equal(f->irq.rises[0] - base, 1);
    /* The counter keeps counting (wraps) with OUT high. */
    at_tick(151 + 1005);
    assert_int_equal(latch_read(f, 0), 0x10000 - 5);
    assert_int_equal(f->irq.level[0], 1);
    fake_advance(1000000000);
    assert_int_equal(f->irq.rises[0] - base, 1);
    /* Nothing left to time. */
    assert_false(sched_timer_pending(&f->pit.ch[0].timer));
}

static void test_mode0_gate_suspends(void **state)
{
    Fix *f = *state;
    outb(f, 0x61, 0x01);      /* gate 2 high, speaker off */
    program(f, 2, 0xB0, 500); /* loaded at 101 */
    at_tick(201);
    assert_int_equal(latch_read(f, 2), 400);
    outb(f, 0x61, 0x00); /* gate low: counting stops */
    at_tick(1000);
    assert_int_equal(latch_read(f, 2), 400);
    assert_false(out2(f));
    outb(f, 0x61, 0x01); /* resume at tick 1000 */
    at_tick(1000 + 399);
    assert_false(out2(f));
    at_tick(1000 + 400);
    assert_true(out2(f));
}

static void test_linux_pit_calibration(void **state)
{
    Fix *f = *state;
    /* pit_calibrate_tsc(): gate high, speaker off, mode 0 on channel 2. */
    outb(f, 0x61, (uint8_t)((inb(f, 0x61) & ~0x02) | 0x01));
    const uint16_t latch = 1193182 / (1000 / 10); /* 10 ms */
    outb(f, 0x43, 0xB0);
    outb(f, 0x42, latch & 0xFF);
    outb(f, 0x42, latch >> 8);
    uint64_t start = fake_now;
    int polls = 0;
    while (!(inb(f, 0x61) & 0x20) && polls < 100000) {
        fake_advance(1000); /* 1 us per poll */
        polls++;
    }
    uint64_t took = fake_now - start;
    /* latch + 1 CLKs, within the 1 us polling step. */
    assert_true(took >= tick_time(latch) - 1000 && took <= tick_time(latch + 2) + 1000);
}

static void test_mode3_square_wave(void **state)
{
    Fix *f = *state;
    outb(f, 0x61, 0x01);
    program(f, 2, 0xB6, 10); /* loaded at 101: high 5, low 5 */
    before_tick(101);
    assert_true(out2(f));
    at_tick(101);
    assert_int_equal(latch_read(f, 2), 10);
    at_tick(102);
    assert_int_equal(latch_read(f, 2), 8); /* counts by two */
    at_tick(105);
    assert_true(out2(f));
    assert_int_equal(latch_read(f, 2), 2);
    at_tick(106);
    assert_false(out2(f));
    assert_int_equal(latch_read(f, 2), 10);
    at_tick(110);
    assert_false(out2(f));
    at_tick(111);
    assert_true(out2(f));

    /* Odd count 7: high (N + 1) / 2 = 4, low (N - 1) / 2 = 3. */
    program(f, 2, 0xB6, 7); /* written at 111; a new control word restarts */
    at_tick(112);
    assert_true(out2(f));
    assert_int_equal(latch_read(f, 2), 6);
    at_tick(115);
    assert_true(out2(f));
    at_tick(116);
    assert_false(out2(f));
    at_tick(118);
    assert_false(out2(f));
    at_tick(119);
    assert_true(out2(f));
    /* Gate low forces OUT high at once and stops the count. */
    at_tick(123);
    assert_false(out2(f));
    outb(f, 0x61, 0x00);
    assert_true(out2(f));
    /* The rising gate reloads on the next CLK. */
    at_tick(200);
    outb(f, 0x61, 0x01);
    at_tick(201);
    assert_int_equal(latch_read(f, 2), 6);
    at_tick(205);
    assert_false(out2(f));
}

static void test_mode1_one_shot(void **state)
{
    Fix *f = *state;
    outb(f, 0x61, 0x00);
    program(f, 2, 0xB2, 20); /* mode 1: waits for a trigger */
    at_tick(150);
    assert_true(out2(f));
    outb(f, 0x61, 0x01); /* trigger at 150: OUT low from 151 for 20 CLKs */
    assert_true(out2(f));
    at_tick(151);
    assert_false(out2(f));
    assert_int_equal(latch_read(f, 2), 20);
    at_tick(170);
    assert_false(out2(f));
    at_tick(171);
    assert_true(out2(f));
    /* Retrigger: a new one-shot of the (new) count. */
    outb(f, 0x42, 5);
    outb(f, 0x42, 0);
    at_tick(180);
    assert_true(out2(f)); /* writing the count does not trigger */
    outb(f, 0x61, 0x00);
    outb(f, 0x61, 0x01);
    at_tick(181);
    assert_false(out2(f));
    at_tick(186);
    assert_true(out2(f));
}

static void test_mode4_and_mode5_strobes(void **state)
{
    Fix *f = *state;
    int base = f->irq.rises[0];
    program(f, 0, 0x38, 30); /* mode 4 on channel 0, loaded at 101 */
    assert_int_equal(f->irq.level[0], 1);
    at_tick(130);
    assert_int_equal(f->irq.level[0], 1);
    at_tick(131); /* CE reaches 0: OUT low for one CLK */
    assert_int_equal(f->irq.level[0], 0);
    at_tick(132);
    assert_int_equal(f->irq.level[0], 1);
    fake_advance(100000000);
    assert_int_equal(f->irq.rises[0] - base, 2); /* mode set + end of strobe */

    outb(f, 0x61, 0x00);
    program(f, 2, 0xBA, 10); /* mode 5 on channel 2 */
    assert_true(out2(f));
    uint64_t t0 = cur_tick();
    outb(f, 0x61, 0x01); /* trigger: load at t0 + 1, strobe at t0 + 11 */
    at_tick(t0 + 10);
    assert_true(out2(f));
    at_tick(t0 + 11);
    assert_false(out2(f));
    at_tick(t0 + 12);
    assert_true(out2(f));
}

static void test_latch_and_readback(void **state)
{
    Fix *f = *state;
    program(f, 0, 0x34, 1000); /* loaded at 101 */
    at_tick(201);
    outb(f, 0x43, 0x00); /* latch channel 0: CE = 900 */
    at_tick(301);
    outb(f, 0x43, 0x00); /* ignored: the first latch is unread */
    assert_int_equal(inb(f, 0x40), 900 & 0xFF);
    assert_int_equal(inb(f, 0x40), 900 >> 8);
    /* Unlatched reads follow the counter. */
    assert_int_equal(latch_read(f, 0), 800);

    /* Read-back: status of counter 0 only (11 1 0 001 0). */
    outb(f, 0x43, 0xE2);
    uint8_t st = inb(f, 0x40);
    assert_int_equal(st & 0x3F, 0x34); /* RW = 3, mode 2, binary */
    assert_true(st & 0x80);            /* OUT high */
    assert_false(st & 0x40);           /* count loaded */
    /* After a new control word: Null Count, OUT per mode. */
    outb(f, 0x43, 0x30);
    outb(f, 0x43, 0xE2);
    st = inb(f, 0x40);
    assert_int_equal(st, 0x40 | 0x30);
    outb(f, 0x40, 10);
    outb(f, 0x40, 0);
    outb(f, 0x43, 0xE2);
    assert_true(inb(f, 0x40) & 0x40); /* written, not yet loaded */
    at_tick(302);
    outb(f, 0x43, 0xE2);
    assert_false(inb(f, 0x40) & 0x40);
    /* Count and status together: status first, then the count. */
    at_tick(305);
    outb(f, 0x43, 0xC2);
    assert_int_equal(inb(f, 0x40), 0x30);
    assert_int_equal(inb(f, 0x40), 10 - 3);
    assert_int_equal(inb(f, 0x40), 0);
    /* Read-back of several counters latches each. */
    outb(f, 0x61, 0x01);
    program(f, 2, 0xB4, 0x1234);
    at_tick(400);
    outb(f, 0x43, 0xDA); /* count of counters 2 and 0 (11 0 1 101 0) */
    at_tick(500);
    uint8_t lo = inb(f, 0x42);
    uint16_t c2 = (uint16_t)(lo | inb(f, 0x42) << 8);
    assert_int_equal(c2, 0x1234 - (400 - 306));
}

static void test_access_modes_and_bcd(void **state)
{
    Fix *f = *state;
    outb(f, 0x43, 0x10); /* LSB only, mode 0 */
    outb(f, 0x40, 0x50);
    at_tick(111);
    assert_int_equal(inb(f, 0x40), 0x50 - 10);
    outb(f, 0x43, 0x20); /* MSB only */
    outb(f, 0x40, 0x01); /* N = 0x100, loaded at 112 */
    at_tick(112 + 0x10);
    assert_int_equal(inb(f, 0x40), 0x00); /* 0xF0: the MSB is 0 */
    /* BCD: count 1000 decimal written as 0x1000. */
    uint64_t t = cur_tick();
    outb(f, 0x43, 0x31);
    outb(f, 0x40, 0x00);
    outb(f, 0x40, 0x10); /* loaded at t + 1 */
    at_tick(t + 1 + 10);
    assert_int_equal(latch_read(f, 0), 0x0990);
    /* BCD count 0 is 10^4: it wraps through 9999. */
    t = cur_tick();
    outb(f, 0x43, 0x31);
    outb(f, 0x40, 0x00);
    outb(f, 0x40, 0x00);
    at_tick(t + 2);
    assert_int_equal(latch_read(f, 0), 0x9999);
    /* Binary count 0 is 2^16. */
    t = cur_tick();
    program(f, 0, 0x30, 0);
    at_tick(t + 1);
    assert_int_equal(latch_read(f, 0), 0);
    at_tick(t + 2);
    assert_int_equal(latch_read(f, 0), 0xFFFF);
}

static void test_port61(void **state)
{
    Fix *f = *state;
    outb(f, 0x61, 0x0F);
    assert_int_equal(inb(f, 0x61) & 0x0F, 0x0F);
    outb(f, 0x61, 0x00);
    /* Refresh toggle: flips every 15 us of guest time. */
    fake_run_to(15000 * 10);
    uint8_t a = inb(f, 0x61) & 0x10;
    fake_advance(15000);
    uint8_t b = inb(f, 0x61) & 0x10;
    fake_advance(15000);
    uint8_t c = inb(f, 0x61) & 0x10;
    assert_int_not_equal(a, b);
    assert_int_equal(a, c);
    /* Speaker: OUT2 AND bit 1. */
    outb(f, 0x61, 0x03);
    program(f, 2, 0xB6, 1000);
    assert_true(pit_speaker_level(&f->pit));
    outb(f, 0x61, 0x01);
    assert_false(pit_speaker_level(&f->pit));
}

static void test_guest_cannot_break_it(void **state)
{
    Fix *f = *state;
    /* Illegal count 1 in mode 2/3, reads before programming, odd BCD. */
    assert_int_equal(inb(f, 0x41), 0xFF);
    program(f, 0, 0x34, 1);
    fake_advance(100000);
    program(f, 0, 0x37, 0xFFFF); /* BCD with invalid digits */
    fake_advance(100000);
    assert_int_equal(inb(f, 0x43), 0xFF);
    for (int v = 0; v < 256; v++) {
        outb(f, 0x43, (uint8_t)v);
        outb(f, 0x40, (uint8_t)(v * 7));
        outb(f, 0x41, (uint8_t)(v * 13));
        outb(f, 0x42, (uint8_t)(v * 3));
        outb(f, 0x61, (uint8_t)v);
        fake_advance(997);
        (void)inb(f, 0x40);
        (void)inb(f, 0x41);
        (void)inb(f, 0x42);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mode2_rate_generator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode2_new_count_at_period_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_timer_keeps_the_pulse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode0_interrupt_on_terminal_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode0_gate_suspends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linux_pit_calibration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode3_square_wave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode1_one_shot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode4_and_mode5_strobes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latch_and_readback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_modes_and_bcd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port61, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_cannot_break_it, setup, teardown),
    };
    return cmocka_run_group_tests_name("pit", tests, NULL, NULL);
}
