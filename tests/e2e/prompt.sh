#!/bin/sh
# prompt.sh - ask rules: a query is held while a prompter (dnsgatectl
# prompt) is asked, and the first answer decides; allow once lasts for
# the queries waiting, block forever becomes a rule that is still in
# force after a restart; a prompt nobody answers times out before the
# client's retry and gives the app's default, staying pending; repeats
# of one app and name join one prompt; with no prompter the default
# applies at once.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
once.ask.test. 300 IN A 198.51.100.80
forever.ask.test. 300 IN A 198.51.100.81
slow.ask.test. 300 IN A 198.51.100.82
joined.ask.test. 300 IN A 198.51.100.83
first.ask.test. 300 IN A 198.51.100.84
"

e2e_setup
add_server 198.51.100.80
start_unbound

U=user.slice/user-1000.slice/user@1000.service
# Asker: blocked unless an answer lets it; Second: allowed unless one
# blocks it. Both are asked about everything under ask.test.
ASKER=$(new_app "$U/app.slice/app-flatpak-org.example.Asker-1001.scope")
SECOND=$(new_app "$U/app.slice/app-flatpak-org.example.Second-1002.scope")
mkdir "$E2E_TMP/rules.d"
cat >"$E2E_TMP/rules.d/10-ask.rules" <<EOF
default block flatpak=org.example.Asker
ask flatpak=org.example.Asker domain=ask.test
ask flatpak=org.example.Second domain=ask.test
EOF
CONF="listen-port 5453
upstream 192.0.2.2
rules $E2E_TMP/rules.d
prompt-timeout 2500
log-file $E2E_TMP/query.log"
start_daemon "$CONF"
QLOG=$E2E_TMP/query.log
CTL="$DNSGATECTL -s $CONTROL_SOCKET"

# rcode CGROUP NAME: the rcode dig gets as that app (one try, 5 s, as
# glibc waits before its retry).
rcode() {
	as_app "$1" "$E2E_TMP/pid" "$DIG" +time=5 +tries=1 @192.0.2.2 "$2" A |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}
# prompter NAME ARGS...: dnsgatectl prompt --json in the background,
# its lines in $E2E_TMP/NAME.out; returns once it watches.
prompter() {
	name=$1
	shift
	$CTL prompt --json "$@" >"$E2E_TMP/$name.out" 2>&1 &
	PROMPTER_PID=$!
	BACKGROUND_PIDS="$BACKGROUND_PIDS $PROMPTER_PID"
	within 5 grep -q '"prompts":\[' "$E2E_TMP/$name.out"
}
lines_of() { grep -c -- "$2" "$E2E_TMP/$1.out"; }

# 1. Nobody to ask: the default at once (NXDOMAIN for Asker), and the
# prompt waits, pending, for a prompter to come.
start=$(date +%s%N)
out=$(rcode "$ASKER" first.ask.test)
ms=$((($(date +%s%N) - start) / 1000000))
check_that "with no prompter the app's default applies at once ($out, $ms ms)" \
	'[ "$out" = NXDOMAIN ] && [ "$ms" -lt 2000 ]'
check_that "the log says nobody was there to answer" \
	'grep "qname=first.ask.test" "$QLOG" | grep -q "reason=ask .*nobody is there to answer"'
prompter pending
check_that "a prompter that comes later is shown it, pending" \
	'grep -q "\"name\":\"first.ask.test\".*\"open\":false\|\"open\":false.*\"name\":\"first.ask.test\"" "$E2E_TMP/pending.out"'
kill "$PROMPTER_PID"; wait "$PROMPTER_PID" 2>/dev/null

# 2. Allow once: the held query is answered as allowed and its address
# granted; the next query of the name is asked again (NXDOMAIN without
# a prompter).
prompter once --answer "allow once" --count 1
out=$(rcode "$ASKER" once.ask.test)
check "allow once: the held query is answered ($out)" [ "$out" = NOERROR ]
check_that "the log says the prompt's answer decided" \
	'grep "qname=once.ask.test" "$QLOG" | grep -q "decision=allow reason=answered .*answered at the prompt by uid 0: allow once"'
out=$(connect "$ASKER" 198.51.100.80)
check "the answered name's address is granted to the app ($out)" \
	[ "$out" = connected ]
within 5 sh -c "! kill -0 $PROMPTER_PID 2>/dev/null"
out=$(rcode "$ASKER" once.ask.test)
check "once is once: without a prompter the default again ($out)" \
	[ "$out" = NXDOMAIN ]

