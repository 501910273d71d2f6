/* test_message.c - unit tests for resolver/message.c: real DNS messages
 * built with ldns, and malformed ones built by hand. */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>

#include <ldns/ldns.h>

#include "resolver/message.h"

#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

#define BUFSIZE 8192

/* ----- building messages --------------------------------------------- */

struct qopts {
	uint16_t id;
	bool rd;
	bool cd;
	uint16_t edns_size; /* 0: no EDNS */
	bool do_bit;
};

static size_t
make_query(uint8_t *buf, size_t buflen, const char *name, ldns_rr_type type,
	   const struct qopts *o)
{
	ldns_rdf *dname = ldns_dname_new_frm_str(name);
	ldns_pkt *pkt;

	if (dname == NULL) {
		fprintf(stderr, "bad test name %s\n", name);
		return 0;
	}
	pkt = ldns_pkt_query_new(dname, type, LDNS_RR_CLASS_IN,
				 o->rd ? LDNS_RD : 0);
	ldns_pkt_set_id(pkt, o->id);
	ldns_pkt_set_cd(pkt, o->cd);
	if (o->edns_size != 0) {
		ldns_pkt_set_edns_udp_size(pkt, o->edns_size);
		ldns_pkt_set_edns_do(pkt, o->do_bit);
	}
	return fixture_pkt_to_buf(pkt, buf, buflen);
}

static const char *
fmt_addr(const struct ip_addr *a, char *buf, size_t len)
{
	return ip_addr_format(a, buf, len);
}

/* A hand-made query header: ID 0xabcd, RD, the given counts. */
static size_t
raw_header(uint8_t *buf, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	const uint8_t h[12] = {0xab,	    0xcd,	  0x01,	     0x00,
			       qd >> 8,	    qd & 0xff,	  an >> 8,   an & 0xff,
			       ns >> 8,	    ns & 0xff,	  ar >> 8,   ar & 0xff};

	memcpy(buf, h, sizeof h);
	return sizeof h;
}

/* "www.example.com A IN" as wire bytes. */
static const uint8_t www_question[] = {
	3,   'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
	3,   'c', 'o', 'm', 0, 0,   1,   0,	  1};

static size_t
raw_www_query(uint8_t *buf)
{
	size_t n = raw_header(buf, 1, 0, 0, 0);

	memcpy(buf + n, www_question, sizeof www_question);
	return n + sizeof www_question;
}

/* ----- message_parse_query -------------------------------------------- */

static void
check_verdict_at(int line, const uint8_t *wire, size_t len,
		 enum message_verdict expected)
{
	struct dns_question q;
	const char *reason = NULL;
	enum message_verdict v = message_parse_query(wire, len, &q, &reason);

	check_count++;
	if (v != expected) {
		check_failures++;
		fprintf(stderr, "%s:%d: verdict %d, expected %d (%s)\n",
			__FILE__, line, (int)v, (int)expected,
			reason ? reason : "no reason");
	}
	if (expected != MESSAGE_QUERY_OK) {
		check_count++;
		if (reason == NULL || reason[0] == '\0') {
			check_failures++;
			fprintf(stderr, "%s:%d: no reason given\n", __FILE__,
				line);
		}
	}
}

#define CHECK_VERDICT(wire, len, expected)                                     \
	check_verdict_at(__LINE__, wire, len, expected)

static void
test_query_normal(void)
{
	uint8_t buf[BUFSIZE];
	struct qopts o = {.id = 0x4242, .rd = true};
	struct dns_question q;
	const char *reason = NULL;
	size_t n;

	n = make_query(buf, sizeof buf, "www.example.com.", LDNS_RR_TYPE_A,
		       &o);
	CHECK(n > 12);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK_INT(q.id, 0x4242);
	CHECK_STR(q.qname, "www.example.com");
	CHECK_INT(q.qtype, 1);
	CHECK_INT(q.qclass, 1);
	CHECK_INT(q.udp_size, 512);
	CHECK(!q.edns);
	CHECK(!q.do_bit);
	CHECK(!q.cd_bit);

	/* The hand-made equivalent. */
	n = raw_www_query(buf);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK_INT(q.id, 0xabcd);
	CHECK_STR(q.qname, "www.example.com");
	CHECK_INT(q.qtype, 1);

	/* Other types and classes come through as numbers. */
	n = make_query(buf, sizeof buf, "example.com", LDNS_RR_TYPE_AAAA, &o);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK_INT(q.qtype, 28);
	n = make_query(buf, sizeof buf, "example.com", LDNS_RR_TYPE_HTTPS, &o);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK_INT(q.qtype, 65);
	n = raw_www_query(buf);
	buf[n - 1] = 3; /* class CH */
	buf[n - 3] = 16; /* type TXT */
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK_INT(q.qclass, 3);
	CHECK_INT(q.qtype, 16);

	/* CD. */
	o.cd = true;
	n = make_query(buf, sizeof buf, "example.com", LDNS_RR_TYPE_A, &o);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK(q.cd_bit);
}

static void
test_query_edns(void)
{
	uint8_t buf[BUFSIZE];
	struct qopts o = {.id = 7, .rd = true, .edns_size = 4096,
			  .do_bit = true};
	struct dns_question q;
	const char *reason = NULL;
	size_t n;

	n = make_query(buf, sizeof buf, "example.com", LDNS_RR_TYPE_A, &o);
	CHECK_INT(fixture_get16(buf + 10), 1); /* an OPT record is there */
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK(q.edns);
	CHECK(q.do_bit);
	CHECK_INT(q.udp_size, 4096);
	CHECK_STR(q.qname, "example.com");

	o.edns_size = 1232;
	o.do_bit = false;
	n = make_query(buf, sizeof buf, "example.com", LDNS_RR_TYPE_A, &o);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK(q.edns);
	CHECK(!q.do_bit);
	CHECK_INT(q.udp_size, 1232);

	/* Below 512 counts as 512 (RFC 6891 6.2.5). */
	o.edns_size = 100;
	n = make_query(buf, sizeof buf, "example.com", LDNS_RR_TYPE_A, &o);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK(q.edns);
	CHECK_INT(q.udp_size, 512);

	o.edns_size = 65535;
	n = make_query(buf, sizeof buf, "example.com", LDNS_RR_TYPE_A, &o);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK_INT(q.udp_size, 65535);

	/* A hand-made OPT: size 0, no flags. Still EDNS, still 512. */
	{
		static const uint8_t opt0[] = {0, 0, 41, 0, 0, 0, 0, 0, 0, 0, 0};
		static const uint8_t opt_do[] = {0,    0, 41, 0x04, 0xd0, 0,
						 0,    0x80, 0, 0,	0};

		n = raw_www_query(buf);
		buf[11] = 1;
		memcpy(buf + n, opt0, sizeof opt0);
		CHECK_INT(message_parse_query(buf, n + sizeof opt0, &q,
					      &reason),
			  MESSAGE_QUERY_OK);
		CHECK(q.edns);
		CHECK(!q.do_bit);
		CHECK_INT(q.udp_size, 512);
		CHECK_STR(q.qname, "www.example.com");

		memcpy(buf + n, opt_do, sizeof opt_do);
		CHECK_INT(message_parse_query(buf, n + sizeof opt_do, &q,
					      &reason),
			  MESSAGE_QUERY_OK);
		CHECK(q.edns);
		CHECK(q.do_bit);
		CHECK_INT(q.udp_size, 1232);
	}
}

static void
test_query_names(void)
{
	uint8_t buf[BUFSIZE];
	struct qopts o = {.id = 1};
	struct dns_question q;
	const char *reason = NULL;
	size_t n;
	char longname[300];
	size_t i;

	n = make_query(buf, sizeof buf, "WWW.Example.COM.", LDNS_RR_TYPE_A,
		       &o);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK_STR(q.qname, "www.example.com");

	n = make_query(buf, sizeof buf, "a.B.c-D.e", LDNS_RR_TYPE_A, &o);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK_STR(q.qname, "a.b.c-d.e");

	/* A single-label name. */
	n = make_query(buf, sizeof buf, "LOCALHOST.", LDNS_RR_TYPE_A, &o);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK_STR(q.qname, "localhost");

	/* The root. */
	n = make_query(buf, sizeof buf, ".", LDNS_RR_TYPE_NS, &o);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK_STR(q.qname, ".");
	CHECK_INT(q.qtype, 2);
	n = raw_header(buf, 1, 0, 0, 0);
	buf[n++] = 0;
	buf[n++] = 0;
	buf[n++] = 2;
	buf[n++] = 0;
	buf[n++] = 1;
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK_STR(q.qname, ".");

	/* The longest name there is (253 characters, 255 octets). */
	longname[0] = '\0';
	for (i = 0; i < 3; i++) {
		memset(longname + strlen(longname), 'A', 63);
		longname[i * 64 + 63] = '.';
		longname[i * 64 + 64] = '\0';
	}
	memset(longname + strlen(longname), 'b', 61);
	longname[253] = '\0';
	CHECK_INT(strlen(longname), 253);
	n = make_query(buf, sizeof buf, longname, LDNS_RR_TYPE_A, &o);
	CHECK(n > 0);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	for (i = 0; longname[i] != '\0'; i++)
		longname[i] = (char)(longname[i] == 'A' ? 'a' : longname[i]);
	CHECK_STR(q.qname, longname);
}

/* A name of 207 octets whose first labels hold bytes that print as
 * "\DDD" escapes: its text form is far longer than qname[256]. The
 * verdict may be FORMERR, but a qname that is accepted must be the
 * question's name and must end with its real last labels: the policy
 * matches on it and the cache keys on it. */
static void
test_query_escaped_name(void)
{
	uint8_t buf[BUFSIZE];
	struct dns_question q;
	const char *reason = NULL;
	enum message_verdict v;
	size_t n = raw_header(buf, 1, 0, 0, 0), i, qlen;
	static const uint8_t tail[] = {4,   'e', 'v', 'i', 'l', 7,   'e',
				       'x', 'a', 'm', 'p', 'l', 'e', 0,
				       0,   1,	 0,   1};

	for (i = 0; i < 3; i++) {
		buf[n++] = 63;
		memset(buf + n, 0x01, 63);
		n += 63;
	}
	memcpy(buf + n, tail, sizeof tail);
	n += sizeof tail;
	v = message_parse_query(buf, n, &q, &reason);
	CHECK(v == MESSAGE_QUERY_OK || v == MESSAGE_FORMERR);
	if (v == MESSAGE_QUERY_OK) {
		qlen = strlen(q.qname);
		CHECK(qlen >= strlen(".evil.example") &&
		      strcmp(q.qname + qlen - strlen(".evil.example"),
			     ".evil.example") == 0);
		if (!(qlen >= 13 &&
		      strcmp(q.qname + qlen - 13, ".evil.example") == 0))
			fprintf(stderr, "  qname (%zu chars) ends \"...%s\"\n",
				qlen, qlen > 20 ? q.qname + qlen - 20 : q.qname);
	}
}

static void
test_query_drop(void)
{
	uint8_t buf[BUFSIZE];
	size_t n;

	/* Shorter than a header: nothing to answer to. */
	n = raw_www_query(buf);
	CHECK_VERDICT(buf, 0, MESSAGE_DROP);
	CHECK_VERDICT(buf, 1, MESSAGE_DROP);
	CHECK_VERDICT(buf, 11, MESSAGE_DROP);

	/* A response (QR set). */
	n = raw_www_query(buf);
	buf[2] |= 0x80;
	CHECK_VERDICT(buf, n, MESSAGE_DROP);
	/* ... even with an opcode we do not implement. */
	buf[2] = 0x80 | (4 << 3);
	CHECK_VERDICT(buf, n, MESSAGE_DROP);
	/* ... even malformed. */
	n = raw_header(buf, 0, 0, 0, 0);
	buf[2] |= 0x80;
	CHECK_VERDICT(buf, n, MESSAGE_DROP);

	/* A real answer built by ldns. */
	{
		ldns_pkt *pkt = fixture_answer_new("example.com. IN A", 0);

		fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		               "example.com. 60 IN A 192.0.2.1");
		n = fixture_pkt_to_buf(pkt, buf, sizeof buf);
		CHECK_VERDICT(buf, n, MESSAGE_DROP);
	}
}

