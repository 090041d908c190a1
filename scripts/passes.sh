# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Build, boot and judge one kernel "pass" (sourced by check.sh, demo.sh).
#
#   c     gcc, kunit/.kunitconfig     (KASAN, lockdep, debug objects, ...)
#         + kunit/e2e.kunitconfig (the vgpu driver, for scripts/e2e.sh)
#   rust  LLVM=-19 + Rust, kunit/rust.kunitconfig (doctests as KUnit cases)
#   bench gcc, kunit/bench.kunitconfig (no debug options; make bench only)
#   compare  gcc, kunit/.kunitconfig + e2e + raw-repro.kunitconfig: the
#            C pass's kernel plus the raw drm_sched reproducers (make demo)
#   patches  gcc, the .kunitconfig and e2e.kunitconfig in the tree make
#            patches applied its series to
#   smp   gcc, x86-64: .kunitconfig without kmemleak and hostfs +
#         e2e.kunitconfig + smp.kunitconfig (scripts/smp.sh)
#   kcsan gcc, x86-64: kcsan.kunitconfig + smp.kunitconfig (scripts/smp.sh)
#
# A pass: kunit.py config (the .kunitconfig, validated), make with
# progress, then one UML boot per suite glob. The full console log of
# each boot goes to $DSHIM_LOGS (the kernel's logs/) and is judged by our own KTAP
# counter and the splat scanner, not by kunit.py.

DSHIM_SCRIPTS=$DSHIM_TOP/scripts
# Seconds one boot may take before it counts as hung (build time excluded).
DSHIM_TIMEOUT=${DSHIM_TIMEOUT:-600}
# Kernel command line for every boot: all KASAN reports, not just the
# first; kmemleak reports on the console.
DSHIM_KERNEL_ARGS=${DSHIM_KERNEL_ARGS:-kasan_multi_shot kmemleak.verbose=1}
# Memory of the test kernel (mem=).
DSHIM_MEM=${DSHIM_MEM:-1G}

# More arguments of scan-log.py in pass_judge (scripts/smp.sh's kcsan pass).
SCAN_ARGS=()

# CPUs the last boot was to bring up (0 or 1: not counted).
BOOT_CPUS=0

# Results of the last pass_run, for the caller.
PASS_BUILT=''
PASS_PASSED=0
PASS_FAILED=0
PASS_SUITES=0
PASS_PROBLEMS=()
PASS_LOGS=()

elapsed() {
	local s=$(($(date +%s) - $1))
	if [ "$s" -ge 60 ]; then
		printf '%dm%02ds' $((s / 60)) $((s % 60))
	else
		printf '%ds' "$s"
	fi
}

# What a runner of passes does first: check the settings, install what is
# missing, take the cache lock and prepare the overlaid tree.
pass_prepare() {
	case ${DSHIM_TIMEOUT} in '' | *[!0-9]*) die "DSHIM_TIMEOUT=$DSHIM_TIMEOUT: expected seconds" ;; esac
	case ${JOBS} in '' | *[!0-9]* | 0) die "JOBS=$JOBS: expected a positive number" ;; esac
	dshim_ready
	lock_cache
	"$DSHIM_SCRIPTS/prepare-tree.sh"
}

# pass_build_or_exit NAME: build NAME in the overlaid tree, or say why
# not and exit 1.
pass_build_or_exit() {
	PASS_PROBLEMS=()
	pass_build "$1" "$(dshim_tree)" || {
		printf '  %s\n' "${PASS_PROBLEMS[@]}"
		exit 1
	}
}

# The kernel architecture of a pass.
pass_arch() {
	case $1 in
	smp | kcsan) echo x86_64 ;;
	*) echo um ;;
	esac
}

# build_config_has NAME OPTION: build-NAME's .config sets OPTION=y.
build_config_has() {
	grep -qx "$2=y" "$(dshim_build_dir "$1")/.config" 2>/dev/null
}

# Whether the tree's UML has SMP (7.x; 6.12's has none): then the UML
# passes run on DSHIM_UML_CPUS (4) CPUs.
uml_smp() {
	local v
	v=$(dshim_tree_version)
	[ "${v%%.*}" -ge 7 ]
}

