/* Writing snapshots: round trips, labels, purposes, interruption and concurrency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/sysmacros.h>
#include <time.h>

#include <sqlite3.h>

#include "tests/store/util.h"

#define WSENTINEL ((struct snap_writer *)(uintptr_t)0x5eed)

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

static struct snap_new params(enum snap_purpose purpose, const char *label, bool replace)
{
	struct snap_new p = { 0 };

	p.purpose = purpose;
	p.label = label;
	p.replace = replace;
	p.hash = HASH_XXH3_128;
	p.host = "testhost";
	return p;
}

/* Count the entries of a snapshot by iterating over them. */
static int64_t count_entries(struct snap_store *st, int64_t id)
{
	struct snap_iter *it = NULL;
	const struct entry *e;
	int64_t n = 0;
	int r;

	r = snap_iter_new(st, id, ENTRY_FILE, NULL, 0, 0, &it, NULL);
	if (r < 0)
		return r;
	while ((r = snap_iter_next(it, &e, NULL)) > 0)
		n++;
	snap_iter_free(it);
	return r < 0 ? r : n;
}

static const char digest[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* An xattrs blob: user.bin holds a NUL and invalid UTF-8, user.empty nothing. */
static uint8_t *xattrs_blob(size_t *ret_len)
{
	static const uint8_t bin[] = { 'a', 0, 0xff, '\n' };
	size_t n = entry_xattrs_pair_size(8, sizeof(bin)) + entry_xattrs_pair_size(10, 0) +
		   entry_xattrs_pair_size(13, 5);
	uint8_t *b = malloc(n), *p = b;

	assert_non_null(b);
	p += entry_xattrs_put(p, "user.bin", 8, bin, sizeof(bin));
	p += entry_xattrs_put(p, "user.empty", 10, NULL, 0);
	p += entry_xattrs_put(p, "user.mime_typ", 13, (const uint8_t *)"text/", 5);
	assert_int_equal((size_t)(p - b), n);
	assert_int_equal(entry_xattrs_check(b, n), 0);
	*ret_len = n;
	return b;
}

static int fail_on_any(const struct snap_info *info, void *userdata)
{
	(void)info;
	(void)userdata;
	fail();
	return -1;
}

static void test_snapshot_round_trip_keeps_every_field(void **state)
{
	struct fx *f = *state;
	static const char *const roots[] = { "/etc", "/usr/\xff" };
	static const char *const excludes[] = { "*.log", "/var/cache" };
	char *longkey = malloc(5001);
	struct entry v[7];
	struct snap_new p = params(SNAP_PURPOSE_SCAN, "pre-upgrade", false);
	struct snap_writer *w = NULL;
	struct snap_info info = { 0 }, found = { 0 };
	struct snap_iter *it = NULL;
	const struct entry *e;
	struct diag d = { 0 };
	int64_t before = (int64_t)time(NULL) * 1000000000;
	size_t xlen = 0;

	assert_non_null(longkey);
	longkey[0] = '/';
	for (size_t i = 1; i < 5000; i++)
		longkey[i] = (char)('a' + i % 26);
	longkey[5000] = '\0';

	/* In key order, so v[i] is the i-th entry read back. */
	v[0] = entry_file("/");
	v[0].mode = S_IFDIR | 0755;
	v[0].nlink = 20;
	v[1] = entry_file("/a\nb");
	entry_set_hash(&v[1], 7);
	v[1].size = (uint64_t)1 << 40;
	v[1].uid = 4294967294u;
	v[1].gid = 65534;
	v[1].mode = S_IFREG | 06755;
	v[2] = entry_file(longkey);
	v[2].key_len = 5000;
	v[3] = entry_file("/lnk");
	v[3].mode = S_IFLNK | 0777;
	v[3].target = "../t\x01\xff\n";
	v[3].target_len = 7;
	v[3].ino = UINT64_MAX - 5; /* >= 2^63: stored as its bit pattern */
	v[3].dev = ((uint64_t)1 << 63) | 3;
	v[3].mtime_ns = -1234567890123LL; /* before 1970 */
	v[4] = entry_file("/x\x01y");
	v[4].err = EACCES;
	v[4].size = 0;
	v[5] = entry_file("/\xfe\xff");
	entry_set_hash(&v[5], 200);
	v[5].flags = ENTRY_CHANGED_WHILE_READ;
	v[5].nlink = 3;
	v[6] = entry_file("/\xff");
	v[6].err = EIO;
	v[6].target = ""; /* an empty target is not "no target" */
	v[6].target_len = 0;

	/* Optional attributes: all present; collected but absent; empty
	 * values; and a value of an attribute that was not collected. */
	v[1].collected = ATTR_OPTIONAL;
	v[1].xattrs = xattrs_blob(&xlen);
	v[1].xattrs_len = xlen;
	v[1].acl = "u::rwx,u:1000:r-x,g::r-x,m::r-x,o::r-x";
	v[1].caps = "cap_net_raw=ep";
	v[1].selinux = "system_u:object_r:bin_t:s0";
	v[1].mime = "application/x-pie-executable";
	v[3].collected = ATTR_ACL | ATTR_CAPS;
	v[5].collected = ATTR_XATTRS | ATTR_SELINUX;
	v[5].xattrs = (const uint8_t *)"";
	v[5].xattrs_len = 0;
	v[5].selinux = "";
	v[6].collected = ATTR_MIME;
	v[6].acl = "not collected, not stored";

	p.policy_digest = digest;
	p.policy_source = "/etc/drift/policy.yaml";
	p.roots = roots;
	p.nroots = 2;
	p.excludes = excludes;
	p.nexcludes = 2;
	p.cross_mounts = true;
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(snap_writer_add(w, &v[(i * 3) % 7], &d), 0); /* any order */
	assert_int_equal(snap_writer_commit(w, &info, &d), 0);

	assert_true(info.id > 0);
	assert_string_equal(info.label, "pre-upgrade");
	assert_int_equal(info.purpose, SNAP_PURPOSE_SCAN);
	assert_false(info.is_baseline);
	assert_true(info.complete);
	assert_string_equal(info.host, "testhost");
	assert_non_null(info.version);
	assert_true(info.version[0] != '\0');
	assert_int_equal(info.nroots, 2);
	assert_string_equal(info.roots[0], "/etc");
	assert_string_equal(info.roots[1], "/usr/\xff");
	assert_null(info.roots[2]);
	assert_int_equal(info.nexcludes, 2);
	assert_string_equal(info.excludes[0], "*.log");
	assert_string_equal(info.excludes[1], "/var/cache");
	assert_null(info.excludes[2]);
	assert_true(info.cross_mounts);
	assert_int_equal(info.hash, HASH_XXH3_128);
	assert_true(info.started_ns >= before);
	assert_true(info.finished_ns >= info.started_ns);
	assert_int_equal(info.entries, 7);
	assert_int_equal(info.errors, 2);
	assert_string_equal(info.policy_digest, digest);
	assert_string_equal(info.policy_source, "/etc/drift/policy.yaml");

	/* snap_find gives the same, by label and by id. */
	assert_int_equal(snap_find(f->st, "pre-upgrade", &found, &d), 0);
	assert_int_equal(found.id, info.id);
	assert_int_equal(found.started_ns, info.started_ns);
	snap_info_release(&found);
	{
		char num[32];

		snprintf(num, sizeof(num), "%lld", (long long)info.id);
		assert_int_equal(snap_find(f->st, num, &found, &d), 0);
		assert_string_equal(found.label, "pre-upgrade");
		assert_string_equal(found.policy_digest, digest);
		assert_string_equal(found.policy_source, "/etc/drift/policy.yaml");
		snap_info_release(&found);
	}

	assert_int_equal(snap_iter_new(f->st, info.id, ENTRY_FILE, NULL, 0, 0, &it, &d), 0);
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(snap_iter_next(it, &e, &d), 1);
		assert_int_equal(e->kind, ENTRY_FILE);
		assert_int_equal(e->key_len, v[i].key_len);
		assert_memory_equal(e->key, v[i].key, v[i].key_len);
		assert_int_equal(e->mode, v[i].mode);
		assert_int_equal(e->uid, v[i].uid);
		assert_int_equal(e->gid, v[i].gid);
		assert_true(e->size == v[i].size);
		assert_true(e->mtime_ns == v[i].mtime_ns);
		assert_true(e->ctime_ns == v[i].ctime_ns);
		assert_true(e->ino == v[i].ino);
		assert_true(e->dev == v[i].dev);
		assert_true(e->nlink == v[i].nlink);
		assert_true(e->rdev == 0);
		if (v[i].target) {
			assert_non_null(e->target);
			assert_int_equal(e->target_len, v[i].target_len);
			assert_memory_equal(e->target, v[i].target, v[i].target_len);
		} else {
			assert_null(e->target);
		}
		assert_int_equal(e->hash_algo, v[i].hash_algo);
		assert_int_equal(e->hash_len, v[i].hash_len);
		assert_memory_equal(e->hash, v[i].hash, v[i].hash_len);
		assert_int_equal(e->err, v[i].err);
		assert_int_equal(e->flags, v[i].flags);
		assert_int_equal(e->collected, v[i].collected);
	}
	assert_int_equal(snap_iter_next(it, &e, &d), 0);
	snap_iter_free(it);

	/* The optional attributes, entry by entry. */
	assert_int_equal(snap_iter_new(f->st, info.id, ENTRY_FILE, NULL, 0, 0, &it, &d), 0);
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(snap_iter_next(it, &e, &d), 1);
		switch (i) {
		case 1:
			assert_int_equal(e->xattrs_len, xlen);
			assert_memory_equal(e->xattrs, v[1].xattrs, xlen);
			assert_string_equal(e->acl, v[1].acl);
			assert_string_equal(e->caps, v[1].caps);
			assert_string_equal(e->selinux, v[1].selinux);
			assert_string_equal(e->mime, v[1].mime);
			break;
		case 5:
			/* Empty xattrs read back as absent; an empty label stays "". */
			assert_int_equal(e->xattrs_len, 0);
			assert_string_equal(e->selinux, "");
			assert_null(e->acl);
			break;
		default:
			/* Collected but absent, or not collected: all NULL. */
			assert_null(e->xattrs);
			assert_int_equal(e->xattrs_len, 0);
			assert_null(e->acl);
			assert_null(e->caps);
			assert_null(e->selinux);
			assert_null(e->mime);
		}
	}
	snap_iter_free(it);
	snap_info_release(&info);
	free((void *)(uintptr_t)v[1].xattrs);
	free(longkey);
}

