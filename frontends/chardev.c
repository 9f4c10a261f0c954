/* Character devices for -serial and -debugcon (see chardev.h for the
 * spellings and the semantics, which follow QEMU's chardevs). */
#include "frontends/chardev.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Output a socket or pty did not take at once waits here, up to this
 * much; a console that nobody reads must not grow without bound. */
#define OUT_MAX (64u * 1024)
/* Input is read in pieces of at most this (and at most the UART's room). */
#define IN_CHUNK 256
/* At exit, how long buffered output may take to drain. */
#define CLOSE_DRAIN_MS 500
/* How often a wait for the first client looks at the stop flag. */
#define WAIT_POLL_MS 200

/* Telnet (RFC 854 commands, RFC 857 ECHO, RFC 858 SUPPRESS-GO-AHEAD,
 * RFC 856 BINARY). */
enum {
    TN_SE = 240,
    TN_SB = 250,
    TN_WILL = 251,
    TN_WONT = 252,
    TN_DO = 253,
    TN_DONT = 254,
    TN_IAC = 255
};
enum { TN_OPT_BINARY = 0, TN_OPT_ECHO = 1, TN_OPT_SGA = 3 };

typedef enum { CD_NULL, CD_STDIO, CD_FILE, CD_SOCKET, CD_PTY } ChardevKind;
/* Where the telnet input parser is: in data, after IAC, after IAC
 * WILL/WONT/DO/DONT (the option byte is next), inside IAC SB ... IAC SE,
 * or after an IAC inside it. */
typedef enum { TS_DATA, TS_IAC, TS_OPT, TS_SB, TS_SB_IAC } TelnetState;

struct Chardev {
    ChardevKind kind;
    char label[32];
    char where[300]; /* "tcp:0.0.0.0:4555", "unix:/tmp/s", for messages */
    FILE *out;       /* what the device writes to (NULL: nothing) */
    bool own_out;    /* out is ours to fclose */
    int fd;          /* connected socket, pty master, or stdin once attached; -1: none */
    int lfd;         /* listening socket of a server; -1: none */
    int pty_slave;   /* held open so the master never sees a hang-up */
    bool server, wait, telnet, nodelay;
    char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* a server's, to remove */
    Machine *m; /* input goes to COM(port + 1) of m; port -1: no input wanted */
    int port;
    bool term_raw;
    struct termios term_saved;
    TelnetState ts;
    uint8_t *obuf;
    size_t olen;
};

static Chardev *fail(Chardev *cd, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static Chardev *fail(Chardev *cd, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    chardev_close(cd);
    return NULL;
}

/* ---- Output ------------------------------------------------------------ */

static void disconnect(Chardev *cd)
{
    /* A server accepts again (chardev_poll polls lfd while fd < 0); a
     * client stays disconnected, as QEMU without reconnect=. */
    if (cd->kind != CD_SOCKET || cd->fd < 0)
        return;
    close(cd->fd);
    cd->fd = -1;
    cd->olen = 0;
    cd->ts = TS_DATA;
}

/* Hand bytes to the kernel without blocking: how many it took, -1 when
 * the connection is gone (and then it is closed). */
static ssize_t send_some(Chardev *cd, const uint8_t *p, size_t n)
{
    for (;;) {
        ssize_t w = cd->kind == CD_SOCKET ? send(cd->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL)
                                          : write(cd->fd, p, n);
        if (w >= 0)
            return w;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (cd->kind == CD_SOCKET) {
            disconnect(cd);
            return -1;
        }
        return 0; /* a pty: we hold the slave, so this is transient; drop */
    }
}

static void out_raw(Chardev *cd, const uint8_t *p, size_t n)
{
    if (cd->fd < 0)
        return; /* nobody connected: the guest's output is dropped */
    if (cd->olen == 0) {
        /* Keep the order: nothing goes straight out while older bytes wait. */
        ssize_t w = send_some(cd, p, n);
        if (w < 0)
            return;
        p += w;
        n -= (size_t)w;
    }
    if (n == 0)
        return;
    if (!cd->obuf && !(cd->obuf = malloc(OUT_MAX)))
        return;
    size_t take = n < OUT_MAX - cd->olen ? n : OUT_MAX - cd->olen;
    memcpy(cd->obuf + cd->olen, p, take);
    cd->olen += take; /* and the rest is dropped */
}

static void flush_out(Chardev *cd)
{
    if (cd->fd < 0 || cd->olen == 0)
        return;
    ssize_t w = send_some(cd, cd->obuf, cd->olen);
    if (w <= 0)
        return;
    memmove(cd->obuf, cd->obuf + w, cd->olen - (size_t)w);
    cd->olen -= (size_t)w;
}

/* The FILE the device writes to (fopencookie): every write is accepted,
 * whatever becomes of the bytes, so that the stream never enters its
 * error state. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t len)
{
    Chardev *cd = cookie;
    const uint8_t *p = (const uint8_t *)buf;
    if (!cd->telnet) {
        out_raw(cd, p, len);
        return (ssize_t)len;
    }
    uint8_t tmp[512];
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == TN_IAC) /* a data byte 0xFF is sent as IAC IAC */
            tmp[k++] = TN_IAC;
        tmp[k++] = p[i];
        if (k >= sizeof tmp - 1) {
            out_raw(cd, tmp, k);
            k = 0;
        }
    }
    out_raw(cd, tmp, k);
    return (ssize_t)len;
}

