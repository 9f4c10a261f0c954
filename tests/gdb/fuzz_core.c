/* See fuzz_core.h. */
#include "tests/gdb/fuzz_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

FuzzStats fuzz_stats;
char fuzz_note[160];

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "gdb fuzz: invariant broken: %s: ", #cond);                            \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n%s\n", fuzz_note);                                                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- The fake target ------------------------------------------------------ */

void fake_target_init(FakeTarget *t)
{
    memset(t, 0, sizeof *t);
    for (int r = 0; r < GDB_NUM_REGS; r++)
        memset(t->regs[r], r, gdb_i386_reg_bytes(r));
    t->unavailable_reg = -1;
    for (uint32_t k = 0; k < FAKE_MEM_SIZE; k++)
        t->mem[k] = (uint8_t)(k * 7);
}

static uint8_t *fake_byte(FakeTarget *t, uint32_t addr)
{
    if (addr >= FAKE_MEM_BASE && addr - FAKE_MEM_BASE < FAKE_MEM_SIZE)
        return &t->mem[addr - FAKE_MEM_BASE];
    if (addr >= FAKE_HIGH_BASE)
        return &t->high[addr - FAKE_HIGH_BASE];
    return NULL;
}

static bool fake_reg_read(void *opaque, int r, uint8_t *buf)
{
    FakeTarget *t = opaque;
    FUZZ_CHECK(r >= 0 && r < GDB_NUM_REGS, "reg_read(%d)", r);
    unsigned n = gdb_i386_reg_bytes(r);
    FUZZ_CHECK(n >= 4 && n <= GDB_REG_MAX_BYTES, "register size %u", n);
    if (r == t->unavailable_reg)
        return false;
    memcpy(buf, t->regs[r], n);
    return true;
}

/* Like Kestrel: cr0 is read-only (rewriting its own value is fine, as G
 * does), and mxcsr refuses its reserved bits 16-31 (a value LDMXCSR
 * would fault on). */
static bool fake_reg_write(void *opaque, int r, const uint8_t *buf)
{
    FakeTarget *t = opaque;
    FUZZ_CHECK(r >= 0 && r < GDB_NUM_REGS, "reg_write(%d)", r);
    if (r == t->unavailable_reg)
        return false;
    if (r == GDB_REG_CR0)
        return memcmp(t->regs[r], buf, 4) == 0;
    if (r == GDB_REG_MXCSR && (buf[2] || buf[3]))
        return false;
    memcpy(t->regs[r], buf, gdb_i386_reg_bytes(r));
    t->write_seq[r] = ++t->writes;
    return true;
}

static void check_range(uint32_t addr, uint32_t len)
{
    FUZZ_CHECK(len >= 1 && len <= GDB_PACKET_SIZE, "memory access of %u bytes", len);
    FUZZ_CHECK((uint64_t)addr + len <= 0x100000000ull, "access %#x+%u wraps past 4 GiB", addr, len);
}

static uint32_t fake_mem_read(void *opaque, uint32_t addr, uint8_t *buf, uint32_t len)
{
    check_range(addr, len);
    uint32_t n = 0;
    for (; n < len; n++) {
        uint8_t *p = fake_byte(opaque, addr + n);
        if (!p)
            break;
        buf[n] = *p;
    }
    return n;
}

static bool fake_mem_write(void *opaque, uint32_t addr, const uint8_t *buf, uint32_t len)
{
    check_range(addr, len);
    for (uint32_t n = 0; n < len; n++)
        if (!fake_byte(opaque, addr + n))
            return false;
    for (uint32_t n = 0; n < len; n++)
        *fake_byte(opaque, addr + n) = buf[n];
    return true;
}

static int fake_bp_find(const FakeTarget *t, uint32_t addr)
{
    for (int k = 0; k < t->n_bps; k++)
        if (t->bps[k] == addr)
            return k;
    return -1;
}

static bool fake_bp_insert(void *opaque, uint32_t addr)
{
    FakeTarget *t = opaque;
    FUZZ_CHECK(fake_bp_find(t, addr) < 0, "breakpoint %#x inserted twice", addr);
    if (t->n_bps >= FAKE_MAX_BPS)
        return false;
    t->bps[t->n_bps++] = addr;
    return true;
}

