/* health.h - what dnsgated knows of one upstream server: its round-trip
 * time and retransmit timeout, and whether it is down, as unbound's
 * infrastructure cache (services/cache/infra.c, util/rtt.c) keeps it.
 *
 * The smoothed RTT and its mean deviation give the RTO (srtt + 4 *
 * rttvar, within HEALTH_RTO_MIN_MS..HEALTH_RTO_MAX_MS), which a timeout
 * doubles; an answer brings it back to what was measured. A server with
 * HEALTH_DOWN_AFTER failures (timeouts, closed port) one after another
 * is down; once its probe wait has passed, the next query probes it, and
 * each failed probe doubles the wait up to HEALTH_PROBE_MAX_MS. No clock
 * is read here: every call is given the time, in milliseconds. */
#ifndef DNSGATE_HEALTH_H
#define DNSGATE_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#define HEALTH_RTO_UNKNOWN_MS 376 /* a server never measured */
#define HEALTH_RTO_MIN_MS 50
#define HEALTH_RTO_MAX_MS 120000
#define HEALTH_DOWN_AFTER 3        /* failures in a row */
#define HEALTH_PROBE_FIRST_MS 1000 /* a down server's first probe wait */
#define HEALTH_PROBE_MAX_MS 30000

struct health {
	int srtt, rttvar, rto;     /* ms */
	bool measured;             /* srtt comes from an answer */
	int64_t learnt_at;         /* last answer or failure; 0: none */
	unsigned failures_in_row;
	unsigned epoch;            /* counted failures so far */
	bool down;
	int64_t probe_at;          /* down: probe at or after this time */
	unsigned probe_wait_ms;
};

/* A server nothing is known of yet. */
void health_init(struct health *h);

/* An answer (any, SERVFAIL and REFUSED too: the server is alive) after
 * elapsed_ms. Returns true when this brings a down server back. */
bool health_answered(struct health *h, int64_t now, int elapsed_ms);

/* A try sent with RTO rto_at_send went unanswered for that long: doubles
 * that RTO (not the current one, so tries that time out together back
 * off once). */
void health_backoff(struct health *h, int rto_at_send);

/* A failure of a try sent when the server's epoch was epoch (read it
 * from h->epoch at send). Tries sent before the last counted failure
 * fail together and count once: "in a row" means one failure after
 * another was seen. Returns true when this makes the server down. */
bool health_failed(struct health *h, int64_t now, unsigned epoch);

/* A probe of a down server failed: the next one waits twice as long. */
void health_probe_failed(struct health *h, int64_t now);

/* True when a down server's probe wait has passed. */
bool health_probe_due(const struct health *h, int64_t now);

/* Forgets what was learnt more than ttl_ms ago, so that one bad spell
 * does not banish a server for good (unbound's infra-host-ttl). A down
 * server stays down: its probes decide. */
void health_refresh(struct health *h, int64_t now, unsigned ttl_ms);

/* What servers are ranked by, lower is better: the smoothed RTT, or the
 * RTO while a timeout has it backed off, or the unknown server's RTO. */
int health_rank(const struct health *h);

#endif
