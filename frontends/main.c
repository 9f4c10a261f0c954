/* kestrel: the command line.  Option spellings follow QEMU's where they
 * exist, so that a QEMU command line for the same guest mostly works. */
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/chardev.h"
#include "frontends/gdbstub.h"
#include "frontends/trace.h"
#include "machine/machine.h"

/* Guest time between polls of the character devices (2 ms; 20 us while
 * input is arriving), and how long the host waits between slices when the
 * guest idles, or when it halted with only serial input left to wake it. */
#define RUN_SLICE 2000000u
#define INPUT_SLICE 20000u
#define IDLE_WAIT_MS 1
#define HALT_WAIT_MS 100

static Machine *g_machine;
/* The character devices: COM1-COM4, then the debug console.  They are
 * closed at exit (atexit), so that a unix socket file goes away on error
 * exits too. */
enum { CD_DEBUGCON = 4, N_CHARDEVS = 5 };
static Chardev *g_chardevs[N_CHARDEVS];

static void close_chardevs(void)
{
    for (int k = 0; k < N_CHARDEVS; k++) {
        chardev_close(g_chardevs[k]);
        g_chardevs[k] = NULL;
    }
}

static bool chardevs_need_poll(void)
{
    for (int k = 0; k < N_CHARDEVS; k++)
        if (chardev_needs_poll(g_chardevs[k]))
            return true;
    return false;
}

static bool chardevs_can_input(void)
{
    for (int k = 0; k < N_CHARDEVS; k++)
        if (chardev_can_input(g_chardevs[k]))
            return true;
    return false;
}

static void on_signal(int sig)
{
    (void)sig;
    if (g_machine)
        machine_request_stop(g_machine);
}

static void usage(FILE *f)
{
    fputs("usage: kestrel [options]\n"
          "  -m SIZE              guest RAM (default 256M; suffixes K, M, G)\n"
          "  -kernel FILE         boot a Multiboot kernel\n"
          "  -initrd FILE[,FILE]  Multiboot modules\n"
          "  -append STRING       kernel command line\n"
          "  -device isa-debug-exit[,iobase=N][,iosize=N]\n"
          "                       writing V to the port exits with status (V<<1)|1\n"
          "  -debugcon DEV        port 0xE9 debug console output (DEV as for -serial)\n"
          "  -serial DEV          COM1 (then COM2-COM4 when repeated); DEV is one of\n"
          "                       stdio, mon:stdio, null, file:PATH, pty,\n"
          "                       tcp:[HOST]:PORT[,server][,nowait][,nodelay],\n"
          "                       telnet:[HOST]:PORT[,server][,nowait][,nodelay],\n"
          "                       unix:PATH[,server][,nowait]\n"
          "                       (server: listen, empty HOST = all interfaces, and\n"
          "                       wait for a client unless nowait; else connect)\n"
          "  -nographic           no display (the only mode so far)\n"
          "  -no-reboot           exit instead of resetting the machine\n"
          "  -d ITEM[,ITEM]       log: unimp, guest_errors (guest events); exec (every\n"
          "                       instruction, disassembled by Capstone), cpu (the\n"
          "                       registers before each), int (exceptions, interrupts)\n"
          "  -dfilter RANGES      exec/cpu only for linear addresses in RANGES:\n"
          "                       A..B (inclusive), A+LEN or A, comma-separated\n"
          "  -D FILE              write the log to FILE (default: stderr)\n"
          "  -gdb tcp::PORT       wait for a gdb connection on PORT (loopback)\n"
          "  -s                   shorthand for -gdb tcp::1234\n"
          "  -S                   do not start the CPU until gdb says so\n"
          "  -rtc base=utc|base=YYYY-MM-DDTHH:MM:SS\n"
          "                       RTC start time (a fixed base makes runs repeatable)\n"
          "  -stats               print instructions retired and MIPS at exit\n"
          "  -cpuid-flags [all]   print the CPUID features as Linux names them (all: every\n"
          "                       name Kestrel knows), and exit\n"
          "  -h, --help           this text\n",
          f);
}

/* The feature names a Linux guest will list in /proc/cpuinfo for what
 * Kestrel's CPUID reports (the boot tests compare the two). */
static void print_cpuid_flags(bool all)
{
    Bus bus;
    char names[1024];
    if (bus_init(&bus) != 0)
        exit(1);
    CpuState *c = cpu_new(&bus);
    if (!c)
        exit(1);
    cpu_feature_names(c, all, names, sizeof names);
    puts(names);
    cpu_free(c);
    bus_destroy(&bus);
}

