/* MC146818A RTC/CMOS; see rtc.h.
 *
 * References: Motorola MC146818A data sheet: "Address Map" (bytes 0-13),
 * "Time, Calendar and Alarm Locations" (table 2: BCD/binary ranges, 12-hour
 * PM bit, "don't care" alarm codes 11xxxxxx), "Register A" (UIP, DV2-DV0,
 * RS3-RS0, table 5 periodic rates), "Register B" (SET, PIE, AIE, UIE, SQWE,
 * DM, 24/12, DSE), "Register C" (IRQF, PF, AF, UF, cleared on read),
 * "Register D" (VRT), "Update Cycle" (table 6: UIP rises 244 us before the
 * update, which lasts 1984 us with a 32.768 kHz time base; the first
 * update comes 500 ms after the divider leaves reset), "RESET".  CMOS
 * layout of 0x10-0x3F, 0x5B-0x5D: the IBM AT technical reference and the
 * layout SeaBIOS reads.
 *
 * Timing model: the update cycle k runs over [S_k, S_k + 1984 us) with
 * S_k = div_base + 500 ms + k s; UIP reads 1 from 244 us before S_k to the
 * end of the cycle, and the time registers advance at the end, when UF (and
 * AF on an alarm match) are set.  The periodic flag is set at every
 * multiple of the selected period after div_base. */
#include "devices/rtc.h"

#include <string.h>

#define TIME_BASE_HZ 32768u
#define UPDATE_NS 1984000u       /* tUC with a 32.768 kHz time base */
#define BEFORE_UPDATE_NS 244000u /* tBUC */
#define FIRST_UPDATE_NS 500000000u

enum {
    A_UIP = 0x80,
    B_SET = 0x80,
    B_PIE = 0x40,
    B_AIE = 0x20,
    B_UIE = 0x10,
    B_SQWE = 0x08,
    B_DM = 0x04,
    B_24H = 0x02,
    B_DSE = 0x01,
    C_IRQF = 0x80,
    C_PF = 0x40,
    C_AF = 0x20,
    C_UF = 0x10,
    D_VRT = 0x80,
};

/* ---- Calendar ------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (the
 * standard era-based conversion). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* The chip's calendar: "leap years are those divisible by four", right for
 * 1901-2099. */
static unsigned days_in_month(unsigned mon, unsigned year)
{
    static const uint8_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mon < 1 || mon > 12)
        return 31; /* the guest wrote a bad month: don't index out of range */
    if (mon == 2 && year % 4 == 0)
        return 29;
    return dim[mon - 1];
}

