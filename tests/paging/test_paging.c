/* Paging and TLB tests: cpu/paging.c (the walker), cpu/tlb.c (the TLB) and
 * cpu/exec_cr.c (MOV CRn, INVLPG).
 *
 * Each test builds page tables in guest RAM and runs small hand-encoded
 * guest instructions with cpu_step (trap_exceptions: a fault is reported in
 * exc_vector / exc_code with EIP at the faulting instruction).  Paging is
 * turned on by the guest's own MOV to CR0 so that PAE loads its PDPTEs as
 * hardware does.  The expected values come from the Intel SDM vol. 3:
 *   4.3 (32-bit paging), 4.4 (PAE paging, 4.4.1 the PDPTE registers),
 *   4.6 (access rights), 4.7 (page-fault error code), 4.8 (accessed and
 *   dirty flags), 4.10.4.1 (what invalidates the TLB), 6.15 "Interrupt 14"
 *   (CR2, the accessed flag on protection faults),
 * and vol. 2 (MOV CRn, INVLPG).  Where the SDM only permits a behaviour
 * (a TLB may keep a stale translation until it is invalidated) the test says
 * so: it checks that Kestrel's TLB really caches.
 *
 * The last tests run a nasm-built guest (guest.asm) that handles its own
 * page faults, and a randomized run over malformed page tables (meant for
 * the ASan/UBSan build). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu.h"
#include "tests/common/rng.h"

#define RAM_SIZE (8u << 20)
#define CODE 0x1000u /* test instructions, identity-mapped */

/* Paging-structure entry bits (SDM vol. 3, tables 4-4 to 4-11). */
#define E_P 0x001u
#define E_W 0x002u
#define E_U 0x004u
#define E_A 0x020u
#define E_D 0x040u
#define E_PS 0x080u
#define E_G 0x100u
#define E_XD (1ull << 63)

/* #PF error code (SDM vol. 3, 4.7). */
#define PF_P 0x01
#define PF_W 0x02
#define PF_U 0x04
#define PF_RSVD 0x08
#define PF_ID 0x10

#define EFER_NXE (1ull << 11)

/* 32-bit layout: PD32[0] -> PT_LOW (identity map of 0-4 MiB, user RW), PD32[1]
 * -> PT_TEST (linear TLIN .. TLIN + 4 MiB, set by each test). */
#define PD32 0x10000u
#define PT_LOW 0x11000u
#define PT_TEST 0x12000u
#define TLIN 0x400000u
/* PAE layout: PDPT[0] -> PD_PAE; PD_PAE[0] -> PT_PAE_LOW (identity map of
 * 0-2 MiB), PD_PAE[2] -> PT_PAE_TEST (TLIN .. TLIN + 2 MiB). */
#define PDPT 0x20000u
#define PD_PAE 0x21000u
#define PT_PAE_LOW 0x22000u
#define PT_PAE_TEST 0x23000u
#define PD_PAE2 0x24000u /* a page directory for PDPTE 1 */
/* Data frames. */
#define FRAME(n) (0x200000u + (uint32_t)(n) * 0x1000u)

static const char *guest_path;

typedef struct T {
    Bus bus;
    uint8_t *ram;
    CpuState *c;
} T;

static int setup(void **state)
{
    T *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->ram = calloc(1, RAM_SIZE);
    assert_non_null(t->ram);
    assert_int_equal(bus_init(&t->bus), 0);
    assert_int_equal(bus_map_ram(&t->bus, 0, RAM_SIZE, t->ram, 0), 0);
    t->c = cpu_new(&t->bus);
    assert_non_null(t->c);
    cpu_set_flat32(t->c);
    t->c->trap_exceptions = true;
    t->c->regs[R_ESP] = 0x8000;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    T *t = *state;
    cpu_free(t->c);
    bus_destroy(&t->bus);
    free(t->ram);
    free(t);
    return 0;
}

/* ---- Guest memory ------------------------------------------------------ */

static void wr32(T *t, uint32_t a, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        t->ram[a + k] = (uint8_t)(v >> (8 * k));
}
static uint32_t rd32(T *t, uint32_t a)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++)
        v |= (uint32_t)t->ram[a + k] << (8 * k);
    return v;
}
static void wr64(T *t, uint32_t a, uint64_t v)
{
    wr32(t, a, (uint32_t)v);
    wr32(t, a + 4, (uint32_t)(v >> 32));
}
static uint64_t rd64(T *t, uint32_t a)
{
    return rd32(t, a) | (uint64_t)rd32(t, a + 4) << 32;
}

/* ---- Running guest instructions --------------------------------------- */

#define LE32(x)                                                                            \
    (uint8_t)(x), (uint8_t)((uint32_t)(x) >> 8), (uint8_t)((uint32_t)(x) >> 16),            \
        (uint8_t)((uint32_t)(x) >> 24)

/* Copy code through the bus (so decoded code is dropped) and run one
 * instruction at `at`. */
