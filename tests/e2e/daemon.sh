#!/bin/sh
# daemon.sh - the daemon around the gate: start-up errors, the shipped
# configuration, exempt networks, grant timeouts from TTLs, the cache,
# truncation and TCP fallback, SERVFAIL, and recovery after a crash.
. "$(dirname "$0")/lib.sh"

BIG=$(numbered 100 139 'big.app.test. 300 IN A 198.51.100.&')
LOCAL_DATA="
short.app.test. 30 IN A 198.51.100.40
long.app.test. 3600 IN A 198.51.100.41
cached.app.test. 300 IN A 198.51.100.42
again.app.test. 300 IN A 198.51.100.43
tiny.app.test. 5 IN A 198.51.100.44
tracker.ads.test. 300 IN A 198.51.100.44
$BIG
"

e2e_setup
for a in 198.51.100.40 198.51.100.42 198.51.100.43 203.0.113.10; do
	add_server "$a"
done
start_unbound
in_client nft add table ip other
ruleset_before=$(in_client nft list ruleset)
APP_A=$(new_app app-a)
APP_B=$(new_app app-b)

# between VALUE LOW HIGH: LOW < VALUE <= HIGH, VALUE a number.
between() {
	[ -n "$1" ] && [ "$1" -gt "$2" ] && [ "$1" -le "$3" ]
}

# 1. Start-up errors: one clear line, exit 1, and no table left behind.
try_start "listen-port 5453
upstream 192.0.2.2
bogus-setting 1"
check "an unknown setting stops the start with file:line:column" \
	refused_with "$E2E_TMP/bad.conf:3:1: unknown setting 'bogus-setting'"
printf 'nameserver 127.0.0.1\nnameserver ::1\n' >"$E2E_TMP/loop.resolv"
try_start "resolv-conf $E2E_TMP/loop.resolv"
check "only loopback nameservers: refuses to start and says what to set" \
	refused_with "lists only 127.0.0.1 ::1 (loopback ones would loop back to dnsgated); set 'upstream'"
try_start "upstream 192.0.2.2
blocklist $E2E_TMP/missing.txt"
check "a missing block list stops the start and names it" \
	refused_with "blocklist $E2E_TMP/missing.txt: No such file"
check "no table is left by a failed start" \
	[ "$(in_client nft list ruleset)" = "$ruleset_before" ]

# 2. The shipped configuration, as scripts/run uses it (its resolv.conf
# replaced by one naming the test upstream, its relative list kept).
mkdir "$E2E_TMP/shipped"
cp "$top_srcdir/etc/blocklist.txt" "$E2E_TMP/shipped/"
printf 'nameserver 192.0.2.2\n' >"$E2E_TMP/shipped/resolv.conf"
sed 's|^resolv-conf .*|resolv-conf resolv.conf|' \
	"$top_srcdir/etc/dnsgate.conf" >"$E2E_TMP/shipped/dnsgate.conf"
echo "control-socket $E2E_TMP/shipped/control.sock" >>"$E2E_TMP/shipped/dnsgate.conf"
out=$("$DNSGATED" -n -c "$E2E_TMP/shipped/dnsgate.conf")
check "dnsgated -n prints the shipped config as understood" \
	sh -c "echo '$out' | grep -qx 'exempt 192.168.0.0/16'"
# Run in place (start_daemon would copy it away from its list).
nsenter --net=/run/netns/"$NS_CLIENT" "$DNSGATED" \
	-c "$E2E_TMP/shipped/dnsgate.conf" >"$E2E_TMP/shipped.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do
	in_client nft list table inet dnsgate >/dev/null 2>&1 && break
	sleep 0.05
done
check "the shipped config loads its exempt networks" \
	sh -c "nsenter --net=/run/netns/$NS_CLIENT nft list set inet dnsgate exempt4 | grep -q 192.168.0.0/16"
