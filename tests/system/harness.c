/* Bare-metal harness for the system tests: runs a Multiboot v1 image
 * (a.out kludge, flags bit 16) on a CPU and a bus with RAM and a few ports,
 * without the machine or a frontend.
 *
 *   harness [--expect-shutdown] [--max-insns N] [--qemu-status] prog.bin
 *
 * Ports, as in `kestrel -device isa-debug-exit -debugcon stdio`:
 *   0xE9  write: a byte to stdout (the debug console)
 *   0xF4  write V: stop; the status is (V << 1) | 1 with --qemu-status,
 *         otherwise 0 for V = 0x10 (pass), 77 for V = 0x12 (skip, meson's
 *         code), 1 for anything else
 * and, for the interrupt tests only (no frontend has them):
 *   0xE0  write V: assert INTR; the next INTA returns vector V and drops it
 *   0xE1  write: raise an NMI
 *   0xE2  write: drop INTR without an INTA
 *   0xE3  write V: the vector of a later event (2: an NMI, else INTR)
 *   0xE4  write N: the event fires after N more instructions, or when the
 *         CPU halts for N = 0
 *
 * The guest is entered in flat 32-bit protected mode at its entry address
 * with EAX = 0x2BADB002 and EBX pointing at a minimal Multiboot info (memory
 * sizes only).  A shutdown (triple fault) passes only with
 * --expect-shutdown; a HLT nothing can wake, an exhausted instruction
 * budget or a reported exception fails. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "machine/bus.h"

#define RAM_SIZE (64u << 20)
#define MBI_ADDR 0x9000u
#define MB_MAGIC 0x1BADB002u
#define MB_FLAG_AOUT (1u << 16)

typedef struct Harness {
    CpuState *cpu;
    bool exited;
    uint32_t exit_value;
    int irq_vector; /* -1: INTR not asserted */
    int ev_vector;  /* the later event (ports 0xE3, 0xE4) */
    uint32_t ev_after;
    bool ev_armed;
} Harness;

static uint32_t port_read(void *s, uint32_t off, unsigned size)
{
    (void)s;
    (void)off;
    (void)size;
    return 0xFFFFFFFFu;
}

static void debugcon_write(void *s, uint32_t off, uint32_t v, unsigned size)
{
    (void)s;
    (void)off;
    (void)size;
    putchar((int)(v & 0xFF));
    if ((v & 0xFF) == '\n')
        fflush(stdout);
}

static void exit_write(void *s, uint32_t off, uint32_t v, unsigned size)
{
    Harness *h = s;
    (void)off;
    (void)size;
    if (!h->exited) {
        h->exited = true;
        h->exit_value = v;
    }
    cpu_request_exit(h->cpu);
}

static void irq_write(void *s, uint32_t off, uint32_t v, unsigned size)
{
    Harness *h = s;
    (void)size;
    switch (off) {
    case 0:
        h->irq_vector = (int)(v & 0xFF);
        cpu_set_irq(h->cpu, true);
        break;
    case 1:
        cpu_set_nmi(h->cpu);
        break;
    case 2:
        h->irq_vector = -1;
        cpu_set_irq(h->cpu, false);
        break;
    case 3:
        h->ev_vector = (int)(v & 0xFF);
        break;
    default:
        h->ev_after = v & 0xFF;
        h->ev_armed = true;
        cpu_request_exit(h->cpu); /* the run loop counts from here */
        break;
    }
}

static void event_fire(Harness *h)
{
    h->ev_armed = false;
    if (h->ev_vector == 2) {
        cpu_set_nmi(h->cpu);
    } else {
        h->irq_vector = h->ev_vector;
        cpu_set_irq(h->cpu, true);
    }
}

static int irq_ack(void *opaque)
{
    Harness *h = opaque;
    int v = h->irq_vector;
    h->irq_vector = -1;
    cpu_set_irq(h->cpu, false);
    return v;
}

static const BusOps debugcon_ops = {port_read, debugcon_write, 1, 1};
static const BusOps exit_ops = {port_read, exit_write, 1, 4};
static const BusOps irq_ops = {port_read, irq_write, 1, 1};
static const CpuIrqOps cpu_irq_ops = {irq_ack};

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "harness: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Load the a.out-kludge image; returns the entry address. */
static uint32_t load_multiboot(uint8_t *ram, const uint8_t *img, size_t len, const char *path)
{
    size_t scan = len < 8192 ? len : 8192;
    for (size_t off = 0; off + 32 <= scan; off += 4) {
        const uint8_t *h = img + off;
        uint32_t magic = rd32(h), flags = rd32(h + 4), sum = rd32(h + 8);
        if (magic != MB_MAGIC || magic + flags + sum != 0)
            continue;
        if (!(flags & MB_FLAG_AOUT))
            die("%s: multiboot header without the a.out kludge", path);
        uint32_t header_addr = rd32(h + 12), load_addr = rd32(h + 16);
        uint32_t load_end = rd32(h + 20), bss_end = rd32(h + 24), entry = rd32(h + 28);
        if (header_addr < load_addr || header_addr - load_addr > off)
            die("%s: inconsistent header_addr/load_addr", path);
        size_t file_off = off - (header_addr - load_addr);
        uint64_t size = load_end ? (uint64_t)load_end - load_addr : len - file_off;
        if ((load_end && load_end < load_addr) || file_off + size > len)
            die("%s: load range outside the file", path);
        uint64_t end = (uint64_t)load_addr + size;
        uint64_t zend = bss_end > end ? bss_end : end;
        if (load_addr < 0x100000 || zend > RAM_SIZE)
            die("%s: load range outside RAM above 1 MiB", path);
        memcpy(ram + load_addr, img + file_off, size);
        memset(ram + end, 0, zend - end);
        return entry;
    }
    die("%s: no multiboot header in the first 8 KiB", path);
    return 0;
}

