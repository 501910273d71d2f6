/* test_app_identity.c - cgroup paths as systemd, the desktops, Flatpak,
 * snapd and the container engines name them, to the app key and fields;
 * interpreters' argv to their script; deleted exes. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "src/app_identity.h"

#include "tests/unit/check.h"

#define HEX64 "4f2a9c1e8b7d6a5f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a09"
#define UUID "6b8f7b7e-3c0e-4a4e-9d2c-1f5a8f3f6c0a"
#define USER1000 "/user.slice/user-1000.slice/user@1000.service"

static struct app_identity id;

/* A key a log line can carry bare: printable, no space, no quote. */
static void
check_key_is_loggable(const char *key)
{
	bool ok = key[0] != '\0';

	for (const char *p = key; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    *p == '"')
			ok = false;
	CHECK(ok);
	if (!ok)
		fprintf(stderr, "  key not loggable: \"%s\"\n", key);
}

/* Fills id from a process in cgroup path; argv holds its NULs, so its
 * length is passed (0 and NULL: no process known). */
static int
identify(const char *path, const char *exe, const char *argv, size_t argv_len)
{
	struct app_identity_source src = {
	    .cgroup_path = path,
	    .pid = exe ? 4242 : 0,
	    .uid = exe ? 1000 : APP_IDENTITY_UID_UNKNOWN,
	    .exe = exe,
	    .argv = argv,
	    .argv_len = argv_len,
	};
	char err[256] = "";
	int rc = app_identity_from(&src, &id, err, sizeof err);

	if (rc != 0)
		CHECK(err[0] != '\0');
	check_key_is_loggable(id.key);
	return rc;
}

#define ARGV(s) (s), sizeof(s) - 1

static void
expect(const char *path, enum app_kind kind, const char *key)
{
	CHECK_INT(identify(path, NULL, NULL, 0), 0);
	CHECK_STR(app_kind_name(id.kind), app_kind_name(kind));
	CHECK_STR(id.key, key);
	CHECK_STR(id.cgroup, path);
}

static void
test_gnome(void)
{
	expect(USER1000 "/app.slice/app-gnome-org.gnome.Nautilus-3141.scope",
	       APP_KIND_DESKTOP, "app:org.gnome.Nautilus");
	CHECK_STR(id.app_id, "org.gnome.Nautilus");
	CHECK_STR(id.launcher, "gnome");
	CHECK_STR(id.unit, "app-gnome-org.gnome.Nautilus.scope");
	CHECK_STR(id.unit_exact, "app-gnome-org.gnome.Nautilus-3141.scope");
	CHECK_STR(id.unit_template, "");
	CHECK_STR(id.slice, "app.slice");
	CHECK_INT(id.cgroup_uid, 1000);
	CHECK(!id.joins_exe);

	/* Debian's firefox-esr.desktop: the id's dash escaped. */
	expect(USER1000 "/app.slice/app-gnome-firefox\\x2desr-4521.scope",
	       APP_KIND_DESKTOP, "app:firefox-esr");
	CHECK_STR(id.app_id, "firefox-esr");
	CHECK_STR(id.unit, "app-gnome-firefox\\x2desr.scope");
	expect(USER1000 "/app.slice/"
	                "app-gnome-org.gnome.Evolution\\x2dalarm\\x2dnotify-"
	                "2195.scope",
	       APP_KIND_DESKTOP, "app:org.gnome.Evolution-alarm-notify");

	/* systemd-xdg-autostart-generator's units: no launcher, @autostart. */
	expect(USER1000 "/app.slice/app-gnome\\x2dkeyring\\x2dpkcs11@"
	                "autostart.service",
	       APP_KIND_DESKTOP, "app:gnome-keyring-pkcs11");
	CHECK_STR(id.launcher, "");
	CHECK_STR(id.unit, "app-gnome\\x2dkeyring\\x2dpkcs11@.service");
	CHECK_STR(id.unit_template,
	          "app-gnome\\x2dkeyring\\x2dpkcs11@.service");

	/* The examples of systemd's "XDG standardization for applications". */
	expect(USER1000 "/app.slice/app-gnome-org.gnome.Evince@12345.service",
	       APP_KIND_DESKTOP, "app:org.gnome.Evince");
	CHECK_STR(id.unit, "app-gnome-org.gnome.Evince@.service");
	CHECK_STR(id.unit_exact, "app-gnome-org.gnome.Evince@12345.service");
	expect(USER1000 "/app.slice/app-org.gnome.Evince-12345.scope",
	       APP_KIND_DESKTOP, "app:org.gnome.Evince");
	CHECK_STR(id.launcher, "");
	/* Its first version: the random suffix after a dash on a service. */
	expect(USER1000 "/app.slice/app-gnome-org.gnome.Evince-12345.service",
	       APP_KIND_DESKTOP, "app:org.gnome.Evince");
	CHECK_STR(id.unit, "app-gnome-org.gnome.Evince.service");
	CHECK_STR(id.launcher, "gnome");
	expect(USER1000 "/app.slice/app-gnome-firefox.service",
	       APP_KIND_DESKTOP, "app:firefox");
	CHECK_STR(id.launcher, "gnome");

	/* A dash left unescaped splits as the convention says. */
	expect(USER1000 "/app.slice/app-firefox-esr-12.scope", APP_KIND_DESKTOP,
	       "app:esr");
	CHECK_STR(id.launcher, "firefox");

	/* GNOME Terminal: its server in the app's slice, each tab in a
	 * vte-spawn scope. What runs there joins its exe. */
	CHECK_INT(identify(USER1000 "/app.slice/app-org.gnome.Terminal.slice/"
	                            "vte-spawn-" UUID ".scope",
	                   "/usr/bin/curl",
	                   ARGV("curl\0https://example.com/\0")),
	          0);
	CHECK_INT(id.kind, APP_KIND_DESKTOP);
	CHECK_STR(id.key, "app:org.gnome.Terminal:/usr/bin/curl");
	CHECK_STR(id.app_id, "org.gnome.Terminal");
	CHECK_STR(id.unit, "vte-spawn-" UUID ".scope");
	CHECK_STR(id.slice, "app-org.gnome.Terminal.slice");
	CHECK(id.joins_exe);
	CHECK_INT(identify(USER1000 "/app.slice/app-org.gnome.Terminal.slice/"
	                            "gnome-terminal-server.service",
	                   "/usr/libexec/gnome-terminal-server",
	                   ARGV("/usr/libexec/gnome-terminal-server\0")),
	          0);
	CHECK_STR(id.key,
	          "app:org.gnome.Terminal:/usr/libexec/gnome-terminal-server");
	CHECK_STR(id.unit, "gnome-terminal-server.service");
	/* The pid unknown: the terminal's key alone. */
	expect(USER1000 "/app.slice/app-org.gnome.Terminal.slice/"
	                "vte-spawn-" UUID ".scope",
	       APP_KIND_DESKTOP, "app:org.gnome.Terminal");

	expect(USER1000 "/session.slice/org.gnome.Shell@wayland.service",
	       APP_KIND_USER, "user:1000:org.gnome.Shell@wayland.service");
	CHECK_STR(id.unit_template, "org.gnome.Shell@.service");
}

