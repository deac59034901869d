#!/usr/bin/env python3
"""The nightly units: `systemd-analyze verify` loads them without a word (it
exits 0 on an unknown key or a bad value, so any output fails the test), and
what the hardening must not do to a scan is not done.

argv: the prefix, then the directory of the units configured for the build
(their ExecStart is the build's drift-nightly), then that of the units that
`meson install` installs. Skipped (TAP "1..0 # SKIP", exit 0) without systemd-analyze.
"""

import os
import re
import shutil
import subprocess
import sys

UNITS = ("drift-check.service", "drift-check.timer", "drift-mail.service",
         "drift-remedy.service")


def fail(msg):
    print("not ok - " + msg)
    sys.exit(1)


def settings(path):
    """{key: [values]} of a unit file (every section)."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[":
                continue
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out


def main():
    prefix, test_dir, install_dir = sys.argv[1:4]
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("1..0 # SKIP systemd-analyze is not installed")
        sys.exit(0)  # a TAP test: meson reads exit 77 as an error, the plan as a skip

    paths = [os.path.join(test_dir, u) for u in UNITS]
    # --man=no: no man page look-ups; $SYSTEMD_LOG_COLOR off for plain text.
    env = dict(os.environ, SYSTEMD_LOG_COLOR="0", SYSTEMD_PAGER="")
    p = subprocess.run([analyze, "verify", "--man=no"] + paths, capture_output=True,
                       env=env, cwd=test_dir, timeout=60)
    out = (p.stdout + p.stderr).decode(errors="replace").strip()
    if p.returncode != 0 or out:
        fail("systemd-analyze verify: exit %d\n%s" % (p.returncode, out))
    print("ok 1 - systemd-analyze verify is silent")

    svc = settings(os.path.join(install_dir, "drift-check.service"))
    # Prefix-correct paths in what is installed.
    want = os.path.join(prefix, "libexec", "drift", "drift-nightly")
    exec_start = svc["ExecStart"][0].split()[0]
    if not exec_start.startswith(prefix + "/") or not exec_start.endswith("/drift/drift-nightly"):
        fail("installed ExecStart %r is not under the prefix %r (like %r)" % (exec_start, prefix, want))
    mail = settings(os.path.join(install_dir, "drift-mail.service"))
    if mail["ExecStart"][0].split()[0] != exec_start:
        fail("drift-mail.service runs %r, not %r" % (mail["ExecStart"][0], exec_start))
    print("ok 2 - installed units run %s" % exec_start)

    # Drift (1-15) is success; failures (16 and up) are not.
    codes = set(" ".join(svc["SuccessExitStatus"]).split())
    if codes != {str(i) for i in range(1, 16)}:
        fail("SuccessExitStatus is %r, not 1-15" % sorted(codes))
    # What would make the scan see something else than the host.
    forbidden = {
        "ProtectHome": {"yes", "true", "tmpfs"},      # hides /home and /root
        "PrivateNetwork": {"yes", "true"},            # empties /proc/net
        "ProtectKernelModules": {"yes", "true"},      # hides /lib/modules
        "PrivateDevices": {"yes", "true"},            # a fake /dev
        "ProtectProc": {"invisible", "noaccess", "ptraceable"},
        "ProcSubset": {"pid"},                        # no /proc/net, /proc/sys
        "PrivateUsers": {"yes", "true"},
    }
    for key, bad in forbidden.items():
        for v in svc.get(key, []):
            if v in bad:
                fail("drift-check.service sets %s=%s" % (key, v))
    for key, v in (("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"),
                   ("Type", "oneshot"), ("StateDirectory", "drift"),
                   ("ProtectHome", "read-only")):
        if svc.get(key) != [v]:
            fail("drift-check.service: %s is %r, not %r" % (key, svc.get(key), v))
    caps = set(" ".join(svc["CapabilityBoundingSet"]).split())
    # What a complete read needs (measured; see the unit), and nothing that writes
    # where the file system is read-only anyway, or changes identities.
    if not {"CAP_DAC_READ_SEARCH", "CAP_SYS_PTRACE", "CAP_SYS_ADMIN"} <= caps or \
            caps & {"CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_SYS_MODULE", "CAP_NET_ADMIN"}:
        fail("CapabilityBoundingSet %r" % sorted(caps))
    # What the capability lets through, the filter stops.
    if svc.get("SystemCallFilter") != ["@system-service"] or svc.get("RestrictNamespaces") != ["yes"]:
        fail("SystemCallFilter %r, RestrictNamespaces %r" % (svc.get("SystemCallFilter"),
                                                            svc.get("RestrictNamespaces")))
    timer = settings(os.path.join(install_dir, "drift-check.timer"))
    if timer.get("Persistent") != ["true"] or not timer.get("RandomizedDelaySec"):
        fail("drift-check.timer: %r" % timer)
    if not re.match(r"^(daily|\*-\*-\* )", timer["OnCalendar"][0]):
        fail("drift-check.timer: OnCalendar=%s" % timer["OnCalendar"][0])
    print("ok 3 - the sandbox leaves the scan the host's view")
    print("1..3")


main()
