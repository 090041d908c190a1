#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# PID 1 of the end-to-end boot (scripts/e2e.sh): the 2023 report's loop,
#
#   while true; do for i in $(seq 1 10); do
#       timeout -k 0.01 0.05 glxgears & done; sleep 0.1; done
#
# with vgpu-client in place of glxgears, for DSHIM_E2E_SECONDS, against
# the vgpu driver (vgpu.raw=0: the shim, vgpu.raw=1: raw drm_sched), or
# its Rust twin rvgpu (DSHIM_E2E_DRIVER=rvgpu: samples/rvgpu/).
# Beside it a keeper process holds sync files and dma-bufs the clients
# send it, and a reader cats dma_buf/bufinfo and the counters in a loop.
# Then the final check: every process gone, every counter of live
# objects back to zero. Root is the host's / through hostfs, read-only
# (UML), or an initramfs with the same tools (the x86-64 guest of
# scripts/smp.sh); the guest writes only to its own devtmpfs.
#
# Environment (from the kernel command line): DSHIM_E2E_DRIVER (vgpu or
# rvgpu, default vgpu), DSHIM_E2E_CLIENT (the static vgpu-client), DSHIM_E2E_SECONDS (default 25), DSHIM_E2E_BATCH
# (clients per batch, default 10), DSHIM_E2E_MODULES (the modules to
# insmod first, ':'-separated, in load order: vgpu and what it needs,
# with the vgpu.* options of the kernel command line, as modprobe would).
#
# With vgpu a module and the shim in charge, the module's unload after
# the loop, while the keeper still holds sync files: the keeper drops
# its dma-bufs (they pin their exporter), a client puts a hanging job on
# the hardware of a queue without cancel (vgpu.cancel=0, a 10 s timeout)
# and is killed, and rmmod must be refused ("Resource temporarily
# unavailable") while the job is there (the shim pins the module), then
# succeed once the timeout ended it; the keeper then reads every fence's
# names, with the module gone:
#   e2e: module busy=B unloaded=U held=N named=N withheld=N unnamed=N
#
# Lines for the host start with "e2e: ". Right after the loop:
#   e2e: loop mode=M seconds=S started=N killed=N term=N kill=N finished=N errors=N
#        opened=N queues=N jobs=N
# (one line), and once everything drained, the same fields after
# "e2e: result" plus leaked=N. Ends by running scripts/uml-init.sh (kmemleak, power off).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
mount -t devtmpfs devtmpfs /dev
# Scratch space in the guest's devtmpfs, not a tmpfs over /tmp: that would
# hide the host's /tmp, where this project may well be checked out.
scratch=/dev/e2e
mkdir -p "$scratch"

client=${DSHIM_E2E_CLIENT:?}
secs=${DSHIM_E2E_SECONDS:-25}
batch_size=${DSHIM_E2E_BATCH:-10}
# the driver under test: vgpu (C) or rvgpu (its Rust twin); same uapi,
# same counters under /sys/kernel/debug/DRIVER/
driver=${DSHIM_E2E_DRIVER:-vgpu}
vgpu_stats=/sys/kernel/debug/$driver/stats
shim_stats=/sys/kernel/debug/drm_sched_shim/stats
sock=$scratch/keeper.sock
rcs=$scratch/rc

say() { echo "e2e: $*"; }

# read_stat NAME FILE: one counter (or the mode) into REPLY, 0 if absent;
# without a fork, as the loop and the final check poll it
read_stat() {
	local k v
	REPLY=0
	while IFS=': ' read -r k v; do
		[ "$k" = "$1" ] && REPLY=$v
	done <"$2"
}

# Objects not freed yet, the driver's and the shim's, into LIVE (no fork:
# the final check polls it). An unloaded vgpu has none left.
live() {
	local k
	LIVE=0
	for k in files queues jobs bos; do
		[ -e "$vgpu_stats" ] || break
		read_stat "$k" "$vgpu_stats"
		LIVE=$((LIVE + REPLY))
	done
	for k in scheds entities queues jobs fences timelines; do
		read_stat "$k" "$shim_stats"
		LIVE=$((LIVE + REPLY))
	done
}

finish() {
	exec "$(dirname "$0")/uml-init.sh"
}

# wait_for COND...: poll COND (a command) for at most 20 s
wait_for() {
	local t0=$SECONDS
	until "$@"; do
		[ $((SECONDS - t0)) -lt 20 ] || return 1
		sleep 0.05
	done
}

