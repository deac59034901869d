"""A full disk while drift writes: a clear message and a defined exit code, the
earlier snapshots intact, and the database opens and passes PRAGMA
integrity_check afterwards.

RLIMIT_FSIZE (every write past the limit fails with EFBIG) while the database
is written, anywhere; and, as root where a tmpfs can be mounted (skipped
elsewhere), a small full tmpfs (ENOSPC) under the reports of a check, and
under the database while a snapshot with kept content is written.
"""

import hashlib
import os
import resource
import signal
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from drifttest import (DRIFT, E_OUTPUT, MODIFIED, DriftCase, env_for_drift,  # noqa: E402
                       run_tap)

POLICY = """\
rules:
  - id: everything
    path: /
    check: [type, mode, uid, gid, size, mtime, target, hash]
    keep_content: true
    remediate: plan
"""

E_DB = 19


def limited(size):
    def setup():
        # SIGXFSZ stays at its default (subprocess restores it): drift must
        # ignore it itself, so that past the limit a write fails with EFBIG
        # instead of killing it.
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return setup


class DiskFull(DriftCase):
    policy_text = POLICY

    def setUp(self):
        super().setUp()
        for i in range(200):
            self.write("etc/f%03d.conf" % i, "value %d %s\n" % (i, "x" * 100))

    def full(self, size, *args, code):
        """drift ARGS with files limited to @size bytes; its exit status must be @code."""
        argv = [DRIFT, args[0], "--db=" + self.db] + list(args[1:])
        if args[0] in ("init", "check"):
            argv.insert(2, "--policy=" + self.policy)
        if args[0] == "check":
            argv.insert(2, "--waivers=" + self.no_waivers)
            with open(self.no_waivers, "w") as f:
                f.write("# none\n")
        p = subprocess.run(argv, capture_output=True, env=env_for_drift(), timeout=120,
                           preexec_fn=limited(size))
        self.assertNotEqual(p.returncode, -signal.SIGXFSZ, "drift %s limited to %d bytes: "
                            "killed by SIGXFSZ" % (" ".join(args), size))
        self.assertEqual(p.returncode, code, "drift %s limited to %d bytes: exit %d\n%s" % (
            " ".join(args), size, p.returncode, p.stderr.decode(errors="replace")))
        return p

    def intact(self):
        db = sqlite3.connect("file:%s?mode=rw" % self.db, uri=True)
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        finally:
            db.close()
        self.drift("snapshots", code=0)

    def test_init(self):
        p = self.full(32 * 1024, "init", "-q", self.root, code=E_DB)
        self.assertRegex(p.stderr, rb"^drift: cannot [^\n]* in '%s': " % self.db.encode())
        self.intact()
        self.drift("check", self.root, code=21)   # no baseline was left behind
        self.init()                               # and a later init works
        self.drift("check", self.root, code=0)

    def test_check_accept_and_remedy_leave_the_baseline(self):
        self.init()
        for i in range(50):
            self.write("etc/f%03d.conf" % i, "changed %d\n" % i)
        self.drift("check", self.root, code=4)
        size = os.path.getsize(self.db)
        for args in (("check", self.root), ("accept", "--all", "--reason", "full"),
                     ("remedy", "--apply", "--yes")):
            p = self.full(8192, *args, code=E_DB)
            self.assertIn(b"File too large", p.stderr, args)
            self.intact()
            # The baseline and the run are as they were: the same 50 findings.
            q = self.drift("check", self.root, code=4)
            self.assertIn(b"50 deviations", q.stdout)
        self.assertGreaterEqual(os.path.getsize(self.db), size)
        p = self.drift("remedy", "--list", code=0)
        self.assertNotIn(b"interrupted", p.stdout)


