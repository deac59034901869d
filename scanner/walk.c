/*
 * The walker: a pool of threads that all walk, and one caller thread that
 * hands every entry to opts->visit.
 *
 * Why every thread walks
 * ----------------------
 * On a warm cache the cost of a scan is the kernel's per-entry work
 * (getdents64, fstatat, open/read/close) and the memory bandwidth of
 * hashing, all of it in syscalls that block the calling thread. Feeding a
 * hashing pool from one walking thread leaves that thread the bottleneck
 * (2.35 us of CPU per stat'ed entry). So the directory reads, the stats and
 * the hashing are all done by the N workers; the caller thread only runs
 * the visit callback (the SQLite writer) and the progress tick.
 *
 * Jobs
 * ----
 * One shared LIFO stack of jobs (walk->lock + walk->work) gives depth-first
 * order, which bounds memory: the frontier is "the open levels", not "the
 * whole next level" of a breadth-first queue. There are two kinds of jobs:
 *
 *   DIR   open one directory relative to its parent's fd (a root: its
 *         absolute path, relative to the pseudo-directory "top" whose fd is
 *         AT_FDCWD), fstat it (that is the directory's entry), list it with
 *         raw getdents64 into 256-name NAMES chunks, emit its entry.
 *   NAMES up to 256 names of one directory: build each path, ask
 *         opts->decide, fstatat, and then emit the entry (readlinkat for a
 *         symlink, hash a regular file), or push a DIR job for a
 *         subdirectory. Chunking is what lets both cores work on one huge
 *         directory: the lister pushes chunks while it is still listing.
 *
 *   caller thread              job stack (LIFO)               worker threads
 *   -------------              ----------------               --------------
 *   scan_walk()
 *    push NAMES(top: roots) -> [ NAMES /usr      ]
 *    start N workers           [ DIR   /usr/lib  ] <--pop--  worker 0: open, getdents64
 *                              [ NAMES /usr/lib  ] --push--/            emit "/usr/lib"
 *                              [ NAMES /usr/lib  ] <--pop--  worker 1: fstatat, hash,
 *                              [ DIR /usr/lib/x  ] --push--/   emit; dirs -> DIR jobs
 *                                      .
 *    +--- out queue (FIFO, <= 64 batches) <--- batch of <= 256 entries --+
 *    |                                         (one per worker, handed   |
 *    v                                          over when full or idle)  |
 *   visit(e) for each entry;                                             |
 *   tick() every 200 ms, even when no batch arrives                      |
 *   (workers block while the queue is full: back-pressure from SQLite) --+
 *
 * Completion: walk->outstanding counts pending plus running jobs. When it
 * drops to zero the stack can never refill, so the workers flush their
 * batches and exit; the caller drains the queue, sees no worker alive, joins
 * them and returns 0. Stopping (visit says SCAN_STOP, tick says true, or the
 * walk itself failed with ENOMEM): walk->stop is raised and both condition
 * variables are broadcast; workers abandon the file they hash at the next
 * buffer, drop their batch and exit; the caller joins them, then discards
 * the jobs left on the stack and the batches left in the queue.
 *
 * Directory nodes and the fd budget
 * ---------------------------------
 * Each directory that is listed has a refcounted struct dnode: its full path
 * (bytes, for building children's keys), the offset of its own name, its
 * parent, its st_dev/st_ino and maybe an open fd. Two counters, both under
 * walk->lock:
 *
 *   refs  jobs about the node plus child nodes (their parent pointer); at
 *         zero the node is freed and its parent unref'ed;
 *   pins  pending jobs that need the fd: its NAMES chunks, its children's
 *         DIR jobs not yet opened, and the lister while it lists. At zero
 *         the fd is closed. An open fd therefore implies pins > 0, and once
 *         pins reached zero no job for that directory can appear any more.
 *
 * The number of node fds kept open is bounded by walk->fd_budget (derived
 * from RLIMIT_NOFILE: min(soft/2, 4096) minus a few per worker for the
 * directory being listed and the file being hashed; DRIFT_TEST_FD_BUDGET
 * overrides it for the tests). A budget of 0 is a disaster (every job
 * reopens its directory from the root: quadratic in the depth), so
 * scan_walk() first raises a soft limit under 8192 towards the hard limit
 * (and restores it on return; bfs raises it too), and walk_new() starts
 * fewer threads when that still leaves less than FD_BUDGET_MIN (32).
 *
 * When the budget is spent, the lister closes its fd after listing, and a
 * job that needs it reopens it: from the
 * nearest ancestor whose fd is open (the top, AT_FDCWD, always is), pinned
 * while we use it, one openat(O_DIRECTORY|O_NOFOLLOW) per path component,
 * each result checked against the node's st_dev/st_ino (a directory renamed
 * or replaced meanwhile gives ESTALE: treated like a vanished one). The
 * reopened fd is installed in the node if the budget allows by then,
 * otherwise used for this one job and closed. No syscall ever gets a built
 * multi-component path, which is why paths beyond PATH_MAX work.
 *
 * Order and memory
 * ----------------
 * Entries come out in no particular order (the store keys them by path).
 * A NAMES chunk costs its names; a pending DIR job a node plus a struct
 * stat. Depth-first popping keeps the pending set near "a few chunks per
 * open level". Entries are copied (key and target bytes too) into
 * per-worker batches, recycled through a free list.
 *
 * Hard links are one entry per path (each path hashed: deduplicating by
 * (dev, ino) would make the snapshot depend on which thread got there
 * first). Symlinks are never followed; FIFOs, sockets and devices are only
 * ever fstatat'ed, never opened. Workers run with every signal blocked, so
 * SIGINT lands on the caller thread, whose handler sets the flag that tick
 * or visit turn into a stop.
 *
 * Optional attributes and SCAN_NO_ENTRY
 * --------------------------------------
 * What decide returns for a name travels with it (a DIR job keeps it in
 * job->want). Only a result with SCAN_XATTRS/ACL/CAPS/SELINUX/MIME costs
 * anything: then the worker reads them through a descriptor of the entry
 * (scanner/attrs.c) into its own struct scan_attrs and worker_emit() copies
 * them into the batch like the key. The descriptor is the one already open
 * where there is one (a directory's listing fd, a regular file's hashing fd,
 * kept by scan_hasher_entry_keep()), otherwise a fresh one checked against
 * the stat: O_RDONLY for regular files and directories, O_PATH for the rest,
 * so a FIFO or device is never opened for reading. libmagic handles, one
 * per worker, are loaded by worker_init() on the caller thread before the
 * pool starts, and only when scan_opts.may_mime says decide may ask for
 * SCAN_MIME (eager and serial rather than lazy: STYLE.md wants the cookies
 * created on the main thread, and a missing database fails the walk up
 * front instead of in the middle). SCAN_NO_ENTRY drops the entry of a
 * directory (it is still listed) or of anything else; errors that stop the
 * descent are still emitted.
 *
 * Roots and nested roots
 * ----------------------
 * The roots are the names of one NAMES job on the "top" pseudo-node, so
 * that roots go through the same decide/fstatat/hash code as everything
 * else, and a non-directory root needs no special case. A root below
 * another root's directory is not dropped (whether the outer walk reaches
 * it depends on the mounts and symlinks on the way): it is listed in
 * walk->nested, and process_name() skips exactly those keys below the top,
 * so the nested root alone emits its path and walks what is below it.
 *
 * Vanishing and swapping
 * ----------------------
 * A name gone before its fstatat, a directory gone before it is opened or
 * while it is listed (getdents64 says ENOENT) is absent. A regular file
 * that cannot be opened for hashing with ELOOP, ENXIO, ENODEV or ENOENT is
 * looked up again (scanner/hash.c) and recorded as what it became (a
 * symlink, a socket...), or with err = ENOENT if the name is gone.
 */
