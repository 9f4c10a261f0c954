/* The PC board: RAM, the port map, the reset and A20 logic, and kernel
 * loading.  Every device, port range and ROM window is wired in
 * pc_wire() below, which reads like the schematic.
 *
 * The board: CPU, RAM, the 8259A pair with the PIIX3 ELCR, the 8254 PIT
 * and port 0x61, the MC146818 RTC, the 8042 keyboard controller, four
 * 16550A UARTs, the i440FX/PIIX3 PCI chipset, and the ISA debug ports (POST
 * code 0x80, debug console 0xE9, isa-debug-exit, port 0x92 and 0xCF9
 * reset control).  No local APIC/IOAPIC yet: CPUID reports none and Linux
 * runs on the PIC. */
#include "machine/machine.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bios/linux.h"
#include "bios/multiboot.h"

#define LOW_RAM_END 0xA0000u
#define SLICE 1000000u /* instructions between checks for stop requests */

/* ---- Small ISA ports ---------------------------------------------------- */

/* Port 0x80: POST codes, kept for the monitor and the debugger. */
static void post_write(void *s, uint32_t off, uint32_t v, unsigned size)
{
    (void)off;
    (void)size;
    ((Machine *)s)->post_code = v & 0xFF;
}
static uint32_t post_read(void *s, uint32_t off, unsigned size)
{
    (void)off;
    (void)size;
    return (uint32_t)((Machine *)s)->post_code;
}
static const BusOps post_ops = {post_read, post_write, 1, 1};

/* Port 0xE9: the Bochs/QEMU debug console; reads identify it with 0xE9. */
static void debugcon_write(void *s, uint32_t off, uint32_t v, unsigned size)
{
    (void)off;
    (void)size;
    Machine *m = s;
    if (m->cfg.debugcon) {
        fputc((int)(v & 0xFF), m->cfg.debugcon);
        if ((v & 0xFF) == '\n')
            fflush(m->cfg.debugcon);
    }
}
static uint32_t debugcon_read(void *s, uint32_t off, unsigned size)
{
    (void)s;
    (void)off;
    (void)size;
    return 0xE9;
}
static const BusOps debugcon_ops = {debugcon_read, debugcon_write, 1, 1};

/* isa-debug-exit: writing V ends the run with status (V << 1) | 1, as
 * QEMU's device does. */
static void debug_exit_write(void *s, uint32_t off, uint32_t v, unsigned size)
{
    (void)off;
    Machine *m = s;
    v &= 0xFFFFFFFFu >> (32 - 8 * size);
    m->exit_code = (int)((v << 1) | 1);
    m->exit_pending = true;
    cpu_request_exit(m->cpu);
}
static const BusOps debug_exit_ops = {NULL, debug_exit_write, 1, 4};

/* Port 0x92 (system control port A): bit 1 gates A20, bit 0 pulses reset. */
static uint32_t port92_read(void *s, uint32_t off, unsigned size)
{
    (void)off;
    (void)size;
    Machine *m = s;
    return m->cpu->a20_mask == ~0ull ? 0x02 : 0x00;
}
static void port92_write(void *s, uint32_t off, uint32_t v, unsigned size)
{
    (void)off;
    (void)size;
    Machine *m = s;
    cpu_set_a20(m->cpu, v & 0x02);
    if (v & 0x01) {
        m->reset_pending = true;
        cpu_request_exit(m->cpu);
    }
}
static const BusOps port92_ops = {port92_read, port92_write, 1, 1};

/* Port 0xCF9 (PIIX3 reset control): writing bit 2 resets. */
static uint32_t rcr_read(void *s, uint32_t off, unsigned size)
{
    (void)off;
    (void)size;
    return ((Machine *)s)->rcr;
}
static void rcr_write(void *s, uint32_t off, uint32_t v, unsigned size)
{
    (void)off;
    (void)size;
    Machine *m = s;
    m->rcr = v & 0x0A;
    if (v & 0x04) {
        m->reset_pending = true;
        cpu_request_exit(m->cpu);
    }
}
static const BusOps rcr_ops = {rcr_read, rcr_write, 1, 1};

