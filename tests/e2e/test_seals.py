#!/usr/bin/env python3
"""Seals (issue #16): the database is edited with the sqlite3 shell, as an
attacker with the file would, and `drift snapshots --verify` must say what
was altered, inserted, removed or reordered, with exit 26; the untouched
history verifies clean. With a key, a seal made without it (or with a later
epoch's key, the flaw of CVE-2023-31439) does not hold.
"""

import hashlib
import hmac
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import CLEAN, E_USAGE, MODIFIED, DriftCase, run_tap  # noqa: E402

E_TAMPERED = 26
SQLITE3 = shutil.which("sqlite3")

POLICY = """\
rules:
  - id: everything
    path: /
    check: [type, mode, uid, gid, size, mtime, hash]
    keep_content: true
    remediate: plan
"""


def le64(v):
    return struct.pack("<q", v)


def chain_of(prev, seq, kind, obj, sub, op, at, epoch, digest):
    """The chain value of a seal, as store/seal.c computes it."""
    buf = b"drift seal 1\0" + prev
    for v in (seq, kind, obj, sub, op, at, epoch):
        buf += le64(v)
    return hashlib.sha256(buf + digest).digest()


def evolve(key, n):
    for _ in range(n):
        key = hashlib.sha256(b"drift seal evolve\0" + key).digest()
    return key


def read_key(path):
    fields = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or " " not in line:
                continue
            k, v = line.split(" ", 1)
            fields[k] = v.strip()
    return fields


