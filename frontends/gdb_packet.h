/* GDB remote serial protocol: packet framing, hex and binary escaping.
 *
 * Pure functions on byte buffers (no sockets, no machine) so that the
 * fuzzers in tests/gdb/ can drive them directly.  Framing follows the GDB
 * manual, appendix "Remote Protocol", sections "Overview" (the $...#cs
 * frame, the '}' escape, '+'/'-' acknowledgments) and "Interrupts" (a bare
 * 0x03 byte between packets). */
#ifndef KESTREL_FRONTENDS_GDB_PACKET_H
#define KESTREL_FRONTENDS_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest packet payload (between '$' and '#') accepted or sent.  It is
 * what qSupported advertises as PacketSize, so gdb never sends more; a peer
 * that does gets its packet dropped with an error reply. */
#define GDB_PACKET_SIZE 0x4000

typedef enum GdbEvent {
    GDB_EV_NONE,      /* byte consumed, nothing complete yet */
    GDB_EV_PACKET,    /* a packet with a good checksum: f->pkt[0 .. f->len) */
    GDB_EV_BAD,       /* a packet with a bad checksum: answer '-' in ack mode */
    GDB_EV_OVERSIZE,  /* a well-formed packet longer than GDB_PACKET_SIZE: dropped */
    GDB_EV_INTERRUPT, /* 0x03 between packets (Ctrl-C) */
    GDB_EV_ACK,       /* '+' between packets */
    GDB_EV_NAK,       /* '-' between packets: resend the last reply */
} GdbEvent;

typedef struct GdbFramer {
    int state;
    uint8_t sum;     /* running checksum of the payload */
    uint8_t csum_hi; /* first checksum digit's value, or 0xFF if not hex */
    bool oversize;   /* the payload overflowed: it is being discarded */
    size_t len;
    uint8_t pkt[GDB_PACKET_SIZE + 1]; /* payload, NUL-terminated for convenience */
} GdbFramer;

void gdb_framer_init(GdbFramer *f);
/* Consume one byte from the peer.  After GDB_EV_PACKET the payload stays in
 * f->pkt until the next call. */
GdbEvent gdb_framer_feed(GdbFramer *f, uint8_t byte);

/* Frame `payload` as $payload#cs into `out`; returns the frame length, or 0
 * if it does not fit in `cap`.  The payload must already be escaped where
 * the packet carries binary data. */
size_t gdb_frame(const uint8_t *payload, size_t len, uint8_t *out, size_t cap);

/* Value of a hex digit, or -1. */
int gdb_hex_digit(uint8_t c);
/* Parse hex digits at *p (at most 16 significant, leading zeros free);
 * stops at the first non-hex byte or `end`.  Returns false if there are no
 * digits or the value does not fit in 64 bits.  Advances *p. */
bool gdb_parse_hex(const uint8_t **p, const uint8_t *end, uint64_t *out);
/* Decode 2*n hex digits into n bytes; false on a non-hex digit. */
bool gdb_hex_decode(const uint8_t *hex, size_t n, uint8_t *out);
/* Encode n bytes as 2*n lowercase hex digits. */
void gdb_hex_encode(const uint8_t *in, size_t n, uint8_t *out);

/* Undo the binary escape ('}' then the byte XOR 0x20) in place; returns the
 * decoded length, or -1 if the data ends inside an escape. */
long gdb_unescape(uint8_t *buf, size_t len);
/* Escape as much of in[0 .. n) as fits in `cap` bytes of `out`, escaping
 * '#', '$', '}' and '*' (the last so gdb never reads a run-length code).
 * Returns the bytes written; *consumed says how many input bytes they hold. */
size_t gdb_escape(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *consumed);

#endif
