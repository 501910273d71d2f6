# lib.sh - the end-to-end tests' one namespace helper.
#
# Topology (documentation addresses only, nothing in the machine's own
# network namespace is touched):
#   namespace $NS_CLIENT  192.0.2.1/24  2001:db8::1/64   dnsgated + the apps
#        | veth
#   namespace $NS_NET     192.0.2.2/24  2001:db8::2/64   unbound (upstream)
#        and on its lo: 198.51.100.0/24 and 2001:db8:100::/64 servers
# Every app runs in its own cgroup under $CG_ROOT. cleanup() removes the
# namespaces, cgroups, processes and files on exit, also on failure.
#
# Sourced by a test; the test calls e2e_setup, then its checks with ok/fail,
# then e2e_finish.

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
DNSGATED=$top_builddir/dnsgated
DNSGATECTL=$top_builddir/dnsgatectl
TCP_PROBE=$top_builddir/tests/helpers/tcp_probe
DNS_CLIENT=$top_builddir/tests/helpers/dns_client
CONTROL_SEND=$top_builddir/tests/helpers/control_send

E2E_ID=dg$$
NS_CLIENT=${E2E_ID}-client
NS_NET=${E2E_ID}-net
E2E_TMP=
CG_ROOT=
DAEMON_PID=
BACKGROUND_PIDS=
PASSED=0
FAILED=0

skip() { echo "SKIP: $*"; exit 77; }

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }

# check DESCRIPTION COMMAND...: ok when the one command succeeds.
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else fail "$desc"; fi
}

# rejected OUTPUT: tcp_probe's output says the gate rejected the connect
# (at once: not a timeout, not a connection).
rejected() {
	case $1 in
	rejected*) return 0 ;;
	*) return 1 ;;
	esac
}

# check_that DESCRIPTION 'CONDITION': ok when the whole shell condition
# holds. For conditions with && or |, which after `check` would be parsed
# as the caller's own (only the first part asserted).
check_that() {
	if eval "$2"; then ok "$1"; else fail "$1"; fi
}

# within SECONDS COMMAND...: COMMAND succeeds, now or within SECONDS
# (tried every 0.1 s): for what the daemon does on a timer.
within() {
	tries=$(($1 * 10))
	shift
	while ! "$@"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

in_client() { nsenter --net=/run/netns/"$NS_CLIENT" "$@"; }
in_net() { nsenter --net=/run/netns/"$NS_NET" "$@"; }

cgroup2_mount() {
	awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo
}

cleanup() {
	set +e
	if [ -n "$DAEMON_PID" ]; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	for pid in $BACKGROUND_PIDS; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ -n "$CG_ROOT" ] && [ -d "$CG_ROOT" ]; then
		# Kill what is left in the test's cgroups, then remove them
		# innermost first.
		find "$CG_ROOT" -name cgroup.procs -exec cat {} + 2>/dev/null |
			xargs -r kill -KILL 2>/dev/null
		sleep 0.1
		find "$CG_ROOT" -depth -type d -exec rmdir {} + 2>/dev/null
	fi
	ip netns del "$NS_CLIENT" 2>/dev/null
	ip netns del "$NS_NET" 2>/dev/null
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
}

