/* Comparing entries and snapshots: attribute masks, noise rules, the merge, byte order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/sysmacros.h>

#include "tests/store/util.h"

/* ---- snap_entry_diff ---- */

/* Two xattrs blobs (common/entry.h): user.a = "1", and user.a = "2". */
static const uint8_t xa[] = { 6, 0, 0, 0, 'u', 's', 'e', 'r', '.', 'a', 1, 0, 0, 0, '1' };
static const uint8_t xb[] = { 6, 0, 0, 0, 'u', 's', 'e', 'r', '.', 'a', 1, 0, 0, 0, '2' };

static void test_entry_diff_identical_is_zero(void **state)
{
	struct entry a = entry_file("/f"), b = entry_file("/f");

	(void)state;
	entry_set_hash(&a, 1);
	entry_set_hash(&b, 1);
	a.target = b.target = NULL;
	assert_int_equal(snap_entry_diff(&a, &b, 0), 0);
	assert_int_equal(snap_entry_diff(&a, &b, SNAP_COMPARE_ALL), 0);
}

static void test_entry_diff_each_attribute_on_its_own(void **state)
{
	(void)state;
	for (unsigned bit = 0; bit < ATTR__COUNT; bit++) {
		struct entry a = entry_file("/f"), b = entry_file("/f");
		uint32_t want = 1u << bit;

		entry_set_hash(&a, 1);
		entry_set_hash(&b, 1);
		/* Both sides collected every optional attribute, with equal values. */
		a.collected = b.collected = ATTR_OPTIONAL;
		a.xattrs = b.xattrs = xa;
		a.xattrs_len = b.xattrs_len = sizeof(xa);
		a.acl = b.acl = "u::rw-,g::r--,o::r--";
		a.caps = b.caps = "cap_net_raw=ep";
		a.selinux = b.selinux = "system_u:object_r:bin_t:s0";
		a.mime = b.mime = "text/plain";
		switch (want) {
		case ATTR_TYPE:
			b.mode = S_IFLNK | 0644;
			break;
		case ATTR_MODE:
			b.mode = S_IFREG | 04644;
			break;
		case ATTR_UID:
			b.uid = 1000;
			break;
		case ATTR_GID:
			b.gid = 1000;
			break;
		case ATTR_SIZE:
			b.size++;
			break;
		case ATTR_MTIME:
			b.mtime_ns++;
			break;
		case ATTR_CTIME:
			b.ctime_ns++;
			break;
		case ATTR_INODE:
			b.ino++;
			break;
		case ATTR_DEVICE:
			b.dev++;
			break;
		case ATTR_RDEV:
			/* Only devices have numbers to compare: /dev/null, /dev/mem. */
			a.mode = b.mode = S_IFCHR | 0644;
			a.rdev = makedev(1, 3);
			b.rdev = makedev(1, 1);
			break;
		case ATTR_NLINK:
			b.nlink++;
			break;
		case ATTR_TARGET:
			b.target = "x";
			b.target_len = 1;
			break;
		case ATTR_HASH:
			b.hash[15] ^= 1;
			break;
		case ATTR_ERROR:
			b.err = EACCES;
			break;
		case ATTR_XATTRS:
			b.xattrs = xb;
			break;
		case ATTR_ACL:
			b.acl = "u::rw-,g::r--,o::---";
			break;
		case ATTR_CAPS:
			b.caps = NULL;
			break;
		case ATTR_SELINUX:
			b.selinux = "system_u:object_r:etc_t:s0";
			break;
		case ATTR_MIME:
			b.mime = "text/x-shellscript";
			break;
		case ATTR_PROPS:
			/* Any well-formed blob: props are compared as bytes. */
			b.props = xb;
			b.props_len = sizeof(xb);
			break;
		default:
			fail();
		}
		assert_int_equal(snap_entry_diff(&a, &b, SNAP_COMPARE_ALL), want);
		/* ctime alone is noise by default; the others are not. */
		assert_int_equal(snap_entry_diff(&a, &b, 0), want == ATTR_CTIME ? 0 : want);
		/* Symmetric. */
		assert_int_equal(snap_entry_diff(&b, &a, SNAP_COMPARE_ALL), want);
	}
}

