/* Deterministic fuzzing of the gdb protocol layer, for every build.
 *
 * First known-answer checks of the framer, the hex and escape helpers and
 * the dispatcher against the fake target; then KESTREL_GDB_FUZZ_UNITS
 * (default 200,000) generated packets from a seeded PRNG
 * (KESTREL_GDB_FUZZ_SEED): valid packets of every kind with hostile
 * numbers, then mutated: bad or non-hex checksums, truncation, flipped
 * bytes, stray '$', huge payloads, binary escapes, raw 0x03 / '+' / '-',
 * plain random bytes.  fuzz_one() checks the invariants (fuzz_core.c) and
 * aborts on the first broken one, printing the seed and input number. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/gdb/fuzz_core.h"

static int passed, failed;

#define EXPECT(cond, what)                                                                         \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            fprintf(stderr, "FAIL: %s (%s:%d)\n", what, __FILE__, __LINE__);                       \
        }                                                                                          \
    } while (0)

/* ---- Known answers --------------------------------------------------------- */

/* Feed a string; return the last event and copy the payload of a packet. */
static GdbEvent feed(GdbFramer *f, const char *s, size_t n, char *payload)
{
    GdbEvent last = GDB_EV_NONE;
    for (size_t k = 0; k < n; k++) {
        GdbEvent e = gdb_framer_feed(f, (uint8_t)s[k]);
        if (e != GDB_EV_NONE)
            last = e;
        if (e == GDB_EV_PACKET && payload) {
            memcpy(payload, f->pkt, f->len);
            payload[f->len] = 0;
        }
    }
    return last;
}

static void test_framer(void)
{
    static GdbFramer f;
    char p[64];
    gdb_framer_init(&f);
    EXPECT(feed(&f, "$?#3f", 5, p) == GDB_EV_PACKET && strcmp(p, "?") == 0, "$?#3f");
    EXPECT(feed(&f, "$?#3F", 5, p) == GDB_EV_PACKET, "upper-case checksum digits");
    EXPECT(feed(&f, "$?#40", 5, NULL) == GDB_EV_BAD, "wrong checksum");
    EXPECT(feed(&f, "$?#g0", 5, NULL) == GDB_EV_BAD, "non-hex checksum");
    EXPECT(feed(&f, "\x03", 1, NULL) == GDB_EV_INTERRUPT, "0x03 between packets");
    EXPECT(feed(&f, "+", 1, NULL) == GDB_EV_ACK && feed(&f, "-", 1, NULL) == GDB_EV_NAK, "+ -");
    EXPECT(feed(&f, "$g$?#3f", 7, p) == GDB_EV_PACKET && strcmp(p, "?") == 0,
           "'$' restarts a packet");
    EXPECT(feed(&f, "$X0,1:\x03#", 8, NULL) == GDB_EV_NONE, "0x03 inside a packet is data");
    gdb_framer_init(&f);
    EXPECT(feed(&f, "$#00", 4, p) == GDB_EV_PACKET && p[0] == 0, "empty packet");
    /* '$', a payload 96 bytes over the limit, '#', two checksum digits. */
    enum { BIG_PAYLOAD = GDB_PACKET_SIZE + 96 };
    static char big[1 + BIG_PAYLOAD + 3];
    static const char hex[] = "0123456789abcdef";
    memset(big, 'a', sizeof big);
    big[0] = '$';
    uint8_t sum = (uint8_t)(BIG_PAYLOAD * 'a');
    big[1 + BIG_PAYLOAD] = '#';
    big[2 + BIG_PAYLOAD] = hex[sum >> 4];
    big[3 + BIG_PAYLOAD] = hex[sum & 15];
    EXPECT(feed(&f, big, sizeof big, NULL) == GDB_EV_OVERSIZE, "over-long packet");
    big[3 + BIG_PAYLOAD] = hex[(sum + 1) & 15];
    EXPECT(feed(&f, big, sizeof big, NULL) == GDB_EV_BAD, "over-long packet, bad checksum");
    uint8_t out[16];
    EXPECT(gdb_frame((const uint8_t *)"OK", 2, out, sizeof out) == 6 &&
               memcmp(out, "$OK#9a", 6) == 0,
           "frame OK");
    EXPECT(gdb_frame((const uint8_t *)"OK", 2, out, 5) == 0, "frame too small");
}