static bool open_cookie(Chardev *cd)
{
    cookie_io_functions_t io = {.write = cookie_write};
    cd->out = fopencookie(cd, "w", io);
    if (!cd->out)
        return false;
    /* The device writes a byte or a line at a time and flushes; with no
     * stdio buffer each write reaches the socket at once. */
    setvbuf(cd->out, NULL, _IONBF, 0);
    cd->own_out = true;
    return true;
}

/* ---- Input ------------------------------------------------------------- */

/* Strip telnet commands from buf in place; returns the data bytes left. */
static size_t telnet_filter(Chardev *cd, uint8_t *buf, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = buf[i];
        switch (cd->ts) {
        case TS_DATA:
            if (b == TN_IAC)
                cd->ts = TS_IAC;
            else
                buf[k++] = b;
            break;
        case TS_IAC:
            if (b == TN_IAC) {
                buf[k++] = b; /* IAC IAC: one data byte 0xFF */
                cd->ts = TS_DATA;
            } else if (b >= TN_WILL && b <= TN_DONT) {
                cd->ts = TS_OPT;
            } else if (b == TN_SB) {
                cd->ts = TS_SB;
            } else {
                cd->ts = TS_DATA; /* NOP, BRK, IP, AYT, GA, ...: dropped */
            }
            break;
        case TS_OPT:
            cd->ts = TS_DATA;
            break;
        case TS_SB:
            if (b == TN_IAC)
                cd->ts = TS_SB_IAC;
            break;
        case TS_SB_IAC:
            cd->ts = b == TN_SE ? TS_DATA : TS_SB;
            break;
        }
    }
    return k;
}

static size_t input_room(const Chardev *cd)
{
    return cd->port >= 0 ? machine_serial_room(cd->m, cd->port) : 0;
}

/* Returns the bytes handed to the port. */
static size_t read_input(Chardev *cd)
{
    /* With no port attached (a socket on -debugcon), input is read and
     * dropped, so that a client's hang-up is still noticed. */
    size_t room = cd->port >= 0 ? input_room(cd) : IN_CHUNK;
    if (room == 0)
        return 0;
    uint8_t buf[IN_CHUNK];
    ssize_t n;
    do
        n = read(cd->fd, buf, room < sizeof buf ? room : sizeof buf);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (n <= 0) {
        if (cd->kind == CD_SOCKET)
            disconnect(cd);
        else if (cd->kind == CD_STDIO)
            cd->fd = -1; /* end of input: nothing more comes from stdin */
        else
            cd->port = -1; /* a pty that cannot be read: stop trying */
        return 0;
    }
    size_t len = (size_t)n;
    if (cd->telnet)
        len = telnet_filter(cd, buf, len);
    if (!len || cd->port < 0)
        return 0;
    machine_serial_input(cd->m, cd->port, buf, len);
    return len;
}

