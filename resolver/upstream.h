/* upstream.h - sends allowed queries to the upstream servers with c-ares
 * on the daemon's libevent loop, and keeps each server's health.
 *
 * Each server has its own c-ares channel (one try, no c-ares failover);
 * this module picks the server for each try from what it learnt of them:
 * a smoothed round-trip time and its variance give each server a
 * retransmit timeout (RTO), doubled on every timeout; three failures in a
 * row make a server "down", and it is skipped until a probe (the next
 * real query after its backoff, sent to it as well) is answered. A query
 * moves to the next server on a timeout, SERVFAIL or REFUSED, and fails
 * when a per-query deadline passes, so a dead server costs no client more
 * than that deadline, and once it is down, nothing.
 *
 * Every socket c-ares opens carries the upstream mark, so the redirect
 * lets the daemon's own queries out. A channel serves
 * UPSTREAM_QUERIES_PER_CHANNEL queries and is then replaced, so queries
 * leave from ever new source ports (c-ares 1.18 would reuse one socket for
 * as long as queries are pending). */
#ifndef DNSGATE_UPSTREAM_H
#define DNSGATE_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPSTREAM_QUERIES_PER_CHANNEL 16

/* Server selection (each server's health is kept by health.c). */
#define UPSTREAM_RTT_BAND_MS 400   /* servers this close to the best... */
#define UPSTREAM_EXPLORE_EVERY 8   /* ...get one query in this many */
#define UPSTREAM_RTT_TTL_MS 900000 /* what was learnt lasts 15 minutes */

struct event_base;
struct upstream;

struct upstream_options {
	char *const *servers; /* "ip", "ip:port", "ipv6", "[ipv6]:port" */
	size_t n_servers;
	uint32_t mark;          /* SO_MARK for every upstream socket */
	unsigned deadline_ms;   /* a query's answer or failure, by then */
	unsigned try_max_ms;    /* the longest one try waits (upstream-timeout) */
	unsigned tries;         /* sends of one query to one server */
	uint16_t listen_port;   /* dnsgated's own: a server that is this host
				   at this port is refused (0: no check) */
	unsigned rtt_ttl_ms;    /* 0: UPSTREAM_RTT_TTL_MS (tests set less) */
};

/* answer is valid only during the call; status 0 means an answer came
 * back, -1 means the query failed: reason says, per server tried, how
 * ("192.0.2.53: timeout after 376 ms; 192.0.2.54: REFUSED"). */
typedef void (*upstream_cb)(void *arg, int status, const uint8_t *answer,
			    size_t len, const char *reason);

/* NULL with a reason in err for a server that cannot be used, or that is
 * dnsgated itself (loopback, or an address of this host, at
 * listen_port). */
struct upstream *upstream_new(struct event_base *base,
			      const struct upstream_options *opts, char *err,
			      size_t errlen);

/* Pending queries get their callback with status -1 ("shutting down"). */
void upstream_free(struct upstream *up);

/* Sends the raw query (its ID is replaced on the wire by c-ares and
 * restored by the caller). cb is called exactly once, at the latest when
 * the deadline passes, possibly before upstream_send returns. */
void upstream_send(struct upstream *up, const uint8_t *query, size_t len,
		   upstream_cb cb, void *arg);

/* Sends each server a query for a name of its own (as dnsmasq's
 * --dns-loop-detect does). A server that forwards it back to dnsgated's
 * listener (see upstream_is_loop_probe) is dropped. When every probe is
 * done, cb gets the number of servers still in use. */
typedef void (*upstream_loop_cb)(void *arg, size_t n_usable);
void upstream_check_loops(struct upstream *up, upstream_loop_cb cb,
			  void *arg);

/* For the listener's side: true when qname (lower case, no trailing dot)
 * is one of the loop probes; its server is then dropped, with an error
 * logged, and the caller should answer REFUSED. */
bool upstream_is_loop_probe(struct upstream *up, const char *qname);

/* The servers as configured, comma-separated, all of them. */
const char *upstream_servers(const struct upstream *up);

struct upstream_server_stats {
	const char *address; /* as configured; valid while up lives */
	uint64_t queries;    /* tries sent to it */
	uint64_t answers;    /* answers used or usable (not SERVFAIL) */
	uint64_t timeouts;
	uint64_t servfail;
	uint64_t refused;
	uint64_t errors;     /* connection refused, bad answers, ... */
	unsigned srtt_ms;    /* smoothed round-trip time (0: not measured) */
	unsigned rto_ms;     /* what a try to it waits now */
	bool up;             /* false: down, skipped until a probe answers */
	bool loop;           /* dropped: it forwards back to dnsgated */
};

size_t upstream_server_count(const struct upstream *up);
void upstream_server_stats(const struct upstream *up, size_t i,
			   struct upstream_server_stats *out);

/* How many c-ares channels were made so far (for the tests). */
unsigned upstream_channels_made(const struct upstream *up);

#endif
