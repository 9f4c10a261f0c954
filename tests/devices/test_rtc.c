/* MC146818 RTC/CMOS: time in BCD and binary, 12/24 hours, the update cycle
 * and UIP in guest time, the periodic, alarm and update-ended interrupts,
 * register C clearing, the NMI mask bit, and the CMOS memory bytes.  The
 * set-time sequence is Linux's mc146818_set_time(): SET in B and the
 * divider held in reset (A = 70h) while the registers are written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devices/rtc.h"
#include "fake_clock.h"

#define MS 1000000ull
#define US 1000ull

/* 2024-02-29 23:59:58 UTC, a Thursday in a leap year. */
#define START 1709251198

typedef struct Fix {
    Bus bus;
    RtcState rtc;
    IrqProbe irq;
} Fix;

static uint8_t cmos_read(Fix *f, uint8_t idx)
{
    outb(f, 0x70, idx);
    return inb(f, 0x71);
}

static void cmos_write(Fix *f, uint8_t idx, uint8_t v)
{
    outb(f, 0x70, idx);
    outb(f, 0x71, v);
}

static int setup(void **state)
{
    Fix *f = calloc(1, sizeof *f);
    fake_clock_init(0);
    assert_int_equal(bus_init(&f->bus), 0);
    rtc_init(&f->rtc, &fake_sched, START);
    irq_connect(&f->rtc.irq, probe_handler, &f->irq, 8);
    bus_map_ports(&f->bus, 0x70, 2, &rtc_ops, &f->rtc);
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

static void test_time_bcd_and_binary(void **state)
{
    Fix *f = *state;
    assert_int_equal(cmos_read(f, 0x0A), 0x26);
    assert_int_equal(cmos_read(f, 0x0B), 0x02); /* 24 h, BCD */
    assert_int_equal(cmos_read(f, 0x00), 0x58);
    assert_int_equal(cmos_read(f, 0x02), 0x59);
    assert_int_equal(cmos_read(f, 0x04), 0x23);
    assert_int_equal(cmos_read(f, 0x06), 0x05); /* Thursday, Sunday = 1 */
    assert_int_equal(cmos_read(f, 0x07), 0x29);
    assert_int_equal(cmos_read(f, 0x08), 0x02);
    assert_int_equal(cmos_read(f, 0x09), 0x24);
    assert_int_equal(cmos_read(f, 0x32), 0x20); /* century */
    assert_int_equal(cmos_read(f, 0x0D), 0x80); /* valid RAM and time */

    cmos_write(f, 0x0B, 0x06); /* binary, 24 h */
    assert_int_equal(cmos_read(f, 0x00), 58);
    assert_int_equal(cmos_read(f, 0x04), 23);
    assert_int_equal(cmos_read(f, 0x09), 24);
    cmos_write(f, 0x0B, 0x04); /* binary, 12 h: 11 PM */
    assert_int_equal(cmos_read(f, 0x04), 0x80 | 11);
    cmos_write(f, 0x0B, 0x00); /* BCD, 12 h */
    assert_int_equal(cmos_read(f, 0x04), 0x91);
    /* Writing 12 AM in 12-hour mode is hour 0. */
    cmos_write(f, 0x0B, 0x80);
    cmos_write(f, 0x04, 0x12);
    cmos_write(f, 0x0B, 0x02);
    assert_int_equal(cmos_read(f, 0x04), 0x00);
}

static void test_update_cycle_and_uip(void **state)
{
    Fix *f = *state;
    /* The first update begins 500 ms after the divider starts (t = 0),
     * UIP 244 us ahead of it, and takes 1984 us. */
    fake_run_to(500 * MS - 245 * US);
    assert_false(cmos_read(f, 0x0A) & 0x80);
    fake_run_to(500 * MS - 243 * US);
    assert_true(cmos_read(f, 0x0A) & 0x80);
    fake_run_to(500 * MS + 1983 * US);
    assert_true(cmos_read(f, 0x0A) & 0x80);
    assert_int_equal(cmos_read(f, 0x00), 0x58);
    fake_run_to(500 * MS + 1984 * US);
    assert_false(cmos_read(f, 0x0A) & 0x80);
    assert_int_equal(cmos_read(f, 0x00), 0x59);
    /* Across midnight into 1 March (2024 is a leap year: 29 Feb first). */
    fake_run_to(1500 * MS + 1984 * US);
    assert_int_equal(cmos_read(f, 0x00), 0x00);
    assert_int_equal(cmos_read(f, 0x02), 0x00);
    assert_int_equal(cmos_read(f, 0x04), 0x00);
    assert_int_equal(cmos_read(f, 0x06), 0x06);
    assert_int_equal(cmos_read(f, 0x07), 0x01);
    assert_int_equal(cmos_read(f, 0x08), 0x03);
    assert_int_equal(rtc_get_time(&f->rtc), START + 2);
    /* An hour of guest time later, an hour later on the clock. */
    fake_advance(3600 * 1000 * MS);
    assert_int_equal(rtc_get_time(&f->rtc), START + 2 + 3600);
    assert_int_equal(cmos_read(f, 0x04), 0x01);
}

static void test_linux_set_time(void **state)
{
    Fix *f = *state;
    fake_run_to(300 * MS);
    uint8_t save_b = cmos_read(f, 0x0B);
    cmos_write(f, 0x0B, save_b | 0x80);
    uint8_t save_a = cmos_read(f, 0x0A);
    cmos_write(f, 0x0A, save_a | 0x70); /* divider reset */
    cmos_write(f, 0x09, 0x99);
    cmos_write(f, 0x08, 0x12);
    cmos_write(f, 0x07, 0x31);
    cmos_write(f, 0x04, 0x23);
    cmos_write(f, 0x02, 0x59);
    cmos_write(f, 0x00, 0x59);
    /* SET stops updates: nothing moves. */
    fake_advance(3000 * MS);
    assert_int_equal(cmos_read(f, 0x00), 0x59);
    assert_false(cmos_read(f, 0x0A) & 0x80);
    cmos_write(f, 0x0B, save_b);
    cmos_write(f, 0x0A, save_a);
    /* The divider restarted: the next update is 500 ms on. */
    uint64_t t0 = fake_now;
    fake_run_to(t0 + 500 * MS + 1983 * US);
    assert_int_equal(cmos_read(f, 0x00), 0x59);
    fake_run_to(t0 + 500 * MS + 1984 * US);
    /* 1999-12-31 23:59:59 + 1 s: the year wraps to 00, the century byte
     * is plain RAM and does not change. */
    assert_int_equal(cmos_read(f, 0x00), 0x00);
    assert_int_equal(cmos_read(f, 0x07), 0x01);
    assert_int_equal(cmos_read(f, 0x08), 0x01);
    assert_int_equal(cmos_read(f, 0x09), 0x00);
}

/* Step through interrupts: service IRQ8 by reading C each time it rises. */
static int count_irqs(Fix *f, uint64_t until, uint8_t want_flag)
{
    int n = 0;
    while (sched_next(&fake_sched) <= until) {
        fake_run_to(sched_next(&fake_sched));
        if (f->irq.level[8]) {
            uint8_t c = cmos_read(f, 0x0C);
            assert_true(c & 0x80);
            if (c & want_flag)
                n++;
            assert_int_equal(f->irq.level[8], 0);
        }
    }
    fake_run_to(until);
    return n;
}

static void test_periodic_interrupt(void **state)
{
    Fix *f = *state;
    cmos_write(f, 0x0B, 0x42); /* PIE */
    /* 1024 Hz (RS = 6): 1024 interrupts a second. */
    int n = count_irqs(f, 1000 * MS, 0x40);
    assert_int_equal(n, 1024);
    /* 2 Hz (RS = 15). */
    cmos_write(f, 0x0A, 0x2F);
    n = count_irqs(f, 3000 * MS, 0x40);
    assert_int_equal(n, 4);
    /* RS = 0: none; PF alone without PIE raises nothing. */
    cmos_write(f, 0x0A, 0x20);
    n = count_irqs(f, 4000 * MS, 0x40);
    assert_int_equal(n, 0);
    cmos_write(f, 0x0A, 0x26);
    cmos_write(f, 0x0B, 0x02);
    fake_advance(10 * MS);
    assert_int_equal(f->irq.level[8], 0);
    /* PF is still set in C (flags do not depend on the enables). */
    assert_int_equal(cmos_read(f, 0x0C) & 0xC0, 0x40);
}

static void test_update_ended_interrupt(void **state)
{
    Fix *f = *state;
    cmos_write(f, 0x0B, 0x12); /* UIE */
    fake_run_to(500 * MS + 1983 * US);
    assert_int_equal(f->irq.level[8], 0);
    fake_run_to(500 * MS + 1984 * US);
    assert_int_equal(f->irq.level[8], 1);
    /* IRQF | UF (PF runs too, at 1024 Hz, without PIE) */
    assert_int_equal(cmos_read(f, 0x0C) & 0xB0, 0x90);
    assert_int_equal(f->irq.level[8], 0);
    assert_int_equal(cmos_read(f, 0x0C), 0x00); /* cleared by the read */
    int n = count_irqs(f, 10500 * MS + 1984 * US, 0x10);
    assert_int_equal(n, 10);
    /* SET clears UIE. */
    cmos_write(f, 0x0B, 0x92);
    assert_int_equal(cmos_read(f, 0x0B), 0x82);
}

static void test_alarm_interrupt(void **state)
{
    Fix *f = *state;
    /* Alarm at 00:00:03 (the clock reads 23:59:58 now). */
    cmos_write(f, 0x01, 0x03);
    cmos_write(f, 0x03, 0x00);
    cmos_write(f, 0x05, 0x00);
    cmos_write(f, 0x0B, 0x22); /* AIE */
    fake_run_to(4500 * MS);
    assert_int_equal(f->irq.level[8], 0);
    fake_run_to(4500 * MS + 1984 * US); /* the update that makes 00:00:03 */
    assert_int_equal(f->irq.level[8], 1);
    assert_int_equal(cmos_read(f, 0x0C) & 0xB0, 0xB0); /* IRQF | AF | UF */
    /* Don't-care codes (11xxxxxx) in all three: every second. */
    cmos_write(f, 0x01, 0xC0);
    cmos_write(f, 0x03, 0xFF);
    cmos_write(f, 0x05, 0xC5);
    int n = count_irqs(f, 9500 * MS + 1984 * US, 0x20);
    assert_int_equal(n, 5);
}

static void test_nmi_bit_and_ram(void **state)
{
    Fix *f = *state;
    assert_false(rtc_nmi_masked(&f->rtc));
    outb(f, 0x70, 0x8F);
    assert_true(rtc_nmi_masked(&f->rtc));
    outb(f, 0x71, 0x5A); /* index 0x0F, the NMI bit is not part of it */
    outb(f, 0x70, 0x0F);
    assert_false(rtc_nmi_masked(&f->rtc));
    assert_int_equal(inb(f, 0x71), 0x5A);
    /* Every RAM byte from 0x0E up is plain storage. */
    for (int i = 0x0E; i < 0x80; i++)
        cmos_write(f, (uint8_t)i, (uint8_t)(i ^ 0xA5));
    for (int i = 0x0E; i < 0x80; i++)
        assert_int_equal(cmos_read(f, (uint8_t)i), i ^ 0xA5);
    /* C and D are read-only; UIP is read-only. */
    cmos_write(f, 0x0D, 0x00);
    assert_int_equal(cmos_read(f, 0x0D), 0x80);
    cmos_write(f, 0x0A, 0xA6);
    assert_int_equal(f->rtc.cmos[0x0A], 0x26);
}

static void test_memory_bytes(void **state)
{
    Fix *f = *state;
    rtc_set_memory(&f->rtc, 32u << 20, 0);
    assert_int_equal(cmos_read(f, 0x15) | cmos_read(f, 0x16) << 8, 640);
    assert_int_equal(cmos_read(f, 0x17) | cmos_read(f, 0x18) << 8, 31 * 1024);
    assert_int_equal(cmos_read(f, 0x30) | cmos_read(f, 0x31) << 8, 31 * 1024);
    assert_int_equal(cmos_read(f, 0x34) | cmos_read(f, 0x35) << 8, 16 * 16);
    rtc_set_memory(&f->rtc, 3584ull << 20, 2560ull << 20);
    assert_int_equal(cmos_read(f, 0x17) | cmos_read(f, 0x18) << 8, 0xFFFF);
    assert_int_equal(cmos_read(f, 0x34) | cmos_read(f, 0x35) << 8, (3584 - 16) * 16);
    assert_int_equal(cmos_read(f, 0x5B) | cmos_read(f, 0x5C) << 8 | cmos_read(f, 0x5D) << 16,
                     2560 * 16);
    unsigned sum = 0;
    for (int i = 0x10; i <= 0x2D; i++)
        sum += cmos_read(f, (uint8_t)i);
    assert_int_equal(cmos_read(f, 0x2E) << 8 | cmos_read(f, 0x2F), sum);
}

static void test_garbage_does_not_hurt(void **state)
{
    Fix *f = *state;
    cmos_write(f, 0x0B, 0x82);
    cmos_write(f, 0x08, 0x99); /* month 99 */
    cmos_write(f, 0x07, 0xFF);
    cmos_write(f, 0x06, 0x00);
    cmos_write(f, 0x04, 0xFF);
    cmos_write(f, 0x0B, 0x02);
    fake_advance(5000 * MS);
    for (int v = 0; v < 256; v++) {
        cmos_write(f, 0x0A, (uint8_t)v);
        cmos_write(f, 0x0B, (uint8_t)v);
        fake_advance(3 * MS);
        (void)cmos_read(f, 0x0C);
        (void)rtc_get_time(&f->rtc);
    }
    (void)rtc_cmos_get(&f->rtc, 200);
    rtc_cmos_set(&f->rtc, 200, 1);
}

static void test_two_instances(void **state)
{
    (void)state;
    RtcState *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    fake_clock_init(0);
    rtc_init(a, &fake_sched, 0);
    rtc_init(b, &fake_sched, 86400 * 365);
    assert_int_equal(rtc_cmos_get(a, 9), 0x70);
    assert_int_equal(rtc_cmos_get(b, 9), 0x71);
    assert_int_equal(rtc_cmos_get(a, 0x32), 0x19);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_time_bcd_and_binary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_cycle_and_uip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linux_set_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_periodic_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_ended_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alarm_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nmi_bit_and_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_does_not_hurt, setup, teardown),
        cmocka_unit_test(test_two_instances),
    };
    return cmocka_run_group_tests_name("rtc", tests, NULL, NULL);
}
