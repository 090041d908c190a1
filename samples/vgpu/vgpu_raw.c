// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu's queues on raw drm_sched, written the way drivers with one
 * scheduler per userspace queue were in 2023. This is the "before"
 * picture of make demo (module parameter vgpu.raw=1), kept as it was on
 * purpose: do not copy it.
 *
 * - Each queue embeds a drm_gpu_scheduler (with its own ordered submit
 *   workqueue, drm_sched's default) and one entity; the finished fence of
 *   the scheduler is what userspace gets in sync files, syncobjs and
 *   dma-buf reservations. It reads the scheduler for its timeline name.
 * - The hardware fences are the driver's own dma_fence_ops with the
 *   queue's lock and the queue's name.
 * - Closing a file tears each queue down synchronously: entity destroy
 *   (waits up to a second for queued jobs to reach the hardware, kills
 *   them on SIGKILL), drm_sched_fini() and kfree(). In 6.12,
 *   drm_sched_fini() neither waits for nor frees jobs still on the
 *   hardware: they leak, their completion later runs drm_sched's callback
 *   on the freed scheduler, and every fence userspace kept now reads freed
 *   memory when a sync file or dma_buf/bufinfo prints its timeline.
 * - Where the kernel has &drm_sched_backend_ops.cancel_job (7.3), the
 *   queue implements it, as a driver written today would: drm_sched_fini()
 *   then cancels and frees the jobs still on the hardware.
 */

#include <drm/gpu_scheduler.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

/* version differences, shared with the shim it ships with */
#include "../../c-shim/compat.h"
#include "vgpu_drv.h"

/**
 * struct vgpu_raw_queue - a queue with a drm_gpu_scheduler of its own
 * @sched: the scheduler
 * @entity: its only entity
 * @submit_lock: arm and push in fence order
 * @fence_lock: lock of the hardware fences
 * @fence_context: their fence context
 * @fence_seqno: their last sequence number
 * @engine: the queue's hardware
 * @name: drm_sched keeps a pointer to it, so do the hardware fences
 */
struct vgpu_raw_queue {
	struct drm_gpu_scheduler sched;
	struct drm_sched_entity entity;
	struct mutex submit_lock;	/* arm + push */
	spinlock_t fence_lock;		/* the hardware fences */
	u64 fence_context;
	u64 fence_seqno;
	struct vgpu_engine *engine;
	char name[32];
};

struct vgpu_raw_hw_fence {
	struct dma_fence base;
	struct vgpu_raw_queue *rq;
};

struct vgpu_raw_job {
	struct drm_sched_job base;
	struct vgpu_raw_queue *rq;
	struct vgpu_hw_job hw;
	u32 duration_us;
	bool hang;
};

static struct vgpu_raw_job *to_raw_job(struct drm_sched_job *sched_job)
{
	return container_of(sched_job, struct vgpu_raw_job, base);
}

static const char *vgpu_raw_fence_driver_name(struct dma_fence *fence)
{
	return "vgpu";
}

static const char *vgpu_raw_fence_timeline_name(struct dma_fence *fence)
{
	return container_of(fence, struct vgpu_raw_hw_fence, base)->rq->name;
}

static const struct dma_fence_ops vgpu_raw_fence_ops = {
	.get_driver_name = vgpu_raw_fence_driver_name,
	.get_timeline_name = vgpu_raw_fence_timeline_name,
};

static void vgpu_raw_signal(struct dma_fence *fence, int error)
{
	struct vgpu_raw_queue *rq =
		container_of(fence, struct vgpu_raw_hw_fence, base)->rq;
	unsigned long flags;

	spin_lock_irqsave(&rq->fence_lock, flags);
	if (!test_bit(DMA_FENCE_FLAG_SIGNALED_BIT, &fence->flags)) {
		if (error)
			dma_fence_set_error(fence, error);
		dma_fence_signal_locked(fence);
	}
	spin_unlock_irqrestore(&rq->fence_lock, flags);
}

static struct dma_fence *vgpu_raw_run_job(struct drm_sched_job *sched_job)
{
	struct vgpu_raw_job *job = to_raw_job(sched_job);
	struct vgpu_raw_queue *rq = job->rq;
	struct vgpu_raw_hw_fence *f;

	if (sched_job->s_fence->finished.error)
		return NULL;
	f = kzalloc_obj(*f, GFP_KERNEL);
	if (!f)
		return ERR_PTR(-ENOMEM);
	f->rq = rq;
	dma_fence_init(&f->base, &vgpu_raw_fence_ops, &rq->fence_lock,
		       rq->fence_context, ++rq->fence_seqno);
	vgpu_hw_job_start(&job->hw, &f->base, job->duration_us, job->hang);
	return &f->base;
}

/*
 * The 2023 recovery without resubmission: drm_sched took the job off its
 * pending list to call us; drm_sched_stop() puts it back and detaches
 * every pending job from its hardware fence, the "reset" fails the hung
 * one, and drm_sched_start() completes all of them with -ECANCELED and
 * frees them.
 */
static enum drm_gpu_sched_stat
vgpu_raw_timedout_job(struct drm_sched_job *sched_job)
{
	struct vgpu_raw_job *job = to_raw_job(sched_job);

	drm_sched_stop(&job->rq->sched, sched_job);
	if (vgpu_hw_job_stop(&job->hw, -ETIMEDOUT))
		atomic_long_inc(&vgpu_stats.jobs_timedout);
	dshim_compat_sched_start(&job->rq->sched);
	return DSHIM_SCHED_STAT_RESET;
}

#ifdef DSHIM_HAVE_SCHED_CANCEL_JOB
/* drm_sched_fini(): fail a job still on the hardware (7.3) */
static void vgpu_raw_cancel_job(struct drm_sched_job *sched_job)
{
	vgpu_hw_job_stop(&to_raw_job(sched_job)->hw, -ECANCELED);
}
#endif

static void vgpu_raw_free_job(struct drm_sched_job *sched_job)
{
	struct vgpu_raw_job *job = to_raw_job(sched_job);

	drm_sched_job_cleanup(sched_job);
	vgpu_hw_job_fini(&job->hw);
	kfree(job);
	atomic_long_dec(&vgpu_stats.jobs);
}

static const struct drm_sched_backend_ops vgpu_raw_sched_ops = {
	.run_job = vgpu_raw_run_job,
	.timedout_job = vgpu_raw_timedout_job,
	.free_job = vgpu_raw_free_job,
#ifdef DSHIM_HAVE_SCHED_CANCEL_JOB
	.cancel_job = vgpu_raw_cancel_job,
#endif
};

static int vgpu_raw_init(struct vgpu_queue *q)
{
	struct drm_gpu_scheduler *sched_list[1];
	struct drm_sched_init_args args = {
		.ops = &vgpu_raw_sched_ops,
		.num_rqs = 1,
		.credit_limit = VGPU_CREDIT_LIMIT,
		.timeout = vgpu_timeout_ms ? msecs_to_jiffies(vgpu_timeout_ms) :
					     MAX_SCHEDULE_TIMEOUT,
		.dev = q->vdev->drm.dev,
	};
	struct vgpu_raw_queue *rq;
	int ret;

	rq = kzalloc_obj(*rq, GFP_KERNEL);
	if (!rq)
		return -ENOMEM;
	rq->engine = vgpu_engine_create();
	if (!rq->engine) {
		kfree(rq);
		return -ENOMEM;
	}
	mutex_init(&rq->submit_lock);
	spin_lock_init(&rq->fence_lock);
	rq->fence_context = dma_fence_context_alloc(1);
	strscpy(rq->name, q->name, sizeof(rq->name));

	args.name = rq->name;
	ret = drm_sched_init(&rq->sched, &args);
	if (ret)
		goto err_free;
	sched_list[0] = &rq->sched;
	ret = drm_sched_entity_init(&rq->entity, DRM_SCHED_PRIORITY_KERNEL,
				    sched_list, 1, NULL);
	if (ret)
		goto err_fini;
	q->impl = rq;
	return 0;

err_fini:
	drm_sched_fini(&rq->sched);
err_free:
	mutex_destroy(&rq->submit_lock);
	vgpu_engine_put(rq->engine);
	kfree(rq);
	return ret;
}

static void vgpu_raw_fini(struct vgpu_queue *q)
{
	struct vgpu_raw_queue *rq = q->impl;

	drm_sched_entity_destroy(&rq->entity);
	drm_sched_fini(&rq->sched);
	mutex_destroy(&rq->submit_lock);
	vgpu_engine_put(rq->engine);
	kfree(rq);
}

static struct dma_fence *vgpu_raw_submit(struct vgpu_queue *q,
					 struct vgpu_job_desc *desc)
{
	struct vgpu_raw_queue *rq = q->impl;
	struct vgpu_raw_job *job;
	struct dma_fence *fence;
	unsigned int i = 0;
	int ret;

	job = kzalloc_obj(*job, GFP_KERNEL);
	if (!job) {
		ret = -ENOMEM;
		goto err_put_deps;
	}
	ret = drm_sched_job_init(&job->base, &rq->entity, 1, q, 0);
	if (ret)
		goto err_free;
	atomic_long_inc(&vgpu_stats.jobs);
	job->rq = rq;
	job->duration_us = desc->duration_us;
	job->hang = desc->hang;
	vgpu_hw_job_init(&job->hw, rq->engine, vgpu_raw_signal);
	for (; i < desc->num_deps; i++) {
		ret = drm_sched_job_add_dependency(&job->base, desc->deps[i]);
		if (ret) {
			i++;
			drm_sched_job_cleanup(&job->base);
			vgpu_hw_job_fini(&job->hw);
			atomic_long_dec(&vgpu_stats.jobs);
			goto err_free;
		}
	}

	mutex_lock(&rq->submit_lock);
	drm_sched_job_arm(&job->base);
	fence = dma_fence_get(&job->base.s_fence->finished);
	drm_sched_entity_push_job(&job->base);
	mutex_unlock(&rq->submit_lock);
	return fence;

err_free:
	kfree(job);
err_put_deps:
	vgpu_job_desc_put_deps(desc, i);
	return ERR_PTR(ret);
}

const struct vgpu_backend vgpu_raw_backend = {
	.init = vgpu_raw_init,
	.fini = vgpu_raw_fini,
	.submit = vgpu_raw_submit,
};
