/* fuzz_answer.c - libFuzzer harness: an upstream's answer through
 * everything the daemon does with one: message_parse_answer, the cache
 * (cache_put, then cache_get, which ages the TTLs), message_min_ttl,
 * message_truncate for a small UDP client and message_copy_question for
 * the asker's spelling. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/cache.h"
#include "resolver/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The query this answer answers: its own header and question, as a
 * query, so the cache key is what the daemon would have used. */
static size_t
query_for(const uint8_t *answer, size_t len, uint8_t *query, size_t qlen,
	  struct dns_question *q)
{
	const char *reason;
	ssize_t n = message_truncate(answer, len, query, qlen);

	if (n >= DNS_HEADER_SIZE) {
		query[2] &= (uint8_t)~0x82; /* QR and TC off */
		if (message_parse_query(query, (size_t)n, q, &reason) ==
		    MESSAGE_QUERY_OK)
			return (size_t)n;
	}
	memset(q, 0, sizeof *q);
	strcpy(q->qname, "www.example.com");
	q->qtype = 1;
	q->qclass = 1;
	q->udp_size = 512;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct answer_info info;
	static uint8_t copy[DNS_MAX_UDP], out[DNS_MAX_UDP];
	uint8_t query[DNS_HEADER_SIZE + DNS_MAX_NAME + 8], tc[sizeof query];
	struct dns_question q;
	struct cache *cache;
	const char *reason = NULL;
	size_t qlen, got;
	uint32_t ttl, keep;

	if (size > DNS_MAX_UDP)
		return 0;
	qlen = query_for(data, size, query, sizeof query, &q);

	/* The TTL walkers see whatever arrives, parsed or not. */
	message_min_ttl(data, size, &ttl);
	memcpy(copy, data, size);
	message_age_ttls(copy, size, 3600);

	if (message_parse_answer(data, size, q.qname, &info, &reason) < 0) {
		if (reason == NULL || reason[0] == '\0')
			abort();
		return 0;
	}
	if (info.n_addrs > MESSAGE_MAX_ADDRS ||
	    info.n_chain > MESSAGE_MAX_CHAIN)
		abort();

	cache = cache_new(4);
	keep = info.min_ttl == 0		  ? 1
	       : info.min_ttl > CACHE_MAX_TTL ? CACHE_MAX_TTL
					      : info.min_ttl;
	cache_put(cache, &q, data, size, keep, 100);
	got = cache_get(cache, &q, out, sizeof out, 100 + keep / 2);
	/* An answer that parsed is one the cache can age and give back. */
	if (got != size)
		abort();
	message_min_ttl(out, got, &ttl);
	message_truncate(out, got, tc, sizeof tc);
	if (qlen > 0)
		message_copy_question(out, got, query, qlen);
	cache_free(cache);
	return 0;
}