static void accept_client(Chardev *cd)
{
    int fd = accept4(cd->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    if (cd->nodelay) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    cd->fd = fd;
    cd->olen = 0;
    cd->ts = TS_DATA;
    if (cd->telnet && cd->server) {
        /* As QEMU: the server echoes (the guest does) and needs no
         * go-ahead, which puts a telnet client in character mode, and
         * both directions are 8-bit clean. */
        static const uint8_t hello[] = {TN_IAC,        TN_WILL,    TN_OPT_ECHO, TN_IAC,
                                        TN_WILL,       TN_OPT_SGA, TN_IAC,      TN_WILL,
                                        TN_OPT_BINARY, TN_IAC,     TN_DO,       TN_OPT_BINARY};
        out_raw(cd, hello, sizeof hello);
    }
}

/* ---- Opening ----------------------------------------------------------- */

/* "on"/"off" after NAME= (or bare NAME: on); 1, 0, or -1 when tok is not
 * about NAME. */
static int flag_opt(const char *tok, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(tok, name, n) != 0)
        return -1;
    if (tok[n] == 0 || strcmp(tok + n, "=on") == 0)
        return 1;
    if (strcmp(tok + n, "=off") == 0)
        return 0;
    return -1;
}

static void format_where(Chardev *cd, const char *scheme, const struct sockaddr *sa)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        snprintf(cd->where, sizeof cd->where, "%.8s:%s:%u", scheme, host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        snprintf(cd->where, sizeof cd->where, "%.8s:[%s]:%u", scheme, host, port);
    }
}

static Chardev *open_inet(Chardev *cd, const char *scheme, char *addr, char *err, size_t errlen)
{
    char *colon = strrchr(addr, ':');
    if (!colon)
        return fail(cd, err, errlen, "%s: '%s:%s' needs HOST:PORT", cd->label, scheme, addr);
    *colon = 0;
    char *host = addr, *port_s = colon + 1;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        host++;
    }
    char *end;
    errno = 0;
    unsigned long port = strtoul(port_s, &end, 10);
    if (!*port_s || *end || errno || port > 65535 || (port == 0 && !cd->server) ||
        port_s[0] == '-' || port_s[0] == '+')
        return fail(cd, err, errlen, "%s: invalid port '%s' in %s:%s:%s", cd->label, port_s, scheme,
                    host, port_s);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    if (!*host && cd->server) {
        /* QEMU's empty host for a server: every interface.  IPv4 only, so
         * that the address is the same on every host; [::] asks for v6. */
        hints.ai_family = AF_INET;
        hints.ai_flags |= AI_PASSIVE;
    }
    struct addrinfo *res;
    int gai = getaddrinfo(*host ? host : NULL, port_s, &hints, &res);
    if (gai != 0)
        return fail(cd, err, errlen, "%s: cannot resolve '%s': %s", cd->label, host,
                    gai_strerror(gai));
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int ok;
        if (cd->server) {
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            ok = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4) == 0;
        } else {
            ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
        }
        if (!ok) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    snprintf(cd->where, sizeof cd->where, "%.8s:%.255s:%.15s", scheme, host, port_s);
    if (fd < 0)
        return fail(cd, err, errlen, "%s: cannot %s %s: %s", cd->label,
                    cd->server ? "listen on" : "connect to", cd->where, strerror(saved));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (cd->server) {
        cd->lfd = fd;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
            format_where(cd, scheme, (struct sockaddr *)&ss);
    } else {
        cd->fd = fd;
        if (cd->nodelay) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
    }
    return cd;
}