static void
test_query_formerr(void)
{
	uint8_t buf[BUFSIZE];
	size_t n, h;

	/* No question. */
	n = raw_header(buf, 0, 0, 0, 0);
	CHECK_VERDICT(buf, n, MESSAGE_FORMERR);

	/* Two questions. */
	h = raw_header(buf, 2, 0, 0, 0);
	memcpy(buf + h, www_question, sizeof www_question);
	memcpy(buf + h + sizeof www_question, www_question,
	       sizeof www_question);
	CHECK_VERDICT(buf, h + 2 * sizeof www_question, MESSAGE_FORMERR);

	/* A question count of one and nothing after the header. */
	n = raw_header(buf, 1, 0, 0, 0);
	CHECK_VERDICT(buf, n, MESSAGE_FORMERR);

	/* The question cut at every length. */
	n = raw_www_query(buf);
	for (h = 13; h < n; h++)
		CHECK_VERDICT(buf, h, MESSAGE_FORMERR);

	/* A label longer than what follows. */
	n = raw_header(buf, 1, 0, 0, 0);
	buf[n++] = 63;
	memcpy(buf + n, "abcde", 5);
	n += 5;
	CHECK_VERDICT(buf, n, MESSAGE_FORMERR);
	buf[n++] = 0;
	buf[n++] = 0;
	buf[n++] = 1;
	buf[n++] = 0;
	buf[n++] = 1;
	CHECK_VERDICT(buf, n, MESSAGE_FORMERR);

	/* A name without its terminating root label. */
	n = raw_header(buf, 1, 0, 0, 0);
	buf[n++] = 3;
	memcpy(buf + n, "www", 3);
	n += 3;
	CHECK_VERDICT(buf, n, MESSAGE_FORMERR);

	/* A compression pointer to itself. */
	n = raw_header(buf, 1, 0, 0, 0);
	buf[n++] = 0xc0;
	buf[n++] = 12;
	buf[n++] = 0;
	buf[n++] = 1;
	buf[n++] = 0;
	buf[n++] = 1;
	CHECK_VERDICT(buf, n, MESSAGE_FORMERR);

	/* A loop through a label: "a" then back to the start. */
	n = raw_header(buf, 1, 0, 0, 0);
	buf[n++] = 1;
	buf[n++] = 'a';
	buf[n++] = 0xc0;
	buf[n++] = 12;
	buf[n++] = 0;
	buf[n++] = 1;
	buf[n++] = 0;
	buf[n++] = 1;
	CHECK_VERDICT(buf, n, MESSAGE_FORMERR);

	/* A pointer past the end, and one cut in half. */
	n = raw_header(buf, 1, 0, 0, 0);
	buf[n++] = 0xc0;
	buf[n++] = 200;
	buf[n++] = 0;
	buf[n++] = 1;
	buf[n++] = 0;
	buf[n++] = 1;
	CHECK_VERDICT(buf, n, MESSAGE_FORMERR);
	n = raw_header(buf, 1, 0, 0, 0);
	buf[n++] = 0xc0;
	CHECK_VERDICT(buf, n, MESSAGE_FORMERR);

	/* Reserved label types 0x40 and 0x80. */
	n = raw_header(buf, 1, 0, 0, 0);
	buf[n++] = 0x41;
	buf[n++] = 'a';
	buf[n++] = 0;
	buf[n++] = 0;
	buf[n++] = 1;
	buf[n++] = 0;
	buf[n++] = 1;
	CHECK_VERDICT(buf, n, MESSAGE_FORMERR);
	buf[12] = 0x81;
	CHECK_VERDICT(buf, n, MESSAGE_FORMERR);

	/* A name longer than 255 octets (five 63-octet labels). */
	n = raw_header(buf, 1, 0, 0, 0);
	for (h = 0; h < 5; h++) {
		buf[n++] = 63;
		memset(buf + n, 'a', 63);
		n += 63;
	}
	buf[n++] = 0;
	buf[n++] = 0;
	buf[n++] = 1;
	buf[n++] = 0;
	buf[n++] = 1;
	CHECK_VERDICT(buf, n, MESSAGE_FORMERR);

	/* An additional record announced but missing. */
	n = raw_www_query(buf);
	buf[11] = 1;
	CHECK_VERDICT(buf, n, MESSAGE_FORMERR);

	/* An OPT record whose RDLENGTH runs past the end. */
	{
		struct qopts o = {.id = 3, .edns_size = 1232};

		n = make_query(buf, sizeof buf, "example.com", LDNS_RR_TYPE_A,
			       &o);
		buf[n - 2] = 0;
		buf[n - 1] = 40;
		CHECK_VERDICT(buf, n, MESSAGE_FORMERR);
	}
}

static void
test_query_notimp(void)
{
	uint8_t buf[BUFSIZE];
	size_t n;
	unsigned opcode;

	for (opcode = 1; opcode < 16; opcode++) {
		n = raw_www_query(buf);
		buf[2] = (uint8_t)(opcode << 3 | 0x01);
		CHECK_VERDICT(buf, n, MESSAGE_NOTIMP);
	}
	/* NOTIFY without a readable question is still NOTIMP. */
	n = raw_header(buf, 0, 0, 0, 0);
	buf[2] = 4 << 3;
	CHECK_VERDICT(buf, n, MESSAGE_NOTIMP);
}

/* Malformed input of every short length must not read out of bounds
 * (valgrind watches); every verdict is one of the four. */
static void
test_query_fuzz_lengths(void)
{
	uint8_t *heap;
	size_t n, cut;
	uint8_t buf[BUFSIZE];
	struct qopts o = {.id = 5, .rd = true, .edns_size = 1232,
			  .do_bit = true};
	int bad = 0;

	n = make_query(buf, sizeof buf, "a.example.com", LDNS_RR_TYPE_AAAA,
		       &o);
	for (cut = 0; cut <= n; cut++) {
		struct dns_question q;
		const char *reason = NULL;
		enum message_verdict v;

		heap = malloc(cut ? cut : 1);
		memcpy(heap, buf, cut);
		v = message_parse_query(heap, cut, &q, &reason);
		if (cut < 12)
			bad |= v != MESSAGE_DROP;
		else if (cut < n)
			bad |= v != MESSAGE_FORMERR;
		else
			bad |= v != MESSAGE_QUERY_OK;
		free(heap);
	}
	CHECK_INT(bad, 0);
}

/* ----- the structure check before ldns -------------------------------- */

/* A TSIG record owned by "key." with an empty MAC: 32 octets that ldns
 * parses whole. */
static const uint8_t tsig_record[] = {
	3,    'k', 'e', 'y', 0,	   /* owner */
	0,    250, 0,	0xff,	   /* TSIG, class ANY */
	0,    0,   0,	0,	   /* TTL */
	0,    17,		   /* RDLENGTH */
	0,			   /* algorithm: the root, for brevity */
	0,    0,   0x65, 0x5f, 0x00, 0x00, /* time signed */
	1,    0x2c,		   /* fudge */
	0,    0,		   /* MAC size */
	0xab, 0xcd,		   /* original ID */
	0,    0,		   /* error */
	0,    0};		   /* other length */

/* An OPT record: 1232-octet buffer, no options. */
static const uint8_t opt_record[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};

/* The www query with n_opt OPT then n_tsig TSIG records in additional. */
static size_t
query_with_extras(uint8_t *buf, size_t buflen, unsigned n_opt,
		  unsigned n_tsig)
{
	size_t n = raw_www_query(buf);
	unsigned i;

	buf[10] = (uint8_t)((n_opt + n_tsig) >> 8);
	buf[11] = (uint8_t)(n_opt + n_tsig);
	for (i = 0; i < n_opt && n + sizeof opt_record <= buflen; i++) {
		memcpy(buf + n, opt_record, sizeof opt_record);
		n += sizeof opt_record;
	}
	for (i = 0; i < n_tsig && n + sizeof tsig_record <= buflen; i++) {
		memcpy(buf + n, tsig_record, sizeof tsig_record);
		n += sizeof tsig_record;
	}
	return n;
}

static void
check_refusal_at(int line, const uint8_t *wire, size_t len,
		 const char *expected)
{
	struct dns_question q;
	const char *reason = NULL;

	check_count++;
	if (message_parse_query(wire, len, &q, &reason) != MESSAGE_FORMERR ||
	    reason == NULL || strcmp(reason, expected) != 0) {
		check_failures++;
		fprintf(stderr, "%s:%d: reason \"%s\", expected FORMERR \"%s\"\n",
			__FILE__, line, reason ? reason : "(none)", expected);
	}
}

#define CHECK_REFUSAL(wire, len, expected)                                     \
	check_refusal_at(__LINE__, wire, len, expected)

static void
test_query_structure(void)
{
	uint8_t buf[BUFSIZE];
	struct dns_question q;
	const char *reason = NULL;
	size_t n, h;

	/* One OPT and one TSIG: a signed EDNS query, as it should be. */
	n = query_with_extras(buf, sizeof buf, 1, 1);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK(q.edns);
	CHECK_INT(q.udp_size, 1232);
	CHECK_STR(q.qname, "www.example.com");
	n = query_with_extras(buf, sizeof buf, 0, 1);
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);

	n = query_with_extras(buf, sizeof buf, 0, 2);
	CHECK_REFUSAL(buf, n, "query has 2 TSIG records; a stub query has at "
			      "most one");
	n = query_with_extras(buf, sizeof buf, 1, 3);
	CHECK_REFUSAL(buf, n, "query has 3 TSIG records; a stub query has at "
			      "most one");
	n = query_with_extras(buf, sizeof buf, 2, 0);
	CHECK_REFUSAL(buf, n, "query has 2 OPT records; a stub query has at "
			      "most one");

	/* The counts are the header's: TSIG records announced but cut. */
	n = query_with_extras(buf, sizeof buf, 0, 3);
	CHECK_REFUSAL(buf, n - 1, "malformed message: a name or record runs "
				  "past the end of the message");
	/* An RDLENGTH that runs one octet past the end. */
	n = query_with_extras(buf, sizeof buf, 0, 1);
	buf[n - 17 - 1] = 18;
	CHECK_REFUSAL(buf, n, "malformed message: a name or record runs past "
			      "the end of the message");

	/* Answer and authority records have no place in a stub's query,
	 * a TSIG there no more than elsewhere. */
	h = raw_www_query(buf);
	memcpy(buf + h, tsig_record, sizeof tsig_record);
	n = h + sizeof tsig_record;
	buf[7] = 1;
	CHECK_REFUSAL(buf, n, "query has 1 answer record; a stub query has "
			      "none");
	buf[7] = 0;
	buf[9] = 1;
	CHECK_REFUSAL(buf, n, "query has 1 authority record; a stub query has "
			      "none");

	/* The question count, in words with the number. */
	n = raw_header(buf, 0, 0, 0, 0);
	CHECK_REFUSAL(buf, n, "query has 0 questions; a stub query has one");
	n = raw_header(buf, 3, 0, 0, 0);
	CHECK_REFUSAL(buf, n, "query has 3 questions; a stub query has one");
}

/* How much the heap holds now, in bytes. */
static size_t
heap_in_use(void)
{
	return mallinfo2().uordblks;
}

/* ldns 1.8.3 leaks every TSIG of the additional section but the last one
 * it keeps: without the structure check, 1,000 of these queries leak
 * megabytes (each TSIG record costs a few hundred bytes of ldns heap). */
static void
test_query_tsig_stuffing_does_not_leak(void)
{
	static uint8_t buf[DNS_MAX_UDP];
	size_t n = query_with_extras(buf, sizeof buf, 0, 64), before, after;
	int i, not_formerr = 0;

	/* Warm up whatever the first call allocates for good. */
	for (i = 0; i < 10; i++) {
		struct dns_question q;
		const char *reason;

		message_parse_query(buf, n, &q, &reason);
	}
	before = heap_in_use();
	for (i = 0; i < 1000; i++) {
		struct dns_question q;
		const char *reason;

		not_formerr += message_parse_query(buf, n, &q, &reason) !=
			       MESSAGE_FORMERR;
	}
	after = heap_in_use();
	CHECK_INT(not_formerr, 0);
	if (after > before + 4096)
		fprintf(stderr, "  heap grew by %zu bytes over 1,000 queries\n",
			after - before);
	CHECK(after <= before + 4096);
}

/* Appends to the additional section of the message in buf (n bytes) one
 * TSIG record whose RDLENGTH also covers six more whole TSIG records
 * after its own fields, then seven records of a private type with no
 * data: by RDLENGTH, one TSIG among eight records. ldns_wire2pkt does not
 * resume at RDLENGTH but after the fields it knows, and so reads the
 * hidden ones as records of their own; fuzz_query found this. */
