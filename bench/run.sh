#!/bin/sh
# run.sh - dnsgated against dnsmasq and unbound, side by side in the
# end-to-end tests' topology (tests/e2e/lib.sh): throughput and latency on
# cache hits and cache misses (dnsperf), daemon CPU per query, a burst of
# 1,000 client sockets, peak memory, and the memory and start time of a
# 100,000-domain block list, and of the real EasyList and EasyPrivacy
# (Debian's webext-ublock-origin-firefox) with cache hits on names they
# block and names they do not; and dnsgated's cache hits with 10,000 rules
# against none (the rules figure). As root:
#   sudo bench/run.sh
# Knobs (environment):
#   ROUNDS       rounds of the whole comparison; the table gives medians (3)
#   DURATION     seconds per dnsperf run (10)
#   NAMES        distinct names of the cache-hit file (1000)
#   MISS_NAMES   distinct names per daemon for a miss run (400000)
#   BLOCK        block list size (100000)
#   OUTSTANDING  dnsperf -q, queries in flight (100)
#   BURST        client sockets of the burst, one query each (1000)
#   BUSY_PROCS, BUSY_FILES  the busy cgroup of the extra hit run: that many
#                more processes with that many open files each (10, 500)
#   RULES        rules of the rules figure (10000)
#   BENCH_RULES  1: the rules figure too (the default); 0: not; only: the
#                rules figure alone, no dnsmasq, no unbound
#   BENCH_LIST   only: the block list figures alone, dnsgated and dnsmasq
#                (start to serving, RSS, peak while loading and, for
#                dnsgated, while reloading; the EasyList + EasyPrivacy
#                figures), and bench/matcher_bench's lookups against the
#                matcher issue 14 replaced
#   BENCH_HISTORY 1: in the rules figure's rounds, also dnsgated without
#                its history (history off) against with it (the default,
#                as installed): writing the history must not slow the
#                answers (issue 15); 0: not
#   BENCH_GEOIP  1: in the rules figure's rounds, also dnsgated with its
#                GeoIP on (the tests' country and ASN files, every answer
#                looked up) against off, and bench/geoip_bench's lookups
#                a second against those files (issue 16); 0: not
#   BENCH_PIN    1: each daemon runs on CPU 0 and dnsperf on CPU 1 (the
#                default, with 2 cores or more); 0: where the scheduler
#                puts them. Unpinned, one 2-core VM gave each daemon
#                started either about 10,500 or about 12,500 cache hits a
#                second, by where its threads and dnsperf's landed: a
#                spread larger than the figures compare
#   BENCH_PERF=1 also profile dnsgated with perf (extra runs, not counted)
#   BENCH_KEEP=DIR  keep the raw outputs (dnsperf, logs, configs, perf) there
# Nothing runs in this machine's own network namespace: each daemon runs
# in the client namespace lib.sh creates, one at a time (while dnsgated
# runs, its table redirects every port-53 packet of that namespace to it),
# and lib.sh's trap removes namespaces, cgroups and processes on exit, also
# on failure.
set -u

top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$top_srcdir

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
NAMES=${NAMES:-1000}
MISS_NAMES=${MISS_NAMES:-400000}
BLOCK=${BLOCK:-100000}
OUTSTANDING=${OUTSTANDING:-100}
BURST=${BURST:-1000}
BUSY_PROCS=${BUSY_PROCS:-10}
BUSY_FILES=${BUSY_FILES:-500}
RULES=${RULES:-10000}
BENCH_RULES=${BENCH_RULES:-1}
BENCH_LIST=${BENCH_LIST:-}
BENCH_PERF=${BENCH_PERF:-0}
BENCH_HISTORY=${BENCH_HISTORY:-1}
BENCH_GEOIP=${BENCH_GEOIP:-1}
DG_HISTORY=on # the history as installed; the history figure turns it off
DG_GEOIP=off
BENCH_KEEP=${BENCH_KEEP:-}
BENCH_PIN=${BENCH_PIN:-1}
DAEMON_CPU=
CLIENT_CPU=
if [ "$BENCH_PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	DAEMON_CPU="taskset -c 0"
	CLIENT_CPU="taskset -c 1"
fi

LOAD0=$(cut -d' ' -f1 /proc/loadavg)
[ "$(id -u)" = 0 ] || { echo "run.sh needs root: sudo bench/run.sh" >&2; exit 1; }
case $BENCH_RULES in
0 | 1 | only) ;;
*) echo "BENCH_RULES is 0, 1 or only, not '$BENCH_RULES'" >&2; exit 1 ;;
esac
case $BENCH_LIST in
'' | only) ;;
*) echo "BENCH_LIST is only or unset, not '$BENCH_LIST'" >&2; exit 1 ;;
esac
[ "$BENCH_LIST" = only ] && BENCH_RULES=0

# Dependencies: the build and test ones (scripts/deps), then the
# benchmark's own, each installed only when missing.
"$top_srcdir/scripts/deps" test || exit 1
wanted="dnsperf dnsmasq-base unbound webext-ublock-origin-firefox jq"
[ "$BENCH_PERF" = 1 ] && wanted="$wanted linux-perf"
missing=
for p in $wanted; do
	# The dnsmasq service package brings dnsmasq-base; either will do.
	[ "$p" = dnsmasq-base ] && command -v dnsmasq >/dev/null 2>&1 && continue
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing || exit 1
fi
"$top_srcdir/scripts/build" >/dev/null || exit 1
# The e2e tests' DNS client, for the burst (a check program, which plain
# make does not build).
make -C "$top_builddir" tests/helpers/dns_client >/dev/null || exit 1
make -C "$top_builddir" bench/matcher_bench >/dev/null || exit 1
make -C "$top_builddir" bench/geoip_bench >/dev/null || exit 1
# The real adblock lists: EasyList and EasyPrivacy as uBlock Origin's
# Debian package ships them (under /usr/share).
EASYLIST=$(dpkg -L webext-ublock-origin-firefox | grep '/easylist/easylist\.txt$' | head -n 1)
EASYPRIVACY=$(dpkg -L webext-ublock-origin-firefox | grep '/easylist/easyprivacy\.txt$' | head -n 1)
if [ ! -r "$EASYLIST" ] || [ ! -r "$EASYPRIVACY" ]; then
	echo "no easylist.txt / easyprivacy.txt in webext-ublock-origin-firefox" >&2
	exit 1
fi

. "$top_srcdir/tests/e2e/lib.sh"

note() { echo "# $*" >&2; }
die() {
	echo "bench: $*" >&2
	exit 1
}

# --- the data -----------------------------------------------------------

# NAMES hit names h1..hN.bench.test, one A record each (500 distinct
# addresses), and a wildcard under miss.test that answers any name, so a
# miss run can ask names its daemon never saw.
LOCAL_DATA=$(awk -v n="$NAMES" 'BEGIN {
	for (i = 1; i <= n; i++) {
		net = int((i - 1) / 250) % 2 ? "203.0.113" : "198.51.100"
		printf "h%d.bench.test. 300 IN A %s.%d\n", i, net, (i - 1) % 250 + 1
	}
	print "*.miss.test. 300 IN A 192.0.2.200"
}')

