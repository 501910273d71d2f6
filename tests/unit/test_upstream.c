/* test_upstream.c - the c-ares upstream on a real loop, against UDP
 * servers of the test's own on 127.0.0.1: servers that answer, hold every
 * query (a blackhole), answer late, REFUSED or SERVFAIL, are closed, or
 * forward dnsgated's loop probe back to it. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <event2/event.h>

#include "resolver/health.h"
#include "resolver/upstream.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

#define N_QUERIES 48
#define MAX_FAKES 100

struct held {
	struct sockaddr_in from;
	uint8_t wire[512];
	size_t len;
};

enum fake_mode {
	FAKE_ANSWER,   /* at once, or after delay_ms */
	FAKE_HOLD,     /* never: a blackhole */
	FAKE_REFUSED,
	FAKE_SERVFAIL,
	FAKE_LOOP,     /* hands the name to upstream_is_loop_probe */
};

/* A UDP server of the test's own. */
struct fake {
	int fd;
	uint16_t port;
	enum fake_mode mode;
	unsigned delay_ms;
	int received;
	struct event *ev;
	struct held held[N_QUERIES];
	int n_held;
};

struct delayed {
	struct fake *f;
	struct held h;
	struct event *ev;
};

static struct event_base *base;
static struct upstream *loop_up; /* for FAKE_LOOP */
static int answers_ok, answers_failed;
static char last_reason[2048];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_result(void *arg, int status, const uint8_t *answer, size_t len,
	  const char *reason)
{
	if (status == 0 && len >= 12 && (answer[2] & 0x80))
		answers_ok++;
	else {
		answers_failed++;
		snprintf(last_reason, sizeof last_reason, "%s",
			 reason ? reason : "");
	}
}

static void
reset_results(void)
{
	answers_ok = answers_failed = 0;
	last_reason[0] = '\0';
}

/* "<label>.test. IN A" with ID id. */
static size_t
make_query(uint8_t *buf, uint16_t id, const char *label)
{
	size_t n = strlen(label), used = 12;

	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 1; /* RD */
	buf[5] = 1;
	buf[used++] = (uint8_t)n;
	memcpy(buf + used, label, n);
	used += n;
	memcpy(buf + used, "\4test\0\0\1\0\1", 10);
	return used + 10;
}

/* The question's name, dotted, lower case as sent. */
static void
query_name(const uint8_t *wire, size_t len, char *out, size_t outlen)
{
	size_t p = 12, used = 0;

	out[0] = '\0';
	while (p < len && wire[p] != 0 && used + wire[p] + 2 < outlen) {
		if (used > 0)
			out[used++] = '.';
		memcpy(out + used, wire + p + 1, wire[p]);
		used += wire[p];
		p += wire[p] + 1u;
	}
	out[used] = '\0';
}

static void
reply(struct fake *f, struct held *h, uint8_t rcode)
{
	h->wire[2] |= 0x80;                               /* QR */
	h->wire[3] = (uint8_t)((h->wire[3] & 0xf0) | rcode | 0x80); /* RA */
	sendto(f->fd, h->wire, h->len, 0, (struct sockaddr *)&h->from,
	       sizeof h->from);
}

static void
on_delayed(evutil_socket_t fd, short what, void *arg)
{
	struct delayed *d = arg;

	reply(d->f, &d->h, 0);
	event_free(d->ev);
	free(d);
}

static void
on_fake(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;

	for (;;) {
		struct held h;
		socklen_t len = sizeof h.from;
		ssize_t n = recvfrom(fd, h.wire, sizeof h.wire, 0,
				     (struct sockaddr *)&h.from, &len);
		char name[256];

		if (n < 12)
			return;
		h.len = (size_t)n;
		f->received++;
		switch (f->mode) {
		case FAKE_ANSWER:
			if (f->delay_ms == 0) {
				reply(f, &h, 0);
			} else {
				struct delayed *d = calloc(1, sizeof *d);
				struct timeval tv = {0, (suseconds_t)f->delay_ms *
							       1000};

				d->f = f;
				d->h = h;
				d->ev = evtimer_new(base, on_delayed, d);
				evtimer_add(d->ev, &tv);
			}
			break;
		case FAKE_HOLD:
			if (f->n_held < N_QUERIES)
				f->held[f->n_held++] = h;
			break;
		case FAKE_REFUSED:
			reply(f, &h, 5);
			break;
		case FAKE_SERVFAIL:
			reply(f, &h, 2);
			break;
		case FAKE_LOOP:
			query_name(h.wire, h.len, name, sizeof name);
			/* What dnsgated's listener would do with it. */
			reply(f, &h,
			      upstream_is_loop_probe(loop_up, name) ? 5 : 0);
			break;
		}
	}
}