#include "scanner/scanner.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/entry.h"
#include "scanner/attrs.h"
#include "scanner/hash.h"
#include "scanner/sys.h"

#include "common/banned.h"

/* O_NONBLOCK is harmless on a directory; O_NOFOLLOW: a swapped-in symlink fails with ELOOP. */
#define DIR_FLAGS      (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
#define DENTS_BUF_SIZE (64 * 1024)
#define CHUNK_NAMES    256
#define CHUNK_BYTES    (32 * 1024)
#define BATCH_ENTRIES  256
#define BATCH_BYTES    (64 * 1024)
#define OUT_QUEUE_MAX  64
#define FREE_BATCH_MAX 128
#define TICK_NS        200000000L
#define FDS_PER_WORKER 4 /* the dir being listed, a reopened one, a reopen step, a file */
#define FD_BUDGET_MAX  4096
#define FD_BUDGET_MIN  32 /* fewer threads rather than a smaller budget */
#define FD_RESERVE     16 /* stdio, the caller's database... */
#define MAX_THREADS    256
#define LINK_MAX_BYTES (1 << 20)

/* For a regular file's attributes. O_NONBLOCK, O_NOCTTY: should it be swapped for a FIFO or tty. */
#define FILE_FLAGS (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
/* Anything else is never opened for reading: an O_PATH fd only names it. */
#define PATH_FLAGS (O_PATH | O_NOFOLLOW | O_CLOEXEC)

/* The kernel's struct linux_dirent64. */
struct dent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

struct dnode {
	struct dnode *parent; /* counted reference; NULL only for the top */
	size_t refs;          /* under walk->lock */
	size_t pins;          /* under walk->lock */
	int fd;               /* under walk->lock; -1 when closed, AT_FDCWD for the top */
	bool top;             /* the pseudo-directory whose names are the roots */
	dev_t dev;            /* identity of the directory, for reopening */
	ino_t ino;
	dev_t root_dev;  /* st_dev of the root above, for cross_mounts */
	size_t name_off; /* the last component is path + name_off (roots: the whole path) */
	size_t path_len;
	char path[];
};

enum job_kind {
	JOB_DIR,
	JOB_NAMES,
};

/* Ownership travels with the pointer: the stack, then exactly one worker. */
struct job {
	struct job *next;
	enum job_kind kind;
	bool parent_pinned; /* DIR: still holding the pin on node->parent */
	struct dnode *node; /* counted reference; DIR: the directory to open; NAMES: their dir */
	struct stat st;     /* DIR: the stat from the lookup, for the entry if opening fails */
	unsigned want;      /* DIR: what decide said (attributes, SCAN_NO_ENTRY) */
	size_t count;       /* NAMES: NUL-terminated names in names[] */
	char names[];
};

/* Entries with their key, target and optional attribute bytes copied into bytes[]. */
struct batch {
	struct batch *next;
	size_t n;
	size_t used, cap;
	char *bytes;
	struct entry e[BATCH_ENTRIES];
};

struct walk;

/* A root, trailing slashes trimmed; the bytes are the caller's (opts->roots). */
struct root_key {
	const char *path;
	size_t len;
};

struct worker {
	struct walk *walk;
	pthread_t thread;
	struct scan_hasher hasher;
	struct scan_attrs attrs; /* xattrs, ACL, caps, label, mime; its own magic_t */
	char *dents;             /* getdents64 buffer */
	char *path;              /* key of the name being processed */
	size_t path_cap;
	char *link; /* symlink target */
	size_t link_cap;
	char *chunk; /* names being collected for the next NAMES job */
	size_t chunk_len, chunk_cap, chunk_count;
	struct dnode **chain; /* reopen path */
	size_t chain_cap;
	struct batch *batch; /* being filled */
};

struct walk {
	const struct scan_opts *opts;

	pthread_mutex_t lock; /* jobs, nodes' refs/pins/fd, open_dirs */
	pthread_cond_t work;
	struct job *stack;
	size_t outstanding; /* pending + running jobs */
	size_t open_dirs;   /* node fds held open */
	size_t fd_budget;
	struct dnode *top;

	pthread_mutex_t out_lock; /* everything below up to alive */
	pthread_cond_t out_ready; /* CLOCK_MONOTONIC: the caller waits with a deadline */
	pthread_cond_t out_space;
	struct batch *out_head, *out_tail;
	size_t out_count;
	struct batch *free_batches;
	size_t nfree;
	size_t alive; /* workers not yet exited */

	atomic_bool stop;
	atomic_int failure;          /* first -errno of the walk itself, 0 if none */
	_Atomic uint64_t bytes_live; /* bytes hashed so far, for the tick */

	struct worker *workers;
	size_t nworkers, nstarted;
	bool locks_ready;

	/* Roots inside another root's directory, sorted: the outer walk leaves them alone. */
	struct root_key *nested;
	size_t nnested;
};

static bool walk_stopping(const struct walk *wk)
{
	return atomic_load_explicit(&wk->stop, memory_order_relaxed);
}

/* Raise the stop flag and wake every sleeper. Called with no lock held. */
static void walk_stop(struct walk *wk)
{
	atomic_store(&wk->stop, true);
	pthread_mutex_lock(&wk->lock);
	pthread_cond_broadcast(&wk->work);
	pthread_mutex_unlock(&wk->lock);
	pthread_mutex_lock(&wk->out_lock);
	pthread_cond_broadcast(&wk->out_space);
	pthread_cond_broadcast(&wk->out_ready);
	pthread_mutex_unlock(&wk->out_lock);
}

/* The walk itself failed (ENOMEM): remember the first error and stop. No lock held. */
static void walk_fail(struct walk *wk, int err)
{
	int expected = 0;

	atomic_compare_exchange_strong(&wk->failure, &expected, err);
	walk_stop(wk);
}

/* ---- nodes and jobs (walk->lock held for every *_locked function) ---- */

static const char *node_name(const struct dnode *n)
{
	return n->path + n->name_off;
}

static void node_unref_locked(struct dnode *n)
{
	while (n && --n->refs == 0) {
		struct dnode *parent = n->parent;

		assert(n->top || n->fd < 0);
		free(n);
		n = parent;
	}
}

