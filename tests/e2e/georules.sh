#!/bin/sh
# georules.sh - rules by place end to end (issue 16, point 3), with the
# test databases of tests/helpers/make_mmdb.pl (198.51.100.0/24 NL
# AS64500, 203.0.113.0/25 US AS64501, 2001:db8::/33 JP AS64502,
# 2001:db8:8000::/33 DE): an app denied a country gets the block answer
# for a name that resolves only there and cannot connect to it, while
# another app can; an answer with addresses in an allowed and a denied
# country keeps only the allowed one, for that app only (the cache holds
# upstream's answer whole); an ASN rule; IPv6 by continent; the log says
# which address was dropped by which rule; without a usable country file
# the country rules drop nothing, and the log says so.
. "$(dirname "$0")/lib.sh"

perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null ||
	skip "libmaxmind-db-writer-perl is not installed (scripts/deps test)"

LOCAL_DATA="
us.place.test. 300 IN A 203.0.113.9
mixed.place.test. 300 IN A 198.51.100.8
mixed.place.test. 300 IN A 203.0.113.9
net.place.test. 300 IN A 198.51.100.9
six.place.test. 300 IN AAAA 2001:db8:100::5
six.place.test. 300 IN AAAA 2001:db8:8000::5
"

e2e_setup
GEO=$E2E_TMP/geo
mkdir -p "$GEO"
perl "$top_srcdir/tests/helpers/make_mmdb.pl" "$GEO" ||
	{ echo "make_mmdb.pl failed"; exit 99; }
add_server 203.0.113.9
add_server 198.51.100.8
start_unbound
mkdir "$E2E_TMP/rules.d"
RULES=$E2E_TMP/rules.d/10-places.rules
cat >"$RULES" <<EOF
block app=app:org.example.Atlas country=US
block app=app:org.example.Atlas continent=AS
block app=app:org.example.Net asn=AS64500
allow app=app:org.example.Net country=US,NL
EOF
start_daemon "listen-port 5453
upstream 192.0.2.2
geoip-country $GEO/country.mmdb
geoip-asn $GEO/asn.mmdb
geoip-lookup-documentation yes
rules $E2E_TMP/rules.d"
U=user.slice/user-1000.slice/user@1000.service
ATLAS=$(new_app "$U/app.slice/app-gnome-org.example.Atlas-4141.scope")
OTHER=$(new_app "$U/app.slice/app-gnome-org.example.Other-4242.scope")
NET=$(new_app "$U/app.slice/app-gnome-org.example.Net-4343.scope")

# logged APP NAME TEXT: the query log has a line of APP for NAME with TEXT.
logged() {
	grep "app=app:org.example.$1 " "$DAEMON_LOG" | grep "qname=$2" |
		grep -qF -- "$3"
}
sorted() { dig_short "$@" | sort | tr '\n' ' '; }

# 1. A name only in a denied country: the block answer, no grant.
out=$(as_app "$ATLAS" "$E2E_TMP/pid" "$DIG" +time=3 +tries=1 @192.0.2.2 \
	us.place.test A)
check_that "the app denied the US gets NXDOMAIN for a US-only name" \
	'printf "%s" "$out" | grep -q "status: NXDOMAIN"'
check_that "with an Extended DNS Error naming the rule" \
	'printf "%s" "$out" | grep -qF "EDE: 15 (Blocked): ($RULES:1)"'
check "the log says which address went, by which rule" \
	logged Atlas us.place.test. "decision=block reason=place rule=$RULES:1 blocked-answer=nxdomain dropped=203.0.113.9[US,AS64501] rule=$RULES:1"
out=$(connect "$ATLAS" 203.0.113.9)
check "and it cannot connect there ($out)" rejected "$out"
check "another app resolves the same name (from the cache now)" \
	[ "$(dig_short "$OTHER" us.place.test A)" = 203.0.113.9 ]
out=$(connect "$OTHER" 203.0.113.9)
check "and connects to it ($out)" [ "$out" = connected ]

# 2. An answer in an allowed and a denied country: only the allowed one,
#    for that app only.
check "the denied app gets only the NL address of a mixed answer" \
	[ "$(sorted "$ATLAS" mixed.place.test A)" = "198.51.100.8 " ]
check "logged with the address dropped" \
	logged Atlas mixed.place.test. "decision=allow rcode=NOERROR answer=198.51.100.8[NL,AS64500] dropped=203.0.113.9[US,AS64501] rule=$RULES:1"
