/* PCI configuration mechanism #1, the 440FX host bridge, the PIIX3 ISA
 * bridge, BAR sizing on a test function, PIRQ routing.  Accesses go
 * through the machine's port bus, as SeaBIOS's pci_config_readl etc. do:
 * outl(0x80000000 | bdf << 8 | (reg & 0xFC), 0xCF8), then an in/out of
 * the matching size at 0xCFC + (reg & 3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devices/pci.h"
#include "devices/piix3.h"
#include "fake_clock.h"

typedef struct Fix {
    Bus bus;
    PciBus pci;
    I440fxState host;
    Piix3State isa;
    PciDevice test;
    IrqProbe irq;
    int memmap_calls;
    int cfg_writes;
    unsigned last_cfg_addr;
} Fix;

static void out(Fix *f, uint16_t port, uint32_t v, unsigned size)
{
    bus_io_write(&f->bus, port, v, size);
}
static uint32_t in(Fix *f, uint16_t port, unsigned size)
{
    return bus_io_read(&f->bus, port, size);
}

static uint32_t cfg_addr(int dev, int fn, unsigned reg)
{
    return 0x80000000u | (unsigned)dev << 11 | (unsigned)fn << 8 | (reg & 0xFC);
}

static uint32_t cfg_read(Fix *f, int dev, int fn, unsigned reg, unsigned size)
{
    out(f, 0xCF8, cfg_addr(dev, fn, reg), 4);
    return in(f, (uint16_t)(0xCFC + (reg & 3)), size);
}

static void cfg_write(Fix *f, int dev, int fn, unsigned reg, uint32_t v, unsigned size)
{
    out(f, 0xCF8, cfg_addr(dev, fn, reg), 4);
    out(f, (uint16_t)(0xCFC + (reg & 3)), v, size);
}

static void memmap_changed(void *opaque)
{
    ((Fix *)opaque)->memmap_calls++;
}

static void test_cfg_write(PciDevice *d, unsigned addr, uint32_t v, unsigned size)
{
    (void)v;
    (void)size;
    Fix *f = d->opaque;
    f->cfg_writes++;
    f->last_cfg_addr = addr;
}

static const PciDeviceOps test_ops = {.config_write = test_cfg_write};

static int setup(void **state)
{
    Fix *f = calloc(1, sizeof *f);
    assert_int_equal(bus_init(&f->bus), 0);
    pci_bus_init(&f->pci);
    bus_map_ports(&f->bus, 0xCF8, 4, &pci_conf_addr_ops, &f->pci);
    bus_map_ports(&f->bus, 0xCFC, 4, &pci_conf_data_ops, &f->pci);
    f->host.memmap_changed = memmap_changed;
    f->host.cb_opaque = f;
    i440fx_init(&f->host, &f->pci);
    piix3_init(&f->isa, &f->pci);
    for (int i = 0; i < 16; i++)
        irq_connect(&f->isa.isa_irq[i], probe_handler, &f->irq, i);
    /* A test function at 00:03.0: an I/O BAR, a prefetchable memory BAR,
     * a ROM, INTA#. */
    pci_device_init(&f->test, 0x1234, 0x5678, 0x01, 0x020000, 0x00);
    pci_register_bar(&f->test, 0, 32, PCI_BAR_IO);
    pci_register_bar(&f->test, 1, 4096, PCI_BAR_MEM32 | PCI_BAR_PREFETCH);
    pci_register_rom(&f->test, 64 * 1024);
    pci_set_int_pin(&f->test, 1);
    f->test.ops = &test_ops;
    f->test.opaque = f;
    assert_int_equal(pci_register_device(&f->pci, &f->test, PCI_DEVFN(3, 0)), 0);
    assert_int_equal(pci_register_device(&f->pci, &f->test, PCI_DEVFN(3, 0)), -1);
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

