/* test_run_scope.c - dnsgatectl run's names: an app name checked and
 * escaped, the scope unit it makes, the key app_identity gives that
 * scope's path, the systemd-run command line, finding CMD, and the sweep
 * of empty cgroups earlier runs left (on a plain directory). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/app_identity.h"
#include "src/run_scope.h"

#include "tests/unit/check.h"

#define USER1000 "/user.slice/user-1000.slice/user@1000.service"

static char err[512];

static const char *
escaped(const char *name)
{
	static char out[RUN_SCOPE_ESCAPED_NAME_MAX + 1];

	err[0] = '\0';
	if (run_scope_escape_name(name, out, sizeof out, err, sizeof err) < 0)
		return NULL;
	return out;
}

static const char *
unit_of(const char *name, const char *instance)
{
	static char out[RUN_SCOPE_UNIT_MAX];

	err[0] = '\0';
	if (run_scope_unit_name(name, instance, out, sizeof out, err,
	                        sizeof err) < 0)
		return NULL;
	return out;
}

/* The key dnsgated gives a process of /usr/bin/curl in PREFIX/unit. */
static const char *
key_in(const char *prefix, const char *name, const char *instance)
{
	static char key[APP_IDENTITY_KEY_MAX];
	char path[1024];
	static char arg0[] = "curl", arg1[] = "https://example.test/";
	char *argv[] = {arg0, arg1, NULL};
	const char *unit = unit_of(name, instance);

	if (unit == NULL)
		return NULL;
	snprintf(path, sizeof path, "%s/%s", prefix, unit);
	CHECK_INT(run_scope_key(path, "/usr/bin/curl", argv, key, sizeof key,
	                        err, sizeof err),
	          0);
	return key;
}

static bool
refused_with(const char *name, int want, const char *reason)
{
	char out[RUN_SCOPE_ESCAPED_NAME_MAX + 1];
	int rc;

	err[0] = '\0';
	rc = run_scope_escape_name(name, out, sizeof out, err, sizeof err);
	if (rc != want || strstr(err, reason) == NULL) {
		fprintf(stderr, "  name \"%s\": rc %d, reason \"%s\"\n", name,
		        rc, err);
		return false;
	}
	return true;
}

static void
test_escape(void)
{
	CHECK_STR(escaped("curl"), "curl");
	CHECK_STR(escaped("org.example.App_1"), "org.example.App_1");
	/* As systemd-escape writes them; "." and "_" stay. */
	CHECK_STR(escaped("my-tool"), "my\\x2dtool");
	CHECK_STR(escaped("a+b~c@d,e"), "a\\x2bb\\x7ec\\x40d\\x2ce");
	CHECK_STR(escaped(".hidden"), ".hidden");

	CHECK(refused_with("", -EINVAL, "empty"));
	CHECK(refused_with("a/b", -EINVAL, "holds a /"));
	CHECK(refused_with("../x", -EINVAL, "holds a /"));
	CHECK(refused_with("my app", -EINVAL, "holds a space"));
	CHECK(refused_with("a\tb", -EINVAL, "a control byte (\\x09)"));
	CHECK(refused_with("a\nb", -EINVAL, "a control byte (\\x0a)"));
	CHECK(refused_with("a\x7f", -EINVAL, "a control byte (\\x7f)"));
	CHECK(refused_with("caf\xc3\xa9", -EINVAL, "not ASCII (\\xc3)"));
	/* ":" would read as the key's own separator, "\" as an escape. */
	CHECK(refused_with("a:b", -EINVAL, "holds ':'"));
	CHECK(refused_with("a\\x2db", -EINVAL, "holds '\\'"));
	CHECK(refused_with("a\"b", -EINVAL, "holds '\"'"));
	/* The reason says what a name may hold. */
	CHECK(refused_with("a*b", -EINVAL, "letters, digits and -._+~@,"));
}

static void
test_length(void)
{
	char name[400];

	/* Exactly what fits, plain and escaped (each - takes 4 bytes). */
	memset(name, 'a', RUN_SCOPE_ESCAPED_NAME_MAX);
	name[RUN_SCOPE_ESCAPED_NAME_MAX] = '\0';
	CHECK(escaped(name) != NULL);
	CHECK(unit_of(name, "0123456789abcdef") != NULL);
	CHECK(unit_of(name, "4194304") != NULL);
	CHECK_INT(strlen(unit_of(name, "0123456789abcdef")), 255);
	name[RUN_SCOPE_ESCAPED_NAME_MAX] = 'a';
	name[RUN_SCOPE_ESCAPED_NAME_MAX + 1] = '\0';
	CHECK(refused_with(name, -ENAMETOOLONG, "too long"));
	CHECK(refused_with(name, -ENAMETOOLONG, "at most 220 bytes"));

	memset(name, '-', RUN_SCOPE_ESCAPED_NAME_MAX / 4);
	name[RUN_SCOPE_ESCAPED_NAME_MAX / 4] = '\0';
	CHECK(escaped(name) != NULL);
	name[RUN_SCOPE_ESCAPED_NAME_MAX / 4] = '-';
	name[RUN_SCOPE_ESCAPED_NAME_MAX / 4 + 1] = '\0';
	CHECK(refused_with(name, -ENAMETOOLONG, "each - + ~ @ , is 4 bytes"));

	/* The whole unit name never passes the file system's 255. */
	memset(name, 'a', RUN_SCOPE_ESCAPED_NAME_MAX);
	name[RUN_SCOPE_ESCAPED_NAME_MAX] = '\0';
	CHECK(unit_of(name, "0123456789abcdef0") == NULL);
	CHECK(strstr(err, "does not fit") != NULL);
}

