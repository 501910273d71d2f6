/* attribution.h - which app asked: from a query's source address to uid,
 * cgroup, pid, exe and command line.
 * The socket is found with SOCK_DIAG (uid, inode, cgroup id); the pid by
 * scanning only that cgroup's cgroup.procs for a process holding the
 * inode: the process that last asked from that cgroup first (at the
 * descriptor it asked from last, first), then the newest members first,
 * reading at most 4096 descriptor links per query (one thread serves
 * every app's DNS; a cgroup full of open files must not stall it). A socket that no process in its cgroup holds any more,
 * or one not found within that budget, gives uid and cgroup with pid 0
 * ("unknown"), never a guessed pid. */
#ifndef DNSGATE_ATTRIBUTION_H
#define DNSGATE_ATTRIBUTION_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "src/app_identity.h"
#include "src/cgroup.h"
#include "src/sockdiag.h"

struct attribution {
	bool found;         /* the socket was found; the rest is valid */
	uint32_t uid;
	uint64_t inode;
	uint64_t cgroup_id;
	unsigned cgroup_level; /* 0 = root cgroup */
	char cgroup_path[512]; /* relative to the cgroup2 mount, "/" root */
	pid_t pid;             /* 0 when no process holds the socket */
	char exe[PATH_MAX];    /* "" when unknown */
	char argv[1024];       /* /proc/PID/cmdline as read: arguments each
				  ended by a NUL, cut to fit */
	size_t argv_len;
};

/* Borrows sd and tree; both must outlive the returned handle. */
struct attr_ctx;

struct attr_ctx *attr_new(struct sockdiag *sd, struct cgroup_tree *tree);
void attr_free(struct attr_ctx *ctx);

/* Fills out for the client socket; server as for sockdiag_lookup.
 * Returns 0 when the socket was found (out->found true, pid possibly 0), -ENOENT when it was not (out->found
 * false), or -errno on a netlink failure. When the socket's cgroup is
 * unknown (removed since) cgroup_path is "?" and pid 0. exe and cmdline
 * are read through the holder's /proc directory, so a pid reused
 * meanwhile cannot lend them. No allocation unless the cgroup cache
 * must rescan. */
int attr_lookup(struct attr_ctx *ctx, int protocol,
		const struct sockaddr *client, const struct sockaddr *server,
		struct attribution *out);

/* The kernel's part only: uid, inode and cgroup (found, cgroup_id,
 * cgroup_path, cgroup_level), pid 0 and no exe. For the cheap questions
 * (which app opened this TCP connection, sent this malformed packet). */
int attr_lookup_owner(struct attr_ctx *ctx, int protocol,
		      const struct sockaddr *client,
		      const struct sockaddr *server, struct attribution *out);

/* The /proc/PID/fd links read so far, by every lookup: what finding
 * the processes costs (status). */
uint64_t attr_links_read(const struct attr_ctx *ctx);

/* The SOCK_DIAG handle ctx borrows (its counters, for status). */
const struct sockdiag *attr_sockdiag(const struct attr_ctx *ctx);

/* Pieces with logic of their own, exposed for the unit tests. */

/* Parses a /proc/PID/fd/N link target "socket:[12345]". Returns 0 with
 * *inode set, or -1 when the target is not a socket. */
int attr_parse_socket_link(const char *target, uint64_t *inode);

/* Returns the pid of a process listed in cgroup_dir/cgroup.procs that has
 * a descriptor for socket inode, 0 when none does, or -errno when the
 * cgroup cannot be read. proc_root is "/proc" outside tests. */
pid_t attr_find_pid(const char *cgroup_dir, uint64_t inode,
		    const char *proc_root);

/* The asker as app_identity_from reads it: what was found of it (all
 * unknown when !a->found). The strings are a's. */
void attr_identity_source(const struct attribution *a,
			  struct app_identity_source *src);

/* What /proc says of pid now, for a pid given by a person (dnsgatectl
 * explain): found, pid, cgroup_path (its "0::" line), exe, argv and uid
 * (the real uid of its status); no socket, inode or cgroup id. Returns
 * 0, or -errno (-ENOENT: no such process, or no cgroup2 line). */
int attr_read_process(const char *proc_root, pid_t pid,
		      struct attribution *out);

/* Reads /proc/PID/cmdline into buf, NUL separators turned into spaces,
 * cut to fit. Returns 0 or -errno. */
int attr_read_cmdline(const char *proc_root, pid_t pid, char *buf,
		      size_t buflen);

#endif