static size_t
add_hidden_tsigs(uint8_t *buf, size_t n)
{
	static const uint8_t filler[] = {0, 0xff, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	size_t fields = sizeof tsig_record - 15, rdlen, i;
	unsigned ar = fixture_get16(buf + 10) + 8;

	buf[10] = (uint8_t)(ar >> 8);
	buf[11] = (uint8_t)ar;
	memcpy(buf + n, tsig_record, 15); /* owner .. RDLENGTH */
	rdlen = fields + 6 * sizeof tsig_record;
	buf[n + 13] = (uint8_t)(rdlen >> 8);
	buf[n + 14] = (uint8_t)rdlen;
	n += 15;
	memcpy(buf + n, tsig_record + 15, fields);
	n += fields;
	for (i = 0; i < 6; i++) {
		memcpy(buf + n, tsig_record, sizeof tsig_record);
		n += sizeof tsig_record;
	}
	for (i = 0; i < 7; i++) {
		memcpy(buf + n, filler, sizeof filler);
		n += sizeof filler;
	}
	return n;
}

static void
test_query_hidden_tsigs_do_not_leak(void)
{
	uint8_t buf[BUFSIZE];
	size_t n = add_hidden_tsigs(buf, raw_www_query(buf)), before, after;
	struct dns_question q;
	const char *reason = NULL;
	int i, ok = 0;

	/* One TSIG by its header: a fine query. */
	CHECK_INT(message_parse_query(buf, n, &q, &reason), MESSAGE_QUERY_OK);
	CHECK_STR(q.qname, "www.example.com");
	message_parse_query(buf, n, &q, &reason);
	before = heap_in_use();
	for (i = 0; i < 1000; i++)
		ok += message_parse_query(buf, n, &q, &reason) ==
		      MESSAGE_QUERY_OK;
	after = heap_in_use();
	CHECK_INT(ok, 1000);
	if (after > before + 4096)
		fprintf(stderr, "  heap grew by %zu bytes over 1,000 queries\n",
			after - before);
	CHECK(after <= before + 4096);
}

/* ----- message_reply_rcode / message_truncate / message_set_id --------- */

static void
test_reply_rcode(void)
{
	uint8_t query[BUFSIZE], out[BUFSIZE];
	struct qopts o = {.id = 0xbeef, .rd = true, .cd = true,
			  .edns_size = 4096, .do_bit = true};
	size_t n, qlen;
	ssize_t r;

	n = make_query(query, sizeof query, "www.example.com", LDNS_RR_TYPE_A,
		       &o);
	qlen = sizeof www_question; /* same name, type and class */
	CHECK(n > 12 + qlen);	    /* there is an OPT after it */
	memset(out, 0xee, sizeof out);
	r = message_reply_rcode(query, n, DNS_RCODE_NXDOMAIN, out, sizeof out);
	CHECK_INT(r, (ssize_t)(12 + qlen));
	CHECK_INT(fixture_get16(out), 0xbeef);
	CHECK(out[2] & 0x80);		      /* QR */
	CHECK_INT((out[2] >> 3) & 0x0f, 0); /* opcode QUERY */
	CHECK(out[2] & 0x01);		      /* RD copied */
	CHECK(!(out[2] & 0x04));	      /* not AA */
	CHECK(!(out[2] & 0x02));	      /* not TC */
	CHECK(out[3] & 0x80);		      /* RA */
	CHECK_INT(out[3] & 0x0f, DNS_RCODE_NXDOMAIN);
	CHECK_INT(fixture_get16(out + 4), 1);
	CHECK_INT(fixture_get16(out + 6), 0);
	CHECK_INT(fixture_get16(out + 8), 0);
	CHECK_INT(fixture_get16(out + 10), 0);
	CHECK(memcmp(out + 12, query + 12, qlen) == 0);
	CHECK(memcmp(out + 12, www_question, qlen) == 0);
	CHECK_INT(out[12 + qlen], 0xee); /* nothing written past it */

	/* The reply is a well-formed message ldns reads back. */
	{
		ldns_pkt *pkt = NULL;

		CHECK_INT(ldns_wire2pkt(&pkt, out, (size_t)r), LDNS_STATUS_OK);
		if (pkt != NULL) {
			CHECK(ldns_pkt_qr(pkt));
			CHECK_INT(ldns_pkt_get_rcode(pkt), LDNS_RCODE_NXDOMAIN);
			CHECK_INT(ldns_pkt_qdcount(pkt), 1);
			ldns_pkt_free(pkt);
		}
	}

	/* RD clear stays clear; every rcode comes through. */
	o.rd = false;
	n = make_query(query, sizeof query, "www.example.com", LDNS_RR_TYPE_A,
		       &o);
	r = message_reply_rcode(query, n, DNS_RCODE_REFUSED, out, sizeof out);
	CHECK_INT(r, (ssize_t)(12 + qlen));
	CHECK(!(out[2] & 0x01));
	CHECK(out[3] & 0x80);
	CHECK_INT(out[3] & 0x0f, DNS_RCODE_REFUSED);
	r = message_reply_rcode(query, n, DNS_RCODE_SERVFAIL, out, sizeof out);
	CHECK_INT(out[3] & 0x0f, DNS_RCODE_SERVFAIL);
	r = message_reply_rcode(query, n, DNS_RCODE_NOERROR, out, sizeof out);
	CHECK_INT(out[3] & 0x0f, DNS_RCODE_NOERROR);

	/* NOTIMP to another opcode keeps that opcode. */
	n = raw_www_query(query);
	query[2] = 4 << 3 | 0x01;
	r = message_reply_rcode(query, n, DNS_RCODE_NOTIMP, out, sizeof out);
	CHECK_INT(r, (ssize_t)n);
	CHECK_INT((out[2] >> 3) & 0x0f, 4);
	CHECK(out[2] & 0x80);
	CHECK_INT(out[3] & 0x0f, DNS_RCODE_NOTIMP);
	CHECK_INT(fixture_get16(out), 0xabcd);

	/* Exactly enough room, and one byte less. */
	n = raw_www_query(query);
	r = message_reply_rcode(query, n, DNS_RCODE_FORMERR, out, n);
	CHECK_INT(r, (ssize_t)n);
	CHECK_INT(message_reply_rcode(query, n, DNS_RCODE_FORMERR, out, n - 1),
		  -1);
	CHECK_INT(message_reply_rcode(query, n, DNS_RCODE_FORMERR, out, 11),
		  -1);

	/* Shorter than a header. */
	CHECK_INT(message_reply_rcode(query, 11, DNS_RCODE_FORMERR, out,
				      sizeof out),
		  -1);
	CHECK_INT(message_reply_rcode(query, 0, DNS_RCODE_FORMERR, out,
				      sizeof out),
		  -1);
}

static void
test_reply_rcode_header_only(void)
{
	uint8_t query[BUFSIZE], out[BUFSIZE];
	size_t n;
	ssize_t r;

	/* A bare header with no question. */
	n = raw_header(query, 0, 0, 0, 0);
	memset(out, 0xee, sizeof out);
	r = message_reply_rcode(query, n, DNS_RCODE_FORMERR, out, sizeof out);
	CHECK_INT(r, 12);
	CHECK_INT(fixture_get16(out), 0xabcd);
	CHECK(out[2] & 0x80);
	CHECK(out[2] & 0x01);
	CHECK(out[3] & 0x80);
	CHECK_INT(out[3] & 0x0f, DNS_RCODE_FORMERR);
	CHECK_INT(fixture_get16(out + 4), 0);
	CHECK_INT(fixture_get16(out + 6), 0);
	CHECK_INT(fixture_get16(out + 8), 0);
	CHECK_INT(fixture_get16(out + 10), 0);
	CHECK_INT(out[12], 0xee);
	/* It fits a 12-byte buffer. */
	CHECK_INT(message_reply_rcode(query, n, DNS_RCODE_FORMERR, out, 12),
		  12);

	/* A question announced but unreadable: header only, count 0. */
	n = raw_header(query, 1, 3, 0, 0);
	query[n++] = 63;
	query[n++] = 'a';
	r = message_reply_rcode(query, n, DNS_RCODE_FORMERR, out, sizeof out);
	CHECK_INT(r, 12);
	CHECK_INT(fixture_get16(out + 4), 0);
	CHECK_INT(fixture_get16(out + 6), 0);

	/* Question complete but its type and class cut off. */
	n = raw_www_query(query);
	r = message_reply_rcode(query, n - 2, DNS_RCODE_FORMERR, out,
				sizeof out);
	CHECK_INT(r, 12);
	CHECK_INT(fixture_get16(out + 4), 0);
}

static void
test_truncate(void)
{
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	ldns_pkt *pkt = fixture_answer_new("www.example.com. IN A", 0);
	size_t n, qlen = sizeof www_question;
	ssize_t r;
	int i;

	ldns_pkt_set_aa(pkt, true);
	for (i = 1; i <= 40; i++) {
		char rr[80];

		snprintf(rr, sizeof rr, "www.example.com. 300 IN A 192.0.2.%d",
			 i);
		fixture_add_rr(pkt, LDNS_SECTION_ANSWER, rr);
	}
	fixture_add_rr(pkt, LDNS_SECTION_AUTHORITY,
	               "example.com. 300 IN NS ns.example.com.");
	fixture_add_rr(pkt, LDNS_SECTION_ADDITIONAL,
	               "ns.example.com. 300 IN A 192.0.2.53");
	n = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	CHECK(n > 512);

	memset(out, 0xee, sizeof out);
	r = message_truncate(wire, n, out, sizeof out);
	CHECK_INT(r, (ssize_t)(12 + qlen));
	CHECK_INT(fixture_get16(out), 0x1234);
	CHECK(out[2] & 0x80); /* still a response */
	CHECK(out[2] & 0x02); /* TC */
	CHECK(out[2] & 0x04); /* AA as it was */
	CHECK(out[2] & 0x01); /* RD as it was */
	CHECK(out[3] & 0x80); /* RA as it was */
	CHECK_INT(out[3] & 0x0f, 0);
	CHECK_INT(fixture_get16(out + 4), 1);
	CHECK_INT(fixture_get16(out + 6), 0);
	CHECK_INT(fixture_get16(out + 8), 0);
	CHECK_INT(fixture_get16(out + 10), 0);
	CHECK(memcmp(out + 12, www_question, qlen) == 0);
	CHECK_INT(out[12 + qlen], 0xee);
	{
		ldns_pkt *back = NULL;

		CHECK_INT(ldns_wire2pkt(&back, out, (size_t)r), LDNS_STATUS_OK);
		if (back != NULL) {
			CHECK(ldns_pkt_tc(back));
			CHECK_INT(ldns_pkt_ancount(back), 0);
			ldns_pkt_free(back);
		}
	}

	/* An NXDOMAIN keeps its rcode. */
	pkt = fixture_answer_new("www.example.com. IN A", LDNS_RCODE_NXDOMAIN);
	fixture_add_rr(
	    pkt, LDNS_SECTION_AUTHORITY,
	    "example.com. 300 IN SOA ns.example.com. h.example.com. 1 2 3 "
	    "4 5");
	n = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	r = message_truncate(wire, n, out, sizeof out);
	CHECK_INT(r, (ssize_t)(12 + qlen));
	CHECK_INT(out[3] & 0x0f, DNS_RCODE_NXDOMAIN);
	CHECK(out[2] & 0x02);

	/* Too small an output, too short an input. */
	CHECK_INT(message_truncate(wire, n, out, 12 + qlen - 1), -1);
	CHECK_INT(message_truncate(wire, n, out, 12 + qlen), (ssize_t)(12 + qlen));
	CHECK_INT(message_truncate(wire, 11, out, sizeof out), -1);

	/* No question: header only. */
	n = raw_header(wire, 0, 2, 0, 0);
	wire[2] |= 0x80;
	r = message_truncate(wire, n, out, sizeof out);
	CHECK_INT(r, 12);
	CHECK(out[2] & 0x02);
	CHECK_INT(fixture_get16(out + 6), 0);
}

static void
test_set_id(void)
{
	uint8_t buf[BUFSIZE];
	size_t n = raw_www_query(buf);

	message_set_id(buf, n, 0x0102);
	CHECK_INT(buf[0], 0x01);
	CHECK_INT(buf[1], 0x02);
	CHECK(memcmp(buf + 12, www_question, sizeof www_question) == 0);
	buf[0] = 0x77;
	message_set_id(buf, 1, 0xffff); /* too short: untouched */
	CHECK_INT(buf[0], 0x77);
	message_set_id(buf, 2, 0xfffe);
	CHECK_INT(buf[0], 0xff);
	CHECK_INT(buf[1], 0xfe);
}

/* ----- message_drop_addresses ------------------------------------------ */

static struct ip_addr
addr_of(const char *text)
{
	struct ip_addr a;

	memset(&a, 0, sizeof a);
	a.family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	inet_pton(a.family, text, a.bytes);
	return a;
}

/* Drops drop (comma-separated) from wire; the answer left, read back by
 * ldns (a message it cannot read is no answer), as its answer section's
 * records one a line, into out. Returns the records dropped, or -1. */
static long
drop_and_show(uint8_t *wire, size_t *len, const char *drop, char *out,
	      size_t outlen)
{
	struct ip_addr d[8];
	size_t n = 0, dropped, i;
	char list[256], *tok, *save;
	const char *reason = NULL;
	ssize_t got;
	ldns_pkt *pkt = NULL;

	snprintf(list, sizeof list, "%s", drop);
	for (tok = strtok_r(list, ",", &save); tok != NULL && n < 8;
	     tok = strtok_r(NULL, ",", &save))
		d[n++] = addr_of(tok);
	got = message_drop_addresses(wire, *len, d, n, &dropped, &reason);
	out[0] = '\0';
	if (got < 0) {
		CHECK(reason != NULL && reason[0] != '\0');
		return -1;
	}
	*len = (size_t)got;
	if (ldns_wire2pkt(&pkt, wire, *len) != LDNS_STATUS_OK) {
		snprintf(out, outlen, "unreadable");
		return (long)dropped;
	}
	for (i = 0; i < ldns_pkt_ancount(pkt); i++) {
		char *t = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(pkt), i));
		size_t used = strlen(out);

		snprintf(out + used, outlen - used, "%s", t);
		free(t);
	}
	{
		size_t used = strlen(out);

		snprintf(out + used, outlen - used, "ns=%zu ar=%zu",
			 (size_t)ldns_pkt_nscount(pkt),
			 (size_t)ldns_pkt_arcount(pkt));
	}
	ldns_pkt_free(pkt);
	return (long)dropped;
}

