/* upstream.c - c-ares driven by libevent: one channel per server, server
 * health and round-trip times, a deadline per query, and loop probes.
 *
 * Why a channel per server, with one try each: c-ares 1.18 rotates to the
 * next server only after a fixed timeout, the same for every server, and
 * learns nothing, so a blackholed first server cost every query that
 * timeout. Here each try goes to the server this module chose, and waits
 * that server's own retransmit timeout (RTO: smoothed RTT plus four times
 * its variance, doubled on each timeout: health.c). The best ranked
 * server gets the query; one query in UPSTREAM_EXPLORE_EVERY goes to the
 * least recently used other server within UPSTREAM_RTT_BAND_MS of it, so
 * a slower server keeps being measured, and what was learnt of a server
 * is forgotten after UPSTREAM_RTT_TTL_MS without news, so one bad spell
 * does not banish it for good (unbound's infra-host-ttl). A try that
 * times out stays open: a late answer is still taken, and measured.
 *
 * c-ares 1.18 keeps one UDP socket per server for as long as any query is
 * pending, so under steady load every query leaves from the same port and
 * only the 16-bit ID stands between an off-path spoofer and an answer that
 * dnsgate caches and turns into firewall grants (c-ares 1.20 added a
 * per-socket query limit; 1.18 has none). So a channel takes
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
#include <ifaddrs.h>
#include <inttypes.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include <ares.h>
#include <event2/event.h>

#include "resolver/health.h"
#include "resolver/upstream.h"
#include "src/clock.h"
#include "src/log.h"
#include "src/xmalloc.h"

/* Under arpa., which resolvers forward (unlike test. or invalid., which
 * unbound answers itself), and which the root answers NXDOMAIN. */
#define LOOP_PROBE_SUFFIX ".dnsgate-loop.arpa"

struct channel;
struct server;
struct up_query;

struct watched_fd {
	ares_socket_t fd;
	struct event *ev;
	struct channel *ch;
	struct watched_fd *next;
};

struct channel {
	struct server *s;
	ares_channel ares;
	struct event *timer;
	struct watched_fd *fds; /* the sockets c-ares asked us to watch */
	unsigned sent;          /* queries given to this channel */
	unsigned pending;       /* of those, not answered yet */
	struct channel *next;   /* in s->retired */
};

/* One upstream server: its channels, what was learnt of it, counters. */
struct server {
	struct upstream *up;
	size_t index;
	char *address;       /* as configured */
	char ares_csv[64];   /* "192.0.2.1:53", "[2001:db8::1]:53" */
	struct channel *current;
	struct channel *retired; /* draining; destroyed when empty */
	struct health h;
	int64_t last_used;
	bool probing;            /* a probe is out: no other until it ends */
	bool loop;
	bool loop_checking;
	char probe_name[48];     /* "<hex>.dnsgate-loop.arpa" */
	struct upstream_server_stats st;
};

struct upstream {
	struct event_base *base;
	struct server *servers;
	size_t n_servers;
	struct event *reaper; /* destroys drained channels, later */
	struct upstream_options opts;
	bool mark_failed_logged;
	bool closing;
	unsigned channels_made;
	uint64_t queries_started;
	uint16_t port_min, port_max; /* 0: let the kernel choose */
	char *servers_text;
	struct up_query *queries; /* open ones */
	size_t loop_checks_pending;
	upstream_loop_cb loop_cb;
	void *loop_arg;
};

/* One try of a query at one server. It outlives the query when the query
 * ended first: c-ares still holds it, and its answer is still measured. */
struct attempt {
	struct up_query *uq; /* NULL once the query is done */
	struct server *s;
	struct channel *ch;
	int64_t sent_at;
	unsigned wait_ms;    /* the timer: the server's RTO, or less */
	int rto_at_send;
	unsigned failure_epoch; /* the server's, when this try was sent */
	struct event *timer; /* NULL for probes, and once it fired */
	bool timed_out;      /* the timer fired: the query moved on */
	bool probe;          /* sent to a down server to see if it is back */
	struct attempt *next; /* in uq->attempts */
};