static void
test_kde(void)
{
	/* Plasma 5 scopes carry no launcher. */
	CHECK_INT(identify(USER1000 "/app.slice/app-org.kde.konsole-1234.scope",
	                   "/usr/bin/konsole", ARGV("/usr/bin/konsole\0")),
	          0);
	CHECK_INT(id.kind, APP_KIND_DESKTOP);
	CHECK_STR(id.key, "app:org.kde.konsole:/usr/bin/konsole");
	CHECK_INT(identify(USER1000 "/app.slice/app-org.kde.konsole-1234.scope",
	                   "/usr/bin/wget", ARGV("wget\0https://a.test/\0")),
	          0);
	CHECK_STR(id.key, "app:org.kde.konsole:/usr/bin/wget");

	/* Plasma 6 launches apps as services with a random instance. */
	expect(USER1000 "/app.slice/app-org.kde.dolphin@0a1b2c3d4e5f.service",
	       APP_KIND_DESKTOP, "app:org.kde.dolphin");
	CHECK_STR(id.unit, "app-org.kde.dolphin@.service");
	expect(USER1000 "/app.slice/app-org.kde.kdeconnect.daemon@"
	                "autostart.service",
	       APP_KIND_DESKTOP, "app:org.kde.kdeconnect.daemon");
	expect(USER1000 "/app.slice/app-KDE-org.kde.okular@12345.service",
	       APP_KIND_DESKTOP, "app:org.kde.okular");
	CHECK_STR(id.launcher, "KDE");
	expect(USER1000 "/app.slice/app-org.kde.amarok.service",
	       APP_KIND_DESKTOP, "app:org.kde.amarok");
	CHECK_STR(id.unit, "app-org.kde.amarok.service");
	CHECK_STR(id.unit_template, "");
	expect(USER1000 "/session.slice/plasma-plasmashell.service",
	       APP_KIND_USER, "user:1000:plasma-plasmashell.service");
	CHECK_STR(id.app_id, "");
}

static void
test_flatpak_and_chromium(void)
{
	expect(USER1000
	       "/app.slice/app-flatpak-org.mozilla.firefox-12345.scope",
	       APP_KIND_FLATPAK, "flatpak:org.mozilla.firefox");
	CHECK_STR(id.app_id, "org.mozilla.firefox");
	CHECK_STR(id.launcher, "flatpak");
	CHECK_STR(id.unit, "app-flatpak-org.mozilla.firefox.scope");
	expect(USER1000 "/app.slice/app-flatpak-org.telegram.desktop@"
	                "12345.service",
	       APP_KIND_FLATPAK, "flatpak:org.telegram.desktop");
	expect(USER1000 "/app.slice/app-org.chromium.Chromium@abc.service",
	       APP_KIND_DESKTOP, "app:org.chromium.Chromium");
	CHECK_STR(id.unit, "app-org.chromium.Chromium@.service");
	CHECK_STR(id.unit_exact, "app-org.chromium.Chromium@abc.service");

	/* Two launches of one app: one key. */
	expect(USER1000 "/app.slice/app-flatpak-org.mozilla.firefox-99.scope",
	       APP_KIND_FLATPAK, "flatpak:org.mozilla.firefox");
}

static void
test_snap(void)
{
	expect(USER1000 "/app.slice/snap.firefox.firefox-" UUID ".scope",
	       APP_KIND_SNAP, "snap:firefox");
	CHECK_STR(id.snap_name, "firefox");
	CHECK_STR(id.snap_app, "firefox");
	CHECK_STR(id.unit, "snap.firefox.firefox.scope");
	CHECK_INT(id.cgroup_uid, 1000);
	/* As snapd's own spread test (tests/main/cgroup-tracking) sees them. */
	expect(USER1000 "/app.slice/snap.test-snapd-tracking.sh-" UUID ".scope",
	       APP_KIND_SNAP, "snap:test-snapd-tracking.sh");
	CHECK_STR(id.snap_name, "test-snapd-tracking");
	CHECK_STR(id.snap_app, "sh");
	expect("/system.slice/snap.test-snapd-tracking.nap.service",
	       APP_KIND_SNAP, "snap:test-snapd-tracking.nap");
	CHECK_STR(id.unit, "snap.test-snapd-tracking.nap.service");
	expect("/system.slice/snap.test-snapd-tracking.hook.configure-" UUID
	       ".scope",
	       APP_KIND_SNAP, "snap:test-snapd-tracking.hook.configure");
	CHECK_STR(id.snap_app, "hook.configure");
	/* snapd's older form, the UUID first. */
	expect(USER1000 "/snap." UUID ".test-snapd-sh.sh.scope", APP_KIND_SNAP,
	       "snap:test-snapd-sh.sh");
	CHECK_STR(id.unit, "snap.test-snapd-sh.sh.scope");
	expect("/system.slice/snap.lxd.daemon.service", APP_KIND_SNAP,
	       "snap:lxd.daemon");
	/* snapd itself is an ordinary service. */
	expect("/system.slice/snapd.service", APP_KIND_SYSTEM,
	       "system:snapd.service");
}

