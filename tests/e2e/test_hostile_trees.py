#!/usr/bin/env python3
"""Hostile trees, end to end (issue 16): a tree mutated while it is scanned,
every byte and terminal escapes in names, 200,000 entries in one directory,
2,000 levels, and 32 descriptors over a deep tree.

What the others cover, and this file does not repeat: test_walk_limits.py
(too few descriptors for a shallow tree, nesting beyond the path limit, a
1 TiB sparse file whose far data changes), test_root_race.py (a directory
under --root exchanged with a symlink to the host), test_check.py and
test_output.py (a few odd names, bidi characters).
"""

import base64
import ctypes
import errno
import hashlib
import html.parser
import json
import os
import re
import resource
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import unicodedata
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["DRIFT_TEST_RAW_BLOCKS"] = "1"  # entries read with blocks.py
import blocks  # noqa: E402
from drifttest import (ADDED, CLEAN, DRIFT, E_SCAN, MODIFIED, REMOVED, DriftCase,  # noqa: E402
                       env_for_drift, raw_path, run_tap)
from test_browse import Tmux as BrowseTmux  # noqa: E402
from test_system import SystemCase  # noqa: E402

TMUX = shutil.which("tmux")

FILES = 1  # the block kind of file entries
DEFINED = set(range(8)) | {E_SCAN}  # the exit codes a check may give a changing tree


def note(msg):
    """A TAP comment (on stdout, which meson reads as TAP, between the results)."""
    print("# " + msg, flush=True)


def integrity(case, db):
    con = sqlite3.connect(db)
    try:
        case.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
    finally:
        con.close()


def snapshot_views(db):
    """{snapshot id: {path: record}} with every check's delta laid over its parent."""
    con = sqlite3.connect(db)
    try:
        snaps = con.execute("SELECT id, parent, entries, status FROM snapshot ORDER BY id").fetchall()
        own = {}
        for s, k, data in con.execute("SELECT snap, kind, data FROM block ORDER BY snap, first"):
            if k == FILES:
                own.setdefault(s, []).extend(blocks.decode(data))
    finally:
        con.close()
    views, counts = {}, {}
    for s, parent, entries, status in snaps:
        if status != "complete":
            continue
        view = dict(views[parent]) if parent else {}
        for r in own.get(s, []):
            if r["tomb"]:
                view.pop(r["key"], None)
            else:
                view[r["key"]] = r
        views[s] = view
        counts[s] = entries
    return views, counts


# ---- 1. a tree mutated while it is scanned ----

AT_FDCWD = -100
RENAME_EXCHANGE = 2

# Mutates the tree in argv[1] until it is killed: files created, deleted,
# renamed, grown, truncated, replaced by a symlink to "/", and the directory
# swap exchanged with the symlink swap.alt -> "/".
MUTATOR = r"""
import ctypes, os, random, sys
libc = ctypes.CDLL(None, use_errno=True)
os.chdir(sys.argv[1])
rnd = random.Random(int(sys.argv[2]))
files = ["work/m%02d" % i for i in range(40)] + ["swap/s%d" % i for i in range(10)] + \
        ["swap/inner/i%d" % i for i in range(5)]
print("ready", flush=True)
while True:
    f, g = rnd.choice(files), rnd.choice(files)
    op = rnd.randrange(8)
    try:
        if op == 0:
            fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
            os.write(fd, os.urandom(rnd.randrange(1, 5000)))
            os.close(fd)
        elif op == 1:
            os.unlink(f)
        elif op == 2:
            os.rename(f, g)
        elif op == 3:
            fd = os.open(f, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
            os.write(fd, os.urandom(rnd.randrange(1, 70000)))
            os.close(fd)
        elif op == 4:
            fd = os.open(f, os.O_WRONLY | os.O_NOFOLLOW)
            os.ftruncate(fd, rnd.randrange(0, 100))
            os.close(fd)
        elif op == 5:
            os.symlink("/", f + ".new")
            os.rename(f + ".new", f)
        else:
            libc.renameat2(-100, b"swap", -100, b"swap.alt", 2)
    except OSError:
        pass
"""

DIRS = {b"work", b"swap", b"swap.alt", b"inner", b"static"}
LEAVES = {("m%02d" % i).encode() for i in range(40)} | {("s%d" % i).encode() for i in range(10)} | \
    {("i%d" % i).encode() for i in range(5)}
