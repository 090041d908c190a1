#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make patches: the project as a kernel patch series, and the proof that
# it applies and passes.
#
#  1. A pristine kernel tree: Debian's linux-source-K unpacked afresh
#     into $DSHIM_CACHE/K/patches/ (never the overlaid tree), made a git
#     repository whose base commit tracks the files the series modifies
#     (tracking all 80,000 would take minutes and prove nothing more).
#  2. The series, one logical step per commit on top of that base, with
#     Signed-off-by from your git config:
#       drm/sched-shim: add an ownership-explicit wrapper around drm_sched
#       drm/sched-shim: add KUnit tests with mock hardware
#       rust: drm: add an abstraction over the DRM scheduler shim
#       drm/sched-shim: add documentation
#       drm/sched-shim: add vgpu, a virtual GPU sample driver
#     written by git format-patch, with a cover letter, to
#     build/patches/K/.
#  3. checkpatch.pl --strict on every patch (commit messages included),
#     and the documentation page through Sphinx with the kernel's
#     kernel-doc extension, warnings as errors.
#  4. git am of the series onto the base, on a branch of its own; the
#     result must equal the series' tree. Then that tree is built with
#     its own drivers/gpu/drm/sched_shim/kunit/{.kunitconfig,e2e.kunitconfig}
#     and its KUnit
#     suites dshim* run and are judged as in make check (results and
#     kernel log).
#
# Ends with "patches: N passed, M failed" (one per step above). For each
# kernel of the run (KERNEL=all, the default: 6.12 and 7.3), then
# "patches K: ..." for each.
# PATCHES_VERIFY=0 skips step 4 (the kernel build).
set -euo pipefail
DSHIM_PROG=patches
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/passes.sh
. "$DSHIM_TOP/scripts/passes.sh"
[ -z "${KSRC:-}" ] || warn "KSRC is ignored: the series is made against Debian's pristine trees"
KSRC=
dshim_per_kernel 'patches: [0-9]' "$0" "$@"

top=$DSHIM_TOP
work=$DSHIM_KCACHE/patches
tree=$work/$DSHIM_TREE_NAME
out=$top/build/patches/$DSHIM_KERNEL
shim=drivers/gpu/drm/sched_shim
# Files of the kernel the series modifies: they are tracked by the base.
TOUCHED=(drivers/gpu/drm/Kconfig drivers/gpu/drm/Makefile
	rust/bindings/bindings_helper.h rust/kernel/lib.rs
	rust/helpers/helpers.c MAINTAINERS Documentation/gpu/index.rst)
passed=0
failed=0

step_ok() {
	passed=$((passed + 1))
	msg "ok   $*"
}
step_fail() {
	failed=$((failed + 1))
	msg "FAIL $*"
}

name=$(git -C "$top" config user.name) || die "set git config user.name"
email=$(git -C "$top" config user.email) || die "set git config user.email"
G=(git -C "$tree" -c "user.name=$name" -c "user.email=$email"
	-c core.autocrlf=false -c commit.gpgsign=false)

dshim_ready
lock_cache
[ -f "$DSHIM_TARBALL" ] || die "$DSHIM_TARBALL not found: run make setup"

# --- 1. the pristine tree and its base commit
if ! [ -f "$tree/.dshim-pristine" ] || ! "${G[@]}" rev-parse -q --verify base >/dev/null; then
	msg "unpacking a pristine $DSHIM_TREE_NAME into $work (once)"
	need_space "$DSHIM_CACHE" 2560 "a pristine kernel tree and its build"
	rm -rf "$work"
	mkdir -p "$work"
	tar -C "$work" -xf "$DSHIM_TARBALL"
	[ -d "$tree" ] || die "$DSHIM_TARBALL did not unpack to $DSHIM_TREE_NAME/"
	git -C "$tree" init -q
	for f in "${TOUCHED[@]}"; do
		[ -e "$tree/$f" ] && "${G[@]}" add -f -- "$f"
	done
	"${G[@]}" commit -q -m "base: Debian $DSHIM_TREE_NAME ($(basename "$DSHIM_TARBALL"))"
	"${G[@]}" branch -f base
	touch "$tree/.dshim-pristine"
