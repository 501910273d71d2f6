#!/bin/sh
# policy.sh - per-app rules end to end, with real processes in cgroups
# named as systemd names them (a Flatpak app scope, a GNOME app scope, a
# system service, a user service, a login session): one name blocked for
# one app and resolved for another, an app allowed past a global list, an
# allowlist app, a list for one app only, a rule by exe, a rule that
# expires, explain, reloads that apply and one that is refused, queries
# answered during reloads.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
both.test. 300 IN A 198.51.100.60
trk.test. 300 IN A 198.51.100.61
backup.test. 300 IN A 198.51.100.62
other.test. 300 IN A 198.51.100.63
social.test. 300 IN A 198.51.100.64
exe.test. 300 IN A 198.51.100.65
expire.test. 300 IN A 198.51.100.66
via.test. 300 IN CNAME cdn.trk.test.
cdn.trk.test. 300 IN A 198.51.100.67
reload.test. 300 IN A 198.51.100.68
bind.test. 300 IN A 198.51.100.69
"

e2e_setup
for a in 198.51.100.60 198.51.100.61 198.51.100.62 198.51.100.63 \
	198.51.100.70 198.51.100.71 198.51.100.72; do
	add_server "$a"
done
start_unbound

U=user.slice/user-1000.slice/user@1000.service
FF=$(new_app "$U/app.slice/app-flatpak-org.mozilla.firefox-4242.scope")
EV=$(new_app "$U/app.slice/app-gnome-org.gnome.Evince-3141.scope")
SVC=$(new_app "system.slice/backup.service")
USVC=$(new_app "$U/app.slice/syncthing.service")
SESS=$(new_app "user.slice/user-1000.slice/session-2.scope")

mkdir "$E2E_TMP/rules.d"
RULES=$E2E_TMP/rules.d/10-apps.rules
printf 'trk.test\n' >"$E2E_TMP/trackers.txt"
printf 'social.test\n' >"$E2E_TMP/social.txt"
EXPIRES=$(date -u -d '+8 seconds' +%Y-%m-%dT%H:%M:%SZ)
cat >"$RULES" <<EOF
# the test's rules, one per point of the issue
block flatpak=org.mozilla.firefox name=both.test
allow app=app:org.gnome.Evince list=trackers
default block unit=backup.service
allow unit=backup.service domain=backup.test
block app-id=org.gnome.Evince list=social
block exe=$DIG name=exe.test
block app=user:1000:syncthing.service name=expire.test until=$EXPIRES
allow app-id=org.gnome.Evince net=198.51.100.70/31
block uid=0 name=bind.test
allow exe=$E2E_TMP/real-dig name=bind.test
EOF
cp "$DIG" "$E2E_TMP/real-dig"
cp "$DNS_CLIENT" "$E2E_TMP/fake"
start_daemon "listen-port 5453
upstream 192.0.2.2
blocklist $E2E_TMP/trackers.txt
list social $E2E_TMP/social.txt
rules $E2E_TMP/rules.d
log-file $E2E_TMP/query.log"
QLOG=$E2E_TMP/query.log
CTL="$DNSGATECTL -s $CONTROL_SOCKET"

# rcode CGROUP NAME: the rcode dig gets as that app.
rcode() {
	as_app "$1" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 @192.0.2.2 "$2" A |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}
logged() { grep -F -- "$1" "$QLOG" | grep -qF -- "$2"; }

# 1. The same name: blocked for the Flatpak app, resolved for the GNOME
# app; the blocked app gets no grant for it.
check "both.test is NXDOMAIN for the Flatpak app" \
	[ "$(rcode "$FF" both.test)" = NXDOMAIN ]
check "the log names the app key and the deciding rule" \
	logged "app=flatpak:org.mozilla.firefox " \
	"qname=both.test qtype=A proto=udp decision=block reason=rule rule=$RULES:2"
check "both.test resolves for the GNOME app" \
	[ "$(dig_short "$EV" both.test A)" = 198.51.100.60 ]
