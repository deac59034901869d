/*
 * The live host, as findings read it: one open and one read of a file per
 * finding, feeding libmagic, MD5 and the snapshot's digest together, with
 * one libmagic handle for the whole comparison.
 */
#include "compare/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "scanner/attrs.h"
#include "scanner/verify.h"
#include "common/banned.h"

void live_init(struct live *l, int rootfd)
{
	memset(l, 0, sizeof(*l));
	l->rootfd = rootfd;
}

void live_reset(struct live *l)
{
	free(l->mime);
	l->mime = NULL;
	l->read = false;
	l->mime_asked = false;
	l->err = 0;
	l->why[0] = '\0';
}

void live_release(struct live *l)
{
	live_reset(l);
	scan_magic_close(l->magic);
	l->magic = NULL;
}

int live_read(struct live *l, const struct entry *e, bool want_mime)
{
	struct scan_file_read io = { .algo = e->hash_algo };
	struct diag d = { 0 };
	char *path;
	int r;

	if (l->read && (l->mime_asked || !want_mime))
		return l->err;
	live_reset(l);
	l->read = true;
	l->mime_asked = want_mime;
	if (l->rootfd < 0) {
		snprintf(l->why, sizeof(l->why), "the host's files are not at hand");
		return l->err = -EBADF;
	}
	if (want_mime && !l->magic && !l->magic_failed && scan_magic_open(&l->magic, &d) < 0)
		l->magic_failed =
			true; /* no escalation from content, as when the scan could not tell */
	io.magic = want_mime ? l->magic : NULL;
	path = strndup(e->key, e->key_len);
	if (!path) {
		snprintf(l->why, sizeof(l->why), "out of memory");
		return l->err = -ENOMEM;
	}
	r = scan_file_read(l->rootfd, path, &io, &d);
	free(path);
	if (r < 0) {
		snprintf(l->why, sizeof(l->why), "%s", strerror(-r));
		return l->err = r;
	}
	memcpy(l->md5, io.md5, sizeof(l->md5));
	l->hash = io.hash;
	memcpy(l->head, io.head, io.head_len);
	l->head_len = io.head_len;
	l->mime = io.mime;
	return 0;
}