# The kunitconfig files of a pass, one per line (kunit.py merges them).
pass_kunitconfig() {
	case $1 in
	c | rust | compare | patches) ! uml_smp || echo "$DSHIM_TOP/kunit/uml-smp.kunitconfig" ;;
	esac
	case $1 in
	smp)
		# kmemleak needs the scans of uml-init.sh; hostfs is UML's
		mkdir -p "$DSHIM_KCACHE"
		sed -e '/^CONFIG_HOSTFS=/d' -e '/^CONFIG_DEBUG_KMEMLEAK=/d' \
			"$DSHIM_TOP/kunit/.kunitconfig" >"$DSHIM_KCACHE/smp-base.kunitconfig"
		printf '%s\n' "$DSHIM_KCACHE/smp-base.kunitconfig" "$DSHIM_TOP/kunit/e2e.kunitconfig" \
			"$DSHIM_TOP/kunit/smp.kunitconfig"
		;;
	kcsan) printf '%s\n' "$DSHIM_TOP/kunit/kcsan.kunitconfig" "$DSHIM_TOP/kunit/smp.kunitconfig" ;;
	c) printf '%s\n' "$DSHIM_TOP/kunit/.kunitconfig" "$DSHIM_TOP/kunit/e2e.kunitconfig" ;;
	rust) echo "$DSHIM_TOP/kunit/rust.kunitconfig" ;;
	bench)
		echo "$DSHIM_TOP/kunit/bench.kunitconfig"
		! uml_smp || echo "$DSHIM_TOP/kunit/uml-smp.kunitconfig"
		;;
	compare) printf '%s\n' "$DSHIM_TOP/kunit/.kunitconfig" \
		"$DSHIM_TOP/kunit/e2e.kunitconfig" "$DSHIM_TOP/kunit/raw-repro.kunitconfig" ;;
	# make patches: the patched pristine tree's own copy
	patches) printf '%s\n' "$PATCHES_TREE/drivers/gpu/drm/sched_shim/kunit/.kunitconfig" \
		"$PATCHES_TREE/drivers/gpu/drm/sched_shim/kunit/e2e.kunitconfig" ;;
	esac
}

# make options of a pass, one per line.
pass_make_options() {
	local bindgen
	case $1 in
	c | bench | compare | patches) ;;
	rust)
		bindgen=$(dshim_bindgen)
		[ -n "$bindgen" ] || die "no usable bindgen (>= 0.71.1): run make setup"
		# Debian 12's clang-19 (7.x's Rust needs LLVM >= 17.0.1; bindgen
		# loads the newest libclang, 19's). Debian's rustc: it has the
		# library source the kernel needs (rustup's toolchain in
		# ~/.cargo/bin comes first in PATH and has none).
		printf '%s\n' LLVM=-19 RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc \
			RUSTDOC=/usr/bin/rustdoc "BINDGEN=$bindgen"
		;;
	esac
}

# Suite globs, one boot each (kunit.filter_glob takes a single glob).
pass_globs() {
	if [ -n "${SUITES:-}" ]; then
		echo "$SUITES"
		return
	fi
	case $1 in
	c) echo 'dshim*' ;;
	# the kernel crate's doctests that are ours (the suite has 7.3's
	# 370 others: upstream's, and one of them, time/hrtimer.rs's
	# on-stack timer, trips debug objects), then the mock driver, then
	# rvgpu's engine
	rust) printf '%s\n' 'rust_doctests_kernel.rust_doctest_kernel_drm_sched_shim*' 'dshim_rust*' \
		'rvgpu*' ;;
	esac
}

# make's output -> the log file in full; the terminal gets a progress line
# every 250 objects, errors, and warnings in project code (the rest of
# the kernel has harmless ones, e.g. clang 14 in asm-generic/io.h).
build_filter() {
	local name=$1 log=$2
	tee "$log" | awk -v name="$name" '
		/^  [A-Z][A-Z0-9_]* / { n++; if (n % 250 == 0) printf "%s:   ... %d files built (%s)\n", name, n, $2; fflush(); next }
		/sched_shim|drm_sched_shim|dshim_/ { print; fflush(); next }
		/: (fatal )?error[: ]|^error|Error [0-9]+|\*\*\*/ { print; fflush(); next }
		END { printf "%s:   %d files built\n", name, n }'
}

