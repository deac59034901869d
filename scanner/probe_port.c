/*
 * The port probe: the sockets that wait for connections or datagrams, from
 * proc/net/tcp, tcp6 (state 0A, LISTEN) and proc/net/udp, udp6 (state 07
 * with a zero remote address: bound, not connected). A line reads
 *
 *     sl  local_address rem_address   st tx_queue rx_queue tr tm->when ...  uid ... inode
 *     0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 ...  110 ... 23011
 *
 * (fields: slot, local address:port, remote address:port, state, queues,
 * timer, retransmits, uid, timeout, inode, and more), where the kernel prints every 32-bit word of
 * an address in host byte order as %08X (IPv4: one word, IPv6: four) and the port as a number. The
 * key is "tcp/127.0.0.1:3306", "tcp6/[::]:22", "udp6/[fe80::1]:546" (the
 * scope of a link-local address is not in the file: just the address).
 * Properties: `uid` (the socket's owner) and `process`, the sorted, unique,
 * comma-separated names (proc/PID/comm) of the processes holding the socket;
 * absent when no holder was seen (another user's process without
 * privileges, a socket of the kernel).
 *
 * Several sockets with one key (SO_REUSEPORT, a socket shared after fork)
 * are one entry with the union of their processes, and the smallest uid.
 *
 * Left out: the inode, the queue sizes, timers and slot numbers: they change
 * all the time without any change of configuration. Established
 * connections and connected UDP sockets are not listed: they are traffic.
 *
 * A process name (proc/PID/comm) with a comma in it has it replaced by '_'
 * in that list; an empty one, or one that cannot be read, is left out.
 *
 * Components: port_parse_file() reads one of the four files into records;
 * port_owners_collect() lists the fds of every process (proc/PID/fd/) once,
 * with readlinkat(), looking for "socket:[INODE]" of the listening
 * sockets' inodes; port_emit_all() merges records by key and emits them.
 */
#include "scanner/probe.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/strbuf.h"

#include "common/banned.h"

#define PORT_FIELDS_MAX 10
#define PORT_TCP_LISTEN 0x0A
#define PORT_UDP_CLOSE  0x07

struct port_source {
	const char *path;
	const char *proto;
	int family;
	unsigned state; /* the state a wanted socket is in */
};

static const struct port_source port_sources[] = {
	{ "proc/net/tcp", "tcp", AF_INET, PORT_TCP_LISTEN },
	{ "proc/net/tcp6", "tcp6", AF_INET6, PORT_TCP_LISTEN },
	{ "proc/net/udp", "udp", AF_INET, PORT_UDP_CLOSE },
	{ "proc/net/udp6", "udp6", AF_INET6, PORT_UDP_CLOSE },
};

struct port_sock {
	char *key;
	uint32_t uid;
	uint64_t inode; /* 0: none */
	size_t seq;     /* order of appearance, for a stable sort */
};

/* One holder of a socket: the process's name is shared by its fds. */
struct port_owner {
	uint64_t inode;
	const char *comm; /* points into port_state.comms */
};

struct port_state {
	const struct probe_ctx *ctx;
	struct diag *reterr;
	struct port_sock *socks;
	size_t nsocks, socks_alloc;
	uint64_t *inodes; /* sorted inodes of socks (0 left out) */
	size_t ninodes;
	struct port_owner *owners;
	size_t nowners, owners_alloc;
	char **comms; /* one per process that holds a wanted socket */
	size_t ncomms, comms_alloc;
};

static int port_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly @n (1..8) hex digits at @s. */
static bool port_parse_hex32(const char *s, size_t n, uint32_t *ret)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++) {
		int d = port_hexval(s[i]);

		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	*ret = v;
	return true;
}

/*
 * "0100007F:0CEA" -> the address bytes (network order, 4 or 16) and the
 * port. Each group of 8 digits is a 32-bit word as it sat in memory,
 * printed in host byte order: copying the parsed value back into memory
 * gives the bytes.
 */
static bool port_parse_addr(const char *s, int family, uint8_t *ret_addr, uint16_t *ret_port,
			    bool *ret_zero)
{
	size_t words = family == AF_INET ? 1 : 4;
	const char *colon = strchr(s, ':');
	uint8_t addr[16];
	uint32_t w, port;
	bool zero = true;

	if (!colon || (size_t)(colon - s) != words * 8 || strlen(colon + 1) != 4)
		return false;
	for (size_t i = 0; i < words; i++) {
		if (!port_parse_hex32(s + i * 8, 8, &w))
			return false;
		memcpy(addr + i * 4, &w, 4);
		zero = zero && !w;
	}
	if (!port_parse_hex32(colon + 1, 4, &port))
		return false;
	memcpy(ret_addr, addr, words * 4);
	*ret_port = (uint16_t)port;
	*ret_zero = zero && !port;
	return true;
}