static void node_unpin_locked(struct walk *wk, struct dnode *n)
{
	assert(n->pins > 0);
	if (--n->pins == 0 && !n->top && n->fd >= 0) {
		close(n->fd);
		n->fd = -1;
		wk->open_dirs--;
	}
}

static void job_push_locked(struct walk *wk, struct job *j)
{
	j->next = wk->stack;
	wk->stack = j;
	wk->outstanding++;
	pthread_cond_signal(&wk->work);
}

/* Drop what a job holds, whether it ran or was discarded; the caller frees it. */
static void job_release_locked(struct walk *wk, struct job *j)
{
	if (j->kind == JOB_DIR && j->parent_pinned)
		node_unpin_locked(wk, j->node->parent);
	else if (j->kind == JOB_NAMES)
		node_unpin_locked(wk, j->node);
	j->parent_pinned = false;
	node_unref_locked(j->node);
	if (--wk->outstanding == 0)
		pthread_cond_broadcast(&wk->work);
}

/*
 * Get an fd for directory @n, which a job of ours pins. Either the node's
 * own (*ret_private = false: do not close it) or one reopened from the
 * nearest open ancestor (*ret_private = true: close it after use). Returns
 * 0 or -errno (-ESTALE: a directory on the way is not the one we listed).
 */
static int node_get_fd(struct worker *w, struct dnode *n, int *ret_fd, bool *ret_private)
{
	struct walk *wk = w->walk;
	struct dnode *anchor, *d;
	size_t depth = 0, i;
	int cur, r = 0;
	bool shared = false;

	pthread_mutex_lock(&wk->lock);
	if (n->top || n->fd >= 0) {
		*ret_fd = n->fd;
		*ret_private = false;
		pthread_mutex_unlock(&wk->lock);
		return 0;
	}
	for (anchor = n; !anchor->top && anchor->fd < 0; anchor = anchor->parent)
		depth++;
	anchor->pins++; /* keep the anchor's fd open while we descend from it */
	pthread_mutex_unlock(&wk->lock);

	if (w->chain_cap < depth) {
		struct dnode **c = realloc(w->chain, depth * sizeof(*c));

		if (!c) {
			r = -ENOMEM;
			goto out_unpin;
		}
		w->chain = c;
		w->chain_cap = depth;
	}
	i = depth;
	for (d = n; d != anchor; d = d->parent)
		w->chain[--i] = d;

	/* Nodes above a pinned one are immutable and alive: no lock needed to read them. */
	cur = anchor->fd;
	for (i = 0; i < depth; i++) {
		struct stat st;
		int next = scan_sys_openat(cur, node_name(w->chain[i]), DIR_FLAGS);

		if (cur != anchor->fd)
			close(cur);
		cur = -1;
		if (next < 0) {
			r = next;
			break;
		}
		r = scan_sys_fstat(next, &st);
		if (r == 0 && (st.st_dev != w->chain[i]->dev || st.st_ino != w->chain[i]->ino))
			r = -ESTALE;
		if (r < 0) {
			close(next);
			break;
		}
		cur = next;
	}

out_unpin:
	pthread_mutex_lock(&wk->lock);
	node_unpin_locked(wk, anchor);
	if (r == 0 && n->fd < 0 && wk->open_dirs < wk->fd_budget) {
		/* Our job pins n, so the usual pins == 0 rule will close it. */
		n->fd = cur;
		wk->open_dirs++;
		shared = true;
	}
	pthread_mutex_unlock(&wk->lock);
	if (r < 0)
		return r;
	*ret_fd = cur;
	*ret_private = !shared;
	return 0;
}

/* ---- output batches ---- */

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	free(b->bytes);
	free(b);
}

static struct batch *batch_get(struct walk *wk, size_t need)
{
	struct batch *b = NULL;

	if (need <= BATCH_BYTES) {
		pthread_mutex_lock(&wk->out_lock);
		b = wk->free_batches;
		if (b) {
			wk->free_batches = b->next;
			wk->nfree--;
		}
		pthread_mutex_unlock(&wk->out_lock);
		if (b)
			return b;
	}
	b = malloc(sizeof(*b));
	if (!b)
		return NULL;
	b->cap = need > BATCH_BYTES ? need : BATCH_BYTES;
	b->bytes = malloc(b->cap);
	if (!b->bytes) {
		free(b);
		return NULL;
	}
	b->next = NULL;
	b->n = 0;
	b->used = 0;
	return b;
}

static void batch_recycle(struct walk *wk, struct batch *b)
{
	if (b->cap != BATCH_BYTES) {
		batch_free(b);
		return;
	}
	b->n = 0;
	b->used = 0;
	pthread_mutex_lock(&wk->out_lock);
	if (wk->nfree < FREE_BATCH_MAX) {
		b->next = wk->free_batches;
		wk->free_batches = b;
		wk->nfree++;
		b = NULL;
	}
	pthread_mutex_unlock(&wk->out_lock);
	batch_free(b);
}

/* Hand the worker's batch to the caller thread; blocks while the queue is full. */
static void worker_flush(struct worker *w)
{
	struct walk *wk = w->walk;
	struct batch *b = w->batch;

	if (!b)
		return;
	w->batch = NULL;
	if (b->n == 0) {
		batch_recycle(wk, b);
		return;
	}
	pthread_mutex_lock(&wk->out_lock);
	while (wk->out_count >= OUT_QUEUE_MAX && !walk_stopping(wk))
		pthread_cond_wait(&wk->out_space, &wk->out_lock);
	if (walk_stopping(wk)) {
		pthread_mutex_unlock(&wk->out_lock);
		batch_free(b);
		return;
	}
	b->next = NULL;
	if (wk->out_tail)
		wk->out_tail->next = b;
	else
		wk->out_head = b;
	wk->out_tail = b;
	wk->out_count++;
	pthread_cond_signal(&wk->out_ready);
	pthread_mutex_unlock(&wk->out_lock);
}

/* Copy the C string @s into the batch at b->bytes + b->used; returns the copy. */
static const char *batch_put_str(struct batch *b, const char *s, size_t len)
{
	char *p = b->bytes + b->used;

	memcpy(p, s, len + 1);
	b->used += len + 1;
	return p;
}

