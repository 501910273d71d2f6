/* rules.c - the rule book indexed by app and destination, and the
 * decision. Rules are grouped by the app they name (one group per kind
 * and value); a query finds its groups once (rules_asker_new), then for
 * each name probes two hash maps keyed by (group, name): exact names,
 * and domains by every suffix of the name. Wildcards and lists are
 * walked per group; a list says itself whether it blocks a name, for the
 * query's type and app (list_filter.h). Nothing here allocates per name. */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lists/list_filter.h"
#include "lists/name_table.h"
#include "src/app_identity.h"
#include "src/hash.h"
#include "src/rules.h"
#include "src/xmalloc.h"

#define NO_RULE UINT32_MAX
#define GROUP_ANY 0
/* Every exe= rule, also in a group of its own: what an asker whose exe
 * is not known is compared with. */
#define GROUP_EXE_ALL 1
#define MAX_LABELS 128

struct vec {
	uint32_t *v;
	size_t n, cap;
};

static void
vec_push(struct vec *x, uint32_t value)
{
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 4;
		x->v = xreallocarray(x->v, x->cap, sizeof *x->v);
	}
	x->v[x->n++] = value;
}

struct group {
	enum rule_app kind;
	const char *value; /* the app as rules name it (a glob's pattern) */
	char *owned;       /* value, when the index made it (a uid) */
	struct vec wildcards, lists, any, nets, defaults;
	struct vec places; /* country=, continent=, asn= */
};

struct slot {
	const char *key; /* NULL: empty */
	uint32_t len;
	uint32_t hash;
	uint32_t group; /* the group, or for group maps the kind */
	uint32_t value; /* a group index, or the first rule of a chain */
};

struct map {
	struct slot *slots;
	size_t mask, n;
};

struct rules {
	const struct rule_book *book;
	const struct list_filter *const *lists;
	size_t n_lists;
	struct group *groups;
	size_t n_groups, cap_groups;
	struct map by_app[RULE_APP_KINDS]; /* value -> group */
	struct vec globs;                  /* groups of exe globs */
	struct map names, domains;         /* (group, name) -> chain */
	uint32_t *next;     /* per rule and chain: the next rule of it */
	uint32_t *next_exe; /* the same, for the chains of GROUP_EXE_ALL */
	uint64_t *app_score; /* per rule: its app's rank, shifted */
	bool have_exe, have_nets, have_places;
	bool have_countries, have_asns; /* of the places */
	bool have_joined_keys; /* app= keys with a program in them */
	/* The exe glob groups of the programs asking last: matching every
	 * glob (fnmatch, 125 of them in the bench's rules) was a third of
	 * finding an asker's groups. Filled by rules_asker_new, on one
	 * thread at a time. */
	struct glob_memo *glob_memo;
};

#define GLOB_MEMO_SLOTS 16

struct glob_memo {
	uint64_t hash;
	char *exe;        /* NULL: empty slot */
	uint32_t *groups; /* the glob groups exe matches */
	size_t n;
};

struct rules_asker {
	size_t n;
	/* The exe is not known, and the key would join it in: the app=
	 * groups whose key is this one's with a program after it, which
	 * the exe could have made this asker's (groups[n..n+n_joined)). */
	size_t n_joined;
	bool exe_unknown;
	char *key;  /* the app key, for a list's $client entries */
	uint32_t groups[];
};

/* --- the maps ------------------------------------------------------------ */

static uint32_t
mix(uint32_t h, uint32_t group)
{
	uint64_t x = ((uint64_t)h << 32 | group) * UINT64_C(0x9e3779b97f4a7c15);

	return (uint32_t)(x >> 32) ^ (uint32_t)x;
}

static void map_grow(struct map *m);

static struct slot *
map_find(const struct map *m, uint32_t group, const char *key, size_t len,
	 uint32_t hash)
{
	size_t i;

	if (m->n == 0)
		return NULL;
	for (i = mix(hash, group) & m->mask;; i = (i + 1) & m->mask) {
		struct slot *s = &m->slots[i];

		if (s->key == NULL)
			return NULL;
		if (s->hash == hash && s->group == group && s->len == len &&
		    memcmp(s->key, key, len) == 0)
			return s;
	}
}

/* The slot of (group, key), new (value NO_RULE) when it was not there.
 * key is borrowed: it must outlive the map. */
static struct slot *
map_put(struct map *m, uint32_t group, const char *key, size_t len,
	uint32_t hash)
{
	struct slot *s = map_find(m, group, key, len, hash);
	size_t i;

	if (s != NULL)
		return s;
	if ((m->n + 1) * 2 > m->mask + 1)
		map_grow(m);
	for (i = mix(hash, group) & m->mask; m->slots[i].key != NULL;
	     i = (i + 1) & m->mask)
		;
	s = &m->slots[i];
	s->key = key;
	s->len = (uint32_t)len;
	s->hash = hash;
	s->group = group;
	s->value = NO_RULE;
	m->n++;
	return s;
}

