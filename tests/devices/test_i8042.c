/* 8042 controller, AT keyboard, PS/2 mouse.  The sequences are SeaBIOS's
 * ps2port.c (flush, self test AAh -> 55h, keyboard interface test ABh ->
 * 00h, command byte with the other port disabled, keyboard reset FFh ->
 * FAh AAh, F5h, F0h 02h, command byte with translation, F4h) and Linux's
 * i8042/psmouse (AUX loopback through D3h, A7h/A8h checks, mouse reset
 * through D4h, IntelliMouse probe by sample rates 200, 100, 80). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devices/i8042.h"
#include "fake_clock.h"

typedef struct Fix {
    Bus bus;
    I8042State kbc;
    IrqProbe irq;
    int a20_calls, a20_state, resets;
} Fix;

static void on_a20(void *opaque, bool on)
{
    Fix *f = opaque;
    f->a20_calls++;
    f->a20_state = on;
}

static void on_reset(void *opaque)
{
    ((Fix *)opaque)->resets++;
}

static int setup(void **state)
{
    Fix *f = calloc(1, sizeof *f);
    assert_int_equal(bus_init(&f->bus), 0);
    i8042_init(&f->kbc);
    f->kbc.a20 = on_a20;
    f->kbc.reset = on_reset;
    f->kbc.cb_opaque = f;
    f->a20_state = 1;
    irq_connect(&f->kbc.irq_kbd, probe_handler, &f->irq, 1);
    irq_connect(&f->kbc.irq_mouse, probe_handler, &f->irq, 12);
    bus_map_ports(&f->bus, 0x60, 1, &i8042_data_ops, &f->kbc);
    bus_map_ports(&f->bus, 0x64, 1, &i8042_cmd_ops, &f->kbc);
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

/* Read one byte, which must be there; returns it (and the AUX flag). */
static uint8_t rd(Fix *f, bool *aux)
{
    uint8_t st = inb(f, 0x64);
    assert_true(st & 0x01);
    if (aux)
        *aux = st & 0x20;
    return inb(f, 0x60);
}

static void expect(Fix *f, uint8_t v)
{
    assert_int_equal(rd(f, NULL), v);
}

static void expect_aux(Fix *f, uint8_t v)
{
    bool aux;
    assert_int_equal(rd(f, &aux), v);
    assert_true(aux);
}

static void expect_empty(Fix *f)
{
    assert_false(inb(f, 0x64) & 0x01);
}

static void ctl(Fix *f, uint8_t cmd)
{
    outb(f, 0x64, cmd);
}

static void write_ctr(Fix *f, uint8_t v)
{
    ctl(f, 0x60);
    outb(f, 0x60, v);
}

static void mouse_cmd(Fix *f, uint8_t v)
{
    ctl(f, 0xD4);
    outb(f, 0x60, v);
}

static void seabios_keyboard_setup(Fix *f)
{
    /* i8042_flush */
    for (int i = 0; i < 16 && (inb(f, 0x64) & 0x01); i++)
        (void)inb(f, 0x60);
    ctl(f, 0xAA);
    expect(f, 0x55);
    ctl(f, 0xAB);
    expect(f, 0x00);
    /* ps2_kbd_command(RESET_BAT): the other port disabled, IRQs off. */
    write_ctr(f, 0x20);
    outb(f, 0x60, 0xFF);
    expect(f, 0xFA);
    expect(f, 0xAA);
    expect_empty(f);
    outb(f, 0x60, 0xF5);
    expect(f, 0xFA);
    outb(f, 0x60, 0xF0);
    expect(f, 0xFA);
    outb(f, 0x60, 0x02);
    expect(f, 0xFA);
    /* Keyboard mode: mouse disabled, translation, keyboard IRQ. */
    write_ctr(f, 0x61);
    outb(f, 0x60, 0xF4);
    assert_int_equal(f->irq.level[1], 1);
    expect(f, 0xFA);
    assert_int_equal(f->irq.level[1], 0);
}

