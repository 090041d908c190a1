# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The end-to-end test (sourced by check.sh and demo.sh, after passes.sh):
# the vgpu sample driver in the C pass's kernel, real processes in the UML
# guest opening its render node and dying of timeout(1) at random points
# (scripts/e2e-init.sh is their PID 1), and the judge of that boot.
#
#   e2e_client               build the static vgpu-client on the host
#   e2e_boot NAME MODE SECS  boot build-NAME with vgpu.raw=0 (MODE shim, amx)
#                            or 1 (raw), or for rvgpu (MODE rvgpu), for a
#                            SECS-second loop
#   e2e_judge SECS MIN_KILLED STRICT
#                            the checks of the last e2e_boot; sets E2E_*
#   e2e_pass                 make check's e2e pass: the three above
#   e2e_amx_pass             make check's amx pass: a shorter e2e pass on
#                            this host made to look like an Intel AMX one
#   e2e_rvgpu_pass           make check's rvgpu pass (7.x): the e2e pass on
#                            rvgpu, the Rust twin of vgpu, in the Rust
#                            pass's kernel
#
# Environment: DSHIM_E2E_BATCH (clients per batch, default 10).

# The client against the current kernel's uapi headers as headers_install
# exports them (scripts/headers_install.sh, which also checks they are
# exportable); sets E2E_CLIENT.
e2e_client() {
	E2E_DIR=$DSHIM_KCACHE/e2e
	E2E_CLIENT=$E2E_DIR/vgpu-client
	local tree h log=$DSHIM_LOGS/e2e-client-build.log
	tree=$(dshim_tree)
	mkdir -p "$E2E_DIR/scripts" "$E2E_DIR/include/drm" "$DSHIM_LOGS"
	(
		set -e
		gcc -O2 -o "$E2E_DIR/scripts/unifdef" "$tree/scripts/unifdef.c"
		for h in "$tree/include/uapi/drm/drm.h" "$tree/include/uapi/drm/drm_mode.h" \
			"$DSHIM_TOP/include/uapi/drm/vgpu_drm.h"; do
			(cd "$E2E_DIR" && sh "$tree/scripts/headers_install.sh" "$h" \
				"include/drm/${h##*/}")
		done
		# 7.x's drm_mode.h includes linux/bits.h, which Debian 12's
		# libc headers (Linux 6.1) lack
		mkdir -p "$E2E_DIR/include/linux"
		if [ -f "$tree/include/uapi/linux/bits.h" ]; then
			(cd "$E2E_DIR" && sh "$tree/scripts/headers_install.sh" \
				"$tree/include/uapi/linux/bits.h" include/linux/bits.h)
		fi
		gcc -static -O2 -Wall -Wextra -Werror -I "$E2E_DIR/include" \
			-o "$E2E_CLIENT" "$DSHIM_TOP/samples/vgpu/user/vgpu-client.c"
	) >"$log" 2>&1 || {
		sed 's/^/    /' "$log"
		return 1
	}
	msg "e2e: built $E2E_CLIENT (static)"
}

