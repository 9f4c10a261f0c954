/* x87 behaviour the host oracle cannot show (it runs in 64-bit user mode):
 * #NM from CR0.EM/TS/MP (SDM vol. 3, table 2-2), #MF at the next waiting
 * instruction with CR0.NE = 1 and FERR# without it (SDM vol. 1, 8.7), the
 * instruction/data pointers and FOP (8.1.8, 8.1.9), the 16-bit and
 * real-mode FSTENV/FSAVE layouts (figures 8-9 to 8-12), FXSAVE alignment;
 * plus FXSAVE/FXRSTOR images compared with the host's for the same state.
 * Prints "N passed, M failed". */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "machine/bus.h"
#include "tests/common/rng.h"
#include "tests/fpu/host_run.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x1000u
#define DATA 0x20000u

static int passes, fails;
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (cond) {                                                                        \
            passes++;                                                                      \
        } else {                                                                           \
            fails++;                                                                       \
            printf("FAIL %s:%d: ", __func__, __LINE__);                                    \
            printf(__VA_ARGS__);                                                           \
            printf("\n");                                                                  \
        }                                                                                  \
    } while (0)

static Bus bus;
static uint8_t *ram;
static CpuState *cpu;

static void setup_flat(void)
{
    cpu_reset(cpu);
    cpu_set_flat32(cpu);
    cpu->cr0 |= CR0_NE | CR0_MP | CR0_ET;
    cpu->trap_exceptions = true;
    fpu_reset(cpu);
    cpu->fpu.cw = 0x037F; /* as after FNINIT */
    cpu->fpu.valid = 0;
    memset(cpu->regs, 0, sizeof cpu->regs);
    cpu->regs[R_ESP] = 0x8000;
    cpu->regs[R_ESI] = DATA;
    cpu->eip = CODE;
}

static void put_code(const uint8_t *b, size_t n)
{
    bus_write_phys(&bus, CODE, b, n);
}
#define CODE_BYTES(...)                                                                    \
    do {                                                                                   \
        const uint8_t code_[] = {__VA_ARGS__};                                             \
        put_code(code_, sizeof code_);                                                     \
    } while (0)

/* Step n instructions; returns -1 or the vector of the exception that
 * stopped them. */
static int step(int n)
{
    for (int k = 0; k < n; k++) {
        CpuExit e = cpu_step(cpu);
        if (e == CPU_EXIT_EXCEPTION)
            return cpu->exc_vector;
        if (e != CPU_EXIT_BUDGET)
            return 100 + (int)e;
    }
    return -1;
}

static uint16_t rd16(uint32_t a)
{
    uint16_t v;
    bus_read_phys(&bus, a, &v, 2);
    return v;
}
static uint32_t rd32(uint32_t a)
{
    uint32_t v;
    bus_read_phys(&bus, a, &v, 4);
    return v;
}
static void wr16(uint32_t a, uint16_t v) { bus_write_phys(&bus, a, &v, 2); }

/* ---- #NM ------------------------------------------------------------------------ */

static void test_nm(void)
{
    setup_flat();
    cpu->cr0 |= CR0_EM;
    CODE_BYTES(0xD9, 0xE8); /* fld1 */
    CHECK(step(1) == EXC_NM, "EM: fld1 gives #NM");
    setup_flat();
    cpu->cr0 |= CR0_TS;
    CHECK(step(1) == EXC_NM, "TS: fld1 gives #NM");
    setup_flat();
    cpu->cr0 |= CR0_TS;
    CODE_BYTES(0xDF, 0xE0); /* fnstsw ax */
    CHECK(step(1) == EXC_NM, "TS: fnstsw ax gives #NM");
    setup_flat();
    cpu->cr0 = (cpu->cr0 | CR0_TS) & ~CR0_MP;
    CODE_BYTES(0x9B); /* fwait */
    CHECK(step(1) == -1, "TS without MP: fwait runs");
    setup_flat();
    cpu->cr0 |= CR0_TS | CR0_MP;
    CHECK(step(1) == EXC_NM, "TS with MP: fwait gives #NM");
    setup_flat();
    cpu->cr0 |= CR0_EM;
    cpu->cr0 &= ~CR0_MP;
    CHECK(step(1) == -1, "EM alone: fwait runs");
    setup_flat();
    cpu->cr0 |= CR0_TS;
    cpu->regs[R_ESI] = DATA;
    CODE_BYTES(0x0F, 0xAE, 0x06); /* fxsave [esi] */
    CHECK(step(1) == EXC_NM, "TS: fxsave gives #NM");
}

