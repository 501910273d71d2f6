/* when.c - times as people write them, read in the local time zone. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/when.h"

#define MAX_WORDS 4

static const char *const weekdays[] = {"sunday",    "monday",   "tuesday",
                                       "wednesday", "thursday", "friday",
                                       "saturday"};

static const struct {
	const char *word;
	int64_t ms;
} units[] = {
    {"s", 1000},          {"sec", 1000},     {"secs", 1000},
    {"second", 1000},     {"seconds", 1000}, {"m", 60000},
    {"min", 60000},       {"mins", 60000},   {"minute", 60000},
    {"minutes", 60000},   {"h", 3600000},    {"hour", 3600000},
    {"hours", 3600000},   {"d", 86400000},   {"day", 86400000},
    {"days", 86400000},   {"w", 604800000},  {"week", 604800000},
    {"weeks", 604800000},
};

static int
weekday_of(const char *word)
{
	size_t i;

	for (i = 0; i < 7; i++)
		if (strcmp(word, weekdays[i]) == 0 ||
		    (strlen(word) == 3 && strncmp(word, weekdays[i], 3) == 0))
			return (int)i;
	return -1;
}

static int64_t
unit_ms(const char *word)
{
	size_t i;

	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(word, units[i].word) == 0)
			return units[i].ms;
	return 0;
}

/* A whole number of at most 12 digits at *p; advances *p. */
static bool
read_number(const char **p, int64_t *out)
{
	const char *s = *p;
	int64_t n = 0;
	int digits = 0;

	while (isdigit((unsigned char)*s) && digits < 12) {
		n = n * 10 + (*s++ - '0');
		digits++;
	}
	if (digits == 0 || isdigit((unsigned char)*s))
		return false;
	*p = s;
	*out = n;
	return true;
}

