/* nft_gate.c - the table "inet dnsgate": made, grown, granted into and
 * removed, each change one acked batch. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
/* After netinet/in.h, which the kernel's headers defer to. */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>

#include "src/log.h"
#include "src/nft_adopt.h"
#include "src/nft_batch.h"
#include "src/nft_dump.h"
#include "src/nft_gate.h"
#include "src/nft_rules.h"
#include "src/xmalloc.h"

struct gate {
	struct nft_batch *batch;
	struct nft_rules_params params;
	unsigned level;         /* gate rules exist for levels 1..level */
	struct nft_rules_places places; /* where new level rules go */
	struct nft_rejected *taken; /* gate_take_rejected's elements */
	size_t n_taken, cap_taken;
	bool renew_by_delete; /* the kernel ignores an element added again */
};

/* Whether the running kernel is at least major.minor (uname). */
static bool
kernel_at_least(unsigned major, unsigned minor)
{
	struct utsname u;
	unsigned a = 0, b = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &a, &b) != 2)
		return false;
	return a > major || (a == major && b >= minor);
}

static int
check_options(const struct gate_options *opts, char *err, size_t errlen)
{
	const char *problem = NULL;
	size_t i;

	if (opts->dns_port == 0)
		problem = "the DNS port must not be 0";
	else if (opts->upstream_mark == 0)
		problem = "the upstream mark must not be 0 (every unmarked "
			  "socket has mark 0)";
	else if (opts->set_size == 0)
		problem = "the grant set size must not be 0";
	else if (opts->max_level > NFT_LEVEL_LIMIT)
		problem = "cgroup levels above 255 cannot be matched";
	for (i = 0; problem == NULL && i < opts->n_exempt; i++) {
		const struct ip_prefix *p = &opts->exempt[i];

		if ((p->addr.family != AF_INET && p->addr.family != AF_INET6) ||
		    p->length > ip_addr_length(&p->addr) * 8)
			problem = "an exempt network is not a valid prefix";
	}
	if (problem == NULL)
		return 0;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "nft gate: %s", problem);
	return -EINVAL;
}

/* A gate whose socket is open and whose table is not made yet. */
static struct gate *
gate_new(const struct gate_options *opts, char *err, size_t errlen)
{
	struct gate *g;

	if (check_options(opts, err, errlen) < 0)
		return NULL;
	g = xcalloc(1, sizeof *g);
	g->params.dns_port = opts->dns_port;
	g->params.upstream_mark = opts->upstream_mark;
	g->params.max_level = opts->max_level;
	g->level = opts->max_level;
	g->renew_by_delete = opts->renew == GATE_RENEW_DELETE ||
			     (opts->renew == GATE_RENEW_AUTO &&
			      !kernel_at_least(6, 12));
	g->batch = nft_batch_new(err, errlen);
	if (g->batch == NULL) {
		free(g);
		return NULL;
	}
	return g;
}

/* The table's contents after its first message(s): chains, sets, rules.
 * With allow_sets false the allow sets are the ones already there, and
 * with standing_sets false the standing sets. */
static void
batch_contents(struct gate *g, const struct gate_options *opts, bool allow_sets,
	       bool standing_sets)
{
	nft_rules_chains(g->batch);
	if (allow_sets)
		nft_rules_allow_sets(g->batch, opts->set_size);
	if (standing_sets)
		nft_rules_standing_sets(g->batch, opts->set_size);
	nft_rules_rejected_sets(g->batch);
	nft_rules_exempt_sets(g->batch, opts->exempt, opts->n_exempt);
	nft_rules_rules(g->batch, &g->params);
}

static int
send_new_table(struct gate *g, const struct gate_options *opts, char *err,
	       size_t errlen)
{
	nft_batch_start(g->batch,
			nft_rules_table_bytes(opts->max_level, opts->n_exempt));
	/* Add, delete, add: an old table of this name goes away with all it
	 * holds, and a missing one is no error; all in one transaction. */
	nft_rules_table(g->batch, NFT_MSG_NEWTABLE, NLM_F_CREATE,
			"creating table inet " NFT_TABLE_NAME);
	nft_rules_table(g->batch, NFT_MSG_DELTABLE, 0,
			"deleting the table inet " NFT_TABLE_NAME
			" of an earlier run");
	nft_rules_table(g->batch, NFT_MSG_NEWTABLE, NLM_F_CREATE,
			"creating table inet " NFT_TABLE_NAME);
	batch_contents(g, opts, true, true);
	return nft_batch_send(g->batch, err, errlen);
}