/* Copy @e (and the bytes it points to) into the worker's batch. */
static void worker_emit(struct worker *w, const struct entry *e)
{
	size_t need = e->key_len + 1 + (e->target ? e->target_len + 1 : 0);
	size_t acl_len = 0, caps_len = 0, selinux_len = 0, mime_len = 0;
	struct batch *b = w->batch;
	struct entry *d;
	char *p;

	if (e->collected) {
		/* Only entries with optional attributes pay for these strlen()s. */
		acl_len = e->acl ? strlen(e->acl) : 0;
		caps_len = e->caps ? strlen(e->caps) : 0;
		selinux_len = e->selinux ? strlen(e->selinux) : 0;
		mime_len = e->mime ? strlen(e->mime) : 0;
		need += e->xattrs_len + (e->acl ? acl_len + 1 : 0) + (e->caps ? caps_len + 1 : 0) +
			(e->selinux ? selinux_len + 1 : 0) + (e->mime ? mime_len + 1 : 0);
	}

	if (b && (b->n == BATCH_ENTRIES || b->cap - b->used < need)) {
		worker_flush(w);
		b = NULL;
	}
	if (!b) {
		b = batch_get(w->walk, need);
		if (!b) {
			walk_fail(w->walk, -ENOMEM);
			return;
		}
		w->batch = b;
	}
	d = &b->e[b->n++];
	*d = *e;
	p = b->bytes + b->used;
	memcpy(p, e->key, e->key_len);
	p[e->key_len] = '\0';
	d->key = p;
	b->used += e->key_len + 1;
	if (e->target) {
		p = b->bytes + b->used;
		memcpy(p, e->target, e->target_len);
		p[e->target_len] = '\0';
		d->target = p;
		b->used += e->target_len + 1;
	}
	if (!e->collected)
		return;
	if (e->xattrs_len) {
		p = b->bytes + b->used;
		memcpy(p, e->xattrs, e->xattrs_len);
		d->xattrs = (const uint8_t *)p;
		b->used += e->xattrs_len;
	} else {
		d->xattrs = NULL;
	}
	if (e->acl)
		d->acl = batch_put_str(b, e->acl, acl_len);
	if (e->caps)
		d->caps = batch_put_str(b, e->caps, caps_len);
	if (e->selinux)
		d->selinux = batch_put_str(b, e->selinux, selinux_len);
	if (e->mime)
		d->mime = batch_put_str(b, e->mime, mime_len);
}

/* ---- per-name work ---- */

