/* Run one SingleStepTests case on Kestrel and compare with the capture.
 *
 * One CPU on one bus with 16 MiB of RAM serves every test.  Per test: reset
 * the CPU, load the registers and the INIT bytes, step until the HLT that
 * ends every capture (the captured final state is taken after it: IP points
 * past it), compare, then put back the bytes the test touched so the next
 * test starts from the same memory picture (see SST_FILL in sst.h).
 */
#include "sst.h"
#include "sst_exec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "machine/bus.h"

/* MOO register order -> Kestrel's general register numbers. */
static const int gpr_of[MOO_NREGS] = {
    [MOO_AX] = R_EAX, [MOO_BX] = R_EBX, [MOO_CX] = R_ECX, [MOO_DX] = R_EDX,
    [MOO_SP] = R_ESP, [MOO_BP] = R_EBP, [MOO_SI] = R_ESI, [MOO_DI] = R_EDI,
    [MOO_CS] = -1, [MOO_SS] = -1, [MOO_DS] = -1, [MOO_ES] = -1, [MOO_IP] = -1, [MOO_FLAGS] = -1,
};
static const int seg_of[MOO_NREGS] = {
    [MOO_CS] = SEG_CS + 1, [MOO_SS] = SEG_SS + 1, [MOO_DS] = SEG_DS + 1, [MOO_ES] = SEG_ES + 1,
};

/* A REP string instruction may take one step per iteration; CX is 16-bit. */
#define STEP_CAP_REP 0x10010u
#define STEP_CAP 4u

struct SstExec {
    Bus bus;
    CpuState *cpu;
    uint8_t *ram;
    uint8_t *base; /* the picture every test starts from */
    const uint32_t *watch;
    size_t n_watch;
};

SstExec *sst_exec_new(char *err, size_t errlen)
{
    SstExec *x = calloc(1, sizeof(*x));
    if (!x)
        goto oom;
    x->ram = malloc(SST_RAM_SIZE);
    x->base = malloc(SST_RAM_SIZE);
    if (!x->ram || !x->base)
        goto oom;
    memset(x->base, SST_FILL, SST_RAM_SIZE);
    for (unsigned v = 0; v < 256; v++) {
        x->base[4 * v + 0] = (uint8_t)v;
        x->base[4 * v + 1] = 0;
        x->base[4 * v + 2] = SST_STUB_SEG & 0xFF;
        x->base[4 * v + 3] = SST_STUB_SEG >> 8;
    }
    memcpy(x->ram, x->base, SST_RAM_SIZE);
    if (bus_init(&x->bus) < 0 || bus_map_ram(&x->bus, 0, SST_RAM_SIZE, x->ram, 0) < 0) {
        snprintf(err, errlen, "cannot set up the bus");
        sst_exec_free(x);
        return NULL;
    }
    x->cpu = cpu_new(&x->bus);
    if (!x->cpu) {
        snprintf(err, errlen, "cpu_new failed");
        sst_exec_free(x);
        return NULL;
    }
    return x;
oom:
    snprintf(err, errlen, "out of memory for %u MiB of guest RAM", SST_RAM_SIZE >> 20);
    sst_exec_free(x);
    return NULL;
}

void sst_exec_free(SstExec *x)
{
    if (!x)
        return;
    if (x->cpu)
        cpu_free(x->cpu);
    if (x->bus.port_map)
        bus_destroy(&x->bus);
    free(x->ram);
    free(x->base);
    free(x);
}

void sst_exec_watch(SstExec *x, const uint32_t *addrs, size_t n)
{
    x->watch = addrs;
    x->n_watch = n;
}

const uint8_t *sst_exec_ram(const SstExec *x) { return x->ram; }

/* Write the INIT bytes, merging runs of consecutive addresses (the code
 * bytes come in order) into one bus_write_phys each; it tells the CPU's
 * decoded-code cache about the new bytes. */
static void load_ram(SstExec *x, const MooRamList *l)
{
    uint8_t run[64];
    uint32_t start = 0, n = 0;
    for (uint32_t i = 0; i < l->n; i++) {
        uint32_t a = l->e[i].addr;
        if (n && (a != start + n || n == sizeof(run))) {
            bus_write_phys(&x->bus, start, run, n);
            n = 0;
        }
        if (n == 0)
            start = a;
        run[n++] = l->e[i].val;
    }
    if (n)
        bus_write_phys(&x->bus, start, run, n);
}