static int
send_adopted_table(struct gate *g, const struct gate_options *opts,
		   const struct nft_adopt_plan *plan, char *err, size_t errlen)
{
	nft_batch_start(
		g->batch,
		nft_adopt_clear_bytes(plan) +
			nft_rules_table_bytes(opts->max_level, opts->n_exempt));
	nft_adopt_clear(g->batch, plan);
	batch_contents(g, opts, false, !plan->standing_kept);
	return nft_batch_send(g->batch, err, errlen);
}

static struct gate *
gate_fail(struct gate *g)
{
	nft_batch_free(g->batch);
	free(g->taken);
	free(g);
	return NULL;
}

/* Finds where new level rules go. */
static int
find_places(struct gate *g, char *err, size_t errlen)
{
	struct nft_reject_rule reject;
	int ret = nft_dump_reject_rule(g->batch, &reject);

	if (ret == 0 && reject.established == 0)
		ret = -ENOENT;
	if (ret < 0) {
		nft_batch_reason(err, errlen, "finding the reject rule", ret);
		return ret;
	}
	g->places.established = reject.established;
	g->places.records = reject.records;
	return 0;
}

/* Finds where new level rules go; frees g on an error. */
static struct gate *
gate_ready(struct gate *g, char *err, size_t errlen)
{
	if (find_places(g, err, errlen) < 0)
		return gate_fail(g);
	return g;
}

struct gate *
gate_open(const struct gate_options *opts, char *err, size_t errlen)
{
	struct gate *g = gate_new(opts, err, errlen);

	if (g == NULL)
		return NULL;
	if (send_new_table(g, opts, err, errlen) < 0)
		return gate_fail(g);
	return gate_ready(g, err, errlen);
}

struct gate *
gate_adopt(const struct gate_options *opts, bool vouched,
	   struct gate_adoption *report, char *err, size_t errlen)
{
	struct gate *g = gate_new(opts, err, errlen);
	struct nft_adopt_plan plan;
	char adopt_err[256];
	int ret;

	memset(report, 0, sizeof *report);
	if (g == NULL)
		return NULL;
	ret = nft_adopt_inspect(g->batch, opts->set_size, opts->max_grant_sec,
				!vouched, &plan, err, errlen);
	if (ret < 0) {
		nft_adopt_plan_free(&plan);
		return gate_fail(g);
	}
	report->found = plan.found;
	report->grants = plan.grants;
	if (plan.keep) {
		ret = send_adopted_table(g, opts, &plan, adopt_err,
					 sizeof adopt_err);
		if (ret == 0) {
			report->kept = true;
			report->n_distrusted = plan.n_distrusted;
			nft_adopt_plan_free(&plan);
			return gate_ready(g, err, errlen);
		}
		/* Changed by someone since we looked, say: start afresh. */
		snprintf(report->why_dropped, sizeof report->why_dropped,
			 "renewing its rules around the grants failed (%s)",
			 adopt_err);
	} else if (plan.found) {
		snprintf(report->why_dropped, sizeof report->why_dropped, "%s",
			 plan.why_not);
	}
	nft_adopt_plan_free(&plan);
	if (send_new_table(g, opts, err, errlen) < 0)
		return gate_fail(g);
	return gate_ready(g, err, errlen);
}

int
gate_close(struct gate *g, bool remove_table, char *err, size_t errlen)
{
	int ret = 0;

	if (g == NULL)
		return 0;
	if (remove_table) {
		nft_batch_start(g->batch, 0);
		nft_rules_table(g->batch, NFT_MSG_DELTABLE, 0,
				"deleting table inet " NFT_TABLE_NAME);
		ret = nft_batch_send(g->batch, err, errlen);
		if (ret == -ENOENT)
			ret = 0; /* someone removed it already */
	}
	nft_batch_free(g->batch);
	free(g->taken);
	free(g);
	return ret;
}