static int
fake_open(struct fake *f, enum fake_mode mode)
{
	struct sockaddr_in sin = fixture_loopback(0);

	memset(f, 0, sizeof *f);
	f->mode = mode;
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    (f->port = fixture_local_port(f->fd)) == 0)
		return -1;
	f->ev = event_new(base, f->fd, EV_READ | EV_PERSIST, on_fake, f);
	event_add(f->ev, NULL);
	return 0;
}

static void
fake_close(struct fake *f)
{
	if (f->ev != NULL)
		event_free(f->ev);
	if (f->fd >= 0)
		close(f->fd);
	f->ev = NULL;
	f->fd = -1;
}

struct setup {
	struct upstream_options o;
	char text[MAX_FAKES][32];
	char *servers[MAX_FAKES];
};

static void
options(struct setup *st, const uint16_t *ports, size_t n,
	unsigned deadline_ms)
{
	size_t i;

	memset(st, 0, sizeof *st);
	for (i = 0; i < n; i++) {
		snprintf(st->text[i], sizeof st->text[i], "127.0.0.1:%u",
			 ports[i]);
		st->servers[i] = st->text[i];
	}
	st->o.servers = st->servers;
	st->o.n_servers = n;
	st->o.mark = 0x64676174;
	st->o.deadline_ms = deadline_ms;
	st->o.try_max_ms = deadline_ms;
	st->o.tries = 2;
	st->o.listen_port = 5453;
}

/* A new upstream for st, checked, with the results of earlier queries
 * forgotten; NULL when it could not be made. */
static struct upstream *
new_upstream(struct setup *st)
{
	char err[256];
	struct upstream *up = upstream_new(base, &st->o, err, sizeof err);

	CHECK(up != NULL);
	reset_results();
	return up;
}