static void
test_drop_addresses(void)
{
	static uint8_t wire[65536];
	char shown[4096];
	size_t len;
	ldns_pkt *pkt;

	/* IPv4: one of two goes, the other stays whole. */
	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "www.example.com. 300 IN A 192.0.2.1");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "www.example.com. 300 IN A 203.0.113.9");
	len = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	CHECK_INT(drop_and_show(wire, &len, "203.0.113.9", shown,
				sizeof shown),
		  1);
	CHECK_STR(shown, "www.example.com.\t300\tIN\tA\t192.0.2.1\n"
			 "ns=0 ar=0");
	CHECK_INT(fixture_get16(wire + 6), 1);

	/* Nothing named: the message as it was. */
	{
		size_t before = len;

		CHECK_INT(drop_and_show(wire, &len, "198.51.100.1", shown,
					sizeof shown),
			  0);
		CHECK_INT(len, before);
	}

	/* IPv6 and mixed: the AAAA named goes, the A and other AAAA stay;
	 * authority and additional records (an OPT too) are kept. */
	pkt = fixture_answer_new("www.example.com. IN AAAA", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "www.example.com. 60 IN AAAA 2001:db8::9");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "www.example.com. 60 IN A 192.0.2.7");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "www.example.com. 60 IN AAAA 2001:db8::1");
	fixture_add_rr(pkt, LDNS_SECTION_AUTHORITY,
		       "example.com. 60 IN NS ns.example.com.");
	fixture_add_rr(pkt, LDNS_SECTION_ADDITIONAL,
		       "ns.example.com. 60 IN A 203.0.113.53");
	ldns_pkt_set_edns_udp_size(pkt, 1232);
	len = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	CHECK_INT(drop_and_show(wire, &len, "2001:db8::9", shown,
				sizeof shown),
		  1);
	CHECK_STR(shown, "www.example.com.\t60\tIN\tA\t192.0.2.7\n"
			 "www.example.com.\t60\tIN\tAAAA\t2001:db8::1\n"
			 "ns=1 ar=1");

	/* A copy of an address dropped goes from every section: the
	 * additional record too. */
	CHECK_INT(drop_and_show(wire, &len, "203.0.113.53", shown,
				sizeof shown),
		  1);
	CHECK_STR(shown, "www.example.com.\t60\tIN\tA\t192.0.2.7\n"
			 "www.example.com.\t60\tIN\tAAAA\t2001:db8::1\n"
			 "ns=1 ar=0");

	/* Every address: NODATA with the CNAME chain kept; names after
	 * the dropped records (compressed against the CNAME's target)
	 * still read. */
	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "www.example.com. 60 IN CNAME cdn.example.net.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "cdn.example.net. 60 IN A 203.0.113.9");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "cdn.example.net. 60 IN A 203.0.113.10");
	fixture_add_rr(pkt, LDNS_SECTION_AUTHORITY,
		       "example.net. 60 IN NS a.ns.example.net.");
	len = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	CHECK_INT(drop_and_show(wire, &len, "203.0.113.9,203.0.113.10",
				shown, sizeof shown),
		  2);
	CHECK_STR(shown, "www.example.com.\t60\tIN\tCNAME\tcdn.example.net.\n"
			 "ns=1 ar=0");
	{
		struct answer_info *info = malloc(sizeof *info);
		const char *reason;

		CHECK_INT(message_parse_answer(wire, len, "www.example.com",
					       info, &reason),
			  0);
		CHECK_INT(info->n_chain, 1);
		CHECK_INT(info->n_addrs, 0);
		free(info);
	}

	/* A chain whose middle address goes: what follows is moved. */
	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "www.example.com. 60 IN CNAME a.example.org.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "a.example.org. 60 IN A 203.0.113.9");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "a.example.org. 60 IN CNAME b.example.org.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "b.example.org. 60 IN AAAA 2001:db8::5");
	fixture_add_rr(pkt, LDNS_SECTION_AUTHORITY,
		       "example.org. 60 IN SOA ns.example.org. "
		       "host.example.org. 1 2 3 4 5");
	len = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	CHECK_INT(drop_and_show(wire, &len, "203.0.113.9", shown,
				sizeof shown),
		  1);
	CHECK_STR(shown,
		  "www.example.com.\t60\tIN\tCNAME\ta.example.org.\n"
		  "a.example.org.\t60\tIN\tCNAME\tb.example.org.\n"
		  "b.example.org.\t60\tIN\tAAAA\t2001:db8::5\n"
		  "ns=1 ar=0");
}

/* A signature over an RRset an address went from goes with it (it no
 * longer matches); one over another type or another owner stays. A copy
 * in the additional section goes. (ldns compresses the RRSIG's
 * upper-case owner against the question, so its case is not tested
 * here: names are compared as read_name writes them, lower case.) */
static void
test_drop_addresses_signatures(void)
{
	static uint8_t wire[65536];
	char shown[4096];
	size_t len;
	ldns_pkt *pkt;
	const char *sig = " 13 3 300 20270101000000 20261201000000 12345 "
			  "example.com. AAECAwQFBgcICQoLDA0ODw==";
	char rr[256];

	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "www.example.com. 300 IN A 192.0.2.1");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "www.example.com. 300 IN A 203.0.113.9");
	snprintf(rr, sizeof rr, "WWW.Example.com. 300 IN RRSIG A%s", sig);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER, rr);
	snprintf(rr, sizeof rr, "www.example.com. 300 IN RRSIG AAAA%s", sig);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER, rr);
	fixture_add_rr(pkt, LDNS_SECTION_ADDITIONAL,
		       "mirror.example.net. 300 IN A 203.0.113.9");
	fixture_add_rr(pkt, LDNS_SECTION_ADDITIONAL,
		       "other.example.com. 300 IN A 192.0.2.8");
	snprintf(rr, sizeof rr, "other.example.com. 300 IN RRSIG A%s", sig);
	fixture_add_rr(pkt, LDNS_SECTION_ADDITIONAL, rr);
	len = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	CHECK_INT(drop_and_show(wire, &len, "203.0.113.9", shown,
				sizeof shown),
		  3);
	CHECK(strstr(shown, "www.example.com.\t300\tIN\tA\t192.0.2.1\n") ==
	      shown);
	CHECK(strstr(shown, "RRSIG\tAAAA") != NULL);
	CHECK(strstr(shown, "RRSIG\tA ") == NULL);
	CHECK(strstr(shown, "ns=0 ar=2") != NULL);
	CHECK_INT(fixture_get16(wire + 6), 2);
	CHECK_INT(fixture_get16(wire + 10), 2);

	/* Nothing dropped: every signature stays. */
	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		       "www.example.com. 300 IN A 192.0.2.1");
	snprintf(rr, sizeof rr, "www.example.com. 300 IN RRSIG A%s", sig);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER, rr);
	len = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	CHECK_INT(drop_and_show(wire, &len, "203.0.113.9", shown,
				sizeof shown),
		  0);
	CHECK(strstr(shown, "RRSIG\tA ") != NULL);
}

/* Hand-made compression: a pointer past a dropped record moves back by
 * its length; a pointer into it cannot be kept, and the message is left
 * as it was. */
static void
test_drop_addresses_pointers(void)
{
	uint8_t wire[256], copy[256];
	char shown[1024];
	size_t n, len;
	/* After the question (12..33): www A 203.0.113.9 at 33..49; www
	 * CNAME cdn.net at 49..70 (its data at 61); cdn.net (pointer to
	 * 61) A 192.0.2.1. */
	static const uint8_t tail[] = {
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 9,
		0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 9, 3, 'c', 'd', 'n',
		3, 'n', 'e', 't', 0,
		0xc0, 61, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
	/* cdn.example.com A 203.0.113.9 at 33..53, its owner written out;
	 * then a record whose owner points at it (33). */
	static const uint8_t into[] = {
		3, 'c', 'd', 'n', 0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
		203, 0, 113, 9,
		0xc0, 33, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};

	n = raw_header(wire, 1, 3, 0, 0);
	wire[2] |= 0x80; /* a response */
	memcpy(wire + n, www_question, sizeof www_question);
	n += sizeof www_question;
	memcpy(wire + n, tail, sizeof tail);
	len = n + sizeof tail;
	CHECK_INT(drop_and_show(wire, &len, "203.0.113.9", shown,
				sizeof shown),
		  1);
	CHECK_INT(len, n + sizeof tail - 16);
	CHECK_INT(wire[len - 16 + 1], 61 - 16); /* the pointer moved */
	CHECK_STR(shown, "www.example.com.\t60\tIN\tCNAME\tcdn.net.\n"
			 "cdn.net.\t60\tIN\tA\t192.0.2.1\n"
			 "ns=0 ar=0");

	n = raw_header(wire, 1, 2, 0, 0);
	wire[2] |= 0x80;
	memcpy(wire + n, www_question, sizeof www_question);
	n += sizeof www_question;
	memcpy(wire + n, into, sizeof into);
	len = n + sizeof into;
	memcpy(copy, wire, len);
	CHECK_INT(drop_and_show(wire, &len, "203.0.113.9", shown,
				sizeof shown),
		  -1);
	CHECK(memcmp(copy, wire, len) == 0);
	CHECK_INT(len, n + sizeof into);
	/* The second may go: nothing points into it. */
	CHECK_INT(drop_and_show(wire, &len, "192.0.2.1", shown,
				sizeof shown),
		  1);
	CHECK_STR(shown, "cdn.example.com.\t60\tIN\tA\t203.0.113.9\n"
			 "ns=0 ar=0");

	/* Cut short, or a count past the records: refused, unchanged. */
	n = raw_header(wire, 1, 3, 0, 0);
	wire[2] |= 0x80;
	memcpy(wire + n, www_question, sizeof www_question);
	n += sizeof www_question;
	memcpy(wire + n, tail, sizeof tail);
	for (len = n; len < n + sizeof tail; len++) {
		size_t l = len;

		memcpy(copy, wire, len);
		CHECK_INT(drop_and_show(wire, &l, "203.0.113.9", shown,
					sizeof shown),
			  -1);
		CHECK(memcmp(copy, wire, len) == 0);
	}
	/* A pointer that points forward is refused. */
	len = n + sizeof tail;
	wire[len - 16 + 1] = 80;
	CHECK_INT(drop_and_show(wire, &len, "203.0.113.9", shown,
				sizeof shown),
		  -1);
	/* A header alone, or less. */
	len = 5;
	CHECK_INT(drop_and_show(wire, &len, "203.0.113.9", shown,
				sizeof shown),
		  -1);

	/* What goes is decided once. An RRSIG's owner (x.cdn.example.com)
	 * reads through the pointer of a record kept after a dropped one;
	 * once that pointer is moved, the unmoved message would read it
	 * as x.www.example.com, an RRset an address goes from (in the
	 * additional section): the signature must stay, its pointer
	 * moved. After the question (12..33): www A 203.0.113.9 (33..49,
	 * goes), cdn.example.com A 192.0.2.1 (49..69), x.cdn.example.com
	 * (pointer to 49) A 192.0.2.2 (69..87), its RRSIG A (pointer to
	 * 69; 87..122); additional: x.www.example.com A 203.0.113.9
	 * (goes). */
	{
		static const uint8_t signed_tail[] = {
			0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
			203, 0, 113, 9,
			3, 'c', 'd', 'n', 0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 60,
			0, 4, 192, 0, 2, 1,
			1, 'x', 0xc0, 49, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
			192, 0, 2, 2,
			0xc0, 69, 0, 46, 0, 1, 0, 0, 0, 60, 0, 23,
			0, 1, 13, 3, 0, 0, 0, 60, 0x6b, 0, 0, 0, 0x6a, 0,
			0, 0, 0x30, 0x39, 0, 0xde, 0xad, 0xbe, 0xef,
			1, 'x', 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
			203, 0, 113, 9};

		n = raw_header(wire, 1, 4, 0, 1);
		wire[2] |= 0x80;
		memcpy(wire + n, www_question, sizeof www_question);
		n += sizeof www_question;
		memcpy(wire + n, signed_tail, sizeof signed_tail);
		len = n + sizeof signed_tail;
		CHECK_INT(drop_and_show(wire, &len, "203.0.113.9", shown,
					sizeof shown),
			  2);
		CHECK_INT(len, n + sizeof signed_tail - 16 - 18);
		CHECK(strstr(shown, "cdn.example.com.\t60\tIN\tA\t192.0.2.1\n"
				    "x.cdn.example.com.\t60\tIN\tA\t192.0.2.2\n"
				    "x.cdn.example.com.\t60\tIN\tRRSIG\tA ") ==
		      shown);
		CHECK(strstr(shown, "ns=0 ar=0") != NULL);
	}
}

/* ----- message_parse_answer ------------------------------------------- */

static int
parse_answer_pkt(ldns_pkt *pkt, const char *qname, struct answer_info *info)
{
	static uint8_t wire[65536];
	size_t n = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	const char *reason = NULL;
	int rc = message_parse_answer(wire, n, qname, info, &reason);

	if (rc < 0)
		fprintf(stderr, "message_parse_answer: %s\n",
			reason ? reason : "(no reason)");
	return rc;
}

static bool
has_addr(const struct answer_info *info, const char *text)
{
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < info->n_addrs; i++) {
		if (strcmp(fmt_addr(&info->addrs[i], buf, sizeof buf), text) ==
		    0)
			return true;
	}
	return false;
}

