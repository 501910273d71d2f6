/* app_identity.c - who the app is: the cgroup path read as systemd and the
 * desktop name units, the exe and the script an interpreter runs. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "src/app_identity.h"

/* A piece of a borrowed string: cgroup components and arguments are read
 * in place, never copied to be parsed. */
struct span {
	const char *p;
	size_t n;
};

static struct span
span_of(const char *s)
{
	struct span sp = {s, s ? strlen(s) : 0};

	return sp;
}

static bool
span_eq(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool
span_starts(struct span s, const char *prefix)
{
	size_t n = strlen(prefix);

	return s.n >= n && memcmp(s.p, prefix, n) == 0;
}

static bool
span_ends(struct span s, const char *suffix)
{
	size_t n = strlen(suffix);

	return s.n >= n && memcmp(s.p + s.n - n, suffix, n) == 0;
}

/* s without its first `head` and last `tail` bytes. */
static struct span
span_inner(struct span s, size_t head, size_t tail)
{
	struct span r = {s.p + head, s.n - head - tail};

	return r;
}

static const char *
span_rchr(struct span s, char c)
{
	for (size_t i = s.n; i > 0; i--)
		if (s.p[i - 1] == c)
			return s.p + i - 1;
	return NULL;
}

static const char *
span_chr(struct span s, char c)
{
	return s.n ? memchr(s.p, c, s.n) : NULL;
}

static bool
is_digits(struct span s)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

static bool
is_hex_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool
is_hex(struct span s)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!is_hex_char(s.p[i]))
			return false;
	return true;
}

/* 8-4-4-4-12 hex digits, as snapd, VTE and tmux name their scopes. */
static bool
is_uuid(struct span s)
{
	if (s.n != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s.p[i] != '-' : !is_hex_char(s.p[i]))
			return false;
	}
	return true;
}

/* A decimal uid that fits 32 bits, or -1. */
static int64_t
parse_uid(struct span s)
{
	int64_t v = 0;

	if (!is_digits(s) || s.n > 10)
		return -1;
	for (size_t i = 0; i < s.n; i++)
		v = v * 10 + (s.p[i] - '0');
	return v <= UINT32_MAX ? v : -1;
}

/* Copies s into dst, cut to fit; false when cut. */
static bool
copy_span(char *dst, size_t cap, struct span s)
{
	size_t n = s.n < cap - 1 ? s.n : cap - 1;

	if (n)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
	return n == s.n;
}

/* Copies the concatenation a b c into dst, cut to fit. */
static void
copy_join(char *dst, size_t cap, const char *a, struct span b, const char *c)
{
	snprintf(dst, cap, "%s%.*s%s", a, (int)b.n, b.p, c);
}

/* ---- unit names (systemd.unit(5)) ---- */

static const char *const unit_suffixes[] = {
    ".service", ".scope", ".slice", ".socket", ".mount", ".swap",
};

/* A unit name as systemd writes one: its characters are letters, digits
 * and ":-_.\@", it ends in a unit type that owns processes, and there is
 * a name before that. A cgroup named otherwise was made by hand. */
static bool
is_unit_name(struct span c, const char **suffix)
{
	if (c.n == 0 || c.n >= APP_IDENTITY_NAME_MAX)
		return false;
	for (size_t i = 0; i < c.n; i++) {
		char ch = c.p[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr(":-_.\\@", ch)))
			return false;
	}
	for (size_t i = 0; i < sizeof unit_suffixes / sizeof *unit_suffixes;
	     i++) {
		size_t n = strlen(unit_suffixes[i]);

		if (c.n > n && span_ends(c, unit_suffixes[i])) {
			*suffix = unit_suffixes[i];
			return true;
		}
	}
	return false;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

size_t
app_unit_unescape(const char *in, size_t inlen, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < inlen && o + 1 < outlen;) {
		if (in[i] == '\\' && i + 3 < inlen && in[i + 1] == 'x' &&
		    is_hex_char(in[i + 2]) && is_hex_char(in[i + 3])) {
			char ch = (char)(hex_value(in[i + 2]) * 16 +
			                 hex_value(in[i + 3]));

			if ((ch >= 'a' && ch <= 'z') ||
			    (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') ||
			    (ch != '\0' && strchr("-._+~@,", ch))) {
				out[o++] = ch;
				i += 4;
				continue;
			}
		}
		out[o++] = in[i++];
	}
	out[o] = '\0';
	return o;
}

/* ---- the walk down the cgroup path ---- */

struct walk {
	struct span unit; /* the innermost unit, exact */
	const char *unit_suffix;
	struct span user_manager_unit; /* user@UID.service enclosing it */
	bool unit_is_user_manager;     /* unit is that, or its init.scope */
	bool in_user_manager;          /* units below a user@UID.service */
	int64_t owner_uid; /* the outermost user@UID.service's UID: all
			      below is that user's naming, so no name
			      nested in it (user-0.slice, user@0.service,
			      a container) may change whose it is; -1 */
	int64_t container_owner_uid; /* owner_uid when the innermost
					container was met: a user's own */
	struct span app_slice;         /* the innermost app-*.slice there */
	struct span slice;
	bool container_innermost;
	bool foreign; /* a hand-made cgroup where only units belong */
	bool prev_docker_dir;
};

