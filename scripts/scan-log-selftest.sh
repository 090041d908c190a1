#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Self-test of the kernel-log judges, no kernel needed: feed
# scripts/scan-log.py and scripts/ktap-count.py the sample logs in
# scripts/testdata/ and compare with scripts/testdata/expected:
#
#   scan  LOG clean|splat [CATEGORY]     scan-log.py's verdict (and the
#                                        category of its first finding)
#   count LOG PASSED FAILED SKIPPED CRASHED   ktap-count.py's counts
#
# Every sample log must be named in expected. Prints one line per case
# (with -q only the failures), then "scanner: N passed, M failed"; exits
# non-zero on any failure.
set -euo pipefail
DSHIM_PROG=scanner
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

quiet=0
[ "${1:-}" = -q ] && quiet=1
data=$DSHIM_TOP/scripts/testdata
PYTHON=$(dshim_python)
passed=0
failed=0

ok() {
	passed=$((passed + 1))
	[ "$quiet" = 1 ] || echo "scanner: ok   $*"
}
bad() {
	failed=$((failed + 1))
	echo "scanner: FAIL $*"
}

while read -r kind log a b c d; do
	case $kind in '' | '#'*) continue ;; esac
	if [ ! -f "$data/$log" ]; then
		bad "$log: no such sample"
		continue
	fi
	case $kind in
	scan)
		rc=0
		out=$("$PYTHON" "$DSHIM_TOP/scripts/scan-log.py" "$data/$log") || rc=$?
		case $rc in
		0) got=clean ;;
		1) got=splat ;;
		*) got="error (exit $rc)" ;;
		esac
		first=$(sed -n 's/^scan-log: \(.*\) at .*:[0-9]*:$/\1/p' <<<"$out" | head -n 1)
		if [ "$got" != "$a" ]; then
			bad "scan $log: expected $a, got $got${first:+ ($first)}"
			[ -z "$out" ] || head -n 20 <<<"$out" | while IFS= read -r l; do echo "        $l"; done
		elif [ -n "$b" ] && [ "$first" != "${b//_/ }" ]; then
			bad "scan $log: expected a '${b//_/ }' finding first, got '$first'"
		else
			ok "scan $log: $got${first:+ ($first)}"
		fi
		;;
	count)
		want="$a $b $c $d"
		got=$("$PYTHON" "$DSHIM_TOP/scripts/ktap-count.py" "$data/$log" | head -n 1 | cut -d' ' -f1-4 || true)
		if [ "$got" = "$want" ]; then
			ok "count $log: passed/failed/skipped/crashed $got"
		else
			bad "count $log: expected passed/failed/skipped/crashed '$want', got '$got'"
		fi
		;;
	*) bad "expected: unknown check '$kind'" ;;
	esac
done <"$data/expected"

# A sample nobody checks is a sample that proves nothing.
for f in "$data"/*.log; do
	grep -qE "^(scan|count)[[:space:]]+$(basename "$f")([[:space:]]|\$)" "$data/expected" ||
		bad "$(basename "$f"): not named in $data/expected"
done

echo "scanner: $passed passed, $failed failed"
[ "$failed" = 0 ]
