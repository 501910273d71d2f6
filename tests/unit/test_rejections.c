/* test_rejections.c - a rejected connection told with its app: one
 * EVENT_REJECTED record per element with the cgroup's path and app key,
 * a pid and exe while the cgroup has processes, "unknown" without a
 * socket, "?" for a cgroup that is gone; log lines a person can read,
 * at most REJECTIONS_LOG_BUDGET per app a minute, the rest said in one
 * line; a full set said once. */
#include "config.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "geoip/geoip.h"
#include "src/cgroup.h"
#include "src/events.h"
#include "src/log.h"
#include "src/rejections.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

struct seen {
	int n;
	char app[256], cgroup[512], exe[512], dest[64], geo[256];
	int64_t pid;
	uint16_t port;
	uint8_t protocol;
	uint64_t packets;
	enum event_kind kind;
};

static void
sink(void *arg, const struct event_record *ev)
{
	struct seen *s = arg;

	s->n++;
	s->kind = ev->kind;
	snprintf(s->app, sizeof s->app, "%s", ev->app);
	snprintf(s->cgroup, sizeof s->cgroup, "%s", ev->cgroup);
	snprintf(s->exe, sizeof s->exe, "%s", ev->exe);
	snprintf(s->dest, sizeof s->dest, "%s", ev->dest);
	snprintf(s->geo, sizeof s->geo, "%s", ev->geo ? ev->geo : "");
	s->pid = ev->pid;
	s->port = ev->port;
	s->protocol = ev->protocol;
	s->packets = ev->packets;
}

static struct nft_rejected
element(uint64_t cgroup_id, uint8_t protocol, uint16_t port)
{
	struct nft_rejected el;

	memset(&el, 0, sizeof el);
	el.cgroup_id = cgroup_id;
	el.addr.family = AF_INET;
	memcpy(el.addr.bytes, "\xcb\x00\x71\x07", 4); /* 203.0.113.7 */
	el.protocol = protocol;
	el.port = port;
	el.packets = 3;
	return el;
}

/* A child that joins the cgroup at dir and waits to be killed; returns
 * its pid once it has joined, or -1. */
