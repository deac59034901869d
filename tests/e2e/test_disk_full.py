"""A full disk (RLIMIT_FSIZE: every write past the limit fails with EFBIG)
while drift writes its database: a clear message and a defined exit code, the earlier snapshots intact, and the
database opens and passes PRAGMA integrity_check afterwards.
"""

import os
import resource
import signal
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from drifttest import DRIFT, DriftCase, env_for_drift, run_tap  # noqa: E402

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


if __name__ == "__main__":
    run_tap(__name__)
