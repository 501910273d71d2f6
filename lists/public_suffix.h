/* public_suffix.h - the Public Suffix List: names under which anyone can
 * register a domain ("com", "co.uk"). A block list line naming one would
 * block every site under it, so list_hosts refuses such lines unless they
 * say it is meant.
 *
 * Only the ICANN part of the list counts; its PRIVATE part (github.io,
 * blogspot.com, duckdns.org...) names platforms that one company runs, and
 * blocking one of them whole is a choice lists make on purpose (dynamic
 * DNS zones in threat lists) and that a user writing "github.io" means.
 * The list's implicit rule "every unlisted TLD is a suffix" is not used:
 * a line "lan" or "internal" blocks a private zone, which is what it says.
 * Rules in Unicode are stored in their ASCII (punycode) form, as names
 * appear in block lists and in DNS. */
#ifndef DNSGATE_PUBLIC_SUFFIX_H
#define DNSGATE_PUBLIC_SUFFIX_H

#include <stdbool.h>
#include <stddef.h>

/* Debian's package publicsuffix installs it here. */
#define PUBLIC_SUFFIX_DEFAULT_PATH                                             \
	"/usr/share/publicsuffix/public_suffix_list.dat"

struct public_suffix;

/* Reads a list in the format of public_suffix_list.dat: one rule per line
 * ("co.uk", "*.ck" for every name directly under ck, "!www.ck" for an
 * exception to it), "//" comments, rules between "===BEGIN PRIVATE
 * DOMAINS===" and "===END PRIVATE DOMAINS===" ignored. A rule that is not
 * a valid name is skipped. Returns the set, which the caller frees with
 * public_suffix_free (NULL is accepted there), or NULL with the reason in
 * err: the file cannot be read, holds a NUL byte, or has no rule at all
 * (not a public suffix list). */
struct public_suffix *public_suffix_load(const char *path, char *err,
                                         size_t errlen);
void public_suffix_free(struct public_suffix *ps);

/* True when name is exactly a public suffix: a rule, the base of a "*."
 * rule (every name under it is a suffix, so it is no one's own domain),
 * or a name directly under such a base that is not an exception.
 * Case-insensitive, one trailing dot ignored; allocates nothing. */
bool public_suffix_is_suffix(const struct public_suffix *ps, const char *name);

/* The same for a name already lower case, without a trailing dot, of
 * length bytes (a list's name as the matcher normalised it): no copy. */
bool public_suffix_is_suffix_lower(const struct public_suffix *ps,
                                   const char *name, size_t length);

/* Rules loaded (ICANN part); rules skipped as not valid names. */
size_t public_suffix_count(const struct public_suffix *ps);
size_t public_suffix_skipped(const struct public_suffix *ps);

/* Converts one UTF-8 name to its ASCII form, label by label (RFC 3492
 * punycode with the "xn--" prefix for labels that are not ASCII; ASCII
 * letters lowered). Writes at most outlen bytes with the terminator.
 * Returns the length, or -1 for invalid UTF-8 or a result that does not
 * fit. Exposed for its tests. */
int public_suffix_to_ascii(const char *name, char *out, size_t outlen);

#endif
