#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo: build the C kernel (the same build as make check's C pass),
# boot it running the KUnit suites dshim_demo* and print what they say
# (their kunit_info() lines) and how each case ended. The kernel log is
# scanned for splats as in make check.
#
# Environment: SUITES=glob (default dshim_demo*), KSRC, JOBS, DSHIM_CACHE.
set -euo pipefail
DSHIM_PROG=demo
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/passes.sh
. "$DSHIM_TOP/scripts/passes.sh"

glob=${SUITES:-dshim_demo*}

"$DSHIM_SCRIPTS/setup.sh" --check || "$DSHIM_SCRIPTS/setup.sh"
PYTHON=$(dshim_python)
lock_cache
"$DSHIM_SCRIPTS/prepare-tree.sh"

PASS_PROBLEMS=()
pass_build c "$(dshim_tree)" || {
	printf '  %s\n' "${PASS_PROBLEMS[@]}"
	exit 1
}
# kunit.py's own view goes to a file: the demo prints the suite's words.
pass_boot c "$glob" demo "$DSHIM_LOGS/c-demo-kunit.txt"

echo
# Everything a dshim_demo* suite printed: its kunit_info() lines and the
# verdict of each case, without KTAP's bookkeeping.
"$PYTHON" - "$BOOT_LOG" "$glob" <<'EOF'
import fnmatch, re, sys
log, glob = sys.argv[1], sys.argv[2].split('.')[0]
prefix = re.compile(r'^(?:<\d+>)?(?:\[\s*\d+\.\d+\]\s?)?')
suite = None
case = None
for raw in open(log, errors='backslashreplace'):
    line = prefix.sub('', raw.rstrip('\n'), count=1)
    m = re.match(r'^    # Subtest: (\S+)', line)
    if m and fnmatch.fnmatch(m.group(1), glob):
        suite = m.group(1)
        print(f'== {suite}')
        continue
    if suite is None:
        continue
    if re.match(rf'^(not )?ok \d+ {re.escape(suite)}\b', line):
        print(f'== {suite}: {"FAILED" if line.startswith("not") else "ok"}\n')
        suite = None
        continue
    m = re.match(r'^\s+# (.*)$', line)
    if m:
        text = m.group(1)
        if re.match(r'(module|Subtest|Totals): |\S+: pass:\d+ fail:\d+', text):
            continue
        # kunit_info() lines start with the case's name: say it once.
        c = re.match(r'^(\w+): (.*)$', text)
        if c:
            if c.group(1) != case:
                case = c.group(1)
                print(f'-- {case}')
            text = c.group(2)
        print(f'  {text}')
        continue
    m = re.match(r'^(\s+)(not ok|ok) \d+ (.*)$', line)
    if m:
        print(f'  {"  " * (len(m.group(1)) // 4 - 1)}[{m.group(2)}] {m.group(3)}')
EOF

PASS_PASSED=0 PASS_FAILED=0 PASS_SUITES=0 PASS_PROBLEMS=()
pass_judge c "$glob" 0
if [ "${#PASS_PROBLEMS[@]}" -gt 0 ]; then
	printf '  %s\n' "${PASS_PROBLEMS[@]}"
fi
msg "kernel log: $BOOT_LOG"
echo "demo: $PASS_PASSED passed, $PASS_FAILED failed"
[ "$PASS_FAILED" = 0 ] && [ "${#PASS_PROBLEMS[@]}" = 0 ]