static CpuExit exec_at(T *t, uint32_t at, const uint8_t *b, size_t n)
{
    assert_int_equal(bus_write_phys(&t->bus, at, b, n), n);
    t->c->eip = at;
    t->c->halted = false;
    return cpu_step(t->c);
}
#define EXEC(t, ...)                                                                       \
    exec_at(t, CODE, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void expect_ok(T *t, CpuExit r)
{
    if (r != CPU_EXIT_BUDGET)
        fail_msg("exit %d: exception %d code %#x cr2 %#x", r, t->c->exc_vector, t->c->exc_code,
                 t->c->cr2);
}

/* A #PF with error code `err` and CR2 = `cr2`, EIP left at `eip`. */
static void expect_pf_at(T *t, CpuExit r, uint32_t cr2, int err, uint32_t eip)
{
    if (r != CPU_EXIT_EXCEPTION)
        fail_msg("no exception (exit %d), expected #PF %#x at %#x", r, err, cr2);
    assert_int_equal(t->c->exc_vector, EXC_PF);
    if (t->c->exc_code != err || t->c->cr2 != cr2)
        fail_msg("#PF code %#x cr2 %#x, expected code %#x cr2 %#x", t->c->exc_code, t->c->cr2,
                 err, cr2);
    assert_true(t->c->exc_has_code);
    assert_int_equal(t->c->eip, eip);
}
static void expect_pf(T *t, CpuExit r, uint32_t cr2, int err)
{
    expect_pf_at(t, r, cr2, err, CODE);
}
static void expect_gp0(T *t, CpuExit r)
{
    assert_int_equal(r, CPU_EXIT_EXCEPTION);
    assert_int_equal(t->c->exc_vector, EXC_GP);
    assert_int_equal(t->c->exc_code, 0);
}

/* mov eax, [lin] */
static CpuExit rd(T *t, uint32_t lin)
{
    t->c->regs[R_EAX] = 0xDEADBEEF;
    return EXEC(t, 0xA1, LE32(lin));
}
/* Read and expect success with value v. */
static void rd_expect(T *t, uint32_t lin, uint32_t v)
{
    expect_ok(t, rd(t, lin));
    assert_int_equal(t->c->regs[R_EAX], v);
}
/* mov dword [lin], v */
static CpuExit wr(T *t, uint32_t lin, uint32_t v)
{
    return EXEC(t, 0xC7, 0x05, LE32(lin), LE32(v));
}
/* jmp ebx to `lin`, then run the instruction there. */
static CpuExit fetch(T *t, uint32_t lin)
{
    t->c->regs[R_EBX] = lin;
    expect_ok(t, EXEC(t, 0xFF, 0xE3));
    assert_int_equal(t->c->eip, lin);
    return cpu_step(t->c);
}
/* invlpg [ebx] */
static CpuExit invlpg(T *t, uint32_t lin)
{
    t->c->regs[R_EBX] = lin;
    return EXEC(t, 0x0F, 0x01, 0x3B);
}
/* mov cr3, eax with eax = v */
static CpuExit mov_cr3(T *t, uint32_t v)
{
    t->c->regs[R_EAX] = v;
    return EXEC(t, 0x0F, 0x22, 0xD8);
}
static CpuExit mov_cr4(T *t, uint32_t v)
{
    t->c->regs[R_EAX] = v;
    return EXEC(t, 0x0F, 0x22, 0xE0);
}
static CpuExit mov_cr0(T *t, uint32_t v)
{
    t->c->regs[R_EAX] = v;
    return EXEC(t, 0x0F, 0x22, 0xC0);
}
/* Reload CR3 with its own value (mov eax, cr3; mov cr3, eax). */
static void reload_cr3(T *t)
{
    expect_ok(t, EXEC(t, 0x0F, 0x20, 0xD8));
    expect_ok(t, EXEC(t, 0x0F, 0x22, 0xD8));
}

/* Turn paging on the way a guest does: CR4, CR3 and EFER first (no PDPTE
 * load while paging is off), then MOV to CR0 with PG, which loads the PDPTEs
 * for PAE paging (SDM vol. 3, 4.4.1). */
static void enable_paging(T *t, uint32_t cr3, uint32_t cr4, uint64_t efer, uint32_t cr0_extra)
{
    t->c->cr4 = cr4;
    t->c->cr3 = cr3;
    t->c->efer = efer;
    expect_ok(t, mov_cr0(t, t->c->cr0 | CR0_PG | cr0_extra));
    assert_true(t->c->cr0 & CR0_PG);
}

static void set_wp(T *t, bool on)
{
    uint32_t cr0 = on ? t->c->cr0 | CR0_WP : t->c->cr0 & ~CR0_WP;
    expect_ok(t, mov_cr0(t, cr0));
}

/* CPL 3 with flat DPL 3 segments (what seg_update_mode derives the user
 * TLB set from). */
static void to_cpl3(T *t)
{
    CpuState *c = t->c;
    uint16_t a = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G | 0x60;
    c->cpl = 3;
    cpu_set_seg_cache(c, SEG_CS, 0x1B, 0, 0xFFFFFFFFu, a | 0x0B);
    static const int data[] = {SEG_ES, SEG_SS, SEG_DS, SEG_FS, SEG_GS};
    for (int k = 0; k < 5; k++)
        cpu_set_seg_cache(c, data[k], 0x23, 0, 0xFFFFFFFFu, a | 0x03);
    assert_ptr_equal(c->tlb_cur, c->tlb[1]);
}
static void to_cpl0(T *t)
{
    cpu_set_flat32(t->c);
    assert_ptr_equal(t->c->tlb_cur, t->c->tlb[0]);
}

/* ---- Page tables -------------------------------------------------------- */

static void tables32(T *t)
{
    for (uint32_t i = 0; i < 1024; i++)
        wr32(t, PT_LOW + 4 * i, (i << 12) | E_P | E_W | E_U);
    wr32(t, PD32, PT_LOW | E_P | E_W | E_U);
    wr32(t, PD32 + 4, PT_TEST | E_P | E_W | E_U);
}
static uint32_t pte32_addr(uint32_t lin)
{
    assert_true(lin >= TLIN && lin < TLIN + 0x400000u);
    return PT_TEST + ((lin >> 12) & 0x3FF) * 4;
}
static void pte32(T *t, uint32_t lin, uint32_t v) { wr32(t, pte32_addr(lin), v); }
static uint32_t pte32_get(T *t, uint32_t lin) { return rd32(t, pte32_addr(lin)); }
static void pde32(T *t, uint32_t lin, uint32_t v) { wr32(t, PD32 + (lin >> 22) * 4, v); }
static uint32_t pde32_get(T *t, uint32_t lin) { return rd32(t, PD32 + (lin >> 22) * 4); }

static void paging32(T *t, uint32_t cr4, uint32_t cr0_extra)
{
    tables32(t);
    enable_paging(t, PD32, cr4, 0, cr0_extra);
}

static void tables_pae(T *t)
{
    for (uint32_t i = 0; i < 512; i++)
        wr64(t, PT_PAE_LOW + 8 * i, (i << 12) | E_P | E_W | E_U);
    wr64(t, PD_PAE, PT_PAE_LOW | E_P | E_W | E_U);
    wr64(t, PD_PAE + 16, PT_PAE_TEST | E_P | E_W | E_U);
    wr64(t, PDPT, PD_PAE | E_P);
}
static uint32_t pte_pae_addr(uint32_t lin)
{
    assert_true(lin >= TLIN && lin < TLIN + 0x200000u);
    return PT_PAE_TEST + ((lin >> 12) & 0x1FF) * 8;
}
static void pte_pae(T *t, uint32_t lin, uint64_t v) { wr64(t, pte_pae_addr(lin), v); }
static uint64_t pte_pae_get(T *t, uint32_t lin) { return rd64(t, pte_pae_addr(lin)); }
/* PDE for `lin` in the first gigabyte. */
static uint32_t pde_pae_addr(uint32_t lin)
{
    assert_true(lin < 0x40000000u);
    return PD_PAE + (lin >> 21) * 8;
}

static void paging_pae(T *t, uint64_t efer, uint32_t cr4_extra)
{
    tables_pae(t);
    enable_paging(t, PDPT, CR4_PAE | cr4_extra, efer, 0);
}

static uint32_t cpuid1_edx(T *t)
{
    uint32_t r[4] = {0, 0, 0, 0};
    cpu_cpuid(t->c, 1, 0, r);
    return r[3];
}

/* ---- Translation ------------------------------------------------------- */

/* 4 KiB pages with 32-bit paging (4.3); A on both levels at the first use,
 * D on the PTE at the first write only (4.8). */
static void test_4k_read_write_ad(void **state)
{
    T *t = *state;
    paging32(t, 0, 0);
    pte32(t, TLIN, FRAME(0) | E_P | E_W);
    wr32(t, FRAME(0) + 0x10, 0xCAFEBABE);
    rd_expect(t, TLIN + 0x10, 0xCAFEBABE);
    assert_int_equal(pte32_get(t, TLIN), FRAME(0) | E_P | E_W | E_A);
    /* The PDE gets A but never D: bit 6 of a PDE that references a page
     * table is ignored (table 4-5), only entries that map a page have D. */
    assert_int_equal(pde32_get(t, TLIN), PT_TEST | E_P | E_W | E_U | E_A);
    /* The read cached the page; the first write must still set D. */
    expect_ok(t, wr(t, TLIN + 0x20, 0x12345678));
    assert_int_equal(rd32(t, FRAME(0) + 0x20), 0x12345678);
    assert_int_equal(pte32_get(t, TLIN), FRAME(0) | E_P | E_W | E_A | E_D);
    assert_int_equal(pde32_get(t, TLIN), PT_TEST | E_P | E_W | E_U | E_A);
    /* The linear page maps its frame, not the identity. */
    pte32(t, TLIN + 0x1000, FRAME(7) | E_P | E_W);
    wr32(t, FRAME(7) + 0xFFC, 0x01020304);
    rd_expect(t, TLIN + 0x1FFC, 0x01020304);
    assert_int_equal(t->c->cr3, PD32);
}

/* 4 MiB pages with CR4.PSE (4.3, table 4-4): the PDE maps the page and
 * takes A and D itself. */
static void test_4m_pse(void **state)
{
    T *t = *state;
    tables32(t);
    pde32(t, 0x800000, 0x400000 | E_PS | E_P | E_W);
    enable_paging(t, PD32, CR4_PSE, 0, 0);
    wr32(t, 0x412344, 0x5A5A5A5A);
    wr32(t, 0x7FF000, 0x77665544);
    rd_expect(t, 0x812344, 0x5A5A5A5A);
    rd_expect(t, 0xBFF000, 0x77665544); /* bits 21:0 come from the linear address */
    assert_int_equal(pde32_get(t, 0x800000), 0x400000 | E_PS | E_P | E_W | E_A);
    expect_ok(t, wr(t, 0x812348, 0x11));
    assert_int_equal(rd32(t, 0x412348), 0x11);
    assert_int_equal(pde32_get(t, 0x800000), 0x400000 | E_PS | E_P | E_W | E_A | E_D);
}

/* Without CR4.PSE the PS bit is ignored: the PDE references a page table
 * (4.3). */
static void test_ps_ignored_without_pse(void **state)
{
    T *t = *state;
    tables32(t);
    pde32(t, 0x800000, 0x400000 | E_PS | E_P | E_W);
    /* PTE index of 0x812344 is 0x12: the "page table" at 0x400000. */
    wr32(t, 0x400000 + 0x12 * 4, FRAME(5) | E_P | E_W);
    wr32(t, FRAME(5) + 0x344, 0x77);
    enable_paging(t, PD32, 0, 0, 0);
    rd_expect(t, 0x812344, 0x77);
    assert_int_equal(rd32(t, 0x400000 + 0x12 * 4), FRAME(5) | E_P | E_W | E_A);
}

/* Reserved bits of a 4 MiB PDE (table 4-4): bits 21:13 without PSE-36;
 * with PSE-36 (M = 36, 4.1.4) bits 16:13 are physical address bits 35:32
 * and 21:17 are reserved.  Bit 12 is PAT, reserved without PAT.  A reserved
 * bit gives #PF with P and RSVD (4.7).  Expectations follow what CPUID
 * advertises. */
static void test_4m_reserved_bits(void **state)
{
    T *t = *state;
    uint32_t edx = cpuid1_edx(t);
    bool pse36 = edx & (1u << 17), pat = edx & (1u << 16);
    tables32(t);
    pde32(t, 0x800000, 0x400000 | (1u << 21) | E_PS | E_P | E_W);
    pde32(t, 0xC00000, 0x400000 | (1u << 13) | E_PS | E_P | E_W);
    pde32(t, 0x1000000, 0x400000 | (1u << 12) | E_PS | E_P | E_W);
    pde32(t, 0x1400000, 0x400000 | (1u << 17) | E_PS | E_P | E_W);
    enable_paging(t, PD32, CR4_PSE, 0, 0);
    wr32(t, 0x400010, 0x600DF00D);
    expect_pf(t, rd(t, 0x800010), 0x800010, PF_P | PF_RSVD);
    expect_pf(t, wr(t, 0x800010, 1), 0x800010, PF_P | PF_W | PF_RSVD);
    expect_pf(t, rd(t, 0x1400000), 0x1400000, PF_P | PF_RSVD);
    if (pse36)
        rd_expect(t, 0xC00010, 0xFFFFFFFF); /* 0x1_0040_0010: nothing there */
    else
        expect_pf(t, rd(t, 0xC00010), 0xC00010, PF_P | PF_RSVD);
    if (pat)
        rd_expect(t, 0x1000010, 0x600DF00D);
    else
        expect_pf(t, rd(t, 0x1000010), 0x1000010, PF_P | PF_RSVD);
    /* A faulting walk leaves the entry as it was. */
    assert_int_equal(pde32_get(t, 0x800000), 0x400000 | (1u << 21) | E_PS | E_P | E_W);
}

/* Not-present entries (4.7: P = 0 in the error code; W/R and U/S describe
 * the access).  The processor does not write a not-present entry. */
static void test_not_present(void **state)
{
    T *t = *state;
    paging32(t, 0, 0);
    /* PDE 3 (0xC00000) is not present. */
    expect_pf(t, rd(t, 0xC00123), 0xC00123, 0);
    expect_pf(t, wr(t, 0xC00123, 5), 0xC00123, PF_W);
    /* PTE not present, with software bits in it. */
    pte32(t, TLIN + 0x3000, 0x12345670);
    expect_pf(t, rd(t, TLIN + 0x3004), TLIN + 0x3004, 0);
    expect_pf(t, wr(t, TLIN + 0x3008, 5), TLIN + 0x3008, PF_W);
    assert_int_equal(pte32_get(t, TLIN + 0x3000), 0x12345670);
    to_cpl3(t);
    expect_pf(t, rd(t, TLIN + 0x3004), TLIN + 0x3004, PF_U);
    expect_pf(t, wr(t, TLIN + 0x3004, 1), TLIN + 0x3004, PF_U | PF_W);
    /* Once the entry is present the access goes through. */
    pte32(t, TLIN + 0x3000, FRAME(3) | E_P | E_W | E_U);
    wr32(t, FRAME(3) + 4, 42);
    rd_expect(t, TLIN + 0x3004, 42);
}

/* Access rights with 32-bit paging (4.6), every combination of page type,
 * privilege, CR0.WP and access.  PDE: P|W|U. */
static void test_rights_matrix(void **state)
{
    T *t = *state;
    enum { SRO = E_P, SRW = E_P | E_W, URO = E_P | E_U, URW = E_P | E_W | E_U };
    static const struct {
        uint32_t pte;
        int cpl, wp, write;
        int err; /* -1: allowed */
    } rows[] = {
        /* Supervisor reads: any page (4.6.1). */
        {SRO, 0, 0, 0, -1}, {SRW, 0, 0, 0, -1}, {URO, 0, 0, 0, -1}, {URW, 0, 0, 0, -1},
        {SRO, 0, 1, 0, -1}, {SRW, 0, 1, 0, -1}, {URO, 0, 1, 0, -1}, {URW, 0, 1, 0, -1},
        /* Supervisor writes: any page with WP = 0; R/W = 1 needed with WP = 1. */
        {SRO, 0, 0, 1, -1}, {SRW, 0, 0, 1, -1}, {URO, 0, 0, 1, -1}, {URW, 0, 0, 1, -1},
        {SRO, 0, 1, 1, PF_P | PF_W}, {SRW, 0, 1, 1, -1},
        {URO, 0, 1, 1, PF_P | PF_W}, {URW, 0, 1, 1, -1},
        /* User reads: U/S = 1 needed. */
        {SRO, 3, 0, 0, PF_P | PF_U}, {SRW, 3, 0, 0, PF_P | PF_U},
        {URO, 3, 0, 0, -1}, {URW, 3, 0, 0, -1},
        {SRO, 3, 1, 0, PF_P | PF_U}, {SRW, 3, 1, 0, PF_P | PF_U},
        {URO, 3, 1, 0, -1}, {URW, 3, 1, 0, -1},
        /* User writes: U/S = 1 and R/W = 1 whatever WP. */
        {SRO, 3, 0, 1, PF_P | PF_W | PF_U}, {SRW, 3, 0, 1, PF_P | PF_W | PF_U},
        {URO, 3, 0, 1, PF_P | PF_W | PF_U}, {URW, 3, 0, 1, -1},
        {SRO, 3, 1, 1, PF_P | PF_W | PF_U}, {SRW, 3, 1, 1, PF_P | PF_W | PF_U},
        {URO, 3, 1, 1, PF_P | PF_W | PF_U}, {URW, 3, 1, 1, -1},
    };
    paging32(t, 0, 0);
    for (unsigned k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        uint32_t lin = TLIN + 0x10000 + k * 0x1000;
        pte32(t, lin, FRAME(k) | rows[k].pte);
        wr32(t, FRAME(k) + 0x40, 0x1000 + k);
        to_cpl0(t);
        set_wp(t, rows[k].wp);
        if (rows[k].cpl == 3)
            to_cpl3(t);
        CpuExit r = rows[k].write ? wr(t, lin + 0x40, 0xAB00 + k) : rd(t, lin + 0x40);
        if (rows[k].err < 0) {
            expect_ok(t, r);
            if (rows[k].write) {
                assert_int_equal(rd32(t, FRAME(k) + 0x40), 0xAB00 + k);
                assert_int_equal(pte32_get(t, lin) & E_D, E_D);
            } else {
                assert_int_equal(t->c->regs[R_EAX], 0x1000 + k);
            }
        } else {
            expect_pf(t, r, lin + 0x40, rows[k].err);
            assert_int_equal(rd32(t, FRAME(k) + 0x40), 0x1000 + k);
            assert_int_equal(pte32_get(t, lin) & E_D, 0);
            /* On a protection fault the PDE's accessed flag is set
             * (6.15, interrupt 14, CR2 note). */
            assert_int_equal(pde32_get(t, lin) & E_A, E_A);
        }
    }
}

/* Rights combine over the levels (4.6): U/S and R/W must be 1 in the PDE
 * as well as in the PTE. */
static void test_rights_combine_levels(void **state)
{
    T *t = *state;
    paging32(t, 0, CR0_WP);
    /* PDE 2 (0x800000): supervisor-only table; PDE 3: read-only table. */
    wr32(t, 0x30000 + 0, FRAME(0) | E_P | E_W | E_U);
    wr32(t, 0x31000 + 0, FRAME(1) | E_P | E_W | E_U);
    pde32(t, 0x800000, 0x30000 | E_P | E_W);
    pde32(t, 0xC00000, 0x31000 | E_P | E_U);
    wr32(t, FRAME(0), 11);
    wr32(t, FRAME(1), 22);
    rd_expect(t, 0x800000, 11);
    rd_expect(t, 0xC00000, 22);
    expect_pf(t, wr(t, 0xC00000, 1), 0xC00000, PF_P | PF_W); /* WP = 1 */
    to_cpl3(t);
    expect_pf(t, rd(t, 0x800000), 0x800000, PF_P | PF_U);
    rd_expect(t, 0xC00000, 22);
    expect_pf(t, wr(t, 0xC00000, 1), 0xC00000, PF_P | PF_W | PF_U);
    assert_int_equal(rd32(t, FRAME(1)), 22);
}

/* mov ds, ax with ax = sel */
static CpuExit load_ds(T *t, uint16_t sel)
{
    t->c->regs[R_EAX] = sel;
    return EXEC(t, 0x8E, 0xD8);
}

/* Descriptor-table reads are implicit supervisor-mode accesses even at
 * CPL 3 (4.6): they may use a supervisor page, and their faults have
 * U/S = 0. */
static void test_implicit_supervisor(void **state)
{
    T *t = *state;
    CpuState *c = t->c;
    paging32(t, 0, 0);
    uint32_t gdt = TLIN + 0x5000;
    pte32(t, gdt, FRAME(9) | E_P | E_W); /* supervisor page */
    /* GDT entry 4: flat 32-bit data, DPL 3, accessed. */
    wr32(t, FRAME(9) + 0x20, 0x0000FFFF);
    wr32(t, FRAME(9) + 0x24, 0x00CFF300);
    c->gdtr.base = gdt;
    c->gdtr.limit = 0xFF;
    to_cpl3(t);
    expect_ok(t, load_ds(t, 0x23));
    assert_int_equal(c->seg[SEG_DS].sel, 0x23);
    /* User-mode code cannot read the same page. */
    expect_pf(t, rd(t, gdt + 0x20), gdt + 0x20, PF_P | PF_U);
    /* A not-present GDT page: a supervisor read fault. */
    pte32(t, gdt, 0);
    cpu_tlb_flush(c);
    expect_pf(t, load_ds(t, 0x23), gdt + 0x20, 0);
    /* Setting the descriptor's accessed bit is an implicit supervisor
     * write: read-only page with WP = 1 faults with P|W and U/S = 0. */
    pte32(t, gdt, FRAME(9) | E_P);
    wr32(t, FRAME(9) + 0x24, 0x00CFF200); /* not accessed */
    to_cpl0(t);
    set_wp(t, true);
    to_cpl3(t);
    CpuExit r = load_ds(t, 0x23);
    /* The byte written is the SDM's business (the flag is in byte 5); the
     * address is in the descriptor's high dword. */
    expect_pf(t, r, c->cr2, PF_P | PF_W);
    assert_int_equal(c->cr2 & ~3u, gdt + 0x24);
    assert_int_equal(rd32(t, FRAME(9) + 0x24), 0x00CFF200);
    /* With WP = 0 the same write is allowed (4.6.1). */
    to_cpl0(t);
    set_wp(t, false);
    to_cpl3(t);
    expect_ok(t, load_ds(t, 0x23));
    assert_int_equal(rd32(t, FRAME(9) + 0x24), 0x00CFF300);
}

/* Instruction fetches (4.6): user code may not run from a supervisor page;
 * supervisor code may run from a user page (no SMEP).  No I/D bit in
 * 32-bit paging (4.7). */
static void test_fetch_rights(void **state)
{
    T *t = *state;
    paging32(t, 0, 0);
    uint32_t sup = TLIN + 0x6000, usr = TLIN + 0x7000;
    pte32(t, sup, FRAME(10) | E_P | E_W);
    pte32(t, usr, FRAME(11) | E_P | E_W | E_U);
    t->ram[FRAME(10)] = 0x90;
    t->ram[FRAME(11)] = 0x90;
    expect_ok(t, fetch(t, usr));
    assert_int_equal(t->c->eip, usr + 1);
    expect_ok(t, fetch(t, sup));
    to_cpl3(t);
    expect_ok(t, fetch(t, usr));
    expect_pf_at(t, fetch(t, sup), sup, PF_P | PF_U, sup);
    /* Not present, fetched: no I/D with 32-bit paging. */
    to_cpl0(t);
    expect_pf_at(t, fetch(t, TLIN + 0x8000), TLIN + 0x8000, 0, TLIN + 0x8000);
}

/* PAE paging (4.4): 4 KiB pages through the PDPTE registers, and 2 MiB
 * pages (PS in a PDE, whatever CR4.PSE); A/D in the 64-bit entries. */
static void test_pae_4k_2m(void **state)
{
    T *t = *state;
    tables_pae(t);
    pte_pae(t, TLIN, FRAME(0) | E_P | E_W);
    wr64(t, pde_pae_addr(0x600000), 0x400000 | E_PS | E_P | E_W);
    enable_paging(t, PDPT, CR4_PAE, 0, 0);
    wr32(t, FRAME(0) + 8, 0x8badf00d);
    rd_expect(t, TLIN + 8, 0x8badf00d);
    assert_true(pte_pae_get(t, TLIN) == (FRAME(0) | E_P | E_W | E_A));
    expect_ok(t, wr(t, TLIN + 12, 0x1234));
    assert_true(pte_pae_get(t, TLIN) == (FRAME(0) | E_P | E_W | E_A | E_D));
    assert_true(rd64(t, pde_pae_addr(TLIN)) == (PT_PAE_TEST | E_P | E_W | E_U | E_A));
    /* 2 MiB page: linear 0x6ABCDE -> physical 0x4ABCDE. */
    wr32(t, 0x4ABCDC, 0x44332211);
    rd_expect(t, 0x6ABCDC, 0x44332211);
    expect_ok(t, wr(t, 0x7FFFFC, 0x99));
    assert_int_equal(rd32(t, 0x5FFFFC), 0x99);
    assert_true(rd64(t, pde_pae_addr(0x600000)) == (0x400000 | E_PS | E_P | E_W | E_A | E_D));
    /* The PDPTE has no accessed flag (table 4-8): untouched. */
    assert_true(rd64(t, PDPT) == (PD_PAE | E_P));
}

/* The PDPTE registers (4.4.1): translation uses the values loaded with
 * CR3, not the PDPT in memory; MOV to CR3 reloads them. */
static void test_pae_pdpte_registers(void **state)
{
    T *t = *state;
    tables_pae(t);
    wr64(t, PDPT + 8, PD_PAE2 | E_P);
    wr64(t, PD_PAE2 + 0, 0x400000 | E_PS | E_P | E_W);
    wr64(t, PD_PAE2 + 8, 0x600000 | E_PS | E_P | E_W);
    wr32(t, 0x400010, 0xAAAA);
    wr32(t, 0x600010, 0xBBBB);
    enable_paging(t, PDPT, CR4_PAE, 0, 0);
    rd_expect(t, 0x40000010, 0xAAAA);
    wr64(t, PDPT + 8, 0); /* behind the processor's back */
    rd_expect(t, 0x40200010, 0xBBBB); /* not cached yet: walks via PDPTE1 */
    reload_cr3(t);
    expect_pf(t, rd(t, 0x40200010), 0x40200010, 0);
    expect_pf(t, rd(t, 0xC0000000), 0xC0000000, 0); /* PDPTE 3 not present */
}

/* Reserved bits in a present PDPTE: MOV to CR3, or MOV to CR0/CR4 entering
 * PAE paging, raises #GP(0) and loads nothing (4.4.1, 4.7 last paragraph). */
static void test_pae_pdpte_reserved_gp(void **state)
{
    T *t = *state;
    CpuState *c = t->c;
    tables_pae(t);
    /* Entering PAE paging with a bad PDPTE: #GP, PG stays clear. */
    wr64(t, PDPT + 16, PD_PAE2 | E_P | E_W); /* bit 1 reserved in a PDPTE */
    c->cr4 = CR4_PAE;
    c->cr3 = PDPT;
    expect_gp0(t, mov_cr0(t, c->cr0 | CR0_PG));
    assert_false(c->cr0 & CR0_PG);
    wr64(t, PDPT + 16, 0);
    enable_paging(t, PDPT, CR4_PAE, 0, 0);
    wr32(t, 0x1234, 0x4321);
    rd_expect(t, 0x1234, 0x4321);
    static const uint64_t bad[] = {
        1ull << 1, 1ull << 2, 1ull << 5, 1ull << 8, 1ull << 36, 1ull << 40, 1ull << 51,
        1ull << 62, 1ull << 63,
    };
    uint32_t pdpt2 = 0x30000;
    wr64(t, pdpt2, PD_PAE | E_P);
    for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        wr64(t, pdpt2 + 24, PD_PAE2 | E_P | bad[k]);
        expect_gp0(t, mov_cr3(t, pdpt2));
        assert_int_equal(c->cr3, PDPT);
        assert_true(c->pdpte[3] == 0); /* the old registers stay */
    }
    /* Reserved bits do not matter when P = 0. */
    wr64(t, pdpt2 + 24, 0xFFFFFFFFFFFFFFFEull);
    expect_ok(t, mov_cr3(t, pdpt2));
    assert_int_equal(c->cr3, pdpt2);
    expect_pf(t, rd(t, 0xC0000000), 0xC0000000, 0);
    rd_expect(t, 0x1234, 0x4321);
    /* A PDPT outside RAM reads as all ones: present with reserved bits. */
    expect_gp0(t, mov_cr3(t, 0xF0000000u));
    assert_int_equal(c->cr3, pdpt2);
    /* MOV to CR4 entering PAE paging from 32-bit paging loads the PDPTEs
     * from CR3: here the 32-bit page directory, whose PDE 0 has R/W and
     * U/S set, reserved in a PDPTE. */
    to_cpl0(t);
    expect_ok(t, mov_cr0(t, c->cr0 & ~CR0_PG));
    expect_ok(t, mov_cr4(t, 0));
    tables32(t);
    enable_paging(t, PD32, 0, 0, 0);
    expect_gp0(t, mov_cr4(t, CR4_PAE));
    assert_int_equal(c->cr4, 0);
    rd_expect(t, 0x1234, 0x4321);
}

