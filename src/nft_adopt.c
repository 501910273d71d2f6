/* nft_adopt.c - what a table left behind holds, and the batch that keeps
 * its grants while renewing the rest. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
/* After netinet/in.h, which the kernel's headers defer to. */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "src/nft_adopt.h"
#include "src/nft_rules.h"
#include "src/nft_table.h"
#include "src/xmalloc.h"

#define oom_check nft_batch_oom_check
/* A deletion message is small: a table, a name, a key. */
#define DELETE_MESSAGE_BYTES 512

/* How nft would write flags, for a reason. */
static const char *
flags_text(uint32_t flags)
{
	if (flags == NFT_SET_TIMEOUT)
		return "'timeout' alone";
	if (flags == NFT_SET_STANDING_FLAGS)
		return "'interval, timeout' on a concatenation";
	return "the expected ones";
}

const char *
nft_adopt_set_mismatch(const struct nft_set_shape *s, const char *name,
		       uint32_t flags, uint32_t key_type, uint32_t key_len,
		       uint32_t set_size, char *buf, size_t buflen)
{
	if (s == NULL)
		snprintf(buf, buflen, "it has no set %s", name);
	else if (s->key_type != key_type || s->key_len != key_len)
		snprintf(buf, buflen,
			 "its set %s has another key (type 0x%x, %u bytes) "
			 "than (cgroup . address)",
			 name, s->key_type, s->key_len);
	else if (s->flags != flags)
		snprintf(buf, buflen, "its set %s has other flags (0x%x) than %s",
			 name, s->flags, flags_text(flags));
	else if (flags == NFT_SET_TIMEOUT && !s->counter)
		snprintf(buf, buflen,
			 "its set %s has no counters (an older dnsgated's): "
			 "made anew, so that each grant counts its traffic",
			 name);
	else if (s->size == 0)
		snprintf(buf, buflen,
			 "its set %s has no size limit, and set-size is %u",
			 name, set_size);
	else if (s->size != set_size)
		snprintf(buf, buflen,
			 "its set %s holds at most %u elements, and set-size "
			 "is now %u",
			 name, s->size, set_size);
	else
		return NULL;
	return buf;
}

/* --- inspecting ---------------------------------------------------------- */

struct found_sets {
	struct nft_adopt_plan *plan;
	struct nft_set_shape allow4, allow6, standing4, standing6;
	bool have_allow4, have_allow6, have_standing4, have_standing6;
};

static void
plan_delete_set(struct nft_adopt_plan *plan, const char *name)
{
	plan->sets =
		xreallocarray(plan->sets, plan->n_sets + 1, sizeof *plan->sets);
	snprintf(plan->sets[plan->n_sets++], sizeof plan->sets[0], "%s", name);
}

static void
on_set(const struct nft_set_shape *s, void *arg)
{
	struct found_sets *found = arg;
	static const struct {
		const char *name;
		size_t shape, have;
	} kept[] = {
		{NFT_SET_ALLOW4, offsetof(struct found_sets, allow4),
		 offsetof(struct found_sets, have_allow4)},
		{NFT_SET_ALLOW6, offsetof(struct found_sets, allow6),
		 offsetof(struct found_sets, have_allow6)},
		{NFT_SET_STANDING4, offsetof(struct found_sets, standing4),
		 offsetof(struct found_sets, have_standing4)},
		{NFT_SET_STANDING6, offsetof(struct found_sets, standing6),
		 offsetof(struct found_sets, have_standing6)},
	};
	size_t i;

	for (i = 0; i < sizeof kept / sizeof kept[0]; i++) {
		if (strcmp(s->name, kept[i].name) == 0) {
			memcpy((char *)found + kept[i].shape, s, sizeof *s);
			*(bool *)((char *)found + kept[i].have) = true;
			return;
		}
	}
	/* Anonymous sets belong to their rules and go with them. */
	if (s->flags & NFT_SET_ANONYMOUS)
		return;
	plan_delete_set(found->plan, s->name);
}

/* The standing sets are kept (and emptied) when both are what
 * nft_rules_standing_sets makes; else those there are deleted, and the
 * caller makes both. A table of an older dnsgated has none. */
