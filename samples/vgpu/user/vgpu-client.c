// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu-client: userspace of the vgpu sample driver, for the end-to-end
 * test (scripts/e2e.sh). Built on the host as a static binary; the UML
 * guest runs it from the host's / through hostfs.
 *
 *   vgpu-client run [--keeper SOCK] [--jobs N] [--seed N]
 *	Open the render node, create queues, a buffer exported as a
 *	dma-buf and a syncobj, then submit chains of jobs whose in-fences
 *	are earlier jobs' sync files and syncobj, whose out-fences are sync
 *	files, the syncobj and the buffer's reservation. Some sync files
 *	and the dma-buf go to the keeper. Runs until killed (the test's
 *	timeout(1) does that), or for N jobs and exits 0.
 *   vgpu-client hold [--keeper SOCK] [--jobs N]
 *	Open the render node, create a queue, submit N (default 1) jobs
 *	that hang on the hardware until the queue's timeout ends them, send
 *	the last one's sync file to the keeper, print "hold: N jobs
 *	submitted" and wait to be killed: the test kills it once the jobs
 *	are on the hardware.
 *   vgpu-client keeper SOCK
 *	Listen on SOCK, keep the fds clients send (SCM_RIGHTS) so their
 *	fences outlive the process that made them, and keep asking the
 *	sync files for their fence names. Runs until killed. On SIGUSR1 it
 *	closes the fds that are not sync files (the dma-bufs, which pin
 *	their exporter's module) and prints "keeper: dropped N"; on SIGUSR2
 *	it reads every sync file's fence names and prints "keeper: sync
 *	files N named N withheld N unnamed N signalled N" (named: the
 *	driver and timeline names of each fence are there, the shim's
 *	driver name; withheld: a signalled fence whose names the kernel no
 *	longer asks its driver for, 6.17 and later; unnamed: anything else).
 *   vgpu-client badinput
 *	The uapi bad-input test: each bad ioctl must fail with its errno,
 *	and afterwards every counter must be back to zero. KTAP-like output,
 *	last line "badinput: N passed, M failed".
 *   vgpu-client insmod FILE [OPTION...] | rmmod NAME
 *	Load a module with its options, or unload one without waiting
 *	(finit_module, delete_module with O_NONBLOCK): what the test needs
 *	of kmod, which a minimal host or guest may not have. rmmod exits 1
 *	with "rmmod NAME: <error>" if the module is in use.
 *   vgpu-client info | poweroff
 *
 * Exit status of run: 0 done, 1 setup failed, 2 an ioctl failed that
 * must not. The test counts a 124/137 from timeout(1) as a kill.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/vgpu_drm.h>
#include <linux/sync_file.h>

#define RENDER_NODE	"/dev/dri/renderD128"
#define RING		8	/* out-fences a client keeps */
#define KEEP		256	/* fds the keeper keeps */
#define MAX_CONNS	64
#define MAX_QUEUES	64	/* the driver's, checked by badinput */

static const char *prog = "vgpu-client";

static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* ioctl, restarted on EINTR/EAGAIN like libdrm's drmIoctl */
static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret;
}

/* An ioctl that must succeed: exit 2 (a client error for the test) if not. */
#define must_ioctl(fd, req, arg) must_ioctl_named(fd, req, arg, #req)

static void must_ioctl_named(int fd, unsigned long req, void *arg,
			     const char *name)
{
	if (xioctl(fd, req, arg))
		die(2, "%s: %s", name, strerror(errno));
}

/*
 * The driver behind the node: vgpu (C) or rvgpu, its Rust twin, which has
 * the same uapi and counters (in /sys/kernel/debug/NAME/stats).
 */
static char driver_name[32] = "vgpu";

static bool driver_is_rvgpu(void)
{
	return !strcmp(driver_name, "rvgpu");
}

