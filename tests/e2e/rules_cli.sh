#!/bin/sh
# rules_cli.sh - rules changed from the command line, end to end: a rule
# added with dnsgatectl blocks a name for one app at once (the other app
# still resolves it), is listed with its id, is still in force after a
# restart with the same id, and is lifted by rules delete; bad rules and
# rules of other files are refused with a reason; the allow/block
# shortcuts; pause lets what a list blocks through (and granted) for its
# duration, across a reload, and blocking is back after it.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
ads.store.test. 300 IN A 198.51.100.80
other.store.test. 300 IN A 198.51.100.81
listed.store.test. 300 IN A 198.51.100.82
"

e2e_setup
add_server 198.51.100.82
start_unbound

U=user.slice/user-1000.slice/user@1000.service
FF=$(new_app "$U/app.slice/app-flatpak-org.mozilla.firefox-4242.scope")
EV=$(new_app "$U/app.slice/app-gnome-org.gnome.Evince-3141.scope")
FF_KEY=flatpak:org.mozilla.firefox
printf 'listed.store.test\n' >"$E2E_TMP/listed.txt"
QLOG=$E2E_TMP/query.log
CONF="listen-port 5453
upstream 192.0.2.2
blocklist $E2E_TMP/listed.txt
log-file $QLOG"
OWNED=$E2E_TMP/rules.d/90-dnsgatectl.rules
start_daemon "$CONF"
CTL="$DNSGATECTL -s $CONTROL_SOCKET"

# rcode CGROUP NAME: the rcode dig gets as that app.
rcode() {
	as_app "$1" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 @192.0.2.2 "$2" A |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}
is_rcode() { [ "$(rcode "$1" "$2")" = "$3" ]; }
alive() { kill -0 "$DAEMON_PID" 2>/dev/null; }

check "before any rule, ads.store.test resolves for Firefox" \
	is_rcode "$FF" ads.store.test NOERROR

# 1. rules add: in force when the command returns, for that app only.
OUT=$($CTL rules add block app=$FF_KEY name=ads.store.test 2>&1)
check_that "rules add replies with the rule's id, once it is in force" \
	'printf "%s\n" "$OUT" | grep -Eq "^rule [0-9a-f]{8} added: block app=$FF_KEY name=ads.store.test .*in force"'
ID=$(printf '%s\n' "$OUT" | sed -n 's/^rule \([0-9a-f]\{8\}\) added.*/\1/p')
check "at once, ads.store.test is NXDOMAIN for Firefox" \
	is_rcode "$FF" ads.store.test NXDOMAIN
check "and still resolves for Evince" is_rcode "$EV" ads.store.test NOERROR
check "the rule is in the owned file, with a note of who added it when" \
	grep -Eqx "block app=$FF_KEY name=ads.store.test  # added by dnsgatectl, [0-9T:-]+Z" "$OWNED"
check_that "the owned file is 0644 root's and says dnsgated writes it" \
	'[ "$(stat -c %a:%u "$OWNED")" = 644:0 ] && grep -q "written by dnsgated" "$OWNED"'
check_that "no temporary file is left beside it" \
	'[ "$(ls -A "$E2E_TMP/rules.d")" = 90-dnsgatectl.rules ]'

# 2. The listing: ids, where, the rule, and who may delete it.
LIST=$($CTL rules)
check_that "rules lists the new rule as deletable, with file:line" \
	'printf "%s\n" "$LIST" | grep -A1 "^$ID  yes  " | grep -q "$OWNED:[0-9]"'
check_that "and the config's blocklist as not deletable, at its line" \
	'printf "%s\n" "$LIST" | grep -A1 "  no      block list=" | grep -q "dnsgate.conf:3"'
check_that "rules says who wrote each: dnsgatectl (with its note), the config" \
	'printf "%s\n" "$LIST" | grep -A1 "^$ID " | grep -q "  # added by dnsgatectl, 20" && $CTL rules --json | grep -q "\"deletable\":false,\"source\":\"config\""'
check_that "rules --app filters by app" \
	'$CTL rules --app firefox | grep -q "^$ID " && ! $CTL rules --app firefox | grep -q "block list="'
check_that "rules --json carries the id, deletable and origin" \
	'$CTL rules --json | grep -q "\"id\":\"$ID\",\"origin\":\"$OWNED:[0-9]*\",\"rule\":\"block app=$FF_KEY name=ads.store.test\""'

check_that "explain names the deciding rule by its id" \
	'$CTL explain $FF_KEY ads.store.test --json | grep -q "\"origin\":\"$OWNED:[0-9]*\",\"id\":\"$ID\""'

# 3. Refusals, with reasons; the daemon keeps serving.
ERR=$($CTL rules add block colour=red name=x.test 2>&1)
RC=$?
check_that "a rule the parser refuses is refused with its reason" \
	'[ "$RC" = 1 ] && printf "%s\n" "$ERR" | grep -q "rule:1:7: unknown field .colour=."'
check_that "and nothing was written" \
	'! grep -q colour "$OWNED"'
