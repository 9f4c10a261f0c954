/* MOO reader; see moo.h and ../shared/sst/README.md for the format. */
#include "moo.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

const char *const moo_reg_names[MOO_NREGS] = {
    "ax", "bx", "cx", "dx", "cs", "ss", "ds", "es", "sp", "bp", "si", "di", "ip", "flags",
};

/* A TEST chunk holds one test: a few hundred bytes.  Anything this large
 * is a corrupt length, not a test. */
#define MOO_MAX_CHUNK (16u << 20)

static int fail(MooReader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(r->err, sizeof(r->err), "%s: ", r->path);
    if (n < 0 || (size_t)n >= sizeof(r->err))
        n = 0;
    vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool tag_is(const uint8_t *tag, const char *s) { return memcmp(tag, s, 4) == 0; }

/* Printable form of a tag for messages. */
static const char *tag_str(const uint8_t *tag, char out[5])
{
    for (int i = 0; i < 4; i++)
        out[i] = (tag[i] >= 0x20 && tag[i] < 0x7f) ? (char)tag[i] : '?';
    out[4] = 0;
    return out;
}

/* Read exactly n bytes.  Returns 1, 0 when the stream ended before the
 * first byte (a clean end if the caller is at a chunk boundary), -1 on an
 * error or a stream that ended part-way. */
/* gzerror's text starts with the path; drop it, fail() adds it once. */
static const char *gz_msg(MooReader *r, int *errnum)
{
    const char *msg = gzerror((gzFile)r->gz, errnum);
    size_t pl = strlen(r->path);
    if (strncmp(msg, r->path, pl) == 0 && msg[pl] == ':' && msg[pl + 1] == ' ')
        msg += pl + 2;
    return msg;
}

static int read_exact(MooReader *r, void *dst, uint32_t n, const char *what)
{
    uint8_t *d = dst;
    uint32_t got = 0;
    while (got < n) {
        unsigned want = n - got > (1u << 30) ? (1u << 30) : n - got;
        int k = gzread((gzFile)r->gz, d + got, want);
        if (k < 0) {
            int errnum;
            const char *msg = gz_msg(r, &errnum);
            return fail(r, "decompression failed reading %s: %s", what, msg);
        }
        if (k == 0) {
            int errnum;
            const char *msg = gz_msg(r, &errnum);
            if (errnum != Z_OK && errnum != Z_STREAM_END)
                return fail(r, "decompression failed reading %s: %s", what, msg);
            if (got == 0)
                return 0;
            return fail(r, "file truncated inside %s (%u of %u bytes)", what, got, n);
        }
        got += (uint32_t)k;
    }
    return 1;
}

/* Read a chunk header and body into r->buf.  Returns 1, 0 at a clean end,
 * -1 on error.  With `first`, the tag must be 'MOO ' (checked before the
 * length, so that a file of another kind gets a plain message). */
static int read_chunk(MooReader *r, uint8_t tag[4], uint32_t *len, bool first)
{
    uint8_t hdr[8];
    int k = read_exact(r, hdr, 8, "a chunk header");
    if (k <= 0)
        return k;
    memcpy(tag, hdr, 4);
    if (first && !tag_is(tag, "MOO "))
        return fail(r, "not a MOO file (it does not start with a 'MOO ' chunk)");
    *len = ld32(hdr + 4);
    char ts[5];
    if (*len > MOO_MAX_CHUNK)
        return fail(r, "chunk '%s' claims %u bytes (limit %u): corrupt length", tag_str(tag, ts),
                    *len, MOO_MAX_CHUNK);
    if (*len > r->buf_cap) {
        uint32_t cap = r->buf_cap ? r->buf_cap : 4096;
        while (cap < *len)
            cap *= 2;
        uint8_t *nb = realloc(r->buf, cap);
        if (!nb)
            return fail(r, "out of memory for a %u-byte chunk", *len);
        r->buf = nb;
        r->buf_cap = cap;
    }
    if (*len == 0)
        return 1;
    k = read_exact(r, r->buf, *len, tag_str(tag, ts));
    if (k == 0)
        return fail(r, "file truncated: chunk '%s' has no body", ts);
    return k;
}

/* Cursor over nested sub-chunks inside a body already in memory. */
typedef struct Cur {
    const uint8_t *p;
    uint32_t len, off;
} Cur;

/* Next sub-chunk: 1 with tag/body/blen set, 0 at the end, -1 on overrun. */
static int sub_next(MooReader *r, Cur *c, const char *in, const uint8_t **tag,
                    const uint8_t **body, uint32_t *blen)
{
    if (c->off == c->len)
        return 0;
    if (c->len - c->off < 8)
        return fail(r, "test %u: %u stray bytes at the end of %s", r->seen, c->len - c->off, in);
    *tag = c->p + c->off;
    *blen = ld32(c->p + c->off + 4);
    if (*blen > c->len - c->off - 8) {
        char ts[5];
        return fail(r, "test %u: sub-chunk '%s' of %s claims %u bytes but only %u remain", r->seen,
                    tag_str(*tag, ts), in, *blen, c->len - c->off - 8);
    }
    *body = c->p + c->off + 8;
    c->off += 8 + *blen;
    return 1;
}

static int parse_regs(MooReader *r, const uint8_t *b, uint32_t len, MooRegs *out, const char *in)
{
    if (len < 2)
        return fail(r, "test %u: %s REGS too short (%u bytes)", r->seen, in, len);
    uint16_t mask = ld16(b);
    if (mask >> MOO_NREGS)
        return fail(r, "test %u: %s REGS mask %#x names registers past flags", r->seen, in, mask);
    uint32_t need = 2;
    for (int i = 0; i < MOO_NREGS; i++)
        need += (mask >> i & 1) * 2u;
    if (len < need)
        return fail(r, "test %u: %s REGS holds %u bytes, mask %#x needs %u", r->seen, in, len,
                    mask, need);
    out->mask = mask;
    uint32_t o = 2;
    for (int i = 0; i < MOO_NREGS; i++) {
        if (mask >> i & 1) {
            out->v[i] = ld16(b + o);
            o += 2;
        } else {
            out->v[i] = 0;
        }
    }
    return 0;
}

static int parse_ram(MooReader *r, const uint8_t *b, uint32_t len, MooRamList *out,
                     const char *in)
{
    if (len < 4)
        return fail(r, "test %u: %s RAM too short (%u bytes)", r->seen, in, len);
    uint32_t n = ld32(b);
    if ((uint64_t)n * 5 > len - 4)
        return fail(r, "test %u: %s RAM claims %u entries but holds %u bytes", r->seen, in, n,
                    len - 4);
    if (n > out->cap) {
        uint32_t cap = out->cap ? out->cap : 32;
        while (cap < n)
            cap *= 2;
        MooRam *ne = realloc(out->e, cap * sizeof(*ne));
        if (!ne)
            return fail(r, "out of memory for %u RAM entries", n);
        out->e = ne;
        out->cap = cap;
    }
    for (uint32_t i = 0; i < n; i++) {
        out->e[i].addr = ld32(b + 4 + 5 * i);
        out->e[i].val = b[4 + 5 * i + 4];
    }
    out->n = n;
    return 0;
}

/* INIT or FINA: nested REGS / RAM / QUEU. */
static int parse_state(MooReader *r, const uint8_t *b, uint32_t len, MooRegs *regs,
                       MooRamList *ram, const char *in)
{
    Cur c = {b, len, 0};
    const uint8_t *tag = NULL, *body = NULL;
    uint32_t blen = 0;
    bool have_regs = false;
    int k;
    regs->mask = 0;
    ram->n = 0;
    while ((k = sub_next(r, &c, in, &tag, &body, &blen)) > 0) {
        if (tag_is(tag, "REGS")) {
            if (parse_regs(r, body, blen, regs, in) < 0)
                return -1;
            have_regs = true;
        } else if (tag_is(tag, "RAM ")) {
            if (parse_ram(r, body, blen, ram, in) < 0)
                return -1;
        }
        /* QUEU (prefetch queue) and anything unknown: not needed. */
    }
    if (k < 0)
        return -1;
    if (!have_regs)
        return fail(r, "test %u: %s has no REGS", r->seen, in);
    return 0;
}

static int ensure_name(MooReader *r, MooTest *t, uint32_t n)
{
    if (n + 1 > t->name_cap) {
        char *nn = realloc(t->name, n + 1);
        if (!nn)
            return fail(r, "out of memory for a %u-byte name", n);
        t->name = nn;
        t->name_cap = n + 1;
    }
    return 0;
}

static int parse_test(MooReader *r, const uint8_t *b, uint32_t len, MooTest *t)
{
    if (len < 4)
        return fail(r, "test %u: TEST chunk too short", r->seen);
    t->index = ld32(b);
    if (ensure_name(r, t, 0) < 0)
        return -1;
    t->name[0] = 0;
    t->n_bytes = 0;
    t->has_excp = false;
    t->has_hash = false;
    bool have_init = false, have_fina = false, have_byts = false;

    Cur c = {b, len, 4};
    const uint8_t *tag = NULL, *body = NULL;
    uint32_t blen = 0;
    int k;
    while ((k = sub_next(r, &c, "TEST", &tag, &body, &blen)) > 0) {
        if (tag_is(tag, "NAME")) {
            if (blen < 4 || ld32(body) > blen - 4)
                return fail(r, "test %u: NAME length does not fit its chunk", r->seen);
            uint32_t n = ld32(body);
            if (ensure_name(r, t, n) < 0)
                return -1;
            memcpy(t->name, body + 4, n);
            t->name[n] = 0;
        } else if (tag_is(tag, "BYTS")) {
            if (blen < 4 || ld32(body) > blen - 4)
                return fail(r, "test %u: BYTS count does not fit its chunk", r->seen);
            uint32_t n = ld32(body);
            if (n > MOO_MAX_BYTES)
                return fail(r, "test %u: %u instruction bytes (limit %u)", r->seen, n,
                            MOO_MAX_BYTES);
            memcpy(t->bytes, body + 4, n);
            t->n_bytes = n;
            have_byts = true;
        } else if (tag_is(tag, "INIT")) {
            if (parse_state(r, body, blen, &t->init, &t->init_ram, "INIT") < 0)
                return -1;
            have_init = true;
        } else if (tag_is(tag, "FINA")) {
            if (parse_state(r, body, blen, &t->fina, &t->fina_ram, "FINA") < 0)
                return -1;
            have_fina = true;
        } else if (tag_is(tag, "EXCP")) {
            if (blen < 5)
                return fail(r, "test %u: EXCP too short (%u bytes)", r->seen, blen);
            t->has_excp = true;
            t->excp = body[0];
            t->excp_flags_addr = ld32(body + 1);
        } else if (tag_is(tag, "HASH")) {
            if (blen != 20)
                return fail(r, "test %u: HASH is %u bytes, not 20", r->seen, blen);
            memcpy(t->hash, body, 20);
            t->has_hash = true;
        }
        /* GMET (generator metadata) and unknown sub-chunks: skipped. */
    }
    if (k < 0)
        return -1;
    if (!have_init || !have_fina || !have_byts)
        return fail(r, "test %u: missing %s", r->seen,
                    !have_init ? "INIT" : !have_fina ? "FINA" : "BYTS");
    return 0;
}

int moo_open(MooReader *r, const char *path)
{
    memset(r, 0, sizeof(*r));
    r->path = path;
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return fail(r, "cannot open");
    gzbuffer(gz, 256 * 1024);
    r->gz = gz;

    uint8_t tag[4];
    uint32_t len;
    int k = read_chunk(r, tag, &len, true);
    if (k == 0)
        return fail(r, "empty file");
    if (k < 0)
        return -1;
    if (len < 12)
        return fail(r, "MOO header chunk too short (%u bytes)", len);
    r->version = r->buf[0];
    r->count = ld32(r->buf + 4);
    for (int i = 0; i < 4; i++)
        r->cpu[i] = (r->buf[8 + i] >= 0x20 && r->buf[8 + i] < 0x7f) ? (char)r->buf[8 + i] : '?';
    r->cpu[4] = 0;
    return 0;
}

/* META: the mnemonic is an 8-byte space-padded field at offset 7 (as the
 * generator writes it).  Only used for display, so it is best effort. */
static void parse_meta(MooReader *r, const uint8_t *b, uint32_t len)
{
    if (len < 15)
        return;
    int n = 0;
    for (int i = 0; i < 8; i++) {
        uint8_t ch = b[7 + i];
        if (ch < 0x20 || ch >= 0x7f)
            break;
        r->mnemonic[n++] = (char)ch;
    }
    while (n > 0 && r->mnemonic[n - 1] == ' ')
        n--;
    r->mnemonic[n] = 0;
}

int moo_next(MooReader *r, MooTest *t)
{
    for (;;) {
        uint8_t tag[4];
        uint32_t len;
        int k = read_chunk(r, tag, &len, false);
        if (k < 0)
            return -1;
        if (k == 0) {
            if (r->seen != r->count)
                return fail(r, "file holds %u tests but its header announces %u", r->seen,
                            r->count);
            return 0;
        }
        if (tag_is(tag, "META")) {
            parse_meta(r, r->buf, len);
        } else if (tag_is(tag, "TEST")) {
            if (parse_test(r, r->buf, len, t) < 0)
                return -1;
            r->seen++;
            return 1;
        }
        /* Unknown top-level chunk: skipped. */
    }
}

void moo_close(MooReader *r)
{
    if (r->gz)
        gzclose((gzFile)r->gz);
    r->gz = NULL;
    free(r->buf);
    r->buf = NULL;
    r->buf_cap = 0;
}

void moo_test_init(MooTest *t) { memset(t, 0, sizeof(*t)); }

void moo_test_free(MooTest *t)
{
    free(t->name);
    free(t->init_ram.e);
    free(t->fina_ram.e);
    memset(t, 0, sizeof(*t));
}
