"""End-to-end: what package work writes beside dpkg's files, explained by records.

A copy of the fixture root tests/fixtures/host gets a baseline; then a
package "pytool" is installed into it the way apt and its maintainer scripts
would: dpkg's status and lists, Python byte-code (py3compile), configuration
through ucf, an alternative, a service enabled by deb-systemd-helper, a system
account added by adduser, a trigger's cache, and apt's history and dpkg's log
of the run. `drift check --root` must explain every deviation by its record,
and catch what was planted beside them.
"""

import importlib.util
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drifttest  # noqa: E402
from drifttest import ADDED, CLEAN, MODIFIED  # noqa: E402
from test_system import SystemCase, md5  # noqa: E402

POLICY = """\
extends: builtin
scan:
  roots: [/etc, /usr, /lib]
"""

PY = b"def main():\n    print('pytool')\n"
TOOL = b"#!/usr/bin/python3\nfrom pytool import main\nmain()\n"
UNIT = b"[Unit]\nDescription=pytool\n[Service]\nExecStart=/usr/bin/pytool3\n" \
       b"[Install]\nWantedBy=multi-user.target\n"
CONF = b"# pytool's configuration, installed through ucf\nlevel = 1\n"
PYDIR = "usr/lib/python3/dist-packages/pytool"