static pid_t
start_child_in(const char *dir)
{
	char procs[1100], ready;
	int pipefd[2];
	pid_t pid;

	snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
	if (pipe(pipefd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		FILE *f = fopen(procs, "w");

		if (f == NULL || fprintf(f, "0\n") < 0 || fclose(f) != 0)
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	if (pid < 0 || read(pipefd[0], &ready, 1) != 1) {
		close(pipefd[0]);
		return -1;
	}
	close(pipefd[0]);
	return pid;
}

#define MANY 100 /* cgroups with rejections in one poll */

static int
count(const char *text, const char *what)
{
	int n = 0;

	while (text != NULL && (text = strstr(text, what)) != NULL) {
		n++;
		text += strlen(what);
	}
	return n;
}

int
main(void)
{
	char dir[] = "/tmp/dnsgate-rejections.XXXXXX", logpath[64];
	char own[512], path[1024], exe[1024] = "", err[256], *text;
	pid_t child;
	struct events bus = {0};
	struct seen seen;
	struct cgroup_tree *tree = cgroup_tree_open(err, sizeof err);
	struct rejections *r;
	struct nft_rejected el;
	struct stat st;
	int i, before;

	if (tree == NULL) {
		fprintf(stderr, "skip: %s\n", err);
		return 77;
	}
	CHECK(mkdtemp(dir) != NULL);
	snprintf(logpath, sizeof logpath, "%s/dnsgated.log", dir);
	CHECK_INT(log_set_file(logpath), 0);
	memset(&seen, 0, sizeof seen);
	CHECK_INT(events_subscribe(&bus, sink, &seen), 0);
	r = rejections_new(tree, &bus, "/proc");

	/* No socket: "unknown", nothing else known; what to do is exempt. */
	el = element(0, IPPROTO_UDP, 53);
	rejections_tell(r, &el, 1000);
	CHECK_INT(seen.n, 1);
	CHECK(seen.kind == EVENT_REJECTED);
	CHECK_STR(seen.app, "unknown");
	CHECK_STR(seen.cgroup, "");
	CHECK(seen.pid == -1);
	CHECK_STR(seen.dest, "203.0.113.7");
	CHECK(seen.port == 53 && seen.protocol == IPPROTO_UDP);
	CHECK(seen.packets == 3);

	/* A cgroup of its own below this process's, with a child of this
	 * process in it: that pid and this exe; once the child is gone, no
	 * pid. */
	fixture_own_cgroup_path(own, sizeof own);
	snprintf(path, sizeof path, "%s%s/dnsgate-rejections-%ld",
		 cgroup_tree_mount(tree), strcmp(own, "/") == 0 ? "" : own,
		 (long)getpid());
	if (mkdir(path, 0755) == 0 && stat(path, &st) == 0) {
		child = start_child_in(path);
		CHECK(child > 0);
		el = element((uint64_t)st.st_ino, IPPROTO_TCP, 443);
		rejections_tell(r, &el, 1000);
		CHECK_INT(seen.n, 2);
		CHECK(strstr(seen.cgroup, "/dnsgate-rejections-") != NULL);
		CHECK(seen.app[0] != '\0' && strcmp(seen.app, "unknown") != 0);
		CHECK(seen.pid == (int64_t)child);
		CHECK(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
		CHECK_STR(seen.exe, exe);
		CHECK(seen.port == 443 && seen.protocol == IPPROTO_TCP);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		/* Within the second, the cgroup is not read again. */
		el = element((uint64_t)st.st_ino, IPPROTO_TCP, 443);
		rejections_tell(r, &el, 1999);
		CHECK(seen.pid == (int64_t)child);
		el = element((uint64_t)st.st_ino, IPPROTO_TCP, 444);
		rejections_tell(r, &el, 2000);
		CHECK(seen.pid == -1 && seen.exe[0] == '\0');
		rmdir(path);
	} else {
		fprintf(stderr, "note: cannot make %s, pid check skipped\n",
			path);
	}

	/* A cgroup that is gone. */
	el = element(UINT64_C(0x7fffffffffff), IPPROTO_ICMP, 0);
	rejections_tell(r, &el, 1000 + REJECTIONS_RESCAN_MS);
	CHECK_STR(seen.app, "?");
	CHECK_STR(seen.cgroup, "?");
	CHECK(seen.port == 0 && seen.protocol == IPPROTO_ICMP);

	text = fixture_read_file(logpath);
	CHECK(text != NULL &&
	      strstr(text, "rejected: a packet without a socket") != NULL &&
	      strstr(text, "to 203.0.113.7 port 53 (udp), 3 packets") != NULL &&
	      strstr(text, "put 203.0.113.7 in 'exempt'") != NULL);
	CHECK(text != NULL &&
	      strstr(text, "connected to 203.0.113.7 port 443 (tcp), 3 "
			   "packets: it connected without asking DNS, or to "
			   "an address it was not granted") != NULL);
	CHECK(text != NULL && strstr(text, "whose cgroup (id 140737488355327) "
					   "is gone connected to 203.0.113.7 "
					   "(icmp)") != NULL);
	CHECK(text != NULL && strstr(text, "no process left in it) connected "
					   "to 203.0.113.7 port 444") != NULL);
	free(text);

	/* The budget: 15 more for "unknown" in the same minute give 10
	 * lines in all (one was spent above); the other 6 are said in one
	 * line when the minute is over, not before. */
	before = seen.n;
	for (i = 0; i < 15; i++) {
		el = element(0, IPPROTO_TCP, (uint16_t)(1000 + i));
		rejections_tell(r, &el, 2000 + (uint64_t)i);
	}
	CHECK_INT(seen.n, before + 15); /* every one published */
	rejections_flush(r, 30000);
	text = fixture_read_file(logpath);
	CHECK_INT(count(text, "rejected: a packet without a socket"),
		  REJECTIONS_LOG_BUDGET);
	CHECK(text != NULL && strstr(text, "more rejected") == NULL);
	free(text);
	rejections_flush(r, 1000 + REJECTIONS_WINDOW_MS);
	text = fixture_read_file(logpath);
	CHECK(text != NULL &&
	      strstr(text, "rejected: unknown: 6 more rejected connections in "
			   "the last minute not logged") != NULL);
	free(text);
	/* A new minute, a new budget. */
	el = element(0, IPPROTO_TCP, 2000);
	rejections_tell(r, &el, 2000 + REJECTIONS_WINDOW_MS);
	text = fixture_read_file(logpath);
	CHECK_INT(count(text, "rejected: a packet without a socket"),
		  REJECTIONS_LOG_BUDGET + 1);
	free(text);

	/* A full set: said once, and again only after it was not full. */
	rejections_set_full(r, true);
	rejections_set_full(r, true);
	text = fixture_read_file(logpath);
	CHECK_INT(count(text, "record of them was full"), 1);
	free(text);
	rejections_set_full(r, false);
	rejections_set_full(r, true);
	text = fixture_read_file(logpath);
	CHECK_INT(count(text, "record of them was full"), 2);
	free(text);

	/* Many cgroups in one poll (a user with a delegated subtree makes
	 * them): each element published, at most REJECTIONS_RESOLVE_MAX
	 * cgroups looked into, the rest told with their path from the
	 * cache and said in one line; one rescan for the poll. */
	snprintf(path, sizeof path, "%s%s/dnsgate-rejections-many-%ld",
		 cgroup_tree_mount(tree), strcmp(own, "/") == 0 ? "" : own,
		 (long)getpid());
	if (mkdir(path, 0755) == 0) {
		struct nft_rejected *many = calloc(2 * MANY, sizeof *many);
		uint64_t resolved = rejections_resolved(r);
		uint64_t rescans = cgroup_rescans(tree);
		char sub[1100];

		CHECK(many != NULL);
		for (i = 0; i < MANY; i++) {
			snprintf(sub, sizeof sub, "%s/c%d", path, i);
			CHECK(mkdir(sub, 0755) == 0 && stat(sub, &st) == 0);
			/* Two elements each, apart: grouped before resolving. */
			many[i] = element((uint64_t)st.st_ino, IPPROTO_UDP,
					  (uint16_t)(5000 + i));
			many[MANY + i] = element((uint64_t)st.st_ino,
						 IPPROTO_UDP,
						 (uint16_t)(6000 + i));
		}
		before = seen.n;
		rejections_tell_batch(r, many, 2 * MANY, 500000);
		CHECK_INT(seen.n, before + 2 * MANY);
		CHECK_INT((int)(rejections_resolved(r) - resolved),
			  REJECTIONS_RESOLVE_MAX);
		CHECK_INT((int)(cgroup_rescans(tree) - rescans), 1);
		/* The last (highest id) was not looked into: its path and
		 * key from the cache, no pid. */
		CHECK(strstr(seen.cgroup, "/dnsgate-rejections-many-") != NULL);
		CHECK(seen.pid == -1 && seen.exe[0] == '\0');
		CHECK(seen.app[0] != '\0' && strcmp(seen.app, "?") != 0);
		text = fixture_read_file(logpath);
		snprintf(sub, sizeof sub,
			 "rejected: %d connections from %d cgroups not "
			 "looked into: more than %d cgroups",
			 2 * (MANY - REJECTIONS_RESOLVE_MAX),
			 MANY - REJECTIONS_RESOLVE_MAX, REJECTIONS_RESOLVE_MAX);
		CHECK(text != NULL && strstr(text, sub) != NULL);
		free(text);

		/* Unknown ids: one rescan for the poll, however many, each
		 * told as gone. */
		for (i = 0; i < 2 * MANY; i++)
			many[i] = element(UINT64_C(0x7ff000000000) + (uint64_t)i,
					  IPPROTO_TCP, 80);
		rescans = cgroup_rescans(tree);
		rejections_tell_batch(r, many, 2 * MANY,
				      500000 + REJECTIONS_RESCAN_MS);
		CHECK_INT((int)(cgroup_rescans(tree) - rescans), 1);
		CHECK_INT(seen.n, before + 4 * MANY);
		CHECK_STR(seen.app, "?");
		CHECK_STR(seen.cgroup, "?");
		/* Gone ones are remembered: no rescan for them again. */
		rejections_tell_batch(r, many, 2 * MANY,
				      500000 + 3 * REJECTIONS_RESCAN_MS);
		CHECK_INT((int)(cgroup_rescans(tree) - rescans), 1);
		CHECK_STR(seen.app, "?");
		/* New cgroups: one rescan in REJECTIONS_RESCAN_MS; those
		 * not found meanwhile are told as not looked into. */
		for (i = 0; i < 2 * MANY; i++)
			many[i] = element(UINT64_C(0x7fe000000000) + (uint64_t)i,
					  IPPROTO_TCP, 80);
		rejections_tell_batch(r, many, MANY,
				      500000 + 3 * REJECTIONS_RESCAN_MS);
		CHECK_INT((int)(cgroup_rescans(tree) - rescans), 2);
		rejections_tell_batch(r, many + MANY, MANY,
				      501000 + 3 * REJECTIONS_RESCAN_MS);
		CHECK_INT((int)(cgroup_rescans(tree) - rescans), 2);
		CHECK(strncmp(seen.cgroup, "cgroup id ", 10) == 0);
		CHECK(seen.pid == -1);
		free(many);
		for (i = 0; i < MANY; i++) {
			snprintf(sub, sizeof sub, "%s/c%d", path, i);
			rmdir(sub);
		}
		rmdir(path);
	} else {
		fprintf(stderr, "note: cannot make %s, many-cgroups check "
			"skipped\n", path);
	}

	/* With GeoIP: the destination's place in the record and the line
	 * (the test databases place 203.0.113.7 in the US, AS64501). */
	{
		static const char *const files[] = {
		    "country.mmdb", "country-v2.mmdb", "flat-country.mmdb",
		    "asn.mmdb"};
		char cmd[700], country[300], asn[300], file[300];
		const char *src = getenv("top_srcdir");
		struct geoip_settings gs = {country, asn, true};
		struct geoip *g;

		snprintf(cmd, sizeof cmd,
		         "perl %s/tests/helpers/make_mmdb.pl %s 2>/dev/null",
		         src != NULL ? src : ".", dir);
		snprintf(country, sizeof country, "%s/country.mmdb", dir);
		snprintf(asn, sizeof asn, "%s/asn.mmdb", dir);
		if (system(cmd) == 0) {
			g = geoip_open(&gs, NULL, NULL, 0);
			rejections_set_geoip(r, g);
			geoip_free(g); /* r holds it */
			el = element(0, IPPROTO_TCP, 443);
			rejections_tell(r, &el,
			                2000 + 3 * REJECTIONS_WINDOW_MS);
			CHECK_STR(seen.dest, "203.0.113.7");
			CHECK_STR(
			    seen.geo,
			    "203.0.113.7=US/AS64501/Documentation Transit");
			text = fixture_read_file(logpath);
			CHECK(strstr(text, " to 203.0.113.7[US,AS64501] port "
			                   "443 (tcp)") != NULL);
			free(text);
			rejections_set_geoip(r, NULL);
			rejections_tell(r, &el,
			                2000 + 3 * REJECTIONS_WINDOW_MS);
			CHECK_STR(seen.geo, "");
		} else {
			fprintf(stderr,
			        "skipping the GeoIP case: "
			        "libmaxmind-db-writer-perl is missing\n");
		}
		for (i = 0; i < 4; i++) {
			snprintf(file, sizeof file, "%s/%s", dir, files[i]);
			unlink(file);
		}
	}

	CHECK(rejections_published(r) == (uint64_t)seen.n);
	rejections_free(r);
	cgroup_tree_free(tree);
	CHECK_INT(log_set_file(NULL), 0);
	unlink(logpath);
	rmdir(dir);
	return check_exit();
}
