/* test_cache.c - unit tests for resolver/cache.c. Time is simulated with
 * the now argument; nothing sleeps. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "resolver/cache.h"
#include "resolver/message.h"

#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

#define BUFSIZE 4096
#define T0 ((time_t)100000)

/* An answer to "name A IN" with ID 0x1234: one A record (ttl, addr), an
 * NS with ttl + 100 and an OPT. Returns its length in buf. */
static size_t
make_answer(uint8_t *buf, size_t buflen, const char *name, uint32_t ttl,
	    const char *addr)
{
	char text[256];
	ldns_pkt *pkt;

	snprintf(text, sizeof text, "%s. IN A", name);
	pkt = fixture_answer_new(text, LDNS_RCODE_NOERROR);
	snprintf(text, sizeof text, "%s. %u IN A %s", name, ttl, addr);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER, text);
	snprintf(text, sizeof text, "%s. %u IN NS ns.example.", name,
		 ttl + 100);
	fixture_add_rr(pkt, LDNS_SECTION_AUTHORITY, text);
	ldns_pkt_set_edns_udp_size(pkt, 1232);
	ldns_pkt_set_edns_do(pkt, true);
	return fixture_pkt_to_buf(pkt, buf, buflen);
}

static struct dns_question
question(const char *name, uint16_t qtype, uint16_t id)
{
	struct dns_question q;

	memset(&q, 0, sizeof q);
	q.id = id;
	snprintf(q.qname, sizeof q.qname, "%s", name);
	q.qtype = qtype;
	q.qclass = 1;
	q.udp_size = 512;
	return q;
}

/* The TTLs of the answer's A record and authority NS, and the OPT's DO. */
static int
read_ttls(const uint8_t *wire, size_t len, uint32_t *a, uint32_t *ns,
	  bool *do_bit)
{
	ldns_pkt *pkt = NULL;

	if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK)
		return -1;
	*a = ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(pkt), 0));
	*ns = ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_authority(pkt), 0));
	*do_bit = ldns_pkt_edns_do(pkt);
	ldns_pkt_free(pkt);
	return 0;
}

/* The A record's address as text. */
static const char *
answer_addr(const uint8_t *wire, size_t len, char *buf, size_t buflen)
{
	ldns_pkt *pkt = NULL;

	buf[0] = '\0';
	if (ldns_wire2pkt(&pkt, wire, len) == LDNS_STATUS_OK) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(pkt), 0);
		char *s = rr ? ldns_rdf2str(ldns_rr_rdf(rr, 0)) : NULL;

		snprintf(buf, buflen, "%s", s ? s : "");
		LDNS_FREE(s);
		ldns_pkt_free(pkt);
	}
	return buf;
}

static void
test_put_get(void)
{
	struct cache *c = cache_new(100);
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	struct dns_question q = question("www.example.com", 1, 0x5555);
	size_t n, got;
	uint32_t a, ns;
	bool do_bit;

	CHECK_INT(cache_count(c), 0);
	n = make_answer(wire, sizeof wire, "www.example.com", 300, "192.0.2.1");
	CHECK(n > 12);

	/* A miss on an empty cache. */
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0), 0);

	cache_put(c, &q, wire, n, 300, T0);
	CHECK_INT(cache_count(c), 1);

	/* The same instant: identical bytes but the asker's ID. */
	q.id = 0xa1b2;
	memset(out, 0, sizeof out);
	got = cache_get(c, &q, out, sizeof out, T0);
	CHECK_INT(got, n);
	CHECK_INT(fixture_get16(out), 0xa1b2);
	CHECK(memcmp(out + 2, wire + 2, n - 2) == 0);

	/* The stored copy is a copy: changing the caller's buffer later
	 * does not change it. */
	memset(wire + 12, 0xff, n - 12);
	got = cache_get(c, &q, out, sizeof out, T0);
	CHECK_INT(got, n);
	CHECK_INT(read_ttls(out, got, &a, &ns, &do_bit), 0);
	CHECK_INT(a, 300);
	CHECK_INT(ns, 400);
	CHECK(do_bit);

	/* Another asker, another ID. */
	q.id = 7;
	got = cache_get(c, &q, out, sizeof out, T0 + 1);
	CHECK_INT(got, n);
	CHECK_INT(fixture_get16(out), 7);

	CHECK_INT(cache_count(c), 1);
	cache_free(c);
	cache_free(NULL);
}

