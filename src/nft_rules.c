/* nft_rules.c - the table's objects and rules, built with libnftnl. */
#include "config.h"

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
/* After netinet/in.h, which the kernel's headers defer to. */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "src/nft_exempt.h"
#include "src/nft_rules.h"
#include "src/nft_table.h"

#define oom_check nft_batch_oom_check

/* The kernel names an anonymous set when it creates it; rules find it by
 * the set id of the batch. */
#define SET_ANONYMOUS "__set%d"
/* nft's "dstnat" and "filter" hook priorities. */
#define PRIORITY_DSTNAT (-100)
#define PRIORITY_FILTER 0
/* Byte orders nft records in a set's user data (nftables enum byteorder). */
#define NFT_BYTEORDER_HOST 1
#define NFT_BYTEORDER_BIG 2

size_t
nft_rules_table_bytes(unsigned max_level, size_t n_exempt)
{
	/* The record rules of level 0 and of packets without a socket. */
	return (40 + NFT_RULES_PER_LEVEL * (size_t)max_level) *
		       NFT_BATCH_RULE_BYTES +
	       (2 * n_exempt + 2) * NFT_BATCH_ELEMENT_BYTES;
}

/* --- tables, chains and sets --------------------------------------------- */

void
nft_rules_table(struct nft_batch *b, uint16_t type, uint16_t flags,
		const char *label)
{
	struct nftnl_table *t = oom_check(nftnl_table_alloc());
	struct nlmsghdr *nlh;

	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME);
	nlh = nft_batch_message(b, type, flags, label);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nft_batch_next(b);
	nftnl_table_free(t);
}

static void
batch_chain(struct nft_batch *b, const char *name, const char *type,
	    int32_t prio)
{
	struct nftnl_chain *c = oom_check(nftnl_chain_alloc());
	struct nlmsghdr *nlh;

	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_OUT);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = nft_batch_message(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE,
				"creating a chain");
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nft_batch_next(b);
	nftnl_chain_free(c);
}

void
nft_rules_chains(struct nft_batch *b)
{
	batch_chain(b, NFT_CHAIN_NAT, "nat", PRIORITY_DSTNAT);
	batch_chain(b, NFT_CHAIN_GATE, "filter", PRIORITY_FILTER);
}

/* Records the key's byte order as nft does, so that nft prints the
 * elements of an interval set as networks. */
static void
set_key_byteorder(struct nftnl_set *s, uint32_t byteorder)
{
	struct nftnl_udata_buf *udata = oom_check(nftnl_udata_buf_alloc(64));

	nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_KEYBYTEORDER, byteorder);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(udata),
			   nftnl_udata_buf_len(udata));
	nftnl_udata_buf_free(udata);
}

static struct nftnl_set *
set_new(struct nft_batch *b, const char *name, uint32_t flags,
	uint32_t key_type, uint32_t key_len)
{
	struct nftnl_set *s = oom_check(nftnl_set_alloc());

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	nftnl_set_set_u32(s, NFTNL_SET_ID, nft_batch_new_set_id(b));
	return s;
}

static void
batch_set(struct nft_batch *b, struct nftnl_set *s, const char *label)
{
	struct nlmsghdr *nlh;

	nlh = nft_batch_message(b, NFT_MSG_NEWSET, NLM_F_CREATE, label);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nft_batch_next(b);
}

/* Adds elements to a set created earlier in the batch, at most
 * NFT_BATCH_ELEMENTS_PER_MESSAGE to a message. */
struct element_writer {
	struct nft_batch *b;
	const struct nftnl_set *set;
	const char *label;
	struct nftnl_set *pending; /* the elements of the next message */
	size_t n_pending;
};

static void
elements_flush(struct element_writer *w)
{
	struct nlmsghdr *nlh;

	if (w->pending == NULL)
		return;
	nlh = nft_batch_message(w->b, NFT_MSG_NEWSETELEM, NLM_F_CREATE,
				w->label);
	nftnl_set_elems_nlmsg_build_payload(nlh, w->pending);
	nft_batch_next(w->b);
	nftnl_set_free(w->pending);
	w->pending = NULL;
	w->n_pending = 0;
}