static void
map_grow(struct map *m)
{
	size_t old = m->slots ? m->mask + 1 : 0, cap = old ? old * 2 : 16, i;
	struct slot *slots = xcalloc(cap, sizeof *slots);

	for (i = 0; i < old; i++) {
		struct slot *s = &m->slots[i];
		size_t j;

		if (s->key == NULL)
			continue;
		for (j = mix(s->hash, s->group) & (cap - 1);
		     slots[j].key != NULL; j = (j + 1) & (cap - 1))
			;
		slots[j] = *s;
	}
	free(m->slots);
	m->slots = slots;
	m->mask = cap - 1;
}

static uint32_t
hash_of(const char *s, size_t len)
{
	return name_table_hash(s, len);
}

/* --- building ------------------------------------------------------------ */

static size_t
literal_chars(const char *pattern)
{
	size_t n = 0;

	for (; *pattern != '\0'; pattern++)
		n += strchr("*?[]", *pattern) == NULL;
	return n;
}

/* The app's place in the precedence, most specific highest. */
static unsigned
app_tier(enum rule_app k)
{
	switch (k) {
	case RULE_APP_KEY:
		return 7;
	case RULE_APP_ID:
	case RULE_APP_FLATPAK:
	case RULE_APP_SNAP:
		return 6;
	case RULE_APP_UNIT:
	case RULE_APP_USER_UNIT:
		return 5;
	case RULE_APP_CGROUP:
		return 4;
	case RULE_APP_EXE:
		return 3;
	case RULE_APP_EXE_GLOB:
		return 2;
	case RULE_APP_UID:
		return 1;
	case RULE_APP_ANY:
		return 0;
	}
	return 0;
}

static uint64_t
cap12(size_t v)
{
	return v > 4095 ? 4095 : v;
}

/* Bits 60-63 the app's tier, 48-59 its length within the tier; the
 * destination's fill 32-47 (dest_score), the action 30-31. */
static uint64_t
score_app(const struct rule *r)
{
	size_t sub = 0;

	if (r->app == RULE_APP_CGROUP)
		sub = strlen(r->app_value);
	else if (r->app == RULE_APP_EXE_GLOB)
		sub = literal_chars(r->app_value);
	/* Within a tier, the narrower name: an instance before its
	 * template (getty@tty1.service, getty@.service), one app of a snap
	 * before the snap (firefox.firefox, firefox). */
	else if ((r->app == RULE_APP_UNIT || r->app == RULE_APP_USER_UNIT) &&
		 strstr(r->app_value, "@.") == NULL)
		sub = 1;
	else if (r->app == RULE_APP_SNAP && strchr(r->app_value, '.') != NULL)
		sub = 1;
	return (uint64_t)app_tier(r->app) << 60 | cap12(sub) << 48;
}

static uint64_t
score_dest(enum rule_dest d, size_t sub)
{
	unsigned tier = d == RULE_DEST_NAME       ? 4
			: d == RULE_DEST_WILDCARD ? 3
			: d == RULE_DEST_DOMAIN   ? 2
			: d == RULE_DEST_LIST     ? 1
						  : 0;

	return (uint64_t)tier << 44 | cap12(sub) << 32;
}

/* Block before ask before allow; but an allow in the rules file dnsgated
 * owns (an answer at a prompt, dnsgatectl allow) answers an ask rule as
 * specific as it: it is what the person said when asked. */
static uint64_t
score_action(const struct rule *rule)
{
	const char *base;
	unsigned s = 0;

	switch (rule->action) {
	case RULE_BLOCK:
		s = 3;
		break;
	case RULE_ASK:
		s = 1;
		break;
	case RULE_ALLOW:
		base = rule->file != NULL ? strrchr(rule->file, '/') : NULL;
		base = base != NULL ? base + 1 : rule->file;
		s = base != NULL && strcmp(base, RULES_OWNED_FILE) == 0 ? 2 : 0;
		break;
	}
	return (uint64_t)s << 30;
}

static uint32_t
group_for(struct rules *r, const struct rule *rule)
{
	char uid[16];
	const char *key = rule->app_value;
	char *owned = NULL;
	struct slot *s;
	struct group *g;
	size_t len;

	if (rule->app == RULE_APP_ANY)
		return GROUP_ANY;
	if (rule->app == RULE_APP_UID) {
		/* The number, whether the file gave it or a user name. */
		snprintf(uid, sizeof uid, "%u", rule->uid);
		key = uid;
	}
	len = strlen(key);
	s = map_find(&r->by_app[rule->app], rule->app, key, len,
		     hash_of(key, len));
	if (s != NULL)
		return s->value;
	if (key == uid)
		key = owned = xstrdup(uid);
	s = map_put(&r->by_app[rule->app], rule->app, key, len,
		    hash_of(key, len));
	/* Doubling: one group per app named, and an allocator that copies
	 * on every growth (ASan's does) made 10,000 apps take seconds. */
	if (r->n_groups == r->cap_groups) {
		r->cap_groups *= 2;
		r->groups = xreallocarray(r->groups, r->cap_groups,
					  sizeof *r->groups);
	}
	g = &r->groups[r->n_groups];
	memset(g, 0, sizeof *g);
	g->kind = rule->app;
	g->value = key;
	g->owned = owned;
	s->value = (uint32_t)r->n_groups++;
	if (rule->app == RULE_APP_EXE_GLOB)
		vec_push(&r->globs, s->value);
	return s->value;
}

