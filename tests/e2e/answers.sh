#!/bin/sh
# answers.sh - what a blocked name gets: each blocked-answer mode
# (nxdomain, null, nodata, refused) globally and per list (answer=), with
# its Extended DNS Error (RFC 8914) as dig prints it, none without EDNS;
# a null answer's address never granted; the DoH canary and DDR answered
# by dnsgated itself, and passed on with doh-canary no.
. "$(dirname "$0")/lib.sh"

LOCAL_DATA="
ok.app.test. 300 IN A 198.51.100.80
a.nx.test. 300 IN A 198.51.100.81
a.null.test. 300 IN A 198.51.100.82
a.null.test. 300 IN AAAA 2001:db8:100::82
a.null.test. 300 IN MX 10 ok.app.test.
a.nodata.test. 300 IN A 198.51.100.84
a.ref.test. 300 IN A 198.51.100.85
rule.test. 300 IN A 198.51.100.86
via.test. 300 IN CNAME x.null.test.
x.null.test. 300 IN A 198.51.100.83
a.nx2.test. 300 IN A 198.51.100.87
"

e2e_setup
add_server 198.51.100.80
add_server 198.51.100.83
start_unbound
APP=$(new_app app)

mkdir "$E2E_TMP/rules.d"
RULES=$E2E_TMP/rules.d/10-answers.rules
printf 'block name=rule.test\nblock list=ref\n' >"$RULES"
printf 'nx.test\n' >"$E2E_TMP/nx.txt"
printf 'nx2.test\n' >"$E2E_TMP/nx2.txt"
printf 'null.test\n' >"$E2E_TMP/null.txt"
printf 'nodata.test\n' >"$E2E_TMP/nodata.txt"
printf 'ref.test\n' >"$E2E_TMP/ref.txt"
QLOG=$E2E_TMP/query.log

# conf GLOBAL_LINES: the test's config with GLOBAL_LINES before its lists.
conf() {
	printf 'listen-port 5453\nupstream 192.0.2.2\n%s\n' "$1"
	printf 'blocklist %s/nx.txt\n' "$E2E_TMP"
	printf 'blocklist %s/nx2.txt answer=nxdomain\n' "$E2E_TMP"
	printf 'blocklist %s/null.txt answer=null\n' "$E2E_TMP"
	printf 'blocklist %s/nodata.txt name=nodata answer=nodata\n' "$E2E_TMP"
	printf 'list ref %s/ref.txt answer=refused\n' "$E2E_TMP"
	printf 'rules %s/rules.d\nlog-file %s\n' "$E2E_TMP" "$QLOG"
}

# ask DIG_ARGS...: dig's whole output, as the app.
ask() { as_app "$APP" "$E2E_TMP/pid" "$DIG" +time=2 +tries=1 @192.0.2.2 "$@"; }
status_of() { printf '%s\n' "$1" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }
answers_of() { printf '%s\n' "$1" | sed -n 's/.* ANSWER: \([0-9]*\),.*/\1/p'; }
has() { printf '%s\n' "$1" | grep -qF -- "$2"; }
logged() { grep -F -- "$1" "$QLOG" | grep -qF -- "$2"; }
# ede TEXT: dig's line for an EDE 15 whose EXTRA-TEXT is TEXT.
ede() { printf '; EDE: 15 (Blocked): (%s)' "$1"; }
# granted ADDRESS: the address is in an allow set (not in the whole
# table: rejected4 holds the addresses of rejected connections a moment).
granted() {
	{
		in_client nft list set inet dnsgate allow4
		in_client nft list set inet dnsgate allow6
	} | grep -qF -- "$1"
}

start_daemon "$(conf '')"

# 1. The default, nxdomain, and a list without answer= takes it.
out=$(ask a.nx.test A)
check "a listed name is NXDOMAIN by default ($(status_of "$out"))" \
	[ "$(status_of "$out")" = NXDOMAIN ]
check "with EDE 15 (Blocked) naming the list" has "$out" "$(ede nx)"
check "the log keeps decision=block and says the answer" \
	logged "qname=a.nx.test qtype=A" "decision=block reason=listed list=nx entry=nx.test rule=$E2E_TMP/dnsgate.conf:4 blocked-answer=nxdomain"
out=$(ask +noedns a.nx.test A)
check "without EDNS in the query: NXDOMAIN ($(status_of "$out"))" \
	[ "$(status_of "$out")" = NXDOMAIN ]
check_that "and no OPT record, so no EDE (RFC 6891)" \
	'! has "$out" "OPT PSEUDOSECTION" && ! has "$out" "EDE:"'

# 2. Per list: null, for A, AAAA and other types.
out=$(ask a.null.test A)
check "answer=null: NOERROR ($(status_of "$out"))" \
	[ "$(status_of "$out")" = NOERROR ]
check "answer=null: A 0.0.0.0 with TTL 10" \
	has "$out" "a.null.test.		10	IN	A	0.0.0.0"
check "answer=null: EDE names its list" has "$out" "$(ede null)"
check "the log says blocked-answer=null" \
	logged "qname=a.null.test qtype=A " "decision=block reason=listed list=null entry=null.test rule=$E2E_TMP/dnsgate.conf:6 blocked-answer=null"
