/* sockdiag.c - finds the owner of a local socket with NETLINK_SOCK_DIAG. */
#include "config.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/sockdiag.h"
#include "src/xmalloc.h"

/* Big enough for any dump datagram: the kernel sizes them by the largest
 * buffer recvmsg was given, capped at 32 KiB. */
#define SOCKDIAG_BUFFER_SIZE 32768

/* Socket states, as bits of idiag_states (enum in include/net/tcp_states.h). */
#define STATE_BIT(state) (1U << (state))
#define STATE_TCP_TIME_WAIT 6
#define STATE_TCP_LISTEN 10
#define STATE_TCP_NEW_SYN_RECV 12

/* The port-53 servers UDP clients were last found connected to, most
 * recent first: a UDP socket is looked up by its 4-tuple, in one hash
 * lookup, before the table is dumped (nearly every client on a host
 * asks the nameserver of its resolv.conf). */
#define SOCKDIAG_REMOTES 2

struct remote {
	int family; /* 0: empty slot */
	uint8_t addr[16];
};

struct sockdiag {
	struct mnl_socket *nl;
	unsigned portid;
	unsigned seq;
	struct remote remotes[SOCKDIAG_REMOTES];
	bool no_tuple; /* the tests' switch: dumps only */
	struct sockdiag_stats stats;
	/* Request and reply share this buffer: no allocation per lookup. */
	char buf[SOCKDIAG_BUFFER_SIZE] __attribute__((aligned(8)));
};

/* What the dump callback looks for and the best socket it saw so far. */
struct sockdiag_match {
	int family;       /* of the dumped sockets */
	uint16_t port_be; /* the client's port, network order */
	uint8_t want[16]; /* the client's address as this family shows it */
	size_t want_len;  /* 4 or 16 */
	bool ipv4_client; /* an IPv6 socket must not be IPv6-only */
	int rank;         /* 0 nothing, 1 wildcard, 2 exact */
	struct sock_owner owner;
	uint16_t peer_port_be; /* of the socket found: its remote end */
	uint8_t peer[16];
	/* The remote end the client socket must have, when known. */
	int protocol;
	bool has_server;
	uint16_t server_port_be;
	uint8_t server[16]; /* as this family shows it, like want */
};

enum { RANK_NONE = 0, RANK_WILDCARD = 1, RANK_EXACT = 2 };

static int
sockdiag_connect(struct sockdiag *sd, char *err, size_t errlen)
{
	sd->nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (sd->nl == NULL) {
		int e = errno;

		snprintf(err, errlen,
		         "cannot open NETLINK_SOCK_DIAG socket: %s",
		         strerror(e));
		return -e;
	}
	if (mnl_socket_bind(sd->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		snprintf(err, errlen,
		         "cannot bind NETLINK_SOCK_DIAG socket: %s",
		         strerror(e));
		mnl_socket_close(sd->nl);
		sd->nl = NULL;
		return -e;
	}
	sd->portid = mnl_socket_get_portid(sd->nl);
	return 0;
}

struct sockdiag *
sockdiag_open(char *err, size_t errlen)
{
	struct sockdiag *sd = xcalloc(1, sizeof *sd);

	if (sockdiag_connect(sd, err, errlen) < 0) {
		free(sd);
		return NULL;
	}
	sd->seq = (unsigned)time(NULL);
	return sd;
}

void
sockdiag_close(struct sockdiag *sd)
{
	if (sd == NULL)
		return;
	if (sd->nl != NULL)
		mnl_socket_close(sd->nl);
	free(sd);
}

/* After a failed exchange the rest of a dump may still be queued; a fresh
 * socket keeps it from being read as the answer to the next lookup. */
static void
sockdiag_reset(struct sockdiag *sd)
{
	char err[128];

	if (sd->nl != NULL)
		mnl_socket_close(sd->nl);
	sd->nl = NULL;
	(void)sockdiag_connect(sd, err, sizeof err);
}

static int
attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, INET_DIAG_MAX) < 0)
		return MNL_CB_OK; /* newer than our headers: ignore */
	switch (type) {
	case INET_DIAG_CGROUP_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
			return MNL_CB_OK;
		break;
	case INET_DIAG_SKV6ONLY:
		if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
			return MNL_CB_OK;
		break;
	default:
		break;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

static bool
all_zero(const uint8_t *bytes, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (bytes[i] != 0)
			return false;
	}
	return true;
}

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
                                            0, 0, 0, 0, 0xff, 0xff};

