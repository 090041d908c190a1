#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install what building and testing the shim needs: Debian packages
# (kernel source, gcc, clang/lld, Rust, sparse, ...), bindgen-cli from
# crates.io, and the source package of each kernel that is not Debian
# 12's own (linux-source-7.3 from trixie-backports), downloaded into the
# cache with a private apt configuration: the system's apt sources and
# package lists are not touched, nothing from trixie is installed.
# Idempotent: installs only what is missing. KERNEL= picks the kernels
# (lib.sh); with KSRC=, no kernel source is fetched.
#
#   scripts/setup.sh          install what is missing
#   scripts/setup.sh --check  exit 0 if nothing is missing, 1 otherwise
#                             (quiet; the fast path of every make target)
set -euo pipefail
DSHIM_PROG=setup
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

check_only=0
case ${1:-} in
--check) check_only=1 ;;
"") ;;
*) die "usage: $0 [--check]" ;;
esac

mapfile -t missing < <(missing_packages)
bindgen=$(dshim_bindgen)

# The kernels whose source package is fetched, not installed.
fetched=()
if [ -z "${KSRC:-}" ]; then
	while IFS= read -r k; do
		[ -z "${DSHIM_KERNEL_SUITE[$k]:-}" ] || fetched+=("$k")
	done < <(dshim_kernels)
fi

# kernel_source_present K: K's source tarball is in the cache.
kernel_source_present() {
	dshim_use_kernel "$1"
	[ -f "$DSHIM_TARBALL" ]
}

if [ "$check_only" = 1 ]; then
	[ "${#missing[@]}" -eq 0 ] && [ -n "$bindgen" ] || exit 1
	for k in "${fetched[@]}"; do
		kernel_source_present "$k" || exit 1
	done
	exit 0
fi

# --- Debian packages -------------------------------------------------------

# cargo is only needed to build bindgen-cli; Debian's cargo-web goes with
# rustc-web. Any cargo in PATH (rustup's, say) will do as well.
if [ -z "$bindgen" ] && ! command -v cargo >/dev/null 2>&1 &&
	! dpkg-query -W -f='${db:Status-Abbrev}' cargo-web 2>/dev/null | grep -q '^ii'; then
	msg "cargo not found: it is needed to build bindgen-cli; adding Debian's cargo-web"
	missing+=(cargo-web)
fi

if [ "${#missing[@]}" -gt 0 ]; then
	msg "missing Debian packages: ${missing[*]}"
	sudo=()
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			sudo=(sudo)
		elif command -v sudo >/dev/null 2>&1 && [ -t 0 ]; then
			msg "using sudo (it may ask for your password)"
			sudo=(sudo)
		else
			printf '%s: error: not root and no usable sudo; these packages are missing:\n' "$DSHIM_PROG" >&2
			printf '    %s\n' "${missing[@]}" >&2
			printf '%s: install them as root with:\n    apt-get update && apt-get install -y %s\n' \
				"$DSHIM_PROG" "${missing[*]}" >&2
			exit 1
		fi
	fi
	msg "running apt-get update"
	"${sudo[@]}" apt-get update -q || die "apt-get update failed"
	msg "installing ${missing[*]} (this takes a few minutes)"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}" ||
		die "apt-get install failed for: ${missing[*]}"
	mapfile -t still < <(missing_packages)
	[ "${#still[@]}" -eq 0 ] || die "still missing after apt-get install: ${still[*]}"
	msg "Debian packages: done"
else
	msg "Debian packages: all installed"
fi

# --- bindgen-cli ---------------------------------------------------------

if [ -n "$bindgen" ]; then
	msg "bindgen: using $bindgen ($(version_of "$bindgen" --version))"
