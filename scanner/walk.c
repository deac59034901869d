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
 *         path below the pseudo-directory "top", whose fd is the walk's
 *         root, opts->rootfd or "/", looked up with openat2() and no
 *         symlink allowed on the way), fstat it (that is the directory's entry), list it
 *         whole with raw getdents64, sort the names, cut them into NAMES
 *         chunks of up to 256 names, push those, emit its entry.
 *   NAMES up to 256 sorted names of one directory: build each path, ask
 *         opts->decide, fstatat, and then emit the entry (readlinkat for a
 *         symlink, hash a regular file, or take the hash from opts->reuse)
 *         or, for a subdirectory, stop there: push the job back with the
 *         names left and the subdirectory's DIR job above it. Chunking is
 *         what lets both cores work on one huge directory.
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
 * nearest ancestor whose fd is open (the top always is), pinned
 * while we use it, one openat(O_DIRECTORY|O_NOFOLLOW) per path component,
 * each result checked against the node's st_dev/st_ino (a directory renamed
 * or replaced meanwhile gives ESTALE: treated like a vanished one). The
 * reopened fd is installed in the node if the budget allows by then,
 * otherwise used for this one job and closed. No syscall ever gets a built
 * multi-component path, which is why paths beyond PATH_MAX work.
 *
 * Order and memory
 * ----------------
 * Entries come out close to key order, because SQLite inserts into the
 * (snap, kind, key) b-tree 2-3x faster, and the database is about 20%
 * smaller, when keys arrive in order (pages are filled, not split in the
 * middle). Each directory is listed completely, its names sorted in
 * memcmp order (pointers into the listing buffer: the names are not
 * copied to sort them), and the chunks are pushed last first, so that the
 * first names are popped first. A NAMES job stops at a subdirectory and is
 * pushed back under the subdirectory's DIR job, so the subtree comes
 * before the rest of the names. With one thread the order is therefore
 * exactly depth-first pre-order with sorted siblings: "/a", "/a/x",
 * "/a-b". That is not the bytes order of the full paths, in which "/a-b"
 * ('-' is 0x2d) and "/a.conf" come before "/a/x" ('/' is 0x2f): a sibling
 * whose name extends a directory's name with a byte below '/' is emitted
 * after that directory's subtree instead of before it. With N threads the
 * workers' batches interleave, each batch still in that order. The price:
 * a directory is chunked only once it is fully listed (no chunk of a huge
 * directory starts before its listing ends), and a subdirectory costs one
 * more push and pop of its parent's job.
 *
 * A NAMES chunk costs its names; a pending DIR job a node plus a struct
 * stat. Depth-first popping keeps the pending set near "a few chunks per
 * open level". The listing buffer of a huge directory (all its names, then
 * the pointers) is freed after use once it passes 1 MiB. Entries are
 * copied (key and target bytes too) into per-worker batches, recycled
 * through a free list.
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
#include <endian.h>
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
#define DENTS_SLACK    16 /* after the buffer: name_key() reads up to 16 bytes of a name */
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

/*
 * A listed name, for sorting: its offset in worker->names and its first 16
 * bytes as two big-endian numbers (zero-padded), which decide almost every
 * comparison without touching the name.
 */
struct name_ref {
	uint64_t key[2];
	size_t off;
};

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
	int fd;               /* under walk->lock; -1 when closed; the walk's root for the top */
	bool top;             /* the pseudo-directory whose names are the roots */
	dev_t dev;            /* identity of the directory, for reopening */
	ino_t ino;
	dev_t root_dev; /* st_dev of the root above, for cross_mounts */
	/*
	 * A node owns only its own name (a root: its whole key), not its full
	 * path: the key is rebuilt from the chain of parents when needed
	 * (node_key()), so the nodes of a tree N levels deep hold N names, not
	 * N paths of up to N names each.
	 */
	size_t path_len; /* of the full key */
	size_t name_len;
	bool slash; /* a '/' separates the name from its parent's key */
	char name[];
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
	size_t count;       /* NAMES: NUL-terminated names in names[], sorted */
	size_t done;        /* NAMES: names already processed (the job was requeued) */
	size_t done_off;    /* NAMES: offset of the first name not processed yet */
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
	unsigned index; /* in walk->workers, for opts->reuse */
	char *names;    /* the directory being listed: its names, NUL-terminated */
	size_t names_len, names_cap, names_count;
	struct name_ref *refs; /* the names, to sort; then the merge sort's other half */
	size_t refs_cap;       /* in elements, for both halves */
	size_t prefix_len; /* path[0, prefix_len) is the directory of the names being processed */
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
	atomic_int failure;            /* first -errno of the walk itself, 0 if none */
	_Atomic uint64_t bytes_live;   /* bytes hashed so far, for the tick */
	_Atomic uint64_t files_reused; /* hashes taken from opts->reuse */

	struct worker *workers;
	size_t nworkers, nstarted;
	bool locks_ready;
	bool own_top_fd;      /* we opened "/" for the top: close own_top_fd_value */
	int own_top_fd_value; /* (top itself may be freed before the walk) */

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
	return n->name;
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