LEAVES |= {n + b".new" for n in LEAVES}  # a symlink on its way to replace a file
LEAVES |= {("k%03d" % i).encode() for i in range(300)}  # swap/static: the walk stays in swap


def have_renameat2():
    return hasattr(ctypes.CDLL(None, use_errno=True), "renameat2")


class MutatedWhileScanned(DriftCase):

    def make_tree(self):
        for i in range(40):
            self.write("work/m%02d" % i, os.urandom(i * 100))
        for i in range(10):
            self.write("swap/s%d" % i, "swap %d\n" % i)
        for i in range(5):
            self.write("swap/inner/i%d" % i, "inner %d\n" % i)
        for i in range(300):
            self.write("swap/static/k%03d" % i, "static %d\n" % i)
        os.symlink("/", self.path("swap.alt"))

    def drift_mutated(self, *args):
        """drift ARGS while the tree changes: a defined exit code, a message for a failure."""
        waivers = ["--waivers=" + self.waivers] if args[0] == "check" else []
        p = subprocess.run([DRIFT, args[0], "--db=" + self.db, "--policy=" + self.policy,
                            *waivers, *args[1:]], capture_output=True,
                           env=env_for_drift(), stdin=subprocess.DEVNULL, timeout=120)
        self.assertIn(p.returncode, DEFINED, "drift %s: exit %d\n%s" % (
            args[0], p.returncode, p.stderr.decode(errors="replace")))
        if p.returncode == E_SCAN:
            self.assertTrue(p.stderr.strip(), "a failed scan says why")
        return p

    def assert_inside(self, db):
        """No key stored anywhere names a path outside the tree or below a symlink."""
        root = os.fsencode(self.root)
        con = sqlite3.connect(db)
        try:
            keys = [k for _, _, k in blocks.keys(con, kind=FILES)]
            keys += [k for (k,) in con.execute("SELECT key FROM finding WHERE kind = ?",
                                               (FILES,))]
            keys += [k for (k,) in con.execute("SELECT key FROM run_blind WHERE kind = ?",
                                               (FILES,))]
        finally:
            con.close()
        for k in keys:
            k = bytes(k)
            self.assertTrue(k == root or k.startswith(root + b"/"), "outside the tree: %r" % k)
            parts = k[len(root) + 1:].split(b"/") if k != root else []
            for part in parts[:-1]:
                self.assertIn(part, DIRS, "a path the mutator never made: %r" % k)
            if parts:
                self.assertIn(parts[-1], DIRS | LEAVES, "a path the mutator never made: %r" % k)
        self.assertGreater(len(keys), 0)

    def assert_consistent(self, views, counts):
        """Each snapshot: every type as the mutator makes it, nothing below a symlink."""
        for snap, view in views.items():
            self.assertEqual(len(view), counts[snap], "snapshot #%d" % snap)
            links = set()
            for key, r in view.items():
                name = key.rsplit(b"/", 1)[-1]
                fmt = stat.S_IFMT(r["mode"])
                if fmt == stat.S_IFLNK:
                    # With its target; without only when it vanished before it was read.
                    if r["target"] is None:
                        self.assertEqual(r["err"], 2 * errno.ENOENT, "%r" % r)  # zigzag
                    else:
                        self.assertEqual(r["target"], b"/", "%r" % r)
                    links.add(key)
                elif fmt == stat.S_IFDIR:
                    self.assertIsNone(r["target"])
                    self.assertTrue(name in DIRS or key == os.fsencode(self.root), key)
                else:
                    self.assertEqual(fmt, stat.S_IFREG, key)
                    self.assertIsNone(r["target"])
                    self.assertIn(name, LEAVES)
            for key in view:
                for link in links:
                    self.assertFalse(key.startswith(link + b"/"),
                                     "snapshot #%d: %r recorded through the symlink %r" % (
                                         snap, key, link))

    def final_state(self):
        """{path: (type, size or None, target)} of the tree, walked without following."""
        out = {}
        root = os.fsencode(self.root)
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            for name in [b""] + dirnames + filenames:
                p = os.path.join(dirpath, name) if name else dirpath
                if name == b"" and p != root:
                    continue
                st = os.lstat(p)
                fmt = stat.S_IFMT(st.st_mode)
                out[p] = (fmt, st.st_size if fmt == stat.S_IFREG else None,
                          os.readlink(p) if fmt == stat.S_IFLNK else None)
        return out

    def test_mutations_during_init_and_checks(self):
        if not have_renameat2():
            self.skipTest("no renameat2() in the C library")
        self.make_tree()
        self.waivers = self.no_waivers
        with open(self.waivers, "w") as f:
            f.write("# none\n")
        codes = {}
        for seed in range(3):
            mutator = subprocess.Popen([sys.executable, "-c", MUTATOR, self.root, str(seed)],
                                       stdout=subprocess.PIPE)
            try:
                self.assertEqual(mutator.stdout.readline().strip(), b"ready")
                p = self.drift_mutated("init", "-q", "--force", "--narrower", "--threads", "2",
                                       self.root)
                codes.setdefault("init", []).append(p.returncode)
                for i in range(4):
                    p = self.drift_mutated("check", "-q", "--threads", str(1 + i % 2))
                    codes.setdefault("check", []).append(p.returncode)
            finally:
                mutator.kill()
                mutator.wait()
        note("exit codes under mutation: %r" % codes)
        self.assertIn(CLEAN, codes["init"], "no init ever got a baseline")
        integrity(self, self.db)
        self.assert_inside(self.db)
        views, counts = snapshot_views(self.db)
        self.assertGreater(len(views), 4)
        self.assert_consistent(views, counts)
        # The race was live: swap was seen as the directory and as the symlink.
        swap = os.fsencode(self.path("swap"))
        seen = {stat.S_IFMT(v[swap]["mode"]) for v in views.values() if swap in v}
        note("snapshots: %d; swap seen as %r" % (len(views), sorted(map(stat.filemode, seen))))
        self.assertEqual(seen, {stat.S_IFDIR, stat.S_IFLNK})

        # Still now: a check reports exactly how the tree differs from the baseline.
        p = self.drift_mutated("check", "--format", "json")
        doc = json.loads(p.stdout)
        views, _ = snapshot_views(self.db)
        base = views[doc["old"]["id"]]
        now = self.final_state()
        # The check's own snapshot is the tree as it is.
        last = views[doc["new"]["id"]]
        self.assertEqual({k: (stat.S_IFMT(r["mode"]),
                              r["size"] if stat.S_ISREG(r["mode"]) else None,
                              r["target"]) for k, r in last.items()}, now)
        got = {}
        for d in doc["deviations"]:
            got.setdefault(d["change"], set()).add(raw_path(d))
        self.assertEqual(got.get("added", set()), set(now) - set(base))
        self.assertEqual(got.get("removed", set()), set(base) - set(now))
        differ = set()
        for k in set(now) & set(base):
            r = base[k]
            was = (stat.S_IFMT(r["mode"]), r["size"] if stat.S_ISREG(r["mode"]) else None,
                   r["target"])
            if was != now[k]:
                differ.add(k)
        modified = got.get("modified", set())
        self.assertLessEqual(differ, modified)
        self.assertLessEqual(modified, set(now) & set(base))
        want = (ADDED if got.get("added") else 0) | (REMOVED if got.get("removed") else 0) | \
            (MODIFIED if modified else 0)
        self.assertEqual(p.returncode, want)
        # And a baseline of the still tree is a clean check.
        self.drift("init", "-q", "--force", "--narrower", self.root, code=CLEAN)
        self.drift("check", code=CLEAN)
        integrity(self, self.db)


