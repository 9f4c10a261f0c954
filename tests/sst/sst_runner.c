/* SingleStepTests 80286 runner: every test of every *.MOO.gz on Kestrel.
 *
 * usage: sst_runner [DIR] [--parse-only] [--stride N] [--form NAME]...
 *                   [--examples N] [--dump FORM:INDEX] [--quiet]
 *
 * DIR defaults to ../shared/sst/80286 beside the source tree.  SST_STRIDE=N
 * in the environment is the same as --stride N (run every Nth test; the
 * sanitizer build uses it).  See README.md for the output.
 *
 * Built with -DSST_PARSE_ONLY (the sst_parse executable) it needs neither
 * the CPU nor the divergence list: it only reads and checks the files.
 */
#include "sst.h"
#ifndef SST_PARSE_ONLY
#include "sst_exec.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#ifndef SST_DEFAULT_DIR
#define SST_DEFAULT_DIR "../shared/sst/80286"
#endif

#define MAX_DIV 16
#define MAX_EXAMPLES_KEPT 16
#define MAX_DIRTY 4096

typedef struct Options {
    const char *dir;
    bool parse_only;
    bool quiet;
    unsigned stride;
    unsigned examples;
    const char *forms[64];
    unsigned n_forms;
    const char *dump;
} Options;

/* Counts for one file (or the whole run). */
typedef struct Stats {
    uint64_t tests;   /* in the file */
    uint64_t run;     /* selected by the stride and not revoked */
    uint64_t passed, failed, revoked, divergent;
    uint64_t div[MAX_DIV];
    uint64_t must_missed; /* failures that matched the 286 where a 386+ must not */
    uint64_t undecoded;
    uint64_t len_mismatch; /* BYTS (less its HLT) is not the decoded length */
    uint64_t stray_bytes;  /* found by the sweep after the file: it ran again */
    /* What differed, over the failed tests. */
    uint64_t reg[MOO_NREGS];
    uint16_t flag_bits; /* union of differing FLAGS bits */
    uint64_t mem, nohalt, vector, invariant, stray;
    char *examples[MAX_EXAMPLES_KEPT];
    unsigned n_examples;
} Stats;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.MOO.gz names in dir, sorted.  Returns the count, or -1. */
static int list_files(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 7 || strcmp(e->d_name + len - 7, ".MOO.gz") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 512;
            char **nv = realloc(v, cap * sizeof(*nv));
            if (!nv)
                break;
            v = nv;
        }
        v[n] = strdup(e->d_name);
        if (v[n])
            n++;
    }
    closedir(d);
    qsort(v, n, sizeof(*v), cmp_str);
    *out = v;
    return (int)n;
}

static bool form_selected(const Options *o, const char *form)
{
    if (o->n_forms == 0)
        return true;
    for (unsigned i = 0; i < o->n_forms; i++)
        if (strcasecmp(o->forms[i], form) == 0)
            return true;
    return false;
}

static void hex_bytes(const MooTest *t, char *out, size_t n)
{
    size_t len = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < t->n_bytes && len + 4 < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%02X", i ? " " : "", t->bytes[i]);
}

