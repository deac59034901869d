#!/usr/bin/env python3
"""The policy: what is scanned, what matters, and how much."""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (ADDED, CLEAN, E_POLICY, E_DB, E_USAGE, MODIFIED, DriftCase,  # noqa: E402
                       by_path, run_tap)


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
        r = self.drift("policy", "check", shown, code=0)
        self.assertTrue(r.stdout.startswith(shown.encode() + b": ok"), r.stdout)
        # The shown form warns of what the policy shown warns of (the test's
        # has no rule for the probes that are on by default).
        o = self.drift("policy", "check", self.policy, code=0)
        self.assertEqual(r.stdout.replace(shown.encode(), b"P"),
                         o.stdout.replace(self.policy.encode(), b"P"))
        self.assertEqual([l.split(b"warning: probe ")[1].split()[0]
                          for l in r.stderr.splitlines()],
                         [l.split(b"warning: probe ")[1].split()[0]
                          for l in o.stderr.splitlines()])
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
        self.assertIn(b"refusing database '%s': '%s' is writable by others"
                      % (self.db.encode(), os.path.dirname(self.db).encode()), p.stderr)
        self.assertEqual(p.stdout, b"", "no report from a refused database")

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


FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "host")


class Explain(DriftCase):
    """drift policy explain: which rule decides, and why."""

    policy_text = """\
scan:
  roots: [/etc, /srv]
  exclude: [/srv/cache]
  probes: [user]
rules:
  - {id: all, path: /, check: perms}
  - id: etc
    title: Configuration
    path: /etc
    severity: high
  - {id: ssh, path: /etc/ssh, expect: [hash, size, mtime], severity: critical}
  - {id: tmp, path: /etc/tmp, exclude: true}
  - {id: root, kind: user, key: "=root", severity: critical}
"""

    def test_explain_names_the_decisive_rule_and_what_it_overrides(self):
        p = self.drift("policy", "explain", "/etc/ssh/sshd_config", code=0)
        self.assertEqual(p.stderr, b"")
        pol = self.policy
        self.assertEqual(p.stdout.decode(), (
            "/etc/ssh/sshd_config: covered by rule 'ssh'\n"
            "  rule:      'ssh' at %s:11, path /etc/ssh\n"
            "  why:       the last matching rule of files wins; it overrides 2 earlier ones "
            "that match too:\n"
            "             'all' at %s:6, path /\n"
            "             'etc' at %s:7, path /etc\n"
            "  checks:    type, mode, uid, gid, size, mtime, rdev, target, hash\n"
            "  expects:   size, mtime, hash: a change of these alone is expected\n"
            "  severity:  critical (added: critical)\n"
            "  magic:     no\n"
            "  content:   not kept\n") % (pol, pol, pol))

    def test_explain_excluded_uncovered_and_kinds(self):
        p = self.drift("policy", "explain", "/etc/tmp/x", "/srv/cache/y", "/opt/z",
                       "user:root", "group:adm", code=0)
        out = p.stdout.decode()
        self.assertIn("/etc/tmp/x: excluded by rule 'tmp'\n", out)
        self.assertIn("  otherwise: 'etc' at %s:7, path /etc would cover it\n" % self.policy, out)
        self.assertIn("/srv/cache/y: excluded by scan.exclude '/srv/cache' (%s)\n" % self.policy,
                      out)
        self.assertIn("/opt/z: covered by rule 'all'\n", out)
        self.assertIn("  roots:     not below a scan root (/etc, /srv): only a root given on "
                      "the command line reaches it\n", out)
        self.assertIn("user:root: covered by rule 'root'\n", out)
        self.assertIn("group:adm: covered by no rule of kind group: not recorded\n"
                      "  probe:     user, which runs\n", out)

    def test_explain_json(self):
        p = self.drift("policy", "explain", "--format", "json", "/etc/ssh/x", "/etc/tmp",
                       "user:nobody", code=0)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["policy"], self.policy)
        ssh, tmp, nobody = doc["explanations"]
        self.assertEqual((ssh["decision"], ssh["rule"]["id"], ssh["rule"]["line"]),
                         ("covered", "ssh", 11))
        self.assertEqual([r["id"] for r in ssh["overridden"]], ["all", "etc"])
        self.assertEqual(ssh["rule"]["expect"], ["size", "mtime", "hash"])
        self.assertEqual((tmp["decision"], tmp["excluded_by"]["id"], tmp["unless_excluded"]["id"]),
                         ("excluded", "tmp", "etc"))
        self.assertEqual((nobody["decision"], nobody["probe"], nobody["probe_runs"]),
                         ("uncovered", "user", True))

    def test_explain_refuses_malformed_operands(self):
        for bad in ("etc/passwd", "usr:root", "user:", "user:/root", "mount:boot",
                    "/etc/../shadow"):
            p = self.drift("policy", "explain", bad, code=E_USAGE)
            self.assertEqual(p.stdout, b"", bad)
            self.assertIn(b"drift policy explain: ", p.stderr)
        # One bad operand among good ones: nothing is explained.
        p = self.drift("policy", "explain", "/etc", "nope", code=E_USAGE)
        self.assertEqual(p.stdout, b"")
        self.drift("policy", "explain", code=E_USAGE)
        # A policy with problems: its own exit code.
        self.set_policy("rules: [{path: /etc, severity: hihg}]\n")
        self.drift("policy", "explain", "/etc", code=E_POLICY)
        # --format is for explain only.
        self.drift("policy", "show", "--format", "json", code=E_USAGE)


