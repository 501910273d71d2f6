/* nft_dump.c - GET requests on the table: grants and the reject rule. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
/* After netinet/in.h, which the kernel's headers defer to. */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "src/nft_dump.h"
#include "src/nft_table.h"

#define oom_check nft_batch_oom_check
#define REQUEST_BUFFER_SIZE 1024

/* --- the reject rule ----------------------------------------------------- */

struct reject_search {
	bool found;
	struct nft_reject_rule rule;
	uint64_t record_packets; /* the record rules' counters */
};

/* What one rule of gate-output holds. */
struct rule_shape {
	bool reject, dynset, ct_state;
	uint64_t packets;
};

static int
reject_expr_cb(struct nftnl_expr *e, void *data)
{
	struct rule_shape *rule = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (strcmp(name, "counter") == 0)
		rule->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
	else if (strcmp(name, "reject") == 0)
		rule->reject = true;
	else if (strcmp(name, "dynset") == 0)
		rule->dynset = true;
	else if (strcmp(name, "ct") == 0 &&
		 nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) == NFT_CT_STATE)
		rule->ct_state = true;
	return 0;
}

static int
reject_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reject_search *out = data;
	struct nftnl_rule *r = oom_check(nftnl_rule_alloc());
	struct rule_shape rule = {0};
	uint64_t handle;

	if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		nftnl_rule_free(r);
		return MNL_CB_ERROR;
	}
	nftnl_expr_foreach(r, reject_expr_cb, &rule);
	handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	if (rule.ct_state && out->rule.established == 0)
		out->rule.established = handle;
	if (rule.dynset && rule.reject) {
		if (out->rule.records == 0)
			out->rule.records = handle;
		out->record_packets += rule.packets;
	} else if (rule.reject) {
		/* The last one is the reject rule. */
		out->found = true;
		out->rule.handle = handle;
		out->rule.packets = rule.packets;
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

int
nft_dump_reject_rule(struct nft_batch *b, struct nft_reject_rule *out)
{
	char buf[REQUEST_BUFFER_SIZE] = {0};
	struct nftnl_rule *r = oom_check(nftnl_rule_alloc());
	struct reject_search search = {0};
	struct nlmsghdr *nlh;
	int ret;

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, NFT_CHAIN_GATE);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
				    NLM_F_DUMP, nft_batch_dump_seq(b));
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	ret = nft_batch_dump(b, nlh, reject_rule_cb, &search);
	if (ret == 0 && !search.found)
		ret = -ENOENT;
	search.rule.packets += search.record_packets;
	*out = search.rule;
	return ret;
}

int64_t
nft_dump_rejected_packets(char *err, size_t errlen)
{
	struct nft_reject_rule reject;
	struct nft_batch *b = nft_batch_new(err, errlen);
	int ret;

	if (b == NULL)
		return -errno;
	ret = nft_dump_reject_rule(b, &reject);
	nft_batch_free(b);
	if (ret < 0) {
		nft_batch_reason(err, errlen, "reading the reject counter",
				 ret);
		return ret;
	}
	return (int64_t)reject.packets;
}

/* --- grants -------------------------------------------------------------- */

/* --- element counters ---------------------------------------------------- */

struct counter_value {
	uint64_t packets, bytes;
};

static int
counter_expr_cb(struct nftnl_expr *e, void *data)
{
	struct counter_value *c = data;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0) {
		c->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		c->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

/* The element's counter, or 0 and 0 when it has none. */
static void
element_counter(struct nftnl_set_elem *e, uint64_t *packets, uint64_t *bytes)
{
	struct counter_value c = {0, 0};

	nftnl_set_elem_expr_foreach(e, counter_expr_cb, &c);
	*packets = c.packets;
	*bytes = c.bytes;
}

#define grant_listing nft_grant_listing

static int
grant_element_cb(struct nftnl_set_elem *e, void *data)
{
	struct grant_listing *listing = data;
	struct nft_grant grant;
	uint32_t len = 0;
	const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

	memset(&grant, 0, sizeof grant);
	if (key == NULL ||
	    (len != NFT_CGROUP_ID_LEN + 4 && len != NFT_CGROUP_ID_LEN + 16)) {
		listing->bad_key = true;
		return 0;
	}
	memcpy(&grant.cgroup_id, key, NFT_CGROUP_ID_LEN);
	grant.addr.family = len == NFT_CGROUP_ID_LEN + 4 ? AF_INET : AF_INET6;
	memcpy(grant.addr.bytes, key + NFT_CGROUP_ID_LEN,
	       len - NFT_CGROUP_ID_LEN);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		grant.expires_ms =
			nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
		grant.timeout_ms =
			nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
	element_counter(e, &grant.packets, &grant.bytes);
	listing->count++;
	if (listing->fn != NULL)
		listing->fn(&grant, listing->arg);
	return 0;
}

/* The elements of one set of the table, each handed to fn(e, arg) as
 * nftnl_set_elem_foreach does. */
struct element_walk {
	int (*fn)(struct nftnl_set_elem *e, void *arg);
	void *arg;
};

static int
elements_message_cb(const struct nlmsghdr *nlh, void *data)
{
	struct element_walk *w = data;
	struct nftnl_set *s = oom_check(nftnl_set_alloc());
	int ret = MNL_CB_OK;

	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0)
		ret = MNL_CB_ERROR;
	else
		nftnl_set_elem_foreach(s, w->fn, w->arg);
	nftnl_set_free(s);
	return ret;
}

