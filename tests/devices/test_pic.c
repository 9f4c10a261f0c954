/* 8259A pair + ELCR, driven the way Linux's i8259.c and SeaBIOS program
 * it: Linux's init_8259A writes ICW1 11h, ICW2 30h/38h, ICW3 04h/02h,
 * ICW4 01h; it acknowledges with specific EOIs (60h + n to the slave,
 * then 62h to the master) and reads ISR with OCW3 0Bh to tell spurious
 * IRQ7/IRQ15 apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devices/pic.h"
#include "fake_clock.h"

typedef struct Fix {
    Bus bus;
    PicState pic;
    IrqProbe cpu;
} Fix;

static int setup(void **state)
{
    Fix *f = calloc(1, sizeof *f);
    assert_int_equal(bus_init(&f->bus), 0);
    pic_init(&f->pic);
    irq_connect(&f->pic.intr, probe_handler, &f->cpu, 0);
    bus_map_ports(&f->bus, 0x20, 2, &pic_master_ops, &f->pic);
    bus_map_ports(&f->bus, 0xA0, 2, &pic_slave_ops, &f->pic);
    bus_map_ports(&f->bus, 0x4D0, 2, &pic_elcr_ops, &f->pic);
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

/* Linux init_8259A(0) followed by unmasking everything. */
static void linux_init(Fix *f, uint8_t master_icw4)
{
    outb(f, 0x21, 0xFF);
    outb(f, 0xA1, 0xFF);
    outb(f, 0x20, 0x11);
    outb(f, 0x21, 0x30);
    outb(f, 0x21, 0x04);
    outb(f, 0x21, master_icw4);
    outb(f, 0xA0, 0x11);
    outb(f, 0xA1, 0x38);
    outb(f, 0xA1, 0x02);
    outb(f, 0xA1, 0x01);
    outb(f, 0x21, 0x00);
    outb(f, 0xA1, 0x00);
}

static uint8_t read_isr(Fix *f, uint16_t base)
{
    outb(f, base, 0x0B);
    uint8_t v = inb(f, base);
    outb(f, base, 0x0A);
    return v;
}

static uint8_t read_irr(Fix *f, uint16_t base)
{
    outb(f, base, 0x0A);
    return inb(f, base);
}

static void test_init_sequence(void **state)
{
    Fix *f = *state;
    /* Power-on: everything masked, no INT. */
    assert_int_equal(inb(f, 0x21), 0xFF);
    assert_int_equal(f->cpu.level[0], 0);
    outb(f, 0x21, 0xFF);
    outb(f, 0xA1, 0xFF);
    outb(f, 0x20, 0x11);
    /* ICW1 clears IMR. */
    assert_int_equal(f->pic.chip[0].imr, 0);
    outb(f, 0x21, 0x30);
    outb(f, 0x21, 0x04);
    outb(f, 0x21, 0x01);
    outb(f, 0xA0, 0x11);
    outb(f, 0xA1, 0x38);
    outb(f, 0xA1, 0x02);
    outb(f, 0xA1, 0x01);
    /* OCW1 after the ICWs: IMR, read back at the odd port. */
    outb(f, 0x21, 0xFB);
    outb(f, 0xA1, 0xFF);
    assert_int_equal(inb(f, 0x21), 0xFB);
    assert_int_equal(inb(f, 0xA1), 0xFF);
    assert_int_equal(f->pic.chip[0].vector, 0x30);
    assert_int_equal(f->pic.chip[1].vector, 0x38);
    outb(f, 0x21, 0x00);

    pic_set_irq(&f->pic, 0, 1);
    assert_int_equal(f->cpu.level[0], 1);
    assert_int_equal(read_irr(f, 0x20), 0x01);
    assert_int_equal(pic_ack(&f->pic), 0x30);
    assert_int_equal(f->cpu.level[0], 0);
    assert_int_equal(read_isr(f, 0x20), 0x01);
    assert_int_equal(read_irr(f, 0x20), 0x00); /* edge: IRR cleared by INTA */
    outb(f, 0x20, 0x20);                       /* non-specific EOI */
    assert_int_equal(read_isr(f, 0x20), 0x00);
    /* Edge triggered: the line is still high, but no new request. */
    assert_int_equal(f->cpu.level[0], 0);
    pic_set_irq(&f->pic, 0, 0);
    pic_set_irq(&f->pic, 0, 1);
    assert_int_equal(f->cpu.level[0], 1);
}