/* open_interval marks a range that runs to the top of the address space
 * (it has no end element), as nft does in the element's user data. */
static void
elements_add(struct element_writer *w, const void *key, uint32_t len,
	     uint32_t flags, bool open_interval)
{
	struct nftnl_set_elem *e = oom_check(nftnl_set_elem_alloc());

	if (w->pending == NULL) {
		w->pending = oom_check(nftnl_set_alloc());
		nftnl_set_set_str(w->pending, NFTNL_SET_TABLE, NFT_TABLE_NAME);
		nftnl_set_set_str(w->pending, NFTNL_SET_NAME,
				  nftnl_set_get_str(w->set, NFTNL_SET_NAME));
		nftnl_set_set_u32(w->pending, NFTNL_SET_ID,
				  nftnl_set_get_u32(w->set, NFTNL_SET_ID));
	}
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
	if (flags != 0)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, flags);
	if (open_interval) {
		struct nftnl_udata_buf *udata =
			oom_check(nftnl_udata_buf_alloc(16));

		nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_ELEM_FLAGS,
				    NFTNL_SET_ELEM_F_INTERVAL_OPEN);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA,
				   nftnl_udata_buf_data(udata),
				   nftnl_udata_buf_len(udata));
		nftnl_udata_buf_free(udata);
	}
	nftnl_set_elem_add(w->pending, e);
	if (++w->n_pending == NFT_BATCH_ELEMENTS_PER_MESSAGE)
		elements_flush(w);
}

/* A counter on every element ("counter;" in nft's set syntax): the
 * kernel gives each element added without one a copy of it, and a lookup
 * that finds the element counts the packet there. */
static void
set_counter(struct nftnl_set *s)
{
	nftnl_set_add_expr(s, oom_check(nftnl_expr_alloc("counter")));
}

static void
batch_allow_set(struct nft_batch *b, const char *name, uint32_t key_type,
		size_t addr_len, uint32_t size)
{
	struct nftnl_set *s = set_new(b, name, NFT_SET_TIMEOUT, key_type,
				      (uint32_t)(NFT_CGROUP_ID_LEN + addr_len));

	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	set_counter(s);
	set_key_byteorder(s, 0); /* a concatenation has none, as in nft */
	batch_set(b, s, "creating a grant set");
	nftnl_set_free(s);
}

void
nft_rules_allow_sets(struct nft_batch *b, uint32_t set_size)
{
	batch_allow_set(b, NFT_SET_ALLOW4, NFT_TYPE_ALLOW4, 4, set_size);
	batch_allow_set(b, NFT_SET_ALLOW6, NFT_TYPE_ALLOW6, 16, set_size);
}

/* A set the packet path fills (NFT_SET_EVAL, nft's "dynamic"), with a
 * counter and a timeout for each element. */
static void
batch_rejected_set(struct nft_batch *b, const char *name, uint32_t key_type,
		   size_t addr_len)
{
	struct nftnl_set *s =
		set_new(b, name, NFT_SET_TIMEOUT | NFT_SET_EVAL, key_type,
			(uint32_t)NFT_REJECTED_KEY_LEN(addr_len));

	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, NFT_REJECTED_SET_SIZE);
	nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, NFT_REJECTED_TIMEOUT_MS);
	set_counter(s);
	set_key_byteorder(s, 0);
	batch_set(b, s, "creating a set of rejected connections");
	nftnl_set_free(s);
}

void
nft_rules_rejected_sets(struct nft_batch *b)
{
	batch_rejected_set(b, NFT_SET_REJECTED4, NFT_TYPE_REJECTED4, 4);
	batch_rejected_set(b, NFT_SET_REJECTED6, NFT_TYPE_REJECTED6, 16);
}

/* An interval set on a concatenation (the kernel's pipapo set) must say
 * so (NFT_SET_CONCAT) and give the length of each field, as nft does for
 * "flags interval" on "cgroupsv2 . ipv4_addr". */
