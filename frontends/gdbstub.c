/* GDB remote stub: the socket, the run loop, and the machine as a gdb
 * target.  The protocol itself is in gdb_packet.c (framing) and gdb_cmd.c
 * (commands); this file only moves bytes and runs the guest.
 *
 * Behaviour, following QEMU's stub where it has one:
 *   - listens on 127.0.0.1 only; one gdb at a time (a second connection
 *     is accepted and closed at once);
 *   - a new connection stops the guest; gdb's D (detach) removes the
 *     session's breakpoints and watchpoints and lets the guest run on, and
 *     a later gdb may attach again; k / vKill ends Kestrel (status 0);
 *   - a connection lost without D also removes the session's breakpoints,
 *     but a stopped guest stays stopped until a gdb attaches again (a
 *     crashed debugger should not let the guest run past the point being
 *     inspected); a running guest runs on;
 *   - while the guest runs, it runs in slices of RUN_SLICE instructions
 *     and the socket is polled between slices, so a 0x03 (Ctrl-C) stops it
 *     within a slice (T02);
 *   - a guest that exits (isa-debug-exit) is reported as W<status> and
 *     Kestrel then exits with that status; a shutdown (-no-reboot) is W00;
 *   - a guest halted with nothing that can wake it (MACHINE_HALTED) is
 *     still "running" for gdb, as on hardware and in QEMU: no stop reply
 *     is sent and Ctrl-C stops it.  A single-step on a halted CPU reports
 *     the stop (T05) at once, with EIP unchanged, rather than hang gdb;
 *   - gdb addresses are linear addresses (the guests run with flat
 *     segments), translated through the current page tables;
 *   - SIGINT/SIGTERM to Kestrel end it (status 130) as without gdb; a gdb
 *     waiting for a stop is told X02 first. */
#include "frontends/gdbstub.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frontends/gdb_cmd.h"

#define RUN_SLICE 100000  /* guest instructions between socket polls */
#define IDLE_POLL_MS 200  /* wake-up period while stopped, to notice host signals */
#define HALT_POLL_MS 50   /* same while the guest CPU is halted */
#define MAX_RESENDS 8     /* '-' answers per reply before giving up */
#define SEND_TIMEOUT_S 10 /* a peer that stops reading is dropped */
#define LINGER_MS 1000    /* after the last reply, wait this long for gdb to hang up */

typedef struct Stub {
    Machine *m;
    int lfd, cfd;
    bool running; /* the guest runs: gdb continued it, or nobody is attached */
    bool waiting; /* gdb waits for a stop reply */
    bool bp_stop; /* the last stop was before the breakpoint at bp_lin */
    uint32_t bp_lin;
    bool quit;
    int status;
    int resends;
    size_t tx_len;
    GdbFramer fr;
    GdbSession sess;
    GdbReply reply;
    uint8_t tx[GDB_PACKET_SIZE + 4];
} Stub;

/* ---- The machine as a gdb target ----------------------------------------- */

/* The x87 status word's TOP field (SDM vol. 1, 8.1.3) and MXCSR's
 * reserved bits (SDM vol. 1, 10.2.3), which fpu.h does not name. */
#define X87_SW_TOP 0x3800u
#define MXCSR_RESERVED 0xFFFF0000u

/* gdb's segment register order (cs ss ds es fs gs) to Kestrel's. */
static const int seg_of_gdb[6] = {SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS};