static void test_controller_basics(void **state)
{
    Fix *f = *state;
    assert_int_equal(inb(f, 0x64) & 0x14, 0x10); /* not inhibited, SYS clear */
    ctl(f, 0xAA);
    assert_int_equal(inb(f, 0x64) & 0x0D, 0x0D); /* OBF, SYS, last write a command */
    expect(f, 0x55);
    write_ctr(f, 0x45);
    assert_false(inb(f, 0x64) & 0x08); /* the last write was data */
    ctl(f, 0x20);
    expect(f, 0x45);
    /* Controller RAM beyond the command byte. */
    ctl(f, 0x65);
    outb(f, 0x60, 0x99);
    ctl(f, 0x25);
    expect(f, 0x99);
    /* Disable/enable the ports via A7/A8 and AD/AE. */
    ctl(f, 0xA7);
    ctl(f, 0x20);
    assert_true(rd(f, NULL) & 0x20);
    ctl(f, 0xA8);
    ctl(f, 0x20);
    assert_false(rd(f, NULL) & 0x20);
    ctl(f, 0xAD);
    ctl(f, 0x20);
    assert_true(rd(f, NULL) & 0x10);
    ctl(f, 0xAE);
    ctl(f, 0xA9);
    expect(f, 0x00);
    /* A command reply raises IRQ1 when the keyboard interrupt is on. */
    ctl(f, 0x20);
    assert_int_equal(f->irq.level[1], 1);
    expect(f, 0x45);
    assert_int_equal(f->irq.level[1], 0);
}

static void test_keyboard_reset_and_translation(void **state)
{
    Fix *f = *state;
    seabios_keyboard_setup(f);
    /* Set 2 through translation: 'A' is 1Eh, its break 9Eh. */
    i8042_key_event(&f->kbc, KBD_A, true);
    assert_int_equal(f->irq.level[1], 1);
    expect(f, 0x1E);
    i8042_key_event(&f->kbc, KBD_A, false);
    expect(f, 0x9E);
    /* E0 keys keep the prefix. */
    i8042_key_event(&f->kbc, KBD_UP, true);
    i8042_key_event(&f->kbc, KBD_UP, false);
    expect(f, 0xE0);
    expect(f, 0x48);
    expect(f, 0xE0);
    expect(f, 0xC8);
    /* F7 is the set 2 code above 7Fh. */
    i8042_key_event(&f->kbc, KBD_F7, true);
    expect(f, 0x41);
    /* Pause: E1 1D 45 E1 9D C5. */
    i8042_key_event(&f->kbc, KBD_PAUSE, true);
    static const uint8_t pause[] = {0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5};
    for (size_t i = 0; i < sizeof pause; i++)
        expect(f, pause[i]);
    i8042_key_event(&f->kbc, KBD_PAUSE, false);
    expect_empty(f);
    /* Print Screen. */
    i8042_key_event(&f->kbc, KBD_PRINT, true);
    static const uint8_t prt[] = {0xE0, 0x2A, 0xE0, 0x37};
    for (size_t i = 0; i < sizeof prt; i++)
        expect(f, prt[i]);

    /* Without translation the raw set 2 bytes arrive. */
    write_ctr(f, 0x21);
    i8042_key_event(&f->kbc, KBD_A, true);
    i8042_key_event(&f->kbc, KBD_A, false);
    expect(f, 0x1C);
    expect(f, 0xF0);
    expect(f, 0x1C);
    i8042_key_event(&f->kbc, KBD_RCTRL, false);
    expect(f, 0xE0);
    expect(f, 0xF0);
    expect(f, 0x14);
    /* The keyboard itself in set 1. */
    outb(f, 0x60, 0xF0);
    expect(f, 0xFA);
    outb(f, 0x60, 0x01);
    expect(f, 0xFA);
    outb(f, 0x60, 0xF0);
    expect(f, 0xFA);
    outb(f, 0x60, 0x00);
    expect(f, 0xFA);
    expect(f, 0x01);
    i8042_key_event(&f->kbc, KBD_ESC, true);
    i8042_key_event(&f->kbc, KBD_ESC, false);
    expect(f, 0x01);
    expect(f, 0x81);
}

