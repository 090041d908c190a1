#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The benchmark's chart, from the JSON of scripts/bench-table.py.

    bench-chart.py OUT.svg JSON...

Two panels: jobs per second against the number of queues, one line per
kernel, CPU count and driver; and the CDF of an idle queue's latencies,
submit to run (solid) and hardware signal to free (dashed). Each JSON
names its kernel, CPUs and when it was measured; the legend says so.
"""
import json
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

QUEUES = (1, 16, 256, 1024)
COLOURS = {'raw': 'tab:blue', 'raw_shared': 'tab:green', 'shim': 'tab:red',
           'shim_direct': 'tab:purple'}
MARKERS = ('o', 's', '^', 'D')


def main():
    out, runs = sys.argv[1], [json.load(open(p)) for p in sys.argv[2:]]
    fig, (tp, lat) = plt.subplots(1, 2, figsize=(13, 8))
    for i, run in enumerate(runs):
        tag = f'{run["kernel"]}, {run["cpus"]} CPU{"s" if run["cpus"] > 1 else ""}'
        res = run['results']
        for drv, colour in COLOURS.items():
            ys = [int(res.get(f'throughput_{nq}q', {}).get(drv, 0) or 0) for nq in QUEUES]
            if not any(ys):
                continue
            tp.plot(QUEUES, ys, marker=MARKERS[i % len(MARKERS)], color=colour,
                    linestyle='-' if i % 2 == 0 else ':', label=f'{drv} ({tag})')
        for metric, style in (('latency_run', '-'), ('latency_free', '--')):
            for drv, pts in sorted(run['cdf'].get(metric, {}).items()):
                # UML's clock steps by 256 ns: 0 is "below a step"
                xs = [max(v, 100) / 1000 for _, v in pts]
                ys = [p / 1000 for p, _ in pts]
                what = 'submit to run' if metric == 'latency_run' else 'signal to free'
                lat.plot(xs, ys, style, color=COLOURS.get(drv, 'black'),
                         marker=MARKERS[i % len(MARKERS)], markersize=3,
                         label=f'{drv}, {what} ({tag})')
    tp.set_xscale('log', base=2)
    tp.set_xticks(QUEUES, [str(q) for q in QUEUES])
    tp.set_xlabel('queues')
    tp.set_ylabel('jobs per second (zero-duration jobs)')
    tp.set_title('Throughput, submitters on every CPU')
    tp.set_ylim(bottom=0)
    tp.grid(True, alpha=0.3)
    tp.legend(fontsize=7, loc='upper center', bbox_to_anchor=(0.5, -0.14), ncol=2)
    lat.set_xscale('log')
    lat.set_xlabel('latency (us; 0.1: below one 0.26 us clock step)')
    lat.set_ylabel('fraction of jobs')
    lat.set_title('Idle queue latency CDF (20 us jobs)')
    lat.grid(True, alpha=0.3)
    lat.legend(fontsize=6, loc='upper center', bbox_to_anchor=(0.5, -0.14), ncol=2)
    when = ', '.join(f'{r["kernel"]}: {r["time"]}' for r in runs)
    fig.suptitle(f'drm-sched-shim against raw drm_sched, UML (measured {when})',
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
