/* query.h - the path of one query, in the order the design fixes:
 * parse -> attribute (while the client socket is open) -> decide ->
 * resolve (cache, then upstream) -> decide on the CNAME chain -> grant the
 * answer's addresses to the asking cgroup (acked by the kernel) -> answer
 * -> one log line.
 * Each query is a registered record (an id, a state, the asker, the
 * verdict as values) from arrival to answer, so the engine can count an
 * app's queries in flight and drain them all at shutdown. Each app
 * (cgroup) has shares of what is limited (shares.h): allow-set elements,
 * pending upstream queries, DNS-over-TCP connections, and each user but
 * root a ceiling over all its apps; an app over one of them is refused
 * alone, never the others.
 * The engine borrows every module given in its fields; main owns them. */
#ifndef DNSGATE_QUERY_H
#define DNSGATE_QUERY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "src/shares.h"
#include "src/verdict.h"

struct attr_ctx;
struct cache;
struct cgroup_tree;
struct answer_info;
struct ip_addr;
struct config;
struct event;
struct event_base;
struct gate;
struct gate_grant;
struct gate_standing;
struct exe_check;
struct place_memo;
struct grant_table;
struct listener_request;
struct policy;
struct standing;
struct upstream;

/* Where a query is on its path. */
enum query_state {
	QUERY_RECEIVED,   /* parsed, not attributed yet */
	QUERY_DECIDING,   /* attributed; the lists are asked */
	QUERY_ASKING,     /* held on a prompt (an ask rule) */
	QUERY_RESOLVING,  /* waiting for an upstream answer */
	QUERY_GRANTING,   /* the answer's addresses go to the kernel */
	QUERY_ANSWERED,   /* replied to (or dropped) */
};


struct query_stats {
	uint64_t queries;
	uint64_t allowed;
	uint64_t blocked;
	uint64_t failed;    /* SERVFAIL: upstream or gate failure */
	uint64_t malformed; /* FORMERR, NOTIMP or dropped */
	uint64_t cache_hits;
	uint64_t grants;    /* (cgroup . address) elements written */
	uint64_t refused[SHARE_KINDS]; /* over an app's share, by kind */
	uint64_t log_suppressed; /* lines an app's log budget denied */
	uint64_t loops;     /* queries of dnsgated's own that came back */
	uint64_t addresses_cut;  /* answer addresses past what is read */
	/* Attribution: queries whose asker could not be told whole. */
	uint64_t socket_gone;    /* the client socket closed before it was
				    found: app unknown */
	uint64_t no_process;     /* the socket found, no process holding it:
				    pid and exe unknown */
	uint64_t exe_unknown;    /* answered SERVFAIL: an exe rule could
				    decide and the exe was not known */
	uint64_t prompted;       /* held on a prompt */
};

struct query;

struct query_engine {
	/* Set by the caller before query_engine_start. */
	const struct config *cfg;
	struct upstream *upstream;
	struct cache *cache;
	struct policy *policy;
	struct attr_ctx *attr;
	struct cgroup_tree *cgroups;
	struct gate *gate; /* NULL: resolve and log, grant nothing */
	struct standing *standing; /* the net= rules' grants; NULL: none */
	struct events *events;     /* gets one record per query answered;
				      NULL: none */
	struct prompts *prompts;   /* where ask rules hold queries; NULL:
				      the default applies at once */
	bool standing_failing;     /* the last sweep could not write them */
	/* Owned by the engine. */
	struct shares *shares;
	struct grant_table *grants;
	struct exe_check *exe_check; /* exe= rules' trust in an exe */
	struct place_memo *places;   /* where the last addresses are */
	struct event *sweep; /* expires grants, reports suppressed lines */
	struct query *live;  /* every query not answered yet */
	/* Scratch for the answer being granted (one at a time: granting
	 * does not return to the loop), too big for the stack. */
	struct answer_info *answer;
	struct gate_grant *grant_buf;
	struct ip_addr *fresh_buf;
	uint64_t n_live;
	uint64_t next_id;
	struct query_stats stats;
	/* dnsgatectl pause: what lists and rules block is allowed (the
	 * verdict's reason says REASON_PAUSED), the gate kept. Set and
	 * cleared by main; kept across reloads, not restarts. */
	bool paused;
	int64_t paused_until; /* wall clock, Unix seconds; 0: until resume */
};

/* Creates what the engine owns, with the shares of cfg, and its sweep
 * timer on base. */
void query_engine_start(struct query_engine *e, struct event_base *base);

/* Answers every live query SERVFAIL (shutting down) and stops the
 * timer. Queries waiting for upstream are answered now; their upstream
 * callbacks, which come when the upstream is freed, find them answered
 * and free them. Call before upstream_free and listener_free. */
void query_engine_stop(struct query_engine *e);

/* Frees what the engine owns, and any query record left (after
 * upstream_free, none is). */
void query_engine_free(struct query_engine *e);

/* The grants of a table taken over from an earlier dnsgated: each counts
 * against its app's share as if granted now (who asked is not in the
 * kernel's set: no user's share is charged). Returns their number, or
 * -errno with a reason in err. */
int query_engine_adopt_grants(struct query_engine *e, char *err,
			      size_t errlen);

/* The gate's sets were emptied (the table was recreated): every app's
 * grants are gone, and so is its share of them. */
void query_engine_grants_lost(struct query_engine *e);

/* standing_match_fn (standing.h) for the engine's policy: the net=
 * rules that name the cgroup at path, as its identity from the path
 * alone says (no exe: net= rules never name one). arg: the engine. */
size_t query_standing_match(void *arg, const char *cgroup_path,
			    unsigned level, struct gate_standing *out,
			    size_t max);

/* prompt_hooks.resume (prompt.h): a query held on a prompt goes on,
 * answered (a) or not (the app's default). waiter: the query. */
struct prompt_answer;
void query_prompt_resume(void *waiter, const struct prompt_answer *a);

/* The listener callback: arg is the struct query_engine. Takes ownership
 * of req and answers or drops it exactly once. */
void query_handle(void *arg, struct listener_request *req);

/* The listener's TCP hooks (listener.h): a connection is admitted while
 * its app (and its user) holds fewer than its share of connections. */
int query_tcp_open(void *arg, const struct sockaddr *client,
		   const struct sockaddr *original_dst, uint64_t *tag);
void query_tcp_close(void *arg, uint64_t tag);

#endif
