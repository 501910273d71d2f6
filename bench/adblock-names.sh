#!/bin/sh
# adblock-names.sh - the plain host rules of adblock-syntax lists, for a
# daemon that cannot read adblock syntax (bench/run.sh gives them to
# dnsmasq as address=/NAME/):
#   bench/adblock-names.sh LIST... >names
# A plain host rule is a whole line "||NAME^": no option ($...), no path,
# no wildcard, no "|" after the "^", NAME of two labels or more made of
# letters, digits and hyphens. Each such NAME is written once, in lower
# case, in the order of its first line (the files in the order given);
# every other line (exceptions "@@", cosmetic rules, URL patterns, rules
# with options, bare host names, hosts lines, comments) is dropped. The
# same files give the same names, byte for byte.
set -eu
[ $# -gt 0 ] || { echo "usage: adblock-names.sh LIST..." >&2; exit 2; }
for f in "$@"; do
	[ -r "$f" ] || { echo "adblock-names.sh: cannot read $f" >&2; exit 1; }
done
LC_ALL=C awk '{
	sub(/\r$/, "")
	if ($0 !~ /^\|\|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\^$/)
		next
	name = tolower(substr($0, 3, length($0) - 3))
	if (!(name in seen)) {
		seen[name] = 1
		print name
	}
}' "$@"
