/* resolvconf.c - upstream servers from resolv.conf. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/resolvconf.h"
#include "src/xmalloc.h"

static bool
is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

static bool
is_address(const char *addr)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, addr, buf) == 1 ||
	       inet_pton(AF_INET6, addr, buf) == 1;
}

static void
append_skipped(char *skipped, size_t len, const char *addr)
{
	size_t used;

	if (skipped == NULL || len == 0)
		return;
	used = strlen(skipped);
	snprintf(skipped + used, len - used, "%s%s", used ? " " : "", addr);
}

/* Reads one file; sets *saw_stub when it lists 127.0.0.53. */
static int
read_one(const char *path, char ***list, size_t *n, bool *saw_stub,
	 char *skipped, size_t skippedlen, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int added = 0;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) != -1) {
		char *save, *word, *addr, *pct;
		size_t i;
		bool dup = false;

		word = strtok_r(line, " \t\r\n", &save);
		if (word == NULL || strcmp(word, "nameserver") != 0)
			continue;
		addr = strtok_r(NULL, " \t\r\n", &save);
		if (addr == NULL)
			continue;
		pct = strchr(addr, '%');
		if (pct != NULL) {
			struct in6_addr a6;

			*pct = '\0';
			/* A link-local server needs its interface, which
			 * c-ares cannot be given: leave it out. For any
			 * other address the scope means nothing. */
			if (inet_pton(AF_INET6, addr, &a6) == 1 &&
			    IN6_IS_ADDR_LINKLOCAL(&a6)) {
				*pct = '%';
				append_skipped(skipped, skippedlen, addr);
				continue;
			}
		}
		if (!is_address(addr))
			continue;
		if (strcmp(addr, "127.0.0.53") == 0)
			*saw_stub = true;
		if (is_loopback(addr)) {
			append_skipped(skipped, skippedlen, addr);
			continue;
		}
		for (i = 0; i < *n; i++)
			dup |= strcmp((*list)[i], addr) == 0;
		if (dup)
			continue;
		*list = xreallocarray(*list, *n + 1, sizeof **list);
		(*list)[(*n)++] = xstrdup(addr);
		added++;
	}
	free(line);
	fclose(f);
	return added;
}

int
resolvconf_upstreams(const char *path, const char *stub_path, char ***list,
		     size_t *n, char *skipped, size_t skippedlen, char *err,
		     size_t errlen)
{
	bool saw_stub = false, ignored = false;
	int added, more;

	if (skipped != NULL && skippedlen > 0)
		skipped[0] = '\0';
	added = read_one(path, list, n, &saw_stub, skipped, skippedlen, err,
			 errlen);
	if (added < 0)
		return -1;
	if (saw_stub && stub_path != NULL) {
		more = read_one(stub_path, list, n, &ignored, NULL, 0, err,
				errlen);
		if (more > 0)
			added += more;
	}
	return added;
}