static void test_snapshot_without_policy_has_null_policy(void **state)
{
	struct fx *f = *state;
	struct snap_info info = { 0 };
	struct diag d = { 0 };

	assert_true(write_snapshot(f->st, SNAP_PURPOSE_SCAN, "nopolicy", false, 0, NULL, 0, &d) >
		    0);
	assert_int_equal(snap_find(f->st, "nopolicy", &info, &d), 0);
	assert_null(info.policy_digest);
	assert_null(info.policy_source);
	snap_info_release(&info);
}

static void test_writer_begin_refuses_a_bad_policy_digest(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"",
		"abc",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
	};
	struct snap_new p = params(SNAP_PURPOSE_SCAN, "digest", false);
	struct snap_writer *w = WSENTINEL;
	struct diag d = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.policy_digest = bad[i];
		assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), -EINVAL);
		assert_ptr_equal(w, WSENTINEL);
		assert_non_null(strstr(d.msg, "policy digest"));
	}
	/* Nothing was recorded. */
	assert_int_equal(snap_list(f->st, fail_on_any, NULL, &d), 0);
}

static void test_writer_add_refuses_bad_optional_attributes(void **state)
{
	struct fx *f = *state;
	struct snap_new p = params(SNAP_PURPOSE_SCAN, "opt", false);
	struct snap_writer *w = NULL;
	struct snap_info info = { 0 };
	struct entry e = entry_file("/a");
	struct diag d = { 0 };
	/* Two pairs out of order ("b" then "a"). */
	static const uint8_t unsorted[] = {
		1, 0, 0, 0, 'b', 0, 0, 0, 0, 1, 0, 0, 0, 'a', 0, 0, 0, 0
	};
	/* A name length that runs past the end. */
	static const uint8_t truncated[] = { 9, 0, 0, 0, 'a' };

	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	e.collected = ATTR_HASH;
	assert_int_equal(snap_writer_add(w, &e, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "unknown attributes"));
	e.collected = ATTR_XATTRS;
	e.xattrs = unsorted;
	e.xattrs_len = sizeof(unsorted);
	assert_int_equal(snap_writer_add(w, &e, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "malformed extended attributes"));
	e.xattrs = truncated;
	e.xattrs_len = sizeof(truncated);
	assert_int_equal(snap_writer_add(w, &e, &d), -EINVAL);
	/* Malformed xattrs that were not collected are not looked at. */
	e.collected = ATTR_MIME;
	assert_int_equal(snap_writer_add(w, &e, &d), 0);
	assert_int_equal(snap_writer_commit(w, &info, &d), 0);
	assert_int_equal(info.entries, 1);
	snap_info_release(&info);
}

static void test_iter_next_damaged_optional_attributes_is_eproto(void **state)
{
	struct fx *f = *state;
	static const char *const damage[] = {
		"X'02'",               /* an unknown version */
		"X'010002010000'",     /* a field of an attribute not collected */
		"X'010202056162'",     /* a length past the end */
		"X'01020203616263'",   /* text without its NUL */
		"X'0102020461006200'", /* text with a NUL inside */
		"X'0106030100020100'", /* fields out of order */
		"X'01'",               /* no collected bits */
		"X'0102070105'",       /* a device number without its bit */
		"X'014007020500'",     /* a device number that does not fill its field */
		"X'0140070185'",       /* a device number cut short */
	};
	struct entry e = entry_file("/a");
	struct snap_iter *it = NULL;
	const struct entry *got;
	struct diag d = { 0 };
	int64_t id;

	e.collected = ATTR_ACL;
	e.acl = "u::rw-";
	id = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "damaged", false, 0, &e, 1, &d);
	assert_true(id > 0);
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		/* A raw block (codec 0) of one record: tag 8 (REC_EXT), key
		 * "/a", eleven zero varints, then the damaged ext blob. */
		static const uint8_t rec[] = { 0x08, 0x00, 0x02, '/', 'a', 0, 0, 0,
					       0,    0,    0,    0,   0,   0, 0, 0 };
		uint8_t blob[64];
		const char *hex = damage[i] + 2; /* X'...' */
		size_t ext_len = (strlen(hex) - 1) / 2, n = 0;
		sqlite3_stmt *s = NULL;
		sqlite3 *db = NULL;

		blob[n++] = 0;
		blob[n++] = (uint8_t)(sizeof(rec) + 1 + ext_len);
		memcpy(blob + n, rec, sizeof(rec));
		n += sizeof(rec);
		blob[n++] = (uint8_t)ext_len;
		for (size_t k = 0; k < ext_len; k++) {
			unsigned byte;

			assert_int_equal(sscanf(hex + 2 * k, "%2x", &byte), 1);
			blob[n++] = (uint8_t)byte;
		}
		assert_int_equal(sqlite3_open(f->t.db, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "UPDATE block SET data = ?1", -1, &s, NULL),
				 SQLITE_OK);
		sqlite3_bind_blob(s, 1, blob, (int)n, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(s), SQLITE_DONE);
		sqlite3_finalize(s);
		sqlite3_close(db);
		assert_int_equal(snap_iter_new(f->st, id, ENTRY_FILE, NULL, 0, 0, &it, &d), 0);
		got = NULL;
		assert_int_equal(snap_iter_next(it, &got, &d), -EPROTO);
		assert_null(got);
		/* Which snapshot and which entry. */
		assert_string_equal(d.msg,
				    "snapshot 'damaged': damaged optional attributes for '/a'");
		snap_iter_free(it);
	}
}