static void
run_until(int *counter, int want, int max_ms)
{
	int64_t end = now_ms() + max_ms;

	while (*counter < want && now_ms() < end) {
		struct timeval tick = {0, 5000};

		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
}

static void
run_for(int ms)
{
	int never = 0;

	run_until(&never, 1, ms);
}

/* Sends one query and waits for its result; returns the milliseconds it
 * took. */
static int64_t
ask(struct upstream *up, uint16_t id)
{
	uint8_t q[64];
	int64_t start = now_ms();
	int before = answers_ok + answers_failed;
	int done = before;

	upstream_send(up, q, make_query(q, id, "a"), on_result, NULL);
	while (answers_ok + answers_failed == before &&
	       now_ms() < start + 10000) {
		done = answers_ok + answers_failed;
		run_until(&done, before + 1, 10);
		done = answers_ok + answers_failed;
	}
	return now_ms() - start;
}

static void
stats(struct upstream *up, size_t i, struct upstream_server_stats *out)
{
	memset(out, 0, sizeof *out);
	CHECK(i < upstream_server_count(up));
	if (i < upstream_server_count(up))
		upstream_server_stats(up, i, out);
}

/* Queries leave from ever new source ports: a channel takes
 * UPSTREAM_QUERIES_PER_CHANNEL and is replaced. */
static void
test_ports_rotate(void)
{
	struct setup st;
	struct fake f;
	struct upstream *up;
	uint16_t ports[N_QUERIES];
	int i, j, distinct = 0;

	CHECK(fake_open(&f, FAKE_HOLD) == 0);
	options(&st, &f.port, 1, 5000);
	up = new_upstream(&st);
	if (up == NULL)
		return;
	for (i = 0; i < N_QUERIES; i++) {
		uint8_t q[64];

		upstream_send(up, q, make_query(q, (uint16_t)(1000 + i), "a"),
			      on_result, NULL);
	}
	run_until(&f.n_held, N_QUERIES, 3000);
	CHECK_INT(f.n_held, N_QUERIES);

	/* All 48 were pending at once: without rotation one port. */
	for (i = 0; i < f.n_held; i++) {
		uint16_t p = ntohs(f.held[i].from.sin_port);

		for (j = 0; j < distinct && ports[j] != p; j++)
			;
		if (j == distinct)
			ports[distinct++] = p;
	}
	CHECK_INT(UPSTREAM_QUERIES_PER_CHANNEL, 16);
	CHECK(distinct >= 3); /* 48 queries, 16 a channel */
	CHECK(upstream_channels_made(up) >= 3);

	/* Every held query answered: every callback succeeds, on retired
	 * channels too. */
	for (i = 0; i < f.n_held; i++)
		reply(&f, &f.held[i], 0);
	run_until(&answers_ok, N_QUERIES, 3000);
	CHECK_INT(answers_ok, N_QUERIES);
	CHECK_INT(answers_failed, 0);
	run_for(20); /* let the reaper run */

	fake_close(&f);
	upstream_free(up);
}

/* Nobody listening: the failure says so, as what it was; a query still
 * pending when the upstream is freed is failed, not lost. */
static void
test_failures(void)
{
	struct setup st;
	struct upstream *up;
	char err[256], want[128];
	uint8_t q[64];
	uint16_t port = fixture_free_port(); /* ICMP port unreachable */

	options(&st, &port, 1, 1800);
	up = new_upstream(&st);
	if (up == NULL)
		return;
	CHECK(ask(up, 7) < 200);
	CHECK_INT(answers_failed, 1);
	snprintf(want, sizeof want,
		 "127.0.0.1:%u: connection refused (nothing listens at that "
		 "port)",
		 port);
	CHECK(strstr(last_reason, want) != NULL);

	reset_results();
	upstream_send(up, q, make_query(q, 8, "a"), on_result, NULL);
	upstream_free(up);
	CHECK_INT(answers_failed, 1);
	CHECK_STR(last_reason, "shutting down");

	st.o.n_servers = 0;
	CHECK(upstream_new(base, &st.o, err, sizeof err) == NULL);
	CHECK_STR(err, "no upstream server");
}

/* A blackholed sole server: the caller hears by the deadline, with each
 * try's timeout in the reason; once it is down, at once. A probe after
 * the backoff finds it back. */
static void
test_blackhole(void)
{
	struct setup st;
	struct fake f;
	struct upstream *up;
	struct upstream_server_stats s;
	int64_t took;
	int i;

	CHECK(fake_open(&f, FAKE_HOLD) == 0);
	options(&st, &f.port, 1, 1000);
	up = new_upstream(&st);
	if (up == NULL)
		return;
	took = ask(up, 1);
	fprintf(stderr, "blackholed sole server: failed after %lld ms: %s\n",
		(long long)took, last_reason);
	CHECK_INT(answers_failed, 1);
	CHECK(took >= 990 && took < 1300);
	CHECK(strstr(last_reason, "no answer within the 1000 ms deadline") ==
	      last_reason);
	CHECK(strstr(last_reason, ": timeout after 376 ms") != NULL);
	CHECK(strstr(last_reason, "refused") == NULL);
	CHECK_INT(f.received, 2); /* upstream-tries 2 */

	/* Until it is down, each query waits; after, none does. */
	for (i = 0; i < 4; i++) {
		stats(up, 0, &s);
		if (!s.up)
			break;
		ask(up, (uint16_t)(2 + i));
	}
	stats(up, 0, &s);
	CHECK(!s.up);
	CHECK(s.timeouts >= HEALTH_DOWN_AFTER);
	CHECK_INT(s.answers, 0);
	reset_results();
	took = ask(up, 10);
	CHECK(took < 50);
	CHECK_INT(answers_failed, 1);
	CHECK(strstr(last_reason, "every upstream is down: ") == last_reason);
	CHECK(strstr(last_reason, "next probe in") != NULL);

	/* It comes back; after the backoff the next query probes it. */
	f.mode = FAKE_ANSWER;
	run_for(HEALTH_PROBE_FIRST_MS + 100);
	reset_results();
	took = ask(up, 11);
	CHECK_INT(answers_ok, 1);
	CHECK(took < 200);
	stats(up, 0, &s);
	CHECK(s.up);
	CHECK(s.answers >= 1);
	fake_close(&f);
	upstream_free(up);
}

/* A dead first server and a good second one: only the first query pays
 * (one RTO); every later one goes straight to the good server. */
static void
test_dead_first(void)
{
	struct setup st;
	struct fake dead, good;
	struct upstream *up;
	struct upstream_server_stats s0, s1;
	uint16_t ports[2];
	int64_t took, slowest = 0;
	int i;

	CHECK(fake_open(&dead, FAKE_HOLD) == 0);
	CHECK(fake_open(&good, FAKE_ANSWER) == 0);
	ports[0] = dead.port;
	ports[1] = good.port;
	options(&st, ports, 2, 1800);
	up = new_upstream(&st);
	if (up == NULL)
		return;
	took = ask(up, 1);
	CHECK_INT(answers_ok, 1);
	CHECK(took >= 370 && took < 600); /* the unknown server's RTO */
	for (i = 0; i < 20; i++) {
		took = ask(up, (uint16_t)(2 + i));
		if (took > slowest)
			slowest = took;
	}
	fprintf(stderr, "dead first server: 20 more queries, slowest %lld "
			"ms\n",
		(long long)slowest);
	CHECK_INT(answers_ok, 21);
	CHECK(slowest < 100);
	CHECK_INT(dead.received, 1);
	stats(up, 0, &s0);
	stats(up, 1, &s1);
	CHECK_INT(s0.queries, 1);
	CHECK_INT(s0.timeouts, 1);
	CHECK_INT(s1.answers, 21);
	CHECK(s0.rto_ms > s1.rto_ms + UPSTREAM_RTT_BAND_MS);
	fake_close(&dead);
	fake_close(&good);
	upstream_free(up);
}

/* REFUSED and SERVFAIL move the query on, and are told as what they
 * were, never as a refused connection. */
static void
test_refused_servfail(void)
{
	struct setup st;
	struct fake refusing, failing, good;
	struct upstream *up;
	struct upstream_server_stats s;
	uint16_t ports[3];
	char want[256];

	CHECK(fake_open(&refusing, FAKE_REFUSED) == 0);
	CHECK(fake_open(&failing, FAKE_SERVFAIL) == 0);
	CHECK(fake_open(&good, FAKE_ANSWER) == 0);
	ports[0] = refusing.port;
	ports[1] = failing.port;
	options(&st, ports, 2, 1800);
	st.o.tries = 1;
	up = new_upstream(&st);
	if (up == NULL)
		return;
	CHECK(ask(up, 1) < 100);
	CHECK_INT(answers_failed, 1);
	snprintf(want, sizeof want, "127.0.0.1:%u: REFUSED; 127.0.0.1:%u: "
				    "SERVFAIL",
		 refusing.port, failing.port);
	CHECK_STR(last_reason, want);
	stats(up, 0, &s);
	CHECK_INT(s.refused, 1);
	stats(up, 1, &s);
	CHECK_INT(s.servfail, 1);
	upstream_free(up);

	ports[1] = good.port;
	options(&st, ports, 2, 1800);
	up = new_upstream(&st);
	if (up == NULL)
		return;
	CHECK(ask(up, 2) < 100);
	CHECK_INT(answers_ok, 1);
	CHECK_INT(refusing.received, 2);
	CHECK_INT(good.received, 1);
	fake_close(&refusing);
	fake_close(&failing);
	fake_close(&good);
	upstream_free(up);
}

/* A try that timed out stays open: its late answer is taken. */
static void
test_late_answer(void)
{
	struct setup st;
	struct fake slow;
	struct upstream *up;
	struct upstream_server_stats s;
	int64_t took;

	CHECK(fake_open(&slow, FAKE_ANSWER) == 0);
	slow.delay_ms = 600; /* past the first RTO (376) */
	options(&st, &slow.port, 1, 1800);
	up = new_upstream(&st);
	if (up == NULL)
		return;
	took = ask(up, 1);
	CHECK_INT(answers_ok, 1);
	CHECK(took >= 590 && took < 900);
	stats(up, 0, &s);
	CHECK_INT(s.timeouts, 1);
	CHECK(s.answers >= 1);
	CHECK(s.up);
	CHECK(s.srtt_ms > 0); /* the late answer was measured */
	run_for(700);
	fake_close(&slow);
	upstream_free(up);
}

/* A good but slower server is not starved: it gets one query in
 * UPSTREAM_EXPLORE_EVERY; the faster gets the rest. */
static void
test_slower_not_starved(void)
{
	struct setup st;
	struct fake fast, slower;
	struct upstream *up;
	uint16_t ports[2];
	int i;

	CHECK(fake_open(&fast, FAKE_ANSWER) == 0);
	CHECK(fake_open(&slower, FAKE_ANSWER) == 0);
	slower.delay_ms = 20;
	ports[0] = slower.port; /* first: a tie would favour it */
	ports[1] = fast.port;
	options(&st, ports, 2, 1800);
	up = new_upstream(&st);
	if (up == NULL)
		return;
	for (i = 0; i < 64; i++)
		ask(up, (uint16_t)i);
	fprintf(stderr, "64 queries: %d to the faster, %d to the slower\n",
		fast.received, slower.received);
	CHECK_INT(answers_ok, 64);
	CHECK(slower.received >= 64 / UPSTREAM_EXPLORE_EVERY - 1);
	CHECK(fast.received > 40);
	fake_close(&fast);
	fake_close(&slower);
	upstream_free(up);
}

/* Forgotten after the RTT TTL: a server that timed out once is tried
 * again. */
static void
test_rtt_forgotten(void)
{
	struct setup st;
	struct fake once_dead, good;
	struct upstream *up;
	uint16_t ports[2];

	CHECK(fake_open(&once_dead, FAKE_HOLD) == 0);
	CHECK(fake_open(&good, FAKE_ANSWER) == 0);
	ports[0] = once_dead.port;
	ports[1] = good.port;
	options(&st, ports, 2, 1800);
	st.o.rtt_ttl_ms = 300;
	up = new_upstream(&st);
	if (up == NULL)
		return;
	ask(up, 1);
	CHECK_INT(once_dead.received, 1);
	once_dead.mode = FAKE_ANSWER;
	run_for(400);
	ask(up, 2); /* both forgotten: the first configured again */
	CHECK_INT(once_dead.received, 2);
	CHECK_INT(answers_ok, 2);
	fake_close(&once_dead);
	fake_close(&good);
	upstream_free(up);
}

/* 100 servers, all kept as configured (no list cut at 1023 characters):
 * the first 99 refuse the connection, the 100th answers. */
static void
test_hundred_servers(void)
{
	static struct setup st;
	struct fake good;
	struct upstream *up;
	struct upstream_server_stats s;
	uint16_t ports[MAX_FAKES];
	size_t i, used = 0;

	CHECK(fake_open(&good, FAKE_ANSWER) == 0);
	for (i = 0; i < MAX_FAKES - 1; i++)
		ports[i] = fixture_free_port(); /* nobody listens */
	ports[MAX_FAKES - 1] = good.port;
	options(&st, ports, MAX_FAKES, 1800);
	up = new_upstream(&st);
	if (up == NULL)
		return;
	CHECK_INT(upstream_server_count(up), MAX_FAKES);
	CHECK(strlen(upstream_servers(up)) > 1024);
	CHECK(strstr(upstream_servers(up), st.text[MAX_FAKES - 1]) != NULL);
	reset_results();
	ask(up, 1);
	CHECK_INT(answers_ok, 1);
	CHECK_INT(good.received, 1);
	for (i = 0; i < MAX_FAKES; i++) {
		stats(up, i, &s);
		CHECK_STR(s.address, st.text[i]);
		used += s.queries == 1;
	}
	CHECK_INT(used, MAX_FAKES);
	stats(up, MAX_FAKES - 1, &s);
	CHECK_INT(s.answers, 1);
	fake_close(&good);
	upstream_free(up);
}

/* An upstream that is dnsgated itself is refused at once. */
static void
test_self_refused(void)
{
	struct setup st;
	struct upstream *up;
	struct ifaddrs *ifs, *i;
	uint16_t port = 5453;
	char err[256];

	options(&st, &port, 1, 1800);
	CHECK(upstream_new(base, &st.o, err, sizeof err) == NULL);
	CHECK(strstr(err, "upstream 127.0.0.1:5453 is dnsgated itself") ==
	      err);
	snprintf(st.text[0], sizeof st.text[0], "[::1]:5453");
	CHECK(upstream_new(base, &st.o, err, sizeof err) == NULL);
	snprintf(st.text[0], sizeof st.text[0], "127.0.0.1:53");
	up = upstream_new(base, &st.o, err, sizeof err);
	CHECK(up != NULL); /* another resolver on this host: allowed */
	upstream_free(up);
	st.o.listen_port = 53;
	snprintf(st.text[0], sizeof st.text[0], "127.0.0.2");
	CHECK(upstream_new(base, &st.o, err, sizeof err) == NULL);

	/* An address of an interface of this host. */
	st.o.listen_port = 5453;
	if (getifaddrs(&ifs) < 0)
		return;
	for (i = ifs; i != NULL; i = i->ifa_next) {
		struct sockaddr_in *sin = (struct sockaddr_in *)i->ifa_addr;
		char a[INET_ADDRSTRLEN];

		if (sin == NULL || sin->sin_family != AF_INET ||
		    (ntohl(sin->sin_addr.s_addr) >> 24) == 127)
			continue;
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof a);
		snprintf(st.text[0], sizeof st.text[0], "%s:5453", a);
		CHECK(upstream_new(base, &st.o, err, sizeof err) == NULL);
		CHECK(strstr(err, "is dnsgated itself") != NULL);
		break;
	}
	freeifaddrs(ifs);
}

