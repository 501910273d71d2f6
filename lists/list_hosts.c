/* list_hosts.c - parses plain-domain and hosts-format block lists. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "lists/list_hosts.h"
#include "lists/matcher.h"
#include "src/log.h"
#include "src/xmalloc.h"

/* A field is copied here to be NUL-terminated: 253 characters, a trailing
 * dot and the terminator fit; anything longer is not a domain or address. */
#define FIELD_BUFFER_SIZE 256
#define SHOWN_LINE_MAX 80

/* Names every stock /etc/hosts carries (Debian, RHEL, macOS); hosts-format
 * block lists are often built on one, so these are skipped, not blocked. */
static const char *const boilerplate_names[] = {
    "localhost",     "localhost.localdomain",
    "localhost4",    "localhost4.localdomain4",
    "localhost6",    "localhost6.localdomain6",
    "local",         "broadcasthost",
    "ip6-localhost", "ip6-loopback",
    "ip6-localnet",  "ip6-mcastprefix",
    "ip6-allnodes",  "ip6-allrouters",
    "ip6-allhosts",  "0.0.0.0",
};

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

/* Compares as the matcher would: any case, one trailing dot ignored. */
static int
is_boilerplate(const char *name)
{
	size_t length = strlen(name), i;

	if (length > 0 && name[length - 1] == '.')
		length--;
	/* Each starts with one of these: most lines end here. */
	if (strchr("lLbBiI0", name[0]) == NULL || name[0] == '\0')
		return 0;
	for (i = 0; i < sizeof boilerplate_names / sizeof *boilerplate_names;
	     i++) {
		if (strlen(boilerplate_names[i]) == length &&
		    strncasecmp(name, boilerplate_names[i], length) == 0)
			return 1;
	}
	return 0;
}

/* True for an IPv4 or IPv6 address; an IPv6 zone ("fe80::1%lo0", as in
 * macOS's /etc/hosts) is allowed. */
static int
is_ip_address(const char *text)
{
	unsigned char bytes[sizeof(struct in6_addr)];
	char address[FIELD_BUFFER_SIZE];
	const char *percent, *p;

	/* A domain name, the common case, has a letter and no colon:
	 * neither inet_pton needs asking. */
	if (strchr(text, ':') == NULL) {
		for (p = text; *p != '\0'; p++)
			if ((*p < '0' || *p > '9') && *p != '.')
				return 0;
	}
	if (inet_pton(AF_INET, text, bytes) == 1 ||
	    inet_pton(AF_INET6, text, bytes) == 1)
		return 1;
	percent = strchr(text, '%');
	if (percent == NULL || percent[1] == '\0' ||
	    (size_t)(percent - text) >= sizeof address)
		return 0;
	memcpy(address, text, (size_t)(percent - text));
	address[percent - text] = '\0';
	return inet_pton(AF_INET6, address, bytes) == 1;
}

/* Finds the next whitespace-separated field at or after *cursor, before
 * end. Returns its start and length, or NULL when there is none. */
static const char *
next_field(const char **cursor, const char *end, size_t *length)
{
	const char *p = *cursor, *start;

	while (p < end && is_space(*p))
		p++;
	if (p == end)
		return NULL;
	start = p;
	while (p < end && !is_space(*p))
		p++;
	*cursor = p;
	*length = (size_t)(p - start);
	return start;
}

/* Copies a field into buf (FIELD_BUFFER_SIZE bytes). Returns -1 when it
 * cannot be a domain name or an address because of its length. */
static int
copy_field(const char *field, size_t length, char *buf)
{
	if (length >= FIELD_BUFFER_SIZE)
		return -1;
	memcpy(buf, field, length);
	buf[length] = '\0';
	return 0;
}

/* Adblock Plus / uBlock rules would be misread here (a cosmetic rule
 * "example.com##.ad" looks like a domain and a comment), so they are
 * recognised and refused rather than half-parsed. */
