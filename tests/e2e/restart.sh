#!/bin/sh
# restart.sh - dnsgated dies and comes back. A kill -9 keeps the grants
# (the table is adopted) and a changed config still takes effect; a table
# of another shape is replaced and logged; a foreign rule is undone
# without losing grants. SIGUSR1, SIGUSR2 and the ignored signals leave it
# answering; SIGQUIT stops it cleanly. fail-mode closed and open as the
# shipped systemd unit carries them out, including a fault.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
kept.app.test. 300 IN A 198.51.100.50
other.app.test. 300 IN A 198.51.100.51
late.app.test. 300 IN A 198.51.100.52
"

e2e_setup
for a in 198.51.100.50 198.51.100.51 198.51.100.52 198.51.100.60 \
	203.0.113.20; do
	add_server "$a"
done
start_unbound
APP=$(new_app app)
LOG=$E2E_TMP/log-file.log # not $DAEMON_LOG, which each start empties
UNIT=$top_srcdir/etc/dnsgated.service
QLOG=$LOG # e2e_finish shows it on a failure

# conf EXTRA_LINES: the test's config with the lines added.
conf() {
	printf 'listen-port 5453\nupstream 192.0.2.2\nlog-file %s\n%s\n' \
		"$LOG" "$1"
}

# up COUNT: waits until the log shows COUNT starts ("DNS on ..."), that
# is until the daemon started last is serving (start_daemon returns as
# soon as a table exists, and after a crash one is there already).
starts=0
up() {
	starts=$((starts + 1))
	for _ in $(seq 100); do
		seen=$(grep -c ': DNS on 127.0.0.1' "$LOG" 2>/dev/null)
		[ "${seen:-0}" -ge "$starts" ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "dnsgated did not start:"
	cat "$LOG" "$DAEMON_LOG"
	exit 99
}
restart() {
	start_daemon "$(conf "$1")"
	up
}

# crash SIGNAL: the daemon dies of SIGNAL; sets CRASH_STATUS.
crash() {
	kill -"$1" "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	CRASH_STATUS=$?
	DAEMON_PID=
}

resolve() {
	as_app "$APP" "$E2E_TMP/pid" "$DIG" +short +time=2 +tries=1 \
		@192.0.2.2 "$1"
}
connect() { as_app "$APP" "$E2E_TMP/cpid" "$TCP_PROBE" "$1" 80 2000; }

# left ADDRESS: seconds left on the app's grant for ADDRESS.
left() {
	in_client "$DNSGATECTL" grants |
		awk -v a="$1" '$2 == a { sub("s", "", $3); print $3 }'
}
has_table() { in_client nft list table inet dnsgate >/dev/null 2>&1; }
logged() { grep -qF -- "$1" "$LOG"; }
# mark, then logged_since TEXT: TEXT is in a line logged after the mark.
mark() { MARK=$(wc -l <"$LOG"); }
logged_since() { tail -n +$((MARK + 1)) "$LOG" | grep -qF -- "$1"; }
answering() {
	[ "$(resolve kept.app.test)" = 198.51.100.50 ]
}

# getaddrinfo NAME: glibc's lookup as the app, with a resolv.conf naming
# the upstream (bound over /etc/resolv.conf in a mount namespace of its
# own, so the machine's file is untouched). Prints the address.
printf 'nameserver 192.0.2.2\noptions timeout:5 attempts:1\n' \
	>"$E2E_TMP/resolv.conf"
getaddrinfo() {
	as_app "$APP" "$E2E_TMP/gpid" unshare -m sh -c \
		'mount --bind "$1" /etc/resolv.conf && getent ahostsv4 "$2"' \
		sh "$E2E_TMP/resolv.conf" "$1" | awk '{ print $1; exit }'
}

# ExecStopPost of the shipped unit, with this build and this config.
stop_post() {
	cmd=$(sed -n 's/^ExecStopPost=-\{0,1\}//p' "$UNIT" |
		sed "s|/usr/local/sbin/dnsgatectl|$DNSGATECTL|;
		     s|/usr/local/etc/dnsgate/dnsgate.conf|$DAEMON_CONF|")
	# shellcheck disable=SC2086 # a command line, split as systemd does
	STOP_POST_OUT=$(in_client $cmd 2>&1)
}

# 1. kill -9 and a restart: the grant survives, its timeout running on.
restart "exempt 198.51.100.60/32"
ans=$(resolve kept.app.test)
out=$(connect 198.51.100.50)
check_that "before the crash, the app resolves and connects ($ans, $out)" \
	'[ "$ans" = 198.51.100.50 ] && [ "$out" = connected ]'
before=$(left 198.51.100.50)
out=$(connect 203.0.113.20)
check "203.0.113.20 is not exempt yet ($out)" rejected "$out"
out=$(connect 198.51.100.60)
check "198.51.100.60 is exempt ($out)" [ "$out" = connected ]
sleep 2
crash KILL
check "after kill -9 the table stays (fail-mode closed, the default)" has_table
restart "exempt 203.0.113.0/24"
out=$(connect 198.51.100.50)
check "after the restart the app connects without resolving again ($out)" \
	[ "$out" = connected ]
n=$(grep -c 'qname=kept.app.test ' "$LOG")
check "... and it did not resolve again ($n query logged)" [ "$n" = 1 ]
after=$(left 198.51.100.50)
check_that "the grant's timeout ran on, not renewed ($before s, then $after s)" \
	'[ -n "$after" ] && [ "$after" -le $((before - 2)) ] && [ "$after" -ge $((before - 10)) ]'
check "the adoption is logged with the number of grants" \
	logged "adopted the table inet dnsgate left by an earlier dnsgated with 1 live grants"

# 2. The config changed while it was down: the rules and exempt sets are
# renewed from it.
out=$(connect 203.0.113.20)
check "an exempt line added before the restart takes effect ($out)" \
	[ "$out" = connected ]
out=$(connect 198.51.100.60)
check "an exempt line removed before the restart takes effect ($out)" \
	rejected "$out"

# 3. Another program slips a rule into the table: undone, grants kept.
in_client nft insert rule inet dnsgate gate-output accept
for _ in $(seq 40); do
	logged "renewed its rules and exempt networks around the grants" && break
	sleep 0.05
done
check "a foreign rule is undone around the grants, and logged so" \
	logged "renewed its rules and exempt networks around the grants"
out=$(connect 198.51.100.50)
check "the grant survived the foreign rule ($out)" [ "$out" = connected ]
out=$(connect 198.51.100.52)
check "the foreign accept rule is gone ($out)" rejected "$out"
# An element slipped into a grant set: nothing there can be trusted.
# (nft names a cgroup by its path under /sys/fs/cgroup.)
in_client nft add element inet dnsgate allow4 \
	"{ \"${CG_ROOT#/sys/fs/cgroup/}/app\" . 198.51.100.52 timeout 1h }"
for _ in $(seq 40); do
	logged "it wrote into the grant sets" && break
	sleep 0.05
done
check "a foreign grant makes the table be replaced, and logged so" \
	logged "it wrote into the grant sets"
out=$(connect 198.51.100.52)
check "the foreign grant is gone ($out)" rejected "$out"
ans=$(resolve kept.app.test)
out=$(connect 198.51.100.50)
check_that "resolving grants again after that ($ans, $out)" \
	'[ "$ans" = 198.51.100.50 ] && [ "$out" = connected ]'

# 4. Sets of another size cannot be kept: replaced, and logged why.
crash KILL
mark
restart "set-size 1024"
check "a table with another set-size is replaced, and logged why" \
	logged_since "replaced the table inet dnsgate left by an earlier dnsgated: its set allow4 holds at most 65536 elements, and set-size is now 1024. Its 1 grants are dropped"
out=$(connect 198.51.100.50)
check "... and its grants are gone ($out)" rejected "$out"
check "the new sets have the new size" \
	sh -c "nsenter --net=/run/netns/$NS_CLIENT nft list set inet dnsgate allow4 | grep -q 'size 1024'"

ans=$(getaddrinfo other.app.test)
check "glibc's getaddrinfo resolves through dnsgated ($ans)" \
	[ "$ans" = 198.51.100.51 ]

# 5. SIGUSR1 logs the statistics and it keeps answering.
resolve kept.app.test >/dev/null
mark
kill -USR1 "$DAEMON_PID"
sleep 0.2
line=$(tail -n +$((MARK + 1)) "$LOG" | grep -F 'statistics (SIGUSR1)' | head -n 1)
check_that "SIGUSR1 logs the statistics (${line#* info: })" \
	'printf "%s" "$line" | grep -qE "statistics \(SIGUSR1\): [0-9]+ queries, [0-9]+ allowed, .*, [0-9]+ grants written, [0-9]+ live, [0-9]+ packets rejected, up [0-9]+h[0-9]{2}m[0-9]{2}s$"'
check "and its shares, lists and upstreams too" \
	sh -c "tail -n +$((MARK + 1)) '$LOG' | grep -q 'info: upstream 192.0.2.2: [0-9]* queries'"
check "after SIGUSR1 it keeps answering" answering

# SIGUSR2 reopens the log file, for logrotate.
mv "$LOG" "$LOG.1"
kill -USR2 "$DAEMON_PID"
sleep 0.2
check "SIGUSR2 opens a new log file" logged "SIGUSR2: reopened log-file $LOG"
resolve late.app.test >/dev/null
check "queries are logged to the new file" logged "qname=late.app.test "
check_that "the old file keeps what came before" \
	'grep -q "statistics (SIGUSR1)" "$LOG.1" && ! grep -q late.app.test "$LOG.1"'
cat "$LOG.1" "$LOG" >"$LOG.all" && mv "$LOG.all" "$LOG"
kill -USR2 "$DAEMON_PID"
sleep 0.1

# 6. Signals that would end or stop it by default are ignored.
for sig in PIPE ALRM VTALRM PROF IO PWR XFSZ XCPU STKFLT TSTP TTIN TTOU \
	34 35 50 64; do
	kill -"$sig" "$DAEMON_PID"
	sleep 0.05
	state=$(awk '{ print $3 }' "/proc/$DAEMON_PID/stat" 2>/dev/null)
	check_that "SIG$sig is ignored: still running (state $state) and answering" \
		'[ "$state" = S ] || [ "$state" = R ] && answering'
done

# 7. fail-mode closed: a fault kills it, the table stays, and DNS fails
# fast while it is down.
crash SEGV
# (139: killed by SIGSEGV; a build with --enable-sanitizers exits 1.)
check "SIGSEGV ends it as a fault (status $CRASH_STATUS)" \
	[ "$CRASH_STATUS" -ne 0 ]
stop_post
check_that "fail-mode closed: the unit's ExecStopPost leaves the table ($STOP_POST_OUT)" \
	'has_table && printf "%s" "$STOP_POST_OUT" | grep -q "fail-mode closed: left the table"'
t0=$(date +%s%N)
out=$(as_app "$APP" "$E2E_TMP/pid" "$DIG" +time=5 +tries=1 @192.0.2.2 \
	kept.app.test 2>&1)
ms=$((($(date +%s%N) - t0) / 1000000))
check_that "fail-mode closed: a query while it is down is refused at once ($ms ms: $(printf "%s" "$out" | grep -io 'connection refused' | head -n 1))" \
	'[ "$ms" -lt 1000 ] && printf "%s" "$out" | grep -qi "connection refused"'
t0=$(date +%s%N)
ans=$(getaddrinfo other.app.test)
ms=$((($(date +%s%N) - t0) / 1000000))
check_that "fail-mode closed: glibc's getaddrinfo fails at once too ($ms ms, '$ans')" \
	'[ "$ms" -lt 1000 ] && [ -z "$ans" ]'
out=$(connect 198.51.100.60)
check "fail-mode closed: nothing new gets through while it is down ($out)" \
	rejected "$out"
out=$(connect 198.51.100.50)
check "fail-mode closed: what was granted still is, while it is down ($out)" \
	[ "$out" = connected ]
grants=$(in_client "$DNSGATECTL" grants | wc -l)
mark
restart "set-size 1024"
check "the table the fault left is adopted with its $grants grants" \
	logged_since "adopted the table inet dnsgate left by an earlier dnsgated with $grants live grants"

# 8. A clean stop removes the table in either mode; SIGQUIT is one.
kill -QUIT "$DAEMON_PID"
wait "$DAEMON_PID"
status=$?
DAEMON_PID=
check_that "SIGQUIT stops it cleanly: exit 0, table removed (status $status)" \
	'[ "$status" = 0 ] && ! has_table'
stop_post
check_that "after a clean stop the unit's ExecStopPost has nothing to do ($STOP_POST_OUT)" \
	'! has_table && printf "%s" "$STOP_POST_OUT" | grep -q "no table inet dnsgate"'

# 9. fail-mode open: after kill -9 the unit's ExecStopPost removes the
# table and the host works without dnsgated.
restart "fail-mode open"
resolve kept.app.test >/dev/null
crash KILL
check "fail-mode open: right after kill -9 the table is still there" has_table
stop_post
check_that "fail-mode open: the unit's ExecStopPost removes it ($STOP_POST_OUT)" \
	'! has_table && printf "%s" "$STOP_POST_OUT" | grep -q "fail-mode open: removed"'
ans=$(resolve other.app.test)
out=$(connect 198.51.100.51)
check_that "fail-mode open: DNS and connections work without dnsgated ($ans, $out)" \
	'[ "$ans" = 198.51.100.51 ] && [ "$out" = connected ]'
# A fault: dnsgated removes the table itself as it dies.
restart "fail-mode open"
crash ABRT
check_that "fail-mode open: SIGABRT ends it and takes the table along (status $CRASH_STATUS)" \
	'[ "$CRASH_STATUS" = 134 ] && ! has_table'
restart "fail-mode open"
crash SEGV
check_that "fail-mode open: so does SIGSEGV (status $CRASH_STATUS)" \
	'[ "$CRASH_STATUS" = 139 ] && ! has_table'
ans=$(resolve other.app.test)
check "fail-mode open: after the fault DNS works without dnsgated ($ans)" \
	[ "$ans" = 198.51.100.51 ]
# A clean stop removes the table in open mode too.
restart "fail-mode open"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
status=$?
DAEMON_PID=
check_that "fail-mode open: SIGTERM stops it cleanly, table removed (status $status)" \
	'[ "$status" = 0 ] && ! has_table'

e2e_finish
