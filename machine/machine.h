/* The PC machine: the public API frontends drive.
 *
 * A Machine owns the RAM, the buses, the CPU and the devices.  Frontends
 * (the command line, the GDB stub, later the SDL window and monitor) call
 * only what is declared here and in cpu/cpu.h. */
#ifndef KESTREL_MACHINE_H
#define KESTREL_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/cpu.h"
#include "machine/bus.h"
#include "machine/irq.h"
#include "machine/sched.h"
#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/pic.h"
#include "devices/piix3.h"
#include "devices/pit.h"
#include "devices/rtc.h"
#include "devices/uart.h"

typedef struct MachineConfig {
    uint64_t ram_size;       /* bytes */
    const char *kernel;      /* -kernel: Multiboot image (bzImage with the PC-machine work) */
    const char *initrd;      /* -initrd: Multiboot modules, comma-separated */
    const char *append;      /* -append: command line */
    bool debug_exit;         /* -device isa-debug-exit */
    uint16_t debug_exit_port;
    uint16_t debug_exit_size;
    FILE *debugcon;          /* port 0xE9 output; NULL discards */
    bool no_reboot;          /* -no-reboot: a reset ends the run instead */
    FILE *serial[4];         /* COM1-COM4 output (-serial); NULL: not connected */
    int64_t rtc_start;       /* RTC time at power-on, Unix seconds; -1: host time */
    unsigned log_mask;       /* LOG_GUEST_ERROR | LOG_UNIMP */
    FILE *log_file;          /* where logs go (stderr by default) */
} MachineConfig;

typedef enum MachineStop {
    MACHINE_BUDGET,   /* the instruction budget ran out (keep going) */
    MACHINE_EXIT,     /* the guest asked to exit: see exit_code */
    MACHINE_SHUTDOWN, /* reset or power-off with no_reboot: the run is over */
    MACHINE_HALTED,   /* HLT and nothing can ever wake the CPU */
    MACHINE_DEBUG,    /* a debugger breakpoint, watchpoint or step completed */
    MACHINE_STOP_REQUEST, /* machine_request_stop() */
} MachineStop;

typedef struct Machine {
    MachineConfig cfg;
    Bus bus;
    CpuState *cpu;
    uint8_t *ram;
    uint64_t ram_size;
    int exit_code;        /* valid after MACHINE_EXIT */
    bool exit_pending;
    bool reset_pending;
    volatile int stop_request;
    uint64_t post_code;   /* last byte written to port 0x80 */
    uint8_t rcr;          /* reset control register, port 0xCF9 */
    Sched sched;          /* guest-time events */
    uint64_t idle_ns;     /* guest time spent halted */

    /* The chips on the board (pc_wire() in pc.c is the schematic). */
    PicState pic;
    PitState pit;
    RtcState rtc;
    I8042State kbc;
    UartState com[4];
    IrqOr com_irq[2];     /* IRQ4: COM1|COM3, IRQ3: COM2|COM4 */
    PciBus pci;
    I440fxState i440fx;
    Piix3State piix3;
    CpuIrqOps irq_ops;
} Machine;

/* Build the machine and load the kernel; on failure returns NULL with a
 * one-line reason in err. */
Machine *machine_create(const MachineConfig *cfg, char *err, size_t errlen);
void machine_destroy(Machine *m);

/* Reset the board and boot again (reload the kernel). */
int machine_reset(Machine *m, char *err, size_t errlen);

/* Run up to max_insns guest instructions (0: no limit) and say why it
 * stopped. */
MachineStop machine_run(Machine *m, uint64_t max_insns);
/* Execute exactly one instruction (the debugger's step). */
MachineStop machine_step(Machine *m);
/* Ask a running machine_run to return soon (async-signal-safe). */
void machine_request_stop(Machine *m);

/* Serial input from the frontend to COMn (0-3): how many bytes the UART
 * takes now, and hand them over. */
size_t machine_serial_room(Machine *m, int port);
void machine_serial_input(Machine *m, int port, const uint8_t *buf, size_t len);

#endif
