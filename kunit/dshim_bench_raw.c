// SPDX-License-Identifier: GPL-2.0-only
/*
 * A minimal raw drm_sched driver, the baseline of the shim's benchmarks.
 *
 * It is written as a 2026 driver writes it: a drm_gpu_scheduler per
 * userspace queue, with one entity, a mutex around arm and push, and the
 * finished fence handed out as the job's fence. Its schedulers either
 * queue their work on drm_sched's default workqueue (an ordered
 * WQ_MEM_RECLAIM one per scheduler, with its rescuer thread), or all on
 * one workqueue the driver allocated for them (as panthor does: unbound,
 * WQ_MEM_RECLAIM, one rescuer for the whole driver).
 *
 * Teardown is synchronous, and the same on every kernel: the driver makes
 * its hardware drop the queue's jobs, waits for their free_job, and only
 * then calls drm_sched_fini(), which in 6.12 neither waits for nor frees
 * jobs still on the hardware. (7.x's drm_sched lets a driver implement
 * cancel_job instead and have drm_sched_fini() cancel and free them; this
 * one builds on 6.12 too.)
 *
 * It runs on the same mock hardware as the shim's mock driver.
 */

#include <drm/gpu_scheduler.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "dshim_bench.h"

#define BRAW_DESTROY_TIMEOUT_MS	30000

/**
 * struct braw_queue - one raw drm_sched queue
 * @sched: the queue's scheduler
 * @entity: its only entity
 * @ctx: the mock hardware; destroy cancels all of it, so no other queue may
 *	have jobs on it then
 * @submit_lock: arm + push in fence order
 * @num_jobs: jobs whose free_job has not run
 * @idle_wq: woken when @num_jobs drops to zero
 * @name: drm_sched keeps a pointer to it
 */
struct braw_queue {
	struct drm_gpu_scheduler sched;
	struct drm_sched_entity entity;
	struct mock_ctx *ctx;
	struct mutex submit_lock;	/* arm + push */
	atomic_t num_jobs;
	wait_queue_head_t idle_wq;
	char name[DSHIM_NAME_MAX];
};

struct braw_job {
	struct drm_sched_job base;
	struct braw_queue *queue;
	struct mock_job *mj;
};

static struct braw_job *to_braw_job(struct drm_sched_job *sched_job)
{
	return container_of(sched_job, struct braw_job, base);
}

static struct dma_fence *braw_run_job(struct drm_sched_job *sched_job)
{
	struct braw_job *job = to_braw_job(sched_job);

	bench_job_ran(job->mj);
	return mock_hw_run(job->mj);
}

static enum drm_gpu_sched_stat braw_timedout_job(struct drm_sched_job *job)
{
	/* the queues have no timeout: this is never called */
	return DSHIM_SCHED_STAT_RESET;
}

static void braw_free_job(struct drm_sched_job *sched_job)
{
	struct braw_job *job = to_braw_job(sched_job);
	struct braw_queue *q = job->queue;
	struct mock_ctx *ctx = job->mj->ctx;
	unsigned int id = job->mj->id;

	drm_sched_job_cleanup(sched_job);
	mock_hw_release(job->mj);
	kfree(job);
	bench_job_freed(ctx, id);
	/*
	 * destroy frees @q only after drm_sched_fini() cancelled this work
	 * synchronously, so the wake-up cannot touch freed memory.
	 */
	if (atomic_dec_and_test(&q->num_jobs))
		wake_up_all(&q->idle_wq);
}

static const struct drm_sched_backend_ops braw_ops = {
	.run_job = braw_run_job,
	.timedout_job = braw_timedout_job,
	.free_job = braw_free_job,
};

/*
 * A queue on @ctx. Its scheduler queues its work on @submit_wq, or, if
 * that is NULL, on a workqueue of its own that drm_sched allocates. No
 * other queue may have jobs on @ctx when this one is destroyed.
 */
struct braw_queue *braw_queue_create(struct mock_ctx *ctx, const char *name,
				     u32 credit_limit,
				     struct workqueue_struct *submit_wq)
{
	struct drm_gpu_scheduler *sched_list[1];
	struct drm_sched_init_args args = {
		.ops = &braw_ops,
		.submit_wq = submit_wq,
		.num_rqs = 1,
		.credit_limit = credit_limit,
		.timeout = MAX_SCHEDULE_TIMEOUT,
	};
	struct braw_queue *q;
	int ret;

	q = kzalloc_obj(*q, GFP_KERNEL);
	if (!q)
		return ERR_PTR(-ENOMEM);
	q->ctx = ctx;
	mutex_init(&q->submit_lock);
	atomic_set(&q->num_jobs, 0);
	init_waitqueue_head(&q->idle_wq);
	strscpy(q->name, name, sizeof(q->name));

	args.name = q->name;
	ret = drm_sched_init(&q->sched, &args);
	if (ret)
		goto err_free_queue;

	sched_list[0] = &q->sched;
	ret = drm_sched_entity_init(&q->entity, DRM_SCHED_PRIORITY_KERNEL,
				    sched_list, 1, NULL);
	if (ret)
		goto err_fini_sched;
	return q;

err_fini_sched:
	drm_sched_fini(&q->sched);
err_free_queue:
	mutex_destroy(&q->submit_lock);
	kfree(q);
	return ERR_PTR(ret);
}

/*
 * Submit a job carrying @mj, which from now on the job's free_job releases
 * (or this function, on failure). Returns the finished fence.
 */
struct dma_fence *braw_submit(struct braw_queue *q, struct mock_job *mj)
{
	struct dma_fence *fence;
	struct braw_job *job;
	int ret;

	job = kzalloc_obj(*job, GFP_KERNEL);
	if (!job) {
		mock_job_free(mj);
		return ERR_PTR(-ENOMEM);
	}
	ret = drm_sched_job_init(&job->base, &q->entity, 1, q, 0);
	if (ret) {
		kfree(job);
		mock_job_free(mj);
		return ERR_PTR(ret);
	}
	job->queue = q;
	job->mj = mj;
	atomic_inc(&mj->ctx->created);
	atomic_inc(&q->num_jobs);

	mutex_lock(&q->submit_lock);
	drm_sched_job_arm(&job->base);
	fence = dma_fence_get(&job->base.s_fence->finished);
	drm_sched_entity_push_job(&job->base);
	mutex_unlock(&q->submit_lock);
	return fence;
}

/*
 * Tear a queue down and free it: returns when every byte of it is freed.
 * On -ETIMEDOUT (a job was never freed) the queue is leaked, not freed
 * under drm_sched's feet.
 */
int braw_queue_destroy(struct braw_queue *q)
{
	/* waits for queued jobs to reach the hardware, then stops the entity */
	drm_sched_entity_destroy(&q->entity);
	/* the driver's "cancel": the hardware drops the queue's jobs */
	mock_hw_advance(q->ctx, UINT_MAX, -ECANCELED);
	if (!wait_event_timeout(q->idle_wq, !atomic_read(&q->num_jobs),
				msecs_to_jiffies(BRAW_DESTROY_TIMEOUT_MS)))
		return -ETIMEDOUT;
	drm_sched_fini(&q->sched);
	mutex_destroy(&q->submit_lock);
	kfree(q);
	return 0;
}