static Chardev *open_unix(Chardev *cd, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!*path)
        return fail(cd, err, errlen, "%s: unix: needs a socket path", cd->label);
    if (strlen(path) >= sizeof sa.sun_path)
        return fail(cd, err, errlen, "%s: socket path too long (%zu bytes at most): '%s'",
                    cd->label, sizeof sa.sun_path - 1, path);
    strcpy(sa.sun_path, path);
    snprintf(cd->where, sizeof cd->where, "unix:%.200s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(cd, err, errlen, "%s: socket: %s", cd->label, strerror(errno));
    if (cd->server) {
        /* A socket file left by an earlier run would make bind fail; QEMU
         * removes it.  Anything that is not a socket stays. */
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            unlink(path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4) != 0) {
            int e = errno;
            close(fd);
            return fail(cd, err, errlen, "%s: cannot listen on %s: %s", cd->label, cd->where,
                        strerror(e));
        }
        strcpy(cd->unix_path, path);
        cd->lfd = fd;
    } else {
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            int e = errno;
            close(fd);
            return fail(cd, err, errlen, "%s: cannot connect to %s: %s", cd->label, cd->where,
                        strerror(e));
        }
        cd->fd = fd;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return cd;
}

static Chardev *open_socket(Chardev *cd, const char *spec, char *err, size_t errlen)
{
    char buf[512];
    if (strlen(spec) >= sizeof buf)
        return fail(cd, err, errlen, "%s: character device spec too long", cd->label);
    strcpy(buf, spec);
    char *colon = strchr(buf, ':');
    *colon = 0;
    const char *scheme = buf;
    char *addr = colon + 1;
    /* Options follow the first comma (a unix path cannot hold one, as in
     * QEMU). */
    char *opts = strchr(addr, ',');
    if (opts)
        *opts++ = 0;
    cd->kind = CD_SOCKET;
    cd->telnet = strcmp(scheme, "telnet") == 0;
    cd->wait = true;
    char *save = NULL;
    for (char *tok = opts ? strtok_r(opts, ",", &save) : NULL; tok;
         tok = strtok_r(NULL, ",", &save)) {
        int v;
        if ((v = flag_opt(tok, "server")) >= 0)
            cd->server = v;
        else if ((v = flag_opt(tok, "wait")) >= 0)
            cd->wait = v;
        else if (strcmp(tok, "nowait") == 0)
            cd->wait = false;
        else if ((v = flag_opt(tok, "nodelay")) >= 0 && strcmp(scheme, "unix") != 0)
            cd->nodelay = v;
        else
            return fail(cd, err, errlen, "%s: unknown option '%s' in '%s'", cd->label, tok, spec);
    }
    if (!open_cookie(cd))
        return fail(cd, err, errlen, "%s: out of memory", cd->label);
    if (strcmp(scheme, "unix") == 0)
        return open_unix(cd, addr, err, errlen);
    return open_inet(cd, scheme, addr, err, errlen);
}

