#!/bin/sh
# control.sh - who may use the control socket, and what a hostile local
# user can do to it. Throwaway users and groups (removed on exit): a
# member of control-read-group reads status and is refused a reload, a
# member of control-admin-group reloads, a user in neither is refused by
# the socket file and, with the file opened up by the test, by
# SO_PEERCRED; a client that shuts its write side after a reload still
# gets the reply; a reload that drops the read group shuts its members
# out.
# A read-group user sends a 1 MB line, garbage, and holds 1,000
# connections open, while root and another user are still served, DNS is
# answered, the refusals are logged in a few lines, and the daemon's
# memory stays put.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
good.app.test. 300 IN A 198.51.100.20
"

e2e_setup
for tool in useradd groupadd userdel groupdel setpriv; do
	command -v "$tool" >/dev/null 2>&1 || skip "needs $tool"
done
FLOOD=$top_builddir/tests/helpers/control_flood

# The users: P stays short (names are at most 32 characters).
P=dgc$$
ADMIN_GROUP=${P}adm
READ_GROUP=${P}rd
READER=${P}r
ADMIN=${P}a
OUTSIDER=${P}o
remove_users() {
	for u in "$READER" "$ADMIN" "$OUTSIDER"; do
		userdel "$u" 2>/dev/null
	done
	groupdel "$ADMIN_GROUP" 2>/dev/null
	groupdel "$READ_GROUP" 2>/dev/null
}
trap 'remove_users; cleanup' EXIT
groupadd -r "$ADMIN_GROUP" && groupadd -r "$READ_GROUP" &&
	useradd -r -M -N -g nogroup -G "$READ_GROUP" -s /usr/sbin/nologin \
		"$READER" &&
	useradd -r -M -N -g nogroup -G "$ADMIN_GROUP" -s /usr/sbin/nologin \
		"$ADMIN" &&
	useradd -r -M -N -g nogroup -s /usr/sbin/nologin "$OUTSIDER" ||
	{ echo "cannot create the test's users"; exit 99; }
# as USER COMMAND...: COMMAND as USER, with USER's groups.
as() {
	u=$1
	shift
	setpriv --reuid="$u" --regid=nogroup --init-groups "$@"
}

start_unbound
APP=$(new_app app)
# The socket in a directory the daemon makes; the users may pass
# through E2E_TMP (not list it).
chmod 0711 "$E2E_TMP"
SOCK=$E2E_TMP/run/control.sock
CONF="listen-port 5453
upstream 192.0.2.2
control-socket $SOCK
control-admin-group $ADMIN_GROUP"
start_daemon "$CONF
control-read-group $READ_GROUP"
CTL="$DNSGATECTL -s $SOCK"

# 1. The socket file: root's, the read group's, 0660 (the admin group
# is in its ACL: the admin user below is not in the read group).
check_that "the socket is root:$READ_GROUP 0660 in a 0755 directory" \
	'[ "$(stat -c "%u %G %a" "$SOCK")" = "0 $READ_GROUP 660" ] &&
	 [ "$(stat -c "%a" "$E2E_TMP/run")" = 755 ]'

# 2. Who may do what.
out=$(as "$OUTSIDER" $CTL status 2>&1)
rc=$?
check "a user in neither group is refused by the socket file (exit $rc: $out)" \
	[ "$rc" = 4 ]
check_that "and told why" \
	'printf "%s\n" "$out" | grep -q "permission denied: $SOCK is for root"'
out=$(as "$READER" $CTL status 2>&1)
rc=$?
check_that "a read-group user reads status (exit $rc)" \
	'[ "$rc" = 0 ] && printf "%s\n" "$out" | grep -q "^uptime"'
out=$(as "$READER" $CTL version 2>&1)
check_that "and the versions ($out)" \
	'printf "%s\n" "$out" | grep -q "^dnsgated .*, control protocol 1$"'
out=$(as "$READER" $CTL reload 2>&1)
rc=$?
check "a read-group user is refused a reload (exit $rc: $out)" [ "$rc" = 4 ]
check_that "told which group may" \
	'printf "%s\n" "$out" | grep -qF "dnsgated says: permission denied: reload changes policy: it is for root and the group $ADMIN_GROUP"'
out=$(as "$ADMIN" $CTL reload 2>&1)
rc=$?
check_that "an admin-group user reloads, let in by the ACL (exit $rc: $out)" \
	'[ "$rc" = 0 ] && printf "%s\n" "$out" | grep -q "^reloaded: true"'
# As socat and nc -N do: the request, the write side shut, then the reply
# (a reload's is given later, when the new policy is built).
out=$(as "$ADMIN" "$FLOOD" half-close "$SOCK" '{"command":"reload"}')
check_that "a client that shuts its write side after a reload gets the reply, then is closed ($out)" \
	'printf "%s\n" "$out" | head -n 1 | grep -q "\"reloaded\":true" &&
	 [ "$(printf "%s\n" "$out" | tail -n 1)" = closed ]'
out=$(as "$READER" $CTL rules 2>&1)
check "a read-group user lists the rules (exit $?)" [ $? = 0 ]
out=$(as "$READER" $CTL pause 1m 2>&1)
rc=$?
check_that "and is refused a pause (exit $rc: $out)" \
	'[ "$rc" = 4 ] && printf "%s\n" "$out" | grep -qF "permission denied: pause changes policy"'
out=$(as "$READER" $CTL block --app app:x bad.example 2>&1)
rc=$?
check_that "and a rule (exit $rc: $out)" \
	'[ "$rc" = 4 ] && printf "%s\n" "$out" | grep -qF "permission denied: rules-add changes policy"'
