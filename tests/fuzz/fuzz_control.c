/* fuzz_control.c - libFuzzer harness: a control-socket request line
 * through the reader the daemon uses (json_flat_check, then
 * json_flat_get_string and json_flat_get_int_range). A request that is
 * accepted gives back strings that are UTF-8 without NUL, and a string
 * it gives, written again with the writer, reads back the same. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether s is UTF-8 by json.c's rules, checked here the slow way. */
static int
valid_utf8(const unsigned char *s)
{
	while (*s != '\0') {
		unsigned long cp;
		size_t n, k;

		if (*s < 0x80) {
			s++;
			continue;
		}
		n = *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : 2;
		cp = *s & (0x7f >> n);
		for (k = 1; k < n; k++) {
			if ((s[k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[k] & 0x3f);
		}
		if (cp < (n == 2   ? 0x80UL
		          : n == 3 ? 0x800UL
		                   : 0x10000UL) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		s += n;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: ASan sees any read past the line. */
	char *line = malloc(size ? size : 1), value[4097], again[4097];
	char out[8300];
	const char *reason = NULL;
	struct json_out j;
	int64_t n;
	int rc;

	memcpy(line, data, size);
	if (json_flat_check(line, size, &reason) < 0) {
		if (reason == NULL)
			abort(); /* every refusal says why */
		free(line);
		return 0;
	}
	rc = json_flat_get_string(line, size, "command", value, sizeof value);
	if (rc == 0) {
		if (strlen(value) >= sizeof value ||
		    !valid_utf8((const unsigned char *)value))
			abort();
		json_out_init(&j, out, sizeof out);
		json_object_begin(&j);
		json_key(&j, "command");
		json_string(&j, value);
		json_object_end(&j);
		if (!json_out_ok(&j) ||
		    json_flat_check(out, strlen(out), &reason) < 0 ||
		    json_flat_get_string(out, strlen(out), "command", again,
		                         sizeof again) != 0 ||
		    strcmp(value, again) != 0)
			abort();
	}
	rc = json_flat_get_int_range(line, size, "protocol", 1, 3, &n);
	if (rc == 0 && (n < 1 || n > 3))
		abort();
	free(line);
	return 0;
}
