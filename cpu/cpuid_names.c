/* The names Linux gives the CPUID feature bits in /proc/cpuinfo
 * (arch/x86/include/asm/cpufeatures.h), for the boot tests to compare the
 * guest's view with what Kestrel advertises. */
#include <string.h>

#include "cpu/cpu_impl.h"

static const char *const leaf1_edx[32] = {
    "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", NULL, "sep",
    "mtrr", "pge", "mca", "cmov", "pat", "pse36", "pn", "clflush", NULL, "dts", "acpi", "mmx",
    "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe",
};
static const char *const leaf1_ecx[32] = {
    "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est", "tm2", "ssse3",
    "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm", NULL, "pcid", "dca", "sse4_1", "sse4_2",
    "x2apic", "movbe", "popcnt", "tsc_deadline_timer", "aes", "xsave", NULL, "avx", "f16c",
    "rdrand", "hypervisor",
};
static const char *const ext1_edx[32] = {
    [11] = "syscall", [19] = "mp", [20] = "nx", [22] = "mmxext", [25] = "fxsr_opt",
    [26] = "pdpe1gb", [27] = "rdtscp", [29] = "lm", [30] = "3dnowext", [31] = "3dnow",
};

static void add_names(char *out, size_t cap, uint32_t bits, const char *const names[32])
{
    for (int b = 0; b < 32; b++) {
        if (!(bits & (1u << b)) || !names[b])
            continue;
        size_t n = strlen(out);
        if (n + strlen(names[b]) + 2 > cap)
            return;
        if (n)
            strcat(out, " ");
        strcat(out, names[b]);
    }
}

void cpu_feature_names(CpuState *c, bool all, char *out, size_t cap)
{
    uint32_t r[4];
    out[0] = 0;
    if (all) {
        add_names(out, cap, ~0u, leaf1_edx);
        add_names(out, cap, ~0u, leaf1_ecx);
        add_names(out, cap, ~0u, ext1_edx);
        return;
    }
    cpu_cpuid(c, 1, 0, r);
    add_names(out, cap, r[3], leaf1_edx);
    add_names(out, cap, r[2], leaf1_ecx);
    cpu_cpuid(c, 0x80000000u, 0, r);
    if (r[0] >= 0x80000001u && r[0] < 0x80000100u) {
        cpu_cpuid(c, 0x80000001u, 0, r);
        add_names(out, cap, r[3], ext1_edx);
    }
}