/* Midnight days_back days before the day of now, local time. */
static int64_t
midnight(int64_t now_ms, int days_back)
{
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday -= days_back;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

static int
today_weekday(int64_t now_ms)
{
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	return tm.tm_wday;
}

/* "HH:MM" or "HH:MM:SS" into tm's time of day. */
static bool
read_clock(const char *s, struct tm *tm)
{
	int64_t h, m, sec = 0;

	if (!read_number(&s, &h) || *s++ != ':' || !read_number(&s, &m))
		return false;
	if (*s == ':') {
		s++;
		if (!read_number(&s, &sec))
			return false;
	}
	if (*s != '\0' || h > 23 || m > 59 || sec > 60)
		return false;
	tm->tm_hour = (int)h;
	tm->tm_min = (int)m;
	tm->tm_sec = (int)sec;
	return true;
}

/* "YYYY-MM-DD", and when time is not NULL a time of day after it. */
static bool
read_date(const char *s, const char *clock, int64_t *out)
{
	int64_t y, mo, d;
	struct tm tm;
	time_t t;

	if (!read_number(&s, &y) || *s++ != '-' || !read_number(&s, &mo) ||
	    *s++ != '-' || !read_number(&s, &d) || *s != '\0')
		return false;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	memset(&tm, 0, sizeof tm);
	if (clock != NULL && !read_clock(clock, &tm))
		return false;
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	/* mktime moves 2026-02-31 to March: refuse what is no date. */
	if (t == (time_t)-1 || tm.tm_mday != (int)d || tm.tm_mon != mo - 1)
		return false;
	*out = (int64_t)t * 1000;
	return true;
}

/* count units of ms back from now, or false when that reaches before
 * the epoch (the check comes before the product, which could overflow:
 * twelve digits of weeks do). */
static bool
back_from(int64_t now_ms, int64_t count, int64_t ms, int64_t *out)
{
	if (now_ms < 0 || count > now_ms / ms)
		return false;
	*out = now_ms - count * ms;
	return true;
}

#define SPAN_TOO_FAR (-2) /* one_word: a span reaching before 1970 */

/* "2h", "-90m": a span back from now. Returns 1, 0 when s is no span,
 * or SPAN_TOO_FAR. */
static int
read_span(const char *s, int64_t now_ms, int64_t *out)
{
	int64_t n, ms;

	if (*s == '-')
		s++;
	if (!read_number(&s, &n) || (ms = unit_ms(s)) == 0)
		return 0;
	return back_from(now_ms, n, ms, out) ? 1 : SPAN_TOO_FAR;
}

/* Returns 0, -1 when w is no time, or SPAN_TOO_FAR. */
static int
one_word(const char *w, int64_t now_ms, int64_t *out)
{
	int day, span;

	if (strcmp(w, "now") == 0) {
		*out = now_ms;
		return 0;
	}
	if (strcmp(w, "today") == 0) {
		*out = midnight(now_ms, 0);
		return 0;
	}
	if (strcmp(w, "yesterday") == 0) {
		*out = midnight(now_ms, 1);
		return 0;
	}
	if ((day = weekday_of(w)) >= 0) {
		*out = midnight(now_ms, (today_weekday(now_ms) - day + 7) % 7);
		return 0;
	}
	if (w[0] == '@') {
		const char *p = w + 1;
		int64_t sec;

		if (!read_number(&p, &sec) || *p != '\0')
			return -1;
		*out = sec * 1000;
		return 0;
	}
	if ((span = read_span(w, now_ms, out)) != 0)
		return span == 1 ? 0 : SPAN_TOO_FAR;
	if (strchr(w, ':') != NULL && strchr(w, '-') == NULL) {
		time_t t = (time_t)(now_ms / 1000);
		struct tm tm;

		localtime_r(&t, &tm);
		if (!read_clock(w, &tm))
			return -1;
		tm.tm_isdst = -1;
		*out = (int64_t)mktime(&tm) * 1000;
		return 0;
	}
	{
		char date[32];
		const char *tee = strchr(w, 't');

		if (tee != NULL && (size_t)(tee - w) < sizeof date) {
			memcpy(date, w, (size_t)(tee - w));
			date[tee - w] = '\0';
			return read_date(date, tee + 1, out) ? 0 : -1;
		}
	}
	return read_date(w, NULL, out) ? 0 : -1;
}

/* A span back from now past the epoch: the error, -1. */
static int
too_far(const char *text, char *err, size_t errlen)
{
	snprintf(err, errlen,
	         "'%s' reaches back before 1970 (the epoch, where the history "
	         "begins): write a shorter span or a date",
	         text);
	return -1;
}

int
when_parse(const char *text, int64_t now_ms, int64_t *out, char *err,
           size_t errlen)
{
	char buf[128], *words[MAX_WORDS + 1], *p, *save = NULL;
	size_t n = 0, i;

	if (strlen(text) >= sizeof buf) {
		snprintf(err, errlen, "'%.40s...' is too long for a time",
		         text);
		return -1;
	}
	for (i = 0; text[i] != '\0'; i++)
		buf[i] = (char)tolower((unsigned char)text[i]);
	buf[i] = '\0';
	for (p = strtok_r(buf, " \t", &save); p != NULL;
	     p = strtok_r(NULL, " \t", &save)) {
		if (n == MAX_WORDS) {
			snprintf(err, errlen,
			         "cannot read '%s' in '%s': a "
			         "time has at most %d words",
			         p, text, MAX_WORDS);
			return -1;
		}
		words[n++] = p;
	}
	if (n == 0) {
		snprintf(err, errlen,
		         "an empty time: write 'now', 'today', "
		         "'2 hours ago', '2026-12-01 14:30', ...");
		return -1;
	}
	if (n == 1) {
		int rc = one_word(words[0], now_ms, out);

		if (rc == 0)
			return 0;
		if (rc == SPAN_TOO_FAR)
			return too_far(text, err, errlen);
		snprintf(err, errlen,
		         "cannot read '%s' as a time: write now, today, "
		         "yesterday, a weekday, 'last tuesday', '3 hours "
		         "ago', 2h, YYYY-MM-DD, 'YYYY-MM-DD HH:MM', HH:MM or "
		         "@EPOCH",
		         text);
		return -1;
	}
	if (strcmp(words[0], "last") == 0) {
		int day = n == 2 ? weekday_of(words[1]) : -1;

		if (day < 0) {
			snprintf(err, errlen,
			         "cannot read '%s' in '%s': "
			         "expected a weekday (monday ... sunday)",
			         words[1], text);
			return -1;
		}
		i = (size_t)((today_weekday(now_ms) - day + 7) % 7);
		*out = midnight(now_ms, i == 0 ? 7 : (int)i);
		return 0;
	}
	if (n == 2 && strchr(words[0], '-') != NULL) {
		if (read_date(words[0], words[1], out))
			return 0;
		snprintf(err, errlen,
		         "cannot read '%s' as a date and time: "
		         "write YYYY-MM-DD HH:MM[:SS]",
		         text);
		return -1;
	}
	if (n == 3 && strcmp(words[2], "ago") == 0) {
		const char *q = words[0];
		int64_t count, ms;

		if (!read_number(&q, &count) || *q != '\0') {
			snprintf(err, errlen,
			         "cannot read '%s' in '%s': "
			         "expected a number",
			         words[0], text);
			return -1;
		}
		ms = unit_ms(words[1]);
		if (ms == 0) {
			snprintf(err, errlen,
			         "cannot read '%s' in '%s': "
			         "expected seconds, minutes, hours, days or "
			         "weeks",
			         words[1], text);
			return -1;
		}
		if (!back_from(now_ms, count, ms, out))
			return too_far(text, err, errlen);
		return 0;
	}
	for (i = 0; i < n; i++) {
		const char *q = words[i];
		int64_t ignored;

		if (one_word(words[i], now_ms, &ignored) == -1 &&
		    strcmp(words[i], "ago") != 0 && unit_ms(words[i]) == 0 &&
		    !(read_number(&q, &ignored) && *q == '\0')) {
			snprintf(err, errlen, "cannot read '%s' in '%s'",
			         words[i], text);
			return -1;
		}
	}
	snprintf(err, errlen,
	         "cannot read '%s' as a time: write '3 hours "
	         "ago', 'last tuesday' or 'YYYY-MM-DD HH:MM'",
	         text);
	return -1;
}
