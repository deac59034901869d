/*
 * glob: how long do hostile globs take to match?
 *
 *     ./build/bench/glob [TIMEOUT_S]
 *
 * The patterns of the security review (issue #9, item 3), and longer ones,
 * against long paths: drift's matcher (common/pattern.c), the backtracking
 * matcher it replaced (copied below), and glibc's fnmatch(3) with
 * FNM_PATHNAME for the patterns without "**", which it does not know. Each
 * peer runs in a child process that is killed after TIMEOUT_S seconds
 * (default 5) and shown as "> N s". Every matcher must give the same answer;
 * a disagreement is printed and makes the exit status 1. Single-threaded.
 */
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/pattern.h"
#include "common/strbuf.h"
#include "tests/common/glob_backtrack.h"

#include "common/banned.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the cases ---- */

enum peer { PEER_DRIFT, PEER_DRIFT_TREE, PEER_OLD, PEER_FNMATCH, PEER__COUNT };

static const char *const peer_names[PEER__COUNT] = {
	"drift pattern_match",
	"drift pattern_match_tree",
	"old backtracking",
	"fnmatch FNM_PATHNAME",
};

struct bench_case {
	const char *pattern;
	struct strbuf path;
	bool basename; /* a glob without '/': matched against the last component */
};

/* One call of @peer; the answer. */
static bool run_peer(enum peer peer, const struct pattern *pat, const struct bench_case *c)
{
	const char *s = c->path.buf, *send = s + c->path.len, *base = send;
	size_t plen = strlen(c->pattern);

	while (base > s && base[-1] != '/')
		base--;
	switch (peer) {
	case PEER_DRIFT:
		return pattern_match(pat, s, c->path.len);
	case PEER_DRIFT_TREE:
		return pattern_match_tree(pat, s, c->path.len);
	case PEER_OLD:
		return glob_backtrack(c->pattern, c->pattern + plen, c->basename ? base : s, send);
	case PEER_FNMATCH:
		return fnmatch(c->pattern, c->basename ? base : s, FNM_PATHNAME) == 0;
	case PEER__COUNT:
		break;
	}
	return false;
}

/*
 * Time @peer on case @c in a child killed after @timeout seconds: repeated
 * until 0.2 s have passed. Prints one table row; returns the answer (0 or
 * 1), 2 when timed out, -1 on failure.
 */
static int time_peer(enum peer peer, const struct pattern *pat, const struct bench_case *c,
		     unsigned timeout)
{
	int fds[2], status;
	char answer = 'x';
	pid_t pid;

	fflush(stdout);
	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		double t0 = now(), t;
		unsigned long n = 0;
		bool m;

		close(fds[0]);
		alarm(timeout);
		do {
			m = run_peer(peer, pat, c);
			n++;
			t = now() - t0;
		} while (t < 0.2);
		printf("| %-26s | %-5s | %14.0f | %10lu |\n", peer_names[peer], m ? "yes" : "no",
		       t * 1e9 / (double)n, n);
		fflush(stdout);
		answer = m ? '1' : '0';
		if (write(fds[1], &answer, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &answer, 1) != 1)
		answer = 'x';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		printf("| %-26s | ?     | %14s | %10s |\n", peer_names[peer], "", "");
		printf("|   (killed after %u s)      |       |                |            |\n",
		       timeout);
		return 2;
	}
	return answer == '1' ? 1 : answer == '0' ? 0 : -1;
}

/* "/" + depth copies of @comp joined by '/', then "/" + @last. */
static int deep_path(struct strbuf *sb, size_t depth, const char *comp, const char *last)
{
	int r = 0;

	for (size_t i = 0; i < depth && r >= 0; i++)
		r = strbuf_addf(sb, "/%s", comp);
	return r < 0 ? r : strbuf_addf(sb, "/%s", last);
}