static void
batch_standing_set(struct nft_batch *b, const char *name, uint32_t key_type,
		   size_t addr_len, uint32_t size)
{
	struct nftnl_set *s =
		set_new(b, name, NFT_SET_STANDING_FLAGS, key_type,
			(uint32_t)(NFT_CGROUP_ID_LEN + addr_len));
	/* Zero-terminated: libnftnl counts the fields up to the first 0. */
	uint8_t fields[3] = {NFT_CGROUP_ID_LEN, (uint8_t)addr_len, 0};

	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, 2);
	set_key_byteorder(s, 0);
	batch_set(b, s, "creating a standing grant set");
	nftnl_set_free(s);
}

void
nft_rules_standing_sets(struct nft_batch *b, uint32_t set_size)
{
	batch_standing_set(b, NFT_SET_STANDING4, NFT_TYPE_ALLOW4, 4, set_size);
	batch_standing_set(b, NFT_SET_STANDING6, NFT_TYPE_ALLOW6, 16, set_size);
}

/* An anonymous constant set of n one-byte values of key_type, looked up
 * by the rule that follows it in the batch; creating and filling label
 * its messages. Returns its set id. */
static uint32_t
batch_byte_set(struct nft_batch *b, uint32_t key_type, uint32_t byteorder,
	       const uint8_t *values, size_t n, const char *creating,
	       const char *filling)
{
	struct nftnl_set *s =
		set_new(b, SET_ANONYMOUS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT,
			key_type, 1);
	uint32_t id = nftnl_set_get_u32(s, NFTNL_SET_ID);
	struct element_writer w = {b, s, filling, NULL, 0};
	size_t i;

	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, (uint32_t)n);
	set_key_byteorder(s, byteorder);
	batch_set(b, s, creating);
	for (i = 0; i < n; i++)
		elements_add(&w, &values[i], 1, 0, false);
	elements_flush(&w);
	nftnl_set_free(s);
	return id;
}

/* Anonymous constant set { tcp, udp }. Returns its set id. */
static uint32_t
batch_tcp_udp_set(struct nft_batch *b)
{
	static const uint8_t protocols[] = {IPPROTO_TCP, IPPROTO_UDP};

	return batch_byte_set(b, NFT_TYPE_INET_PROTOCOL, NFT_BYTEORDER_HOST,
			      protocols, sizeof protocols,
			      "creating the set { tcp, udp }",
			      "filling the set { tcp, udp }");
}

static void
batch_exempt_set(struct nft_batch *b, const char *name, int family,
		 const struct ip_prefix *exempt, size_t n)
{
	uint32_t len = family == AF_INET ? 4 : 16;
	struct nftnl_set *s = set_new(
		b, name, NFT_SET_INTERVAL,
		family == AF_INET ? NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR, len);
	struct element_writer w = {b, s, "adding the exempt networks", NULL, 0};
	struct nft_interval_element *elements;
	size_t n_elements = nft_exempt_elements(exempt, n, family, &elements);
	size_t i;

	set_key_byteorder(s, NFT_BYTEORDER_BIG);
	batch_set(b, s, "creating an exempt set");
	for (i = 0; i < n_elements; i++)
		elements_add(&w, elements[i].key, len,
			     elements[i].end ? NFT_SET_ELEM_INTERVAL_END : 0,
			     elements[i].open);
	elements_flush(&w);
	free(elements);
	nftnl_set_free(s);
}

void
nft_rules_exempt_sets(struct nft_batch *b, const struct ip_prefix *exempt,
		      size_t n)
{
	batch_exempt_set(b, NFT_SET_EXEMPT4, AF_INET, exempt, n);
	batch_exempt_set(b, NFT_SET_EXEMPT6, AF_INET6, exempt, n);
}

/* --- rules --------------------------------------------------------------- */

static struct nftnl_expr *
rule_expr(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = oom_check(nftnl_expr_alloc(name));

	nftnl_rule_add_expr(r, e);
	return e;
}