out=$(connect "$ATLAS" 198.51.100.8)
check "it connects to the NL address ($out)" [ "$out" = connected ]
check "another app gets both addresses (the cache keeps them)" \
	[ "$(sorted "$OTHER" mixed.place.test A)" = "198.51.100.8 203.0.113.9 " ]
check_that "and its line drops nothing" \
	'! grep "app=app:org.example.Other " "$DAEMON_LOG" | grep "qname=mixed" | grep -q dropped='

check "the record in the history carries the address dropped" \
	within 5 sh -c '"$1" -s "$2" log --app Atlas --name mixed.place.test --json |
		grep -qF "\"dropped\":\"203.0.113.9=$3:1\""' \
	sh "$DNSGATECTL" "$CONTROL_SOCKET" "$RULES"

# 3. An ASN rule: AS64500 blocked for one app, though its country is
#    allowed (a network is narrower than a country).
check "the app denied AS64500 gets NXDOMAIN for a name in it" \
	[ -z "$(dig_short "$NET" net.place.test A)" ]
check "by the ASN rule" \
	logged Net net.place.test. "reason=place rule=$RULES:3 blocked-answer=nxdomain dropped=198.51.100.9[NL,AS64500] rule=$RULES:3"
check "and keeps the US address of the mixed answer (its allow)" \
	[ "$(sorted "$NET" mixed.place.test A)" = "203.0.113.9 " ]
check "another app resolves the AS64500 name" \
	[ "$(dig_short "$OTHER" net.place.test A)" = 198.51.100.9 ]

# 4. IPv6: the app denied Asia keeps the German address, not the
#    Japanese one.
check "the app denied Asia gets only the DE address" \
	[ "$(sorted "$ATLAS" six.place.test AAAA)" = "2001:db8:8000::5 " ]
check "logged with the JP address dropped by the continent rule" \
	logged Atlas six.place.test. "dropped=2001:db8:100::5[JP,AS64502] rule=$RULES:2"
check "another app gets both" \
	[ "$(sorted "$OTHER" six.place.test AAAA)" = "2001:db8:100::5 2001:db8:8000::5 " ]

# 5. explain lists the app's place rules, in the order they are weighed.
out=$($DNSGATECTL -s "$CONTROL_SOCKET" explain app:org.example.Atlas \
	mixed.place.test --json)
check_that "explain lists the place rules of the app, country first ($out)" \
	'printf "%s" "$out" | grep -qF "\"places\":[{\"rule\":\"block app=app:org.example.Atlas country=US\",\"origin\":\"$RULES:1\",\"id\":" &&
	 printf "%s" "$out" | grep -qF "{\"rule\":\"block app=app:org.example.Atlas continent=AS\",\"origin\":\"$RULES:2\""'
out=$($DNSGATECTL -s "$CONTROL_SOCKET" explain app:org.example.Other \
	mixed.place.test --json)
check_that "and none for an app they do not name" \
	'printf "%s" "$out" | grep -qF "\"places\":[]"'

# 6. A rule file with a bad place is refused with its reason.
printf 'ask country=CN\n' >"$E2E_TMP/rules.d/20-bad.rules"
out=$($DNSGATECTL -s "$CONTROL_SOCKET" reload 2>&1)
check_that "ask with a place is refused by the reload ($out)" \
	'printf "%s" "$out" | grep -qF "20-bad.rules:1:1: ask cannot name a place"'
check "the rules in use stay" \
	[ "$(sorted "$ATLAS" mixed.place.test A)" = "198.51.100.8 " ]
rm "$E2E_TMP/rules.d/20-bad.rules"

# 7. No usable country file: the country and continent rules drop
#    nothing (geo features off, every query answered), and the log says
#    so; the ASN rules still work.
stop_daemon
head -c 300 "$GEO/country.mmdb" >"$GEO/broken.mmdb"
start_daemon "listen-port 5453
upstream 192.0.2.2
geoip-country $GEO/broken.mmdb
geoip-asn $GEO/asn.mmdb
geoip-lookup-documentation yes
rules $E2E_TMP/rules.d"
check "the log says the country rules drop nothing, and why" \
	within 5 grep -q "rules: the country= and continent= rules drop nothing: the geoip-country file $GEO/broken.mmdb cannot be used: ." \
	"$DAEMON_LOG"
check_that "and nothing of the asn= rules, whose file is open" \
	'! grep -q "the asn= rules drop nothing" "$DAEMON_LOG"'
check "the US-only name is answered to the app denied the US" \
	[ "$(sorted "$ATLAS" us.place.test A)" = "203.0.113.9 " ]
check "the ASN rule still drops the NL address" \
	[ "$(sorted "$NET" mixed.place.test A)" = "203.0.113.9 " ]

e2e_finish
