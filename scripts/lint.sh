#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make lint: the checks a kernel maintainer runs before reading a patch.
#
#   checkpatch  scripts/checkpatch.pl --strict on every C source, header,
#               Kconfig and Kbuild file of the project (no errors, no
#               warnings, no checks; the ignores are CHECKPATCH_IGNORE)
#   kernel-doc  scripts/kernel-doc -none -Wall on the shim and its header
#   sparse-w1   the project's objects rebuilt with C=2 (sparse) and W=1 in
#               the C pass's build dir of each kernel (KERNEL=, default
#               both): no warning from project code
#   rust        scripts/lint-rust.sh (rustfmt, clippy), when it exists
#   scripts     scripts/*.sh and .ci/run through ShellCheck
#   docs        README.rst through rst2html --halt=warning
#
# LINT_ONLY="checkpatch kernel-doc ..." runs a subset (the lint self-test
# uses it). Ends with "lint: N passed, M failed"; exit 1 on any failure.
set -euo pipefail
DSHIM_PROG=lint
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# checkpatch types not enforced, each with its reason; empty today.
CHECKPATCH_IGNORE=""

STAGES=(checkpatch kernel-doc sparse-w1 rust scripts docs)
only=${LINT_ONLY:-${STAGES[*]}}
passed=0
failed=0
top=$DSHIM_TOP

wanted() { [[ " $only " == *" $1 "* ]]; }

# stage NAME CMD...: run one check (if LINT_ONLY wants NAME); its label
# is NAME, plus the kernel in STAGE_KERNEL if set.
stage() {
	local name=$1 out rc=0 label=$1${STAGE_KERNEL:+ $STAGE_KERNEL}
	shift
	wanted "$name" || return 0
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1))
		msg "ok   $label"
	else
		failed=$((failed + 1))
		msg "FAIL $label"
		printf '%s\n' "$out" | head -n 60 | sed 's/^/    /'
	fi
}

