/* GDB remote serial protocol stub. */
#ifndef KESTREL_FRONTENDS_GDBSTUB_H
#define KESTREL_FRONTENDS_GDBSTUB_H

#include "machine/machine.h"

/* Listen on loopback `port`, serve one gdb connection and run the machine
 * under its control; `paused` holds the CPU until gdb continues it.
 * `poll_devices` (may be NULL) is called with `opaque` between run slices
 * and while waiting, so that the frontend's character devices keep moving
 * input and output.  Returns the process exit status. */
int gdbstub_run(Machine *m, int port, bool paused, void (*poll_devices)(void *opaque),
                void *opaque);

#endif