int main(int argc, char **argv)
{
    bool expect_shutdown = false, qemu_status = false;
    int trace = 0; /* --trace N: print the last N CS:EIP on the way out */
    uint64_t max_insns = 2000000000ull;
    const char *path = NULL;
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "--expect-shutdown"))
            expect_shutdown = true;
        else if (!strcmp(argv[k], "--qemu-status"))
            qemu_status = true;
        else if (!strcmp(argv[k], "--trace") && k + 1 < argc)
            trace = atoi(argv[++k]);
        else if (!strcmp(argv[k], "--max-insns") && k + 1 < argc)
            max_insns = strtoull(argv[++k], NULL, 0);
        else if (argv[k][0] == '-' || path)
            die("usage: harness [--expect-shutdown] [--max-insns N] [--qemu-status] %s",
                "prog.bin");
        else
            path = argv[k];
    }
    if (!path)
        die("usage: harness [--expect-shutdown] [--max-insns N] [--qemu-status] %s", "prog.bin");

    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open %s", path);
    static uint8_t img[4u << 20];
    size_t len = fread(img, 1, sizeof img, f);
    fclose(f);

    uint8_t *ram = calloc(1, RAM_SIZE);
    static Bus bus;
    if (!ram || bus_init(&bus) || bus_map_ram(&bus, 0, RAM_SIZE, ram, 0))
        die("%s", "out of memory");
    Harness h = {.irq_vector = -1};
    if (bus_map_ports(&bus, 0xE9, 1, &debugcon_ops, &h) ||
        bus_map_ports(&bus, 0xF4, 4, &exit_ops, &h) || bus_map_ports(&bus, 0xE0, 5, &irq_ops, &h))
        die("%s", "cannot map ports");
    uint32_t entry = load_multiboot(ram, img, len, path);

    /* Multiboot info: flags bit 0, lower and upper memory in KiB. */
    memset(ram + MBI_ADDR, 0, 120);
    uint32_t mbi[3] = {1, 639, RAM_SIZE / 1024 - 1024};
    memcpy(ram + MBI_ADDR, mbi, sizeof mbi);

    CpuState *c = cpu_new(&bus);
    if (!c)
        die("%s", "out of memory");
    h.cpu = c;
    c->irq_ops = &cpu_irq_ops;
    c->irq_opaque = &h;
    cpu_set_flat32(c);
    c->eip = entry;
    c->regs[R_EAX] = 0x2BADB002u;
    c->regs[R_EBX] = MBI_ADDR;

    int status = 1;
    const char *why = NULL;
    enum { RING = 1 << 18 };
    static uint32_t ring_eip[RING];
    static uint16_t ring_cs[RING];
    unsigned ring_n = 0;
    for (;;) {
        if (trace) {
            ring_eip[ring_n % RING] = c->eip;
            ring_cs[ring_n % RING] = c->seg[SEG_CS].sel;
            ring_n++;
        }
        bool timed = h.ev_armed && h.ev_after > 0;
        CpuExit r = cpu_run(c, trace ? 1 : timed ? h.ev_after : 1000000);
        if (h.exited)
            break;
        if (timed && r == CPU_EXIT_BUDGET && !trace) {
            event_fire(&h);
            continue;
        }
        if (r == CPU_EXIT_HALT && h.ev_armed && h.ev_after == 0) {
            event_fire(&h);
            continue;
        }
        if (r == CPU_EXIT_SHUTDOWN) {
            why = expect_shutdown ? NULL : "unexpected shutdown (triple fault)";
            status = expect_shutdown ? 0 : 1;
            break;
        }
        if (r == CPU_EXIT_HALT) {
            why = "HLT with nothing to wake the CPU";
            break;
        }
        if (r == CPU_EXIT_EXCEPTION || r == CPU_EXIT_DEBUG) {
            why = "unexpected CPU exit";
            break;
        }
        if (c->icount >= max_insns) {
            why = "instruction budget exhausted";
            break;
        }
    }
    fflush(stdout);
    if (h.exited) {
        if (expect_shutdown) {
            why = "the guest exited instead of shutting down";
            status = 1;
        } else if (qemu_status) {
            status = (int)((h.exit_value << 1) | 1) & 0xFF;
        } else {
            status = h.exit_value == 0x10 ? 0 : h.exit_value == 0x12 ? 77 : 1;
        }
    }
    for (unsigned k = ring_n > (unsigned)trace ? ring_n - (unsigned)trace : 0; trace && k < ring_n;
         k++)
        fprintf(stderr, "trace %04x:%08" PRIx32 "\n", ring_cs[k % RING], ring_eip[k % RING]);
    if (why)
        fprintf(stderr, "harness: %s at %04x:%08" PRIx32 " after %" PRIu64 " instructions\n", why,
                c->seg[SEG_CS].sel, c->eip, c->icount);
    cpu_free(c);
    bus_destroy(&bus);
    free(ram);
    return status;
}