fi
# The test kernel's UML host fixes (scripts/uml-fixes/), outside git and
# so never in the series: the base commit tracks only the TOUCHED files.
uml_fixes_apply "$tree"
# The project's Rust files and where the series puts each in the tree,
# "SOURCE DESTINATION" per line: the kernel crate's module and helpers
# under rust/, the mock driver (rust/Kbuild, rust/*.rs) next to the C
# tests, as the overlay has them.
rust_files_in_tree() {
	local f
	while IFS= read -r f; do
		case $f in
		rust/kernel/* | rust/helpers/*) echo "$f $f" ;;
		rust/*) echo "$f $shim/$f" ;;
		esac
	done < <(cd "$top" && git ls-files -co --exclude-standard rust)
}

# Back to the base: a previous run's files leave with its branches, and
# the leftovers of an interrupted one by hand (never git clean: the rest
# of the tree is untracked on purpose).
"${G[@]}" checkout -q -f base
rm -rf "${tree:?}/$shim" "$tree/include/drm/drm_sched_shim.h" \
	"$tree/include/uapi/drm/vgpu_drm.h" \
	"$tree/Documentation/gpu/drm-sched-shim.rst"
while read -r _ dst; do
	rm -f "${tree:?}/$dst"
done < <(rust_files_in_tree)

# --- 2. the series
"${G[@]}" checkout -q -B dshim-series base

# commit FILE...: the files or directories named, nothing else (the rest
# of the tree is untracked on purpose), message on stdin.
commit() {
	"${G[@]}" add -A -f -- "$@"
	"${G[@]}" commit -q -s -F -
}

# kconfig_kbuild SYMBOL...: the project's Kconfig and Kbuild in the tree,
# without the config blocks of SYMBOL... and the Kbuild lines using them.
kconfig_kbuild() {
	"$PYTHON" - "$top" "$tree/$shim" "$@" <<'EOF'
import re, sys
top, dst, drop = sys.argv[1], sys.argv[2], set(sys.argv[3:])
blocks = re.split(r'\n(?=config )', open(f'{top}/Kconfig').read())
keep = [b for b in blocks
        if not (b.startswith('config ') and b.split()[1] in drop)]
open(f'{dst}/Kconfig', 'w').write('\n'.join(keep).rstrip('\n') + '\n')
lines = open(f'{top}/Kbuild').read().splitlines()
keep = [l for l in lines if not any(f'CONFIG_{d})' in l for d in drop)]
open(f'{dst}/Kbuild', 'w').write('\n'.join(keep) + '\n')
EOF
}

maintainers_entry() {
	"$PYTHON" - "$tree/MAINTAINERS" "$name <$email>" "$@" <<'EOF'
import sys
path, who, files = sys.argv[1], sys.argv[2], sys.argv[3:]
entry = ['DRM GPU SCHEDULER SHIM', f'M:\t{who}',
         'L:\tdri-devel@lists.freedesktop.org', 'S:\tMaintained']
# one F: per directory of ours: a file inside one is covered by it
dirs = {f for f in files if f.endswith('/')}
pats = set()
for f in files:
    if '/drm_sched_shim/' in f:
        f = f[:f.index('/drm_sched_shim/') + len('/drm_sched_shim/')]
    if f in dirs or not any(f.startswith(d) for d in dirs):
        pats.add(f)
entry += [f'F:\t{f}' for f in sorted(pats)]
lines = open(path).read().split('\n')
# drop an entry from an earlier patch of the series, then insert sorted
try:
    i = lines.index(entry[0])
    j = i
    while j < len(lines) and lines[j]:
        j += 1
    del lines[i:j + 1]
except ValueError:
    pass
i = lines.index('DRM GPU SCHEDULER') + 1
while lines[i]:
    i += 1
lines[i + 1:i + 1] = entry + ['']
open(path, 'w').write('\n'.join(lines))
EOF
}

# patch 1: the library
mkdir -p "$tree/$shim"
cp -r "$top/c-shim" "$tree/$shim/"
cp "$top/include/drm/drm_sched_shim.h" "$tree/include/drm/"
# Kconfig and Kbuild without what the tests and Rust add later
kconfig_kbuild DRM_SCHED_SHIM_KUNIT_TEST DRM_SCHED_SHIM_RAW_REPRO \
	DRM_SCHED_SHIM_BENCH DRM_SCHED_SHIM_RUST_KUNIT_TEST DRM_VGPU \
	DRM_VGPU_KUNIT_TEST
"$PYTHON" "$top/scripts/tree-edit.py" --only c "$tree" >/dev/null
maintainers_entry "$shim/" include/drm/drm_sched_shim.h
commit "$shim" include/drm/drm_sched_shim.h drivers/gpu/drm/Kconfig \
	drivers/gpu/drm/Makefile MAINTAINERS <<'EOF'
drm/sched-shim: add an ownership-explicit wrapper around drm_sched

drm_sched leaves its users lifetime rules that no type states: no
drm_sched_fini() while jobs are on the hardware, killed entities free
their jobs later from a work item, the scheduler's fences read the
scheduler for their names, the last reference to a queue must not be
dropped inside free_job(), and a fence that pins the scheduler pins its
workqueue and firmware state too. Drivers with one scheduler per
userspace queue, torn down when a process dies, meet all of them.

Add a thin library over drm_sched whose scheduler, entity, queue, job
and fence handles are reference counted. Any reference may be dropped
in any order from any context: the heavy teardown (drm_sched_fini()
included) runs on the shim's own workqueue after the last job's free.
Exported fences are the shim's own, naming a counted timeline, so they
may outlive the scheduler; hardware fences come from the same helper, so
a driver implements no dma_fence_ops.

The shim is built in, never a module, so that the fence ops of fences
outliving every driver stay in the kernel image.
EOF

# patch 2: the tests
cp -r "$top/kunit" "$tree/$shim/"
rm "$tree/$shim/kunit/e2e.kunitconfig" # comes with vgpu
kconfig_kbuild DRM_SCHED_SHIM_RUST_KUNIT_TEST DRM_VGPU DRM_VGPU_KUNIT_TEST
commit "$shim" <<'EOF'
drm/sched-shim: add KUnit tests with mock hardware

Mock hardware completes jobs from an hrtimer (hardirq or softirq), on
demand, or never until cancel, and can drop the references a test hands
it from inside any callback. The suites dshim_* cover the API and its
bad input, every allocation failure point, a teardown matrix (what is
torn down first, the jobs' state, when the hardware signals, and where
the last reference is dropped: 135 cells), fences outliving their
scheduler and workqueues, and a torture test of queues created, killed
and dropped in parallel. Run them under KASAN, lockdep and debug objects:

  ./tools/testing/kunit/kunit.py run \
      --kunitconfig=drivers/gpu/drm/sched_shim/kunit/.kunitconfig

CONFIG_DRM_SCHED_SHIM_RAW_REPRO adds suites that play the same
scenarios on raw drm_sched and are expected to crash; never enable it
outside that comparison. CONFIG_DRM_SCHED_SHIM_BENCH adds dshim_bench,
which measures the shim against a raw drm_sched driver on the same mock
hardware (throughput, latency, teardown, cost per queue) and judges no
figure.
EOF

# patch 3: Rust, on 7.x only: the abstraction is written for 7.x's Rust
# (README, "Kernels"), so a 6.x series has four patches.
rust_files=()
norust=() # the Kconfig symbols of the Rust patch, where there is none
if [ "${DSHIM_KERNEL%%.*}" -lt 7 ]; then
	msg "no Rust patch for $DSHIM_KERNEL: the abstraction needs 7.x's Rust"
	norust=(DRM_SCHED_SHIM_RUST_KUNIT_TEST)
fi
[ "${DSHIM_KERNEL%%.*}" -lt 7 ] || while read -r f dst; do
	mkdir -p "$tree/$(dirname "$dst")"
	cp "$top/$f" "$tree/$dst"
	rust_files+=("$dst")
done < <(rust_files_in_tree)
if [ "${#rust_files[@]}" -gt 0 ]; then
	kconfig_kbuild DRM_VGPU DRM_VGPU_KUNIT_TEST
	rust_files+=("$shim/Kconfig" "$shim/Kbuild")
	"$PYTHON" "$top/scripts/tree-edit.py" --only rust "$tree" >/dev/null
	maintainers_entry "$shim/" include/drm/drm_sched_shim.h "${rust_files[@]}"
	edited=()
	for f in rust/bindings/bindings_helper.h rust/kernel/lib.rs rust/helpers/helpers.c; do
		"${G[@]}" diff --quiet -- "$f" 2>/dev/null || edited+=("$f")
	done
	commit "${rust_files[@]}" "${edited[@]}" MAINTAINERS <<'EOF'
rust: drm: add an abstraction over the DRM scheduler shim

Give Rust GPU drivers the scheduler shim through bindgen and a kernel
crate module, kernel::drm_sched_shim, tested by doctests that run as
KUnit cases under KASAN and lockdep. Teardown needs no rule the types do
not carry: every handle is counted, and dropping any of them in any
order, from any context, is what the C side already makes safe.
EOF
fi

# patch 4: documentation
cp "$top/Documentation/gpu/drm-sched-shim.rst" "$tree/Documentation/gpu/"
"$PYTHON" - "$tree/Documentation/gpu/index.rst" <<'EOF'
import sys
p = sys.argv[1]
lines = open(p).read().split('\n')
if '   drm-sched-shim' not in lines:
    lines.insert(lines.index('   drm-mm') + 1, '   drm-sched-shim')
open(p, 'w').write('\n'.join(lines))
EOF
maintainers_entry "$shim/" include/drm/drm_sched_shim.h "${rust_files[@]}" \
	Documentation/gpu/drm-sched-shim.rst
commit Documentation/gpu/drm-sched-shim.rst Documentation/gpu/index.rst \
	MAINTAINERS <<'EOF'
drm/sched-shim: add documentation

The ownership contract, the life of each object and the adoption guide
for drivers, pulled from the kernel-doc of the shim, in the GPU driver
developer's guide.
EOF

# patch 5: the vgpu sample driver and its end-to-end test's kernel config
mkdir -p "$tree/$shim/samples" "$tree/include/uapi/drm"
cp -r "$top/samples/vgpu" "$tree/$shim/samples/"
cp "$top/include/uapi/drm/vgpu_drm.h" "$tree/include/uapi/drm/"
cp "$top/kunit/e2e.kunitconfig" "$tree/$shim/kunit/"
kconfig_kbuild "${norust[@]}"
maintainers_entry "$shim/" include/drm/drm_sched_shim.h "${rust_files[@]}" \
	Documentation/gpu/drm-sched-shim.rst include/uapi/drm/vgpu_drm.h
commit "$shim" include/uapi/drm/vgpu_drm.h MAINTAINERS <<'EOF'
drm/sched-shim: add vgpu, a virtual GPU sample driver

A render node whose hardware completes each job after the time userspace
asks for, with one shim queue per userspace queue: in-fences from
syncobjs and sync files, out-fences as sync files, syncobjs and buffer
reservations, shmem buffers exported as dma-bufs. Closing the file, also
by SIGKILL, kills the file's queues and returns at once. Its uapi is
versioned: a struct of another size than the driver's, unknown flags,
non-zero pad and oversize arrays are refused with their own errno.

vgpu.raw=1 makes the same driver use drm_sched directly the way drivers
did in 2023, as the "before" picture: run the kill loop of the original
report against it (samples/vgpu/user/vgpu-client.c, with
kunit/e2e.kunitconfig) and the kernel reports use-after-free of
schedulers freed under their fences.
EOF

rm -rf "$out"
mkdir -p "$out"
"${G[@]}" format-patch -q --cover-letter --thread -o "$out" base..dshim-series
"$PYTHON" - "$out"/0000-cover-letter.patch "$DSHIM_KERNEL" "${#rust_files[@]}" <<'EOF'
import sys, textwrap
p, kernel, rust = sys.argv[1], sys.argv[2], sys.argv[3] != '0'
s = open(p).read()
patches = ['the library', 'its KUnit suites (a 135-cell teardown matrix '
           'and a torture test among them, all clean under KASAN, lockdep '
           'and debug objects)']
if rust:
    patches.append('the Rust abstraction')
patches += ['the documentation', 'a virtual GPU sample driver on the shim '
            'for end-to-end tests']
listed = ', '.join(f'patch {i} {w}' for i, w in enumerate(patches, 1))
listed = listed[0].upper() + listed[1:]
based = f"Based on Debian's linux-source-{kernel}"
if not rust:
    based += ("; drm_sched_init_args and the client id of "
              "drm_sched_job_init() are the only 6.15 interfaces it needs, "
              "and the Rust abstraction, written for 7.x's Rust, is left "
              "out")
s = s.replace('*** SUBJECT HERE ***',
              'drm/sched-shim: an ownership-explicit wrapper around drm_sched')
s = s.replace('*** BLURB HERE ***', '''\
Drivers that create a drm_sched scheduler per userspace queue and tear it
down when a process dies meet five lifetime rules that drm_sched does not
state in its types: no drm_sched_fini() with jobs on the hardware, killed
entities freeing their jobs later, fences reading the scheduler for their
names, no last put inside free_job(), and fences pinning the scheduler's
heavy state. This series adds a thin library that turns them into
reference counts: any handle may be dropped in any order from any
context, and exported fences never reference the scheduler.

''' + textwrap.fill(listed + '.', 72) + '\n\n' + textwrap.fill(based + '.', 72))
open(p, 'w').write(s)
EOF
msg "series: $(find "$out" -name '*.patch' | wc -l) files in $out"
step_ok "series written"

# --- 3. checkpatch on the patches
# FILE_PATH_CHANGES ("does MAINTAINERS need updating?") is raised for any
# patch that adds files and does not touch MAINTAINERS; patch 1 adds the
# entry whose F: lines cover every file the later patches add.
cp_out=$(cd "$tree" && ./scripts/checkpatch.pl --strict --terse --show-types \
	--ignore FILE_PATH_CHANGES "$out"/000[1-9]-*.patch 2>&1) || true
if grep -E ': (ERROR|WARNING|CHECK):' <<<"$cp_out" | grep -q .; then
	step_fail "checkpatch --strict on the series:"
	grep -E ': (ERROR|WARNING|CHECK):' <<<"$cp_out" | sed 's/^/    /'
else
	step_ok "checkpatch --strict on the series: clean"
fi

# --- 4. git am onto the base, build, KUnit
"${G[@]}" checkout -q -B dshim-applied base
if "${G[@]}" am -q "$out"/000[1-9]-*.patch; then
	if "${G[@]}" diff --quiet dshim-series dshim-applied; then
		step_ok "git am: $(git -C "$tree" rev-list --count base..dshim-applied) patches applied to a pristine tree"
	else
		step_fail "git am applied, but the tree differs from the series"
	fi
else
	"${G[@]}" am --abort || true
	step_fail "git am: the series does not apply"
fi

# The documentation page as the kernel's Sphinx would build it: its
# kernel-doc extension over the patched tree, warnings as errors.
docs_check() {
	local d
	d=$(mktemp -d)
	mkdir "$d/src"
	cp "$tree/Documentation/gpu/drm-sched-shim.rst" "$d/src/index.rst"
	cat >"$d/src/conf.py" <<EOF
import sys
sys.path.insert(0, '$tree/Documentation/sphinx')
extensions = ['kerneldoc']
kerneldoc_bin = '$tree/scripts/kernel-doc'
kerneldoc_srctree = '$tree'
project = 'drm-sched-shim'
EOF
	# 7.x's kerneldoc extension finds its Python library through srctree
	if srctree=$tree sphinx-build -q -W -b html "$d/src" "$d/out" >"$d/log" 2>&1; then
		step_ok "Documentation/gpu/drm-sched-shim.rst: sphinx-build -W clean"
	else
		sed 's/^/    /' "$d/log" | tail -n 20
		step_fail "Documentation/gpu/drm-sched-shim.rst: sphinx-build -W"
	fi
	rm -rf "$d"
}
docs_check

if [ "${PATCHES_VERIFY:-1}" = 1 ] && [ "$failed" = 0 ]; then
	PASS_PROBLEMS=()
	PATCHES_TREE=$tree
	export PATCHES_TREE
	if pass_build patches "$tree"; then
		PASS_PASSED=0 PASS_FAILED=0 n=0
		while read -r -u 7 glob args; do
			# shellcheck disable=SC2086 # kernel arguments, one per word
			pass_boot patches "$glob" "$n" "$DSHIM_LOGS/patches-kunit-$n.txt" $args
			pass_judge patches "$glob" 0
			n=$((n + 1))
		done 7< <(pass_boot_plan patches 'dshim*')
		if [ "$PASS_FAILED" = 0 ] && [ "${#PASS_PROBLEMS[@]}" = 0 ]; then
			step_ok "KUnit in the patched tree: $PASS_PASSED passed, 0 failed"
		else
			printf '  %s\n' "${PASS_PROBLEMS[@]}"
			step_fail "KUnit in the patched tree: $PASS_PASSED passed, $PASS_FAILED failed"
		fi
	else
		printf '  %s\n' "${PASS_PROBLEMS[@]}"
		step_fail "build of the patched tree"
	fi
fi

echo "patches: $passed passed, $failed failed"
[ "$failed" = 0 ]
