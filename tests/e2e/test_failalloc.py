#!/usr/bin/env python3
"""Allocation failure injection (issue 16): fail the Nth allocation drift makes,
for every N along a small run of init, check, check with reports, accept,
remedy --apply, diff, report (of a stored run), show, snapshots, runs and
accept --undo, and hold drift to: no crash (no signal, no sanitizer report,
no leak), the exit status (and output) of the run that did not fail or one
of drift's failure codes with a message about memory, and a database that
opens, passes PRAGMA integrity_check and has the baseline it had (unless the
command succeeded and changes it: init, accept, undo).

It needs a drift built with -Dfailalloc=true (common/failalloc.c: the
DRIFT_FAIL_ALLOC=N environment variable fails the Nth call of malloc, calloc,
realloc, reallocarray, strdup, strndup, asprintf, vasprintf, realpath(NULL)
and getline made by drift's own objects; SQLite, libyaml, zstd and the other
shared libraries allocate unhindered). Elsewhere it is skipped (TAP 1..0 #
SKIP). CI runs it in the ASan build, which has the option on; a leak there
exits 99 (ASAN_OPTIONS below).

Every command starts from a fresh copy of the database (and, for remedy, of
the tree), so the runs are independent. By default every N up to
DRIFT_FAILALLOC_DENSE (100) is failed, then every DRIFT_FAILALLOC_STRIDE-th
(10) up to the count, and every stride-th N as "N+" (every allocation from
the Nth fails); DRIFT_FAILALLOC_FULL=1 fails every N, and every 5th as N+.
DRIFT_FAILALLOC_ONLY=check,accept sweeps only those. Runs go in parallel,
but for remedy, which writes to the one tree its stored run names, and for
check and check --report, whose database is in the tree they scan.
"""

import concurrent.futures
import hashlib
import itertools
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import DRIFT  # noqa: E402

POLICY = """\
rules:
  - id: everything
    path: /
    check: [type, mode, uid, gid, size, mtime, target, hash]
    keep_content: true
    remediate: plan
"""

# check and check --report have their database in the tree they scan (as
# /var/lib/drift is under /): it must never be scanned, failure or not.
INSIDE = ("check", "report")
FAILURES = range(16, 26)  # drift(1): 16 usage ... 25 remedy incomplete
SANITIZER = re.compile(rb"ERROR: (Address|Leak)Sanitizer|runtime error:|Sanitizer:DEADLYSIGNAL")
MEMORY = re.compile(rb"memory|Cannot allocate", re.I)
LABEL_TIME = re.compile(rb"\b\d{8}T\d{6}Z\b")  # the time in a check snapshot's label