static void test_keyboard_commands(void **state)
{
    Fix *f = *state;
    seabios_keyboard_setup(f);
    outb(f, 0x60, 0xEE);
    expect(f, 0xEE);
    outb(f, 0x60, 0xED);
    expect(f, 0xFA);
    outb(f, 0x60, 0x07);
    expect(f, 0xFA);
    assert_int_equal(i8042_get_leds(&f->kbc), 7);
    outb(f, 0x60, 0xF3);
    expect(f, 0xFA);
    outb(f, 0x60, 0x20);
    expect(f, 0xFA);
    /* Identify: AB 83, translated to AB 41 (Linux knows both). */
    outb(f, 0x60, 0xF2);
    expect(f, 0xFA);
    expect(f, 0xAB);
    expect(f, 0x41);
    write_ctr(f, 0x21);
    outb(f, 0x60, 0xF2);
    expect(f, 0xFA);
    expect(f, 0xAB);
    expect(f, 0x83);
    /* Disabled scanning drops keys; resend repeats the last byte. */
    outb(f, 0x60, 0xF5);
    expect(f, 0xFA);
    i8042_key_event(&f->kbc, KBD_B, true);
    expect_empty(f);
    outb(f, 0x60, 0xFE);
    expect(f, 0xFA);
    outb(f, 0x60, 0x42); /* not a command */
    expect(f, 0xFE);
    /* A disabled keyboard interface holds bytes until enabled. */
    outb(f, 0x60, 0xF4);
    expect(f, 0xFA);
    ctl(f, 0xAD);
    i8042_key_event(&f->kbc, KBD_B, true);
    expect_empty(f);
    ctl(f, 0xAE);
    expect(f, 0x32);
    /* Overflow: the buffer ends with the overrun code. */
    for (int i = 0; i < 40; i++)
        i8042_key_event(&f->kbc, KBD_C, i & 1);
    int n = 0;
    uint8_t last = 0;
    while (inb(f, 0x64) & 0x01) {
        last = inb(f, 0x60);
        n++;
    }
    assert_true(n <= 17);
    assert_int_equal(last, 0x00);
}

static void test_mouse(void **state)
{
    Fix *f = *state;
    /* Linux i8042_check_aux: loopback through D3. */
    ctl(f, 0xD3);
    outb(f, 0x60, 0x5A);
    expect_aux(f, 0x5A);
    /* psmouse: reset, ID. */
    write_ctr(f, 0x47); /* both IRQs, translation, SYS */
    mouse_cmd(f, 0xFF);
    assert_int_equal(f->irq.level[12], 1);
    expect_aux(f, 0xFA);
    expect_aux(f, 0xAA);
    expect_aux(f, 0x00);
    assert_int_equal(f->irq.level[12], 0);
    mouse_cmd(f, 0xF2);
    expect_aux(f, 0xFA);
    expect_aux(f, 0x00);
    /* IntelliMouse: 200, 100, 80 -> ID 3. */
    static const uint8_t rates[] = {200, 100, 80};
    for (int i = 0; i < 3; i++) {
        mouse_cmd(f, 0xF3);
        expect_aux(f, 0xFA);
        mouse_cmd(f, rates[i]);
        expect_aux(f, 0xFA);
    }
    mouse_cmd(f, 0xF2);
    expect_aux(f, 0xFA);
    expect_aux(f, 0x03);
    mouse_cmd(f, 0xE8);
    expect_aux(f, 0xFA);
    mouse_cmd(f, 0x03);
    expect_aux(f, 0xFA);
    mouse_cmd(f, 0xE9);
    expect_aux(f, 0xFA);
    expect_aux(f, 0x00);
    expect_aux(f, 0x03);
    expect_aux(f, 80);
    /* Not reporting yet: motion is dropped. */
    i8042_mouse_event(&f->kbc, 5, 5, 0, 0);
    expect_empty(f);
    mouse_cmd(f, 0xF4);
    expect_aux(f, 0xFA);
    /* Right 5, up 3, wheel one step toward the user, left button. */
    i8042_mouse_event(&f->kbc, 5, -3, -1, MOUSE_LEFT);
    assert_int_equal(f->irq.level[12], 1);
    expect_aux(f, 0x09);
    expect_aux(f, 5);
    expect_aux(f, 3);
    expect_aux(f, 1);
    expect_empty(f);
    /* Left 10, down 2: sign bits. */
    i8042_mouse_event(&f->kbc, -10, 2, 0, 0);
    expect_aux(f, 0x38);
    expect_aux(f, 0xF6);
    expect_aux(f, 0xFE);
    expect_aux(f, 0x00);
    /* Big motion is split into packets of at most 255/-256. */
    i8042_mouse_event(&f->kbc, 600, 0, 0, 0);
    int packets = 0, sum = 0;
    while (inb(f, 0x64) & 0x01) {
        uint8_t b0 = inb(f, 0x60);
        uint8_t dx = inb(f, 0x60);
        (void)inb(f, 0x60);
        (void)inb(f, 0x60);
        sum += (b0 & 0x10) ? dx - 256 : dx;
        packets++;
    }
    assert_int_equal(sum, 600);
    assert_int_equal(packets, 3);
    /* Mouse bytes wait while the aux interface is disabled. */
    ctl(f, 0xA7);
    i8042_mouse_event(&f->kbc, 1, 0, 0, 0);
    expect_empty(f);
    ctl(f, 0xA8);
    expect_aux(f, 0x08);
}