# ---- 2. every byte, and terminal escapes, in names ----

# Names that a terminal would act on, or that are no UTF-8 at all.
ESCAPES = [
    b"\x1b[2J",                    # clear the screen
    b"\x1b]52;c;cm0gLXJmIH4K\x07",  # OSC 52: write the clipboard
    b"\x1b]0;pwned\x07",           # OSC 0: set the window title
    b"\x1bP+q544e\x1b\\",           # DCS: ask the terminal something
    b"\x9b31m",                    # CSI as the 8-bit C1 byte
    b"\xc2\x9b31m",                # CSI as U+009B in UTF-8
    b"\xc2\x9d0;t\xc2\x9c",        # OSC ... ST as UTF-8 C1 characters
    b"bel\x07", b"a\x08\x08b", b"cr\roverwritten", b"nl\n  added     shadow  [everything] new file",
    b"tab\tx", b"del\x7f", b"back\\x41slash",
    b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x90\x28\xbc", b"\xff\xfe\xfd",
    b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", "\u65e5\u672c".encode() + b"\xff",
]
C_ESCAPES = {0x07: "\\a", 0x08: "\\b", 0x09: "\\t", 0x0a: "\\n", 0x0b: "\\v", 0x0c: "\\f",
             0x0d: "\\r", 0x5c: "\\\\"}


