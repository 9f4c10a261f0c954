/* Tests of the MOO reader on small files built here: the layout the suite
 * uses, unknown chunks at every level, and malformed files, each of which
 * must give an error message (never a crash, never a silent short read). */
#include "moo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static int failures;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);         \
            failures++;                                                                      \
        }                                                                                    \
    } while (0)

/* A growable byte buffer for building chunks. */
typedef struct Buf {
    uint8_t *p;
    size_t n, cap;
} Buf;

static void put(Buf *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put8(Buf *b, uint8_t v) { put(b, &v, 1); }
static void put16(Buf *b, uint16_t v) { put8(b, (uint8_t)v), put8(b, (uint8_t)(v >> 8)); }
static void put32(Buf *b, uint32_t v) { put16(b, (uint16_t)v), put16(b, (uint16_t)(v >> 16)); }
static void chunk(Buf *b, const char *tag, const Buf *body)
{
    put(b, tag, 4);
    put32(b, (uint32_t)body->n);
    put(b, body->p, body->n);
}

static void regs(Buf *b, uint16_t mask, const uint16_t *v)
{
    Buf r = {0};
    put16(&r, mask);
    for (int i = 0; i < MOO_NREGS; i++)
        if (mask >> i & 1)
            put16(&r, v[i]);
    chunk(b, "REGS", &r);
    free(r.p);
}

static void ram(Buf *b, uint32_t n, uint32_t base)
{
    Buf r = {0};
    put32(&r, n);
    for (uint32_t i = 0; i < n; i++)
        put32(&r, base + i), put8(&r, (uint8_t)(0x10 + i));
    chunk(b, "RAM ", &r);
    free(r.p);
}

/* One well-formed TEST chunk body with index idx. */
static void test_body(Buf *t, uint32_t idx, bool excp)
{
    uint16_t v[MOO_NREGS];
    for (int i = 0; i < MOO_NREGS; i++)
        v[i] = (uint16_t)(0x1000 * idx + i);
    put32(t, idx);
    Buf s = {0};
    const char *name = "add [bx+si],al";
    put32(&s, (uint32_t)strlen(name));
    put(&s, name, strlen(name));
    chunk(t, "NAME", &s);
    s.n = 0;
    put32(&s, 3);
    put(&s, "\x00\x00\xf4", 3);
    chunk(t, "BYTS", &s);
    s.n = 0;
    regs(&s, 0x3FFF, v);
    ram(&s, 3, 0x1000);
    Buf q = {0};
    put32(&q, 0);
    chunk(&s, "QUEU", &q); /* ignored */
    chunk(&s, "ZZZZ", &q); /* unknown: skipped */
    chunk(t, "INIT", &s);
    s.n = 0;
    regs(&s, (1u << MOO_AX) | (1u << MOO_IP), v);
    ram(&s, 1, 0x2000);
    chunk(t, "FINA", &s);
    if (excp) {
        s.n = 0;
        put8(&s, 13);
        put32(&s, 0x12345);
        chunk(t, "EXCP", &s);
    }
    s.n = 0;
    for (int i = 0; i < 20; i++)
        put8(&s, (uint8_t)(idx + i));
    chunk(t, "HASH", &s);
    s.n = 0;
    put32(&s, 0xDEADBEEF);
    chunk(t, "GMET", &s);
    free(s.p);
    free(q.p);
}

static Buf good_file(uint32_t count, uint32_t announced)
{
    Buf f = {0}, c = {0};
    put8(&c, 1), put8(&c, 0), put8(&c, 0), put8(&c, 0);
    put32(&c, announced);
    put(&c, "C286", 4);
    chunk(&f, "MOO ", &c);
    c.n = 0;
    put(&c, "\x01\x00\x06\x00\x00\x00\x00" "add     ", 15);
    chunk(&f, "META", &c);
    c.n = 0;
    chunk(&f, "JUNK", &c); /* unknown top-level chunk */
    for (uint32_t i = 0; i < count; i++) {
        c.n = 0;
        test_body(&c, i, i == 1);
        chunk(&f, "TEST", &c);
    }
    free(c.p);
    return f;
}

static char path[64];

static void write_gz(const Buf *b, bool compress)
{
    if (compress) {
        gzFile g = gzopen(path, "wb");
        gzwrite(g, b->p, (unsigned)b->n);
        gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(b->p, 1, b->n, f);
        fclose(f);
    }
}

/* Read the whole file: number of tests, or -1 on error (message printed). */
static int read_all(MooTest *t, bool quiet)
{
    MooReader r;
    int n = 0, k;
    if (moo_open(&r, path) < 0) {
        if (!quiet)
            printf("  error: %s\n", r.err);
        moo_close(&r);
        return -1;
    }
    while ((k = moo_next(&r, t)) > 0)
        n++;
    if (k < 0 && !quiet)
        printf("  error: %s\n", r.err);
    moo_close(&r);
    return k < 0 ? -1 : n;
}

int main(void)
{
    snprintf(path, sizeof(path), "/tmp/kestrel_test_moo_%d.MOO.gz", (int)getpid());
    MooTest t;
    moo_test_init(&t);

    /* A good file, compressed. */
    Buf f = good_file(3, 3);
    write_gz(&f, true);
    MooReader r;
    CHECK(moo_open(&r, path) == 0);
    CHECK(r.count == 3 && strcmp(r.cpu, "C286") == 0);
    CHECK(moo_next(&r, &t) == 1);
    CHECK(strcmp(r.mnemonic, "add") == 0);
    CHECK(t.index == 0 && strcmp(t.name, "add [bx+si],al") == 0);
    CHECK(t.n_bytes == 3 && t.bytes[2] == 0xF4);
    CHECK(t.init.mask == 0x3FFF && t.init.v[MOO_FLAGS] == 13);
    CHECK(t.fina.mask == ((1u << MOO_AX) | (1u << MOO_IP)) && t.fina.v[MOO_IP] == 12);
    CHECK(t.init_ram.n == 3 && t.init_ram.e[2].addr == 0x1002 && t.init_ram.e[2].val == 0x12);
    CHECK(t.fina_ram.n == 1 && t.fina_ram.e[0].addr == 0x2000);
    CHECK(!t.has_excp && t.has_hash && t.hash[19] == 19);
    CHECK(moo_next(&r, &t) == 1);
    CHECK(t.index == 1 && t.has_excp && t.excp == 13 && t.excp_flags_addr == 0x12345);
    CHECK(moo_next(&r, &t) == 1 && !t.has_excp);
    CHECK(moo_next(&r, &t) == 0);
    moo_close(&r);

    /* Uncompressed input is read too (zlib passes it through). */
    write_gz(&f, false);
    CHECK(read_all(&t, true) == 3);

    /* Fewer tests than announced: an error, not a short success. */
    Buf g = good_file(2, 3);
    write_gz(&g, true);
    CHECK(read_all(&t, false) == -1);
    free(g.p);

    /* Truncated at every length: always a clean error (or, at 0, empty). */
    int errors = 0;
    for (size_t cut = 0; cut < f.n; cut++) {
        Buf h = {f.p, cut, f.n};
        write_gz(&h, true);
        errors += read_all(&t, true) < 0;
    }
    CHECK(errors == (int)f.n);

    /* Every byte replaced by 0xFF in turn: no crash, and the lengths that
     * become huge are refused. */
    for (size_t i = 0; i < f.n; i++) {
        uint8_t saved = f.p[i];
        f.p[i] = 0xFF;
        write_gz(&f, true);
        (void)read_all(&t, true);
        f.p[i] = saved;
    }

    /* Not a MOO file. */
    Buf junk = {0};
    put(&junk, "hello, world", 12);
    write_gz(&junk, true);
    CHECK(read_all(&t, false) == -1);
    free(junk.p);

    free(f.p);
    moo_test_free(&t);
    unlink(path);
    if (failures) {
        printf("0 passed, %d failed\n", failures);
        return 1;
    }
    printf("1 passed, 0 failed\n");
    return 0;
}