int
gate_ensure_level(struct gate *g, unsigned level)
{
	char err[256];
	int ret;

	if (level <= g->level)
		return 0;
	if (level > NFT_LEVEL_LIMIT)
		return -EINVAL;
	nft_batch_start(g->batch, NFT_RULES_PER_LEVEL *
					  (size_t)(level - g->level) *
					  NFT_BATCH_RULE_BYTES);
	nft_rules_levels(g->batch, g->level + 1, level, &g->places);
	ret = nft_batch_send(g->batch, err, sizeof err);
	if (ret == 0) {
		g->level = level;
		/* The deepest level's record rules come first now. */
		ret = find_places(g, err, sizeof err);
	}
	if (ret < 0) {
		/* The caller only gets the errno: keep the reason. */
		log_warn("nft gate: %s", err);
		return ret;
	}
	return 0;
}

static void
grants_message_end(struct nft_batch *b, struct nlmsghdr *nlh,
		   struct nlattr *list)
{
	mnl_attr_nest_end(nlh, list);
	nft_batch_next(b);
}

/* The grants of one family as NEWSETELEM messages (or, with delete, as
 * DELSETELEM), built straight into the batch buffer with libmnl: this
 * is the per-query path. */
static void
batch_grants(struct nft_batch *b, uint64_t cgroup_id,
	     const struct gate_grant *grants, size_t n, int family,
	     bool delete)
{
	const char *set = family == AF_INET ? NFT_SET_ALLOW4 : NFT_SET_ALLOW6;
	const char *label =
	    delete ? (family == AF_INET
			     ? "renewing grants in " NFT_SET_ALLOW4
			     : "renewing grants in " NFT_SET_ALLOW6)
		      : (family == AF_INET ? "adding grants to " NFT_SET_ALLOW4
					   : "adding grants to " NFT_SET_ALLOW6);
	struct nlmsghdr *nlh = NULL;
	struct nlattr *list = NULL;
	size_t i, in_message = 0;

	for (i = 0; i < n; i++) {
		const struct gate_grant *grant = &grants[i];
		size_t addr_len = ip_addr_length(&grant->addr);
		uint8_t key[NFT_CGROUP_ID_LEN + 16];
		struct nlattr *elem, *nest;

		if (grant->addr.family != family)
			continue;
		if (nlh == NULL) {
			nlh = nft_batch_message(
			    b, delete ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
			    delete ? 0 : NLM_F_CREATE, label);
			mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE,
					  NFT_TABLE_NAME);
			mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
			list = mnl_attr_nest_start(nlh,
						   NFTA_SET_ELEM_LIST_ELEMENTS);
		}
		memcpy(key, &cgroup_id, NFT_CGROUP_ID_LEN);
		memcpy(key + NFT_CGROUP_ID_LEN, grant->addr.bytes, addr_len);
		elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, NFT_CGROUP_ID_LEN + addr_len,
			     key);
		mnl_attr_nest_end(nlh, nest);
		/* Without NLM_F_EXCL, an element already present takes this
		 * timeout, and expires anew only when told its expiration
		 * (Linux 6.12 and later; checked on 6.18: with the same
		 * timeout alone it kept its old time). */
		if (!delete) {
			uint64_t ms = (uint64_t)grant->timeout_sec * 1000;

			mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(ms));
			mnl_attr_put_u64(nlh, NFTA_SET_ELEM_EXPIRATION,
					 htobe64(ms));
		}
		mnl_attr_nest_end(nlh, elem);
		if (++in_message == NFT_BATCH_ELEMENTS_PER_MESSAGE) {
			grants_message_end(b, nlh, list);
			nlh = NULL;
			in_message = 0;
		}
	}
	if (nlh != NULL)
		grants_message_end(b, nlh, list);
}

int
gate_allow(struct gate *g, uint64_t cgroup_id, const struct gate_grant *grants,
	   size_t n, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int family = grants[i].addr.family;

		if ((family != AF_INET && family != AF_INET6) ||
		    grants[i].timeout_sec == 0) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen,
					 "nft gate: grant %zu has no address "
					 "or no timeout",
					 i);
			return -EINVAL;
		}
	}
	if (n == 0)
		return 0;
	if (g->renew_by_delete) {
		/* An older kernel ignores an element added again: each one
		 * is added (made if missing, so that the delete finds it),
		 * deleted and added anew, in one transaction (no moment
		 * without it, and no ENOENT whatever the kernel's set holds
		 * now). */
		nft_batch_start(g->batch, 3 * n * NFT_BATCH_ELEMENT_BYTES);
		batch_grants(g->batch, cgroup_id, grants, n, AF_INET, false);
		batch_grants(g->batch, cgroup_id, grants, n, AF_INET6, false);
		batch_grants(g->batch, cgroup_id, grants, n, AF_INET, true);
		batch_grants(g->batch, cgroup_id, grants, n, AF_INET6, true);
	} else {
		nft_batch_start(g->batch, n * NFT_BATCH_ELEMENT_BYTES);
	}
	batch_grants(g->batch, cgroup_id, grants, n, AF_INET, false);
	batch_grants(g->batch, cgroup_id, grants, n, AF_INET6, false);
	return nft_batch_send(g->batch, err, errlen);
}

