/*
 * Comparing two snapshots: a merge join of two key-sorted entry streams.
 *
 * snap_compare() holds one entry of each side. The smaller key is reported
 * as removed (old side) or added (new side) and its side advances; equal
 * keys are diffed attribute by attribute (snap_entry_diff) and both
 * advance. Nothing accumulates, so memory stays flat whatever the size of
 * the snapshots. Keys are ordered by memcmp over the shorter length, then
 * by length: exactly SQLite's BLOB order, which the iterators return.
 *
 * snap_entry_diff() compares the optional attributes (xattrs, ACL...)
 * only where both sides collected them, device numbers only between two
 * devices whose numbers are known, the properties of system state
 * (packages, users...) always, and holds the noise rules: a change of
 * ctime alone, and a directory's mtime, ctime, size and link count (they
 * move whenever its contents do, and those changes are reported in their
 * own right).
 */
#include "store/store.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/diag.h"
#include "common/banned.h"

static bool bytes_differ(const char *a, size_t alen, const char *b, size_t blen)
{
	if (!a || !b)
		return !a != !b;
	return alen != blen || (alen && memcmp(a, b, alen));
}

static bool text_differs(const char *a, const char *b)
{
	if (!a || !b)
		return !a != !b;
	return strcmp(a, b) != 0;
}

/* The optional attributes both sides collected, and which of them differ. */
static uint32_t optional_diff(const struct entry *before, const struct entry *after)
{
	uint32_t both = before->collected & after->collected & ATTR_OPTIONAL;
	uint32_t attrs = 0;

	if (!both)
		return 0;
	/* No xattrs and an empty list are the same. */
	if ((both & ATTR_XATTRS) &&
	    bytes_differ(before->xattrs_len ? (const char *)before->xattrs : NULL,
			 before->xattrs_len, after->xattrs_len ? (const char *)after->xattrs : NULL,
			 after->xattrs_len))
		attrs |= ATTR_XATTRS;
	if ((both & ATTR_ACL) && text_differs(before->acl, after->acl))
		attrs |= ATTR_ACL;
	if ((both & ATTR_CAPS) && text_differs(before->caps, after->caps))
		attrs |= ATTR_CAPS;
	if ((both & ATTR_SELINUX) && text_differs(before->selinux, after->selinux))
		attrs |= ATTR_SELINUX;
	if ((both & ATTR_MIME) && text_differs(before->mime, after->mime))
		attrs |= ATTR_MIME;
	return attrs;
}

/* Device numbers are compared between two devices whose numbers are known:
 * anything else has none (a file that became a device changed its type). */
static bool rdev_differs(const struct entry *before, const struct entry *after)
{
	return entry_is_device(before) && entry_is_device(after) &&
	       before->rdev != ENTRY_RDEV_UNKNOWN && after->rdev != ENTRY_RDEV_UNKNOWN &&
	       before->rdev != after->rdev;
}

uint32_t snap_entry_diff(const struct entry *before, const struct entry *after, unsigned flags)
{
	bool failed = before->err != 0 || after->err != 0;
	uint32_t attrs = 0;

	if ((before->mode & S_IFMT) != (after->mode & S_IFMT))
		attrs |= ATTR_TYPE;
	if ((before->mode & 07777) != (after->mode & 07777))
		attrs |= ATTR_MODE;
	if (before->uid != after->uid)
		attrs |= ATTR_UID;
	if (before->gid != after->gid)
		attrs |= ATTR_GID;
	/* An entry that could not be read has no trustworthy size or hash:
	 * ATTR_ERROR says what happened instead. */
	if (!failed && before->size != after->size)
		attrs |= ATTR_SIZE;
	if (before->mtime_ns != after->mtime_ns)
		attrs |= ATTR_MTIME;
	if (before->ctime_ns != after->ctime_ns)
		attrs |= ATTR_CTIME;
	if (before->ino != after->ino)
		attrs |= ATTR_INODE;
	if (before->dev != after->dev)
		attrs |= ATTR_DEVICE;
	if (rdev_differs(before, after))
		attrs |= ATTR_RDEV;
	if (before->nlink != after->nlink)
		attrs |= ATTR_NLINK;
	if (bytes_differ(before->target, before->target_len, after->target, after->target_len))
		attrs |= ATTR_TARGET;
	if (!failed && before->hash_algo != HASH_NONE && before->hash_algo == after->hash_algo &&
	    (before->hash_len != after->hash_len ||
	     memcmp(before->hash, after->hash, before->hash_len)))
		attrs |= ATTR_HASH;
	if (before->err != after->err)
		attrs |= ATTR_ERROR;
	attrs |= optional_diff(before, after);
	/* The properties of system state; no props and an empty blob are the same. */
	if (bytes_differ(before->props_len ? (const char *)before->props : NULL, before->props_len,
			 after->props_len ? (const char *)after->props : NULL, after->props_len))
		attrs |= ATTR_PROPS;

	if (flags & SNAP_COMPARE_ALL)
		return attrs;
	if (S_ISDIR(before->mode) && S_ISDIR(after->mode))
		attrs &= ~(uint32_t)(ATTR_MTIME | ATTR_CTIME | ATTR_SIZE | ATTR_NLINK);
	if (attrs == ATTR_CTIME)
		attrs = 0;
	return attrs;
}

/* Order of two entries: by kind, then by key in byte order. */
static int entry_compare(const struct entry *a, const struct entry *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return snap_key_compare(a->key, a->key_len, b->key, b->key_len);
}

int snap_compare(struct snap_iter *old_it, struct snap_iter *new_it, unsigned flags,
		 snap_deviation_fn *fn, void *userdata, struct diag *reterr)
{
	const struct entry *a = NULL, *b = NULL;
	int ra, rb, r;

	ra = snap_iter_next(old_it, &a, reterr);
	if (ra < 0)
		return ra;
	rb = snap_iter_next(new_it, &b, reterr);
	if (rb < 0)
		return rb;

	while (ra > 0 || rb > 0) {
		struct deviation d = { 0 };
		int c = ra == 0 ? 1 : rb == 0 ? -1 : entry_compare(a, b);

		if (c < 0) {
			d.change = CHANGE_REMOVED;
			d.before = a;
		} else if (c > 0) {
			d.change = CHANGE_ADDED;
			d.after = b;
		} else {
			d.attrs = snap_entry_diff(a, b, flags);
			d.change = CHANGE_MODIFIED;
			d.before = a;
			d.after = b;
		}
		if (c != 0 || d.attrs != 0) {
			r = fn(&d, userdata);
			if (r < 0)
				return r;
		}
		if (c <= 0) {
			ra = snap_iter_next(old_it, &a, reterr);
			if (ra < 0)
				return ra;
		}
		if (c >= 0) {
			rb = snap_iter_next(new_it, &b, reterr);
			if (rb < 0)
				return rb;
		}
	}
	return 0;
}
