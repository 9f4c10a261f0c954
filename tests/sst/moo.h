/* Streaming reader for SingleStepTests MOO files (gzip-compressed).
 *
 * The format is described in ../shared/sst/README.md: a stream of chunks,
 * each a 4-byte ASCII tag, a little-endian u32 length and that many bytes.
 * The first chunk is `MOO ` (version, test count, CPU name), then `META`,
 * then one `TEST` chunk per test with nested sub-chunks.  Unknown chunks are
 * skipped at every level.  The file is input: every length is checked
 * against the bytes that hold it, and a malformed file gives an error
 * message, never an out-of-bounds access.
 */
#ifndef KESTREL_TESTS_SST_MOO_H
#define KESTREL_TESTS_SST_MOO_H

#include <stdbool.h>
#include <stdint.h>

/* Register order of the REGS bitmask (bit 0 = ax). */
enum {
    MOO_AX, MOO_BX, MOO_CX, MOO_DX, MOO_CS, MOO_SS, MOO_DS, MOO_ES,
    MOO_SP, MOO_BP, MOO_SI, MOO_DI, MOO_IP, MOO_FLAGS, MOO_NREGS
};

extern const char *const moo_reg_names[MOO_NREGS];

/* The longest instruction byte string accepted (a 286 instruction is at
 * most 10 bytes, the captures add the HLT that follows; the margin lets a
 * runner see and report an over-long one instead of refusing the file). */
#define MOO_MAX_BYTES 64

typedef struct MooRegs {
    uint16_t mask; /* bit i set: v[i] is given */
    uint16_t v[MOO_NREGS];
} MooRegs;

typedef struct MooRam {
    uint32_t addr;
    uint8_t val;
} MooRam;

typedef struct MooRamList {
    MooRam *e;
    uint32_t n, cap;
} MooRamList;

typedef struct MooTest {
    uint32_t index;
    char *name; /* NUL-terminated disassembly; "" when absent */
    uint32_t name_cap;
    uint8_t bytes[MOO_MAX_BYTES];
    uint32_t n_bytes;
    MooRegs init, fina;
    MooRamList init_ram, fina_ram;
    bool has_excp;
    uint8_t excp;             /* exception vector */
    uint32_t excp_flags_addr; /* physical address of the pushed FLAGS */
    bool has_hash;
    uint8_t hash[20];
} MooTest;

typedef struct MooReader {
    void *gz;          /* gzFile */
    const char *path;  /* for messages; not owned */
    uint8_t version;
    uint32_t count;    /* tests announced by the MOO chunk */
    uint32_t seen;     /* tests returned so far */
    char cpu[5];
    char mnemonic[16]; /* from META, trimmed; may be "" */
    uint8_t *buf;      /* body of the current chunk */
    uint32_t buf_cap;
    char err[256];
} MooReader;

/* Open and read the header chunks.  Returns 0, or -1 with r->err set. */
int moo_open(MooReader *r, const char *path);
/* Read the next test into t (whose buffers are reused).  Returns 1 for a
 * test, 0 at a clean end of file, -1 with r->err set on a malformed file. */
int moo_next(MooReader *r, MooTest *t);
void moo_close(MooReader *r);

void moo_test_init(MooTest *t);
void moo_test_free(MooTest *t);

#endif