static void
test_run_scopes(void)
{
	/* systemd-run --user --scope curl ...: a generated name, so the exe
	 * joins the key. */
	CHECK_INT(identify(USER1000 "/app.slice/run-u123.scope",
	                   "/usr/bin/curl",
	                   ARGV("curl\0-s\0https://a.test/\0")),
	          0);
	CHECK_INT(id.kind, APP_KIND_USER);
	CHECK_STR(id.key, "user:1000:run:/usr/bin/curl");
	CHECK_STR(id.unit, "run-u123.scope");
	CHECK(id.joins_exe);
	CHECK_INT(identify("/system.slice/"
	                   "run-r5b1c6f0b8e6a4d2f9a3c7e1d0b2a4c6e.scope",
	                   "/usr/bin/dig", ARGV("dig\0a.test\0")),
	          0);
	CHECK_STR(id.key, "system:run:/usr/bin/dig");
	CHECK_INT(identify(USER1000 "/app.slice/run-p4321-i4322.scope",
	                   "/usr/bin/curl", ARGV("curl\0")),
	          0);
	CHECK_STR(id.key, "user:1000:run:/usr/bin/curl");
	expect(USER1000 "/app.slice/run-u123.scope", APP_KIND_USER,
	       "user:1000:run");
	/* --unit=NAME is a name of one's own. */
	CHECK_INT(identify(USER1000 "/app.slice/backup.scope", "/usr/bin/rsync",
	                   ARGV("rsync\0")),
	          0);
	CHECK_STR(id.key, "user:1000:backup.scope");
	CHECK(!id.joins_exe);
	/* Not generated names: run-x, run-ufoo. */
	expect("/system.slice/run-ufoo.service", APP_KIND_SYSTEM,
	       "system:run-ufoo.service");
	/* tmux 3.2's panes. */
	CHECK_INT(identify(USER1000 "/tmux-spawn-" UUID ".scope",
	                   "/usr/bin/curl", ARGV("curl\0")),
	          0);
	CHECK_STR(id.key, "user:1000:tmux-spawn:/usr/bin/curl");
}

static void
test_services(void)
{
	expect(USER1000 "/session.slice/pipewire.service", APP_KIND_USER,
	       "user:1000:pipewire.service");
	CHECK_STR(id.slice, "session.slice");
	expect(USER1000 "/app.slice/xdg-desktop-portal.service", APP_KIND_USER,
	       "user:1000:xdg-desktop-portal.service");
	expect("/system.slice/ssh.service", APP_KIND_SYSTEM,
	       "system:ssh.service");
	CHECK_INT(id.cgroup_uid, APP_IDENTITY_UID_UNKNOWN);
	expect("/system.slice/sshd.service", APP_KIND_SYSTEM,
	       "system:sshd.service");
	expect("/system.slice/systemd-resolved.service", APP_KIND_SYSTEM,
	       "system:systemd-resolved.service");
	/* Template instances keep their instance... */
	expect("/system.slice/system-getty.slice/getty@tty1.service",
	       APP_KIND_SYSTEM, "system:getty@tty1.service");
	CHECK_STR(id.unit, "getty@tty1.service");
	CHECK_STR(id.unit_template, "getty@.service");
	CHECK_STR(id.slice, "system-getty.slice");
	expect("/system.slice/system-wg\\x2dquick.slice/wg-quick@wg0.service",
	       APP_KIND_SYSTEM, "system:wg-quick@wg0.service");
	expect(
	    "/system.slice/system-systemd\\x2dfsck.slice/"
	    "systemd-fsck@dev-disk-by\\x2duuid-4f2a\\x2d9c1e.service",
	    APP_KIND_SYSTEM,
	    "system:systemd-fsck@dev-disk-by\\x2duuid-4f2a\\x2d9c1e.service");
	CHECK_STR(id.unit_template, "systemd-fsck@.service");
	/* ...but not one numbered per connection (Accept=yes). */
	expect("/system.slice/system-sshd.slice/"
	       "sshd@3-192.0.2.1:22-198.51.100.7:50022.service",
	       APP_KIND_SYSTEM, "system:sshd@.service");
	CHECK_STR(id.unit, "sshd@3-192.0.2.1:22-198.51.100.7:50022.service");
	expect("/system.slice/system-systemd\\x2dcoredump.slice/"
	       "systemd-coredump@0-1234-0.service",
	       APP_KIND_SYSTEM, "system:systemd-coredump@.service");

	/* A cgroup a service made for itself (Delegate=yes) is the service. */
	expect("/system.slice/buildkitd.service/worker-7", APP_KIND_SYSTEM,
	       "system:buildkitd.service");
	expect("/system.slice/docker.service", APP_KIND_SYSTEM,
	       "system:docker.service");
	expect("/init.scope", APP_KIND_SYSTEM, "system:init.scope");

	/* The user manager itself. */
	expect(USER1000 "/init.scope", APP_KIND_USER_MANAGER,
	       "system:user@1000.service");
	CHECK_STR(id.unit, "user@1000.service");
	CHECK_STR(id.unit_exact, "init.scope");
	CHECK_STR(id.unit_template, "user@.service");
	expect(USER1000, APP_KIND_USER_MANAGER, "system:user@1000.service");
	/* A user service named init.scope deeper down is not it. */
	expect(USER1000 "/app.slice/init.scope", APP_KIND_USER,
	       "user:1000:init.scope");

	/* dbus-broker's activations: the connection and counter change. */
	expect(USER1000
	       "/app.slice/dbus-:1.2-org.gnome.OnlineAccounts@0.service",
	       APP_KIND_USER, "user:1000:dbus:org.gnome.OnlineAccounts");
	CHECK_STR(id.app_id, "org.gnome.OnlineAccounts");
	CHECK_STR(id.launcher, "dbus");
	expect(USER1000
	       "/app.slice/dbus-:1.14-org.gnome.OnlineAccounts@3.service",
	       APP_KIND_USER, "user:1000:dbus:org.gnome.OnlineAccounts");
}