c_files() {
	(cd "$top" && ls c-shim/*.[ch] include/drm/*.h include/uapi/drm/*.h \
		kunit/*.[ch] samples/vgpu/*.[ch] samples/vgpu/user/*.c \
		rust/helpers/*.c Kconfig Kbuild c-shim/Kbuild kunit/Kbuild \
		samples/vgpu/Kbuild rust/Kbuild 2>/dev/null)
}

run_checkpatch() {
	local tree=$1 out
	local -a ign=()
	[ -z "$CHECKPATCH_IGNORE" ] || ign=(--ignore "$CHECKPATCH_IGNORE")
	mapfile -t files < <(c_files)
	out=$(cd "$top" && "$tree/scripts/checkpatch.pl" --strict --no-tree \
		--show-types --terse "${ign[@]}" -f "${files[@]}" 2>&1) || true
	# --terse: one line per finding, then "total: ..." per file.
	if grep -v '^total: 0 errors, 0 warnings, 0 checks' <<<"$out" | grep -q .; then
		grep -v '^total: 0 errors' <<<"$out"
		return 1
	fi
}

run_kernel_doc() {
	local tree=$1 out
	out=$(cd "$top" && "$tree/scripts/kernel-doc" -none -Wall \
		c-shim/*.c include/drm/drm_sched_shim.h samples/vgpu/*.[ch] \
		include/uapi/drm/vgpu_drm.h 2>&1)
	[ -z "$out" ] || {
		echo "$out"
		return 1
	}
}

# sparse_fits TREE: the installed sparse can check TREE (the kernel's own
# test: 7.x needs __typeof_unqual__, which Debian 12's sparse 0.6.4 lacks,
# and then its Makefile turns C=2 off).
sparse_fits() {
	local tree=$1 arch_flags='--arch=um -mlittle-endian -m64'
	[ -f "$tree/scripts/checker-valid.sh" ] || return 0
	# shellcheck disable=SC2086 # the checker's flags, one per word
	[ "$(sh "$tree/scripts/checker-valid.sh" sparse $arch_flags 2>/dev/null)" = 1 ]
}

# Rebuild the project's objects with sparse and W=1 in the C build dir
# (configured by make check's C pass; configured here if it is not); W=1
# alone where the installed sparse cannot check the tree (sparse_fits).
run_sparse_w1() {
	local tree=$1 bd log check=C=2 want=CHECK
	bd=$(dshim_build_dir c)
	if [ ! -f "$bd/.config" ]; then
		# shellcheck source=scripts/passes.sh
		. "$DSHIM_TOP/scripts/passes.sh"
		PASS_PROBLEMS=()
		pass_build c "$tree" || return 1
	fi
	log=$DSHIM_LOGS/lint-sparse-w1.log
	mkdir -p "$(dirname "$log")"
	if ! sparse_fits "$tree"; then
		check=C=0 want=CC
		# W=1 alone rebuilds nothing already built with it: start the
		# project's objects afresh (in the build dir, not the tree)
		find "$bd/drivers/gpu/drm/sched_shim" -name '*.o' -delete 2>/dev/null || true
	fi
	# Touch nothing: W=1 and C=2 force the rebuild of the named dir only.
	make -C "$tree" ARCH=um O="$bd" --jobs="$JOBS" W=1 "$check" \
		drivers/gpu/drm/sched_shim/ >"$log" 2>&1 || {
		tail -n 30 "$log"
		return 1
	}
	if grep -E 'sched_shim/.*(warning|error):' "$log"; then
		return 1
	fi
	# sparse (or, without it, the compiler) ran on the project's objects
	grep -q "$want .*sched_shim/" "$log" || {
		echo "$([ "$want" = CHECK ] && echo sparse || echo gcc) did not run (no $want lines in $log)"
		return 1
	}
}

run_rust() {
	if [ -x "$top/scripts/lint-rust.sh" ]; then
		"$top/scripts/lint-rust.sh"
	else
		echo "scripts/lint-rust.sh missing"
		return 1
	fi
}

run_shellcheck() {
	(cd "$top" && shellcheck scripts/*.sh .ci/run)
}

run_docs() {
	(cd "$top" && rst2html --halt=warning README.rst >/dev/null)
}

dshim_ready
mapfile -t kernels < <(dshim_kernels)
# sparse and the Rust lint build the overlaid trees; checkpatch and
# kernel-doc only need the newest one's scripts, the strictest (7.3's
# checkpatch asks for kzalloc_obj(), say; the lint self-test runs them
# from a copy of the project, which must not re-point the overlay).
for k in "${kernels[@]}"; do
	dshim_use_kernel "$k"
	tree=$(dshim_tree)
	if wanted sparse-w1 || { wanted rust && [ "${k%%.*}" -ge 7 ]; } ||
		{ [ "$k" = "${kernels[-1]}" ] && [ ! -x "$tree/scripts/checkpatch.pl" ]; }; then
		lock_cache
		"$top/scripts/prepare-tree.sh"
	fi
done
dshim_use_kernel "${kernels[-1]}"
tree=$(dshim_tree)

stage checkpatch run_checkpatch "$tree"
stage kernel-doc run_kernel_doc "$tree"
for k in "${kernels[@]}"; do
	dshim_use_kernel "$k"
	label=$k
	sparse_fits "$(dshim_tree)" ||
		label+=" (W=1 only: sparse $(version_of sparse --version) cannot check $k)"
	STAGE_KERNEL=$label stage sparse-w1 run_sparse_w1 "$(dshim_tree)"
done
# in the Rust pass's build, which only 7.x kernels have
for k in "${kernels[@]}"; do
	[ "${k%%.*}" -ge 7 ] || continue
	dshim_use_kernel "$k"
	stage rust run_rust
	break
done
stage scripts run_shellcheck
stage docs run_docs

echo "lint: $passed passed, $failed failed"
[ "$failed" = 0 ]
