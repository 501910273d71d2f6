/* fuzz_query.c - libFuzzer harness: a client's query, as the listener
 * hands it over, through message_parse_query and the replies dnsgate
 * writes itself (FORMERR, NOTIMP, REFUSED ..., a blocked name's answer
 * in each mode with its EDE, the DoH canary's). */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNS_MAX_UDP];
	struct dns_question q;
	const char *reason = NULL;
	enum message_verdict v;
	ssize_t n;
	size_t i;

	v = message_parse_query(data, size, &q, &reason);
	if (v != MESSAGE_QUERY_OK) {
		if (reason == NULL || reason[0] == '\0')
			abort(); /* every refusal says why */
	} else {
		/* The name the policy matches on: terminated, lower case. */
		size_t len = strnlen(q.qname, sizeof q.qname);

		if (len == 0 || len == sizeof q.qname)
			abort();
		for (i = 0; i < len; i++) {
			if (isupper((unsigned char)q.qname[i]))
				abort();
		}
		/* A blocked name's answer fits the client's buffer, and
		 * carries an OPT exactly when the query did. */
		for (i = 0; i <= MESSAGE_BLOCK_REFUSED; i++) {
			n = message_reply_blocked(data, size, &q,
						  (enum message_block_mode)i,
						  (const char *)"easylist \xc3\xa9",
						  q.udp_size, out, sizeof out);
			if (n < 0 || (size_t)n > q.udp_size ||
			    (((out[10] << 8) | out[11]) != 0) != q.edns)
				abort();
		}
		n = message_reply_local(data, size, &q, DNS_RCODE_NXDOMAIN,
					out, sizeof out);
		if (n < 0 || (size_t)n > q.udp_size)
			abort();
	}
	n = message_reply_rcode(data, size, DNS_RCODE_FORMERR, out,
				sizeof out);
	if (n >= 0 && (size_t)n > size)
		abort(); /* a reply is never longer than the query */
	/* And into buffers too small for it, at every short size. */
	for (i = 0; i < DNS_HEADER_SIZE + 8 && i < sizeof out; i++)
		message_reply_rcode(data, size, DNS_RCODE_REFUSED, out, i);
	return 0;
}
