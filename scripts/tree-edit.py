#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Wire the shim into a kernel tree: the five one-line edits.

    tree-edit.py KERNEL_TREE            add the lines
    tree-edit.py --remove KERNEL_TREE   take them out again
    tree-edit.py --only c|rust KERNEL_TREE
                                        add only the C (drivers/gpu/drm)
                                        or Rust lines (make patches puts
                                        them in different patches)

Each edit is idempotent (a line already in place is left alone and the
file is not rewritten, so make sees no change; the bindings include that
older versions put outside 7.3's include list is moved into it) and checks
that its anchor exists; every anchor is checked before any file is touched,
and a missing one fails with a clear message. Files are replaced atomically
(write a temporary file next to it, then rename), so an interrupted run
never leaves a half-written file behind.
"""

import os
import re
import sys

KCONFIG_LINE = 'source "drivers/gpu/drm/sched_shim/Kconfig"'
MAKEFILE_LINE = 'obj-$(CONFIG_DRM_SCHED_SHIM) += sched_shim/'
BINDINGS_LINE = '#include <drm/drm_sched_shim.h>'
# what the abstraction's interop (rust/kernel/drm_sched_shim/interop.rs)
# calls, in 7.3's bindings:
# bindings_helper.h has neither. Marked as ours, so that --remove leaves a
# tree whose own list has them as it was.
BINDINGS_MORE = ['#include <drm/drm_syncobj.h> /* drm-sched-shim */',
                 '#include <linux/sync_file.h> /* drm-sched-shim */']
# rvgpu's uapi structs, as kernel::uapi::drm_vgpu_*
UAPI_LINE = '#include <uapi/drm/vgpu_drm.h>'
LIBRS_LINES = ['#[cfg(CONFIG_DRM_SCHED_SHIM)]', 'pub mod drm_sched_shim;']
HELPERS_LINE = '#include "drm_sched_shim.c"'


class EditError(Exception):
    pass


def read_lines(path):
    try:
        with open(path, encoding='utf-8') as f:
            return f.read().split('\n')
    except OSError as e:
        raise EditError(f'cannot read {path}: {e.strerror}') from e


def write_lines(path, lines):
    tmp = f'{path}.dshim-tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines))
    os.chmod(tmp, os.stat(path).st_mode & 0o7777)
    os.replace(tmp, path)


def edit_kconfig(path):
    """Source our Kconfig right after the `config DRM_SCHED` block."""
    lines = read_lines(path)
    if KCONFIG_LINE in (l.strip() for l in lines):
        return None
    try:
        start = lines.index('config DRM_SCHED')
    except ValueError:
        raise EditError(f'{path}: anchor line "config DRM_SCHED" not found; '
                        'is this a 6.12+ kernel tree?') from None
    end = start + 1
    # The block is the indented lines after the `config` line.
    while end < len(lines) and lines[end][:1] in ('\t', ' '):
        end += 1
    lines[end:end] = ['', KCONFIG_LINE]
    return lines


def edit_makefile(path):
    """Add our obj- line right after the scheduler/ one."""
    lines = read_lines(path)
    if MAKEFILE_LINE in (l.strip() for l in lines):
        return None
    anchor = re.compile(r'^obj-\$\(CONFIG_DRM_SCHED\)\s*\+=\s*scheduler/\s*$')
    for i, line in enumerate(lines):
        if anchor.match(line):
            lines.insert(i + 1, MAKEFILE_LINE)
            return lines
    raise EditError(f'{path}: anchor line "obj-$(CONFIG_DRM_SCHED) += scheduler/" '
                    'not found; is this a 6.12+ kernel tree?')


def add_include(path, lines, line):
    """@lines with @line in their #include <...> list (@path: for errors).

    The list is the longest block of consecutive #include <...> lines: 7.3's
    bindings header opens with a block of its own (an enum workaround for
    bindgen, whose include must come first) before the list. In the list
    the line goes right after the last include that sorts before it (7.3's
    list is not sorted throughout), or first. A line an older version of
    this script put outside the list is moved into it."""
    rest = [l for l in lines if l.strip() != line]
    includes = [i for i, l in enumerate(rest) if l.startswith('#include <')]
    if not includes:
        raise EditError(f'{path}: no "#include <...>" lines found; '
                        'is this the Rust bindings helper of a 6.12+ tree?')
    blocks = [[includes[0]]]
    for i in includes[1:]:
        if i == blocks[-1][-1] + 1:
            blocks[-1].append(i)
        else:
            blocks.append([i])
    block = max(blocks, key=len)  # the first of the longest
    before = [i for i in block if rest[i] < line]
    where = before[-1] + 1 if before else block[0]
    return rest[:where] + [line] + rest[where:]


def edit_bindings_helper(path):
    """Include our header, and those the interop needs, in the bindings."""
    lines = read_lines(path)
    new = add_include(path, lines, BINDINGS_LINE)
    for line in BINDINGS_MORE:
        header = line.split()[1]
        if not any(l.split()[1:2] == [header] for l in new
                   if l.startswith('#include <')):
            new = add_include(path, new, line)
    return None if new == lines else new


def edit_uapi_helper(path):
    """Include vgpu's uapi header in the kernel crate's uapi bindings."""
    lines = read_lines(path)
    new = add_include(path, lines, UAPI_LINE)
    return None if new == lines else new


def insert_sorted(path, lines, pattern, key, new, what, kind,
                  above_attrs=False):
    """Insert @new among the lines matching @pattern, sorted by their first
    group against @key; above_attrs: also above that line's #[...] lines.
    @what names those lines and @kind the file in the error."""
    rx = re.compile(pattern)
    hits = [i for i, l in enumerate(lines) if rx.match(l)]
    if not hits:
        raise EditError(f'{path}: no {what} lines found; '
                        f'is this the {kind} of a 6.12+ tree?')
    where = hits[-1] + 1
    for i in hits:
        if rx.match(lines[i]).group(1) > key:
            where = i
            while above_attrs and where > 0 and lines[where - 1].startswith('#['):
                where -= 1
            break
    lines[where:where] = new
    return lines


def edit_lib_rs(path):
    """Register `pub mod drm_sched_shim;` in the kernel crate, sorted."""
    lines = read_lines(path)
    if LIBRS_LINES[1] in (l.strip() for l in lines):
        return None
    # above the attributes (#[cfg(...)], #[doc(...)]) of the next mod
    return insert_sorted(path, lines, r'^pub mod ([a-z0-9_]+);\s*$',
                         'drm_sched_shim', LIBRS_LINES,
                         'top-level "pub mod ...;"', 'kernel crate',
                         above_attrs=True)


def edit_helpers(path):
    """Include our Rust helpers in rust/helpers/helpers.c, sorted."""
    lines = read_lines(path)
    if HELPERS_LINE in (l.strip() for l in lines):
        return None
    return insert_sorted(path, lines, r'^#include "([^"]+)"\s*$',
                         'drm_sched_shim.c', [HELPERS_LINE],
                         '\'#include "....c"\'', 'Rust helpers file')


def remove_lines(path):
    """Take out what the edits above added; None when nothing to do."""
    if not os.path.exists(path):
        return None
    lines = read_lines(path)
    out = []
    changed = False
    for line in lines:
        s = line.strip()
        if s == KCONFIG_LINE:
            if out and out[-1] == '':
                out.pop()
            changed = True
        elif s == LIBRS_LINES[1]:
            if out and out[-1] == LIBRS_LINES[0]:
                out.pop()
            changed = True
        elif s in [MAKEFILE_LINE, BINDINGS_LINE, HELPERS_LINE, UAPI_LINE] + BINDINGS_MORE:
            changed = True
        else:
            out.append(line)
    return out if changed else None


# (part, file, edit)
EDITS = [
    ('c', 'drivers/gpu/drm/Kconfig', edit_kconfig),
    ('c', 'drivers/gpu/drm/Makefile', edit_makefile),
    ('rust', 'rust/bindings/bindings_helper.h', edit_bindings_helper),
    ('rust', 'rust/uapi/uapi_helper.h', edit_uapi_helper),
    ('rust', 'rust/kernel/lib.rs', edit_lib_rs),
    ('rust', 'rust/helpers/helpers.c', edit_helpers),
]


def main(argv):
    args = argv[1:]
    remove = bool(args) and args[0] == '--remove'
    if remove:
        args = args[1:]
    only = None
    if len(args) == 3 and args[0] == '--only' and args[1] in ('c', 'rust'):
        only = args[1]
        args = args[2:]
    if len(args) != 1:
        print(f'usage: {argv[0]} [--remove | --only c|rust] KERNEL_TREE',
              file=sys.stderr)
        return 2
    tree = args[0]
    # Check every anchor before touching any file.
    todo = []
    try:
        for part, rel, edit in EDITS:
            if only and part != only:
                continue
            path = os.path.join(tree, rel)
            lines = remove_lines(path) if remove else edit(path)
            if lines is not None:
                todo.append((rel, path, lines))
    except EditError as e:
        print(f'tree: error: {e}', file=sys.stderr)
        return 1
    for rel, path, lines in todo:
        write_lines(path, lines)
        print(f'tree: {"unwired" if remove else "wired"} {rel}')
    return 0

if __name__ == '__main__':
    sys.exit(main(sys.argv))
