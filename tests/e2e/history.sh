#!/bin/sh
# history.sh - the history in SQLite end to end: queries of two apps,
# then dnsgatectl log filtered by --app (a part of a key, and a whole
# key), --since/--until and --blocked; history-max-records in the status;
# the records still there after a kill -9 and a restart; a damaged
# history file turns the history off with a warning while every query
# is still answered.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
a.test. 300 IN A 198.51.100.80
b.test. 300 IN A 198.51.100.81
later.test. 300 IN A 198.51.100.82
ads.test. 300 IN A 198.51.100.83
after.test. 300 IN A 198.51.100.84
"

e2e_setup
start_unbound
U=user.slice/user-1000.slice/user@1000.service
FF=$(new_app "$U/app.slice/app-flatpak-org.mozilla.firefox-4242.scope")
SVC=$(new_app "system.slice/backup.service")
printf 'ads.test\n' >"$E2E_TMP/ads.txt"
HIST=$E2E_TMP/state/history.db
CONF="listen-port 5453
upstream 192.0.2.2
blocklist $E2E_TMP/ads.txt name=ads
history $HIST
history-days 30
history-max-records 200000"
start_daemon "$CONF"
CTL="$DNSGATECTL -s $CONTROL_SOCKET"

# log ARGS...: dnsgatectl log's JSON; names NAMES: the names in it, in
# order, space-separated.
log() { $CTL log "$@" --json; }
names() {
	log "$@" | grep -o '"name":"[^"]*"' | sed 's/"name":"//; s/"$//' |
		tr '\n' ' ' | sed 's/ $//'
}
shows() { [ "$(names "$@" | wc -w)" -ge 1 ]; }

check "firefox resolves a.test" [ "$(dig_short "$FF" a.test A)" = 198.51.100.80 ]
check "ads.test is blocked for firefox" [ -z "$(dig_short "$FF" ads.test A)" ]
check "the backup service resolves b.test" \
	[ "$(dig_short "$SVC" b.test A)" = 198.51.100.81 ]
sleep 1
SINCE=$(date +%s)
sleep 1
check "firefox resolves later.test" \
	[ "$(dig_short "$FF" later.test A)" = 198.51.100.82 ]

# Written within the batch interval (1 s).
check "the records reach the history" within 5 shows --name later.test
check_that "the file is 0600, its directory 0700" \
	'[ "$(stat -c %a "$HIST")" = 600 ] &&
	 [ "$(stat -c %a "$(dirname "$HIST")")" = 700 ]'

out=$(names --app firefox --since '10 minutes ago')
check "--app firefox: its three names, oldest first ($out)" \
	[ "$out" = "a.test ads.test later.test" ]
out=$(names --app flatpak:org.mozilla.firefox)
check "--app with a whole key: the same, newest first ($out)" \
	[ "$out" = "later.test ads.test a.test" ]
out=$(names --app backup)
check "--app backup: its one name ($out)" [ "$out" = "b.test" ]
out=$(names --app flatpak:org.mozilla)
check "a part of a key with ':' is no key ($out)" [ -z "$out" ]
out=$(names --since "@$SINCE")
check "--since: only what came after ($out)" [ "$out" = "later.test" ]
out=$(names --until "@$SINCE" --since '1 hour ago')
check "--until: only what came before ($out)" \
	[ "$out" = "a.test ads.test b.test" ]
out=$(names --blocked)
check "--blocked: the blocked name only ($out)" [ "$out" = "ads.test" ]
check_that "a blocked record carries the verdict's words and the list" \
	'log --blocked | grep -q "\"decision\":\"block\",\"reason\":\"listed\",\"rule\":\"[^\"]*\",\"list\":\"ads\",\"entry\":\"ads.test\""'
check_that "an allowed record carries its answer" \
	'log --name a.test | grep -q "\"answer\":\"198.51.100.80\""'
out=$(names --limit 1)
check "--limit 1: the newest ($out)" [ "$out" = "later.test" ]
check_that "--limit 1 says more records match" \
	'$CTL log --limit 1 | grep -q "more records match"'
table=$($CTL log --app firefox)
check_that "the table has a header and a blocked row" \
	'printf "%s\n" "$table" | head -1 | grep -q "^TIME .*APP .*NAME .*DECISION" &&
	 printf "%s\n" "$table" | grep "ads.test" | grep -q " block "'
check_that "the table is oldest first" \
	'[ "$(printf "%s\n" "$table" | sed -n 2p | grep -c a.test)" = 1 ]'
out=$($CTL log --since 'last funday' 2>&1)
check "a time it cannot read is named ($out)" \
	eval 'printf "%s" "$out" | grep -q "funday"'
check_that "dnsgatectl status shows the history" \
	'$CTL status --json | grep -q "\"history\":{\"path\":\"$HIST\""'
check_that "the status shows the cap and the rejected records not kept" \
	'$CTL status --json | grep -q "\"max_records\":200000,\"rejected_per_app\":100,\"rejected_window_ms\":10000,\"rejected_over_budget\":0,\"rejected_over_budget_apps\":\[\]"'

# log -f: each record as it is made, those the options ask for.
$CTL log -f --app firefox --json >"$E2E_TMP/follow.out" 2>&1 &
FOLLOW=$!
BACKGROUND_PIDS="$BACKGROUND_PIDS $FOLLOW"
check "log -f follows" within 5 grep -q '"following":true' "$E2E_TMP/follow.out"
dig_short "$SVC" b.test A >/dev/null
dig_short "$FF" a.test A >/dev/null
check "log -f shows firefox's new record at once" \
	within 5 grep -q '"event":"record".*"name":"a.test"' "$E2E_TMP/follow.out"
check "and not the other app's" \
	[ "$(grep -c 'b.test' "$E2E_TMP/follow.out")" = 0 ]
kill "$FOLLOW"
wait "$FOLLOW" 2>/dev/null
st=$?
check "log -f ends on SIGTERM with exit 0 ($st)" [ "$st" = 0 ]

# kill -9: what was committed survives, and the restarted daemon adds.
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
start_daemon "$CONF"
# The table is there already (adopted): wait for the daemon to serve.
check "the restarted daemon serves" \
	within 5 grep -q ': DNS on 127.0.0.1' "$DAEMON_LOG"
check "after.test resolves after the restart" \
	[ "$(dig_short "$FF" after.test A)" = 198.51.100.84 ]
check "the history has the new record" within 5 shows --name after.test
out=$(names --app firefox --since '1 hour ago')
check "the records before kill -9 are still there ($out)" \
	[ "$out" = "a.test ads.test later.test after.test" ]
stop_daemon
check "a clean stop exits 0" [ "$DAEMON_STATUS" = 0 ]

# A damaged file: a warning, no history, every query answered.
head -c 8192 /dev/urandom >"$E2E_TMP/junk.db"
start_daemon "listen-port 5453
upstream 192.0.2.2
history $E2E_TMP/junk.db"
check "with a damaged history file, queries are answered" \
	within 5 eval '[ "$(dig_short "$FF" a.test A)" = 198.51.100.80 ]'
check_that "the log says the history is off and what to do" \
	'grep -q "history $E2E_TMP/junk.db: .*move it away.*the history is off" "$DAEMON_LOG"'
out=$($CTL log 2>&1)
check "dnsgatectl log says the history is off ($out)" \
	eval 'printf "%s" "$out" | grep -q "the history is off"'
stop_daemon

e2e_finish
