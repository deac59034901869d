/*
 * The `ext` column of an entry row: the optional attributes (ATTR_OPTIONAL)
 * in one compact, self-describing BLOB, so the common row does not grow.
 * An entry that collected nothing optional stores NULL (one header byte).
 *
 * Format, version 1:
 *
 *     ext     := version:u8 (= 1)  collected:varint  field*
 *     field   := tag:u8  length:varint  value[length]
 *
 * `collected` is a bit set of the tags below (bit tag-1), independent of
 * the numbering of enum entry_attr. Fields come in increasing tag order,
 * at most once; a collected attribute without a field is absent (NULL), a
 * field whose attribute is not collected is not allowed. Varints are
 * unsigned LEB128 (7 bits a byte, least significant first).
 *
 *     tag 1  xattrs   the entry's blob as is (common/entry.h: per pair a
 *                     u32 LE name length, the name, a u32 LE value length,
 *                     the value; sorted by name); absent when empty
 *     tag 2  acl      text, stored with its terminating NUL
 *     tag 3  caps     text, likewise
 *     tag 4  selinux  text, likewise
 *     tag 5  mime     text, likewise
 *     tag 6  props    the properties of an entry of a probe (entry->props,
 *                     ATTR_PROPS), in the xattrs blob format; absent when
 *                     empty. Its bit is set for every entry whose kind is
 *                     not ENTRY_FILE, and for a file with properties (none
 *                     has any today, so file rows do not change)
 *     tag 7  rdev     the device number (entry->rdev, st_rdev) of a
 *                     character or block device, as a varint filling the
 *                     field. Its bit is set for every such device whose
 *                     number is known, and for nothing else: other rows do
 *                     not change. A device whose bit is clear (a row of a
 *                     drift before tag 7) reads as ENTRY_RDEV_UNKNOWN;
 *                     its bit without a field reads as 0. Not an
 *                     attribute of entry->collected: always recorded
 *     tag 8  content  the reference to the entry's kept content
 *                     (store/content.c): the 32-byte SHA-256 of the bytes.
 *                     Its bit and field are set exactly when the entry has
 *                     kept content (entry->has_content); other rows do
 *                     not change, and a row without it (an older drift's)
 *                     reads as "no content kept". Not an attribute either
 *
 * Text values keep their NUL so that the iterator can hand out pointers
 * straight into SQLite's copy of the row: no copy, no allocation per row.
 * A reader skips the fields of tags it does not know and ignores unknown
 * collected bits (a later drift may add attributes without a new version);
 * a version it does not know is an error. (Tag 6 came with schema 3; a
 * drift of schema 2 reading a copy of such a row skips it. Tag 7 came
 * later without a new schema version, for the same reason: a drift before
 * it reads the rows of devices without their numbers, and the rows it
 * writes read as "number unknown", which compare leaves out.)
 *
 * Decoded, the bit of tag 6 is ATTR_PROPS in entry->collected, beside the
 * ATTR_OPTIONAL bits.
 */
#include "store/internal.h"

#include <errno.h>
#include <string.h>

#include "common/entry.h"
#include "common/strbuf.h"
#include "common/banned.h"

#define EXT_VERSION 1

enum ext_tag {
	TAG_XATTRS = 1,
	TAG_ACL = 2,
	TAG_CAPS = 3,
	TAG_SELINUX = 4,
	TAG_MIME = 5,
	TAG_PROPS = 6,
	TAG_RDEV = 7,
	TAG_CONTENT = 8,
	TAG__MAX = 8,
};

/* The attribute of each tag (index: tag); TAG_RDEV has none in collected. */
static const uint32_t tag_attr[TAG__MAX + 1] = {
	[TAG_XATTRS] = ATTR_XATTRS,   [TAG_ACL] = ATTR_ACL,   [TAG_CAPS] = ATTR_CAPS,
	[TAG_SELINUX] = ATTR_SELINUX, [TAG_MIME] = ATTR_MIME, [TAG_PROPS] = ATTR_PROPS,
};

static int add_varint(struct strbuf *out, uint64_t v)
{
	uint8_t buf[10];
	size_t n = 0;

	do {
		buf[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			buf[n] |= 0x80;
		n++;
	} while (v);
	return strbuf_add(out, buf, n);
}

/* Read a varint at *pos; false when it runs past @len or exceeds 64 bits. */
static bool get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (*pos >= len)
			return false;
		b = p[(*pos)++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*ret = v;
			return true;
		}
	}
	return false;
}

static int add_field(struct strbuf *out, enum ext_tag tag, const void *data, size_t len)
{
	if (strbuf_addch(out, (char)tag) < 0 || add_varint(out, len) < 0)
		return -ENOMEM;
	return strbuf_add(out, data, len);
}

static int add_text_field(struct strbuf *out, enum ext_tag tag, const char *s)
{
	return s ? add_field(out, tag, s, strlen(s) + 1) : 0;
}

