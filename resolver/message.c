/* message.c - DNS messages walked by hand (ldns reads single names) and
 * the replies dnsgate builds. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "resolver/message.h"
#include "src/xmalloc.h"

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_SOA 6
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_OPT 41
#define DNS_TYPE_RRSIG 46
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

enum section { SECTION_ANSWER, SECTION_AUTHORITY, SECTION_ADDITIONAL };

/* One resource record where walk_records found it: offsets into wire. */
struct record {
	enum section section;
	size_t owner; /* its owner name */
	uint16_t type;
	uint16_t rclass;
	size_t ttl; /* its TTL field */
	size_t rdata;
	uint16_t rdlen;
};

/* Called for each record; returns 0 to go on, 1 to stop the walk. */
typedef int (*record_fn)(const uint8_t *wire, const struct record *rr,
			 void *arg);

/* Calls fn (when not NULL) for every resource record after the question,
 * in order. Returns 0, 1 when fn stopped the walk, or -1 when a name or
 * a length runs past the end. */
static int
walk_records(const uint8_t *wire, size_t len, record_fn fn, void *arg)
{
	size_t pos = DNS_HEADER_SIZE;
	unsigned qd, an, ns, n_records, i;

	if (len < DNS_HEADER_SIZE)
		return -1;
	qd = get16(wire + 4);
	an = get16(wire + 6);
	ns = get16(wire + 8);
	n_records = an + ns + get16(wire + 10);
	for (i = 0; i < qd; i++) {
		if (skip_name(wire, len, &pos) < 0 || pos + 4 > len)
			return -1;
		pos += 4;
	}
	for (i = 0; i < n_records; i++) {
		struct record rr;

		rr.owner = pos;
		if (skip_name(wire, len, &pos) < 0 || pos + 10 > len)
			return -1;
		rr.section = i < an	       ? SECTION_ANSWER
			     : i < an + ns ? SECTION_AUTHORITY
					   : SECTION_ADDITIONAL;
		rr.type = get16(wire + pos);
		rr.rclass = get16(wire + pos + 2);
		rr.ttl = pos + 4;
		rr.rdlen = get16(wire + pos + 8);
		rr.rdata = pos + 10;
		if (rr.rdata + rr.rdlen > len)
			return -1;
		if (fn != NULL && fn(wire, &rr, arg) != 0)
			return 1;
		pos = rr.rdata + rr.rdlen;
	}
	return 0;
}

/* What the structure check found, for its verdict and for the caller. */
struct record_census {
	bool is_query;
	unsigned opt;
	unsigned tsig;
	uint16_t opt_class; /* of the OPT record: the EDNS buffer size */
	uint32_t opt_ttl;   /* its extended RCODE, version and flags */
	const char *bad;    /* a record dnsgate reads is malformed */
};

/* The answer records dnsgate reads (A, AAAA, CNAME) must hold exactly
 * what their type says: their RDLENGTH is what the walk trusts. */
static const char *
bad_answer_record(const uint8_t *wire, const struct record *rr)
{
	size_t end = rr->rdata + rr->rdlen, pos = rr->rdata;

	if (rr->type == DNS_TYPE_A && rr->rdlen != 4)
		return refusal_reason("malformed answer from upstream: an A "
				      "record with %u bytes of data",
				      rr->rdlen);
	if (rr->type == DNS_TYPE_AAAA && rr->rdlen != 16)
		return refusal_reason("malformed answer from upstream: an AAAA "
				      "record with %u bytes of data",
				      rr->rdlen);
	if (rr->type == DNS_TYPE_CNAME &&
	    (skip_name(wire, end, &pos) < 0 || pos != end))
		return "malformed answer from upstream: a CNAME whose name is "
		       "not its whole data";
	return NULL;
}

static int
census_record(const uint8_t *wire, const struct record *rr, void *arg)
{
	struct record_census *census = arg;

	if (rr->type == DNS_TYPE_OPT && census->opt++ == 0) {
		census->opt_class = rr->rclass;
		census->opt_ttl = get32(wire + rr->ttl);
	} else if (rr->type == DNS_TYPE_TSIG) {
		census->tsig++;
	}
	if (!census->is_query && rr->section == SECTION_ANSWER) {
		census->bad = bad_answer_record(wire, rr);
		if (census->bad != NULL)
			return 1;
	}
	return 0;
}

