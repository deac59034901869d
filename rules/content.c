/*
 * Kept content: which files' bytes the store keeps (`keep_content`), and
 * which it never keeps nor shows (`secret`).
 *
 * Two rule options of files, decided apart from the rule that covers the
 * path (rule_set_match()), so that an exception for one file does not
 * silently turn keeping off, and no rule order can expose a secret:
 *   - secret: any rule with `secret: true` whose pattern takes the path or
 *     an ancestor of it (as an exclusion does) makes the file secret,
 *     whatever comes after it;
 *   - keep_content: among the rules that match the path and state
 *     `keep_content`, the last one decides (an `/etc` rule with
 *     `keep_content: true` keeps what its exceptions cover, unless one of
 *     them says `keep_content: false`).
 * The rules that state either are listed once at load time, last first; a
 * policy has a handful, and they are tested one by one for each path the
 * walker decides about.
 */
#include "rules/internal.h"

#include <errno.h>
#include <stdlib.h>

#include "common/pattern.h"
#include "common/banned.h"

int rule_content_index(struct rule_set *rs)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];

		if (r->kind == ENTRY_FILE && !r->exclude && (r->keep_set || r->secret))
			n++;
	}
	rs->content_rules = calloc(n ? n : 1, sizeof(*rs->content_rules));
	if (!rs->content_rules)
		return -ENOMEM;
	for (size_t i = rs->nrules; i-- > 0;) {
		const struct rule *r = &rs->rules[i];

		if (r->kind == ENTRY_FILE && !r->exclude && (r->keep_set || r->secret))
			rs->content_rules[rs->ncontent_rules++] = (uint32_t)i;
	}
	return 0;
}

enum rule_content rule_set_content(const struct rule_set *rs, const char *path, size_t len,
				   const struct rule **ret_rule)
{
	const struct rule *keep = NULL;

	for (size_t i = 0; i < rs->ncontent_rules; i++) {
		const struct rule *r = &rs->rules[rs->content_rules[i]];

		if (r->secret && pattern_match_tree(r->pat, path, len)) {
			if (ret_rule)
				*ret_rule = r;
			return RULE_CONTENT_SECRET;
		}
		if (!keep && r->keep_set && pattern_match(r->pat, path, len))
			keep = r;
	}
	if (ret_rule)
		*ret_rule = keep;
	return keep && keep->keep_content ? RULE_CONTENT_KEEP : RULE_CONTENT_NONE;
}

bool rule_keep_content(const struct rule *rule, bool *ret_keep)
{
	if (rule->keep_set && ret_keep)
		*ret_keep = rule->keep_content;
	return rule->keep_set;
}

bool rule_secret(const struct rule *rule)
{
	return rule->secret;
}
