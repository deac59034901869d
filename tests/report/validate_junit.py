#!/usr/bin/env python3
"""Validate drift JUnit XML reports (report/junit.c).

Usage: validate_junit.py [--json DOC] FILE...

Checks, for each file: it is UTF-8 XML 1.0 that a strict parser reads; no
raw control character but the newline anywhere (host strings come as
display forms, \\x1b and the like); the elements and attributes JUnit
consumers require: <testsuites> of <testsuite name tests failures errors>,
each <testcase name classname>, <failure message type>, <error message
type>; the counts agree with the test cases (tests, failures, errors, on
the suite and on the root); test case names unique per classname, rule
cases first, and one "unreadable" case last. With lxml, the document is
also validated against junit.xsd (beside this script): without lxml the
checks above still run, then the script exits 77 (skipped: the schema was
not checked).

With a JSON report of the same run (--json DOC, or a file beside FILE with
the same stem and .json), the findings listed (failure text and
system-out lines) number the JSON report's deviations and the unreadable
entries its "unreadable".
Exits 0 when every file passes, 1 otherwise (naming the problem).
"""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
TIMESTAMP = re.compile(r"^-?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
SECONDS = re.compile(r"^\d+(\.\d+)?$")

try:
    from lxml import etree as lxml_etree
except ImportError:
    lxml_etree = None


class Invalid(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Invalid(what)


def count(el, attr):
    v = el.get(attr)
    check(v is not None and re.match(r"^(0|[1-9][0-9]*)$", v),
          "<%s %s=%r> is not a count" % (el.tag, attr, v))
    return int(v)


def lines(el):
    return [x for x in (el.text or "").split("\n") if x] if el is not None else []


def validate(data, doc):
    text = data.decode("utf-8")  # strict
    check(text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n'), "XML declaration")
    check(not any(ord(c) < 0x20 and c != "\n" for c in text), "a raw control character")
    check(not any(0x7F <= ord(c) < 0xA0 for c in text), "a raw DEL or C1 control")
    root = ET.fromstring(data)
    check(root.tag == "testsuites", "root <%s>" % root.tag)
    check(root.get("name"), "<testsuites> has no name")
    suites = list(root)
    check(suites and all(s.tag == "testsuite" for s in suites), "<testsuites> children")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    findings = unreadable = 0
    for s in suites:
        check(s.get("name"), "<testsuite> has no name")
        check(s.get("timestamp") is None or TIMESTAMP.match(s.get("timestamp")),
              "timestamp %r" % s.get("timestamp"))
        check(s.get("time") is None or SECONDS.match(s.get("time")), "time %r" % s.get("time"))
        cases = s.findall("testcase")
        check(count(s, "tests") == len(cases), "tests=%s, %d test cases"
              % (s.get("tests"), len(cases)))
        failures = sum(c.find("failure") is not None for c in cases)
        errors = sum(c.find("error") is not None for c in cases)
        check(count(s, "failures") == failures, "failures=%s, %d failed" % (s.get("failures"),
                                                                           failures))
        check(count(s, "errors") == errors, "errors=%s, %d in error" % (s.get("errors"), errors))
        for k, v in (("tests", len(cases)), ("failures", failures), ("errors", errors)):
            totals[k] += v
        seen = set()
        for c in cases:
            name, cls = c.get("name"), c.get("classname")
            check(name and cls, "a <testcase> without name or classname")
            check((cls, name) not in seen, "test case %s %r twice" % (cls, name))
            seen.add((cls, name))
            for tag in ("failure", "error"):
                for p in c.findall(tag):
                    check(p.get("message") and p.get("type"), "<%s> of %r without message or type"
                          % (tag, name))
            f = c.find("failure")
            if f is not None:
                n = int(f.get("message").split(" ")[0])
                check(len(lines(f)) == n, "%r: the failure lists %d findings, says %d"
                      % (name, len(lines(f)), n))
            findings += len(lines(f)) + len(lines(c.find("system-out")))
            if name == "unreadable":
                unreadable = len(lines(c.find("error")))
        check(cases and cases[-1].get("name") == "unreadable", "no \"unreadable\" case last")
        rules = [c.get("classname").endswith(".rule") for c in cases]
        check(rules == sorted(rules, reverse=True), "rule cases do not come first")
        names = [c.get("name") for c in cases if c.get("classname").endswith(".rule")]
        check(names == sorted(names, key=lambda x: x.encode()), "rule cases out of order")
    for k, v in totals.items():
        check(root.get(k) is None or count(root, k) == v, "<testsuites %s=%s>, want %d"
              % (k, root.get(k), v))
    if doc is not None:
        check(findings == len(doc["deviations"]), "%d findings listed, the JSON report has %d"
              % (findings, len(doc["deviations"])))
        check(unreadable == len(doc["unreadable"]), "%d unreadable listed, the JSON report has %d"
              % (unreadable, len(doc["unreadable"])))
    if lxml_etree is not None:
        with open(os.path.join(HERE, "junit.xsd"), "rb") as f:
            schema = lxml_etree.XMLSchema(lxml_etree.XML(f.read()))
        tree = lxml_etree.fromstring(data)
        if not schema.validate(tree):
            raise Invalid("junit.xsd: %s" % schema.error_log.last_error)


def main(argv):
    args = argv[1:]
    given = None
    if args[:1] == ["--json"]:
        given, args = args[1], args[2:]
    ok = True
    for path in args:
        try:
            with open(path, "rb") as f:
                data = f.read()
            other = given
            if other is None:
                stem = path[:-len(".junit.xml")] if path.endswith(".junit.xml") \
                    else os.path.splitext(path)[0]
                other = stem + ".json" if os.path.exists(stem + ".json") else None
            doc = None
            if other is not None:
                with open(other, "rb") as f:
                    doc = json.loads(f.read().decode("utf-8"))
            validate(data, doc)
        except (Invalid, ValueError, ET.ParseError, TypeError) as e:
            print("%s: invalid drift JUnit report: %s" % (path, e), file=sys.stderr)
            ok = False
    if ok and lxml_etree is None:
        print("lxml missing: junit.xsd not checked", file=sys.stderr)
        return 77
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
