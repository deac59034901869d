#!/usr/bin/env python3
"""What people are shown, and where reports go: escaping of invisible characters,
--output to files, devices, FIFOs and symlinks; and who may read the database."""

import glob
import json
import os
import resource
import signal
import stat
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (ADDED, CLEAN, DRIFT, E_DB, E_INTERRUPTED, E_OUTPUT,  # noqa: E402
                       MODIFIED, DriftCase, by_path, env_for_drift, run_tap)

RLO = "\u202e".encode()


class InvisibleCharacters(DriftCase):

    def test_bidi_override_in_a_name_is_escaped_in_text(self):
        self.write("etc/a", "1")
        self.init()
        name = RLO + b"txt.exe"
        path = os.path.join(os.fsencode(self.root), b"etc", name)
        with open(path, "wb") as f:
            f.write(b"MZ")
        out = self.drift("check", code=ADDED).stdout
        self.assertIn(b"\\u202etxt.exe", out)
        self.assertNotIn(RLO, out, "no raw U+202E reaches the reader")
        # The neighbours that are plain text stay as they are.
        self.write("etc/caf\u00e9-\u65e5\u672c-\U0001f600", "x")
        out = self.drift("check", code=ADDED).stdout
        self.assertIn("caf\u00e9-\u65e5\u672c-\U0001f600".encode(), out)

    def test_json_keeps_the_exact_name(self):
        self.write("etc/a", "1")
        self.init()
        name = b"zw\xe2\x80\x8bsp" + RLO + b"txt.exe"
        path = os.path.join(os.fsencode(self.root), b"etc", name)
        with open(path, "wb") as f:
            f.write(b"MZ")
        p = self.drift("check", "--format", "json", code=ADDED)
        doc = json.loads(p.stdout)
        self.assertIn(path, by_path(doc), "the path is its exact bytes")
        d = by_path(doc)[path]
        self.assertNotIn("path_b64", d, "valid UTF-8 without controls is clean JSON")


