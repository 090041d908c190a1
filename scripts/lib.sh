# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Shared helpers for the drm-sched-shim scripts. Sourced, never run.
#
# Environment understood by every script:
#   DSHIM_CACHE  cache directory (kernel tree, build dirs, logs, bindgen);
#                default ~/.cache/drm-sched-shim, always outside the repo
#   KERNEL       6.12, 7.3 or all (the default): the kernels a target
#                covers, each Debian's linux-source-K (see dshim_kernels)
#   KSRC         use this kernel tree (>= 6.12) instead of Debian's
#   JOBS         parallel make jobs (default: nproc)

# shellcheck disable=SC2034 # used by the scripts that source this
DSHIM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DSHIM_CACHE=${DSHIM_CACHE:-${HOME:-/root}/.cache/drm-sched-shim}
# shellcheck disable=SC2034
DSHIM_BINDGEN_VERSION=0.71.1
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
DSHIM_PROG=${DSHIM_PROG:-$(basename "$0" .sh)}

# Debian packages the build needs: name, then what it is for.
DSHIM_PACKAGES=(
	linux-source-6.12 build-essential flex bison bc libelf-dev libssl-dev
	python3 rustc-web rust-web-src rust-web-clippy rustfmt-web
	clang-19 lld-19 llvm-19 libclang-19-dev sparse shellcheck python3-docutils python3-sphinx python3-matplotlib
	qemu-system-x86
)

msg() { printf '%s: %s\n' "$DSHIM_PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$DSHIM_PROG" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "$DSHIM_PROG" "$*" >&2
	exit 1
}

# Install what is missing (scripts/setup.sh), then set PYTHON. Every
# entry point starts here.
dshim_ready() {
	"$DSHIM_TOP/scripts/setup.sh" --check || "$DSHIM_TOP/scripts/setup.sh"
	PYTHON=$(dshim_python)
}

# The python that runs kunit.py and our helpers: Debian's, whatever a
# pyenv/virtualenv shim in PATH says.
dshim_python() {
	if [ -x /usr/bin/python3 ]; then
		echo /usr/bin/python3
	else
		command -v python3 || die "python3 not found (run: make setup)"
	fi
}

# --- kernels ----------------------------------------------------------------
#
# The kernels the project builds and tests against, oldest first, each
# Debian's linux-source-K: 6.12 is Debian 12's own (apt installs it); 7.3
# is the newest stable kernel Debian ships (trixie-backports), the one
# the Rust GPU drivers are written for. setup.sh fetches its package
# into the cache with a private apt configuration (the system's sources
# stay as they are).
DSHIM_KERNELS=(6.12 7.3)
# The Debian suite each non-system kernel's package comes from.
declare -A DSHIM_KERNEL_SUITE=([7.3]=trixie-backports)

# The kernels this run covers, one per line: KSRC's version with KSRC=,
# otherwise KERNEL (6.12, 7.3, or all: every one of DSHIM_KERNELS).
dshim_kernels() {
	local k
	if [ -n "${KSRC:-}" ]; then
		tree_version "$(dshim_tree)"
		return
	fi
	case ${KERNEL:-all} in
	all) printf '%s\n' "${DSHIM_KERNELS[@]}" ;;
	*)
		for k in "${DSHIM_KERNELS[@]}"; do
			[ "$k" != "$KERNEL" ] || {
				echo "$k"
				return
			}
		done
		die "KERNEL=$KERNEL: expected all or one of ${DSHIM_KERNELS[*]}"
		;;
	esac
}

