# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# shellcheck disable=SC2034 # BOOT_*, E2E_*, PASS_*, SCAN_ARGS: passes.sh's and e2e.sh's
#
# make check's smp and kcsan passes (sourced by check.sh, after passes.sh
# and e2e.sh): the KUnit suites on an x86-64 guest with several CPUs, as
# 6.12's UML has only one. kunit.py configures; QEMU boots as kunit.py
# would start it (qemu_configs/x86_64.py) with '-smp 4 -accel
# tcg,thread=multi' (smp_boot says why not through kunit.py exec), and
# the console log is judged like the C pass's (ktap-count.py,
# scan-log.py).
#
#   smp    kunit/.kunitconfig without kmemleak and hostfs (KASAN, lockdep,
#          debug objects) + e2e.kunitconfig + smp.kunitconfig: every
#          dshim* suite, the torture test at full strength, then the e2e
#          kill loop with the guest's own userspace (an initramfs)
#   kcsan  kunit/kcsan.kunitconfig + smp.kunitconfig: every dshim* suite
#          under KCSAN; a data race in the project's code fails, races in
#          core kernel code only are listed
#
# The accelerator is KVM when a guest really boots with it on this host
# (a nested or emulated /dev/kvm may hang it), multi-threaded TCG
# otherwise; the pass says which ran.
#
# Environment: DSHIM_SMP_CPUS (vCPUs, default 4), DSHIM_SMP_MEM (MiB,
# default 2048), DSHIM_SMP_KERNEL_ARGS and DSHIM_SMP_KCSAN_ARGS (see
# below), DSHIM_SMP_ACCEL (kvm or tcg: skip the probe),
# DSHIM_SMP_REPEAT (the torture test N times, default 1: its run in the
# suites' boot; each further one is a boot of its own), DSHIM_SMP_E2E_SECONDS
# (default 40: a TCG guest starts 5 to 9 clients a second), and
# DSHIM_SMP_E2E_MIN_KILLED (default 100).

SMP_CPUS=${DSHIM_SMP_CPUS:-4}
SMP_MEM=${DSHIM_SMP_MEM:-2048}
# Kernel arguments of every SMP boot: full preemption (more interleavings
# than the configured default, none), every KASAN report; the torture's
# least run time is kept, its hard limit raised for TCG.
SMP_KERNEL_ARGS=${DSHIM_SMP_KERNEL_ARGS:-preempt=full kasan_multi_shot dshim_kunit.torture_max_ms=200000}
# The kcsan pass's on top: a watchpoint every ~200 accesses instead of
# ~4000 (the suites' boot takes 60-85 s instead of about 45 s under TCG).
SMP_KCSAN_ARGS=${DSHIM_SMP_KCSAN_ARGS:-kcsan.skip_watch=200}

# The qemu arguments of the chosen accelerator (smp_accel).
SMP_ACCEL=''
SMP_QEMU_ARGS=''

# smp_qemu_accel_args ACCEL: qemu's arguments for it.
smp_qemu_accel_args() {
	case $1 in
	kvm) echo "-accel kvm -cpu host -smp $SMP_CPUS -m $SMP_MEM" ;;
	tcg) echo "-accel tcg,thread=multi -smp $SMP_CPUS -m $SMP_MEM" ;;
	esac
}

# smp_qemu NAME TIMEOUT LOG APPEND QEMU_ARG...: QEMU as kunit.py starts
# it (qemu_configs/x86_64.py), with QEMU_ARG... (the accelerator's, and
# more), build-NAME's kernel and the kernel command line APPEND, killed
# after TIMEOUT seconds (exit 137); its console goes to LOG. Returns
# QEMU's exit status.
#
# With SMP_EARLY_MARK (an extended regex), QEMU is also killed, with exit
# 75, when the console has not shown it within DSHIM_SMP_EARLY_SECS (150)
# seconds: the guest stalled in early boot, before its tests began. Seen
# once in about a dozen 7.3 boots under TCG: no output
# after "smp: Brought up 1 node, 4 CPUs" for 5 minutes, QEMU spinning.
smp_qemu() {
	local name=$1 timeout=$2 log=$3 append=$4 pid t=0 rc=0 early=${SMP_EARLY_MARK:-}
	shift 4
	qemu-system-x86_64 -nodefaults -nographic -no-reboot \
		-serial stdio -bios qboot.rom "$@" \
		-kernel "$DSHIM_KCACHE/build-$name/arch/x86/boot/bzImage" -append "$append" \
		</dev/null >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if [ -n "$early" ] && grep -aqE "$early" "$log"; then
			early=''
		elif [ -n "$early" ] && [ "$t" -ge "${DSHIM_SMP_EARLY_SECS:-150}" ]; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			echo "dshim: no '$SMP_EARLY_MARK' on the console after $t s: the guest stalled in early boot, killed" >>"$log"
			return 75
		fi
		if [ "$t" -ge "$timeout" ]; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 137
		fi
		sleep 1
		t=$((t + 1))
	done
	wait "$pid" || rc=$?
	return "$rc"
}

