/* message.h - DNS messages in and out: parsing a client's query, building
 * the replies dnsgate makes itself (FORMERR, SERVFAIL, NXDOMAIN, REFUSED,
 * truncated; a blocked name's answer with its Extended DNS Error; the
 * answers dnsgated gives itself), and reading an upstream answer's
 * address chain.
 * Every length field from the network is checked against the buffer.
 * Messages are walked here by hand; ldns reads single names, never a
 * whole message (ldns_wire2pkt leaks TSIG records in ldns 1.8.3). */
#ifndef DNSGATE_MESSAGE_H
#define DNSGATE_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "src/addr.h"

#define DNS_HEADER_SIZE 12
#define DNS_MAX_UDP 65535
#define DNS_MAX_NAME 256

enum {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
};

struct dns_question {
	uint16_t id;
	char qname[DNS_MAX_NAME]; /* lower case, no trailing dot; "." = root */
	uint16_t qtype;
	uint16_t qclass;
	uint16_t udp_size; /* the client's EDNS buffer, 512 without EDNS */
	bool edns;
	bool do_bit;
	bool cd_bit;
};

enum message_verdict {
	MESSAGE_QUERY_OK,  /* q filled */
	MESSAGE_FORMERR,   /* header readable, message malformed: FORMERR */
	MESSAGE_NOTIMP,    /* an opcode other than QUERY: NOTIMP */
	MESSAGE_DROP,      /* not answerable (too short, or a response) */
};

/* Parses a client query. Returns the verdict; for anything but
 * MESSAGE_QUERY_OK, *reason says why in words fit for a log line (valid
 * until the next call into this module). The message is walked whole by
 * its header counts and RDLENGTHs (ldns only reads the name): a query with
 * other than one question, with answer or authority records, or with more
 * than one OPT or more than one TSIG record is FORMERR. */
enum message_verdict message_parse_query(const uint8_t *wire, size_t len,
					 struct dns_question *q,
					 const char **reason);

/* Writes into out a reply to query with rcode: the query's ID, opcode and
 * RD, RA set, and the question copied when it can be read. Returns the
 * length, or -1 when query is shorter than a header or out too small. */
ssize_t message_reply_rcode(const uint8_t *query, size_t len, uint8_t rcode,
			    uint8_t *out, size_t outlen);

/* What a blocked name gets (blocked-answer, a list's answer=). */
enum message_block_mode {
	MESSAGE_BLOCK_NXDOMAIN, /* NXDOMAIN: the name does not exist */
	MESSAGE_BLOCK_NULL,     /* 0.0.0.0 for A, :: for AAAA, NODATA else */
	MESSAGE_BLOCK_NODATA,   /* NOERROR with no answer */
	MESSAGE_BLOCK_REFUSED,  /* REFUSED */
};

/* A record type's mnemonic ("A", "AAAA"), or "TYPE65534" into buf. */
const char *message_type_name(uint16_t type, char *buf, size_t len);
/* "NOERROR" ... "REFUSED", or "OTHER". */
const char *message_rcode_name(uint8_t rcode);

/* "nxdomain", "null", "nodata", "refused": as the setting is written. */
const char *message_block_mode_name(enum message_block_mode mode);
/* Reads a mode by that name. Returns 0, or -1 for another word. */
int message_block_mode_parse(const char *word, enum message_block_mode *mode);

/* The TTL of a null answer's 0.0.0.0 or ::: short, so an unblocked
 * name is asked again soon (AdGuard Home's default is the same). */
#define MESSAGE_NULL_TTL 10
/* RFC 8914: the EDNS option, and the INFO-CODE for "Blocked". */
#define DNS_OPT_EDE 15
#define DNS_EDE_BLOCKED 15
/* The UDP payload size dnsgated offers in its own OPT records (the DNS
 * flag day 2020 figure). */
#define MESSAGE_EDNS_SIZE 1232

/* Writes into out the answer to a blocked query (q is its parse) in
 * mode. When the query carried EDNS, the reply carries an OPT record
 * (DO copied, RFC 3225) with an Extended DNS Error, INFO-CODE 15
 * (Blocked), whose EXTRA-TEXT is why (the list's name, or a rule's
 * file:line; NULL or "": none), cut at a character's start so the reply
 * fits max_len (the client's UDP size, or 65535 for TCP). A query
 * without EDNS gets no OPT (RFC 6891). Returns the length, or -1 when
 * query has no readable question or out is too small. */
ssize_t message_reply_blocked(const uint8_t *query, size_t len,
			      const struct dns_question *q,
			      enum message_block_mode mode, const char *why,
			      size_t max_len, uint8_t *out, size_t outlen);

