#!/usr/bin/env python3
"""drift init + mutate + drift check --format json: exactly the expected deviations."""

import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["DRIFT_TEST_RAW_BLOCKS"] = "1"  # entries read or forged with blocks.py
import blocks  # noqa: E402
from drifttest import (ADDED, CLEAN, E_USAGE, MODIFIED, REMOVED, DriftCase, by_path,  # noqa: E402
                       raw_path, run_tap)


class CheckDeviations(DriftCase):

    def assert_only(self, doc, expected):
        """expected: {path bytes or str: (change, set of attributes or None)}"""
        got = by_path(doc)
        want = {(k if isinstance(k, bytes) else k.encode()): v for k, v in expected.items()}
        self.assertEqual(sorted(got), sorted(want), "deviating paths")
        for p, (change, attrs) in want.items():
            self.assertEqual(got[p]["change"], change, p)
            if attrs is not None:
                self.assertEqual(set(got[p]["attributes"]), set(attrs), p)

    def test_clean_check_is_one_line_and_exit_0(self):
        self.write("etc/motd", "hello\n")
        self.init()
        p = self.drift("check", code=CLEAN)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(len(lines), 1, p.stdout)
        self.assertIn("no deviations", lines[0])
        self.assertEqual(p.stderr, b"")

    def test_content_change_with_size_and_mtime_restored(self):
        f = self.write("etc/passwd", "root:x:0:0\n")
        self.write("etc/ref", "")
        os.utime(f, (1_600_000_000, 1_600_000_000))
        self.init()
        before = os.stat(f)
        with open(f, "r+b") as fh:
            fh.write(b"toor")       # same size
        os.utime(f, ns=(before.st_atime_ns, before.st_mtime_ns))   # touch -r
        doc, _ = self.check_json(code=MODIFIED)
        self.assert_only(doc, {f: ("modified", {"hash", "ctime"})})
        d = by_path(doc)[f.encode()]
        self.assertNotEqual(d["old"]["hash"], d["new"]["hash"])
        self.assertEqual(d["old"]["mtime"], d["new"]["mtime"])
        # The hash is what xxhsum -H2 prints.
        ref = subprocess.run(["xxhsum", "-H2", f], capture_output=True, check=True).stdout
        self.assertEqual(ref.split()[0].decode(), d["new"]["hash"])

    def test_setuid_added(self):
        f = self.write("usr/bin/tool", "#!/bin/sh\n", mode=0o755)
        self.init()
        os.chmod(f, 0o4755)
        doc, _ = self.check_json(code=MODIFIED)
        self.assert_only(doc, {f: ("modified", {"mode", "ctime"})})
        d = by_path(doc)[f.encode()]
        self.assertEqual((d["old"]["mode"], d["new"]["mode"]), ("0755", "4755"))

    def test_owner_change(self):
        if os.geteuid() != 0:
            self.skipTest("chown needs root")
        f = self.write("etc/shadow", "x")
        self.init()
        os.chown(f, 1234, 5678)
        doc, _ = self.check_json(code=MODIFIED)
        self.assert_only(doc, {f: ("modified", {"uid", "gid", "ctime"})})
        d = by_path(doc)[f.encode()]
        self.assertEqual((d["new"]["uid"], d["new"]["gid"]), (1234, 5678))

    def test_symlink_retarget(self):
        self.write("etc/a", "a")
        self.write("etc/b", "b")
        link = self.path("etc/link")
        os.symlink("a", link)
        self.init()
        os.unlink(link)
        os.symlink("b", link)
        doc, _ = self.check_json(code=MODIFIED)
        got = by_path(doc)
        # The symlink is a new inode: target, inode, times change.
        self.assertEqual(sorted(got), [link.encode()])
        d = got[link.encode()]
        self.assertIn("target", d["attributes"])
        self.assertEqual((d["old"]["target"], d["new"]["target"]), ("a", "b"))

    def test_file_replaced_by_directory(self):
        f = self.write("etc/conf", "x")
        self.init()
        os.unlink(f)
        os.mkdir(f)
        doc, _ = self.check_json(code=MODIFIED)
        got = by_path(doc)
        self.assertEqual(sorted(got), [f.encode()])
        d = got[f.encode()]
        self.assertEqual(d["change"], "modified")
        self.assertIn("type", d["attributes"])
        self.assertEqual((d["old"]["type"], d["new"]["type"]), ("file", "dir"))

    def test_removed_and_added(self):
        gone = self.write("etc/gone", "x")
        self.init()
        os.unlink(gone)
        new = self.write("etc/new", "y")
        doc, _ = self.check_json(code=ADDED | REMOVED)
        self.assert_only(doc, {gone: ("removed", set()), new: ("added", set())})
        self.assertEqual(doc["summary"]["added"], 1)
        self.assertEqual(doc["summary"]["removed"], 1)
        self.assertIsNone(by_path(doc)[gone.encode()]["new"])
        self.assertIsNone(by_path(doc)[new.encode()]["old"])

    def test_weird_names_round_trip(self):
        names = [b"new\nline", b"ctl\x01byte", b"bad\xffutf8", b"-leading-dash"]
        root = os.fsencode(self.root)
        os.mkdir(os.path.join(root, b"w"))
        self.init()
        for n in names:
            with open(os.path.join(root, b"w", n), "wb") as fh:
                fh.write(n)
        doc, p = self.check_json(code=ADDED)
        got = by_path(doc)
        want = sorted(os.path.join(root, b"w", n) for n in names)
        self.assertEqual(sorted(got), want)
        for d in doc["deviations"]:
            raw = raw_path(d)
            if raw.endswith(b"-leading-dash"):
                self.assertNotIn("path_b64", d)
            else:
                self.assertIn("path_b64", d)
        # Text output shows them escaped, never raw.
        t = self.drift("check", code=ADDED).stdout
        self.assertIn(b"new\\nline", t)
        self.assertIn(b"ctl\\x01byte", t)
        self.assertIn(b"bad\\xffutf8", t)
        self.assertNotIn(b"\x01", t)
        self.assertNotIn(b"\xff", t)

    def test_path_longer_than_path_max(self):
        root = os.fsencode(self.root)
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        comp = b"d" * 25
        for _ in range(180):
            os.mkdir(comp, dir_fd=fd)
            nfd = os.open(comp, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        self.init()
        leaf = os.open(b"leaf", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, b"deep")
        os.close(leaf)
        os.close(fd)
        doc, _ = self.check_json(code=ADDED)
        [d] = doc["deviations"]
        path = raw_path(d)
        self.assertGreater(len(path), 4096)
        self.assertEqual(path, root + (b"/" + comp) * 180 + b"/leaf")

    def test_fifo_does_not_block(self):
        os.makedirs(self.path("run"))
        os.mkfifo(self.path("run/fifo"))
        self.write("run/file", "x")
        self.init()
        os.chmod(self.path("run/fifo"), 0o600)
        doc, _ = self.check_json(code=MODIFIED)
        d = by_path(doc)[self.path("run/fifo").encode()]
        self.assertEqual(d["new"]["type"], "fifo")
        self.assertIsNone(d["new"]["hash"])

    def test_symlink_loop_and_hard_link(self):
        os.makedirs(self.path("l"))
        os.symlink("loop2", self.path("l/loop1"))
        os.symlink("loop1", self.path("l/loop2"))
        os.symlink(".", self.path("l/self"))
        a = self.write("l/a", "shared")
        self.init()
        b = self.path("l/b")
        os.link(a, b)
        doc, _ = self.check_json(code=ADDED | MODIFIED)
        got = by_path(doc)
        self.assertEqual(got[b.encode()]["change"], "added")
        self.assertEqual(set(got[a.encode()]["attributes"]), {"ctime", "nlink"})
        self.assertEqual(got[b.encode()]["new"]["hash"], got[a.encode()]["new"]["hash"])
        self.assertEqual(got[b.encode()]["new"]["inode"], got[a.encode()]["new"]["inode"])

    def test_sparse_64mib_one_byte_changed(self):
        f = self.path("var/sparse.img")
        os.makedirs(os.path.dirname(f))
        with open(f, "wb") as fh:
            fh.truncate(64 << 20)
            fh.seek(32 << 20)
            fh.write(b"x")
        self.init()
        mtime = os.stat(f).st_mtime_ns
        with open(f, "r+b") as fh:
            fh.seek(48 << 20)
            fh.write(b"y")
        os.utime(f, ns=(mtime, mtime))
        doc, _ = self.check_json(code=MODIFIED)
        d = by_path(doc)[f.encode()]
        self.assertIn("hash", d["attributes"])
        ref = subprocess.run(["xxhsum", "-H2", f], capture_output=True, check=True).stdout
        self.assertEqual(ref.split()[0].decode(), d["new"]["hash"])

    def test_check_of_subpath_only_reports_that_subtree(self):
        self.write("a/x", "1")
        self.write("b/y", "2")
        self.init()
        self.write("a/x", "changed")
        self.write("b/y", "changed too")
        doc, _ = self.check_json(self.path("b"), code=MODIFIED)
        self.assertEqual(sorted(by_path(doc)), [self.path("b/y").encode()])

    def test_directory_noise_hidden_unless_asked(self):
        os.makedirs(self.path("d"))
        self.init()
        self.write("d/new", "x")
        doc, _ = self.check_json(code=ADDED)
        self.assertEqual(sorted(by_path(doc)), [self.path("d/new").encode()])
        doc, _ = self.check_json(code=ADDED | MODIFIED, extra=("--all-changes",))
        got = by_path(doc)
        self.assertEqual(got[self.path("d").encode()]["change"], "modified")

    def stored_keys(self):
        """The file keys stored in the database, of every snapshot."""
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            return {bytes(k) for (_, kind, k) in blocks.keys(con) if kind == 1}
        finally:
            con.close()

    def test_exclude_prunes_and_is_remembered(self):
        self.write("etc/keep", "1")
        self.write("cache/junk", "1")
        self.init(extra=("--exclude", self.path("cache")))
        stored = self.stored_keys()
        self.assertIn(self.path("etc/keep").encode(), stored)
        self.assertFalse([k for k in stored if k.startswith(self.path("cache").encode())],
                         "the excluded directory was stored")
        self.write("cache/more", "2")
        doc, _ = self.check_json(code=CLEAN)
        self.assertEqual(doc["deviations"], [])
        # The check, not told again, still excludes it and still sees the rest.
        self.write("etc/keep", "changed")
        doc, _ = self.check_json(code=MODIFIED)
        self.assertEqual(sorted(by_path(doc)), [self.path("etc/keep").encode()])

    def test_vanished_root_is_reported_removed(self):
        a = self.write("a/x", "1")
        b = self.write("b/y", "2")
        self.init(self.path("a"), self.path("b"))
        subprocess.run(["rm", "-rf", self.path("b")], check=True)
        doc, _ = self.check_json(code=REMOVED)
        self.assertEqual(sorted(by_path(doc)), sorted([self.path("b").encode(), b.encode()]))
        self.assertNotIn(a.encode(), by_path(doc))

    def test_own_database_inside_the_tree_is_never_scanned(self):
        self.write("etc/a", "1")
        self.db = self.path("var/lib/drift/drift.db")
        self.init()
        ours = self.path("var/lib/drift").encode()
        self.assertIn(self.path("etc/a").encode(), self.stored_keys())
        self.assertFalse([k for k in self.stored_keys() if k.startswith(ours + b"/")],
                         "the database (or its WAL) was scanned")
        for _ in range(2):  # the first check wrote to the database: the second sees that
            doc, _ = self.check_json(code=CLEAN)
            self.assertEqual(doc["deviations"], [])
        self.write("etc/a", "2")
        doc, _ = self.check_json(code=MODIFIED)
        self.assertEqual(sorted(by_path(doc)), [self.path("etc/a").encode()])

    def test_check_of_a_path_outside_the_baseline_is_refused(self):
        self.write("in/a", "1")
        out = self.write("out/b", "2")
        self.init(self.path("in"))
        p = self.drift("check", out, code=E_USAGE)
        self.assertIn(b"not under the baseline", p.stderr)

    def test_scan_without_paths_skips_a_vanished_baseline_root(self):
        self.write("a/x", "1")
        self.write("b/y", "2")
        self.init(self.path("a"), self.path("b"))
        subprocess.run(["rm", "-rf", self.path("b")], check=True)
        self.write("a/x", "changed")
        self.drift("scan", "-q", "--label", "after", code=0)
        p = self.drift("snapshots", "--format", "json", code=CLEAN)
        after = [s for s in json.loads(p.stdout)["snapshots"] if s["label"] == "after"]
        # Still a root of the snapshot: what was below it is removed, and the
        # root that is still there was scanned.
        self.assertEqual([s["roots"] for s in after], [[self.path("a"), self.path("b")]])
        p = self.drift("diff", "--format", "json", "baseline", "after", code=MODIFIED | REMOVED)
        got = {k: d["change"] for k, d in by_path(json.loads(p.stdout)).items()}
        self.assertEqual(got, {self.path("a/x").encode(): "modified",
                               self.path("b").encode(): "removed",
                               self.path("b/y").encode(): "removed"})

    def forge_baseline_hash(self, path):
        """Overwrite the baseline's stored hash of @path, as someone editing the database would."""
        con = sqlite3.connect(self.db)
        with con:
            snap = con.execute("SELECT value FROM meta WHERE key = 'baseline'").fetchone()[0]
            n = blocks.forge(con, snap, 1, path.encode(),
                             lambda r: r.update(hash=bytes(len(r["hash"]))))
        con.close()
        self.assertEqual(n, 1)

    def test_trust_ctime_reuses_hashes_of_unchanged_files(self):
        f = self.write("etc/a", b"x" * (200 << 10))   # above the 128 KiB reuse floor
        small = self.write("etc/small", "tiny")
        self.init()
        self.forge_baseline_hash(f)
        self.forge_baseline_hash(small)
        # Unchanged metadata: the baseline's (forged) hash of the big file is
        # trusted, not re-read; a small file is always read (cheaper than a lookup).
        doc, _ = self.check_json(code=MODIFIED, extra=("--trust-ctime", "--sample", "0"))
        self.assertEqual(sorted(by_path(doc)), [small.encode()])
        # Without trust, or with every file in the sample, the file is read.
        for extra in (("--trust-ctime", "--sample", "100"), ()):
            doc, _ = self.check_json(code=MODIFIED, extra=extra)
            self.assertEqual(sorted(by_path(doc)), sorted([f.encode(), small.encode()]), extra)

    def test_trust_ctime_still_sees_content_changes(self):
        f = self.write("etc/a", b"c" * (200 << 10))
        self.init()
        st = os.stat(f)
        with open(f, "r+b") as fh:
            fh.write(b"CONTENT")
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # size and mtime as before; ctime moved
        doc, _ = self.check_json(code=MODIFIED, extra=("--trust-ctime", "--sample", "0"))
        self.assertIn("hash", by_path(doc)[f.encode()]["attributes"])

    def test_sha256_mode_matches_sha256sum(self):
        f = self.write("etc/a", "tamper evidence\n")
        self.init(extra=("--hash", "sha256"))
        self.write("etc/a", "tampered evidence\n")
        doc, _ = self.check_json(code=MODIFIED)
        d = by_path(doc)[f.encode()]
        ref = subprocess.run(["sha256sum", f], capture_output=True, check=True).stdout
        self.assertEqual(d["new"]["hash"], ref.split()[0].decode())
        self.assertEqual(d["new"]["hash_algo"], "sha256")

    def test_unreadable_entries_are_counted_not_fatal(self):
        # Root reads anything: as root, drift runs as nobody for this one.
        f = self.write("etc/secret", "x", mode=0o000)
        self.as_unprivileged()
        self.init()
        doc, _ = self.check_json(code=CLEAN)
        self.assertEqual(doc["summary"]["unreadable"], 1)
        self.assertEqual(raw_path(doc["unreadable"][0]), f.encode())


if __name__ == "__main__":
    run_tap(__name__)
