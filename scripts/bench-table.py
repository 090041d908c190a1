#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The benchmark's table, its final line and its JSON, from a kernel log.

    bench-table.py LOG KERNEL CPUS JSON

LOG holds the dshim_bench suite's lines (kunit/dshim_bench.c):

    bench: <key> <unit> raw=<v> raw_shared=<v> shim=<v> shim_direct=<v>
    bench-cdf: <metric> <driver> ns <permille>:<v> ...
    bench-info: <name>=<value>

Prints a table with every driver side by side and the shim's ratios to
raw drm_sched (with its own workqueue per scheduler), without and with
direct submit, then the final line

    bench K[ smp]: [cpus=N ]throughput_1q=.. throughput_256q=.. cpu_per_job=..
        queue_mem=.. queue_threads=.. fence_pinned_bytes=..
        direct_throughput_1q=.. direct_throughput_256q=.. direct_cpu_per_job=..

(ratios to raw; cpu_per_job is the worst over the queue counts), and writes
the figures to JSON for scripts/bench-chart.py. Exits 1 if a workload
reported nothing: figures are never judged.
"""
import datetime
import json
import re
import sys

DRIVERS = ('raw', 'raw_shared', 'shim', 'shim_direct')
QUEUES = (1, 16, 256, 1024)

# key, label, how to show the unit
ROWS = []
for nq in QUEUES:
    s = 's' if nq > 1 else ''
    ROWS += [
        (f'throughput_{nq}q', f'throughput, {nq} queue{s} (jobs/s)', 'int'),
        (f'cpu_per_job_{nq}q', '  CPU time per job (us)', 'us'),
        (f'switches_per_job_{nq}q', '  context switches per job', 'milli'),
        (f'latency_run_p50_{nq}q', '  submit to run, median (us)', 'us'),
        (f'latency_run_p99_{nq}q', '  submit to run, p99 (us)', 'us'),
        (f'latency_free_p50_{nq}q', '  hw signal to free, median (us)', 'us'),
        (f'latency_free_p99_{nq}q', '  hw signal to free, p99 (us)', 'us'),
    ]
    if nq == 1:
        ROWS.append(('submit_1q', '  submit call, per job (us)', 'us'))
ROWS += [
    ('floor_rate', 'floor: bare fence + callback (fences/s)', 'int'),
    ('floor_multiple_1q', 'job at 1 queue, in bare fences (x)', 'milli'),
    ('latency_run_p50', 'idle queue: submit to run, median (us)', 'us'),
    ('latency_run_p99', 'idle queue: submit to run, p99 (us)', 'us'),
    ('latency_free_p50', 'idle queue: hw signal to free, median (us)', 'us'),
    ('latency_free_p99', 'idle queue: hw signal to free, p99 (us)', 'us'),
]
for n in (0, 100, 1000):
    ROWS += [
        (f'destroy_return_{n}jobs', f'destroy returns, {n} jobs on hw (us)', 'us'),
        (f'destroy_freed_{n}jobs', f'  hw done to all freed, {n} jobs (us)', 'us'),
    ]
for n in (1000, 10000):
    ROWS += [
        (f'queue_bytes_{n}', f'kernel memory per queue, {n:,} idle (B)', 'int'),
        (f'queue_slab_bytes_{n}', '  of which slab (B)', 'int'),
        (f'queue_threads_{n}', f'kernel threads per queue, {n:,} idle', 'milli'),
        (f'queue_create_{n}', f'create, per queue, {n:,} (us)', 'us'),
        (f'queue_destroy_{n}', f'destroy until freed, per queue, {n:,} (us)', 'us'),
    ]
ROWS += [
    ('fence_own_bytes', 'signalled fence, its own size (B)', 'int'),
    ('fence_pinned_objects', 'signalled fence pins: objects (B)', 'int'),
    ('fence_pinned_bytes', 'signalled fence pins: pages (B)', 'int'),
]
NO_RATIO = {'floor_rate'}


def value(v, how):
    if v is None or v == '-':
        return None
    v = int(v)
    return v if how == 'int' else v / 1000


def show(v, how):
    if v is None:
        return '-'
    if how == 'int':
        return f'{v:,}'
    if how == 'milli':
        return f'{v:.3f}'.rstrip('0').rstrip('.')
    return f'{v:.1f}' if v >= 10 else f'{v:.2f}'


def ratio(a, b):
    return f'{a / b:.2f}' if a is not None and b else '-'


def main():
    log, kernel, cpus, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    res, cdf, info = {}, {}, {}
    pat = re.compile(r'bench: (\w+) (\S+) ((?:\w+=\S+ ?)+)$')
    pat_cdf = re.compile(r'bench-cdf: (\w+) (\w+) ns ((?:\d+:\d+ ?)+)$')
    pat_info = re.compile(r'bench-info: (\w+)=(\S+)')
    for line in open(log, errors='replace'):
        line = line.rstrip()
        if m := pat.search(line):
            res[m.group(1)] = dict(kv.split('=', 1) for kv in m.group(3).split())
        elif m := pat_cdf.search(line):
            cdf.setdefault(m.group(1), {})[m.group(2)] = [
                [int(x) for x in kv.split(':')] for kv in m.group(3).split()]
        elif m := pat_info.search(line):
            info[m.group(1)] = m.group(2)

    missing = [k for k, _, _ in ROWS if k not in res]
    w = max(len(label) for _, label, _ in ROWS)
    print(f'{"workload":<{w}}  {"raw":>11}  {"raw_shared":>11}  {"shim":>11}'
          f'  {"shim_direct":>11}  {"shim/raw":>8}  {"direct/raw":>10}')
    print(f'{"-" * w}  {"-" * 11}  {"-" * 11}  {"-" * 11}  {"-" * 11}  {"-" * 8}'
          f'  {"-" * 10}')
    vals = {}
    for key, label, how in ROWS:
        if key not in res:
            continue
        v = {d: value(res[key].get(d), how) for d in DRIVERS}
        vals[key] = v
        r1 = r2 = '-'
        if key not in NO_RATIO:
            r1, r2 = ratio(v['shim'], v['raw']), ratio(v['shim_direct'], v['raw'])
        print(f'{label:<{w}}  {show(v["raw"], how):>11}  '
              f'{show(v["raw_shared"], how):>11}  {show(v["shim"], how):>11}'
              f'  {show(v["shim_direct"], how):>11}  {r1:>8}  {r2:>10}')
    print()
    print(f'CPUs: {cpus}; CPU time from the kernel\'s idle accounting '
          f'({info.get("cpu_accounting", "?")}); ratios are shim/raw and '
          'shim_direct/raw.')
    print()

    with open(out, 'w') as f:
        json.dump({'kernel': kernel, 'cpus': cpus,
                   'time': datetime.datetime.now().isoformat(timespec='seconds'),
                   'info': info, 'results': res, 'cdf': cdf}, f, indent=1)

    if missing:
        print('bench: error: workloads that reported nothing: ' + ' '.join(missing),
              file=sys.stderr)
        return 1

    def r(key, drv='shim'):
        return vals[key][drv] / vals[key]['raw']

    def cpu(drv):
        return max(r(f'cpu_per_job_{nq}q', drv) for nq in QUEUES)

    head = f'bench {kernel} smp: cpus={cpus} ' if cpus > 1 else f'bench {kernel}: '
    print(head + 'throughput_1q={:.2f} throughput_256q={:.2f} cpu_per_job={:.2f} '
          'queue_mem={:.2f} queue_threads={} fence_pinned_bytes={} '
          'direct_throughput_1q={:.2f} direct_throughput_256q={:.2f} '
          'direct_cpu_per_job={:.2f}'.format(
              r('throughput_1q'), r('throughput_256q'), cpu('shim'),
              r('queue_bytes_10000'),
              show(vals['queue_threads_10000']['shim'], 'milli'),
              res['fence_pinned_bytes']['shim'],
              r('throughput_1q', 'shim_direct'), r('throughput_256q', 'shim_direct'),
              cpu('shim_direct')))
    return 0


if __name__ == '__main__':
    sys.exit(main())