static _Noreturn void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "kestrel: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static uint64_t parse_size(const char *s)
{
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s)
        die("invalid memory size '%s'", s);
    unsigned long long mul = 1ull << 20; /* QEMU: a bare number is MiB */
    if (*end == 'K' || *end == 'k')
        mul = 1ull << 10, end++;
    else if (*end == 'M' || *end == 'm')
        mul = 1ull << 20, end++;
    else if (*end == 'G' || *end == 'g')
        mul = 1ull << 30, end++;
    if (*end || v == 0 || v > (1ull << 40) / mul)
        die("invalid memory size '%s'", s);
    return v * mul;
}

/* Open SPEC into slot k (a repeated -debugcon replaces the earlier one);
 * the device's output FILE (NULL: discard). */
static FILE *open_chardev(int k, const char *spec)
{
    char err[512], label[16];
    if (k == CD_DEBUGCON)
        snprintf(label, sizeof label, "debugcon");
    else
        snprintf(label, sizeof label, "serial%d", k);
    chardev_close(g_chardevs[k]);
    g_chardevs[k] = chardev_open(spec, label, err, sizeof err);
    if (!g_chardevs[k])
        die("%s", err);
    return chardev_file(g_chardevs[k]);
}

/* -d: the log categories of guest events (cfg.log_mask) and the trace
 * items (frontends/trace.h), QEMU's names where QEMU has them. */
/* Input from every device on a port; stdin goes to one port only (the
 * last -serial stdio). */
static void attach_serial_inputs(Machine *m, int serial_stdin)
{
    for (int k = 0; k < 4; k++)
        if (!chardev_is_stdio(g_chardevs[k]) || k == serial_stdin)
            chardev_attach_serial(g_chardevs[k], m, k);
}

/* Under the gdb stub: move device input and output between its slices. */
static void poll_chardevs(void *opaque)
{
    (void)opaque;
    if (chardevs_need_poll())
        chardev_poll(g_chardevs, N_CHARDEVS, 0);
}

static unsigned parse_log(const char *s, unsigned *trace)
{
    unsigned mask = 0;
    char buf[256];
    if (strlen(s) >= sizeof buf)
        die("invalid -d list '%s'", s);
    strcpy(buf, s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (strcmp(tok, "unimp") == 0)
            mask |= LOG_UNIMP;
        else if (strcmp(tok, "guest_errors") == 0)
            mask |= LOG_GUEST_ERROR;
        else if (strcmp(tok, "exec") == 0)
            *trace |= TRACE_EXEC;
        else if (strcmp(tok, "cpu") == 0)
            *trace |= TRACE_CPU;
        else if (strcmp(tok, "int") == 0)
            *trace |= TRACE_INT;
        else
            die("unknown log item '%s' (known: unimp, guest_errors, exec, cpu, int)", tok);
    }
    return mask;
}

static long parse_num(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 0);
    if (errno || end == s || *end)
        die(what, s);
    return v;
}

/* -rtc base=utc | base=YYYY-MM-DDTHH:MM:SS (UTC): where the RTC starts; a
 * fixed base makes a run independent of the host clock. */