/* Walks the whole message by its header counts, every length checked.
 * ldns then reads names only, one at a time (ldns_wire2dname), never a
 * whole message: ldns 1.8.3's ldns_wire2pkt stores each TSIG record of
 * the additional section over the one before and never frees it, also
 * when the parse fails later (a 64 KB message holds thousands), and it
 * does not resume at a record's RDLENGTH, so its idea of where records
 * lie can part from this walk's. Refused as well: more than one TSIG or
 * OPT, and a query with other than one question or with answer or
 * authority records (a stub sends none). Returns 0 with *census filled,
 * or -1 with *reason. */
static int
check_structure(const uint8_t *wire, size_t len, bool is_query,
		struct record_census *census, const char **reason)
{
	const char *what = is_query ? "query" : "answer";
	const char *rule = is_query ? "a stub query has" : "an answer has";
	unsigned qd = get16(wire + 4), an = get16(wire + 6),
		 ns = get16(wire + 8);
	int walked;

	memset(census, 0, sizeof *census);
	census->is_query = is_query;
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
	walked = walk_records(wire, len, census_record, census);
	if (walked < 0) {
		*reason = refusal_reason(
			"malformed %s: a name or record runs past the end of "
			"the message",
			is_query ? "message" : "answer from upstream");
		return -1;
	}
	if (walked > 0) {
		*reason = census->bad;
		return -1;
	}
	if (census->opt > 1 || census->tsig > 1) {
		*reason = refusal_reason(
			"%s has %u %s records; %s at most one", what,
			census->opt > 1 ? census->opt : census->tsig,
			census->opt > 1 ? "OPT" : "TSIG", rule);
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

/* The name at offset pos, as name_to_string writes it. Returns 0, or -1
 * when it is malformed (a pointer loop, over 255 octets) or too long. */
static int
read_name(const uint8_t *wire, size_t len, size_t pos, char *buf,
	  size_t buflen)
{
	ldns_rdf *name = NULL;
	int rc;

	if (ldns_wire2dname(&name, wire, len, &pos) != LDNS_STATUS_OK)
		return -1;
	rc = name_to_string(name, buf, buflen);
	ldns_rdf_deep_free(name);
	return rc;
}

enum message_verdict
message_parse_query(const uint8_t *wire, size_t len, struct dns_question *q,
		    const char **reason)
{
	struct record_census census;
	size_t pos = DNS_HEADER_SIZE;
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
	if (check_structure(wire, len, true, &census, reason) < 0)
		return MESSAGE_FORMERR;
	if (read_name(wire, len, pos, q->qname, sizeof q->qname) < 0) {
		*reason = "malformed question name, or too long in "
			  "presentation form";
		return MESSAGE_FORMERR;
	}
	/* The walk checked the question's type and class are there. */
	if (skip_name(wire, len, &pos) < 0 || pos + 4 > len) {
		*reason = "malformed question";
		return MESSAGE_FORMERR;
	}
	q->qtype = get16(wire + pos);
	q->qclass = get16(wire + pos + 2);
	q->cd_bit = (wire[3] & 0x10) != 0;
	q->udp_size = 512;
	if (census.opt == 1) {
		q->edns = true;
		q->do_bit = (census.opt_ttl & 0x8000) != 0;
		if (census.opt_class > 512)
			q->udp_size = census.opt_class;
	}
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

const char *
message_block_mode_name(enum message_block_mode mode)
{
	switch (mode) {
	case MESSAGE_BLOCK_NXDOMAIN:
		return "nxdomain";
	case MESSAGE_BLOCK_NULL:
		return "null";
	case MESSAGE_BLOCK_NODATA:
		return "nodata";
	case MESSAGE_BLOCK_REFUSED:
		return "refused";
	}
	return "?";
}

int
message_block_mode_parse(const char *word, enum message_block_mode *mode)
{
	static const enum message_block_mode modes[] = {
		MESSAGE_BLOCK_NXDOMAIN, MESSAGE_BLOCK_NULL,
		MESSAGE_BLOCK_NODATA, MESSAGE_BLOCK_REFUSED};
	size_t i;

	for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		if (strcmp(word, message_block_mode_name(modes[i])) == 0) {
			*mode = modes[i];
			return 0;
		}
	}
	return -1;
}

/* An OPT record's fixed part: root owner, type, class, TTL, RDLENGTH. */
#define OPT_RECORD_SIZE 11
/* An option's code and length, then the EDE's INFO-CODE. */
#define EDE_OPTION_SIZE 6

/* Appends an OPT record to the reply of used bytes in out, with an
 * Extended DNS Error "Blocked" carrying text when ede is set; the text
 * is cut (never inside a UTF-8 sequence) so the reply fits limit.
 * Returns the new length, or -1 when not even the record fits. */
static ssize_t
append_opt(uint8_t *out, size_t used, size_t limit,
	   const struct dns_question *q, bool ede, const char *text)
{
	size_t fixed = OPT_RECORD_SIZE + (ede ? EDE_OPTION_SIZE : 0);
	size_t n = 0;
	uint8_t *p = out + used;

	if (used + fixed > limit)
		return -1;
	if (ede && text != NULL) {
		n = strlen(text);
		if (n > limit - used - fixed) {
			n = limit - used - fixed;
			while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
				n--;
		}
	}
	p[0] = 0; /* the root */
	put16(p + 1, DNS_TYPE_OPT);
	put16(p + 3, MESSAGE_EDNS_SIZE);
	put32(p + 5, q->do_bit ? 0x8000 : 0); /* rcode 0, version 0, DO */
	put16(p + 9, (uint16_t)(ede ? EDE_OPTION_SIZE + n : 0));
	if (ede) {
		put16(p + 11, DNS_OPT_EDE);
		put16(p + 13, (uint16_t)(2 + n));
		put16(p + 15, DNS_EDE_BLOCKED);
		memcpy(p + 17, text, n);
	}
	put16(out + 10, (uint16_t)(get16(out + 10) + 1));
	return (ssize_t)(used + fixed + n);
}

/* The reply dnsgated writes itself: rcode, an answer record of type
 * answer_type (A or AAAA, all zeros; 0: none) owned by the question's
 * name, and an OPT record when the query had EDNS (with an EDE when ede
 * is set). Returns the length or -1. */
static ssize_t
build_reply(const uint8_t *query, size_t len, const struct dns_question *q,
	    uint8_t rcode, uint16_t answer_type, bool ede, const char *text,
	    size_t max_len, uint8_t *out, size_t outlen)
{
	size_t limit = max_len < outlen ? max_len : outlen;
	ssize_t n = message_reply_rcode(query, len, rcode, out, limit);
	size_t used;

	if (n < 0 || get16(out + 4) != 1)
		return -1;
	used = (size_t)n;
	if (answer_type != 0) {
		uint16_t rdlen = answer_type == DNS_TYPE_A ? 4 : 16;
		uint8_t *p = out + used;

		if (used + 12 + rdlen > limit)
			return -1;
		put16(p, 0xc000 | DNS_HEADER_SIZE); /* the question's name */
		put16(p + 2, answer_type);
		put16(p + 4, 1); /* IN */
		put32(p + 6, MESSAGE_NULL_TTL);
		put16(p + 10, rdlen);
		memset(p + 12, 0, rdlen);
		used += 12 + rdlen;
		put16(out + 6, 1);
	}
	if (!q->edns)
		return (ssize_t)used; /* never an OPT the query had not */
	return append_opt(out, used, limit, q, ede, text);
}

ssize_t
message_reply_blocked(const uint8_t *query, size_t len,
		      const struct dns_question *q,
		      enum message_block_mode mode, const char *why,
		      size_t max_len, uint8_t *out, size_t outlen)
{
	uint8_t rcode = DNS_RCODE_NOERROR;
	uint16_t answer_type = 0;

	switch (mode) {
	case MESSAGE_BLOCK_NXDOMAIN:
		rcode = DNS_RCODE_NXDOMAIN;
		break;
	case MESSAGE_BLOCK_REFUSED:
		rcode = DNS_RCODE_REFUSED;
		break;
	case MESSAGE_BLOCK_NULL:
		if (q->qclass == 1 &&
		    (q->qtype == DNS_TYPE_A || q->qtype == DNS_TYPE_AAAA))
			answer_type = q->qtype;
		break;
	case MESSAGE_BLOCK_NODATA:
		break;
	}
	return build_reply(query, len, q, rcode, answer_type, true, why,
			   max_len, out, outlen);
}

ssize_t
message_reply_local(const uint8_t *query, size_t len,
		    const struct dns_question *q, uint8_t rcode, uint8_t *out,
		    size_t outlen)
{
	return build_reply(query, len, q, rcode, 0, false, NULL, q->udp_size,
			   out, outlen);
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

/* Finds the first CNAME of the answer section owned by current. */
struct cname_search {
	const char *current;
	char target[DNS_MAX_NAME];
	bool found;
};

static int
find_cname(const uint8_t *wire, const struct record *rr, void *arg)
{
	struct cname_search *search = arg;
	char owner[DNS_MAX_NAME];
	size_t end = rr->rdata + rr->rdlen;

	if (rr->section != SECTION_ANSWER || rr->type != DNS_TYPE_CNAME)
		return 0;
	if (read_name(wire, end, rr->owner, owner, sizeof owner) < 0 ||
	    strcmp(owner, search->current) != 0)
		return 0;
	/* The first one owned by the name decides; an unreadable target
	 * ends the chain. */
	search->found =
		read_name(wire, end, rr->rdata, search->target,
			  sizeof search->target) == 0;
	return 1;
}

struct address_search {
	struct answer_info *out;
	const char *qname;
};

static int
collect_address(const uint8_t *wire, const struct record *rr, void *arg)
{
	struct address_search *search = arg;
	struct answer_info *out = search->out;
	char owner[DNS_MAX_NAME];
	struct ip_addr *addr;

	if (rr->section != SECTION_ANSWER ||
	    (rr->type != DNS_TYPE_A && rr->type != DNS_TYPE_AAAA))
		return 0;
	if (read_name(wire, rr->rdata, rr->owner, owner, sizeof owner) < 0 ||
	    !in_chain(out, search->qname, owner))
		return 0;
	if (out->n_addrs == MESSAGE_MAX_ADDRS) {
		out->addrs_cut = true;
		return 0;
	}
	addr = &out->addrs[out->n_addrs];
	memset(addr, 0, sizeof *addr);
	addr->family = rr->type == DNS_TYPE_A ? AF_INET : AF_INET6;
	memcpy(addr->bytes, wire + rr->rdata, rr->rdlen); /* 4 or 16: checked */
	out->addr_ttls[out->n_addrs++] = get32(wire + rr->ttl);
	return 0;
}

int
message_parse_answer(const uint8_t *wire, size_t len, const char *qname,
		     struct answer_info *out, const char **reason)
{
	struct record_census census;
	struct address_search addresses = {out, qname};
	char current[DNS_MAX_NAME];

	/* Not the whole struct: its arrays are 100 KB, and every element
	 * used is written below. This runs for every answer, cached too. */
	out->rcode = 0;
	out->truncated = false;
	out->n_chain = 0;
	out->n_addrs = 0;
	out->addrs_cut = false;
	out->min_ttl = 0;
	if (len < DNS_HEADER_SIZE) {
		*reason = "answer from upstream shorter than a DNS header";
		return -1;
	}
	if (check_structure(wire, len, false, &census, reason) < 0)
		return -1;
	out->rcode = wire[3] & 0x0f;
	out->truncated = (wire[2] & 0x02) != 0;
	if (message_min_ttl(wire, len, &out->min_ttl) < 0)
		out->min_ttl = 0;

	/* Follow the CNAME chain from the qname, in any record order. */
	snprintf(current, sizeof current, "%s", qname);
	while (out->n_chain < MESSAGE_MAX_CHAIN) {
		struct cname_search search = {.current = current};

		walk_records(wire, len, find_cname, &search);
		if (!search.found || in_chain(out, qname, search.target))
			break; /* the end, or a loop: stop following */
		snprintf(out->chain[out->n_chain++], DNS_MAX_NAME, "%s",
			 search.target);
		snprintf(current, sizeof current, "%s", search.target);
	}
	walk_records(wire, len, collect_address, &addresses);
	return 0;
}

struct age_state {
	uint32_t elapsed;
};

static int
age_record(const uint8_t *wire, const struct record *rr, void *arg)
{
	struct age_state *st = arg;
	uint8_t *p = (uint8_t *)wire + rr->ttl;
	uint32_t ttl;

	if (rr->type == DNS_TYPE_OPT)
		return 0; /* its "TTL" carries EDNS flags */
	ttl = get32(p);
	put32(p, ttl > st->elapsed ? ttl - st->elapsed : 0);
	return 0;
}

int
message_age_ttls(uint8_t *wire, size_t len, uint32_t elapsed)
{
	struct age_state st = {elapsed};

	if (walk_records(wire, len, NULL, NULL) < 0)
		return -1;
	return walk_records(wire, len, age_record, &st);
}

static int
set_record_ttl(const uint8_t *wire, const struct record *rr, void *arg)
{
	if (rr->type != DNS_TYPE_OPT)
		put32((uint8_t *)wire + rr->ttl, *(const uint32_t *)arg);
	return 0;
}

int
message_set_ttls(uint8_t *wire, size_t len, uint32_t ttl)
{
	if (walk_records(wire, len, NULL, NULL) < 0)
		return -1;
	return walk_records(wire, len, set_record_ttl, &ttl);
}

struct min_state {
	uint32_t min;
	bool any;
};

static int
min_record(const uint8_t *wire, const struct record *rr, void *arg)
{
	struct min_state *st = arg;
	uint32_t ttl;

	if (rr->type == DNS_TYPE_OPT)
		return 0;
	ttl = get32(wire + rr->ttl);
	/* In a negative answer, the SOA's MINIMUM (its last 4 bytes of
	 * RDATA) caps how long the answer may be kept (RFC 2308). */
	if (rr->type == DNS_TYPE_SOA && rr->section == SECTION_AUTHORITY &&
	    rr->rdlen >= 22) {
		uint32_t minimum = get32(wire + rr->rdata + rr->rdlen - 4);

		if (minimum < ttl)
			ttl = minimum;
	}
	if (!st->any || ttl < st->min)
		st->min = ttl;
	st->any = true;
	return 0;
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

const char *
message_type_name(uint16_t type, char *buf, size_t len)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);

	if (d != NULL && d->_name != NULL)
		return d->_name;
	snprintf(buf, len, "TYPE%u", type);
	return buf;
}

const char *
message_rcode_name(uint8_t rcode)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL",
					    "NXDOMAIN", "NOTIMP", "REFUSED"};