static int grow(char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 256;
	char *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

/* Build the key of @name in @n into w->path; returns its length or -ENOMEM. */
static int64_t build_key(struct worker *w, const struct dnode *n, const char *name, size_t nl)
{
	size_t dl = n->top ? 0 : n->path_len;
	bool slash = !n->top && !(dl == 1 && n->path[0] == '/');
	size_t len = dl + slash + nl;

	if (grow(&w->path, &w->path_cap, len + 1) < 0)
		return -ENOMEM;
	memcpy(w->path, n->path, dl);
	if (slash)
		w->path[dl] = '/';
	memcpy(w->path + dl + slash, name, nl);
	w->path[len] = '\0';
	return (int64_t)len;
}

/*
 * Nanoseconds since the epoch, saturated to INT64_MIN/INT64_MAX outside
 * what int64 holds (before 1677-09-21, after 2262-04-11): never wrapped.
 */
static int64_t timespec_to_ns(const struct timespec *ts)
{
	int64_t sec = (int64_t)ts->tv_sec, nsec = ts->tv_nsec, ns;

	if (sec < 0 && nsec > 0) {
		sec++; /* -9223372037 s + 145224193 ns is INT64_MIN + 1: borrow a second */
		nsec -= 1000000000;
	}
	if (__builtin_mul_overflow(sec, (int64_t)1000000000, &ns) ||
	    __builtin_add_overflow(ns, nsec, &ns))
		return sec < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

static void entry_fill_stat(struct entry *e, const struct stat *st)
{
	e->mode = st->st_mode;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->size = (uint64_t)st->st_size;
	e->mtime_ns = timespec_to_ns(&st->st_mtim);
	e->ctime_ns = timespec_to_ns(&st->st_ctim);
	e->ino = st->st_ino;
	e->dev = st->st_dev;
	e->nlink = st->st_nlink;
}

/* readlinkat() the whole target, whatever st_size claims. Sets e->target or e->err. */
static void read_link(struct worker *w, int dfd, const char *name, const struct stat *st,
		      struct entry *e)
{
	size_t want = st->st_size > 0 ? (size_t)st->st_size + 1 : 256;

	for (;;) {
		ssize_t n;

		if (grow(&w->link, &w->link_cap, want) < 0) {
			walk_fail(w->walk, -ENOMEM);
			e->err = ENOMEM;
			return;
		}
		n = scan_sys_readlinkat(dfd, name, w->link, w->link_cap);
		if (n < 0) {
			e->err = (int)-n;
			return;
		}
		if ((size_t)n < w->link_cap) {
			e->target = w->link;
			e->target_len = (size_t)n;
			return;
		}
		if (w->link_cap >= LINK_MAX_BYTES) {
			e->err = ENAMETOOLONG;
			return;
		}
		want = w->link_cap * 2; /* truncated: st_size lied (procfs...) */
	}
}

static void push_dir(struct worker *w, struct dnode *parent, size_t key_len, size_t name_len,
		     const struct stat *st, unsigned want)
{
	struct walk *wk = w->walk;
	struct dnode *c = malloc(sizeof(*c) + key_len + 1);
	struct job *j = malloc(sizeof(*j));

	if (!c || !j) {
		free(c);
		free(j);
		walk_fail(wk, -ENOMEM);
		return;
	}
	memcpy(c->path, w->path, key_len + 1);
	c->path_len = key_len;
	c->name_off = parent->top ? 0 : key_len - name_len;
	c->parent = parent;
	c->refs = 1; /* the DIR job's */
	c->pins = 0;
	c->fd = -1;
	c->top = false;
	c->dev = st->st_dev;
	c->ino = st->st_ino;
	c->root_dev = parent->top ? st->st_dev : parent->root_dev;

	memset(j, 0, sizeof(*j));
	j->kind = JOB_DIR;
	j->node = c;
	j->st = *st;
	j->want = want;
	j->parent_pinned = true;

	pthread_mutex_lock(&wk->lock);
	parent->refs++;
	parent->pins++;
	job_push_locked(wk, j);
	pthread_mutex_unlock(&wk->lock);
}

/*
 * Collect the optional attributes @want of @name in @dfd, looked up as *st,
 * into @e: through @fd when the caller has one (the fd the file was hashed
 * through), otherwise through one opened here, checked to be what *st
 * describes. Returns 0 or -ENOMEM.
 */
static int name_attrs(struct worker *w, int dfd, const char *name, const struct stat *st, int fd,
		      unsigned want, struct entry *e)
{
	bool opath = false, own = false;
	struct stat now;
	int r = 0;

	if (fd < 0 && scan_attrs_need_fd(want, st->st_mode)) {
		int flags = S_ISREG(st->st_mode)   ? FILE_FLAGS
			    : S_ISDIR(st->st_mode) ? DIR_FLAGS
						   : PATH_FLAGS;

		fd = scan_sys_openat(dfd, name, flags);
		if (fd == -ENOMEM)
			return fd;
		if (fd == -ELOOP || fd == -ENOTDIR || fd == -ENXIO) {
			e->flags |= ENTRY_CHANGED_WHILE_READ; /* no longer what was looked up */
			return 0;
		}
		if (fd < 0) {
			e->err = -fd; /* ENOENT: it vanished meanwhile */
			return 0;
		}
		own = true;
		opath = flags == PATH_FLAGS;
		r = scan_sys_fstat(fd, &now);
		if (r < 0) {
			e->err = -r;
			r = 0;
			goto out;
		}
		if (now.st_dev != st->st_dev || now.st_ino != st->st_ino ||
		    (now.st_mode & S_IFMT) != (st->st_mode & S_IFMT)) {
			e->flags |= ENTRY_CHANGED_WHILE_READ;
			goto out;
		}
	}
	r = scan_attrs_collect(&w->attrs, fd, opath, st->st_mode, want, e);
out:
	if (own)
		close(fd);
	return r;
}

static int root_key_cmp(const void *a, const void *b)
{
	const struct root_key *x = a, *y = b;
	int r = memcmp(x->path, y->path, x->len < y->len ? x->len : y->len);

	if (r)
		return r;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Is @key (@len bytes) a nested root, which its own NAMES job on the top handles? */
static bool is_nested_root(const struct walk *wk, const char *key, size_t len)
{
	struct root_key k = { key, len };

	return wk->nnested && bsearch(&k, wk->nested, wk->nnested, sizeof(k), root_key_cmp) != NULL;
}

/* One name of directory @n (open as @dfd): decide, stat, then emit or descend. */
static void process_name(struct worker *w, struct dnode *n, int dfd, const char *name)
{
	struct walk *wk = w->walk;
	const struct scan_opts *o = wk->opts;
	size_t nl = strlen(name);
	unsigned want = SCAN_ALL, attrs;
	struct entry e = { 0 };
	struct stat st;
	int64_t len;
	int fd = -1, r;

	len = build_key(w, n, name, nl);
	if (len < 0) {
		walk_fail(wk, -ENOMEM);
		return;
	}
	if (!n->top && is_nested_root(wk, w->path, (size_t)len))
		return; /* a root of its own: walked (and emitted) from the top, once */
	/* Decided before anything about the name is read. */
	if (o->decide) {
		want = o->decide(w->path, (size_t)len, o->decide_data);
		if (want == SCAN_SKIP)
			return;
	}
	r = scan_sys_fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW);
	if (r == -ENOENT)
		return; /* vanished since the listing: not an entry at all */

	e.kind = ENTRY_FILE;
	e.key = w->path;
	e.key_len = (size_t)len;
	if (r < 0) {
		/* Emitted even under SCAN_NO_ENTRY: it may hide what is covered below. */
		e.err = -r;
		worker_emit(w, &e);
		return;
	}
	if ((want & SCAN_NO_ENTRY) && !S_ISDIR(st.st_mode))
		return;
	attrs = want & SCAN_ATTRS_MASK;

	if (S_ISREG(st.st_mode) && (want & SCAN_HASH) && o->hash != HASH_NONE) {
		/* With attributes to read, keep the fd the content was read through. */
		r = scan_hasher_entry_keep(&w->hasher, dfd, name, &st, &e, attrs ? &fd : NULL);
		if (r == -ECANCELED)
			return;
		/* SCAN_HASH_RETYPE: st now says what the name really is; classify it below. */
	}
	if (S_ISDIR(st.st_mode)) {
		if (!(want & SCAN_NO_DESCEND) &&
		    (n->top || o->cross_mounts || st.st_dev == n->root_dev)) {
			/* The DIR job emits the entry (no fd of ours: only files are hashed). */
			push_dir(w, n, (size_t)len, nl, &st, want);
			return;
		}
		if (want & SCAN_NO_ENTRY)
			return; /* not entered (another filesystem, NO_DESCEND): nothing to show */
	} else if (S_ISLNK(st.st_mode)) {
		read_link(w, dfd, name, &st, &e);
	}
	entry_fill_stat(&e, &st);
	if (attrs && !e.err && name_attrs(w, dfd, name, &st, fd, attrs, &e) < 0) {
		walk_fail(wk, -ENOMEM);
		goto out;
	}
	worker_emit(w, &e);
out:
	if (attrs)
		scan_attrs_clear(&w->attrs);
	if (fd >= 0)
		close(fd);
}

static void run_names(struct worker *w, struct job *j)
{
	struct dnode *n = j->node;
	const char *name = j->names;
	bool priv = false;
	int dfd = -1;
	int r;

	r = node_get_fd(w, n, &dfd, &priv);
	if (r == -ENOMEM) {
		walk_fail(w->walk, r);
		return;
	}
	if (r == -ENOENT || r == -ESTALE)
		return; /* the directory vanished (or was replaced): so did its names */

	for (size_t i = 0; i < j->count; i++, name += strlen(name) + 1) {
		if (walk_stopping(w->walk))
			break;
		if (r < 0) {
			/* The directory cannot be reached (EACCES...): say so per name. */
			struct entry e = { 0 };
			int64_t len = build_key(w, n, name, strlen(name));

			if (len < 0) {
				walk_fail(w->walk, -ENOMEM);
				break;
			}
			if (w->walk->opts->decide &&
			    w->walk->opts->decide(w->path, (size_t)len,
						  w->walk->opts->decide_data) == SCAN_SKIP)
				continue;
			e.kind = ENTRY_FILE;
			e.key = w->path;
			e.key_len = (size_t)len;
			e.err = -r;
			worker_emit(w, &e);
			continue;
		}
		process_name(w, n, dfd, name);
	}
	if (priv)
		close(dfd);
}

/* ---- listing a directory ---- */

static void chunk_flush(struct worker *w, struct dnode *n)
{
	struct walk *wk = w->walk;
	struct job *j;

	if (w->chunk_count == 0)
		return;
	j = malloc(sizeof(*j) + w->chunk_len);
	if (!j) {
		walk_fail(wk, -ENOMEM);
		return;
	}
	memset(j, 0, sizeof(*j));
	j->kind = JOB_NAMES;
	j->node = n;
	j->count = w->chunk_count;
	memcpy(j->names, w->chunk, w->chunk_len);
	w->chunk_len = 0;
	w->chunk_count = 0;

	pthread_mutex_lock(&wk->lock);
	n->refs++;
	n->pins++;
	job_push_locked(wk, j);
	pthread_mutex_unlock(&wk->lock);
}

static void chunk_add(struct worker *w, struct dnode *n, const char *name, size_t nl)
{
	if (w->chunk_count == CHUNK_NAMES || w->chunk_len + nl + 1 > w->chunk_cap)
		chunk_flush(w, n);
	if (grow(&w->chunk, &w->chunk_cap, w->chunk_len + nl + 1) < 0) {
		walk_fail(w->walk, -ENOMEM);
		return;
	}
	memcpy(w->chunk + w->chunk_len, name, nl + 1);
	w->chunk_len += nl + 1;
	w->chunk_count++;
}

/* List @fd into NAMES jobs for @n. Returns 0 or the -errno of getdents64. */
static int list_dir(struct worker *w, struct dnode *n, int fd)
{
	int r = 0;

	while (!walk_stopping(w->walk)) {
		ssize_t len = scan_sys_getdents64(fd, w->dents, DENTS_BUF_SIZE);

		if (len <= 0) {
			r = (int)len;
			break;
		}
		for (ssize_t off = 0; off < len;) {
			const struct dent64 *d = (const struct dent64 *)(w->dents + off);
			const char *name = d->d_name;

			off += d->d_reclen;
			if (name[0] == '.' &&
			    (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
				continue;
			chunk_add(w, n, name, strlen(name));
		}
	}
	chunk_flush(w, n);
	return r;
}

static void emit_dir(struct worker *w, const struct dnode *n, const struct stat *st, int err)
{
	struct entry e = { 0 };

	e.kind = ENTRY_FILE;
	e.key = n->path;
	e.key_len = n->path_len;
	e.err = err;
	entry_fill_stat(&e, st);
	worker_emit(w, &e);
}

/*
 * Emit the entry of the directory @n that was listed through @fd (stat
 * *st, listing result -@err), with the attributes its job asked for. Under
 * SCAN_NO_ENTRY only a listing error is emitted: it hides what is below.
 */
static void emit_listed_dir(struct worker *w, const struct job *j, int fd, const struct stat *st,
			    int err)
{
	const struct dnode *n = j->node;
	unsigned attrs = j->want & SCAN_ATTRS_MASK;
	struct entry e = { 0 };

	if ((j->want & SCAN_NO_ENTRY) && err == 0)
		return;
	e.kind = ENTRY_FILE;
	e.key = n->path;
	e.key_len = n->path_len;
	e.err = err;
	entry_fill_stat(&e, st);
	if (attrs && !(j->want & SCAN_NO_ENTRY)) {
		if (scan_attrs_collect(&w->attrs, fd, false, st->st_mode, attrs, &e) < 0) {
			scan_attrs_clear(&w->attrs);
			walk_fail(w->walk, -ENOMEM);
			return;
		}
	}
	worker_emit(w, &e);
	if (attrs)
		scan_attrs_clear(&w->attrs);
}

static void run_dir(struct worker *w, struct job *j)
{
	struct walk *wk = w->walk;
	struct dnode *n = j->node;
	struct stat st;
	bool priv = false, keep = false;
	int pfd = -1, fd, r;

	r = node_get_fd(w, n->parent, &pfd, &priv);
	if (r == 0) {
		fd = scan_sys_openat(pfd, node_name(n), DIR_FLAGS);
		if (priv)
			close(pfd);
	} else {
		fd = r;
	}
	pthread_mutex_lock(&wk->lock);
	node_unpin_locked(wk, n->parent);
	j->parent_pinned = false;
	pthread_mutex_unlock(&wk->lock);

	if (fd == -ENOMEM) {
		walk_fail(wk, fd);
		return;
	}
	if (fd == -ENOENT || fd == -ESTALE)
		return; /* vanished between its lookup and now: no entry */
	if (fd < 0) {
		emit_dir(w, n, &j->st, -fd); /* EACCES...: the lookup's stat, and the error */
		return;
	}
	r = scan_sys_fstat(fd, &st);
	if (r < 0) {
		close(fd);
		emit_dir(w, n, &j->st, -r);
		return;
	}

	pthread_mutex_lock(&wk->lock);
	n->dev = st.st_dev;
	n->ino = st.st_ino;
	if (n->parent->top)
		n->root_dev = st.st_dev;
	n->pins = 1; /* the lister's own, until the listing is done */
	if (wk->open_dirs < wk->fd_budget) {
		n->fd = fd;
		wk->open_dirs++;
		keep = true;
	}
	pthread_mutex_unlock(&wk->lock);

	r = list_dir(w, n, fd);
	/*
	 * ENOENT: removed while we listed it (getdents64 on a dead directory).
	 * Like any vanished entry it is absent; the names already listed are
	 * looked up and turn out gone too (rmdir needs it empty).
	 */
	if (r != -ENOENT)
		emit_listed_dir(w, j, fd, &st, -r);

	pthread_mutex_lock(&wk->lock);
	node_unpin_locked(wk, n); /* closes fd if kept and nothing needs it any more */
	pthread_mutex_unlock(&wk->lock);
	if (!keep)
		close(fd);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct walk *wk = w->walk;

	for (;;) {
		struct job *j;

		pthread_mutex_lock(&wk->lock);
		while (!wk->stack && wk->outstanding > 0 && !walk_stopping(wk)) {
			if (w->batch && w->batch->n > 0) {
				/* Going idle: do not sit on finished entries. */
				pthread_mutex_unlock(&wk->lock);
				worker_flush(w);
				pthread_mutex_lock(&wk->lock);
				continue;
			}
			pthread_cond_wait(&wk->work, &wk->lock);
		}
		if (walk_stopping(wk) || !wk->stack) {
			pthread_mutex_unlock(&wk->lock);
			break;
		}
		j = wk->stack;
		wk->stack = j->next;
		pthread_mutex_unlock(&wk->lock);

		if (j->kind == JOB_DIR)
			run_dir(w, j);
		else
			run_names(w, j);

		pthread_mutex_lock(&wk->lock);
		job_release_locked(wk, j);
		pthread_mutex_unlock(&wk->lock);
		free(j);
	}

	worker_flush(w);
	pthread_mutex_lock(&wk->out_lock);
	wk->alive--;
	pthread_cond_signal(&wk->out_ready);
	pthread_mutex_unlock(&wk->out_lock);
	return NULL;
}

/* ---- setup and teardown ---- */

/* The fds the walk may use: half the soft RLIMIT_NOFILE, at most FD_BUDGET_MAX. */
static size_t fd_room(void)
{
	struct rlimit rl;
	size_t soft = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		soft = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)FD_BUDGET_MAX * 2
			       ? (size_t)FD_BUDGET_MAX * 2
			       : (size_t)rl.rlim_cur;
	return soft / 2;
}

/*
 * How many of @n threads the fd room allows: each reserves FDS_PER_WORKER,
 * and the directory fds left must not fall below FD_BUDGET_MIN, or every
 * job reopens its directory from the root (70 s instead of 0.5 s for a
 * tree 3000 deep). At least one thread.
 */
static unsigned threads_for_room(unsigned n, size_t room)
{
	size_t most = room > FD_RESERVE + FD_BUDGET_MIN + FDS_PER_WORKER
			      ? (room - FD_RESERVE - FD_BUDGET_MIN) / FDS_PER_WORKER
			      : 1;

	return n > most ? (unsigned)most : n;
}

static size_t fd_budget(size_t nworkers, size_t room)
{
	const char *env = getenv("DRIFT_TEST_FD_BUDGET");
	size_t reserve = nworkers * FDS_PER_WORKER + FD_RESERVE;

	if (env && *env)
		return (size_t)strtoul(env, NULL, 10);
	return room > reserve ? room - reserve : 0;
}

/*
 * Raise the soft RLIMIT_NOFILE towards the hard limit, as far as the walk
 * can use (2 * FD_BUDGET_MAX), when it is lower; *ret_saved is what to put
 * back (fd_limit_restore()). The limit is process-wide: while the walk runs,
 * other threads of the process may open more files than they could before,
 * and their descriptors may exceed 1023 (select() cannot take those). The
 * usual 1024 soft limit with a much higher hard limit is what systemd and
 * the kernel give by default precisely so that programs that need more
 * raise it themselves (bfs and find do).
 */
static bool fd_limit_raise(struct rlimit *ret_saved)
{
	const rlim_t want = (rlim_t)FD_BUDGET_MAX * 2;
	struct rlimit rl, raised;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= want || rl.rlim_cur >= rl.rlim_max)
		return false;
	raised = rl;
	raised.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &raised) < 0)
		return false;
	*ret_saved = rl;
	return true;
}