static void test_entry_diff_optional_only_when_both_sides_collected(void **state)
{
	struct entry a = entry_file("/f"), b = entry_file("/f");

	(void)state;
	a.acl = "u::rwx";
	b.acl = "u::r--";
	a.mime = "text/plain";
	/* Not collected on either side, or on one side only: not compared. */
	assert_int_equal(snap_entry_diff(&a, &b, SNAP_COMPARE_ALL), 0);
	a.collected = ATTR_ACL | ATTR_MIME;
	assert_int_equal(snap_entry_diff(&a, &b, SNAP_COMPARE_ALL), 0);
	assert_int_equal(snap_entry_diff(&b, &a, SNAP_COMPARE_ALL), 0);
	/* Both collected the ACL: compared; mime only on one side. */
	b.collected = ATTR_ACL;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_ACL);
	/* Presence counts: a label that appeared, "" is not NULL. */
	a.collected = b.collected = ATTR_SELINUX;
	b.selinux = "";
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_SELINUX);
	a.selinux = "";
	assert_int_equal(snap_entry_diff(&a, &b, 0), 0);
	/* Same text at different addresses is equal. */
	{
		char x[] = "cap_sys_admin=ep", y[] = "cap_sys_admin=ep";

		a.collected = b.collected = ATTR_CAPS;
		a.caps = x;
		b.caps = y;
		assert_int_equal(snap_entry_diff(&a, &b, 0), 0);
	}
}

static void test_entry_diff_xattrs_bytes_and_presence(void **state)
{
	struct entry a = entry_file("/f"), b = entry_file("/f");
	uint8_t copy[sizeof(xa)];

	(void)state;
	memcpy(copy, xa, sizeof(xa));
	a.collected = b.collected = ATTR_XATTRS;
	a.xattrs = xa;
	a.xattrs_len = sizeof(xa);
	b.xattrs = copy;
	b.xattrs_len = sizeof(copy);
	assert_int_equal(snap_entry_diff(&a, &b, 0), 0);
	copy[sizeof(copy) - 1] ^= 1; /* the last byte of the value */
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_XATTRS);
	/* None at all on one side. */
	b.xattrs = NULL;
	b.xattrs_len = 0;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_XATTRS);
	assert_int_equal(snap_entry_diff(&b, &a, 0), ATTR_XATTRS);
	/* An empty blob is "none" too, whatever its pointer. */
	a.xattrs = (const uint8_t *)"";
	a.xattrs_len = 0;
	assert_int_equal(snap_entry_diff(&a, &b, 0), 0);
	/* Optional changes are not noise, even on directories. */
	a.mode = b.mode = S_IFDIR | 0755;
	b.xattrs = xb;
	b.xattrs_len = sizeof(xb);
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_XATTRS);
}

static void test_entry_diff_ctime_counts_alongside_another_change(void **state)
{
	struct entry a = entry_file("/f"), b = entry_file("/f");

	(void)state;
	b.ctime_ns++;
	b.uid = 5;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_CTIME | ATTR_UID);
}

static void test_entry_diff_directory_noise(void **state)
{
	struct entry a = entry_file("/d"), b = entry_file("/d");

	(void)state;
	a.mode = b.mode = S_IFDIR | 0755;
	b.mtime_ns++;
	b.ctime_ns++;
	b.size += 4096;
	b.nlink++;
	assert_int_equal(snap_entry_diff(&a, &b, 0), 0);
	assert_int_equal(snap_entry_diff(&a, &b, SNAP_COMPARE_ALL),
			 ATTR_MTIME | ATTR_CTIME | ATTR_SIZE | ATTR_NLINK);
	/* What matters on a directory still shows. */
	b.mode = S_IFDIR | 0777;
	b.uid = 3;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_MODE | ATTR_UID);
	/* A regular file's mtime is not noise. */
	a = entry_file("/f");
	b = entry_file("/f");
	b.mtime_ns++;
	b.nlink++;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_MTIME | ATTR_NLINK);
}

static void test_entry_diff_type_change_reports_type_and_the_rest(void **state)
{
	struct entry a = entry_file("/x"), b = entry_file("/x");

	(void)state;
	b.mode = S_IFDIR | 0755;
	b.size = 4096;
	b.mtime_ns++;
	b.nlink = 2;
	/* Not both directories: no directory noise rule applies. */
	assert_int_equal(snap_entry_diff(&a, &b, 0),
			 ATTR_TYPE | ATTR_MODE | ATTR_SIZE | ATTR_MTIME | ATTR_NLINK);
	/* Same permission bits, other type: only ATTR_TYPE of the two. */
	b = entry_file("/x");
	b.mode = S_IFIFO | 0644;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_TYPE);
}

