#!/bin/sh
# upstream.sh - what dnsgated does when an upstream fails: a blackholed
# sole upstream, a dead first and a good second, REFUSED, stale answers
# when every upstream is down, an upstream that is dnsgated itself, a loop
# through another resolver on the host, 100 upstreams, and dnsgated's own
# query coming back to it.
#
# The blackhole is 192.0.2.3, an address on the net side whose packets
# an nft rule in the test's own net namespace drops (nothing answers, not
# even ICMP); the same table drops DNS to the real upstream when the test
# wants every upstream down.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
*.wild.test. 300 IN A 198.51.100.50
short.stale.test. 2 IN A 198.51.100.60
"

e2e_setup
start_unbound
in_net ip addr add 192.0.2.3/24 dev "${E2E_ID}n"
in_net nft add table inet blackhole
in_net nft add chain inet blackhole input '{ type filter hook input priority 0; }'
in_net nft add rule inet blackhole input ip daddr 192.0.2.3 drop
APP=$(new_app app)
ruleset_before=$(in_client nft list ruleset)

# lookup NAME: dig as the app, one try of 5 s as glibc would wait; sets
# STATUS, MS (how long it took), TTL and ADDR of the first A record.
lookup() {
	t0=$(date +%s%N)
	out=$(as_app "$APP" "$E2E_TMP/pid" "$DIG" +tries=1 +time=5 \
		@192.0.2.2 "$1" A)
	t1=$(date +%s%N)
	MS=$(((t1 - t0) / 1000000))
	STATUS=$(printf '%s\n' "$out" | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
	TTL=$(printf '%s\n' "$out" | awk '$1 !~ /^;/ && $4 == "A" { print $2; exit }')
	ADDR=$(printf '%s\n' "$out" | awk '$1 !~ /^;/ && $4 == "A" { print $5; exit }')
	echo "# $1: ${STATUS:-no answer} in $MS ms${TTL:+ (TTL $TTL)}"
}

# 1. An upstream that is dnsgated itself: refused at start, no table.
try_start "listen-port 5453
upstream 127.0.0.1:5453"
check_that "upstream 127.0.0.1:5453 with listen-port 5453 is refused at start (status $START_STATUS)" \
	'[ "$START_STATUS" = 1 ] && printf "%s\n" "$START_OUT" | grep -q "upstream 127.0.0.1:5453 is dnsgated itself"'
printf '%s\n' "$START_OUT" | sed 's/^/#   /'
check "a self-upstream leaves no table behind" \
	[ "$(in_client nft list ruleset)" = "$ruleset_before" ]

# 2. A blackholed sole upstream: SERVFAIL well before glibc's 5 s.
start_daemon "listen-port 5453
upstream 192.0.2.3
log-file $E2E_TMP/blackhole.log"
QLOG=$E2E_TMP/blackhole.log
lookup a.wild.test
check_that "a blackholed sole upstream: SERVFAIL in under 3 s ($STATUS in $MS ms)" \
	'[ "$STATUS" = SERVFAIL ] && [ "$MS" -lt 3000 ]'
lookup b.wild.test
check_that "and again for the next name ($STATUS in $MS ms)" \
	'[ "$STATUS" = SERVFAIL ] && [ "$MS" -lt 3000 ]'
check "the SERVFAIL says the upstream timed out" \
	grep -q 'qname=a.wild.test .*decision=servfail reason=upstream-failed upstream="no answer within the 1800 ms deadline: 192.0.2.3: timeout after' "$QLOG"
stop_daemon
check "the exit log counts its timeouts" \
	grep -Eq 'upstream 192.0.2.3: [0-9]+ queries, 0 answers, [1-9][0-9]* timeouts' "$QLOG"

# 3. A dead first upstream and a good second: only the first lookup may
# wait; every later uncached one answers at once.
start_daemon "listen-port 5453
upstream 192.0.2.3
upstream 192.0.2.2
log-file $E2E_TMP/deadfirst.log"
QLOG=$E2E_TMP/deadfirst.log
lookup first.wild.test
check_that "dead first upstream: the first lookup answers ($STATUS in $MS ms)" \
	'[ "$STATUS" = NOERROR ] && [ "$ADDR" = 198.51.100.50 ] && [ "$MS" -lt 1000 ]'
slow=0
slowest=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	lookup "n$i.wild.test" >/dev/null
	[ "$STATUS" = NOERROR ] || slow=$((slow + 1))
	[ "$MS" -lt 300 ] || slow=$((slow + 1))
	[ "$MS" -gt "$slowest" ] && slowest=$MS
done
check "10 further uncached lookups each answer in under 300 ms (slowest $slowest ms)" \
	[ "$slow" = 0 ]

# 4. An upstream's REFUSED is logged as REFUSED (unbound refuses every
# name outside test.), never as a refused connection.
lookup refused.example
check "a name the upstream refuses gets SERVFAIL ($STATUS)" [ "$STATUS" = SERVFAIL ]
check "the upstream's REFUSED is logged as REFUSED" \
	grep -q 'qname=refused.example .*decision=servfail reason=upstream-failed upstream=".*192.0.2.2: REFUSED' "$QLOG"
if grep -q 'refused the connection' "$QLOG"; then
	fail "an answer is described as a refused connection"
else
	ok "no answer is described as a refused connection"
fi
stop_daemon
check "the exit log has one line per upstream" \
	sh -c "grep -c 'info: upstream 192.0.2.[23]: ' '$QLOG' | grep -qx 2"
grep 'info: upstream 192.0.2' "$QLOG" | sed 's/^/#   /'

# 5. A name cached, expired, and every upstream down: the stale answer,
# TTL 30, within the deadline.
start_daemon "listen-port 5453
upstream 192.0.2.2
log-file $E2E_TMP/stale.log"
QLOG=$E2E_TMP/stale.log
lookup short.stale.test
check "a 2 s answer is cached ($STATUS, TTL $TTL)" [ "$TTL" = 2 ]
in_net nft add rule inet blackhole input ip daddr 192.0.2.2 udp dport 53 drop
in_net nft add rule inet blackhole input ip daddr 192.0.2.2 tcp dport 53 drop
sleep 3
lookup short.stale.test
check_that "upstream down, entry expired: the stale answer, TTL 30, in under 2.5 s ($STATUS $ADDR TTL $TTL in $MS ms)" \
	'[ "$STATUS" = NOERROR ] && [ "$ADDR" = 198.51.100.60 ] && [ "$TTL" = 30 ] && [ "$MS" -lt 2500 ]'
check "the stale answer is logged as stale, with why" \
	grep -q 'qname=short.stale.test .*decision=allow .* stale upstream="no answer within the 1800 ms deadline: 192.0.2.2: timeout' "$QLOG"
lookup never.wild.test
check_that "a name never cached gets SERVFAIL in under 2.5 s ($STATUS in $MS ms)" \
	'[ "$STATUS" = SERVFAIL ] && [ "$MS" -lt 2500 ]'
lookup short.stale.test
check_that "and the stale one again, TTL 30 ($STATUS TTL $TTL in $MS ms)" \
	'[ "$STATUS" = NOERROR ] && [ "$TTL" = 30 ] && [ "$MS" -lt 2500 ]'
stop_daemon
check "stale answers are counted at exit" \
	grep -q 'statistics at exit: .* 2 stale' "$QLOG"
in_net nft flush chain inet blackhole input
in_net nft add rule inet blackhole input ip daddr 192.0.2.3 drop

# 6. A loop through another resolver on this host: an unbound in the
# client namespace that forwards to 192.0.2.2 port 53, which the redirect
# sends back to dnsgated.
cat >"$E2E_TMP/forwarder.conf" <<UNBOUND
server:
	interface: 127.0.0.1@5300
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$E2E_TMP"
	pidfile: "$E2E_TMP/forwarder.pid"
	use-syslog: no
	logfile: "$E2E_TMP/forwarder.log"
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
	do-not-query-localhost: no
	local-zone: "test." nodefault
forward-zone:
	name: "."
	forward-addr: 192.0.2.2@53
remote-control:
	control-enable: no
UNBOUND
run_unbound "$NS_CLIENT" forwarder @127.0.0.1 -p 5300 ns.test
try_start "listen-port 5453
upstream 127.0.0.1:5300"
check_that "an upstream that forwards back to dnsgated: it stops (status $START_STATUS)" \
	'[ "$START_STATUS" = 1 ] && printf "%s\n" "$START_OUT" | grep -q "upstream 127.0.0.1:5300 loops" &&
	 printf "%s\n" "$START_OUT" | grep -q "every upstream loops back to dnsgated"'
printf '%s\n' "$START_OUT" | grep -E 'error' | sed 's/^/#   /'
check "after stopping for a loop no table is left" \
	[ "$(in_client nft list ruleset)" = "$ruleset_before" ]
start_daemon "listen-port 5453
upstream 127.0.0.1:5300
upstream 192.0.2.2
log-file $E2E_TMP/loop.log"
QLOG=$E2E_TMP/loop.log
for _ in $(seq 40); do
	grep -q 'upstream 127.0.0.1:5300 loops' "$QLOG" && break
	sleep 0.05
done
check "with a second upstream, the looping one is dropped with an error" \
	grep -q 'error: upstream 127.0.0.1:5300 loops' "$QLOG"
lookup after-loop.wild.test
check_that "and the other one answers ($STATUS $ADDR in $MS ms)" \
	'[ "$STATUS" = NOERROR ] && [ "$ADDR" = 198.51.100.50 ]'
stop_daemon
check "the looping upstream got nothing but its probe" \
	grep -q 'upstream 127.0.0.1:5300: 1 queries, .*dropped (loop)' "$QLOG"

# 7. 100 upstreams, all used as configured: 99 closed ports on this host
# (each refuses the connection at once), and the real one last, past
# where the old 1023-character list was cut.
CONF="listen-port 5453
log-file $E2E_TMP/hundred.log"
i=6001
while [ $i -le 6099 ]; do
	CONF="$CONF
upstream 127.0.0.1:$i"
	i=$((i + 1))
done
CONF="$CONF
upstream 192.0.2.2"
start_daemon "$CONF"
QLOG=$E2E_TMP/hundred.log
lookup hundred.wild.test
check_that "with 100 upstreams, the 100th answers ($STATUS $ADDR in $MS ms)" \
	'[ "$STATUS" = NOERROR ] && [ "$ADDR" = 198.51.100.50 ]'
check "the start line lists all 100, the last one too" \
	grep -q 'upstreams 127.0.0.1:6001,.*,127.0.0.1:6099,192.0.2.2, ' "$QLOG"
stop_daemon
n=$(grep -c 'info: upstream 127.0.0.1:60[0-9][0-9]: 1 queries, 0 answers, 0 timeouts, 0 SERVFAIL, 0 REFUSED, 1 errors' "$QLOG")
check "each of the 99 closed ones was asked and refused the connection ($n)" [ "$n" = 99 ]
check "the 100th answered" \
	grep -Eq 'info: upstream 192.0.2.2: [0-9]+ queries, [1-9][0-9]* answers' "$QLOG"
n=$(grep -c 'info: upstream ' "$QLOG")
check "and no other server was used: 100 upstream lines at exit ($n)" [ "$n" = 100 ]

# 8. dnsgated's own query coming back to it (here: another table in the
# client namespace redirects even its marked upstream queries, once the
# loop check is past): answered REFUSED at once, not sent on again.
start_daemon "listen-port 5453
upstream 192.0.2.2
log-file $E2E_TMP/self.log"
QLOG=$E2E_TMP/self.log
lookup before-self.wild.test >/dev/null # the loop check is done by now
in_client nft add table ip selfloop
in_client nft add chain ip selfloop out '{ type nat hook output priority -150; }'
in_client nft add rule ip selfloop out udp dport 53 redirect to :5453
# NAT is decided on a flow's first packet: if c-ares still held a socket
# from before the table, a later query leaves from a fresh one (a channel
# is replaced after 16 queries), so ask until one comes back.
i=0
while [ $i -lt 40 ]; do
	i=$((i + 1))
	lookup "self$i.wild.test" >/dev/null
	[ "$STATUS" = NOERROR ] || break
done
in_client nft delete table ip selfloop
check_that "a query from dnsgated itself is answered REFUSED, the client SERVFAIL (self$i: $STATUS in $MS ms)" \
	'[ "$STATUS" = SERVFAIL ] && [ "$MS" -lt 2500 ]'
check "the loop is logged as dnsgated's own query" \
	grep -q "qname=self$i.wild.test .*decision=refused reason=loop (dnsgated's own query came back to it" "$QLOG"
check "and the upstream try is logged as REFUSED" \
	grep -q "qname=self$i.wild.test .*decision=servfail reason=upstream-failed upstream=\"192.0.2.2: REFUSED\"" "$QLOG"
n=$(grep -c "qname=self$i.wild.test .*decision=refused" "$QLOG")
check "it came back once, not round and round ($n)" [ "$n" = 1 ]
json=$("$DNSGATECTL" -s "$CONTROL_SOCKET" status --json)
check_that "dnsgatectl status counts the loop refused" \
	'case "$json" in *"\"loops_refused\":1,"*) true ;; *) false ;; esac'
stop_daemon

e2e_finish