	return rcode < sizeof names / sizeof names[0] ? names[rcode] : "OTHER";
}

/* --- dropping addresses from an answer ------------------------------------ */

/* Where names sit in the RDATA of the types whose names may be
 * compressed (RFC 1035, and those RFC 3597 section 4 lets a receiver
 * decompress): skip bytes, then count names one after another. */
static bool
rdata_names(uint16_t type, unsigned *skip, unsigned *count)
{
	*skip = 0;
	*count = 1;
	switch (type) {
	case 2:  /* NS */
	case 3:  /* MD */
	case 4:  /* MF */
	case 5:  /* CNAME */
	case 7:  /* MB */
	case 8:  /* MG */
	case 9:  /* MR */
	case 12: /* PTR */
	case 39: /* DNAME */
		return true;
	case 6:  /* SOA: MNAME, RNAME */
	case 14: /* MINFO */
	case 17: /* RP */
		*count = 2;
		return true;
	case 15: /* MX */
	case 18: /* AFSDB */
	case 21: /* RT */
	case 36: /* KX */
		*skip = 2;
		return true;
	case 26: /* PX */
		*skip = 2;
		*count = 2;
		return true;
	case 33: /* SRV */
		*skip = 6;
		return true;
	}
	return false;
}

/* An RRset an address was dropped from: its owner and type. */
struct trimmed {
	uint16_t type;
	char owner[DNS_MAX_NAME];
};

