#!/usr/bin/env python3
"""The man pages: groff renders them without a warning, and no stray byte
(a "\\f" that a script turned into a form feed) breaks a font switch.

Usage: check_manpages.py PAGE...; exit 0, 1 (a problem, printed), or 77
(skipped: groff is not installed).
"""

import re
import shutil
import subprocess
import sys

# Lines that must render exactly so (after the indent): where font
# switches broke before.
EXPECTED = {
    "drift.1": [r"scan --upgrade pre\|post", r"The snapshots of the apt hook .* labelled "
                r"apt-TIME-pre and apt-TIME-post, pruned to the newest --keep \(30\)\."],
}


def main(pages):
    if not shutil.which("groff"):
        print("groff is not installed: skipped")
        return 77
    problems = []
    for page in pages:
        name = page.rsplit("/", 1)[-1]
        with open(page, "rb") as f:
            source = f.read()
        for n, line in enumerate(source.split(b"\n"), 1):
            bad = re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", line)
            if bad:
                problems.append("%s:%d: control byte 0x%02x in the source" % (
                    name, n, bad.group()[0]))
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page],
                           capture_output=True)
        if p.returncode != 0 or p.stderr:
            problems.append("%s: groff -ww: exit %d\n%s" % (
                name, p.returncode, p.stderr.decode(errors="replace")))
        # Plain text (no overstriking, no SGR), one long line per paragraph.
        p = subprocess.run(["groff", "-man", "-Tutf8", "-rLL=1000n", "-P-cbou", page],
                           capture_output=True)
        lines = [re.sub(r"[ \t]+", " ", l).strip()
                 for l in p.stdout.decode(errors="replace").splitlines()]
        for want in EXPECTED.get(name, []):
            if not any(re.fullmatch(want, l) for l in lines):
                problems.append("%s: no line renders as /%s/" % (name, want))
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