static void test_helpers(void)
{
    const uint8_t *p, *end;
    uint64_t v;
    const char *s1 = "00000000000000000000001234,";
    p = (const uint8_t *)s1;
    end = p + strlen(s1);
    EXPECT(gdb_parse_hex(&p, end, &v) && v == 0x1234 && *p == ',', "leading zeros");
    const char *s2 = "10000000000000000";
    p = (const uint8_t *)s2;
    EXPECT(!gdb_parse_hex(&p, p + strlen(s2), &v), "17 significant digits overflow");
    const char *s3 = "ffffffffffffffff";
    p = (const uint8_t *)s3;
    EXPECT(gdb_parse_hex(&p, p + strlen(s3), &v) && v == UINT64_MAX, "64-bit maximum");
    p = (const uint8_t *)",";
    EXPECT(!gdb_parse_hex(&p, p + 1, &v), "no digits");
    /* Escape then unescape is the identity on every byte value. */
    uint8_t in[256], esc[512], back[512];
    for (int k = 0; k < 256; k++)
        in[k] = (uint8_t)k;
    size_t used;
    size_t n = gdb_escape(in, 256, esc, sizeof esc, &used);
    EXPECT(used == 256 && n == 256 + 4, "escape: four bytes escaped");
    memcpy(back, esc, n);
    EXPECT(gdb_unescape(back, n) == 256 && memcmp(back, in, 256) == 0, "unescape(escape(x))");
    n = gdb_escape((const uint8_t *)"a}b", 3, esc, 2, &used);
    EXPECT(n == 1 && used == 1, "escape stops before a split escape");
    uint8_t t[2] = {'}', 0};
    EXPECT(gdb_unescape(t, 1) == -1, "unescape: trailing '}'");
}

static FakeTarget kt;
static GdbSession ks;
static GdbReply kr;

static GdbAction cmd(const char *p)
{
    return gdb_dispatch(&ks, (const uint8_t *)p, strlen(p), &kr);
}

static bool reply_is(const char *s)
{
    return kr.send && kr.len == strlen(s) && memcmp(kr.data, s, kr.len) == 0;
}

