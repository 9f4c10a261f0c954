/* GDB remote serial protocol stub. */
#ifndef KESTREL_FRONTENDS_GDBSTUB_H
#define KESTREL_FRONTENDS_GDBSTUB_H

#include "machine/machine.h"

/* Listen on loopback `port`, serve one gdb connection and run the machine
 * under its control; `paused` holds the CPU until gdb continues it.
 * Returns the process exit status. */
int gdbstub_run(Machine *m, int port, bool paused);

#endif
