/* upstream.c - c-ares driven by libevent, with marked sockets and
 * channels retired after a few queries.
 *
 * c-ares 1.18 (Debian 12) keeps one UDP socket per server for as long as
 * any query is pending, so under steady load every query leaves from the
 * same port and only the 16-bit ID stands between an off-path spoofer and
 * an answer that dnsgate caches and turns into firewall grants (c-ares
 * 1.20 added a per-socket query limit; 1.18 has none). So a channel takes
 * UPSTREAM_QUERIES_PER_CHANNEL queries, then is retired: new queries go to
 * a fresh channel (fresh sockets, fresh ports), the old one answers what
 * it has and is destroyed once drained.
 *
 * Each socket also takes a random source port above the kernel's
 * ephemeral range: an app's query that happened to leave from a port the
 * daemon had just used for the same server would match the daemon's
 * conntrack entry and skip the redirect (the gate then rejects it; better
 * it never happens). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <ares.h>
#include <event2/event.h>

#include "log.h"
#include "upstream.h"
#include "xmalloc.h"

struct channel;

struct watched_fd {
	ares_socket_t fd;
	struct event *ev;
	struct channel *ch;
	struct watched_fd *next;
};

struct channel {
	struct upstream *up;
	ares_channel ares;
	struct event *timer;
	struct watched_fd *fds; /* the sockets c-ares asked us to watch */
	unsigned sent;          /* queries given to this channel */
	unsigned pending;       /* of those, not answered yet */
	struct channel *next;   /* in up->retired */
};

struct upstream {
	struct event_base *base;
	struct channel *current;
	struct channel *retired; /* draining; destroyed when empty */
	struct event *reaper;    /* destroys drained channels, later */
	struct upstream_options opts;
	bool mark_failed_logged;
	unsigned channels_made;
	uint16_t port_min, port_max; /* 0: let the kernel choose */
	char servers[1024];
};

struct pending {
	struct channel *ch;
	upstream_cb cb;
	void *arg;
};

static void update_timer(struct channel *ch);

static void
on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct watched_fd *w = arg;
	struct channel *ch = w->ch;

	ares_process_fd(ch->ares,
			(what & EV_READ) ? (ares_socket_t)fd : ARES_SOCKET_BAD,
			(what & EV_WRITE) ? (ares_socket_t)fd : ARES_SOCKET_BAD);
	update_timer(ch);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct channel *ch = arg;

	ares_process_fd(ch->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	update_timer(ch);
}

static void
update_timer(struct channel *ch)
{
	struct timeval tv, *tvp;

	tvp = ares_timeout(ch->ares, NULL, &tv);
	if (tvp == NULL) {
		evtimer_del(ch->timer);
		return;
	}
	evtimer_add(ch->timer, tvp);
}

/* c-ares tells which sockets to watch; libevent watches them. */
static void
on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct channel *ch = data;
	struct watched_fd **pp, *w;
	short what;

	for (pp = &ch->fds; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->fd == fd)
			break;
	}
	w = *pp;
	if (w != NULL)
		event_free(w->ev);
	if (!readable && !writable) {
		if (w != NULL) {
			*pp = w->next;
			free(w);
		}
		return;
	}
	if (w == NULL) {
		w = xcalloc(1, sizeof *w);
		w->fd = fd;
		w->ch = ch;
		w->next = ch->fds;
		ch->fds = w;
	}
	what = EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);
	w->ev = event_new(ch->up->base, (evutil_socket_t)fd, what,
			  on_socket_event, w);
	event_add(w->ev, NULL);
}

/* The source ports for upstream sockets: above the ephemeral range of
 * this network namespace, if that leaves at least 1024 ports. */
static void
choose_port_range(struct upstream *up)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned lo = 0, hi = 0;

	if (f != NULL) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			hi = 0;
		fclose(f);
	}
	if (hi == 0 || hi > 65535 - 1024) {
		log_warn("the ephemeral port range ends at %u: no room above "
			 "it for dnsgated's upstream ports, so an app's query "
			 "may now and then share one and be rejected",
			 hi);
		return;
	}
	up->port_min = (uint16_t)(hi + 1);
	up->port_max = 65535;
}