e2e_setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, nftables)"
	for tool in ip nsenter nft unbound dig; do
		command -v "$tool" >/dev/null 2>&1 ||
			skip "needs $tool (see README: scripts/check installs it)"
	done
	[ -x "$DNSGATED" ] || { echo "no $DNSGATED: build first"; exit 99; }
	# The binary itself, as the query log names it (exe=).
	DIG=$(readlink -f "$(command -v dig)")
	trap cleanup EXIT
	trap 'exit 1' INT TERM
	E2E_TMP=$(mktemp -d /tmp/dnsgate-e2e.XXXXXX)

	mount=$(cgroup2_mount)
	[ -n "$mount" ] || skip "no cgroup2 mount"
	CG_ROOT=$mount/dnsgate-e2e-$$
	mkdir "$CG_ROOT"

	ip netns add "$NS_CLIENT"
	ip netns add "$NS_NET"
	ip link add "${E2E_ID}c" netns "$NS_CLIENT" type veth \
		peer name "${E2E_ID}n" netns "$NS_NET"
	in_client ip link set lo up
	in_net ip link set lo up
	in_client ip addr add 192.0.2.1/24 dev "${E2E_ID}c"
	in_client ip addr add 2001:db8::1/64 dev "${E2E_ID}c" nodad
	in_net ip addr add 192.0.2.2/24 dev "${E2E_ID}n"
	in_net ip addr add 2001:db8::2/64 dev "${E2E_ID}n" nodad
	in_client ip link set "${E2E_ID}c" up
	in_net ip link set "${E2E_ID}n" up
	in_client ip route add default via 192.0.2.2
	in_client ip -6 route add default via 2001:db8::2
	in_net ip addr add 198.51.100.1/24 dev lo
	in_net ip addr add 2001:db8:100::1/64 dev lo nodad
}

# add_server ADDRESS: a TCP server on port 80 in the net namespace.
add_server() {
	case $1 in
	*:*) in_net ip addr add "$1/128" dev lo nodad 2>/dev/null ;;
	*) in_net ip addr add "$1/32" dev lo 2>/dev/null ;;
	esac
	# Not through in_net: a backgrounded function is a subshell, and $!
	# would be the subshell, not the server.
	nsenter --net=/run/netns/"$NS_NET" "$TCP_PROBE" --listen "$1" 80 &
	BACKGROUND_PIDS="$BACKGROUND_PIDS $!"
}

# run_unbound NAMESPACE NAME DIG_ARGS...: unbound in NAMESPACE with the
# config $E2E_TMP/NAME.conf (output in NAME.out), in the background until
# cleanup; returns 0 as soon as `dig DIG_ARGS` is answered there, 1 when
# it is not within 5 s.
run_unbound() {
	nsenter --net=/run/netns/"$1" unbound -d -c "$E2E_TMP/$2.conf" \
		>"$E2E_TMP/$2.out" 2>&1 &
	BACKGROUND_PIDS="$BACKGROUND_PIDS $!"
	unbound_ns=$1
	shift 2
	within 5 nsenter --net=/run/netns/"$unbound_ns" \
		dig +time=1 +tries=1 "$@" >/dev/null 2>&1
}

# start_unbound: the upstream, authoritative for the zone "test." made of
# LOCAL_DATA (one "name TTL IN TYPE data" per line; an auth-zone, unlike
# local-data, answers a CNAME with its in-zone chain as a recursive
# resolver would). Every other name is refused, so nothing is ever
# recursed anywhere.
start_unbound() {
	conf=$E2E_TMP/unbound.conf
	zone=$E2E_TMP/test.zone
	{
		printf '$ORIGIN test.\n$TTL 300\n'
		printf '@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 60\n'
		printf '@ IN NS ns.test.\nns IN A 192.0.2.2\n'
		printf '%s\n' "$LOCAL_DATA"
	} >"$zone"
	cat >"$conf" <<UNBOUND
server:
	interface: 192.0.2.2
	interface: 2001:db8::2
	port: 53
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$E2E_TMP"
	pidfile: "$E2E_TMP/unbound.pid"
	use-syslog: no
	logfile: "$E2E_TMP/unbound.log"
	verbosity: 1
	access-control: 0.0.0.0/0 allow
	access-control: ::/0 allow
	module-config: "iterator"
	local-zone: "." refuse
	local-zone: "test." transparent
auth-zone:
	name: "test."
	zonefile: "$zone"
	for-downstream: yes
	for-upstream: no
remote-control:
	control-enable: no
UNBOUND
	run_unbound "$NS_NET" unbound @192.0.2.2 ns.test && return 0
	echo "unbound did not start:"
	cat "$E2E_TMP/unbound.out" "$E2E_TMP/unbound.log" 2>/dev/null
	exit 99
}