static void test_masking(void **state)
{
    Fix *f = *state;
    linux_init(f, 0x01);
    outb(f, 0x21, 0x02); /* mask IRQ1 */
    pic_set_irq(&f->pic, 1, 1);
    assert_int_equal(f->cpu.level[0], 0);
    assert_int_equal(read_irr(f, 0x20), 0x02); /* IRR sees it regardless */
    outb(f, 0x21, 0x00);
    assert_int_equal(f->cpu.level[0], 1);
    assert_int_equal(pic_ack(&f->pic), 0x31);
}

static void test_priorities_and_specific_eoi(void **state)
{
    Fix *f = *state;
    linux_init(f, 0x01);
    pic_set_irq(&f->pic, 3, 1);
    pic_set_irq(&f->pic, 1, 1);
    assert_int_equal(pic_ack(&f->pic), 0x31); /* IR1 beats IR3 */
    /* IR3 is lower than the in-service IR1: held off. */
    assert_int_equal(f->cpu.level[0], 0);
    /* IR0 is higher: it nests. */
    pic_set_irq(&f->pic, 0, 1);
    assert_int_equal(f->cpu.level[0], 1);
    assert_int_equal(pic_ack(&f->pic), 0x30);
    assert_int_equal(read_isr(f, 0x20), 0x03);
    outb(f, 0x20, 0x60); /* specific EOI for IR0 */
    assert_int_equal(read_isr(f, 0x20), 0x02);
    assert_int_equal(f->cpu.level[0], 0);
    outb(f, 0x20, 0x61); /* specific EOI for IR1 */
    assert_int_equal(f->cpu.level[0], 1);
    assert_int_equal(pic_ack(&f->pic), 0x33);
    /* A non-specific EOI clears the highest in-service level. */
    pic_set_irq(&f->pic, 2 + 2, 1); /* IR4, lower than IR3 */
    outb(f, 0x20, 0x20);
    assert_int_equal(read_isr(f, 0x20), 0x00);
    assert_int_equal(pic_ack(&f->pic), 0x34);
}

static void test_rotation(void **state)
{
    Fix *f = *state;
    linux_init(f, 0x01);
    /* Set priority: IR3 lowest, so IR4 is the highest. */
    outb(f, 0x20, 0xC3);
    pic_set_irq(&f->pic, 1, 1);
    pic_set_irq(&f->pic, 5, 1);
    assert_int_equal(pic_ack(&f->pic), 0x35);
    /* Rotate on non-specific EOI: IR5 becomes lowest, IR6 highest; IR1
     * then wins over a new IR5 request. */
    outb(f, 0x20, 0xA0);
    assert_int_equal(f->pic.chip[0].lowest, 5);
    pic_set_irq(&f->pic, 5, 0);
    pic_set_irq(&f->pic, 5, 1);
    assert_int_equal(pic_ack(&f->pic), 0x31);
    /* Rotate on specific EOI (E0h + level). */
    outb(f, 0x20, 0xE1);
    assert_int_equal(f->pic.chip[0].lowest, 1);
    assert_int_equal(read_isr(f, 0x20), 0x00);
    assert_int_equal(pic_ack(&f->pic), 0x35);
}

static void test_auto_eoi(void **state)
{
    Fix *f = *state;
    linux_init(f, 0x03); /* master ICW4: 8086 mode + AEOI */
    pic_set_irq(&f->pic, 4, 1);
    assert_int_equal(pic_ack(&f->pic), 0x34);
    assert_int_equal(read_isr(f, 0x20), 0x00);
    /* Rotate in AEOI mode (OCW2 80h): each acknowledge rotates. */
    outb(f, 0x20, 0x80);
    pic_set_irq(&f->pic, 6, 1);
    assert_int_equal(pic_ack(&f->pic), 0x36);
    assert_int_equal(f->pic.chip[0].lowest, 6);
    outb(f, 0x20, 0x00); /* clear rotate in AEOI */
    assert_false(f->pic.chip[0].rotate_aeoi);
}

