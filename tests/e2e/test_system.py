"""End-to-end: system state (probes), --root, packages and attribution.

Every test copies the fixture root tests/fixtures/host (a small fake host: a
dpkg database and the files it lists, passwd/group/shadow, systemd unit
directories, proc files) into a temporary directory and runs drift with
--root on the copy, so nothing depends on the host's own state.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drifttest  # noqa: E402
os.environ["DRIFT_TEST_RAW_BLOCKS"] = "1"  # entries read or forged with blocks.py
import blocks  # noqa: E402
from drifttest import ADDED, CLEAN, MODIFIED, REMOVED, E_USAGE, DriftCase  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "host")

SYSTEM_POLICY = """\
scan:
  roots: [/usr, /etc]
  probes: all
rules:
  - id: files
    path: /
    check: [type, mode, uid, gid, size, mtime, inode, nlink, target, hash]
  - id: packages
    kind: package
    path: "**"
  - {id: users, kind: user, path: "**", severity: high}
  - {id: groups, kind: group, path: "**", severity: high}
  - {id: services, kind: service, path: "**"}
  - {id: sysctls, kind: sysctl, path: "**"}
  - {id: modules, kind: module, path: "**"}
  - {id: ports, kind: port, path: "**"}
  - {id: mounts, kind: mount, path: "**"}