static void test_identify_bridges(void **state)
{
    Fix *f = *state;
    assert_int_equal(cfg_read(f, 0, 0, 0x00, 4), 0x12378086);
    assert_int_equal(cfg_read(f, 0, 0, 0x08, 4), 0x06000002);
    assert_int_equal(cfg_read(f, 0, 0, 0x0E, 1), 0x00);
    assert_int_equal(cfg_read(f, 0, 0, 0x04, 2), 0x0006);
    assert_int_equal(cfg_read(f, 0, 0, 0x72, 1), 0x02);
    assert_int_equal(cfg_read(f, 1, 0, 0x00, 4), 0x70008086);
    assert_int_equal(cfg_read(f, 1, 0, 0x08, 4) >> 8, 0x060100);
    assert_int_equal(cfg_read(f, 1, 0, 0x0E, 1), 0x80); /* multifunction */
    for (unsigned r = 0x60; r < 0x64; r++)
        assert_int_equal(cfg_read(f, 1, 0, r, 1), 0x80); /* PIRQ routing off */
    assert_int_equal(cfg_read(f, 1, 0, 0x4C, 1), 0x4D);
    /* IDs are read-only. */
    cfg_write(f, 0, 0, 0x00, 0xFFFFFFFF, 4);
    assert_int_equal(cfg_read(f, 0, 0, 0x00, 4), 0x12378086);
    /* Status error bits are write-one-to-clear; the rest stays. */
    cfg_write(f, 0, 0, 0x06, 0xFFFF, 2);
    assert_int_equal(cfg_read(f, 0, 0, 0x06, 2), 0x0280);
}

static void test_absent_functions_and_disabled_access(void **state)
{
    Fix *f = *state;
    assert_int_equal(cfg_read(f, 5, 0, 0x00, 4), 0xFFFFFFFF);
    assert_int_equal(cfg_read(f, 1, 7, 0x00, 2), 0xFFFF);
    assert_int_equal(cfg_read(f, 31, 7, 0xFC, 1), 0xFF);
    /* Bus 1: nothing there. */
    out(f, 0xCF8, 0x80010000u, 4);
    assert_int_equal(in(f, 0xCFC, 4), 0xFFFFFFFF);
    /* Enable bit clear: CONFIG_DATA is not a configuration access. */
    out(f, 0xCF8, 0x00000000u, 4);
    assert_int_equal(in(f, 0xCFC, 4), 0xFFFFFFFF);
    out(f, 0xCFC, 0x12345678, 4); /* dropped */
    assert_int_equal(cfg_read(f, 0, 0, 0x00, 4), 0x12378086);
    /* Writes to absent functions go nowhere. */
    cfg_write(f, 9, 0, 0x04, 0xFFFF, 2);
}

static void test_address_register_and_unaligned(void **state)
{
    Fix *f = *state;
    out(f, 0xCF8, 0xFF00FFFFu, 4);
    assert_int_equal(in(f, 0xCF8, 4), 0x8000FFFC); /* 30-24 and 1-0 read 0 */
    /* A byte write to CF8h is not CONFIG_ADDRESS. */
    out(f, 0xCF8, cfg_addr(0, 0, 0), 4);
    out(f, 0xCF8, 0x55, 1);
    out(f, 0xCFA, 0x55, 1);
    assert_int_equal(in(f, 0xCF8, 4), 0x80000000);
    /* Byte and word reads at every offset of the selected dword. */
    assert_int_equal(in(f, 0xCFC, 1), 0x86);
    assert_int_equal(in(f, 0xCFD, 1), 0x80);
    assert_int_equal(in(f, 0xCFE, 1), 0x37);
    assert_int_equal(in(f, 0xCFF, 1), 0x12);
    assert_int_equal(in(f, 0xCFC, 2), 0x8086);
    assert_int_equal(in(f, 0xCFD, 2), 0x3780);
    assert_int_equal(in(f, 0xCFE, 2), 0x1237);
    /* Register 0x3C-0x3F of the test function, byte by byte. */
    cfg_write(f, 3, 0, 0x3C, 0x0B, 1);
    assert_int_equal(cfg_read(f, 3, 0, 0x3C, 4) & 0xFFFF, 0x010B);
    cfg_write(f, 3, 0, 0x0D, 0x40, 1); /* latency timer, offset 1 */
    assert_int_equal(cfg_read(f, 3, 0, 0x0C, 2), 0x4000);
    cfg_write(f, 3, 0, 0x0E, 0xFFFF, 2); /* header type / BIST: read-only */
    assert_int_equal(cfg_read(f, 3, 0, 0x0E, 1), 0x00);
}

