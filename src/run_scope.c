/* run_scope.c - dnsgatectl run: a command in a cgroup of its own, named
 * app-dnsgate-NAME-RANDOM.scope, by systemd-run or by dnsgate itself. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/app_identity.h"
#include "src/attribution.h"
#include "src/cgroup.h"
#include "src/run_scope.h"
#include "src/xmalloc.h"

#define RUN_USAGE                                                              \
	"usage: dnsgatectl run [--app NAME] [--print-key] -- CMD [ARGS...]\n"

static bool
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* name as a message can show it: bytes that are not printable ASCII
 * written \xNN, cut to fit. */
static void
name_for_message(const char *name, char *out, size_t outlen)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)name;
	     *p && o + 5 < outlen; p++) {
		if (*p < ' ' || *p >= 0x7f || *p == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x",
			                      *p);
		else
			out[o++] = (char)*p;
	}
	if (outlen)
		out[o < outlen ? o : outlen - 1] = '\0';
}

/* What a refused byte is, for the reason. */
static void
byte_for_message(unsigned char c, char *out, size_t outlen)
{
	if (c == ' ')
		snprintf(out, outlen, "a space");
	else if (c == '/')
		snprintf(out, outlen, "a /");
	else if (c < ' ' || c == 0x7f)
		snprintf(out, outlen, "a control byte (\\x%02x)", c);
	else if (c >= 0x80)
		snprintf(out, outlen, "a byte that is not ASCII (\\x%02x)", c);
	else
		snprintf(out, outlen, "'%c'", c);
}

int
run_scope_escape_name(const char *name, char *out, size_t outlen, char *err,
                      size_t errlen)
{
	char shown[128], what[48];
	size_t o = 0;

	if (name == NULL || name[0] == '\0') {
		snprintf(err, errlen,
		         "the app name is empty: name it with --app NAME");
		return -EINVAL;
	}
	name_for_message(name, shown, sizeof shown);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		size_t need;

		if (is_alnum(*p) || *p == '.' || *p == '_') {
			need = 1;
		} else if (strchr(RUN_SCOPE_NAME_PUNCT, *p)) {
			need = 4;
		} else {
			byte_for_message(*p, what, sizeof what);
			snprintf(err, errlen,
			         "the app name \"%s\" holds %s: an app name "
			         "is letters, digits and %s",
			         shown, what, RUN_SCOPE_NAME_PUNCT);
			return -EINVAL;
		}
		if (o + need > RUN_SCOPE_ESCAPED_NAME_MAX ||
		    o + need >= outlen) {
			snprintf(err, errlen,
			         "the app name \"%.40s...\" is too long: a "
			         "unit name holds at most %d bytes of it, "
			         "and each %s is 4 bytes there",
			         shown, RUN_SCOPE_ESCAPED_NAME_MAX,
			         "- + ~ @ ,");
			return -ENAMETOOLONG;
		}
		if (need == 1)
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x",
			                      *p);
	}
	out[o] = '\0';
	return 0;
}

const char *
run_scope_default_name(const char *cmd)
{
	const char *slash = strrchr(cmd, '/');

	return slash ? slash + 1 : cmd;
}

int
run_scope_unit_name(const char *name, const char *instance, char *out,
                    size_t outlen, char *err, size_t errlen)
{
	char escaped[RUN_SCOPE_ESCAPED_NAME_MAX + 1];
	int rc, n;

	rc = run_scope_escape_name(name, escaped, sizeof escaped, err, errlen);
	if (rc < 0)
		return rc;
	n = snprintf(out, outlen, RUN_SCOPE_PREFIX "%s-%s.scope", escaped,
	             instance);
	if (n < 0 || (size_t)n >= outlen || n >= RUN_SCOPE_UNIT_MAX) {
		snprintf(err, errlen, "the unit name for \"%s\" does not fit",
		         escaped);
		return -ENAMETOOLONG;
	}
	return 0;
}

int
run_scope_systemd_argv(const char *unit, bool user, char *const cmd[],
                       char *unit_arg, size_t unit_arg_len, const char **out,
                       size_t cap)
{
	static const char *const head[] = {"systemd-run", "--scope", "--quiet",
	                                   "--collect"};
	size_t n = 0, ncmd = 0;
	int len;

	while (cmd[ncmd])
		ncmd++;
	len = snprintf(unit_arg, unit_arg_len, "--unit=%s", unit);
	if (len < 0 || (size_t)len >= unit_arg_len)
		return -E2BIG;
	/* head, --unit=, --user, --, the command, NULL */
	if (cap <
	    sizeof head / sizeof *head + 1 + (user ? 1 : 0) + 1 + ncmd + 1)
		return -E2BIG;
	for (size_t i = 0; i < sizeof head / sizeof *head; i++)
		out[n++] = head[i];
	out[n++] = unit_arg;
	if (user)
		out[n++] = "--user";
	out[n++] = "--";
	for (size_t i = 0; i < ncmd; i++)
		out[n++] = cmd[i];
	out[n] = NULL;
	return (int)n;
}