/* --- standing grants ----------------------------------------------------- */

/* Refuses what the kernel would take for something else: no cgroup, a
 * prefix longer than its address, or bits set beyond it (a caller's slip
 * that must not widen a grant). */
static int
check_standing(const struct gate_standing *s, size_t n, char *err,
	       size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct ip_prefix *p = &s[i].net;
		const char *problem = NULL;
		size_t len, byte;

		if (s[i].cgroup_id == 0)
			problem = "has no cgroup";
		else if (p->addr.family != AF_INET &&
			 p->addr.family != AF_INET6)
			problem = "has no address family";
		else if (p->length > ip_addr_length(&p->addr) * 8)
			problem = "has a prefix longer than its address";
		len = problem == NULL ? ip_addr_length(&p->addr) : 0;
		for (byte = 0; problem == NULL && byte < len; byte++) {
			unsigned bits = p->length > byte * 8
						? p->length - (unsigned)byte * 8
						: 0;
			uint8_t host = bits >= 8 ? 0 : (uint8_t)(0xff >> bits);

			if (p->addr.bytes[byte] & host)
				problem = "has bits set beyond its prefix";
		}
		if (problem != NULL) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen,
					 "nft gate: standing grant %zu %s", i,
					 problem);
			return -EINVAL;
		}
	}
	return 0;
}

/* The first or last key of a standing grant's range: the cgroup id in
 * network byte order, then the network's first or last address. */
static size_t
standing_key(const struct gate_standing *s, bool last, uint8_t *key)
{
	uint64_t id_be = htobe64(s->cgroup_id);
	size_t len = ip_addr_length(&s->net.addr), byte;

	memcpy(key, &id_be, NFT_CGROUP_ID_LEN);
	memcpy(key + NFT_CGROUP_ID_LEN, s->net.addr.bytes, len);
	for (byte = 0; last && byte < len; byte++) {
		unsigned bits = s->net.length > byte * 8
					? s->net.length - (unsigned)byte * 8
					: 0;

		if (bits < 8)
			key[NFT_CGROUP_ID_LEN + byte] |=
				(uint8_t)(0xff >> bits);
	}
	return NFT_CGROUP_ID_LEN + len;
}

static void
put_key(struct nlmsghdr *nlh, uint16_t type, const uint8_t *key, size_t len)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	mnl_attr_put(nlh, NFTA_DATA_VALUE, len, key);
	mnl_attr_nest_end(nlh, nest);
}

/* The standing grants of one family as NEWSETELEM messages. */
static void
batch_standing(struct nft_batch *b, const struct gate_standing *s, size_t n,
	       int family)
{
	const char *set =
		family == AF_INET ? NFT_SET_STANDING4 : NFT_SET_STANDING6;
	const char *label = family == AF_INET
				    ? "adding standing grants to " NFT_SET_STANDING4
				    : "adding standing grants to " NFT_SET_STANDING6;
	struct nlmsghdr *nlh = NULL;
	struct nlattr *list = NULL;
	size_t i, in_message = 0;

	for (i = 0; i < n; i++) {
		uint8_t key[NFT_CGROUP_ID_LEN + 16];
		struct nlattr *elem;
		size_t len;

		if (s[i].net.addr.family != family)
			continue;
		if (nlh == NULL) {
			nlh = nft_batch_message(b, NFT_MSG_NEWSETELEM,
						NLM_F_CREATE, label);
			mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE,
					  NFT_TABLE_NAME);
			mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
			list = mnl_attr_nest_start(nlh,
						   NFTA_SET_ELEM_LIST_ELEMENTS);
		}
		elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		len = standing_key(&s[i], false, key);
		put_key(nlh, NFTA_SET_ELEM_KEY, key, len);
		standing_key(&s[i], true, key);
		put_key(nlh, NFTA_SET_ELEM_KEY_END, key, len);
		if (s[i].timeout_sec != 0) {
			uint64_t ms = (uint64_t)s[i].timeout_sec * 1000;

			/* The expiration too, so that one present expires
			 * anew (Linux 6.12 and later). */
			mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(ms));
			mnl_attr_put_u64(nlh, NFTA_SET_ELEM_EXPIRATION,
					 htobe64(ms));
		}
		mnl_attr_nest_end(nlh, elem);
		if (++in_message == NFT_BATCH_ELEMENTS_PER_MESSAGE) {
			grants_message_end(b, nlh, list);
			nlh = NULL;
			in_message = 0;
		}
	}
	if (nlh != NULL)
		grants_message_end(b, nlh, list);
}

