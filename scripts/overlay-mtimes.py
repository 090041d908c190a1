#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Give the overlaid project files modification times that say whether
their content changed since the kernel tree last saw them.

    overlay-mtimes.py STAMPS TOP PATH...

make decides what to rebuild from modification times alone. A fresh
clone's files are all newer than the cache's objects, so every build
dir rebuilt the project and relinked the kernel (about four minutes of
a warm two-kernel `make check`); and a clone whose files are older
than objects built from another clone's content left those objects
stale (a Rust build kept bindings of an older header).

STAMPS (one per kernel tree, in the cache) holds "sha256 mtime path"
for every file under PATH... (relative to TOP) as the tree last saw it.
Now, for each file:

  - same content as stamped: its mtime becomes the stamped one, so the
    objects built since are up to date;
  - new or changed content: its mtime becomes now, so every object of
    an older content is rebuilt, whatever the clone's own mtimes say.

Then STAMPS is rewritten. The files' content is never touched.
"""

import hashlib
import os
import sys
import time


def files_under(top, paths):
    for p in paths:
        full = os.path.join(top, p)
        if os.path.isfile(full):
            yield p
            continue
        for root, dirs, names in os.walk(full):
            dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
            for n in sorted(names):
                if not n.startswith('.'):
                    yield os.path.relpath(os.path.join(root, n), top)


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 16), b''):
            h.update(block)
    return h.hexdigest()


def main(argv):
    if len(argv) < 4:
        print(f'usage: {argv[0]} STAMPS TOP PATH...', file=sys.stderr)
        return 2
    stamps_file, top, paths = argv[1], argv[2], argv[3:]
    old = {}
    try:
        with open(stamps_file) as f:
            for line in f:
                digest, mtime, path = line.rstrip('\n').split(' ', 2)
                old[path] = (digest, int(mtime))
    except (FileNotFoundError, ValueError):
        old = {}
    now = time.time_ns()
    new, kept, changed = [], 0, 0
    for path in files_under(top, paths):
        full = os.path.join(top, path)
        digest = sha256(full)
        stamp = old.get(path)
        if stamp and stamp[0] == digest:
            mtime = stamp[1]
            kept += 1
        else:
            mtime = now
            changed += 1
        if os.stat(full).st_mtime_ns != mtime:
            os.utime(full, ns=(mtime, mtime))
        new.append(f'{digest} {mtime} {path}\n')
    tmp = stamps_file + '.tmp'
    with open(tmp, 'w') as f:
        f.writelines(new)
    os.replace(tmp, stamps_file)
    print(f'{kept} unchanged, {changed} new or changed')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