class Reader(threading.Thread):
    """Reads a FIFO to its end in the background."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.data = path, None

    def run(self):
        with open(self.path, "rb") as f:
            self.data = f.read()


class Output(DriftCase):

    def setUp(self):
        super().setUp()
        self.write("etc/a", "1")
        self.init()
        self.write("etc/b", "2")   # one added file: every check below exits ADDED

    def check_to(self, target, *extra, code=ADDED, **kw):
        return self.drift("check", "--output", target, *extra, code=code, **kw)

    def temporaries(self, target):
        return glob.glob(glob.escape(target) + ".tmp-*")

    def assert_device(self, path, before):
        st = os.lstat(path)
        self.assertTrue(stat.S_ISCHR(st.st_mode), "%s is still a character device" % path)
        self.assertEqual((st.st_rdev, stat.S_IMODE(st.st_mode), st.st_uid),
                         (before.st_rdev, stat.S_IMODE(before.st_mode), before.st_uid))
        self.assertEqual(self.temporaries(path), [])

    def own_device(self, name, major, minor):
        """A private copy of a memory device, so that a regression replaces it, not the host's."""
        if os.geteuid() != 0:
            self.skipTest("mknod needs root")
        path = os.path.join(self.tmp, name)
        try:
            os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
            os.chmod(path, 0o666)
            with open(path, "wb"):
                pass
        except OSError as e:
            self.skipTest("cannot make or open a device node here: %s" % e)
        return path

    def test_dev_null_stays_a_device(self):
        own = self.own_device("null", 1, 3)
        before = os.lstat(own)
        p = self.check_to(own)
        self.assertEqual(p.stdout, b"")
        self.assert_device(own, before)
        # Only once our own copy survived: the host's /dev/null.
        before = os.lstat("/dev/null")
        self.assertTrue(stat.S_ISCHR(before.st_mode))
        self.check_to("/dev/null")
        self.check_to("/dev/null", "--format", "json")
        self.assert_device("/dev/null", before)

    def test_full_device_fails_with_output_code_and_stays_a_device(self):
        own = self.own_device("full", 1, 7)
        before = os.lstat(own)
        p = self.check_to(own, code=E_OUTPUT)
        self.assertIn(os.strerror(28).encode(), p.stderr)   # ENOSPC
        self.assert_device(own, before)
        if not os.path.exists("/dev/full") or not stat.S_ISCHR(os.lstat("/dev/full").st_mode):
            self.skipTest("no /dev/full device")
        before = os.lstat("/dev/full")
        p = self.check_to("/dev/full", code=E_OUTPUT)
        self.assertIn(os.strerror(28).encode(), p.stderr)
        self.assert_device("/dev/full", before)

    def test_fifo_with_a_reader_gets_the_report(self):
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo, 0o600)
        reader = Reader(fifo)
        reader.start()
        self.check_to(fifo)
        reader.join(30)
        self.assertIn(b"etc/b", reader.data)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))
        self.assertEqual(self.temporaries(fifo), [])

    def test_fifo_waits_for_a_reader_and_sigint_stops_the_wait(self):
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo, 0o600)
        argv = [DRIFT, "check", "--db=" + self.db, "--policy=" + self.policy, "--output", fifo]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, env=env_for_drift())
        time.sleep(1.5)
        self.assertIsNone(p.poll(), "drift waits for a reader")
        reader = Reader(fifo)
        reader.start()
        reader.join(30)
        self.assertEqual(p.wait(30), ADDED)
        self.assertIn(b"etc/b", reader.data)
        # Nobody comes: Ctrl-C ends the wait cleanly.
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, env=env_for_drift())
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, E_INTERRUPTED, err)
        self.assertIn(b"waiting for a reader", err)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))

    def test_existing_file_keeps_its_mode_and_group(self):
        out = os.path.join(self.tmp, "report.txt")
        with open(out, "w") as f:
            f.write("old report\n")
        os.chmod(out, 0o600)
        owner = (os.getuid(), os.getgid())
        if os.geteuid() == 0:
            owner = (0, 4343)
            os.chown(out, *owner)
        self.check_to(out)
        st = os.lstat(out)
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, "an existing 0600 report stays 0600")
        self.assertEqual((st.st_uid, st.st_gid), owner)
        with open(out, "rb") as f:
            self.assertIn(b"etc/b", f.read())
        os.chmod(out, 0o640)
        self.check_to(out)
        self.assertEqual(stat.S_IMODE(os.lstat(out).st_mode), 0o640)
        self.assertEqual(self.temporaries(out), [])

    def test_planted_file_of_another_user_gets_nothing(self):
        # A file someone else put where root's report goes (a directory others
        # can write) must not hand the report to its owner: the new report is
        # ours and private, whatever the planted file's owner and mode.
        if os.geteuid() != 0:
            self.skipTest("needs root to plant a file of another user")
        out = os.path.join(self.tmp, "report.txt")
        with open(out, "w") as f:
            f.write("planted\n")
        os.chown(out, 4242, 4343)
        os.chmod(out, 0o666)
        self.check_to(out)
        st = os.lstat(out)
        self.assertEqual((st.st_uid, st.st_gid), (0, 0))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        with open(out, "rb") as f:
            self.assertIn(b"etc/b", f.read())

    def test_block_device_is_refused(self):
        if os.geteuid() != 0:
            self.skipTest("mknod needs root")
        dev = os.path.join(self.tmp, "disk")
        os.mknod(dev, stat.S_IFBLK | 0o600, os.makedev(7, 200))
        p = self.drift("check", "--output", dev, self.root, code=E_OUTPUT)
        self.assertIn(b"block device", p.stderr)
        self.assertTrue(stat.S_ISBLK(os.lstat(dev).st_mode))

    def test_new_file_is_private(self):
        out = os.path.join(self.tmp, "new.json")
        old = os.umask(0o022)
        try:
            self.check_to(out, "--format", "json")
        finally:
            os.umask(old)
        self.assertEqual(stat.S_IMODE(os.lstat(out).st_mode), 0o600)
        with open(out) as f:
            self.assertEqual(json.load(f)["command"], "check")

    def test_symlink_to_a_file_is_refused_and_its_target_kept(self):
        target = os.path.join(self.tmp, "target.txt")
        with open(target, "w") as f:
            f.write("keep me\n")
        link = os.path.join(self.tmp, "report.txt")
        os.symlink(target, link)
        p = self.check_to(link, code=E_OUTPUT)
        self.assertIn(b"symbolic link", p.stderr)
        self.assertTrue(os.path.islink(link), "the link is not replaced")
        with open(target) as f:
            self.assertEqual(f.read(), "keep me\n", "nor is what it names")
        self.assertEqual(self.temporaries(link), [])
        # A dangling link creates nothing where it points.
        os.unlink(target)
        p = self.check_to(link, code=E_OUTPUT)
        self.assertFalse(os.path.lexists(target))
        self.assertTrue(os.path.islink(link))

    def test_symlink_to_a_device_or_fifo_is_written_through(self):
        link = os.path.join(self.tmp, "to-null")
        os.symlink("/dev/null", link)
        before = os.lstat("/dev/null")
        self.check_to(link)
        self.assertTrue(os.path.islink(link))
        self.assert_device("/dev/null", before)
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo, 0o600)
        os.unlink(link)
        os.symlink(fifo, link)
        reader = Reader(fifo)
        reader.start()
        self.check_to(link)
        reader.join(30)
        self.assertIn(b"etc/b", reader.data)
        self.assertTrue(os.path.islink(link))

    def test_symlink_of_another_user_is_refused(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to give a link away")
        link = os.path.join(self.tmp, "planted")
        os.symlink("/dev/null", link)
        os.lchown(link, 4242, 4242)
        before = os.lstat("/dev/null")
        p = self.check_to(link, code=E_OUTPUT)
        self.assertIn(b"owned by another user", p.stderr)
        self.assert_device("/dev/null", before)

    def test_dash_and_dev_stdout_are_standard_output(self):
        p = self.check_to("-")
        self.assertIn(b"etc/b", p.stdout)
        # A link of our own like /dev/stdout first, so that a regression replaces it.
        own = os.path.join(self.tmp, "stdout")
        os.symlink("/proc/self/fd/1", own)
        p = self.check_to(own)
        self.assertIn(b"etc/b", p.stdout)
        self.assertTrue(os.path.islink(own))
        p = self.check_to("/dev/stdout")
        self.assertIn(b"etc/b", p.stdout)
        # Redirected to a file, appending: that open file is written, not replaced.
        out = os.path.join(self.tmp, "log")
        with open(out, "w") as f:
            f.write("earlier line\n")
        ino = os.lstat(out).st_ino
        with open(out, "ab") as f:
            p = subprocess.run([DRIFT, "check", "--db=" + self.db, "--policy=" + self.policy,
                                "--output", "/dev/stdout"], stdout=f, stderr=subprocess.PIPE,
                               env=env_for_drift())
        self.assertEqual(p.returncode, ADDED, p.stderr)
        self.assertEqual(os.lstat(out).st_ino, ino)
        with open(out, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"earlier line\n"), data[:100])
        self.assertIn(b"etc/b", data)

    def test_directory_and_empty_name_are_refused(self):
        p = self.check_to(self.tmp, code=E_OUTPUT)
        self.assertIn(b"directory", p.stderr)
        self.assertTrue(os.path.isdir(self.tmp))
        self.check_to("", code=16)

    def test_failed_write_leaves_the_old_report(self):
        self.write("many/" + "x" * 100, "")
        for i in range(1500):
            self.write("many/%04d-%s" % (i, "y" * 60), "")
        self.drift("scan", "-q", "--label", "later", self.root, code=0)
        out = os.path.join(self.tmp, "report.txt")
        with open(out, "w") as f:
            f.write("old report\n")
        os.chmod(out, 0o600)

        def limit():
            # The report outgrows this; the read-only database open does not.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

        argv = [DRIFT, "diff", "--db=" + self.db, "--policy=" + self.policy, "--output", out,
                "baseline", "later"]
        p = subprocess.run(argv, capture_output=True, env=env_for_drift(),
                           stdin=subprocess.DEVNULL, preexec_fn=limit, timeout=120)
        self.assertEqual(p.returncode, E_OUTPUT, p.stderr)
        self.assertIn(os.strerror(27).encode(), p.stderr)   # EFBIG, from the report
        with open(out) as f:
            self.assertEqual(f.read(), "old report\n")
        self.assertEqual(self.temporaries(out), [])
        # Without the limit the same report is written.
        self.drift("diff", "--output", out, "baseline", "later", code=ADDED)
        with open(out, "rb") as f:
            self.assertGreater(len(f.read()), 64 * 1024)


