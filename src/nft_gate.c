/* nft_gate.c - the table "inet dnsgate", built and changed in batches. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
/* After netinet/in.h, which the kernel's headers defer to. */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "log.h"
#include "nft_gate.h"
#include "xmalloc.h"

#define CHAIN_NAT "nat-output"
#define CHAIN_GATE "gate-output"
#define SET_ALLOW4 "allow4"
#define SET_ALLOW6 "allow6"
#define SET_EXEMPT4 "exempt4"
#define SET_EXEMPT6 "exempt6"
/* The kernel names an anonymous set when it creates it; rules find it by
 * the set id of the batch. */
#define SET_ANONYMOUS "__set%d"
/* nft's "dstnat" and "filter" hook priorities. */
#define PRIORITY_DSTNAT (-100)
#define PRIORITY_FILTER 0

/* nftables' datatype numbers (nftables src/datatype.h), so that `nft list`
 * can print the keys; a concatenation chains them 6 bits apart. */
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_IP6ADDR 8
#define NFT_TYPE_INET_PROTOCOL 12
#define NFT_TYPE_ICMPV6_TYPE 29
#define NFT_TYPE_CGROUPV2 46
#define NFT_TYPE_BITS 6
/* Byte orders nft records in a set's user data (nftables enum byteorder). */
#define NFT_BYTEORDER_HOST 1
#define NFT_BYTEORDER_BIG 2

/* The kernel's limit for NFTA_SOCKET_LEVEL. */
#define GATE_LEVEL_LIMIT 255
#define CGROUP_ID_LEN 8
#define RECV_BUFFER_SIZE 16384
#define REQUEST_BUFFER_SIZE 1024
/* Bytes reserved in a batch buffer: generous upper bounds, so the buffer
 * never overflows (libnftnl writes attributes without bounds checks). */
#define BATCH_FIXED_BYTES 16384
#define BATCH_RULE_BYTES 1024
#define BATCH_ELEMENT_BYTES 96
#define BATCH_ACKS_PER_DEFAULT_RCVBUF 128
#define BATCH_BYTES_PER_DEFAULT_SNDBUF 65536
/* An element list is one netlink attribute, whose length has 16 bits:
 * longer lists go in several messages (of the same batch). */
#define ELEMENTS_PER_MESSAGE 512
#define ACK_RCVBUF_BYTES 2048

/* One NETLINK_NETFILTER socket and the batch being built on it. Every
 * message asks for an ack; labels[i] says what message first_seq + i does,
 * so an error can name it. */
struct nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq; /* next sequence number */
	char *buf;
	size_t bufsize;
	struct mnl_nlmsg_batch *batch;
	uint32_t begin_seq; /* the batch begin message */
	uint32_t first_seq; /* the first message that asks for an ack */
	uint32_t next_set_id;
	bool overflow;
	size_t used; /* bytes the last batch wrote into buf */
	const char **labels;
	size_t n_labels;
	size_t cap_labels;
};

struct gate {
	struct nl nl;
	uint16_t dns_port;
	uint32_t upstream_mark;
	unsigned level;         /* gate rules exist for levels 1..level */
	uint64_t reject_handle; /* new level rules go before this rule */
};

/* One address range of an exempt set, both ends included, in network byte
 * order (IPv4 uses bytes 0..3 and leaves the rest zero). */
struct range {
	uint8_t first[16];
	uint8_t last[16];
};

static void *
oom_check(void *p)
{
	if (p == NULL) {
		fprintf(stderr, "dnsgate: out of memory in libnftnl\n");
		abort();
	}
	return p;
}

static void
set_reason(char *err, size_t errlen, const char *what, int error)
{
	const char *hint = "";

	if (err == NULL || errlen == 0)
		return;
	switch (-error) {
	case EPERM:
		hint = ": dnsgated needs CAP_NET_ADMIN";
		break;
	case ENFILE:
		hint = " (the set is full)";
		break;
	case EOPNOTSUPP:
		hint = " (the kernel lacks this nftables feature)";
		break;
	case ENOBUFS:
		hint = " (netlink replies were lost)";
		break;
	default:
		break;
	}
	snprintf(err, errlen, "netlink: %s: %s%s", what, strerror(-error),
		 hint);
}

/* --- the netlink socket -------------------------------------------------- */

static int
nl_open(struct nl *nl, char *err, size_t errlen)
{
	int on = 1;

	memset(nl, 0, sizeof *nl);
	nl->sock = mnl_socket_open(NETLINK_NETFILTER);
	if (nl->sock == NULL) {
		int error = -errno;

		set_reason(err, errlen, "opening a netfilter socket", error);
		return error;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int error = -errno;

		set_reason(err, errlen, "binding the netfilter socket", error);
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return error;
	}
	/* Errors then carry only the header of the failed message, so a
	 * large batch cannot make an error reply too big to read. */
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &on, sizeof on);
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

static void
nl_close(struct nl *nl)
{
	if (nl->batch != NULL)
		mnl_nlmsg_batch_stop(nl->batch);
	if (nl->sock != NULL)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	free(nl->labels);
	memset(nl, 0, sizeof *nl);
}

