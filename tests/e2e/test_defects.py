#!/usr/bin/env python3
"""End-to-end: defects from the security review (issue #9, items 10 and 13).

Each case reproduces one reported defect and fails on the drift that had it.
The case of item 10 fails only under the sanitizers (-Db_sanitize=address,
undefined aborts on qsort(NULL, 0, ...)); the others fail on any build.
"""

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drifttest  # noqa: E402
os.environ["DRIFT_TEST_RAW_BLOCKS"] = "1"  # entries read or forged with blocks.py
import blocks  # noqa: E402
from drifttest import (CLEAN, DRIFT, E_DB, E_USAGE, MODIFIED, REMOVED, DriftCase,  # noqa: E402
                       env_for_drift)

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "host")

# Packages probed, but no `kind: package` rule: no package entries are
# stored, only the ownership tables.
PACKAGES_NO_RULE_POLICY = """\
scan:
  roots: [/usr, /etc]
  probes: [package]
rules:
  - id: files
    path: /
    check: [type, mode, uid, gid, size, mtime, inode, nlink, target, hash]
"""

PACKAGES_POLICY = PACKAGES_NO_RULE_POLICY + """\
  - id: packages
    kind: package
    path: "**"
"""


class HostCase(DriftCase):
    """A copy of the fixture host (a dpkg database and its files)."""

    def setUp(self):
        super().setUp()
        self.host = os.path.join(self.tmp, "host")
        shutil.copytree(FIXTURE, self.host, symlinks=True)

    def h(self, rel):
        return os.path.join(self.host, rel)

    def append(self, rel, data):
        with open(self.h(rel), "ab") as f:
            f.write(data)


class EmptyArrays(HostCase):
    """Item 10: qsort/bsearch on a NULL array of zero elements."""

    policy_text = PACKAGES_NO_RULE_POLICY

    def test_check_with_packages_probed_and_no_package_rule(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        self.append("etc/hello.conf", b"# local change\n")
        p = self.drift("check", "--root", self.host, "--format", "json", code=MODIFIED)
        files = {d["path"]: d for d in json.loads(p.stdout)["deviations"]}
        self.assertEqual(sorted(files), ["/etc/hello.conf"])
        conf = files["/etc/hello.conf"]
        self.assertEqual((conf["kind"], conf["change"]), ("file", "modified"))
        # The ownership tables were stored: the change is attributed.
        self.assertIn("locally modified configuration", conf["reason"])

    def test_verify_unowned_with_nothing_unowned(self):
        # Only the dpkg database: no system directory to walk, no unowned file.
        root = os.path.join(self.tmp, "bare")
        shutil.copytree(self.h("var/lib/dpkg"), os.path.join(root, "var", "lib", "dpkg"))
        # the packages' files are all missing (removed), nothing else
        p = self.drift("verify", "--unowned", "--root", root, "--format", "json", code=REMOVED)
        got = {d["path"]: d for d in json.loads(p.stdout)["deviations"]}
        shipped = set()
        info = os.path.join(root, "var", "lib", "dpkg", "info")
        for name in os.listdir(info):
            with open(os.path.join(info, name)) as f:
                if name.endswith(".md5sums"):
                    shipped |= {"/" + l.split(None, 1)[1] for l in f.read().splitlines()}
                elif name.endswith(".conffiles"):
                    shipped |= set(f.read().splitlines())
        self.assertEqual(sorted(got), sorted(shipped))
        for d in got.values():
            self.assertEqual(d["change"], "removed", d)
            self.assertFalse(d.get("unowned"), d)


class ArgumentsFirst(DriftCase):
    """Items 13b and 13c: arguments are refused before anything is opened."""

    def setUp(self):
        super().setUp()
        # --db in a directory that does not exist: whatever opens it creates it.
        self.db = os.path.join(self.tmp, "missing", "dir", "drift.db")

    def assertNothingCreated(self):
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "missing")),
                         "the database (or its directory) was created")

    def test_misspelt_probe_is_refused_with_a_suggestion(self):
        self.write("etc/a", "1")
        for cmd in ("init", "scan", "check"):
            extra = ("--label", "x") if cmd == "scan" else ()
            p = self.drift(cmd, "--probes", "pakage", *extra, self.root, code=E_USAGE)
            self.assertIn(b"unknown probe 'pakage'; did you mean 'package'?", p.stderr,
                          cmd)
            self.assertNothingCreated()
        p = self.drift("init", "--probes", "user,sevrice", self.root, code=E_USAGE)
        self.assertIn(b"did you mean 'service'?", p.stderr)
        # nothing near: the list of probes instead
        p = self.drift("init", "--probes", "xyzzy", self.root, code=E_USAGE)
        self.assertIn(b"unknown probe 'xyzzy' (probes: package, user", p.stderr)
        self.assertNothingCreated()

    def test_label_starting_with_a_dash_is_refused(self):
        self.write("etc/a", "1")
        for argv in (("--label", "-x"), ("--label=-x",), ("--label", "--")):
            p = self.drift("scan", *argv, self.root, code=E_USAGE)
            self.assertIn(b"starts with '-'", p.stderr, argv)
            self.assertNothingCreated()
        # the other rules of a label, refused the same way
        p = self.drift("scan", "--label", "", self.root, code=E_USAGE)
        self.assertIn(b"empty snapshot label", p.stderr)
        p = self.drift("scan", "--label", "42", self.root, code=E_USAGE)
        self.assertIn(b"is a number", p.stderr)
        self.assertNothingCreated()
        # a dash inside a label is fine
        self.drift("scan", "-q", "--label", "pre-upgrade", self.root, code=0)