static void
test_answer_addresses(void)
{
	struct answer_info *info = malloc(sizeof *info);
	ldns_pkt *pkt;
	char buf[INET6_ADDRSTRLEN];

	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "www.example.com. 300 IN A 192.0.2.1");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "www.example.com. 200 IN A 192.0.2.2");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "www.example.com. 100 IN AAAA 2001:db8::1");
	CHECK_INT(parse_answer_pkt(pkt, "www.example.com", info), 0);
	CHECK_INT(info->rcode, 0);
	CHECK(!info->truncated);
	CHECK_INT(info->n_chain, 0);
	CHECK_INT(info->n_addrs, 3);
	CHECK(!info->addrs_cut);
	if (info->n_addrs == 3) {
		CHECK_INT(info->addrs[0].family, AF_INET);
		CHECK_STR(fmt_addr(&info->addrs[0], buf, sizeof buf),
			  "192.0.2.1");
		CHECK_INT(info->addr_ttls[0], 300);
		CHECK_STR(fmt_addr(&info->addrs[1], buf, sizeof buf),
			  "192.0.2.2");
		CHECK_INT(info->addr_ttls[1], 200);
		CHECK_INT(info->addrs[2].family, AF_INET6);
		CHECK_STR(fmt_addr(&info->addrs[2], buf, sizeof buf),
			  "2001:db8::1");
		CHECK_INT(info->addr_ttls[2], 100);
	}
	CHECK_INT(info->min_ttl, 100);

	/* Owners in another case are the same name. */
	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "WWW.Example.COM. 60 IN A 192.0.2.9");
	CHECK_INT(parse_answer_pkt(pkt, "www.example.com", info), 0);
	CHECK_INT(info->n_addrs, 1);
	CHECK(has_addr(info, "192.0.2.9"));

	/* The TC bit is reported. */
	pkt = fixture_answer_new("www.example.com. IN A", 0);
	ldns_pkt_set_tc(pkt, true);
	CHECK_INT(parse_answer_pkt(pkt, "www.example.com", info), 0);
	CHECK(info->truncated);
	CHECK_INT(info->n_addrs, 0);
	free(info);
}

static void
test_answer_cname_chain(void)
{
	struct answer_info *info = malloc(sizeof *info);
	ldns_pkt *pkt;

	/* In order. */
	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "www.example.com. 300 IN CNAME a.example.net.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "a.example.net. 300 IN CNAME b.cdn.example.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "b.cdn.example. 30 IN A 192.0.2.7");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "b.cdn.example. 30 IN AAAA 2001:db8::7");
	CHECK_INT(parse_answer_pkt(pkt, "www.example.com", info), 0);
	CHECK_INT(info->n_chain, 2);
	if (info->n_chain == 2) {
		CHECK_STR(info->chain[0], "a.example.net");
		CHECK_STR(info->chain[1], "b.cdn.example");
	}
	CHECK_INT(info->n_addrs, 2);
	CHECK(has_addr(info, "192.0.2.7"));
	CHECK(has_addr(info, "2001:db8::7"));
	CHECK_INT(info->min_ttl, 30);

	/* In reverse order, addresses first, names in mixed case. */
	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "B.CDN.example. 30 IN A 192.0.2.7");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "a.example.net. 300 IN CNAME B.Cdn.Example.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "www.example.com. 300 IN CNAME A.Example.Net.");
	CHECK_INT(parse_answer_pkt(pkt, "www.example.com", info), 0);
	CHECK_INT(info->n_chain, 2);
	if (info->n_chain == 2) {
		CHECK_STR(info->chain[0], "a.example.net");
		CHECK_STR(info->chain[1], "b.cdn.example");
	}
	CHECK_INT(info->n_addrs, 1);
	CHECK(has_addr(info, "192.0.2.7"));

	/* Shuffled: middle, address, first. */
	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "a.example.net. 300 IN CNAME b.cdn.example.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "b.cdn.example. 30 IN A 192.0.2.8");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "www.example.com. 300 IN CNAME a.example.net.");
	CHECK_INT(parse_answer_pkt(pkt, "www.example.com", info), 0);
	CHECK_INT(info->n_chain, 2);
	CHECK_INT(info->n_addrs, 1);
	CHECK(has_addr(info, "192.0.2.8"));

	/* An address of an intermediate name counts too. */
	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "www.example.com. 300 IN CNAME a.example.net.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "a.example.net. 30 IN A 192.0.2.10");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "www.example.com. 30 IN A 192.0.2.11");
	CHECK_INT(parse_answer_pkt(pkt, "www.example.com", info), 0);
	CHECK_INT(info->n_addrs, 2);
	CHECK(has_addr(info, "192.0.2.10"));
	CHECK(has_addr(info, "192.0.2.11"));
	free(info);
}

static void
test_answer_unrelated(void)
{
	struct answer_info *info = malloc(sizeof *info);
	ldns_pkt *pkt;

	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "www.example.com. 300 IN A 192.0.2.1");
	/* Records the question did not lead to. */
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "evil.example. 300 IN A 203.0.113.66");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "other.example. 300 IN CNAME evil2.example.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "evil2.example. 300 IN A 203.0.113.67");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "example.com. 300 IN A 203.0.113.68"); /* the parent */
	fixture_add_rr(
	    pkt, LDNS_SECTION_ANSWER,
	    "x.www.example.com. 300 IN A 203.0.113.69"); /* a child */
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "www.example.com.evil. 300 IN A 203.0.113.70");
	/* Glue in the other sections is not an answer. */
	fixture_add_rr(pkt, LDNS_SECTION_AUTHORITY,
	               "example.com. 300 IN NS www.example.com.");
	fixture_add_rr(pkt, LDNS_SECTION_ADDITIONAL,
	               "www.example.com. 300 IN A 203.0.113.71");
	fixture_add_rr(pkt, LDNS_SECTION_ADDITIONAL,
	               "www.example.com. 300 IN AAAA 2001:db8::71");
	CHECK_INT(parse_answer_pkt(pkt, "www.example.com", info), 0);
	CHECK_INT(info->n_chain, 0);
	CHECK_INT(info->n_addrs, 1);
	CHECK(has_addr(info, "192.0.2.1"));
	CHECK(!has_addr(info, "203.0.113.66"));
	CHECK(!has_addr(info, "203.0.113.67"));
	CHECK(!has_addr(info, "203.0.113.71"));

	/* A CNAME of an unrelated owner does not join the chain. */
	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "other.example. 300 IN CNAME www.example.com.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "other.example. 300 IN A 203.0.113.1");
	CHECK_INT(parse_answer_pkt(pkt, "www.example.com", info), 0);
	CHECK_INT(info->n_chain, 0);
	CHECK_INT(info->n_addrs, 0);
	free(info);
}

static void
test_answer_cname_loops(void)
{
	struct answer_info *info = malloc(sizeof *info);
	ldns_pkt *pkt;
	char rr[128], name[64];
	int i;

	/* a -> b -> a. */
	pkt = fixture_answer_new("a.example. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "a.example. 300 IN CNAME b.example.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "b.example. 300 IN CNAME a.example.");
	CHECK_INT(parse_answer_pkt(pkt, "a.example", info), 0);
	CHECK_INT(info->n_chain, 1);
	if (info->n_chain >= 1)
		CHECK_STR(info->chain[0], "b.example");
	CHECK_INT(info->n_addrs, 0);

	/* a -> a. */
	pkt = fixture_answer_new("a.example. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "a.example. 300 IN CNAME a.example.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "a.example. 300 IN A 192.0.2.1");
	CHECK_INT(parse_answer_pkt(pkt, "a.example", info), 0);
	CHECK_INT(info->n_chain, 0);
	CHECK_INT(info->n_addrs, 1);

	/* a -> b -> c -> b. */
	pkt = fixture_answer_new("a.example. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "c.example. 300 IN CNAME b.example.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "b.example. 300 IN CNAME c.example.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "a.example. 300 IN CNAME b.example.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "c.example. 300 IN A 192.0.2.3");
	CHECK_INT(parse_answer_pkt(pkt, "a.example", info), 0);
	CHECK_INT(info->n_chain, 2);
	CHECK(has_addr(info, "192.0.2.3"));

	/* A chain longer than MESSAGE_MAX_CHAIN stops there. */
	pkt = fixture_answer_new("c0.example. IN A", 0);
	for (i = 0; i < 30; i++) {
		snprintf(rr, sizeof rr, "c%d.example. 300 IN CNAME c%d.example.",
			 i, i + 1);
		fixture_add_rr(pkt, LDNS_SECTION_ANSWER, rr);
	}
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "c30.example. 300 IN A 192.0.2.30");
	CHECK_INT(parse_answer_pkt(pkt, "c0.example", info), 0);
	CHECK_INT(info->n_chain, MESSAGE_MAX_CHAIN);
	for (i = 0; i < MESSAGE_MAX_CHAIN && (size_t)i < info->n_chain; i++) {
		snprintf(name, sizeof name, "c%d.example", i + 1);
		CHECK_STR(info->chain[i], name);
	}
	free(info);
}

static void
test_answer_many_addresses(void)
{
	struct answer_info *info = malloc(sizeof *info);
	ldns_pkt *pkt;
	char rr[128], buf[INET6_ADDRSTRLEN];
	int i;

	/* The most a 65,535-byte answer can hold (4,093 A records with
	 * compressed owners): all of them are read, nothing is cut. */
	pkt = fixture_answer_new("m.example. IN A", 0);
	for (i = 1; i <= 4093; i++) {
		snprintf(rr, sizeof rr, "m.example. %d IN A 10.0.%d.%d",
			 1000 + i, i / 256, i % 256);
		fixture_add_rr(pkt, LDNS_SECTION_ANSWER, rr);
	}
	CHECK_INT(parse_answer_pkt(pkt, "m.example", info), 0);
	CHECK_INT(info->n_addrs, 4093);
	CHECK(!info->addrs_cut);
	CHECK_STR(fmt_addr(&info->addrs[0], buf, sizeof buf), "10.0.0.1");
	CHECK_INT(info->addr_ttls[0], 1001);
	CHECK_STR(fmt_addr(&info->addrs[4092], buf, sizeof buf), "10.0.15.253");
	CHECK_INT(info->addr_ttls[4092], 1000 + 4093);
	CHECK_INT(info->min_ttl, 1001);

	/* Unrelated records do not count towards the cut. */
	pkt = fixture_answer_new("many.example. IN A", 0);
	for (i = 1; i <= 100; i++) {
		snprintf(rr, sizeof rr, "other.example. 60 IN A 10.1.0.%d", i);
		fixture_add_rr(pkt, LDNS_SECTION_ANSWER, rr);
	}
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "many.example. 60 IN A 10.2.0.1");
	CHECK_INT(parse_answer_pkt(pkt, "many.example", info), 0);
	CHECK_INT(info->n_addrs, 1);
	CHECK(!info->addrs_cut);
	free(info);
}