static int
is_adblock_syntax(const char *start, const char *end, const char *hash)
{
	const char *p;

	if (*start == '|' || *start == '!' || *start == '[' || *start == '/' ||
	    (end - start >= 2 && start[0] == '@' && start[1] == '@'))
		return 1;
	for (p = start; p < end; p++) {
		if (*p == '^' || *p == '$')
			return 1;
	}
	/* "##", "#@#", "#?#", "#$#", "#%#" glued to a domain. */
	return hash != NULL && hash > start && !is_space(hash[-1]) &&
	       hash[1] != '\0' && strchr("#@?$%", hash[1]) != NULL;
}

/* True when the line's comment (after '#') starts with the word that says
 * a public suffix on it is meant. */
static int
says_public_suffix(const char *hash)
{
	size_t n = strlen(LIST_PUBLIC_SUFFIX_WORD);
	const char *p;

	if (hash == NULL)
		return 0;
	p = hash + 1;
	while (is_space(*p))
		p++;
	return strncasecmp(p, LIST_PUBLIC_SUFFIX_WORD, n) == 0 &&
	       (p[n] == '\0' || p[n] == ':' || is_space(p[n]));
}

/* Checks one valid name against the public suffixes: returns 1 when it is
 * one, and the line is refused unless it says so (wanted). */
static int
check_suffix(const char *name, size_t name_length,
             const struct public_suffix *suffixes, int wanted,
             struct list_line_note *note)
{
	size_t length, i;

	/* name_length SIZE_MAX: name as written; else name is normalised
	 * (matcher_normalise: lower case, no dot at the end), no copy. */
	if (suffixes == NULL ||
	    !(name_length == SIZE_MAX
	          ? public_suffix_is_suffix(suffixes, name)
	          : public_suffix_is_suffix_lower(suffixes, name, name_length)))
		return 0;
	if (wanted) {
		note->wanted++;
		return 0;
	}
	length = strlen(name);
	if (length > 0 && name[length - 1] == '.')
		length--;
	for (i = 0; i < length; i++)
		note->suffix[i] = (char)tolower((unsigned char)name[i]);
	note->suffix[length] = '\0';
	note->reason = "is a public suffix";
	return 1;
}

/* Checks the names of a hosts line (everything after the address) without
 * adding any, so a bad line adds nothing. Returns the number of names that
 * would be added, or a LIST_LINE_ code with note->reason. */
static int
check_host_names(const char *cursor, const char *end,
                 const struct public_suffix *suffixes, int wanted,
                 struct list_line_note *note)
{
	char buf[FIELD_BUFFER_SIZE];
	const char *field;
	size_t length;
	int names = 0, refused = 0;

	while ((field = next_field(&cursor, end, &length)) != NULL) {
		if (copy_field(field, length, buf) < 0) {
			note->reason = "domain name longer than 253 characters";
			return LIST_LINE_MALFORMED;
		}
		if (is_boilerplate(buf))
			continue;
		if (is_ip_address(buf)) {
			note->reason = "an IP address where a domain name was "
			               "expected";
			return LIST_LINE_MALFORMED;
		}
		if (matcher_check(buf, &note->reason) < 0)
			return LIST_LINE_MALFORMED;
		/* A malformed name later on the line still wins: it is the
		 * reason the list needs fixing. */
		if (!refused)
			refused = check_suffix(buf, SIZE_MAX, suffixes, wanted,
			                       note);
		names++;
	}
	return refused ? LIST_LINE_PUBLIC_SUFFIX : names;
}

/* Names list_hosts_load gathers and adds BATCH_NAMES at a time, in bulk
 * (matcher_add_normalised_many: appended, packed once at the end). */
#define BATCH_NAMES 32
struct name_batch {
	char names[BATCH_NAMES][MATCHER_NAME_BUFFER];
	const char *pointers[BATCH_NAMES];
	size_t lengths[BATCH_NAMES];
	size_t n;
	size_t before; /* names in the matcher before the first batch: the
	                  matcher drops duplicates when it packs them, so
	                  what the batches added is counted after */
};

