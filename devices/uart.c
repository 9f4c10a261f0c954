/* 16550A UART; see uart.h.
 *
 * References: TI TL16C550C / NS PC16550D data sheets: "Register
 * Description" (table of registers and DLAB), "Interrupt Identification
 * Register" (table: priorities line status > received data / character
 * timeout > THR empty > modem status, and what resets each), "FIFO
 * Interrupt Mode Operation" (trigger levels, character timeout), "FIFO
 * Control Register", "Line Status Register", "Modem Control Register"
 * (loopback: outputs looped to the modem status inputs, serial output
 * marking, OUT2 forced inactive), "Modem Status Register" (deltas),
 * "Reset" table. */
#include "devices/uart.h"

#include <string.h>

enum {
    IER_RDA = 0x01,
    IER_THRE = 0x02,
    IER_RLS = 0x04,
    IER_MS = 0x08,
    IIR_NONE = 0x01,
    IIR_MS = 0x00,
    IIR_THRE = 0x02,
    IIR_RDA = 0x04,
    IIR_RLS = 0x06,
    IIR_TIMEOUT = 0x0C,
    IIR_FIFO = 0xC0,
    FCR_ENABLE = 0x01,
    FCR_CLR_RX = 0x02,
    FCR_CLR_TX = 0x04,
    FCR_DMA = 0x08,
    LCR_DLAB = 0x80,
    LCR_BREAK = 0x40,
    MCR_DTR = 0x01,
    MCR_RTS = 0x02,
    MCR_OUT1 = 0x04,
    MCR_OUT2 = 0x08,
    MCR_LOOP = 0x10,
    LSR_DR = 0x01,
    LSR_OE = 0x02,
    LSR_PE = 0x04,
    LSR_FE = 0x08,
    LSR_BI = 0x10,
    LSR_THRE = 0x20,
    LSR_TEMT = 0x40,
    LSR_FIFO_ERR = 0x80,
    LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI,
};

static bool fifo_on(const UartState *s)
{
    return s->fcr & FCR_ENABLE;
}

static unsigned trigger_level(const UartState *s)
{
    static const uint8_t levels[4] = {1, 4, 8, 14};
    return levels[s->fcr >> 6];
}

/* Modem status inputs as the chip sees them: in loopback, DTR->DSR,
 * RTS->CTS, OUT1->RI, OUT2->DCD. */
static uint8_t msr_inputs(const UartState *s)
{
    if (!(s->mcr & MCR_LOOP))
        return s->inputs & 0xF0;
    uint8_t m = s->mcr, v = 0;
    if (m & MCR_RTS)
        v |= UART_CTS;
    if (m & MCR_DTR)
        v |= UART_DSR;
    if (m & MCR_OUT1)
        v |= UART_RI;
    if (m & MCR_OUT2)
        v |= UART_DCD;
    return v;
}

/* Interrupt identification, highest priority first. */
static uint8_t iir_id(const UartState *s)
{
    if (s->ier & IER_RLS && s->lsr & LSR_ERRORS)
        return IIR_RLS;
    if (s->ier & IER_RDA) {
        if (fifo_on(s) ? s->rx_count >= trigger_level(s) : s->rx_count > 0)
            return IIR_RDA;
        if (s->timeout_int)
            return IIR_TIMEOUT;
    }
    if (s->ier & IER_THRE && s->thr_int)
        return IIR_THRE;
    if (s->ier & IER_MS && s->msr_delta)
        return IIR_MS;
    return IIR_NONE;
}

static void update_irq(UartState *s)
{
    /* OUT2 gates the ISA IRQ driver on a PC; loopback forces OUT2 off. */
    bool gate = (s->mcr & MCR_OUT2) && !(s->mcr & MCR_LOOP);
    int level = gate && iir_id(s) != IIR_NONE;
    if (level != s->irq.level)
        irq_set(&s->irq, level);
}

/* ---- Character timeout ---------------------------------------------------- */

/* One character time in ns: start bit, 5-8 data bits, parity, 1/1.5/2 stop
 * bits, at UART_CLOCK_HZ / 16 / divisor baud. */
static uint64_t char_ns(const UartState *s)
{
    unsigned data = 5 + (s->lcr & 3);
    unsigned half_bits = 2 * (1 + data + ((s->lcr & 0x08) ? 1 : 0));
    half_bits += (s->lcr & 0x04) ? (data == 5 ? 3 : 4) : 2;
    uint64_t div = s->divisor ? s->divisor : 65536;
    /* half_bits/2 bit times of 16 * div / UART_CLOCK_HZ seconds each. */
    return (uint64_t)(((unsigned __int128)half_bits * 8 * div * NS_PER_SEC) / UART_CLOCK_HZ);
}

