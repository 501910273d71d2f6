/* apps.h - every app seen since the daemon started: when it was first
 * and last seen, its queries and what was decided, its rejected
 * connections, the bytes its grants carried, and the names it asked
 * most recently. Fed by the events bus (apps_sink) and by the gate's
 * counters (apps_set_traffic); read by `dnsgatectl apps` and `app NAME`.
 * Bounded: at most APPS_MAX apps (the one seen longest ago makes room)
 * and APPS_NAMES names per app (likewise). Owns its memory; runs on the
 * loop only. */
#ifndef DNSGATE_APPS_H
#define DNSGATE_APPS_H

#include <stddef.h>
#include <stdint.h>

#include "src/events.h"

#define APPS_MAX 4096
#define APPS_NAMES 32

struct apps;
struct json_out;

struct apps *apps_new(void);
void apps_free(struct apps *a);

/* events_sink_fn: counts the record under its app. arg: the apps. */
void apps_sink(void *arg, const struct event_record *ev);

/* The bytes and packets the grants of app carried in all, as the
 * gate's counters say now (they replace what was set before). Nothing
 * when the app was never seen. */
void apps_set_traffic(struct apps *a, const char *app, uint64_t packets,
		      uint64_t bytes);

/* How many apps are known. */
size_t apps_count(const struct apps *a);

/* Writes "apps": [...] into out (an object begun), the app seen last
 * first; with only non-NULL, just the apps whose key is only or
 * contains it, each with its recent names. Returns the number written. */
size_t apps_json(const struct apps *a, const char *only, struct json_out *out);

#endif
