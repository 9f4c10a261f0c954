/* GDB remote stub: placeholder until the stub lands. */
#include "frontends/gdbstub.h"

#include <stdio.h>

int gdbstub_run(Machine *m, int port, bool paused)
{
    (void)m;
    (void)paused;
    fprintf(stderr, "kestrel: the gdb stub (port %d) is not implemented yet\n", port);
    return 1;
}
