#!/usr/bin/env python3
"""The gdb stub against real gdb and against a raw protocol client.

usage: gdb_test.py KESTREL GUEST_ELF GUEST_BIN SCENARIO

Each scenario starts `kestrel -S -gdb tcp::PORT` (a free loopback port, so
suites can run in parallel) on the bare-metal guest of guest.asm and checks
every expected value; any missing one fails the test.  Scenarios:

  break-step   breakpoints (Z0 swbreak, Z1 hwbreak), stepi by exactly one
               instruction, register and memory reads and writes whose
               effect shows in the guest's debug console and exit status
  watch        write, read and access watchpoints with their stop reasons
  interrupt    Ctrl-C typed in gdb's terminal (a pty) stops a spinning guest
  detach       detach lets the guest run to its end; a second gdb attaches
               to a running guest and kills it
  protocol     a raw client: handshake, target.xml, g/p/P, m/M/X with
               escapes, unmapped memory, bad checksums, junk, over-long
               packets, vCont, a halted guest, a second connection, no-ack
               mode, k
"""
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

KESTREL, ELF, BIN, SCENARIO = sys.argv[1:5]
FAILURES = []
PASSED = []


def check(cond, what):
    if cond:
        print("ok: " + what)
        PASSED.append(what)
    else:
        print("FAIL: " + what)
        FAILURES.append(what)
    return cond