static Chardev *open_pty(Chardev *cd, char *err, size_t errlen)
{
    cd->kind = CD_PTY;
    int mfd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (mfd < 0)
        return fail(cd, err, errlen, "%s: cannot open a pty: %s", cd->label, strerror(errno));
    cd->fd = mfd;
    const char *name = grantpt(mfd) == 0 && unlockpt(mfd) == 0 ? ptsname(mfd) : NULL;
    if (!name)
        return fail(cd, err, errlen, "%s: cannot set up the pty: %s", cd->label, strerror(errno));
    snprintf(cd->where, sizeof cd->where, "%.200s", name);
    /* Holding the slave open keeps the master from reporting a hang-up
     * whenever no terminal program has it open; output meanwhile waits in
     * the pty (then in obuf, then is dropped).  Raw mode: the guest's
     * bytes pass unchanged, as a serial line. */
    cd->pty_slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (cd->pty_slave < 0)
        return fail(cd, err, errlen, "%s: cannot open %s: %s", cd->label, name, strerror(errno));
    struct termios t;
    if (tcgetattr(cd->pty_slave, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(cd->pty_slave, TCSANOW, &t);
    }
    fcntl(mfd, F_SETFL, fcntl(mfd, F_GETFL) | O_NONBLOCK);
    if (!open_cookie(cd))
        return fail(cd, err, errlen, "%s: out of memory", cd->label);
    fprintf(stderr, "char device redirected to %s (label %s)\n", name, cd->label);
    return cd;
}

Chardev *chardev_open(const char *spec, const char *label, char *err, size_t errlen)
{
    Chardev *cd = calloc(1, sizeof *cd);
    if (!cd) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cd->fd = cd->lfd = cd->pty_slave = cd->port = -1;
    snprintf(cd->label, sizeof cd->label, "%s", label);
    /* mon: multiplexes QEMU's monitor onto the device; Kestrel has no
     * monitor, so it is the device alone. */
    if (strncmp(spec, "mon:", 4) == 0)
        spec += 4;
    if (strcmp(spec, "stdio") == 0) {
        cd->kind = CD_STDIO;
        cd->out = stdout;
    } else if (strcmp(spec, "null") == 0 || strcmp(spec, "none") == 0) {
        cd->kind = CD_NULL;
    } else if (strncmp(spec, "file:", 5) == 0) {
        cd->kind = CD_FILE;
        cd->out = fopen(spec + 5, "w");
        if (!cd->out)
            return fail(cd, err, errlen, "%s: cannot open '%s': %s", label, spec + 5,
                        strerror(errno));
        cd->own_out = true;
    } else if (strcmp(spec, "pty") == 0) {
        return open_pty(cd, err, errlen);
    } else if (strncmp(spec, "tcp:", 4) == 0 || strncmp(spec, "telnet:", 7) == 0 ||
               strncmp(spec, "unix:", 5) == 0) {
        return open_socket(cd, spec, err, errlen);
    } else {
        return fail(cd, err, errlen,
                    "%s: unsupported character device '%s' (stdio, null, file:PATH, "
                    "tcp:HOST:PORT, telnet:HOST:PORT, unix:PATH, pty)",
                    label, spec);
    }
    return cd;
}

/* ---- Running ----------------------------------------------------------- */

FILE *chardev_file(const Chardev *cd)
{
    return cd ? cd->out : NULL;
}

bool chardev_is_stdio(const Chardev *cd)
{
    return cd && cd->kind == CD_STDIO;
}

void chardev_attach_serial(Chardev *cd, Machine *m, int port)
{
    if (!cd || cd->kind == CD_NULL || cd->kind == CD_FILE)
        return;
    cd->m = m;
    cd->port = port;
    if (cd->kind != CD_STDIO)
        return;
    cd->fd = STDIN_FILENO;
    /* Keys go to the guest as typed (no line editing, no echo); Ctrl-C
     * still stops Kestrel. */
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &cd->term_saved) != 0)
        return;
    struct termios t = cd->term_saved;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | IEXTEN);
    t.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
        cd->term_raw = true;
}

int chardev_wait_client(Chardev *cd, volatile int *stop)
{
    if (!cd || cd->kind != CD_SOCKET || cd->lfd < 0 || !cd->wait || cd->fd >= 0)
        return 0;
    fprintf(stderr, "kestrel: %s: waiting for connection on %s\n", cd->label, cd->where);
    while (cd->fd < 0) {
        if (stop && *stop)
            return -1;
        struct pollfd p = {.fd = cd->lfd, .events = POLLIN};
        if (poll(&p, 1, WAIT_POLL_MS) > 0)
            accept_client(cd);
    }
    return 0;
}

bool chardev_needs_poll(const Chardev *cd)
{
    if (!cd)
        return false;
    switch (cd->kind) {
    case CD_SOCKET:
        return cd->lfd >= 0 || cd->fd >= 0;
    case CD_PTY:
        return true;
    case CD_STDIO:
        return cd->fd >= 0;
    default:
        return false;
    }
}

bool chardev_can_input(const Chardev *cd)
{
    return cd && cd->port >= 0 && chardev_needs_poll(cd);
}