/* ---- #MF and FERR# ---------------------------------------------------------------- */

static int ferr_level = -1, ferr_calls;
static void ferr_hook(void *opaque, bool level)
{
    (void)opaque;
    ferr_level = level;
    ferr_calls++;
}

/* fldcw [esi]; fldz; fld1; fdiv st0,st1 (ZE); fnstsw ax; fwait */
static void load_div_by_zero(void)
{
    wr16(DATA, 0x037B); /* ZE unmasked */
    CODE_BYTES(0xD9, 0x2E, 0xD9, 0xEE, 0xD9, 0xE8, 0xD8, 0xF1, 0xDF, 0xE0, 0x9B, 0xDB, 0xE2, 0x9B);
}

static void test_mf(void)
{
    setup_flat();
    load_div_by_zero();
    CHECK(step(4) == -1, "the faulting fdiv itself completes");
    CHECK(cpu->fpu.sw & 0x80, "ES set after an unmasked ZE");
    CHECK(step(1) == -1 && (cpu->regs[R_EAX] & 0x8084) == 0x8084, "fnstsw ax does not wait: %04x",
          cpu->regs[R_EAX] & 0xFFFF);
    uint32_t at = cpu->eip;
    CHECK(step(1) == EXC_MF, "fwait raises #MF");
    CHECK(cpu->eip == at, "#MF is a fault at the waiting instruction (eip %#x, want %#x)", cpu->eip,
          at);
    cpu->eip = at + 1; /* skip: fnclex; fwait */
    CHECK(step(2) == -1, "after fnclex, fwait runs");

    /* A waiting x87 instruction reports it too, and the FPU state is the
     * faulting instruction's. */
    setup_flat();
    wr16(DATA, 0x037B);
    CODE_BYTES(0xD9, 0x2E, 0xD9, 0xEE, 0xD9, 0xE8, 0xD8, 0xF1, 0xD9, 0xE8);
    CHECK(step(5) == EXC_MF && cpu->eip == CODE + 8, "fld1 after the error raises #MF");
    CHECK(cpu->fpu.fip == CODE + 6 && cpu->fpu.fop == 0x0F1, "pointers name the fdiv: %#x %03x",
          cpu->fpu.fip, cpu->fpu.fop);

    /* MS-DOS compatibility: no #MF; FERR# follows ES. */
    setup_flat();
    cpu->cr0 &= ~CR0_NE;
    cpu->fpu.ferr_hook = ferr_hook;
    ferr_level = -1;
    ferr_calls = 0;
    load_div_by_zero();
    CHECK(step(4) == -1 && ferr_level == 1 && cpu->fpu.ferr, "FERR# asserted by the error");
    CHECK(step(2) == -1, "NE = 0: fwait does not fault");
    CHECK(step(1) == -1 && ferr_level == 0 && !cpu->fpu.ferr, "fnclex drops FERR#");
    CHECK(ferr_calls == 2, "two FERR# edges, saw %d", ferr_calls);
}

/* ---- Pointers and FOP ------------------------------------------------------------------ */

