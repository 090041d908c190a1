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
# Environment: PASS=all|c|e2e|amx|rust|rvgpu|smp|kcsan, DSHIM_E2E_SECONDS (default 25),
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
all | c | e2e | amx | rust | rvgpu | smp | kcsan) ;;
*) die "PASS=$PASS: expected all, c, e2e, amx, rust, rvgpu, smp or kcsan" ;;
esac

# kernel_passes K: the passes `make check` runs on kernel K, in order.
# - rust, rvgpu: 7.x only. The abstraction is written against 7.x's Rust
#   (kernel::sync::aref, pin-init's crate, #[kunit_tests]), where the
#   Rust GPU drivers live; 6.12's Rust has no kernel::drm, so no Rust
#   DRM driver could use it there (README, "Kernels"). rvgpu, the Rust
#   DRM driver, boots the Rust pass's kernel for the e2e test.
# - amx: 6.x only. It proves scripts/uml-fixes/6.12's FP-state backport
#   on an emulated Intel AMX host; 7.x's UML sizes the FP state at run time
#   itself, upstream's code that the backport copies.
# - kcsan: 7.x only. It judges data races in the shim's own functions,
#   which are the same code on both kernels (c-shim/compat.h aside), and
#   its x86-64 build is the most expendable of a cold run's eight.
# PASS=p runs p on every kernel of the run that can build it (rust and
# rvgpu: 7.x).
kernel_passes() {
	local k=$1 major=${1%%.*}
	case $PASS in
	all)
		if [ "$major" -lt 7 ]; then
			echo c e2e amx smp
		else
			echo c e2e rust rvgpu smp kcsan
		fi
		;;
	rust | rvgpu) [ "$major" -lt 7 ] || echo "$PASS" ;;
	*) echo "$PASS" ;;
	esac
}

# Minutes a pass takes on a 2-core machine (the README's kernel matrix),
# by pass and kernel major: cold with its kernel to build, warm with the
# build in the cache. The e2e and amx passes boot the C pass's kernel;
# the x86-64 passes build their own. Only for the estimate up front.
declare -A EST_COLD=([c6]=6 [e2e6]=1 [amx6]=1 [rust6]=7 [smp6]=11 [kcsan6]=7
	[c7]=10 [e2e7]=1 [amx7]=1 [rust7]=8 [rvgpu7]=1 [smp7]=12 [kcsan7]=9)
declare -A EST_WARM=([c6]=1 [e2e6]=1 [amx6]=1 [rust6]=1 [smp6]=3 [kcsan6]=2
	[c7]=3 [e2e7]=1 [amx7]=1 [rust7]=2 [rvgpu7]=1 [smp7]=3 [kcsan7]=2)

# Print how long this run should take, from what the cache already has.
check_estimate() {
	local run k p bd key cold=0 warm=0 fetch=0 m=0 trees=
	for run in "${runs[@]}"; do
		read -r k p <<<"$run"
		dshim_use_kernel "$k"
		case $p in
		e2e | amx) bd=$(dshim_build_dir c) ;;
		rvgpu) bd=$(dshim_build_dir rust) ;;
		*) bd=$(dshim_build_dir "$p") ;;
		esac
		key=$p$((${k%%.*} < 7 ? 6 : 7))
		if [ -f "$bd/.config" ] && [ -e "$bd/vmlinux" ]; then
			m=$((m + EST_WARM[$key])) warm=$((warm + 1))
		else
			m=$((m + EST_COLD[$key])) cold=$((cold + 1))
		fi
	done
	for k in "${kernels[@]}"; do
		dshim_use_kernel "$k"
		[ -d "$(dshim_tree)" ] || fetch=$((fetch + 1))
	done
	m=$((m + 2 * fetch))
	[ "$fetch" = 0 ] || trees=", $fetch kernel tree(s) to unpack"
	msg "estimate: about $m minutes on 2 cores ($cold of ${#runs[@]} passes build their kernel from scratch$trees; each pass prints its start)"
}

# The (kernel, pass) pairs of this run.
mapfile -t kernels < <(dshim_kernels)
runs=()
for k in "${kernels[@]}"; do
	for p in $(kernel_passes "$k"); do
		runs+=("$k $p")
	done
done
[ "${#runs[@]}" -gt 0 ] || die "PASS=$PASS does not run on kernel(s) ${kernels[*]}"

t_start=$(date +%s)
msg "kernels: ${kernels[*]}; passes: $(printf '%s, ' "${runs[@]}" | sed 's/, $//')"
check_estimate
for k in "${kernels[@]}"; do
	dshim_use_kernel "$k"
	pass_prepare
done

# SUITES with several passes: fine if it matches suites of only one.
DSHIM_SUITES_OPTIONAL=0
[ -n "${SUITES:-}" ] && [ "${#runs[@]}" -gt 1 ] && DSHIM_SUITES_OPTIONAL=1
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

i=0
for run in "${runs[@]}"; do
	read -r k p <<<"$run"
	dshim_use_kernel "$k"
	label="$p $k"
	# the issue's name for it: the e2e test, on rvgpu
	[ "$p" != rvgpu ] || label="e2e $k rvgpu"
	i=$((i + 1))
	echo
	msg "=== [$i/${#runs[@]}] $label pass ($(elapsed "$t_start") so far) ==="
	if [ "$p" = e2e ] || [ "$p" = amx ] || [ "$p" = rvgpu ]; then
		# SUITES picks KUnit suites: the e2e test has none
		[ -z "${SUITES:-}" ] || continue
		case $p in
		e2e) e2e_pass ;;
		amx) e2e_amx_pass ;;
		rvgpu) e2e_rvgpu_pass ;;
		esac
	elif [ "$p" = smp ] || [ "$p" = kcsan ]; then
		smp_pass "$p"
	else
		pass_run "$p"
	fi
	total_passed=$((total_passed + PASS_PASSED))
	total_failed=$((total_failed + PASS_FAILED))
	total_suites=$((total_suites + PASS_SUITES))
	problems+=("${PASS_PROBLEMS[@]}")
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
msg "logs: $(for k in "${kernels[@]}"; do dshim_use_kernel "$k"; printf '%s/ ' "$DSHIM_LOGS"; done)"
printf '%s\n' "${summary[@]}"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" = 0 ] && [ "${#problems[@]}" = 0 ]
