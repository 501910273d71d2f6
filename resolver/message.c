/* message.c - DNS message parsing (ldns) and the replies dnsgate builds. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <ldns/ldns.h>

#include "message.h"

#define DNS_TYPE_SOA 6
#define DNS_TYPE_OPT 41
#define DNS_TYPE_TSIG 250

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Moves *pos past a possibly compressed name. Returns 0 or -1. */
static int
skip_name(const uint8_t *wire, size_t len, size_t *pos)
{
	size_t p = *pos;
	unsigned labels = 0;

	for (;;) {
		uint8_t c;

		if (p >= len)
			return -1;
		c = wire[p];
		if (c == 0) {
			*pos = p + 1;
			return 0;
		}
		if ((c & 0xc0) == 0xc0) {
			if (p + 2 > len)
				return -1;
			*pos = p + 2;
			return 0;
		}
		if ((c & 0xc0) != 0 || ++labels > 127)
			return -1;
		p += 1 + (size_t)c;
	}
}

enum section { SECTION_ANSWER, SECTION_AUTHORITY, SECTION_ADDITIONAL };

/* Calls fn for every resource record after the question, with its section
 * and the offset of its TTL field. Returns 0, or -1 when a length runs
 * past the end. */
static int
walk_records(const uint8_t *wire, size_t len,
	     void (*fn)(const uint8_t *wire, enum section section,
			size_t ttl_offset, uint16_t type, size_t rdata,
			uint16_t rdlen, void *arg),
	     void *arg)
{
	size_t pos = DNS_HEADER_SIZE;
	unsigned qd, an, ns, rr, i;

	if (len < DNS_HEADER_SIZE)
		return -1;
	qd = get16(wire + 4);
	an = get16(wire + 6);
	ns = get16(wire + 8);
	rr = an + ns + get16(wire + 10);
	for (i = 0; i < qd; i++) {
		if (skip_name(wire, len, &pos) < 0 || pos + 4 > len)
			return -1;
		pos += 4;
	}
	for (i = 0; i < rr; i++) {
		uint16_t type, rdlen;

		if (skip_name(wire, len, &pos) < 0 || pos + 10 > len)
			return -1;
		type = get16(wire + pos);
		rdlen = get16(wire + pos + 8);
		if (pos + 10 + rdlen > len)
			return -1;
		if (fn != NULL)
			fn(wire,
			   i < an	   ? SECTION_ANSWER
			   : i < an + ns ? SECTION_AUTHORITY
					 : SECTION_ADDITIONAL,
			   pos + 4, type, pos + 10, rdlen, arg);
		pos += 10 + (size_t)rdlen;
	}
	return 0;
}

/* What the structure check counted, for its verdict. */
struct record_census {
	unsigned opt;
	unsigned tsig;
};

static void
census_record(const uint8_t *wire, enum section section, size_t ttl_offset,
	      uint16_t type, size_t rdata, uint16_t rdlen, void *arg)
{
	struct record_census *census = arg;

	if (type == DNS_TYPE_OPT)
		census->opt++;
	else if (type == DNS_TYPE_TSIG)
		census->tsig++;
}

/* The reason of the last refusal with a count in it; the daemon is one
 * thread, and a reason is logged before the next message is parsed. */
static char refusal[128];