def env(extra=None):
    e = dict(os.environ)
    e["TZ"] = "UTC"
    for k in ("DRIFT_FAIL_ALLOC", "DRIFT_FAIL_ALLOC_COUNT", "DRIFT_FAIL_ALLOC_TRACE",
              "NO_COLOR", "DRIFT_TEST_PAUSE_AFTER"):
        e.pop(k, None)
    # A leak fails the run with exit 99, a report of any kind with 98 or 99; never abort():
    # a signal is what the test looks for as a crash.
    e["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=99:abort_on_error=0:halt_on_error=1"
    e["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1:exitcode=98"
    e["LSAN_OPTIONS"] = "exitcode=99"
    if extra:
        e.update(extra)
    return e


def fingerprint(db):
    """(baseline id, status, digest of its blocks) of @db, None without one; or a failure string."""
    if not os.path.exists(db):
        return None
    try:
        c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    except sqlite3.Error as e:
        return "cannot open: %s" % e
    try:
        ok = c.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            return "integrity_check: %s" % ok
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in tables:
            return None  # created, never filled: no baseline
        row = c.execute("SELECT value FROM meta WHERE key='baseline'").fetchone()
        if row is None:
            return None
        base = int(row[0])
        st = c.execute("SELECT status FROM snapshot WHERE id=?", (base,)).fetchone()
        h = hashlib.sha256()
        for kind, first, n, data in c.execute(
                "SELECT kind, first, n, data FROM block WHERE snap=? ORDER BY kind, first",
                (base,)):
            h.update(b"%d %d %d:" % (kind, len(first), n) + first + data)
        return (base, st[0] if st else None, h.hexdigest())
    except sqlite3.Error as e:
        return "query failed: %s" % e
    finally:
        c.close()


class Fixture:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="drift-failalloc-", dir="/var/tmp")
        self.root = os.path.join(self.tmp, "root")
        self.policy = os.path.join(self.tmp, "policy.yaml")
        self.waivers = os.path.join(self.tmp, "waivers.yaml")
        self.debs = os.path.join(self.tmp, "no-debs")
        self.runs = os.path.join(self.tmp, "runs")
        for d in (self.root, self.debs, self.runs):
            os.makedirs(d)
        with open(self.policy, "w") as f:
            f.write(POLICY)
        with open(self.waivers, "w") as f:
            f.write("# none\n")
        self.write("etc/a.conf", "alpha = 1\n")
        self.write("etc/b.conf", "beta = 2\n" * 20)
        self.write("etc/sub/c.txt", "gamma\n")
        self.write("etc/keep", "")
        self.inside = os.path.join(self.root, "var/lib/drift")
        os.makedirs(self.inside)
        os.symlink("a.conf", os.path.join(self.root, "etc/link"))
        self.seq = itertools.count(1)

    def write(self, rel, text):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)

    def close(self):
        subprocess.run(["rm", "-rf", "--", self.tmp], check=False)

    def argv(self, cmd, db, work):
        if cmd == "init":
            return [DRIFT, "init", "-q", "--db=" + db, "--policy=" + self.policy, self.root]
        if cmd == "check":
            return [DRIFT, "check", "--db=" + db, "--policy=" + self.policy,
                    "--waivers=" + self.waivers, self.root]
        if cmd == "report":
            return [DRIFT, "check", "--db=" + db, "--policy=" + self.policy,
                    "--waivers=" + self.waivers,
                    "--report", "json:" + os.path.join(work, "r.json"),
                    "--report", "html:" + os.path.join(work, "r.html"), self.root]
        if cmd == "accept":
            return [DRIFT, "accept", "--db=" + db, "--all", "--reason", "failalloc"]
        if cmd == "diff":
            return [DRIFT, "diff", "--db=" + db, "--policy=" + self.policy,
                    "--waivers=" + self.waivers, "1", "2"]
        if cmd == "rerun":
            return [DRIFT, "report", "--db=" + db, "--policy=" + self.policy,
                    "--waivers=" + self.waivers]
        if cmd == "show":
            return [DRIFT, "show", "--db=" + db, "baseline",
                    os.path.join(self.root, "etc/b.conf")]
        if cmd == "snapshots":
            return [DRIFT, "snapshots", "--db=" + db]
        if cmd == "runs":
            return [DRIFT, "runs", "--db=" + db]
        if cmd == "undo":
            return [DRIFT, "accept", "--db=" + db, "--undo"]
        if cmd == "remedy":
            # The quarantine beside the database: the default, found from its path.
            return [DRIFT, "remedy", "--db=" + db, "--deb-cache", self.debs, "--apply", "--yes"]
        raise ValueError(cmd)


def run(fx, cmd, start_db, fail=None, count=False):
    """Run @cmd on a fresh copy of @start_db (None: no database), failing allocation @fail.

    Returns (returncode, stdout, stderr, db path, work dir, count or None).
    """
    work = os.path.join(fx.runs, "%s-%d" % (cmd, next(fx.seq)))
    os.makedirs(os.path.join(work, "state"))
    db = os.path.join(work, "state", "drift.db")
    if cmd in INSIDE:
        # In the tree it scans, where drift must leave it out; one at a time.
        db = os.path.join(fx.inside, "drift.db")
        for name in os.listdir(fx.inside):
            os.unlink(os.path.join(fx.inside, name))
    if start_db:
        shutil.copy2(start_db, db)
    extra = {}
    if fail is not None:
        extra["DRIFT_FAIL_ALLOC"] = str(fail)
    cnt = os.path.join(work, "count")
    if count:
        extra["DRIFT_FAIL_ALLOC_COUNT"] = cnt
    p = subprocess.run(fx.argv(cmd, db, work), capture_output=True, env=env(extra),
                       stdin=subprocess.DEVNULL, timeout=120)
    n = None
    if count:
        with open(cnt) as f:
            n = int(f.read())
    return p.returncode, p.stdout, p.stderr, db, work, n


def restore_tree(fx, template):
    subprocess.run(["rm", "-rf", "--", fx.root], check=True)
    subprocess.run(["cp", "-a", "--", template, fx.root], check=True)


