#!/usr/bin/env python3
"""What people are shown, and where reports go: escaping of invisible characters."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import ADDED, DriftCase, by_path, run_tap  # noqa: E402

RLO = "\u202e".encode()


class InvisibleCharacters(DriftCase):

    def test_bidi_override_in_a_name_is_escaped_in_text(self):
        self.write("etc/a", "1")
        self.init()
        name = RLO + b"txt.exe"
        path = os.path.join(os.fsencode(self.root), b"etc", name)
        with open(path, "wb") as f:
            f.write(b"MZ")
        out = self.drift("check", code=ADDED).stdout
        self.assertIn(b"\\u202etxt.exe", out)
        self.assertNotIn(RLO, out, "no raw U+202E reaches the reader")
        # The neighbours that are plain text stay as they are.
        self.write("etc/caf\u00e9-\u65e5\u672c-\U0001f600", "x")
        out = self.drift("check", code=ADDED).stdout
        self.assertIn("caf\u00e9-\u65e5\u672c-\U0001f600".encode(), out)

    def test_json_keeps_the_exact_name(self):
        self.write("etc/a", "1")
        self.init()
        name = b"zw\xe2\x80\x8bsp" + RLO + b"txt.exe"
        path = os.path.join(os.fsencode(self.root), b"etc", name)
        with open(path, "wb") as f:
            f.write(b"MZ")
        p = self.drift("check", "--format", "json", code=ADDED)
        doc = json.loads(p.stdout)
        self.assertIn(path, by_path(doc), "the path is its exact bytes")
        d = by_path(doc)[path]
        self.assertNotIn("path_b64", d, "valid UTF-8 without controls is clean JSON")


if __name__ == "__main__":
    run_tap(__name__)