static const char *refusal_reason(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *
refusal_reason(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(refusal, sizeof refusal, fmt, ap);
	va_end(ap);
	return refusal;
}

/* Walks the whole message by its header counts, every length checked,
 * before ldns sees a byte of it. ldns 1.8.3's ldns_wire2pkt stores each
 * TSIG record of the additional section over the one before, which it
 * never frees, also when the parse fails later: a 64 KB message holds
 * thousands. So no message with more than one TSIG or more than one OPT
 * reaches ldns, nor a query with other than one question or with answer
 * or authority records (a stub sends none; a query is no place to hand
 * ldns 64 KB of records to parse). Returns 0, or -1 with *reason. */
static int
check_structure(const uint8_t *wire, size_t len, bool is_query,
		const char **reason)
{
	const char *what = is_query ? "query" : "answer";
	const char *rule = is_query ? "a stub query has" : "an answer has";
	struct record_census census = {0, 0};
	unsigned qd = get16(wire + 4), an = get16(wire + 6),
		 ns = get16(wire + 8);

	if (is_query ? qd != 1 : qd > 1) {
		*reason = refusal_reason("%s has %u questions; %s %s", what, qd,
					 rule, is_query ? "one" : "at most one");
		return -1;
	}
	if (is_query && (an > 0 || ns > 0)) {
		unsigned n = an > 0 ? an : ns;

		*reason = refusal_reason(
			"query has %u %s record%s; a stub query has none", n,
			an > 0 ? "answer" : "authority", n == 1 ? "" : "s");
		return -1;
	}
	if (walk_records(wire, len, census_record, &census) < 0) {
		*reason = refusal_reason(
			"malformed %s: a name or record runs past the end of "
			"the message",
			is_query ? "message" : "answer from upstream");
		return -1;
	}
	if (census.opt > 1 || census.tsig > 1) {
		*reason = refusal_reason(
			"%s has %u %s records; %s at most one", what,
			census.opt > 1 ? census.opt : census.tsig,
			census.opt > 1 ? "OPT" : "TSIG", rule);
		return -1;
	}
	return 0;
}

/* Copies an ldns name into buf in lower case without the final dot.
 * Returns -1 when its presentation form (with \DDD escapes) does not fit:
 * a cut name must never be what the block lists are checked against. */
static int
name_to_string(const ldns_rdf *name, char *buf, size_t buflen)
{
	char *text = ldns_rdf2str(name);
	size_t n, i;

	if (text == NULL)
		return -1;
	n = strlen(text);
	if (n > 1 && text[n - 1] == '.')
		text[--n] = '\0';
	if (n >= buflen) {
		LDNS_FREE(text);
		return -1;
	}
	for (i = 0; i <= n; i++)
		buf[i] = (char)tolower((unsigned char)text[i]);
	LDNS_FREE(text);
	return 0;
}

enum message_verdict
message_parse_query(const uint8_t *wire, size_t len, struct dns_question *q,
		    const char **reason)
{
	ldns_pkt *pkt = NULL;
	ldns_rr *question;
	unsigned opcode;

	memset(q, 0, sizeof *q);
	if (len < DNS_HEADER_SIZE) {
		*reason = "shorter than a DNS header";
		return MESSAGE_DROP;
	}
	q->id = get16(wire);
	if (wire[2] & 0x80) {
		*reason = "a response, not a query";
		return MESSAGE_DROP;
	}
	opcode = (wire[2] >> 3) & 0x0f;
	if (opcode != 0) {
		*reason = "opcode is not QUERY";
		return MESSAGE_NOTIMP;
	}
	if (check_structure(wire, len, true, reason) < 0)
		return MESSAGE_FORMERR;
	if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK) {
		*reason = "malformed message";
		return MESSAGE_FORMERR;
	}
	question = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
	if (question == NULL || ldns_rr_owner(question) == NULL) {
		ldns_pkt_free(pkt);
		*reason = "malformed question";
		return MESSAGE_FORMERR;
	}
	if (name_to_string(ldns_rr_owner(question), q->qname,
			   sizeof q->qname) < 0) {
		ldns_pkt_free(pkt);
		*reason = "question name too long in presentation form";
		return MESSAGE_FORMERR;
	}
	q->qtype = (uint16_t)ldns_rr_get_type(question);
	q->qclass = (uint16_t)ldns_rr_get_class(question);
	q->cd_bit = ldns_pkt_cd(pkt);
	q->udp_size = 512;
	if (ldns_pkt_edns(pkt)) {
		q->edns = true;
		q->do_bit = ldns_pkt_edns_do(pkt);
		if (ldns_pkt_edns_udp_size(pkt) > 512)
			q->udp_size = ldns_pkt_edns_udp_size(pkt);
	}
	ldns_pkt_free(pkt);
	return MESSAGE_QUERY_OK;
}

/* Length of the question section starting at the header's end, or 0 when
 * it cannot be read. */
static size_t
question_length(const uint8_t *wire, size_t len)
{
	size_t pos = DNS_HEADER_SIZE;

	if (len < DNS_HEADER_SIZE || get16(wire + 4) != 1)
		return 0;
	if (skip_name(wire, len, &pos) < 0 || pos + 4 > len)
		return 0;
	return pos + 4 - DNS_HEADER_SIZE;
}