/* 0 when path is a file this process may execute, else -errno. */
static int
executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EACCES;
	if (access(path, X_OK) < 0)
		return errno == ENOENT ? -ENOENT : -EACCES;
	return 0;
}

int
run_scope_find_command(const char *cmd, char *out, size_t outlen)
{
	const char *path = getenv("PATH"), *p;
	bool denied = false;

	if (cmd[0] == '\0')
		return -ENOENT;
	if (strchr(cmd, '/')) {
		int rc = executable(cmd);

		if (rc < 0)
			return rc == -ENOENT || rc == -ENOTDIR ? -ENOENT
			                                       : -EACCES;
		if ((size_t)snprintf(out, outlen, "%s", cmd) >= outlen)
			return -ENAMETOOLONG;
		return 0;
	}
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dirlen = (size_t)(end - p);
		int n, rc;

		/* An empty entry is the current directory, as for execvp. */
		if (dirlen == 0)
			n = snprintf(out, outlen, "%s", cmd);
		else
			n = snprintf(out, outlen, "%.*s/%s", (int)dirlen, p,
			             cmd);
		if (n > 0 && (size_t)n < outlen) {
			rc = executable(out);
			if (rc == 0)
				return 0;
			if (rc == -EACCES)
				denied = true;
		}
		if (*end == '\0')
			break;
		p = end;
	}
	return denied ? -EACCES : -ENOENT;
}

static bool
is_run_scope_dir(const char *name)
{
	size_t n = strlen(name), plen = strlen(RUN_SCOPE_PREFIX);

	return n > plen + strlen(".scope") &&
	       strncmp(name, RUN_SCOPE_PREFIX, plen) == 0 &&
	       strcmp(name + n - strlen(".scope"), ".scope") == 0;
}

int
run_scope_sweep(const char *parent)
{
	DIR *dir = opendir(parent);
	struct dirent *de;
	int removed = 0;

	if (dir == NULL)
		return -errno;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_type != DT_DIR || !is_run_scope_dir(de->d_name))
			continue;
		/* A cgroup with processes in it is EBUSY: still in use. */
		if (unlinkat(dirfd(dir), de->d_name, AT_REMOVEDIR) == 0)
			removed++;
	}
	closedir(dir);
	return removed;
}

/* Writes our pid to dir/cgroup.procs. 0 or -errno. */
static int
join_cgroup(const char *dir)
{
	char procs[PATH_MAX], pid[24];
	int fd, n, rc = 0;

	if ((size_t)snprintf(procs, sizeof procs, "%s/cgroup.procs", dir) >=
	    sizeof procs)
		return -ENAMETOOLONG;
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (write(fd, pid, (size_t)n) != n)
		rc = -errno;
	close(fd);
	return rc;
}

int
run_scope_enter_own(const char *parent, const char *unit, char *path,
                    size_t pathlen, char *err, size_t errlen)
{
	int rc = 0;

	if (mkdir(parent, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot make the cgroup %s: %s", parent,
		         strerror(-rc));
		return rc;
	}
	run_scope_sweep(parent);
	if ((size_t)snprintf(path, pathlen, "%s/%s", parent, unit) >= pathlen) {
		snprintf(err, errlen, "the cgroup path %s/%s is too long",
		         parent, unit);
		return -ENAMETOOLONG;
	}
	/* Another run sweeping at the same time may remove our cgroup
	 * while it is still empty: then make it again. */
	for (int tries = 0; tries < 5; tries++) {
		bool made = mkdir(path, 0755) == 0;

		if (!made && errno != EEXIST) {
			rc = -errno;
			snprintf(err, errlen, "cannot make the cgroup %s: %s",
			         path, strerror(-rc));
			return rc;
		}
		struct stat st;

		rc = join_cgroup(path);
		if (rc == 0)
			return 0;
		if ((rc == -ENOENT || rc == -ENODEV) && stat(path, &st) < 0)
			continue;
		if (made)
			rmdir(path);
		if (rc == -ENOENT)
			snprintf(err, errlen,
			         "cannot move into the cgroup %s: it has no "
			         "cgroup.procs (is %s on the cgroup2 file "
			         "system?)",
			         path, parent);
		else
			snprintf(err, errlen,
			         "cannot move into the cgroup %s: %s", path,
			         strerror(-rc));
		return rc;
	}
	snprintf(err, errlen,
	         "cannot move into the cgroup %s: it was removed %d times "
	         "as it was made",
	         path, 5);
	return rc;
}

