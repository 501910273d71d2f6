/* rules_file.h - rules files (dnsgate.rules(5)) read into a rule book.
 *
 * One rule per line, fields separated by blanks, '#' to the end of the
 * line a comment:
 *   ACTION [APP] DESTINATION [until=TIME | for=DURATION]
 *   default ACTION [APP]
 * ACTION is allow, block or ask; APP one of any, app=KEY, app-id=ID,
 * flatpak=ID, snap=NAME, unit=UNIT, cgroup=PATH, exe=PATH-OR-GLOB,
 * uid=NUMBER-OR-NAME (none: any); DESTINATION one of name=NAME,
 * name=* (every name), domain=NAME, wildcard=PATTERN, list=LIST,
 * net=ADDRESS[/LENGTH]. A value with blanks, '#' or '"' is written in
 * double quotes, with \" and \\ inside. until= is a UTC time
 * (2026-12-24T18:00:00Z, or 2026-12-24 for its midnight); for= a
 * duration (90s, 30m, 2h, 1d, 1h30m) counted from the file's last
 * change.
 *
 * A file is taken whole or not at all: the first error stops it with
 * "file:line:column: what was expected" in err and nothing of the file
 * added. Lines may end in CRLF; a NUL byte, bytes that are not UTF-8, a
 * line over RULES_FILE_LINE_MAX bytes, an unknown field, or two fields
 * of one kind are errors. */
#ifndef DNSGATE_RULES_FILE_H
#define DNSGATE_RULES_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "src/rule.h"

#define RULES_FILE_LINE_MAX 4096
/* Rules a file may hold: a bound on what one file can make the daemon
 * allocate. */
#define RULES_FILE_MAX_RULES 1000000

/* Finds a list by the name a rule gives it: its index, or -1 when there
 * is none. */
typedef long rules_list_lookup_fn(void *arg, const char *name);

struct rules_file_ctx {
	rules_list_lookup_fn *find_list;
	void *arg;
	time_t mtime; /* for= counts from here */
};

/* Adds the rules of text (len bytes; name is used in messages and as the
 * rules' file) to book. Returns the number of rules added, or -1 with
 * err set and book as it was. */
long rules_file_parse(struct rule_book *book, const char *text, size_t len,
		      const char *name, const struct rules_file_ctx *ctx,
		      char *err, size_t errlen);

/* Reads path: a file, or a directory whose files ending in ".rules" are
 * read in the C locale's order of their names (others are ignored, so an
 * editor's backup does not count). Returns the rules added, or -1 with
 * err set and book as it was (a file that cannot be read is an error). */
long rules_file_load(struct rule_book *book, const char *path,
		     const struct rules_file_ctx *ctx, char *err,
		     size_t errlen);

/* Parses "30m", "1h30m", "2d" into seconds. Returns 0, or -1 with
 * *reason set. Exposed for the tests. */
int rules_parse_duration(const char *text, int64_t *seconds,
			 const char **reason);

/* Parses "2026-12-24T18:00:00Z" or "2026-12-24" (UTC). */
int rules_parse_time(const char *text, int64_t *when, const char **reason);

#endif
