#!/usr/bin/env python3
"""The baseline's safety: roots missing at init, a narrower baseline refused
unless asked for, and 'drift baseline' to show it or make an earlier snapshot
the baseline again."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import (ADDED, ALL_POLICY, CLEAN, DriftCase, by_path, run_tap)  # noqa: E402


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


if __name__ == "__main__":
    run_tap(__name__)
