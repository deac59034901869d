#!/usr/bin/env python3
"""The nightly check (dist/drift-nightly) and the apt hook (dist/apt/99drift),
run as the units and apt run them, on a temporary tree: a config file of the
test's own ($DRIFT_CONFIG), a database, policy and --root in a temporary
directory, a fake sendmail and a fake logger on $PATH. Nothing of the host's
/etc is read, and nothing is sent.

drift itself is reached through a shim that records each command line and
then runs the real binary, so that the command the wrapper builds is checked
against the documented syntax (--report FORMAT:FILE, --journal, ...) whether
or not this drift writes those reports yet. The assertions about the report
files themselves (their names, the mail's body being the text report, the
prometheus file) need drift check's --report fan-out: they are skipped,
saying so, while a drift check with --report text:FILE writes no FILE.
"""

import datetime
import os
import re
import shlex
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import DRIFT, DriftCase, env_for_drift, run_tap  # noqa: E402

NIGHTLY = os.path.abspath(os.environ.get("NIGHTLY", "drift-nightly"))
APT_HOOK = os.path.abspath(os.environ.get("APT_HOOK", "99drift"))

# A report name of the wrapper's: drift-2026-12-05T0300Z[-N].EXT
REPORT_RE = re.compile(r"^drift-\d{4}-\d\d-\d\dT\d{4}Z(-\d+)?\.(txt|json|html)$")

POLICY = """\
scan:
  roots: [/etc]
  probes: []
rules:
  - id: everything
    path: /
    check: [type, mode, uid, gid, size, hash]
    severity: high
"""


def fanout():
    """Whether drift check writes --report FORMAT:FILE: tried on a tree of one file."""
    tmp = tempfile.mkdtemp(prefix="drift-e2e-fanout-")
    try:
        os.mkdir(os.path.join(tmp, "t"))
        with open(os.path.join(tmp, "t", "a"), "w") as f:
            f.write("1")
        db = ["--db", os.path.join(tmp, "s", "d.db"), "--policy", "builtin"]
        out = os.path.join(tmp, "r.txt")
        for argv in (["init", "-q"] + db + [os.path.join(tmp, "t")],
                     ["check", "-q"] + db + ["--report", "text:" + out]):
            subprocess.run([DRIFT] + argv, capture_output=True, env=env_for_drift(), timeout=60)
        return os.path.exists(out)
    finally:
        subprocess.run(["rm", "-rf", "--", tmp], check=False)


FANOUT = fanout()
NO_FANOUT = "needs drift check's --report fan-out (the main branch's work)"