static int port_sock_add(struct port_state *st, const char *key, uint32_t uid, uint64_t inode)
{
	struct port_sock *s;

	if (st->nsocks == st->socks_alloc) {
		size_t na = st->socks_alloc ? st->socks_alloc * 2 : 32;
		struct port_sock *ns = realloc(st->socks, na * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		st->socks = ns;
		st->socks_alloc = na;
	}
	s = &st->socks[st->nsocks];
	s->key = strdup(key);
	if (!s->key)
		return -ENOMEM;
	s->uid = uid;
	s->inode = inode;
	s->seq = st->nsocks++;
	return 0;
}

/* One line of a net file; 0 also for a line that was a finding or not wanted. */
static int port_parse_line(struct port_state *st, const struct port_source *src, char *s,
			   unsigned line)
{
	char *f[PORT_FIELDS_MAX];
	char text[INET6_ADDRSTRLEN], key[INET6_ADDRSTRLEN + 32];
	uint8_t local[16], remote[16];
	uint16_t lport, rport;
	bool lzero, rzero;
	uint64_t uid, inode;
	uint32_t state;
	size_t n;

	n = probe_fields_split(s, f, PORT_FIELDS_MAX);
	if (n == 0 || !strcmp(f[0], "sl"))
		return 0; /* empty, or the header */
	if (n < PORT_FIELDS_MAX) {
		probe_findingf(st->ctx, "port", src->path, line,
			       "malformed line: %zu fields, expected at least %d", n,
			       PORT_FIELDS_MAX);
		return 0;
	}
	if (!port_parse_addr(f[1], src->family, local, &lport, &lzero)) {
		probe_findingf(st->ctx, "port", src->path, line,
			       "malformed line: bad local address '%.64s'", f[1]);
		return 0;
	}
	if (!port_parse_addr(f[2], src->family, remote, &rport, &rzero)) {
		probe_findingf(st->ctx, "port", src->path, line,
			       "malformed line: bad remote address '%.64s'", f[2]);
		return 0;
	}
	if (strlen(f[3]) != 2 || !port_parse_hex32(f[3], 2, &state)) {
		probe_findingf(st->ctx, "port", src->path, line,
			       "malformed line: bad state '%.64s'", f[3]);
		return 0;
	}
	if (!probe_parse_decimal(f[7], UINT32_MAX, &uid)) {
		probe_findingf(st->ctx, "port", src->path, line, "malformed line: bad uid '%.64s'",
			       f[7]);
		return 0;
	}
	if (!probe_parse_decimal(f[9], UINT64_MAX, &inode)) {
		probe_findingf(st->ctx, "port", src->path, line,
			       "malformed line: bad inode '%.64s'", f[9]);
		return 0;
	}
	if (state != src->state || (src->state == PORT_UDP_CLOSE && !rzero))
		return 0; /* a connection, not a listener */
	if (!inet_ntop(src->family, local, text, sizeof(text)))
		return 0; /* cannot happen with a right-sized buffer */
	if (src->family == AF_INET6)
		snprintf(key, sizeof(key), "%s/[%s]:%u", src->proto, text, (unsigned)lport);
	else
		snprintf(key, sizeof(key), "%s/%s:%u", src->proto, text, (unsigned)lport);
	if (port_sock_add(st, key, (uint32_t)uid, inode) < 0)
		return diag_set(st->reterr, -ENOMEM, "cannot parse '%s': %s", src->path,
				strerror(ENOMEM));
	return 0;
}

/* Returns 1 when parsed, 0 when the file does not exist (or is not a file), or -errno. */
static int port_parse_file(struct port_state *st, const struct port_source *src)
{
	struct probe_lines lines;
	char *buf, *p;
	size_t len;
	int r;

	r = probe_source_read(st->ctx, "port", src->path, &buf, &len, st->reterr);
	if (r == PROBE_UNAVAILABLE)
		return 0;
	if (r == PROBE_NOT_A_FILE)
		return 1; /* it exists, so the probe is available */
	if (r < 0)
		return r;
	r = 1;
	probe_lines_init(&lines, buf, len);
	while ((p = probe_lines_next(&lines, st->ctx, "port", src->path))) {
		int k = port_parse_line(st, src, p, lines.line);

		if (k < 0) {
			r = k;
			break;
		}
	}
	free(buf);
	return r;
}

static int port_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool port_inode_wanted(const struct port_state *st, uint64_t inode)
{
	return bsearch(&inode, st->inodes, st->ninodes, sizeof(*st->inodes), port_u64_cmp) != NULL;
}

/* "socket:[12345]" -> 12345 */
static bool port_parse_socket_link(const char *s, uint64_t *ret_inode)
{
	static const char prefix[] = "socket:[";
	char digits[24];
	size_t n;

	if (strncmp(s, prefix, sizeof(prefix) - 1))
		return false;
	s += sizeof(prefix) - 1;
	n = strlen(s);
	if (n < 2 || n - 1 >= sizeof(digits) || s[n - 1] != ']')
		return false;
	memcpy(digits, s, n - 1);
	digits[n - 1] = '\0';
	return probe_parse_decimal(digits, UINT64_MAX, ret_inode);
}

/* The name of process @pid, read once; NULL (and 0) when it cannot be read. */
static int port_comm_load(struct port_state *st, int procfd, const char *pid, const char **ret)
{
	char path[288]; /* a d_name and "/comm" */
	char *buf, *nl;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/comm", pid);
	r = probe_read_file(procfd, path, &buf, &len);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		*ret = NULL; /* gone, or not ours to look at */
		return 0;
	}
	nl = memchr(buf, '\n', len);
	if (nl)
		*nl = '\0';
	if (!*buf) {
		free(buf);
		*ret = NULL;
		return 0;
	}
	/* a comma in a name would split it in the comma list */
	for (char *c = buf; *c; c++)
		if (*c == ',')
			*c = '_';
	if (st->ncomms == st->comms_alloc) {
		size_t na = st->comms_alloc ? st->comms_alloc * 2 : 16;
		char **nc = realloc(st->comms, na * sizeof(*nc));

		if (!nc) {
			free(buf);
			return -ENOMEM;
		}
		st->comms = nc;
		st->comms_alloc = na;
	}
	st->comms[st->ncomms++] = buf;
	*ret = buf;
	return 0;
}