static void
batch_flush(struct matcher *m, struct name_batch *b)
{
	matcher_add_normalised_many(m, b->pointers, b->lengths, b->n);
	b->n = 0;
}

/* Adds name (normalised, length bytes) now, returning 1 or 0, or puts it
 * in b to be added with the batch (returning 0) when b is not NULL. */
static int
add_name(struct matcher *m, struct name_batch *b, const char *name,
         size_t length)
{
	if (b == NULL)
		return matcher_add_normalised(m, name, length);
	memcpy(b->names[b->n], name, length + 1);
	b->pointers[b->n] = b->names[b->n];
	b->lengths[b->n] = length;
	if (++b->n == BATCH_NAMES)
		batch_flush(m, b);
	return 0;
}

static int
add_host_names(struct matcher *m, struct name_batch *b, const char *cursor,
               const char *end)
{
	char buf[FIELD_BUFFER_SIZE], name[MATCHER_NAME_BUFFER];
	const char *field, *reason;
	size_t length;
	int added = 0, name_length;

	while ((field = next_field(&cursor, end, &length)) != NULL) {
		/* Already checked: cannot fail. */
		copy_field(field, length, buf);
		if (is_boilerplate(buf))
			continue;
		name_length = matcher_normalise(buf, name, &reason);
		if (name_length >= 0)
			added += add_name(m, b, name, (size_t)name_length);
	}
	return added;
}

/* What a bare domain is made of: letters, '-', '_' (DOMAIN_CHAR), and
 * digits and '.' (DOMAIN_CHAR | ADDRESS_CHAR). */
#define DOMAIN_CHAR 1
#define ADDRESS_CHAR 2
static unsigned char char_class[256];

static void
init_char_class(void)
{
	int c;

	for (c = 'a'; c <= 'z'; c++)
		char_class[c] = char_class[c - 'a' + 'A'] = DOMAIN_CHAR;
	for (c = '0'; c <= '9'; c++)
		char_class[c] = DOMAIN_CHAR | ADDRESS_CHAR;
	char_class['.'] = DOMAIN_CHAR | ADDRESS_CHAR;
	char_class['-'] = char_class['_'] = DOMAIN_CHAR;
}

/* The two lines most lists are made of, a bare domain and "0.0.0.0
 * domain", read in one pass over the line; the answer is the one the
 * general parser below would give. Returns 1 with *result set, or 0 to
 * let the general parser read the line. */
static int
parse_common_line(struct matcher *m, const struct public_suffix *suffixes,
                  const char *line, struct list_line_note *note,
                  struct name_batch *batch, int *result)
{
	char name[MATCHER_NAME_BUFFER];
	const unsigned char *p = (const unsigned char *)line, *domain;
	unsigned all = DOMAIN_CHAR | ADDRESS_CHAR, c;
	int name_length;

	if (char_class['a'] == 0)
		init_char_class(); /* idempotent: a race writes the same */
	if (strncmp(line, "0.0.0.0 ", 8) == 0)
		p += 8;
	domain = p;
	while ((c = char_class[*p]) != 0) {
		all &= c;
		p++;
	}
	/* A trailing CR (a CRLF file) ends the line too. */
	if ((*p == '\r' && p[1] == '\0') || *p == '\0') {
		if (p == domain || (all & ADDRESS_CHAR) ||
		    p - domain >= FIELD_BUFFER_SIZE)
			return 0; /* blank, an address, too long: the long way */
	} else {
		return 0;
	}
	note->reason = NULL;
	note->suffix[0] = '\0';
	note->wanted = 0;
	{
		char field[FIELD_BUFFER_SIZE];

		memcpy(field, domain, (size_t)(p - domain));
		field[p - domain] = '\0';
		if (is_boilerplate(field)) {
			*result = 0;
			return 1;
		}
		name_length = matcher_normalise(field, name, &note->reason);
	}
	if (name_length < 0) {
		*result = LIST_LINE_MALFORMED;
		return 1;
	}
	if (check_suffix(name, (size_t)name_length, suffixes, 0, note)) {
		*result = LIST_LINE_PUBLIC_SUFFIX;
		return 1;
	}
	*result = add_name(m, batch, name, (size_t)name_length);
	return 1;
}