/* ---- Guest time ----------------------------------------------------------
 * One retired instruction is one nanosecond of guest time (a 1 GHz,
 * one-instruction-per-cycle machine); while the CPU halts, time jumps to
 * the next timer deadline.  The TSC follows the same clock. */

static uint64_t machine_clock(void *opaque)
{
    Machine *m = opaque;
    return m->cpu->icount + m->idle_ns;
}

/* Let guest time pass without instructions (the CPU is halted). */
static void machine_skip_to(Machine *m, uint64_t when)
{
    uint64_t now = machine_clock(m);
    if (when > now) {
        m->idle_ns += when - now;
        m->cpu->tsc_offset += when - now;
    }
}

/* ---- Logging ------------------------------------------------------------ */

static void machine_log(void *opaque, int category, const char *msg)
{
    Machine *m = opaque;
    FILE *f = m->cfg.log_file ? m->cfg.log_file : stderr;
    fprintf(f, "%s: %s\n", category == LOG_UNIMP ? "unimp" : "guest_error", msg);
}

/* ---- Wiring --------------------------------------------------------------- */

/* The CPU's INTR pin follows the master PIC's INT output. */
static void cpu_intr(void *opaque, int n, int level)
{
    (void)n;
    cpu_set_irq(opaque, level);
}

static void kbc_a20(void *opaque, bool enabled)
{
    cpu_set_a20(((Machine *)opaque)->cpu, enabled);
}

static void kbc_reset(void *opaque)
{
    Machine *m = opaque;
    m->reset_pending = true;
    cpu_request_exit(m->cpu);
}

/* FERR# from the x87 drives IRQ 13 on a PC; a write to port 0xF0 (the
 * IGNNE# latch of the AT design) clears the request until FERR# rises
 * again (SDM vol. 1, 8.7 and D.2.1). */
static void fpu_ferr(void *opaque, bool level)
{
    Machine *m = opaque;
    pic_set_irq(&m->pic, 13, level);
}

static void port_f0_write(void *s, uint32_t off, uint32_t v, unsigned size)
{
    (void)off;
    (void)v;
    (void)size;
    pic_set_irq(&((Machine *)s)->pic, 13, 0);
}
static const BusOps port_f0_ops = {NULL, port_f0_write, 1, 1};

static void serial_write(void *opaque, const uint8_t *buf, size_t len)
{
    FILE *f = opaque;
    fwrite(buf, 1, len, f);
    fflush(f);
}

static void pc_devices_init(Machine *m)
{
    DevLog log = {machine_log, m, m->cfg.log_mask};
    pic_init(&m->pic);
    m->pic.log = log;
    irq_connect(&m->pic.intr, cpu_intr, m->cpu, 0);
    m->irq_ops.ack = pic_ack_cb;
    m->cpu->irq_ops = &m->irq_ops;
    m->cpu->irq_opaque = &m->pic;
    m->cpu->fpu.ferr_hook = fpu_ferr;
    m->cpu->fpu.ferr_opaque = m;

    pit_init(&m->pit, &m->sched);
    m->pit.log = log;
    irq_connect(&m->pit.out[0], pic_set_irq, &m->pic, 0);

    int64_t t0 = m->cfg.rtc_start >= 0 ? m->cfg.rtc_start : (int64_t)time(NULL);
    rtc_init(&m->rtc, &m->sched, t0);
    m->rtc.log = log;
    irq_connect(&m->rtc.irq, pic_set_irq, &m->pic, 8);
    rtc_set_memory(&m->rtc, m->ram_size, 0);

    i8042_init(&m->kbc);
    m->kbc.log = log;
    m->kbc.a20 = kbc_a20;
    m->kbc.reset = kbc_reset;
    m->kbc.cb_opaque = m;
    irq_connect(&m->kbc.irq_kbd, pic_set_irq, &m->pic, 1);
    irq_connect(&m->kbc.irq_mouse, pic_set_irq, &m->pic, 12);

    /* COM1/COM3 share IRQ4 and COM2/COM4 IRQ3 through a wired OR. */
    irq_connect(&m->com_irq[0].out, pic_set_irq, &m->pic, 4);
    irq_connect(&m->com_irq[1].out, pic_set_irq, &m->pic, 3);
    for (int k = 0; k < 4; k++) {
        uart_init(&m->com[k], &m->sched);
        m->com[k].log = log;
        if (m->cfg.serial[k])
            m->com[k].be = (CharBackend){serial_write, m->cfg.serial[k]};
        irq_connect(&m->com[k].irq, irq_or_set, &m->com_irq[k & 1], k >> 1);
    }

    pci_bus_init(&m->pci);
    m->pci.log = log;
    i440fx_init(&m->i440fx, &m->pci);
    piix3_init(&m->piix3, &m->pci);
    for (int k = 0; k < 16; k++)
        irq_connect(&m->piix3.isa_irq[k], pic_set_irq, &m->pic, k);
}