static void test_pointers(void)
{
    setup_flat();
    /* fld1; fadd dword [esi+8]; fadd st0,st1; fnstcw [esi]; 3E fadd dword [esi+8];
     * 67 fadd dword [bx+8]; fnstenv [esi+0x40] */
    CODE_BYTES(0xD9, 0xE8, 0xD8, 0x46, 0x08, 0xD8, 0xC1, 0xD9, 0x3E, 0x3E, 0xD8, 0x46, 0x08, 0x67,
               0xD8, 0x47, 0x08, 0xD9, 0x76, 0x40);
    cpu->regs[R_EBX] = 0x100;
    CHECK(step(2) == -1, "run");
    CHECK(cpu->fpu.fip == CODE + 2 && cpu->fpu.fcs == 0x08 && cpu->fpu.fop == 0x046,
          "fadd m32: fip %#x fcs %#x fop %03x", cpu->fpu.fip, cpu->fpu.fcs, cpu->fpu.fop);
    CHECK(cpu->fpu.fdp == DATA + 8 && cpu->fpu.fds == 0x10, "fadd m32: fdp %#x fds %#x",
          cpu->fpu.fdp, cpu->fpu.fds);
    CHECK(step(1) == -1 && cpu->fpu.fop == 0x0C1 && cpu->fpu.fip == CODE + 5 &&
              cpu->fpu.fdp == DATA + 8,
          "register form: fop %03x, data pointer kept", cpu->fpu.fop);
    CHECK(step(1) == -1 && cpu->fpu.fip == CODE + 5 && cpu->fpu.fop == 0x0C1,
          "fnstcw is a control instruction: pointers kept");
    CHECK(step(1) == -1 && cpu->fpu.fop == 0x046 && cpu->fpu.fip == CODE + 9,
          "segment prefix: fop %03x fip %#x", cpu->fpu.fop, cpu->fpu.fip);
    CHECK(step(1) == -1 && cpu->fpu.fop == 0x047 && cpu->fpu.fdp == 0x108,
          "16-bit address: fop %03x fdp %#x", cpu->fpu.fop, cpu->fpu.fdp);
    CHECK(step(1) == -1, "fnstenv");
    uint32_t e = DATA + 0x40;
    CHECK(rd32(e + 12) == CODE + 13 && rd32(e + 16) == (0x047u << 16 | 0x08) &&
              rd32(e + 20) == 0x108 && rd32(e + 24) == 0xFFFF0010u,
          "32-bit protected-mode environment: %08x %08x %08x %08x", rd32(e + 12), rd32(e + 16),
          rd32(e + 20), rd32(e + 24));
    CHECK(rd16(e) == 0x037F && (rd32(e) >> 16) == 0xFFFF, "cw stored, reserved half ones");
    CHECK(cpu->fpu.cw == 0x037F, "fnstenv masks all exceptions");
}

/* ---- 16-bit and real-mode formats ---------------------------------------------------------- */

static void test_formats(void)
{
    /* 16-bit protected mode: 66 fnstenv [esi]. */
    setup_flat();
    CODE_BYTES(0xD9, 0xE8, 0xD8, 0x46, 0x08, 0x66, 0xD9, 0x36);
    CHECK(step(3) == -1, "run");
    CHECK(rd16(DATA + 0) == 0x037F && rd16(DATA + 6) == CODE + 2 && rd16(DATA + 8) == 0x08 &&
              rd16(DATA + 10) == 8 && rd16(DATA + 12) == 0x10,
          "16-bit protected-mode environment: ip %04x cs %04x dp %04x ds %04x", rd16(DATA + 6),
          rd16(DATA + 8), rd16(DATA + 10), rd16(DATA + 12));
    CHECK(rd16(DATA + 4) == 0x3FFF, "tag word: st0 valid, others empty (%04x)", rd16(DATA + 4));

    /* Real mode: CS = 0x100, DS = 0x200. */
    cpu_reset(cpu);
    cpu->trap_exceptions = true;
    fpu_reset(cpu);
    cpu->cr0 |= CR0_NE;
    cpu_load_seg_real(cpu, SEG_CS, 0x100);
    cpu_load_seg_real(cpu, SEG_DS, 0x200);
    cpu->eip = 0;
    /* fninit; fld1; fadd dword [0x1234]; fnstenv [0x100]; 66 fnstenv [0x180];
     * fldenv [0x100]; fnstenv [0x1C0] */
    const uint8_t code[] = {0xDB, 0xE3, 0xD9, 0xE8, 0xD8, 0x06, 0x34, 0x12, 0xD9, 0x36, 0x00,
                            0x01, 0x66, 0xD9, 0x36, 0x80, 0x01, 0xD9, 0x26, 0x00, 0x01, 0xD9,
                            0x36, 0xC0, 0x01};
    bus_write_phys(&bus, 0x1000, code, sizeof code);
    CHECK(step(4) == -1, "real mode run");
    uint32_t b = 0x2000 + 0x100;
    CHECK(rd16(b + 6) == 0x1004 && rd16(b + 8) == 0x006 && rd16(b + 10) == 0x3234 &&
              rd16(b + 12) == 0,
          "16-bit real-mode environment: %04x %04x %04x %04x", rd16(b + 6), rd16(b + 8),
          rd16(b + 10), rd16(b + 12));
    CHECK(step(1) == -1, "66 fnstenv");
    b = 0x2000 + 0x180;
    CHECK(rd32(b + 12) == 0xFFFF1004u && rd32(b + 16) == 0x006 && rd32(b + 20) == 0xFFFF3234u &&
              rd32(b + 24) == 0,
          "32-bit real-mode environment: %08x %08x %08x %08x", rd32(b + 12), rd32(b + 16),
          rd32(b + 20), rd32(b + 24));
    CHECK(step(2) == -1, "fldenv, fnstenv");
    uint8_t e1[14], e2[14];
    bus_read_phys(&bus, 0x2100, e1, 14);
    bus_read_phys(&bus, 0x21C0, e2, 14);
    e1[0] = e2[0]; /* the first fnstenv masked the exceptions it stored unmasked */
    CHECK(!memcmp(e1, e2, 14), "real-mode fldenv/fnstenv round trip");

    /* 16-bit FNSAVE: registers follow the 14-byte environment. */
    setup_flat();
    CODE_BYTES(0xD9, 0xEB, 0x66, 0xDD, 0x36); /* fldpi; 66 fnsave [esi] */
    CHECK(step(2) == -1, "fnsave16");
    CHECK(rd32(DATA + 14) == 0x2168C235u && rd32(DATA + 18) == 0xC90FDAA2u && rd16(DATA + 22) == 0x4000,
          "fnsave16 st0 at offset 14");
    CHECK(cpu->fpu.cw == 0x037F && cpu->fpu.valid == 0, "fnsave reinitializes");
}

