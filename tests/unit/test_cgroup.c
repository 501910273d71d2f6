/* test_cgroup.c - finding the cgroup2 mount and resolving cgroup ids. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/cgroup.h"

#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

#define SKIP 77

/* Parses text as a mountinfo file; returns the mount found or NULL. */
static struct cgroup_tree *
open_text(const char *text, char *err, size_t errlen)
{
	char path[64];
	struct cgroup_tree *tree;

	if (fixture_temp_file(path, sizeof path, text, strlen(text)) < 0)
		return NULL;
	tree = cgroup_tree_open_mountinfo(path, err, errlen);
	unlink(path);
	return tree;
}

static void
expect_mount(const char *text, const char *mount)
{
	char err[256] = "";
	struct cgroup_tree *tree = open_text(text, err, sizeof err);

	CHECK(tree != NULL);
	if (tree == NULL) {
		fprintf(stderr, "  reason: %s\n", err);
		return;
	}
	CHECK_STR(cgroup_tree_mount(tree), mount);
	cgroup_tree_free(tree);
}

static void
test_mountinfo(void)
{
	char err[256] = "";

	/* A modern host: the unified hierarchy alone, with an optional field.
	 */
	expect_mount("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
	             "23 22 0:21 / /sys rw,nosuid shared:2 - sysfs sysfs rw\n"
	             "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,"
	             "relatime shared:4 - cgroup2 cgroup2 "
	             "rw,nsdelegate,memory_recursiveprot\n",
	             "/sys/fs/cgroup");

	/* A hybrid host: v1 controllers on a tmpfs, cgroup2 below it. */
	expect_mount(
	    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs "
	    "rw,mode=755\n"
	    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup "
	    "cgroup rw,cpu\n"
	    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup "
	    "cgroup rw,name=systemd\n"
	    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 "
	    "cgroup2 rw\n",
	    "/sys/fs/cgroup/unified");

	/* Several optional fields before the separator. */
	expect_mount("41 31 0:38 / /sys/fs/cgroup/unified rw shared:9 "
	             "master:3 propagate_from:2 - cgroup2 cgroup2 rw\n",
	             "/sys/fs/cgroup/unified");

	/* Escaped space, tab and backslash in the mount point. */
	expect_mount("50 22 0:40 / /tmp/my\\040cgroup\\011x\\134y rw - "
	             "cgroup2 none rw\n",
	             "/tmp/my cgroup\tx\\y");

	/* A subtree mount loses to a mount of the whole hierarchy, in
	 * either order. */
	expect_mount("60 22 0:38 /app /mnt/app rw - cgroup2 cgroup2 rw\n"
	             "61 22 0:38 / /mnt/all rw - cgroup2 cgroup2 rw\n",
	             "/mnt/all");
	expect_mount("61 22 0:38 / /mnt/all rw - cgroup2 cgroup2 rw\n"
	             "60 22 0:38 /app /mnt/app rw - cgroup2 cgroup2 rw\n",
	             "/mnt/all");
	expect_mount("60 22 0:38 /app /mnt/app rw - cgroup2 cgroup2 rw\n",
	             "/mnt/app");

	/* A later mount (e.g. one a test namespace made over the tmpfs)
	 * covers an earlier one: the last wins. */
	expect_mount("41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 "
	             "cgroup2 rw\n"
	             "90 31 0:38 / /sys/fs/cgroup rw - cgroup2 none rw\n",
	             "/sys/fs/cgroup");

	/* Only the file system type counts, not the source. */
	err[0] = '\0';
	CHECK(open_text("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup2 "
	                "rw,cpu\n"
	                "33 31 0:29 / /cgroup2 rw shared:1\n"
	                "garbage\n\n",
	                err, sizeof err) == NULL);
	CHECK(strstr(err, "no cgroup2") != NULL);

	err[0] = '\0';
	CHECK(cgroup_tree_open_mountinfo("/nonexistent/mountinfo", err,
	                                 sizeof err) == NULL);
	CHECK(strstr(err, "/nonexistent/mountinfo") != NULL);
}

/* What a walk saw of the test's cgroups. */
struct walked {
	const char *top;
	size_t all, below_top;
	uint64_t root_id, c_id;
	unsigned c_level;
	char c_path[128];
	const char *c;
};

static void
on_cgroup(void *arg, uint64_t id, const char *path, unsigned level)
{
	struct walked *w = arg;

	w->all++;
	if (strcmp(path, "/") == 0) {
		w->root_id = id;
		CHECK_INT(level, 0);
	}
	if (strncmp(path, w->top, strlen(w->top)) == 0)
		w->below_top++;
	if (strcmp(path, w->c) == 0) {
		w->c_id = id;
		w->c_level = level;
		snprintf(w->c_path, sizeof w->c_path, "%s", path);
	}
}

/* Every cgroup, with its id, path and level; the cache is refreshed, and
 * a removed cgroup is not walked any more. */
