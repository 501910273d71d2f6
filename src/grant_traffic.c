/* grant_traffic.c - the allow sets' counters, read one netlink reply per
 * turn of the loop. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <libmnl/libmnl.h>

#include "src/clock.h"
#include "src/grant_traffic.h"
#include "src/nft_batch.h"
#include "src/nft_table.h"
#include "src/xmalloc.h"

/* The kernel sends at most this much per reply to a dump. */
#define REPLY_BUFFER_SIZE 32768

static const char *const sets[] = {NFT_SET_ALLOW4, NFT_SET_ALLOW6};

struct grant_traffic {
	struct mnl_socket *sock;
	uint32_t portid, seq;
	struct event *readable;
	bool busy;
	size_t set;         /* the index in sets of the set being read */
	uint64_t started_ms, last_took_ms;
	grant_traffic_done_fn *done;
	void *done_arg;
	struct nft_grant_listing listing;
	struct nft_grant *grants;
	size_t n_grants, cap_grants;
	struct grant_traffic_cgroup *cgroups;
	size_t cap_cgroups;
};

static void
keep_grant(const struct nft_grant *g, void *arg)
{
	struct grant_traffic *t = arg;

	if (t->n_grants == t->cap_grants) {
		t->cap_grants = t->cap_grants == 0 ? 256 : 2 * t->cap_grants;
		t->grants = xreallocarray(t->grants, t->cap_grants,
					  sizeof *t->grants);
	}
	t->grants[t->n_grants++] = *g;
}

static int
compare_grants(const void *a, const void *b)
{
	const struct nft_grant *x = a, *y = b;

	if (x->cgroup_id != y->cgroup_id)
		return x->cgroup_id < y->cgroup_id ? -1 : 1;
	if (x->addr.family != y->addr.family)
		return x->addr.family < y->addr.family ? -1 : 1;
	return memcmp(x->addr.bytes, y->addr.bytes, sizeof x->addr.bytes);
}

size_t
grant_traffic_sum(struct nft_grant *grants, size_t n,
		  struct grant_traffic_cgroup *out)
{
	size_t i, n_out = 0;

	if (n > 0)
		qsort(grants, n, sizeof *grants, compare_grants);
	for (i = 0; i < n; i++) {
		struct grant_traffic_cgroup *c =
			n_out > 0 ? &out[n_out - 1] : NULL;

		if (c == NULL || c->cgroup_id != grants[i].cgroup_id) {
			c = &out[n_out++];
			memset(c, 0, sizeof *c);
			c->cgroup_id = grants[i].cgroup_id;
		}
		c->packets += grants[i].packets;
		c->bytes += grants[i].bytes;
		c->grants++;
	}
	return n_out;
}

static void
finish(struct grant_traffic *t, int error, const char *reason)
{
	struct grant_traffic_totals totals;

	event_del(t->readable);
	t->busy = false;
	t->last_took_ms = clock_ms() - t->started_ms;
	memset(&totals, 0, sizeof totals);
	totals.error = error;
	totals.reason = reason;
	totals.took_ms = t->last_took_ms;
	if (error == 0) {
		if (t->cap_cgroups < t->n_grants) {
			t->cap_cgroups = t->n_grants;
			t->cgroups = xreallocarray(t->cgroups, t->cap_cgroups,
						   sizeof *t->cgroups);
		}
		totals.n_cgroups =
			grant_traffic_sum(t->grants, t->n_grants, t->cgroups);
		totals.cgroups = t->cgroups;
		totals.grants = t->grants;
		totals.n_grants = t->n_grants;
	}
	t->done(t->done_arg, &totals);
}

/* Sends the dump request for sets[t->set]. */
static int
request(struct grant_traffic *t)
{
	char buf[1024];
	struct nlmsghdr *nlh =
		nft_dump_elements_request(buf, sets[t->set], ++t->seq);

	if (mnl_socket_sendto(t->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct grant_traffic *t = arg;
	char buf[REPLY_BUFFER_SIZE];
	ssize_t len;
	int ret;

	(void)fd;
	(void)what;
	/* One reply per turn: the loop serves queries in between. */
	len = recv(mnl_socket_get_fd(t->sock), buf, sizeof buf, MSG_DONTWAIT);
	if (len < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		finish(t, -errno, "reading the grants' counters");
		return;
	}
	ret = mnl_cb_run(buf, (size_t)len, t->seq, t->portid,
			 nft_dump_grant_reply, &t->listing);
	if (ret < 0) {
		finish(t, -errno,
		       errno == ENOENT ? "no table inet " NFT_TABLE_NAME
					 " or no grant set"
				       : "reading the grants' counters");
		return;
	}
	if (ret > MNL_CB_STOP)
		return; /* more replies to come */
	if (t->listing.bad_key) {
		finish(t, -EPROTO, "a grant set holds a key of an unexpected "
				   "length");
		return;
	}
	if (++t->set < sizeof sets / sizeof sets[0]) {
		ret = request(t);
		if (ret < 0)
			finish(t, ret, "asking for the grants' counters");
		return;
	}
	finish(t, 0, "");
}

struct grant_traffic *
grant_traffic_new(struct event_base *base, char *err, size_t errlen)
{
	struct grant_traffic *t = xcalloc(1, sizeof *t);

	t->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK |
							      SOCK_CLOEXEC);
	if (t->sock == NULL ||
	    mnl_socket_bind(t->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		nft_batch_reason(err, errlen,
				 "opening a socket for the grants' counters",
				 -errno);
		if (t->sock != NULL)
			mnl_socket_close(t->sock);
		free(t);
		return NULL;
	}
	t->portid = mnl_socket_get_portid(t->sock);
	t->seq = (uint32_t)clock_ms();
	t->readable = event_new(base, mnl_socket_get_fd(t->sock),
				EV_READ | EV_PERSIST, on_readable, t);
	if (t->readable == NULL) {
		snprintf(err, errlen, "grant traffic: cannot make its event");
		mnl_socket_close(t->sock);
		free(t);
		return NULL;
	}
	return t;
}

void
grant_traffic_free(struct grant_traffic *t)
{
	if (t == NULL)
		return;
	event_free(t->readable);
	mnl_socket_close(t->sock);
	free(t->grants);
	free(t->cgroups);
	free(t);
}

int
grant_traffic_read(struct grant_traffic *t, grant_traffic_done_fn *done,
		   void *arg)
{
	int ret;

	if (t->busy)
		return -EBUSY;
	t->set = 0;
	t->n_grants = 0;
	t->listing.fn = keep_grant;
	t->listing.arg = t;
	t->listing.count = 0;
	t->listing.bad_key = false;
	t->done = done;
	t->done_arg = arg;
	t->started_ms = clock_ms();
	ret = request(t);
	if (ret < 0)
		return ret;
	t->busy = true;
	event_add(t->readable, NULL);
	return 0;
}

bool
grant_traffic_busy(const struct grant_traffic *t)
{
	return t->busy;
}

uint64_t
grant_traffic_interval_ms(const struct grant_traffic *t, uint64_t every_ms)
{
	uint64_t spaced = 10 * t->last_took_ms;

	return spaced > every_ms ? spaced : every_ms;
}