static void
chain(struct rules *r, struct map *m, uint32_t group, const char *key,
      uint32_t rule, uint32_t *next)
{
	size_t len = strlen(key);
	struct slot *s = map_put(m, group, key, len, hash_of(key, len));

	/* Kept in book order: the head is the first rule read. */
	next[rule] = NO_RULE;
	if (s->value == NO_RULE) {
		s->value = rule;
		return;
	}
	{
		uint32_t i = s->value;

		while (next[i] != NO_RULE)
			i = next[i];
		next[i] = rule;
	}
}

static void
index_rule(struct rules *r, uint32_t g, uint32_t i, uint32_t *next)
{
	const struct rule *rule = &r->book->rules[i];
	struct group *grp = &r->groups[g];

	if (rule->is_default) {
		vec_push(&grp->defaults, i);
		return;
	}
	switch (rule->dest) {
	case RULE_DEST_NAME:
		chain(r, &r->names, g, rule->dest_value, i, next);
		break;
	case RULE_DEST_DOMAIN:
		chain(r, &r->domains, g, rule->dest_value, i, next);
		break;
	case RULE_DEST_WILDCARD:
		vec_push(&grp->wildcards, i);
		break;
	case RULE_DEST_LIST:
		vec_push(&grp->lists, i);
		break;
	case RULE_DEST_ANY:
		vec_push(&grp->any, i);
		break;
	case RULE_DEST_NET:
		vec_push(&grp->nets, i);
		r->have_nets = true;
		break;
	case RULE_DEST_CONTINENT:
	case RULE_DEST_COUNTRY:
	case RULE_DEST_ASN:
		vec_push(&grp->places, i);
		r->have_places = true;
		if (rule->dest == RULE_DEST_ASN)
			r->have_asns = true;
		else
			r->have_countries = true;
		break;
	}
}

struct rules *
rules_new(const struct rule_book *book, const struct list_filter *const *lists,
	  size_t n_lists)
{
	struct rules *r = xcalloc(1, sizeof *r);
	size_t i;

	r->book = book;
	r->lists = lists;
	r->n_lists = n_lists;
	r->cap_groups = 16;
	r->groups = xcalloc(r->cap_groups, sizeof *r->groups);
	r->groups[GROUP_ANY].kind = RULE_APP_ANY;
	r->groups[GROUP_EXE_ALL].kind = RULE_APP_EXE;
	r->n_groups = 2;
	r->next = xcalloc(book->n ? book->n : 1, sizeof *r->next);
	r->next_exe = xcalloc(book->n ? book->n : 1, sizeof *r->next_exe);
	r->app_score = xcalloc(book->n ? book->n : 1, sizeof *r->app_score);
	for (i = 0; i < book->n; i++) {
		const struct rule *rule = &book->rules[i];
		uint32_t g = group_for(r, rule);

		r->app_score[i] = score_app(rule) | score_action(rule);
		if (rule->app == RULE_APP_KEY && strstr(rule->app_value, ":/"))
			r->have_joined_keys = true;
		index_rule(r, g, (uint32_t)i, r->next);
		if (rule->app == RULE_APP_EXE ||
		    rule->app == RULE_APP_EXE_GLOB) {
			r->have_exe = true;
			index_rule(r, GROUP_EXE_ALL, (uint32_t)i, r->next_exe);
		}
	}
	r->glob_memo = xcalloc(GLOB_MEMO_SLOTS, sizeof *r->glob_memo);
	return r;
}

static void
group_free(struct group *g)
{
	free(g->wildcards.v);
	free(g->lists.v);
	free(g->any.v);
	free(g->nets.v);
	free(g->defaults.v);
	free(g->places.v);
}

void
rules_free(struct rules *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n_groups; i++) {
		group_free(&r->groups[i]);
		free(r->groups[i].owned);
	}
	free(r->groups);
	for (i = 0; i < RULE_APP_KINDS; i++)
		free(r->by_app[i].slots);
	free(r->names.slots);
	free(r->domains.slots);
	free(r->globs.v);
	free(r->next);
	free(r->next_exe);
	free(r->app_score);
	for (i = 0; i < GLOB_MEMO_SLOTS; i++) {
		free(r->glob_memo[i].exe);
		free(r->glob_memo[i].groups);
	}
	free(r->glob_memo);
	free(r);
}

/* --- the asker ------------------------------------------------------------ */

struct asker_build {
	uint32_t *g;
	size_t n, cap;
};

