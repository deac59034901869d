#!/usr/bin/env python3
"""drift snapshots --prune, --delete and --vacuum: what goes, what stays, the file shrinks."""

import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (E_DB, E_NO_BASELINE, E_USAGE, MODIFIED, DriftCase,  # noqa: E402
                       run_tap)


class Prune(DriftCase):

    def list_json(self):
        p = self.drift("snapshots", "--format", "json", code=0)
        return json.loads(p.stdout)["snapshots"]

    def labels(self):
        return [s["label"] for s in self.list_json()]

    def history(self, checks=5, files=200):
        """A baseline of @files files, @checks checks (each after a change), two upgrade pairs."""
        for i in range(files):
            self.write("etc/f%04d" % i, ("content %d " % i) * 40)
        self.init()
        for i in range(checks):
            # Every file changed: a check stores what differs from the
            # baseline, so this gives each one something to free.
            for f in range(files):
                self.write("etc/f%04d" % f, ("changed %d %d " % (i, f)) * 40)
            self.drift("check", "-q", "--keep", "0", code=MODIFIED)
        for _ in range(2):
            self.drift("scan", "-q", "--upgrade", "pre", "--keep", "0", code=0)
            self.drift("scan", "-q", "--upgrade", "post", "--keep", "0", code=0)

    def size(self):
        return sum(os.path.getsize(self.db + s) for s in ("", "-wal") if os.path.exists(self.db + s))

    def test_prune_keeps_newest_checks_pairs_and_the_baseline(self):
        self.history()
        before = self.list_json()
        size = self.size()
        checks = [s["label"] for s in before if s["purpose"] == "check"]
        ups = [s["label"] for s in before if s["purpose"] == "upgrade"]
        self.assertEqual((len(checks), len(ups)), (5, 4))

        p = self.drift("snapshots", "--prune", "--keep", "2", "--keep-upgrades", "2",
                       "--format", "json", code=0)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["action"], "prune")
        self.assertFalse(doc["dry_run"])
        self.assertEqual(doc["deleted"]["checks"], 3)
        self.assertEqual(doc["deleted"]["upgrades"], 2)
        self.assertEqual(doc["deleted"]["upgrade_pairs"], 1)
        self.assertEqual(doc["deleted"]["runs"], 3)  # the runs of the three checks
        self.assertEqual(doc["deleted"]["baselines"], 0)
        self.assertTrue(doc["database"]["auto_vacuum"])
        self.assertLess(doc["database"]["bytes_after"], doc["database"]["bytes_before"])
        self.assertEqual(doc["database"]["bytes_freed"],
                         doc["database"]["bytes_before"] - doc["database"]["bytes_after"])
        self.assertEqual(p.stderr, b"")

        after = self.labels()
        self.assertIn("baseline", after)
        self.assertEqual([x for x in after if x in checks], checks[-2:])
        self.assertEqual([x for x in after if x in ups], ups[-2:])
        self.assertLess(self.size(), size)
        self.assertEqual(os.path.getsize(self.db), doc["database"]["bytes_after"])
        # The baseline still works.
        self.drift("check", "-q", code=MODIFIED)

    def test_prune_text_is_one_line(self):
        self.history(checks=3)
        p = self.drift("snapshots", "--prune", "--keep", "1", code=0)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(len(lines), 1, p.stdout)
        self.assertRegex(lines[0], r"^drift snapshots: pruned 2 checks, 0 incomplete, "
                         r"0 upgrade snapshots, 2 runs, 0 package versions; "
                         r"database [0-9.]+ [kM]?B -> [0-9.]+ [kM]?B \([0-9.]+ [kM]?B freed\)$")
        self.assertEqual(p.stderr, b"")
        # Nothing more to do; -q says nothing.
        p = self.drift("snapshots", "--prune", "--keep", "1", "-q", code=0)
        self.assertEqual(p.stdout + p.stderr, b"")

    def test_dry_run_deletes_nothing(self):
        self.history(checks=4)
        before = self.list_json()
        size = os.path.getsize(self.db)
        p = self.drift("snapshots", "--prune", "--keep", "1", "--dry-run", "--format", "json",
                       code=0)
        doc = json.loads(p.stdout)
        self.assertTrue(doc["dry_run"])
        self.assertEqual(doc["deleted"]["checks"], 3)
        self.assertEqual(self.list_json(), before)
        self.assertEqual(os.path.getsize(self.db), size)
        p = self.drift("snapshots", "--prune", "--keep", "1", "--dry-run", code=0)
        self.assertIn(b"would prune 3 checks", p.stdout)

    def test_delete_unknown_name_changes_nothing(self):
        self.history(checks=2)
        before = self.list_json()
        first = [s for s in before if s["purpose"] == "check"][0]
        p = self.drift("snapshots", "--delete", str(first["id"]), "no-such-snapshot", code=E_USAGE)
        self.assertIn(b"no-such-snapshot", p.stderr)
        self.assertIn(b"nothing was deleted", p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(self.list_json(), before)

    def test_delete_by_label_and_id(self):
        self.history(checks=2)
        snaps = self.list_json()
        checks = [s for s in snaps if s["purpose"] == "check"]
        p = self.drift("snapshots", "--delete", checks[0]["label"], str(checks[1]["id"]),
                       str(checks[1]["id"]), "--format", "json", code=0)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["action"], "delete")
        self.assertEqual(doc["deleted"]["checks"], 2)
        self.assertEqual(doc["deleted"]["runs"], 2)
        self.assertNotIn(checks[0]["label"], self.labels())
        self.assertNotIn(checks[1]["label"], self.labels())

    def test_delete_baseline_only_when_named_and_says_so(self):
        self.history(checks=1)
        # Pruning everything still never takes the baseline.
        self.drift("snapshots", "--prune", "--keep", "0", "-q", code=0)
        self.assertIn("baseline", self.labels())
        p = self.drift("snapshots", "--delete", "baseline", code=0)
        self.assertIn(b"deleted 1 baseline", p.stdout)
        self.assertIn(b"there is no baseline now", p.stderr)
        self.assertIn(b"drift init", p.stderr)
        self.assertNotIn("baseline", self.labels())
        self.drift("check", "-q", code=E_NO_BASELINE)

    def test_bad_combinations_are_usage_errors(self):
        self.init()
        for args in (("--prune", "--delete", "baseline"), ("--delete",), ("baseline",),
                     ("--keep", "3"), ("--keep-upgrades", "3"), ("--dry-run",),
                     ("--prune", "--dry-run", "--vacuum"), ("--prune", "x"),
                     ("--prune", "--keep-upgrades", "many")):
            p = self.drift("snapshots", *args, code=E_USAGE)
            self.assertIn(b"drift snapshots --help", p.stderr, args)
        self.assertIn("baseline", self.labels())

    def test_missing_database_is_not_created(self):
        self.drift("snapshots", "--prune", code=E_NO_BASELINE)
        self.drift("snapshots", "--delete", "x", code=E_NO_BASELINE)
        self.assertFalse(os.path.exists(self.db))

    def test_read_only_database_is_a_clear_error(self):
        self.as_unprivileged()  # root writes a read-only file: as root, drift runs as nobody
        self.init()
        os.chmod(self.db, 0o400)
        p = self.drift("snapshots", "--prune", code=E_DB)
        self.assertIn(self.db.encode(), p.stderr)

    def test_old_database_shrinks_after_vacuum(self):
        self.history(checks=4)
        # As a drift before auto_vacuum made it: NONE.
        con = sqlite3.connect(self.db)
        con.execute("PRAGMA auto_vacuum = NONE")
        con.execute("VACUUM")
        con.close()
        p = self.drift("snapshots", "--prune", "--keep", "1", code=0)
        self.assertIn(b"--vacuum", p.stdout)
        size = os.path.getsize(self.db)
        p = self.drift("snapshots", "--vacuum", "--format", "json", code=0)
        doc = json.loads(p.stdout)
        self.assertTrue(doc["database"]["vacuumed"])
        self.assertTrue(doc["database"]["auto_vacuum"])
        self.assertLess(os.path.getsize(self.db), size)
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("PRAGMA auto_vacuum").fetchone()[0], 2)
        con.close()
        self.drift("check", "-q", code=MODIFIED)


if __name__ == "__main__":
    run_tap(__name__)