static void arm_timeout(UartState *s)
{
    if (!fifo_on(s) || s->rx_count == 0 || s->timeout_int) {
        sched_timer_del(s->sched, &s->timeout_timer);
        return;
    }
    sched_timer_mod(s->sched, &s->timeout_timer, s->rx_activity + 4 * char_ns(s));
}

static void timeout_cb(void *opaque)
{
    UartState *s = opaque;
    if (fifo_on(s) && s->rx_count)
        s->timeout_int = true;
    update_irq(s);
}

/* ---- Receiver --------------------------------------------------------------- */

static void rx_clear(UartState *s)
{
    s->rx_head = s->rx_count = 0;
    s->timeout_int = false;
    s->lsr &= (uint8_t) ~(LSR_DR | LSR_FIFO_ERR);
}

static void rx_push(UartState *s, uint8_t v, uint8_t err)
{
    unsigned cap = fifo_on(s) ? UART_FIFO : 1;
    if (s->rx_count >= cap) {
        if (fifo_on(s)) {
            /* FIFO full: the character in the shift register is lost. */
            s->lsr |= LSR_OE;
        } else {
            /* No FIFO: the new character overwrites RBR. */
            s->rx[s->rx_head] = v;
            s->lsr |= LSR_OE | err;
        }
    } else {
        s->rx[(s->rx_head + s->rx_count) % UART_FIFO] = v;
        s->rx_count++;
        s->lsr |= err;
        if (err && fifo_on(s))
            s->lsr |= LSR_FIFO_ERR;
    }
    s->lsr |= LSR_DR;
    s->rx_activity = sched_now(s->sched);
    arm_timeout(s);
    update_irq(s);
}

static uint8_t rx_pop(UartState *s)
{
    if (s->rx_count == 0)
        return s->rbr_last;
    uint8_t v = s->rx[s->rx_head];
    s->rx_head = (uint8_t)((s->rx_head + 1) % UART_FIFO);
    s->rx_count--;
    s->rbr_last = v;
    if (s->rx_count == 0)
        s->lsr &= (uint8_t)~LSR_DR;
    /* Reading a character clears a timeout interrupt and restarts the
     * timer. */
    s->timeout_int = false;
    s->rx_activity = sched_now(s->sched);
    arm_timeout(s);
    update_irq(s);
    return v;
}

size_t uart_can_receive(const UartState *s)
{
    if (s->mcr & MCR_LOOP)
        return 0; /* the serial input is disconnected in loopback */
    unsigned cap = fifo_on(s) ? UART_FIFO : 1;
    return s->rx_count >= cap ? 0 : cap - s->rx_count;
}

void uart_receive(UartState *s, const uint8_t *buf, size_t len)
{
    if (s->mcr & MCR_LOOP)
        return;
    for (size_t i = 0; i < len; i++)
        rx_push(s, buf[i], 0);
}

void uart_receive_break(UartState *s)
{
    if (s->mcr & MCR_LOOP)
        return;
    rx_push(s, 0, LSR_BI);
}

/* ---- Modem status ------------------------------------------------------------ */

/* Record deltas between two input states: DCTS, DDSR, DDCD on any change,
 * TERI when RI goes from on to off. */
static void msr_change(UartState *s, uint8_t old, uint8_t now)
{
    uint8_t ch = old ^ now;
    if (ch & UART_CTS)
        s->msr_delta |= 0x01;
    if (ch & UART_DSR)
        s->msr_delta |= 0x02;
    if ((old & UART_RI) && !(now & UART_RI))
        s->msr_delta |= 0x04;
    if (ch & UART_DCD)
        s->msr_delta |= 0x08;
}

void uart_set_modem_inputs(UartState *s, uint8_t bits)
{
    uint8_t old = msr_inputs(s);
    s->inputs = bits & 0xF0;
    msr_change(s, old, msr_inputs(s));
    update_irq(s);
}

/* ---- Transmitter ------------------------------------------------------------- */

static void transmit(UartState *s, uint8_t v)
{
    /* Writing THR clears the THRE interrupt... */
    s->thr_int = false;
    update_irq(s);
    if (s->mcr & MCR_LOOP)
        rx_push(s, v, 0); /* "transmitted data is immediately received" */
    else if (s->be.write)
        s->be.write(s->be.opaque, &v, 1);
    /* ...and with immediate transmission THR is empty again at once, so
     * THRE rises anew: a fresh edge for the PIC. */
    s->thr_int = true;
    update_irq(s);
}

/* ---- Registers ---------------------------------------------------------------- */