/*
 * Device numbers: stored for character and block devices as they were
 * (unknown included, 0,0 too); anything else reads back 0. A device row
 * without one, as a drift before them wrote it, reads as unknown, through
 * the iterator and the point lookup alike.
 */
static void test_snapshot_round_trip_keeps_device_numbers(void **state)
{
	struct fx *f = *state;
	struct entry v[6];
	const uint64_t want[6] = {
		makedev(1, 5), makedev(4095, 1048575), ENTRY_RDEV_UNKNOWN, 0, makedev(10, 200), 0,
	};
	struct snap_iter *it = NULL;
	struct snap_lookup *lk = NULL;
	const struct entry *e;
	struct diag d = { 0 };
	int64_t id;

	/* In key order. */
	v[0] = entry_file("/dev/a");
	v[0].mode = S_IFCHR | 0666;
	v[1] = entry_file("/dev/b");
	v[1].mode = S_IFBLK | 0660;
	v[2] = entry_file("/dev/c");
	v[2].mode = S_IFCHR | 0600;
	v[3] = entry_file("/dev/d");
	v[3].mode = S_IFCHR | 0600;
	v[4] = entry_file("/dev/e"); /* beside optional attributes */
	v[4].mode = S_IFCHR | 0620;
	v[4].collected = ATTR_ACL | ATTR_SELINUX;
	v[4].acl = "u::rw-,u:1000:rw-,g::-w-,m::rw-,o::---";
	v[5] = entry_file("/f");
	v[5].rdev = 77; /* not a device: not stored */
	for (size_t i = 0; i < 5; i++)
		v[i].rdev = want[i];

	id = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "devices", false, 0, v, 6, &d);
	assert_true(id > 0);
	assert_int_equal(snap_iter_new(f->st, id, ENTRY_FILE, NULL, 0, 0, &it, &d), 0);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(snap_iter_next(it, &e, &d), 1);
		assert_memory_equal(e->key, v[i].key, v[i].key_len);
		assert_int_equal(e->mode, v[i].mode);
		assert_true(e->rdev == want[i]);
		assert_int_equal(e->collected, v[i].collected);
	}
	snap_iter_free(it);
	it = NULL;

	/* (A device row without its number, as a drift before device
	 * numbers wrote it, exists only in a database of schema 4 or older:
	 * the migration tests of test_open.c read such rows.) */
	assert_int_equal(snap_lookup_open(f->t.db, id, &lk, &d), 0);
	assert_int_equal(snap_lookup_get(lk, ENTRY_FILE, "/dev/a", 6, &e, &d), 1);
	assert_true(e->rdev == want[0]);
	assert_int_equal(snap_lookup_get(lk, ENTRY_FILE, "/dev/b", 6, &e, &d), 1);
	assert_true(e->rdev == makedev(4095, 1048575));
	assert_int_equal(snap_lookup_get(lk, ENTRY_FILE, "/f", 2, &e, &d), 1);
	assert_true(e->rdev == 0);
	snap_lookup_free(lk);
}

static void test_snapshot_round_trip_empty_key(void **state)
{
	struct fx *f = *state;
	struct entry e = entry_file("/");
	struct snap_iter *it = NULL;
	const struct entry *got;
	struct diag d = { 0 };
	int64_t id;

	/* Another kind may have an empty key: a zero-length blob, not NULL. */
	e.kind = (enum entry_kind)2;
	e.key = NULL;
	e.key_len = 0;
	id = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "empty-key", false, 0, &e, 1, &d);
	assert_true(id > 0);
	assert_int_equal(snap_iter_new(f->st, id, (enum entry_kind)2, NULL, 0, 0, &it, &d), 0);
	assert_int_equal(snap_iter_next(it, &got, &d), 1);
	assert_non_null(got->key);
	assert_int_equal(got->key_len, 0);
	assert_int_equal(snap_iter_next(it, &got, &d), 0);
	snap_iter_free(it);
}

static void test_label_check_refuses_bad_labels(void **state)
{
	struct diag d = { 0 };
	char longl[200];

	(void)state;
	memset(longl, 'x', sizeof(longl) - 1);
	longl[sizeof(longl) - 1] = '\0';
	assert_int_equal(snap_label_check("pre-upgrade", &d), 0);
	assert_int_equal(snap_label_check("v1.2_rc:3", &d), 0);
	assert_int_equal(snap_label_check("2024a", &d), 0);
	assert_int_equal(snap_label_check("12345", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "number"));
	assert_int_equal(snap_label_check("0", &d), -EINVAL);
	assert_int_equal(snap_label_check("", &d), -EINVAL);
	assert_int_equal(snap_label_check(NULL, &d), -EINVAL);
	assert_int_equal(snap_label_check("a b", &d), -EINVAL);
	assert_int_equal(snap_label_check("a/b", &d), -EINVAL);
	assert_int_equal(snap_label_check("a\nb", &d), -EINVAL);
	assert_null(strchr(d.msg, '\n'));
	assert_int_equal(snap_label_check("caf\xc3\xa9", &d), -EINVAL);
	assert_int_equal(snap_label_check(longl, &d), -EINVAL);
	longl[128] = '\0';
	assert_int_equal(snap_label_check(longl, &d), 0);
}

static void test_writer_begin_refuses_bad_params_and_keeps_output(void **state)
{
	struct fx *f = *state;
	struct snap_writer *w = WSENTINEL;
	struct snap_new p = params(SNAP_PURPOSE_SCAN, "123", false);
	struct diag d = { 0 };

	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), -EINVAL);
	p.label = NULL;
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), -EINVAL);
	p.label = "ok";
	p.purpose = (enum snap_purpose)7;
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), -EINVAL);
	assert_ptr_equal(w, WSENTINEL);
}

