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

#include "attribution.h"
#include "xmalloc.h"

struct attr_ctx {
	struct sockdiag *sd;
	struct cgroup_tree *tree;
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

/* Whether the process whose /proc directory is piddir has a descriptor
 * for socket inode. A process that exits meanwhile simply has none. */
static bool
process_holds_socket(int piddir, uint64_t inode)
{
	/* getdents64 into a fixed buffer: opendir would allocate. */
	char buf[4096] __attribute__((aligned(8)));
	char target[64];
	bool found = false;
	ssize_t n;
	int fddir;

	fddir = openat(piddir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fddir < 0)
		return false;
	while (!found && (n = getdents64(fddir, buf, sizeof buf)) > 0) {
		ssize_t off = 0;

		while (off < n) {
			const struct dirent64 *de =
			    (const struct dirent64 *)(buf + off);
			ssize_t len;
			uint64_t ino;

			off += de->d_reclen;
			if (de->d_name[0] == '.')
				continue;
			len = readlinkat(fddir, de->d_name, target,
			                 sizeof target - 1);
			if (len <= 0)
				continue; /* closed meanwhile, or gone */
			target[len] = '\0';
			if (attr_parse_socket_link(target, &ino) == 0 &&
			    ino == inode) {
				found = true;
				break;
			}
		}
	}
	close(fddir);
	return found;
}

/* The process in cgroup_dir holding inode, with its /proc directory open
 * in *piddir_out (the caller closes it). Reading exe and cmdline through
 * that descriptor cannot reach another process that reused the pid: once
 * the process is gone, lookups under it fail. */
static pid_t
find_holder(const char *cgroup_dir, uint64_t inode, const char *proc_root,
            int *piddir_out)
{
	char path[PATH_MAX];
	char buf[4096];
	char name[12]; /* pid_max is at most 2^22: 7 digits */
	size_t namelen = 0;
	int procs, root;
	ssize_t n;
	pid_t found = 0;

	*piddir_out = -1;
	if (snprintf(path, sizeof path, "%s/cgroup.procs", cgroup_dir) >=
	    (int)sizeof path)
		return -ENAMETOOLONG;
	procs = open(path, O_RDONLY | O_CLOEXEC);
	if (procs < 0)
		return -errno;
	root = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		int e = errno;

		close(procs);
		return -e;
	}
	/* One pid per line, each ended by a newline; a line may be split
	 * between two reads. */
	while (found == 0 && (n = read(procs, buf, sizeof buf)) > 0) {
		ssize_t i;

		for (i = 0; i < n && found == 0; i++) {
			int piddir;

			if (buf[i] != '\n') {
				/* An overlong line stays invalid. */
				if (namelen < sizeof name)
					name[namelen++] = buf[i];
				continue;
			}
			if (namelen == 0 || namelen == sizeof name) {
				namelen = 0;
				continue;
			}
			name[namelen] = '\0';
			namelen = 0;
			if (name[0] == '0' ||
			    name[strspn(name, "0123456789")] != '\0')
				continue;
			piddir = openat(root, name,
			                O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (piddir < 0)
				continue; /* exited */
			if (process_holds_socket(piddir, inode)) {
				found = (pid_t)strtol(name, NULL, 10);
				*piddir_out = piddir;
			} else {
				close(piddir);
			}
		}
	}
	if (n < 0 && found == 0) {
		int e = errno;

		close(root);
		close(procs);
		return -e;
	}
	close(root);
	close(procs);
	return found;
}

pid_t
attr_find_pid(const char *cgroup_dir, uint64_t inode, const char *proc_root)
{
	int piddir;
	pid_t pid = find_holder(cgroup_dir, inode, proc_root, &piddir);

	if (piddir >= 0)
		close(piddir);
	return pid;
}

static int
read_cmdline_at(int piddir, char *buf, size_t buflen)
{
	size_t len = 0;
	size_t i;
	int fd;

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
	for (i = 0; i < len; i++) {
		if (buf[i] == '\0')
			buf[i] = ' ';
	}
	while (len > 0 && buf[len - 1] == ' ')
		len--;
	buf[len] = '\0';
	return 0;
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
attr_lookup(struct attr_ctx *ctx, int protocol, const struct sockaddr *client,
            const struct sockaddr *server,
            struct attribution *out)
{
	struct sock_owner owner;
	char cgroup_dir[PATH_MAX];
	const char *relative;
	int ret, piddir;
	pid_t pid;
	ssize_t len;

	out->found = false;
	out->uid = 0;
	out->inode = 0;
	out->cgroup_id = 0;
	out->cgroup_level = 0;
	out->cgroup_path[0] = '\0';
	out->pid = 0;
	out->exe[0] = '\0';
	out->cmdline[0] = '\0';

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
		return 0;
	}
	relative = strcmp(out->cgroup_path, "/") == 0 ? "" : out->cgroup_path;
	if (snprintf(cgroup_dir, sizeof cgroup_dir, "%s%s",
	             cgroup_tree_mount(ctx->tree),
	             relative) >= (int)sizeof cgroup_dir)
		return 0;
	/* None of the processes in its cgroup holds it, or the cgroup went
	 * away meanwhile: the socket is known, its process is not. */
	pid = find_holder(cgroup_dir, owner.inode, "/proc", &piddir);
	if (pid <= 0)
		return 0;
	out->pid = pid;
	len = readlinkat(piddir, "exe", out->exe, sizeof out->exe - 1);
	out->exe[len > 0 ? len : 0] = '\0';
	(void)read_cmdline_at(piddir, out->cmdline, sizeof out->cmdline);
	close(piddir);
	return 0;
}
