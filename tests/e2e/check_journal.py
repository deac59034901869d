#!/usr/bin/env python3
"""cli/journal.c through the real libsystemd, into a journal socket of the
test's own: in a private mount namespace (unshare -m) a tmpfs hides the
host's /run/systemd, and this script binds /run/systemd/journal/socket there
and reads what sd_journal_sendv() sends (journald's native protocol). Nothing
reaches the host's journal. Skipped (the TAP plan "1..0 # SKIP why", exit 0:
meson reads exit 77 of a TAP test as an error) where that namespace cannot be
made: not root, no unshare, no /run/systemd.

argv: the journal-send helper (tests/cli/journal_send.c).
"""

import os
import shutil
import socket
import struct
import subprocess
import sys

SOCKET = "/run/systemd/journal/socket"


def skip(why):
    print("1..0 # SKIP " + why)
    sys.exit(0)  # a TAP test: meson reads exit 77 as an error, the plan as a skip


def fail(msg):
    print("not ok - " + msg)
    sys.exit(1)


def parse(data):
    """Fields of one native-protocol datagram: KEY=VALUE\\n, or KEY\\n<le64><bytes>\\n."""
    fields, binary, pos = [], [], 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        line = data[pos:nl]
        if b"=" in line:
            k, _, v = line.partition(b"=")
            fields.append((k.decode(), v))
            pos = nl + 1
        else:
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            fields.append((line.decode(), data[nl + 9:nl + 9 + n]))
            binary.append(line.decode())
            pos = nl + 9 + n + 1
    return fields, binary


def run_helper(helper):
    p = subprocess.run([helper], capture_output=True, timeout=60)
    if p.returncode != 0:
        fail("journal-send exited %d: %s" % (p.returncode, p.stderr))
    return p.stdout.decode().split("\n")[:-1]


def inside(helper):
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run/systemd"],
                   check=True)
    # No socket: the journal opens, and writes nothing.
    if run_helper(helper) != ["connected 0", "finding 0", "finding 0", "summary 0"]:
        fail("without a socket: %r" % run_helper(helper))
    print("ok 1 - no journal socket: opens, sends nothing")

    os.mkdir("/run/systemd/journal")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(SOCKET)
    s.settimeout(10)
    out = run_helper(helper)
    if out != ["connected 1", "finding 0", "finding 0", "summary 0"]:
        fail("with a socket: %r" % out)
    records = [parse(s.recv(1 << 20)) for _ in range(2)]
    s.settimeout(0.2)
    try:
        extra = s.recv(1 << 20)
        fail("a third record (the low finding must have none): %r" % extra[:200])
    except socket.timeout:
        pass
    for fields, binary in records:
        if binary:
            fail("fields sent in binary form (a raw newline in a value): %r" % binary)
        for k, v in fields:
            if len(k) + 1 + len(v) >= 1024:
                fail("field %s is %d bytes" % (k, len(k) + 1 + len(v)))
            v.decode("utf-8")   # valid UTF-8, or this raises
            if any(c < 0x20 or c == 0x7f for c in v):
                fail("control byte in %s=%r" % (k, v))
    (f, _), (summary, _) = records
    f, summary = dict(f), dict(summary)
    want = {"PRIORITY": b"2", "SYSLOG_IDENTIFIER": b"drift", "DRIFT_SEVERITY": b"critical",
            "MESSAGE_ID": b"ab8e0555ba5d45a3baa2960653d0ed95", "DRIFT_RULE": b"setuid-binaries"}
    for k, v in want.items():
        if f.get(k) != v:
            fail("finding: %s=%r, not %r" % (k, f.get(k), v))
    if not f["DRIFT_PATH"].startswith(b"/usr/bin/a\\nb\\x01\\xff") or not f["DRIFT_PATH"].endswith(b"..."):
        fail("DRIFT_PATH=%r" % f["DRIFT_PATH"][:40])
    if not f["MESSAGE"].startswith(b"drift: critical: /usr/bin/a\\nb\\x01\\xffxxx"):
        fail("MESSAGE=%r" % f["MESSAGE"][:60])
    if "CODE_FILE" in f:
        fail("CODE_FILE names the seam: %r" % f["CODE_FILE"])
    if summary.get("MESSAGE") != b"drift check: 2 deviations" or summary.get("DRIFT_EXIT_STATUS") != b"5":
        fail("summary: %r" % summary)
    print("ok 2 - records reach the socket: fields below 1 KB, escaped, text")
    print("1..2")


def main():
    helper = os.path.abspath(sys.argv[1])
    if len(sys.argv) > 2 and sys.argv[2] == "--inside":
        inside(helper)
        return
    if os.geteuid() != 0:
        skip("needs root for a private mount namespace")
    unshare = shutil.which("unshare")
    if not unshare or not os.path.isdir("/run/systemd"):
        skip("needs unshare(1) and /run/systemd")
    p = subprocess.run([unshare, "-m", "--propagation", "private", sys.executable,
                        os.path.abspath(__file__), helper, "--inside"],
                       capture_output=True, timeout=120)
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0 and "not ok" not in out and b"unshare" in p.stderr:
        skip("cannot make a mount namespace here: %s" % p.stderr.decode(errors="replace").strip())
    sys.stdout.write(out)
    sys.stderr.write(p.stderr.decode(errors="replace"))
    sys.exit(p.returncode)


main()
