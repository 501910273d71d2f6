/* place_memo.c - the places of the addresses answered lately. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "src/hash.h"
#include "src/place_memo.h"
#include "src/xmalloc.h"

struct slot {
	bool used;
	struct ip_addr addr;
	struct place_memo_entry e;
};

struct place_memo {
	struct geoip *geo; /* held: what the slots were filled from */
	unsigned long lookups;
	struct slot slots[PLACE_MEMO_SLOTS];
};

struct place_memo *
place_memo_new(void)
{
	return xcalloc(1, sizeof(struct place_memo));
}

void
place_memo_free(struct place_memo *m)
{
	if (m == NULL)
		return;
	geoip_free(m->geo);
	free(m);
}

static size_t
slot_of(const struct ip_addr *a)
{
	uint64_t h = HASH_START;
	size_t i, n = ip_addr_length(a);

	for (i = 0; i < n; i++)
		h = hash_step(h, a->bytes[i]);
	return hash_fold(h) % PLACE_MEMO_SLOTS;
}

const struct place_memo_entry *
place_memo_get(struct place_memo *m, const struct geoip *g,
               const struct ip_addr *a)
{
	struct slot *s;
	size_t n = ip_addr_length(a);

	if (m->geo != g) {
		size_t i;

		geoip_free(m->geo);
		m->geo = geoip_ref(g);
		for (i = 0; i < PLACE_MEMO_SLOTS; i++)
			m->slots[i].used = false;
	}
	s = &m->slots[slot_of(a)];
	if (s->used && s->addr.family == a->family &&
	    memcmp(s->addr.bytes, a->bytes, n) == 0)
		return &s->e;
	m->lookups++;
	memset(&s->addr, 0, sizeof s->addr);
	s->addr.family = a->family;
	memcpy(s->addr.bytes, a->bytes, n);
	geoip_lookup(g, a, &s->e.place);
	geoip_format_tag(&s->e.place, s->e.tag, sizeof s->e.tag);
	geoip_format_entry(a, &s->e.place, s->e.entry, sizeof s->e.entry);
	s->used = true;
	return &s->e;
}

unsigned long
place_memo_lookups(const struct place_memo *m)
{
	return m->lookups;
}
