/*
 * Applying a plan, undoing it, resuming it: the journal and the actions.
 *
 * For each step that drift performs, in plan order:
 *   1. the entry is opened from the root (fsops.h: never through a symlink)
 *      and compared with the run's after side: anything else is skipped;
 *   2. its pre-image (the entry, and the bytes a content restore replaces)
 *      goes into the journal with the state "started", synced;
 *   3. the action runs through the opened descriptors;
 *   4. the post-image is journaled with "done", and the entry is compared
 *      with the baseline (what no restore brings back, the inode number and
 *      ctime of a rewritten file, aside: compare/ reads those from the
 *      journal).
 * A crash leaves at most one "started" action, which resume and undo settle
 * by looking at the entry: as before (run it again / nothing to undo), as
 * restored (done / undo it), or neither (skipped, said so).
 */
#include "remedy/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <xxhash.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "remedy/debsrc.h"
#include "remedy/fsops.h"
#include "scanner/hash.h"
#include "common/banned.h"

/* The most a content restore keeps aside of the bytes it replaces. */
#define PRE_BYTES_MAX ((size_t)64 << 20)
/* The most of a package file drift takes from its .deb. */
#define DEB_BYTES_MAX    ((size_t)256 << 20)
#define PROC_SUPER_MAGIC 0x9fa0

struct jrow;

struct ctx {
	const struct remedy_opts *o;
	const struct remedy_plan *p;
	struct remedy_result *res;
	struct diag *reterr;
	int64_t id;                /* the remediation */
	int slashfd;               /* "/" of the running system: the quarantine's */
	int lockfd;                /* the quarantine base, flock()ed */
	char *qdir;                /* the quarantine of this run: BASE/RUN */
	struct snap_lookup *after; /* the run's after side */
	struct snap_lookup *base;  /* the baseline */
	struct scan_hasher hasher;
	bool hasher_ready;
	unsigned done; /* for the crash hook */
	struct strbuf msg;
	const struct jrow *rows; /* undo, resume: the journal's rows, as the plan's steps */
};

/* ---- the entry on the host ---- */

struct live {
	struct fs_path p;
	struct fs_entry e;
	bool present;
	struct fs_meta m;
	bool have_meta;
	char *target;
	struct entry ent;
	char tag[32];
};

static void live_close(struct live *l)
{
	if (l->have_meta)
		fs_meta_release(&l->m);
	if (l->present)
		fs_entry_close(&l->e);
	fs_path_release(&l->p);
	free(l->target);
	memset(l, 0, sizeof(*l));
}

static void entry_from_stat(struct entry *e, const struct stat *st)
{
	e->mode = st->st_mode;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->size = (uint64_t)st->st_size;
	e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	e->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	e->ino = st->st_ino;
	e->dev = st->st_dev;
	e->nlink = st->st_nlink;
	e->rdev = S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? st->st_rdev : 0;
}

/*
 * Open the file @key on the host, and read it as the scanner would: its
 * stat, a symlink's target, the content hash (@algo, regular files) and the
 * optional attributes (@meta). 0 (l->present says whether it exists) or a
 * negative errno with a message (a symlink in the path: -ELOOP).
 */
static int live_open(struct ctx *c, const char *key, size_t len, enum hash_algo algo, bool meta,
		     struct live *l)
{
	int r;

	memset(l, 0, sizeof(*l));
	l->p.dirfd = -1;
	r = fs_path_open(c->o->rootfd, key, len, &l->p, c->reterr);
	if (r == -ENOENT)
		return 0; /* a directory on the way is missing: so is the entry */
	if (r < 0)
		return r;
	r = fs_entry_open(&l->p, &l->e, c->reterr);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	l->present = true;
	l->ent.kind = ENTRY_FILE;
	l->ent.key = key;
	l->ent.key_len = len;
	entry_from_stat(&l->ent, &l->e.st);
	if (S_ISLNK(l->e.st.st_mode)) {
		char buf[PATH_MAX + 1];
		ssize_t n = readlinkat(l->p.dirfd, l->p.name, buf, sizeof(buf) - 1);

		if (n < 0)
			return diag_set(c->reterr, -errno, "cannot read the symlink %s: %s", key,
					strerror(errno));
		l->target = strndup(buf, (size_t)n);
		if (!l->target)
			return diag_set(c->reterr, -ENOMEM, "out of memory");
		l->ent.target = l->target;
		l->ent.target_len = (size_t)n;
	}
	if (algo != HASH_NONE && S_ISREG(l->e.st.st_mode)) {
		struct stat st = l->e.st;

		if (!c->hasher_ready || c->hasher.algo != algo) {
			if (c->hasher_ready)
				scan_hasher_release(&c->hasher);
			c->hasher_ready = false;
			r = scan_hasher_init(&c->hasher, algo, 1 << 20);
			if (r < 0)
				return diag_set(c->reterr, r, "cannot hash: %s", strerror(-r));
			c->hasher_ready = true;
		}
		r = scan_hasher_entry(&c->hasher, l->p.dirfd, l->p.name, &st, &l->ent);
		if (r < 0)
			return diag_set(c->reterr, r, "cannot hash %s: %s", key, strerror(-r));
		if (r == SCAN_HASH_RETYPE || l->ent.err)
			return diag_set(c->reterr, -ESTALE, "%s changed while it was read", key);
	}
	if (meta) {
		r = fs_meta_read(&l->p, &l->e, &l->m, c->reterr);
		if (r < 0)
			return r;
		l->have_meta = true;
		l->ent.collected = l->m.collected;
		l->ent.xattrs = l->m.xattrs;
		l->ent.xattrs_len = l->m.xattrs_len;
		l->ent.acl = l->m.acl;
		l->ent.caps = l->m.caps;
	}
	return 0;
}

/* The attributes of @want that the host's @l does not have (0: as wanted). */
static uint32_t live_diff(const struct entry *want, const struct live *l)
{
	return snap_entry_diff(want, &l->ent, 0) & ~ATTR_CTIME;
}

static int attrs_text(struct strbuf *sb, uint32_t attrs)
{
	int r = 0;

	for (uint32_t bit = 1; bit && r >= 0; bit <<= 1)
		if ((attrs & bit) && entry_attr_name((enum entry_attr)bit))
			r = strbuf_addf(sb, "%s%s", sb->len ? ", " : "",
					entry_attr_name((enum entry_attr)bit));
	return r;
}

/* A snapshot entry, whole, from a lookup (its hash algorithm is the plan's). */
static int side_get(struct ctx *c, struct snap_lookup *lk, const struct remedy_step *s,
		    struct entry *ret)
{
	const struct entry *e;
	int r = snap_lookup_get(lk, s->kind, s->key, s->key_len, &e, c->reterr);

	if (r <= 0)
		return r;
	*ret = *e;
	ret->key = s->key;
	ret->key_len = s->key_len;
	ret->hash_algo = ret->hash_len ? c->p->algo : HASH_NONE;
	return 1;
}

