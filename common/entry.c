#include "common/entry.h"

#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/strbuf.h"

#include "common/banned.h"

const char *entry_type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFDIR:
		return "dir";
	case S_IFLNK:
		return "symlink";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	case S_IFCHR:
		return "chardev";
	case S_IFBLK:
		return "blockdev";
	}
	return "unknown";
}

bool entry_is_device(const struct entry *e)
{
	return e->kind == ENTRY_FILE && (S_ISCHR(e->mode) || S_ISBLK(e->mode));
}

const char *entry_attr_name(enum entry_attr attr)
{
	static const char *const names[ATTR__COUNT] = {
		"type",   "mode",   "uid",  "gid",     "size",   "mtime", "ctime",
		"inode",  "device", "rdev", "nlink",   "target", "hash",  "error",
		"xattrs", "acl",    "caps", "selinux", "mime",   "props",
	};

	for (unsigned i = 0; i < ATTR__COUNT; i++)
		if ((unsigned)attr == 1u << i)
			return names[i];
	return NULL;
}

static const char *const kind_names[ENTRY__KIND_MAX + 1] = {
	[ENTRY_FILE] = "file",     [ENTRY_PACKAGE] = "package", [ENTRY_USER] = "user",
	[ENTRY_GROUP] = "group",   [ENTRY_SERVICE] = "service", [ENTRY_SYSCTL] = "sysctl",
	[ENTRY_MODULE] = "module", [ENTRY_PORT] = "port",       [ENTRY_MOUNT] = "mount",
};

const char *entry_kind_name(enum entry_kind kind)
{
	if ((unsigned)kind > ENTRY__KIND_MAX)
		return NULL;
	return kind_names[kind];
}

int entry_kind_parse(const char *name, enum entry_kind *ret_kind)
{
	for (unsigned k = 1; k <= ENTRY__KIND_MAX; k++)
		if (kind_names[k] && !strcmp(kind_names[k], name)) {
			*ret_kind = (enum entry_kind)k;
			return 0;
		}
	return -EINVAL;
}

const char *hash_algo_name(enum hash_algo algo)
{
	switch (algo) {
	case HASH_NONE:
		return "none";
	case HASH_XXH3_128:
		return "xxh3-128";
	case HASH_SHA256:
		return "sha256";
	case HASH_MD5:
		return "md5";
	}
	return "unknown";
}

int hash_algo_parse(const char *name, enum hash_algo *ret_algo)
{
	if (!strcmp(name, "none"))
		*ret_algo = HASH_NONE;
	else if (!strcmp(name, "xxh3-128") || !strcmp(name, "xxh3") || !strcmp(name, "xxh128"))
		*ret_algo = HASH_XXH3_128;
	else if (!strcmp(name, "sha256"))
		*ret_algo = HASH_SHA256;
	else
		return -EINVAL;
	return 0;
}

/* ---- the xattrs blob (see entry.h) ---- */

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

size_t entry_xattrs_pair_size(size_t name_len, size_t value_len)
{
	return 4 + name_len + 4 + value_len;
}

size_t entry_xattrs_put(uint8_t *dst, const char *name, size_t name_len, const uint8_t *value,
			size_t value_len)
{
	uint8_t *p = dst;

	put_le32(p, (uint32_t)name_len);
	p += 4;
	memcpy(p, name, name_len);
	p += name_len;
	put_le32(p, (uint32_t)value_len);
	p += 4;
	if (value_len)
		memcpy(p, value, value_len);
	return entry_xattrs_pair_size(name_len, value_len);
}

int entry_xattrs_next(const uint8_t *blob, size_t len, size_t *pos, const char **ret_name,
		      size_t *ret_name_len, const uint8_t **ret_value, size_t *ret_value_len)
{
	size_t p = *pos, nl, vl;
	const uint8_t *name;

	if (p >= len)
		return 0;
	if (len - p < 4)
		return -EBADMSG;
	nl = get_le32(blob + p);
	p += 4;
	if (nl == 0 || len - p < nl)
		return -EBADMSG;
	name = blob + p;
	p += nl;
	if (len - p < 4)
		return -EBADMSG;
	vl = get_le32(blob + p);
	p += 4;
	if (len - p < vl)
		return -EBADMSG;
	*ret_name = (const char *)name;
	*ret_name_len = nl;
	*ret_value = blob + p;
	*ret_value_len = vl;
	*pos = p + vl;
	return 1;
}

/* strcmp order on counted names without NULs. */
static int name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);

	if (r)
		return r;
	return al < bl ? -1 : al > bl;
}

int entry_xattrs_check(const uint8_t *blob, size_t len)
{
	const char *prev = NULL, *name;
	const uint8_t *value;
	size_t pos = 0, prev_len = 0, nl, vl;
	int r;

	while ((r = entry_xattrs_next(blob, len, &pos, &name, &nl, &value, &vl)) > 0) {
		if (memchr(name, '\0', nl))
			return -EBADMSG;
		if (prev && name_cmp(prev, prev_len, name, nl) >= 0)
			return -EBADMSG;
		prev = name;
		prev_len = nl;
	}
	return r;
}

int entry_xattrs_get(const uint8_t *blob, size_t len, const char *name, const uint8_t **ret_value,
		     size_t *ret_value_len)
{
	size_t want = strlen(name), pos = 0, nl, vl;
	const uint8_t *value;
	const char *n;
	int r;

	while ((r = entry_xattrs_next(blob, len, &pos, &n, &nl, &value, &vl)) > 0) {
		if (nl == want && memcmp(n, name, nl) == 0) {
			*ret_value = value;
			*ret_value_len = vl;
			return 1;
		}
	}
	return r;
}

/* ---- properties ---- */

static int prop_cmp(const void *a, const void *b)
{
	const struct entry_prop *pa = a, *pb = b;

	return strcmp(pa->name, pb->name);
}

int entry_props_encode(struct strbuf *out, struct entry_prop *props, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++) {
		if (!props[i].name[0])
			return -EINVAL;
		total += entry_xattrs_pair_size(strlen(props[i].name), props[i].value_len);
	}
	qsort(props, n, sizeof(*props), prop_cmp);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(props[i - 1].name, props[i].name))
			return -EINVAL;
	strbuf_reset(out);
	if (strbuf_grow(out, total) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t w = entry_xattrs_put((uint8_t *)out->buf + out->len, props[i].name,
					    strlen(props[i].name), (const uint8_t *)props[i].value,
					    props[i].value_len);
		out->len += w;
		out->buf[out->len] = '\0';
	}
	return 0;
}
