/* apps.c - the table of apps seen: a hash of app keys to their counts,
 * each with a small list of the names it asked last. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "src/apps.h"
#include "src/json.h"
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
	struct app *next; /* in its bucket */
};

struct apps {
	struct app *bucket[APPS_BUCKETS];
	size_t n;
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

void
apps_set_traffic(struct apps *a, const char *app, uint64_t packets,
		 uint64_t bytes)
{
	struct app *p = find(a, app);

	if (p == NULL)
		return;
	p->packets = packets;
	p->bytes = bytes;
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

static void
write_app(const struct app *p, bool names, struct json_out *out)
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

size_t
apps_json(const struct apps *a, const char *only, struct json_out *out)
{
	struct app **all = xcalloc(a->n ? a->n : 1, sizeof *all);
	size_t n = 0, written = 0;

	for (size_t b = 0; b < APPS_BUCKETS; b++)
		for (struct app *p = a->bucket[b]; p; p = p->next)
			all[n++] = p;
	qsort(all, n, sizeof *all, by_last_seen);
	json_key(out, "apps");
	json_array_begin(out);
	for (size_t i = 0; i < n; i++) {
		if (only != NULL && strcmp(all[i]->key, only) != 0 &&
		    strstr(all[i]->key, only) == NULL)
			continue;
		write_app(all[i], only != NULL, out);
		written++;
	}
	json_array_end(out);
	free(all);
	return written;
}