BL=$(printf '%s\n' "$LIST" | grep "  no      block list=" | cut -c1-8)
ERR=$($CTL rules delete "$BL" 2>&1)
check_that "deleting the config's rule names its file to edit" \
	'printf "%s\n" "$ERR" | grep -q "is in .*dnsgate.conf:3, which dnsgatectl does not own"'
ERR=$($CTL rules delete 0000beef 2>&1)
check_that "deleting an unknown id says so" \
	'printf "%s\n" "$ERR" | grep -q "no rule has the id 0000beef"'
check_that "a control request with a newline in the rule is refused" \
	'"$CONTROL_SEND" "$CONTROL_SOCKET" "{\"command\":\"rules-add\",\"rule\":\"block name=a.test\\nallow name=*\"}" | grep -q "one line"'
check "dnsgated is still serving" is_rcode "$EV" ads.store.test NOERROR

# 4. The shortcut, and the same rule twice.
check_that "block --app A NAME adds the rule" \
	'$CTL block --app $FF_KEY other.store.test | grep -q "added: block app=$FF_KEY name=other.store.test"'
check "other.store.test is NXDOMAIN for Firefox" \
	is_rcode "$FF" other.store.test NXDOMAIN
check_that "the same rule again is not added twice" \
	'$CTL block --app $FF_KEY other.store.test | grep -q "there already" && [ "$(grep -c other.store.test "$OWNED")" = 1 ]'

# Another rules file broken by hand: the rule is written, the reply says
# the reload failed and why.
printf 'blok name=typo.test\n' >"$E2E_TMP/rules.d/20-broken.rules"
ERR=$($CTL block name=late.store.test 2>&1)
RC=$?
check_that "a rule added while another file is broken: written, not in force, and why" \
	'[ "$RC" = 1 ] && printf "%s\n" "$ERR" | grep -q "rule [0-9a-f]\{8\} was added (.*) but the reload failed.*20-broken.rules:1:1: expected allow, block"'
rm "$E2E_TMP/rules.d/20-broken.rules"
$CTL reload >/dev/null

# A listing too big for one reply is cut, and says so.
numbered 1 4000 'block app=app:many name=n&.many.test' \
	>"$E2E_TMP/rules.d/50-many.rules"
$CTL reload >/dev/null
check_that "a listing over the reply's limit is cut and says so" \
	'$CTL rules | grep -q "^(the first [0-9]* only" && $CTL rules --json | grep -q "\"total\":4004,\"truncated\":true"'
check_that "rules --app narrows it to what fits" \
	'[ "$($CTL rules --app firefox | grep -c "^[0-9a-f]\{8\} ")" = 2 ]'
rm "$E2E_TMP/rules.d/50-many.rules"
$CTL reload >/dev/null

# 5. A restart: the rule is read from the file, with the same id.
stop_daemon
start_daemon "$CONF"
within 5 alive
check "after a restart, ads.store.test is still NXDOMAIN for Firefox" \
	is_rcode "$FF" ads.store.test NXDOMAIN
check_that "with the same id" '$CTL rules | grep -q "^$ID  yes "'

# 6. rules delete lifts it, at once.
check_that "rules delete ID replies once the policy without it is in force" \
	'$CTL rules delete "$ID" | grep -q "^rule $ID deleted: block app=$FF_KEY name=ads.store.test"'
check "ads.store.test resolves for Firefox again" \
	is_rcode "$FF" ads.store.test NOERROR
check_that "the line is gone from the file; the other rule is there" \
	'! grep -q ads.store.test "$OWNED" && grep -q other.store.test "$OWNED"'

# 7. pause 3s: the listed name is answered and granted, across a
# reload; blocked again after.
check "listed.store.test is NXDOMAIN (the blocklist) before the pause" \
	is_rcode "$EV" listed.store.test NXDOMAIN
check_that "pause 3s says until when" '$CTL pause 3s | grep -q "paused until "'
check "paused: listed.store.test resolves" \
	is_rcode "$EV" listed.store.test NOERROR
check_that "and its address is granted: a connection gets through" \
	'connect "$EV" 198.51.100.82 | grep -q "^connected"'
check_that "the query's log line says reason=paused and which list" \
	'grep "qname=listed.store.test" "$QLOG" | grep -q "decision=allow reason=paused list="'
check_that "status shows the pause" \
	'$CTL status --json | grep -q "\"paused\":true,\"paused_until\":\"20"'
$CTL reload >/dev/null
check "a reload keeps the pause" is_rcode "$EV" listed.store.test NOERROR
sleep 3
check "after 3 s, listed.store.test is NXDOMAIN again" \
	within 3 is_rcode "$EV" listed.store.test NXDOMAIN
check_that "and the log says the pause is over" \
	'grep -q "its time is up: the pause is over" "$QLOG"'

# 8. pause with no duration, until resume.
check_that "pause without a duration lasts until resume" \
	'$CTL pause | grep -q "until .dnsgatectl resume"'
check "paused: listed.store.test resolves" \
	is_rcode "$EV" listed.store.test NOERROR
check_that "resume ends it" '$CTL resume | grep -q "blocking is on again"'
check "listed.store.test is NXDOMAIN again" \
	is_rcode "$EV" listed.store.test NXDOMAIN

e2e_finish