/* ---- FXSAVE / FXRSTOR ------------------------------------------------------------------------ */

static Rng rng = {0x1234567};

static void test_fxsave_align(void)
{
    setup_flat();
    cpu->regs[R_ESI] = DATA + 8;
    CODE_BYTES(0x0F, 0xAE, 0x06);
    CHECK(step(1) == EXC_GP, "fxsave to a misaligned operand: #GP");
    setup_flat();
    CODE_BYTES(0x0F, 0xAE, 0xC0); /* register form */
    CHECK(step(1) == EXC_UD, "fxsave register form: #UD");
    setup_flat();
    uint8_t img[512] = {0};
    img[24] = 0x80;
    img[25] = 0x1F;
    img[26] = 0x01; /* MXCSR bit 16: reserved */
    bus_write_phys(&bus, DATA, img, 512);
    CODE_BYTES(0x0F, 0xAE, 0x0E); /* fxrstor [esi] */
    CHECK(step(1) == EXC_GP, "fxrstor with reserved MXCSR bits: #GP");
}

/* The same x87 state (loaded by FRSTOR on both) saved by FXSAVE on the host
 * and in Kestrel: control, status and tag bytes and the register area must
 * agree (not the pointers, and not MXCSR/MXCSR_MASK/XMM, which the host
 * fills from its own state and feature set). */
