#!/bin/sh
# traffic.sh - what the gate counts and tells: a grant's byte counter grows
# by what its app sends, and a connection the gate rejects is logged with
# its app key, destination and port, once per read, rate-limited per app.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
bulk.app.test. 300 IN A 198.51.100.40
"

e2e_setup
# A sink for the bulk data, and a server nobody looks up.
in_net ip addr add 198.51.100.40/32 dev lo
nsenter --net=/run/netns/"$NS_NET" "$TCP_PROBE" --sink 198.51.100.40 9000 &
BACKGROUND_PIDS="$BACKGROUND_PIDS $!"
add_server 203.0.113.7
start_unbound
start_daemon "listen-port 5453
upstream 192.0.2.2"

U=user.slice/user-1000.slice/user@1000.service
BULK=$(new_app "$U/app.slice/app-gnome-org.example.Bulk-1111.scope")
SNEAKY=$(new_app "$U/app.slice/app-gnome-org.example.Sneaky-2222.scope")
SNEAKY_PATH=/dnsgate-e2e-$$/$U/app.slice/app-gnome-org.example.Sneaky-2222.scope

# grant_bytes ADDRESS: the bytes of the grants for ADDRESS, from
# dnsgatectl grants --json (one grant here).
grant_bytes() {
	in_client "$DNSGATECTL" grants --json |
		sed -n "s/.*\"address\": *\"$1\".*\"bytes\": *\([0-9]*\).*/\1/p" |
		head -n 1
}

# 1. An app granted a name sends 1 MB over TCP: its grant's byte counter
#    grows by at least that (every packet, not only the first one).
answer=$(dig_short "$BULK" bulk.app.test A)
check_that "the bulk app is answered" '[ "$answer" = 198.51.100.40 ]'
before=$(grant_bytes 198.51.100.40)
check_that "its grant is listed with a byte counter" '[ -n "$before" ]'
sent=$(as_app "$BULK" "$E2E_TMP/bpid" "$TCP_PROBE" --send 1000000 \
	198.51.100.40 9000)
check_that "it sends 1 MB through its grant" '[ "$sent" = "sent 1000000" ]'
after=$(grant_bytes 198.51.100.40)
check_that "the grant's byte counter grew by at least 1 MB ($before -> $after)" \
	'[ -n "$after" ] && [ $((after - ${before:-0})) -ge 1000000 ]'
check_that "dnsgatectl grants shows the bytes" \
	'in_client "$DNSGATECTL" grants | grep -q "198.51.100.40 .* MB "'
# The apps table reads the counters every 5 s: the bytes are the app's,
# in all and for the destination.
app_bytes() {
	"$DNSGATECTL" -s "$CONTROL_SOCKET" app "$1" --json |
		sed -n 's/^{"apps":\[{"app":"[^"]*",.*"packets":[0-9]*,"bytes":\([0-9]*\),"destinations".*/\1/p'
}
dest_bytes() {
	"$DNSGATECTL" -s "$CONTROL_SOCKET" app "$1" --json |
		sed -n "s/.*{\"address\":\"$2\",\"packets\":[0-9]*,\"bytes\":\([0-9]*\).*/\1/p"
}
b=0
for _ in $(seq 60); do
	b=$(app_bytes Bulk)
	[ "${b:-0}" -ge 1000000 ] && break
	sleep 0.2
done
check_that "dnsgatectl app shows the bytes the app sent, within 12 s ($b)" \
	'[ "${b:-0}" -ge 1000000 ]'
check_that "and per destination ($(dest_bytes Bulk 198.51.100.40))" \
	'[ "$(dest_bytes Bulk 198.51.100.40)" -ge 1000000 ]'
check_that "dnsgatectl apps has a row for it with its bytes" \
	'"$DNSGATECTL" -s "$CONTROL_SOCKET" apps | grep "Bulk" | grep -q " MB$"'

# 2. An app connects to an address without asking DNS: rejected, and the
#    log names its app key, cgroup, a process still in it (here another
#    one of the app: the connecting one is gone by then), the destination
#    and port, and what to do.
as_app "$SNEAKY" "$E2E_TMP/sleeper" sleep 60 &
sleeper_job=$!
BACKGROUND_PIDS="$BACKGROUND_PIDS $sleeper_job"
within 3 test -s "$E2E_TMP/sleeper"
out=$(connect "$SNEAKY" 203.0.113.7)
check "the connection by address alone is rejected" rejected "$out"
rejected_line() {
	grep "rejected: app:org.example.Sneaky (cgroup $SNEAKY_PATH" "$DAEMON_LOG" |
		grep -F "connected to 203.0.113.7 port 80 (tcp)" |
		grep -q "without asking DNS"
}
check "within 3 s the log tells the rejected connection with its app" \
	within 3 rejected_line
check_that "the line names a process of the app and its exe" \
	'grep "rejected: app:org.example.Sneaky" "$DAEMON_LOG" |
		grep -q "pid $(cat "$E2E_TMP/sleeper") .*sleep"'
kill "$(cat "$E2E_TMP/sleeper")"
wait "$sleeper_job" 2>/dev/null
check_that "the kernel counted it" \
	'[ "$(in_client "$DNSGATECTL" rejected)" -ge 1 ]'
# The same record in the history (dnsgatectl log), and in the apps table.
check "dnsgatectl log shows the rejected connection with its app" \
	within 5 sh -c '"$1" -s "$2" log --app Sneaky --blocked --json |
		grep -q "\"kind\":\"rejected\",.*\"app\":\"app:org.example.Sneaky\".*\"dest\":\"203.0.113.7\",\"port\":80"' \
	sh "$DNSGATECTL" "$CONTROL_SOCKET"
check_that "dnsgatectl apps counts it for the app" \
	'"$DNSGATECTL" -s "$CONTROL_SOCKET" app Sneaky --json | grep -q "\"rejected_packets\":[1-9]"'
check_that "what was read was deleted from rejected4" \
	'within 3 sh -c "! nsenter --net=/run/netns/$NS_CLIENT nft list set inet dnsgate rejected4 | grep -q 203.0.113.7"'

# 3. Many rejected destinations from one app: every one rejected, at most
#    the budget logged, the rest said in one line a minute later (not
#    waited for here: the budget is what is checked).
for port in $(seq 1000 1030); do
	as_app "$SNEAKY" "$E2E_TMP/spid" "$TCP_PROBE" 203.0.113.7 "$port" 500 \
		>/dev/null
done
sleep 2.5
n=$(grep -c "rejected: app:org.example.Sneaky (" "$DAEMON_LOG")
check_that "the log is rate-limited per app ($n lines for 32 rejections)" \
	'[ "$n" -le 10 ]'

# 4. The daemon's own state: the counters were read by the loop without
#    an error.
check_that "no read of the rejected connections failed" \
	'! grep -q "cannot read the rejected connections" "$DAEMON_LOG"'

e2e_finish