out=$(as "$ADMIN" $CTL pause 1m 2>&1)
rc=$?
check_that "an admin-group user pauses (exit $rc)" \
	'[ "$rc" = 0 ] && $CTL status | grep -q "^paused: true"'
as "$ADMIN" $CTL resume >/dev/null 2>&1
check "and resumes (exit $?)" [ $? = 0 ]
# With the file opened up, the daemon's own check still refuses.
chmod 0666 "$SOCK"
out=$(as "$OUTSIDER" $CTL status 2>&1)
rc=$?
check_that "with the socket 0666, SO_PEERCRED refuses the outsider (exit $rc: $out)" \
	'[ "$rc" = 4 ] && printf "%s\n" "$out" | grep -qF "dnsgated says: permission denied: the control socket is for root, the group $ADMIN_GROUP (changes) and the group $READ_GROUP (read only)"'
out=$(as "$OUTSIDER" "$CONTROL_SEND" "$SOCK" '{"command":"status"}')
check "also to a raw client ($out)" \
	[ "$out" = "{\"error\":\"permission denied: the control socket is for root, the group $ADMIN_GROUP (changes) and the group $READ_GROUP (read only)\"}" ]

# 3. Groups change on a reload: without the read group its members are
# out (the file is the admin group's again), and back after.
write_conf "$CONF" "$DAEMON_CONF" "$SOCK"
out=$($CTL reload 2>&1)
check "root reloads without the read group ($out)" \
	sh -c "printf '%s\n' '$out' | grep -q '^reloaded: true'"
out=$(as "$READER" $CTL status 2>&1)
rc=$?
check "then the read-group user is refused (exit $rc: $out)" [ "$rc" = 4 ]
check_that "the file is root:$ADMIN_GROUP 0660" \
	'[ "$(stat -c "%u %G %a" "$SOCK")" = "0 $ADMIN_GROUP 660" ]'
write_conf "$CONF
control-read-group $READ_GROUP" "$DAEMON_CONF" "$SOCK"
$CTL reload >/dev/null
out=$(as "$READER" $CTL status 2>&1)
check "and let in again by the next reload (exit $?)" \
	sh -c "printf '%s\n' '$out' | grep -q '^uptime'"

# 4. A hostile read-group user.
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status"; }
RSS_BEFORE=$(rss)
out=$(as "$READER" "$FLOOD" line "$SOCK" 1048576)
check_that "a 1 MB line is refused and its connection closed ($out)" \
	'[ "$out" = "{\"error\":\"a request line is longer than 4096 bytes: closing the connection\"}
closed" ]'
out=$(as "$READER" "$FLOOD" garbage "$SOCK")
check "100 lines of garbage get 100 error replies ($out)" \
	[ "$out" = "lines=100 errors=100" ]
# Its requests so far spent its rate's burst: 3 s fill it again, so the
# hellos below count connections, not requests.
sleep 3
mkfifo "$E2E_TMP/hold.in"
as "$READER" "$FLOOD" hold "$SOCK" 1000 <"$E2E_TMP/hold.in" \
	>"$E2E_TMP/hold.out" 2>&1 &
BACKGROUND_PIDS="$BACKGROUND_PIDS $!"
exec 9>"$E2E_TMP/hold.in"
within 60 grep -q '^served=' "$E2E_TMP/hold.out"
out=$(cat "$E2E_TMP/hold.out")
check "of 1,000 connections of one user, 8 are let in ($out)" \
	[ "$out" = "served=8 refused=992" ]
out=$($CTL status 2>&1)
rc=$?
check_that "while they are held, root is served (exit $rc)" \
	'[ "$rc" = 0 ] && printf "%s\n" "$out" | grep -q "^uptime"'
out=$(as "$ADMIN" $CTL status 2>&1)
rc=$?
check_that "and another user (exit $rc)" \
	'[ "$rc" = 0 ] && printf "%s\n" "$out" | grep -q "^uptime"'
out=$(as "$READER" $CTL status 2>&1)
rc=$?
check_that "the hostile user's ninth is refused, said why (exit $rc: $out)" \
	'[ "$rc" = 1 ] && printf "%s\n" "$out" | grep -q "has 8 connections open, the most one user may have"'
out=$(as_app "$APP" "$E2E_TMP/pid" "$DNS_CLIENT" 192.0.2.2 good.app.test A | head -n 1)
check "DNS is answered meanwhile ($out)" [ "$out" = rcode=NOERROR ]
RSS_DURING=$(rss)
echo "# dnsgated VmRSS: ${RSS_BEFORE} kB before, ${RSS_DURING} kB with 8 hostile connections held and 992 refused"
check "its memory grew by less than 8 MB" \
	[ $((RSS_DURING - RSS_BEFORE)) -lt 8192 ]
n=$(grep -c "control socket: refused" "$DAEMON_LOG")
check "the refusals took $n log lines, not 992" [ "$n" -le 6 ]
exec 9>&-
check "once they are closed, the user is served again" \
	within 5 sh -c "setpriv --reuid=$READER --regid=nogroup --init-groups $CTL status >/dev/null 2>&1"
kill -0 "$DAEMON_PID"
check "dnsgated is still running" [ $? = 0 ]

stop_daemon
check "it stops cleanly" [ "$DAEMON_STATUS" = 0 ]
check "its control socket is removed" [ ! -e "$SOCK" ]
e2e_finish