#ifndef SST_PARSE_ONLY
static void add_example(Stats *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_example(Stats *s, const char *fmt, ...)
{
    if (s->n_examples >= MAX_EXAMPLES_KEPT)
        return;
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    s->examples[s->n_examples] = strdup(buf);
    if (s->examples[s->n_examples])
        s->n_examples++;
}
#endif

static void free_examples(Stats *s)
{
    for (unsigned i = 0; i < s->n_examples; i++)
        free(s->examples[i]);
    s->n_examples = 0;
}

static void dump_test(const char *form, const MooTest *t)
{
    char hex[256];
    hex_bytes(t, hex, sizeof(hex));
    printf("test %s #%u: %s\n  bytes: %s\n", form, t->index, t->name, hex);
    const MooRegs *rs[2] = {&t->init, &t->fina};
    const MooRamList *ms[2] = {&t->init_ram, &t->fina_ram};
    for (int k = 0; k < 2; k++) {
        printf("  %s:", k ? "final" : "initial");
        for (int i = 0; i < MOO_NREGS; i++)
            if (rs[k]->mask >> i & 1)
                printf(" %s=%04X", moo_reg_names[i], rs[k]->v[i]);
        printf("\n   ");
        for (uint32_t i = 0; i < ms[k]->n; i++)
            printf(" [%05X]=%02X", ms[k]->e[i].addr, ms[k]->e[i].val);
        printf("\n");
    }
    if (t->has_excp)
        printf("  exception %u, FLAGS pushed at %05X\n", t->excp, t->excp_flags_addr);
    if (t->has_hash) {
        printf("  hash ");
        for (int i = 0; i < 20; i++)
            printf("%02x", t->hash[i]);
        printf("\n");
    }
}

/* Per-test form, status and mask.  Group opcodes that metadata splits by
 * ModRM reg but that come as one file (8F, C6, C7) are looked up per test. */
static void describe(const SstMeta *meta, const char *file_form, bool split, SstCase *c,
                     char *form_buf, size_t n)
{
    c->decoded = sst_insn_decode(c->t, &c->insn);
    const char *form = file_form;
    /* A test that raised #UD may stop right after ModRM: reg is still known. */
    if (split && c->insn.has_modrm) {
        snprintf(form_buf, n, "%.20s.%u", file_form, c->insn.reg & 7u);
        form = form_buf;
    }
    SstFormInfo fi = sst_meta_form(meta, form);
    c->form = form;
    c->status = fi.status;
    /* FLAGS bits 12-15 are not compared in real mode (README). */
    c->flags_mask = fi.flags_mask & 0x0FFFu;
}

#ifndef SST_PARSE_ONLY
enum { OUT_PASS, OUT_FAIL, OUT_DIVERGENT };

/* Pass, fail or known divergence; *div is the entry that decided.
 *
 * A rule that says a 386+ MUST differ outranks one that says it MAY: when
 * a MUST rule applies, only a MUST rule can explain the test, and a test
 * that matches the 286 fails unless one of those rules gives the 286's
 * result too. */
static int classify(const SstCase *c, const SstResult *r, int *div, bool *must_missed)
{
    int must_applies = -1, must_explains = -1, may_explains = -1;
    for (size_t i = 0; i < sst_n_divergences && i < MAX_DIV; i++) {
        SstApplies a = sst_divergences[i].applies(c);
        if (a == SST_DIV_NO)
            continue;
        bool ex = sst_divergences[i].explains(c, r);
        if (a == SST_DIV_MUST) {
            if (must_applies < 0)
                must_applies = (int)i;
            if (ex && must_explains < 0)
                must_explains = (int)i;
        } else if (ex && may_explains < 0) {
            may_explains = (int)i;
        }
    }
    *must_missed = false;
    *div = -1;
    if (r->pass) {
        if (must_applies >= 0 && must_explains < 0) {
            *must_missed = true;
            *div = must_applies;
            return OUT_FAIL;
        }
        return OUT_PASS;
    }
    if (must_explains >= 0) {
        *div = must_explains;
        return OUT_DIVERGENT;
    }
    if (must_applies < 0 && may_explains >= 0) {
        *div = may_explains;
        return OUT_DIVERGENT;
    }
    *div = must_applies;
    return OUT_FAIL;
}

static void count_failure(Stats *s, const SstResult *r)
{
    for (int i = 0; i < MOO_NREGS; i++)
        if (r->reg_diff >> i & 1)
            s->reg[i]++;
    s->flag_bits |= r->flag_diff;
    if (r->mem_diff)
        s->mem++;
    if (r->bad & (SST_BAD_HALT | SST_BAD_SHUTDOWN))
        s->nohalt++;
    if (r->bad & (SST_BAD_HIGH | SST_BAD_SEGBASE | SST_BAD_MODE | SST_BAD_INPUT))
        s->invariant++;
    if (r->bad & SST_BAD_STRAY)
        s->stray++;
    if (r->vector >= 0)
        s->vector++;
}
#endif

/* Run (or parse) one file.  Returns 0, or -1 after a malformed file (the
 * tests before the error are counted). */
static int run_file(const Options *o, const SstMeta *meta, void *exec, const char *dir,
                    const char *fname, Stats *s, char *mnemonic, size_t mn_len, char *err,
                    size_t errlen)
{
    char path[4096], file_form[32];
    snprintf(path, sizeof(path), "%s/%s", dir, fname);
    snprintf(file_form, sizeof(file_form), "%.*s", (int)(strlen(fname) - 7), fname);
    bool split = sst_meta_has_reg_split(meta, file_form);
    const char *dump_form = NULL;
    long dump_index = -1;
    if (o->dump) {
        const char *colon = strchr(o->dump, ':');
        if (colon && (size_t)(colon - o->dump) == strlen(file_form) &&
            strncasecmp(o->dump, file_form, strlen(file_form)) == 0) {
            dump_form = file_form;
            dump_index = strtol(colon + 1, NULL, 10);
        }
    }

    MooReader rd;
    MooTest t;
    moo_test_init(&t);
    int rc = moo_open(&rd, path);
    if (rc == 0) {
        char form_buf[32];
        uint64_t pos = 0;
        while ((rc = moo_next(&rd, &t)) > 0) {
            uint64_t p = pos++;
            s->tests++;
            if (pos == 1) {
                snprintf(mnemonic, mn_len, "%s", rd.mnemonic);
                if (!mnemonic[0]) /* e.g. NOP: take the disassembly's first word */
                    snprintf(mnemonic, mn_len, "%.*s", (int)strcspn(t.name, " "), t.name);
            }
            if (t.has_hash && sst_meta_revoked(meta, t.hash)) {
                s->revoked++;
                continue;
            }
            SstCase c = {.t = &t};
            describe(meta, file_form, split, &c, form_buf, sizeof(form_buf));
            if (!c.decoded)
                s->undecoded++;
            else if (!t.has_excp && (t.n_bytes != c.insn.len + 1u || t.bytes[c.insn.len] != 0xF4))
                if (s->len_mismatch++ == 0 && o->parse_only)
                    printf("        #%u %s: decoded length %u, bytes %u\n", t.index, t.name,
                           c.insn.len, t.n_bytes);
            bool dumping = dump_form && (long)t.index == dump_index;
            if (dumping)
                dump_test(file_form, &t);
            if (o->parse_only)
                continue;
            if (dump_form ? !dumping : (p % o->stride) != 0)
                continue;
#ifndef SST_PARSE_ONLY
            SstExec *x = exec;
            SstResult r;
            sst_exec_run(x, &c, &r);
            int div;
            bool must_missed;
            int out = classify(&c, &r, &div, &must_missed);
            s->run++;
            if (out == OUT_PASS) {
                s->passed++;
            } else if (out == OUT_DIVERGENT) {
                s->divergent++;
                s->div[div]++;
            } else {
                s->failed++;
                count_failure(s, &r);
                if (must_missed)
                    s->must_missed++;
                char hex[128];
                hex_bytes(&t, hex, sizeof(hex));
                const char *why = must_missed ? " matches the 286, but a 386+ must differ: "
                                  : div >= 0  ? " and does not follow 386+ rule "
                                              : "";
                add_example(s, "#%u %s [%s]:%s%s%s", t.index, t.name, hex, r.detail, why,
                            div >= 0 ? sst_divergences[div].id : "");
            }
            if (dumping) {
                printf("  Kestrel:");
                for (int i = 0; i < MOO_NREGS; i++)
                    printf(" %s=%04X", moo_reg_names[i], r.regs[i]);
                printf("\n  %s:%s\n", out == OUT_PASS ? "pass" : out == OUT_DIVERGENT ? "divergent"
                                                                                   : "FAIL",
                       r.detail);
            }
            sst_exec_cleanup(x, &c);
#else
            (void)exec;
#endif
        }
    }
    if (rc < 0)
        snprintf(err, errlen, "%s", rd.err);
    moo_close(&rd);
    moo_test_free(&t);
    return rc < 0 ? -1 : 0;
}

static void merge(Stats *into, const Stats *s)
{
    into->tests += s->tests;
    into->run += s->run;
    into->passed += s->passed;
    into->failed += s->failed;
    into->revoked += s->revoked;
    into->divergent += s->divergent;
    into->must_missed += s->must_missed;
    into->undecoded += s->undecoded;
    into->len_mismatch += s->len_mismatch;
    for (int i = 0; i < MAX_DIV; i++)
        into->div[i] += s->div[i];
}

static void usage(void)
{
    fprintf(stderr, "usage: sst_runner [DIR] [--parse-only] [--stride N] [--form NAME]... "
                    "[--examples N] [--dump FORM:INDEX] [--quiet]\n");
}

static bool parse_uint(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > 100000000ul)
        return false;
    *out = (unsigned)v;
    return true;
}

