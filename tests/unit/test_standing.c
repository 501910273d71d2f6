/* test_standing.c - standing grants over real cgroups made under the
 * test's own cgroup, with a match function standing in for the policy,
 * written into a real gate in a private network namespace. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/cgroup.h"
#include "src/nft_dump.h"
#include "src/nft_gate.h"
#include "src/standing.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"
#include "tests/unit/nft_test.h"

#define SET_SIZE 4
#define MANY 1000

/* --- the stand-in policy: networks by the cgroup's last name ------------ */

struct rule {
	const char *name; /* the cgroup's directory name */
	const char *net;
	uint32_t timeout_sec;
};

static const struct rule *rules;
static size_t n_rules;
static unsigned long asked_for_many; /* calls for MANY's cgroups */

static size_t
match(void *arg, const char *path, unsigned level, struct gate_standing *out,
      size_t max)
{
	const char *name = strrchr(path, '/');
	size_t i, n = 0;

	(void)arg;
	(void)level;
	name = name != NULL ? name + 1 : path;
	if (strncmp(name, "many", 4) == 0)
		asked_for_many++;
	for (i = 0; i < n_rules; i++) {
		const char *reason;

		if (strcmp(rules[i].name, name) != 0)
			continue;
		if (n < max) {
			memset(&out[n], 0, sizeof out[n]);
			if (ip_prefix_parse(rules[i].net, &out[n].net,
			                    &reason) != 0)
				abort();
			out[n].timeout_sec = rules[i].timeout_sec;
		}
		n++;
	}
	return n;
}

/* --- what the kernel holds ----------------------------------------------- */

struct held {
	size_t n;
	struct nft_standing_element e[64];
};

static void
collect_held(const struct nft_standing_element *e, void *arg)
{
	struct held *h = arg;

	if (h->n < 64)
		h->e[h->n] = *e;
	h->n++;
}

static int
held(struct held *h)
{
	char err[256];

	memset(h, 0, sizeof *h);
	return nft_dump_standing(collect_held, h, err, sizeof err);
}

/* Elements of cgroup id (all families). */
static size_t
held_by(const struct held *h, uint64_t id)
{
	size_t i, n = 0;

	for (i = 0; i < h->n && i < 64; i++)
		n += h->e[i].cgroup_id == id;
	return n;
}

/* Whether id holds the range first..last. */
static const struct nft_standing_element *
holds(const struct held *h, uint64_t id, const char *first, const char *last)
{
	struct ip_prefix a, b;
	const char *reason;
	size_t i;

	if (ip_prefix_parse(first, &a, &reason) != 0 ||
	    ip_prefix_parse(last, &b, &reason) != 0)
		abort();
	for (i = 0; i < h->n && i < 64; i++)
		if (h->e[i].cgroup_id == id &&
		    h->e[i].first.family == a.addr.family &&
		    memcmp(h->e[i].first.bytes, a.addr.bytes, 16) == 0 &&
		    memcmp(h->e[i].last.bytes, b.addr.bytes, 16) == 0)
			return &h->e[i];
	return NULL;
}

/* --- the cgroups ---------------------------------------------------------- */

static char mount_point[512];
static char base[640]; /* relative to the mount */

static uint64_t
make(const char *name)
{
	char rel[768];

	snprintf(rel, sizeof rel, "%s/%s", base, name);
	if (fixture_cgroup_make(mount_point, rel) < 0)
		return 0;
	return fixture_cgroup_id(mount_point, rel);
}

static void
remove_cgroup(const char *name)
{
	char full[1400];

	snprintf(full, sizeof full, "%s%s/%s", mount_point, base, name);
	CHECK_INT(rmdir(full), 0);
}

/* The 1,000 cgroups, made and removed here (the fixtures keep a few);
 * removed at exit too, whatever happened. */
static size_t n_many;

