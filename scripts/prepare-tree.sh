#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Get a kernel tree and overlay the project into it.
#
# For the current kernel K (DSHIM_KERNEL, lib.sh), without KSRC: unpack
# Debian's linux-source-K tarball (/usr/src/ for 6.12, fetched into the
# cache by setup.sh for 7.3) into $DSHIM_CACHE/K/linux-source-K (once;
# an interrupted unpack is detected and redone). With KSRC=/path: check
# that it is a clean 6.12+ tree.
# The unpacked tree gets the UML host fixes (scripts/uml-fixes/, see
# lib.sh); a KSRC tree is only checked for the need of them. Then,
# idempotently:
#
#   drivers/gpu/drm/sched_shim/{Kconfig,Kbuild,c-shim,kunit,rust,samples}
#                                                            -> project
#   include/drm/drm_sched_shim.h                             -> project
#   include/uapi/drm/vgpu_drm.h                              -> project
#   rust/kernel/drm_sched_shim{.rs,/}                        -> project
#   rust/helpers/drm_sched_shim.c                            -> project
#   + one line each in drivers/gpu/drm/{Kconfig,Makefile},
#     rust/bindings/bindings_helper.h, rust/kernel/lib.rs,
#     rust/helpers/helpers.c
#
# Symlinks, so editing a project file and re-running rebuilds only what
# changed; scripts/overlay-mtimes.py makes that hold across clones (a
# fresh clone rebuilds nothing it did not change, and an older clone's
# content is never mistaken for built). The tree itself is never built in (builds use O=), so it stays
# clean. Prints nothing but the tree's path on stdout with --print; with
# --all, prepares the tree of every kernel of the run (KERNEL=).
set -euo pipefail
DSHIM_PROG=tree
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

print_only=0
[ "${1:-}" = --print ] && print_only=1
# --all: every kernel of the run (KERNEL=), one after the other
if [ "${1:-}" = --all ]; then
	while IFS= read -r k; do
		DSHIM_KERNEL=$k "$0" || exit
	done < <(dshim_kernels)
	exit 0
fi

# Size of a build dir, plus slack; the unpacked tree is ~1.7 GB.
TREE_MIB=2048
BUILD_MIB=512

# The marker names the tarball the tree came from: a new linux-source-6.12
# package (a new 6.12.y) makes us unpack again.
tarball_id() {
	stat -c '%n %s %Y' "$DSHIM_TARBALL"
}

unpack_tree() {
	local tree=$1 tmp marker=$1/.dshim-unpacked
	if [ -f "$marker" ] && [ "$(cat "$marker")" = "$(tarball_id)" ]; then
		return 0
	fi
	[ -f "$DSHIM_TARBALL" ] ||
		die "$DSHIM_TARBALL not found: run make setup (it gets Debian's $DSHIM_TREE_NAME), or point KSRC= at a 6.12+ kernel tree"

	mkdir -p "$DSHIM_KCACHE"
	# Leftovers of an interrupted unpack.
	rm -rf "$DSHIM_KCACHE"/.unpack.*
	if [ -e "$tree" ]; then
		if [ -f "$marker" ]; then
			msg "$DSHIM_TARBALL changed since $tree was unpacked: unpacking it again"
		else
			msg "$tree is incomplete (interrupted unpack?): unpacking it again"
		fi
		# Not the tree itself: the rename below replaces it in one step.
		mv -T "$tree" "$DSHIM_KCACHE/.unpack.old"
		rm -rf "$DSHIM_KCACHE/.unpack.old"
	fi
	need_space "$DSHIM_KCACHE" $((TREE_MIB + 2 * BUILD_MIB)) "the kernel tree and two builds"
	tmp=$(mktemp -d "$DSHIM_KCACHE/.unpack.XXXXXX")
	msg "unpacking $DSHIM_TARBALL into $DSHIM_KCACHE (1.7 GB, about 10-30 s)"
	tar -C "$tmp" -xf "$DSHIM_TARBALL" ||
		die "unpacking $DSHIM_TARBALL failed (disk full?)"
	[ -d "$tmp/$DSHIM_TREE_NAME" ] ||
		die "$DSHIM_TARBALL has no top directory $DSHIM_TREE_NAME/"
	tarball_id >"$tmp/$DSHIM_TREE_NAME/.dshim-unpacked"
	mv -T "$tmp/$DSHIM_TREE_NAME" "$tree"
	rmdir "$tmp"
	# Build dirs of another tree hold objects newer than this tree's files
	# (tar keeps mtimes), which make would wrongly keep: start them afresh.
	rm -rf "$DSHIM_KCACHE"/build-*
	msg "unpacked $(head -n 5 "$tree/Makefile" | awk '/^(VERSION|PATCHLEVEL|SUBLEVEL)/ { printf "%s%s", sep, $3; sep = "." }') into $tree"
}