/* Notes a container found at component c in id. Returns false when c
 * names none. */
static bool
match_container(struct walk *w, struct span c, const char *unit_suffix,
                struct app_identity *id)
{
	static const struct {
		const char *prefix;
		const char *engine;
		bool monitor;
	} hex_scopes[] = {
	    {"libpod-conmon-", "podman", true},
	    {"libpod-", "podman", false},
	    {"docker-", "docker", false},
	    {"cri-containerd-", "containerd", false},
	    {"crio-conmon-", "cri-o", true},
	    {"crio-", "cri-o", false},
	};
	const char *engine = NULL;
	struct span name = {NULL, 0};
	bool monitor = false, escaped = false;

	if (unit_suffix && strcmp(unit_suffix, ".scope") == 0) {
		struct span body = span_inner(c, 0, strlen(".scope"));

		for (size_t i = 0; i < sizeof hex_scopes / sizeof *hex_scopes;
		     i++) {
			size_t n = strlen(hex_scopes[i].prefix);

			if (span_starts(body, hex_scopes[i].prefix) &&
			    body.n == n + 64 &&
			    is_hex(span_inner(body, n, 0))) {
				engine = hex_scopes[i].engine;
				monitor = hex_scopes[i].monitor;
				name = span_inner(body, n, 0);
				break;
			}
		}
		if (!engine && span_starts(body, "machine-") &&
		    body.n > strlen("machine-")) {
			engine = "machine";
			name = span_inner(body, strlen("machine-"), 0);
			escaped = true;
		}
	} else if (unit_suffix && strcmp(unit_suffix, ".service") == 0 &&
	           span_starts(c, "systemd-nspawn@") &&
	           c.n > strlen("systemd-nspawn@.service")) {
		engine = "machine";
		name = span_inner(c, strlen("systemd-nspawn@"),
		                  strlen(".service"));
		escaped = true;
	} else if (!unit_suffix) {
		if (w->prev_docker_dir && c.n == 64 && is_hex(c)) {
			engine = "docker"; /* the cgroupfs driver: /docker/ID */
			name = c;
		} else if (span_starts(c, "lxc.payload.") &&
		           c.n > strlen("lxc.payload.")) {
			engine = "lxc";
			name = span_inner(c, strlen("lxc.payload."), 0);
		} else if (span_starts(c, "lxc.monitor.") &&
		           c.n > strlen("lxc.monitor.")) {
			engine = "lxc";
			monitor = true;
			name = span_inner(c, strlen("lxc.monitor."), 0);
		}
	}
	if (!engine)
		return false;

	snprintf(id->container_engine, sizeof id->container_engine, "%s",
	         engine);
	if (escaped)
		app_unit_unescape(name.p, name.n, id->container_id,
		                  sizeof id->container_id);
	else
		copy_span(id->container_id, sizeof id->container_id, name);
	id->container_monitor = monitor;
	w->container_owner_uid = w->owner_uid;

	/* libvirt names its machines qemu-N-NAME and lxc-N-NAME, N counting
	 * the domain's starts: the name alone is what stays. */
	if (strcmp(engine, "machine") == 0) {
		const char *n = id->container_id;
		const char *dash;

		if (strncmp(n, "qemu-", 5) == 0)
			n += 5;
		else if (strncmp(n, "lxc-", 4) == 0)
			n += 4;
		else
			n = NULL;
		if (n && (dash = strchr(n, '-')) && dash > n &&
		    dash[1] != '\0' &&
		    is_digits((struct span){n, (size_t)(dash - n)})) {
			char domain[APP_IDENTITY_NAME_MAX];

			snprintf(domain, sizeof domain, "%s", dash + 1);
			snprintf(id->container_id, sizeof id->container_id,
			         "%s", domain);
			snprintf(id->container_engine,
			         sizeof id->container_engine, "libvirt");
		}
	}

	/* What is inside is a manager of its own, if any. */
	memset(&w->unit, 0, sizeof w->unit);
	w->unit_suffix = NULL;
	w->unit_is_user_manager = false;
	w->in_user_manager = false;
	memset(&w->app_slice, 0, sizeof w->app_slice);
	memset(&w->slice, 0, sizeof w->slice);
	w->container_innermost = true;
	w->foreign = false;
	return true;
}

