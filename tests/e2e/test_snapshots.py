#!/usr/bin/env python3
"""Snapshots: labels, init --force, check retention, drift diff, drift snapshots."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (ADDED, ALL_POLICY, CLEAN, E_NO_BASELINE, E_USAGE,  # noqa: E402
                       MODIFIED, REMOVED, DriftCase, by_path, run_tap)


class Snapshots(DriftCase):

    def list_json(self):
        p = self.drift("snapshots", "--format", "json", code=0)
        return json.loads(p.stdout)["snapshots"]

    def test_diff_of_two_labelled_snapshots(self):
        self.write("usr/bin/a", "1")
        self.write("usr/bin/b", "2")
        self.drift("scan", "-q", "--label", "pre-upgrade", self.root, code=0)
        self.write("usr/bin/a", "1.1")
        os.unlink(self.path("usr/bin/b"))
        self.write("usr/bin/c", "3")
        self.drift("scan", "-q", "--label", "post-upgrade", self.root, code=0)
        p = self.drift("diff", "--format", "json", "pre-upgrade", "post-upgrade",
                       code=ADDED | REMOVED | MODIFIED)
        doc = json.loads(p.stdout)
        got = by_path(doc)
        self.assertEqual(got[self.path("usr/bin/a").encode()]["change"], "modified")
        self.assertEqual(got[self.path("usr/bin/b").encode()]["change"], "removed")
        self.assertEqual(got[self.path("usr/bin/c").encode()]["change"], "added")
        self.assertEqual(doc["command"], "diff")
        self.assertEqual((doc["old"]["label"], doc["new"]["label"]), ("pre-upgrade", "post-upgrade"))
        # By id too, and the reverse direction swaps added and removed.
        ids = {s["label"]: s["id"] for s in self.list_json()}
        p = self.drift("diff", "--format", "json", str(ids["post-upgrade"]), str(ids["pre-upgrade"]),
                       code=ADDED | REMOVED | MODIFIED)
        got = by_path(json.loads(p.stdout))
        self.assertEqual(got[self.path("usr/bin/b").encode()]["change"], "added")

    def test_diff_of_unknown_snapshot_is_a_usage_error(self):
        self.drift("scan", "-q", "--label", "one", self.root, code=0)
        p = self.drift("diff", "one", "nope", code=E_USAGE)
        self.assertIn(b"nope", p.stderr)

    def test_labels_unique_never_all_digits(self):
        self.drift("scan", "-q", "--label", "x", self.root, code=0)
        p = self.drift("scan", "-q", "--label", "x", self.root, code=E_USAGE)
        self.assertIn(b"--replace", p.stderr)
        self.drift("scan", "-q", "--label", "123", self.root, code=E_USAGE)
        self.write("f", "new")
        self.drift("scan", "-q", "--label", "x", "--replace", self.root, code=0)
        snaps = [s for s in self.list_json() if s["label"] == "x"]
        self.assertEqual(len(snaps), 1)
        self.assertEqual(snaps[0]["entries"], 2)

    def test_second_init_refuses_and_force_keeps_the_old_one(self):
        self.write("etc/a", "1")
        self.init()
        p = self.drift("init", "-q", self.root, code=E_USAGE)
        self.assertIn(b"--force", p.stderr)
        self.write("etc/a", "2")
        self.drift("init", "-q", "--force", self.root, code=0)
        snaps = self.list_json()
        labels = [s["label"] for s in snaps]
        self.assertIn("baseline", labels)
        old = [s for s in snaps if s["label"].startswith("baseline-")]
        self.assertEqual(len(old), 1, labels)
        self.drift("check", code=CLEAN)   # against the new baseline
        self.drift("diff", old[0]["label"], "baseline", code=MODIFIED)

    def test_check_snapshots_are_pruned_to_keep(self):
        self.write("etc/a", "1")
        self.init()
        for _ in range(4):
            self.drift("check", "--keep", "2", code=CLEAN)
        checks = [s for s in self.list_json() if s["purpose"] == "check"]
        self.assertEqual(len(checks), 2)
        self.assertTrue(all(s["complete"] for s in checks))

    def test_check_without_database_or_baseline(self):
        p = self.drift("check", code=E_NO_BASELINE)
        self.assertIn(b"drift init", p.stderr)
        self.assertFalse(os.path.exists(self.db), "a check must not create a database")
        self.drift("scan", "-q", "--label", "x", self.root, code=0)
        self.drift("check", code=E_NO_BASELINE)

    def test_read_only_commands_never_create_a_database(self):
        self.drift("snapshots", code=E_NO_BASELINE)
        self.drift("diff", "a", "b", code=E_NO_BASELINE)
        self.assertFalse(os.path.exists(self.db))
        self.assertFalse(os.path.exists(os.path.dirname(self.db)))

    def test_database_file_and_directory_permissions(self):
        self.init()
        self.assertEqual(os.stat(self.db).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.dirname(self.db)).st_mode & 0o777, 0o700)

    def test_snapshots_lists_text(self):
        self.init()
        self.drift("check", code=CLEAN)
        p = self.drift("snapshots", code=0)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(len(lines), 5, p.stdout)
        self.assertTrue(lines[1].startswith("*"), "the baseline is marked")
        self.assertIn("baseline", lines[1])
        self.assertEqual(lines[2], "       probes none; roots " + self.root)
        self.assertIn("check-", lines[3])
        self.assertTrue(all(len(line) <= 80 for line in lines), p.stdout)

    def test_snapshots_lists_each_root_once_within_80_columns(self):
        for d in "abcdefgh":
            self.write(d + "/f", d)
        # A root below another one, and one named twice: each shown once.
        self.drift("scan", "-q", "--label", "nested", self.root, self.path("a"),
                   self.path("a"), code=0)
        names = [self.path(d) for d in "abcdefgh"]
        self.drift("scan", "-q", "--label", "many", *names, code=0)
        p = self.drift("snapshots", code=0)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(lines[2], "       probes none; roots " + self.root)
        self.assertTrue(all(len(line) <= 80 for line in lines), p.stdout)
        shown = lines[4][len("       probes none; roots "):].split(" ")
        self.assertEqual(shown[:-2], names[:len(shown) - 2])
        self.assertEqual(shown[-2:], ["...", "(+%d)" % (8 - len(shown) + 2)])
        # JSON has them all, as recorded.
        snaps = {s["label"]: s for s in self.list_json()}
        self.assertEqual(snaps["nested"]["roots"], [self.root, self.path("a")])
        self.assertEqual(snaps["many"]["roots"], names)

    def test_snapshots_shows_probes_and_roots_that_held_nothing(self):
        self.write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        self.write("etc/group", "root:x:0:\n")
        self.drift("scan", "-q", "--label", "accounts", "--root", self.root,
                   "--probes", "user,port", "/etc", code=0)
        self.set_policy("scan:\n  roots: [%s, %s]\n  probes: none\n%s" % (
            self.path("var/www"), self.path("etc"), ALL_POLICY))
        self.drift("init", "-q", code=0)
        p = self.drift("snapshots", code=0)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(lines[2], "       probes user (unavailable: port); roots /etc")
        self.assertEqual(lines[4], "       probes none; roots %s (no entries) ... (+1)"
                         % self.path("var/www"))


if __name__ == "__main__":
    run_tap(__name__)
