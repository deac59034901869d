#!/usr/bin/env python3
"""The policy: what is scanned, what matters, and how much."""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (ADDED, CLEAN, E_POLICY, E_DB, MODIFIED, DriftCase, by_path,  # noqa: E402
                       run_tap)


class Policy(DriftCase):

    def policy_for(self, rules):
        """A policy whose rules are relative to the test's root."""
        return rules.replace("ROOT", self.root)

    def check(self, code):
        p = self.drift("check", "--format", "json", code=code)
        return json.loads(p.stdout)

    def test_log_that_grew_is_expected_one_that_shrank_is_drift(self):
        self.set_policy(self.policy_for("""\
rules:
  - id: logs
    path: ROOT/log
    check: log
    severity: low
"""))
        grew = self.write("log/grew.log", "line 1\n")
        shrank = self.write("log/shrank.log", "line 1\nline 2\n")
        self.init()
        with open(grew, "a") as f:
            f.write("line 2\n")
        with open(shrank, "w") as f:
            f.write("x\n")
        doc = self.check(MODIFIED)
        got = by_path(doc)
        self.assertEqual(got[grew.encode()]["class"], "expected")
        self.assertEqual(got[shrank.encode()]["class"], "drift")
        self.assertIn("shr", got[shrank.encode()]["reason"])
        self.assertEqual(got[shrank.encode()]["rule"]["id"], "logs")
        self.assertEqual(got[shrank.encode()]["severity"], "low")

    def test_expected_change_does_not_count_in_exit_code(self):
        self.set_policy(self.policy_for("""\
rules:
  - id: conf
    path: ROOT/etc
    check: static
    expect: [mtime]
"""))
        f = self.write("etc/motd", "hello\n")
        self.init()
        os.utime(f, (1_700_000_000, 1_700_000_000))
        doc = self.check(CLEAN)
        [d] = doc["deviations"]
        self.assertEqual((d["class"], d["attributes"]), ("expected", ["mtime"]))
        self.assertEqual(doc["summary"]["expected"], 1)
        # ...unless asked.
        self.drift("check", "--count-expected", code=MODIFIED)

    def test_new_elf_binary_in_low_directory_is_escalated(self):
        self.set_policy(self.policy_for("""\
rules:
  - id: scratch
    path: ROOT/opt
    severity: low
    magic: true
"""))
        self.write("opt/readme.txt", "notes\n")
        self.init()
        elf = self.path("opt/helper")
        shutil.copyfile("/bin/true", elf)
        txt = self.write("opt/more.txt", "more notes\n")
        doc = self.check(ADDED)
        got = by_path(doc)
        self.assertEqual(got[txt.encode()]["severity"], "low")
        self.assertIn(got[elf.encode()]["severity"], ("high", "critical"))
        self.assertIn("ELF", got[elf.encode()]["reason"])

    def test_file_no_rule_covers_is_not_scanned(self):
        self.set_policy(self.policy_for("""\
rules:
  - id: covered
    path: ROOT/covered
"""))
        self.write("covered/a", "1")
        other = self.write("elsewhere/b", "2")
        self.init()
        self.write("elsewhere/b", "changed")
        self.write("elsewhere/new", "new")
        self.drift("check", code=CLEAN)
        # Not in the snapshot at all: a diff against an all-covering scan adds it.
        snaps = json.loads(self.drift("snapshots", "--format", "json", code=0).stdout)
        # covered and covered/a; the root itself is walked through, not recorded.
        self.assertEqual(snaps["snapshots"][0]["entries"], 2)
        self.assertTrue(os.path.exists(other))

    def test_rule_exclude_and_last_match_wins(self):
        self.set_policy(self.policy_for("""\
rules:
  - id: all
    path: ROOT
    severity: medium
  - id: secrets
    path: ROOT/etc/secret*
    severity: critical
  - id: skip
    path: ROOT/cache
    exclude: true
"""))
        s = self.write("etc/secret.key", "k1")
        self.write("etc/other", "o")
        self.write("cache/x", "1")
        self.init()
        self.write("etc/secret.key", "k2")
        self.write("cache/x", "22")
        doc = self.check(MODIFIED)
        got = by_path(doc)
        self.assertEqual(sorted(got), [s.encode()])
        self.assertEqual(got[s.encode()]["severity"], "critical")
        self.assertEqual(got[s.encode()]["rule"]["id"], "secrets")

    def test_policy_check_reports_every_problem_with_position(self):
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("rules:\n  - path: /etc\n    severity: extreme\n  - path: /usr\n    chek: static\n")
        p = self.drift("policy", "check", bad, code=E_POLICY)
        err = p.stderr.decode()
        self.assertRegex(err, r"bad\.yaml:3:\d+: .*extreme")
        self.assertRegex(err, r"bad\.yaml:5:\d+: .*chek")
        p = self.drift("policy", "check", self.policy, code=0)
        # A command using a bad policy fails with the policy's code before scanning.
        self.set_policy("rules: [")
        self.drift("init", self.root, code=E_POLICY)
        self.assertFalse(os.path.exists(self.db))

    def test_policy_check_warns_and_still_exits_0(self):
        # The policy of the report: users probed, no rule of kind user, and
        # `policy check` said ok; a specific rule before a general one too.
        p = os.path.join(self.tmp, "p.yaml")
        with open(p, "w") as f:
            f.write("scan:\n"
                    "  probes: [user]\n"
                    "rules:\n"
                    "  - {id: ssh, path: /etc/ssh, severity: critical}\n"
                    "  - {id: etc, path: /etc}\n")
        r = self.drift("policy", "check", p, code=0)
        err = r.stderr.decode()
        self.assertEqual(err.splitlines(), [
            p + ":2:12: warning: probe 'user' is enabled, but no rule covers kind 'user' or "
            "'group': nothing it collects is recorded (add a rule with 'kind: user' and one "
            "with 'kind: group', or drop the probe from scan.probes)",
            p + ":4:5: warning: rule 'ssh' never decides anything: the later rule 'etc' "
            "(line 5) matches all it matches, and the last matching rule wins",
        ])
        self.assertEqual(r.stdout.decode(), p + ": ok (2 warnings)\n")
        # The policy drift would use, through --policy: the same warnings.
        r = self.drift("policy", "check", "--policy", p, code=0)
        self.assertEqual(r.stderr.decode(), err)
        # -q: only problems and warnings.
        r = self.drift("policy", "check", "-q", p, code=0)
        self.assertEqual((r.stdout, r.stderr.decode()), (b"", err))
        # Warnings are not problems: a problem still fails, with its code.
        with open(p, "a") as f:
            f.write("  - {id: x, path: /x, severity: hihg}\n")
        r = self.drift("policy", "check", p, code=E_POLICY)
        self.assertNotIn(b"warning", r.stderr)

    def test_builtin_policy_checks_clean(self):
        r = self.drift("policy", "check", "--policy", "builtin", code=0)
        self.assertEqual((r.stdout, r.stderr), (b"(built-in): ok\n", b""))

    def test_policy_show_is_a_valid_policy(self):
        p = self.drift("policy", "show", code=0)
        shown = os.path.join(self.tmp, "shown.yaml")
        with open(shown, "wb") as f:
            f.write(p.stdout)
        self.drift("policy", "check", shown, code=0)
        p = self.drift("policy", "show", "--policy", "builtin", code=0)
        self.assertIn(b"rules:", p.stdout)

    def test_check_under_another_policy_says_so(self):
        self.write("etc/a", "1")
        self.init()
        self.set_policy(self.policy_for("""\
rules:
  - id: content
    path: ROOT
    check: [type, hash]
"""))
        doc = self.check(CLEAN)
        self.assertTrue(doc["policy"]["changed"])
        p = self.drift("check", code=CLEAN)
        self.assertIn(b"another policy", p.stdout)

    def test_strict_modes_refuse_policy_others_can_write(self):
        if os.geteuid() != 0:
            self.skipTest("StrictModes apply to root")
        os.chmod(self.policy, 0o666)
        p = self.drift("init", self.root, code=E_POLICY)
        self.assertIn(b"writable by others", p.stderr)
        self.drift("init", "-q", "--allow-insecure", self.root, code=0)
        os.chmod(self.policy, 0o644)
        os.chmod(os.path.dirname(self.db), 0o777)
        p = self.drift("check", code=E_DB)
        self.assertIn(b"database", p.stderr)

    def test_text_report_groups_by_severity(self):
        self.set_policy(self.policy_for("""\
rules:
  - id: low-stuff
    path: ROOT/low
    severity: low
  - id: crit-stuff
    path: ROOT/crit
    severity: critical
"""))
        a = self.write("low/a", "1")
        b = self.write("crit/b", "1")
        self.init()
        self.write("low/a", "22")
        self.write("crit/b", "22")
        out = self.drift("check", code=MODIFIED).stdout.decode()
        self.assertLess(out.index("critical (1):"), out.index("low (1):"))
        self.assertLess(out.index(b), out.index(a))
        self.assertIn("[crit-stuff]", out)


if __name__ == "__main__":
    run_tap(__name__)