static void test_writer_begin_duplicate_label_is_eexist(void **state)
{
	struct fx *f = *state;
	struct snap_writer *w = WSENTINEL;
	struct snap_new p = params(SNAP_PURPOSE_SCAN, "pre", false);
	struct diag d = { 0 };
	struct entry e = entry_file("/a");

	assert_true(write_snapshot(f->st, SNAP_PURPOSE_SCAN, "pre", false, 0, &e, 1, &d) > 0);
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), -EEXIST);
	assert_ptr_equal(w, WSENTINEL);
	assert_string_equal(d.msg, "snapshot label 'pre' exists (use --replace)");
	/* A check with an explicit taken label, too. */
	p.purpose = SNAP_PURPOSE_CHECK;
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), -EEXIST);
	assert_ptr_equal(w, WSENTINEL);
}

static void test_writer_commit_replace_deletes_the_old_scan(void **state)
{
	struct fx *f = *state;
	struct entry a[2] = { entry_file("/a"), entry_file("/b") };
	struct entry b = entry_file("/c");
	struct snap_info info = { 0 };
	struct snap_iter *it = NULL;
	struct diag d = { 0 };
	int64_t old, new;

	old = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "pre", false, 0, a, 2, &d);
	assert_true(old > 0);
	new = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "pre", true, 0, &b, 1, &d);
	assert_true(new > old);
	assert_int_equal(snap_find(f->st, "pre", &info, &d), 0);
	assert_int_equal(info.id, new);
	assert_int_equal(info.entries, 1);
	snap_info_release(&info);
	assert_int_equal(count_entries(f->st, new), 1);
	/* The old one is gone, with its entries. */
	assert_int_equal(snap_iter_new(f->st, old, ENTRY_FILE, NULL, 0, 0, &it, &d), -ENOENT);
	{
		char num[32];

		snprintf(num, sizeof(num), "%lld", (long long)old);
		assert_int_equal(snap_find(f->st, num, &info, &d), -ENOENT);
		assert_int_equal(info.id, 0); /* untouched */
	}
}

static void test_writer_commit_scan_cannot_replace_the_baseline(void **state)
{
	struct fx *f = *state;
	struct snap_writer *w = WSENTINEL;
	struct snap_new p = params(SNAP_PURPOSE_SCAN, "baseline", true);
	struct diag d = { 0 };

	assert_true(write_snapshot(f->st, SNAP_PURPOSE_BASELINE, NULL, false, 0, NULL, 0, &d) > 0);
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), -EEXIST);
	assert_ptr_equal(w, WSENTINEL);
}

static void test_writer_commit_baseline_relabels_the_old_one(void **state)
{
	struct fx *f = *state;
	struct entry e1 = entry_file("/one");
	struct entry e2[2] = { entry_file("/one"), entry_file("/two") };
	struct snap_new p = params(SNAP_PURPOSE_BASELINE, NULL, false);
	struct snap_writer *w = WSENTINEL;
	struct snap_info info = { 0 }, old = { 0 };
	struct diag d = { 0 };
	int64_t b1, b2, b3;
	char num[32];

	b1 = write_snapshot(f->st, SNAP_PURPOSE_BASELINE, NULL, false, 0, &e1, 1, &d);
	assert_true(b1 > 0);
	assert_int_equal(snap_baseline(f->st, &info, &d), 0);
	assert_int_equal(info.id, b1);
	assert_string_equal(info.label, "baseline");
	assert_true(info.is_baseline);
	assert_int_equal(info.purpose, SNAP_PURPOSE_BASELINE);
	snap_info_release(&info);

	/* Without replace: refused, with a hint for the CLI. */
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), -EEXIST);
	assert_ptr_equal(w, WSENTINEL);
	assert_non_null(strstr(d.msg, "--force"));

	b2 = write_snapshot(f->st, SNAP_PURPOSE_BASELINE, NULL, true, 0, e2, 2, &d);
	assert_true(b2 > b1);
	assert_int_equal(snap_baseline(f->st, &info, &d), 0);
	assert_int_equal(info.id, b2);
	assert_string_equal(info.label, "baseline");
	assert_int_equal(info.entries, 2);
	snap_info_release(&info);

	/* The old one is kept, with its entries, under a dated label. */
	snprintf(num, sizeof(num), "%lld", (long long)b1);
	assert_int_equal(snap_find(f->st, num, &old, &d), 0);
	assert_non_null(old.label);
	assert_int_equal(strncmp(old.label, "baseline-", 9), 0);
	assert_int_equal(strlen(old.label), strlen("baseline-20240101T000000Z"));
	assert_int_equal(old.label[strlen(old.label) - 1], 'Z');
	assert_false(old.is_baseline);
	assert_true(old.complete);
	assert_int_equal(old.purpose, SNAP_PURPOSE_BASELINE);
	assert_int_equal(count_entries(f->st, b1), 1);

	/* A third one in the same second: the dated label gets a suffix. */
	b3 = write_snapshot(f->st, SNAP_PURPOSE_BASELINE, NULL, true, 0, NULL, 0, &d);
	assert_true(b3 > b2);
	snprintf(num, sizeof(num), "%lld", (long long)b2);
	assert_int_equal(snap_find(f->st, num, &info, &d), 0);
	assert_int_equal(strncmp(info.label, "baseline-", 9), 0);
	assert_string_not_equal(info.label, old.label);
	assert_int_equal(count_entries(f->st, b2), 2);
	snap_info_release(&info);
	snap_info_release(&old);
}

/* Whether snapshot @id exists; its completeness in *ret_complete. */
static bool snap_exists(struct snap_store *st, int64_t id, bool *ret_complete)
{
	struct snap_info info = { 0 };
	char num[32];

	snprintf(num, sizeof(num), "%lld", (long long)id);
	if (snap_find(st, num, &info, NULL) < 0)
		return false;
	if (ret_complete)
		*ret_complete = info.complete;
	snap_info_release(&info);
	return true;
}

static int last_id_cb(const struct snap_info *info, void *userdata)
{
	*(int64_t *)userdata = info->id;
	return 0;
}

/* An interrupted check: recorded, never completed. Returns its id. */
static int64_t interrupted_check(struct snap_store *st)
{
	struct snap_new p = params(SNAP_PURPOSE_CHECK, NULL, false);
	struct snap_writer *w = NULL;
	int64_t last = 0;

	assert_int_equal(snap_writer_begin(st, &p, &w, NULL), 0);
	snap_writer_abort(w);
	assert_int_equal(snap_list(st, last_id_cb, &last, NULL), 0);
	return last;
}