e2e_setup
# The forwarders listen on the client namespace's loopback.
in_client ip addr add 127.0.0.2/32 dev lo
in_client ip addr add 127.0.0.3/32 dev lo
start_unbound
APP=$(new_app bench-client)
DATA=$E2E_TMP/data
RAW=$E2E_TMP/raw
mkdir "$DATA" "$RAW"
if [ "$BENCH_GEOIP" = 1 ]; then
	mkdir "$DATA/geo"
	perl "$top_srcdir/tests/helpers/make_mmdb.pl" "$DATA/geo" || exit 1
fi

awk -v n="$NAMES" 'BEGIN { for (i = 1; i <= n; i++) printf "h%d.bench.test A\n", i }' \
	>"$DATA/hits.txt"
# Miss names, a prefix per daemon (and one for the profiling runs). Each
# round starts every daemon afresh, with an empty cache, so a round may
# ask the names an earlier round asked.
for who in dnsgate dnsmasq unbound prof; do
	awk -v n="$MISS_NAMES" -v p="$who" 'BEGIN {
		for (i = 1; i <= n; i++) printf "%s-%d.miss.test A\n", p, i }' \
		>"$DATA/miss-$who.txt"
done

# The block list: BLOCK distinct made-up domains (fixed seed: every run
# loads the same list), 30% of them with a subdomain label, the last one
# the probe that tells when a daemon serves with its list loaded; then the
# same names in each daemon's form.
PROBE=probe.bench-blocklist.example
awk -v n="$BLOCK" -v probe="$PROBE" 'BEGIN {
	srand(20261123)
	split("com net org io info biz co de ru xyz online site", tld, " ")
	split("ads track metrics pixel cdn stats tag", sub_, " ")
	chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	count = 0
	while (count < n - 1) {
		len = 5 + int(rand() * 10)
		label = ""
		for (j = 0; j < len; j++)
			label = label substr(chars, 1 + int(rand() * 36), 1)
		name = label "." tld[1 + int(rand() * 12)]
		if (rand() < 0.3)
			name = sub_[1 + int(rand() * 7)] "." name
		if (name in seen)
			continue
		seen[name] = 1
		print name
		count++
	}
	print probe
}' >"$DATA/block-full.dom"
[ "$(wc -l <"$DATA/block-full.dom")" = "$BLOCK" ] || die "block list generation"
printf '%s\n' "$PROBE" >"$DATA/block-one.dom"
MIDDLE=$(sed -n "$((BLOCK / 2))p" "$DATA/block-full.dom")
for size in one full; do
	sed 's|.*|address=/&/|' "$DATA/block-$size.dom" >"$DATA/block-$size.dnsmasq"
	sed 's|.*|local-zone: "&." always_nxdomain|' "$DATA/block-$size.dom" \
		>"$DATA/block-$size.unbound"
done

# The adblock figure's data. dnsgated reads EASYLIST and EASYPRIVACY
# themselves (format=adblock); dnsmasq gets their plain "||name^" rules
# (bench/adblock-names.sh) as address=/name/. The probes that tell when a
# daemon serves with both loaded: the last plain rule of each file. The
# blocked-name workload: NAMES of those names, evenly spaced through them.
"$top_srcdir/bench/adblock-names.sh" "$EASYLIST" "$EASYPRIVACY" >"$DATA/adblock.dom" ||
	die "adblock-names.sh"
AB_NAMES=$(wc -l <"$DATA/adblock.dom")
sed 's|.*|address=/&/|' "$DATA/adblock.dom" >"$DATA/block-adblock.dnsmasq"
AB_PROBES="$("$top_srcdir/bench/adblock-names.sh" "$EASYLIST" | tail -n 1)
$("$top_srcdir/bench/adblock-names.sh" "$EASYPRIVACY" | tail -n 1)"
awk -v n="$AB_NAMES" -v k="$NAMES" 'BEGIN { step = n / k }
	NR == int(c * step) + 1 && c < k { print $0 " A"; c++ }' \
	"$DATA/adblock.dom" >"$DATA/ab-blocked.txt"
[ "$(wc -l <"$DATA/ab-blocked.txt")" = "$NAMES" ] || die "adblock workload"
for f in "$EASYLIST" "$EASYPRIVACY"; do
	note "adblock figure: $(basename "$f"): $(wc -l <"$f") lines," \
		"$("$top_srcdir/bench/adblock-names.sh" "$f" | wc -l) plain ||name^ rules"
done
note "adblock figure: $AB_NAMES distinct names for dnsmasq; probes" \
	"$(echo "$AB_PROBES" | tr '\n' ' ')"

# The rules figure's data (bench/rules-gen.sh says what the rules are):
# the lists they name, defined in every dnsgated config (a list no rule
# names costs nothing), an empty rules file for "none", and RULES rules
# naming the client as dnsgated sees it: its cgroup path, dnsperf's exe
# and root's uid.
printf '%s\n' bench.test social.example >"$DATA/social.dom"
awk 'BEGIN { for (i = 1; i <= 200; i++) printf "tracker%d.example\n", i }' \
	>"$DATA/trackers.dom"
: >"$DATA/rules-none.rules"
DNSPERF_EXE=$(readlink -f "$(command -v dnsperf)")
"$top_srcdir/bench/rules-gen.sh" "$RULES" "${APP#"$(dirname "$CG_ROOT")"}" \
	"$DNSPERF_EXE" 0 >"$DATA/rules-rules.rules" || die "rules generation"
[ "$(grep -vc '^#' "$DATA/rules-rules.rules")" = "$RULES" ] ||
	die "rules generation: not $RULES rules"
note "rules figure: $RULES rules, for the client and $(sed -n \
	's/^# \([0-9]*\) apps$/\1/p' "$DATA/rules-rules.rules") other apps"

# The busy cgroup: an app made of many processes, as a browser's scope is.
# BUSY_PROCS idle processes, each holding BUSY_FILES open files, join it
# before the asker (dnsperf) does.
BUSY=$(new_app bench-busy)
i=0
while [ $i -lt "$BUSY_PROCS" ]; do
	sh -c 'echo $$ >"$1/cgroup.procs" && n=$2 && exec bash -c "
		for i in \$(seq $n); do exec {fd}</dev/null; done
		exec sleep 3600"' sh "$BUSY" "$BUSY_FILES" &
	BACKGROUND_PIDS="$BACKGROUND_PIDS $!"
	i=$((i + 1))
done
sleep 0.5
BUSY_FDS=0
while read -r pid; do
	BUSY_FDS=$((BUSY_FDS + $(find "/proc/$pid/fd" -mindepth 1 | wc -l)))
done <"$BUSY/cgroup.procs"
note "busy cgroup: $(wc -l <"$BUSY/cgroup.procs") processes, $BUSY_FDS open descriptors"

# --- the daemons --------------------------------------------------------

