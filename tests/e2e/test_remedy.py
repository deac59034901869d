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
from drifttest import (ADDED, CLEAN, DRIFT, E_NO_BASELINE, E_USAGE, MODIFIED,  # noqa: E402
                       REMOVED, DriftCase, env_for_drift, run_tap)
from test_system import SYSTEM_POLICY, SystemCase  # noqa: E402

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
            lines.append("%s:\n    before %.300r\n    after  %.300r" % (k, a.get(k), b.get(k)))
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

    def remedy_either(self, codes, *args):
        """drift remedy ARGS, whose exit status must be one of @codes."""
        argv = [DRIFT, "remedy", "--db=" + self.db, "--quarantine", self.quarantine,
                "--deb-cache", self.debs, *args]
        p = subprocess.run(argv, capture_output=True, env=env_for_drift(),
                           stdin=subprocess.DEVNULL, timeout=120)
        self.assertIn(p.returncode, codes, "drift remedy %s:\n%s%s" % (
            " ".join(args), p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")))
        return p

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
        if before != after:
            self.fail("%s differs:\n%s" % (what, state_diff(before, after)))

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
        self.write("etc/tool", "#!/bin/sh\n", 0o4755)
        os.utime(self.path("etc/a"), ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
        self.init()

    def roundtrip(self, mutate, code, check_applied=None):
        mutate()
        self.check(code)
        # Inode numbers too: undo puts back the very objects apply replaced.
        before = tree_state(self.root, ino=True, noise=("etc",))
        self.scan("before-apply")
        p = self.remedy("--apply", "--yes", code=CLEAN)
        self.assertIn(b"applied", p.stdout)
        self.assertNotIn(b"FAILED", p.stdout)
        self.check(CLEAN)
        if check_applied:
            check_applied(self.run_id(p.stdout))
        self.remedy("--undo", code=CLEAN)
        after = tree_state(self.root, ino=True, noise=("etc",))
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

    def test_owner_of_a_setuid_file(self):
        """A chown clears the setuid bit: owner and mode both come back, and both go again."""
        if os.getuid() != 0:
            self.skipTest("chown needs root")

        def applied(run):
            st = os.lstat(self.path("etc/tool"))
            self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (0, 0, 0o4755))
        self.roundtrip(lambda: os.chown(self.path("etc/tool"), 1234, 1234), MODIFIED, applied)

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

    def test_added_tree_quarantined_whole(self):
        def applied(run):
            self.assertFalse(os.path.lexists(self.path("etc/newdir")))
            with open(self.quarantined(run, self.path("etc/newdir/deep/f")), "rb") as f:
                self.assertEqual(f.read(), b"foxtrot\n")

        def mutate():
            self.write("etc/newdir/deep/f", "foxtrot\n", 0o600)
            os.chmod(self.path("etc/newdir/deep"), 0o711)
        self.roundtrip(mutate, ADDED, applied)

    def test_file_replaced_by_a_directory_with_a_file(self):
        def mutate():
            os.unlink(self.path("etc/a"))
            self.write("etc/a/inner", "inner\n", 0o600)

        def applied(run):
            with open(self.path("etc/a"), "rb") as f:
                self.assertEqual(f.read(), b"alpha\n")
            with open(self.quarantined(run, self.path("etc/a/inner")), "rb") as f:
                self.assertEqual(f.read(), b"inner\n")
        self.roundtrip(mutate, ADDED | MODIFIED, applied)

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


class Safety(RemedyCase):
    """What apply refuses: a symlink planted on the way, a stale plan."""

    def setUp(self):
        super().setUp()
        self.write("etc/sub/f", "original\n", 0o644)
        self.write("etc/a", "alpha\n", 0o644)
        self.write("etc/b", "bravo\n", 0o644)
        self.init()

    def test_symlink_planted_between_plan_and_apply(self):
        self.write("etc/sub/f", "changed\n")
        self.check(MODIFIED)
        plan = os.path.join(self.tmp, "plan")
        self.remedy("--plan", plan, code=CLEAN)
        # The very directory the run saw moves away, and a symlink to it takes its place:
        # etc/sub/f through the symlink is the same inode, as the run saw it.
        elsewhere = os.path.join(self.tmp, "elsewhere")
        os.rename(self.path("etc/sub"), elsewhere)
        os.symlink(elsewhere, self.path("etc/sub"))
        def state():
            return (tree_state(self.root, ino=True, ctime=True),
                    tree_state(elsewhere, ino=True, ctime=True))
        before = state()
        p = self.remedy("--apply", "--yes", code=E_STALE)
        self.assertIn(b"stale plan", p.stderr)
        self.remedy("--apply", "--plan", plan, "--yes", code=E_STALE)
        after = state()
        self.assertTreeEqual(before[0], after[0], "the tree after a refused apply")
        self.assertTreeEqual(before[1], after[1], "the symlink's target after a refused apply")
        with open(os.path.join(elsewhere, "f"), "rb") as f:
            self.assertEqual(f.read(), b"changed\n")

    def test_symlink_to_another_directory_planted(self):
        self.write("etc/sub/f", "changed\n")
        self.check(MODIFIED)
        other = os.path.join(self.tmp, "other")
        os.mkdir(other)
        with open(os.path.join(other, "f"), "wb") as f:
            f.write(b"someone else's\n")
        shutil.rmtree(self.path("etc/sub"))
        os.symlink(other, self.path("etc/sub"))
        before = tree_state(other, ino=True, ctime=True)
        self.remedy("--apply", "--yes", code=E_STALE)
        self.assertTreeEqual(before, tree_state(other, ino=True, ctime=True),
                             "the symlink's target after a refused apply")
        self.assertEqual(os.readlink(self.path("etc/sub")), other)

    def undo_after_a_later_change(self, change):
        """Apply a restore of a and b, change a with @change, undo: a is left as it is."""
        self.write("etc/a", "changed\n")
        self.write("etc/b", "changed\n")
        self.check(MODIFIED)
        self.remedy("--apply", "--yes", "-q", code=CLEAN)
        change(self.path("etc/a"), b"changed by someone after the remedy\n")
        p = self.remedy("--undo", code=E_INCOMPLETE)
        self.assertIn(b"skipped", p.stdout)
        self.assertIn(b"changed since it was restored", p.stdout)
        self.assertIn(b"could not be undone", p.stderr)
        with open(self.path("etc/a"), "rb") as f:
            self.assertEqual(f.read(), b"changed by someone after the remedy\n",
                             "undo overwrote a change made after the remedy")
        with open(self.path("etc/b"), "rb") as f:
            self.assertEqual(f.read(), b"changed\n", "the rest is undone")

    def test_undo_leaves_a_file_replaced_since(self):
        def replace(path, data):
            with open(path + ".new", "wb") as f:
                f.write(data)
            os.rename(path + ".new", path)
        self.undo_after_a_later_change(replace)

    def test_undo_leaves_a_file_rewritten_in_place_since(self):
        """The same inode, other bytes: still not as the restore left it."""
        def rewrite(path, data):
            with open(path, "r+b") as f:
                f.truncate(0)
                f.write(data)
        self.undo_after_a_later_change(rewrite)

    def test_undo_leaves_a_mode_changed_since(self):
        os.chmod(self.path("etc/a"), 0o666)
        self.check(MODIFIED)
        self.remedy("--apply", "--yes", "-q", code=CLEAN)
        self.assertEqual(stat.S_IMODE(os.lstat(self.path("etc/a")).st_mode), 0o644)
        os.chmod(self.path("etc/a"), 0o600)  # an operator's own fix, after the remedy
        p = self.remedy("--undo", code=E_INCOMPLETE)
        self.assertIn(b"changed since it was restored", p.stdout)
        self.assertEqual(stat.S_IMODE(os.lstat(self.path("etc/a")).st_mode), 0o600,
                         "undo overwrote a mode set after the remedy")

    def test_only_a_key_that_is_no_finding(self):
        self.write("etc/a", "changed\n")
        self.check(MODIFIED)
        p = self.remedy("--only", self.path("etc/b"), code=E_USAGE)
        self.assertIn(b"is no finding of run #1", p.stderr)
        p = self.remedy("--only", self.path("etc/a"), code=CLEAN)
        self.assertIn(b"1 step", p.stdout)

    def test_stale_plan_refused(self):
        self.write("etc/a", "changed\n")
        self.write("etc/b", "changed\n")
        self.check(MODIFIED)
        plan = os.path.join(self.tmp, "plan")
        p = self.remedy("--plan", plan, code=CLEAN)
        self.assertIn(b"saved to", p.stdout)
        self.write("etc/a", "changed again, after the plan\n")
        before = tree_state(self.root, ino=True, ctime=True)
        p = self.remedy("--apply", "--plan", plan, "--yes", code=E_STALE)
        self.assertIn(b"stale plan", p.stderr)
        self.assertTreeEqual(before, tree_state(self.root, ino=True, ctime=True),
                             "the tree after a stale plan")
        self.remedy("--apply", "--yes", code=E_STALE)
        self.assertTreeEqual(before, tree_state(self.root, ino=True, ctime=True),
                             "the tree after a stale run")
        self.assertFalse(os.path.exists(self.quarantine) and os.listdir(self.quarantine))

    def test_edited_plan_refused(self):
        self.write("etc/a", "changed\n")
        self.check(MODIFIED)
        plan = os.path.join(self.tmp, "plan")
        self.remedy("--plan", plan, code=CLEAN)
        with open(plan) as f:
            text = f.read()
        self.assertIn("source=kept", text)
        with open(plan, "w") as f:
            f.write(text.replace("source=kept", "source=deb"))
        before = tree_state(self.root, ino=True, ctime=True)
        self.remedy("--apply", "--plan", plan, "--yes", code=E_STALE)
        self.assertTreeEqual(before, tree_state(self.root, ino=True, ctime=True),
                             "the tree after an edited plan")

    def test_plan_of_an_older_run_after_the_policy_changed(self):
        """A saved plan is refused, or applies only what its own run allowed."""
        self.write("etc/a", "changed\n")
        self.check(MODIFIED)
        plan = os.path.join(self.tmp, "plan")
        self.remedy("--plan", plan, code=CLEAN)
        # The policy no longer allows remediation; b changes too; a new run.
        self.set_policy(NO_REMEDY_POLICY)
        self.write("etc/b", "changed\n")
        self.check(MODIFIED)
        self.remedy("--apply", "--yes", code=CLEAN)  # nothing allowed in run #2
        self.assertEqual(open(self.path("etc/a"), "rb").read(), b"changed\n")
        p = self.remedy_either((CLEAN, E_STALE), "--apply", "--plan", plan, "--yes")
        with open(self.path("etc/b"), "rb") as f:
            self.assertEqual(f.read(), b"changed\n", "run #2's b is never touched")
        with open(self.path("etc/a"), "rb") as f:
            a = f.read()
        if p.returncode == E_STALE:
            self.assertEqual(a, b"changed\n")
        else:
            self.assertEqual(a, b"alpha\n")
            listing = self.remedy("--list", code=CLEAN).stdout.decode()
            (row,) = [l for l in listing.splitlines()[1:] if l.strip()]
            self.assertEqual(row.split()[4], "1", "the remediation is of run #1: " + listing)


class DryRun(RemedyCase):

    def test_plan_changes_nothing(self):
        self.write("etc/a", "alpha\n")
        self.write("etc/b", "bravo\n")
        self.write("etc/sub/c", "charlie\n")
        self.init()
        self.write("etc/a", "changed\n")
        os.chmod(self.path("etc/b"), 0o600)
        os.unlink(self.path("etc/sub/c"))
        self.write("etc/new", "new\n")
        self.check(ADDED | REMOVED | MODIFIED)
        before = tree_state(self.root, ino=True, ctime=True)
        p = self.remedy(code=CLEAN)
        self.assertIn(b"4 steps", p.stdout)
        self.assertIn(b"apply: drift remedy --apply", p.stdout)
        plan = os.path.join(self.tmp, "plan")
        self.remedy("--plan", plan, code=CLEAN)
        self.assertTrue(open(plan).read().startswith("drift-plan 1 run=1 "))
        self.assertTreeEqual(before, tree_state(self.root, ino=True, ctime=True),
                             "the tree after a dry run")
        self.assertFalse(os.path.exists(self.quarantine))
        p = self.remedy("--list", code=CLEAN)
        self.assertIn(b"no remediations", p.stderr)


class CrashAndResume(RemedyCase):

    def setUp(self):
        super().setUp()
        for name in "abcde":
            self.write("etc/" + name, name + "\n", 0o644)
        self.write("etc/sub/f", "foxtrot\n", 0o644)
        self.init()
        self.write("etc/a", "changed a\n")
        os.chmod(self.path("etc/b"), 0o600)
        self.write("etc/c", "changed c\n")
        os.unlink(self.path("etc/d"))
        self.write("etc/new", "planted\n", 0o640)
        os.unlink(self.path("etc/sub/f"))
        self.code = ADDED | REMOVED | MODIFIED
        self.check(self.code)
        self.before = tree_state(self.root, noise=("etc", "etc/sub"))

    def crash(self, n=2):
        self.remedy("--apply", "--yes", "1", env={"DRIFT_TEST_REMEDY_CRASH_AFTER": str(n)},
                    code=-signal.SIGKILL)
        listing = self.remedy("--list", code=CLEAN).stdout.decode().splitlines()
        self.assertIn("interrupted", listing[-1])
        self.assertIn(" %d done" % n, listing[-1])

    def test_crash_at_three_points(self):
        """Crashed after the first, a middle and the last but one action: resume finishes
        it, undo reverses it."""
        for n in (1, 3, 5):
            with self.subTest(crash_after=n, then="resume"):
                self.crash(n)
                self.remedy("--resume", "-q", code=CLEAN)
                self.check(CLEAN)
                self.remedy("--undo", "-q", code=CLEAN)
                self.assertTreeEqual(self.before, tree_state(self.root, noise=("etc", "etc/sub")),
                                     "the tree after resume and undo")
            with self.subTest(crash_after=n, then="undo"):
                self.crash(n)
                self.remedy("--undo", "-q", code=CLEAN)
                self.assertTreeEqual(self.before, tree_state(self.root, noise=("etc", "etc/sub")),
                                     "the tree after a crash and undo")

    def test_crash_then_resume(self):
        self.crash()
        p = self.remedy("--apply", "--yes", code=E_USAGE)
        self.assertIn(b"--resume", p.stderr)
        p = self.remedy("--resume", code=CLEAN)
        self.assertIn(b"resumed and finished", p.stdout)
        self.check(CLEAN)
        listing = self.remedy("--list", code=CLEAN).stdout.decode()
        self.assertIn("applied", listing)
        self.assertIn("6 done", listing)
        # And all of it undone: the tree the crash interrupted, whole.
        self.remedy("--undo", code=CLEAN)
        self.assertTreeEqual(self.before, tree_state(self.root, noise=("etc", "etc/sub")),
                             "the tree after resume and undo")

    def test_crash_then_undo(self):
        self.crash()
        p = self.remedy("--undo", code=CLEAN)
        self.assertIn(b"undone", p.stdout)
        self.assertTreeEqual(self.before, tree_state(self.root, noise=("etc", "etc/sub")),
                             "the tree after a crash and undo")
        self.check(self.code)
        # Nothing left to resume; a new apply goes through.
        self.remedy("--resume", code=E_USAGE)
        self.remedy("--apply", "--yes", "-q", code=CLEAN)
        self.check(CLEAN)


class Quarantine(RemedyCase):

    def test_quarantined_file_is_recoverable(self):
        self.write("etc/a", "alpha\n")
        self.init()
        self.write("etc/new", b"\x00planted\xff\n", 0o4750)
        st0 = os.lstat(self.path("etc/new"))
        self.check(ADDED)
        p = self.remedy("--apply", "--yes", code=CLEAN)
        q = self.quarantined(self.run_id(p.stdout), self.path("etc/new"))
        self.assertFalse(os.path.lexists(self.path("etc/new")))
        st = os.lstat(q)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o4750)
        self.assertEqual(st.st_ino, st0.st_ino, "moved, not copied")
        with open(q, "rb") as f:
            self.assertEqual(f.read(), b"\x00planted\xff\n")
        self.check(CLEAN)
        self.remedy("--undo", code=CLEAN)
        st = os.lstat(self.path("etc/new"))
        self.assertEqual((st.st_ino, stat.S_IMODE(st.st_mode), st.st_mtime_ns),
                         (st0.st_ino, 0o4750, st0.st_mtime_ns))
        with open(self.path("etc/new"), "rb") as f:
            self.assertEqual(f.read(), b"\x00planted\xff\n")
        self.assertFalse(os.path.lexists(q))
        self.check(ADDED)


class Allowed(RemedyCase):

    def test_default_is_no(self):
        self.set_policy(NO_REMEDY_POLICY)
        self.write("etc/a", "alpha\n")
        self.init()
        self.write("etc/a", "changed\n")
        self.check(MODIFIED)
        before = tree_state(self.root, ino=True, ctime=True)
        p = self.remedy(code=CLEAN)
        self.assertIn(b"nothing to remedy in run #1", p.stdout)
        self.assertIn(b"1 drift finding the policy does not let drift remedy", p.stdout)
        p = self.remedy("--apply", "--yes", code=CLEAN)
        self.assertIn(b"nothing to remedy", p.stdout)
        self.assertTreeEqual(before, tree_state(self.root, ino=True, ctime=True),
                             "the tree after remedy without remediate")
        p = self.remedy("--only", self.path("etc/a"), code=CLEAN)
        self.assertIn(b"nothing to remedy", p.stdout)

    def test_auto_applies_only_auto_rules(self):
        self.set_policy(AUTO_POLICY.replace("ROOT", self.root))
        self.write("etc/a", "alpha\n")
        self.write("etc/auto/x", "xray\n")
        self.init()
        self.write("etc/a", "changed\n")
        self.write("etc/auto/x", "changed\n")
        self.check(MODIFIED)
        p = self.remedy("--auto", code=CLEAN)
        self.assertIn(b"1 step", p.stdout)
        self.assertIn(b"1 whose rule says `remediate: plan`: not with --auto", p.stdout)
        p = self.remedy("--apply", "--auto", "--yes", code=CLEAN)
        with open(self.path("etc/auto/x"), "rb") as f:
            self.assertEqual(f.read(), b"xray\n")
        with open(self.path("etc/a"), "rb") as f:
            self.assertEqual(f.read(), b"changed\n")
        self.assertIn(b"(auto)", self.remedy("--list", code=CLEAN).stdout)
        doc, _ = self.check_json(self.root, code=MODIFIED)
        self.assertEqual([d["path"] for d in doc["deviations"]], [self.path("etc/a")])
        # Without --auto, the `plan` rule's finding of a new run is remedied too.
        self.remedy("--apply", "--yes", code=CLEAN)
        self.check(CLEAN)


class Usage(RemedyCase):

    def test_help_usage_and_no_database(self):
        p = self.drift("remedy", "--help", code=CLEAN, db=False)
        self.assertTrue(p.stdout.startswith(b"usage: drift remedy"))
        p = self.drift("remedy", "--bogus", code=E_USAGE)
        self.assertIn(b"unknown option", p.stderr)
        self.drift("remedy", "--undo", "--resume", code=E_USAGE)
        self.drift("remedy", "--list", "--plan", "x", code=E_USAGE)
        self.drift("remedy", "--quarantine", "relative", code=E_USAGE)
        nodb = os.path.join(self.tmp, "none", "drift.db")
        for args in ([], ["--apply", "--yes"], ["--undo"], ["--resume"], ["--list"]):
            p = self.drift("remedy", "--db", nodb, *args, code=E_NO_BASELINE, db=False)
            self.assertIn(b"no database", p.stderr)
        self.assertFalse(os.path.exists(os.path.dirname(nodb)))
        # A database, but no check run yet.
        self.write("etc/a", "alpha\n")
        self.init()
        p = self.remedy(code=E_USAGE)
        self.assertIn(b"run 'drift check' first", p.stderr)
        self.remedy("--undo", code=E_USAGE)


# The system policy of test_system, with remediation allowed for files, packages,
# services and sysctls.
HOST_POLICY = SYSTEM_POLICY.replace(
    "    check: [type, mode, uid, gid, size, mtime, inode, nlink, target, hash]\n",
    "    check: [type, mode, uid, gid, size, mtime, inode, nlink, target, hash]\n"
    "    remediate: plan\n").replace(
    '    kind: package\n    path: "**"\n', '    kind: package\n    path: "**"\n'
    "    remediate: plan\n").replace(
    '{id: services, kind: service, path: "**"}',
    '{id: services, kind: service, path: "**", remediate: plan}').replace(
    '{id: sysctls, kind: sysctl, path: "**"}',
    '{id: sysctls, kind: sysctl, path: "**", remediate: plan}')


class Host(RemedyCase, SystemCase):
    """A copy of the fixture host, with --root: packages, sysctls, commands."""

    policy_text = HOST_POLICY

    def build_deb(self, name, hello):
        """The fixture's hello 1.0-1 (amd64) as a .deb with @hello as /usr/bin/hello."""
        pkg = os.path.join(self.tmp, name + "-tree")
        files = {
            "usr/bin/hello": hello,
            "usr/share/doc/hello/copyright": self.read("usr/share/doc/hello/copyright"),
            "DEBIAN/control": b"Package: hello\nVersion: 1.0-1\nArchitecture: amd64\n"
                              b"Maintainer: drift tests <tests@drift.invalid>\n"
                              b"Description: the classic greeting\n",
        }
        for rel, data in files.items():
            p = os.path.join(pkg, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
            os.chmod(p, 0o755 if rel == "usr/bin/hello" else 0o644)
        os.chmod(os.path.join(pkg, "DEBIAN"), 0o755)
        cache = os.path.join(self.tmp, name)
        os.mkdir(cache)
        subprocess.run(["dpkg-deb", "-Zgzip", "--root-owner-group", "--build", pkg,
                        os.path.join(cache, "hello_1.0-1_amd64.deb")],
                       check=True, capture_output=True)
        return cache

    def dpkg_sum(self, path):
        for line in self.read("var/lib/dpkg/info/hello.md5sums").decode().splitlines():
            digest, p = line.split(None, 1)
            if p == path:
                return digest
        self.fail("no dpkg sum of " + path)

    def test_package_file_restored_from_its_deb(self):
        if not shutil.which("dpkg-deb"):
            self.skipTest("no dpkg-deb")
        hello = self.read("usr/bin/hello")
        self.assertEqual(hashlib.md5(hello).hexdigest(), self.dpkg_sum("usr/bin/hello"))
        good = self.build_deb("cache", hello)
        bad = self.build_deb("cache-bad", b"#!/bin/sh\necho tampered\n")
        self.drift("init", "-q", "--root", self.host, code=CLEAN)
        self.put("usr/bin/hello", b"#!/bin/sh\necho trojan\n")
        self.check(MODIFIED, root=self.host)
        p = self.remedy(code=CLEAN, root=self.host)
        self.assertIn(b"restore /usr/bin/hello from hello:amd64 1.0-1's .deb", p.stdout)

        # A .deb of that name whose file is not dpkg's: the step fails, nothing changes.
        ino = os.lstat(self.h("usr/bin/hello")).st_ino
        p = self.drift("remedy", "--root", self.host, "--quarantine", self.quarantine,
                       "--deb-cache", bad, "--apply", "--yes", code=E_INCOMPLETE)
        self.assertIn(b"FAILED", p.stdout)
        self.assertEqual(self.read("usr/bin/hello"), b"#!/bin/sh\necho trojan\n")
        self.assertEqual(os.lstat(self.h("usr/bin/hello")).st_ino, ino)
        self.check(MODIFIED, root=self.host)

        # The real one: dpkg's bytes back, and the check is clean.
        self.drift("remedy", "--root", self.host, "--quarantine", self.quarantine,
                   "--deb-cache", good, "--apply", "--yes", code=CLEAN)
        self.assertEqual(self.read("usr/bin/hello"), hello)
        self.assertEqual(hashlib.md5(self.read("usr/bin/hello")).hexdigest(),
                         self.dpkg_sum("usr/bin/hello"))
        self.check(CLEAN, root=self.host)

    def test_sysctl_restored_and_undone(self):
        key = "proc/sys/net/ipv4/ip_forward"
        self.put(key, b"0\n")
        self.drift("init", "-q", "--root", self.host, code=CLEAN)
        self.put(key, b"1\n")
        self.check(MODIFIED, root=self.host)
        p = self.remedy(code=CLEAN, root=self.host)
        self.assertIn(b"set net.ipv4.ip_forward to '0'", p.stdout)
        self.remedy("--apply", "--yes", code=CLEAN, root=self.host)
        self.assertEqual(self.read(key), b"0\n")
        self.check(CLEAN, root=self.host)
        self.remedy("--undo", code=CLEAN, root=self.host)
        self.assertEqual(self.read(key), b"1\n")
        self.check(MODIFIED, root=self.host)

    def test_package_and_service_changes_are_commands(self):
        self.drift("init", "-q", "--root", self.host, code=CLEAN)
        self.sub("var/lib/dpkg/status", b"Version: 1.0-1\n", b"Version: 1.1-1\n")
        os.unlink(self.h("etc/systemd/system/multi-user.target.wants/ssh.service"))
        self.check(MODIFIED | REMOVED, root=self.host)
        before = tree_state(self.host, ino=True, ctime=True)
        p = self.remedy(code=CLEAN, root=self.host)
        out = p.stdout.decode()
        self.assertIn("run by hand: systemctl enable ssh.service", out)
        # The wants symlink is a file finding of its own, which drift recreates.
        self.assertIn("recreate /etc/systemd/system/multi-user.target.wants/ssh.service", out)
        p = self.remedy("--apply", "--yes", "--only", "service:ssh.service",
                        "--only", "package:hello", code=CLEAN, root=self.host)
        self.assertIn(b"nothing drift performs itself", p.stdout)
        self.assertTreeEqual(before, tree_state(self.host, ino=True, ctime=True),
                             "the host after commands were printed")
        self.assertIn(b"no remediations", self.remedy("--list", code=CLEAN).stderr)

    def test_unrecorded_package_change_is_a_command(self):
        """A version change with no apt or dpkg record is drift, not a package
        transaction: its remedy is the command that installs the baseline's version."""
        self.drift("init", "-q", "--root", self.host, code=CLEAN)
        self.sub("var/lib/dpkg/status", b"Version: 1.0-1\n", b"Version: 1.1-1\n")
        p = self.drift("check", "--root", self.host, "--format", "json", code=MODIFIED)
        (pkg,) = [d for d in json.loads(p.stdout)["deviations"] if d["kind"] == "package"]
        self.assertEqual((pkg["key"], pkg["class"]), ("hello:amd64", "drift"))
        before = tree_state(self.host, ino=True, ctime=True)
        out = self.remedy(code=CLEAN, root=self.host).stdout.decode()
        self.assertIn("run by hand: apt-get install --allow-downgrades hello=1.0-1", out)
        self.assertNotIn("part of package transactions", out)
        p = self.remedy("--apply", "--yes", code=CLEAN, root=self.host)
        self.assertIn(b"nothing drift performs itself", p.stdout)
        self.assertTreeEqual(before, tree_state(self.host, ino=True, ctime=True),
                             "the host after a command was printed")


if __name__ == "__main__":
    run_tap(__name__)
