/* Logging for guest-caused device events (DESIGN.md, "Style"): two
 * categories, `guest_error` (the guest did something invalid) and `unimp`
 * (Kestrel lacks a feature), both off unless the machine sets a mask.
 *
 * A device holds a DevLog by value; the machine fills it in (usually with
 * the same sink and mask as the CPU's log).  A zeroed DevLog logs nothing,
 * so tests need not care. */
#ifndef KESTREL_DEVICES_DEVLOG_H
#define KESTREL_DEVICES_DEVLOG_H

/* The same values as LOG_GUEST_ERROR / LOG_UNIMP in cpu/cpu.h, so that one
 * mask serves both (devices may not include cpu/). */
enum { DEVLOG_GUEST_ERROR = 1, DEVLOG_UNIMP = 2 };

typedef struct DevLog {
    void (*fn)(void *opaque, int category, const char *msg);
    void *opaque;
    unsigned mask; /* DEVLOG_* bits that are reported */
} DevLog;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void devlog(const DevLog *l, int category, const char *fmt, ...);

#endif