/* Reserved bits in PAE PDEs and PTEs (tables 4-9 to 4-11, M = 36): #PF
 * with P and RSVD, also for user accesses; not checked when P = 0. */
static void test_pae_reserved_bits(void **state)
{
    T *t = *state;
    paging_pae(t, 0, 0);
    static const uint64_t bad[] = {1ull << 36, 1ull << 40, 1ull << 51, 1ull << 52, 1ull << 62,
                                   1ull << 63 /* XD without NXE */};
    unsigned n = sizeof bad / sizeof bad[0];
    for (unsigned k = 0; k < n; k++) {
        uint32_t lin = TLIN + k * 0x1000;
        pte_pae(t, lin, FRAME(k) | E_P | E_W | E_U | bad[k]);
        expect_pf(t, rd(t, lin + 4), lin + 4, PF_P | PF_RSVD);
        expect_pf(t, wr(t, lin + 4, 1), lin + 4, PF_P | PF_W | PF_RSVD);
        assert_true(pte_pae_get(t, lin) == (FRAME(k) | E_P | E_W | E_U | bad[k]));
    }
    /* Not present: reserved bits ignored. */
    pte_pae(t, TLIN + 0x10000, 0xFFFFFFFFFFFFFFFEull);
    expect_pf(t, rd(t, TLIN + 0x10000), TLIN + 0x10000, 0);
    /* A PDE that references a page table. */
    wr64(t, pde_pae_addr(0x600000), PT_PAE_TEST | E_P | E_W | (1ull << 40));
    expect_pf(t, rd(t, 0x600000), 0x600000, PF_P | PF_RSVD);
    /* 2 MiB PDE: bits 20:13 reserved; bit 12 is PAT (reserved without). */
    wr64(t, pde_pae_addr(0x800000), 0x400000 | E_PS | E_P | E_W | (1u << 13));
    expect_pf(t, rd(t, 0x800000), 0x800000, PF_P | PF_RSVD);
    wr64(t, pde_pae_addr(0xA00000), 0x400000 | E_PS | E_P | E_W | (1u << 20));
    expect_pf(t, rd(t, 0xA00000), 0xA00000, PF_P | PF_RSVD);
    wr64(t, pde_pae_addr(0xC00000), 0x400000 | E_PS | E_P | E_W | (1u << 12));
    if (cpuid1_edx(t) & (1u << 16))
        expect_ok(t, rd(t, 0xC00000));
    else
        expect_pf(t, rd(t, 0xC00000), 0xC00000, PF_P | PF_RSVD);
    /* User access: U/S set with RSVD. */
    to_cpl3(t);
    expect_pf(t, rd(t, TLIN + 4), TLIN + 4, PF_P | PF_U | PF_RSVD);
}