static void write_fcr(UartState *s, uint8_t v)
{
    bool was = fifo_on(s);
    if (!(v & FCR_ENABLE)) {
        /* "Resetting FCR0 clears all bytes in both FIFOs"; the other bits
         * are not programmed without FCR0. */
        if (was)
            rx_clear(s);
        s->fcr = 0;
    } else {
        if (!was || (v & FCR_CLR_RX))
            rx_clear(s);
        /* FCR_CLR_TX: the transmitter never holds data. */
        s->fcr = v & (FCR_ENABLE | FCR_DMA | 0xC0);
        if (!was)
            s->thr_int = true; /* "the first THRE interrupt after enabling the
                                * FIFOs is immediate" */
    }
    arm_timeout(s);
    update_irq(s);
}

static void write_mcr(UartState *s, uint8_t v)
{
    uint8_t old_in = msr_inputs(s);
    s->mcr = v & 0x1F;
    msr_change(s, old_in, msr_inputs(s));
    update_irq(s);
}

static uint32_t uart_read(void *opaque, uint32_t off, unsigned size)
{
    (void)size;
    UartState *s = opaque;
    bool dlab = s->lcr & LCR_DLAB;
    switch (off) {
    case 0:
        return dlab ? (s->divisor & 0xFF) : rx_pop(s);
    case 1:
        return dlab ? (s->divisor >> 8) : s->ier;
    case 2: {
        uint8_t id = iir_id(s);
        /* Reading IIR when it reports THRE clears that interrupt. */
        if (id == IIR_THRE) {
            s->thr_int = false;
            update_irq(s);
        }
        return id | (fifo_on(s) ? IIR_FIFO : 0);
    }
    case 3:
        return s->lcr;
    case 4:
        return s->mcr;
    case 5: {
        /* THR and the shift register are always empty (immediate transmit). */
        uint8_t v = s->lsr | LSR_THRE | LSR_TEMT;
        /* Reading LSR clears OE, PE, FE and BI (and the FIFO error bit
         * once no erroneous character is left, here at once). */
        s->lsr &= (uint8_t) ~(LSR_ERRORS | LSR_FIFO_ERR);
        update_irq(s);
        return v;
    }
    case 6: {
        uint8_t v = (uint8_t)(msr_inputs(s) | s->msr_delta);
        s->msr_delta = 0;
        update_irq(s);
        return v;
    }
    default:
        return s->scr;
    }
}

static void uart_write(void *opaque, uint32_t off, uint32_t val, unsigned size)
{
    (void)size;
    UartState *s = opaque;
    uint8_t v = (uint8_t)val;
    bool dlab = s->lcr & LCR_DLAB;
    switch (off) {
    case 0:
        if (dlab) {
            s->divisor = (uint16_t)((s->divisor & 0xFF00) | v);
            arm_timeout(s);
        } else {
            transmit(s, v);
        }
        break;
    case 1:
        if (dlab) {
            s->divisor = (uint16_t)((s->divisor & 0x00FF) | (v << 8));
            arm_timeout(s);
        } else {
            uint8_t old = s->ier;
            s->ier = v & 0x0F;
            /* Enabling the THRE interrupt with THR empty raises it. */
            if (!(old & IER_THRE) && (s->ier & IER_THRE))
                s->thr_int = true;
            update_irq(s);
        }
        break;
    case 2:
        write_fcr(s, v);
        break;
    case 3:
        if ((v ^ s->lcr) & LCR_BREAK && v & LCR_BREAK)
            devlog(&s->log, DEVLOG_UNIMP, "uart: break transmission not sent to the backend");
        s->lcr = v;
        arm_timeout(s);
        break;
    case 4:
        write_mcr(s, v);
        break;
    case 5:
    case 6:
        devlog(&s->log, DEVLOG_GUEST_ERROR, "uart: write %02x to read-only %s", v,
               off == 5 ? "LSR" : "MSR");
        break;
    default:
        s->scr = v;
        break;
    }
}

const BusOps uart_ops = {uart_read, uart_write, 1, 1};

/* ---- Life cycle ---------------------------------------------------------------- */

void uart_reset(UartState *s)
{
    s->ier = s->fcr = s->lcr = s->mcr = 0;
    s->lsr = 0;
    s->msr_delta = 0;
    s->scr = 0;
    s->divisor = 12;
    s->rx_head = s->rx_count = 0;
    s->rbr_last = 0;
    s->thr_int = false;
    s->timeout_int = false;
    s->rx_activity = sched_now(s->sched);
    sched_timer_del(s->sched, &s->timeout_timer);
    update_irq(s);
}

void uart_init(UartState *s, Sched *sched)
{
    memset(s, 0, sizeof *s);
    s->sched = sched;
    s->inputs = UART_CTS | UART_DSR | UART_DCD; /* a terminal is connected */
    sched_timer_init(&s->timeout_timer, timeout_cb, s);
    uart_reset(s);
}