static void
add_group(struct asker_build *b, uint32_t g)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->g[i] == g)
			return;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->g = xreallocarray(b->g, b->cap, sizeof *b->g);
	}
	b->g[b->n++] = g;
}

static void
probe(const struct rules *r, struct asker_build *b, enum rule_app kind,
      const char *value, size_t len)
{
	const struct map *m = &r->by_app[kind];
	const struct slot *s;

	if (m->n == 0 || len == 0)
		return;
	s = map_find(m, kind, value, len, hash_of(value, len));
	if (s != NULL)
		add_group(b, s->value);
}

static void
probe_str(const struct rules *r, struct asker_build *b, enum rule_app kind,
	  const char *value)
{
	probe(r, b, kind, value, strlen(value));
}

/* Adds the exe glob groups exe matches, from the memo when it asked
 * lately. */
static void
add_glob_groups(const struct rules *r, struct asker_build *b, const char *exe)
{
	uint64_t hash = hash_string(exe);
	struct glob_memo *m = &r->glob_memo[hash_fold(hash) % GLOB_MEMO_SLOTS];
	size_t i;

	if (m->exe != NULL && m->hash == hash && strcmp(m->exe, exe) == 0) {
		for (i = 0; i < m->n; i++)
			add_group(b, m->groups[i]);
		return;
	}
	free(m->exe);
	free(m->groups);
	m->hash = hash;
	m->exe = xstrdup(exe);
	m->n = 0;
	m->groups = xmalloc(r->globs.n * sizeof *m->groups);
	/* Every match kept, also one b holds already: the next asker with
	 * this exe may not. */
	for (i = 0; i < r->globs.n; i++) {
		uint32_t g = r->globs.v[i];

		if (fnmatch(r->groups[g].value, exe, 0) == 0) {
			m->groups[m->n++] = g;
			add_group(b, g);
		}
	}
}

struct rules_asker *
rules_asker_new(const struct rules *r, const struct app_identity *id,
		int64_t uid)
{
	struct asker_build b = {NULL, 0, 0};
	struct rules_asker *a;
	size_t i, n;

	add_group(&b, GROUP_ANY);
	if (strcmp(id->key, "?") != 0)
		probe_str(r, &b, RULE_APP_KEY, id->key);
	if (id->app_id[0] != '\0' &&
	    (id->kind == APP_KIND_DESKTOP || id->kind == APP_KIND_FLATPAK)) {
		probe_str(r, &b, RULE_APP_ID, id->app_id);
		if (id->kind == APP_KIND_FLATPAK)
			probe_str(r, &b, RULE_APP_FLATPAK, id->app_id);
	}
	if (id->snap_name[0] != '\0') {
		char both[2 * APP_IDENTITY_NAME_MAX];

		probe_str(r, &b, RULE_APP_SNAP, id->snap_name);
		snprintf(both, sizeof both, "%s.%s", id->snap_name,
			 id->snap_app);
		probe_str(r, &b, RULE_APP_SNAP, both);
	}
	/* unit= names the system manager's units, user-unit= a user's:
	 * a user names its own units as it likes (backup.service too). */
	{
		enum rule_app k = id->user_named ? RULE_APP_USER_UNIT
						 : RULE_APP_UNIT;

		probe_str(r, &b, k, id->unit);
		probe_str(r, &b, k, id->unit_exact);
		probe_str(r, &b, k, id->unit_template);
	}
	if (id->cgroup[0] == '/' && r->by_app[RULE_APP_CGROUP].n > 0) {
		size_t len = strlen(id->cgroup);

		probe(r, &b, RULE_APP_CGROUP, "/", 1);
		for (i = 1; i <= len; i++)
			if (i == len || id->cgroup[i] == '/')
				probe(r, &b, RULE_APP_CGROUP, id->cgroup, i);
	}
	if (id->exe[0] != '\0') {
		probe_str(r, &b, RULE_APP_EXE, id->exe);
		if (r->globs.n > 0)
			add_glob_groups(r, &b, id->exe);
	}
	if (uid >= 0 && r->by_app[RULE_APP_UID].n > 0) {
		char u[24];

		snprintf(u, sizeof u, "%lld", (long long)uid);
		probe_str(r, &b, RULE_APP_UID, u);
	}
	n = b.n;
	if (id->joins_exe && id->exe[0] == '\0' &&
	    r->by_app[RULE_APP_KEY].n > 0) {
		const struct map *m = &r->by_app[RULE_APP_KEY];
		size_t klen = strlen(id->key);

		/* "session:1000" without its program: every app= rule for
		 * "session:1000:PROGRAM" might have been this asker's. */
		for (i = 0; i <= m->mask; i++)
			if (m->slots[i].key != NULL && m->slots[i].len > klen &&
			    memcmp(m->slots[i].key, id->key, klen) == 0 &&
			    m->slots[i].key[klen] == ':')
				add_group(&b, m->slots[i].value);
	}
	a = xmalloc(sizeof *a + b.n * sizeof a->groups[0] + strlen(id->key) +
		    1);
	a->n = n;
	a->n_joined = b.n - n;
	a->exe_unknown = id->exe[0] == '\0';
	memcpy(a->groups, b.g, b.n * sizeof a->groups[0]);
	a->key = (char *)(a->groups + b.n);
	memcpy(a->key, id->key, strlen(id->key) + 1);
	free(b.g);
	return a;
}

