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
from test_package_work import PackageWorkCase  # noqa: E402

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


class SinceLast(DriftCase):
    policy_text = SEVERITY_POLICY

    def test_new_persisting_and_resolved(self):
        self.write("etc/a", "1")
        self.write("etc/b", "1")
        self.init()
        self.write("etc/a", "2")
        p = self.drift("check", "--since-last", code=MODIFIED)
        first = p.stdout.split(b"\n")[0]
        self.assertIn(b"1 new, 0 persisting, 0 resolved (no earlier run)", first)
        self.assertIn(b"etc/a  [config] content changed  (new)", p.stdout)
        # The same deviation again, and one more: only that one is news.
        self.write("etc/b", "2")
        p = self.drift("check", "--since-last", code=MODIFIED)
        runs = json.loads(self.drift("runs", "--format", "json", code=CLEAN).stdout)["runs"]
        self.assertIn(b"1 new, 1 persisting, 0 resolved since run #%d" % runs[-2]["id"],
                      p.stdout.split(b"\n")[0])
        self.assertIn(b"etc/b  [config] content changed  (new)", p.stdout)
        self.assertNotIn(b"etc/a  [config] content changed  (new)", p.stdout)
        # Put a back: resolved, listed apart, not counted in the exit code.
        self.write("etc/a", "1")
        self.drift("check", "-q", "--since-last", code=MODIFIED)  # a's mtime differs still
        os.utime(self.path("etc/b"), (0, 0))
        doc, p = self.check_json(code=MODIFIED, extra=("--since-last",))
        self.assertEqual(doc["since_last"]["new"], 0)
        self.assertEqual([d["novelty"] for d in doc["deviations"]],
                         ["persisting"] * len(doc["deviations"]))

    def test_resolved_is_reported_and_not_counted(self):
        self.write("etc/a", "1")
        self.write("var/x", "1")
        self.init()
        os.rename(self.path("var/x"), self.path("var/y"))
        self.drift("check", "-q", "--since-last", code=ADDED | 2)
        os.rename(self.path("var/y"), self.path("var/x"))
        doc, p = self.check_json(code=CLEAN, extra=("--since-last",))
        gone = sorted((d["change"], os.path.basename(d["path"])) for d in doc["resolved"])
        self.assertEqual(gone, [("added", "y"), ("removed", "x")])
        self.assertEqual(doc["summary"]["total"], 0)
        text = self.drift("check", "--since-last", code=CLEAN).stdout
        self.assertIn(b"0 new, 0 persisting, 0 resolved", text.split(b"\n")[0],
                      "the previous run, just above, was already clean")


class Events(PackageWorkCase):
    """A package install and a new account, each said once."""

    def test_package_install_is_one_line(self):
        self.drift("init", "-q", "--root", self.host, code=CLEAN)
        self.install_pytool()
        p = self.drift("check", "--root", self.host, code=CLEAN)
        lines = [l for l in p.stdout.decode().split("\n") if "package pytool" in l]
        self.assertEqual(len(lines), 1, p.stdout.decode())
        self.assertTrue(lines[0].startswith("  package pytool 2.0-1 installed: 12 files, "),
                        lines[0])
        self.assertNotIn("/usr/bin/pytool3", p.stdout.decode(),
                         "the package's files are folded into its line")
        verbose = self.drift("check", "--root", self.host, "--verbose", code=CLEAN).stdout
        self.assertIn(b"    added     /usr/bin/pytool3", verbose)
        doc, _ = self.check_json(code=CLEAN, extra=("--root", self.host))
        ev = [d["event"] for d in doc["deviations"] if d.get("path") == self.h("usr/bin/pytool3")
              or d.get("path") == "/usr/bin/pytool3"]
        self.assertEqual(ev, [{"kind": "package", "name": "pytool", "change": "added"}])

    def test_new_account_leads_its_files(self):
        self.drift("init", "-q", "--root", self.host, code=CLEAN)
        self.append("etc/passwd", b"dave:x:1003:1003:Dave:/home/dave:/bin/bash\n")
        self.append("etc/group", b"dave:x:1003:\n")
        self.append("etc/shadow", b"dave:!:20000:0:99999:7:::\n")
        self.append("etc/gshadow", b"dave:!::\n")
        # useradd's first backup of subuid is a new file: it folds under dave too.
        self.append("etc/subuid-", b"")
        self.append("etc/subuid", b"dave:100000:65536\n")
        p = self.drift("check", "--root", self.host, code=ADDED | MODIFIED)
        text = p.stdout.decode()
        head = ("  user dave added (uid 1003, gid 1003, groups dave, shell /bin/bash, "
                "home /home/dave): ")
        self.assertIn(head, text)
        # Its files are folded under it, in whatever section their severity puts them.
        at = text.index(head)
        self.assertTrue(text[at:].split("\n")[1].startswith("    "), text)
        for line in text.split("\n"):
            if "/etc/passwd" in line and "modified" in line:
                self.assertTrue(line.startswith("    modified"), line)
            if "/etc/subuid-" in line:
                self.assertTrue(line.startswith("    added"), line)


if __name__ == "__main__":
    run_tap(__name__)
