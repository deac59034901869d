#!/usr/bin/env python3
"""Stored runs: every check, diff and verify is kept, and `drift report` renders
it again exactly as the command printed it."""
import json
import os
import re

import drifttest
from drifttest import ADDED, E_USAGE, MODIFIED, REMOVED
from test_system import SystemCase

GENERATED = re.compile(rb'("generated": "[^"]*"|generated [0-9-]+ [0-9:]+ UTC)')


def same_but_time(a, b):
    return GENERATED.sub(b"TIME", a) == GENERATED.sub(b"TIME", b)


class RunsTest(SystemCase):
    def report(self, *args, code):
        return self.drift("report", "--color", "never", *args, code=code)

    def assert_replays(self, printed, run, fmt, code):
        again = self.report(str(run), "--format", fmt, code=code).stdout
        self.assertTrue(same_but_time(printed, again),
                        "run %d (%s) renders differently:\n--- then\n%s\n--- now\n%s" % (
                            run, fmt, printed.decode(errors="replace"),
                            again.decode(errors="replace")))

    def runs(self):
        p = self.drift("runs", "--format", "json", code=0)
        return json.loads(p.stdout)["runs"]

    def test_check_report_renders_again_byte_for_byte(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        self.upgrade_hello()                               # expected, with its package
        self.put("usr/bin/backdoor", b"\x7fELF planted\n", 0o755)   # drift, unowned
        text = self.drift("check", "--root", self.host, "--color", "never",
                          code=ADDED | MODIFIED)   # the package entry itself is drift
        self.assertIn(b"package hello upgraded", text.stdout)
        js = self.drift("check", "--root", self.host, "--format", "json", code=text.returncode)
        runs = self.runs()
        self.assertEqual([r["command"] for r in runs], ["check", "check"])
        self.assertEqual(runs[0]["exit_code"], text.returncode)
        self.assertGreater(runs[0]["expected"], 0)
        self.assertGreater(runs[0]["drift"], 0)
        self.assert_replays(text.stdout, runs[0]["id"], "text", text.returncode)
        self.assert_replays(js.stdout, runs[1]["id"], "json", text.returncode)
        # the newest run by default
        again = self.report("--format", "json", code=text.returncode).stdout
        self.assertTrue(same_but_time(js.stdout, again))

    def test_report_stands_after_relabel_and_policy_change(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        self.put("etc/hello.conf", b"# local change\n")
        printed = self.drift("check", "--root", self.host, "--color", "never", code=MODIFIED)
        run = self.runs()[0]["id"]
        # a new baseline relabels the old one; a new policy judges differently
        self.drift("init", "-q", "--force", "--root", self.host, code=0)
        self.set_policy("rules:\n  - path: /\n    check: [type]\n")
        self.assert_replays(printed.stdout, run, "text", printed.returncode)

    def test_diff_and_verify_are_stored(self):
        self.drift("scan", "-q", "--root", self.host, "--label", "pre", code=0)
        self.upgrade_hello()
        with open(self.h("etc/hello.conf"), "ab") as f:
            f.write(b"# local\n")
        self.drift("scan", "-q", "--root", self.host, "--label", "post", code=0)
        diff = self.drift("diff", "--root", self.host, "--color", "never", "pre", "post",
                          code=MODIFIED)
        os.unlink(self.h("usr/share/doc/hello/copyright"))
        verify = self.drift("verify", "--root", self.host, "--format", "json",
                            code=REMOVED | MODIFIED)
        runs = self.runs()
        self.assertEqual([r["command"] for r in runs], ["diff", "verify"])
        self.assertIsNone(runs[1]["old"])
        self.assert_replays(diff.stdout, runs[0]["id"], "text", diff.returncode)
        self.assert_replays(verify.stdout, runs[1]["id"], "json", verify.returncode)

    def test_runs_go_with_their_snapshots(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        self.put("usr/bin/backdoor", b"planted\n", 0o755)
        first = self.drift("check", "-q", "--keep", "1", "--root", self.host, code=ADDED)
        second = self.drift("check", "-q", "--keep", "1", "--root", self.host,
                            code=first.returncode)
        runs = self.runs()
        self.assertEqual(len(runs), 1, runs)        # the first check's snapshot was pruned
        p = self.report("1", code=E_USAGE)
        self.assertIn(b"no run #1", p.stderr)
        self.report(str(runs[0]["id"]), code=second.returncode)

    def test_report_usage(self):
        p = self.report(code=drifttest.E_NO_BASELINE)       # no database yet
        self.drift("init", "-q", "--root", self.host, code=0)
        p = self.report(code=E_USAGE)
        self.assertIn(b"no stored runs", p.stderr)
        self.report("abc", code=E_USAGE)
        self.report("1", "2", code=E_USAGE)
        p = self.drift("runs", code=0)
        self.assertIn(b"no stored runs", p.stderr)
        self.assertEqual(p.stdout, b"")


if __name__ == "__main__":
    drifttest.run_tap(__name__)