without_pid() { echo "$BACKGROUND_PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' '; }

# start_one DAEMON LIST(one|full|adblock): starts it in the client
# namespace and waits until it answers the probe NXDOMAIN (for adblock,
# both probes: EasyList's and EasyPrivacy's), i.e. serves with its list
# loaded. Sets CUR_PID, SERVER, START_MS (launch to first answer), and
# START_RSS, START_HWM (KiB). dnsgated reads the rules file $DG_RULES
# (none or rules, see the data) and logs queries when DG_LOG=yes.
DG_RULES=none
DG_HISTORY=on # off: the history figure's other half
DG_LOG=no
start_one() {
	name=$1
	list=$2
	t0=$(date +%s%N)
	case $name in
	dnsgate)
		conf=$RAW/dnsgate-$list-$DG_RULES-$DG_LOG.conf
		blocklists="blocklist $DATA/block-$list.dom"
		[ "$list" = adblock ] && blocklists="blocklist $EASYLIST format=adblock
blocklist $EASYPRIVACY format=adblock"
		cat >"$conf" <<EOF
listen-port 5453
upstream 192.0.2.2
$blocklists
list social $DATA/social.dom
list trackers $DATA/trackers.dom
rules $DATA/rules-$DG_RULES.rules
cache-size 10000
set-size 65536
log-queries $DG_LOG
control-socket $E2E_TMP/control.sock
EOF
		# The history as installed (on), in the test's own directory,
		# empty at each start: a database grown by the runs before
		# makes every insert dearer (measured as the writer was, 512
		# records a transaction: 14 µs a record into an empty file,
		# 44 µs into one of 250,000), which weighed on whichever
		# daemon ran later in a round.
		if [ "$DG_HISTORY" = on ]; then
			rm -f "$E2E_TMP/history.db" "$E2E_TMP/history.db-wal" \
				"$E2E_TMP/history.db-shm"
			echo "history $E2E_TMP/history.db" >>"$conf"
		else
			echo "history off" >>"$conf"
		fi
		# GeoIP: the tests' files, which place every hit's answer
		# (198.51.100.0/24, 203.0.113.0/24).
		if [ "$DG_GEOIP" = on ]; then
			printf 'geoip-country %s\ngeoip-asn %s\n%s\n' \
				"$DATA/geo/country.mmdb" "$DATA/geo/asn.mmdb" \
				"geoip-lookup-documentation yes" >>"$conf"
		fi
		DG_OUT=$RAW/dnsgated-$list-$DG_RULES-$DG_LOG-geoip-$DG_GEOIP.log
		# shellcheck disable=SC2086
		nsenter --net=/run/netns/"$NS_CLIENT" $DAEMON_CPU "$DNSGATED" -c "$conf" \
			>>"$DG_OUT" 2>&1 &
		CUR_PID=$!
		DAEMON_PID=$CUR_PID # lib.sh's cleanup stops it with SIGTERM
		SERVER=192.0.2.2 # as apps reach it: through the redirect
		;;
	dnsmasq)
		conf=$RAW/dnsmasq-$list.conf
		cat >"$conf" <<EOF
port=53
listen-address=127.0.0.2
bind-interfaces
no-resolv
no-hosts
server=192.0.2.2
cache-size=10000
pid-file=$E2E_TMP/dnsmasq.pid
conf-file=$DATA/block-$list.dnsmasq
EOF
		# shellcheck disable=SC2086
		nsenter --net=/run/netns/"$NS_CLIENT" $DAEMON_CPU dnsmasq -k -C "$conf" \
			--log-facility=- >>"$RAW/dnsmasq-$list.log" 2>&1 &
		CUR_PID=$!
		BACKGROUND_PIDS="$BACKGROUND_PIDS $CUR_PID"
		SERVER=127.0.0.2
		;;
	unbound)
		conf=$RAW/unbound-$list.conf
		cat >"$conf" <<EOF
server:
	interface: 127.0.0.3
	port: 53
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$E2E_TMP"
	pidfile: "$E2E_TMP/unbound-fwd.pid"
	use-syslog: no
	logfile: "$RAW/unbound-$list.log"
	verbosity: 1
	num-threads: 1
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
	local-zone: "test." nodefault
	include: "$DATA/block-$list.unbound"
forward-zone:
	name: "."
	forward-addr: 192.0.2.2
remote-control:
	control-enable: no
EOF
		# shellcheck disable=SC2086
		nsenter --net=/run/netns/"$NS_CLIENT" $DAEMON_CPU unbound -d -c "$conf" \
			>>"$RAW/unbound-$list.out" 2>&1 &
		CUR_PID=$!
		BACKGROUND_PIDS="$BACKGROUND_PIDS $CUR_PID"
		SERVER=127.0.0.3
		;;
	esac
	probes=$PROBE
	[ "$list" = adblock ] && probes=$AB_PROBES
	deadline=$(($(date +%s) + 120))
	# shellcheck disable=SC2086
	until all_blocked "$SERVER" $probes; do
		if ! kill -0 "$CUR_PID" 2>/dev/null; then
			cat "$RAW/$name"*"-$list"* >&2
			die "$name did not start"
		fi
		[ "$(date +%s)" -lt "$deadline" ] || die "$name: no answer in 120 s"
		sleep 0.01
	done
	t1=$(date +%s%N)
	START_MS=$(((t1 - t0) / 1000000))
	START_RSS=$(kib "$CUR_PID" VmRSS)
	START_HWM=$(kib "$CUR_PID" VmHWM)
}

stop_one() {
	kill -TERM "$CUR_PID"
	wait "$CUR_PID" 2>/dev/null
	if [ "$CUR_PID" = "$DAEMON_PID" ]; then
		DAEMON_PID=
		# Its redirect must be gone before the others are measured.
		in_client nft list table inet dnsgate >/dev/null 2>&1 &&
			die "dnsgated left its table after SIGTERM"
	else
		BACKGROUND_PIDS=$(without_pid "$CUR_PID")
	fi
	CUR_PID=
}

# all_blocked SERVER NAME...: whether every NAME is answered NXDOMAIN.
all_blocked() {
	ab_server=$1
	shift
	for ab_name; do
		[ "$(probe "$ab_server" "$ab_name")" = NXDOMAIN ] || return 1
	done
}

# probe SERVER NAME: the rcode of NAME/A asked by the benchmark's app.
probe() {
	as_app "$APP" "$E2E_TMP/probe.pid" dig +time=1 +tries=1 +retry=0 \
		@"$1" "$2" A 2>/dev/null | sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}

kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# cpu_ticks PID: user + system time so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICKS=$(getconf CLK_TCK)