# e2e_modules NAME [DIR]: the modules vgpu needs from build-NAME, its
# dependencies first (each module's own "depends=" in .modinfo, as
# modprobe reads it), ':'-separated; as DIR/FILE.ko if DIR is given, else
# their paths on this host. Only modules of the build's modules.order
# count (no stale .ko of an earlier config); empty when vgpu is built in.
e2e_modules() {
	local bd=$DSHIM_KCACHE/build-$1 dir=${2:-} line
	local -a built=() order=()
	[ -r "$bd/modules.order" ] || return 0
	while read -r line; do built+=("$bd/${line%.o}.ko"); done <"$bd/modules.order"
	# e2e_modules_path NAME: the built module NAME ('-' and '_' alike)
	e2e_modules_path() {
		local path base
		for path in "${built[@]}"; do
			base=${path##*/}
			base=${base%.ko}
			[ "${base//-/_}" != "${1//-/_}" ] || { echo "$path"; return; }
		done
	}
	e2e_modules_add() {
		local path=$1 dep deps p
		deps=$(tr '\0' '\n' <"$path" | sed -n 's/^depends=//p' | head -n 1)
		for dep in ${deps//,/ }; do
			p=$(e2e_modules_path "$dep")
			[ -n "$p" ] || die "$path needs $dep.ko, which $bd did not build"
			e2e_modules_add "$p"
		done
		[[ " ${order[*]} " == *" $path "* ]] || order+=("$path")
	}
	line=$(e2e_modules_path vgpu)
	[ -z "$line" ] || e2e_modules_add "$line"
	unset -f e2e_modules_add e2e_modules_path
	[ -z "$dir" ] || order=("${order[@]/#*\//$dir/}")
	(IFS=: && echo "${order[*]}")
}

# e2e_boot NAME MODE SECS: sets BOOT_LOG, BOOT_RC, E2E_MODE, E2E_MODULES.
e2e_boot() {
	local name=$1 mode=$2 secs=$3 raw=0 grace
	local -a dargs=()
	[ "$mode" = raw ] && raw=1
	E2E_MODE=$mode
	E2E_MODULES=$(e2e_modules "$name")
	if [ "$mode" = rvgpu ]; then
		dargs=(DSHIM_E2E_DRIVER=rvgpu)
		msg "e2e: booting UML ($name kernel, rvgpu): ${secs}s of the kill loop"
	else
		dargs=("vgpu.raw=$raw")
		msg "e2e: booting UML ($name kernel, vgpu.raw=$raw): ${secs}s of the kill loop"
	fi
	# raw drm_sched livelocks the kernel on purpose (it spins on a
	# freed spinlock): do not wait long past the loop
	grace=${DSHIM_E2E_GRACE:-240}
	[ "$mode" = raw ] && grace=${DSHIM_E2E_RAW_GRACE:-45}
	local -a more=()
	if uml_kmemleak_contended "$name"; then
		more=(kmemleak=off)
		msg "e2e: kmemleak off for this boot (see uml_kmemleak_contended)"
	fi
	uml_boot "$name" "$DSHIM_LOGS/e2e-$mode.log" $((secs + grace)) \
		"$DSHIM_SCRIPTS/e2e-init.sh" kunit.enable=0 "${dargs[@]}" \
		"DSHIM_E2E_CLIENT=$E2E_CLIENT" "DSHIM_E2E_SECONDS=$secs" \
		"DSHIM_E2E_BATCH=${DSHIM_E2E_BATCH:-10}" \
		${E2E_MODULES:+"DSHIM_E2E_MODULES=$E2E_MODULES"} "${more[@]}"
}

# e2e_field NAME [KIND]: a field of the guest's last "e2e: loop" or "e2e:
# result" line (or "e2e: KIND" line, e.g. module), or empty.
e2e_field() {
	sed -n "s/^e2e: \\(${2:-loop\\|result}\\) .*\\b$1=\\([0-9a-z]*\\).*/\\2/p" <<<"$E2E_OUT" |
		tail -n 1
}

# e2e_judge SECS MIN_KILLED STRICT: judge BOOT_LOG. Sets E2E_PASSED,
# E2E_FAILED, E2E_PROBLEMS, E2E_COUNTS (scan-log.py --counts),
# E2E_REPORTS (kernel reports), E2E_STARTED,
# E2E_KILLED, E2E_JOBS, E2E_LEAKED, E2E_SECONDS (the last three "?" if the
# guest never got that far). STRICT=1 (the shim): every check must
# pass; STRICT=0 (raw): only counted, the reports are the point.
# shellcheck disable=SC2034 # E2E_*: results for the caller
e2e_judge() {
	local secs=$1 min_killed=$2 strict=$3 bp bf
	E2E_PASSED=0 E2E_FAILED=0 E2E_PROBLEMS=()
	check() { # check OK WHAT
		if [ "$1" = 1 ]; then
			E2E_PASSED=$((E2E_PASSED + 1))
		else
			E2E_FAILED=$((E2E_FAILED + 1))
			E2E_PROBLEMS+=("e2e $E2E_MODE: $2")
		fi
	}
	# the guest's lines (its console ends them with CR LF)
	E2E_OUT=$(tr -d '\r' <"$BOOT_LOG" | grep -a '^e2e: ' || true)
	grep -v -e '^e2e: badinput: ok ' -e '^e2e: r\{0,1\}vgpu: ' -e '^e2e: shim: ' \
		-e '^e2e: progress ' <<<"$E2E_OUT" | sed 's/^/    /'

	read -r bp bf < <(sed -n 's/^e2e: badinput: badinput: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' \
		<<<"$E2E_OUT" | tail -n 1) || true
	if [ -n "${bp:-}" ]; then
		E2E_PASSED=$((E2E_PASSED + bp))
		E2E_FAILED=$((E2E_FAILED + bf))
		[ "$bf" = 0 ] || E2E_PROBLEMS+=("e2e $E2E_MODE: $bf uapi bad-input case(s) failed (see above)")
	else
		check 0 "the uapi bad-input test did not finish"
	fi

	if [ "${BOOT_CPUS:-0}" -gt 1 ]; then
		boot_cpus_check "e2e $E2E_MODE" || true
		check "$([ -z "$BOOT_CPUS_PROBLEM" ] && echo 1)" "$BOOT_CPUS_PROBLEM"
	fi

	E2E_SECONDS=$(e2e_field seconds)
	E2E_STARTED=$(e2e_field started)
	E2E_KILLED=$(e2e_field killed)
	E2E_JOBS=$(e2e_field jobs)
	E2E_LEAKED=$(e2e_field leaked)
	local errors
	errors=$(e2e_field errors)
	# one line, "LOG: N reports, CATEGORY n, ..." (exit 1 when N > 0)
	E2E_COUNTS=$("$PYTHON" "$DSHIM_SCRIPTS/scan-log.py" --counts "$BOOT_LOG" || true)
	E2E_REPORTS=$(sed -n 's/.*: \([0-9]*\) reports\{0,1\}\b.*/\1/p' <<<"$E2E_COUNTS" | head -n 1)
	E2E_REPORTS=${E2E_REPORTS:-0}
	if [ -z "$E2E_KILLED" ]; then
		check 0 "the guest never finished its loop (crash or hang; kernel exit $BOOT_RC)"
		# how far it got
		E2E_SECONDS=$(e2e_field seconds progress)
		E2E_STARTED=$(e2e_field started progress)
		E2E_JOBS=$(e2e_field jobs progress)
		E2E_SECONDS=${E2E_SECONDS:-0} E2E_STARTED=${E2E_STARTED:-0}
		E2E_JOBS=${E2E_JOBS:-0} E2E_KILLED='?' E2E_LEAKED='?'
	elif [ -z "$E2E_LEAKED" ]; then
		check 0 "the guest never finished its final check (crash or hang; kernel exit $BOOT_RC)"
		E2E_LEAKED='?'
	else
		check "$([ "$E2E_SECONDS" -ge "$secs" ] && [ "$E2E_KILLED" -ge "$min_killed" ] && echo 1)" \
			"the loop ran ${E2E_SECONDS}s and killed $E2E_KILLED of $E2E_STARTED processes (wanted >= ${secs}s, >= $min_killed)"
		check "$([ "$errors" = 0 ] && echo 1)" "$errors client(s) failed (exit codes above)"
		check "$([ "$E2E_LEAKED" = 0 ] && echo 1)" "$E2E_LEAKED queue(s), job(s), buffer(s), fence(s) or timeline(s) never freed"
		check "$({ [ "$BOOT_RC" = 0 ] || boot_aborted_after_power_off; } && echo 1)" \
			"the kernel exited with status $BOOT_RC"
		if [ "$strict" = 1 ] && [ -n "${E2E_MODULES:-}" ]; then
			e2e_judge_unload
		fi
	fi
	if [ "$strict" = 1 ]; then
		# the reports themselves, only when there are any
		[ "$E2E_REPORTS" = 0 ] || "$PYTHON" "$DSHIM_SCRIPTS/scan-log.py" "$BOOT_LOG" || true
		check "$([ "$E2E_REPORTS" = 0 ] && echo 1)" "$E2E_REPORTS kernel report(s) in $BOOT_LOG (shown above)"
	fi
	unset -f check
}

# e2e_judge_unload: the checks of the guest's vgpu unload (the "e2e:
# module" line of scripts/e2e-init.sh), inside e2e_judge.
e2e_judge_unload() {
	local busy unloaded held named withheld unnamed
	busy=$(e2e_field busy module) unloaded=$(e2e_field unloaded module)
	held=$(e2e_field held module) named=$(e2e_field named module)
	withheld=$(e2e_field withheld module) unnamed=$(e2e_field unnamed module)
	if [ -z "$busy" ]; then
		check 0 "no 'e2e: module' line: the vgpu unload did not run to its end"
		return
	fi
	check "$([ "$held" = 1 ] && echo 1)" "the unload's job never reached the hardware (held=$held)"
	check "$([ "$busy" = 1 ] && echo 1)" "rmmod vgpu was not refused as busy while a closed queue's job was on the hardware: the module was not pinned"
	check "$([ "$unloaded" = 1 ] && echo 1)" "rmmod vgpu failed once its job was done"
	# named: the shim still answers for fences of an unloaded driver;
	# withheld: 6.17+ asks no driver for a signalled fence's names
	check "$([ $((${named:-0} + ${withheld:-0})) -ge 1 ] && [ "$unnamed" = 0 ] && echo 1)" \
		"after the unload the keeper read $named fence(s) with their names, $withheld signalled ones whose names the kernel withholds and $unnamed with neither (wanted >= 1 in all and 0)"
}

# e2e_pass: make check's short run on the C pass's kernel (built by the C
# pass if it ran, else here); sets PASS_* like pass_run.
# shellcheck disable=SC2034 # PASS_*: results for check.sh
e2e_pass() {
	local secs=${DSHIM_E2E_SECONDS:-25} min=${DSHIM_E2E_MIN_KILLED:-100}
	e2e_pass_ready e2e || return 0
	e2e_boot c shim "$secs"
	e2e_judge "$secs" "$min" 1
	e2e_pass_results
}

# e2e_rvgpu_pass: make check's rvgpu pass, the e2e pass once more with
# rvgpu (samples/rvgpu/, Rust) in place of vgpu: the same client, uapi
# cases, kill loop and checks, in the Rust pass's kernel (rvgpu built in,
# no vgpu); sets PASS_* like pass_run.
# shellcheck disable=SC2034 # PASS_*: results for check.sh
e2e_rvgpu_pass() {
	local secs=${DSHIM_E2E_SECONDS:-25} min=${DSHIM_E2E_MIN_KILLED:-100}
	e2e_pass_ready rvgpu rust || return 0
	e2e_boot rust rvgpu "$secs"
	e2e_judge "$secs" "$min" 1
	e2e_pass_results
}

# e2e_pass_ready NAME [BUILD]: start pass NAME's PASS_* afresh, build the
# kernel of pass BUILD (default c, unless that pass did) and the client;
# false, with the pass failed, if either does not build.
e2e_pass_ready() {
	local build=${2:-c}
	PASS_PASSED=0 PASS_FAILED=0 PASS_SUITES=1 PASS_PROBLEMS=() PASS_LOGS=()
	if [[ " $PASS_BUILT " != *" $DSHIM_KERNEL/$build "* ]] && ! pass_build "$build" "$(dshim_tree)"; then
		PASS_FAILED=1
		return 1
	fi
	if ! e2e_client; then
		PASS_PROBLEMS+=("$1: the client does not build (log: $DSHIM_LOGS/e2e-client-build.log)")
		PASS_FAILED=1
		return 1
	fi
}

# e2e_pass_results: the last e2e_judge's results as the pass's PASS_*.
e2e_pass_results() {
	PASS_PASSED=$E2E_PASSED PASS_FAILED=$E2E_FAILED
	PASS_PROBLEMS=("${E2E_PROBLEMS[@]}")
	PASS_LOGS=("$BOOT_LOG")
}

# e2e_amx_pass: make check's amx pass. The e2e test once more, shorter,
# with the test kernel's host made to look like an Intel Xeon with AMX
# (scripts/fake-xstate.c: an 11,008-byte XSTATE, which 6.12's UML could
# not run userspace on), so that every host proves the UML fix in
# scripts/uml-fixes/ there: many processes, signals and kills, each
# switch moving an FP area of the emulated size. On a host whose XSTATE
# is already that big, it is simply a second, native e2e run.
# shellcheck disable=SC2034 # PASS_*: results for check.sh
e2e_amx_pass() {
	local secs=${DSHIM_AMX_SECONDS:-10} min=${DSHIM_AMX_MIN_KILLED:-20}
	local size=${DSHIM_FAKE_XSTATE:-11008} host fixed
	case $size in
	'' | *[!0-9]*) die "DSHIM_FAKE_XSTATE=$size: expected a size in bytes" ;;
	esac
	if [ "$size" -lt 512 ] || [ $((size % 8)) != 0 ]; then
		die "DSHIM_FAKE_XSTATE=$size: expected at least 512 bytes, a multiple of 8"
	fi
	fixed=$(uml_fp_buffer "$(dshim_tree)")
	if [ -n "$fixed" ]; then
		# a KSRC tree without the fix: it would fail by design
		msg "amx: not run: the UML of $(dshim_tree) has a fixed ${fixed}-byte FP buffer (no scripts/uml-fixes/, see 'Host requirements' in README.rst)"
		PASS_PASSED=0 PASS_FAILED=0 PASS_SUITES=0 PASS_PROBLEMS=() PASS_LOGS=()
		return
	fi
	e2e_pass_ready amx || return 0
	host=$("$PYTHON" "$DSHIM_SCRIPTS/host-xstate.py" || echo '?')
	msg "amx: this host's XSTATE is $host bytes; the test kernel is shown $size (when that is more)"
	UML_FAKE_XSTATE=$size e2e_boot c amx "$secs"
	e2e_judge "$secs" "$min" 1
	# fake-xstate.so says what it showed the kernel, once, on stderr
	if grep -aq -e "^fake-xstate: XSTATE shown as $size bytes" \
		-e '^fake-xstate: this host has no XSTATE' "$BOOT_LOG"; then
		E2E_PASSED=$((E2E_PASSED + 1))
	else
		E2E_FAILED=$((E2E_FAILED + 1))
		E2E_PROBLEMS+=("amx: no 'fake-xstate: XSTATE shown as $size bytes' line in $BOOT_LOG: the emulation did not run")
	fi
	e2e_pass_results
}
