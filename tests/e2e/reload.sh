#!/bin/sh
# reload.sh - a reload of a 1,000,000-name list does not stall queries:
# the next policy is built in a thread while the loop keeps answering
# with the one in use (src/reloader.c). An app's queries, one every
# 100 ms from one socket, are each answered within 50 ms while the list
# reloads again and again; requests during a build run after it, once;
# dnsgatectl reload answers when its build is done; a stop during a
# build waits for it and leaves no table behind.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
ok.app.test. 300 IN A 198.51.100.80
"

e2e_setup
start_unbound
APP=$(new_app app)

BIG=$E2E_TMP/big.txt
# One million names, and the one the test checks is blocked.
seq 1 999999 | sed 's/.*/n&.bulk.example/' >"$BIG"
echo ads.reload.test >>"$BIG"
start_daemon "listen-port 5453
upstream 192.0.2.2
blocklist $BIG"

logged_count() { grep -c -- "$1" "$DAEMON_LOG"; }
# wait_logged TEXT N: until TEXT is logged N times (30 s at most).
wait_logged() {
	for _ in $(seq 600); do
		[ "$(logged_count "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
status() {
	as_app "$APP" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 @192.0.2.2 "$1" A |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}

wait_logged "1000000 blocked domains" 1
check "the million-name list is in force" \
	[ "$(status ads.reload.test)" = NXDOMAIN ]
check "another name resolves" [ "$(status ok.app.test)" = NOERROR ]

# 1. Queries answered within 50 ms each while the list reloads three
# times (SIGHUP, then again as soon as each one is done).
OUT=$E2E_TMP/repeat.txt
as_app "$APP" "$E2E_TMP/rpid" "$DNS_CLIENT" --repeat 40 50 192.0.2.2 \
	ok.app.test >"$OUT" 2>&1 &
CLIENT=$!
BACKGROUND_PIDS="$BACKGROUND_PIDS $CLIENT"
sleep 0.3
for n in 1 2 3; do
	kill -HUP "$DAEMON_PID"
	wait_logged "reloaded: .* 1000000 domains" "$n" || break
done
wait "$CLIENT"
answered=$(grep -c '^answer$' "$OUT")
check "40 queries during three reloads, each answered within 50 ms ($answered; $(grep -v '^answer$' "$OUT" | sort | uniq -c | tr '\n' ' '))" \
	[ "$answered" = 40 ]
ms=$(sed -n 's/.*reloaded: .* 1000000 domains; \([0-9]*\) ms$/\1/p' "$DAEMON_LOG" | sort -n | tail -1)
check "each reload took longer than a query may wait (${ms:-?} ms > 50 ms)" \
	[ "${ms:-0}" -gt 50 ]
check "the name stays blocked after the reloads" \
	[ "$(status ads.reload.test)" = NXDOMAIN ]

# 2. Requests while one builds run once, after it.
before=$(logged_count "reloaded: ")
# Apart, or the kernel merges them into one pending signal; and all
# three within the first build (about 200 ms for the million names).
kill -HUP "$DAEMON_PID"
sleep 0.02
kill -HUP "$DAEMON_PID"
sleep 0.02
kill -HUP "$DAEMON_PID"
wait_logged "reloaded: " $((before + 2))
sleep 1.5
check "SIGHUPs during a build are run after it, once ($(($(logged_count "reloaded: ") - before)) reloads)" \
	[ "$(logged_count "reloaded: ")" = $((before + 2)) ]
check "and the log says so" \
	grep -q "SIGHUP: a reload is in progress; another one runs when it is done" "$DAEMON_LOG"

# 3. dnsgatectl reload answers once its build is done, with the counts.
out=$(in_client "$DNSGATECTL" -s "$CONTROL_SOCKET" reload --json)
check_that "dnsgatectl reload answers with the new policy's counts ($out)" \
	'printf "%s" "$out" | grep -q "\"reloaded\":true.*\"domains\":1000000"'

# 4. A stop during a build waits for it, removes the table, exits 0.
kill -HUP "$DAEMON_PID"
sleep 0.05
stop_daemon
check "a stop during a reload exits 0 ($DAEMON_STATUS)" [ "$DAEMON_STATUS" = 0 ]
check "it waited for the build and said so" \
	grep -q "stopping: waited [0-9]* ms for the reload in progress (SIGHUP), which is not applied" "$DAEMON_LOG"
check_that "its table is gone" '! in_client nft list table inet dnsgate >/dev/null 2>&1'

e2e_finish
