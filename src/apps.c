/* apps.c - the table of apps seen: a hash of app keys to their counts,
 * each with a small list of the names it asked last. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "geoip/geoip.h"
#include "src/addr.h"
#include "src/apps.h"
#include "src/clock.h"
#include "src/json.h"
#include "src/nft_dump.h"
#include "src/siphash.h"
#include "src/xmalloc.h"

#define APPS_BUCKETS 8192 /* a power of two, twice APPS_MAX */

struct app_name {
	char *name;
	uint16_t qtype;
	enum query_decision decision;
	uint64_t count;
	int64_t last_ms;
};

struct app_dest {
	struct ip_addr addr;
	uint64_t packets, bytes;
	int64_t last_ms;
};

struct app {
	char *key;
	char *cgroup; /* the cgroup it was last seen in */
	char *exe;    /* the exe it was last seen with ("" unknown) */
	int64_t uid;
	int64_t first_ms, last_ms;
	uint64_t queries, allowed, blocked, failed;
	uint64_t rejected; /* packets of rejected connections */
	uint64_t packets, bytes;
	struct app_name names[APPS_NAMES];
	size_t n_names;
	struct app_dest dests[APPS_DESTS];
	size_t n_dests;
	struct app *next; /* in its bucket */
};

/* The app last seen asking in a cgroup (its key), and the counter of a
 * grant as last read: both for the traffic. */
struct cgroup_app {
	uint64_t id;
	char *key;
	struct cgroup_app *next;
};

struct grant_seen {
	uint64_t cgroup_id;
	struct ip_addr addr;
	uint64_t packets, bytes;
	uint32_t generation;
	struct grant_seen *next;
};

#define CG_BUCKETS 16384    /* powers of two */
#define GRANT_BUCKETS 65536

struct apps {
	struct app *bucket[APPS_BUCKETS];
	size_t n;
	struct cgroup_app *cg_bucket[CG_BUCKETS];
	size_t n_cgroups;
	struct grant_seen **grant_bucket; /* GRANT_BUCKETS, made on use */
	size_t n_grants;
	uint32_t generation;
	struct siphash_key hash_key;
};

static size_t
bucket_of(const struct apps *a, const char *key)
{
	return (size_t)(siphash24(&a->hash_key, key, strlen(key)) &
			(APPS_BUCKETS - 1));
}

struct apps *
apps_new(void)
{
	struct apps *a = xcalloc(1, sizeof *a);

	siphash_key_random(&a->hash_key);
	return a;
}

static void
app_free(struct app *p)
{
	for (size_t i = 0; i < p->n_names; i++)
		free(p->names[i].name);
	free(p->key);
	free(p->cgroup);
	free(p->exe);
	free(p);
}

static void
forget_cgroups(struct apps *a)
{
	for (size_t b = 0; b < CG_BUCKETS; b++)
		while (a->cg_bucket[b] != NULL) {
			struct cgroup_app *m = a->cg_bucket[b];

			a->cg_bucket[b] = m->next;
			free(m->key);
			free(m);
		}
	a->n_cgroups = 0;
}

static void
forget_grants(struct apps *a)
{
	if (a->grant_bucket == NULL)
		return;
	for (size_t b = 0; b < GRANT_BUCKETS; b++)
		while (a->grant_bucket[b] != NULL) {
			struct grant_seen *g = a->grant_bucket[b];

			a->grant_bucket[b] = g->next;
			free(g);
		}
	a->n_grants = 0;
}

static size_t
cg_bucket_of(uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 50) & (CG_BUCKETS - 1);
}

/* The cgroup id was seen asking as app key. */
static void
map_cgroup(struct apps *a, uint64_t id, const char *key)
{
	size_t b = cg_bucket_of(id);
	struct cgroup_app *m;

	for (m = a->cg_bucket[b]; m; m = m->next)
		if (m->id == id) {
			if (strcmp(m->key, key) != 0) {
				free(m->key);
				m->key = xstrdup(key);
			}
			return;
		}
	if (a->n_cgroups >= APPS_CGROUPS)
		forget_cgroups(a); /* refilled by the next queries */
	m = xcalloc(1, sizeof *m);
	m->id = id;
	m->key = xstrdup(key);
	m->next = a->cg_bucket[b];
	a->cg_bucket[b] = m;
	a->n_cgroups++;
}