static void
nl_grow_buffer(struct nl *nl, int force_option, int option, size_t bytes)
{
	int fd = mnl_socket_get_fd(nl->sock);
	int size = bytes > INT_MAX / 2 ? INT_MAX / 2 : (int)bytes;

	/* Beyond net.core.[rw]mem_max only with CAP_NET_ADMIN, which a
	 * process changing nftables has anyway. */
	if (setsockopt(fd, SOL_SOCKET, force_option, &size, sizeof size) < 0)
		setsockopt(fd, SOL_SOCKET, option, &size, sizeof size);
}

/* A batch is one sendmsg, refused when larger than the send buffer; and
 * the kernel queues an ack for every message before sendmsg returns, so
 * the receive buffer must hold them all. */
static void
nl_reserve(struct nl *nl, size_t batch_bytes, size_t n_acks)
{
	if (batch_bytes > BATCH_BYTES_PER_DEFAULT_SNDBUF)
		nl_grow_buffer(nl, SO_SNDBUFFORCE, SO_SNDBUF, batch_bytes);
	if (n_acks > BATCH_ACKS_PER_DEFAULT_RCVBUF)
		nl_grow_buffer(nl, SO_RCVBUFFORCE, SO_RCVBUF,
			       n_acks * ACK_RCVBUF_BYTES);
}

/* --- batches ------------------------------------------------------------- */

/* Starts a batch that needs at most size bytes. Buffer and batch are kept
 * between batches, so the per-query path allocates nothing once the buffer
 * is big enough. */
static void
batch_start(struct nl *nl, size_t size)
{
	/* Room for the messages, the small ones every batch has, and one
	 * reserve past the limit: mnl_nlmsg_batch_next() only notices a
	 * message once it has gone beyond the limit. */
	size_t want = size + 2 * BATCH_FIXED_BYTES;

	/* libmnl 1.0.4 leaves attribute padding as it finds it: start from
	 * zeros, so no stale byte goes to the kernel. */
	if (nl->bufsize < want || nl->overflow) {
		if (nl->batch != NULL)
			mnl_nlmsg_batch_stop(nl->batch);
		if (nl->bufsize < want) {
			free(nl->buf);
			nl->buf = xcalloc(1, want);
			nl->bufsize = want;
		} else {
			memset(nl->buf, 0, nl->bufsize);
		}
		nl->batch = oom_check(mnl_nlmsg_batch_start(
			nl->buf, nl->bufsize - BATCH_FIXED_BYTES));
	} else {
		memset(nl->buf, 0, nl->used);
		mnl_nlmsg_batch_reset(nl->batch);
	}
	nl->used = 0;
	nl->overflow = false;
	nl->n_labels = 0;
	nl->next_set_id = 1;
	nl->begin_seq = nl->seq++;
	nftnl_batch_begin(mnl_nlmsg_batch_current(nl->batch), nl->begin_seq);
	mnl_nlmsg_batch_next(nl->batch);
	nl->first_seq = nl->seq;
}

/* Begins the next message of the batch; the caller adds its payload and
 * calls batch_next(). */
static struct nlmsghdr *
batch_message(struct nl *nl, uint16_t type, uint16_t flags, const char *label)
{
	if (nl->n_labels == nl->cap_labels) {
		nl->cap_labels = nl->cap_labels == 0 ? 16 : nl->cap_labels * 2;
		nl->labels = xreallocarray(nl->labels, nl->cap_labels,
					   sizeof *nl->labels);
	}
	nl->labels[nl->n_labels++] = label;
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(nl->batch), type,
				     NFPROTO_INET, flags | NLM_F_ACK,
				     nl->seq++);
}

static void
batch_next(struct nl *nl)
{
	if (!mnl_nlmsg_batch_next(nl->batch))
		nl->overflow = true;
}

/* Reads the replies to the batch: an ack for every message, or an error.
 * Returns 0 or the first error, with the failed message named in err. */
static int
batch_wait(struct nl *nl, char *err, size_t errlen)
{
	char buf[RECV_BUFFER_SIZE];
	size_t acked = 0;
	int error = 0;
	uint32_t failed_seq = 0;

	while (acked < nl->n_labels && error == 0) {
		ssize_t len = mnl_socket_recvfrom(nl->sock, buf, sizeof buf);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int left = (int)len;

		if (len < 0) {
			error = -errno;
			set_reason(err, errlen, "reading the kernel's reply",
				   error);
			return error;
		}
		for (; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;

			/* Replies to an earlier, failed batch may still be
			 * queued; they are not ours. */
			if (nlh->nlmsg_seq - nl->begin_seq >=
				    nl->seq - nl->begin_seq ||
			    nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error == 0) {
				acked++;
			} else if (error == 0) {
				error = e->error;
				failed_seq = nlh->nlmsg_seq;
			}
		}
	}
	if (error != 0) {
		/* Every reply is queued by now: drop the rest, so the next
		 * batch starts on an empty socket. */
		while (recv(mnl_socket_get_fd(nl->sock), buf, sizeof buf,
			    MSG_DONTWAIT) > 0)
			;
		/* A refusal of the whole batch (no CAP_NET_ADMIN, or a
		 * failed commit) comes with the sequence number of its
		 * begin message. */
		if (failed_seq - nl->first_seq < nl->n_labels)
			set_reason(err, errlen,
				   nl->labels[failed_seq - nl->first_seq],
				   error);
		else
			set_reason(err, errlen, "changing the nftables ruleset",
				   error);
	}
	return error;
}