def escaped(raw):
    """A name as drift(1) says text shows it (only the escapes these names need)."""
    out = []
    for ch in raw.decode("utf-8", "surrogateescape"):
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append("\\x%02x" % (o - 0xDC00))  # a byte of invalid UTF-8
        elif o in C_ESCAPES:
            out.append(C_ESCAPES[o])
        elif o < 0x20 or 0x7F <= o <= 0x9F:
            out.append("".join("\\x%02x" % b for b in ch.encode()))
        else:
            assert unicodedata.category(ch) != "Cf", "a name of the test needs \\u escapes"
            out.append(ch)
    return "".join(out)


def controls(text, allow="\n"):
    """The control characters in @text but those in @allow: what a terminal acts on."""
    return sorted({"U+%04X" % ord(c) for c in text
                   if (ord(c) < 0x20 and c not in allow) or 0x7F <= ord(c) <= 0x9F})


class Scripts(html.parser.HTMLParser):
    """The tags of an HTML document and the text of its JSON scripts."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self.current = [], {}, None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "script" and attrs.get("type") == "application/json":
            self.current = attrs.get("id")
            self.scripts[self.current] = ""

    def handle_endtag(self, tag):
        if tag == "script":
            self.current = None

    def handle_data(self, data):
        if self.current:
            self.scripts[self.current] += data


class HostileNames(DriftCase):

    policy_text = """\
rules:
  - id: everything
    path: /
    check: [type, mode, uid, gid, size, mtime, ctime, inode, device, nlink, target, hash]
    remediate: plan
