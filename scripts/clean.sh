#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
#   scripts/clean.sh        remove the kernel build dirs and logs in the
#                           cache, of every kernel; the unpacked trees stay
#   scripts/clean.sh --all  also remove the unpacked tree and bindgen: the
#                           whole cache. With KSRC=, the user's tree is
#                           never removed: its overlay is taken out (and
#                           the UML host fixes, if this project put them
#                           there).
set -euo pipefail
DSHIM_PROG=clean
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

all=0
case ${1:-} in
--all) all=1 ;;
"") ;;
*) die "usage: $0 [--all]" ;;
esac

if [ ! -d "$DSHIM_CACHE" ]; then
	msg "nothing to clean ($DSHIM_CACHE does not exist)"
	exit 0
fi
# Never rm -rf a directory we did not make.
[ -f "$DSHIM_CACHE/$DSHIM_CACHE_MARK" ] ||
	die "$DSHIM_CACHE has no $DSHIM_CACHE_MARK file: not removing a directory this project did not create"
lock_cache

# (a top-level build-*: a cache from before 7.3)
for d in "$DSHIM_CACHE"/*/build-* "$DSHIM_CACHE"/*/{logs,uml,e2e} "$DSHIM_CACHE"/build-*; do
	[ -e "$d" ] || continue
	msg "removing $d"
	rm -rf "$d"
done

[ "$all" = 1 ] || exit 0

if [ -n "${KSRC:-}" ]; then
	tree=$(dshim_tree)
	msg "taking the overlay out of $tree"
	"$(dshim_python)" "$DSHIM_TOP/scripts/tree-edit.py" --remove "$tree"
	for f in include/drm/drm_sched_shim.h include/uapi/drm/vgpu_drm.h \
		rust/kernel/drm_sched_shim.rs rust/kernel/drm_sched_shim \
		rust/helpers/drm_sched_shim.c \
		drivers/gpu/drm/sched_shim/{Kconfig,Kbuild,c-shim,kunit,rust,samples}; do
		[ ! -L "$tree/$f" ] || rm -f "$tree/$f"
	done
	rmdir "$tree/drivers/gpu/drm/sched_shim" 2>/dev/null || true
	# never applied to a KSRC tree, but a tree once unpacked here and
	# then used as KSRC= may carry them
	uml_fixes_revert "$tree"
fi
msg "removing $DSHIM_CACHE"
# The lock file goes last: another run waiting on it then starts afresh.
find "$DSHIM_CACHE" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
rm -f "$DSHIM_CACHE/.lock"
rmdir "$DSHIM_CACHE" 2>/dev/null || true