# A build dir belongs to one kernel tree (make O= leaves a "source"
# symlink to it there): start afresh when the tree changes.
claim_build_dir() {
	local bd=$1 tree=$2 src
	if [ -L "$bd/source" ]; then
		src=$(readlink -f "$bd/source")
		if [ "$src" != "$(readlink -f "$tree")" ]; then
			msg "$bd was built from another tree ($src): starting it afresh"
			rm -rf "$bd"
		fi
	fi
	if [ ! -d "$bd" ]; then
		need_space "$DSHIM_KCACHE" 1024 "a kernel build in $bd"
		mkdir -p "$bd"
	fi
}

# pass_build NAME TREE: configure and build; 0 on success.
pass_build() {
	local name=$1 tree=$2 bd kc t0 opt arch
	local -a mo=() kmo=() kcs=()
	bd=$(dshim_build_dir "$name")
	arch=$(pass_arch "$name")
	mapfile -t kcs < <(pass_kunitconfig "$name")
	for kc in "${kcs[@]}"; do
		[ -f "$kc" ] || die "$kc not found"
		kmo+=(--kunitconfig "$kc")
	done
	mapfile -t mo < <(pass_make_options "$name")
	for opt in "${mo[@]}"; do kmo+=(--make_options "$opt"); done
	claim_build_dir "$bd" "$tree"
	mkdir -p "$DSHIM_LOGS"

	msg "$name: configuring (${kcs[*]})"
	if ! (cd "$tree" && "$PYTHON" tools/testing/kunit/kunit.py config \
		--arch="$arch" --build_dir="$bd" "${kmo[@]}") \
		>"$DSHIM_LOGS/$name-config.log" 2>&1; then
		sed 's/^/    /' "$DSHIM_LOGS/$name-config.log" | tail -n 30
		PASS_PROBLEMS+=("$name: configuration failed (log: $DSHIM_LOGS/$name-config.log)")
		return 1
	fi

	t0=$(date +%s)
	msg "$name: building $bd (${mo[*]:-gcc}; cold: a few minutes, warm: seconds)"
	if ! make -C "$tree" ARCH="$arch" O="$bd" --jobs="$JOBS" "${mo[@]}" all 2>&1 |
		build_filter "$name" "$DSHIM_LOGS/$name-build.log"; then
		echo "$name: build failed; errors from $DSHIM_LOGS/$name-build.log:"
		grep -E -B2 -A3 ': (fatal )?error[: ]|^error|Error [0-9]+' "$DSHIM_LOGS/$name-build.log" |
			head -n 40 | sed 's/^/    /'
		PASS_PROBLEMS+=("$name: build failed (log: $DSHIM_LOGS/$name-build.log)")
		return 1
	fi
	msg "$name: built in $(elapsed "$t0")"
	PASS_BUILT+=" $DSHIM_KERNEL/$name"
}

# fake_xstate_lib: the path of scripts/fake-xstate.c built as an
# LD_PRELOAD library (once, into the cache).
fake_xstate_lib() {
	local so=$DSHIM_CACHE/fake-xstate.so src=$DSHIM_SCRIPTS/fake-xstate.c
	if [ ! -f "$so" ] || [ "$src" -nt "$so" ]; then
		gcc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$so.tmp" "$src" -ldl ||
			die "building $src failed"
		mv -f "$so.tmp" "$so"
	fi
	echo "$so"
}

