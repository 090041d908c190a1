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

/*
 * What &dshim_sched_ops.timedout's answers mean to drm_sched. Linux 6.17
 * renamed DRM_GPU_SCHED_STAT_NOMINAL to DRM_GPU_SCHED_STAT_RESET (same
 * value); this is the line a port to it changes. The supported trees are
 * checked by scripts/prepare-tree.sh, so there is no version test here.
 */
#define DSHIM_SCHED_STAT_CONTINUE DRM_GPU_SCHED_STAT_NOMINAL
#define DSHIM_SCHED_STAT_DEVICE_GONE DRM_GPU_SCHED_STAT_ENODEV

static inline int dshim_compat_job_init(struct drm_sched_job *job,
					struct drm_sched_entity *entity,
					u32 credits, void *owner)
{
	/* the shim has no drm_file: client id 0, as for kernel jobs */
	return drm_sched_job_init(job, entity, credits, owner, 0);
}

#endif /* _DSHIM_COMPAT_H_ */