void
rules_asker_free(struct rules_asker *a)
{
	free(a);
}

bool
rules_asker_exe_unknown(const struct rules_asker *a)
{
	return a->exe_unknown;
}

/* --- deciding ------------------------------------------------------------- */

struct cand {
	uint64_t score;
	const struct rule *rule;
	const char *name;
	const char *entry;
};

/* What one pass over the groups collects. */
struct pass {
	const struct rules *r;
	int64_t now;
	uint16_t qtype;        /* for a list's $dnstype entries */
	const char *app;       /* the asker's key, for $client */
	struct cand best;      /* the best live match; rule NULL: none */
	struct cand best_exe;  /* GROUP_EXE_ALL pass: best of another action */
	bool collect;          /* every match goes to all[] too */
	/* Challenging what decided (exe_could_change): instead of a best
	 * match, whether any live match that could outrank won gives
	 * another outcome than got. */
	bool challenge;
	const struct cand *won;
	bool by_default;
	enum rules_outcome got, dflt;
	bool could, saw_ask;
	struct cand *all;
	size_t n_all, cap_all;
};

static bool
live(const struct rule *rule, int64_t now)
{
	return rule->until == 0 || rule->until > now;
}

static bool
outranks(const struct cand *a, const struct cand *b)
{
	if (b->rule == NULL)
		return a->rule != NULL;
	if (a->score != b->score)
		return a->score > b->score;
	return a->rule->order < b->rule->order;
}

static void
collect(struct pass *p, const struct cand *c)
{
	if (p->n_all == p->cap_all) {
		p->cap_all = p->cap_all ? p->cap_all * 2 : 16;
		p->all = xreallocarray(p->all, p->cap_all, sizeof *p->all);
	}
	p->all[p->n_all++] = *c;
}

static enum rules_outcome outcome_of(enum rule_action a);

static void
consider(struct pass *p, uint32_t ri, uint64_t dest, const char *name,
	 const char *entry)
{
	const struct rule *rule = &p->r->book->rules[ri];
	struct cand c;

	c.score = p->r->app_score[ri] | dest; /* the action's rank in it */
	c.rule = rule;
	c.name = name;
	c.entry = entry;
	if (p->challenge) {
		enum rules_outcome o = rule->action == RULE_ASK
					   ? p->dflt
					   : outcome_of(rule->action);

		if (!live(rule, p->now) ||
		    (!p->by_default && !outranks(&c, p->won)))
			return;
		p->could |= o != p->got;
		p->saw_ask |= rule->action == RULE_ASK;
		return;
	}
	if (p->collect)
		collect(p, &c);
	if (live(rule, p->now) && outranks(&c, &p->best))
		p->best = c;
}

/* The name lower-cased, without a trailing dot, and where each of its
 * suffixes starts with the hash of each. Returns the length, or 0 for a
 * name that matches nothing (empty, too long). */
struct split_name {
	char text[256];
	size_t len;
	size_t n;
	size_t at[MAX_LABELS];
	uint32_t hash[MAX_LABELS];
};

static size_t
split(const char *name, struct split_name *s)
{
	size_t len = strlen(name), i;
	uint64_t h = NAME_TABLE_HASH_START;

	if (len > 0 && name[len - 1] == '.')
		len--;
	s->n = 0;
	s->len = 0;
	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		char ch = name[i];

		s->text[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
	}
	s->text[len] = '\0';
	s->len = len;
	/* From the last byte towards the first, as name_table hashes. */
	for (i = len; i-- > 0;) {
		h = name_table_hash_step(h, (unsigned char)s->text[i]);
		if ((i == 0 || s->text[i - 1] == '.') && s->n < MAX_LABELS) {
			s->at[s->n] = i;
			s->hash[s->n] = name_table_hash_fold(h);
			s->n++;
		}
	}
	return len;
}

static void
walk_chain(struct pass *p, const struct slot *s, const uint32_t *next,
	   uint64_t dest, const char *name)
{
	uint32_t i;

	for (i = s->value; i != NO_RULE; i = next[i])
		consider(p, i, dest, name, NULL);
}

