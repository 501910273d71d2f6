/* verdict.c - the names of a verdict's values, both ways. */
#include <string.h>

#include "src/verdict.h"

const char *
query_decision_name(enum query_decision d)
{
	switch (d) {
	case DECISION_NONE:
		return "none";
	case DECISION_ALLOW:
		return "allow";
	case DECISION_BLOCK:
		return "block";
	case DECISION_SERVFAIL:
		return "servfail";
	case DECISION_REFUSED:
		return "refused";
	}
	return "?";
}

const char *
query_reason_name(enum query_reason r)
{
	switch (r) {
	case REASON_NONE:
		return "none";
	case REASON_LISTED:
		return "listed";
	case REASON_CNAME_LISTED:
		return "cname-listed";
	case REASON_RULE:
		return "rule";
	case REASON_CNAME_RULE:
		return "cname-rule";
	case REASON_DEFAULT:
		return "default";
	case REASON_ASK:
		return "ask";
	case REASON_EXE_UNKNOWN:
		return "exe-unknown";
	case REASON_UPSTREAM_FAILED:
		return "upstream-failed";
	case REASON_MALFORMED_ANSWER:
		return "malformed-upstream-answer";
	case REASON_SET_FULL:
		return "allow-set-full";
	case REASON_GATE_ERROR:
		return "gate-error";
	case REASON_APP_GRANT_QUOTA:
		return "app-grant-quota";
	case REASON_APP_PENDING_QUOTA:
		return "app-pending-quota";
	case REASON_USER_GRANT_QUOTA:
		return "user-grant-quota";
	case REASON_USER_PENDING_QUOTA:
		return "user-pending-quota";
	case REASON_LOOP:
		return "loop";
	case REASON_SHUTTING_DOWN:
		return "shutting-down";
	case REASON_NAME_TOO_LONG:
		return "name-too-long";
	case REASON_DOH_CANARY:
		return "doh-canary";
	case REASON_DDR:
		return "ddr";
	case REASON_ANSWERED:
		return "answered";
	case REASON_PAUSED:
		return "paused";
	case REASON_PLACE:
		return "place";
	}
	return "?";
}

bool
verdict_decision_from_name(const char *name, enum query_decision *out)
{
	for (int d = DECISION_NONE; d <= DECISION_REFUSED; d++)
		if (strcmp(name, query_decision_name(d)) == 0) {
			*out = d;
			return true;
		}
	return false;
}

bool
verdict_reason_from_name(const char *name, enum query_reason *out)
{
	for (int r = REASON_NONE; r <= VERDICT_REASON_LAST; r++)
		if (strcmp(name, query_reason_name(r)) == 0) {
			*out = r;
			return true;
		}
	return false;
}