/* Execute-disable (4.6 with IA32_EFER.NXE = 1): no fetch from a page with
 * XD at any level; data accesses unaffected.  I/D is set for every fetch
 * fault when PAE and NXE are on (4.7), and only then. */
static void test_nx(void **state)
{
    T *t = *state;
    paging_pae(t, EFER_NXE, 0);
    uint32_t nx = TLIN, ok = TLIN + 0x1000;
    pte_pae(t, nx, FRAME(0) | E_P | E_W | E_U | E_XD);
    pte_pae(t, ok, FRAME(1) | E_P | E_W | E_U);
    t->ram[FRAME(0)] = 0x90;
    t->ram[FRAME(1)] = 0x90;
    rd_expect(t, nx, 0x90); /* reading caches the page, not for fetches */
    expect_pf_at(t, fetch(t, nx), nx, PF_P | PF_ID, nx);
    expect_ok(t, fetch(t, ok));
    expect_ok(t, wr(t, nx + 4, 7)); /* data writes are fine */
    /* XD in the PDE covers the whole table. */
    wr64(t, pde_pae_addr(0x600000), PT_PAE_TEST | E_P | E_W | E_U | E_XD);
    expect_pf_at(t, fetch(t, 0x600000 + 0x1000), 0x601000, PF_P | PF_ID, 0x601000);
    rd_expect(t, 0x601000, 0x90);
    /* Not present, fetched: I/D with P = 0. */
    expect_pf_at(t, fetch(t, TLIN + 0x5000), TLIN + 0x5000, PF_ID, TLIN + 0x5000);
    /* User mode. */
    to_cpl3(t);
    expect_pf_at(t, fetch(t, nx), nx, PF_P | PF_U | PF_ID, nx);
    expect_ok(t, fetch(t, ok));
    /* A reserved bit on a fetch with NXE: P|RSVD|I/D. */
    to_cpl0(t);
    pte_pae(t, TLIN + 0x6000, FRAME(2) | E_P | E_W | (1ull << 40));
    expect_pf_at(t, fetch(t, TLIN + 0x6000), TLIN + 0x6000, PF_P | PF_RSVD | PF_ID,
                 TLIN + 0x6000);
}

