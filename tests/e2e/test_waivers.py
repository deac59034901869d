#!/usr/bin/env python3
"""Waivers: `drift waive` pins a finding of a stored run, `drift check` reports
it waived (listed and counted, not in the exit code) until the entry changes
again or the waiver expires; `drift waivers [list|lint]` look after the file."""
import json
import os
import re
import subprocess

import drifttest
from drifttest import CLEAN, E_POLICY, E_USAGE, MODIFIED, ADDED, REMOVED
from test_system import SystemCase


class WaiversTest(drifttest.DriftCase):
    def setUp(self):
        super().setUp()
        self.waivers = os.path.join(self.tmp, "conf", "waivers.yaml")
        self.write("etc/foo.conf", "original\n")
        self.write("etc/bar.conf", "bar\n")
        self.init()

    def check(self, *args, code):
        return self.drift("check", "--waivers", self.waivers, "--color", "never", *args,
                          code=code)

    def check_json(self, code):
        p = self.check("--format", "json", code=code)
        return json.loads(p.stdout)

    def waive(self, *args, code=CLEAN):
        return self.drift("waive", "--waivers", self.waivers, *args, code=code)

    def runs(self):
        return json.loads(self.drift("runs", "--format", "json", code=CLEAN).stdout)["runs"]

    def first_check(self):
        """foo.conf modified; a check run stored without waivers (an empty file)."""
        os.makedirs(os.path.dirname(self.waivers), exist_ok=True)
        with open(self.waivers, "w") as f:
            f.write("# reviewed by the ops team\nwaivers:\n")
        self.write("etc/foo.conf", "vendor hotfix\n")
        self.check(code=MODIFIED)

    def test_waived_finding_is_counted_but_not_in_exit_code(self):
        self.first_check()
        p = self.waive("--reason", "vendor hotfix, ticket 123", "--expires", "2099-01-31",
                       self.path("etc/foo.conf"))
        self.assertIn(b"1 finding waived until 2099-01-31", p.stderr)
        text = self.check(code=CLEAN)
        self.assertIn(b"1 waived; 0 drift", text.stdout)
        self.assertIn(b"waived (1):", text.stdout)
        self.assertIn(b"waived until 2099-01-31 by ", text.stdout)
        self.assertIn(b": vendor hotfix, ticket 123", text.stdout)
        doc = self.check_json(code=CLEAN)
        self.assertEqual(doc["summary"]["waived"], 1)
        self.assertEqual(doc["summary"]["drift"], 0)
        (d,) = doc["deviations"]
        self.assertEqual(d["class"], "waived")
        # The stored run says so again, unchanged.
        run = self.runs()[-1]
        again = self.drift("report", str(run["id"]), "--format", "json", code=CLEAN)
        self.assertEqual(json.loads(again.stdout)["deviations"], doc["deviations"])
        # Listed active against the newest run.
        lst = json.loads(self.drift("waivers", "--waivers", self.waivers, "--format", "json",
                                    code=CLEAN).stdout)
        (w,) = lst["waivers"]
        self.assertEqual(w["state"], "active")
        self.assertEqual(w["key"], self.path("etc/foo.conf"))
        self.assertIn("hash", w["pin"])

    def test_change_again_lapses(self):
        self.first_check()
        self.waive("--reason", "hotfix", "--expires", "+30d", self.path("etc/foo.conf"))
        self.check(code=CLEAN)
        self.write("etc/foo.conf", "changed once more\n")
        p = self.check(code=MODIFIED)
        self.assertIn(b"waiver lapsed: hash changed since it was waived", p.stdout)
        doc = self.check_json(code=MODIFIED)
        self.assertEqual(doc["deviations"][0]["class"], "drift")
        lst = self.drift("waivers", "--waivers", self.waivers, code=CLEAN)
        self.assertIn(b"lapsed", lst.stdout)

    def test_expired_waiver_is_reported_again(self):
        self.first_check()
        p = self.waive("--reason", "old", "--expires", "2020-01-01", self.path("etc/foo.conf"))
        self.assertIn(b"in the past", p.stderr)
        p = self.check(code=MODIFIED)
        self.assertIn(b"waiver expired on 2020-01-01", p.stdout)
        self.assertNotIn(b"waived (", p.stdout)
        lint = self.drift("waivers", "--waivers", self.waivers, "lint", code=E_POLICY)
        self.assertIn(b"expired on 2020-01-01", lint.stderr)
        self.assertRegex(lint.stderr, rb"waivers\.yaml:3:5: ")

    def test_malformed_file_fails_check_before_the_scan(self):
        self.first_check()
        nruns = len(self.runs())
        with open(self.waivers, "a") as f:
            f.write("  - path: /x\n    reason: r\n    expires: someday\n")
        p = self.check(code=E_POLICY)
        self.assertIn(b"waivers.yaml:5:14: bad date 'someday'", p.stderr)
        self.assertEqual(len(self.runs()), nruns)      # no scan, no run
        self.drift("waivers", "--waivers", self.waivers, "lint", code=E_POLICY)
        self.drift("diff", "--waivers", self.waivers, "1", "2", code=E_POLICY)
        with open(self.waivers, "w") as f:
            f.write("waivers:\n  - path: /x\n   reason: [\n")
        p = self.check(code=E_POLICY)
        self.assertIn(b"invalid YAML", p.stderr)

    def test_root_refuses_waivers_others_can_write(self):
        if os.geteuid() != 0:
            self.skipTest("StrictModes apply to root only")
        self.first_check()
        os.chmod(self.waivers, 0o666)
        p = self.check(code=E_POLICY)
        w = self.waivers.encode()
        self.assertIn(b"refusing waivers '%s': '%s' is writable by others" % (w, w), p.stderr)
        self.assertEqual(p.stdout, b"", "no report under refused waivers")
        self.check("--allow-insecure", code=MODIFIED)
        os.chmod(self.waivers, 0o644)
        self.check(code=MODIFIED)

    def test_missing_named_file_is_an_error(self):
        p = self.check(code=E_POLICY)
        self.assertIn(b"cannot open waivers '%s': No such file or directory"
                      % self.waivers.encode(), p.stderr)
        self.assertFalse(os.path.exists(self.waivers), "a check never creates the file")

    def test_missing_default_file_is_no_waivers(self):
        # As root the default is /etc/drift/waivers.yaml, the host's: drift runs as nobody.
        self.as_unprivileged()
        env = {"XDG_CONFIG_HOME": os.path.join(self.tmp, "xdg")}
        self.write("etc/foo.conf", "vendor hotfix\n")
        self.drift("check", code=MODIFIED, env=env)
        self.drift("waive", "--reason", "r", "--expires", "+1d", self.path("etc/foo.conf"),
                   code=CLEAN, env=env)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "xdg", "drift", "waivers.yaml")))
        self.drift("check", code=CLEAN, env=env)

    def test_lint_exit_codes(self):
        os.makedirs(os.path.dirname(self.waivers), exist_ok=True)
        with open(self.waivers, "w") as f:
            f.write("waivers:\n  - path: /etc/a\n    reason: r\n    expires: 2099-12-31\n")
        p = self.drift("waivers", "--waivers", self.waivers, "lint", code=CLEAN)
        self.assertIn(b"1 waiver", p.stderr)
        with open(self.waivers, "a") as f:
            f.write("  - pattern: /etc/*\n    pin: {hash: \"00\"}\n    reason: r\n"
                    "    expires: 2099-12-31\n    colour: blue\n")
        p = self.drift("waivers", "--waivers", self.waivers, "lint", code=E_POLICY)
        lines = [l for l in p.stderr.splitlines() if re.match(rb".*waivers\.yaml:\d+:\d+: ", l)]
        self.assertEqual(len(lines), 2, p.stderr)       # one problem a line
        self.assertIn(b"unknown key 'colour'", p.stderr)
        self.assertIn(b"pattern cannot be pinned", p.stderr)
        self.drift("waivers", "--waivers", self.waivers, "bogus", code=E_USAGE)

    def test_dry_run_writes_nothing(self):
        self.first_check()
        before = open(self.waivers, "rb").read()
        p = self.waive("--dry-run", "--reason", "r", "--expires", "2099-01-01",
                       self.path("etc/foo.conf"))
        self.assertIn(b"kind: file", p.stdout)
        self.assertIn(b"hash: ", p.stdout)
        # A key given twice (as a path, and as file:PATH) names its finding once.
        p = self.waive("--dry-run", "--reason", "r", "--expires", "2099-01-01",
                       self.path("etc/foo.conf"), "file:" + self.path("etc/foo.conf"))
        self.assertEqual(p.stdout.count(b"kind: file"), 1)
        self.assertIn(b"not written", p.stderr)
        self.assertEqual(open(self.waivers, "rb").read(), before)
        # A file that does not exist yet is not created either.
        other = os.path.join(self.tmp, "none", "w.yaml")
        self.drift("waive", "--waivers", other, "--dry-run", "--reason", "r", "--expires",
                   "+1d", self.path("etc/foo.conf"), code=CLEAN)
        self.assertFalse(os.path.exists(os.path.dirname(other)))

    def test_comments_kept_and_all_or_nothing(self):
        self.first_check()
        self.write("etc/new.conf", "new\n")
        self.check(code=ADDED | MODIFIED)
        # A key that names no finding: nothing written, for any key.
        before = open(self.waivers, "rb").read()
        p = self.waive("--reason", "r", "--expires", "+1d", self.path("etc/foo.conf"),
                       self.path("etc/bar.conf"), code=E_USAGE)
        self.assertIn(b"is not a finding of run", p.stderr)
        self.assertEqual(open(self.waivers, "rb").read(), before)
        self.waive("--reason", "both", "--expires", "+1d", self.path("etc/foo.conf"),
                   self.path("etc/new.conf"))
        text = open(self.waivers, "rb").read()
        self.assertTrue(text.startswith(before), text)
        self.assertIn(b"# reviewed by the ops team", text)
        self.assertEqual(text.count(b"- kind: file"), 2)
        self.assertEqual(os.stat(self.waivers).st_mode & 0o777, 0o644)
        self.check(code=CLEAN)
        # The required options.
        self.waive("--expires", "+1d", self.path("etc/foo.conf"), code=E_USAGE)
        self.waive("--reason", "r", self.path("etc/foo.conf"), code=E_USAGE)
        self.waive("--reason", "r", "--expires", "next week", self.path("etc/foo.conf"),
                   code=E_USAGE)

    def test_concurrent_waives_keep_each_other(self):
        self.first_check()
        self.write("etc/new.conf", "new\n")
        self.check(code=ADDED | MODIFIED)
        for i in range(4):
            procs = [subprocess.Popen(
                [drifttest.DRIFT, "waive", "--db=" + self.db, "--waivers", self.waivers,
                 "-q", "--reason", "round %d" % i, "--expires", "+1d", self.path(name)],
                env=drifttest.env_for_drift(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for name in ("etc/foo.conf", "etc/new.conf")]
            for p in procs:
                out, err = p.communicate(timeout=60)
                self.assertEqual(p.returncode, CLEAN, err)
        text = open(self.waivers).read()
        self.assertEqual(text.count("- kind: file"), 8, text)
        self.drift("waivers", "--waivers", self.waivers, "lint", code=CLEAN)

    def test_waive_creates_the_file_and_its_directory(self):
        self.write("etc/foo.conf", "vendor hotfix\n")
        fresh = os.path.join(self.tmp, "new", "dir", "waivers.yaml")
        os.makedirs(os.path.dirname(self.waivers), exist_ok=True)
        open(self.waivers, "w").close()
        self.check(code=MODIFIED)
        self.drift("waive", "--waivers", fresh, "--reason", "r", "--expires", "+7d",
                   self.path("etc/foo.conf"), code=CLEAN)
        self.assertEqual(os.stat(fresh).st_mode & 0o777, 0o644)
        self.assertTrue(open(fresh, "rb").read().startswith(b"waivers:\n  - kind: file\n"))
        self.drift("check", "--waivers", fresh, code=CLEAN)


class PackageWaiverTest(SystemCase):
    def test_package_waiver_lapses_on_upgrade(self):
        waivers = os.path.join(self.tmp, "waivers.yaml")
        self.drift("init", "-q", "--root", self.host, code=CLEAN)
        self.upgrade_hello()
        p = self.drift("check", "--root", self.host, "--waivers", waivers + ".none",
                       code=E_POLICY)
        with open(waivers, "w") as f:
            f.write("# none yet\n")
        doc = self.json_of(self.drift("check", "--root", self.host, "--format", "json",
                                      "--waivers", waivers, code=MODIFIED))
        pkg = self.deviations(doc, "package")
        (key,) = [k for k in pkg if k.startswith("hello:")]
        self.assertEqual(pkg[key]["class"], "drift")
        self.drift("waive", "--waivers", waivers, "--reason", "testing 1.1", "--expires",
                   "+30d", "package:hello", code=CLEAN)
        text = open(waivers).read()
        self.assertIn('kind: package\n    key: "%s"' % key, text)
        self.assertIn('version: "1.1-1"', text)
        doc = self.json_of(self.drift("check", "--root", self.host, "--format", "json",
                                      "--waivers", waivers, code=CLEAN))
        self.assertEqual(self.deviations(doc, "package")[key]["class"], "waived")
        # Upgraded again: the waiver pinned 1.1-1, so it lapses.
        self.sub("var/lib/dpkg/status", b"Version: 1.1-1\n", b"Version: 1.2-1\n")
        doc = self.json_of(self.drift("check", "--root", self.host, "--format", "json",
                                      "--waivers", waivers, code=MODIFIED))
        d = self.deviations(doc, "package")[key]
        self.assertEqual(d["class"], "drift")
        self.assertIn("waiver lapsed: package upgraded since it was waived (1.1-1 -> 1.2-1)",
                      d["reason"])

    def test_verify_applies_waivers(self):
        waivers = os.path.join(self.tmp, "waivers.yaml")
        with open(waivers, "w") as f:
            f.write("waivers:\n")
        self.drift("init", "-q", "--root", self.host, code=CLEAN)   # where verify runs go
        with open(self.h("usr/bin/hello"), "ab") as f:
            f.write(b"# tampered\n")
        os.unlink(self.h("usr/share/doc/hello/copyright"))
        self.drift("verify", "--root", self.host, "--waivers", waivers,
                   code=REMOVED | MODIFIED)
        self.drift("waive", "--waivers", waivers, "--reason", "local build", "--expires",
                   "+1d", "/usr/bin/hello", code=CLEAN)
        doc = self.json_of(self.drift("verify", "--root", self.host, "--format", "json",
                                      "--waivers", waivers, code=REMOVED))
        files = self.deviations(doc, "file")
        self.assertEqual(files["/usr/bin/hello"]["class"], "waived")
        self.assertEqual(files["/usr/share/doc/hello/copyright"]["class"], "drift")
        with open(self.h("usr/bin/hello"), "ab") as f:
            f.write(b"# and again\n")
        doc = self.json_of(self.drift("verify", "--root", self.host, "--format", "json",
                                      "--waivers", waivers, code=REMOVED | MODIFIED))
        self.assertIn("waiver lapsed", self.deviations(doc, "file")["/usr/bin/hello"]["reason"])


if __name__ == "__main__":
    drifttest.run_tap(__name__)