static int
parse_line(struct matcher *m, const struct public_suffix *suffixes,
           const char *line, struct list_line_note *note,
           struct name_batch *batch)
{
	const char *hash;
	const char *start = line;
	const char *end;
	const char *cursor, *field;
	char first[FIELD_BUFFER_SIZE], name[MATCHER_NAME_BUFFER];
	const char *written;
	size_t length;
	int is_hosts_line, name_length, wanted, result;

	if (parse_common_line(m, suffixes, line, note, batch, &result))
		return result;
	hash = strchr(line, '#');
	end = hash != NULL ? hash : line + strlen(line);
	wanted = says_public_suffix(hash);

	note->reason = NULL;
	note->suffix[0] = '\0';
	note->wanted = 0;
	while (start < end && is_space(*start))
		start++;
	while (end > start && is_space(end[-1]))
		end--;
	if (start == end)
		return 0;
	if (is_adblock_syntax(start, end, hash)) {
		note->reason =
		    "adblock syntax is not supported in a hosts/plain list";
		return LIST_LINE_MALFORMED;
	}

	cursor = start;
	field = next_field(&cursor, end, &length);
	is_hosts_line =
	    copy_field(field, length, first) == 0 && is_ip_address(first);
	if (is_hosts_line) {
		int names =
		    check_host_names(cursor, end, suffixes, wanted, note);

		if (names < 0)
			return names;
		if (names == 0 && cursor == end) {
			note->reason = "an IP address without a domain name";
			return LIST_LINE_MALFORMED;
		}
		return add_host_names(m, batch, cursor, end);
	}
	if (cursor != end) {
		note->reason = "expected a domain or 'IP domain...'";
		return LIST_LINE_MALFORMED;
	}
	if (length >= FIELD_BUFFER_SIZE) {
		note->reason = "domain name longer than 253 characters";
		return LIST_LINE_MALFORMED;
	}
	if (is_boilerplate(first))
		return 0;
	/* "*.example.com", as wildcard lists write it: the matcher's
	 * entries cover subdomains already (and the name itself).
	 * Normalised once, for the public-suffix check and the matcher. */
	written = strncmp(first, "*.", 2) == 0 ? first + 2 : first;
	name_length = matcher_normalise(written, name, &note->reason);
	if (name_length < 0)
		return LIST_LINE_MALFORMED;
	if (check_suffix(name, (size_t)name_length, suffixes, wanted, note))
		return LIST_LINE_PUBLIC_SUFFIX;
	return add_name(m, batch, name, (size_t)name_length);
}

int
list_hosts_add_line(struct matcher *m, const struct public_suffix *suffixes,
                    const char *line, struct list_line_note *note)
{
	return parse_line(m, suffixes, line, note, NULL);
}

struct list_hosts_batch {
	struct matcher *m;
	struct name_batch names;
};

struct list_hosts_batch *
list_hosts_batch_new(struct matcher *m)
{
	struct list_hosts_batch *b = xcalloc(1, sizeof *b);

	b->m = m;
	b->names.before = matcher_count(m);
	return b;
}

int
list_hosts_batch_add_line(struct list_hosts_batch *b,
                          const struct public_suffix *suffixes,
                          const char *line, struct list_line_note *note)
{
	return parse_line(b->m, suffixes, line, note, &b->names);
}

size_t
list_hosts_batch_finish(struct list_hosts_batch *b)
{
	size_t added;

	if (b == NULL)
		return 0;
	batch_flush(b->m, &b->names);
	added = matcher_count(b->m) - b->names.before;
	free(b);
	return added;
}

/* Copies up to SHOWN_LINE_MAX bytes of line for a log message, printable
 * ASCII only, so a hostile list cannot write control sequences to a
 * terminal or forge lines in the log. Returns "..." when the line was cut,
 * else "". */
