"""The HTML report in a real browser: drift check --format html, opened in
headless Chromium.

Checks that the page draws its table without a script error, that hostile
file names show as text and inject nothing, that the summary has the JSON
report's numbers, and that a report of 100,000 findings (bench/html_load)
draws its first page. Saves a screenshot to $DRIFT_BUILD_DIR/tests/
report-screenshot.png, and, with DRIFT_SCREENSHOT_DOCS=1, to
docs/html-report.png in the source tree.

Exit 77 (skipped) when Chromium is not installed. Standard library only.
"""

import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import CLEAN, MODIFIED, DriftCase, run_tap  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ALL_CHANGES = 1 | 2 | 4


def chromium(tmp, url, *args):
    """Run headless Chromium on @url with @args and a fresh profile; its stdout."""
    profile = os.path.join(tmp, "chromium-profile")
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--user-data-dir=" + profile, *args, url]
    p = subprocess.run(argv, capture_output=True, timeout=240)
    shutil.rmtree(profile, ignore_errors=True)
    if p.returncode != 0:
        raise AssertionError("chromium exited %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[-3000:]))
    return p.stdout


class Page(html.parser.HTMLParser):
    """The elements of a dumped DOM and its visible text (no script or style)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []  # (tag, attrs)
        self.text = []
        self.rows = []      # text of each tr.item
        self.html_attrs = {}
        self._skip = 0
        self._row = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        if tag == "html":
            self.html_attrs = a
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "tr" and "item" in (a.get("class") or "").split():
            self._row = []

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == "tr" and self._row is not None:
            self.rows.append(" ".join(self._row))
            self._row = None

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._row is not None:
            self._row.append(data)


def load(case, path, *args):
    """Dump the DOM of @path after its script ran; the parsed Page."""
    dom = chromium(case.tmp, "file://" + path, "--dump-dom", *args)
    page = Page()
    page.feed(dom.decode("utf-8"))
    return page


class HtmlReport(DriftCase):

    def check_page(self, page):
        """The script finished, recorded no error, and nothing was injected."""
        attrs = page.html_attrs
        self.assertNotIn("data-error", attrs, attrs.get("data-error"))
        self.assertEqual(attrs.get("data-rendered"), "1", attrs)
        tags = [t for t, _ in page.elements]
        self.assertEqual(tags.count("script"), 4)
        self.assertEqual(tags.count("style"), 1)
        for bad in ("img", "iframe", "object", "embed", "link", "base", "meta-refresh"):
            self.assertNotIn(bad, tags)
        for tag, a in page.elements:
            for name in a:
                self.assertFalse(name.startswith("on"), (tag, a))
            for name in ("src", "href"):
                self.assertNotIn(name, a, (tag, a))

    def test_hostile_names_show_as_text_and_inject_nothing(self):
        names = [
            b"a\nb",
            b"ctl\x01\x7f",
            b"latin1-\xff\xfe",
            b"<img src=x onerror=alert(1)>",
            b"\x1b[31mred\x1b[0m",
            b"rlo\xe2\x80\xaetxt.exe",
        ]
        self.write("etc/hosts", "127.0.0.1 localhost\n")
        self.write("etc/motd", "hello\n")
        self.init()
        self.write("etc/hosts", "127.0.0.1 localhost evil\n")
        os.remove(self.path("etc/motd"))
        for n in names:
            self.write(b"new/" + n, b"x")
        # A path that holds a whole closing tag: directories '<', 'script><script>alert(1)<'.
        self.write(b"new/</script><script>alert(1)</script>", b"x")

        doc, _ = self.check_json(code=ALL_CHANGES)
        out = os.path.join(self.tmp, "report.html")
        p = self.drift("check", "--format", "html", "--output", out, code=ALL_CHANGES)
        self.assertEqual(p.stdout, b"")
        page = load(self, out, "--virtual-time-budget=5000")
        self.check_page(page)
        text = "".join(page.text)

        s = doc["summary"]
        self.assertIn("%d deviations: %d added, %d removed, %d modified" % (
            s["total"], s["added"], s["removed"], s["modified"]), text)
        self.assertIn("%d\ndrift" % s["drift"], "\n".join(page.text))
        rows = page.rows
        self.assertEqual(len(rows), s["total"])
        self.assertEqual(page.html_attrs.get("data-rows"), str(s["total"]))
        shown = "\n".join(rows)
        # Each name as text, escaped as drift shows names (lossless, visible).
        for want in ("new/a\\nb", "new/ctl\\x01\\x7f", "new/latin1-\\xff\\xfe",
                     "new/<img src=x onerror=alert(1)>", "new/\\x1b[31mred\\x1b[0m",
                     "new/rlo\\u202etxt.exe", "new/</script><script>alert(1)</script>"):
            self.assertIn(self.root + "/" + want, shown)
        self.assertNotIn("\x1b", text)
        self.assertNotIn("\u202e", text)

        # The same report, a screenshot of it with the first row's details open.
        shot = self.screenshot(out, "report-hostile-screenshot.png", "#open=0")
        self.assertGreater(os.path.getsize(shot), 10000)

    def test_details_filters_and_no_script(self):
        """The details view draws; the page without JavaScript still has the summary."""
        self.set_policy("""\
rules:
  - id: conf
    path: %s/etc
    check: [type, mode, uid, gid, size, mtime, target, hash]
    severity: high
    keep_content: true
""" % self.root)
        self.write("etc/app.conf", "alpha\nbeta\n")
        self.init()
        self.write("etc/app.conf", "alpha\n<script>alert(1)</script>\n")
        out = os.path.join(self.tmp, "report.html")
        self.drift("check", "--format", "html", "--output", out, code=4)
        page = load(self, out, "--virtual-time-budget=5000")
        self.check_page(page)
        # #open=0: the first row's details, with its diff, as text.
        page = load(self, out + "#open=0", "--virtual-time-budget=5000")
        self.check_page(page)
        text = "".join(page.text)
        self.assertIn("+<script>alert(1)</script>", text)
        self.assertIn("conf (" + self.policy, text)
        # Without JavaScript the file as written is the page: the summary and
        # the noscript line are there, outside any script.
        page = Page()
        with open(out, encoding="utf-8") as f:
            page.feed(f.read())
        text = "".join(page.text)
        self.assertIn("1 deviation: 0 added, 0 removed, 1 modified", text)
        self.assertIn("needs JavaScript", text)
        self.assertNotIn("data-rendered", page.html_attrs)

    def test_100k_findings_draw_their_first_page(self):
        gen = os.environ.get("DRIFT_HTML_GEN")
        if not gen:
            self.skipTest("DRIFT_HTML_GEN (bench/html_load) not set")
        out = os.path.join(self.tmp, "big.html")
        with open(out, "wb") as f:
            subprocess.run([gen, "100000"], stdout=f, check=True, timeout=120)
        page = load(self, out)
        self.check_page(page)
        a = page.html_attrs
        # 100,000 findings and 100 unreadable entries; one page of 100 rows.
        self.assertEqual(a.get("data-shown"), "100100")
        self.assertEqual(a.get("data-rows"), "100")
        # The details (after the script) were read too, once the document was.
        self.assertIn("data-loaded-ms", a)
        self.assertEqual(len(page.rows), 100)
        # Most severe first: file 11 is the first critical drift (4 is expected).
        self.assertIn("/srv/d0000/file-000011.conf", page.rows[0])
        text = "".join(page.text)
        self.assertIn("100000 deviations: 33334 added, 33333 removed, 33333 modified", text)
        self.assertIn("page 1 of 1001", text)

    def test_realistic_report_screenshot(self):
        """A report that looks like a host's: the docs' screenshot."""
        self.set_policy("""\
rules:
  - {id: etc, title: configuration, path: %(r)s/etc, severity: medium, keep_content: true}
  - {id: ssh, title: SSH daemon configuration, path: %(r)s/etc/ssh, severity: critical, keep_content: true}
  - {id: cron, title: scheduled jobs, path: %(r)s/etc/cron.d, severity: high}
  - {id: sbin, title: local system binaries, path: %(r)s/usr/local/sbin, severity: high}
  - {id: logs, title: logs grow, path: %(r)s/var/log, check: log, severity: low}
  - {id: web, title: site content, path: %(r)s/srv/www, severity: info}
""" % {"r": self.root})
        self.write("etc/ssh/sshd_config", "Port 22\nPermitRootLogin no\nPasswordAuthentication no\n")
        self.write("etc/hosts", "127.0.0.1 localhost\n")
        self.write("etc/motd", "Welcome\n")
        self.write("etc/nginx/nginx.conf", "worker_processes auto;\n")
        self.write("var/log/syslog", "boot\n")
        self.write("var/log/auth.log", "boot\n")
        for i in range(12):
            self.write("srv/www/page%02d.html" % i, "<p>%d</p>\n" % i)
        self.init()
        # Earlier nights, for the chart of the last runs: clean, then a page changed.
        self.drift("check", "-q", code=CLEAN)
        self.drift("check", "-q", code=CLEAN)
        self.write("srv/www/page00.html", "<p>new 0</p>\n")
        self.drift("check", "-q", code=MODIFIED)
        self.write("srv/www/page01.html", "<p>new 1</p>\n")
        self.drift("check", "-q", code=MODIFIED)
        self.write("etc/ssh/sshd_config", "Port 22\nPermitRootLogin yes\nPasswordAuthentication no\n")
        self.write("etc/cron.d/backup", "0 3 * * * root /usr/local/sbin/backup\n")
        self.write("usr/local/sbin/backup", "#!/bin/sh\n", mode=0o4755)
        self.write("etc/hosts", "127.0.0.1 localhost\n10.0.0.7 updates.example.net\n")
        os.remove(self.path("etc/motd"))
        with open(self.path("var/log/syslog"), "a") as f:
            f.write("more\n")
        with open(self.path("var/log/auth.log"), "w") as f:
            f.write("\n")
        for i in range(4):
            self.write("srv/www/page%02d.html" % i, "<p>new %d</p>\n" % i)
        out = os.path.join(self.tmp, "report.html")
        self.drift("check", "--since-last", "--format", "html", "--output", out,
                   code=ALL_CHANGES)
        page = load(self, out, "--virtual-time-budget=5000")
        self.check_page(page)
        self.assertNotIn("No earlier runs recorded", " ".join(page.text),
                         "the chart has the earlier checks")
        shot = self.screenshot(out, "report-screenshot.png", "#open=0")
        if os.environ.get("DRIFT_SCREENSHOT_DOCS") == "1":
            src = os.environ.get("DRIFT_SOURCE_DIR")
            self.assertTrue(src, "DRIFT_SOURCE_DIR not set")
            shutil.copyfile(shot, os.path.join(src, "docs", "html-report.png"))

    def screenshot(self, path, name, fragment=""):
        build = os.environ.get("DRIFT_BUILD_DIR") or self.tmp
        os.makedirs(os.path.join(build, "tests"), exist_ok=True)
        shot = os.path.join(build, "tests", name)
        chromium(self.tmp, "file://" + path + fragment, "--screenshot=" + shot,
                 "--window-size=1280,1600", "--virtual-time-budget=5000")
        with open(shot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        return shot


if __name__ == "__main__":
    if not CHROMIUM:
        # A TAP test that skips: meson takes a non-zero exit (77 too) as an error.
        print("1..0 # SKIP chromium is not installed")
        sys.exit(0)
    run_tap(__name__)
