#!/bin/sh
# shares.sh - hostile apps and bursts: one app's flood of addresses, of
# DNS-over-TCP connections or of malformed packets costs that app alone;
# a burst of 1,000 client sockets is answered in full; an answer with
# more addresses than fit one grant batch is granted whole.
. "$(dirname "$0")/lib.sh"

FLOOD=$(numbered 1 600 'h&.flood.test. 300 IN AAAA 2001:db8:f::&')
MANY=$(numbered 1 100 'many.app.test. 300 IN A 203.0.113.&')
LOCAL_DATA="
good.app.test. 300 IN A 198.51.100.20
good6.app.test. 300 IN AAAA 2001:db8:100::20
cached.app.test. 300 IN A 198.51.100.21
$FLOOD
$MANY
"

e2e_setup
add_server 198.51.100.20
add_server 2001:db8:100::20
start_unbound
HOSTILE=$(new_app hostile)
APP_B=$(new_app app-b)
APP_C=$(new_app app-c)
APP_D=$(new_app app-d)
APP_E=$(new_app app-e)
APP_M=$(new_app app-m)
USER_1=$(new_app user-1)
USER_2=$(new_app user-2)

start_daemon "listen-port 5453
upstream 192.0.2.2
set-size 512
app-grant-quota 150
user-grant-quota 170
log-file $E2E_TMP/query.log"
QLOG=$E2E_TMP/query.log

