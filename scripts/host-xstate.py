#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Print the size of this host's ptrace XSTATE buffer, in bytes.

    host-xstate.py            the size, e.g. 2432, or "none" (no XSTATE)
    host-xstate.py --check N  also exit 1 when a UML with a fixed N-byte
                              FP buffer cannot run userspace on this host

UML runs its processes under ptrace and moves their FP state with
PTRACE_GETREGSET/PTRACE_SETREGSET NT_X86_XSTATE. The x86 host kernel
clamps a larger buffer to its own user XSTATE size, but refuses a smaller
one with EFAULT (xstateregs_set(), arch/x86/kernel/fpu/regset.c:
count != fpu_user_cfg.max_size). Linux 6.12's UML uses a fixed 2,696-byte
buffer (HOST_FP_SIZE, arch/x86/um/user-offsets.c), so on a host whose
XSTATE is larger (about 11 KB with Intel AMX) every UML process dies at
its first context switch: "ptrace set fp regs failed, errno = 14".

The size is measured the way UML itself does it since 6.13
(arch_init_registers()): PTRACE_GETREGSET on a stopped child with a
generous buffer, which the kernel shortens to the real size. That is the
exact number xstateregs_set() compares with; CPUID leaf 0xd is not, on
every kernel.
"""

import ctypes
import os
import signal
import sys

PTRACE_TRACEME = 0
PTRACE_GETREGSET = 0x4204
NT_X86_XSTATE = 0x202


class IoVec(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]


def xstate_size():
    """The host's XSTATE regset size in bytes, or None without XSTATE."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long,
                            ctypes.c_void_p, ctypes.c_void_p]
    libc.ptrace.restype = ctypes.c_long
    pid = os.fork()
    if pid == 0:
        # The child: stop under ptrace, never return into Python.
        if libc.ptrace(PTRACE_TRACEME, 0, None, None) == 0:
            os.kill(os.getpid(), signal.SIGSTOP)
        os._exit(0)
    try:
        _, status = os.waitpid(pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            pid = 0  # gone already
            raise OSError('the ptrace child did not stop (is ptrace allowed here?)')
        buf = ctypes.create_string_buffer(1 << 20)
        iov = IoVec(ctypes.cast(buf, ctypes.c_void_p), len(buf))
        if libc.ptrace(PTRACE_GETREGSET, pid, ctypes.c_void_p(NT_X86_XSTATE),
                       ctypes.byref(iov)) != 0:
            err = ctypes.get_errno()
            if err == 19:  # ENODEV: no XSAVE on this CPU
                return None
            raise OSError(err, 'PTRACE_GETREGSET NT_X86_XSTATE: ' + os.strerror(err))
        return iov.len
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def main(argv):
    fixed = None
    if len(argv) == 3 and argv[1] == '--check' and argv[2].isdigit():
        fixed = int(argv[2])
    elif len(argv) != 1:
        print(__doc__.split('\n\n')[0], file=sys.stderr)
        print('usage: host-xstate.py [--check BYTES]', file=sys.stderr)
        return 2
    try:
        size = xstate_size()
    except OSError as e:
        print(f'host-xstate: {e}', file=sys.stderr)
        return 2
    print('none' if size is None else size)
    # Without XSTATE, 6.12's UML falls back to PTRACE_SETFPREGS: fine.
    return 1 if fixed is not None and size is not None and size > fixed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
