/* fetch_check.c - judging a finished download of a subscribed list. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/fetch_check.h"

/* Calls fn for each line of body (without its CR LF), up to max lines;
 * stops early when fn returns non-zero and returns that. */
typedef int line_fn(void *arg, const char *line, size_t len);

static int
each_line(const char *body, size_t len, size_t max, line_fn *fn, void *arg)
{
	const char *p = body, *end = body + len;
	size_t n = 0;
	int rc;

	while (p < end && n++ < max) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl != NULL ? nl : end;
		size_t l = (size_t)(stop - p);

		if (l > 0 && p[l - 1] == '\r')
			l--;
		if ((rc = fn(arg, p, l)) != 0)
			return rc;
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}

static int
count_entry(void *arg, const char *line, size_t len)
{
	uint64_t *n = arg;
	size_t i = 0;

	/* A UTF-8 byte order mark on the first line. */
	if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '!' || line[i] == '#' ||
	    (line[i] == '[' && line[len - 1] == ']'))
		return 0;
	(*n)++;
	return 0;
}

uint64_t
fetch_check_count_entries(const char *body, size_t len)
{
	uint64_t n = 0;

	each_line(body, len, (size_t)-1, count_entry, &n);
	return n;
}

/* "<!DOCTYPE html", "<html", "<head", "<?xml" after blanks and a BOM. */
static bool
looks_like_html(const char *body, size_t len)
{
	static const char *const starts[] = {"<!doctype html", "<html", "<head",
	                                     "<?xml"};
	size_t i = 0, k;

	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	for (k = 0; k < sizeof starts / sizeof starts[0]; k++) {
		size_t sl = strlen(starts[k]);

		if (len - i >= sl && strncasecmp(body + i, starts[k], sl) == 0)
			return true;
	}
	return false;
}

static bool
media_type_is(const char *content_type, const char *type)
{
	size_t tl = strlen(type);

	while (*content_type == ' ')
		content_type++;
	return strncasecmp(content_type, type, tl) == 0 &&
	       (content_type[tl] == '\0' || content_type[tl] == ';' ||
	        content_type[tl] == ' ');
}

enum fetch_check_verdict
fetch_check(const struct fetch_check_input *in, uint64_t *entries, char *reason,
            size_t reasonlen)
{
	const char *ct = in->content_type;
	const char *nul;
	uint64_t n;

	*entries = 0;
	reason[0] = '\0';
	if (in->http_status == 304) {
		if (in->have_copy)
			return FETCH_CHECK_NOT_MODIFIED;
		snprintf(reason, reasonlen,
		         "HTTP 304 Not Modified, but there "
		         "is no copy to keep");
		return FETCH_CHECK_REFUSED;
	}
	if (in->http_status != 200) {
		snprintf(reason, reasonlen, "HTTP %ld", in->http_status);
		return FETCH_CHECK_REFUSED;
	}
	if (in->len == 0) {
		snprintf(reason, reasonlen, "an empty body");
		return FETCH_CHECK_REFUSED;
	}
	nul = memchr(in->body, '\0', in->len);
	if (nul != NULL) {
		snprintf(reason, reasonlen,
		         "binary data (a NUL byte at offset "
		         "%zu), not a list",
		         (size_t)(nul - in->body));
		return FETCH_CHECK_REFUSED;
	}
	if ((ct != NULL && (media_type_is(ct, "text/html") ||
	                    media_type_is(ct, "application/xhtml+xml"))) ||
	    looks_like_html(in->body, in->len)) {
		snprintf(reason, reasonlen,
		         "an HTML page, not a list (an "
		         "error or login page?)");
		return FETCH_CHECK_REFUSED;
	}
	if (ct != NULL && media_type_is(ct, "application/json")) {
		snprintf(reason, reasonlen, "a JSON document, not a list");
		return FETCH_CHECK_REFUSED;
	}
	n = fetch_check_count_entries(in->body, in->len);
	if (n == 0) {
		snprintf(reason, reasonlen,
		         "no entries (only comments and "
		         "blank lines)");
		return FETCH_CHECK_REFUSED;
	}
	/* Lost more than max_shrink percent: n < copy * (100 - max) / 100. */
	if (in->have_copy && in->max_shrink < 100 &&
	    n * 100 < in->copy_entries * (100 - in->max_shrink)) {
		snprintf(reason, reasonlen,
		         "it shrank from %llu to %llu "
		         "entries, by more than max-shrink=%u%%",
		         (unsigned long long)in->copy_entries,
		         (unsigned long long)n, in->max_shrink);
		return FETCH_CHECK_REFUSED;
	}
	*entries = n;
	return FETCH_CHECK_NEW;
}

/* "4 days (update frequency)", "12 hours", "1 day", "6h", "2d". */
static uint32_t
parse_expires(const char *v, size_t len)
{
	char text[64], *end, *unit;
	unsigned long n;
	uint64_t seconds;

	if (len >= sizeof text)
		len = sizeof text - 1;
	memcpy(text, v, len);
	text[len] = '\0';
	n = strtoul(text, &end, 10);
	if (end == text || n == 0)
		return 0;
	unit = end;
	while (*unit == ' ')
		unit++;
	if (strncasecmp(unit, "day", 3) == 0 || *unit == 'd' || *unit == 'D')
		seconds = (uint64_t)n * 86400;
	else if (strncasecmp(unit, "hour", 4) == 0 || *unit == 'h' ||
	         *unit == 'H')
		seconds = (uint64_t)n * 3600;
	else if (*unit == '\0' || *unit == '(')
		seconds = (uint64_t)n * 86400; /* uBlock reads a bare number
		                                  as days */
	else
		return 0;
	if (seconds < FETCH_CHECK_EXPIRES_MIN)
		seconds = FETCH_CHECK_EXPIRES_MIN;
	if (seconds > FETCH_CHECK_EXPIRES_MAX)
		seconds = FETCH_CHECK_EXPIRES_MAX;
	return (uint32_t)seconds;
}

static int
find_expires(void *arg, const char *line, size_t len)
{
	uint32_t *out = arg;
	size_t i = 0;

	if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	if (i < len && line[i] == '[') /* [Adblock Plus 2.0] */
		return 0;
	if (i == len || (line[i] != '!' && line[i] != '#'))
		return i == len ? 0 : -1; /* the header is over */
	i++;
	while (i < len && line[i] == ' ')
		i++;
	if (len - i < 8 || strncasecmp(line + i, "expires:", 8) != 0)
		return 0;
	i += 8;
	while (i < len && line[i] == ' ')
		i++;
	*out = parse_expires(line + i, len - i);
	return 1;
}

uint32_t
fetch_check_expires(const char *body, size_t len)
{
	uint32_t seconds = 0;

	each_line(body, len, 200, find_expires, &seconds);
	return seconds;
}
