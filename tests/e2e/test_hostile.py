#!/usr/bin/env python3
"""Hostile inputs from the security review (issue #9): globs that made the
old backtracking matcher run for minutes, and a FIFO given as the policy.

Every drift run here has a 60 s timeout, so that a regression fails the test
instead of hanging it; on a working drift each run takes well under a second.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (CLEAN, DRIFT, E_POLICY, MODIFIED, DriftCase, by_path,  # noqa: E402
                       check_exit, env_for_drift, run_tap)

TIMEOUT = 60

# Ten "**", then a literal that is nowhere in the tree: each "**" may take any
# of the 40 levels, so a backtracking matcher tries about 40^10 ways.
DEEP_EXCLUDE = "/**/**/**/**/**/**/**/**/**/**/q/**/y"
# Twelve stars over a name of 61 bytes with no 'c': about 61^12 ways.
STARS = "*a*a*a*a*a*a*a*a*a*a*a*a*c*b"


class Hostile(DriftCase):

    def run_drift(self, *args, code):
        """drift ARGS with a timeout: a hang is a failure, not a stuck test."""
        argv = [DRIFT] + list(args)
        try:
            p = subprocess.run(argv, capture_output=True, env=env_for_drift(),
                               stdin=subprocess.DEVNULL, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail("drift %s: still running after %d s" % (" ".join(args), TIMEOUT))
        check_exit(self, args, p, code)
        return p

    def common(self):
        return ("--db=" + self.db, "--policy=" + self.policy)

    def entries(self):
        p = self.run_drift("snapshots", "--db=" + self.db, "--format", "json", code=0)
        return json.loads(p.stdout)["snapshots"][0]["entries"]

    # ---- globs ----

    def test_deep_double_star_exclude_completes_and_excludes(self):
        deep = os.path.join(*(["y"] * 40))
        keep = self.write(os.path.join(deep, "y"), "keep")
        gone = self.write(os.path.join(deep, "q", "y"), "excluded")
        self.run_drift("init", "-q", *self.common(), "--exclude", DEEP_EXCLUDE, self.root,
                       code=0)
        # The root, 40 directories y, the file y, the directory q; not q/y.
        self.assertEqual(self.entries(), 43)
        # check uses the excludes stored in the baseline: q/y stays out.
        with open(gone, "w") as f:
            f.write("changed, but excluded")
        self.run_drift("check", "-q", *self.common(), code=CLEAN)
        with open(keep, "w") as f:
            f.write("changed")
        p = self.run_drift("check", *self.common(), "--format", "json", code=MODIFIED)
        self.assertEqual(sorted(by_path(json.loads(p.stdout))), [keep.encode()])

    def test_star_heavy_policy_rule_completes_and_matches_right(self):
        self.set_policy("""\
rules:
  - id: all
    path: %s
    check: [type, size, hash]
    severity: medium
  - id: stars
    path: "%s"
    check: [type, size, hash]
    severity: critical
""" % (self.root, STARS))
        miss = self.write("a" * 60 + "b", "1")        # 61 bytes, no 'c'
        hit = self.write("a" * 59 + "cb", "1")        # 61 bytes, ends in "cb"
        self.run_drift("policy", "check", self.policy, code=0)
        self.run_drift("init", "-q", *self.common(), self.root, code=0)
        for path in (miss, hit):
            with open(path, "w") as f:
                f.write("22")
        p = self.run_drift("check", *self.common(), "--format", "json", code=MODIFIED)
        got = by_path(json.loads(p.stdout))
        self.assertEqual(got[miss.encode()]["rule"]["id"], "all")
        self.assertEqual(got[hit.encode()]["rule"]["id"], "stars")
        self.assertEqual(got[hit.encode()]["severity"], "critical")

    # ---- a FIFO as the policy ----

    def test_fifo_policy_is_refused_at_once(self):
        fifo = os.path.join(self.tmp, "policy.fifo")
        os.mkfifo(fifo, 0o600)
        want = ("cannot read policy '%s': not a regular file (a FIFO)" % fifo).encode()
        p = self.run_drift("policy", "check", fifo, code=E_POLICY)
        self.assertIn(want, p.stderr)
        p = self.run_drift("policy", "show", "--policy", fifo, code=E_POLICY)
        self.assertIn(want, p.stderr)
        p = self.run_drift("init", "-q", "--db=" + self.db, "--policy", fifo, self.root,
                           code=E_POLICY)
        self.assertIn(want, p.stderr)
        self.assertFalse(os.path.exists(self.db), "nothing is written for a refused policy")


if __name__ == "__main__":
    run_tap(__name__)