/* Writes an answer dnsgated gives itself, with rcode and no records
 * (NOERROR: NODATA) but an OPT record when the query had EDNS, no
 * Extended DNS Error: the DoH canary's NXDOMAIN, DDR's NODATA. Returns
 * the length or -1. */
ssize_t message_reply_local(const uint8_t *query, size_t len,
			    const struct dns_question *q, uint8_t rcode,
			    uint8_t *out, size_t outlen);

/* Writes a truncated copy of answer (header with TC set, question only)
 * into out, for a UDP client whose buffer the answer exceeds. Returns the
 * length or -1. */
ssize_t message_truncate(const uint8_t *answer, size_t len, uint8_t *out,
			 size_t outlen);

/* Writes the question of query over the question of answer, when both
 * hold one question of the same length naming the same name in another
 * letter case: a cached answer then carries this asker's own spelling
 * (clients using DNS 0x20 check it). Returns 0, or -1 when they do not
 * match (answer is left as it was). */
int message_copy_question(uint8_t *answer, size_t alen, const uint8_t *query,
			  size_t qlen);

/* Sets the message ID. */
void message_set_id(uint8_t *wire, size_t len, uint16_t id);

/* A 65,535-byte answer holds at most 4,093 A records (16 bytes each with
 * a compressed owner): every address of any answer fits. */
#define MESSAGE_MAX_ADDRS 4096
#define MESSAGE_MAX_CHAIN 16

/* What an upstream answer says about the question's name. */
struct answer_info {
	uint8_t rcode;
	bool truncated;
	/* Names met following CNAMEs from the qname (not the qname). */
	char chain[MESSAGE_MAX_CHAIN][DNS_MAX_NAME];
	size_t n_chain;
	/* A and AAAA records owned by the qname or a name of the chain. */
	struct ip_addr addrs[MESSAGE_MAX_ADDRS];
	uint32_t addr_ttls[MESSAGE_MAX_ADDRS];
	size_t n_addrs;
	bool addrs_cut; /* more than MESSAGE_MAX_ADDRS: the rest dropped */
	uint32_t min_ttl; /* smallest TTL of any record, for caching */
};

/* Reads an upstream answer to the question qname. Returns 0, or -1 with
 * *reason when the answer cannot be walked, has more than one question,
 * OPT or TSIG record, or an A, AAAA or CNAME answer record whose data is
 * not what its type holds. */
int message_parse_answer(const uint8_t *wire, size_t len, const char *qname,
			 struct answer_info *out, const char **reason);

/* Keeps in info only the addresses that are in allowed (n of them;
 * sorted here): after an answer was rewritten and parsed again, what
 * that parse finds beyond what was judged (past MESSAGE_MAX_ADDRS, or a
 * name a hostile answer made read otherwise after the rewrite) is no
 * address to grant. Their TTLs go with them. */
void message_keep_addresses(struct answer_info *info, struct ip_addr *allowed,
			    size_t n);

/* Drops from wire every A and AAAA record whose address is one of
 * drop[0..n_drop), in any section (the app is sent no copy of it), and
 * every RRSIG over an RRset one went from (it would no longer match
 * what is left), in place: the records go whole, the sections' counts
 * are lowered, every other record (CNAMEs, NS, OPT, other signatures)
 * stays as it was, and the compression pointers of the names kept are
 * moved with the bytes they point to. Returns the new length (len when
 * nothing was dropped) with *dropped the records dropped, or -1 with
 * *reason, the message unchanged, when it cannot be walked, an address
 * record's owner cannot be read, or a name kept points into a record to
 * be dropped. */
ssize_t message_drop_addresses(uint8_t *wire, size_t len,
			       const struct ip_addr *drop, size_t n_drop,
			       size_t *dropped, const char **reason);

/* Lowers every TTL in the message (answer, authority, additional; not
 * EDNS OPT) by elapsed seconds, not below 0. Returns 0 or -1 when the
 * message is malformed (then it is left as it was). */
int message_age_ttls(uint8_t *wire, size_t len, uint32_t elapsed);

/* Sets every TTL in the message (not EDNS OPT) to ttl: a stale answer's
 * 30 s (RFC 8767). Returns 0, or -1 when the message is malformed (then
 * it is left as it was). */
int message_set_ttls(uint8_t *wire, size_t len, uint32_t ttl);

/* Smallest TTL of any record (not OPT); for negative answers, the SOA's
 * TTL capped by its MINIMUM field, as RFC 2308 says. Returns 0 or -1. */
int message_min_ttl(const uint8_t *wire, size_t len, uint32_t *ttl);

#endif
