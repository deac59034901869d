#!/usr/bin/env python3
"""drift check and diff --format ndjson, junit and prometheus on real trees:
exit status, the output parsed (json, xml.etree and lxml's junit.xsd,
prometheus_client's parser), and what it says agrees with the JSON report
of the same state. Cases that need lxml or prometheus_client are skipped
without them (python3-lxml, python3-prometheus-client)."""

import json
import os
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drifttest import ADDED, CLEAN, MODIFIED, DriftCase, run_tap  # noqa: E402

try:
    from lxml import etree as lxml_etree
except ImportError:
    lxml_etree = None
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    text_string_to_metric_families = None

XSD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "report", "junit.xsd")
HOSTILE = b"<img src=x onerror=alert(1)>]]><testcase>\x1b[31m\nx\xff"  # no slash: one file


class Formats(DriftCase):

    def setUp(self):
        super().setUp()
        self.write("etc/a", "1")
        self.write("etc/b", "2")
        self.init()
        self.write("etc/a", "changed")
        self.write("etc/new", "3")
        self.write(b"etc/" + HOSTILE, "evil")
        self.code = ADDED | MODIFIED

    def json_doc(self):
        doc, _ = self.check_json(code=self.code)
        return doc

    def test_ndjson_is_the_json_report_a_record_a_line(self):
        out = self.drift("check", "--format", "ndjson", code=self.code).stdout
        self.assertTrue(out.endswith(b"\n"))
        lines = out.decode("utf-8").split("\n")[:-1]
        for line in lines:
            self.assertFalse(any(ord(c) < 0x20 for c in line), "a raw control in %r" % line)
        recs = [json.loads(line) for line in lines]
        head, findings = recs[0], recs[1:]
        self.assertEqual(head["type"], "report")
        self.assertEqual(head["command"], "check")
        doc = self.json_doc()
        # etc/a modified, two files added.
        self.assertEqual(head["summary"]["total"], 3)
        self.assertEqual([r["type"] for r in findings], ["finding"] * 3)
        for r in findings:
            del r["type"]
        self.assertEqual(findings, doc["deviations"])
        for k in ("old", "summary", "policy", "tool", "database"):
            self.assertEqual(head[k], doc[k], k)

    def junit(self, *extra, code):
        out = self.drift("check", "--format", "junit", *extra, code=code).stdout
        text = out.decode("utf-8")
        self.assertFalse(any(ord(c) < 0x20 and c != "\n" for c in text), "a raw control")
        root = ET.fromstring(out)
        return out, root

    def test_junit_fails_the_rule_and_escapes_names(self):
        out, root = self.junit(code=self.code)
        self.assertEqual(root.tag, "testsuites")
        suite = root.find("testsuite")
        self.assertEqual(suite.get("name"), "drift check")
        cases = {c.get("name"): c for c in suite.findall("testcase")}
        self.assertEqual(sorted(cases), ["everything", "unreadable"])
        self.assertEqual((suite.get("tests"), suite.get("failures"), suite.get("errors")),
                         ("2", "1", "0"))
        failure = cases["everything"].find("failure")
        self.assertEqual(failure.get("message"), "3 findings: 3 medium")
        self.assertEqual(failure.get("type"), "medium")
        listed = failure.text.splitlines()
        self.assertEqual(len(listed), 3)
        # The name, escaped as text shows it: no markup, no raw escape or newline.
        self.assertIn("<img src=x onerror=alert(1)>]]><testcase>\\x1b[31m\\nx\\xff", failure.text)
        self.assertNotIn(b"<img", out)
        self.assertIsNone(cases["unreadable"].find("error"))

    def test_junit_of_a_clean_check_passes(self):
        self.init(extra=("--force",))
        _, root = self.junit(code=CLEAN)
        suite = root.find("testsuite")
        self.assertEqual((suite.get("tests"), suite.get("failures"), suite.get("errors")),
                         ("1", "0", "0"))
        self.assertEqual(suite.find("testcase").get("name"), "unreadable")

    @unittest.skipUnless(lxml_etree, "python3-lxml is not installed")
    def test_junit_validates_against_the_schema(self):
        out, _ = self.junit(code=self.code)
        with open(XSD, "rb") as f:
            schema = lxml_etree.XMLSchema(lxml_etree.XML(f.read()))
        self.assertTrue(schema.validate(lxml_etree.fromstring(out)), schema.error_log)

    def metrics(self, *args, code):
        out = self.drift(*args, "--format", "prometheus", code=code).stdout.decode("utf-8")
        series = {}
        for fam in text_string_to_metric_families(out):
            self.assertEqual(fam.type, "gauge", fam.name)
            for s in fam.samples:
                series[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return out, series

    @unittest.skipUnless(text_string_to_metric_families, "python3-prometheus-client is missing")
    def test_prometheus_counts_are_the_json_summary(self):
        out, series = self.metrics("check", code=self.code)
        doc = self.json_doc()
        summary = doc["summary"]

        def one(name, **labels):
            return series[(name, tuple(sorted(dict(labels, command="check").items())))]

        for change in ("added", "removed", "modified"):
            self.assertEqual(one("drift_findings_changes", change=change), summary[change])
        for sev in ("critical", "high", "medium", "low", "info"):
            self.assertEqual(one("drift_findings", **{"class": "drift", "severity": sev}),
                             summary["by_severity"][sev], sev)
            self.assertEqual(one("drift_findings", **{"class": "expected", "severity": sev}), 0)
        self.assertEqual(one("drift_findings_counted"), summary["total"])
        self.assertEqual(one("drift_entries_scanned"), summary["entries_checked"])
        self.assertEqual(one("drift_unreadable_entries"), summary["unreadable"])
        self.assertGreaterEqual(one("drift_scan_duration_seconds"), 0)
        self.assertEqual(one("drift_last_run_timestamp_seconds"),
                         one("drift_last_success_timestamp_seconds"))
        self.assertEqual(one("drift_report_info", baseline="baseline",
                             host=doc["new"]["host"], version=doc["tool"]["version"]), 1)

    @unittest.skipUnless(text_string_to_metric_families, "python3-prometheus-client is missing")
    def test_prometheus_of_a_diff_and_a_clean_check(self):
        # Two stored snapshots: diff 1 (the baseline) against the check's, 2.
        self.drift("check", "-q", code=self.code)
        _, series = self.metrics("diff", "1", "2", code=self.code)
        self.assertEqual(series[("drift_findings_changes",
                                 (("change", "added"), ("command", "diff")))], 2)
        self.init(extra=("--force",))
        _, series = self.metrics("check", code=CLEAN)
        self.assertEqual(sum(v for (n, _), v in series.items() if n == "drift_findings"), 0)
        # Every class x severity series is there, zeros included, plus "none".
        self.assertEqual(sum(1 for (n, _) in series if n == "drift_findings"), 4 * 5 + 1)

    def test_every_format_to_an_output_file(self):
        for fmt, start in (("ndjson", b'{"type": "report"'), ("junit", b"<?xml"),
                           ("prometheus", b"# HELP drift_findings ")):
            target = os.path.join(self.tmp, "report." + fmt)
            p = self.drift("check", "--format", fmt, "--output", target, code=self.code)
            self.assertEqual(p.stdout, b"", fmt)
            with open(target, "rb") as f:
                self.assertTrue(f.read().startswith(start), fmt)


if __name__ == "__main__":
    run_tap(__name__)