static void
test_aging_and_expiry(void)
{
	struct cache *c = cache_new(100);
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	struct dns_question q = question("age.example", 1, 1);
	size_t n, got;
	uint32_t a = 0, ns = 0;
	bool do_bit = false;

	n = make_answer(wire, sizeof wire, "age.example", 300, "192.0.2.2");
	cache_put(c, &q, wire, n, 300, T0);

	/* 100 s later: every TTL 100 lower, OPT untouched. */
	got = cache_get(c, &q, out, sizeof out, T0 + 100);
	CHECK_INT(got, n);
	CHECK_INT(read_ttls(out, got, &a, &ns, &do_bit), 0);
	CHECK_INT(a, 200);
	CHECK_INT(ns, 300);
	CHECK(do_bit);

	/* Aging is from the time stored, not from the last hit. */
	got = cache_get(c, &q, out, sizeof out, T0 + 250);
	CHECK_INT(got, n);
	CHECK_INT(read_ttls(out, got, &a, &ns, &do_bit), 0);
	CHECK_INT(a, 50);
	CHECK_INT(ns, 150);

	/* One second before the end. */
	got = cache_get(c, &q, out, sizeof out, T0 + 299);
	CHECK_INT(got, n);
	CHECK_INT(read_ttls(out, got, &a, &ns, &do_bit), 0);
	CHECK_INT(a, 1);
	CHECK_INT(cache_count(c), 1);

	/* At ttl: gone, and removed. */
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + 300), 0);
	CHECK_INT(cache_count(c), 0);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + 1), 0);

	/* The cache's ttl, not the records', decides expiry: a short cache
	 * ttl with long record TTLs. */
	cache_put(c, &q, wire, n, 10, T0);
	CHECK(cache_get(c, &q, out, sizeof out, T0 + 9) == n);
	CHECK_INT(read_ttls(out, n, &a, &ns, &do_bit), 0);
	CHECK_INT(a, 291);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + 10), 0);
	CHECK_INT(cache_count(c), 0);

	/* Well after expiry too. */
	cache_put(c, &q, wire, n, 10, T0);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + 1000000), 0);
	CHECK_INT(cache_count(c), 0);
	cache_free(c);
}

static void
test_ttl_cap(void)
{
	struct cache *c = cache_new(10);
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	struct dns_question q = question("long.example", 1, 1);
	size_t n;

	n = make_answer(wire, sizeof wire, "long.example", 604800,
			"192.0.2.3");
	cache_put(c, &q, wire, n, 604800, T0);
	CHECK_INT(cache_count(c), 1);
	CHECK_INT(cache_get(c, &q, out, sizeof out,
			    T0 + CACHE_MAX_TTL - 1),
		  n);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + CACHE_MAX_TTL), 0);

	/* The largest ttl there is must not wrap the expiry time. */
	cache_put(c, &q, wire, n, 0xffffffffu, T0);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + 1), n);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + CACHE_MAX_TTL), 0);
	cache_free(c);
}