struct nlmsghdr *
nft_dump_elements_request(char *buf, const char *set, uint32_t seq)
{
	struct nftnl_set *s = oom_check(nftnl_set_alloc());
	struct nlmsghdr *nlh;

	memset(buf, 0, REQUEST_BUFFER_SIZE);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET,
				    NLM_F_DUMP, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return nlh;
}

static int
dump_elements(struct nft_batch *b, const char *name,
	      int (*fn)(struct nftnl_set_elem *e, void *arg), void *arg)
{
	char buf[REQUEST_BUFFER_SIZE];
	struct element_walk w = {fn, arg};
	struct nlmsghdr *nlh =
		nft_dump_elements_request(buf, name, nft_batch_dump_seq(b));

	return nft_batch_dump(b, nlh, elements_message_cb, &w);
}

int
nft_dump_grant_reply(const struct nlmsghdr *nlh, void *listing)
{
	struct element_walk w = {grant_element_cb, listing};

	return elements_message_cb(nlh, &w);
}

static int
list_set(struct nft_batch *b, const char *name, struct grant_listing *listing)
{
	return dump_elements(b, name, grant_element_cb, listing);
}

int
nft_dump_set_grants(struct nft_batch *b, const char *set, nft_grant_fn fn,
		    void *arg)
{
	struct grant_listing listing = {fn, arg, 0, false};
	int ret = list_set(b, set, &listing);

	if (ret < 0)
		return ret;
	return listing.bad_key ? -EPROTO : listing.count;
}

int
nft_dump_grants(nft_grant_fn fn, void *arg, char *err, size_t errlen)
{
	struct grant_listing listing = {fn, arg, 0, false};
	struct nft_batch *b = nft_batch_new(err, errlen);
	int ret;

	if (b == NULL)
		return -errno;
	ret = list_set(b, NFT_SET_ALLOW4, &listing);
	if (ret == 0)
		ret = list_set(b, NFT_SET_ALLOW6, &listing);
	nft_batch_free(b);
	if (ret < 0) {
		nft_batch_reason(err, errlen, "listing the grants", ret);
		return ret;
	}
	if (listing.bad_key) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen,
				 "nft gate: a grant set holds a "
				 "key of an unexpected length");
		return -EPROTO;
	}
	return listing.count;
}

/* --- rejected connections ---------------------------------------------- */

struct rejected_listing {
	nft_rejected_fn fn;
	void *arg;
	int count;
	bool bad_key;
};

static int
rejected_element_cb(struct nftnl_set_elem *e, void *data)
{
	struct rejected_listing *listing = data;
	struct nft_rejected r;
	uint32_t len = 0;
	const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	size_t addr_len;
	uint16_t port_be;

	memset(&r, 0, sizeof r);
	if (key == NULL || (len != NFT_REJECTED_KEY_LEN(4) &&
			    len != NFT_REJECTED_KEY_LEN(16))) {
		listing->bad_key = true;
		return 0;
	}
	addr_len = len == NFT_REJECTED_KEY_LEN(4) ? 4 : 16;
	memcpy(&r.cgroup_id, key, NFT_CGROUP_ID_LEN);
	r.addr.family = addr_len == 4 ? AF_INET : AF_INET6;
	memcpy(r.addr.bytes, key + NFT_CGROUP_ID_LEN, addr_len);
	r.protocol = key[NFT_CGROUP_ID_LEN + addr_len];
	memcpy(&port_be, key + NFT_CGROUP_ID_LEN + addr_len + 4, 2);
	r.port = ntohs(port_be);
	element_counter(e, &r.packets, &r.bytes);
	listing->count++;
	if (listing->fn != NULL)
		listing->fn(&r, listing->arg);
	return 0;
}

