/* Deterministic fuzzing of the gdb protocol layer, for every build.
 *
 * First known-answer checks of the framer, the hex and escape helpers,
 * the register packets (gdb's i386 numbering and sizes, x87 and SSE
 * included) and the dispatcher against the fake target; then KESTREL_GDB_FUZZ_UNITS
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

#include "tests/common/rng.h"
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

static uint32_t reg32(int r)
{
    const uint8_t *b = kt.regs[r];
    return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* `n` repetitions of the two hex digits of byte b. */
static const char *rep(uint8_t b, unsigned n)
{
    static char t[2 * GDB_REG_MAX_BYTES + 1];
    for (unsigned k = 0; k < n; k++)
        snprintf(t + 2 * k, 3, "%02x", b);
    t[2 * n] = 0;
    return t;
}

/* Where register r's digits start in a g reply. */
static size_t g_offset(int r)
{
    size_t off = 0;
    for (int k = 0; k < r; k++)
        off += 2 * gdb_i386_reg_bytes(k);
    return off;
}

static void test_registers(void)
{
    char b[128];
    fake_target_init(&kt);
    gdb_session_init(&ks, &fake_target_ops, &kt);
    /* gdb's i386 numbering: st0 16 (80 bits), xmm0 32 (128), mxcsr 40. */
    EXPECT(GDB_REG_ST0 == 16 && GDB_REG_FOP == 31 && GDB_REG_XMM0 == 32 && GDB_REG_MXCSR == 40 &&
               GDB_REG_CR0 == 41 && GDB_NUM_REGS == 45,
           "register numbering");
    EXPECT(cmd("p8") == GDB_ACT_REPLY && reply_is("08080808"), "p eip");
    EXPECT(cmd("p10") == GDB_ACT_REPLY && reply_is(rep(0x10, 10)), "p st0: 10 bytes");
    EXPECT(cmd("p1f") == GDB_ACT_REPLY && reply_is("1f1f1f1f"), "p fop");
    EXPECT(cmd("p20") == GDB_ACT_REPLY && reply_is(rep(0x20, 16)), "p xmm0: 16 bytes");
    EXPECT(cmd("p28") == GDB_ACT_REPLY && reply_is("28282828"), "p mxcsr");
    EXPECT(cmd("p29") == GDB_ACT_REPLY && reply_is("29292929"), "p cr0 after mxcsr");
    EXPECT(cmd("P29=00000000") == GDB_ACT_REPLY && reply_is("E01"), "P cr0: read-only");
    snprintf(b, sizeof b, "p%x", GDB_NUM_REGS);
    EXPECT(cmd(b) == GDB_ACT_REPLY && reply_is("E16"), "p past the last register");
    EXPECT(cmd("P0=78563412") == GDB_ACT_REPLY && reply_is("OK") && reg32(0) == 0x12345678,
           "P eax");
    EXPECT(cmd("P21=00112233445566778899aabbccddeeff") == GDB_ACT_REPLY && reply_is("OK") &&
               kt.regs[GDB_REG_XMM0 + 1][0] == 0x00 && kt.regs[GDB_REG_XMM0 + 1][15] == 0xFF,
           "P xmm1 (16 bytes)");
    EXPECT(cmd("P21=0011223344556677") == GDB_ACT_REPLY && reply_is("E16"), "P xmm1 too short");
    EXPECT(cmd("P10=0000000000000080ff3f") == GDB_ACT_REPLY && reply_is("OK") &&
               kt.regs[GDB_REG_ST0][7] == 0x80 && kt.regs[GDB_REG_ST0][9] == 0x3F,
           "P st0 (10 bytes)");
    EXPECT(cmd("P28=801f0100") == GDB_ACT_REPLY && reply_is("E01") &&
               reg32(GDB_REG_MXCSR) == 0x28282828,
           "P mxcsr with a reserved bit: refused");
    EXPECT(cmd("P28=801f0000") == GDB_ACT_REPLY && reply_is("OK") && reg32(GDB_REG_MXCSR) == 0x1F80,
           "P mxcsr");

    /* g covers every register at its full size. */
    static char g[2 * 400 + 1];
    cmd("g");
    EXPECT(kr.len == g_offset(GDB_NUM_REGS) && g_offset(GDB_NUM_REGS) == 2 * 324,
           "g: 324 bytes of registers");
    EXPECT(kr.len >= 16 && memcmp(kr.data, "78563412", 8) == 0, "g starts with eax");
    EXPECT(kr.len == g_offset(GDB_NUM_REGS) && memcmp(kr.data + g_offset(GDB_REG_XMM0 + 1),
                                                      "00112233445566778899aabbccddeeff", 32) == 0,
           "g: xmm1 at its place");
    memcpy(g, kr.data, kr.len);
    g[kr.len] = 0;

    /* An unavailable register: 'x' digits in g and p; G leaves it alone. */
    kt.unavailable_reg = GDB_REG_ST0 + 3;
    EXPECT(cmd("p13") == GDB_ACT_REPLY && reply_is("xxxxxxxxxxxxxxxxxxxx"), "p: unavailable");
    cmd("g");
    EXPECT(kr.len == strlen(g) &&
               memcmp(kr.data + g_offset(GDB_REG_ST0 + 3), "xxxxxxxxxxxxxxxxxxxx", 20) == 0,
           "g: unavailable as x digits");
    static char G[2 * 400 + 2];
    G[0] = 'G';
    memcpy(G + 1, kr.data, kr.len);
    G[1 + kr.len] = 0;
    EXPECT(cmd(G) == GDB_ACT_REPLY && reply_is("OK"), "G with x digits for the unavailable one");
    kt.unavailable_reg = -1;

    /* G writes fstat before st0-st7 (they are relative to its TOP) and
     * checks the whole packet before it writes anything. */
    memset(kt.write_seq, 0, sizeof kt.write_seq);
    snprintf(G, sizeof G, "G%s", g);
    memcpy(G + 1 + g_offset(GDB_REG_FSTAT), "00200000", 8);
    EXPECT(cmd(G) == GDB_ACT_REPLY && reply_is("OK") && reg32(GDB_REG_FSTAT) == 0x2000 &&
               kt.write_seq[GDB_REG_FSTAT] != 0 && kt.write_seq[GDB_REG_ST0] != 0 &&
               kt.write_seq[GDB_REG_FSTAT] < kt.write_seq[GDB_REG_ST0],
           "G: fstat first");
    memcpy(G + 1, "efbeadde", 8);
    memcpy(G + 1 + g_offset(GDB_REG_CR4), "zz", 2);
    EXPECT(cmd(G) == GDB_ACT_REPLY && reply_is("E16") && reg32(0) == 0x12345678,
           "G with bad hex at the end changes nothing");
    memcpy(G + 1 + g_offset(GDB_REG_CR4), "2c", 2);
    memcpy(G + 1 + g_offset(GDB_REG_MXCSR), "801f0100", 8);
    EXPECT(cmd(G) == GDB_ACT_REPLY && reply_is("E01") && reg32(0) == 0xDEADBEEF &&
               reg32(GDB_REG_MXCSR) == 0x1F80,
           "G: a refused mxcsr is an error, the other registers are written");

    cmd("qXfer:features:read:target.xml:0,4000");
    EXPECT(kr.len > 1 && kr.data[0] == 'l', "target.xml in one read");
    EXPECT(strstr(ks.xml, "<feature name=\"org.gnu.gdb.i386.sse\">") != NULL &&
               strstr(ks.xml, "<union id=\"vec128\">") != NULL &&
               strstr(ks.xml, "<field name=\"v4_int32\" type=\"v4i32\"/>") != NULL &&
               strstr(ks.xml, "<field name=\"RC\" start=\"13\" end=\"14\"/>") != NULL,
           "target.xml: the SSE feature and its types");
    EXPECT(
        strstr(ks.xml, "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\" regnum=\"16\"") &&
            strstr(ks.xml, "<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"32\"/>") &&
            strstr(ks.xml, "<reg name=\"mxcsr\" bitsize=\"32\" type=\"i386_mxcsr\" "
                           "regnum=\"40\" group=\"vector\"/>") &&
            strstr(ks.xml, "<reg name=\"cr0\" bitsize=\"32\" type=\"i386_cr0\" regnum=\"41\""),
        "target.xml: st0 16, xmm0 32, mxcsr 40, cr0 41");
}