static uint8_t to_bcd(unsigned v)
{
    return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

static unsigned from_bcd(uint8_t v)
{
    return (v >> 4) * 10u + (v & 15u);
}

/* ---- Register formatting -------------------------------------------------- */

static bool binary_mode(const RtcState *s)
{
    return s->cmos[RTC_REG_B] & B_DM;
}

static uint8_t enc(const RtcState *s, unsigned v)
{
    return binary_mode(s) ? (uint8_t)v : to_bcd(v);
}

static unsigned dec(const RtcState *s, uint8_t v)
{
    return binary_mode(s) ? v : from_bcd(v);
}

/* Hours: 0-23, or 1-12 with bit 7 set for PM (table 2). */
static uint8_t enc_hour(const RtcState *s, unsigned h)
{
    if (s->cmos[RTC_REG_B] & B_24H)
        return enc(s, h);
    unsigned h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(enc(s, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned dec_hour(const RtcState *s, uint8_t v)
{
    if (s->cmos[RTC_REG_B] & B_24H)
        return dec(s, v);
    unsigned h = dec(s, v & 0x7F) % 12;
    return h + ((v & 0x80) ? 12 : 0);
}

static uint8_t time_reg(const RtcState *s, unsigned idx)
{
    switch (idx) {
    case 0:
        return enc(s, s->sec);
    case 2:
        return enc(s, s->min);
    case 4:
        return enc_hour(s, s->hour);
    case 6:
        return enc(s, s->wday);
    case 7:
        return enc(s, s->mday);
    case 8:
        return enc(s, s->mon);
    case 9:
        return enc(s, s->year);
    }
    return s->cmos[idx]; /* alarm bytes */
}

static void set_time_reg(RtcState *s, unsigned idx, uint8_t v)
{
    /* Out-of-range values are kept (the chip does too); the increment
     * logic below never indexes with them. */
    switch (idx) {
    case 0:
        s->sec = (uint8_t)dec(s, v);
        break;
    case 2:
        s->min = (uint8_t)dec(s, v);
        break;
    case 4:
        s->hour = (uint8_t)dec_hour(s, v);
        break;
    case 6:
        s->wday = (uint8_t)dec(s, v);
        break;
    case 7:
        s->mday = (uint8_t)dec(s, v);
        break;
    case 8:
        s->mon = (uint8_t)dec(s, v);
        break;
    case 9:
        s->year = (uint8_t)dec(s, v);
        break;
    default:
        s->cmos[idx] = v;
        break; /* alarms */
    }
}

/* One second of the update cycle. */
static void tick_second(RtcState *s)
{
    if (++s->sec < 60)
        return;
    s->sec = 0;
    if (++s->min < 60)
        return;
    s->min = 0;
    if (++s->hour < 24)
        return;
    s->hour = 0;
    s->wday = s->wday >= 1 && s->wday < 7 ? s->wday + 1 : 1;
    if (++s->mday <= days_in_month(s->mon, s->year))
        return;
    s->mday = 1;
    if (++s->mon <= 12)
        return;
    s->mon = 1;
    s->year = (uint8_t)((s->year + 1) % 100);
}

/* "An alarm occurs when the three time bytes match the alarm bytes; a
 * don't-care code (binary 11xxxxxx) matches any value." */
static bool alarm_match(const RtcState *s)
{
    static const uint8_t pairs[3][2] = {{1, 0}, {3, 2}, {5, 4}};
    for (int i = 0; i < 3; i++) {
        uint8_t a = s->cmos[pairs[i][0]];
        if ((a & 0xC0) != 0xC0 && a != time_reg(s, pairs[i][1]))
            return false;
    }
    return true;
}

/* ---- Interrupts ------------------------------------------------------------- */

static uint8_t periodic_rs(const RtcState *s)
{
    return s->cmos[RTC_REG_A] & 0x0F;
}

/* Period in 32.768 kHz cycles (table 5); 0 if RS = 0.  RS 1 and 2 give
 * 256 and 128 Hz with this time base, the same as RS 8 and 9. */
static uint32_t periodic_cycles(const RtcState *s)
{
    unsigned rs = periodic_rs(s);
    if (rs == 0)
        return 0;
    if (rs <= 2)
        rs += 7;
    return 1u << (rs - 1);
}

/* Index of the last periodic boundary at or before `now`. */
static uint64_t periodic_index(const RtcState *s, uint64_t now, uint32_t cycles)
{
    uint64_t ticks = sched_ns_to_ticks(now - s->div_base, TIME_BASE_HZ);
    return ticks / cycles;
}

static uint64_t periodic_time(const RtcState *s, uint64_t index, uint32_t cycles)
{
    unsigned __int128 ticks = (unsigned __int128)index * cycles;
    return s->div_base + (uint64_t)((ticks * NS_PER_SEC + TIME_BASE_HZ - 1) / TIME_BASE_HZ);
}

/* Fold periodic boundaries that passed into PF. */
static void sync_pf(RtcState *s, uint64_t now)
{
    uint32_t cycles = periodic_cycles(s);
    if (!s->div_running || !cycles)
        return;
    uint64_t idx = periodic_index(s, now, cycles);
    if (idx > s->pf_index) {
        s->cmos[RTC_REG_C] |= C_PF;
        s->pf_index = idx;
    }
}

static void update_irq(RtcState *s)
{
    uint8_t b = s->cmos[RTC_REG_B], c = s->cmos[RTC_REG_C] & 0x70;
    bool irqf = (c & C_PF && b & B_PIE) || (c & C_AF && b & B_AIE) || (c & C_UF && b & B_UIE);
    s->cmos[RTC_REG_C] = (uint8_t)(c | (irqf ? C_IRQF : 0));
    if (irqf != (s->irq.level != 0))
        irq_set(&s->irq, irqf);
}

static void arm_periodic(RtcState *s)
{
    uint32_t cycles = periodic_cycles(s);
    if (!s->div_running || !cycles || !(s->cmos[RTC_REG_B] & B_PIE)) {
        sched_timer_del(s->sched, &s->periodic_timer);
        return;
    }
    uint64_t idx = periodic_index(s, sched_now(s->sched), cycles);
    sched_timer_mod(s->sched, &s->periodic_timer, periodic_time(s, idx + 1, cycles));
}

static void periodic_cb(void *opaque)
{
    RtcState *s = opaque;
    sync_pf(s, sched_now(s->sched));
    update_irq(s);
    arm_periodic(s);
}

/* End of update cycle k: S_k + tUC. */
static uint64_t update_end(const RtcState *s, uint64_t k)
{
    return s->div_base + FIRST_UPDATE_NS + k * NS_PER_SEC + UPDATE_NS;
}

static bool updating(const RtcState *s)
{
    return s->div_running && !(s->cmos[RTC_REG_B] & B_SET);
}

static void arm_update(RtcState *s)
{
    if (!updating(s)) {
        sched_timer_del(s->sched, &s->update_timer);
        return;
    }
    uint64_t now = sched_now(s->sched);
    uint64_t first = update_end(s, 0);
    uint64_t k = now < first ? 0 : (now - first) / NS_PER_SEC + 1;
    sched_timer_mod(s->sched, &s->update_timer, update_end(s, k));
}

static void update_cb(void *opaque)
{
    RtcState *s = opaque;
    if (updating(s)) {
        tick_second(s);
        s->cmos[RTC_REG_C] |= C_UF;
        if (alarm_match(s))
            s->cmos[RTC_REG_C] |= C_AF;
        sync_pf(s, sched_now(s->sched));
        update_irq(s);
    }
    arm_update(s);
}

/* UIP: from 244 us before an update cycle to its end (Update Cycle). */
static bool uip(const RtcState *s)
{
    if (!updating(s))
        return false;
    uint64_t now = sched_now(s->sched);
    uint64_t start = s->div_base + FIRST_UPDATE_NS - BEFORE_UPDATE_NS;
    if (now < start)
        return false;
    uint64_t phase = (now - start) % NS_PER_SEC;
    return phase < BEFORE_UPDATE_NS + UPDATE_NS;
}

/* ---- Registers -------------------------------------------------------------- */

static void write_reg_a(RtcState *s, uint8_t v)
{
    uint64_t now = sched_now(s->sched);
    sync_pf(s, now);
    unsigned dv = (v >> 4) & 7;
    bool run = dv == 2;
    if (dv != 2 && dv < 6)
        devlog(&s->log, DEVLOG_UNIMP, "rtc: divider setting %u (only 32.768 kHz runs)", dv);
    if (run && !s->div_running)
        s->div_base = now; /* out of reset: first update 500 ms from now */
    s->div_running = run;
    s->cmos[RTC_REG_A] = v & 0x7F; /* UIP is read-only */
    /* Count periodic boundaries from here with the new rate. */
    uint32_t cycles = periodic_cycles(s);
    if (run && cycles)
        s->pf_index = periodic_index(s, now, cycles);
    update_irq(s);
    arm_periodic(s);
    arm_update(s);
}

static void write_reg_b(RtcState *s, uint8_t v)
{
    sync_pf(s, sched_now(s->sched));
    /* "The RESET pin going low or the SET bit going high clears the UIE
     * bit." */
    if ((v & B_SET) && !(s->cmos[RTC_REG_B] & B_SET))
        v &= (uint8_t)~B_UIE;
    if (v & B_DSE)
        devlog(&s->log, DEVLOG_UNIMP, "rtc: daylight saving enable (DSE) ignored");
    if (v & B_SQWE)
        devlog(&s->log, DEVLOG_UNIMP, "rtc: square-wave output has no pin on a PC");
    s->cmos[RTC_REG_B] = v;
    update_irq(s);
    arm_periodic(s);
    arm_update(s);
}

static uint8_t read_reg(RtcState *s, unsigned idx)
{
    switch (idx) {
    case RTC_REG_A:
        return (uint8_t)(s->cmos[RTC_REG_A] | (uip(s) ? A_UIP : 0));
    case RTC_REG_C: {
        /* Reading C returns the flags and clears them, releasing IRQ. */
        sync_pf(s, sched_now(s->sched));
        update_irq(s);
        uint8_t v = s->cmos[RTC_REG_C];
        s->cmos[RTC_REG_C] = 0;
        update_irq(s);
        return v;
    }
    case RTC_REG_D:
        return D_VRT;
    }
    if (idx < 10)
        return time_reg(s, idx);
    return s->cmos[idx];
}

static void write_reg(RtcState *s, unsigned idx, uint8_t v)
{
    switch (idx) {
    case RTC_REG_A:
        write_reg_a(s, v);
        return;
    case RTC_REG_B:
        write_reg_b(s, v);
        return;
    case RTC_REG_C:
    case RTC_REG_D:
        devlog(&s->log, DEVLOG_GUEST_ERROR, "rtc: write %02x to read-only register %c", v,
               idx == RTC_REG_C ? 'C' : 'D');
        return;
    }
    if (idx < 10)
        set_time_reg(s, idx, v);
    else
        s->cmos[idx] = v;
}

/* ---- Bus glue ------------------------------------------------------------- */

static uint32_t rtc_read(void *opaque, uint32_t off, unsigned size)
{
    (void)size;
    RtcState *s = opaque;
    if (off == 0)
        return 0xFF; /* the index register is write-only on the PIIX3 */
    return read_reg(s, s->index);
}

static void rtc_write(void *opaque, uint32_t off, uint32_t v, unsigned size)
{
    (void)size;
    RtcState *s = opaque;
    if (off == 0) {
        s->index = v & 0x7F;
        s->nmi_masked = v & 0x80;
    } else {
        write_reg(s, s->index, (uint8_t)v);
    }
}

const BusOps rtc_ops = {rtc_read, rtc_write, 1, 1};

/* ---- Machine interface ------------------------------------------------------ */

bool rtc_nmi_masked(const RtcState *s)
{
    return s->nmi_masked;
}

void rtc_set_time(RtcState *s, int64_t t)
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    s->sec = (uint8_t)(secs % 60);
    s->min = (uint8_t)(secs / 60 % 60);
    s->hour = (uint8_t)(secs / 3600);
    s->wday = (uint8_t)(((days % 7 + 7 + 4) % 7) + 1); /* 1970-01-01 was a Thursday; 1 = Sunday */
    s->mday = (uint8_t)d;
    s->mon = (uint8_t)m;
    int64_t yy = y < 0 ? 0 : y;
    s->year = (uint8_t)(yy % 100);
    s->cmos[CMOS_CENTURY] = to_bcd((unsigned)(yy / 100 % 100));
}

int64_t rtc_get_time(RtcState *s)
{
    unsigned century = from_bcd(s->cmos[CMOS_CENTURY]);
    unsigned mon = s->mon >= 1 && s->mon <= 12 ? s->mon : 1;
    unsigned mday = s->mday >= 1 && s->mday <= 31 ? s->mday : 1;
    int64_t days = days_from_civil((int64_t)century * 100 + s->year, mon, mday);
    return days * 86400 + (int64_t)s->hour * 3600 + (int64_t)s->min * 60 + s->sec;
}

void rtc_cmos_set(RtcState *s, unsigned idx, uint8_t v)
{
    if (idx < 128)
        write_reg(s, idx, v);
}

uint8_t rtc_cmos_get(RtcState *s, unsigned idx)
{
    if (idx >= 128)
        return 0xFF;
    if (idx == RTC_REG_C)
        return s->cmos[RTC_REG_C]; /* without the read side effect */
    return read_reg(s, idx);
}

void rtc_update_checksum(RtcState *s)
{
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2D; i++)
        sum += s->cmos[i];
    s->cmos[CMOS_CHECKSUM_HI] = (uint8_t)(sum >> 8);
    s->cmos[CMOS_CHECKSUM_HI + 1] = (uint8_t)sum;
}

static void put16(RtcState *s, unsigned idx, uint64_t v)
{
    s->cmos[idx] = (uint8_t)v;
    s->cmos[idx + 1] = (uint8_t)(v >> 8);
}

void rtc_set_memory(RtcState *s, uint64_t below_4g, uint64_t above_4g)
{
    const uint64_t mib = 1024 * 1024;
    put16(s, CMOS_BASE_MEM_LO, 640);
    uint64_t ext = below_4g > mib ? (below_4g - mib) / 1024 : 0;
    if (ext > 0xFFFF)
        ext = 0xFFFF;
    put16(s, CMOS_EXT_MEM_LO, ext);
    put16(s, CMOS_EXT_MEM2_LO, ext);
    uint64_t hi = below_4g > 16 * mib ? (below_4g - 16 * mib) / 65536 : 0;
    if (hi > 0xFFFF)
        hi = 0xFFFF;
    put16(s, CMOS_MEM_ABOVE_16M, hi);
    uint64_t top = above_4g / 65536;
    if (top > 0xFFFFFF)
        top = 0xFFFFFF;
    s->cmos[CMOS_MEM_ABOVE_4G] = (uint8_t)top;
    s->cmos[CMOS_MEM_ABOVE_4G + 1] = (uint8_t)(top >> 8);
    s->cmos[CMOS_MEM_ABOVE_4G + 2] = (uint8_t)(top >> 16);
    rtc_update_checksum(s);
}

/* ---- Life cycle ------------------------------------------------------------ */

void rtc_reset(RtcState *s)
{
    s->cmos[RTC_REG_B] &= (uint8_t) ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    s->cmos[RTC_REG_C] = 0;
    update_irq(s);
    arm_periodic(s);
    arm_update(s);
}

void rtc_init(RtcState *s, Sched *sched, int64_t start_time)
{
    memset(s, 0, sizeof *s);
    s->sched = sched;
    sched_timer_init(&s->update_timer, update_cb, s);
    sched_timer_init(&s->periodic_timer, periodic_cb, s);
    rtc_set_time(s, start_time);
    /* What the BIOS leaves: 32.768 kHz, 1024 Hz rate; 24-hour BCD. */
    s->cmos[RTC_REG_A] = 0x26;
    s->cmos[RTC_REG_B] = B_24H;
    s->div_running = true;
    s->div_base = sched_now(sched);
    s->pf_index = 0;
    rtc_reset(s);
}
