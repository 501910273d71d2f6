/* cgroup.h - the cgroup v2 hierarchy: where it is mounted, and the path
 * and depth of a cgroup given its 64-bit id (the inode number of its
 * directory, which is what SOCK_DIAG and nftables use). */
#ifndef DNSGATE_CGROUP_H
#define DNSGATE_CGROUP_H

#include <stddef.h>
#include <stdint.h>

struct cgroup_tree;

/* Finds the cgroup2 mount in /proc/self/mountinfo (it may be
 * /sys/fs/cgroup or /sys/fs/cgroup/unified). A mount of the whole
 * hierarchy is preferred to a bind-mounted subtree, and the last listed
 * to earlier ones (a later mount may cover an earlier one). Returns NULL
 * with a reason in err when there is none, or when the chosen path is
 * not a cgroup2 file system. */
struct cgroup_tree *cgroup_tree_open(char *err, size_t errlen);
void cgroup_tree_free(struct cgroup_tree *tree);

/* Same, from a given mountinfo file, without looking at the mount
 * itself (for tests). */
struct cgroup_tree *cgroup_tree_open_mountinfo(const char *mountinfo_path,
					       char *err, size_t errlen);

/* The mount point, e.g. "/sys/fs/cgroup". */
const char *cgroup_tree_mount(const struct cgroup_tree *tree);

/* Resolves id to its path relative to the mount ("/" for the root,
 * "/user.slice/app.scope" below it) and its level (0 for the root, 1 for
 * its children, ...). The level is the depth in the whole hierarchy, as
 * in nftables' "socket cgroupv2 level N": when only a subtree is mounted
 * its root is not level 0. Keeps a cache and rescans the tree on a miss
 * (ids are never reused and cgroup2 cannot rename, so cached answers stay
 * true; an id a rescan did not find is remembered as gone).
 * Returns 0, -ENOENT when no cgroup has that id (any more), -ENAMETOOLONG
 * when the path does not fit pathlen, or -errno when the tree cannot be
 * read. */
int cgroup_lookup(struct cgroup_tree *tree, uint64_t id, char *path,
		  size_t pathlen, unsigned *level);

/* Same, from the cache only: -EAGAIN when the cache does not know id
 * (a rescan might), so that a caller can bound its rescans. */
int cgroup_lookup_cached(struct cgroup_tree *tree, uint64_t id, char *path,
                         size_t pathlen, unsigned *level);

/* Remembers id as gone (cgroup_lookup then answers -ENOENT without a
 * rescan): for a caller that saw id before a rescan that did not find
 * it. An id the cache knows is left alone. */
void cgroup_mark_gone(struct cgroup_tree *tree, uint64_t id);

/* How many times the tree was scanned so far (for the tests). */
uint64_t cgroup_rescans(const struct cgroup_tree *tree);

/* The id (directory inode) of the cgroup at relative path ("/a/b" or
 * "a/b"), or 0 when there is no such directory. */
uint64_t cgroup_id_of_path(const struct cgroup_tree *tree, const char *path);

/* The deepest level of any cgroup that exists now (rescans the tree). */
unsigned cgroup_max_level(struct cgroup_tree *tree);

/* Calls fn for every cgroup that exists now, the root too, with its id,
 * its path as cgroup_lookup gives it and its level, in no particular
 * order. Rescans the tree, so the lookup cache is fresh afterwards. fn
 * must not call the other functions of this tree (a rescan would replace
 * what is being walked). Returns 0, or -errno when the tree cannot be
 * read (fn was not called then). */
int cgroup_walk(struct cgroup_tree *tree,
                void (*fn)(void *arg, uint64_t id, const char *path,
                           unsigned level),
                void *arg);

#endif