static bool fake_bp_remove(void *opaque, uint32_t addr)
{
    FakeTarget *t = opaque;
    int k = fake_bp_find(t, addr);
    FUZZ_CHECK(k >= 0, "absent breakpoint %#x removed", addr);
    t->bps[k] = t->bps[--t->n_bps];
    return true;
}

static int fake_wp_find(const FakeTarget *t, uint32_t addr, uint32_t len, int kind)
{
    for (int k = 0; k < t->n_wps; k++)
        if (t->wps[k].addr == addr && t->wps[k].len == len && t->wps[k].kind == kind)
            return k;
    return -1;
}

static bool fake_watch_insert(void *opaque, uint32_t addr, uint32_t len, int kind)
{
    FakeTarget *t = opaque;
    FUZZ_CHECK(len >= 1 && (uint64_t)addr + len <= 0x100000000ull, "watch %#x+%u", addr, len);
    FUZZ_CHECK(kind >= GDB_WATCH_WRITE && kind <= GDB_WATCH_ACCESS, "watch kind %d", kind);
    FUZZ_CHECK(fake_wp_find(t, addr, len, kind) < 0, "watchpoint %#x inserted twice", addr);
    if (t->n_wps >= FAKE_MAX_WPS)
        return false;
    t->wps[t->n_wps++] = (GdbWp){addr, len, (uint8_t)kind};
    return true;
}

static bool fake_watch_remove(void *opaque, uint32_t addr, uint32_t len, int kind)
{
    FakeTarget *t = opaque;
    int k = fake_wp_find(t, addr, len, kind);
    FUZZ_CHECK(k >= 0, "absent watchpoint %#x removed", addr);
    t->wps[k] = t->wps[--t->n_wps];
    return true;
}

const GdbTargetOps fake_target_ops = {
    fake_reg_read,  fake_reg_write, fake_mem_read,     fake_mem_write,
    fake_bp_insert, fake_bp_remove, fake_watch_insert, fake_watch_remove,
};

/* ---- Invariants ----------------------------------------------------------- */

static bool is_hex(uint8_t c)
{
    return gdb_hex_digit(c) >= 0;
}

static void check_reply(const GdbSession *s, const GdbReply *r, const uint8_t *pkt, size_t len)
{
    FUZZ_CHECK(s->internal_errors == 0, "a reply overflowed (packet of %zu bytes)", len);
    FUZZ_CHECK(r->len <= GDB_PACKET_SIZE, "reply of %zu bytes", r->len);
    if (!r->send)
        return;
    fuzz_stats.replies++;
    /* Every reply is printable ASCII (and the XML's newlines) with no
     * framing characters: binary data (qXfer) is escaped, so no '$', '#'
     * or '*' may appear raw. */
    for (size_t k = 0; k < r->len; k++) {
        uint8_t c = r->data[k];
        FUZZ_CHECK((c == '\n' || (c >= 0x20 && c < 0x7F)) && c != '$' && c != '#' && c != '*',
                   "reply byte %#x at %zu", c, k);
    }
    static uint8_t frame[GDB_PACKET_SIZE + 4];
    FUZZ_CHECK(gdb_frame(r->data, r->len, frame, sizeof frame) == r->len + 4, "frame");
    /* An error reply is E and two hex digits. */
    if (r->len >= 1 && r->data[0] == 'E')
        FUZZ_CHECK(r->len == 3 && is_hex(r->data[1]) && is_hex(r->data[2]), "error reply form");
    /* m: hex bytes or an error; g: every register. */
    if (len > 0 && pkt[0] == 'm' && r->len && r->data[0] != 'E') {
        FUZZ_CHECK(r->len % 2 == 0, "odd m reply");
        for (size_t k = 0; k < r->len; k++)
            FUZZ_CHECK(is_hex(r->data[k]), "non-hex m reply");
    }
    if (len == 1 && pkt[0] == 'g') {
        size_t want = 0;
        for (int reg = 0; reg < GDB_NUM_REGS; reg++)
            want += 2 * gdb_i386_reg_bytes(reg);
        FUZZ_CHECK(r->len == want, "g reply %zu digits, want %zu", r->len, want);
    }
}