class FullTmpfs(DriftCase):
    """A small tmpfs, mounted for the test (root only), filled to the last byte."""

    policy_text = POLICY.replace("    remediate: plan\n", "")

    def setUp(self):
        super().setUp()
        self.mounts = []

    def tearDown(self):
        for m in reversed(self.mounts):
            if subprocess.run(["umount", m], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", m], capture_output=True)
        super().tearDown()

    def tmpfs(self, name, size):
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        d = os.path.join(self.tmp, name)
        os.mkdir(d)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", d],
                           capture_output=True)
        if p.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: %s" % p.stderr.decode(errors="replace"))
        self.mounts.append(d)
        return d

    def fill(self, d):
        """Fill the filesystem of @d up: a file that grows until ENOSPC."""
        with open(os.path.join(d, "filler"), "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"f" * 4096)
            except OSError as e:
                self.assertEqual(e.errno, 28, e)  # ENOSPC

    def db_state(self):
        """(integrity, baseline id, its status, digest of its blocks, runs, kept contents)."""
        db = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            ok = db.execute("PRAGMA integrity_check").fetchone()[0]
            base = int(db.execute("SELECT value FROM meta WHERE key='baseline'").fetchone()[0])
            status = db.execute("SELECT status FROM snapshot WHERE id=?", (base,)).fetchone()[0]
            h = hashlib.sha256()
            for row in db.execute("SELECT kind, first, data FROM block WHERE snap=?"
                                  " ORDER BY kind, first", (base,)):
                h.update(repr(row).encode())
            runs = db.execute("SELECT count(*) FROM run").fetchone()[0]
            kept = db.execute("SELECT count(*) FROM content").fetchone()[0]
            return ok, base, status, h.hexdigest(), runs, kept
        finally:
            db.close()

    def test_reports_on_a_full_disk(self):
        for i in range(20):
            self.write("etc/f%02d.conf" % i, "value %d\n" % i)
        self.init()
        for i in range(10):
            self.write("etc/f%02d.conf" % i, "changed %d\n" % i)
        out = self.tmpfs("reports", "256k")
        old = {"r.html": b"<p>the report of last night</p>\n", "r.json": b'{"old": true}\n'}
        for name, data in old.items():
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
        self.fill(out)
        before = self.db_state()

        p = self.drift("check", "--report", "html:" + os.path.join(out, "r.html"),
                       "--report", "json:" + os.path.join(out, "r.json"),
                       "--report", "json:" + os.path.join(out, "new.json"), self.root,
                       code=E_OUTPUT)
        err = p.stderr.decode(errors="replace")
        for name in ("r.html", "r.json", "new.json"):
            self.assertIn("%s/%s: cannot write report: No space left on device" % (out, name),
                          err)
        # The main report still went to standard output.
        self.assertIn(b"f03.conf", p.stdout)
        # Nothing half-written under a final name or beside it; the old reports intact.
        self.assertEqual(sorted(os.listdir(out)), ["filler", "r.html", "r.json"])
        for name, data in old.items():
            with open(os.path.join(out, name), "rb") as f:
                self.assertEqual(f.read(), data, name)
        # The database: intact, the baseline as it was, and the run stored (the
        # reports are written once it is: drift(1), --report).
        after = self.db_state()
        self.assertEqual(after[0], "ok")
        self.assertEqual(after[1:4], before[1:4])
        self.assertEqual(after[4], before[4] + 1)

        # With room again, the same command writes them all.
        os.unlink(os.path.join(out, "filler"))
        self.drift("check", "--report", "html:" + os.path.join(out, "r.html"),
                   "--report", "json:" + os.path.join(out, "r.json"), self.root, code=MODIFIED)
        with open(os.path.join(out, "r.json"), "rb") as f:
            self.assertIn(b"f03.conf", f.read())

    def test_snapshot_with_kept_content_fills_the_disk(self):
        state = self.tmpfs("state", "1m")
        self.db = os.path.join(state, "drift.db")
        for i in range(3):
            self.write("etc/s%d.conf" % i, "small %d\n" % i)
        self.init()
        before = self.db_state()
        self.assertEqual(before[0], "ok")
        # 1.2 MB that zstd cannot shrink, all of it to keep: more than the tmpfs holds.
        for i in range(40):
            self.write("etc/big%02d.bin" % i, os.urandom(30000))
        for i in range(3):
            self.write("etc/s%d.conf" % i, "changed %d\n" % i)

        p = self.drift("check", self.root, code=19)
        err = p.stderr.decode(errors="replace")
        self.assertIn("database or disk is full", err)
        self.assertIn("this run was not stored", err)
        after = self.db_state()
        self.assertEqual(after[0], "ok")
        self.assertEqual(after[1:4], before[1:4])  # the baseline and its entries untouched
        self.assertEqual(after[4:], before[4:])    # no run, no kept content added
        self.drift("snapshots", code=0)
        p = self.drift("show", "baseline", os.path.join(self.root, "etc/s1.conf"), code=0)
        self.assertIn(b"small 1", p.stdout)

        # The database goes on working: a check that fits is stored.
        for i in range(40):
            os.unlink(self.path("etc/big%02d.bin" % i))
        p = self.drift("check", self.root, code=MODIFIED)
        self.assertIn(b"s1.conf", p.stdout)
        self.assertEqual(self.db_state()[4], before[4] + 1)


if __name__ == "__main__":
    run_tap(__name__)