static void test_entry_diff_rdev_only_between_known_devices(void **state)
{
	struct entry a = entry_file("/dev/x"), b = entry_file("/dev/x");

	(void)state;
	/* c 1,5 (/dev/zero) replaced by c 1,1 (/dev/mem), all else equal. */
	a.mode = b.mode = S_IFCHR | 0666;
	a.rdev = makedev(1, 5);
	b.rdev = makedev(1, 1);
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_RDEV);
	assert_int_equal(snap_entry_diff(&b, &a, SNAP_COMPARE_ALL), ATTR_RDEV);
	/* Only the minor, or only the major, differs; block devices too. */
	b.rdev = makedev(1, 6);
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_RDEV);
	a.mode = b.mode = S_IFBLK | 0660;
	a.rdev = makedev(8, 0);
	b.rdev = makedev(259, 0);
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_RDEV);
	b.rdev = a.rdev;
	assert_int_equal(snap_entry_diff(&a, &b, SNAP_COMPARE_ALL), 0);
	/* 0,0 is a number like any other. */
	b.rdev = 0;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_RDEV);
	/* Character and block devices of the same number: the type says it;
	 * of other numbers: both. */
	a.mode = S_IFCHR | 0660;
	b.rdev = a.rdev;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_TYPE);
	b.rdev = makedev(1, 1);
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_TYPE | ATTR_RDEV);
	/* A number not recorded (a baseline of an older drift) is not a change. */
	a.mode = b.mode = S_IFCHR | 0666;
	a.rdev = ENTRY_RDEV_UNKNOWN;
	assert_int_equal(snap_entry_diff(&a, &b, SNAP_COMPARE_ALL), 0);
	assert_int_equal(snap_entry_diff(&b, &a, SNAP_COMPARE_ALL), 0);
	/* A file that became a device (or back) changed its type, not its
	 * number: a file has none. */
	a = entry_file("/dev/x");
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_TYPE | ATTR_MODE);
	assert_int_equal(snap_entry_diff(&b, &a, 0), ATTR_TYPE | ATTR_MODE);
	/* Whatever a file's or a directory's rdev field holds, it is never
	 * compared (the scanner records 0 for them). */
	b = entry_file("/dev/x");
	a.rdev = 7;
	b.rdev = 8;
	assert_int_equal(snap_entry_diff(&a, &b, SNAP_COMPARE_ALL), 0);
	a.mode = b.mode = S_IFDIR | 0755;
	assert_int_equal(snap_entry_diff(&a, &b, SNAP_COMPARE_ALL), 0);
	/* Nor for entries of other kinds. */
	a.kind = b.kind = ENTRY_MOUNT;
	a.mode = b.mode = S_IFBLK | 0660;
	assert_int_equal(snap_entry_diff(&a, &b, SNAP_COMPARE_ALL), 0);
}

static void test_entry_diff_hash_only_with_the_same_algorithm(void **state)
{
	struct entry a = entry_file("/f"), b = entry_file("/f");

	(void)state;
	entry_set_hash(&a, 1);
	entry_set_hash(&b, 2);
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_HASH);
	b.hash_algo = HASH_SHA256;
	assert_int_equal(snap_entry_diff(&a, &b, 0), 0);
	b.hash_algo = HASH_NONE;
	b.hash_len = 0;
	assert_int_equal(snap_entry_diff(&a, &b, 0), 0);
	assert_int_equal(snap_entry_diff(&b, &a, 0), 0);
	/* Same algorithm, different digest lengths: different. */
	entry_set_hash(&b, 1);
	b.hash_len = 8;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_HASH);
}

static void test_entry_diff_error_covers_hash_and_size(void **state)
{
	struct entry a = entry_file("/f"), b = entry_file("/f");

	(void)state;
	entry_set_hash(&a, 1);
	entry_set_hash(&b, 2);
	b.size = 0;
	b.err = EACCES;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_ERROR);
	assert_int_equal(snap_entry_diff(&b, &a, SNAP_COMPARE_ALL), ATTR_ERROR);
	/* The same error on both sides: nothing to report. */
	a.err = EACCES;
	assert_int_equal(snap_entry_diff(&a, &b, 0), 0);
	/* A different error. */
	a.err = EIO;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_ERROR);
}