/* Ends the batch, sends it and waits for the kernel's verdict on it. */
static int
batch_send(struct nl *nl, char *err, size_t errlen)
{
	ssize_t sent;

	nftnl_batch_end(mnl_nlmsg_batch_current(nl->batch), nl->seq++);
	batch_next(nl);
	if (nl->overflow) {
		nl->used = nl->bufsize;
		set_reason(err, errlen, "building the batch", -EMSGSIZE);
		return -EMSGSIZE;
	}
	nl->used = mnl_nlmsg_batch_size(nl->batch);
	nl_reserve(nl, nl->used, nl->n_labels);
	sent = mnl_socket_sendto(nl->sock, mnl_nlmsg_batch_head(nl->batch),
				 mnl_nlmsg_batch_size(nl->batch));
	if (sent < 0) {
		int error = -errno;

		set_reason(err, errlen, "sending the batch", error);
		return error;
	}
	return batch_wait(nl, err, errlen);
}

/* --- tables, chains and sets --------------------------------------------- */

static void
batch_table(struct nl *nl, uint16_t type, uint16_t flags, const char *label)
{
	struct nftnl_table *t = oom_check(nftnl_table_alloc());
	struct nlmsghdr *nlh;

	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, GATE_TABLE_NAME);
	nlh = batch_message(nl, type, flags, label);
	nftnl_table_nlmsg_build_payload(nlh, t);
	batch_next(nl);
	nftnl_table_free(t);
}

static void
batch_chain(struct nl *nl, const char *name, const char *type, int32_t prio)
{
	struct nftnl_chain *c = oom_check(nftnl_chain_alloc());
	struct nlmsghdr *nlh;

	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, GATE_TABLE_NAME);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_OUT);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = batch_message(nl, NFT_MSG_NEWCHAIN, NLM_F_CREATE,
			    "creating a chain");
	nftnl_chain_nlmsg_build_payload(nlh, c);
	batch_next(nl);
	nftnl_chain_free(c);
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
set_new(struct nl *nl, const char *name, uint32_t flags, uint32_t key_type,
	uint32_t key_len)
{
	struct nftnl_set *s = oom_check(nftnl_set_alloc());

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, GATE_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	nftnl_set_set_u32(s, NFTNL_SET_ID, nl->next_set_id++);
	return s;
}

static void
batch_set(struct nl *nl, struct nftnl_set *s, const char *label)
{
	struct nlmsghdr *nlh;

	nlh = batch_message(nl, NFT_MSG_NEWSET, NLM_F_CREATE, label);
	nftnl_set_nlmsg_build_payload(nlh, s);
	batch_next(nl);
}

/* Adds elements to a set created earlier in the batch, at most
 * ELEMENTS_PER_MESSAGE to a message. */
struct element_writer {
	struct nl *nl;
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
	nlh = batch_message(w->nl, NFT_MSG_NEWSETELEM, NLM_F_CREATE, w->label);
	nftnl_set_elems_nlmsg_build_payload(nlh, w->pending);
	batch_next(w->nl);
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
		nftnl_set_set_str(w->pending, NFTNL_SET_TABLE, GATE_TABLE_NAME);
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
	if (++w->n_pending == ELEMENTS_PER_MESSAGE)
		elements_flush(w);
}

static void
batch_allow_set(struct nl *nl, const char *name, uint32_t addr_type,
		size_t addr_len, uint32_t size)
{
	struct nftnl_set *s =
		set_new(nl, name, NFT_SET_TIMEOUT,
			NFT_TYPE_CGROUPV2 << NFT_TYPE_BITS | addr_type,
			(uint32_t)(CGROUP_ID_LEN + addr_len));

	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	set_key_byteorder(s, 0); /* a concatenation has none, as in nft */
	batch_set(nl, s, "creating a grant set");
	nftnl_set_free(s);
}

/* Anonymous constant set { tcp, udp }, looked up by the rule that follows
 * it in the batch. Returns its set id. */
static uint32_t
batch_tcp_udp_set(struct nl *nl)
{
	static const uint8_t protocols[] = {IPPROTO_TCP, IPPROTO_UDP};
	struct nftnl_set *s =
		set_new(nl, SET_ANONYMOUS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT,
			NFT_TYPE_INET_PROTOCOL, 1);
	uint32_t id = nftnl_set_get_u32(s, NFTNL_SET_ID);
	struct element_writer w = {nl, s, "filling the set { tcp, udp }", NULL,
				   0};
	size_t i;

	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, sizeof protocols);
	set_key_byteorder(s, NFT_BYTEORDER_HOST);
	batch_set(nl, s, "creating the set { tcp, udp }");
	for (i = 0; i < sizeof protocols; i++)
		elements_add(&w, &protocols[i], 1, 0, false);
	elements_flush(&w);
	nftnl_set_free(s);
	return id;
}

