#!/bin/sh
# fetch.sh - https:// lists (subscriptions): downloaded from a local HTTPS
# server with a test CA, in the net namespace, through the gate with the
# upstream mark and the host's name resolved by the upstream. A change is
# applied by the refresh, a 304 reloads nothing, a failed, HTML, binary
# or shrunken download keeps the copy in force, and a restart with the
# server down serves the cached copy from the first query. A download is
# written as NAME.list.new and becomes NAME.list only once the policy read
# from it was accepted, so junk never reaches the copy a restart loads.
# Each list is applied when its own download is done: a server that
# hangs holds back no other list. A download whose list's URL changed
# meanwhile is dropped, the new URL fetched. A refusal by a build that
# began before the download was stored is that download's result; a
# copy a build that failed left is judged by the next one, and a download
# stored meanwhile waits for the build after.
# Queries are answered within 500 ms while the write of a 20 MB list
# blocks for 3 s.
. "$(dirname "$0")/lib.sh"

for tool in python3 openssl; do
	command -v "$tool" >/dev/null 2>&1 ||
		skip "needs $tool (see README: scripts/check installs it)"
done

LOCAL_DATA="
lists.test. 300 IN A 198.51.100.80
local.test. 300 IN A 127.0.0.1
ok.app.test. 300 IN A 198.51.100.50
one.ads.test. 300 IN A 198.51.100.51
two.ads.test. 300 IN A 198.51.100.52
old1.moved.test. 300 IN A 198.51.100.53
new1.moved.test. 300 IN A 198.51.100.54
fast1.ads.test. 300 IN A 198.51.100.55
fast2.ads.test. 300 IN A 198.51.100.56
slow1.ads.test. 300 IN A 198.51.100.57
big1.huge.test. 300 IN A 198.51.100.58
j1.junk.test. 300 IN A 198.51.100.59
c1.two.test. 300 IN A 198.51.100.60
c2.two.test. 300 IN A 198.51.100.61
c3.two.test. 300 IN A 198.51.100.62
"

e2e_setup
start_unbound
APP=$(new_app app)

status() {
	as_app "$APP" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 @192.0.2.2 "$1" A |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}
blocked() { [ "$(status "$1")" = NXDOMAIN ]; }
logged() { grep -qF -- "$1" "$DAEMON_LOG"; }
has() { printf '%s\n' "$1" | grep -qF -- "$2"; }
reloads() { grep -c ' reloaded: [0-9]' "$DAEMON_LOG"; }
ctl() { "$DNSGATECTL" -s "$CONTROL_SOCKET" "$@"; }

# A test CA and a certificate for lists.test signed by it.
PKI=$E2E_TMP/pki
mkdir -p "$PKI"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dnsgate test CA" \
	-keyout "$PKI/ca.key" -out "$PKI/ca.pem" >/dev/null 2>&1 &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=lists.test" \
		-keyout "$PKI/server.key" -out "$PKI/server.csr" >/dev/null 2>&1 &&
	printf 'subjectAltName=DNS:lists.test\n' >"$PKI/ext" &&
	openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.pem" \
		-CAkey "$PKI/ca.key" -CAcreateserial -days 2 -extfile "$PKI/ext" \
		-out "$PKI/server.pem" >/dev/null 2>&1 ||
	{ echo "openssl could not make the test CA"; exit 99; }

# The server: its files in $WWW/files, its mode in $WWW/mode.
WWW=$E2E_TMP/www
mkdir -p "$WWW/files"
echo normal >"$WWW/mode"
LIST=$WWW/files/ads.txt
{ printf '! Title: test list\none.ads.test\n'; numbered 0 99 'd&.bulk.test'; } >"$LIST"
in_net ip addr add 198.51.100.80/32 dev lo
SERVER_PID=
start_server() {
	nsenter --net=/run/netns/"$NS_NET" python3 \
		"$top_srcdir/tests/e2e/list_server.py" 198.51.100.80 443 \
		"$PKI/server.pem" "$PKI/server.key" "$WWW" \
		>"$E2E_TMP/server.out" 2>&1 &
	SERVER_PID=$!
	BACKGROUND_PIDS="$BACKGROUND_PIDS $SERVER_PID"
	within 5 grep -q listening "$E2E_TMP/server.out" ||
		{ cat "$E2E_TMP/server.out"; exit 99; }
}
start_server