# perf_run OUT DNSPERF-ARGS...: dnsperf from the app's cgroup (or
# $RUN_APP's) to $SERVER, each reply's latency reported (-v), output in
# OUT. Sets QPS, AVG_MS, P99_MS, LOST, SENT, and CPU_US: the daemon's CPU
# time (user + system) per completed query.
perf_run() {
	out=$1
	shift
	c0=$(cpu_ticks "$CUR_PID")
	# shellcheck disable=SC2086
	as_app "${RUN_APP:-$APP}" "$E2E_TMP/dnsperf.pid" $CLIENT_CPU dnsperf \
		-s "$SERVER" -p 53 -q "$OUTSTANDING" -t 5 -v "$@" >"$out" 2>&1
	c1=$(cpu_ticks "$CUR_PID")
	SENT=$(awk '/Queries sent:/ { print $3 }' "$out")
	COMPLETED=$(awk '/Queries completed:/ { print $3 }' "$out")
	LOST=$(awk '/Queries lost:/ { print $3 }' "$out")
	QPS=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$out")
	AVG_MS=$(awk '/Average Latency/ { printf "%.3f", $4 * 1000 }' "$out")
	# Verbose lines: "> RCODE name type latency" ("T" for a timeout).
	P99_MS=$(awk '$1 == ">" && $2 != "T" { print $NF }' "$out" | sort -g |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "-"; exit }
			i = int(NR * 0.99); if (i < NR * 0.99) i++
			printf "%.3f", v[i] * 1000 }')
	CPU_US=$(awk -v d=$((c1 - c0)) -v t="$TICKS" -v n="${COMPLETED:-0}" \
		'BEGIN { if (n > 0) printf "%.1f", d / t * 1e6 / n; else print "-" }')
	[ -n "$QPS" ] || { cat "$out" >&2; die "dnsperf failed"; }
	note "  $QPS q/s, avg $AVG_MS ms, p99 $P99_MS ms, lost $LOST," \
		"$CPU_US µs CPU/query, $(rcodes "$out")"
}

rcodes() { sed -n 's/.*Response codes: *//p' "$1"; }

# burst_run OUT: BURST connected UDP sockets of the app (as glibc makes
# them), one query each for h1.bench.test, sent back to back (the e2e
# tests' dns_client --burst-timed), after one query for it from the same
# client (dnsgated's cache key holds the EDNS flags, and dnsperf's queries
# differ from dns_client's). Sets BURST_ANSWERED (within 5 s) and
# BURST_MS (first query sent to last answer received).
burst_run() {
	out=$1
	as_app "$APP" "$E2E_TMP/burst.pid" "$DNS_CLIENT" "$SERVER" h1.bench.test A \
		>"$out.warm" 2>&1
	grep -qx rcode=NOERROR "$out.warm" ||
		{ cat "$out.warm" >&2; die "the burst's warm-up query failed"; }
	as_app "$APP" "$E2E_TMP/burst.pid" "$DNS_CLIENT" --burst-timed "$BURST" \
		"$SERVER" h1.bench.test >"$out" 2>&1
	BURST_ANSWERED=$(sed -n 's/^answered=\([0-9]*\) .*/\1/p' "$out")
	BURST_MS=$(sed -n 's/^last_answer_ms=//p' "$out")
	[ -n "$BURST_ANSWERED" ] && [ -n "$BURST_MS" ] ||
		{ cat "$out" >&2; die "the burst failed"; }
	note "  $(head -n 1 "$out"), the last after $BURST_MS ms"
}

# Results: one line "daemon figure round value" each, in $RESULTS.
RESULTS=$RAW/results.txt
: >"$RESULTS"
put() { echo "$1 $2 $ROUND $3" >>"$RESULTS"; }
put_run() {
	for f in QPS AVG_MS P99_MS LOST CPU_US; do
		eval "put \"\$1\" \"\$2_$f\" \"\$$f\""
	done
}
# median DAEMON FIGURE: the median over the rounds ("-" if none).
median() {
	awk -v d="$1" -v f="$2" '$1 == d && $2 == f { print $4 }' "$RESULTS" |
		sort -g | awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "-"; exit }
			if (NR % 2) print v[(NR + 1) / 2]
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# profile_dnsgate: perf record of dnsgated (DWARF call graphs) during
# extra hit, busy and miss runs and back-to-back bursts, not counted in
# the table; reports in $RAW/perf-*.txt.
profile_dnsgate() {
	command -v perf >/dev/null 2>&1 || { note "no perf: not profiled"; return; }
	for kind in hit busy miss burst; do
		note "dnsgate: profiling a $kind run (not counted)"
		run_app=$APP
		case $kind in
		hit) set -- -d "$DATA/hits.txt" -l "$DURATION" ;;
		busy) set -- -d "$DATA/hits.txt" -l "$DURATION"; run_app=$BUSY ;;
		miss) set -- -d "$DATA/miss-prof.txt" -n 1 -l "$DURATION" ;;
		burst) ;;
		esac
		perf record -F 499 --call-graph dwarf,16384 -p "$CUR_PID" \
			-o "$RAW/perf-$kind.data" -- sleep "$DURATION" >/dev/null 2>&1 &
		perf_pid=$!
		BACKGROUND_PIDS="$BACKGROUND_PIDS $perf_pid"
		if [ "$kind" = burst ]; then
			# One burst after the other for those DURATION seconds.
			while kill -0 "$perf_pid" 2>/dev/null; do
				burst_run "$RAW/dnsgate-prof-burst.txt"
			done
		else
			RUN_APP=$run_app perf_run "$RAW/dnsgate-prof-$kind.txt" "$@"
		fi
		wait "$perf_pid"
		BACKGROUND_PIDS=$(without_pid "$perf_pid")
		perf_reports "$kind"
	done
}

# perf_reports KIND: from $RAW/perf-KIND.data, dnsgated's and its
# libraries' functions with all they call (the kernel included), then the
# hottest symbols by self time.
perf_reports() {
	perf report -i "$RAW/perf-$1.data" --stdio --children \
		--sort sym -g none --percent-limit 2 2>/dev/null |
		grep '\[\.\]' | grep -v '\] 0x' | head -30 \
		>"$RAW/perf-$1-user.txt"
	perf report -i "$RAW/perf-$1.data" --stdio --no-children \
		--sort sym -g none --percent-limit 1 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -15 >"$RAW/perf-$1-self.txt"
}

# The rules figure: dnsgated with no rules (dg-none) and with RULES rules
# (dg-rules), each started afresh, warmed, and run on cache hits; the
# configs differ only in the rules file.

