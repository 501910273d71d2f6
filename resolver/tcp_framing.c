/* tcp_framing.c - the two-byte length prefix of DNS over TCP. */
#include "config.h"

#include "resolver/tcp_framing.h"

enum tcp_frame_status
tcp_framing_next(const uint8_t *buf, size_t buffered, struct tcp_frame *frame)
{
	size_t length;

	frame->offset = TCP_FRAMING_PREFIX;
	frame->length = 0;
	frame->consumed = 0;
	frame->reason = NULL;
	if (buffered < TCP_FRAMING_PREFIX)
		return TCP_FRAME_NEED_MORE;
	length = (size_t)buf[0] << 8 | buf[1];
	if (length == 0) {
		frame->reason = "a zero-length DNS-over-TCP frame: the peer is "
				"not speaking DNS";
		return TCP_FRAME_BAD;
	}
	frame->length = length;
	frame->consumed = TCP_FRAMING_PREFIX + length;
	if (buffered < frame->consumed)
		return TCP_FRAME_NEED_MORE;
	return TCP_FRAME_MESSAGE;
}
