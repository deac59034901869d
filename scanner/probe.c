/*
 * The list of probes, in the order they run, and lookups in it. Each probe
 * lives in its own file (probe_<name>.c) and exports one struct probe.
 */
#include "scanner/probe.h"

#include <string.h>

#include "common/banned.h"

extern const struct probe probe_package, probe_user, probe_service, probe_sysctl, probe_module,
	probe_port, probe_mount;

const struct probe *const probe_list[] = {
	&probe_package, &probe_user, &probe_service, &probe_sysctl,
	&probe_module,  &probe_port, &probe_mount,
};
const size_t probe_count = sizeof(probe_list) / sizeof(probe_list[0]);

const struct probe *probe_find(const char *name)
{
	for (size_t i = 0; i < probe_count; i++)
		if (!strcmp(probe_list[i]->name, name))
			return probe_list[i];
	return NULL;
}

const struct probe *probe_for_kind(enum entry_kind kind)
{
	for (size_t i = 0; i < probe_count; i++)
		for (const enum entry_kind *k = probe_list[i]->kinds; *k; k++)
			if (*k == kind)
				return probe_list[i];
	return NULL;
}