static int port_owner_add(struct port_state *st, uint64_t inode, const char *comm)
{
	if (st->nowners == st->owners_alloc) {
		size_t na = st->owners_alloc ? st->owners_alloc * 2 : 32;
		struct port_owner *no = realloc(st->owners, na * sizeof(*no));

		if (!no)
			return -ENOMEM;
		st->owners = no;
		st->owners_alloc = na;
	}
	st->owners[st->nowners].inode = inode;
	st->owners[st->nowners].comm = comm;
	st->nowners++;
	return 0;
}

/* The wanted sockets held by process @pid. Only ENOMEM is an error. */
static int port_owners_of_pid(struct port_state *st, int procfd, const char *pid)
{
	const char *comm = NULL;
	bool comm_tried = false;
	struct dirent *de;
	char path[288]; /* a d_name and "/comm" */
	DIR *dir;
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/fd", pid);
	fd = probe_open(procfd, path, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd == -ENOMEM ? fd : 0; /* exited, or EACCES: not ours to look at */
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r == -ENOMEM ? r : 0;
	}
	while ((de = readdir(dir))) {
		char link[64];
		uint64_t inode;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(dir), de->d_name, link, sizeof(link) - 1);
		if (n < 0)
			continue; /* closed meanwhile, or not a link */
		link[n] = '\0';
		if (!port_parse_socket_link(link, &inode) || !port_inode_wanted(st, inode))
			continue;
		if (!comm_tried) {
			comm_tried = true;
			r = port_comm_load(st, procfd, pid, &comm);
			if (r < 0)
				break;
		}
		if (!comm)
			break; /* the process is gone */
		r = port_owner_add(st, inode, comm);
		if (r < 0)
			break;
	}
	closedir(dir);
	return r;
}

static int port_owner_cmp(const void *a, const void *b)
{
	const struct port_owner *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return strcmp(x->comm, y->comm);
}

/* List proc/[0-9]* once; a process that cannot be looked at is skipped. */
static int port_owners_collect(struct port_state *st)
{
	struct dirent *de;
	DIR *dir;
	int fd, r = 0;

	if (!st->ninodes)
		return 0;
	fd = probe_open(st->ctx->rootfd, "proc", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd == -ENOMEM
			       ? diag_set(st->reterr, fd, "cannot list 'proc': %s", strerror(-fd))
			       : 0;
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r == -ENOMEM
			       ? diag_set(st->reterr, r, "cannot list 'proc': %s", strerror(-r))
			       : 0;
	}
	while ((de = readdir(dir))) {
		if (!probe_is_decimal(de->d_name))
			continue;
		r = port_owners_of_pid(st, dirfd(dir), de->d_name);
		if (r < 0) {
			r = diag_set(st->reterr, r, "cannot list sockets of 'proc/%s': %s",
				     de->d_name, strerror(-r));
			break;
		}
	}
	closedir(dir);
	if (r == 0 && st->nowners)
		qsort(st->owners, st->nowners, sizeof(*st->owners), port_owner_cmp);
	return r;
}