/* Copies the header and question of msg into out with every record count
 * zeroed: the common start of every reply dnsgate writes itself. Returns
 * the length, or -1. */
static ssize_t
copy_header_and_question(const uint8_t *msg, size_t len, uint8_t *out,
			 size_t outlen)
{
	size_t qlen = question_length(msg, len);

	if (len < DNS_HEADER_SIZE || outlen < DNS_HEADER_SIZE + qlen)
		return -1;
	memcpy(out, msg, DNS_HEADER_SIZE + qlen);
	put16(out + 4, qlen > 0 ? 1 : 0);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	return (ssize_t)(DNS_HEADER_SIZE + qlen);
}

ssize_t
message_reply_rcode(const uint8_t *query, size_t len, uint8_t rcode,
		    uint8_t *out, size_t outlen)
{
	ssize_t n = copy_header_and_question(query, len, out, outlen);

	if (n < 0)
		return -1;
	out[2] = (uint8_t)(0x80 | (query[2] & 0x79)); /* QR, opcode, RD */
	out[3] = (uint8_t)(0x80 | (rcode & 0x0f));    /* RA, rcode */
	return n;
}

ssize_t
message_truncate(const uint8_t *answer, size_t len, uint8_t *out,
		 size_t outlen)
{
	ssize_t n = copy_header_and_question(answer, len, out, outlen);

	if (n < 0)
		return -1;
	out[2] |= 0x02; /* TC */
	return n;
}

/* Same name bytes but for ASCII letter case (label lengths, at most 63,
 * are never letters), then the same type and class exactly. */
static bool
same_question(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i + 4 < len; i++) {
		if (tolower(a[i]) != tolower(b[i]))
			return false;
	}
	return memcmp(a + len - 4, b + len - 4, 4) == 0;
}

int
message_copy_question(uint8_t *answer, size_t alen, const uint8_t *query,
		      size_t qlen)
{
	size_t a = question_length(answer, alen);
	size_t q = question_length(query, qlen);

	if (a == 0 || a != q ||
	    !same_question(answer + DNS_HEADER_SIZE, query + DNS_HEADER_SIZE,
			   a))
		return -1;
	memcpy(answer + DNS_HEADER_SIZE, query + DNS_HEADER_SIZE, a);
	return 0;
}

void
message_set_id(uint8_t *wire, size_t len, uint16_t id)
{
	if (len >= 2)
		put16(wire, id);
}

static bool
in_chain(const struct answer_info *info, const char *qname, const char *name)
{
	size_t i;

	if (strcmp(name, qname) == 0)
		return true;
	for (i = 0; i < info->n_chain; i++) {
		if (strcmp(info->chain[i], name) == 0)
			return true;
	}
	return false;
}

int
message_parse_answer(const uint8_t *wire, size_t len, const char *qname,
		     struct answer_info *out, const char **reason)
{
	ldns_pkt *pkt = NULL;
	ldns_rr_list *answers;
	char owner[DNS_MAX_NAME], current[DNS_MAX_NAME];
	size_t i, count;
	bool followed;

