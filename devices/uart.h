/* National/TI 16550A UART with 16-byte FIFOs.
 *
 * The PC has up to four, which the machine instantiates:
 *   COM1 0x3F8 IRQ4, COM2 0x2F8 IRQ3, COM3 0x3E8 IRQ4, COM4 0x2E8 IRQ3.
 * Wiring (machine/pc.c), for COM1:
 *   uart_init(&m->com[0], &m->sched);
 *   m->com[0].be = (CharBackend){stdio_write, frontend};   (or none)
 *   bus_map_ports(b, 0x3F8, 8, &uart_ops, &m->com[0]);
 *   irq_connect(&m->com[0].irq, pic_set_irq, pic, 4);
 * Two UARTs on the same IRQ (COM1 and COM3) share an ISA line: the machine
 * must OR their levels (or wire only one of each pair).
 *
 * Transmit timing: immediate.  A byte written to THR goes to the backend
 * at once and THR/TSR are empty again (THRE and TEMT stay 1), as QEMU
 * does; Linux and SeaBIOS work with that, and a guest never waits on a
 * slow console.  Receive is paced by the frontend: it asks
 * uart_can_receive() how many bytes fit and hands them to uart_receive().
 * The character timeout (4 character times with no FIFO activity) runs in
 * guest time from the programmed baud rate and frame format.
 *
 * On a PC the UART's interrupt output reaches the ISA bus only through a
 * buffer enabled by the OUT2 modem control output, so `irq` is the
 * pending interrupt AND MCR.OUT2 (and OUT2 is forced inactive in loopback
 * mode, so loopback raises no IRQ on a PC). */
#ifndef KESTREL_DEVICES_UART_H
#define KESTREL_DEVICES_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/devlog.h"
#include "machine/bus.h"
#include "machine/irq.h"
#include "machine/sched.h"

/* Where transmitted bytes go (stdio, a file, a socket); write NULL: nowhere. */
typedef struct CharBackend {
    void (*write)(void *opaque, const uint8_t *buf, size_t len);
    void *opaque;
} CharBackend;

#define UART_FIFO 16
#define UART_CLOCK_HZ 1843200u /* the PC's 1.8432 MHz crystal: 115200 baud / divisor */

/* Modem status inputs, as MSR bits. */
enum { UART_CTS = 0x10, UART_DSR = 0x20, UART_RI = 0x40, UART_DCD = 0x80 };

typedef struct UartState {
    uint8_t ier, fcr, lcr, mcr, lsr, scr;
    uint8_t msr_delta; /* MSR bits 3-0 */
    uint8_t inputs;    /* CTS/DSR/RI/DCD from the backend (MSR bits 7-4) */
    uint16_t divisor;
    uint8_t rx[UART_FIFO]; /* receiver FIFO (one entry used when FIFOs are off) */
    uint8_t rx_head, rx_count;
    uint8_t rbr_last;     /* value read with the receiver empty */
    bool thr_int;         /* THRE interrupt pending */
    bool timeout_int;     /* character timeout interrupt pending */
    uint64_t rx_activity; /* guest ns of the last receive or FIFO read */
    SchedTimer timeout_timer;
    Sched *sched;
    IrqLine irq;
    CharBackend be;
    DevLog log;
} UartState;

extern const BusOps uart_ops; /* 8 registers at base + 0 .. base + 7 */

void uart_init(UartState *s, Sched *sched);
/* Master reset (16550A "Reset" table): IER, FCR, LCR, MCR = 0, LSR = 60h,
 * IIR = 01h, MSR deltas clear; the divisor latch is left at 12 (9600
 * baud); the backend and the modem inputs are kept. */
void uart_reset(UartState *s);

/* Input from the backend: how many bytes the receiver takes now, and
 * delivering them (bytes that do not fit set the overrun error). */
size_t uart_can_receive(const UartState *s);
void uart_receive(UartState *s, const uint8_t *buf, size_t len);
/* A received break condition (sets BI with a zero character). */
void uart_receive_break(UartState *s);
/* Modem status inputs (UART_CTS | UART_DSR | UART_RI | UART_DCD). */
void uart_set_modem_inputs(UartState *s, uint8_t bits);

#endif
