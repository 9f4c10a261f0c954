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
  fpu-sse      the x87 and SSE registers the guest loaded (st0-st7 with
               their stack-relative numbering, fstat with TOP, the full tag
               word, FIP/FDP/FOP, xmm views, mxcsr flags, info float), then
               gdb's writes to them, seen both on re-reading and by the
               guest's own stores (MOVAPS, STMXCSR, FNSAVE)
  protocol     a raw client: handshake, target.xml (register numbering,
               the SSE feature), g/p/P/G (x87 and SSE included), m/M/X with
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


def scenario_fpu_sse(tmp):
    k = Kestrel(tmp)
    fs = "((char*)&out_fsave)"  # the FNSAVE image, 32-bit protected-mode layout
    try:
        out = run_gdb(k.port, [
            "set {int}&mode = 3",
            "break fpu_bp1",
            "break fpu_bp2",
            "continue",
            # What the guest loaded: fninit; fld1; fldpi; fild -42; fldz;
            # fldcw 0x27f; movaps/movups/movdqa; ldmxcsr 0x3fa0.
            "info registers st0 st1 st2 st3 st4",
            'printf "ST1=%d ST3=%d\\n", (int)$st1, (int)$st3',
            'printf "FSTAT=%#x FTAG=%#x FCTRL=%#x FOP=%#x\\n", $fstat, $ftag, $fctrl, $fop',
            'printf "FIOFF=%#x FOOFF=%#x FISEG=%#x FOSEG=%#x CS=%#x DS=%#x\\n", '
            "$fioff, $fooff, $fiseg, $foseg, $cs, $ds",
            "info float",
            "p $xmm1.v4_float",
            "p/x $xmm3.v2_int64",
            "p/x $xmm0.v16_int8",
            'printf "MXCSR=%#x\\n", $mxcsr',
            "info registers mxcsr",
            # Writes: a reserved MXCSR bit is refused (LDMXCSR would #GP).
            "set $mxcsr = 0x10000",
            'printf "MXCSR_AFTER_BAD=%#x\\n", $mxcsr',
            "set $xmm2.v4_int32 = {1, 2, 3, 4}",
            "set $st0 = 2.5",
            "set $st1 = -3.25",
            "set $mxcsr = 0x1f80 | 0x6000 | 0x8000",
            "set $ftag = 0xc1ff",
            "set $fctrl = 0x0f7f",
            "set $fioff = 0x12345678",
            "set $fop = 0x123",
            # Read everything back from the stub, not gdb's cache.
            "maint flush register-cache",
            'printf "RX0=%d RX1=%d RX2=%d RX3=%d\\n", $xmm2.v4_int32[0], $xmm2.v4_int32[1], '
            "$xmm2.v4_int32[2], $xmm2.v4_int32[3]",
            'printf "RST0=%d RST1=%d RSTAT=%#x\\n", (int)($st0 * 100), (int)($st1 * 100), $fstat',
            'printf "RMXCSR=%#x RFTAG=%#x RFCTRL=%#x RFIOFF=%#x RFOP=%#x\\n", '
            "$mxcsr, $ftag, $fctrl, $fioff, $fop",
            "info registers mxcsr",
            # The guest stores what the CPU holds now.
            "continue",
            'printf "AT2=%#x\\n", $eip',
            'printf "OX0=%d OX1=%d OX2=%d OX3=%d\\n", ((int*)&out_xmm2)[0], ((int*)&out_xmm2)[1], '
            "((int*)&out_xmm2)[2], ((int*)&out_xmm2)[3]",
            'printf "OMXCSR=%#x\\n", *(int*)&out_mxcsr',
            'printf "OCW=%#x OSW=%#x OTW=%#x OFIP=%#x OFOP=%#x\\n", *(unsigned short*)' + fs +
            ", *(unsigned short*)(%s+4), *(unsigned short*)(%s+8), *(unsigned*)(%s+12), "
            "(*(unsigned*)(%s+16) >> 16) & 0x7ff" % (fs, fs, fs, fs),
            'printf "OST0=%%d OST1=%%d OST2=%%d OST3=%%d\\n", (int)(*(long double*)(%s+28) * 100), '
            "(int)(*(long double*)(%s+38) * 100), (int)(*(long double*)(%s+48) * 100), "
            "(int)(*(long double*)(%s+58) * 100)" % (fs, fs, fs, fs),
            "delete",
            "continue",
            'printf "EXIT=%d\\n", $_exitcode',
        ])
        v = values(out)
        check(re.search(r"st0\s+0\s+\(raw 0x00000000000000000000\)", out) is not None,
              "st0 is ST(0) = +0 (fldz), read from the physical register TOP points at")
        check(re.search(r"st1\s+-42\s+\(raw 0xc004a800000000000000\)", out) is not None
              and v.get("ST1") == -42, "st1 = -42 (fild) as i387_ext")
        check(re.search(r"st2\s+3\.14159265358979323\d*\s+\(raw 0x4000c90fdaa22168c235\)", out)
              is not None, "st2 = pi (fldpi), all 64 significand bits")
        check(re.search(r"st3\s+1\s+\(raw 0x3fff8000000000000000\)", out) is not None
              and v.get("ST3") == 1, "st3 = 1 (fld1)")
        check(v.get("FSTAT") == 0x2000, "fstat carries TOP = 4 in bits 11-13")
        check(v.get("FTAG") == 0x01FF, "ftag: the full tag word (R4 zero, R5-R7 valid, R0-R3 empty)")
        check(v.get("FCTRL") == 0x027F, "fctrl = the control word fldcw loaded")
        check(v.get("FOP") == 0x1EE and v.get("FIOFF") == SYM["fp_last"],
              "fop/fioff: the last non-control x87 instruction (fldz, D9 EE)")
        check(v.get("FOOFF") == SYM["fp_int"], "fooff: fild's memory operand")
        check(v.get("FISEG") == v.get("CS") and v.get("FOSEG") == v.get("DS"),
              "fiseg/foseg: the CS and DS selectors")
        check(re.search(r"=>R4: Zero\s+0x00000000000000000000", out) is not None
              and re.search(r"R7: Valid\s+0x3fff8000000000000000 \+1", out) is not None
              and re.search(r"R3: Empty", out) is not None,
              "info float: physical registers with tags, TOP at R4")
        check(re.search(r"TOP: 4", out) is not None
              and re.search(r"Tag Word:\s+0x01ff", out) is not None
              and re.search(r"PC: Double Precision \(53-bits\)", out) is not None
              and re.search(r"Opcode:\s+0xd9ee", out) is not None,
              "info float: status, control and tag words, opcode")
        check("= {1, 2.5, -3, 100}" in out, "xmm1.v4_float (movaps)")
        check("= {0x123456789abcdef, 0xfedcba9876543210}" in out, "xmm3.v2_int64 (movdqa)")
        check("= {0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0x9, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x10}"
              in out, "xmm0.v16_int8 (movups from an unaligned address)")
        check(v.get("MXCSR") == 0x3FA0, "mxcsr = what ldmxcsr loaded")
        check(re.search(r"mxcsr\s+0x3fa0\s+\[ PE IM DM ZM OM UM PM RC=1 \]", out) is not None,
              "mxcsr shown as i386_mxcsr flags with the 2-bit RC")
        check('Could not write register "mxcsr"' in out and v.get("MXCSR_AFTER_BAD") == 0x3FA0,
              "mxcsr with a reserved bit: refused, unchanged")
        check([v.get("RX%d" % i) for i in range(4)] == [1, 2, 3, 4], "xmm2 write, read back")
        check(v.get("RST0") == 250 and v.get("RST1") == -325 and v.get("RSTAT") == 0x2000,
              "st0/st1 writes, read back (TOP unchanged)")
        check(v.get("RMXCSR") == 0xFF80, "mxcsr write, read back")
        check(v.get("RFTAG") == 0xC0FF,
              "ftag write: 11 empties R7, the other tags follow the contents (R4 now 2.5: valid)")
        check(v.get("RFCTRL") == 0x0F7F and v.get("RFIOFF") == 0x12345678 and v.get("RFOP") == 0x123,
              "fctrl, fioff, fop writes, read back")
        check(re.search(r"mxcsr\s+0xff80\s+\[ IM DM ZM OM UM PM RC=3 FZ \]", out) is not None,
              "info registers mxcsr after the write")
        check(v.get("AT2") == SYM["fpu_bp2"], "the guest ran on to fpu_bp2")
        check([v.get("OX%d" % i) for i in range(4)] == [1, 2, 3, 4],
              "the guest's movaps stores the xmm2 gdb wrote")
        check(v.get("OMXCSR") == 0xFF80, "the guest's stmxcsr stores the mxcsr gdb wrote")
        check(v.get("OCW") == 0x0F7F and v.get("OSW") == 0x2000 and v.get("OTW") == 0xC0FF,
              "the guest's fnsave: control, status and tag words as gdb left them")
        check(v.get("OFIP") == 0x12345678 and v.get("OFOP") == 0x123,
              "the guest's fnsave: instruction pointer and opcode gdb wrote")
        check(v.get("OST0") == 250 and v.get("OST1") == -325 and v.get("OST2") == 314
              and v.get("OST3") == 100,
              "the guest's fnsave: ST0 = 2.5 and ST1 = -3.25 from gdb, ST2 and ST3 as loaded")
        check(v.get("EXIT") == 67, "the guest exits normally (status 67)")
        check(k.wait() == 67, "kestrel exit status 67")
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
        # gdb's i386 numbering: x87 16-31, xmm0-7 32-39, mxcsr 40, then ours.
        check(names[16:32] == ["st%d" % i for i in range(8)] +
              ["fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"]
              and all(r[1] == 80 for r in regs[16:24]), "target.xml: x87 registers 16-31")
        check(names[32:41] == ["xmm%d" % i for i in range(8)] + ["mxcsr"]
              and all(r[1] == 128 for r in regs[32:40]), "target.xml: xmm0-7 32-39, mxcsr 40")
        check(names[41:] == ["cr0", "cr2", "cr3", "cr4"], "target.xml: cr0-cr4 after mxcsr")
        sse = feats.get("org.gnu.gdb.i386.sse")
        check(sse is not None and [r.get("name") for r in sse.findall("reg")] == names[32:41],
              "target.xml: org.gnu.gdb.i386.sse holds xmm0-7 and mxcsr")
        if sse is not None:
            union = sse.find("union[@id='vec128']")
            fields = [f.get("name") for f in union.findall("field")] if union is not None else []
            check(all(f in fields for f in ["v4_float", "v2_double", "v16_int8", "v8_int16",
                                            "v4_int32", "v2_int64", "uint128"]),
                  "target.xml: the vec128 union")
            mx = sse.find("flags[@id='i386_mxcsr']")
            check(mx is not None and mx.find("field[@name='RC']") is not None
                  and mx.find("field[@name='RC']").get("end") == "14"
                  and mx.find("field[@name='FZ']") is not None, "target.xml: i386_mxcsr flags")
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
        def greg(name):
            return g[off[name][0]:off[name][0] + off[name][1]]
        check("x" not in g, "g: every register available (x87 and SSE included)")
        # Power-on state (SDM vol. 3, table 9-1): FCW 0040H, FTW 5555H
        # (every register +0.0), MXCSR 1F80H, XMM registers zero.
        check(greg("fctrl") == hex32(0x0040) and greg("ftag") == hex32(0x5555)
              and greg("st0") == "00" * 10 and greg("mxcsr") == hex32(0x1F80)
              and greg("xmm7") == "00" * 16, "g: x87 and SSE power-on state")
        n_st0, n_fstat, n_ftag = names.index("st0"), names.index("fstat"), names.index("ftag")
        n_xmm5, n_mxcsr = names.index("xmm5"), names.index("mxcsr")
        check(c.cmd("p%x" % n_st0).decode() == greg("st0"), "p: st0 (10 bytes)")
        one = "0000000000000080ff3f"  # 1.0 as i387_ext
        check(c.cmd("P%x=%s" % (n_st0, one)) == b"OK" and c.cmd("p%x" % n_st0) == one.encode(),
              "P then p: st0")
        check(c.cmd("P%x=%s" % (n_fstat, hex32(0x3800))) == b"OK"
              and c.cmd("p%x" % n_st0).decode() == "00" * 10
              and c.cmd("p%x" % (n_st0 + 1)) == one.encode(),
              "st0-st7 are relative to fstat's TOP (TOP 7: the old st0 is now st1)")
        check(c.cmd("P%x=%s" % (n_ftag, hex32(0xFFFF))) == b"OK"
              and c.cmd("p%x" % n_ftag).decode() == hex32(0xFFFF), "P then p: ftag, all empty")
        check(c.cmd("P%x=%s" % (n_ftag, hex32(0x3FFF))) == b"OK"
              and c.cmd("p%x" % n_ftag).decode() == hex32(0x7FFF),
              "ftag: only empty (11) is kept; R7 holds 0.0, so its tag reads as zero (01)")
        check(c.cmd("P%x=%s" % (n_ftag, hex32(0x10000))).startswith(b"E"),
              "ftag wider than 16 bits: refused")
        xmm = bytes(range(0xA0, 0xB0)).hex()
        check(c.cmd("P%x=%s" % (n_xmm5, xmm)) == b"OK" and c.cmd("p%x" % n_xmm5) == xmm.encode(),
              "P then p: xmm5 (16 bytes)")
        check(c.cmd("P%x=%s" % (n_xmm5, xmm[:20])).startswith(b"E"), "P xmm5 with 10 bytes fails")
        check(c.cmd("P%x=%s" % (n_mxcsr, hex32(0x11F80))).startswith(b"E")
              and c.cmd("p%x" % n_mxcsr).decode() == hex32(0x1F80),
              "P mxcsr with reserved bit 16: refused (LDMXCSR would #GP)")
        check(c.cmd("P%x=%s" % (n_mxcsr, hex32(0xFFFF))) == b"OK"
              and c.cmd("p%x" % n_mxcsr).decode() == hex32(0xFFFF), "P then p: mxcsr")
        check(c.cmd("p8").decode() == hex32(SYM["start"]), "p: eip")
        check(c.cmd("p%x" % len(regs)).startswith(b"E"), "p: register out of range")
        check(c.cmd("P0=78563412") == b"OK" and c.cmd("p0") == b"78563412", "P then p: eax")
        check(c.cmd("P0=1234").startswith(b"E"), "P with the wrong size fails")
        check(c.cmd("P%x=00000000" % names.index("cr0")).startswith(b"E"), "cr0 is read-only")
        check(c.cmd("P%x=%s" % (names.index("cs"), g[off["cs"][0]:off["cs"][0] + 8])) == b"OK",
              "writing a segment register with its own value is fine")
        check(c.cmd("G" + g) == b"OK" and c.cmd("g").decode() == g,
              "G with the g contents is accepted and restores every register (x87, SSE too)")
        g2 = g[:off["st0"][0]] + one + g[off["st0"][0] + 20:]
        g2 = g2[:off["fstat"][0]] + hex32(0x3000) + g2[off["fstat"][0] + 8:]
        check(c.cmd("G" + g2) == b"OK" and c.cmd("p%x" % n_st0) == one.encode()
              and c.cmd("p%x" % n_fstat).decode() == hex32(0x3000),
              "G: st0 lands where the same packet's TOP puts it")
        check(c.cmd("G" + g) == b"OK" and c.cmd("g").decode() == g, "G restores the state again")

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
    "fpu-sse": scenario_fpu_sse,
    "protocol": scenario_protocol,
}


def main():
    if SCENARIO in ("break-step", "watch", "interrupt", "detach", "fpu-sse") \
            and not shutil.which("gdb"):
        print("FAIL: gdb is not installed (scripts/setup-deps.sh installs it)")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        SCENARIOS[SCENARIO](tmp)
    print("%d passed, %d failed" % (len(PASSED), len(FAILURES)))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
