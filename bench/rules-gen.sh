#!/bin/sh
# rules-gen.sh - the rules file of bench/run.sh's rules figure: COUNT rules
# (dnsgate.rules(5)), the same every time for the same arguments.
#   bench/rules-gen.sh COUNT CGROUP EXE UID
# CGROUP, EXE and UID are the benched client's (dnsperf's cgroup path as
# the daemon sees it, its exe, its uid). Most rules are for about 2,000
# made-up apps, named by every kind of APP, each with a handful of name=,
# domain= and wildcard= rules, some with a default or a list= rule, a few
# with net=; none of them names the client. The client's own rules come
# last: every tier that can name it (app=, cgroup= for its cgroup and its
# parent, exe=, an exe glob, uid=), on the names the bench asks
# (hN.bench.test), so each of its queries is decided by a rule after
# probing several groups in both maps, and every answer stays allowed.
# The lists "social" and "trackers" must be defined in dnsgate.conf
# (list NAME PATH); "social" should hold bench.test.
set -eu

[ $# = 4 ] || { echo "usage: $0 COUNT CGROUP EXE UID" >&2; exit 2; }
count=$1
cgroup=$2
exe=$3
uid=$4
parent=${cgroup%/*}
[ -n "$parent" ] || parent=/

# The client's rules, written first to a variable so the others can fill
# the rest of COUNT.
client=$(awk -v cg="$cgroup" -v parent="$parent" -v exe="$exe" -v uid="$uid" 'BEGIN {
	print "# the benched client (dnsperf): every tier that names it"
	for (i = 1; i <= 10; i++)
		printf "allow app=cgroup:%s name=h%d.bench.test\n", cg, i
	printf "allow cgroup=%s domain=bench.test\n", cg
	printf "block cgroup=%s domain=ads.bench.test\n", cg
	printf "block cgroup=%s wildcard=*.track*.bench.test\n", cg
	printf "block cgroup=%s list=trackers\n", cg
	printf "block cgroup=%s domain=bench.test\n", parent
	printf "block cgroup=%s name=*\n", parent
	printf "default block exe=%s\n", exe
	printf "allow exe=%s domain=bench.test\n", exe
	printf "block exe=%s wildcard=*.pixel.bench.test\n", exe
	for (i = 1; i <= 50; i++)
		printf "allow exe=%s name=h%d.bench.test\n", exe, i * 20
	printf "allow exe=/usr/*/%s wildcard=h*.bench.test\n",
		substr(exe, match(exe, /[^\/]*$/))
	printf "allow uid=%s domain=test\n", uid
	printf "allow uid=%s list=social\n", uid
	printf "block uid=%s domain=metrics.bench.test\n", uid
}')
n_client=$(printf '%s\n' "$client" | grep -vc '^#')

# The other apps: kinds in proportion to how often one would name them
# (exe globs and uids rarely), 3 to 5 rules each, a default for every 7th,
# a list= rule for every 40th, net= for a few Flatpaks.
awk -v want=$((count - n_client)) 'BEGIN {
	split("app app-id flatpak snap unit cgroup exe glob uid", kind, " ")
	split("3 2 2 2 3 2 3 1 1", weight, " ")
	for (k = 1; k <= 9; k++)
		for (w = 0; w < weight[k]; w++)
			cycle[++n_cycle] = kind[k]
	n = 0
	for (a = 1; n < want; a++) {
		k = cycle[(a - 1) % n_cycle + 1]
		if (k == "app")
			app = a % 3 == 0 ? sprintf("app=system:svc%d.service", a) \
			    : a % 3 == 1 ? sprintf("app=app:org.example.App%d", a) \
			    : sprintf("app=session:1000:/usr/bin/tool%d", a)
		else if (k == "app-id")
			app = sprintf("app-id=org.example.Desk%d", a)
		else if (k == "flatpak")
			app = sprintf("flatpak=com.example.Flat%d", a)
		else if (k == "snap")
			app = a % 2 ? sprintf("snap=snap%d", a) \
			    : sprintf("snap=snap%d.cli", a)
		else if (k == "unit")
			app = a % 4 ? sprintf("unit=svc%d.service", a) \
			    : sprintf("unit=worker%d@.service", a)
		else if (k == "cgroup")
			app = a % 2 ? sprintf("cgroup=/system.slice/container%d.service", a) \
			    : sprintf("cgroup=/user.slice/user-1000.slice/user@1000.service/app.slice/cg%d.scope", a)
		else if (k == "exe")
			app = a % 2 ? sprintf("exe=/usr/bin/prog%d", a) \
			    : sprintf("exe=/usr/lib/prog%d/prog%d-bin", a, a)
		else if (k == "glob")
			app = a % 3 == 0 ? sprintf("exe=/opt/*/bin/prog%d", a) \
			    : a % 3 == 1 ? sprintf("exe=/home/*/.local/bin/tool%d", a) \
			    : sprintf("exe=/opt/App%d/*", a)
		else
			app = sprintf("uid=%d", 2000 + a)
		printf "# app %d\n", a
		m = 3 + a % 3
		for (j = 1; j <= m && n < want; j++) {
			act = (a + j) % 4 == 0 ? "block" : "allow"
			if (j % 3 == 1)
				dest = sprintf("name=api%d.app%d.example", j, a)
			else if (j % 3 == 2)
				dest = sprintf("domain=app%d-cdn.example", a)
			else
				dest = sprintf("wildcard=*.t%d.app%d.example", j, a)
			extra = a % 97 == 0 && j == 1 ? " until=2036-01-01" : ""
			printf "%s %s %s%s\n", act, app, dest, extra
			n++
		}
		if (a % 7 == 0 && n < want) {
			printf "default %s %s\n", a % 14 ? "block" : "allow", app
			n++
		}
		if (a % 40 == 0 && n < want) {
			printf "%s %s list=%s\n", a % 80 ? "block" : "allow", app,
				a % 80 ? "trackers" : "social"
			n++
		}
		if (k == "flatpak" && a % 200 == 3 && n < want) {
			printf "allow %s net=198.51.100.%d/32\n", app, a % 250
			n++
		}
	}
	printf "# %d apps\n", a - 1
}'
printf '%s\n' "$client"
