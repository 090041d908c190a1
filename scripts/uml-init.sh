#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# PID 1 of the test kernel, started after the built-in KUnit suites ran
# (root = the host's / through hostfs, read-only; see scripts/passes.sh),
# and the end of the e2e boot's PID 1 (scripts/e2e-init.sh), in UML or in
# the x86-64 guest's initramfs (scripts/smp.sh).
# With kmemleak built in: trigger its scans, so that leaks the tests left
# behind are printed to the console ("kmemleak: unreferenced object"),
# where scripts/scan-log.py finds them. Then power off.
#
# kmemleak reports an object only once it is older than 5 s and has been
# seen unchanged by two scans, hence scan, wait, scan.
#
# With DSHIM_PREFLIGHT=1 (a kernel argument, passed on as environment):
# only say that userspace runs, then power off (scripts/passes.sh).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
if [ "${DSHIM_PREFLIGHT:-0}" = 1 ]; then
	# scripts/passes.sh's preflight boot: a process ran, that is all
	echo "dshim: preflight: userspace runs"
elif [ -w /sys/kernel/debug/kmemleak ]; then
	echo "dshim: kmemleak: scanning for leaks"
	echo scan >/sys/kernel/debug/kmemleak
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	echo scan >/sys/kernel/debug/kmemleak
	echo "dshim: kmemleak: scan done"
fi
echo "dshim: powering off"
# No init system to ask: reboot(2) with LINUX_REBOOT_CMD_POWER_OFF. The
# x86-64 guest's initramfs (scripts/smp.sh) has no python3: SysRq there,
# power off, or reboot, which ends QEMU too (-no-reboot).
if command -v python3 >/dev/null 2>&1; then
	exec python3 -c 'import ctypes; ctypes.CDLL(None).reboot(0x4321fedc)'
fi
echo o >/proc/sysrq-trigger
sleep 5
echo b >/proc/sysrq-trigger
