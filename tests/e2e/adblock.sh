#!/bin/sh
# adblock.sh - lists in adblock / AdGuard DNS syntax end to end: an
# exception beating a block, $important beating an exception, $badfilter,
# $dnstype, cosmetic, URL and browser-option rules not blocking their
# host, $client for one app only, an exception lifting its own list's
# block only, a list for one app through a rule, and the list's status.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
ads.test. 300 IN A 198.51.100.80
ok.ads.test. 300 IN A 198.51.100.81
imp.test. 300 IN A 198.51.100.82
off.test. 300 IN A 198.51.100.83
v6.test. 300 IN A 198.51.100.84
v6.test. 300 IN AAAA 2001:db8::84
example.test. 300 IN A 198.51.100.85
page.test. 300 IN A 198.51.100.86
opt.test. 300 IN A 198.51.100.87
fx.test. 300 IN A 198.51.100.88
social.test. 300 IN A 198.51.100.89
cross.test. 300 IN A 198.51.100.90
"

e2e_setup
start_unbound

U=user.slice/user-1000.slice/user@1000.service
FF=$(new_app "$U/app.slice/app-flatpak-org.mozilla.firefox-4242.scope")
EV=$(new_app "$U/app.slice/app-gnome-org.gnome.Evince-3141.scope")

ADS=$E2E_TMP/ads.txt
cat >"$ADS" <<'EOF2'
[Adblock Plus 2.0]
! Title: dnsgate e2e list
! Expires: 2 days (update frequency)
||ads.test^
@@||ok.ads.test^
||imp.test^$important
@@||imp.test^
||off.test^
||off.test^$badfilter
||v6.test^$dnstype=AAAA
example.test##.banner
||page.test/ad.js
||opt.test^$third-party
||fx.test^$client=flatpak:org.mozilla.firefox
@@||cross.test^
EOF2
printf 'cross.test\n' >"$E2E_TMP/other.txt"
printf '||social.test^\n' >"$E2E_TMP/social.txt"
mkdir "$E2E_TMP/rules.d"
printf 'block app-id=org.gnome.Evince list=social\n' \
	>"$E2E_TMP/rules.d/10-social.rules"
start_daemon "listen-port 5453
upstream 192.0.2.2
blocklist $ADS format=adblock
blocklist $E2E_TMP/other.txt
list social $E2E_TMP/social.txt
rules $E2E_TMP/rules.d"
CTL="$DNSGATECTL -s $CONTROL_SOCKET"

# rcode CGROUP NAME TYPE: the rcode dig gets as that app.
rcode() {
	as_app "$1" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 @192.0.2.2 "$2" \
		"${3:-A}" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}

check "a block: ads.test is NXDOMAIN" [ "$(rcode "$FF" ads.test)" = NXDOMAIN ]
check "an exception beats it: ok.ads.test resolves" \
	[ "$(dig_short "$FF" ok.ads.test A)" = 198.51.100.81 ]
check "\$important beats an exception: imp.test is NXDOMAIN" \
	[ "$(rcode "$FF" imp.test)" = NXDOMAIN ]
check "\$badfilter disables a block: off.test resolves" \
	[ "$(dig_short "$FF" off.test A)" = 198.51.100.83 ]
check "\$dnstype=AAAA: v6.test AAAA is NXDOMAIN" \
	[ "$(rcode "$FF" v6.test AAAA)" = NXDOMAIN ]
check "and v6.test A resolves" \
	[ "$(dig_short "$FF" v6.test A)" = 198.51.100.84 ]
check "a cosmetic rule does not block its host" \
	[ "$(dig_short "$FF" example.test A)" = 198.51.100.85 ]
check "a URL rule does not block its host" \
	[ "$(dig_short "$FF" page.test A)" = 198.51.100.86 ]
check "a rule with a browser option does not block its host" \
	[ "$(dig_short "$FF" opt.test A)" = 198.51.100.87 ]
check "\$client=flatpak:org.mozilla.firefox blocks for that app" \
	[ "$(rcode "$FF" fx.test)" = NXDOMAIN ]
check "and not for another app" \
	[ "$(dig_short "$EV" fx.test A)" = 198.51.100.88 ]
check "an exception lifts its own list's block only: cross.test stays blocked by the other list" \
	[ "$(rcode "$FF" cross.test)" = NXDOMAIN ]
check "a list for one app through a rule: social.test is NXDOMAIN for Evince" \
	[ "$(rcode "$EV" social.test)" = NXDOMAIN ]
check "and resolves for Firefox" \
	[ "$(dig_short "$FF" social.test A)" = 198.51.100.89 ]

# The list's status and its log lines.
st=$($CTL status --json | tr -d ' \n')
has() { printf '%s' "$st" | grep -qF -- "$1"; }
check "the status has the list's format and entries" \
	has '"format":"adblock","entries":7,"exceptions":3,"lines":15,"badfilter_lines":1,'
check "the status counts the skipped lines by reason" \
	has '"skipped":{"malformed":0,"public_suffix":0,"cosmetic":1,"url":1,"browser_option":1,"unsupported":0,"regex":0,"badfilter":1}'
check "and the list's title and Expires in seconds" \
	has '"title":"dnsgatee2elist","homepage":"","expires_seconds":172800'
check "the log names file:line of a skipped cosmetic rule" \
	grep -qF "$ADS:11: skipped (a cosmetic rule (page elements): nothing for DNS): 'example.test##.banner'" "$DAEMON_LOG"
check "the list's line says its format and counts" \
	grep -qF "blocklist $ADS (adblock): 7 entries from 15 lines; 1 cosmetic; 1 url; 1 browser_option; 1 badfilter" "$DAEMON_LOG"

e2e_finish