static void
load_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = rule_expr(r, "meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void
compare(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = rule_expr(r, "cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void
load_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len,
	     uint32_t dreg)
{
	struct nftnl_expr *e = rule_expr(r, "payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

static void
lookup(struct nftnl_rule *r, const char *set, uint32_t set_id)
{
	struct nftnl_expr *e = rule_expr(r, "lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (set_id != 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
}

static void
accept_verdict(struct nftnl_rule *r)
{
	struct nftnl_expr *e = rule_expr(r, "immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
}

/* meta nfproto ipv4/ipv6: in an inet table, what nft puts before any
 * network header match. */
static void
match_nfproto(struct nftnl_rule *r, int family)
{
	uint8_t proto = family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;

	load_meta(r, NFT_META_NFPROTO);
	compare(r, NFT_CMP_EQ, &proto, sizeof proto);
}

/* ip daddr / ip6 daddr into register dreg. */
static void
load_daddr(struct nftnl_rule *r, int family, uint32_t dreg)
{
	if (family == AF_INET)
		load_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, dreg);
	else
		load_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, dreg);
}

/* ct <key> & <mask> != 0 (op NFT_CMP_NEQ: any of the bits set) or
 * == 0 (op NFT_CMP_EQ: none set); key NFT_CT_STATE or NFT_CT_STATUS. */
static void
match_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t mask, uint32_t op)
{
	uint32_t zero = 0;
	struct nftnl_expr *e;

	e = rule_expr(r, "ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	e = rule_expr(r, "bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof mask);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
	compare(r, op, &zero, sizeof zero);
}

/* counter reject with icmpx admin-prohibited: the app sees "No route to
 * host" at once, not a timeout. */
static void
counter_reject(struct nftnl_rule *r)
{
	struct nftnl_expr *e;

	rule_expr(r, "counter");
	e = rule_expr(r, "reject");
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE,
			  NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
}

/* meta l4proto { tcp, udp } th dport <port> */
static void
match_tcp_udp_dport(struct nftnl_rule *r, uint32_t set_id, uint16_t port)
{
	uint16_t port_be = htons(port);

	load_meta(r, NFT_META_L4PROTO);
	lookup(r, SET_ANONYMOUS, set_id);
	load_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
	compare(r, NFT_CMP_EQ, &port_be, sizeof port_be);
}

static struct nftnl_rule *
rule_new(const char *chain)
{
	struct nftnl_rule *r = oom_check(nftnl_rule_alloc());

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	return r;
}

/* Appends r to its chain, or inserts it before the rule with handle
 * before_handle when that is not 0. Frees r. */
static void
batch_rule(struct nft_batch *b, struct nftnl_rule *r, uint64_t before_handle,
	   const char *label)
{
	uint16_t flags = NLM_F_CREATE | NLM_F_APPEND;
	struct nlmsghdr *nlh;

	if (before_handle != 0) {
		/* Without NLM_F_APPEND the position means "before". */
		nftnl_rule_set_u64(r, NFTNL_RULE_POSITION, before_handle);
		flags = NLM_F_CREATE;
	}
	nlh = nft_batch_message(b, NFT_MSG_NEWRULE, flags, label);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nft_batch_next(b);
	nftnl_rule_free(r);
}

/* meta mark != <upstream mark> meta l4proto { tcp, udp } th dport 53
 *	redirect to :<dns port> */
static void
batch_redirect_rule(struct nft_batch *b, const struct nft_rules_params *p)
{
	uint32_t set_id = batch_tcp_udp_set(b);
	struct nftnl_rule *r = rule_new(NFT_CHAIN_NAT);
	uint16_t port_be = htons(p->dns_port);
	struct nftnl_expr *e;

	load_meta(r, NFT_META_MARK);
	compare(r, NFT_CMP_NEQ, &p->upstream_mark, sizeof p->upstream_mark);
	match_tcp_udp_dport(r, set_id, 53);
	e = rule_expr(r, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &port_be, sizeof port_be);
	e = rule_expr(r, "redir");
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_FLAGS,
			   NF_NAT_RANGE_PROTO_SPECIFIED);
	batch_rule(b, r, 0, "adding the DNS redirect rule");
}

/* meta l4proto { tcp, udp } th dport 53 meta mark != <upstream mark>
 *	ct direction original ct status ! dnat
 *	counter reject with icmpx admin-prohibited
 * DNS that is neither redirected nor the daemon's own must not leave. It
 * happens when an app's query reuses the 4-tuple of a conntrack entry the
 * daemon's upstream query made (same source port, same server): the
 * entry is established and its NAT was decided, so the query would pass
 * unredirected, past the block lists. First in the chain, before the
 * established rule that would accept it. */
static void
batch_dns_bypass_rule(struct nft_batch *b, const struct nft_rules_params *p)
{
	uint32_t set_id = batch_tcp_udp_set(b);
	struct nftnl_rule *r = rule_new(NFT_CHAIN_GATE);
	uint8_t original = IP_CT_DIR_ORIGINAL;
	struct nftnl_expr *e;

	match_tcp_udp_dport(r, set_id, 53);
	load_meta(r, NFT_META_MARK);
	compare(r, NFT_CMP_NEQ, &p->upstream_mark, sizeof p->upstream_mark);
	/* Only queries: a local service's reply to a peer whose source port
	 * is 53 has dport 53 too, and is none of our business. */
	e = rule_expr(r, "ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_DIRECTION);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	compare(r, NFT_CMP_EQ, &original, sizeof original);
	match_ct_bits(r, NFT_CT_STATUS, IPS_DST_NAT, NFT_CMP_EQ);
	counter_reject(r);
	batch_rule(b, r, 0, "adding the rule against unredirected DNS");
}

/* ct state established,related accept */
static void
batch_established_rule(struct nft_batch *b)
{
	struct nftnl_rule *r = rule_new(NFT_CHAIN_GATE);

	match_ct_bits(r, NFT_CT_STATE,
		      NF_CT_STATE_BIT(IP_CT_ESTABLISHED) |
			      NF_CT_STATE_BIT(IP_CT_RELATED),
		      NFT_CMP_NEQ);
	accept_verdict(r);
	batch_rule(b, r, 0, "adding the established/related rule");
}

/* oif "lo" accept: the loopback device is number 1 in every namespace. */
static void
batch_loopback_rule(struct nft_batch *b)
{
	struct nftnl_rule *r = rule_new(NFT_CHAIN_GATE);
	uint32_t lo = 1;

	load_meta(r, NFT_META_OIF);
	compare(r, NFT_CMP_EQ, &lo, sizeof lo);
	accept_verdict(r);
	batch_rule(b, r, 0, "adding the loopback rule");
}

/* meta mark <upstream mark> accept: the daemon's own upstream queries. */
static void
batch_upstream_rule(struct nft_batch *b, const struct nft_rules_params *p)
{
	struct nftnl_rule *r = rule_new(NFT_CHAIN_GATE);

	load_meta(r, NFT_META_MARK);
	compare(r, NFT_CMP_EQ, &p->upstream_mark, sizeof p->upstream_mark);
	accept_verdict(r);
	batch_rule(b, r, 0, "adding the upstream mark rule");
}

/* icmpv6 type { nd-router-solicit, nd-neighbor-solicit,
 *	nd-neighbor-advert, mld-listener-report, mld2-listener-report } accept
 * The kernel sends these itself (no app socket, no conntrack state): a
 * gate that rejected them would leave IPv6 without neighbours. */
static void
batch_neighbour_discovery_rule(struct nft_batch *b)
{
	static const uint8_t types[] = {
		MLD_LISTENER_REPORT, ND_ROUTER_SOLICIT, ND_NEIGHBOR_SOLICIT,
		ND_NEIGHBOR_ADVERT, 143 /* MLDv2 listener report */
	};
	uint32_t set_id = batch_byte_set(
		b, NFT_TYPE_ICMPV6_TYPE, NFT_BYTEORDER_BIG, types, sizeof types,
		"creating the set of neighbour discovery types",
		"filling the set of neighbour discovery types");
	struct nftnl_rule *r = rule_new(NFT_CHAIN_GATE);
	uint8_t icmpv6 = IPPROTO_ICMPV6;

	match_nfproto(r, AF_INET6);
	load_meta(r, NFT_META_L4PROTO);
	compare(r, NFT_CMP_EQ, &icmpv6, sizeof icmpv6);
	load_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
	lookup(r, SET_ANONYMOUS, set_id);
	accept_verdict(r);
	batch_rule(b, r, 0, "adding the neighbour discovery rule");
}

/* ip daddr 127.0.0.1 meta l4proto { tcp, udp } th dport <dns port> accept
 * (::1 for IPv6): a redirected query keeps its original output device, so
 * only its new destination tells it apart. */
static void
batch_redirected_dns_rule(struct nft_batch *b, const struct nft_rules_params *p,
			  int family)
{
	uint32_t set_id = batch_tcp_udp_set(b);
	struct nftnl_rule *r = rule_new(NFT_CHAIN_GATE);

	match_nfproto(r, family);
	load_daddr(r, family, NFT_REG_1);
	if (family == AF_INET) {
		struct in_addr loopback = {htonl(INADDR_LOOPBACK)};

		compare(r, NFT_CMP_EQ, &loopback, sizeof loopback);
	} else {
		compare(r, NFT_CMP_EQ, &in6addr_loopback,
			sizeof in6addr_loopback);
	}
	match_tcp_udp_dport(r, set_id, p->dns_port);
	accept_verdict(r);
	batch_rule(b, r, 0, "adding the redirected DNS rule");
}

/* ip daddr @exempt4 accept / ip6 daddr @exempt6 accept */
static void
batch_exempt_rule(struct nft_batch *b, int family)
{
	struct nftnl_rule *r = rule_new(NFT_CHAIN_GATE);

	match_nfproto(r, family);
	load_daddr(r, family, NFT_REG_1);
	lookup(r, family == AF_INET ? NFT_SET_EXEMPT4 : NFT_SET_EXEMPT6, 0);
	accept_verdict(r);
	batch_rule(b, r, 0, "adding an exempt rule");
}

/* socket cgroupv2 level N => register 1 (the 8-byte cgroup id fills
 * registers 1.0-1.1). */
static void
load_cgroup(struct nftnl_rule *r, unsigned level)
{
	struct nftnl_expr *e = rule_expr(r, "socket");

	nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_KEY, NFT_SOCKET_CGROUPV2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_LEVEL, level);
}

/* socket cgroupv2 level N . ip daddr @allow4 accept (ip6/@allow6 for IPv6):
 * the cgroup id, then the address at 32-bit register 2 of register 1,
 * which is the concatenated key. With standing, the same against
 * standing4/standing6, whose keys hold the cgroup id in network byte
 * order: nft converts it first, so that `nft list` and nft's own
 * elements agree with ours. */
static void
batch_level_rule(struct nft_batch *b, unsigned level, int family,
		 bool standing, uint64_t before_handle)
{
	struct nftnl_rule *r = rule_new(NFT_CHAIN_GATE);
	const char *set;
	struct nftnl_expr *e;

	match_nfproto(r, family);
	load_cgroup(r, level);
	if (standing) {
		e = rule_expr(r, "byteorder");
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP,
				   NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN,
				   NFT_CGROUP_ID_LEN);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE,
				   NFT_CGROUP_ID_LEN);
	}
	load_daddr(r, family, NFT_REG32_02);
	if (standing)
		set = family == AF_INET ? NFT_SET_STANDING4 : NFT_SET_STANDING6;
	else
		set = family == AF_INET ? NFT_SET_ALLOW4 : NFT_SET_ALLOW6;
	lookup(r, set, 0);
	accept_verdict(r);
	batch_rule(b, r, before_handle,
		   standing ? "adding a cgroup level rule for standing grants"
			    : "adding a cgroup level rule");
}