static const char *
app_of_cgroup(const struct apps *a, uint64_t id)
{
	for (struct cgroup_app *m = a->cg_bucket[cg_bucket_of(id)]; m;
	     m = m->next)
		if (m->id == id)
			return m->key;
	return NULL;
}

void
apps_free(struct apps *a)
{
	if (a == NULL)
		return;
	for (size_t b = 0; b < APPS_BUCKETS; b++)
		while (a->bucket[b] != NULL) {
			struct app *p = a->bucket[b];

			a->bucket[b] = p->next;
			app_free(p);
		}
	forget_cgroups(a);
	forget_grants(a);
	free(a->grant_bucket);
	free(a);
}

static struct app *
find(const struct apps *a, const char *key)
{
	for (struct app *p = a->bucket[bucket_of(a, key)]; p; p = p->next)
		if (strcmp(p->key, key) == 0)
			return p;
	return NULL;
}

/* Makes room by forgetting the app seen longest ago. */
static void
evict_oldest(struct apps *a)
{
	struct app **oldest = NULL;

	for (size_t b = 0; b < APPS_BUCKETS; b++)
		for (struct app **pp = &a->bucket[b]; *pp; pp = &(*pp)->next)
			if (oldest == NULL || (*pp)->last_ms < (*oldest)->last_ms)
				oldest = pp;
	if (oldest != NULL) {
		struct app *p = *oldest;

		*oldest = p->next;
		app_free(p);
		a->n--;
	}
}

static void
set_string(char **field, const char *value)
{
	if (*field != NULL && strcmp(*field, value) == 0)
		return;
	free(*field);
	*field = xstrdup(value);
}

static struct app *
find_or_add(struct apps *a, const char *key, int64_t now)
{
	struct app *p = find(a, key);
	size_t b;

	if (p != NULL)
		return p;
	if (a->n >= APPS_MAX)
		evict_oldest(a);
	p = xcalloc(1, sizeof *p);
	p->key = xstrdup(key);
	p->first_ms = now;
	p->last_ms = now;
	b = bucket_of(a, key);
	p->next = a->bucket[b];
	a->bucket[b] = p;
	a->n++;
	return p;
}

/* Counts name under p; the name asked longest ago makes room. */
static void
note_name(struct app *p, const struct event_record *ev)
{
	struct app_name *slot = NULL;

	for (size_t i = 0; i < p->n_names; i++)
		if (p->names[i].qtype == ev->qtype &&
		    strcmp(p->names[i].name, ev->name) == 0) {
			slot = &p->names[i];
			break;
		}
	if (slot == NULL) {
		if (p->n_names < APPS_NAMES) {
			slot = &p->names[p->n_names++];
		} else {
			slot = &p->names[0];
			for (size_t i = 1; i < p->n_names; i++)
				if (p->names[i].last_ms < slot->last_ms)
					slot = &p->names[i];
			free(slot->name);
		}
		slot->name = xstrdup(ev->name);
		slot->qtype = ev->qtype;
		slot->count = 0;
	}
	slot->count++;
	slot->decision = ev->decision;
	slot->last_ms = ev->time_ms;
}

void
apps_sink(void *arg, const struct event_record *ev)
{
	struct apps *a = arg;
	struct app *p;

	if (ev->app == NULL || ev->app[0] == '\0')
		return;
	p = find_or_add(a, ev->app, ev->time_ms);
	if (ev->kind == EVENT_QUERY && ev->cgroup_id != 0)
		map_cgroup(a, ev->cgroup_id, ev->app);
	if (ev->time_ms > p->last_ms)
		p->last_ms = ev->time_ms;
	if (ev->cgroup[0] != '\0')
		set_string(&p->cgroup, ev->cgroup);
	if (ev->exe[0] != '\0')
		set_string(&p->exe, ev->exe);
	if (ev->uid >= 0)
		p->uid = ev->uid;
	if (ev->kind == EVENT_REJECTED) {
		p->rejected += ev->packets;
		return;
	}
	p->queries++;
	if (ev->decision == DECISION_ALLOW)
		p->allowed++;
	else if (ev->decision == DECISION_BLOCK)
		p->blocked++;
	else
		p->failed++;
	if (ev->name != NULL && ev->name[0] != '\0')
		note_name(p, ev);
}

