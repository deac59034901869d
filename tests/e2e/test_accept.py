#!/usr/bin/env python3
"""drift accept (issue #14): reviewed findings taken into a new baseline as the
reviewed run saw them (never a rescan), recorded with who and why, undoable."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (CLEAN, E_NO_BASELINE, E_USAGE, MODIFIED, DriftCase,  # noqa: E402
                       by_path, run_tap)
from test_package_work import PackageWorkCase  # noqa: E402


class Accept(DriftCase):

    def setUp(self):
        super().setUp()
        for name in ("a", "b", "c"):
            self.write("etc/" + name, name + "\n")
        self.init()
        for name in ("a", "b", "c"):
            self.write("etc/" + name, name + " changed\n")
        self.drift("check", self.root, code=MODIFIED)

    def checked(self, code):
        doc, _ = self.check_json(self.root, code=code)
        return {os.path.basename(p.decode()) for p, d in by_path(doc).items()
                if d["class"] != "expected"}

    def snapshots(self):
        p = self.drift("snapshots", "--format", "json", code=CLEAN)
        return json.loads(p.stdout)["snapshots"]

    def current_baseline(self):
        """The label `drift snapshots` marks with '*'."""
        text = self.drift("snapshots", code=CLEAN).stdout.decode()
        (line,) = [l for l in text.split("\n") if l.startswith("*")]
        return line.split()[2]

    def test_accept_one_by_path_and_undo(self):
        p = self.drift("accept", self.path("etc/a"), "--reason", "planned change", code=CLEAN)
        last = p.stdout.decode().strip().split("\n")[-1]
        self.assertRegex(last, r"^drift accept: 1 entry of run #1 accepted into baseline "
                               r"'accept-\d{8}T\d{6}Z' \(#\d+\); undo: drift accept --undo$")
        self.assertIn("modified", p.stdout.decode().split("\n")[0])
        # The other two are still reported; a is not.
        self.assertEqual(self.checked(MODIFIED), {"b", "c"})
        # Both baselines are in history: the old one dated, the new one current.
        snaps = self.snapshots()
        labels = {s["label"]: s for s in snaps}
        olds = [l for l in labels if l.startswith("baseline-")]
        news = [l for l in labels if l.startswith("accept-")]
        self.assertEqual(len(olds), 1, labels)
        self.assertEqual(len(news), 1, labels)
        self.assertEqual(labels[news[0]]["purpose"], "baseline")
        self.assertEqual(labels[olds[0]]["purpose"], "baseline")
        self.assertEqual(self.current_baseline(), news[0])

        # Undo: all three are back, and the old baseline is the baseline again.
        p = self.drift("accept", "--undo", code=CLEAN)
        self.assertIn(b"acceptance #1 undone", p.stdout)
        self.assertEqual(self.checked(MODIFIED), {"a", "b", "c"})
        self.assertEqual(self.current_baseline(), olds[0])
        # Nothing left to undo.
        p = self.drift("accept", "--undo", code=E_USAGE)
        self.assertIn(b"no acceptance to undo", p.stderr)

    def test_a_later_change_is_still_reported(self):
        """Accepting takes the entry as the reviewed run saw it: not a rescan."""
        self.write("etc/a", "a changed again, after the review\n")
        self.drift("accept", self.path("etc/a"), "--reason", "reviewed", code=CLEAN)
        doc, _ = self.check_json(self.root, code=MODIFIED)
        devs = {os.path.basename(p.decode()): d for p, d in by_path(doc).items()}
        self.assertIn("a", devs, "the change made after the review is reported")
        self.assertEqual(devs["a"]["change"], "modified")
        # Against the accepted content: the size the reviewed run saw.
        self.assertEqual(devs["a"]["old"]["size"], len("a changed\n"))
        self.assertEqual(devs["a"]["new"]["size"], len("a changed again, after the review\n"))

    def test_list_shows_who_and_why(self):
        self.drift("accept", self.path("etc/b"), "--reason", "ticket 42",
                   env={"SUDO_USER": "alice"}, code=CLEAN)
        text = self.drift("accept", "--list", code=CLEAN).stdout.decode()
        self.assertIn("why: ticket 42", text)
        doc = json.loads(self.drift("accept", "--list", "--format", "json",
                                    code=CLEAN).stdout)
        (a,) = doc["acceptances"]
        self.assertEqual(a["reason"], "ticket 42")
        self.assertEqual(a["entries"], 1)
        self.assertEqual(a["run"], 1)
        self.assertIsNone(a["undone"])
        if os.getuid() == 0:
            self.assertEqual(a["who"], "alice", "under sudo: the login name")
            self.assertIn(" alice ", text)
        self.drift("accept", "--undo", "1", env={"SUDO_USER": "bob"}, code=CLEAN)
        (a,) = json.loads(self.drift("accept", "--list", "--format", "json",
                                     code=CLEAN).stdout)["acceptances"]
        self.assertIsNotNone(a["undone"])
        if os.getuid() == 0:
            self.assertEqual(a["undone"]["by"], "bob")

    def test_usage_errors_write_nothing(self):
        before = self.snapshots()
        p = self.drift("accept", self.path("etc/a"), code=E_USAGE)
        self.assertIn(b"--reason", p.stderr)
        p = self.drift("accept", self.path("etc/a"), self.path("etc/nope"), "--reason", "x",
                       code=E_USAGE)
        self.assertIn(b"etc/nope is not a finding of run #1", p.stderr)
        self.drift("accept", "--reason", "x", code=E_USAGE)            # nothing named
        self.drift("accept", "etc/a", "--reason", "x", code=E_USAGE)   # not a KEY
        self.drift("accept", "--all", self.path("etc/a"), "--reason", "x", code=E_USAGE)
        self.drift("accept", "--run", "99", "--all", "--reason", "x", code=E_USAGE)
        p = self.drift("accept", "--event", "user:alice", "--reason", "x", code=E_USAGE)
        self.assertIn(b"account events are not stored", p.stderr)
        self.drift("accept", "--bogus", code=E_USAGE)
        # No database: none is made for it.
        nodb = os.path.join(self.tmp, "none", "drift.db")
        self.drift("accept", "--db", nodb, self.path("etc/a"), "--reason", "x",
                   code=E_NO_BASELINE, db=False)
        self.drift("accept", "--db", nodb, "--undo", code=E_NO_BASELINE, db=False)
        self.assertFalse(os.path.exists(nodb))
        p = self.drift("accept", "--dry-run", "--all", "--reason", "x", code=CLEAN)
        self.assertIn(b"3 entries of run #1 would be accepted", p.stdout)
        self.assertEqual(self.snapshots(), before)
        self.assertEqual(self.checked(MODIFIED), {"a", "b", "c"})

    def test_all_and_a_moved_baseline(self):
        p = self.drift("accept", "--all", "--reason", "all reviewed", code=CLEAN)
        self.assertIn(b"3 entries of run #1 accepted", p.stdout)
        self.assertEqual(self.checked(CLEAN), set())
        # Run #1 compared against the old baseline: accepting from it again is refused.
        p = self.drift("accept", "--run", "1", self.path("etc/a"), "--reason", "x",
                       code=E_USAGE)
        self.assertIn(b"the baseline has moved since run #1", p.stderr)
        self.assertIn(b"drift check", p.stderr)

    def test_help(self):
        p = self.drift("accept", "--help", code=CLEAN, db=False)
        self.assertTrue(p.stdout.startswith(b"usage: drift accept"))
        self.assertEqual(self.drift("help", "accept", code=CLEAN, db=False).stdout, p.stdout)
        self.assertIn(b"accept", self.drift("help", code=CLEAN, db=False).stdout)


class AcceptPackage(PackageWorkCase):

    def events(self, code):
        """The findings of a new check that are pytool's package event, and their classes."""
        p = self.drift("check", "--root", self.host, "--format", "json", code=code)
        doc = json.loads(p.stdout)
        return ([d for d in doc["deviations"]
                 if d.get("event", {}).get("name") == "pytool" or d.get("key") == "pytool:all"],
                {d.get("path", d.get("key")): d["class"] for d in doc["deviations"]})

    def test_accept_a_package_event(self):
        self.drift("init", "-q", "--root", self.host, code=CLEAN)
        self.install_pytool()
        self.drift("check", "-q", "--root", self.host, code=CLEAN)
        found, _ = self.events(CLEAN)
        self.assertTrue(found, "the install is a package event")
        p = self.drift("accept", "--event", "package:pytool", "--reason", "apt install",
                       code=CLEAN)
        self.assertRegex(p.stdout.decode(), r"drift accept: \d+ entries of run #\d+ accepted")
        self.assertIn(b"package:pytool:all", p.stdout)
        self.assertIn(b"/usr/bin/pytool3", p.stdout)
        self.assertIn(b"/etc/passwd", p.stdout)
        # The event's findings are in the baseline now, with the account its
        # postinst added (_pytool) and the account files rewritten for it,
        # which those additions explained: the next check is clean.
        found, classes = self.events(CLEAN)
        self.assertEqual(found, [])
        self.assertNotIn("/etc/passwd", classes)
        # Undo: the install is reported as it was.
        self.drift("accept", "--undo", code=CLEAN)
        found, classes = self.events(CLEAN)
        self.assertTrue(found, "undo brings them back")
        self.assertEqual(classes["/etc/passwd"], "expected")


if __name__ == "__main__":
    run_tap(__name__)