/* The rule that records a rejected connection and rejects it:
 *   meta l4proto { tcp, udp } update @rejected4 { socket cgroupv2 level N
 *	. ip daddr . meta l4proto . th dport } counter reject with icmpx
 *	admin-prohibited
 * (with_port), or for any protocol the same with the port 0, and with
 * the cgroup id 0 for level NFT_RULES_NO_SOCKET. When the set is full the
 * update fails, the rule stops there and the packet goes on to the next
 * rule, which rejects it too: a full set records nothing, it never lets
 * anything through. The key's fields follow each other in 32-bit
 * registers from register 1, as for a grant. */
#define NFT_RULES_NO_SOCKET (NFT_LEVEL_LIMIT + 1)

static void
batch_record_rule(struct nft_batch *b, unsigned level, int family,
		  bool with_port, uint64_t before_handle)
{
	uint32_t set_id = with_port ? batch_tcp_udp_set(b) : 0;
	struct nftnl_rule *r = rule_new(NFT_CHAIN_GATE);
	/* After the cgroup id (2 registers) and the address (1 or 4). */
	uint32_t proto_reg = family == AF_INET ? NFT_REG32_03 : NFT_REG32_06;
	struct nftnl_expr *e;

	if (with_port) {
		load_meta(r, NFT_META_L4PROTO);
		lookup(r, SET_ANONYMOUS, set_id);
	}
	match_nfproto(r, family);
	if (level == NFT_RULES_NO_SOCKET) {
		uint64_t none = 0;

		e = rule_expr(r, "immediate");
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &none, sizeof none);
	} else {
		load_cgroup(r, level);
	}
	load_daddr(r, family, NFT_REG32_02);
	e = rule_expr(r, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, proto_reg);
	if (with_port) {
		load_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2,
			     proto_reg + 1);
	} else {
		uint16_t none = 0;

		e = rule_expr(r, "immediate");
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, proto_reg + 1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &none, sizeof none);
	}
	e = rule_expr(r, "dynset");
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME,
			   family == AF_INET ? NFT_SET_REJECTED4
					     : NFT_SET_REJECTED6);
	counter_reject(r);
	batch_rule(b, r, before_handle, "adding a rule recording rejections");
}

