/*
 * match: how fast does the policy answer "which rule covers this path"?
 *
 *     ./build/bench/match [NPATHS [NBRUTE]]
 *
 * Generates a 500-rule policy in memory (a catch-all, literal prefixes like
 * /usr/share/doc/pkgNNN, `=` exact paths, globs like /etc/xxxNNN.d/ *.conf and
 * /usr/share/doc/pkgNNN/ ** / *.gz (without the spaces), and basename globs)
 * and NPATHS (default 1,000,000) realistic paths, then times
 * rule_set_match() over all of them, and the brute-force reference (every
 * rule tested, last to first) over the first NBRUTE (default 100,000),
 * checking that both give the same answers. Single-threaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "rules/internal.h"
#include "rules/rules.h"
#include "common/banned.h"

static uint64_t rng = 0x2545f4914f6cdd1du;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int make_policy(struct strbuf *sb)
{
	static const char *const exts[] = { "swp", "bak", "orig",     "rej",      "pyc",
					    "tmp", "old", "dpkg-new", "dpkg-old", "ucf-dist" };
	int r = strbuf_adds(sb, "version: 1\nrules:\n  - {path: /, check: static}\n");
	unsigned n = 1;

	for (unsigned i = 0; r >= 0 && n < 500; i++, n++) {
		switch (i % 10) {
		case 0:
		case 1:
			r = strbuf_addf(sb, "  - {path: /usr/share/doc/pkg%03u, check: perms}\n",
					i);
			break;
		case 2:
			r = strbuf_addf(
				sb, "  - {path: \"/etc/xxx%03u.d/*.conf\", severity: high}\n", i);
			break;
		case 3:
			r = strbuf_addf(sb, "  - {path: \"/usr/share/doc/pkg%03u/**/*.gz\"}\n",
					i - 2);
			break;
		case 4:
			r = strbuf_addf(sb, "  - {path: /opt/app%03u/bin, severity: critical}\n",
					i);
			break;
		case 5:
			r = strbuf_addf(sb, "  - {path: \"=/var/lib/pkg%03u\", check: dir}\n", i);
			break;
		case 6:
			r = strbuf_addf(sb, "  - {path: \"/home/*/.config%03u\", check: perms}\n",
					i);
			break;
		case 7:
			r = strbuf_addf(sb, "  - {path: /usr/lib/x86_64-linux-gnu/mod%03u}\n", i);
			break;
		case 8:
			if (i < 100)
				r = strbuf_addf(sb, "  - {path: \"*.%s\", severity: low}\n",
						exts[i / 10]);
			else
				r = strbuf_addf(sb, "  - {path: /etc/xxx%03u.d, severity: high}\n",
						i);
			break;
		case 9:
			r = strbuf_addf(sb, "  - {path: /var/lib/pkg%03u/state, check: log}\n",
					i - 4);
			break;
		}
	}
	return r;
}

static int make_path(struct strbuf *sb)
{
	unsigned k = rnd(1000);

	strbuf_reset(sb);
	switch (rnd(8)) {
	case 0:
		return strbuf_addf(sb, "/usr/share/doc/pkg%03u/examples/file%u.gz", k, rnd(50));
	case 1:
		return strbuf_addf(sb, "/usr/share/doc/pkg%03u/changelog.Debian.gz", k);
	case 2:
		return strbuf_addf(sb, "/etc/xxx%03u.d/%02u-local.conf", k, rnd(100));
	case 3:
		return strbuf_addf(sb, "/usr/lib/x86_64-linux-gnu/mod%03u/lib%u.so.1", k, rnd(20));
	case 4:
		return strbuf_addf(sb, "/home/user%u/.config%03u/settings.json", rnd(20), k);
	case 5:
		return strbuf_addf(sb, "/var/lib/pkg%03u/state/info%u", k, rnd(10));
	case 6:
		return strbuf_addf(sb, "/opt/app%03u/bin/tool%u", k, rnd(10));
	default:
		return strbuf_addf(sb, "/usr/share/locale/l%u/LC_MESSAGES/pkg%03u.mo", rnd(100), k);
	}
}

int main(int argc, char **argv)
{
	size_t npaths = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	size_t nbrute = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	struct strbuf policy = STRBUF_INIT, paths = STRBUF_INIT, one = STRBUF_INIT;
	size_t *offs = NULL, covered = 0;
	struct rule_set *rs = NULL;
	uint64_t sum = 0;
	struct diag d;
	double t0, t_index, t_brute;
	int r;

	if (nbrute > npaths)
		nbrute = npaths;
	offs = calloc(npaths + 1, sizeof(*offs));
	if (!offs || make_policy(&policy) < 0)
		goto oom;
	r = rule_set_load_buffer("bench", policy.buf, policy.len, NULL, NULL, &rs, &d);
	if (r < 0) {
		fprintf(stderr, "match: %s\n", d.msg);
		goto out;
	}
	for (size_t i = 0; i < npaths; i++) {
		offs[i] = paths.len;
		if (make_path(&one) < 0 || strbuf_add(&paths, one.buf, one.len + 1) < 0)
			goto oom;
	}
	offs[npaths] = paths.len;

	t0 = now();
	for (size_t i = 0; i < npaths; i++) {
		const struct rule *rule =
			rule_set_match(rs, paths.buf + offs[i], offs[i + 1] - offs[i] - 1);
		if (rule) {
			covered++;
			sum += rule_line(rule);
		}
	}
	t_index = now() - t0;

	t0 = now();
	for (size_t i = 0; i < nbrute; i++) {
		const struct rule *rule =
			rule_set_match_slow(rs, paths.buf + offs[i], offs[i + 1] - offs[i] - 1);
		sum += rule ? rule_line(rule) : 0;
	}
	t_brute = now() - t0;

	/* Not timed: both must give the same answer. */
	for (size_t i = 0; i < nbrute; i++) {
		const char *p = paths.buf + offs[i];
		size_t len = offs[i + 1] - offs[i] - 1;
		if (rule_set_match_slow(rs, p, len) != rule_set_match(rs, p, len)) {
			fprintf(stderr, "match: index and brute force disagree on '%s'\n", p);
			r = 1;
			goto out;
		}
	}

	printf("policy: %zu rules; paths: %zu (%zu covered, checksum %llu)\n", (size_t)500, npaths,
	       covered, (unsigned long long)sum);
	printf("indexed:     %8.1f ns/path  %12.0f paths/s  (%.3f s for %zu paths)\n",
	       t_index * 1e9 / (double)npaths, (double)npaths / t_index, t_index, npaths);
	if (nbrute)
		printf("brute force: %8.1f ns/path  %12.0f paths/s  (over the first %zu paths; "
		       "same answers)\n",
		       t_brute * 1e9 / (double)nbrute, (double)nbrute / t_brute, nbrute);
	r = 0;
	goto out;
oom:
	fprintf(stderr, "match: out of memory\n");
	r = 1;
out:
	rule_set_free(rs);
	strbuf_release(&policy);
	strbuf_release(&paths);
	strbuf_release(&one);
	free(offs);
	return r ? 1 : 0;
}