static void pc_devices_reset(Machine *m)
{
    /* The RTC keeps its time across a reset (it runs on its battery). */
    pic_reset(&m->pic);
    pit_reset(&m->pit);
    i8042_reset(&m->kbc);
    for (int k = 0; k < 4; k++)
        uart_reset(&m->com[k]);
    pci_bus_reset(&m->pci);
}

static int pc_wire(Machine *m)
{
    Bus *b = &m->bus;
    uint64_t ram = m->ram_size;
    int r = 0;
    static const uint16_t com_base[4] = {0x3F8, 0x2F8, 0x3E8, 0x2E8};
    /* Conventional memory, then extended memory above 1 MiB; the
     * 640 KiB-1 MiB window is left for VGA and ROMs. */
    r |= bus_map_ram(b, 0, ram < LOW_RAM_END ? ram : LOW_RAM_END, m->ram, 0);
    if (ram > 0x100000)
        r |= bus_map_ram(b, 0x100000, ram - 0x100000, m->ram + 0x100000, 0);
    r |= bus_map_ports(b, 0x20, 2, &pic_master_ops, &m->pic);
    r |= bus_map_ports(b, 0xA0, 2, &pic_slave_ops, &m->pic);
    r |= bus_map_ports(b, 0x4D0, 2, &pic_elcr_ops, &m->pic);
    r |= bus_map_ports(b, 0x40, 4, &pit_ops, &m->pit);
    r |= bus_map_ports(b, 0x61, 1, &pit_port61_ops, &m->pit);
    r |= bus_map_ports(b, 0x60, 1, &i8042_data_ops, &m->kbc);
    r |= bus_map_ports(b, 0x64, 1, &i8042_cmd_ops, &m->kbc);
    r |= bus_map_ports(b, 0x70, 2, &rtc_ops, &m->rtc);
    for (int k = 0; k < 4; k++)
        r |= bus_map_ports(b, com_base[k], 8, &uart_ops, &m->com[k]);
    r |= bus_map_ports(b, 0xCF8, 4, &pci_conf_addr_ops, &m->pci);
    r |= bus_map_ports(b, 0xCFC, 4, &pci_conf_data_ops, &m->pci);
    r |= bus_map_ports(b, 0xF0, 1, &port_f0_ops, m);
    r |= bus_map_ports(b, 0x80, 1, &post_ops, m);
    r |= bus_map_ports(b, 0x92, 1, &port92_ops, m);
    r |= bus_map_ports(b, 0xE9, 1, &debugcon_ops, m);
    /* After 0xCF8: a byte access to 0xCF9 is the reset control register,
     * a dword access to 0xCF8 still reaches PCI. */
    r |= bus_map_ports(b, 0xCF9, 1, &rcr_ops, m);
    if (m->cfg.debug_exit)
        r |= bus_map_ports(b, m->cfg.debug_exit_port, m->cfg.debug_exit_size, &debug_exit_ops,
                           m);
    return r ? -1 : 0;
}

