#!/usr/bin/env python3
"""Time drift browse on a run of 1,000,000 findings: the model alone, then the real program.

Usage: bench/browse_tmux.py --gen build/bench/browse --drift build/drift
                            [--findings N] [--keep DIR (reused when it holds one)]

1. Runs the generator (bench/browse.c), which writes a database with one run
   of N findings (default 1,000,000) and prints the model's figures: read,
   open, RSS, and the time to a screen after each key.
2. Starts `drift browse` on that database in a tmux server of its own
   (100x30), and prints the time from start until the first screen shows,
   then, per key, the time from `tmux send-keys` until `capture-pane` shows
   a different screen (so the figure includes tmux's own round trips, a few
   ms). Not a test: nothing fails on time. Needs tmux.

Python 3 standard library only.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen", required=True)
    ap.add_argument("--drift", required=True)
    ap.add_argument("--findings", type=int, default=1000000)
    ap.add_argument("--keep", help="keep the database in this directory")
    a = ap.parse_args()
    tmux = shutil.which("tmux")
    tmp = a.keep or tempfile.mkdtemp(prefix="drift-bench-browse-", dir="/var/tmp")
    os.makedirs(tmp, exist_ok=True)
    db = os.path.join(tmp, "browse.db")
    if a.keep and os.path.exists(db):
        print("reusing %s (the model's figures come with a new one)" % db)
    else:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
        print("$ %s %s %d" % (a.gen, db, a.findings), flush=True)
        subprocess.run([a.gen, db, str(a.findings)], check=True)
    if not tmux:
        print("tmux is not installed: the real program is not timed")
        return 0
    sock = "drift-bench-browse-%d" % os.getpid()

    def t(*args, check=True):
        return subprocess.run([tmux, "-L", sock, "-f", "/dev/null"] + list(args),
                              capture_output=True, check=check)

    def screen():
        # -e: with the attributes, so that the cursor's reverse video counts as a change.
        return t("capture-pane", "-p", "-e", check=False).stdout.decode(errors="replace")

    def wait_change(old, timeout=10, what=""):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = screen()
            if s != old and "drift browse" in s:
                return s
            time.sleep(0.001)
        raise SystemExit("the screen did not change after %s:\n%s" % (what, s))

    argv = [a.drift, "browse", "--db", db, "--policy", "builtin"]
    print("\n$ tmux new-session -d -x 100 -y 30 %s" % " ".join(argv), flush=True)
    try:
        # The clock starts when the shell execs drift (it writes the wall time first).
        start = os.path.join(tmp, "start")
        if os.path.exists(start):
            os.unlink(start)
        t("new-session", "-d", "-x", "100", "-y", "30", "sh", "-c",
          "date +%%s.%%N > %s; exec %s" % (start, " ".join(argv)))
        s = wait_change("")
        while "shown" not in s:
            s = wait_change(s)
        first = (time.time() - float(open(start).read())) * 1000
        print("first screen: %.0f ms (from drift's exec until capture-pane shows it)" % first)
        rt = []
        for _ in range(10):
            k0 = time.monotonic()
            screen()
            rt.append((time.monotonic() - k0) * 1000)
        print("one capture-pane round trip (in every figure below): median %.1f ms" %
              statistics.median(rt))
        print("keystroke to redraw (send-keys until capture-pane differs):")
        results = {}
        plan = [("j", "j")] * 15 + [("k", "k")] * 5 + [
            ("E (open every node)", "E"), ("G (end)", "G"), ("4 (list)", "4"),
            ("G (end of the list)", "G"), ("s (sort by path)", "s"), ("s (by kind)", "s"),
            ("+ (severity >= low)", "+"), ("c (drift only)", "c"), ("0 (no filter)", "0"),
            ("1 (by directory)", "1"), ("Tab (detail)", "Tab"), ("k (detail open)", "k"),
            ("j (detail open)", "j"),
        ]
        for name, key in plan:
            old = screen()
            k0 = time.monotonic()
            t("send-keys", key)
            wait_change(old, what=name)
            results.setdefault(name, []).append((time.monotonic() - k0) * 1000)
        for name, ms in results.items():
            if len(ms) > 1:
                print("  %-24s median %6.1f ms, max %6.1f ms (%d presses)" % (
                    name, statistics.median(ms), max(ms), len(ms)))
            else:
                print("  %-24s %6.1f ms" % (name, ms[0]))
        # A burst: 200 k at once (from the end); the redraws are merged.
        old = screen()
        k0 = time.monotonic()
        t("send-keys", *(["k"] * 200))
        s = wait_change(old)
        print("  200 k in one send-keys: first redraw after %.1f ms" % (
            (time.monotonic() - k0) * 1000))
        t("send-keys", "q")
    finally:
        t("kill-server", check=False)
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
