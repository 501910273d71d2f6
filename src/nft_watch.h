/* nft_watch.h - notices when another program changes the table inet
 * dnsgate: an 'nft flush ruleset' (Debian's nftables.service runs one on
 * every restart), a firewall reload, a hand-written rule. Without the
 * table, DNS is not redirected and nothing is gated; with a foreign
 * accept rule in it, the gate is open. So the daemon must know at once:
 * the watcher listens to the nftables multicast group (NFNLGRP_NFTABLES)
 * on the libevent loop and calls back on any change to the table, its
 * chains, rules, sets or set elements made by anyone but the daemon's own
 * gate socket (and the kernel, whose timeouts remove grants). It tells
 * whether the grant sets were written to, so the table can be renewed
 * around grants that are all the daemon's own. */
#ifndef DNSGATE_NFT_WATCH_H
#define DNSGATE_NFT_WATCH_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct nft_watch;

enum nft_watch_event {
	NFT_WATCH_CHANGED, /* another program changed the table, but not
			      what allow4 and allow6 hold */
	NFT_WATCH_GRANTS_CHANGED, /* ... and added to allow4 or allow6, or
				     made them anew: their contents are not
				     all the daemon's any more */
	NFT_WATCH_LOST, /* notifications were lost: check the table, and
			   trust nothing in it */
};

typedef void (*nft_watch_cb)(void *arg, enum nft_watch_event what);

struct nft_watch *nft_watch_new(struct event_base *base, nft_watch_cb cb,
				void *arg, char *err, size_t errlen);
void nft_watch_free(struct nft_watch *w);

/* Changes sent from this netlink port id are the daemon's own, and so are
 * those of the port id set before (a replaced gate's last changes). */
void nft_watch_set_own_portid(struct nft_watch *w, uint32_t portid);

#endif
