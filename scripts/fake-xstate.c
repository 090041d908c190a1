// SPDX-License-Identifier: GPL-2.0-only
/*
 * fake-xstate.so: an LD_PRELOAD library that makes this host look, to the
 * UML kernel it is preloaded into, like a host whose user XSTATE is
 * DSHIM_FAKE_XSTATE bytes (default 11008: an Intel Xeon with AMX).
 *
 * UML moves the FP state of its processes with PTRACE_GETREGSET and
 * PTRACE_SETREGSET NT_X86_XSTATE. What the x86 host kernel does with the
 * buffer length (ptrace_regset(), xstateregs_get/set()) is what decides
 * whether UML works on a host:
 *
 *   - the length is first clamped to the host's XSTATE size;
 *   - GETREGSET then returns that many bytes and that length;
 *   - SETREGSET fails with EFAULT unless the length is exactly the size.
 *
 * This library applies those rules for the fake size, and hands the real
 * kernel the real size: GETREGSET pads the real state with zeroes (the
 * components a bigger host would have, in their init state), SETREGSET
 * passes the real part on. So a UML with a fixed buffer smaller than the
 * fake size fails here exactly as on such a host ("ptrace set fp regs
 * failed, errno = 14"), and a UML that sizes the buffer at run time runs
 * with an FP area of the fake size, on a host that has none.
 *
 * Only a smaller real host can be made to look bigger: when the real
 * XSTATE is at least the fake size, or there is none (no XSAVE: UML then
 * uses another regset), every call goes through unchanged. Not emulated:
 * the EINVAL for a length that is not a multiple of 8, and the feature
 * mask in the state's software-reserved bytes (the real one); UML
 * depends on neither.
 *
 * Built and used by scripts/passes.sh (the host-compatibility boots of
 * make check); not part of the shim.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

/* glibc's ptrace() is variadic: call it as such */
typedef long (*ptrace_fn)(enum __ptrace_request, ...);

static ptrace_fn real_ptrace;
static size_t fake_size;	/* what the tracer is shown */
static size_t real_size;	/* what the real kernel wants */

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* The real XSTATE size, asked of the real kernel with a stopped tracee. */
static int learn_real_size(pid_t pid)
{
	static unsigned char buf[1 << 20];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };

	if (real_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov))
		return -1;
	real_size = iov.iov_len;
	return 0;
}

static long xstate_regset(enum __ptrace_request req, pid_t pid,
			  struct iovec *iov)
{
	size_t len = min_size(iov->iov_len, fake_size); /* the host's clamp */
	struct iovec real = { .iov_base = iov->iov_base };
	long ret;

	if (!real_size) {
		if (learn_real_size(pid)) {
			if (errno != ENODEV)	/* ENODEV: no XSAVE at all */
				return -1;
			fprintf(stderr, "fake-xstate: this host has no XSTATE: nothing to fake\n");
			real_size = (size_t)-1;
		} else {
			/* one line in the boot log: the proof it ran */
			fprintf(stderr, "fake-xstate: XSTATE shown as %zu bytes, real %zu%s\n",
				fake_size, real_size,
				real_size >= fake_size ? ": nothing to fake" : "");
		}
	}
	if (real_size >= fake_size)	/* nothing to fake */
		return real_ptrace(req, pid, (void *)NT_X86_XSTATE, iov);

	if (req == PTRACE_SETREGSET) {
		/* xstateregs_set(): only a whole buffer */
		if (len != fake_size) {
			errno = EFAULT;
			return -1;
		}
		real.iov_len = real_size;
		return real_ptrace(req, pid, (void *)NT_X86_XSTATE, &real);
	}

	real.iov_len = min_size(len, real_size);
	ret = real_ptrace(req, pid, (void *)NT_X86_XSTATE, &real);
	if (ret)
		return ret;
	memset((char *)iov->iov_base + real.iov_len, 0, len - real.iov_len);
	iov->iov_len = len;
	return 0;
}

long ptrace(enum __ptrace_request req, ...)
{
	va_list ap;
	pid_t pid;
	void *addr, *data;

	va_start(ap, req);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);

	if (!real_ptrace) {
		const char *s = getenv("DSHIM_FAKE_XSTATE");

		real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
		fake_size = s ? strtoul(s, NULL, 10) : 11008;
	}
	if ((req == PTRACE_GETREGSET || req == PTRACE_SETREGSET) &&
	    (unsigned long)addr == NT_X86_XSTATE && data)
		return xstate_regset(req, pid, data);
	return real_ptrace(req, pid, addr, data);
}