# smp_qemu_retry NAME TIMEOUT LOG APPEND QEMU_ARG...: smp_qemu, once
# more if the guest stalled in early boot (exit 75), which is said; the
# stalled boot's log is kept as LOG.stalled.
smp_qemu_retry() {
	local rc=0
	smp_qemu "$@" || rc=$?
	if [ "$rc" = 75 ]; then
		mv -f "$3" "$3.stalled"
		msg "$1: the guest stalled in early boot, before its tests began (log: $3.stalled): booting it again"
		rc=0
		smp_qemu "$@" || rc=$?
	fi
	return "$rc"
}

# smp_accel NAME: pick the accelerator for build-NAME's kernel; sets
# SMP_ACCEL and SMP_QEMU_ARGS. /dev/kvm is tried once per host (the
# answer is kept in the cache): the kernel boots with no init to run, and
# if it gets as far as looking for one within a minute, KVM works.
smp_accel() {
	local name=$1 key file=$DSHIM_CACHE/smp-accel log line
	local why
	if [ -n "${DSHIM_SMP_ACCEL:-}" ]; then
		case $DSHIM_SMP_ACCEL in kvm | tcg) ;; *) die "DSHIM_SMP_ACCEL=$DSHIM_SMP_ACCEL: expected kvm or tcg" ;; esac
		SMP_ACCEL=$DSHIM_SMP_ACCEL
		why='DSHIM_SMP_ACCEL'
	elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		SMP_ACCEL=tcg
		why='no usable /dev/kvm'
	else
		key="$(uname -r) $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
		line=$(grep -F "$key:" "$file" 2>/dev/null | tail -n 1 || true)
		if [ -n "$line" ]; then
			SMP_ACCEL=${line##*: }
			why="the probe of this host, kept in $file"
		else
			log=$DSHIM_LOGS/$name-kvm-probe.log
			msg "$name: does a guest boot with /dev/kvm here? (up to 60 s)"
			# (in a subshell: QEMU may abort, and bash would say so)
			# shellcheck disable=SC2046 # the accelerator's arguments
			(smp_qemu "$name" 60 "$log" 'console=ttyS0 kunit.enable=0 panic=-1 rdinit=/dshim-none' \
				$(smp_qemu_accel_args kvm)) 2>/dev/null || true
			if grep -aq 'Kernel panic' "$log"; then
				SMP_ACCEL=kvm
			else
				SMP_ACCEL=tcg
			fi
			echo "$key: $SMP_ACCEL" >>"$file"
			why="probed: a KVM guest $([ "$SMP_ACCEL" = kvm ] && echo booted || echo "did not boot (log: $log)")"
		fi
	fi
	SMP_QEMU_ARGS=$(smp_qemu_accel_args "$SMP_ACCEL")
	msg "$name: accelerator: $SMP_ACCEL, $SMP_CPUS vCPUs ($why)"
}

# smp_boot NAME LOG TIMEOUT GLOB: one boot of build-NAME's kernel, the
# KUnit suites matching GLOB, with the kernel arguments kunit.py exec
# gives (KUnit on, shut down after the suites); its console goes to LOG.
# Sets BOOT_LOG, BOOT_RC and BOOT_OUT (empty: kunit.py's summary to the
# terminal). QEMU is started directly: 7.x's kunit.py puts "-accel kvm"
# before any accelerator of --qemu_args, and QEMU takes the first that
# initialises, so a /dev/kvm that hangs guests would hang every boot.
smp_boot() {
	local name=$1 log=$2 timeout=$3 glob=$4 rc=0 t0 args
	args="console=ttyS0 $SMP_KERNEL_ARGS"
	[ "$name" != kcsan ] || args+=" $SMP_KCSAN_ARGS"
	args+=" kunit.filter_glob=$glob kunit.enable=1 kunit_shutdown=reboot"
	BOOT_LOG=$log BOOT_OUT='' BOOT_CPUS=$SMP_CPUS
	rm -f "$BOOT_LOG"
	t0=$(date +%s)
	# shellcheck disable=SC2086 # the accelerator's arguments
	SMP_EARLY_MARK='KTAP version|Run /' smp_qemu_retry "$name" "$timeout" "$BOOT_LOG" \
		"$args" $SMP_QEMU_ARGS || rc=$?
	if [ "$rc" = 137 ] || [ "$rc" = 75 ]; then
		echo "dshim: the kernel did not finish within $timeout s: killed" >>"$BOOT_LOG"
		rc=124
	fi
	msg "$name: boot finished in $(elapsed "$t0") (exit $rc); kernel log: $BOOT_LOG"
	BOOT_RC=$rc
}