/* Empties both standing sets: a DELSETELEM without elements. */
static void
batch_standing_flush(struct nft_batch *b)
{
	static const char *const sets[] = {NFT_SET_STANDING4,
					   NFT_SET_STANDING6};
	size_t i;

	for (i = 0; i < 2; i++) {
		struct nlmsghdr *nlh =
			nft_batch_message(b, NFT_MSG_DELSETELEM, 0,
					  i == 0 ? "emptying " NFT_SET_STANDING4
						 : "emptying " NFT_SET_STANDING6);

		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE,
				  NFT_TABLE_NAME);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, sets[i]);
		nft_batch_next(b);
	}
}

/* Two keys and their nests per element: twice a grant's bound. */
#define STANDING_ELEMENT_BYTES (2 * NFT_BATCH_ELEMENT_BYTES)

static int
send_standing(struct gate *g, bool flush, const struct gate_standing *s,
	      size_t n, char *err, size_t errlen)
{
	int ret = check_standing(s, n, err, errlen);

	if (ret < 0)
		return ret;
	if (n == 0 && !flush)
		return 0;
	nft_batch_start(g->batch, n * STANDING_ELEMENT_BYTES);
	if (flush)
		batch_standing_flush(g->batch);
	batch_standing(g->batch, s, n, AF_INET);
	batch_standing(g->batch, s, n, AF_INET6);
	return nft_batch_send(g->batch, err, errlen);
}

int
gate_standing_add(struct gate *g, const struct gate_standing *s, size_t n,
		  char *err, size_t errlen)
{
	return send_standing(g, false, s, n, err, errlen);
}

int
gate_standing_flush(struct gate *g, char *err, size_t errlen)
{
	return send_standing(g, true, NULL, 0, err, errlen);
}

int
gate_standing_replace(struct gate *g, const struct gate_standing *s, size_t n,
		      char *err, size_t errlen)
{
	return send_standing(g, true, s, n, err, errlen);
}

/* --- rejected connections ---------------------------------------------- */

static void
keep_taken(const struct nft_rejected *r, void *arg)
{
	struct gate *g = arg;

	if (g->n_taken == g->cap_taken) {
		g->cap_taken = g->cap_taken == 0 ? 64 : 2 * g->cap_taken;
		g->taken = xreallocarray(g->taken, g->cap_taken,
					 sizeof *g->taken);
	}
	g->taken[g->n_taken++] = *r;
}

/* DELSETELEM messages for the taken elements of one family. */
static void
batch_forget_taken(struct gate *g, int family)
{
	const char *set =
		family == AF_INET ? NFT_SET_REJECTED4 : NFT_SET_REJECTED6;
	struct nlmsghdr *nlh = NULL;
	struct nlattr *list = NULL;
	size_t i, in_message = 0;

	for (i = 0; i < g->n_taken; i++) {
		uint8_t key[NFT_REJECTED_KEY_LEN(16)];
		struct nlattr *elem, *nest;
		size_t len;

		if (g->taken[i].addr.family != family)
			continue;
		if (nlh == NULL) {
			nlh = nft_batch_message(g->batch, NFT_MSG_DELSETELEM, 0,
						"deleting rejected connections "
						"read");
			mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE,
					  NFT_TABLE_NAME);
			mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
			list = mnl_attr_nest_start(nlh,
						   NFTA_SET_ELEM_LIST_ELEMENTS);
		}
		len = nft_rejected_key(&g->taken[i], key);
		elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, (uint16_t)len, key);
		mnl_attr_nest_end(nlh, nest);
		mnl_attr_nest_end(nlh, elem);
		if (++in_message == NFT_BATCH_ELEMENTS_PER_MESSAGE) {
			grants_message_end(g->batch, nlh, list);
			nlh = NULL;
			in_message = 0;
		}
	}
	if (nlh != NULL)
		grants_message_end(g->batch, nlh, list);
}

