/* GDB remote serial protocol framing: see gdb_packet.h. */
#include "frontends/gdb_packet.h"

enum {
    FR_IDLE,  /* between packets */
    FR_BODY,  /* after '$', collecting the payload */
    FR_CSUM1, /* after '#' */
    FR_CSUM2, /* after the first checksum digit */
};

void gdb_framer_init(GdbFramer *f)
{
    f->state = FR_IDLE;
    f->sum = 0;
    f->csum_hi = 0;
    f->oversize = false;
    f->len = 0;
    f->pkt[0] = 0;
}

int gdb_hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

GdbEvent gdb_framer_feed(GdbFramer *f, uint8_t b)
{
    switch (f->state) {
    case FR_IDLE:
        switch (b) {
        case '$':
            f->state = FR_BODY;
            f->sum = 0;
            f->len = 0;
            f->oversize = false;
            return GDB_EV_NONE;
        case 0x03:
            return GDB_EV_INTERRUPT;
        case '+':
            return GDB_EV_ACK;
        case '-':
            return GDB_EV_NAK;
        default:
            return GDB_EV_NONE; /* line noise between packets */
        }
    case FR_BODY:
        if (b == '$') {
            /* A '$' never appears inside a payload (it is escaped): the
             * peer gave up on the previous packet and started again. */
            f->sum = 0;
            f->len = 0;
            f->oversize = false;
            return GDB_EV_NONE;
        }
        if (b == '#') {
            f->state = FR_CSUM1;
            return GDB_EV_NONE;
        }
        f->sum = (uint8_t)(f->sum + b);
        if (f->len < GDB_PACKET_SIZE)
            f->pkt[f->len++] = b;
        else
            f->oversize = true; /* keep summing to tell a bad frame from a big one */
        return GDB_EV_NONE;
    case FR_CSUM1: {
        int d = gdb_hex_digit(b);
        f->csum_hi = d < 0 ? 0xFF : (uint8_t)d;
        f->state = FR_CSUM2;
        return GDB_EV_NONE;
    }
    default: { /* FR_CSUM2 */
        int d = gdb_hex_digit(b);
        f->state = FR_IDLE;
        bool good = d >= 0 && f->csum_hi != 0xFF && ((f->csum_hi << 4) | d) == f->sum;
        f->pkt[f->len] = 0;
        if (!good) {
            f->len = 0;
            return GDB_EV_BAD;
        }
        if (f->oversize) {
            f->len = 0;
            return GDB_EV_OVERSIZE;
        }
        return GDB_EV_PACKET;
    }
    }
}

size_t gdb_frame(const uint8_t *payload, size_t len, uint8_t *out, size_t cap)
{
    if (cap < 4 || len > cap - 4)
        return 0;
    static const char hex[] = "0123456789abcdef";
    uint8_t sum = 0;
    out[0] = '$';
    for (size_t k = 0; k < len; k++) {
        out[1 + k] = payload[k];
        sum = (uint8_t)(sum + payload[k]);
    }
    out[1 + len] = '#';
    out[2 + len] = (uint8_t)hex[sum >> 4];
    out[3 + len] = (uint8_t)hex[sum & 15];
    return len + 4;
}

bool gdb_parse_hex(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    const uint8_t *s = *p;
    uint64_t v = 0;
    int digits = 0;
    bool any = false;
    while (s < end) {
        int d = gdb_hex_digit(*s);
        if (d < 0)
            break;
        any = true;
        if (v || d)
            digits++;
        if (digits > 16)
            return false;
        v = (v << 4) | (uint64_t)d;
        s++;
    }
    if (!any)
        return false;
    *p = s;
    *out = v;
    return true;
}

bool gdb_hex_decode(const uint8_t *hex, size_t n, uint8_t *out)
{
    for (size_t k = 0; k < n; k++) {
        int hi = gdb_hex_digit(hex[2 * k]);
        int lo = gdb_hex_digit(hex[2 * k + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[k] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

void gdb_hex_encode(const uint8_t *in, size_t n, uint8_t *out)
{
    static const char hex[] = "0123456789abcdef";
    /* Backwards so that encoding in place (out == in) works. */
    for (size_t k = n; k-- > 0;) {
        uint8_t b = in[k];
        out[2 * k] = (uint8_t)hex[b >> 4];
        out[2 * k + 1] = (uint8_t)hex[b & 15];
    }
}

long gdb_unescape(uint8_t *buf, size_t len)
{
    size_t o = 0;
    for (size_t k = 0; k < len; k++) {
        if (buf[k] == '}') {
            if (++k >= len)
                return -1;
            buf[o++] = buf[k] ^ 0x20;
        } else {
            buf[o++] = buf[k];
        }
    }
    return (long)o;
}

static bool needs_escape(uint8_t b)
{
    return b == '#' || b == '$' || b == '}' || b == '*';
}

size_t gdb_escape(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *consumed)
{
    size_t o = 0, k = 0;
    for (; k < n; k++) {
        if (needs_escape(in[k])) {
            if (o + 2 > cap)
                break;
            out[o++] = '}';
            out[o++] = in[k] ^ 0x20;
        } else {
            if (o + 1 > cap)
                break;
            out[o++] = in[k];
        }
    }
    *consumed = k;
    return o;
}