struct up_query {
	struct upstream *up;
	uint8_t *wire;
	size_t len;
	upstream_cb cb;
	void *arg;
	struct event *deadline;
	int64_t started;
	struct attempt *attempts; /* not yet called back by c-ares */
	unsigned waiting;         /* tries within their timer */
	uint8_t *sends;           /* per server, tries in this query */
	struct server *only;      /* a loop probe: that server alone */
	int holds;                /* inside a send: decide afterwards */
	char reason[1024];
	size_t reason_len;
	unsigned reasons_cut;
	struct up_query *prev, *next; /* in up->queries */
};

static void update_timer(struct channel *ch);
static void progress(struct up_query *uq);

static int64_t
now_ms(void)
{
	return (int64_t)clock_ms();
}

static struct timeval
ms_to_timeval(unsigned ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	return tv;
}

/* ---- Health, with the log lines a person reads ---- */

static void
server_alive(struct server *s, int64_t now, int elapsed_ms)
{
	if (health_answered(&s->h, now, elapsed_ms))
		log_info("upstream %s answers again (in %d ms): back in use",
			 s->address, elapsed_ms);
}

/* A timeout or a refused connection; what says which, for the log line
 * when it makes the server down. */
static void
server_failed(struct server *s, int64_t now, unsigned epoch, const char *what)
{
	if (health_failed(&s->h, now, epoch))
		log_warn("upstream %s is down: %u failures in a row (the last: "
			 "%s); skipped, and probed again in %u ms",
			 s->address, s->h.failures_in_row, what,
			 s->h.probe_wait_ms);
}

static void
probe_failed(struct server *s, int64_t now, const char *what)
{
	health_probe_failed(&s->h, now);
	log_debug("upstream %s still down (%s): next probe in %u ms",
		  s->address, what, s->h.probe_wait_ms);
}

/* ---- c-ares on libevent ---- */

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
on_channel_timer(evutil_socket_t fd, short what, void *arg)
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
	w->ev = event_new(ch->s->up->base, (evutil_socket_t)fd, what,
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

/* A channel for one server: one try, waiting as long as a query may
 * (this module's own timer moves the query on sooner; c-ares' timeout
 * only says when a late answer is no longer awaited). */
static struct channel *
channel_new(struct server *s, char *err, size_t errlen)
{
	struct upstream *up = s->up;
	struct channel *ch = xcalloc(1, sizeof *ch);
	struct ares_options ao;
	int rc, mask;

	ch->s = s;
	memset(&ao, 0, sizeof ao);
	ao.sock_state_cb = on_sock_state;
	ao.sock_state_cb_data = ch;
	ao.timeout = (int)up->opts.deadline_ms;
	ao.tries = 1;
	/* Every answer comes back to us, SERVFAIL and REFUSED included: c-ares
	 * 1.18 would report those as ECONNREFUSED. */
	ao.flags = ARES_FLAG_NOCHECKRESP;
	mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	       ARES_OPT_FLAGS;
	rc = ares_init_options(&ch->ares, &ao, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		free(ch);
		return NULL;
	}
	rc = ares_set_servers_ports_csv(ch->ares, s->ares_csv);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares rejects the upstream '%s': %s",
			 s->address, ares_strerror(rc));
		ares_destroy(ch->ares);
		free(ch);
		return NULL;
	}
	ares_set_socket_configure_callback(ch->ares, on_socket_configure, up);
	ch->timer = evtimer_new(up->base, on_channel_timer, ch);
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
	size_t i;

	for (i = 0; i < up->n_servers; i++) {
		struct channel **pp = &up->servers[i].retired, *ch;

		while ((ch = *pp) != NULL) {
			if (ch->pending == 0) {
				*pp = ch->next;
				channel_free(ch);
			} else {
				pp = &ch->next;
			}
		}
	}
}

/* The server's channel for the next query: made on first use, replaced
 * after UPSTREAM_QUERIES_PER_CHANNEL queries. NULL with err when none can
 * be made. */
static struct channel *
server_channel(struct server *s, char *err, size_t errlen)
{
	struct channel *fresh;

	if (s->current != NULL &&
	    s->current->sent < UPSTREAM_QUERIES_PER_CHANNEL)
		return s->current;
	fresh = channel_new(s, err, errlen);
	if (fresh == NULL) {
		if (s->current == NULL)
			return NULL;
		log_warn("cannot open a new channel for upstream %s (%s): the "
			 "current one goes on",
			 s->address, err);
		s->current->sent = 0;
		return s->current;
	}
	if (s->current != NULL) {
		s->current->next = s->retired;
		s->retired = s->current;
		if (s->retired->pending == 0)
			event_active(s->up->reaper, 0, 0);
	}
	s->current = fresh;
	return fresh;
}

