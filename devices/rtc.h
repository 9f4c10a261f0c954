/* Motorola MC146818A real-time clock with 128 bytes of CMOS RAM, as in the
 * PIIX3 (ports 0x70-0x71, IRQ8).
 *
 * Wiring (machine/pc.c):
 *   rtc_init(rtc, &m->sched, start_time);   start_time: seconds since
 *       1970-01-01 UTC (host time at start, or fixed for determinism)
 *   bus_map_ports(b, 0x70, 2, &rtc_ops, rtc);
 *   irq_connect(&rtc->irq, pic_set_irq, pic, 8);
 *   rtc_set_memory(rtc, ram_below_4g, ram_above_4g);
 *   rtc_nmi_masked(rtc): port 0x70 bit 7, for the machine's NMI logic.
 *
 * The clock starts at start_time and then advances with guest time only
 * (sched_now): the update cycle, the periodic interrupt and UIP are all
 * timed in guest nanoseconds, so a run with a fixed start time is
 * deterministic. */
#ifndef KESTREL_DEVICES_RTC_H
#define KESTREL_DEVICES_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/devlog.h"
#include "machine/bus.h"
#include "machine/irq.h"
#include "machine/sched.h"

/* CMOS RAM offsets that the machine fills (IBM AT / SeaBIOS layout). */
enum {
    RTC_REG_A = 0x0A,
    RTC_REG_B = 0x0B,
    RTC_REG_C = 0x0C,
    RTC_REG_D = 0x0D,
    CMOS_BASE_MEM_LO = 0x15,   /* base memory in KiB */
    CMOS_EXT_MEM_LO = 0x17,    /* memory above 1 MiB in KiB (max 0xFFFF) */
    CMOS_CHECKSUM_HI = 0x2E,   /* sum of 0x10-0x2D */
    CMOS_EXT_MEM2_LO = 0x30,   /* the same as 0x17-0x18 */
    CMOS_CENTURY = 0x32,       /* BCD century */
    CMOS_MEM_ABOVE_16M = 0x34, /* memory above 16 MiB in 64 KiB units (max 0xFFFF) */
    CMOS_MEM_ABOVE_4G = 0x5B,  /* memory above 4 GiB in 64 KiB units (3 bytes) */
};

typedef struct RtcState {
    uint8_t cmos[128]; /* RAM; 0x00-0x09 hold only the alarm bytes (1, 3, 5) */
    uint8_t index;     /* port 0x70 bits 6-0 */
    bool nmi_masked;   /* port 0x70 bit 7 */

    /* Time and calendar, binary, 24-hour (formatted on each read). */
    uint8_t sec, min, hour, wday, mday, mon, year;

    uint64_t div_base; /* guest ns when the divider chain last left reset */
    uint64_t pf_index; /* periodic periods already reflected in PF */
    bool div_running;

    SchedTimer update_timer;   /* end of the next update cycle */
    SchedTimer periodic_timer; /* next periodic flag, while PIE is set */
    Sched *sched;
    IrqLine irq; /* IRQ8: the IRQF bit of register C */
    DevLog log;
} RtcState;

extern const BusOps rtc_ops; /* 0x70 index (+ NMI mask), 0x71 data */

void rtc_init(RtcState *s, Sched *sched, int64_t start_time);
/* The chip's RESET pin (a PC reset): clears PIE, AIE, UIE, SQWE and the
 * flags in register C; the time, the RAM and the divider keep running. */
void rtc_reset(RtcState *s);

bool rtc_nmi_masked(const RtcState *s);

/* Set the clock (seconds since 1970-01-01 UTC) and the century byte. */
void rtc_set_time(RtcState *s, int64_t t);
/* The clock as seconds since 1970 (century from CMOS 0x32). */
int64_t rtc_get_time(RtcState *s);

/* CMOS RAM access for the machine; idx 0-127.  Writing 0x00-0x0D this way
 * goes through the register logic as a guest write would. */
void rtc_cmos_set(RtcState *s, unsigned idx, uint8_t v);
uint8_t rtc_cmos_get(RtcState *s, unsigned idx);
/* Fill the memory-size bytes (0x15-0x18, 0x30-0x31, 0x34-0x35, 0x5B-0x5D)
 * and refresh the checksum at 0x2E-0x2F. */
void rtc_set_memory(RtcState *s, uint64_t ram_below_4g, uint64_t ram_above_4g);
/* Recompute the standard checksum of bytes 0x10-0x2D into 0x2E-0x2F. */
void rtc_update_checksum(RtcState *s);

#endif
