#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Self-test of make lint: a lint that passes everything proves nothing.
# Copies the project to a temporary directory and runs its lint stages
# there: first on the unchanged copy (must pass), then once per planted
# error, each in a fresh copy (must fail, naming the planted line):
#
#   checkpatch  a function with its brace on the same line
#   kernel-doc  an exported function's kernel-doc without its Return:
#   scripts     an unquoted variable in a script
#
# Only the stages that need no kernel build run here (make lint runs the
# others on the real tree). Ends with "lint-selftest: N passed, M failed".
set -euo pipefail
DSHIM_PROG=lint-selftest
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

passed=0
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A fresh copy of the project's files (tracked and new, not ignored).
copy() {
	local dst=$work/$1
	rm -rf "$dst"
	mkdir -p "$dst"
	(cd "$DSHIM_TOP" && git ls-files -co --exclude-standard -z |
		xargs -0 cp --parents -t "$dst")
	echo "$dst"
}

# expect NAME STATUS PATTERN STAGE DIR: run STAGE of DIR's lint, check
# the exit status (0 or 1) and that the output matches PATTERN.
expect() {
	local name=$1 want=$2 pattern=$3 stage=$4 dir=$5 out rc=0
	out=$(LINT_ONLY=$stage "$dir/scripts/lint.sh" 2>&1) || rc=$?
	if [ "$rc" != "$want" ]; then
		failed=$((failed + 1))
		msg "FAIL $name: exit $rc, expected $want"
		printf '%s\n' "$out" | sed 's/^/    /' | tail -n 20
	elif ! grep -qE "$pattern" <<<"$out"; then
		failed=$((failed + 1))
		msg "FAIL $name: output does not match '$pattern'"
		printf '%s\n' "$out" | sed 's/^/    /' | tail -n 20
	else
		passed=$((passed + 1))
		msg "ok   $name"
	fi
}

d=$(copy clean)
expect "unchanged project passes" 0 'lint: 3 passed, 0 failed' \
	"checkpatch kernel-doc scripts" "$d"

d=$(copy checkpatch)
printf '\nint dshim_planted(void) {\n\treturn 0;\n}\n' >>"$d/c-shim/dshim_main.c"
expect "planted checkpatch error fails" 1 \
	'dshim_main.c:[0-9]+: ERROR:OPEN_BRACE' checkpatch "$d"

d=$(copy kernel-doc)
# drop the first "Return:" line of an exported function's kernel-doc
sed -i '0,/^ \* Return:/{/^ \* Return:/d}' "$d/c-shim/dshim_queue.c"
# (the perl kernel-doc of 6.x says "FILE:LINE: warning: ...", 7.x's
# python one "Warning: FILE:LINE ...")
expect "planted kernel-doc error fails" 1 \
	'dshim_queue.c:[0-9]+:? (warning: )?No description found for return value' \
	kernel-doc "$d"

d=$(copy scripts)
# shellcheck disable=SC2016 # the planted line, not to be expanded
printf '\nplanted() { ls $1; }\n' >>"$d/scripts/clean.sh"
expect "planted ShellCheck error fails" 1 'SC2086' scripts "$d"

echo "lint-selftest: $passed passed, $failed failed"
[ "$failed" = 0 ]