static void restore_byte(SstExec *x, uint32_t a)
{
    if (a < SST_RAM_SIZE && x->ram[a] != x->base[a])
        bus_write_phys(&x->bus, a, &x->base[a], 1);
}

static bool in_list(const MooRamList *l, uint32_t a)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->e[i].addr == a)
            return true;
    return false;
}

/* Append to r->detail without overflowing it. */
static void note(SstResult *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(SstResult *r, const char *fmt, ...)
{
    size_t n = strlen(r->detail);
    if (n + 8 >= sizeof(r->detail))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail + n, sizeof(r->detail) - n, fmt, ap);
    va_end(ap);
    if (strlen(r->detail) + 1 >= sizeof(r->detail))
        memcpy(r->detail + sizeof(r->detail) - 4, "...", 4);
}

static void flag_names(uint16_t bits, char *out, size_t n)
{
    static const char *const names[16] = {"CF", "b1", "PF", "b3", "AF", "b5", "ZF", "SF",
                                          "TF", "IF", "DF", "OF", "b12", "b13", "b14", "b15"};
    out[0] = 0;
    for (int i = 0; i < 16; i++) {
        if (bits >> i & 1) {
            size_t len = strlen(out);
            snprintf(out + len, n - len, "%s%s", len ? "," : "", names[i]);
        }
    }
}

/* A byte Kestrel may have written although the test does not list it. */
static void check_extra(SstExec *x, const MooTest *t, SstResult *r, uint32_t a)
{
    if (a >= SST_RAM_SIZE || x->ram[a] == x->base[a])
        return;
    if (in_list(&t->init_ram, a) || in_list(&t->fina_ram, a))
        return;
    if (r->n_stray < SST_MAX_STRAY)
        r->stray[r->n_stray] = a;
    r->n_stray++;
    r->bad |= SST_BAD_STRAY;
    if (r->n_stray == 1)
        note(r, " stray write [%05X]=%02X;", a, x->ram[a]);
}

