"""Kill loops: drift killed (SIGKILL, SIGINT, SIGTERM) at random points of
init, check, accept and remedy --apply, dozens of times. After each, the
database opens, PRAGMA integrity_check is ok, the baseline (if any) is a
complete snapshot, and an interrupted remediation is always resumable or
undoable, with nothing of the tree lost.

The points are random but reproducible: DRIFT_KILL_SEED=N repeats a run (the
seed is printed with every failure); DRIFT_KILL_ROUNDS=N sets how many kills
per command (default 12).
"""

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from drifttest import DRIFT, DriftCase, env_for_drift, run_tap  # noqa: E402

POLICY = """\
rules:
  - id: everything
    path: /
    check: [type, mode, uid, gid, size, mtime, target, hash]
    keep_content: true
    remediate: plan
"""

SEED = int(os.environ.get("DRIFT_KILL_SEED", str(int(time.time()) % 100000)))
ROUNDS = int(os.environ.get("DRIFT_KILL_ROUNDS", "12"))
SIGNALS = (signal.SIGKILL, signal.SIGINT, signal.SIGTERM)
# What a killed drift may exit with: the deviation bits, interrupted (20),
# killed by the signal, or (SIGINT/SIGTERM before its handler is set) the
# signal's own status.
INTERRUPTED = 20
# The tree: DIRS directories of PER_DIR files each.
DIRS, PER_DIR = 4, 30


