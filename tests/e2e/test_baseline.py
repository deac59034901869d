#!/usr/bin/env python3
"""The baseline's safety: roots missing at init, a narrower baseline refused
unless asked for, and 'drift baseline' to show it or make an earlier snapshot
the baseline again."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (ADDED, ALL_POLICY, CLEAN, E_DB, E_NO_BASELINE, E_USAGE,  # noqa: E402
                       MODIFIED, DriftCase, by_path, run_tap)


class MissingRoots(DriftCase):

    def roots_policy(self, *rels):
        roots = ", ".join(self.path(r) for r in rels)
        self.set_policy("scan:\n  roots: [%s]\n  probes: none\n%s" % (roots, ALL_POLICY))

    def list_json(self):
        p = self.drift("snapshots", "--format", "json", code=0)
        return json.loads(p.stdout)["snapshots"]

    def test_root_missing_at_init_is_recorded_and_checked(self):
        self.write("etc/a", "1")
        self.roots_policy("etc", "var/www")
        p = self.drift("init", code=0)
        www = self.path("var/www")
        self.assertIn(("drift: warning: '%s' does not exist: recorded; every check looks at it"
                       % www).encode(), p.stderr)
        self.assertEqual(self.list_json()[0]["roots"], [self.path("etc"), www])
        self.drift("check", code=CLEAN)
        self.drift("scan", "-q", "--label", "before", code=0)
        self.assertEqual(self.list_json()[-1]["roots"], [self.path("etc"), www])
        # The web server comes later, and a web shell with it.
        self.write("var/www/shell.php", "<?php system($_GET['c']);")
        doc, p = self.check_json(code=ADDED)
        got = by_path(doc)
        self.assertEqual(got[os.path.join(www, "shell.php").encode()]["change"], "added")
        self.assertEqual(got[www.encode()]["change"], "added")

    def test_no_policy_root_exists_is_still_an_error(self):
        self.roots_policy("nothing", "nothing-either")
        p = self.drift("init", code=18)
        self.assertIn(b"none of the policy's roots exists", p.stderr)

    def test_a_root_named_twice_is_recorded_once(self):
        self.write("usr/lib/a", "1")
        os.symlink("usr/lib", self.path("lib"))
        self.roots_policy("usr/lib", "lib")
        self.drift("init", "-q", code=0)
        self.assertEqual(self.list_json()[0]["roots"], [self.path("usr/lib")])


class Narrower(DriftCase):
    """init --force, and drift baseline SNAPSHOT, refuse to cover less."""

    def setUp(self):
        super().setUp()
        self.write("etc/nginx/nginx.conf", "worker_processes 1;")
        for i in range(20):
            self.write("usr/bin/tool%d" % i, str(i))
        self.init(self.path("etc"), self.path("usr"))

    def baseline_id(self):
        return [s for s in self.list_json() if s["label"] == "baseline"][0]["id"]

    def list_json(self):
        p = self.drift("snapshots", "--format", "json", code=0)
        return json.loads(p.stdout)["snapshots"]

    def test_init_force_of_fewer_roots_is_refused_before_the_scan(self):
        conf = self.path("etc/nginx/nginx.conf")
        p = self.drift("init", "--force", conf, code=E_USAGE)
        err = p.stderr.decode()
        self.assertIn("covers less than the current one, 'baseline' (#1, 25 entries): roots "
                      "%s %s -> %s" % (self.path("etc"), self.path("usr"), conf), err)
        self.assertIn("add --narrower", err)
        self.assertEqual(len(self.list_json()), 1, "refused before anything was recorded")
        self.write("usr/bin/tool0", "changed")
        self.drift("check", code=MODIFIED)   # still against the whole baseline

        # Asked for explicitly: taken, and the old one can be brought back.
        p = self.drift("init", "--force", "--narrower", conf, code=0)
        self.assertIn(b": 1 entry, ", p.stdout)
        self.drift("check", code=CLEAN)
        # One command brings the old one back (it covers more: no --narrower needed).
        old = [s for s in self.list_json() if s["label"].startswith("baseline-")][0]
        self.drift("baseline", "-q", old["label"], code=0)
        self.drift("check", code=MODIFIED)

    def test_init_force_of_far_fewer_entries_is_refused_after_the_scan(self):
        p = self.drift("init", "--force", "--exclude", self.path("usr/bin"),
                       self.path("etc"), self.path("usr"), code=E_USAGE)
        err = p.stderr.decode()
        self.assertIn("'baseline' (#1): entries 25 -> 4, fewer than half", err)
        self.assertIn("is left incomplete; the baseline is unchanged", err)
        snaps = self.list_json()
        self.assertEqual([s["complete"] for s in snaps], [True, False])
        self.assertEqual(self.baseline_id(), 1)
        self.write("usr/bin/tool0", "changed")
        self.drift("check", code=MODIFIED)
        self.drift("init", "-q", "--force", "--narrower", "--exclude", self.path("usr/bin"),
                   self.path("etc"), self.path("usr"), code=0)
        self.drift("check", code=CLEAN)

    def test_init_force_of_the_same_or_wider_roots_is_taken(self):
        self.drift("init", "-q", "--force", self.path("etc"), self.path("usr"), code=0)
        self.write("var/log/x", "1")
        self.drift("init", "-q", "--force", self.root, code=0)
        self.assertEqual(len([s for s in self.list_json() if s["purpose"] == "baseline"]), 3)



class NarrowerProbes(DriftCase):

    def list_json(self):
        p = self.drift("snapshots", "--format", "json", code=0)
        return json.loads(p.stdout)["snapshots"]

    def test_init_force_without_a_probe_of_the_baseline_is_refused(self):
        self.write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        self.write("etc/group", "root:x:0:\n")
        self.drift("init", "-q", "--root", self.root, "--probes", "user", "/etc", code=0)
        # Named paths run no probes unless asked: that drops the accounts.
        p = self.drift("init", "--force", "--root", self.root, "/etc", code=E_USAGE)
        self.assertIn(b": probes user -> none\n", p.stderr)
        snaps = self.list_json()
        self.assertEqual([(s["label"], s["probes"]) for s in snaps], [("baseline", ["user"])],
                         "the refused init left the baseline as it was")
        self.drift("init", "-q", "--force", "--root", self.root, "--probes", "all", "/etc",
                   code=0)
        base = [s for s in self.list_json() if s["label"] == "baseline"]
        self.assertEqual(len(base), 1)
        self.assertIn("user", base[0]["probes"])
        self.assertNotEqual(base[0]["id"], snaps[0]["id"], "the forced init was taken")


class BaselineCommand(DriftCase):

    def list_json(self):
        p = self.drift("snapshots", "--format", "json", code=0)
        return json.loads(p.stdout)["snapshots"]

    def test_show_the_baseline_in_one_line(self):
        self.drift("baseline", code=E_NO_BASELINE)
        self.assertFalse(os.path.exists(self.db))
        self.drift("baseline", "baseline", code=E_NO_BASELINE)
        self.assertFalse(os.path.exists(self.db), "drift baseline never creates a database")
        self.drift("scan", "-q", "--label", "x", self.root, code=0)
        p = self.drift("baseline", code=E_NO_BASELINE)
        self.assertIn(b"no baseline", p.stderr)
        self.write("etc/a", "1")
        self.init()
        p = self.drift("baseline", code=0)
        self.assertRegex(p.stdout.decode(),
                         r"^drift baseline: 'baseline' \(#2, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\): "
                         r"3 entries; roots %s; probes none\n$" % self.root)

    def test_an_earlier_baseline_becomes_the_baseline_again(self):
        self.write("etc/a", "1")
        self.init()
        self.write("etc/a", "2")
        self.drift("init", "-q", "--force", self.root, code=0)
        self.drift("check", code=CLEAN)
        old = [s for s in self.list_json() if s["label"].startswith("baseline-")][0]
        p = self.drift("baseline", old["label"], code=0)
        out = p.stdout.decode()
        self.assertRegex(out, r"^drift baseline: '%s' \(#1, [^)]*\) is the baseline now; the "
                              r"previous one is 'baseline-\d{8}T\d{6}Z(-\d+)?' \(#2, [^)]*\)\n$"
                         % old["label"])
        self.drift("check", code=MODIFIED)       # against the first one again
        # The replaced one is still there, under a dated label, and comes back by id.
        snaps = {s["id"]: s for s in self.list_json()}
        self.assertTrue(snaps[2]["label"].startswith("baseline-"))
        self.assertNotIn("baseline", [s["label"] for s in snaps.values()])
        p = self.drift("baseline", "2", code=0)
        self.assertIn(b"is the baseline now", p.stdout)
        self.drift("check", code=CLEAN)
        p = self.drift("baseline", "2", code=0)
        self.assertIn(b"is the baseline already", p.stdout)

    def test_a_check_made_the_baseline_is_never_pruned(self):
        self.write("etc/a", "1")
        self.init()
        self.write("etc/a", "2")
        self.drift("check", code=MODIFIED)
        check = [s for s in self.list_json() if s["purpose"] == "check"][0]
        self.drift("baseline", "-q", check["label"], code=0)
        for _ in range(3):
            self.drift("check", "--keep", "1", code=CLEAN)
        snaps = {s["id"]: s for s in self.list_json()}
        self.assertEqual(snaps[check["id"]]["purpose"], "baseline")
        self.assertEqual(len([s for s in snaps.values() if s["purpose"] == "check"]), 1)
        p = self.drift("baseline", code=0)
        self.assertIn(("'%s' (#%d," % (check["label"], check["id"])).encode(), p.stdout)

    def test_refusals(self):
        self.write("etc/a", "1")
        for i in range(10):
            self.write("usr/f%d" % i, str(i))
        self.init()
        # Refused after its scan: an incomplete snapshot, which cannot be the baseline.
        self.drift("init", "--force", "--exclude", self.path("usr"), self.root, code=E_USAGE)
        incomplete = [s for s in self.list_json() if not s["complete"]][0]
        p = self.drift("baseline", str(incomplete["id"]), code=E_DB)
        self.assertIn(b"incomplete", p.stderr)
        p = self.drift("baseline", "nope", code=E_USAGE)
        self.assertIn(b"no snapshot 'nope'", p.stderr)
        self.drift("baseline", "a", "b", code=E_USAGE)
        self.drift("baseline", "--narrower", code=E_USAGE)
        # A scan of less than the baseline covers: refused, unless --narrower.
        self.drift("scan", "-q", "--label", "etc-only", self.path("etc"), code=0)
        p = self.drift("baseline", "etc-only", code=E_USAGE)
        self.assertIn(("roots %s -> %s" % (self.root, self.path("etc"))).encode(), p.stderr)
        self.assertIn(b"--narrower", p.stderr)
        p = self.drift("baseline", code=0)
        self.assertIn(b"'baseline' (#1,", p.stdout)
        self.drift("baseline", "-q", "--narrower", "etc-only", code=0)
        self.drift("check", code=CLEAN)


if __name__ == "__main__":
    run_tap(__name__)