def symbols():
    out = subprocess.run(["nm", ELF], check=True, capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    return syms


SYM = symbols()


class Kestrel:
    """A kestrel process waiting for gdb on a free loopback port."""

    def __init__(self, tmp, extra=()):
        self.debugcon = os.path.join(tmp, "debugcon.txt")
        for _ in range(5):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
            s.close()
            self.p = subprocess.Popen(
                [KESTREL, "-kernel", BIN, "-device", "isa-debug-exit", "-m", "16",
                 "-debugcon", "file:" + self.debugcon, "-gdb", "tcp::%d" % self.port, "-S",
                 *extra],
                stderr=subprocess.PIPE, text=True)
            line = self.p.stderr.readline()
            if "listening on 127.0.0.1:%d" % self.port in line:
                break
            self.p.wait()
        else:
            raise RuntimeError("kestrel did not start listening: " + line)
        self.err = [line]
        self.t = threading.Thread(target=self._drain, daemon=True)
        self.t.start()

    def _drain(self):
        for line in self.p.stderr:
            self.err.append(line)

    def wait(self, timeout=10):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None

    def output(self):
        try:
            with open(self.debugcon) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def gdb_args(port, cmds):
    args = ["gdb", "-batch", "-nx", "-ex", "set pagination off", "-ex", "set confirm off",
            "-ex", "file " + ELF, "-ex", "target remote 127.0.0.1:%d" % port]
    for c in cmds:
        args += ["-ex", c]
    return args


def run_gdb(port, cmds, timeout=20):
    r = subprocess.run(gdb_args(port, cmds), capture_output=True, text=True, timeout=timeout)
    out = r.stdout + r.stderr
    print("---- gdb output ----\n" + out + "--------------------")
    return out


def values(out):
    """KEY=VALUE pairs printed by the scenarios' printf commands."""
    return {k: int(v, 0) for k, v in re.findall(r"\b([A-Z_0-9]+)=(-?(?:0x)?[0-9a-f]+)\b", out)}


def stop_replies(out):
    return re.findall(r"Packet received: (T[0-9a-f]{2}\S*)", out)


# ---- Scenarios through gdb ---------------------------------------------------


def scenario_break_step(tmp):
    k = Kestrel(tmp)
    try:
        out = run_gdb(k.port, [
            'printf "ENTRY=%#x\\n", $eip',
            # Memory write before the guest prints its greeting: "HELLo kestrel".
            "set {int}&greeting = 0x4c4c4548",
            "break bp_main",
            "hbreak bp_final",
            "set debug remote 1",
            "continue",
            "set debug remote 0",
            'printf "BP1=%#x\\n", $eip',
            "stepi",
            'printf "STEP1=%#x EAX1=%#x\\n", $eip, $eax',
            "stepi",
            'printf "STEP2=%#x ECX2=%#x\\n", $eip, $ecx',
            "stepi",
            'printf "STEP3=%#x ECX3=%#x\\n", $eip, $ecx',
            "stepi",
            'printf "STEP4=%#x\\n", $eip',
            'printf "VALUE=%#x\\n", *(int*)&value',
            "x/4xb &value",
            "x/4xb 0xf0000000",
            "set debug remote 1",
            "continue",
            "set debug remote 0",
            'printf "BP2=%#x EDX=%#x COUNTER=%#x\\n", $eip, $edx, *(int*)&counter',
            "info registers",
            # Register and memory writes the guest's exit status shows.
            "set $edx = 100",
            "set {int}&delta = 10",
            "delete",
            "continue",
            'printf "EXIT=%d\\n", $_exitcode',
        ])
        v = values(out)
        check(v.get("ENTRY") == SYM["start"], "-S holds the guest at its entry point")
        check(v.get("BP1") == SYM["bp_main"], "breakpoint stops before bp_main")
        check("Breakpoint 1, 0x%08x in bp_main" % SYM["bp_main"] in out, "gdb reports Breakpoint 1")
        check(v.get("STEP1") == SYM["step2"] and v.get("EAX1") == 7,
              "stepi executes exactly mov eax,[value]")
        check(v.get("STEP2") == SYM["step3"] and v.get("ECX2") == 5, "stepi executes mov ecx,5")
        check(v.get("STEP3") == SYM["step4"] and v.get("ECX3") == 12, "stepi executes add ecx,eax")
        check(v.get("STEP4") == SYM["step5"], "stepi over a jmp lands on its target")
        check(v.get("VALUE") == 7, "memory read of a variable")
        check(re.search(r"<value>:\s+0x07\s+0x00\s+0x00\s+0x00", out) is not None,
              "x/4xb shows the bytes")
        check("Cannot access memory at address 0xf0000000" in out,
              "unmapped memory is an error, not a guest fault")
        check(v.get("BP2") == SYM["bp_final"], "hardware breakpoint stops before bp_final")
        check(v.get("EDX") == 12 and v.get("COUNTER") == 3, "registers and memory at bp_final")
        check(re.search(r"eflags\s+0x[0-9a-f]+\s+\[", out) is not None, "info registers shows eflags")
        check(re.search(r"cr0\s+0x[0-9a-f]+\s+\[ PE", out) is not None, "cr0 is described")
        replies = stop_replies(out)
        check(any(r.endswith("swbreak:;") and ("08:" + hex32(SYM["bp_main"])) in r
                  for r in replies), "software breakpoint stop carries swbreak and eip")
        check(any(r.endswith("hwbreak:;") for r in replies), "hardware breakpoint stop carries hwbreak")
        # 100 + 3 + 10 = 113; exit status (113 << 1) | 1 = 227.
        check(v.get("EXIT") == 227, "gdb sees the exit status (W packet) after register/memory writes")
        rc = k.wait()
        check(rc == 227, "kestrel exits with the guest's status (got %r)" % rc)
        check(k.output() == "HELLo kestrel\ndone\n", "memory write changed the guest's output: %r"
              % k.output())
    finally:
        k.stop()


def scenario_watch(tmp):
    k = Kestrel(tmp)
    try:
        out = run_gdb(k.port, [
            "set debug remote 1",
            "watch *(int*)&watched",
            "continue",
            'printf "W1=%#x\\n", $eip',
            "delete",
            "rwatch *(int*)&watched",
            "continue",
            'printf "W2=%#x EDX=%#x\\n", $eip, $edx',
            "delete",
            "awatch *(int*)&counter",
            "continue",
            'printf "W3=%#x C3=%d\\n", $eip, *(int*)&counter',
            "continue",
            'printf "W4=%#x C4=%d\\n", $eip, *(int*)&counter',
            "delete",
            "continue",
            'printf "EXIT=%d\\n", $_exitcode',
        ])
        v = values(out)
        check("Hardware watchpoint 1: *(int*)&watched" in out and "New value = 12" in out,
              "write watchpoint reports old and new value")
        check(v.get("W1") == SYM["after_write"], "write watchpoint stops after the writing instruction")
        check(v.get("W2") == SYM["after_read"] and v.get("EDX") == 12,
              "read watchpoint stops after the reading instruction")
        check("Hardware read watchpoint 2" in out, "gdb reports the read watchpoint")
        check(v.get("W3") == SYM["loop_bp"] and v.get("C3") == 1, "access watchpoint on inc (1)")
        check(v.get("W4") == SYM["loop_bp"] and v.get("C4") == 2, "access watchpoint again (2)")
        replies = stop_replies(out)
        check(any(r.endswith("watch:%x;" % SYM["watched"]) and "rwatch" not in r
                  and "awatch" not in r for r in replies), "stop reply watch:ADDR")
        check(any(r.endswith("rwatch:%x;" % SYM["watched"]) for r in replies),
              "stop reply rwatch:ADDR")
        check(any(r.endswith("awatch:%x;" % SYM["counter"]) for r in replies),
              "stop reply awatch:ADDR")
        check(v.get("EXIT") == 31, "the run ends normally after the watchpoints are removed")
        check(k.wait() == 31, "kestrel exit status 31")
    finally:
        k.stop()


def scenario_interrupt(tmp):
    """Ctrl-C typed on gdb's terminal: gdb sends 0x03, the stub stops the guest."""
    k = Kestrel(tmp)
    try:
        args = gdb_args(k.port, [
            "set {int}&mode = 1",
            "echo RUNNING\\n",
            "continue",
            'printf "EIP=%#x SPINS=%d\\n", $eip, *(int*)&spins',
            "set $eip = bp_main",
            "continue",
            'printf "EXIT=%d\\n", $_exitcode',
        ])
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp(args[0], args)
        buf = b""
        sent = 0
        last = 0.0
        deadline = time.time() + 20
        while time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    d = os.read(fd, 4096)
                except OSError:
                    break
                if not d:
                    break
                buf += d
            # Type Ctrl-C once the guest runs; again if gdb had not resumed yet.
            if b"RUNNING" in buf and b"SIGINT" not in buf and time.time() - last > 1.0 and sent < 5:
                time.sleep(0.3)
                os.write(fd, b"\x03")
                sent += 1
                last = time.time()
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        out = buf.decode(errors="replace")
        print("---- gdb output ----\n" + out + "--------------------")
        v = values(out)
        check("Program received signal SIGINT" in out, "Ctrl-C stops the guest (T02)")
        check(SYM["spin"] <= v.get("EIP", 0) < SYM["halt_forever"], "stopped inside the spin loop")
        check(v.get("SPINS", 0) > 0, "the guest ran before the interrupt")
        check(v.get("EXIT") == 31, "EIP written by gdb: the guest resumes at bp_main and exits")
        check(k.wait() == 31, "kestrel exit status 31")
    finally:
        k.stop()


def scenario_detach(tmp):
    k = Kestrel(tmp)
    try:
        out = run_gdb(k.port, [
            "break bp_main",
            "break loop_bp",
            "continue",
            'printf "AT=%#x\\n", $eip',
            "detach",
        ])
        check(values(out).get("AT") == SYM["bp_main"], "stopped at bp_main before detaching")
        check("Detaching from program" in out or "[Inferior 1 (Remote target) detached]" in out,
              "gdb detached")
        rc = k.wait()
        check(rc == 31, "after detach the guest runs to its end, breakpoints gone (got %r)" % rc)
        check(k.output() == "hello kestrel\ndone\n", "guest output after detach")
    finally:
        k.stop()
    # Attach to a running guest, detach, attach again, then kill.
    k = Kestrel(tmp)
    try:
        out1 = run_gdb(k.port, ["set {int}&mode = 1", "detach"])
        time.sleep(0.2)
        out2 = run_gdb(k.port, ['printf "EIP=%#x SPINS=%d\\n", $eip, *(int*)&spins', "kill"])
        v = values(out2)
        check(SYM["spin"] <= v.get("EIP", 0) < SYM["halt_forever"] and v.get("SPINS", 0) > 0,
              "a second gdb finds the guest running on and stops it")
        check(k.wait() == 0, "kill ends kestrel with status 0")
        check(any("killed by gdb" in l for l in k.err), "kestrel says it was killed")
    finally:
        k.stop()


# ---- The raw protocol client ------------------------------------------------------


def csum(payload):
    return "%02x" % (sum(payload) & 0xFF)


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        self.ack = True

    def send_raw(self, data):
        self.s.sendall(data)

    def send(self, payload):
        if isinstance(payload, str):
            payload = payload.encode("latin-1")
        self.s.sendall(b"$" + payload + b"#" + csum(payload).encode())

    def _fill(self, timeout):
        r, _, _ = select.select([self.s], [], [], timeout)
        if not r:
            return False
        d = self.s.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d
        return True

    def read_ack(self, timeout=5):
        deadline = time.time() + timeout
        while not self.buf:
            if not self._fill(max(0, deadline - time.time())):
                return None
        c, self.buf = self.buf[:1], self.buf[1:]
        return c

    def packet(self, timeout=5):
        """The next packet's payload (checksum verified), or None on timeout."""
        deadline = time.time() + timeout
        while True:
            m = re.match(rb"[^$]*\$([^#]*)#([0-9a-f]{2})", self.buf, re.S)
            if m:
                self.buf = self.buf[m.end():]
                body = m.group(1)
                if csum(body) != m.group(2).decode():
                    raise ValueError("bad checksum from the stub")
                return body
            if not self._fill(max(0, deadline - time.time())):
                return None

    def cmd(self, payload, timeout=5):
        self.send(payload)
        if self.ack:
            a = self.read_ack(timeout)
            if a != b"+":
                raise ValueError("expected '+', got %r" % a)
        return self.packet(timeout)

    def close(self):
        self.s.close()


def hex32(v):
    return bytes([v & 0xFF, v >> 8 & 0xFF, v >> 16 & 0xFF, v >> 24 & 0xFF]).hex()


def scenario_protocol(tmp):
    k = Kestrel(tmp)
    c = None
    try:
        c = Client(k.port)
        sup = c.cmd("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386").decode()
        for f in ["PacketSize=4000", "qXfer:features:read+", "QStartNoAckMode+",
                  "vContSupported+", "swbreak+", "hwbreak+"]:
            check(f in sup.split(";"), "qSupported offers " + f)
        check(c.cmd("vMustReplyEmpty") == b"", "unknown v packet: empty reply")
        check(c.cmd("qAttached") == b"1", "qAttached: 1")
        check(c.cmd("qOffsets") == b"Text=0;Data=0;Bss=0", "qOffsets")
        check(c.cmd("qC") == b"QC1", "qC")
        check(c.cmd("qfThreadInfo") == b"m1" and c.cmd("qsThreadInfo") == b"l", "thread list")
        check(c.cmd("Hg0") == b"OK" and c.cmd("Hc-1") == b"OK" and c.cmd("Hgp1.1") == b"OK",
              "H selects our thread")
        check(c.cmd("Hg2").startswith(b"E"), "H of another thread fails")
        check(c.cmd("T1") == b"OK" and c.cmd("T5").startswith(b"E"), "T thread alive")
        check(c.cmd("?").startswith(b"T05"), "? after attach: T05")

        # target.xml in small chunks, as gdb may ask.
        xml = b""
        while True:
            r = c.cmd("qXfer:features:read:target.xml:%x,%x" % (len(xml), 0x100))
            if not check(r[:1] in (b"m", b"l"), "qXfer chunk starts with m or l"):
                break
            xml += re.sub(rb"}(.)", lambda m: bytes([m.group(1)[0] ^ 0x20]), r[1:], flags=re.S)
            if r[:1] != b"m" or len(xml) > 100000:
                break
        root = ET.fromstring(xml)
        check(root.findtext("architecture") == "i386", "target.xml: architecture i386")
        feats = {f.get("name"): f for f in root.findall("feature")}
        check("org.gnu.gdb.i386.core" in feats, "target.xml: core feature")
        regs = [(r.get("name"), int(r.get("bitsize")), int(r.get("regnum")))
                for f in root.findall("feature") for r in f.findall("reg")]
        names = [r[0] for r in regs]
        check(names[:16] == ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip",
                             "eflags", "cs", "ss", "ds", "es", "fs", "gs"],
              "target.xml: general and segment registers in gdb's order")
        check(all(r[2] == i for i, r in enumerate(regs)), "target.xml: regnums are dense")
        check(c.cmd("qXfer:features:read:other.xml:0,100").startswith(b"E"), "unknown annex: error")
        check(c.cmd("qXfer:features:read:target.xml:%x,100" % len(xml)) == b"l", "read past the end: l")

        g = c.cmd("g").decode()
        check(len(g) == sum(r[1] for r in regs) // 4, "g reply covers every described register")
        check(g[8 * 8:9 * 8] == hex32(SYM["start"]), "g: eip at the entry point")
        off = {}
        pos = 0
        for n, bits, _ in regs:
            off[n] = (pos, bits // 4)
            pos += bits // 4
        st0 = off["st0"]
        check(g[st0[0]:st0[0] + st0[1]] == "x" * st0[1], "g: x87 registers unavailable (x digits)")
        check(c.cmd("p8").decode() == hex32(SYM["start"]), "p: eip")
        check(c.cmd("p%x" % len(regs)).startswith(b"E"), "p: register out of range")
        check(c.cmd("P0=78563412") == b"OK" and c.cmd("p0") == b"78563412", "P then p: eax")
        check(c.cmd("P0=1234").startswith(b"E"), "P with the wrong size fails")
        check(c.cmd("P%x=00000000" % names.index("cr0")).startswith(b"E"), "cr0 is read-only")
        check(c.cmd("P%x=%s" % (names.index("cs"), g[off["cs"][0]:off["cs"][0] + 8])) == b"OK",
              "writing a segment register with its own value is fine")
        check(c.cmd("G" + g) == b"OK" and c.cmd("p0").decode() == g[:8],
              "G with the g contents (x digits kept) is accepted and restores eax")

        # Memory: hex and binary writes, escapes, unmapped and partial reads.
        stack = SYM["stack"]
        data = bytes([0x23, 0x24, 0x7D, 0x2A, 0x00, 0x03, 0xFF, 0x41])
        esc = b"".join(b"}" + bytes([b ^ 0x20]) if b in b"#$}*" else bytes([b]) for b in data)
        check(c.cmd(b"X%x,0:" % stack) == b"OK", "X probe (zero length)")
        check(c.cmd(b"X%x,%x:" % (stack, len(data)) + esc) == b"OK", "X with escaped bytes")
        check(c.cmd("m%x,%x" % (stack, len(data))) == data.hex().encode(), "m reads X's bytes back")
        check(c.cmd(b"X%x,%x:" % (stack, len(data) + 1) + esc).startswith(b"E"), "X length mismatch")
        check(c.cmd(b"X%x,2:}" % stack).startswith(b"E"), "X ending inside an escape")
        check(c.cmd("M%x,4:deadbeef" % stack) == b"OK" and c.cmd("m%x,4" % stack) == b"deadbeef",
              "M then m")
        check(c.cmd("M%x,4:deadbeZZ" % stack).startswith(b"E"), "M with bad hex")
        check(c.cmd("M%x,5:deadbeef" % stack).startswith(b"E"), "M with a short payload")
        check(c.cmd("mf0000000,4") == b"E14", "m of unmapped memory: E14")
        check(c.cmd("Mf0000000,1:00").startswith(b"E"), "M to unmapped memory: error")
        check(c.cmd("mfffffe,4") == b"0000", "m across the end of RAM: the mapped part (-m 16)")
        check(c.cmd("m100000000,4").startswith(b"E"), "m above 4 GiB: error")
        check(c.cmd("m%x,zz" % stack).startswith(b"E"), "m with bad length")
        check(c.cmd("m%x,4000000" % stack)[:8] == b"deadbeef", "m with a huge length: capped reply")
        check(c.cmd("mffffffff,10").startswith(b"E"), "m at the 4 GiB end, unmapped")

        # Breakpoint packets.
        check(c.cmd("Z0,zz,1").startswith(b"E"), "Z0 with a bad address")
        check(c.cmd("Z9,1000,1") == b"", "unknown Z type: not supported")
        check(c.cmd("z0,1000,1") == b"OK", "removing an absent breakpoint is fine")
        check(c.cmd("Z2,1000,0").startswith(b"E"), "zero-length watchpoint refused")
        check(c.cmd("Z2,ffffffff,2").startswith(b"E"), "watchpoint past 4 GiB refused")

        # Framing: bad checksums, junk, over-long packets.
        c.send_raw(b"$g#00")
        check(c.read_ack() == b"-", "bad checksum: '-'")
        c.send_raw(b"$g#zz")
        check(c.read_ack() == b"-", "non-hex checksum: '-'")
        junk = bytes((i * 73 + 11) % 256 for i in range(70000)).replace(b"$", b"")
        c.send_raw(b"$" + junk + b"####")
        c.buf = b""
        c.send_raw(b"$?#3f")
        got = None
        deadline = time.time() + 5
        while time.time() < deadline:
            p = c.packet(deadline - time.time())
            if p is None or p.startswith(b"T05"):
                got = p
                break
        check(got is not None and got.startswith(b"T05"), "still answering after 70 KB of junk")
        big = b"m" + b"0" * 20000
        c.buf = b""
        c.send_raw(b"$" + big + b"#" + csum(big).encode())
        check(c.read_ack() == b"+" and c.packet() == b"E01", "over-long packet: dropped with E01")
        c.send_raw(b"$" + big + b"#00")
        check(c.read_ack() == b"-", "over-long packet with a bad checksum: '-'")

        # A second connection is refused while this one is open.
        c2 = socket.create_connection(("127.0.0.1", k.port), timeout=5)
        try:
            c2.settimeout(5)
            check(c2.recv(10) == b"", "second connection is closed at once")
        except OSError:
            check(True, "second connection is closed at once")
        c2.close()

        # Execution: vCont.
        check(c.cmd("vCont?") == b"vCont;c;C;s;S", "vCont? lists c C s S")
        check(c.cmd("P8=" + hex32(SYM["bp_main"])) == b"OK", "P eip")
        check(c.cmd("P4=" + hex32(SYM["stack_top"])) == b"OK", "P esp (start's mov esp skipped)")
        r = c.cmd("vCont;s:1").decode()
        check(r.startswith("T05") and ("08:" + hex32(SYM["step2"])) in r, "vCont;s steps one instruction")
        r = c.cmd("s").decode()
        check(r.startswith("T05") and ("08:" + hex32(SYM["step3"])) in r, "s steps one instruction")
        check(c.cmd("vCont;t").startswith(b"E"), "vCont;t (not offered): error")
        check(c.cmd("vCont;x").startswith(b"E"), "vCont with a bad action: error")
        check(c.cmd("Z0,%x,1" % SYM["bp_final"]) == b"OK", "Z0 at bp_final")
        r = c.cmd("vCont;c:-1").decode()
        check(r.startswith("T05") and ("08:" + hex32(SYM["bp_final"])) in r and "swbreak:;" in r,
              "vCont;c stops at the breakpoint with swbreak")
        r = c.cmd("c").decode()
        check(r.startswith("W1f"), "continuing from the breakpoint runs to the exit: W1f (%s)" % r)
        check(k.wait() == 31, "kestrel exits with the guest's status")
    finally:
        if c:
            c.close()
        k.stop()

    # A halted guest, Ctrl-C as a raw byte, no-ack mode, then k.
    k = Kestrel(tmp)
    c = None
    try:
        c = Client(k.port)
        check(c.cmd("QStartNoAckMode") == b"OK", "QStartNoAckMode")
        c.read_ack(0.2)  # a '+' may trail the OK
        c.buf = b""
        c.ack = False
        check(c.cmd("M%x,4:02000000" % SYM["mode"]) == b"OK", "no-ack mode: replies without '+'")
        c.send("c")
        check(c.packet(0.5) is None, "a halted guest (cli; hlt) keeps gdb waiting")
        c.send_raw(b"\x03")
        r = c.packet()
        check(r is not None and r.startswith(b"T02"), "0x03 stops it: T02")
        eip = c.cmd("p8")
        r = c.cmd("s")
        check(r is not None and r.startswith(b"T05") and c.cmd("p8") == eip,
              "a step on a halted CPU reports at once, EIP unchanged")
        c.send_raw(b"$g#00")  # no '-' in no-ack mode, and no reply
        check(c.cmd("?").startswith(b"T05"), "no-ack mode drops a bad packet silently")
        c.send("k")
        check(k.wait() == 0, "k ends kestrel with status 0")
    finally:
        if c:
            c.close()
        k.stop()


SCENARIOS = {
    "break-step": scenario_break_step,
    "watch": scenario_watch,
    "interrupt": scenario_interrupt,
    "detach": scenario_detach,
    "protocol": scenario_protocol,
}


def main():
    if SCENARIO in ("break-step", "watch", "interrupt", "detach") and not shutil.which("gdb"):
        print("FAIL: gdb is not installed (scripts/setup-deps.sh installs it)")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        SCENARIOS[SCENARIO](tmp)
    print("%d passed, %d failed" % (len(PASSED), len(FAILURES)))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