out=$(connect "$EV" 198.51.100.60)
check "the GNOME app connects to it ($out)" [ "$out" = connected ]
out=$(connect "$FF" 198.51.100.60)
check "the Flatpak app is rejected at it ($out)" rejected "$out"
n=$(in_client nft list set inet dnsgate allow4 | grep -c 198.51.100.60)
check "one grant for 198.51.100.60 in allow4, the GNOME app's ($n)" [ "$n" = 1 ]

# 2. An app allowed past a global list: trk.test is listed for every app
# but Evince.
check "a listed name is NXDOMAIN for the Flatpak app" \
	[ "$(rcode "$FF" trk.test)" = NXDOMAIN ]
check "the log names the list, the entry and the config line" \
	logged "app=flatpak:org.mozilla.firefox " \
	"qname=trk.test qtype=A proto=udp decision=block reason=listed list=trackers entry=trk.test rule=$E2E_TMP/dnsgate.conf:3"
check "the GNOME app is allowed past the list" \
	[ "$(dig_short "$EV" trk.test A)" = 198.51.100.61 ]
check "its allow is logged with its rule" \
	logged "app=app:org.gnome.Evince " "qname=trk.test qtype=A proto=udp decision=allow reason=rule list=trackers entry=trk.test rule=$RULES:3"
# ...and a CNAME into the list is blocked for the others, not for it.
check "a CNAME into the list is NXDOMAIN for the Flatpak app" \
	[ "$(rcode "$FF" via.test)" = NXDOMAIN ]
check "the CNAME block names the chain's name" \
	logged "app=flatpak:org.mozilla.firefox " "qname=via.test qtype=A proto=udp decision=block reason=cname-listed cname=cdn.trk.test"
out=$(dig_short "$EV" via.test A | tail -n 1)
check "the GNOME app gets the CNAME's address ($out)" [ "$out" = 198.51.100.67 ]

# 2b. A name over 253 characters as written (escaped bytes lengthen
# it; the wire form is 253 octets) under a listed domain: no list could
# be asked for it whole, so it is blocked, not resolved past the list.
A63=$(printf 'a%.0s' $(seq 63))
LONG="\\001$(printf 'a%.0s' $(seq 49)).$A63.$A63.$A63.trk.test" # 254
as_app "$FF" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 @192.0.2.2 "$LONG" A >/dev/null
check "an over-long name under a listed domain is blocked as such" \
	logged "app=flatpak:org.mozilla.firefox " "decision=block reason=name-too-long"

# 3. An allowlist app: the backup service gets its own domain, nothing
# else.
check "the allowlist service resolves its domain" \
	[ "$(dig_short "$SVC" backup.test A)" = 198.51.100.62 ]
check "the allowlist service gets NXDOMAIN for any other name" \
	[ "$(rcode "$SVC" other.test)" = NXDOMAIN ]
check "the log says it was the app's default" \
	logged "app=system:backup.service " "qname=other.test qtype=A proto=udp decision=block reason=default rule=$RULES:4"
check "other apps resolve other.test" \
	[ "$(dig_short "$USVC" other.test A)" = 198.51.100.63 ]

# 4. A list for one app only: social is Evince's.
check "the list for one app blocks it for that app" \
	[ "$(rcode "$EV" social.test)" = NXDOMAIN ]
check "and not for another" \
	[ "$(dig_short "$FF" social.test A)" = 198.51.100.64 ]

# 5. A rule by exe: dig is blocked from exe.test in the session, another
# program in the same session is not.
check "dig is blocked from exe.test by its exe" \
	[ "$(rcode "$SESS" exe.test)" = NXDOMAIN ]
check "the block names the session app and the exe rule" \
	logged "app=session:1000:$DIG " "qname=exe.test qtype=A proto=udp decision=block reason=rule rule=$RULES:7"
out=$(as_app "$SESS" "$E2E_TMP/pid" "$DNS_CLIENT" 192.0.2.2 exe.test A | tr '\n' ' ')
check "another program in the session resolves it ($out)" \
	[ "$out" = "rcode=NOERROR 198.51.100.65 " ]