class ReportReaders(DriftCase):
    """A check's report reaches its reader only once the run is stored."""

    def setUp(self):
        super().setUp()
        for i in range(2000):
            self.write("t/f%04d" % i, "%d\n" % i)
        self.init()
        for i in range(2000):
            self.write("t/f%04d" % i, "changed %d\n" % i)

    def checks(self):
        p = self.drift("snapshots", "--format", "json", code=CLEAN)
        return [s for s in json.loads(p.stdout)["snapshots"] if s["purpose"] == "check"]

    def test_reader_that_goes_away_does_not_lose_the_run(self):
        # `drift check | head`: the reader closes the pipe early. The run was
        # lost (killed by SIGPIPE before its commit) when the report was
        # written inside the snapshot's transaction.
        argv = [DRIFT, "check", "--db=" + self.db, "--policy=" + self.policy, self.root]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, env=env_for_drift())
        p.stdout.read(100)
        p.stdout.close()
        p.wait(timeout=60)
        self.assertIn(p.returncode, (-signal.SIGPIPE, MODIFIED, E_OUTPUT))
        checks = self.checks()
        self.assertEqual(len(checks), 1)
        self.assertTrue(checks[0]["complete"])

    def test_fifo_without_reader_does_not_hold_the_database(self):
        # The report waits for its reader without the database's lock: another
        # writer meanwhile does not give up after its 5 s wait.
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo, 0o600)
        argv = [DRIFT, "check", "--db=" + self.db, "--policy=" + self.policy,
                "--output", fifo, self.root]
        check = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL, env=env_for_drift())
        try:
            time.sleep(1)
            self.drift("scan", "-q", "--label", "meanwhile", self.root, code=CLEAN)
            reader = Reader(fifo)
            reader.start()
            reader.join(60)
            out, err = check.communicate(timeout=60)
        finally:
            if check.poll() is None:
                check.kill()
                check.wait()
        self.assertEqual(check.returncode, MODIFIED, err)
        self.assertIn(b"2000 modified", reader.data)
        self.assertTrue(self.checks()[0]["complete"])