static void put_le32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *b)
{
    return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* gdb's st0-st7 are ST(i), relative to TOP; FpuState.st[] holds the
 * physical registers R0-R7 (SDM vol. 1, 8.1.2). */
static F80 *st_reg(FpuState *f, int i)
{
    return &f->st[(f->top + i) & 7];
}

/* The x87 registers other than st0-st7, as gdb's i387 layout has them:
 * 32-bit registers holding a 16-bit word (the selectors, the control,
 * status and tag words) or the 11-bit opcode. */
static uint32_t x87_reg_read(const FpuState *f, int r)
{
    switch (r) {
    case GDB_REG_FCTRL:
        return f->cw;
    case GDB_REG_FSTAT:
        /* FpuState keeps TOP apart; gdb wants it in bits 11-13 (8.1.3). */
        return (f->sw & ~X87_SW_TOP) | (uint32_t)(f->top & 7) << 11;
    case GDB_REG_FTAG:
        return fpu_tag_word(f);
    case GDB_REG_FISEG:
        return f->fcs;
    case GDB_REG_FIOFF:
        return f->fip;
    case GDB_REG_FOSEG:
        return f->fds;
    case GDB_REG_FOOFF:
        return f->fdp;
    default: /* GDB_REG_FOP */
        return f->fop;
    }
}

/* A debugger write is raw state, as in QEMU's stub: the words go in as
 * given (ES, B and FERR# are not recomputed, nor the control word's
 * reserved bits forced; the public CPU API has no FLDENV-like load), and
 * writing st(i) leaves its tag alone, as with a native gdb.  Only values
 * the register cannot hold are refused. */
static bool x87_reg_write(FpuState *f, int r, uint32_t v)
{
    if (r == GDB_REG_FIOFF || r == GDB_REG_FOOFF) {
        if (r == GDB_REG_FIOFF)
            f->fip = v;
        else
            f->fdp = v;
        return true;
    }
    if (v > (r == GDB_REG_FOP ? 0x7FFu : 0xFFFFu))
        return false; /* FOP is 11 bits (8.1.9); the rest are 16-bit words */
    switch (r) {
    case GDB_REG_FCTRL:
        f->cw = (uint16_t)v;
        break;
    case GDB_REG_FSTAT:
        f->top = (uint8_t)((v >> 11) & 7);
        f->sw = (uint16_t)(v & ~X87_SW_TOP);
        break;
    case GDB_REG_FTAG:
        /* gdb writes the full tag word; only "empty" (11) is state: the
         * rest is recomputed from the contents, as FLDENV does (8.1.7). */
        f->valid = 0;
        for (int k = 0; k < 8; k++)
            if (((v >> (2 * k)) & 3) != 3)
                f->valid |= (uint8_t)(1u << k);
        break;
    case GDB_REG_FISEG:
        f->fcs = (uint16_t)v;
        break;
    case GDB_REG_FOSEG:
        f->fds = (uint16_t)v;
        break;
    default: /* GDB_REG_FOP */
        f->fop = (uint16_t)v;
        break;
    }
    return true;
}

static bool t_reg_read(void *t, int r, uint8_t *buf)
{
    CpuState *c = ((Machine *)t)->cpu;
    FpuState *f = &c->fpu;
    uint32_t v;
    if (r >= GDB_REG_EAX && r <= GDB_REG_EDI) {
        v = c->regs[r - GDB_REG_EAX]; /* gdb's order is the encoding order */
    } else if (r >= GDB_REG_CS && r <= GDB_REG_GS) {
        v = c->seg[seg_of_gdb[r - GDB_REG_CS]].sel;
    } else if (r >= GDB_REG_ST0 && r <= GDB_REG_ST7) {
        /* gdb's i387_ext: the 64-bit significand, then sign and exponent,
         * little-endian (the FSAVE register image, SDM vol. 1, 8.1.10). */
        const F80 *x = st_reg(f, r - GDB_REG_ST0);
        put_le32(buf, (uint32_t)x->m);
        put_le32(buf + 4, (uint32_t)(x->m >> 32));
        buf[8] = (uint8_t)x->se;
        buf[9] = (uint8_t)(x->se >> 8);
        return true;
    } else if (r >= GDB_REG_FCTRL && r <= GDB_REG_FOP) {
        v = x87_reg_read(f, r);
    } else if (r >= GDB_REG_XMM0 && r <= GDB_REG_XMM7) {
        memcpy(buf, f->xmm[r - GDB_REG_XMM0].b, 16); /* b[0] is the lowest byte */
        return true;
    } else {
        switch (r) {
        case GDB_REG_EIP:
            v = c->eip;
            break;
        case GDB_REG_EFLAGS:
            v = cpu_get_eflags(c);
            break;
        case GDB_REG_MXCSR:
            v = f->mxcsr;
            break;
        case GDB_REG_CR0:
            v = c->cr0;
            break;
        case GDB_REG_CR2:
            v = c->cr2;
            break;
        case GDB_REG_CR3:
            v = c->cr3;
            break;
        case GDB_REG_CR4:
            v = c->cr4;
            break;
        default:
            return false;
        }
    }
    put_le32(buf, v);
    return true;
}

static bool t_reg_write(void *t, int r, const uint8_t *buf)
{
    CpuState *c = ((Machine *)t)->cpu;
    FpuState *f = &c->fpu;
    uint32_t v = get_le32(buf);
    if (r >= GDB_REG_EAX && r <= GDB_REG_EDI) {
        c->regs[r - GDB_REG_EAX] = v;
        return true;
    }
    if (r >= GDB_REG_CS && r <= GDB_REG_GS) {
        int seg = seg_of_gdb[r - GDB_REG_CS];
        if (v > 0xFFFF)
            return false;
        if (v == c->seg[seg].sel)
            return true; /* G rewrites every register: unchanged is fine */
        /* In real and V86 mode a selector is all there is to a segment.  In
         * protected mode it needs a descriptor load, which the CPU API
         * does not offer without faulting the guest: refused for now. */
        if (!(c->cr0 & CR0_PE) || (c->eflags & FL_VM)) {
            cpu_load_seg_real(c, seg, (uint16_t)v);
            return true;
        }
        return false;
    }
    if (r >= GDB_REG_ST0 && r <= GDB_REG_ST7) {
        F80 *x = st_reg(f, r - GDB_REG_ST0);
        x->m = v | (uint64_t)get_le32(buf + 4) << 32;
        x->se = (uint16_t)(buf[8] | buf[9] << 8);
        return true;
    }
    if (r >= GDB_REG_FCTRL && r <= GDB_REG_FOP)
        return x87_reg_write(f, r, v);
    if (r >= GDB_REG_XMM0 && r <= GDB_REG_XMM7) {
        memcpy(f->xmm[r - GDB_REG_XMM0].b, buf, 16);
        return true;
    }
    switch (r) {
    case GDB_REG_EIP:
        c->eip = v;
        return true;
    case GDB_REG_EFLAGS:
        /* VM switches the CPU mode: not the debugger's to flip. */
        cpu_set_eflags(c, (v & ~FL_VM) | (cpu_get_eflags(c) & FL_VM));
        return true;
    case GDB_REG_MXCSR:
        /* Bits 16-31 are reserved: LDMXCSR and FXRSTOR raise #GP for a
         * value with any of them set (SDM vol. 1, 10.2.3), so the stub
         * refuses it too. */
        if (v & MXCSR_RESERVED)
            return false;
        f->mxcsr = v;
        return true;
    case GDB_REG_CR2:
        c->cr2 = v;
        return true;
    /* CR0/CR3/CR4 writes change the mode and the TLB: read-only here. */
    case GDB_REG_CR0:
        return v == c->cr0;
    case GDB_REG_CR3:
        return v == c->cr3;
    case GDB_REG_CR4:
        return v == c->cr4;
    default:
        return false;
    }
}

static uint32_t t_mem_read(void *t, uint32_t addr, uint8_t *buf, uint32_t len)
{
    CpuState *c = ((Machine *)t)->cpu;
    if (cpu_read_virt(c, addr, buf, len))
        return len;
    /* Something in the range is unmapped: return what precedes it. */
    uint32_t n = 0;
    while (n < len && cpu_read_virt(c, addr + n, buf + n, 1))
        n++;
    return n;
}

static bool t_mem_write(void *t, uint32_t addr, const uint8_t *buf, uint32_t len)
{
    return cpu_write_virt(((Machine *)t)->cpu, addr, buf, len);
}

static bool t_bp_insert(void *t, uint32_t addr)
{
    return cpu_breakpoint_insert(((Machine *)t)->cpu, addr);
}

static bool t_bp_remove(void *t, uint32_t addr)
{
    return cpu_breakpoint_remove(((Machine *)t)->cpu, addr);
}

static int cpu_watch_kind(int gdb_kind)
{
    return gdb_kind == GDB_WATCH_WRITE  ? WATCH_WRITE
           : gdb_kind == GDB_WATCH_READ ? WATCH_READ
                                        : WATCH_ACCESS;
}

static bool t_watch_insert(void *t, uint32_t addr, uint32_t len, int kind)
{
    return cpu_watch_insert(((Machine *)t)->cpu, addr, len, cpu_watch_kind(kind));
}

static bool t_watch_remove(void *t, uint32_t addr, uint32_t len, int kind)
{
    return cpu_watch_remove(((Machine *)t)->cpu, addr, len, cpu_watch_kind(kind));
}

static const GdbTargetOps machine_target = {
    t_reg_read,  t_reg_write, t_mem_read,     t_mem_write,
    t_bp_insert, t_bp_remove, t_watch_insert, t_watch_remove,
};

/* ---- Connection ------------------------------------------------------------ */

static void close_conn(Stub *st, const char *why)
{
    if (st->cfd < 0)
        return;
    gdb_session_clear_points(&st->sess);
    close(st->cfd);
    st->cfd = -1;
    st->waiting = false;
    st->bp_stop = false;
    if (why)
        fprintf(stderr, "kestrel: gdb: %s\n", why);
}

static void send_raw(Stub *st, const uint8_t *p, size_t n)
{
    while (n > 0 && st->cfd >= 0) {
        ssize_t k = send(st->cfd, p, n, MSG_NOSIGNAL);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
        } else if (k < 0 && errno == EINTR) {
            if (st->m->stop_request)
                return; /* the main loop ends the run */
        } else {
            /* An error, or SEND_TIMEOUT_S passed with gdb not reading. */
            close_conn(st, "connection lost");
        }
    }
}