static void print_statuses(const SstMeta *meta, const Options *o)
{
    /* Each status in metadata.json, and what the runner does with it. */
    printf("metadata statuses:");
    for (size_t i = 0; i < sst_meta_n_statuses(meta); i++)
        printf(" %s", sst_meta_status(meta, i));
    printf("\n");
    if (o->quiet)
        return;
    printf("  normal, alias, undocumented: run and compared (a 386+ decodes them as the 286 "
           "does: 82 = 80, F6/F7 /1 = TEST, /6 shifts = SHL, D6 = SALC)\n"
           "  undefined: run and compared (8F/C6/C7 /1-/7 in the 8F/C6/C7 files: #UD on the 286 "
           "and on a 386+)\n"
           "  fpu: run and compared on the integer state (D8 on a 286 without a coprocessor does "
           "nothing but fetch; a 386+ FPU changes no integer state either; see esc-limit)\n"
           "  prefix, extension: no file of their own (prefixes occur inside other forms' "
           "tests)\n"
           "  any other status: run and compared, and named on its form's line\n");
}

int main(int argc, char **argv)
{
    Options o = {.dir = SST_DEFAULT_DIR, .stride = 1, .examples = 3};
    const char *env = getenv("SST_STRIDE");
    if (env && *env && !parse_uint(env, &o.stride)) {
        fprintf(stderr, "sst: SST_STRIDE=%s is not a positive integer\n", env);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--parse-only") == 0) {
            o.parse_only = true;
        } else if (strcmp(a, "--quiet") == 0) {
            o.quiet = true;
        } else if (strcmp(a, "--stride") == 0 && i + 1 < argc) {
            if (!parse_uint(argv[++i], &o.stride)) {
                fprintf(stderr, "sst: --stride needs a positive integer\n");
                return 2;
            }
        } else if (strcmp(a, "--examples") == 0 && i + 1 < argc) {
            char *end;
            o.examples = (unsigned)strtoul(argv[++i], &end, 10);
        } else if (strcmp(a, "--form") == 0 && i + 1 < argc) {
            if (o.n_forms < sizeof(o.forms) / sizeof(o.forms[0]))
                o.forms[o.n_forms++] = argv[++i];
        } else if (strcmp(a, "--dump") == 0 && i + 1 < argc) {
            o.dump = argv[++i];
        } else if (a[0] == '-') {
            usage();
            return 2;
        } else {
            o.dir = a;
        }
    }