/* --- exempt networks as intervals ---------------------------------------- */

static void
prefix_to_range(const struct ip_prefix *p, struct range *r)
{
	size_t len = ip_addr_length(&p->addr);
	unsigned bit;

	memset(r, 0, sizeof *r);
	memcpy(r->first, p->addr.bytes, len);
	memcpy(r->last, p->addr.bytes, len);
	for (bit = p->length; bit < len * 8; bit++)
		r->last[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
}

static int
range_compare(const void *a, const void *b)
{
	const struct range *ra = a, *rb = b;

	return memcmp(ra->first, rb->first, sizeof ra->first);
}

static bool
is_all_ones(const uint8_t *bytes, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (bytes[i] != 0xff)
			return false;
	return true;
}

static bool
is_zero(const uint8_t *bytes, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (bytes[i] != 0)
			return false;
	return true;
}

/* out = in + 1; in must not be all ones. */
static void
next_address(const uint8_t *in, uint8_t *out, size_t len)
{
	size_t i = len;

	memcpy(out, in, len);
	while (i-- > 0)
		if (++out[i] != 0)
			break;
}

/* Sorts the ranges and merges overlapping and adjacent ones: the kernel
 * refuses overlapping intervals. Returns the new count. */
static size_t
merge_ranges(struct range *r, size_t n, size_t len)
{
	size_t out = 0, i;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof *r, range_compare);
	for (i = 1; i < n; i++) {
		struct range *cur = &r[out];
		uint8_t after[16] = {0};

		if (!is_all_ones(cur->last, len))
			next_address(cur->last, after, len);
		if (is_all_ones(cur->last, len) ||
		    memcmp(r[i].first, after, len) <= 0) {
			if (memcmp(r[i].last, cur->last, len) > 0)
				memcpy(cur->last, r[i].last, len);
		} else {
			r[++out] = r[i];
		}
	}
	return out + 1;
}

/* Adds the exempt networks of one family the way nft encodes an interval
 * set: each range is a start element and an end element (flagged) at the
 * first address after it; a range that reaches the top of the address
 * space has no end and is marked open; when no range starts at zero, an
 * end element at zero opens the set, as nft writes it. */
static void
add_exempt_elements(struct element_writer *w, const struct gate_options *opts,
		    int family)
{
	static const uint8_t zero[16];
	size_t len = family == AF_INET ? 4 : 16;
	struct range *ranges = xcalloc(opts->n_exempt, sizeof *ranges);
	size_t n = 0, i;

	for (i = 0; i < opts->n_exempt; i++)
		if (opts->exempt[i].addr.family == family)
			prefix_to_range(&opts->exempt[i], &ranges[n++]);
	n = merge_ranges(ranges, n, len);
	if (n > 0 && !is_zero(ranges[0].first, len))
		elements_add(w, zero, (uint32_t)len, NFT_SET_ELEM_INTERVAL_END,
			     false);
	for (i = 0; i < n; i++) {
		uint8_t end[16];

		if (is_all_ones(ranges[i].last, len)) {
			elements_add(w, ranges[i].first, (uint32_t)len, 0,
				     true);
			continue;
		}
		next_address(ranges[i].last, end, len);
		elements_add(w, ranges[i].first, (uint32_t)len, 0, false);
		elements_add(w, end, (uint32_t)len, NFT_SET_ELEM_INTERVAL_END,
			     false);
	}
	free(ranges);
}

static void
batch_exempt_set(struct nl *nl, const char *name, int family,
		 const struct gate_options *opts)
{
	struct nftnl_set *s =
		set_new(nl, name, NFT_SET_INTERVAL,
			family == AF_INET ? NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR,
			family == AF_INET ? 4 : 16);
	struct element_writer w = {nl, s, "adding the exempt networks", NULL,
				   0};

	set_key_byteorder(s, NFT_BYTEORDER_BIG);
	batch_set(nl, s, "creating an exempt set");
	add_exempt_elements(&w, opts, family);
	elements_flush(&w);
	nftnl_set_free(s);
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
load_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset,
	     uint32_t len, uint32_t dreg)
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
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, GATE_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	return r;
}

/* Appends r to its chain, or inserts it before the rule with handle
 * before_handle when that is not 0. Frees r. */
static void
batch_rule(struct nl *nl, struct nftnl_rule *r, uint64_t before_handle,
	   const char *label)
{
	uint16_t flags = NLM_F_CREATE | NLM_F_APPEND;
	struct nlmsghdr *nlh;

	if (before_handle != 0) {
		/* Without NLM_F_APPEND the position means "before". */
		nftnl_rule_set_u64(r, NFTNL_RULE_POSITION, before_handle);
		flags = NLM_F_CREATE;
	}
	nlh = batch_message(nl, NFT_MSG_NEWRULE, flags, label);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	batch_next(nl);
	nftnl_rule_free(r);
}