status=$(as_app "$APP_A" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 \
	@192.0.2.2 ads.doubleclick.net A | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
check "the shipped block list blocks a listed tracker" [ "$status" = NXDOMAIN ]
kill -INT "$DAEMON_PID"
wait "$DAEMON_PID"
check "Ctrl-C (SIGINT) stops it with status 0" [ $? = 0 ]
DAEMON_PID=
check "after Ctrl-C the ruleset is as before" \
	[ "$(in_client nft list ruleset)" = "$ruleset_before" ]

# 3. A daemon with a grant floor, an exempt network and a short upstream
# timeout.
printf 'ads.test\n' >"$E2E_TMP/block.txt"
CONF="listen-port 5453
upstream 192.0.2.2
blocklist $E2E_TMP/block.txt
exempt 203.0.113.0/24
grant-ttl-min 600
upstream-timeout 300
upstream-tries 1
log-file $E2E_TMP/query.log"
start_daemon "$CONF"
QLOG=$E2E_TMP/query.log

out=$(connect "$APP_B" 203.0.113.10)
check "an exempt network is reachable without resolving ($out)" \
	[ "$out" = connected ]
out=$(connect "$APP_B" 198.51.100.40)
check "outside the exempt network, unresolved is rejected ($out)" rejected "$out"

# Grant timeouts: the TTL, raised to grant-ttl-min.
dig_short "$APP_A" short.app.test >/dev/null
dig_short "$APP_A" long.app.test >/dev/null
grants=$(in_client "$DNSGATECTL" grants)
left=$(echo "$grants" | awk '$2 == "198.51.100.40" { sub("s", "", $3); print $3 }')
check "a 30 s TTL is granted for grant-ttl-min 600 s (left: ${left}s)" \
	between "$left" 590 600
left=$(echo "$grants" | awk '$2 == "198.51.100.41" { sub("s", "", $3); print $3 }')
check "a 3600 s TTL is granted for 3600 s (left: ${left}s)" \
	between "$left" 3590 3600

# Asked again at once, the grant held is long enough: no element is
# written (a renewal waits for a tenth of its time, 60 s here), and the
# grant keeps its time.
written() { "$DNSGATECTL" -s "$CONTROL_SOCKET" status --json |
	sed -n 's/.*"grants":{"written":\([0-9]*\).*/\1/p'; }
before=$(written)
dig_short "$APP_A" short.app.test >/dev/null
after=$(written)
left=$(in_client "$DNSGATECTL" grants |
	awk '$2 == "198.51.100.40" { sub("s", "", $3); print $3 }')
check_that "asked again at once, nothing is written ($before, then $after)" \
	'[ -n "$before" ] && [ "$before" = "$after" ]'
check "and the grant keeps its time (left: ${left}s)" between "$left" 585 600

# The cache answers the second asker, and still grants to that asker.
dig_short "$APP_A" cached.app.test >/dev/null
ans=$(dig_short "$APP_B" cached.app.test)
check "a cached answer is served to another app" [ "$ans" = 198.51.100.42 ]
check "the second answer is logged as cached" \
	sh -c "grep 'qname=cached.app.test ' '$QLOG' | grep 'app-b ' | grep -q ' cached'"
out=$(connect "$APP_B" 198.51.100.42)
check "a cached answer still grants to the app that asked ($out)" \
	[ "$out" = connected ]

# Truncation: 40 A records do not fit in 512 bytes. The daemon's upstream
# query goes over TCP (c-ares retries on TC), the UDP client gets TC and
# retries over TCP, and every address is granted.
flags=$(as_app "$APP_A" "$E2E_TMP/pid" "$DIG" +noedns +ignore +time=3 \
	+tries=1 @192.0.2.2 big.app.test A | sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p')
case " $flags " in
*" tc "*) ok "a UDP client without EDNS gets a truncated answer (flags: $flags)" ;;
*) fail "no TC for an answer over 512 bytes (flags: $flags)" ;;
esac
n=$(dig_short "$APP_A" +noedns big.app.test A | grep -c '^198\.51\.100\.')
check "dig retries over TCP and gets all 40 addresses ($n)" [ "$n" = 40 ]
n=$(grep 'qname=big.app.test ' "$QLOG" | grep -m1 'proto=udp' |
	grep -o '198\.51\.100\.[0-9]*' | wc -l)
check "the daemon got all 40 from upstream for the UDP query ($n)" [ "$n" = 40 ]
# Its own TCP retry upstream is marked, so it is not redirected to itself.
if grep -q "exe=$(readlink -f "$DNSGATED") " "$QLOG"; then
	fail "the daemon's own upstream query came back to it through the redirect"
else
	ok "the daemon's own upstream queries (UDP and TCP) are not redirected"
fi
n=$(in_client "$DNSGATECTL" grants | grep -c 'app-a .*198\.51\.100\.1[0-3][0-9] ')
check "all 40 addresses are granted to the app ($n)" [ "$n" = 40 ]