static void
remove_many(void)
{
	char full[1400];

	while (n_many > 0) {
		n_many--;
		snprintf(full, sizeof full, "%s%s/many%zu", mount_point, base,
		         n_many);
		if (rmdir(full) < 0 && errno != ENOENT)
			fprintf(stderr, "rmdir %s: %s\n", full,
			        strerror(errno));
	}
}

static int
make_many(size_t n)
{
	char full[1400];

	atexit(remove_many);
	while (n_many < n) {
		snprintf(full, sizeof full, "%s%s/many%zu", mount_point, base,
		         n_many);
		if (mkdir(full, 0755) < 0) {
			fprintf(stderr, "mkdir %s: %s\n", full,
			        strerror(errno));
			return -1;
		}
		n_many++;
	}
	return 0;
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static struct gate *
open_gate(void)
{
	struct gate_options opts;
	char err[256];
	struct gate *g;

	memset(&opts, 0, sizeof opts);
	opts.dns_port = 5453;
	opts.upstream_mark = 0x123;
	opts.set_size = SET_SIZE;
	opts.max_level = 1;
	g = gate_open(&opts, err, sizeof err);
	if (g == NULL)
		fprintf(stderr, "gate_open: %s\n", err);
	return g;
}

/* No rule gives anything: nothing is ever written, and a scan or a query
 * from a known cgroup asks nobody. Then 1,000 cgroups, timed. */
static void
test_nothing_to_write(struct gate *g, struct cgroup_tree *tree)
{
	struct standing *s = standing_new(g, tree, match, NULL);
	struct standing_stats st, st2;
	struct timespec t0;
	char err[320];
	double resync_ms, scan_ms, scan_new_ms;
	size_t i;
	struct held h;

	rules = NULL;
	n_rules = 0;
	CHECK_INT(standing_resync(s, err, sizeof err), 0);
	standing_get_stats(s, &st);
	CHECK_INT(st.batches, 0);
	CHECK(st.cgroups_known > 0);
	CHECK_INT(st.cgroups_granted, 0);
	CHECK_INT(standing_scan(s, err, sizeof err), 0);
	standing_get_stats(s, &st2);
	CHECK_INT(st2.batches, 0);
	CHECK_INT(st2.matches, st.matches); /* nothing new: nobody asked */
	CHECK_INT(held(&h), 0);

	CHECK_INT(make_many(MANY), 0);
	asked_for_many = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(standing_scan(s, err, sizeof err), 0);
	scan_new_ms = ms_since(&t0);
	CHECK_INT(asked_for_many, MANY);
	asked_for_many = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 10; i++)
		CHECK_INT(standing_scan(s, err, sizeof err), 0);
	scan_ms = ms_since(&t0) / 10;
	CHECK_INT(asked_for_many, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(standing_resync(s, err, sizeof err), 0);
	resync_ms = ms_since(&t0);
	CHECK_INT(asked_for_many, MANY);
	standing_get_stats(s, &st);
	CHECK_INT(st.batches, 0);
	CHECK(st.cgroups_known >= MANY);
	fprintf(stderr,
	        "measured: %zu cgroups known; standing_scan with all known "
	        "%.2f ms, with %d new %.2f ms, standing_resync %.2f ms; no "
	        "batch sent\n",
	        st.cgroups_known, scan_ms, MANY, scan_new_ms, resync_ms);
	remove_many();
	CHECK_INT(standing_scan(s, err, sizeof err), 0);
	standing_get_stats(s, &st2);
	CHECK_INT(st2.cgroups_known, st.cgroups_known - MANY);
	CHECK_INT(st2.batches, 0);
	standing_free(s);
}

static const struct rule first_rules[] = {
    {"a", "192.0.2.64/26", 0},
    {"a", "192.0.2.64/27", 0}, /* within the /26: merged into it */
    {"a", "192.0.2.64/26", 600},
    {"a", "2001:db8::100/120", 300},
    {"c", "203.0.113.0/24", 0},
    {"d", "2001:db8:d::/48", 0},
    {"e", "198.51.100.1", 0},
    {"e", "198.51.100.2", 0},
    {"e", "198.51.100.3", 0},
};

static void
test_grants(struct gate *g, struct cgroup_tree *tree)
{
	struct standing *s = standing_new(g, tree, match, NULL);
	struct standing_stats st, st2;
	const struct nft_standing_element *e;
	uint64_t a, b, c, d, e_id;
	char err[320], path[1024], *chain;
	unsigned level;
	struct held h;
	struct gate *g2;

	rules = first_rules;
	n_rules = 4; /* only a's to begin with */
	a = make("a");
	b = make("b");
	CHECK(a != 0 && b != 0);
	CHECK_INT(standing_resync(s, err, sizeof err), 0);
	CHECK_INT(held(&h), 2);
	e = holds(&h, a, "192.0.2.64", "192.0.2.127");
	CHECK(e != NULL && e->timeout_ms == 0);
	e = holds(&h, a, "2001:db8::100", "2001:db8::1ff");
	CHECK(e != NULL && e->timeout_ms == 300000);
	CHECK_INT(held_by(&h, b), 0);
	standing_get_stats(s, &st);
	CHECK_INT(st.batches, 1);
	CHECK_INT(st.cgroups_granted, 1);
	CHECK_INT(st.elements, 2);
	/* The level rules of a's level were added for it. */
	CHECK_INT(cgroup_lookup(tree, a, path, sizeof path, &level), 0);
	if (have_nft) {
		char rule[96];

		snprintf(rule, sizeof rule,
		         "socket cgroupv2 level %u . ip daddr @standing4",
		         level);
		chain = capture("nft list chain inet dnsgate gate-output");
		CHECK(chain != NULL && strstr(chain, rule) != NULL);
		free(chain);
	}

	/* A resync with the same rules writes the same, in one batch. */
	CHECK_INT(standing_resync(s, err, sizeof err), 0);
	CHECK_INT(held(&h), 2);

	/* A scan asks only about a cgroup made since. */
	n_rules = 5;
	c = make("c");
	standing_get_stats(s, &st);
	CHECK_INT(standing_scan(s, err, sizeof err), 0);
	standing_get_stats(s, &st2);
	CHECK_INT(st2.matches, st.matches + 1);
	CHECK_INT(st2.batches, st.batches + 1);
	CHECK_INT(held(&h), 3);
	CHECK(holds(&h, c, "203.0.113.0", "203.0.113.255") != NULL);
	/* Nothing new: nothing asked, nothing sent. */
	CHECK_INT(standing_scan(s, err, sizeof err), 0);
	standing_get_stats(s, &st);
	CHECK_INT(st.matches, st2.matches);
	CHECK_INT(st.batches, st2.batches);

	/* A query from a new cgroup adds its grants at once; from a known
	 * one, nothing. */
	n_rules = 6;
	d = make("d");
	snprintf(path, sizeof path, "%s/d", base);
	CHECK_INT(cgroup_lookup(tree, d, path, sizeof path, &level), 0);
	standing_notice(s, d, path, level);
	CHECK_INT(held(&h), 4);
	CHECK(holds(&h, d, "2001:db8:d::",
	            "2001:db8:d:ffff:ffff:ffff:ffff:ffff") != NULL);
	standing_get_stats(s, &st);
	standing_notice(s, d, path, level);
	standing_notice(s, a, "/whatever", 3);
	standing_get_stats(s, &st2);
	CHECK_INT(st2.matches, st.matches);
	CHECK_INT(st2.batches, st.batches);

	/* Gone: b (nothing granted) is forgotten quietly; d (granted) too,
	 * and its elements go with a resync. */
	standing_get_stats(s, &st);
	remove_cgroup("b");
	CHECK_INT(standing_scan(s, err, sizeof err), 0);
	standing_get_stats(s, &st2);
	CHECK_INT(st2.cgroups_known, st.cgroups_known - 1);
	CHECK_INT(st2.batches, st.batches);
	remove_cgroup("d");
	CHECK_INT(standing_scan(s, err, sizeof err), 0);
	standing_get_stats(s, &st);
	CHECK_INT(st.cgroups_known, st2.cgroups_known - 1);
	CHECK_INT(st.cgroups_granted, 2);
	CHECK_INT(held(&h), 3);
	CHECK_INT(held_by(&h, d), 0);

	/* A full set: e's three do not fit beside a's and c's (set-size 4):
	 * the others are written, e's logged, and nothing more is allowed
	 * than asked. */
	n_rules = 9;
	e_id = make("e");
	CHECK_INT(standing_resync(s, err, sizeof err), 0);
	CHECK_INT(held(&h), 3);
	CHECK_INT(held_by(&h, e_id), 0);
	CHECK(holds(&h, a, "192.0.2.64", "192.0.2.127") != NULL);
	CHECK(holds(&h, c, "203.0.113.0", "203.0.113.255") != NULL);
	standing_get_stats(s, &st);
	CHECK_INT(st.cgroups_granted, 2);

	/* The rules changed: a has none now. */
	rules = first_rules + 4;
	n_rules = 1;
	CHECK_INT(standing_resync(s, err, sizeof err), 0);
	CHECK_INT(held(&h), 1);
	CHECK(holds(&h, c, "203.0.113.0", "203.0.113.255") != NULL);
	/* No rules at all: emptied, then nothing written any more. */
	n_rules = 0;
	CHECK_INT(standing_resync(s, err, sizeof err), 0);
	CHECK_INT(held(&h), 0);
	standing_get_stats(s, &st);
	CHECK_INT(standing_resync(s, err, sizeof err), 0);
	standing_get_stats(s, &st2);
	CHECK_INT(st2.batches, st.batches);

	/* A new gate (its standing sets empty): a scan writes all again. */
	rules = first_rules;
	n_rules = 5;
	g2 = open_gate();
	CHECK(g2 != NULL);
	if (g2 != NULL) {
		standing_set_gate(s, g2);
		CHECK_INT(held(&h), 0);
		CHECK_INT(standing_scan(s, err, sizeof err), 0);
		CHECK_INT(held(&h), 3);
		CHECK(holds(&h, c, "203.0.113.0", "203.0.113.255") != NULL);
		CHECK_INT(gate_close(g, false, err, sizeof err), 0);
	}
	remove_cgroup("e");
	standing_free(s);
	if (g2 != NULL)
		CHECK_INT(gate_close(g2, true, err, sizeof err), 0);
}

int
main(void)
{
	char err[256], own[512];
	struct cgroup_tree *tree;
	struct gate *g;
	int skip = enter_test_namespace();

	if (skip != 0)
		return skip;
	tree = cgroup_tree_open(err, sizeof err);
	if (tree == NULL) {
		fprintf(stderr, "skip: %s\n", err);
		return 77;
	}
	snprintf(mount_point, sizeof mount_point, "%s",
	         cgroup_tree_mount(tree));
	fixture_own_cgroup_path(own, sizeof own);
	if (own[0] != '/') {
		fprintf(stderr, "skip: no cgroup v2 path of our own\n");
		cgroup_tree_free(tree);
		return 77;
	}
	snprintf(base, sizeof base, "%s/dnsgate-standing-%ld",
	         strcmp(own, "/") == 0 ? "" : own, (long)getpid());
	if (fixture_cgroup_make(mount_point, base) < 0) {
		cgroup_tree_free(tree);
		return 77;
	}
	g = open_gate();
	CHECK(g != NULL);
	if (g != NULL) {
		test_nothing_to_write(g, tree);
		test_grants(g, tree);
	}
	fixture_cgroups_remove();
	cgroup_tree_free(tree);
	return check_exit();
}