static void test_output_port_a20_reset(void **state)
{
    Fix *f = *state;
    ctl(f, 0xD0);
    assert_int_equal(rd(f, NULL) & 0x03, 0x03);
    /* Linux/old boot loaders: D1 DDh disables A20, D1 DFh enables it. */
    ctl(f, 0xD1);
    outb(f, 0x60, 0xDD);
    assert_int_equal(f->a20_calls, 1);
    assert_int_equal(f->a20_state, 0);
    ctl(f, 0xD0);
    assert_int_equal(rd(f, NULL) & 0x03, 0x01);
    ctl(f, 0xD1);
    outb(f, 0x60, 0xDF);
    assert_int_equal(f->a20_calls, 2);
    assert_int_equal(f->a20_state, 1);
    assert_int_equal(f->resets, 0);
    /* FEh pulses the reset line (SeaBIOS i8042_reboot). */
    ctl(f, 0xFE);
    assert_int_equal(f->resets, 1);
    ctl(f, 0xFF); /* pulse nothing */
    assert_int_equal(f->resets, 1);
    /* Writing the output port with bit 0 low resets too. */
    ctl(f, 0xD1);
    outb(f, 0x60, 0x02);
    assert_int_equal(f->resets, 2);
    ctl(f, 0xD0);
    assert_true(rd(f, NULL) & 0x01);
    /* DD/DF controller commands. */
    ctl(f, 0xDD);
    assert_int_equal(f->a20_state, 0);
    ctl(f, 0xDF);
    assert_int_equal(f->a20_state, 1);
}

static void test_guest_cannot_break_it(void **state)
{
    Fix *f = *state;
    for (int v = 0; v < 256; v++) {
        ctl(f, (uint8_t)v);
        outb(f, 0x60, (uint8_t)(v * 7));
        if (v != 0xD4)
            mouse_cmd(f, (uint8_t)(v * 3));
        i8042_key_event(&f->kbc, (unsigned)v * 0x101, v & 1);
        i8042_mouse_event(&f->kbc, v, -v, v, (unsigned)v);
        for (int i = 0; i < 3; i++) {
            (void)inb(f, 0x64);
            (void)inb(f, 0x60);
        }
    }
    i8042_key_event(&f->kbc, 0xFFFFFFFFu, true);
}

static void test_two_instances(void **state)
{
    (void)state;
    I8042State *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    i8042_init(a);
    i8042_init(b);
    i8042_key_event(a, KBD_A, true);
    assert_true(a->obf);
    assert_false(b->obf);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_controller_basics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyboard_reset_and_translation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyboard_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mouse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_port_a20_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_cannot_break_it, setup, teardown),
        cmocka_unit_test(test_two_instances),
    };
    return cmocka_run_group_tests_name("i8042", tests, NULL, NULL);
}