static void test_fxsave_host(void)
{
    static const uint8_t insn[] = {0x0F, 0xAE, 0x06};
    HostStub *hs = host_stub_new(insn, 3);
    static uint8_t hmem[512] __attribute__((aligned(16)));
    int bad = 0;
    for (int n = 0; n < 20000; n++) {
        HostCtx h;
        memset(&h, 0, sizeof h);
        uint16_t cw = (uint16_t)(0x0040 | (rng_next64(&rng) & 0x1F3F));
        uint16_t sw = (uint16_t)(rng_next64(&rng) & 0x7F00);
        uint16_t tw = (uint16_t)rng_next64(&rng);
        memcpy(h.in, &cw, 2);
        memcpy(h.in + 4, &sw, 2);
        memcpy(h.in + 8, &tw, 2);
        for (int k = 0; k < 80; k++)
            h.in[28 + k] = (uint8_t)rng_next64(&rng);
        memset(hmem, 0xA5, sizeof hmem);
        h.mem = hmem;
        host_stub_run(hs, &h);

        setup_flat();
        bus_write_phys(&bus, DATA + 0x400, h.in, 108);
        cpu->regs[R_EBX] = DATA + 0x400;
        uint8_t fill[512];
        memset(fill, 0xA5, sizeof fill);
        bus_write_phys(&bus, DATA, fill, 512);
        CODE_BYTES(0xDD, 0x23, 0x0F, 0xAE, 0x06); /* frstor [ebx]; fxsave [esi] */
        int r = step(2);
        uint8_t kmem[512];
        bus_read_phys(&bus, DATA, kmem, 512);
        bool same = r == -1 && !memcmp(hmem, kmem, 6) && !memcmp(hmem + 32, kmem + 32, 128);
        if (!same && bad++ < 3) {
            printf("  fxsave case %d differs: host", n);
            for (int k = 0; k < 6; k++)
                printf(" %02x", hmem[k]);
            printf(" / kestrel");
            for (int k = 0; k < 6; k++)
                printf(" %02x", kmem[k]);
            printf("\n");
        }
    }
    host_stub_free(hs);
    CHECK(bad == 0, "fxsave images: %d of 20000 differ", bad);
}

/* Random FXSAVE images loaded by FXRSTOR and saved again, on both. */
static void test_fxrstor_host(void)
{
    static const uint8_t nop[] = {0x90};
    HostStub *hs = host_fxstub_new(nop, 1);
    static uint8_t in[512] __attribute__((aligned(16))), out[512] __attribute__((aligned(16)));
    int bad = 0;
    for (int n = 0; n < 20000; n++) {
        for (int k = 0; k < 512; k++)
            in[k] = (uint8_t)rng_next64(&rng);
        uint16_t cw = (uint16_t)(0x0040 | (rng_next64(&rng) & 0x1F3F));
        memcpy(in, &cw, 2);
        uint32_t mxcsr = (uint32_t)(rng_next64(&rng) & 0xFFBF);
        memcpy(in + 24, &mxcsr, 4);
        memset(in + 28, 0, 4);
        for (int k = 0; k < 8; k++)
            memset(in + 32 + 16 * k + 10, 0, 6);
        HostFxCtx h = {in, out, 0, 2, NULL, 0};
        memset(out, 0, sizeof out);
        host_fxstub_run(hs, &h);

        setup_flat();
        bus_write_phys(&bus, DATA, in, 512);
        cpu->regs[R_EDI] = DATA + 0x400;
        CODE_BYTES(0x0F, 0xAE, 0x0E, 0x0F, 0xAE, 0x07); /* fxrstor [esi]; fxsave [edi] */
        int r = step(2);
        uint8_t k[512];
        bus_read_phys(&bus, DATA + 0x400, k, 512);
        bool same = r == -1 && !memcmp(out, k, 6) && !memcmp(out + 24, k + 24, 4) &&
                    !memcmp(out + 32, k + 32, 256);
        if (!same && bad++ < 3)
            printf("  fxrstor case %d differs (exit %d): cw/sw/tw host %02x%02x %02x%02x %02x, "
                   "kestrel %02x%02x %02x%02x %02x\n",
                   n, r, out[1], out[0], out[3], out[2], out[4], k[1], k[0], k[3], k[2], k[4]);
    }
    host_stub_free(hs);
    CHECK(bad == 0, "fxrstor/fxsave images: %d of 20000 differ", bad);
}

int main(void)
{
    ram = calloc(1, RAM_SIZE);
    if (!ram || bus_init(&bus) != 0 || bus_map_ram(&bus, 0, RAM_SIZE, ram, 0) != 0) {
        fprintf(stderr, "x87_unit: out of memory\n");
        return 2;
    }
    cpu = cpu_new(&bus);
    if (!cpu) {
        fprintf(stderr, "x87_unit: cpu_new failed\n");
        return 2;
    }
    test_nm();
    test_mf();
    test_pointers();
    test_formats();
    test_fxsave_align();
    test_fxsave_host();
    test_fxrstor_host();
    cpu_free(cpu);
    bus_destroy(&bus);
    free(ram);
    printf("%d passed, %d failed\n", passes, fails);
    return fails ? 1 : 0;
}