static void test_dispatch(void)
{
    fake_target_init(&kt);
    gdb_session_init(&ks, &fake_target_ops, &kt);
    EXPECT(cmd("P0=78563412") == GDB_ACT_REPLY && reply_is("OK") && reg32(0) == 0x12345678,
           "P eax");
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
    EXPECT(cmd("c1234") == GDB_ACT_CONTINUE && !kr.send && reg32(GDB_REG_EIP) == 0x1234, "c ADDR");
    EXPECT(cmd("S05;4321") == GDB_ACT_STEP && reg32(GDB_REG_EIP) == 0x4321, "S SIG;ADDR");
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

/* One stream for the whole run: an input number and the seed replay it. */
static Rng rng;

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
    switch (rng_below(&rng, 6)) {
    case 0:
        put_hexnum(b, special[rng_below(&rng, sizeof special / sizeof special[0])]);
        break;
    case 1:
        put_hexnum(b, rng_next64(&rng));
        break;
    case 2:
        puts_(b, rng_below(&rng, 2) ? "" : "-1");
        break;
    case 3:
        puts_(b, "00000000000000000000000000001000");
        break;
    case 4:
        puts_(b, "1ffffffffffffffff");
        break;
    default:
        put_hexnum(b, FAKE_MEM_BASE + rng_below(&rng, FAKE_MEM_SIZE));
        break;
    }
}

