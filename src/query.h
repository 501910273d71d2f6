/* query.h - the path of one query, in the order the design fixes:
 * parse -> attribute (while the client socket is open) -> decide ->
 * resolve (cache, then upstream) -> decide on the CNAME chain -> grant the
 * answer's addresses to the asking cgroup (acked by the kernel) -> answer
 * -> one log line. The engine borrows every module; main owns them. */
#ifndef DNSGATE_QUERY_H
#define DNSGATE_QUERY_H

#include <stdint.h>

struct attr_ctx;
struct cache;
struct config;
struct gate;
struct listener_request;
struct policy;
struct upstream;

struct query_stats {
	uint64_t queries;
	uint64_t allowed;
	uint64_t blocked;
	uint64_t failed;    /* SERVFAIL: upstream or gate failure */
	uint64_t malformed; /* FORMERR, NOTIMP or dropped */
	uint64_t cache_hits;
	uint64_t grants;    /* (cgroup . address) elements written */
};

struct query_engine {
	const struct config *cfg;
	struct upstream *upstream;
	struct cache *cache;
	struct policy *policy;
	struct attr_ctx *attr;
	struct gate *gate; /* NULL: resolve and log, grant nothing */
	struct query_stats stats;
};

/* The listener callback: arg is the struct query_engine. Takes ownership
 * of req and answers or drops it exactly once. */
void query_handle(void *arg, struct listener_request *req);

#endif
