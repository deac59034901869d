"""Helpers for drift's end-to-end tests.

Each test file is a set of unittest cases that build real temporary trees, run
the drift binary (path in $DRIFT, set by meson), and check its output and exit
codes. The runner speaks TAP so that meson counts every case.

Nothing here reads the host's /etc or /usr: every tree and database lives in a
fresh temporary directory.
"""

import base64
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import traceback
import unittest

DRIFT = os.environ.get("DRIFT", "drift")

# Exit codes (drift(1)).
CLEAN, ADDED, REMOVED, MODIFIED = 0, 1, 2, 4
E_USAGE, E_POLICY, E_SCAN, E_DB, E_INTERRUPTED, E_NO_BASELINE, E_OUTPUT, E_INTERNAL = range(16, 24)


def env_for_drift(extra=None):
    env = dict(os.environ)
    env["TZ"] = "UTC"
    env.pop("NO_COLOR", None)
    env.pop("DRIFT_TEST_PAUSE_AFTER", None)
    env.pop("DRIFT_SEAL_KEY", None)
    if extra:
        env.update(extra)
    return env


# The policy of the tests that are not about the policy: every attribute of
# the foundation, everywhere, so that what they assert does not depend on the
# built-in default (which excludes /tmp, where the trees live) nor on a
# policy file of the host.
ALL_POLICY = """\
rules:
  - id: everything
    path: /
    check: [type, mode, uid, gid, size, mtime, ctime, inode, device, nlink, target, hash]
"""

POLICY_COMMANDS = ("init", "check", "scan", "diff", "policy", "verify")
# Commands that read the waivers file: the tests give them an empty one of their own.
WAIVER_COMMANDS = ("check", "diff", "verify", "report")
# Commands that use no database: --db is not added to them.
NO_DB_COMMANDS = ("help", "--help", "--version", "policy")


