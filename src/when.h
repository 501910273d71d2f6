/* when.h - the times people write for dnsgatectl log --since/--until:
 * "now", "today", "yesterday", "tuesday" and "last tuesday", "3 hours
 * ago", "2h" or "-2h", "2026-12-01", "2026-12-01 14:30[:05]", "14:30"
 * (today), "@1764600000" (seconds since the epoch), read in the local
 * time zone. Client side only; the daemon gets milliseconds. */
#ifndef DNSGATE_WHEN_H
#define DNSGATE_WHEN_H

#include <stddef.h>
#include <stdint.h>

/* Reads text relative to now_ms (milliseconds since the epoch) into *out
 * (the same unit). A weekday is the start of the most recent such day,
 * today included; "last WEEKDAY" the one before today. Returns 0, or -1
 * with a reason in err that names the word it could not read. */
int when_parse(const char *text, int64_t now_ms, int64_t *out, char *err,
               size_t errlen);

#endif