static uint8_t *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open '%s'", path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        snprintf(err, errlen, "cannot read '%s'", path);
        return NULL;
    }
    long n = ftell(f);
    rewind(f);
    if (n <= 0 || n > (1l << 30)) {
        fclose(f);
        snprintf(err, errlen, "'%s' is empty or too large", path);
        return NULL;
    }
    uint8_t *buf = malloc((size_t)n);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        snprintf(err, errlen, "cannot read '%s'", path);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Linux 32-bit boot protocol entry state (boot.rst, "32-bit Boot
 * Protocol"): flat protected mode through the loader's GDT with CS =
 * __BOOT_CS, DS = ES = SS = __BOOT_DS, interrupts off, ESI = boot_params,
 * EBP = EDI = EBX = 0. */
static int boot_linux(Machine *m, const uint8_t *img, size_t len, char *err, size_t errlen)
{
    uint8_t *initrd = NULL;
    size_t initrd_len = 0;
    if (m->cfg.initrd) {
        initrd = slurp(m->cfg.initrd, &initrd_len, err, errlen);
        if (!initrd)
            return -1;
    }
    LinuxBoot lb;
    int r = linux_load(&m->bus, m->ram_size, img, len, initrd, initrd_len, m->cfg.append, &lb,
                       err, errlen);
    free(initrd);
    if (r)
        return -1;
    CpuState *c = m->cpu;
    cpu_set_a20(c, true);
    cpu_set_flat32(c);
    c->gdtr.base = lb.gdt_base;
    c->gdtr.limit = lb.gdt_limit;
    c->seg[SEG_CS].sel = 0x10;
    for (int s = 0; s < 6; s++)
        if (s != SEG_CS)
            c->seg[s].sel = 0x18;
    c->eflags &= ~(FL_IF | FL_VM);
    memset(c->regs, 0, sizeof c->regs);
    c->regs[R_ESI] = lb.boot_params;
    c->eip = lb.entry;
    return 0;
}

static int load_kernel(Machine *m, char *err, size_t errlen)
{
    if (!m->cfg.kernel) {
        snprintf(err, errlen, "no -kernel given (firmware boot is not implemented yet)");
        return -1;
    }
    size_t len;
    uint8_t *img = slurp(m->cfg.kernel, &len, err, errlen);
    if (!img)
        return -1;
    int r = -1;
    if (multiboot_detect(img, len)) {
        MultibootBoot mb;
        if (multiboot_load(&m->bus, m->ram_size, img, len, m->cfg.append, m->cfg.initrd, &mb,
                           err, errlen) == 0) {
            /* Machine state of SPEC 3.2: 32-bit flat protected mode, A20 on,
             * paging and interrupts off, EAX = magic, EBX = information. */
            CpuState *c = m->cpu;
            cpu_set_a20(c, true);
            cpu_set_flat32(c);
            c->eflags &= ~(FL_IF | FL_VM);
            c->regs[R_EAX] = 0x2BADB002u;
            c->regs[R_EBX] = mb.mbi;
            c->eip = mb.entry;
            r = 0;
        }
    } else if (linux_detect(img, len)) {
        r = boot_linux(m, img, len, err, errlen);
    } else {
        snprintf(err, errlen, "kernel '%s' is neither a Linux bzImage nor a Multiboot image",
                 m->cfg.kernel);
    }
    free(img);
    return r;
}

int machine_reset(Machine *m, char *err, size_t errlen)
{
    memset(m->ram, 0, m->ram_size);
    pc_devices_reset(m);
    cpu_reset(m->cpu);
    cpu_flush_code(m->cpu);
    m->exit_pending = m->reset_pending = false;
    return load_kernel(m, err, errlen);
}

Machine *machine_create(const MachineConfig *cfg, char *err, size_t errlen)
{
    Machine *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    m->ram_size = cfg->ram_size;
    if (m->ram_size < (1u << 20) || m->ram_size > 0xE0000000ull) {
        snprintf(err, errlen, "RAM size must be between 1 MiB and 3.5 GiB");
        free(m);
        return NULL;
    }
    m->ram = calloc(1, m->ram_size);
    if (!m->ram || bus_init(&m->bus) != 0) {
        snprintf(err, errlen, "cannot allocate %llu MiB of guest RAM",
                 (unsigned long long)(m->ram_size >> 20));
        machine_destroy(m);
        return NULL;
    }
    m->cpu = cpu_new(&m->bus);
    if (!m->cpu) {
        snprintf(err, errlen, "cannot set up the machine");
        machine_destroy(m);
        return NULL;
    }
    sched_init(&m->sched, machine_clock, m);
    m->cpu->log = machine_log;
    m->cpu->log_opaque = m;
    m->cpu->log_mask = cfg->log_mask;
    pc_devices_init(m);
    if (pc_wire(m) != 0) {
        snprintf(err, errlen, "cannot wire the machine");
        machine_destroy(m);
        return NULL;
    }
    if (machine_reset(m, err, errlen) != 0) {
        machine_destroy(m);
        return NULL;
    }
    return m;
}

void machine_destroy(Machine *m)
{
    if (!m)
        return;
    cpu_free(m->cpu);
    bus_destroy(&m->bus);
    free(m->ram);
    free(m);
}

size_t machine_serial_room(Machine *m, int port)
{
    return port >= 0 && port < 4 ? uart_can_receive(&m->com[port]) : 0;
}

void machine_serial_input(Machine *m, int port, const uint8_t *buf, size_t len)
{
    if (port >= 0 && port < 4)
        uart_receive(&m->com[port], buf, len);
}

void machine_request_stop(Machine *m)
{
    m->stop_request = 1;
    if (m->cpu)
        cpu_request_exit(m->cpu);
}

/* What a CPU exit means for the board. */
static MachineStop machine_after(Machine *m, CpuExit r, bool *again)
{
    *again = false;
    if (m->exit_pending) {
        m->exit_pending = false;
        return MACHINE_EXIT;
    }
    /* A stop request wins over a reset, so a guest stuck in a reset loop
     * can still be interrupted. */
    if (m->stop_request) {
        m->stop_request = 0;
        return MACHINE_STOP_REQUEST;
    }
    if (r == CPU_EXIT_SHUTDOWN || m->reset_pending) {
        /* A triple fault or a reset request resets the PC; -no-reboot makes
         * it the end of the run, as with QEMU. */
        if (m->cfg.no_reboot)
            return MACHINE_SHUTDOWN;
        char err[256];
        if (machine_reset(m, err, sizeof err) != 0) {
            fprintf(stderr, "kestrel: reset failed: %s\n", err);
            return MACHINE_SHUTDOWN;
        }
        *again = true;
        return MACHINE_BUDGET;
    }
    switch (r) {
    case CPU_EXIT_DEBUG: return MACHINE_DEBUG;
    case CPU_EXIT_HALT:
        /* Nothing on this board can raise an interrupt yet. */
        return MACHINE_HALTED;
    default: *again = true; return MACHINE_BUDGET;
    }
}

MachineStop machine_run(Machine *m, uint64_t max_insns)
{
    /* The budget is guest time, so that halted stretches count too and a
     * caller polling between slices (the gdb stub) always gets control. */
    uint64_t start = machine_clock(m);
    for (;;) {
        uint64_t slice = SLICE;
        if (max_insns) {
            uint64_t done = machine_clock(m) - start;
            if (done >= max_insns)
                return MACHINE_BUDGET;
            if (max_insns - done < slice)
                slice = max_insns - done;
        }
        /* Run to the next timer deadline at most. */
        sched_run_due(&m->sched);
        uint64_t next = sched_next(&m->sched), now = machine_clock(m);
        if (next != SCHED_NEVER && next - now < slice)
            slice = next > now ? next - now : 1;
        CpuExit r = cpu_run(m->cpu, slice);
        if (r == CPU_EXIT_HALT && !m->exit_pending && !m->reset_pending && !m->stop_request) {
            /* Idle: jump to the next event, which may raise an interrupt. */
            next = sched_next(&m->sched);
            if (next != SCHED_NEVER) {
                machine_skip_to(m, next);
                continue;
            }
        }
        bool again;
        MachineStop s = machine_after(m, r, &again);
        if (!again)
            return s;
    }
}

MachineStop machine_step(Machine *m)
{
    sched_run_due(&m->sched);
    CpuExit r = cpu_step(m->cpu);
    bool again;
    MachineStop s = machine_after(m, r, &again);
    return again ? MACHINE_DEBUG : s;
}