static void
walk_component(struct walk *w, struct span c, struct app_identity *id)
{
	const char *suffix = NULL;
	bool unit = is_unit_name(c, &suffix);
	bool docker_dir = !unit && span_eq(c, "docker");

	if (match_container(w, c, unit ? suffix : NULL, id)) {
		w->prev_docker_dir = false;
		return;
	}
	w->prev_docker_dir = docker_dir;
	if (!unit) {
		/* Below a service or a scope: a cgroup the unit made for
		 * itself (Delegate=), still that unit. Below a slice, or with
		 * no unit above: someone's own cgroup, named by its path. */
		if (w->unit.n == 0 ? !w->container_innermost
		                   : strcmp(w->unit_suffix, ".slice") == 0)
			w->foreign = true;
		return;
	}

	w->container_innermost = false;
	w->foreign = false;
	if (span_starts(c, "user@") && span_ends(c, ".service")) {
		int64_t uid = parse_uid(
		    span_inner(c, strlen("user@"), strlen(".service")));

		if (uid >= 0) {
			if (w->owner_uid < 0)
				w->owner_uid = id->cgroup_uid = uid;
			w->user_manager_unit = c;
			w->unit_is_user_manager = true;
			w->in_user_manager = true;
			memset(&w->app_slice, 0, sizeof w->app_slice);
			w->unit = c;
			w->unit_suffix = suffix;
			return;
		}
	}
	/* systemd --user itself runs in user@UID.service/init.scope. */
	w->unit_is_user_manager = w->unit_is_user_manager &&
	                          w->unit.p == w->user_manager_unit.p &&
	                          span_eq(c, "init.scope");
	if (strcmp(suffix, ".slice") == 0) {
		w->slice = c;
		if (span_starts(c, "user-") && span_ends(c, ".slice")) {
			int64_t uid = parse_uid(
			    span_inner(c, strlen("user-"), strlen(".slice")));

			if (uid >= 0 && w->owner_uid < 0)
				id->cgroup_uid = uid;
		}
		if (w->in_user_manager && span_starts(c, "app-"))
			w->app_slice = c;
	}
	w->unit = c;
	w->unit_suffix = suffix;
}

/* ---- naming the innermost unit ---- */

/* Terminals, by desktop application id: what runs in their cgroups is
 * whatever a person typed, so the exe joins their key. Terminals that put
 * each tab in a vte-spawn-UUID.scope are found by that too. */
static const char *const terminal_app_ids[] = {
    "org.gnome.Terminal",
    "org.gnome.Console",
    "org.gnome.Ptyxis",
    "org.kde.konsole",
    "org.kde.yakuake",
    "org.xfce.terminal",
    "xfce4-terminal",
    "com.gexperts.Tilix",
    "com.mitchellh.ghostty",
    "org.wezfurlong.wezterm",
    "io.elementary.terminal",
    "kitty",
    "Alacritty",
    "foot",
    "footclient",
    "org.codeberg.dnkl.foot",
    "mate-terminal",
    "lxterminal",
    "terminator",
    "guake",
    "tilda",
    "xterm",
    "uxterm",
    "debian-xterm",
    "debian-uxterm",
};

static bool
is_terminal_app(const char *app_id)
{
	for (size_t i = 0;
	     i < sizeof terminal_app_ids / sizeof *terminal_app_ids; i++)
		if (strcmp(app_id, terminal_app_ids[i]) == 0)
			return true;
	return false;
}

/* systemd-run's generated names: run-uN (after its bus connection),
 * run-rHEX32, run-pPID-iN (newer systemd). A name given with --unit= is
 * the unit's own. */
static bool
is_run_generated(struct span unit, const char *suffix)
{
	struct span body;
	const char *dash;

	if (!span_starts(unit, "run-") ||
	    (strcmp(suffix, ".scope") != 0 && strcmp(suffix, ".service") != 0))
		return false;
	body = span_inner(unit, strlen("run-"), strlen(suffix));
	if (body.n < 2)
		return false;
	switch (body.p[0]) {
	case 'u':
		return is_digits(span_inner(body, 1, 0));
	case 'r':
		return body.n == 33 && is_hex(span_inner(body, 1, 0));
	case 'p':
		dash = span_chr(body, '-');
		return dash && dash[1] == 'i' &&
		       is_digits((struct span){body.p + 1,
		                               (size_t)(dash - body.p - 1)}) &&
		       is_digits((struct span){
		           dash + 2, (size_t)(body.p + body.n - dash - 2)});
	}
	return false;
}

/* NAME-spawn-UUID.scope (VTE's tabs, tmux's panes): the length of NAME
 * "-spawn", or 0. */
static size_t
spawn_scope_name(struct span unit, const char *suffix)
{
	struct span body;

	if (strcmp(suffix, ".scope") != 0)
		return 0;
	body = span_inner(unit, 0, strlen(".scope"));
	if (body.n <= 37 + strlen("-spawn") || body.p[body.n - 37] != '-' ||
	    !is_uuid(span_inner(body, body.n - 36, 0)) ||
	    memcmp(body.p + body.n - 37 - strlen("-spawn"), "-spawn",
	           strlen("-spawn")) != 0)
		return 0;
	return body.n - 37;
}

/* A socket's Accept=yes instance: N-LOCAL-REMOTE, numbered per
 * connection ("sshd@3-192.0.2.1:22-198.51.100.7:50022.service"). */
static bool
is_connection_instance(struct span unit, const char *suffix)
{
	const char *at = span_chr(unit, '@');
	size_t i;

	if (!at)
		return false;
	i = (size_t)(at - unit.p) + 1;
	if (i >= unit.n - strlen(suffix) || unit.p[i] < '0' || unit.p[i] > '9')
		return false;
	while (i < unit.n && unit.p[i] >= '0' && unit.p[i] <= '9')
		i++;
	return i < unit.n && unit.p[i] == '-';
}

