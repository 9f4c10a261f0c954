/* GDB remote serial protocol: the command dispatcher.
 *
 * gdb_dispatch() takes one packet payload and produces the reply and what
 * the stub must do next (keep talking, resume, step, detach, kill), acting
 * on the target only through GdbTargetOps.  It owns no socket and no
 * machine, so tests/gdb/ fuzzes it against a fake target.  Packet meanings
 * are those of the GDB manual, appendix "Remote Protocol" ("Packets",
 * "Stop Reply Packets", "General Query Packets"). */
#ifndef KESTREL_FRONTENDS_GDB_CMD_H
#define KESTREL_FRONTENDS_GDB_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frontends/gdb_i386.h"
#include "frontends/gdb_packet.h"

/* Watchpoint kinds, as Z2 / Z3 / Z4 ask for them. */
enum { GDB_WATCH_WRITE = 1, GDB_WATCH_READ = 2, GDB_WATCH_ACCESS = 3 };

/* GDB's signal numbers (include/gdb/signals.def), not the host's. */
enum { GDB_SIGINT = 2, GDB_SIGTRAP = 5 };

/* What the dispatcher may do to the target.  Addresses are linear. */
typedef struct GdbTargetOps {
    /* Register r (a GdbReg) as gdb_i386_reg_bytes(r) little-endian bytes;
     * false if it is unavailable (reported as 'x' digits). */
    bool (*reg_read)(void *t, int r, uint8_t *buf);
    /* Set register r; false if refused (read-only, or impossible). */
    bool (*reg_write)(void *t, int r, const uint8_t *buf);
    /* Read len bytes at addr (addr + len <= 4 GiB); returns how many bytes
     * from the start could be read (fewer at the first unmapped one). */
    uint32_t (*mem_read)(void *t, uint32_t addr, uint8_t *buf, uint32_t len);
    bool (*mem_write)(void *t, uint32_t addr, const uint8_t *buf, uint32_t len);
    /* Instruction breakpoints (one per address; the session counts Z0 and
     * Z1 at the same address) and data watchpoints.  False when full. */
    bool (*bp_insert)(void *t, uint32_t addr);
    bool (*bp_remove)(void *t, uint32_t addr);
    bool (*watch_insert)(void *t, uint32_t addr, uint32_t len, int kind);
    bool (*watch_remove)(void *t, uint32_t addr, uint32_t len, int kind);
} GdbTargetOps;

typedef enum GdbStopKind {
    GDB_STOP_SIGNAL,     /* stopped with `signal` (T packet) */
    GDB_STOP_EXITED,     /* the guest exited with `status` (W packet) */
    GDB_STOP_TERMINATED, /* the run ended by `signal` (X packet) */
} GdbStopKind;

typedef struct GdbStop {
    GdbStopKind kind;
    int signal;
    int status;
    bool breakpoint; /* stopped before the instruction at bp_addr */
    uint32_t bp_addr;
    int watch_kind; /* GDB_WATCH_* of the watchpoint hit, 0 if none */
    uint32_t watch_addr;
} GdbStop;

typedef struct GdbReply {
    bool send;     /* false: nothing to send (the k packet) */
    bool overflow; /* a Kestrel bug: the reply did not fit */
    size_t len;
    uint8_t data[GDB_PACKET_SIZE];
} GdbReply;

typedef enum GdbAction {
    GDB_ACT_REPLY,    /* send the reply and wait for the next packet */
    GDB_ACT_CONTINUE, /* resume; the reply is the stop reply, later */
    GDB_ACT_STEP,     /* execute one instruction, then send a stop reply */
    GDB_ACT_DETACH,   /* send the reply (OK), drop breakpoints, let the guest run */
    GDB_ACT_KILL,     /* send the reply if any, then end Kestrel */
} GdbAction;

#define GDB_MAX_BPS 128
#define GDB_MAX_WATCHES 32
#define GDB_XML_MAX 8192

typedef struct GdbBp {
    uint32_t addr;
    uint8_t type; /* 0 software (Z0), 1 hardware (Z1) */
} GdbBp;

typedef struct GdbWp {
    uint32_t addr, len;
    uint8_t kind; /* GDB_WATCH_* */
} GdbWp;

typedef struct GdbSession {
    const GdbTargetOps *ops;
    void *t;
    bool no_ack;       /* QStartNoAckMode accepted */
    bool peer_swbreak; /* gdb understands the swbreak / hwbreak stop reasons */
    bool peer_hwbreak;
    GdbStop last_stop; /* answer to '?' */
    GdbBp bps[GDB_MAX_BPS];
    int n_bps;
    GdbWp wps[GDB_MAX_WATCHES];
    int n_wps;
    unsigned internal_errors; /* replies that overflowed (must stay 0) */
    size_t xml_len;
    char xml[GDB_XML_MAX];
    uint8_t scratch[GDB_PACKET_SIZE];
} GdbSession;

/* Start a session (a new connection) on a target; the guest is stopped. */
void gdb_session_init(GdbSession *s, const GdbTargetOps *ops, void *t);
/* Remove every breakpoint and watchpoint the session inserted (detach,
 * lost connection). */
void gdb_session_clear_points(GdbSession *s);

/* Handle one packet payload (any bytes).  For CONTINUE and STEP the caller
 * resumes and later calls gdb_stop_reply(). */
GdbAction gdb_dispatch(GdbSession *s, const uint8_t *pkt, size_t len, GdbReply *r);

/* Format the stop reply for `st` into r and remember it for '?'. */
void gdb_stop_reply(GdbSession *s, const GdbStop *st, GdbReply *r);

#endif