static int open_node(void)
{
	struct drm_vgpu_info info = {};
	char name[sizeof(driver_name)] = "";
	struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };
	int fd;

	fd = open(RENDER_NODE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(1, "%s: %s", RENDER_NODE, strerror(errno));
	if (xioctl(fd, DRM_IOCTL_VERSION, &v))
		die(1, "VERSION: %s", strerror(errno));
	if (strcmp(name, "vgpu") && strcmp(name, "rvgpu"))
		die(1, "%s is %s, not vgpu or rvgpu", RENDER_NODE, name);
	snprintf(driver_name, sizeof(driver_name), "%s", name);
	if (xioctl(fd, DRM_IOCTL_VGPU_GET_INFO, &info))
		die(1, "GET_INFO: %s", strerror(errno));
	if (info.uapi_version != DRM_VGPU_UAPI_VERSION)
		die(1, "uapi version %u, expected %u", info.uapi_version,
		    DRM_VGPU_UAPI_VERSION);
	return fd;
}

static __u32 queue_create(int fd)
{
	struct drm_vgpu_queue_create qc = {};

	must_ioctl(fd, DRM_IOCTL_VGPU_QUEUE_CREATE, &qc);
	return qc.queue_id;
}

static __u32 bo_create(int fd, __u64 size)
{
	struct drm_vgpu_bo_create bc = { .size = size };

	must_ioctl(fd, DRM_IOCTL_VGPU_BO_CREATE, &bc);
	return bc.handle;
}

static int bo_export(int fd, __u32 handle)
{
	struct drm_prime_handle ph = { .handle = handle, .flags = DRM_CLOEXEC };

	must_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph);
	return ph.fd;
}

static __u32 syncobj_create(int fd)
{
	struct drm_syncobj_create sc = {};

	must_ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &sc);
	return sc.handle;
}