/* [LAUNCHER-]ID: one raw "-" at most, since the convention escapes the
 * dashes of each part. */
static void
split_launcher(struct span core, struct app_identity *id)
{
	const char *dash = span_chr(core, '-');
	struct span app = core;

	id->launcher[0] = '\0';
	if (dash) {
		app_unit_unescape(core.p, (size_t)(dash - core.p), id->launcher,
		                  sizeof id->launcher);
		app = span_inner(core, (size_t)(dash - core.p) + 1, 0);
	}
	app_unit_unescape(app.p, app.n, id->app_id, sizeof id->app_id);
}

/* app[-LAUNCHER]-ID[@RANDOM].service, app[-LAUNCHER]-ID-RANDOM.scope, and
 * the older app-LAUNCHER-ID-RANDOM.service. Fills app_id, launcher and
 * unit; false when the name is none of those. */
static bool
parse_desktop_unit(struct span unit, const char *suffix,
                   struct app_identity *id)
{
	struct span body, core;
	const char *at, *dash;
	bool template = false;

	if (strcmp(suffix, ".scope") != 0 && strcmp(suffix, ".service") != 0)
		return false;
	body = span_inner(unit, strlen("app-"), strlen(suffix));
	if (body.n == 0)
		return false;
	core = body;
	if (strcmp(suffix, ".scope") == 0) {
		dash = span_rchr(body, '-');
		if (dash)
			core.n = (size_t)(dash - body.p);
	} else if ((at = span_chr(body, '@'))) {
		core.n = (size_t)(at - body.p);
		template = true;
	} else if ((dash = span_rchr(body, '-')) &&
	           is_hex(span_inner(body, (size_t)(dash - body.p) + 1, 0))) {
		core.n = (size_t)(dash - body.p);
	}
	if (core.n == 0 || core.p[core.n - 1] == '-')
		return false;
	split_launcher(core, id);
	if (id->app_id[0] == '\0')
		return false;
	copy_join(id->unit, sizeof id->unit, "app-", core,
	          template ? "@.service" : suffix);
	if (template)
		snprintf(id->unit_template, sizeof id->unit_template, "%s",
		         id->unit);
	return true;
}

/* snap.NAME.APP-UUID.scope, snap.NAME.hook.HOOK-UUID.scope and
 * snap.NAME.APP.service, as snapd names them now, and the older
 * snap.UUID.NAME.APP.scope. Snap and app names hold no dot. */
static bool
parse_snap_unit(struct span unit, const char *suffix, struct app_identity *id)
{
	struct span body;
	const char *dot;

	if (strcmp(suffix, ".scope") != 0 && strcmp(suffix, ".service") != 0)
		return false;
	body = span_inner(unit, strlen("snap."), strlen(suffix));
	if (body.n > 37 && body.p[body.n - 37] == '-' &&
	    is_uuid(span_inner(body, body.n - 36, 0)))
		body.n -= 37;
	else if (body.n > 37 && body.p[36] == '.' &&
	         is_uuid((struct span){body.p, 36}))
		body = span_inner(body, 37, 0);
	dot = span_chr(body, '.');
	if (!dot || dot == body.p || dot == body.p + body.n - 1)
		return false;
	copy_span(id->snap_name, sizeof id->snap_name,
	          (struct span){body.p, (size_t)(dot - body.p)});
	copy_span(id->snap_app, sizeof id->snap_app,
	          span_inner(body, (size_t)(dot - body.p) + 1, 0));
	copy_join(id->unit, sizeof id->unit, "snap.", body, suffix);
	return true;
}

/* dbus-:1.N-NAME@M.service, as dbus-broker starts a D-Bus service that
 * names no systemd unit of its own: ":1.N" is the launcher's connection,
 * new each login, M a counter. */
static bool
parse_dbus_unit(struct span unit, const char *suffix, struct app_identity *id)
{
	struct span body;
	const char *dash, *at;

	if (strcmp(suffix, ".service") != 0)
		return false;
	body = span_inner(unit, strlen("dbus-"), strlen(".service"));
	dash = span_chr(body, '-');
	at = span_rchr(body, '@');
	if (!dash || !at || at < dash + 2)
		return false;
	app_unit_unescape(dash + 1, (size_t)(at - dash - 1), id->app_id,
	                  sizeof id->app_id);
	snprintf(id->launcher, sizeof id->launcher, "dbus");
	return true;
}

