/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * drm_sched API differences between the kernels the shim builds against.
 *
 * The baseline is Debian's 6.12.117, which carries the stable backports of
 * &struct drm_sched_init_args and the drm_client_id argument of
 * drm_sched_job_init() (both upstream in 6.15). Later kernels renamed the
 * timeout status (DRM_GPU_SCHED_STAT_NOMINAL became ..._RESET in 6.17);
 * each difference gets one helper here and nowhere else.
 */
#ifndef _DSHIM_COMPAT_H_
#define _DSHIM_COMPAT_H_

#include <drm/gpu_scheduler.h>
#include <linux/version.h>

/*
 * The only version test of the shim (checkpatch's LINUX_VERSION_CODE
 * warning is expected here and nowhere else).
 */
#if KERNEL_VERSION(6, 17, 0) <= LINUX_VERSION_CODE
#define DSHIM_SCHED_STAT_CONTINUE DRM_GPU_SCHED_STAT_RESET
#else
#define DSHIM_SCHED_STAT_CONTINUE DRM_GPU_SCHED_STAT_NOMINAL
#endif
#define DSHIM_SCHED_STAT_DEVICE_GONE DRM_GPU_SCHED_STAT_ENODEV

static inline int dshim_compat_job_init(struct drm_sched_job *job,
					struct drm_sched_entity *entity,
					u32 credits, void *owner)
{
	/* the shim has no drm_file: client id 0, as for kernel jobs */
	return drm_sched_job_init(job, entity, credits, owner, 0);
}

#endif /* _DSHIM_COMPAT_H_ */