# uml_boot NAME LOG TIMEOUT INIT ARG...: boot build-NAME's kernel once,
# with INIT as PID 1 (root = the host's / via hostfs, read-only) and the
# kernel arguments ARG... after the common ones; its console goes to LOG.
# Sets BOOT_LOG and BOOT_RC. With UML_FAKE_XSTATE=BYTES, the kernel runs
# on this host made to look like one with a BYTES-byte XSTATE; without,
# its first boot in this run is preceded by uml_preflight.
uml_boot() {
	local name=$1 log=$2 timeout=$3 init=$4 bd rc=0 t0
	local -a kargs=()
	bd=$(dshim_build_dir "$name")
	shift 4
	local -a env=()
	if [ -n "${UML_FAKE_XSTATE:-}" ]; then
		# a bigger host, emulated (scripts/fake-xstate.c); the preflight
		# is then the test itself
		env=(env "LD_PRELOAD=$(fake_xstate_lib)" "DSHIM_FAKE_XSTATE=$UML_FAKE_XSTATE")
	else
		uml_preflight "$name"
	fi
	read -ra kargs <<<"$DSHIM_KERNEL_ARGS"
	# UML's SMP needs its seccomp userspace (not ptrace)
	BOOT_CPUS=0
	if build_config_has "$name" CONFIG_SMP; then
		BOOT_CPUS=${DSHIM_UML_CPUS:-4}
		kargs+=("ncpus=$BOOT_CPUS" seccomp=on)
	fi
	case $DSHIM_SCRIPTS$DSHIM_CACHE in
	*[[:space:]]*) die "the project path '$DSHIM_TOP' or DSHIM_CACHE '$DSHIM_CACHE' contains whitespace; the test kernel's command line cannot take it" ;;
	esac
	mkdir -p "$DSHIM_KCACHE/uml"
	kargs+=("mem=$DSHIM_MEM" console=tty "uml_dir=$DSHIM_KCACHE/uml/"
		root=/dev/root rootfstype=hostfs rootflags=/ ro "init=$init" "$@")
	BOOT_LOG=$log
	rm -f "$BOOT_LOG"
	t0=$(date +%s)
	# SIGKILL, not SIGTERM: UML's orderly shutdown from a signal, in the
	# middle of a test, prints lockdep/RCU splats of its own.
	(cd "$bd" && exec "${env[@]}" timeout -s KILL "$timeout" ./linux "${kargs[@]}") \
		</dev/null >"$BOOT_LOG" 2>&1 || rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "dshim: the kernel did not finish within $timeout s: killed" >>"$BOOT_LOG"
	fi
	msg "$name: boot finished in $(elapsed "$t0") (exit $rc); kernel log: $BOOT_LOG"
	BOOT_RC=$rc
}

# Kernels (K/build name) whose preflight boot ran in this process.
UML_PREFLIGHT_DONE=' '

# uml_preflight NAME: before the first boot of build-NAME's kernel in this
# run, boot it once into a trivial userspace command (scripts/uml-init.sh
# with DSHIM_PREFLIGHT=1: it says so and powers off, in a few seconds).
# When the host refuses UML's userspace, stop the run here with the cause
# in one message, instead of a panic buried in every kernel log. Any other
# failure to get there is only said: the real boot then shows and counts
# it (a kernel that panics at boot is a test result, not a host problem).
uml_preflight() {
	local name=$1 log=$DSHIM_LOGS/$1-preflight.log out tree fixed host errno why
	case $UML_PREFLIGHT_DONE in *" $DSHIM_KERNEL/$name "*) return 0 ;; esac
	UML_PREFLIGHT_DONE+="$DSHIM_KERNEL/$name " # uml_boot below must not come back here
	msg "$name: preflight: can this host run the test kernel's userspace?"
	uml_boot "$name" "$log" "${DSHIM_PREFLIGHT_TIMEOUT:-120}" \
		"$DSHIM_SCRIPTS/uml-init.sh" kunit.enable=0 DSHIM_PREFLIGHT=1
	out=$(tr -d '\r' <"$log")
	if grep -qF 'dshim: preflight: userspace runs' <<<"$out"; then
		return 0
	fi
	errno=$(sed -n 's/.* - ptrace set fp regs failed, errno = \([0-9]*\)$/\1/p' <<<"$out" | head -n 1)
	if [ -z "$errno" ]; then
		warn "$name: preflight: the test kernel did not reach userspace (kernel exit $BOOT_RC), but not for the known host reason; going on, the boot below will tell (log: $log)"
		return 0
	fi
	tree=$(readlink -e "$(dshim_build_dir "$name")/source" 2>/dev/null || dshim_tree)
	fixed=$(uml_fp_buffer "$tree")
	host=$("$PYTHON" "$DSHIM_SCRIPTS/host-xstate.py" 2>/dev/null || true)
	why="PTRACE_SETREGSET fails with errno $errno"
	[ "$errno" != 14 ] || why+=" (EFAULT: the host takes exactly its own size)"
	grep -a -B2 -A2 'ptrace set fp regs failed' <<<"$out" | sed 's/^/    /'
	die "preflight: this host refuses the test kernel's userspace, not a failure of the shim: its XSTATE is ${host:-?} bytes, the UML in $tree moves ${fixed:+a fixed }${fixed:-its} FP state${fixed:+ of $fixed bytes}, and $why. Debian's tree gets scripts/uml-fixes/ from 'make tree'; a KSRC= tree needs them, or Linux 6.13+ (see 'Host requirements' in README.rst). Log: $log"
}