def judge(cmd, n, ref_code, before, rc, out, err, db):
    """None when the run with allocation @n failing is acceptable, else why not."""
    what = "%s, allocation %s failing" % (cmd, n)
    tail = "\nstderr:\n%s" % err.decode(errors="replace")[-3000:]
    if rc < 0:
        return "%s: killed by signal %d%s" % (what, -rc, tail)
    if SANITIZER.search(err) or rc in (98, 99):
        return "%s: sanitizer report (exit %d)%s" % (what, rc, tail)
    if rc != ref_code:
        if rc not in FAILURES:
            return "%s: exit %d, neither %d (as without the failure) nor a failure code%s" % (
                what, rc, ref_code, tail)
        if not MEMORY.search(err):
            return "%s: exit %d without a word about memory%s" % (what, rc, tail)
    fp = fingerprint(db)
    if isinstance(fp, str):
        return "%s: database: %s%s" % (what, fp, tail)
    if fp is not None and fp[1] != "complete":
        return "%s: the baseline #%d is %s%s" % (what, fp[0], fp[1], tail)
    succeeded = rc == ref_code
    if cmd == "init":
        if succeeded and fp is None:
            return "%s: exit %d but no baseline%s" % (what, rc, tail)
        if not succeeded and fp is not None:
            return "%s: exit %d but a baseline was left%s" % (what, rc, tail)
    elif cmd in ("accept", "undo") and succeeded:
        if fp == before:
            return "%s: accepted, but the baseline did not change%s" % (what, tail)
    elif fp != before:
        return "%s: exit %d, and the baseline changed (%r, was %r)%s" % (
            what, rc, fp, before, tail)
    return None


def remedied(fx):
    """None when the tree is as the baseline has it again, else what is not."""
    want = {"etc/a.conf": "alpha = 1\n", "etc/b.conf": "beta = 2\n" * 20, "etc/new.conf": None}
    for rel, text in want.items():
        p = os.path.join(fx.root, rel)
        try:
            with open(p) as f:
                got = f.read()
        except FileNotFoundError:
            got = None
        if got != text:
            return "%s is %r, not %r" % (rel, got, text)
    return None


def sweep(fx, cmd, start_db, ref_code, total, template=None, ref_out=None):
    """Fail each chosen N of @total; returns (failures, runs, seconds, exit code histogram)."""
    full = os.environ.get("DRIFT_FAILALLOC_FULL") == "1"
    dense = int(os.environ.get("DRIFT_FAILALLOC_DENSE", "100"))
    stride = int(os.environ.get("DRIFT_FAILALLOC_STRIDE", "10"))
    ns = [n for n in range(1, total + 1) if full or n <= dense or n % stride == 0 or n == total]
    # And "N+": every allocation from the Nth on fails, the error paths' own included.
    ns += ["%d+" % n for n in range(1, total + 1, 5 if full else stride)]
    before = fingerprint(start_db) if start_db else None
    problems, codes = [], {}
    t0 = time.monotonic()

    def one(n):
        first = start_db
        if template:
            # The tree as the check saw it, and a check of it: a copy has new inodes
            # and ctimes, which a plan made before would find stale.
            restore_tree(fx, template)
            rc, _, err, first, _, _ = run(fx, "check", fx.db0)
            if rc != fx.rc_check:
                return n, rc, "%s, allocation %s: the check before it: exit %d\n%s" % (
                    cmd, n, rc, err.decode(errors="replace"))
        rc, out, err, db, work, _ = run(fx, cmd, first, fail=n)
        why = judge(cmd, n, ref_code, before, rc, out, err, db)
        if why is None and ref_out is not None and rc == ref_code and \
                LABEL_TIME.sub(b"T", out) != LABEL_TIME.sub(b"T", ref_out):
            # The failure was handled: then nothing may be missing from what it printed.
            why = "%s, allocation %s failing: exit %d, but it printed\n%s\nnot\n%s" % (
                cmd, n, rc, out.decode(errors="replace"), ref_out.decode(errors="replace"))
        if why is None and cmd == "remedy" and rc == ref_code:
            wrong = remedied(fx)
            if wrong:
                why = "%s, allocation %s failing: exit %d, but %s" % (cmd, n, rc, wrong)
        if why is None and cmd == "report" and rc == ref_code:
            try:
                with open(os.path.join(work, "r.json")) as f:
                    json.load(f)
                if not os.path.getsize(os.path.join(work, "r.html")):
                    why = "%s, allocation %s failing: an empty HTML report" % (cmd, n)
            except (OSError, ValueError) as e:
                why = "%s, allocation %s failing: exit %d, but the JSON report: %s" % (
                    cmd, n, rc, e)
        subprocess.run(["rm", "-rf", "--", work], check=False)
        if first != start_db and cmd not in INSIDE:
            subprocess.run(["rm", "-rf", "--", os.path.dirname(os.path.dirname(first))],
                           check=False)
        return n, rc, why

    if template or cmd in INSIDE:
        results = map(one, ns)  # one tree, or one database in it: one at a time
    else:
        workers = max(2, min(4, os.cpu_count() or 2))
        with concurrent.futures.ThreadPoolExecutor(workers) as ex:
            results = list(ex.map(one, ns))
    for n, rc, why in results:
        codes[rc] = codes.get(rc, 0) + 1
        if why:
            problems.append(why)
    return problems, len(ns), time.monotonic() - t0, codes


