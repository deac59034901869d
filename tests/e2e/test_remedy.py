#!/usr/bin/env python3
"""drift remedy: the drift a stored check found put back as the baseline has it,
journaled and undoable, never through a symlink, refused when stale.

Each case builds its own tree in a temporary directory. File cases use keys that
are the real absolute paths of the tree (no --root); the package and sysctl cases
use a copy of the fixture host with --root. Every remedy run names its own
quarantine and .deb cache: nothing of the host's is read or written.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (ADDED, CLEAN, E_NO_BASELINE, E_USAGE, MODIFIED, REMOVED,  # noqa: E402
                       DriftCase, run_tap)
from test_system import SystemCase  # noqa: E402

E_STALE, E_INCOMPLETE = 24, 25

# ALL_POLICY, plus xattrs, with kept content and remediation allowed.
REMEDY_POLICY = """\
rules:
  - id: everything
    path: /
    check: [type, mode, uid, gid, size, mtime, ctime, inode, device, nlink, target, hash, xattrs]
    keep_content: true
    remediate: plan
"""

# The same without `remediate`: the default, no.
NO_REMEDY_POLICY = REMEDY_POLICY.replace("    remediate: plan\n", "")

# A second rule, later in the file (so it wins), whose findings --auto remedies.
AUTO_POLICY = REMEDY_POLICY + """\
  - id: auto
    path: ROOT/etc/auto
    check: [type, mode, uid, gid, size, mtime, ctime, inode, device, nlink, target, hash, xattrs]
    keep_content: true
    remediate: auto