/* The four record rules of one level (or of NFT_RULES_NO_SOCKET). */
static void
batch_record_rules(struct nft_batch *b, unsigned level, uint64_t before_handle)
{
	batch_record_rule(b, level, AF_INET, true, before_handle);
	batch_record_rule(b, level, AF_INET, false, before_handle);
	batch_record_rule(b, level, AF_INET6, true, before_handle);
	batch_record_rule(b, level, AF_INET6, false, before_handle);
}

static void
batch_allow_levels(struct nft_batch *b, unsigned from, unsigned to,
		   uint64_t before_handle)
{
	unsigned level;

	for (level = from; level <= to; level++) {
		batch_level_rule(b, level, AF_INET, false, before_handle);
		batch_level_rule(b, level, AF_INET6, false, before_handle);
	}
}

static void
batch_standing_levels(struct nft_batch *b, unsigned from, unsigned to,
		      uint64_t before_handle)
{
	unsigned level;

	for (level = from; level <= to; level++) {
		batch_level_rule(b, level, AF_INET, true, before_handle);
		batch_level_rule(b, level, AF_INET6, true, before_handle);
	}
}

/* Deepest first: the first that matches records the socket's deepest
 * cgroup the gate knows, and rejects. */
static void
batch_record_levels(struct nft_batch *b, unsigned from, unsigned to,
		    uint64_t before_handle)
{
	unsigned level;

	for (level = to + 1; level-- > from;)
		batch_record_rules(b, level, before_handle);
}