static void test_dispatch(void)
{
    fake_target_init(&kt);
    gdb_session_init(&ks, &fake_target_ops, &kt);
    EXPECT(cmd("p8") == GDB_ACT_REPLY && reply_is("08080808"), "p eip");
    EXPECT(cmd("p10") == GDB_ACT_REPLY && reply_is("xxxxxxxxxxxxxxxxxxxx"), "p st0 unavailable");
    EXPECT(cmd("P0=78563412") == GDB_ACT_REPLY && reply_is("OK") && kt.regs[0] == 0x12345678,
           "P eax");
    cmd("g");
    EXPECT(kr.len >= 16 && memcmp(kr.data, "78563412", 8) == 0, "g starts with eax");
    EXPECT(cmd("m1000,4") == GDB_ACT_REPLY && reply_is("00070e15"), "m");
    EXPECT(cmd("m0,4") == GDB_ACT_REPLY && reply_is("E14"), "m unmapped");
    EXPECT(cmd("m4ffe,8") == GDB_ACT_REPLY && kr.len == 4, "m partly mapped: the mapped part");
    EXPECT(cmd("mfffffffe,8") == GDB_ACT_REPLY && reply_is("0000"), "m clipped at 4 GiB");
    static const char xpkt[] = "X1000,4:}\x03}\x04}]}\x0a";
    EXPECT(gdb_dispatch(&ks, (const uint8_t *)xpkt, sizeof xpkt - 1, &kr) == GDB_ACT_REPLY &&
               reply_is("OK") && memcmp(kt.mem, "#$}*", 4) == 0,
           "X unescapes");
    cmd("qXfer:features:read:target.xml:0,4000");
    EXPECT(kr.len > 1 && kr.data[0] == 'l' && kr.len - 1 == ks.xml_len &&
               memcmp(kr.data + 1, ks.xml, ks.xml_len) == 0,
           "target.xml in one read");
    cmd("qXfer:features:read:target.xml:0,10");
    EXPECT(kr.len == 17 && kr.data[0] == 'm', "target.xml, a 16-byte chunk");
    EXPECT(
        strstr(ks.xml, "<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\" regnum=\"9\"/>") !=
            NULL,
        "eflags in target.xml");
    /* Breakpoints: Z0 and Z1 at one address are one target breakpoint. */
    EXPECT(cmd("Z0,2000,1") == GDB_ACT_REPLY && reply_is("OK") && kt.n_bps == 1, "Z0");
    EXPECT(cmd("Z0,2000,1") == GDB_ACT_REPLY && reply_is("OK") && kt.n_bps == 1, "Z0 again");
    EXPECT(cmd("Z1,2000,1") == GDB_ACT_REPLY && reply_is("OK") && kt.n_bps == 1, "Z1 same addr");
    EXPECT(cmd("z0,2000,1") == GDB_ACT_REPLY && kt.n_bps == 1, "z0 keeps Z1's");
    EXPECT(cmd("z1,2000,1") == GDB_ACT_REPLY && kt.n_bps == 0, "z1 removes it");
    for (int k = 0; k < FAKE_MAX_BPS; k++) {
        char b[32];
        snprintf(b, sizeof b, "Z0,%x,1", 0x3000 + k);
        cmd(b);
    }
    EXPECT(cmd("Z0,9000,1") == GDB_ACT_REPLY && kr.data[0] == 'E', "breakpoint table full");
    EXPECT(cmd("Z2,1000,4") == GDB_ACT_REPLY && reply_is("OK") && kt.n_wps == 1, "Z2");
    gdb_session_clear_points(&ks);
    EXPECT(kt.n_bps == 0 && kt.n_wps == 0, "clear removes everything");
    /* Stop replies. */
    GdbStop st = {
        .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP, .breakpoint = true, .bp_addr = 0x2000};
    cmd("Z0,2000,1");
    gdb_stop_reply(&ks, &st, &kr);
    EXPECT(reply_is("T0508:08080808;04:04040404;05:05050505;thread:1;"),
           "no swbreak unless gdb asked");
    cmd("qSupported:multiprocess+;swbreak+;hwbreak+");
    gdb_stop_reply(&ks, &st, &kr);
    EXPECT(reply_is("T0508:08080808;04:04040404;05:05050505;thread:1;swbreak:;"), "swbreak");
    st = (GdbStop){.kind = GDB_STOP_SIGNAL,
                   .signal = GDB_SIGTRAP,
                   .watch_kind = GDB_WATCH_READ,
                   .watch_addr = 0x1234};
    gdb_stop_reply(&ks, &st, &kr);
    EXPECT(kr.len > 12 && memcmp(kr.data + kr.len - 12, "rwatch:1234;", 12) == 0, "rwatch");
    cmd("?");
    EXPECT(kr.len > 12 && memcmp(kr.data + kr.len - 12, "rwatch:1234;", 12) == 0,
           "? repeats the last stop");
    st = (GdbStop){.kind = GDB_STOP_EXITED, .status = 0x1FF};
    gdb_stop_reply(&ks, &st, &kr);
    EXPECT(reply_is("Wff"), "exit status: its low byte");
    /* Resuming. */
    EXPECT(cmd("c1234") == GDB_ACT_CONTINUE && !kr.send && kt.regs[GDB_REG_EIP] == 0x1234,
           "c ADDR");
    EXPECT(cmd("S05;4321") == GDB_ACT_STEP && kt.regs[GDB_REG_EIP] == 0x4321, "S SIG;ADDR");
    EXPECT(cmd("vCont;s:2;c") == GDB_ACT_CONTINUE, "vCont: the action for our thread");
    EXPECT(cmd("vCont;s:p1.1;c") == GDB_ACT_STEP, "vCont: leftmost matching action");
    EXPECT(cmd("vCont;s:2") == GDB_ACT_REPLY && kr.data[0] == 'E', "vCont: nothing for us");
    EXPECT(cmd("vCont?") == GDB_ACT_REPLY && reply_is("vCont;c;C;s;S"), "vCont?");
    EXPECT(cmd("D") == GDB_ACT_DETACH && reply_is("OK"), "D");
    EXPECT(cmd("k") == GDB_ACT_KILL && !kr.send, "k: no reply");
    EXPECT(cmd("vKill;1") == GDB_ACT_KILL && reply_is("OK"), "vKill");
    EXPECT(cmd("QStartNoAckMode") == GDB_ACT_REPLY && reply_is("OK") && ks.no_ack, "no-ack");
    EXPECT(cmd("") == GDB_ACT_REPLY && reply_is(""), "empty packet: empty reply");
    EXPECT(cmd("qRcmd,6869") == GDB_ACT_REPLY && reply_is(""), "monitor: not supported");
    gdb_session_clear_points(&ks);
}

/* ---- Generated packets ------------------------------------------------------ */

static uint64_t rng;

