/* run_scope.h - `dnsgatectl run`: starts a command in a cgroup of its own,
 * so that two programs started from one terminal get their own grants.
 *
 * dnsgated keys grants by the asking socket's cgroup, and everything a
 * terminal, a shell or cron starts shares that one's cgroup. The cgroup
 * made here is named as the desktops name an app's scope,
 * app-dnsgate-NAME-RANDOM.scope (launcher "dnsgate", NAME escaped as
 * systemd escapes it), so app_identity gives it the key app:NAME.
 * Where systemd runs, systemd-run makes it (a transient scope of the
 * system manager for root, of the user's manager for anyone else);
 * elsewhere it is a directory dnsgate owns below the cgroup2 mount,
 * DNSGATE_RUN_CGROUP_ROOT or <mount>/dnsgate.run, which the command joins
 * before it is exec'd: no wrapper process is left, the exit status and
 * the signals are the command's own. */
#ifndef DNSGATE_RUN_SCOPE_H
#define DNSGATE_RUN_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

/* The unit and cgroup directory is "app-dnsgate-" NAME "-" RANDOM
 * ".scope", at most 255 bytes (systemd's and the file system's limit).
 * RANDOM is 16 hex digits (systemd) or the pid (at most 7 digits), so an
 * escaped NAME may take 255 - 12 - 1 - 16 - 6 bytes. */
#define RUN_SCOPE_UNIT_MAX 256
#define RUN_SCOPE_ESCAPED_NAME_MAX 220
#define RUN_SCOPE_PREFIX "app-dnsgate-"
#define RUN_SCOPE_OWN_DIR "dnsgate.run"
#define RUN_SCOPE_ENV_ROOT "DNSGATE_RUN_CGROUP_ROOT"

/* The characters an app name may hold besides letters and digits: those
 * app_identity gives back unescaped, so the key is app:NAME exactly. */
#define RUN_SCOPE_NAME_PUNCT "-._+~@,"

/* Checks name (see RUN_SCOPE_NAME_PUNCT) and writes it escaped for a
 * unit name into out: "-" and the other punctuation but "." and "_"
 * become \xNN, as systemd-escape(1) writes them. Returns 0, or -EINVAL
 * (empty, a byte not allowed: the reason names it) or -ENAMETOOLONG
 * (over RUN_SCOPE_ESCAPED_NAME_MAX escaped, or over outlen) with a
 * reason in err. */
int run_scope_escape_name(const char *name, char *out, size_t outlen, char *err,
                          size_t errlen);

/* The name an app gets without --app: the last component of cmd
 * ("/usr/bin/curl" -> "curl"). Points into cmd. */
const char *run_scope_default_name(const char *cmd);

/* "app-dnsgate-" escaped-NAME "-" instance ".scope" into out
 * (RUN_SCOPE_UNIT_MAX is enough). instance holds no "-". Returns 0, or
 * the error of run_scope_escape_name, or -ENAMETOOLONG, with a reason. */
int run_scope_unit_name(const char *name, const char *instance, char *out,
                        size_t outlen, char *err, size_t errlen);

/* The systemd-run command line that starts cmd (NULL-terminated) in the
 * transient scope unit: systemd-run --scope --quiet --collect
 * --unit=UNIT [--user] -- CMD ARGS. Fills out[0..cap) with pointers
 * borrowed from unit_arg (which it writes "--unit=UNIT" into, unit_arg_len
 * bytes) and cmd, NULL-terminated. Returns the count of arguments, or
 * -E2BIG when cap or unit_arg_len is too small. */
int run_scope_systemd_argv(const char *unit, bool user, char *const cmd[],
                           char *unit_arg, size_t unit_arg_len,
                           const char **out, size_t cap);

/* Where cmd would be found, as execvp(3) looks: as given when it holds
 * a "/", else in each directory of PATH (or /usr/local/bin:/usr/bin:/bin
 * when PATH is unset). Returns 0 with the path in out, -ENOENT when there
 * is no such file, -EACCES when there is but it cannot be run, or
 * -ENAMETOOLONG. */
int run_scope_find_command(const char *cmd, char *out, size_t outlen);

/* Removes the empty app-dnsgate-*.scope cgroups below parent that
 * earlier runs left (a cgroup still holding processes cannot be removed,
 * and stays). Returns how many were removed, or -errno when parent
 * cannot be read (-ENOENT: there is none yet). */
int run_scope_sweep(const char *parent);

/* Moves the calling process into the cgroup parent/unit: makes parent
 * (once) and the cgroup (an empty one of that name is reused), sweeps the
 * empty ones earlier runs left, and writes our pid to its cgroup.procs.
 * path gets the cgroup's directory. Returns 0, or -errno with a reason
 * in err (nothing is left behind on an error). */
int run_scope_enter_own(const char *parent, const char *unit, char *path,
                        size_t pathlen, char *err, size_t errlen);

/* The app key dnsgated gives a process of cmd (exe: its path, argv as
 * given, NULL-terminated) in the cgroup at cgroup_path (relative to the
 * cgroup2 mount). Returns 0, or -ENAMETOOLONG with a reason when the key
 * was cut. */
int run_scope_key(const char *cgroup_path, const char *exe, char *const argv[],
                  char *key, size_t keylen, char *err, size_t errlen);

/* dnsgatectl run [--app NAME] [--print-key] -- CMD [ARGS...]: argv holds
 * what follows "run" (argc of them). On success it does not return (CMD,
 * or systemd-run, runs in this process); otherwise it returns the exit
 * status: 0 after --print-key, 2 for a usage error or a bad name, 127 when
 * CMD is not found, 126 when it cannot be run, 1 for any other error. */
int run_scope_command(int argc, char **argv);

#endif
