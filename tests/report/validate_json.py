#!/usr/bin/env python3
"""Validate drift JSON reports against docs/json-report.md.

Usage: validate_json.py FILE...

Checks, for each file: it parses as JSON (no duplicate keys), every object
has exactly the documented keys in the documented order, the summary agrees
with the arrays, deviations come grouped (drift by severity, drift without a
verdict by change, expected) and within a group by kind (files first, then
the kinds in their order) and byte order of their keys, times are RFC 3339
UTC with nine fractional digits, and every `path`, `key`, `target`, xattr
name and value and property value is lossless: either a clean string, or
the escaped display form of the bytes in `*_b64`. The `props` of a
deviation agree with its `old` and `new` sides; `package` and `unowned`
are well-formed and exclusive; `notes` is a non-empty array of strings.
Exits 0 when every file passes, 1 otherwise (naming the problem).
"""
import base64
import json
import re
import sys

TOP = ["drift_report", "tool", "command", "generated", "database", "compare",
       "old", "new", "policy", "summary", "deviations", "unreadable"]
KINDS = ["file", "package", "user", "group", "service", "sysctl", "module", "port", "mount"]
SNAPSHOT = ["id", "label", "purpose", "complete", "host", "version", "roots",
            "excludes", "hash", "started", "finished", "entries", "errors", "probes",
            "probes_unavailable", "parent"]
SUMMARY = ["added", "removed", "modified", "total", "expected", "waived", "drift", "by_severity",
           "unreadable", "entries_checked"]
SEVERITIES = ["critical", "high", "medium", "low", "info"]
OPTIONAL = ["xattrs", "acl", "caps", "selinux", "mime"]
ENTRY = ["type", "mode", "uid", "gid", "size", "mtime", "ctime", "inode", "device",
         "rdev", "nlink", "target", "hash", "hash_algo", "error", "errno", "changed_while_read",
         "not_hashed_too_sparse", "collected"] + OPTIONAL
ATTRS = ["type", "mode", "uid", "gid", "size", "mtime", "ctime", "inode", "device",
         "rdev", "nlink", "target", "hash", "error"] + OPTIONAL + ["props"]
CHANGES = ["added", "removed", "modified"]
CLASSES = ["expected", "drift", "violation", "waived"]
DIGEST = re.compile(r"^[0-9a-f]{64}$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")