void
nft_rules_levels(struct nft_batch *b, unsigned from, unsigned to,
		 const struct nft_rules_places *at)
{
	batch_allow_levels(b, from, to, at->established);
	batch_standing_levels(b, from, to, at->records);
	batch_record_levels(b, from, to, at->records);
}

/* counter reject with icmpx admin-prohibited */
static void
batch_reject_rule(struct nft_batch *b)
{
	struct nftnl_rule *r = rule_new(NFT_CHAIN_GATE);

	counter_reject(r);
	batch_rule(b, r, 0, "adding the reject rule");
}

void
nft_rules_rules(struct nft_batch *b, const struct nft_rules_params *p)
{
	batch_redirect_rule(b, p);

	batch_dns_bypass_rule(b, p);
	batch_allow_levels(b, 1, p->max_level, 0);
	batch_established_rule(b);
	batch_loopback_rule(b);
	batch_upstream_rule(b, p);
	batch_neighbour_discovery_rule(b);
	batch_redirected_dns_rule(b, p, AF_INET);
	batch_redirected_dns_rule(b, p, AF_INET6);
	batch_exempt_rule(b, AF_INET);
	batch_exempt_rule(b, AF_INET6);
	batch_standing_levels(b, 1, p->max_level, 0);
	/* Level 0, the root cgroup, which every socket is in. */
	batch_record_levels(b, 0, p->max_level, 0);
	batch_record_rules(b, NFT_RULES_NO_SOCKET, 0);
	batch_reject_rule(b);
}