else
	cargo=$(command -v cargo 2>/dev/null || true)
	[ -n "$cargo" ] || [ ! -x /usr/bin/cargo ] || cargo=/usr/bin/cargo
	if [ -z "$cargo" ]; then
		die "cargo not found: it is needed to build bindgen-cli (install Debian's cargo-web, or rustup)"
	fi
	need_space "$DSHIM_CACHE" 1024 "building bindgen-cli"
	lock_cache
	make_cache
	mkdir -p "$DSHIM_CACHE/cargo"
	msg "installing bindgen-cli $DSHIM_BINDGEN_VERSION from crates.io into $DSHIM_CACHE/cargo (this takes a few minutes)"
	"$cargo" install --locked --root "$DSHIM_CACHE/cargo" \
		bindgen-cli --version "$DSHIM_BINDGEN_VERSION" ||
		die "cargo install bindgen-cli $DSHIM_BINDGEN_VERSION failed (see above)"
	bindgen=$(dshim_bindgen)
	[ -n "$bindgen" ] || die "bindgen-cli installed but $DSHIM_CACHE/cargo/bin/bindgen does not run"
	msg "bindgen: installed $bindgen ($(version_of "$bindgen" --version))"
fi

# --- kernel sources from newer Debian suites --------------------------------

# fetch_kernel_source K: download linux-source-K from its suite with a
# private apt configuration (sources list, package lists and archives
# under $DSHIM_CACHE/apt), and unpack the package (not the tree: that is
# prepare-tree.sh's job) into $DSHIM_CACHE/debs/linux-source-K.
fetch_kernel_source() {
	local k=$1 suite apt dir deb
	kernel_source_present "$k" && return 0
	suite=${DSHIM_KERNEL_SUITE[$k]}
	apt=$DSHIM_CACHE/apt
	dir=$DSHIM_CACHE/debs/linux-source-$k
	lock_cache
	need_space "$DSHIM_CACHE" 512 "the linux-source-$k package"
	mkdir -p "$apt/lists/partial" "$apt/archives/partial"
	echo "deb http://deb.debian.org/debian $suite main" >"$apt/sources.list"
	local -a opts=(-o "Dir::Etc::sourcelist=$apt/sources.list"
		-o Dir::Etc::sourceparts=/nonexistent -o "Dir::State::Lists=$apt/lists"
		-o "Dir::Cache=$apt" -o "Dir::Cache::archives=$apt/archives"
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root)
	msg "linux-source-$k: reading $suite's package list (private apt configuration in $apt)"
	apt-get "${opts[@]}" -q update >"$apt/update.log" 2>&1 || {
		tail -n 20 "$apt/update.log" >&2
		die "apt-get update of $suite failed (log: $apt/update.log)"
	}
	msg "linux-source-$k: downloading (about 170 MB)"
	rm -f "$apt/download/linux-source-${k}_"*.deb
	mkdir -p "$apt/download"
	(cd "$apt/download" && apt-get "${opts[@]}" -q download "linux-source-$k") \
		>"$apt/download.log" 2>&1 || {
		tail -n 20 "$apt/download.log" >&2
		die "apt-get download linux-source-$k failed (log: $apt/download.log)"
	}
	deb=$(ls "$apt/download/linux-source-${k}_"*.deb)
	rm -rf "$dir.tmp"
	mkdir -p "${dir%/*}"
	dpkg-deb -x "$deb" "$dir.tmp" || die "unpacking $deb failed"
	rm -rf "$dir"
	mv -T "$dir.tmp" "$dir"
	rm -f "$deb"
	kernel_source_present "$k" || die "$deb has no $DSHIM_TARBALL"
	msg "linux-source-$k: $(basename "$deb") -> $dir"
}

for k in "${fetched[@]}"; do
	fetch_kernel_source "$k"
done

# --- sanity ----------------------------------------------------------------

for tool in gcc make flex bison bc clang-19 ld.lld-19 /usr/bin/rustc /usr/bin/rustdoc; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found after installing packages"
done
[ -d /usr/lib/rustlib/src/rust/library ] ||
	warn "Rust library source not found under /usr/lib/rustlib/src (package rust-web-src); the Rust pass will fail"
msg "all prerequisites present"
