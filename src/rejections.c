/* rejections.c - rejected connections: from the kernel's records to the
 * events bus and the log. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "src/addr.h"
#include "src/app_identity.h"
#include "src/attribution.h"
#include "src/clock.h"
#include "src/log.h"
#include "src/nft_gate.h"
#include "geoip/geoip.h"
#include "src/rejections.h"
#include "src/xmalloc.h"

/* Apps whose log budget is tracked at once; beyond, the oldest window
 * is taken over (its held-back count said first). */
#define BUDGET_SLOTS 128
#define BUDGET_KEY_MAX 256

struct budget {
	char app[BUDGET_KEY_MAX]; /* "" unused */
	uint64_t window_start;
	unsigned lines;     /* logged in this window */
	uint64_t held_back; /* not logged in this window */
};

/* Cgroups resolved lately (resolve), kept by id's hash: a newer id
 * takes an older one's slot. */
#define WHOM_SLOTS 128
#define WHOM_TTL_MS 1000

struct whom {
	bool valid;
	uint64_t cgroup_id, at_ms;
	char path[512];                 /* "" no socket; "?" gone */
	char app[APP_IDENTITY_KEY_MAX]; /* the app key */
	struct attribution proc;        /* found: a process in it */
	char who[PATH_MAX + APP_IDENTITY_KEY_MAX + 600]; /* for the log */
};

struct rejections {
	struct cgroup_tree *tree;
	struct events *bus;
	struct geoip *geoip; /* held; NULL: none */
	const char *proc_root;
	struct whom *whom; /* WHOM_SLOTS */
	struct whom spare; /* a cgroup not looked into */
	struct app_identity identity; /* resolve's */
	/* This poll's: cgroups looked into, whether the tree was rescanned,
	 * and what was told without looking. */
	unsigned resolved_now;
	bool rescanned_now;
	uint64_t last_rescan_ms; /* 0: none yet */
	uint64_t unresolved_now, unresolved_groups_now;
	uint64_t resolved; /* ever: for the tests */
	struct budget slots[BUDGET_SLOTS];
	bool full;          /* the last read found a full set */
	uint64_t published, logged;
};

struct rejections *
rejections_new(struct cgroup_tree *tree, struct events *bus,
	       const char *proc_root)
{
	struct rejections *r = xcalloc(1, sizeof *r);

	r->tree = tree;
	r->bus = bus;
	r->proc_root = proc_root;
	r->whom = xcalloc(WHOM_SLOTS, sizeof *r->whom);
	return r;
}

void
rejections_free(struct rejections *r)
{
	if (r == NULL)
		return;
	free(r->whom);
	geoip_free(r->geoip);
	free(r);
}

void
rejections_set_geoip(struct rejections *r, const struct geoip *g)
{
	struct geoip *held = geoip_ref(g);

	geoip_free(r->geoip);
	r->geoip = held;
}

uint64_t
rejections_resolved(const struct rejections *r)
{
	return r->resolved;
}

uint64_t
rejections_published(const struct rejections *r)
{
	return r->published;
}

uint64_t
rejections_logged(const struct rejections *r)
{
	return r->logged;
}

static void
say_held_back(struct rejections *r, struct budget *b)
{
	if (b->held_back == 0)
		return;
	log_warn("rejected: %s: %" PRIu64 " more rejected connection%s in "
		 "the last minute not logged (each is in the events and the "
		 "history)",
		 b->app, b->held_back, b->held_back == 1 ? "" : "s");
	r->logged++;
	b->held_back = 0;
}

void
rejections_flush(struct rejections *r, uint64_t now_ms)
{
	size_t i;

	for (i = 0; i < BUDGET_SLOTS; i++) {
		struct budget *b = &r->slots[i];

		if (b->app[0] != '\0' &&
		    now_ms - b->window_start >= REJECTIONS_WINDOW_MS) {
			say_held_back(r, b);
			b->app[0] = '\0';
		}
	}
}

