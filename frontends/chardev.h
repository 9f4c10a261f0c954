/* Character devices: where a serial port's (or the debug console's) bytes
 * go and where its input comes from, spelled as QEMU spells them:
 *
 *   stdio                 the terminal (output: stdout; input: stdin once
 *                         attached to a port); mon:stdio is the same, as
 *                         Kestrel has no monitor to multiplex
 *   null, none            nothing
 *   file:PATH             output to a file (truncated), no input
 *   tcp:HOST:PORT[,server][,wait|,nowait][,nodelay]
 *   telnet:HOST:PORT[,server][,wait|,nowait][,nodelay]
 *   unix:PATH[,server][,wait|,nowait]
 *   pty                   a new pseudo-terminal, announced on stderr as
 *                         "char device redirected to /dev/pts/N (label L)"
 *
 * Sockets (the QEMU semantics, and what Kestrel chooses where QEMU leaves
 * room):
 *   - `server` listens on HOST:PORT (an empty HOST is every IPv4 interface,
 *     0.0.0.0, as QEMU; [::] for IPv6; port 0 picks a free one, shown in
 *     the waiting message).  Without `nowait` Kestrel announces
 *     "waiting for connection on ..." on stderr and does not start the
 *     guest until the first client connects; with `nowait` the guest
 *     starts at once and its output is dropped until a client connects.
 *     One client at a time: when it disconnects the server accepts again
 *     (a second client waits in the listen backlog meanwhile).  A unix
 *     server replaces a stale socket file at PATH and removes it at exit.
 *   - without `server`, Kestrel connects to HOST:PORT (empty HOST: the
 *     loopback) at start-up; when that peer disconnects the device stays
 *     disconnected (QEMU without reconnect=).
 *   - guest output never blocks emulation: sockets are non-blocking, what
 *     the socket does not take at once waits in a 64 KiB buffer flushed
 *     between slices, and bytes beyond that are dropped.  At exit the
 *     buffer gets up to half a second to drain.
 *   - input is read only as far as the UART has room
 *     (machine_serial_room); the rest stays in the socket.
 *   - telnet: a server sends IAC WILL ECHO, WILL SUPPRESS-GO-AHEAD, WILL
 *     BINARY, DO BINARY on connect (QEMU's four) so a telnet client goes
 *     to character mode; IAC sequences are stripped from input (IAC IAC is
 *     a 0xFF data byte) and 0xFF in output is sent as IAC IAC.
 *
 * The core never sees any of this: a device gets a FILE * (MachineConfig)
 * whose writes land here, and input moves to the UART through
 * machine_serial_input() when the frontend calls chardev_poll(). */
#ifndef KESTREL_FRONTENDS_CHARDEV_H
#define KESTREL_FRONTENDS_CHARDEV_H

#include <stdbool.h>
#include <stdio.h>

#include "machine/machine.h"

typedef struct Chardev Chardev;

/* Parse and open SPEC for the device called LABEL ("serial0", "debugcon").
 * Sockets are bound or connected here, so a bad address fails before the
 * guest is built.  On failure returns NULL with a one-line reason in err. */
Chardev *chardev_open(const char *spec, const char *label, char *err, size_t errlen);

/* Where the device's output goes: NULL discards. */
FILE *chardev_file(const Chardev *cd);
bool chardev_is_stdio(const Chardev *cd);

/* Send the device's input to COMn (0-3) of m.  For stdio this also puts a
 * terminal on stdin in raw mode (restored by chardev_close). */
void chardev_attach_serial(Chardev *cd, Machine *m, int port);

/* A server without nowait: wait for the first client.  Returns 0 once
 * connected (at once for other devices), -1 if *stop became non-zero
 * (a signal) first. */
int chardev_wait_client(Chardev *cd, volatile int *stop);

/* Whether the device needs chardev_poll() between slices (a socket to
 * accept on or flush, input to read). */
bool chardev_needs_poll(const Chardev *cd);
/* Whether input can still reach an attached port (so a halted guest may
 * yet be woken by it). */
bool chardev_can_input(const Chardev *cd);

/* Wait up to timeout_ms (0: just look; -1: until something happens) for
 * any of the n devices, then accept clients, flush buffered output and
 * move input to the attached ports.  Returns how many bytes went to the
 * ports. */
size_t chardev_poll(Chardev *const *cds, int n, int timeout_ms);

/* Flush (briefly), close and free; NULL is fine. */
void chardev_close(Chardev *cd);

#endif
