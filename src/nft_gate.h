/* nft_gate.h - the daemon's nftables table "inet dnsgate", through
 * netlink (libmnl + libnftnl), never by running nft: made, grown, granted
 * into and removed here; nft_rules.c builds its objects, nft_batch.c
 * sends them, nft_dump.h reads them back.
 *
 * The table holds, as `nft list table inet dnsgate` prints it:
 *   chain nat-output (type nat hook output priority -100):
 *     meta mark != <upstream mark> meta l4proto { tcp, udp } th dport 53
 *       redirect to :<dns port>
 *   chain gate-output (type filter hook output priority filter, policy
 *   accept; the last rule rejects):
 *     meta l4proto { tcp, udp } th dport 53 meta mark != <upstream mark>
 *       ct direction original ct status ! dnat counter reject with icmpx
 *       admin-prohibited
 *              (DNS neither redirected nor the daemon's own: an app's
 *              query sharing the 4-tuple of the daemon's upstream flow)
 *     socket cgroupv2 level N . ip daddr @allow4 accept       for N =
 *     socket cgroupv2 level N . ip6 daddr @allow6 accept      1..max
 *              (before the established rule: every packet of a
 *              granted flow is counted on its grant)
 *     ct state established,related accept
 *     oif "lo" accept
 *     meta mark <upstream mark> accept
 *     icmpv6 type { mld-listener-report, nd-router-solicit,
 *       nd-neighbor-solicit, nd-neighbor-advert, mld2-listener-report }
 *       accept   (the kernel's own neighbour discovery has no app socket)
 *     ip daddr 127.0.0.1 meta l4proto { tcp, udp } th dport <dns port>
 *       accept   (redirected DNS keeps its original oif: not "oif lo")
 *     ip6 daddr ::1 meta l4proto { tcp, udp } th dport <dns port> accept
 *     ip daddr @exempt4 accept
 *     ip6 daddr @exempt6 accept
 *     socket cgroupv2 level N . ip daddr @standing4 accept    for N =
 *     socket cgroupv2 level N . ip6 daddr @standing6 accept   1..max
 *     meta l4proto { tcp, udp } update @rejected4 { socket cgroupv2
 *       level N . ip daddr . meta l4proto . th dport } counter reject
 *       with icmpx admin-prohibited
 *     update @rejected4 { socket cgroupv2 level N . ip daddr . meta
 *       l4proto . 0 } counter reject ...
 *     (the same two for ip6 and @rejected6)
 *              for N = max..0, deepest first, then for packets without
 *              a socket with the cgroup 0 in place of the socket's;
 *              a full set makes the update fail, the rule stops and
 *              the next one rejects: recorded or not, rejected
 *     counter reject with icmpx admin-prohibited
 *   sets allow4 (type cgroupsv2 . ipv4_addr) and allow6 (cgroupsv2 .
 *     ipv6_addr), flags timeout, size set_size, a counter on each
 *     element: the key is the 8-byte cgroup id (host byte order) then
 *     the address. A full set refuses the grant, so a full set means
 *     deny, never allow;
 *   sets rejected4 and rejected6 (cgroupsv2 . ipv4_addr/ipv6_addr .
 *     inet_proto . inet_service), flags dynamic, timeout, a counter on
 *     each element, NFT_REJECTED_SET_SIZE elements: the connections
 *     rejected, which gate_take_rejected reads and deletes;
 *   sets standing4 (type cgroupsv2 . ipv4_addr) and standing6 (cgroupsv2
 *     . ipv6_addr), flags interval, timeout, size set_size: standing
 *     grants, an app's network whatever it looked up; an element is the
 *     range (cgroup . first address) - (cgroup . last address), the cgroup
 *     id in network byte order (the level rules convert it, as nft does
 *     for an interval set), with the rule's expiry as timeout or none;
 *   sets exempt4/exempt6 (flags interval) with the exempt networks,
 *     overlapping ones merged.
 * Every change is one netlink batch whose ack is awaited. A table left
 * behind by a dnsgated that died is adopted with its grants
 * (gate_adopt, nft_adopt.h); its standing sets are emptied. */