# Caches from before 7.3 (2026-12) held one kernel at their top level:
# its tree moves to its kernel's dir; its builds, which name the old
# paths, go.
migrate_old_layout() {
	local old=$DSHIM_CACHE/linux-source-6.12 d
	[ -f "$old/.dshim-unpacked" ] || return 0
	msg "moving $old (a cache from before 7.3) to $DSHIM_CACHE/6.12/, and removing its builds"
	mkdir -p "$DSHIM_CACHE/6.12"
	if [ -e "$DSHIM_CACHE/6.12/linux-source-6.12" ]; then
		rm -rf "$old"
	else
		mv -T "$old" "$DSHIM_CACHE/6.12/linux-source-6.12"
	fi
	for d in "$DSHIM_CACHE"/build-* "$DSHIM_CACHE"/{logs,uml,e2e,patches,smp-base.kunitconfig}; do
		[ ! -e "$d" ] || rm -rf "$d"
	done
}

# Fail unless $1 is a clean kernel tree of 6.12 or later.
validate_tree() {
	local tree=$1 v p s
	local name=${KSRC:+KSRC=}$tree
	[ -f "$tree/Makefile" ] || die "$name is not a kernel tree (no Makefile)"
	v=$(awk '$1 == "VERSION" && $2 == "=" { print $3; exit }' "$tree/Makefile")
	p=$(awk '$1 == "PATCHLEVEL" && $2 == "=" { print $3; exit }' "$tree/Makefile")
	s=$(awk '$1 == "SUBLEVEL" && $2 == "=" { print $3; exit }' "$tree/Makefile")
	case $v$p in
	'' | *[!0-9]*) die "$name is not a kernel tree (its Makefile has no VERSION/PATCHLEVEL)" ;;
	esac
	[ -f "$tree/tools/testing/kunit/kunit.py" ] ||
		die "$name is not a kernel tree (no tools/testing/kunit/kunit.py)"
	[ -d "$tree/drivers/gpu/drm/scheduler" ] ||
		die "$name is not a kernel tree (no drivers/gpu/drm/scheduler)"
	for f in drivers/gpu/drm/Kconfig drivers/gpu/drm/Makefile include/drm \
		rust/kernel/lib.rs rust/bindings/bindings_helper.h; do
		[ -e "$tree/$f" ] || die "$name is not a usable kernel tree (no $f)"
	done
	if [ "$v" -lt 6 ] || { [ "$v" -eq 6 ] && [ "$p" -lt 12 ]; }; then
		die "$name is Linux $v.$p.${s:-0}; the shim needs 6.12 or later"
	fi
	# c-shim/compat.h's baseline: the drm_sched_init_args API (6.15, and
	# stable backports such as Debian's 6.12.117); early 6.12.y lack it
	grep -q 'struct drm_sched_init_args {' "$tree/include/drm/gpu_scheduler.h" ||
		die "$name's drm_sched has no struct drm_sched_init_args (Linux $v.$p.${s:-0}): use a 6.12.y with the stable backports (Debian's 6.12.117 has them) or 6.15+"
	if [ -e "$tree/.config" ] || [ -d "$tree/include/config" ] ||
		[ -d "$tree/arch/um/include/generated" ]; then
		die "$name has been built in (it has .config or generated files); builds here use O=, which needs a clean tree: run 'make -C $tree ARCH=um mrproper' (or 'make mrproper' for its own arch)"
	fi
	[ -w "$tree/drivers/gpu/drm" ] || die "$name is not writable (the overlay adds files to it)"
}

