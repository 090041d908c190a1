#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run every test: the log scanner's self-test, then the KUnit suites in a
# UML kernel built with gcc (the C pass), the end-to-end test on the same
# kernel (the e2e pass: the vgpu driver, the uapi bad-input test and the
# kill loop, scripts/e2e.sh), the same shorter on this host made to look
# like an Intel AMX one (the amx pass, scripts/fake-xstate.c), the
# KUnit suites in a kernel built with LLVM + Rust (the Rust pass), then
# on an x86-64 guest with 4 vCPUs under QEMU: the suites and the e2e kill
# loop under KASAN and lockdep (the smp pass), the suites under KCSAN
# (the kcsan pass; scripts/smp.sh).
# Installs and prepares what is missing first; each kernel's first boot is
# preceded by a preflight boot (scripts/passes.sh: uml_preflight).
#
# Environment: PASS=all|c|e2e|amx|rust|smp|kcsan, DSHIM_E2E_SECONDS (default 25),
# DSHIM_AMX_SECONDS (default 10), DSHIM_AMX_MIN_KILLED (default 20),
# DSHIM_FAKE_XSTATE (default 11008), DSHIM_PREFLIGHT_TIMEOUT (default 120),
# DSHIM_E2E_MIN_KILLED (default 100), SUITES=glob (KUnit suite glob, replaces
# the defaults dshim* / rust_doctests_kernel + dshim_rust*), KSRC, JOBS,
# DSHIM_CACHE, DSHIM_TIMEOUT (seconds per boot, default 600),
# DSHIM_ALLOW_SKIP=1 (count skipped cases as passed, not failed), and
# scripts/smp.sh's DSHIM_SMP_* (DSHIM_SMP_REPEAT=N: the torture N times).
#
# Prints "c: N passed, M failed", "e2e: ...", "amx: ...", "rust: ...",
# "smp 6.12: ...", "kcsan 6.12: ..." and finally
# "N passed, M failed" for everything; exits non-zero on any failed or
# skipped case, crash, timeout, build failure or kernel debug splat.
set -euo pipefail
DSHIM_PROG=check
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/passes.sh
. "$DSHIM_TOP/scripts/passes.sh"
# shellcheck source=scripts/e2e.sh
. "$DSHIM_TOP/scripts/e2e.sh"
# shellcheck source=scripts/smp.sh
. "$DSHIM_TOP/scripts/smp.sh"

PASS=${PASS:-all}
case $PASS in
all) passes=(c e2e amx rust smp kcsan) ;;
c | e2e | amx | rust | smp | kcsan) passes=("$PASS") ;;
*) die "PASS=$PASS: expected all, c, e2e, amx, rust, smp or kcsan" ;;
esac

t_start=$(date +%s)
pass_prepare

# SUITES with both passes: fine if it matches suites of only one of them.
DSHIM_SUITES_OPTIONAL=0
[ -n "${SUITES:-}" ] && [ "${#passes[@]}" -gt 1 ] && DSHIM_SUITES_OPTIONAL=1
total_passed=0
total_failed=0
total_suites=0
problems=()
summary=()

# The scanner's self-test first: no point booting kernels with a broken
# judge.
scanner_out=$(mktemp)
trap 'rm -f "$scanner_out"' EXIT
"$DSHIM_SCRIPTS/scan-log-selftest.sh" -q | tee "$scanner_out" || true
sp='' sf=''
read -r sp sf < <(sed -n 's/^scanner: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$scanner_out" | tail -n 1) || true
if [ -z "${sp:-}" ]; then
	sp=0 sf=1
	problems+=("scanner: self-test did not report its results")
elif [ "$sf" != 0 ]; then
	problems+=("scanner: $sf self-test case(s) failed (see above)")
fi
total_passed=$((total_passed + sp))
total_failed=$((total_failed + sf))
summary+=("scanner: $sp passed, $sf failed")

for p in "${passes[@]}"; do
	echo
	msg "=== $p pass ==="
	if [ "$p" = e2e ] || [ "$p" = amx ]; then
		# SUITES picks KUnit suites: the e2e test has none
		[ -z "${SUITES:-}" ] || continue
		if [ "$p" = e2e ]; then e2e_pass; else e2e_amx_pass; fi
	elif [ "$p" = smp ] || [ "$p" = kcsan ]; then
		smp_pass "$p"
	else
		pass_run "$p"
	fi
	total_passed=$((total_passed + PASS_PASSED))
	total_failed=$((total_failed + PASS_FAILED))
	total_suites=$((total_suites + PASS_SUITES))
	problems+=("${PASS_PROBLEMS[@]}")
	label=$p
	[ "$p" != smp ] && [ "$p" != kcsan ] || label="$p $(dshim_tree_version)"
	summary+=("$label: $PASS_PASSED passed, $PASS_FAILED failed")
	# Shown as soon as the pass ends; repeated in the summary below.
	echo "$label: $PASS_PASSED passed, $PASS_FAILED failed"
done

if [ "$DSHIM_SUITES_OPTIONAL" = 1 ] && [ "$total_suites" = 0 ]; then
	problems+=("no suite matches SUITES='$SUITES' in any pass")
	total_failed=$((total_failed + 1))
fi

echo
msg "=== summary ($(elapsed "$t_start")) ==="
if [ "${#problems[@]}" -gt 0 ]; then
	printf '  %s\n' "${problems[@]}"
fi
msg "logs: $DSHIM_LOGS/"
printf '%s\n' "${summary[@]}"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" = 0 ] && [ "${#problems[@]}" = 0 ]