# rules_check: one short run, not timed, with log-queries yes: every
# benched query, missed (the warm pass) or hit (a second pass), must be
# allowed by a rule; the log says which.
rules_check() {
	DG_RULES=rules
	DG_LOG=yes
	note "rules figure: checking in dnsgated's log that a rule decides every query"
	start_one dnsgate one
	DG_RULES=none
	DG_LOG=no
	perf_run "$RAW/rules-check-warm.txt" -d "$DATA/hits.txt" -n 1
	perf_run "$RAW/rules-check-hit.txt" -d "$DATA/hits.txt" -n 1
	stop_one
	log=$DG_OUT
	grep ' qname=h[0-9]*\.bench\.test ' "$log" >"$RAW/rules-check.log"
	lines=$(wc -l <"$RAW/rules-check.log")
	hits=$(grep -c ' cached' "$RAW/rules-check.log")
	by_rule=$(grep -c ' decision=allow reason=rule rule=[^ ]*rules-rules\.rules:' \
		"$RAW/rules-check.log")
	[ "$lines" = $((2 * NAMES)) ] && [ "$hits" = "$NAMES" ] &&
		[ "$by_rule" = "$lines" ] || {
		grep -v ' reason=rule ' "$RAW/rules-check.log" | head -5 >&2
		die "rules figure: of $lines query lines ($hits cache hits)," \
			"$by_rule allowed by a rule, not $((2 * NAMES))"
	}
	RULES_APP=$(sed -n '1s/^.* \(app=[^ ]*\) .*/\1/p' "$RAW/rules-check.log")
	note "  $lines queries ($hits cache hits) of $RULES_APP, each allowed" \
		"by a rule; the rules that decided:"
	sed 's/.* rule=[^ ]*:\([0-9]*\)\( .*\)*$/\1/' "$RAW/rules-check.log" |
		sort -n | uniq -c | while read -r n line; do
		note "    $n: line $line: $(sed -n "${line}p" "$DATA/rules-rules.rules")"
	done >"$RAW/rules-decided.txt" 2>&1
	cat "$RAW/rules-decided.txt" >&2
}

# bench_rules_one none|rules: one half of a round of the rules figure.
bench_rules_one() {
	w=$1
	d=dg-$w
	DG_RULES=$w
	[ "$w" = none ] && what="no rules" || what="$RULES rules"
	if [ "$w" = nohist ]; then
		DG_RULES=none
		DG_HISTORY=off
		what="no rules, history off"
	fi
	if [ "$w" = geoip ]; then
		DG_RULES=none
		DG_GEOIP=on
		what="no rules, GeoIP on"
	fi
	note "round $ROUND, dnsgate with $what: start with a 1-domain block list"
	start_one dnsgate one
	DG_RULES=none
	put "$d" start_ms "$START_MS"
	put "$d" start_rss "$START_RSS"
	pre=$RAW/r$ROUND-$d
	perf_run "$pre-warm.txt" -d "$DATA/hits.txt" -n 1
	if [ "$LOST" != 0 ] ||
		[ "$(rcodes "$pre-warm.txt")" != "NOERROR $NAMES (100.00%)" ]; then
		cat "$pre-warm.txt" >&2
		die "$d: the warm pass did not answer every name"
	fi
	note "round $ROUND, dnsgate with $what: cache hits, $DURATION s"
	perf_run "$pre-hit.txt" -d "$DATA/hits.txt" -l "$DURATION"
	put_run "$d" hit
	case $(rcodes "$pre-hit.txt") in
	"NOERROR "*" (100.00%)") ;;
	*) die "$d: not every cache hit was NOERROR: $(rcodes "$pre-hit.txt")" ;;
	esac
	put "$d" hwm "$(kib "$CUR_PID" VmHWM)"
	if [ "$BENCH_PERF" = 1 ] && [ "$ROUND" = 1 ] &&
		command -v perf >/dev/null 2>&1; then
		note "dnsgate with $what: profiling a hit run (not counted)"
		perf record -F 499 --call-graph dwarf,16384 -p "$CUR_PID" \
			-o "$RAW/perf-$d.data" -- sleep "$DURATION" >/dev/null 2>&1 &
		perf_pid=$!
		BACKGROUND_PIDS="$BACKGROUND_PIDS $perf_pid"
		perf_run "$RAW/$d-prof-hit.txt" -d "$DATA/hits.txt" -l "$DURATION"
		wait "$perf_pid"
		BACKGROUND_PIDS=$(without_pid "$perf_pid")
		perf_reports "$d"
	fi
	# The lookups were made: the records (the history) have places.
	if [ "$w" = geoip ]; then
		last=$("$DNSGATECTL" -s "$E2E_TMP/control.sock" log --limit 50 \
			--json 2>&1)
		printf '%s\n' "$last" |
			grep -q '"geo":"[0-9.]*=[A-Z][A-Z]/' ||
			die "$d: GeoIP on, but none of its last 50 records has a" \
				"country: $last"
	fi
	stop_one
	DG_HISTORY=on
	DG_GEOIP=off
}

bench_daemon() {
	d=$1
	note "round $ROUND, $d: start with a 1-domain block list"
	start_one "$d" one
	put "$d" start_ms "$START_MS"
	put "$d" start_rss "$START_RSS"
	pre=$RAW/r$ROUND-$d

	perf_run "$pre-warm.txt" -d "$DATA/hits.txt" -n 1
	if [ "$LOST" != 0 ] ||
		[ "$(rcodes "$pre-warm.txt")" != "NOERROR $NAMES (100.00%)" ]; then
		cat "$pre-warm.txt" >&2
		die "$d: the warm pass did not answer every name"
	fi

	note "round $ROUND, $d: cache hits, $DURATION s"
	perf_run "$pre-hit.txt" -d "$DATA/hits.txt" -l "$DURATION"
	put_run "$d" hit

	note "round $ROUND, $d: cache hits from the busy cgroup, $DURATION s"
	RUN_APP=$BUSY perf_run "$pre-busy.txt" -d "$DATA/hits.txt" -l "$DURATION"
	put_run "$d" busy

	note "round $ROUND, $d: a burst of $BURST client sockets, one cached name"
	burst_run "$pre-burst.txt"
	put "$d" burst_answered "$BURST_ANSWERED"
	put "$d" burst_ms "$BURST_MS"

	note "round $ROUND, $d: cache misses (names it never saw), at most $DURATION s"
	perf_run "$pre-miss.txt" -d "$DATA/miss-$d.txt" -n 1 -l "$DURATION"
	put_run "$d" miss
	[ "$SENT" -lt "$MISS_NAMES" ] ||
		note "$d: WARNING: the miss run used up all $MISS_NAMES names; raise MISS_NAMES"
	put "$d" hwm "$(kib "$CUR_PID" VmHWM)"

	[ "$d" = dnsgate ] && [ "$BENCH_PERF" = 1 ] && [ "$ROUND" = 1 ] &&
		profile_dnsgate
	stop_one

	bench_list_full "$d"
	[ "$d" = unbound ] || bench_adblock "$d"
}

# bench_list_full DAEMON: starts it with the BLOCK-domain list; checks it
# blocks; for dnsgated, reloads it once (SIGHUP; dnsmasq does not read
# its config again on SIGHUP) and takes the peak RSS since start.
bench_list_full() {
	d=$1
	note "round $ROUND, $d: start with the $BLOCK-domain block list"
	start_one "$d" full
	note "  serving after $START_MS ms, RSS $START_RSS KiB"
	put "$d" list_ms "$START_MS"
	put "$d" list_rss "$START_RSS"
	put "$d" list_hwm "$START_HWM"
	for n in "x.$PROBE" "$MIDDLE"; do
		[ "$(probe "$SERVER" "$n")" = NXDOMAIN ] || die "$d: $n is not blocked"
	done
	[ "$(probe "$SERVER" h1.bench.test)" = NOERROR ] ||
		die "$d: h1.bench.test does not resolve with the list loaded"
	if [ "$d" = dnsgate ]; then
		n0=$(grep -c ' reloaded: ' "$DG_OUT")
		kill -HUP "$CUR_PID"
		deadline=$(($(date +%s) + 60))
		until [ "$(grep -c ' reloaded: ' "$DG_OUT")" -gt "$n0" ]; do
			[ "$(date +%s)" -lt "$deadline" ] || die "$d: no reload in 60 s"
			sleep 0.02
		done
		put "$d" reload_hwm "$(kib "$CUR_PID" VmHWM)"
		put "$d" reload_ms "$(sed -n 's/.* reloaded: .*; \([0-9]*\) ms$/\1/p' \
			"$DG_OUT" | tail -n 1)"
		note "  reloaded in $(median "$d" reload_ms) ms (median so far)," \
			"peak RSS $(kib "$CUR_PID" VmHWM) KiB"
	fi
	stop_one
}