/* The byte ranges of the records being dropped, in message order. */
struct drop_state {
	const struct ip_addr *drop; /* sorted (compare_drop) */
	size_t n_drop;
	struct trimmed *trimmed; /* sorted (compare_trimmed) */
	size_t n_trimmed, cap_trimmed;
	bool trimmed_unknown; /* an owner was unreadable: every A and AAAA
	                         signature goes */
	size_t (*ranges)[2]; /* [start, end), in the message's order */
	size_t *before;      /* before[i]: the bytes of ranges[0..i) */
	size_t n_ranges, cap_ranges;
	size_t next;         /* the offset after the last record walked */
	size_t dropped;      /* records dropped */
	size_t dropped_in[3]; /* of them, per section (enum section) */
	bool write;          /* fix the pointers (else only check them) */
	const char *bad;
};

static int
compare_drop(const void *x, const void *y)
{
	const struct ip_addr *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, sizeof a->bytes);
}

static bool
dropped_address(const struct drop_state *st, const uint8_t *wire,
		const struct record *rr)
{
	size_t n = rr->type == DNS_TYPE_A ? 4 : 16;
	struct ip_addr key;

	if (rr->rdlen != n ||
	    (rr->type != DNS_TYPE_A && rr->type != DNS_TYPE_AAAA))
		return false;
	memset(&key, 0, sizeof key);
	key.family = rr->type == DNS_TYPE_A ? AF_INET : AF_INET6;
	memcpy(key.bytes, wire + rr->rdata, n);
	/* A sorted list: a hostile answer of 4,096 addresses costs a few
	 * comparisons each, not 4,096. */
	return bsearch(&key, st->drop, st->n_drop, sizeof *st->drop,
		       compare_drop) != NULL;
}

