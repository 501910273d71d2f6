/* attribution.c - from a query's source address to the app that sent it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/attribution.h"
#include "src/xmalloc.h"

/* At most this many /proc/PID/fd links (and processes, one each) are
 * read for one query. A cgroup with more open files (a browser's scope,
 * or an app opening files on purpose to slow everyone's DNS) gets pid=?
 * for that query rather than stall the daemon, which has one thread for
 * every app's DNS. */
#define ATTR_LINK_BUDGET 4096

/* The pids kept of one cgroup.procs read, a ring: a larger cgroup keeps
 * its newest. */
#define ATTR_MAX_PIDS 8192

/* The last process found holding a DNS socket, per cgroup, and the
 * descriptor it held it on: an app's queries mostly come from one
 * process (a browser's network process), which is then tried first, at
 * that descriptor first (a new socket takes the lowest free number, so
 * the next one is often the same): one link read instead of every link
 * of a process with hundreds of files open. */
#define ATTR_MEMO_SLOTS 256

struct holder_memo {
	uint64_t cgroup_id;
	pid_t pid;
	int fd; /* -1: not known */
};

struct attr_ctx {
	struct sockdiag *sd;
	struct cgroup_tree *tree;
	uint64_t links_read;
	struct holder_memo memo[ATTR_MEMO_SLOTS];
	pid_t pids[ATTR_MAX_PIDS];
};

struct attr_ctx *
attr_new(struct sockdiag *sd, struct cgroup_tree *tree)
{
	struct attr_ctx *ctx = xcalloc(1, sizeof *ctx);

	ctx->sd = sd;
	ctx->tree = tree;
	return ctx;
}

void
attr_free(struct attr_ctx *ctx)
{
	free(ctx);
}

int
attr_parse_socket_link(const char *target, uint64_t *inode)
{
	static const char prefix[] = "socket:[";
	const char *p;
	uint64_t v = 0;

	if (strncmp(target, prefix, sizeof prefix - 1) != 0)
		return -1;
	p = target + sizeof prefix - 1;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	if (p[0] != ']' || p[1] != '\0')
		return -1;
	*inode = v;
	return 0;
}

/* What a search for a holder costs and finds, for find_holder. */
struct holder_search {
	unsigned budget;  /* links (and processes) it may still read */
	uint64_t *links;  /* links read, counted */
	int fd;           /* the descriptor found */
};

/* Whether the link name (a descriptor number) under fddir is socket
 * inode. */
static bool
link_is_socket(int fddir, const char *name, uint64_t inode,
               struct holder_search *hs)
{
	char target[64];
	ssize_t len;
	uint64_t ino;

	--hs->budget;
	++*hs->links;
	len = readlinkat(fddir, name, target, sizeof target - 1);
	if (len <= 0)
		return false; /* closed meanwhile, or gone */
	target[len] = '\0';
	return attr_parse_socket_link(target, &ino) == 0 && ino == inode;
}

/* Whether the process whose /proc directory is piddir has a descriptor
 * for socket inode (at hint first, when not -1; hs->fd says where). A
 * process that exits meanwhile simply has none. */
static bool
process_holds_socket(int piddir, uint64_t inode, int hint,
                     struct holder_search *hs)
{
	/* getdents64 into a fixed buffer: opendir would allocate. */
	char buf[4096] __attribute__((aligned(8)));
	char name[16];
	bool found = false;
	ssize_t n;
	int fddir;

	fddir = openat(piddir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fddir < 0)
		return false;
	if (hint >= 0 && hs->budget > 0) {
		snprintf(name, sizeof name, "%d", hint);
		if (link_is_socket(fddir, name, inode, hs)) {
			hs->fd = hint;
			close(fddir);
			return true;
		}
	}
	while (!found && (n = getdents64(fddir, buf, sizeof buf)) > 0) {
		ssize_t off = 0;

		while (off < n) {
			const struct dirent64 *de =
			    (const struct dirent64 *)(buf + off);

			off += de->d_reclen;
			if (de->d_name[0] == '.')
				continue;
			if (hs->budget == 0)
				goto out;
			if (link_is_socket(fddir, de->d_name, inode, hs)) {
				hs->fd = atoi(de->d_name);
				found = true;
				break;
			}
		}
	}
out:
	close(fddir);
	return found;
}

