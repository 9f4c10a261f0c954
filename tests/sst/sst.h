/* SingleStepTests 80286 runner: types shared by its files.
 *
 *   moo.c          reads the MOO test files
 *   sst_meta.c     metadata.json (status, flags-mask per form), revocation list
 *   sst_insn.c     a small 16-bit decoder for the runner's own use (prefixes,
 *                  ModRM, effective address): classification, never execution
 *   sst_exec.c     runs one test on Kestrel and compares (the only file that
 *                  includes the CPU)
 *   divergences.c  the known ways a 386-or-later CPU must differ from the 286
 *   sst_runner.c   main: files, counting, report
 */
#ifndef KESTREL_TESTS_SST_H
#define KESTREL_TESTS_SST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moo.h"

/* ---- memory picture used for every test -------------------------------- */

/* Highest physical address real mode reaches with A20 enabled: FFFF:FFFF. */
#define SST_PHYS_LIMIT 0x10FFF0u
#define SST_RAM_SIZE (16u << 20)

/* Memory the test does not list is "don't care" for the 286, so the runner
 * fills it with HLT (F4): a CPU that jumps or faults somewhere the 286 did
 * not stops at once instead of running through random bytes.  The IVT
 * entries the test does not list point vector v at SST_STUB_SEG:v, so the
 * final CS:IP names the vector Kestrel delivered. */
#define SST_FILL 0xF4u
#define SST_STUB_SEG 0x1000u
#define SST_MAX_STRAY 8

/* ---- metadata ------------------------------------------------------------ */

typedef struct SstFormInfo {
    const char *status; /* "normal", "alias", "undocumented", "undefined", "fpu", ... */
    uint16_t flags_mask; /* from metadata; 0xFFFF when the form has none */
    bool known;          /* the form is in metadata.json */
} SstFormInfo;

typedef struct SstMeta SstMeta;

/* Returns NULL and fills err on failure. */
SstMeta *sst_meta_load(const char *dir, char *err, size_t errlen);
void sst_meta_free(SstMeta *m);
/* Form names as in the file names: "00", "80.7", "0F01.3". */
SstFormInfo sst_meta_form(const SstMeta *m, const char *form);
/* True when metadata splits this opcode by ModRM reg ("8F" -> "8F.0".."8F.7"). */
bool sst_meta_has_reg_split(const SstMeta *m, const char *opcode);
/* Revocation list. */
bool sst_meta_revoked(const SstMeta *m, const uint8_t hash[20]);
size_t sst_meta_n_revoked(const SstMeta *m);
/* Distinct statuses, for the report. */
size_t sst_meta_n_statuses(const SstMeta *m);
const char *sst_meta_status(const SstMeta *m, size_t i);

/* ---- decoded instruction --------------------------------------------------- */

enum { SST_SEG_ES, SST_SEG_CS, SST_SEG_SS, SST_SEG_DS, SST_SEG_NONE = -1 };

typedef struct SstInsn {
    uint8_t bytes[16];   /* memory at CS:IP as the test began */
    uint8_t len;         /* instruction length, prefixes included */
    uint8_t n_prefix;
    bool lock, rep;
    int seg_override;    /* SST_SEG_* or SST_SEG_NONE; the last one wins */
    uint8_t op;          /* first opcode byte after the prefixes */
    uint8_t op2;         /* second byte after 0F */
    bool has_modrm;
    uint8_t mod, reg, rm;
    bool mem;            /* ModRM names memory (mod != 3) */
    int mem_seg;         /* segment of that memory operand (override or default) */
    uint16_t ea;         /* its offset, from the initial registers */
    uint8_t imm_at;      /* immediate: bytes[imm_at], n_imm bytes */
    uint8_t n_imm;
} SstInsn;

/* Decode the instruction at the test's CS:IP.  Returns false when the
 * bytes do not form an instruction (the runner still runs the test). */
bool sst_insn_decode(const MooTest *t, SstInsn *d);
/* The instruction touches the stack implicitly (PUSH, CALL, INT, ...). */
bool sst_insn_uses_stack(const SstInsn *d);
/* Memory operands other than ModRM: string instructions, XLAT, moffs. */
bool sst_insn_other_mem(const SstInsn *d, bool *ss_possible);

/* ---- one test ---------------------------------------------------------- */

typedef struct SstCase {
    const MooTest *t;
    const char *form;    /* per-test form: "8F.3" for a test in 8F.MOO.gz */
    const char *status;
    uint16_t flags_mask; /* metadata mask with bits 12-15 cleared too */
    bool decoded;
    SstInsn insn;
} SstCase;

/* Outcome of running one test on Kestrel, compared against the capture. */
enum {
    SST_BAD_HALT = 1u << 0,   /* did not reach a HLT */
    SST_BAD_SHUTDOWN = 1u << 1,
    SST_BAD_HIGH = 1u << 2,   /* upper halves of 32-bit registers not zero */
    SST_BAD_SEGBASE = 1u << 3, /* a segment base is not selector * 16 */
    SST_BAD_MODE = 1u << 4,   /* left real mode */
    SST_BAD_STRAY = 1u << 5,  /* wrote memory the 286 did not */
    SST_BAD_INPUT = 1u << 6,  /* the test names an address outside RAM */
};

typedef struct SstResult {
    bool pass;
    uint16_t regs[MOO_NREGS]; /* Kestrel's final 16-bit registers */
    uint16_t want[MOO_NREGS]; /* the capture's final registers */
    uint16_t reg_diff;        /* bit MOO_x: register x differs (FLAGS after masking) */
    uint16_t flag_diff;       /* differing FLAGS bits, after masking */
    uint32_t mem_diff;        /* listed bytes that differ */
    uint32_t bad;             /* SST_BAD_* */
    unsigned steps;
    int vector;               /* vector whose default stub Kestrel halted in, or -1 */
    uint32_t stray[SST_MAX_STRAY];        /* bytes written that the test does not list (first few) */
    uint32_t n_stray;
    const uint8_t *ram;       /* Kestrel's memory after the test */
    char detail[400];         /* first differences, for the report */
} SstResult;

/* Byte of memory as the test began (INIT value, else the fill/IVT picture). */
uint8_t sst_initial_byte(const MooTest *t, uint32_t addr);
/* Far pointer of vector v as the test began. */
void sst_initial_ivt(const MooTest *t, unsigned v, uint16_t *cs, uint16_t *ip);
/* Initial value of segment register SST_SEG_x. */
uint16_t sst_seg_value(const MooTest *t, int seg);
/* Physical address of seg:off. */
static inline uint32_t sst_phys(uint16_t seg, uint16_t off) { return ((uint32_t)seg << 4) + off; }

/* ---- known divergences ----------------------------------------------------- */

typedef enum SstApplies {
    SST_DIV_NO = 0,
    SST_DIV_MAY,  /* a 386+ may differ here; matching the 286 is fine too */
    SST_DIV_MUST, /* a 386+ must differ: matching the 286 is a Kestrel bug */
} SstApplies;

typedef struct SstDivergence {
    const char *id;
    const char *what;   /* one line for the report */
    const char *reason; /* the manuals' words, cited */
    SstApplies (*applies)(const SstCase *c);
    /* Kestrel's result is what the 386+ rule prescribes. */
    bool (*explains)(const SstCase *c, const SstResult *r);
} SstDivergence;

extern const SstDivergence sst_divergences[];
extern const size_t sst_n_divergences;

#endif
