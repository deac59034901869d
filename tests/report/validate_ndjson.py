#!/usr/bin/env python3
"""Validate drift ndjson reports (docs/json-report.md, "ndjson").

Usage: validate_ndjson.py [--json DOC] FILE...

Checks, for each file: it is UTF-8 text of lines, each one JSON object
ending in a newline (no raw control character anywhere: JSON escapes them);
the first record is {"type": "report", ...} with exactly the members the
JSON document has before its arrays; then {"type": "finding"} records,
{"type": "unreadable"} records and {"type": "resolved"} records, in that
order. Every record but the first, without its "type", is an element of
the JSON document's "deviations" or "unreadable"; so the records are put
back together into one JSON document and checked by validate_json.py, the
JSON report's own checker (summary against the records, order, lossless
paths...). Resolved records are checked as deviations of their own.

When a JSON report of the same run is given (--json DOC, or else a file
beside FILE with the same stem and .json, when there is one), the
reassembled document must equal it.
Exits 0 when every file passes, 1 otherwise (naming the problem).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import validate_json as vj  # noqa: E402

HEAD = [k for k in vj.TOP if k not in ("deviations", "unreadable")]
ORDER = ["finding", "unreadable", "resolved"]


def strip_type(rec, want):
    vj.check(rec["__keys__"][:1] == ["type"], "record does not start with \"type\"")
    vj.check(rec["type"] == want, "record type %r, want %r" % (rec["type"], want))
    del rec["type"]
    rec["__keys__"] = rec["__keys__"][1:]
    return rec


def plain(obj):
    """A parsed object without the key-order bookkeeping, for comparison."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items() if k != "__keys__"}
    if isinstance(obj, list):
        return [plain(v) for v in obj]
    return obj


def reassemble(text):
    vj.check(text.endswith("\n"), "the last record does not end with a newline")
    lines = text[:-1].split("\n")
    for i, line in enumerate(lines):
        vj.check(line and not any(ord(c) < 0x20 for c in line),
                 "line %d is empty or has a raw control character" % (i + 1))
    recs = [json.loads(line, object_pairs_hook=vj.pairs) for line in lines]
    head = strip_type(recs[0], "report")
    doc = dict(head)
    doc["deviations"], doc["unreadable"], resolved = [], [], []
    doc["__keys__"] = head["__keys__"] + ["deviations", "unreadable"]
    if "since_last" in head:
        doc["__keys__"].append("resolved")
    want_head = HEAD[:] + [k for k in ("since_last", "notes") if k in head]
    vj.check(head["__keys__"] == want_head, "header keys %r" % head["__keys__"])
    last = 0
    for i, rec in enumerate(recs[1:], 2):
        t = rec.get("type")
        vj.check(t in ORDER, "line %d: record type %r" % (i, t))
        vj.check(ORDER.index(t) >= last, "line %d: a %s record after a %s one"
                 % (i, t, ORDER[last]))
        last = ORDER.index(t)
        strip_type(rec, t)
        {"finding": doc["deviations"], "unreadable": doc["unreadable"],
         "resolved": resolved}[t].append(rec)
    if "since_last" in head:
        doc["resolved"] = resolved
    return doc, resolved


def alone(doc, dev):
    """@doc with @dev its only deviation, and a summary that says so."""
    doc = {k: v for k, v in doc.items() if k not in ("since_last", "resolved")}
    doc["__keys__"] = [k for k in doc["__keys__"] if k not in ("since_last", "resolved")]
    summary = dict(doc["summary"])
    for c in vj.CHANGES:
        summary[c] = int(dev["change"] == c)
    summary["total"] = 1
    summary["expected"] = int(dev["class"] == "expected")
    summary["drift"] = 1 - summary["expected"]
    sev = {s: int(dev["class"] != "expected" and dev["severity"] == s) for s in vj.SEVERITIES}
    sev["__keys__"] = vj.SEVERITIES
    summary["by_severity"] = sev
    summary["unreadable"] = 0
    return dict(doc, deviations=[dev], unreadable=[], summary=summary)


def main(argv):
    args = argv[1:]
    given = None
    if args[:1] == ["--json"]:
        given, args = args[1], args[2:]
    ok = True
    for path in args:
        try:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8")
            doc, resolved = reassemble(text)
            vj.validate(doc)
            for r in resolved:
                # A resolved finding: the object of a deviation, checked as the
                # only one of a document.
                vj.validate(alone(doc, r))
            other = given
            if other is None:
                stem = os.path.splitext(path)[0] + ".json"
                other = stem if os.path.exists(stem) else None
            if other is not None:
                with open(other, "rb") as f:
                    want = json.loads(f.read().decode("utf-8"))
                vj.check(plain(doc) == want,
                         "the records put together differ from the JSON report %s" % other)
        except (vj.Invalid, ValueError, KeyError, TypeError, IndexError) as e:
            print("%s: invalid drift ndjson report: %s" % (path, e), file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
