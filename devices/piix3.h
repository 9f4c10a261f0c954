/* Intel 82371SB PIIX3, function 0: the PCI-to-ISA bridge (00:01.0) and
 * its PCI interrupt router (PIRQA#-PIRQD# to ISA IRQs, registers 60h-63h).
 * The PIIX3's other ISA-side parts are separate devices: the 8259A pair
 * with ELCR (pic.h), the 8254 and port 61h (pit.h), the RTC (rtc.h); the
 * reset control register 0xCF9 lives in machine/pc.c.
 *
 * Wiring (machine/pc.c):
 *   piix3_init(&m->piix3, &m->pci);        registers 00:01.0, takes PIRQs
 *   for (irq = 0; irq < 16; irq++)
 *       irq_connect(&m->piix3.isa_irq[irq], pic_set_irq, pic, irq);
 * A routed PIRQ drives isa_irq[n] with the OR of the PIRQs routed to n.
 * An ISA device and a PIRQ on the same IRQ must be ORed by the machine
 * (the PIC input is one level); or the machine reads piix3_pirq_route()
 * and routes by itself, leaving isa_irq unconnected. */
#ifndef KESTREL_DEVICES_PIIX3_H
#define KESTREL_DEVICES_PIIX3_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"
#include "machine/irq.h"

typedef struct Piix3State {
    PciDevice dev;
    bool pirq_level[4]; /* PIRQA#-PIRQD# as the bus drives them */
    IrqLine isa_irq[16];
} Piix3State;

void piix3_init(Piix3State *s, PciBus *bus); /* its reset runs from pci_bus_reset */
/* The ISA IRQ that PIRQ n (0-3) is routed to, or -1 (routing disabled or
 * a reserved IRQ value). */
int piix3_pirq_route(const Piix3State *s, int pirq);

#endif