# SIGHUP reloads the block lists; a list that cannot be read then keeps
# its copy in use (tests/e2e/lists.sh has the other cases).
printf 'ads.test\nagain.app.test\n' >"$E2E_TMP/block.txt"
kill -HUP "$DAEMON_PID"
sleep 0.3
status=$(as_app "$APP_A" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 \
	@192.0.2.2 again.app.test A | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
check "after SIGHUP a name added to the list is blocked ($status)" \
	[ "$status" = NXDOMAIN ]
mv "$E2E_TMP/block.txt" "$E2E_TMP/block.away"
kill -HUP "$DAEMON_PID"
sleep 0.3
check "a reload that cannot read a list says so" \
	grep -q "block.txt: cannot read it on reload (No such file or directory): keeping the copy in use" "$QLOG"
status=$(as_app "$APP_A" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 \
	@192.0.2.2 again.app.test A | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
check "after a failed reload the lists in use still block ($status)" \
	[ "$status" = NXDOMAIN ]
mv "$E2E_TMP/block.away" "$E2E_TMP/block.txt"
printf 'ads.test\n' >"$E2E_TMP/block.txt"
kill -HUP "$DAEMON_PID"
sleep 0.3

# The daemon's own upstream flows (UDP, and TCP for the retry above) leave
# from ports above the ephemeral range, so an app's query never happens
# to share one.
range_hi=$(in_client cat /proc/sys/net/ipv4/ip_local_port_range | awk '{ print $2 }')
ports=$(in_client cat /proc/net/nf_conntrack |
	grep 'src=192.0.2.2 dst=192.0.2.1 sport=53 ' |
	sed -n 's/.* sport=\([0-9]*\) dport=53 .*/\1/p' | sort -u)
low=$(for p in $ports; do [ "$p" -le "$range_hi" ] && echo "$p"; done)
check_that "upstream queries leave from ports above the ephemeral range ($(echo $ports | wc -w) flows, range ends at $range_hi)" \
	'[ -n "$ports" ] && [ -z "$low" ]'
tcp_upstream=$(in_client grep '^ipv4 .* tcp .*src=192.0.2.2 dst=192.0.2.1 sport=53 ' /proc/net/nf_conntrack |
	sed -n 's/.* sport=\([0-9]*\) dport=53 .*/\1/p' | head -n 1)
check "the TCP retry upstream does too ($tcp_upstream)" \
	between "$tcp_upstream" "$range_hi" 65535

# An app that takes one of those ports on purpose shares the daemon's
# conntrack entry: its query is neither redirected nor the daemon's, and
# must not reach the upstream past the block list.
port=$(echo "$ports" | head -n 1)
out=$(as_app "$APP_A" "$E2E_TMP/pid" "$DIG" -b "192.0.2.1#$port" +time=2 \
	+tries=1 @192.0.2.2 tracker.ads.test A 2>&1)
case $out in
*198.51.100.44*) fail "a query from the daemon's upstream port got past the block list" ;;
*) ok "a query from the daemon's upstream port ($port) is not let past the block list" ;;
esac

# Another program changes the table: deletes it, slips an accept rule
# into the gate, or flushes the whole ruleset (Debian's nftables.service
# does on restart). Without the table nothing is gated, so the daemon
# must put it back, at once, and say so.
table_back() {
	for _ in $(seq 60); do
		if in_client nft list chain inet dnsgate gate-output 2>/dev/null |
			grep -q reject; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}
in_client nft delete table inet dnsgate
check "a table deleted by another program is recreated" table_back
out=$(connect "$APP_B" 198.51.100.40)
check "after the recreation, unresolved is rejected again ($out)" rejected "$out"
check "the recreation is logged with what to expect" \
	grep -q "another program changed or deleted the table inet dnsgate.*recreated it" "$QLOG"
in_client nft insert rule inet dnsgate gate-output accept
sleep 0.3
table_back
if in_client nft list chain inet dnsgate gate-output | grep -qxE '[[:space:]]*accept'; then
	fail "a foreign accept rule stays in the gate"
else
	ok "a foreign accept rule in the gate is undone"
fi
out=$(connect "$APP_B" 198.51.100.40)
check "after the foreign rule, unresolved is rejected ($out)" rejected "$out"
# An element slipped into a set opens the gate as surely as a rule.
check "another program can add an exempt element (the test's own step)" \
	in_client nft add element inet dnsgate exempt4 '{ 198.51.100.0/24 }'
sleep 0.3
table_back
if in_client nft list set inet dnsgate exempt4 | grep -q '198.51.100.0/24'; then
	fail "a foreign element in exempt4 stays"
else
	ok "a foreign element in exempt4 is undone"