static void
plan_standing(struct nft_adopt_plan *plan, const struct found_sets *found,
	      uint32_t set_size)
{
	char why[256];

	plan->standing_kept =
		nft_adopt_set_mismatch(
			found->have_standing4 ? &found->standing4 : NULL,
			NFT_SET_STANDING4, NFT_SET_STANDING_FLAGS,
			NFT_TYPE_ALLOW4, NFT_CGROUP_ID_LEN + 4, set_size, why,
			sizeof why) == NULL &&
		nft_adopt_set_mismatch(
			found->have_standing6 ? &found->standing6 : NULL,
			NFT_SET_STANDING6, NFT_SET_STANDING_FLAGS,
			NFT_TYPE_ALLOW6, NFT_CGROUP_ID_LEN + 16, set_size, why,
			sizeof why) == NULL;
	if (plan->standing_kept)
		return;
	if (found->have_standing4)
		plan_delete_set(plan, NFT_SET_STANDING4);
	if (found->have_standing6)
		plan_delete_set(plan, NFT_SET_STANDING6);
}

static void
on_chain(const char *name, void *arg)
{
	struct nft_adopt_plan *plan = arg;

	plan->chains = xreallocarray(plan->chains, plan->n_chains + 1,
				     sizeof *plan->chains);
	snprintf(plan->chains[plan->n_chains++], sizeof plan->chains[0], "%s",
		 name);
}

struct grant_check {
	struct nft_adopt_plan *plan;
	uint64_t max_ms; /* 0: no limit */
};

/* dnsgated gives every grant a timeout of at most grant-ttl-max. */
static void
on_grant(const struct nft_grant *g, void *arg)
{
	struct grant_check *check = arg;
	struct nft_adopt_plan *plan = check->plan;

	if (g->timeout_ms != 0 &&
	    (check->max_ms == 0 || g->expires_ms <= check->max_ms)) {
		plan->grants++;
		return;
	}
	plan->distrusted =
		xreallocarray(plan->distrusted, plan->n_distrusted + 1,
			      sizeof *plan->distrusted);
	plan->distrusted[plan->n_distrusted++] = *g;
}

int
nft_adopt_inspect(struct nft_batch *b, uint32_t set_size,
		  uint32_t max_timeout_sec, bool check_elements,
		  struct nft_adopt_plan *plan, char *err, size_t errlen)
{
	struct found_sets found;
	struct grant_check check = {plan, (uint64_t)max_timeout_sec * 1000};
	uint32_t table_flags;
	const char *why;
	int ret;

	memset(plan, 0, sizeof *plan);
	memset(&found, 0, sizeof found);
	found.plan = plan;
	ret = nft_dump_table_flags(b, &table_flags);
	if (ret == -ENOENT)
		return 0;
	if (ret == 0)
		ret = nft_dump_sets(b, on_set, &found);
	if (ret == 0)
		ret = nft_dump_chains(b, on_chain, plan);
	if (ret < 0) {
		nft_batch_reason(err, errlen,
				 "looking at the table left behind", ret);
		return ret;
	}
	plan->found = true;
	/* Unhooked, no gate: not dnsgated's doing. The kernel cannot wake a
	 * table and hook new chains in one batch either. */
	why = NULL;
	if (table_flags & NFT_TABLE_F_DORMANT) {
		snprintf(plan->why_not, sizeof plan->why_not,
			 "another program made it dormant (no gate while "
			 "dnsgated was away): its grants are not to be "
			 "trusted");
		why = plan->why_not;
	}
	if (why == NULL)
		why = nft_adopt_set_mismatch(
			found.have_allow4 ? &found.allow4 : NULL,
			NFT_SET_ALLOW4, NFT_SET_TIMEOUT, NFT_TYPE_ALLOW4,
			NFT_CGROUP_ID_LEN + 4, set_size, plan->why_not,
			sizeof plan->why_not);
	if (why == NULL)
		why = nft_adopt_set_mismatch(
			found.have_allow6 ? &found.allow6 : NULL,
			NFT_SET_ALLOW6, NFT_SET_TIMEOUT, NFT_TYPE_ALLOW6,
			NFT_CGROUP_ID_LEN + 16, set_size, plan->why_not,
			sizeof plan->why_not);
	/* Counted either way: the log says how many grants go. */
	if (check_elements && found.have_allow4)
		ret = nft_dump_set_grants(b, NFT_SET_ALLOW4, on_grant, &check);
	if (check_elements && ret >= 0 && found.have_allow6)
		ret = nft_dump_set_grants(b, NFT_SET_ALLOW6, on_grant, &check);
	if (why == NULL && ret < 0) {
		nft_batch_reason(err, errlen,
				 "listing the grants of the table left behind",
				 ret);
		return ret;
	}
	if (why == NULL) {
		plan->keep = true;
		plan_standing(plan, &found, set_size);
		return 0;
	}
	/* The grants go with the sets (those whose keys are not grants'
	 * are not counted): none is distrusted, all are lost. */
	plan->grants += (unsigned)plan->n_distrusted;
	free(plan->distrusted);
	plan->distrusted = NULL;
	plan->n_distrusted = 0;
	return 0;
}

