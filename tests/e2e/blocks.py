"""Read and forge a drift database's entries from Python (schema 5).

drift packs entries into blocks (store/block.c). With DRIFT_TEST_RAW_BLOCKS
set, drift writes them uncompressed (codec 0), which this module decodes and
re-encodes, so that a test can damage or forge an entry as someone editing
the database would. Compressed (zstd) blocks are refused: the test must run
drift with that variable (env_for_drift() sets it).
"""

TOMB, TARGET, HASH, EXT = 1, 2, 4, 8
FIELDS = ("mode", "uid", "gid", "size", "dmtime", "dctime", "dino", "dev", "nlink", "err",
          "flags")


def _varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def _put(v):
    out = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        out.append(c | (0x80 if v else 0))
        if not v:
            return bytes(out)


def decode(blob):
    """The records of a raw block: dicts with key, tomb, the raw varint fields, target, hash, ext."""
    if blob[0] != 0:
        raise ValueError("a compressed block: run drift with DRIFT_TEST_RAW_BLOCKS=1")
    n, i = _varint(blob, 1)
    raw = blob[i:]
    assert len(raw) == n
    i, key, recs = 0, b"", []
    while i < len(raw):
        tag = raw[i]
        i += 1
        shared, i = _varint(raw, i)
        slen, i = _varint(raw, i)
        key = key[:shared] + raw[i:i + slen]
        i += slen
        rec = {"key": key, "tomb": bool(tag & TOMB), "target": None, "hash": None, "ext": None}
        if not tag & TOMB:
            for f in FIELDS:
                rec[f], i = _varint(raw, i)
            if tag & TARGET:
                n, i = _varint(raw, i)
                rec["target"] = raw[i:i + n]
                i += n
            if tag & HASH:
                n = raw[i]
                rec["hash"] = raw[i + 1:i + 1 + n]
                i += 1 + n
            if tag & EXT:
                n, i = _varint(raw, i)
                rec["ext"] = raw[i:i + n]
                i += n
        recs.append(rec)
    return recs


def encode(recs):
    """A raw block of @recs (as decode() gives them; the time and inode deltas are kept as they are)."""
    raw, prev = bytearray(), b""
    for r in recs:
        key = r["key"]
        shared = 0
        while shared < min(len(prev), len(key)) and prev[shared] == key[shared]:
            shared += 1
        tag = (TOMB if r["tomb"] else 0) | (TARGET if r["target"] is not None else 0) | \
            (HASH if r["hash"] else 0) | (EXT if r["ext"] else 0)
        raw += bytes([tag]) + _put(shared) + _put(len(key) - shared) + key[shared:]
        if not r["tomb"]:
            for f in FIELDS:
                raw += _put(r[f])
            if r["target"] is not None:
                raw += _put(len(r["target"])) + r["target"]
            if r["hash"]:
                raw += bytes([len(r["hash"])]) + r["hash"]
            if r["ext"]:
                raw += _put(len(r["ext"])) + r["ext"]
        prev = key
    return bytes([0]) + _put(len(raw)) + bytes(raw)


def keys(con, snap=None, kind=None):
    """(snap, kind, key) of every live entry stored in a block (a delta's own entries only)."""
    out = []
    for s, k, data in con.execute("SELECT snap, kind, data FROM block ORDER BY snap, kind, first"):
        if (snap is None or s == snap) and (kind is None or k == kind):
            out += [(s, k, r["key"]) for r in decode(data) if not r["tomb"]]
    return out


def forge(con, snap, kind, key, change):
    """Apply change(record) to the entry @key of @kind stored in @snap's own blocks; 1 if found."""
    rows = con.execute("SELECT id, data FROM block WHERE snap = ? AND kind = ? AND first <= ?"
                       " ORDER BY first DESC LIMIT 1", (snap, kind, key)).fetchall()
    if not rows:
        return 0
    bid, data = rows[0]
    recs = decode(data)
    for r in recs:
        if r["key"] == key and not r["tomb"]:
            change(r)
            con.execute("UPDATE block SET data = ? WHERE id = ?", (encode(recs), bid))
            return 1
    return 0
