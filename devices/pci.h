/* PCI bus 0 with configuration mechanism #1 (ports 0xCF8 and 0xCFC-0xCFF),
 * generic PCI functions with 256-byte configuration spaces, and the Intel
 * 440FX host bridge (00:00.0).  The PIIX3 ISA bridge is in piix3.h.
 *
 * Wiring (machine/pc.c):
 *   pci_bus_init(&m->pci);
 *   bus_map_ports(b, 0xCF8, 4, &pci_conf_addr_ops, &m->pci);
 *   bus_map_ports(b, 0xCFC, 4, &pci_conf_data_ops, &m->pci);
 *   (map 0xCF9, the PIIX3 reset control register, after 0xCF8: a byte
 *    access there is not a configuration address access)
 *   m->i440fx.memmap_changed = <remap 0xC0000-0xFFFFF per i440fx_pam_attr>;
 *   m->i440fx.cb_opaque = m;        (set before init: init keeps them)
 *   i440fx_init(&m->i440fx, &m->pci);
 *   piix3_init(&m->piix3, &m->pci);  (piix3.h)
 *   on a board reset: pci_bus_reset(&m->pci);
 *
 * A device model (IDE, NE2000, VGA, ...) embeds a PciDevice, fills it with
 * pci_device_init() and pci_register_bar(), sets `ops` for side effects of
 * configuration writes (a BAR moved, decoding switched on), and is put on
 * the bus with pci_register_device().  Only dword accesses to 0xCF8 reach
 * CONFIG_ADDRESS; 0xCFC-0xCFF take byte, word and dword accesses at any
 * offset within the dword the address selects. */
#ifndef KESTREL_DEVICES_PCI_H
#define KESTREL_DEVICES_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/devlog.h"
#include "machine/bus.h"

/* Configuration header offsets (PCI Local Bus Specification 2.1, 6.1). */
enum {
    PCI_VENDOR_ID = 0x00,
    PCI_DEVICE_ID = 0x02,
    PCI_COMMAND = 0x04,
    PCI_STATUS = 0x06,
    PCI_REVISION = 0x08,
    PCI_CLASS_PROG = 0x09,
    PCI_CACHE_LINE = 0x0C,
    PCI_LATENCY = 0x0D,
    PCI_HEADER_TYPE = 0x0E,
    PCI_BAR0 = 0x10,
    PCI_SUBSYS_VENDOR = 0x2C,
    PCI_SUBSYS_ID = 0x2E,
    PCI_ROM_BAR = 0x30,
    PCI_INT_LINE = 0x3C,
    PCI_INT_PIN = 0x3D,
};

enum {
    PCI_CMD_IO = 0x0001,
    PCI_CMD_MEM = 0x0002,
    PCI_CMD_MASTER = 0x0004,
    PCI_CMD_PARITY = 0x0040,
    PCI_CMD_SERR = 0x0100,
    PCI_CMD_INTX_DISABLE = 0x0400,
    PCI_STATUS_INTX = 0x0008,
};

/* pci_register_bar flags: the low bits of the BAR. */
enum {
    PCI_BAR_MEM32 = 0x00,
    PCI_BAR_IO = 0x01,
    PCI_BAR_PREFETCH = 0x08,
};

#define PCI_BAR_UNMAPPED UINT64_MAX
#define PCI_DEVFN(slot, fn) ((uint8_t)(((slot) << 3) | (fn)))

typedef struct PciBus PciBus;
typedef struct PciDevice PciDevice;

typedef struct PciDeviceOps {
    /* Called after a configuration write has been applied (masks and
     * write-1-to-clear bits honoured); addr/size are the guest's access. */
    void (*config_write)(PciDevice *d, unsigned addr, uint32_t value, unsigned size);
    /* Optional: produce a read with side effects; NULL reads config[]. */
    uint32_t (*config_read)(PciDevice *d, unsigned addr, unsigned size);
    /* Optional: device-specific reset, after pci_bus_reset() has put the
     * standard header back to its power-on values. */
    void (*reset)(PciDevice *d);
} PciDeviceOps;

struct PciDevice {
    uint8_t config[256];
    uint8_t wmask[256];   /* bits the guest may write */
    uint8_t w1cmask[256]; /* bits cleared by writing 1 (status) */
    uint32_t bar_size[6]; /* 0: BAR not implemented */
    uint32_t rom_size;
    uint8_t devfn;
    bool irq_level;    /* the function's INTx output */
    bool irq_asserted; /* what the bus counts for it (level AND enabled) */
    const PciDeviceOps *ops;
    void *opaque; /* for the ops: the device model */
    PciBus *bus;
};