int
run_scope_key(const char *cgroup_path, const char *exe, char *const argv[],
              char *key, size_t keylen, char *err, size_t errlen)
{
	static struct app_identity id;
	char args[4096];
	size_t len = 0;
	struct app_identity_source src = {
	    .cgroup_path = cgroup_path,
	    .pid = getpid(),
	    .uid = (int64_t)geteuid(),
	    .exe = exe,
	    .argv = args,
	};
	int rc;

	/* As /proc/PID/cmdline reads: each argument ended by a NUL, cut
	 * where the buffer ends. */
	for (size_t i = 0; argv[i] && len < sizeof args; i++) {
		size_t n = strlen(argv[i]) + 1;

		if (n > sizeof args - len)
			n = sizeof args - len;
		memcpy(args + len, argv[i], n);
		len += n;
	}
	src.argv_len = len;
	rc = app_identity_from(&src, &id, err, errlen);
	snprintf(key, keylen, "%s", id.key);
	return rc;
}

/* ---- the command ---- */

struct run_options {
	const char *app;
	bool print_key;
	char **cmd; /* NULL-terminated, from argv */
};

static int
parse_options(int argc, char **argv, struct run_options *o)
{
	int i;

	memset(o, 0, sizeof *o);
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--print-key") == 0) {
			o->print_key = true;
		} else if (strcmp(argv[i], "--app") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "dnsgatectl run: --app needs "
				                "a NAME\n" RUN_USAGE);
				return -1;
			}
			o->app = argv[++i];
		} else if (strncmp(argv[i], "--app=", 6) == 0) {
			o->app = argv[i] + 6;
		} else {
			fprintf(stderr,
			        "dnsgatectl run: '%s' before --: the command "
			        "follows --, and --app and --print-key come "
			        "before it\n" RUN_USAGE,
			        argv[i]);
			return -1;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "dnsgatectl run: no --: put the command after "
		                "it\n" RUN_USAGE);
		return -1;
	}
	if (i + 1 >= argc) {
		fprintf(stderr,
		        "dnsgatectl run: no command after --\n" RUN_USAGE);
		return -1;
	}
	o->cmd = argv + i + 1;
	return 0;
}

