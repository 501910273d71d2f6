#!/bin/sh
# gate.sh - the gated DNS path end to end: redirect, attribution, per-app
# grants, blocking, IPv6, DNS over TCP, unconnected clients, bad input,
# and a clean ruleset after the daemon stops.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
allowed.app.test. 300 IN A 198.51.100.10
other.app.test. 300 IN A 198.51.100.11
tracker.ads.test. 300 IN A 198.51.100.12
alias.app.test. 300 IN CNAME real.app.test.
real.app.test. 300 IN A 198.51.100.13
sneaky.app.test. 300 IN CNAME cdn.ads.test.
cdn.ads.test. 300 IN A 198.51.100.14
tcp.app.test. 300 IN A 198.51.100.20
v6.app.test. 300 IN AAAA 2001:db8:100::10
unconnected.app.test. 300 IN A 198.51.100.30
"

e2e_setup
for a in 198.51.100.10 198.51.100.11 198.51.100.12 198.51.100.13 \
	198.51.100.20 198.51.100.30 2001:db8:100::10; do
	add_server "$a"
done
start_unbound

# Something else in the client's ruleset that dnsgate must not touch,
# with a nat output chain, as Docker hosts have (so the kernel's nat
# hooks stay registered after dnsgate's table goes).
in_client nft add table inet other
in_client nft add chain inet other keep
in_client nft add chain inet other nat "{ type nat hook output priority 100; }"
ruleset_before=$(in_client nft list ruleset)

printf '# a test block list\nads.test\n0.0.0.0 tracker.example\n' \
	>"$E2E_TMP/block.txt"
start_daemon "listen-port 5453
upstream 192.0.2.2
blocklist $E2E_TMP/block.txt
log-file $E2E_TMP/query.log"
QLOG=$E2E_TMP/query.log

APP_A=$(new_app app-a)
APP_B=$(new_app app-b)

# resolve CGROUP NAME TYPE [dig options]: dig as that app, through the
# redirect (dig asks the upstream's own address; nft sends it to us).
# Sets ANSWER and DIG_PID.
resolve() {
	cg=$1 name=$2 type=$3
	shift 3
	ANSWER=$(as_app "$cg" "$E2E_TMP/pid" "$DIG" +short +time=2 +tries=1 \
		"$@" "$name" "$type")
	DIG_PID=$(cat "$E2E_TMP/pid")
}

logged() { grep -F -- "$1" "$QLOG" | grep -qF -- "$2"; }

# 1. App A resolves an allowed name, then connects to its address.
resolve "$APP_A" allowed.app.test A @192.0.2.2
check "app A resolves allowed.app.test through the redirect" \
	[ "$ANSWER" = 198.51.100.10 ]
out=$(connect "$APP_A" 198.51.100.10)
check "app A connects to the address it resolved ($out)" [ "$out" = connected ]
check "the log names dig's pid and exe for app A's query" \
	logged "qname=allowed.app.test " "pid=$DIG_PID exe=$DIG "
check "the log names app A's cgroup" \
	logged "qname=allowed.app.test " "cgroup=/dnsgate-e2e-$$/app-a "
check "the log gives the decision and the answer" \
	logged "qname=allowed.app.test " "decision=allow rcode=NOERROR answer=198.51.100.10"

# 2. App B, in another cgroup, connects to it without resolving it.
out=$(connect "$APP_B" 198.51.100.10)
check "app B is rejected from app A's address ($out) ($out)" rejected "$out"

# 3. App A connects to an address it never resolved.
out=$(connect "$APP_A" 198.51.100.11)
check "app A is rejected from an address it never resolved ($out)" rejected "$out"

