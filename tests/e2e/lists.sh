#!/bin/sh
# lists.sh - block lists that cannot silently break blocking: a line that
# is a public suffix is refused (unless it says '# public-suffix'); a
# reload that reads a list broken, emptied or gone keeps its copy in use;
# dnsgated -n names every file it cannot use.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
ok.app.test. 300 IN A 198.51.100.50
tracker.ads.test. 300 IN A 198.51.100.51
d5.bulk.test. 300 IN A 198.51.100.52
a.shop.test. 300 IN A 198.51.100.53
x.co.test. 300 IN A 198.51.100.54
again.app.test. 300 IN A 198.51.100.55
y.cdn.test. 300 IN A 198.51.100.56
"

e2e_setup
start_unbound
APP=$(new_app app)

# status NAME: the rcode an app gets for NAME through the daemon.
status() {
	as_app "$APP" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 @192.0.2.2 "$1" A |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}
answer() {
	as_app "$APP" "$E2E_TMP/pid" "$DIG" +short +time=2 +tries=1 @192.0.2.2 "$1" A
}
logged() { grep -qF -- "$1" "$DAEMON_LOG"; }
# has TEXT NEEDLE: TEXT has NEEDLE on one of its lines.
has() { printf '%s\n' "$1" | grep -qF -- "$2"; }

# reload: SIGHUP, and wait for the daemon to say it reloaded.
reload() {
	before=$(grep -c ' reloaded: [0-9]' "$DAEMON_LOG")
	kill -HUP "$DAEMON_PID"
	for _ in $(seq 100); do
		[ "$(grep -c ' reloaded: [0-9]' "$DAEMON_LOG")" -gt "$before" ] &&
			return 0
		sleep 0.05
	done
	echo "no reload logged"
	return 1
}

# The test's own public suffixes: "test" stands for "com", "co.test" for
# "co.uk", "shop.test" for one a list blocks on purpose; cdn.test is in
# the private part, which does not count (a platform like github.io).
PSL=$E2E_TMP/suffixes.dat
printf '// ===BEGIN ICANN DOMAINS===\ntest\nco.test\nshop.test\n// ===END ICANN DOMAINS===\n// ===BEGIN PRIVATE DOMAINS===\ncdn.test\n// ===END PRIVATE DOMAINS===\n' >"$PSL"
LIST=$E2E_TMP/block.txt
BULK=$E2E_TMP/bulk.txt
printf 'test\n0.0.0.0 co.test\nads.test\nshop.test # public-suffix\ncdn.test\n' >"$LIST"
numbered 0 149 'd&.bulk.test' >"$BULK"
CONF="listen-port 5453
upstream 192.0.2.2
public-suffix-list $PSL
blocklist $LIST
blocklist $BULK"

# 1. dnsgated -n names each file it cannot use, and exits 1.
printf '%s\nblocklist %s/missing.txt\nlog-file %s/no-dir/dnsgate.log\n' \
	"$CONF" "$E2E_TMP" "$E2E_TMP" >"$E2E_TMP/bad.conf"
out=$("$DNSGATED" -n -c "$E2E_TMP/bad.conf" 2>&1)
rc=$?
check "dnsgated -n with an unreadable blocklist exits 1 ($rc)" [ "$rc" = 1 ]
check "dnsgated -n names the blocklist and why" \
	has "$out" "dnsgated: blocklist $E2E_TMP/missing.txt: cannot read it: No such file or directory"
check "dnsgated -n names a log-file it could not create" \
	has "$out" "dnsgated: log-file $E2E_TMP/no-dir/dnsgate.log: does not exist and cannot be created: directory $E2E_TMP/no-dir: No such file or directory"
check_that "dnsgated -n prints no config when files are missing" \
	'! has "$out" "listen-port"'
check "dnsgated -n says how many files cannot be used" \
	has "$out" "dnsgated: $E2E_TMP/bad.conf: 2 files named there cannot be used"
printf 'upstream 192.0.2.2\npublic-suffix-list %s\nblocklist /\n' \
	"$E2E_TMP/none.dat" >"$E2E_TMP/bad2.conf"
out=$("$DNSGATED" -n -c "$E2E_TMP/bad2.conf" 2>&1)
rc=$?
check_that "dnsgated -n: a directory as a list, a missing public-suffix-list ($rc)" \
	'[ "$rc" = 1 ] && has "$out" "blocklist /: cannot read it: Is a directory" &&
	has "$out" "public-suffix-list $E2E_TMP/none.dat: cannot read it: No such file"'
printf '%s\n' "$CONF" >"$E2E_TMP/good.conf"
out=$("$DNSGATED" -n -c "$E2E_TMP/good.conf" 2>&1)
rc=$?
check_that "dnsgated -n with every file readable prints the config ($rc)" \
	'[ "$rc" = 0 ] && has "$out" "public-suffix-list $PSL"'
