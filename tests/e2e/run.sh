#!/bin/sh
# run.sh - dnsgatectl run: two programs started from one terminal (one
# cgroup) are gated apart, each in its own app-dnsgate-NAME-PID.scope
# with the key app:NAME; the command is exec'd (its pid, exit status and
# signals are its own); empty scopes of earlier runs are swept; bad names
# and missing commands are refused as a shell would.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
web.app.test. 300 IN A 198.51.100.40
shared.app.test. 300 IN A 198.51.100.41
tool.app.test. 300 IN A 198.51.100.42
"

e2e_setup
for a in 198.51.100.40 198.51.100.41 198.51.100.42; do
	add_server "$a"
done
start_unbound
start_daemon "listen-port 5453
upstream 192.0.2.2
log-file $E2E_TMP/query.log"
QLOG=$E2E_TMP/query.log

# The terminal: one cgroup that everything below is started from.
TERMINAL=$(new_app terminal)
# dnsgatectl run makes its cgroups here, inside the test's own tree, so
# cleanup removes whatever is left (and the host's tree is not touched).
RUN_ROOT=$CG_ROOT/run
DNSGATE_RUN_CGROUP_ROOT=$RUN_ROOT
export DNSGATE_RUN_CGROUP_ROOT
RUN_REL=/dnsgate-e2e-$$/run

# from_terminal COMMAND...: COMMAND started in the terminal's cgroup, in
# the client namespace; its pid (kept through the execs) in $E2E_TMP/tpid.
from_terminal() { as_app "$TERMINAL" "$E2E_TMP/tpid" "$@"; }

# A program that resolves a name and then connects to its address, as a
# browser or curl does: dig, then tcp_probe, in one process tree.
RESOLVE_AND_CONNECT='"$1" +short +time=2 +tries=1 @192.0.2.2 "$3" A &&
	"$2" "$4" 80 2000'

# 0. Without run: what one program in the terminal resolved, another
# program of the terminal can reach (they share its cgroup's grants).
from_terminal "$DIG" +short +time=2 +tries=1 @192.0.2.2 shared.app.test A \
	>/dev/null
out=$(from_terminal "$TCP_PROBE" 198.51.100.41 80 2000)
check "without run, the terminal's programs share its grants ($out)" \
	[ "$out" = connected ]

# 1. App a, run from the terminal, resolves a name and connects to it.
out=$(from_terminal "$DNSGATECTL" run --app a -- \
	sh -c "$RESOLVE_AND_CONNECT" sh "$DIG" "$TCP_PROBE" \
	web.app.test 198.51.100.40)
A_PID=$(cat "$E2E_TMP/tpid")
check_that "app a resolves web.app.test and connects to it ($out)" \
	'[ "$out" = "198.51.100.40
connected" ]'

# 2. App b, run from the same terminal, connects to that address without
# resolving it: rejected, it is not app a.
out=$(from_terminal "$DNSGATECTL" run --app b -- "$TCP_PROBE" \
	198.51.100.40 80 2000)
check "app b is rejected from app a's address ($out)" rejected "$out"
# Nor does it ride on the terminal's own grants.
out=$(from_terminal "$DNSGATECTL" run --app b -- "$TCP_PROBE" \
	198.51.100.41 80 2000)
check "app b is rejected from the terminal's address ($out)" rejected "$out"

# 3. The query log names app a by its key, and its own scope.
check_that "the query log line says app=app:a" \
	'grep -q "query: app=app:a pid=[0-9]* .*cgroup=$RUN_REL/app-dnsgate-a-$A_PID.scope .*qname=web.app.test " "$QLOG"'

# 4. A name with a dash: escaped in the unit (as systemd-escape writes
# it), whole in the key; --print-key tells the same key in advance.
key=$("$DNSGATECTL" run --print-key --app my-tool.v2_x -- true)
check "--print-key gives app:my-tool.v2_x ($key)" [ "$key" = app:my-tool.v2_x ]
out=$(from_terminal "$DNSGATECTL" run --app my-tool.v2_x -- \
	sh -c 'cat /proc/self/cgroup; "$1" +short +time=2 +tries=1 \
		@192.0.2.2 tool.app.test A' sh "$DIG")
T_PID=$(cat "$E2E_TMP/tpid")
check_that "the dashed name's scope is app-dnsgate-my\\x2dtool.v2_x-PID.scope" \
	'printf "%s\n" "$out" | grep -qxF "0::$RUN_REL/app-dnsgate-my\\x2dtool.v2_x-$T_PID.scope"'