/* Binds fd to a random port of the range (a few tries: one may be
 * taken). Leaves it to the kernel when that fails. */
static void
bind_source_port(const struct upstream *up, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int family = 0, tries;

	if (up->port_min == 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0)
		return;
	for (tries = 0; tries < 8; tries++) {
		uint32_t r = 0;
		uint16_t port;

		if (getrandom(&r, sizeof r, 0) != sizeof r)
			return;
		port = (uint16_t)(up->port_min +
				  r % ((uint32_t)up->port_max - up->port_min + 1));
		memset(&ss, 0, sizeof ss);
		if (family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			sin->sin_family = AF_INET;
			sin->sin_port = htons(port);
			len = sizeof *sin;
		} else if (family == AF_INET6) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(port);
			len = sizeof *sin6;
		} else {
			return;
		}
		if (bind(fd, (struct sockaddr *)&ss, len) == 0)
			return;
	}
}

/* Marks each upstream socket so the redirect and the gate let it out.
 * It must be the configure callback, which c-ares calls before connect():
 * its create callback comes after, when a TCP SYN has already left
 * unmarked and been redirected back to dnsgated itself. */
static int
on_socket_configure(ares_socket_t fd, int type, void *data)
{
	struct upstream *up = data;
	unsigned int mark = up->opts.mark;

	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) {
		if (!up->mark_failed_logged) {
			log_error("cannot mark the upstream socket (SO_MARK: "
				  "%s): dnsgated needs CAP_NET_ADMIN, or its "
				  "own queries would be redirected to itself",
				  strerror(errno));
			up->mark_failed_logged = true;
		}
		return -1;
	}
	bind_source_port(up, fd);
	return 0;
}

/* "192.0.2.1" -> "192.0.2.1:53", "2001:db8::1" -> "[2001:db8::1]:53". */
static void
append_server(char *buf, size_t buflen, const char *server)
{
	unsigned char tmp[16];
	size_t used = strlen(buf);
	const char *sep = used ? "," : "";

	if (inet_pton(AF_INET6, server, tmp) == 1)
		snprintf(buf + used, buflen - used, "%s[%s]:53", sep, server);
	else if (server[0] != '[' && strchr(server, ':') == NULL)
		snprintf(buf + used, buflen - used, "%s%s:53", sep, server);
	else
		snprintf(buf + used, buflen - used, "%s%s", sep, server);
}

static struct channel *
channel_new(struct upstream *up, char *err, size_t errlen)
{
	struct channel *ch = xcalloc(1, sizeof *ch);
	struct ares_options ao;
	int rc, mask;

	ch->up = up;
	memset(&ao, 0, sizeof ao);
	ao.sock_state_cb = on_sock_state;
	ao.sock_state_cb_data = ch;
	ao.timeout = (int)up->opts.timeout_ms;
	ao.tries = (int)up->opts.tries;
	mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	rc = ares_init_options(&ch->ares, &ao, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		free(ch);
		return NULL;
	}
	rc = ares_set_servers_ports_csv(ch->ares, up->servers);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares rejects the upstreams '%s': %s",
			 up->servers, ares_strerror(rc));
		ares_destroy(ch->ares);
		free(ch);
		return NULL;
	}
	ares_set_socket_configure_callback(ch->ares, on_socket_configure, up);
	ch->timer = evtimer_new(up->base, on_timer, ch);
	up->channels_made++;
	return ch;
}

/* Pending queries get ARES_EDESTRUCTION; their callbacks run here. */
static void
channel_free(struct channel *ch)
{
	struct watched_fd *w, *next;

	ares_destroy(ch->ares);
	for (w = ch->fds; w != NULL; w = next) {
		next = w->next;
		event_free(w->ev);
		free(w);
	}
	event_free(ch->timer);
	free(ch);
}

/* Destroys the retired channels that have nothing pending. Runs from the
 * loop, never inside a channel's own callback. */