# pass_boot NAME GLOB INDEX [FILE [ARG...]]: boot once with a suite glob
# and the kernel arguments ARG...; sets BOOT_LOG and BOOT_RC. kunit.py's
# view of the results (shown by pass_judge) goes to FILE (default, or
# empty: the terminal).
#
# The kernel is started directly, not through kunit.py exec, which always
# halts right after the suites: here the built-in suites run, then
# scripts/uml-init.sh runs as PID 1 to make kmemleak scan, and powers
# off. kunit.py parse then shows the results.
pass_boot() {
	local name=$1 glob=$2 i=$3 out=${4:-}
	shift 3
	[ "$#" = 0 ] || shift
	msg "$name: booting UML, suites '$glob'${*:+ ($*)}"
	uml_boot "$name" "$DSHIM_LOGS/$name-$i.log" "$DSHIM_TIMEOUT" \
		"$DSHIM_SCRIPTS/uml-init.sh" "kunit.filter_glob=$glob" kunit.enable=1 "$@"
	BOOT_OUT=$out
}

# uml_kmemleak_contended NAME: build-NAME is a UML with SMP and kmemleak
# (7.3's UML passes). kmemleak serialises every allocation and free on
# one global lock; with 4 vCPU threads on a 2-core host, the threads spin
# on it whenever its holder's thread is not running. The torture test
# then made 2,700 to 3,900 jobs in 73-77 s instead of over 100,000
# (52,000 with 2 vCPUs), and the e2e loop killed 25 processes in 25 s
# instead of over 300. Those two boots run with kmemleak=off there; every
# other suite keeps it.
uml_kmemleak_contended() {
	build_config_has "$1" CONFIG_SMP && build_config_has "$1" CONFIG_DEBUG_KMEMLEAK
}

# pass_boot_plan NAME GLOB: the boots that run GLOB's suites on build-NAME's
# kernel, one per line: a glob, then kernel arguments, if any. The
# torture test gets a boot of its own with kmemleak=off, and a longer cap,
# where kmemleak is contended (uml_kmemleak_contended).
pass_boot_plan() {
	local name=$1 glob=$2
	# shellcheck disable=SC2053 # GLOB matched against the torture's name
	if ! uml_kmemleak_contended "$name" || [[ dshim_torture != $glob ]]; then
		echo "$glob"
		return
	fi
	case $glob in
	'dshim*') printf '%s\n' 'dshim_[!t]*' 'dshim_teardown*' ;;
	'dshim_[dt]*') printf '%s\n' 'dshim_demo*' 'dshim_teardown*' ;;
	dshim_torture*) ;;
	*) msg "$name: '$glob' and the torture test in one boot: kmemleak off for all of it" >&2 ;;
	esac
	# 4 vCPU threads on a 2-core host: 100,000 jobs took 46 s to 62 s on
	# one host (a demo stopped short at the default 60 s cap, 3 times
	# torture_ms); the smp pass's cap, which only a slower host reaches
	case $glob in
	'dshim*' | 'dshim_[dt]*' | dshim_torture*)
		echo 'dshim_torture kmemleak=off dshim_kunit.torture_max_ms=200000' ;;
	*) echo "$glob kmemleak=off dshim_kunit.torture_max_ms=200000" ;;
	esac
}