/* Without NXE, XD is a reserved bit and fetch faults have no I/D (4.7). */
static void test_nx_off(void **state)
{
    T *t = *state;
    paging_pae(t, 0, 0);
    pte_pae(t, TLIN, FRAME(0) | E_P | E_W | E_XD);
    t->ram[FRAME(0)] = 0x90;
    expect_pf_at(t, fetch(t, TLIN), TLIN, PF_P | PF_RSVD, TLIN);
    expect_pf_at(t, fetch(t, TLIN + 0x1000), TLIN + 0x1000, 0, TLIN + 0x1000);
}

/* ---- The TLB ------------------------------------------------------------ */

/* Global pages (4.10.2.4, 4.10.4.1): MOV to CR3 keeps global translations
 * and drops the others; changing CR4.PGE drops everything; INVLPG drops a
 * global page too.  Keeping a stale translation is what the SDM permits
 * until an invalidation; these checks show the TLB does cache. */
static void test_global_pages(void **state)
{
    T *t = *state;
    /* Slots of the direct-mapped TLB away from CODE's. */
    uint32_t g = TLIN + 0x10000, n = TLIN + 0x11000;
    tables32(t);
    pte32(t, g, FRAME(0) | E_P | E_W | E_G);
    pte32(t, n, FRAME(1) | E_P | E_W);
    for (int k = 0; k < 4; k++)
        wr32(t, FRAME(k), 0x1111 * (k + 1));
    enable_paging(t, PD32, CR4_PGE, 0, 0);
    rd_expect(t, g, 0x1111);
    rd_expect(t, n, 0x2222);
    pte32(t, g, FRAME(2) | E_P | E_W | E_G);
    pte32(t, n, FRAME(3) | E_P | E_W);
    rd_expect(t, g, 0x1111); /* cached */
    rd_expect(t, n, 0x2222);
    reload_cr3(t);
    rd_expect(t, g, 0x1111); /* global: kept */
    rd_expect(t, n, 0x4444); /* re-walked */
    /* Clearing CR4.PGE invalidates global entries too. */
    expect_ok(t, mov_cr4(t, 0));
    rd_expect(t, g, 0x3333);
    /* With PGE = 0 the G bit is ignored: a CR3 load drops the page. */
    pte32(t, g, FRAME(0) | E_P | E_W | E_G);
    reload_cr3(t);
    rd_expect(t, g, 0x1111);
    /* INVLPG drops a global page. */
    expect_ok(t, mov_cr4(t, CR4_PGE));
    rd_expect(t, g, 0x1111);
    pte32(t, g, FRAME(2) | E_P | E_W | E_G);
    reload_cr3(t);
    rd_expect(t, g, 0x1111);
    expect_ok(t, invlpg(t, g));
    rd_expect(t, g, 0x3333);
}

/* A global 4 MiB page survives a CR3 load; a non-global one does not. */
static void test_global_large(void **state)
{
    T *t = *state;
    tables32(t);
    pde32(t, 0x800000, 0x400000 | E_PS | E_P | E_W | E_G);
    pde32(t, 0xC00000, 0x400000 | E_PS | E_P | E_W);
    wr32(t, 0x420000, 1);
    wr32(t, 0x430000, 1);
    wr32(t, 0x020000, 2);
    wr32(t, 0x030000, 2);
    enable_paging(t, PD32, CR4_PSE | CR4_PGE, 0, 0);
    rd_expect(t, 0x820000, 1);
    rd_expect(t, 0xC30000, 1);
    pde32(t, 0x800000, 0x000000 | E_PS | E_P | E_W | E_G);
    pde32(t, 0xC00000, 0x000000 | E_PS | E_P | E_W);
    reload_cr3(t);
    rd_expect(t, 0x820000, 1);
    rd_expect(t, 0xC30000, 2);
}

/* MOV to CR3 switches address spaces: a non-global page is walked again in
 * the new tables. */
static void test_cr3_switch(void **state)
{
    T *t = *state;
    paging32(t, 0, 0);
    pte32(t, TLIN, FRAME(0) | E_P | E_W);
    wr32(t, FRAME(0), 0xA);
    wr32(t, FRAME(1), 0xB);
    rd_expect(t, TLIN, 0xA);
    /* A second directory sharing the low table, with another test table. */
    uint32_t pd2 = 0x40000, pt2 = 0x41000;
    wr32(t, pd2, PT_LOW | E_P | E_W | E_U);
    wr32(t, pd2 + 4, pt2 | E_P | E_W | E_U);
    wr32(t, pt2, FRAME(1) | E_P | E_W);
    expect_ok(t, mov_cr3(t, pd2));
    assert_int_equal(t->c->cr3, pd2);
    rd_expect(t, TLIN, 0xB);
    expect_ok(t, mov_cr3(t, PD32));
    rd_expect(t, TLIN, 0xA);
}

/* INVLPG (vol. 2 INVLPG; 4.10.4.1): the page of the operand goes, others
 * stay cached; every 4 KiB piece of a large page goes; it needs CPL 0 and
 * does not translate its operand. */