static size_t loop_usable = 99;
static int loop_done;

static void
on_loop_check(void *arg, size_t n_usable)
{
	loop_usable = n_usable;
	loop_done++;
}

/* A server that forwards dnsgated's probe back to it is dropped; the
 * others stay. */
static void
test_loop_probe(void)
{
	struct setup st;
	struct fake looping, good;
	struct upstream *up;
	struct upstream_server_stats s;
	uint16_t ports[2];

	CHECK(fake_open(&looping, FAKE_LOOP) == 0);
	CHECK(fake_open(&good, FAKE_ANSWER) == 0);
	ports[0] = looping.port;
	ports[1] = good.port;
	options(&st, ports, 2, 1800);
	up = new_upstream(&st);
	if (up == NULL)
		return;
	loop_up = up;
	CHECK(!upstream_is_loop_probe(up, "a.test"));
	CHECK(!upstream_is_loop_probe(up, "x.dnsgate-loop.arpa"));
	upstream_check_loops(up, on_loop_check, NULL);
	run_until(&loop_done, 1, 2000);
	CHECK_INT(loop_done, 1);
	CHECK_INT(loop_usable, 1);
	stats(up, 0, &s);
	CHECK(s.loop);
	CHECK(!s.up);
	stats(up, 1, &s);
	CHECK(!s.loop);
	reset_results();
	ask(up, 1);
	CHECK_INT(answers_ok, 1);
	CHECK_INT(looping.received, 1); /* the probe only */
	upstream_free(up);

	/* The only server loops: none is left. */
	options(&st, ports, 1, 1800);
	up = new_upstream(&st);
	if (up == NULL)
		return;
	loop_up = up;
	loop_done = 0;
	upstream_check_loops(up, on_loop_check, NULL);
	run_until(&loop_done, 1, 2000);
	CHECK_INT(loop_usable, 0);
	reset_results();
	CHECK(ask(up, 2) < 50);
	CHECK(strstr(last_reason, "dropped (it loops back to dnsgated)") !=
	      NULL);
	upstream_free(up);
	loop_up = NULL;
	fake_close(&looping);
	fake_close(&good);
}

int
main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "not root (SO_MARK needs CAP_NET_ADMIN): "
				"skipped\n");
		return 77;
	}
	ares_library_init(ARES_LIB_INIT_ALL);
	base = event_base_new();
	test_ports_rotate();
	test_failures();
	test_refused_servfail();
	test_self_refused();
	test_hundred_servers();
	test_loop_probe();
	test_dead_first();
	test_late_answer();
	test_slower_not_starved();
	test_rtt_forgotten();
	test_blackhole();
	event_base_free(base);
	ares_library_cleanup();
	return check_exit();
}