struct PciBus {
    PciDevice *devs[256];   /* by devfn; wiring, not guest state */
    uint32_t config_addr;   /* CONFIG_ADDRESS (0xCF8) */
    uint16_t pirq_count[4]; /* functions asserting each of PIRQA#-PIRQD# */
    /* Where PIRQ levels go (the PIIX3 router). */
    void (*set_pirq)(void *opaque, int pirq, int level);
    void *pirq_opaque;
    DevLog log;
};

extern const BusOps pci_conf_addr_ops; /* 0xCF8-0xCFB */
extern const BusOps pci_conf_data_ops; /* 0xCFC-0xCFF */

void pci_bus_init(PciBus *b);
/* PCI RST#: CONFIG_ADDRESS cleared; in every function the command
 * register, status error bits, cache line, latency timer, interrupt line,
 * BARs and ROM BAR return to their power-on values and INTx is released;
 * then each function's ops->reset runs. */
void pci_bus_reset(PciBus *b);

/* Identity and the standard writable fields (command, status bits, cache
 * line, latency timer, interrupt line).  class_code is base:sub:prog-if. */
void pci_device_init(PciDevice *d, uint16_t vendor, uint16_t device, uint8_t revision,
                     uint32_t class_code, uint8_t header_type);
/* The generic part of pci_bus_reset() for one function. */
void pci_device_reset(PciDevice *d);
/* Put a function on bus 0; -1 if devfn is taken. */
int pci_register_device(PciBus *b, PciDevice *d, uint8_t devfn);
/* BAR n (0-5) of `size` bytes, a power of two (>= 16 for memory, >= 4 for
 * I/O); flags PCI_BAR_IO or PCI_BAR_MEM32 [| PCI_BAR_PREFETCH]. */
void pci_register_bar(PciDevice *d, int n, uint32_t size, uint8_t flags);
/* Expansion ROM BAR of `size` bytes (a power of two >= 2 KiB). */
void pci_register_rom(PciDevice *d, uint32_t size);
/* INTx pin (1 = INTA# .. 4 = INTD#, 0 = none). */
void pci_set_int_pin(PciDevice *d, uint8_t pin);

/* Decoded BAR address, or PCI_BAR_UNMAPPED when the BAR is absent, zero,
 * or the command register disables its space. */
uint64_t pci_bar_address(const PciDevice *d, int n);
/* Does a config access [addr, addr+size) touch [reg, reg+len)? */
bool pci_access_hits(unsigned addr, unsigned size, unsigned reg, unsigned len);

/* Configuration access to one function (as the data port does it). */
uint32_t pci_config_read(PciDevice *d, unsigned addr, unsigned size);
void pci_config_write(PciDevice *d, unsigned addr, uint32_t value, unsigned size);
/* Whole-bus access by bus/devfn/register, all ones for nothing there. */
uint32_t pci_bus_config_read(PciBus *b, uint8_t devfn, unsigned addr, unsigned size);
void pci_bus_config_write(PciBus *b, uint8_t devfn, unsigned addr, uint32_t v, unsigned size);

/* Drive the function's INTx output; it reaches PIRQ[(slot - 1 + pin - 1)
 * & 3], the i440FX/PIIX3 board swizzle that SeaBIOS's routing table
 * describes, unless the command register's INTx disable bit is set. */
void pci_set_irq(PciDevice *d, int level);

/* ---- Intel 82441FX PMC (440FX host bridge), 00:00.0 -------------------- */

enum { PAM_READ_DRAM = 1, PAM_WRITE_DRAM = 2 };

typedef struct I440fxState {
    PciDevice dev;
    /* PAM0-PAM6 or SMRAM changed: the machine remaps 0xA0000-0xFFFFF. */
    void (*memmap_changed)(void *opaque);
    void *cb_opaque;
} I440fxState;

void i440fx_init(I440fxState *s, PciBus *bus); /* its reset runs from pci_bus_reset */
/* PAM attributes (PAM_READ_DRAM | PAM_WRITE_DRAM) of an address in
 * 0xC0000-0xFFFFF; 0 outside (reads and writes go to the PCI/ISA side). */
int i440fx_pam_attr(const I440fxState *s, uint32_t addr);
/* The SMRAM control register (0x72). */
uint8_t i440fx_smram(const I440fxState *s);

#endif