modules=()
if [ -n "${DSHIM_E2E_MODULES:-}" ]; then
	IFS=: read -r -a modules <<<"$DSHIM_E2E_MODULES"
	vgpu_opts=()
	# shellcheck disable=SC2013 # words, not lines
	for word in $(</proc/cmdline); do
		case $word in vgpu.*) vgpu_opts+=("${word#vgpu.}") ;; esac
	done
	for ko in "${modules[@]}"; do
		opts=()
		[ "${ko##*/}" != vgpu.ko ] || opts=("${vgpu_opts[@]}")
		"$client" insmod "$ko" "${opts[@]}" || say "insmod $ko ${opts[*]} failed"
	done
	say "modules: inserted ${modules[*]##*/} (vgpu: ${vgpu_opts[*]:-no options})"
fi

# keeper_said PATTERN: the keeper printed a line matching PATTERN
keeper_said() {
	grep -q "$1" "$keeper_out"
}

# jobs_run_reached N: vgpu's run was called for N jobs since boot
jobs_run_reached() {
	read_stat jobs_run "$vgpu_stats"
	[ "$REPLY" -ge "$1" ]
}

# The module's unload, while the keeper holds sync files (see the top).
module_unload() {
	local busy=0 unloaded=0 held=0 hold_pid desc base named withheld unnamed
	kill -USR1 "$keeper"
	wait_for keeper_said '^keeper: dropped' || say "module: the keeper did not drop its dma-bufs"
	echo 0 >/sys/module/vgpu/parameters/cancel
	echo 10000 >/sys/module/vgpu/parameters/timeout_ms
	read_stat jobs_run "$vgpu_stats"
	base=$REPLY
	"$client" hold --keeper "$sock" --jobs 1 >"$scratch/hold.out" &
	hold_pid=$!
	# on the hardware until the 10 s timeout, then the process dies
	wait_for jobs_run_reached $((base + 1)) && held=1
	kill -KILL "$hold_pid"
	wait "$hold_pid" 2>/dev/null
	# its file is closed: only the shim's pin can refuse this
	if ! "$client" rmmod vgpu 2>"$scratch/rmmod.err"; then
		say "module: rmmod while the job is on the hardware: $(<"$scratch/rmmod.err")"
		grep -q 'Resource temporarily unavailable' "$scratch/rmmod.err" && busy=1
	fi
	# the pin goes with the job's free, right after the timeout
	if wait_for "$client" rmmod vgpu 2>"$scratch/rmmod.err" &&
		[ ! -e /sys/module/vgpu ]; then
		unloaded=1
	else
		say "module: rmmod failed once the job was done: $(<"$scratch/rmmod.err")"
	fi
	kill -USR2 "$keeper"
	wait_for keeper_said '^keeper: sync files' || say "module: the keeper did not describe its sync files"
	# the last such line (no tail(1) in the x86-64 guest's initramfs)
	desc=$(grep '^keeper: sync files' "$keeper_out")
	desc=${desc##*$'\n'}
	say "module: $desc, after the unload"
	# "keeper: sync files N named N withheld N unnamed N signalled N"
	read -r _ _ _ _ _ named _ withheld _ unnamed _ <<<"$desc"
	say "module busy=$busy unloaded=$unloaded held=$held named=${named:-0} withheld=${withheld:-0} unnamed=${unnamed:-0}"
}

if [ ! -c /dev/dri/renderD128 ]; then
	say "no /dev/dri/renderD128: is $driver in the kernel (CONFIG_DRM_${driver^^})?"
	finish
fi
say "$("$client" info)"
read_stat mode "$vgpu_stats"
mode=$REPLY

# The uapi bad-input test first, on an idle device: it checks that the
# counters return to zero.
"$client" badinput | sed 's/^/e2e: badinput: /'

# the loop's own figures, without the bad-input test's
read_stat files_opened "$vgpu_stats"
base_opened=$REPLY
read_stat queues_created "$vgpu_stats"
base_queues=$REPLY
read_stat jobs_submitted "$vgpu_stats"
base_jobs=$REPLY

keeper_out=$scratch/keeper.out
"$client" keeper "$sock" >"$keeper_out" &
keeper=$!
for _ in $(seq 1 100); do
	[ -S "$sock" ] && break
	sleep 0.05
done

(
	reads=0
	while [ ! -e "$scratch/stop" ]; do
		cat /sys/kernel/debug/dma_buf/bufinfo "$vgpu_stats" "$shim_stats" \
			>/dev/null 2>&1
		reads=$((reads + 1))
		sleep 0.05
	done
	echo "e2e: reader: $reads reads of bufinfo and the counters"
) &
reader=$!

say "loop: ${secs}s; each batch: $batch_size clients under timeout -k 0.01 0.05, 2 under timeout -k 0.01 0.3; every 5th batch also one under timeout -k 0.01 1 and one that finishes 40 jobs"
# No subshell per client: UML forks are slow. bash keeps each background
# process's exit status for wait, but only so many: each batch is reaped
# four batches later (all its clients are long gone by then), the rest
# at the end.
rc_of() {
	local pid
	for pid in "$@"; do
		wait "$pid"
		echo $? >>"$rcs"
	done
}
batch_pids=()
batches=0
started=0
start=$SECONDS
while [ $((SECONDS - start)) -lt "$secs" ]; do
	pids=()
	for ((i = 0; i < batch_size; i++)); do
		timeout -k 0.01 0.05 "$client" run --keeper "$sock" &
		pids+=($!)
	done
	# A UML process takes longer than 0.05 s to start: most of those die
	# before they open the node. These die while they submit.
	for ((i = 0; i < 2; i++)); do
		timeout -k 0.01 0.3 "$client" run --keeper "$sock" &
		pids+=($!)
	done
	if [ $((batches % 5)) = 0 ]; then
		timeout -k 0.01 1 "$client" run --keeper "$sock" &
		pids+=($!)
		"$client" run --keeper "$sock" --jobs 40 &
		pids+=($!)
	fi
	batch_pids[batches]="${pids[*]}"
	if [ "$batches" -ge 4 ]; then
		# shellcheck disable=SC2086 # a list of pids
		rc_of ${batch_pids[batches - 4]}
		unset "batch_pids[batches - 4]"
	fi
	batches=$((batches + 1))
	started=$((started + ${#pids[@]}))
	# what the host has if the kernel dies before the loop ends
	read_stat jobs_submitted "$vgpu_stats"
	echo "e2e: progress seconds=$((SECONDS - start)) started=$started jobs=$((REPLY - base_jobs))"
	sleep 0.1
done
ran=$((SECONDS - start))
# shellcheck disable=SC2048,SC2086 # lists of pids
rc_of ${batch_pids[*]}
touch "$scratch/stop"
wait "$reader"
bufinfo_lines=$(wc -l </sys/kernel/debug/dma_buf/bufinfo)

started=$(wc -l <"$rcs")
by_term=$(grep -c -x 124 "$rcs")
by_kill=$(grep -c -x 137 "$rcs")
killed=$((by_term + by_kill))
finished=$(grep -c -x 0 "$rcs")
errors=$((started - killed - finished))
if [ "$errors" != 0 ]; then
	say "client exit codes other than 0 (done), 124 (TERM), 137 (KILL):" \
		"$(grep -v -x -e 0 -e 124 -e 137 "$rcs" | sort | uniq -c | tr '\n' ' ')"
fi
say "loop done: ${ran}s, $batches batches, bufinfo had $bufinfo_lines lines at the end"

read_stat files_opened "$vgpu_stats"
opened=$((REPLY - base_opened))
read_stat queues_created "$vgpu_stats"
queues=$((REPLY - base_queues))
read_stat jobs_submitted "$vgpu_stats"
jobs=$((REPLY - base_jobs))
counts="mode=$mode seconds=$ran started=$started killed=$killed term=$by_term kill=$by_kill finished=$finished errors=$errors opened=$opened queues=$queues jobs=$jobs"
say "loop $counts"

if [ "${#modules[@]}" != 0 ] && [ "$mode" = shim ]; then
	module_unload
fi
kill -KILL "$keeper"
wait "$keeper" 2>/dev/null

# Everything is closed now; fences drain (a hanging job takes the
# timeout) and the shim frees after RCU grace periods: 20 s at most.
t0=$SECONDS
live
while [ "$LIVE" != 0 ] && [ $((SECONDS - t0)) -lt 20 ]; do
	sleep 0.1
	live
done
leaked=$LIVE
[ ! -e "$vgpu_stats" ] || sed "s/^/e2e: $driver: /" "$vgpu_stats"
sed 's/^/e2e: shim: /' "$shim_stats"
say "result $counts leaked=$leaked"
finish