/* Whether a line about app may be logged now; counts it either way. */
static bool
spend(struct rejections *r, const char *app, uint64_t now_ms)
{
	struct budget *b = NULL, *oldest = &r->slots[0];
	size_t i;

	for (i = 0; i < BUDGET_SLOTS && b == NULL; i++) {
		struct budget *s = &r->slots[i];

		if (s->app[0] != '\0' &&
		    strncmp(s->app, app, BUDGET_KEY_MAX - 1) == 0)
			b = s;
		else if (s->app[0] == '\0' ||
			 (oldest->app[0] != '\0' &&
			  s->window_start < oldest->window_start))
			oldest = s;
	}
	if (b != NULL && now_ms - b->window_start >= REJECTIONS_WINDOW_MS) {
		say_held_back(r, b);
		b->window_start = now_ms;
		b->lines = 0;
	}
	if (b == NULL) {
		b = oldest;
		if (b->app[0] != '\0')
			say_held_back(r, b);
		snprintf(b->app, sizeof b->app, "%.*s", BUDGET_KEY_MAX - 1,
			 app);
		b->window_start = now_ms;
		b->lines = 0;
		b->held_back = 0;
	}
	if (b->lines < REJECTIONS_LOG_BUDGET) {
		b->lines++;
		return true;
	}
	b->held_back++;
	return false;
}

/* The first process of the cgroup at path, with its exe and argv, or
 * found false when it has none. */
static void
find_process(struct rejections *r, const char *path, struct attribution *a)
{
	char procs[1024];
	FILE *f;
	long pid = 0;

	memset(a, 0, sizeof *a);
	if (snprintf(procs, sizeof procs, "%s%s/cgroup.procs",
		     cgroup_tree_mount(r->tree),
		     strcmp(path, "/") == 0 ? "" : path) >= (int)sizeof procs)
		return;
	f = fopen(procs, "re");
	if (f == NULL)
		return;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid > 0 && attr_read_process(r->proc_root, (pid_t)pid, a) < 0)
		memset(a, 0, sizeof *a);
}

/* The app key of a cgroup at path from its path alone (no process). */
static void
key_of_path(struct rejections *r, const char *path, char *app, size_t len)
{
	struct app_identity_source src;
	char err[256];

	memset(&src, 0, sizeof src);
	src.cgroup_path = path;
	src.uid = APP_IDENTITY_UID_UNKNOWN;
	(void)app_identity_from(&src, &r->identity, err, sizeof err);
	snprintf(app, len, "%s", r->identity.key);
}

/* A cgroup past this poll's budget: its path and key when the cache
 * knows them, no process, nothing read. */
static const struct whom *
not_looked_into(struct rejections *r, uint64_t cgroup_id)
{
	struct whom *w = &r->spare;
	unsigned level;

	memset(&w->proc, 0, sizeof w->proc);
	w->valid = false;
	w->cgroup_id = cgroup_id;
	if (cgroup_lookup_cached(r->tree, cgroup_id, w->path, sizeof w->path,
				 &level) == 0) {
		key_of_path(r, w->path, w->app, sizeof w->app);
	} else {
		snprintf(w->path, sizeof w->path, "cgroup id %" PRIu64,
			 cgroup_id);
		snprintf(w->app, sizeof w->app, "?");
	}
	snprintf(w->who, sizeof w->who, "%s (cgroup %s, not looked into)",
		 w->app, w->path);
	return w;
}

/* Who a cgroup is: its path, app key, a process and the words for the
 * log, resolved once a second at most per cgroup (a flood of rejections
 * from one app to many destinations reads /proc once), at most
 * REJECTIONS_RESOLVE_MAX cgroups and one rescan of the tree a poll: a
 * user who makes many cgroups (a delegated subtree) and sends a packet
 * from each cannot make the loop read /proc for all of them. */