# 5b. An exe is trusted only when it is the file its path names: a
# program bind-mounted over real-dig in a mount namespace of its own
# shows real-dig's path, and is not let past the exe rule's allow.
check "the real program at the path is allowed by its exe rule" \
	[ "$(as_app "$SESS" "$E2E_TMP/pid" "$E2E_TMP/real-dig" +short +time=2 +tries=1 @192.0.2.2 bind.test A)" = 198.51.100.69 ]
out=$(as_app "$SESS" "$E2E_TMP/pid" unshare -m sh -c \
	"mount --bind '$E2E_TMP/fake' '$E2E_TMP/real-dig' && exec '$E2E_TMP/real-dig' 192.0.2.2 bind.test A" | head -n 1)
check "another program shown at that path is not ($out)" [ "$out" = rcode=SERVFAIL ]
check "the log says its exe is not the file its path names" \
	logged "qname=bind.test " "its exe is not the file that path names here"

# 6. explain: the rules that name the app and the name, in order.
out=$($CTL explain flatpak:org.mozilla.firefox both.test --json)
check_that "explain says block, by the Flatpak rule ($out)" \
	'printf "%s" "$out" | grep -qF "\"decision\":\"block\"" &&
	 printf "%s" "$out" | grep -qF "\"decided_by\":\"$RULES:2\""'
out=$($CTL explain app:org.gnome.Evince trk.test --json)
check_that "explain lists the app's allow before the global list ($out)" \
	'printf "%s" "$out" | grep -q "\"origin\":\"$RULES:3\".*\"decided\":true.*\"origin\":\"$E2E_TMP/dnsgate.conf:3\".*\"decided\":false" &&
	 printf "%s" "$out" | grep -qF "\"decision\":\"allow\""'
sleep 300 &
SLEEPER=$!
BACKGROUND_PIDS="$BACKGROUND_PIDS $SLEEPER"
echo "$SLEEPER" >"$SVC/cgroup.procs"
out=$($CTL explain "$SLEEPER" backup.test --json)
check_that "explain by pid finds the service and its allow ($out)" \
	'printf "%s" "$out" | grep -qF "\"app\":\"system:backup.service\"" &&
	 printf "%s" "$out" | grep -qF "\"decided_by\":\"$RULES:5\""'
out=$($CTL explain flatpak:org.mozilla.firefox nope..test 2>&1)
check "explain of a bad request keeps the daemon serving" \
	[ "$(dig_short "$EV" both.test A)" = 198.51.100.60 ]

# 7. A rule that expires, without a reload.
check "expire.test is blocked for the user service before its until=" \
	[ "$(rcode "$USVC" expire.test)" = NXDOMAIN ]
expired() { [ "$(dig_short "$USVC" expire.test A)" = 198.51.100.66 ]; }
check "after its until= the rule is gone, without a reload" within 12 expired
check "no reload happened meanwhile" \
	sh -c "! grep -q 'reloading' '$QLOG'"

# 7b. A standing grant (net=): Evince reaches 198.51.100.70/31 without
# looking anything up, Firefox does not, nor Evince past the network;
# and a new Evince scope, made after the start, that never asks DNS.
out=$(connect "$EV" 198.51.100.71)
check "the GNOME app reaches its standing network unresolved ($out)" [ "$out" = connected ]
out=$(connect "$EV" 198.51.100.72)
check "not an address past it ($out)" rejected "$out"
out=$(connect "$FF" 198.51.100.70)
check "another app is rejected there ($out)" rejected "$out"
EV2=$(new_app "$U/app.slice/app-gnome-org.gnome.Evince-9999.scope")
reaches() { [ "$(connect "$EV2" 198.51.100.70)" = connected ]; }
check "a new scope of the app that never asked DNS gets it within 6 s" \
	within 6 reaches
# (Counted among this test's cgroups: the daemon walks the whole tree,
# and another test running beside this one may have its own Evince.)
n=$(in_client "$DNSGATECTL" grants | grep "^/dnsgate-e2e-$$/" |
	grep -c '198.51.100.70-198.51.100.71 .*(net= rule)')
