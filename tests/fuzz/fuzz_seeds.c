/*
 * Writes the seeds of the targets whose inputs are binary (entry images
 * for fuzz_entry, small databases for fuzz_store), so that they come
 * from the real encoder and writer:
 *     build-fuzz/tests/fuzz/fuzz_seeds tests/fuzz/corpus
 * The files it writes are committed; rerun it when the format changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/entry.h"
#include "common/strbuf.h"
#include "store/store.h"

#include "common/banned.h"

static void put(const char *dir, const char *sub, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
		exit(1);
	}
}

static void entry_seed(const char *dir, const char *name, const struct entry *e)
{
	struct strbuf sb = STRBUF_INIT;

	if (snap_entry_encode(&sb, e) < 0) {
		fprintf(stderr, "fuzz_seeds: cannot encode %s\n", name);
		exit(1);
	}
	put(dir, "entry", name, sb.buf, sb.len);
	strbuf_release(&sb);
}

static void entries(const char *dir)
{
	static const uint8_t xattrs[] = { 0,   0,   0,   10,  'u', 's', 'e', 'r', '.', 'x',
					  'x', 'x', 'x', '!', 0,   0,   0,   1,   'v' };
	struct strbuf props = STRBUF_INIT;
	struct entry_prop p[] = {
		{ "status", "installed", 9 },
		{ "version", "1.2-1", 5 },
	};
	struct entry e = { 0 };

	e.kind = ENTRY_FILE;
	e.key = "/etc/motd";
	e.key_len = strlen(e.key);
	e.mode = S_IFREG | 0644;
	e.size = 1234;
	e.mtime_ns = 1700000000123456789LL;
	e.ctime_ns = 1700000000223456789LL;
	e.ino = 4242;
	e.dev = 2049;
	e.nlink = 1;
	e.hash_algo = HASH_SHA256;
	e.hash_len = 32;
	memset(e.hash, 0xab, 32);
	entry_seed(dir, "file", &e);

	e.collected = ATTR_XATTRS | ATTR_ACL | ATTR_CAPS | ATTR_MIME;
	e.xattrs = xattrs;
	e.xattrs_len = sizeof(xattrs);
	e.acl = "user::rw-\ngroup::r--\nother::r--\n";
	e.caps = "cap_net_raw=ep";
	e.mime = "text/plain";
	e.has_content = true;
	memset(e.content_id, 0x5a, 32);
	entry_seed(dir, "file-attrs", &e);

	memset(&e, 0, sizeof(e));
	e.kind = ENTRY_FILE;
	e.key = "/etc/alternatives/editor";
	e.key_len = strlen(e.key);
	e.mode = S_IFLNK | 0777;
	e.target = "/usr/bin/vim.basic";
	e.target_len = strlen(e.target);
	e.mtime_ns = INT64_MIN;
	e.ctime_ns = INT64_MAX;
	entry_seed(dir, "symlink", &e);

	memset(&e, 0, sizeof(e));
	e.kind = ENTRY_FILE;
	e.key = "/dev/null";
	e.key_len = strlen(e.key);
	e.mode = S_IFCHR | 0666;
	e.rdev = (1 << 8) | 3;
	e.err = EACCES;
	entry_seed(dir, "device-error", &e);

	if (entry_props_encode(&props, p, 2) < 0)
		exit(1);
	memset(&e, 0, sizeof(e));
	e.kind = ENTRY_PACKAGE;
	e.key = "hello:amd64";
	e.key_len = strlen(e.key);
	e.props = (const uint8_t *)props.buf;
	e.props_len = props.len;
	entry_seed(dir, "package", &e);
	strbuf_release(&props);
}

/* A database with one or two snapshots (the second a delta), kept content included. */
static void store(const char *dir, const char *name, bool two)
{
	static const char *const roots[] = { "/" };
	/* Long and repetitive enough to be stored compressed (zstd, codec 1). */
	static const char text[] = "PermitRootLogin no\nPasswordAuthentication no\n"
				   "PermitRootLogin no\nPasswordAuthentication no\n"
				   "PermitRootLogin no\nPasswordAuthentication no\n"
				   "PermitRootLogin no\nPasswordAuthentication no\n"
				   "PermitRootLogin no\nPasswordAuthentication no\n"
				   "PermitRootLogin no\nPasswordAuthentication no\n";
	struct snap_new p = { .purpose = SNAP_PURPOSE_BASELINE,
			      .host = "h",
			      .roots = roots,
			      .nroots = 1,
			      .hash = HASH_XXH3_128,
			      .keep = 4 };
	char path[4096], side[4200];
	struct snap_store *st = NULL;
	struct snap_writer *w = NULL;
	struct diag d = { 0 };
	struct entry e = { 0 };
	struct strbuf sb = STRBUF_INIT;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "/tmp/drift-fuzz-seed-%d.db", (int)getpid());
	unlink(path);
	if (snap_store_open(path, SNAP_OPEN_WRITE, &st, &d) < 0)
		goto fail;
	for (int n = 0; n < (two ? 2 : 1); n++) {
		if (snap_writer_begin(st, &p, &w, &d) < 0)
			goto fail;
		e.kind = ENTRY_FILE;
		e.key = "/etc/ssh/sshd_config";
		e.key_len = strlen(e.key);
		e.mode = S_IFREG | 0644;
		e.size = sizeof(text) - 1 + (size_t)n;
		e.mtime_ns = 1700000000123456789LL + n;
		e.nlink = 1;
		if (snap_writer_add_content(w, (const uint8_t *)text, sizeof(text) - 1 - (size_t)n,
					    e.content_id, &d) < 0)
			goto fail;
		e.has_content = true;
		if (snap_writer_add(w, &e, &d) < 0)
			goto fail;
		e.has_content = false;
		e.key = "/etc/motd";
		e.key_len = strlen(e.key);
		if (snap_writer_add(w, &e, &d) < 0)
			goto fail;
		e.key = "/etc";
		e.key_len = strlen(e.key);
		e.mode = S_IFDIR | 0755;
		if (snap_writer_add(w, &e, &d) < 0)
			goto fail;
		memset(&e, 0, sizeof(e));
		e.kind = ENTRY_USER;
		e.key = "root";
		e.key_len = 4;
		if (snap_writer_add(w, &e, &d) < 0)
			goto fail;
		if (snap_writer_commit(w, NULL, &d) < 0)
			goto fail;
		w = NULL;
		p.purpose = SNAP_PURPOSE_CHECK;
		memset(&e, 0, sizeof(e));
	}
	snap_store_free(st);
	st = NULL;
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
	    strbuf_grow(&sb, (size_t)len) < 0 || fread(sb.buf, 1, (size_t)len, f) != (size_t)len)
		goto fail;
	fclose(f);
	put(dir, "store", name, sb.buf, (size_t)len);
	strbuf_release(&sb);
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	return;
fail:
	fprintf(stderr, "fuzz_seeds: %s: %s\n", name, d.msg);
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds CORPUS-DIR\n");
		return 2;
	}
	entries(argv[1]);
	store(argv[1], "one", false);
	store(argv[1], "two", true);
	return 0;
}
