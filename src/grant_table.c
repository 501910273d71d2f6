/* grant_table.c - an open-addressing table (linear probing, deletion by
 * backward shift) keyed by cgroup id, family and address. The app picks
 * the addresses (its own zone is enough) and can learn its cgroup id, so
 * the hash is keyed (SipHash, a random key per table): with an unkeyed
 * one, 8,192 colliding addresses, found in seconds, stalled the loop for
 * 0.6 s on each sweep. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "src/grant_table.h"
#include "src/siphash.h"
#include "src/xmalloc.h"

#define GRANT_TABLE_MIN_SLOTS 1024

struct grant_slot {
	uint64_t cgroup_id;
	uint64_t hash; /* of the key, kept for moves and growth */
	uint64_t expires;
	uint32_t uid;
	uint8_t used;
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
};

struct grant_table {
	struct siphash_key key;
	struct grant_slot *slots;
	size_t n_slots; /* a power of two */
	size_t n_used;
	uint64_t next_sweep; /* no grant expires before this */
};

static uint64_t
hash_key(const struct grant_table *t, uint64_t cgroup_id, uint8_t family,
	 const uint8_t *addr)
{
	uint8_t key[8 + 1 + 16];

	memcpy(key, &cgroup_id, 8);
	key[8] = family;
	memcpy(key + 9, addr, 16);
	return siphash24(&t->key, key, sizeof key);
}

static size_t
home_of(const struct grant_slot *s, size_t n_slots)
{
	return (size_t)s->hash & (n_slots - 1);
}

static void
key_of(const struct ip_addr *addr, uint8_t *family, uint8_t bytes[16])
{
	memset(bytes, 0, 16);
	*family = addr->family == AF_INET6 ? 6 : 4;
	memcpy(bytes, addr->bytes, addr->family == AF_INET6 ? 16 : 4);
}

static struct grant_slot *
find(const struct grant_table *t, uint64_t hash, uint64_t cgroup_id,
     uint8_t family, const uint8_t *bytes)
{
	size_t i = (size_t)hash & (t->n_slots - 1);

	while (t->slots[i].used) {
		const struct grant_slot *s = &t->slots[i];

		if (s->hash == hash && s->cgroup_id == cgroup_id &&
		    s->family == family &&
		    memcmp(s->addr, bytes, 16) == 0)
			return &t->slots[i];
		i = (i + 1) & (t->n_slots - 1);
	}
	return NULL;
}

static void
place(struct grant_slot *slots, size_t n_slots, const struct grant_slot *s)
{
	size_t i = home_of(s, n_slots);

	while (slots[i].used)
		i = (i + 1) & (n_slots - 1);
	slots[i] = *s;
}

static void
grow(struct grant_table *t)
{
	size_t n_slots = t->n_slots * 2, i;
	struct grant_slot *slots = xcalloc(n_slots, sizeof *slots);

	for (i = 0; i < t->n_slots; i++) {
		if (t->slots[i].used)
			place(slots, n_slots, &t->slots[i]);
	}
	free(t->slots);
	t->slots = slots;
	t->n_slots = n_slots;
}

/* Empties slot i, moving later entries of its probe run back so every
 * entry stays reachable from its home slot. */
static void
delete_at(struct grant_table *t, size_t i)
{
	size_t mask = t->n_slots - 1, j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!t->slots[j].used)
			break;
		home = home_of(&t->slots[j], t->n_slots);
		/* Move j to i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	memset(&t->slots[i], 0, sizeof t->slots[i]);
	t->n_used--;
}

struct grant_table *
grant_table_new(void)
{
	struct grant_table *t = xcalloc(1, sizeof *t);

	siphash_key_random(&t->key);
	t->n_slots = GRANT_TABLE_MIN_SLOTS;
	t->slots = xcalloc(t->n_slots, sizeof *t->slots);
	t->next_sweep = UINT64_MAX;
	return t;
}

void
grant_table_free(struct grant_table *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t);
}

bool
grant_table_has(const struct grant_table *t, uint64_t cgroup_id,
		const struct ip_addr *addr, uint64_t now)
{
	const struct grant_slot *s;
	uint8_t family, bytes[16];

	key_of(addr, &family, bytes);
	s = find(t, hash_key(t, cgroup_id, family, bytes), cgroup_id, family,
		 bytes);
	return s != NULL && s->expires > now;
}

uint64_t
grant_table_expires(const struct grant_table *t, uint64_t cgroup_id,
		    const struct ip_addr *addr)
{
	const struct grant_slot *s;
	uint8_t family, bytes[16];

	key_of(addr, &family, bytes);
	s = find(t, hash_key(t, cgroup_id, family, bytes), cgroup_id, family,
		 bytes);
	return s != NULL ? s->expires : 0;
}

int
grant_table_put(struct grant_table *t, uint64_t cgroup_id, uint32_t uid,
		const struct ip_addr *addr, uint64_t now, uint32_t timeout)
{
	struct grant_slot *s, fresh;
	uint8_t family, bytes[16];
	uint64_t hash;
	int is_new = 1;

	key_of(addr, &family, bytes);
	hash = hash_key(t, cgroup_id, family, bytes);
	s = find(t, hash, cgroup_id, family, bytes);
	if (s != NULL) {
		/* Even when its time is up: only the sweep gives a grant
		 * back, so until then it is held, and this renews it. */
		s->expires = now + timeout;
		is_new = 0;
	} else {
		if ((t->n_used + 1) * 10 > t->n_slots * 7)
			grow(t);
		memset(&fresh, 0, sizeof fresh);
		fresh.cgroup_id = cgroup_id;
		fresh.uid = uid;
		fresh.hash = hash;
		fresh.family = family;
		memcpy(fresh.addr, bytes, 16);
		fresh.expires = now + timeout;
		fresh.used = 1;
		place(t->slots, t->n_slots, &fresh);
		t->n_used++;
	}
	if (now + timeout < t->next_sweep)
		t->next_sweep = now + timeout;
	return is_new;
}

void
grant_table_expire(struct grant_table *t, uint64_t now,
		   void (*expired)(uint64_t cgroup_id, uint32_t uid, void *arg),
		   void *arg)
{
	uint64_t earliest = UINT64_MAX;
	size_t i = 0;

	if (now < t->next_sweep)
		return;
	while (i < t->n_slots) {
		struct grant_slot *s = &t->slots[i];

		if (!s->used) {
			i++;
			continue;
		}
		if (s->expires <= now) {
			uint64_t id = s->cgroup_id;
			uint32_t uid = s->uid;

			delete_at(t, i); /* slot i may now hold another */
			if (expired != NULL)
				expired(id, uid, arg);
			continue;
		}
		if (s->expires < earliest)
			earliest = s->expires;
		i++;
	}
	t->next_sweep = earliest > now + 1 ? earliest : now + 1;
}

void
grant_table_clear(struct grant_table *t)
{
	memset(t->slots, 0, t->n_slots * sizeof *t->slots);
	t->n_used = 0;
	t->next_sweep = UINT64_MAX;
}

size_t
grant_table_count(const struct grant_table *t)
{
	return t->n_used;
}
