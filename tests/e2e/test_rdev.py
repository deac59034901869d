#!/usr/bin/env python3
"""Device numbers (issue #9, item 6): a device node replaced by another with
the same mode, owner and times but another major/minor (/dev/mem, c 1,1, in
place of /dev/zero, c 1,5) is a deviation of its `rdev`, under the built-in
groups, in the text and JSON reports.

mknod needs root (CAP_MKNOD): without it every case is skipped, and says so.
"""

import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import CLEAN, MODIFIED, DriftCase, by_path, run_tap  # noqa: E402

T = 1_600_000_000 * 10**9  # a fixed mtime and atime, in ns

# The built-in groups: `all` everywhere, and what a rule without `check`
# checks (`static`) below static/.
POLICY = """\
rules:
  - id: everything
    path: /
    check: all
  - id: quiet
    path: {root}/static
"""


class DeviceNumbers(DriftCase):

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("mknod needs root")
        super().setUp()
        self.set_policy(POLICY.format(root=self.root))

    def mknod(self, rel, kind, major, minor, mode=0o666):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        try:
            os.mknod(p, kind | mode, os.makedev(major, minor))
        except PermissionError:
            self.skipTest("mknod not permitted here (no CAP_MKNOD)")
        os.chmod(p, mode)  # whatever the umask took away
        os.utime(p, ns=(T, T))
        return p

    def replace(self, p, kind, major, minor):
        """Put a node of another number in @p's place, keeping its mode, owner
        and times, and its directory's times."""
        st = os.lstat(p)
        parent = os.path.dirname(p)
        pst = os.stat(parent)
        os.unlink(p)
        os.mknod(p, kind | stat.S_IMODE(st.st_mode), os.makedev(major, minor))
        os.chmod(p, stat.S_IMODE(st.st_mode))
        os.chown(p, st.st_uid, st.st_gid)
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.utime(parent, ns=(pst.st_atime_ns, pst.st_mtime_ns))
        new = os.lstat(p)
        self.assertEqual((new.st_mode, new.st_uid, new.st_gid, new.st_mtime_ns),
                         (st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns))
        self.assertEqual(os.major(new.st_rdev), major)
        self.assertEqual(os.minor(new.st_rdev), minor)

    def test_zero_replaced_by_mem_is_an_rdev_change(self):
        z = self.mknod("dev/zero", stat.S_IFCHR, 1, 5)
        self.init()
        self.replace(z, stat.S_IFCHR, 1, 1)

        p = self.drift("check", code=MODIFIED)
        out = p.stdout.decode()
        self.assertIn("  %s  [everything] device number changed 1,5 -> 1,1" % z, out)
        self.assertIn("\n    rdev: 1,5 -> 1,1\n", out)

        doc, _ = self.check_json(code=MODIFIED)
        self.assertEqual(sorted(by_path(doc)), [z.encode()])
        d = by_path(doc)[z.encode()]
        self.assertEqual(d["change"], "modified")
        # `all`: its number changed (and its inode, unless the file system
        # gave the new node the number just freed).
        self.assertIn("rdev", d["attributes"])
        self.assertLessEqual(set(d["attributes"]), {"rdev", "inode"})
        self.assertTrue(d["reason"].startswith("device number changed 1,5 -> 1,1"), d["reason"])
        self.assertEqual((d["old"]["type"], d["new"]["type"]), ("chardev", "chardev"))
        self.assertEqual((d["old"]["rdev"], d["new"]["rdev"]), ("1,5", "1,1"))

        # --all-changes adds the ctime, and keeps the number.
        doc, _ = self.check_json(code=MODIFIED, extra=("--all-changes",))
        self.assertIn("rdev", by_path(doc)[z.encode()]["attributes"])

    def test_static_rules_check_the_number_too(self):
        # `static` checks neither the inode nor the ctime: only the number
        # tells the two nodes apart.
        z = self.mknod("static/zero", stat.S_IFCHR, 1, 5)
        b = self.mknod("static/loop0", stat.S_IFBLK, 7, 0, mode=0o660)
        self.init()
        self.replace(z, stat.S_IFCHR, 1, 1)
        self.replace(b, stat.S_IFBLK, 7, 1)

        p = self.drift("check", code=MODIFIED)
        self.assertIn("    rdev: 7,0 -> 7,1\n", p.stdout.decode())
        doc, _ = self.check_json(code=MODIFIED)
        got = by_path(doc)
        self.assertEqual(sorted(got), sorted([b.encode(), z.encode()]))
        self.assertEqual(got[z.encode()]["attributes"], ["rdev"])
        self.assertEqual(got[b.encode()]["attributes"], ["rdev"])
        self.assertEqual(got[b.encode()]["rule"]["id"], "quiet")
        self.assertEqual((got[b.encode()]["old"]["rdev"], got[b.encode()]["new"]["rdev"]),
                         ("7,0", "7,1"))

    def test_untouched_devices_and_files_are_clean(self):
        self.mknod("dev/zero", stat.S_IFCHR, 1, 5)
        self.mknod("dev/sda", stat.S_IFBLK, 8, 0, mode=0o660)
        self.write("etc/motd", "hello\n")
        self.init()
        self.drift("check", code=CLEAN)
        doc, _ = self.check_json(code=CLEAN, extra=("--all-changes",))
        self.assertEqual(doc["deviations"], [])

    def test_a_device_that_became_a_file_changed_its_type_not_its_number(self):
        z = self.mknod("dev/zero", stat.S_IFCHR, 1, 5)
        self.init()
        os.unlink(z)
        self.write("dev/zero", "", mode=0o666)
        os.utime(z, ns=(T, T))
        doc, _ = self.check_json(code=MODIFIED)
        d = by_path(doc)[z.encode()]
        self.assertIn("type", d["attributes"])
        self.assertNotIn("rdev", d["attributes"])
        self.assertEqual((d["old"]["rdev"], d["new"]["rdev"]), ("1,5", None))


    def test_added_and_removed_devices_show_their_numbers(self):
        gone = self.mknod("dev/gone", stat.S_IFBLK, 7, 3)
        self.write("dev/keep", "x\n")
        self.init()
        os.unlink(gone)
        self.mknod("dev/new", stat.S_IFCHR, 1, 1)
        p = self.drift("check", self.root, code=1 | 2)
        out = p.stdout.decode()
        self.assertIn("%s (chardev 1,1)" % self.path("dev/new"), out)
        self.assertIn("%s (blockdev 7,3)" % self.path("dev/gone"), out)


if __name__ == "__main__":
    run_tap(__name__)
