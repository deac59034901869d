/*
 * Roots: the paths a scan starts from, as keys of the host under --root
 * (resolved there, never on ours), and the root directory itself, opened
 * once as the fd every lookup under it starts from.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "scanner/probe.h"
#include "common/banned.h"

void cli_roots_free(char **roots, size_t nroots)
{
	if (!roots)
		return;
	for (size_t i = 0; i < nroots; i++)
		free(roots[i]);
	free(roots);
}

const char *cli_root(const struct cli_args *args)
{
	return args->root_real ? args->root_real : "";
}

int cli_root_open(struct cli_args *args)
{
	const char *root;

	if (args->root_fd >= 0)
		return 0;
	if (args->root) {
		args->root_real = realpath(args->root, NULL);
		if (!args->root_real) {
			int e = errno;

			cli_error("cannot use --root '%s': %s",
				  cli_path(args->root, strlen(args->root), 0), strerror(e));
			return e == ENOMEM ? DRIFT_EXIT_INTERNAL : DRIFT_EXIT_USAGE;
		}
		if (!strcmp(args->root_real, "/"))
			args->root_real[0] = '\0'; /* "/" is no prefix at all */
	}
	root = cli_root(args);
	args->root_fd = open(*root ? root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (args->root_fd < 0) {
		cli_error("cannot open the root '%s': %s",
			  *root ? cli_path(root, strlen(root), 0) : "/", strerror(errno));
		return DRIFT_EXIT_SCAN;
	}
	return 0;
}

/*
 * A root the user named, under --root: resolved on the host (symlinks
 * followed), then made a key again by taking the root off. Returns 0, 1
 * when it does not exist, or an exit code.
 */
static int root_resolve_under(const struct cli_args *args, const char *p, char **ret_key)
{
	const char *root = cli_root(args);
	size_t rlen = strlen(root);
	struct diag d = { 0 };
	char *resolved = NULL, link[64];
	int r, fd;
	ssize_t n;

	if (!rlen) {
		r = scan_root_resolve(p, &resolved, &d);
		if (r == -ENOENT)
			return 1;
		if (r < 0) {
			cli_error("cannot scan '%s': %s", cli_path(p, strlen(p), 0),
				  d.msg[0] ? d.msg : strerror(-r));
			return r == -ENOMEM ? DRIFT_EXIT_INTERNAL : DRIFT_EXIT_SCAN;
		}
		*ret_key = resolved;
		return 0;
	}

	/*
	 * Under --root, a path names a place inside the root, and its symlinks
	 * resolve as they would on that host: an image's "lib -> /usr/lib" is
	 * the image's /usr/lib, never ours (openat2 RESOLVE_IN_ROOT).
	 */
	fd = probe_open(args->root_fd, p, O_PATH);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return 1;
	if (fd < 0) {
		cli_error("cannot scan '%s' under --root: %s", cli_path(p, strlen(p), 0),
			  strerror(-fd));
		return DRIFT_EXIT_SCAN;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	resolved = malloc(PATH_MAX + 1);
	n = resolved ? readlink(link, resolved, PATH_MAX) : -1;
	close(fd);
	if (n < 0 || (size_t)n >= PATH_MAX) {
		free(resolved);
		cli_error("cannot resolve '%s' under --root (is /proc mounted?)",
			  cli_path(p, strlen(p), 0));
		return DRIFT_EXIT_SCAN;
	}
	resolved[n] = '\0';
	if (strncmp(resolved, root, rlen) || (resolved[rlen] && resolved[rlen] != '/')) {
		/* A mount or a race moved it: refuse rather than scan the host. */
		cli_error("'%s' leads outside --root '%s'", cli_path(p, strlen(p), 0),
			  cli_path(root, rlen, 1));
		free(resolved);
		return DRIFT_EXIT_USAGE;
	}
	*ret_key = strdup(resolved[rlen] ? resolved + rlen : "/");
	free(resolved);
	if (!*ret_key) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	return 0;
}

int cli_roots_resolve(char *const *paths, size_t npaths, const struct rule_set *rules,
		      const struct cli_args *args, char ***ret_roots, size_t *ret_nroots)
{
	const struct rule_scan *scan = rule_set_scan(rules);
	bool defaults = npaths == 0;
	size_t n = defaults ? scan->nroots : npaths;
	char **roots = calloc(n ? n : 1, sizeof(*roots));
	size_t count = 0, missing = 0;

	if (!roots) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *p = defaults ? scan->roots[i] : paths[i];
		bool dup = false;
		int r = root_resolve_under(args, p, &roots[count]);

		if (r == 1 && defaults) {
			/*
			 * A policy root that is not there yet (/var/www before the
			 * web server is installed) is recorded as it is written:
			 * every check looks at it, and what appears there is added.
			 */
			roots[count] = strdup(p);
			if (!roots[count]) {
				cli_roots_free(roots, count);
				cli_error("out of memory");
				return DRIFT_EXIT_INTERNAL;
			}
			missing++;
		} else if (r == 1) {
			cli_error("cannot scan '%s': %s", cli_path(p, strlen(p), 0),
				  strerror(ENOENT));
			r = DRIFT_EXIT_SCAN;
		}
		if (r && r != 1) {
			cli_roots_free(roots, count);
			return r;
		}
		/* /lib and /usr/lib are one root on a merged-/usr host: record it once. */
		for (size_t j = 0; j < count && !dup; j++)
			dup = !strcmp(roots[j], roots[count]);
		if (dup) {
			missing -= r == 1;
			free(roots[count]);
			roots[count] = NULL;
			continue;
		}
		if (r == 0 && rule_set_excluded(rules, roots[count], strlen(roots[count])))
			cli_warn("'%s' is excluded by the policy '%s': nothing below it is scanned",
				 cli_path(roots[count], strlen(roots[count]), 0),
				 rule_set_source(rules));
		count++;
	}
	if (count == missing) {
		cli_error("none of the policy's roots exists; name the paths to scan");
		cli_roots_free(roots, count);
		return DRIFT_EXIT_SCAN;
	}
	if (missing && !args->quiet) {
		/* One line for all of them: /lib32 and /libx32 are missing on most hosts. */
		struct strbuf sb = STRBUF_INIT;

		for (size_t i = 0, k = 0; i < count; i++) {
			if (cli_root_exists(args, roots[i]))
				continue;
			strbuf_addf(&sb, "%s'%s'", k++ ? " " : "",
				    cli_path(roots[i], strlen(roots[i]), 0));
		}
		cli_warn("%s %s not exist: recorded; every check looks at %s", sb.buf ? sb.buf : "",
			 missing == 1 ? "does" : "do", missing == 1 ? "it" : "them");
		strbuf_release(&sb);
	}
	*ret_roots = roots;
	*ret_nroots = count;
	return 0;
}