static void test_set_baseline_moves_it_and_keeps_the_old_one_nameable(void **state)
{
	struct fx *f = *state;
	struct entry e1 = entry_file("/one");
	struct entry e2[2] = { entry_file("/one"), entry_file("/two") };
	struct snap_info info = { 0 }, prev = { 0 }, old = { 0 };
	struct diag d = { 0 };
	int64_t b1, b2;
	char num[32], old_label[64];

	b1 = write_snapshot(f->st, SNAP_PURPOSE_BASELINE, NULL, false, 0, &e1, 1, &d);
	b2 = write_snapshot(f->st, SNAP_PURPOSE_BASELINE, NULL, true, 0, e2, 2, &d);
	assert_true(b1 > 0 && b2 > b1);
	snprintf(num, sizeof(num), "%lld", (long long)b1);
	assert_int_equal(snap_find(f->st, num, &old, &d), 0);
	snprintf(old_label, sizeof(old_label), "%s", old.label);
	snap_info_release(&old);

	/* The earlier baseline again: it keeps its dated label; "baseline" gets one. */
	assert_int_equal(snap_set_baseline(f->st, b1, &prev, &d), 1);
	assert_int_equal(prev.id, b2);
	assert_int_equal(strncmp(prev.label, "baseline-", 9), 0);
	assert_string_not_equal(prev.label, old_label);
	assert_false(prev.is_baseline);
	assert_int_equal(prev.purpose, SNAP_PURPOSE_BASELINE);
	assert_int_equal(snap_baseline(f->st, &info, &d), 0);
	assert_int_equal(info.id, b1);
	assert_string_equal(info.label, old_label);
	assert_int_equal(info.entries, 1);
	snap_info_release(&info);
	assert_int_equal(count_entries(f->st, b2), 2);
	assert_int_equal(snap_find(f->st, "baseline", &info, &d), -ENOENT);

	/* Back again, by the dated label of the one just replaced. */
	assert_int_equal(snap_find(f->st, prev.label, &info, &d), 0);
	assert_int_equal(info.id, b2);
	snap_info_release(&info);
	snap_info_release(&prev);
	assert_int_equal(snap_set_baseline(f->st, b2, &prev, &d), 1);
	assert_int_equal(prev.id, b1);
	assert_string_equal(prev.label, old_label); /* not "baseline": kept */
	snap_info_release(&prev);

	/* Already the baseline: nothing changes, *ret_previous is zeroed. */
	prev.id = 99;
	assert_int_equal(snap_set_baseline(f->st, b2, &prev, &d), 0);
	assert_int_equal(prev.id, 0);
	assert_null(prev.label);
	assert_int_equal(snap_baseline(f->st, &info, &d), 0);
	assert_int_equal(info.id, b2);
	snap_info_release(&info);

	/* @ret_previous may be NULL. */
	assert_int_equal(snap_set_baseline(f->st, b2, NULL, &d), 0);
}

static void test_set_baseline_of_a_check_survives_pruning(void **state)
{
	struct fx *f = *state;
	struct entry e = entry_file("/x");
	struct snap_info info = { 0 }, prev = { 0 };
	struct diag d = { 0 };
	int64_t c1, c2;
	char num[32];

	c1 = write_snapshot(f->st, SNAP_PURPOSE_CHECK, NULL, false, 0, &e, 1, &d);
	assert_true(c1 > 0);
	/* No baseline before: none to report. */
	prev.id = 99;
	assert_int_equal(snap_set_baseline(f->st, c1, &prev, &d), 1);
	assert_int_equal(prev.id, 0);
	snprintf(num, sizeof(num), "%lld", (long long)c1);
	assert_int_equal(snap_find(f->st, num, &info, &d), 0);
	assert_true(info.is_baseline);
	assert_int_equal(info.purpose, SNAP_PURPOSE_BASELINE);
	assert_int_equal(strncmp(info.label, "check-", 6), 0);
	snap_info_release(&info);

	/* keep = 1 keeps only the newest check: the baseline is not one any more. */
	c2 = write_snapshot(f->st, SNAP_PURPOSE_CHECK, NULL, false, 1, &e, 1, &d);
	assert_true(c2 > c1);
	c2 = write_snapshot(f->st, SNAP_PURPOSE_CHECK, NULL, false, 1, &e, 1, &d);
	assert_true(c2 > c1);
	assert_int_equal(snap_find(f->st, num, &info, &d), 0);
	assert_true(info.is_baseline);
	assert_int_equal(count_entries(f->st, c1), 1);
	snap_info_release(&info);
}

static void test_set_baseline_refuses_and_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct entry e = entry_file("/x");
	struct snap_new p = params(SNAP_PURPOSE_SCAN, "w", false);
	struct snap_writer *w = NULL;
	struct snap_store *ro = NULL;
	struct snap_info info = { 0 }, prev = { 0 };
	struct diag d = { 0 };
	int64_t b, killed;

	b = write_snapshot(f->st, SNAP_PURPOSE_BASELINE, NULL, false, 0, &e, 1, &d);
	assert_true(b > 0);
	killed = interrupted_check(f->st);

	prev.id = 77;
	assert_int_equal(snap_set_baseline(f->st, killed, &prev, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "incomplete"));
	assert_int_equal(snap_set_baseline(f->st, killed + 100, &prev, &d), -ENOENT);
	assert_int_equal(prev.id, 77);

	assert_int_equal(snap_store_open(f->t.db, SNAP_OPEN_READ, &ro, &d), 0);
	assert_int_equal(snap_set_baseline(ro, b, &prev, &d), -EROFS);
	snap_store_free(ro);

	/* A writer open on the store, then one in another connection. */
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	assert_int_equal(snap_set_baseline(f->st, b, &prev, &d), -EBUSY);
	assert_int_equal(snap_store_open(f->t.db, SNAP_OPEN_WRITE, &ro, &d), 0);
	snap_store_set_busy_timeout(ro, 0);
	assert_int_equal(snap_set_baseline(ro, b, &prev, &d), -EBUSY);
	snap_store_free(ro);
	snap_writer_abort(w);
	assert_int_equal(prev.id, 77);

	assert_int_equal(snap_baseline(f->st, &info, &d), 0);
	assert_int_equal(info.id, b);
	assert_string_equal(info.label, "baseline");
	snap_info_release(&info);
}

static void test_writer_commit_check_labels_and_prunes_to_keep(void **state)
{
	struct fx *f = *state;
	struct entry e = entry_file("/x");
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	int64_t ids[5], killed[3];
	bool complete = false;

	/* keep = 0 keeps every check. */
	for (size_t i = 0; i < 3; i++) {
		ids[i] = write_snapshot(f->st, SNAP_PURPOSE_CHECK, NULL, false, 0, &e, 1, &d);
		assert_true(ids[i] > 0);
	}
	/* Interrupted checks do not count toward keep: two of them now... */
	killed[0] = interrupted_check(f->st);
	killed[1] = interrupted_check(f->st);
	assert_true(write_snapshot(f->st, SNAP_PURPOSE_SCAN, "keepme", false, 0, &e, 1, &d) > 0);
	ids[3] = write_snapshot(f->st, SNAP_PURPOSE_CHECK, NULL, false, 2, &e, 1, &d);
	assert_true(ids[3] > 0);

	assert_int_equal(snap_find(f->st, "keepme", &info, &d), 0);
	snap_info_release(&info);
	/* ...so the two newest complete checks stay: ids[2] and the new one. */
	for (size_t i = 0; i < 2; i++) {
		assert_false(snap_exists(f->st, ids[i], NULL));
		assert_int_equal(count_entries(f->st, ids[i]), -ENOENT);
	}
	assert_true(snap_exists(f->st, ids[2], &complete));
	assert_true(complete);
	assert_int_equal(count_entries(f->st, ids[2]), 1);
	assert_true(snap_exists(f->st, ids[3], &complete));
	assert_true(complete);
	assert_int_equal(count_entries(f->st, ids[3]), 1);
	{
		char num[32];

		snprintf(num, sizeof(num), "%lld", (long long)ids[3]);
		assert_int_equal(snap_find(f->st, num, &info, &d), 0);
		assert_int_equal(strncmp(info.label, "check-", 6), 0);
		assert_int_equal(info.purpose, SNAP_PURPOSE_CHECK);
		snap_info_release(&info);
	}
	/* The interrupted ones newer than the previous complete check may
	 * belong to a check still waiting for the lock: kept this time. */
	assert_true(snap_exists(f->st, killed[0], &complete));
	assert_false(complete);
	assert_true(snap_exists(f->st, killed[1], NULL));

	/* keep = 1: only the new one, and the leftovers older than ids[3]
	 * (the newest complete check before it) are gone. */
	killed[2] = interrupted_check(f->st);
	ids[4] = write_snapshot(f->st, SNAP_PURPOSE_CHECK, NULL, false, 1, &e, 1, &d);
	assert_true(ids[4] > 0);
	assert_false(snap_exists(f->st, ids[2], NULL));
	assert_false(snap_exists(f->st, ids[3], NULL));
	assert_false(snap_exists(f->st, killed[0], NULL));
	assert_false(snap_exists(f->st, killed[1], NULL));
	assert_true(snap_exists(f->st, killed[2], NULL));
	assert_true(snap_exists(f->st, ids[4], &complete));
	assert_true(complete);
	assert_int_equal(snap_find(f->st, "keepme", &info, &d), 0);
	snap_info_release(&info);
}

