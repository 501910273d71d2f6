/* status.h - every counter the daemon keeps, in one place: written as
 * the JSON object `dnsgatectl status` prints, and as the lines logged at
 * exit and on SIGUSR1. A new counter is added here once and shows in
 * both. */
#ifndef DNSGATE_STATUS_H
#define DNSGATE_STATUS_H

#include <time.h>

#include "src/json.h"

struct history;
struct query_engine;
struct upstream;

struct status_sources {
	const struct query_engine *engine;
	const struct upstream *upstream;
	time_t started; /* CLOCK_MONOTONIC seconds at start */
	struct history *history; /* NULL: off */
};

/* The members of the status object (into an object already begun). */
void status_json(const struct status_sources *s, struct json_out *j);

/* The same counters as log lines at info level; what says when ("at
 * exit", "on SIGUSR1"). */
void status_log(const struct status_sources *s, const char *what);

#endif
