/* cgroup.c - the cgroup2 mount; a cache from cgroup id to path and level. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#include "src/cgroup.h"
#include "src/xmalloc.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* Deeper cgroups are not cached: each level of the walk holds a
 * descriptor, and no real hierarchy comes near. */
#define SCAN_MAX_DEPTH 128

/* Ids that a fresh scan did not find. Ids are never reused and cgroup2
 * cannot rename, so such an id stays unknown: remembering them keeps a
 * socket of a removed cgroup from costing a full scan per query. Kept by
 * id's hash (a newer id takes an older one's slot), so that a user who
 * makes and removes many cgroups costs a lookup, not a search. */
#define MISSING_IDS 1024

struct cgroup_entry {
	uint64_t id;
	unsigned level;
	size_t path_offset; /* into the paths pool */
};

struct cgroup_cache {
	struct cgroup_entry *entries; /* sorted by id after a scan */
	size_t count;
	size_t capacity;
	char *paths; /* NUL-terminated relative paths, back to back */
	size_t paths_len;
	size_t paths_cap;
	unsigned max_level;
};

struct cgroup_tree {
	char *mount;
	/* Depth of the mounted directory in the whole hierarchy: 0 unless a
	 * subtree is bind-mounted. Levels count from the real root, as
	 * nftables' "socket cgroupv2 level N" does. */
	unsigned root_level;
	struct cgroup_cache cache;
	uint64_t missing[MISSING_IDS];
	uint64_t rescans;
};

/* Decodes the octal escapes (\040 for a space, ...) of a mountinfo field
 * in place. */
static void
unescape_field(char *s)
{
	char *out = s;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)(((s[1] - '0') << 6) |
			                ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* Number of components of an absolute path: "/" 0, "/a/b" 2. */
static unsigned
path_depth(const char *path)
{
	unsigned depth = 0;

	while (*path != '\0') {
		while (*path == '/')
			path++;
		if (*path == '\0')
			break;
		depth++;
		while (*path != '\0' && *path != '/')
			path++;
	}
	return depth;
}

/* Splits a mountinfo line on spaces. Returns the field count. */
static size_t
split_fields(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	char *tok;

	for (tok = strtok_r(line, " \n", &save); tok != NULL && n < max;
	     tok = strtok_r(NULL, " \n", &save))
		fields[n++] = tok;
	return n;
}

struct cgroup_tree *
cgroup_tree_open_mountinfo(const char *mountinfo_path, char *err, size_t errlen)
{
	FILE *f;
	char *line = NULL;
	size_t linecap = 0;
	char *best_mount = NULL;
	unsigned best_level = 0;
	bool best_is_root = false;
	struct cgroup_tree *tree;

	f = fopen(mountinfo_path, "re");
	if (f == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", mountinfo_path,
		         strerror(errno));
		return NULL;
	}
	while (getline(&line, &linecap, f) != -1) {
		/* id parent major:minor root mount-point options
		 * [optional fields...] - fstype source super-options */
		char *fields[64];
		size_t n = split_fields(line, fields, 64);
		size_t sep;
		bool is_root;

		if (n < 7)
			continue;
		for (sep = 6; sep < n && strcmp(fields[sep], "-") != 0; sep++)
			;
		if (sep + 1 >= n || strcmp(fields[sep + 1], "cgroup2") != 0)
			continue;
		unescape_field(fields[3]);
		unescape_field(fields[4]);
		is_root = strcmp(fields[3], "/") == 0;
		/* A mount of the whole hierarchy beats a subtree; among equals
		 * the last wins, as a later mount may cover an earlier one. */
		if (best_mount != NULL && best_is_root && !is_root)
			continue;
		free(best_mount);
		best_mount = xstrdup(fields[4]);
		best_level = path_depth(fields[3]);
		best_is_root = is_root;
	}
	free(line);
	fclose(f);
	if (best_mount == NULL) {
		snprintf(err, errlen, "no cgroup2 file system in %s",
		         mountinfo_path);
		return NULL;
	}
	tree = xcalloc(1, sizeof *tree);
	tree->mount = best_mount;
	tree->root_level = best_level;
	return tree;
}