static void
test_containers(void)
{
	expect("/system.slice/docker-" HEX64 ".scope", APP_KIND_CONTAINER,
	       "docker:4f2a9c1e8b7d");
	CHECK_STR(id.container_engine, "docker");
	CHECK_STR(id.container_id, HEX64);
	CHECK(!id.container_monitor);
	/* systemd inside the container: its innermost unit, the container
	 * noted. */
	expect("/system.slice/docker-" HEX64
	       ".scope/system.slice/nginx.service",
	       APP_KIND_SYSTEM, "docker:4f2a9c1e8b7d:system:nginx.service");
	CHECK_STR(id.unit, "nginx.service");
	CHECK_STR(id.container_id, HEX64);
	expect("/system.slice/docker-" HEX64 ".scope/init.scope",
	       APP_KIND_SYSTEM, "docker:4f2a9c1e8b7d:system:init.scope");
	/* The cgroupfs driver. */
	expect("/docker/" HEX64, APP_KIND_CONTAINER, "docker:4f2a9c1e8b7d");
	/* A directory named docker is not a container by itself. */
	expect("/docker/other", APP_KIND_UNKNOWN, "cgroup:/docker/other");

	expect("/machine.slice/libpod-" HEX64 ".scope/container",
	       APP_KIND_CONTAINER, "podman:4f2a9c1e8b7d");
	CHECK_STR(id.container_engine, "podman");
	expect("/machine.slice/libpod-conmon-" HEX64 ".scope",
	       APP_KIND_CONTAINER, "podman:4f2a9c1e8b7d:monitor");
	CHECK(id.container_monitor);
	/* Rootless: the user's manager holds it. */
	expect(USER1000 "/user.slice/libpod-" HEX64 ".scope",
	       APP_KIND_CONTAINER, "user:1000:podman:4f2a9c1e8b7d");
	CHECK_INT(id.cgroup_uid, 1000);
	CHECK(id.user_named);
	/* A user cannot pass for root's container, nor for another user,
	 * by names nested in its own manager. */
	expect(USER1000 "/app.slice/docker-" HEX64 ".scope",
	       APP_KIND_CONTAINER, "user:1000:docker:4f2a9c1e8b7d");
	expect(USER1000 "/app.slice/user-0.slice/x.scope", APP_KIND_USER,
	       "user:1000:x.scope");
	CHECK_INT(id.cgroup_uid, 1000);
	expect(USER1000 "/app.slice/user@0.service/app.slice/y.service",
	       APP_KIND_USER, "user:1000:y.service");
	CHECK_INT(id.cgroup_uid, 1000);
	expect("/system.slice/ssh.service", APP_KIND_SYSTEM,
	       "system:ssh.service");
	CHECK(!id.user_named);
	/* A libpod scope whose id is no container id. */
	expect("/machine.slice/libpod-1234.scope", APP_KIND_SYSTEM,
	       "system:libpod-1234.scope");

	expect("/machine.slice/machine-foo.scope/system.slice/nginx.service",
	       APP_KIND_SYSTEM, "machine:foo:system:nginx.service");
	CHECK_STR(id.container_engine, "machine");
	CHECK_STR(id.container_id, "foo");
	expect("/machine.slice/machine-my\\x2dbox.scope", APP_KIND_CONTAINER,
	       "machine:my-box");
	CHECK_STR(id.container_id, "my-box");
	expect("/machine.slice/systemd-nspawn@debian.service/payload/"
	       "system.slice/systemd-resolved.service",
	       APP_KIND_SYSTEM,
	       "machine:debian:system:systemd-resolved.service");
	CHECK_INT(identify("/machine.slice/machine-foo.scope/user.slice/"
	                   "user-1000.slice/session-3.scope",
	                   "/usr/bin/curl", ARGV("curl\0")),
	          0);
	CHECK_STR(id.key, "machine:foo:session:1000:/usr/bin/curl");
	expect("/machine.slice/machine-foo.scope/user.slice/user-1000.slice/"
	       "user@1000.service/app.slice/app-flatpak-org.mozilla.firefox-5."
	       "scope",
	       APP_KIND_FLATPAK, "machine:foo:flatpak:org.mozilla.firefox");
	/* libvirt's qemu-N-NAME: N counts the domain's starts. */
	expect(
	    "/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope/libvirt/emulator",
	    APP_KIND_CONTAINER, "libvirt:vm1");
	expect("/machine.slice/machine-qemu\\x2d7\\x2dvm1.scope",
	       APP_KIND_CONTAINER, "libvirt:vm1");

	expect("/lxc.payload.web1/system.slice/nginx.service", APP_KIND_SYSTEM,
	       "lxc:web1:system:nginx.service");
	expect("/lxc.monitor.web1", APP_KIND_CONTAINER, "lxc:web1:monitor");

	expect("/kubepods.slice/kubepods-besteffort.slice/"
	       "kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8a9b_0c1d2e3f4a5b."
	       "slice/cri-containerd-" HEX64 ".scope",
	       APP_KIND_CONTAINER, "containerd:4f2a9c1e8b7d");
	expect("/kubepods.slice/kubepods-burstable.slice/crio-" HEX64 ".scope",
	       APP_KIND_CONTAINER, "cri-o:4f2a9c1e8b7d");
	expect("/kubepods.slice/kubepods-burstable.slice/crio-conmon-" HEX64
	       ".scope",
	       APP_KIND_CONTAINER, "cri-o:4f2a9c1e8b7d:monitor");
}