static int
compare_trimmed(const void *x, const void *y)
{
	const struct trimmed *a = x, *b = y;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return strcmp(a->owner, b->owner);
}

/* Notes the RRset of each address dropped (walk_records). */
static int
find_trimmed(const uint8_t *wire, const struct record *rr, void *arg)
{
	struct drop_state *st = arg;
	struct trimmed *t;

	if (!dropped_address(st, wire, rr))
		return 0;
	if (st->n_trimmed == st->cap_trimmed) {
		size_t cap = st->cap_trimmed ? 2 * st->cap_trimmed : 4;
		void *more = realloc(st->trimmed, cap * sizeof *st->trimmed);

		if (more == NULL) {
			st->bad = "out of memory";
			return 1;
		}
		st->trimmed = more;
		st->cap_trimmed = cap;
	}
	t = &st->trimmed[st->n_trimmed];
	t->type = rr->type;
	if (read_name(wire, rr->rdata, rr->owner, t->owner,
		      sizeof t->owner) < 0) {
		st->trimmed_unknown = true; /* the record still goes */
		return 0;
	}
	st->n_trimmed++;
	return 0;
}

/* Whether rr is a signature over an RRset an address was dropped from:
 * it no longer matches what is left, so it goes too (a validating
 * client finds the RRset unsigned, not signed wrongly). */