CACHE=$E2E_TMP/cache
CONF="listen-port 5453
upstream 192.0.2.2
public-suffix-list none
list-cache $CACHE
ca-file $PKI/ca.pem
blocklist https://lists.test/ads.txt name=ads refresh=2 max-shrink=50%"

# 1. No copy yet: the daemon starts at once, says so, downloads it.
start_daemon "$CONF"
check "with no copy yet, the daemon starts and says it serves without it" \
	logged "list ads: no copy of https://lists.test/ads.txt in the cache yet"
check "the list is downloaded in the background and blocks" \
	within 10 blocked one.ads.test
check "the copy is in list-cache" [ -s "$CACHE/ads.list" ]
check "other names are answered ($(status ok.app.test))" \
	[ "$(status ok.app.test)" = NOERROR ]
check "the download is logged with its entries" \
	logged "list ads: downloaded https://lists.test/ads.txt: "
check_that "the host's name went to the upstream, not through dnsgated" \
	'! grep -q "qname=lists.test" "$DAEMON_LOG"'
out=$(ctl lists)
check_that "dnsgatectl lists shows the source, the entries and the result" \
	'has "$out" "source: https://lists.test/ads.txt" &&
	has "$out" "entries: 101" && has "$out" "last_result: "'

# 2. 304: nothing new, nothing reloaded.
within 5 sh -c "grep -q '/ads.txt 304' '$WWW/requests.log'"
before=$(reloads)
out=$(ctl update ads)
rc=$?
check_that "dnsgatectl update replies when done: not modified ($rc)" \
	'[ "$rc" = 0 ] && has "$out" "result: not modified (HTTP 304)"'
check "the server was asked with If-None-Match and said 304" \
	grep -q '/ads.txt 304 "' "$WWW/requests.log"
check "a 304 reloads nothing ($before, $(reloads))" [ "$(reloads)" = "$before" ]

# 3. The list changes: the refresh (every 2 s here) applies it.
printf 'two.ads.test\n' >>"$LIST"
check "a changed list is applied by the refresh" within 10 blocked two.ads.test
check "and the old names stay blocked" blocked one.ads.test
# ...and dnsgatectl update replies once the new copy is in force.
printf 'three.ads.test\n' >>"$LIST"
out=$(ctl update ads)
check "right after update replies, its new name is blocked ($out)" \
	blocked three.ads.test

# 4. A failed download keeps the copy in force, and says so.
echo 500 >"$WWW/mode"
out=$(ctl update ads)
rc=$?
check_that "update of a list answering 500 fails, naming it ($rc)" \
	'[ "$rc" = 1 ] && has "$out" "result: HTTP 500"'
check "after a 500 the copy in force still blocks" blocked two.ads.test
check "the log says the copy is kept" \
	logged "list ads: download of https://lists.test/ads.txt failed: HTTP 500; keeping the copy in force"
out=$(ctl lists)
check "dnsgatectl lists shows the failure" has "$out" "last_ok: false"

echo html >"$WWW/mode"
out=$(ctl update ads)
check_that "an HTML page is refused" 'has "$out" "an HTML page, not a list"'
check "after an HTML page the copy in force still blocks" blocked two.ads.test
echo garbage >"$WWW/mode"
out=$(ctl update ads)
check_that "binary garbage is refused" 'has "$out" "binary data"'
check "after garbage the copy in force still blocks" blocked one.ads.test
check "the cache still holds the good copy" grep -qx two.ads.test "$CACHE/ads.list"

# 5. A list that shrank past max-shrink is refused.
echo normal >"$WWW/mode"
printf 'one.ads.test\n' >"$LIST"
out=$(ctl update ads)
check_that "a list shrunk from 103 to 1 entries is refused" \
	'has "$out" "it shrank from 103 to 1 entries, by more than max-shrink=50%"'
check "after the shrink the copy in force still blocks" blocked two.ads.test
# 5b. As many lines, every rule with an option only a browser has: text,
# no entries in force. The running copy stays.
{ printf '[Adblock Plus 2.0]\n||one.ads.test^$third-party\n||two.ads.test^$third-party\n'
  numbered 0 100 '||d&.bulk.test^$third-party'; } >"$LIST"