static void
test_walk(struct cgroup_tree *tree, const char *mount, const char *top,
          const char *b, const char *c)
{
	struct walked w;
	char full[512], path[512], d[96];
	unsigned level;
	uint64_t id_d;

	memset(&w, 0, sizeof w);
	w.top = top;
	w.c = c;
	CHECK_INT(cgroup_walk(tree, on_cgroup, &w), 0);
	CHECK(w.all >= 5);
	CHECK_INT(w.below_top, 4); /* top, a, a/b and c */
	CHECK_INT(w.root_id, fixture_cgroup_id(mount, ""));
	CHECK_INT(w.c_id, fixture_cgroup_id(mount, c));
	CHECK_INT(w.c_level, 2);
	CHECK_STR(w.c_path, c);

	/* Made after the last scan: walked, and in the cache afterwards. */
	snprintf(d, sizeof d, "%s/d", top);
	if (fixture_cgroup_make(mount, d) < 0) {
		CHECK(!"cannot create the test cgroup d");
		return;
	}
	memset(&w, 0, sizeof w);
	w.top = top;
	w.c = d;
	CHECK_INT(cgroup_walk(tree, on_cgroup, &w), 0);
	CHECK_INT(w.below_top, 5);
	id_d = fixture_cgroup_id(mount, d);
	CHECK_INT(w.c_id, id_d);
	/* Removed: the walk does not see it. */
	snprintf(full, sizeof full, "%s%s", mount, b);
	CHECK_INT(rmdir(full), 0);
	memset(&w, 0, sizeof w);
	w.top = top;
	w.c = b;
	CHECK_INT(cgroup_walk(tree, on_cgroup, &w), 0);
	CHECK_INT(w.below_top, 4);
	CHECK_INT(w.c_id, 0);
	/* The walk filled the cache: d is found without another rescan
	 * (its directory gone now, the cache still answers). */
	snprintf(full, sizeof full, "%s%s", mount, d);
	CHECK_INT(rmdir(full), 0);
	CHECK_INT(cgroup_lookup(tree, id_d, path, sizeof path, &level), 0);
	CHECK_STR(path, d);
}

static void
test_real(void)
{
	char err[256], top[64], a[80], b[96], c[96], path[512];
	struct cgroup_tree *tree;
	const char *mount;
	unsigned level = 99;
	uint64_t id_b, id_c;

	tree = cgroup_tree_open(err, sizeof err);
	CHECK(tree != NULL);
	if (tree == NULL) {
		fprintf(stderr, "  reason: %s\n", err);
		return;
	}
	mount = cgroup_tree_mount(tree);

	/* The root. */
	CHECK_INT(cgroup_lookup(tree, fixture_cgroup_id(mount, ""), path,
	                        sizeof path, &level),
	          0);
	CHECK_STR(path, "/");
	CHECK_INT(level, 0);
	CHECK_INT(cgroup_id_of_path(tree, "/"), fixture_cgroup_id(mount, ""));
	CHECK_INT(cgroup_id_of_path(tree, "/dnsgate-no-such-cgroup"), 0);
	CHECK_INT(cgroup_lookup(tree, 0, path, sizeof path, &level), -ENOENT);
	/* Unknown ids, twice: the second answer comes from memory. */
	CHECK_INT(
	    cgroup_lookup(tree, UINT64_MAX - 7, path, sizeof path, &level),
	    -ENOENT);
	CHECK_INT(
	    cgroup_lookup(tree, UINT64_MAX - 7, path, sizeof path, &level),
	    -ENOENT);

	if (getuid() != 0) {
		fprintf(stderr, "not root: cgroup creation cases skipped\n");
		cgroup_tree_free(tree);
		return;
	}
	snprintf(top, sizeof top, "/dnsgate-unit-%ld", (long)getpid());
	snprintf(a, sizeof a, "%s/a", top);
	snprintf(b, sizeof b, "%s/b", a);
	snprintf(c, sizeof c, "%s/c", top);
	if (fixture_cgroup_make(mount, top) < 0 ||
	    fixture_cgroup_make(mount, a) < 0 ||
	    fixture_cgroup_make(mount, b) < 0) {
		CHECK(!"cannot create the test cgroups");
		goto out;
	}
	id_b = fixture_cgroup_id(mount, b);
	CHECK(id_b != 0);
	CHECK_INT(cgroup_lookup(tree, id_b, path, sizeof path, &level), 0);
	CHECK_STR(path, b);
	CHECK_INT(level, 3);
	CHECK_INT(cgroup_lookup(tree, fixture_cgroup_id(mount, a), path,
	                        sizeof path, &level),
	          0);
	CHECK_STR(path, a);
	CHECK_INT(level, 2);
	CHECK(cgroup_max_level(tree) >= 3);
	CHECK_INT(cgroup_id_of_path(tree, b), id_b);
	CHECK_INT(cgroup_id_of_path(tree, b + 1), id_b); /* no leading '/' */

	/* A path that does not fit the caller's buffer. */
	CHECK_INT(cgroup_lookup(tree, id_b, path, 4, &level), -ENAMETOOLONG);

	/* A cgroup made after the cache was filled is found by a rescan. */
	if (fixture_cgroup_make(mount, c) < 0) {
		CHECK(!"cannot create the test cgroup c");
		goto out;
	}
	id_c = fixture_cgroup_id(mount, c);
	CHECK_INT(cgroup_lookup(tree, id_c, path, sizeof path, &level), 0);
	CHECK_STR(path, c);
	CHECK_INT(level, 2);

	test_walk(tree, mount, top, b, c);
out:
	fixture_cgroups_remove();
	CHECK_INT(cgroup_id_of_path(tree, top), 0);
	cgroup_tree_free(tree);
}

int
main(void)
{
	char err[256];
	struct cgroup_tree *tree;

	test_mountinfo();
	tree = cgroup_tree_open(err, sizeof err);
	if (tree == NULL) {
		fprintf(stderr, "%s: real hierarchy cases skipped\n", err);
		return check_exit();
	}
	cgroup_tree_free(tree);
	test_real();
	return check_exit();
}