/* The session's breakpoints, deduplicated by address, are exactly the
 * target's; its watchpoints are exactly the target's. */
static void check_points(const GdbSession *s, const FakeTarget *t)
{
    int unique = 0;
    for (int k = 0; k < s->n_bps; k++) {
        bool first = true;
        for (int j = 0; j < k; j++)
            if (s->bps[j].addr == s->bps[k].addr)
                first = false;
        if (first) {
            unique++;
            FUZZ_CHECK(fake_bp_find(t, s->bps[k].addr) >= 0, "breakpoint %#x lost", s->bps[k].addr);
        }
    }
    FUZZ_CHECK(unique == t->n_bps, "%d breakpoints in the session, %d in the target", unique,
               t->n_bps);
    FUZZ_CHECK(s->n_wps == t->n_wps, "%d watchpoints in the session, %d in the target", s->n_wps,
               t->n_wps);
}

/* ---- One input ----------------------------------------------------------- */

static FakeTarget g_target;
static GdbSession g_sess;
static GdbFramer g_framer;
static GdbReply g_reply;

void fuzz_one(const uint8_t *data, size_t len)
{
    fake_target_init(&g_target);
    gdb_session_init(&g_sess, &fake_target_ops, &g_target);
    gdb_framer_init(&g_framer);
    FUZZ_CHECK(g_sess.xml_len > 0, "target.xml did not fit");
    for (size_t i = 0; i < len; i++) {
        GdbEvent ev = gdb_framer_feed(&g_framer, data[i]);
        FUZZ_CHECK(g_framer.len <= GDB_PACKET_SIZE, "framer holds %zu bytes", g_framer.len);
        switch (ev) {
        case GDB_EV_BAD:
            fuzz_stats.bad++;
            break;
        case GDB_EV_OVERSIZE:
            fuzz_stats.oversize++;
            break;
        case GDB_EV_INTERRUPT:
            fuzz_stats.interrupts++;
            break;
        case GDB_EV_PACKET: {
            fuzz_stats.packets++;
            /* No '#' can be inside a framed payload; '$' restarts one. */
            FUZZ_CHECK(memchr(g_framer.pkt, '#', g_framer.len) == NULL, "'#' in a payload");
            FUZZ_CHECK(memchr(g_framer.pkt, '$', g_framer.len) == NULL, "'$' in a payload");
            GdbAction a = gdb_dispatch(&g_sess, g_framer.pkt, g_framer.len, &g_reply);
            check_reply(&g_sess, &g_reply, g_framer.pkt, g_framer.len);
            check_points(&g_sess, &g_target);
            if (a == GDB_ACT_CONTINUE || a == GDB_ACT_STEP) {
                fuzz_stats.resumes++;
                /* The stub would run the guest; report a stop made from the
                 * next input byte. */
                uint8_t b = i + 1 < len ? data[i + 1] : 0;
                GdbStop st = {.kind = (GdbStopKind)(b % 3), .signal = b, .status = b * 3};
                st.breakpoint = b & 8;
                st.bp_addr = g_sess.n_bps ? g_sess.bps[b % g_sess.n_bps].addr : b;
                st.watch_kind = (b >> 4) & 3;
                st.watch_addr = 0xFFFFFFF0u + b;
                gdb_stop_reply(&g_sess, &st, &g_reply);
                check_reply(&g_sess, &g_reply, (const uint8_t *)"?", 1);
                FUZZ_CHECK(g_reply.len > 0 && strchr("TWX", g_reply.data[0]), "stop reply");
            } else if (a == GDB_ACT_DETACH || a == GDB_ACT_KILL) {
                gdb_session_clear_points(&g_sess);
                FUZZ_CHECK(g_target.n_bps == 0 && g_target.n_wps == 0, "points left behind");
                gdb_session_init(&g_sess, &fake_target_ops, &g_target);
            }
            break;
        }
        default:
            break;
        }
    }
    gdb_session_clear_points(&g_sess);
    FUZZ_CHECK(g_target.n_bps == 0 && g_target.n_wps == 0, "points left after clear");
}