static const struct whom *
resolve(struct rejections *r, uint64_t cgroup_id, uint64_t now_ms)
{
	struct whom *w = &r->whom[(cgroup_id * UINT64_C(0x9e3779b97f4a7c15)) >>
				  57]; /* 7 bits: WHOM_SLOTS */
	struct app_identity_source src;
	char err[256], who[sizeof w->who];
	unsigned level;
	int rc;

	if (w->valid && w->cgroup_id == cgroup_id &&
	    now_ms - w->at_ms < WHOM_TTL_MS)
		return w;
	if (cgroup_id != 0 && r->resolved_now >= REJECTIONS_RESOLVE_MAX)
		return not_looked_into(r, cgroup_id);
	memset(&w->proc, 0, sizeof w->proc);
	w->valid = true;
	w->cgroup_id = cgroup_id;
	w->at_ms = now_ms;
	w->path[0] = '\0';
	if (cgroup_id == 0) {
		snprintf(w->app, sizeof w->app, "%s", REJECTIONS_UNKNOWN_APP);
		snprintf(w->who, sizeof w->who,
			 "a packet without a socket (the kernel's own, or its "
			 "socket closed)");
		return w;
	}
	rc = cgroup_lookup_cached(r->tree, cgroup_id, w->path, sizeof w->path,
				  &level);
	if (rc == -EAGAIN && r->rescanned_now) {
		/* The cgroup sent its packet before the poll took it, and the
		 * poll's rescan came after: it is gone, and stays so. */
		cgroup_mark_gone(r->tree, cgroup_id);
		rc = -ENOENT;
	} else if (rc == -EAGAIN && r->last_rescan_ms != 0 &&
		   now_ms - r->last_rescan_ms < REJECTIONS_RESCAN_MS) {
		/* New cgroups, as fast as a user can make them, would cost a
		 * scan of the whole tree each second. */
		w->valid = false;
		return not_looked_into(r, cgroup_id);
	} else if (rc == -EAGAIN) {
		r->rescanned_now = true;
		r->last_rescan_ms = now_ms != 0 ? now_ms : 1;
		rc = cgroup_lookup(r->tree, cgroup_id, w->path, sizeof w->path,
				   &level);
	}
	if (rc < 0) {
		snprintf(w->path, sizeof w->path, "?");
		snprintf(w->app, sizeof w->app, "?");
		snprintf(w->who, sizeof w->who,
			 "an app whose cgroup (id %" PRIu64 ") is gone",
			 cgroup_id);
		return w;
	}
	r->resolved_now++;
	r->resolved++;
	find_process(r, w->path, &w->proc);
	memset(&src, 0, sizeof src);
	src.cgroup_path = w->path;
	src.uid = w->proc.found ? (int64_t)w->proc.uid
				: APP_IDENTITY_UID_UNKNOWN;
	if (w->proc.found) {
		src.pid = w->proc.pid;
		src.exe = w->proc.exe;
		src.argv = w->proc.argv;
		src.argv_len = w->proc.argv_len;
	}
	(void)app_identity_from(&src, &r->identity, err, sizeof err);
	snprintf(w->app, sizeof w->app, "%s", r->identity.key);
	/* Through a copy: the arguments live in *r too. */
	if (w->proc.found)
		snprintf(who, sizeof who, "%s (cgroup %s, pid %ld %s)", w->app,
			 w->path, (long)w->proc.pid,
			 w->proc.exe[0] != '\0' ? w->proc.exe : "?");
	else
		snprintf(who, sizeof who, "%s (cgroup %s, no process left in it)",
			 w->app, w->path);
	memcpy(w->who, who, sizeof who);
	return w;
}

static void
tell_one(struct rejections *r, const struct nft_rejected *el, uint64_t now_ms)
{
	const struct whom *w = resolve(r, el->cgroup_id, now_ms);
	struct event_record ev;
	struct geoip_place place;
	char dest[64 + GEOIP_TAG_MAX + 2], proto_buf[32], port[16] = "";
	char addr[64], tag[GEOIP_TAG_MAX], geo[64 + 128] = "";
	const char *proto, *s = el->packets == 1 ? "" : "s";

	ip_addr_format(&el->addr, addr, sizeof addr);
	tag[0] = '\0';
	if (geoip_enabled(r->geoip)) {
		geoip_lookup(r->geoip, &el->addr, &place);
		geoip_format_tag(&place, tag, sizeof tag);
		geoip_format_entry(&el->addr, &place, geo, sizeof geo);
	}
	/* The log's destination with its place: "198.51.100.7[NL,AS64500]". */
	snprintf(dest, sizeof dest, tag[0] ? "%s[%s]" : "%s%s", addr, tag);
	proto = ip_protocol_name(el->protocol, proto_buf, sizeof proto_buf);
	if (el->port != 0)
		snprintf(port, sizeof port, " port %u", el->port);

	memset(&ev, 0, sizeof ev);
	ev.kind = EVENT_REJECTED;
	ev.time_ms = events_now_ms();
	ev.app = w->app;
	ev.cgroup = w->path;
	ev.pid = w->proc.found ? (int64_t)w->proc.pid : -1;
	ev.uid = w->proc.found ? (int64_t)w->proc.uid : -1;
	ev.exe = w->proc.found ? w->proc.exe : "";
	ev.name = "";
	ev.rule = ev.list = ev.entry = ev.answer = "";
	ev.dest = addr;
	ev.geo = geo;
	ev.port = el->port;
	ev.protocol = el->protocol;
	ev.packets = el->packets;
	ev.cgroup_id = el->cgroup_id;
	if (r->bus != NULL)
		events_publish(r->bus, &ev);
	r->published++;

	if (w == &r->spare) {
		r->unresolved_now++; /* said for the poll in one line */
		return;
	}
	if (!spend(r, w->app, now_ms))
		return;
	if (el->cgroup_id == 0)
		log_warn("rejected: %s to %s%s (%s), %" PRIu64 " packet%s: "
			 "nothing to attribute it to; if it must pass, put %s "
			 "in 'exempt'",
			 w->who, dest, port, proto, el->packets, s, addr);
	else if (strcmp(w->app, "?") == 0)
		log_warn("rejected: %s connected to %s%s (%s), %" PRIu64
			 " packet%s: it connected without asking DNS, or to an "
			 "address it was not granted",
			 w->who, dest, port, proto, el->packets, s);
	else
		log_warn("rejected: %s connected to %s%s (%s), %" PRIu64
			 " packet%s: it connected without asking DNS, or to an "
			 "address it was not granted. If it should reach %s, "
			 "let it look the name up through dnsgate ('dnsgatectl "
			 "explain %s NAME' says what the policy would do) or "
			 "give it a net= rule",
			 w->who, dest, port, proto, el->packets, s, addr,
			 w->app);
	r->logged++;
}

