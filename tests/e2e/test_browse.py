"""drift browse (issue 14): the real program in tmux, on a fixture run.

Each case runs drift in a tmux server of its own (tmux -L, a unique socket),
sends keys, and checks what capture-pane shows; drift's exit status is
written by the shell that runs it and checked at the end. Skipped (exit 77)
without tmux.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import DriftCase, run_tap, DRIFT, MODIFIED, E_USAGE, CLEAN  # noqa: E402
from test_package_work import PackageWorkCase  # noqa: E402

TMUX = shutil.which("tmux")

POLICY = """\
rules:
  - id: all
    path: /
    check: [type, mode, uid, gid, size, mtime, target, hash]
    keep_content: true
  - id: logs
    path: %(root)s/var/log
    severity: low
    expect: [size, mtime, hash]
"""


class Tmux:
    """One tmux server (its own socket) running one command."""

    def __init__(self, case, argv, x=100, y=30, env=None):
        self.case = case
        self.sock = "drift-browse-%d-%d" % (os.getpid(), id(self))
        self.rc = os.path.join(case.tmp, "rc-%d" % id(self))
        envs = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in (env or {}).items())
        cmd = "env -u NO_COLOR TZ=UTC %s %s; echo $? > %s" % (
            envs, " ".join(shlex.quote(os.fsdecode(a)) for a in argv), shlex.quote(self.rc))
        self.tmux("new-session", "-d", "-x", str(x), "-y", str(y), "sh", "-c", cmd)

    def tmux(self, *args, check=True):
        return subprocess.run([TMUX, "-L", self.sock, "-f", "/dev/null"] + list(args),
                              capture_output=True, check=check, timeout=30)

    def screen(self):
        p = self.tmux("capture-pane", "-p", check=False)
        return p.stdout.decode(errors="replace")

    def wait_for(self, *texts, timeout=20):
        """The screen once every text shows and it has settled.

        tmux may be captured while a frame is half drawn (drift's output
        arrives in more than one read, slowly under ASan): a header can
        show before the body under it. So the screen returned has every
        text and was the same in two captures 0.1 s apart; a caller
        that asserts on more than the texts it waited for sees a whole
        frame.
        """
        end = time.time() + timeout
        s = ""
        while time.time() < end:
            s = self.screen()
            if all(t in s for t in texts):
                time.sleep(0.1)
                again = self.screen()
                if again == s:
                    return s
                continue
            time.sleep(0.05)
        self.case.fail("%s never showed; the screen:\n%s"
                       % (" and ".join(map(repr, texts)), s))

    def keys(self, *keys):
        self.tmux("send-keys", *keys)

    def exit_code(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if os.path.exists(self.rc):
                with open(self.rc) as f:
                    data = f.read().strip()
                if data:
                    return int(data)
            time.sleep(0.05)
        self.case.fail("drift browse did not exit; the screen:\n%s" % self.screen())

    def kill(self):
        self.tmux("kill-server", check=False)


class Browse(DriftCase):
    def setUp(self):
        if not TMUX:
            self.skipTest("tmux is not installed")
        super().setUp()
        self.set_policy(POLICY % {"root": self.root})
        self.conf = self.write("etc/app.conf", b"alpha\nbeta\ngamma\n")
        self.write("etc/other.conf", b"x\n")
        self.write("var/log/app.log", b"line\n")
        self.write("usr/bin/tool", b"#!/bin/sh\n", mode=0o755)
        self.init()
        self.write("etc/app.conf", b"alpha\nBETA\ngamma\n")
        self.write("var/log/app.log", b"line\nline 2\n")
        os.chmod(self.path("usr/bin/tool"), 0o4755)
        self.write("etc/new.conf", b"new\n")
        self.servers = []
        # What `w` writes to; the tests' own, never the host's default.
        with open(os.path.join(self.tmp, "waivers.yaml"), "w") as f:
            f.write("# waivers of the browser's tests\n")

    def tearDown(self):
        for s in getattr(self, "servers", []):
            s.kill()
        super().tearDown()

    def browse(self, *args, x=100, y=30, env=None):
        self.waivers = os.path.join(self.tmp, "waivers.yaml")
        argv = [DRIFT, "browse", "--db=" + self.db, "--policy=" + self.policy,
                "--waivers=" + self.waivers] + list(args)
        t = Tmux(self, argv, x=x, y=y, env=env)
        self.servers.append(t)
        return t

    def check_run(self):
        self.drift("check", self.root, code=MODIFIED | 1)

    def test_navigate_filter_search_detail_quit(self):
        self.check_run()
        t = self.browse()
        s = t.wait_for("- /")  # the tree, drawn after the header: wait for both
        self.assertIn("drift browse", s)
        self.assertIn("run #1 check", s)
        self.assertIn("4/4 shown", s)
        esc = t.tmux("capture-pane", "-p", "-e").stdout.decode(errors="replace")
        self.assertRegex(esc, r"\x1b\[[0-9;]*31m")
        # The list view, sorted by severity: the log (low, expected) last.
        t.keys("4")
        s = t.wait_for("[list by severity")
        lines = [l for l in s.splitlines() if self.root in l]
        self.assertEqual(len(lines), 4, s)
        self.assertIn("app.log", lines[-1])
        self.assertIn("expected", lines[-1])
        # Filter: drift only.
        t.keys("c")
        s = t.wait_for(" drift]")
        self.assertIn("3/4 shown", s)
        self.assertNotIn("app.log", s)
        t.keys("0")
        t.wait_for("4/4 shown")
        # Search, then the detail pane with the diff of kept content.
        t.keys("/", "app.c")
        t.keys("Enter")
        time.sleep(0.2)
        t.keys("Tab")
        # A screen may be captured half drawn: wait for its last line.
        s = t.wait_for("+BETA")
        self.assertIn(" detail ", s)
        self.assertIn("changed:", s)
        self.assertIn("-beta", s)
        self.assertIn("+BETA", s)
        self.assertIn("rule: all", s)
        # n goes on to the next match; a search without a match says so.
        t.keys("Tab", "/", "nosuchname", "Enter")
        t.wait_for("no match")
        # The setuid bit, readably.
        t.keys("/", "tool", "Enter", "Tab")
        s = t.wait_for("rwsr-xr-x (4755)")
        self.assertIn("mode: rwxr-xr-x (0755) \u2192 rwsr-xr-x (4755)", s)
        # Help lists every key and filters.
        t.keys("Tab", "?")
        t.wait_for("keys (type to filter")
        t.keys("w", "a", "i", "v")
        s = t.wait_for("keys (type to filter, Esc or q closes): waiv")
        self.assertIn("waive them", s)
        self.assertNotIn("search keys", s)
        t.keys("Escape")
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)

    def test_trees_and_events(self):
        self.check_run()
        t = self.browse()
        s = t.wait_for("drift browse")
        self.assertIn("etc", s)
        # Collapse all, open all.
        t.keys("C")
        s = t.wait_for("+ /")
        t.keys("E")
        s = t.wait_for("app.conf")
        t.keys("2")
        s = t.wait_for("[kinds")
        self.assertIn("files  4 findings", s)
        t.keys("3")
        s = t.wait_for("[events")
        self.assertIn("+ no package event", s)
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)

    def test_small_terminal_screen(self):
        self.check_run()
        t = self.browse(x=80, y=24, env={"TERM": "screen", "NO_COLOR": "1"})
        s = t.wait_for("drift browse")
        self.assertTrue(all(len(l) <= 80 for l in s.splitlines()))
        # NO_COLOR: attributes (reverse, bold) but no colour.
        esc = t.tmux("capture-pane", "-p", "-e").stdout.decode(errors="replace")
        self.assertIn("\x1b[7m", esc)
        self.assertNotRegex(esc, r"\x1b\[[0-9;]*3[1-7]m")
        t.keys("4", "G", "Tab")
        s = t.wait_for(" detail ")
        # A resize redraws for the new size (KEY_RESIZE).
        t.tmux("resize-window", "-x", "60", "-y", "12")
        s = t.wait_for("q quit  ? keys  / search  Tab detail  1-4 view  s sor")
        self.assertTrue(all(len(l) <= 60 for l in s.splitlines()), s)
        self.assertIn("drift browse", s)
        t.keys("q", "q")
        self.assertEqual(t.exit_code(), 0)

    def test_resize_in_a_prompt_redraws_all_and_is_no_answer(self):
        """A resize while drift asks something: the prompt stays, with the
        whole screen drawn at the new size, and a resize is not an answer to
        a y/N question (it was taken for "no", and nothing was written), nor
        a key that clears the status line."""
        self.check_run()
        t = self.browse(x=100, y=30)
        t.wait_for("drift browse", "4/4 shown")
        t.keys("4", "/", "app.c", "Enter", "a")
        t.wait_for("accept, reason:")
        t.tmux("resize-window", "-x", "70", "-y", "14")
        s = t.wait_for("accept, reason:", "drift browse  run #1")
        self.assertTrue(s.startswith("drift browse"), s)
        self.assertTrue(all(len(l) <= 70 for l in s.splitlines()), s)
        t.keys("reviewed", "Enter")
        t.wait_for("accept 1 finding? [y/N]")
        t.tmux("resize-window", "-x", "80", "-y", "20")
        s = t.wait_for("accept 1 finding? [y/N]", "drift browse  run #1")
        self.assertTrue(s.startswith("drift browse"), s)
        self.assertEqual(len(s.rstrip("\n").splitlines()), 20, s)
        t.keys("y")
        s = t.wait_for("into baseline 'accept-")
        self.assertNotIn("[list by severity]", s)  # 80 columns cut the header short
        # A resize is no key: the status line keeps its message. (The whole
        # header shows once drift has drawn at 100 columns.)
        t.tmux("resize-window", "-x", "100", "-y", "30")
        s = t.wait_for("[list by severity]", "into baseline 'accept-")
        self.assertRegex(s.splitlines()[0], r"\[list by severity\]( \S+)?$", s)  # then the host
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)
        p = self.drift("accept", "--list", code=CLEAN)
        self.assertIn(b"reviewed", p.stdout)

    def test_hostile_name_shows_escaped(self):
        name = b"evil\x1b[31mred\xff\xfe\n.conf"
        with open(os.path.join(os.fsencode(self.root), b"etc", name), "wb") as f:
            f.write(b"x")
        self.write("etc/\u5bbd\u5e45.conf", b"wide\n")
        self.check_run()
        t = self.browse()
        t.keys("4")
        s = t.wait_for("[list")
        self.assertIn("evil\\x1b[31mred\\xff\\xfe\\n.conf", s)
        self.assertIn("\u5bbd\u5e45.conf", s)
        self.assertNotIn("\x1b", s)
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)

    def test_settling_answered_no_writes_nothing(self):
        self.check_run()
        before = open(self.db, "rb").read()
        t = self.browse()
        t.wait_for("drift browse")
        t.keys("4", "/", "app.c", "Enter", "a")
        t.wait_for("accept, reason:")
        t.keys("reviewed the change", "Enter")
        t.wait_for("accept 1 finding? [y/N]")
        t.keys("n")
        t.wait_for("nothing written")
        # Waive: reason, expiry, confirmation; then no.
        t.keys("w")
        t.wait_for("waive, reason:")
        t.keys("temporary", "Enter")
        t.wait_for("waive until (YYYY-MM-DD):")
        t.keys("2000-01-01", "Enter")
        t.wait_for("waive 1 finding until 2000-01-01? [y/N]")
        t.keys("n")
        t.wait_for("nothing written")
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)
        self.assertEqual(open(self.db, "rb").read(), before)
        with open(self.waivers) as f:
            self.assertEqual(f.read(), "# waivers of the browser's tests\n")

    def test_accept_waive_then_check_and_undo(self):
        """Accept one finding, waive one with an expiry in the past, quit: the
        next check no longer reports the accepted one, reports the lapsed
        waiver's finding again, and `drift accept --undo` brings it back."""
        self.check_run()
        t = self.browse()
        t.wait_for("drift browse")
        t.keys("4", "/", "app.c", "Enter", "a")
        t.wait_for("accept, reason:")
        t.keys("reviewed the change", "Enter")
        t.wait_for("accept 1 finding? [y/N]")
        t.keys("y")
        s = t.wait_for("into baseline 'accept-")
        self.assertIn("accepted 1 entry", s)
        # Accepted findings show as such, and the filter line counts them.
        t.keys("/", "new.c", "Enter", "w")
        t.wait_for("waive, reason:")
        t.keys("vendor hotfix", "Enter")
        t.wait_for("waive until (YYYY-MM-DD):")
        t.keys("2000-01-01", "Enter")
        t.wait_for("waive 1 finding until 2000-01-01? [y/N]")
        t.keys("y")
        t.wait_for("waived 1 finding until 2000-01-01")
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)
        with open(self.waivers) as f:
            w = f.read()
        self.assertTrue(w.startswith("# waivers of the browser's tests\n"), w)
        self.assertIn("vendor hotfix", w)
        self.assertIn(self.path("etc/new.conf"), w)
        # The next check: app.conf is the baseline's now; new.conf's waiver expired.
        p = self.drift("check", "--waivers=" + self.waivers, self.root, code=MODIFIED | 1)
        out = p.stdout.decode()
        self.assertNotIn(self.path("etc/app.conf"), out)
        self.assertIn(self.path("etc/new.conf"), out)
        self.assertIn("waiver expired on 2000-01-01", out)
        # Reopened, the reviewed run shows the finding accepted; u undoes it.
        t = self.browse("1")
        t.wait_for("drift browse")
        t.keys("4", "/", "app.c", "Enter")
        s = t.wait_for("accepted")
        t.keys("u")
        t.wait_for("undo the last acceptance? [y/N]")
        t.keys("y")
        t.wait_for("undone")
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)
        p = self.drift("check", "--waivers=" + self.waivers, self.root, code=MODIFIED | 1)
        self.assertIn(self.path("etc/app.conf"), p.stdout.decode())

    def test_accept_a_whole_node(self):
        """`a` on a tree node accepts every finding under it, as one acceptance."""
        self.check_run()
        t = self.browse()
        t.wait_for("drift browse")
        t.keys("2")
        t.wait_for("files  4 findings")
        t.keys("g", "g", "a")
        t.wait_for("accept, reason:")
        t.keys("all reviewed", "Enter")
        t.wait_for("accept 4 findings? [y/N]")
        t.keys("y")
        t.wait_for("accepted 4 entries into baseline 'accept-")
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)
        p = self.drift("check", "--waivers=" + self.waivers, self.root, code=0)
        self.assertIn(b"no deviations", p.stdout)
        p = self.drift("accept", "--list", "--db=" + self.db, code=0)
        self.assertIn(b"all reviewed", p.stdout)

    def test_remedy_the_selection_then_check_and_undo(self):
        """x plans the remediation of the finding at the cursor, says what it
        does, and applies it on y: the next check no longer reports it, and
        `drift remedy --undo` brings the drift back."""
        self.set_policy((POLICY % {"root": self.root}).replace(
            "keep_content: true", "keep_content: true\n    remediate: plan"))
        self.check_run()
        t = self.browse()
        t.wait_for("drift browse")
        t.keys("4", "/", "app.c", "Enter", "x")
        s = t.wait_for("apply 1 action? [y/N]")
        self.assertIn("restore " + self.path("etc/app.conf")[:40], s)
        t.keys("n")
        t.wait_for("nothing changed")
        with open(self.conf, "rb") as f:
            self.assertEqual(f.read(), b"alpha\nBETA\ngamma\n", "n changes nothing")
        t.keys("x")
        t.wait_for("apply 1 action? [y/N]")
        t.keys("y")
        t.wait_for("remediation #1: 1 done, 0 failed, 0 skipped")
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)
        with open(self.conf, "rb") as f:
            self.assertEqual(f.read(), b"alpha\nbeta\ngamma\n")
        p = self.drift("check", "--waivers=" + self.waivers, self.root, code=MODIFIED | 1)
        self.assertNotIn(self.conf.encode(), p.stdout)
        self.drift("remedy", "--undo", code=0)
        with open(self.conf, "rb") as f:
            self.assertEqual(f.read(), b"alpha\nBETA\ngamma\n")

    def test_remedy_what_the_policy_does_not_allow_is_refused(self):
        self.check_run()
        t = self.browse()
        t.wait_for("drift browse")
        t.keys("4", "/", "app.c", "Enter", "x")
        t.wait_for("nothing drift remedies itself here (1 not allowed")
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)

    def test_read_only_under_root(self):
        self.check_run()
        t = self.browse("--root", self.root)
        t.wait_for("read-only")
        t.keys("a")
        t.wait_for("read-only: the run is of another root")
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)

    def test_diff_of_two_snapshots(self):
        self.drift("scan", "--label", "after", self.root, code=0)
        t = self.browse("baseline", "after")
        s = t.wait_for("drift browse")
        self.assertIn("diff", s)
        self.assertIn("4/4 shown", s)
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)

    def test_refuses_without_a_terminal(self):
        self.check_run()
        p = self.drift("browse", code=E_USAGE)
        self.assertIn(b"browse needs a terminal", p.stderr)
        p = self.drift("browse", "--help", code=0)
        self.assertIn(b"usage: drift browse", p.stdout)
        self.drift("browse", "x", code=E_USAGE)