# smp_project_symbols NAME: the functions defined in the project's objects
# of build-NAME, one per line, into a file whose path is printed (for
# scan-log.py --project-symbols).
smp_project_symbols() {
	local bd=$DSHIM_KCACHE/build-$1 out=$DSHIM_KCACHE/build-$1/dshim-symbols.txt
	find "$bd/drivers/gpu/drm/sched_shim" -name '*.o' ! -name '*.mod.o' \
		-exec nm --defined-only {} + 2>/dev/null |
		awk '$2 ~ /^[tTwW]$/ { print $3 }' | sort -u >"$out"
	echo "$out"
}

# smp_initramfs NAME: the e2e kill loop's userspace for the guest, built
# with the kernel's own usr/gen_init_cpio: scripts/e2e-init.sh as init,
# the static vgpu-client, vgpu's modules (e2e_modules), and bash and the
# few host tools the script uses with their shared libraries. Prints its
# path.
smp_initramfs() {
	local bd=$DSHIM_KCACHE/build-$1 list=$DSHIM_KCACHE/build-$1/e2e-initramfs.list
	local out=$DSHIM_KCACHE/build-$1/e2e-initramfs.cpio tool path lib d
	local -a files=()
	[ -x "$bd/usr/gen_init_cpio" ] || die "$bd/usr/gen_init_cpio not built (CONFIG_BLK_DEV_INITRD)"
	for tool in bash cat dirname grep mkdir mount seq sed sleep sort timeout touch tr uniq wc; do
		path=$(command -v "$tool") || die "$tool not found on this host (the guest's e2e userspace)"
		path=$(readlink -f "$path")
		files+=("$path")
		while read -r lib; do files+=("$lib"); done < <(ldd "$path" 2>/dev/null |
			sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p')
	done
	{
		echo 'dir /dev 0755 0 0'
		echo 'nod /dev/console 0600 0 0 c 5 1'
		echo 'dir /proc 0755 0 0'
		echo 'dir /sys 0755 0 0'
		echo 'dir /dshim 0755 0 0'
		echo 'dir /bin 0755 0 0'
		echo 'slink /bin/sh /bin/bash 0777 0 0'
		printf '%s\n' "${files[@]}" | sort -u | while read -r path; do
			d=${path%/*}
			# every parent dir, outermost first
			while [ -n "$d" ]; do echo "dir $d 0755 0 0" && d=${d%/*}; done | tac
			echo "file $path $(readlink -f "$path") 0755 0 0"
		done | awk '!seen[$0]++'
		path=$(readlink -f "$(command -v bash)")
		[ "$path" = /bin/bash ] || echo "slink /bin/bash $path 0777 0 0"
		echo "file /dshim/e2e-init.sh $DSHIM_SCRIPTS/e2e-init.sh 0755 0 0"
		echo "file /dshim/uml-init.sh $DSHIM_SCRIPTS/uml-init.sh 0755 0 0"
		echo "file /dshim/vgpu-client $E2E_CLIENT 0755 0 0"
		tr ':' '\n' <<<"$(e2e_modules "$1")" | while read -r path; do
			[ -z "$path" ] || echo "file /dshim/${path##*/} $path 0644 0 0"
		done
	} >"$list"
	"$bd/usr/gen_init_cpio" "$list" >"$out" || die "gen_init_cpio $list failed"
	echo "$out"
}

# smp_e2e NAME: the e2e kill loop in build-NAME's guest; adds its checks
# to PASS_*.
smp_e2e() {
	local name=$1 secs=${DSHIM_SMP_E2E_SECONDS:-40} min=${DSHIM_SMP_E2E_MIN_KILLED:-100}
	local initrd t0 rc=0
	if ! e2e_client; then
		PASS_PROBLEMS+=("$name: the e2e client does not build (log: $DSHIM_LOGS/e2e-client-build.log)")
		PASS_FAILED=$((PASS_FAILED + 1))
		return
	fi
	initrd=$(smp_initramfs "$name")
	# as e2e_boot does, for e2e_judge
	E2E_MODULES=$(e2e_modules "$name" /dshim)
	msg "$name: e2e: booting the guest (vgpu.raw=0, initramfs $initrd): ${secs}s of the kill loop on $SMP_CPUS vCPUs"
	# QEMU as kunit.py starts it, but directly: kunit.py exec always
	# adds kunit.enable=1 and reboots right after the suites
	BOOT_LOG=$DSHIM_LOGS/$name-e2e.log BOOT_CPUS=$SMP_CPUS
	t0=$(date +%s)
	# shellcheck disable=SC2086 # the accelerator's arguments
	SMP_EARLY_MARK='Run /dshim/e2e-init.sh|^e2e: ' \
		smp_qemu_retry "$name" $((secs + ${DSHIM_E2E_GRACE:-240})) "$BOOT_LOG" \
		"console=ttyS0 $SMP_KERNEL_ARGS kunit.enable=0 vgpu.raw=0 rdinit=/dshim/e2e-init.sh DSHIM_E2E_CLIENT=/dshim/vgpu-client DSHIM_E2E_SECONDS=$secs DSHIM_E2E_BATCH=${DSHIM_E2E_BATCH:-10}${E2E_MODULES:+ DSHIM_E2E_MODULES=$E2E_MODULES}" \
		$SMP_QEMU_ARGS -initrd "$initrd" || rc=$?
	[ "$rc" != 137 ] && [ "$rc" != 75 ] || echo "dshim: the kernel did not finish in time: killed" >>"$BOOT_LOG"
	BOOT_RC=$rc
	msg "$name: e2e: boot finished in $(elapsed "$t0") (exit $rc); kernel log: $BOOT_LOG"
	E2E_MODE=$name
	e2e_judge "$secs" "$min" 1
	PASS_PASSED=$((PASS_PASSED + E2E_PASSED))
	PASS_FAILED=$((PASS_FAILED + E2E_FAILED))
	PASS_PROBLEMS+=("${E2E_PROBLEMS[@]}")
	PASS_LOGS+=("$BOOT_LOG")
}

# smp_pass NAME (smp or kcsan): build, pick the accelerator, boot every
# dshim* suite, the torture test again DSHIM_SMP_REPEAT - 1 times, and
# for smp the e2e kill loop; sets PASS_* like pass_run.
smp_pass() {
	local name=$1 glob=${SUITES:-dshim*} repeat=${DSHIM_SMP_REPEAT:-1} i
	PASS_PASSED=0 PASS_FAILED=0 PASS_SUITES=0 PASS_PROBLEMS=() PASS_LOGS=()
	case $repeat in '' | *[!0-9]* | 0) die "DSHIM_SMP_REPEAT=$repeat: expected a positive number" ;; esac
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found: run make setup"
	if ! pass_build "$name" "$(dshim_tree)"; then
		PASS_FAILED=1
		return
	fi
	smp_accel "$name"
	SCAN_ARGS=()
	[ "$name" != kcsan ] || SCAN_ARGS=(--project-symbols "$(smp_project_symbols "$name")")
	msg "$name: booting x86-64 ($SMP_ACCEL, $SMP_CPUS vCPUs), suites '$glob'"
	smp_boot "$name" "$DSHIM_LOGS/$name-1.log" "$DSHIM_TIMEOUT" "$glob"
	# (pass_judge says the torture line of each boot)
	pass_judge "$name" "$glob" "${DSHIM_SUITES_OPTIONAL:-0}"
	for ((i = 2; i <= repeat; i++)); do
		msg "$name: torture run $i of $repeat"
		smp_boot "$name" "$DSHIM_LOGS/$name-torture-$i.log" "$DSHIM_TIMEOUT" 'dshim_torture'
		pass_judge "$name" 'dshim_torture' 0
	done
	if [ "$name" = smp ] && [ -z "${SUITES:-}" ]; then
		smp_e2e "$name"
	fi
	SCAN_ARGS=()
	msg "$name: ran on $SMP_ACCEL with $SMP_CPUS vCPUs"
}