class IncompleteBaseline(DriftCase):
    """Item 13d: check refuses an incomplete baseline, as diff does."""

    def test_check_refuses_what_diff_refuses(self):
        self.write("etc/a", "1")
        self.init()
        con = sqlite3.connect(self.db)
        with con:
            con.execute("UPDATE snapshot SET status = 'incomplete' WHERE id = 1")
        con.close()
        d = self.drift("diff", "baseline", "1", code=E_DB)
        self.assertIn(b"snapshot #1 is incomplete", d.stderr)
        c = self.drift("check", code=E_DB)
        self.assertEqual(c.stderr, d.stderr, "the same message as diff's")
        self.assertEqual(c.stdout, b"", "no report against an incomplete baseline")
        # refused before scanning: no check snapshot was taken
        con = sqlite3.connect(self.db)
        n = con.execute("SELECT count(*) FROM snapshot").fetchone()[0]
        con.close()
        self.assertEqual(n, 1)


class DamagedExt(HostCase):
    """Item 13a: a damaged ext blob names its snapshot and its entry."""

    policy_text = PACKAGES_POLICY

    def damage(self, kind, key, snap=1):
        con = sqlite3.connect(self.db)
        with con:
            n = blocks.forge(con, snap, kind, key, lambda r: r.update(ext=b"\x01\xff"))
        con.close()
        self.assertEqual(n, 1, "no such entry to damage")

    def test_damaged_package_data(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        self.damage(2, b"hello:amd64")
        self.append("etc/hello.conf", b"# local change\n")
        p = self.drift("check", "--root", self.host, code=E_DB)
        self.assertEqual(p.stderr,
                         b"drift: snapshot 'baseline': damaged package data for 'hello:amd64'\n")
        self.assertNotIn(b"Protocol error", p.stderr)

    def test_damaged_optional_attributes_of_an_odd_name(self):
        self.write(b"etc/new\nline", "x")
        self.init()
        self.damage(1, os.fsencode(self.path("etc")) + b"/new\nline")
        p = self.drift("check", code=E_DB)
        self.assertIn(b"drift: snapshot 'baseline': damaged optional attributes for '", p.stderr)
        self.assertIn(b"/etc/new\\nline'\n", p.stderr, "the key, escaped")


class AbandonedSnapshots(DriftCase):
    """Item 13f: interrupted snapshots are pruned, whatever --keep says."""

    def killed(self, *args):
        """Run drift until its test pause, then SIGKILL it: an interrupted snapshot."""
        argv = [DRIFT, args[0], "--db=" + self.db, "--policy=" + self.policy] + list(args[1:])
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL,
                             env=env_for_drift({"DRIFT_TEST_PAUSE_AFTER": "5"}))
        self.assertIn(b"test pause after", p.stderr.readline())
        p.kill()
        p.wait()
        p.stderr.close()
        self.assertEqual(p.returncode, -signal.SIGKILL, "killed while paused, not before")

    def snapshots(self):
        p = self.drift("snapshots", "--format", "json", code=0)
        return json.loads(p.stdout)["snapshots"]

    def backdate_incomplete(self, seconds):
        con = sqlite3.connect(self.db)
        with con:
            con.execute("UPDATE snapshot SET started = started - ? WHERE status = 'incomplete'",
                        (seconds * 10**9,))
        con.close()

    def test_interrupted_snapshots_go_with_keep_0(self):
        for i in range(20):
            self.write("etc/f%02d" % i, "%d" % i)
        self.killed("init", self.root)                  # an interrupted init
        self.init()
        self.killed("scan", "--label", "x", self.root)  # an interrupted scan
        self.killed("check")                            # an interrupted check
        interrupted = [s["id"] for s in self.snapshots() if not s["complete"]]
        self.assertEqual(len(interrupted), 3)
        # A writer that just recorded itself may still be waiting for the
        # lock: a fresh interrupted snapshot stays.
        self.drift("check", "-q", "--keep", "0", code=CLEAN)
        self.assertEqual([s["id"] for s in self.snapshots() if not s["complete"]], interrupted)
        # An hour later their writers are gone for sure; --keep 0 keeps all
        # complete checks, but not the leftovers.
        self.backdate_incomplete(3600)
        self.killed("check")                            # a new one, newer than all
        self.drift("check", "-q", "--keep", "0", code=CLEAN)
        snaps = self.snapshots()
        left = [s for s in snaps if not s["complete"]]
        self.assertEqual(len(left), 1, snaps)
        self.assertNotIn(left[0]["id"], interrupted)
        self.assertEqual([s["purpose"] for s in snaps if s["complete"]],
                         ["baseline", "check", "check"])