/* Whether a socket's remote end fits: for TCP it must be the server the
 * client connected to (several connected sockets may share one local
 * port); a UDP socket may also be unconnected, or connected to any port-53
 * server (its original destination, which the redirect rewrote). */
static bool
peer_fits(const struct sockdiag_match *m, const struct inet_diag_msg *msg)
{
	const uint8_t *dst = (const uint8_t *)msg->id.idiag_dst;

	if (!m->has_server)
		return true;
	if (msg->id.idiag_dport == m->server_port_be &&
	    memcmp(dst, m->server, m->want_len) == 0)
		return true;
	if (m->protocol != IPPROTO_UDP)
		return false;
	return msg->id.idiag_dport == 0 || msg->id.idiag_dport == htons(53);
}

/* How well a socket's local address fits the client's address. */
static int
address_rank(const struct sockdiag_match *m, const uint8_t *local)
{
	if (memcmp(local, m->want, m->want_len) == 0)
		return RANK_EXACT;
	if (all_zero(local, m->want_len))
		return RANK_WILDCARD;
	/* An IPv6 socket bound to ::ffff:0.0.0.0 takes any IPv4 source. */
	if (m->ipv4_client && m->want_len == 16 &&
	    memcmp(local, v4mapped_prefix, 12) == 0 && all_zero(local + 12, 4))
		return RANK_WILDCARD;
	return RANK_NONE;
}

static int
dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sockdiag_match *m = data;
	const struct inet_diag_msg *msg;
	const struct nlattr *tb[INET_DIAG_MAX + 1] = {NULL};
	uint8_t local[16];
	int rank;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof *msg)
		return MNL_CB_OK;
	msg = mnl_nlmsg_get_payload(nlh);
	/* The kernel filtered on the port already; check anyway, the rest of
	 * this function must not depend on the bytecode being understood. */
	if (msg->idiag_family != m->family || msg->id.idiag_sport != m->port_be)
		return MNL_CB_OK;
	if (!peer_fits(m, msg))
		return MNL_CB_OK;
	memcpy(local, msg->id.idiag_src, sizeof local);
	rank = address_rank(m, local);
	if (rank <= m->rank)
		return MNL_CB_OK; /* the first of equals wins */
	if (mnl_attr_parse(nlh, sizeof *msg, attr_cb, tb) < 0)
		return MNL_CB_OK;
	if (m->ipv4_client && m->family == AF_INET6 &&
	    tb[INET_DIAG_SKV6ONLY] != NULL &&
	    mnl_attr_get_u8(tb[INET_DIAG_SKV6ONLY]) != 0)
		return MNL_CB_OK; /* cannot have sent an IPv4 packet */
	m->rank = rank;
	m->peer_port_be = msg->id.idiag_dport;
	memcpy(m->peer, msg->id.idiag_dst, sizeof m->peer);
	m->owner.uid = msg->idiag_uid;
	m->owner.inode = msg->idiag_inode;
	m->owner.cgroup_id = tb[INET_DIAG_CGROUP_ID] != NULL
	                         ? mnl_attr_get_u64(tb[INET_DIAG_CGROUP_ID])
	                         : 0;
	return MNL_CB_OK;
}

/* A SOCK_DIAG_BY_FAMILY request begun in sd->buf (the socket opened
 * again first when an earlier failure closed it), its sequence number in
 * *seq. NULL: no socket. */
static struct inet_diag_req_v2 *
request_begin(struct sockdiag *sd, uint16_t flags, int family, int protocol,
              struct nlmsghdr **nlh, unsigned *seq)
{
	struct inet_diag_req_v2 *req;

	if (sd->nl == NULL) {
		sockdiag_reset(sd);
		if (sd->nl == NULL)
			return NULL;
	}
	*nlh = mnl_nlmsg_put_header(sd->buf);
	(*nlh)->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	(*nlh)->nlmsg_flags = flags;
	(*nlh)->nlmsg_seq = *seq = ++sd->seq;
	req = mnl_nlmsg_put_extra_header(*nlh, sizeof *req);
	req->sdiag_family = (uint8_t)family;
	req->sdiag_protocol = (uint8_t)protocol;
	return req;
}