static size_t
grant_bucket_of(uint64_t id, const struct ip_addr *addr)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ULL;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr->bytes[i]) * 0x100000001b3ULL;
	return (size_t)(h >> 40) & (GRANT_BUCKETS - 1);
}

/* Adds what dest carried to p, in all and for dest; the destination
 * seen longest ago makes room. */
static void
count_traffic(struct app *p, const struct ip_addr *dest, uint64_t packets,
	      uint64_t bytes, int64_t now_ms)
{
	struct app_dest *slot = NULL;

	p->packets += packets;
	p->bytes += bytes;
	for (size_t i = 0; i < p->n_dests; i++)
		if (memcmp(&p->dests[i].addr, dest, sizeof *dest) == 0) {
			slot = &p->dests[i];
			break;
		}
	if (slot == NULL) {
		if (p->n_dests < APPS_DESTS) {
			slot = &p->dests[p->n_dests++];
		} else {
			slot = &p->dests[0];
			for (size_t i = 1; i < p->n_dests; i++)
				if (p->dests[i].last_ms < slot->last_ms)
					slot = &p->dests[i];
		}
		memset(slot, 0, sizeof *slot);
		slot->addr = *dest;
	}
	slot->packets += packets;
	slot->bytes += bytes;
	slot->last_ms = now_ms;
}

void
apps_add_traffic(struct apps *a, const struct nft_grant *grants, size_t n)
{
	int64_t now = events_now_ms();
	uint32_t gen = ++a->generation;

	if (a->grant_bucket == NULL)
		a->grant_bucket = xcalloc(GRANT_BUCKETS, sizeof *a->grant_bucket);
	for (size_t i = 0; i < n; i++) {
		const struct nft_grant *g = &grants[i];
		size_t b = grant_bucket_of(g->cgroup_id, &g->addr);
		uint64_t dp = g->packets, db = g->bytes;
		struct grant_seen *s;
		const char *key;
		struct app *p;

		for (s = a->grant_bucket[b]; s; s = s->next)
			if (s->cgroup_id == g->cgroup_id &&
			    memcmp(&s->addr, &g->addr, sizeof g->addr) == 0)
				break;
		if (s != NULL && g->bytes >= s->bytes &&
		    g->packets >= s->packets) {
			dp = g->packets - s->packets;
			db = g->bytes - s->bytes;
		}
		if (s == NULL && a->n_grants >= APPS_GRANTS)
			continue; /* not followed: counting it whole on every
				     read would count it again and again */
		if (s == NULL && a->n_grants < APPS_GRANTS) {
			s = xcalloc(1, sizeof *s);
			s->cgroup_id = g->cgroup_id;
			s->addr = g->addr;
			s->next = a->grant_bucket[b];
			a->grant_bucket[b] = s;
			a->n_grants++;
		}
		if (s != NULL) {
			s->packets = g->packets;
			s->bytes = g->bytes;
			s->generation = gen;
		}
		if (dp == 0 && db == 0)
			continue;
		key = app_of_cgroup(a, g->cgroup_id);
		p = key != NULL ? find(a, key) : NULL;
		if (p != NULL)
			count_traffic(p, &g->addr, dp, db, now);
	}
	/* Grants gone since the last read are forgotten. */
	for (size_t b = 0; b < GRANT_BUCKETS; b++)
		for (struct grant_seen **pp = &a->grant_bucket[b]; *pp;) {
			struct grant_seen *s = *pp;

			if (s->generation != gen) {
				*pp = s->next;
				free(s);
				a->n_grants--;
			} else {
				pp = &s->next;
			}
		}
}

size_t
apps_count(const struct apps *a)
{
	return a->n;
}

static int
by_last_seen(const void *x, const void *y)
{
	const struct app *p = *(struct app *const *)x;
	const struct app *q = *(struct app *const *)y;

	return p->last_ms < q->last_ms ? 1 : p->last_ms > q->last_ms ? -1 : 0;
}