static void
test_sessions_root_unknown(void)
{
	CHECK_INT(identify("/user.slice/user-1000.slice/session-2.scope",
	                   "/usr/bin/curl", ARGV("curl\0https://a.test/\0")),
	          0);
	CHECK_INT(id.kind, APP_KIND_SESSION);
	CHECK_STR(id.key, "session:1000:/usr/bin/curl");
	CHECK_STR(id.session, "2");
	CHECK_INT(id.cgroup_uid, 1000);
	CHECK_INT(id.pid, 4242);
	CHECK_INT(id.uid, 1000);
	CHECK(id.joins_exe);
	/* Another login of the same user, the same program: the same key. */
	CHECK_INT(identify("/user.slice/user-1000.slice/session-17.scope",
	                   "/usr/bin/curl", ARGV("curl\0")),
	          0);
	CHECK_STR(id.key, "session:1000:/usr/bin/curl");
	expect("/user.slice/user-1000.slice/session-2.scope", APP_KIND_SESSION,
	       "session:1000");
	/* GDM's greeter. */
	expect("/user.slice/user-120.slice/session-c1.scope", APP_KIND_SESSION,
	       "session:120");
	CHECK_STR(id.session, "c1");
	/* No user slice: the socket's uid. */
	CHECK_INT(identify("/session-5.scope", "/usr/bin/ssh", ARGV("ssh\0")),
	          0);
	CHECK_STR(id.key, "session:1000:/usr/bin/ssh");
	expect("/session-5.scope", APP_KIND_SESSION, "session:?");

	expect("/", APP_KIND_ROOT, "root");
	CHECK_INT(identify("/", "/usr/sbin/chronyd", ARGV("chronyd\0")), 0);
	CHECK_STR(id.key, "root:/usr/sbin/chronyd");

	expect("?", APP_KIND_UNKNOWN, "?");
	CHECK_INT(identify(NULL, NULL, NULL, 0), 0);
	CHECK_STR(id.key, "?");
	CHECK_STR(id.cgroup, "?");
	/* Hand-made cgroups (the end-to-end tests' own) are their path. */
	expect("/dnsgate-e2e-2150/app-a", APP_KIND_UNKNOWN,
	       "cgroup:/dnsgate-e2e-2150/app-a");
	expect("/user.slice/mine", APP_KIND_UNKNOWN, "cgroup:/user.slice/mine");
	/* A name systemd would never write is no unit, and its space is
	 * escaped. */
	expect("/system.slice/evil x.service", APP_KIND_UNKNOWN,
	       "cgroup:/system.slice/evil\\x20x.service");
	expect("/a\"b\\c", APP_KIND_UNKNOWN, "cgroup:/a\\x22b\\x5cc");

	expect("/system.slice", APP_KIND_SLICE, "system:system.slice");
	expect("/user.slice/user-1000.slice", APP_KIND_SLICE,
	       "system:user-1000.slice");
	CHECK_INT(id.cgroup_uid, 1000);
	expect(USER1000 "/app.slice", APP_KIND_SLICE, "user:1000:app.slice");

	/* Any prefix: a delegated subtree, a manager nested in a cgroup. */
	expect("/dnsgate-test/nested" USER1000
	       "/app.slice/app-flatpak-org.mozilla.firefox-99.scope",
	       APP_KIND_FLATPAK, "flatpak:org.mozilla.firefox");
	expect("//system.slice//sshd.service/", APP_KIND_SYSTEM,
	       "system:sshd.service");
}

static void
test_unescape(void)
{
	char out[64];

	CHECK_INT(app_unit_unescape("google\\x2dchrome", 16, out, sizeof out),
	          13);
	CHECK_STR(out, "google-chrome");
	/* Only to a character an id may hold. */
	app_unit_unescape("a\\x20b\\x2fc\\x3ad\\x00e", 21, out, sizeof out);
	CHECK_STR(out, "a\\x20b\\x2fc\\x3ad\\x00e");
	app_unit_unescape("\\x41\\x7e\\x5f", 12, out, sizeof out);
	CHECK_STR(out, "A~_");
	/* Broken escapes stay as written. */
	app_unit_unescape("x\\x2", 4, out, sizeof out);
	CHECK_STR(out, "x\\x2");
	app_unit_unescape("x\\xZZ\\", 6, out, sizeof out);
	CHECK_STR(out, "x\\xZZ\\");
	/* Cut to fit. */
	CHECK_INT(app_unit_unescape("abcdef", 6, out, 4), 3);
	CHECK_STR(out, "abc");

	/* An app id with an escaped space keeps it escaped in the key. */
	expect(USER1000 "/app.slice/app-gnome-my\\x20app-12.scope",
	       APP_KIND_DESKTOP, "app:my\\x20app");
}

/* The script exe runs, per argv. */
static void
expect_script(const char *exe, const char *argv, size_t argv_len,
              enum app_script_kind kind, const char *script,
              const char *interpreter)
{
	char interp[8], buf[APP_IDENTITY_SCRIPT_MAX];
	enum app_script_kind k;

	CHECK_INT(app_identity_script(exe, argv, argv_len, interp,
	                              sizeof interp, buf, sizeof buf, &k),
	          0);
	CHECK_INT(k, kind);
	CHECK_STR(buf, script);
	CHECK_STR(interp, interpreter);
}