# dshim_use_kernel K: make K the kernel of what follows (and of the
# scripts run from here: DSHIM_KERNEL is exported). Each kernel has its
# own tree, build dirs and logs, in DSHIM_KCACHE ($DSHIM_CACHE/K, or
# $DSHIM_CACHE/ksrc for a KSRC= tree).
# shellcheck disable=SC2034 # used by the scripts that source this
dshim_use_kernel() {
	DSHIM_KERNEL=$1
	DSHIM_TREE_NAME=linux-source-$1
	if [ -n "${KSRC:-}" ]; then
		DSHIM_KCACHE=$DSHIM_CACHE/ksrc
	else
		DSHIM_KCACHE=$DSHIM_CACHE/$1
	fi
	DSHIM_LOGS=$DSHIM_KCACHE/logs
	DSHIM_UML_FIXES=$DSHIM_TOP/scripts/uml-fixes/$1
	if [ -z "${DSHIM_KERNEL_SUITE[$1]:-}" ]; then
		DSHIM_TARBALL=/usr/src/$DSHIM_TREE_NAME.tar.xz
	else
		DSHIM_TARBALL=$DSHIM_CACHE/debs/$DSHIM_TREE_NAME/usr/src/$DSHIM_TREE_NAME.tar.xz
	fi
	export DSHIM_KERNEL
}

# dshim_per_kernel LINES SCRIPT ARG...: when this run covers several
# kernels, run SCRIPT ARG... once per kernel (KERNEL=K), each after a
# header, then repeat the lines of each run that start with LINES (an ERE
# such as 'e2e: raw|demo: raw'), the kernel added after their first word
# ("demo 7.3: raw ..."), and exit: 0 if every run succeeded. With one
# kernel, make it the current one and return.
dshim_per_kernel() {
	local words=$1 k rc=0 out
	local -a ks
	shift
	mapfile -t ks < <(dshim_kernels)
	if [ "${#ks[@]}" -le 1 ]; then
		dshim_use_kernel "${ks[0]}"
		return 0
	fi
	out=$(mktemp -d)
	for k in "${ks[@]}"; do
		echo
		msg "=== Linux $k ==="
		KERNEL=$k DSHIM_KERNEL=$k "$@" | tee "$out/$k" || rc=1
	done
	echo
	msg "=== every kernel ==="
	for k in "${ks[@]}"; do
		sed -n -E "/^($words)/ { s/^([a-z0-9-]+):/\\1 $k:/; p }" "$out/$k"
	done
	rm -rf "$out"
	exit "$rc"
}

# The kernel tree everything is overlaid into and built from.
dshim_tree() {
	if [ -n "${KSRC:-}" ]; then
		(cd "$KSRC" 2>/dev/null && pwd -P) || die "KSRC=$KSRC: no such directory"
	else
		echo "$DSHIM_KCACHE/$DSHIM_TREE_NAME"
	fi
}

# tree_version TREE: its version, major.minor ("6.12"), from its Makefile.
tree_version() {
	awk '/^VERSION =/ { v = $3 } /^PATCHLEVEL =/ { p = $3 } END { print v "." p }' \
		"$1/Makefile"
}

# The kernel tree's version.
dshim_tree_version() {
	tree_version "$(dshim_tree)"
}

# The build dir of pass NAME on the current kernel.
dshim_build_dir() {
	echo "$DSHIM_KCACHE/build-$1"
}

# KERNEL: checked here, once (dshim_kernels runs in subshells, where die
# would not stop the script).
case ${KERNEL:-all} in
all | 6.12 | 7.3) ;;
*) die "KERNEL=$KERNEL: expected all or one of ${DSHIM_KERNELS[*]}" ;;
esac

# The current kernel: DSHIM_KERNEL from the script that ran this one, or
# the first of this run's kernels.
if [ -n "${DSHIM_KERNEL:-}" ]; then
	dshim_use_kernel "$DSHIM_KERNEL"
elif [ -n "${KSRC:-}" ] && [ -f "$KSRC/Makefile" ]; then
	dshim_use_kernel "$(tree_version "$KSRC")"
elif [ -n "${KERNEL:-}" ] && [ "$KERNEL" != all ]; then
	dshim_use_kernel "$KERNEL"
else
	dshim_use_kernel "${DSHIM_KERNELS[0]}"
fi

# Free space in MiB on the filesystem holding $1 (or its nearest parent).
free_mib() {
	local d=$1
	while [ ! -d "$d" ]; do d=$(dirname "$d"); done
	df -Pm "$d" | awk 'NR == 2 { print $4 }'
}