bool cli_root_exists(const struct cli_args *args, const char *root)
{
	/* Looked up from the root's fd: a symlink cannot take it out of the root. */
	int fd = probe_open(args->root_fd, root, O_PATH | O_NOFOLLOW);

	if (fd >= 0)
		close(fd);
	/*
	 * Gone (or a parent became a file): everything below it is removed, not
	 * a failure. Any other error is the walker's to report.
	 */
	return fd != -ENOENT && fd != -ENOTDIR;
}

int cli_roots_existing(char *const *roots, size_t nroots, const struct cli_args *args,
		       char ***ret_roots, size_t *ret_nroots)
{
	char **out = calloc(nroots + 1, sizeof(*out));
	size_t n = 0;

	if (!out) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < nroots; i++) {
		if (!cli_root_exists(args, roots[i]))
			continue;
		out[n] = strdup(roots[i]);
		if (!out[n]) {
			cli_roots_free(out, n);
			cli_error("out of memory");
			return DRIFT_EXIT_INTERNAL;
		}
		n++;
	}
	*ret_roots = out;
	*ret_nroots = n;
	return 0;
}

int cli_roots_within(char *const *roots, size_t nroots, const struct snap_info *base)
{
	for (size_t i = 0; i < nroots; i++) {
		size_t len = strlen(roots[i]);
		bool inside = false;

		for (size_t j = 0; j < base->nroots && !inside; j++) {
			size_t blen = strlen(base->roots[j]);
			inside = !strcmp(base->roots[j], "/") ||
				 (len >= blen && !memcmp(roots[i], base->roots[j], blen) &&
				  (len == blen || roots[i][blen] == '/'));
		}
		if (!inside) {
			cli_error("'%s' is not under the baseline's roots; check what the baseline "
				  "covers (see 'drift snapshots'), or take a new one",
				  cli_path(roots[i], len, 0));
			return DRIFT_EXIT_USAGE;
		}
	}
	return 0;
}

bool cli_root_covers(const char *root, const char *path)
{
	size_t len = strlen(root);

	return !strcmp(root, "/") ||
	       (!strncmp(path, root, len) && (path[len] == '\0' || path[len] == '/'));
}

/* Whether roots[i] is shown: not below another root, not an earlier root again. */
static bool root_shown(const char *const *roots, size_t nroots, size_t i)
{
	for (size_t j = 0; j < nroots; j++)
		if (j != i && cli_root_covers(roots[j], roots[i]) &&
		    (strcmp(roots[j], roots[i]) || j < i))
			return false;
	return true;
}

/* Whether a root after roots[i] is shown. */
static bool more_shown(const char *const *roots, size_t nroots, size_t i)
{
	for (size_t j = i + 1; j < nroots; j++)
		if (root_shown(roots, nroots, j))
			return true;
	return false;
}

int cli_roots_format(struct strbuf *sb, const char *const *roots, size_t nroots, size_t width,
		     cli_root_note_fn *note, void *userdata)
{
	size_t start = sb->len, shown = 0, hidden = 0;
	int r = 0;

	for (size_t i = 0; i < nroots && r == 0; i++) {
		size_t before = sb->len;
		const char *tag;

		if (!root_shown(roots, nroots, i))
			continue;
		if (hidden) {
			hidden++;
			continue;
		}
		if (shown && strbuf_addch(sb, ' ') < 0)
			return -ENOMEM;
		r = escape_display(sb, roots[i], strlen(roots[i]));
		tag = note && r == 0 ? note(roots[i], userdata) : NULL;
		if (tag && r == 0)
			r = strbuf_addf(sb, " (%s)", tag);
		/* Room for " ... (+NN)" when more follow; the first is always shown. */
		if (r == 0 && width && shown &&
		    sb->len - start + (more_shown(roots, nroots, i) ? 11 : 0) > width) {
			strbuf_setlen(sb, before);
			hidden++;
			continue;
		}
		shown++;
	}
	if (r == 0 && hidden)
		r = strbuf_addf(sb, " ... (+%zu)", hidden);
	return r < 0 ? -ENOMEM : 0;
}