/* ---- Servers as configured ---- */

/* "192.0.2.1", "192.0.2.1:5353", "2001:db8::1", "[2001:db8::1]:5353" into
 * an address and c-ares' "ip:port" form. */
static int
parse_server(const char *text, struct sockaddr_storage *ss, char *csv,
	     size_t csvlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_text = NULL;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	unsigned long port = 53;
	size_t hostlen;

	memset(ss, 0, sizeof *ss);
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL)
			return -1;
		hostlen = (size_t)(close - text - 1);
		if (close[1] == ':')
			port_text = close + 2;
		else if (close[1] != '\0')
			return -1;
		text++;
	} else if (strchr(text, ':') != NULL &&
		   strchr(text, ':') != strrchr(text, ':')) {
		hostlen = strlen(text); /* a bare IPv6 address */
	} else {
		const char *colon = strchr(text, ':');

		hostlen = colon ? (size_t)(colon - text) : strlen(text);
		if (colon != NULL)
			port_text = colon + 1;
	}
	if (hostlen >= sizeof host)
		return -1;
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	if (port_text != NULL) {
		char *end;

		port = strtoul(port_text, &end, 10);
		if (*port_text == '\0' || *end != '\0' || port == 0 ||
		    port > 65535)
			return -1;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		snprintf(csv, csvlen, "%s:%lu", host, port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		snprintf(csv, csvlen, "[%s]:%lu", host, port);
		return 0;
	}
	return -1;
}

static uint16_t
sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Loopback, unspecified, or an address of an interface of this network
 * namespace: a query to it at dnsgated's port reaches dnsgated. */
static bool
is_this_host(const struct sockaddr_storage *ss)
{
	struct ifaddrs *ifs, *i;
	bool found = false;

	if (ss->ss_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)ss)
					   ->sin_addr.s_addr);

		if ((a >> 24) == 127 || a == 0)
			return true;
	} else {
		const struct in6_addr *a =
			&((const struct sockaddr_in6 *)ss)->sin6_addr;

		if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a))
			return true;
		if (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127)
			return true;
	}
	if (getifaddrs(&ifs) < 0)
		return false;
	for (i = ifs; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL ||
		    i->ifa_addr->sa_family != ss->ss_family)
			continue;
		if (ss->ss_family == AF_INET)
			found = ((struct sockaddr_in *)i->ifa_addr)
					->sin_addr.s_addr ==
				((const struct sockaddr_in *)ss)->sin_addr.s_addr;
		else
			found = memcmp(&((struct sockaddr_in6 *)i->ifa_addr)
						->sin6_addr,
				       &((const struct sockaddr_in6 *)ss)
						->sin6_addr,
				       sizeof(struct in6_addr)) == 0;
	}
	freeifaddrs(ifs);
	return found;
}