check_that "its query is logged with app=app:my-tool.v2_x" \
	'grep -q "query: app=app:my-tool.v2_x pid=[0-9]* .*qname=tool.app.test " "$QLOG"'
key=$("$DNSGATECTL" run --print-key -- "$TCP_PROBE" 198.51.100.40 80)
check "without --app the name is CMD's ($key)" [ "$key" = app:tcp_probe ]

# 5. No wrapper: CMD is dnsgatectl's own process, with its exit status
# and its signals.
out=$(from_terminal "$DNSGATECTL" run -- sh -c 'echo $$; exit 7')
status=$?
check "run exits with the command's status ($status)" [ "$status" = 7 ]
check "the command has dnsgatectl's pid ($out)" \
	[ "$out" = "$(cat "$E2E_TMP/tpid")" ]
# Not through from_terminal: $! of a backgrounded function is a subshell.
sh -c 'echo $$ >"$1/cgroup.procs" && exec nsenter --net="$2" "$3" run \
	--app sleeper -- sleep 30' sh "$TERMINAL" /run/netns/"$NS_CLIENT" \
	"$DNSGATECTL" &
sleeper=$!
BACKGROUND_PIDS="$BACKGROUND_PIDS $sleeper"
sleep_exe=$(readlink -f "$(command -v sleep)")
within 5 sh -c '[ "$(readlink "/proc/$1/exe")" = "$2" ]' sh "$sleeper" \
	"$sleep_exe"
check_that "the running command is sleep itself, in its scope" \
	'[ "$(readlink /proc/$sleeper/exe)" = "$sleep_exe" ] &&
	grep -qx "0::$RUN_REL/app-dnsgate-sleeper-$sleeper.scope" /proc/$sleeper/cgroup'
kill -TERM "$sleeper"
wait "$sleeper"
status=$?
check "SIGTERM reaches the command (status $status)" [ "$status" = 143 ]

# 6. Refused as a shell would, and nothing made for it.
before=$(ls "$RUN_ROOT" | grep -c '^app-dnsgate-')
out=$(from_terminal "$DNSGATECTL" run -- no-such-command-here 2>&1)
status=$?
check_that "a missing command: 127, 'not found' ($status: $out)" \
	'[ "$status" = 127 ] && [ "$out" = "dnsgatectl run: no-such-command-here: not found" ]'
out=$(from_terminal "$DNSGATECTL" run --app 'a/b' -- true 2>&1)
status=$?
check_that "a name with a /: exit 2 with the reason ($status: $out)" \
	'[ "$status" = 2 ] && printf "%s" "$out" | grep -qF "holds a /"'
out=$(from_terminal "$DNSGATECTL" run --app a true 2>&1)
status=$?
check_that "no --: usage, exit 2 ($status)" \
	'[ "$status" = 2 ] && printf "%s" "$out" | grep -qF "usage: dnsgatectl run"'
after=$(ls "$RUN_ROOT" | grep -c '^app-dnsgate-')
check "the refused runs made no cgroup ($before, $after)" [ "$after" -le "$before" ]

# 7. No leak: the earlier runs' scopes are empty once their commands
# ended, and the next run removes them; it sees only its own.
busy=$(cat "$RUN_ROOT"/app-dnsgate-*/cgroup.procs 2>/dev/null | wc -l)
check "the ended commands' scopes hold no process ($busy)" [ "$busy" = 0 ]
out=$(from_terminal "$DNSGATECTL" run --app last -- sh -c \
	'ls "$1" | grep "^app-dnsgate-"' sh "$RUN_ROOT")
last=$(cat "$E2E_TMP/tpid")
check_that "the next run swept every empty scope: only its own is left ($out)" \
	'[ "$out" = "app-dnsgate-last-$last.scope" ]'

# 8. Not root, no systemd: a clear error, nothing made.
if [ -d /run/systemd/system ]; then
	ok "skipped: systemd runs here, so run would ask systemd-run --user"
else
	out=$(env -u DNSGATE_RUN_CGROUP_ROOT setpriv --reuid=65534 \
		--regid=65534 --clear-groups "$DNSGATECTL" run -- true 2>&1)
	status=$?
	check_that "not root without systemd: exit 1, says what to do ($status: $out)" \
		'[ "$status" = 1 ] && printf "%s" "$out" | grep -qF "run dnsgatectl run as root, or in a systemd user session"'
fi

e2e_finish
