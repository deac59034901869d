#!/usr/bin/env python3
"""Nightly reports (issue #13): several reports from one run (--report
FORMAT:FILE), what --min-severity shows and --fail-on counts, and what
--since-last says is news."""

import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (ADDED, CLEAN, E_OUTPUT, E_USAGE, MODIFIED, DriftCase,  # noqa: E402
                       by_path, run_tap)

# Severities by path: a high file, a medium one and a low everything else.
SEVERITY_POLICY = """\
rules:
  - id: everything
    path: /
    check: [type, mode, uid, gid, size, mtime, hash]
    severity: low
  - id: binaries
    path: "**/bin/**"
    severity: high
  - id: config
    path: "**/etc/**"
    severity: medium
"""


class Reports(DriftCase):
    policy_text = SEVERITY_POLICY

    def setUp(self):
        super().setUp()
        self.write("bin/tool", "v1")
        self.write("etc/conf", "a=1")
        self.write("var/log", "x")
        self.init()

    def out(self, name):
        return os.path.join(self.tmp, name)

    def read(self, name):
        with open(self.out(name), "rb") as f:
            return f.read()

    def temporaries(self):
        return glob.glob(os.path.join(self.tmp, "*.tmp-*"))

    def test_every_report_gets_the_same_findings(self):
        self.write("etc/conf", "a=2")
        self.write("var/new", "n")
        p = self.drift("check", "--report", "json:" + self.out("r.json"),
                       "--report", "text:" + self.out("r.txt"), code=ADDED | MODIFIED)
        doc = json.loads(self.read("r.json"))
        self.assertEqual(doc["summary"]["total"], 2)
        self.assertEqual(sorted(os.path.basename(k) for k in by_path(doc)),
                         [b"conf", b"new"])
        # The text file is what standard output got, without colour.
        self.assertEqual(self.read("r.txt"), p.stdout)
        self.assertEqual(self.temporaries(), [])

    def test_report_files_are_written_when_the_run_is_clean_and_quiet(self):
        p = self.drift("check", "-q", "--report", "text:" + self.out("r.txt"), code=CLEAN)
        self.assertEqual(p.stdout, b"", "-q keeps standard output quiet")
        self.assertTrue(self.read("r.txt").startswith(b"drift check: no deviations"),
                        "a report file is a record: written on a clean run too")

    def test_a_failed_run_replaces_no_report(self):
        with open(self.out("r.json"), "w") as f:
            f.write("yesterday\n")
        # The second destination is a directory: the run fails before it scans.
        self.drift("check", "--report", "json:" + self.out("r.json"),
                   "--report", "text:" + self.tmp, code=E_OUTPUT)
        self.assertEqual(self.read("r.json"), b"yesterday\n")
        self.assertEqual(self.temporaries(), [])

    def test_bad_report_options_are_usage_errors(self):
        p = self.drift("check", "--report", "pdf:" + self.out("r"), code=E_USAGE)
        self.assertIn(b"text, json, ndjson, html, junit or prometheus", p.stderr)
        self.drift("check", "--report", "json", code=E_USAGE)
        self.drift("check", "--report", "json:", code=E_USAGE)
        p = self.drift("check", "--min-severity", "urgent", code=E_USAGE)
        self.assertIn(b"info, low, medium, high or critical", p.stderr)
        self.assertFalse(os.path.exists(self.out("r")))

    def test_min_severity_hides_but_counts(self):
        self.write("bin/tool", "v2")
        self.write("etc/conf", "a=2")
        self.write("var/log", "y")
        p = self.drift("check", "--min-severity", "medium", code=MODIFIED)
        first = p.stdout.split(b"\n")[0]
        self.assertIn(b"3 drift (1 high, 1 medium, 1 low)", first)
        self.assertIn(b"1 below medium not shown", first)
        self.assertIn(b"bin/tool", p.stdout)
        self.assertIn(b"etc/conf", p.stdout)
        self.assertNotIn(b"var/log", p.stdout)
        doc, _ = self.check_json(code=MODIFIED, extra=("--min-severity", "high"))
        self.assertEqual(doc["summary"]["by_severity"]["low"], 1,
                         "the summary counts what the filter hides")
        self.assertEqual([os.path.basename(k) for k in by_path(doc)], [b"tool"])

    def test_fail_on_sets_the_exit_bits_only_at_or_above(self):
        self.write("etc/conf", "a=2")
        self.write("var/log", "y")
        p = self.drift("check", "--fail-on", "high", code=CLEAN)
        self.assertIn(b"etc/conf", p.stdout, "below --fail-on is still reported")
        self.drift("check", "--fail-on", "medium", code=MODIFIED)
        self.write("bin/new", "x")
        self.drift("check", "--fail-on", "high", code=ADDED)
        self.drift("check", "--fail-on", "critical", code=CLEAN)


if __name__ == "__main__":
    run_tap(__name__)