static void test_cascade(void **state)
{
    Fix *f = *state;
    linux_init(f, 0x01);
    pic_set_irq(&f->pic, 12, 1);
    assert_int_equal(f->cpu.level[0], 1);
    assert_int_equal(read_irr(f, 0x20), 0x04); /* the slave requests on IR2 */
    assert_int_equal(pic_ack(&f->pic), 0x3C);
    assert_int_equal(read_isr(f, 0x20), 0x04);
    assert_int_equal(read_isr(f, 0xA0), 0x10);
    /* A lower-priority slave request waits for the slave's EOI... */
    pic_set_irq(&f->pic, 14, 1);
    assert_int_equal(f->cpu.level[0], 0);
    outb(f, 0xA0, 0x64); /* Linux: specific EOI to the slave, */
    assert_int_equal(f->cpu.level[0], 0);
    outb(f, 0x20, 0x62); /* then to the master's cascade input */
    assert_int_equal(f->cpu.level[0], 1);
    assert_int_equal(pic_ack(&f->pic), 0x3E);
    outb(f, 0xA0, 0x20);
    outb(f, 0x20, 0x20);
    assert_int_equal(read_isr(f, 0x20), 0);
    assert_int_equal(read_isr(f, 0xA0), 0);
    /* Slave masked: nothing reaches the master. */
    outb(f, 0xA1, 0x01);
    pic_set_irq(&f->pic, 8, 1);
    assert_int_equal(f->cpu.level[0], 0);
    outb(f, 0xA1, 0x00);
    assert_int_equal(pic_ack(&f->pic), 0x38);
}

static void test_special_fully_nested(void **state)
{
    Fix *f = *state;
    linux_init(f, 0x11); /* master SFNM */
    pic_set_irq(&f->pic, 12, 1);
    assert_int_equal(pic_ack(&f->pic), 0x3C);
    /* IRQ8 has a higher priority inside the slave: with SFNM the master
     * passes it although its IR2 is in service. */
    pic_set_irq(&f->pic, 8, 1);
    assert_int_equal(f->cpu.level[0], 1);
    assert_int_equal(pic_ack(&f->pic), 0x38);
}

static void test_elcr_level_vs_edge(void **state)
{
    Fix *f = *state;
    linux_init(f, 0x01);
    /* IRQ0-2 (and 8, 13) cannot be level triggered. */
    outb(f, 0x4D0, 0xFF);
    assert_int_equal(inb(f, 0x4D0), 0xF8);
    outb(f, 0x4D1, 0xFF);
    assert_int_equal(inb(f, 0x4D1), 0xDE);
    outb(f, 0x4D0, 0x00);
    outb(f, 0x4D1, 0x08); /* IRQ11 level, IRQ10 edge */

    /* Level: a line still high after EOI requests again. */
    pic_set_irq(&f->pic, 11, 1);
    assert_int_equal(pic_ack(&f->pic), 0x3B);
    outb(f, 0xA0, 0x20);
    outb(f, 0x20, 0x20);
    assert_int_equal(f->cpu.level[0], 1);
    assert_int_equal(pic_ack(&f->pic), 0x3B);
    pic_set_irq(&f->pic, 11, 0); /* the device is serviced */
    outb(f, 0xA0, 0x20);
    outb(f, 0x20, 0x20);
    assert_int_equal(f->cpu.level[0], 0);

    /* Edge: it does not. */
    pic_set_irq(&f->pic, 10, 1);
    assert_int_equal(pic_ack(&f->pic), 0x3A);
    outb(f, 0xA0, 0x20);
    outb(f, 0x20, 0x20);
    assert_int_equal(f->cpu.level[0], 0);
    /* An edge request stays latched after a short pulse. */
    pic_set_irq(&f->pic, 10, 0);
    pic_set_irq(&f->pic, 10, 1);
    pic_set_irq(&f->pic, 10, 0);
    assert_int_equal(f->cpu.level[0], 1);
    assert_int_equal(pic_ack(&f->pic), 0x3A);
}