/* Every rule of group g naming name (whose split is sn). */
static void
match_group(struct pass *p, uint32_t g, const struct split_name *sn,
	    const char *name, const uint32_t *next)
{
	const struct rules *r = p->r;
	const struct group *grp = &r->groups[g];
	const struct slot *s;
	size_t i;

	if (sn->len > 0) {
		/* The whole name is the last suffix found. */
		s = map_find(&r->names, g, sn->text, sn->len,
			     sn->hash[sn->n - 1]);
		if (s != NULL)
			walk_chain(p, s, next, score_dest(RULE_DEST_NAME, 0),
				   name);
		for (i = 0; r->domains.n > 0 && i < sn->n; i++) {
			size_t off = sn->at[i];

			s = map_find(&r->domains, g, sn->text + off,
				     sn->len - off, sn->hash[i]);
			if (s != NULL)
				walk_chain(p, s, next,
					   score_dest(RULE_DEST_DOMAIN,
						      sn->len - off),
					   name);
		}
		for (i = 0; i < grp->wildcards.n; i++) {
			uint32_t ri = grp->wildcards.v[i];
			const char *pat = r->book->rules[ri].dest_value;

			if (fnmatch(pat, sn->text, 0) == 0)
				consider(p, ri,
					 score_dest(RULE_DEST_WILDCARD,
						    literal_chars(pat)),
					 name, NULL);
		}
		for (i = 0; i < grp->lists.n; i++) {
			uint32_t ri = grp->lists.v[i];
			size_t li = r->book->rules[ri].list;
			struct list_filter_match lm;
			const char *entry;

			if (li >= r->n_lists || r->lists[li] == NULL ||
			    !list_filter_match(r->lists[li], sn->text, p->qtype,
					       p->app, &lm))
				continue;
			/* A listed name is a suffix of sn->text (the matcher
			 * keeps no names): the same offsets in name, which
			 * outlives the verdict. A pattern is the filter's. */
			entry = lm.entry;
			if ((uintptr_t)entry >= (uintptr_t)sn->text &&
			    (uintptr_t)entry <= (uintptr_t)(sn->text + sn->len))
				entry = name + (entry - sn->text);
			consider(p, ri,
				 score_dest(RULE_DEST_LIST, strlen(lm.entry)),
				 name, entry);
		}
	}
	for (i = 0; i < grp->any.n; i++)
		consider(p, grp->any.v[i], score_dest(RULE_DEST_ANY, 0), name,
			 NULL);
}

/* The app's default: the best live default of its groups. */
static void
pick_default(struct pass *p, const struct rules_asker *a, struct cand *d)
{
	size_t i, j;

	d->rule = NULL;
	for (i = 0; i < a->n; i++) {
		const struct group *grp = &p->r->groups[a->groups[i]];

		for (j = 0; j < grp->defaults.n; j++) {
			uint32_t ri = grp->defaults.v[j];
			const struct rule *rule = &p->r->book->rules[ri];
			struct cand c;

			c.score = p->r->app_score[ri];
			c.rule = rule;
			c.name = NULL;
			c.entry = NULL;
			if (p->collect)
				collect(p, &c);
			if (rule->action == RULE_ASK || !live(rule, p->now))
				continue;
			if (outranks(&c, d))
				*d = c;
		}
	}
}

static enum rules_outcome
outcome_of(enum rule_action a)
{
	return a == RULE_BLOCK ? RULES_BLOCK : RULES_ALLOW;
}

/* Whether some exe= rule or default, were the exe known, could change
 * the outcome got. won decided (a rule naming a name, or the default d;
 * rule NULL: none); d is the app's default, dflt its outcome. Any rule
 * naming a name comes before every default, so when the default decided
 * an exe rule naming the name would win whatever its app's rank; and
 * when the default decides through an ask rule, an exe default may
 * outrank d. */
static bool
group_could_change(const struct rules *r, const struct pass *asked,
		   uint32_t g, const uint32_t *next, struct split_name *sn,
		   const char *const *names, size_t n, int64_t now,
		   const struct cand *won, const struct cand *d,
		   enum rules_outcome got, enum rules_outcome dflt)
{
	const struct group *grp = &r->groups[g];
	bool via_default;
	struct pass p;
	bool could;
	size_t i;

	/* Every rule of the group naming one of the names. */
	memset(&p, 0, sizeof p);
	p.r = r;
	p.now = now;
	p.qtype = asked->qtype;
	p.app = asked->app;
	p.challenge = true;
	p.won = won;
	p.by_default = won->rule == NULL || won->rule->is_default;
	p.got = got;
	p.dflt = dflt;
	for (i = 0; i < n && !p.could; i++) {
		split(names[i], sn);
		match_group(&p, g, sn, names[i], next);
	}
	could = p.could;
	via_default = p.by_default || won->rule->action == RULE_ASK ||
		      p.saw_ask;
	/* The default decides: the group's default could outrank it. */
	for (i = 0; !could && via_default && i < grp->defaults.n; i++) {
		const struct rule *rule = &r->book->rules[grp->defaults.v[i]];
		struct cand c;

		if (rule->action == RULE_ASK || !live(rule, now))
			continue;
		c.score = r->app_score[grp->defaults.v[i]];
		c.rule = rule;
		could = outranks(&c, d) && outcome_of(rule->action) != got;
	}
	return could;
}