class Invalid(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Invalid(what)


def pairs(items):
    keys = [k for k, _ in items]
    check(len(keys) == len(set(keys)), "duplicate key in %r" % keys)
    obj = dict(items)
    obj["__keys__"] = keys
    return obj


def keys(obj, want, optional=()):
    got = [k for k in obj["__keys__"]]
    expect = []
    for k in want:
        expect.append(k)
        if k in optional and k + "_b64" in got:
            expect.append(k + "_b64")
    check(got == expect, "keys %r, want %r" % (got, expect))


def is_control(cp):
    return cp < 0x20 or cp == 0x7F or 0x80 <= cp < 0xA0


def display(raw):
    """common/escape.c's escape_display(), in Python."""
    out = []
    i = 0
    named = {0x5C: "\\\\", 0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r", 0x07: "\\a",
             0x08: "\\b", 0x0C: "\\f", 0x0B: "\\v"}
    while i < len(raw):
        c = raw[i]
        n = 1 if c < 0x80 else 2 if 0xC2 <= c <= 0xDF else 3 if 0xE0 <= c <= 0xEF \
            else 4 if 0xF0 <= c <= 0xF4 else 0
        ch = None
        if n:
            try:
                ch = raw[i:i + n].decode("utf-8")
                check(len(ch) == 1, "decoder")
            except UnicodeDecodeError:
                ch = None
        if ch is None:
            out.append("\\x%02x" % c)
            i += 1
            continue
        cp = ord(ch)
        if cp in named:
            out.append(named[cp])
        elif is_control(cp):
            out.extend("\\x%02x" % b for b in raw[i:i + n])
        else:
            out.append(ch)
        i += n
    return "".join(out)


def clean(raw):
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(is_control(ord(ch)) for ch in s)


def lossless(obj, key):
    """The raw bytes of obj[key], checking the path/path_b64 contract."""
    s = obj[key]
    check(isinstance(s, str), "%s is not a string" % key)
    if key + "_b64" in obj:
        raw = base64.b64decode(obj[key + "_b64"], validate=True)
        check(base64.b64encode(raw).decode() == obj[key + "_b64"], "%s_b64 not canonical" % key)
        check(not clean(raw), "%s_b64 given for a clean string %r" % (key, raw))
        check(display(raw) == s, "%s %r is not the display form of %r" % (key, s, raw))
        return raw
    raw = s.encode("utf-8")
    check(clean(raw), "%s %r is not clean but has no %s_b64" % (key, s, key))
    return raw


def time_or_null(v, what, nullable=False):
    if v is None:
        check(nullable, "%s is null" % what)
        return
    check(isinstance(v, str) and TIME.match(v), "%s %r is not RFC 3339 with ns" % (what, v))


def integer(v, what):
    check(isinstance(v, int) and not isinstance(v, bool) and v >= 0, "%s %r" % (what, v))


def check_snapshot(s, what):
    keys(s, SNAPSHOT)
    integer(s["id"], what + ".id")
    check(s["label"] is None or isinstance(s["label"], str), what + ".label")
    check(s["purpose"] in ("baseline", "check", "scan", "upgrade"), what + ".purpose")
    check(isinstance(s["complete"], bool), what + ".complete")
    check(all(isinstance(r, str) for r in s["roots"]), what + ".roots")
    check(all(isinstance(r, str) for r in s["excludes"]), what + ".excludes")
    check(s["hash"] in ("xxh3-128", "sha256", "none"), what + ".hash")
    time_or_null(s["started"], what + ".started")
    time_or_null(s["finished"], what + ".finished", nullable=not s["complete"])
    integer(s["entries"], what + ".entries")
    integer(s["errors"], what + ".errors")
    check(all(isinstance(p, str) for p in s["probes"]), what + ".probes")
    check(all(p in s["probes"] for p in s["probes_unavailable"]), what + ".probes_unavailable")


def check_entry(e, what):
    if e is None:
        return
    keys(e, ENTRY, optional=("target",))
    check(e["type"] in ("file", "dir", "symlink", "fifo", "socket", "chardev", "blockdev",
                        "unknown"), what + ".type")
    check(re.match(r"^[0-7]{4}$", e["mode"]), what + ".mode")
    for k in ("uid", "gid", "size", "nlink"):
        integer(e[k], what + "." + k)
    for k in ("inode", "device"):
        check(isinstance(e[k], str) and re.match(r"^(0|[1-9][0-9]*)$", e[k]), what + "." + k)
    # "MAJOR,MINOR" for a device, null otherwise (or when not recorded).
    if e["rdev"] is not None:
        check(e["type"] in ("chardev", "blockdev"), what + ".rdev of a non-device")
        check(isinstance(e["rdev"], str) and
              re.match(r"^(0|[1-9][0-9]*),(0|[1-9][0-9]*)$", e["rdev"]), what + ".rdev")
    time_or_null(e["mtime"], what + ".mtime")
    time_or_null(e["ctime"], what + ".ctime")
    if e["target"] is not None:
        lossless(e, "target")
    if e["hash"] is None:
        check(e["hash_algo"] is None, what + ".hash_algo without hash")
    else:
        check(re.match(r"^[0-9a-f]+$", e["hash"]), what + ".hash")
        check(e["hash_algo"] in ("xxh3-128", "sha256", "md5"), what + ".hash_algo")
    if e["error"] is None:
        check(e["errno"] is None, what + ".errno without error")
    else:
        check(isinstance(e["error"], str) and e["error"], what + ".error")
        check(isinstance(e["errno"], int) and e["errno"] > 0, what + ".errno")
    check(isinstance(e["changed_while_read"], bool), what + ".changed_while_read")
    check(isinstance(e["not_hashed_too_sparse"], bool), what + ".not_hashed_too_sparse")
    collected = e["collected"]
    check(collected == sorted(set(collected), key=OPTIONAL.index), what + ".collected")
    if "xattrs" not in collected:
        check(e["xattrs"] is None, what + ".xattrs without collecting them")
    else:
        check(isinstance(e["xattrs"], list), what + ".xattrs")
        last = None
        for i, x in enumerate(e["xattrs"]):
            keys(x, ["name", "value"], optional=("name", "value"))
            name = lossless(x, "name")
            lossless(x, "value")
            check(name and (last is None or name > last), "%s.xattrs[%d] order" % (what, i))
            last = name
    for k in OPTIONAL[1:]:
        check(e[k] is None or (isinstance(e[k], str) and k in collected),
              "%s.%s without collecting it" % (what, k))


def props_map(obj, what):
    """The raw values of obj["props"] (with obj["props_b64"]), by name."""
    props = obj["props"]
    check(isinstance(props, dict), what + ".props")
    b64 = obj.get("props_b64", {})
    if "props_b64" in obj:
        check(isinstance(b64, dict) and b64, what + ".props_b64 empty")
        check(all(k in props for k in b64), what + ".props_b64 names a missing property")
    raw = {}
    for name in props["__keys__"]:
        value = props[name]
        check(isinstance(value, str), "%s.props.%s" % (what, name))
        if name in b64:
            pair = {"v": value, "v_b64": b64[name]}
            raw[name] = lossless(pair, "v")
        else:
            raw[name] = lossless({"v": value}, "v")
    if b64:
        check(b64["__keys__"] == [k for k in props["__keys__"] if k in b64],
              what + ".props_b64 order")
    return raw


def check_probe_entry(e, what):
    """An entry of another kind than a file: its props, raw."""
    if e is None:
        return None
    keys(e, ["props"] + (["props_b64"] if "props_b64" in e else []) + ["error", "errno"])
    raw = props_map(e, what)
    if e["error"] is None:
        check(e["errno"] is None, what + ".errno without error")
    else:
        check(isinstance(e["error"], str) and e["error"], what + ".error")
        check(isinstance(e["errno"], int) and e["errno"] > 0, what + ".errno")
    return raw


def check_props_changes(changes, old, new, what):
    """A modified entry's props: exactly the properties whose values differ."""
    check(isinstance(changes, dict), what + ".props")
    want = sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n))
    check(sorted(changes["__keys__"]) == want, "%s.props lists %r, want %r"
          % (what, changes["__keys__"], want))
    for name in changes["__keys__"]:
        c = changes[name]
        sides = []
        for side in ("old", "new"):
            sides.append(side)
            if side + "_b64" in c:
                sides.append(side + "_b64")
        check(c["__keys__"] == sides, "%s.props.%s keys %r" % (what, name, c["__keys__"]))
        for side, values in (("old", old), ("new", new)):
            if c[side] is None:
                check(side + "_b64" not in c and name not in values,
                      "%s.props.%s.%s is null" % (what, name, side))
            else:
                check(lossless(c, side) == values.get(name),
                      "%s.props.%s.%s disagrees with %s" % (what, name, side, side))