"""

ALL = ADDED | REMOVED | MODIFIED


def md5(data):
    return hashlib.md5(data).hexdigest()


class SystemCase(DriftCase):
    policy_text = SYSTEM_POLICY

    def setUp(self):
        super().setUp()
        self.host = os.path.join(self.tmp, "host")
        shutil.copytree(FIXTURE, self.host, symlinks=True)

    def h(self, rel):
        return os.path.join(self.host, rel)

    def put(self, rel, data, mode=None):
        p = self.h(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(p, mode)

    def read(self, rel):
        with open(self.h(rel), "rb") as f:
            return f.read()

    def sub(self, rel, old, new):
        data = self.read(rel)
        self.assertIn(old, data, "fixture %s changed under the test" % rel)
        self.put(rel, data.replace(old, new))

    def json_of(self, p):
        try:
            return json.loads(p.stdout)
        except ValueError as e:
            self.fail("invalid JSON (%s):\n%s" % (e, p.stdout[:2000]))

    def deviations(self, doc, kind=None):
        out = {}
        for d in doc["deviations"]:
            if kind is None or d.get("kind") == kind:
                key = d.get("path", d.get("key"))
                out[key] = d
        return out

    # the fixture's "upgrade" of hello 1.0-1 -> 1.1-1
    def upgrade_hello(self, new_binary=b"#!/bin/sh\necho hello 1.1\n"):
        self.sub("var/lib/dpkg/status", b"Version: 1.0-1\n", b"Version: 1.1-1\n")
        self.put("usr/bin/hello", new_binary, 0o755)
        sums = self.read("var/lib/dpkg/info/hello.md5sums").decode()
        lines = []
        for line in sums.splitlines():
            digest, path = line.split(None, 1)
            if path == "usr/bin/hello":
                digest = md5(new_binary)
            lines.append("%s  %s" % (digest, path))
        self.put("var/lib/dpkg/info/hello.md5sums", ("\n".join(lines) + "\n").encode())


class ProbesTest(SystemCase):
    def test_probe_entries_stored_and_a_recheck_is_clean(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        p = self.drift("check", "--root", self.host, code=CLEAN)
        self.assertIn(b"no deviations", p.stdout)
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        kinds = {k for (_, k, _) in blocks.keys(con)}
        con.close()
        # files, packages, users, groups, services, sysctls, modules, ports, mounts
        self.assertEqual(kinds, set(range(1, 10)))

    def test_keys_are_stored_without_the_root(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        keys = [k for (_, _, k) in blocks.keys(con, kind=1)]
        con.close()
        self.assertIn(b"/usr/bin/hello", keys)
        self.assertFalse([k for k in keys if k.startswith(os.fsencode(self.host))])

    def test_user_change_reported_with_the_property(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        passwd = self.read("etc/passwd").decode().splitlines()
        for i, line in enumerate(passwd):
            f = line.split(":")
            if f[0] == "daemon":
                f[6] = "/bin/bash"
                passwd[i] = ":".join(f)
        self.put("etc/passwd", ("\n".join(passwd) + "\n").encode())
        p = self.drift("check", "--root", self.host, "--format", "json", code=MODIFIED)
        users = self.deviations(self.json_of(p), "user")
        self.assertIn("daemon", users, p.stdout)
        self.assertIn("shell", json.dumps(users["daemon"]))
        p = self.drift("check", "--root", self.host, code=MODIFIED)
        self.assertIn(b"user daemon", p.stdout)
        self.assertIn(b"/bin/bash", p.stdout)

    def test_password_change_detected_never_revealed(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        shadow = self.read("etc/shadow").decode().splitlines()
        secret = "$6$newsalt$ThisIsTheNewSecretHashValue0123456789"
        old_hash = None
        for i, line in enumerate(shadow):
            f = line.split(":")
            if f[1].startswith("$"):
                old_hash = f[1]
                f[1] = secret
                shadow[i] = ":".join(f)
                user = f[0]
                break
        self.assertIsNotNone(old_hash, "the fixture needs an account with a password hash")
        self.put("etc/shadow", ("\n".join(shadow) + "\n").encode())
        p = self.drift("check", "--root", self.host, "--format", "json", code=MODIFIED)
        users = self.deviations(self.json_of(p), "user")
        self.assertIn(user, users)
        self.assertIn("password_digest", json.dumps(users[user]))
        t = self.drift("check", "--root", self.host, code=MODIFIED)
        for out in (p.stdout, p.stderr, t.stdout, t.stderr):
            self.assertNotIn(secret.encode(), out)
            self.assertNotIn(old_hash.encode(), out)
        # nor in the database, in any form drift wrote it
        with open(self.db, "rb") as f:
            raw = f.read()
        for name in os.listdir(os.path.dirname(self.db)):
            with open(os.path.join(os.path.dirname(self.db), name), "rb") as f:
                raw += f.read()
        self.assertNotIn(secret.encode(), raw)
        self.assertNotIn(old_hash.encode(), raw)

    def test_new_module_and_listener_escalated(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        with open(self.h("proc/modules"), "a") as f:
            f.write("evilmod 16384 0 - Live 0x0000000000000000 (OE)\n")
        with open(self.h("proc/net/tcp"), "a") as f:
            # 0.0.0.0:4444 LISTEN
            f.write("  99: 00000000:115C 00000000:0000 0A 00000000:00000000 00:00000000 "
                    "00000000     0        0 999999 1 0000000000000000 100 0 0 10 0\n")
        p = self.drift("check", "--root", self.host, "--format", "json", code=ADDED)
        doc = self.json_of(p)
        mods = self.deviations(doc, "module")
        ports = self.deviations(doc, "port")
        self.assertIn("evilmod", mods)
        self.assertIn("tcp/0.0.0.0:4444", ports)
        self.assertIn(mods["evilmod"]["severity"], ("high", "critical"))
        self.assertIn(ports["tcp/0.0.0.0:4444"]["severity"], ("high", "critical"))

    def test_missing_source_is_unavailable_not_a_failure(self):
        shutil.rmtree(self.h("proc"))
        p = self.drift("init", "--root", self.host, code=0)
        p = self.drift("snapshots", code=0)
        self.assertIn(b"baseline", p.stdout)
        # the proc probes are noted as unavailable in a check, which is clean
        doc = self.json_of(self.drift("check", "--root", self.host, "--format", "json",
                                      code=CLEAN))
        self.assertEqual(doc["deviations"], [])
        for side in ("old", "new"):
            self.assertEqual(sorted(doc[side]["probes_unavailable"]),
                             ["module", "mount", "port", "sysctl"], side)
            self.assertIn("user", doc[side]["probes"], side)

    def test_malformed_line_is_a_warning_with_its_position(self):
        n = len(self.read("etc/passwd").splitlines())
        with open(self.h("etc/passwd"), "ab") as f:
            f.write(b"broken-line-without-fields\n")
        p = self.drift("init", "-q", "--root", self.host, code=0)
        self.assertIn(b"etc/passwd:%d:" % (n + 1), p.stderr)
        # the other accounts are still there, and a recheck is clean
        self.drift("check", "-q", "--root", self.host, code=CLEAN)

    def test_paths_given_take_no_probes(self):
        self.drift("init", "-q", "--root", self.host, "/etc", code=0)
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        kinds = {k for (_, k, _) in blocks.keys(con)}
        con.close()
        self.assertEqual(kinds, {1})

    def test_symlinks_resolve_inside_the_root(self):
        # an image's absolute symlink is the image's path, never the host's
        os.symlink("/etc", self.h("escape"))
        self.drift("init", "-q", "--root", self.host, "/escape", "/../../etc", code=0)
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        keys = {k for (_, _, k) in blocks.keys(con, kind=1)}
        con.close()
        self.assertIn(b"/etc/hello.conf", keys)
        host_only = {os.fsencode("/etc/" + n) for n in os.listdir("/etc")} - \
            {os.fsencode("/etc/" + n) for n in os.listdir(self.h("etc"))}
        self.assertFalse(keys & host_only)

    def test_unknown_probe_refused(self):
        p = self.drift("init", "-q", "--root", self.host, "--probes", "package,nosuch",
                       code=E_USAGE)
        self.assertIn(b"nosuch", p.stderr)


class AttributionTest(SystemCase):
    def diff_json(self, *args, code):
        p = self.drift("diff", "--root", self.host, "--format", "json", *args, code=code)
        return self.json_of(p), p

    def test_upgrade_explained_planted_change_is_drift(self):
        self.drift("scan", "-q", "--root", self.host, "--label", "pre", code=0)
        self.upgrade_hello()
        # planted: a file of a package that did not change
        base_file = None
        for line in self.read("var/lib/dpkg/info/basefiles.md5sums").decode().splitlines():
            base_file = line.split(None, 1)[1]
            break
        self.assertIsNotNone(base_file)
        self.put(base_file, b"planted by an intruder\n")
        # an unowned new binary
        self.put("usr/bin/backdoor", b"\x7fELF planted\n", 0o755)
        self.drift("scan", "-q", "--root", self.host, "--label", "post", code=0)
        # the exit code counts drift: the planted change and the new file
        doc, p = self.diff_json("pre", "post", code=ADDED | MODIFIED)
        files = self.deviations(doc, "file")
        hello = files.get("/usr/bin/hello")
        self.assertIsNotNone(hello, p.stdout)
        self.assertEqual(hello["class"], "expected", hello)
        self.assertIn("package hello upgraded 1.0-1 -> 1.1-1", hello["reason"])
        self.assertEqual(hello["package"]["name"], "hello:amd64")
        planted = files.get("/" + base_file)
        self.assertIsNotNone(planted, p.stdout)
        self.assertEqual(planted["class"], "drift")
        backdoor = files.get("/usr/bin/backdoor")
        self.assertIsNotNone(backdoor)
        self.assertTrue(backdoor.get("unowned"))
        self.assertEqual(backdoor["class"], "drift")
        pkgs = self.deviations(doc, "package")
        self.assertIn("hello:amd64", pkgs)
        text = self.drift("diff", "--root", self.host, "pre", "post", code=ADDED | MODIFIED).stdout
        self.assertIn(b"package hello upgraded 1.0-1 -> 1.1-1", text)
        self.assertIn(b"not owned by any package", text)

    def test_upgraded_file_not_matching_its_package_is_drift(self):
        self.drift("scan", "-q", "--root", self.host, "--label", "pre", code=0)
        self.upgrade_hello()
        # the upgrade's md5sums say one thing, the file on disk is another
        self.put("usr/bin/hello", b"#!/bin/sh\necho trojaned\n", 0o755)
        self.drift("scan", "-q", "--root", self.host, "--label", "post", code=0)
        doc, p = self.diff_json("pre", "post", code=MODIFIED)
        hello = self.deviations(doc, "file")["/usr/bin/hello"]
        self.assertEqual(hello["class"], "drift")
        self.assertIn("does not match package hello 1.1-1", hello["reason"])

    def upgraded_pair(self, tamper, code):
        self.drift("scan", "-q", "--root", self.host, "--label", "pre", code=0)
        self.upgrade_hello()
        tamper()
        self.drift("scan", "-q", "--root", self.host, "--label", "post", code=0)
        doc, p = self.diff_json("pre", "post", code=code)
        return self.deviations(doc, "file"), p

    def test_upgrade_does_not_excuse_a_symlink_for_a_shipped_file(self):
        def tamper():
            os.unlink(self.h("usr/bin/hello"))
            os.symlink("/tmp/evil", self.h("usr/bin/hello"))
        files, p = self.upgraded_pair(tamper, MODIFIED)
        self.assertEqual(files["/usr/bin/hello"]["class"], "drift", p.stdout)

    def test_upgrade_does_not_excuse_removing_a_file_it_still_ships(self):
        files, p = self.upgraded_pair(lambda: os.unlink(self.h("usr/bin/hello")),
                                      REMOVED | MODIFIED)
        self.assertEqual(files["/usr/bin/hello"]["class"], "drift", p.stdout)
        self.assertIn("still ships it", files["/usr/bin/hello"]["reason"])

    def test_upgrade_does_not_excuse_a_new_setuid_bit(self):
        files, p = self.upgraded_pair(lambda: os.chmod(self.h("usr/bin/hello"), 0o4755),
                                      MODIFIED)
        self.assertEqual(files["/usr/bin/hello"]["class"], "drift", p.stdout)

    def test_unreadable_list_is_read_again_later(self):
        lst = self.h("var/lib/dpkg/info/hello.list")
        os.rename(lst, lst + ".away")
        os.mkdir(lst)
        self.drift("scan", "-q", "--root", self.host, "--label", "first", code=0)
        os.rmdir(lst)
        os.rename(lst + ".away", lst)
        files, p = self.upgraded_pair(lambda: None, MODIFIED)
        self.assertEqual(files["/usr/bin/hello"]["class"], "expected", p.stdout)

    def test_package_without_version_does_not_fail_the_scan(self):
        status = self.read("var/lib/dpkg/status")
        with open(self.h("var/lib/dpkg/status"), "ab") as f:
            f.write(b"\nPackage: noversion\nStatus: deinstall ok config-files\n"
                    b"Architecture: amd64\n")
        p = self.drift("init", "--root", self.host, code=0)
        self.assertNotIn(b"noversion", p.stderr, "a config-files package needs no version")
        doc = self.json_of(self.drift("check", "--root", self.host, "--format", "json",
                                      code=CLEAN))
        self.assertEqual(doc["deviations"], [])
        # It is in the baseline: purged, it is a removed package.
        self.put("var/lib/dpkg/status", status)
        doc = self.json_of(self.drift("check", "--root", self.host, "--format", "json",
                                      code=REMOVED))
        pkgs = self.deviations(doc, "package")
        self.assertEqual(sorted(pkgs), ["noversion:amd64"], doc["deviations"])
        self.assertEqual(pkgs["noversion:amd64"]["change"], "removed")
        self.assertEqual(pkgs["noversion:amd64"]["old"]["props"],
                         {"architecture": "amd64", "status": "deinstall ok config-files",
                          "version": ""})

    def test_conffile_locally_modified(self):
        self.drift("scan", "-q", "--root", self.host, "--label", "pre", code=0)
        with open(self.h("etc/hello.conf"), "ab") as f:
            f.write(b"# local change\n")
        self.drift("scan", "-q", "--root", self.host, "--label", "post", code=0)
        doc, p = self.diff_json("pre", "post", code=MODIFIED)
        conf = self.deviations(doc, "file")["/etc/hello.conf"]
        self.assertEqual(conf["class"], "drift")
        self.assertIn("locally modified configuration", conf["reason"])
        self.assertEqual(conf["severity"], "low")

    def test_last_upgrade_uses_the_hook_pair(self):
        self.drift("diff", "--last-upgrade", code=drifttest.E_NO_BASELINE)
        self.drift("scan", "-q", "--root", self.host, "--upgrade", "pre", code=0)
        self.upgrade_hello()
        self.drift("scan", "-q", "--root", self.host, "--upgrade", "post", code=0)
        p = self.drift("snapshots", code=0)
        self.assertRegex(p.stdout, rb"apt-\d{8}T\d{6}Z-pre")
        self.assertRegex(p.stdout, rb"apt-\d{8}T\d{6}Z-post")
        # nothing but the upgrade: no drift counted
        doc, p = self.diff_json("--last-upgrade", code=CLEAN)
        hello = self.deviations(doc, "file")["/usr/bin/hello"]
        self.assertEqual(hello["class"], "expected")

    def test_last_upgrade_never_pairs_across_runs(self):
        self.drift("scan", "-q", "--root", self.host, "--upgrade", "pre", code=0)
        self.drift("scan", "-q", "--root", self.host, "--upgrade", "post", code=0)
        # the next run's pre is missing (its hook failed): its post has no pair
        self.upgrade_hello()
        self.drift("scan", "-q", "--root", self.host, "--upgrade", "post", code=0)
        p = self.drift("diff", "--last-upgrade", code=drifttest.E_NO_BASELINE)
        self.assertIn(b"no -pre of its own", p.stderr)
        self.drift("scan", "-q", "--upgrade", "pre", "--keep", "1", code=E_USAGE)

    def test_check_attributes_against_the_baseline(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        self.upgrade_hello()
        p = self.drift("check", "--root", self.host, "--format", "json", code=MODIFIED)
        hello = self.deviations(self.json_of(p), "file")["/usr/bin/hello"]
        self.assertEqual(hello["class"], "expected")


class VerifyTest(SystemCase):
    def test_clean_fixture_verifies(self):
        p = self.drift("verify", "--root", self.host, code=CLEAN)
        self.assertEqual(len(p.stdout.splitlines()), 1, p.stdout)

    def test_changed_missing_and_conffile(self):
        with open(self.h("usr/bin/hello"), "ab") as f:
            f.write(b"# tampered\n")
        os.unlink(self.h("usr/share/doc/hello/copyright"))
        with open(self.h("etc/hello.conf"), "ab") as f:
            f.write(b"# local\n")
        p = self.drift("verify", "--root", self.host, "--format", "json",
                       code=REMOVED | MODIFIED)
        files = self.deviations(self.json_of(p), "file")
        self.assertEqual(files["/usr/bin/hello"]["change"], "modified")
        self.assertEqual(files["/usr/bin/hello"]["package"]["name"], "hello:amd64")
        self.assertEqual(files["/usr/share/doc/hello/copyright"]["change"], "removed")
        self.assertIn("locally modified configuration", files["/etc/hello.conf"]["reason"])
        text = self.drift("verify", "--root", self.host, code=REMOVED | MODIFIED).stdout
        self.assertIn(b"/usr/bin/hello", text)

    def test_unowned_lists_files_no_package_owns(self):
        self.put("usr/bin/backdoor", b"planted\n", 0o755)
        p = self.drift("verify", "--unowned", "--root", self.host, "--format", "json",
                       code=ADDED)
        files = self.deviations(self.json_of(p), "file")
        self.assertIn("/usr/bin/backdoor", files)
        self.assertTrue(files["/usr/bin/backdoor"].get("unowned"))
        self.assertNotIn("/usr/bin/hello", files)
        # without --unowned, only the packages' own files are looked at
        p = self.drift("verify", "--root", self.host, code=CLEAN)

    def test_no_dpkg_database(self):
        shutil.rmtree(self.h("var/lib/dpkg"))
        p = self.drift("verify", "--root", self.host, code=drifttest.E_NO_BASELINE)
        # (a root-relative path, as for every file a probe reads)
        self.assertEqual(p.stderr,
                         b"drift: no dpkg database: 'var/lib/dpkg/status' does not exist\n")
        self.assertEqual(p.stdout, b"")


if __name__ == "__main__":
    drifttest.run_tap(__name__)