static uint64_t gen_len(Buf *b)
{
    static const uint64_t special[] = {
        0, 1, 2, 4, 8, 0x1000, 0x2000, 0x4000, 0xFFFFFFFF, 0x100000000ull, UINT64_MAX};
    uint64_t v;
    switch (rng_below(&rng, 4)) {
    case 0:
        v = special[rng_below(&rng, sizeof special / sizeof special[0])];
        break;
    case 1:
        v = rng_next64(&rng) >> rng_below(&rng, 64);
        break;
    case 2:
        puts_(b, rng_below(&rng, 2) ? "" : "zz");
        return 4;
    default:
        v = rng_below(&rng, 64);
        break;
    }
    put_hexnum(b, v);
    return v;
}

static void gen_hex(Buf *b, uint64_t want)
{
    static const char digits[] = "0123456789abcdefABCDEFxX g";
    size_t n = rng_below(&rng, 3) == 0 && want < 0x3000 ? 2 * want : rng_below(&rng, 48);
    bool clean = rng_below(&rng, 4) != 0;
    for (size_t k = 0; k < n; k++) {
        char ch = digits[clean ? rng_below(&rng, 16) : rng_below(&rng, sizeof digits - 1)];
        put(b, &ch, 1);
    }
}

static void gen_bin(Buf *b, uint64_t want)
{
    size_t n = rng_below(&rng, 3) == 0 && want < 0x3000 ? want : rng_below(&rng, 40);
    bool escape = rng_below(&rng, 4) != 0;
    for (size_t k = 0; k < n; k++) {
        uint8_t c = (uint8_t)rng_next64(&rng);
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
    const char *t = templates[rng_below(&rng, sizeof templates / sizeof templates[0])];
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
            put_hexnum(b,
                       rng_below(&rng, 8) ? rng_below(&rng, GDB_NUM_REGS + 3) : rng_next64(&rng));
            break;
        case 'S':
            put_hexnum(b, rng_below(&rng, 300));
            break;
        case 'T': {
            static const char *const ids[] = {"1",  "-1", "0",  "p1.1",  "p-1.-1", "2",  "p2.1",
                                              "zz", "",   "p1", "p1.-1", "-2",     "p.1"};
            puts_(b, ids[rng_below(&rng, sizeof ids / sizeof ids[0])]);
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
    uint32_t kind = rng_below(&rng, 100);
    if (kind < 5) {
        /* Plain random bytes. */
        size_t n = rng_below(&rng, 300);
        for (size_t k = 0; k < n; k++) {
            uint8_t c = (uint8_t)rng_next64(&rng);
            put(in, &c, 1);
        }
        return;
    }
    if (kind < 8) {
        static const char noise[] = "+-\x03\x03+";
        put(in, noise + rng_below(&rng, 5), 1);
        return;
    }
    if (kind < 10) {
        /* A payload near or past GDB_PACKET_SIZE. */
        size_t n = GDB_PACKET_SIZE - 8 + rng_below(&rng, 40);
        puts_(&pl, rng_below(&rng, 2) ? "X1000,10:" : "M1000,2000:");
        while (pl.len < n) {
            uint8_t c = (uint8_t)('0' + rng_below(&rng, 10));
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
    uint32_t mut = rng_below(&rng, 100);
    if (mut < 8) /* bad (or by luck good) checksum */
        cs[rng_below(&rng, 2)] = "0123456789abcdefZ"[rng_below(&rng, 17)];
    size_t start = in->len;
    puts_(in, "$");
    put(in, pl.p, pl.len);
    puts_(in, "#");
    puts_(in, cs);
    size_t flen = in->len - start;
    if (mut >= 8 && mut < 14) {
        in->len = start + rng_below(&rng, (uint32_t)flen); /* truncated */
    } else if (mut >= 14 && mut < 20) {
        for (int k = 0, n = 1 + (int)rng_below(&rng, 4); k < n; k++) /* flipped bytes */
            in->p[start + rng_below(&rng, (uint32_t)flen)] = (uint8_t)rng_next64(&rng);
    } else if (mut >= 20 && mut < 23) {
        in->p[start + rng_below(&rng, (uint32_t)flen)] = '$'; /* a stray restart */
    }
}

int main(void)
{
    test_framer();
    test_helpers();
    test_registers();
    test_dispatch();

    const char *e = getenv("KESTREL_GDB_FUZZ_UNITS");
    uint64_t units = e ? strtoull(e, NULL, 0) : 200000;
    uint64_t seed = rng_seed_env("KESTREL_GDB_FUZZ_SEED", 0x6B657374726C6764ull);
    rng.s = seed;

    Buf in = {0};
    uint64_t done = 0, inputs = 0;
    while (done < units) {
        in.len = 0;
        uint32_t n = 1 + rng_below(&rng, 8);
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