# bench_list_only DAEMON: the list figures alone (BENCH_LIST=only).
bench_list_only() {
	d=$1
	note "round $ROUND, $d: start with a 1-domain block list"
	start_one "$d" one
	put "$d" start_ms "$START_MS"
	put "$d" start_rss "$START_RSS"
	stop_one
	bench_list_full "$d"
	bench_adblock "$d"
}

# bench_adblock DAEMON: starts it with EasyList and EasyPrivacy (dnsgated
# reads the two files, dnsmasq their plain ||name^ rules); for dnsgated,
# keeps the entries in force and the lines skipped from its status; then,
# each after one warm pass, DURATION s of cache hits on NAMES names the
# lists block and on the hit runs' NAMES names, which they do not (blocked
# then not in odd rounds, the other way in even ones).
bench_adblock() {
	d=$1
	note "round $ROUND, $d: start with EasyList + EasyPrivacy"
	start_one "$d" adblock
	note "  serving after $START_MS ms, RSS $START_RSS KiB"
	put "$d" ab_ms "$START_MS"
	put "$d" ab_rss "$START_RSS"
	put "$d" ab_hwm "$START_HWM"
	if [ "$d" = dnsgate ]; then
		in_client "$DNSGATECTL" -s "$E2E_TMP/control.sock" status --json \
			>"$RAW/ab-status.json" || die "dnsgatectl status failed"
		put "$d" ab_entries "$(jq '[.block_lists.each[] |
			select(.format == "adblock") | .entries] | add' "$RAW/ab-status.json")"
	else
		put "$d" ab_entries "$AB_NAMES"
	fi
	[ $((ROUND % 2)) = 1 ] && kinds="blocked allowed" || kinds="allowed blocked"
	for kind in $kinds; do
		if [ "$kind" = blocked ]; then
			file=$DATA/ab-blocked.txt
			want=NXDOMAIN
		else
			file=$DATA/hits.txt
			want=NOERROR
		fi
		pre=$RAW/r$ROUND-$d-ab-$kind
		perf_run "$pre-warm.txt" -d "$file" -n 1
		if [ "$LOST" != 0 ] ||
			[ "$(rcodes "$pre-warm.txt")" != "$want $NAMES (100.00%)" ]; then
			cat "$pre-warm.txt" >&2
			die "$d with the adblock lists: the warm pass on $kind names" \
				"was not all $want"
		fi
		note "round $ROUND, $d with the adblock lists: cache hits on $kind" \
			"names, $DURATION s"
		perf_run "$pre.txt" -d "$file" -l "$DURATION"
		put_run "$d" "ab$kind"
		case $(rcodes "$pre.txt") in
		"$want "*" (100.00%)") ;;
		*) die "$d: not every $kind name was $want: $(rcodes "$pre.txt")" ;;
		esac
	done
	stop_one
}

[ "$BENCH_RULES" = 0 ] || rules_check
ROUND=1
while [ "$ROUND" -le "$ROUNDS" ]; do
	if [ "$BENCH_LIST" = only ]; then
		for d in dnsgate dnsmasq; do
			bench_list_only "$d"
		done
	elif [ "$BENCH_RULES" != only ]; then
		for d in dnsgate dnsmasq unbound; do
			bench_daemon "$d"
		done
	fi
	# A then B, then B then A: a drift of the machine's load over a
	# round weighs on both.
	if [ "$BENCH_RULES" != 0 ]; then
		if [ $((ROUND % 2)) = 1 ]; then
			bench_rules_one none
			bench_rules_one rules
			[ "$BENCH_HISTORY" = 1 ] && bench_rules_one nohist
			[ "$BENCH_GEOIP" = 1 ] && bench_rules_one geoip
		else
			[ "$BENCH_GEOIP" = 1 ] && bench_rules_one geoip
			[ "$BENCH_HISTORY" = 1 ] && bench_rules_one nohist
			bench_rules_one rules
			bench_rules_one none
		fi
	fi
	ROUND=$((ROUND + 1))
done

# --- the report ---------------------------------------------------------

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 == 0) { print "-"; exit }
		r = a / b
		if (r >= 100) printf "%.0f", r
		else if (r >= 0.1) printf "%.2f", r
		else printf "%.2g", r }'
}
row() {
	a=$(median dnsgate "$2")
	b=$(median dnsmasq "$2")
	c=$(median unbound "$2")
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$a" "$b" "$c" \
		"$(ratio "$a" "$b")" "$(ratio "$a" "$c")"
}
ROUND=0
[ "$BENCH_RULES" = only ] || for d in dnsgate dnsmasq unbound; do
	[ "$(median "$d" list_rss)" = - ] && continue
	put "$d" list_cost $(($(median "$d" list_rss) - $(median "$d" start_rss)))
	[ "$(median "$d" ab_rss)" = - ] ||
		put "$d" ab_cost $(($(median "$d" ab_rss) - $(median "$d" start_rss)))
	[ "$(median "$d" reload_hwm)" = - ] && continue
	put "$d" reload_cost $(($(median "$d" reload_hwm) - $(median "$d" start_rss)))
done
# Queries lost: the sum of the hit, busy and miss runs' losses, per round.
awk '$2 ~ /_LOST$/ { s[$1 " lost " $3] += $4 } END { for (k in s) print k, s[k] }' \
	"$RESULTS" >"$RAW/lost.txt"
cat "$RAW/lost.txt" >>"$RESULTS"

