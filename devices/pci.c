/* PCI bus, configuration mechanism #1 and the 440FX host bridge; see pci.h.
 *
 * References: PCI Local Bus Specification 2.1: 3.7.4.1 "Configuration
 * Mechanism #1" (CONFIG_ADDRESS at CF8h: bit 31 enable, 23-16 bus, 15-11
 * device, 10-8 function, 7-2 register, 1-0 zero; only a dword access to
 * CF8h is CONFIG_ADDRESS; CONFIG_DATA at CFCh-CFFh takes byte, word and
 * dword accesses; a read of a function that does not exist returns all
 * ones ("master abort")), 6.1 "Configuration Space Organization", 6.2.2
 * "Command Register", 6.2.3 "Status Register" (error bits are
 * write-one-to-clear), 6.2.5.1 "Base Addresses" (sizing: write all ones,
 * read back; the low bits give the type); Intel 82441FX PMC data sheet:
 * VID 8086h, DID 1237h, RID 02h, class 060000h, PAM0-PAM6 (59h-5Fh),
 * SMRAM (72h, default 02h). */
#include "devices/pci.h"

#include <string.h>

/* ---- Little-endian config bytes ------------------------------------------- */

static uint32_t get_le(const uint8_t *p, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static void put_le(uint8_t *p, uint32_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t ones(unsigned size)
{
    return 0xFFFFFFFFu >> (32 - 8 * size);
}

static bool valid_access(unsigned addr, unsigned size)
{
    return (size == 1 || size == 2 || size == 4) && addr < 256 && addr + size <= 256;
}

/* ---- Generic function --------------------------------------------------------- */

void pci_device_init(PciDevice *d, uint16_t vendor, uint16_t device, uint8_t revision,
                     uint32_t class_code, uint8_t header_type)
{
    memset(d, 0, sizeof *d);
    put_le(&d->config[PCI_VENDOR_ID], vendor, 2);
    put_le(&d->config[PCI_DEVICE_ID], device, 2);
    d->config[PCI_REVISION] = revision;
    put_le(&d->config[PCI_CLASS_PROG], class_code, 3);
    d->config[PCI_HEADER_TYPE] = header_type;
    /* Command: I/O, memory, bus master, parity response, SERR#, INTx
     * disable are writable (6.2.2). */
    put_le(&d->wmask[PCI_COMMAND],
           PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_PARITY | PCI_CMD_SERR |
               PCI_CMD_INTX_DISABLE,
           2);
    /* Status: data parity, signaled/received aborts, SERR#, parity error
     * are write-one-to-clear (6.2.3). */
    put_le(&d->w1cmask[PCI_STATUS], 0xF900, 2);
    if ((header_type & 0x7F) == 0) {
        d->wmask[PCI_CACHE_LINE] = 0xFF;
        d->wmask[PCI_LATENCY] = 0xFF;
        d->wmask[PCI_INT_LINE] = 0xFF;
    }
}

void pci_register_bar(PciDevice *d, int n, uint32_t size, uint8_t flags)
{
    if (n < 0 || n > 5 || size == 0 || (size & (size - 1)))
        return; /* device-model bug: not a valid BAR */
    bool io = flags & PCI_BAR_IO;
    uint32_t low = io ? 0x3u : 0xFu;
    if (size <= low)
        size = low + 1;
    d->bar_size[n] = size;
    unsigned off = PCI_BAR0 + 4u * (unsigned)n;
    put_le(&d->config[off], io ? PCI_BAR_IO : (flags & PCI_BAR_PREFETCH), 4);
    /* The address bits below the size read back as zero: that is how
     * software sizes a BAR (6.2.5.1). */
    put_le(&d->wmask[off], ~(size - 1) & ~low, 4);
}

void pci_register_rom(PciDevice *d, uint32_t size)
{
    if (size < 2048 || (size & (size - 1)))
        return;
    d->rom_size = size;
    put_le(&d->config[PCI_ROM_BAR], 0, 4);
    put_le(&d->wmask[PCI_ROM_BAR], (~(size - 1) & 0xFFFFF800u) | 1u, 4);
}

void pci_set_int_pin(PciDevice *d, uint8_t pin)
{
    d->config[PCI_INT_PIN] = pin <= 4 ? pin : 0;
}

uint64_t pci_bar_address(const PciDevice *d, int n)
{
    if (n < 0 || n > 5 || !d->bar_size[n])
        return PCI_BAR_UNMAPPED;
    uint32_t v = get_le(&d->config[PCI_BAR0 + 4 * n], 4);
    uint16_t cmd = (uint16_t)get_le(&d->config[PCI_COMMAND], 2);
    uint32_t addr;
    if (v & PCI_BAR_IO) {
        if (!(cmd & PCI_CMD_IO))
            return PCI_BAR_UNMAPPED;
        addr = v & ~0x3u;
    } else {
        if (!(cmd & PCI_CMD_MEM))
            return PCI_BAR_UNMAPPED;
        addr = v & ~0xFu;
    }
    /* Zero is "not assigned" to every firmware; all ones is mid-sizing. */
    if (addr == 0 || addr == (~(d->bar_size[n] - 1) & ~((v & PCI_BAR_IO) ? 0x3u : 0xFu)))
        return PCI_BAR_UNMAPPED;
    return addr;
}

bool pci_access_hits(unsigned addr, unsigned size, unsigned reg, unsigned len)
{
    return addr < reg + len && reg < addr + size;
}

static void pci_update_irq(PciDevice *d);

uint32_t pci_config_read(PciDevice *d, unsigned addr, unsigned size)
{
    if (!valid_access(addr, size))
        return 0xFFFFFFFFu;
    if (d->ops && d->ops->config_read)
        return d->ops->config_read(d, addr, size) & ones(size);
    return get_le(&d->config[addr], size);
}

void pci_config_write(PciDevice *d, unsigned addr, uint32_t value, unsigned size)
{
    if (!valid_access(addr, size))
        return;
    for (unsigned i = 0; i < size; i++) {
        unsigned a = addr + i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        uint8_t wm = d->wmask[a], w1c = d->w1cmask[a];
        d->config[a] = (uint8_t)((d->config[a] & ~wm) | (b & wm));
        d->config[a] &= (uint8_t) ~(b & w1c);
    }
    if (pci_access_hits(addr, size, PCI_COMMAND, 2))
        pci_update_irq(d); /* INTx disable may have changed */
    if (d->ops && d->ops->config_write)
        d->ops->config_write(d, addr, value & ones(size), size);
}

/* ---- Interrupts ------------------------------------------------------------ */

static int pirq_of(const PciDevice *d)
{
    int pin = d->config[PCI_INT_PIN];
    if (pin < 1 || pin > 4)
        return -1;
    int slot = d->devfn >> 3;
    return (slot + pin + 2) & 3; /* (slot - 1 + pin - 1) mod 4 */
}

/* Propagate the function's effective INTx (level AND NOT disabled) to its
 * PIRQ line; each PIRQ is the wired OR of the functions on it. */
static void pci_update_irq(PciDevice *d)
{
    uint16_t cmd = (uint16_t)get_le(&d->config[PCI_COMMAND], 2);
    bool eff = d->irq_level && !(cmd & PCI_CMD_INTX_DISABLE);
    /* Status bit 3 shows the INTx state regardless of the disable bit. */
    if (d->irq_level)
        d->config[PCI_STATUS] |= PCI_STATUS_INTX;
    else
        d->config[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTX;
    PciBus *b = d->bus;
    int p = pirq_of(d);
    if (!b || p < 0 || eff == d->irq_asserted)
        return;
    d->irq_asserted = eff;
    bool before = b->pirq_count[p] != 0;
    if (eff)
        b->pirq_count[p]++;
    else
        b->pirq_count[p]--;
    bool after = b->pirq_count[p] != 0;
    if (before != after && b->set_pirq)
        b->set_pirq(b->pirq_opaque, p, after);
}

void pci_set_irq(PciDevice *d, int level)
{
    d->irq_level = level != 0;
    pci_update_irq(d);
}

void pci_device_reset(PciDevice *d)
{
    pci_set_irq(d, 0);
    put_le(&d->config[PCI_COMMAND], 0, 2);
    uint16_t st = (uint16_t)get_le(&d->config[PCI_STATUS], 2);
    put_le(&d->config[PCI_STATUS], st & ~get_le(&d->w1cmask[PCI_STATUS], 2), 2);
    d->config[PCI_CACHE_LINE] &= (uint8_t)~d->wmask[PCI_CACHE_LINE];
    d->config[PCI_LATENCY] &= (uint8_t)~d->wmask[PCI_LATENCY];
    d->config[PCI_INT_LINE] &= (uint8_t)~d->wmask[PCI_INT_LINE];
    for (int n = 0; n < 6; n++) {
        unsigned off = PCI_BAR0 + 4u * (unsigned)n;
        uint32_t v = get_le(&d->config[off], 4);
        put_le(&d->config[off], v & ~get_le(&d->wmask[off], 4), 4);
    }
    put_le(&d->config[PCI_ROM_BAR],
           get_le(&d->config[PCI_ROM_BAR], 4) & ~get_le(&d->wmask[PCI_ROM_BAR], 4), 4);
}

/* ---- Bus ---------------------------------------------------------------------- */

void pci_bus_init(PciBus *b)
{
    memset(b, 0, sizeof *b);
}

void pci_bus_reset(PciBus *b)
{
    b->config_addr = 0;
    for (int i = 0; i < 256; i++) {
        PciDevice *d = b->devs[i];
        if (!d)
            continue;
        pci_device_reset(d);
        if (d->ops && d->ops->reset)
            d->ops->reset(d);
    }
}

int pci_register_device(PciBus *b, PciDevice *d, uint8_t devfn)
{
    if (b->devs[devfn])
        return -1;
    b->devs[devfn] = d;
    d->devfn = devfn;
    d->bus = b;
    return 0;
}

uint32_t pci_bus_config_read(PciBus *b, uint8_t devfn, unsigned addr, unsigned size)
{
    PciDevice *d = b->devs[devfn];
    if (!d)
        return ones(size); /* master abort */
    return pci_config_read(d, addr, size);
}

void pci_bus_config_write(PciBus *b, uint8_t devfn, unsigned addr, uint32_t v, unsigned size)
{
    PciDevice *d = b->devs[devfn];
    if (d)
        pci_config_write(d, addr, v, size);
}

/* ---- Configuration mechanism #1 ------------------------------------------------- */

static uint32_t conf_addr_read(void *opaque, uint32_t off, unsigned size)
{
    PciBus *b = opaque;
    if (off == 0 && size == 4)
        return b->config_addr;
    return ones(size); /* not CONFIG_ADDRESS: nothing else decodes here */
}

static void conf_addr_write(void *opaque, uint32_t off, uint32_t v, unsigned size)
{
    PciBus *b = opaque;
    if (off == 0 && size == 4)
        b->config_addr = v & 0x80FFFFFCu; /* 30-24 reserved, 1-0 read as 0 */
}

/* The function and register CONFIG_ADDRESS selects, or NULL. */
static PciDevice *conf_target(PciBus *b, unsigned *reg)
{
    uint32_t a = b->config_addr;
    if (!(a & 0x80000000u))
        return NULL;
    if ((a >> 16) & 0xFF)
        return NULL; /* no bridges: nothing answers on other buses */
    *reg = a & 0xFC;
    return b->devs[(a >> 8) & 0xFF];
}

static uint32_t conf_data_read(void *opaque, uint32_t off, unsigned size)
{
    PciBus *b = opaque;
    unsigned reg = 0;
    PciDevice *d = conf_target(b, &reg);
    if (!d || off + size > 4)
        return ones(size);
    return pci_config_read(d, reg + off, size);
}

static void conf_data_write(void *opaque, uint32_t off, uint32_t v, unsigned size)
{
    PciBus *b = opaque;
    unsigned reg = 0;
    PciDevice *d = conf_target(b, &reg);
    if (!d || off + size > 4)
        return;
    pci_config_write(d, reg + off, v, size);
}

const BusOps pci_conf_addr_ops = {conf_addr_read, conf_addr_write, 1, 4};
const BusOps pci_conf_data_ops = {conf_data_read, conf_data_write, 1, 4};

/* ---- 82441FX host bridge ------------------------------------------------------ */

enum { I440FX_PAM0 = 0x59, I440FX_SMRAM = 0x72 };

static void i440fx_config_write(PciDevice *d, unsigned addr, uint32_t v, unsigned size)
{
    (void)v;
    I440fxState *s = d->opaque;
    if ((pci_access_hits(addr, size, I440FX_PAM0, 7) ||
         pci_access_hits(addr, size, I440FX_SMRAM, 1)) &&
        s->memmap_changed)
        s->memmap_changed(s->cb_opaque);
}

static void i440fx_reset(PciDevice *d)
{
    I440fxState *s = d->opaque;
    put_le(&d->config[PCI_COMMAND], 0x0006, 2); /* memory and bus master on */
    put_le(&d->config[PCI_STATUS], 0x0280, 2);  /* fast back-to-back, medium DEVSEL */
    memset(&d->config[I440FX_PAM0], 0, 7);      /* everything to PCI/ROM */
    d->config[I440FX_SMRAM] = 0x02;             /* C_BASE_SEG = 010 (A0000h) */
    if (s->memmap_changed)
        s->memmap_changed(s->cb_opaque);
}

static const PciDeviceOps i440fx_ops = {.config_write = i440fx_config_write, .reset = i440fx_reset};

void i440fx_init(I440fxState *s, PciBus *bus)
{
    void (*cb)(void *) = s->memmap_changed;
    void *opaque = s->cb_opaque;
    memset(s, 0, sizeof *s);
    PciDevice *d = &s->dev;
    pci_device_init(d, 0x8086, 0x1237, 0x02, 0x060000, 0x00);
    d->ops = &i440fx_ops;
    d->opaque = s;
    /* The host bridge ignores I/O-space and INTx-disable writes. */
    put_le(&d->wmask[PCI_COMMAND], PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_PARITY | PCI_CMD_SERR, 2);
    d->wmask[PCI_INT_LINE] = 0;
    /* PAM0 controls only F0000h-FFFFFh (bits 5:4); PAM1-6 two regions each
     * (bits 1:0 and 5:4: RE, WE). */
    d->wmask[I440FX_PAM0] = 0x30;
    for (int i = 1; i < 7; i++)
        d->wmask[I440FX_PAM0 + i] = 0x33;
    /* SMRAM: D_OPEN, D_CLS, D_LCK, G_SMRAME writable; C_BASE_SEG fixed. */
    d->wmask[I440FX_SMRAM] = 0x78;
    s->memmap_changed = cb;
    s->cb_opaque = opaque;
    pci_register_device(bus, d, PCI_DEVFN(0, 0));
    i440fx_reset(d);
}

int i440fx_pam_attr(const I440fxState *s, uint32_t addr)
{
    if (addr < 0xC0000 || addr > 0xFFFFF)
        return 0;
    uint8_t v;
    if (addr >= 0xF0000) {
        v = s->dev.config[I440FX_PAM0] >> 4;
    } else {
        unsigned seg = (addr - 0xC0000) >> 14; /* 16 KiB regions from C0000h */
        uint8_t reg = s->dev.config[I440FX_PAM0 + 1 + seg / 2];
        v = (seg & 1) ? reg >> 4 : reg;
    }
    return v & (PAM_READ_DRAM | PAM_WRITE_DRAM);
}

uint8_t i440fx_smram(const I440fxState *s)
{
    return s->dev.config[I440FX_SMRAM];
}