static const char *
shown_line(const char *line, size_t length, char *out)
{
	size_t i, n;

	while (length > 0 && is_space(line[length - 1]))
		length--;
	n = length < SHOWN_LINE_MAX ? length : SHOWN_LINE_MAX;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
	return length > SHOWN_LINE_MAX ? "..." : "";
}

/* Logs one line that was not used, the first LIST_MAX_LOGGED_ERRORS of a
 * file: a list in the wrong format must not flood the log on every
 * reload. */
static void
log_unused_line(const char *path, size_t number, int code,
                const struct list_line_note *note, const char *line,
                size_t length)
{
	char shown[SHOWN_LINE_MAX + 1];
	const char *cut = shown_line(line, length, shown);

	if (code == LIST_LINE_PUBLIC_SUFFIX)
		log_warn("%s:%zu: %s is a public suffix (it would block every "
		         "site under .%s): line skipped; to block it anyway, "
		         "end the line with '# %s': '%s'%s",
		         path, number, note->suffix, note->suffix,
		         LIST_PUBLIC_SUFFIX_WORD, shown, cut);
	else
		log_warn("%s:%zu: %s: '%s'%s", path, number, note->reason,
		         shown, cut);
}

int
list_hosts_load(struct matcher *m, const struct public_suffix *suffixes,
                const char *path, struct list_stats *stats)
{
	struct list_stats counts = {0, 0, 0, 0, 0};
	struct list_line_note note;
	char *line = NULL;
	size_t size = 0, unused;
	ssize_t length;
	struct name_batch *batch;
	struct stat st;
	FILE *f;
	int saved_errno, failed;

	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	batch = xcalloc(1, sizeof *batch);
	batch->before = matcher_count(m);
	/* Lines of a list are 15 to 40 bytes: a hint from below, so the
	 * matcher's set doubles once or twice rather than twenty times. */
	if (fstat(fileno(f), &st) == 0 && st.st_size > 0)
		matcher_reserve(m, (size_t)st.st_size / 40);
	errno = 0;
	while ((length = getline(&line, &size, f)) != -1) {
		const char *text = line;
		int added;

		counts.lines++;
		if (length > 0 && line[length - 1] == '\n')
			line[--length] = '\0';
		/* Lists saved by Windows editors start with a UTF-8 BOM. */
		if (counts.lines == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
			text += 3;
		if (memchr(line, '\0', (size_t)length) != NULL) {
			note.reason = "NUL byte in line (not a text file?)";
			added = LIST_LINE_MALFORMED;
		} else {
			added = parse_line(m, suffixes, text, &note, batch);
		}
		if (added < 0) {
			if (added == LIST_LINE_PUBLIC_SUFFIX)
				counts.suffixes++;
			else
				counts.rejected++;
			if (counts.rejected + counts.suffixes <=
			    LIST_MAX_LOGGED_ERRORS)
				log_unused_line(path, counts.lines, added,
				                &note, line, (size_t)length);
			continue;
		}
		counts.added += (size_t)added;
		counts.wanted += (size_t)note.wanted;
	}
	batch_flush(m, batch);
	counts.added += matcher_count(m) - batch->before;
	free(batch);
	unused = counts.rejected + counts.suffixes;
	if (unused > LIST_MAX_LOGGED_ERRORS)
		log_warn("%s: %zu more malformed or refused lines not shown "
		         "(%zu malformed, %zu public suffixes in all)",
		         path, unused - LIST_MAX_LOGGED_ERRORS, counts.rejected,
		         counts.suffixes);
	/* getline returns -1 both at the end and on a read error. */
	failed = ferror(f) || !feof(f);
	saved_errno = errno != 0 ? errno : EIO;
	free(line);
	fclose(f);
	if (stats != NULL)
		*stats = counts;
	if (failed) {
		errno = saved_errno;
		return -1;
	}
	return 0;
}