static void
test_interpreters(void)
{
	const char *py = "/usr/bin/python3.11";
	const char *java = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";

	/* A #!/usr/bin/env python3 script: the kernel passes its path. */
	expect_script(py, ARGV("python3\0/home/u/bin/tool.py\0--all\0"),
	              APP_SCRIPT_FILE, "/home/u/bin/tool.py", "python");
	expect_script(py, ARGV("/usr/bin/python3\0-u\0-X\0dev\0tool.py\0"),
	              APP_SCRIPT_FILE, "tool.py", "python");
	expect_script(py, ARGV("python3\0-Wignore\0-uB\0x.py"), APP_SCRIPT_FILE,
	              "x.py", "python");
	expect_script(py, ARGV("python3\0-W\0ignore\0x.py\0"), APP_SCRIPT_FILE,
	              "x.py", "python");
	expect_script(py,
	              ARGV("python3\0-m\0http.server\0"
	                   "8000\0"),
	              APP_SCRIPT_MODULE, "http.server", "python");
	expect_script(py, ARGV("python3\0-Im\0pip\0install\0"),
	              APP_SCRIPT_MODULE, "pip", "python");
	expect_script(py, ARGV("python3\0-mhttp.server\0"), APP_SCRIPT_MODULE,
	              "http.server", "python");
	expect_script(py, ARGV("python3\0--\0x.py\0"), APP_SCRIPT_FILE, "x.py",
	              "python");
	expect_script(py, ARGV("python3\0-c\0import x\0"), APP_SCRIPT_NONE, "",
	              "python");
	expect_script(py, ARGV("python3\0-uc\0import x\0"), APP_SCRIPT_NONE, "",
	              "python");
	expect_script(py, ARGV("python3\0"), APP_SCRIPT_NONE, "", "python");
	expect_script(py, ARGV("python3\0-\0"), APP_SCRIPT_NONE, "", "python");
	expect_script("/usr/bin/python3.11 (deleted)", ARGV("python3\0a.py\0"),
	              APP_SCRIPT_FILE, "a.py", "python");
	expect_script("/usr/bin/python2.7", ARGV("python\0a.py\0"),
	              APP_SCRIPT_FILE, "a.py", "python");
	expect_script("/usr/bin/python3-config", ARGV("python3-config\0a\0"),
	              APP_SCRIPT_NONE, "", "");

	expect_script("/usr/bin/node",
	              ARGV("node\0--require\0./hook.js\0server.js\0"),
	              APP_SCRIPT_FILE, "server.js", "node");
	expect_script("/usr/bin/nodejs",
	              ARGV("nodejs\0--inspect=9229\0/srv/app/index.js\0"),
	              APP_SCRIPT_FILE, "/srv/app/index.js", "node");
	expect_script("/usr/bin/node", ARGV("node\0-e\0fetch(1)\0"),
	              APP_SCRIPT_NONE, "", "node");

	expect_script(java, ARGV("java\0-Xmx512m\0-jar\0/opt/app/app.jar\0"),
	              APP_SCRIPT_FILE, "/opt/app/app.jar", "java");
	expect_script(java, ARGV("java\0-cp\0lib/*\0com.example.Main\0-v\0"),
	              APP_SCRIPT_CLASS, "com.example.Main", "java");
	expect_script(
	    java, ARGV("java\0@opts\0-m\0com.example/com.example.Main"),
	    APP_SCRIPT_MODULE, "com.example/com.example.Main", "java");
	expect_script(java, ARGV("java\0-version\0"), APP_SCRIPT_NONE, "",
	              "java");

	expect_script("/usr/bin/dash",
	              ARGV("/bin/sh\0/usr/local/bin/backup.sh\0"),
	              APP_SCRIPT_FILE, "/usr/local/bin/backup.sh", "sh");
	expect_script("/usr/bin/bash", ARGV("bash\0-o\0pipefail\0-e\0x.sh\0"),
	              APP_SCRIPT_FILE, "x.sh", "sh");
	expect_script("/usr/bin/bash", ARGV("bash\0--rcfile\0rc\0x.sh\0"),
	              APP_SCRIPT_FILE, "x.sh", "sh");
	expect_script("/usr/bin/bash", ARGV("bash\0-c\0curl a.test\0"),
	              APP_SCRIPT_NONE, "", "sh");
	expect_script("/usr/bin/bash", ARGV("bash\0-ec\0curl a.test\0"),
	              APP_SCRIPT_NONE, "", "sh");
	expect_script("/usr/bin/bash", ARGV("-bash\0"), APP_SCRIPT_NONE, "",
	              "sh");
	expect_script("/usr/bin/zsh", ARGV("zsh\0sync.zsh\0"), APP_SCRIPT_FILE,
	              "sync.zsh", "sh");
	/* busybox: argv[0] names the tool. */
	expect_script("/bin/busybox", ARGV("sh\0/etc/init.d/foo\0start\0"),
	              APP_SCRIPT_FILE, "/etc/init.d/foo", "sh");
	expect_script("/bin/busybox", ARGV("wget\0http://a.test/\0"),
	              APP_SCRIPT_NONE, "", "");

	expect_script("/usr/bin/curl", ARGV("curl\0https://a.test/\0"),
	              APP_SCRIPT_NONE, "", "");
	expect_script(NULL, NULL, 0, APP_SCRIPT_NONE, "", "");
	expect_script(py, NULL, 0, APP_SCRIPT_NONE, "", "");
}

