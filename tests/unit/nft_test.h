/* nft_test.h - what the nftables unit tests share: a private network
 * namespace to work in, the nft command to check the kernel's view with
 * (never used by the code under test), the grants listed back and the
 * level rules as nft lists them. */
#ifndef DNSGATE_NFT_TEST_H
#define DNSGATE_NFT_TEST_H

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "src/nft_dump.h"

static bool have_nft;

static inline int
set_up(const char *ifname)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int ret = -1;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return ret;
}

/* Moves the test into a network namespace of its own with loopback up,
 * and finds out whether nft is there to check with. Returns 0, or 77
 * (automake's skip) when that cannot be done here. */
static inline int
enter_test_namespace(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "skip: needs root for a network namespace\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "skip: unshare(CLONE_NEWNET): %s\n",
			strerror(errno));
		return 77;
	}
	if (set_up("lo") < 0) {
		fprintf(stderr, "skip: cannot bring up lo: %s\n",
			strerror(errno));
		return 77;
	}
	have_nft = system("nft --version >/dev/null 2>&1") == 0;
	if (!have_nft)
		fprintf(stderr,
			"note: no nft command, listing checks skipped\n");
	return 0;
}

/* The output of command, or NULL when it failed. The caller frees it. */
static inline char *
capture(const char *command)
{
	FILE *p = popen(command, "r");
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[4096];

	if (p == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			text = realloc(text, cap);
			if (text == NULL)
				abort();
		}
		memcpy(text + len, chunk, n);
		len += n;
	}
	if (pclose(p) != 0) {
		free(text);
		return NULL;
	}
	if (text == NULL)
		text = strdup("");
	else
		text[len] = '\0';
	return text;
}

/* Runs "nft <command>" quietly; returns its exit status (0: done). */
static inline int
nft_run(const char *command)
{
	char line[512];

	snprintf(line, sizeof line, "nft %s >/dev/null 2>&1", command);
	return system(line);
}

/* Loads a ruleset with "nft -f -"; returns its exit status. */
static inline int
nft_load(const char *text)
{
	FILE *p = popen("nft -f -", "w");

	if (p == NULL)
		return -1;
	fputs(text, p);
	return pclose(p);
}

/* Whether `nft list tables` names "family name". */
static inline bool
has_table(const char *family_and_name)
{
	char *tables = capture("nft list tables");
	char line[128];
	bool found;

	snprintf(line, sizeof line, "table %s\n", family_and_name);
	found = tables != NULL && strstr(tables, line) != NULL;
	free(tables);
	return found;
}

/* What list_grants found: the count, and the first MAX_LISTED grants. */
#define MAX_LISTED 16

struct listed {
	size_t n;
	struct nft_grant g[MAX_LISTED];
};

static inline void
collect(const struct nft_grant *g, void *arg)
{
	struct listed *l = arg;

	if (l->n < MAX_LISTED)
		l->g[l->n] = *g;
	l->n++;
}

/* Lists the dnsgate table's grants into l; returns nft_dump_grants'. */
static inline int
list_grants(struct listed *l)
{
	char err[256];

	memset(l, 0, sizeof *l);
	return nft_dump_grants(collect, l, err, sizeof err);
}

/* The allow rules for levels 1..levels of gate-output, as nft lists
 * them (before the established rule). */
static inline void
print_allow_rules(FILE *f, unsigned levels)
{
	unsigned level;

	for (level = 1; level <= levels; level++)
		fprintf(f,
			"\t\tsocket cgroupv2 level %u . ip daddr @allow4 "
			"accept\n"
			"\t\tsocket cgroupv2 level %u . ip6 daddr @allow6 "
			"accept\n",
			level, level);
}

/* The rules recording rejections under cgroup (as nft lists it). */
static inline void
print_record_rules(FILE *f, const char *cgroup)
{
	int family;

	for (family = 4; family <= 6; family += 2) {
		const char *ip = family == 4 ? "ip" : "ip6";

		fprintf(f,
			"\t\tmeta l4proto { tcp, udp } update @rejected%d { %s "
			". %s daddr . meta l4proto . th dport } counter "
			"packets 0 bytes 0 reject with icmpx "
			"admin-prohibited\n"
			"\t\tupdate @rejected%d { %s . %s daddr . meta l4proto "
			". 0 } counter packets 0 bytes 0 reject with icmpx "
			"admin-prohibited\n",
			family, cgroup, ip, family, cgroup, ip);
	}
}

/* The standing rules for levels 1..levels, then the rules recording
 * rejections for levels..0: what comes after the exempt rules. The record
 * rules for packets without a socket (print_record_rules(f, "0")) follow
 * them, but nft cannot read them back (it takes a cgroup for a path). */
static inline void
print_level_rules(FILE *f, unsigned levels)
{
	unsigned level;

	for (level = 1; level <= levels; level++)
		fprintf(f,
			"\t\tsocket cgroupv2 level %u . ip daddr @standing4 "
			"accept\n"
			"\t\tsocket cgroupv2 level %u . ip6 daddr @standing6 "
			"accept\n",
			level, level);
	for (level = levels + 1; level-- > 0;) {
		char cgroup[64];

		snprintf(cgroup, sizeof cgroup, "socket cgroupv2 level %u",
			 level);
		print_record_rules(f, cgroup);
	}
}

#endif