static void test_bar_sizing(void **state)
{
    Fix *f = *state;
    /* The sizing dance every firmware does: save, write ones, read, restore. */
    uint32_t saved = cfg_read(f, 3, 0, 0x10, 4);
    assert_int_equal(saved, 0x00000001);
    cfg_write(f, 3, 0, 0x10, 0xFFFFFFFF, 4);
    assert_int_equal(cfg_read(f, 3, 0, 0x10, 4), 0xFFFFFFE1); /* 32 bytes of I/O */
    cfg_write(f, 3, 0, 0x14, 0xFFFFFFFF, 4);
    assert_int_equal(cfg_read(f, 3, 0, 0x14, 4), 0xFFFFF008); /* 4 KiB, prefetchable */
    cfg_write(f, 3, 0, 0x18, 0xFFFFFFFF, 4);
    assert_int_equal(cfg_read(f, 3, 0, 0x18, 4), 0x00000000); /* no BAR2 */
    cfg_write(f, 3, 0, 0x30, 0xFFFFFFFF, 4);
    assert_int_equal(cfg_read(f, 3, 0, 0x30, 4), 0xFFFF0001);         /* 64 KiB ROM */
    assert_int_equal(pci_bar_address(&f->test, 0), PCI_BAR_UNMAPPED); /* mid-sizing */
    /* Assign and enable decoding. */
    cfg_write(f, 3, 0, 0x10, 0xC000, 4);
    cfg_write(f, 3, 0, 0x14, 0xFEB00000, 4);
    assert_int_equal(pci_bar_address(&f->test, 0), PCI_BAR_UNMAPPED); /* I/O off */
    int before = f->cfg_writes;
    cfg_write(f, 3, 0, 0x04, PCI_CMD_IO | PCI_CMD_MEM, 2);
    assert_int_equal(f->cfg_writes, before + 1);
    assert_int_equal(f->last_cfg_addr, 0x04);
    assert_int_equal(pci_bar_address(&f->test, 0), 0xC000);
    assert_int_equal(pci_bar_address(&f->test, 1), 0xFEB00000);
    assert_int_equal(pci_bar_address(&f->test, 2), PCI_BAR_UNMAPPED);
    /* Unaligned addresses are masked to the BAR size. */
    cfg_write(f, 3, 0, 0x10, 0xC01F, 4);
    assert_int_equal(cfg_read(f, 3, 0, 0x10, 4), 0xC001);
    assert_true(pci_access_hits(0x12, 2, 0x10, 4));
    assert_false(pci_access_hits(0x14, 4, 0x10, 4));
}

static void test_pirq_routing(void **state)
{
    Fix *f = *state;
    /* 00:03.0 INTA# -> PIRQ[(3 - 1 + 0) & 3] = PIRQC#. */
    cfg_write(f, 1, 0, 0x62, 0x0A, 1); /* PIRQC# -> IRQ10 */
    assert_int_equal(piix3_pirq_route(&f->isa, 2), 10);
    assert_int_equal(piix3_pirq_route(&f->isa, 0), -1);
    pci_set_irq(&f->test, 1);
    assert_int_equal(f->irq.level[10], 1);
    assert_true(cfg_read(f, 3, 0, 0x06, 1) & PCI_STATUS_INTX);
    /* INTx disable masks the pin but not the status bit. */
    cfg_write(f, 3, 0, 0x04, PCI_CMD_INTX_DISABLE, 2);
    assert_int_equal(f->irq.level[10], 0);
    assert_true(cfg_read(f, 3, 0, 0x06, 1) & PCI_STATUS_INTX);
    cfg_write(f, 3, 0, 0x04, 0, 2);
    assert_int_equal(f->irq.level[10], 1);
    /* Rerouting moves the level. */
    cfg_write(f, 1, 0, 0x62, 0x0B, 1);
    assert_int_equal(f->irq.level[10], 0);
    assert_int_equal(f->irq.level[11], 1);
    /* Disabled routing and reserved IRQ values route nowhere. */
    cfg_write(f, 1, 0, 0x62, 0x8B, 1);
    assert_int_equal(f->irq.level[11], 0);
    cfg_write(f, 1, 0, 0x62, 0x02, 1);
    assert_int_equal(piix3_pirq_route(&f->isa, 2), -1);
    cfg_write(f, 1, 0, 0x62, 0x0B, 1);
    pci_set_irq(&f->test, 0);
    assert_int_equal(f->irq.level[11], 0);
    assert_false(cfg_read(f, 3, 0, 0x06, 1) & PCI_STATUS_INTX);
    /* PIRQ register: bits 6-4 are reserved. */
    cfg_write(f, 1, 0, 0x60, 0xFF, 1);
    assert_int_equal(cfg_read(f, 1, 0, 0x60, 1), 0x8F);
}

