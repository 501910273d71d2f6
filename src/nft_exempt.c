/* nft_exempt.c - exempt networks to interval set elements. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "src/nft_exempt.h"
#include "src/xmalloc.h"

/* One address range, both ends included, in network byte order (IPv4
 * uses bytes 0..3 and leaves the rest zero). */
struct range {
	uint8_t first[16];
	uint8_t last[16];
};

static void
prefix_to_range(const struct ip_prefix *p, struct range *r)
{
	size_t len = ip_addr_length(&p->addr);
	unsigned bit;

	memset(r, 0, sizeof *r);
	memcpy(r->first, p->addr.bytes, len);
	memcpy(r->last, p->addr.bytes, len);
	for (bit = p->length; bit < len * 8; bit++)
		r->last[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
}

static int
range_compare(const void *a, const void *b)
{
	const struct range *ra = a, *rb = b;

	return memcmp(ra->first, rb->first, sizeof ra->first);
}

static bool
is_all_ones(const uint8_t *bytes, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (bytes[i] != 0xff)
			return false;
	return true;
}

static bool
is_zero(const uint8_t *bytes, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (bytes[i] != 0)
			return false;
	return true;
}

/* out = in + 1; in must not be all ones. */
static void
next_address(const uint8_t *in, uint8_t *out, size_t len)
{
	size_t i = len;

	memcpy(out, in, len);
	while (i-- > 0)
		if (++out[i] != 0)
			break;
}

/* Sorts the ranges and merges overlapping and adjacent ones. Returns the
 * new count. */
static size_t
merge_ranges(struct range *r, size_t n, size_t len)
{
	size_t out = 0, i;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof *r, range_compare);
	for (i = 1; i < n; i++) {
		struct range *cur = &r[out];
		uint8_t after[16] = {0};

		if (!is_all_ones(cur->last, len))
			next_address(cur->last, after, len);
		if (is_all_ones(cur->last, len) ||
		    memcmp(r[i].first, after, len) <= 0) {
			if (memcmp(r[i].last, cur->last, len) > 0)
				memcpy(cur->last, r[i].last, len);
		} else {
			r[++out] = r[i];
		}
	}
	return out + 1;
}

static void
push(struct nft_interval_element *out, size_t *n, const uint8_t *key,
     size_t len, bool end, bool open)
{
	struct nft_interval_element *e = &out[(*n)++];

	memset(e, 0, sizeof *e);
	memcpy(e->key, key, len);
	e->end = end;
	e->open = open;
}

size_t
nft_exempt_elements(const struct ip_prefix *prefixes, size_t n, int family,
		    struct nft_interval_element **out)
{
	static const uint8_t zero[16];
	size_t len = family == AF_INET ? 4 : 16;
	struct range *ranges = xcalloc(n, sizeof *ranges);
	struct nft_interval_element *elements;
	size_t n_ranges = 0, n_elements = 0, i;

	*out = NULL;
	for (i = 0; i < n; i++)
		if (prefixes[i].addr.family == family)
			prefix_to_range(&prefixes[i], &ranges[n_ranges++]);
	n_ranges = merge_ranges(ranges, n_ranges, len);
	if (n_ranges == 0) {
		free(ranges);
		return 0;
	}
	/* At most a start and an end per range, and the opening zero. */
	elements = xcalloc(2 * n_ranges + 1, sizeof *elements);
	if (!is_zero(ranges[0].first, len))
		push(elements, &n_elements, zero, len, true, false);
	for (i = 0; i < n_ranges; i++) {
		uint8_t end[16];

		if (is_all_ones(ranges[i].last, len)) {
			push(elements, &n_elements, ranges[i].first, len, false,
			     true);
			continue;
		}
		next_address(ranges[i].last, end, len);
		push(elements, &n_elements, ranges[i].first, len, false, false);
		push(elements, &n_elements, end, len, true, false);
	}
	free(ranges);
	*out = elements;
	return n_elements;
}
