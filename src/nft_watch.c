/* nft_watch.c - the nftables change notifications, filtered to the
 * changes others make to the table inet dnsgate. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h> /* before the linux headers, which defer to it */
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "src/log.h"
#include "src/nft_table.h"
#include "src/nft_watch.h"
#include "src/xmalloc.h"

/* Our own grants are notified to this socket too: a deep buffer keeps a
 * busy moment from losing the notifications that matter. */
#define WATCH_RCVBUF (4 * 1024 * 1024)

struct nft_watch {
	struct mnl_socket *sock;
	struct event *ev;
	nft_watch_cb cb;
	void *arg;
	uint32_t own_portid;
	uint32_t previous_portid; /* of the gate before a rebuild */
	char buf[32768] __attribute__((aligned(8)));
};

struct change {
	const struct nft_watch *w;
	bool foreign;
	bool grants; /* a foreign write into allow4/allow6 */
};

/* NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE and
 * NFTA_SET_ELEM_LIST_TABLE are all attribute 1: the name of the table the
 * object belongs to; NFTA_SET_NAME and NFTA_SET_ELEM_LIST_SET are both
 * attribute 2, the set's name. */
#define ATTR_TABLE_NAME 1
#define ATTR_SET_NAME 2

struct names {
	const char *table;
	const char *set;
};

static int
names_attr_cb(const struct nlattr *attr, void *data)
{
	struct names *names = data;

	if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_OK;
	if (mnl_attr_get_type(attr) == ATTR_TABLE_NAME)
		names->table = mnl_attr_get_str(attr);
	else if (mnl_attr_get_type(attr) == ATTR_SET_NAME)
		names->set = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

static bool
is_grant_set(const char *name)
{
	return name != NULL && (strcmp(name, NFT_SET_ALLOW4) == 0 ||
				strcmp(name, NFT_SET_ALLOW6) == 0);
}

static int
on_message(const struct nlmsghdr *nlh, void *data)
{
	struct change *c = data;
	const struct nfgenmsg *nfg;
	struct names names = {NULL, NULL};
	uint16_t type;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return MNL_CB_OK;
	type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
		break;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		/* An element added by hand to exempt4 or allow4 opens the
		 * gate as surely as a rule. Port id 0 is the kernel itself
		 * (timeouts), not another program. */
		if (nlh->nlmsg_pid == 0)
			return MNL_CB_OK;
		break;
	default:
		return MNL_CB_OK; /* generations, objects */
	}
	if (nlh->nlmsg_pid == c->w->own_portid ||
	    nlh->nlmsg_pid == c->w->previous_portid ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof *nfg)
		return MNL_CB_OK;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != NFPROTO_INET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof *nfg, names_attr_cb, &names);
	if (names.table == NULL || strcmp(names.table, NFT_TABLE_NAME) != 0)
		return MNL_CB_OK;
	c->foreign = true;
	/* Deleting grants opens nothing; adding one, or a set made anew
	 * under the name, puts in what the daemon did not grant. */
	if ((type == NFT_MSG_NEWSETELEM || type == NFT_MSG_NEWSET ||
	     type == NFT_MSG_DELSET) &&
	    is_grant_set(names.set))
		c->grants = true;
	return MNL_CB_OK;
}

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct nft_watch *w = arg;
	struct change c = {w, false, false};
	int i;

	for (i = 0; i < 64; i++) { /* bounded: let queries run */
		ssize_t n = recv(mnl_socket_get_fd(w->sock), w->buf,
				 sizeof w->buf, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == ENOBUFS) {
				w->cb(w->arg, NFT_WATCH_LOST);
				continue;
			}
			break; /* EAGAIN: all read */
		}
		mnl_cb_run(w->buf, (size_t)n, 0, 0, on_message, &c);
	}
	if (c.foreign)
		w->cb(w->arg, c.grants ? NFT_WATCH_GRANTS_CHANGED
				       : NFT_WATCH_CHANGED);
}

struct nft_watch *
nft_watch_new(struct event_base *base, nft_watch_cb cb, void *arg, char *err,
	      size_t errlen)
{
	struct nft_watch *w = xcalloc(1, sizeof *w);
	unsigned group = NFNLGRP_NFTABLES;
	int rcvbuf = WATCH_RCVBUF;

	w->cb = cb;
	w->arg = arg;
	w->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (w->sock == NULL ||
	    mnl_socket_bind(w->sock, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(w->sock, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof group) < 0) {
		snprintf(err, errlen,
			 "cannot listen to nftables changes (netlink): %s",
			 strerror(errno));
		nft_watch_free(w);
		return NULL;
	}
	if (setsockopt(mnl_socket_get_fd(w->sock), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcvbuf, sizeof rcvbuf) < 0)
		setsockopt(mnl_socket_get_fd(w->sock), SOL_SOCKET, SO_RCVBUF,
			   &rcvbuf, sizeof rcvbuf);
	w->ev = event_new(base, mnl_socket_get_fd(w->sock),
			  EV_READ | EV_PERSIST, on_readable, w);
	event_add(w->ev, NULL);
	return w;
}

void
nft_watch_free(struct nft_watch *w)
{
	if (w == NULL)
		return;
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->sock != NULL)
		mnl_socket_close(w->sock);
	free(w);
}

void
nft_watch_set_own_portid(struct nft_watch *w, uint32_t portid)
{
	/* Notifications of the old gate's last changes may still be queued:
	 * they are ours too. */
	w->previous_portid = w->own_portid;
	w->own_portid = portid;
}