int
nft_dump_rejected(struct nft_batch *b, nft_rejected_fn fn, void *arg)
{
	struct rejected_listing listing = {fn, arg, 0, false};
	int ret = dump_elements(b, NFT_SET_REJECTED4, rejected_element_cb,
				&listing);

	if (ret == 0)
		ret = dump_elements(b, NFT_SET_REJECTED6, rejected_element_cb,
				    &listing);
	if (ret < 0)
		return ret;
	return listing.bad_key ? -EPROTO : listing.count;
}

size_t
nft_rejected_key(const struct nft_rejected *r, uint8_t *key)
{
	size_t addr_len = ip_addr_length(&r->addr);
	uint16_t port_be = htons(r->port);

	memset(key, 0, NFT_REJECTED_KEY_LEN(addr_len));
	memcpy(key, &r->cgroup_id, NFT_CGROUP_ID_LEN);
	memcpy(key + NFT_CGROUP_ID_LEN, r->addr.bytes, addr_len);
	key[NFT_CGROUP_ID_LEN + addr_len] = r->protocol;
	memcpy(key + NFT_CGROUP_ID_LEN + addr_len + 4, &port_be, 2);
	return NFT_REJECTED_KEY_LEN(addr_len);
}

/* --- standing grants ----------------------------------------------------- */

struct standing_listing {
	nft_standing_fn fn;
	void *arg;
	int count;
	bool bad_key;
};

static int
standing_element_cb(struct nftnl_set_elem *e, void *data)
{
	struct standing_listing *listing = data;
	struct nft_standing_element el;
	uint32_t len = 0, end_len = 0;
	const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	const uint8_t *end =
		nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &end_len);
	uint64_t id_be;

	memset(&el, 0, sizeof el);
	if (key == NULL || end == NULL || end_len != len ||
	    (len != NFT_CGROUP_ID_LEN + 4 && len != NFT_CGROUP_ID_LEN + 16) ||
	    memcmp(key, end, NFT_CGROUP_ID_LEN) != 0) {
		listing->bad_key = true;
		return 0;
	}
	memcpy(&id_be, key, NFT_CGROUP_ID_LEN);
	el.cgroup_id = be64toh(id_be);
	el.first.family = el.last.family =
		len == NFT_CGROUP_ID_LEN + 4 ? AF_INET : AF_INET6;
	memcpy(el.first.bytes, key + NFT_CGROUP_ID_LEN, len - NFT_CGROUP_ID_LEN);
	memcpy(el.last.bytes, end + NFT_CGROUP_ID_LEN, len - NFT_CGROUP_ID_LEN);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		el.expires_ms =
			nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
		el.timeout_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
	listing->count++;
	if (listing->fn != NULL)
		listing->fn(&el, listing->arg);
	return 0;
}

static int
list_standing_set(struct nft_batch *b, const char *name,
		  struct standing_listing *listing)
{
	return dump_elements(b, name, standing_element_cb, listing);
}

int
nft_dump_standing(nft_standing_fn fn, void *arg, char *err, size_t errlen)
{
	struct standing_listing listing = {fn, arg, 0, false};
	struct nft_batch *b = nft_batch_new(err, errlen);
	int ret;

	if (b == NULL)
		return -errno;
	ret = list_standing_set(b, NFT_SET_STANDING4, &listing);
	if (ret == 0)
		ret = list_standing_set(b, NFT_SET_STANDING6, &listing);
	nft_batch_free(b);
	if (ret < 0) {
		nft_batch_reason(err, errlen, "listing the standing grants",
				 ret);
		return ret;
	}
	if (listing.bad_key) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen,
				 "nft gate: a standing set holds a key that "
				 "is not (cgroup . address range)");
		return -EPROTO;
	}
	return listing.count;
}

/* --- the table, its sets and chains -------------------------------------- */

