/* libFuzzer entry for the gdb protocol layer: each input is the byte stream
 * a hostile peer sends (built only with clang, see meson.build). */
#include "tests/gdb/fuzz_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_one(data, size);
    return 0;
}