# write_conf CONFIG_TEXT FILE SOCKET: a config for a dnsgated of the
# test, whose control socket is SOCKET (the test's own, never the host's
# /run/dnsgate) unless the config names one; its history likewise is the
# test's own file, never the host's /var/lib/dnsgate.
write_conf() {
	printf '%s\n' "$1" >"$2"
	grep -q '^control-socket' "$2" ||
		printf 'control-socket %s\n' "$3" >>"$2"
	grep -q '^history ' "$2" ||
		printf 'history %s\n' "$E2E_TMP/history.db" >>"$2"
}

# start_daemon CONFIG_TEXT: dnsgated in the client namespace, logging to
# $DAEMON_LOG; returns when the gate table exists. Its control socket is
# $CONTROL_SOCKET unless the config names one.
start_daemon() {
	DAEMON_CONF=$E2E_TMP/dnsgate.conf
	DAEMON_LOG=$E2E_TMP/dnsgated.log
	CONTROL_SOCKET=$E2E_TMP/control.sock
	write_conf "$1" "$DAEMON_CONF" "$CONTROL_SOCKET"
	nsenter --net=/run/netns/"$NS_CLIENT" "$DNSGATED" -c "$DAEMON_CONF" \
		>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		if in_client nft list table inet dnsgate >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "dnsgated did not start:"
	cat "$DAEMON_LOG"
	exit 99
}

# try_start CONFIG_TEXT: runs dnsgated (config $E2E_TMP/bad.conf) in the
# foreground, expecting it to stop by itself; sets START_OUT (what it
# said) and START_STATUS.
try_start() {
	write_conf "$1" "$E2E_TMP/bad.conf" "$E2E_TMP/bad.sock"
	START_OUT=$(in_client timeout 20 "$DNSGATED" -c "$E2E_TMP/bad.conf" 2>&1)
	START_STATUS=$?
}

# refused_with TEXT: the last try_start exited 1 saying TEXT.
refused_with() {
	[ "$START_STATUS" = 1 ] && printf '%s\n' "$START_OUT" | grep -qF -- "$1"
}

stop_daemon() {
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID"
	DAEMON_STATUS=$?
	DAEMON_PID=
}

# new_app NAME: a cgroup for one app; prints its directory.
new_app() {
	mkdir -p "$CG_ROOT/$1"
	echo "$CG_ROOT/$1"
}

# as_app CGROUP_DIR PIDFILE COMMAND...: runs COMMAND in the client
# namespace inside the cgroup; its pid (the same through the execs) is
# written to PIDFILE.
as_app() {
	cg=$1
	pidfile=$2
	shift 2
	sh -c 'echo $$ >"$1/cgroup.procs" && echo $$ >"$2" && ns=$3 &&
		shift 3 && exec nsenter --net="$ns" "$@"' \
		sh "$cg" "$pidfile" /run/netns/"$NS_CLIENT" "$@"
}

# dig_short CGROUP_DIR DIG_ARGS...: dig +short as that app, through the
# redirect (it asks the upstream's address; nft sends it to dnsgated).
dig_short() {
	cg=$1
	shift
	as_app "$cg" "$E2E_TMP/pid" "$DIG" +short +time=3 +tries=1 @192.0.2.2 "$@"
}

# connect CGROUP_DIR ADDRESS: a TCP connect to port 80 as that app;
# prints what tcp_probe says.
connect() { as_app "$1" "$E2E_TMP/cpid" "$TCP_PROBE" "$2" 80 2000; }

# numbered FROM TO TEMPLATE: TEMPLATE once for each number FROM..TO, one
# a line, with every & in it replaced by the number.
numbered() { seq "$1" "$2" | sed "s/.*/$3/"; }

e2e_finish() {
	if [ "$FAILED" != 0 ]; then
		echo "# dnsgated's log, for the failures above:"
		cat "$DAEMON_LOG" "${QLOG:-/dev/null}" 2>/dev/null | tail -n 60
	fi
	echo "# $PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ]
	exit $?
}