# torture_line: the torture test's summary line in BOOT_LOG, if any
# ("N ms: N jobs ..., N freed of N created").
torture_line() {
	tr -d '\r' <"$BOOT_LOG" | sed -n 's/.*# dshim_torture_queues: \([0-9]* ms: .*\)/\1/p' | tail -n 1
}

# boot_cpus_up: how many CPUs the last boot (BOOT_LOG) says came up
# ("smp: Brought up 1 node, 4 CPUs"), or nothing.
boot_cpus_up() {
	tr -d '\r' <"$BOOT_LOG" |
		sed -n 's/.*smp: Brought up [0-9]* nodes\{0,1\}, \([0-9]*\) CPUs\{0,1\}$/\1/p' | head -n 1
}

# boot_cpus_check NAME: for a boot that was to run on BOOT_CPUS (> 1)
# CPUs, says how many came up when all did, or sets BOOT_CPUS_PROBLEM
# ("N CPUs came up, not M") and returns 1 when fewer did. True for a boot
# on one CPU. The UML passes and the e2e boots share it.
boot_cpus_check() {
	local up
	BOOT_CPUS_PROBLEM=
	[ "${BOOT_CPUS:-0}" -gt 1 ] || return 0
	up=$(boot_cpus_up)
	if [ "$up" = "$BOOT_CPUS" ]; then
		msg "$1: $up CPUs came up"
		return 0
	fi
	BOOT_CPUS_PROBLEM="${up:-no} CPUs came up, not $BOOT_CPUS"
	return 1
}

# boot_cpus_ok NAME: boot_cpus_check, the problem added to PASS_PROBLEMS.
boot_cpus_ok() {
	boot_cpus_check "$1" && return 0
	PASS_PROBLEMS+=("$1: $BOOT_CPUS_PROBLEM ($BOOT_LOG)")
	return 1
}

# True if the last boot ended with exit 134 right after a complete
# "reboot: Power down": UML's host process aborting on its way out, not
# the kernel under test (see pass_judge).
boot_aborted_after_power_off() {
	[ "$BOOT_RC" = 134 ] && tail -n 3 "$BOOT_LOG" | grep -q '^reboot: Power down'
}

# kunit.py's summary of BOOT_LOG, to BOOT_OUT or the terminal.
show_results() {
	# (Not >/dev/stdout: that would truncate a log file stdout goes to.)
	if [ -n "$BOOT_OUT" ]; then exec 8>"$BOOT_OUT"; else exec 8>&1; fi
	(cd "$(dshim_tree)" && "$PYTHON" tools/testing/kunit/kunit.py parse "$BOOT_LOG") >&8 2>&1 || true
	exec 8>&-
}