static void
classify_unit(const struct walk *w, struct app_identity *id)
{
	struct span u = w->unit;
	const char *suffix = w->unit_suffix;
	const char *at = span_chr(u, '@');

	copy_span(id->unit_exact, sizeof id->unit_exact, u);
	copy_span(id->unit, sizeof id->unit, u);
	if (at && at[1] != '.')
		copy_join(id->unit_template, sizeof id->unit_template, "",
		          (struct span){u.p, (size_t)(at - u.p) + 1}, suffix);
	if (w->slice.n)
		copy_span(id->slice, sizeof id->slice, w->slice);

	if (strcmp(suffix, ".slice") == 0) {
		id->kind = APP_KIND_SLICE;
	} else if (w->unit_is_user_manager) {
		id->kind = APP_KIND_USER_MANAGER;
		copy_span(id->unit, sizeof id->unit, w->user_manager_unit);
		snprintf(id->unit_template, sizeof id->unit_template,
		         "user@.service");
	} else if (!w->in_user_manager && span_starts(u, "session-") &&
	           strcmp(suffix, ".scope") == 0 &&
	           u.n > strlen("session-.scope")) {
		id->kind = APP_KIND_SESSION;
		copy_span(id->session, sizeof id->session,
		          span_inner(u, strlen("session-"), strlen(".scope")));
		id->joins_exe = true;
	} else if (span_starts(u, "app-") &&
	           parse_desktop_unit(u, suffix, id)) {
		id->kind = strcmp(id->launcher, "flatpak") == 0
		               ? APP_KIND_FLATPAK
		               : APP_KIND_DESKTOP;
	} else if (span_starts(u, "snap.") && parse_snap_unit(u, suffix, id)) {
		id->kind = APP_KIND_SNAP;
	} else {
		id->kind = w->in_user_manager ? APP_KIND_USER : APP_KIND_SYSTEM;
		if (span_starts(u, "dbus-:"))
			parse_dbus_unit(u, suffix, id);
		if (is_run_generated(u, suffix) || spawn_scope_name(u, suffix))
			id->joins_exe = true;
		if (w->in_user_manager && w->app_slice.n) {
			struct span core = span_inner(
			    w->app_slice, strlen("app-"), strlen(".slice"));

			if (core.n) {
				split_launcher(core, id);
				if (id->app_id[0])
					id->kind = APP_KIND_DESKTOP;
			}
		}
	}
	if ((id->kind == APP_KIND_DESKTOP || id->kind == APP_KIND_FLATPAK) &&
	    is_terminal_app(id->app_id))
		id->joins_exe = true;
}

/* ---- the key ---- */

struct key_builder {
	char *buf;
	size_t cap, len;
	bool overflow;
};

static void
key_put(struct key_builder *kb, const char *s, size_t n)
{
	if (kb->overflow || kb->len + n >= kb->cap) {
		kb->overflow = true;
		return;
	}
	memcpy(kb->buf + kb->len, s, n);
	kb->len += n;
	kb->buf[kb->len] = '\0';
}

static void
key_puts(struct key_builder *kb, const char *s)
{
	key_put(kb, s, strlen(s));
}

/* A raw string (a path, argv): bytes a log line could not carry bare are
 * written \xNN, as systemd escapes, and so is the backslash itself. */
static void
key_put_escaped(struct key_builder *kb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\') {
			char esc[5];

			snprintf(esc, sizeof esc, "\\x%02x", c);
			key_put(kb, esc, 4);
		} else {
			key_put(kb, s, 1);
		}
	}
}

static void
key_put_uid(struct key_builder *kb, int64_t uid)
{
	char num[24];

	if (uid < 0) {
		key_puts(kb, "?");
		return;
	}
	snprintf(num, sizeof num, "%lld", (long long)uid);
	key_puts(kb, num);
}

/* The unit as a system: or user: key names it. */
static void
key_put_unit(struct key_builder *kb, const struct walk *w,
             const struct app_identity *id)
{
	size_t spawn = spawn_scope_name(w->unit, w->unit_suffix);

	if (is_run_generated(w->unit, w->unit_suffix)) {
		key_puts(kb, "run");
	} else if (spawn) {
		key_put(kb, w->unit.p, spawn);
	} else if (strcmp(id->launcher, "dbus") == 0) {
		key_puts(kb, "dbus:");
		key_puts(kb, id->app_id);
	} else if (is_connection_instance(w->unit, w->unit_suffix)) {
		key_puts(kb, id->unit_template);
	} else {
		key_puts(kb, id->unit);
	}
}