check "two standing elements, one per Evince scope ($n)" [ "$n" = 2 ]
out=$(in_client "$DNSGATECTL" grants)
check_that "dnsgatectl grants lists the standing grant with its cgroup" \
	'printf "%s\n" "$out" | grep -q "app-gnome-org.gnome.Evince-9999.scope  *198.51.100.70-198.51.100.71  *standing  cgroup-id=[0-9]* (net= rule)"'

# 8. Reload that applies: Firefox may now resolve both.test.
sed -i 's/^block flatpak=org.mozilla.firefox name=both.test$/allow flatpak=org.mozilla.firefox name=both.test/' "$RULES"
out=$($CTL reload --json)
check_that "dnsgatectl reload applies the new rules ($out)" \
	'printf "%s" "$out" | grep -qF "\"reloaded\":true"'
# ...and takes a standing grant away with its rule.
sed -i '/net=198.51.100.70/d' "$RULES"
$CTL reload >/dev/null
out=$(connect "$EV" 198.51.100.71)
check "a reload without the net= rule closes the network ($out)" rejected "$out"
check "the Flatpak app resolves both.test after the reload" \
	[ "$(dig_short "$FF" both.test A)" = 198.51.100.60 ]

# 9. A reload with a broken file changes nothing and says where.
printf 'block app=x nmae=reload.test\n' >"$E2E_TMP/rules.d/20-broken.rules"
out=$($CTL reload 2>&1)
check_that "a broken rules file is refused with file:line:column ($out)" \
	'printf "%s" "$out" | grep -qF "20-broken.rules:1:13: unknown field '"'"'nmae='"'"'"'
check "the policy in use stays (Evince still has its list)" \
	[ "$(rcode "$EV" social.test)" = NXDOMAIN ]
kill -HUP "$DAEMON_PID"
check "SIGHUP with the broken file logs it and changes nothing" \
	within 5 grep -q "reload failed, nothing changed.*20-broken.rules:1:13" "$QLOG"
check "the Flatpak app still resolves both.test" \
	[ "$(dig_short "$FF" both.test A)" = 198.51.100.60 ]
rm "$E2E_TMP/rules.d/20-broken.rules"

# 10. Queries answered during reloads: a stream of queries from one app
# (one every 100 ms, each given 100 ms: dns_client's --repeat)
# while the rules are reloaded over and over; every one answered, and
# right (reload.test is blocked for Firefox in every version of the
# rules the reloads alternate between).
printf 'block flatpak=org.mozilla.firefox name=reload.test\n' \
	>"$E2E_TMP/rules.d/30-reload.rules"
$CTL reload >/dev/null
as_app "$FF" "$E2E_TMP/rpid" "$DNS_CLIENT" --repeat 60 100 192.0.2.2 reload.test \
	>"$E2E_TMP/repeat.out" 2>&1 &
REPEAT=$!
BACKGROUND_PIDS="$BACKGROUND_PIDS $REPEAT"
reloads=0
for i in $(seq 20); do
	if [ $((i % 2)) = 0 ]; then
		printf 'block flatpak=org.mozilla.firefox name=reload.test\n# %s\n' "$i" \
			>"$E2E_TMP/rules.d/30-reload.rules"
	else
		printf 'block flatpak=org.mozilla.firefox domain=reload.test\n' \
			>"$E2E_TMP/rules.d/30-reload.rules"
	fi
	if [ $((i % 3)) = 0 ]; then
		kill -HUP "$DAEMON_PID"
	else
		$CTL reload >/dev/null && reloads=$((reloads + 1))
	fi
	sleep 0.25
done
wait "$REPEAT"
answered=$(grep -c '^answer' "$E2E_TMP/repeat.out")
check "all 60 queries answered within 100 ms each during 20 reloads ($answered, $reloads by dnsgatectl)" \
	[ "$answered" = 60 ]
n=$(grep -F "app=flatpak:org.mozilla.firefox " "$QLOG" | grep -F "qname=reload.test " | grep -c "decision=block")
check "each of them blocked, as every version of the rules says ($n)" [ "$n" = 60 ]

grep -o 'reloaded: .*; [0-9]* ms' "$QLOG" | sed 's/.*; //' | sort -n | tail -n 1 |
	sed 's/^/# the slowest reload: /'
e2e_finish