static void
test_scripts_in_keys(void)
{
	/* In a login or a terminal the script names the process, not the
	 * interpreter (which a Python upgrade renames). */
	CHECK_INT(identify("/user.slice/user-1000.slice/session-2.scope",
	                   "/usr/bin/python3.11",
	                   ARGV("python3\0/home/u/bin/sync.py\0")),
	          0);
	CHECK_STR(id.key, "session:1000:/home/u/bin/sync.py");
	CHECK_STR(id.exe, "/usr/bin/python3.11");
	CHECK_STR(id.script, "/home/u/bin/sync.py");
	CHECK_INT(id.script_kind, APP_SCRIPT_FILE);
	CHECK_STR(id.interpreter, "python");
	CHECK_INT(identify("/user.slice/user-1000.slice/session-2.scope",
	                   "/usr/bin/python3.12",
	                   ARGV("python3\0-m\0http.server\0")),
	          0);
	CHECK_STR(id.key, "session:1000:python:-m:http.server");
	CHECK_INT(identify(USER1000 "/app.slice/app-org.kde.konsole-1234.scope",
	                   "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
	                   ARGV("java\0-cp\0.\0Fetch\0")),
	          0);
	CHECK_STR(id.key, "app:org.kde.konsole:java:Fetch");
	CHECK_INT(identify("/user.slice/user-1000.slice/session-2.scope",
	                   "/usr/bin/bash", ARGV("bash\0-c\0curl a.test\0")),
	          0);
	CHECK_STR(id.key, "session:1000:/usr/bin/bash");
	/* A service's key is its unit; the script is still a field. */
	CHECK_INT(identify("/system.slice/certbot.service",
	                   "/usr/bin/python3.11",
	                   ARGV("/usr/bin/python3\0/usr/bin/certbot\0-q\0")),
	          0);
	CHECK_STR(id.key, "system:certbot.service");
	CHECK_STR(id.script, "/usr/bin/certbot");
	/* A script path with a space. */
	CHECK_INT(identify("/user.slice/user-1000.slice/session-2.scope",
	                   "/usr/bin/bash", ARGV("bash\0/home/u/my job.sh\0")),
	          0);
	CHECK_STR(id.key, "session:1000:/home/u/my\\x20job.sh");
}

static void
test_deleted_exe(void)
{
	CHECK_INT(identify("/user.slice/user-1000.slice/session-2.scope",
	                   "/usr/bin/curl (deleted)", ARGV("curl\0")),
	          0);
	CHECK_STR(id.exe, "/usr/bin/curl");
	CHECK(id.exe_deleted);
	/* Replaced by an upgrade, still the same app. */
	CHECK_STR(id.key, "session:1000:/usr/bin/curl");
	CHECK_INT(identify("/user.slice/user-1000.slice/session-2.scope",
	                   "/usr/bin/curl", ARGV("curl\0")),
	          0);
	CHECK(!id.exe_deleted);
	CHECK_INT(identify("/system.slice/ssh.service",
	                   "/usr/sbin/sshd (deleted)",
	                   ARGV("sshd: u [priv]\0")),
	          0);
	CHECK_STR(id.exe, "/usr/sbin/sshd");
	CHECK(id.exe_deleted);
	CHECK_STR(id.key, "system:ssh.service");
	CHECK_INT(identify("/user.slice/user-1000.slice/session-2.scope",
	                   "/opt/My App/app", ARGV("app\0")),
	          0);
	CHECK_STR(id.key, "session:1000:/opt/My\\x20App/app");
	CHECK_STR(id.exe, "/opt/My App/app");
}

static void
test_too_long(void)
{
	static char exe[2100], path[700], argv[1500];
	struct app_identity_source src = {0};
	char err[256];

	/* An exe that cannot join the key: the key as if it were unknown. */
	memset(exe, 'a', sizeof exe - 1);
	exe[0] = '/';
	src.cgroup_path = "/user.slice/user-1000.slice/session-2.scope";
	src.exe = exe;
	src.uid = 1000;
	CHECK_INT(app_identity_from(&src, &id, err, sizeof err), -ENAMETOOLONG);
	CHECK_STR(id.key, "session:1000");
	CHECK(strstr(err, "does not fit") != NULL);
	CHECK_INT(strlen(id.exe), sizeof exe - 1);

	/* A hand-made path that does not fit even alone. */
	memset(path, ' ', sizeof path - 1);
	path[0] = '/';
	src.cgroup_path = path;
	src.exe = NULL;
	CHECK_INT(app_identity_from(&src, &id, err, sizeof err), -ENAMETOOLONG);
	CHECK_STR(id.key, "?");
	CHECK_INT(strlen(id.cgroup), sizeof id.cgroup - 1);

	/* A script longer than its field. */
	memcpy(argv, "sh", 3);
	memset(argv + 3, 'x', sizeof argv - 4);
	src.cgroup_path = "/system.slice/x.service";
	src.exe = "/bin/sh";
	src.argv = argv;
	src.argv_len = sizeof argv;
	CHECK_INT(app_identity_from(&src, &id, err, sizeof err), -ENAMETOOLONG);
	CHECK_INT(strlen(id.script), sizeof id.script - 1);
	CHECK_STR(id.key, "system:x.service");
}

