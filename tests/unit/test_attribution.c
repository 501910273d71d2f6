/* test_attribution.c - from a socket to its process, with real cgroups. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "src/attribution.h"
#include "src/cgroup.h"
#include "src/sockdiag.h"

#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

#define SKIP 77

/* What a child reports once its socket is open. */
struct child_report {
	int ok;
	uint16_t port;
	uint64_t inode;
};

struct child {
	pid_t pid;
	int hold; /* closing it lets the child exit */
	struct child_report report;
};

static struct child children[16];
static int child_count;

static void
test_parse_socket_link(void)
{
	uint64_t inode = 0;

	CHECK_INT(attr_parse_socket_link("socket:[123]", &inode), 0);
	CHECK_INT(inode, 123);
	CHECK_INT(
	    attr_parse_socket_link("socket:[18446744073709551615]", &inode), 0);
	CHECK(inode == UINT64_MAX);
	inode = 7;
	CHECK_INT(
	    attr_parse_socket_link("socket:[18446744073709551616]", &inode),
	    -1);
	CHECK_INT(attr_parse_socket_link("pipe:[1]", &inode), -1);
	CHECK_INT(attr_parse_socket_link("socket:[]", &inode), -1);
	CHECK_INT(attr_parse_socket_link("socket:[12x]", &inode), -1);
	CHECK_INT(attr_parse_socket_link("socket:[12]x", &inode), -1);
	CHECK_INT(attr_parse_socket_link("socket:[12", &inode), -1);
	CHECK_INT(attr_parse_socket_link("socket:", &inode), -1);
	CHECK_INT(attr_parse_socket_link("/dev/null", &inode), -1);
	CHECK_INT(attr_parse_socket_link("", &inode), -1);
	CHECK_INT(inode, 7);
}

static void
test_read_cmdline(void)
{
	char buf[256];
	char small[4];
	struct timespec pause = {0, 1000 * 1000};
	int sync[2], tries, status;
	pid_t pid;

	CHECK_INT(pipe2(sync, O_CLOEXEC), 0);
	pid = fork();
	if (pid == 0) {
		close(sync[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0);
	close(sync[1]);
	/* End of file once exec has closed the other end. */
	CHECK_INT(read(sync[0], buf, 1), 0);
	close(sync[0]);
	if (pid < 0)
		return;

	/* The exec closes the pipe before it has set up the new arguments:
	 * for a moment the command line reads empty. */
	for (tries = 0; tries < 1000; tries++) {
		if (attr_read_cmdline("/proc", pid, buf, sizeof buf) != 0 ||
		    buf[0] != '\0')
			break;
		nanosleep(&pause, NULL);
	}
	CHECK_INT(attr_read_cmdline("/proc", pid, buf, sizeof buf), 0);
	CHECK_STR(buf, "sleep 30");
	CHECK_INT(attr_read_cmdline("/proc", pid, small, sizeof small), 0);
	CHECK_STR(small, "sle");
	CHECK_INT(attr_read_cmdline("/proc", pid, small, 0), -EINVAL);

	kill(pid, SIGKILL);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	/* Gone, and reaped. */
	CHECK(attr_read_cmdline("/proc", pid, buf, sizeof buf) < 0);
	CHECK_STR(buf, "");
}

/* Kills and reaps every child, then removes the cgroups. */
static void
cleanup(void)
{
	int status;

	while (child_count > 0) {
		struct child *c = &children[--child_count];

		close(c->hold);
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &status, 0);
	}
	fixture_cgroups_remove();
}

static int
join_cgroup(const char *mount, const char *rel)
{
	char path[PATH_MAX];
	int fd, ok;

	snprintf(path, sizeof path, "%s%s/cgroup.procs", mount, rel);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, "0\n", 2) == 2;
	close(fd);
	return ok ? 0 : -1;
}

/* Forks a child that joins cgroup first, opens extra_fds descriptors
 * (on /dev/null), then a UDP socket on 127.0.0.1, joins cgroup then (when
 * not NULL), reports its port and socket inode, and waits until the
 * parent lets it go. */
