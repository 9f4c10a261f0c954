/* 16550A UART: divisor latch, transmit to the backend, loopback, FIFO
 * trigger levels and the character timeout in guest time, THRE interrupt
 * behaviour (the Linux 8250 driver's THRE re-assert test), IIR priorities,
 * OUT2 gating, overrun.  Linux's autoconfig probe writes MCR = 1Ah
 * (loopback | RTS | OUT2) and expects MSR & F0h = 90h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/uart.h"
#include "fake_clock.h"

#define COM1 0x3F8
#define COM2 0x2F8

typedef struct Fix {
    Bus bus;
    UartState com1, com2;
    IrqProbe irq;
    uint8_t tx[256];
    size_t ntx;
} Fix;

static void capture(void *opaque, const uint8_t *buf, size_t len)
{
    Fix *f = opaque;
    for (size_t i = 0; i < len && f->ntx < sizeof f->tx; i++)
        f->tx[f->ntx++] = buf[i];
}

static int setup(void **state)
{
    Fix *f = calloc(1, sizeof *f);
    fake_clock_init(1000);
    assert_int_equal(bus_init(&f->bus), 0);
    uart_init(&f->com1, &fake_sched);
    uart_init(&f->com2, &fake_sched);
    f->com1.be = (CharBackend){capture, f};
    irq_connect(&f->com1.irq, probe_handler, &f->irq, 4);
    irq_connect(&f->com2.irq, probe_handler, &f->irq, 3);
    bus_map_ports(&f->bus, COM1, 8, &uart_ops, &f->com1);
    bus_map_ports(&f->bus, COM2, 8, &uart_ops, &f->com2);
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

/* 115200 8N1, as Linux's console=ttyS0,115200 sets it up. */
static void set_115200_8n1(Fix *f, uint16_t base)
{
    outb(f, base + 3, 0x80);
    outb(f, base + 0, 0x01);
    outb(f, base + 1, 0x00);
    outb(f, base + 3, 0x03);
}

static void test_reset_state_and_divisor(void **state)
{
    Fix *f = *state;
    assert_int_equal(inb(f, COM1 + 1), 0x00);
    assert_int_equal(inb(f, COM1 + 2), 0x01);
    assert_int_equal(inb(f, COM1 + 3), 0x00);
    assert_int_equal(inb(f, COM1 + 4), 0x00);
    assert_int_equal(inb(f, COM1 + 5), 0x60);
    outb(f, COM1 + 3, 0x80); /* DLAB */
    outb(f, COM1 + 0, 0x0C);
    outb(f, COM1 + 1, 0x01);
    assert_int_equal(inb(f, COM1 + 0), 0x0C);
    assert_int_equal(inb(f, COM1 + 1), 0x01);
    assert_int_equal(f->com1.divisor, 0x10C);
    outb(f, COM1 + 3, 0x1B);                  /* 8 bits, even parity: DLAB off */
    assert_int_equal(inb(f, COM1 + 1), 0x00); /* IER again */
    assert_int_equal(inb(f, COM1 + 3), 0x1B);
    outb(f, COM1 + 7, 0x42); /* scratch */
    assert_int_equal(inb(f, COM1 + 7), 0x42);
}

static void test_transmit_to_backend(void **state)
{
    Fix *f = *state;
    set_115200_8n1(f, COM1);
    const char *msg = "Linux version";
    for (const char *p = msg; *p; p++) {
        /* The way a polled console writes: wait for THRE, write THR. */
        while (!(inb(f, COM1 + 5) & 0x20))
            ;
        outb(f, COM1, (uint8_t)*p);
    }
    assert_int_equal(f->ntx, strlen(msg));
    assert_memory_equal(f->tx, msg, strlen(msg));
    assert_int_equal(inb(f, COM1 + 5) & 0x60, 0x60);
    /* COM2 has no backend: output is dropped. */
    outb(f, COM2, 'x');
    assert_int_equal(f->ntx, strlen(msg));
}

