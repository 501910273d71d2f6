/* list_hosts.h - reads plain-domain and hosts-format block lists.
 * Both formats in one parser, as Pi-hole accepts them: "example.com" or
 * "0.0.0.0 example.com other.example" lines, '#' comments, blank lines. */
#ifndef DNSGATE_LIST_HOSTS_H
#define DNSGATE_LIST_HOSTS_H

#include <stddef.h>

#include "matcher.h"

/* Malformed lines logged one by one per file; the rest are counted. */
#define LIST_MAX_LOGGED_ERRORS 10

struct list_stats {
	size_t lines;    /* lines read */
	size_t added;    /* domains newly added to the matcher */
	size_t rejected; /* malformed lines (the first logged with file:line) */
};

/* Parses one line (without its newline) and adds the domains it names to
 * m. Comments, blank lines and the hosts-file boilerplate names
 * (localhost, broadcasthost, local, ip6-*, 0.0.0.0 ...) add nothing.
 * Returns the number of domains added (0 or more), or -1 with *reason set
 * when the line is malformed; a malformed line adds nothing. Adblock rules
 * ("||example.com^", "example.com##.ad") are malformed here, not guessed
 * at: they belong to list_adblock. */
int list_hosts_add_line(struct matcher *m, const char *line,
			const char **reason);

/* Reads the file at path into m, logging the first LIST_MAX_LOGGED_ERRORS
 * malformed lines as "path:line: reason: 'line'" (cut to 80 characters)
 * at warning level, then how many more there were.
 * Lines may be of any length; CRLF and a leading UTF-8 BOM are accepted.
 * Returns 0 with *stats filled (stats may be NULL), or -1 with errno set
 * when the file cannot be opened or read; what was read before a read
 * error stays in m. */
int list_hosts_load(struct matcher *m, const char *path,
		    struct list_stats *stats);

#endif