void
nft_adopt_plan_free(struct nft_adopt_plan *plan)
{
	free(plan->chains);
	free(plan->sets);
	free(plan->distrusted);
	plan->chains = NULL;
	plan->sets = NULL;
	plan->distrusted = NULL;
	plan->n_chains = plan->n_sets = plan->n_distrusted = 0;
}

/* --- the batch ----------------------------------------------------------- */

size_t
nft_adopt_clear_bytes(const struct nft_adopt_plan *plan)
{
	return (3 + plan->n_chains + plan->n_sets + plan->n_distrusted) *
	       DELETE_MESSAGE_BYTES;
}

/* Every rule of the table at once (a DELRULE naming no chain), so that
 * no jump holds a chain and no lookup a set when they are deleted. */
static void
delete_rules(struct nft_batch *b)
{
	struct nftnl_rule *r = oom_check(nftnl_rule_alloc());
	struct nlmsghdr *nlh;

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nlh = nft_batch_message(b, NFT_MSG_DELRULE, 0,
				"deleting the rules of the table left behind");
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nft_batch_next(b);
	nftnl_rule_free(r);
}

static void
delete_chain(struct nft_batch *b, const char *name)
{
	struct nftnl_chain *c = oom_check(nftnl_chain_alloc());
	struct nlmsghdr *nlh;

	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nlh = nft_batch_message(b, NFT_MSG_DELCHAIN, 0,
				"deleting a chain of the table left behind");
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nft_batch_next(b);
	nftnl_chain_free(c);
}

static void
delete_set(struct nft_batch *b, const char *name)
{
	struct nftnl_set *s = oom_check(nftnl_set_alloc());
	struct nlmsghdr *nlh;

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nlh = nft_batch_message(b, NFT_MSG_DELSET, 0,
				"deleting a set of the table left behind");
	nftnl_set_nlmsg_build_payload(nlh, s);
	nft_batch_next(b);
	nftnl_set_free(s);
}

/* One element per message: there are few, and each is then named alone
 * if it fails. */
static void
delete_element(struct nft_batch *b, const struct nft_grant *g)
{
	size_t addr_len = ip_addr_length(&g->addr);
	uint8_t key[NFT_CGROUP_ID_LEN + 16];
	struct nlattr *list, *elem, *nest;
	struct nlmsghdr *nlh;

	nlh = nft_batch_message(b, NFT_MSG_DELSETELEM, 0,
				"deleting an element dnsgated did not write");
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, NFT_TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET,
			  g->addr.family == AF_INET ? NFT_SET_ALLOW4
						    : NFT_SET_ALLOW6);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	memcpy(key, &g->cgroup_id, NFT_CGROUP_ID_LEN);
	memcpy(key + NFT_CGROUP_ID_LEN, g->addr.bytes, addr_len);
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, NFT_CGROUP_ID_LEN + addr_len, key);
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
	nft_batch_next(b);
}

/* A DELSETELEM without elements empties the set. */
static void
flush_set(struct nft_batch *b, const char *name)
{
	struct nlmsghdr *nlh = nft_batch_message(
		b, NFT_MSG_DELSETELEM, 0,
		"emptying a standing set of the table left behind");

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, NFT_TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
	nft_batch_next(b);
}

void
nft_adopt_clear(struct nft_batch *b, const struct nft_adopt_plan *plan)
{
	size_t i;

	nft_rules_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE,
			"taking over the table inet " NFT_TABLE_NAME);
	delete_rules(b);
	for (i = 0; i < plan->n_chains; i++)
		delete_chain(b, plan->chains[i]);
	for (i = 0; i < plan->n_sets; i++)
		delete_set(b, plan->sets[i]);
	for (i = 0; i < plan->n_distrusted; i++)
		delete_element(b, &plan->distrusted[i]);
	if (plan->standing_kept) {
		flush_set(b, NFT_SET_STANDING4);
		flush_set(b, NFT_SET_STANDING6);
	}
}
