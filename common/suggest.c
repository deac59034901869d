/*
 * "Did you mean": the edit distance of a typed word to the words it may
 * have meant. Small fixed tables: words longer than 32 bytes are not
 * typos anyone needs help with.
 */
#include "common/suggest.h"

#include <stdint.h>
#include <string.h>

#include "common/banned.h"

#define SUGGEST_MAX 32

size_t suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];

	if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			/* A swap of neighbours is one edit: "chekc" for "check". */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

void suggest_init(struct suggest *s, const char *typed)
{
	s->typed = typed;
	s->best = NULL;
	s->dist = SIZE_MAX;
}

void suggest_try(struct suggest *s, const char *candidate)
{
	size_t d = suggest_distance(s->typed, candidate);

	/* Short words have few letters to spare: "ini" is "init", "dif" is not "init". */
	if (d > 0 && d < s->dist && d <= (strlen(s->typed) <= 4 ? 1u : 2u)) {
		s->dist = d;
		s->best = candidate;
	}
}