/* Every row of the table in README.md, "Who the app is". */
static void
test_readme_table(void)
{
	static const struct {
		const char *cgroup, *exe, *argv;
		size_t argv_len;
		const char *key;
	} rows[] = {
	    {USER1000 "/app.slice/app-flatpak-org.mozilla.firefox-12345.scope",
	     NULL, NULL, 0, "flatpak:org.mozilla.firefox"},
	    {USER1000 "/app.slice/app-gnome-org.gnome.Nautilus-3141.scope",
	     NULL, NULL, 0, "app:org.gnome.Nautilus"},
	    {USER1000 "/app.slice/app-gnome-firefox\\x2desr-4521.scope", NULL,
	     NULL, 0, "app:firefox-esr"},
	    {USER1000 "/app.slice/app-org.kde.dolphin@0a1b2c3d4e5f.service",
	     NULL, NULL, 0, "app:org.kde.dolphin"},
	    {USER1000 "/app.slice/app-gnome\\x2dkeyring\\x2dpkcs11@"
	              "autostart.service",
	     NULL, NULL, 0, "app:gnome-keyring-pkcs11"},
	    {USER1000 "/app.slice/snap.firefox.firefox-" UUID ".scope", NULL,
	     NULL, 0, "snap:firefox"},
	    {"/system.slice/snap.lxd.daemon.service", NULL, NULL, 0,
	     "snap:lxd.daemon"},
	    {USER1000 "/session.slice/pipewire.service", NULL, NULL, 0,
	     "user:1000:pipewire.service"},
	    {USER1000 "/app.slice/dbus-:1.2-org.gnome.OnlineAccounts@0.service",
	     NULL, NULL, 0, "user:1000:dbus:org.gnome.OnlineAccounts"},
	    {USER1000 "/init.scope", NULL, NULL, 0, "system:user@1000.service"},
	    {"/system.slice/ssh.service", NULL, NULL, 0, "system:ssh.service"},
	    {"/system.slice/system-getty.slice/getty@tty1.service", NULL, NULL,
	     0, "system:getty@tty1.service"},
	    {"/system.slice/system-sshd.slice/"
	     "sshd@3-192.0.2.1:22-198.51.100.7:50022.service",
	     NULL, NULL, 0, "system:sshd@.service"},
	    {"/init.scope", NULL, NULL, 0, "system:init.scope"},
	    {"/user.slice/user-1000.slice/session-2.scope", "/usr/bin/curl",
	     ARGV("curl\0https://example.com/\0"),
	     "session:1000:/usr/bin/curl"},
	    {"/user.slice/user-1000.slice/session-2.scope",
	     "/usr/bin/python3.11", ARGV("python3\0/home/u/bin/sync.py\0"),
	     "session:1000:/home/u/bin/sync.py"},
	    {"/user.slice/user-1000.slice/session-2.scope",
	     "/usr/bin/python3.11", ARGV("python3\0-m\0http.server\0"),
	     "session:1000:python:-m:http.server"},
	    {"/user.slice/user-1000.slice/session-2.scope",
	     "/usr/bin/curl (deleted)", ARGV("curl\0"),
	     "session:1000:/usr/bin/curl"},
	    {"/user.slice/user-1000.slice/session-2.scope", NULL, NULL, 0,
	     "session:1000"},
	    {USER1000 "/app.slice/app-org.gnome.Terminal.slice/vte-spawn-" UUID
	              ".scope",
	     "/usr/bin/curl", ARGV("curl\0"),
	     "app:org.gnome.Terminal:/usr/bin/curl"},
	    {USER1000 "/app.slice/app-org.kde.konsole-1234.scope",
	     "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
	     ARGV("java\0-jar\0/opt/app/app.jar\0"),
	     "app:org.kde.konsole:/opt/app/app.jar"},
	    {USER1000 "/app.slice/run-u123.scope", "/usr/bin/curl",
	     ARGV("curl\0"), "user:1000:run:/usr/bin/curl"},
	    {"/system.slice/docker-" HEX64 ".scope", NULL, NULL, 0,
	     "docker:4f2a9c1e8b7d"},
	    {"/system.slice/docker-" HEX64 ".scope/system.slice/nginx.service",
	     NULL, NULL, 0, "docker:4f2a9c1e8b7d:system:nginx.service"},
	    {"/machine.slice/libpod-" HEX64 ".scope/container", NULL, NULL, 0,
	     "podman:4f2a9c1e8b7d"},
	    {"/machine.slice/libpod-conmon-" HEX64 ".scope", NULL, NULL, 0,
	     "podman:4f2a9c1e8b7d:monitor"},
	    {"/machine.slice/machine-foo.scope/system.slice/nginx.service",
	     NULL, NULL, 0, "machine:foo:system:nginx.service"},
	    {"/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope/libvirt/emulator",
	     NULL, NULL, 0, "libvirt:vm1"},
	    {"/lxc.payload.web1/system.slice/nginx.service", NULL, NULL, 0,
	     "lxc:web1:system:nginx.service"},
	    {"/", "/usr/sbin/chronyd", ARGV("chronyd\0"),
	     "root:/usr/sbin/chronyd"},
	    {"/dnsgate-e2e-2150/app-a", NULL, NULL, 0,
	     "cgroup:/dnsgate-e2e-2150/app-a"},
	    {"?", NULL, NULL, 0, "?"},
	};

	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		CHECK_INT(identify(rows[i].cgroup, rows[i].exe, rows[i].argv,
		                   rows[i].argv_len),
		          0);
		CHECK_STR(id.key, rows[i].key);
		if (strcmp(id.key, rows[i].key) != 0)
			fprintf(stderr, "  row %zu: %s\n", i, rows[i].cgroup);
	}
}

static void
test_kind_names(void)
{
	CHECK_STR(app_kind_name(APP_KIND_FLATPAK), "flatpak");
	CHECK_STR(app_kind_name(APP_KIND_USER_MANAGER), "user-manager");
	CHECK_STR(app_kind_name(APP_KIND_CONTAINER), "container");
	CHECK_STR(app_kind_name((enum app_kind)99), "unknown");
}

int
main(void)
{
	test_gnome();
	test_kde();
	test_flatpak_and_chromium();
	test_snap();
	test_run_scopes();
	test_services();
	test_containers();
	test_sessions_root_unknown();
	test_unescape();
	test_interpreters();
	test_scripts_in_keys();
	test_deleted_exe();
	test_too_long();
	test_readme_table();
	test_kind_names();
	return check_exit();
}
