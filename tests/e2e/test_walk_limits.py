#!/usr/bin/env python3
"""What drift's own limits do to a scan: descriptors, nesting, sparse files.

A limit of drift's (open files, memory) must never be recorded as the
host's state, and a tree built to exhaust drift (nesting thousands deep,
terabytes of holes) must cost time and space linear in what is really
there.
"""

import json
import os
import resource
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (CLEAN, DRIFT, E_NO_BASELINE, E_SCAN, MODIFIED, DriftCase,  # noqa: E402
                       env_for_drift, run_tap)


def limit_fds(n):
    def preexec():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return preexec


class FdLimit(DriftCase):

    def make_tree(self):
        for i in range(500):
            self.write("t/d%02d/f%04d" % (i % 50, i), "content %d\n" % i)

    def run_limited(self, nofile, *args):
        argv = [DRIFT, args[0], "--db=" + self.db, "--policy=" + self.policy] + list(args[1:])
        return subprocess.run(argv, capture_output=True, env=env_for_drift(), timeout=60,
                              stdin=subprocess.DEVNULL, preexec_fn=limit_fds(nofile))

    def test_too_few_descriptors_fails_the_scan_instead_of_recording_errors(self):
        self.make_tree()
        p = self.run_limited(8, "init", "-q", self.root)
        self.assertEqual(p.returncode, E_SCAN, p.stderr.decode())
        self.assertIn(b"Too many open files", p.stderr)
        self.assertIn(b"ulimit -n", p.stderr)
        # No baseline was made of it: a check has nothing to compare with.
        self.drift("check", self.root, code=E_NO_BASELINE)
        # With descriptors to spare the same tree is a clean baseline...
        self.init()
        p = self.drift("snapshots", "--format", "json", code=0)
        snaps = [s for s in json.loads(p.stdout)["snapshots"] if s["complete"]]
        self.assertEqual(len(snaps), 1)
        self.assertEqual(snaps[0]["errors"], 0)
        # ...and a check that runs out of them is an error, not 500 changes.
        p = self.run_limited(8, "check", self.root)
        self.assertEqual(p.returncode, E_SCAN, p.stdout.decode() + p.stderr.decode())
        self.assertNotIn(b"unreadable", p.stdout)
        self.drift("check", self.root, code=CLEAN)

    def test_a_low_but_workable_limit_scans_everything(self):
        self.make_tree()
        p = self.run_limited(12, "init", "-q", self.root)
        self.assertEqual(p.returncode, CLEAN, p.stderr.decode())
        p = self.drift("snapshots", "--format", "json", code=0)
        self.assertEqual(json.loads(p.stdout)["snapshots"][0]["errors"], 0)
        p = self.run_limited(24, "check", self.root)
        self.assertEqual(p.returncode, CLEAN, p.stdout.decode() + p.stderr.decode())


if __name__ == "__main__":
    run_tap(__name__)