size_t chardev_poll(Chardev *const *cds, int n, int timeout_ms)
{
    enum { MAX_FDS = 32 };
    struct pollfd p[MAX_FDS];
    Chardev *who[MAX_FDS];
    bool is_listen[MAX_FDS];
    int np = 0;
    for (int i = 0; i < n && np + 2 <= MAX_FDS; i++) {
        Chardev *cd = cds[i];
        if (!chardev_needs_poll(cd))
            continue;
        if (cd->kind == CD_SOCKET && cd->fd < 0 && cd->lfd >= 0) {
            p[np] = (struct pollfd){.fd = cd->lfd, .events = POLLIN};
            who[np] = cd;
            is_listen[np++] = true;
        }
        if (cd->fd < 0)
            continue;
        short ev = 0;
        /* Input only while the UART has room: the rest waits in the
         * socket (or pipe, or pty) rather than being lost to an overrun. */
        if (cd->port >= 0 ? input_room(cd) > 0 : cd->kind == CD_SOCKET)
            ev |= POLLIN;
        if (cd->olen)
            ev |= POLLOUT;
        if (!ev)
            continue; /* nothing to do, and a hang-up waits for room */
        p[np] = (struct pollfd){.fd = cd->fd, .events = ev};
        who[np] = cd;
        is_listen[np++] = false;
    }
    if (np == 0) {
        if (timeout_ms > 0) {
            struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
            nanosleep(&ts, NULL);
        }
        return 0;
    }
    if (poll(p, (nfds_t)np, timeout_ms) <= 0)
        return 0; /* timeout, or a signal (the caller looks at its stop flag) */
    size_t delivered = 0;
    for (int k = 0; k < np; k++) {
        Chardev *cd = who[k];
        short r = p[k].revents;
        if (!r)
            continue;
        if (is_listen[k]) {
            if (cd->fd < 0)
                accept_client(cd);
            continue;
        }
        if (cd->fd != p[k].fd)
            continue;
        if (r & POLLOUT)
            flush_out(cd);
        if (cd->fd < 0)
            continue;
        if (p[k].events & POLLIN) {
            if (r & (POLLIN | POLLHUP | POLLERR))
                delivered += read_input(cd); /* data first; a hang-up shows as EOF after it */
        } else if (r & (POLLHUP | POLLERR)) {
            disconnect(cd); /* waiting to write to a peer that is gone */
        }
    }
    return delivered;
}

void chardev_close(Chardev *cd)
{
    if (!cd)
        return;
    if (cd->own_out && cd->out)
        fclose(cd->out);
    cd->out = NULL;
    if (cd->kind == CD_SOCKET || cd->kind == CD_PTY) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (cd->fd >= 0 && cd->olen) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            long ms = (long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
            if (ms >= CLOSE_DRAIN_MS)
                break;
            struct pollfd p = {.fd = cd->fd, .events = POLLOUT};
            if (poll(&p, 1, (int)(CLOSE_DRAIN_MS - ms)) <= 0)
                break;
            size_t before = cd->olen;
            flush_out(cd);
            if (cd->olen == before)
                break;
        }
    }
    if (cd->kind == CD_SOCKET && cd->fd >= 0) {
        /* Closing with unread input makes the kernel reset the connection,
         * and a reset can cost the peer the last output it has not read
         * yet: drop what is pending first. */
        uint8_t junk[4096];
        for (int k = 0; k < 64 && read(cd->fd, junk, sizeof junk) > 0; k++)
            ;
        close(cd->fd);
    }
    if (cd->kind == CD_PTY && cd->fd >= 0)
        close(cd->fd);
    if (cd->pty_slave >= 0)
        close(cd->pty_slave);
    if (cd->lfd >= 0)
        close(cd->lfd);
    if (cd->unix_path[0])
        unlink(cd->unix_path);
    if (cd->term_raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &cd->term_saved);
    free(cd->obuf);
    free(cd);
}
