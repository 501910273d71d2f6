/* shares.c - per-app counters in an open-addressing table. Entries are
 * only ever removed by the periodic sweep (shares_report_suppressed),
 * which rebuilds the table without the idle ones, so lookups need no
 * tombstones. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "src/shares.h"
#include "src/xmalloc.h"

#define SHARES_MIN_SLOTS 64

/* A full budget, in milliseconds of credit: one line costs an interval. */
#define LOG_CREDIT_MAX ((uint64_t)SHARES_LOG_BURST * SHARES_LOG_INTERVAL_MS)

struct share_entry {
	uint64_t app;
	bool used;
	uint32_t held[SHARE_KINDS];
	uint32_t suppressed;
	bool log_started;  /* credit and credit_at are set */
	uint64_t credit;   /* log credit in ms, at credit_at */
	uint64_t credit_at;
};

struct shares {
	struct share_entry *slots;
	size_t n_slots; /* a power of two */
	size_t n_used;
	uint32_t app_limits[SHARE_KINDS];
	uint32_t user_limits[SHARE_KINDS];
};

static size_t
slot_of(uint64_t app, size_t n_slots)
{
	uint64_t h = app * 0x9e3779b97f4a7c15ULL; /* Fibonacci hashing */

	return (size_t)(h >> 32) & (n_slots - 1);
}

static struct share_entry *
find(const struct shares *s, uint64_t app)
{
	size_t i = slot_of(app, s->n_slots);

	while (s->slots[i].used) {
		if (s->slots[i].app == app)
			return &s->slots[i];
		i = (i + 1) & (s->n_slots - 1);
	}
	return NULL;
}

static void
place(struct share_entry *slots, size_t n_slots, const struct share_entry *e)
{
	size_t i = slot_of(e->app, n_slots);

	while (slots[i].used)
		i = (i + 1) & (n_slots - 1);
	slots[i] = *e;
}

/* Rebuilds the table with n_slots slots, keeping the entries keep()
 * says to keep (all of them when keep is NULL). */
static void
rebuild(struct shares *s, size_t n_slots,
	bool (*keep)(const struct share_entry *, uint64_t), uint64_t now_ms)
{
	struct share_entry *slots = xcalloc(n_slots, sizeof *slots);
	size_t i, n = 0;

	for (i = 0; i < s->n_slots; i++) {
		if (!s->slots[i].used)
			continue;
		if (keep != NULL && !keep(&s->slots[i], now_ms))
			continue;
		place(slots, n_slots, &s->slots[i]);
		n++;
	}
	free(s->slots);
	s->slots = slots;
	s->n_slots = n_slots;
	s->n_used = n;
}

static struct share_entry *
get(struct shares *s, uint64_t app)
{
	struct share_entry *e = find(s, app), fresh;

	if (e != NULL)
		return e;
	if ((s->n_used + 1) * 2 > s->n_slots)
		rebuild(s, s->n_slots * 2, NULL, 0);
	memset(&fresh, 0, sizeof fresh);
	fresh.app = app;
	fresh.used = true;
	place(s->slots, s->n_slots, &fresh);
	s->n_used++;
	return find(s, app);
}

struct shares *
shares_new(const uint32_t app_limits[SHARE_KINDS],
	   const uint32_t user_limits[SHARE_KINDS])
{
	struct shares *s = xcalloc(1, sizeof *s);

	s->n_slots = SHARES_MIN_SLOTS;
	s->slots = xcalloc(s->n_slots, sizeof *s->slots);
	memcpy(s->app_limits, app_limits, sizeof s->app_limits);
	memcpy(s->user_limits, user_limits, sizeof s->user_limits);
	return s;
}

void
shares_free(struct shares *s)
{
	if (s == NULL)
		return;
	free(s->slots);
	free(s);
}

int
shares_take(struct shares *s, uint64_t app, enum share_kind kind, uint32_t n)
{
	struct share_entry *e = get(s, app);
	uint32_t limit = shares_limit(s, app, kind);

	if (limit != 0 && (e->held[kind] > limit || n > limit - e->held[kind]))
		return -1;
	e->held[kind] += n;
	return 0;
}

void
shares_add(struct shares *s, uint64_t app, enum share_kind kind, uint32_t n)
{
	struct share_entry *e = get(s, app);

	e->held[kind] = n > UINT32_MAX - e->held[kind] ? UINT32_MAX
						       : e->held[kind] + n;
}

void
shares_give_back(struct shares *s, uint64_t app, enum share_kind kind,
		 uint32_t n)
{
	struct share_entry *e = find(s, app);

	if (e == NULL)
		return;
	e->held[kind] = n > e->held[kind] ? 0 : e->held[kind] - n;
}

void
shares_clear_kind(struct shares *s, enum share_kind kind)
{
	size_t i;

	for (i = 0; i < s->n_slots; i++)
		s->slots[i].held[kind] = 0;
}

uint32_t
shares_held(const struct shares *s, uint64_t app, enum share_kind kind)
{
	const struct share_entry *e = find(s, app);

	return e != NULL ? e->held[kind] : 0;
}

uint32_t
shares_limit(const struct shares *s, uint64_t key, enum share_kind kind)
{
	return (key & SHARES_USER_BIT) ? s->user_limits[kind]
				       : s->app_limits[kind];
}

static uint64_t
credit_now(const struct share_entry *e, uint64_t now_ms)
{
	uint64_t credit;

	if (!e->log_started)
		return LOG_CREDIT_MAX;
	if (now_ms < e->credit_at) /* the clock is monotonic; be safe */
		return e->credit;
	credit = e->credit + (now_ms - e->credit_at);
	return credit > LOG_CREDIT_MAX ? LOG_CREDIT_MAX : credit;
}

bool
shares_may_log(struct shares *s, uint64_t app, uint64_t now_ms,
	       uint32_t *suppressed)
{
	struct share_entry *e = get(s, app);
	uint64_t credit = credit_now(e, now_ms);

	e->log_started = true;
	e->credit_at = now_ms;
	if (credit < SHARES_LOG_INTERVAL_MS) {
		e->credit = credit;
		if (e->suppressed < UINT32_MAX)
			e->suppressed++;
		*suppressed = 0;
		return false;
	}
	e->credit = credit - SHARES_LOG_INTERVAL_MS;
	*suppressed = e->suppressed;
	e->suppressed = 0;
	return true;
}

/* An entry is kept while it holds anything or its log budget is not
 * full again: dropping it then would hand a flooding app a fresh burst. */
static bool
busy(const struct share_entry *e, uint64_t now_ms)
{
	int k;

	for (k = 0; k < SHARE_KINDS; k++) {
		if (e->held[k] > 0)
			return true;
	}
	return e->suppressed > 0 || credit_now(e, now_ms) < LOG_CREDIT_MAX;
}

void
shares_report_suppressed(struct shares *s, uint64_t now_ms,
			 void (*fn)(uint64_t app, uint32_t n, void *arg),
			 void *arg)
{
	size_t i, n_slots;

	for (i = 0; i < s->n_slots; i++) {
		struct share_entry *e = &s->slots[i];

		if (e->used && e->suppressed > 0) {
			fn(e->app, e->suppressed, arg);
			e->suppressed = 0;
		}
	}
	n_slots = s->n_slots;
	while (n_slots > SHARES_MIN_SLOTS && s->n_used * 8 < n_slots)
		n_slots /= 2;
	rebuild(s, n_slots, busy, now_ms);
}

size_t
shares_app_count(const struct shares *s)
{
	return s->n_used;
}