static void test_writer_commit_check_labels_get_suffixes(void **state)
{
	struct fx *f = *state;
	struct snap_info a = { 0 }, b = { 0 }, c = { 0 };
	struct diag d = { 0 };
	int64_t ia, ib, ic;
	char num[32];

	ia = write_snapshot(f->st, SNAP_PURPOSE_CHECK, NULL, false, 0, NULL, 0, &d);
	ib = write_snapshot(f->st, SNAP_PURPOSE_CHECK, NULL, false, 0, NULL, 0, &d);
	ic = write_snapshot(f->st, SNAP_PURPOSE_CHECK, NULL, false, 0, NULL, 0, &d);
	snprintf(num, sizeof(num), "%lld", (long long)ia);
	assert_int_equal(snap_find(f->st, num, &a, &d), 0);
	snprintf(num, sizeof(num), "%lld", (long long)ib);
	assert_int_equal(snap_find(f->st, num, &b, &d), 0);
	snprintf(num, sizeof(num), "%lld", (long long)ic);
	assert_int_equal(snap_find(f->st, num, &c, &d), 0);
	assert_int_equal(strlen(a.label), strlen("check-20240101T000000Z"));
	assert_string_not_equal(a.label, b.label);
	assert_string_not_equal(b.label, c.label);
	assert_string_not_equal(a.label, c.label);
	/* Probably the same second: then "-2" and "-3". */
	if (!strncmp(a.label, c.label, strlen(a.label))) {
		assert_int_equal(strlen(c.label), strlen(a.label) + 2);
		assert_string_equal(c.label + strlen(a.label), "-3");
	}
	snap_info_release(&a);
	snap_info_release(&b);
	snap_info_release(&c);
}

static void test_writer_abort_leaves_incomplete_without_entries(void **state)
{
	struct fx *f = *state;
	struct entry e = entry_file("/a");
	struct snap_new p = params(SNAP_PURPOSE_BASELINE, NULL, true);
	struct snap_writer *w = NULL;
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	int64_t base, id;
	char num[32];

	base = write_snapshot(f->st, SNAP_PURPOSE_BASELINE, NULL, false, 0, &e, 1, &d);
	assert_true(base > 0);
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	for (int i = 0; i < 100; i++) {
		char key[32];
		struct entry x;

		snprintf(key, sizeof(key), "/k%03d", i);
		x = entry_file(key);
		assert_int_equal(snap_writer_add(w, &x, &d), 0);
	}
	snap_writer_abort(w);
	snap_writer_abort(NULL);

	id = base + 1;
	snprintf(num, sizeof(num), "%lld", (long long)id);
	assert_int_equal(snap_find(f->st, num, &info, &d), 0);
	assert_false(info.complete);
	assert_null(info.label);
	assert_int_equal(info.finished_ns, 0);
	assert_int_equal(info.entries, 0);
	snap_info_release(&info);
	assert_int_equal(count_entries(f->st, id), 0);

	assert_int_equal(snap_baseline(f->st, &info, &d), 0);
	assert_int_equal(info.id, base);
	assert_string_equal(info.label, "baseline");
	snap_info_release(&info);
	assert_int_equal(count_entries(f->st, base), 1);

	/* The store is usable for writing afterwards. */
	assert_true(write_snapshot(f->st, SNAP_PURPOSE_SCAN, "after", false, 0, &e, 1, &d) > 0);
}

static void test_writer_dying_process_leaves_incomplete_and_baseline_intact(void **state)
{
	struct fx *f = *state;
	struct entry e = entry_file("/a");
	struct snap_new p = params(SNAP_PURPOSE_BASELINE, NULL, true);
	struct snap_writer *w = NULL;
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	char key[64];
	int64_t base;

	base = write_snapshot(f->st, SNAP_PURPOSE_BASELINE, NULL, false, 0, &e, 1, &d);
	assert_true(base > 0);
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	for (int i = 0; i < 5000; i++) {
		struct entry x;

		snprintf(key, sizeof(key), "/many/%05d", i);
		x = entry_file(key);
		assert_int_equal(snap_writer_add(w, &x, &d), 0);
	}
	/* "Dies": the connection closes without a commit. */
	snap_store_free(f->st);
	f->st = NULL;

	assert_int_equal(snap_store_open(f->t.db, SNAP_OPEN_READ, &f->st, &d), 0);
	assert_int_equal(snap_baseline(f->st, &info, &d), 0);
	assert_int_equal(info.id, base);
	assert_int_equal(info.entries, 1);
	snap_info_release(&info);
	assert_int_equal(count_entries(f->st, base), 1);
	assert_int_equal(snap_find(f->st, "2", &info, &d), 0);
	assert_false(info.complete);
	assert_null(info.label);
	snap_info_release(&info);
	assert_int_equal(count_entries(f->st, base + 1), 0);
}

static void test_writer_finish_is_readable_before_the_commit(void **state)
{
	struct fx *f = *state;
	struct entry e = entry_file("/a");
	struct snap_new p = params(SNAP_PURPOSE_CHECK, NULL, false);
	struct snap_writer *w = NULL;
	struct snap_info info = { 0 }, again = { 0 };
	struct snap_iter *it = NULL;
	const struct entry *got = NULL;
	struct diag d = { 0 };
	bool complete = false;

	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	assert_int_equal(snap_writer_add(w, &e, &d), 0);
	assert_int_equal(snap_writer_finish(w, &info, &d), 0);
	assert_true(info.complete);
	assert_int_equal(strncmp(info.label, "check-", 6), 0);
	assert_int_equal(info.entries, 1);
	/* Complete, with its entries, on the writer's store before the commit. */
	assert_int_equal(snap_iter_new(f->st, info.id, ENTRY_FILE, NULL, 0, 0, &it, &d), 0);
	assert_int_equal(snap_iter_next(it, &got, &d), 1);
	assert_int_equal(got->key_len, 2);
	assert_memory_equal(got->key, "/a", 2);
	snap_iter_free(it);
	assert_int_equal(snap_writer_commit(w, &again, &d), 0);
	assert_int_equal(again.id, info.id);
	assert_string_equal(again.label, info.label);
	assert_true(snap_exists(f->st, info.id, &complete));
	assert_true(complete);
	snap_info_release(&again);
	snap_info_release(&info);

	/* Finished, then aborted (the commit never came): all rolled back. */
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	assert_int_equal(snap_writer_add(w, &e, &d), 0);
	assert_int_equal(snap_writer_finish(w, &info, &d), 0);
	snap_writer_abort(w);
	assert_true(snap_exists(f->st, info.id, &complete));
	assert_false(complete);
	assert_int_equal(count_entries(f->st, info.id), 0);
	snap_info_release(&info);
}

