/* The gdb protocol layer (gdb_packet.c + gdb_cmd.c) under fuzzing: a fake
 * target that checks how the dispatcher uses it, and one fuzz input run as
 * a byte stream from a hostile peer.  Shared by the deterministic replay
 * (fuzz_replay.c, any compiler) and the libFuzzer entry (fuzz_libfuzzer.c,
 * clang). */
#ifndef KESTREL_TESTS_GDB_FUZZ_CORE_H
#define KESTREL_TESTS_GDB_FUZZ_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "frontends/gdb_cmd.h"

/* Mapped memory of the fake target: a window low in the address space and
 * the last page below 4 GiB (to catch address wrap-around). */
#define FAKE_MEM_BASE 0x1000u
#define FAKE_MEM_SIZE 0x4000u
#define FAKE_HIGH_BASE 0xFFFFF000u
#define FAKE_MAX_BPS 8 /* small, so "table full" paths run */
#define FAKE_MAX_WPS 4

typedef struct FakeTarget {
    /* Register r: gdb_i386_reg_bytes(r) little-endian bytes, each r at
     * the start.  unavailable_reg (-1: none) reads as unavailable;
     * write_seq[r] is the order number of r's last write (0: never). */
    uint8_t regs[GDB_NUM_REGS][GDB_REG_MAX_BYTES];
    int unavailable_reg;
    unsigned writes;
    unsigned write_seq[GDB_NUM_REGS];
    uint8_t mem[FAKE_MEM_SIZE];
    uint8_t high[0x1000];
    uint32_t bps[FAKE_MAX_BPS];
    int n_bps;
    GdbWp wps[FAKE_MAX_WPS];
    int n_wps;
} FakeTarget;

extern const GdbTargetOps fake_target_ops;
void fake_target_init(FakeTarget *t);

/* Statistics over all runs. */
typedef struct FuzzStats {
    uint64_t packets, replies, resumes, bad, oversize, interrupts;
} FuzzStats;
extern FuzzStats fuzz_stats;
/* Printed with a broken invariant (the replay puts its seed here). */
extern char fuzz_note[160];

/* Feed `data` byte by byte through the framer and dispatch every packet
 * against a fresh fake target, checking the invariants; an invariant that
 * fails prints what and aborts. */
void fuzz_one(const uint8_t *data, size_t len);

#endif
