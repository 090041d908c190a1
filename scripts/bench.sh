#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The benchmarks: build a UML kernel without debug options
# (kunit/bench.kunitconfig, build dir $DSHIM_CACHE/K/build-bench), boot it
# once running the dshim_bench suite, which runs every workload through a
# raw drm_sched driver and through the shim on the same mock hardware, and
# print a table (workload, raw, shim, shim/raw) and a final line
#
#   bench: throughput_1q=R1 throughput_256q=R256 queue_mem=RM queue_threads=T fence_pinned_bytes=B
#
# (R*: shim/raw ratios; T: kernel threads per shim queue; B: bytes a
# signalled fence pins beyond itself once its queue is gone). Installs and
# prepares what is missing first. Figures are reported, never judged: the
# run fails (non-zero exit) only on a build failure, a failed or missing
# workload, a crash or timeout, or a kernel debug splat in the log.
#
# With several kernels (KERNEL=all, the default), once per kernel, then
# the final line of each: "bench K: ...".
#
# Environment: KERNEL, KSRC, JOBS, DSHIM_CACHE, DSHIM_TIMEOUT (seconds for
# the boot, default 1800), DSHIM_MEM (the kernel's memory, default 2G).
set -euo pipefail
DSHIM_PROG=bench
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
dshim_per_kernel 'bench: throughput' "$0" "$@"
# The debug kernels' arguments mean nothing here; timestamps help reading.
DSHIM_KERNEL_ARGS=printk.time=1
DSHIM_TIMEOUT=${DSHIM_TIMEOUT:-1800}
# 10,000 raw queues are 10,000 kernel threads, and the kernel allows one
# thread per 128 KiB of memory: 1 GiB would stop at 8,192.
DSHIM_MEM=${DSHIM_MEM:-2G}
# shellcheck source=scripts/passes.sh
. "$DSHIM_TOP/scripts/passes.sh"

t_start=$(date +%s)
pass_prepare
pass_build_or_exit bench
# kunit.py's own view goes to a file: the table is what matters here.
pass_boot bench dshim_bench 1 "$DSHIM_LOGS/bench-kunit.txt"

PASS_PASSED=0 PASS_FAILED=0 PASS_SUITES=0 PASS_PROBLEMS=()
pass_judge bench dshim_bench 0

msg "kernel log: $BOOT_LOG ($(elapsed "$t_start") in all)"
echo
table_rc=0
"$PYTHON" - "$BOOT_LOG" <<'EOF_PY' || table_rc=$?
import re, sys

rows = [
    # key, label, how to show the unit
    ('throughput_1q', 'throughput, 1 queue (jobs/s)', 'int'),
    ('submit_1q', '  of which submit, per job, 1 queue (us)', 'us'),
    ('throughput_16q', 'throughput, 16 queues (jobs/s)', 'int'),
    ('throughput_256q', 'throughput, 256 queues (jobs/s)', 'int'),
    ('floor_rate', 'floor: bare fence + callback (fences/s)', 'int'),
    ('floor_multiple_1q', 'job at 1 queue, in bare fences (x)', 'milli'),
    ('latency_run_p50', 'submit to run, median (us)', 'us'),
    ('latency_run_p99', 'submit to run, p99 (us)', 'us'),
    ('latency_free_p50', 'hw signal to free, median (us)', 'us'),
    ('latency_free_p99', 'hw signal to free, p99 (us)', 'us'),
]
for n in (0, 100, 1000):
    rows += [
        (f'destroy_return_{n}jobs', f'destroy returns, {n} jobs on hw (us)', 'us'),
        (f'destroy_freed_{n}jobs', f'  hw done to all freed, {n} jobs (us)', 'us'),
    ]
for n in (1000, 10000):
    rows += [
        (f'queue_bytes_{n}', f'kernel memory per queue, {n:,} idle (B)', 'int'),
        (f'queue_slab_bytes_{n}', f'  of which slab (B)', 'int'),
        (f'queue_threads_{n}', f'kernel threads per queue, {n:,} idle', 'milli'),
        (f'queue_create_{n}', f'create, per queue, {n:,} (us)', 'us'),
        (f'queue_destroy_{n}', f'destroy until freed, per queue, {n:,} (us)', 'us'),
    ]
rows += [
    ('fence_own_bytes', 'signalled fence, its own size (B)', 'int'),
    ('fence_pinned_objects', 'signalled fence pins: objects (B)', 'int'),
    ('fence_pinned_bytes', 'signalled fence pins: pages (B)', 'int'),
]
no_ratio = {'floor_rate'}

res = {}
pat = re.compile(r'bench: (\w+) (\S+) raw=(\S+) shim=(\S+)')
for line in open(sys.argv[1], errors='replace'):
    m = pat.search(line)
    if m:
        res[m.group(1)] = (m.group(3), m.group(4))

def value(v, how):
    if v == '-':
        return None
    v = int(v)
    return {'int': v, 'us': v / 1000, 'milli': v / 1000}[how]

def show(v, how):
    if v is None:
        return '-'
    if how == 'int':
        return f'{v:,}'
    if how == 'milli':
        return f'{v:.3f}'.rstrip('0').rstrip('.')
    return f'{v:.1f}' if v >= 10 else f'{v:.2f}'

missing = [k for k, _, _ in rows if k not in res]
w = max(len(label) for _, label, _ in rows)
print(f'{"workload":<{w}}  {"raw":>12}  {"shim":>12}  {"shim/raw":>8}')
print(f'{"-" * w}  {"-" * 12}  {"-" * 12}  {"-" * 8}')
ratio = {}
for key, label, how in rows:
    if key not in res:
        continue
    raw, shim = (value(v, how) for v in res[key])
    r = '-'
    if key not in no_ratio and raw and shim is not None:
        ratio[key] = shim / raw
        r = f'{shim / raw:.2f}'
    print(f'{label:<{w}}  {show(raw, how):>12}  {show(shim, how):>12}  {r:>8}')
print()
if missing:
    print('bench: error: workloads that reported nothing: ' + ' '.join(missing),
          file=sys.stderr)
    sys.exit(1)
threads = value(res['queue_threads_10000'][1], 'milli')
print('bench: throughput_1q={:.2f} throughput_256q={:.2f} queue_mem={:.2f} '
      'queue_threads={} fence_pinned_bytes={}'.format(
          ratio['throughput_1q'], ratio['throughput_256q'],
          ratio['queue_bytes_10000'], show(threads, 'milli'),
          res['fence_pinned_bytes'][1]))
EOF_PY

if [ "$table_rc" != 0 ]; then
	PASS_PROBLEMS+=("bench: the table is incomplete (see above)")
fi
if [ "${#PASS_PROBLEMS[@]}" -gt 0 ]; then
	printf '  %s\n' "${PASS_PROBLEMS[@]}" >&2
	msg "FAILED: the figures above do not count" >&2
fi
[ "$PASS_FAILED" = 0 ] && [ "${#PASS_PROBLEMS[@]}" = 0 ] && [ "$table_rc" = 0 ]