/*
 * Put the soft limit back once the walker's fds are closed; left alone if
 * someone else changed it meanwhile. Descriptors opened in between above the
 * old limit stay valid (the limit only applies to new ones).
 */
static void fd_limit_restore(const struct rlimit *saved)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max != saved->rlim_max)
		return;
	rl.rlim_cur = saved->rlim_cur;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

static void worker_release(struct worker *w)
{
	scan_hasher_release(&w->hasher);
	scan_attrs_release(&w->attrs);
	free(w->dents);
	free(w->path);
	free(w->link);
	free(w->chunk);
	free(w->chain);
	batch_free(w->batch);
}

/* On the thread that calls scan_walk(), one worker after the other (libmagic loads too). */
static int worker_init(struct worker *w, struct walk *wk, struct diag *reterr)
{
	memset(w, 0, sizeof(*w));
	w->walk = wk;
	if (scan_hasher_init(&w->hasher, SCAN_HASH_BUF_SIZE) < 0)
		return -ENOMEM;
	w->hasher.progress = &wk->bytes_live;
	w->hasher.stop = &wk->stop;
	w->dents = malloc(DENTS_BUF_SIZE);
	if (!w->dents || grow(&w->chunk, &w->chunk_cap, CHUNK_BYTES) < 0)
		return -ENOMEM;
	if (wk->opts->may_mime)
		return scan_magic_open(&w->attrs.magic, reterr);
	return 0;
}