out=$(ask a.null.test AAAA)
check "answer=null: AAAA ::" has "$out" "a.null.test.		10	IN	AAAA	::"
out=$(ask a.null.test MX)
check_that "answer=null for MX: NODATA ($(status_of "$out"), $(answers_of "$out") answers)" \
	'[ "$(status_of "$out")" = NOERROR ] && [ "$(answers_of "$out")" = 0 ]'
out=$(ask +tcp a.null.test A)
check_that "over TCP: 0.0.0.0 and the EDE" \
	'has "$out" "IN	A	0.0.0.0" && has "$out" "$(ede null)"'
# A CNAME into the null list: dnsgated's own answer, not upstream's.
out=$(ask via.test A)
check "a CNAME into the null list gets 0.0.0.0" \
	has "$out" "via.test.		10	IN	A	0.0.0.0"
check_that "and not the upstream's address" '! has "$out" 198.51.100.83'
out=$(connect "$APP" 198.51.100.83)
check "the CNAME's real address is rejected ($out)" rejected "$out"
check "an allowed name still resolves" \
	[ "$(dig_short "$APP" ok.app.test A)" = 198.51.100.80 ]
check "its address is granted (the set is read right)" granted 198.51.100.80
check_that "a null answer grants nothing: no 0.0.0.0, no ::, no upstream address" \
	'! granted "0.0.0.0" && ! granted ". :: " && ! granted 198.51.100.83'
out=$(connect "$APP" 198.51.100.80)
check "and connects ($out)" [ "$out" = connected ]

# 3. Per list: nodata and refused (a list only rules apply).
out=$(ask a.nodata.test A)
check_that "answer=nodata: NOERROR with no answer ($(status_of "$out"))" \
	'[ "$(status_of "$out")" = NOERROR ] && [ "$(answers_of "$out")" = 0 ]'
check "answer=nodata: EDE names its list" has "$out" "$(ede nodata)"
out=$(ask a.ref.test A)
check "answer=refused on a list line: REFUSED ($(status_of "$out"))" \
	[ "$(status_of "$out")" = REFUSED ]
check "answer=refused: EDE names its list" has "$out" "$(ede ref)"

# 4. A rule's block: the global mode, the rule's file:line as the text.
out=$(ask rule.test A)
check "a rule's block is NXDOMAIN ($(status_of "$out"))" \
	[ "$(status_of "$out")" = NXDOMAIN ]
check "its EDE is the rule's file:line" has "$out" "$(ede "$RULES:1")"

# 5. The DoH canary and DDR, answered by dnsgated itself.
out=$(ask use-application-dns.net A)
check "the DoH canary is NXDOMAIN ($(status_of "$out"))" \
	[ "$(status_of "$out")" = NXDOMAIN ]
check_that "without an EDE (not a list's block)" '! has "$out" "EDE:"'
check "logged as its own reason" \
	logged "qname=use-application-dns.net qtype=A" "decision=block reason=doh-canary blocked-answer=nxdomain"
out=$(ask _dns.resolver.arpa SVCB)
check_that "DDR's _dns.resolver.arpa SVCB is NODATA ($(status_of "$out"))" \
	'[ "$(status_of "$out")" = NOERROR ] && [ "$(answers_of "$out")" = 0 ]'
check "logged as its own reason" \
	logged "qname=_dns.resolver.arpa qtype=SVCB" "decision=block reason=ddr blocked-answer=nodata"

# 6. Each other mode globally; a list's own answer= still wins.
stop_daemon
for mode in null nodata refused; do
	start_daemon "$(conf "blocked-answer $mode
doh-canary no")"
	out=$(ask a.nx.test A)
	case $mode in
	null) good='has "$out" "a.nx.test.		10	IN	A	0.0.0.0"' ;;
	nodata) good='[ "$(status_of "$out")" = NOERROR ] && [ "$(answers_of "$out")" = 0 ]' ;;
	refused) good='[ "$(status_of "$out")" = REFUSED ]' ;;
	esac
	check_that "blocked-answer $mode for a list without answer= ($(status_of "$out"))" "$good"
	check "blocked-answer $mode: EDE names the list" has "$out" "$(ede nx)"
	out=$(ask rule.test A)
	check_that "blocked-answer $mode for a rule's block, with its file:line" \
		'has "$out" "$(ede "$RULES:1")" && { [ $mode != refused ] || [ "$(status_of "$out")" = REFUSED ]; }'
	check "blocked-answer $mode: answer=nxdomain still NXDOMAIN" \
		[ "$(status_of "$(ask a.nx2.test A)")" = NXDOMAIN ]
	check "blocked-answer $mode: answer=null still 0.0.0.0" \
		has "$(ask a.null.test A)" "IN	A	0.0.0.0"
	stop_daemon
done

# 7. doh-canary no: the canary goes upstream like any name (the test's
# upstream refuses it: SERVFAIL), and is not logged as the canary.
start_daemon "$(conf 'doh-canary no')"
out=$(ask use-application-dns.net A)
check "doh-canary no: the canary is not answered NXDOMAIN ($(status_of "$out"))" \
	[ "$(status_of "$out")" = SERVFAIL ]
check_that "and not logged as the canary" \
	'! grep -F "qname=use-application-dns.net" "$QLOG" | tail -n 1 | grep -qF doh-canary'

e2e_finish
