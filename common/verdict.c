/* The one name table of changes, severities and classes. */
#include "common/verdict.h"

#include <errno.h>
#include <string.h>

#include "common/banned.h"

static const char *const change_names[CHANGE__COUNT] = {
	[CHANGE_ADDED] = "added",
	[CHANGE_REMOVED] = "removed",
	[CHANGE_MODIFIED] = "modified",
};

static const char *const severity_names[SEVERITY__COUNT] = {
	[SEVERITY_INFO] = "info", [SEVERITY_LOW] = "low",           [SEVERITY_MEDIUM] = "medium",
	[SEVERITY_HIGH] = "high", [SEVERITY_CRITICAL] = "critical",
};

static const char *const class_names[CLASS__COUNT] = {
	[CLASS_EXPECTED] = "expected",
	[CLASS_DRIFT] = "drift",
	[CLASS_VIOLATION] = "violation",
	[CLASS_WAIVED] = "waived",
};

const char *change_name(enum change change)
{
	return (unsigned)change < CHANGE__COUNT ? change_names[change] : "unknown";
}

const char *severity_name(enum severity severity)
{
	return (unsigned)severity < SEVERITY__COUNT ? severity_names[severity] : "unknown";
}

const char *class_name(enum verdict_class cls)
{
	return (unsigned)cls < CLASS__COUNT ? class_names[cls] : "unknown";
}

int severity_from_name(const char *name, enum severity *ret)
{
	for (unsigned i = 0; name && i < SEVERITY__COUNT; i++)
		if (!strcmp(name, severity_names[i])) {
			*ret = (enum severity)i;
			return 0;
		}
	return -EINVAL;
}

int class_from_name(const char *name, enum verdict_class *ret)
{
	for (unsigned i = 0; name && i < CLASS__COUNT; i++)
		if (!strcmp(name, class_names[i])) {
			*ret = (enum verdict_class)i;
			return 0;
		}
	return -EINVAL;
}
