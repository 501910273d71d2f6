/* test_tcp_framing.c - unit tests for resolver/tcp_framing.c: streams
 * split at every point, frames of every edge length, and the bad ones. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/tcp_framing.h"

#include "tests/unit/check.h"

static void
test_need_more(void)
{
	static const uint8_t stream[] = {0, 3, 'a', 'b', 'c'};
	struct tcp_frame f;
	size_t n;

	/* Nothing, half a prefix, and every cut of the message. */
	for (n = 0; n < sizeof stream; n++)
		CHECK_INT(tcp_framing_next(stream, n, &f), TCP_FRAME_NEED_MORE);
	/* Once the prefix is in, the length is known. */
	CHECK_INT(tcp_framing_next(stream, 2, &f), TCP_FRAME_NEED_MORE);
	CHECK_INT(f.length, 3);
	CHECK_INT(tcp_framing_next(stream, 1, &f), TCP_FRAME_NEED_MORE);
	CHECK_INT(f.length, 0);
}

static void
test_message(void)
{
	static const uint8_t stream[] = {0, 3, 'a', 'b', 'c', 0, 1, 'z'};
	struct tcp_frame f;

	CHECK_INT(tcp_framing_next(stream, sizeof stream, &f),
		  TCP_FRAME_MESSAGE);
	CHECK_INT(f.offset, 2);
	CHECK_INT(f.length, 3);
	CHECK_INT(f.consumed, 5);
	CHECK(memcmp(stream + f.offset, "abc", 3) == 0);
	CHECK(f.reason == NULL);

	/* The next frame, where the first one ends. */
	CHECK_INT(tcp_framing_next(stream + f.consumed,
				   sizeof stream - f.consumed, &f),
		  TCP_FRAME_MESSAGE);
	CHECK_INT(f.length, 1);
	CHECK_INT(f.consumed, 3);
}

static void
test_edge_lengths(void)
{
	uint8_t *big = calloc(1, 2 + 65535);
	struct tcp_frame f;

	/* The largest frame there is: 0xffff, read big-endian. */
	big[0] = 0xff;
	big[1] = 0xff;
	CHECK_INT(tcp_framing_next(big, 2 + 65534, &f), TCP_FRAME_NEED_MORE);
	CHECK_INT(f.length, 65535);
	CHECK_INT(tcp_framing_next(big, 2 + 65535, &f), TCP_FRAME_MESSAGE);
	CHECK_INT(f.consumed, 65537);

	/* 0x0100 is 256, not 1. */
	big[0] = 0x01;
	big[1] = 0x00;
	CHECK_INT(tcp_framing_next(big, 2 + 255, &f), TCP_FRAME_NEED_MORE);
	CHECK_INT(tcp_framing_next(big, 2 + 256, &f), TCP_FRAME_MESSAGE);
	CHECK_INT(f.length, 256);

	/* Only the two prefix bytes are read: a caller may pass a copy of
	 * them with the length of everything buffered. */
	CHECK_INT(tcp_framing_next(big, 100000, &f), TCP_FRAME_MESSAGE);
	CHECK_INT(f.length, 256);
	free(big);
}

static void
test_zero_length(void)
{
	static const uint8_t stream[] = {0, 0, 0, 3, 'a', 'b', 'c'};
	struct tcp_frame f;

	CHECK_INT(tcp_framing_next(stream, 2, &f), TCP_FRAME_BAD);
	CHECK_STR(f.reason, "a zero-length DNS-over-TCP frame: the peer is "
			    "not speaking DNS");
	/* Bad whatever follows it. */
	CHECK_INT(tcp_framing_next(stream, sizeof stream, &f), TCP_FRAME_BAD);
	/* But half a zero prefix is just not there yet. */
	CHECK_INT(tcp_framing_next(stream, 1, &f), TCP_FRAME_NEED_MORE);
}

int
main(void)
{
	test_need_more();
	test_message();
	test_edge_lengths();
	test_zero_length();
	return check_exit();
}
