# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Shared helpers for the drm-sched-shim scripts. Sourced, never run.
#
# Environment understood by every script:
#   DSHIM_CACHE  cache directory (kernel tree, build dirs, logs, bindgen);
#                default ~/.cache/drm-sched-shim, always outside the repo
#   KSRC         use this kernel tree (>= 6.12) instead of unpacking
#                Debian's linux-source-6.12
#   JOBS         parallel make jobs (default: nproc)

# shellcheck disable=SC2034 # used by the scripts that source this
DSHIM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DSHIM_CACHE=${DSHIM_CACHE:-${HOME:-/root}/.cache/drm-sched-shim}
DSHIM_TARBALL=${DSHIM_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
DSHIM_TREE_NAME=linux-source-6.12
# shellcheck disable=SC2034
DSHIM_BINDGEN_VERSION=0.69.5
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
DSHIM_PROG=${DSHIM_PROG:-$(basename "$0" .sh)}

# Debian packages the build needs: name, then what it is for.
DSHIM_PACKAGES=(
	linux-source-6.12 build-essential flex bison bc libelf-dev libssl-dev
	python3 rustc-web rust-web-src rust-web-clippy rustfmt-web libclang-dev
	clang lld sparse shellcheck python3-docutils python3-sphinx
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

# The kernel tree everything is overlaid into and built from.
dshim_tree() {
	if [ -n "${KSRC:-}" ]; then
		(cd "$KSRC" 2>/dev/null && pwd -P) || die "KSRC=$KSRC: no such directory"
	else
		echo "$DSHIM_CACHE/$DSHIM_TREE_NAME"
	fi
}

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

# bindgen_ok PATH: usable for the kernel's Rust build (>= 0.65.1, not 0.66.x).
bindgen_ok() {
	local v
	[ -x "$1" ] || return 1
	v=$(version_of "$1" --version)
	[ -n "$v" ] || return 1
	version_ge "$v" 0.65.1 || return 1
	case $v in 0.66|0.66.*) return 1 ;; esac
	return 0
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
