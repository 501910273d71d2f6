/* list_hosts.h - reads plain-domain and hosts-format block lists.
 * Both formats in one parser, as Pi-hole accepts them: "example.com" or
 * "0.0.0.0 example.com other.example" lines, '#' comments, blank lines;
 * "*.example.com" (wildcard lists) is example.com, which covers its
 * subdomains already.
 * A line naming a public suffix ("com", "co.uk") would block every site
 * under it: it is refused, unless its comment starts with the word
 * "public-suffix" ("co.uk # public-suffix"), which says that is meant. */
#ifndef DNSGATE_LIST_HOSTS_H
#define DNSGATE_LIST_HOSTS_H

#include <stddef.h>

#include "lists/matcher.h"
#include "lists/public_suffix.h"

/* Malformed and refused lines logged one by one per file; the rest are
 * counted. */
#define LIST_MAX_LOGGED_ERRORS 10

/* The comment word that lets a line name a public suffix. */
#define LIST_PUBLIC_SUFFIX_WORD "public-suffix"

/* What list_hosts_add_line returns for a line it does not use. */
#define LIST_LINE_MALFORMED (-1)
#define LIST_LINE_PUBLIC_SUFFIX (-2)

struct list_stats {
	size_t lines;    /* lines read */
	size_t added;    /* domains newly added to the matcher */
	size_t rejected; /* malformed lines (the first logged with file:line) */
	size_t suffixes; /* lines refused for naming a public suffix (logged
	                    with the malformed ones) */
	size_t wanted;   /* public suffixes added because their line says
	                    "# public-suffix" */
};

/* What list_hosts_add_line says about a line besides what it added. */
struct list_line_note {
	const char *reason; /* why the line was not used */
	char suffix[256];   /* the public suffix it names, when refused */
	int wanted;         /* public suffixes it added on its say-so */
};

/* Parses one line (without its newline) and adds the domains it names to
 * m. Comments, blank lines and the hosts-file boilerplate names
 * (localhost, broadcasthost, local, ip6-*, 0.0.0.0 ...) add nothing.
 * Returns the number of domains added (0 or more); LIST_LINE_MALFORMED
 * with note->reason set when the line is malformed; or
 * LIST_LINE_PUBLIC_SUFFIX with note->reason and note->suffix set when it
 * names a public suffix of suffixes (NULL: no such check) and does not
 * say "# public-suffix". A line
 * that is not used adds nothing. Adblock rules ("||example.com^",
 * "example.com##.ad") are malformed here, not guessed at: they belong to
 * list_adblock. */
/* The same for many lines, their names added in bulk batches (appended,
 * packed by the matcher once: a 1,000,000-line list loads in the memory
 * it keeps). A line's return value counts no name (0) until
 * list_hosts_batch_finish, which adds the rest, frees b and returns the
 * names the batches added. */
struct list_hosts_batch;
struct list_hosts_batch *list_hosts_batch_new(struct matcher *m);
int list_hosts_batch_add_line(struct list_hosts_batch *b,
                              const struct public_suffix *suffixes,
                              const char *line, struct list_line_note *note);
size_t list_hosts_batch_finish(struct list_hosts_batch *b);

int list_hosts_add_line(struct matcher *m, const struct public_suffix *suffixes,
                        const char *line, struct list_line_note *note);

/* Reads the file at path into m, logging the first LIST_MAX_LOGGED_ERRORS
 * malformed or refused lines as "path:line: reason: 'line'" (cut to 80
 * characters) at warning level, then how many more there were.
 * Lines may be of any length; CRLF and a leading UTF-8 BOM are accepted.
 * Returns 0 with *stats filled (stats may be NULL), or -1 with errno set
 * when the file cannot be opened or read; what was read before a read
 * error stays in m. */
int list_hosts_load(struct matcher *m, const struct public_suffix *suffixes,
                    const char *path, struct list_stats *stats);

#endif