"""


def xattrs_of(p):
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError:
        return {}
    return {n: os.getxattr(p, n, follow_symlinks=False) for n in sorted(names)}


def tree_state(top, ino=False, ctime=False, noise=()):
    """{relative path: (type, mode, uid, gid, mtime, bytes|target, xattrs[, ino][, ctime])}.

    The directories in @noise are listed without their mtime: moving an entry in
    or out of a directory sets it, and drift holds a directory's own mtime to be
    noise (compare.all_changes in docs/json-report.md), which it does not restore.
    """
    out = {}
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for name in [""] + dirnames + filenames:
            p = os.path.join(dirpath, name) if name else dirpath
            rel = os.path.relpath(p, top)
            if name == "" and p != top:
                continue  # a directory is listed by its parent
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                what = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    what = f.read()
            else:
                what = None
            mtime = st.st_mtime_ns
            if stat.S_ISDIR(st.st_mode) and rel in noise:
                mtime = None
            row = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                   mtime, what, tuple(xattrs_of(p).items()))
            if ino:
                row += (st.st_ino,)
            if ctime:
                row += (st.st_ctime_ns,)
            out[rel] = row
    return out


def state_diff(a, b):
    """What differs between two tree_state()s, for a failure message."""
    lines = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            lines.append("%s:\n    before %r\n    after  %r" % (k, a.get(k), b.get(k)))
    return "\n".join(lines)


class RemedyCase(DriftCase):
    policy_text = REMEDY_POLICY

    def setUp(self):
        super().setUp()
        self.quarantine = os.path.join(self.tmp, "quarantine")
        self.debs = os.path.join(self.tmp, "no-debs")
        os.mkdir(self.debs)

    def remedy(self, *args, code, env=None, root=None):
        extra = ["--quarantine", self.quarantine, "--deb-cache", self.debs]
        if root:
            extra += ["--root", root]
        return self.drift("remedy", *extra, *args, code=code, env=env)

    def check(self, code, root=None):
        if root:
            return self.drift("check", "--root", root, code=code)
        return self.drift("check", self.root, code=code)

    def run_id(self, out):
        m = re.search(rb"run #(\d+)", out)
        self.assertIsNotNone(m, out)
        return int(m.group(1))

    def quarantined(self, run, path):
        return os.path.join(self.quarantine, str(run)) + path

    def assertTreeEqual(self, before, after, what):
        self.assertEqual(before, after, "%s:\n%s" % (what, state_diff(before, after)))

    def scan(self, label):
        self.drift("scan", "-q", "--label", label, self.root, code=CLEAN)


class RoundTrip(RemedyCase):
    """Each action applied, checked clean, undone to the very same tree."""

    def setUp(self):
        super().setUp()
        self.write("etc/a", "alpha\n", 0o644)
        self.write("etc/b", "bravo\n", 0o640)
        self.write("etc/sub/c", "charlie\n", 0o600)
        os.symlink("a", self.path("etc/link"))
        os.setxattr(self.path("etc/b"), "user.x", b"one")
        os.utime(self.path("etc/a"), ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
        self.init()

    def roundtrip(self, mutate, code, check_applied=None, content_restored=()):
        mutate()
        self.check(code)
        before = tree_state(self.root, noise=("etc",))
        self.scan("before-apply")
        p = self.remedy("--apply", "--yes", code=CLEAN)
        self.assertIn(b"applied", p.stdout)
        self.assertNotIn(b"FAILED", p.stdout)
        self.check(CLEAN)
        if check_applied:
            check_applied(self.run_id(p.stdout))
        self.remedy("--undo", code=CLEAN)
        after = tree_state(self.root, noise=("etc",))
        self.assertTreeEqual(before, after, "the tree after undo")
        self.check(code)
        self.scan("after-undo")
        # The scans before apply and after undo: no difference at all.
        self.drift("diff", "before-apply", "after-undo", code=CLEAN)

    def test_content(self):
        def mutate():
            with open(self.path("etc/a"), "wb") as f:
                f.write(b"tampered\n")

        def applied(run):
            with open(self.path("etc/a"), "rb") as f:
                self.assertEqual(f.read(), b"alpha\n")
            self.assertEqual(os.lstat(self.path("etc/a")).st_mtime_ns, 1_600_000_000_000_000_000)
        self.roundtrip(mutate, MODIFIED, applied)

    def test_mode(self):
        def applied(run):
            self.assertEqual(stat.S_IMODE(os.lstat(self.path("etc/b")).st_mode), 0o640)
        self.roundtrip(lambda: os.chmod(self.path("etc/b"), 0o666), MODIFIED, applied)

    def test_owner(self):
        if os.getuid() != 0:
            self.skipTest("chown needs root")

        def applied(run):
            st = os.lstat(self.path("etc/b"))
            self.assertEqual((st.st_uid, st.st_gid), (0, 0))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
        self.roundtrip(lambda: os.chown(self.path("etc/b"), 1234, 1234), MODIFIED, applied)

    def test_mtime(self):
        def applied(run):
            self.assertEqual(os.lstat(self.path("etc/a")).st_mtime_ns, 1_600_000_000_000_000_000)
        self.roundtrip(lambda: os.utime(self.path("etc/a"), (1_700_000_000, 1_700_000_000)),
                       MODIFIED, applied)

    def test_xattr(self):
        def applied(run):
            self.assertEqual(xattrs_of(self.path("etc/b")), {"user.x": b"one"})
        self.roundtrip(lambda: os.setxattr(self.path("etc/b"), "user.x", b"two"),
                       MODIFIED, applied)

    def test_symlink_target(self):
        def mutate():
            os.unlink(self.path("etc/link"))
            os.symlink("b", self.path("etc/link"))

        def applied(run):
            self.assertEqual(os.readlink(self.path("etc/link")), "a")
        self.roundtrip(mutate, MODIFIED, applied)

    def test_removed_file(self):
        def applied(run):
            st = os.lstat(self.path("etc/b"))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
            with open(self.path("etc/b"), "rb") as f:
                self.assertEqual(f.read(), b"bravo\n")
            self.assertEqual(xattrs_of(self.path("etc/b")), {"user.x": b"one"})
        self.roundtrip(lambda: os.unlink(self.path("etc/b")), REMOVED, applied)

    def test_removed_directory_with_a_file(self):
        def applied(run):
            self.assertEqual(stat.S_IMODE(os.lstat(self.path("etc/sub")).st_mode), 0o755)
            with open(self.path("etc/sub/c"), "rb") as f:
                self.assertEqual(f.read(), b"charlie\n")
            self.assertEqual(stat.S_IMODE(os.lstat(self.path("etc/sub/c")).st_mode), 0o600)
        self.roundtrip(lambda: shutil.rmtree(self.path("etc/sub")), REMOVED, applied)

    def test_added_file_quarantined(self):
        def applied(run):
            self.assertFalse(os.path.lexists(self.path("etc/new")))
            q = self.quarantined(run, self.path("etc/new"))
            st = os.lstat(q)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o604)
            with open(q, "rb") as f:
                self.assertEqual(f.read(), b"planted\n")
        self.roundtrip(lambda: self.write("etc/new", "planted\n", 0o604), ADDED, applied)

    def test_file_replaced_by_a_directory(self):
        def mutate():
            os.unlink(self.path("etc/a"))
            os.mkdir(self.path("etc/a"), 0o750)

        def applied(run):
            st = os.lstat(self.path("etc/a"))
            self.assertTrue(stat.S_ISREG(st.st_mode))
            with open(self.path("etc/a"), "rb") as f:
                self.assertEqual(f.read(), b"alpha\n")
            self.assertTrue(stat.S_ISDIR(os.lstat(
                self.quarantined(run, self.path("etc/a"))).st_mode))
        self.roundtrip(mutate, MODIFIED, applied)

    def test_content_undo_puts_the_original_inode_back(self):
        """With the quarantine on the same file system, undo renames the original back."""
        with open(self.path("etc/a"), "wb") as f:
            f.write(b"tampered\n")
        ino = os.lstat(self.path("etc/a")).st_ino
        self.check(MODIFIED)
        self.remedy("--apply", "--yes", "-q", code=CLEAN)
        self.remedy("--undo", code=CLEAN)
        self.assertEqual(os.lstat(self.path("etc/a")).st_ino, ino,
                         "undo of a content restore left a new inode, not the original file")


if __name__ == "__main__":
    run_tap(__name__)