void
rejections_set_full(struct rejections *r, bool full)
{
	if (full && !r->full) {
		log_warn("rejected: more than %d new connections to distinct "
			 "destinations were rejected within a second: the "
			 "kernel's record of them was full, so some are "
			 "counted ('dnsgatectl rejected') but not told with "
			 "their app",
			 NFT_REJECTED_SET_SIZE);
		r->logged++;
	}
	r->full = full;
}

static void
new_poll(struct rejections *r)
{
	r->resolved_now = 0;
	r->rescanned_now = false;
	r->unresolved_now = r->unresolved_groups_now = 0;
}

void
rejections_tell(struct rejections *r, const struct nft_rejected *el,
		uint64_t now_ms)
{
	new_poll(r);
	tell_one(r, el, now_ms);
}

static int
by_cgroup(const void *a, const void *b)
{
	const struct nft_rejected *x = a, *y = b;

	return x->cgroup_id < y->cgroup_id ? -1 : x->cgroup_id > y->cgroup_id;
}

void
rejections_tell_batch(struct rejections *r, struct nft_rejected *els, size_t n,
		      uint64_t now_ms)
{
	size_t i;

	/* Grouped by cgroup, so that each is resolved once. */
	if (n > 1)
		qsort(els, n, sizeof *els, by_cgroup);
	new_poll(r);
	for (i = 0; i < n; i++) {
		uint64_t before = r->unresolved_now;

		tell_one(r, &els[i], now_ms);
		if (r->unresolved_now > before &&
		    (i == 0 || els[i - 1].cgroup_id != els[i].cgroup_id))
			r->unresolved_groups_now++;
	}
	if (r->unresolved_now > 0 &&
	    spend(r, REJECTIONS_MANY_CGROUPS_APP, now_ms)) {
		log_warn("rejected: %" PRIu64 " connection%s from %" PRIu64
			 " cgroup%s not looked into: more than %d cgroups had "
			 "rejected connections within a second (a user making "
			 "many cgroups?); each is in the events and the "
			 "history with its cgroup and app, without pid or exe",
			 r->unresolved_now, r->unresolved_now == 1 ? "" : "s",
			 r->unresolved_groups_now,
			 r->unresolved_groups_now == 1 ? "" : "s",
			 REJECTIONS_RESOLVE_MAX);
		r->logged++;
	}
}

struct poll_state {
	struct nft_rejected *els;
	size_t n, cap;
};

static void
on_element(const struct nft_rejected *el, void *arg)
{
	struct poll_state *st = arg;

	if (st->n == st->cap) {
		st->cap = st->cap != 0 ? st->cap * 2 : 256;
		st->els = xreallocarray(st->els, st->cap, sizeof *st->els);
	}
	st->els[st->n++] = *el;
}

int
rejections_poll(struct rejections *r, struct gate *g, char *err,
		size_t errlen)
{
	struct poll_state st = {NULL, 0, 0};
	uint64_t now_ms = clock_ms();
	bool full = false;
	int n = gate_take_rejected(g, on_element, &st, &full, err, errlen);

	rejections_tell_batch(r, st.els, st.n, now_ms);
	free(st.els);
	rejections_flush(r, now_ms);
	if (n >= 0)
		rejections_set_full(r, full);
	return n;
}