static void
test_unit_and_key(void)
{
	CHECK_STR(unit_of("curl", "1234"), "app-dnsgate-curl-1234.scope");
	CHECK_STR(unit_of("my-tool", "0123456789abcdef"),
	          "app-dnsgate-my\\x2dtool-0123456789abcdef.scope");
	CHECK(unit_of("a b", "1") == NULL);

	/* dnsgate's own cgroup, as root makes it without systemd. */
	CHECK_STR(key_in("/dnsgate.run", "curl", "1234"), "app:curl");
	CHECK_STR(key_in("/dnsgate.run", "my-tool", "1234"), "app:my-tool");
	CHECK_STR(key_in("/dnsgate.run", "org.example.App", "1234"),
	          "app:org.example.App");
	CHECK_STR(key_in("/dnsgate.run", "snake_case", "1234"),
	          "app:snake_case");
	CHECK_STR(key_in("/dnsgate.run", "a-b.c_d-e", "1234"), "app:a-b.c_d-e");
	CHECK_STR(key_in("/dnsgate.run", "x+y~z@w,v", "1234"), "app:x+y~z@w,v");
	CHECK_STR(key_in("/dnsgate.run", "firefox-esr", "1234"),
	          "app:firefox-esr");
	/* Below a test's (or a delegated) cgroup. */
	CHECK_STR(key_in("/dnsgate-e2e-99/run", "a", "77"), "app:a");
	/* systemd's transient scopes: the system manager's, a user's. */
	CHECK_STR(key_in("/system.slice", "my-tool", "0123456789abcdef"),
	          "app:my-tool");
	CHECK_STR(key_in(USER1000 "/app.slice", "my-tool", "0123456789abcdef"),
	          "app:my-tool");
	/* The longest name still gives its whole key. */
	{
		char name[RUN_SCOPE_ESCAPED_NAME_MAX / 4 + 1], want[100];

		memset(name, '-', sizeof name - 1);
		name[sizeof name - 1] = '\0';
		snprintf(want, sizeof want, "app:%s", name);
		CHECK_STR(key_in("/dnsgate.run", name, "4194304"), want);
	}
	/* Named for a terminal, the program joins the key, as for any
	 * terminal's processes: --print-key says so too. */
	CHECK_STR(key_in("/dnsgate.run", "xterm", "1"),
	          "app:xterm:/usr/bin/curl");
}

static void
test_default_name(void)
{
	CHECK_STR(run_scope_default_name("/usr/bin/curl"), "curl");
	CHECK_STR(run_scope_default_name("curl"), "curl");
	CHECK_STR(run_scope_default_name("./bin/my-tool"), "my-tool");
}

static void
test_systemd_argv(void)
{
	static char a0[] = "curl", a1[] = "-s", a2[] = "--",
	            a3[] = "https://example.test/";
	char *cmd[] = {a0, a1, a2, a3, NULL};
	char unit_arg[300];
	const char *args[16];
	const char *want_root[] = {
	    "systemd-run",
	    "--scope",
	    "--quiet",
	    "--collect",
	    "--unit=app-dnsgate-my\\x2dtool-0123456789abcdef.scope",
	    "--",
	    "curl",
	    "-s",
	    "--",
	    "https://example.test/"};
	const char *want_user[] = {
	    "systemd-run",
	    "--scope",
	    "--quiet",
	    "--collect",
	    "--unit=app-dnsgate-my\\x2dtool-0123456789abcdef.scope",
	    "--user",
	    "--",
	    "curl",
	    "-s",
	    "--",
	    "https://example.test/"};
	const char *unit = "app-dnsgate-my\\x2dtool-0123456789abcdef.scope";
	int n;

	n = run_scope_systemd_argv(unit, false, cmd, unit_arg, sizeof unit_arg,
	                           args, 16);
	CHECK_INT(n, 10);
	for (int i = 0; i < 10 && i < n; i++)
		CHECK_STR(args[i], want_root[i]);
	CHECK(args[10] == NULL);

	n = run_scope_systemd_argv(unit, true, cmd, unit_arg, sizeof unit_arg,
	                           args, 16);
	CHECK_INT(n, 11);
	for (int i = 0; i < 11 && i < n; i++)
		CHECK_STR(args[i], want_user[i]);
	CHECK(args[11] == NULL);

	/* Too little room: refused, never cut. */
	CHECK_INT(run_scope_systemd_argv(unit, true, cmd, unit_arg,
	                                 sizeof unit_arg, args, 11),
	          -E2BIG);
	CHECK_INT(
	    run_scope_systemd_argv(unit, true, cmd, unit_arg, 20, args, 16),
	    -E2BIG);
}