static void test_entry_diff_target_bytes(void **state)
{
	struct entry a = entry_file("/l"), b = entry_file("/l");

	(void)state;
	a.mode = b.mode = S_IFLNK | 0777;
	a.target = "abc";
	b.target = "abd";
	a.target_len = b.target_len = 3;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_TARGET);
	b.target = "abcd";
	assert_int_equal(snap_entry_diff(&a, &b, 0), 0); /* the first 3 bytes agree */
	b.target_len = 4;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_TARGET);
	b.target = "";
	b.target_len = 0;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_TARGET);
	a.target = "";
	a.target_len = 0;
	assert_int_equal(snap_entry_diff(&a, &b, 0), 0);
	a.target = NULL;
	assert_int_equal(snap_entry_diff(&a, &b, 0), ATTR_TARGET);
}

/* ---- snap_compare over stored snapshots ---- */

struct fx {
	struct tmp t; /* first: tmp_teardown frees the whole struct */
	struct snap_store *st;
};

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f)
		snap_store_free(f->st);
	return tmp_teardown(state);
}

static int fx_setup(void **state)
{
	struct fx *f;

	if (tmp_setup(state) < 0)
		return -1;
	f = realloc(*state, sizeof(*f));
	if (!f)
		return -1;
	*state = f;
	f->st = NULL;
	if (snap_store_open(f->t.db, SNAP_OPEN_WRITE, &f->st, NULL) < 0) {
		fx_teardown(state);
		return -1;
	}
	return 0;
}

struct seen {
	char line[64][96];
	size_t n;
	int stop_after; /* return -ECANCELED after this many (0: never) */
};

/* Record each deviation as "<+|-|~> key attrs", the attributes by name
 * ("mtime,hash"; "-" for none), so that no line depends on their bits. */
static int record(const struct deviation *d, void *userdata)
{
	struct seen *s = userdata;
	const struct entry *e = d->after ? d->after : d->before;
	char c = d->change == CHANGE_ADDED ? '+' : d->change == CHANGE_REMOVED ? '-' : '~';
	char names[64] = "-";
	size_t len = 0;

	assert_true(s->n < 64);
	assert_true(d->change == CHANGE_ADDED     ? !d->before && d->after
		    : d->change == CHANGE_REMOVED ? d->before && !d->after
						  : d->before && d->after && d->attrs);
	for (unsigned i = 0; i < ATTR__COUNT; i++)
		if (d->attrs & (1u << i))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
						len ? "," : "",
						entry_attr_name((enum entry_attr)(1u << i)));
	assert_true(len < sizeof(names));
	snprintf(s->line[s->n++], sizeof(s->line[0]), "%c %.*s %s", c, (int)e->key_len, e->key,
		 names);
	if (s->stop_after && (int)s->n >= s->stop_after)
		return -ECANCELED;
	return 0;
}

static int compare_ids(struct snap_store *st, int64_t a, int64_t b, unsigned flags, struct seen *s)
{
	struct snap_iter *ia = NULL, *ib = NULL;
	struct diag d = { 0 };
	int r;

	assert_int_equal(snap_iter_new(st, a, ENTRY_FILE, NULL, 0, 0, &ia, &d), 0);
	assert_int_equal(snap_iter_new(st, b, ENTRY_FILE, NULL, 0, 0, &ib, &d), 0);
	r = snap_compare(ia, ib, flags, record, s, &d);
	snap_iter_free(ia);
	snap_iter_free(ib);
	return r;
}

static void expect_lines(const struct seen *s, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n && i < s->n; i++)
		assert_string_equal(s->line[i], want[i]);
	assert_int_equal(s->n, n);
}