/* Reads the pids of cgroup_dir/cgroup.procs, in the order listed, into
 * the ring pids: the i-th is at pids[i % ATTR_MAX_PIDS], so only the
 * newest ATTR_MAX_PIDS survive. Returns how many were listed, or -errno. */
static int
read_pids(const char *cgroup_dir, pid_t *pids)
{
	char path[PATH_MAX];
	char buf[4096];
	size_t count = 0;
	long value = 0;
	bool digits = false, bad = false;
	ssize_t n;
	int procs;

	if (snprintf(path, sizeof path, "%s/cgroup.procs", cgroup_dir) >=
	    (int)sizeof path)
		return -ENAMETOOLONG;
	procs = open(path, O_RDONLY | O_CLOEXEC);
	if (procs < 0)
		return -errno;
	/* One pid per line; a line may be split between two reads. */
	while ((n = read(procs, buf, sizeof buf)) > 0) {
		ssize_t i;

		for (i = 0; i < n; i++) {
			char c = buf[i];

			if (c != '\n') {
				if (c < '0' || c > '9' || value > 99999999)
					bad = true;
				else
					value = value * 10 + (c - '0');
				digits = true;
				continue;
			}
			if (digits && !bad && value > 0)
				pids[count++ % ATTR_MAX_PIDS] = (pid_t)value;
			value = 0;
			digits = bad = false;
		}
	}
	if (n < 0) {
		int e = errno;

		close(procs);
		return -e;
	}
	close(procs);
	return count > INT_MAX ? INT_MAX : (int)count;
}

/* The cgroup of the process of piddir, as its /proc/PID/cgroup line
 * "0::PATH" says (relative to the mount, "/" for the root), into out.
 * Returns 0, -ENOENT (no cgroup2 line), -ENAMETOOLONG or -errno. */