/* Send one fd over a unix socket; the keeper may be gone: not an error. */
static void send_fd(int sock, int fd)
{
	char buf[CMSG_SPACE(sizeof(int))] = {};
	char byte = 'f';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = buf,
		.msg_controllen = sizeof(buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/*
 * Receive one fd sent with send_fd(): the fd, -1 for a message without
 * one, -2 once the peer is gone.
 */
static int recv_fd(int sock)
{
	char buf[CMSG_SPACE(sizeof(int))], byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = buf,
		.msg_controllen = sizeof(buf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
		return -2;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

static int connect_keeper(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int sock;

	if (!path)
		return -1;
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -1;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr))) {
		close(sock);
		return -1;
	}
	return sock;
}

/* Read a sync file's fence names and status: the kernel reads the fence's
 * driver and timeline names, whoever made it and whatever happened since.
 */
static int sync_file_status(int fd)
{
	struct sync_fence_info fi[4] = {};
	struct sync_file_info info = {
		.num_fences = 4,
		.sync_fence_info = (uintptr_t)fi,
	};

	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return 2;	/* not a sync file (a dma-buf) */
	return info.status;
}

static int run(const char *keeper, long max_jobs, unsigned int seed)
{
	int ring[RING];
	__u32 queues[3];
	__u32 bo, syncobj;
	int fd, dmabuf, sock, nq, i;
	long n;

	for (i = 0; i < RING; i++)
		ring[i] = -1;
	srand(seed);
	/* half the clients die of timeout(1)'s SIGTERM, half of its SIGKILL */
	if (rand() % 2)
		signal(SIGTERM, SIG_IGN);
	fd = open_node();
	nq = 1 + rand() % 3;
	for (i = 0; i < nq; i++)
		queues[i] = queue_create(fd);
	bo = bo_create(fd, 65536);
	dmabuf = bo_export(fd, bo);
	syncobj = syncobj_create(fd);
	sock = connect_keeper(keeper);
	if (sock >= 0)
		send_fd(sock, dmabuf);

	for (n = 0; max_jobs < 0 || n < max_jobs; n++) {
		int slot = n % RING, prev = ring[(n + RING - 1) % RING];
		struct drm_vgpu_submit s = {
			.flags = DRM_VGPU_SUBMIT_OUT_SYNC_FILE,
			.duration_us = 100 + rand() % 2000,
		};
		__u32 in_syncobj = syncobj;
		__s32 in_fd = prev;

		i = rand() % nq;
		s.queue_id = queues[i];
		if (rand() % 64 == 0)
			s.flags |= DRM_VGPU_SUBMIT_HANG;
		if (in_fd >= 0 && rand() % 2) {
			s.num_in_sync_files = 1;
			s.in_sync_files = (uintptr_t)&in_fd;
		}
		if (n > 0 && rand() % 2) {
			s.num_in_syncobjs = 1;
			s.in_syncobjs = (uintptr_t)&in_syncobj;
		}
		s.out_syncobj = syncobj;
		if (rand() % 4 == 0)
			s.bo_handle = bo;
		must_ioctl(fd, DRM_IOCTL_VGPU_SUBMIT, &s);

		/* throttle on the oldest fence, then hand it over or close it */
		if (ring[slot] >= 0) {
			struct pollfd p = { .fd = ring[slot], .events = POLLIN };

			poll(&p, 1, 500);
			if (sock >= 0 && rand() % 4 == 0)
				send_fd(sock, ring[slot]);
			close(ring[slot]);
		}
		ring[slot] = s.out_sync_file;

		/* now and then a queue goes away with jobs on it */
		if (rand() % 128 == 0) {
			struct drm_vgpu_queue_destroy qd = { .queue_id = queues[i] };

			must_ioctl(fd, DRM_IOCTL_VGPU_QUEUE_DESTROY, &qd);
			queues[i] = queue_create(fd);
		}
	}
	return 0;
}

static int hold(const char *keeper, long jobs)
{
	int fd, sock, out = -1;
	__u32 queue;
	long n;

	fd = open_node();
	queue = queue_create(fd);
	for (n = 0; n < jobs; n++) {
		struct drm_vgpu_submit s = {
			.flags = DRM_VGPU_SUBMIT_OUT_SYNC_FILE |
				 DRM_VGPU_SUBMIT_HANG,
			.queue_id = queue,
		};

		must_ioctl(fd, DRM_IOCTL_VGPU_SUBMIT, &s);
		if (out >= 0)
			close(out);
		out = s.out_sync_file;
	}
	sock = connect_keeper(keeper);
	if (sock >= 0 && out >= 0)
		send_fd(sock, out);
	printf("%s: %ld jobs submitted\n", __func__, jobs);
	fflush(stdout);
	for (;;)
		pause();
	return 0;	/* not reached: killed by the test */
}

/* What the keeper read from its sync files' fences. */
struct keeper_names {
	int files;
	int named;	/* the shim's driver name and a timeline name */
	int withheld;	/* signalled, the kernel's placeholders (6.17+) */
	int unnamed;	/* anything else */
	int signalled;	/* sync files */
};

/*
 * Whether every fence of sync file @fd has its names. Since 6.17 the
 * kernel no longer asks a signalled fence's driver for them, and sync_file
 * reports placeholders instead (drivers/dma-buf/dma-fence.c).
 */
static void keeper_describe_one(int fd, struct keeper_names *n)
{
	struct sync_fence_info fi[4] = {};
	struct sync_file_info info = {
		.num_fences = 4,
		.sync_fence_info = (uintptr_t)fi,
	};
	unsigned int i;

	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return;		/* a dma-buf */
	n->files++;
	for (i = 0; i < info.num_fences && i < 4; i++) {
		if (!strcmp(fi[i].driver_name, "drm_sched_shim") &&
		    fi[i].obj_name[0])
			n->named++;
		else if (fi[i].status &&
			 !strcmp(fi[i].driver_name, "detached-driver") &&
			 !strcmp(fi[i].obj_name, "signaled-timeline"))
			n->withheld++;
		else
			n->unnamed++;
	}
	if (info.status)
		n->signalled++;
}

static int keeper(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct pollfd pfd[1 + MAX_CONNS];
	int kept[KEEP], next = 0, nconn = 0, lsock, sfd, i;
	struct signalfd_siginfo si;
	unsigned long polls = 0;
	sigset_t sigs;

	for (i = 0; i < KEEP; i++)
		kept[i] = -1;
	/* the test's requests, read between polls */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGUSR2);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		die(1, "signalfd: %s", strerror(errno));
	lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsock < 0)
		die(1, "socket: %s", strerror(errno));
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	unlink(path);
	if (bind(lsock, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(lsock, 128))
		die(1, "%s: %s", path, strerror(errno));
	pfd[0].fd = lsock;
	pfd[0].events = POLLIN;

	for (;;) {
		if (poll(pfd, 1 + nconn, 20) < 0 && errno != EINTR)
			die(1, "poll: %s", strerror(errno));
		if ((pfd[0].revents & POLLIN) && nconn < MAX_CONNS) {
			int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0) {
				pfd[1 + nconn].fd = c;
				pfd[1 + nconn].events = POLLIN;
				pfd[1 + nconn].revents = 0;
				nconn++;
			}
		}
		for (i = 1; i <= nconn; i++) {
			int fd;

			if (!pfd[i].revents)
				continue;
			fd = recv_fd(pfd[i].fd);
			if (fd == -2) {
				/* the client is gone: its fds stay here */
				close(pfd[i].fd);
				pfd[i] = pfd[nconn];
				nconn--;
				i--;
			} else if (fd >= 0) {
				if (kept[next] >= 0)
					close(kept[next]);
				kept[next] = fd;
				next = (next + 1) % KEEP;
			}
		}
		/* ask a few kept fences for their names */
		for (i = 0; i < 4; i++) {
			int k = kept[(polls * 4 + i) % KEEP];

			if (k >= 0)
				sync_file_status(k);
		}
		polls++;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGUSR1) {
			int dropped = 0;

			for (i = 0; i < KEEP; i++) {
				if (kept[i] >= 0 && sync_file_status(kept[i]) == 2) {
					close(kept[i]);
					kept[i] = -1;
					dropped++;
				}
			}
			printf("%s: dropped %d\n", __func__, dropped);
			fflush(stdout);
		} else {
			struct keeper_names n = {};

			for (i = 0; i < KEEP; i++) {
				if (kept[i] >= 0 && sync_file_status(kept[i]) != 2)
					keeper_describe_one(kept[i], &n);
			}
			printf("%s: sync files %d named %d withheld %d unnamed %d signalled %d\n",
			       __func__, n.files, n.named, n.withheld,
			       n.unnamed, n.signalled);
			fflush(stdout);
		}
	}
	return 0;	/* not reached: killed by the test */
}

