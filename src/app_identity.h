/* app_identity.h - who the app is, in the names the init system and the
 * desktop give it: from the asking socket's cgroup path (and, when the pid
 * is known, its uid, exe and argv) to a value of named fields and a stable
 * app key, the string a log line shows and a rule names.
 *
 * The path is read component by component from the root down, so it may
 * sit under any prefix (a delegated subtree, a container's own systemd):
 * the innermost unit decides the kind, and what encloses it (user@UID.
 * service, an app-ID.slice, a container's scope) is noted in the fields.
 * Unit names follow systemd.unit(5) and systemd's "XDG standardization
 * for applications": app[-LAUNCHER]-ID[@RANDOM].service and
 * app[-LAUNCHER]-ID-RANDOM.scope, with "-" in LAUNCHER and ID escaped as
 * \x2d. Every field is a fixed-size array and filling one allocates
 * nothing, so it can be done per query. README.md, "Who the app is", has
 * the key scheme with real paths.
 *
 * A user's own programs choose the names below that user's user@UID.
 * service (systemd-run --user --unit=app-flatpak-x-1.scope), so those
 * fields are that user's word (user_named), and nothing nested there
 * (a user-0.slice, a user@0.service, a docker-ID.scope) changes whose
 * they are: the uid stays the outer manager's, and a container there is
 * keyed user:UID:ENGINE:ID. Units of the system manager are root's.
 * argv, and so the script, is the process's own word too. */
#ifndef DNSGATE_APP_IDENTITY_H
#define DNSGATE_APP_IDENTITY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A unit name or a cgroup directory name, with its NUL (systemd allows
 * 255 characters, and so does a directory name). */
#define APP_IDENTITY_NAME_MAX 256
#define APP_IDENTITY_CGROUP_MAX 512
#define APP_IDENTITY_SCRIPT_MAX 1024
#define APP_IDENTITY_KEY_MAX 1024
#define APP_IDENTITY_UID_UNKNOWN (-1)

enum app_kind {
	APP_KIND_UNKNOWN, /* no unit names it: "?", or a hand-made
	                     cgroup (the key is its path) */
	APP_KIND_ROOT,    /* the root cgroup "/": everyone's */
	APP_KIND_DESKTOP, /* app-[LAUNCHER-]ID..., or a unit inside an
	                     app-ID.slice of a user manager */
	APP_KIND_FLATPAK, /* a desktop app whose launcher is "flatpak" */
	APP_KIND_SNAP,    /* snap.NAME.APP-UUID.scope, snap.NAME.APP.service */
	APP_KIND_SYSTEM,  /* any other unit of the system manager */
	APP_KIND_USER,    /* any other unit of a user manager */
	APP_KIND_CONTAINER,    /* a container's or machine's own cgroup, with
	                          no unit of its own systemd below it */
	APP_KIND_SESSION,      /* session-ID.scope: a login's processes */
	APP_KIND_USER_MANAGER, /* user@UID.service itself (its init.scope) */
	APP_KIND_SLICE,        /* a slice, with no unit below it */
};

enum app_script_kind {
	APP_SCRIPT_NONE, /* not an interpreter, or it runs a command
	                    string (-c, -e) or its standard input */
	APP_SCRIPT_FILE, /* python x.py, node x.js, sh x.sh, java -jar x.jar */
	APP_SCRIPT_MODULE, /* python -m MODULE, java -m MODULE */
	APP_SCRIPT_CLASS,  /* java MAIN.CLASS */
};

/* What is known of the asker. Only cgroup_path is needed; the rest fills
 * the process fields and, for a terminal's or a login's processes, the
 * key. The strings are borrowed for the call only. */
struct app_identity_source {
	const char *cgroup_path; /* relative to the cgroup2 mount: "/" the
	                            root, "?" or NULL unknown (gone) */
	pid_t pid;               /* 0: unknown */
	int64_t uid;      /* the socket's uid, or APP_IDENTITY_UID_UNKNOWN */
	const char *exe;  /* the /proc/PID/exe link target as read,
	                     " (deleted)" and all; NULL or "" unknown */
	const char *argv; /* /proc/PID/cmdline as read: arguments each
	                     ended by a NUL (the last one may lack it) */
	size_t argv_len;
};

struct app_identity {
	enum app_kind kind;
	/* The app key: see README.md, "Who the app is". Printable ASCII with
	 * no space, quote or backslash other than a unit name's own \xNN,
	 * so it goes into a log line unquoted. Never holds a pid or a
	 * random suffix. */
	char key[APP_IDENTITY_KEY_MAX];

	char cgroup[APP_IDENTITY_CGROUP_MAX]; /* the path as given, "?" */

