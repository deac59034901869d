/*
 * scanwalk: time scan_walk() alone (no store), for the walker's figures.
 *
 *     scanwalk [-j THREADS] [-n] [-H xxh3|sha256] [-r REPEAT] ROOT...
 *
 * -n walks without hashing; -H picks the hash algorithm (default xxh3). Prints one line per run:
 * entries, files hashed, bytes hashed, seconds, entries/s, GB/s. Built by meson as
 * build/bench/scanwalk.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "scanner/scanner.h"

static enum scan_action visit(const struct entry *e, void *userdata)
{
	(void)e;
	(void)userdata;
	return SCAN_CONTINUE;
}

int main(int argc, char **argv)
{
	struct scan_opts o = { 0 };
	unsigned repeat = 1;
	int c;

	o.hash = HASH_XXH3_128;
	o.visit = visit;
	while ((c = getopt(argc, argv, "j:nH:r:")) != -1) {
		switch (c) {
		case 'j':
			o.nthreads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			o.hash = HASH_NONE;
			break;
		case 'H':
			if (hash_algo_parse(optarg, &o.hash) < 0) {
				fprintf(stderr, "scanwalk: unknown hash algorithm '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			repeat = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr,
				"usage: scanwalk [-j THREADS] [-n] [-H xxh3|sha256] [-r REPEAT] ROOT...\n");
			return 2;
		}
	}
	o.roots = (const char *const *)(argv + optind);
	o.nroots = (size_t)(argc - optind);
	for (unsigned i = 0; i < repeat; i++) {
		struct scan_stats st;
		struct diag d = { 0 };
		struct timespec t0, t1;
		double s;
		int r;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = scan_walk(&o, &st, &d);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (r < 0) {
			fprintf(stderr, "scanwalk: %s\n", d.msg[0] ? d.msg : strerror(-r));
			return 1;
		}
		s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("j=%u hash=%s entries=%llu hashed=%llu bytes=%llu errors=%llu %.3f s "
		       "%.0f entries/s %.2f GB/s\n",
		       o.nthreads, hash_algo_name(o.hash), (unsigned long long)st.entries,
		       (unsigned long long)st.files_hashed, (unsigned long long)st.bytes_hashed,
		       (unsigned long long)st.errors, s, (double)st.entries / s,
		       (double)st.bytes_hashed / s / 1e9);
	}
	return 0;
}