class PackageWorkCase(SystemCase):
    """The fixture host of test_system, under the built-in policy."""

    policy_text = POLICY

    def setUp(self):
        super().setUp()
        os.makedirs(self.h("etc/alternatives"), exist_ok=True)
        os.makedirs(self.h("usr/share/icons/hicolor"), exist_ok=True)

    def append(self, rel, data):
        p = self.h(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "ab") as f:
            f.write(data)

    def link(self, rel, target):
        p = self.h(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if os.path.lexists(p):
            os.unlink(p)
        os.symlink(target, p)

    def pyc(self, source_rel, pyc_rel, mtime=None, size=None):
        """A timestamp-based .pyc of the source, as py_compile writes it."""
        st = os.stat(self.h(source_rel))
        header = importlib.util.MAGIC_NUMBER + struct.pack(
            "<III", 0, int(st.st_mtime if mtime is None else mtime) & 0xFFFFFFFF,
            (st.st_size if size is None else size) & 0xFFFFFFFF)
        self.put(pyc_rel, header + b"\xe3 code object")

    def install_pytool(self):
        """apt-get install pytool, and what its maintainer scripts and triggers do."""
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        files = {
            PYDIR + "/__init__.py": PY,
            "usr/bin/pytool3": TOOL,
            "lib/systemd/system/pytool.service": UNIT,
        }
        # dpkg: the package's files, its lists and its status
        for rel, data in files.items():
            self.put(rel, data, 0o755 if rel.startswith("usr/bin") else 0o644)
        self.put("var/lib/dpkg/info/pytool.list", "\n".join(
            ["/.", "/usr", "/usr/bin", "/usr/lib", "/usr/lib/python3",
             "/usr/lib/python3/dist-packages", "/" + PYDIR, "/lib", "/lib/systemd",
             "/lib/systemd/system", "/etc", "/etc/pytool"] + ["/" + r for r in files]).encode()
            + b"\n")
        self.put("var/lib/dpkg/info/pytool.md5sums", "".join(
            "%s  %s\n" % (md5(d), r) for r, d in files.items()).encode())
        self.put("var/lib/dpkg/info/pytool.postinst",
                 b"#!/bin/sh\nset -e\n"
                 b"adduser --system --group --home /nonexistent _pytool\n"
                 b"ucf /usr/share/pytool/pytool.conf /etc/pytool/pytool.conf\n"
                 b"update-alternatives --install /usr/bin/pytool pytool /usr/bin/pytool3 50\n"
                 b"deb-systemd-helper enable pytool.service\n"
                 b"py3compile -p pytool\n", 0o755)
        self.append("var/lib/dpkg/status",
                    b"\nPackage: pytool\nStatus: install ok installed\nPriority: optional\n"
                    b"Section: python\nMaintainer: drift tests <tests@drift.invalid>\n"
                    b"Architecture: all\nVersion: 2.0-1\nDescription: a tool in Python\n")
        # py3compile
        self.pyc(PYDIR + "/__init__.py", PYDIR + "/__pycache__/__init__.cpython-311.pyc")
        # ucf
        self.put("etc/pytool/pytool.conf", CONF)
        self.append("var/lib/ucf/registry", b"pytool\t/etc/pytool/pytool.conf\n")
        self.append("var/lib/ucf/hashfile", ("%s  /etc/pytool/pytool.conf\n" % md5(CONF)).encode())
        # update-alternatives
        self.put("var/lib/dpkg/alternatives/pytool",
                 b"auto\n/usr/bin/pytool\n\n/usr/bin/pytool3\n50\n\n")
        self.link("usr/bin/pytool", "/etc/alternatives/pytool")
        self.link("etc/alternatives/pytool", "/usr/bin/pytool3")
        # deb-systemd-helper
        wants = "/etc/systemd/system/multi-user.target.wants/pytool.service"
        self.put("var/lib/systemd/deb-systemd-helper-enabled/pytool.service.dsh-also",
                 (wants + "\n").encode())
        self.put("var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/"
                 "pytool.service", b"")
        self.link(wants[1:], "/lib/systemd/system/pytool.service")
        # adduser --system
        self.append("etc/passwd", b"_pytool:x:120:120::/nonexistent:/usr/sbin/nologin\n")
        self.append("etc/group", b"_pytool:x:120:\n")
        self.append("etc/shadow", b"_pytool:!:20000::::::\n")
        self.append("etc/gshadow", b"_pytool:!::\n")
        # the icon cache's trigger
        self.put("usr/share/icons/hicolor/icon-theme.cache", b"icon cache\n")
        # the logs of the run
        self.append("var/log/apt/history.log", (
            "\nStart-Date: %s\nCommandline: apt-get install pytool\n"
            "Requested-By: alice (1000)\nInstall: pytool:amd64 (2.0-1)\nEnd-Date: %s\n"
            % (now, now)).encode())
        self.append("var/log/dpkg.log", (
            "%s startup archives unpack\n%s install pytool:all <none> 2.0-1\n"
            "%s trigproc hicolor-icon-theme:all 0.17-2 <none>\n" % (now, now, now)).encode())

    def check(self, code):
        p = self.drift("check", "--root", self.host, "--format", "json", code=code)
        doc = drifttest.json.loads(p.stdout)
        out = {}
        for d in doc["deviations"]:
            out[(d["kind"], d.get("path", d.get("key")))] = d
        return out, p


class PackageWorkTest(PackageWorkCase):
    def test_everything_a_package_install_writes_is_explained(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        time.sleep(1.1)  # the logs count whole seconds
        self.install_pytool()
        devs, p = self.check(CLEAN)
        drift = {k: d for k, d in devs.items() if d["class"] != "expected"}
        self.assertEqual(drift, {}, p.stdout.decode()[:4000])
        want = {
            ("package", "pytool:all"): "by 'apt-get install pytool' (alice,",
            ("file", "/" + PYDIR + "/__init__.py"): "package pytool 2.0-1 installed",
            ("file", "/" + PYDIR + "/__pycache__/__init__.cpython-311.pyc"): "byte-code",
            ("file", "/etc/pytool/pytool.conf"): "through ucf",
            ("file", "/usr/bin/pytool"): "alternative",
            ("file", "/etc/alternatives/pytool"): "alternative pytool",
            ("file", "/etc/systemd/system/multi-user.target.wants/pytool.service"):
                "deb-systemd-helper",
            ("user", "_pytool"): "pytool",
            ("group", "_pytool"): "pytool",
            ("file", "/etc/passwd"): "_pytool",
            ("file", "/usr/share/icons/hicolor/icon-theme.cache"): "dpkg trigger",
        }
        for key, words in want.items():
            self.assertIn(key, devs, p.stdout.decode()[:4000])
            self.assertIn(words, devs[key]["reason"], devs[key])

    def test_planted_beside_a_package_install_is_caught(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        time.sleep(1.1)
        self.install_pytool()
        # byte-code with no source, an alternative retargeted, a second root account
        self.put(PYDIR + "/__pycache__/evil.cpython-311.pyc",
                 importlib.util.MAGIC_NUMBER + b"\0\0\0\0\0\0\0\0\0\0\0\0payload")
        self.link("etc/alternatives/pytool", "/usr/local/bin/evil")
        self.append("etc/passwd", b"toor:x:0:0::/root:/bin/sh\n")
        self.append("etc/shadow", b"toor::20000::::::\n")
        devs, p = self.check(ADDED | MODIFIED)
        for key in [("file", "/" + PYDIR + "/__pycache__/evil.cpython-311.pyc"),
                    ("file", "/etc/alternatives/pytool"),
                    ("user", "toor"),
                    ("file", "/etc/passwd"),
                    ("file", "/etc/shadow")]:
            self.assertIn(key, devs, p.stdout.decode()[:4000])
            self.assertEqual(devs[key]["class"], "drift", devs[key])
        self.assertEqual(devs[("user", "toor")]["severity"], "critical")
        # what the records do prove stays explained
        for key in [("file", "/" + PYDIR + "/__pycache__/__init__.cpython-311.pyc"),
                    ("file", "/etc/pytool/pytool.conf"),
                    ("user", "_pytool")]:
            self.assertEqual(devs[key]["class"], "expected", devs[key])

    def test_without_the_logs_the_package_is_drift(self):
        self.drift("init", "-q", "--root", self.host, code=0)
        time.sleep(1.1)
        self.install_pytool()
        os.unlink(self.h("var/log/apt/history.log"))
        os.unlink(self.h("var/log/dpkg.log"))
        devs, p = self.check(ADDED)  # the account files are still explained
        pkg = devs[("package", "pytool:all")]
        self.assertEqual(pkg["class"], "drift")
        self.assertIn("no apt or dpkg record of it", pkg["reason"])
        # no dpkg run recorded: a trigger's cache is not explained either
        self.assertEqual(devs[("file", "/usr/share/icons/hicolor/icon-theme.cache")]["class"],
                         "drift")


if __name__ == "__main__":
    drifttest.run_tap(__name__)