static void test_invlpg(void **state)
{
    T *t = *state;
    tables32(t);
    uint32_t a = TLIN + 0x20000, b = TLIN + 0x21000; /* TLB slots away from CODE's */
    pte32(t, a, FRAME(0) | E_P | E_W);
    pte32(t, b, FRAME(1) | E_P | E_W);
    for (int k = 0; k < 4; k++)
        wr32(t, FRAME(k), 0x10 + k);
    pde32(t, 0x800000, 0x400000 | E_PS | E_P | E_W);
    wr32(t, 0x400000, 0x20);
    wr32(t, 0x5FF000, 0x21);
    wr32(t, 0x000000, 0x30);
    wr32(t, 0x1FF000, 0x31);
    enable_paging(t, PD32, CR4_PSE, 0, 0);
    rd_expect(t, a, 0x10);
    rd_expect(t, b, 0x11);
    pte32(t, a, FRAME(2) | E_P | E_W);
    pte32(t, b, FRAME(3) | E_P | E_W);
    expect_ok(t, invlpg(t, a + 0x123));
    rd_expect(t, a, 0x12);
    rd_expect(t, b, 0x11); /* still cached */
    /* Large page: two pieces cached, INVLPG of one drops both. */
    rd_expect(t, 0x800000, 0x20);
    rd_expect(t, 0x9FF000, 0x21);
    pde32(t, 0x800000, 0x000000 | E_PS | E_P | E_W);
    expect_ok(t, invlpg(t, 0x800000));
    rd_expect(t, 0x9FF000, 0x31);
    rd_expect(t, 0x800000, 0x30);
    /* No translation needed: INVLPG of an unmapped address is fine. */
    expect_ok(t, invlpg(t, 0xF0000000u));
    /* 16-bit addressing: the offset wraps at 64 KiB (invlpg [bx]). */
    t->c->regs[R_EBX] = 0x10000 + (b & 0xFFFF);
    expect_ok(t, EXEC(t, 0x67, 0x0F, 0x01, 0x3F));
    rd_expect(t, b, 0x11); /* linear (b & 0xFFFF) was dropped, not b */
    /* CPL 3: #GP(0). */
    to_cpl3(t);
    expect_gp0(t, invlpg(t, a));
}

/* INVLPG on a 2 MiB PAE page drops all its pieces. */
static void test_invlpg_pae_2m(void **state)
{
    T *t = *state;
    tables_pae(t);
    wr64(t, pde_pae_addr(0x600000), 0x400000 | E_PS | E_P | E_W);
    wr32(t, 0x400000, 1);
    wr32(t, 0x5FF000, 2);
    wr32(t, 0x200000, 3);
    wr32(t, 0x3FF000, 4);
    enable_paging(t, PDPT, CR4_PAE, 0, 0);
    rd_expect(t, 0x600000, 1);
    rd_expect(t, 0x7FF000, 2);
    wr64(t, pde_pae_addr(0x600000), 0x200000 | E_PS | E_P | E_W);
    expect_ok(t, invlpg(t, 0x7FF000));
    rd_expect(t, 0x600000, 3);
    rd_expect(t, 0x7FF000, 4);
}

/* A page fault drops the TLB entry for the faulting page (4.10.4.1): a
 * handler that fixes the PTE need not INVLPG. */
static void test_fault_invalidates(void **state)
{
    T *t = *state;
    paging32(t, 0, CR0_WP);
    pte32(t, TLIN, FRAME(0) | E_P); /* read-only */
    wr32(t, FRAME(0), 1);
    wr32(t, FRAME(1), 2);
    rd_expect(t, TLIN, 1);
    pte32(t, TLIN, FRAME(1) | E_P);
    rd_expect(t, TLIN, 1); /* cached */
    expect_pf(t, wr(t, TLIN, 9), TLIN, PF_P | PF_W);
    rd_expect(t, TLIN, 2); /* walked again */
}

/* CR0.WP changes are seen at once (the TLB caches rights). */
static void test_wp_toggle(void **state)
{
    T *t = *state;
    paging32(t, 0, 0);
    pte32(t, TLIN, FRAME(0) | E_P | E_D);
    expect_ok(t, wr(t, TLIN, 1));
    set_wp(t, true);
    expect_pf(t, wr(t, TLIN, 2), TLIN, PF_P | PF_W);
    set_wp(t, false);
    expect_ok(t, wr(t, TLIN, 3));
    assert_int_equal(rd32(t, FRAME(0)), 3);
}

/* An access that crosses into a page that faults: #PF with CR2 in the
 * second page, and no byte of a write is stored. */
static void test_page_crossing(void **state)
{
    T *t = *state;
    paging32(t, 0, CR0_WP);
    pte32(t, TLIN, FRAME(0) | E_P | E_W);
    pte32(t, TLIN + 0x1000, 0);
    memset(t->ram + FRAME(0) + 0xFF0, 0xAA, 16);
    expect_pf(t, wr(t, TLIN + 0xFFE, 0x11223344), TLIN + 0x1000, PF_W);
    assert_int_equal(rd32(t, FRAME(0) + 0xFFC), 0xAAAAAAAA);
    expect_pf(t, rd(t, TLIN + 0xFFD), TLIN + 0x1000, 0);
    assert_int_equal(t->c->regs[R_EAX], 0xDEADBEEF);
    /* Second page read-only with WP = 1. */
    pte32(t, TLIN + 0x1000, FRAME(1) | E_P);
    expect_pf(t, wr(t, TLIN + 0xFFF, 0x55667788), TLIN + 0x1000, PF_P | PF_W);
    assert_int_equal(rd32(t, FRAME(0) + 0xFFC), 0xAAAAAAAA);
    assert_int_equal(rd32(t, FRAME(1)), 0);
    /* Both writable, frames apart: the bytes go to their own frames. */
    pte32(t, TLIN + 0x1000, FRAME(5) | E_P | E_W);
    expect_ok(t, invlpg(t, TLIN + 0x1000));
    expect_ok(t, wr(t, TLIN + 0xFFE, 0x11223344));
    assert_int_equal(rd32(t, FRAME(0) + 0xFFC), 0x3344AAAA);
    assert_int_equal(rd32(t, FRAME(5)) & 0xFFFF, 0x1122);
    rd_expect(t, TLIN + 0xFFE, 0x11223344);
    /* An instruction that crosses into a not-present page: the fault is
     * on the second page, EIP at the instruction. */
    pte32(t, TLIN + 0x3000, FRAME(6) | E_P | E_W);
    pte32(t, TLIN + 0x4000, 0);
    t->ram[FRAME(6) + 0xFFE] = 0xB8; /* mov eax, imm32 */
    t->ram[FRAME(6) + 0xFFF] = 0x01;
    expect_pf_at(t, fetch(t, TLIN + 0x3FFE), TLIN + 0x4000, 0, TLIN + 0x3FFE);
}

/* A20 masking applies to the physical address after translation. */
static void test_a20(void **state)
{
    T *t = *state;
    paging32(t, 0, 0);
    pte32(t, TLIN, 0x100000 | E_P | E_W);
    wr32(t, 0x100010, 0x100);
    wr32(t, 0x000010, 0x000);
    rd_expect(t, TLIN + 0x10, 0x100);
    cpu_set_a20(t->c, false);
    rd_expect(t, TLIN + 0x10, 0x000);
    cpu_set_a20(t->c, true);
    rd_expect(t, TLIN + 0x10, 0x100);
}

/* Setting an accessed bit in a page table that shares a page with decoded
 * code drops that code: the loop's MOV ECX, imm32 has the PTE for linear
 * 0x601000 as its immediate; the read through it sets A (bit 5), and the
 * second run of the instruction must see the new immediate. */
static void test_ad_write_invalidates_code(void **state)
{
    T *t = *state;
    tables32(t);
    pde32(t, 0x400000, 0x3000 | E_P | E_W | E_U); /* page table at 0x3000 */
    static const uint8_t prog[] = {
        0xB9, 0x03, 0x00, 0x20, 0x00, /* 0x3803: mov ecx, 0x00200003 (PTE 0x201) */
        0x85, 0xF6,                   /* test esi, esi */
        0x75, 0x09,                   /* jnz 0x3815 */
        0x46,                         /* inc esi */
        0xA1, 0x00, 0x10, 0x60, 0x00, /* mov eax, [0x601000] */
        0xEB, 0xEF,                   /* jmp 0x3803 */
        0x90,                         /* 0x3814 */
        0xF4,                         /* 0x3815: hlt */
    };
    assert_int_equal(bus_write_phys(&t->bus, 0x3803, prog, sizeof prog), sizeof prog);
    assert_int_equal(rd32(t, 0x3804), 0x00200003);
    wr32(t, 0x200000, 0xFEED);
    enable_paging(t, PD32, 0, 0, 0);
    t->c->eip = 0x3803;
    t->c->regs[R_ESI] = 0;
    assert_int_equal(cpu_run(t->c, 100), CPU_EXIT_HALT);
    assert_int_equal(t->c->regs[R_EAX], 0xFEED);
    assert_int_equal(rd32(t, 0x3804), 0x00200023);
    assert_int_equal(t->c->regs[R_ECX], 0x00200023);
}

/* ---- Malformed tables ---------------------------------------------------- */

typedef struct Mmio {
    uint32_t value;
    uint32_t writes, last_write;
} Mmio;
static uint32_t mmio_read(void *s, uint32_t off, unsigned size)
{
    (void)off;
    (void)size;
    return ((Mmio *)s)->value;
}
static void mmio_write(void *s, uint32_t off, uint32_t v, unsigned size)
{
    (void)off;
    (void)size;
    ((Mmio *)s)->writes++;
    ((Mmio *)s)->last_write = v;
}
static const BusOps mmio_ops = {mmio_read, mmio_write, 4, 4};

