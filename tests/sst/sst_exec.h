/* Running SingleStepTests cases on Kestrel (sst_exec.c). */
#ifndef KESTREL_TESTS_SST_EXEC_H
#define KESTREL_TESTS_SST_EXEC_H

#include "sst.h"

typedef struct SstExec SstExec;

SstExec *sst_exec_new(char *err, size_t errlen);
void sst_exec_free(SstExec *x);
/* Run one test and compare; r->ram shows Kestrel's memory until cleanup. */
void sst_exec_run(SstExec *x, const SstCase *c, SstResult *r);
/* Put back every byte the test could have touched. */
void sst_exec_cleanup(SstExec *x, const SstCase *c);
/* Extra addresses to check for stray writes after every test (NULL: none). */
void sst_exec_watch(SstExec *x, const uint32_t *addrs, size_t n);
/* Find bytes that differ from the starting picture (writes no test
 * accounted for), restore them, and return how many there were; the first
 * `max` addresses go to dirty. */
size_t sst_exec_sweep(SstExec *x, uint32_t *dirty, size_t max);
const uint8_t *sst_exec_ram(const SstExec *x);

#endif
