/* upstream.h - sends allowed queries to the upstream servers with c-ares
 * on the daemon's libevent loop. c-ares does the retries, the move to the
 * next server on a timeout, SERVFAIL or REFUSED, and the TCP retry of a
 * truncated answer. Every socket it opens carries the upstream mark, so
 * the redirect lets the daemon's own queries out. A c-ares channel serves
 * UPSTREAM_QUERIES_PER_CHANNEL queries and is then replaced, so queries
 * leave from ever new source ports (c-ares 1.18 would reuse one socket for
 * as long as queries are pending). */
#ifndef DNSGATE_UPSTREAM_H
#define DNSGATE_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#define UPSTREAM_QUERIES_PER_CHANNEL 16

struct event_base;
struct upstream;

struct upstream_options {
	char *const *servers; /* "ip", "ip:port", "ipv6", "[ipv6]:port" */
	size_t n_servers;
	uint32_t mark;        /* SO_MARK for every upstream socket */
	unsigned timeout_ms;  /* first try; c-ares backs off after */
	unsigned tries;       /* per server */
};

/* answer is valid only during the call; status 0 means an answer came
 * back, -1 means every upstream failed (reason says how). */
typedef void (*upstream_cb)(void *arg, int status, const uint8_t *answer,
			    size_t len, const char *reason);

struct upstream *upstream_new(struct event_base *base,
			      const struct upstream_options *opts, char *err,
			      size_t errlen);

/* Pending queries get their callback with status -1 ("shutting down"). */
void upstream_free(struct upstream *up);

/* Sends the raw query (its ID is replaced on the wire by c-ares and
 * restored by the caller). cb is called exactly once, possibly before
 * upstream_send returns. */
void upstream_send(struct upstream *up, const uint8_t *query, size_t len,
		   upstream_cb cb, void *arg);

/* The comma-separated server list as c-ares was given it. */
const char *upstream_servers(const struct upstream *up);

/* How many c-ares channels were made so far (for the tests). */
unsigned upstream_channels_made(const struct upstream *up);

#endif
