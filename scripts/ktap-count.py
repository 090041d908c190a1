#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Count KUnit results in a kernel log (KTAP), independently of kunit.py.

    ktap-count.py [--allow-skip] LOG

Counts leaf test cases: every "ok N name" / "not ok N name" line that has
no subtests of its own, at any depth, so each parameter of a
parameterised case counts once and a suite that failed to initialise
(no cases printed) counts as one failure. A case with "# SKIP" is
counted separately; the exit status treats it as a failure unless
--allow-skip is given: a skipped test is not a pass.

Also checks that the run completed: every plan ("1..N") got its N
results. A missing KTAP header, an unfinished plan (the kernel crashed,
hung or was killed by the timeout) or a "Kernel panic" line marks the
run as crashed.

A console that printk took over mid-line prints the line again after
"** replaying previous printk message **" (7.x): the cut-off copy before
that marker is dropped, so a result line is not counted twice.

Prints the counts on the first line, then one line per problem:
    PASSED FAILED SKIPPED CRASHED SUITES
    not ok: SUITE.CASE[.PARAM]
    skipped: SUITE.CASE (reason)
    crashed: REASON
FAILED does not include SKIPPED. Exits 0 when everything passed (skips
allowed with --allow-skip), 1 otherwise.
"""

import argparse
import re
import signal
import sys

PREFIX = re.compile(r'^(?:<\d+>)?(?:\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])?\s?)?')
HEADER = re.compile(r'^(\s*)K?TAP version \d+\s*$')
PLAN = re.compile(r'^(\s*)1\.\.(\d+)\s*$')
RESULT = re.compile(r'^(\s*)(not ok|ok) (\d+)\s*(?:- )?([^#]*?)\s*(?:#\s*(\S.*))?$')
SUBTEST = re.compile(r'^(\s*)# Subtest: (.*)$')
PANIC = re.compile(r'Kernel panic - not syncing')
REPLAY = '** replaying previous printk message **'


def drop_replayed(msgs):
    """msgs without printk's replay markers and the cut-off lines they
    replace (a line the next one starts with)."""
    out = []
    for i, m in enumerate(msgs):
        if m.strip() != REPLAY:
            out.append(m)
            continue
        nxt = msgs[i + 1] if i + 1 < len(msgs) else ''
        if out and out[-1] and nxt.startswith(out[-1]):
            out.pop()
    return out


class Counts:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.crashed = 0
        self.suites = 0
        self.failed_names = []
        self.skipped_names = []
        self.reasons = []


def count(lines):
    c = Counts()
    msgs = drop_replayed([PREFIX.sub('', l.rstrip('\r\n'), count=1)
                          for l in lines])

    start = next((i for i, m in enumerate(msgs) if HEADER.match(m) and
                  not HEADER.match(m).group(1)), None)
    if start is None:
        c.crashed = 1
        c.reasons.append('no KTAP output (kernel did not reach KUnit?)')
        return c

    # Per indentation level: the plan announced there, results seen
    # there, whether results deeper than it were seen since its last one,
    # and the current subtest name.
    plans = {}
    results = {}
    deeper = {}
    names = {}
    top_plan = None
    for m in msgs[start:]:
        if PANIC.search(m):
            c.crashed = 1
            c.reasons.append('kernel panic')
            break
        p = PLAN.match(m)
        if p:
            ind = len(p.group(1))
            plans[ind] = int(p.group(2))
            results[ind] = 0
            if ind == 0:
                top_plan = int(p.group(2))
            continue
        s = SUBTEST.match(m)
        if s:
            names[len(s.group(1))] = s.group(2).strip()
            continue
        r = RESULT.match(m)
        if not r:
            continue
        ind = len(r.group(1))
        ok = r.group(2) == 'ok'
        name = r.group(4).strip()
        directive = (r.group(5) or '').strip()
        # Close deeper levels: they belong to this result.
        had_children = any(deeper.get(d) for d in deeper if d > ind)
        for d in [d for d in list(plans) if d > ind]:
            if plans[d] != results.get(d, 0):
                c.crashed = 1
                c.reasons.append(f'{name}: plan 1..{plans[d]} but '
                                 f'{results.get(d, 0)} results')
            del plans[d]
        for d in [d for d in deeper if d > ind]:
            del deeper[d]
            results.pop(d, None)
        deeper[ind] = True
        results[ind] = results.get(ind, 0) + 1
        if ind == 0:
            c.suites += 1
        if had_children:
            continue
        # A leaf: a case, a parameter, or a suite with no cases printed.
        # "# Subtest: x" lines sit at the indentation of x's results.
        full = '.'.join([names[d] for d in range(4, ind + 1, 4) if d in names]
                        + [name])
        if ok and directive.upper().startswith('SKIP'):
            c.skipped += 1
            reason = directive[4:].strip()
            c.skipped_names.append(f'{full} ({reason})' if reason else full)
        elif ok:
            c.passed += 1
        else:
            c.failed += 1
            c.failed_names.append(full)

    if not c.crashed:
        if top_plan is None:
            c.crashed = 1
            c.reasons.append('no test plan after the KTAP header')
        elif results.get(0, 0) != top_plan:
            c.crashed = 1
            c.reasons.append(f'plan 1..{top_plan} but {results.get(0, 0)} '
                             'suites finished (crash or timeout?)')
    return c


def main(argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--allow-skip', action='store_true',
                    help='exit 0 even if cases were skipped')
    ap.add_argument('log')
    args = ap.parse_args(argv[1:])
    try:
        with open(args.log, encoding='utf-8', errors='backslashreplace') as f:
            c = count(f.readlines())
    except OSError as e:
        print(f'ktap-count: cannot read {args.log}: {e.strerror}', file=sys.stderr)
        return 2
    print(c.passed, c.failed, c.skipped, c.crashed, c.suites)
    for n in c.failed_names:
        print(f'not ok: {n}')
    for n in c.skipped_names:
        print(f'skipped: {n}')
    for r in c.reasons:
        print(f'crashed: {r}')
    bad = c.failed or c.crashed or (c.skipped and not args.allow_skip)
    return 1 if bad else 0

if __name__ == '__main__':
    sys.exit(main(sys.argv))