static void
key_put_base(struct key_builder *kb, const struct walk *w,
             const struct app_identity *id)
{
	if (id->container_engine[0] && id->kind != APP_KIND_UNKNOWN) {
		size_t idlen = strlen(id->container_id);
		bool hex = idlen == 64;

		/* A user's own container (rootless podman, or a scope that
		 * only looks like docker's): that user named it. */
		if (w->container_owner_uid >= 0) {
			key_puts(kb, "user:");
			key_put_uid(kb, w->container_owner_uid);
			key_puts(kb, ":");
		}
		key_puts(kb, id->container_engine);
		key_puts(kb, ":");
		/* As docker ps and podman ps show it. */
		key_put(kb, id->container_id, hex ? 12 : idlen);
		if (id->container_monitor)
			key_puts(kb, ":monitor");
		if (id->kind == APP_KIND_CONTAINER)
			return;
		key_puts(kb, ":");
	}
	switch (id->kind) {
	case APP_KIND_UNKNOWN:
		if (strcmp(id->cgroup, "?") == 0) {
			key_puts(kb, "?");
		} else {
			key_puts(kb, "cgroup:");
			key_put_escaped(kb, id->cgroup);
		}
		break;
	case APP_KIND_ROOT:
		key_puts(kb, "root");
		break;
	case APP_KIND_DESKTOP:
		key_puts(kb, "app:");
		key_puts(kb, id->app_id);
		break;
	case APP_KIND_FLATPAK:
		key_puts(kb, "flatpak:");
		key_puts(kb, id->app_id);
		break;
	case APP_KIND_SNAP:
		key_puts(kb, "snap:");
		key_puts(kb, id->snap_name);
		if (strcmp(id->snap_app, id->snap_name) != 0) {
			key_puts(kb, ".");
			key_puts(kb, id->snap_app);
		}
		break;
	case APP_KIND_SYSTEM:
		key_puts(kb, "system:");
		key_put_unit(kb, w, id);
		break;
	case APP_KIND_USER:
		key_puts(kb, "user:");
		key_put_uid(kb, id->cgroup_uid);
		key_puts(kb, ":");
		key_put_unit(kb, w, id);
		break;
	case APP_KIND_SLICE:
		if (w->in_user_manager) {
			key_puts(kb, "user:");
			key_put_uid(kb, id->cgroup_uid);
			key_puts(kb, ":");
		} else {
			key_puts(kb, "system:");
		}
		key_puts(kb, id->unit);
		break;
	case APP_KIND_SESSION:
		key_puts(kb, "session:");
		key_put_uid(kb, id->cgroup_uid >= 0 ? id->cgroup_uid : id->uid);
		break;
	case APP_KIND_USER_MANAGER:
		key_puts(kb, "system:");
		key_puts(kb, id->unit);
		break;
	case APP_KIND_CONTAINER:
		break;
	}
}

/* What joins the key of a shared cgroup: the script, else the exe. */
static void
key_put_process(struct key_builder *kb, const struct app_identity *id)
{
	key_puts(kb, ":");
	switch (id->script_kind) {
	case APP_SCRIPT_FILE:
		key_put_escaped(kb, id->script);
		break;
	case APP_SCRIPT_MODULE:
		key_puts(kb, id->interpreter);
		key_puts(kb, ":-m:");
		key_put_escaped(kb, id->script);
		break;
	case APP_SCRIPT_CLASS:
		key_puts(kb, id->interpreter);
		key_puts(kb, ":");
		key_put_escaped(kb, id->script);
		break;
	case APP_SCRIPT_NONE:
		key_put_escaped(kb, id->exe);
		break;
	}
}

/* ---- the process: exe and script ---- */

static const char deleted_mark[] = " (deleted)";

/* The exe without the kernel's mark; *deleted set when it had it. */
static struct span
exe_path(const char *exe, bool *deleted)
{
	struct span e = span_of(exe);

	*deleted = span_ends(e, deleted_mark) && e.n > strlen(deleted_mark);
	if (*deleted)
		e.n -= strlen(deleted_mark);
	return e;
}

static struct span
base_name(struct span path)
{
	const char *slash = span_rchr(path, '/');

	return slash ? span_inner(path, (size_t)(slash - path.p) + 1, 0) : path;
}

struct arg_iter {
	const char *p, *end;
};

static bool
next_arg(struct arg_iter *it, struct span *arg)
{
	const char *nul;

	if (it->p >= it->end)
		return false;
	nul = memchr(it->p, '\0', (size_t)(it->end - it->p));
	arg->p = it->p;
	arg->n = nul ? (size_t)(nul - it->p) : (size_t)(it->end - it->p);
	it->p = nul ? nul + 1 : it->end;
	return true;
}

static const char *
interpreter_of(struct span name)
{
	static const char *const shells[] = {"sh",  "bash", "dash",
	                                     "zsh", "ksh",  "mksh"};

	if (span_starts(name, "python")) {
		for (size_t i = strlen("python"); i < name.n; i++)
			if (!(name.p[i] == '.' ||
			      (name.p[i] >= '0' && name.p[i] <= '9')))
				return NULL;
		return "python";
	}
	if (span_eq(name, "node") || span_eq(name, "nodejs"))
		return "node";
	if (span_eq(name, "java"))
		return "java";
	for (size_t i = 0; i < sizeof shells / sizeof *shells; i++)
		if (span_eq(name, shells[i]))
			return "sh";
	return NULL;
}

static bool
span_in(struct span s, const char *const *list)
{
	for (; *list; list++)
		if (span_eq(s, *list))
			return true;
	return false;
}

/* Each returns the kind and sets *script to the argument it names. The
 * iterator stands after argv[0]. */

static enum app_script_kind
python_script(struct arg_iter *it, struct span *script)
{
	struct span a;

	while (next_arg(it, &a)) {
		if (span_eq(a, "-"))
			return APP_SCRIPT_NONE; /* its standard input */
		if (span_eq(a, "--"))
			return next_arg(it, script) ? APP_SCRIPT_FILE
			                            : APP_SCRIPT_NONE;
		if (span_starts(a, "--")) {
			if (span_eq(a, "--check-hash-based-pycs"))
				next_arg(it, &a);
			continue;
		}
		if (a.n < 2 || a.p[0] != '-') {
			*script = a;
			return APP_SCRIPT_FILE;
		}
		/* Flags may be grouped (-uB); -W, -X take a value, attached
		 * or next; -c runs a command string; -m names a module. */
		for (size_t i = 1; i < a.n; i++) {
			char f = a.p[i];

			if (f == 'c')
				return APP_SCRIPT_NONE;
			if (f == 'm' || f == 'W' || f == 'X' || f == 'Q') {
				struct span v = span_inner(a, i + 1, 0);

				if (v.n == 0 && !next_arg(it, &v))
					return APP_SCRIPT_NONE;
				if (f != 'm')
					break;
				*script = v;
				return APP_SCRIPT_MODULE;
			}
		}
	}
	return APP_SCRIPT_NONE;
}

