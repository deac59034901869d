#!/usr/bin/env python3
"""How long the text report of one package upgrade is: the lines a reader
gets after `apt-get upgrade` of N packages, for each drift binary given.

    python3 bench/upgrade_report.py [--packages 20] [--files 15] DRIFT...

A copy of tests/fixtures/host gets N packages of F files each (dpkg's
status, lists and md5sums), a baseline, then an upgrade of every one of them
the way dpkg does it (new content, new sums, new versions, apt's history and
dpkg's log), plus one file changed by hand. Each binary checks the same
tree with its own database and the built-in policy; the script prints the
line count of each text report and of its --verbose form where the binary
has one.
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "fixtures", "host")
POLICY = "extends: builtin\nscan:\n  roots: [/etc, /usr]\n"


def put(root, rel, data, mode=0o644):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    os.chmod(p, mode)


def install(root, npkg, nfiles, version):
    status = []
    for i in range(npkg):
        name = "pkg%02d" % i
        files = {"usr/lib/%s/f%02d.so" % (name, j): b"%s %s %d\n" % (name.encode(),
                                                                     version.encode(), j)
                 for j in range(nfiles)}
        files["usr/bin/%s" % name] = b"#!/bin/sh\necho %s %s\n" % (name.encode(),
                                                                    version.encode())
        for rel, data in files.items():
            put(root, rel, data, 0o755 if "/bin/" in rel else 0o644)
        dirs = sorted({"/" + os.path.dirname(r) for r in files} | {"/usr", "/usr/lib",
                                                                     "/usr/bin"})
        put(root, "var/lib/dpkg/info/%s.list" % name,
            ("\n".join(["/."] + dirs + ["/" + r for r in sorted(files)]) + "\n").encode())
        put(root, "var/lib/dpkg/info/%s.md5sums" % name, "".join(
            "%s  %s\n" % (hashlib.md5(d).hexdigest(), r) for r, d in sorted(files.items()))
            .encode())
        status.append("Package: %s\nStatus: install ok installed\nPriority: optional\n"
                      "Architecture: amd64\nVersion: %s\nDescription: bench package\n"
                      % (name, version))
    return "\n".join(status)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--packages", type=int, default=20)
    ap.add_argument("--files", type=int, default=15)
    ap.add_argument("drift", nargs="+")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="drift-upgrade-", dir="/var/tmp")
    try:
        host = os.path.join(tmp, "host")
        shutil.copytree(FIXTURE, host, symlinks=True)
        with open(os.path.join(host, "var/lib/dpkg/status"), "rb") as f:
            base_status = f.read().decode()
        extra = install(host, args.packages, args.files, "1.0-1")
        put(host, "var/lib/dpkg/status", (base_status + "\n" + extra + "\n").encode())
        policy = os.path.join(tmp, "policy.yaml")
        with open(policy, "w") as f:
            f.write(POLICY)
        dbs = []
        for n, drift in enumerate(args.drift):
            db = os.path.join(tmp, "db%d.sqlite" % n)
            subprocess.run([drift, "init", "-q", "--db", db, "--policy", policy, "--root",
                            host], check=True)
            dbs.append(db)
        time.sleep(1.1)
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        extra = install(host, args.packages, args.files, "1.1-1")
        put(host, "var/lib/dpkg/status", (base_status + "\n" + extra + "\n").encode())
        put(host, "var/log/apt/history.log", (
            "\nStart-Date: %s\nCommandline: apt-get upgrade\nUpgrade: %s\nEnd-Date: %s\n"
            % (now, ", ".join("pkg%02d:amd64 (1.0-1, 1.1-1)" % i
                              for i in range(args.packages)), now)).encode())
        put(host, "var/log/dpkg.log", "".join(
            "%s upgrade pkg%02d:amd64 1.0-1 1.1-1\n" % (now, i)
            for i in range(args.packages)).encode())
        put(host, "etc/motd", b"changed by hand\n")
        for drift, db in zip(args.drift, dbs):
            base = [drift, "check", "--db", db, "--policy", policy, "--root", host]
            p = subprocess.run(base, capture_output=True)
            if p.returncode >= 16:
                sys.exit("%s failed (%d): %s" % (drift, p.returncode, p.stderr.decode()))
            lines = p.stdout.count(b"\n")
            v = subprocess.run(base + ["--verbose"], capture_output=True)
            verbose = v.stdout.count(b"\n") if v.returncode < 16 else None
            print("%s: %d lines (exit %d)%s" % (drift, lines, p.returncode,
                  "; --verbose: %d lines" % verbose if verbose is not None else ""))
            if os.environ.get("SHOW"):
                sys.stdout.write(p.stdout.decode(errors="replace"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