"""

    def setUp(self):
        super().setUp()
        # The scanned root's own name is hostile too: it leads every path,
        # and the snapshots list shows it.
        self.top = os.path.join(os.fsencode(self.root), b"r\x1b]0;T\x07oot\x9b")
        self.d = os.path.join(self.top, b"d")
        os.makedirs(self.d)
        self.keep = self.put(b"keep\x1b[2J", b"v1\n")
        self.gone = self.put(b"gone\x1b]0;x\x07", b"bye\n")
        self.link = os.path.join(self.d, b"link\x1b[5m")
        os.symlink(b"t1", self.link)
        self.drift("init", "-q", self.top, code=CLEAN)
        self.added = set()
        for b in range(1, 256):
            if b != ord("/"):
                self.added.add(self.put(b"n" + bytes([b]) + b"x", b""))
        for n in ESCAPES:
            self.added.add(self.put(n, n))
        # A path with "</script>" in it, and a name that is markup.
        os.mkdir(os.path.join(self.d, b"<"))
        self.added.add(os.path.join(self.d, b"<"))
        self.added.add(self.put(b"</script><img src=x onerror=alert(1)>", b"x"))
        self.put(b"keep\x1b[2J", b"v2\n")
        os.unlink(self.gone)
        os.unlink(self.link)
        self.target = b"\x1b]52;c;ZXZpbA==\x07\x9b\xc2\x9b"
        os.symlink(self.target, self.link)
        self.want = {"added": self.added, "removed": {self.gone},
                     "modified": {self.keep, self.link}}
        self.count = sum(len(v) for v in self.want.values())
        self.assertEqual(self.count, 254 + len(ESCAPES) + 2 + 3)

    def put(self, name, data):
        p = os.path.join(self.d, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def assert_text(self, out, what, allow="\n"):
        """@out is UTF-8 with no control character but those in @allow."""
        try:
            text = out.decode("utf-8")
        except UnicodeDecodeError as e:
            self.fail("%s: not UTF-8 (%s): a raw byte of a name" % (what, e))
        self.assertEqual(controls(text, allow), [], what)
        return text

    def assert_findings_text(self, text, what):
        lines = text.splitlines()
        for change, paths in self.want.items():
            for p in paths:
                line = "  %-9s %s" % (change, escaped(p))
                self.assertEqual(sum(1 for ln in lines
                                     if ln.startswith((line + "  ", line + " (dir)  "))), 1,
                                 "%s: %r on one line" % (what, line))
        rows = [ln for ln in lines if ln.startswith(("  added ", "  removed ", "  modified "))]
        self.assertEqual(len(rows), self.count, what)

    def assert_json(self, doc, what):
        got = {}
        for d in doc["deviations"]:
            got.setdefault(d["change"], set()).add(raw_path(d))
            self.assertEqual(controls(d["path"]), [], what)
            if "path_b64" in d:
                self.assertEqual(d["path"], escaped(raw_path(d)), what)
        self.assertEqual(got, self.want, what)
        link = [d for d in doc["deviations"] if raw_path(d) == self.link]
        new = link[0]["new"]
        target = base64.b64decode(new["target_b64"]) if "target_b64" in new else \
            new["target"].encode()
        self.assertEqual(target, self.target, what)

    def test_every_format_of_every_command(self):
        reports = {f: os.path.join(self.tmp, "report." + f)
                   for f in ("json", "ndjson", "html", "junit", "prometheus")}
        p = self.drift("check", *["--report=%s:%s" % kv for kv in reports.items()],
                       code=ADDED | REMOVED | MODIFIED)
        text = self.assert_text(p.stdout, "check text")
        self.assert_findings_text(text, "check text")
        self.assert_text(p.stderr, "check stderr")
        read = {f: open(path, "rb").read() for f, path in reports.items()}

        self.assert_json(json.loads(read["json"]), "check json")
        lines = [json.loads(ln) for ln in read["ndjson"].splitlines()]
        self.assert_json({"deviations": [r for r in lines if r["type"] == "finding"]},
                         "check ndjson")

        page = self.assert_text(read["html"], "check html", allow="\n\t")  # its style sheet's
        parser = Scripts()
        parser.feed(page)
        parser.close()
        self.assertNotIn("img", parser.tags, "a name became markup")
        rows = json.loads(parser.scripts["drift-findings"])
        self.assertEqual(len(rows), self.count)
        self.assertEqual({r[6] for r in rows}, {escaped(p) for v in self.want.values() for p in v})

        junit = self.assert_text(read["junit"], "check junit")
        tree = ET.fromstring(read["junit"])
        body = "\n".join(e.text or "" for e in tree.iter()).splitlines()
        for change, paths in self.want.items():
            for p in paths:
                line = "[medium] %s %s" % (change, escaped(p))
                self.assertEqual(sum(1 for ln in body
                                     if ln.startswith((line + ": ", line + " ("))), 1,
                                 "junit: %r on one line" % line)

        prom = self.assert_text(read["prometheus"], "check prometheus")
        for change, paths in self.want.items():
            self.assertIn('drift_findings_changes{command="check",change="%s"} %d\n' % (
                change, len(paths)), prom)

        # The same run again, from the database: the same findings, as safe.
        p = self.drift("report", code=ADDED | REMOVED | MODIFIED)
        self.assertEqual(self.assert_text(p.stdout, "report text"), text)
        p = self.drift("report", "--format", "json", code=ADDED | REMOVED | MODIFIED)
        self.assert_json(json.loads(p.stdout), "report json")

        # Each format on standard output, as --report wrote it.
        for fmt in reports:
            p = self.drift("check", "--format", fmt, code=ADDED | REMOVED | MODIFIED)
            self.assert_text(p.stdout, "check --format " + fmt, allow="\n\t")
            if fmt == "json":
                self.assert_json(json.loads(p.stdout), "check --format json")

        # diff of the stored snapshots.
        snaps = json.loads(self.drift("snapshots", "--format", "json", code=0).stdout)
        ids = [str(s["id"]) for s in snaps["snapshots"]]
        p = self.drift("diff", ids[0], ids[-1], code=ADDED | REMOVED | MODIFIED)
        self.assert_findings_text(self.assert_text(p.stdout, "diff text"), "diff text")
        p = self.drift("diff", "--format", "json", ids[0], ids[-1],
                       code=ADDED | REMOVED | MODIFIED)
        self.assert_json(json.loads(p.stdout), "diff json")

        # The snapshots list shows the root escaped, in text and JSON.
        p = self.drift("snapshots", code=0)
        self.assertIn("roots " + escaped(self.top), self.assert_text(p.stdout, "snapshots"))
        for s in snaps["snapshots"]:
            self.assertEqual(s["roots"], [escaped(self.top)])

        # The remedy plan names every path escaped, one step each.
        p = self.drift("remedy", "--quarantine", os.path.join(self.tmp, "q"), code=0)
        plan = self.assert_text(p.stdout, "remedy plan")
        # The directory "<" goes into the quarantine whole, its file in it.
        inside = os.path.join(self.d, b"<", b"script><img src=x onerror=alert(1)>")
        self.assertIn(": %d steps\n" % (self.count - 1), plan)
        for path in self.added - {inside}:
            self.assertIn("  move %s into the quarantine\n" % escaped(path), plan)
        for path in (self.gone, self.keep, self.link):
            self.assertIn(escaped(path), plan)

        # policy explain prints the path it was given.
        for path in (self.link, self.put(b"\x1b]0;pwned\x07", b"")):
            p = self.drift("policy", "explain", "--policy", self.policy, path, code=0)
            self.assertIn(escaped(path) + ": covered by rule 'everything'",
                          self.assert_text(p.stdout, "policy explain"))


class BrowseEscapes(DriftCase):
    """drift browse in tmux, which would act on what reaches it raw: set its
    title (OSC 0), fill its paste buffers (OSC 52, allowed here), clear it."""

    NAMES = [b"\x1b]0;pwned\x07", b"\x1b]52;c;cHduZWQ=\x07", b"\x1b[2J", b"\x9b2J",
             b"\xc2\x9b2J", b"\x1b]2;pwned2\x1b\\", b"bel\x07bs\x08"]

    def test_escapes_in_names_are_shown_escaped(self):
        if not TMUX:
            self.skipTest("tmux is not installed")
        self.write("etc/a", "1")
        self.init()
        etc = os.path.join(os.fsencode(self.root), b"etc")
        for n in self.NAMES:
            with open(os.path.join(etc, n), "wb") as f:
                f.write(n)
        self.drift("check", code=ADDED)
        conf = os.path.join(self.tmp, "tmux.conf")
        with open(conf, "w") as f:
            f.write("set -g set-clipboard on\n")

        class Tmux(BrowseTmux):
            def tmux(self, *args, check=True):
                return subprocess.run([TMUX, "-L", self.sock, "-f", conf] + list(args),
                                      capture_output=True, check=check, timeout=30)

        t = Tmux(self, [DRIFT, "browse", "--db=" + self.db, "--policy=" + self.policy,
                        "--waivers=" + os.path.join(self.tmp, "w.yaml")], x=160, y=40)
        with open(os.path.join(self.tmp, "w.yaml"), "w") as f:
            f.write("# none\n")
        try:
            t.keys("4")
            screen = t.wait_for("[list")
            for n in self.NAMES:
                self.assertIn(escaped(n), screen)
            raw = t.tmux("capture-pane", "-p", "-e").stdout
            # What is left of the pane's escapes but its colours: nothing.
            rest = re.sub(rb"\x1b\[[0-9;:]*m", b"", raw)
            self.assertEqual(controls(rest.decode("utf-8")), [])
            title = t.tmux("display", "-p", "#{pane_title}").stdout
            self.assertNotIn(b"pwned", title)
            self.assertEqual(t.tmux("list-buffers").stdout, b"", "OSC 52 reached tmux")
            t.keys("q")
            self.assertEqual(t.exit_code(), 0)
        finally:
            t.kill()


class VerifyEscapes(SystemCase):
    """drift verify prints the paths of dpkg's lists, which a package (or
    whoever writes var/lib/dpkg) names: escaped as in every report."""

    NAMES = [b"\x1b]0;pwned\x07", b"\x1b[2J", b"\x9b2J", b"\xc2\x9b2J", b"\xff\xfe",
             b"cr\rx", b"bel\x07"]

    def test_hostile_names_from_dpkg(self):
        doc = os.path.join(self.host, "usr", "share", "doc", "hello")
        sums, lst, want = b"", b"", {}
        for i, n in enumerate(self.NAMES):
            rel = b"usr/share/doc/hello/" + n
            data = b"file %d\n" % i
            sums += hashlib.md5(data).hexdigest().encode() + b"  " + rel + b"\n"
            lst += b"/" + rel + b"\n"
            if i % 2:
                with open(os.path.join(os.fsencode(doc), n), "wb") as f:
                    f.write(data + b"tampered\n")  # modified
                want[b"/" + rel] = "modified"
            else:
                want[b"/" + rel] = "removed"
        for name, data in (("hello.md5sums", sums), ("hello.list", lst)):
            with open(self.h("var/lib/dpkg/info/" + name), "ab") as f:
                f.write(data)
        p = self.drift("verify", "--verbose", "--root", self.host, code=REMOVED | MODIFIED)
        text = p.stdout.decode("utf-8")
        self.assertEqual(controls(text), [])
        for path, change in want.items():
            self.assertIn(" %-9s %s  " % (change, escaped(path)), text)
        p = self.drift("verify", "--root", self.host, "--format", "json",
                       code=REMOVED | MODIFIED)
        got = {raw_path(d): d["change"] for d in json.loads(p.stdout)["deviations"]}
        self.assertEqual(got, want)


# ---- 3. 200,000 entries in one directory ----

class HugeDirectory(DriftCase):

    N = 200000

    def setUp(self):
        super().setUp()
        # Made on a tmpfs where there is one: 200,000 inodes of a disk take
        # from 4 s to 40 s to make when other tests write too.
        shm = "/dev/shm"
        if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
            self.root = tempfile.mkdtemp(prefix="drift-e2e-huge-", dir=shm)

    def tearDown(self):
        if self.root.startswith("/dev/shm/"):
            subprocess.run(["rm", "-rf", "--", self.root], check=False)
        super().tearDown()

    def test_two_hundred_thousand_names(self):
        big = os.path.join(self.root, "big")
        os.mkdir(big)
        t0 = time.monotonic()
        fd = os.open(big, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for i in range(self.N):
                os.close(os.open("f%06d" % i, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
        finally:
            os.close(fd)
        t1 = time.monotonic()
        self.drift("init", "-q", self.root, code=CLEAN)
        t2 = time.monotonic()
        snaps = json.loads(self.drift("snapshots", "--format", "json", code=0).stdout)
        self.assertEqual(snaps["snapshots"][0]["entries"], self.N + 2)  # the root, big
        self.assertEqual(snaps["snapshots"][0]["errors"], 0)
        p = self.drift("check", code=CLEAN)
        t3 = time.monotonic()
        self.assertIn(b"no deviations", p.stdout)
        # One file among them changes, its mtime put back.
        one = os.path.join(big, "f123456")
        st = os.stat(one)
        with open(one, "wb") as f:
            f.write(b"x")
        os.utime(one, ns=(st.st_atime_ns, st.st_mtime_ns))
        doc, p = self.check_json(code=MODIFIED)
        t4 = time.monotonic()
        self.assertEqual([raw_path(d) for d in doc["deviations"]], [os.fsencode(one)])
        self.assertIn("size", doc["deviations"][0]["attributes"])
        self.assertIn("hash", doc["deviations"][0]["attributes"])
        self.assertEqual(doc["summary"]["entries_checked"], self.N + 2)
        note("%d files: created in %.1f s, init %.1f s, clean check %.1f s, check %.1f s" % (
            self.N, t1 - t0, t2 - t1, t3 - t2, t4 - t3))


# ---- 4. 32 descriptors over a tree deeper than 32 levels ----

DEPTH32 = 40


def limit_fds(n):
    def preexec():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return preexec


class ThirtyTwoDescriptors(DriftCase):
    """test_walk_limits.py covers 8 (refused) and 12 and 24 (enough) on a shallow tree."""

    policy_text = """\