static int
read_cgroup_at(int piddir, char *out, size_t outlen)
{
	char buf[1024];
	const char *line;
	size_t len;
	ssize_t n;
	int fd = openat(piddir, "cgroup", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	buf[n] = '\0';
	for (line = buf; line != NULL && strncmp(line, "0::", 3) != 0;) {
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	if (line == NULL)
		return -ENOENT;
	line += 3;
	len = strcspn(line, "\n");
	if (len >= outlen)
		return -ENAMETOOLONG;
	memcpy(out, line, len);
	out[len] = '\0';
	return 0;
}

/* Whether the process of piddir is in the cgroup at path. */
static bool
process_in_cgroup(int piddir, const char *path)
{
	char cgroup[1024];

	return read_cgroup_at(piddir, cgroup, sizeof cgroup) == 0 &&
	       strcmp(cgroup, path) == 0;
}

/* The /proc/PID directory of pid under root, open, if it holds inode
 * (trying descriptor hint first, when not -1; and, when cgroup_path is
 * not NULL, if it is in that cgroup); else -1. */
static int
open_if_holder(int root, pid_t pid, uint64_t inode, const char *cgroup_path,
               int hint, struct holder_search *hs)
{
	char name[16];
	int piddir;

	/* Each process costs its opens too, whatever its descriptors. */
	if (hs->budget == 0)
		return -1;
	--hs->budget;
	snprintf(name, sizeof name, "%ld", (long)pid);
	piddir = openat(root, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (piddir < 0)
		return -1; /* exited */
	if ((cgroup_path == NULL || process_in_cgroup(piddir, cgroup_path)) &&
	    process_holds_socket(piddir, inode, hint, hs))
		return piddir;
	close(piddir);
	return -1;
}

/* The process in the cgroup holding inode, with its /proc directory open
 * in *piddir_out (the caller closes it). Reading exe and cmdline through
 * that descriptor cannot reach another process that reused the pid: once
 * the process is gone, lookups under it fail.
 * first, when not 0, is tried before the others (at its descriptor
 * first_fd first, when not -1), if it is still in the cgroup at
 * cgroup_path; then the cgroup's processes, newest first (a short-lived
 * tool that just joined a long-lived scope is likelier to be asking than
 * the scope's oldest members). At most ATTR_LINK_BUDGET fd links are
 * read, counted in *links. Returns the pid with *fd_out its descriptor,
 * 0 when none was found, or -errno. */
static pid_t
find_holder(const char *cgroup_dir, const char *cgroup_path, uint64_t inode,
            const char *proc_root, pid_t first, int first_fd, pid_t *pids,
            uint64_t *links, int *piddir_out, int *fd_out)
{
	struct holder_search hs = {ATTR_LINK_BUDGET, links, -1};
	int root, count, kept, k;

	*piddir_out = -1;
	*fd_out = -1;
	root = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	if (first > 0) {
		*piddir_out = open_if_holder(root, first, inode, cgroup_path,
		                             first_fd, &hs);
		if (*piddir_out >= 0) {
			close(root);
			*fd_out = hs.fd;
			return first;
		}
	}
	count = read_pids(cgroup_dir, pids);
	if (count < 0) {
		close(root);
		return count;
	}
	kept = count < ATTR_MAX_PIDS ? count : ATTR_MAX_PIDS;
	for (k = 1; k <= kept && hs.budget > 0; k++) {
		pid_t pid = pids[(count - k) % ATTR_MAX_PIDS]; /* newest first */

		if (pid == first)
			continue;
		*piddir_out = open_if_holder(root, pid, inode, NULL, -1, &hs);
		if (*piddir_out >= 0) {
			close(root);
			*fd_out = hs.fd;
			return pid;
		}
	}
	close(root);
	return 0;
}

pid_t
attr_find_pid(const char *cgroup_dir, uint64_t inode, const char *proc_root)
{
	pid_t *pids = xmalloc(ATTR_MAX_PIDS * sizeof *pids);
	uint64_t links = 0;
	int piddir, fd;
	pid_t pid = find_holder(cgroup_dir, NULL, inode, proc_root, 0, -1,
	                        pids, &links, &piddir, &fd);

	free(pids);
	if (piddir >= 0)
		close(piddir);
	return pid;
}

/* Reads cmdline raw (NUL-separated) into buf, cut to fit; *lenp gets
 * the length. */
static int
read_argv_at(int piddir, char *buf, size_t buflen, size_t *lenp)
{
	size_t len = 0;
	int fd;

	*lenp = 0;
	if (buflen == 0)
		return -EINVAL;
	fd = openat(piddir, "cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < buflen - 1) {
		ssize_t n = read(fd, buf + len, buflen - 1 - len);

		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			buf[0] = '\0';
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return 0;
}

static int
read_cmdline_at(int piddir, char *buf, size_t buflen)
{
	size_t len, i;
	int ret = read_argv_at(piddir, buf, buflen, &len);

	if (ret < 0)
		return ret;
	for (i = 0; i < len; i++) {
		if (buf[i] == '\0')
			buf[i] = ' ';
	}
	while (len > 0 && buf[len - 1] == ' ')
		len--;
	buf[len] = '\0';
	return 0;
}

void
attr_identity_source(const struct attribution *a,
		     struct app_identity_source *src)
{
	memset(src, 0, sizeof *src);
	src->uid = APP_IDENTITY_UID_UNKNOWN;
	if (!a->found)
		return;
	src->cgroup_path = a->cgroup_path;
	src->pid = a->pid;
	src->uid = a->uid;
	src->exe = a->exe;
	src->argv = a->argv;
	src->argv_len = a->argv_len;
}

int
attr_read_process(const char *proc_root, pid_t pid, struct attribution *out)
{
	char path[PATH_MAX], status[4096];
	const char *uid;
	ssize_t len;
	int piddir, fd, ret;

	memset(out, 0, sizeof *out);
	if (snprintf(path, sizeof path, "%s/%ld", proc_root, (long)pid) >=
	    (int)sizeof path)
		return -ENAMETOOLONG;
	piddir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (piddir < 0)
		return -errno;
	ret = read_cgroup_at(piddir, out->cgroup_path,
			     sizeof out->cgroup_path);
	if (ret < 0) {
		close(piddir);
		return ret;
	}
	out->found = true;
	out->pid = pid;
	len = readlinkat(piddir, "exe", out->exe, sizeof out->exe - 1);
	out->exe[len > 0 ? len : 0] = '\0';
	(void)read_argv_at(piddir, out->argv, sizeof out->argv,
			   &out->argv_len);
	fd = openat(piddir, "status", O_RDONLY | O_CLOEXEC);
	len = fd >= 0 ? read(fd, status, sizeof status - 1) : -1;
	if (fd >= 0)
		close(fd);
	status[len > 0 ? len : 0] = '\0';
	uid = strstr(status, "\nUid:");
	out->uid = uid != NULL ? (uint32_t)strtoul(uid + 5, NULL, 10) : 0;
	close(piddir);
	return uid != NULL ? 0 : -EIO;
}

int
attr_read_cmdline(const char *proc_root, pid_t pid, char *buf, size_t buflen)
{
	char path[PATH_MAX];
	int piddir, ret;

	if (buflen == 0)
		return -EINVAL;
	buf[0] = '\0';
	if (snprintf(path, sizeof path, "%s/%ld", proc_root, (long)pid) >=
	    (int)sizeof path)
		return -ENAMETOOLONG;
	piddir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (piddir < 0)
		return -errno;
	ret = read_cmdline_at(piddir, buf, buflen);
	close(piddir);
	return ret;
}

int
attr_lookup_owner(struct attr_ctx *ctx, int protocol,
		  const struct sockaddr *client, const struct sockaddr *server,
		  struct attribution *out)
{
	struct sock_owner owner;
	int ret;

	out->found = false;
	out->uid = 0;
	out->inode = 0;
	out->cgroup_id = 0;
	out->cgroup_level = 0;
	out->cgroup_path[0] = '\0';
	out->pid = 0;
	out->exe[0] = '\0';
	out->argv[0] = '\0';
	out->argv_len = 0;

	ret = sockdiag_lookup(ctx->sd, protocol, client, server, &owner);
	if (ret < 0)
		return ret;
	out->found = true;
	out->uid = owner.uid;
	out->inode = owner.inode;
	out->cgroup_id = owner.cgroup_id;
	if (cgroup_lookup(ctx->tree, owner.cgroup_id, out->cgroup_path,
	                  sizeof out->cgroup_path, &out->cgroup_level) < 0) {
		strcpy(out->cgroup_path, "?");
		out->cgroup_level = 0;
	}
	return 0;
}

int
attr_lookup(struct attr_ctx *ctx, int protocol, const struct sockaddr *client,
            const struct sockaddr *server,
            struct attribution *out)
{
	struct holder_memo *memo;
	char cgroup_dir[PATH_MAX];
	const char *relative;
	bool remembered;
	int ret, piddir, fd;
	pid_t pid;
	ssize_t len;

	ret = attr_lookup_owner(ctx, protocol, client, server, out);
	if (ret < 0 || strcmp(out->cgroup_path, "?") == 0)
		return ret;
	relative = strcmp(out->cgroup_path, "/") == 0 ? "" : out->cgroup_path;
	if (snprintf(cgroup_dir, sizeof cgroup_dir, "%s%s",
	             cgroup_tree_mount(ctx->tree),
	             relative) >= (int)sizeof cgroup_dir)
		return 0;
	/* None of the processes in its cgroup holds it, or the cgroup went
	 * away meanwhile: the socket is known, its process is not. */
	memo = &ctx->memo[out->cgroup_id % ATTR_MEMO_SLOTS];
	remembered = memo->cgroup_id == out->cgroup_id && memo->pid > 0;
	pid = find_holder(cgroup_dir, out->cgroup_path, out->inode, "/proc",
	                  remembered ? memo->pid : 0,
	                  remembered ? memo->fd : -1, ctx->pids,
	                  &ctx->links_read, &piddir, &fd);
	if (pid <= 0)
		return 0;
	memo->cgroup_id = out->cgroup_id;
	memo->pid = pid;
	memo->fd = fd;
	out->pid = pid;
	len = readlinkat(piddir, "exe", out->exe, sizeof out->exe - 1);
	out->exe[len > 0 ? len : 0] = '\0';
	(void)read_argv_at(piddir, out->argv, sizeof out->argv,
			   &out->argv_len);
	close(piddir);
	return 0;
}

uint64_t
attr_links_read(const struct attr_ctx *ctx)
{
	return ctx->links_read;
}

const struct sockdiag *
attr_sockdiag(const struct attr_ctx *ctx)
{
	return ctx->sd;
}
