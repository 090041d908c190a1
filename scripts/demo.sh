#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo (make demo): raw drm_sched against the shim, side by side.
#
# Headline, end to end: the 2023 report's kill loop run by real processes
# in the UML guest against the vgpu sample driver, once with vgpu.raw=1
# (raw drm_sched, the 2023 way) and once on the shim (scripts/e2e.sh,
# scripts/e2e-init.sh). Summary line "e2e: raw N kernel reports, shim 0
# reports, P processes killed, J jobs, 0 leaked". On 7.x the same loop
# also runs against rvgpu, vgpu's Rust twin (the Rust pass's kernel), as
# a third row, and the line ends "; rvgpu 0 reports, P processes killed,
# 0 leaked".
#
# Then KUnit: one kernel (the C pass's debug config plus the raw drm_sched
# reproducers, kunit/raw-repro.kunitconfig) and several boots of it:
#
#   before  each raw_drm_sched_* suite in a boot of its own (KASAN's first
#           report turns lockdep off, and a deadlocked worker stays), its
#           kernel log scanned for reports: they are expected;
#   after   the shim's suites playing the same scenarios, the teardown
#           matrix and the kill-storm torture test, and the story of a
#           killed process (dshim_demo), in one boot that must be clean.
#
# (The kernel is the "compare" pass of scripts/passes.sh.)
# scripts/demo-table.py prints the table and the summary line and sets
# the exit status. With SUITES=glob, boots that glob instead and prints
# what its suites say.
#
# With several kernels (KERNEL=all, the default: 6.12 and 7.3), all of
# the above once per kernel, each ending with its table, then one line per
# kernel: "demo K: raw drm_sched N kernel reports, shim 0 reports, ...".
#
# Environment: KERNEL, SUITES, KSRC, JOBS, DSHIM_CACHE,
# DSHIM_E2E_DEMO_SECONDS (length of each kill loop, default 30).
set -euo pipefail
DSHIM_PROG=demo
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

dshim_per_kernel 'e2e: raw|demo: raw drm_sched' "$0" "$@"
# shellcheck source=scripts/passes.sh
. "$DSHIM_TOP/scripts/passes.sh"
# shellcheck source=scripts/e2e.sh
. "$DSHIM_TOP/scripts/e2e.sh"

pass_prepare
pass_build_or_exit compare

# What the suites of BOOT_LOG matching $1 printed: their kunit_info()
# lines and the verdict of each case, without KTAP's bookkeeping.
show_suites() {
	"$PYTHON" - "$BOOT_LOG" "$1" <<'EOF'
import fnmatch, re, sys
log, glob = sys.argv[1], sys.argv[2].split('.')[0]
prefix = re.compile(r'^(?:<\d+>)?(?:\[\s*\d+\.\d+\]\s?)?')
suite = None
for raw in open(log, errors='backslashreplace'):
    line = prefix.sub('', raw.rstrip('\n'), count=1)
    m = re.match(r'^    # Subtest: (\S+)', line)
    if m and fnmatch.fnmatch(m.group(1), glob):
        suite = m.group(1)
        continue
    if suite is None:
        continue
    if re.match(rf'^(not )?ok \d+ {re.escape(suite)}\b', line):
        suite = None
        continue
    m = re.match(r'^\s+# (\w+): (.*)$', line)
    if m and not re.match(r'(module|Subtest|Totals)$', m.group(1)):
        print(f'    {m.group(1)}: {m.group(2)}')
EOF
}

if [ -n "${SUITES:-}" ]; then
	pass_boot compare "$SUITES" suites "$DSHIM_LOGS/demo-suites-kunit.txt"
	show_suites "$SUITES"
	PASS_PASSED=0 PASS_FAILED=0 PASS_SUITES=0 PASS_PROBLEMS=()
	pass_judge compare "$SUITES" 0
	[ "${#PASS_PROBLEMS[@]}" = 0 ] || printf '  %s\n' "${PASS_PROBLEMS[@]}"
	echo "demo: $PASS_PASSED passed, $PASS_FAILED failed"
	[ "$PASS_FAILED" = 0 ] && [ "${#PASS_PROBLEMS[@]}" = 0 ]
	exit
fi

# --- end to end ---------------------------------------------------------
secs=${DSHIM_E2E_DEMO_SECONDS:-30}
e2e_client || die "the e2e client does not build"
echo
msg "end to end: vgpu-client in the 2023 kill loop, ${secs}s on raw drm_sched, then ${secs}s on the shim"
e2e_rc=0
e2e_boot compare raw "$secs"
e2e_judge "$secs" 0 0
echo "    ${E2E_COUNTS#"$DSHIM_LOGS/"}"
echo "    where KASAN caught raw drm_sched's use-after-free (reports per function; a"
echo "    string read is reported once per byte):"
{ tr -d '\r' <"$BOOT_LOG" | grep -o 'BUG: KASAN: [a-z-]* in [a-z_0-9.]*' || true; } |
	sed 's/.* in //' | sort | uniq -c | sort -rn | head -n 8 |
	awk '{ printf "    %8d  %s\n", $1, $2 }'