static int port_sock_cmp(const void *a, const void *b)
{
	const struct port_sock *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The sockets socks[i..j) share one key: the comma list of their holders. */
static int port_processes(const struct port_state *st, size_t i, size_t j, struct strbuf *out)
{
	const char **names = NULL;
	size_t n = 0, alloc = 0;
	int r = 0;

	strbuf_reset(out);
	for (size_t k = i; k < j; k++) {
		struct port_owner probe = { st->socks[k].inode, "" };
		size_t lo = 0, hi = st->nowners;

		if (!probe.inode)
			continue;
		/* first owner with this inode (comm "" sorts first) */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (port_owner_cmp(&st->owners[mid], &probe) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < st->nowners && st->owners[lo].inode == probe.inode; lo++) {
			if (n == alloc) {
				size_t na = alloc ? alloc * 2 : 8;
				const char **nn = realloc(names, na * sizeof(*nn));

				if (!nn) {
					r = -ENOMEM;
					goto out;
				}
				names = nn;
				alloc = na;
			}
			names[n++] = st->owners[lo].comm;
		}
	}
	r = probe_list_join(names, n, out);
out:
	free(names);
	return r;
}

static int port_emit_all(struct port_state *st)
{
	struct strbuf procs = STRBUF_INIT, props = STRBUF_INIT;
	int r = 0;

	for (size_t i = 0, j; i < st->nsocks; i = j) {
		struct entry_prop p[2];
		uint32_t uid = st->socks[i].uid;
		char uidtext[16];
		size_t n = 0;

		for (j = i + 1; j < st->nsocks && !strcmp(st->socks[j].key, st->socks[i].key); j++)
			if (st->socks[j].uid < uid)
				uid = st->socks[j].uid;
		r = port_processes(st, i, j, &procs);
		if (r < 0) {
			r = diag_set(st->reterr, r, "cannot list holders of '%s': %s",
				     st->socks[i].key, strerror(-r));
			break;
		}
		snprintf(uidtext, sizeof(uidtext), "%u", (unsigned)uid);
		p[n++] = (struct entry_prop){ "uid", uidtext, strlen(uidtext) };
		if (procs.len)
			p[n++] = (struct entry_prop){ "process", procs.buf, procs.len };
		r = entry_props_encode(&props, p, n);
		if (r < 0) {
			r = diag_set(st->reterr, r, "cannot encode '%s': %s", st->socks[i].key,
				     strerror(-r));
			break;
		}
		r = probe_emit_entry(st->ctx, ENTRY_PORT, st->socks[i].key,
				     strlen(st->socks[i].key), &props);
		if (r < 0) {
			r = diag_set(st->reterr, r, "port probe stopped at '%s'", st->socks[i].key);
			break;
		}
	}
	strbuf_release(&procs);
	strbuf_release(&props);
	return r;
}

static int port_run(const struct probe_ctx *ctx, struct diag *reterr)
{
	struct port_state st;
	bool available = false;
	int r = 0;

	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.reterr = reterr;
	for (size_t i = 0; i < sizeof(port_sources) / sizeof(port_sources[0]); i++) {
		r = port_parse_file(&st, &port_sources[i]);
		if (r < 0)
			goto out;
		if (r > 0)
			available = true;
	}
	r = 0;
	if (!available) {
		r = PROBE_UNAVAILABLE;
		goto out;
	}
	if (!st.nsocks)
		goto out;

	st.inodes = malloc(st.nsocks * sizeof(*st.inodes));
	if (!st.inodes) {
		r = diag_set(reterr, -ENOMEM, "cannot list sockets: %s", strerror(ENOMEM));
		goto out;
	}
	for (size_t i = 0; i < st.nsocks; i++)
		if (st.socks[i].inode)
			st.inodes[st.ninodes++] = st.socks[i].inode;
	if (st.ninodes)
		qsort(st.inodes, st.ninodes, sizeof(*st.inodes), port_u64_cmp);
	r = port_owners_collect(&st);
	if (r < 0)
		goto out;
	qsort(st.socks, st.nsocks, sizeof(*st.socks), port_sock_cmp);
	r = port_emit_all(&st);
out:
	for (size_t i = 0; i < st.nsocks; i++)
		free(st.socks[i].key);
	free(st.socks);
	free(st.inodes);
	free(st.owners);
	for (size_t i = 0; i < st.ncomms; i++)
		free(st.comms[i]);
	free(st.comms);
	return r;
}

static const enum entry_kind port_kinds[] = { ENTRY_PORT, (enum entry_kind)0 };

extern const struct probe probe_port;
const struct probe probe_port = {
	.name = "port",
	.kinds = port_kinds,
	.summary = "listening TCP and bound UDP sockets of /proc/net, with their processes",
	.run = port_run,
};