check "dnsgated -n created no log file" [ ! -e "$E2E_TMP/no-dir" ]

# 2. Public suffixes on list lines.
start_daemon "$CONF"
ans=$(answer ok.app.test)
check "a list line 'test' (a public suffix) does not block all of .test ($ans)" \
	[ "$ans" = 198.51.100.50 ]
ans=$(answer x.co.test)
check "nor does a hosts line naming the two-label suffix co.test ($ans)" \
	[ "$ans" = 198.51.100.54 ]
check "an ordinary list line still blocks ($(status tracker.ads.test))" \
	[ "$(status tracker.ads.test)" = NXDOMAIN ]
check "a public suffix whose line says '# public-suffix' is blocked whole" \
	[ "$(status a.shop.test)" = NXDOMAIN ]
check "a name of the list's private part is no public suffix: blocked" \
	[ "$(status y.cdn.test)" = NXDOMAIN ]
check "the log names file:line, the suffix and how to block it anyway" \
	logged "$LIST:1: test is a public suffix (it would block every site under .test): line skipped; to block it anyway, end the line with '# public-suffix': 'test'"
check "and the hosts line with co.test" \
	logged "$LIST:2: co.test is a public suffix"
check "the list's line in the log counts the refused lines" \
	logged "blocklist $LIST (domains): 3 entries from 5 lines; 2 lines refused for naming a public suffix (see above); 1 public suffix blocked whole"

# 3. Reloads. An emptied big list keeps its copy; the other list's update
# is taken all the same (per list, not all or nothing).
: >"$BULK"
printf 'ads.test\nagain.app.test\n' >"$LIST"
reload
check "after the big list is emptied, its names are still blocked" \
	[ "$(status d5.bulk.test)" = NXDOMAIN ]
check "the other list's new name is blocked in the same reload" \
	[ "$(status again.app.test)" = NXDOMAIN ]
check "the keep is logged with the counts and what to do" \
	logged "blocklist $BULK: the reload found 0 domains where the copy in use has 150 (fewer than half; 0 malformed or refused lines): keeping the copy in use"
check "the reload's summary counts the list kept" \
	logged "reloaded: 0 rules from 0 files, 2 lists with 152 domains; 1 of the lists kept their copy in use (see above); "

# A list replaced by junk (an HTML error page from a failed download).
printf '<html>\n<head><title>502 Bad Gateway</title></head>\n<body>502</body>\n</html>\n' >"$LIST"
reload
check "after the list turned into an HTML page, it still blocks" \
	[ "$(status tracker.ads.test)" = NXDOMAIN ]
check "the junk is logged as such and the copy kept" \
	logged "blocklist $LIST: the reload found 0 domains where the copy in use has 2 (more malformed or refused lines than domains; 4 malformed or refused lines): keeping the copy in use"

# A list that is gone.
rm "$LIST"
reload
check "after the list file is removed, it still blocks" \
	[ "$(status again.app.test)" = NXDOMAIN ]
check "the unreadable list is logged and its copy kept" \
	logged "blocklist $LIST: cannot read it on reload (No such file or directory): keeping the copy in use (2 domains, read "
st=$("$DNSGATECTL" -s "$CONTROL_SOCKET" status)
check "dnsgatectl status counts both lists kept on their older copy" \
	sh -c "printf '%s\n' \"\$1\" | grep -qx '  kept_after_bad_reload: 2'" sh "$st"
check "and the daemon is still serving other names ($(answer ok.app.test))" \
	[ "$(answer ok.app.test)" = 198.51.100.50 ]

# Fixed files are taken again.
printf 'ads.test\n' >"$LIST"
numbered 0 99 'd&.bulk.test' >"$BULK"
reload
check "once fixed, both lists are read again (again.app.test: $(status again.app.test))" \
	[ "$(status again.app.test)" = NOERROR ]
check "no list is kept then" \
	grep -q 'reloaded: 0 rules from 0 files, 2 lists with 101 domains; [0-9]* ms$' "$DAEMON_LOG"

# 4. A public-suffix-list that is missing at start: one warning, it runs.
stop_daemon
start_daemon "listen-port 5453
upstream 192.0.2.2
public-suffix-list $E2E_TMP/none.dat
blocklist $LIST"
check "a missing public-suffix-list is not fatal, and is warned about once" \
	[ "$(grep -c 'the public-suffix check is off' "$DAEMON_LOG")" = 1 ]
check "the daemon serves meanwhile ($(answer ok.app.test))" \
	[ "$(answer ok.app.test)" = 198.51.100.50 ]

e2e_finish
