/* fetch_check.h - whether a finished download of a subscribed list may
 * replace the copy in force: the decision, apart from the network, so it
 * is tested alone. A refused download keeps the last good copy (the
 * cache is not touched) and the reason goes to the log and the list's
 * status. Also reads "! Expires:" for the refresh interval. */
#ifndef DNSGATE_FETCH_CHECK_H
#define DNSGATE_FETCH_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "! Expires:" is taken within these bounds (uBlock Origin's habit of
 * trusting the list, without letting a typo hammer the server or stop
 * the updates). */
#define FETCH_CHECK_EXPIRES_MIN 3600
#define FETCH_CHECK_EXPIRES_MAX (14 * 86400)

enum fetch_check_verdict {
	FETCH_CHECK_NEW,          /* a new copy: store it, reload */
	FETCH_CHECK_NOT_MODIFIED, /* 304: the copy in force is current */
	FETCH_CHECK_REFUSED,      /* keep the copy in force; reason says why */
};

struct fetch_check_input {
	long http_status;         /* 200, 304, 500, ... */
	const char *content_type; /* as served, NULL = none */
	const char *body;
	size_t len;
	bool have_copy;        /* a copy is in the cache */
	uint64_t copy_entries; /* its entries (fetch_check_count_entries) */
	unsigned max_shrink;   /* percent of its entries a download may
	                          lose (max-shrink=); 100 = any */
};

/* Judges in. For FETCH_CHECK_NEW, *entries is the new copy's count; for
 * FETCH_CHECK_REFUSED, reason says what was wrong in words for the log
 * ("HTTP 500", "an HTML page, not a list", ...). */
enum fetch_check_verdict fetch_check(const struct fetch_check_input *in,
                                     uint64_t *entries, char *reason,
                                     size_t reasonlen);

/* Lines that are not blank and not comments ('!', '#', or an adblock
 * header "[Adblock Plus 2.0]"): what a shrink is measured in, the same
 * way for every format. */
uint64_t fetch_check_count_entries(const char *body, size_t len);

/* The "! Expires: 4 days (update frequency)" (or "# Expires: 12 hours")
 * of the list's header, in seconds, within the bounds above; 0 when the
 * header has none that can be read. Until the formats module reads the
 * list's metadata, this is where it is read. */
uint32_t fetch_check_expires(const char *body, size_t len);

#endif