/* ---- sysctl values ---- */

/* "/proc/sys/net/ipv4/ip_forward" for "net.ipv4.ip_forward" (a '/' in a name was a '.'). */
static char *sysctl_path(const char *key)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_adds(&sb, "/proc/sys/") < 0)
		return NULL;
	for (const char *k = key; *k; k++)
		if (strbuf_addch(&sb, *k == '.' ? '/' : *k == '/' ? '.' : *k) < 0) {
			strbuf_release(&sb);
			return NULL;
		}
	return strbuf_detach(&sb, NULL);
}

/* The value as the probe records it: blanks collapsed, trailing newlines gone. */
static void sysctl_normalize(char *s)
{
	size_t o = 0;
	bool blank = false;

	for (size_t i = 0; s[i]; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			blank = true;
			continue;
		}
		if (blank && o)
			s[o++] = ' ';
		blank = false;
		s[o++] = s[i];
	}
	s[o] = '\0';
}

/* Read (@value NULL) into *ret or write @value: the kernel parameter @key. */
static int sysctl_io(struct ctx *c, const char *key, const char *value, char *ret, size_t size)
{
	char *path = sysctl_path(key);
	struct fs_path p = { .dirfd = -1 };
	struct statfs sfs;
	int fd = -1, r;

	if (!path)
		return diag_set(c->reterr, -ENOMEM, "out of memory");
	r = fs_path_open(c->o->rootfd, path, strlen(path), &p, c->reterr);
	if (r < 0)
		goto out;
	fd = openat(p.dirfd, p.name, (value ? O_WRONLY : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = diag_set(c->reterr, -errno, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (value) {
		size_t len = strlen(value);
		bool proc = fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;

		/* A fixture's regular file is replaced whole; the kernel takes the value. */
		if (write(fd, value, len) != (ssize_t)len || (!proc && write(fd, "\n", 1) != 1) ||
		    (!proc && ftruncate(fd, (off_t)len + 1) < 0))
			r = diag_set(c->reterr, -errno, "cannot write %s: %s", path,
				     strerror(errno));
	} else {
		ssize_t n = read(fd, ret, size - 1);

		if (n < 0)
			r = diag_set(c->reterr, -errno, "cannot read %s: %s", path,
				     strerror(errno));
		else {
			ret[n] = '\0';
			sysctl_normalize(ret);
		}
	}
out:
	if (fd >= 0)
		close(fd);
	fs_path_release(&p);
	free(path);
	return r;
}

static bool prop_value(const struct entry *e, char *buf, size_t size)
{
	const uint8_t *v;
	size_t len;

	if (!e || entry_xattrs_get(e->props, e->props_len, "value", &v, &len) <= 0 || len >= size)
		return false;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return true;
}

/* A sysctl entry with the one property value=@value, encoded into @out. */
static int sysctl_image(const char *key, const char *value, struct strbuf *out)
{
	struct strbuf props = STRBUF_INIT;
	struct entry_prop prop = { "value", value, strlen(value) };
	struct entry e = { .kind = ENTRY_SYSCTL, .key = key, .key_len = strlen(key) };
	int r = entry_props_encode(&props, &prop, 1);

	e.props = (const uint8_t *)props.buf;
	e.props_len = props.len;
	e.collected = ATTR_PROPS;
	if (r >= 0)
		r = snap_entry_encode(out, &e);
	strbuf_release(&props);
	return r;
}

/* ---- bytes ---- */

/* Whether @bytes have the hash @want records (true when it records none). */
static bool bytes_match(const struct entry *want, const uint8_t *bytes, size_t len)
{
	uint8_t md[32];
	unsigned n = 0;

	if (!want->hash_len)
		return true;
	if (want->hash_algo == HASH_XXH3_128 && want->hash_len == 16) {
		XXH128_canonical_t canon;

		XXH128_canonicalFromHash(&canon, XXH3_128bits(bytes, len));
		return !memcmp(canon.digest, want->hash, 16);
	}
	if (want->hash_algo == HASH_SHA256 && want->hash_len == 32)
		return EVP_Digest(bytes, len, md, &n, EVP_sha256(), NULL) && n == 32 &&
		       !memcmp(md, want->hash, 32);
	return false;
}

/* The baseline's bytes of @s (@base): kept content or the package's, checked. */
static int source_bytes(struct ctx *c, const struct remedy_step *s, const struct entry *base,
			uint8_t **ret, size_t *ret_len)
{
	char *origin = NULL;
	int r;

	if (s->source == REMEDY_SOURCE_KEPT) {
		if (!base->has_content)
			return diag_set(c->reterr, -ENOENT, "the baseline keeps no content of %s",
					s->key);
		r = snap_content_get(c->o->st, base->content_id, ret, ret_len, c->reterr);
		if (r < 0)
			return r;
	} else if (s->source == REMEDY_SOURCE_DEB) {
		if (!c->o->deb)
			return diag_set(c->reterr, -ENOENT, "no package source for %s", s->key);
		r = deb_fetch(c->o->deb, s->package, s->version, s->key, DEB_BYTES_MAX, ret,
			      ret_len, &origin, c->reterr);
		free(origin);
		if (r < 0)
			return r;
	} else {
		return diag_set(c->reterr, -ENOENT, "nothing to restore %s from", s->key);
	}
	if (!bytes_match(base, *ret, *ret_len)) {
		free(*ret);
		*ret = NULL;
		return diag_set(c->reterr, -EBADMSG,
				"the %s of %s does not match the baseline's hash: refused",
				s->source == REMEDY_SOURCE_KEPT ? "kept content" : "package's copy",
				s->key);
	}
	return 0;
}

static void meta_of(const struct entry *e, struct fs_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->mode = e->mode;
	m->uid = e->uid;
	m->gid = e->gid;
	m->mtime_ns = e->mtime_ns;
	m->collected = e->collected & (ATTR_XATTRS | ATTR_ACL | ATTR_CAPS);
	m->xattrs = e->xattrs;
	m->xattrs_len = e->xattrs_len;
	m->acl = e->acl;
	m->caps = e->caps;
}

/* The attributes fs_meta_apply() sets of @m: the ones asked, of those @m knows. */
static uint32_t meta_attrs(const struct fs_meta *m, uint32_t want)
{
	return want & (ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_MTIME | m->collected);
}

/* ---- the quarantine ---- */

/* The parent of @path opened from the quarantine (created as needed). */
static int quarantine_path(struct ctx *c, const char *qdir, const char *key, struct fs_path *ret)
{
	struct strbuf sb = STRBUF_INIT;
	const char *slash;
	int r, fd;

	r = strbuf_addf(&sb, "%s%s", qdir, key);
	if (r < 0)
		return diag_set(c->reterr, -ENOMEM, "out of memory");
	slash = strrchr(sb.buf, '/');
	{
		char *parent = strndup(sb.buf + 1, (size_t)(slash - sb.buf - 1));

		if (!parent) {
			strbuf_release(&sb);
			return diag_set(c->reterr, -ENOMEM, "out of memory");
		}
		fd = fs_mkdirs(c->slashfd, parent, 0700, c->reterr);
		free(parent);
	}
	if (fd >= 0) {
		close(fd);
		r = fs_path_open(c->slashfd, sb.buf, sb.len, ret, c->reterr);
	} else {
		r = fd;
	}
	strbuf_release(&sb);
	return r;
}

/*
 * Where the inode a content or symlink restore replaces is kept: a hard
 * link in the quarantine, so that undo puts back the very same file (same
 * inode, same everything but its ctime). Only on the quarantine's
 * filesystem; elsewhere the journal's copy of the bytes serves.
 */
static int replaced_path(struct ctx *c, size_t seq, struct fs_path *ret)
{
	char name[64];

	snprintf(name, sizeof(name), "/.replaced/%lld-%zu", (long long)c->id, seq);
	return quarantine_path(c, c->qdir, name, ret);
}

/* Link the object @l into the quarantine (best effort: 0 when it cannot be). */
static int keep_aside(struct ctx *c, size_t seq, const struct live *l)
{
	struct fs_path kp = { .dirfd = -1 };
	int r = replaced_path(c, seq, &kp);

	if (r >= 0) {
		/* A copy from an interrupted earlier try goes first. */
		unlinkat(kp.dirfd, kp.name, 0);
		if (linkat(l->e.fd, "", kp.dirfd, kp.name, AT_EMPTY_PATH) == 0)
			fsync(kp.dirfd);
	}
	fs_path_release(&kp);
	c->reterr->msg[0] = '\0';
	return 0;
}

/* Put the kept inode of step @seq back at @l (as @pre): 1 done, 0 none kept. */
static int put_back(struct ctx *c, size_t seq, const struct entry *pre, struct live *l)
{
	struct fs_path kp = { .dirfd = -1 };
	struct fs_entry ke;
	int r = replaced_path(c, seq, &kp);

	if (r < 0 || fs_entry_open(&kp, &ke, c->reterr) < 0) {
		fs_path_release(&kp);
		c->reterr->msg[0] = '\0';
		return 0;
	}
	r = ke.st.st_ino == pre->ino && ke.st.st_dev == pre->dev &&
	    (ke.st.st_mode & S_IFMT) == (pre->mode & S_IFMT);
	fs_entry_close(&ke);
	if (r && renameat(kp.dirfd, kp.name, l->p.dirfd, l->p.name) < 0)
		r = diag_set(c->reterr, -errno, "cannot put %s back: %s", l->p.path,
			     strerror(errno));
	if (r > 0)
		fsync(l->p.dirfd);
	fs_path_release(&kp);
	return r;
}

/*
 * Name the temporary objects of step @seq after it, and remove those a crash
 * left while the step ran (fsops.h, struct fs_path.tag).
 */
static void tag_path(struct ctx *c, size_t seq, struct live *l, bool clean)
{
	snprintf(l->tag, sizeof(l->tag), "%lld-%zu", (long long)c->id, seq);
	l->p.tag = l->tag;
	if (clean && l->p.dirfd >= 0 && fs_clean_temps(&l->p, c->reterr) < 0)
		c->reterr->msg[0] = '\0'; /* a directory not listable: nothing was left there */
}

/* ---- the journal ---- */

static int journal(struct ctx *c, const struct remedy_step *s, size_t seq,
		   enum snap_remedy_state state, const struct strbuf *pre, const void *bytes,
		   size_t bytes_len, const struct strbuf *post, const char *error)
{
	struct strbuf detail = STRBUF_INIT;
	struct snap_remedy_action a = {
		.seq = (int64_t)seq,
		.kind = s->kind,
		.key = s->key,
		.key_len = s->key_len,
		.action = s->action,
		.state = state,
		.pre = pre && pre->len ? pre->buf : NULL,
		.pre_len = pre ? pre->len : 0,
		.bytes = bytes,
		.bytes_len = bytes_len,
		.post = post && post->len ? post->buf : NULL,
		.post_len = post ? post->len : 0,
		.error = error,
	};
	int r = remedy_step_encode(s, &detail);

	a.detail = detail.buf;
	if (r < 0)
		r = diag_set(c->reterr, r, "out of memory");
	else
		r = snap_remedy_action_put(c->o->st, c->id, &a, c->reterr);
	strbuf_release(&detail);
	return r;
}

static int report(struct ctx *c, const struct remedy_step *s, enum snap_remedy_state state,
		  const char *message)
{
	struct remedy_outcome out = { s, state, message };

	switch (state) {
	case SNAP_REMEDY_DONE:
		c->res->done++;
		break;
	case SNAP_REMEDY_FAILED:
		c->res->failed++;
		break;
	case SNAP_REMEDY_SKIPPED:
		c->res->skipped++;
		break;
	case SNAP_REMEDY_UNDONE:
		c->res->undone++;
		break;
	default:
		break;
	}
	return c->o->step ? c->o->step(&out, c->o->userdata) : 0;
}

/* ---- one action ---- */

/*
 * Whether the host is as the run saw it for @s: 0 (yes), -ESTALE with the
 * difference in @reterr, or another error.
 */
static int step_fresh(struct ctx *c, const struct remedy_step *s)
{
	struct entry seen;
	struct live l;
	uint32_t d;
	int r, have;

	if (s->kind == ENTRY_SYSCTL) {
		char now[4096], then[4096];

		have = side_get(c, c->after, s, &seen);
		if (have < 0)
			return have;
		r = sysctl_io(c, s->key, NULL, now, sizeof(now));
		if (r < 0)
			return r;
		if (have && prop_value(&seen, then, sizeof(then)) && strcmp(now, then))
			return diag_set(c->reterr, -ESTALE,
					"%s is '%s' now, not '%s' as run #%lld saw", s->key, now,
					then, (long long)c->p->run);
		return 0;
	}
	have = side_get(c, c->after, s, &seen);
	if (have < 0)
		return have;
	r = live_open(c, s->key, s->key_len, have ? seen.hash_algo : HASH_NONE,
		      have && (seen.collected & (ATTR_XATTRS | ATTR_ACL | ATTR_CAPS)), &l);
	if (r < 0)
		goto out;
	if (!have && l.present)
		r = diag_set(c->reterr, -ESTALE, "%s exists again since run #%lld", s->key,
			     (long long)c->p->run);
	else if (have && !l.present)
		r = diag_set(c->reterr, -ESTALE, "%s is gone since run #%lld", s->key,
			     (long long)c->p->run);
	else if (have && (d = live_diff(&seen, &l))) {
		strbuf_reset(&c->msg);
		attrs_text(&c->msg, d);
		r = diag_set(c->reterr, -ESTALE, "%s changed since run #%lld (%s)", s->key,
			     (long long)c->p->run, c->msg.buf);
	}
out:
	live_close(&l);
	return r;
}

/*
 * After a file action: whether @s->key is as the baseline has it (what a
 * rewrite cannot keep aside); the difference goes to c->msg.
 */
static int step_verify(struct ctx *c, const struct remedy_step *s, const struct entry *base)
{
	struct live l;
	uint32_t d = 0;
	int r;

	strbuf_reset(&c->msg);
	r = live_open(c, s->key, s->key_len, base->hash_algo,
		      (base->collected & (ATTR_XATTRS | ATTR_ACL | ATTR_CAPS)) != 0, &l);
	if (r >= 0 && !l.present)
		r = strbuf_adds(&c->msg, "but it is missing");
	else if (r >= 0 && (d = live_diff(base, &l) & ~ATTR_INODE)) {
		r = strbuf_adds(&c->msg, "but it differs from the baseline in: ");
		if (r >= 0)
			r = attrs_text(&c->msg, d);
	}
	live_close(&l);
	if (r >= 0 && c->msg.len)
		c->res->differ++;
	return r < 0 ? r : 0;
}

/* The post-image of the file @key as it is now. */
static int post_image(struct ctx *c, const char *key, size_t len, const struct fs_path *where,
		      struct strbuf *out)
{
	struct fs_path p = { .dirfd = -1 };
	struct fs_entry e;
	struct entry ent = { .kind = ENTRY_FILE, .key = key, .key_len = len };
	int r;

	if (!where) {
		r = fs_path_open(c->o->rootfd, key, len, &p, c->reterr);
		if (r < 0)
			return r;
		where = &p;
	}
	r = fs_entry_open(where, &e, c->reterr);
	if (r >= 0) {
		entry_from_stat(&ent, &e.st);
		fs_entry_close(&e);
		r = snap_entry_encode(out, &ent);
	}
	fs_path_release(&p);
	return r;
}

/* Carry out @s (checked fresh, pre-image journaled); its post-image into @post. */
static int step_do(struct ctx *c, const struct remedy_step *s, size_t seq, const struct entry *base,
		   struct live *l, struct strbuf *post)
{
	struct fs_meta m;
	uint8_t *bytes = NULL;
	size_t len = 0;
	int r;

	if (s->action == REMEDY_SYSCTL) {
		char now[4096];

		r = sysctl_io(c, s->key, s->text, NULL, 0);
		if (r >= 0)
			r = sysctl_io(c, s->key, NULL, now, sizeof(now));
		if (r >= 0)
			r = sysctl_image(s->key, now, post);
		return r;
	}
	if (s->action == REMEDY_QUARANTINE) {
		struct fs_path to = { .dirfd = -1 };

		r = quarantine_path(c, c->qdir, s->key, &to);
		if (r >= 0)
			r = fs_move(&l->p, &to, &l->e.st, c->reterr);
		if (r >= 0)
			r = post_image(c, s->key, s->key_len, &to, post);
		fs_path_release(&to);
		return r;
	}
	meta_of(base, &m);
	switch (s->action) {
	case REMEDY_META:
		r = fs_meta_apply(&l->p, &l->e, &m, meta_attrs(&m, s->attrs), c->reterr);
		break;
	case REMEDY_CONTENT:
		r = source_bytes(c, s, base, &bytes, &len);
		if (r >= 0)
			r = keep_aside(c, seq, l);
		if (r >= 0)
			r = fs_write_file(&l->p, bytes, len, &m, FS_PLACE_REPLACE, NULL, c->reterr);
		break;
	case REMEDY_SYMLINK:
		r = keep_aside(c, seq, l);
		if (r >= 0)
			r = fs_make_symlink(&l->p, base->target, base->target_len, &m,
					    FS_PLACE_REPLACE, NULL, c->reterr);
		break;
	case REMEDY_CREATE:
		if (S_ISREG(base->mode)) {
			r = source_bytes(c, s, base, &bytes, &len);
			if (r >= 0)
				r = fs_write_file(&l->p, bytes, len, &m, FS_PLACE_NEW, NULL,
						  c->reterr);
		} else if (S_ISDIR(base->mode)) {
			r = fs_make_dir(&l->p, &m, NULL, c->reterr);
		} else if (S_ISLNK(base->mode)) {
			r = fs_make_symlink(&l->p, base->target, base->target_len, &m, FS_PLACE_NEW,
					    NULL, c->reterr);
		} else {
			r = diag_set(c->reterr, -EOPNOTSUPP, "drift does not recreate a %s",
				     entry_type_name(base->mode));
		}
		break;
	default:
		r = diag_set(c->reterr, -EINVAL, "not an action drift performs");
	}
	free(bytes);
	if (r >= 0)
		r = post_image(c, s->key, s->key_len, NULL, post);
	return r;
}

/* The pre-image of the file @l: the entry, and for a content restore its bytes. */
static int pre_image(struct ctx *c, const struct remedy_step *s, struct live *l, struct strbuf *pre,
		     uint8_t **ret_bytes, size_t *ret_len)
{
	int r;

	if (!l->present)
		return 0;
	r = snap_entry_encode(pre, &l->ent);
	if (r < 0)
		return diag_set(c->reterr, r, "out of memory");
	if (s->action != REMEDY_CONTENT || !S_ISREG(l->e.st.st_mode))
		return 0;
	r = fs_read_file(&l->e, PRE_BYTES_MAX, ret_bytes, ret_len, c->reterr);
	if (r == -EFBIG)
		return diag_set(c->reterr, r,
				"%s is larger than %zu MiB: not replaced (its bytes could not be "
				"kept aside for undo)",
				s->key, PRE_BYTES_MAX >> 20);
	return r;
}

/*
 * Run step @seq: fresh check, pre-image, journal, action, post-image,
 * verification. Failures of the step are its outcome (journaled and
 * reported); only a journal or memory failure stops everything.
 */
static int step_run(struct ctx *c, const struct remedy_step *s, size_t seq, bool checked)
{
	struct strbuf pre = STRBUF_INIT, post = STRBUF_INIT;
	struct entry base = { 0 };
	struct live l = { 0 };
	uint8_t *bytes = NULL;
	size_t len = 0;
	char error[1024] = "";
	int r = 0, have = 0;

	l.p.dirfd = -1;
	if (!checked) {
		r = step_fresh(c, s);
		if (r == -ESTALE || r == -ELOOP || r == -ENOTDIR) {
			snprintf(error, sizeof(error), "%s", c->reterr->msg);
			r = journal(c, s, seq, SNAP_REMEDY_SKIPPED, NULL, NULL, 0, NULL, error);
			if (r >= 0)
				r = report(c, s, SNAP_REMEDY_SKIPPED, error);
			goto out;
		}
		if (r < 0)
			goto failed;
	}
	if (s->action != REMEDY_QUARANTINE) {
		have = side_get(c, c->base, s, &base);
		if (have < 0) {
			r = have;
			goto out;
		}
	}
	if (s->kind == ENTRY_SYSCTL) {
		char now[4096];

		r = sysctl_io(c, s->key, NULL, now, sizeof(now));
		if (r >= 0)
			r = sysctl_image(s->key, now, &pre);
	} else {
		r = live_open(c, s->key, s->key_len, HASH_NONE, true, &l);
		if (r >= 0) {
			tag_path(c, seq, &l, false);
			r = pre_image(c, s, &l, &pre, &bytes, &len);
		}
	}
	if (r < 0)
		goto failed;
	r = journal(c, s, seq, SNAP_REMEDY_STARTED, &pre, bytes, len, NULL, NULL);
	if (r < 0)
		goto out;
	r = step_do(c, s, seq, &base, &l, &post);
	if (r < 0)
		goto failed;
	r = journal(c, s, seq, SNAP_REMEDY_DONE, &pre, bytes, len, &post, NULL);
	if (r < 0)
		goto out;
	strbuf_reset(&c->msg);
	if (s->kind == ENTRY_FILE && s->action != REMEDY_QUARANTINE) {
		live_close(&l); /* the entry was replaced: look again */
		r = step_verify(c, s, &base);
		if (r < 0)
			goto out;
	}
	r = report(c, s, SNAP_REMEDY_DONE, c->msg.len ? c->msg.buf : NULL);
	if (++c->done == c->o->crash_after && c->o->crash_after)
		kill(getpid(), SIGKILL); /* the test hook: die as a crash would */
	goto out;
failed:
	if (r == -ENOMEM) {
		diag_set(c->reterr, r, "out of memory");
		goto out;
	}
	snprintf(error, sizeof(error), "%s", c->reterr->msg[0] ? c->reterr->msg : strerror(-r));
	r = journal(c, s, seq, SNAP_REMEDY_FAILED, &pre, bytes, len, NULL, error);
	if (r >= 0)
		r = report(c, s, SNAP_REMEDY_FAILED, error);
out:
	live_close(&l);
	free(bytes);
	strbuf_release(&pre);
	strbuf_release(&post);
	c->reterr->msg[0] = r < 0 ? c->reterr->msg[0] : '\0';
	return r;
}

/* ---- setting up ---- */

static bool performed(const struct remedy_step *s)
{
	return s->action != REMEDY_COMMAND && s->action != REMEDY_CANNOT;
}

static void ctx_close(struct ctx *c)
{
	snap_lookup_free(c->after);
	snap_lookup_free(c->base);
	if (c->hasher_ready)
		scan_hasher_release(&c->hasher);
	if (c->lockfd >= 0)
		close(c->lockfd); /* releases the flock */
	if (c->slashfd >= 0)
		close(c->slashfd);
	free(c->qdir);
	strbuf_release(&c->msg);
}

/* Open what every operation needs: the lock, the lookups of @run's snapshots. */
static int ctx_open(struct ctx *c, const struct remedy_opts *o, int64_t run, int64_t baseline,
		    int64_t after, struct remedy_result *res, struct diag *reterr)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->o = o;
	c->res = res;
	c->reterr = reterr;
	c->slashfd = c->lockfd = -1;
	strbuf_init(&c->msg);
	c->slashfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->slashfd < 0)
		return diag_set(reterr, -errno, "cannot open /: %s", strerror(errno));
	if (o->quarantine[0] != '/')
		return diag_set(reterr, -EINVAL, "the quarantine must be an absolute path: %s",
				o->quarantine);
	c->lockfd = fs_mkdirs(c->slashfd, o->quarantine + 1, 0700, reterr);
	if (c->lockfd < 0)
		return c->lockfd;
	if (flock(c->lockfd, LOCK_EX | LOCK_NB) < 0)
		return diag_set(reterr, -EBUSY,
				"another drift remedy is running (it holds %s): wait for it",
				o->quarantine);
	if (asprintf(&c->qdir, "%s/%lld", o->quarantine, (long long)run) < 0) {
		c->qdir = NULL;
		return diag_set(reterr, -ENOMEM, "out of memory");
	}
	r = snap_lookup_open(o->db_path, after, &c->after, reterr);
	if (r >= 0)
		r = snap_lookup_open(o->db_path, baseline, &c->base, reterr);
	if (r >= 0)
		r = snap_store_set_durable(o->st, reterr);
	return r;
}

int remedy_apply(const struct remedy_opts *o, const struct remedy_plan *p,
		 struct remedy_result *result, struct diag *reterr)
{
	struct snap_remedy_action *rows = NULL;
	struct strbuf *details = NULL;
	size_t nrows = 0, stale = 0;
	struct ctx c;
	int r;

	memset(result, 0, sizeof(*result));
	r = ctx_open(&c, o, p->run, p->baseline, p->after, result, reterr);
	c.p = p;
	if (r < 0)
		goto out;
	/* Every step against the host first: a stale plan changes nothing. */
	for (size_t i = 0; i < p->n; i++) {
		const struct remedy_step *s = &p->v[i];

		/* A type change: its quarantine step saw the entry; the new one follows. */
		if (!performed(s) ||
		    (i && s->action == REMEDY_CREATE && p->v[i - 1].action == REMEDY_QUARANTINE &&
		     !strcmp(p->v[i - 1].key, s->key)))
			continue;
		r = step_fresh(&c, s);
		if (r == -ESTALE || r == -ELOOP || r == -ENOTDIR) {
			stale++;
			r = report(&c, s, SNAP_REMEDY_SKIPPED, reterr->msg);
			reterr->msg[0] = '\0';
		}
		if (r < 0)
			goto out;
	}
	result->skipped = 0;
	if (stale) {
		r = diag_set(reterr, -ESTALE,
			     "stale plan: %zu of its entries are no longer as run #%lld saw them; "
			     "nothing was changed (check again, then remedy the new run)",
			     stale, (long long)p->run);
		goto out;
	}
	rows = calloc(p->n ? p->n : 1, sizeof(*rows));
	details = calloc(p->n ? p->n : 1, sizeof(*details));
	if (!rows || !details) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct remedy_step *s = &p->v[i];

		strbuf_init(&details[i]);
		if (!performed(s))
			continue;
		r = remedy_step_encode(s, &details[i]);
		if (r < 0) {
			r = diag_set(reterr, r, "out of memory");
			goto out;
		}
		rows[nrows++] = (struct snap_remedy_action){
			.seq = (int64_t)i,
			.kind = s->kind,
			.key = s->key,
			.key_len = s->key_len,
			.action = s->action,
			.state = SNAP_REMEDY_PLANNED,
			.detail = details[i].buf,
		};
	}
	if (!nrows)
		goto out; /* nothing drift performs: no remediation to record */
	r = snap_remedy_begin(o->st, p->run, p->baseline, o->who, o->automatic, c.qdir, rows, nrows,
			      &c.id, reterr);
	if (r < 0)
		goto out;
	result->id = c.id;
	for (size_t i = 0; i < p->n && r >= 0; i++) {
		if (!performed(&p->v[i]))
			continue;
		if (o->stop && *o->stop) {
			r = diag_set(reterr, -ECANCELED,
				     "interrupted: remediation #%lld stopped before its step %zu; "
				     "drift remedy --resume or --undo finishes it",
				     (long long)c.id, i + 1);
			break;
		}
		r = step_run(&c, &p->v[i], i, true);
	}
	if (r >= 0)
		r = snap_remedy_finish(o->st, c.id, reterr);
out:
	for (size_t i = 0; details && i < p->n; i++)
		strbuf_release(&details[i]);
	free(details);
	free(rows);
	ctx_close(&c);
	return r;
}