/* Put back a job that was running and is not finished: it stays outstanding. */
static void job_requeue_locked(struct walk *wk, struct job *j)
{
	j->next = wk->stack;
	wk->stack = j;
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
 * Open the directory @n, a child of @parent (open as @pfd). A root (a
 * child of the top) is a path below the walk's root: looked up with no
 * symlink followed on the way (scan_sys_openat_beneath()); anything else
 * is one name relative to its parent's fd.
 */
static int node_open(const struct dnode *parent, int pfd, const struct dnode *n)
{
	if (parent->top)
		return scan_sys_openat_beneath(pfd, node_name(n), DIR_FLAGS);
	return scan_sys_openat(pfd, node_name(n), DIR_FLAGS);
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
		int next = node_open(i ? w->chain[i - 1] : anchor, cur, w->chain[i]);

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

/*
 * Errors that are drift's own state, not the host's: out of descriptors
 * (ours or the system's) or of memory. Recorded as an entry's error, they
 * would make the snapshot claim "unreadable" for files that are fine, and
 * the next check would report them all as changed.
 */
static bool is_resource_error(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS;
}

/*
 * Copy @e (and the bytes it points to) into the worker's batch. An entry
 * whose error is a resource error is never emitted: the walk fails instead
 * (scan_walk() returns that error, and the snapshot stays incomplete).
 */
static void worker_emit(struct worker *w, const struct entry *e)
{
	size_t need = e->key_len + 1 + (e->target ? e->target_len + 1 : 0) +
		      (e->content ? e->content_len : 0);
	size_t acl_len = 0, caps_len = 0, selinux_len = 0, mime_len = 0;
	struct batch *b = w->batch;
	struct entry *d;
	char *p;

	if (is_resource_error(e->err)) {
		walk_fail(w->walk, -e->err);
		return;
	}
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
	if (e->content) {
		p = b->bytes + b->used;
		if (e->content_len)
			memcpy(p, e->content, e->content_len);
		d->content = (const uint8_t *)p;
		b->used += e->content_len;
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

/*
 * Put the key of directory @n at the start of w->path (NUL-terminated),
 * from its names up the chain of parents: O(depth), once per job. Nodes
 * above a node a job holds are immutable and alive: no lock needed.
 * Returns 0 or -ENOMEM.
 */
static int node_key(struct worker *w, const struct dnode *n)
{
	size_t pos = n->top ? 0 : n->path_len;

	if (grow(&w->path, &w->path_cap, pos + 2) < 0)
		return -ENOMEM;
	w->path[pos] = '\0';
	for (const struct dnode *d = n; !d->top; d = d->parent) {
		pos -= d->name_len;
		memcpy(w->path + pos, d->name, d->name_len);
		if (d->slash)
			w->path[--pos] = '/';
	}
	assert(pos == 0);
	return 0;
}

/* Does a name below @n need a '/' after @n's key? Not below the top, nor below "/". */
static bool node_slash_below(const struct dnode *n)
{
	return !n->top && !(n->path_len == 1 && n->parent->top && n->name[0] == '/');
}

/*
 * Put the keys' common part for the names of @n ("/usr/lib/", nothing for
 * the top) at the start of w->path, once per job. Returns 0 or -ENOMEM.
 */
static int key_prefix(struct worker *w, const struct dnode *n)
{
	size_t dl = n->top ? 0 : n->path_len;
	bool slash = node_slash_below(n);

	if (node_key(w, n) < 0 || grow(&w->path, &w->path_cap, dl + slash + 1) < 0)
		return -ENOMEM;
	if (slash)
		w->path[dl] = '/';
	w->prefix_len = dl + slash;
	return 0;
}

/* The key of @name after key_prefix(), in w->path; returns its length or -ENOMEM. */
static int64_t key_build(struct worker *w, const char *name, size_t nl)
{
	size_t len = w->prefix_len + nl;

	if (grow(&w->path, &w->path_cap, len + 1) < 0)
		return -ENOMEM;
	memcpy(w->path + w->prefix_len, name, nl + 1);
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
	e->rdev = (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) ? st->st_rdev : 0;
}

/*
 * readlinkat() the whole target, whatever st_size claims. Sets e->target or
 * e->err. EINVAL means the name is no longer a symlink (replaced since *st
 * was looked up): with @retype, it is looked up again, and SCAN_HASH_RETYPE
 * returned when it is something else now (*st says what, for the caller to
 * classify, as after a swap the hasher found); a symlink by that name now is
 * read. Otherwise returns 0.
 */
static int read_link(struct worker *w, int dfd, const char *name, struct stat *st, struct entry *e,
		     bool retype)
{
	size_t want = st->st_size > 0 ? (size_t)st->st_size + 1 : 256;

	for (;;) {
		struct stat now;
		ssize_t n;
		int r;

		if (grow(&w->link, &w->link_cap, want) < 0) {
			walk_fail(w->walk, -ENOMEM);
			e->err = ENOMEM;
			return 0;
		}
		n = scan_sys_readlinkat(dfd, name, w->link, w->link_cap);
		if (n == -EINVAL && retype) {
			retype = false; /* once: a name swapped back and forth stays unread */
			r = scan_sys_fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW);
			if (r < 0) {
				e->err = -r; /* ENOENT: it vanished */
				return 0;
			}
			*st = now;
			if (!S_ISLNK(now.st_mode))
				return SCAN_HASH_RETYPE;
			want = now.st_size > 0 ? (size_t)now.st_size + 1 : 256;
			continue;
		}
		if (n < 0) {
			e->err = (int)-n;
			return 0;
		}
		if ((size_t)n < w->link_cap) {
			e->target = w->link;
			e->target_len = (size_t)n;
			return 0;
		}
		if (w->link_cap >= LINK_MAX_BYTES) {
			e->err = ENAMETOOLONG;
			return 0;
		}
		want = w->link_cap * 2; /* truncated: st_size lied (procfs...) */
	}
}

/*
 * The DIR job of the subdirectory whose key is in w->path. The caller
 * pushes it (dir_job_push_locked()), which takes the references on
 * @parent. NULL when out of memory (the walk has failed then).
 */
static struct job *dir_job_new(struct worker *w, struct dnode *parent, size_t key_len,
			       size_t name_len, const struct stat *st, unsigned want)
{
	size_t own = parent->top ? key_len : name_len; /* a root's name is its key */
	struct dnode *c = malloc(sizeof(*c) + own + 1);
	struct job *j = malloc(sizeof(*j));

	if (!c || !j) {
		free(c);
		free(j);
		walk_fail(w->walk, -ENOMEM);
		return NULL;
	}
	memcpy(c->name, w->path + key_len - own, own + 1);
	c->name_len = own;
	c->path_len = key_len;
	c->slash = node_slash_below(parent);
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
	return j;
}

static void dir_job_push_locked(struct walk *wk, struct job *j)
{
	j->node->parent->refs++;
	j->node->parent->pins++;
	job_push_locked(wk, j);
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

/*
 * opts->reuse: may the content hash of the regular file (key in @e, stat
 * *st) be taken from the caller instead of reading the file? On true the
 * hash fields of @e are set. A reply with another algorithm or a length
 * that is not the algorithm's is ignored: the file is read as usual.
 */
static bool reuse_hash(struct worker *w, const struct stat *st, struct entry *e, bool keep)
{
	const struct scan_opts *o = w->walk->opts;
	struct entry cur = *e, got = { 0 };

	entry_fill_stat(&cur, st);
	if (!o->reuse(w->index, &cur, &got, o->reuse_data))
		return false;
	if (got.hash_algo != o->hash || got.hash_len != scan_hash_len(o->hash))
		return false;
	e->hash_algo = got.hash_algo;
	e->hash_len = got.hash_len;
	memcpy(e->hash, got.hash, got.hash_len);
	if (keep && got.has_content) {
		e->has_content = true;
		memcpy(e->content_id, got.content_id, sizeof(e->content_id));
	}
	atomic_fetch_add_explicit(&w->walk->files_reused, 1, memory_order_relaxed);
	return true;
}

/*
 * The parent directory of the root @path (@len bytes, absolute), looked up
 * below the walk's root with no symlink followed, into *ret_fd, and its
 * last component into *ret_name (a pointer into @path; "." for "/", with
 * the root's own fd dup'ed). Returns 0 or -errno (ELOOP: a component on the
 * way is, or was swapped for, a symlink).
 */
static int root_parent_open(struct walk *wk, const char *path, size_t len, int *ret_fd,
			    const char **ret_name)
{
	size_t slash = len;
	char *dir;
	int fd;

	while (slash > 0 && path[slash - 1] != '/')
		slash--;
	if (slash == len) { /* "/": the root itself */
		fd = scan_sys_openat_beneath(wk->top->fd, "", O_PATH | O_DIRECTORY);
		if (fd < 0)
			return fd;
		*ret_fd = fd;
		*ret_name = ".";
		return 0;
	}
	dir = strndup(path, slash);
	if (!dir)
		return -ENOMEM;
	fd = scan_sys_openat_beneath(wk->top->fd, dir, O_PATH | O_DIRECTORY);
	free(dir);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	*ret_name = path + slash;
	return 0;
}

/*
 * One name (@nl bytes) of directory @n (open as @dfd), whose key prefix is
 * in w->path: decide, stat, then emit it, or return the DIR job of a
 * subdirectory to descend into, for the caller to push.
 */
static struct job *process_name(struct worker *w, struct dnode *n, int dfd, const char *name,
				size_t nl)
{
	struct walk *wk = w->walk;
	const struct scan_opts *o = wk->opts;
	unsigned want = SCAN_ALL, attrs = 0;
	struct entry e = { 0 };
	struct job *dj = NULL;
	struct stat st;
	int64_t len;
	int fd = -1, pfd = -1, r = 0;
	bool retyped = false;

	len = key_build(w, name, nl);
	if (len < 0) {
		walk_fail(wk, -ENOMEM);
		return NULL;
	}
	if (!n->top && is_nested_root(wk, w->path, (size_t)len))
		return NULL; /* a root of its own: walked (and emitted) from the top, once */
	/* Decided before anything about the name is read. */
	if (o->decide) {
		want = o->decide(w->path, (size_t)len, o->decide_data);
		if (want == SCAN_SKIP)
			return NULL;
	}
	if (n->top) {
		/*
		 * A root: from here on, its parent directory (looked up below the
		 * walk's root, no symlink followed) and its last component.
		 */
		r = root_parent_open(wk, name, nl, &pfd, &name);
		dfd = pfd;
	}
	if (r == 0)
		r = scan_sys_fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW);
	if (r == -ENOENT)
		goto out; /* vanished since the listing: not an entry at all */

	e.kind = ENTRY_FILE;
	e.key = w->path;
	e.key_len = (size_t)len;
	if (r < 0) {
		/* Emitted even under SCAN_NO_ENTRY: it may hide what is covered below. */
		e.err = -r;
		worker_emit(w, &e);
		goto out;
	}
	if ((want & SCAN_NO_ENTRY) && !S_ISDIR(st.st_mode))
		goto out;
	attrs = want & SCAN_ATTRS_MASK;

classify:
	if (S_ISREG(st.st_mode) && (want & SCAN_HASH) && o->hash != HASH_NONE &&
	    !(o->reuse && reuse_hash(w, &st, &e, want & SCAN_KEEP))) {
		/* With attributes to read, keep the fd the content was read through. */
		r = scan_hasher_entry_keep(&w->hasher, dfd, name, &st, &e, attrs ? &fd : NULL);
		if (r == -ECANCELED)
			goto out;
		/* SCAN_KEEP: the bytes just hashed are still in the buffer. */
		if (r == 0 && (want & SCAN_KEEP) && S_ISREG(st.st_mode) && !e.err &&
		    e.hash_algo != HASH_NONE && !(e.flags & ENTRY_CHANGED_WHILE_READ) &&
		    w->hasher.whole && w->hasher.whole_len == (uint64_t)st.st_size &&
		    w->hasher.whole_len <= SCAN_KEEP_MAX) {
			e.content = w->hasher.buf;
			e.content_len = w->hasher.whole_len;
		}
		/* SCAN_HASH_RETYPE: st now says what the name really is; classify it below. */
	}
	if (S_ISDIR(st.st_mode)) {
		if (!(want & SCAN_NO_DESCEND) &&
		    (n->top || o->cross_mounts || st.st_dev == n->root_dev)) {
			/* The DIR job emits the entry (no fd of ours: only files are hashed). */
			dj = dir_job_new(w, n, (size_t)len, nl, &st, want);
			goto out;
		}
		if (want & SCAN_NO_ENTRY)
			goto out; /* not entered (another filesystem, NO_DESCEND): nothing to show
				   */
	} else if (S_ISLNK(st.st_mode)) {
		/* Swapped for a directory or a file since it was looked up: record that. */
		if (read_link(w, dfd, name, &st, &e, !retyped) == SCAN_HASH_RETYPE) {
			retyped = true;
			goto classify;
		}
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
	if (pfd >= 0)
		close(pfd);
	return dj;
}

/*
 * Process the names of a NAMES job in order. At a subdirectory, stop: put
 * the job back with the names not yet processed, and push the
 * subdirectory's DIR job above it, so that the subtree comes next and the
 * rest of the names after it (depth-first pre-order). Returns true when
 * the job was put back (the caller must neither release nor free it).
 */
static bool run_names(struct worker *w, struct job *j)
{
	struct walk *wk = w->walk;
	struct dnode *n = j->node;
	const char *name = j->names + j->done_off;
	bool priv = false, requeued = false;
	int dfd = -1;
	int r;

	r = node_get_fd(w, n, &dfd, &priv);
	if (r == -ENOMEM) {
		walk_fail(wk, r);
		return false;
	}
	if (r == -ENOENT || r == -ESTALE)
		return false; /* the directory vanished (or was replaced): so did its names */
	if (key_prefix(w, n) < 0) {
		walk_fail(wk, -ENOMEM);
		goto out;
	}

	for (size_t i = j->done; i < j->count; i++) {
		size_t nl = strlen(name);
		struct job *dj;

		if (walk_stopping(wk))
			break;
		if (r < 0) {
			/* The directory cannot be reached (EACCES...): say so per name. */
			struct entry e = { 0 };
			int64_t len = key_build(w, name, nl);

			if (len < 0) {
				walk_fail(wk, -ENOMEM);
				break;
			}
			name += nl + 1;
			if (wk->opts->decide &&
			    wk->opts->decide(w->path, (size_t)len, wk->opts->decide_data) ==
				    SCAN_SKIP)
				continue;
			e.kind = ENTRY_FILE;
			e.key = w->path;
			e.key_len = (size_t)len;
			e.err = -r;
			worker_emit(w, &e);
			continue;
		}
		dj = process_name(w, n, dfd, name, nl);
		name += nl + 1;
		if (!dj)
			continue;
		pthread_mutex_lock(&wk->lock);
		if (i + 1 < j->count) {
			j->done = i + 1;
			j->done_off = (size_t)(name - j->names);
			job_requeue_locked(wk, j);
			requeued = true;
		}
		dir_job_push_locked(wk, dj);
		pthread_mutex_unlock(&wk->lock);
		break;
	}
out:
	if (priv)
		close(dfd);
	return requeued;
}

/* ---- listing a directory ---- */

/* memcmp order of the names behind @a and @b (NUL-terminated, in @base). */
static inline bool ref_less(const char *base, const struct name_ref *a, const struct name_ref *b)
{
	if (a->key[0] != b->key[0])
		return a->key[0] < b->key[0];
	if (a->key[1] != b->key[1])
		return a->key[1] < b->key[1];
	/* Equal first 16 bytes: the same name if it ends in them, else compare the rest. */
	if ((a->key[1] & 0xff) == 0)
		return false;
	/* strcmp() compares as unsigned char: memcmp order, a prefix first. */
	return strcmp(base + a->off + 16, base + b->off + 16) < 0;
}

#define SORT_RUN 16

/*
 * Sort v[0, n) with @tmp (n more elements) as scratch: insertion sort of
 * runs of SORT_RUN, then bottom-up merges. O(n log n) whatever the names
 * (a directory's names are chosen by whoever can write in it: no
 * quicksort worst case), no allocation, and the comparison is inlined,
 * which qsort() cannot do: this is about a fifth of qsort()'s instructions
 * on /usr. Returns the array that holds the result (@v or @tmp).
 */
static struct name_ref *refs_sort(struct name_ref *v, struct name_ref *tmp, size_t n,
				  const char *base)
{
	for (size_t lo = 0; lo < n; lo += SORT_RUN) {
		size_t hi = lo + SORT_RUN < n ? lo + SORT_RUN : n;

		for (size_t i = lo + 1; i < hi; i++) {
			struct name_ref x = v[i];
			size_t k = i;

			for (; k > lo && ref_less(base, &x, &v[k - 1]); k--)
				v[k] = v[k - 1];
			v[k] = x;
		}
	}
	for (size_t width = SORT_RUN; width < n; width *= 2) {
		struct name_ref *t;

		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t a = lo, b = mid, o = lo;

			while (a < mid && b < hi)
				tmp[o++] = ref_less(base, &v[b], &v[a]) ? v[b++] : v[a++];
			while (a < mid)
				tmp[o++] = v[a++];
			while (b < hi)
				tmp[o++] = v[b++];
		}
		t = v;
		v = tmp;
		tmp = t;
	}
	return v;
}

/*
 * Turn the sorted names @sorted[0, names_count) into NAMES jobs of at most
 * CHUNK_NAMES names and CHUNK_BYTES bytes (or one name), and push them so
 * that the first names are popped first: all of them under one lock, the
 * last chunk first.
 */
static void push_chunks(struct worker *w, struct dnode *n, const struct name_ref *sorted)
{
	struct walk *wk = w->walk;
	struct job *list = NULL;
	size_t i = 0;

	while (i < w->names_count) {
		size_t lens[CHUNK_NAMES];
		size_t k = i, bytes = 0;
		struct job *j;
		char *p;

		while (k < w->names_count && k - i < CHUNK_NAMES) {
			size_t nl = strlen(w->names + sorted[k].off) + 1;

			if (k > i && bytes + nl > CHUNK_BYTES)
				break;
			lens[k - i] = nl;
			bytes += nl;
			k++;
		}
		j = malloc(sizeof(*j) + bytes);
		if (!j) {
			walk_fail(wk, -ENOMEM);
			break;
		}
		memset(j, 0, sizeof(*j));
		j->kind = JOB_NAMES;
		j->node = n;
		j->count = k - i;
		p = j->names;
		for (size_t m = 0; i < k; i++, m++) {
			memcpy(p, w->names + sorted[i].off, lens[m]);
			p += lens[m];
		}
		j->next = list; /* reversed: the last chunk ends up first in the list */
		list = j;
	}
	if (!list)
		return;
	pthread_mutex_lock(&wk->lock);
	while (list) {
		struct job *j = list;

		list = j->next;
		n->refs++;
		n->pins++;
		job_push_locked(wk, j);
	}
	pthread_mutex_unlock(&wk->lock);
}

/* Keep the listing buffers of a huge directory no longer than needed. */
#define NAMES_KEEP_BYTES (1 << 20)

/*
 * Bytes [at, at + 8) of the name @p (@nl bytes) as a big-endian number,
 * zero past its end. Reads 8 bytes whatever @nl: the caller guarantees
 * they are in its buffer (DENTS_SLACK).
 */
static inline uint64_t name_key(const char *p, size_t nl, size_t at)
{
	uint64_t raw;

	if (nl <= at)
		return 0;
	memcpy(&raw, p + at, 8);
	raw = be64toh(raw);
	return nl - at >= 8 ? raw : raw & ~(UINT64_MAX >> (8 * (nl - at)));
}

/* Append one listed name (@nl bytes, without its NUL) to w->names and w->refs. */
static int names_add(struct worker *w, const char *name, size_t nl)
{
	struct name_ref *r;

	if (w->names_count == w->refs_cap / 2) {
		size_t cap = w->refs_cap ? w->refs_cap * 2 : 512;
		struct name_ref *v = realloc(w->refs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->refs = v;
		w->refs_cap = cap;
	}
	r = &w->refs[w->names_count++];
	r->key[0] = name_key(name, nl, 0);
	r->key[1] = name_key(name, nl, 8);
	r->off = w->names_len;
	memcpy(w->names + w->names_len, name, nl + 1);
	w->names_len += nl + 1;
	return 0;
}

/*
 * List @fd into NAMES jobs for @n: all its names into w->names, sorted
 * (references into w->names, memcmp order), then chunked. Names whose keys
 * would exceed the walk's max_path are left out, and *ret_too_deep set.
 * Returns 0 or the -errno of getdents64 (what was listed before the error
 * is still pushed).
 */
static int list_dir(struct worker *w, struct dnode *n, int fd, bool *ret_too_deep)
{
	size_t base = n->path_len + node_slash_below(n), max = w->walk->opts->max_path;
	const struct name_ref *sorted;
	int r = 0;

	if (!max)
		max = SCAN_MAX_PATH_DEFAULT;

	w->names_len = 0;
	w->names_count = 0;
	while (!walk_stopping(w->walk)) {
		ssize_t len = scan_sys_getdents64(fd, w->dents, DENTS_BUF_SIZE);

		if (len <= 0) {
			r = (int)len;
			break;
		}
		/* The names take less room than their records: grow once per read. */
		if (grow(&w->names, &w->names_cap, w->names_len + (size_t)len) < 0)
			goto fail;
		for (ssize_t off = 0; off < len;) {
			const struct dent64 *d = (const struct dent64 *)(w->dents + off);
			const char *name = d->d_name;
			size_t nl;

			off += d->d_reclen;
			if (name[0] == '.' &&
			    (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
				continue;
			nl = strlen(name);
			if (base + nl > max) {
				*ret_too_deep = true;
				continue;
			}
			if (names_add(w, name, nl) < 0)
				goto fail;
		}
	}
	/* An empty directory has no refs array yet: NULL + 0 is not a pointer to sort. */
	if (w->names_count) {
		sorted = refs_sort(w->refs, w->refs + w->names_count, w->names_count, w->names);
		push_chunks(w, n, sorted);
	}
	if (w->names_cap > NAMES_KEEP_BYTES || w->refs_cap * sizeof(*w->refs) > NAMES_KEEP_BYTES) {
		free(w->names);
		free(w->refs);
		w->names = NULL;
		w->refs = NULL;
		w->names_cap = w->refs_cap = 0;
	}
	w->names_count = 0;
	return r;
fail:
	walk_fail(w->walk, -ENOMEM);
	w->names_count = 0;
	return 0;
}

static void emit_dir(struct worker *w, const struct dnode *n, const struct stat *st, int err)
{
	struct entry e = { 0 };

	if (node_key(w, n) < 0) {
		walk_fail(w->walk, -ENOMEM);
		return;
	}
	e.kind = ENTRY_FILE;
	e.key = w->path;
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
			    int err, unsigned flags)
{
	const struct dnode *n = j->node;
	unsigned attrs = j->want & SCAN_ATTRS_MASK;
	struct entry e = { 0 };

	if ((j->want & SCAN_NO_ENTRY) && err == 0)
		return;
	if (node_key(w, n) < 0) {
		walk_fail(w->walk, -ENOMEM);
		return;
	}
	e.kind = ENTRY_FILE;
	e.key = w->path;
	e.key_len = n->path_len;
	e.err = err;
	e.flags = flags;
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
	bool priv = false, keep = false, too_deep = false;
	int pfd = -1, fd, r;

	r = node_get_fd(w, n->parent, &pfd, &priv);
	if (r == 0) {
		fd = node_open(n->parent, pfd, n);
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

	r = list_dir(w, n, fd, &too_deep);
	/*
	 * ENOENT: removed while we listed it (getdents64 on a dead directory).
	 * Like any vanished entry it is absent; the names already listed are
	 * looked up and turn out gone too (rmdir needs it empty).
	 */
	if (r != -ENOENT)
		emit_listed_dir(w, j, fd, &st,
				r          ? -r
				: too_deep ? ENAMETOOLONG
					   : 0,
				too_deep ? ENTRY_NOT_DESCENDED_TOO_DEEP : 0);

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
		else if (run_names(w, j))
			continue; /* put back on the stack, with the names left */

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

/* What fd_room() will say after a successful fd_limit_raise(), without raising anything. */
static size_t fd_room_raised(void)
{
	const rlim_t want = (rlim_t)FD_BUDGET_MAX * 2;
	struct rlimit rl;
	size_t soft = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rlim_t cur = rl.rlim_cur;

		if (cur != RLIM_INFINITY && cur < want && cur < rl.rlim_max)
			cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want
										 : rl.rlim_max;
		soft = cur == RLIM_INFINITY || cur > want ? (size_t)want : (size_t)cur;
	}
	return soft / 2;
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
	free(w->names);
	free(w->refs);
	free(w->chain);
	batch_free(w->batch);
}

/* On the thread that calls scan_walk(), one worker after the other (libmagic loads too). */
static int worker_init(struct worker *w, struct walk *wk, unsigned index, struct diag *reterr)
{
	int r;

	memset(w, 0, sizeof(*w));
	w->walk = wk;
	w->index = index;
	if (wk->opts->hash != HASH_NONE) {
		/* A metadata-only walk needs no read buffer and no hash state. */
		r = scan_hasher_init(&w->hasher, wk->opts->hash, SCAN_HASH_BUF_SIZE);
		if (r < 0)
			return r;
		w->hasher.progress = &wk->bytes_live;
		w->hasher.stop = &wk->stop;
	}
	w->dents = calloc(1, DENTS_BUF_SIZE + DENTS_SLACK);
	if (!w->dents)
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
	if (wk->own_top_fd)
		close(wk->own_top_fd_value);
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

/* lstat() of the root @path below the walk's root, no symlink followed on the way. */
static int root_lstat(const struct walk *wk, const char *path, struct stat *ret_st)
{
	int fd = scan_sys_openat_beneath(wk->top->fd, path, O_PATH | O_NOFOLLOW);
	int r;

	if (fd < 0)
		return fd;
	r = scan_sys_fstat(fd, ret_st);
	close(fd);
	return r;
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
	struct root_key *sorted = NULL;
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
		r = root_lstat(wk, root, &sts[i]);
		if (r == -ELOOP) {
			/*
			 * A directory on the way is (now) a symlink: never followed,
			 * the root is an entry with that error (process_name()).
			 */
			memset(&sts[i], 0, sizeof(sts[i]));
			r = 0;
		}
		if (r < 0) {
			r = diag_set(
				reterr, r, "cannot examine root '%s': %s%s", root, strerror(-r),
				r == -EMFILE || r == -ENFILE
					? " (raise the limit of open files, e.g. ulimit -n 4096)"
					: "");
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

	/* The roots are the top's names: sorted like any directory's. */
	sorted = calloc(o->nroots, sizeof(*sorted));
	j = calloc(1, sizeof(*j) + bytes);
	if (!sorted || !j) {
		free(j);
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < o->nroots; i++)
		if (keep[i])
			sorted[count++] = (struct root_key){ o->roots[i], lens[i] };
	qsort(sorted, count, sizeof(*sorted), root_key_cmp);
	j->kind = JOB_NAMES;
	j->node = wk->top;
	p = j->names;
	for (size_t i = 0; i < count; i++) {
		memcpy(p, sorted[i].path, sorted[i].len);
		p[sorted[i].len] = '\0';
		p += sorted[i].len + 1;
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
	free(sorted);
	return r;
}

/* The thread count asked for: @nthreads, or the online CPUs for 0; within MAX_THREADS. */
static unsigned threads_asked(unsigned nthreads)
{
	unsigned n = nthreads;

	if (n == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		n = cpus > 0 ? (unsigned)cpus : 1;
	}
	return n > MAX_THREADS ? MAX_THREADS : n;
}

unsigned scan_threads_max(unsigned nthreads)
{
	/* What walk_new() will find once scan_walk() has raised the limit. */
	return threads_for_room(threads_asked(nthreads), fd_room_raised());
}

static int walk_new(const struct scan_opts *opts, struct walk **ret_walk, struct diag *reterr)
{
	struct walk *wk = calloc(1, sizeof(*wk));
	size_t room = fd_room();
	unsigned n;
	int r;

	if (!wk)
		return -ENOMEM;
	wk->opts = opts;
	/*
	 * Never more than scan_threads_max() said (opts->reuse sizes its
	 * per-worker state by it), even if the limit moved in between.
	 */
	n = threads_for_room(threads_asked(opts->nthreads), room);
	if (n > scan_threads_max(opts->nthreads))
		n = scan_threads_max(opts->nthreads);

	r = walk_init_locks(wk);
	if (r < 0)
		goto fail;
	wk->top = calloc(1, sizeof(*wk->top) + 1);
	if (!wk->top) {
		r = -ENOMEM;
		goto fail;
	}
	wk->top->top = true;
	wk->top->refs = 1; /* the walk's own */
	if (opts->use_rootfd) {
		wk->top->fd = opts->rootfd;
	} else {
		wk->top->fd = scan_sys_openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (wk->top->fd < 0) {
			r = wk->top->fd;
			diag_set(reterr, r, "cannot open '/': %s", strerror(-r));
			goto fail;
		}
		wk->own_top_fd = true;
		wk->own_top_fd_value = wk->top->fd;
	}

	wk->workers = calloc(n, sizeof(*wk->workers));
	if (!wk->workers) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < n; i++) {
		wk->nworkers++;
		r = worker_init(&wk->workers[i], wk, i, reterr);
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
				now.files_reused = atomic_load_explicit(&wk->files_reused,
									memory_order_relaxed);
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
	if (opts->hash != HASH_NONE && opts->hash != HASH_XXH3_128 && opts->hash != HASH_SHA256) {
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
	stats.files_reused = atomic_load(&wk->files_reused);
	failure = atomic_load(&wk->failure);
	if (failure == -EMFILE || failure == -ENFILE)
		r = diag_set(reterr, failure,
			     "walk failed: %s (raise the limit of open files, e.g. ulimit -n 4096)",
			     strerror(-failure));
	else if (failure)
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