/* Whether some exe= rule or default, or an app= rule of a key with the
 * program joined in, were the exe known, could change the outcome got.
 * won decided (a rule naming a name, or the default d; rule NULL:
 * none); d is the app's default, dflt its outcome. Any rule naming a
 * name comes before every default, so when the default decided such a
 * rule naming the name would win whatever its app's rank; and when the
 * default decides through an ask rule, such a default may outrank d. */
static bool
exe_could_change(const struct rules *r, const struct rules_asker *a,
		 const struct pass *asked, struct split_name *sn,
		 const char *const *names, size_t n, int64_t now,
		 const struct cand *won, const struct cand *d,
		 enum rules_outcome got, enum rules_outcome dflt)
{
	size_t i;

	if (r->have_exe &&
	    group_could_change(r, asked, GROUP_EXE_ALL, r->next_exe, sn, names,
			       n, now, won, d, got, dflt))
		return true;
	for (i = 0; i < a->n_joined; i++)
		if (group_could_change(r, asked, a->groups[a->n + i], r->next,
				       sn, names, n, now, won, d, got, dflt))
			return true;
	return false;
}

static enum rules_outcome
decide(const struct rules *r, const struct rules_asker *a,
       const char *const *names, size_t n, int64_t now, struct pass *p,
       struct rules_verdict *v)
{
	struct split_name sn; /* one name at a time: nothing allocated */
	struct cand d = {0, NULL, NULL, NULL}, won;
	enum rules_outcome dflt;
	size_t i, j;

	memset(v, 0, sizeof *v);
	p->r = r;
	p->now = now;
	p->app = a->key;
	p->best.rule = NULL;
	for (i = 0; i < n; i++) {
		split(names[i], &sn);
		for (j = 0; j < a->n; j++)
			match_group(p, a->groups[j], &sn, names[i], r->next);
	}
	pick_default(p, a, &d);
	dflt = d.rule != NULL ? outcome_of(d.rule->action) : RULES_ALLOW;
	v->default_rule = d.rule;
	if (p->best.rule != NULL) {
		won = p->best;
		v->rule = won.rule;
		v->name = won.name;
		v->entry = won.entry;
		v->asked = won.rule->action == RULE_ASK;
		v->outcome = v->asked ? dflt : outcome_of(won.rule->action);
	} else {
		won = d;
		v->rule = d.rule;
		v->outcome = dflt;
	}
	if (a->exe_unknown && (r->have_exe || a->n_joined > 0) &&
	    exe_could_change(r, a, p, &sn, names, n, now, &won, &d, v->outcome,
			     dflt))
		v->outcome = RULES_UNDECIDED;
	return v->outcome;
}

enum rules_outcome
rules_decide(const struct rules *r, const struct rules_asker *a,
	     const char *const *names, size_t n, uint16_t qtype, int64_t now,
	     struct rules_verdict *v)
{
	struct pass p;

	memset(&p, 0, sizeof p);
	p.qtype = qtype;
	return decide(r, a, names, n, now, &p, v);
}

static int
compare_cands(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	bool ad = a->rule->is_default, bd = b->rule->is_default;

	if (ad != bd)
		return ad ? 1 : -1; /* rules first, then defaults */
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->rule->order != b->rule->order)
		return a->rule->order < b->rule->order ? -1 : 1;
	return 0;
}

enum rules_outcome
rules_explain(const struct rules *r, const struct rules_asker *a,
	      const char *const *names, size_t n, uint16_t qtype, int64_t now,
	      rules_trail_fn *fn, void *arg, struct rules_verdict *v)
{
	struct pass p;
	enum rules_outcome o;
	size_t i;

	memset(&p, 0, sizeof p);
	p.qtype = qtype;
	p.collect = true;
	o = decide(r, a, names, n, now, &p, v);
	qsort(p.all, p.n_all, sizeof *p.all, compare_cands);
	for (i = 0; i < p.n_all; i++) {
		const struct cand *c = &p.all[i];

		fn(arg, c->rule, c->name, c->entry, !live(c->rule, now),
		   o != RULES_UNDECIDED && c->rule == v->rule &&
			   c->name == v->name);
	}
	free(p.all);
	return o;
}

void
rules_nets(const struct rules *r, const struct rules_asker *a, int64_t now,
	   rules_net_fn *fn, void *arg)
{
	size_t i, j;

	if (!r->have_nets)
		return;
	for (i = 0; i < a->n; i++) {
		const struct group *grp = &r->groups[a->groups[i]];

		for (j = 0; j < grp->nets.n; j++) {
			const struct rule *rule =
			    &r->book->rules[grp->nets.v[j]];
			int64_t left;

			if (!live(rule, now))
				continue;
			left = rule->until ? rule->until - now : 0;
			fn(arg, rule,
			   left > UINT32_MAX ? UINT32_MAX : (uint32_t)left);
		}
	}
}

bool
rules_have_nets(const struct rules *r)
{
	return r->have_nets;
}

bool
rules_need_exe(const struct rules *r)
{
	return r->have_exe || r->have_joined_keys;
}