#ifdef SST_PARSE_ONLY
    o.parse_only = true;
#endif
    char dump_form[32];
    if (o.dump) {
        /* --dump FORM:INDEX runs that one test of that one form. */
        const char *colon = strchr(o.dump, ':');
        if (!colon || colon == o.dump || (size_t)(colon - o.dump) >= sizeof(dump_form)) {
            usage();
            return 2;
        }
        snprintf(dump_form, sizeof(dump_form), "%.*s", (int)(colon - o.dump), o.dump);
        o.forms[0] = dump_form;
        o.n_forms = 1;
    }

    struct stat st;
    if (stat(o.dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr,
                "sst: test directory %s not found: the SingleStepTests 80286 suite belongs in "
                "../shared/sst/80286 beside the source tree\n",
                o.dir);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    char err[512];
    SstMeta *meta = sst_meta_load(o.dir, err, sizeof(err));
    if (!meta) {
        fprintf(stderr, "sst: %s\n", err);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    char **files = NULL;
    int n_files = list_files(o.dir, &files);
    if (n_files <= 0) {
        fprintf(stderr, "sst: no *.MOO.gz files in %s\n", o.dir);
        printf("0 passed, 1 failed\n");
        sst_meta_free(meta);
        return 1;
    }

    print_statuses(meta, &o);
    printf("revocation list: %zu hashes\n", sst_meta_n_revoked(meta));
    if (o.stride > 1)
        printf("stride %u: running every %u%s test of each file\n", o.stride, o.stride,
               o.stride == 2 ? "nd" : o.stride == 3 ? "rd" : "th");

    void *exec = NULL;
#ifndef SST_PARSE_ONLY
    if (!o.parse_only) {
        exec = sst_exec_new(err, sizeof(err));
        if (!exec) {
            fprintf(stderr, "sst: %s\n", err);
            printf("0 passed, 1 failed\n");
            return 1;
        }
    }
#endif

    Stats total = {0};
    unsigned file_errors = 0, files_run = 0;
    double t0 = now();
    for (int fi = 0; fi < n_files; fi++) {
        const char *fname = files[fi];
        char form[32];
        snprintf(form, sizeof(form), "%.*s", (int)(strlen(fname) - 7), fname);
        if (!form_selected(&o, form))
            continue;
        files_run++;
        Stats s = {0};
        char mnemonic[32] = "";
        int rc = run_file(&o, meta, exec, o.dir, fname, &s, mnemonic, sizeof(mnemonic), err,
                          sizeof(err));
#ifndef SST_PARSE_ONLY
        if (exec && rc == 0) {
            /* Writes outside every test's bytes: find the tests that made
             * them by running the file again watching those addresses. */
            static uint32_t dirty[MAX_DIRTY];
            size_t nd = sst_exec_sweep(exec, dirty, MAX_DIRTY);
            if (nd) {
                free_examples(&s);
                Stats again = {0};
                sst_exec_watch(exec, dirty, nd < MAX_DIRTY ? nd : MAX_DIRTY);
                rc = run_file(&o, meta, exec, o.dir, fname, &again, mnemonic,
                              sizeof(mnemonic), err, sizeof(err));
                sst_exec_watch(exec, NULL, 0);
                s = again;
                s.stray_bytes = nd;
                size_t left = sst_exec_sweep(exec, dirty, MAX_DIRTY);
                if (left) {
                    printf("%-7s stray writes no test accounts for: %zu bytes (first at %05X)\n",
                           form, left, dirty[0]);
                    file_errors++;
                }
            }
        }
#endif
        SstFormInfo info = sst_meta_form(meta, form);
        bool split = sst_meta_has_reg_split(meta, form);
        if (o.parse_only) {
            printf("%-7s %-8s %6llu tests", form, mnemonic, (unsigned long long)s.tests);
        } else {
            printf("%-7s %-8s %llu/%llu", form, mnemonic, (unsigned long long)s.passed,
                   (unsigned long long)s.run);
#ifndef SST_PARSE_ONLY
            if (s.divergent) {
                printf("  (%llu differ as a 386+ must:", (unsigned long long)s.divergent);
                const char *sep = " ";
                for (size_t i = 0; i < sst_n_divergences && i < MAX_DIV; i++) {
                    if (s.div[i]) {
                        printf("%s%s %llu", sep, sst_divergences[i].id,
                               (unsigned long long)s.div[i]);
                        sep = ", ";
                    }
                }
                printf(")");
            }
#endif
            if (s.failed)
                printf("  FAILED %llu", (unsigned long long)s.failed);
        }
        if (s.revoked)
            printf("  (%llu revoked)", (unsigned long long)s.revoked);
        if (s.stray_bytes)
            printf("  (ran twice to find who wrote %llu stray bytes)",
                   (unsigned long long)s.stray_bytes);
        if (!info.known && !split)
            printf("  [not in metadata.json]");
        else if (!split && strcmp(info.status, "normal") != 0)
            printf("  [%s]", info.status);
        else if (split)
            printf("  [split by ModRM reg]");
        if (s.undecoded)
            printf("  (%llu not decoded by the runner)", (unsigned long long)s.undecoded);
        printf("\n");
#ifndef SST_PARSE_ONLY
        if (s.failed && !o.quiet) {
            printf("        differs:");
            for (int i = 0; i < MOO_NREGS; i++)
                if (s.reg[i])
                    printf(" %s x%llu", moo_reg_names[i], (unsigned long long)s.reg[i]);
            if (s.flag_bits) {
                static const char *const fn[16] = {"CF", "b1", "PF", "b3", "AF", "b5",
                                                   "ZF", "SF", "TF", "IF", "DF", "OF",
                                                   "", "", "", ""};
                printf(" (flag bits:");
                for (int i = 0; i < 12; i++)
                    if (s.flag_bits >> i & 1)
                        printf(" %s", fn[i]);
                printf(")");
            }
            if (s.mem)
                printf(" memory x%llu", (unsigned long long)s.mem);
            if (s.nohalt)
                printf(" no-HLT x%llu", (unsigned long long)s.nohalt);
            if (s.vector)
                printf(" wrong-vector x%llu", (unsigned long long)s.vector);
            if (s.stray)
                printf(" stray-write x%llu", (unsigned long long)s.stray);
            if (s.invariant)
                printf(" invariant x%llu", (unsigned long long)s.invariant);
            if (s.must_missed)
                printf(" 286-where-386-must-differ x%llu", (unsigned long long)s.must_missed);
            printf("\n");
            for (unsigned i = 0; i < s.n_examples && i < o.examples; i++)
                printf("        %s\n", s.examples[i]);
        }
#endif
        free_examples(&s);
        if (rc < 0) {
            printf("%-7s ERROR: %s\n", form, err);
            file_errors++;
        }
        merge(&total, &s);
        fflush(stdout);
    }
    double secs = now() - t0;

    if (total.revoked)
        printf("revoked: %llu tests skipped (hash in revocation_list.txt or tests/sst/bad_captures.txt)\n",
               (unsigned long long)total.revoked);
    else
        printf("revoked: 0 tests (the revocation list names none of them)\n");
    if (total.len_mismatch)
        printf("note: %llu tests without an exception whose bytes are not the decoded "
               "instruction plus HLT\n",
               (unsigned long long)total.len_mismatch);
    if (total.undecoded)
        printf("note: %llu tests whose bytes the runner's decoder did not take apart (run all "
               "the same; no divergence rule applies to them)\n",
               (unsigned long long)total.undecoded);

    int status;
    if (o.parse_only) {
        printf("parsed %llu tests in %u files in %.1f s\n", (unsigned long long)total.tests,
               files_run, secs);
        printf("%u passed, %u failed\n", files_run - file_errors, file_errors);
        status = file_errors ? 1 : 0;
    } else {
#ifndef SST_PARSE_ONLY
        printf("ran %llu of %llu tests from %u files in %.1f s (%.0f tests/s)\n",
               (unsigned long long)total.run, (unsigned long long)total.tests, files_run, secs,
               secs > 0 ? (double)total.run / secs : 0.0);
        printf("known divergences (where a 386+ must, or by the manuals may, differ from the 286):\n");
        for (size_t i = 0; i < sst_n_divergences && i < MAX_DIV; i++)
            printf("  %-10s %7llu  %s [%s]\n", sst_divergences[i].id,
                   (unsigned long long)total.div[i], sst_divergences[i].what,
                   sst_divergences[i].reason);
        printf("%llu tests differ as a 386+ CPU must (see list)\n",
               (unsigned long long)total.divergent);
        printf("%llu passed, %llu failed\n", (unsigned long long)total.passed,
               (unsigned long long)(total.failed + file_errors));
        status = (total.failed || file_errors) ? 1 : 0;
        sst_exec_free(exec);
#else
        status = 1;
#endif
    }
    for (int i = 0; i < n_files; i++)
        free(files[i]);
    free(files);
    sst_meta_free(meta);
    return status;
}