# between_lines N LOW HIGH: LOW <= N <= HIGH.
between_lines() { [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
grants_of() { in_client "$DNSGATECTL" grants | grep -c "/$1 "; }

# 1. One app resolves 600 distinct addresses (its own zone is enough):
# more than the whole allow6 set holds. It gets its share and no more;
# every other app keeps resolving and connecting.
args=$(numbered 1 600 'h&.flood.test AAAA')
# shellcheck disable=SC2086
as_app "$HOSTILE" "$E2E_TMP/pid" "$DIG" +short +time=2 +tries=1 \
	@192.0.2.2 $args >/dev/null 2>&1
n=$(grants_of hostile)
check "the flooding app holds exactly its share of the set (150: $n)" \
	[ "$n" = 150 ]
ans=$(dig_short "$APP_B" good6.app.test AAAA)
out=$(connect "$APP_B" 2001:db8:100::20)
check_that "another app still resolves and connects over IPv6 ($ans, $out)" \
	'[ "$ans" = 2001:db8:100::20 ] && [ "$out" = connected ]'
ans=$(dig_short "$APP_B" h1.flood.test AAAA)
check "another app gets a name the flooder resolved ($ans)" \
	[ "$ans" = 2001:db8:f::1 ]
ans=$(dig_short "$HOSTILE" h1.flood.test AAAA)
check "at its share, the flooder still renews what it holds ($ans)" \
	[ "$ans" = 2001:db8:f::1 ]
status=$(as_app "$HOSTILE" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 \
	@192.0.2.2 h599.flood.test AAAA | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
check "past its share, its new names get SERVFAIL ($status)" \
	[ "$status" = SERVFAIL ]
n=$(grep -c 'cgroup=[^ ]*/hostile .*decision=refused reason=app-grant-quota' "$QLOG")
check "its refusals are logged, rate-limited ($n lines for 451)" \
	between_lines "$n" 1 30
check "the suppressed ones are counted in the log" within 7 \
	grep -q 'more lines like it about this app were suppressed\|more log lines about cgroup=[^ ]*/hostile were suppressed' "$QLOG"

# 1b. One user (not root) cannot multiply its share by making cgroups:
# its apps together get the user's ceiling, and root's apps go on.
args=$(numbered 1 150 'h&.flood.test AAAA')
# shellcheck disable=SC2086
as_app "$USER_1" "$E2E_TMP/pid" setpriv --reuid=65534 --regid=65534 \
	--clear-groups "$DIG" +short +time=2 +tries=1 @192.0.2.2 $args \
	>/dev/null 2>&1
args=$(numbered 151 200 'h&.flood.test AAAA')
# shellcheck disable=SC2086
as_app "$USER_2" "$E2E_TMP/pid" setpriv --reuid=65534 --regid=65534 \
	--clear-groups "$DIG" +short +time=2 +tries=1 @192.0.2.2 $args \
	>/dev/null 2>&1
n1=$(grants_of user-1)
n2=$(grants_of user-2)
check_that "a user's two apps hold its ceiling of 170 together ($n1 + $n2)" \
	'[ "$n1" = 150 ] && [ "$n2" = 20 ]'
check "the second app's refusals name the user's share" \
	grep -q 'uid=65534 cgroup=[^ ]*/user-2 .*decision=refused reason=user-grant-quota' "$QLOG"
ans=$(dig_short "$APP_B" good.app.test)
check "root's apps are not under that user's ceiling ($ans)" \
	[ "$ans" = 198.51.100.20 ]

# 2. One app opens DNS-over-TCP connections and trickles a byte into
# each every 2 s (which once defeated the idle timeout). It gets its
# share of 16; the others are refused at once, and the 16 are closed
# 10 s after they were opened, trickle or not.
nsenter --net=/run/netns/"$NS_CLIENT" sh -c \
	'echo $$ >"$1/cgroup.procs"; exec "$2" --tcp-hold 300 14 192.0.2.2 >"$3"' \
	sh "$HOSTILE" "$DNS_CLIENT" "$E2E_TMP/hold.out" &
HOLD=$!
BACKGROUND_PIDS="$BACKGROUND_PIDS $HOLD"
sleep 3
ans=$(dig_short "$APP_B" +tcp good.app.test)
out=$(connect "$APP_B" 198.51.100.20)
check_that "while it holds them, another app resolves over TCP ($ans, $out)" \
	'[ "$ans" = 198.51.100.20 ] && [ "$out" = connected ]'
wait "$HOLD"
hold=$(cat "$E2E_TMP/hold.out")
check_that "the app got 16 connections, 284 were refused at once ($hold)" \
	'[ "$hold" = "connected=300 refused=284 open=0" ]'
check "the refused connections are logged with the app" \
	grep -q 'refused a DNS-over-TCP connection from uid=0 cgroup=[^ ]*/hostile' "$QLOG"
ans=$(dig_short "$HOSTILE" +tcp h1.flood.test AAAA)
check "once they are closed, the app has its TCP share back ($ans)" \
	[ "$ans" = 2001:db8:f::1 ]

# 3. A burst of 1,000 client sockets, one query each: all answered, for
# a cached name and for 1,000 names never asked before.
# Warmed by the same client: its queries (no EDNS) have their own
# cache entry.
as_app "$APP_C" "$E2E_TMP/pid" "$DNS_CLIENT" 192.0.2.2 cached.app.test A \
	>/dev/null
out=$(as_app "$APP_C" "$E2E_TMP/pid" "$DNS_CLIENT" --burst 1000 192.0.2.2 \
	cached.app.test)
check "a burst of 1,000 queries for a cached name is answered in full ($out)" \
	[ "$out" = "answered=1000 noerror=1000 servfail=0 of 1000" ]
out=$(as_app "$APP_C" "$E2E_TMP/pid" "$DNS_CLIENT" --burst 1000 192.0.2.2 \
	'b%d.burst.test')
check_that "a burst of 1,000 new names from one app is answered in full, past its 128 pending queries with SERVFAIL ($out)" \
	'case "$out" in "answered=1000 "*" servfail=0 "*) false ;; "answered=1000 "*) true ;; *) false ;; esac'
check "those past its share are logged as such" \
	grep -q 'cgroup=[^ ]*/app-c .*decision=refused reason=app-pending-quota' "$QLOG"
out=$(as_app "$APP_C" "$E2E_TMP/pid" "$DNS_CLIENT" 192.0.2.2 good.app.test A | head -n 1)
check "once answered, the app has its pending share back ($out)" \
	[ "$out" = rcode=NOERROR ]

# 4. Malformed packets: logged with the app, at most a burst of them,
# with the count of the rest; another app's line still gets through.
i=0
while [ $i -lt 40 ]; do
	as_app "$APP_D" "$E2E_TMP/pid" "$DNS_CLIENT" --raw 192.0.2.2 \
		00010000000100000000000003 >/dev/null
	i=$((i + 1))
done
as_app "$APP_E" "$E2E_TMP/pid" "$DNS_CLIENT" --raw 192.0.2.2 \
	00020000000100000000000003 >/dev/null
n=$(grep -c 'answered a bad udp message .*cgroup=[^ ]*/app-d ' "$QLOG")
check "40 malformed packets from one app log at most a burst ($n)" \
	between_lines "$n" 1 12
check "another app's malformed packet is still logged" \
	grep -q 'answered a bad udp message .*cgroup=[^ ]*/app-e ' "$QLOG"
check "the suppressed lines about the first app are reported" within 7 \
	grep -q 'more log lines about cgroup=[^ ]*/app-d were suppressed' "$QLOG"

# 4b. Queries stuffed with TSIG records, 64 KB each, from an app that is
# not root (ldns 1.8.3 leaks every TSIG after the first, also when the
# parse fails: 300 of them once grew the daemon from 4.8 MB to 426 MB).
# Each gets FORMERR, and the daemon does not grow.
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status"; }
before=$(rss)
out=$(as_app "$APP_D" "$E2E_TMP/pid" setpriv --reuid=65534 --regid=65534 \
	--clear-groups "$DNS_CLIENT" --tsig-flood 300 192.0.2.2)
after=$(rss)
check "300 TSIG-stuffed 64 KB queries over TCP are each answered ($out)" \
	[ "$out" = "answered=300 of 300" ]
if ldd "$DNSGATED" 2>/dev/null | grep -q libasan; then
	# AddressSanitizer's quarantine keeps freed memory: RSS says nothing.
	ok "(growth not measured under AddressSanitizer: ${before} kB -> ${after} kB)"
else
	check_that "and the daemon grew by less than 8 MB (${before} kB -> ${after} kB)" \
		'[ $((after - before)) -lt 8192 ]'
fi

# 5. An answer with 100 addresses (more than one batch of 64 once held)
# is granted in full.
n=$(dig_short "$APP_M" many.app.test | grep -c '^203\.0\.113\.')
check "the app gets all 100 addresses ($n)" [ "$n" = 100 ]
n=$(grants_of app-m)
check "all 100 are granted to it ($n)" [ "$n" = 100 ]

# 5b. The table recreated after another program deleted it: every
# grant is gone, and so is every app's share of them.
in_client nft delete table inet dnsgate
within 3 sh -c "nsenter --net=/run/netns/$NS_CLIENT nft list chain inet dnsgate gate-output 2>/dev/null | grep -q reject"
ans=$(dig_short "$HOSTILE" h599.flood.test AAAA)
check "after the table is recreated, the flooder's share is free again ($ans)" \
	[ "$ans" = 2001:db8:f::599 ]
# Another program empties the grant set (the table itself kept): the
# shares follow what the kernel holds, not what was granted before.
# shellcheck disable=SC2046
as_app "$HOSTILE" "$E2E_TMP/pid" "$DIG" +short +time=2 +tries=1 @192.0.2.2 \
	$(numbered 1 149 'h&.flood.test AAAA') >/dev/null 2>&1
status=$(as_app "$HOSTILE" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 \
	@192.0.2.2 h598.flood.test AAAA | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
check "at its share again, the flooder is refused ($status)" [ "$status" = SERVFAIL ]
in_client nft flush set inet dnsgate allow6
within 3 grep -q 'another program changed the table inet dnsgate' "$QLOG"
sleep 0.2
ans=$(dig_short "$HOSTILE" h598.flood.test AAAA)
check "after another program emptied the set, its share is free ($ans)" \
	[ "$ans" = 2001:db8:f::598 ]

# 5c. Every query line names the app by its key (README, "Who the
# app is"): from the cgroup's unit name, with no random suffix.
VIEWER=$(new_app app.slice/app-flatpak-org.example.Viewer-4242.scope)
dig_short "$VIEWER" good.app.test >/dev/null
check "a Flatpak app's line names it by its app key" \
	grep -q 'query: app=flatpak:org.example.Viewer pid=[0-9]* .*qname=good.app.test ' "$QLOG"
check "a cgroup systemd did not make is named by its path" \
	grep -q "query: app=cgroup:/dnsgate-e2e-$$/app-b pid=" "$QLOG"

# 6. The counters, over the control socket; bad requests get a reason
# and change nothing.
st=$("$DNSGATECTL" -s "$CONTROL_SOCKET" status)
check_that "dnsgatectl status shows the refusals per share" \
	'printf "%s\n" "$st" | grep -qx "  grants: 482" &&
	 printf "%s\n" "$st" | grep -qx "  tcp_connections: 284"'
check_that "and the suppressed log lines" \
	'printf "%s\n" "$st" | grep -q "^log_lines_suppressed: [1-9]"'
out=$("$CONTROL_SEND" "$CONTROL_SOCKET" 'status please')
check "a request that is not JSON is refused with a reason ($out)" \
	[ "$out" = '{"error":"not a request: a request is one JSON object, {...}"}' ]
out=$("$CONTROL_SEND" "$CONTROL_SOCKET" '{"command": "reboot"}')
# The known commands grow: the reason names the command and lists them.
check_that "an unknown command is refused with a reason ($out)" \
	'case $out in "{\"error\":\"unknown command '"'reboot'"' (known: hello, version, status, "*")\"}") true ;; *) false ;; esac'
out=$("$CONTROL_SEND" "$CONTROL_SOCKET" '{"command": ["status"]}')
check "a command that is not a string is refused ($out)" \
	[ "$out" = '{"error":"not a request: a request holds only strings, numbers, true, false and null"}' ]
long=$(head -c 5000 /dev/zero | tr '\0' x)
out=$("$CONTROL_SEND" "$CONTROL_SOCKET" "$long")
check "a request over 4096 bytes is refused ($out)" \
	[ "$out" = '{"error":"a request line is longer than 4096 bytes: closing the connection"}' ]
out=$(as_app "$APP_B" "$E2E_TMP/pid" "$DNS_CLIENT" 192.0.2.2 good.app.test A | head -n 1)
check "after them the daemon still answers ($out)" [ "$out" = rcode=NOERROR ]
json=$("$DNSGATECTL" -s "$CONTROL_SOCKET" status --json)
check_that "status --json is one JSON object with the counters" \
	'case "$json" in "{\"version\":"*"\"refused_over_share\":{\"grants\":482,"*"}") true ;; *) false ;; esac'

stop_daemon
check "it stops cleanly" [ "$DAEMON_STATUS" = 0 ]
check "its control socket is removed" [ ! -e "$CONTROL_SOCKET" ]

# 7. Queries still out when the daemon stops are answered, over UDP and
# TCP, before the redirect goes (their answers go back through it). The
# upstream, 192.0.2.3, is a host that is not there: nothing comes back.
start_daemon "listen-port 5453
upstream 192.0.2.3
upstream-deadline 5000
log-file $E2E_TMP/drain.log"
as_app "$APP_C" "$E2E_TMP/pid" "$DNS_CLIENT" --burst 5 192.0.2.2 \
	'drain%d.app.test' >"$E2E_TMP/drain.udp" &
UDP_CLIENT=$!
as_app "$APP_B" "$E2E_TMP/pid" "$DIG" +tcp +time=4 +tries=1 @192.0.2.2 \
	drain-tcp.app.test >"$E2E_TMP/drain.tcp" 2>&1 &
TCP_CLIENT=$!
within 3 sh -c "[ \$(grep -c 'drain' '$E2E_TMP/drain.log') = 0 ] &&
	nsenter --net=/run/netns/$NS_CLIENT $DNSGATECTL -s $CONTROL_SOCKET status |
	grep -qx '  in_flight: 6'"
stop_daemon
wait "$UDP_CLIENT"
wait "$TCP_CLIENT"
check "the five UDP queries out at the stop get SERVFAIL ($(cat "$E2E_TMP/drain.udp"))" \
	[ "$(cat "$E2E_TMP/drain.udp")" = "answered=5 noerror=0 servfail=5 of 5" ]
check "so does the TCP one" grep -q 'status: SERVFAIL' "$E2E_TMP/drain.tcp"
check "the stop still removes the table" \
	sh -c "! nsenter --net=/run/netns/$NS_CLIENT nft list table inet dnsgate >/dev/null 2>&1"
check "the exit statistics count the refusals per share" \
	grep -q 'statistics at exit: refused over an app.s or user.s share: 482 for grants, [0-9]* for pending queries, 284 TCP connections' "$QLOG"

e2e_finish
