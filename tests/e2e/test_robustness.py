#!/usr/bin/env python3
"""Interrupted scans, bad databases, concurrent writers, determinism."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (CLEAN, DRIFT, E_DB, E_INTERRUPTED, DriftCase, env_for_drift,  # noqa: E402
                       run_tap)


class Robustness(DriftCase):

    def make_tree(self, n=300):
        for i in range(n):
            self.write("t/d%02d/f%04d" % (i % 17, i), "content %d\n" % i)

    def start_paused(self, *args, after=50):
        """Start drift with the test hook that pauses the writer after N entries."""
        argv = [DRIFT, args[0], "--db=" + self.db, "--policy=" + self.policy] + list(args[1:])
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL,
                             env=env_for_drift({"DRIFT_TEST_PAUSE_AFTER": str(after)}))
        line = p.stderr.readline()
        self.assertIn(b"test pause after", line)
        return p

    def snapshots(self):
        p = self.drift("snapshots", "--format", "json", code=0)
        return json.loads(p.stdout)["snapshots"]

    def test_sigkill_leaves_baseline_intact_and_snapshot_incomplete(self):
        self.make_tree()
        self.init()
        before = self.snapshots()
        self.write("t/d00/f0000", "changed")
        p = self.start_paused("check", "-q")
        p.kill()
        p.wait()
        self.assertEqual(p.returncode, -signal.SIGKILL, "killed while paused, not before")
        snaps = self.snapshots()
        self.assertEqual(len(snaps), len(before) + 1)
        self.assertEqual(snaps[0], before[0], "the baseline is untouched")
        self.assertFalse(snaps[-1]["complete"])
        self.assertEqual(snaps[-1]["entries"], 0)
        p = self.drift("diff", "baseline", str(snaps[-1]["id"]), code=E_DB)
        self.assertIn(b"incomplete", p.stderr)
        # The database still works: the next check sees the change.
        self.drift("check", "-q", code=4)

    def test_sigint_stops_cleanly_and_says_so(self):
        self.make_tree()
        self.init()
        p = self.start_paused("check", "-q")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, E_INTERRUPTED, err)
        self.assertIn(b"interrupted", err)
        self.assertEqual(out, b"", "no report from an interrupted check")
        snaps = self.snapshots()
        self.assertFalse(snaps[-1]["complete"])
        self.assertTrue(snaps[0]["complete"])
        self.drift("check", "-q", code=CLEAN)

    def test_corrupt_database_is_refused_and_left_alone(self):
        os.makedirs(os.path.dirname(self.db), mode=0o700)
        junk = os.urandom(8192)
        with open(self.db, "wb") as f:
            f.write(junk)
        os.chmod(self.db, 0o600)  # as drift makes it: a readable one is refused first
        for args in (("init", "-q", self.root), ("check",), ("snapshots",),
                     ("scan", "-q", "--label", "x", self.root)):
            p = self.drift(*args, code=E_DB)
            self.assertIn(self.db.encode(), p.stderr)
            self.assertIn(b"not a drift database", p.stderr)
        with open(self.db, "rb") as f:
            self.assertEqual(f.read(), junk)

    def test_foreign_sqlite_database_is_refused(self):
        os.makedirs(os.path.dirname(self.db), mode=0o700)
        con = sqlite3.connect(self.db)
        con.execute("create table contacts(name text)")
        con.commit()
        con.close()
        os.chmod(self.db, 0o600)
        with open(self.db, "rb") as f:
            before = f.read()
        p = self.drift("init", "-q", self.root, code=E_DB)
        self.assertIn(b"not a drift database", p.stderr)
        with open(self.db, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_truncated_database_is_refused(self):
        self.make_tree(50)
        self.init()
        size = os.path.getsize(self.db)
        with open(self.db, "r+b") as f:
            f.truncate(size // 2 if size > 8192 else 100)
        with open(self.db, "rb") as f:
            before = f.read()
        p = self.drift("check", code=E_DB)
        self.assertIn(b"'%s' is damaged" % self.db.encode(), p.stderr)
        self.assertEqual(p.stdout, b"", "no report from a damaged database")
        with open(self.db, "rb") as f:
            self.assertEqual(f.read(), before, "the damaged database was written to")

    def test_second_writer_waits_then_fails_clearly(self):
        self.make_tree(100)
        self.init()
        holder = self.start_paused("scan", "--label", "first", self.root)
        try:
            t0 = time.monotonic()
            p = self.drift("scan", "-q", "--label", "second", self.root, code=E_DB)
            waited = time.monotonic() - t0
            self.assertIn(b"locked", p.stderr)
            self.assertGreaterEqual(waited, 4.5)
            # Readers are not blocked by the writer.
            self.drift("snapshots", code=0)
        finally:
            holder.kill()
            holder.wait()
        self.assertEqual(holder.returncode, -signal.SIGKILL, "killed while paused, not before")

    def test_thread_counts_give_identical_snapshots(self):
        self.make_tree(500)
        os.symlink("d00", self.path("t/link"))
        for n in (1, 2, 8):
            self.drift("scan", "-q", "--threads", str(n), "--label", "t%d" % n, self.root, code=0)
        for a, b in (("t1", "t2"), ("t1", "t8")):
            p = self.drift("diff", "--all-changes", a, b, code=CLEAN)
            self.assertIn(b"no deviations", p.stdout)
        counts = {s["label"]: s["entries"] for s in self.snapshots()}
        self.assertEqual(counts["t1"], counts["t2"])
        self.assertEqual(counts["t1"], counts["t8"])


if __name__ == "__main__":
    run_tap(__name__)