/* Where d is, as its members: "country", "country_name", "continent",
 * "asn", "as_org" (what is known), or "label" for a private or special
 * address. Nothing when GeoIP is off. */
static void
write_place(const struct geoip *geo, const struct ip_addr *addr,
            struct json_out *out)
{
	struct geoip_place place;

	if (!geoip_enabled(geo))
		return;
	geoip_lookup(geo, addr, &place);
	if (place.label != NULL) {
		json_key(out, "label");
		json_string(out, place.label);
		return;
	}
	json_key(out, "country");
	json_string(out, place.country);
	json_key(out, "country_name");
	json_string(out, place.country_name);
	json_key(out, "continent");
	json_string(out, place.continent);
	json_key(out, "asn");
	json_uint(out, place.asn);
	json_key(out, "as_org");
	json_string(out, place.as_org);
}

static void
write_app(const struct app *p, bool names, const struct geoip *geo,
          struct json_out *out)
{
	json_object_begin(out);
	json_key(out, "app");
	json_string(out, p->key);
	json_key(out, "cgroup");
	json_string(out, p->cgroup ? p->cgroup : "");
	json_key(out, "exe");
	json_string(out, p->exe ? p->exe : "");
	json_key(out, "uid");
	json_int(out, p->uid);
	json_key(out, "first_seen_ms");
	json_int(out, p->first_ms);
	json_key(out, "last_seen_ms");
	json_int(out, p->last_ms);
	json_key(out, "queries");
	json_uint(out, p->queries);
	json_key(out, "allowed");
	json_uint(out, p->allowed);
	json_key(out, "blocked");
	json_uint(out, p->blocked);
	json_key(out, "failed");
	json_uint(out, p->failed);
	json_key(out, "rejected_packets");
	json_uint(out, p->rejected);
	json_key(out, "packets");
	json_uint(out, p->packets);
	json_key(out, "bytes");
	json_uint(out, p->bytes);
	if (names) {
		json_key(out, "destinations");
		json_array_begin(out);
		for (size_t i = 0; i < p->n_dests; i++) {
			const struct app_dest *d = &p->dests[i];
			char addr[64];

			json_object_begin(out);
			json_key(out, "address");
			json_string(out, ip_addr_format(&d->addr, addr,
							sizeof addr));
			json_key(out, "packets");
			json_uint(out, d->packets);
			json_key(out, "bytes");
			json_uint(out, d->bytes);
			json_key(out, "last_ms");
			json_int(out, d->last_ms);
			write_place(geo, &d->addr, out);
			json_object_end(out);
		}
		json_array_end(out);
		json_key(out, "names");
		json_array_begin(out);
		for (size_t i = 0; i < p->n_names; i++) {
			const struct app_name *n = &p->names[i];

			json_object_begin(out);
			json_key(out, "name");
			json_string(out, n->name);
			json_key(out, "qtype");
			json_uint(out, n->qtype);
			json_key(out, "decision");
			json_string(out, query_decision_name(n->decision));
			json_key(out, "count");
			json_uint(out, n->count);
			json_key(out, "last_ms");
			json_int(out, n->last_ms);
			json_object_end(out);
		}
		json_array_end(out);
	}
	json_object_end(out);
}

/* Room kept after the apps for what ends the reply. */
#define REPLY_TAIL 128

size_t
apps_json(const struct apps *a, const char *only, const struct geoip *geo,
          struct json_out *out)
{
	static char scratch[64 * 1024]; /* one app, measured first */
	struct app **all = xcalloc(a->n ? a->n : 1, sizeof *all);
	size_t n = 0, written = 0, matched = 0;
	bool truncated = false;