static void
test_key(void)
{
	struct cache *c = cache_new(100);
	uint8_t wire[BUFSIZE], out[BUFSIZE], other[BUFSIZE];
	struct dns_question q = question("key.example", 1, 1), k;
	size_t n, m;
	char addr[64];

	n = make_answer(wire, sizeof wire, "key.example", 300, "192.0.2.4");
	cache_put(c, &q, wire, n, 300, T0);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0), n);

	k = q;
	k.qtype = 28;
	CHECK_INT(cache_get(c, &k, out, sizeof out, T0), 0);
	k = q;
	k.qclass = 3;
	CHECK_INT(cache_get(c, &k, out, sizeof out, T0), 0);
	k = q;
	k.do_bit = true;
	CHECK_INT(cache_get(c, &k, out, sizeof out, T0), 0);
	k = q;
	k.cd_bit = true;
	CHECK_INT(cache_get(c, &k, out, sizeof out, T0), 0);
	k = q;
	snprintf(k.qname, sizeof k.qname, "key.example.org");
	CHECK_INT(cache_get(c, &k, out, sizeof out, T0), 0);
	k = q;
	snprintf(k.qname, sizeof k.qname, "ey.example");
	CHECK_INT(cache_get(c, &k, out, sizeof out, T0), 0);
	k = q;
	snprintf(k.qname, sizeof k.qname, "www.key.example");
	CHECK_INT(cache_get(c, &k, out, sizeof out, T0), 0);

	/* EDNS presence is part of the key: an answer carrying an OPT
	 * record must not go to a client that sent none. */
	k = q;
	k.edns = !q.edns;
	CHECK_INT(cache_get(c, &k, out, sizeof out, T0), 0);

	/* What is not part of the key: ID, EDNS size. */
	k = q;
	k.id = 999;
	k.udp_size = 4096;
	CHECK_INT(cache_get(c, &k, out, sizeof out, T0), n);

	/* Entries differing only in DO / CD / type live side by side. */
	m = make_answer(other, sizeof other, "key.example", 300, "192.0.2.44");
	k = q;
	k.do_bit = true;
	cache_put(c, &k, other, m, 300, T0);
	k = q;
	k.cd_bit = true;
	cache_put(c, &k, other, m, 300, T0);
	k = q;
	k.qtype = 28;
	cache_put(c, &k, other, m, 300, T0);
	CHECK_INT(cache_count(c), 4);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0), n);
	CHECK_STR(answer_addr(out, n, addr, sizeof addr), "192.0.2.4");
	k = q;
	k.do_bit = true;
	CHECK_INT(cache_get(c, &k, out, sizeof out, T0), m);
	CHECK_STR(answer_addr(out, m, addr, sizeof addr), "192.0.2.44");
	cache_free(c);
}

static void
test_replace(void)
{
	struct cache *c = cache_new(100);
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	struct dns_question q = question("rep.example", 1, 1);
	size_t n, m;
	char addr[64];
	uint32_t a, ns;
	bool do_bit;

	n = make_answer(wire, sizeof wire, "rep.example", 300, "192.0.2.5");
	cache_put(c, &q, wire, n, 300, T0);
	m = make_answer(wire, sizeof wire, "rep.example", 60, "192.0.2.6");
	cache_put(c, &q, wire, m, 60, T0 + 100);
	CHECK_INT(cache_count(c), 1);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + 110), m);
	CHECK_STR(answer_addr(out, m, addr, sizeof addr), "192.0.2.6");
	CHECK_INT(read_ttls(out, m, &a, &ns, &do_bit), 0);
	CHECK_INT(a, 50); /* aged from the second put */
	/* The new entry's lifetime counts, not the old one's. */
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + 160), 0);
	CHECK_INT(cache_count(c), 0);
	cache_free(c);
}

static void
test_lru(void)
{
	struct cache *c = cache_new(3);
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	struct dns_question q1 = question("one.example", 1, 1);
	struct dns_question q2 = question("two.example", 1, 1);
	struct dns_question q3 = question("three.example", 1, 1);
	struct dns_question q4 = question("four.example", 1, 1);
	struct dns_question q5 = question("five.example", 1, 1);
	size_t n;

	n = make_answer(wire, sizeof wire, "lru.example", 300, "192.0.2.7");
	cache_put(c, &q1, wire, n, 300, T0);
	cache_put(c, &q2, wire, n, 300, T0 + 1);
	cache_put(c, &q3, wire, n, 300, T0 + 2);
	CHECK_INT(cache_count(c), 3);

	/* A fourth pushes out the least recently used: one. */
	cache_put(c, &q4, wire, n, 300, T0 + 3);
	CHECK_INT(cache_count(c), 3);
	CHECK_INT(cache_get(c, &q1, out, sizeof out, T0 + 4), 0);
	CHECK_INT(cache_get(c, &q2, out, sizeof out, T0 + 4), n);
	CHECK_INT(cache_get(c, &q3, out, sizeof out, T0 + 4), n);
	CHECK_INT(cache_get(c, &q4, out, sizeof out, T0 + 4), n);

	/* Using two makes three the oldest. Order now (old to new):
	 * 3, 4, 2 after touching two last. */
	CHECK_INT(cache_get(c, &q3, out, sizeof out, T0 + 5), n);
	CHECK_INT(cache_get(c, &q4, out, sizeof out, T0 + 5), n);
	CHECK_INT(cache_get(c, &q2, out, sizeof out, T0 + 5), n);
	cache_put(c, &q5, wire, n, 300, T0 + 6);
	CHECK_INT(cache_count(c), 3);
	CHECK_INT(cache_get(c, &q3, out, sizeof out, T0 + 7), 0);
	CHECK_INT(cache_get(c, &q4, out, sizeof out, T0 + 7), n);
	CHECK_INT(cache_get(c, &q2, out, sizeof out, T0 + 7), n);
	CHECK_INT(cache_get(c, &q5, out, sizeof out, T0 + 7), n);

	/* Replacing an entry when full evicts nobody else. */
	cache_put(c, &q4, wire, n, 300, T0 + 8);
	CHECK_INT(cache_count(c), 3);
	CHECK_INT(cache_get(c, &q2, out, sizeof out, T0 + 9), n);
	CHECK_INT(cache_get(c, &q5, out, sizeof out, T0 + 9), n);
	CHECK_INT(cache_get(c, &q4, out, sizeof out, T0 + 9), n);
	cache_free(c);

	/* A cache of one. */
	c = cache_new(1);
	cache_put(c, &q1, wire, n, 300, T0);
	cache_put(c, &q2, wire, n, 300, T0);
	CHECK_INT(cache_count(c), 1);
	CHECK_INT(cache_get(c, &q1, out, sizeof out, T0), 0);
	CHECK_INT(cache_get(c, &q2, out, sizeof out, T0), n);
	cache_free(c);
}