static int
table_message_cb(const struct nlmsghdr *nlh, void *data)
{
	uint32_t *flags = data;
	struct nftnl_table *t = oom_check(nftnl_table_alloc());

	if (nftnl_table_nlmsg_parse(nlh, t) < 0) {
		nftnl_table_free(t);
		return MNL_CB_ERROR;
	}
	if (nftnl_table_is_set(t, NFTNL_TABLE_FLAGS))
		*flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
	nftnl_table_free(t);
	return MNL_CB_OK;
}

int
nft_dump_table_flags(struct nft_batch *b, uint32_t *flags)
{
	char buf[REQUEST_BUFFER_SIZE] = {0};
	struct nftnl_table *t = oom_check(nftnl_table_alloc());
	struct nlmsghdr *nlh;

	*flags = 0;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
				    NLM_F_ACK, nft_batch_dump_seq(b));
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return nft_batch_dump(b, nlh, table_message_cb, flags);
}

struct set_listing {
	void (*fn)(const struct nft_set_shape *, void *);
	void *arg;
};

static uint32_t
set_u32(const struct nftnl_set *s, uint16_t attr)
{
	return nftnl_set_is_set(s, attr) ? nftnl_set_get_u32(s, attr) : 0;
}

static int
set_counter_cb(struct nftnl_expr *e, void *data)
{
	bool *counter = data;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0)
		*counter = true;
	return 0;
}

static int
set_message_cb(const struct nlmsghdr *nlh, void *data)
{
	struct set_listing *listing = data;
	struct nftnl_set *s = oom_check(nftnl_set_alloc());
	struct nft_set_shape shape;

	if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	memset(&shape, 0, sizeof shape);
	if (nftnl_set_is_set(s, NFTNL_SET_NAME))
		snprintf(shape.name, sizeof shape.name, "%s",
			 nftnl_set_get_str(s, NFTNL_SET_NAME));
	shape.flags = set_u32(s, NFTNL_SET_FLAGS);
	shape.key_type = set_u32(s, NFTNL_SET_KEY_TYPE);
	shape.key_len = set_u32(s, NFTNL_SET_KEY_LEN);
	shape.size = set_u32(s, NFTNL_SET_DESC_SIZE);
	nftnl_set_expr_foreach(s, set_counter_cb, &shape.counter);
	nftnl_set_free(s);
	listing->fn(&shape, listing->arg);
	return MNL_CB_OK;
}

int
nft_dump_sets(struct nft_batch *b,
	      void (*fn)(const struct nft_set_shape *, void *), void *arg)
{
	char buf[REQUEST_BUFFER_SIZE] = {0};
	struct nftnl_set *s = oom_check(nftnl_set_alloc());
	struct set_listing listing = {fn, arg};
	struct nlmsghdr *nlh;

	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET,
				    NLM_F_DUMP, nft_batch_dump_seq(b));
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return nft_batch_dump(b, nlh, set_message_cb, &listing);
}

struct chain_listing {
	void (*fn)(const char *, void *);
	void *arg;
};

static int
chain_message_cb(const struct nlmsghdr *nlh, void *data)
{
	struct chain_listing *listing = data;
	struct nftnl_chain *c = oom_check(nftnl_chain_alloc());

	if (nftnl_chain_nlmsg_parse(nlh, c) < 0) {
		nftnl_chain_free(c);
		return MNL_CB_ERROR;
	}
	/* Not every kernel filters a chain dump by its table. A binding
	 * chain (the body of an anonymous "jump { ... }") belongs to its
	 * rule and goes with it. */
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_NAME) &&
	    nftnl_chain_is_set(c, NFTNL_CHAIN_TABLE) &&
	    strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), NFT_TABLE_NAME) ==
		    0 &&
	    !(nftnl_chain_is_set(c, NFTNL_CHAIN_FLAGS) &&
	      (nftnl_chain_get_u32(c, NFTNL_CHAIN_FLAGS) & NFT_CHAIN_BINDING)))
		listing->fn(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME),
			    listing->arg);
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

int
nft_dump_chains(struct nft_batch *b, void (*fn)(const char *, void *),
		void *arg)
{
	char buf[REQUEST_BUFFER_SIZE] = {0};
	struct nftnl_chain *c = oom_check(nftnl_chain_alloc());
	struct chain_listing listing = {fn, arg};
	struct nlmsghdr *nlh;

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET,
				    NLM_F_DUMP, nft_batch_dump_seq(b));
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	return nft_batch_dump(b, nlh, chain_message_cb, &listing);
}
