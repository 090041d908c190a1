#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Scan a kernel log for debug splats that a KUnit "ok" does not show.

    scan-log.py [-q | --counts] [--project-symbols FILE] LOG...

A KASAN report raised from a kworker, a lockdep report or a debug-objects
warning does not fail the KUnit case that caused it, so every boot's full
console log goes through this scanner. It fails (exit 1) on:

  - BUG: KASAN, and any other "BUG:" line ("BUG: sleeping function called
    from invalid context", "BUG: scheduling while atomic", ...), "kernel
    BUG at", Oops, general protection faults, "Kernel panic";
  - lockdep reports: "possible circular locking dependency", "inconsistent
    lock state", "possible recursive locking", and every other
    "WARNING: <text>" headline that is not a WARN() splat (lockdep, RCU);
  - "ODEBUG:" (debug objects);
  - kmemleak: "unreferenced object" and "new suspected memory leaks";
  - hung tasks ("INFO: task ... blocked for more than") and RCU stalls;
  - UBSAN reports;
  - KCSAN data races ("BUG: KCSAN: data-race in A / B") when A or B, the
    functions of the two accesses, is the project's: a dshim_ or vgpu_
    symbol, or one named in --project-symbols FILE (one name per line:
    the functions the project's objects define, scripts/smp.sh). A race
    whose accesses both lie in core kernel code is listed ("scan-log:
    listed, not failed: ..."), not failed;
  - the host refusing UML's userspace ("ptrace set fp regs failed", the
    XSTATE size mismatch of Intel AMX hosts, see scripts/host-xstate.py;
    category "host"), and init dying ("Attempted to kill init", category
    "init exited"): categories of their own, with a hint, so that a host
    problem never reads as a failure of the kernel under test;
  - WARN() splats ("WARNING: CPU: n PID: n at file:line") whose block, up
    to its "---[ end trace" line, names project code: a path containing
    sched_shim/ or a symbol starting with dshim_ or vgpu_, or that come from the
    locking code itself (kernel/locking/).

Expected warnings: a WARN() splat that starts between the lines
"dshim: expected warning begin" and "dshim: expected warning end" (printed
by a test around a deliberately provoked WARN_ONCE) is ignored. Only WARN()
splats: a KASAN, lockdep or ODEBUG report inside the markers still fails.
A region also ends at the next KTAP result line, so a test that crashed
before printing the end marker cannot hide later warnings.

Other WARN() splats (the virt-pci.c one UML prints at every boot) are
ignored. Prints every offending report with its context (with --counts,
only one line per log: "LOG: N reports" and the count of each category,
as make demo shows them); exit 0 when clean, 1 on splats, 2 on usage
errors.
"""

import argparse
import re
import signal
import sys

# printk prefixes: "<4>", "[    1.234567]", "[    1.234567][    T1]".
PREFIX = re.compile(r'^(?:<\d+>)?(?:\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])?\s?)?')

# 6.12: "WARNING: CPU: 0 PID: 47 at file:line func+off/len"
# 7.3:  "WARNING: file:line at func+off/len, CPU#0: comm/pid"
WARN_SPLAT = re.compile(r'^WARNING: (?:CPU: \d+ PID: \d+ at (\S+)|(\S+:\d+) at \S+, CPU#\d+)')
WARN_HEADLINE = re.compile(r'^WARNING: (.*)')
END_TRACE = re.compile(r'---\[ end trace')
KTAP_RESULT = re.compile(r'^\s*(?:not )?ok \d+ ')
BEGIN_MARK = 'dshim: expected warning begin'
END_MARK = 'dshim: expected warning end'
PROJECT = re.compile(r'sched_shim/|\b(?:dshim|vgpu)_\w+')
LOCKING = re.compile(r'^kernel/locking/|/kernel/locking/')
REPORT_BORDER = re.compile(r'^={20,}\s*$')

# "BUG: KCSAN: data-race in A / B", "... data-race in A" (unknown origin),
# "BUG: KCSAN: assert: race in A / B"
KCSAN = re.compile(r'^BUG: KCSAN: [\w-]+(?:: race)? in ([\w.]+)(?:\s*/\s*([\w.]+))?')
KCSAN_CORE = 'KCSAN data race in core kernel code'

SUSPECTED = re.compile(r'kmemleak: \d+ new suspected memory leaks')

# (category, regex on the message with its printk prefix removed)
ALWAYS = [
    # UML's host side: the host kernel refused a ptrace request of UML's
    # process switch ("userspace - ptrace set fp regs failed, errno = 14")
    # (not "ptrace set regs failed": a guest process can cause that one
    # with a bad segment register)
    ('host', re.compile(r'^\S+ - ptrace set fp regs failed')),
    ('host', re.compile(r'get_fp_registers failed, errno')),
    # PID 1 exited or died (UML's userspace failing, or the init script
    # itself); before the generic panic, whose headline it also is
    ('init exited', re.compile(r'Attempted to kill init!')),
    ('KASAN', re.compile(r'^BUG: KASAN: ')),
    ('KCSAN', KCSAN),
    ('BUG', re.compile(r'^BUG: ')),
    ('kernel BUG', re.compile(r'kernel BUG at ')),
    ('Oops', re.compile(r'^(?:Oops|Internal error: Oops)\b')),
    ('Oops', re.compile(r'^general protection fault')),
    ('panic', re.compile(r'Kernel panic')),
    ('ODEBUG', re.compile(r'^ODEBUG: ')),
    ('kmemleak', re.compile(r'^(?:kmemleak: )?unreferenced object 0x[0-9a-f]+')),
    ('kmemleak', SUSPECTED),
    ('UBSAN', re.compile(r'^UBSAN: ')),
    ('hung task', re.compile(r'^INFO: task \S+ blocked for more than')),
    ('RCU stall', re.compile(r'rcu: INFO: \S+ detected (?:expedited )?stalls')),
    ('lockdep', re.compile(r'^INFO: trying to register non-static key')),
    ('lockdep', re.compile(r'DEBUG_LOCKS_WARN_ON\(')),
]

# What the reader of such a finding should know first.
HINTS = {
    'host': 'the host refused UML, not a bug of the kernel under test: '
            'see "Host requirements" in README.rst and scripts/host-xstate.py',
    'init exited': 'PID 1 of the test kernel died: after a "host" finding, '
                   'that is its consequence; alone, the init script failed',
}

MAX_CONTEXT = 60


class Finding:
    def __init__(self, category, lineno, lines):
        self.category = category
        self.lineno = lineno
        self.lines = lines

    def headline(self):
        return self.lines[0] if self.lines else ''


def strip(line):
    return PREFIX.sub('', line.rstrip('\r\n'), count=1)


# Lines not worth showing: unreliable "?" stack entries, raw stack words.
NOISE = re.compile(r'^\s*\[<[0-9a-f]+>\] \? |^\s*(?:[0-9a-f]{8,16} ){3}[0-9a-f]{8,16}\s*$')


def context(msgs, start):
    """The report starting at msgs[start]: up to its end-of-report line."""
    out = []
    for i in range(start, min(len(msgs), start + 4 * MAX_CONTEXT)):
        if len(out) >= MAX_CONTEXT:
            break
        m = msgs[i]
        if NOISE.match(m):
            continue
        # Lockdep headlines sit between ==== and ---- lines: skip those.
        if i > start + 2 and (END_TRACE.search(m) or REPORT_BORDER.match(m)):
            out.append(m)
            break
        if i > start and (KTAP_RESULT.match(m) or
                          any(rx.search(m) for _, rx in ALWAYS)):
            break
        out.append(m)
    return out


def warn_block(msgs, start):
    """Lines of a WARN() splat: from its headline to ---[ end trace."""
    end = start + 1
    limit = min(len(msgs), start + 400)
    while end < limit:
        if END_TRACE.search(msgs[end]):
            end += 1
            break
        if KTAP_RESULT.match(msgs[end]) or WARN_HEADLINE.match(msgs[end]) \
                or any(rx.search(msgs[end]) for _, rx in ALWAYS):
            break
        end += 1
    return msgs[start:end]


def project_symbol(name, symbols):
    """Whether function NAME (maybe NAME.cold, NAME.isra.0) is the project's."""
    base = name.split('.')[0]
    return bool(PROJECT.match(base)) or base in symbols


def scan(lines, symbols=frozenset()):
    """Findings in LINES; those of category KCSAN_CORE are only listed."""
    msgs = [strip(l) for l in lines]
    findings = []
    expected = False
    last_hit = -100
    for i, m in enumerate(msgs):
        if BEGIN_MARK in m:
            expected = True
            continue
        if END_MARK in m or KTAP_RESULT.match(m):
            expected = False
            continue

        hit = next((cat for cat, rx in ALWAYS if rx.search(m)), None)
        if hit == 'kmemleak' and SUSPECTED.search(m) and \
                any(f.category == 'kmemleak' for f in findings):
            continue  # the summary of objects already reported
        if hit == 'KCSAN':
            k = KCSAN.search(m)
            if not any(f and project_symbol(f, symbols) for f in k.groups()):
                hit = KCSAN_CORE
        if hit:
            # One finding per report: "BUG: KASAN" is not also "BUG:".
            findings.append(Finding(hit, i + 1, context(msgs, i)))
            last_hit = i
            continue

        w = WARN_SPLAT.match(m)
        if w:
            # debugobjects prints "ODEBUG: ..." and then WARNs: one report.
            if i - last_hit <= 3:
                continue
            block = warn_block(msgs, i)
            if LOCKING.search(w.group(1) or w.group(2)):
                findings.append(Finding('lockdep', i + 1, block[:MAX_CONTEXT]))
            elif expected:
                continue
            elif any(PROJECT.search(b) for b in block):
                shown = [b for b in block if not NOISE.match(b)]
                findings.append(Finding('WARNING in project code', i + 1,
                                        shown[:MAX_CONTEXT]))
            continue

        h = WARN_HEADLINE.match(m)
        if h:
            # Not a WARN() splat: lockdep ("possible circular locking
            # dependency detected", "inconsistent lock state", "possible
            # recursive locking detected", "bad unlock balance detected!",
            # "suspicious RCU usage", ...), never expected.
            findings.append(Finding('lockdep', i + 1, context(msgs, i)))
    return findings


def read_log(path):
    """A log's lines; undecodable bytes kept as escapes."""
    with open(path, encoding='utf-8', errors='backslashreplace') as f:
        return f.readlines()


def summary(findings):
    """'N reports' and the count of each category, in order of appearance."""
    cats = {}
    for f in findings:
        cats[f.category] = cats.get(f.category, 0) + 1
    n = len(findings)
    return (f'{n} report{"" if n == 1 else "s"}' +
            ''.join(f', {c} {k}' for c, k in cats.items()))


def main(argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    out = ap.add_mutually_exclusive_group()
    out.add_argument('-q', '--quiet', action='store_true',
                     help='print nothing, only set the exit status')
    out.add_argument('--counts', action='store_true',
                     help='print one line per log: the reports by category')
    ap.add_argument('--project-symbols', metavar='FILE',
                    help="the project's function names, one per line")
    ap.add_argument('logs', nargs='+', metavar='LOG')
    args = ap.parse_args(argv[1:])
    symbols = frozenset()
    if args.project_symbols:
        try:
            with open(args.project_symbols, encoding='utf-8') as f:
                symbols = frozenset(l.strip() for l in f if l.strip())
        except OSError as e:
            print(f'scan-log: cannot read {args.project_symbols}: {e.strerror}',
                  file=sys.stderr)
            return 2

    total = 0
    for path in args.logs:
        try:
            lines = read_log(path)
        except OSError as e:
            print(f'scan-log: cannot read {path}: {e.strerror}', file=sys.stderr)
            return 2
        found = scan(lines, symbols)
        listed = [f for f in found if f.category == KCSAN_CORE]
        findings = [f for f in found if f.category != KCSAN_CORE]
        total += len(findings)
        if args.quiet:
            continue
        if args.counts:
            print(f'{path}: {summary(findings)}' +
                  (f' ({len(listed)} listed, not failed)' if listed else ''))
            continue
        for f in listed:
            print(f'scan-log: listed, not failed: {f.category}, '
                  f'{path}:{f.lineno}: {f.headline()}')
        for f in findings:
            print(f'scan-log: {f.category} at {path}:{f.lineno}:')
            for line in f.lines:
                print(f'    {line}')
            if f.category in HINTS:
                print(f'    ({HINTS[f.category]})')
        if findings:
            print(f'scan-log: {len(findings)} splat(s) in {path}')
    return 1 if total else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