#ifndef DNSGATE_NFT_GATE_H
#define DNSGATE_NFT_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/addr.h"
#include "src/nft_dump.h"
#include "src/nft_table.h"

#define GATE_TABLE_NAME NFT_TABLE_NAME

/* How an element already in an allow set gets its time again. Through
 * Linux 6.11 the kernel ignores an element added again (its old time
 * stands); since 6.12 it takes the new timeout and expiration. */
enum gate_renew {
	GATE_RENEW_AUTO = 0, /* by the running kernel's version */
	GATE_RENEW_UPDATE,   /* added again, with its expiration */
	GATE_RENEW_DELETE,   /* added, deleted and added in one batch
				(its counters start again) */
};

struct gate_options {
	uint16_t dns_port;      /* where DNS is redirected to */
	uint32_t upstream_mark; /* SO_MARK of the daemon's upstream sockets */
	const struct ip_prefix *exempt;
	size_t n_exempt;
	uint32_t set_size;      /* maximum elements in allow4 and in allow6 */
	unsigned max_level;     /* create gate rules for levels 1..max_level */
	uint32_t max_grant_sec; /* the longest grant (grant-ttl-max); 0: no
				   limit. gate_adopt distrusts longer ones */
	enum gate_renew renew;  /* how a grant present is renewed */
};

struct gate;

/* Creates the table in one batch: a table of the same name left by an
 * earlier run is deleted in the same batch, grants and all; other tables
 * are untouched. Refuses options that would make no gate: dns_port 0,
 * upstream_mark 0 (every unmarked socket has mark 0), set_size 0,
 * max_level above 255. Returns NULL with a reason in err (e.g. "netlink:
 * changing the nftables ruleset: Operation not permitted: dnsgated needs
 * CAP_NET_ADMIN"). */
struct gate *gate_open(const struct gate_options *opts, char *err,
		       size_t errlen);

/* What gate_adopt found and did. */
struct gate_adoption {
	bool found;            /* a table inet dnsgate was there */
	bool kept;             /* its grants were kept */
	unsigned grants;       /* its live grants: kept, or dropped with it */
	size_t n_distrusted;   /* kept: elements deleted that dnsgated cannot
				  have written (no timeout, or longer than
				  max_grant_sec) */
	char why_dropped[320]; /* found && !kept: the reason */
};

/* Like gate_open, but a table left by an earlier dnsgated (a crash, a
 * kill -9) is taken over: its sets allow4 and allow6 are kept with their
 * live elements and remaining timeouts, and everything else (chains,
 * rules, exempt sets, anything another program added) is replaced, in
 * one batch. When the sets differ from what opts would make (key, flags,
 * set_size), the table is replaced as by gate_open and why_dropped says
 * why. The standing sets are kept when they are what opts would make and
 * made anew when not (or when the table is an older dnsgated's without
 * them), emptied either way: nothing tells a standing grant of dnsgated's
 * from one another program added, so the caller writes its own again
 * (standing_set_gate and standing_resync, standing.h). With vouched
 * (every change to the sets since this process made them was watched,
 * and none was another program's), the elements are taken as they are,
 * not listed and checked, and report->grants stays 0: listing 60,000
 * takes about 0.2 s. Fills *report (also on NULL, as far as it got). */
struct gate *gate_adopt(const struct gate_options *opts, bool vouched,
			struct gate_adoption *report, char *err,
			size_t errlen);

/* Deletes the table (when remove_table; a table already gone is no
 * error) and frees the handle. Without remove_table the gate stays closed
 * after the daemon has gone: grants expire, nothing new is allowed.
 * Returns 0, or -errno with a reason in err when the table could not be
 * deleted (the handle is freed all the same). */
int gate_close(struct gate *g, bool remove_table, char *err, size_t errlen);

/* The netlink port id of the gate's socket: changes to the ruleset sent
 * from it are the gate's own (see nft_watch.h). */
uint32_t gate_netlink_portid(const struct gate *g);