static void test_loopback(void **state)
{
    Fix *f = *state;
    set_115200_8n1(f, COM1);
    /* Linux autoconfig: loopback with RTS and OUT2 shows CTS and DCD. */
    outb(f, COM1 + 4, 0x1A);
    assert_int_equal(inb(f, COM1 + 6) & 0xF0, 0x90);
    outb(f, COM1 + 4, 0x1F);
    assert_int_equal(inb(f, COM1 + 6) & 0xF0, 0xF0);
    /* Echo: what is sent is received, not sent to the backend. */
    outb(f, COM1, 'K');
    assert_int_equal(f->ntx, 0);
    assert_true(inb(f, COM1 + 5) & 0x01);
    assert_int_equal(inb(f, COM1), 'K');
    assert_false(inb(f, COM1 + 5) & 0x01);
    /* The external input is disconnected in loopback. */
    assert_int_equal(uart_can_receive(&f->com1), 0);
    /* OUT2 is forced inactive in loopback: no IRQ on a PC. */
    outb(f, COM1 + 1, 0x01);
    outb(f, COM1, 'Z');
    assert_int_equal(f->irq.level[4], 0);
    assert_int_equal(inb(f, COM1 + 2) & 0x0F, 0x04); /* but IIR shows it */
    (void)inb(f, COM1);
    outb(f, COM1 + 4, 0x0B);
    assert_int_equal(uart_can_receive(&f->com1), 1);
}

static void test_fifo_trigger_and_timeout(void **state)
{
    Fix *f = *state;
    set_115200_8n1(f, COM1);
    outb(f, COM1 + 2, 0xC7); /* FIFO on, clear both, trigger 14 */
    assert_int_equal(inb(f, COM1 + 2), 0xC1);
    outb(f, COM1 + 4, 0x0B); /* DTR, RTS, OUT2 */
    outb(f, COM1 + 1, 0x01); /* received data interrupt */
    assert_int_equal(uart_can_receive(&f->com1), 16);
    uint8_t data[16];
    for (int i = 0; i < 16; i++)
        data[i] = (uint8_t)('a' + i);
    uart_receive(&f->com1, data, 13);
    assert_int_equal(f->irq.level[4], 0); /* below the trigger level */
    uart_receive(&f->com1, data + 13, 1);
    assert_int_equal(f->irq.level[4], 1);
    assert_int_equal(inb(f, COM1 + 2), 0xC4);
    assert_int_equal(inb(f, COM1), 'a');
    assert_int_equal(f->irq.level[4], 0); /* 13 left: below the trigger */

    /* Character timeout: 4 character times (8N1 at 115200: 10 bits each)
     * after the last FIFO read. */
    uint64_t char_ns = 10ull * 1000000000ull / 115200;
    fake_advance(4 * char_ns - 10);
    assert_int_equal(f->irq.level[4], 0);
    fake_advance(20);
    assert_int_equal(f->irq.level[4], 1);
    assert_int_equal(inb(f, COM1 + 2), 0xCC);
    assert_int_equal(inb(f, COM1), 'b'); /* a read clears the timeout */
    assert_int_equal(f->irq.level[4], 0);
    for (int i = 0; i < 12; i++)
        assert_int_equal(inb(f, COM1), 'c' + i);
    assert_false(inb(f, COM1 + 5) & 0x01);
    fake_advance(10 * char_ns);
    assert_int_equal(f->irq.level[4], 0); /* empty FIFO: no timeout */

    /* Trigger level 4 (FCR bits 7-6 = 01). */
    outb(f, COM1 + 2, 0x41);
    uart_receive(&f->com1, data, 3);
    assert_int_equal(f->irq.level[4], 0);
    uart_receive(&f->com1, data, 1);
    assert_int_equal(f->irq.level[4], 1);
    /* Clearing the receive FIFO (FCR bit 1) drops the data. */
    outb(f, COM1 + 2, 0x43);
    assert_int_equal(f->irq.level[4], 0);
    assert_false(inb(f, COM1 + 5) & 0x01);
    /* Overrun: 17 bytes into a 16-byte FIFO. */
    uart_receive(&f->com1, data, 16);
    assert_int_equal(uart_can_receive(&f->com1), 0);
    uart_receive(&f->com1, data, 1);
    assert_int_equal(inb(f, COM1 + 5) & 0x03, 0x03);
    assert_int_equal(inb(f, COM1 + 5) & 0x02, 0x00); /* cleared by the read */
}

