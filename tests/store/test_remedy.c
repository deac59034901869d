#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <time.h>

#include "common/strbuf.h"
#include "util.h"

/*
 * The remediation journal (store/remedy.c): remediations and their actions
 * in and out byte for byte, the counts by state, finish and undo, what
 * compare/ is told was restored, the entry blob codec (and its refusal of
 * damaged blobs), and schema 6 databases: read as they are, migrated when
 * opened for writing.
 */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct snap_store *open_write(const struct tmp *t)
{
	struct snap_store *st = NULL;
	struct diag d = { 0 };

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	return st;
}

static void sql(const char *path, const char *text)
{
	sqlite3 *db = NULL;
	char *err = NULL;
	int rc;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	rc = sqlite3_exec(db, text, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", text, err ? err : "?");
	sqlite3_free(err);
	sqlite3_close(db);
}

static int64_t user_version(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* An action of the plan: seq @seq on @key, in state @state, nothing attached. */
static struct snap_remedy_action action(int64_t seq, const char *key, enum snap_remedy_state state)
{
	struct snap_remedy_action a = { 0 };

	a.seq = seq;
	a.kind = ENTRY_FILE;
	a.key = key;
	a.key_len = strlen(key);
	a.action = 2;
	a.state = state;
	a.detail = "restore-content file modified high";
	return a;
}

/* A copy of one action as read back (the callback's pointers die with it). */
struct got_action {
	struct snap_remedy_action a;
	char *key, *detail, *error;
	void *pre, *bytes, *post;
};

struct got_actions {
	struct got_action v[16];
	size_t n;
};

static void *dup_or_null(const void *p, size_t len)
{
	void *d;

	if (!p)
		return NULL;
	d = malloc(len + 1); /* + 1: an empty blob is a non-NULL copy */
	assert_non_null(d);
	memcpy(d, p, len);
	return d;
}

static int got_action(const struct snap_remedy_action *a, void *userdata)
{
	struct got_actions *g = userdata;
	struct got_action *c;

	assert_true(g->n < 16);
	c = &g->v[g->n++];
	c->a = *a;
	c->key = dup_or_null(a->key, a->key_len);
	c->detail = a->detail ? strdup(a->detail) : NULL;
	c->error = a->error ? strdup(a->error) : NULL;
	c->pre = dup_or_null(a->pre, a->pre_len);
	c->bytes = dup_or_null(a->bytes, a->bytes_len);
	c->post = dup_or_null(a->post, a->post_len);
	c->a.key = c->key;
	c->a.detail = c->detail;
	c->a.error = c->error;
	c->a.pre = c->pre;
	c->a.bytes = c->bytes;
	c->a.post = c->post;
	return 0;
}

static void got_actions_release(struct got_actions *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].key);
		free(g->v[i].detail);
		free(g->v[i].error);
		free(g->v[i].pre);
		free(g->v[i].bytes);
		free(g->v[i].post);
	}
	memset(g, 0, sizeof(*g));
}

static void assert_blob(const void *got, size_t got_len, const void *want, size_t want_len)
{
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_int_equal(got_len, want_len);
	if (want_len)
		assert_memory_equal(got, want, want_len);
}