static struct child *
start_child_fds(const char *mount, const char *first, const char *then,
		int extra_fds)
{
	struct child *c = &children[child_count];
	int report[2], hold[2];

	if (pipe2(report, O_CLOEXEC) < 0)
		return NULL;
	if (pipe2(hold, O_CLOEXEC) < 0) {
		close(report[0]);
		close(report[1]);
		return NULL;
	}
	c->pid = fork();
	if (c->pid == 0) {
		struct child_report r;
		struct sockaddr_in sin = fixture_loopback(0);
		struct stat st;
		char byte;
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(report[0]);
		close(hold[1]);
		memset(&r, 0, sizeof r); /* padding too: it goes down a pipe */
		if (extra_fds > 0) {
			struct rlimit rl;
			int k, null = open("/dev/null", O_RDONLY);

			rl.rlim_cur = rl.rlim_max = (rlim_t)extra_fds + 64;
			setrlimit(RLIMIT_NOFILE, &rl);
			for (k = 1; k < extra_fds && null >= 0; k++) {
				if (dup(null) < 0)
					_exit(1);
			}
		}
		if (join_cgroup(mount, first) == 0 &&
		    (fd = socket(AF_INET, SOCK_DGRAM, 0)) >= 0 &&
		    bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
		    (r.port = fixture_local_port(fd)) != 0 &&
		    fstat(fd, &st) == 0 &&
		    (then == NULL || join_cgroup(mount, then) == 0)) {
			r.ok = 1;
			r.inode = (uint64_t)st.st_ino;
		}
		if (write(report[1], &r, sizeof r) != sizeof r)
			_exit(1);
		(void)read(hold[0], &byte, 1);
		_exit(0);
	}
	close(report[1]);
	close(hold[0]);
	if (c->pid < 0) {
		close(report[0]);
		close(hold[1]);
		return NULL;
	}
	c->hold = hold[1];
	child_count++;
	if (read(report[0], &c->report, sizeof c->report) != sizeof c->report ||
	    !c->report.ok) {
		close(report[0]);
		return NULL;
	}
	close(report[0]);
	return c;
}

static struct child *
start_child(const char *mount, const char *first, const char *then)
{
	return start_child_fds(mount, first, then, 0);
}

