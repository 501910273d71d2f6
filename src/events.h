/* events.h - one structured record per decision (a query answered) and
 * per connection the gate rejected, fanned out to every sink subscribed:
 * the log, the per-app counters, the history and the control socket's
 * watchers, so they always agree.
 * A record's strings are borrowed for the length of the call: a sink
 * that keeps one copies it. Sinks run on the loop and must not block
 * (the history queues a copy and writes it in its own thread). A sink
 * may not subscribe or unsubscribe from inside the call. */
#ifndef DNSGATE_EVENTS_H
#define DNSGATE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/verdict.h"

enum event_kind {
	EVENT_QUERY = 1,    /* a query was answered (or dropped) */
	EVENT_REJECTED = 2, /* the gate rejected new connections */
};

struct event_record {
	enum event_kind kind;
	uint64_t id;     /* EVENT_QUERY: the query's id; else 0 */
	int64_t time_ms; /* wall clock, milliseconds since the epoch */

	/* The asker (EVENT_REJECTED: the connecting socket's app). Strings
	 * are never NULL; "" is not known. */
	const char *app;    /* the app key */
	const char *cgroup; /* its cgroup path, below the cgroup2 mount */
	int64_t pid;        /* -1: not known */
	int64_t uid;        /* -1: not known */
	const char *exe;

	/* EVENT_QUERY: the question, the verdict as values, the answer. */
	const char *name; /* the qname, in presentation form */
	uint16_t qtype;
	enum query_decision decision;
	enum query_reason reason;
	const char *rule;   /* "FILE:LINE" of the deciding rule; "" none */
	const char *list;   /* the list that decided; "" none */
	const char *entry;  /* the listed domain that matched; "" none */
	const char *answer; /* the granted addresses, comma-separated */
	uint8_t rcode;
	bool cached;         /* answered from the cache */
	uint32_t latency_us; /* from arrival to answer */

	/* EVENT_REJECTED: where the connection went and how often. */
	const char *dest; /* the destination address */
	uint16_t port;    /* 0: none (ICMP) */
	uint8_t protocol; /* IPPROTO_TCP, IPPROTO_UDP, ... */
	uint64_t packets; /* packets rejected for it since the last record */

	/* What the values cannot say, for people ("" nothing). */
	const char *detail;

	uint64_t cgroup_id; /* the asker's cgroup; 0: not known */

	/* Where the addresses are (geoip.h), "" when GeoIP is off or
	 * nothing is known: EVENT_QUERY one entry per answer address,
	 * EVENT_REJECTED the destination's, each "ADDR=CC/ASN/ORG" (an
	 * unknown part empty: "ADDR=NL//", "ADDR=/AS64500/Org") or
	 * "ADDR=LABEL" ("10.0.0.1=private"), joined by ';'. One string, not
	 * arrays: the record's strings are borrowed and copied by the sinks
	 * that keep them, the history keeps it as one column, and a reader
	 * splits it without knowing how many addresses came. NULL is "". */
	const char *geo;

	/* EVENT_QUERY: the answer's addresses a place rule (country=,
	 * continent=, asn=) took out, each "ADDR=FILE:LINE" (the rule),
	 * joined by ';'. NULL is "". */
	const char *dropped;
};

typedef void events_sink_fn(void *arg, const struct event_record *ev);

#define EVENTS_MAX_SINKS 8

struct events {
	struct {
		events_sink_fn *fn;
		void *arg;
	} sink[EVENTS_MAX_SINKS];
	size_t n;
	uint64_t published;
};

/* Adds a sink; -1 when EVENTS_MAX_SINKS are subscribed. */
int events_subscribe(struct events *bus, events_sink_fn *fn, void *arg);

/* Removes the sink (fn, arg); nothing when it is not subscribed. */
void events_unsubscribe(struct events *bus, events_sink_fn *fn, void *arg);

/* Calls every sink with ev, in the order they subscribed. */
void events_publish(struct events *bus, const struct event_record *ev);

/* The wall clock in milliseconds since the epoch, for time_ms. */
int64_t events_now_ms(void);

#endif