/* meta mark != <upstream mark> meta l4proto { tcp, udp } th dport 53
 *	redirect to :<dns port> */
static void
batch_redirect_rule(struct nl *nl, const struct gate *g)
{
	uint32_t set_id = batch_tcp_udp_set(nl);
	struct nftnl_rule *r = rule_new(CHAIN_NAT);
	uint16_t port_be = htons(g->dns_port);
	struct nftnl_expr *e;

	load_meta(r, NFT_META_MARK);
	compare(r, NFT_CMP_NEQ, &g->upstream_mark, sizeof g->upstream_mark);
	match_tcp_udp_dport(r, set_id, 53);
	e = rule_expr(r, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &port_be, sizeof port_be);
	e = rule_expr(r, "redir");
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_FLAGS,
			   NF_NAT_RANGE_PROTO_SPECIFIED);
	batch_rule(nl, r, 0, "adding the DNS redirect rule");
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
batch_dns_bypass_rule(struct nl *nl, const struct gate *g)
{
	uint32_t set_id = batch_tcp_udp_set(nl);
	struct nftnl_rule *r = rule_new(CHAIN_GATE);
	uint8_t original = IP_CT_DIR_ORIGINAL;
	struct nftnl_expr *e;

	match_tcp_udp_dport(r, set_id, 53);
	load_meta(r, NFT_META_MARK);
	compare(r, NFT_CMP_NEQ, &g->upstream_mark, sizeof g->upstream_mark);
	/* Only queries: a local service's reply to a peer whose source port
	 * is 53 has dport 53 too, and is none of our business. */
	e = rule_expr(r, "ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_DIRECTION);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	compare(r, NFT_CMP_EQ, &original, sizeof original);
	match_ct_bits(r, NFT_CT_STATUS, IPS_DST_NAT, NFT_CMP_EQ);
	counter_reject(r);
	batch_rule(nl, r, 0, "adding the rule against unredirected DNS");
}

/* ct state established,related accept */
static void
batch_established_rule(struct nl *nl)
{
	struct nftnl_rule *r = rule_new(CHAIN_GATE);

	match_ct_bits(r, NFT_CT_STATE,
		      NF_CT_STATE_BIT(IP_CT_ESTABLISHED) |
			      NF_CT_STATE_BIT(IP_CT_RELATED),
		      NFT_CMP_NEQ);
	accept_verdict(r);
	batch_rule(nl, r, 0, "adding the established/related rule");
}

/* oif "lo" accept: the loopback device is number 1 in every namespace. */
static void
batch_loopback_rule(struct nl *nl)
{
	struct nftnl_rule *r = rule_new(CHAIN_GATE);
	uint32_t lo = 1;

	load_meta(r, NFT_META_OIF);
	compare(r, NFT_CMP_EQ, &lo, sizeof lo);
	accept_verdict(r);
	batch_rule(nl, r, 0, "adding the loopback rule");
}

/* meta mark <upstream mark> accept: the daemon's own upstream queries. */
static void
batch_upstream_rule(struct nl *nl, const struct gate *g)
{
	struct nftnl_rule *r = rule_new(CHAIN_GATE);

	load_meta(r, NFT_META_MARK);
	compare(r, NFT_CMP_EQ, &g->upstream_mark, sizeof g->upstream_mark);
	accept_verdict(r);
	batch_rule(nl, r, 0, "adding the upstream mark rule");
}

/* icmpv6 type { nd-router-solicit, nd-neighbor-solicit,
 *	nd-neighbor-advert, mld-listener-report, mld2-listener-report } accept
 * The kernel sends these itself (no app socket, no conntrack state): a
 * gate that rejected them would leave IPv6 without neighbours. */
static void
batch_neighbour_discovery_rule(struct nl *nl)
{
	static const uint8_t types[] = {
		MLD_LISTENER_REPORT,  ND_ROUTER_SOLICIT, ND_NEIGHBOR_SOLICIT,
		ND_NEIGHBOR_ADVERT,   143 /* MLDv2 listener report */
	};
	struct nftnl_set *s =
		set_new(nl, SET_ANONYMOUS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT,
			NFT_TYPE_ICMPV6_TYPE, 1);
	uint32_t set_id = nftnl_set_get_u32(s, NFTNL_SET_ID);
	struct element_writer w = {
		nl, s, "filling the set of neighbour discovery types", NULL, 0};
	struct nftnl_rule *r = rule_new(CHAIN_GATE);
	uint8_t icmpv6 = IPPROTO_ICMPV6;
	size_t i;

	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, sizeof types);
	set_key_byteorder(s, NFT_BYTEORDER_BIG);
	batch_set(nl, s, "creating the set of neighbour discovery types");
	for (i = 0; i < sizeof types; i++)
		elements_add(&w, &types[i], 1, 0, false);
	elements_flush(&w);
	nftnl_set_free(s);

	match_nfproto(r, AF_INET6);
	load_meta(r, NFT_META_L4PROTO);
	compare(r, NFT_CMP_EQ, &icmpv6, sizeof icmpv6);
	load_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
	lookup(r, SET_ANONYMOUS, set_id);
	accept_verdict(r);
	batch_rule(nl, r, 0, "adding the neighbour discovery rule");
}