class FullDisk(DriftCase):
    """Item 13e: a check whose snapshot cannot be stored still reports."""

    def test_report_printed_when_the_commit_fails(self):
        # Enough changed entries that the check's commit writes well past
        # 64 KiB of write-ahead log (a check stores only what differs from
        # the baseline: here every file's ctime, which the report leaves
        # out as noise, and each stored entry carries 16 incompressible
        # bytes of hash), while its first transaction (a small row),
        # SQLite's 32 KiB shared-memory file and the report fit under it.
        n = 6000
        for i in range(n):
            self.write("t/d%02d/f%05d" % (i % 20, i), "%d\n" % i)
        self.init()
        for i in range(n):
            os.chmod(self.path("t/d%02d/f%05d" % (i % 20, i)), 0o644)
        self.write("t/d00/f00000", "changed\n")
        want = [self.path("t/d00/f00000")]
        limit = 64 * 1024

        def small_files():
            # SIGXFSZ is left at its default (subprocess restores it): drift
            # must ignore it itself, so that the write fails with EFBIG.
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        argv = [DRIFT, "check", "--db=" + self.db, "--policy=" + self.policy,
                "--format", "json"]
        p = subprocess.run(argv, capture_output=True, env=env_for_drift(),
                           stdin=subprocess.DEVNULL, preexec_fn=small_files, timeout=120)
        self.assertNotEqual(p.returncode, -signal.SIGXFSZ, "killed by SIGXFSZ")
        self.assertEqual(p.returncode, E_DB, p.stderr)
        doc = json.loads(p.stdout)
        paths = [d["path"] for d in doc["deviations"]]
        self.assertEqual(sorted(paths), want)
        self.assertIn(b"not stored", p.stderr)
        self.assertTrue(p.stderr.rstrip().endswith(b"(its report follows)"), p.stderr)
        # Nothing was stored: the check's snapshot stays incomplete, and the
        # next check (with room) reports the same.
        con = sqlite3.connect(self.db)
        rows = con.execute("SELECT purpose, status FROM snapshot ORDER BY id").fetchall()
        con.close()
        self.assertEqual(rows, [(1, "complete"), (2, "incomplete")])
        doc, _ = self.check_json(code=MODIFIED)
        self.assertEqual(sorted(d["path"] for d in doc["deviations"]), want)


if __name__ == "__main__":
    drifttest.run_tap(__name__)