/* Free everything; the workers must have been joined. Accepts a half-built walk. */
static void walk_free(struct walk *wk)
{
	struct batch *b;

	if (!wk)
		return;
	if (wk->locks_ready) {
		pthread_mutex_lock(&wk->lock);
		while (wk->stack) {
			struct job *j = wk->stack;

			wk->stack = j->next;
			job_release_locked(wk, j);
			free(j);
		}
		if (wk->top)
			node_unref_locked(wk->top);
		pthread_mutex_unlock(&wk->lock);
	} else {
		free(wk->top);
	}
	while ((b = wk->out_head)) {
		wk->out_head = b->next;
		batch_free(b);
	}
	while ((b = wk->free_batches)) {
		wk->free_batches = b->next;
		batch_free(b);
	}
	for (size_t i = 0; wk->workers && i < wk->nworkers; i++)
		worker_release(&wk->workers[i]);
	free(wk->workers);
	free(wk->nested);
	if (wk->locks_ready) {
		pthread_mutex_destroy(&wk->lock);
		pthread_cond_destroy(&wk->work);
		pthread_mutex_destroy(&wk->out_lock);
		pthread_cond_destroy(&wk->out_ready);
		pthread_cond_destroy(&wk->out_space);
	}
	free(wk);
}

static int walk_init_locks(struct walk *wk)
{
	pthread_condattr_t ca;
	int r;

	r = pthread_condattr_init(&ca);
	if (r)
		return -r;
	r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (r == 0)
		r = pthread_cond_init(&wk->out_ready, &ca);
	pthread_condattr_destroy(&ca);
	if (r)
		return -r;
	pthread_mutex_init(&wk->lock, NULL);
	pthread_cond_init(&wk->work, NULL);
	pthread_mutex_init(&wk->out_lock, NULL);
	pthread_cond_init(&wk->out_space, NULL);
	wk->locks_ready = true;
	return 0;
}

/* Is @in strictly below the directory @out (both normalized, absolute)? */
static bool path_is_below(const char *in, size_t il, const char *out, size_t ol)
{
	if (ol >= il || memcmp(in, out, ol) != 0)
		return false;
	return (ol == 1 && out[0] == '/') || in[ol] == '/';
}

/*
 * Check the roots, drop duplicates, and build the NAMES job of the top
 * node. A root inside another root's directory is kept and recorded in
 * wk->nested: whether the outer walk would reach it depends on every mount
 * point and symlink on the way (and on cross_mounts), so instead the outer
 * walk never handles that exact path (process_name()) and the nested root,
 * walked from the top like any root, emits it and what is below it once.
 * That way /dev with /dev/shm (another filesystem) emits /dev/shm once, and
 * a root on the outer root's filesystem that is reachable only through
 * another mount is still walked.
 */
static int walk_prepare_roots(struct walk *wk, struct diag *reterr)
{
	const struct scan_opts *o = wk->opts;
	struct stat *sts = calloc(o->nroots, sizeof(*sts));
	size_t *lens = calloc(o->nroots, sizeof(*lens));
	bool *keep = calloc(o->nroots, sizeof(*keep));
	bool *nested = calloc(o->nroots, sizeof(*nested));
	size_t bytes = 0, count = 0, nnested = 0;
	struct job *j = NULL;
	char *p;
	int r = 0;

	if (!sts || !lens || !keep || !nested) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < o->nroots; i++) {
		const char *root = o->roots[i];

		if (!root || root[0] != '/') {
			r = diag_set(reterr, -EINVAL, "root '%s' is not an absolute path",
				     root ? root : "(null)");
			goto out;
		}
		lens[i] = strlen(root);
		while (lens[i] > 1 && root[lens[i] - 1] == '/')
			lens[i]--; /* "/tmp/x/" is "/tmp/x" */
		r = scan_sys_fstatat(AT_FDCWD, root, &sts[i], AT_SYMLINK_NOFOLLOW);
		if (r < 0) {
			r = diag_set(reterr, r, "cannot examine root '%s': %s", root, strerror(-r));
			goto out;
		}
	}
	for (size_t i = 0; i < o->nroots; i++) {
		bool dropped = false;

		for (size_t k = 0; k < o->nroots && !dropped; k++) {
			if (k == i)
				continue;
			if (lens[k] == lens[i] && memcmp(o->roots[k], o->roots[i], lens[i]) == 0)
				dropped = k < i; /* the same root twice: keep the first */
			else if (S_ISDIR(sts[k].st_mode) &&
				 path_is_below(o->roots[i], lens[i], o->roots[k], lens[k]))
				nested[i] = true;
		}
		keep[i] = !dropped;
		if (keep[i]) {
			bytes += lens[i] + 1;
			nnested += nested[i];
		}
	}
	if (nnested) {
		wk->nested = calloc(nnested, sizeof(*wk->nested));
		if (!wk->nested) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < o->nroots; i++)
			if (keep[i] && nested[i])
				wk->nested[wk->nnested++] =
					(struct root_key){ o->roots[i], lens[i] };
		qsort(wk->nested, wk->nnested, sizeof(*wk->nested), root_key_cmp);
	}

	j = calloc(1, sizeof(*j) + bytes);
	if (!j) {
		r = -ENOMEM;
		goto out;
	}
	j->kind = JOB_NAMES;
	j->node = wk->top;
	p = j->names;
	for (size_t i = 0; i < o->nroots; i++) {
		if (!keep[i])
			continue;
		memcpy(p, o->roots[i], lens[i]);
		p[lens[i]] = '\0';
		p += lens[i] + 1;
		count++;
	}
	j->count = count;
	wk->top->refs++;
	wk->top->pins++;
	job_push_locked(wk, j);