static int run_case(const char *title, const char *pattern, size_t depth, const char *comp,
		    const char *last, unsigned timeout)
{
	struct bench_case c = { pattern, STRBUF_INIT, strchr(pattern, '/') == NULL };
	struct pattern *pat = NULL;
	int answers[PEER__COUNT], bad = 0;

	if (deep_path(&c.path, depth, comp, last) < 0 || pattern_new(pattern, &pat) < 0) {
		fprintf(stderr, "glob: out of memory or bad pattern '%s'\n", pattern);
		strbuf_release(&c.path);
		return 1;
	}
	printf("\n### %s\n\npattern `%s` (%zu bytes), path of %zu bytes (%zu components, the last "
	       "`%.20s%s`)\n\n",
	       title, pattern, strlen(pattern), c.path.len, depth + 1, last,
	       strlen(last) > 20 ? "..." : "");
	printf("| %-26s | match | %14s | %10s |\n", "matcher", "ns per match", "matches");
	printf("|----------------------------|-------|----------------|------------|\n");
	for (int p = 0; p < PEER__COUNT; p++) {
		answers[p] = -1;
		if (p == PEER_FNMATCH && strstr(pattern, "**"))
			continue; /* fnmatch has no "**" */
		answers[p] = time_peer((enum peer)p, pat, &c, timeout);
	}
	/* The tree answer may differ (an ancestor may match); the others may not. */
	for (int p = PEER_OLD; p < PEER__COUNT; p++)
		if ((answers[p] == 0 || answers[p] == 1) && answers[p] != answers[PEER_DRIFT]) {
			printf("\n**%s disagrees with drift**\n", peer_names[p]);
			bad = 1;
		}
	if (answers[PEER_DRIFT] < 0 || answers[PEER_DRIFT] == 2)
		bad = 1;
	pattern_free(pat);
	strbuf_release(&c.path);
	return bad;
}

int main(int argc, char **argv)
{
	unsigned timeout = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 5;
	char a61[62], a4000[4001], a59cb[62];
	int bad = 0;

	/* Names that end in 'b' get past the test of the pattern's literal end. */
	memset(a61, 'a', 61);
	a61[60] = 'b';
	a61[61] = '\0';
	memcpy(a59cb, a61, sizeof(a59cb));
	memcpy(a59cb + 59, "cb", 2);
	memset(a4000, 'a', 4000);
	a4000[3999] = 'b';
	a4000[4000] = '\0';
	if (!timeout)
		timeout = 5;

	printf("# glob matching: hostile patterns (timeout %u s per matcher)\n", timeout);
	bad |= run_case("an ordinary glob, for scale", "/home/*/.cache/**", 3, "home",
			"ann/.cache/x/y", timeout);
	bad |= run_case("8 x '**', 40-deep path, no 'q'", "/**/**/**/**/**/**/**/**/q/**/y", 40,
			"y", "y", timeout);
	bad |= run_case("10 x '**', 40-deep path, no 'q'", "/**/**/**/**/**/**/**/**/**/**/q/**/y",
			40, "y", "y", timeout);
	bad |= run_case("10 x '**', 40-deep path ending in q/y",
			"/**/**/**/**/**/**/**/**/**/**/q/**/y", 40, "y", "q/y", timeout);
	bad |= run_case("10 x '**', 1,000-deep path (4 KiB)",
			"/**/**/**/**/**/**/**/**/**/**/q/**/y", 1000, "yyy", "y", timeout);
	bad |= run_case("12 stars over a 61-byte name", "*a*a*a*a*a*a*a*a*a*a*a*a*c*b", 1, "x", a61,
			timeout);
	bad |= run_case("12 stars over a 61-byte name that matches", "*a*a*a*a*a*a*a*a*a*a*a*a*c*b",
			1, "x", a59cb, timeout);
	bad |= run_case("12 stars, as a path glob", "/x/*a*a*a*a*a*a*a*a*a*a*a*a*c*b", 1, "x", a61,
			timeout);
	bad |= run_case("30 stars over a 4,000-byte name",
			"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*c*b", 1, "x",
			a4000, timeout);
	return bad;
}