def built_with_failalloc(tmp):
    cnt = os.path.join(tmp, "probe-count")
    subprocess.run([DRIFT, "--version"], capture_output=True,
                   env=env({"DRIFT_FAIL_ALLOC_COUNT": cnt}), check=False)
    return os.path.exists(cnt)


def main():
    # meson's timeout sends SIGTERM: still remove the temporary directory.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    fx = Fixture()
    try:
        if not built_with_failalloc(fx.tmp):
            print("1..0 # SKIP drift is not built with -Dfailalloc=true")
            return 0
        cmds = ["init", "check", "report", "accept", "remedy",
                "diff", "rerun", "show", "snapshots", "runs", "undo"]
        only = os.environ.get("DRIFT_FAILALLOC_ONLY")  # e.g. "check,accept"
        if only:
            cmds = [c for c in cmds if c in only.split(",")]
        print("1..%d" % len(cmds), flush=True)

        # The runs without a failure: their exit status, their allocation count, and the
        # databases the others start from.
        rc, _, err, db0, _, n_init = run(fx, "init", None, count=True)
        assert rc == 0, err
        fx.write("etc/a.conf", "alpha = 2\n")
        os.unlink(os.path.join(fx.root, "etc/b.conf"))
        fx.write("etc/new.conf", "new\n")
        template = os.path.join(fx.tmp, "tree-changed")
        subprocess.run(["cp", "-a", "--", fx.root, template], check=True)
        rc_check, out_check, err, inside, _, n_check = run(fx, "check", db0, count=True)
        assert rc_check in (1, 2, 4, 3, 5, 6, 7), err
        db1 = os.path.join(fx.tmp, "checked.db")  # the next run in the tree replaces it
        shutil.copy2(inside, db1)
        rc_report, out_report, err, _, _, n_report = run(fx, "report", db0, count=True)
        assert rc_report == rc_check, err
        fx.db0, fx.rc_check = db0, rc_check
        rc_accept, _, err, _, _, n_accept = run(fx, "accept", db1, count=True)
        assert rc_accept == 0, err
        rc_accept, _, err, accepted, _, _ = run(fx, "accept", db1)
        db2 = os.path.join(fx.tmp, "accepted.db")
        shutil.copy2(accepted, db2)
        more = {}
        for cmd, start in (("diff", db1), ("rerun", db1), ("show", db1), ("snapshots", db1),
                           ("runs", db1), ("undo", db2)):
            rc, out, err, _, _, n = run(fx, cmd, start, count=True)
            assert rc < 16, (cmd, err)
            more[cmd] = (start, rc, n, None, out if cmd != "undo" else None)
        rc_remedy, _, err, _, _, n_remedy = run(fx, "remedy", db1, count=True)
        assert rc_remedy == 0 and remedied(fx) is None, err
        restore_tree(fx, template)

        plan = {
            "init": (None, 0, n_init, None, None),
            "check": (db0, rc_check, n_check, None, out_check),
            "report": (db0, rc_report, n_report, None, out_report),
            "accept": (db1, 0, n_accept, None, None),
            "remedy": (db1, 0, n_remedy, template, None),
        }
        plan.update(more)
        failed = 0
        for i, cmd in enumerate(cmds, 1):
            start, ref, total, tmpl, out = plan[cmd]
            problems, runs, secs, codes = sweep(fx, cmd, start, ref, total, tmpl, out)
            hist = ", ".join("exit %d: %d" % (k, v) for k, v in sorted(codes.items()))
            summary = "%s: %d allocations, %d runs in %.1f s (%s)" % (
                cmd, total, runs, secs, hist)
            if problems:
                failed += 1
                print("not ok %d - %s" % (i, summary))
                for p in problems[:10]:
                    for line in p.splitlines():
                        print("# " + line)
                if len(problems) > 10:
                    print("# ... and %d more" % (len(problems) - 10))
            else:
                print("ok %d - %s" % (i, summary))
            sys.stdout.flush()
        return 1 if failed else 0
    finally:
        fx.close()


if __name__ == "__main__":
    sys.exit(main())
