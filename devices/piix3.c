/* PIIX3 function 0 (PCI-to-ISA bridge, PIRQ router); see piix3.h.
 *
 * References: Intel 82371FB/82371SB (PIIX/PIIX3) data sheet, "PCI to ISA
 * bridge configuration registers": VID 8086h, DID 7000h, class 060100h,
 * header type 80h (multifunction), IORT 4Ch (default 4Dh), XBCS 4Eh-4Fh
 * (0003h), PIRQRC[A:D] 60h-63h (default 80h: bit 7 IRQROUTEN# = 1 routing
 * disabled, bits 3-0 the IRQ; 0-2, 8 and 13 reserved), TOM 69h (02h),
 * MBIRQ0/1 70h-71h (80h), MBDMA 76h-77h (0Ch), PCSC 78h-79h (0002h), SMICNTL
 * A0h (08h), FTMR A8h (0Fh). */
#include "devices/piix3.h"

#include <string.h>

enum { PIRQRC = 0x60 };

int piix3_pirq_route(const Piix3State *s, int pirq)
{
    if (pirq < 0 || pirq > 3)
        return -1;
    uint8_t v = s->dev.config[PIRQRC + pirq];
    if (v & 0x80)
        return -1;
    int irq = v & 0x0F;
    /* IRQ0-2, 8 and 13 are reserved values: no routing. */
    if (irq < 3 || irq == 8 || irq == 13)
        return -1;
    return irq;
}

/* Drive every ISA output with the OR of the PIRQs routed to it. */
static void piix3_update(Piix3State *s)
{
    uint16_t want = 0;
    for (int p = 0; p < 4; p++) {
        int irq = piix3_pirq_route(s, p);
        if (irq >= 0 && s->pirq_level[p])
            want |= (uint16_t)(1u << irq);
    }
    for (int i = 0; i < 16; i++) {
        int level = (want >> i) & 1;
        if (level != s->isa_irq[i].level)
            irq_set(&s->isa_irq[i], level);
    }
}

static void piix3_set_pirq(void *opaque, int pirq, int level)
{
    Piix3State *s = opaque;
    if (pirq < 0 || pirq > 3)
        return;
    s->pirq_level[pirq] = level != 0;
    piix3_update(s);
}

static void piix3_config_write(PciDevice *d, unsigned addr, uint32_t v, unsigned size)
{
    (void)v;
    if (pci_access_hits(addr, size, PIRQRC, 4))
        piix3_update(d->opaque);
}

static void set(PciDevice *d, unsigned reg, uint8_t value, uint8_t wmask)
{
    d->config[reg] = value;
    d->wmask[reg] = wmask;
}

static void piix3_reset(PciDevice *d)
{
    Piix3State *s = d->opaque;
    d->config[PCI_COMMAND] = 0x07; /* I/O, memory, bus master: always on */
    d->config[PCI_COMMAND + 1] = 0x00;
    d->config[PCI_STATUS] = 0x00;
    d->config[PCI_STATUS + 1] = 0x02; /* medium DEVSEL# timing */
    set(d, 0x4C, 0x4D, 0xFF);
    set(d, 0x4E, 0x03, 0xFF);
    set(d, 0x4F, 0x00, 0xFF);
    for (int i = 0; i < 4; i++)
        set(d, PIRQRC + i, 0x80, 0x8F);
    set(d, 0x69, 0x02, 0xFF);
    set(d, 0x6A, 0x00, 0xFF);
    set(d, 0x6B, 0x00, 0xFF);
    set(d, 0x70, 0x80, 0xCF);
    set(d, 0x71, 0x80, 0xCF);
    set(d, 0x76, 0x0C, 0x8F);
    set(d, 0x77, 0x0C, 0x8F);
    set(d, 0x78, 0x02, 0xFF);
    set(d, 0x79, 0x00, 0xFF);
    set(d, 0x80, 0x00, 0x7F);
    set(d, 0x82, 0x00, 0x0F);
    set(d, 0xA0, 0x08, 0xFF);
    for (unsigned r = 0xA2; r <= 0xA7; r++)
        set(d, r, 0x00, 0xFF);
    set(d, 0xA8, 0x0F, 0xFF);
    for (unsigned r = 0xAA; r <= 0xAF; r++)
        set(d, r, 0x00, 0xFF);
    piix3_update(s);
}

static const PciDeviceOps piix3_ops = {.config_write = piix3_config_write, .reset = piix3_reset};

void piix3_init(Piix3State *s, PciBus *bus)
{
    memset(s, 0, sizeof *s);
    PciDevice *d = &s->dev;
    pci_device_init(d, 0x8086, 0x7000, 0x00, 0x060100, 0x80);
    d->ops = &piix3_ops;
    d->opaque = s;
    /* Command bits are hardwired on; only SERR# enable (bit 8) is
     * writable, as is the special cycle enable (bit 3). */
    d->wmask[PCI_COMMAND] = 0x08;
    d->wmask[PCI_COMMAND + 1] = 0x01;
    d->wmask[PCI_INT_LINE] = 0; /* the bridge has no interrupt of its own */
    d->wmask[PCI_CACHE_LINE] = 0;
    d->wmask[PCI_LATENCY] = 0;
    pci_register_device(bus, d, PCI_DEVFN(1, 0));
    bus->set_pirq = piix3_set_pirq;
    bus->pirq_opaque = s;
    piix3_reset(d);
}
