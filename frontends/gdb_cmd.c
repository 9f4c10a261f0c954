/* GDB remote serial protocol command dispatcher: see gdb_cmd.h.
 *
 * Every packet is untrusted: each parser checks its bounds against the
 * payload length (payloads may hold NUL bytes), numbers that do not fit are
 * errors, and every reply is bounded by GDB_PACKET_SIZE.  A malformed
 * packet gets an "Exx" error reply; an unknown one gets the empty reply,
 * which gdb reads as "not supported". */
#include "frontends/gdb_cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Error numbers are free-form in the protocol; these follow gdbserver's
 * habit of errno values. */
#define ERR_GENERIC "E01"
#define ERR_MEM "E14"   /* EFAULT: memory not mapped */
#define ERR_INVAL "E16" /* EINVAL (0x16 = 22) */
#define ERR_NOSPC "E1c" /* ENOSPC: breakpoint or watchpoint table full */

/* ---- Reply building --------------------------------------------------- */

static void r_reset(GdbReply *r)
{
    r->send = true;
    r->overflow = false;
    r->len = 0;
}

static void r_bytes(GdbReply *r, const void *p, size_t n)
{
    if (r->overflow || n > sizeof r->data - r->len) {
        r->overflow = true;
        return;
    }
    memcpy(r->data + r->len, p, n);
    r->len += n;
}

static void r_str(GdbReply *r, const char *s)
{
    r_bytes(r, s, strlen(s));
}

static void r_printf(GdbReply *r, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        r->overflow = true;
    else
        r_bytes(r, tmp, (size_t)n);
}

static void r_hex(GdbReply *r, const uint8_t *p, size_t n)
{
    if (r->overflow || n > (sizeof r->data - r->len) / 2) {
        r->overflow = true;
        return;
    }
    gdb_hex_encode(p, n, r->data + r->len);
    r->len += 2 * n;
}

static GdbAction reply(GdbReply *r, const char *s)
{
    r_reset(r);
    r_str(r, s);
    return GDB_ACT_REPLY;
}

/* ---- Parsing ------------------------------------------------------------ */

typedef struct Cur {
    const uint8_t *p, *end;
} Cur;

static bool cur_eof(const Cur *c)
{
    return c->p >= c->end;
}

/* Consume `ch` if it is next. */
static bool cur_char(Cur *c, char ch)
{
    if (c->p < c->end && *c->p == (uint8_t)ch) {
        c->p++;
        return true;
    }
    return false;
}