static bool
systemd_runs(void)
{
	struct stat st;

	return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/* 16 hex digits, as unique as a desktop launcher's. */
static void
random_instance(char *out, size_t outlen)
{
	uint64_t r;

	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
	snprintf(out, outlen, "%016" PRIx64, r);
}

/* parent relative to the cgroup2 mount, into rel. */
static int
relative_to_mount(const char *mount, const char *parent, char *rel,
                  size_t rellen, char *err, size_t errlen)
{
	size_t n = strlen(mount);

	while (n > 1 && mount[n - 1] == '/')
		n--;
	if (strncmp(parent, mount, n) != 0 ||
	    (parent[n] != '/' && parent[n] != '\0')) {
		snprintf(err, errlen,
		         "%s is not below the cgroup2 mount %s: "
		         "give " RUN_SCOPE_ENV_ROOT " a directory below it",
		         parent, mount);
		return -EINVAL;
	}
	snprintf(rel, rellen, "%s", parent[n] ? parent + n : "/");
	return 0;
}

/* Our own cgroup, relative to the mount ("0::PATH" in /proc/self/cgroup),
 * to go back to when the command cannot be started after all. */
static int
current_cgroup(char *out, size_t outlen)
{
	struct attribution *self = xmalloc(sizeof *self);
	int rc = attr_read_process("/proc", getpid(), self);

	if (rc == 0 && strlen(self->cgroup_path) >= outlen)
		rc = -ENAMETOOLONG;
	if (rc == 0)
		memcpy(out, self->cgroup_path, strlen(self->cgroup_path) + 1);
	free(self);
	return rc;
}

/* The exit status and message of a command that cannot be run, as a
 * shell gives them. */
static int
report_not_runnable(const char *cmd, int rc)
{
	if (rc == -ENOENT) {
		fprintf(stderr, "dnsgatectl run: %s: not found\n", cmd);
		return 127;
	}
	fprintf(stderr, "dnsgatectl run: %s: %s\n", cmd,
	        strerror(rc == -ENAMETOOLONG ? ENAMETOOLONG : EACCES));
	return 126;
}

static int
exec_systemd_run(const char *unit, char **cmd)
{
	char unit_arg[RUN_SCOPE_UNIT_MAX + 16];
	const char *args[512];
	bool user = geteuid() != 0;

	if (run_scope_systemd_argv(unit, user, cmd, unit_arg, sizeof unit_arg,
	                           args, sizeof args / sizeof *args) < 0) {
		fprintf(stderr, "dnsgatectl run: too many arguments (at most "
		                "500)\n");
		return 2;
	}
	execvp(args[0], (char *const *)args);
	fprintf(stderr,
	        "dnsgatectl run: cannot run systemd-run: %s (systemd runs "
	        "here, so it should be installed)\n",
	        strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

static int
exec_in_own(const char *mount, const char *parent, const char *unit, char **cmd)
{
	char err[PATH_MAX + 256], path[PATH_MAX], home[PATH_MAX],
	    back[PATH_MAX];
	bool have_home = current_cgroup(home, sizeof home) == 0;
	int saved;

	if (run_scope_enter_own(parent, unit, path, sizeof path, err,
	                        sizeof err) < 0) {
		fprintf(stderr, "dnsgatectl run: %s\n", err);
		return 1;
	}
	execvp(cmd[0], cmd);
	saved = errno;
	/* Back to where we came from, so our cgroup can go. */
	if (have_home &&
	    (size_t)snprintf(back, sizeof back, "%s%s", mount, home) <
	        sizeof back &&
	    join_cgroup(back) == 0)
		rmdir(path);
	return report_not_runnable(cmd[0], saved == ENOENT ? -ENOENT : -EACCES);
}

int
run_scope_command(int argc, char **argv)
{
	struct run_options o;
	struct cgroup_tree *tree = NULL;
	char err[PATH_MAX + 256], exe[PATH_MAX], real[PATH_MAX];
	char instance[24], unit[RUN_SCOPE_UNIT_MAX];
	char parent[PATH_MAX], cgroup_path[PATH_MAX], key[APP_IDENTITY_KEY_MAX];
	const char *env_root = getenv(RUN_SCOPE_ENV_ROOT), *name;
	bool own = (env_root && env_root[0]) || !systemd_runs();
	int rc, status;

	if (parse_options(argc, argv, &o) < 0)
		return 2;
	rc = run_scope_find_command(o.cmd[0], exe, sizeof exe);
	if (rc < 0)
		return report_not_runnable(o.cmd[0], rc);
	name = o.app ? o.app : run_scope_default_name(o.cmd[0]);
	if (own)
		snprintf(instance, sizeof instance, "%ld", (long)getpid());
	else
		random_instance(instance, sizeof instance);
	if (run_scope_unit_name(name, instance, unit, sizeof unit, err,
	                        sizeof err) < 0) {
		fprintf(stderr, "dnsgatectl run: %s%s\n", err,
		        o.app ? "" : " (CMD's name: give one with --app NAME)");
		return 2;
	}

	if (!own) {
		/* Where systemd-run puts a scope by default. */
		if (geteuid() == 0)
			snprintf(cgroup_path, sizeof cgroup_path,
			         "/system.slice/%s", unit);
		else
			snprintf(cgroup_path, sizeof cgroup_path,
			         "/user.slice/user-%ld.slice/user@%ld.service/"
			         "app.slice/%s",
			         (long)geteuid(), (long)geteuid(), unit);
	} else {
		tree = cgroup_tree_open(err, sizeof err);
		if (tree == NULL) {
			fprintf(stderr, "dnsgatectl run: %s\n", err);
			return 1;
		}
		if (env_root && env_root[0])
			snprintf(parent, sizeof parent, "%s", env_root);
		else
			snprintf(parent, sizeof parent, "%s/" RUN_SCOPE_OWN_DIR,
			         cgroup_tree_mount(tree));
		if (relative_to_mount(cgroup_tree_mount(tree), parent,
		                      cgroup_path, sizeof cgroup_path, err,
		                      sizeof err) < 0) {
			fprintf(stderr, "dnsgatectl run: %s\n", err);
			cgroup_tree_free(tree);
			return 1;
		}
		snprintf(cgroup_path + strlen(cgroup_path),
		         sizeof cgroup_path - strlen(cgroup_path), "%s%s",
		         strcmp(cgroup_path, "/") == 0 ? "" : "/", unit);
	}

	if (o.print_key) {
		if (realpath(exe, real) == NULL)
			snprintf(real, sizeof real, "%s", exe);
		if (run_scope_key(cgroup_path, real, o.cmd, key, sizeof key,
		                  err, sizeof err) < 0)
			fprintf(stderr, "dnsgatectl run: %s\n", err);
		printf("%s\n", key);
		cgroup_tree_free(tree);
		return 0;
	}

	if (!own)
		return exec_systemd_run(unit, o.cmd);
	if (geteuid() != 0 && !(env_root && env_root[0])) {
		fprintf(stderr,
		        "dnsgatectl run: systemd does not run here "
		        "(/run/systemd/system is missing), so the cgroup would "
		        "be %s, and only root may make it: run dnsgatectl run "
		        "as root, or in a systemd user session\n",
		        parent);
		cgroup_tree_free(tree);
		return 1;
	}
	status = exec_in_own(cgroup_tree_mount(tree), parent, unit, o.cmd);
	cgroup_tree_free(tree);
	return status;
}
