/* upstream.c - c-ares driven by libevent, with marked sockets. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ares.h>
#include <event2/event.h>

#include "log.h"
#include "upstream.h"
#include "xmalloc.h"

struct watched_fd {
	ares_socket_t fd;
	struct event *ev;
	struct upstream *up;
	struct watched_fd *next;
};

struct upstream {
	struct event_base *base;
	ares_channel channel;
	struct event *timer;
	struct watched_fd *fds; /* the sockets c-ares asked us to watch */
	uint32_t mark;
	bool mark_failed_logged;
	char servers[1024];
};

struct pending {
	upstream_cb cb;
	void *arg;
};

static void update_timer(struct upstream *up);

static void
on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct watched_fd *w = arg;
	struct upstream *up = w->up;

	ares_process_fd(up->channel,
			(what & EV_READ) ? (ares_socket_t)fd : ARES_SOCKET_BAD,
			(what & EV_WRITE) ? (ares_socket_t)fd : ARES_SOCKET_BAD);
	update_timer(up);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct upstream *up = arg;

	ares_process_fd(up->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	update_timer(up);
}

static void
update_timer(struct upstream *up)
{
	struct timeval tv, *tvp;

	tvp = ares_timeout(up->channel, NULL, &tv);
	if (tvp == NULL) {
		evtimer_del(up->timer);
		return;
	}
	evtimer_add(up->timer, tvp);
}

/* c-ares tells which sockets to watch; libevent watches them. */
static void
on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct upstream *up = data;
	struct watched_fd **pp, *w;
	short what;

	for (pp = &up->fds; *pp != NULL; pp = &(*pp)->next) {
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
		w->up = up;
		w->next = up->fds;
		up->fds = w;
	}
	what = EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);
	w->ev = event_new(up->base, (evutil_socket_t)fd, what, on_socket_event,
			  w);
	event_add(w->ev, NULL);
}

/* Marks each upstream socket so the redirect and the gate let it out.
 * It must be the configure callback, which c-ares calls before connect():
 * its create callback comes after, when a TCP SYN has already left
 * unmarked and been redirected back to dnsgated itself. */
static int
on_socket_configure(ares_socket_t fd, int type, void *data)
{
	struct upstream *up = data;
	unsigned int mark = up->mark;

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

struct upstream *
upstream_new(struct event_base *base, const struct upstream_options *opts,
	     char *err, size_t errlen)
{
	struct upstream *up = xcalloc(1, sizeof *up);
	struct ares_options ao;
	int rc, mask;
	size_t i;

	if (opts->n_servers == 0) {
		snprintf(err, errlen, "no upstream server");
		free(up);
		return NULL;
	}
	up->base = base;
	up->mark = opts->mark;
	memset(&ao, 0, sizeof ao);
	ao.sock_state_cb = on_sock_state;
	ao.sock_state_cb_data = up;
	ao.timeout = (int)opts->timeout_ms;
	ao.tries = (int)opts->tries;
	mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	rc = ares_init_options(&up->channel, &ao, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		free(up);
		return NULL;
	}
	for (i = 0; i < opts->n_servers; i++)
		append_server(up->servers, sizeof up->servers, opts->servers[i]);
	rc = ares_set_servers_ports_csv(up->channel, up->servers);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares rejects the upstreams '%s': %s",
			 up->servers, ares_strerror(rc));
		ares_destroy(up->channel);
		free(up);
		return NULL;
	}
	ares_set_socket_configure_callback(up->channel, on_socket_configure, up);
	up->timer = evtimer_new(base, on_timer, up);
	return up;
}

void
upstream_free(struct upstream *up)
{
	struct watched_fd *w, *next;

	if (up == NULL)
		return;
	ares_destroy(up->channel); /* runs pending callbacks */
	for (w = up->fds; w != NULL; w = next) {
		next = w->next;
		event_free(w->ev);
		free(w);
	}
	event_free(up->timer);
	free(up);
}

const char *
upstream_servers(const struct upstream *up)
{
	return up->servers;
}

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct pending *p = arg;
	upstream_cb cb = p->cb;
	void *cb_arg = p->arg;

	free(p);
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

void
upstream_send(struct upstream *up, const uint8_t *query, size_t len,
	      upstream_cb cb, void *arg)
{
	struct pending *p = xmalloc(sizeof *p);

	p->cb = cb;
	p->arg = arg;
	ares_send(up->channel, query, (int)len, on_answer, p);
	update_timer(up);
}