static void test_writer_begin_second_writer_gets_ebusy(void **state)
{
	struct fx *f = *state;
	struct snap_store *other = NULL;
	struct snap_new p = params(SNAP_PURPOSE_SCAN, "first", false);
	struct snap_new q = params(SNAP_PURPOSE_SCAN, "second", false);
	struct snap_writer *w = NULL, *w2 = WSENTINEL;
	struct entry e = entry_file("/a");
	struct diag d = { 0 };
	struct timespec t0, t1;
	double secs;

	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	assert_int_equal(snap_writer_add(w, &e, &d), 0);

	assert_int_equal(snap_store_open(f->t.db, SNAP_OPEN_WRITE, &other, &d), 0);
	snap_store_set_busy_timeout(other, 100);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(snap_writer_begin(other, &q, &w2, &d), -EBUSY);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_ptr_equal(w2, WSENTINEL);
	assert_non_null(strstr(d.msg, "is locked by another drift process"));
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(secs >= 0.09);
	assert_true(secs < 3.0);

	/* A second writer on the same store is refused at once. */
	assert_int_equal(snap_writer_begin(f->st, &q, &w2, &d), -EBUSY);
	assert_ptr_equal(w2, WSENTINEL);

	assert_int_equal(snap_writer_commit(w, NULL, &d), 0);
	/* Once the first is done, the second may write. */
	assert_true(write_snapshot(other, SNAP_PURPOSE_SCAN, "second", false, 0, &e, 1, &d) > 0);
	snap_store_free(other);
}

static int list_cb(const struct snap_info *info, void *userdata)
{
	struct snap_info *seen = userdata;
	size_t i = 0;

	while (seen[i].id)
		i++;
	if (i >= 7)
		return -E2BIG;
	seen[i].id = info->id;
	seen[i].complete = info->complete;
	seen[i].is_baseline = info->is_baseline;
	return 0;
}

static void test_reader_reads_while_a_writer_holds_the_lock(void **state)
{
	struct fx *f = *state;
	struct entry e = entry_file("/a");
	struct snap_new p = params(SNAP_PURPOSE_BASELINE, NULL, true);
	struct snap_writer *w = NULL;
	struct snap_store *reader = NULL;
	struct snap_info seen[8];
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	int64_t base;

	base = write_snapshot(f->st, SNAP_PURPOSE_BASELINE, NULL, false, 0, &e, 1, &d);
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	assert_int_equal(snap_writer_add(w, &e, &d), 0);

	assert_int_equal(snap_store_open(f->t.db, SNAP_OPEN_READ, &reader, &d), 0);
	snap_store_set_busy_timeout(reader, 0); /* a reader must never wait */
	memset(seen, 0, sizeof(seen));
	assert_int_equal(snap_list(reader, list_cb, seen, &d), 0);
	assert_int_equal(seen[0].id, base);
	assert_true(seen[0].complete);
	assert_true(seen[0].is_baseline);
	assert_int_equal(seen[1].id, base + 1);
	assert_false(seen[1].complete);
	assert_int_equal(seen[2].id, 0);
	assert_int_equal(count_entries(reader, base), 1);
	assert_int_equal(count_entries(reader, base + 1), 0);

	assert_int_equal(snap_writer_commit(w, NULL, &d), 0);
	assert_int_equal(snap_baseline(reader, &info, &d), 0);
	assert_int_equal(info.id, base + 1);
	snap_info_release(&info);
	snap_store_free(reader);
}

static void test_list_is_oldest_first_and_stops_on_error(void **state)
{
	struct fx *f = *state;
	struct snap_info seen[8];
	struct diag d = { 0 };
	char label[16];

	for (int i = 0; i < 8; i++) {
		snprintf(label, sizeof(label), "s%d", i);
		assert_true(write_snapshot(f->st, SNAP_PURPOSE_SCAN, label, false, 0, NULL, 0, &d) >
			    0);
	}
	memset(seen, 0, sizeof(seen));
	/* list_cb stops after 7 with -E2BIG. */
	assert_int_equal(snap_list(f->st, list_cb, seen, &d), -E2BIG);
	for (int i = 0; i < 7; i++)
		assert_int_equal(seen[i].id, i + 1);
}

static void test_find_missing_is_enoent_and_keeps_output(void **state)
{
	struct fx *f = *state;
	struct snap_info info = { .id = 77 };
	struct diag d = { 0 };

	assert_int_equal(snap_find(f->st, "nope", &info, &d), -ENOENT);
	assert_string_equal(d.msg, "no snapshot 'nope'");
	assert_int_equal(snap_find(f->st, "42", &info, &d), -ENOENT);
	assert_int_equal(snap_find(f->st, "99999999999999999999999", &info, &d), -ENOENT);
	assert_int_equal(snap_baseline(f->st, &info, &d), -ENOENT);
	assert_string_equal(d.msg, "no baseline (run 'drift init' first)");
	assert_int_equal(info.id, 77);
}

static void test_info_release_accepts_zeroed_and_leaves_zeroed(void **state)
{
	struct fx *f = *state;
	struct snap_info info = { 0 }, zero = { 0 };
	struct diag d = { 0 };

	snap_info_release(&info);
	snap_info_release(NULL);
	assert_memory_equal(&info, &zero, sizeof(info));
	assert_true(write_snapshot(f->st, SNAP_PURPOSE_SCAN, "x", false, 0, NULL, 0, &d) > 0);
	assert_int_equal(snap_find(f->st, "x", &info, &d), 0);
	/* No roots: an empty, NULL-terminated array. */
	assert_int_equal(info.nexcludes, 0);
	assert_non_null(info.excludes);
	assert_null(info.excludes[0]);
	snap_info_release(&info);
	assert_memory_equal(&info, &zero, sizeof(info));
	snap_info_release(&info);
}

static void test_writer_add_refuses_bad_entries_and_stays_usable(void **state)
{
	struct fx *f = *state;
	struct snap_new p = params(SNAP_PURPOSE_SCAN, "x", false);
	struct snap_writer *w = NULL;
	struct entry e = entry_file("/a"), h = entry_file("/b");
	struct snap_info info = { 0 };
	struct diag d = { 0 };

	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	assert_int_equal(snap_writer_add(w, &e, &d), 0);
	entry_set_hash(&h, 1);
	h.hash_algo = HASH_SHA256; /* the snapshot is XXH3-128 */
	assert_int_equal(snap_writer_add(w, &h, &d), -EINVAL);
	h.hash_algo = HASH_XXH3_128;
	h.hash_len = 0;
	assert_int_equal(snap_writer_add(w, &h, &d), -EINVAL);
	h.hash_len = 16;
	assert_int_equal(snap_writer_add(w, &h, &d), 0);
	assert_int_equal(snap_writer_commit(w, &info, &d), 0);
	assert_int_equal(info.entries, 2);
	snap_info_release(&info);
}