main_table() {
	echo
	echo "| figure | dnsgate | dnsmasq | unbound | dnsgate/dnsmasq | dnsgate/unbound |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: |"
	row "cache hit: queries/s" hit_QPS
	row "cache hit: average latency (ms)" hit_AVG_MS
	row "cache hit: 99th percentile latency (ms)" hit_P99_MS
	row "cache hit: daemon CPU per query (µs)" hit_CPU_US
	row "busy cgroup, cache hit: queries/s" busy_QPS
	row "busy cgroup, cache hit: average latency (ms)" busy_AVG_MS
	row "busy cgroup, cache hit: 99th percentile latency (ms)" busy_P99_MS
	row "busy cgroup, cache hit: daemon CPU per query (µs)" busy_CPU_US
	row "cache miss: queries/s" miss_QPS
	row "cache miss: average latency (ms)" miss_AVG_MS
	row "cache miss: 99th percentile latency (ms)" miss_P99_MS
	row "cache miss: daemon CPU per query (µs)" miss_CPU_US
	row "queries lost (hit + busy + miss runs)" lost
	row "burst of $BURST sockets, cached name: answered within 5 s" burst_answered
	row "burst of $BURST sockets: first query to last answer (ms)" burst_ms
	row "peak RSS after the runs, VmHWM (KiB)" hwm
	row "1-domain list: start to serving (ms)" start_ms
	row "1-domain list: RSS after start (KiB)" start_rss
	row "$BLOCK-domain list: start to serving (ms)" list_ms
	row "$BLOCK-domain list: RSS after start (KiB)" list_rss
	row "$BLOCK-domain list: peak RSS while loading, VmHWM (KiB)" list_hwm
	row "RSS the list adds (KiB)" list_cost
	list_rows_reload
	list_rows_adblock
	echo
	echo "Each round's values (daemon figure: round 1, 2, ...):"
	echo
	for d in dnsgate dnsmasq unbound; do
		for f in hit_QPS hit_P99_MS busy_QPS burst_answered burst_ms miss_QPS \
			miss_P99_MS list_ms list_rss; do
			printf '    %s %s: %s\n' "$d" "$f" "$(awk -v d="$d" -v f="$f" \
				'$1 == d && $2 == f { printf "%s%s", s, $4; s = ", " }' "$RESULTS")"
		done
	done
}

list_rows_reload() {
	row "$BLOCK-domain list: reload (SIGHUP) to swapped in, dnsgated's log (ms)" reload_ms
	row "$BLOCK-domain list: peak RSS since start, after a reload, VmHWM (KiB)" reload_hwm
	row "peak RSS the list adds while reloading (KiB)" reload_cost
}

# The EasyList + EasyPrivacy rows, then what each daemon was given, what
# dnsgated kept and skipped, and each round's values.
list_rows_adblock() {
	ab="EasyList + EasyPrivacy"
	row "$ab: entries in force (dnsmasq: names given)" ab_entries
	row "$ab: start to serving (ms)" ab_ms
	row "$ab: RSS after start (KiB)" ab_rss
	row "$ab: peak RSS while loading, VmHWM (KiB)" ab_hwm
	row "RSS $ab add (KiB)" ab_cost
	row "$ab, cache hit on $NAMES blocked names: queries/s" abblocked_QPS
	row "$ab, cache hit on $NAMES blocked names: daemon CPU per query (µs)" \
		abblocked_CPU_US
	row "$ab, cache hit on $NAMES names not blocked: queries/s" aballowed_QPS
	row "$ab, cache hit on $NAMES names not blocked: daemon CPU per query (µs)" \
		aballowed_CPU_US
	echo
	echo "$ab: dnsgated read $EASYLIST and $EASYPRIVACY (format=adblock)" \
		"as they are; dnsmasq was given their $AB_NAMES distinct plain" \
		"||name^ rules (bench/adblock-names.sh) as address=/name/, no" \
		"exceptions, nothing else; unbound was not run with them. Blocked" \
		"names: $NAMES of those names, evenly spaced (NXDOMAIN from both);" \
		"not blocked: the hit runs' $NAMES names (NOERROR, cached)." \
		"dnsgated's status (dnsgatectl status --json, last round):"
	echo
	[ -f "$RAW/ab-status.json" ] && jq -r '.block_lists.each[] |
		select(.format == "adblock") |
		"    \(.path | sub(".*/"; "")): \(.entries) entries in force" +
		" (\(.exceptions) exceptions) from \(.lines) lines; skipped: " +
		([.skipped | to_entries[] | select(.value > 0) |
			"\(.key) \(.value)"] | join(", ")) +
		(if .badfilter_lines > 0 then
			", \(.badfilter_lines) $badfilter lines" else "" end)' \
		"$RAW/ab-status.json"
	echo
	echo "$ab, each round's values:"
	echo
	for d in dnsgate dnsmasq; do
		for f in ab_ms ab_rss abblocked_QPS aballowed_QPS abblocked_LOST \
			aballowed_LOST; do
			printf '    %s %s: %s\n' "$d" "$f" "$(awk -v d="$d" -v f="$f" \
				'$1 == d && $2 == f { printf "%s%s", s, $4; s = ", " }' "$RESULTS")"
		done
	done
}

# The list figures alone (BENCH_LIST=only), and the matcher's lookups.
list_table() {
	echo
	echo "| figure | dnsgate | dnsmasq | unbound | dnsgate/dnsmasq | dnsgate/unbound |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: |"
	row "1-domain list: start to serving (ms)" start_ms
	row "1-domain list: RSS after start (KiB)" start_rss
	row "$BLOCK-domain list: start to serving (ms)" list_ms
	row "$BLOCK-domain list: RSS after start (KiB)" list_rss
	row "$BLOCK-domain list: peak RSS while loading, VmHWM (KiB)" list_hwm
	row "RSS the list adds (KiB)" list_cost
	list_rows_reload
	list_rows_adblock
	echo
	echo "Each round's values (daemon figure: round 1, 2, ...):"
	echo
	for d in dnsgate dnsmasq; do
		for f in list_ms list_rss reload_ms reload_hwm; do
			printf '    %s %s: %s\n' "$d" "$f" "$(awk -v d="$d" -v f="$f" \
				'$1 == d && $2 == f { printf "%s%s", s, $4; s = ", " }' "$RESULTS")"
		done
	done
	echo
	echo "Lookups, bench/matcher_bench (lists/matcher.c against the matcher" \
		"it replaced, same process, same $BLOCK names, half the names asked" \
		"under a listed one; median of 5 rounds):"
	echo
	"$top_builddir/bench/matcher_bench" "$DATA/block-full.dom" | sed 's/^/    /'
}