/* Sends the request; on failure the socket is reset. Returns 0 or
 * -errno. */
static int
request_send(struct sockdiag *sd, const struct nlmsghdr *nlh)
{
	int ret;

	while (mnl_socket_sendto(sd->nl, nlh, nlh->nlmsg_len) < 0) {
		if (errno == EINTR)
			continue;
		ret = -errno;
		sockdiag_reset(sd);
		return ret;
	}
	return 0;
}

/* Dumps the sockets of one family and protocol whose local port is the
 * client's and keeps the best fit in m. Returns 0 or -errno. */
static int
sockdiag_dump(struct sockdiag *sd, int protocol, struct sockdiag_match *m)
{
	struct nlmsghdr *nlh;
	struct inet_diag_req_v2 *req;
	struct {
		struct inet_diag_bc_op op;
		struct inet_diag_hostcond cond;
	} bc;
	unsigned seq;
	ssize_t n;
	int ret;

	req = request_begin(sd, NLM_F_REQUEST | NLM_F_DUMP, m->family,
	                    protocol, &nlh, &seq);
	if (req == NULL)
		return -ENOTCONN;
	if (protocol == IPPROTO_TCP)
		/* A client socket is never listening, and a time-wait or
		 * request socket has no owner to report. */
		req->idiag_states = ~(STATE_BIT(STATE_TCP_LISTEN) |
		                      STATE_BIT(STATE_TCP_TIME_WAIT) |
		                      STATE_BIT(STATE_TCP_NEW_SYN_RECV));
	else
		req->idiag_states = ~0U;

	/* One condition: source (local) port == client's port. On a match
	 * jump to the end (accept), else one op past it (reject). The
	 * AF_UNSPEC host condition carries no address bytes. */
	memset(&bc, 0, sizeof bc);
	bc.op.code = INET_DIAG_BC_S_COND;
	bc.op.yes = sizeof bc;
	bc.op.no = sizeof bc + 4;
	bc.cond.family = AF_UNSPEC;
	bc.cond.prefix_len = 0;
	bc.cond.port = ntohs(m->port_be);
	mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, sizeof bc, &bc);
	ret = request_send(sd, nlh);
	if (ret < 0)
		return ret;

	for (;;) {
		n = mnl_socket_recvfrom(sd->nl, sd->buf, sizeof sd->buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		ret =
		    mnl_cb_run(sd->buf, (size_t)n, seq, sd->portid, dump_cb, m);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret < 0) {
			ret = -errno;
			break;
		}
	}
	sockdiag_reset(sd);
	return ret < 0 ? ret : -EIO;
}

/* What an exact lookup looks for and found. */
struct exact_match {
	const struct sockdiag_match *m; /* the client, as the dump sees it */
	bool found;
	struct sock_owner owner;
};

static int
exact_cb(const struct nlmsghdr *nlh, void *data)
{
	struct exact_match *x = data;
	const struct sockdiag_match *m = x->m;
	const struct inet_diag_msg *msg;
	const struct nlattr *tb[INET_DIAG_MAX + 1] = {NULL};
	struct sockdiag_match as = *m;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof *msg)
		return MNL_CB_OK;
	msg = mnl_nlmsg_get_payload(nlh);
	if (msg->id.idiag_sport != m->port_be ||
	    mnl_attr_parse(nlh, sizeof *msg, attr_cb, tb) < 0)
		return MNL_CB_OK;
	/* The dump's checks too, not the kernel's choice alone (an
	 * sk_lookup program may pick any socket): a local address that
	 * fits, and an IPv4 client's socket not IPv6-only. */
	if (msg->idiag_family == AF_INET6 && m->ipv4_client) {
		as.want_len = 16;
		memcpy(as.want, v4mapped_prefix, 12);
		memcpy(as.want + 12, m->want, 4);
		if (tb[INET_DIAG_SKV6ONLY] != NULL &&
		    mnl_attr_get_u8(tb[INET_DIAG_SKV6ONLY]) != 0)
			return MNL_CB_OK;
	} else if ((msg->idiag_family == AF_INET) != m->ipv4_client) {
		return MNL_CB_OK;
	}
	if (address_rank(&as, (const uint8_t *)msg->id.idiag_src) ==
	    RANK_NONE)
		return MNL_CB_OK;
	x->found = true;
	x->owner.uid = msg->idiag_uid;
	x->owner.inode = msg->idiag_inode;
	x->owner.cgroup_id = tb[INET_DIAG_CGROUP_ID] != NULL
	                         ? mnl_attr_get_u64(tb[INET_DIAG_CGROUP_ID])
	                         : 0;
	return MNL_CB_OK;
}

