// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu's queues on the DRM scheduler shim: one dshim_queue per userspace
 * queue, and a hardware timeline of the queue's own.
 *
 * Nothing here waits: the last reference to a queue shuts it down and
 * returns, each job owns a reference to the hardware timeline it needs,
 * and the shim frees every job exactly once, whatever was torn down
 * first. The fences userspace gets (sync files, syncobjs, dma-buf
 * reservations) name a counted timeline, never this driver's memory.
 */

#include <drm/drm_sched_shim.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "vgpu_drv.h"

/**
 * struct vgpu_shim_queue - a queue on the shim
 * @queue: the shim queue (scheduler and entity)
 * @hw_tl: timeline of the queue's hardware fences
 * @engine: the queue's hardware
 */
struct vgpu_shim_queue {
	struct dshim_queue *queue;
	struct dshim_timeline *hw_tl;
	struct vgpu_engine *engine;
};

/**
 * struct vgpu_shim_job - a job's payload, freed by the shim's free callback
 * @hw: its state on the hardware (holds the engine)
 * @hw_tl: the hardware timeline (a reference: run may come after the
 *	queue's last driver reference is gone)
 * @hw_fence: the hardware fence, allocated at submit; run arms it, as run
 *	must not allocate (the job's fence is out, and reclaim may wait
 *	for it). Still here at free if the job never ran.
 * @duration_us: hardware time
 * @hang: never completes
 */
struct vgpu_shim_job {
	struct vgpu_hw_job hw;
	struct dshim_timeline *hw_tl;
	struct dshim_hw_fence *hw_fence;
	u32 duration_us;
	bool hang;
};

static void vgpu_shim_signal(struct dma_fence *fence, int error)
{
	/* -EALREADY: the job completed before a timeout or cancel */
	dshim_hw_fence_signal(fence, error);
}

static struct dma_fence *vgpu_shim_run(struct dshim_job *job)
{
	struct vgpu_shim_job *vjob = dshim_job_priv(job);
	struct dma_fence *fence;

	fence = dshim_hw_fence_arm(vjob->hw_fence, vjob->hw_tl);
	vjob->hw_fence = NULL;
	if (IS_ERR(fence))
		return fence;
	atomic_long_inc(&vgpu_stats.jobs_run);
	vgpu_hw_job_start(&vjob->hw, fence, vjob->duration_us, vjob->hang);
	return fence;
}

static enum dshim_timeout_status vgpu_shim_timedout(struct dshim_job *job)
{
	struct vgpu_shim_job *vjob = dshim_job_priv(job);

	if (vgpu_hw_job_stop(&vjob->hw, -ETIMEDOUT))
		atomic_long_inc(&vgpu_stats.jobs_timedout);
	return DSHIM_TIMEOUT_CONTINUE;
}

static void vgpu_shim_cancel(struct dshim_job *job)
{
	struct vgpu_shim_job *vjob = dshim_job_priv(job);

	if (vgpu_hw_job_stop(&vjob->hw, -ECANCELED))
		atomic_long_inc(&vgpu_stats.jobs_cancelled);
}

static void vgpu_shim_job_free(struct vgpu_shim_job *vjob)
{
	vgpu_hw_job_fini(&vjob->hw);
	dshim_hw_fence_free(vjob->hw_fence);
	dshim_timeline_put(vjob->hw_tl);
	kfree(vjob);
	atomic_long_dec(&vgpu_stats.jobs);
}

static void vgpu_shim_free(struct dshim_job *job)
{
	vgpu_shim_job_free(dshim_job_priv(job));
}

static const struct dshim_sched_ops vgpu_shim_ops = {
	.run = vgpu_shim_run,
	.timedout = vgpu_shim_timedout,
	.cancel = vgpu_shim_cancel,
	.free = vgpu_shim_free,
};

/* vgpu.cancel=0: a closed queue's jobs on the hardware run to the end */
static const struct dshim_sched_ops vgpu_shim_ops_no_cancel = {
	.run = vgpu_shim_run,
	.timedout = vgpu_shim_timedout,
	.free = vgpu_shim_free,
};

