#!/bin/sh
# fetch.sh - https:// lists (subscriptions): downloaded from a local HTTPS
# server with a test CA, in the net namespace, through the gate with the
# upstream mark and the host's name resolved by the upstream. A change is
# applied by the refresh, a 304 reloads nothing, a failed, HTML, binary
# or shrunken download keeps the copy in force, and a restart with the
# server down serves the cached copy from the first query.
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
ctl update ads >/dev/null
check "a list whose every rule dnsgate skips is not put in force" within 5 \
	logged "list ads: the new copy of https://lists.test/ads.txt gives 0 entries where the copy in force has "
check "and the copy in force still blocks" blocked two.ads.test
{ printf '! Title: test list\none.ads.test\ntwo.ads.test\n'; numbered 0 99 'd&.bulk.test'; } >"$LIST"
# (The cache now holds 5b's text: a good download replaces it.)
ctl update ads >/dev/null

# 6. Restart with the server down: the cached copy from the first query.
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

# 7. http:// is refused with a reason.
try_start "upstream 192.0.2.2
blocklist http://lists.test/ads.txt"
check "an http:// list is refused at start" refused_with "http:// lists are refused"

e2e_finish