static int64_t parse_rtc(const char *s)
{
    if (strcmp(s, "base=utc") == 0)
        return -1;
    struct tm tm = {0};
    char extra;
    if (sscanf(s, "base=%d-%d-%dT%d:%d:%d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &extra) != 6 ||
        tm.tm_year < 1970 || tm.tm_year > 2099 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
        tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 59 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
        die("invalid -rtc '%s' (base=utc or base=YYYY-MM-DDTHH:MM:SS)", s);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static void parse_device(const char *spec, MachineConfig *cfg)
{
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        die("invalid -device '%s'", spec);
    strcpy(buf, spec);
    char *tok = strtok(buf, ",");
    if (!tok || strcmp(tok, "isa-debug-exit") != 0)
        die("unsupported device '%s'", spec);
    cfg->debug_exit = true;
    while ((tok = strtok(NULL, ","))) {
        if (strncmp(tok, "iobase=", 7) == 0) {
            long v = parse_num(tok + 7, "invalid iobase '%s'");
            if (v < 0 || v > 0xFFFF)
                die("invalid iobase '%s'", tok + 7);
            cfg->debug_exit_port = (uint16_t)v;
        } else if (strncmp(tok, "iosize=", 7) == 0) {
            long v = parse_num(tok + 7, "invalid iosize '%s'");
            if (v != 1 && v != 2 && v != 4)
                die("invalid iosize '%s' (1, 2 or 4)", tok + 7);
            cfg->debug_exit_size = (uint16_t)v;
        } else {
            die("unknown isa-debug-exit property '%s'", tok);
        }
    }
}

int main(int argc, char **argv)
{
    MachineConfig cfg = {
        .ram_size = 256ull << 20,
        .debug_exit_port = 0xF4,
        .debug_exit_size = 4,
    };
    cfg.rtc_start = -1;
    int gdb_port = -1;
    int n_serial = 0, serial_stdin = -1;
    bool nographic = false, stats = false;
    bool start_paused = false;
    const char *log_path = NULL, *dfilter = NULL;
    unsigned trace_what = 0;
    atexit(close_chardevs);

    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        /* QEMU accepts --opt as -opt. */
        if (a[0] == '-' && a[1] == '-')
            a++;
        const char *next = k + 1 < argc ? argv[k + 1] : NULL;
#define NEED_ARG()                                                                         \
    do {                                                                                   \
        if (!next)                                                                         \
            die("option '%s' needs an argument", a);                                       \
        k++;                                                                               \
    } while (0)
        if (strcmp(a, "-h") == 0 || strcmp(a, "-help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "-cpuid-flags") == 0) {
            print_cpuid_flags(next && strcmp(next, "all") == 0);
            return 0;
        } else if (strcmp(a, "-m") == 0) {
            NEED_ARG();
            cfg.ram_size = parse_size(next);
        } else if (strcmp(a, "-kernel") == 0) {
            NEED_ARG();
            cfg.kernel = next;
        } else if (strcmp(a, "-initrd") == 0) {
            NEED_ARG();
            cfg.initrd = next;
        } else if (strcmp(a, "-append") == 0) {
            NEED_ARG();
            cfg.append = next;
        } else if (strcmp(a, "-device") == 0) {
            NEED_ARG();
            parse_device(next, &cfg);
        } else if (strcmp(a, "-debugcon") == 0) {
            NEED_ARG();
            cfg.debugcon = open_chardev(CD_DEBUGCON, next);
        } else if (strcmp(a, "-serial") == 0) {
            NEED_ARG();
            if (n_serial >= 4)
                die("%s", "at most four -serial ports (COM1-COM4)");
            cfg.serial[n_serial] = open_chardev(n_serial, next);
            if (chardev_is_stdio(g_chardevs[n_serial]))
                serial_stdin = n_serial;
            n_serial++;
        } else if (strcmp(a, "-nographic") == 0 || strcmp(a, "-display") == 0) {
            nographic = true;
            if (strcmp(a, "-display") == 0) {
                NEED_ARG();
                if (strcmp(next, "none"))
                    die("unsupported -display '%s' (only none)", next);
            }
        } else if (strcmp(a, "-rtc") == 0) {
            NEED_ARG();
            cfg.rtc_start = parse_rtc(next);
        } else if (strcmp(a, "-stats") == 0) {
            stats = true;
        } else if (strcmp(a, "-no-reboot") == 0) {
            cfg.no_reboot = true;
        } else if (strcmp(a, "-d") == 0) {
            NEED_ARG();
            cfg.log_mask |= parse_log(next, &trace_what);
        } else if (strcmp(a, "-dfilter") == 0) {
            NEED_ARG();
            dfilter = next;
        } else if (strcmp(a, "-D") == 0) {
            NEED_ARG();
            log_path = next;
        } else if (strcmp(a, "-gdb") == 0) {
            NEED_ARG();
            if (strncmp(next, "tcp::", 5) != 0)
                die("unsupported -gdb '%s' (use tcp::PORT)", next);
            long p = parse_num(next + 5, "invalid gdb port '%s'");
            if (p <= 0 || p > 65535)
                die("invalid gdb port '%s'", next + 5);
            gdb_port = (int)p;
        } else if (strcmp(a, "-s") == 0) {
            gdb_port = 1234;
        } else if (strcmp(a, "-S") == 0) {
            start_paused = true;
        } else {
            die("unknown option '%s' (try -help)", argv[k]);
        }
#undef NEED_ARG
    }
    if (log_path) {
        cfg.log_file = fopen(log_path, "w");
        if (!cfg.log_file)
            die("cannot open log file '%s'", log_path);
    }
    /* -nographic alone puts COM1 on the terminal, as with QEMU. */
    if (nographic && n_serial == 0) {
        cfg.serial[0] = open_chardev(0, "stdio");
        serial_stdin = 0;
    }
    if (!cfg.kernel)
        die("%s", "no guest to run: give -kernel FILE (firmware boot comes with the PC machine)");

    char err[512];
    Trace *trace = NULL;
    if (trace_what) {
        trace = trace_new(trace_what, cfg.log_file ? cfg.log_file : stderr, err, sizeof err);
        if (!trace || (dfilter && !trace_filter_parse(trace, dfilter, err, sizeof err)))
            die("%s", err);
    } else if (dfilter) {
        die("%s", "-dfilter needs -d exec or -d cpu");
    }
    Machine *m = machine_create(&cfg, err, sizeof err);
    if (!m)
        die("%s", err);
    g_machine = m;
    if (trace)
        trace_attach(trace, m->cpu);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* A server without nowait holds the guest until its first client is
     * there, as QEMU does; Ctrl-C still ends Kestrel meanwhile. */
    bool waited = true;
    for (int k = 0; k < N_CHARDEVS && waited; k++)
        waited = chardev_wait_client(g_chardevs[k], &m->stop_request) == 0;

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int status;
    if (!waited) {
        fprintf(stderr, "kestrel: interrupted\n");
        status = 130;
    } else if (gdb_port >= 0) {
        attach_serial_inputs(m, serial_stdin);
        status = gdbstub_run(m, gdb_port, start_paused, poll_chardevs, NULL);
    } else {
        if (start_paused)
            die("%s", "-S needs a debugger: add -s or -gdb tcp::PORT");
        status = 0;
        attach_serial_inputs(m, serial_stdin);
        uint64_t slice = RUN_SLICE;
        for (;;) {
            /* While a device has a socket to serve or input to deliver, the
             * guest runs in slices of guest time with the devices polled
             * between them; otherwise it runs to its end in one call. */
            uint64_t idle0 = m->idle_ns;
            MachineStop s = machine_run(m, chardevs_need_poll() ? slice : 0);
            if (s == MACHINE_BUDGET) {
                /* A guest that sat halted through nearly all of the slice
                 * is only waiting for its timers: let the host wait a
                 * little too (input ends the wait at once) rather than
                 * spin through idle guest time. */
                bool idle = m->cpu->halted && m->idle_ns - idle0 >= slice / 8 * 7;
                /* While input flows, short slices: the UART takes only a
                 * FIFO's worth (16 bytes) at a time, and the next can go
                 * in as soon as the guest has read it. */
                slice = chardev_poll(g_chardevs, N_CHARDEVS, idle ? IDLE_WAIT_MS : 0) ? INPUT_SLICE
                                                                                      : RUN_SLICE;
                continue;
            }
            if (s == MACHINE_EXIT) {
                status = m->exit_code;
                break;
            }
            if (s == MACHINE_SHUTDOWN) {
                status = 0;
                break;
            }
            if (s == MACHINE_HALTED) {
                /* Halted with no timer running: with interrupts enabled,
                 * serial input may still wake it (QEMU waits too).  Wait
                 * in poll, a bounded time so a stop request is seen. */
                if ((cpu_get_eflags(m->cpu) & FL_IF) && chardevs_can_input()) {
                    chardev_poll(g_chardevs, N_CHARDEVS, HALT_WAIT_MS);
                    continue;
                }
                fprintf(stderr, "kestrel: the guest halted with nothing left to wake it\n");
                status = 0;
                break;
            }
            if (s == MACHINE_STOP_REQUEST) {
                fprintf(stderr, "kestrel: interrupted\n");
                status = 130;
                break;
            }
        }
    }
    if (stats) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
        unsigned long long n = (unsigned long long)m->cpu->icount;
        fprintf(stderr, "kestrel: %llu instructions in %.2f s: %.1f MIPS\n", n, secs,
                secs > 0 ? n / secs / 1e6 : 0.0);
    }
    if (cfg.debugcon)
        fflush(cfg.debugcon);
    machine_destroy(m);
    trace_free(trace);
    close_chardevs();
    if (cfg.log_file)
        fclose(cfg.log_file);
    return status;
}
