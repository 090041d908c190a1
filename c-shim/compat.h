/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * drm_sched API differences between the kernels the shim builds against.
 *
 * The baseline is Debian's 6.12.117, which carries the stable backports of
 * &struct drm_sched_init_args and the drm_client_id argument of
 * drm_sched_job_init() (both upstream in 6.15). Later kernels renamed the
 * timeout status (see below); each difference gets one helper here and
 * nowhere else.
 */
#ifndef _DSHIM_COMPAT_H_
#define _DSHIM_COMPAT_H_

#include <drm/gpu_scheduler.h>
#include <linux/dma-fence.h>
#include <linux/hrtimer.h>

/*
 * The kernels the shim builds against are Debian's 6.12.117 and 7.3;
 * prepare-tree.sh refuses others. Each difference is a feature the
 * project's Kbuild finds in the tree's headers (a DSHIM_HAVE_* flag),
 * not a version number: distributions backport.
 */

/*
 * What &dshim_sched_ops.timedout's answers mean to drm_sched. Linux 6.17
 * renamed DRM_GPU_SCHED_STAT_NOMINAL to DRM_GPU_SCHED_STAT_RESET (same
 * value).
 */
#ifdef DSHIM_HAVE_SCHED_STAT_RESET
#define DSHIM_SCHED_STAT_RESET DRM_GPU_SCHED_STAT_RESET
#else
#define DSHIM_SCHED_STAT_RESET DRM_GPU_SCHED_STAT_NOMINAL
#endif
#define DSHIM_SCHED_STAT_CONTINUE DSHIM_SCHED_STAT_RESET
#define DSHIM_SCHED_STAT_DEVICE_GONE DRM_GPU_SCHED_STAT_ENODEV

/* 6.13's drm_sched_start() takes the error of the jobs it fails */
static inline void dshim_compat_sched_start(struct drm_gpu_scheduler *sched)
{
#ifdef DSHIM_HAVE_SCHED_START_ERRNO
	drm_sched_start(sched, 0);
#else
	drm_sched_start(sched);
#endif
}

/*
 * The head of a KUnit parameter generator: the series that added
 * KUNIT_CASE_PARAM_WITH_INIT() (6.18) gave generators the test as their
 * first argument.
 */
#ifdef KUNIT_CASE_PARAM_WITH_INIT
#define DSHIM_KUNIT_GEN_PARAMS(fn) \
	const void *(fn)(struct kunit *test, const void *prev, char *desc)
#else
#define DSHIM_KUNIT_GEN_PARAMS(fn) \
	const void *(fn)(const void *prev, char *desc)
#endif

/* A fence's ops, without sparse's __rcu complaint (6.17 made it __rcu). */
#define dshim_fence_ops_of(f) \
	((const struct dma_fence_ops __force *)READ_ONCE((f)->ops))

/* hrtimer_init() and a function, or 6.13's hrtimer_setup() */
static inline void dshim_compat_hrtimer_setup(struct hrtimer *timer,
					      enum hrtimer_restart (*fn)(struct hrtimer *),
					      clockid_t clock,
					      enum hrtimer_mode mode)
{
#ifdef DSHIM_HAVE_HRTIMER_SETUP
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

static inline int dshim_compat_job_init(struct drm_sched_job *job,
					struct drm_sched_entity *entity,
					u32 credits, void *owner)
{
	/* the shim has no drm_file: client id 0, as for kernel jobs */
	return drm_sched_job_init(job, entity, credits, owner, 0);
}

#endif /* _DSHIM_COMPAT_H_ */
