#!/usr/bin/env python3
"""Socket, pty and bad-argument backends of -serial (frontends/chardev.c).

usage: serial_test.py KESTREL GUEST_BIN SCENARIO

KESTREL runs guest.asm (READY on COM1, then an upper-casing echo of COM1
until a line "quit", then BYE and isa-debug-exit status 33) with COM1 on a
socket; the test is the client and checks every byte that comes back.
Ports are chosen free at run time (or given as 0 and read back from the
waiting message), so several runs can go on at once.  Scenarios:

  tcp        tcp:127.0.0.1:PORT,server: the guest does not start before the
             client connects (wait); banner, echo and exit round trip
  telnet     telnet:...,server: the negotiation bytes, IAC commands
             stripped from input, IAC IAC for a data 0xFF both ways
  unix       unix:PATH,server in a temporary directory; the socket file is
             removed at exit
  nowait     tcp:...,server,nowait: the guest runs with nobody connected,
             its banner is dropped, and a late client gets later output
  reconnect  a first client goes away; a second one connects to the same
             server and gets the output from then on
  client     tcp:HOST:PORT without server: Kestrel connects to the test
  flood      a client that sends much and reads nothing: the guest's echo
             fills the socket and Kestrel's 64 KiB buffer, then is dropped,
             and the guest still runs to its end (output never blocks)
  irq-idle   the guest sleeps in HLT until a UART interrupt: Kestrel must
             not spin meanwhile, and input must still wake the guest
  pty        -serial pty: the announced /dev/pts/N carries the round trip
  badargs    bad -serial values: non-zero exit, exactly one stderr line
"""
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time

KESTREL, GUEST, SCENARIO = sys.argv[1:4]
FAILURES = []
TIMEOUT = 10  # seconds for any one expected event
EXIT_STATUS = 33  # isa-debug-exit with 0x10: (0x10 << 1) | 1
BANNER = b"READY\n"
IAC, WILL, DO, SB, SE = 255, 251, 253, 250, 240
TELNET_HELLO = bytes([IAC, WILL, 1, IAC, WILL, 3, IAC, WILL, 0, IAC, DO, 0])