# need_space DIR MIB WHAT: fail clearly when DIR's filesystem has less.
need_space() {
	local have
	have=$(free_mib "$1")
	if [ "$have" -lt "$2" ]; then
		die "not enough disk space for $3: need ${2} MiB free in $1, have ${have} MiB (free some space or point DSHIM_CACHE= at a bigger disk)"
	fi
}

# "x.y.z" from a tool's --version output; empty when unparsable.
version_of() {
	"$@" 2>/dev/null | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n1
}

# version_ge A B: A >= B in version order.
version_ge() {
	[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}

# bindgen_ok PATH: usable for 7.x's Rust build (>= 0.71.1, 7.3's
# scripts/min-tool-version.sh).
bindgen_ok() {
	local v
	[ -x "$1" ] || return 1
	v=$(version_of "$1" --version)
	[ -n "$v" ] && version_ge "$v" 0.71.1
}

# Print the bindgen to use, or nothing: the one setup installed into the
# cache first, then any acceptable one in PATH.
dshim_bindgen() {
	local b
	for b in "${BINDGEN:-}" "$DSHIM_CACHE/cargo/bin/bindgen" "$(command -v bindgen 2>/dev/null || true)"; do
		if [ -n "$b" ] && bindgen_ok "$b"; then
			echo "$b"
			return 0
		fi
	done
	return 0
}

# Debian packages from DSHIM_PACKAGES that are not installed (one
# dpkg-query call: this is on the fast path of every make target).
missing_packages() {
	local installed
	installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' \
		"${DSHIM_PACKAGES[@]}" 2>/dev/null | awk '/^ii/ { print $2 }' || true)
	printf '%s\n' "${DSHIM_PACKAGES[@]}" | grep -vxF -e "$installed" -e '' || true
}

# Create the cache dir, with the mark that lets clean.sh remove it.
# shellcheck disable=SC2034
DSHIM_CACHE_MARK=.drm-sched-shim-cache
make_cache() {
	mkdir -p "$DSHIM_CACHE"
	[ -f "$DSHIM_CACHE/$DSHIM_CACHE_MARK" ] ||
		echo "cache of drm-sched-shim ($DSHIM_TOP); safe to remove" >"$DSHIM_CACHE/$DSHIM_CACHE_MARK"
}

# Hold an exclusive lock on the cache for the rest of this process, so two
# runs sharing a cache do not build into the same directories.
# Children (scripts this one runs) inherit the lock.
lock_cache() {
	[ -z "${DSHIM_LOCKED:-}" ] || return 0
	make_cache
	exec 9>"$DSHIM_CACHE/.lock"
	if ! flock -n 9; then
		msg "another run holds $DSHIM_CACHE/.lock; waiting for it"
		flock 9
	fi
	export DSHIM_LOCKED=1
}

# --- UML host compatibility -------------------------------------------------
#
# scripts/uml-fixes/K/*.patch fix kernel K's UML for the test kernels;
# they are not part of the shim (make patches leaves them out of the
# series). 6.12: the backport that lets its UML run userspace on hosts
# whose XSTATE is larger than its fixed 2,696-byte buffer (Intel AMX).
# 7.3: SMP UML's secondary CPUs free memory before they are online, and
# the like; and one that is not UML's: 7.3's Rust DRM API cannot set
# DRIVER_SYNCOBJ, which rvgpu (samples/rvgpu/) needs. See each patch's
# header. DSHIM_UML_FIXES (the current kernel's) is set by
# dshim_use_kernel.
# In a tree we patched: a copy of each patch applied, so that a changed
# patch can be taken out again before its new version goes in.
DSHIM_UML_FIXES_MARK=.dshim-uml-fixes

# uml_patch TREE OPTION PATCH: patch -p1 with OPTION (-N, or -R to take
# it out), all or nothing: a dry run first.
uml_patch() {
	patch -d "$1" -p1 "$2" --dry-run -s -f <"$3" >/dev/null 2>&1 &&
		patch -d "$1" -p1 "$2" -s -f --no-backup-if-mismatch <"$3" >/dev/null 2>&1
}

# uml_fixes_apply TREE: apply every UML fix to TREE (a tree this project
# unpacked itself), idempotently. A fix already in is left alone; an
# older version of it is taken out first. One that does not apply (a
# future linux-source-6.12 that has it, or conflicts) is said and
# skipped: the tree's UML is then checked like a KSRC tree's.
uml_fixes_apply() {
	local tree=$1 p name copy
	for p in "$DSHIM_UML_FIXES"/*.patch; do
		[ -f "$p" ] || continue
		name=${p##*/}
		copy=$tree/$DSHIM_UML_FIXES_MARK/$name
		if [ -f "$copy" ]; then
			cmp -s "$copy" "$p" && continue
			if ! uml_patch "$tree" -R "$copy"; then
				warn "the test-kernel fix $name changed, and its old version does not come out of $tree cleanly: make distclean, then run again"
				continue
			fi
			rm -f "$copy"
			msg "took the old version of the test-kernel fix $name out of $tree"
		fi
		# not in yet (it may be, unrecorded: from before we kept copies)
		if ! patch -d "$tree" -p1 -R --dry-run -s -f <"$p" >/dev/null 2>&1; then
			if ! uml_patch "$tree" -N "$p"; then
				warn "the test-kernel fix $name does not apply to $tree: its UML stays as it is"
				uml_host_check "$tree"
				continue
			fi
			msg "applied the test-kernel fix $name (not part of the shim; see its header)"
		fi
		mkdir -p "${copy%/*}"
		cp "$p" "$copy"
	done
}