/* Makes sure gate rules exist for every level up to level (adds the
 * missing ones, before the final reject). Returns 0 or -errno (-EINVAL
 * above level 255, which the kernel cannot match). */
int gate_ensure_level(struct gate *g, unsigned level);

struct gate_grant {
	struct ip_addr addr;
	uint32_t timeout_sec; /* > 0 */
};

/* Adds (cgroup_id . addr) with its timeout for each grant (no address
 * twice), in one batch, and waits for the kernel's ack. An element
 * already present gets the new timeout, longer or shorter, and expires
 * anew (as the options say: on an older kernel every element is added,
 * deleted and added again in the batch), and does not count against a
 * full set.
 * Returns 0; -ENFILE when a set is full (nothing of the batch is applied);
 * -EINVAL for a grant without address family or timeout; or another
 * -errno, with a reason in err. Allocates nothing once warmed up. */
int gate_allow(struct gate *g, uint64_t cgroup_id,
	       const struct gate_grant *grants, size_t n, char *err,
	       size_t errlen);

/* A standing grant: (cgroup . network), whatever the app looked up. */
struct gate_standing {
	uint64_t cgroup_id;
	struct ip_prefix net;  /* no bits set beyond the prefix */
	uint32_t timeout_sec;  /* seconds left; 0: none */
};

/* Adds each standing grant to standing4 or standing6, in one batch, and
 * waits for the kernel's ack. Returns 0; -ENFILE when a set is full
 * (nothing of the batch is applied); -EINVAL for a grant without cgroup,
 * address family or a valid prefix (nothing sent); -EEXIST for a network
 * inside one the set holds for the same cgroup (the kernel takes the same
 * network again, and one around another, so a caller passes disjoint
 * networks per cgroup); or another -errno, with a reason in err. */
int gate_standing_add(struct gate *g, const struct gate_standing *s, size_t n,
		      char *err, size_t errlen);

/* Empties standing4 and standing6, in one batch. Returns 0 or -errno with
 * a reason in err. */
int gate_standing_flush(struct gate *g, char *err, size_t errlen);

/* Both at once: empties the standing sets and adds s, in one batch, so
 * there is no moment without the grants that stay. On an error nothing is
 * applied (the old elements stay). */
int gate_standing_replace(struct gate *g, const struct gate_standing *s,
			  size_t n, char *err, size_t errlen);

/* Reads the connections the gate rejected since the last call (the
 * elements of rejected4 and rejected6, which the packet path adds, one
 * per cgroup, destination, protocol and port, with a counter), calls fn
 * (NULL: none) for each, and deletes them from the sets. *full says a set was full:
 * connections were rejected without a record. Returns the number read
 * or -errno with a reason in err. */
int gate_take_rejected(struct gate *g, nft_rejected_fn fn, void *arg,
		       bool *full, char *err, size_t errlen);

/* Calls fn for every grant of allow4 and allow6 with its counter (one
 * dump over the gate's socket). Returns the number of grants or -errno
 * with a reason in err. */
int gate_traffic(struct gate *g, nft_grant_fn fn, void *arg, char *err,
		 size_t errlen);

/* Deletes the table named GATE_TABLE_NAME in the current network
 * namespace if it exists (used by dnsgatectl and at start). Returns 0 when
 * it was deleted or absent, -errno otherwise. */
int gate_remove_table(char *err, size_t errlen);

/* A deletion of the table built ahead, for a handler of a fatal signal
 * (fail-mode open): gate_failsafe_fire sends it with one sendto(2), which
 * is async-signal-safe, and waits for nothing, so a dnsgated dying of a
 * fault does not leave the host without DNS. Its own netlink socket. */
struct gate_failsafe;

struct gate_failsafe *gate_failsafe_new(char *err, size_t errlen);
/* Deletes the table now (or does nothing when there is none). Returns 0 or
 * -errno; async-signal-safe. */
int gate_failsafe_fire(const struct gate_failsafe *f);
void gate_failsafe_free(struct gate_failsafe *f);

#endif