static void
random_hex(char *buf, size_t nbytes)
{
	uint8_t r[16];
	size_t i;

	if (nbytes > sizeof r)
		nbytes = sizeof r;
	if (getrandom(r, nbytes, 0) != (ssize_t)nbytes) {
		/* Not secret, only unique: the clock will do. */
		uint64_t t = (uint64_t)now_ms() * 2654435761u;

		for (i = 0; i < nbytes; i++)
			r[i] = (uint8_t)(t >> (8 * (i % 8)));
	}
	for (i = 0; i < nbytes; i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
}

struct upstream *
upstream_new(struct event_base *base, const struct upstream_options *opts,
	     char *err, size_t errlen)
{
	struct upstream *up;
	size_t i, textlen = 0;

	if (opts->n_servers == 0) {
		snprintf(err, errlen, "no upstream server");
		return NULL;
	}
	up = xcalloc(1, sizeof *up);
	up->base = base;
	up->opts = *opts;
	up->opts.servers = NULL; /* not kept: each server's copy is */
	if (up->opts.deadline_ms == 0)
		up->opts.deadline_ms = 1800;
	if (up->opts.try_max_ms == 0)
		up->opts.try_max_ms = up->opts.deadline_ms;
	if (up->opts.tries == 0)
		up->opts.tries = 1;
	if (up->opts.tries > 255)
		up->opts.tries = 255;
	if (up->opts.rtt_ttl_ms == 0)
		up->opts.rtt_ttl_ms = UPSTREAM_RTT_TTL_MS;
	up->servers = xcalloc(opts->n_servers, sizeof *up->servers);
	up->n_servers = opts->n_servers;
	for (i = 0; i < opts->n_servers; i++) {
		struct server *s = &up->servers[i];
		struct sockaddr_storage ss;

		s->up = up;
		s->index = i;
		s->address = xstrdup(opts->servers[i]);
		s->st.address = s->address;
		health_init(&s->h);
		random_hex(s->probe_name, 8);
		strcat(s->probe_name, LOOP_PROBE_SUFFIX);
		textlen += strlen(s->address) + 1;
		if (parse_server(s->address, &ss, s->ares_csv,
				 sizeof s->ares_csv) < 0) {
			snprintf(err, errlen,
				 "upstream '%s' is not an address with an "
				 "optional port",
				 s->address);
			up->n_servers = i + 1;
			upstream_free(up);
			return NULL;
		}
		if (opts->listen_port != 0 &&
		    sockaddr_port(&ss) == opts->listen_port &&
		    is_this_host(&ss)) {
			snprintf(err, errlen,
				 "upstream %s is dnsgated itself (an address "
				 "of this host at listen-port %u): every query "
				 "would loop back to it; name the resolver "
				 "dnsgated should ask instead",
				 s->address, opts->listen_port);
			up->n_servers = i + 1;
			upstream_free(up);
			return NULL;
		}
	}
	up->servers_text = xcalloc(1, textlen + 1);
	for (i = 0; i < up->n_servers; i++) {
		if (i > 0)
			strcat(up->servers_text, ",");
		strcat(up->servers_text, up->servers[i].address);
	}
	choose_port_range(up);
	up->reaper = event_new(base, -1, 0, on_reap, up);
	return up;
}

/* ---- One query ---- */

static void
add_reason(struct up_query *uq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
add_reason(struct up_query *uq, const char *fmt, ...)
{
	size_t room = sizeof uq->reason - uq->reason_len;
	char part[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(part, sizeof part, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* Keep room for " (and N more)". */
	if ((size_t)n + 2 + 24 >= room) {
		uq->reasons_cut++;
		return;
	}
	uq->reason_len += (size_t)snprintf(uq->reason + uq->reason_len, room,
					   "%s%s", uq->reason_len ? "; " : "",
					   part);
}

static const char *
final_reason(struct up_query *uq)
{
	if (uq->reasons_cut > 0) {
		snprintf(uq->reason + uq->reason_len,
			 sizeof uq->reason - uq->reason_len, " (and %u more)",
			 uq->reasons_cut);
		uq->reasons_cut = 0;
	}
	return uq->reason_len ? uq->reason : "no upstream could be asked";
}

/* Ends the query: its tries still open are left to c-ares (and measured
 * when they end), the caller is told. */
static void
finish(struct up_query *uq, int status, const uint8_t *answer, size_t len,
       const char *reason)
{
	struct upstream *up = uq->up;
	struct attempt *a;

	for (a = uq->attempts; a != NULL; a = a->next) {
		a->uq = NULL;
		if (a->timer != NULL) {
			event_free(a->timer);
			a->timer = NULL;
		}
	}
	if (uq->prev != NULL)
		uq->prev->next = uq->next;
	else
		up->queries = uq->next;
	if (uq->next != NULL)
		uq->next->prev = uq->prev;
	event_free(uq->deadline);
	uq->cb(uq->arg, status, answer, len, reason);
	free(uq->sends);
	free(uq->wire);
	free(uq);
}

static void
fail(struct up_query *uq, const char *prefix)
{
	char reason[sizeof uq->reason + 128];

	snprintf(reason, sizeof reason, "%s%s", prefix, final_reason(uq));
	finish(uq, -1, NULL, 0, reason);
}

static bool
usable(const struct server *s)
{
	return !s->h.down && !s->loop;
}

/* The server for the query's next try: first those not yet tried, then
 * those with tries left. The lowest RTO wins (the first configured on a
 * tie); the query's first try is now and then given to the least
 * recently used server within the band instead. */
static struct server *
choose_server(struct up_query *uq, int64_t now)
{
	struct upstream *up = uq->up;
	struct server *best = NULL, *other = NULL;
	unsigned limit;
	size_t i;

	if (uq->only != NULL)
		return uq->sends[uq->only->index] == 0 && !uq->only->loop
			       ? uq->only
			       : NULL;
	for (limit = 1; limit <= up->opts.tries && best == NULL; limit++) {
		for (i = 0; i < up->n_servers; i++) {
			struct server *s = &up->servers[i];

			health_refresh(&s->h, now, up->opts.rtt_ttl_ms);
			if (!usable(s) || uq->sends[i] >= limit)
				continue;
			if (best == NULL || health_rank(&s->h) < health_rank(&best->h))
				best = s;
		}
		if (best == NULL || limit > 1 || uq->waiting > 0 ||
		    uq->attempts != NULL ||
		    up->queries_started % UPSTREAM_EXPLORE_EVERY != 0)
			continue;
		for (i = 0; i < up->n_servers; i++) {
			struct server *s = &up->servers[i];

			if (s == best || !usable(s) || uq->sends[i] > 0 ||
			    health_rank(&s->h) > health_rank(&best->h) + UPSTREAM_RTT_BAND_MS)
				continue;
			if (other == NULL || s->last_used < other->last_used)
				other = s;
		}
	}
	return other != NULL ? other : best;
}

static void on_attempt_done(void *arg, int status, int timeouts,
			    unsigned char *abuf, int alen);

/* The try's own timer: no answer within the server's RTO. The try stays
 * open (a late answer is taken), the query moves on. */
static void
on_attempt_timer(evutil_socket_t fd, short what, void *arg)
{
	struct attempt *a = arg;
	struct up_query *uq = a->uq;
	struct server *s = a->s;
	int64_t now = now_ms();
	char what_text[64];

	event_free(a->timer);
	a->timer = NULL;
	a->timed_out = true;
	uq->waiting--;
	s->st.timeouts++;
	snprintf(what_text, sizeof what_text, "timeout after %u ms",
		 a->wait_ms);
	/* Only a full RTO's wait says the RTO was too short. */
	if ((int)a->wait_ms >= a->rto_at_send)
		health_backoff(&s->h, a->rto_at_send);
	server_failed(s, now, a->failure_epoch, what_text);
	add_reason(uq, "%s: %s", s->address, what_text);
	progress(uq);
}

static void
send_attempt(struct up_query *uq, struct server *s, bool probe)
{
	struct upstream *up = uq->up;
	struct attempt *a = xcalloc(1, sizeof *a);
	struct channel *ch;
	int64_t now = now_ms();
	int64_t left = uq->started + up->opts.deadline_ms - now;
	char err[256];

	a->uq = uq;
	a->s = s;
	a->probe = probe;
	a->sent_at = now;
	a->rto_at_send = s->h.rto;
	a->failure_epoch = s->h.epoch;
	a->next = uq->attempts;
	uq->attempts = a;
	uq->sends[s->index]++;
	s->st.queries++;
	s->last_used = now;
	if (probe) {
		s->probing = true;
	} else {
		struct timeval tv;

		a->wait_ms = (unsigned)s->h.rto;
		if (a->wait_ms > up->opts.try_max_ms)
			a->wait_ms = up->opts.try_max_ms;
		if (left < 1)
			left = 1;
		if ((int64_t)a->wait_ms > left)
			a->wait_ms = (unsigned)left;
		tv = ms_to_timeval(a->wait_ms);
		a->timer = evtimer_new(up->base, on_attempt_timer, a);
		evtimer_add(a->timer, &tv);
		uq->waiting++;
	}
	a->ch = server_channel(s, err, sizeof err);
	if (a->ch == NULL) {
		log_error("cannot open a channel for upstream %s: %s",
			  s->address, err);
		uq->holds++;
		on_attempt_done(a, ARES_ENOMEM, 0, NULL, 0);
		uq->holds--;
		return;
	}
	ch = a->ch;
	ch->sent++;
	ch->pending++;
	/* c-ares may end the try inside ares_send (a socket it cannot open):
	 * a is gone then. */
	uq->holds++;
	ares_send(ch->ares, uq->wire, (int)uq->len, on_attempt_done, a);
	uq->holds--;
	update_timer(ch);
}

/* Decides what the query does next, after every change: try the next
 * server when no try is waiting on its timer, fail when nothing is left
 * to wait for. Does nothing while the query is inside a send (c-ares may
 * answer there): the send's caller comes back here. */
static void
progress(struct up_query *uq)
{
	struct server *s;

	if (uq->holds > 0)
		return;
	while (uq->waiting == 0) {
		s = choose_server(uq, now_ms());
		if (s == NULL)
			break;
		uq->holds++;
		send_attempt(uq, s, false);
		uq->holds--;
	}
	if (uq->waiting == 0 && uq->attempts == NULL)
		fail(uq, "");
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct up_query *uq = arg;
	struct attempt *a;
	char prefix[64];

	for (a = uq->attempts; a != NULL; a = a->next) {
		if (a->timed_out)
			continue; /* already in the reason */
		add_reason(uq, "%s: no answer yet%s", a->s->address,
			   a->probe ? " (probed: it was down)" : "");
	}
	snprintf(prefix, sizeof prefix, "no answer within the %u ms deadline: ",
		 uq->up->opts.deadline_ms);
	fail(uq, prefix);
}

/* c-ares ended a try: an answer, an error, or its own (long) timeout. */
static void
on_attempt_done(void *arg, int status, int timeouts, unsigned char *abuf,
		int alen)
{
	struct attempt *a = arg, **pp;
	struct server *s = a->s;
	struct up_query *uq = a->uq;
	struct upstream *up = s->up;
	int64_t now = now_ms();
	int elapsed = (int)(now - a->sent_at);
	char what[128] = "";
	bool alive = false, answered = false;

	if (a->ch != NULL) {
		a->ch->pending--;
		if (a->ch->pending == 0 && a->ch != s->current)
			event_active(up->reaper, 0, 0);
	}
	if (status == ARES_SUCCESS && (abuf == NULL || alen < 4))
		status = ARES_EBADRESP;
	else if (status == ARES_SUCCESS && (abuf[3] & 0x0f) == 2)
		status = ARES_ESERVFAIL;
	else if (status == ARES_SUCCESS && (abuf[3] & 0x0f) == 4)
		status = ARES_ENOTIMP;
	else if (status == ARES_SUCCESS && (abuf[3] & 0x0f) == 5)
		status = ARES_EREFUSED;
	switch (status) {
	case ARES_SUCCESS:
		s->st.answers++;
		alive = answered = true;
		break;
	case ARES_ESERVFAIL:
		s->st.servfail++;
		alive = true;
		snprintf(what, sizeof what, "SERVFAIL");
		break;
	case ARES_EREFUSED:
		/* Alive: it may refuse only some names (a filtering
		 * resolver), so the query moves on but the server stays. */
		s->st.refused++;
		alive = true;
		snprintf(what, sizeof what, "REFUSED");
		break;
	case ARES_ENOTIMP:
		s->st.errors++;
		alive = true;
		snprintf(what, sizeof what, "NOTIMP");
		break;
	case ARES_ECONNREFUSED:
		s->st.errors++;
		snprintf(what, sizeof what,
			 "connection refused (nothing listens at that port)");
		break;
	case ARES_ETIMEOUT:
		if (!a->timed_out)
			s->st.timeouts++;
		snprintf(what, sizeof what, "timeout after %d ms", elapsed);
		break;
	case ARES_EDESTRUCTION:
		snprintf(what, sizeof what, "shutting down");
		break;
	default:
		s->st.errors++;
		snprintf(what, sizeof what, "%s", ares_strerror(status));
		break;
	}
	if (status == ARES_EDESTRUCTION) {
		/* nothing learnt */
	} else if (alive) {
		server_alive(s, now, elapsed);
	} else if (status == ARES_ETIMEOUT && a->timed_out) {
		/* counted when the timer fired */
	} else {
		if (status == ARES_ETIMEOUT || status == ARES_ECONNREFUSED)
			health_backoff(&s->h, a->rto_at_send);
		server_failed(s, now, a->failure_epoch, what);
	}
	if (a->probe) {
		s->probing = false;
		if (!alive && s->h.down && status != ARES_EDESTRUCTION)
			probe_failed(s, now, what);
	}

	if (uq == NULL) { /* the query is done: only the server learnt */
		free(a);
		return;
	}
	for (pp = &uq->attempts; *pp != a; pp = &(*pp)->next)
		;
	*pp = a->next;
	if (a->timer != NULL) {
		event_free(a->timer);
		a->timer = NULL;
		uq->waiting--;
	}
	if (answered) {
		free(a);
		finish(uq, 0, abuf, (size_t)alen, NULL);
		return;
	}
	if (status == ARES_EDESTRUCTION) {
		free(a);
		finish(uq, -1, NULL, 0, "shutting down");
		return;
	}
	if (!a->timed_out)
		add_reason(uq, "%s: %s", s->address, what);
	/* upstream-tries is for silence: a server that answered (or whose
	 * port is closed) says the same again. */
	if (status != ARES_ETIMEOUT)
		uq->sends[s->index] = UINT8_MAX;
	free(a);
	if (up->closing)
		finish(uq, -1, NULL, 0, "shutting down");
	else
		progress(uq);
}

static struct up_query *
query_new(struct upstream *up, const uint8_t *query, size_t len,
	  upstream_cb cb, void *arg)
{
	struct up_query *uq = xcalloc(1, sizeof *uq);
	struct timeval tv = ms_to_timeval(up->opts.deadline_ms);

	uq->up = up;
	uq->wire = xmalloc(len > 0 ? len : 1);
	memcpy(uq->wire, query, len);
	uq->len = len;
	uq->cb = cb;
	uq->arg = arg;
	uq->started = now_ms();
	uq->sends = xcalloc(up->n_servers, 1);
	uq->deadline = evtimer_new(up->base, on_deadline, uq);
	evtimer_add(uq->deadline, &tv);
	uq->next = up->queries;
	if (up->queries != NULL)
		up->queries->prev = uq;
	up->queries = uq;
	return uq;
}

void
upstream_send(struct upstream *up, const uint8_t *query, size_t len,
	      upstream_cb cb, void *arg)
{
	struct up_query *uq;
	int64_t now = now_ms();
	size_t i;
	bool any_usable = false;

	if (up->closing) {
		cb(arg, -1, NULL, 0, "shutting down");
		return;
	}
	uq = query_new(up, query, len, cb, arg);
	up->queries_started++;
	uq->holds++;
	/* A down server whose backoff has passed gets this query too: its
	 * answer (or silence) says whether it is back. */
	for (i = 0; i < up->n_servers; i++) {
		struct server *s = &up->servers[i];

		if (usable(s))
			any_usable = true;
		else if (!s->loop && !s->probing &&
			 health_probe_due(&s->h, now))
			send_attempt(uq, s, true);
	}
	if (!any_usable && uq->attempts == NULL) {
		for (i = 0; i < up->n_servers; i++) {
			struct server *s = &up->servers[i];

			if (s->loop)
				add_reason(uq, "%s: dropped (it loops back "
					       "to dnsgated)",
					   s->address);
			else
				add_reason(uq,
					   "%s: down (%u failures in a row), "
					   "next probe in %" PRId64 " ms",
					   s->address, s->h.failures_in_row,
					   s->h.probe_at > now
						   ? s->h.probe_at - now
						   : 0);
		}
	}
	uq->holds--;
	if (!any_usable && uq->attempts == NULL) {
		fail(uq, "every upstream is down: ");
		return;
	}
	progress(uq);
}

/* ---- Loop probes ---- */

/* "<name> IN TXT", recursion desired. */
static size_t
make_probe_query(const char *name, uint8_t *buf, size_t buflen)
{
	size_t used = 12;
	const char *label = name;
	uint8_t id[2];

	if (buflen < 12 + strlen(name) + 2 + 4)
		return 0;
	if (getrandom(id, sizeof id, 0) != sizeof id)
		id[0] = id[1] = 0x5a;
	memset(buf, 0, 12);
	buf[0] = id[0];
	buf[1] = id[1];
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* one question */
	while (*label != '\0') {
		const char *dot = strchr(label, '.');
		size_t n = dot ? (size_t)(dot - label) : strlen(label);

		buf[used++] = (uint8_t)n;
		memcpy(buf + used, label, n);
		used += n;
		label += n + (dot ? 1 : 0);
	}
	buf[used++] = 0;
	buf[used++] = 0;
	buf[used++] = 16; /* TXT */
	buf[used++] = 0;
	buf[used++] = 1; /* IN */
	return used;
}

/* One loop probe less to wait for; the last one tells the caller. */
static void
loop_check_step(struct upstream *up)
{
	size_t i, usable_count = 0;

	if (--up->loop_checks_pending > 0 || up->closing)
		return;
	for (i = 0; i < up->n_servers; i++)
		usable_count += !up->servers[i].loop;
	if (up->loop_cb != NULL)
		up->loop_cb(up->loop_arg, usable_count);
}

static void
on_loop_probe_done(void *arg, int status, const uint8_t *answer, size_t len,
		   const char *reason)
{
	struct server *s = arg;

	s->loop_checking = false;
	log_debug("loop probe of upstream %s: %s", s->address,
		  s->loop ? "it loops" : status == 0 ? "answered" : reason);
	loop_check_step(s->up);
}

void
upstream_check_loops(struct upstream *up, upstream_loop_cb cb, void *arg)
{
	uint8_t wire[128];
	size_t i, n;

	up->loop_cb = cb;
	up->loop_arg = arg;
	/* Counted first: a probe may end before the next is sent. */
	for (i = 0; i < up->n_servers; i++) {
		if (!up->servers[i].loop) {
			up->servers[i].loop_checking = true;
			up->loop_checks_pending++;
		}
	}
	if (up->loop_checks_pending == 0) {
		cb(arg, 0);
		return;
	}
	up->loop_checks_pending++; /* held until every probe is out */
	for (i = 0; i < up->n_servers; i++) {
		struct server *s = &up->servers[i];
		struct up_query *uq;

		if (!s->loop_checking)
			continue;
		n = make_probe_query(s->probe_name, wire, sizeof wire);
		uq = query_new(up, wire, n, on_loop_probe_done, s);
		uq->only = s;
		progress(uq);
	}
	loop_check_step(up);
}

bool
upstream_is_loop_probe(struct upstream *up, const char *qname)
{
	size_t len = strlen(qname), suffix = strlen(LOOP_PROBE_SUFFIX);
	size_t i;

	if (len <= suffix ||
	    strcmp(qname + len - suffix, LOOP_PROBE_SUFFIX) != 0)
		return false;
	for (i = 0; i < up->n_servers; i++) {
		struct server *s = &up->servers[i];

		if (strcmp(qname, s->probe_name) != 0)
			continue;
		if (!s->loop)
			log_error("upstream %s loops: dnsgated's probe query "
				  "sent to it came back to dnsgated (it "
				  "forwards to a server on port 53, and the "
				  "redirect brings that back here). Dropped "
				  "from the upstreams; point that resolver "
				  "elsewhere, or name its own upstreams in "
				  "dnsgate.conf",
				  s->address);
		s->loop = true;
		return true;
	}
	return false;
}

/* ---- The rest of the contract ---- */

void
upstream_free(struct upstream *up)
{
	size_t i;

	if (up == NULL)
		return;
	up->closing = true;
	for (i = 0; i < up->n_servers; i++) {
		struct server *s = &up->servers[i];
		struct channel *ch;

		if (s->current != NULL)
			channel_free(s->current); /* runs pending callbacks */
		s->current = NULL;
		while ((ch = s->retired) != NULL) {
			s->retired = ch->next;
			channel_free(ch);
		}
	}
	while (up->queries != NULL) /* none should be left; be sure */
		finish(up->queries, -1, NULL, 0, "shutting down");
	for (i = 0; i < up->n_servers; i++)
		free(up->servers[i].address);
	free(up->servers);
	free(up->servers_text);
	if (up->reaper != NULL)
		event_free(up->reaper);
	free(up);
}

const char *
upstream_servers(const struct upstream *up)
{
	return up->servers_text;
}

size_t
upstream_server_count(const struct upstream *up)
{
	return up->n_servers;
}

void
upstream_server_stats(const struct upstream *up, size_t i,
		      struct upstream_server_stats *out)
{
	const struct server *s = &up->servers[i];

	*out = s->st;
	out->srtt_ms = s->h.measured ? (unsigned)s->h.srtt : 0;
	out->rto_ms = (unsigned)s->h.rto;
	out->up = !s->h.down && !s->loop;
	out->loop = s->loop;
}

unsigned
upstream_channels_made(const struct upstream *up)
{
	return up->channels_made;
}