out:
	free(sts);
	free(lens);
	free(keep);
	free(nested);
	return r;
}

static int walk_new(const struct scan_opts *opts, struct walk **ret_walk, struct diag *reterr)
{
	struct walk *wk = calloc(1, sizeof(*wk));
	unsigned n = opts->nthreads;
	size_t room = fd_room();
	int r;

	if (!wk)
		return -ENOMEM;
	wk->opts = opts;
	if (n == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		n = cpus > 0 ? (unsigned)cpus : 1;
	}
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	n = threads_for_room(n, room);

	r = walk_init_locks(wk);
	if (r < 0)
		goto fail;
	wk->top = calloc(1, sizeof(*wk->top) + 1);
	if (!wk->top) {
		r = -ENOMEM;
		goto fail;
	}
	wk->top->top = true;
	wk->top->fd = AT_FDCWD;
	wk->top->refs = 1; /* the walk's own */

	wk->workers = calloc(n, sizeof(*wk->workers));
	if (!wk->workers) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < n; i++) {
		wk->nworkers++;
		r = worker_init(&wk->workers[i], wk, reterr);
		if (r < 0)
			goto fail;
	}
	wk->fd_budget = fd_budget(n, room);

	r = walk_prepare_roots(wk, reterr);
	if (r < 0)
		goto fail;
	*ret_walk = wk;
	return 0;

fail:
	walk_free(wk);
	return r;
}

/* Start the workers with every signal blocked (they inherit the mask). */
static int walk_start(struct walk *wk)
{
	sigset_t all, old;
	int r = 0;

	wk->alive = wk->nworkers;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t i = 0; i < wk->nworkers; i++) {
		r = pthread_create(&wk->workers[i].thread, NULL, worker_main, &wk->workers[i]);
		if (r)
			break;
		wk->nstarted++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (wk->nstarted < wk->nworkers) {
		pthread_mutex_lock(&wk->out_lock);
		wk->alive -= wk->nworkers - wk->nstarted;
		pthread_mutex_unlock(&wk->out_lock);
	}
	/* Fewer threads than asked for still walk everything. */
	return wk->nstarted ? 0 : -(r ? r : EAGAIN);
}

static void timespec_add_ns(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

static bool time_reached(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* The caller thread's loop: visit batches, tick. Returns 0, -ECANCELED. */
static int walk_consume(struct walk *wk, struct scan_stats *stats)
{
	const struct scan_opts *o = wk->opts;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	timespec_add_ns(&next, TICK_NS);
	for (;;) {
		struct batch *b;
		bool finished;

		pthread_mutex_lock(&wk->out_lock);
		while (!wk->out_head && wk->alive > 0 && !time_reached(&next))
			pthread_cond_timedwait(&wk->out_ready, &wk->out_lock, &next);
		b = wk->out_head;
		if (b) {
			wk->out_head = b->next;
			if (!wk->out_head)
				wk->out_tail = NULL;
			wk->out_count--;
			pthread_cond_signal(&wk->out_space);
		}
		finished = !b && wk->alive == 0;
		pthread_mutex_unlock(&wk->out_lock);

		if (b) {
			bool stop = false;

			for (size_t i = 0; i < b->n && !stop; i++) {
				const struct entry *e = &b->e[i];

				stats->entries++;
				if (e->err)
					stats->errors++;
				if (e->hash_algo != HASH_NONE) {
					stats->files_hashed++;
					stats->bytes_hashed += e->size;
				}
				stop = o->visit(e, o->userdata) == SCAN_STOP;
			}
			batch_recycle(wk, b);
			if (stop)
				return -ECANCELED;
		}
		if (time_reached(&next)) {
			if (o->tick) {
				struct scan_stats now = *stats;
				uint64_t live =
					atomic_load_explicit(&wk->bytes_live, memory_order_relaxed);

				/* Show progress inside big files not yet visited. */
				if (live > now.bytes_hashed)
					now.bytes_hashed = live;
				if (o->tick(&now, o->userdata))
					return -ECANCELED;
			}
			clock_gettime(CLOCK_MONOTONIC, &next);
			timespec_add_ns(&next, TICK_NS);
		}
		if (finished)
			return 0;
	}
}

int scan_walk(const struct scan_opts *opts, struct scan_stats *ret_stats, struct diag *reterr)
{
	struct scan_stats stats = { 0 };
	struct walk *wk = NULL;
	struct rlimit saved;
	bool raised = false;
	int r, failure;

	if (!opts || !opts->visit || (opts->nroots && !opts->roots)) {
		r = diag_set(reterr, -EINVAL, "invalid scan options");
		goto out;
	}
	if (opts->hash != HASH_NONE && opts->hash != HASH_XXH3_128) {
		r = diag_set(reterr, -EOPNOTSUPP,
			     "hash algorithm '%s' is not supported by the walker",
			     hash_algo_name(opts->hash));
		goto out;
	}
	if (opts->nroots == 0) {
		r = 0;
		goto out;
	}
	raised = fd_limit_raise(&saved);
	r = walk_new(opts, &wk, reterr);
	if (r < 0)
		goto out;
	r = walk_start(wk);
	if (r < 0) {
		diag_set(reterr, r, "cannot start walker threads: %s", strerror(-r));
		goto out_free;
	}
	r = walk_consume(wk, &stats);
	walk_stop(wk); /* no-op for a completed walk: every worker has exited */
	for (size_t i = 0; i < wk->nstarted; i++)
		pthread_join(wk->workers[i].thread, NULL);
	failure = atomic_load(&wk->failure);
	if (failure)
		r = diag_set(reterr, failure, "walk failed: %s", strerror(-failure));
out_free:
	walk_free(wk);
out:
	if (raised)
		fd_limit_restore(&saved);
	if (ret_stats)
		*ret_stats = stats;
	return r;
}

int scan_root_resolve(const char *root, char **ret_path, struct diag *reterr)
{
	char *p;

	if (!root || !*root)
		return diag_set(reterr, -EINVAL, "empty root path");
	p = realpath(root, NULL);
	if (!p) {
		int r = -errno;

		return diag_set(reterr, r, "cannot resolve root '%s': %s", root, strerror(-r));
	}
	*ret_path = p;
	return 0;
}