/* ip daddr 127.0.0.1 meta l4proto { tcp, udp } th dport <dns port> accept
 * (::1 for IPv6): a redirected query keeps its original output device, so
 * only its new destination tells it apart. */
static void
batch_redirected_dns_rule(struct nl *nl, const struct gate *g, int family)
{
	uint32_t set_id = batch_tcp_udp_set(nl);
	struct nftnl_rule *r = rule_new(CHAIN_GATE);

	match_nfproto(r, family);
	load_daddr(r, family, NFT_REG_1);
	if (family == AF_INET) {
		struct in_addr loopback = {htonl(INADDR_LOOPBACK)};

		compare(r, NFT_CMP_EQ, &loopback, sizeof loopback);
	} else {
		compare(r, NFT_CMP_EQ, &in6addr_loopback,
			sizeof in6addr_loopback);
	}
	match_tcp_udp_dport(r, set_id, g->dns_port);
	accept_verdict(r);
	batch_rule(nl, r, 0, "adding the redirected DNS rule");
}

/* ip daddr @exempt4 accept / ip6 daddr @exempt6 accept */
static void
batch_exempt_rule(struct nl *nl, int family)
{
	struct nftnl_rule *r = rule_new(CHAIN_GATE);

	match_nfproto(r, family);
	load_daddr(r, family, NFT_REG_1);
	lookup(r, family == AF_INET ? SET_EXEMPT4 : SET_EXEMPT6, 0);
	accept_verdict(r);
	batch_rule(nl, r, 0, "adding an exempt rule");
}

/* socket cgroupv2 level N . ip daddr @allow4 accept (ip6/@allow6 for IPv6):
 * the 8-byte cgroup id fills registers 1.0-1.1, the address follows it at
 * 32-bit register 2 of register 1, which is the concatenated key. */
static void
batch_level_rule(struct nl *nl, unsigned level, int family,
		 uint64_t before_handle)
{
	struct nftnl_rule *r = rule_new(CHAIN_GATE);
	struct nftnl_expr *e;

	match_nfproto(r, family);
	e = rule_expr(r, "socket");
	nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_KEY, NFT_SOCKET_CGROUPV2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_LEVEL, level);
	load_daddr(r, family, NFT_REG32_02);
	lookup(r, family == AF_INET ? SET_ALLOW4 : SET_ALLOW6, 0);
	accept_verdict(r);
	batch_rule(nl, r, before_handle, "adding a cgroup level rule");
}

static void
batch_level_rules(struct nl *nl, unsigned from, unsigned to,
		  uint64_t before_handle)
{
	unsigned level;

	for (level = from; level <= to; level++) {
		batch_level_rule(nl, level, AF_INET, before_handle);
		batch_level_rule(nl, level, AF_INET6, before_handle);
	}
}

/* counter reject with icmpx admin-prohibited */
static void
batch_reject_rule(struct nl *nl)
{
	struct nftnl_rule *r = rule_new(CHAIN_GATE);

	counter_reject(r);
	batch_rule(nl, r, 0, "adding the reject rule");
}

/* --- dumps --------------------------------------------------------------- */

/* Sends one dump request and runs cb on every reply. Returns 0 or -errno. */
static int
nl_dump(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[RECV_BUFFER_SIZE];
	uint32_t seq = nlh->nlmsg_seq;
	int ret;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t len = mnl_socket_recvfrom(nl->sock, buf, sizeof buf);

		if (len < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)len, seq, nl->portid, cb, data);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

struct reject_rule {
	bool found;
	uint64_t handle;
	uint64_t packets;
};

static int
reject_expr_cb(struct nftnl_expr *e, void *data)
{
	struct reject_rule *rule = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (strcmp(name, "counter") == 0)
		rule->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
	else if (strcmp(name, "reject") == 0)
		rule->found = true;
	return 0;
}

static int
reject_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reject_rule *out = data;
	struct nftnl_rule *r = oom_check(nftnl_rule_alloc());
	struct reject_rule rule = {0};

	if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		nftnl_rule_free(r);
		return MNL_CB_ERROR;
	}
	nftnl_expr_foreach(r, reject_expr_cb, &rule);
	if (rule.found) {
		rule.handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
		*out = rule;
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* Finds the reject rule at the end of gate-output: its handle and counter. */
static int
find_reject_rule(struct nl *nl, struct reject_rule *out)
{
	char buf[REQUEST_BUFFER_SIZE] = {0};
	struct nftnl_rule *r = rule_new(CHAIN_GATE);
	struct nlmsghdr *nlh;
	int ret;

	memset(out, 0, sizeof *out);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
				    NLM_F_DUMP, nl->seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	ret = nl_dump(nl, nlh, reject_rule_cb, out);
	if (ret == 0 && !out->found)
		ret = -ENOENT;
	return ret;
}

struct grant_listing {
	void (*fn)(const struct gate_element *, void *);
	void *arg;
	int count;
	bool bad_key;
};

static int
grant_element_cb(struct nftnl_set_elem *e, void *data)
{
	struct grant_listing *listing = data;
	struct gate_element element;
	uint32_t len = 0;
	const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

	memset(&element, 0, sizeof element);
	if (key == NULL || (len != CGROUP_ID_LEN + 4 &&
			    len != CGROUP_ID_LEN + 16)) {
		listing->bad_key = true;
		return 0;
	}
	memcpy(&element.cgroup_id, key, CGROUP_ID_LEN);
	element.addr.family = len == CGROUP_ID_LEN + 4 ? AF_INET : AF_INET6;
	memcpy(element.addr.bytes, key + CGROUP_ID_LEN, len - CGROUP_ID_LEN);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		element.expires_ms =
			nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	listing->count++;
	if (listing->fn != NULL)
		listing->fn(&element, listing->arg);
	return 0;
}

static int
grant_message_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = oom_check(nftnl_set_alloc());
	int ret = MNL_CB_OK;

	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0)
		ret = MNL_CB_ERROR;
	else
		nftnl_set_elem_foreach(s, grant_element_cb, data);
	nftnl_set_free(s);
	return ret;
}