/* ---- undo and resume ---- */

struct jrow {
	int64_t seq;
	unsigned action;
	enum snap_remedy_state state;
	struct strbuf pre, bytes, post, detail;
	bool has_pre, has_bytes, has_post;
};

struct journal_read {
	struct jrow *v;
	size_t n;
};

static int collect_row(const struct snap_remedy_action *a, void *userdata)
{
	struct journal_read *j = userdata;
	struct jrow *v = realloc(j->v, (j->n + 1) * sizeof(*v)), *row;

	if (!v)
		return -ENOMEM;
	j->v = v;
	row = &v[j->n++];
	memset(row, 0, sizeof(*row));
	strbuf_init(&row->pre);
	strbuf_init(&row->bytes);
	strbuf_init(&row->post);
	strbuf_init(&row->detail);
	row->seq = a->seq;
	row->action = a->action;
	row->state = a->state;
	row->has_pre = a->pre != NULL;
	row->has_bytes = a->bytes != NULL;
	row->has_post = a->post != NULL;
	if ((a->pre && strbuf_add(&row->pre, a->pre, a->pre_len) < 0) ||
	    (a->bytes && strbuf_add(&row->bytes, a->bytes, a->bytes_len) < 0) ||
	    (a->post && strbuf_add(&row->post, a->post, a->post_len) < 0) ||
	    strbuf_adds(&row->detail, a->detail ? a->detail : "") < 0)
		return -ENOMEM;
	return 0;
}