class BrowsePackage(PackageWorkCase):
    """A package transaction accepted as a whole from the events view."""

    def setUp(self):
        if not TMUX:
            self.skipTest("tmux is not installed")
        super().setUp()
        self.servers = []

    def tearDown(self):
        for s in getattr(self, "servers", []):
            s.kill()
        super().tearDown()

    def test_accept_a_package_event(self):
        self.drift("init", "-q", "--root", self.host, code=CLEAN)
        self.install_pytool()
        self.drift("check", "-q", "--root", self.host, code=CLEAN)
        # Browsing a stored run needs no --root (which would make it read-only).
        t = Tmux(self, [DRIFT, "browse", "--db=" + self.db, "--policy=" + self.policy])
        self.servers.append(t)
        t.wait_for("drift browse")
        t.keys("3")
        s = t.wait_for("[events")
        self.assertRegex(s, r"\+ pytool 2\.0-1 installed, 16 findings")
        self.assertNotIn("pytool:all", s)
        t.keys("g", "g")
        t.wait_for("[events")
        t.keys("a")
        t.wait_for("accept, reason:")
        t.keys("apt install pytool", "Enter")
        s = t.wait_for("? [y/N]")
        t.keys("y")
        s = t.wait_for("into baseline 'accept-")
        t.keys("q")
        self.assertEqual(t.exit_code(), 0)
        p = self.drift("check", "--root", self.host, "--format", "json", code=MODIFIED)
        doc = json.loads(p.stdout)
        self.assertEqual([d for d in doc["deviations"]
                          if d.get("event", {}).get("name") == "pytool"], [])

if __name__ == "__main__":
    run_tap(__name__)