static void
test_many_entries(void)
{
	/* More entries than the initial hash buckets, then eviction of
	 * exactly the oldest half. */
	struct cache *c = cache_new(500);
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	char name[64];
	size_t n;
	int i, hits = 0, misses = 0;

	n = make_answer(wire, sizeof wire, "many.example", 300, "192.0.2.8");
	for (i = 0; i < 1000; i++) {
		struct dns_question q;

		snprintf(name, sizeof name, "host%d.example", i);
		q = question(name, 1, 1);
		cache_put(c, &q, wire, n, 300, T0);
	}
	CHECK_INT(cache_count(c), 500);
	for (i = 0; i < 1000; i++) {
		struct dns_question q;

		snprintf(name, sizeof name, "host%d.example", i);
		q = question(name, 1, 1);
		if (cache_get(c, &q, out, sizeof out, T0 + 1) == n)
			hits += i >= 500;
		else
			misses += i < 500;
	}
	CHECK_INT(hits, 500);
	CHECK_INT(misses, 500);
	cache_free(c);
}

static void
test_stores_nothing(void)
{
	struct cache *c = cache_new(0);
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	struct dns_question q = question("zero.example", 1, 1);
	size_t n;

	n = make_answer(wire, sizeof wire, "zero.example", 300, "192.0.2.9");
	cache_put(c, &q, wire, n, 300, T0);
	CHECK_INT(cache_count(c), 0);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0), 0);
	cache_free(c);

	c = cache_new(10);
	cache_put(c, &q, wire, n, 0, T0);
	CHECK_INT(cache_count(c), 0);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0), 0);

	cache_free(c);
}

static void
test_small_out(void)
{
	struct cache *c = cache_new(10);
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	struct dns_question q = question("small.example", 1, 1);
	size_t n;

	n = make_answer(wire, sizeof wire, "small.example", 300, "192.0.2.10");
	cache_put(c, &q, wire, n, 300, T0);
	memset(out, 0xee, sizeof out);
	CHECK_INT(cache_get(c, &q, out, n - 1, T0), 0);
	CHECK_INT(out[n - 1], 0xee); /* nothing written past outlen */
	CHECK_INT(cache_get(c, &q, out, 0, T0), 0);
	/* The entry is still there for a big enough buffer. */
	CHECK_INT(cache_count(c), 1);
	CHECK_INT(cache_get(c, &q, out, n, T0), n);
	cache_free(c);
}

/* RFC 8767: an expired entry is kept for max-stale and handed out only
 * when asked for a stale answer, with every TTL 30. */