/* Consume the literal `s` if the input starts with it. */
static bool cur_lit(Cur *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

static bool cur_hex(Cur *c, uint64_t *v)
{
    return gdb_parse_hex(&c->p, c->end, v);
}

/* The whole payload equals `s`. */
static bool is(const uint8_t *pkt, size_t len, const char *s)
{
    return strlen(s) == len && memcmp(pkt, s, len) == 0;
}

/* The payload starts with `s`. */
static bool starts(const uint8_t *pkt, size_t len, const char *s)
{
    size_t n = strlen(s);
    return len >= n && memcmp(pkt, s, n) == 0;
}

/* A thread-id (manual, "Packets": thread-id syntax): [p PID .] TID, each
 * hex, -1 (all) or 0 (any).  Kestrel has one process with one thread, 1. */
static bool parse_thread(Cur *c, bool *ours)
{
    uint64_t v;
    bool pid_ok = true;
    if (cur_char(c, 'p')) {
        if (cur_char(c, '-')) {
            if (!cur_char(c, '1'))
                return false;
        } else {
            if (!cur_hex(c, &v))
                return false;
            pid_ok = v <= 1;
        }
        if (!cur_char(c, '.')) {
            *ours = pid_ok; /* "pPID" alone means all threads of PID */
            return true;
        }
    }
    if (cur_char(c, '-')) {
        if (!cur_char(c, '1'))
            return false;
        *ours = pid_ok;
        return true;
    }
    if (!cur_hex(c, &v))
        return false;
    *ours = pid_ok && v <= 1;
    return true;
}

/* "ADDR,LEN" with ADDR a 32-bit linear address. */
static bool parse_addr_len(Cur *c, uint32_t *addr, uint64_t *len)
{
    uint64_t a;
    if (!cur_hex(c, &a) || !cur_char(c, ',') || !cur_hex(c, len))
        return false;
    if (a > 0xFFFFFFFFull)
        return false;
    *addr = (uint32_t)a;
    return true;
}

/* ---- Registers ---------------------------------------------------------- */

static void put_reg(GdbSession *s, GdbReply *r, int reg)
{
    uint8_t buf[GDB_REG_MAX_BYTES];
    unsigned n = gdb_i386_reg_bytes(reg);
    if (s->ops->reg_read(s->t, reg, buf)) {
        r_hex(r, buf, n);
    } else {
        for (unsigned k = 0; k < 2 * n; k++)
            r_str(r, "x");
    }
}

static GdbAction cmd_read_regs(GdbSession *s, GdbReply *r)
{
    r_reset(r);
    for (int reg = 0; reg < GDB_NUM_REGS; reg++)
        put_reg(s, r, reg);
    return GDB_ACT_REPLY;
}

static bool all_x(const uint8_t *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (p[k] != 'x')
            return false;
    return true;
}

/* G: registers in g order; a register sent as 'x' digits is left alone,
 * and a shorter packet sets only the registers it covers whole.  The whole
 * packet is checked before any register changes.  st0-st7 are relative to
 * the TOP field of fstat, so a G that carries fstat has it written first:
 * its st values then land where the same packet's TOP says. */
static GdbAction cmd_write_regs(GdbSession *s, const uint8_t *p, size_t n, GdbReply *r)
{
    if (n % 2)
        return reply(r, ERR_INVAL);
    uint8_t vals[GDB_NUM_REGS][GDB_REG_MAX_BYTES];
    bool have[GDB_NUM_REGS] = {false};
    size_t off = 0;
    for (int reg = 0; reg < GDB_NUM_REGS; reg++) {
        size_t digits = 2 * gdb_i386_reg_bytes(reg);
        if (n - off < digits)
            break;
        const uint8_t *h = p + off;
        off += digits;
        if (all_x(h, digits))
            continue;
        if (!gdb_hex_decode(h, digits / 2, vals[reg]))
            return reply(r, ERR_INVAL);
        have[reg] = true;
    }
    if (off != n)
        return reply(r, ERR_INVAL);
    bool ok = true;
    if (have[GDB_REG_FSTAT] && !s->ops->reg_write(s->t, GDB_REG_FSTAT, vals[GDB_REG_FSTAT]))
        ok = false;
    for (int reg = 0; reg < GDB_NUM_REGS; reg++)
        if (have[reg] && reg != GDB_REG_FSTAT && !s->ops->reg_write(s->t, reg, vals[reg]))
            ok = false;
    return reply(r, ok ? "OK" : ERR_GENERIC);
}

static GdbAction cmd_read_reg(GdbSession *s, Cur *c, GdbReply *r)
{
    uint64_t reg;
    if (!cur_hex(c, &reg) || !cur_eof(c))
        return reply(r, ERR_INVAL);
    if (reg >= GDB_NUM_REGS)
        return reply(r, ERR_INVAL);
    r_reset(r);
    put_reg(s, r, (int)reg);
    return GDB_ACT_REPLY;
}

static GdbAction cmd_write_reg(GdbSession *s, Cur *c, GdbReply *r)
{
    uint64_t reg;
    if (!cur_hex(c, &reg) || !cur_char(c, '=') || reg >= GDB_NUM_REGS)
        return reply(r, ERR_INVAL);
    size_t n = gdb_i386_reg_bytes((int)reg);
    uint8_t buf[GDB_REG_MAX_BYTES];
    if ((size_t)(c->end - c->p) != 2 * n || !gdb_hex_decode(c->p, n, buf))
        return reply(r, ERR_INVAL);
    return reply(r, s->ops->reg_write(s->t, (int)reg, buf) ? "OK" : ERR_GENERIC);
}

static bool set_pc(GdbSession *s, uint64_t pc)
{
    if (pc > 0xFFFFFFFFull)
        return false;
    uint8_t b[4] = {(uint8_t)pc, (uint8_t)(pc >> 8), (uint8_t)(pc >> 16), (uint8_t)(pc >> 24)};
    return s->ops->reg_write(s->t, GDB_REG_EIP, b);
}

/* ---- Memory ------------------------------------------------------------- */

/* Bytes from addr to the 4 GiB end (up to 2^32), capped at `want`. */
static uint64_t clip_len(uint32_t addr, uint64_t want)
{
    uint64_t room = 0x100000000ull - addr;
    return want < room ? want : room;
}

static GdbAction cmd_read_mem(GdbSession *s, Cur *c, GdbReply *r)
{
    uint32_t addr;
    uint64_t len;
    if (!parse_addr_len(c, &addr, &len) || !cur_eof(c))
        return reply(r, ERR_INVAL);
    if (len == 0)
        return reply(r, "");
    /* A reply may hold fewer bytes than asked (manual, 'm' packet). */
    uint64_t n = clip_len(addr, len);
    if (n > sizeof r->data / 2)
        n = sizeof r->data / 2;
    uint32_t got = s->ops->mem_read(s->t, addr, s->scratch, (uint32_t)n);
    if (got == 0)
        return reply(r, ERR_MEM);
    if (got > n)
        got = n; /* a target bug must not overrun the reply */
    r_reset(r);
    r_hex(r, s->scratch, got);
    return GDB_ACT_REPLY;
}

static GdbAction write_mem(GdbSession *s, uint32_t addr, const uint8_t *data, uint64_t len,
                           GdbReply *r)
{
    if (len == 0)
        return reply(r, "OK"); /* gdb probes X support with a zero-length write */
    if (clip_len(addr, len) != len)
        return reply(r, ERR_MEM);
    return reply(r, s->ops->mem_write(s->t, addr, data, (uint32_t)len) ? "OK" : ERR_MEM);
}

static GdbAction cmd_write_mem_hex(GdbSession *s, Cur *c, GdbReply *r)
{
    uint32_t addr;
    uint64_t len;
    if (!parse_addr_len(c, &addr, &len) || !cur_char(c, ':'))
        return reply(r, ERR_INVAL);
    size_t digits = (size_t)(c->end - c->p);
    if (len > sizeof s->scratch || digits != 2 * len || !gdb_hex_decode(c->p, len, s->scratch))
        return reply(r, ERR_INVAL);
    return write_mem(s, addr, s->scratch, len, r);
}

static GdbAction cmd_write_mem_bin(GdbSession *s, Cur *c, GdbReply *r)
{
    uint32_t addr;
    uint64_t len;
    if (!parse_addr_len(c, &addr, &len) || !cur_char(c, ':'))
        return reply(r, ERR_INVAL);
    size_t raw = (size_t)(c->end - c->p);
    if (raw > sizeof s->scratch)
        return reply(r, ERR_INVAL);
    memcpy(s->scratch, c->p, raw);
    long n = gdb_unescape(s->scratch, raw);
    if (n < 0 || (uint64_t)n != len)
        return reply(r, ERR_INVAL);
    return write_mem(s, addr, s->scratch, len, r);
}

/* ---- Breakpoints and watchpoints ---------------------------------------- */

static bool bp_addr_used(const GdbSession *s, uint32_t addr)
{
    for (int k = 0; k < s->n_bps; k++)
        if (s->bps[k].addr == addr)
            return true;
    return false;
}

static int bp_find(const GdbSession *s, uint32_t addr, int type)
{
    for (int k = 0; k < s->n_bps; k++)
        if (s->bps[k].addr == addr && s->bps[k].type == type)
            return k;
    return -1;
}

static int wp_find(const GdbSession *s, uint32_t addr, uint32_t len, int kind)
{
    for (int k = 0; k < s->n_wps; k++)
        if (s->wps[k].addr == addr && s->wps[k].len == len && s->wps[k].kind == kind)
            return k;
    return -1;
}

/* Z/z TYPE,ADDR,KIND[;cond...]: insertion and removal are idempotent
 * (manual, 'Z' packets). */
static GdbAction cmd_point(GdbSession *s, Cur *c, bool insert, GdbReply *r)
{
    uint64_t type;
    uint32_t addr;
    uint64_t kind;
    if (!cur_hex(c, &type) || !cur_char(c, ',') || !parse_addr_len(c, &addr, &kind))
        return reply(r, ERR_INVAL);
    if (!cur_eof(c) && !cur_char(c, ';'))
        return reply(r, ERR_INVAL);
    if (type > 4)
        return reply(r, ""); /* not supported */
    if (type <= 1) {
        int k = bp_find(s, addr, (int)type);
        if (insert) {
            if (k >= 0)
                return reply(r, "OK");
            if (s->n_bps >= GDB_MAX_BPS)
                return reply(r, ERR_NOSPC);
            if (!bp_addr_used(s, addr) && !s->ops->bp_insert(s->t, addr))
                return reply(r, ERR_NOSPC);
            s->bps[s->n_bps++] = (GdbBp){addr, (uint8_t)type};
        } else if (k >= 0) {
            s->bps[k] = s->bps[--s->n_bps];
            if (!bp_addr_used(s, addr))
                s->ops->bp_remove(s->t, addr);
        }
        return reply(r, "OK");
    }
    /* Z2 write, Z3 read, Z4 access; KIND is the length in bytes. */
    int wkind = type == 2 ? GDB_WATCH_WRITE : type == 3 ? GDB_WATCH_READ : GDB_WATCH_ACCESS;
    if (kind == 0 || kind > 0xFFFFFFFFull || clip_len(addr, kind) != kind)
        return reply(r, ERR_INVAL);
    uint32_t len = (uint32_t)kind;
    int k = wp_find(s, addr, len, wkind);
    if (insert) {
        if (k >= 0)
            return reply(r, "OK");
        if (s->n_wps >= GDB_MAX_WATCHES || !s->ops->watch_insert(s->t, addr, len, wkind))
            return reply(r, ERR_NOSPC);
        s->wps[s->n_wps++] = (GdbWp){addr, len, (uint8_t)wkind};
    } else if (k >= 0) {
        s->wps[k] = s->wps[--s->n_wps];
        s->ops->watch_remove(s->t, addr, len, wkind);
    }
    return reply(r, "OK");
}

void gdb_session_clear_points(GdbSession *s)
{
    while (s->n_bps) {
        uint32_t addr = s->bps[--s->n_bps].addr;
        if (!bp_addr_used(s, addr))
            s->ops->bp_remove(s->t, addr);
    }
    while (s->n_wps) {
        GdbWp w = s->wps[--s->n_wps];
        s->ops->watch_remove(s->t, w.addr, w.len, w.kind);
    }
}

/* ---- Resuming ------------------------------------------------------------ */

/* c [ADDR] / s [ADDR] / C SIG[;ADDR] / S SIG[;ADDR].  A signal cannot be
 * delivered to a bare machine, so it is ignored. */
static GdbAction cmd_resume(GdbSession *s, Cur *c, bool step, bool with_sig, GdbReply *r)
{
    uint64_t v;
    if (with_sig) {
        if (!cur_hex(c, &v))
            return reply(r, ERR_INVAL);
        if (!cur_eof(c) && !cur_char(c, ';'))
            return reply(r, ERR_INVAL);
    }
    if (!cur_eof(c)) {
        if (!cur_hex(c, &v) || !cur_eof(c))
            return reply(r, ERR_INVAL);
        if (!set_pc(s, v))
            return reply(r, ERR_GENERIC);
    }
    r_reset(r);
    r->send = false;
    return step ? GDB_ACT_STEP : GDB_ACT_CONTINUE;
}

/* vCont;ACTION[:THREAD]...: the leftmost action that applies to our one
 * thread decides (manual, 'vCont' packet). */
static GdbAction cmd_vcont(Cur *c, GdbReply *r)
{
    int chosen = 0;
    while (cur_char(c, ';')) {
        if (cur_eof(c))
            return reply(r, ERR_INVAL);
        uint8_t act = *c->p++;
        uint64_t v;
        if (act == 'C' || act == 'S') {
            if (!cur_hex(c, &v))
                return reply(r, ERR_INVAL);
        } else if (act == 'r') {
            if (!cur_hex(c, &v) || !cur_char(c, ',') || !cur_hex(c, &v))
                return reply(r, ERR_INVAL);
        } else if (act != 'c' && act != 's' && act != 't') {
            return reply(r, ERR_INVAL);
        }
        bool ours = true;
        if (cur_char(c, ':') && !parse_thread(c, &ours))
            return reply(r, ERR_INVAL);
        if (!chosen && ours)
            chosen = act;
    }
    if (!cur_eof(c))
        return reply(r, ERR_INVAL);
    r_reset(r);
    r->send = false;
    switch (chosen) {
    case 'c':
    case 'C':
        return GDB_ACT_CONTINUE;
    case 's':
    case 'S':
        return GDB_ACT_STEP;
    default:
        return reply(r, ERR_INVAL); /* nothing for our thread, or t / r (not offered) */
    }
}

/* ---- Queries ------------------------------------------------------------- */

static GdbAction cmd_supported(GdbSession *s, Cur *c, GdbReply *r)
{
    /* gdb's features: "name+" / "name-" / "name=value", ';'-separated. */
    if (cur_char(c, ':')) {
        while (!cur_eof(c)) {
            const uint8_t *start = c->p;
            while (!cur_eof(c) && *c->p != ';')
                c->p++;
            size_t n = (size_t)(c->p - start);
            if (n == 8 && memcmp(start, "swbreak+", 8) == 0)
                s->peer_swbreak = true;
            if (n == 8 && memcmp(start, "hwbreak+", 8) == 0)
                s->peer_hwbreak = true;
            cur_char(c, ';');
        }
    }
    r_reset(r);
    r_printf(r,
             "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;vContSupported+;"
             "swbreak+;hwbreak+",
             GDB_PACKET_SIZE);
    return GDB_ACT_REPLY;
}

/* qXfer:features:read:ANNEX:OFFSET,LENGTH (manual, "qXfer" packets). */
static GdbAction cmd_xfer_features(GdbSession *s, Cur *c, GdbReply *r)
{
    if (!cur_lit(c, "target.xml:"))
        return reply(r, "E00"); /* unknown annex */
    uint64_t off, len;
    if (!cur_hex(c, &off) || !cur_char(c, ',') || !cur_hex(c, &len) || !cur_eof(c))
        return reply(r, ERR_INVAL);
    if (off >= s->xml_len)
        return reply(r, "l");
    size_t avail = s->xml_len - (size_t)off;
    size_t want = len < avail ? (size_t)len : avail;
    r_reset(r);
    size_t consumed;
    uint8_t *out = r->data + 1;
    size_t wrote =
        gdb_escape((const uint8_t *)s->xml + off, want, out, sizeof r->data - 1, &consumed);
    r->data[0] = consumed == avail ? 'l' : 'm';
    r->len = 1 + wrote;
    return GDB_ACT_REPLY;
}

static GdbAction cmd_query(GdbSession *s, const uint8_t *pkt, size_t len, GdbReply *r)
{
    Cur c = {pkt, pkt + len};
    if (cur_lit(&c, "qSupported"))
        return cmd_supported(s, &c, r);
    if (cur_lit(&c, "qXfer:features:read:"))
        return cmd_xfer_features(s, &c, r);
    if (is(pkt, len, "qAttached") || starts(pkt, len, "qAttached:"))
        return reply(r, "1"); /* an existing machine: gdb detaches on quit */
    if (is(pkt, len, "qOffsets"))
        return reply(r, "Text=0;Data=0;Bss=0");
    if (is(pkt, len, "qC"))
        return reply(r, "QC1");
    if (is(pkt, len, "qfThreadInfo"))
        return reply(r, "m1");
    if (is(pkt, len, "qsThreadInfo"))
        return reply(r, "l");
    if (cur_lit(&c, "qThreadExtraInfo,")) {
        bool ours;
        if (!parse_thread(&c, &ours) || !cur_eof(&c))
            return reply(r, ERR_INVAL);
        static const char info[] = "CPU 0";
        r_reset(r);
        r_hex(r, (const uint8_t *)info, sizeof info - 1);
        return GDB_ACT_REPLY;
    }
    if (starts(pkt, len, "qSymbol:"))
        return reply(r, "OK"); /* no symbols wanted */
    return reply(r, "");
}

/* ---- Stop replies -------------------------------------------------------- */

void gdb_stop_reply(GdbSession *s, const GdbStop *st, GdbReply *r)
{
    s->last_stop = *st;
    r_reset(r);
    switch (st->kind) {
    case GDB_STOP_EXITED:
        r_printf(r, "W%02x", (unsigned)st->status & 0xFF);
        return;
    case GDB_STOP_TERMINATED:
        r_printf(r, "X%02x", (unsigned)st->signal & 0xFF);
        return;
    case GDB_STOP_SIGNAL:
        break;
    }
    r_printf(r, "T%02x", (unsigned)st->signal & 0xFF);
    /* Expedite the registers gdb needs first, saving a round trip. */
    static const int expedite[] = {GDB_REG_EIP, GDB_REG_ESP, GDB_REG_EBP};
    for (size_t k = 0; k < sizeof expedite / sizeof expedite[0]; k++) {
        uint8_t buf[4];
        if (s->ops->reg_read(s->t, expedite[k], buf)) {
            r_printf(r, "%02x:", expedite[k]);
            r_hex(r, buf, 4);
            r_str(r, ";");
        }
    }
    r_str(r, "thread:1;");
    if (st->watch_kind) {
        const char *name = st->watch_kind == GDB_WATCH_WRITE  ? "watch"
                           : st->watch_kind == GDB_WATCH_READ ? "rwatch"
                                                              : "awatch";
        r_printf(r, "%s:%x;", name, (unsigned)st->watch_addr);
    } else if (st->breakpoint) {
        /* swbreak / hwbreak only when gdb asked for them in qSupported;
         * the PC is already at the breakpoint (not after it). */
        if (bp_find(s, st->bp_addr, 0) >= 0) {
            if (s->peer_swbreak)
                r_str(r, "swbreak:;");
        } else if (bp_find(s, st->bp_addr, 1) >= 0) {
            if (s->peer_hwbreak)
                r_str(r, "hwbreak:;");
        }
    }
    if (r->overflow) {
        s->internal_errors++;
        r_reset(r);
        r_printf(r, "T%02x", (unsigned)st->signal & 0xFF);
    }
}

/* ---- The dispatcher ------------------------------------------------------ */

void gdb_session_init(GdbSession *s, const GdbTargetOps *ops, void *t)
{
    memset(s, 0, offsetof(GdbSession, scratch));
    s->ops = ops;
    s->t = t;
    s->last_stop = (GdbStop){.kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP};
    s->xml_len = gdb_i386_target_xml(s->xml, sizeof s->xml);
}

static GdbAction dispatch(GdbSession *s, const uint8_t *pkt, size_t len, GdbReply *r)
{
    if (len == 0)
        return reply(r, "");
    Cur c = {pkt + 1, pkt + len};
    switch (pkt[0]) {
    case '?':
        gdb_stop_reply(s, &s->last_stop, r);
        return GDB_ACT_REPLY;
    case 'g':
        return len == 1 ? cmd_read_regs(s, r) : reply(r, ERR_INVAL);
    case 'G':
        return cmd_write_regs(s, pkt + 1, len - 1, r);
    case 'p':
        return cmd_read_reg(s, &c, r);
    case 'P':
        return cmd_write_reg(s, &c, r);
    case 'm':
        return cmd_read_mem(s, &c, r);
    case 'M':
        return cmd_write_mem_hex(s, &c, r);
    case 'X':
        return cmd_write_mem_bin(s, &c, r);
    case 'c':
        return cmd_resume(s, &c, false, false, r);
    case 's':
        return cmd_resume(s, &c, true, false, r);
    case 'C':
        return cmd_resume(s, &c, false, true, r);
    case 'S':
        return cmd_resume(s, &c, true, true, r);
    case 'Z':
        return cmd_point(s, &c, true, r);
    case 'z':
        return cmd_point(s, &c, false, r);
    case 'D':
        /* D or D;PID */
        reply(r, "OK");
        return GDB_ACT_DETACH;
    case 'k':
        r_reset(r);
        r->send = false;
        return GDB_ACT_KILL;
    case 'H': {
        /* Hg / Hc THREAD: select the thread for later operations. */
        bool ours;
        if (cur_eof(&c))
            return reply(r, ERR_INVAL);
        c.p++;
        if (!parse_thread(&c, &ours) || !cur_eof(&c))
            return reply(r, ERR_INVAL);
        return reply(r, ours ? "OK" : ERR_INVAL);
    }
    case 'T': {
        bool ours;
        if (!parse_thread(&c, &ours) || !cur_eof(&c))
            return reply(r, ERR_INVAL);
        return reply(r, ours ? "OK" : ERR_GENERIC);
    }
    case 'q':
        return cmd_query(s, pkt, len, r);
    case 'Q':
        if (is(pkt, len, "QStartNoAckMode")) {
            /* The OK still goes out with acks on; gdb's '+' for it is the
             * last one (manual, "Packet Acknowledgment"). */
            s->no_ack = true;
            return reply(r, "OK");
        }
        return reply(r, "");
    case 'v':
        if (is(pkt, len, "vCont?"))
            return reply(r, "vCont;c;C;s;S");
        if (cur_lit(&c, "Cont") && (cur_eof(&c) || *c.p == ';'))
            return cmd_vcont(&c, r);
        if (is(pkt, len, "vKill") || starts(pkt, len, "vKill;")) {
            reply(r, "OK");
            return GDB_ACT_KILL;
        }
        return reply(r, ""); /* vMustReplyEmpty and everything else */
    default:
        return reply(r, "");
    }
}

GdbAction gdb_dispatch(GdbSession *s, const uint8_t *pkt, size_t len, GdbReply *r)
{
    GdbAction a = dispatch(s, pkt, len, r);
    if (r->overflow) {
        /* Every reply is sized against GDB_PACKET_SIZE; getting here is a
         * Kestrel bug, answered with an error rather than a crash. */
        s->internal_errors++;
        a = reply(r, ERR_GENERIC);
    }
    return a;
}