/* Asks the kernel for the UDP socket that a datagram from remote (port
 * 53; NULL: from anywhere, which only an unconnected socket takes) to
 * the client's address and port would reach: one hash lookup, where the
 * dump walks the whole table. family and the addresses are as the
 * socket table has them (4 or 16 bytes). Returns 1 with *out set, 0
 * when no such socket exists, or -errno. */
static int
exact_udp(struct sockdiag *sd, const struct sockdiag_match *m, int family,
          uint32_t scope, const uint8_t *remote, struct sock_owner *out)
{
	struct exact_match x = {m, false, {0, 0, 0}};
	size_t alen = family == AF_INET ? 4 : 16;
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	unsigned seq;
	ssize_t n;
	int ret;

	/* One socket, no dump. */
	req = request_begin(sd, NLM_F_REQUEST, family, IPPROTO_UDP, &nlh, &seq);
	if (req == NULL)
		return -ENOTCONN;
	req->idiag_states = ~0U;
	/* For UDP the kernel reads the id as the datagram's: src is the
	 * remote end, dst the socket's own (udp_diag.c: "src and dst are
	 * swapped for historical reasons"). */
	if (remote != NULL) {
		req->id.idiag_sport = htons(53);
		memcpy(req->id.idiag_src, remote, alen);
	}
	req->id.idiag_dport = m->port_be;
	memcpy(req->id.idiag_dst, m->want, alen);
	req->id.idiag_if = scope;
	req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	ret = request_send(sd, nlh);
	if (ret < 0)
		return ret;
	do
		n = mnl_socket_recvfrom(sd->nl, sd->buf, sizeof sd->buf);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		ret = -errno;
		sockdiag_reset(sd);
		return ret;
	}
	ret = mnl_cb_run(sd->buf, (size_t)n, seq, sd->portid, exact_cb, &x);
	if (ret < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			return 0;
		sockdiag_reset(sd);
		return ret;
	}
	if (!x.found)
		return 0;
	*out = x.owner;
	return 1;
}

/* Notes the remote end of a UDP client socket a dump found: a port-53
 * server (an IPv6 socket's v4-mapped one as IPv4), moved to the front. */
static void
learn_remote(struct sockdiag *sd, const struct sockdiag_match *m)
{
	struct remote r;
	size_t i;

	if (m->peer_port_be != htons(53))
		return;
	memset(&r, 0, sizeof r);
	if (m->family == AF_INET6 && memcmp(m->peer, v4mapped_prefix, 12) == 0) {
		r.family = AF_INET;
		memcpy(r.addr, m->peer + 12, 4);
	} else {
		r.family = m->family;
		memcpy(r.addr, m->peer, m->family == AF_INET ? 4 : 16);
	}
	for (i = 0; i < SOCKDIAG_REMOTES - 1; i++)
		if (memcmp(&sd->remotes[i], &r, sizeof r) == 0)
			break;
	memmove(&sd->remotes[1], &sd->remotes[0], i * sizeof r);
	sd->remotes[0] = r;
}

/* The exact lookups of a UDP client (family and address as its socket
 * table has them): at each server remembered, then unconnected. Returns
 * 1 found, 0 not, -errno. */
static int
exact_udp_all(struct sockdiag *sd, const struct sockdiag_match *m,
              uint32_t scope, struct sock_owner *out)
{
	int family = m->ipv4_client ? AF_INET : AF_INET6;
	size_t i;
	int ret;

	for (i = 0; i < SOCKDIAG_REMOTES; i++) {
		if (sd->remotes[i].family != family)
			continue;
		sd->stats.exact++;
		ret = exact_udp(sd, m, family, scope, sd->remotes[i].addr, out);
		if (ret != 0)
			return ret;
	}
	sd->stats.exact++;
	return exact_udp(sd, m, family, scope, NULL, out);
}

