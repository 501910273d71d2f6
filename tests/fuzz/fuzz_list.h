/* fuzz_list.h - what every block-list format's harness does: the input
 * line by line through the format's add_line, then whole, as a file,
 * through its load. A new format's harness is one call of
 * fuzz_list_format with its two functions. */
#ifndef DNSGATE_FUZZ_LIST_H
#define DNSGATE_FUZZ_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "lists/list_hosts.h"
#include "lists/matcher.h"
#include "lists/public_suffix.h"

/* A format's functions, as list_hosts has them: with the public suffixes
 * that lines are checked against (the harness passes Debian's list when
 * the machine has it, so the refusal path is fuzzed too). */
typedef int (*fuzz_list_add_line)(struct matcher *m,
				  const struct public_suffix *suffixes,
				  const char *line,
				  struct list_line_note *note);
typedef int (*fuzz_list_load)(struct matcher *m,
			      const struct public_suffix *suffixes,
			      const char *path, struct list_stats *stats);

/* Returns 0; aborts (a finding) when the format breaks its contract. */
int fuzz_list_format(const uint8_t *data, size_t size,
		     fuzz_list_add_line add_line, fuzz_list_load load);

#endif