class Interrupted(DriftCase):

    def test_diff_and_snapshots_stop_cleanly_on_sigint(self):
        # They had no signal handlers: Ctrl-C while waiting for a FIFO's
        # reader killed them (and left a temporary file when writing a file).
        self.write("etc/a", "1")
        self.init()
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo, 0o600)
        for args in (["diff", "--policy=" + self.policy, "baseline", "baseline"],
                     ["snapshots"]):
            argv = [DRIFT, args[0], "--db=" + self.db, "--output", fifo] + args[1:]
            p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL, env=env_for_drift())
            time.sleep(1)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=30)
            self.assertEqual(p.returncode, E_INTERRUPTED, (args, err))
            self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))


class DatabaseModes(DriftCase):

    def mode(self, path):
        return stat.S_IMODE(os.lstat(path).st_mode) if os.path.lexists(path) else None

    def modes(self):
        return [self.mode(self.db + s) for s in ("", "-wal", "-shm")]

    def paused(self, *args):
        """drift stopped by the test hook while its database is open; returns the process."""
        argv = [DRIFT, args[0], "--db=" + self.db, "--policy=" + self.policy] + list(args[1:])
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL,
                             env=env_for_drift({"DRIFT_TEST_PAUSE_AFTER": "1"}))
        self.assertIn(b"test pause after", p.stderr.readline())
        return p

    def stop(self, p):
        p.kill()
        p.communicate(timeout=30)
        self.assertEqual(p.returncode, -signal.SIGKILL, "killed while paused, not before")

    def test_new_database_and_its_wal_and_shm_are_private(self):
        for i in range(5):
            self.write("t/f%d" % i, "x")
        old = os.umask(0o022)
        try:
            p = self.paused("init", "-q", self.root)
            try:
                self.assertEqual(self.modes(), [0o600, 0o600, 0o600])
            finally:
                self.stop(p)
        finally:
            os.umask(old)
        self.assertEqual(self.mode(os.path.dirname(self.db)), 0o700)

    def test_database_others_can_read_is_refused_and_left_alone(self):
        if os.geteuid() != 0:
            self.skipTest("StrictModes apply to root")
        self.write("etc/a", "1")
        self.init()
        self.assertEqual(self.modes(), [0o600, None, None])
        for mode in (0o644, 0o640, 0o604):
            os.chmod(self.db, mode)
            for args in (("check",), ("scan", "-q", "--label", "x", self.root),
                         ("diff", "baseline", "baseline"), ("snapshots",)):
                p = self.drift(*args, code=E_DB)
                self.assertIn(b"readable by others", p.stderr)
            # Refused before SQLite opens it: no -wal or -shm inheriting the mode.
            self.assertEqual(self.modes(), [mode, None, None])
        # --allow-insecure is the way to use it anyway.
        self.drift("check", "--allow-insecure", code=CLEAN)
        os.chmod(self.db, 0o600)
        self.drift("check", code=CLEAN)
        self.assertEqual(self.modes(), [0o600, None, None])

    def test_wal_or_shm_others_can_read_is_refused(self):
        if os.geteuid() != 0:
            self.skipTest("StrictModes apply to root")
        self.write("etc/a", "1")
        self.init()
        for side in ("-wal", "-shm"):
            # Left behind by a crash after someone loosened the database's mode.
            with open(self.db + side, "wb"):
                pass
            os.chmod(self.db + side, 0o644)
            p = self.drift("check", code=E_DB)
            self.assertIn((self.db + side).encode(), p.stderr)
            self.assertIn(b"readable by others", p.stderr)
            self.assertEqual(self.mode(self.db + side), 0o644)
            os.unlink(self.db + side)
        self.drift("check", code=CLEAN)


if __name__ == "__main__":
    run_tap(__name__)
