#!/usr/bin/env python3
"""--root against a hostile image: directories swapped for symlinks during the scan.

Whoever controls an image or container root can exchange a directory of it
with a symlink that points at the host (renameat2 RENAME_EXCHANGE, in a
tight loop) while drift scans it. No snapshot may ever hold a file of the
host: every lookup under the root goes from the root's fd, with no symlink
followed on the way.
"""

import ctypes
import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["DRIFT_TEST_RAW_BLOCKS"] = "1"  # entries read or forged with blocks.py
import blocks  # noqa: E402
from drifttest import (CLEAN, E_SCAN, DRIFT, MODIFIED, REMOVED, DriftCase,  # noqa: E402
                       env_for_drift, run_tap)

AT_FDCWD = -100
RENAME_EXCHANGE = 2

# A child that swaps two names as fast as it can until it is killed.
SWAPPER = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2])
print("ready", flush=True)
while True:
    libc.renameat2(-100, a, -100, b, 2)
"""


def have_renameat2():
    libc = ctypes.CDLL(None, use_errno=True)
    return hasattr(libc, "renameat2")


class RootRace(DriftCase):

    policy_text = """\
scan:
  probes: []
rules:
  - id: everything
    path: /
    check: [type, mode, uid, gid, size, mtime, ctime, inode, device, nlink, target, hash]
"""

    def host_keys(self):
        """Keys of every stored entry that names a file of the 'host'."""
        con = sqlite3.connect(self.db)
        try:
            rows = [(s, k) for (s, _, k) in blocks.keys(con)]
        finally:
            con.close()
        return [(s, bytes(k)) for s, k in rows if b"HOSTSECRET" in bytes(k)]

    def scan(self, label, scanned, env=None):
        return subprocess.run([DRIFT, "scan", "-q", "--db=" + self.db,
                               "--policy=" + self.policy, "--label", label,
                               "--root", self.root, scanned],
                              capture_output=True, env=env_for_drift(env), timeout=60,
                              stdin=subprocess.DEVNULL)

    def snapshots(self):
        p = subprocess.run([DRIFT, "snapshots", "--format", "json", "--db=" + self.db],
                           capture_output=True, env=env_for_drift(), timeout=60, check=True)
        # (A scan that failed after it began leaves an incomplete snapshot, unlabelled.)
        return {s["label"]: s for s in json.loads(p.stdout)["snapshots"] if s["label"]}

    def race(self, scanned, swap_a, swap_b, runs, env=None):
        """Scan @scanned @runs times while @swap_a and @swap_b swap places.

        No scan stores the host; some scans store the image whole, with the
        names in one place or the other (that no host key is stored means
        nothing if no scan stored anything). A scan is no atomic view: one
        that succeeds may also have seen both names as directories, or the
        root vanished after it was resolved (nothing below it, as for any
        missing root).
        """
        if not have_renameat2():
            self.skipTest("no renameat2() in the C library")
        libc = ctypes.CDLL(None, use_errno=True)
        whole = set()
        for ref in ("ref-a", "ref-b"):
            if self.scan(ref, scanned, env).returncode == CLEAN:
                whole.add(self.snapshots()[ref]["entries"])
            self.assertEqual(libc.renameat2(AT_FDCWD, os.fsencode(swap_a), AT_FDCWD,
                                            os.fsencode(swap_b), RENAME_EXCHANGE), 0)
        self.assertTrue(whole, "neither state of the names can be scanned")
        swapper = subprocess.Popen([sys.executable, "-c", SWAPPER, swap_a, swap_b],
                                   stdout=subprocess.PIPE)
        try:
            self.assertEqual(swapper.stdout.readline().strip(), b"ready")
            codes = {}
            for i in range(runs):
                p = self.scan("run-%d" % i, scanned, env)
                # Clean, or the root was a symlink when it was resolved.
                self.assertIn(p.returncode, (CLEAN, E_SCAN),
                              "run %d: exit %d\n%s" % (i, p.returncode, p.stderr.decode()))
                if p.returncode == E_SCAN:
                    self.assertRegex(p.stderr, rb"^drift: cannot (scan|examine root) '/",
                                     "names the root it could not scan")
                codes[p.returncode] = codes.get(p.returncode, 0) + 1
        finally:
            swapper.kill()
            swapper.wait()
        self.assertGreater(codes.get(CLEAN, 0), 0, "no scan ever succeeded: %r" % codes)
        self.assertEqual(self.host_keys(), [])
        runs = [s for label, s in self.snapshots().items() if label.startswith("run-")]
        self.assertEqual(len(runs), codes[CLEAN], "one snapshot for each scan that succeeded")
        self.assertTrue([s for s in runs if s["entries"] in whole and not s["errors"]],
                        "no scan stored the image whole: %r" % [(s["entries"], s["errors"])
                                                                 for s in runs])

    def make_host(self):
        """A directory outside the root standing for the host's /var."""
        host = os.path.join(self.tmp, "host", "var")
        os.makedirs(os.path.join(host, "log"))
        with open(os.path.join(host, "log", "HOSTSECRET.log"), "w") as f:
            f.write("the host's log\n")
        os.makedirs(os.path.join(host, "HOSTSECRET.d"))
        return host

    def test_intermediate_directory_swapped_for_symlink(self):
        host = self.make_host()
        self.write("var/log/image.log", "the image's log\n")
        os.symlink(host, self.path("var.alt"))  # absolute: the host's path
        self.race("/var/log", self.path("var"), self.path("var.alt"), runs=200)

    def test_swap_without_openat2(self):
        # Kernels before 5.6 have no openat2(): the lookup by hand holds too.
        host = self.make_host()
        self.write("var/log/image.log", "the image's log\n")
        os.symlink(host, self.path("var.alt"))
        self.race("/var/log", self.path("var"), self.path("var.alt"), runs=100,
                  env={"DRIFT_TEST_NO_OPENAT2": "1"})

    def test_root_itself_swapped_for_symlink(self):
        host = self.make_host()
        self.write("var/log/image.log", "the image's log\n")
        os.symlink(host, self.path("var.alt"))
        self.race("/var", self.path("var"), self.path("var.alt"), runs=50)

    def test_swap_below_a_root(self):
        host = self.make_host()
        self.write("srv/a/b/image.txt", "the image's file\n")
        os.symlink(host, self.path("srv/a.alt"))
        self.race("/srv", self.path("srv/a"), self.path("srv/a.alt"), runs=50)


class RootBecameSymlink(DriftCase):

    def test_directory_above_a_root_replaced_by_a_symlink_is_reported(self):
        # Whoever writes in the image can replace a directory above a
        # baseline root by a symlink: the check reports it, it does not fail.
        self.write("a/b/file", "x\n")
        os.makedirs(self.path("other", "b"))
        self.drift("init", "-q", "--root", self.root, "/a/b", code=CLEAN)
        os.rename(self.path("a"), self.path("a.old"))
        os.symlink("other", self.path("a"))
        # /a/b is a symlink now: unreadable as the directory (modified), its file removed
        p = self.drift("check", "--format", "json", "--root", self.root,
                       code=REMOVED | MODIFIED)
        doc = json.loads(p.stdout)
        paths = {d["path"]: d for d in doc["deviations"]}
        self.assertIn("/a/b/file", paths)
        self.assertEqual(paths["/a/b/file"]["change"], "removed")
        blind = {u["path"]: u for u in doc["unreadable"]}
        self.assertIn("/a/b", blind)
        self.assertEqual(blind["/a/b"]["errno"], 40)  # ELOOP


if __name__ == "__main__":
    run_tap(__name__)