# uml_fixes_revert TREE: take out what uml_fixes_apply put into TREE.
uml_fixes_revert() {
	local tree=$1 copy
	[ -d "$tree/$DSHIM_UML_FIXES_MARK" ] || return 0
	while IFS= read -r copy; do
		if uml_patch "$tree" -R "$copy"; then
			msg "took the test-kernel fix ${copy##*/} out of $tree"
			rm -f "$copy"
		else
			warn "the test-kernel fix ${copy##*/} does not come out of $tree cleanly: left in (its copy: $copy)"
		fi
	done < <(find "$tree/$DSHIM_UML_FIXES_MARK" -name '*.patch' | sort -r)
	rmdir "$tree/$DSHIM_UML_FIXES_MARK" 2>/dev/null || true
}

# uml_fp_buffer TREE: the fixed size in bytes of TREE's UML FP buffer on
# x86-64, or nothing when its UML sizes it at run time (6.13+, or the fix).
uml_fp_buffer() {
	local tree=$1
	grep -q 'host_fp_size' "$tree/arch/x86/um/os-Linux/registers.c" 2>/dev/null && return 0
	sed -n 's/^[[:space:]]*DEFINE_LONGS(HOST_FP_SIZE, \([0-9][0-9]*\));.*/\1/p' \
		"$tree/arch/x86/um/user-offsets.c" 2>/dev/null | head -n 1 || true
}

# uml_host_check TREE: one warning line when TREE's UML cannot run
# userspace on this host (a fixed FP buffer smaller than the host's XSTATE).
uml_host_check() {
	local tree=$1 fixed host
	fixed=$(uml_fp_buffer "$tree")
	[ -n "$fixed" ] || return 0
	host=$("$(dshim_python)" "$DSHIM_TOP/scripts/host-xstate.py" --check "$fixed" 2>/dev/null) && return 0
	[ -n "$host" ] || return 0 # could not measure: the preflight boot will tell
	warn "$tree's UML has a fixed ${fixed}-byte FP buffer but this host's XSTATE is $host bytes (Intel AMX?): its processes will die with 'ptrace set fp regs failed, errno = 14'; apply $DSHIM_UML_FIXES/*.patch to it, or use Linux 6.13 or later"
}