static enum app_script_kind
node_script(struct arg_iter *it, struct span *script)
{
	static const char *const command[] = {"-e",      "--eval", "-p",
	                                      "--print", "-pe",    NULL};
	static const char *const valued[] = {"-r",
	                                     "--require",
	                                     "--import",
	                                     "--loader",
	                                     "--experimental-loader",
	                                     "-C",
	                                     "--conditions",
	                                     "--input-type",
	                                     "--title",
	                                     "--env-file",
	                                     NULL};
	struct span a;

	while (next_arg(it, &a)) {
		if (span_eq(a, "-"))
			return APP_SCRIPT_NONE;
		if (span_eq(a, "--"))
			return next_arg(it, script) ? APP_SCRIPT_FILE
			                            : APP_SCRIPT_NONE;
		if (span_in(a, command))
			return APP_SCRIPT_NONE;
		if (span_in(a, valued)) {
			next_arg(it, &a);
			continue;
		}
		if (a.n && a.p[0] == '-')
			continue;
		*script = a;
		return APP_SCRIPT_FILE;
	}
	return APP_SCRIPT_NONE;
}

static enum app_script_kind
java_script(struct arg_iter *it, struct span *script)
{
	static const char *const valued[] = {"-cp",
	                                     "-classpath",
	                                     "--class-path",
	                                     "-p",
	                                     "--module-path",
	                                     "--upgrade-module-path",
	                                     "--add-modules",
	                                     "--add-opens",
	                                     "--add-exports",
	                                     "--add-reads",
	                                     "--limit-modules",
	                                     "--patch-module",
	                                     "--source",
	                                     NULL};
	struct span a;

	while (next_arg(it, &a)) {
		if (span_eq(a, "-jar"))
			return next_arg(it, script) ? APP_SCRIPT_FILE
			                            : APP_SCRIPT_NONE;
		if (span_eq(a, "-m") || span_eq(a, "--module"))
			return next_arg(it, script) ? APP_SCRIPT_MODULE
			                            : APP_SCRIPT_NONE;
		if (span_starts(a, "--module=")) {
			*script = span_inner(a, strlen("--module="), 0);
			return script->n ? APP_SCRIPT_MODULE : APP_SCRIPT_NONE;
		}
		if (span_in(a, valued)) {
			next_arg(it, &a);
			continue;
		}
		if (a.n == 0 || a.p[0] == '-' || a.p[0] == '@')
			continue; /* an option, or an @argfile */
		*script = a;
		return APP_SCRIPT_CLASS;
	}
	return APP_SCRIPT_NONE;
}

static enum app_script_kind
shell_script(struct arg_iter *it, struct span *script)
{
	struct span a;

	while (next_arg(it, &a)) {
		if (span_eq(a, "-") || span_eq(a, "+"))
			return APP_SCRIPT_NONE;
		if (span_eq(a, "--"))
			return next_arg(it, script) ? APP_SCRIPT_FILE
			                            : APP_SCRIPT_NONE;
		if (span_starts(a, "--")) {
			if (span_eq(a, "--rcfile") || span_eq(a, "--init-file"))
				next_arg(it, &a);
			continue;
		}
		if (a.n < 2 || (a.p[0] != '-' && a.p[0] != '+')) {
			*script = a;
			return APP_SCRIPT_FILE;
		}
		/* -c: a command string; -s: standard input; -o and -O name
		 * an option in the next argument. */
		for (size_t i = 1; i < a.n; i++) {
			if (a.p[i] == 'c' || a.p[i] == 's')
				return APP_SCRIPT_NONE;
			if (a.p[i] == 'o' || a.p[i] == 'O') {
				struct span v;

				next_arg(it, &v);
			}
		}
	}
	return APP_SCRIPT_NONE;
}