static void assert_text(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

/* @got is the action @want as written. */
static void assert_action(const struct snap_remedy_action *got,
			  const struct snap_remedy_action *want)
{
	assert_int_equal(got->seq, want->seq);
	assert_int_equal(got->kind, want->kind);
	assert_int_equal(got->key_len, want->key_len);
	assert_memory_equal(got->key, want->key, want->key_len);
	assert_int_equal(got->action, want->action);
	assert_int_equal(got->state, want->state);
	assert_text(got->detail, want->detail);
	assert_blob(got->pre, got->pre_len, want->pre, want->pre_len);
	assert_blob(got->bytes, got->bytes_len, want->bytes, want->bytes_len);
	assert_blob(got->post, got->post_len, want->post, want->post_len);
	assert_text(got->error, want->error);
}

/* The entry blob of a plain file @key with inode @ino, into @out. */
static void encode_file(struct strbuf *out, const char *key, uint64_t ino, uint64_t dev,
			int64_t ctime_ns)
{
	struct entry e = entry_file(key);

	e.ino = ino;
	e.dev = dev;
	e.ctime_ns = ctime_ns;
	strbuf_reset(out);
	assert_int_equal(snap_entry_encode(out, &e), 0);
}

/* ---- remediations and their actions ---- */

static void test_begin_get(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = open_write(t);
	struct snap_remedy_action acts[3] = {
		action(0, "/etc/a", SNAP_REMEDY_PLANNED),
		action(1, "/etc/b", SNAP_REMEDY_PLANNED),
		action(2, "net.ipv4.ip_forward", SNAP_REMEDY_PLANNED),
	};
	struct snap_remedy rem = { 0 };
	struct got_actions g = { 0 };
	struct diag d = { 0 };
	int64_t id = 0, before = now_ns();

	acts[2].kind = ENTRY_SYSCTL;
	acts[2].action = 6;
	acts[2].detail = NULL;
	/* Nothing yet. */
	assert_int_equal(snap_remedy_get(st, 0, &rem, &d), -ENOENT);
	assert_int_equal(snap_remedy_get(st, 1, &rem, &d), -ENOENT);

	assert_int_equal(snap_remedy_begin(st, 11, 5, "alice", true, "/var/q/1", acts, 3, &id, &d),
			 0);
	assert_true(id > 0);
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(snap_remedy_get(st, pass ? 0 : id, &rem, &d), 0);
		assert_int_equal(rem.id, id);
		assert_int_equal(rem.run, 11);
		assert_int_equal(rem.baseline, 5);
		assert_string_equal(rem.who, "alice");
		assert_true(rem.automatic);
		assert_string_equal(rem.quarantine, "/var/q/1");
		assert_int_equal(rem.planned, 3);
		assert_int_equal(rem.planned_left, 3);
		assert_int_equal(rem.started, 0);
		assert_int_equal(rem.done, 0);
		assert_int_equal(rem.failed, 0);
		assert_int_equal(rem.undone, 0);
		assert_int_equal(rem.skipped, 0);
		assert_true(rem.started_ns >= before && rem.started_ns <= now_ns());
		assert_int_equal(rem.finished_ns, 0);
		assert_int_equal(rem.undone_ns, 0);
		assert_null(rem.undone_by);
		snap_remedy_release(&rem);
	}
	/* The planned actions, as written, in plan order. */
	assert_int_equal(snap_remedy_actions(st, id, got_action, &g, &d), 0);
	assert_int_equal(g.n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_action(&g.v[i].a, &acts[i]);
	got_actions_release(&g);

	/* A second one, not automatic: the newest now; the first unchanged. */
	{
		int64_t id2 = 0;

		assert_int_equal(
			snap_remedy_begin(st, 12, 6, "bob", false, "/var/q/2", NULL, 0, &id2, &d),
			0);
		assert_true(id2 > id);
		assert_int_equal(snap_remedy_get(st, 0, &rem, &d), 0);
		assert_int_equal(rem.id, id2);
		assert_false(rem.automatic);
		assert_int_equal(rem.planned, 0);
		assert_int_equal(rem.planned_left, 0);
		snap_remedy_release(&rem);
		assert_int_equal(snap_remedy_actions(st, id2, got_action, &g, &d), 0);
		assert_int_equal(g.n, 0);
		assert_int_equal(snap_remedy_get(st, id, &rem, &d), 0);
		assert_int_equal(rem.planned_left, 3);
		snap_remedy_release(&rem);
	}
	snap_store_free(st);
}

struct list {
	int64_t ids[8];
	size_t n;
};

static int got_remedy(const struct snap_remedy *r, void *userdata)
{
	struct list *l = userdata;

	assert_true(l->n < 8);
	l->ids[l->n++] = r->id;
	return 0;
}

static void test_action_put(void **state)
{
	static const uint8_t replaced[] = { 'o', 'l', 'd', 0, 0xff, '\n' };
	static const char binkey[] = "/etc/bin\xff key\x01";
	struct tmp *t = *state;
	struct snap_store *st = open_write(t);
	struct snap_remedy_action acts[4] = {
		action(0, "/etc/a", SNAP_REMEDY_PLANNED),
		action(1, binkey, SNAP_REMEDY_PLANNED),
		action(2, "/etc/c", SNAP_REMEDY_PLANNED),
		action(3, "/etc/d", SNAP_REMEDY_PLANNED),
	};
	struct strbuf pre = STRBUF_INIT, post = STRBUF_INIT, post2 = STRBUF_INIT;
	struct snap_remedy rem = { 0 };
	struct got_actions g = { 0 };
	struct list l = { 0 };
	struct diag d = { 0 };
	int64_t id = 0;

	encode_file(&pre, "/etc/a", 100, 7, 1000);
	encode_file(&post, "/etc/a", 42, 7, 2000);
	encode_file(&post2, binkey, 43, 7, 3000);
	assert_int_equal(snap_remedy_begin(st, 1, 1, "root", false, "/q", acts, 4, &id, &d), 0);

	/* Started: written before it runs, with its pre-image and the (empty) bytes it replaces. */
	acts[0].state = SNAP_REMEDY_STARTED;
	acts[0].pre = pre.buf;
	acts[0].pre_len = pre.len;
	acts[0].bytes = "";
	acts[0].bytes_len = 0;
	assert_int_equal(snap_remedy_action_put(st, id, &acts[0], &d), 0);
	assert_int_equal(snap_remedy_get(st, id, &rem, &d), 0);
	assert_int_equal(rem.started, 1);
	assert_int_equal(rem.planned_left, 3);
	assert_int_equal(rem.done, 0);
	snap_remedy_release(&rem);
	assert_int_equal(snap_remedy_actions(st, id, got_action, &g, &d), 0);
	assert_int_equal(g.n, 4);
	assert_action(&g.v[0].a, &acts[0]);
	assert_non_null(g.v[0].a.bytes); /* empty, not none */
	assert_int_equal(g.v[0].a.bytes_len, 0);
	assert_null(g.v[0].a.post);
	got_actions_release(&g);

	/* Done: the post-image added (replacing the row, not adding one). */
	acts[0].state = SNAP_REMEDY_DONE;
	acts[0].post = post.buf;
	acts[0].post_len = post.len;
	acts[0].detail = "restore-content file modified high attrs=0 source=kept mode=auto /etc/a";
	assert_int_equal(snap_remedy_action_put(st, id, &acts[0], &d), 0);
	/* A binary key, bytes with a NUL, done. */
	acts[1].state = SNAP_REMEDY_DONE;
	acts[1].bytes = replaced;
	acts[1].bytes_len = sizeof(replaced);
	acts[1].post = post2.buf;
	acts[1].post_len = post2.len;
	assert_int_equal(snap_remedy_action_put(st, id, &acts[1], &d), 0);
	/* Failed, with nothing changed and why. */
	acts[2].state = SNAP_REMEDY_FAILED;
	acts[2].error = "cannot open /etc/c: Permission denied";
	assert_int_equal(snap_remedy_action_put(st, id, &acts[2], &d), 0);
	/* Skipped. */
	acts[3].state = SNAP_REMEDY_SKIPPED;
	acts[3].error = "/etc/d changed since the run";
	assert_int_equal(snap_remedy_action_put(st, id, &acts[3], &d), 0);

	assert_int_equal(snap_remedy_get(st, id, &rem, &d), 0);
	assert_int_equal(rem.planned, 4);
	assert_int_equal(rem.started, 0);
	assert_int_equal(rem.done, 2);
	assert_int_equal(rem.failed, 1);
	assert_int_equal(rem.skipped, 1);
	assert_int_equal(rem.undone, 0);
	assert_int_equal(rem.planned_left, 0);
	snap_remedy_release(&rem);

	assert_int_equal(snap_remedy_actions(st, id, got_action, &g, &d), 0);
	assert_int_equal(g.n, 4);
	for (size_t i = 0; i < 4; i++)
		assert_action(&g.v[i].a, &acts[i]);
	assert_non_null(g.v[0].a.bytes);
	assert_int_equal(g.v[0].a.bytes_len, 0);
	assert_null(g.v[2].a.bytes); /* none: NULL, not empty */
	assert_null(g.v[2].a.pre);
	got_actions_release(&g);

	/* Undone, one by one. */
	acts[1].state = SNAP_REMEDY_UNDONE;
	assert_int_equal(snap_remedy_action_put(st, id, &acts[1], &d), 0);
	assert_int_equal(snap_remedy_get(st, id, &rem, &d), 0);
	assert_int_equal(rem.done, 1);
	assert_int_equal(rem.undone, 1);
	snap_remedy_release(&rem);

	/* Another remediation's actions are its own. */
	{
		int64_t id2 = 0;

		assert_int_equal(
			snap_remedy_begin(st, 2, 1, "root", false, "/q", acts, 1, &id2, &d), 0);
		assert_int_equal(snap_remedy_actions(st, id2, got_action, &g, &d), 0);
		assert_int_equal(g.n, 1);
		assert_action(&g.v[0].a, &acts[0]);
		got_actions_release(&g);
		assert_int_equal(snap_remedy_list(st, got_remedy, &l, &d), 0);
		assert_int_equal(l.n, 2);
		assert_int_equal(l.ids[0], id);
		assert_int_equal(l.ids[1], id2);
	}
	strbuf_release(&pre);
	strbuf_release(&post);
	strbuf_release(&post2);
	snap_store_free(st);
}

static void test_finish_undone(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = open_write(t);
	struct snap_remedy_action a = action(0, "/etc/a", SNAP_REMEDY_PLANNED);
	struct snap_remedy rem = { 0 };
	struct diag d = { 0 };
	int64_t id = 0, t0;

	assert_int_equal(snap_store_set_durable(st, &d), 0);
	assert_int_equal(snap_remedy_begin(st, 3, 2, "alice", false, "/q", &a, 1, &id, &d), 0);
	t0 = now_ns();
	assert_int_equal(snap_remedy_finish(st, id, &d), 0);
	assert_int_equal(snap_remedy_get(st, id, &rem, &d), 0);
	assert_true(rem.finished_ns >= t0 && rem.finished_ns <= now_ns());
	assert_true(rem.finished_ns >= rem.started_ns);
	assert_int_equal(rem.undone_ns, 0);
	assert_null(rem.undone_by);
	snap_remedy_release(&rem);

	t0 = now_ns();
	assert_int_equal(snap_remedy_set_undone(st, id, "bob", &d), 0);
	assert_int_equal(snap_remedy_get(st, 0, &rem, &d), 0);
	assert_int_equal(rem.id, id);
	assert_true(rem.undone_ns >= t0 && rem.undone_ns <= now_ns());
	assert_string_equal(rem.undone_by, "bob");
	assert_true(rem.finished_ns > 0);
	assert_string_equal(rem.who, "alice");
	snap_remedy_release(&rem);

	/* Unknown ids. */
	d.msg[0] = '\0';
	assert_int_equal(snap_remedy_finish(st, id + 100, &d), -ENOENT);
	assert_non_null(strstr(d.msg, "no remediation"));
	assert_int_equal(snap_remedy_set_undone(st, id + 100, "bob", &d), -ENOENT);
	assert_int_equal(snap_remedy_get(st, id + 100, &rem, &d), -ENOENT);
	assert_null(rem.who);
	snap_store_free(st);

	/* Read-only: read, never written. */
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	assert_int_equal(snap_remedy_get(st, id, &rem, &d), 0);
	assert_string_equal(rem.undone_by, "bob");
	snap_remedy_release(&rem);
	assert_int_equal(snap_remedy_finish(st, id, &d), -EROFS);
	assert_int_equal(snap_remedy_begin(st, 3, 2, "alice", false, "/q", &a, 1, &id, &d), -EROFS);
	assert_int_equal(snap_remedy_action_put(st, id, &a, &d), -EROFS);
	snap_store_free(st);
}

static int count_remedy(const struct snap_remedy *r, void *userdata);

/* A remediation whose third planned action cannot be written leaves nothing behind. */
static void test_begin_atomic(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = open_write(t);
	struct snap_remedy_action acts[3] = {
		action(0, "/etc/a", SNAP_REMEDY_PLANNED),
		action(1, "/etc/b", SNAP_REMEDY_PLANNED),
		action(2, "/etc/refused", SNAP_REMEDY_PLANNED),
	};
	struct snap_remedy rem = { 0 };
	struct diag d = { 0 };
	int64_t id = 0;
	int n = 0;

	snap_store_free(st);
	sql(t->db, "CREATE TRIGGER refuse BEFORE INSERT ON remedy_action"
		   " WHEN NEW.seq = 2 BEGIN SELECT RAISE(ABORT, 'refused'); END");
	st = open_write(t);
	assert_true(snap_remedy_begin(st, 1, 1, "root", false, "/q", acts, 3, &id, &d) < 0);
	assert_int_equal(snap_remedy_list(st, count_remedy, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(snap_remedy_get(st, 0, &rem, &d), -ENOENT);
	/* And the store still takes one that can be written. */
	assert_int_equal(snap_remedy_begin(st, 1, 1, "root", false, "/q", acts, 2, &id, &d), 0);
	assert_int_equal(snap_remedy_get(st, 0, &rem, &d), 0);
	assert_int_equal(rem.planned_left, 2);
	snap_remedy_release(&rem);
	snap_store_free(st);
}

/* The keys snap_remedy_restored() gives, as "key/ino" lines. */
static void restored_keys(struct snap_store *st, char *out, size_t cap)
{
	struct got_actions g = { 0 };
	struct snap_entry_buf buf = { 0 };
	struct diag d = { 0 };
	size_t len = 0;

	out[0] = '\0';
	assert_int_equal(snap_remedy_restored(st, got_action, &g, &d), 0);
	for (size_t i = 0; i < g.n; i++) {
		const struct entry *e = NULL;

		assert_int_equal(g.v[i].a.state, SNAP_REMEDY_DONE);
		assert_int_equal(snap_entry_decode(g.v[i].a.post, g.v[i].a.post_len, &buf, &e), 0);
		len += (size_t)snprintf(out + len, cap - len, "%.*s/%llu\n", (int)g.v[i].a.key_len,
					g.v[i].a.key, (unsigned long long)e->ino);
	}
	snap_entry_buf_release(&buf);
	got_actions_release(&g);
}

static void test_restored(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = open_write(t);
	struct snap_remedy_action acts[6];
	struct strbuf blobs[6];
	char got[256];
	struct diag d = { 0 };
	int64_t id1 = 0, id2 = 0, id3 = 0;
	static const char *const keys[] = { "/etc/a", "/etc/b", "/etc/q",
					    "/etc/s", "/etc/u", "/etc/p" };
	static const enum snap_remedy_state states[] = {
		SNAP_REMEDY_DONE,    SNAP_REMEDY_FAILED, SNAP_REMEDY_DONE,
		SNAP_REMEDY_STARTED, SNAP_REMEDY_UNDONE, SNAP_REMEDY_PLANNED,
	};

	/* Nothing journaled: nothing restored. */
	restored_keys(st, got, sizeof(got));
	assert_string_equal(got, "");

	for (size_t i = 0; i < 6; i++) {
		strbuf_init(&blobs[i]);
		encode_file(&blobs[i], keys[i], 40 + i, 7, 1000);
		acts[i] = action((int64_t)i, keys[i], states[i]);
		acts[i].post = blobs[i].buf;
		acts[i].post_len = blobs[i].len;
	}
	acts[2].post = NULL; /* moved into the quarantine: nothing left */
	acts[2].post_len = 0;
	assert_int_equal(snap_remedy_begin(st, 1, 1, "root", false, "/q", acts, 6, &id1, &d), 0);
	restored_keys(st, got, sizeof(got));
	assert_string_equal(got, "/etc/a/40\n");

	/* A second remediation, undone: its actions stand no more. */
	acts[0] = action(0, "/etc/z", SNAP_REMEDY_DONE);
	acts[0].post = blobs[1].buf;
	acts[0].post_len = blobs[1].len;
	assert_int_equal(snap_remedy_begin(st, 2, 1, "root", false, "/q", acts, 1, &id2, &d), 0);
	restored_keys(st, got, sizeof(got));
	assert_string_equal(got, "/etc/a/40\n/etc/z/41\n");
	assert_int_equal(snap_remedy_set_undone(st, id2, "root", &d), 0);
	restored_keys(st, got, sizeof(got));
	assert_string_equal(got, "/etc/a/40\n");

	/* A third: oldest first. */
	acts[0] = action(0, "/etc/0", SNAP_REMEDY_DONE);
	acts[0].post = blobs[3].buf;
	acts[0].post_len = blobs[3].len;
	assert_int_equal(snap_remedy_begin(st, 3, 1, "root", false, "/q", acts, 1, &id3, &d), 0);
	restored_keys(st, got, sizeof(got));
	assert_string_equal(got, "/etc/a/40\n/etc/0/43\n");

	/* The started one, when marked done, joins. */
	acts[0] = action(3, "/etc/s", SNAP_REMEDY_DONE);
	acts[0].post = blobs[3].buf;
	acts[0].post_len = blobs[3].len;
	assert_int_equal(snap_remedy_action_put(st, id1, &acts[0], &d), 0);
	restored_keys(st, got, sizeof(got));
	assert_string_equal(got, "/etc/a/40\n/etc/s/43\n/etc/0/43\n");

	for (size_t i = 0; i < 6; i++)
		strbuf_release(&blobs[i]);
	snap_store_free(st);
}

/* ---- the entry blob ---- */

/* @got is @want, every field. */
static void assert_entry(const struct entry *got, const struct entry *want)
{
	assert_int_equal(got->kind, want->kind);
	assert_int_equal(got->key_len, want->key_len);
	assert_memory_equal(got->key, want->key, want->key_len);
	assert_int_equal(got->key[got->key_len], '\0');
	assert_int_equal(got->mode, want->mode);
	assert_int_equal(got->uid, want->uid);
	assert_int_equal(got->gid, want->gid);
	assert_int_equal(got->size, want->size);
	assert_true(got->mtime_ns == want->mtime_ns);
	assert_true(got->ctime_ns == want->ctime_ns);
	assert_true(got->ino == want->ino);
	assert_true(got->dev == want->dev);
	assert_true(got->nlink == want->nlink);
	assert_true(got->rdev == want->rdev);
	assert_blob(got->target, got->target_len, want->target, want->target_len);
	assert_int_equal(got->hash_algo, want->hash_algo);
	assert_int_equal(got->hash_len, want->hash_len);
	assert_memory_equal(got->hash, want->hash, want->hash_len);
	assert_int_equal(got->err, want->err);
	assert_int_equal(got->flags, want->flags);
	assert_int_equal(got->collected, want->collected);
	if (want->xattrs_len)
		assert_blob(got->xattrs, got->xattrs_len, want->xattrs, want->xattrs_len);
	else
		assert_int_equal(got->xattrs_len, 0);
	assert_text(got->acl, want->acl);
	assert_text(got->caps, want->caps);
	assert_text(got->selinux, want->selinux);
	assert_text(got->mime, want->mime);
	if (want->props_len)
		assert_blob(got->props, got->props_len, want->props, want->props_len);
	else
		assert_int_equal(got->props_len, 0);
	assert_int_equal(got->has_content, want->has_content);
	assert_memory_equal(got->content_id, want->content_id, sizeof(want->content_id));
}

/* A file entry with every field set; @xattrs has room for the blob it points to. */
static struct entry full_file(uint8_t *xattrs, size_t cap)
{
	/* The key is the first 11 bytes only: not NUL-terminated where it ends. */
	static const char key[] = "/etc/passwd-and-more";
	static const uint8_t v1[] = { 1, 0, 2 }, v0[1] = { 0 };
	struct entry e = { 0 };
	size_t len = 0;

	e.kind = ENTRY_FILE;
	e.key = key;
	e.key_len = 11;
	e.mode = S_IFLNK | 0777;
	e.uid = 4000000000u;
	e.gid = 65534;
	e.size = UINT64_C(1) << 40;
	e.mtime_ns = -1234567890123456789LL; /* before 1970 */
	e.ctime_ns = INT64_MAX;
	e.ino = UINT64_MAX - 1;
	e.dev = UINT64_C(0x0000012300000045);
	e.nlink = 3;
	e.target = "../target with space\x01\xff";
	e.target_len = strlen(e.target);
	e.hash_algo = HASH_SHA256;
	e.hash_len = 32;
	for (unsigned i = 0; i < 32; i++)
		e.hash[i] = (uint8_t)(0xa0 + i);
	e.err = EACCES;
	e.flags = ENTRY_CHANGED_WHILE_READ;
	e.collected = ATTR_XATTRS | ATTR_ACL | ATTR_CAPS | ATTR_SELINUX | ATTR_MIME;
	assert_true(cap >= entry_xattrs_pair_size(6, 0) + entry_xattrs_pair_size(8, 3));
	len += entry_xattrs_put(xattrs + len, "user.a", 6, v0, 0);
	len += entry_xattrs_put(xattrs + len, "user.bin", 8, v1, sizeof(v1));
	assert_int_equal(entry_xattrs_check(xattrs, len), 0);
	e.xattrs = xattrs;
	e.xattrs_len = len;
	e.acl = "u::rwx,u:1000:r-x,g::r-x,m::r-x,o::r-x";
	e.caps = "cap_net_raw=ep";
	e.selinux = "system_u:object_r:etc_t:s0";
	e.mime = "text/plain";
	e.has_content = true;
	for (unsigned i = 0; i < 32; i++)
		e.content_id[i] = (uint8_t)(i * 7 + 1);
	return e;
}

static void test_entry_codec(void **state)
{
	uint8_t xattrs[64];
	struct entry file = full_file(xattrs, sizeof(xattrs));
	struct entry sysctl = { 0 }, dev = entry_file("/dev/null"), plain = entry_file("/etc/a");
	struct entry_prop props[2] = {
		{ "value", "1", 1 },
		{ "empty", "", 0 },
	};
	struct strbuf blob = STRBUF_INIT, pblob = STRBUF_INIT;
	struct snap_entry_buf buf = { 0 };
	const struct entry *e = NULL;

	(void)state;
	assert_int_equal(snap_entry_encode(&blob, &file), 0);
	assert_int_equal(snap_entry_decode(blob.buf, blob.len, &buf, &e), 0);
	assert_entry(e, &file);

	/* Appends: a second blob after the first decodes alike. */
	{
		size_t first = blob.len;

		assert_int_equal(snap_entry_encode(&blob, &file), 0);
		assert_int_equal(blob.len, 2 * first);
		assert_memory_equal(blob.buf, blob.buf + first, first);
		strbuf_setlen(&blob, first);
	}

	/* A sysctl with properties, into the same buffer: nothing of the file is left. */
	sysctl.kind = ENTRY_SYSCTL;
	sysctl.key = "net.ipv4.ip_forward";
	sysctl.key_len = strlen(sysctl.key);
	assert_int_equal(entry_props_encode(&pblob, props, 2), 0);
	sysctl.props = (const uint8_t *)pblob.buf;
	sysctl.props_len = pblob.len;
	sysctl.collected = ATTR_PROPS; /* what the store reports for a probe's entry */
	strbuf_reset(&blob);
	assert_int_equal(snap_entry_encode(&blob, &sysctl), 0);
	assert_int_equal(snap_entry_decode(blob.buf, blob.len, &buf, &e), 0);
	assert_entry(e, &sysctl);
	{
		const uint8_t *v = NULL;
		size_t vl = 0;

		assert_int_equal(entry_xattrs_get(e->props, e->props_len, "value", &v, &vl), 1);
		assert_int_equal(vl, 1);
		assert_memory_equal(v, "1", 1);
	}

	/* A device keeps its number; a plain file, unhashed, with nothing optional. */
	dev.mode = S_IFCHR | 0666;
	dev.rdev = UINT64_C(0x103);
	strbuf_reset(&blob);
	assert_int_equal(snap_entry_encode(&blob, &dev), 0);
	assert_int_equal(snap_entry_decode(blob.buf, blob.len, &buf, &e), 0);
	assert_entry(e, &dev);
	strbuf_reset(&blob);
	assert_int_equal(snap_entry_encode(&blob, &plain), 0);
	assert_int_equal(snap_entry_decode(blob.buf, blob.len, &buf, &e), 0);
	assert_entry(e, &plain);
	assert_null(e->target);

	snap_entry_buf_release(&buf);
	strbuf_release(&blob);
	strbuf_release(&pblob);
}

static int decode_copy(const void *p, size_t len, struct snap_entry_buf *buf)
{
	/* An exact-size copy, so that ASan sees any read past its end. */
	uint8_t *c = malloc(len ? len : 1);
	const struct entry *e = NULL;
	int r;

	assert_non_null(c);
	if (len)
		memcpy(c, p, len);
	r = snap_entry_decode(c, len, buf, &e);
	if (r == 0) {
		assert_non_null(e);
		assert_int_equal(e->key[e->key_len], '\0');
	}
	free(c);
	return r;
}

static void test_entry_codec_damaged(void **state)
{
	uint8_t xattrs[64];
	struct entry file = full_file(xattrs, sizeof(xattrs));
	struct strbuf blob = STRBUF_INIT, bad = STRBUF_INIT;
	struct snap_entry_buf buf = { 0 };
	const struct entry *e = NULL;
	uint8_t *p;

	(void)state;
	assert_int_equal(snap_entry_encode(&blob, &file), 0);
	assert_int_equal(decode_copy(blob.buf, blob.len, &buf), 0);

	/* None, and every truncation. */
	assert_int_equal(snap_entry_decode(NULL, 0, &buf, &e), -EPROTO);
	for (size_t len = 0; len < blob.len; len++)
		assert_int_equal(decode_copy(blob.buf, len, &buf), -EPROTO);

	/* The format byte, the kind. */
	p = (uint8_t *)blob.buf;
	for (unsigned v = 0; v < 256; v++) {
		uint8_t save = p[0];

		if (v == 1)
			continue;
		p[0] = (uint8_t)v;
		assert_int_equal(decode_copy(blob.buf, blob.len, &buf), -EPROTO);
		p[0] = save;
	}
	{
		uint8_t save = p[1];

		p[1] = 0;
		assert_int_equal(decode_copy(blob.buf, blob.len, &buf), -EPROTO);
		p[1] = ENTRY__KIND_MAX + 1;
		assert_int_equal(decode_copy(blob.buf, blob.len, &buf), -EPROTO);
		p[1] = 0xff;
		assert_int_equal(decode_copy(blob.buf, blob.len, &buf), -EPROTO);
		p[1] = save;
	}
	/* Trailing garbage: one byte, or a whole second entry. */
	strbuf_reset(&bad);
	assert_int_equal(strbuf_add(&bad, blob.buf, blob.len), 0);
	assert_int_equal(strbuf_addch(&bad, 0), 0);
	assert_int_equal(decode_copy(bad.buf, bad.len, &buf), -EPROTO);
	strbuf_setlen(&bad, blob.len);
	assert_int_equal(snap_entry_encode(&bad, &file), 0);
	assert_int_equal(decode_copy(bad.buf, bad.len, &buf), -EPROTO);

	/* Any byte changed: decoded or refused, never a crash nor a read past the end. */
	for (size_t i = 0; i < blob.len; i++) {
		static const uint8_t vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };

		for (size_t k = 0; k < sizeof(vals) + 1; k++) {
			int r;

			strbuf_reset(&bad);
			assert_int_equal(strbuf_add(&bad, blob.buf, blob.len), 0);
			bad.buf[i] = k < sizeof(vals) ? (char)vals[k] : (char)(bad.buf[i] ^ 0x55);
			r = decode_copy(bad.buf, bad.len, &buf);
			assert_true(r <= 0);
			assert_int_not_equal(r, -ENOMEM);
		}
	}
	/* The blob decodes again after all that. */
	assert_int_equal(snap_entry_decode(blob.buf, blob.len, &buf, &e), 0);
	assert_entry(e, &file);

	snap_entry_buf_release(&buf);
	strbuf_release(&blob);
	strbuf_release(&bad);
}

/*
 * A blob whose record is sound but whose optional attributes are not (the
 * ACL's terminating NUL overwritten): damaged, so -EPROTO as for any other
 * damage (store.h: "0, -EPROTO (damaged), -ENOMEM").
 */
static void test_entry_codec_damaged_attrs(void **state)
{
	uint8_t xattrs[64];
	struct entry file = full_file(xattrs, sizeof(xattrs));
	struct strbuf blob = STRBUF_INIT;
	struct snap_entry_buf buf = { 0 };
	const struct entry *e = NULL;
	char *acl;

	(void)state;
	assert_int_equal(snap_entry_encode(&blob, &file), 0);
	acl = memmem(blob.buf, blob.len, file.acl, strlen(file.acl) + 1);
	assert_non_null(acl);
	acl[strlen(file.acl)] = 'x';
	assert_int_equal(snap_entry_decode(blob.buf, blob.len, &buf, &e), -EPROTO);
	snap_entry_buf_release(&buf);
	strbuf_release(&blob);
}

/* ---- rules' remediate, and schema 6 ---- */

struct rules {
	char v[8][64];
	size_t n;
};

static int got_rule(int64_t n, const char *id, const char *title, const char *file, unsigned line,
		    unsigned remediate, void *userdata)
{
	struct rules *g = userdata;

	assert_int_equal(n, (int64_t)g->n);
	assert_true(g->n < 8);
	snprintf(g->v[g->n++], sizeof(g->v[0]), "%s:%s:%s:%u:%u", id, title ? title : "-", file,
		 line, remediate);
	return 0;
}

/* A run (no snapshots) with a rule per entry of @remediate; its id. */
static int64_t store_run(struct snap_store *st, const unsigned *remediate, size_t n)
{
	struct snap_run_new rn = { 0 };
	struct snap_run_writer *w = NULL;
	struct diag d = { 0 };
	int64_t id = 0;

	rn.command = "check";
	assert_int_equal(snap_run_begin(st, &rn, &w, &d), 0);
	for (size_t i = 0; i < n; i++) {
		char rid[16];
		int64_t rn_i = -1;

		snprintf(rid, sizeof(rid), "r%zu", i);
		assert_int_equal(snap_run_add_rule(w, rid, "T", "/p/policy.yaml",
						   (unsigned)(10 + i), remediate[i], &rn_i, &d),
				 0);
		assert_int_equal(rn_i, (int64_t)i);
	}
	assert_int_equal(snap_run_commit(w, 0, 0, 0, &id, &d), 0);
	return id;
}

static void test_run_rule_remediate(void **state)
{
	static const unsigned modes[] = { 0, 1, 2 };
	struct tmp *t = *state;
	struct snap_store *st = open_write(t);
	struct rules g = { 0 };
	struct diag d = { 0 };
	int64_t run = store_run(st, modes, 3);

	assert_int_equal(snap_run_rules(st, run, got_rule, &g, &d), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.v[0], "r0:T:/p/policy.yaml:10:0");
	assert_string_equal(g.v[1], "r1:T:/p/policy.yaml:11:1");
	assert_string_equal(g.v[2], "r2:T:/p/policy.yaml:12:2");
	snap_store_free(st);

	/* Read back by a read-only open too. */
	memset(&g, 0, sizeof(g));
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	assert_int_equal(snap_run_rules(st, run, got_rule, &g, &d), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.v[2], "r2:T:/p/policy.yaml:12:2");
	snap_store_free(st);
}

static int count_remedy(const struct snap_remedy *r, void *userdata)
{
	(void)r;
	(*(int *)userdata)++;
	return 0;
}

static int count_action(const struct snap_remedy_action *a, void *userdata)
{
	(void)a;
	(*(int *)userdata)++;
	return 0;
}

/* After a schema 6 database was migrated: the journal works. */
static void assert_journal_works(struct snap_store *st)
{
	struct snap_remedy_action a = action(0, "/etc/a", SNAP_REMEDY_DONE);
	struct strbuf post = STRBUF_INIT;
	struct snap_remedy rem = { 0 };
	struct diag d = { 0 };
	int64_t id = 0;
	int n = 0;

	encode_file(&post, "/etc/a", 42, 7, 1);
	a.post = post.buf;
	a.post_len = post.len;
	assert_int_equal(snap_remedy_begin(st, 1, 1, "root", false, "/q", &a, 1, &id, &d), 0);
	assert_int_equal(snap_remedy_finish(st, id, &d), 0);
	assert_int_equal(snap_remedy_get(st, 0, &rem, &d), 0);
	assert_int_equal(rem.id, id);
	assert_int_equal(rem.done, 1);
	snap_remedy_release(&rem);
	assert_int_equal(snap_remedy_list(st, count_remedy, &n, &d), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(snap_remedy_restored(st, count_action, &n, &d), 0);
	assert_int_equal(n, 1);
	strbuf_release(&post);
}

static void test_schema6(void **state)
{
	static const unsigned modes[] = { 2 };
	struct tmp *t = *state;
	struct snap_store *st = open_write(t);
	struct entry e = entry_file("/etc/a");
	struct snap_remedy rem = { 0 };
	struct snap_remedy_action a = action(0, "/etc/a", SNAP_REMEDY_DONE);
	struct rules g = { 0 };
	struct diag d = { 0 };
	int64_t run, id = 0;
	int n = 0;

	assert_true(write_snapshot(st, SNAP_PURPOSE_BASELINE, NULL, true, 0, &e, 1, &d) > 0);
	run = store_run(st, modes, 1);
	snap_store_free(st);
	/* As a drift before remediation left it (run_rule keeps its column: fine). */
	sql(t->db, "DROP TABLE remedy; DROP TABLE remedy_action; PRAGMA user_version = 6");
	assert_int_equal(user_version(t->db), 6);

	/* Read-only: no journal to read, nothing restored, never written. */
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	d.msg[0] = '\0';
	assert_int_equal(snap_remedy_list(st, count_remedy, &n, &d), -EPROTO);
	assert_non_null(strstr(d.msg, "predates remediation"));
	assert_int_equal(n, 0);
	assert_int_equal(snap_remedy_get(st, 0, &rem, &d), -EPROTO);
	assert_int_equal(snap_remedy_actions(st, 1, count_action, &n, &d), -EPROTO);
	assert_int_equal(snap_remedy_restored(st, count_action, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(snap_remedy_begin(st, 1, 1, "root", false, "/q", &a, 1, &id, &d), -EPROTO);
	assert_int_equal(snap_run_rules(st, run, got_rule, &g, &d), 0);
	assert_int_equal(g.n, 1);
	snap_store_free(st);
	assert_int_equal(user_version(t->db), 6);

	/* For writing: migrated to 7, the journal works, the old rule keeps its value. */
	st = open_write(t);
	assert_int_equal(user_version(t->db), 8);
	assert_journal_works(st);
	memset(&g, 0, sizeof(g));
	assert_int_equal(snap_run_rules(st, run, got_rule, &g, &d), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.v[0], "r0:T:/p/policy.yaml:10:2");
	snap_store_free(st);
	/* And once migrated, a read-only open reads the journal. */
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	n = 0;
	assert_int_equal(snap_remedy_list(st, count_remedy, &n, &d), 0);
	assert_int_equal(n, 1);
	snap_store_free(st);
}

static void test_schema6_without_column(void **state)
{
	static const unsigned modes[] = { 1, 2 };
	static const unsigned modes2[] = { 2 };
	struct tmp *t = *state;
	struct snap_store *st = open_write(t);
	struct rules g = { 0 };
	struct diag d = { 0 };
	int64_t run, run2;

	run = store_run(st, modes, 2);
	snap_store_free(st);
	/* run_rule as schema 6 had it: without remediate. */
	sql(t->db, "CREATE TABLE run_rule2 (run INTEGER NOT NULL, n INTEGER NOT NULL, id TEXT,"
		   " title TEXT, file TEXT, line INTEGER, PRIMARY KEY (run, n)) WITHOUT ROWID;"
		   "INSERT INTO run_rule2 SELECT run, n, id, title, file, line FROM run_rule;"
		   "DROP TABLE run_rule;"
		   "ALTER TABLE run_rule2 RENAME TO run_rule;"
		   "DROP TABLE remedy; DROP TABLE remedy_action;"
		   "PRAGMA user_version = 6");
	assert_int_equal(user_version(t->db), 6);

	/* Read-only: the rules read, remediate 0. */
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	assert_int_equal(snap_run_rules(st, run, got_rule, &g, &d), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.v[0], "r0:T:/p/policy.yaml:10:0");
	assert_string_equal(g.v[1], "r1:T:/p/policy.yaml:11:0");
	snap_store_free(st);
	assert_int_equal(user_version(t->db), 6);

	/* For writing: the column is added; old rows read 0, new rows keep theirs. */
	st = open_write(t);
	assert_int_equal(user_version(t->db), 8);
	memset(&g, 0, sizeof(g));
	assert_int_equal(snap_run_rules(st, run, got_rule, &g, &d), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.v[0], "r0:T:/p/policy.yaml:10:0");
	assert_string_equal(g.v[1], "r1:T:/p/policy.yaml:11:0");
	run2 = store_run(st, modes2, 1);
	memset(&g, 0, sizeof(g));
	assert_int_equal(snap_run_rules(st, run2, got_rule, &g, &d), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.v[0], "r0:T:/p/policy.yaml:10:2");
	assert_journal_works(st);
	snap_store_free(st);
}

/* An empty file opened read-only reads as an empty store: no journal, nothing restored. */
static void test_empty_read_only(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_remedy rem = { 0 };
	struct diag d = { 0 };
	int n = 0;

	assert_int_equal(file_write(t->db, "", 0), 0);
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	assert_int_equal(snap_remedy_list(st, count_remedy, &n, &d), 0);
	assert_int_equal(snap_remedy_restored(st, count_action, &n, &d), 0);
	assert_int_equal(snap_remedy_actions(st, 1, count_action, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(snap_remedy_get(st, 0, &rem, &d), -ENOENT);
	snap_store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_begin_get, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_action_put, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_finish_undone, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_begin_atomic, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_restored, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_entry_codec),
		cmocka_unit_test(test_entry_codec_damaged),
		cmocka_unit_test(test_entry_codec_damaged_attrs),
		cmocka_unit_test_setup_teardown(test_run_rule_remediate, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_schema6, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_schema6_without_column, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_empty_read_only, tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests_name("store/remedy", tests, NULL, NULL);
}