class Seals(DriftCase):
    policy_text = POLICY

    def setUp(self):
        super().setUp()
        if not SQLITE3:
            self.skipTest("no sqlite3 shell")
        self.key = os.path.join(self.tmp, "seal.key")
        self.copy = os.path.join(self.tmp, "verify.key")

    # A history of every sealed kind: init, check, accept, remedy --apply, check, prune.
    def history(self, env=None):
        self.write("etc/a", "one\n")
        self.write("etc/b", "two\n")
        self.drift("init", "-q", self.root, code=CLEAN, env=env)
        self.write("etc/a", "changed\n")
        self.drift("check", "-q", self.root, code=MODIFIED, env=env)
        self.drift("accept", "--all", "--reason", "planned", code=CLEAN, env=env)
        self.write("etc/b", "tampered\n")
        self.drift("check", "-q", self.root, code=MODIFIED, env=env)
        self.drift("remedy", "--apply", "--yes", "-q", "--quarantine",
                   os.path.join(self.tmp, "q"), code=CLEAN, env=env)
        self.drift("check", "-q", self.root, code=CLEAN, env=env)
        self.drift("snapshots", "--prune", "--keep", "2", "-q", code=CLEAN, env=env)

    def sql(self, statements, db=None):
        p = subprocess.run([SQLITE3, db or self.db], input=statements.encode(),
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return p.stdout.decode()

    def verify(self, code, *extra, db=None):
        args = ["snapshots", "--verify", *extra]
        if db:
            args.insert(1, "--db=" + db)
            return self.drift(*args, code=code, db=False)
        return self.drift(*args, code=code)

    def tampered(self, statements, *expect, extra=()):
        """Edit a copy of the database; --verify must exit 26 and say each of @expect."""
        db = os.path.join(self.tmp, "edited.db")
        self.sql(".backup '%s'" % db)
        os.chmod(db, 0o600)
        self.sql(statements, db=db)
        p = self.verify(E_TAMPERED, *extra, db=db)
        out = p.stdout.decode()
        for e in expect:
            self.assertRegex(out, e)
        self.assertRegex(out, r"drift snapshots: \d+ problems?: the database was altered")
        return out

    def seals(self):
        con = sqlite3.connect(self.db)
        try:
            return con.execute("SELECT seq, kind, object, sub, op, at, epoch, digest, chain, mac"
                               " FROM seal ORDER BY seq").fetchall()
        finally:
            con.close()

    def test_an_untouched_history_verifies(self):
        self.history()
        p = self.verify(CLEAN)
        m = re.search(rb"^drift snapshots: (\d+) seals hold over (\d+) parts; head (\d+):([0-9a-f]{64})$",
                      p.stdout, re.M)
        self.assertIsNotNone(m, p.stdout)
        rows = self.seals()
        self.assertEqual(int(m.group(1)), len(rows))
        # Every sealed kind is there: snapshot, baseline, run, acceptance (+state),
        # remediation (+state), action (+state); and the pruned snapshots as deleted.
        self.assertEqual({r[1] for r in rows}, set(range(1, 10)))
        self.assertIn(1, {r[4] for r in rows if r[1] == 1}, "a pruned snapshot is sealed deleted")
        # The head is the newest seal, as --head prints it.
        head = self.drift("snapshots", "--head", code=CLEAN).stdout.decode().split()[0]
        self.assertEqual(head, "%s:%s" % (m.group(3).decode(), m.group(4).decode()))
        self.assertEqual(head, "%d:%s" % (rows[-1][0], rows[-1][8].hex()))

    def newest_run_with_findings(self):
        run = self.sql("SELECT max(run) FROM finding;").strip()
        self.assertTrue(run, "the history keeps a run with findings")
        return int(run)

    def test_a_changed_finding_is_found(self):
        self.history()
        run = self.newest_run_with_findings()
        self.tampered("UPDATE finding SET reason = 'nothing to see' WHERE run = %d;" % run,
                      r"tampered: run %d: altered since it was sealed" % run)

    def test_a_changed_hash_in_a_snapshot_is_found(self):
        self.history()
        # The newest snapshot's first block: one byte of its entries changed.
        out = self.tampered(
            "UPDATE block SET data = substr(data, 1, length(data) - 1) ||"
            " x'00' WHERE rowid = (SELECT max(rowid) FROM block);",
            r"tampered: snapshot \d+: (altered since it was sealed|cannot be read)")
        self.assertNotIn("run", out.split("tampered: snapshot")[0])

    def test_a_deleted_run_is_found(self):
        self.history()
        run = self.newest_run_with_findings()
        self.tampered("DELETE FROM finding WHERE run = %d; DELETE FROM run WHERE id = %d;"
                      % (run, run), r"tampered: run %d: removed, and drift did not remove it" % run)

    def test_an_inserted_run_is_found(self):
        self.history()
        self.tampered("INSERT INTO run (command, started, complete) VALUES ('check', 1, 1);",
                      r"tampered: run \d+: not sealed: inserted after the fact")

    def test_swapped_snapshots_are_found(self):
        self.history()
        ids = [int(x) for x in self.sql("SELECT id FROM snapshot WHERE status = 'complete'"
                                        " ORDER BY id;").split()]
        self.assertGreaterEqual(len(ids), 2)
        a, b = ids[0], ids[1]
        self.tampered("UPDATE snapshot SET id = -1 WHERE id = %d;"
                      "UPDATE snapshot SET id = %d WHERE id = %d;"
                      "UPDATE snapshot SET id = %d WHERE id = -1;" % (a, a, b, b),
                      r"tampered: snapshot %d: (altered|cannot be read)" % a,
                      r"tampered: snapshot %d: (altered|cannot be read)" % b)

    def test_reordered_seals_are_found(self):
        self.history()
        self.tampered("UPDATE seal SET seq = -1 WHERE seq = 2;"
                      "UPDATE seal SET seq = 2 WHERE seq = 3;"
                      "UPDATE seal SET seq = 3 WHERE seq = -1;",
                      r"tampered: seal 2 \(.*\): does not follow the seal before it",
                      r"tampered: seal 3 \(.*\): does not follow the seal before it")

    def test_a_seal_removed_from_the_middle_is_found(self):
        self.history()
        self.tampered("DELETE FROM seal WHERE seq = 3;", r"tampered: seals 3 to 3 are missing: removed")

    def test_a_truncated_chain_is_found(self):
        self.history()
        n = len(self.seals())
        # The newest seals and what they sealed go: only the sequence remembers.
        self.tampered("DELETE FROM seal WHERE seq > %d;" % (n - 3),
                      r"tampered: seals %d to %d are missing: the newest were removed" % (n - 2, n))
        # Made consistent, sequence and all: the head recorded off the host finds it.
        head = self.drift("snapshots", "--head", code=CLEAN).stdout.decode().split()[0]
        self.tampered("DELETE FROM seal WHERE seq > %d;"
                      "UPDATE sqlite_sequence SET seq = %d WHERE name = 'seal';" % (n - 3, n - 3),
                      r"tampered: seal %d, recorded off the host, is not in the database" % n,
                      extra=["--head=" + head])

    def test_a_moved_baseline_is_found(self):
        self.history()
        self.tampered("UPDATE meta SET value = value + 1000 WHERE key = 'baseline';",
                      r"tampered: the baseline pointer: altered since it was sealed")

    def test_dropping_the_seals_is_found(self):
        self.history()
        self.tampered("DROP TABLE seal;", r"tampered: the seal table is gone")

    def test_altered_kept_content_is_found(self):
        self.history()
        self.tampered("UPDATE content SET data = x'00' || data, codec = 0;",
                      r"tampered: kept content [0-9a-f]{16}")

    def test_a_knowledgeable_reseal_needs_the_key(self):
        """Without a key, whoever recomputes the chain forges it; with one, not."""
        self.drift("snapshots", "--new-key", self.key, "-q", code=CLEAN, db=False)
        shutil.copy(self.key, self.copy)
        env = {"DRIFT_SEAL_KEY": self.key}
        self.history(env=env)
        self.verify(CLEAN, "--key", self.copy)
        # The baseline pointer moved back, and a seal for it appended and chained
        # as drift would, with a MAC under a key that is not the host's.
        rows = self.seals()
        last = rows[-1]
        old = int(self.sql("SELECT value FROM meta WHERE key = 'baseline';"))
        # The kind (an integer: tag 1), one column (tag 5, count), its value.
        digest = hashlib.sha256(b"\x01" + le64(2) + b"\x05" + struct.pack("<Q", 1) +
                                b"\x01" + le64(old - 1)).digest()
        seq, at, epoch = last[0] + 1, last[5] + 1, last[6]
        chain = chain_of(last[8], seq, 2, 0, 0, 0, at, epoch, digest)
        forged_mac = hmac.new(os.urandom(32), chain, hashlib.sha256).digest()
        self.sql("UPDATE meta SET value = %d WHERE key = 'baseline';"
                 "INSERT INTO seal VALUES (%d, 2, 0, 0, 0, %d, %d, x'%s', x'%s', x'%s');"
                 % (old - 1, seq, at, epoch, digest.hex(), chain.hex(), forged_mac.hex()))
        # The digests and the chain hold: without the key this is undetectable.
        self.verify(CLEAN)
        out = self.verify(E_TAMPERED, "--key", self.copy).stdout.decode()
        self.assertIn("tampered: seal %d: its MAC does not hold" % seq, out)

    def test_a_later_key_cannot_reseal_older_epochs(self):
        """Epoch binding: the key evolves, and a seal must be of its own time's epoch."""
        self.drift("snapshots", "--new-key", self.key, "-q", code=CLEAN, db=False)
        # Epoch 0 began three days ago: seals made now are of epoch 3.
        k = read_key(self.key)
        text = open(self.key).read().replace("origin %s" % k["origin"],
                                             "origin %d" % (int(k["origin"]) - 3 * 86400))
        with open(self.key, "w") as f:
            f.write(text)
        shutil.copy(self.key, self.copy)
        env = {"DRIFT_SEAL_KEY": self.key}
        self.history(env=env)
        # The host's key moved to epoch 3 and forgot epochs 0-2.
        now = read_key(self.key)
        self.assertEqual(now["epoch"], "3")
        first = bytes.fromhex(read_key(self.copy)["key"])
        self.assertEqual(bytes.fromhex(now["key"]), evolve(first, 3))
        self.assertEqual({r[6] for r in self.seals()}, {3})
        self.verify(CLEAN, "--key", self.copy)
        # The evolved key verifies its own epoch on.
        self.verify(CLEAN, "--key", self.key)

        # Who holds the key of epoch 5 rewrites the first seal and claims epoch 5:
        # every MAC recomputed, the chain relinked. The epoch is not its time's.
        k5 = evolve(first, 5)
        rows = self.seals()
        prev = bytes(32)
        stmts = []
        for i, r in enumerate(rows):
            seq, kind, obj, sub, op, at, epoch, digest = r[:8]
            if i == 0:
                epoch = 5
            chain = chain_of(prev, seq, kind, obj, sub, op, at, epoch, digest)
            mac = hmac.new(evolve(first, epoch), chain, hashlib.sha256).digest()
            stmts.append("UPDATE seal SET epoch = %d, chain = x'%s', mac = x'%s' WHERE seq = %d;"
                         % (epoch, chain.hex(), mac.hex(), seq))
            prev = chain
        self.assertTrue(k5)
        out = self.tampered("".join(stmts), r"tampered: seal 1: claims epoch 5 but was made in epoch 3",
                            extra=["--key", self.copy])
        self.assertIn("epoch 3 after epoch 5", out)

    def test_key_errors_are_clear(self):
        self.write("etc/a", "one\n")
        bad = os.path.join(self.tmp, "bad.key")
        with open(bad, "w") as f:
            f.write("not a key\n")
        p = self.drift("init", "-q", self.root, code=E_USAGE, env={"DRIFT_SEAL_KEY": bad})
        self.assertIn(b"is not a drift sealing key", p.stderr)
        self.assertFalse(os.path.exists(self.db), "nothing written without the key")
        p = self.drift("snapshots", "--new-key", bad, code=E_USAGE, db=False)
        self.assertIn(b"File exists", p.stderr)
        p = self.drift("snapshots", "--verify", "--head=12:zz", code=E_USAGE)
        self.assertIn(b"--head takes SEQ:HEX", p.stderr)


if __name__ == "__main__":
    run_tap(__name__)