/* Tables outside RAM read as all ones (present, every flag set), in ROM
 * they cannot take A/D, in MMIO they are read and updated through the
 * device.  Nothing here may crash. */
static void test_tables_outside_ram(void **state)
{
    T *t = *state;
    CpuState *c = t->c;
    static uint8_t rom[0x1000];
    Mmio dev = {.value = FRAME(4) | E_P | E_W};
    assert_int_equal(bus_map_rom(&t->bus, 0xFFFF0000u, sizeof rom, rom, 0), 0);
    assert_int_equal(bus_map_mmio(&t->bus, 0xE0000000u, 0x1000, &mmio_ops, &dev, 0), 0);
    memset(rom, 0, sizeof rom);
    rom[0] = (uint8_t)(E_P | E_W);
    rom[2] = 0x20; /* PTE 0: frame 0x200000 = FRAME(0), read-write, A clear */
    tables32(t);
    pde32(t, 0x800000, 0xF0000000u | E_P | E_W);  /* table in unassigned space */
    pde32(t, 0xC00000, 0xFFFF0000u | E_P | E_W);  /* table in ROM */
    pde32(t, 0x1000000, 0xE0000000u | E_P | E_W); /* table in MMIO */
    wr32(t, FRAME(0), 0x0B0B);
    wr32(t, FRAME(4), 0x4444);
    enable_paging(t, PD32, 0, 0, 0);
    /* All-ones PTE: frame 0xFFFFF000, nothing there. */
    rd_expect(t, 0x800010, 0xFFFFFFFF);
    expect_ok(t, wr(t, 0x800010, 5));
    rd_expect(t, 0x800010, 0xFFFFFFFF);
    /* ROM table: translation works, the A bit is not stored. */
    rd_expect(t, 0xC00000, 0x0B0B);
    expect_ok(t, wr(t, 0xC00004, 6));
    assert_int_equal(rd32(t, FRAME(0) + 4), 6);
    assert_int_equal(rom[0], E_P | E_W);
    /* MMIO table: the walk reads the device and sets A through it. */
    rd_expect(t, 0x1000000, 0x4444);
    assert_int_equal(dev.writes, 1);
    assert_int_equal(dev.last_write, FRAME(4) | E_P | E_W | E_A);
    /* With PSE an all-ones PDE maps a 4 MiB page with reserved bits. */
    pde32(t, 0x1400000, 0xFFFFFFFFu);
    expect_ok(t, mov_cr4(t, CR4_PSE));
    expect_pf(t, rd(t, 0x1400000), 0x1400000, PF_P | PF_RSVD);
    /* CR3 outside RAM: every entry reads as all ones.  Without PSE the code
     * page itself maps to 0xFFFFF000, which fetches 0xFF bytes: #UD. */
    expect_ok(t, mov_cr4(t, 0));
    c->cr3 = 0xF0000000u;
    cpu_tlb_flush(c);
    c->eip = CODE;
    CpuExit r = cpu_step(c);
    assert_int_equal(r, CPU_EXIT_EXCEPTION);
    assert_int_equal(c->exc_vector, EXC_UD);
    /* With PSE the fetch faults on the reserved bits. */
    c->cr4 = CR4_PSE;
    cpu_tlb_flush(c);
    c->eip = CODE;
    expect_pf(t, cpu_step(c), CODE, PF_P | PF_RSVD);
}

/* The same in PAE mode: an all-ones entry has reserved bits. */
static void test_tables_outside_ram_pae(void **state)
{
    T *t = *state;
    tables_pae(t);
    wr64(t, pde_pae_addr(0x600000), 0xF0000000u | E_P | E_W);
    pte_pae(t, TLIN, 0xFFFFFF000ull | E_P | E_W); /* top of the 36-bit space */
    enable_paging(t, PDPT, CR4_PAE, EFER_NXE, 0);
    expect_pf(t, rd(t, 0x600000), 0x600000, PF_P | PF_RSVD);
    rd_expect(t, TLIN, 0xFFFFFFFF);
    expect_ok(t, wr(t, TLIN, 1));
    /* Fetching from nothing reads 0xFF bytes: FF /7 is undefined. */
    CpuExit r = fetch(t, TLIN);
    assert_int_equal(r, CPU_EXIT_EXCEPTION);
    assert_int_equal(t->c->exc_vector, EXC_UD);
}

/* The debugger's accesses (cpu_read_virt / cpu_write_virt) translate
 * without faulting, without access rights and without A/D or CR2. */
static void test_debugger_probe(void **state)
{
    T *t = *state;
    CpuState *c = t->c;
    tables32(t);
    pte32(t, TLIN, FRAME(0) | E_P); /* supervisor, read-only */
    pte32(t, TLIN + 0x1000, 0);
    wr32(t, FRAME(0) + 0xFFC, 0x12345678);
    enable_paging(t, PD32, 0, 0, CR0_WP);
    c->cr2 = 0xC2C2C2C2;
    to_cpl3(t);
    uint32_t v = 0;
    assert_true(cpu_read_virt(c, TLIN + 0xFFC, &v, 4));
    assert_int_equal(v, 0x12345678);
    assert_int_equal(pte32_get(t, TLIN), FRAME(0) | E_P);
    assert_int_equal(pde32_get(t, TLIN) & E_A, 0);
    uint8_t buf[8];
    assert_false(cpu_read_virt(c, TLIN + 0xFFC, buf, 8));
    assert_false(cpu_read_virt(c, TLIN + 0x1000, buf, 1));
    v = 0xCAFED00D;
    assert_true(cpu_write_virt(c, TLIN + 0x10, &v, 4));
    assert_int_equal(rd32(t, FRAME(0) + 0x10), 0xCAFED00D);
    assert_int_equal(pte32_get(t, TLIN), FRAME(0) | E_P);
    assert_false(cpu_write_virt(c, TLIN + 0x1000, &v, 4));
    assert_int_equal(c->cr2, 0xC2C2C2C2);
    /* Reserved bits: no translation. */
    pde32(t, 0x800000, 0x400000 | (1u << 21) | E_PS | E_P);
    c->cr4 = CR4_PSE;
    cpu_tlb_flush(c);
    assert_false(cpu_read_virt(c, 0x800000, &v, 4));
    /* Paging off: identity. */
    c->cr0 &= ~CR0_PG;
    cpu_tlb_flush(c);
    assert_true(cpu_read_virt(c, FRAME(0) + 0xFFC, &v, 4));
    assert_int_equal(v, 0x12345678);
    assert_int_equal(c->cr2, 0xC2C2C2C2);
}

/* MOV to CR0/CR4 (vol. 2 MOV CRn; vol. 3 2.5): the paging bits are
 * accepted, reserved ones are #GP(0), PG needs PE. */
static void test_control_registers(void **state)
{
    T *t = *state;
    CpuState *c = t->c;
    uint32_t all = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_PGE |
                   CR4_OSFXSR | CR4_OSXMMEXCPT;
    expect_ok(t, mov_cr4(t, all));
    assert_int_equal(c->cr4, all);
    expect_ok(t, EXEC(t, 0x0F, 0x20, 0xE1)); /* mov ecx, cr4 */
    assert_int_equal(c->regs[R_ECX], all);
    expect_gp0(t, mov_cr4(t, CR4_MCE));
    expect_gp0(t, mov_cr4(t, CR4_PCE));
    assert_int_equal(c->cr4, all);
    expect_ok(t, mov_cr4(t, 0));
    expect_gp0(t, mov_cr0(t, (c->cr0 & ~CR0_PE) | CR0_PG));
    /* Without PAE, CR3 is stored as written and no PDPTE is read. */
    expect_ok(t, mov_cr3(t, 0xFFFFFFFFu));
    assert_int_equal(c->cr3, 0xFFFFFFFFu);
    tables32(t);
    expect_ok(t, mov_cr3(t, PD32));
    expect_ok(t, mov_cr0(t, c->cr0 | CR0_PG | CR0_WP));
    expect_ok(t, EXEC(t, 0x0F, 0x20, 0xC2)); /* mov edx, cr0 */
    assert_int_equal(c->regs[R_EDX] & (CR0_PG | CR0_WP | CR0_PE), CR0_PG | CR0_WP | CR0_PE);
    /* CR2 is writable. */
    c->regs[R_EAX] = 0x1234;
    expect_ok(t, EXEC(t, 0x0F, 0x22, 0xD0));
    assert_int_equal(c->cr2, 0x1234);
}

/* Random page tables: whatever the guest writes, an access ends in success
 * or a #PF whose error code is consistent (RSVD only with P, I/D only with
 * PAE and NXE), and the host survives (run under ASan/UBSan too). */
static Rng rng = {0x706167696E673031ull}; /* fixed seed: "paging01" */

/* A physical address that is safe to point anything at: the upper half of
 * RAM (the test's code and tables are in the lower half), or nothing. */
static uint64_t rnd_frame(bool pae, uint64_t align)
{
    uint64_t f;
    switch (rng_below(&rng, 4)) {
    case 0: f = 0xF0000000u + rng_below(&rng, 0x1000000u); break;
    case 1: f = pae ? rng_next64(&rng) & 0xFFFFFFFFFull : rng_next64(&rng) & 0xFFFFFFFFu; break;
    default: f = 0x400000u + rng_below(&rng, 0x400000u); break;
    }
    f &= ~(align - 1);
    if (f < 0x400000u)
        f = 0x400000u;
    return f;
}