void sst_exec_run(SstExec *x, const SstCase *c, SstResult *r)
{
    const MooTest *t = c->t;
    CpuState *cpu = x->cpu;
    memset(r, 0, sizeof(*r));
    r->vector = -1;
    r->ram = x->ram;

    for (uint32_t i = 0; i < t->init_ram.n; i++)
        if (t->init_ram.e[i].addr >= SST_PHYS_LIMIT)
            r->bad |= SST_BAD_INPUT;
    for (uint32_t i = 0; i < t->fina_ram.n; i++)
        if (t->fina_ram.e[i].addr >= SST_PHYS_LIMIT)
            r->bad |= SST_BAD_INPUT;
    if ((t->init.mask & 0x3FFF) != 0x3FFF)
        r->bad |= SST_BAD_INPUT;
    if (r->bad) {
        note(r, " test names an address past %05X or lacks initial registers;", SST_PHYS_LIMIT);
        return;
    }

    const uint16_t *iv = t->init.v;
    cpu_reset(cpu);
    cpu_set_a20(cpu, true);
    for (int i = 0; i < MOO_NREGS; i++)
        if (gpr_of[i] >= 0)
            cpu->regs[gpr_of[i]] = iv[i];
    cpu_load_seg_real(cpu, SEG_CS, iv[MOO_CS]);
    cpu_load_seg_real(cpu, SEG_SS, iv[MOO_SS]);
    cpu_load_seg_real(cpu, SEG_DS, iv[MOO_DS]);
    cpu_load_seg_real(cpu, SEG_ES, iv[MOO_ES]);
    cpu->eip = iv[MOO_IP];
    /* The 286 holds FLAGS bits 12-15 at zero in real mode: every captured
     * final FLAGS has them clear, and what it pushes (PUSHF, interrupts)
     * has them clear too, whatever the test loaded.  A 386 keeps IOPL and
     * NT, so it gets the value the 286 really had. */
    cpu_set_eflags(cpu, iv[MOO_FLAGS] & 0x0FFFu);
    load_ram(x, &t->init_ram);

    unsigned cap = (!c->decoded || c->insn.rep) ? STEP_CAP_REP : STEP_CAP;
    bool halted = false, shutdown = false;
    while (r->steps < cap) {
        CpuExit e = cpu_step(cpu);
        r->steps++;
        if (e == CPU_EXIT_HALT || cpu->halted) {
            halted = true;
            break;
        }
        if (e == CPU_EXIT_SHUTDOWN) {
            shutdown = true;
            break;
        }
    }

    /* Kestrel's final state. */
    uint32_t high = 0;
    for (int i = 0; i < MOO_NREGS; i++) {
        if (gpr_of[i] >= 0) {
            r->regs[i] = (uint16_t)cpu->regs[gpr_of[i]];
            high |= cpu->regs[gpr_of[i]] >> 16;
        } else if (seg_of[i]) {
            const SegCache *s = &cpu->seg[seg_of[i] - 1];
            r->regs[i] = s->sel;
            if (s->base != (uint32_t)s->sel << 4)
                r->bad |= SST_BAD_SEGBASE;
        }
    }
    r->regs[MOO_IP] = (uint16_t)cpu->eip;
    /* After an instruction that ends at offset FFFF (here the HLT) a 386+
     * holds EIP = 10000h: its IP does not wrap, the next fetch would raise
     * interrupt 13 (386 PRM 14.7, "Sequential execution across offset
     * 65,535").  The 286's 16-bit IP reads 0 there; the low 16 bits are
     * what the comparison sees. */
    if (cpu->eip != 0x10000u)
        high |= cpu->eip >> 16;
    uint32_t efl = cpu_get_eflags(cpu);
    r->regs[MOO_FLAGS] = (uint16_t)efl;
    high |= efl >> 16;
    if (high)
        r->bad |= SST_BAD_HIGH;
    if (cpu->cr0 & CR0_PE)
        r->bad |= SST_BAD_MODE;
    if (!halted)
        r->bad |= shutdown ? SST_BAD_SHUTDOWN : SST_BAD_HALT;
    if (halted && r->regs[MOO_CS] == SST_STUB_SEG && r->regs[MOO_IP] >= 1 &&
        r->regs[MOO_IP] <= 256)
        r->vector = r->regs[MOO_IP] - 1;

    /* Registers. */
    uint16_t fmask = c->flags_mask;
    for (int i = 0; i < MOO_NREGS; i++)
        r->want[i] = (t->fina.mask >> i & 1) ? t->fina.v[i] : iv[i];
    for (int i = 0; i < MOO_NREGS; i++) {
        uint16_t d = r->regs[i] ^ r->want[i];
        if (i == MOO_FLAGS) {
            d &= fmask;
            r->flag_diff = d;
        }
        if (d) {
            r->reg_diff |= (uint16_t)(1u << i);
            if (i == MOO_FLAGS) {
                char fn[64];
                flag_names(d, fn, sizeof(fn));
                note(r, " flags=%04X want %04X (%s);", r->regs[i], r->want[i], fn);
            } else {
                note(r, " %s=%04X want %04X;", moo_reg_names[i], r->regs[i], r->want[i]);
            }
        }
    }

    /* Memory: every FINA byte, and every INIT byte FINA does not list
     * (those kept their value).  The FLAGS image an exception pushed gets
     * the same mask as the FLAGS register.  It lies at SS:SP+4 after the
     * frame is pushed; the captures' EXCP address says so too, except
     * that it is one too low whenever SP is odd (4,199 tests), so the
     * runner takes the final SS:SP instead. */
    uint32_t fl_lo = UINT32_MAX, fl_hi = UINT32_MAX;
    if (t->has_excp) {
        fl_lo = sst_phys(r->want[MOO_SS], (uint16_t)(r->want[MOO_SP] + 4));
        fl_hi = sst_phys(r->want[MOO_SS], (uint16_t)(r->want[MOO_SP] + 5));
    }
    for (uint32_t i = 0; i < t->fina_ram.n; i++) {
        uint32_t a = t->fina_ram.e[i].addr;
        uint8_t m = 0xFF;
        if (a == fl_lo)
            m = (uint8_t)fmask;
        else if (a == fl_hi)
            m = (uint8_t)(fmask >> 8);
        if ((x->ram[a] ^ t->fina_ram.e[i].val) & m) {
            if (r->mem_diff++ < 3)
                note(r, " [%05X]=%02X want %02X;", a, x->ram[a], t->fina_ram.e[i].val);
        }
    }
    for (uint32_t i = 0; i < t->init_ram.n; i++) {
        uint32_t a = t->init_ram.e[i].addr;
        if (in_list(&t->fina_ram, a))
            continue;
        uint8_t want = sst_initial_byte(t, a);
        if (x->ram[a] != want) {
            if (r->mem_diff++ < 3)
                note(r, " [%05X]=%02X want %02X (unchanged);", a, x->ram[a], want);
        }
    }

    /* Bytes Kestrel may write where the 286 did not: an interrupt frame
     * below SS:SP, the ModRM operand, and the caller's watch list. */
    uint16_t ss = iv[MOO_SS], sp = iv[MOO_SP];
    for (unsigned k = 1; k <= 6; k++)
        check_extra(x, t, r, sst_phys(ss, (uint16_t)(sp - k)));
    if (c->decoded && c->insn.mem) {
        uint16_t seg = sst_seg_value(t, c->insn.mem_seg);
        check_extra(x, t, r, sst_phys(seg, c->insn.ea));
        check_extra(x, t, r, sst_phys(seg, (uint16_t)(c->insn.ea + 1)));
    }
    for (size_t i = 0; i < x->n_watch; i++)
        check_extra(x, t, r, x->watch[i]);

    if (!halted)
        note(r, shutdown ? " shut down;" : " no HLT reached after %u steps;", r->steps);
    if (r->vector >= 0 && !(t->has_excp && r->vector == t->excp))
    {
        if (t->has_excp)
            note(r, " Kestrel delivered vector %d (286: %u);", r->vector, t->excp);
        else
            note(r, " Kestrel delivered vector %d (286: none);", r->vector);
    }
    if (r->bad & SST_BAD_HIGH) {
        static const char *const names[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
        for (int k = 0; k < 8; k++)
            if (cpu->regs[k] >> 16)
                note(r, " %s=%08X;", names[k], cpu->regs[k]);
        if (cpu->eip >> 16)
            note(r, " eip=%08X;", cpu->eip);
        if (efl >> 16)
            note(r, " eflags=%08X;", efl);
    }
    if (r->bad & SST_BAD_SEGBASE)
        note(r, " a segment base is not selector*16;");
    if (r->bad & SST_BAD_MODE)
        note(r, " CR0.PE set;");

    r->pass = r->reg_diff == 0 && r->mem_diff == 0 && r->bad == 0;
}

void sst_exec_cleanup(SstExec *x, const SstCase *c)
{
    const MooTest *t = c->t;
    for (uint32_t i = 0; i < t->init_ram.n; i++)
        restore_byte(x, t->init_ram.e[i].addr);
    for (uint32_t i = 0; i < t->fina_ram.n; i++)
        restore_byte(x, t->fina_ram.e[i].addr);
    if ((t->init.mask & 0x3FFF) == 0x3FFF) {
        uint16_t ss = t->init.v[MOO_SS], sp = t->init.v[MOO_SP];
        for (unsigned k = 1; k <= 6; k++)
            restore_byte(x, sst_phys(ss, (uint16_t)(sp - k)));
        if (c->decoded && c->insn.mem) {
            uint16_t seg = sst_seg_value(t, c->insn.mem_seg);
            restore_byte(x, sst_phys(seg, c->insn.ea));
            restore_byte(x, sst_phys(seg, (uint16_t)(c->insn.ea + 1)));
        }
    }
    for (size_t i = 0; i < x->n_watch; i++)
        restore_byte(x, x->watch[i]);
}

size_t sst_exec_sweep(SstExec *x, uint32_t *dirty, size_t max)
{
    size_t n = 0;
    const size_t page = 4096;
    for (size_t p = 0; p < SST_RAM_SIZE; p += page) {
        if (memcmp(x->ram + p, x->base + p, page) == 0)
            continue;
        for (size_t a = p; a < p + page; a++) {
            if (x->ram[a] != x->base[a]) {
                if (n < max)
                    dirty[n] = (uint32_t)a;
                n++;
                restore_byte(x, (uint32_t)a);
            }
        }
    }
    return n;
}