/* Reads server into m as an IPv4 (4 bytes) or IPv6 (16 bytes) address;
 * a v4-mapped IPv6 address counts as IPv4. */
static int
set_server(struct sockdiag_match *m, const struct sockaddr *server)
{
	if (server->sa_family == AF_INET) {
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)server;

		m->server_port_be = sin->sin_port;
		memcpy(m->server, &sin->sin_addr, 4);
		return AF_INET;
	}
	if (server->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)server;

		m->server_port_be = sin6->sin6_port;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(m->server, &sin6->sin6_addr.s6_addr[12], 4);
			return AF_INET;
		}
		memcpy(m->server, &sin6->sin6_addr, 16);
		return AF_INET6;
	}
	return -1;
}

int
sockdiag_lookup(struct sockdiag *sd, int protocol,
                const struct sockaddr *client, const struct sockaddr *server,
                struct sock_owner *out)
{
	struct sockdiag_match m;
	int ret, server_family = 0;

	memset(out, 0, sizeof *out);
	if (protocol != IPPROTO_UDP && protocol != IPPROTO_TCP)
		return -EPROTONOSUPPORT;
	memset(&m, 0, sizeof m);
	m.protocol = protocol;
	if (server != NULL) {
		server_family = set_server(&m, server);
		if (server_family < 0)
			return -EAFNOSUPPORT;
		m.has_server = true;
	}
	if (client->sa_family == AF_INET) {
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)client;

		m.ipv4_client = true;
		m.port_be = sin->sin_port;
		memcpy(m.want, &sin->sin_addr, 4);
	} else if (client->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)client;

		m.port_be = sin6->sin6_port;
		/* A dual-stack listener shows an IPv4 client as ::ffff:a.b.c.d;
		 * its socket may well be an AF_INET one. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			m.ipv4_client = true;
			memcpy(m.want, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			memcpy(m.want, &sin6->sin6_addr, 16);
		}
	} else {
		return -EAFNOSUPPORT;
	}

	/* UDP: the socket a reply would reach, in one lookup (an IPv4 one
	 * finds dual-stack IPv6 sockets too); else the dump, which also
	 * learns the server a connected socket has. */
	if (protocol == IPPROTO_UDP && !sd->no_tuple) {
		uint32_t scope = client->sa_family == AF_INET6 && !m.ipv4_client
		    ? ((const struct sockaddr_in6 *)client)->sin6_scope_id
		    : 0;

		/* An error (a kernel that refuses the request) leaves the
		 * dump to answer. Among sockets sharing a port (SO_REUSEADDR,
		 * SO_REUSEPORT) the kernel picks as it would deliver a reply
		 * (connected first), where the dump takes the first. */
		m.want_len = m.ipv4_client ? 4 : 16;
		ret = exact_udp_all(sd, &m, scope, out);
		if (ret == 1) {
			sd->stats.exact_found++;
			return 0;
		}
	}
	sd->stats.dumps++;
	if (m.ipv4_client) {
		m.family = AF_INET;
		m.want_len = 4;
		ret = sockdiag_dump(sd, protocol, &m);
		if (ret < 0)
			return ret;
		if (m.rank != RANK_NONE) {
			if (protocol == IPPROTO_UDP)
				learn_remote(sd, &m);
			*out = m.owner;
			return 0;
		}
		/* An IPv6 socket that sent to an IPv4 address. */
		memmove(m.want + 12, m.want, 4);
		memcpy(m.want, v4mapped_prefix, 12);
	}
	if (m.has_server && server_family == AF_INET) {
		memmove(m.server + 12, m.server, 4);
		memcpy(m.server, v4mapped_prefix, 12);
	}
	m.family = AF_INET6;
	m.want_len = 16;
	ret = sockdiag_dump(sd, protocol, &m);
	if (ret < 0)
		return ret;
	if (m.rank == RANK_NONE)
		return -ENOENT;
	if (protocol == IPPROTO_UDP)
		learn_remote(sd, &m);
	*out = m.owner;
	return 0;
}

void
sockdiag_get_stats(const struct sockdiag *sd, struct sockdiag_stats *out)
{
	*out = sd->stats;
}

void
sockdiag_use_tuple_lookups(struct sockdiag *sd, bool on)
{
	sd->no_tuple = !on;
}
