/* list_adblock.h - reads the DNS part of adblock / AdGuard DNS filtering
 * syntax into a list_filter: "||name^" (the name and its subdomains),
 * "|name^" (the name alone), "@@" exceptions, "/regex/", the options
 * $important, $badfilter, $dnstype, $denyallow, $client, hosts lines and
 * bare host names. Everything else a browser list holds (cosmetic rules,
 * URL and path patterns, options for browsers) is skipped with a reason,
 * never read as a block of the host it mentions. README.md, "List
 * formats", has the syntax and where dnsgate differs from AdGuard. */
#ifndef DNSGATE_LIST_ADBLOCK_H
#define DNSGATE_LIST_ADBLOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "lists/list_filter.h"

struct public_suffix;

/* The state of reading one list: the rules its $badfilter lines disable,
 * known before the rules themselves are read. */
struct list_adblock;

struct list_adblock *list_adblock_new(void);
void list_adblock_free(struct list_adblock *a);

/* The first pass: when line is a $badfilter rule, remembers the rule it
 * disables and returns 1; else 0. */
int list_adblock_note_badfilter(struct list_adblock *a, const char *line);

struct list_adblock_note {
	enum list_skip skip; /* why the line was not used */
	const char *reason;  /* said for a person */
	int wanted;          /* public suffixes listed on a "# public-suffix"
	                        hosts line */
};

/* Parses one line (without its newline) into f. suffixes (NULL: no
 * check) refuses a block of a public suffix. Returns the entries added (0
 * for comments, metadata, $badfilter lines and entries already there), or
 * -1 with note->skip and note->reason set. */
int list_adblock_add_line(struct list_adblock *a, struct list_filter *f,
                          const struct public_suffix *suffixes,
                          const char *line, unsigned number,
                          struct list_adblock_note *note);

/* The DNS type named word ("AAAA", "https", "TYPE65"), or 0. */
unsigned list_adblock_type(const char *word);

#endif