	memset(out, 0, sizeof *out);
	if (len < DNS_HEADER_SIZE) {
		*reason = "answer from upstream shorter than a DNS header";
		return -1;
	}
	if (check_structure(wire, len, false, reason) < 0)
		return -1;
	if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK) {
		*reason = "malformed answer from upstream";
		return -1;
	}
	out->rcode = (uint8_t)ldns_pkt_get_rcode(pkt);
	out->truncated = ldns_pkt_tc(pkt);
	if (message_min_ttl(wire, len, &out->min_ttl) < 0)
		out->min_ttl = 0;
	answers = ldns_pkt_answer(pkt);
	count = ldns_rr_list_rr_count(answers);

	/* Follow the CNAME chain from the qname, in any record order. */
	snprintf(current, sizeof current, "%s", qname);
	do {
		followed = false;
		for (i = 0; i < count && out->n_chain < MESSAGE_MAX_CHAIN;
		     i++) {
			ldns_rr *rr = ldns_rr_list_rr(answers, i);
			char target[DNS_MAX_NAME];

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME ||
			    ldns_rr_rd_count(rr) < 1)
				continue;
			if (name_to_string(ldns_rr_owner(rr), owner,
					   sizeof owner) < 0 ||
			    strcmp(owner, current) != 0)
				continue;
			if (name_to_string(ldns_rr_rdf(rr, 0), target,
					   sizeof target) < 0)
				break; /* unreadable target: the chain ends */
			if (in_chain(out, qname, target))
				break; /* a loop: stop following */
			snprintf(out->chain[out->n_chain++], DNS_MAX_NAME,
				 "%s", target);
			snprintf(current, sizeof current, "%s", target);
			followed = true;
			break;
		}
	} while (followed);

	for (i = 0; i < count; i++) {
		ldns_rr *rr = ldns_rr_list_rr(answers, i);
		ldns_rr_type type = ldns_rr_get_type(rr);
		const ldns_rdf *rd;
		struct ip_addr *addr;

		if (type != LDNS_RR_TYPE_A && type != LDNS_RR_TYPE_AAAA)
			continue;
		rd = ldns_rr_rdf(rr, 0);
		if (rd == NULL)
			continue;
		if (name_to_string(ldns_rr_owner(rr), owner, sizeof owner) < 0 ||
		    !in_chain(out, qname, owner))
			continue;
		if (out->n_addrs == MESSAGE_MAX_ADDRS) {
			out->addrs_cut = true;
			continue;
		}
		addr = &out->addrs[out->n_addrs];
		memset(addr, 0, sizeof *addr);
		if (type == LDNS_RR_TYPE_A &&
		    ldns_rdf_size(rd) == 4) {
			addr->family = AF_INET;
			memcpy(addr->bytes, ldns_rdf_data(rd), 4);
		} else if (type == LDNS_RR_TYPE_AAAA &&
			   ldns_rdf_size(rd) == 16) {
			addr->family = AF_INET6;
			memcpy(addr->bytes, ldns_rdf_data(rd), 16);
		} else {
			continue;
		}
		out->addr_ttls[out->n_addrs++] = ldns_rr_ttl(rr);
	}
	ldns_pkt_free(pkt);
	return 0;
}

struct age_state {
	uint32_t elapsed;
};

static void
age_record(const uint8_t *wire, enum section section, size_t ttl_offset,
	   uint16_t type, size_t rdata, uint16_t rdlen, void *arg)
{
	struct age_state *st = arg;
	uint8_t *p = (uint8_t *)wire + ttl_offset;
	uint32_t ttl;

	if (type == DNS_TYPE_OPT)
		return; /* its "TTL" carries EDNS flags */
	ttl = get32(p);
	put32(p, ttl > st->elapsed ? ttl - st->elapsed : 0);
}

int
message_age_ttls(uint8_t *wire, size_t len, uint32_t elapsed)
{
	struct age_state st = {elapsed};

	if (walk_records(wire, len, NULL, NULL) < 0)
		return -1;
	return walk_records(wire, len, age_record, &st);
}

struct min_state {
	uint32_t min;
	bool any;
};

static void
min_record(const uint8_t *wire, enum section section, size_t ttl_offset,
	   uint16_t type, size_t rdata, uint16_t rdlen, void *arg)
{
	struct min_state *st = arg;
	uint32_t ttl;

	if (type == DNS_TYPE_OPT)
		return;
	ttl = get32(wire + ttl_offset);
	/* In a negative answer, the SOA's MINIMUM (its last 4 bytes of
	 * RDATA) caps how long the answer may be kept (RFC 2308). */
	if (type == DNS_TYPE_SOA && section == SECTION_AUTHORITY &&
	    rdlen >= 22) {
		uint32_t minimum = get32(wire + rdata + rdlen - 4);

		if (minimum < ttl)
			ttl = minimum;
	}
	if (!st->any || ttl < st->min)
		st->min = ttl;
	st->any = true;
}

int
message_min_ttl(const uint8_t *wire, size_t len, uint32_t *ttl)
{
	struct min_state st = {0, false};

	if (walk_records(wire, len, min_record, &st) < 0)
		return -1;
	*ttl = st.min;
	return 0;
}