static int vgpu_shim_init(struct vgpu_queue *q)
{
	struct dshim_sched_desc desc = {
		.ops = &vgpu_shim_ops,
		.owner = THIS_MODULE,
		.name = q->name,
		.dev = q->vdev->drm.dev,
		.credit_limit = VGPU_CREDIT_LIMIT,
		.timeout_ms = READ_ONCE(vgpu_timeout_ms),
	};
	struct vgpu_shim_queue *sq;
	int ret;

	/*
	 * Without cancel, also leave the owner to the shim, which then pins
	 * the module the ops lie in, as it does for Rust drivers: the e2e
	 * test's rmmod checks that path too.
	 */
	if (!READ_ONCE(vgpu_cancel)) {
		desc.ops = &vgpu_shim_ops_no_cancel;
		desc.owner = NULL;
	}
	sq = kzalloc_obj(*sq, GFP_KERNEL);
	if (!sq)
		return -ENOMEM;
	sq->engine = vgpu_engine_create();
	if (!sq->engine) {
		ret = -ENOMEM;
		goto err_free;
	}
	sq->hw_tl = dshim_timeline_create(q->name);
	if (IS_ERR(sq->hw_tl)) {
		ret = PTR_ERR(sq->hw_tl);
		goto err_put_engine;
	}
	sq->queue = dshim_queue_create(&desc);
	if (IS_ERR(sq->queue)) {
		ret = PTR_ERR(sq->queue);
		goto err_put_tl;
	}
	q->impl = sq;
	return 0;

err_put_tl:
	dshim_timeline_put(sq->hw_tl);
err_put_engine:
	vgpu_engine_put(sq->engine);
err_free:
	kfree(sq);
	return ret;
}

/* A real driver's postclose: kill, drop, return. Nothing waits. */
static void vgpu_shim_fini(struct vgpu_queue *q)
{
	struct vgpu_shim_queue *sq = q->impl;

	dshim_queue_kill(sq->queue);
	dshim_queue_put(sq->queue);
	dshim_timeline_put(sq->hw_tl);
	vgpu_engine_put(sq->engine);
	kfree(sq);
}

static struct dma_fence *vgpu_shim_submit(struct vgpu_queue *q,
					  struct vgpu_job_desc *desc)
{
	struct vgpu_shim_queue *sq = q->impl;
	struct vgpu_shim_job *vjob;
	struct dshim_job *job;
	unsigned int i = 0;
	int ret;

	vjob = kzalloc_obj(*vjob, GFP_KERNEL);
	if (!vjob) {
		ret = -ENOMEM;
		goto err_put_deps;
	}
	atomic_long_inc(&vgpu_stats.jobs);
	vgpu_hw_job_init(&vjob->hw, sq->engine, vgpu_shim_signal);
	vjob->hw_tl = dshim_timeline_get(sq->hw_tl);
	vjob->duration_us = desc->duration_us;
	vjob->hang = desc->hang;
	vjob->hw_fence = dshim_hw_fence_alloc();
	if (IS_ERR(vjob->hw_fence)) {
		ret = PTR_ERR(vjob->hw_fence);
		vjob->hw_fence = NULL;
		vgpu_shim_job_free(vjob);
		goto err_put_deps;
	}

	job = dshim_job_create(dshim_queue_entity(sq->queue), 1, vjob);
	if (IS_ERR(job)) {
		/* no job, so no free callback: the payload is still ours */
		vgpu_shim_job_free(vjob);
		ret = PTR_ERR(job);
		goto err_put_deps;
	}
	/* from here on the shim's free callback releases @vjob */
	for (; i < desc->num_deps; i++) {
		ret = dshim_job_add_dependency(job, desc->deps[i]);
		if (ret) {
			i++;
			dshim_job_put(job);
			goto err_put_deps;
		}
	}
	return dshim_job_submit(job);

err_put_deps:
	vgpu_job_desc_put_deps(desc, i);
	return ERR_PTR(ret);
}

const struct vgpu_backend vgpu_shim_backend = {
	.init = vgpu_shim_init,
	.fini = vgpu_shim_fini,
	.submit = vgpu_shim_submit,
};
