#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The table make demo ends with: raw drm_sched against the shim.

    demo-table.py --list
    demo-table.py [--kernel K] [--expect-raw=0|1] SHIM_LOG RAW_SUITE=RAW_LOG...

--list prints the raw reproducer suites, one per line, in the order the
demo boots them (one boot each). Otherwise the logs are judged: every
raw boot's kernel reports (counted by scan-log.py), the shim boot's
case results and reports, and the torture test's figures. Prints the
side-by-side table and the line

    demo: raw drm_sched <n> kernel reports, shim <m> reports, <jobs> jobs, <k> leaked

Exit status 0 when the shim side is clean (every case ok, no report, no
leak) and the raw side shows reports; 1 otherwise: a demo whose "before"
shows nothing proves nothing. With --expect-raw=0 (a kernel newer than
the 2023 bugs, which may have fixed some), raw scenarios without a report
are shown as such and do not fail the demo. --kernel names the kernel in
the table's heading.
"""

import importlib.util
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    'scan_log', os.path.join(HERE, 'scan-log.py'))
scan_log = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scan_log)

# (raw suite suffix, scenario, shim case that plays it)
SCENARIOS = [
    ('teardown_with_job_on_hw',
     'scheduler torn down, job on the hardware',
     'dshim_teardown_jobs_on_hw'),
    ('kill_then_teardown',
     'entity killed, scheduler torn down at once',
     'dshim_teardown_kill_then_sched_put'),
    ('fence_name_after_free',
     'fence read after its scheduler is gone',
     'dshim_teardown_fences_outlive_everything'),
    ('last_put_in_free_job',
     'last reference dropped inside free',
     'dshim_teardown_last_put_in_callback'),
]
RAW_PREFIX = 'raw_drm_sched_'
TORTURE = re.compile(r'(\d+) ms: (\d+) jobs .*?, (\d+) queues, (\d+) kills.*?'
                     r'(\d+) freed of (\d+) created')
THREADS = re.compile(r'dshim_torture\w*: seed \d+, (\d+) threads')
RESULT = re.compile(r'^(\s*)(ok|not ok) \d+ (\S+)')


def case_results(msgs):
    """KTAP results by name, cases and parameters alike."""
    res = {}
    for m in msgs:
        r = RESULT.match(m)
        if r:
            res.setdefault(r.group(3), []).append(r.group(2) == 'ok')
    return res


def matrix_counts(msgs):
    """(passed, failed) parameters of the teardown matrix."""
    inside, ok, bad = False, 0, 0
    for m in msgs:
        if re.match(r'^\s*# Subtest: dshim_matrix_teardown$', m):
            inside = True
            continue
        if not inside:
            continue
        r = RESULT.match(m)
        if r and r.group(3) == 'dshim_matrix_teardown':
            break
        if r:
            ok, bad = (ok + 1, bad) if r.group(2) == 'ok' else (ok, bad + 1)
    return ok, bad


def main(argv):
    if argv[1:] == ['--list']:
        for suite, _, _ in SCENARIOS:
            print(RAW_PREFIX + suite)
        return 0
    kernel, expect_raw = None, True
    while len(argv) > 1 and argv[1].startswith('--'):
        opt = argv.pop(1)
        if opt == '--kernel' and len(argv) > 1:
            kernel = argv.pop(1)
        elif opt.startswith('--expect-raw='):
            expect_raw = opt.split('=', 1)[1] != '0'
        else:
            print(__doc__, file=sys.stderr)
            return 2
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    shim_lines = scan_log.read_log(argv[1])
    shim_msgs = [scan_log.strip(line) for line in shim_lines]
    shim_results = case_results(shim_msgs)
    raw = dict(a.split('=', 1) for a in argv[2:])

    rows = []
    raw_total = 0
    raw_clean = []
    for suite, what, shim_case in SCENARIOS:
        path = raw.get(RAW_PREFIX + suite)
        if path and os.path.exists(path):
            found = scan_log.scan(scan_log.read_log(path))
            raw_total += len(found)
            raw_cell = scan_log.summary(found) if found else 'no report'
            if not found:
                raw_clean.append(suite)
        else:
            raw_cell = 'not run'
        results = shim_results.get(shim_case, [])
        shim_cell = ('ok' if results and all(results) else
                     'FAILED' if results else 'not run')
        rows.append((what, raw_cell, f'{shim_cell} ({shim_case})'))

    ok, bad = matrix_counts(shim_msgs)
    rows.append(('teardown matrix: orders x states x contexts', '-',
                 f'{ok} ok, {bad} failed' if ok or bad else 'not run'))
    jobs = leaked = None
    threads = next((t.group(1) for t in map(THREADS.search, shim_msgs) if t),
                   '?')
    for m in shim_msgs:
        t = TORTURE.search(m)
        if t:
            ms, jobs, queues, kills, freed, created = map(int, t.groups())
            leaked = created - freed
            rows.append((f'kill storm: {ms / 1000:.0f} s, {threads} threads', '-',
                         f'{jobs} jobs, {queues} queues, {kills} kills, '
                         f'{leaked} leaked'))
    if jobs is None:
        rows.append(('kill storm', '-', 'not run'))

    shim_found = scan_log.scan(shim_lines)
    shim_failed = [n for n, r in shim_results.items() if not all(r)]
    rows.append(('kernel reports (KASAN, lockdep, hung task, ...)',
                 str(raw_total), str(len(shim_found))))

    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows + [('', 'raw drm_sched')])
    if kernel:
        print(f'Linux {kernel}:')
    print(f'{"scenario":<{w0}}  {"raw drm_sched":<{w1}}  shim')
    print(f'{"-" * w0}  {"-" * w1}  {"-" * 40}')
    for a, b, c in rows:
        print(f'{a:<{w0}}  {b:<{w1}}  {c}')
    print()
    for f in shim_found:
        print(f'demo: shim report: {f.headline()}')
    for n in shim_failed:
        print(f'demo: shim case failed: {n}')
    raw_ok = raw_total > 0 if expect_raw else True
    if expect_raw and raw_clean:
        raw_ok = False
        print('demo: raw scenario(s) without a report: '
              f'{", ".join(raw_clean)}: the before picture is incomplete')
    good = (raw_ok and not shim_found and not shim_failed and
            jobs is not None and leaked == 0 and bad == 0 and ok > 0)
    if raw_total == 0 and expect_raw:
        print('demo: the raw side shows no report: it proves nothing')
    for suite in raw_clean if not expect_raw else []:
        print(f'demo: raw {suite}: no report on this kernel')
    print(f'demo: raw drm_sched {raw_total} kernel reports, shim '
          f'{len(shim_found)} reports, {jobs or 0} jobs, '
          f'{leaked if leaked is not None else "?"} leaked')
    return 0 if good else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