static void journal_release(struct journal_read *j)
{
	for (size_t i = 0; i < j->n; i++) {
		strbuf_release(&j->v[i].pre);
		strbuf_release(&j->v[i].bytes);
		strbuf_release(&j->v[i].post);
		strbuf_release(&j->v[i].detail);
	}
	free(j->v);
	memset(j, 0, sizeof(*j));
}

/* Remediation @id (0: the newest one @want says) and its journal; its plan's steps into @p. */
static int journal_load(const struct remedy_opts *o, int64_t id, bool interrupted,
			struct snap_remedy *rem, struct journal_read *j, struct remedy_plan *p,
			struct diag *reterr)
{
	struct snap_run_info run = { 0 };
	int r;

	memset(p, 0, sizeof(*p));
	if (!id && interrupted) {
		r = remedy_interrupted(o, &id, reterr);
		if (r < 0)
			return r;
		if (!r)
			return diag_set(reterr, -ENOENT, "no interrupted remediation");
	}
	r = snap_remedy_get(o->st, id, rem, reterr);
	if (r < 0)
		return r;
	r = snap_remedy_actions(o->st, rem->id, collect_row, j, reterr);
	if (r == -ENOMEM)
		r = diag_set(reterr, r, "out of memory");
	for (size_t i = 0; r >= 0 && i < j->n; i++) {
		r = remedy_step_decode(p, j->v[i].detail.buf);
		if (r == -ENOMEM)
			r = diag_set(reterr, r, "out of memory");
		else if (r < 0)
			r = diag_set(reterr, -EPROTO, "remediation #%lld: its step %lld is damaged",
				     (long long)rem->id, (long long)j->v[i].seq);
	}
	if (r >= 0) {
		r = snap_run_get(o->st, rem->run, &run, reterr);
		if (r == -ENOENT)
			r = diag_set(reterr, -ENOENT,
				     "remediation #%lld: its run #%lld is gone (pruned)",
				     (long long)rem->id, (long long)rem->run);
	}
	if (r >= 0) {
		struct snap_info base = { 0 };
		char name[32];

		p->run = rem->run;
		p->baseline = rem->baseline;
		p->after = run.after;
		snprintf(name, sizeof(name), "%lld", (long long)rem->baseline);
		r = snap_find(o->st, name, &base, reterr);
		p->algo = base.hash;
		snap_info_release(&base);
	}
	snap_run_info_release(&run);
	return r;
}