/* --- badinput --------------------------------------------------------- */

static int tests, failed;

static void check(int ret, int want_errno, const char *what)
{
	int got = ret ? errno : 0;

	tests++;
	if (got == want_errno) {
		printf("ok %d - %s: %s\n", tests, what,
		       want_errno ? strerror(want_errno) : "accepted");
	} else {
		failed++;
		printf("not ok %d - %s: got %s, expected %s\n", tests, what,
		       got ? strerror(got) : "success",
		       want_errno ? strerror(want_errno) : "success");
	}
}

static void expect(int cond, const char *what)
{
	tests++;
	if (!cond)
		failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", tests, what);
}

/* Sum of the live-object lines of a stats file, or -1. */
static long live_objects(const char *path, const char *const *keys)
{
	char line[128];
	long sum = 0, v;
	FILE *f = fopen(path, "r");
	int k;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		for (k = 0; keys[k]; k++) {
			size_t len = strlen(keys[k]);

			if (!strncmp(line, keys[k], len) && line[len] == ':' &&
			    sscanf(line + len + 1, "%ld", &v) == 1)
				sum += v;
		}
	}
	fclose(f);
	return sum;
}

static long live_total(void)
{
	static const char *const vgpu[] = {
		"files", "queues", "jobs", "bos", NULL };
	static const char *const shim[] = {
		"scheds", "entities", "queues", "jobs", "fences", "timelines",
		NULL };
	char path[64];
	long a, b;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/stats", driver_name);
	a = live_objects(path, vgpu);
	b = live_objects("/sys/kernel/debug/drm_sched_shim/stats", shim);

	return a < 0 || b < 0 ? -1 : a + b;
}

static int submit_sized(int fd, struct drm_vgpu_submit *s, size_t size)
{
	return ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, DRM_IOCTL_BASE,
			      DRM_COMMAND_BASE + DRM_VGPU_SUBMIT, size), s);
}