rules:
  - id: everything
    path: /
    check: [type, mode, uid, gid, size, mtime, ctime, inode, device, nlink, target, hash]
    keep_content: true
    remediate: plan
"""

    def limited(self, *args, codes):
        argv = [DRIFT, args[0], "--db=" + self.db] + list(args[1:])
        if args[0] in ("init", "check"):
            argv.insert(2, "--policy=" + self.policy)
        if args[0] == "check":
            argv.insert(2, "--waivers=" + self.no_waivers)
            with open(self.no_waivers, "w") as f:
                f.write("# none\n")
        p = subprocess.run(argv, capture_output=True, env=env_for_drift(), timeout=120,
                           stdin=subprocess.DEVNULL, preexec_fn=limit_fds(32))
        self.assertIn(p.returncode, codes, "drift %s under ulimit -n 32:\n%s%s" % (
            args[0], p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")))
        if p.returncode == E_SCAN:
            self.assertIn(b"Too many open files", p.stderr)
        return p

    def test_deep_tree_with_many_files(self):
        rel, files = "", []
        for level in range(DEPTH32):
            rel = os.path.join(rel, "l%02d" % level)
            for i in range(25):
                files.append(self.write(os.path.join(rel, "f%02d" % i), "%d/%d\n" % (level, i)))
        total = 1 + DEPTH32 + len(files)
        p = self.limited("init", "-q", self.root, codes=(CLEAN, E_SCAN))
        if p.returncode == E_SCAN:
            # A clear failure records no baseline of the limit.
            self.drift("check", code=21)
            self.init()
        snaps = json.loads(self.drift("snapshots", "--format", "json", code=0).stdout)
        self.assertEqual(snaps["snapshots"][-1]["entries"], total)
        self.assertEqual(snaps["snapshots"][-1]["errors"], 0)
        # A check under the limit: clean, or a clear failure; never drift of its own.
        p = self.limited("check", codes=(CLEAN, E_SCAN))
        self.assertNotIn(b"unreadable", p.stdout)
        bottom, mid = files[-1], files[len(files) // 2]
        with open(bottom, "a") as f:
            f.write("tampered\n")
        os.chmod(mid, 0o4755)
        p = self.limited("check", "--format", "json", codes=(MODIFIED, E_SCAN))
        if p.returncode == MODIFIED:
            doc = json.loads(p.stdout)
            self.assertEqual(sorted(raw_path(d) for d in doc["deviations"]),
                             sorted([os.fsencode(bottom), os.fsencode(mid)]))
            self.assertEqual(doc["unreadable"], [])
            # remedy under the limit puts both back (or fails clearly).
            q = os.path.join(self.tmp, "quarantine")
            p = self.limited("remedy", "--apply", "--yes", "--quarantine", q, codes=(0, E_SCAN))
            if p.returncode == 0:
                with open(bottom) as f:
                    self.assertEqual(f.read(), "%d/24\n" % (DEPTH32 - 1))
                self.assertEqual(stat.S_IMODE(os.stat(mid).st_mode), 0o644)
                self.limited("check", codes=(CLEAN, E_SCAN))
        note("ulimit -n 32, depth %d: the last run under it exited %d" % (DEPTH32, p.returncode))
        self.drift("check", code=CLEAN if p.returncode == 0 else MODIFIED)


# ---- 5. depth 2,000 ----

class TwoThousandLevels(DriftCase):
    """test_walk_limits.py nests 4,000 levels of long names past scan.max_path; these
    2,000 levels of one-byte names fit under it, so the walk must reach the bottom."""

    def descend(self, mkdir=False):
        """An fd of the directory 2,000 levels below the root (made with @mkdir)."""
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        for _ in range(2000):
            if mkdir:
                os.mkdir("d", dir_fd=fd)
            nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        return fd

    def test_walked_to_the_bottom(self):
        fd = self.descend(mkdir=True)
        try:
            leaf = os.open("leaf", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(leaf, b"at the bottom\n")
            os.close(leaf)
        finally:
            os.close(fd)
        bottom = os.fsencode(self.root) + b"/d" * 2000
        t0 = time.monotonic()
        p = self.drift("init", "-q", self.root, code=CLEAN)
        self.assertNotIn(b"not descended", p.stderr)
        snaps = json.loads(self.drift("snapshots", "--format", "json", code=0).stdout)
        self.assertEqual(snaps["snapshots"][0]["entries"], 1 + 2000 + 1)
        doc, p = self.check_json(code=CLEAN)
        self.assertEqual(doc["unreadable"], [])
        fd = self.descend()
        try:
            leaf = os.open("leaf", os.O_WRONLY | os.O_APPEND, dir_fd=fd)
            os.write(leaf, b"changed\n")
            os.close(leaf)
            os.close(os.open("new", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
        finally:
            os.close(fd)
        doc, p = self.check_json(code=ADDED | MODIFIED)
        got = {raw_path(d): d["change"] for d in doc["deviations"]}
        self.assertEqual(got, {bottom + b"/leaf": "modified", bottom + b"/new": "added"})
        note("depth 2000: init, two checks in %.1f s" % (time.monotonic() - t0))


if __name__ == "__main__":
    run_tap(__name__)