# link TARGET LINKNAME: make LINKNAME a symlink to TARGET, replacing a
# stale symlink or a regular file we once put there; never a directory.
link() {
	local target=$1 name=$2
	if [ -L "$name" ]; then
		[ "$(readlink "$name")" = "$target" ] && return 0
		rm -f "$name"
	elif [ -d "$name" ]; then
		die "$name is a directory, expected a symlink to $target: remove it by hand"
	elif [ -e "$name" ]; then
		rm -f "$name"
	fi
	ln -s "$target" "$name"
}

overlay() {
	local tree=$1 top=$DSHIM_TOP d=$1/drivers/gpu/drm/sched_shim f
	# Refuse before changing anything.
	for f in "$d"/{Kconfig,Kbuild,c-shim,kunit,rust,samples} "$tree/include/drm/drm_sched_shim.h" \
		"$tree/include/uapi/drm/vgpu_drm.h" \
		"$tree/rust/kernel/drm_sched_shim.rs" "$tree/rust/kernel/drm_sched_shim" \
		"$tree/rust/helpers/drm_sched_shim.c"; do
		if [ -d "$f" ] && [ ! -L "$f" ]; then
			die "$f is a directory, expected a symlink into $top: remove it by hand"
		fi
	done
	mkdir -p "$d"
	for f in Kconfig Kbuild c-shim kunit rust samples; do
		link "$top/$f" "$d/$f"
	done
	link "$top/include/drm/drm_sched_shim.h" "$tree/include/drm/drm_sched_shim.h"
	link "$top/include/uapi/drm/vgpu_drm.h" "$tree/include/uapi/drm/vgpu_drm.h"
	link "$top/rust/kernel/drm_sched_shim.rs" "$tree/rust/kernel/drm_sched_shim.rs"
	link "$top/rust/kernel/drm_sched_shim" "$tree/rust/kernel/drm_sched_shim"
	link "$top/rust/helpers/drm_sched_shim.c" "$tree/rust/helpers/drm_sched_shim.c"
	"$(dshim_python)" "$top/scripts/tree-edit.py" "$tree"
	# mtimes that say what changed since a tree last saw the files (one
	# stamp file for all trees: a file has one mtime)
	make_cache
	"$(dshim_python)" "$top/scripts/overlay-mtimes.py" "$DSHIM_CACHE/overlay-mtimes" "$top" \
		Kconfig Kbuild c-shim kunit rust samples include/drm/drm_sched_shim.h \
		include/uapi/drm/vgpu_drm.h >/dev/null
	for f in Kconfig Kbuild c-shim/Kbuild kunit/Kbuild rust/Kbuild samples/vgpu/Kbuild \
		include/drm/drm_sched_shim.h include/uapi/drm/vgpu_drm.h \
		rust/kernel/drm_sched_shim.rs rust/kernel/drm_sched_shim rust/helpers/drm_sched_shim.c; do
		[ -e "$top/$f" ] || warn "project file $f does not exist yet: the build will fail until it does"
	done
}

tree=$(dshim_tree)
if [ "$print_only" = 1 ]; then
	echo "$tree"
	exit 0
fi
lock_cache

if [ -n "${KSRC:-}" ]; then
	validate_tree "$tree"
	# your tree is never patched: only said when its UML will fail here
	uml_host_check "$tree"
else
	migrate_old_layout
	unpack_tree "$tree"
	validate_tree "$tree"
	uml_fixes_apply "$tree"
fi
overlay "$tree"
msg "kernel tree ready: $tree"
