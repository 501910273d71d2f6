/* verdict.h - what a query's decision is, as values: the decision, the
 * reason, the rule or list entry behind it. The log, the counters, the
 * history and the control socket show these values, never a string made
 * from them, so they always agree and a client can read them back
 * (verdict_*_from_name). */
#ifndef DNSGATE_VERDICT_H
#define DNSGATE_VERDICT_H

#include <stdbool.h>

struct rule;

/* What was decided, as a value (the log, the counters and later the
 * history and the control socket show the same thing). */
enum query_decision {
	DECISION_NONE,
	DECISION_ALLOW,    /* answered as upstream (or the cache) said */
	DECISION_BLOCK,    /* a list, a rule or the app's default: the
			      blocked-answer (NXDOMAIN unless set); or a name
			      dnsgated answers itself (the DoH canary, DDR) */
	DECISION_SERVFAIL, /* could not be answered or granted */
	DECISION_REFUSED,  /* over a share (SERVFAIL), or a loop (REFUSED) */
};

enum query_reason {
	REASON_NONE,
	REASON_LISTED,            /* the qname is on a list a rule applies */
	REASON_CNAME_LISTED,      /* a name of the CNAME chain is */
	REASON_RULE,              /* a rule naming the qname */
	REASON_CNAME_RULE,        /* a rule naming a name of the chain */
	REASON_DEFAULT,           /* no rule named it: the app's default */
	REASON_ASK,               /* an ask rule nobody answered (no
				     prompter, or not in time): the app's
				     default */
	REASON_EXE_UNKNOWN,       /* an exe= rule could decide, and the
				     asker's exe is not known */
	REASON_UPSTREAM_FAILED,   /* every upstream failed (detail says how) */
	REASON_MALFORMED_ANSWER,  /* upstream's answer could not be read */
	REASON_SET_FULL,          /* the allow set is full */
	REASON_GATE_ERROR,        /* netlink refused the grant */
	REASON_APP_GRANT_QUOTA,   /* the app holds its share of the set */
	REASON_APP_PENDING_QUOTA, /* the app has its share of queries out */
	REASON_USER_GRANT_QUOTA,  /* its user's apps hold the user's share */
	REASON_USER_PENDING_QUOTA, /* its user's apps have theirs out */
	REASON_LOOP,              /* dnsgated's own query came back to it */
	REASON_SHUTTING_DOWN,     /* answered by the drain at shutdown */
	REASON_NAME_TOO_LONG,     /* a name over 253 characters as written
				     (only escaped bytes make one): no list
				     or rule can be checked on it, blocked */
	REASON_DOH_CANARY,        /* use-application-dns.net: NXDOMAIN, so
				     Firefox leaves DoH off (doh-canary) */
	REASON_DDR,               /* _dns.resolver.arpa (RFC 9462): NODATA,
				     no designated resolver (doh-canary) */
	REASON_ANSWERED,          /* an ask rule, answered at a prompt (now,
				     or an answer kept from before) */
	REASON_PAUSED,            /* a list or a rule would have blocked it
				     (rule, list and entry say which), and
				     blocking is paused (dnsgatectl pause):
				     allowed */
	REASON_PLACE,             /* every address of the answer was in a
				     place a rule blocks (country=,
				     continent=, asn=): blocked */
};
#define VERDICT_REASON_LAST REASON_PLACE

/* Pointers into the policy the query holds, valid while it is live. */
struct query_verdict {
	enum query_decision decision;
	enum query_reason reason;
	const struct rule *rule; /* the rule or default that decided; NULL:
				    none (or not the policy's decision) */
	const struct rule *default_rule; /* REASON_ASK: the default it
					    stood for (NULL: built in) */
	const char *list;  /* a list= rule decided: the list's name */
	const char *entry; /* the listed domain that matched */
	const char *cname; /* the chain's name that matched, if not the
			      qname */
};

const char *query_decision_name(enum query_decision d);
const char *query_reason_name(enum query_reason r);

/* The value a name stands for (query_decision_name's or
 * query_reason_name's words); false when it names none. */
bool verdict_decision_from_name(const char *name, enum query_decision *out);
bool verdict_reason_from_name(const char *name, enum query_reason *out);

#endif