int snap_ext_encode(struct strbuf *out, const struct entry *e)
{
	uint32_t collected = e->collected & ATTR_OPTIONAL;
	bool rdev = entry_is_device(e) && e->rdev != ENTRY_RDEV_UNKNOWN;
	uint64_t bits = 0;

	if (e->kind != ENTRY_FILE || e->props_len > 0)
		collected |= ATTR_PROPS;
	strbuf_reset(out);
	if (!collected && !rdev && !e->has_content)
		return 0;
	for (unsigned tag = 1; tag <= TAG__MAX; tag++)
		if (collected & tag_attr[tag])
			bits |= UINT64_C(1) << (tag - 1);
	if (rdev)
		bits |= UINT64_C(1) << (TAG_RDEV - 1);
	if (e->has_content)
		bits |= UINT64_C(1) << (TAG_CONTENT - 1);
	if (strbuf_addch(out, EXT_VERSION) < 0 || add_varint(out, bits) < 0)
		return -ENOMEM;
	if ((collected & ATTR_XATTRS) && e->xattrs && e->xattrs_len > 0 &&
	    add_field(out, TAG_XATTRS, e->xattrs, e->xattrs_len) < 0)
		return -ENOMEM;
	if ((collected & ATTR_ACL) && add_text_field(out, TAG_ACL, e->acl) < 0)
		return -ENOMEM;
	if ((collected & ATTR_CAPS) && add_text_field(out, TAG_CAPS, e->caps) < 0)
		return -ENOMEM;
	if ((collected & ATTR_SELINUX) && add_text_field(out, TAG_SELINUX, e->selinux) < 0)
		return -ENOMEM;
	if ((collected & ATTR_MIME) && add_text_field(out, TAG_MIME, e->mime) < 0)
		return -ENOMEM;
	if ((collected & ATTR_PROPS) && e->props && e->props_len > 0 &&
	    add_field(out, TAG_PROPS, e->props, e->props_len) < 0)
		return -ENOMEM;
	if (rdev) {
		struct strbuf v = STRBUF_INIT;
		int r = add_varint(&v, e->rdev);

		if (r == 0)
			r = add_field(out, TAG_RDEV, v.buf, v.len);
		strbuf_release(&v);
		if (r < 0)
			return -ENOMEM;
	}
	if (e->has_content && add_field(out, TAG_CONTENT, e->content_id, sizeof(e->content_id)) < 0)
		return -ENOMEM;
	return 0;
}

void snap_ext_clear(struct entry *e)
{
	e->collected = 0;
	e->xattrs = NULL;
	e->xattrs_len = 0;
	e->acl = e->caps = e->selinux = e->mime = NULL;
	e->props = NULL;
	e->props_len = 0;
	e->rdev = entry_is_device(e) ? ENTRY_RDEV_UNKNOWN : 0;
	e->has_content = false;
	memset(e->content_id, 0, sizeof(e->content_id));
}

int snap_ext_decode(const void *blob, size_t len, struct entry *e)
{
	const uint8_t *p = blob;
	size_t pos = 1;
	uint64_t bits, flen;
	unsigned last_tag = 0;
	bool rdev, content;

	snap_ext_clear(e);
	if (len == 0 || !p)
		return 0;
	if (p[0] != EXT_VERSION || !get_varint(p, len, &pos, &bits))
		return -EPROTO;
	for (unsigned tag = 1; tag <= TAG__MAX; tag++)
		if (bits & (UINT64_C(1) << (tag - 1)))
			e->collected |= tag_attr[tag];
	rdev = bits & (UINT64_C(1) << (TAG_RDEV - 1));
	if (rdev)
		e->rdev = 0;
	content = bits & (UINT64_C(1) << (TAG_CONTENT - 1));

	while (pos < len) {
		unsigned tag = p[pos++];
		const uint8_t *v;

		if (tag <= last_tag || !get_varint(p, len, &pos, &flen) || flen > len - pos)
			goto bad;
		last_tag = tag;
		v = p + pos;
		pos += (size_t)flen;
		if (tag > TAG__MAX)
			continue; /* a later attribute: not ours to read */
		if (tag == TAG_RDEV) {
			size_t vpos = 0;

			if (!rdev || !get_varint(v, (size_t)flen, &vpos, &e->rdev) || vpos != flen)
				goto bad;
			continue;
		}
		if (tag == TAG_CONTENT) {
			if (!content || flen != sizeof(e->content_id))
				goto bad;
			memcpy(e->content_id, v, sizeof(e->content_id));
			e->has_content = true;
			continue;
		}
		if (!(e->collected & tag_attr[tag]))
			goto bad;
		if (tag == TAG_XATTRS || tag == TAG_PROPS) {
			if (flen == 0 || entry_xattrs_check(v, (size_t)flen) < 0)
				goto bad;
			if (tag == TAG_XATTRS) {
				e->xattrs = v;
				e->xattrs_len = (size_t)flen;
			} else {
				e->props = v;
				e->props_len = (size_t)flen;
			}
			continue;
		}
		/* Text: exactly one NUL, at the end. */
		if (flen == 0 || v[flen - 1] != '\0' || memchr(v, '\0', (size_t)flen - 1))
			goto bad;
		switch (tag) {
		case TAG_ACL:
			e->acl = (const char *)v;
			break;
		case TAG_CAPS:
			e->caps = (const char *)v;
			break;
		case TAG_SELINUX:
			e->selinux = (const char *)v;
			break;
		case TAG_MIME:
			e->mime = (const char *)v;
			break;
		}
	}
	if (!entry_is_device(e))
		e->rdev = 0; /* a bit where none belongs: nothing to compare */
	return 0;

bad:
	snap_ext_clear(e);
	return -EPROTO;
}