struct cgroup_tree *
cgroup_tree_open(char *err, size_t errlen)
{
	struct cgroup_tree *tree;
	struct statfs sfs;

	tree = cgroup_tree_open_mountinfo("/proc/self/mountinfo", err, errlen);
	if (tree == NULL)
		return NULL;
	if (statfs(tree->mount, &sfs) < 0) {
		snprintf(err, errlen, "cannot stat cgroup2 mount %s: %s",
		         tree->mount, strerror(errno));
		cgroup_tree_free(tree);
		return NULL;
	}
	if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(err, errlen,
		         "%s is listed as cgroup2 in mountinfo but is another "
		         "file system here (covered by a later mount?)",
		         tree->mount);
		cgroup_tree_free(tree);
		return NULL;
	}
	return tree;
}

static void
cache_clear(struct cgroup_cache *cache)
{
	free(cache->entries);
	free(cache->paths);
	memset(cache, 0, sizeof *cache);
}

void
cgroup_tree_free(struct cgroup_tree *tree)
{
	if (tree == NULL)
		return;
	cache_clear(&tree->cache);
	free(tree->mount);
	free(tree);
}

const char *
cgroup_tree_mount(const struct cgroup_tree *tree)
{
	return tree->mount;
}

static void
cache_add(struct cgroup_cache *cache, uint64_t id, unsigned level,
          const char *path)
{
	size_t len = strlen(path) + 1;
	struct cgroup_entry *e;

	if (cache->count == cache->capacity) {
		cache->capacity = cache->capacity ? cache->capacity * 2 : 64;
		cache->entries = xreallocarray(cache->entries, cache->capacity,
		                               sizeof *cache->entries);
	}
	while (cache->paths_len + len > cache->paths_cap) {
		cache->paths_cap =
		    cache->paths_cap ? cache->paths_cap * 2 : 4096;
		cache->paths = xrealloc(cache->paths, cache->paths_cap);
	}
	e = &cache->entries[cache->count++];
	e->id = id;
	e->level = level;
	e->path_offset = cache->paths_len;
	memcpy(cache->paths + cache->paths_len, path, len);
	cache->paths_len += len;
	if (level > cache->max_level)
		cache->max_level = level;
}

struct scan {
	struct cgroup_cache *cache;
	dev_t dev;           /* of the mount: other file systems are skipped */
	char path[PATH_MAX]; /* relative path of the directory being read */
};

/* Adds the subdirectories of fd_dir (which is at s->path, depth level) and
 * recurses. Takes ownership of fd_dir. Directories that vanish while we
 * look are skipped. */
static void
scan_dir(struct scan *s, int fd_dir, unsigned level, unsigned depth)
{
	DIR *dir;
	struct dirent *de;
	size_t base = strlen(s->path);

	dir = fdopendir(fd_dir);
	if (dir == NULL) {
		close(fd_dir);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		struct stat st;
		size_t namelen;
		int fd;

		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		namelen = strlen(de->d_name);
		if (base + 1 + namelen >= sizeof s->path)
			continue;
		fd = openat(dirfd(dir), de->d_name,
		            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0 || st.st_dev != s->dev) {
			close(fd);
			continue;
		}
		s->path[base] = '/';
		memcpy(s->path + base + 1, de->d_name, namelen + 1);
		cache_add(s->cache, (uint64_t)st.st_ino, level + 1, s->path);
		if (depth + 1 < SCAN_MAX_DEPTH)
			scan_dir(s, fd, level + 1, depth + 1);
		else
			close(fd);
		s->path[base] = '\0';
	}
	closedir(dir);
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct cgroup_entry *ea = a, *eb = b;

	return ea->id < eb->id ? -1 : ea->id > eb->id;
}

/* Replaces the cache with the tree as it is now. Returns 0 or -errno (the
 * old cache is kept then). */
