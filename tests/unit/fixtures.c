/* fixtures.c - what the unit tests build their cases from; see
 * fixtures.h. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lists/matcher.h"
#include "tests/unit/fixtures.h"

/* --- files --- */

int
fixture_temp_file(char *path, size_t pathlen, const char *text,
		  size_t length)
{
	int fd;

	snprintf(path, pathlen, "/tmp/dnsgate-test-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (write(fd, text, length) != (ssize_t)length) {
		close(fd);
		unlink(path);
		return -1;
	}
	return close(fd);
}

char *
fixture_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long size;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = malloc((size_t)size + 1);
	if (text != NULL)
		text[fread(text, 1, (size_t)size, f)] = '\0';
	fclose(f);
	return text;
}

/* --- addresses and ports --- */

struct sockaddr_in
fixture_ipv4(const char *text, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, text, &sin.sin_addr);
	return sin;
}

struct sockaddr_in6
fixture_ipv6(const char *text, uint16_t port)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	inet_pton(AF_INET6, text, &sin6.sin6_addr);
	return sin6;
}

struct sockaddr_in
fixture_loopback(uint16_t port)
{
	return fixture_ipv4("127.0.0.1", port);
}

socklen_t
fixture_sockaddr(const char *text, uint16_t port,
		 struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 sin6 = fixture_ipv6(text, port);

		memcpy(ss, &sin6, sizeof sin6);
		return sizeof sin6;
	} else {
		struct sockaddr_in sin = fixture_ipv4(text, port);

		memcpy(ss, &sin, sizeof sin);
		return sizeof sin;
	}
}

uint16_t
fixture_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

uint16_t
fixture_free_port(void)
{
	struct sockaddr_in sin = fixture_loopback(0);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	uint16_t port;

	bind(fd, (struct sockaddr *)&sin, sizeof sin);
	port = fixture_local_port(fd);
	close(fd);
	return port;
}

/* --- cgroups --- */

#define MAX_MADE 16

static char made[MAX_MADE][PATH_MAX];
static int made_count;

int
fixture_cgroup_make(const char *mount, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s%s", mount, rel);
	if (made_count == MAX_MADE) {
		fprintf(stderr, "mkdir %s: more than %d test cgroups\n", path,
			MAX_MADE);
		return -1;
	}
	if (mkdir(path, 0755) < 0) {
		fprintf(stderr, "mkdir %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(made[made_count++], sizeof made[0], "%s", path);
	return 0;
}

void
fixture_cgroups_remove(void)
{
	struct timespec pause = {0, 10 * 1000 * 1000};
	int tries;

	while (made_count > 0) {
		made_count--;
		for (tries = 0; tries < 100; tries++) {
			if (rmdir(made[made_count]) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY) {
				fprintf(stderr, "rmdir %s: %s\n",
					made[made_count], strerror(errno));
				break;
			}
			nanosleep(&pause, NULL);
		}
	}
}

uint64_t
fixture_cgroup_id(const char *mount, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof path, "%s%s", mount, rel);
	if (stat(path, &st) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}

void
fixture_own_cgroup_path(char *buf, size_t buflen)
{
	char line[1024];
	FILE *f = fopen("/proc/self/cgroup", "re");

	buf[0] = '\0';
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, buflen, "%s", line + 3);
		}
	}
	if (f != NULL)
		fclose(f);
}

/* --- DNS messages --- */

uint16_t
fixture_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

ldns_pkt *
fixture_answer_new(const char *question, uint8_t rcode)
{
	ldns_pkt *pkt = ldns_pkt_new();
	ldns_rr *q = NULL;

	ldns_pkt_set_id(pkt, 0x1234);
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_rd(pkt, true);
	ldns_pkt_set_ra(pkt, true);
	ldns_pkt_set_rcode(pkt, rcode);
	if (ldns_rr_new_question_frm_str(&q, question, NULL, NULL) !=
	    LDNS_STATUS_OK) {
		fprintf(stderr, "bad test question %s\n", question);
		return pkt;
	}
	ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, q);
	return pkt;
}

void
fixture_add_rr(ldns_pkt *pkt, ldns_pkt_section section, const char *text)
{
	ldns_rr *rr = NULL;

	if (ldns_rr_new_frm_str(&rr, text, 3600, NULL, NULL) !=
	    LDNS_STATUS_OK) {
		fprintf(stderr, "bad test record %s\n", text);
		return;
	}
	ldns_pkt_push_rr(pkt, section, rr);
}

size_t
fixture_pkt_to_buf(ldns_pkt *pkt, uint8_t *buf, size_t buflen)
{
	uint8_t *w = NULL;
	size_t n = 0;

	if (ldns_pkt2wire(&w, pkt, &n) != LDNS_STATUS_OK || n > buflen) {
		fprintf(stderr, "ldns_pkt2wire failed\n");
		n = 0;
	} else {
		memcpy(buf, w, n);
	}
	LDNS_FREE(w);
	ldns_pkt_free(pkt);
	return n;
}

const char *
fixture_matcher_entry(const struct matcher *m, const char *name)
{
	static char entry[300];
	int at = matcher_match(m, name);
	size_t i, n;

	if (at < 0)
		return NULL;
	n = strlen(name + at);
	if (n > 0 && name[at + n - 1] == '.')
		n--;
	for (i = 0; i < n && i < sizeof entry - 1; i++)
		entry[i] = (char)tolower((unsigned char)name[at + i]);
	entry[i] = '\0';
	return entry;
}