# One figure of the rules figure: medians with no rules and with RULES.
rules_row() {
	a=$(median dg-none "$2")
	b=$(median dg-rules "$2")
	printf '| %s | %s | %s | %s |\n' "$1" "$a" "$b" "$(ratio "$b" "$a")"
}
# The ratio rules/none of FIGURE in each round.
round_ratios() {
	awk -v f="$1" '$2 == f && $1 ~ /^dg-/ { v[$1, $3] = $4; if ($3 > n) n = $3 }
		END { for (r = 1; r <= n; r++) if (v["dg-none", r] > 0) {
			printf "%s%.3f", s, v["dg-rules", r] / v["dg-none", r]; s = ", " } }' \
		"$RESULTS"
}
rules_table() {
	echo
	echo "Rules figure: dnsgated with $RULES rules against none, cache hits" \
		"as above (the same config but for the rules file, each started" \
		"afresh, warmed, then $DURATION s of hits; none then rules in odd" \
		"rounds, rules then none in even). Every query was allowed by a" \
		"rule of $RULES_APP (checked in the log of one more run)."
	echo
	echo "| figure | no rules | $RULES rules | rules/none |"
	echo "| --- | ---: | ---: | ---: |"
	rules_row "cache hit: queries/s" hit_QPS
	rules_row "cache hit: average latency (ms)" hit_AVG_MS
	rules_row "cache hit: 99th percentile latency (ms)" hit_P99_MS
	rules_row "cache hit: daemon CPU per query (µs)" hit_CPU_US
	rules_row "cache hit: queries lost" hit_LOST
	rules_row "start to serving (ms)" start_ms
	rules_row "RSS after start (KiB)" start_rss
	rules_row "peak RSS after the hit run, VmHWM (KiB)" hwm
	echo
	echo "Each round's values (round 1, 2, ...):"
	echo
	for f in hit_QPS hit_CPU_US; do
		for d in dg-none dg-rules; do
			printf '    %s %s: %s\n' "$d" "$f" "$(awk -v d="$d" -v f="$f" \
				'$1 == d && $2 == f { printf "%s%s", s, $4; s = ", " }' "$RESULTS")"
		done
		printf '    rules/none %s: %s\n' "$f" "$(round_ratios "$f")"
	done
	echo
	echo "The rules that decided, in that checking run (queries: line of the rules file):"
	echo
	sed 's/^# *//' "$RAW/rules-decided.txt"
	if [ "$BENCH_HISTORY" = 1 ]; then
		echo
		echo "History figure: dnsgated with no rules, its history on (as" \
			"installed; the rules figure's 'no rules' runs) against" \
			"history off, cache hits as above, in the same rounds."
		echo
		echo "| figure | history on | history off | on/off |"
		echo "| --- | ---: | ---: | ---: |"
		for f in "cache hit: queries/s:hit_QPS" \
			"cache hit: daemon CPU per query (µs):hit_CPU_US" \
			"cache hit: 99th percentile latency (ms):hit_P99_MS" \
			"peak RSS after the hit run, VmHWM (KiB):hwm"; do
			a=$(median dg-none "${f##*:}")
			o=$(median dg-nohist "${f##*:}")
			printf '| %s | %s | %s | %s |\n' "${f%:*}" "$a" "$o" \
				"$(ratio "$a" "$o")"
		done
	fi
	if [ "$BENCH_GEOIP" = 1 ]; then
		echo
		echo "GeoIP figure: dnsgated with no rules, GeoIP on (the tests'" \
			"country and ASN files; every answer address looked up and" \
			"logged with its place) against off (the rules figure's" \
			"'no rules' runs), cache hits as above, in the same rounds."
		echo
		echo "| figure | GeoIP on | GeoIP off | on/off |"
		echo "| --- | ---: | ---: | ---: |"
		for f in "cache hit: queries/s:hit_QPS" \
			"cache hit: daemon CPU per query (µs):hit_CPU_US" \
			"cache hit: 99th percentile latency (ms):hit_P99_MS" \
			"peak RSS after the hit run, VmHWM (KiB):hwm"; do
			a=$(median dg-geoip "${f##*:}")
			o=$(median dg-none "${f##*:}")
			printf '| %s | %s | %s | %s |\n' "${f%:*}" "$a" "$o" \
				"$(ratio "$a" "$o")"
		done
		echo
		echo "Lookups, bench/geoip_bench (geoip/geoip.c, country and ASN" \
			"per address, a third IPv6, the same files; median of 5 rounds):"
		echo
		"$top_builddir/bench/geoip_bench" "$DATA/geo/country.mmdb" \
			"$DATA/geo/asn.mmdb" | sed 's/^/    /'
	fi
	q=$(ratio "$(median dg-rules hit_QPS)" "$(median dg-none hit_QPS)")
	# The rounds' own ratios cancel what changed between rounds.
	paired=$(round_ratios hit_QPS | tr ',' '\n' | sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]
			else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	echo
	if awk -v q="$q" 'BEGIN { exit !(q != "-" && q + 0 >= 0.9) }'; then
		echo "rules/none on cache hits: $q queries/s (median of the rounds'" \
			"own ratios $paired), at least 0.9 (issue 13)."
	else
		echo "rules/none on cache hits: $q queries/s (median of the rounds'" \
			"own ratios $paired), BELOW 0.9 (issue 13): profile with BENCH_PERF=1."
	fi
}

{
	echo
	echo "dnsgate $(git -C "$top_srcdir" describe --always --dirty 2>/dev/null)," \
		"$(dnsmasq --version | head -1 | cut -d' ' -f1,3)," \
		"unbound $(unbound -V | sed -n 's/^Version //p')," \
		"dnsperf $(dnsperf -h 2>&1 | sed -n 's/^Version //p');" \
		"$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, Linux $(uname -r)"
	if [ -n "$DAEMON_CPU" ]; then
		echo "Each daemon on CPU 0, dnsperf on CPU 1 (BENCH_PIN=1)."
	else
		echo "Daemons and dnsperf not pinned (BENCH_PIN=0, or 1 core)."
	fi
	[ "$BENCH_RULES" = only ] && echo "Medians of $ROUNDS rounds. dnsperf:" \
		"$DURATION s runs, $OUTSTANDING queries in flight, 1 client socket." \
		"Hits: $NAMES names after one warm pass. Only the rules figure." \
		"Load average (1 min) at the start: $LOAD0."
	[ "$BENCH_RULES" = only ] || [ "$BENCH_LIST" = only ] || echo "Medians of $ROUNDS rounds. dnsperf: $DURATION s runs, $OUTSTANDING" \
		"queries in flight, 1 client socket. Hits: $NAMES names after one" \
		"warm pass. Busy cgroup: the same, asked from a cgroup with" \
		"$BUSY_PROCS more processes holding $BUSY_FILES open files each." \
		"Misses: names the daemon never saw. Burst: $BURST connected UDP" \
		"sockets, one query each for one cached name, sent back to back." \
		"Block list: $BLOCK domains." \
		"Load average (1 min) at the start: $LOAD0; anything else running" \
		"competes with the daemons for the cores."
	if [ "$BENCH_LIST" = only ]; then
		echo "Medians of $ROUNDS rounds. Block list: $BLOCK domains." \
			"Only the list figures. Load average (1 min) at the start: $LOAD0."
		list_table
	fi
	[ "$BENCH_RULES" = only ] || [ "$BENCH_LIST" = only ] || main_table
	[ "$BENCH_RULES" = 0 ] || rules_table
} | tee "$RAW/table.md"

if [ "$BENCH_PERF" = 1 ]; then
	for kind in hit busy miss burst dg-none dg-rules dg-nohist; do
		[ -f "$RAW/perf-$kind-self.txt" ] || continue
		echo
		echo "dnsgated under perf, $kind run: user-space functions, including" \
			"what they call (children, >= 2%):"
		echo
		sed 's/^/    /' "$RAW/perf-$kind-user.txt"
		echo
		echo "hottest symbols, self time (>= 1%):"
		echo
		sed 's/^/    /' "$RAW/perf-$kind-self.txt"
	done
fi

if [ -n "$BENCH_KEEP" ]; then
	mkdir -p "$BENCH_KEEP"
	cp -r "$RAW" "$BENCH_KEEP/"
	note "raw outputs in $BENCH_KEEP/raw"
fi
exit 0