static void test_pam(void **state)
{
    Fix *f = *state;
    int calls = f->memmap_calls;
    assert_int_equal(i440fx_pam_attr(&f->host, 0xF0000), 0);
    /* SeaBIOS make_bios_writable: PAM0 = 30h, PAM1-6 = 33h. */
    cfg_write(f, 0, 0, 0x59, 0x33, 1);
    assert_int_equal(cfg_read(f, 0, 0, 0x59, 1), 0x30); /* low nibble reserved */
    assert_int_equal(i440fx_pam_attr(&f->host, 0xFFFFF), PAM_READ_DRAM | PAM_WRITE_DRAM);
    cfg_write(f, 0, 0, 0x5A, 0x12, 1);
    assert_int_equal(i440fx_pam_attr(&f->host, 0xC0000), PAM_WRITE_DRAM);
    assert_int_equal(i440fx_pam_attr(&f->host, 0xC4000), PAM_READ_DRAM);
    cfg_write(f, 0, 0, 0x5C, 0x31, 4); /* dword at 5Ch: PAM3-6 */
    assert_int_equal(i440fx_pam_attr(&f->host, 0xD0000), PAM_READ_DRAM);
    assert_int_equal(i440fx_pam_attr(&f->host, 0xD7FFF), PAM_READ_DRAM | PAM_WRITE_DRAM);
    assert_int_equal(i440fx_pam_attr(&f->host, 0xEFFFF), 0);
    assert_int_equal(i440fx_pam_attr(&f->host, 0xA0000), 0);
    assert_int_equal(f->memmap_calls, calls + 3);
    cfg_write(f, 0, 0, 0x72, 0x4A, 1); /* D_OPEN | G_SMRAME; C_BASE_SEG fixed */
    assert_int_equal(i440fx_smram(&f->host), 0x4A);
    assert_int_equal(f->memmap_calls, calls + 4);
    cfg_write(f, 0, 0, 0x10, 0xFFFFFFFF, 4); /* the host bridge has no BARs */
    assert_int_equal(cfg_read(f, 0, 0, 0x10, 4), 0);
    assert_int_equal(f->memmap_calls, calls + 4);
}

static void test_reset(void **state)
{
    Fix *f = *state;
    cfg_write(f, 3, 0, 0x10, 0xC000, 4);
    cfg_write(f, 3, 0, 0x04, PCI_CMD_IO, 2);
    cfg_write(f, 3, 0, 0x3C, 10, 1);
    cfg_write(f, 1, 0, 0x62, 0x0A, 1);
    cfg_write(f, 0, 0, 0x59, 0x30, 1);
    pci_set_irq(&f->test, 1);
    assert_int_equal(f->irq.level[10], 1);
    int calls = f->memmap_calls;
    pci_bus_reset(&f->pci);
    assert_int_equal(in(f, 0xCF8, 4), 0); /* CONFIG_ADDRESS cleared */
    assert_int_equal(f->irq.level[10], 0);
    assert_int_equal(cfg_read(f, 3, 0, 0x10, 4), 0x00000001);
    assert_int_equal(cfg_read(f, 3, 0, 0x04, 2), 0);
    assert_int_equal(cfg_read(f, 3, 0, 0x3C, 1), 0);
    assert_int_equal(cfg_read(f, 3, 0, 0x00, 4), 0x56781234);
    assert_int_equal(cfg_read(f, 1, 0, 0x62, 1), 0x80);
    assert_int_equal(cfg_read(f, 0, 0, 0x59, 1), 0x00);
    assert_int_equal(cfg_read(f, 0, 0, 0x04, 2), 0x0006);
    assert_int_equal(f->memmap_calls, calls + 1);
}

static void test_guest_cannot_break_it(void **state)
{
    Fix *f = *state;
    for (uint32_t i = 0; i < 4096; i++) {
        uint32_t a = 0x80000000u | (i * 2654435761u & 0x00FFFFFFu);
        out(f, 0xCF8, a, 4);
        out(f, (uint16_t)(0xCFC + (i & 3)), i * 0x9E3779B9u, 1 + (i & 1));
        (void)in(f, (uint16_t)(0xCFC + ((i >> 2) & 3)), 4);
        (void)in(f, 0xCFF, 2);
    }
    assert_int_equal(pci_config_read(&f->test, 255, 4), 0xFFFFFFFF);
    pci_config_write(&f->test, 300, 1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identify_bridges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_functions_and_disabled_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_register_and_unaligned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pirq_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pam, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_cannot_break_it, setup, teardown),
    };
    return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