out=$(ctl update ads)
check "a list whose every rule dnsgate skips is not put in force" \
	logged "list ads: the new copy of https://lists.test/ads.txt is refused: the new copy gives 0 entries where the copy in force has "
check_that "update says so ($out)" \
	'has "$out" "result: the new copy gives 0 entries where the copy in force has 103"'
check "and the copy in force still blocks" blocked two.ads.test
check_that "the cache keeps the good copy, not the refused text" \
	'grep -qx two.ads.test "$CACHE/ads.list" && ! grep -q third-party "$CACHE/ads.list"'
check_that "and no copy pending is left" \
	'[ ! -e "$CACHE/ads.list.new" ] && [ ! -e "$CACHE/ads.meta.new" ]'
check "the cached copy is private (0600)" [ "$(stat -c %a "$CACHE/ads.list")" = 600 ]

# 6. Restart with the server down: the cached copy from the first query
# (the last one accepted: 5b's text was refused, never cached).
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
stop_daemon
start_daemon "$CONF"
check "after a restart with the server down, the first query is blocked" \
	blocked two.ads.test
check "and the failed download is logged, the copy kept" \
	within 10 logged "list ads: download of https://lists.test/ads.txt failed: "
check "the daemon keeps serving" [ "$(status ok.app.test)" = NOERROR ]
out=$(ctl update nosuch 2>&1)
check "update of an unknown list says so" has "$out" "'nosuch' is no https:// list"

# 6b. No download from this host's own or its link's addresses: the
# socket is marked for the gate, which lets it out anywhere.
stop_daemon
start_daemon "listen-port 5453
upstream 192.0.2.2
public-suffix-list none
list-cache $CACHE.2
ca-file $PKI/ca.pem
blocklist https://127.0.0.1:8443/a.txt name=lo
blocklist https://[fe80::1]/a.txt name=ll
blocklist https://local.test/a.txt name=named"
check "a loopback address is not downloaded from" within 10 \
	logged "list lo: download of https://127.0.0.1:8443/a.txt failed: 127.0.0.1 is a loopback address"
check "nor a link-local one" within 10 \
	logged "list ll: download of https://[fe80::1]/a.txt failed: [fe80::1] is a link-local address"
check "nor a name that resolves to loopback" within 10 \
	logged "local.test resolves to 127.0.0.1, a loopback address"

# 8. Each list applied when its own download is done: one server hangs,
# the other list's change applies within seconds, and `update LIST`
# waits for that list only.
stop_daemon
echo normal >"$WWW/mode"
echo /slow.txt >"$WWW/hang"
printf 'fast1.ads.test\n' >"$WWW/files/fast.txt"
printf 'slow1.ads.test\n' >"$WWW/files/slow.txt"
: >"$WWW/requests.log"
start_server
start_daemon "listen-port 5453
upstream 192.0.2.2
public-suffix-list none
list-cache $CACHE.3
ca-file $PKI/ca.pem
blocklist https://lists.test/slow.txt name=slow
blocklist https://lists.test/fast.txt name=fast"
check "the slow server holds its download" \
	within 10 grep -q '^/slow.txt hang' "$WWW/requests.log"
check "the other list is applied meanwhile" within 10 blocked fast1.ads.test
printf 'fast2.ads.test\n' >>"$WWW/files/fast.txt"
t0=$(date +%s%N)
out=$(timeout 20 "$DNSGATECTL" -s "$CONTROL_SOCKET" update fast)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check_that "update fast answers while slow hangs ($rc, $ms ms)" \
	'[ "$rc" = 0 ] && [ "$ms" -lt 5000 ] && has "$out" "result: new copy"'
check "and its change is in force then" blocked fast2.ads.test
out=$(ctl lists)
check "the slow list is shown downloading" has "$out" "last_result: downloading now"
: >"$WWW/hang"
check "once its server answers, the slow list applies too" \
	within 10 blocked slow1.ads.test

