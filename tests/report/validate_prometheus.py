#!/usr/bin/env python3
"""Validate drift Prometheus reports (report/prometheus.c) against the JSON report.

Usage: validate_prometheus.py [--json DOC] FILE...

Each FILE is parsed by prometheus_client's own parser of the text format
(text_string_to_metric_families), and must hold exactly the drift_*
families, every one a gauge with its HELP, every series labelled with
the command; drift_findings must have every class x severity series (zeros
included) plus the one without a verdict. Its values must be what the JSON
report of the same run says (--json DOC, else the file beside FILE with the
same stem and .json, which must exist): counts by change, by class and
severity, unreadable entries, entries checked, the times, and the info
labels (display forms of the snapshot's label and host).
Exits 0 when every file passes, 1 otherwise, 77 (skipped) when
prometheus_client is not installed.
"""
import json
import os
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import validate_json as vj  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    text_string_to_metric_families = None

FAMILIES = ["drift_findings", "drift_findings_changes", "drift_findings_counted",
            "drift_entries_scanned", "drift_unreadable_entries", "drift_scan_duration_seconds",
            "drift_last_run_timestamp_seconds", "drift_last_success_timestamp_seconds",
            "drift_report_info"]
CLASSES = ["expected", "drift", "violation", "waived"]
SEVERITIES = ["critical", "high", "medium", "low", "info"]
check = vj.check


def seconds(rfc3339):
    """An RFC 3339 time with nanoseconds as float seconds (to a microsecond)."""
    whole, frac = rfc3339[:-1].split(".")
    t = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return t.timestamp() + int(frac) / 1e9


def validate(text, doc):
    check(text.endswith("\n"), "no final newline")
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    want = [f for f in FAMILIES if f != "drift_scan_duration_seconds" or
            (doc["new"] is not None and doc["new"]["complete"])]
    check(sorted(fams) == sorted(want), "families %r, want %r" % (sorted(fams), sorted(want)))
    series = {}
    for f in fams.values():
        check(f.type == "gauge", "%s is a %s" % (f.name, f.type))
        check(f.documentation, "%s has no HELP" % f.name)
        for s in f.samples:
            check(s.labels.get("command") == doc["command"], "%s command label" % s.name)
            key = (s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k != "command")))
            check(key not in series, "%r twice" % (key,))
            series[key] = s.value

    def one(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        check(key in series, "no series %s%r" % (name, labels))
        return series[key]

    summary, devs = doc["summary"], doc["deviations"]
    for c in vj.CHANGES:
        check(one("drift_findings_changes", change=c) == summary[c], "changes %s" % c)
    total = 0
    for cls in CLASSES:
        for sev in SEVERITIES:
            total += one("drift_findings", **{"class": cls, "severity": sev})
    none = one("drift_findings", **{"class": "drift", "severity": "none"})
    check(total + none == summary["total"], "drift_findings sum to %d, want %d"
          % (total + none, summary["total"]))
    check(sum(one("drift_findings", **{"class": "expected", "severity": s}) for s in SEVERITIES)
          == summary["expected"], "expected findings")
    for sev in SEVERITIES:
        check(one("drift_findings", **{"class": "drift", "severity": sev}) +
              one("drift_findings", **{"class": "violation", "severity": sev}) ==
              summary["by_severity"][sev], "drift findings of severity %s" % sev)
    if len(devs) == summary["total"]:  # every finding shown: count the array too
        check(none == sum(d["severity"] is None for d in devs), "findings without a verdict")
        for cls in CLASSES:
            for sev in SEVERITIES:
                check(one("drift_findings", **{"class": cls, "severity": sev}) ==
                      sum(d["class"] == cls and d["severity"] == sev for d in devs),
                      "drift_findings %s %s" % (cls, sev))
    check(one("drift_findings_counted") <= summary["total"], "counted")
    check(one("drift_unreadable_entries") == summary["unreadable"], "unreadable")
    check(one("drift_entries_scanned") == summary["entries_checked"], "entries scanned")
    gen = seconds(doc["generated"])
    check(abs(one("drift_last_run_timestamp_seconds") - gen) < 1e-5, "last run time")
    check(abs(one("drift_last_success_timestamp_seconds") - gen) < 1e-5, "last success time")
    if "drift_scan_duration_seconds" in want:
        new = doc["new"]
        dur = seconds(new["finished"]) - seconds(new["started"])
        check(abs(one("drift_scan_duration_seconds") - dur) < 1e-5, "scan duration")
    old = doc["old"]
    baseline = "" if old is None else old["label"] if old["label"] is not None \
        else "#%d" % old["id"]
    side = doc["new"] or doc["old"]
    host = "" if side is None or side["host"] is None else side["host"]
    info = [k for k in series if k[0] == "drift_report_info"]
    check(len(info) == 1, "one drift_report_info series")
    labels = dict(info[0][1])
    check(series[info[0]] == 1, "drift_report_info is not 1")
    check(labels["version"] == doc["tool"]["version"], "info version")
    # The display form of what JSON carries (a display form already when not clean).
    check(labels["baseline"] in (baseline, vj.display(baseline.encode())),
          "info baseline %r, want %r" % (labels["baseline"], baseline))
    check(labels["host"] in (host, vj.display(host.encode())),
          "info host %r, want %r" % (labels["host"], host))


def main(argv):
    if text_string_to_metric_families is None:
        print("prometheus_client missing: skipped", file=sys.stderr)
        return 77
    args = argv[1:]
    given = None
    if args[:1] == ["--json"]:
        given, args = args[1], args[2:]
    ok = True
    for path in args:
        try:
            other = given or os.path.splitext(path)[0] + ".json"
            with open(other, "rb") as f:
                doc = json.loads(f.read().decode("utf-8"))
            with open(path, "rb") as f:
                validate(f.read().decode("utf-8"), doc)
        except (vj.Invalid, ValueError, KeyError, TypeError, OSError) as e:
            print("%s: invalid drift Prometheus report: %s" % (path, e), file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
