/* Device logging; see devlog.h. */
#include "devices/devlog.h"

#include <stdarg.h>
#include <stdio.h>

void devlog(const DevLog *l, int category, const char *fmt, ...)
{
    if (!l || !l->fn || !(l->mask & (unsigned)category))
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    l->fn(l->opaque, category, msg);
}