static void test_compare_reports_added_removed_modified_in_key_order(void **state)
{
	struct fx *f = *state;
	struct entry old[6], new[7];
	static const char *const want[] = {
		"+ /0 -",   "- /a -",          "~ /b mtime", "+ /b-c -",
		"- /b/x -", "~ /d type,error", "+ /e -",
	};
	struct seen s = { 0 };
	int64_t a, b;

	old[0] = entry_file("/a");
	old[1] = entry_file("/b");
	old[2] = entry_file("/b/x");
	old[3] = entry_file("/c");
	old[4] = entry_file("/c2");
	old[5] = entry_file("/d");
	new[0] = entry_file("/0");
	new[1] = entry_file("/b");
	new[1].mtime_ns++;
	new[2] = entry_file("/b-c");
	new[3] = entry_file("/c");
	new[3].ctime_ns++; /* noise unless SNAP_COMPARE_ALL */
	new[4] = entry_file("/c2");
	new[5] = entry_file("/d");
	new[5].mode = S_IFDIR | 0644; /* a type change, and now unreadable */
	new[5].err = EACCES;
	new[6] = entry_file("/e");
	a = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "old", false, 0, old, 6, NULL);
	b = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "new", false, 0, new, 7, NULL);
	assert_true(a > 0 && b > 0);
	assert_int_equal(compare_ids(f->st, a, b, 0, &s), 0);
	expect_lines(&s, want, 7);

	/* With SNAP_COMPARE_ALL the ctime-only change shows. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(compare_ids(f->st, a, b, SNAP_COMPARE_ALL, &s), 0);
	assert_int_equal(s.n, 8);
	assert_string_equal(s.line[5], "~ /c ctime");
}

static void test_compare_optional_attributes_through_the_store(void **state)
{
	struct fx *f = *state;
	struct entry old[3], new[3];
	static const char *const want[] = { "~ /a acl", "~ /b xattrs" };
	struct seen s = { 0 };
	int64_t a, b;

	old[0] = entry_file("/a");
	old[0].collected = ATTR_ACL;
	old[0].acl = "u::rwx";
	old[1] = entry_file("/b");
	old[1].collected = ATTR_XATTRS;
	old[1].xattrs = xa;
	old[1].xattrs_len = sizeof(xa);
	old[2] = entry_file("/c");
	old[2].collected = ATTR_MIME;
	old[2].mime = "text/plain";
	new[0] = old[0];
	new[0].acl = NULL; /* the ACL went away */
	new[1] = old[1];
	new[1].xattrs = xb;
	new[1].xattrs_len = sizeof(xb);
	new[2] = old[2];
	new[2].collected = 0; /* not collected any more: not a change */
	new[2].mime = NULL;
	a = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "old", false, 0, old, 3, NULL);
	b = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "new", false, 0, new, 3, NULL);
	assert_true(a > 0 && b > 0);
	assert_int_equal(compare_ids(f->st, a, b, 0, &s), 0);
	expect_lines(&s, want, 2);
}

/* /dev/mem in place of /dev/zero: the numbers go through the store. */
static void test_compare_device_numbers_through_the_store(void **state)
{
	struct fx *f = *state;
	struct entry old[5], new[5];
	static const char *const want[] = { "~ /dev/a rdev", "~ /dev/c type,rdev" };
	struct seen s = { 0 };
	int64_t a, b;

	old[0] = entry_file("/dev/a");
	old[0].mode = S_IFCHR | 0666;
	old[0].rdev = makedev(1, 5);
	old[1] = entry_file("/dev/b");
	old[1].mode = S_IFBLK | 0660;
	old[1].rdev = makedev(8, 1);
	old[2] = entry_file("/dev/c");
	old[2].mode = S_IFBLK | 0660;
	old[2].rdev = makedev(8, 2);
	old[3] = entry_file("/dev/d");
	old[3].mode = S_IFCHR | 0600;
	old[3].rdev = ENTRY_RDEV_UNKNOWN;
	old[4] = entry_file("/f");
	memcpy(new, old, sizeof(old));
	new[0].rdev = makedev(1, 1);
	new[2].mode = S_IFCHR | 0660;
	new[2].rdev = makedev(1, 1);
	new[3].rdev = makedev(1, 1); /* unknown before: not a change */
	a = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "old", false, 0, old, 5, NULL);
	b = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "new", false, 0, new, 5, NULL);
	assert_true(a > 0 && b > 0);
	assert_int_equal(compare_ids(f->st, a, b, 0, &s), 0);
	expect_lines(&s, want, 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(compare_ids(f->st, a, b, SNAP_COMPARE_ALL, &s), 0);
	expect_lines(&s, want, 2);
}