static void test_spurious(void **state)
{
    Fix *f = *state;
    linux_init(f, 0x01);
    outb(f, 0x4D0, 0x20); /* IRQ5 level */
    /* A level request that goes away before INTA: default IR7, no ISR. */
    pic_set_irq(&f->pic, 5, 1);
    assert_int_equal(f->cpu.level[0], 1);
    pic_set_irq(&f->pic, 5, 0);
    assert_int_equal(pic_ack(&f->pic), 0x37);
    assert_int_equal(read_isr(f, 0x20), 0x00); /* how Linux spots it */
    /* Masked between INT and INTA: the same. */
    pic_set_irq(&f->pic, 3, 1);
    outb(f, 0x21, 0x08);
    assert_int_equal(pic_ack(&f->pic), 0x37);
    assert_int_equal(read_isr(f, 0x20), 0x00);
    outb(f, 0x21, 0x00);
    assert_int_equal(pic_ack(&f->pic), 0x33);
    outb(f, 0x20, 0x20);

    /* Spurious IRQ15: the slave's level request vanishes after the master
     * latched IR2; the master's ISR2 is set (needs an EOI), the slave's
     * ISR stays clear. */
    outb(f, 0x4D1, 0x08); /* IRQ11 level */
    pic_set_irq(&f->pic, 11, 1);
    pic_set_irq(&f->pic, 11, 0);
    assert_int_equal(pic_ack(&f->pic), 0x3F);
    assert_int_equal(read_isr(f, 0xA0), 0x00);
    assert_int_equal(read_isr(f, 0x20), 0x04);
    outb(f, 0x20, 0x62);
    assert_int_equal(read_isr(f, 0x20), 0x00);
}

static void test_poll(void **state)
{
    Fix *f = *state;
    linux_init(f, 0x01);
    outb(f, 0x21, 0xFF); /* poll works with the CPU's INT ignored */
    outb(f, 0x20, 0x0C);
    assert_int_equal(inb(f, 0x20), 0x00); /* nothing pending */
    outb(f, 0x21, 0x00);
    pic_set_irq(&f->pic, 6, 1);
    outb(f, 0x20, 0x0C);
    assert_int_equal(inb(f, 0x20), 0x86);
    assert_int_equal(read_isr(f, 0x20), 0x40); /* the poll acknowledged it */
    assert_int_equal(f->cpu.level[0], 0);
    /* The poll lasts one read. */
    assert_int_equal(read_irr(f, 0x20), 0x00);
}

static void test_special_mask_mode(void **state)
{
    Fix *f = *state;
    linux_init(f, 0x01);
    pic_set_irq(&f->pic, 3, 1);
    assert_int_equal(pic_ack(&f->pic), 0x33);
    pic_set_irq(&f->pic, 5, 1);
    assert_int_equal(f->cpu.level[0], 0); /* IR5 blocked by IR3 in service */
    outb(f, 0x20, 0x68);                  /* set special mask mode */
    outb(f, 0x21, 0x08);                  /* mask IR3 */
    assert_int_equal(f->cpu.level[0], 1); /* lower levels are enabled */
    assert_int_equal(pic_ack(&f->pic), 0x35);
    outb(f, 0x20, 0x65);
    outb(f, 0x20, 0x48); /* reset special mask mode */
    outb(f, 0x21, 0x00);
    assert_false(f->pic.chip[0].special_mask);
}

static void test_two_instances(void **state)
{
    (void)state;
    PicState a, b;
    IrqProbe pa = {0}, pb = {0};
    pic_init(&a);
    pic_init(&b);
    irq_connect(&a.intr, probe_handler, &pa, 0);
    irq_connect(&b.intr, probe_handler, &pb, 0);
    pic_master_ops.write(&a, 1, 0x00, 1); /* unmask all of a's master */
    pic_set_irq(&a, 1, 1);
    assert_int_equal(pa.level[0], 1);
    assert_int_equal(pb.level[0], 0);
    assert_int_equal(b.chip[0].irr, 0);
    /* Out-of-range inputs are ignored. */
    pic_set_irq(&a, 16, 1);
    pic_set_irq(&a, -1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_masking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priorities_and_specific_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_eoi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cascade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_special_fully_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elcr_level_vs_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spurious, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_special_mask_mode, setup, teardown),
        cmocka_unit_test(test_two_instances),
    };
    return cmocka_run_group_tests_name("pic", tests, NULL, NULL);
}
