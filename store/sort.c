/*
 * The writer's sorter: entries come from the walker close to key order but
 * not in it (siblings such as "/a-b" come after the subtree of "/a", and
 * two walker threads interleave their batches), while blocks and the merge
 * with a parent snapshot want (kind, key) order. So snap_writer_add()
 * appends each entry, encoded as a canonical record (block.c; about 100
 * bytes for a /usr file), to an arena; when the arena passes SORT_SPILL
 * bytes it is sorted and written out as a run to an unlinked temporary
 * file beside the database (never in memory beyond SORT_SPILL: a 1M-file
 * tree makes about six runs), and the end merges the runs and the last
 * arena. glibc's qsort is a merge sort: nearly sorted input costs little.
 *
 * Loose record: u32 length (host order), u8 kind, the canonical record.
 */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/banned.h"

#define SORT_SPILL      ((size_t)16 << 20)
#define SORT_RUN_BUFFER ((size_t)256 << 10)

struct sort_ref {
	const uint8_t *rec; /* the loose record */
	const char *key;
	uint32_t key_len;
	uint8_t kind;
};

/* A run on disk, read through a buffer. */
struct sort_run {
	off_t off, end; /* the run's bytes in the file, and how far it was read */
	struct strbuf buf;
	size_t pos;
	/* The current record, decoded. */
	const uint8_t *rec;
	size_t rec_len;
	const char *key;
	uint32_t key_len;
	uint8_t kind;
	bool eof;
};

struct snap_sorter {
	char *dir;
	int fd; /* the runs; -1 until the first spill */
	off_t file_len;
	struct strbuf arena;
	struct sort_ref *refs;
	size_t nrefs, cap;
	struct sort_run *runs;
	size_t nruns;
	/* Merging: the in-memory run is runs[nruns] conceptually (refs[mem_i...]). */
	size_t mem_i;
	bool merging;
	struct entry e;
	struct snap_rec_prev pv;
	struct strbuf last; /* the previous key handed out, for duplicates */
	int last_kind;
	enum hash_algo algo; /* the snapshot's: every hashed entry has it */
	uint64_t count;
};

/* Key of a loose record at @p (@len bytes after the length): kind, key. */
static int loose_key(const uint8_t *p, size_t len, uint8_t *ret_kind, const char **ret_key,
		     uint32_t *ret_len)
{
	size_t pos = 2; /* kind, tag */
	uint64_t slen = 0;
	unsigned shift = 0;

	if (len < 4)
		return -EPROTO;
	*ret_kind = p[0];
	/* shared: always 0 in a canonical record, one byte. */
	if (p[pos++] != 0)
		return -EPROTO;
	for (;;) {
		uint8_t c;

		if (pos >= len || shift > 35)
			return -EPROTO;
		c = p[pos++];
		slen |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
		if (!(c & 0x80))
			break;
	}
	if (slen > len - pos)
		return -EPROTO;
	*ret_key = (const char *)p + pos;
	*ret_len = (uint32_t)slen;
	return 0;
}

static int ref_cmp(const void *a, const void *b)
{
	const struct sort_ref *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return snap_key_compare(x->key, x->key_len, y->key, y->key_len);
}

int snap_sorter_new(const char *db_path, enum hash_algo algo, struct snap_sorter **ret,
		    struct diag *reterr)
{
	struct snap_sorter *s = calloc(1, sizeof(*s));
	const char *slash = db_path ? strrchr(db_path, '/') : NULL;

	if (!s)
		return diag_set(reterr, -ENOMEM, "out of memory");
	s->fd = -1;
	s->algo = algo;
	strbuf_init(&s->arena);
	strbuf_init(&s->pv.key);
	strbuf_init(&s->last);
	s->last_kind = -1;
	if (slash)
		s->dir = strndup(db_path, slash == db_path ? 1 : (size_t)(slash - db_path));
	else
		s->dir = strdup(".");
	if (!s->dir) {
		free(s);
		return diag_set(reterr, -ENOMEM, "out of memory");
	}
	*ret = s;
	return 0;
}

void snap_sorter_free(struct snap_sorter *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	for (size_t i = 0; i < s->nruns; i++)
		strbuf_release(&s->runs[i].buf);
	free(s->runs);
	free(s->refs);
	strbuf_release(&s->arena);
	strbuf_release(&s->pv.key);
	strbuf_release(&s->last);
	free(s->dir);
	free(s);
}

/* Index and sort the arena's records. */
static int sort_arena(struct snap_sorter *s, struct diag *reterr)
{
	size_t pos = 0;

	s->nrefs = 0;
	while (pos < s->arena.len) {
		uint32_t len;
		struct sort_ref *ref;

		memcpy(&len, s->arena.buf + pos, sizeof(len));
		pos += sizeof(len);
		if (s->nrefs == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 4096;
			struct sort_ref *v = realloc(s->refs, cap * sizeof(*v));

			if (!v)
				return diag_set(reterr, -ENOMEM, "out of memory");
			s->refs = v;
			s->cap = cap;
		}
		ref = &s->refs[s->nrefs++];
		ref->rec = (const uint8_t *)s->arena.buf + pos;
		if (loose_key(ref->rec, len, &ref->kind, &ref->key, &ref->key_len) < 0)
			return diag_set(reterr, -EIO, "the writer's sort buffer is damaged");
		pos += len;
	}
	if (s->nrefs) /* refs is NULL for an empty arena: qsort's argument is nonnull */
		qsort(s->refs, s->nrefs, sizeof(*s->refs), ref_cmp);
	return 0;
}