static void test_thre_interrupt(void **state)
{
    Fix *f = *state;
    set_115200_8n1(f, COM1);
    outb(f, COM1 + 4, 0x08); /* OUT2 */
    /* serial8250_do_startup: IER = THRI, read LSR and IIR, IER = 0. */
    outb(f, COM1 + 1, 0x02);
    assert_int_equal(f->irq.level[4], 1);
    (void)inb(f, COM1 + 5);
    assert_int_equal(inb(f, COM1 + 2), 0x02);
    assert_int_equal(f->irq.level[4], 0); /* reading IIR cleared THRE */
    assert_int_equal(inb(f, COM1 + 2), 0x01);
    outb(f, COM1 + 1, 0x00);
    /* "Real 16550s should always reassert this interrupt whenever the
     * transmitter is idle and the interrupt is enabled." */
    outb(f, COM1 + 1, 0x02);
    assert_int_equal(inb(f, COM1 + 2), 0x02);
    /* Writing THR: THRE drops, the byte leaves at once, THRE returns: a
     * fresh rising edge for the PIC. */
    int rises = f->irq.rises[4];
    outb(f, COM1, 'x');
    assert_int_equal(f->irq.rises[4], rises + 1);
    assert_int_equal(f->irq.level[4], 1);
    outb(f, COM1 + 1, 0x00);
    assert_int_equal(f->irq.level[4], 0);
}

static void test_iir_priorities(void **state)
{
    Fix *f = *state;
    set_115200_8n1(f, COM1);
    outb(f, COM1 + 4, 0x08);
    outb(f, COM1 + 1, 0x0F); /* all four sources */
    uint8_t b[2] = {'1', '2'};
    uart_receive(&f->com1, b, 2);                         /* no FIFO: the second overruns */
    uart_set_modem_inputs(&f->com1, UART_DSR | UART_DCD); /* CTS dropped */
    assert_int_equal(f->irq.level[4], 1);
    assert_int_equal(inb(f, COM1 + 2), 0x06); /* line status first */
    assert_int_equal(inb(f, COM1 + 5) & 0x03, 0x03);
    assert_int_equal(inb(f, COM1 + 2), 0x04); /* then received data */
    assert_int_equal(inb(f, COM1), '2');      /* the overrun replaced it */
    assert_int_equal(inb(f, COM1 + 2), 0x02); /* then THRE (cleared by this read) */
    assert_int_equal(inb(f, COM1 + 2), 0x00); /* then modem status */
    assert_int_equal(inb(f, COM1 + 6), 0xA1); /* DCD, DSR, delta CTS */
    assert_int_equal(inb(f, COM1 + 2), 0x01);
    assert_int_equal(f->irq.level[4], 0);
    /* Trailing edge of RI. */
    uart_set_modem_inputs(&f->com1, UART_RI);
    assert_int_equal(inb(f, COM1 + 6) & 0x0F, 0x0A); /* DDSR, DDCD */
    uart_set_modem_inputs(&f->com1, 0);
    assert_int_equal(inb(f, COM1 + 6), 0x04); /* TERI */
}

static void test_out2_gates_irq(void **state)
{
    Fix *f = *state;
    set_115200_8n1(f, COM2);
    outb(f, COM2 + 1, 0x01);
    uart_receive(&f->com2, (const uint8_t *)"q", 1);
    assert_int_equal(f->irq.level[3], 0);
    assert_int_equal(inb(f, COM2 + 2), 0x04);
    outb(f, COM2 + 4, 0x08);
    assert_int_equal(f->irq.level[3], 1);
    assert_int_equal(f->irq.level[4], 0); /* COM1 untouched */
    (void)inb(f, COM2);
    assert_int_equal(f->irq.level[3], 0);
}

static void test_guest_cannot_break_it(void **state)
{
    Fix *f = *state;
    for (int v = 0; v < 512; v++) {
        outb(f, (uint16_t)(COM1 + (v % 8)), (uint8_t)(v * 37));
        (void)inb(f, (uint16_t)(COM1 + ((v * 5) % 8)));
        uart_receive(&f->com1, (const uint8_t *)"abc", 3);
        fake_advance(50000);
    }
    /* Divisor 0 is treated as 65536 for timing. */
    outb(f, COM1 + 3, 0x80);
    outb(f, COM1, 0);
    outb(f, COM1 + 1, 0);
    outb(f, COM1 + 3, 0x03);
    outb(f, COM1 + 2, 0x01);
    outb(f, COM1 + 4, 0x00);
    uart_receive(&f->com1, (const uint8_t *)"x", 1);
    fake_advance(1000000000ull * 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_state_and_divisor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transmit_to_backend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_trigger_and_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iir_priorities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out2_gates_irq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_cannot_break_it, setup, teardown),
    };
    return cmocka_run_group_tests_name("uart", tests, NULL, NULL);
}