static void test_compare_empty_sides(void **state)
{
	struct fx *f = *state;
	struct entry v[2] = { entry_file("/a"), entry_file("/b") };
	static const char *const added[] = { "+ /a -", "+ /b -" };
	static const char *const removed[] = { "- /a -", "- /b -" };
	struct seen s = { 0 };
	int64_t empty, full;

	empty = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "empty", false, 0, NULL, 0, NULL);
	full = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "full", false, 0, v, 2, NULL);
	assert_int_equal(compare_ids(f->st, empty, full, 0, &s), 0);
	expect_lines(&s, added, 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(compare_ids(f->st, full, empty, 0, &s), 0);
	expect_lines(&s, removed, 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(compare_ids(f->st, empty, empty, 0, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(compare_ids(f->st, full, full, SNAP_COMPARE_ALL, &s), 0);
	assert_int_equal(s.n, 0);
}

static void test_compare_callback_error_stops_the_merge(void **state)
{
	struct fx *f = *state;
	struct entry v[3] = { entry_file("/a"), entry_file("/b"), entry_file("/c") };
	struct seen s = { 0 };
	int64_t empty, full;

	empty = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "empty", false, 0, NULL, 0, NULL);
	full = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "full", false, 0, v, 3, NULL);
	s.stop_after = 2;
	assert_int_equal(compare_ids(f->st, empty, full, 0, &s), -ECANCELED);
	assert_int_equal(s.n, 2);
}

/* Deterministic pseudo-random keys over the whole byte range, many of them
 * prefixes of others. */
static size_t make_key(char *buf, uint32_t *x)
{
	static const char alphabet[] = { '/',    '-',    '.',    '0',    'a',    'b',
					 '\x01', '\x7f', '\x80', '\xc3', '\xfe', '\xff' };
	size_t len;

	*x = *x * 1103515245u + 12345u;
	len = 2 + (*x >> 16) % 5;
	buf[0] = '/';
	for (size_t i = 1; i < len; i++) {
		*x = *x * 1103515245u + 12345u;
		buf[i] = alphabet[(*x >> 16) % sizeof(alphabet)];
	}
	buf[len] = '\0';
	return len;
}

static int key_cmp_qsort(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return snap_key_compare(x->key, x->key_len, y->key, y->key_len);
}

struct count {
	size_t added, removed, modified;
};

static int count_cb(const struct deviation *d, void *userdata)
{
	struct count *c = userdata;

	c->added += d->change == CHANGE_ADDED;
	c->removed += d->change == CHANGE_REMOVED;
	c->modified += d->change == CHANGE_MODIFIED;
	return 0;
}

static void test_compare_byte_order_agrees_with_sqlite(void **state)
{
	struct fx *f = *state;
	enum { N = 3000 };
	char(*keys)[8] = calloc(N, sizeof(*keys));
	struct entry *all = calloc(N, sizeof(*all));
	struct entry *old = calloc(N, sizeof(*old)), *new = calloc(N, sizeof(*new));
	size_t n = 0, nold = 0, nnew = 0, both = 0, only_old = 0, only_new = 0, changed = 0;
	struct snap_iter *ia = NULL, *ib = NULL;
	const struct entry *e, *prev_key = NULL;
	char prev[8];
	size_t prev_len = 0;
	struct count c = { 0 };
	struct diag d = { 0 };
	uint32_t x = 99;
	int64_t a, b;

	assert_non_null(keys);
	assert_non_null(all);
	assert_non_null(old);
	assert_non_null(new);
	/* Unique random keys. */
	for (size_t i = 0; i < N; i++) {
		size_t len = make_key(keys[n], &x);
		bool dup = false;

		for (size_t j = 0; j < n && !dup; j++)
			dup = all[j].key_len == len && !memcmp(all[j].key, keys[n], len);
		if (dup)
			continue;
		all[n] = entry_file(keys[n]);
		all[n].key_len = len;
		n++;
	}
	/* The prefix cases named in the contract are among them or added. */
	assert_true(n > 500);

	/* Split: 1/3 only old, 1/3 only new, 1/3 both (every 2nd of those changed). */
	for (size_t i = 0; i < n; i++) {
		switch (i % 3) {
		case 0:
			old[nold++] = all[i];
			only_old++;
			break;
		case 1:
			new[nnew++] = all[i];
			only_new++;
			break;
		default:
			old[nold++] = all[i];
			new[nnew] = all[i];
			if (both++ % 2) {
				new[nnew].uid = 7;
				changed++;
			}
			nnew++;
		}
	}
	/* Written in our order for one, reversed for the other: the store sorts. */
	qsort(old, nold, sizeof(*old), key_cmp_qsort);
	a = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "old", false, 0, old, nold, &d);
	assert_true(a > 0);
	b = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "new", false, 0, new, nnew, &d);
	assert_true(b > 0);

	/* SQLite's order is strictly increasing by snap_key_compare. */
	assert_int_equal(snap_iter_new(f->st, a, ENTRY_FILE, NULL, 0, 0, &ia, &d), 0);
	while (snap_iter_next(ia, &e, &d) > 0) {
		if (prev_key)
			assert_true(snap_key_compare(prev, prev_len, e->key, e->key_len) < 0);
		memcpy(prev, e->key, e->key_len);
		prev_len = e->key_len;
		prev_key = e;
	}
	snap_iter_free(ia);

	/* The merge pairs up exactly what is shared: no spurious +/- pairs. */
	assert_int_equal(snap_iter_new(f->st, a, ENTRY_FILE, NULL, 0, 0, &ia, &d), 0);
	assert_int_equal(snap_iter_new(f->st, b, ENTRY_FILE, NULL, 0, 0, &ib, &d), 0);
	assert_int_equal(snap_compare(ia, ib, 0, count_cb, &c, &d), 0);
	snap_iter_free(ia);
	snap_iter_free(ib);
	assert_int_equal(c.removed, only_old);
	assert_int_equal(c.added, only_new);
	assert_int_equal(c.modified, changed);

	free(keys);
	free(all);
	free(old);
	free(new);
}