/* A socket of this very process, in whatever cgroup the test runs. */
static void
test_self(struct attr_ctx *ctx)
{
	struct attribution *out = calloc(1, sizeof *out);
	struct sockaddr_in client = fixture_loopback(0);
	socklen_t len = sizeof client;
	char path[1024], exe[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd, proc;

	fixture_own_cgroup_path(path, sizeof path);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0 && out != NULL);
	if (fd < 0 || out == NULL) {
		free(out);
		return;
	}
	CHECK_INT(bind(fd, (struct sockaddr *)&client, sizeof client), 0);
	CHECK_INT(getsockname(fd, (struct sockaddr *)&client, &len), 0);
	CHECK_INT(fstat(fd, &st), 0);
	CHECK_INT(
	    attr_lookup(ctx, IPPROTO_UDP, (struct sockaddr *)&client, NULL, out), 0);
	CHECK_INT(out->inode, st.st_ino);
	CHECK_INT(out->pid, getpid());
	CHECK_STR(out->cgroup_path, path);
	/* Through a directory descriptor: valgrind fakes readlink of
	 * /proc/self/exe, not the kernel's answer. */
	proc = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	n = readlinkat(proc, "exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	close(proc);
	CHECK_STR(out->exe, exe);
	close(fd);
	free(out);
}

static void
test_end_to_end(struct attr_ctx *ctx, struct cgroup_tree *tree)
{
	const char *mount = cgroup_tree_mount(tree);
	char top[64], app[96], gone_a[96], gone_b[96], dir[PATH_MAX];
	char link[64], exe[PATH_MAX], mine[256];
	struct attribution *out = calloc(1, sizeof *out);
	struct sockaddr_in client;
	struct child *c;
	ssize_t len;

	snprintf(top, sizeof top, "/dnsgate-attr-%ld", (long)getpid());
	snprintf(app, sizeof app, "%s/app", top);
	snprintf(gone_a, sizeof gone_a, "%s/gone-a", top);
	snprintf(gone_b, sizeof gone_b, "%s/gone-b", top);
	if (out == NULL || fixture_cgroup_make(mount, top) < 0 ||
	    fixture_cgroup_make(mount, app) < 0 ||
	    fixture_cgroup_make(mount, gone_a) < 0 ||
	    fixture_cgroup_make(mount, gone_b) < 0) {
		CHECK(!"cannot create the test cgroups");
		goto out;
	}

	/* A process in its own cgroup holding the socket. */
	c = start_child(mount, app, NULL);
	CHECK(c != NULL);
	if (c == NULL)
		goto out;
	client = fixture_loopback(c->report.port);
	CHECK_INT(
	    attr_lookup(ctx, IPPROTO_UDP, (struct sockaddr *)&client, NULL, out), 0);
	CHECK(out->found);
	CHECK_INT(out->pid, c->pid);
	CHECK_INT(out->uid, 0);
	CHECK_INT(out->inode, c->report.inode);
	CHECK_INT(out->cgroup_id, fixture_cgroup_id(mount, app));
	CHECK_STR(out->cgroup_path, app);
	CHECK_INT(out->cgroup_level, 2);
	snprintf(link, sizeof link, "/proc/%ld/exe", (long)c->pid);
	len = readlink(link, exe, sizeof exe - 1);
	CHECK(len > 0);
	exe[len > 0 ? len : 0] = '\0';
	CHECK_STR(out->exe, exe);
	/* A fork: the same command line as this process, raw: each argument
	 * ended by a NUL, as app_identity reads it. */
	CHECK_INT(attr_read_cmdline("/proc", getpid(), mine, sizeof mine), 0);
	CHECK(mine[0] != '\0');
	CHECK(out->argv_len > 0 && out->argv[out->argv_len - 1] == '\0');
	{
		char joined[sizeof out->argv];
		size_t k;

		memcpy(joined, out->argv, out->argv_len);
		for (k = 0; k + 1 < out->argv_len; k++)
			if (joined[k] == '\0')
				joined[k] = ' ';
		joined[out->argv_len - 1] = '\0';
		CHECK_STR(joined, mine);
	}

	/* The same by the piece the lookup uses. */
	snprintf(dir, sizeof dir, "%s%s", mount, app);
	CHECK_INT(attr_find_pid(dir, c->report.inode, "/proc"), c->pid);
	CHECK_INT(attr_find_pid(dir, 1, "/proc"), 0);
	snprintf(dir, sizeof dir, "%s%s", mount, gone_b);
	CHECK_INT(attr_find_pid(dir, c->report.inode, "/proc"), 0);
	CHECK_INT(attr_find_pid("/nonexistent", 1, "/proc"), -ENOENT);
	snprintf(dir, sizeof dir, "%s%s", mount, app);
	CHECK_INT(attr_find_pid(dir, c->report.inode, "/nonexistent"), -ENOENT);

	/* A socket that left with its process for another cgroup keeps the
	 * cgroup it was made in; nobody there holds it: pid 0, not the
	 * process that does hold it from elsewhere. */
	c = start_child(mount, gone_a, gone_b);
	CHECK(c != NULL);
	if (c == NULL)
		goto out;
	client = fixture_loopback(c->report.port);
	CHECK_INT(
	    attr_lookup(ctx, IPPROTO_UDP, (struct sockaddr *)&client, NULL, out), 0);
	CHECK(out->found);
	CHECK_INT(out->inode, c->report.inode);
	CHECK_INT(out->cgroup_id, fixture_cgroup_id(mount, gone_a));
	CHECK_STR(out->cgroup_path, gone_a);
	CHECK_INT(out->cgroup_level, 2);
	CHECK_INT(out->pid, 0);
	CHECK_STR(out->exe, "");
	CHECK_INT(out->argv_len, 0);

	/* Its cgroup removed as well: the id stays, the path is unknown. */
	snprintf(dir, sizeof dir, "%s%s", mount, gone_a);
	CHECK_INT(rmdir(dir), 0);
	(void)cgroup_max_level(tree); /* forget what was cached */
	CHECK_INT(
	    attr_lookup(ctx, IPPROTO_UDP, (struct sockaddr *)&client, NULL, out), 0);
	CHECK(out->found);
	CHECK(out->cgroup_id != 0);
	CHECK_STR(out->cgroup_path, "?");
	CHECK_INT(out->pid, 0);

	/* No socket at all. */
	cleanup();
	CHECK_INT(
	    attr_lookup(ctx, IPPROTO_UDP, (struct sockaddr *)&client, NULL, out),
	    -ENOENT);
	CHECK(!out->found);
out:
	cleanup();
	free(out);
}

/* The cost of finding the pid is bounded: a cgroup full of open files
 * (a browser's, or one made to slow everyone's DNS) is scanned newest
 * process first, at most a budget of fd links per query, and a miss says
 * pid 0, never someone else. */
static void
test_busy_cgroup(struct attr_ctx *ctx, struct cgroup_tree *tree)
{
	const char *mount = cgroup_tree_mount(tree);
	char top[64], busy[96], deep[96];
	struct attribution *out = calloc(1, sizeof *out);
	struct sockaddr_in client;
	struct child *asker, *second, *hidden;
	int k;

	snprintf(top, sizeof top, "/dnsgate-attr-busy-%ld", (long)getpid());
	snprintf(busy, sizeof busy, "%s/busy", top);
	snprintf(deep, sizeof deep, "%s/deep", top);
	if (out == NULL || fixture_cgroup_make(mount, top) < 0 ||
	    fixture_cgroup_make(mount, busy) < 0 ||
	    fixture_cgroup_make(mount, deep) < 0) {
		CHECK(!"cannot create the test cgroups");
		goto out;
	}
	/* Three old members with 2000 files each (6000 links, over the
	 * budget), then the app that asks. */
	for (k = 0; k < 3; k++)
		CHECK(start_child_fds(mount, busy, NULL, 2000) != NULL);
	asker = start_child(mount, busy, NULL);
	CHECK(asker != NULL);
	if (asker == NULL)
		goto out;
	client = fixture_loopback(asker->report.port);
	CHECK_INT(attr_lookup(ctx, IPPROTO_UDP, (struct sockaddr *)&client,
			      NULL, out),
		  0);
	CHECK_INT(out->pid, asker->pid);
	CHECK_STR(out->cgroup_path, busy);

	/* Remembered for its cgroup, but never taken for another member. */
	second = start_child(mount, busy, NULL);
	CHECK(second != NULL);
	if (second == NULL)
		goto out;
	client = fixture_loopback(second->report.port);
	CHECK_INT(attr_lookup(ctx, IPPROTO_UDP, (struct sockaddr *)&client,
			      NULL, out),
		  0);
	CHECK_INT(out->pid, second->pid);
	client = fixture_loopback(asker->report.port);
	CHECK_INT(attr_lookup(ctx, IPPROTO_UDP, (struct sockaddr *)&client,
			      NULL, out),
		  0);
	CHECK_INT(out->pid, asker->pid);

	/* A process with 300 files open asks twice: the second lookup
	 * reads the one link it asked from last, not the 300 before it. */
	{
		struct child *many = start_child_fds(mount, deep, NULL, 300);
		uint64_t before;

		CHECK(many != NULL);
		if (many == NULL)
			goto out;
		client = fixture_loopback(many->report.port);
		before = attr_links_read(ctx);
		CHECK_INT(attr_lookup(ctx, IPPROTO_UDP,
				      (struct sockaddr *)&client, NULL, out),
			  0);
		CHECK_INT(out->pid, many->pid);
		CHECK(attr_links_read(ctx) - before >= 300);
		before = attr_links_read(ctx);
		CHECK_INT(attr_lookup(ctx, IPPROTO_UDP,
				      (struct sockaddr *)&client, NULL, out),
			  0);
		CHECK_INT(out->pid, many->pid);
		CHECK_INT(attr_links_read(ctx) - before, 1);
		/* Gone before the next check, which needs deep to itself. */
		close(many->hold);
		kill(many->pid, SIGKILL);
		waitpid(many->pid, NULL, 0);
		child_count--; /* the last one started */
	}

	/* A socket behind 4200 other descriptors: over the budget, so the
	 * pid is unknown, while uid and cgroup are still the kernel's. */
	hidden = start_child_fds(mount, deep, NULL, 4200);
	CHECK(hidden != NULL);
	if (hidden == NULL)
		goto out;
	client = fixture_loopback(hidden->report.port);
	CHECK_INT(attr_lookup(ctx, IPPROTO_UDP, (struct sockaddr *)&client,
			      NULL, out),
		  0);
	CHECK(out->found);
	CHECK_INT(out->pid, 0);
	CHECK_STR(out->exe, "");
	CHECK_STR(out->cgroup_path, deep);
	CHECK_INT(out->inode, hidden->report.inode);
out:
	cleanup();
	free(out);
}

/* attr_read_process on this test itself: what /proc says of it. */
static void
test_read_process(void)
{
	struct attribution *a = malloc(sizeof *a);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[1024] = "", want[1024] = "";

	exe[n > 0 ? n : 0] = '\0';
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(want, sizeof want, "%s", line + 3);
		}
	if (f != NULL)
		fclose(f);
	CHECK_INT(attr_read_process("/proc", getpid(), a), 0);
	CHECK(a->found);
	CHECK_INT(a->pid, getpid());
	CHECK_INT(a->uid, getuid());
	CHECK_STR(a->exe, exe);
	CHECK_STR(a->cgroup_path, want);
	CHECK(a->argv_len > 0 && strstr(a->argv, "test_attribution") != NULL);
	/* Pids are at most 4194304 (pid_max's limit). */
	CHECK_INT(attr_read_process("/proc", 99999999, a), -ENOENT);
	free(a);
}

int
main(void)
{
	char err[256];
	struct sockdiag *sd;
	struct cgroup_tree *tree;
	struct attr_ctx *ctx;

	test_parse_socket_link();
	test_read_cmdline();
	test_read_process();

	if (getuid() != 0) {
		fprintf(stderr, "not root: end-to-end cases skipped\n");
		return check_exit() != 0 ? 1 : SKIP;
	}
	sd = sockdiag_open(err, sizeof err);
	if (sd == NULL) {
		fprintf(stderr, "%s: skipped\n", err);
		return SKIP;
	}
	tree = cgroup_tree_open(err, sizeof err);
	if (tree == NULL) {
		fprintf(stderr, "%s: skipped\n", err);
		sockdiag_close(sd);
		return SKIP;
	}
	ctx = attr_new(sd, tree);
	test_self(ctx);
	test_end_to_end(ctx, tree);
	test_busy_cgroup(ctx, tree);
	attr_free(ctx);
	cgroup_tree_free(tree);
	sockdiag_close(sd);
	return check_exit();
}
