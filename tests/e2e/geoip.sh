#!/bin/sh
# geoip.sh - GeoIP end to end, with country and ASN databases written at
# test time in the MaxMind DB format (tests/helpers/make_mmdb.pl) for the
# documentation ranges (geoip-lookup-documentation yes): the query log
# and dnsgatectl log show the country and ASN of v4 and v6 answers;
# dnsgatectl app NAME shows them for the destinations an app sent to,
# and apps --by country which apps sent to which country; a rejected
# connection's line and record show its destination's; a country file
# replaced by rename is picked up by dnsgatectl reload; a corrupt file
# at start is one warning, the other file still used, every query
# answered.
. "$(dirname "$0")/lib.sh"

perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null ||
	skip "libmaxmind-db-writer-perl is not installed (scripts/deps test)"
command -v mmdblookup >/dev/null ||
	skip "mmdblookup (mmdb-bin) is not installed (scripts/deps test)"

LOCAL_DATA="
nl.geo.test. 300 IN A 198.51.100.7
two.geo.test. 300 IN A 198.51.100.8
two.geo.test. 300 IN A 203.0.113.9
six.geo.test. 300 IN AAAA 2001:db8:100::5
"

e2e_setup
GEO=$E2E_TMP/geo
mkdir -p "$GEO"
perl "$top_srcdir/tests/helpers/make_mmdb.pl" "$GEO" ||
	{ echo "make_mmdb.pl failed"; exit 99; }
check_that "mmdblookup reads the test country database back" \
	'mmdblookup -f "$GEO/country.mmdb" -i 198.51.100.7 country iso_code |
		grep -q "\"NL\""'
check_that "and the ASN database, for IPv6 too" \
	'mmdblookup -f "$GEO/asn.mmdb" -i 2001:db8:100::5 \
		autonomous_system_number | grep -q 64502'
cp "$GEO/country.mmdb" "$GEO/in-use.mmdb"

# Sinks for the bytes an app sends, and a server nobody looks up.
in_net ip addr add 198.51.100.7/32 dev lo
in_net ip addr add 2001:db8:100::5/128 dev lo nodad
nsenter --net=/run/netns/"$NS_NET" "$TCP_PROBE" --sink 198.51.100.7 9000 &
BACKGROUND_PIDS="$BACKGROUND_PIDS $!"
nsenter --net=/run/netns/"$NS_NET" "$TCP_PROBE" --sink 2001:db8:100::5 9000 &
BACKGROUND_PIDS="$BACKGROUND_PIDS $!"
add_server 203.0.113.7
start_unbound
CONF="listen-port 5453
upstream 192.0.2.2
geoip-country $GEO/in-use.mmdb
geoip-asn $GEO/asn.mmdb
geoip-lookup-documentation yes"
start_daemon "$CONF"
CTL="$DNSGATECTL -s $CONTROL_SOCKET"
U=user.slice/user-1000.slice/user@1000.service
APP=$(new_app "$U/app.slice/app-gnome-org.example.Atlas-3131.scope")
SNEAKY=$(new_app "$U/app.slice/app-gnome-org.example.Sneaky-3232.scope")

# logged NAME TEXT: the query log has a line for NAME containing TEXT.
logged() {
	grep "qname=$1" "$DAEMON_LOG" | grep -qF -- "$2"
}

# 1. The query log: each answer address with its country and ASN.
check "the app resolves nl.geo.test" \
	[ "$(dig_short "$APP" nl.geo.test A)" = 198.51.100.7 ]
check "the log line shows its country and ASN" \
	logged nl.geo.test. "answer=198.51.100.7[NL,AS64500]"
dig_short "$APP" two.geo.test A >/dev/null
check "an answer in two countries: the NL address" \
	logged two.geo.test. "198.51.100.8[NL,AS64500]"
check "and the US one, each with its own" \
	logged two.geo.test. "203.0.113.9[US,AS64501]"
check "an IPv6 answer resolves" \
	[ "$(dig_short "$APP" six.geo.test AAAA)" = 2001:db8:100::5 ]
check "and is shown in Japan, AS64502" \
	logged six.geo.test. "answer=2001:db8:100::5[JP,AS64502]"

# 2. The history and dnsgatectl log.
check "the record reaches the history with its places" \
	within 5 sh -c '"$1" -s "$2" log --name nl.geo.test --json |
		grep -qF "\"geo\":\"198.51.100.7=NL/AS64500/Example Org\""' \
	sh "$DNSGATECTL" "$CONTROL_SOCKET"
check_that "dnsgatectl log's table shows country and ASN" \
	'$CTL log --name nl.geo.test | grep -qF "198.51.100.7[NL,AS64500]"'
check "and for IPv6" within 5 sh -c '"$1" -s "$2" log --name six.geo.test |
		grep -qF "2001:db8:100::5[JP,AS64502]"' \
	sh "$DNSGATECTL" "$CONTROL_SOCKET"

# 3. dnsgatectl app NAME: its destinations with where they are, once the
#    counters are read (every 5 s); apps --by country.
sent=$(as_app "$APP" "$E2E_TMP/bpid" "$TCP_PROBE" --send 20000 \
	198.51.100.7 9000)
check_that "the app sends to the NL address ($sent)" '[ "$sent" = "sent 20000" ]'
sent=$(as_app "$APP" "$E2E_TMP/bpid" "$TCP_PROBE" --send 30000 \
	2001:db8:100::5 9000)