static uint64_t rnd_entry(bool pae)
{
    uint64_t flags = rng_next64(&rng) & 0x1FF; /* P W U PWT PCD A D PS G */
    if (rng_below(&rng, 4))
        flags |= E_P;
    bool ps = flags & E_PS;
    uint64_t e = rnd_frame(pae, ps ? (pae ? 0x200000 : 0x400000) : 0x1000) | flags;
    if (rng_below(&rng, 8) == 0)
        e |= pae ? 1ull << rng_below(&rng, 64) : 1ull << rng_below(&rng, 32);
    if (!pae)
        e &= 0xFFFFFFFFu;
    return e;
}

static void test_random_tables(void **state)
{
    T *t = *state;
    CpuState *c = t->c;
    int faults = 0, oks = 0;
    for (int iter = 0; iter < 300; iter++) {
        bool pae = iter & 1;
        uint32_t cr4 = (pae ? CR4_PAE : 0) | ((rng_next64(&rng) & 1) ? CR4_PSE : 0) |
                       ((rng_next64(&rng) & 1) ? CR4_PGE : 0);
        uint64_t efer = (pae && (rng_next64(&rng) & 1)) ? EFER_NXE : 0;
        /* Garbage in the upper half of RAM (where random entries point). */
        for (uint32_t a = 0x400000; a < 0x420000; a += 8)
            wr64(t, a, rnd_entry(pae));
        to_cpl0(t);
        c->cr0 &= ~(CR0_PG | CR0_WP);
        c->cr4 = 0;
        cpu_tlb_flush(c);
        if (pae) {
            tables_pae(t);
            for (uint32_t i = 1; i < 512; i++)
                wr64(t, PD_PAE + 8 * i, rnd_entry(true));
            for (uint32_t i = 1; i < 4; i++)
                wr64(t, PDPT + 8 * i,
                     rng_below(&rng, 3) ? (rnd_frame(true, 0x1000) | E_P) : rng_next64(&rng));
            c->cr4 = cr4;
            c->cr3 = PDPT;
            c->efer = efer;
            CpuExit r = mov_cr0(t, c->cr0 | CR0_PG | ((rng_next64(&rng) & 1) ? CR0_WP : 0));
            if (r != CPU_EXIT_BUDGET) {
                expect_gp0(t, r); /* bad PDPTE */
                continue;
            }
        } else {
            tables32(t);
            for (uint32_t i = 1; i < 1024; i++)
                wr32(t, PD32 + 4 * i, (uint32_t)rnd_entry(false));
            enable_paging(t, PD32, cr4, 0, (rng_next64(&rng) & 1) ? CR0_WP : 0);
        }
        if (rng_next64(&rng) & 1)
            to_cpl3(t);
        for (int k = 0; k < 60; k++) {
            uint32_t lin = 0x401000u + rng_below(&rng, 0xFFBFF000u);
            if (rng_below(&rng, 4) == 0) /* crossing (not past 4 GiB: a limit fault) */
                lin = ((lin - 0x1000) & ~0xFFFu) | (0xFFD + rng_below(&rng, 3));
            int kind = (int)rng_below(&rng, 8);
            CpuExit r;
            if (kind < 3) {
                r = rd(t, lin);
            } else if (kind < 6) {
                r = wr(t, lin, (uint32_t)rng_next64(&rng));
            } else if (kind == 6) {
                uint8_t buf[8];
                (void)cpu_read_virt(c, lin, buf, sizeof buf);
                (void)cpu_write_virt(c, lin, buf, 4);
                continue;
            } else {
                if (c->cpl == 0 && (rng_next64(&rng) & 1))
                    expect_ok(t, invlpg(t, lin));
                else if (c->cpl == 0)
                    reload_cr3(t);
                continue;
            }
            if (r == CPU_EXIT_BUDGET) {
                oks++;
                continue;
            }
            assert_int_equal(r, CPU_EXIT_EXCEPTION);
            assert_int_equal(c->exc_vector, EXC_PF);
            int e = c->exc_code;
            assert_true(e >= 0 && e < 0x20);
            if (e & PF_RSVD)
                assert_true(e & PF_P);
            assert_false(e & PF_ID); /* data accesses */
            assert_int_equal(!!(e & PF_U), c->cpl == 3);
            assert_int_equal(!!(e & PF_W), kind >= 3);
            /* CR2 is in the page of the first or the last byte. */
            assert_true(c->cr2 == lin || (c->cr2 & 0xFFF) == 0);
            faults++;
        }
    }
    /* Both outcomes happened. */
    assert_true(faults > 100);
    assert_true(oks > 100);
}

/* ---- A guest that handles its own page faults ------------------------- */

/* guest.asm: builds its tables, turns paging on and lets its #PF handler
 * map pages on demand, make pages writable and clear XD, logging CR2 and
 * the error code of each fault; see the file for the steps. */
static void test_guest_program(void **state)
{
    T *t = *state;
    CpuState *c = t->c;
    if (!guest_path)
        fail_msg("usage: test_paging GUEST.BIN");
    FILE *f = fopen(guest_path, "rb");
    if (!f)
        fail_msg("cannot open %s", guest_path);
    uint8_t buf[0x4000];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(n > 0 && n < 0x7000);
    assert_int_equal(bus_write_phys(&t->bus, 0x1000, buf, n), n);
    c->trap_exceptions = false; /* the guest's IDT handles them */
    c->eip = 0x1000;
    c->efer = EFER_NXE; /* WRMSR of IA32_EFER is the system engineer's; set it here */
    CpuExit r = cpu_run(c, 1000000);
    assert_int_equal(r, CPU_EXIT_HALT);
    /* RESULTS (0x9000): count, then (CR2, error code) pairs. */
    static const uint32_t expect_log[][2] = {
        {0x400123, PF_W},         /* 32-bit: not present, write */
        {0x401010, PF_P | PF_W},  /* read-only page, CR0.WP = 1 */
        {0x400123, 0},            /* PAE: not present, read */
        {0x405000, PF_P | PF_ID}, /* PAE + NXE: fetch from an XD page */
        {0x407000, PF_P | PF_W},  /* write crossing into a read-only page */
    };
    unsigned count = rd32(t, 0x9000);
    unsigned want = sizeof expect_log / sizeof expect_log[0];
    for (unsigned k = 0; k < count && k < 16; k++)
        printf("# fault %u: cr2 %#x error %#x\n", k, rd32(t, 0x9004 + 8 * k),
               rd32(t, 0x9008 + 8 * k));
    assert_int_equal(count, want);
    for (unsigned k = 0; k < want; k++) {
        assert_int_equal(rd32(t, 0x9004 + 8 * k), expect_log[k][0]);
        assert_int_equal(rd32(t, 0x9008 + 8 * k), expect_log[k][1]);
    }
    /* CHECKS (0x9800). */
    static const uint32_t expect_checks[] = {
        0x11223344, /* demand-mapped write then read */
        0x55667788, /* write after the handler made the page writable */
        0xAAAA0001, /* before INVLPG */
        0xBBBB0002, /* after INVLPG */
        0xBBBB0002, /* through a 4 MiB page */
        0x000000A3, /* its PDE: P|RW|A|PS, not D */
        0x00300063, /* PTE of 0x400000 after the write: A and D */
        0x11223344, /* PAE: the frame mapped on demand holds the first write */
        0x00000001, /* the call into the XD page returned */
        0xCCDDEEFF, /* crossing write completed after the fault */
    };
    for (unsigned k = 0; k < sizeof expect_checks / sizeof expect_checks[0]; k++)
        if (rd32(t, 0x9800 + 4 * k) != expect_checks[k])
            fail_msg("check %u: %#x, expected %#x", k, rd32(t, 0x9800 + 4 * k),
                     expect_checks[k]);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        guest_path = argv[1];
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T_(test_4k_read_write_ad),
        T_(test_4m_pse),
        T_(test_ps_ignored_without_pse),
        T_(test_4m_reserved_bits),
        T_(test_not_present),
        T_(test_rights_matrix),
        T_(test_rights_combine_levels),
        T_(test_implicit_supervisor),
        T_(test_fetch_rights),
        T_(test_pae_4k_2m),
        T_(test_pae_pdpte_registers),
        T_(test_pae_pdpte_reserved_gp),
        T_(test_pae_reserved_bits),
        T_(test_nx),
        T_(test_nx_off),
        T_(test_global_pages),
        T_(test_global_large),
        T_(test_cr3_switch),
        T_(test_invlpg),
        T_(test_invlpg_pae_2m),
        T_(test_fault_invalidates),
        T_(test_wp_toggle),
        T_(test_page_crossing),
        T_(test_a20),
        T_(test_ad_write_invalidates_code),
        T_(test_tables_outside_ram),
        T_(test_tables_outside_ram_pae),
        T_(test_debugger_probe),
        T_(test_control_registers),
        T_(test_random_tables),
        T_(test_guest_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
