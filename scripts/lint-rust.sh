#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# rustfmt and clippy for the project's Rust code, in the Rust pass's build
# dir ($DSHIM_CACHE/7.3/build-rust: run `make check PASS=rust` once first).
#
#   1. the kernel's `make rustfmtcheck` over the tree, then the same check
#      (rustfmt --check, the kernel's .rustfmt.toml) on the project's own
#      files, which the kernel's target skips: its `find -type f` does not
#      follow the overlay's symlinks;
#   2. a CLIPPY=1 build of the kernel crate (drm_sched_shim is a module of
#      it), of the Rust mock driver and of rvgpu (samples/rvgpu/). Every clippy or rustc warning whose
#      location is a project file fails the run; warnings elsewhere in the
#      kernel are not ours and are only counted.
#
# The clippy build rewrites the kernel crate's objects; the next
# `make check` rebuilds them with rustc (about a minute).
set -euo pipefail
DSHIM_PROG=lint-rust
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/passes.sh
. "$DSHIM_TOP/scripts/passes.sh"

# Debian's tools, matching /usr/bin/rustc (rustup's come first in PATH
# and cannot read the kernel crate's metadata).
RUSTFMT=/usr/bin/rustfmt
CLIPPY_DRIVER=/usr/bin/clippy-driver
for t in "$RUSTFMT" "$CLIPPY_DRIVER"; do
	[ -x "$t" ] || die "$t not found: install Debian's rustfmt-web and rust-web-clippy (make setup)"
done

tree=$(dshim_tree)
bd=$(dshim_build_dir rust)
if [ ! -f "$bd/.config" ] || [ ! -f "$bd/rust/libkernel.rmeta" ]; then
	die "$bd is not built yet: run 'make check PASS=rust' first"
fi
lock_cache
"$DSHIM_SCRIPTS/prepare-tree.sh"
mkdir -p "$DSHIM_LOGS"

# Every .rs file of the project (rust/, and rvgpu in samples/).
mapfile -t files < <(cd "$DSHIM_TOP" && find rust samples -name '*.rs' | sort)
[ "${#files[@]}" -gt 0 ] || die "no Rust files found in $DSHIM_TOP"
mapfile -t mo < <(pass_make_options rust)
fail=0

msg "rustfmt: the kernel's rustfmtcheck ($tree)"
if ! make -C "$tree" O="$bd" ARCH=um "${mo[@]}" RUSTFMT="$RUSTFMT" rustfmtcheck \
	>"$DSHIM_LOGS/lint-rustfmt.log" 2>&1; then
	sed 's/^/    /' "$DSHIM_LOGS/lint-rustfmt.log" | head -n 40
	msg "rustfmt: the kernel tree's own files are not formatted (not ours; see above)"
fi
msg "rustfmt: ${#files[@]} project files"
if ! (cd "$DSHIM_TOP" && "$RUSTFMT" --check --config-path "$tree/.rustfmt.toml" \
	"${files[@]}"); then
	msg "rustfmt: project files need formatting (run rustfmt with --config-path $tree/.rustfmt.toml)"
	fail=1
fi

msg "clippy: CLIPPY=1 build of rust/, the mock driver and rvgpu in $bd"
log=$DSHIM_LOGS/lint-clippy.log
if ! make -C "$tree" O="$bd" ARCH=um --jobs="$JOBS" "${mo[@]}" CLIPPY=1 \
	CLIPPY_DRIVER="$CLIPPY_DRIVER" rust/ drivers/gpu/drm/sched_shim/rust/ \
	drivers/gpu/drm/sched_shim/samples/rvgpu/ >"$log" 2>&1; then
	grep -E -B2 -A12 '^error' "$log" | head -n 60 | sed 's/^/    /'
	msg "clippy: the build failed (log: $log)"
	fail=1
fi
# A diagnostic runs from its "warning"/"error" line to the next blank
# line; ours name a project file in their "-->" line.
ours=$(awk '
	function flush() { if (ours) printf "%s\n\n", blk; blk = ""; ours = 0; inblk = 0 }
	/^(warning|error)/ { flush(); blk = $0; inblk = 1; next }
	inblk && /^$/ { flush(); next }
	inblk { blk = blk "\n" $0; if ($0 ~ /--> [^ ]*(drm_sched_shim|dshim_rust_mock|samples\/rvgpu)/) ours = 1 }
	END { flush() }' "$log")
all=$(grep -c '^warning' "$log" || true)
if [ -n "$ours" ]; then
	printf '%s\n\n' "$ours" | sed 's/^/    /'
	msg "clippy: $(grep -c '^\(warning\|error\)' <<<"$ours") diagnostic(s) in project code (log: $log)"
	fail=1
else
	msg "clippy: no warning in project code ($all elsewhere in the kernel)"
fi

[ "$fail" = 0 ] || die "Rust lint failed"
msg "clean"