check_that "and to the JP address ($sent)" '[ "$sent" = "sent 30000" ]'
# dnsgatectl grants reads the kernel's sets and the config's GeoIP files
# (no daemon needed): each grant's place.
check_that "dnsgatectl grants shows where each grant goes" \
	'in_client "$DNSGATECTL" -c "$DAEMON_CONF" grants | grep -q " 198.51.100.7\[NL,AS64500\] "'
check_that "and grants --json, for IPv6 too" \
	'in_client "$DNSGATECTL" -c "$DAEMON_CONF" grants --json | grep -q "\"address\":\"2001:db8:100::5\",\"place\":\"JP,AS64502\""'
check_that "without the config's files, no places" \
	'! in_client "$DNSGATECTL" -c /nonexistent grants 2>/dev/null | grep -q "\[NL"'
check "dnsgatectl app shows the NL destination's country and ASN" \
	within 15 sh -c '"$1" -s "$2" app Atlas --json | grep -q "{\"address\":\"198.51.100.7\",[^}]*\"country\":\"NL\",\"country_name\":\"Netherlands\",\"continent\":\"EU\",\"asn\":64500,\"as_org\":\"Example Org\"}"' \
	sh "$DNSGATECTL" "$CONTROL_SOCKET"
check "and the IPv6 one's" \
	within 15 sh -c '"$1" -s "$2" app Atlas --json | grep -q "{\"address\":\"2001:db8:100::5\",[^}]*\"country\":\"JP\",[^}]*\"asn\":64502,"' \
	sh "$DNSGATECTL" "$CONTROL_SOCKET"
by=$($CTL apps --by country)
check_that "apps --by country: the app under NL (Netherlands)" \
	'printf "%s\n" "$by" | grep "^NL (Netherlands) " | grep -q "app:org.example.Atlas"'
check_that "and under JP" \
	'printf "%s\n" "$by" | grep "^JP (Japan) " | grep -q "app:org.example.Atlas"'
check_that "not under a country it did not send to" \
	'! printf "%s\n" "$by" | grep "^US" | grep -q Atlas'
check_that "--json: one flat element per country and app" \
	'$CTL apps --by country --json | grep -q "{\"country\":\"NL\",\"country_name\":\"Netherlands\",\"app\":\"app:org.example.Atlas\",\"destinations\":1,"'
out=$($CTL apps --by continent 2>&1)
rc=$?
check "apps --by anything else is refused (exit $rc: $out)" \
	eval '[ "$rc" = 2 ] && printf "%s" "$out" | grep -q "by country"'

# 4. A rejected connection: its destination's country and ASN, in the
#    log line and in the record.
out=$(connect "$SNEAKY" 203.0.113.7)
check "a connection by address alone is rejected" rejected "$out"
check "the rejected line shows the destination's country and ASN" \
	within 5 sh -c 'grep "rejected: app:org.example.Sneaky" "$1" |
		grep -qF "connected to 203.0.113.7[US,AS64501] port 80 (tcp)"' \
	sh "$DAEMON_LOG"
check "and its record in dnsgatectl log" \
	within 5 sh -c '"$1" -s "$2" log --app Sneaky --blocked --json |
		grep -qF "\"geo\":\"203.0.113.7=US/AS64501/Documentation Transit\""' \
	sh "$DNSGATECTL" "$CONTROL_SOCKET"
check_that "the table shows it too" \
	'$CTL log --app Sneaky --blocked | grep -qF "203.0.113.7[US,AS64501] port 80"'

# 5. A country file replaced by rename (as geoipupdate does) is used
#    after dnsgatectl reload; the ASN file, unchanged, is kept.
cp "$GEO/country-v2.mmdb" "$GEO/in-use.mmdb.new"
mv "$GEO/in-use.mmdb.new" "$GEO/in-use.mmdb"
$CTL reload >/dev/null
dig_short "$APP" nl.geo.test A >/dev/null
check "after the reload the replaced file says FR" \
	logged nl.geo.test. "answer=198.51.100.7[FR,AS64500]"

# 6. A corrupt country file at start: one warning, the ASN still shown,
#    every query answered; a good file put back is used after a reload.
stop_daemon
head -c 300 "$GEO/country.mmdb" >"$GEO/in-use.mmdb"
start_daemon "$CONF"
check "a corrupt country file is one warning naming it" \
	within 5 sh -c '[ "$(grep -c "geoip-country .*in-use.mmdb cannot be used" "$1")" = 1 ]' \
	sh "$DAEMON_LOG"
check_that "dnsgatectl status says the country file is unusable, the ASN open" \
	'$CTL status --json | grep -q "\"geoip\":{\"country\":{\"state\":\"unusable\",\"path\":\"$GEO/in-use.mmdb\",\"error\":\"[^\"]*\"},\"asn\":{\"state\":\"open\",\"path\":\"$GEO/asn.mmdb\",\"type\":\"dnsgate-Test-ASN\","'
check "queries are answered all the same" \
	[ "$(dig_short "$APP" nl.geo.test A)" = 198.51.100.7 ]
check "with the ASN alone" logged nl.geo.test. "answer=198.51.100.7[AS64500]"
check "an IPv6 query too" \
	[ "$(dig_short "$APP" six.geo.test AAAA)" = 2001:db8:100::5 ]
cp "$GEO/country.mmdb" "$GEO/in-use.mmdb.new"
mv "$GEO/in-use.mmdb.new" "$GEO/in-use.mmdb"
$CTL reload >/dev/null
dig_short "$APP" two.geo.test A >/dev/null
check "the file fixed and reloaded: countries again" \
	logged two.geo.test. "198.51.100.8[NL,AS64500]"
check_that "the daemon still runs" 'kill -0 "$DAEMON_PID"'

e2e_finish