# 4. A listed name: NXDOMAIN, and nothing enters the sets.
status=$(as_app "$APP_A" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 \
	@192.0.2.2 tracker.ads.test A | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
check "a listed name (subdomain of ads.test) gets NXDOMAIN" \
	[ "$status" = NXDOMAIN ]
check "the block is logged with its list and rule" \
	logged "qname=tracker.ads.test " "decision=block reason=listed list=block entry=ads.test rule=$E2E_TMP/dnsgate.conf:"
out=$(connect "$APP_A" 198.51.100.12)
check "the blocked name's real address stays closed ($out)" rejected "$out"
if in_client nft list set inet dnsgate allow4 | grep -q 198.51.100.12; then
	fail "a blocked name's address appeared in allow4"
else
	ok "no element for the blocked name in allow4"
fi

# 4b. A name whose CNAME chain reaches a listed domain is blocked too;
# an unlisted chain is followed and its final address granted.
resolve "$APP_A" sneaky.app.test A @192.0.2.2
check "a CNAME into a listed domain is blocked" [ -z "$ANSWER" ]
check "the CNAME block is logged with the chain name" \
	logged "qname=sneaky.app.test " "decision=block reason=cname-listed cname=cdn.ads.test list=block entry=ads.test"
resolve "$APP_A" alias.app.test A @192.0.2.2
out=$(connect "$APP_A" 198.51.100.13)
check "an unlisted CNAME chain is followed and its address granted ($out)" \
	[ "$out" = connected ]

# 5. The same over IPv6: AAAA asked over IPv6 transport.
resolve "$APP_A" v6.app.test AAAA @2001:db8::2
check "app A resolves an AAAA over IPv6 transport" \
	[ "$ANSWER" = 2001:db8:100::10 ]
check "the IPv6 query is attributed to dig" \
	logged "qname=v6.app.test " "pid=$DIG_PID exe=$DIG "
out=$(connect "$APP_A" 2001:db8:100::10)
check "app A connects over IPv6 to what it resolved ($out)" \
	[ "$out" = connected ]
out=$(connect "$APP_B" 2001:db8:100::10)
check "app B is rejected from app A's IPv6 address ($out)" rejected "$out"

# 6. DNS over TCP.
resolve "$APP_B" tcp.app.test A @192.0.2.2 +tcp
check "app B resolves over TCP" [ "$ANSWER" = 198.51.100.20 ]
check "the TCP query is attributed to dig, proto tcp" \
	logged "qname=tcp.app.test " "pid=$DIG_PID exe=$DIG "
check "the TCP query is logged as tcp" logged "qname=tcp.app.test " "proto=tcp"
out=$(connect "$APP_B" 198.51.100.20)
check "app B connects to what it resolved over TCP ($out)" [ "$out" = connected ]
out=$(connect "$APP_A" 198.51.100.20)
check "app A is rejected from app B's TCP-resolved address ($out)" rejected "$out"

# A TCP client may shut down its sending side right after its query (a
# half-close): it must still get its answer.
out=$(as_app "$APP_B" "$E2E_TMP/pid" "$DNS_CLIENT" --tcp-half-close \
	192.0.2.2 tcp.app.test)
check "a TCP client that half-closes after its query gets the answer ($out)" \
	[ "$out" = rcode=NOERROR ]

# Two apps' TCP sockets may share one local port (SO_REUSEADDR, or the
# kernel reusing a port for different peers): app A holds a connection
# from port P to its granted server while app B asks over TCP from P. The
# query is B's, told apart by the peer (the redirect's original
# destination), so the grant must go to B, never to A.
for port in 40001 40002 40003 40004 40005 40006 40007 40008 40009 40010; do
	as_app "$APP_A" "$E2E_TMP/hpid" "$TCP_PROBE" --hold 1 "$port" \
		198.51.100.10 80 >"$E2E_TMP/hold.out" &
	hold_pid=$!
	sleep 0.2
	out=$(as_app "$APP_B" "$E2E_TMP/pid" "$DNS_CLIENT" --tcp-half-close \
		192.0.2.2 tcp.app.test "$port")
	bpid=$(cat "$E2E_TMP/pid")
	wait "$hold_pid"
	check "app A holds a connection from port $port ($(cat "$E2E_TMP/hold.out"))" \
		[ "$(cat "$E2E_TMP/hold.out")" = connected ]
	check "app B's TCP query from A's port $port is answered ($out)" \
		[ "$out" = rcode=NOERROR ]
	check "a query from a shared local port ($port) is attributed to its app" \
		logged "pid=$bpid " "cgroup=/dnsgate-e2e-$$/app-b "
done

# 7. An unconnected UDP client socket (sendto), not glibc/dig style.
ans=$(as_app "$APP_A" "$E2E_TMP/upid" "$DNS_CLIENT" 192.0.2.2 \
	unconnected.app.test A)
upid=$(cat "$E2E_TMP/upid")
check "an unconnected client gets its answer" \
	[ "$(echo "$ans" | tail -n 1)" = 198.51.100.30 ]
check "the unconnected client is attributed to its pid and exe" \
	logged "qname=unconnected.app.test " "pid=$upid exe=$(readlink -f "$DNS_CLIENT") "
out=$(connect "$APP_A" 198.51.100.30)
check "the unconnected client's app can connect ($out)" [ "$out" = connected ]

# 8. Bad input: a garbage datagram and a query with two questions. The
# daemon answers or drops them, says why, and keeps serving.
out=$(in_client "$DNS_CLIENT" --raw 192.0.2.2 1234)
check "a 2-byte datagram is dropped, not answered ($out)" [ "$out" = "no answer" ]
out=$(in_client "$DNS_CLIENT" --raw 192.0.2.2 \
	123401000002000000000000017803746573740000010001017803746573740000010001)
check "a query with two questions gets FORMERR ($out)" [ "$out" = rcode=FORMERR ]
check "the bad messages are logged with a reason" \
	grep -q "query has 2 questions; a stub query has one" "$DAEMON_LOG" "$QLOG"
resolve "$APP_A" other.app.test A @192.0.2.2
check "the daemon still serves after bad input" [ "$ANSWER" = 198.51.100.11 ]

# An app in the root cgroup gets its answer but no grant: the root cgroup
# is every process, and a grant there would open the address to all.
ROOT_CG=$(cgroup2_mount)
ans=$(as_app "$ROOT_CG" "$E2E_TMP/pid" "$DIG" +short +time=2 +tries=1 \
	@192.0.2.2 unconnected.app.test A)
check "an app in the root cgroup gets its answer ($ans)" \
	[ "$ans" = 198.51.100.30 ]
check "and the log says nothing was granted, and why" \
	logged "pid=$(cat "$E2E_TMP/pid") " "granted=none (app runs in the root cgroup"
out=$(as_app "$ROOT_CG" "$E2E_TMP/cpid" "$TCP_PROBE" 198.51.100.30 80 2000)
check "and it cannot connect to that address ($out)" rejected "$out"

# 9. The grants, as dnsgatectl sees them.
grants=$(in_client "$DNSGATECTL" grants)
check "dnsgatectl lists app A's grant" \
	sh -c "echo '$grants' | grep -q '/dnsgate-e2e-$$/app-a .*198.51.100.10 '"
rejected=$(in_client "$DNSGATECTL" rejected)
check "the gate counted rejected packets ($rejected)" [ "$rejected" -gt 0 ]

# 10. After the daemon stops, the ruleset is as it was, and so is DNS: a
# long-lived client socket whose flow conntrack has bound to the redirect
# must reach its server again, not the daemon's dead port.
as_app "$APP_A" "$E2E_TMP/rpid" "$DNS_CLIENT" --repeat 16 150 192.0.2.2 \
	other.app.test >"$E2E_TMP/repeat.out" &
repeat_pid=$!
sleep 1
stop_daemon
wait "$repeat_pid"
first=$(head -n 3 "$E2E_TMP/repeat.out" | sort -u | tr '\n' ' ')
check "a long-lived DNS socket is answered while dnsgated runs ($first)" \
	[ "$first" = "answer " ]
last=$(tail -n 4 "$E2E_TMP/repeat.out" | sort -u | tr '\n' ' ')
check "a long-lived DNS socket is answered after the stop ($last)" \
	[ "$last" = "answer " ]
check "dnsgated exits 0 on SIGTERM" [ "$DAEMON_STATUS" = 0 ]
ruleset_after=$(in_client nft list ruleset)
check "the ruleset after stop is the ruleset before start" \
	[ "$ruleset_before" = "$ruleset_after" ]

e2e_finish