# 9. The list's URL changes while a download from the old one hangs: what
# the old URL then gives is dropped, not stored under the new one.
stop_daemon
printf 'old1.moved.test\n' >"$WWW/files/old.txt"
printf 'new1.moved.test\n' >"$WWW/files/new.txt"
echo /old.txt >"$WWW/hang"
MOVED="listen-port 5453
upstream 192.0.2.2
public-suffix-list none
list-cache $CACHE.4
ca-file $PKI/ca.pem
blocklist https://lists.test/X.txt name=moved"
start_daemon "$(printf '%s\n' "$MOVED" | sed 's/X.txt/old.txt/')"
check "the download from the old URL hangs" \
	within 10 grep -q '^/old.txt hang' "$WWW/requests.log"
write_conf "$(printf '%s\n' "$MOVED" | sed 's/X.txt/new.txt/')" "$DAEMON_CONF" \
	"$CONTROL_SOCKET"
kill -HUP "$DAEMON_PID"
check "the reload with the new URL is done" within 10 logged " reloaded: "
: >"$WWW/hang"
check "the new URL's list is applied" within 10 blocked new1.moved.test
check "what the old URL gave is not" [ "$(status old1.moved.test)" = NOERROR ]
check "the log says the old download was dropped" \
	logged "list moved: download of https://lists.test/old.txt failed: the list's URL changed while it downloaded from https://lists.test/old.txt: dropped"
check "the cached copy is the new URL's" grep -qx new1.moved.test "$CACHE.4/moved.list"

# 10. A 20 MB list whose write blocks for 3 s: a FIFO stands in for the
# file being written, read only 3 s after the download is logged (so the
# block falls within the queries below, however long the start and the
# download took). Queries are answered within 500 ms all along, since the
# loop never writes (cache_writer). fsync fails on a FIFO (EINVAL), so
# that write fails and the next refresh stores the list: a slow write
# that succeeds is tests/unit/test_cache_writer.c's.
stop_daemon
seq 1 1000000 | sed 's/.*/n&.big.test/' >"$WWW/files/big.txt"
echo big1.huge.test >>"$WWW/files/big.txt"
mkdir -p "$CACHE.5"
mkfifo "$CACHE.5/big.list.new.tmp"
(
	until grep -q "list big: downloaded" "$E2E_TMP/dnsgated.log" \
		2>/dev/null; do
		sleep 0.05
	done
	sleep 3
	exec cat "$CACHE.5/big.list.new.tmp" >/dev/null
) &
BACKGROUND_PIDS="$BACKGROUND_PIDS $!"
: >"$E2E_TMP/dnsgated.log"
OUT=$E2E_TMP/repeat.txt
start_daemon "listen-port 5453
upstream 192.0.2.2
public-suffix-list none
list-cache $CACHE.5
ca-file $PKI/ca.pem
blocklist https://lists.test/big.txt name=big refresh=2"
as_app "$APP" "$E2E_TMP/rpid" "$DNS_CLIENT" --repeat 14 500 192.0.2.2 \
	ok.app.test >"$OUT" 2>&1 &
CLIENT=$!
BACKGROUND_PIDS="$BACKGROUND_PIDS $CLIENT"
wait "$CLIENT"
answered=$(grep -c '^answer$' "$OUT")
check "14 queries while the 20 MB list is written, each answered within 500 ms ($answered; $(grep -v '^answer$' "$OUT" | sort | uniq -c | tr '\n' ' '))" \
	[ "$answered" = 14 ]
check "the write blocked on the FIFO (and its fsync failed there)" \
	logged "list big: download of https://lists.test/big.txt failed: downloaded, but not stored: cannot write $CACHE.5/big.list.new.tmp: Invalid argument"
check "the big list is applied in the end" within 20 blocked big1.huge.test

# 11. A build that began before a download was stored (a SIGHUP; a big
# file list read first keeps it busy) is the one that judges the new
# copy: its refusal is the download's result, not "the reload did not
# read it" from the build asked for after.
stop_daemon
numbered 1 1000000 'n&.file.test' >"$E2E_TMP/big-file.txt"
printf 'j1.junk.test\n' >"$WWW/files/junk.txt"
start_daemon "listen-port 5453
upstream 192.0.2.2
public-suffix-list none
list-cache $CACHE.6
ca-file $PKI/ca.pem
blocklist $E2E_TMP/big-file.txt name=file
blocklist https://lists.test/junk.txt name=junk refresh=1h"
check "the junk list's first copy is in force" within 20 blocked j1.junk.test
{ printf '[Adblock Plus 2.0]\n'; numbered 1 50 '||j&.junk.test^$third-party'; } \
	>"$WWW/files/junk.txt"