class DriftCase(unittest.TestCase):
    """A test case with a temporary directory, a tree root, a database and a policy."""

    policy_text = ALL_POLICY
    run_as = None  # (uid, gid) drift runs as, set by as_unprivileged()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="drift-e2e-")
        self.root = os.path.join(self.tmp, "root")
        os.mkdir(self.root)
        self.db = os.path.join(self.tmp, "state", "drift.db")
        self.policy = os.path.join(self.tmp, "policy.yaml")
        self.no_waivers = os.path.join(self.tmp, "no-waivers.yaml")
        self.set_policy(self.policy_text)

    def set_policy(self, text):
        with open(self.policy, "w") as f:
            f.write(text)

    def tearDown(self):
        # Long paths and odd names: remove with rm -rf rather than shutil on bytes.
        subprocess.run(["rm", "-rf", "--", self.tmp], check=False)

    # ---- running drift ----

    def as_unprivileged(self):
        """From here on, run drift as an unprivileged user.

        What root bypasses (a mode-000 file, a read-only database) is then tested
        as root too, instead of skipped. As root: the test's directory, all but the
        tree (whose owners would be deviations), is given to nobody (65534 where
        there is no such user) and drift, copied into it so that a build directory
        nobody cannot reach does not matter, runs as that user with no groups. As
        any other user: nothing changes.
        """
        if os.geteuid() != 0:
            return
        try:
            pw = pwd.getpwnam("nobody")
            ids = (pw.pw_uid, pw.pw_gid)
        except KeyError:
            ids = (65534, 65534)
        exe = os.path.join(self.tmp, "bin", "drift")
        os.mkdir(os.path.dirname(exe))
        shutil.copy2(shutil.which(DRIFT) or DRIFT, exe)
        owner = "%d:%d" % ids
        mine = [os.path.join(self.tmp, n) for n in os.listdir(self.tmp)
                if os.path.join(self.tmp, n) != self.root]
        subprocess.run(["chown", owner, self.tmp], check=True)
        subprocess.run(["chown", "-R", "--no-dereference", owner, *mine], check=True)
        self.run_as = ids
        self.exe = exe
        p = self.drift("--version", code=0, db=False)
        self.assertTrue(p.stdout, "drift --version as uid %d printed nothing" % ids[0])

    def _drop(self):
        os.setgroups([])
        os.setgid(self.run_as[1])
        os.setuid(self.run_as[0])

    def drift(self, *args, code, env=None, stdin=None, db=True):
        """Run drift ARGS; its exit status must be @code.

        @code is required: a sanitizer that aborts drift after its output is
        written shows only in the exit status, so every run checks it.
        """
        argv = [self.exe if self.run_as else DRIFT] + [a for a in args]
        if db and len(args) > 0 and args[0] not in NO_DB_COMMANDS:
            argv.insert(2, "--db=" + self.db)
        if db and len(args) > 0 and args[0] in POLICY_COMMANDS and \
                not any(str(a).startswith("--policy") for a in args):
            argv.insert(2, "--policy=" + self.policy)
        # As root the default waivers file is the host's /etc/drift/waivers.yaml:
        # an empty file of the test's own instead, unless the test names one or
        # sets XDG_CONFIG_HOME to try the default path itself.
        if db and len(args) > 0 and args[0] in WAIVER_COMMANDS and \
                not any(str(a).startswith("--waivers") for a in args) and \
                "XDG_CONFIG_HOME" not in (env or {}):
            if not os.path.exists(self.no_waivers):
                with open(self.no_waivers, "w") as f:
                    f.write("# no waivers: the test's own empty file\n")
            argv.insert(2, "--waivers=" + self.no_waivers)
        p = subprocess.run(argv, capture_output=True, env=env_for_drift(env),
                           stdin=subprocess.DEVNULL if stdin is None else stdin, timeout=120,
                           preexec_fn=self._drop if self.run_as else None)
        check_exit(self, args, p, code)
        return p

    def check_json(self, *paths, code, extra=()):
        p = self.drift("check", "--format", "json", *extra, *paths, code=code)
        try:
            doc = json.loads(p.stdout)
        except ValueError as e:
            self.fail("check --format json printed invalid JSON (%s):\n%s" % (e, p.stdout[:2000]))
        return doc, p

    def init(self, *paths, extra=()):
        return self.drift("init", "-q", *extra, *(paths or (self.root,)), code=0)

    # ---- trees ----

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write(self, rel, data=b"", mode=None):
        p = self.path(rel) if isinstance(rel, str) else os.path.join(os.fsencode(self.root), rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        if mode is not None:
            os.chmod(p, mode)
        return p


def check_exit(case, args, p, code):
    """Fail @case unless the run @p of drift @args exited with @code."""
    if p.returncode != code:
        case.fail("drift %s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(os.fsdecode(a) for a in args), p.returncode, code,
            p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")))


def raw_path(d):
    """The exact bytes of a deviation's path (path_b64 when present)."""
    if "path_b64" in d:
        return base64.b64decode(d["path_b64"])
    return d["path"].encode()


def by_path(doc):
    """{path bytes: deviation} of a JSON report."""
    return {raw_path(d): d for d in doc["deviations"]}


def run_tap(module_name):
    """Run every test case of the calling module and print TAP."""
    module = sys.modules[module_name]
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    tests = []

    def flatten(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                flatten(t)
            else:
                tests.append(t)
    flatten(suite)
    print("1..%d" % len(tests), flush=True)
    failed = 0
    for i, t in enumerate(tests, 1):
        result = unittest.TestResult()
        t.run(result)
        name = t.id().split(".", 1)[-1]
        if result.skipped:
            print("ok %d - %s # SKIP %s" % (i, name, result.skipped[0][1]), flush=True)
        elif result.wasSuccessful():
            print("ok %d - %s" % (i, name), flush=True)
        else:
            failed += 1
            print("not ok %d - %s" % (i, name), flush=True)
            for _, tb in result.errors + result.failures:
                for line in tb.splitlines():
                    print("# " + line)
    sys.exit(1 if failed else 0)