static bool
trimmed_signature(const struct drop_state *st, const uint8_t *wire,
		  const struct record *rr)
{
	struct trimmed key;

	if (rr->type != DNS_TYPE_RRSIG || rr->rdlen < 18 ||
	    (st->n_trimmed == 0 && !st->trimmed_unknown))
		return false;
	key.type = get16(wire + rr->rdata); /* the type covered */
	if (key.type != DNS_TYPE_A && key.type != DNS_TYPE_AAAA)
		return false;
	if (st->trimmed_unknown)
		return true;
	if (read_name(wire, rr->rdata, rr->owner, key.owner,
		      sizeof key.owner) < 0)
		return false;
	return bsearch(&key, st->trimmed, st->n_trimmed, sizeof key,
		       compare_trimmed) != NULL;
}

/* Whether rr goes: an address dropped, in any section, or a signature
 * over its RRset. */
static bool
going(const struct drop_state *st, const uint8_t *wire,
      const struct record *rr)
{
	return dropped_address(st, wire, rr) ||
	       trimmed_signature(st, wire, rr);
}

static int
find_dropped(const uint8_t *wire, const struct record *rr, void *arg)
{
	struct drop_state *st = arg;

	if (!going(st, wire, rr))
		return 0;
	if (st->n_ranges == st->cap_ranges) {
		size_t cap = st->cap_ranges ? 2 * st->cap_ranges : 16;
		void *more = realloc(st->ranges, cap * sizeof *st->ranges);

		if (more == NULL) {
			st->bad = "out of memory";
			return 1;
		}
		st->ranges = more;
		st->cap_ranges = cap;
	}
	st->ranges[st->n_ranges][0] = rr->owner;
	st->ranges[st->n_ranges][1] = rr->rdata + rr->rdlen;
	st->n_ranges++;
	st->dropped++;
	st->dropped_in[rr->section]++;
	return 0;
}

