/* history_client.h - dnsgatectl log: its options made into a "log"
 * request (times read by when.h), and the reply's records printed as a
 * table for people. */
#ifndef DNSGATE_HISTORY_CLIENT_H
#define DNSGATE_HISTORY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HISTORY_CLIENT_LIMIT 100 /* records shown when --limit is not */

struct history_client {
	bool json;         /* --json: the reply as it came */
	bool newest_first; /* asked newest first: the table reverses it */
	bool follow;       /* -f: records as they come, filtered here */
	const char *app, *name; /* -f: --app and --name (argv's) */
	bool blocked;           /* -f: --blocked */
};

/* Reads the options after "log" (argv[0] is the first of them) into a
 * request in buf, relative to now_ms. Returns 0, or -1 with a reason in
 * err (a usage error). */
int history_client_request(int argc, char **argv, int64_t now_ms,
                           struct history_client *hc, char *buf, size_t len,
                           char *err, size_t errlen);

/* Prints the records of a "log" reply as a table, oldest at the top.
 * Returns 0, or -1 when the reply cannot be read. */
int history_client_print(const struct history_client *hc, FILE *out,
                         const char *reply);

/* The table's header, and one record (a flat object, len bytes) as its
 * row: for log -f, a record a line as they come. */
void history_client_print_header(FILE *out);
/* -f: whether a record (a flat object) is one the options asked for. */
bool history_client_wants(const struct history_client *hc, const char *text,
			  size_t len);
void history_client_print_record(FILE *out, const char *text, size_t len);

#endif
