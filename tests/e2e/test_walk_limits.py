#!/usr/bin/env python3
"""What drift's own limits do to a scan: descriptors, nesting, sparse files.

A limit of drift's (open files, memory) must never be recorded as the
host's state, and a tree built to exhaust drift (nesting thousands deep,
terabytes of holes) must cost time and space linear in what is really
there.
"""

import json
import os
import resource
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (CLEAN, DRIFT, E_NO_BASELINE, E_POLICY, E_SCAN, MODIFIED,  # noqa: E402
                       DriftCase, env_for_drift, run_tap)


def limit_fds(n):
    def preexec():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return preexec


class FdLimit(DriftCase):

    def make_tree(self):
        for i in range(500):
            self.write("t/d%02d/f%04d" % (i % 50, i), "content %d\n" % i)

    def run_limited(self, nofile, *args):
        argv = [DRIFT, args[0], "--db=" + self.db, "--policy=" + self.policy] + list(args[1:])
        return subprocess.run(argv, capture_output=True, env=env_for_drift(), timeout=60,
                              stdin=subprocess.DEVNULL, preexec_fn=limit_fds(nofile))

    def test_too_few_descriptors_fails_the_scan_instead_of_recording_errors(self):
        self.make_tree()
        p = self.run_limited(8, "init", "-q", self.root)
        self.assertEqual(p.returncode, E_SCAN, p.stderr.decode())
        self.assertIn(b"Too many open files", p.stderr)
        self.assertIn(b"ulimit -n", p.stderr)
        # No baseline was made of it: a check has nothing to compare with.
        self.drift("check", self.root, code=E_NO_BASELINE)
        # With descriptors to spare the same tree is a clean baseline...
        self.init()
        p = self.drift("snapshots", "--format", "json", code=0)
        snaps = [s for s in json.loads(p.stdout)["snapshots"] if s["complete"]]
        self.assertEqual(len(snaps), 1)
        self.assertEqual(snaps[0]["errors"], 0)
        # ...and a check that runs out of them is an error, not 500 changes.
        p = self.run_limited(8, "check", self.root)
        self.assertEqual(p.returncode, E_SCAN, p.stdout.decode() + p.stderr.decode())
        self.assertNotIn(b"unreadable", p.stdout)
        self.drift("check", self.root, code=CLEAN)

    def test_a_low_but_workable_limit_scans_everything(self):
        self.make_tree()
        p = self.run_limited(12, "init", "-q", self.root)
        self.assertEqual(p.returncode, CLEAN, p.stderr.decode())
        p = self.drift("snapshots", "--format", "json", code=0)
        self.assertEqual(json.loads(p.stdout)["snapshots"][0]["errors"], 0)
        p = self.run_limited(24, "check", self.root)
        self.assertEqual(p.returncode, CLEAN, p.stdout.decode() + p.stderr.decode())


def nest(root, depth, name):
    """Nest @depth directories named @name below @root (paths far beyond PATH_MAX)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        with open(os.open("leaf", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
            f.write("at the bottom\n")
    finally:
        os.close(fd)


class DeepNesting(DriftCase):

    def db_bytes(self):
        return sum(os.path.getsize(self.db + s) for s in ("", "-wal", "-shm")
                   if os.path.exists(self.db + s))

    def test_thousands_of_levels_cost_linear_time_and_space(self):
        # 4,000 levels of 250-byte names: 1 MB paths. It took 37 s, 2 GB of
        # memory and a 2 GB snapshot when every directory owned its path.
        os.mkdir(self.path("deep"))
        nest(self.path("deep"), 4000, "d" * 250)
        p = self.drift("init", "-q", self.root, code=CLEAN)
        self.assertIn(b"nesting beyond 32768 bytes: not descended", p.stderr)
        self.assertEqual(p.stderr.count(b"not descended"), 1, p.stderr[:300])
        self.assertLess(self.db_bytes(), 16 << 20)
        # Every check lists the directory where the walk stopped, once.
        doc, p = self.check_json(self.root, code=CLEAN)
        self.assertEqual(len(doc["unreadable"]), 1)
        blind = doc["unreadable"][0]
        self.assertIn("not descended", blind["error"])
        self.assertLessEqual(len(blind["path"]), 32768)
        self.assertGreater(len(blind["path"]), 32768 - 252)
        p = self.drift("check", self.root, code=CLEAN)
        self.assertIn(b"nesting beyond the path limit (scan.max_path): not descended", p.stdout)

    def test_policy_sets_the_limit(self):
        os.mkdir(self.path("deep"))
        nest(self.path("deep"), 40, "n" * 200)
        self.set_policy("scan:\n  max_path: 4096\n" + self.policy_text)
        p = self.drift("init", "-q", self.root, code=CLEAN)
        self.assertIn(b"nesting beyond 4096 bytes", p.stderr)
        doc, p = self.check_json(self.root, code=CLEAN)
        self.assertEqual(len(doc["unreadable"]), 1)
        self.assertLessEqual(len(doc["unreadable"][0]["path"]), 4096)
        # Within the default limit the same tree is walked to the leaf.
        self.set_policy(self.policy_text)
        self.drift("init", "-q", "--force", self.root, code=CLEAN)
        doc, p = self.check_json(self.root, code=CLEAN)
        self.assertEqual(doc["unreadable"], [])

    def test_limit_below_path_max_is_a_policy_error(self):
        self.set_policy("scan:\n  max_path: 100\n" + self.policy_text)
        p = self.drift("policy", "check", self.policy, code=E_POLICY)
        self.assertIn(b"'max_path' must be a number of bytes from 4096", p.stderr + p.stdout)


class SparseFiles(DriftCase):

    def make_sparse(self, rel, size, at, data):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            try:
                f.truncate(size)
            except OSError:
                self.skipTest("no files of %d bytes on this filesystem" % size)
            f.seek(at)
            f.write(data)
        if os.stat(p).st_blocks * 512 >= size:
            self.skipTest("no holes on this filesystem")
        return p

    def test_data_change_in_terabyte_sparse_file_is_seen(self):
        # A file of 1 TiB of holes was stored unhashed: a change to its data
        # with the mtime put back went unseen, even with --hash sha256.
        for algo in ("xxh3-128", "sha256"):
            with self.subTest(algo=algo):
                p = self.make_sparse("img/disk.img", 1 << 40, 7 << 30, b"boot sector" * 100)
                self.drift("init", "-q", "--force", "--hash", algo, self.root, code=CLEAN)
                self.drift("check", self.root, code=CLEAN)
                st = os.stat(p)
                with open(p, "r+b") as f:
                    f.seek((7 << 30) + 5)
                    f.write(b"X")
                os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
                doc, _ = self.check_json(self.root, code=MODIFIED)
                self.assertEqual(len(doc["deviations"]), 1)
                d = doc["deviations"][0]
                self.assertEqual(d["path"], p)
                self.assertIn("hash", d["attributes"])
                self.assertNotIn("mtime", d["attributes"])
                self.assertNotIn("size", d["attributes"])


if __name__ == "__main__":
    run_tap(__name__)