fi
out=$(connect "$APP_B" 198.51.100.40)
check "after the foreign element, unresolved is rejected ($out)" rejected "$out"
in_client nft flush ruleset
check "after 'nft flush ruleset' the table is back" table_back
in_client nft add table ip other # the test's own table, flushed too
ans=$(dig_short "$APP_B" short.app.test)
out=$(connect "$APP_B" 198.51.100.40)
check_that "after the recreation, resolving grants again ($ans, $out)" \
	'[ "$ans" = 198.51.100.40 ] && [ "$out" = connected ]'

# A storm of SIGTERMs (an impatient Ctrl-C, a service manager) while it
# stops: it still removes its table and exits 0.
pid=$DAEMON_PID
(
	for _ in $(seq 300); do
		kill -TERM "$pid" 2>/dev/null || break
		sleep 0.001
	done
) &
storm=$!
wait "$pid"
status=$?
wait "$storm"
DAEMON_PID=
check "repeated SIGTERMs during the stop: exit 0 (status $status)" \
	[ "$status" = 0 ]
check "repeated SIGTERMs during the stop: the table is removed" \
	[ "$(in_client nft list ruleset)" = "$ruleset_before" ]
start_daemon "$CONF"

# 4. A crash (SIGKILL) leaves the table; the next start adopts it with
# the grants made before (tests/e2e/restart.sh has the details), without
# touching the other table.
dig_short "$APP_A" cached.app.test >/dev/null
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
check "after SIGKILL the table is still there" \
	sh -c "nsenter --net=/run/netns/$NS_CLIENT nft list table inet dnsgate >/dev/null"
start_daemon "$CONF"
n=$(in_client "$DNSGATECTL" grants | grep -c 'app-a .*198\.51\.100\.42 ')
check "a restart adopts the stale table: the old grant is kept ($n)" [ "$n" = 1 ]
check "the adoption is logged with the grants kept" \
	within 5 grep -q "adopted the table inet dnsgate left by an earlier dnsgated with 1 live grants" "$QLOG"
check "the other table survived crash and restart" \
	sh -c "nsenter --net=/run/netns/$NS_CLIENT nft list table ip other >/dev/null"
ans=$(dig_short "$APP_A" again.app.test)
out=$(connect "$APP_A" 198.51.100.43)
check_that "after the restart the path works again ($ans, $out)" \
	'[ "$ans" = 198.51.100.43 ] && [ "$out" = connected ]'

# 4b. A grant is renewed once a tenth of its time has gone: with
#     grant-ttl-min 10, asked again 2.5 s later (the clock counts whole
#     seconds) it is written again and has its whole time again (else 7 s
#     would be left).
#     A TTL beyond grant-ttl-max (60 s here) is not written again within
#     a tenth of the 60 s: 2.5 s later only the tiny grant is written.
stop_daemon
start_daemon "$(printf '%s\n' "$CONF" | sed 's/^grant-ttl-min 600$/grant-ttl-min 10\ngrant-ttl-max 60/')"
dig_short "$APP_A" tiny.app.test >/dev/null
dig_short "$APP_A" long.app.test >/dev/null
before=$(written)
sleep 2.5
dig_short "$APP_A" tiny.app.test >/dev/null
dig_short "$APP_A" long.app.test >/dev/null
after=$(written)

left=$(in_client "$DNSGATECTL" grants |
	awk '$2 == "198.51.100.44" { sub("s", "", $3); print $3 }')
check_that "asked again after a tenth of its time, it is written, the long one not ($before, then $after)" \
	'[ -n "$before" ] && [ "$after" = $((before + 1)) ]'
check "and has its whole time again (left: ${left}s)" between "$left" 8 10

# 5. Every upstream fails: SERVFAIL, logged with the reason.
for pid in $BACKGROUND_PIDS; do
	if grep -q unbound "/proc/$pid/cmdline" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
	fi
done
status=$(as_app "$APP_A" "$E2E_TMP/pid" "$DIG" +time=5 +tries=1 \
	@192.0.2.2 gone.app.test A | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
check "with the upstream down the client gets SERVFAIL" [ "$status" = SERVFAIL ]
check "the SERVFAIL is logged with its reason" \
	sh -c "grep 'qname=gone.app.test ' '$QLOG' | grep -q 'decision=servfail reason='"

# 6. After another crash, dnsgatectl remove-table restores the ruleset.
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
in_client "$DNSGATECTL" remove-table
check "dnsgatectl remove-table restores the ruleset after a crash" \
	[ "$(in_client nft list ruleset)" = "$ruleset_before" ]

e2e_finish