# pass_judge NAME GLOB OPTIONAL: count results and scan BOOT_LOG.
# OPTIONAL=1: a glob that matches no suite is not an error.
pass_judge() {
	local name=$1 glob=$2 optional=$3 counts p f s c n k line scan
	local -a allow=()
	[ "${DSHIM_ALLOW_SKIP:-0}" = 1 ] && allow=(--allow-skip)
	counts=$("$PYTHON" "$DSHIM_SCRIPTS/ktap-count.py" "${allow[@]}" "$BOOT_LOG" || true)
	read -r p f s c n <<<"$(head -n 1 <<<"$counts")"
	if ! [[ "$p $f $s $c $n" =~ ^[0-9]+\ [0-9]+\ [0-9]+\ [0-9]+\ [0-9]+$ ]]; then
		p=0 f=0 s=0 c=1 n=0
		counts=$'x\ncrashed: cannot count results in '"$BOOT_LOG"
	fi
	while IFS= read -r line; do
		if [ "${DSHIM_ALLOW_SKIP:-0}" = 1 ] && [[ $line == skipped:* ]]; then
			msg "$name: $line (allowed: DSHIM_ALLOW_SKIP=1)"
		else
			PASS_PROBLEMS+=("$name: $line")
		fi
	done < <(tail -n +2 <<<"$counts")

	if [ "$n" != 0 ] || [ "$c" != 0 ] || [ "$optional" != 1 ]; then
		show_results
	fi
	if [ "$n" = 0 ] && [ "$c" = 0 ]; then
		if [ "$optional" = 1 ]; then
			msg "$name: no suite matches '$glob' (yet): nothing to run"
		else
			PASS_PROBLEMS+=("$name: no suite matches '$glob'")
			f=$((f + 1))
		fi
	fi
	if [ "$BOOT_RC" = 124 ] || [ "$BOOT_RC" = 137 ]; then
		PASS_PROBLEMS+=("$name: timeout: the kernel was killed after DSHIM_TIMEOUT=$DSHIM_TIMEOUT s")
		[ "$c" != 0 ] || f=$((f + 1))
	elif [ "$c" = 0 ] && boot_aborted_after_power_off; then
		# The kernel ran every test, was scanned clean and powered off;
		# then the UML host process aborted while exiting (seen once in
		# about 30 boots of an unchanged kernel, never reproduced). That
		# is UML's host side, not the kernel under test: said, not failed.
		msg "$name: note: UML aborted on its way out after a complete power-off (exit 134); results kept (log: $BOOT_LOG)"
	elif [ "$BOOT_RC" != 0 ] && [ "$c" = 0 ]; then
		PASS_PROBLEMS+=("$name: the kernel exited with status $BOOT_RC (see $BOOT_LOG)")
		f=$((f + 1))
	fi
	if [ "$c" != 0 ]; then
		f=$((f + 1)) # the crash itself
	fi
	boot_cpus_ok "$name" || f=$((f + 1))
	line=$(torture_line)
	[ -z "$line" ] || msg "$name: torture on $( ((BOOT_CPUS > 1)) && echo "$BOOT_CPUS" || echo 1) CPU(s): $line"
	if [ "${DSHIM_ALLOW_SKIP:-0}" = 1 ]; then
		p=$((p + s))
	else
		f=$((f + s))
	fi

	# Every splat is one more failure, whatever KUnit said.
	scan=$("$PYTHON" "$DSHIM_SCRIPTS/scan-log.py" "${SCAN_ARGS[@]}" "$BOOT_LOG" || true)
	if [ -n "$scan" ]; then
		printf '%s\n' "$scan"
		k=$(grep -v '^scan-log: listed' <<<"$scan" | grep -c '^scan-log: .* at ' || true)
		[ "$k" = 0 ] || PASS_PROBLEMS+=("$name: $k kernel debug splat(s) in $BOOT_LOG (shown above)")
		f=$((f + k))
	fi
	PASS_PASSED=$((PASS_PASSED + p))
	PASS_FAILED=$((PASS_FAILED + f))
	PASS_SUITES=$((PASS_SUITES + n))
	PASS_LOGS+=("$BOOT_LOG")
}

# pass_run NAME: build, boot every glob, judge; sets PASS_*.
pass_run() {
	local name=$1 tree i=0 optional globs glob boot_glob args
	tree=$(dshim_tree)
	PASS_PASSED=0 PASS_FAILED=0 PASS_SUITES=0 PASS_PROBLEMS=() PASS_LOGS=()
	if ! pass_build "$name" "$tree"; then
		PASS_FAILED=1
		return
	fi
	globs=$(pass_globs "$name")
	# With several default globs, any one may match nothing (yet); so may
	# a SUITES glob in one of several passes (check.sh then checks that
	# some pass ran something).
	optional=${DSHIM_SUITES_OPTIONAL:-0}
	[ "$(wc -l <<<"$globs")" -gt 1 ] && optional=1
	while IFS= read -r glob; do
		while read -r -u 7 boot_glob args; do
			i=$((i + 1))
			# shellcheck disable=SC2086 # kernel arguments, one per word
			pass_boot "$name" "$boot_glob" "$i" '' $args
			pass_judge "$name" "$boot_glob" "$optional"
		done 7< <(pass_boot_plan "$name" "$glob")
	done <<<"$globs"
	if [ "$optional" = 1 ] && [ -z "${SUITES:-}" ] && [ "$PASS_SUITES" = 0 ] &&
		[ "$PASS_FAILED" = 0 ]; then
		PASS_PROBLEMS+=("$name: no suite matches any of: $(tr '\n' ' ' <<<"$globs")")
		PASS_FAILED=1
	fi
}