static int open_spill(struct snap_sorter *s, struct diag *reterr)
{
	s->fd = open(s->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->fd < 0) {
		/* No O_TMPFILE on this filesystem: a named file, unlinked at once. */
		struct strbuf path = STRBUF_INIT;

		if (strbuf_addf(&path, "%s/.drift-sort-XXXXXX", s->dir) < 0)
			return diag_set(reterr, -ENOMEM, "out of memory");
		s->fd = mkostemp(path.buf, O_CLOEXEC);
		if (s->fd >= 0)
			unlink(path.buf);
		strbuf_release(&path);
	}
	if (s->fd < 0)
		return diag_set(reterr, -errno, "cannot create a temporary file in '%s': %s",
				s->dir, strerror(errno));
	return 0;
}

static int write_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Sort the arena and write it out as one more run. */
static int spill(struct snap_sorter *s, struct diag *reterr)
{
	struct strbuf out = STRBUF_INIT;
	struct sort_run *runs;
	off_t start = s->file_len;
	int r;

	r = sort_arena(s, reterr);
	if (r < 0)
		return r;
	if (s->fd < 0) {
		r = open_spill(s, reterr);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->nrefs; i++) {
		const uint8_t *len_p = s->refs[i].rec - sizeof(uint32_t);
		uint32_t len;

		memcpy(&len, len_p, sizeof(len));
		if (strbuf_add(&out, len_p, sizeof(len) + len) < 0) {
			strbuf_release(&out);
			return diag_set(reterr, -ENOMEM, "out of memory");
		}
		if (out.len >= SORT_RUN_BUFFER || i + 1 == s->nrefs) {
			r = write_all(s->fd, out.buf, out.len, s->file_len);
			if (r < 0) {
				strbuf_release(&out);
				return diag_set(reterr, r,
						"cannot write a temporary file in '%s': %s", s->dir,
						strerror(-r));
			}
			s->file_len += (off_t)out.len;
			strbuf_reset(&out);
		}
	}
	strbuf_release(&out);
	runs = realloc(s->runs, (s->nruns + 1) * sizeof(*runs));
	if (!runs)
		return diag_set(reterr, -ENOMEM, "out of memory");
	s->runs = runs;
	memset(&s->runs[s->nruns], 0, sizeof(s->runs[0]));
	s->runs[s->nruns].off = start;
	s->runs[s->nruns].end = s->file_len;
	strbuf_init(&s->runs[s->nruns].buf);
	s->nruns++;
	strbuf_reset(&s->arena);
	s->nrefs = 0;
	return 0;
}

int snap_sorter_add(struct snap_sorter *s, const struct entry *e, struct strbuf *ext,
		    struct diag *reterr)
{
	size_t at = s->arena.len;
	uint32_t len;

	if (s->arena.len >= SORT_SPILL) {
		int r = spill(s, reterr);

		if (r < 0)
			return r;
		at = 0;
	}
	if (strbuf_add(&s->arena, "\0\0\0\0", 4) < 0 ||
	    strbuf_addch(&s->arena, (char)e->kind) < 0 ||
	    snap_rec_encode(&s->arena, e, false, NULL, ext) < 0) {
		strbuf_setlen(&s->arena, at);
		return diag_set(reterr, -ENOMEM, "out of memory");
	}
	if (s->arena.len - at - 4 > UINT32_MAX) {
		strbuf_setlen(&s->arena, at);
		return diag_set(reterr, -EINVAL, "entry too large");
	}
	len = (uint32_t)(s->arena.len - at - 4);
	memcpy(s->arena.buf + at, &len, sizeof(len));
	s->count++;
	return 0;
}

