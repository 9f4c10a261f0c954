#!/usr/bin/env python3
"""The execution trace (-d exec,cpu,int, -dfilter, -D) against references.

Runs tests/trace/guest.asm under kestrel and checks the trace:
  - the executed addresses follow the program: every instruction that is not
    a control transfer is followed by the next one in memory, and the loop
    runs its three iterations;
  - each traced instruction's bytes and mnemonic agree with GNU objdump's
    disassembly of the same ELF (an independent disassembler);
  - -d int reports #UD (exception) and INT 0x30 (software), each at the
    instruction that raised it;
  - -d cpu shows the registers before an instruction (EAX after MOV EAX);
  - -dfilter keeps only the instructions in the given ranges;
  - a malformed -dfilter or -d item is a one-line error and exit status 1.

Usage: trace_test.py KESTREL GUEST_ELF GUEST_BIN
"""
import os
import re
import subprocess
import sys
import tempfile

KESTREL, ELF, BIN = sys.argv[1:4]
failures = 0
passes = 0


def check(cond, what):
    global failures, passes
    if cond:
        passes += 1
        print("ok: " + what)
    else:
        print("FAIL: " + what)
        failures += 1


def symbols():
    out = subprocess.run(["nm", ELF], capture_output=True, text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    return syms


def objdump():
    """address -> (bytes hex, mnemonic) from GNU objdump, Intel syntax."""
    out = subprocess.run(["objdump", "-d", "-M", "intel", "-j", ".text", ELF],
                         capture_output=True, text=True, check=True).stdout
    insns = {}
    for line in out.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+((?:[0-9a-f]{2} )+)\s*(\S+)?", line)
        if m and m.group(3):
            insns[int(m.group(1), 16)] = (m.group(2).replace(" ", ""), m.group(3))
    return insns


def run(extra, log):
    cmd = [KESTREL, "-kernel", BIN, "-device", "isa-debug-exit", "-display", "none",
           "-D", log] + extra
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    with open(log) as f:
        return p, f.read()


TRACE = re.compile(r"^([0-9a-f]{4}):([0-9a-f]{8}) ([0-9a-f]+)\s+(\S+)")
BRANCH = re.compile(r"^(j|call|ret|iret|int|loop|ud2|hlt)")

syms = symbols()
ref = objdump()
tmp = tempfile.mkdtemp(prefix="kestrel-trace-")

# ---- -d exec,int --------------------------------------------------------
p, log = run(["-d", "exec,int"], os.path.join(tmp, "exec.log"))
check(p.returncode == 67, "guest exits with status 67 under tracing (got %d)" % p.returncode)
lines = [TRACE.match(l) for l in log.splitlines()]
trace = [(int(m.group(2), 16), m.group(3), m.group(4)) for m in lines if m]
check(len(trace) > 20, "%d instructions traced" % len(trace))

bad_flow = []
for (a, hexb, mn), (b, _, _) in zip(trace, trace[1:]):
    if not BRANCH.match(mn) and b != a + len(hexb) // 2:
        bad_flow.append((hex(a), mn, hex(b)))
check(not bad_flow, "every non-branch instruction is followed by the next one %s" % bad_flow[:3])

# Spellings that differ between the two disassemblers for the same
# instruction: objdump's operand-size suffix on LGDT/LIDT, Capstone's
# "ljmp" for a far JMP, and IRET with a 32-bit operand size.
ALIAS = {"lgdtd": "lgdt", "lidtd": "lidt", "ljmp": "jmp", "lcall": "call", "iretd": "iret"}


def norm(mn):
    return ALIAS.get(mn, mn)


mismatch = []
for a, hexb, mn in trace:
    if a in ref and (ref[a][0] != hexb or norm(ref[a][1]) != norm(mn)):
        mismatch.append((hex(a), hexb, mn, ref[a]))
seen = sum(1 for a, _, _ in trace if a in ref)
check(seen > 20 and not mismatch,
      "%d traced instructions match objdump's bytes and mnemonics %s" % (seen, mismatch[:3]))

loops = [a for a, _, _ in trace if a == syms["loop_top"]]
check(len(loops) == 3, "the loop body runs 3 times (%d)" % len(loops))

ints = [l for l in log.splitlines() if l.startswith("int:")]
check(any(l.startswith("int: vector 0x06 #UD (exception) at ") and
          l.endswith("%08x" % syms["do_ud"]) for l in ints), "#UD reported at the UD2: %s" % ints)
check(any(l.startswith("int: vector 0x30 (software) at ") and
          l.endswith("%08x" % syms["do_int"]) for l in ints),
      "INT 0x30 reported as software, at the INT: %s" % ints)
hit_ud = [a for a, _, _ in trace if a == syms["ud_handler"]]
check(len(hit_ud) == 1, "the #UD handler is traced once")

# ---- -d cpu --------------------------------------------------------------
p, log = run(["-d", "cpu,exec"], os.path.join(tmp, "cpu.log"))
text = log.splitlines()
idx = [k for k, l in enumerate(text) if re.match(r"^[0-9a-f]{4}:%08x " % syms["loop_top"], l)]
ok = False
if idx:
    # The register block just before the first loop_top line.
    block = "\n".join(text[max(0, idx[0] - 4):idx[0]])
    ok = "EAX=12345678" in block and "ECX=00000003" in block and \
        ("EIP=%08X" % syms["loop_top"]).lower() in block.lower()
check(ok, "-d cpu shows EAX=12345678 ECX=00000003 before loop_top")

# ---- -dfilter ------------------------------------------------------------
lo, hi = syms["loop_top"], syms["after_loop"] - 1
p, log = run(["-d", "exec", "-dfilter", "0x%x..0x%x" % (lo, hi)], os.path.join(tmp, "f.log"))
addrs = [int(m.group(2), 16) for m in map(TRACE.match, log.splitlines()) if m]
check(len(addrs) == 9 and all(lo <= a <= hi for a in addrs),
      "-dfilter keeps the loop's 3 x 3 instructions only (%d)" % len(addrs))
p, log = run(["-d", "exec", "-dfilter", "0x%x+1" % syms["do_int"]], os.path.join(tmp, "g.log"))
addrs = [int(m.group(2), 16) for m in map(TRACE.match, log.splitlines()) if m]
check(addrs == [syms["do_int"]], "-dfilter A+LEN form (%s)" % addrs)

# ---- bad arguments ---------------------------------------------------------
for extra in (["-d", "exec", "-dfilter", "0x10..0x5"], ["-d", "nonsense"]):
    p = subprocess.run([KESTREL, "-kernel", BIN, "-display", "none"] + extra,
                       capture_output=True, text=True, timeout=30)
    check(p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1,
          "%s: one-line error, non-zero exit (%d: %r)" % (" ".join(extra), p.returncode,
                                                           p.stderr.strip()))

print("%d passed, %d failed" % (passes, failures))
sys.exit(1 if failures else 0)