static void
test_stale(void)
{
	struct cache *c = cache_new(10);
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	struct dns_question q = question("stale.example", 1, 0x4242);
	size_t n, got;
	uint32_t a = 0, ns = 0;
	bool do_bit = false;
	char addr[64];

	n = make_answer(wire, sizeof wire, "stale.example", 300, "192.0.2.11");

	/* Without max-stale: dropped at expiry, never stale. */
	cache_put(c, &q, wire, n, 300, T0);
	CHECK_INT(cache_get_stale(c, &q, out, sizeof out, T0 + 300), 0);
	CHECK_INT(cache_count(c), 0);
	CHECK_INT(cache_stale_answers(c), 0);

	cache_set_max_stale(c, 100);
	cache_put(c, &q, wire, n, 300, T0);
	/* A fresh entry is no stale answer: cache_get serves it. */
	CHECK_INT(cache_get_stale(c, &q, out, sizeof out, T0 + 299), 0);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + 299), n);

	/* Expired: a miss for cache_get, kept for cache_get_stale. */
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + 300), 0);
	CHECK_INT(cache_count(c), 1);
	q.id = 0x7777;
	memset(out, 0, sizeof out);
	got = cache_get_stale(c, &q, out, sizeof out, T0 + 300);
	CHECK_INT(got, n);
	CHECK_INT(fixture_get16(out), 0x7777);
	CHECK_INT(read_ttls(out, got, &a, &ns, &do_bit), 0);
	CHECK_INT(a, CACHE_STALE_TTL);
	CHECK_INT(ns, CACHE_STALE_TTL);
	CHECK(do_bit); /* the OPT's flags are no TTL */
	CHECK_STR(answer_addr(out, got, addr, sizeof addr), "192.0.2.11");
	CHECK_INT(cache_stale_answers(c), 1);
	/* Serving it stale does not make it fresh. */
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + 301), 0);

	/* Until the end of max-stale, then gone. */
	CHECK_INT(cache_get_stale(c, &q, out, sizeof out, T0 + 399), n);
	CHECK_INT(cache_stale_answers(c), 2);
	CHECK_INT(cache_get_stale(c, &q, out, sizeof out, T0 + 400), 0);
	CHECK_INT(cache_count(c), 0);
	cache_put(c, &q, wire, n, 300, T0);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + 400), 0);
	CHECK_INT(cache_count(c), 0); /* cache_get removes it past max-stale */

	/* A new answer replaces the stale one: fresh again. */
	cache_put(c, &q, wire, n, 300, T0);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + 350), 0);
	cache_put(c, &q, wire, n, 300, T0 + 350);
	CHECK_INT(cache_get(c, &q, out, sizeof out, T0 + 351), n);
	CHECK_INT(cache_get_stale(c, &q, out, sizeof out, T0 + 351), 0);

	/* Too small a buffer: nothing written, not counted. */
	CHECK_INT(cache_get_stale(c, &q, out, n - 1, T0 + 650), 0);
	CHECK_INT(cache_stale_answers(c), 2);

	cache_free(c);
}

/* The cache's old hash, unkeyed FNV-1a over the name, type, class and
 * flags: what an app could compute to pick names for one bucket. */
static uint64_t
fnv_key(const struct dns_question *q)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)q->qname; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ q->qtype) * 1099511628211ULL;
	h = (h ^ q->qclass) * 1099511628211ULL;
	h = (h ^ (unsigned)(q->edns << 2 | q->do_bit << 1 | q->cd_bit)) *
	    1099511628211ULL;
	return h;
}

/* 200 names an app chose to share a bucket of an unkeyed hash spread
 * over the keyed one's buckets: no chain of them. */
static void
test_colliding_names(void)
{
	struct cache *c = cache_new(256); /* 256 buckets */
	uint8_t wire[BUFSIZE];
	char name[64];
	size_t n;
	int found = 0;
	long i;

	n = make_answer(wire, sizeof wire, "flood.example", 300, "192.0.2.9");
	for (i = 0; found < 200 && i < 10000000; i++) {
		struct dns_question q;

		snprintf(name, sizeof name, "c%ld.flood.example", i);
		q = question(name, 1, 1);
		if ((fnv_key(&q) & 255) != 0)
			continue;
		cache_put(c, &q, wire, n, 300, T0);
		found++;
	}
	CHECK_INT(found, 200);
	CHECK_INT(cache_count(c), 200);
	CHECK(cache_longest_chain(c) < 16);
	cache_free(c);
}

int
main(void)
{
	test_put_get();
	test_aging_and_expiry();
	test_ttl_cap();
	test_key();
	test_replace();
	test_lru();
	test_many_entries();
	test_stores_nothing();
	test_small_out();
	test_stale();
	test_colliding_names();
	return check_exit();
}