/* Empties both sets (a DELSETELEM without elements). */
static int
flush_rejected(struct gate *g, char *err, size_t errlen)
{
	static const char *const sets[] = {NFT_SET_REJECTED4,
					   NFT_SET_REJECTED6};
	size_t i;

	nft_batch_start(g->batch, 0);
	for (i = 0; i < 2; i++) {
		struct nlmsghdr *nlh = nft_batch_message(
			g->batch, NFT_MSG_DELSETELEM, 0,
			"emptying a set of rejected connections");

		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE,
				  NFT_TABLE_NAME);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, sets[i]);
		nft_batch_next(g->batch);
	}
	return nft_batch_send(g->batch, err, errlen);
}

int
gate_take_rejected(struct gate *g, nft_rejected_fn fn, void *arg, bool *full,
		   char *err, size_t errlen)
{
	size_t i, n4 = 0;
	int ret;

	*full = false;
	g->n_taken = 0;
	ret = nft_dump_rejected(g->batch, keep_taken, g);
	if (ret < 0) {
		nft_batch_reason(err, errlen,
				 "reading the rejected connections", ret);
		return ret;
	}
	if (g->n_taken == 0)
		return 0;
	for (i = 0; i < g->n_taken; i++) {
		if (g->taken[i].addr.family == AF_INET)
			n4++;
		if (fn != NULL)
			fn(&g->taken[i], arg);
	}
	*full = n4 >= NFT_REJECTED_SET_SIZE ||
		g->n_taken - n4 >= NFT_REJECTED_SET_SIZE;
	nft_batch_start(g->batch, g->n_taken * NFT_BATCH_ELEMENT_BYTES);
	batch_forget_taken(g, AF_INET);
	batch_forget_taken(g, AF_INET6);
	ret = nft_batch_send(g->batch, err, errlen);
	/* One expired meanwhile (the whole batch is refused then): start
	 * afresh; what came since the listing is lost, not counted twice. */
	if (ret == -ENOENT)
		ret = flush_rejected(g, err, errlen);
	return ret < 0 ? ret : (int)g->n_taken;
}

/* --- traffic ------------------------------------------------------------- */

int
gate_traffic(struct gate *g, nft_grant_fn fn, void *arg, char *err,
	     size_t errlen)
{
	int n4, n6;

	n4 = nft_dump_set_grants(g->batch, NFT_SET_ALLOW4, fn, arg);
	n6 = n4 < 0 ? n4 : nft_dump_set_grants(g->batch, NFT_SET_ALLOW6, fn,
					       arg);
	if (n6 < 0) {
		nft_batch_reason(err, errlen, "reading the grants' counters",
				 n6);
		return n6;
	}
	return n4 + n6;
}

int
gate_remove_table(char *err, size_t errlen)
{
	struct nft_batch *b = nft_batch_new(err, errlen);
	int ret;

	if (b == NULL)
		return -errno;
	nft_batch_start(b, 0);
	nft_rules_table(b, NFT_MSG_DELTABLE, 0,
			"deleting table inet " NFT_TABLE_NAME);
	ret = nft_batch_send(b, err, errlen);
	nft_batch_free(b);
	return ret == -ENOENT ? 0 : ret;
}

uint32_t
gate_netlink_portid(const struct gate *g)
{
	return nft_batch_portid(g->batch);
}

struct gate_failsafe {
	struct nft_batch *batch;
};

struct gate_failsafe *
gate_failsafe_new(char *err, size_t errlen)
{
	struct gate_failsafe *f = xcalloc(1, sizeof *f);

	f->batch = nft_batch_new(err, errlen);
	if (f->batch == NULL) {
		free(f);
		return NULL;
	}
	nft_batch_start(f->batch, 0);
	nft_rules_table(f->batch, NFT_MSG_DELTABLE, 0,
			"deleting table inet " NFT_TABLE_NAME);
	if (nft_batch_seal(f->batch, err, errlen) < 0) {
		gate_failsafe_free(f);
		return NULL;
	}
	return f;
}

int
gate_failsafe_fire(const struct gate_failsafe *f)
{
	return f == NULL ? -EINVAL : nft_batch_send_sealed(f->batch);
}

void
gate_failsafe_free(struct gate_failsafe *f)
{
	if (f == NULL)
		return;
	nft_batch_free(f->batch);
	free(f);
}
