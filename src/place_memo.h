/* place_memo.h - the places of the addresses answered lately, for the
 * query path: a cache hit asks the same few addresses again and again,
 * and each GeoIP lookup with its two formatted strings (the log's tag,
 * the record's entry) costs about 2 µs. A fixed table of slots by
 * address; the memo holds the GeoIP handle it was filled from (a
 * reference), and starts again empty when asked with another one (a
 * reload). Loop only. */
#ifndef DNSGATE_PLACE_MEMO_H
#define DNSGATE_PLACE_MEMO_H

#include "geoip/geoip.h"
#include "src/addr.h"

#define PLACE_MEMO_SLOTS 256
#define PLACE_ENTRY_MAX 192 /* geoip_format_entry's longest, and more */

struct place_memo_entry {
	struct geoip_place place;
	char tag[GEOIP_TAG_MAX];     /* geoip_format_tag */
	char entry[PLACE_ENTRY_MAX]; /* geoip_format_entry */
};

struct place_memo;

struct place_memo *place_memo_new(void);
void place_memo_free(struct place_memo *m); /* NULL accepted */

/* Where a is by g (an enabled handle), from the memo or looked up and
 * kept. Valid until the next call. */
const struct place_memo_entry *place_memo_get(struct place_memo *m,
                                              const struct geoip *g,
                                              const struct ip_addr *a);

/* Lookups made (not found in the memo), for the tests. */
unsigned long place_memo_lookups(const struct place_memo *m);

#endif