kill -HUP "$DAEMON_PID"
out=$(ctl update junk)
check_that "the refusal by the build before is the download's result ($out)" \
	'has "$out" "result: the new copy gives 0 entries where the copy in force has 1 (it has rule lines, but none that dnsgate can use)"'
check "the copy in force still blocks" blocked j1.junk.test
check_that "no copy is left pending or claimed" \
	'[ ! -e "$CACHE.6/junk.list.new" ] && [ ! -e "$CACHE.6/junk.list.judging" ]'
check "the cached copy is the first one" grep -qx j1.junk.test "$CACHE.6/junk.list"
grep ' reloaded: ' "$DAEMON_LOG" | tail -n 2 | sed 's/^/# /'

# 12. A copy left claimed by a build that failed (a broken rules file)
# is judged by the next build, a SIGHUP's, while the next download
# (copy 3) is stored: that build puts copy 2 in force and in the cache,
# and copy 3 waits for the build after, which puts it in force before
# 'dnsgatectl update' replies. (Before, the build renamed whatever
# NAME.list.new held when it ended, copy 3, never judged, over
# NAME.list, and the update replied "in force" while copy 2 was.)
stop_daemon
numbered 1 2000000 'n&.file.test' >"$E2E_TMP/big-file.txt"
mkdir -p "$E2E_TMP/rules12"
printf 'c1.two.test\n' >"$WWW/files/two.txt"
start_daemon "listen-port 5453
upstream 192.0.2.2
public-suffix-list none
list-cache $CACHE.7
ca-file $PKI/ca.pem
rules $E2E_TMP/rules12
blocklist https://lists.test/two.txt name=two refresh=1h
blocklist $E2E_TMP/big-file.txt name=file"
check "copy 1 is in force" within 30 blocked c1.two.test
printf 'c1.two.test\nc2.two.test\n' >"$WWW/files/two.txt"
printf 'blok name=typo.test\n' >"$E2E_TMP/rules12/broken.rules"
out=$(ctl update two)
check_that "copy 2 is downloaded, its build fails ($out)" \
	'has "$out" "downloaded, but the reload to apply it failed"'
check "and it is left claimed" [ -e "$CACHE.7/two.list.judging" ]
rm "$E2E_TMP/rules12/broken.rules"
printf 'c1.two.test\nc2.two.test\nc3.two.test\n' >"$WWW/files/two.txt"
echo /two.txt >"$WWW/hang"
ctl update two >"$E2E_TMP/update12.out" 2>&1 &
UPDATE=$!
BACKGROUND_PIDS="$BACKGROUND_PIDS $UPDATE"
within 10 grep -q '^/two.txt hang' "$WWW/requests.log"
kill -HUP "$DAEMON_PID"
sleep 0.05
rm "$WWW/hang"
wait "$UPDATE"
out=$(cat "$E2E_TMP/update12.out")
check_that "update replies with copy 3 in force ($out)" \
	'has "$out" "ok: true" && has "$out" "new copy, 3 entries"'
check "right after, copy 3's name is blocked" blocked c3.two.test
check "the cached copy is copy 3" grep -qx c3.two.test "$CACHE.7/two.list"
check_that "its record describes it" \
	'grep -qx "size $(stat -c %s "$CACHE.7/two.list")" "$CACHE.7/two.meta"'
check_that "nothing is left pending or claimed" \
	'[ ! -e "$CACHE.7/two.list.new" ] && [ ! -e "$CACHE.7/two.list.judging" ] && [ ! -e "$CACHE.7/two.meta.judging" ]'
check "copy 2 was judged by the SIGHUP's build, copy 3 by the next" \
	sh -c "[ \$(grep -c 'list two (domains): [0-9]* entries from [0-9]* lines of its new copy' '$DAEMON_LOG') -ge 2 ]"
grep 'list two\|reloaded: \|SIGHUP' "$DAEMON_LOG" | tail -n 8 | cut -c1-200 | sed 's/^/# /'

# 7. http:// is refused with a reason.
try_start "upstream 192.0.2.2
blocklist http://lists.test/ads.txt"
check "an http:// list is refused at start" refused_with "http:// lists are refused"

e2e_finish