static void
test_answer_negative_and_bad(void)
{
	struct answer_info *info = malloc(sizeof *info);
	ldns_pkt *pkt;
	uint8_t buf[BUFSIZE];
	const char *reason = NULL;
	size_t n, cut;

	pkt = fixture_answer_new("nx.example.com. IN A", LDNS_RCODE_NXDOMAIN);
	fixture_add_rr(
	    pkt, LDNS_SECTION_AUTHORITY,
	    "example.com. 3600 IN SOA ns.example.com. host.example.com. "
	    "2024010101 7200 3600 1209600 60");
	CHECK_INT(parse_answer_pkt(pkt, "nx.example.com", info), 0);
	CHECK_INT(info->rcode, DNS_RCODE_NXDOMAIN);
	CHECK_INT(info->n_addrs, 0);
	CHECK_INT(info->n_chain, 0);
	CHECK_INT(info->min_ttl, 60);

	pkt = fixture_answer_new("x.example.com. IN A", LDNS_RCODE_SERVFAIL);
	CHECK_INT(parse_answer_pkt(pkt, "x.example.com", info), 0);
	CHECK_INT(info->rcode, DNS_RCODE_SERVFAIL);
	CHECK_INT(info->n_addrs, 0);

	/* Garbage and cut messages: -1 with a reason, never a crash. */
	memset(buf, 0xff, 64);
	reason = NULL;
	CHECK_INT(message_parse_answer(buf, 64, "x", info, &reason), -1);
	CHECK(reason != NULL);
	reason = NULL;
	CHECK_INT(message_parse_answer(buf, 5, "x", info, &reason), -1);
	CHECK(reason != NULL);

	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "www.example.com. 300 IN CNAME a.example.net.");
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "a.example.net. 30 IN A 192.0.2.7");
	n = fixture_pkt_to_buf(pkt, buf, sizeof buf);
	for (cut = 0; cut < n; cut++) {
		uint8_t *heap = malloc(cut ? cut : 1);
		int rc;

		memcpy(heap, buf, cut);
		reason = NULL;
		rc = message_parse_answer(heap, cut, "www.example.com", info,
					  &reason);
		CHECK_INT(rc, -1);
		free(heap);
	}
	free(info);
}

/* A real answer for www.example.com with an A record, then n_tsig TSIG
 * records appended to its additional section. */
static size_t
answer_with_tsigs(uint8_t *buf, size_t buflen, unsigned n_tsig)
{
	ldns_pkt *pkt = fixture_answer_new("www.example.com. IN A", 0);
	size_t n;
	unsigned i, ar;

	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "www.example.com. 60 IN A 192.0.2.9");
	n = fixture_pkt_to_buf(pkt, buf, buflen);
	ar = fixture_get16(buf + 10) + n_tsig;
	buf[10] = (uint8_t)(ar >> 8);
	buf[11] = (uint8_t)ar;
	for (i = 0; i < n_tsig && n + sizeof tsig_record <= buflen; i++) {
		memcpy(buf + n, tsig_record, sizeof tsig_record);
		n += sizeof tsig_record;
	}
	return n;
}

static void
test_answer_structure(void)
{
	struct answer_info *info = malloc(sizeof *info);
	uint8_t buf[BUFSIZE];
	const char *reason = NULL;
	size_t n;

	n = answer_with_tsigs(buf, sizeof buf, 1);
	CHECK_INT(message_parse_answer(buf, n, "www.example.com", info,
				       &reason),
		  0);
	CHECK_INT(info->n_addrs, 1);

	n = answer_with_tsigs(buf, sizeof buf, 2);
	CHECK_INT(message_parse_answer(buf, n, "www.example.com", info,
				       &reason),
		  -1);
	CHECK_STR(reason, "answer has 2 TSIG records; an answer has at most "
			  "one");

	/* Counted in every section: one in the answer, one in additional. */
	{
		ldns_pkt *pkt = fixture_answer_new("www.example.com. IN A", 0);
		size_t h;

		n = fixture_pkt_to_buf(pkt, buf, sizeof buf);
		h = n;
		memcpy(buf + n, tsig_record, sizeof tsig_record);
		n += sizeof tsig_record;
		memcpy(buf + n, tsig_record, sizeof tsig_record);
		n += sizeof tsig_record;
		buf[7] = 1;
		buf[11] = 1;
		CHECK(h > DNS_HEADER_SIZE);
		CHECK_INT(message_parse_answer(buf, n, "www.example.com", info,
					       &reason),
			  -1);
		CHECK_STR(reason, "answer has 2 TSIG records; an answer has at "
				  "most one");
	}

	/* Two OPT records. */
	n = answer_with_tsigs(buf, sizeof buf, 0);
	buf[11] = 2;
	memcpy(buf + n, opt_record, sizeof opt_record);
	memcpy(buf + n + sizeof opt_record, opt_record, sizeof opt_record);
	CHECK_INT(message_parse_answer(buf, n + 2 * sizeof opt_record,
				       "www.example.com", info, &reason),
		  -1);
	CHECK_STR(reason, "answer has 2 OPT records; an answer has at most "
			  "one");

	/* Two questions. */
	n = answer_with_tsigs(buf, sizeof buf, 0);
	buf[5] = 2;
	CHECK_INT(message_parse_answer(buf, n, "www.example.com", info,
				       &reason),
		  -1);
	CHECK_STR(reason, "answer has 2 questions; an answer has at most one");

	/* A record count past what the message holds. */
	n = answer_with_tsigs(buf, sizeof buf, 0);
	buf[7] = 2;
	CHECK_INT(message_parse_answer(buf, n, "www.example.com", info,
				       &reason),
		  -1);
	CHECK_STR(reason, "malformed answer from upstream: a name or record "
			  "runs past the end of the message");

	/* The records dnsgate reads hold what their type says, no more. */
	n = answer_with_tsigs(buf, sizeof buf, 0);
	buf[n - 5] = 5; /* the A record's RDLENGTH */
	buf[n++] = 0;
	CHECK_INT(message_parse_answer(buf, n, "www.example.com", info,
				       &reason),
		  -1);
	CHECK_STR(reason, "malformed answer from upstream: an A record with 5 "
			  "bytes of data");
	{
		ldns_pkt *pkt = fixture_answer_new("www.example.com. IN A", 0);

		fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
		               "www.example.com. 60 IN CNAME a.example.net.");
		n = fixture_pkt_to_buf(pkt, buf, sizeof buf);
		buf[n - 16] = 16; /* RDLENGTH one more than the name */
		buf[n++] = 0;
		CHECK_INT(message_parse_answer(buf, n, "www.example.com", info,
					       &reason),
			  -1);
		CHECK_STR(reason, "malformed answer from upstream: a CNAME "
				  "whose name is not its whole data");
	}
	free(info);
}

static void
test_answer_hidden_tsigs_do_not_leak(void)
{
	static uint8_t buf[BUFSIZE];
	struct answer_info *info = malloc(sizeof *info);
	size_t n = add_hidden_tsigs(buf, answer_with_tsigs(buf, sizeof buf, 0));
	size_t before, after;
	const char *reason = NULL;
	int i, parsed = 0;

	CHECK_INT(message_parse_answer(buf, n, "www.example.com", info,
				       &reason),
		  0);
	CHECK_INT(info->n_addrs, 1);
	before = heap_in_use();
	for (i = 0; i < 1000; i++)
		parsed += message_parse_answer(buf, n, "www.example.com", info,
					       &reason) == 0;
	after = heap_in_use();
	CHECK_INT(parsed, 1000);
	if (after > before + 4096)
		fprintf(stderr, "  heap grew by %zu bytes over 1,000 answers\n",
			after - before);
	CHECK(after <= before + 4096);
	free(info);
}

/* An upstream can stuff TSIG records into answers as a stub can into
 * queries: 1,000 such answers leave the heap as it was. */
static void
test_answer_tsig_stuffing_does_not_leak(void)
{
	static uint8_t buf[DNS_MAX_UDP];
	struct answer_info *info = malloc(sizeof *info);
	size_t n = answer_with_tsigs(buf, sizeof buf, 64), before, after;
	int i, parsed = 0;

	for (i = 0; i < 10; i++) {
		const char *reason;

		message_parse_answer(buf, n, "www.example.com", info, &reason);
	}
	before = heap_in_use();
	for (i = 0; i < 1000; i++) {
		const char *reason;

		parsed += message_parse_answer(buf, n, "www.example.com", info,
					       &reason) == 0;
	}
	after = heap_in_use();
	CHECK_INT(parsed, 0);
	if (after > before + 4096)
		fprintf(stderr, "  heap grew by %zu bytes over 1,000 answers\n",
			after - before);
	CHECK(after <= before + 4096);
	free(info);
}

/* ----- message_age_ttls / message_min_ttl ----------------------------- */

/* An answer with the given TTLs in answer, authority and additional, and
 * an OPT record with DO set. */
static size_t
ttl_message(uint8_t *buf, size_t buflen, uint32_t a, uint32_t aaaa,
	    uint32_t ns, uint32_t glue)
{
	ldns_pkt *pkt = fixture_answer_new("www.example.com. IN A", 0);
	char rr[160];

	snprintf(rr, sizeof rr, "www.example.com. %u IN A 192.0.2.1", a);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER, rr);
	snprintf(rr, sizeof rr, "www.example.com. %u IN AAAA 2001:db8::1",
		 aaaa);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER, rr);
	snprintf(rr, sizeof rr, "example.com. %u IN NS ns.example.com.", ns);
	fixture_add_rr(pkt, LDNS_SECTION_AUTHORITY, rr);
	snprintf(rr, sizeof rr, "ns.example.com. %u IN A 192.0.2.53", glue);
	fixture_add_rr(pkt, LDNS_SECTION_ADDITIONAL, rr);
	ldns_pkt_set_edns_udp_size(pkt, 1232);
	ldns_pkt_set_edns_do(pkt, true);
	return fixture_pkt_to_buf(pkt, buf, buflen);
}

static void
test_age_ttls(void)
{
	uint8_t wire[BUFSIZE], expect[BUFSIZE], copy[BUFSIZE];
	size_t n, m;
	uint32_t ttl = 0;

	n = ttl_message(wire, sizeof wire, 300, 100, 50, 10);
	CHECK_INT(fixture_get16(wire + 10), 2); /* glue and OPT */

	/* Nothing elapsed: unchanged. */
	memcpy(copy, wire, n);
	CHECK_INT(message_age_ttls(wire, n, 0), 0);
	CHECK(memcmp(copy, wire, n) == 0);

	/* 60 seconds: every TTL lowered, none below 0, OPT untouched; the
	 * message is otherwise byte for byte the same. */
	CHECK_INT(message_age_ttls(wire, n, 60), 0);
	m = ttl_message(expect, sizeof expect, 240, 40, 0, 0);
	CHECK_INT(m, n);
	CHECK(m == n && memcmp(expect, wire, n) == 0);
	{
		ldns_pkt *pkt = NULL;

		CHECK_INT(ldns_wire2pkt(&pkt, wire, n), LDNS_STATUS_OK);
		if (pkt != NULL) {
			CHECK(ldns_pkt_edns_do(pkt));
			CHECK_INT(ldns_pkt_edns_udp_size(pkt), 1232);
			CHECK_INT(ldns_pkt_edns_extended_rcode(pkt), 0);
			CHECK_INT(ldns_pkt_edns_version(pkt), 0);
			CHECK_INT(ldns_rr_ttl(ldns_rr_list_rr(
					  ldns_pkt_answer(pkt), 0)),
				  240);
			ldns_pkt_free(pkt);
		}
	}

	/* Aging again goes on from there. */
	CHECK_INT(message_age_ttls(wire, n, 40), 0);
	m = ttl_message(expect, sizeof expect, 200, 0, 0, 0);
	CHECK(m == n && memcmp(expect, wire, n) == 0);

	/* A huge elapsed time: all zero, no wrap around. */
	n = ttl_message(wire, sizeof wire, 300, 100, 50, 10);
	CHECK_INT(message_age_ttls(wire, n, 0xffffffffu), 0);
	m = ttl_message(expect, sizeof expect, 0, 0, 0, 0);
	CHECK(m == n && memcmp(expect, wire, n) == 0);
	CHECK_INT(message_min_ttl(wire, n, &ttl), 0);
	CHECK_INT(ttl, 0);

	/* Exactly the TTL elapsed: 0. */
	n = ttl_message(wire, sizeof wire, 300, 300, 300, 300);
	CHECK_INT(message_age_ttls(wire, n, 300), 0);
	m = ttl_message(expect, sizeof expect, 0, 0, 0, 0);
	CHECK(m == n && memcmp(expect, wire, n) == 0);

	/* A TTL using all 32 bits. */
	n = ttl_message(wire, sizeof wire, 0xfffffff0u, 1, 1, 1);
	CHECK_INT(message_age_ttls(wire, n, 0x10), 0);
	m = ttl_message(expect, sizeof expect, 0xffffffe0u, 0, 0, 0);
	CHECK(m == n && memcmp(expect, wire, n) == 0);
}

