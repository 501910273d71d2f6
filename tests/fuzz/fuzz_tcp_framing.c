/* fuzz_tcp_framing.c - libFuzzer harness: a DNS-over-TCP byte stream
 * arriving in chunks of random sizes (the first four input bytes seed
 * them) must split into the same messages as the stream read whole. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/tcp_framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MESSAGES 4096

struct split {
	size_t offsets[MAX_MESSAGES], lengths[MAX_MESSAGES];
	size_t n;
	size_t bad_at; /* where a bad frame began, or SIZE_MAX */
};

/* Calls the framing on buf's first buffered bytes from a copy of just
 * those bytes, so ASan sees any read past what has arrived. */
static enum tcp_frame_status
next_frame(const uint8_t *buf, size_t buffered, struct tcp_frame *f)
{
	uint8_t *exact;
	enum tcp_frame_status s;

	if (buffered >= TCP_FRAMING_PREFIX)
		return tcp_framing_next(buf, buffered, f);
	exact = malloc(buffered ? buffered : 1);
	memcpy(exact, buf, buffered);
	s = tcp_framing_next(exact, buffered, f);
	free(exact);
	return s;
}

/* Takes every whole frame from stream[*start, end); returns false on a
 * bad frame. */
static bool
take_frames(const uint8_t *stream, size_t *start, size_t end,
	    struct split *s)
{
	struct tcp_frame f;

	for (;;) {
		switch (next_frame(stream + *start, end - *start, &f)) {
		case TCP_FRAME_NEED_MORE:
			return true;
		case TCP_FRAME_BAD:
			if (f.reason == NULL)
				abort();
			s->bad_at = *start;
			return false;
		case TCP_FRAME_MESSAGE:
			if (f.length == 0 || f.offset != TCP_FRAMING_PREFIX ||
			    f.consumed != f.offset + f.length ||
			    f.consumed > end - *start)
				abort();
			if (s->n < MAX_MESSAGES) {
				s->offsets[s->n] = *start + f.offset;
				s->lengths[s->n] = f.length;
			}
			s->n++;
			*start += f.consumed;
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct split whole, chunked;
	const uint8_t *stream = data + 4;
	size_t len, start, arrived, i;
	uint32_t seed;

	if (size < 4)
		return 0;
	memcpy(&seed, data, 4);
	len = size - 4;

	memset(&whole, 0, sizeof whole);
	whole.bad_at = SIZE_MAX;
	start = 0;
	take_frames(stream, &start, len, &whole);

	memset(&chunked, 0, sizeof chunked);
	chunked.bad_at = SIZE_MAX;
	start = 0;
	arrived = 0;
	while (arrived < len) {
		/* xorshift32: chunks of 1 to 64 bytes, now and then 4096. */
		size_t chunk;

		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		chunk = (seed & 0xff) == 0 ? 4096 : 1 + (seed >> 8) % 64;
		arrived += chunk < len - arrived ? chunk : len - arrived;
		if (!take_frames(stream, &start, arrived, &chunked))
			break;
	}

	if (whole.n != chunked.n || whole.bad_at != chunked.bad_at)
		abort();
	for (i = 0; i < whole.n && i < MAX_MESSAGES; i++) {
		if (whole.offsets[i] != chunked.offsets[i] ||
		    whole.lengths[i] != chunked.lengths[i])
			abort();
	}
	return 0;
}