static uint64_t rnd(void)
{
    /* xorshift64* */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

static uint32_t below(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

typedef struct Buf {
    uint8_t *p;
    size_t len, cap;
} Buf;

static void put(Buf *b, const void *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(Buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_hexnum(Buf *b, uint64_t v)
{
    char t[24];
    snprintf(t, sizeof t, "%" PRIx64, v);
    puts_(b, t);
}

static const char *const templates[] = {
    "?",
    "g",
    "G%H",
    "p%R",
    "P%R=%H",
    "m%A,%L",
    "M%A,%L:%H",
    "X%A,%L:%B",
    "c",
    "c%A",
    "s",
    "s%A",
    "C%S",
    "C%S;%A",
    "S%S;%A",
    "Z0,%A,1",
    "z0,%A,1",
    "Z1,%A,1",
    "z1,%A,1",
    "Z2,%A,%L",
    "z2,%A,%L",
    "Z3,%A,%L",
    "z3,%A,%L",
    "Z4,%A,%L",
    "z4,%A,%L",
    "Z%S,%A,%L;X2,abcd",
    "D",
    "D;1",
    "k",
    "vKill;1",
    "Hg%T",
    "Hc%T",
    "T%T",
    "qSupported:multiprocess+;swbreak+;hwbreak+",
    "qSupported",
    "qSupported:%B",
    "qXfer:features:read:target.xml:%L,%L",
    "qXfer:features:read:%B:%L,%L",
    "qAttached",
    "qAttached:1",
    "qOffsets",
    "qC",
    "qfThreadInfo",
    "qsThreadInfo",
    "qThreadExtraInfo,%T",
    "qSymbol::",
    "QStartNoAckMode",
    "vCont?",
    "vCont;c",
    "vCont;s:%T",
    "vCont;C%S:%T;c",
    "vCont;r%A,%A:%T;c",
    "vCont;%B",
    "vCont;t",
    "vMustReplyEmpty",
    "qRcmd,%H",
    "!",
    "%B",
};

static void gen_addr(Buf *b)
{
    static const uint64_t special[] = {
        0,          FAKE_MEM_BASE - 2, FAKE_MEM_BASE, FAKE_MEM_BASE + FAKE_MEM_SIZE - 3,
        0xFFFFF000, 0xFFFFFFFF,        0xFFFFFFFE,    0x100000000ull,
        UINT64_MAX,
    };
    switch (below(6)) {
    case 0:
        put_hexnum(b, special[below(sizeof special / sizeof special[0])]);
        break;
    case 1:
        put_hexnum(b, rnd());
        break;
    case 2:
        puts_(b, below(2) ? "" : "-1");
        break;
    case 3:
        puts_(b, "00000000000000000000000000001000");
        break;
    case 4:
        puts_(b, "1ffffffffffffffff");
        break;
    default:
        put_hexnum(b, FAKE_MEM_BASE + below(FAKE_MEM_SIZE));
        break;
    }
}

static uint64_t gen_len(Buf *b)
{
    static const uint64_t special[] = {
        0, 1, 2, 4, 8, 0x1000, 0x2000, 0x4000, 0xFFFFFFFF, 0x100000000ull, UINT64_MAX};
    uint64_t v;
    switch (below(4)) {
    case 0:
        v = special[below(sizeof special / sizeof special[0])];
        break;
    case 1:
        v = rnd() >> below(64);
        break;
    case 2:
        puts_(b, below(2) ? "" : "zz");
        return 4;
    default:
        v = below(64);
        break;
    }
    put_hexnum(b, v);
    return v;
}

static void gen_hex(Buf *b, uint64_t want)
{
    static const char digits[] = "0123456789abcdefABCDEFxX g";
    size_t n = below(3) == 0 && want < 0x3000 ? 2 * want : below(48);
    bool clean = below(4) != 0;
    for (size_t k = 0; k < n; k++) {
        char ch = digits[clean ? below(16) : below(sizeof digits - 1)];
        put(b, &ch, 1);
    }
}

static void gen_bin(Buf *b, uint64_t want)
{
    size_t n = below(3) == 0 && want < 0x3000 ? want : below(40);
    bool escape = below(4) != 0;
    for (size_t k = 0; k < n; k++) {
        uint8_t c = (uint8_t)rnd();
        if (escape && (c == '#' || c == '$' || c == '}' || c == '*')) {
            uint8_t e[2] = {'}', (uint8_t)(c ^ 0x20)};
            put(b, e, 2);
        } else {
            put(b, &c, 1);
        }
    }
}

static void gen_payload(Buf *b)
{
    const char *t = templates[below(sizeof templates / sizeof templates[0])];
    uint64_t last_len = 4;
    for (; *t; t++) {
        if (*t != '%' || !t[1]) {
            put(b, t, 1);
            continue;
        }
        switch (*++t) {
        case 'A':
            gen_addr(b);
            break;
        case 'L':
            last_len = gen_len(b);
            break;
        case 'H':
            gen_hex(b, last_len);
            break;
        case 'B':
            gen_bin(b, last_len);
            break;
        case 'R':
            put_hexnum(b, below(8) ? below(GDB_NUM_REGS + 3) : rnd());
            break;
        case 'S':
            put_hexnum(b, below(300));
            break;
        case 'T': {
            static const char *const ids[] = {"1",  "-1", "0",  "p1.1",  "p-1.-1", "2",  "p2.1",
                                              "zz", "",   "p1", "p1.-1", "-2",     "p.1"};
            puts_(b, ids[below(sizeof ids / sizeof ids[0])]);
            break;
        }
        default:
            put(b, t, 1);
            break;
        }
    }
}

/* One framed (or deliberately broken) packet, or noise. */
static void gen_unit(Buf *in)
{
    static Buf pl;
    pl.len = 0;
    uint32_t kind = below(100);
    if (kind < 5) {
        /* Plain random bytes. */
        size_t n = below(300);
        for (size_t k = 0; k < n; k++) {
            uint8_t c = (uint8_t)rnd();
            put(in, &c, 1);
        }
        return;
    }
    if (kind < 8) {
        static const char noise[] = "+-\x03\x03+";
        put(in, noise + below(5), 1);
        return;
    }
    if (kind < 10) {
        /* A payload near or past GDB_PACKET_SIZE. */
        size_t n = GDB_PACKET_SIZE - 8 + below(40);
        puts_(&pl, below(2) ? "X1000,10:" : "M1000,2000:");
        while (pl.len < n) {
            uint8_t c = (uint8_t)('0' + below(10));
            put(&pl, &c, 1);
        }
    } else {
        gen_payload(&pl);
    }
    uint8_t sum = 0;
    for (size_t k = 0; k < pl.len; k++)
        sum = (uint8_t)(sum + pl.p[k]);
    char cs[3];
    snprintf(cs, sizeof cs, "%02x", sum);
    uint32_t mut = below(100);
    if (mut < 8)
        cs[below(2)] = "0123456789abcdefZ"[below(17)]; /* bad (or by luck good) checksum */
    size_t start = in->len;
    puts_(in, "$");
    put(in, pl.p, pl.len);
    puts_(in, "#");
    puts_(in, cs);
    size_t flen = in->len - start;
    if (mut >= 8 && mut < 14) {
        in->len = start + below((uint32_t)flen); /* truncated */
    } else if (mut >= 14 && mut < 20) {
        for (int k = 0, n = 1 + (int)below(4); k < n; k++)
            in->p[start + below((uint32_t)flen)] = (uint8_t)rnd(); /* flipped bytes */
    } else if (mut >= 20 && mut < 23) {
        in->p[start + below((uint32_t)flen)] = '$'; /* a stray restart */
    }
}

int main(void)
{
    test_framer();
    test_helpers();
    test_dispatch();

    const char *e = getenv("KESTREL_GDB_FUZZ_UNITS");
    uint64_t units = e ? strtoull(e, NULL, 0) : 200000;
    e = getenv("KESTREL_GDB_FUZZ_SEED");
    uint64_t seed = e ? strtoull(e, NULL, 0) : 0x6B657374726C6764ull;
    rng = seed ? seed : 1;

    Buf in = {0};
    uint64_t done = 0, inputs = 0;
    while (done < units) {
        in.len = 0;
        uint32_t n = 1 + below(8);
        for (uint32_t k = 0; k < n; k++)
            gen_unit(&in);
        done += n;
        inputs++;
        snprintf(fuzz_note, sizeof fuzz_note,
                 "input %" PRIu64 " of seed %#" PRIx64 " (KESTREL_GDB_FUZZ_SEED)", inputs - 1,
                 seed);
        fuzz_one(in.p, in.len);
    }
    free(in.p);
    printf("fuzz replay: seed %#" PRIx64 ", %" PRIu64 " units in %" PRIu64 " inputs: %" PRIu64
           " packets, %" PRIu64 " replies, %" PRIu64 " resumes, %" PRIu64 " bad, %" PRIu64
           " over-long, %" PRIu64 " interrupts\n",
           seed, done, inputs, fuzz_stats.packets, fuzz_stats.replies, fuzz_stats.resumes,
           fuzz_stats.bad, fuzz_stats.oversize, fuzz_stats.interrupts);
    /* The invariants held for every input, or fuzz_one aborted. */
    passed++;
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