static int
list_set(struct nl *nl, const char *name, struct grant_listing *listing)
{
	char buf[REQUEST_BUFFER_SIZE] = {0};
	struct nftnl_set *s = oom_check(nftnl_set_alloc());
	struct nlmsghdr *nlh;

	nftnl_set_set_str(s, NFTNL_SET_TABLE, GATE_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET,
				    NLM_F_DUMP, nl->seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return nl_dump(nl, nlh, grant_message_cb, listing);
}

/* --- the public functions ------------------------------------------------ */

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
	else if (opts->max_level > GATE_LEVEL_LIMIT)
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

struct gate *
gate_open(const struct gate_options *opts, char *err, size_t errlen)
{
	struct gate *g;
	struct reject_rule reject;
	size_t size;
	int ret;

	if (check_options(opts, err, errlen) < 0)
		return NULL;
	g = xcalloc(1, sizeof *g);
	g->dns_port = opts->dns_port;
	g->upstream_mark = opts->upstream_mark;
	g->level = opts->max_level;
	if (nl_open(&g->nl, err, errlen) < 0) {
		free(g);
		return NULL;
	}

	size = (32 + 2 * (size_t)opts->max_level) * BATCH_RULE_BYTES +
	       (2 * opts->n_exempt + 2) * BATCH_ELEMENT_BYTES;
	batch_start(&g->nl, size);
	/* Add, delete, add: an old table of this name goes away with all it
	 * holds, and a missing one is no error; all in one transaction. */
	batch_table(&g->nl, NFT_MSG_NEWTABLE, NLM_F_CREATE,
		    "creating table inet " GATE_TABLE_NAME);
	batch_table(&g->nl, NFT_MSG_DELTABLE, 0,
		    "deleting the table inet " GATE_TABLE_NAME
		    " of an earlier run");
	batch_table(&g->nl, NFT_MSG_NEWTABLE, NLM_F_CREATE,
		    "creating table inet " GATE_TABLE_NAME);
	batch_chain(&g->nl, CHAIN_NAT, "nat", PRIORITY_DSTNAT);
	batch_chain(&g->nl, CHAIN_GATE, "filter", PRIORITY_FILTER);
	batch_allow_set(&g->nl, SET_ALLOW4, NFT_TYPE_IPADDR, 4,
			opts->set_size);
	batch_allow_set(&g->nl, SET_ALLOW6, NFT_TYPE_IP6ADDR, 16,
			opts->set_size);
	batch_exempt_set(&g->nl, SET_EXEMPT4, AF_INET, opts);
	batch_exempt_set(&g->nl, SET_EXEMPT6, AF_INET6, opts);

	batch_redirect_rule(&g->nl, g);

	batch_dns_bypass_rule(&g->nl, g);
	batch_established_rule(&g->nl);
	batch_loopback_rule(&g->nl);
	batch_upstream_rule(&g->nl, g);
	batch_neighbour_discovery_rule(&g->nl);
	batch_redirected_dns_rule(&g->nl, g, AF_INET);
	batch_redirected_dns_rule(&g->nl, g, AF_INET6);
	batch_exempt_rule(&g->nl, AF_INET);
	batch_exempt_rule(&g->nl, AF_INET6);
	batch_level_rules(&g->nl, 1, opts->max_level, 0);
	batch_reject_rule(&g->nl);

	ret = batch_send(&g->nl, err, errlen);
	if (ret == 0) {
		ret = find_reject_rule(&g->nl, &reject);
		if (ret < 0)
			set_reason(err, errlen, "finding the reject rule", ret);
	}
	if (ret < 0) {
		nl_close(&g->nl);
		free(g);
		return NULL;
	}
	g->reject_handle = reject.handle;
	return g;
}

int
gate_close(struct gate *g, bool remove_table, char *err, size_t errlen)
{
	int ret = 0;

	if (g == NULL)
		return 0;
	if (remove_table) {
		batch_start(&g->nl, 0);
		batch_table(&g->nl, NFT_MSG_DELTABLE, 0,
			    "deleting table inet " GATE_TABLE_NAME);
		ret = batch_send(&g->nl, err, errlen);
		if (ret == -ENOENT)
			ret = 0; /* someone removed it already */
	}
	nl_close(&g->nl);
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
	if (level > GATE_LEVEL_LIMIT)
		return -EINVAL;
	batch_start(&g->nl, 2 * (size_t)(level - g->level) * BATCH_RULE_BYTES);
	batch_level_rules(&g->nl, g->level + 1, level, g->reject_handle);
	ret = batch_send(&g->nl, err, sizeof err);
	if (ret < 0) {
		/* The caller only gets the errno: keep the reason. */
		log_warn("nft gate: %s", err);
		return ret;
	}
	g->level = level;
	return 0;
}

static void
grants_message_end(struct nl *nl, struct nlmsghdr *nlh, struct nlattr *list)
{
	mnl_attr_nest_end(nlh, list);
	batch_next(nl);
}

/* The grants of one family as NEWSETELEM messages, built straight into the
 * batch buffer with libmnl: this is the per-query path. */
static void
batch_grants(struct nl *nl, uint64_t cgroup_id, const struct gate_grant *grants,
	     size_t n, int family)
{
	const char *set = family == AF_INET ? SET_ALLOW4 : SET_ALLOW6;
	const char *label = family == AF_INET ? "adding grants to " SET_ALLOW4
					      : "adding grants to " SET_ALLOW6;
	struct nlmsghdr *nlh = NULL;
	struct nlattr *list = NULL;
	size_t i, in_message = 0;

	for (i = 0; i < n; i++) {
		const struct gate_grant *grant = &grants[i];
		size_t addr_len = ip_addr_length(&grant->addr);
		uint8_t key[CGROUP_ID_LEN + 16];
		struct nlattr *elem, *nest;

		if (grant->addr.family != family)
			continue;
		if (nlh == NULL) {
			nlh = batch_message(nl, NFT_MSG_NEWSETELEM,
					    NLM_F_CREATE, label);
			mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE,
					  GATE_TABLE_NAME);
			mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
			list = mnl_attr_nest_start(nlh,
						   NFTA_SET_ELEM_LIST_ELEMENTS);
		}
		memcpy(key, &cgroup_id, CGROUP_ID_LEN);
		memcpy(key + CGROUP_ID_LEN, grant->addr.bytes, addr_len);
		elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, CGROUP_ID_LEN + addr_len,
			     key);
		mnl_attr_nest_end(nlh, nest);
		/* Without NLM_F_EXCL, an element already present takes this
		 * timeout and expires anew (checked on Linux 6.18). */
		mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT,
				 htobe64((uint64_t)grant->timeout_sec * 1000));
		mnl_attr_nest_end(nlh, elem);
		if (++in_message == ELEMENTS_PER_MESSAGE) {
			grants_message_end(nl, nlh, list);
			nlh = NULL;
			in_message = 0;
		}
	}
	if (nlh != NULL)
		grants_message_end(nl, nlh, list);
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
	batch_start(&g->nl, n * BATCH_ELEMENT_BYTES);
	batch_grants(&g->nl, cgroup_id, grants, n, AF_INET);
	batch_grants(&g->nl, cgroup_id, grants, n, AF_INET6);
	return batch_send(&g->nl, err, errlen);
}

