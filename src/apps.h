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
#define APPS_DESTS 32        /* destinations with traffic, per app */
#define APPS_CGROUPS 16384   /* cgroups mapped to their apps */
#define APPS_GRANTS 262144   /* grants whose counters are followed */

struct apps;
struct geoip;
struct json_out;

struct apps *apps_new(void);
void apps_free(struct apps *a);

/* events_sink_fn: counts the record under its app. arg: the apps. */
void apps_sink(void *arg, const struct event_record *ev);

/* The gate's counters read now, one per live grant (nft_dump.h): what
 * each carried since the last read is added to the app last seen asking
 * in its cgroup, in all and per destination. A grant's counter that went
 * down is a new grant (the old one expired): all of it counts. Grants of
 * a cgroup no app was seen in are not counted. */
struct nft_grant;
void apps_add_traffic(struct apps *a, const struct nft_grant *grants,
		      size_t n);

/* How many apps are known. */
size_t apps_count(const struct apps *a);

/* Writes "apps": [...] into out (an object begun), the app seen last
 * first; with only non-NULL, just the apps whose key is only or
 * contains it, each with its recent names and destinations, and where
 * each destination is from geo (write nothing of it when geo is NULL
 * or has no file open). Whole apps
 * only, as many as out holds with room to end it; then "truncated"
 * (whether some did not fit) and "matched". Returns how many matched. */
size_t apps_json(const struct apps *a, const char *only,
                 const struct geoip *geo, struct json_out *out);

/* Writes "countries": [...] into out (an object begun): which apps sent
 * to which countries, from each app's destinations (as app NAME shows
 * them), one flat element per country and app ("country", its
 * "country_name", "app", "destinations", "packets", "bytes",
 * "last_ms"), by country code (a private or special address by its
 * label, one nowhere known as "unknown"; all "unknown" with GeoIP off),
 * then each country's apps by bytes sent; then "truncated". geo NULL:
 * GeoIP off. Returns how many countries were written. */
size_t apps_by_country_json(const struct apps *a, const struct geoip *geo,
                            struct json_out *out);

#endif
