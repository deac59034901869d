#include "common/entry.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

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

const char *entry_attr_name(enum entry_attr attr)
{
	static const char *const names[ATTR__COUNT] = {
		"type",  "mode",   "uid",   "gid",    "size", "mtime", "ctime",
		"inode", "device", "nlink", "target", "hash", "error",
	};

	for (unsigned i = 0; i < ATTR__COUNT; i++)
		if ((unsigned)attr == 1u << i)
			return names[i];
	return NULL;
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
	}
	return "unknown";
}

int hash_algo_parse(const char *name, enum hash_algo *ret_algo)
{
	if (!strcmp(name, "none"))
		*ret_algo = HASH_NONE;
	else if (!strcmp(name, "xxh3-128") || !strcmp(name, "xxh3") || !strcmp(name, "xxh128"))
		*ret_algo = HASH_XXH3_128;
	else
		return -EINVAL;
	return 0;
}