static void
on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct upstream *up = arg;
	struct channel **pp = &up->retired, *ch;

	while ((ch = *pp) != NULL) {
		if (ch->pending == 0) {
			*pp = ch->next;
			channel_free(ch);
		} else {
			pp = &ch->next;
		}
	}
}

struct upstream *
upstream_new(struct event_base *base, const struct upstream_options *opts,
	     char *err, size_t errlen)
{
	struct upstream *up;
	size_t i;

	if (opts->n_servers == 0) {
		snprintf(err, errlen, "no upstream server");
		return NULL;
	}
	up = xcalloc(1, sizeof *up);
	up->base = base;
	up->opts = *opts;
	up->opts.servers = NULL; /* not kept: the csv below is */
	for (i = 0; i < opts->n_servers; i++)
		append_server(up->servers, sizeof up->servers, opts->servers[i]);
	choose_port_range(up);
	up->current = channel_new(up, err, errlen);
	if (up->current == NULL) {
		free(up);
		return NULL;
	}
	up->reaper = event_new(base, -1, 0, on_reap, up);
	return up;
}

void
upstream_free(struct upstream *up)
{
	struct channel *ch;

	if (up == NULL)
		return;
	channel_free(up->current); /* runs pending callbacks */
	while ((ch = up->retired) != NULL) {
		up->retired = ch->next;
		channel_free(ch);
	}
	event_free(up->reaper);
	free(up);
}

const char *
upstream_servers(const struct upstream *up)
{
	return up->servers;
}

unsigned
upstream_channels_made(const struct upstream *up)
{
	return up->channels_made;
}

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct pending *p = arg;
	struct channel *ch = p->ch;
	upstream_cb cb = p->cb;
	void *cb_arg = p->arg;

	free(p);
	if (--ch->pending == 0 && ch != ch->up->current)
		event_active(ch->up->reaper, 0, 0);
	if (status == ARES_SUCCESS && abuf != NULL && alen > 0) {
		cb(cb_arg, 0, abuf, (size_t)alen, NULL);
		return;
	}
	if (status == ARES_EDESTRUCTION)
		cb(cb_arg, -1, NULL, 0, "shutting down");
	else if (status == ARES_ETIMEOUT)
		cb(cb_arg, -1, NULL, 0,
		   "no upstream answered in time (timeout)");
	else if (status == ARES_ECONNREFUSED)
		cb(cb_arg, -1, NULL, 0, "every upstream refused the connection");
	else if (status == ARES_ESERVFAIL)
		cb(cb_arg, -1, NULL, 0, "every upstream answered SERVFAIL");
	else if (status == ARES_EREFUSED)
		cb(cb_arg, -1, NULL, 0, "every upstream answered REFUSED");
	else
		cb(cb_arg, -1, NULL, 0, ares_strerror(status));
}

/* Moves a channel that has taken its share of queries to the retired
 * list and opens a fresh one. Keeps the old one if a new one cannot be
 * made (then logs why). */
static void
rotate_channel(struct upstream *up)
{
	struct channel *fresh;
	char err[256];

	fresh = channel_new(up, err, sizeof err);
	if (fresh == NULL) {
		log_warn("cannot open a new upstream channel (%s): the current "
			 "one goes on",
			 err);
		up->current->sent = 0;
		return;
	}
	up->current->next = up->retired;
	up->retired = up->current;
	up->current = fresh;
	if (up->retired->pending == 0)
		event_active(up->reaper, 0, 0);
}

void
upstream_send(struct upstream *up, const uint8_t *query, size_t len,
	      upstream_cb cb, void *arg)
{
	struct pending *p = xmalloc(sizeof *p);
	struct channel *ch;

	if (up->current->sent >= UPSTREAM_QUERIES_PER_CHANNEL)
		rotate_channel(up);
	ch = up->current;
	p->ch = ch;
	p->cb = cb;
	p->arg = arg;
	ch->sent++;
	ch->pending++;
	ares_send(ch->ares, query, (int)len, on_answer, p);
	update_timer(ch);
}