static int badinput(void)
{
	struct drm_vgpu_queue_create qc = {};
	struct drm_vgpu_queue_destroy qd = {};
	struct drm_vgpu_bo_create bc = {};
	struct drm_vgpu_submit s, good;
	__u32 q, bo, syncobj, empty, handles[17] = {}, many[MAX_QUEUES];
	__s32 fds[2];
	int fd, sf, hang, i, n, bad;
	long live;

	fd = open_node();
	printf("KTAP version 1\n");
	{
		struct drm_vgpu_info info = {};

		check(xioctl(fd, DRM_IOCTL_VGPU_GET_INFO, &info), 0, "get info");
		expect(info.max_queues == MAX_QUEUES && info.max_in_fences == 16,
		       "info: 64 queues, 16 in-fences");
	}
	live = live_total();
	expect(live >= 0, "debugfs counters readable");

	qc.flags = 1;
	check(xioctl(fd, DRM_IOCTL_VGPU_QUEUE_CREATE, &qc), EINVAL,
	      "queue create, unknown flags");
	qd.queue_id = 999;
	check(xioctl(fd, DRM_IOCTL_VGPU_QUEUE_DESTROY, &qd), ENOENT,
	      "queue destroy, unknown queue");
	q = queue_create(fd);
	qd = (struct drm_vgpu_queue_destroy){ .queue_id = q, .flags = 2 };
	check(xioctl(fd, DRM_IOCTL_VGPU_QUEUE_DESTROY, &qd), EINVAL,
	      "queue destroy, unknown flags");
	check(xioctl(fd, DRM_IOCTL_VGPU_BO_CREATE, &bc), EINVAL, "buffer of size 0");
	bc.size = 1ull << 40;
	check(xioctl(fd, DRM_IOCTL_VGPU_BO_CREATE, &bc), EINVAL, "buffer of 1 TiB");
	bc.size = 4096;
	bc.flags = 1;
	check(xioctl(fd, DRM_IOCTL_VGPU_BO_CREATE, &bc), EINVAL, "buffer, unknown flags");
	bo = bo_create(fd, 4096);
	syncobj = syncobj_create(fd);
	empty = syncobj_create(fd);

	/* a good job: its sync file and syncobj feed the cases below */
	good = (struct drm_vgpu_submit){
		.queue_id = q, .flags = DRM_VGPU_SUBMIT_OUT_SYNC_FILE,
		.duration_us = 1000, .out_syncobj = syncobj, .bo_handle = bo,
	};
	check(xioctl(fd, DRM_IOCTL_VGPU_SUBMIT, &good), 0, "good submit");
	sf = good.out_sync_file;
	expect(sf >= 0, "good submit returns a sync file");

#define BAD_SUBMIT(errno_, what, queue, ...) do {			\
		s = (struct drm_vgpu_submit){ .queue_id = queue, __VA_ARGS__ }; \
		check(xioctl(fd, DRM_IOCTL_VGPU_SUBMIT, &s), errno_, what); \
		if (s.out_sync_file != -1)				\
			expect(0, "failed submit returned a sync file"); \
	} while (0)

	BAD_SUBMIT(ENOENT, "submit, unknown queue", 999);
	BAD_SUBMIT(ENOENT, "submit, queue 0", 0);
	BAD_SUBMIT(EINVAL, "submit, unknown flags", q, .flags = 1u << 7);
	BAD_SUBMIT(EINVAL, "submit, duration above the maximum", q,
		   .duration_us = 1000001);
	BAD_SUBMIT(E2BIG, "submit, 17 in-syncobjs", q, .num_in_syncobjs = 17,
		   .in_syncobjs = (uintptr_t)handles);
	BAD_SUBMIT(E2BIG, "submit, 2^31 in-sync-files", q,
		   .num_in_sync_files = 1u << 31);
	BAD_SUBMIT(ENOENT, "submit, unknown buffer", q, .bo_handle = 999);
	BAD_SUBMIT(ENOENT, "submit, unknown out-syncobj", q, .out_syncobj = 999);
	BAD_SUBMIT(EFAULT, "submit, in-syncobj array at 0x1", q,
		   .num_in_syncobjs = 1, .in_syncobjs = 1);
	handles[0] = 999;
	BAD_SUBMIT(ENOENT, "submit, unknown in-syncobj", q,
		   .num_in_syncobjs = 1, .in_syncobjs = (uintptr_t)handles);
	handles[0] = empty;
	BAD_SUBMIT(EINVAL, "submit, in-syncobj without a fence", q,
		   .num_in_syncobjs = 1, .in_syncobjs = (uintptr_t)handles);
	fds[0] = -1;
	BAD_SUBMIT(EBADF, "submit, in-sync-file -1", q,
		   .num_in_sync_files = 1, .in_sync_files = (uintptr_t)fds);
	fds[0] = fd;
	BAD_SUBMIT(EBADF, "submit, render node fd as in-sync-file", q,
		   .num_in_sync_files = 1, .in_sync_files = (uintptr_t)fds);
	/* partial work to undo: the first fence was taken */
	fds[0] = sf;
	fds[1] = 1000;
	BAD_SUBMIT(EBADF, "submit, good then closed in-sync-file", q,
		   .num_in_sync_files = 2, .in_sync_files = (uintptr_t)fds);
	handles[0] = syncobj;
	BAD_SUBMIT(EFAULT, "submit, good in-syncobj, in-sync-file array at 0x1", q,
		   .num_in_syncobjs = 1, .in_syncobjs = (uintptr_t)handles,
		   .num_in_sync_files = 1, .in_sync_files = 1);
	BAD_SUBMIT(EBADF, "submit, good syncobj and buffer, bad sync file, out-fence", q,
		   .flags = DRM_VGPU_SUBMIT_OUT_SYNC_FILE,
		   .num_in_syncobjs = 1, .in_syncobjs = (uintptr_t)handles,
		   .bo_handle = bo, .out_syncobj = syncobj,
		   .num_in_sync_files = 1, .in_sync_files = (uintptr_t)&fds[1]);

	/*
	 * vgpu refuses a struct of another size in its own file_operations.
	 * 7.3's Rust DRM drivers cannot have their own: for rvgpu the DRM
	 * core decides, as for every driver without such a check. It
	 * zero-extends a short struct (no out-fence, no buffer: a job that
	 * completes at once) and truncates a long one.
	 */
	s = (struct drm_vgpu_submit){ .queue_id = q, .out_sync_file = -1 };
	if (driver_is_rvgpu()) {
		check(submit_sized(fd, &s, sizeof(s) - 8), 0,
		      "submit, struct 8 bytes short: zero-extended (rvgpu)");
		check(submit_sized(fd, &s, sizeof(s) + 8), 0,
		      "submit, struct 8 bytes long: truncated (rvgpu)");
	} else {
		check(submit_sized(fd, &s, sizeof(s) - 8), EINVAL,
		      "submit, struct 8 bytes short");
		check(submit_sized(fd, &s, sizeof(s) + 8), EINVAL,
		      "submit, struct 8 bytes long");
	}
	check(ioctl(fd, _IOC(_IOC_READ, DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x3f, 8), &s),
	      EINVAL, "unknown ioctl number");

	/* the queue limit, then a destroyed queue */
	for (n = 0; n < MAX_QUEUES; n++) {
		qc = (struct drm_vgpu_queue_create){};
		if (xioctl(fd, DRM_IOCTL_VGPU_QUEUE_CREATE, &qc))
			break;
		many[n] = qc.queue_id;
	}
	expect(n == MAX_QUEUES - 1, "63 more queues fit next to the first");
	qc = (struct drm_vgpu_queue_create){};
	check(xioctl(fd, DRM_IOCTL_VGPU_QUEUE_CREATE, &qc), ENOSPC,
	      "queue create beyond max_queues");
	for (i = 0, bad = 0; i < n; i++) {
		qd = (struct drm_vgpu_queue_destroy){ .queue_id = many[i] };
		bad += !!xioctl(fd, DRM_IOCTL_VGPU_QUEUE_DESTROY, &qd);
	}
	expect(bad == 0, "the 63 queues destroyed");
	BAD_SUBMIT(ENOENT, "submit to a destroyed queue", many[0]);

	/* the good job completed; a hanging one fails with -ETIMEDOUT */
	{
		struct pollfd p = { .fd = sf, .events = POLLIN };

		expect(poll(&p, 1, 5000) == 1 && sync_file_status(sf) == 1,
		       "good job's fence signalled without error");
	}
	s = (struct drm_vgpu_submit){
		.queue_id = q, .flags = DRM_VGPU_SUBMIT_OUT_SYNC_FILE |
		DRM_VGPU_SUBMIT_HANG,
	};
	check(xioctl(fd, DRM_IOCTL_VGPU_SUBMIT, &s), 0, "hanging submit");
	hang = s.out_sync_file;
	{
		struct pollfd p = { .fd = hang, .events = POLLIN };

		expect(poll(&p, 1, 5000) == 1 &&
		       sync_file_status(hang) == -ETIMEDOUT,
		       "hanging job's fence fails with -ETIMEDOUT");
	}

	/* everything goes; nothing may stay behind */
	close(hang);
	close(sf);
	close(fd);
	for (i = 0; i < 100 && live_total() != 0; i++)
		usleep(50000);
	live = live_total();
	expect(live == 0, "no queue, job, buffer, fence or timeline left");
	if (live)
		printf("# live objects left: %ld\n", live);
	printf("1..%d\n", tests);
	printf("%s: %d passed, %d failed\n", __func__, tests - failed, failed);
	return failed ? 1 : 0;
}