/* How many bytes the dropped ranges hold before offset t; -1 when t is
 * inside one. */
static long
dropped_before(const struct drop_state *st, size_t t)
{
	size_t lo = 0, hi = st->n_ranges;

	/* The ranges are in order: the first whose start is past t. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->ranges[mid][0] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && t < st->ranges[lo - 1][1])
		return -1;
	return (long)st->before[lo];
}

/* The name at pos, ending by limit: its compression pointer (a name has
 * at most one, at its end) checked, and moved when st->write. Sets *end
 * past the name. Returns 0 or -1 (st->bad says why). */
static int
fix_name(uint8_t *wire, size_t pos, size_t limit, struct drop_state *st,
	 size_t *end)
{
	unsigned labels = 0;

	for (;;) {
		uint8_t c;
		size_t target;
		long before;

		if (pos >= limit) {
			st->bad = "a name runs past its record";
			return -1;
		}
		c = wire[pos];
		if (c == 0) {
			*end = pos + 1;
			return 0;
		}
		if ((c & 0xc0) != 0xc0) {
			if ((c & 0xc0) != 0 || ++labels > 127) {
				st->bad = "a name has a bad label";
				return -1;
			}
			pos += 1 + (size_t)c;
			continue;
		}
		if (pos + 2 > limit) {
			st->bad = "a name runs past its record";
			return -1;
		}
		target = (size_t)(c & 0x3f) << 8 | wire[pos + 1];
		if (target >= pos) {
			st->bad = "a compression pointer points forward";
			return -1;
		}
		before = dropped_before(st, target);
		if (before < 0) {
			st->bad = "a name kept points into a record dropped";
			return -1;
		}
		if (st->write)
			put16(wire + pos, (uint16_t)(0xc000 | (target -
							       (size_t)before)));
		*end = pos + 2;
		return 0;
	}
}

static int
fix_record(const uint8_t *cwire, const struct record *rr, void *arg)
{
	struct drop_state *st = arg;
	uint8_t *wire = (uint8_t *)cwire;
	unsigned skip, count, i;
	size_t pos, end;

	st->next = rr->rdata + rr->rdlen;
	/* Going: decided once, by the walk that found the ranges (the
	 * names of this pass may read through pointers already moved). */
	if (dropped_before(st, rr->owner) < 0)
		return 0;
	if (fix_name(wire, rr->owner, rr->ttl - 4, st, &end) < 0)
		return 1;
	if (!rdata_names(rr->type, &skip, &count))
		return 0;
	pos = rr->rdata + skip;
	for (i = 0; i < count; i++) {
		if (fix_name(wire, pos, rr->rdata + rr->rdlen, st, &end) < 0)
			return 1;
		pos = end;
	}
	return 0;
}

/* The question's names may be compressed too (they never are in
 * practice: nothing is before them to point at). */
static int
fix_question(uint8_t *wire, size_t len, struct drop_state *st)
{
	size_t pos = DNS_HEADER_SIZE, end;
	unsigned i, qd = get16(wire + 4);

	for (i = 0; i < qd; i++) {
		if (fix_name(wire, pos, len, st, &end) < 0)
			return -1;
		pos = end + 4;
	}
	return 0;
}

static ssize_t drop_sorted(uint8_t *wire, size_t len, struct drop_state *stp,
			   size_t *dropped, const char **reason);

ssize_t
message_drop_addresses(uint8_t *wire, size_t len, const struct ip_addr *drop,
		       size_t n_drop, size_t *dropped, const char **reason)
{
	struct ip_addr *sorted = xcalloc(n_drop ? n_drop : 1, sizeof *sorted);
	struct drop_state st = {.drop = sorted, .n_drop = n_drop};
	ssize_t n;

	memcpy(sorted, drop, n_drop * sizeof *drop);
	for (size_t i = 0; i < n_drop; i++) /* compared whole */
		if (sorted[i].family == AF_INET)
			memset(sorted[i].bytes + 4, 0, sizeof sorted[i].bytes - 4);
	qsort(sorted, n_drop, sizeof *sorted, compare_drop);
	n = drop_sorted(wire, len, &st, dropped, reason);
	free(st.before);
	free(st.trimmed);
	free(sorted);
	return n;
}

static ssize_t
drop_sorted(uint8_t *wire, size_t len, struct drop_state *stp,
	    size_t *dropped, const char **reason)
{
	struct drop_state st = *stp;
	size_t out, from, to, i;

	*dropped = 0;
	if (walk_records(wire, len, NULL, NULL) != 0) {
		*reason = "the answer cannot be walked";
		return -1;
	}
	if (walk_records(wire, len, find_trimmed, &st) != 0) {
		*reason = st.bad;
		stp->trimmed = st.trimmed; /* freed by the caller */
		return -1;
	}
	stp->trimmed = st.trimmed;
	if (st.n_trimmed > 1) {
		size_t w = 1;

		qsort(st.trimmed, st.n_trimmed, sizeof *st.trimmed,
		      compare_trimmed);
		for (i = 1; i < st.n_trimmed; i++) /* one of each */
			if (compare_trimmed(&st.trimmed[w - 1],
					    &st.trimmed[i]) != 0)
				st.trimmed[w++] = st.trimmed[i];
		st.n_trimmed = w;
	}
	if (walk_records(wire, len, find_dropped, &st) != 0) {
		*reason = st.bad;
		free(st.ranges);
		return -1;
	}
	if (st.n_ranges == 0)
		return (ssize_t)len;
	st.before = xcalloc(st.n_ranges + 1, sizeof *st.before);
	stp->before = st.before; /* freed by the caller */
	for (i = 0; i < st.n_ranges; i++)
		st.before[i + 1] = st.before[i] + st.ranges[i][1] -
				   st.ranges[i][0];
	/* Check every pointer first: the message is left as it was when
	 * one cannot be kept. */
	for (i = 0; i < 2; i++) {
		st.write = i == 1;
		if (fix_question(wire, len, &st) < 0 ||
		    walk_records(wire, len, fix_record, &st) != 0) {
			*reason = st.bad;
			free(st.ranges);
			return -1;
		}
	}
	/* Bytes after the last record (none in a sound message) stay. */
	out = st.ranges[0][0];
	for (i = 0; i < st.n_ranges; i++) {
		from = st.ranges[i][1];
		to = i + 1 < st.n_ranges ? st.ranges[i + 1][0] : len;

		memmove(wire + out, wire + from, to - from);
		out += to - from;
	}
	put16(wire + 6, (uint16_t)(get16(wire + 6) -
				   st.dropped_in[SECTION_ANSWER]));
	put16(wire + 8, (uint16_t)(get16(wire + 8) -
				   st.dropped_in[SECTION_AUTHORITY]));
	put16(wire + 10, (uint16_t)(get16(wire + 10) -
				    st.dropped_in[SECTION_ADDITIONAL]));
	*dropped = st.dropped;
	free(st.ranges);
	return (ssize_t)out;
}

void
message_keep_addresses(struct answer_info *info, struct ip_addr *allowed,
		       size_t n)
{
	size_t w = 0;

	qsort(allowed, n, sizeof *allowed, compare_drop);
	for (size_t i = 0; i < info->n_addrs; i++)
		if (bsearch(&info->addrs[i], allowed, n, sizeof *allowed,
			    compare_drop) != NULL) {
			info->addr_ttls[w] = info->addr_ttls[i];
			info->addrs[w++] = info->addrs[i];
		}
	info->n_addrs = w;
}
