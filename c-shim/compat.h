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
#include <linux/slab.h>

/*
 * The kernels the shim builds against are Debian's 6.12.117 and 7.3;
 * prepare-tree.sh refuses others. Each difference is a feature the
 * project's Kbuild finds in the tree's headers (a DSHIM_HAVE_* flag),
 * not a version number: distributions backport.
 */

/*
 * What newer drm_sched offers that the shim does not use, and why:
 *
 * - &drm_sched_backend_ops.cancel_job: drm_sched_fini() calls it for jobs
 *   still on the pending list. The shim calls drm_sched_fini() only once
 *   every job of the scheduler has been freed (each job holds a scheduler
 *   reference), so it would never run; the driver hears of the jobs on
 *   its hardware through &dshim_sched_ops.cancel at kill and shutdown, on
 *   every kernel alike.
 * - the exported drm_sched_entity_kill(): it has the race the shim's kill
 *   closes by pausing the scheduler (dshim_entity.c): a pick in flight
 *   puts the entity back on the run queue after the kill took it off, and
 *   since 7.0 every policy (RR, FIFO, fair) does so through the rb-tree.
 *   drm_sched_entity_fini() inside the pause does the same kill.
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

/**
 * dshim_compat_timedout_keep() - Keep a timed-out job until it is done.
 * @sched: the drm_sched scheduler
 * @job: the job drm_sched's timeout handler took off its pending list
 * @device_gone: the driver said its device is gone (no new timeouts)
 *
 * The shim frees a job only through drm_sched's free work, after its
 * hardware fence signalled, so a timed-out job must go back on the pending
 * list. Linux 6.17 does that itself for DRM_GPU_SCHED_STAT_NO_HANG (and
 * queues the free work unless submission is paused); older kernels leave
 * it to the driver, and no kernel does it for ENODEV. Put it back at the
 * head, where it was, as drm_sched_job_reinsert_on_false_timeout() does:
 * if its hardware fence signalled meanwhile, the free work found nothing
 * to free. A paused scheduler queues its free work when it starts again.
 *
 * Context: drm_sched's timeout work, with @job off the pending list.
 * Return: the status for drm_sched's timedout_job.
 */
static inline enum drm_gpu_sched_stat
dshim_compat_timedout_keep(struct drm_gpu_scheduler *sched,
			   struct drm_sched_job *job, bool device_gone)
{
#ifdef DSHIM_HAVE_SCHED_STAT_NO_HANG
	if (!device_gone)
		return DRM_GPU_SCHED_STAT_NO_HANG;
#endif
	spin_lock(&sched->job_list_lock);
	list_add(&job->list, &sched->pending_list);
	if (!READ_ONCE(sched->pause_submit))
		queue_work(sched->submit_wq, &sched->work_free_job);
	spin_unlock(&sched->job_list_lock);
	return device_gone ? DRM_GPU_SCHED_STAT_ENODEV : DSHIM_SCHED_STAT_RESET;
}

/*
 * DSHIM_HAVE_SCHED_CANCEL_JOB: the kernel has
 * &drm_sched_backend_ops.cancel_job. The shim does not use it (above);
 * the demo's raw drivers (kunit/raw_repro.c, samples/vgpu/vgpu_raw.c)
 * implement it where it exists, as a driver of their kernel's day would.
 */

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

/*
 * The benchmark (built in, never a module) drains the per-CPU page lists
 * before it counts free pages. Later kernels moved drain_all_pages() from
 * <linux/gfp.h> to mm/internal.h; the function is unchanged and global.
 */
#ifndef DSHIM_HAVE_GFP_DRAIN_ALL_PAGES
struct zone;
void drain_all_pages(struct zone *zone);
#endif

static inline int dshim_compat_job_init(struct drm_sched_job *job,
					struct drm_sched_entity *entity,
					u32 credits, void *owner)
{
	/* the shim has no drm_file: client id 0, as for kernel jobs */
	return drm_sched_job_init(job, entity, credits, owner, 0);
}

/*
 * 7.x's typed allocator (include/linux/slab.h), which 7.x's checkpatch
 * asks for over kzalloc(sizeof(...)); 6.12 has none. Only the form the
 * project uses: one object, the gfp flags given.
 */
#ifndef kzalloc_obj
#define kzalloc_obj(P, gfp)	kzalloc(sizeof(P), gfp)
#endif

#endif /* _DSHIM_COMPAT_H_ */