int
app_identity_script(const char *exe, const char *argv, size_t argv_len,
                    char *interpreter, size_t interpreter_len, char *script,
                    size_t script_len, enum app_script_kind *kind)
{
	struct arg_iter it = {argv, argv ? argv + argv_len : NULL};
	struct span arg0 = {NULL, 0}, name, found = {NULL, 0};
	const char *family;
	bool deleted;

	*kind = APP_SCRIPT_NONE;
	if (interpreter_len)
		interpreter[0] = '\0';
	if (script_len)
		script[0] = '\0';
	if (!exe || !argv || !next_arg(&it, &arg0))
		return 0;
	name = base_name(exe_path(exe, &deleted));
	/* busybox is every tool: argv[0] says which. */
	if (span_eq(name, "busybox"))
		name = base_name(arg0);
	family = interpreter_of(name);
	if (!family)
		return 0;
	snprintf(interpreter, interpreter_len, "%s", family);
	if (strcmp(family, "python") == 0)
		*kind = python_script(&it, &found);
	else if (strcmp(family, "node") == 0)
		*kind = node_script(&it, &found);
	else if (strcmp(family, "java") == 0)
		*kind = java_script(&it, &found);
	else
		*kind = shell_script(&it, &found);
	if (*kind == APP_SCRIPT_NONE)
		return 0;
	if (found.n == 0) {
		*kind = APP_SCRIPT_NONE;
		return 0;
	}
	return copy_span(script, script_len, found) ? 0 : -ENAMETOOLONG;
}

/* ---- the whole ---- */

const char *
app_kind_name(enum app_kind kind)
{
	switch (kind) {
	case APP_KIND_UNKNOWN:
		return "unknown";
	case APP_KIND_ROOT:
		return "root";
	case APP_KIND_DESKTOP:
		return "desktop";
	case APP_KIND_FLATPAK:
		return "flatpak";
	case APP_KIND_SNAP:
		return "snap";
	case APP_KIND_SYSTEM:
		return "system";
	case APP_KIND_USER:
		return "user";
	case APP_KIND_CONTAINER:
		return "container";
	case APP_KIND_SESSION:
		return "session";
	case APP_KIND_USER_MANAGER:
		return "user-manager";
	case APP_KIND_SLICE:
		return "slice";
	}
	return "unknown";
}

static void
identify_cgroup(const char *path, struct walk *w, struct app_identity *id)
{
	const char *p = path;
	bool any = false;

	while (*p) {
		const char *end = strchr(p, '/');
		struct span c = {p, end ? (size_t)(end - p) : strlen(p)};

		if (c.n) {
			walk_component(w, c, id);
			any = true;
		}
		p += c.n + (end ? 1 : 0);
	}
	if (!any)
		id->kind = APP_KIND_ROOT;
	else if (w->foreign)
		id->kind = APP_KIND_UNKNOWN;
	else if (w->container_innermost)
		id->kind = APP_KIND_CONTAINER;
	else if (w->unit.n)
		classify_unit(w, id);
	else
		id->kind = APP_KIND_UNKNOWN;
	if (id->kind == APP_KIND_ROOT)
		id->joins_exe = true;
}

int
app_identity_from(const struct app_identity_source *src,
                  struct app_identity *id, char *err, size_t errlen)
{
	const char *path = src->cgroup_path;
	struct walk w;
	struct key_builder kb = {id->key, sizeof id->key, 0, false};
	struct span exe;
	size_t base_len;
	int rc = 0;

	memset(id, 0, sizeof *id);
	memset(&w, 0, sizeof w);
	w.owner_uid = -1;
	w.container_owner_uid = -1;
	id->cgroup_uid = APP_IDENTITY_UID_UNKNOWN;
	id->pid = src->pid;
	id->uid = src->uid < 0 ? APP_IDENTITY_UID_UNKNOWN : src->uid;
	if (errlen)
		err[0] = '\0';

	if (!path || path[0] == '\0' || strcmp(path, "?") == 0)
		path = "?";
	if (!copy_span(id->cgroup, sizeof id->cgroup, span_of(path))) {
		snprintf(err, errlen, "cgroup path of %zu bytes cut to %zu",
		         strlen(path), sizeof id->cgroup - 1);
		rc = -ENAMETOOLONG;
	}
	if (strcmp(path, "?") == 0)
		id->kind = APP_KIND_UNKNOWN;
	else
		identify_cgroup(path, &w, id);
	id->user_named = w.owner_uid >= 0;

	exe = exe_path(src->exe, &id->exe_deleted);
	if (!copy_span(id->exe, sizeof id->exe, exe)) {
		snprintf(err, errlen, "exe path of %zu bytes cut", exe.n);
		rc = -ENAMETOOLONG;
	}
	if (app_identity_script(src->exe, src->argv, src->argv_len,
	                        id->interpreter, sizeof id->interpreter,
	                        id->script, sizeof id->script,
	                        &id->script_kind) < 0) {
		snprintf(err, errlen, "script name of %s cut to %zu bytes",
		         id->exe, sizeof id->script - 1);
		rc = -ENAMETOOLONG;
	}

	key_put_base(&kb, &w, id);
	if (kb.overflow) {
		snprintf(id->key, sizeof id->key, "?");
		snprintf(err, errlen,
		         "the app key for cgroup %s does not fit %zu bytes",
		         id->cgroup, sizeof id->key);
		return -ENAMETOOLONG;
	}
	base_len = kb.len;
	if (id->joins_exe && (id->exe[0] || id->script_kind)) {
		key_put_process(&kb, id);
		if (kb.overflow) {
			id->key[base_len] = '\0';
			snprintf(err, errlen,
			         "the app key %s with the exe joined does not "
			         "fit %zu bytes: left without it",
			         id->key, sizeof id->key);
			return -ENAMETOOLONG;
		}
	}
	return rc;
}