raw=("$E2E_SECONDS" "$E2E_STARTED" "$E2E_KILLED" "$E2E_JOBS" "$E2E_REPORTS" "$E2E_LEAKED")
# 6.x must show the 2023 bugs (or the demo's raw side is broken); newer
# drm_sched may have fixed some, which is then the finding
raw_expected=1
[ "${DSHIM_KERNEL%%.*}" -lt 7 ] || raw_expected=0
if [ "$E2E_REPORTS" = 0 ]; then
	if [ "$raw_expected" = 1 ]; then
		msg "e2e: raw drm_sched produced no kernel report: the before picture is missing"
		e2e_rc=1
	else
		msg "e2e: raw drm_sched on $DSHIM_KERNEL produced no kernel report in this loop"
	fi
fi
e2e_boot compare shim "$secs"
e2e_judge "$secs" 100 1
shim=("$E2E_SECONDS" "$E2E_STARTED" "$E2E_KILLED" "$E2E_JOBS" "$E2E_REPORTS" "$E2E_LEAKED")
if [ "$E2E_FAILED" != 0 ]; then
	printf '  %s\n' "${E2E_PROBLEMS[@]}"
	e2e_rc=1
fi
# 7.x: the same loop on rvgpu, the Rust twin of vgpu (the Rust pass's
# kernel)
rows=("raw drm_sched (2023)" "${raw[@]}" "shim (vgpu, C)" "${shim[@]}")
rvgpu_part=
if [ "${DSHIM_KERNEL%%.*}" -ge 7 ]; then
	pass_build_or_exit rust
	e2e_boot rust rvgpu "$secs"
	e2e_judge "$secs" 100 1
	rows+=("shim (rvgpu, Rust)" "$E2E_SECONDS" "$E2E_STARTED" "$E2E_KILLED" "$E2E_JOBS"
		"$E2E_REPORTS" "$E2E_LEAKED")
	rvgpu_part="; rvgpu $E2E_REPORTS reports, $E2E_KILLED processes killed, $E2E_LEAKED leaked"
	if [ "$E2E_FAILED" != 0 ]; then
		printf '  %s\n' "${E2E_PROBLEMS[@]}"
		e2e_rc=1
	fi
fi
echo
printf '  %-22s %8s %8s %8s %8s %8s %8s\n' "kill loop" seconds started killed jobs reports leaked \
	"${rows[@]}"
echo "  (?: the raw kernel crashed or hung before it got there)"
e2e_line="e2e: raw ${raw[4]} kernel reports, shim ${shim[4]} reports, ${shim[2]} processes killed, ${shim[3]} jobs, ${shim[5]} leaked$rvgpu_part"
echo "$e2e_line"

# --- KUnit ------------------------------------------------------------------
echo
msg "before: raw drm_sched, each scenario in a boot of its own"
raw_logs=()
while read -r suite; do
	# a raw boot may hang on purpose: do not wait the full DSHIM_TIMEOUT
	DSHIM_TIMEOUT=${DSHIM_RAW_TIMEOUT:-180} pass_boot compare "$suite" "$suite" /dev/null
	show_suites "$suite"
	"$PYTHON" "$DSHIM_SCRIPTS/scan-log.py" --counts "$BOOT_LOG" |
		sed "s|^$DSHIM_LOGS/|    |" || true
	raw_logs+=("$suite=$BOOT_LOG")
done < <("$PYTHON" "$DSHIM_SCRIPTS/demo-table.py" --list)

echo
msg "after: the shim, the same scenarios, the teardown matrix and the kill storm"
# dshim_demo (a killed process's story), dshim_teardown*, dshim_torture
# (one boot, or several: scripts/passes.sh, pass_boot_plan; their logs
# are judged as one)
shim_log=$DSHIM_LOGS/compare-shim.log
: >"$shim_log.all"
n=0
while read -r -u 7 glob args; do
	n=$((n + 1))
	# shellcheck disable=SC2086 # kernel arguments, one per word
	pass_boot compare "$glob" "shim-$n" "$DSHIM_LOGS/demo-shim-kunit-$n.txt" $args
	cat "$BOOT_LOG" >>"$shim_log.all"
done 7< <(pass_boot_plan compare 'dshim_[dt]*')
mv -f "$shim_log.all" "$shim_log"
BOOT_LOG=$shim_log
show_suites 'dshim_demo'
show_suites 'dshim_torture'

echo
rc=$e2e_rc
"$PYTHON" "$DSHIM_SCRIPTS/demo-table.py" --kernel "$DSHIM_KERNEL" \
	${raw_expected:+--expect-raw=$raw_expected} "$shim_log" "${raw_logs[@]}" || rc=1
msg "kernel logs: $DSHIM_LOGS/compare-*.log, $DSHIM_LOGS/e2e-*.log"
echo "$e2e_line"
exit "$rc"