static void test_key_compare_prefixes_and_high_bytes(void **state)
{
	(void)state;
	assert_true(snap_key_compare("/a", 2, "/a-b", 4) < 0);
	assert_true(snap_key_compare("/a-b", 4, "/a/b", 4) < 0);
	assert_true(snap_key_compare("/a", 2, "/a/b", 4) < 0);
	assert_true(snap_key_compare("/a/b", 4, "/a", 2) > 0);
	assert_true(snap_key_compare("/z", 2, "/\x80", 2) < 0);
	assert_true(snap_key_compare("/\xff", 2, "/\x80", 2) > 0);
	assert_int_equal(snap_key_compare("/ab", 3, "/ab", 3), 0);
	assert_int_equal(snap_key_compare("", 0, "", 0), 0);
	assert_true(snap_key_compare("", 0, "/", 1) < 0);
}

static void test_compare_prefix_keys_in_sqlite_order(void **state)
{
	struct fx *f = *state;
	struct entry v[5] = { entry_file("/a/b"), entry_file("/a-b"), entry_file("/a"),
			      entry_file("/\x80"), entry_file("/z") };
	static const char *const want[] = { "+ /a -", "+ /a-b -", "+ /a/b -", "+ /z -",
					    "+ /\x80 -" };
	struct seen s = { 0 };
	int64_t a, b;

	a = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "empty", false, 0, NULL, 0, NULL);
	b = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "five", false, 0, v, 5, NULL);
	assert_int_equal(compare_ids(f->st, a, b, 0, &s), 0);
	expect_lines(&s, want, 5);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_diff_identical_is_zero),
		cmocka_unit_test(test_entry_diff_each_attribute_on_its_own),
		cmocka_unit_test(test_entry_diff_optional_only_when_both_sides_collected),
		cmocka_unit_test(test_entry_diff_xattrs_bytes_and_presence),
		cmocka_unit_test(test_entry_diff_ctime_counts_alongside_another_change),
		cmocka_unit_test(test_entry_diff_directory_noise),
		cmocka_unit_test(test_entry_diff_type_change_reports_type_and_the_rest),
		cmocka_unit_test(test_entry_diff_rdev_only_between_known_devices),
		cmocka_unit_test(test_entry_diff_hash_only_with_the_same_algorithm),
		cmocka_unit_test(test_entry_diff_error_covers_hash_and_size),
		cmocka_unit_test(test_entry_diff_target_bytes),
		cmocka_unit_test(test_key_compare_prefixes_and_high_bytes),
		T(test_compare_reports_added_removed_modified_in_key_order),
		T(test_compare_optional_attributes_through_the_store),
		T(test_compare_device_numbers_through_the_store),
		T(test_compare_empty_sides),
		T(test_compare_callback_error_stops_the_merge),
		T(test_compare_byte_order_agrees_with_sqlite),
		T(test_compare_prefix_keys_in_sqlite_order),
	};
	return cmocka_run_group_tests_name("store/compare", tests, NULL, NULL);
}