def check_owner(d, what):
    if "package" in d:
        p = d["package"]
        keys(p, ["name", "old_version", "new_version"])
        check(isinstance(p["name"], str) and p["name"], what + ".package.name")
        for k in ("old_version", "new_version"):
            check(p[k] is None or isinstance(p[k], str), what + ".package." + k)
        check("unowned" not in d, what + " has a package and is unowned")
    if "unowned" in d:
        check(d["unowned"] is True, what + ".unowned is not true")


def check_event(d, what):
    if "event" in d:
        ev = d["event"]
        keys(ev, ["kind", "name", "change"] + (["detail"] if "detail" in ev else []))
        check(ev["kind"] in ("package", "user", "group"), what + ".event.kind")
        check(isinstance(ev["name"], str) and ev["name"], what + ".event.name")
        check(ev["change"] in CHANGES, what + ".event.change")
        check(not isinstance(ev.get("detail"), type(None)), what + ".event.detail is null")
    if "novelty" in d:
        check(d["novelty"] in ("new", "persisting"), what + ".novelty")


def validate(doc):
    top = TOP[:10] + [k for k in ("since_last", "notes") if k in doc] + TOP[10:]
    if "since_last" in doc:
        top.append("resolved")
        keys(doc["since_last"], ["run", "new", "persisting", "resolved"])
        check(doc["since_last"]["resolved"] == len(doc["resolved"]), "since_last.resolved")
        for i, d in enumerate(doc["resolved"]):
            check(d.get("kind") in KINDS and d.get("change") in CHANGES,
                  "resolved[%d] is not a deviation" % i)
            check("novelty" not in d, "resolved[%d] has a novelty" % i)
        news = [d.get("novelty") for d in doc["deviations"]]
        check(news.count("new") <= doc["since_last"]["new"], "since_last.new")
    keys(doc, top)
    if "notes" in doc:
        notes = doc["notes"]
        check(isinstance(notes, list) and notes, "notes is empty")
        check(all(isinstance(n, str) and n for n in notes), "notes are not strings")
    verify = doc["command"] == "verify"
    check(doc["drift_report"] == 1, "schema version")
    keys(doc["tool"], ["name", "version"])
    check(doc["tool"]["name"] == "drift", "tool.name")
    check(doc["command"] in ("check", "diff", "verify"), "command")
    time_or_null(doc["generated"], "generated")
    check(doc["database"] is None or isinstance(doc["database"], str), "database")
    keys(doc["compare"], ["all_changes", "hash_compared"])
    check(isinstance(doc["compare"]["all_changes"], bool), "compare.all_changes")
    check(isinstance(doc["compare"]["hash_compared"], bool), "compare.hash_compared")
    if verify:
        hashed = True
    else:
        check(doc["old"] is not None and doc["new"] is not None, "a snapshot is null")
        hashed = doc["old"]["hash"] == doc["new"]["hash"] != "none"
    check(doc["compare"]["hash_compared"] == hashed, "compare.hash_compared")
    for side in ("old", "new"):
        if doc[side] is not None:
            check_snapshot(doc[side], side)
    policy = doc["policy"]
    keys(policy, ["old", "new", "changed"])
    for side in ("old", "new"):
        keys(policy[side], ["source", "digest"])
        src, dig = policy[side]["source"], policy[side]["digest"]
        check(src is None or isinstance(src, str), "policy.%s.source" % side)
        check(dig is None or DIGEST.match(dig), "policy.%s.digest" % side)
    check(policy["changed"] == (policy["old"]["digest"] != policy["new"]["digest"]),
          "policy.changed")

    summary = doc["summary"]
    keys(summary, SUMMARY)
    devs = doc["deviations"]
    for c in CHANGES:
        check(summary[c] == sum(d["change"] == c for d in devs), "summary." + c)
    check(summary["total"] == len(devs), "summary.total")
    check(summary["expected"] == sum(d["class"] == "expected" for d in devs), "summary.expected")
    check(summary["waived"] == sum(d["class"] == "waived" for d in devs), "summary.waived")
    check(summary["drift"] == len(devs) - summary["expected"] - summary["waived"],
          "summary.drift")
    keys(summary["by_severity"], SEVERITIES)
    for sev in SEVERITIES:
        check(summary["by_severity"][sev] ==
              sum(d["class"] in ("drift", "violation") and d["severity"] == sev for d in devs),
              "summary.by_severity." + sev)
    check(summary["unreadable"] == len(doc["unreadable"]), "summary.unreadable")
    if verify:
        integer(summary["entries_checked"], "summary.entries_checked")
    else:
        check(summary["entries_checked"] == doc["new"]["entries"], "summary.entries_checked")

    last = (-1, -1, b"")
    for i, d in enumerate(devs):
        what = "deviations[%d]" % i
        check(d.get("kind") in KINDS, what + ".kind")
        file = d["kind"] == "file"
        keyname = "path" if file else "key"
        want = ["kind", keyname, "change", "class", "severity", "rule", "reason"]
        want += [k for k in ("package", "unowned", "event", "novelty") if k in d]
        want += ["attributes"]
        if not file:
            want += ["props"] + (["props_b64"] if "props_b64" in d else [])
        keys(d, want + ["old", "new"], optional=(keyname,))
        raw = lossless(d, keyname)
        check_owner(d, what)
        check_event(d, what)
        check(d["change"] in CHANGES, what + ".change")
        check(d["class"] in CLASSES, what + ".class")
        check(d["severity"] is None or d["severity"] in SEVERITIES, what + ".severity")
        check(d["reason"] is None or isinstance(d["reason"], str), what + ".reason")
        rule = d["rule"]
        if rule is not None:
            check(d["severity"] is not None, what + ".rule without a verdict")
            keys(rule, ["id", "title", "file", "line"])
            check(isinstance(rule["id"], str), what + ".rule.id")
            check(rule["title"] is None or isinstance(rule["title"], str), what + ".rule.title")
            check(rule["file"] is None or isinstance(rule["file"], str), what + ".rule.file")
            check(rule["line"] is None or (isinstance(rule["line"], int) and rule["line"] > 0),
                  what + ".rule.line")
        if d["severity"] is None:
            check(d["class"] == "drift" and d["rule"] is None and d["reason"] is None,
                  what + " without a verdict")
        # Groups: drift by severity, drift without a verdict by change, expected.
        if d["class"] == "expected":
            group = 5 + len(CHANGES)
        elif d["severity"] is not None:
            group = SEVERITIES.index(d["severity"])
        else:
            group = 5 + CHANGES.index(d["change"])
        order = (group, KINDS.index(d["kind"]), raw)
        check(order > last, what + " out of order")
        last = order
        attrs = d["attributes"]
        if d["change"] == "modified":
            check(d["old"] is not None and d["new"] is not None, what + " sides")
            check(attrs == sorted(set(attrs), key=ATTRS.index), what + ".attributes order")
        else:
            check(attrs == [], what + ".attributes not empty")
            check((d["old"] is None) == (d["change"] == "added"), what + ".old")
            check((d["new"] is None) == (d["change"] == "removed"), what + ".new")
        if file:
            check_entry(d["old"], what + ".old")
            check_entry(d["new"], what + ".new")
            continue
        old = check_probe_entry(d["old"], what + ".old")
        new = check_probe_entry(d["new"], what + ".new")
        if d["change"] == "modified":
            check("props_b64" not in d, what + ".props_b64 on a modified entry")
            check_props_changes(d["props"], old, new, what)
        else:
            check(props_map(d, what) == (new if d["change"] == "added" else old),
                  what + ".props disagrees with its entry")
            check(d.get("props_b64") == (d["new"] or d["old"]).get("props_b64"),
                  what + ".props_b64 disagrees with its entry")

    last = None
    for i, u in enumerate(doc["unreadable"]):
        what = "unreadable[%d]" % i
        check(u.get("kind") in KINDS, what + ".kind")
        keyname = "path" if u["kind"] == "file" else "key"
        keys(u, ["kind", keyname, "error", "errno"], optional=(keyname,))
        order = (KINDS.index(u["kind"]), lossless(u, keyname))
        check(last is None or order > last, what + " out of order")
        last = order
        check(isinstance(u["error"], str) and u["error"], what + ".error")
        check(isinstance(u["errno"], int) and u["errno"] > 0, what + ".errno")


def main(argv):
    ok = True
    for path in argv[1:]:
        try:
            with open(path, "rb") as f:
                data = f.read()
            text = data.decode("utf-8")  # strict: the document is valid UTF-8
            check(text.endswith("}\n"), "document does not end with '}\\n'")
            validate(json.loads(text, object_pairs_hook=pairs))
        except (Invalid, ValueError, KeyError, TypeError) as e:
            print("%s: invalid drift report: %s" % (path, e), file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