static void send_reply(Stub *st)
{
    if (!st->reply.send)
        return;
    st->tx_len = gdb_frame(st->reply.data, st->reply.len, st->tx, sizeof st->tx);
    st->resends = 0;
    send_raw(st, st->tx, st->tx_len);
}

/* Give gdb a moment to read the last reply and hang up: closing a socket
 * with unread input resets the connection, which can lose that reply. */
static void linger_close(Stub *st)
{
    if (st->cfd < 0)
        return;
    shutdown(st->cfd, SHUT_WR);
    for (int waited = 0; waited < LINGER_MS; waited += 50) {
        struct pollfd p = {st->cfd, POLLIN, 0};
        if (poll(&p, 1, 50) < 0 && st->m->stop_request)
            break;
        if (p.revents) {
            uint8_t junk[4096];
            ssize_t k = recv(st->cfd, junk, sizeof junk, MSG_DONTWAIT);
            if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN))
                break;
        }
    }
    close_conn(st, NULL);
}

static void accept_conn(Stub *st)
{
    int fd = accept(st->lfd, NULL, NULL);
    if (fd < 0)
        return;
    if (st->cfd >= 0) {
        close(fd);
        fprintf(stderr, "kestrel: gdb: refused a second connection\n");
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {SEND_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    st->cfd = fd;
    gdb_framer_init(&st->fr);
    gdb_session_init(&st->sess, &machine_target, st->m);
    /* A debugger that connects finds the guest stopped. */
    st->running = false;
    st->waiting = false;
    st->bp_stop = false;
    st->tx_len = 0;
}

/* ---- Running the guest ----------------------------------------------------- */

static void report(Stub *st, const GdbStop *s)
{
    st->running = false;
    st->waiting = false;
    st->bp_stop = s->kind == GDB_STOP_SIGNAL && s->breakpoint;
    st->bp_lin = s->bp_addr;
    if (st->cfd < 0)
        return;
    gdb_stop_reply(&st->sess, s, &st->reply);
    send_reply(st);
}

static void finish(Stub *st, int status)
{
    st->quit = true;
    st->status = status;
}

/* A host signal (SIGINT/SIGTERM through machine_request_stop in main.c). */
static void interrupted(Stub *st)
{
    if (st->waiting) {
        report(st, &(GdbStop){.kind = GDB_STOP_TERMINATED, .signal = GDB_SIGINT});
        linger_close(st);
    }
    fprintf(stderr, "kestrel: interrupted\n");
    finish(st, 130);
}

/* The guest stopped for a reason other than the slice budget. */
static void on_machine_stop(Stub *st, MachineStop ms, bool step)
{
    Machine *m = st->m;
    switch (ms) {
    case MACHINE_BUDGET:
        break;
    case MACHINE_DEBUG: {
        const CpuDebugHit *h = &m->cpu->debug_hit;
        GdbStop s = {.kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP};
        if (h->watch_kind) {
            s.watch_kind = h->watch_kind == WATCH_WRITE  ? GDB_WATCH_WRITE
                           : h->watch_kind == WATCH_READ ? GDB_WATCH_READ
                                                         : GDB_WATCH_ACCESS;
            s.watch_addr = h->addr;
        } else if (h->breakpoint) {
            s.breakpoint = true;
            s.bp_addr = h->addr;
        }
        if (st->cfd < 0 && !step) {
            /* Nobody attached (breakpoints went with the session): run on. */
            m->cpu->debug_resume = true;
            return;
        }
        report(st, &s);
        return;
    }
    case MACHINE_HALTED:
        if (step)
            report(st, &(GdbStop){.kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP});
        return; /* running: keep waiting (see the top of this file) */
    case MACHINE_EXIT:
        report(st, &(GdbStop){.kind = GDB_STOP_EXITED, .status = m->exit_code});
        finish(st, m->exit_code);
        return;
    case MACHINE_SHUTDOWN:
        report(st, &(GdbStop){.kind = GDB_STOP_EXITED, .status = 0});
        finish(st, 0);
        return;
    case MACHINE_STOP_REQUEST:
        interrupted(st);
        return;
    }
}

static void resume(Stub *st, bool step)
{
    CpuState *c = st->m->cpu;
    memset(&c->debug_hit, 0, sizeof c->debug_hit);
    if (step) {
        /* Exactly one instruction; breakpoints do not apply to a step. */
        st->bp_stop = false;
        on_machine_stop(st, machine_step(st->m), true);
        return;
    }
    /* Continuing from a breakpoint stop at the same place runs the
     * instruction there instead of stopping again; a PC moved by gdb
     * (jump) onto a breakpoint stops at once, as gdb expects. */
    if (st->bp_stop && c->seg[SEG_CS].base + c->eip == st->bp_lin)
        c->debug_resume = true;
    st->bp_stop = false;
    st->running = true;
    st->waiting = true;
}

/* ---- Packets --------------------------------------------------------------- */

static void on_packet(Stub *st)
{
    GdbAction a = gdb_dispatch(&st->sess, st->fr.pkt, st->fr.len, &st->reply);
    switch (a) {
    case GDB_ACT_REPLY:
        send_reply(st);
        break;
    case GDB_ACT_CONTINUE:
        resume(st, false);
        break;
    case GDB_ACT_STEP:
        resume(st, true);
        break;
    case GDB_ACT_DETACH:
        send_reply(st);
        linger_close(st);
        st->running = true;
        break;
    case GDB_ACT_KILL:
        send_reply(st);
        linger_close(st);
        fprintf(stderr, "kestrel: killed by gdb\n");
        finish(st, 0);
        break;
    }
}

static void on_byte(Stub *st, uint8_t b)
{
    bool ack = !st->sess.no_ack;
    switch (gdb_framer_feed(&st->fr, b)) {
    case GDB_EV_NONE:
        break;
    case GDB_EV_ACK:
        st->resends = 0;
        break;
    case GDB_EV_NAK:
        if (ack && st->tx_len && st->resends < MAX_RESENDS) {
            st->resends++;
            send_raw(st, st->tx, st->tx_len);
        }
        break;
    case GDB_EV_BAD:
        if (ack)
            send_raw(st, (const uint8_t *)"-", 1);
        break;
    case GDB_EV_INTERRUPT:
        if (st->waiting)
            report(st, &(GdbStop){.kind = GDB_STOP_SIGNAL, .signal = GDB_SIGINT});
        break;
    case GDB_EV_OVERSIZE:
        if (ack)
            send_raw(st, (const uint8_t *)"+", 1);
        if (!st->waiting) {
            st->reply = (GdbReply){.send = true, .len = 3, .data = "E01"};
            send_reply(st);
        }
        break;
    case GDB_EV_PACKET:
        if (ack)
            send_raw(st, (const uint8_t *)"+", 1);
        /* All-stop: while the guest runs gdb sends nothing but Ctrl-C;
         * anything else is dropped. */
        if (!st->waiting)
            on_packet(st);
        break;
    }
}

static void read_conn(Stub *st)
{
    uint8_t buf[4096];
    ssize_t n = recv(st->cfd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) {
        close_conn(st, "connection closed");
        return;
    }
    if (n < 0) {
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            close_conn(st, "connection lost");
        return;
    }
    for (ssize_t k = 0; k < n && st->cfd >= 0 && !st->quit; k++)
        on_byte(st, buf[k]);
}

/* Wait up to timeout_ms for a connection or bytes from gdb, and act on them. */
static void service(Stub *st, int timeout_ms)
{
    struct pollfd p[2] = {{st->lfd, POLLIN, 0}, {st->cfd, POLLIN, 0}};
    int n = st->cfd >= 0 ? 2 : 1;
    if (poll(p, (nfds_t)n, timeout_ms) <= 0)
        return; /* timeout, or a signal: the main loop looks at stop_request */
    if (n == 2 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
        read_conn(st);
    if (p[0].revents & POLLIN)
        accept_conn(st);
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never reachable from outside */
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int gdbstub_run(Machine *m, int port, bool paused, void (*poll_devices)(void *opaque),
                void *opaque)
{
    Stub *st = calloc(1, sizeof *st);
    if (!st) {
        fprintf(stderr, "kestrel: out of memory\n");
        return 1;
    }
    st->m = m;
    st->cfd = -1;
    st->lfd = listen_on(port);
    if (st->lfd < 0) {
        fprintf(stderr, "kestrel: gdb: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        free(st);
        return 1;
    }
    fprintf(stderr, "kestrel: gdb: listening on 127.0.0.1:%d%s\n", port,
            paused ? " (guest paused until gdb continues it)" : "");
    st->running = !paused;

    while (!st->quit) {
        if (m->stop_request) {
            interrupted(st);
            break;
        }
        if (poll_devices)
            poll_devices(opaque);
        if (!st->running) {
            service(st, IDLE_POLL_MS);
            continue;
        }
        MachineStop ms = machine_run(m, RUN_SLICE);
        if (ms == MACHINE_BUDGET)
            service(st, 0);
        else if (ms == MACHINE_HALTED)
            service(st, HALT_POLL_MS);
        else
            on_machine_stop(st, ms, false);
    }
    linger_close(st);
    close(st->lfd);
    int status = st->status;
    free(st);
    return status;
}