	for (size_t b = 0; b < APPS_BUCKETS; b++)
		for (struct app *p = a->bucket[b]; p; p = p->next)
			all[n++] = p;
	qsort(all, n, sizeof *all, by_last_seen);
	json_key(out, "apps");
	json_array_begin(out);
	for (size_t i = 0; i < n; i++) {
		struct json_out probe;

		if (only != NULL && strcmp(all[i]->key, only) != 0 &&
		    strstr(all[i]->key, only) == NULL)
			continue;
		matched++;
		if (truncated)
			continue;
		/* Whole apps only, as many as the reply holds. */
		json_out_init(&probe, scratch, sizeof scratch);
		write_app(all[i], only != NULL, geo, &probe);
		if (!json_out_ok(&probe) ||
		    out->len + probe.len + 2 + REPLY_TAIL >= out->size) {
			truncated = true;
			continue;
		}
		write_app(all[i], only != NULL, geo, out);
		written++;
	}
	json_array_end(out);
	json_key(out, "truncated");
	json_bool(out, truncated);
	json_key(out, "matched");
	json_uint(out, matched);
	free(all);
	return matched;
}

/* One (country, app) pair of apps_by_country_json. */
struct country_app {
	char country[16]; /* ISO code, a label, or "unknown" */
	char country_name[64];
	const struct app *app;
	uint64_t destinations, packets, bytes;
	int64_t last_ms;
};

static int
by_country_then_bytes(const void *x, const void *y)
{
	const struct country_app *p = x, *q = y;
	int c = strcmp(p->country, q->country);

	if (c != 0)
		return c;
	return p->bytes < q->bytes ? 1 : p->bytes > q->bytes ? -1 : 0;
}

size_t
apps_by_country_json(const struct apps *a, const struct geoip *geo,
                     struct json_out *out)
{
	size_t cap = 64, n = 0, countries = 0, i, j;

	struct country_app *pairs = xcalloc(cap, sizeof *pairs);
	struct geoip_place place;
	bool truncated = false;

	/* An app's pairs are together at the end: each destination is
	 * matched against its own app's few (APPS_DESTS at most). */
	for (size_t b = 0; b < APPS_BUCKETS; b++)
		for (struct app *p = a->bucket[b]; p; p = p->next)
			for (size_t first = n, k = 0; k < p->n_dests; k++) {
				const struct app_dest *d = &p->dests[k];
				const char *where;

				geoip_lookup(geoip_enabled(geo) ? geo : NULL,
				             &d->addr, &place);
				where = place.label != NULL ? place.label
				        : place.country[0]  ? place.country
				                            : "unknown";
				for (j = first; j < n; j++)
					if (strcmp(pairs[j].country, where) ==
					    0)
						break;
				if (j == n) {
					if (n == cap) {
						cap *= 2;
						pairs = xreallocarray(
						    pairs, cap, sizeof *pairs);
					}
					memset(&pairs[n], 0, sizeof pairs[n]);
					snprintf(pairs[n].country,
					         sizeof pairs[n].country, "%s",
					         where);
					snprintf(pairs[n].country_name,
					         sizeof pairs[n].country_name,
					         "%s", place.country_name);
					pairs[n].app = p;
					n++;
				}
				pairs[j].destinations++;
				pairs[j].packets += d->packets;
				pairs[j].bytes += d->bytes;
				if (d->last_ms > pairs[j].last_ms)
					pairs[j].last_ms = d->last_ms;
			}
	qsort(pairs, n, sizeof *pairs, by_country_then_bytes);
	json_key(out, "countries");
	json_array_begin(out);
	for (i = 0; i < n; i++) {
		if (out->len + 300 + 2 * strlen(pairs[i].app->key) +
		        REPLY_TAIL >=
		    out->size) {
			truncated = true;
			break;
		}
		if (i == 0 || strcmp(pairs[i].country, pairs[i - 1].country))
			countries++;
		json_object_begin(out);
		json_key(out, "country");
		json_string(out, pairs[i].country);
		json_key(out, "country_name");
		json_string(out, pairs[i].country_name);
		json_key(out, "app");
		json_string(out, pairs[i].app->key);
		json_key(out, "destinations");
		json_uint(out, pairs[i].destinations);
		json_key(out, "packets");
		json_uint(out, pairs[i].packets);
		json_key(out, "bytes");
		json_uint(out, pairs[i].bytes);
		json_key(out, "last_ms");
		json_int(out, pairs[i].last_ms);
		json_object_end(out);
	}
	json_array_end(out);
	json_key(out, "truncated");
	json_bool(out, truncated);
	free(pairs);
	return countries;
}