static int insmod(const char *path, char **opts, int nopts)
{
	char params[1024] = "";
	size_t len = 0;
	int fd, i;

	for (i = 0; i < nopts; i++) {
		int n = snprintf(params + len, sizeof(params) - len, "%s%s",
				 i ? " " : "", opts[i]);

		if (n < 0 || (size_t)n >= sizeof(params) - len)
			die(1, "%s %s: options too long", __func__, path);
		len += n;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(1, "%s %s: %s", __func__, path, strerror(errno));
	if (syscall(SYS_finit_module, fd, params, 0))
		die(1, "%s %s: %s", __func__, path, strerror(errno));
	close(fd);
	return 0;
}

static int rmmod(const char *name)
{
	if (syscall(SYS_delete_module, name, O_NONBLOCK)) {
		fprintf(stderr, "%s %s: %s\n", __func__, name, strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	long jobs = -1;
	unsigned int seed = getpid() ^ time(NULL);
	int i;

	if (argc < 2)
		die(1, "usage: run|hold|keeper SOCK|badinput|insmod FILE|rmmod NAME|info|poweroff");
	if (!strcmp(argv[1], "run") || !strcmp(argv[1], "hold")) {
		for (i = 2; i + 1 < argc; i += 2) {
			if (!strcmp(argv[i], "--keeper"))
				sock = argv[i + 1];
			else if (!strcmp(argv[i], "--jobs"))
				jobs = atol(argv[i + 1]);
			else if (!strcmp(argv[i], "--seed"))
				seed = strtoul(argv[i + 1], NULL, 0);
			else
				die(1, "unknown option %s", argv[i]);
		}
		if (!strcmp(argv[1], "hold"))
			return hold(sock, jobs < 0 ? 1 : jobs);
		return run(sock, jobs, seed);
	}
	if (!strcmp(argv[1], "keeper") && argc == 3)
		return keeper(argv[2]);
	if (!strcmp(argv[1], "badinput"))
		return badinput();
	if (!strcmp(argv[1], "insmod") && argc >= 3)
		return insmod(argv[2], argv + 3, argc - 3);
	if (!strcmp(argv[1], "rmmod") && argc == 3)
		return rmmod(argv[2]);
	if (!strcmp(argv[1], "info")) {
		struct drm_vgpu_info info = {};
		int fd = open_node();

		must_ioctl(fd, DRM_IOCTL_VGPU_GET_INFO, &info);
		printf("uapi %u, %s, max_queues %u, max_in_fences %u, timeout %u ms\n",
		       info.uapi_version, info.raw ? "raw drm_sched" : "shim",
		       info.max_queues, info.max_in_fences, info.timeout_ms);
		return 0;
	}
	if (!strcmp(argv[1], "poweroff")) {
		sync();
		reboot(RB_POWER_OFF);
		die(1, "reboot: %s", strerror(errno));
	}
	die(1, "unknown command %s", argv[1]);
}