static void
test_find_command(char *dir)
{
	char path[4096], exe[4096], noexec[4096], env[8192];
	FILE *f;

	snprintf(exe, sizeof exe, "%s/tool", dir);
	snprintf(noexec, sizeof noexec, "%s/data", dir);
	f = fopen(exe, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	chmod(exe, 0755);
	f = fopen(noexec, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	chmod(noexec, 0644);

	snprintf(env, sizeof env, "/nonexistent:%s", dir);
	setenv("PATH", env, 1);
	CHECK_INT(run_scope_find_command("tool", path, sizeof path), 0);
	CHECK_STR(path, exe);
	CHECK_INT(run_scope_find_command("no-such-tool", path, sizeof path),
	          -ENOENT);
	CHECK_INT(run_scope_find_command(exe, path, sizeof path), 0);
	CHECK_INT(
	    run_scope_find_command("/nonexistent/tool", path, sizeof path),
	    -ENOENT);
	CHECK_INT(run_scope_find_command("", path, sizeof path), -ENOENT);
	/* Root may read anything but still runs only what has an x bit. */
	CHECK_INT(run_scope_find_command("data", path, sizeof path), -EACCES);
	CHECK_INT(run_scope_find_command(noexec, path, sizeof path), -EACCES);
	CHECK_INT(run_scope_find_command(dir, path, sizeof path), -EACCES);
	unlink(exe);
	unlink(noexec);
}

/* The sweep on a plain directory: rmdir removes empty directories there
 * as it does empty cgroups; a non-empty one stands for a cgroup with
 * processes (EBUSY there, ENOTEMPTY here), and other names are not ours. */
static void
test_sweep(char *dir)
{
	char p[4096];
	struct stat st;
	const char *mine[] = {"app-dnsgate-a-1.scope", "app-dnsgate-b-2.scope"};
	const char *kept[] = {"app-dnsgate-busy-3.scope", "other.scope",
	                      "app-dnsgate-x"};

	snprintf(p, sizeof p, "%s/none", dir);
	CHECK_INT(run_scope_sweep(p), -ENOENT);
	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, mine[i]);
		CHECK_INT(mkdir(p, 0755), 0);
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, kept[i]);
		CHECK_INT(mkdir(p, 0755), 0);
	}
	snprintf(p, sizeof p, "%s/app-dnsgate-busy-3.scope/child", dir);
	CHECK_INT(mkdir(p, 0755), 0);

	CHECK_INT(run_scope_sweep(dir), 2);
	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, mine[i]);
		CHECK(stat(p, &st) < 0);
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, kept[i]);
		CHECK(stat(p, &st) == 0);
	}
	CHECK_INT(run_scope_sweep(dir), 0);

	snprintf(p, sizeof p, "%s/app-dnsgate-busy-3.scope/child", dir);
	rmdir(p);
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, kept[i]);
		rmdir(p);
	}
}

/* Entering a cgroup that is a plain directory: the write to its
 * cgroup.procs fails, and nothing is left behind. */
static void
test_enter_not_a_cgroup(char *dir)
{
	char parent[1024], path[4096], p[4096];
	struct stat st;

	snprintf(parent, sizeof parent, "%s/run", dir);
	CHECK(run_scope_enter_own(parent, "app-dnsgate-a-1.scope", path,
	                          sizeof path, err, sizeof err) < 0);
	CHECK(strstr(err, "cannot move into the cgroup") != NULL);
	snprintf(p, sizeof p, "%s/app-dnsgate-a-1.scope", parent);
	CHECK(stat(p, &st) < 0);
	rmdir(parent);

	snprintf(parent, sizeof parent, "%s/no/such/parent", dir);
	CHECK(run_scope_enter_own(parent, "app-dnsgate-a-1.scope", path,
	                          sizeof path, err, sizeof err) == -ENOENT);
	CHECK(strstr(err, "cannot make the cgroup") != NULL);
}

int
main(void)
{
	char dir[] = "/tmp/test_run_scope.XXXXXX";

	CHECK(mkdtemp(dir) != NULL);
	test_escape();
	test_length();
	test_unit_and_key();
	test_default_name();
	test_systemd_argv();
	test_find_command(dir);
	test_sweep(dir);
	test_enter_not_a_cgroup(dir);
	rmdir(dir);
	return check_exit();
}
