#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The benchmarks: build a UML kernel without debug options
# (kunit/bench.kunitconfig, build dir $DSHIM_CACHE/K/build-bench; on
# kernels whose UML has SMP, 7.x, with one vCPU per host core), boot it
# once running the dshim_bench suite, which runs every workload through
# raw drm_sched (its own workqueue per scheduler, and a driver-shared one)
# and through the shim on the same mock hardware, with submitters on
# every CPU, and print a table and a final line (scripts/bench-table.py)
#
#   bench K: throughput_1q=R1 throughput_256q=R256 cpu_per_job=RC queue_mem=RM queue_threads=T fence_pinned_bytes=B
#   bench K smp: cpus=N throughput_1q=...             (the same keys)
#
# (R*: shim/raw ratios; RC the worst over 1 to 1,024 queues; T: kernel
# threads per shim queue; B: bytes a signalled fence pins beyond itself
# once its queue is gone), then draws $DSHIM_CACHE/bench.svg from every
# kernel's latest figures (scripts/bench-chart.py). Installs and prepares
# what is missing first. Figures are reported, never judged: the run fails
# (non-zero exit) only on a build failure, a failed or missing workload, a
# crash or timeout, fewer CPUs than asked for, or a kernel debug splat in
# the log.
#
# With several kernels (KERNEL=all, the default), once per kernel, then
# the final line of each.
#
# Environment: KERNEL, KSRC, JOBS, DSHIM_CACHE, DSHIM_TIMEOUT (seconds for
# the boot, default 1800), DSHIM_MEM (the kernel's memory, default 2G),
# DSHIM_BENCH_CPUS (vCPUs on an SMP kernel, default one per host core).
set -euo pipefail
DSHIM_PROG=bench
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
dshim_per_kernel 'bench [0-9.]+( smp)?: ' "$0" "$@"
# The debug kernels' arguments mean nothing here; timestamps help reading.
DSHIM_KERNEL_ARGS=printk.time=1
DSHIM_TIMEOUT=${DSHIM_TIMEOUT:-1800}
# 10,000 raw queues are 10,000 kernel threads, and the kernel allows one
# thread per 128 KiB of memory: 1 GiB would stop at 8,192.
DSHIM_MEM=${DSHIM_MEM:-2G}
# shellcheck source=scripts/passes.sh
. "$DSHIM_TOP/scripts/passes.sh"

# One UML vCPU per host core: vCPUs are host threads, and more of them
# than cores (or hyperthreads counted as cores) would measure the host's
# scheduler. Capped by what this process may run on and by NR_CPUS.
bench_cpus() {
	local n max
	n=${DSHIM_BENCH_CPUS:-$(lscpu -p=CORE,SOCKET 2>/dev/null | grep -v '^#' | sort -u | wc -l)}
	case $n in '' | *[!0-9]* | 0) n=1 ;; esac
	max=$(nproc)
	[ "$n" -le "$max" ] || n=$max
	max=$(sed -n 's/^CONFIG_NR_CPUS=//p' "$DSHIM_TOP/kunit/uml-smp.kunitconfig")
	[ "$n" -le "$max" ] || n=$max
	echo "$n"
}

t_start=$(date +%s)
pass_prepare
pass_build_or_exit bench
DSHIM_UML_CPUS=$(bench_cpus)
# kunit.py's own view goes to a file: the table is what matters here.
pass_boot bench dshim_bench 1 "$DSHIM_LOGS/bench-kunit.txt"

PASS_PASSED=0 PASS_FAILED=0 PASS_SUITES=0 PASS_PROBLEMS=()
pass_judge bench dshim_bench 0

msg "kernel log: $BOOT_LOG ($(elapsed "$t_start") in all)"
echo
table_rc=0
cpus=1
[ "${BOOT_CPUS:-0}" -le 1 ] || cpus=$BOOT_CPUS
json=$DSHIM_LOGS/bench.json
"$PYTHON" "$DSHIM_SCRIPTS/bench-table.py" "$BOOT_LOG" "$(dshim_tree_version)" \
	"$cpus" "$json" || table_rc=$?

# The chart: every kernel's latest figures. A chart that cannot be drawn
# is a warning: the figures are above.
mapfile -t jsons < <(ls "$DSHIM_CACHE"/*/logs/bench.json 2>/dev/null)
if "$PYTHON" "$DSHIM_SCRIPTS/bench-chart.py" "$DSHIM_CACHE/bench.svg" "${jsons[@]}"; then
	echo "bench: chart: $DSHIM_CACHE/bench.svg"
else
	warn "the chart could not be drawn (figures: $json)"
fi

if [ "$table_rc" != 0 ]; then
	PASS_PROBLEMS+=("bench: the table is incomplete (see above)")
fi
if [ "${#PASS_PROBLEMS[@]}" -gt 0 ]; then
	printf '  %s\n' "${PASS_PROBLEMS[@]}" >&2
	msg "FAILED: the figures above do not count" >&2
fi
[ "$PASS_FAILED" = 0 ] && [ "${#PASS_PROBLEMS[@]}" = 0 ] && [ "$table_rc" = 0 ]