class KillLoops(DriftCase):
    policy_text = POLICY

    def setUp(self):
        super().setUp()
        self.rng = random.Random(SEED)
        for d in range(DIRS):
            for i in range(PER_DIR):
                self.write("etc/d%d/f%02d.conf" % (d, i), "value %d %d\n" % (d, i))
        self.no_waivers = os.path.join(self.tmp, "no-waivers.yaml")
        with open(self.no_waivers, "w") as f:
            f.write("# none\n")

    # ---- running and killing ----

    def argv(self, cmd, *args):
        a = [DRIFT, cmd, "--db=" + self.db]
        if cmd in ("init", "check"):
            a.append("--policy=" + self.policy)
        if cmd == "check":
            a.append("--waivers=" + self.no_waivers)
        return a + list(args)

    def timed(self, cmd, *args):
        """Run to the end; its duration, for where to kill the next ones."""
        start = time.monotonic()
        p = subprocess.run(self.argv(cmd, *args), capture_output=True, env=env_for_drift(),
                           timeout=120)
        return time.monotonic() - start, p

    def killed(self, cmd, *args, within):
        """Start drift, kill it after a random part of @within seconds."""
        sig = self.rng.choice(SIGNALS)
        delay = self.rng.uniform(0, within * 1.2)
        p = subprocess.Popen(self.argv(cmd, *args), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env_for_drift())
        time.sleep(delay)
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
        rc = p.returncode
        what = "%s %s killed by %s after %.3f s (seed %d): exit %d\n%s" % (
            cmd, " ".join(args), sig.name, delay, SEED, rc, err.decode(errors="replace"))
        ok = rc in range(0, 16) or rc == INTERRUPTED or rc == -sig or rc == 128 + sig
        self.assertTrue(ok, what)
        return what

    # ---- what must hold after every kill ----

    def sound(self, what):
        """The database opens, is intact, and its baseline is complete: the id."""
        if not os.path.exists(self.db):
            return None
        # drift reads it first, read-only, as a report would: whatever the kill left.
        p = self.drift("snapshots", "--format", "json", code=0)
        json.loads(p.stdout)
        # Read-write: a hot journal or WAL is rolled back or recovered, as the
        # next drift that writes would.
        db = sqlite3.connect("file:%s?mode=rw" % self.db, uri=True)
        try:
            (check,) = db.execute("PRAGMA integrity_check").fetchone()
            self.assertEqual(check, "ok", what)
            (tables,) = db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            # Killed before its schema was committed: an empty database.
            row = db.execute("SELECT s.id, s.status FROM meta m JOIN snapshot s"
                             " ON s.id = m.value WHERE m.key = 'baseline'").fetchone() \
                if tables else None
        finally:
            db.close()
        if row:
            self.assertEqual(row[1], "complete", "an incomplete baseline: " + what)
        # Seals commit with what they seal: whatever the kill interrupted, they hold.
        p = self.drift("snapshots", "--verify", code=0)
        self.assertRegex(p.stdout.decode(), r"^drift snapshots: \d+ seals hold", what)
        return row[0] if row else None

    def tree(self):
        """Every file of the tree: its bytes and mode."""
        out = {}
        for dirpath, _, names in os.walk(self.root):
            for n in names:
                path = os.path.join(dirpath, n)
                st = os.lstat(path)
                with open(path, "rb") as f:
                    out[os.path.relpath(path, self.root)] = (f.read(), st.st_mode)
        return out

    def drift_some(self, n=24):
        for i in range(n):
            self.write("etc/d%d/f%02d.conf" % (i % DIRS, i), "drifted %d\n" % i)

    # ---- the loops ----

    def test_init_killed(self):
        took, p = self.timed("init", "-q", self.root)
        self.assertEqual(p.returncode, 0, p.stderr)
        os.remove(self.db)
        for _ in range(ROUNDS):
            what = self.killed("init", "-q", "--force", self.root, within=took)
            base = self.sound(what)
            # No baseline, or a complete one that a check can use.
            self.drift("check", self.root, code=21 if base is None else 0)

    def test_check_killed(self):
        self.init()
        base = self.sound("after init")
        self.drift_some(10)
        took, _ = self.timed("check", self.root)
        for _ in range(ROUNDS):
            what = self.killed("check", self.root, within=took)
            self.assertEqual(self.sound(what), base, "a check moved the baseline: " + what)
        self.drift("check", self.root, code=4)

    def test_accept_killed(self):
        self.init()
        for r in range(ROUNDS):
            # A file the baseline has (modified, exit 4), however many rounds.
            name = "etc/d%d/f%02d.conf" % (r // PER_DIR % DIRS, r % PER_DIR)
            key = self.path(name)
            self.write(name, "accepted %d\n" % r)
            self.drift("check", self.root, code=4)
            before = self.sound("before accept")
            took, _ = self.timed("accept", "--dry-run", key, "--reason", "timing")
            what = self.killed("accept", key, "--reason", "loop", within=max(took, 0.01) * 3)
            after = self.sound(what)
            # The old baseline, or the acceptance's, complete: nothing in between.
            if after == before:
                self.drift("accept", key, "--reason", "again", "-q", code=0)
            p = self.drift("check", self.root, code=0)
            self.assertIn(b"no deviations", p.stdout, what)
        # One acceptance a round, the killed one's or its retry's, each on the last.
        p = self.drift("accept", "--list", "--format", "json", code=0)
        acc = json.loads(p.stdout)["acceptances"]
        self.assertEqual(len(acc), ROUNDS, acc)
        for a in acc:
            self.assertIn(a["reason"], ("loop", "again"), a)
            self.assertEqual((a["entries"], a["undone"]), (1, None), a)
        for a, b in zip(acc, acc[1:]):
            self.assertEqual(b["old"]["id"], a["new"]["id"], "a round accepted beside the chain")

    def test_remedy_killed_is_resumed_or_undone(self):
        self.init()
        pristine = self.tree()
        self.drift_some()
        drifted = self.tree()
        self.drift("check", self.root, code=4)
        took, p = self.timed("remedy", "--apply", "--yes", "-q")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.drift("remedy", "--undo", "-q", code=0)
        self.assertEqual(self.tree(), drifted)
        for r in range(ROUNDS):
            self.drift("check", self.root, code=4)
            what = self.killed("remedy", "--apply", "--yes", "-q", within=took)
            self.sound(what)
            listed = self.drift("remedy", "--list", code=0).stdout.decode()
            interrupted = "interrupted" in listed.splitlines()[-1]
            if interrupted and r % 2:
                self.drift("remedy", "--resume", "-q", code=0)
                self.assertEqual(self.tree(), pristine, "resumed: " + what)
                self.drift("check", self.root, code=0)
                self.drift("remedy", "--undo", "-q", code=0)
            elif interrupted or "applied" in listed.splitlines()[-1]:
                self.drift("remedy", "--undo", "-q", code=0)
            # Undone, or never begun: the tree as the drift left it, nothing lost.
            self.assertEqual(self.tree(), drifted, "after undo: " + what)


if __name__ == "__main__":
    run_tap(__name__)
