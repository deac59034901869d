"""Kept content (issue #12): diffs in check reports, drift show, secrets, limits."""

import json
import os
import sqlite3
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import DriftCase, run_tap, CLEAN, MODIFIED, E_USAGE  # noqa: E402

MARKER = b"TOPSECRET-7f3a9c1e-MARKER"


class KeptContent(DriftCase):
    def setUp(self):
        super().setUp()
        self.set_policy("""\
rules:
  - id: all
    path: /
    check: [type, mode, uid, gid, size, mtime, target, hash]
    keep_content: true
  - id: keys
    path: %s/keys
    secret: true
""" % self.root)
        self.conf = self.write("etc/app.conf", b"alpha\nbeta\ngamma\n")
        self.same = self.write("etc/same.conf", b"unchanged\n")
        self.key = self.write("keys/host_key", MARKER + b"\n")
        self.big = self.write("etc/big.txt", b"x" * (64 * 1024 + 1))
        self.init()

    def count(self, sql):
        db = sqlite3.connect(self.db)
        try:
            return db.execute(sql).fetchone()[0]
        finally:
            db.close()

    def test_diff_show_secret_limits_and_dedup(self):
        self.assertEqual(stat.S_IMODE(os.stat(self.db).st_mode), 0o600)
        # The secret never reaches the database, not even compressed.
        with open(self.db, "rb") as f:
            self.assertNotIn(MARKER, f.read())
        self.assertEqual(self.count("SELECT count(*) FROM content"), 2)  # app.conf, same.conf

        self.write("etc/app.conf", b"alpha\nBETA\ngamma\n")
        self.write("keys/host_key", MARKER + b"-2\n")
        p = self.drift("check", self.root, code=MODIFIED)
        out = p.stdout.decode()
        self.assertIn("      -beta\n      +BETA\n", out)
        self.assertIn("      --- %s  baseline\n" % self.conf, out)
        self.assertNotIn("TOPSECRET", out)
        doc, _ = self.check_json(self.root, code=MODIFIED)
        devs = {d["path"]: d for d in doc["deviations"]}
        self.assertIn("@@ -1,3 +1,3 @@\n alpha\n-beta\n+BETA\n gamma\n", devs[self.conf]["diff"])
        self.assertNotIn("diff", devs[self.key])
        with open(self.db, "rb") as f:
            self.assertNotIn(MARKER, f.read())

        # show: the old bytes exactly; the refusals.
        p = self.drift("show", "--policy=" + self.policy, "baseline", self.conf, code=CLEAN)
        self.assertEqual(p.stdout, b"alpha\nbeta\ngamma\n")
        p = self.drift("show", "--policy=" + self.policy, "baseline", self.key, code=E_USAGE)
        self.assertIn(b"is marked secret by the policy", p.stderr)
        self.assertEqual(p.stdout, b"")
        p = self.drift("show", "--policy=" + self.policy, "baseline", self.big, code=E_USAGE)
        self.assertIn(b"was not kept", p.stderr)
        self.drift("show", "--policy=" + self.policy, "nosuch", self.conf, code=E_USAGE)
        self.drift("show", "--policy=" + self.policy, "baseline", self.path("etc/none"), code=E_USAGE)

        # Unchanged content is stored once however many checks keep it.
        self.assertEqual(self.count(
            "SELECT count(*) FROM content WHERE size = %d" % len(b"unchanged\n")), 1)
        self.assertEqual(self.count("SELECT count(*) FROM content"), 3)
        self.assertEqual(stat.S_IMODE(os.stat(self.db).st_mode), 0o600)

        # A stored run re-renders the diff.
        p = self.drift("report", "--policy=" + self.policy, code=MODIFIED)
        self.assertIn("      +BETA\n", p.stdout.decode())


if __name__ == "__main__":
    run_tap(__name__)