int remedy_interrupted(const struct remedy_opts *o, int64_t *ret_id, struct diag *reterr)
{
	struct snap_remedy rem = { 0 };
	int r;

	*ret_id = 0;
	r = snap_remedy_get(o->st, 0, &rem, reterr);
	if (r == -ENOENT || r == -EPROTO) {
		reterr->msg[0] = '\0';
		return 0;
	}
	if (r < 0)
		return r;
	if (!rem.finished_ns && !rem.undone_ns) {
		/* Running now holds the lock of its quarantine. */
		int fd = open(o->quarantine, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		bool running = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0;

		if (fd >= 0)
			close(fd);
		if (!running)
			*ret_id = rem.id;
	}
	snap_remedy_release(&rem);
	return *ret_id ? 1 : 0;
}

/* Journal row @row again, as @state, with its images and @post (NULL: none). */
static int rejournal(struct ctx *c, const struct jrow *row, enum snap_remedy_state state,
		     const struct strbuf *post)
{
	const struct remedy_step *s = &c->p->v[row - c->rows];
	struct snap_remedy_action a = {
		.seq = row->seq,
		.kind = s->kind,
		.key = s->key,
		.key_len = s->key_len,
		.action = row->action,
		.state = state,
		.detail = row->detail.buf,
		.pre = row->has_pre ? row->pre.buf : NULL,
		.pre_len = row->pre.len,
		.bytes = row->has_bytes ? row->bytes.buf : NULL,
		.bytes_len = row->bytes.len,
		.post = post ? post->buf : NULL,
		.post_len = post ? post->len : 0,
	};

	return snap_remedy_action_put(c->o->st, c->id, &a, c->reterr);
}

/* Decode the image @blob of a journal row into @buf; NULL when there is none. */
static const struct entry *image(const struct strbuf *blob, bool has, struct snap_entry_buf *buf)
{
	const struct entry *e = NULL;

	if (!has || snap_entry_decode(blob->buf, blob->len, buf, &e) < 0)
		return NULL;
	return e;
}

/* Whether the host's @l is the object @img describes (same inode, same kind). */
static bool same_object(const struct live *l, const struct entry *img)
{
	return l->present && img && l->e.st.st_ino == img->ino && l->e.st.st_dev == img->dev &&
	       (l->e.st.st_mode & S_IFMT) == (img->mode & S_IFMT);
}

/*
 * Whether the host's @l is still exactly what an action left (@post): the
 * same object, unchanged since: a file or symlink by its ctime, which any
 * write, chmod or chown moves; a directory (whose ctime moves as entries
 * come and go inside) by its owner and mode.
 */
static bool as_left(const struct live *l, const struct entry *post)
{
	if (!same_object(l, post))
		return false;
	if (S_ISDIR(post->mode))
		return l->ent.mode == post->mode && l->ent.uid == post->uid &&
		       l->ent.gid == post->gid;
	return l->ent.ctime_ns == post->ctime_ns && l->ent.mode == post->mode &&
	       l->ent.uid == post->uid && l->ent.gid == post->gid && l->ent.size == post->size;
}

/* Whether the host's @l is as the baseline's @base (the inode aside). */
static bool as_baseline(const struct live *l, const struct entry *base)
{
	return l->present && !(live_diff(base, l) & ~ATTR_INODE);
}

/*
 * Reverse journal row @j (step @s): put back its pre-image. Returns 1 when
 * reversed (or nothing had happened), 0 when skipped (said why), or an
 * error.
 */
static int undo_one(struct ctx *c, const struct remedy_step *s, const struct jrow *j)
{
	struct snap_entry_buf pb = { 0 }, qb = { 0 };
	const struct entry *pre = image(&j->pre, j->has_pre, &pb);
	const struct entry *post = image(&j->post, j->has_post, &qb);
	bool done = j->state == SNAP_REMEDY_DONE;
	struct entry base = { 0 };
	struct fs_meta m;
	struct live l = { 0 };
	int r = 0, happened;

	strbuf_reset(&c->msg);
	if (s->kind == ENTRY_SYSCTL) {
		char old[4096];

		if (pre && prop_value(pre, old, sizeof(old)))
			r = sysctl_io(c, s->key, old, NULL, 0);
		goto out;
	}
	if (s->action != REMEDY_QUARANTINE) {
		r = side_get(c, c->base, s, &base);
		if (r < 0)
			goto out;
	}
	r = live_open(c, s->key, s->key_len, s->action == REMEDY_META ? HASH_NONE : base.hash_algo,
		      (base.collected & (ATTR_XATTRS | ATTR_ACL | ATTR_CAPS)) != 0, &l);
	if (r < 0)
		goto out;
	/* What a crash left of this step (or of an earlier undo of it) goes first. */
	tag_path(c, (size_t)j->seq, &l, true);
	if (s->action == REMEDY_QUARANTINE) {
		struct fs_path q = { .dirfd = -1 };
		struct fs_entry qe;

		/* Not moved (a crash before the rename): nothing to put back. */
		if (same_object(&l, pre)) {
			r = 1;
			goto out;
		}
		r = quarantine_path(c, c->qdir, s->key, &q);
		if (r >= 0)
			r = fs_entry_open(&q, &qe, c->reterr);
		if (r >= 0) {
			if (l.present)
				r = strbuf_addf(&c->msg,
						"%s exists again: the quarantined one stays "
						"in %s%s",
						s->key, c->qdir, s->key);
			else if (pre && (qe.st.st_ino != pre->ino || qe.st.st_dev != pre->dev) &&
				 (!post || qe.st.st_ino != post->ino))
				r = strbuf_addf(&c->msg,
						"%s%s is not the file that was quarantined",
						c->qdir, s->key);
			else
				r = fs_move(&q, &l.p, &qe.st, c->reterr);
			fs_entry_close(&qe);
		}
		fs_path_release(&q);
		goto out;
	}
	/* What the action left, or for a started one whether it happened at all. */
	happened = done ? as_left(&l, post) : !same_object(&l, pre) && as_baseline(&l, &base);
	if (done && !happened) {
		r = strbuf_addf(&c->msg, "%s changed since it was restored: left as it is", s->key);
		goto out;
	}
	if (!done && !happened) {
		if (s->action == REMEDY_META && l.present && pre) {
			/* A metadata change may have half happened: set the old values back. */
			meta_of(pre, &m);
			r = fs_meta_apply(&l.p, &l.e, &m,
					  meta_attrs(&m, s->attrs | ATTR_MODE | ATTR_MTIME),
					  c->reterr);
			r = r < 0 ? r : 1;
		} else {
			r = 1; /* nothing happened */
		}
		goto out;
	}
	if (s->action == REMEDY_META) {
		meta_of(pre, &m);
		r = fs_meta_apply(&l.p, &l.e, &m, meta_attrs(&m, s->attrs | ATTR_MODE | ATTR_MTIME),
				  c->reterr);
	} else if (s->action == REMEDY_CREATE) {
		/* Nothing was there: what drift made goes (a directory only when empty). */
		r = fs_remove(&l.p, &l.e.st, c->reterr);
	} else if (!pre) {
		r = diag_set(c->reterr, -EPROTO, "no pre-image of %s in the journal", s->key);
	} else if ((r = put_back(c, (size_t)j->seq, pre, &l)) != 0) {
		/* The very inode it replaced (or an error): nothing more to do. */
	} else if (S_ISLNK(pre->mode)) {
		meta_of(pre, &m);
		r = fs_make_symlink(&l.p, pre->target, pre->target_len, &m, FS_PLACE_REPLACE, NULL,
				    c->reterr);
	} else if (S_ISREG(pre->mode) && j->has_bytes) {
		meta_of(pre, &m);
		r = fs_write_file(&l.p, (const uint8_t *)j->bytes.buf, j->bytes.len, &m,
				  FS_PLACE_REPLACE, NULL, c->reterr);
	} else {
		r = diag_set(c->reterr, -EPROTO, "no bytes of %s kept aside in the journal",
			     s->key);
	}
out:
	live_close(&l);
	snap_entry_buf_release(&pb);
	snap_entry_buf_release(&qb);
	if (r >= 0 && c->msg.len)
		return 0;
	return r < 0 ? r : 1;
}

/* ctx_open() for the remediation @rem of journal @j and plan @p (undo, resume). */
static int ctx_open_journal(struct ctx *c, const struct remedy_opts *o,
			    const struct snap_remedy *rem, const struct journal_read *j,
			    const struct remedy_plan *p, struct remedy_result *result,
			    struct diag *reterr)
{
	int r = ctx_open(c, o, p->run, p->baseline, p->after ? p->after : p->baseline, result,
			 reterr);

	if (r < 0)
		return r;
	c->p = p;
	c->id = rem->id;
	c->rows = j->v;
	result->id = rem->id;
	free(c->qdir);
	c->qdir = strdup(rem->quarantine);
	return c->qdir ? 0 : diag_set(reterr, -ENOMEM, "out of memory");
}

int remedy_undo(const struct remedy_opts *o, int64_t id, struct remedy_result *result,
		struct diag *reterr)
{
	struct snap_remedy rem = { 0 };
	struct journal_read j = { 0 };
	struct remedy_plan p = { 0 };
	struct ctx c;
	uint64_t left = 0;
	int r;

	memset(result, 0, sizeof(*result));
	memset(&c, 0, sizeof(c));
	c.slashfd = c.lockfd = -1;
	r = journal_load(o, id, false, &rem, &j, &p, reterr);
	if (r >= 0 && rem.undone_ns)
		r = diag_set(reterr, -EALREADY, "remediation #%lld was undone already (by %s)",
			     (long long)rem.id, rem.undone_by ? rem.undone_by : "?");
	if (r >= 0)
		r = ctx_open_journal(&c, o, &rem, &j, &p, result, reterr);
	if (r < 0)
		goto out;
	for (size_t i = j.n; i-- > 0 && r >= 0;) {
		const struct remedy_step *s = &p.v[i];
		struct jrow *row = &j.v[i];
		char error[1024];

		if (row->state != SNAP_REMEDY_DONE && row->state != SNAP_REMEDY_STARTED &&
		    row->state != SNAP_REMEDY_FAILED)
			continue;
		r = undo_one(&c, s, row);
		if (r < 0 && r != -ENOMEM && r != -EIO) {
			/* This entry's problem: it stays as it is, the others go on. */
			snprintf(error, sizeof(error), "%s", reterr->msg);
			reterr->msg[0] = '\0';
			left++;
			r = report(&c, s, SNAP_REMEDY_SKIPPED, error);
			continue;
		}
		if (r == 0) {
			left++;
			r = report(&c, s, SNAP_REMEDY_SKIPPED, c.msg.buf);
			continue;
		}
		if (r < 0)
			break;
		r = rejournal(&c, row, SNAP_REMEDY_UNDONE, row->has_post ? &row->post : NULL);
		if (r >= 0)
			r = report(&c, s, SNAP_REMEDY_UNDONE, NULL);
	}
	if (r >= 0 && !left)
		r = snap_remedy_set_undone(o->st, rem.id, o->who, reterr);
	if (r >= 0 && left)
		r = diag_set(reterr, -EAGAIN,
			     "remediation #%lld: %llu of its actions could not be undone (see "
			     "above); the rest were",
			     (long long)rem.id, (unsigned long long)left);
out:
	ctx_close(&c);
	remedy_plan_release(&p);
	journal_release(&j);
	snap_remedy_release(&rem);
	return r;
}

int remedy_resume(const struct remedy_opts *o, int64_t id, struct remedy_result *result,
		  struct diag *reterr)
{
	struct snap_remedy rem = { 0 };
	struct journal_read j = { 0 };
	struct remedy_plan p = { 0 };
	struct ctx c;
	int r;

	memset(result, 0, sizeof(*result));
	memset(&c, 0, sizeof(c));
	c.slashfd = c.lockfd = -1;
	r = journal_load(o, id, true, &rem, &j, &p, reterr);
	if (r >= 0 && (rem.finished_ns || rem.undone_ns))
		r = diag_set(reterr, -EALREADY, "remediation #%lld is not interrupted: it %s",
			     (long long)rem.id, rem.undone_ns ? "was undone" : "finished");
	if (r >= 0)
		r = ctx_open_journal(&c, o, &rem, &j, &p, result, reterr);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < j.n && r >= 0; i++) {
		const struct remedy_step *s = &p.v[i];
		struct jrow *row = &j.v[i];
		struct snap_entry_buf pb = { 0 };
		const struct entry *pre;
		struct entry base = { 0 };
		struct live l = { 0 };
		bool restored = false, before = false;

		if (o->stop && *o->stop) {
			r = diag_set(reterr, -ECANCELED, "interrupted again: resume it once more");
			break;
		}
		if (row->state == SNAP_REMEDY_PLANNED) {
			r = step_run(&c, s, (size_t)row->seq, false);
			continue;
		}
		if (row->state != SNAP_REMEDY_STARTED)
			continue;
		/* The action the crash interrupted: did it happen? */
		pre = image(&row->pre, row->has_pre, &pb);
		if (s->kind == ENTRY_SYSCTL) {
			before = true; /* writing a value again is harmless */
		} else {
			if (s->action != REMEDY_QUARANTINE)
				r = side_get(&c, c.base, s, &base);
			if (r >= 0)
				r = live_open(&c, s->key, s->key_len, base.hash_algo,
					      (base.collected &
					       (ATTR_XATTRS | ATTR_ACL | ATTR_CAPS)) != 0,
					      &l);
			if (r >= 0)
				tag_path(&c, (size_t)row->seq, &l, true);
			if (r >= 0) {
				before = pre ? same_object(&l, pre) && !(s->action == REMEDY_META &&
									 as_baseline(&l, &base))
					     : !l.present;
				restored = s->action == REMEDY_QUARANTINE ? !l.present
									  : as_baseline(&l, &base);
			}
		}
		live_close(&l);
		snap_entry_buf_release(&pb);
		if (r < 0)
			break;
		if (before) {
			r = step_run(&c, s, (size_t)row->seq, true);
		} else if (restored) {
			struct strbuf post = STRBUF_INIT;

			if (s->action == REMEDY_QUARANTINE) {
				struct fs_path q = { .dirfd = -1 };

				r = quarantine_path(&c, c.qdir, s->key, &q);
				if (r >= 0)
					r = post_image(&c, s->key, s->key_len, &q, &post);
				fs_path_release(&q);
			} else {
				r = post_image(&c, s->key, s->key_len, NULL, &post);
			}
			if (r >= 0)
				r = rejournal(&c, row, SNAP_REMEDY_DONE, &post);
			strbuf_release(&post);
			if (r >= 0)
				r = report(&c, s, SNAP_REMEDY_DONE,
					   "had happened before the crash");
		} else {
			char error[512];

			snprintf(error, sizeof(error),
				 "%s is neither as before nor as restored: left as it is", s->key);
			r = journal(&c, s, (size_t)row->seq, SNAP_REMEDY_SKIPPED,
				    row->has_pre ? &row->pre : NULL, NULL, 0, NULL, error);
			if (r >= 0)
				r = report(&c, s, SNAP_REMEDY_SKIPPED, error);
		}
	}
	if (r >= 0)
		r = snap_remedy_finish(o->st, rem.id, reterr);
out:
	ctx_close(&c);
	remedy_plan_release(&p);
	journal_release(&j);
	snap_remedy_release(&rem);
	return r;
}
