/*
 * Writes the seeds of the targets whose inputs are binary (entry images
 * for fuzz_entry), so that they come from the real encoder:
 *     build-fuzz/tests/fuzz/fuzz_seeds tests/fuzz/corpus
 * The files it writes are committed; rerun it when the format changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds CORPUS-DIR\n");
		return 2;
	}
	entries(argv[1]);
	return 0;
}
