/* tcp_framing.h - DNS over TCP's framing (RFC 1035 4.2.2, RFC 7766 8):
 * each message comes after a two-byte big-endian length. This module
 * says where the next message in a stream's buffered bytes lies; it owns
 * no sockets and no memory, so it is tested and fuzzed alone. */
#ifndef DNSGATE_TCP_FRAMING_H
#define DNSGATE_TCP_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#define TCP_FRAMING_PREFIX 2

enum tcp_frame_status {
	TCP_FRAME_NEED_MORE, /* the frame has not arrived whole: wait */
	TCP_FRAME_MESSAGE,   /* a message of length bytes at offset */
	TCP_FRAME_BAD,       /* the stream is broken: close it (reason) */
};

struct tcp_frame {
	size_t offset;      /* where the message starts (after the prefix) */
	size_t length;      /* its length, 1 to 65535; 0 until known */
	size_t consumed;    /* offset + length: what to drain after it */
	const char *reason; /* TCP_FRAME_BAD: why, for a log line */
};

/* Reads the frame at the start of a stream of which buffered bytes have
 * arrived. Only the first two bytes of buf are read (at most buffered of
 * them), so a caller holding the bytes in pieces passes a copy of those
 * two and the total. A zero length is TCP_FRAME_BAD: no DNS message is
 * empty, and a peer sending one is not speaking DNS. */
enum tcp_frame_status tcp_framing_next(const uint8_t *buf, size_t buffered,
				       struct tcp_frame *frame);

#endif