class ExtendsBuiltin(DriftCase):
    """A local policy of one rule on top of the built-in one, on a fixture host."""

    def setUp(self):
        super().setUp()
        self.host = os.path.join(self.tmp, "host")
        shutil.copytree(FIXTURE, self.host, symlinks=True)
        self.put("etc/motd", b"welcome\n")
        self.set_policy("extends: builtin\n"
                        "rules:\n"
                        "  - id: motd\n"
                        "    path: /etc/motd\n"
                        "    expect: [hash, size, mtime]\n"
                        "    severity: low\n")

    def put(self, rel, data):
        with open(os.path.join(self.host, rel), "wb") as f:
            f.write(data)

    def test_check_uses_builtin_rules_and_the_local_one(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        self.drift("check", "--root", self.host, code=CLEAN)
        self.put("etc/motd", b"welcome back\n")
        with open(os.path.join(self.host, "etc/passwd"), "ab") as f:
            f.write(b"# edited\n")
        p = self.drift("check", "--root", self.host, "--format", "json", code=MODIFIED)
        got = {d["path"]: d for d in json.loads(p.stdout)["deviations"] if d["kind"] == "file"}
        motd, passwd = got["/etc/motd"], got["/etc/passwd"]
        # The local rule, from the local file; the built-in one, from the built-in policy.
        self.assertEqual((motd["class"], motd["rule"]["id"], motd["rule"]["file"],
                          motd["rule"]["line"]), ("expected", "motd", self.policy, 3))
        self.assertEqual((passwd["class"], passwd["severity"], passwd["rule"]["id"],
                          passwd["rule"]["file"]), ("drift", "critical", "etc-auth", "(built-in)"))
        # The built-in rules of system state record the fixture's accounts.
        p = self.drift("policy", "explain", "/etc/motd", "user:root", code=0)
        out = p.stdout.decode()
        self.assertIn("/etc/motd: covered by rule 'motd'\n", out)
        self.assertIn("             'etc' at (built-in):", out)
        self.assertIn("user:root: covered by rule 'users' (Accounts)\n", out)
        r = self.drift("policy", "check", code=0)
        self.assertEqual((r.stdout.decode(), r.stderr), (self.policy + ": ok\n", b""))

    def test_change_of_an_included_file_is_a_change_of_policy(self):
        inc = os.path.join(self.tmp, "local.yaml")
        with open(inc, "w") as f:
            f.write("rules:\n  - {id: hello, path: /etc/hello.conf, severity: low}\n")
        with open(self.policy, "a") as f:
            f.write("include: [local.yaml]\n")
        self.drift("init", "-q", "--root", self.host, code=0)
        doc = json.loads(self.drift("check", "--root", self.host, "--format", "json",
                                    code=CLEAN).stdout)
        self.assertFalse(doc["policy"]["changed"])
        with open(inc, "a") as f:
            f.write("# a comment is a change too\n")
        doc = json.loads(self.drift("check", "--root", self.host, "--format", "json",
                                    code=CLEAN).stdout)
        self.assertTrue(doc["policy"]["changed"])

    def test_problems_of_an_included_file_and_strict_modes(self):
        sub = os.path.join(self.tmp, "d")
        os.mkdir(sub)
        inc = os.path.join(sub, "inc.yaml")
        with open(inc, "w") as f:
            f.write("rules:\n  - {id: x, path: /x, sevrity: low}\n")
        with open(self.policy, "a") as f:
            f.write("include: d/inc.yaml\n")
        p = self.drift("init", "-q", "--root", self.host, code=E_POLICY)
        self.assertIn(inc.encode() + b":2:23: unknown key 'sevrity'", p.stderr)
        self.assertFalse(os.path.exists(self.db))
        if os.geteuid() != 0:
            self.skipTest("StrictModes apply to root")
        with open(inc, "w") as f:
            f.write("rules: []\n")
        os.chmod(sub, 0o777)
        p = self.drift("init", "-q", "--root", self.host, code=E_POLICY)
        self.assertIn(("%s:7:10: refusing policy '%s': '%s' is writable by others (use "
                       "--allow-insecure to override)" % (self.policy, inc, sub)).encode(),
                      p.stderr)
        self.drift("init", "-q", "--allow-insecure", "--root", self.host, code=0)


if __name__ == "__main__":
    run_tap(__name__)