/* --- places --------------------------------------------------------------- */

/* code is one of list's codes ("CN,RU"). */
static bool
code_listed(const char *list, const char *code)
{
	const char *p;

	if (code[0] == '\0')
		return false;
	for (p = list; p[0] != '\0'; p += p[2] != '\0' ? 3 : 2)
		if (p[0] == code[0] && p[1] == code[1])
			return true;
	return false;
}

static bool
place_matches(const struct rule *rule, const struct rules_place *pl)
{
	switch (rule->dest) {
	case RULE_DEST_ASN:
		return pl->asn != 0 && rule->asn == pl->asn;
	case RULE_DEST_COUNTRY:
		return code_listed(rule->dest_value, pl->country);
	case RULE_DEST_CONTINENT:
		return code_listed(rule->dest_value, pl->continent);
	default:
		return false;
	}
}

/* A network is narrower than a country, a country than a continent. */
static uint64_t
score_place(enum rule_dest d)
{
	unsigned tier = d == RULE_DEST_ASN       ? 3
			: d == RULE_DEST_COUNTRY ? 2
						 : 1;

	return (uint64_t)tier << 44;
}

static void
place_group(const struct rules *r, const struct group *grp,
	    const struct rules_place *pl, int64_t now, bool blocks_only,
	    const struct rule **best, uint64_t *best_score)
{
	size_t i;

	for (i = 0; i < grp->places.n; i++) {
		uint32_t ri = grp->places.v[i];
		const struct rule *rule = &r->book->rules[ri];
		uint64_t score;

		if (!live(rule, now) || !place_matches(rule, pl) ||
		    (blocks_only && rule->action != RULE_BLOCK))
			continue;
		score = r->app_score[ri] | score_place(rule->dest);
		if (*best == NULL || score > *best_score ||
		    (score == *best_score && rule->order < (*best)->order)) {
			*best = rule;
			*best_score = score;
		}
	}
}

enum rules_outcome
rules_place(const struct rules *r, const struct rules_asker *a,
	    const struct rules_place *pl, int64_t now,
	    const struct rule **rule)
{
	const struct rule *best = NULL;
	uint64_t score = 0;
	size_t i;

	*rule = NULL;
	if (!r->have_places)
		return RULES_ALLOW;
	for (i = 0; i < a->n; i++)
		place_group(r, &r->groups[a->groups[i]], pl, now, false, &best,
			    &score);
	/* An exe not known: a block that names a program could be this
	 * one's, and is taken (the address is not granted); an allow
	 * naming one is not. */
	for (i = a->n; i < a->n + a->n_joined; i++)
		place_group(r, &r->groups[a->groups[i]], pl, now, true, &best,
			    &score);
	if (a->exe_unknown)
		place_group(r, &r->groups[GROUP_EXE_ALL], pl, now, true, &best,
			    &score);
	*rule = best;
	return best != NULL && best->action == RULE_BLOCK ? RULES_BLOCK
							  : RULES_ALLOW;
}

struct place_entry {
	const struct rule *rule;
	uint64_t score;
};

static int
compare_places(const void *x, const void *y)
{
	const struct place_entry *a = x, *b = y;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->rule->order < b->rule->order   ? -1
	       : a->rule->order > b->rule->order ? 1
						 : 0;
}

static void
list_group(const struct rules *r, const struct group *grp, bool blocks_only,
	   struct place_entry **v, size_t *n, size_t *cap)
{
	size_t i;

	for (i = 0; i < grp->places.n; i++) {
		uint32_t ri = grp->places.v[i];
		const struct rule *rule = &r->book->rules[ri];

		if (blocks_only && rule->action != RULE_BLOCK)
			continue;
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 16;
			*v = xreallocarray(*v, *cap, sizeof **v);
		}
		(*v)[*n].rule = rule;
		(*v)[(*n)++].score = r->app_score[ri] | score_place(rule->dest);
	}
}

void
rules_places(const struct rules *r, const struct rules_asker *a, int64_t now,
	     rules_place_fn *fn, void *arg)
{
	struct place_entry *v = NULL;
	size_t n = 0, cap = 0, i;

	if (!r->have_places)
		return;
	for (i = 0; i < a->n; i++)
		list_group(r, &r->groups[a->groups[i]], false, &v, &n, &cap);
	for (i = a->n; i < a->n + a->n_joined; i++)
		list_group(r, &r->groups[a->groups[i]], true, &v, &n, &cap);
	if (a->exe_unknown)
		list_group(r, &r->groups[GROUP_EXE_ALL], true, &v, &n, &cap);
	if (n > 1)
		qsort(v, n, sizeof *v, compare_places);
	for (i = 0; i < n; i++)
		fn(arg, v[i].rule, !live(v[i].rule, now));
	free(v);
}

bool
rules_have_places(const struct rules *r)
{
	return r->have_places;
}

void
rules_place_needs(const struct rules *r, bool *country, bool *asn)
{
	*country = r->have_countries;
	*asn = r->have_asns;
}