class Abort(Exception):
    """A failed expectation the rest of the scenario depends on."""


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Kestrel:
    """kestrel on the guest with COM1 on `serial`; stderr to a file."""

    def __init__(self, tmp, serial, extra=()):
        self.debugcon = os.path.join(tmp, "debugcon.txt")
        self.errpath = os.path.join(tmp, "stderr-%d.txt" % time.monotonic_ns())
        self.err = open(self.errpath, "wb")
        self.p = subprocess.Popen(
            [KESTREL, "-kernel", GUEST, "-device", "isa-debug-exit", "-display", "none",
             "-debugcon", "file:" + self.debugcon, "-serial", serial, *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.err)

    def stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_stderr(self, pattern):
        """The first match of pattern on stderr, or None if kestrel ends or
        time runs out first."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            m = re.search(pattern, self.stderr())
            if m:
                return m
            if self.p.poll() is not None:
                return re.search(pattern, self.stderr())
            time.sleep(0.02)
        return None

    def debug_output(self):
        try:
            with open(self.debugcon, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def wait_debug(self, want):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and want not in self.debug_output():
            if self.p.poll() is not None:
                break
            time.sleep(0.02)
        return want in self.debug_output()

    def finish(self, timeout=TIMEOUT):
        """Exit status (None if kestrel had to be killed)."""
        try:
            status = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            status = None
        out = self.p.stdout.read()
        self.p.stdout.close()
        self.err.close()
        check(out == b"", "nothing on kestrel's stdout (got %r)" % out[:80])
        return status

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def recv_exact(conn, n):
    """Exactly n bytes from a socket or fd (less if it ends or times out)."""
    data = b""
    deadline = time.monotonic() + TIMEOUT
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([conn], [], [], left)
        if not r:
            break
        chunk = conn.recv(n - len(data)) if isinstance(conn, socket.socket) else \
            os.read(conn, n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def expect(conn, want, what):
    """The next bytes must be exactly want; otherwise the scenario ends."""
    got = recv_exact(conn, len(want))
    if not check(got == want, "%s: %r (got %r)" % (what, want, got)):
        raise Abort()


def send(conn, data):
    if isinstance(conn, socket.socket):
        conn.sendall(data)
    else:
        os.write(conn, data)


def expect_eof(conn, what):
    """After the guest's last byte, the connection ends with nothing more."""
    rest = b""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        r, _, _ = select.select([conn], [], [], deadline - time.monotonic())
        if not r:
            break
        try:
            chunk = conn.recv(4096)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return check(rest == b"", "%s: closed with no extra bytes (extra %r)" % (what, rest))
        rest += chunk
    return check(False, "%s: connection not closed (extra %r)" % (what, rest))


def connect(family, addr):
    """Connect, retrying briefly (a nowait server may not listen yet)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.connect(addr)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def round_trip(conn, line, what):
    """Send a line; the guest echoes it upper-cased."""
    send(conn, line)
    expect(conn, line.upper(), what + ": echo of %r" % line)


def quit_and_exit(k, conn, what):
    send(conn, b"quit\n")
    expect(conn, b"QUIT\nBYE\n", what + ": quit")
    status = k.finish()
    check(status == EXIT_STATUS, "%s: exit status %s (want %d); stderr %r" %
          (what, status, EXIT_STATUS, k.stderr()))
    check(k.debug_output() == b"ready\nbye\n", "%s: the guest's debug console %r" %
          (what, k.debug_output()))
    if isinstance(conn, socket.socket):
        expect_eof(conn, what)


def start_listening(tmp, spec_fmt, extra=()):
    """A kestrel server on a free loopback port; spec_fmt has {port}.  A port
    another run took in between makes kestrel fail to bind: try again."""
    for _ in range(5):
        port = free_port()
        k = Kestrel(tmp, spec_fmt.format(port=port), extra)
        m = k.wait_stderr(r"waiting for connection on \S+:(\d+)\n|cannot listen")
        if m and m.group(1):
            check(int(m.group(1)) == port, "kestrel announces port %d: %r" % (port, m.group(0)))
            return k, port
        k.kill()
        if not (m and "cannot listen" in m.group(0)):
            break
    raise SystemExit("FAIL: kestrel did not listen: %r" % k.stderr())


def start_nowait(tmp, spec_fmt):
    """A nowait server prints nothing: retry while the bind fails."""
    for _ in range(5):
        port = free_port()
        k = Kestrel(tmp, spec_fmt.format(port=port))
        if k.wait_debug(b"ready\n"):
            return k, port
        k.kill()
        if "cannot listen" not in k.stderr():
            break
    raise SystemExit("FAIL: kestrel with nowait did not start: %r" % k.stderr())


def scenario_tcp(tmp):
    k, port = start_listening(tmp, "tcp:127.0.0.1:{port},server")
    try:
        # wait: the guest must not run before a client is there.
        time.sleep(0.3)
        check(k.debug_output() == b"" and k.p.poll() is None,
              "the guest waits for the first client (debug console %r)" % k.debug_output())
        conn = connect(socket.AF_INET, ("127.0.0.1", port))
        expect(conn, BANNER, "tcp: banner")
        round_trip(conn, b"Hello, kestrel! 0123 ~\n", "tcp")
        # Bytes in several writes, and more than the 16-byte FIFO at once.
        round_trip(conn, b"abcdefghijklmnopqrstuvwxyz" * 4 + b"\n", "tcp, 105 bytes")
        send(conn, b"x")
        time.sleep(0.1)
        send(conn, b"y\n")
        expect(conn, b"XY\n", "tcp: a line in two writes")
        quit_and_exit(k, conn, "tcp")
    finally:
        k.kill()


def scenario_gdb(tmp):
    """Under the gdb stub (-gdb, no -S: the guest runs with no debugger
    attached), the serial socket still carries input and output."""
    gdb_port = free_port()
    k, port = start_listening(tmp, "tcp:127.0.0.1:{port},server",
                              ("-gdb", "tcp::%d" % gdb_port))
    try:
        conn = connect(socket.AF_INET, ("127.0.0.1", port))
        expect(conn, BANNER, "gdb: banner")
        round_trip(conn, b"under the stub\n", "gdb")
        quit_and_exit(k, conn, "gdb")
    finally:
        k.kill()


def scenario_telnet(tmp):
    k, port = start_listening(tmp, "telnet:127.0.0.1:{port},server")
    try:
        conn = connect(socket.AF_INET, ("127.0.0.1", port))
        expect(conn, TELNET_HELLO, "telnet: IAC WILL ECHO, WILL SGA, WILL/DO BINARY on connect")
        expect(conn, BANNER, "telnet: banner")
        # A client's replies and a subnegotiation are not data; IAC IAC is
        # one 0xFF, which the guest echoes and Kestrel doubles again.
        send(conn, bytes([IAC, DO, 1, IAC, DO, 3]) + b"ab" + bytes([IAC, 241]) + b"c" +
             bytes([IAC, SB, 24, 0]) + b"VT100" + bytes([IAC, SE]) + bytes([IAC, IAC]) + b"d\n")
        expect(conn, b"ABC" + bytes([IAC, IAC]) + b"D\n", "telnet: commands stripped, 0xFF doubled")
        # A command split across writes.
        send(conn, b"e" + bytes([IAC]))
        time.sleep(0.1)
        send(conn, bytes([WILL, 1]) + b"f\n")
        expect(conn, b"EF\n", "telnet: IAC sequence split across writes")
        quit_and_exit(k, conn, "telnet")
    finally:
        k.kill()


def scenario_unix(tmp):
    path = os.path.join(tmp, "com1.sock")
    k = Kestrel(tmp, "unix:%s,server" % path)
    try:
        m = k.wait_stderr(r"waiting for connection on unix:(\S+)\n")
        check(m is not None and m.group(1) == path, "announces unix:%s (%r)" % (path, k.stderr()))
        if m is None:
            return
        conn = connect(socket.AF_UNIX, path)
        expect(conn, BANNER, "unix: banner")
        round_trip(conn, b"over a unix socket\n", "unix")
        quit_and_exit(k, conn, "unix")
        check(not os.path.exists(path), "unix: the socket file is removed at exit")
    finally:
        k.kill()


def scenario_nowait(tmp):
    k, port = start_nowait(tmp, "tcp:127.0.0.1:{port},server,nowait")
    try:
        check("waiting" not in k.stderr(), "nowait: no waiting message (%r)" % k.stderr())
        # The guest printed READY to nobody and now waits for input.
        conn = connect(socket.AF_INET, ("127.0.0.1", port))
        send(conn, b"late\n")
        expect(conn, b"LATE\n", "nowait: the banner was dropped; later output arrives")
        quit_and_exit(k, conn, "nowait")
    finally:
        k.kill()


def scenario_reconnect(tmp):
    k, port = start_listening(tmp, "tcp:127.0.0.1:{port},server")
    try:
        c1 = connect(socket.AF_INET, ("127.0.0.1", port))
        expect(c1, BANNER, "client 1: banner")
        round_trip(c1, b"one\n", "client 1")
        c1.close()
        c2 = connect(socket.AF_INET, ("127.0.0.1", port))
        round_trip(c2, b"two\n", "client 2 after client 1 left")
        c2.close()
        # A third, and input that was sent before the previous hang-up was
        # noticed is not lost.
        c3 = connect(socket.AF_INET, ("127.0.0.1", port))
        round_trip(c3, b"three\n", "client 3")
        quit_and_exit(k, c3, "reconnect")
    finally:
        k.kill()


def scenario_client(tmp):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    k = Kestrel(tmp, "tcp:127.0.0.1:%d" % port)
    try:
        srv.settimeout(TIMEOUT)
        conn, _ = srv.accept()
        expect(conn, BANNER, "client mode: banner")
        round_trip(conn, b"kestrel connected\n", "client mode")
        quit_and_exit(k, conn, "client mode")
    finally:
        k.kill()
        srv.close()


def scenario_flood(tmp):
    path = os.path.join(tmp, "com1.sock")
    k = Kestrel(tmp, "unix:%s,server" % path)
    try:
        if not check(k.wait_stderr(r"waiting for connection") is not None,
                     "flood: kestrel listens (%r)" % k.stderr()):
            return
        conn = connect(socket.AF_UNIX, path)
        # A unix socket holds little of a byte-at-a-time stream (each byte
        # is its own buffer), so most of this echo has nowhere to go.
        n = 100000
        conn.sendall(b"x" * n + b"\nquit\n")
        # The guest echoes all n bytes through the UART before it reads
        # "quit": at ~60 KB/s on a release build that is under 2 s, but an
        # ASan build on a busy machine took over 10 s in CI.
        status = k.finish(timeout=90)
        check(status == EXIT_STATUS, "flood: the guest ran to its end, status %s" % status)
        check(k.debug_output() == b"ready\nbye\n", "flood: debug console %r" % k.debug_output())
        got = b""
        while True:
            chunk = conn.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        body = got[len(BANNER):]
        check(got.startswith(BANNER) and body == b"X" * len(body) and len(body) < n,
              "flood: %d of %d echoed bytes arrived, in order, the rest dropped" % (len(body), n))
    finally:
        k.kill()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scenario_irq_idle(tmp):
    k, port = start_listening(tmp, "tcp:127.0.0.1:{port},server", ["-append", "irq"])
    try:
        conn = connect(socket.AF_INET, ("127.0.0.1", port))
        expect(conn, BANNER, "irq: banner")
        round_trip(conn, b"first\n", "irq")
        # Now the guest is halted until the next byte.  A spinning main
        # loop would burn a whole CPU over this second.
        time.sleep(0.2)
        c0, t0 = cpu_seconds(k.p.pid), time.monotonic()
        time.sleep(1.0)
        used, wall = cpu_seconds(k.p.pid) - c0, time.monotonic() - t0
        check(used < 0.25 * wall, "irq: a halted guest costs %.2f s CPU in %.2f s" % (used, wall))
        round_trip(conn, b"woken\n", "irq: input wakes the halted guest")
        quit_and_exit(k, conn, "irq")
    finally:
        k.kill()


def scenario_pty(tmp):
    k = Kestrel(tmp, "pty")
    try:
        m = k.wait_stderr(r"char device redirected to (/dev/\S+) \(label serial0\)\n")
        if m is None and "cannot" in k.stderr():
            print("SKIP: no pseudo-terminals here: %r" % k.stderr())
            sys.exit(77)
        check(m is not None, "pty: announced as QEMU does (%r)" % k.stderr())
        if m is None:
            return
        fd = os.open(m.group(1), os.O_RDWR | os.O_NOCTTY)
        try:
            expect(fd, BANNER, "pty: banner")
            round_trip(fd, b"pseudo terminal\n", "pty")
            quit_and_exit(k, fd, "pty")
        finally:
            os.close(fd)
    finally:
        k.kill()


def scenario_badargs(tmp):
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen(1)
    busy = held.getsockname()[1]
    closed = free_port()
    cases = [
        "tcp:nohost:99999",                 # port out of range
        "tcp:127.0.0.1:0",                  # port 0 needs server
        "tcp:127.0.0.1",                    # no port
        "tcp:127.0.0.1:x1,server",          # port not a number
        "tcp:127.0.0.1:%d,server" % busy,   # cannot bind: in use
        "tcp:127.0.0.1:%d" % closed,        # cannot connect: refused
        "tcp::4555,server,bogus",           # unknown option
        "unix:",                            # no path
        "unix:%s/no/such/dir/s,server" % tmp,
        "unix:%s" % os.path.join(tmp, "nobody-listens"),
        "unix:" + "x" * 200 + ",server",    # longer than sun_path
        "bogus",                            # unknown backend
        "file:%s/no/such/dir/out" % tmp,
    ]
    for spec in cases:
        p = subprocess.run([KESTREL, "-kernel", GUEST, "-device", "isa-debug-exit",
                            "-display", "none", "-serial", spec],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        lines = p.stderr.decode(errors="replace").splitlines()
        check(p.returncode != 0 and len(lines) == 1 and lines[0].startswith("kestrel: ") and
              p.stdout == b"", "-serial %s: status %d, stderr %r" % (spec, p.returncode, lines))
    held.close()
    check(not os.listdir(tmp), "no files left behind (%r)" % os.listdir(tmp))


SCENARIOS = {
    "tcp": scenario_tcp,
    "telnet": scenario_telnet,
    "unix": scenario_unix,
    "nowait": scenario_nowait,
    "reconnect": scenario_reconnect,
    "client": scenario_client,
    "flood": scenario_flood,
    "irq-idle": scenario_irq_idle,
    "pty": scenario_pty,
    "badargs": scenario_badargs,
    "gdb": scenario_gdb,
}

if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="kestrel-serial-") as tmp:
        # A private directory for the scenario's files; badargs wants it empty.
        work = os.path.join(tmp, "w")
        os.mkdir(work)
        try:
            SCENARIOS[SCENARIO](work)
        except Abort:
            pass
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")