def write_exe(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


class NightlyCase(DriftCase):
    """The fixtures: a tree, a config file, fake sendmail and logger, a drift shim."""

    policy_text = POLICY

    def setUp(self):
        super().setUp()
        self.bin = os.path.join(self.tmp, "bin")
        os.mkdir(self.bin)
        self.reports = os.path.join(self.tmp, "reports")
        self.prom_dir = os.path.join(self.tmp, "node-exporter")
        os.mkdir(self.prom_dir)
        self.prom = os.path.join(self.prom_dir, "drift.prom")
        self.mail_dir = os.path.join(self.tmp, "mail")
        os.mkdir(self.mail_dir)
        self.logger_log = os.path.join(self.tmp, "logger.log")
        self.argv_log = os.path.join(self.tmp, "drift.argv")
        # sendmail: each message to mail/N.eml, its arguments to mail/N.args.
        write_exe(os.path.join(self.bin, "sendmail"), """#!/bin/sh
n=$(ls "%(d)s" | grep -c '\\.eml$')
n=$((n + 1))
printf '%%s\\n' "$@" >"%(d)s/$n.args"
cat >"%(d)s/$n.eml"
""" % {"d": self.mail_dir})
        # logger: one line per call, its arguments (the message last).
        write_exe(os.path.join(self.bin, "logger"), """#!/bin/sh
printf '%%s|' "$@" >>"%s"
echo >>"%s"
""" % (self.logger_log, self.logger_log))
        # drift: record the command line (one argument a line, then a blank
        # line), run drift without --journal SEV: the host's journal, where
        # one runs, is not the tests' to write to (cli-journal and
        # journal-socket test what drift sends there).
        self.shim = os.path.join(self.bin, "drift")
        write_exe(self.shim, """#!/bin/sh
printf '%%s\\n' "$@" >>"%s"
echo >>"%s"
skip=
for a; do
	shift
	if [ -n "$skip" ]; then skip=; continue; fi
	if [ "$a" = --journal ]; then skip=1; continue; fi
	set -- "$@" "$a"
done
exec "%s" "$@"
""" % (self.argv_log, self.argv_log, DRIFT))
        self.write("etc/a", "1")
        self.write("etc/b", "2")
        self.config = os.path.join(self.tmp, "drift.conf")
        self.set_config()

    def set_config(self, **over):
        keys = {
            "DRIFT_BIN": self.shim,
            "DRIFT_DATABASE": self.db,
            "DRIFT_POLICY": self.policy,
            "DRIFT_ROOT": self.root,
            "DRIFT_REPORT_DIR": self.reports,
            "DRIFT_PROMETHEUS_FILE": self.prom,
            "DRIFT_MAILTO": "admin@example.org",
            "DRIFT_SENDMAIL": os.path.join(self.bin, "sendmail"),
            # Formats every drift with the fan-out writes; the default (with
            # html) is checked on the command line alone.
            "DRIFT_REPORT_FORMATS": "text json",
        }
        keys.update(over)
        with open(self.config, "w") as f:
            f.write("# drift-nightly's test configuration\n")
            for k, v in keys.items():
                if v is not None:
                    f.write("%s=%s\n" % (k, shlex.quote(v)))
        os.chmod(self.config, 0o644)

    def env(self):
        env = env_for_drift({"DRIFT_CONFIG": self.config,
                             "PATH": self.bin + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")})
        env.pop("JOURNAL_STREAM", None)   # as from cron or a shell: messages go to logger too
        for k in list(env):
            if k.startswith("DRIFT_") and k != "DRIFT_CONFIG":
                del env[k]
        return env

    def nightly(self, *args, code):
        p = subprocess.run(["sh", NIGHTLY] + list(args), capture_output=True, env=self.env(),
                           timeout=120)
        if p.returncode != code:
            self.fail("drift-nightly %s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s\nlogger:\n%s" % (
                " ".join(args), p.returncode, code, p.stdout.decode(errors="replace"),
                p.stderr.decode(errors="replace"), self.logged()))
        return p

    # ---- what the fakes saw ----

    def logged(self):
        try:
            with open(self.logger_log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def mails(self):
        out = []
        for name in sorted(os.listdir(self.mail_dir), key=lambda n: int(n.split(".")[0])):
            if name.endswith(".eml"):
                with open(os.path.join(self.mail_dir, name), "rb") as f:
                    msg = f.read()
                with open(os.path.join(self.mail_dir, name[:-4] + ".args")) as f:
                    args = f.read().split("\n")[:-1]
                out.append((args, msg))
        return out

    def drift_runs(self):
        """Each command line drift was run with, as a list of arguments (not the
        "snapshots --head" that sends the newest seal to the journal after each run)."""
        try:
            with open(self.argv_log) as f:
                text = f.read()
        except FileNotFoundError:
            return []
        runs = [run.split("\n") for run in text.split("\n\n") if run]
        return [r for r in runs if r[:2] != ["snapshots", "--head"]]

    def report_files(self):
        if not os.path.isdir(self.reports):
            return []
        return sorted(n for n in os.listdir(self.reports) if REPORT_RE.match(n))

    def init(self):
        p = subprocess.run([DRIFT, "init", "-q", "--db", self.db, "--policy", self.policy,
                            "--root", self.root], capture_output=True, env=env_for_drift(),
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)



class Nightly(NightlyCase):

    def test_first_run_takes_the_baseline_and_says_so(self):
        self.nightly(code=0)
        runs = self.drift_runs()
        self.assertEqual([r[0] for r in runs], ["check", "init"])
        self.assertEqual(runs[1], ["init", "-q", "--db", self.db, "--policy", self.policy,
                                   "--root", self.root])
        self.assertTrue(os.path.exists(self.db))
        self.assertIn("drift-nightly|-p|user.notice|--|no baseline yet: took one with 'drift init'",
                      self.logged())
        self.assertEqual(self.mails(), [], "a first run mails nothing")
        # It leaves a report of its own, so that a later run knows a baseline existed.
        names = self.report_files()
        self.assertEqual(len(names), 1, names)
        self.assertTrue(names[0].endswith(".txt"))

    def test_first_baseline_runs_the_probes_the_checks_run(self):
        self.set_config(DRIFT_PROBES="none")
        self.nightly(code=0)
        runs = self.drift_runs()
        self.assertEqual(runs[0][-2:], ["--probes", "none"])
        self.assertEqual(runs[1][-2:], ["--probes", "none"])

    def test_check_command_line_is_the_documented_one(self):
        self.init()
        self.set_config(DRIFT_REPORT_FORMATS=None)   # the default: text json html
        # Only the command line matters here: record it, run nothing.
        write_exe(self.shim, """#!/bin/sh
printf '%%s\\n' "$@" >>"%s"
echo >>"%s"
""" % (self.argv_log, self.argv_log))
        self.nightly(code=0)
        (run,) = self.drift_runs()
        name = os.path.basename(run[run.index("--report") + 1])
        self.assertTrue(name.startswith("drift-") and name.endswith(".txt"), name)
        stamp = name[len("drift-"):-len(".txt")]
        self.assertRegex(stamp, r"^\d{4}-\d\d-\d\dT\d{4}Z$")
        now = datetime.datetime.now(datetime.timezone.utc)
        then = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H%MZ").replace(tzinfo=datetime.timezone.utc)
        self.assertLess(abs((now - then).total_seconds()), 600, "the stamp is the run's UTC time")
        base = os.path.join(self.reports, "drift-" + stamp)
        self.assertEqual(run, [
            "check", "--db", self.db, "--policy", self.policy, "--root", self.root,
            "--since-last",
            "--report", "text:%s.txt" % base,
            "--report", "json:%s.json" % base,
            "--report", "html:%s.html" % base,
            "--report", "prometheus:" + self.prom,
            "--journal", "high",
        ])
        # The options of the config file, and the extra arguments, split on blanks.
        self.set_config(DRIFT_MIN_SEVERITY="low", DRIFT_FAIL_ON="high", DRIFT_JOURNAL_SEVERITY="",
                        DRIFT_REPORT_FORMATS="json", DRIFT_MAILTO="", DRIFT_PROMETHEUS_FILE="",
                        DRIFT_PROBES="package,user",
                        DRIFT_EXTRA_ARGS="--threads 1  --trust-ctime --exclude *.swp")
        self.write("x.swp", "a file the glob would match, were it expanded")
        p = subprocess.run(["sh", NIGHTLY], capture_output=True, env=self.env(), cwd=self.root,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        run = self.drift_runs()[-1]
        self.assertEqual(run[run.index("--since-last"):], [
            "--since-last", "--report", run[run.index("--report") + 1],
            "--min-severity", "low", "--fail-on", "high", "--probes", "package,user",
            "--threads", "1", "--trust-ctime", "--exclude", "*.swp"])
        self.assertTrue(run[run.index("--report") + 1].startswith("json:"))

    def test_clean_run_then_drift_mails_the_text_report(self):
        self.init()
        self.nightly(code=0)
        self.assertEqual(self.mails(), [], "a clean run mails nothing")
        self.write("etc/a", "changed")
        self.nightly(code=4)   # modified
        (mail,) = self.mails()
        args, msg = mail
        self.assertIn("-t", args)
        self.assertIn("-oi", args)
        head, _, body = msg.partition(b"\n\n")
        headers = head.decode().split("\n")
        self.assertIn("To: admin@example.org", headers)
        host = socket.gethostname()
        subject = [h for h in headers if h.startswith("Subject: ")]
        self.assertEqual(len(subject), 1)
        self.assertRegex(subject[0], r"^Subject: drift: (\d+ deviations?|deviations) on %s" % re.escape(host))
        self.assertIn("Auto-Submitted: auto-generated", headers)
        if not FANOUT:
            self.skipTest("the rest " + NO_FANOUT)
        # Needs the fan-out: the reports, dated, and the mail is the text report.
        names = self.report_files()
        for ext in ("txt", "json"):
            self.assertEqual(len([n for n in names if n.endswith("." + ext)]), 2, names)
        # The second run's (in the same minute as the first, it is drift-STAMP-2.txt).
        run = self.drift_runs()[-1]
        newest = run[run.index("--report") + 1][len("text:"):]
        self.assertRegex(os.path.basename(newest), REPORT_RE)
        with open(newest, "rb") as f:
            text = f.read()
        self.assertEqual(body, text)
        self.assertEqual(subject[0], "Subject: drift: 1 deviation on %s" % host)
        self.assertTrue(os.path.exists(self.prom))

    def test_the_newest_seal_goes_to_the_journal(self):
        key = os.path.join(self.tmp, "seal.key")
        self.drift("snapshots", "--new-key", key, "-q", code=0, db=False)
        self.set_config(DRIFT_SEAL_KEY=key)
        self.drift("init", "-q", "--root", self.root, code=0, env={"DRIFT_SEAL_KEY": key})
        self.write("etc/a", "changed")
        self.nightly(code=4)
        seals = re.findall(r"seal (\d+):([0-9a-f]{64})  \S+ \S+  epoch (\d+)  (hmac|no key)",
                           self.logged())
        self.assertEqual(len(seals), 1, self.logged())
        seq, chain, _, mac = seals[0]
        self.assertEqual(mac, "hmac", "sealed with DRIFT_SEAL_KEY")
        # It is the database's newest seal, and verifies as the head off the host.
        p = self.drift("snapshots", "--verify", "--key", key, "--head=%s:%s" % (seq, chain), code=0)
        self.assertRegex(p.stdout.decode(), r"seals hold .* authenticated; head %s:%s$" % (seq, chain))
        self.set_config(DRIFT_SEAL_HEAD="no")
        before = self.logged().count("seal ")
        self.nightly(code=4)
        self.assertEqual(self.logged().count("seal "), before, "DRIFT_SEAL_HEAD=no: no seal logged")

    def test_missing_sendmail_is_logged_and_the_run_goes_on(self):
        self.init()
        self.set_config(DRIFT_SENDMAIL=os.path.join(self.tmp, "no-such-sendmail"))
        self.write("etc/new", "x")
        self.nightly(code=1)   # added: drift's exit status, mail or not
        self.assertIn("no-such-sendmail' is missing", self.logged())
        self.assertIn("user.warning", self.logged())

    def test_failing_sendmail_is_logged(self):
        self.init()
        write_exe(os.path.join(self.bin, "sendmail"), "#!/bin/sh\ncat >/dev/null\nexit 75\n")
        self.write("etc/new", "x")
        self.nightly(code=1)
        self.assertIn("mail to admin@example.org failed", self.logged())

    def test_deferred_mail_is_sent_by_send_mail_once(self):
        self.init()
        self.write("etc/b", "")
        self.nightly("--defer-mail", code=4)
        self.assertEqual(self.mails(), [], "the check's sandbox sends nothing")
        pending = os.path.join(self.reports, "mail-pending")
        self.assertTrue(os.path.exists(pending))
        self.nightly("--send-mail", code=0)
        self.assertEqual(len(self.mails()), 1)
        self.assertFalse(os.path.exists(pending))
        self.nightly("--send-mail", code=0)
        self.assertEqual(len(self.mails()), 1, "sent once")
        # A clean deferred run leaves nothing to send.
        self.write("etc/b", "2")
        self.nightly("--defer-mail", code=0)
        self.assertFalse(os.path.exists(pending))

    def test_remedy_auto_restores_what_auto_rules_allow_and_the_mail_says_so(self):
        self.set_policy(POLICY + """\
  - id: auto
    path: /etc/a
    keep_content: true
    remediate: auto
  - id: by-hand
    path: /etc/b
    keep_content: true
    remediate: plan
""")
        self.init()
        self.set_config(DRIFT_REMEDY="auto")
        self.write("etc/a", "tampered")
        self.write("etc/b", "also")
        self.nightly("--defer-mail", code=4)
        self.nightly("--remedy", code=0)
        with open(self.path("etc/a")) as f:
            self.assertEqual(f.read(), "1", "the auto rule's file is restored")
        with open(self.path("etc/b")) as f:
            self.assertEqual(f.read(), "also", "a plan rule's file is left for an operator")
        self.assertIn("drift-remedy", self.logged())
        self.assertIn("done     restore /etc/a from kept content", self.logged())
        self.nightly("--send-mail", code=0)
        (mail,) = self.mails()
        body = mail[1].decode()
        self.assertIn("drift remedy --apply --auto (exit status 0):", body)
        self.assertIn("restore /etc/a from kept content", body)
        self.assertIn("remediation #1 applied: 1 done", body)
        # The next night: /etc/a is clean, /etc/b is still drift.
        self.nightly(code=4)

    def test_remedy_is_off_by_default(self):
        self.set_policy(POLICY.replace("severity: high", "severity: high\n    keep_content: true\n"
                                       "    remediate: auto"))
        self.init()
        self.write("etc/a", "tampered")
        self.nightly("--defer-mail", code=4)
        self.nightly("--remedy", code=0)
        with open(self.path("etc/a")) as f:
            self.assertEqual(f.read(), "tampered", "DRIFT_REMEDY defaults to no")
        self.set_config(DRIFT_REMEDY="sometimes")
        self.nightly("--remedy", code=16)
        self.assertIn("DRIFT_REMEDY must be no or auto", self.logged())

    def test_pruning_removes_only_old_reports_of_its_own_pattern(self):
        self.init()
        os.makedirs(self.reports)
        old = time.time() - 40 * 86400
        recent = time.time() - 2 * 86400
        gone = ["drift-2020-01-01T0300Z.txt", "drift-2020-01-01T0300Z.json",
                "drift-2020-01-01T0300Z.html", "drift-2020-01-02T0300Z-2.txt",
                "drift-2020-01-02T0300Z.json.tmp-a1B2c3"]   # what a dying drift left
        kept_old = ["notes.txt", "drift-2020-01-01T0300Z.txt.bak", "drift-latest.txt",
                    "drift-2020-01-01T0300Z.prom", "drift-2020-1-01T0300Z.txt", "mail-pending.old",
                    "notes.txt.tmp-a1B2c3"]
        kept_new = ["drift-2026-01-01T0300Z.txt"]
        for n in gone + kept_old:
            with open(os.path.join(self.reports, n), "w") as f:
                f.write("x")
            os.utime(os.path.join(self.reports, n), (old, old))
        for n in kept_new:
            with open(os.path.join(self.reports, n), "w") as f:
                f.write("x")
            os.utime(os.path.join(self.reports, n), (recent, recent))
        # An old directory and a symlink named like reports are not files of ours.
        os.mkdir(os.path.join(self.reports, "drift-2020-01-03T0300Z.txt"))
        os.symlink(os.path.join(self.tmp, "policy.yaml"),
                   os.path.join(self.reports, "drift-2020-01-04T0300Z.txt"))
        os.utime(os.path.join(self.reports, "drift-2020-01-04T0300Z.txt"), (old, old),
                 follow_symlinks=False)
        self.nightly(code=0)
        left = set(os.listdir(self.reports))
        for n in gone:
            self.assertNotIn(n, left)
        for n in kept_old + kept_new + ["drift-2020-01-03T0300Z.txt", "drift-2020-01-04T0300Z.txt"]:
            self.assertIn(n, left)
        self.assertTrue(os.path.exists(self.policy), "a link's target is never touched")
        # 0 days: never prune.
        with open(os.path.join(self.reports, gone[0]), "w") as f:
            f.write("x")
        os.utime(os.path.join(self.reports, gone[0]), (old, old))
        self.set_config(DRIFT_REPORT_KEEP_DAYS="0")
        self.nightly(code=0)
        self.assertIn(gone[0], os.listdir(self.reports))

    def test_no_baseline_after_earlier_reports_is_an_error(self):
        os.makedirs(self.reports)
        with open(os.path.join(self.reports, "drift-2026-01-01T0300Z.txt"), "w") as f:
            f.write("x")
        self.nightly(code=21)
        self.assertFalse(os.path.exists(self.db), "no silent new baseline")
        self.assertEqual([r[0] for r in self.drift_runs()], ["check"])
        self.assertIn("not taking a new one", self.logged())

    def test_prometheus_file_is_readable_by_node_exporter(self):
        self.init()
        self.nightly(code=0)
        self.assertEqual(stat.S_IMODE(os.stat(self.prom).st_mode), 0o644)
        # An existing file keeps its mode (drift keeps it when it replaces the file).
        os.chmod(self.prom, 0o640)
        self.nightly(code=0)
        self.assertEqual(stat.S_IMODE(os.stat(self.prom).st_mode), 0o640)

    def test_missing_prometheus_directory_is_skipped(self):
        self.init()
        self.set_config(DRIFT_PROMETHEUS_FILE=os.path.join(self.tmp, "nope", "drift.prom"))
        self.nightly(code=0)
        (run,) = self.drift_runs()
        self.assertFalse(any(a.startswith("prometheus:") for a in run), run)
        self.assertIn("no prometheus report", self.logged())

    def test_config_others_may_write_is_refused(self):
        if os.geteuid() != 0:
            self.skipTest("the config file's owner is checked only as root")
        os.chmod(self.config, 0o666)
        self.nightly(code=16)
        self.assertEqual(self.drift_runs(), [])
        self.assertIn("refusing", self.logged())

    def test_bad_values_are_refused(self):
        self.set_config(DRIFT_REPORT_KEEP_DAYS="thirty")
        self.nightly(code=16)
        self.assertIn("DRIFT_REPORT_KEEP_DAYS must be a number of days, not 'thirty'",
                      self.logged())
        self.set_config(DRIFT_REPORT_DIR="reports")
        self.nightly(code=16)
        self.assertIn("DRIFT_REPORT_DIR must be an absolute path, not 'reports'", self.logged())
        self.assertEqual(self.drift_runs(), [])
        p = self.nightly("--bogus", code=16)
        self.assertIn(b"unknown option '--bogus'", p.stderr)
        self.assertEqual(self.drift_runs(), [])


def hook_commands():
    """The shell commands of the apt hook: {'Pre-Invoke': cmd, 'Post-Invoke': cmd}."""
    with open(APT_HOOK) as f:
        text = f.read()
    out = {}
    for m in re.finditer(r'^DPkg::(Pre-Invoke|Post-Invoke) \{ "(.*)"; \};$', text, re.M):
        out[m.group(1)] = m.group(2)
    return out


class AptHook(NightlyCase):

    def hook(self, which="Pre-Invoke", cmd=None):
        cmd = cmd or hook_commands()[which]
        self.assertNotIn('"', cmd, "apt.conf strings cannot hold a double quote")
        # apt runs the command with sh -c; it must never fail the dpkg run.
        p = subprocess.run(["sh", "-c", cmd], capture_output=True, env=self.env(), timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def test_hook_runs_the_configured_wrapper(self):
        cmds = hook_commands()
        self.assertEqual(sorted(cmds), ["Post-Invoke", "Pre-Invoke"])
        self.assertIn(os.path.abspath(NIGHTLY) + " --apt pre", cmds["Pre-Invoke"])
        self.assertIn(os.path.abspath(NIGHTLY) + " --apt post", cmds["Post-Invoke"])

    def test_missing_wrapper_is_logged_not_fatal(self):
        cmd = hook_commands()["Pre-Invoke"].replace(os.path.abspath(NIGHTLY),
                                                    os.path.join(self.tmp, "gone", "drift-nightly"))
        self.hook(cmd=cmd)
        self.assertIn("drift-apt|-p|user.warning|no snapshot pre dpkg", self.logged())

    def test_missing_binary_is_logged_not_fatal(self):
        self.init()
        self.set_config(DRIFT_BIN=os.path.join(self.tmp, "no-such-drift"))
        self.hook()
        lines = self.logged().strip().split("\n")
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("-t|drift-apt|-p|user.warning|--|no snapshot pre dpkg: '%s' is missing"
                      % os.path.join(self.tmp, "no-such-drift"), lines[0])

    def test_failing_drift_is_logged_with_its_reason(self):
        self.init()
        write_exe(self.shim, "#!/bin/sh\necho 'drift: database is locked' >&2\nexit 19\n")
        self.hook("Post-Invoke")
        self.assertIn("no snapshot post dpkg: drift scan exited 19: drift: database is locked",
                      self.logged())

    def test_disabled_or_uninitialized_hook_does_nothing(self):
        self.hook()   # no database yet: nothing taken, nothing said
        self.assertEqual(self.drift_runs(), [])
        self.assertEqual(self.logged(), "")
        self.init()
        self.set_config(DRIFT_APT_HOOK="no")
        self.hook()
        self.assertEqual(self.drift_runs(), [])
        self.assertEqual(self.logged(), "")

    def test_snapshots_around_dpkg(self):
        self.init()
        self.hook("Pre-Invoke")
        self.hook("Post-Invoke")
        self.assertEqual(self.logged(), "")
        self.assertEqual([r[:3] for r in self.drift_runs()],
                         [["scan", "--upgrade", "pre"], ["scan", "--upgrade", "post"]])
        p = subprocess.run([DRIFT, "snapshots", "--db", self.db], capture_output=True,
                           env=env_for_drift(), timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout.decode(), r"apt-\S+-pre")
        self.assertRegex(p.stdout.decode(), r"apt-\S+-post")


if __name__ == "__main__":
    run_tap(__name__)