static int
cgroup_rescan(struct cgroup_tree *tree)
{
	struct scan *s;
	struct cgroup_cache fresh;
	struct stat st;
	int fd;

	fd = open(tree->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	memset(&fresh, 0, sizeof fresh);
	s = xmalloc(sizeof *s);
	s->cache = &fresh;
	s->dev = st.st_dev;
	s->path[0] = '\0';
	cache_add(&fresh, (uint64_t)st.st_ino, tree->root_level, "/");
	scan_dir(s, fd, tree->root_level, 0);
	free(s);
	qsort(fresh.entries, fresh.count, sizeof *fresh.entries, entry_cmp);
	cache_clear(&tree->cache);
	tree->cache = fresh;
	tree->rescans++;
	return 0;
}

static const struct cgroup_entry *
cache_find(const struct cgroup_cache *cache, uint64_t id)
{
	size_t lo = 0, hi = cache->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cache->entries[mid].id == id)
			return &cache->entries[mid];
		if (cache->entries[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static uint64_t *
missing_slot(struct cgroup_tree *tree, uint64_t id)
{
	/* Ids are inode numbers, mostly consecutive: a multiplicative hash
	 * spreads them. */
	return &tree->missing[(id * UINT64_C(0x9e3779b97f4a7c15)) >> 54];
}

static int
lookup(struct cgroup_tree *tree, uint64_t id, bool may_rescan, char *path,
       size_t pathlen, unsigned *level)
{
	const struct cgroup_entry *e;
	const char *p;

	if (id == 0)
		return -ENOENT;
	e = cache_find(&tree->cache, id);
	if (e == NULL) {
		int ret;

		if (*missing_slot(tree, id) == id)
			return -ENOENT;
		if (!may_rescan)
			return -EAGAIN;
		ret = cgroup_rescan(tree);
		if (ret < 0)
			return ret;
		e = cache_find(&tree->cache, id);
		if (e == NULL) {
			*missing_slot(tree, id) = id;
			return -ENOENT;
		}
	}
	p = tree->cache.paths + e->path_offset;
	if (strlen(p) >= pathlen)
		return -ENAMETOOLONG;
	strcpy(path, p);
	*level = e->level;
	return 0;
}

int
cgroup_lookup(struct cgroup_tree *tree, uint64_t id, char *path, size_t pathlen,
              unsigned *level)
{
	return lookup(tree, id, true, path, pathlen, level);
}

int
cgroup_lookup_cached(struct cgroup_tree *tree, uint64_t id, char *path,
                     size_t pathlen, unsigned *level)
{
	return lookup(tree, id, false, path, pathlen, level);
}

void
cgroup_mark_gone(struct cgroup_tree *tree, uint64_t id)
{
	if (id != 0 && cache_find(&tree->cache, id) == NULL)
		*missing_slot(tree, id) = id;
}

uint64_t
cgroup_rescans(const struct cgroup_tree *tree)
{
	return tree->rescans;
}

uint64_t
cgroup_id_of_path(const struct cgroup_tree *tree, const char *path)
{
	char full[PATH_MAX];
	struct stat st;
	int n;

	n = snprintf(full, sizeof full, "%s/%s", tree->mount,
	             path[0] == '/' ? path + 1 : path);
	if (n < 0 || (size_t)n >= sizeof full)
		return 0;
	if (stat(full, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	return (uint64_t)st.st_ino;
}

unsigned
cgroup_max_level(struct cgroup_tree *tree)
{
	(void)cgroup_rescan(tree);
	return tree->cache.max_level;
}

int
cgroup_walk(struct cgroup_tree *tree,
            void (*fn)(void *arg, uint64_t id, const char *path,
                       unsigned level),
            void *arg)
{
	const struct cgroup_cache *cache = &tree->cache;
	size_t i;
	int ret;

	ret = cgroup_rescan(tree);
	if (ret < 0)
		return ret;
	for (i = 0; i < cache->count; i++) {
		const struct cgroup_entry *e = &cache->entries[i];

		fn(arg, e->id, cache->paths + e->path_offset, e->level);
	}
	return 0;
}