static void
test_age_ttls_malformed(void)
{
	uint8_t wire[BUFSIZE], copy[BUFSIZE];
	size_t n, cut;
	int bad;

	n = ttl_message(wire, sizeof wire, 300, 100, 50, 10);

	/* Every cut length: -1 and nothing changed, not even the records
	 * before the cut. */
	bad = 0;
	for (cut = 0; cut < n; cut++) {
		uint8_t *heap = malloc(cut ? cut : 1);

		memcpy(heap, wire, cut);
		if (message_age_ttls(heap, cut, 60) != -1 ||
		    memcmp(heap, wire, cut) != 0) {
			if (!bad)
				fprintf(stderr, "  first bad cut: %zu of %zu\n",
					cut, n);
			bad = 1;
		}
		free(heap);
	}
	CHECK_INT(bad, 0);

	/* One record more announced than present. */
	memcpy(copy, wire, n);
	copy[7] = 3;
	CHECK_INT(message_age_ttls(copy, n, 60), -1);
	CHECK(memcmp(copy + 12, wire + 12, n - 12) == 0);

	/* The last RDLENGTH running past the end. */
	memcpy(copy, wire, n);
	copy[n - 2] = 0x7f; /* OPT RDLENGTH high byte */
	CHECK_INT(message_age_ttls(copy, n, 60), -1);
	CHECK(memcmp(copy, wire, n - 2) == 0);

	/* A name label running past the end in the question. */
	n = raw_header(copy, 1, 1, 0, 0);
	copy[n++] = 60;
	copy[n++] = 'a';
	memcpy(wire, copy, n);
	CHECK_INT(message_age_ttls(copy, n, 60), -1);
	CHECK(memcmp(copy, wire, n) == 0);

	/* A bare header is a valid empty message. */
	n = raw_header(copy, 0, 0, 0, 0);
	CHECK_INT(message_age_ttls(copy, n, 60), 0);
	CHECK_INT(message_age_ttls(copy, 11, 60), -1);
}

static void
test_min_ttl(void)
{
	uint8_t wire[BUFSIZE];
	ldns_pkt *pkt;
	size_t n;
	uint32_t ttl;

	/* The smallest over every section. */
	n = ttl_message(wire, sizeof wire, 300, 100, 50, 10);
	ttl = 12345;
	CHECK_INT(message_min_ttl(wire, n, &ttl), 0);
	CHECK_INT(ttl, 10);
	n = ttl_message(wire, sizeof wire, 300, 100, 50, 400);
	CHECK_INT(message_min_ttl(wire, n, &ttl), 0);
	CHECK_INT(ttl, 50);
	n = ttl_message(wire, sizeof wire, 7, 100, 50, 400);
	CHECK_INT(message_min_ttl(wire, n, &ttl), 0);
	CHECK_INT(ttl, 7);

	/* OPT's TTL field (flags, here 0) is not a TTL. */
	pkt = fixture_answer_new("www.example.com. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "www.example.com. 300 IN A 192.0.2.1");
	ldns_pkt_set_edns_udp_size(pkt, 1232);
	n = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	CHECK_INT(fixture_get16(wire + 10), 1);
	CHECK_INT(message_min_ttl(wire, n, &ttl), 0);
	CHECK_INT(ttl, 300);

	/* NXDOMAIN: the SOA's TTL capped by its MINIMUM. */
	pkt = fixture_answer_new("nx.example.com. IN A", LDNS_RCODE_NXDOMAIN);
	fixture_add_rr(
	    pkt, LDNS_SECTION_AUTHORITY,
	    "example.com. 3600 IN SOA ns.example.com. host.example.com. "
	    "1 7200 3600 1209600 60");
	n = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	CHECK_INT(message_min_ttl(wire, n, &ttl), 0);
	CHECK_INT(ttl, 60);

	/* ... or by its own TTL when that is lower. */
	pkt = fixture_answer_new("nx.example.com. IN A", LDNS_RCODE_NXDOMAIN);
	fixture_add_rr(
	    pkt, LDNS_SECTION_AUTHORITY,
	    "example.com. 30 IN SOA ns.example.com. host.example.com. "
	    "1 7200 3600 1209600 600");
	n = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	CHECK_INT(message_min_ttl(wire, n, &ttl), 0);
	CHECK_INT(ttl, 30);

	/* NODATA (NOERROR, no answer) is negative too. */
	pkt = fixture_answer_new("www.example.com. IN AAAA", 0);
	fixture_add_rr(
	    pkt, LDNS_SECTION_AUTHORITY,
	    "example.com. 900 IN SOA ns.example.com. host.example.com. "
	    "1 7200 3600 1209600 120");
	ldns_pkt_set_edns_udp_size(pkt, 1232);
	n = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	CHECK_INT(message_min_ttl(wire, n, &ttl), 0);
	CHECK_INT(ttl, 120);

	/* SOA names uncompressed and long: MINIMUM is still its last field. */
	pkt = fixture_answer_new("nx.example.org. IN A", LDNS_RCODE_NXDOMAIN);
	fixture_add_rr(
	    pkt, LDNS_SECTION_AUTHORITY,
	    "example.com. 3600 IN SOA a.very.long.primary.name.invalid. "
	    "another.long.mailbox.name.invalid. 1 2 3 4 77");
	n = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	CHECK_INT(message_min_ttl(wire, n, &ttl), 0);
	CHECK_INT(ttl, 77);

	/* A positive answer to an SOA question is not negative: its TTL is
	 * the record's own, MINIMUM does not apply. */
	pkt = fixture_answer_new("example.com. IN SOA", 0);
	fixture_add_rr(
	    pkt, LDNS_SECTION_ANSWER,
	    "example.com. 3600 IN SOA ns.example.com. host.example.com. "
	    "1 7200 3600 1209600 60");
	n = fixture_pkt_to_buf(pkt, wire, sizeof wire);
	CHECK_INT(message_min_ttl(wire, n, &ttl), 0);
	CHECK_INT(ttl, 3600);

	/* A bare header: no records, no error. */
	n = raw_header(wire, 0, 0, 0, 0);
	CHECK_INT(message_min_ttl(wire, n, &ttl), 0);

	/* Malformed: -1. */
	n = ttl_message(wire, sizeof wire, 300, 100, 50, 10);
	CHECK_INT(message_min_ttl(wire, n - 1, &ttl), -1);
	CHECK_INT(message_min_ttl(wire, 11, &ttl), -1);
	CHECK_INT(message_min_ttl(wire, 40, &ttl), -1);
}

/* A cached answer gets the asker's own spelling of the name (0x20). */
static void
test_copy_question(void)
{
	struct qopts o = {7, true, false, 0, false};
	uint8_t query[512], answer[512], before[512];
	size_t qn, an;
	ldns_pkt *pkt;

	pkt = fixture_answer_new("example.org. IN A", 0);
	fixture_add_rr(pkt, LDNS_SECTION_ANSWER,
	               "example.org. 60 IN A 192.0.2.7");
	an = fixture_pkt_to_buf(pkt, answer, sizeof answer);
	qn = make_query(query, sizeof query, "ExAmPlE.oRg.", LDNS_RR_TYPE_A,
			&o);
	CHECK(an > 0 && qn > 0);
	CHECK_INT(message_copy_question(answer, an, query, qn), 0);
	CHECK(memcmp(answer + 12, query + 12, qn - 12) == 0);
	CHECK(answer[12] == 7 && memcmp(answer + 13, "ExAmPlE", 7) == 0);

	/* Another name, type or class: left as it was. */
	memcpy(before, answer, an);
	qn = make_query(query, sizeof query, "example.net.", LDNS_RR_TYPE_A,
			&o);
	CHECK_INT(message_copy_question(answer, an, query, qn), -1);
	qn = make_query(query, sizeof query, "example.org.",
			LDNS_RR_TYPE_AAAA, &o);
	CHECK_INT(message_copy_question(answer, an, query, qn), -1);
	/* Type 65 (HTTPS, 0x0041 = 'A') must not match type 97 (0x0061). */
	qn = make_query(query, sizeof query, "example.org.", (ldns_rr_type)65,
			&o);
	answer[12 + 13 + 1] = 0x61; /* the answer's type: 97 */
	CHECK_INT(message_copy_question(answer, an, query, qn), -1);
	answer[12 + 13 + 1] = 0x01;
	CHECK(memcmp(before, answer, an) == 0);
	/* A query with no question, or a header only. */
	CHECK_INT(message_copy_question(answer, an, query, 12), -1);
	CHECK_INT(message_copy_question(answer, 5, query, qn), -1);
}

/* ----- blocked and local answers ----------------------------------- */

/* The query of name/type with opts, parsed as the daemon parses it. */
static size_t
blocked_query(uint8_t *wire, size_t wirelen, const char *name,
	      ldns_rr_type type, const struct qopts *o,
	      struct dns_question *q)
{
	const char *reason = NULL;
	size_t len = make_query(wire, wirelen, name, type, o);

	CHECK(len > 0);
	CHECK_INT(message_parse_query(wire, len, q, &reason),
		  MESSAGE_QUERY_OK);
	return len;
}

/* The OPT record of a reply at the end of out (it is the last record
 * dnsgated writes): its offset, or 0 when the last record is not one. */
static size_t
find_opt(const uint8_t *out, size_t n)
{
	size_t pos = DNS_HEADER_SIZE, i, records;

	while (out[pos] != 0)
		pos += 1 + out[pos];
	pos += 5; /* root, type, class */
	records = fixture_get16(out + 6) + fixture_get16(out + 8) +
		  fixture_get16(out + 10);
	for (i = 0; i < records; i++) {
		size_t at = pos;

		if ((out[pos] & 0xc0) == 0xc0)
			pos += 2;
		else
			pos += 1; /* only the root in what dnsgated writes */
		if (i + 1 == records)
			return fixture_get16(out + pos) == 41 ? at : 0;
		pos += 10 + fixture_get16(out + pos + 8);
	}
	(void)n;
	return 0;
}

static void
test_block_modes(void)
{
	struct qopts plain = {.id = 0x4242, .rd = true};
	struct qopts edns = {.id = 0x4243, .rd = true, .edns_size = 1232};
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	struct dns_question q;
	struct {
		enum message_block_mode mode;
		ldns_rr_type type;
		ldns_pkt_rcode rcode;
		size_t answers;
		const char *data; /* the answer's data */
	} cases[] = {
		{MESSAGE_BLOCK_NXDOMAIN, LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN,
		 0, NULL},
		{MESSAGE_BLOCK_NODATA, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 0,
		 NULL},
		{MESSAGE_BLOCK_REFUSED, LDNS_RR_TYPE_AAAA, LDNS_RCODE_REFUSED,
		 0, NULL},
		{MESSAGE_BLOCK_NULL, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 1,
		 "0.0.0.0"},
		{MESSAGE_BLOCK_NULL, LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR, 1,
		 "::"},
		{MESSAGE_BLOCK_NULL, LDNS_RR_TYPE_MX, LDNS_RCODE_NOERROR, 0,
		 NULL},
		{MESSAGE_BLOCK_NULL, LDNS_RR_TYPE_HTTPS, LDNS_RCODE_NOERROR, 0,
		 NULL},
	};
	size_t i, with;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (with = 0; with < 2; with++) {
			size_t len = blocked_query(
				wire, sizeof wire, "Ads.Example.", cases[i].type,
				with ? &edns : &plain, &q);
			ssize_t n = message_reply_blocked(
				wire, len, &q, cases[i].mode, "easylist",
				with ? q.udp_size : 512, out, sizeof out);
			ldns_pkt *pkt = NULL;

			CHECK(n > 0);
			if (n <= 0)
				continue;
			CHECK_INT(ldns_wire2pkt(&pkt, out, (size_t)n),
				  LDNS_STATUS_OK);
			if (pkt == NULL)
				continue;
			CHECK_INT(ldns_pkt_id(pkt), with ? 0x4243 : 0x4242);
			CHECK(ldns_pkt_qr(pkt));
			CHECK(ldns_pkt_rd(pkt));
			CHECK(ldns_pkt_ra(pkt));
			CHECK(!ldns_pkt_aa(pkt));
			CHECK_INT(ldns_pkt_get_rcode(pkt), cases[i].rcode);
			CHECK_INT(ldns_pkt_qdcount(pkt), 1);
			CHECK_INT(ldns_pkt_ancount(pkt), cases[i].answers);
			CHECK_INT(ldns_pkt_nscount(pkt), 0);
			/* The asker's own spelling of the name, as asked. */
			CHECK(memcmp(out + DNS_HEADER_SIZE,
				     wire + DNS_HEADER_SIZE, 17) == 0);
			if (cases[i].answers == 1) {
				ldns_rr *rr = ldns_rr_list_rr(
					ldns_pkt_answer(pkt), 0);
				char *text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
				char *owner = ldns_rdf2str(ldns_rr_owner(rr));

				CHECK_INT(ldns_rr_get_type(rr), cases[i].type);
				CHECK_INT(ldns_rr_ttl(rr), MESSAGE_NULL_TTL);
				CHECK_STR(text, cases[i].data);
				CHECK_STR(owner, "Ads.Example.");
				LDNS_FREE(text);
				LDNS_FREE(owner);
			}
			/* EDNS in the reply exactly when in the query. */
			CHECK_INT(ldns_pkt_arcount(pkt), 0);
			CHECK_INT(ldns_pkt_edns(pkt), with);
			CHECK_INT(find_opt(out, (size_t)n) != 0, with);
			ldns_pkt_free(pkt);
		}
	}
}