int
gate_remove_table(char *err, size_t errlen)
{
	struct nl nl;
	int ret = nl_open(&nl, err, errlen);

	if (ret < 0)
		return ret;
	batch_start(&nl, 0);
	batch_table(&nl, NFT_MSG_DELTABLE, 0,
		    "deleting table inet " GATE_TABLE_NAME);
	ret = batch_send(&nl, err, errlen);
	nl_close(&nl);
	return ret == -ENOENT ? 0 : ret;
}

int
gate_list_grants(void (*fn)(const struct gate_element *, void *), void *arg,
		 char *err, size_t errlen)
{
	struct grant_listing listing = {fn, arg, 0, false};
	struct nl nl;
	int ret = nl_open(&nl, err, errlen);

	if (ret < 0)
		return ret;
	ret = list_set(&nl, SET_ALLOW4, &listing);
	if (ret == 0)
		ret = list_set(&nl, SET_ALLOW6, &listing);
	nl_close(&nl);
	if (ret < 0) {
		set_reason(err, errlen, "listing the grants", ret);
		return ret;
	}
	if (listing.bad_key) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "nft gate: a grant set holds a "
					      "key of an unexpected length");
		return -EPROTO;
	}
	return listing.count;
}

int64_t
gate_rejected_packets(char *err, size_t errlen)
{
	struct reject_rule reject;
	struct nl nl;
	int ret = nl_open(&nl, err, errlen);

	if (ret < 0)
		return ret;
	ret = find_reject_rule(&nl, &reject);
	nl_close(&nl);
	if (ret < 0) {
		set_reason(err, errlen, "reading the reject counter", ret);
		return ret;
	}
	return (int64_t)reject.packets;
}

uint32_t
gate_netlink_portid(const struct gate *g)
{
	return g->nl.portid;
}
