/* standing.c - standing grants for every cgroup the rules match: the ids
 * seen, what the match function gives, merged, and the batches. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "src/app_identity.h"
#include "src/log.h"
#include "src/nft_table.h"
#include "src/standing.h"
#include "src/xmalloc.h"

/* --- the cgroup ids seen: an open-addressing hash set -------------------- */

struct id_slot {
	uint64_t id; /* 0: empty (no cgroup has id 0) */
	bool granted;
};

struct id_set {
	struct id_slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t count;
	size_t granted;
};

static size_t
id_hash(uint64_t id, size_t cap)
{
	/* Inode numbers are dense: spread them (Fibonacci hashing). */
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

static struct id_slot *
id_find(const struct id_set *set, uint64_t id)
{
	size_t i;

	if (set->cap == 0)
		return NULL;
	for (i = id_hash(id, set->cap);; i = (i + 1) & (set->cap - 1)) {
		if (set->slots[i].id == id)
			return &set->slots[i];
		if (set->slots[i].id == 0)
			return NULL;
	}
}

static void id_insert(struct id_set *set, uint64_t id, bool granted);

static void
id_grow(struct id_set *set)
{
	struct id_set bigger = {NULL, set->cap ? set->cap * 2 : 256, 0, 0};
	size_t i;

	bigger.slots = xcalloc(bigger.cap, sizeof *bigger.slots);
	for (i = 0; i < set->cap; i++)
		if (set->slots[i].id != 0)
			id_insert(&bigger, set->slots[i].id,
			          set->slots[i].granted);
	free(set->slots);
	*set = bigger;
}

static void
id_insert(struct id_set *set, uint64_t id, bool granted)
{
	struct id_slot *slot;
	size_t i;

	if (2 * (set->count + 1) > set->cap)
		id_grow(set);
	for (i = id_hash(id, set->cap);
	     set->slots[i].id != 0 && set->slots[i].id != id;
	     i = (i + 1) & (set->cap - 1))
		;
	slot = &set->slots[i];
	if (slot->id == 0) {
		slot->id = id;
		set->count++;
	} else if (slot->granted) {
		set->granted--;
	}
	slot->granted = granted;
	if (granted)
		set->granted++;
}

/* Empties the set, keeping its memory. */
static void
id_clear(struct id_set *set)
{
	if (set->cap > 0)
		memset(set->slots, 0, set->cap * sizeof *set->slots);
	set->count = set->granted = 0;
}

/* --- the module ----------------------------------------------------------- */

/* The grants one cgroup got from fn, in pending.grants[first..first+n). */
struct pending_cgroup {
	uint64_t id;
	unsigned level;
	size_t first, n;
	char *path;
};

struct standing {
	struct gate *gate;
	struct cgroup_tree *tree;
	standing_match_fn *fn;
	void *arg;

	struct id_set known, next; /* next: built by a walk, then swapped */
	size_t elements;           /* written since the sets were emptied */

	struct gate_standing *buf; /* what fn fills */
	size_t buf_cap;
	struct {
		struct gate_standing *grants;
		size_t n, cap;
		struct pending_cgroup *cgroups;
		size_t n_cgroups, cap_cgroups;
	} pending;

	struct standing_stats stats;
	bool dirty; /* a write failed: the next scan resyncs everything */
};

struct standing *
standing_new(struct gate *g, struct cgroup_tree *t, standing_match_fn *fn,
             void *arg)
{
	struct standing *s = xcalloc(1, sizeof *s);

	s->gate = g;
	s->tree = t;
	s->fn = fn;
	s->arg = arg;
	s->buf_cap = 16;
	s->buf = xcalloc(s->buf_cap, sizeof *s->buf);
	return s;
}

static void
pending_clear(struct standing *s)
{
	size_t i;

	for (i = 0; i < s->pending.n_cgroups; i++)
		free(s->pending.cgroups[i].path);
	s->pending.n = 0;
	s->pending.n_cgroups = 0;
}

void
standing_free(struct standing *s)
{
	if (s == NULL)
		return;
	pending_clear(s);
	free(s->pending.grants);
	free(s->pending.cgroups);
	free(s->buf);
	free(s->known.slots);
	free(s->next.slots);
	free(s);
}

void
standing_set_gate(struct standing *s, struct gate *g)
{
	s->gate = g;
	s->elements = 0;
	id_clear(&s->known);
}

void
standing_get_stats(const struct standing *s, struct standing_stats *out)
{
	*out = s->stats;
	out->cgroups_known = s->known.count;
	out->cgroups_granted = s->known.granted;
	out->elements = s->elements;
}

/* The app key of a cgroup path, for a log line. */
static const char *
app_key(const char *path, char *buf, size_t buflen)
{
	struct app_identity_source src;
	struct app_identity *id = xmalloc(sizeof *id);
	char err[128];

	memset(&src, 0, sizeof src);
	src.cgroup_path = path;
	src.uid = APP_IDENTITY_UID_UNKNOWN;
	app_identity_from(&src, id, err, sizeof err);
	snprintf(buf, buflen, "%s", id->key);
	free(id);
	return buf;
}

/* --- asking fn, and merging what it gives -------------------------------- */

static int
network_cmp(const void *a, const void *b)
{
	const struct gate_standing *x = a, *y = b;
	int c;

	if (x->net.addr.family != y->net.addr.family)
		return x->net.addr.family < y->net.addr.family ? -1 : 1;
	c = memcmp(x->net.addr.bytes, y->net.addr.bytes, 16);
	if (c != 0)
		return c;
	return x->net.length < y->net.length ? -1
	                                     : x->net.length > y->net.length;
}

/* Whether inner lies within outer (same family; outer no longer). */
static bool
network_within(const struct ip_prefix *inner, const struct ip_prefix *outer)
{
	unsigned full = outer->length / 8, rest = outer->length % 8;

	if (inner->addr.family != outer->addr.family ||
	    inner->length < outer->length)
		return false;
	if (memcmp(inner->addr.bytes, outer->addr.bytes, full) != 0)
		return false;
	return rest == 0 ||
	       ((inner->addr.bytes[full] ^ outer->addr.bytes[full]) &
	        (uint8_t)(0xff << (8 - rest))) == 0;
}

/* Longer of two timeouts, 0 being none (the longest). */
static uint32_t
timeout_max(uint32_t a, uint32_t b)
{
	return a == 0 || b == 0 ? 0 : a > b ? a : b;
}

/* Sorts one cgroup's grants and drops those inside another: the kernel
 * refuses a network inside one it holds for the same cgroup. The widest
 * keeps its own timeout: a narrower one that would outlive it is allowed
 * only as long (less than asked, never more), and that is logged. Returns
 * the number kept, at the start of g. */
static size_t
merge_networks(struct gate_standing *g, size_t n, const char *path)
{
	size_t i, kept = 0;

	qsort(g, n, sizeof *g, network_cmp);
	for (i = 0; i < n; i++) {
		struct gate_standing *last = kept > 0 ? &g[kept - 1] : NULL;

		if (last == NULL || !network_within(&g[i].net, &last->net)) {
			g[kept++] = g[i];
			continue;
		}
		if (g[i].net.length == last->net.length) {
			last->timeout_sec =
			    timeout_max(last->timeout_sec, g[i].timeout_sec);
			continue;
		}
		if (last->timeout_sec != 0 &&
		    (g[i].timeout_sec == 0 ||
		     g[i].timeout_sec > last->timeout_sec)) {
			char key[APP_IDENTITY_KEY_MAX], inner[64], outer[64];

			log_info(
			    "standing grants of app=%s: %s/%u lies within "
			    "%s/%u, which expires sooner; it is allowed "
			    "only as long (%u s)",
			    app_key(path, key, sizeof key),
			    ip_addr_format(&g[i].net.addr, inner, sizeof inner),
			    g[i].net.length,
			    ip_addr_format(&last->net.addr, outer,
			                   sizeof outer),
			    last->net.length, last->timeout_sec);
		}
	}
	return kept;
}

/* Asks fn about one cgroup and queues what it gives. Returns the number
 * of grants queued. */
static size_t
ask(struct standing *s, uint64_t id, const char *path, unsigned level)
{
	struct pending_cgroup *pc;
	size_t n, i;

	/* No level rule matches the root cgroup (level 0). */
	if (level == 0 || id == 0)
		return 0;
	s->stats.matches++;
	n = s->fn(s->arg, path, level, s->buf, s->buf_cap);
	if (n > s->buf_cap) {
		free(s->buf);
		s->buf_cap = n;
		s->buf = xcalloc(s->buf_cap, sizeof *s->buf);
		s->stats.matches++;
		n = s->fn(s->arg, path, level, s->buf, s->buf_cap);
		if (n > s->buf_cap)
			n = s->buf_cap;
	}
	if (n == 0)
		return 0;
	if (level > NFT_LEVEL_LIMIT) {
		char key[APP_IDENTITY_KEY_MAX];

		log_warn("standing grants of app=%s not written: its cgroup "
		         "%s is at level %u, deeper than nftables can match "
		         "(255)",
		         app_key(path, key, sizeof key), path, level);
		return 0;
	}
	for (i = 0; i < n; i++)
		s->buf[i].cgroup_id = id;
	n = merge_networks(s->buf, n, path);
	if (s->pending.n + n > s->pending.cap) {
		s->pending.cap = 2 * (s->pending.n + n);
		s->pending.grants =
		    xreallocarray(s->pending.grants, s->pending.cap,
		                  sizeof *s->pending.grants);
	}
	memcpy(s->pending.grants + s->pending.n, s->buf, n * sizeof *s->buf);
	if (s->pending.n_cgroups == s->pending.cap_cgroups) {
		s->pending.cap_cgroups =
		    s->pending.cap_cgroups ? 2 * s->pending.cap_cgroups : 16;
		s->pending.cgroups =
		    xreallocarray(s->pending.cgroups, s->pending.cap_cgroups,
		                  sizeof *s->pending.cgroups);
	}
	pc = &s->pending.cgroups[s->pending.n_cgroups++];
	pc->id = id;
	pc->level = level;
	pc->first = s->pending.n;
	pc->n = n;
	pc->path = xstrdup(path);
	s->pending.n += n;
	return n;
}

/* --- writing ------------------------------------------------------------- */

static int
ensure_levels(struct standing *s, char *err, size_t errlen)
{
	unsigned max = 0;
	size_t i;
	int ret;

	for (i = 0; i < s->pending.n_cgroups; i++)
		if (s->pending.cgroups[i].level > max)
			max = s->pending.cgroups[i].level;
	ret = gate_ensure_level(s->gate, max);
	if (ret < 0)
		snprintf(
		    err, errlen,
		    "standing grants: cannot add the gate rules for cgroup "
		    "level %u: %s",
		    max, strerror(-ret));
	return ret;
}

/* One cgroup's grants could not be written: it has none in the kernel. */
static void
cgroup_failed(struct standing *s, const struct pending_cgroup *pc, int ret,
              const char *why)
{
	char key[APP_IDENTITY_KEY_MAX];

	if (id_find(&s->known, pc->id) != NULL)
		id_insert(&s->known, pc->id, false);
	if (ret == -ENFILE)
		log_warn("standing grants of app=%s (cgroup %s) not written, "
		         "its %zu standing network(s) are reachable only by "
		         "lookups: %s. Raise set-size in dnsgate.conf and "
		         "restart dnsgated",
		         app_key(pc->path, key, sizeof key), pc->path, pc->n,
		         why);
	else
		log_warn("standing grants of app=%s (cgroup %s) not written: "
		         "%s",
		         app_key(pc->path, key, sizeof key), pc->path, why);
}

/* Adds the queued grants cgroup by cgroup, after a batch of all of them
 * was refused: what fits is written, the rest logged. */
static void
add_each(struct standing *s)
{
	size_t i;

	for (i = 0; i < s->pending.n_cgroups; i++) {
		const struct pending_cgroup *pc = &s->pending.cgroups[i];
		char err[320];
		int ret;

		s->stats.batches++;
		ret = gate_standing_add(s->gate, s->pending.grants + pc->first,
		                        pc->n, err, sizeof err);
		if (ret == 0)
			s->elements += pc->n;
		else
			cgroup_failed(s, pc, ret, err);
	}
}

/* Empties the standing sets (when something may be in them). */
static int
flush(struct standing *s, char *err, size_t errlen)
{
	int ret;

	if (s->elements == 0)
		return 0;
	s->stats.batches++;
	ret = gate_standing_flush(s->gate, err, errlen);
	if (ret == 0)
		s->elements = 0;
	return ret;
}

/* Writes the queue: replacing all the sets hold, or adding to them. */
static int
write_pending(struct standing *s, bool replace, char *err, size_t errlen)
{
	int ret;

	if (s->pending.n == 0) {
		ret = replace ? flush(s, err, errlen) : 0;
		goto out;
	}
	ret = ensure_levels(s, err, errlen);
	if (ret < 0) {
		char flush_err[320];

		/* Without the rules none of them would match, and the old
		 * grants may be more than the rules give now. */
		if (replace)
			flush(s, flush_err, sizeof flush_err);
		goto out;
	}
	s->stats.batches++;
	if (replace)
		ret = gate_standing_replace(s->gate, s->pending.grants,
		                            s->pending.n, err, errlen);
	else
		ret = gate_standing_add(s->gate, s->pending.grants,
		                        s->pending.n, err, errlen);
	if (ret == 0) {
		s->elements = (replace ? 0 : s->elements) + s->pending.n;
		goto out;
	}
	if (replace) {
		/* The old grants must not stay when the new ones do not fit
		 * or are refused: the rules no longer give them. */
		char flush_err[320];
		int flushed;

		flushed = flush(s, flush_err, sizeof flush_err);
		if (flushed < 0) {
			snprintf(err, errlen,
			         "standing grants: cannot empty the standing "
			         "sets (%s)",
			         flush_err);
			ret = flushed;
			goto out;
		}
	}
	/* Full, or one cgroup's grants refused: write what can be. */
	add_each(s);
	ret = 0;
out:
	pending_clear(s);
	return ret;
}

/* --- walking ------------------------------------------------------------- */

struct walk {
	struct standing *s;
	bool all;               /* ask about every cgroup, not only new ones */
	size_t carried_granted; /* known cgroups with grants still there */
};

static void
on_cgroup(void *arg, uint64_t id, const char *path, unsigned level)
{
	struct walk *w = arg;
	struct standing *s = w->s;
	const struct id_slot *old = id_find(&s->known, id);

	if (!w->all && old != NULL) {
		id_insert(&s->next, id, old->granted);
		w->carried_granted += old->granted;
		return;
	}
	id_insert(&s->next, id, ask(s, id, path, level) > 0);
}

/* Walks the tree into next and swaps it in. Returns 0 or -errno. */
static int
walk(struct standing *s, bool all, size_t *granted_gone, char *err,
     size_t errlen)
{
	struct walk w = {s, all, 0};
	struct id_set swap;
	int ret;

	id_clear(&s->next);
	pending_clear(s);
	ret = cgroup_walk(s->tree, on_cgroup, &w);
	if (ret < 0) {
		snprintf(err, errlen,
		         "standing grants: cannot read the cgroup tree under "
		         "%s: %s",
		         cgroup_tree_mount(s->tree), strerror(-ret));
		pending_clear(s);
		return ret;
	}
	*granted_gone = all ? 0 : s->known.granted - w.carried_granted;
	swap = s->known;
	s->known = s->next;
	s->next = swap;
	return 0;
}

int
standing_resync(struct standing *s, char *err, size_t errlen)
{
	size_t gone;
	int ret = walk(s, true, &gone, err, errlen);

	if (ret < 0) {
		char flush_err[320];

		/* Unknown what the rules give now: give nothing. */
		flush(s, flush_err, sizeof flush_err);
		s->dirty = true;
		return ret;
	}
	ret = write_pending(s, true, err, errlen);
	s->dirty = ret < 0;
	return ret;
}

int
standing_scan(struct standing *s, char *err, size_t errlen)
{
	size_t gone;
	int ret;

	if (s->dirty) /* what failed before is tried again, whole */
		return standing_resync(s, err, errlen);
	ret = walk(s, false, &gone, err, errlen);
	if (ret < 0)
		return ret;
	if (gone > 0) {
		/* Their elements would fill the sets for ever: start over. */
		pending_clear(s);
		return standing_resync(s, err, errlen);
	}
	return write_pending(s, false, err, errlen);
}

void
standing_notice(struct standing *s, uint64_t cgroup_id, const char *path,
                unsigned level)
{
	char err[320];

	if (cgroup_id == 0 || id_find(&s->known, cgroup_id) != NULL)
		return;
	pending_clear(s);
	id_insert(&s->known, cgroup_id, ask(s, cgroup_id, path, level) > 0);
	if (write_pending(s, false, err, sizeof err) < 0) {
		char key[APP_IDENTITY_KEY_MAX];

		id_insert(&s->known, cgroup_id, false);
		s->dirty = true;
		log_warn("standing grants of app=%s (cgroup %s) not written: "
		         "%s; tried again at the next sweep (within 5 s)",
		         app_key(path, key, sizeof key), path, err);
	}
}