/* The EDE option, byte by byte. */
static void
test_block_ede_bytes(void)
{
	struct qopts o = {.id = 7, .rd = true, .edns_size = 4096,
			  .do_bit = true};
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	struct dns_question q;
	size_t len = blocked_query(wire, sizeof wire, "t.example.",
				   LDNS_RR_TYPE_A, &o, &q);
	ssize_t n = message_reply_blocked(wire, len, &q,
					  MESSAGE_BLOCK_NXDOMAIN, "easylist",
					  q.udp_size, out, sizeof out);
	static const uint8_t expect[] = {
		0x00,                   /* the root */
		0x00, 0x29,             /* OPT */
		0x04, 0xd0,             /* 1232: dnsgated's UDP size */
		0x00, 0x00, 0x80, 0x00, /* rcode 0, version 0, DO copied */
		0x00, 0x0e,             /* RDLENGTH 14 */
		0x00, 0x0f,             /* OPTION-CODE 15: EDE */
		0x00, 0x0a,             /* OPTION-LENGTH 2 + 8 */
		0x00, 0x0f,             /* INFO-CODE 15: Blocked */
		'e', 'a', 's', 'y', 'l', 'i', 's', 't'};
	size_t at;

	CHECK(n > 0);
	at = find_opt(out, (size_t)n);
	CHECK(at > 0);
	CHECK_INT((size_t)n - at, sizeof expect);
	CHECK(memcmp(out + at, expect, sizeof expect) == 0);
	CHECK_INT(fixture_get16(out + 10), 1); /* ARCOUNT */

	/* No text: the option with INFO-CODE alone. */
	n = message_reply_blocked(wire, len, &q, MESSAGE_BLOCK_NODATA, NULL,
				  q.udp_size, out, sizeof out);
	at = find_opt(out, (size_t)n);
	CHECK_INT((size_t)n - at, 17);
	CHECK_INT(fixture_get16(out + at + 9), 6);
	CHECK_INT(fixture_get16(out + at + 13), 2);
	CHECK_INT(fixture_get16(out + at + 15), DNS_EDE_BLOCKED);
	CHECK_INT(out[3] & 0x0f, DNS_RCODE_NOERROR);

	/* Without DO in the query, none in the reply. */
	o.do_bit = false;
	len = blocked_query(wire, sizeof wire, "t.example.", LDNS_RR_TYPE_A,
			    &o, &q);
	n = message_reply_blocked(wire, len, &q, MESSAGE_BLOCK_REFUSED,
				  "/etc/dnsgate/rules.d/10-apps.rules:2",
				  q.udp_size, out, sizeof out);
	at = find_opt(out, (size_t)n);
	CHECK_INT(fixture_get16(out + at + 7), 0);
	CHECK_INT((size_t)n - at, 17 + 36);
	CHECK(memcmp(out + at + 17, "/etc/dnsgate/rules.d/10-apps.rules:2",
		     36) == 0);
}

/* A reply never exceeds the client's size: the EXTRA-TEXT is cut, at a
 * character's start; over TCP it is whole. */
static void
test_block_sizes(void)
{
	struct qopts o = {.id = 9, .rd = true, .edns_size = 512};
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	char name[300], text[2000];
	struct dns_question q;
	size_t len, at, i;
	ssize_t n;

	/* A long name (four 60-byte labels) and a long text. */
	snprintf(name, sizeof name, "%.60s.%.60s.%.60s.%.60s.",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		 "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
		 "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
	memset(text, 0, sizeof text);
	for (i = 0; i + 2 < 1500; i += 2) { /* "é" (2 bytes) each */
		text[i] = (char)0xc3;
		text[i + 1] = (char)0xa9;
	}
	len = blocked_query(wire, sizeof wire, name, LDNS_RR_TYPE_AAAA, &o,
			    &q);
	CHECK_INT(q.udp_size, 512);
	n = message_reply_blocked(wire, len, &q, MESSAGE_BLOCK_NULL, text,
				  q.udp_size, out, sizeof out);
	CHECK(n > 0 && n <= 512);
	CHECK(n >= 510); /* cut to fit, not dropped */
	at = find_opt(out, (size_t)n);
	CHECK(at > 0);
	CHECK_INT(((size_t)n - at - 17) % 2, 0); /* whole characters */
	CHECK_INT(fixture_get16(out + at + 9), (size_t)n - at - 11);
	CHECK_INT(fixture_get16(out + at + 13), (size_t)n - at - 15);
	CHECK_INT(fixture_get16(out + 6), 1); /* the :: answer stays */

	/* Over TCP: the whole text. */
	n = message_reply_blocked(wire, len, &q, MESSAGE_BLOCK_NULL, text,
				  65535, out, sizeof out);
	at = find_opt(out, (size_t)n);
	CHECK_INT((size_t)n - at - 17, strlen(text));

	/* out too small for the question: -1, never a cut message. */
	CHECK_INT(message_reply_blocked(wire, len, &q, MESSAGE_BLOCK_NULL,
					text, 65535, out, 100),
		  -1);
	/* Room for the answer, not the OPT: -1 (an EDNS query's reply
	 * must carry one). */
	CHECK_INT(message_reply_blocked(wire, len, &q, MESSAGE_BLOCK_NULL,
					NULL, 65535, out, len + 28 + 5),
		  -1);
}

static void
test_reply_local(void)
{
	struct qopts plain = {.id = 1, .rd = true};
	struct qopts edns = {.id = 2, .rd = true, .edns_size = 1400};
	uint8_t wire[BUFSIZE], out[BUFSIZE];
	struct dns_question q;
	size_t len, at;
	ssize_t n;

	len = blocked_query(wire, sizeof wire, "use-application-dns.net.",
			    LDNS_RR_TYPE_A, &plain, &q);
	n = message_reply_local(wire, len, &q, DNS_RCODE_NXDOMAIN, out,
				sizeof out);
	CHECK_INT(n, len); /* the header and question alone */
	CHECK_INT(out[3] & 0x0f, DNS_RCODE_NXDOMAIN);
	CHECK_INT(fixture_get16(out + 10), 0);

	len = blocked_query(wire, sizeof wire, "_dns.resolver.arpa.",
			    LDNS_RR_TYPE_SVCB, &edns, &q);
	n = message_reply_local(wire, len, &q, DNS_RCODE_NOERROR, out,
				sizeof out);
	CHECK_INT(out[3] & 0x0f, DNS_RCODE_NOERROR);
	CHECK_INT(fixture_get16(out + 6), 0); /* NODATA */
	CHECK_INT(fixture_get16(out + 10), 1);
	at = find_opt(out, (size_t)n);
	CHECK(at > 0);
	CHECK_INT((size_t)n - at, 11); /* an OPT with no option */
	CHECK_INT(fixture_get16(out + at + 9), 0);
}

static void
test_block_mode_names(void)
{
	enum message_block_mode m = MESSAGE_BLOCK_NXDOMAIN;

	CHECK_INT(message_block_mode_parse("null", &m), 0);
	CHECK_INT(m, MESSAGE_BLOCK_NULL);
	CHECK_INT(message_block_mode_parse("refused", &m), 0);
	CHECK_STR(message_block_mode_name(m), "refused");
	CHECK_INT(message_block_mode_parse("nodata", &m), 0);
	CHECK_INT(message_block_mode_parse("nxdomain", &m), 0);
	CHECK_INT(m, MESSAGE_BLOCK_NXDOMAIN);
	CHECK_INT(message_block_mode_parse("NXDOMAIN", &m), -1);
	CHECK_INT(message_block_mode_parse("0.0.0.0", &m), -1);
}

/* A hostile answer: a CNAME to the root and more A records owned by it
 * than are read. After 300 are dropped, a new parse reads 270 never
 * judged: message_keep_addresses keeps only what was. */
static void
test_keep_judged(void)
{
	static uint8_t w[65535];
	static struct answer_info info;
	static struct ip_addr kept[MESSAGE_MAX_ADDRS], drop[300];
	size_t p = 12, n_kept = 0, dropped;
	unsigned n = 0;
	const char *r;
	ssize_t m;

	memcpy(w + p, "\003www\007example", 13); /* with its root label */
	p += 13;
	w[p++] = 0, w[p++] = 1, w[p++] = 0, w[p++] = 1;
	w[p++] = 0xc0, w[p++] = 12; /* www.example CNAME . */
	memcpy(w + p, "\0\5\0\1\0\0\0\74\0\1\0", 11);
	p += 11;
	n++;
	while (p + 15 <= sizeof w) {
		uint8_t rr[] = {0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0,
				(uint8_t)(n >> 8), (uint8_t)n};

		memcpy(w + p, rr, sizeof rr);
		p += sizeof rr;
		n++;
	}
	w[2] = 0x81, w[3] = 0x80, w[5] = 1, w[6] = n >> 8, w[7] = n & 0xff;
	CHECK_INT(message_parse_answer(w, p, "www.example", &info, &r), 0);
	CHECK(info.addrs_cut);
	CHECK_INT(info.n_addrs, MESSAGE_MAX_ADDRS);
	for (size_t i = 0; i < info.n_addrs; i++)
		if (i < 300)
			drop[i] = info.addrs[i];
		else
			kept[n_kept++] = info.addrs[i];
	m = message_drop_addresses(w, p, drop, 300, &dropped, &r);
	CHECK(m > 0);
	CHECK_INT(dropped, 300);
	CHECK_INT(message_parse_answer(w, (size_t)m, "www.example", &info, &r),
		  0);
	CHECK(info.n_addrs > MESSAGE_MAX_ADDRS - 300); /* 270 never judged */
	message_keep_addresses(&info, kept, n_kept);
	CHECK_INT(info.n_addrs, MESSAGE_MAX_ADDRS - 300);
	CHECK(info.addrs[info.n_addrs - 1].bytes[2] ==
	      kept[n_kept - 1].bytes[2]);
}

static void
test_names(void)
{
	char buf[16];

	CHECK_STR(message_type_name(28, buf, sizeof buf), "AAAA");
	CHECK_STR(message_type_name(65534, buf, sizeof buf), "TYPE65534");
	CHECK_STR(message_rcode_name(3), "NXDOMAIN");
	CHECK_STR(message_rcode_name(9), "OTHER");
}

int
main(void)
{
	test_names();
	test_keep_judged();
	test_block_modes();
	test_block_ede_bytes();
	test_block_sizes();
	test_reply_local();
	test_block_mode_names();
	test_copy_question();
	test_query_normal();
	test_query_edns();
	test_query_names();
	test_query_escaped_name();
	test_query_drop();
	test_query_formerr();
	test_query_notimp();
	test_query_fuzz_lengths();
	test_query_structure();
	test_query_tsig_stuffing_does_not_leak();
	test_query_hidden_tsigs_do_not_leak();
	test_reply_rcode();
	test_reply_rcode_header_only();
	test_truncate();
	test_set_id();
	test_answer_addresses();
	test_answer_cname_chain();
	test_answer_unrelated();
	test_answer_cname_loops();
	test_answer_many_addresses();
	test_answer_negative_and_bad();
	test_answer_structure();
	test_answer_tsig_stuffing_does_not_leak();
	test_answer_hidden_tsigs_do_not_leak();
	test_age_ttls();
	test_age_ttls_malformed();
	test_min_ttl();
	test_drop_addresses();
	test_drop_addresses_signatures();
	test_drop_addresses_pointers();
	return check_exit();
}