/* Read the next record of run @rn into rn->rec. */
static int run_next(struct snap_sorter *s, struct sort_run *rn, struct diag *reterr)
{
	uint32_t len;

	for (;;) {
		size_t avail = rn->buf.len - rn->pos;

		if (avail >= sizeof(len)) {
			memcpy(&len, rn->buf.buf + rn->pos, sizeof(len));
			if (avail >= sizeof(len) + len) {
				rn->rec = (const uint8_t *)rn->buf.buf + rn->pos + sizeof(len);
				rn->rec_len = len;
				rn->pos += sizeof(len) + len;
				if (loose_key(rn->rec, len, &rn->kind, &rn->key, &rn->key_len) < 0)
					return diag_set(reterr, -EIO,
							"a temporary sort file is damaged");
				return 0;
			}
		}
		if (rn->off >= rn->end) {
			if (avail)
				return diag_set(reterr, -EIO, "a temporary sort file is truncated");
			rn->eof = true;
			return 0;
		}
		/* Refill: keep the partial record, read more. */
		{
			size_t want = SORT_RUN_BUFFER;
			ssize_t n;

			memmove(rn->buf.buf, rn->buf.buf + rn->pos, avail);
			strbuf_setlen(&rn->buf, avail);
			rn->pos = 0;
			if (avail >= sizeof(len) && len + sizeof(len) > want)
				want = len + sizeof(len);
			if ((off_t)want > rn->end - rn->off)
				want = (size_t)(rn->end - rn->off);
			if (strbuf_grow(&rn->buf, want) < 0)
				return diag_set(reterr, -ENOMEM, "out of memory");
			do
				n = pread(s->fd, rn->buf.buf + avail, want, rn->off);
			while (n < 0 && errno == EINTR);
			if (n <= 0)
				return diag_set(reterr, n < 0 ? -errno : -EIO,
						"cannot read a temporary sort file: %s",
						n < 0 ? strerror(errno) : "short read");
			rn->off += n;
			strbuf_setlen(&rn->buf, avail + (size_t)n);
		}
	}
}

int snap_sorter_finish(struct snap_sorter *s, struct diag *reterr)
{
	int r = sort_arena(s, reterr);

	if (r < 0)
		return r;
	for (size_t i = 0; i < s->nruns; i++) {
		r = run_next(s, &s->runs[i], reterr);
		if (r < 0)
			return r;
	}
	s->merging = true;
	s->mem_i = 0;
	return 0;
}

int snap_sorter_step(struct snap_sorter *s, struct diag *reterr);

int snap_sorter_next(struct snap_sorter *s, const struct entry **ret, struct diag *reterr)
{
	struct sort_run *best = NULL;
	const uint8_t *rec = NULL;
	size_t rec_len = 0, pos = 0;
	const char *key = NULL;
	uint32_t key_len = 0;
	int kind = -1;
	bool tomb;
	int r;

	r = snap_sorter_step(s, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->nruns; i++) {
		struct sort_run *rn = &s->runs[i];

		if (rn->eof)
			continue;
		if (!rec || rn->kind < kind ||
		    (rn->kind == kind &&
		     snap_key_compare(rn->key, rn->key_len, key, key_len) < 0)) {
			best = rn;
			rec = rn->rec;
			rec_len = rn->rec_len;
			kind = rn->kind;
			key = rn->key;
			key_len = rn->key_len;
		}
	}
	if (s->mem_i < s->nrefs) {
		const struct sort_ref *ref = &s->refs[s->mem_i];

		if (!rec || ref->kind < kind ||
		    (ref->kind == kind &&
		     snap_key_compare(ref->key, ref->key_len, key, key_len) < 0)) {
			best = NULL;
			rec = ref->rec;
			memcpy(&key_len, ref->rec - sizeof(uint32_t), sizeof(key_len));
			rec_len = key_len;
			kind = ref->kind;
			key = ref->key;
			key_len = ref->key_len;
		}
	}
	if (!rec)
		return 0;

	if (kind == s->last_kind && s->last.len == key_len && !memcmp(s->last.buf, key, key_len))
		return diag_set(reterr, -EINVAL, "duplicate %s key (%u bytes) in a snapshot",
				entry_kind_name((enum entry_kind)kind), (unsigned)key_len);
	strbuf_reset(&s->last);
	if (strbuf_add(&s->last, key, key_len) < 0)
		return diag_set(reterr, -ENOMEM, "out of memory");
	s->last_kind = kind;

	/* Decode (the record stays where it is until the source moves on). */
	memset(&s->e, 0, sizeof(s->e));
	s->e.kind = (enum entry_kind)kind;
	snap_rec_prev_reset(&s->pv);
	pos = 1;
	r = snap_rec_decode(rec, rec_len, &pos, &s->pv, &s->e, &tomb, NULL);
	if (r == -ENOMEM)
		return diag_set(reterr, r, "out of memory");
	if (r < 0)
		return diag_set(reterr, -EIO, "the writer's sort buffer is damaged");
	s->e.key = s->pv.key.buf;
	if (s->e.hash_len)
		s->e.hash_algo = s->algo;
	*ret = &s->e;

	/* Move the source on (the entry's pointers into a run's buffer stay
	 * valid: a refill happens only in the next call's run_next). */
	if (best) {
		best->rec = NULL;
		/* Deferred: advanced at the next call. */
	} else {
		s->mem_i++;
	}
	return 1;
}

/* Advance runs whose record was handed out (called first in each step). */
int snap_sorter_step(struct snap_sorter *s, struct diag *reterr)
{
	for (size_t i = 0; i < s->nruns; i++) {
		struct sort_run *rn = &s->runs[i];

		if (!rn->eof && !rn->rec) {
			int r = run_next(s, rn, reterr);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

uint64_t snap_sorter_count(const struct snap_sorter *s)
{
	return s->count;
}
