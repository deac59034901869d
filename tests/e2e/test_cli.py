#!/usr/bin/env python3
"""The command line: help, version, usage errors, output options, colour."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (ADDED, CLEAN, DRIFT, E_OUTPUT, E_SCAN, E_USAGE, MODIFIED,  # noqa: E402
                       REMOVED, DriftCase, env_for_drift, run_tap)

COMMANDS = ["init", "check", "scan", "diff", "verify", "runs", "report", "snapshots", "baseline", "accept",
            "policy", "help"]


class Cli(DriftCase):

    def test_help_on_every_command(self):
        for c in COMMANDS:
            p = self.drift(c, "--help", code=0, db=False)
            self.assertTrue(p.stdout.startswith(b"usage: drift " + c.encode()), c)
        p = self.drift("help", code=0, db=False)
        for c in COMMANDS:
            self.assertIn(c.encode(), p.stdout)
        self.assertEqual(self.drift("--help", code=0, db=False).stdout, p.stdout)
        p = self.drift("help", "check", code=0, db=False)
        self.assertTrue(p.stdout.startswith(b"usage: drift check"))

    def test_version(self):
        p = self.drift("--version", code=0, db=False)
        self.assertRegex(p.stdout.decode(), r"^drift \d+\.\d+\.\d+\n$")

    def test_usage_errors(self):
        self.drift(code=E_USAGE, db=False)
        p = self.drift("frobnicate", code=E_USAGE, db=False)
        self.assertIn(b"not a drift command", p.stderr)
        p = self.drift("check", "--bogus", code=E_USAGE)
        self.assertIn(b"--bogus", p.stderr)
        p = self.drift("init", "--format", "json", code=E_USAGE)
        self.assertIn(b"--format", p.stderr)
        self.drift("check", "--format", "xml", code=E_USAGE)
        self.drift("init", "--threads", "0", code=E_USAGE)
        self.drift("init", "--threads", "many", code=E_USAGE)
        self.drift("scan", self.root, code=E_USAGE)        # no --label
        self.drift("diff", "onlyone", code=E_USAGE)
        self.drift("init", "--exclude", "[oops", self.root, code=E_USAGE)
        self.assertFalse(os.path.exists(self.db), "a usage error creates no database")
        p = self.drift("init", "--quiet=1", code=E_USAGE)
        self.assertIn(b"--quiet=1", p.stderr)

    def test_did_you_mean(self):
        p = self.drift("chek", code=E_USAGE, db=False)
        self.assertEqual(p.stderr, b"drift: 'chek' is not a drift command; did you mean 'check'? "
                                   b"see 'drift help'\n")
        p = self.drift("snapshot", code=E_USAGE, db=False)
        self.assertIn(b"did you mean 'snapshots'?", p.stderr)
        p = self.drift("frobnicate", code=E_USAGE, db=False)
        self.assertNotIn(b"did you mean", p.stderr)
        p = self.drift("check", "--formt", "json", code=E_USAGE)
        self.assertEqual(p.stderr.decode().splitlines(),
                         ["drift check: unknown option '--formt'; did you mean '--format'?",
                          "see 'drift check --help'"])
        p = self.drift("check", "--formt=json", code=E_USAGE)
        self.assertIn(b"did you mean '--format'?", p.stderr)
        # Only what the command takes: init has no --format.
        p = self.drift("init", "--formt", "json", code=E_USAGE)
        self.assertNotIn(b"'--format'", p.stderr)
        p = self.drift("check", "--co", code=E_USAGE)
        self.assertIn(b"'--co' is ambiguous", p.stderr)
        self.assertFalse(os.path.exists(self.db), "a usage error creates no database")

    def test_missing_root_is_a_scan_error(self):
        p = self.drift("init", self.path("does-not-exist"), code=E_SCAN)
        self.assertIn(b"does-not-exist", p.stderr)

    def test_text_report_layout(self):
        self.write("etc/a", "1")
        self.write("etc/b", "2")
        self.init()
        self.write("etc/a", "11")
        os.unlink(self.path("etc/b"))
        self.write("etc/c", "3")
        p = self.drift("check", code=ADDED | REMOVED | MODIFIED)
        text = p.stdout.decode()
        first, rest = text.split("\n", 1)
        self.assertIn("3 deviations", first)
        self.assertIn("1 added, 1 removed, 1 modified", first)
        self.assertIn("3 drift (3 medium)", first)
        # Snapshots of PATHs hold no package data: the report says what that costs.
        note, rest = rest.split("\n", 1)
        self.assertRegex(note, r"^note: file changes are not attributed to packages: "
                               r"snapshot #\d+ recorded no package data .*--probes package")
        # One section per severity; in it, entries in path order with their change.
        self.assertTrue(rest.startswith("\nmedium (3):\n"), rest)
        self.assertIn("  added     " + self.path("etc/c") + "  [everything] new file\n", rest)
        self.assertIn("  removed   " + self.path("etc/b") + "  [everything] removed\n", rest)
        self.assertLess(rest.index(self.path("etc/a")), rest.index(self.path("etc/b")))
        self.assertLess(rest.index(self.path("etc/b")), rest.index(self.path("etc/c")))
        self.assertRegex(rest, r"\n    size: 1 -> 2\n")
        self.assertRegex(rest, r"\n    hash: [0-9a-f]{32} -> [0-9a-f]{32}\n")
        self.assertNotIn("\033[", text, "no colour when not a terminal")

    def test_color_always_and_no_color(self):
        self.write("etc/a", "1")
        self.init()
        self.write("etc/a", "2")
        p = self.drift("check", "--color", "always", code=MODIFIED)
        self.assertIn(b"\033[", p.stdout)
        p = self.drift("check", code=MODIFIED, env={"NO_COLOR": "1"})
        self.assertNotIn(b"\033[", p.stdout)

    def test_output_file_and_json_document(self):
        self.write("etc/a", "1")
        self.init()
        out = os.path.join(self.tmp, "report.json")
        p = self.drift("check", "--format", "json", "--output", out, code=CLEAN)
        self.assertEqual(p.stdout, b"")
        with open(out) as f:
            doc = json.load(f)
        self.assertEqual(doc["summary"]["total"], 0)
        self.assertEqual(doc["command"], "check")
        self.assertEqual(doc["old"]["label"], "baseline")
        self.assertTrue(doc["new"]["label"].startswith("check-"))
        self.assertEqual(doc["deviations"], [])
        self.assertEqual(os.listdir(self.tmp).count("report.json"), 1)
        self.assertFalse([n for n in os.listdir(self.tmp) if ".tmp-" in n], "no temporary left")

    def test_output_to_full_disk_fails_with_output_code(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        self.write("etc/a", "1")
        self.init()
        with open("/dev/full", "wb") as full:
            p = subprocess.run([DRIFT, "check", "--db=" + self.db, "--policy=" + self.policy],
                               stdout=full,
                               stderr=subprocess.PIPE, env=env_for_drift())
        self.assertEqual(p.returncode, E_OUTPUT, p.stderr)
        self.assertIn(b"cannot write report to 'standard output': No space left on device",
                      p.stderr)

    def test_init_prints_one_summary_line(self):
        self.write("etc/a", "1")
        p = self.drift("init", self.root, code=0)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(len(lines), 1)
        self.assertIn("baseline", lines[0])
        self.assertIn("3 entries", lines[0])   # root, etc, etc/a
        self.assertEqual(p.stderr, b"", "no progress line when stderr is not a terminal")

    def test_quiet_clean_run_prints_nothing(self):
        self.write("etc/a", "1")
        self.init()
        p = self.drift("check", "-q", code=0)
        self.assertEqual((p.stdout, p.stderr), (b"", b""))
        p = self.drift("diff", "-q", "1", "2", code=0)
        self.assertEqual((p.stdout, p.stderr), (b"", b""))
        # -q quiets the summary of a clean run, never a finding
        self.write("etc/a", "2")
        p = self.drift("check", "-q", code=MODIFIED)
        self.assertIn(self.path("etc/a").encode(), p.stdout)
        # a script asking for JSON gets it either way
        p = self.drift("report", "-q", "--format", "json", "1", code=0)
        self.assertEqual(json.loads(p.stdout)["summary"]["total"], 0)

    def test_one_entry_is_singular(self):
        one = self.write("etc/one", "1")
        p = self.drift("init", one, code=0)
        self.assertRegex(p.stdout.decode(), r"^drift init: baseline 'baseline' \(#1\): 1 entry, ")
        p = self.drift("scan", "--label", "x", one, code=0)
        self.assertIn(b": 1 entry, ", p.stdout)


if __name__ == "__main__":
    run_tap(__name__)