static void test_writer_begin_on_read_only_store_is_erofs(void **state)
{
	struct fx *f = *state;
	struct snap_store *ro = NULL;
	struct snap_writer *w = WSENTINEL;
	struct snap_new p = params(SNAP_PURPOSE_SCAN, "x", false);
	struct diag d = { 0 };

	assert_int_equal(snap_store_open(f->t.db, SNAP_OPEN_READ, &ro, &d), 0);
	assert_int_equal(snap_writer_begin(ro, &p, &w, &d), -EROFS);
	assert_ptr_equal(w, WSENTINEL);
	snap_store_free(ro);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

static void assert_names(char **v, size_t n, const char *const *want, size_t nwant)
{
	assert_non_null(v);
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < nwant; i++)
		assert_string_equal(v[i], want[i]);
	assert_null(v[n]);
}

static int64_t commit_probes(struct fx *f, const char *label, const char *const *asked,
			     size_t nasked, bool set, const char *const *ran, size_t nran,
			     const char *const *unavail, size_t nunavail)
{
	struct snap_new p = params(SNAP_PURPOSE_SCAN, label, false);
	struct snap_writer *w = NULL;
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	int64_t id;

	p.probes = asked;
	p.nprobes = nasked;
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	if (set)
		assert_int_equal(snap_writer_set_probes(w, ran, nran, unavail, nunavail, &d), 0);
	assert_int_equal(snap_writer_commit(w, &info, &d), 0);
	assert_names(info.probes, info.nprobes, set ? ran : asked, set ? nran : nasked);
	assert_names(info.probes_unavailable, info.nprobes_unavailable, unavail,
		     set ? nunavail : 0);
	id = info.id;
	snap_info_release(&info);
	return id;
}

static void test_writer_probes_default_to_asked_and_set_probes_records_outcome(void **state)
{
	struct fx *f = *state;
	static const char *const asked[] = { "package", "user", "port" };
	static const char *const ran[] = { "package", "user" };
	static const char *const unavail[] = { "port" };
	struct snap_info info = { 0 };
	struct diag d = { 0 };

	/* No probes at all: empty lists. */
	commit_probes(f, "none", NULL, 0, false, NULL, 0, NULL, 0);
	/* Asked, no outcome given: every one asked for ran. */
	commit_probes(f, "asked", asked, 3, false, NULL, 0, NULL, 0);
	/* The outcome replaces it. */
	commit_probes(f, "outcome", asked, 3, true, ran, 2, unavail, 1);
	commit_probes(f, "all-unavailable", asked, 3, true, NULL, 0, asked, 3);

	/* What snap_find() reads back from the database. */
	assert_int_equal(snap_find(f->st, "outcome", &info, &d), 0);
	assert_names(info.probes, info.nprobes, ran, 2);
	assert_names(info.probes_unavailable, info.nprobes_unavailable, unavail, 1);
	snap_info_release(&info);
	assert_int_equal(snap_find(f->st, "asked", &info, &d), 0);
	assert_names(info.probes, info.nprobes, asked, 3);
	assert_names(info.probes_unavailable, info.nprobes_unavailable, NULL, 0);
	snap_info_release(&info);
}

static void test_writer_set_probes_refuses_bad_names_and_keeps_the_record(void **state)
{
	struct fx *f = *state;
	static const char *const asked[] = { "package", "user" };
	static const char *const ran[] = { "package" };
	static const char *const unavail[] = { "user" };
	static const char *const empty[] = { "" };
	static const char *const twice[] = { "user", "user" };
	struct snap_new p = params(SNAP_PURPOSE_SCAN, "p", false);
	struct snap_writer *w = WSENTINEL;
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	char idbuf[32];

	/* At begin: an empty name or a duplicate. */
	p.probes = empty;
	p.nprobes = 1;
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), -EINVAL);
	assert_ptr_equal(w, WSENTINEL);
	p.probes = twice;
	p.nprobes = 2;
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), -EINVAL);
	assert_ptr_equal(w, WSENTINEL);
	assert_non_null(strstr(d.msg, "'user'"));

	p.probes = asked;
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	assert_int_equal(snap_writer_set_probes(w, ran, 1, unavail, 1, &d), 0);
	assert_int_equal(snap_writer_set_probes(w, empty, 1, NULL, 0, &d), -EINVAL);
	assert_int_equal(snap_writer_set_probes(w, twice, 2, NULL, 0, &d), -EINVAL);
	assert_int_equal(snap_writer_set_probes(w, NULL, 0, twice, 2, &d), -EINVAL);
	/* In both lists. */
	assert_int_equal(snap_writer_set_probes(w, unavail, 1, unavail, 1, &d), -EINVAL);
	assert_int_equal(snap_writer_commit(w, &info, &d), 0);
	assert_names(info.probes, info.nprobes, ran, 1);
	assert_names(info.probes_unavailable, info.nprobes_unavailable, unavail, 1);
	snap_info_release(&info);

	/* An interrupted snapshot records no probes. */
	p.label = "q";
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	assert_int_equal(snap_writer_set_probes(w, ran, 1, unavail, 1, &d), 0);
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)snap_writer_id(w));
	snap_writer_abort(w);
	assert_int_equal(snap_find(f->st, idbuf, &info, &d), 0);
	assert_false(info.complete);
	assert_int_equal(info.nprobes, 0);
	assert_int_equal(info.nprobes_unavailable, 0);
	snap_info_release(&info);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_snapshot_round_trip_keeps_every_field),
		T(test_snapshot_round_trip_keeps_device_numbers),
		T(test_snapshot_round_trip_empty_key),
		T(test_snapshot_without_policy_has_null_policy),
		T(test_writer_begin_refuses_a_bad_policy_digest),
		T(test_writer_add_refuses_bad_optional_attributes),
		T(test_iter_next_damaged_optional_attributes_is_eproto),
		cmocka_unit_test(test_label_check_refuses_bad_labels),
		T(test_writer_begin_refuses_bad_params_and_keeps_output),
		T(test_writer_begin_duplicate_label_is_eexist),
		T(test_writer_commit_replace_deletes_the_old_scan),
		T(test_writer_commit_scan_cannot_replace_the_baseline),
		T(test_writer_commit_baseline_relabels_the_old_one),
		T(test_writer_commit_check_labels_and_prunes_to_keep),
		T(test_set_baseline_moves_it_and_keeps_the_old_one_nameable),
		T(test_set_baseline_of_a_check_survives_pruning),
		T(test_set_baseline_refuses_and_changes_nothing),
		T(test_writer_probes_default_to_asked_and_set_probes_records_outcome),
		T(test_writer_set_probes_refuses_bad_names_and_keeps_the_record),
		T(test_writer_commit_check_labels_get_suffixes),
		T(test_writer_abort_leaves_incomplete_without_entries),
		T(test_writer_finish_is_readable_before_the_commit),
		T(test_writer_dying_process_leaves_incomplete_and_baseline_intact),
		T(test_writer_begin_second_writer_gets_ebusy),
		T(test_reader_reads_while_a_writer_holds_the_lock),
		T(test_list_is_oldest_first_and_stops_on_error),
		T(test_find_missing_is_enoent_and_keeps_output),
		T(test_info_release_accepts_zeroed_and_leaves_zeroed),
		T(test_writer_add_refuses_bad_entries_and_stays_usable),
		T(test_writer_begin_on_read_only_store_is_erofs),
	};
	return cmocka_run_group_tests_name("store/snapshot", tests, NULL, NULL);
}