	/* The innermost unit. unit is its name with the desktop's random
	 * suffix cut ("app-gnome-org.gnome.Evince@.service",
	 * "app-flatpak-org.mozilla.firefox.scope",
	 * "snap.firefox.firefox.scope") and otherwise as named, instances kept
	 * ("getty@tty1.service"). unit_exact is the name in the cgroup path.
	 * unit_template is "getty@.service" for an instance, "" for a unit that
	 * is none. For the user manager, unit is user@UID.service, unit_exact
	 * init.scope. */
	char unit[APP_IDENTITY_NAME_MAX];
	char unit_exact[APP_IDENTITY_NAME_MAX];
	char unit_template[APP_IDENTITY_NAME_MAX];
	char slice[APP_IDENTITY_NAME_MAX]; /* the innermost enclosing slice */

	/* Desktop and Flatpak apps: the application id, \x2d and the like
	 * unescaped ("org.mozilla.firefox", "google-chrome"); the launcher
	 * ("gnome", "KDE", "flatpak", "" when the unit names none). For a
	 * unit in an app-ID.slice, that slice's. For a service dbus-broker
	 * started (dbus-:1.N-NAME@M.service), the D-Bus name, launcher
	 * "dbus". */
	char app_id[APP_IDENTITY_NAME_MAX];
	char launcher[APP_IDENTITY_NAME_MAX];

	char snap_name[APP_IDENTITY_NAME_MAX]; /* "firefox" */
	char snap_app[APP_IDENTITY_NAME_MAX];  /* "firefox", "daemon" */

	/* The innermost container or machine the cgroup is in, also when a
	 * unit of its own systemd is the innermost unit. engine is "docker",
	 * "podman", "containerd", "cri-o", "machine" (systemd-machined,
	 * systemd-nspawn), "libvirt" or "lxc"; "" when none. id is the full
	 * 64-hex id, or the machine's name (libvirt's without its running
	 * number). monitor: the engine's helper beside the container
	 * (podman's conmon, LXC's monitor), not the container. */
	char container_engine[16];
	char container_id[APP_IDENTITY_NAME_MAX];
	bool container_monitor;

	char session[APP_IDENTITY_NAME_MAX]; /* "2", "c1"; "" */
	/* The user of the innermost user-UID.slice or user@UID.service on
	 * the path; inside a container with users of its own, one of those
	 * (its uids, not the host's). APP_IDENTITY_UID_UNKNOWN: none. */
	int64_t cgroup_uid;

	/* The cgroup is below a user@UID.service: every name from there
	 * down (units, slices, app ids, a container's) is that user's
	 * word, and cgroup_uid is that UID whatever is nested below. */
	bool user_named;

	/* The cgroup is shared by whatever a person starts (a login, a
	 * terminal, systemd-run's generated units, the root cgroup), so the
	 * key joins in the script or exe. */
	bool joins_exe;

	/* The process, when known. exe is the path without the kernel's
	 * " (deleted)" (the file was removed or replaced since it was
	 * started: exe_deleted). script is as argv has it: a path as given
	 * (perhaps relative), a module or a class name. */
	pid_t pid;
	int64_t uid;
	char exe[PATH_MAX];
	bool exe_deleted;
	char interpreter[8]; /* "python", "node", "java", "sh"; "" */
	enum app_script_kind script_kind;
	char script[APP_IDENTITY_SCRIPT_MAX];
};

/* Fills id from src. Returns 0, or -ENAMETOOLONG with a reason in err
 * when something did not fit: a field is then cut, and a key that would
 * not fit leaves out the joined exe (as if it were unknown) or, when even
 * that is too long, is "?". id is always filled. */
int app_identity_from(const struct app_identity_source *src,
                      struct app_identity *id, char *err, size_t errlen);

/* "desktop", "flatpak", "snap", "system", "user", "container",
 * "session", "user-manager", "slice", "root", "unknown". */
const char *app_kind_name(enum app_kind kind);

/* Pieces with logic of their own, exposed for the unit tests. */

/* Undoes systemd.unit(5)'s \xNN escapes of in[0..inlen) into out: only
 * those that give a letter, a digit or one of "-._+~@,", so the result
 * never holds a space, a control character, a quote, ":" or "/" (those
 * stay written \xNN). Returns the length written, cut to outlen - 1. */
size_t app_unit_unescape(const char *in, size_t inlen, char *out,
                         size_t outlen);

/* The script an interpreter runs. exe is the link target (" (deleted)"
 * is ignored); argv as in app_identity_source. Sets *kind, script and
 * interpreter ("" and APP_SCRIPT_NONE when exe is no interpreter this
 * knows, or runs no script). Returns 0, or -ENAMETOOLONG when the
 * script was cut to fit. */
int app_identity_script(const char *exe, const char *argv, size_t argv_len,
                        char *interpreter, size_t interpreter_len, char *script,
                        size_t script_len, enum app_script_kind *kind);

#endif