# 3. Block forever: a rule in the daemon's own file, in force after a
# restart with nobody to ask.
prompter forever --answer "block forever" --count 1
out=$(rcode "$SECOND" forever.ask.test)
check "block forever: the held query is blocked ($out)" [ "$out" = NXDOMAIN ]
OWNED=$E2E_TMP/rules.d/90-dnsgatectl.rules
check_that "the answer is a rule in $OWNED" \
	'grep -q "^block app=\"\{0,1\}flatpak:org.example.Second\"\{0,1\} name=\"\{0,1\}forever.ask.test\"\{0,1\} .*# answered at a prompt by uid 0" "$OWNED"'
stop_daemon
start_daemon "$CONF"
out=$(rcode "$SECOND" forever.ask.test)
check "after a restart the rule blocks it, nobody asked ($out)" \
	[ "$out" = NXDOMAIN ]
check_that "the log names the kept rule" \
	'grep "qname=forever.ask.test" "$QLOG" | tail -1 | grep -q "reason=rule rule=$OWNED:"'

# 4. A prompter that does not answer: the query is held until
# prompt-timeout (2.5 s, under dig's and glibc's 5 s), then gets the
# default (Second: allowed); the prompt stays pending.
mkfifo "$E2E_TMP/silent.in"
sleep 60 >"$E2E_TMP/silent.in" &
BACKGROUND_PIDS="$BACKGROUND_PIDS $!"
$CTL prompt --json <"$E2E_TMP/silent.in" >"$E2E_TMP/silent.out" 2>&1 &
SILENT=$!
BACKGROUND_PIDS="$BACKGROUND_PIDS $SILENT"
within 5 grep -q '"prompts":\[' "$E2E_TMP/silent.out"
start=$(date +%s%N)
out=$(rcode "$SECOND" slow.ask.test)
ms=$((($(date +%s%N) - start) / 1000000))
check_that "an unanswered prompt times out into the default ($out after $ms ms)" \
	'[ "$out" = NOERROR ] && [ "$ms" -ge 2000 ] && [ "$ms" -lt 4500 ]'
check_that "the log says it was not answered in time" \
	'grep "qname=slow.ask.test" "$QLOG" | grep -q "reason=ask .*not answered in time"'
check "the prompter was shown it" [ "$(lines_of silent slow.ask.test)" = 1 ]
kill "$SILENT"; wait "$SILENT" 2>/dev/null

# 5. Two queries for one app and name while its prompt is open join it:
# one prompt, one answer, both answered.
mkfifo "$E2E_TMP/joined.in"
$CTL prompt --json <"$E2E_TMP/joined.in" >"$E2E_TMP/joined.out" 2>&1 &
JOINED=$!
BACKGROUND_PIDS="$BACKGROUND_PIDS $JOINED"
exec 7>"$E2E_TMP/joined.in"
within 5 grep -q '"prompts":\[' "$E2E_TMP/joined.out"
rcode "$ASKER" joined.ask.test >"$E2E_TMP/j1" &
J1=$!
rcode "$ASKER" joined.ask.test >"$E2E_TMP/j2" &
J2=$!
within 3 grep -q '"event":"prompt".*joined.ask.test' "$E2E_TMP/joined.out"
sleep 0.3
echo "allow once" >&7
wait "$J1" "$J2"
check "both queries were answered by the one answer ($(cat "$E2E_TMP/j1") $(cat "$E2E_TMP/j2"))" \
	[ "$(cat "$E2E_TMP/j1")$(cat "$E2E_TMP/j2")" = NOERRORNOERROR ]
check "the prompter was shown one prompt for both" \
	[ "$(grep -c '"event":"prompt",.*joined.ask.test' "$E2E_TMP/joined.out")" = 1 ]
check "both log lines say answered" \
	[ "$(grep 'qname=joined.ask.test' "$QLOG" | grep -c 'reason=answered')" = 2 ]
exec 7>&-
kill "$JOINED" 2>/dev/null; wait "$JOINED" 2>/dev/null

# 6. status counts the queries held on prompts and the attribution.
st=$($CTL status --json)
check_that "status counts the prompted queries" \
	'printf "%s" "$st" | grep -q "\"prompted\":[1-9]"'
check_that "status says how attribution went, dig's sockets found by their 4-tuple" \
	'printf "%s" "$st" | grep -q "\"attribution\":{\"socket_gone\":0,\"no_process\":[0-9]*,\"exe_unknown\":0,\"fd_links_read\":[1-9][0-9]*,\"sockets_by_tuple\":[1-9][0-9]*,\"socket_table_dumps\":[0-9]*}"'

e2e_finish
