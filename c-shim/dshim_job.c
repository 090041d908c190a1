// SPDX-License-Identifier: GPL-2.0-only
/*
 * DRM scheduler shim: counted jobs and the drm_sched backend callbacks.
 */

#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/xarray.h>

#include "compat.h"
#include "internal.h"

/**
 * DOC: job lifetime
 *
 * A job is created with one reference, the creator's. dshim_job_submit()
 * passes that reference to the scheduler, which drops it after the
 * driver's &dshim_sched_ops.free ran. A job that is never submitted (or
 * whose submission fails) gets its ``free`` from the shim's worker when its
 * last reference goes. Either way ``free`` runs exactly once, in process
 * context, and the memory goes when the last reference (the driver may
 * hold more with dshim_job_get()) is dropped.
 *
 * The error a job's fence signals with:
 *
 * * 0, or the error of the hardware fence &dshim_sched_ops.run returned,
 *   or the ERR_PTR() it returned;
 * * the error of the first dependency that failed: the job is not run;
 * * -ECANCELED if its entity was killed or its scheduler shut down before
 *   it reached ``run``;
 * * whatever the driver signals the hardware fence with when asked to
 *   ``cancel`` (-ECANCELED is the convention).
 */

/**
 * DOC: direct submit
 *
 * A queue created with %DSHIM_QUEUE_DIRECT_SUBMIT runs a job from
 * dshim_job_submit() itself when there is nothing to schedule: no job of
 * the queue waits in drm_sched or is between drm_sched's pop and its
 * ``run`` (&dshim_entity.sched_pending), every dependency has signalled
 * without error, and the job's credits fit next to those on the hardware.
 * That is the common case of a firmware-scheduled queue, and it saves
 * drm_sched's run and free work items, its scheduled and finished fences
 * and their callbacks (make bench measures what that is worth).
 *
 * Everything else still goes through drm_sched, which keeps every
 * scheduling decision: a job that must wait (for a dependency, for
 * credits, behind queued jobs) is pushed as usual, and also waits for the
 * fence of the last job run directly (&dshim_job.after), so that the
 * credits drm_sched does not see are back before it runs. (It waits for
 * that job to finish even when the credits would fit: simple, and rare,
 * as it takes a job that must wait right behind one that did not.) Jobs
 * reach ``run`` in submission order either way, and their fences signal
 * in that order (the fence chain of dshim_fence_signal_job()).
 *
 * A direct job keeps every other rule: ``run`` is a fence signalling
 * section inside a callback frame (so waits in it get -EDEADLK), the job
 * is on &dshim_sched.hw_jobs for ``cancel`` (which the kill's work calls,
 * never the submitter: it may hold a lock the driver's cancel takes), and
 * its ``free`` runs from the shim's workqueue once the hardware fence
 * signalled (the callback on it only signals the job's fence and queues
 * that work: it allocates nothing). Its fence has no drm_sched fence
 * behind it: a job that depends on it waits for it to finish, not to be
 * scheduled.
 *
 * Only for queues (one entity: nothing to arbitrate) without a timeout
 * (drm_sched's timer does not see these jobs).
 */

static void dshim_job_finished(struct dma_fence *f, struct dma_fence_cb *cb)
{
	struct dshim_job *job = container_of(cb, struct dshim_job, finished_cb);
	int error = f->error;

	/* drm_sched_entity_fini() fails the jobs it kills with -ESRCH */
	if (error == -ESRCH && dshim_entity_is_killed(job->entity))
		error = -ECANCELED;
	dshim_fence_signal_job(job->fence, error);
}

/* Free the job's memory: the driver's free ran, no reference is left. */
static void dshim_job_destroy(struct dshim_job *job)
{
	struct dshim_entity *entity = job->entity;

	if (test_bit(DSHIM_JOB_ARMED, &job->flags))
		dma_fence_put(&job->fence->base);
	else
		dshim_fence_free_unarmed(job->fence);
	dshim_count_dec(jobs);
	kmem_cache_free(dshim_job_cache, job);
	dshim_entity_unref(entity);
}

/* Release drm_sched's resources of the job and call the driver's free. */
static void dshim_job_release_payload(struct dshim_job *job)
{
	struct dshim_entity *entity = job->entity;
	struct dshim_sched *sched = entity->sched;
	struct dshim_cb_frame frame;
	struct dma_fence *dep;
	unsigned long index;
	bool entity_idle;

	/* a job never submitted: its dependency fences have no waiter */
	if (!test_bit(DSHIM_JOB_ARMED, &job->flags))
		xa_for_each(&job->base.dependencies, index, dep)
			dshim_dep_cancel(dep);
	dma_fence_put(job->after);
	dma_fence_put(job->hw_fence);
	drm_sched_job_cleanup(&job->base);
	dshim_callback_enter(&frame);
	sched->ops->free(job);
	dshim_callback_exit(&frame);
	set_bit(DSHIM_JOB_FREED, &job->flags);

	/*
	 * The job's memory reference keeps both alive across the wake-up.
	 * Most jobs that idle their queue have nobody waiting: skip the
	 * wait queue's lock then. The decrements are full barriers, and
	 * wq_has_sleeper() adds its own, against the waiter's
	 * prepare_to_wait() before it reads the count.
	 */
	entity_idle = atomic_dec_and_test(&entity->num_jobs);
	if ((dshim_sched_job_gone(sched) || entity_idle) &&
	    wq_has_sleeper(&sched->idle_wq))
		wake_up_all(&sched->idle_wq);
}

/*
 * The end of a job the scheduler took, in process context: off the
 * hardware list, then ``free``, then the scheduler's reference.
 */
static void dshim_job_retire(struct dshim_job *job)
{
	struct dshim_sched *sched = job->entity->sched;

	spin_lock(&sched->lock);
	list_del_init(&job->hw_link);
	spin_unlock(&sched->lock);
	/* a cancel claimed before the unlink is still using the job */
	wait_on_bit(&job->flags, DSHIM_JOB_IN_CANCEL, TASK_UNINTERRUPTIBLE);

	dshim_job_release_payload(job);
	/*
	 * The scheduler's reference, not a driver's: FREED is set, so
	 * dshim_job_put()'s misuse check has nothing to find. The release
	 * orders FREED before the count a driver's last put then reads.
	 */
	if (refcount_dec_and_test(&job->refcount))
		dshim_job_destroy(job);
}

/* A direct job is done on the hardware: its free, from process context. */
static void dshim_job_direct_free_work(struct work_struct *work)
{
	dshim_job_retire(container_of(work, struct dshim_job, release_work));
}

/* A job the scheduler never took: free it from process context. */
static void dshim_job_release_work(struct work_struct *work)
{
	struct dshim_job *job = container_of(work, struct dshim_job,
					     release_work);

	dshim_job_release_payload(job);
	dshim_job_destroy(job);
}

/**
 * dshim_job_create() - create a job on an entity
 * @entity: the entity the job will be submitted to; the job keeps its
 *	memory alive
 * @credits: hardware credits the job takes, 1 to the scheduler's
 *	&dshim_sched_desc.credit_limit
 * @priv: driver payload, returned by dshim_job_priv(); the driver releases
 *	it in &dshim_sched_ops.free, which is called exactly once from now on
 *
 * The caller owns the returned reference; dshim_job_submit() consumes it,
 * dshim_job_put() drops it (and then ``free`` runs) if the job is never
 * submitted.
 *
 * Context: Process context; may sleep.
 * Return: the job, or ERR_PTR(-EINVAL) for a bad handle (a driver bug:
 * warned once) or credits out of range (not warned: they may come from
 * userspace); the driver's ``free`` is not called, no job was created.
 * ERR_PTR(-ESHUTDOWN) if the entity is killed or its scheduler shut down,
 * ERR_PTR(-ENOMEM).
 */
struct dshim_job *dshim_job_create(struct dshim_entity *entity, u32 credits,
				   void *priv)
{
	struct dshim_sched *sched;
	struct dshim_job *job;
	int ret;

	might_sleep();
	if (DSHIM_BAD_HANDLE(entity))
		return ERR_PTR(-EINVAL);
	sched = entity->sched;
	/* not a driver bug: credits often come from a submit ioctl */
	if (!credits || credits > sched->base.credit_limit)
		return ERR_PTR(-EINVAL);
	if (dshim_entity_is_closed(entity))
		return ERR_PTR(-ESHUTDOWN);

	job = dshim_fail_alloc() ? NULL :
	      kmem_cache_zalloc(dshim_job_cache, GFP_KERNEL);
	if (!job)
		return ERR_PTR(-ENOMEM);

	job->fence = dshim_fence_alloc(dshim_job_fence_cache);
	if (!job->fence) {
		ret = -ENOMEM;
		goto err_free_job;
	}

	ret = dshim_fail_alloc() ? -ENOMEM :
	      dshim_compat_job_init(&job->base, &entity->base, credits, job);
	if (ret)
		goto err_free_fence;

	refcount_set(&job->refcount, 1);
	dshim_entity_ref(entity);
	job->entity = entity;
	job->priv = priv;
	INIT_LIST_HEAD(&job->hw_link);
	INIT_WORK(&job->release_work, dshim_job_release_work);
	atomic_inc(&entity->num_jobs);
	dshim_sched_job_added(sched);
	dshim_count_inc(jobs);
	return job;

err_free_fence:
	dshim_fence_free_unarmed(job->fence);
err_free_job:
	kmem_cache_free(dshim_job_cache, job);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(dshim_job_create);

/**
 * dshim_job_get() - take a reference on a job
 * @job: the job
 *
 * Keeps the job's memory (and dshim_job_priv()) valid after the scheduler
 * is done with it. Does not delay &dshim_sched_ops.free.
 *
 * Context: Any context.
 * Return: @job, or NULL for a bad handle.
 */
struct dshim_job *dshim_job_get(struct dshim_job *job)
{
	if (DSHIM_BAD_HANDLE(job))
		return NULL;
	refcount_inc(&job->refcount);
	return job;
}
EXPORT_SYMBOL_GPL(dshim_job_get);

/**
 * dshim_job_put() - drop a reference on a job
 * @job: the job, or NULL
 *
 * For a job that was never submitted, dropping the last reference has the
 * shim's worker call &dshim_sched_ops.free. A submitted job's reference is
 * the scheduler's; only references from dshim_job_get() may be dropped.
 *
 * Context: Any context, including shim callbacks. Never sleeps.
 */
void dshim_job_put(struct dshim_job *job)
{
	if (!job || DSHIM_BAD_HANDLE(job))
		return;
	dshim_test_hook(dshim_test_put_hook, job);
	/* not the last reference: nothing to check */
	if (refcount_dec_not_one(&job->refcount))
		return;
	/*
	 * The last one. Of a submitted job, it is the scheduler's, dropped by
	 * dshim_job_free() after it set FREED, maybe on another CPU: reading
	 * the count of 1 left by that put (a release) before the flag (here
	 * the read barrier) sees the flag set.
	 */
	smp_rmb();
	if (DSHIM_MISUSE(test_bit(DSHIM_JOB_ARMED, &job->flags) &&
			 !test_bit(DSHIM_JOB_FREED, &job->flags),
			 "put of a submitted job without dshim_job_get()\n"))
		return;
	if (!refcount_dec_and_test(&job->refcount))
		return;
	if (test_bit(DSHIM_JOB_FREED, &job->flags))
		dshim_job_destroy(job);
	else
		queue_work(dshim_free_wq, &job->release_work);
}
EXPORT_SYMBOL_GPL(dshim_job_put);

/* drm_sched_job_add_dependency(), or its failure injected; consumes @fence */
static int dshim_job_add_sched_dependency(struct dshim_job *job,
					  struct dma_fence *fence)
{
	if (dshim_fail_alloc()) {
		dma_fence_put(fence);
		return -ENOMEM;
	}
	return drm_sched_job_add_dependency(&job->base, fence);
}

/*
 * Add @fence, from outside the shim and not signalled, through a
 * dependency fence of the shim's (see "dependencies from outside").
 */
static int dshim_job_add_foreign(struct dshim_job *job, struct dma_fence *fence)
{
	struct dma_fence *entry, *dep;
	unsigned long index;
	int ret;

	xa_for_each(&job->base.dependencies, index, entry) {
		if (dshim_dep_covers(entry, fence)) {
			dma_fence_put(fence);
			return 0;
		}
	}
	dep = dshim_dep_create(job->entity, fence);
	if (IS_ERR(dep))
		return PTR_ERR(dep);
	/* a failed add puts @dep: keep it to let it go */
	dma_fence_get(dep);
	ret = dshim_job_add_sched_dependency(job, dep);
	if (ret)
		dshim_dep_cancel(dep);
	dma_fence_put(dep);
	return ret;
}

/**
 * dshim_job_add_dependency() - make a job wait for a fence
 * @job: a job not yet submitted
 * @fence: the fence to wait for; consumed in both the success and the
 *	error case. NULL is accepted and ignored.
 *
 * If @fence is an unsignalled fence of a job on the same scheduler, the
 * job waits only until that one is scheduled (drm_sched's pipelining:
 * jobs of one scheduler reach the hardware in order), unless that job
 * was run by dshim_job_submit() itself (see "direct submit"). Any other
 * @fence is waited for until it signals; if it signals an error, the job
 * is not run and its fence signals that error. (A pipelined dependency
 * that fails on the hardware after this job was run cannot stop it.) If
 * the job's entity is killed first, the job does not wait for a @fence
 * from outside the shim's job fences: its fence signals -ECANCELED
 * without it.
 *
 * Context: Process context; may sleep.
 * Return: 0, -EINVAL for a bad handle or a job already submitted, or
 * -ENOMEM.
 */
int dshim_job_add_dependency(struct dshim_job *job, struct dma_fence *fence)
{
	struct dma_fence *sched_fence;

	might_sleep();
	if (DSHIM_BAD_HANDLE(job) ||
	    DSHIM_MISUSE(IS_ERR(fence), "%s: fence is an error pointer\n",
			 __func__)) {
		if (!IS_ERR(fence))
			dma_fence_put(fence);
		return -EINVAL;
	}
	if (DSHIM_MISUSE(test_bit(DSHIM_JOB_SUBMITTED, &job->flags),
			 "dependency added to a submitted job\n")) {
		dma_fence_put(fence);
		return -EINVAL;
	}
	if (!fence)
		return 0;

	sched_fence = dshim_fence_get_sched_fence(fence);
	if (sched_fence) {
		/* pointer comparison only: the scheduler is not touched */
		if (to_drm_sched_fence(sched_fence)->sched ==
		    &job->entity->sched->base) {
			dma_fence_put(fence);
			fence = sched_fence;
		} else {
			dma_fence_put(sched_fence);
		}
	} else if (!dshim_fence_is_job(fence) && !dma_fence_is_signaled(fence)) {
		/* from outside the shim: a kill must not wait for it */
		return dshim_job_add_foreign(job, fence);
	}
	return dshim_job_add_sched_dependency(job, fence);
}
EXPORT_SYMBOL_GPL(dshim_job_add_dependency);

static struct dma_fence *dshim_job_call_run(struct dshim_job *job);

/* A direct job's hardware fence signalled, with @error: any context. */
static void dshim_job_direct_done(struct dshim_job *job, int error)
{
	set_bit(DSHIM_JOB_HW_DONE, &job->flags);
	/* before the fence: a job after this one waits for it for these */
	atomic_sub(job->base.credits, &job->entity->direct_credits);
	dshim_fence_signal_job(job->fence, error);
	/* the job may be freed from here on */
	queue_work(dshim_submit_wq, &job->release_work);
}

static void dshim_job_hw_signalled(struct dma_fence *f, struct dma_fence_cb *cb)
{
	dshim_job_direct_done(container_of(cb, struct dshim_job, finished_cb),
			      f->error);
}

/*
 * Under the entity's submit lock, of a direct-submit queue: whether @job
 * may run from dshim_job_submit() itself (see "direct submit").
 */
static bool dshim_job_can_run_direct(struct dshim_job *job)
{
	struct dshim_entity *entity = job->entity;
	struct drm_gpu_scheduler *base = &entity->sched->base;
	struct dma_fence *fence;
	unsigned long index;

	/* pairs with dshim_job_run(): jobs pushed before have run */
	if (atomic_read_acquire(&entity->sched_pending))
		return false;
	if (atomic_read(&base->credit_count) +
	    atomic_read(&entity->direct_credits) + job->base.credits >
	    base->credit_limit)
		return false;
	xa_for_each(&job->base.dependencies, index, fence) {
		if (!dma_fence_is_signaled(fence) || fence->error)
			return false;
	}
	return true;
}

/*
 * Run @job now, from the submitter, with the entity's submit lock held
 * (see "direct submit"): arm its fence as number @seqno and return a
 * reference to it in *@fence, and return what ``run`` returned. The job's
 * reference becomes the one its free work drops.
 */
static struct dma_fence *dshim_job_run_direct(struct dshim_job *job,
					      u64 seqno,
					      struct dma_fence **fence)
{
	struct dshim_entity *entity = job->entity;

	dshim_fence_arm_job(job->fence, entity->timeline, seqno, NULL,
			    entity->last_fence);
	entity->last_fence = dma_fence_get(&job->fence->base);
	dma_fence_put(entity->last_direct);
	entity->last_direct = dma_fence_get(&job->fence->base);
	set_bit(DSHIM_JOB_ARMED, &job->flags);
	set_bit(DSHIM_JOB_DIRECT, &job->flags);
	INIT_WORK(&job->release_work, dshim_job_direct_free_work);
	atomic_add(job->base.credits, &entity->direct_credits);
	/* now: once done, the job may be freed at any time */
	*fence = dma_fence_get(&job->fence->base);
	return dshim_job_call_run(job);
}

/*
 * After dshim_job_run_direct(), without the submit lock: the later jobs
 * need not wait for this one's fence to be signalled, which the chain of
 * job fences orders anyway. A kill may cancel the job meanwhile: it is on
 * the hardware list, and is done exactly once either way.
 */
static void dshim_job_watch_direct(struct dshim_job *job,
				   struct dma_fence *hw_fence)
{
	if (IS_ERR_OR_NULL(hw_fence)) {
		dshim_job_direct_done(job, PTR_ERR_OR_ZERO(hw_fence));
		return;
	}
	job->hw_fence = hw_fence;
	if (dma_fence_add_callback(hw_fence, &job->finished_cb,
				   dshim_job_hw_signalled))
		dshim_job_direct_done(job, hw_fence->error);
}

/**
 * dshim_job_submit() - hand a job to its scheduler
 * @job: a job from dshim_job_create(); its creator's reference is consumed
 *	in both the success and the error case
 *
 * On success the job will reach &dshim_sched_ops.run once its dependencies
 * signal, unless its entity is killed first. On a queue with
 * %DSHIM_QUEUE_DIRECT_SUBMIT, ``run`` may be called from this function
 * itself (see "direct submit"). If the entity is killed or
 * the scheduler shut down, the job is not queued, -ESHUTDOWN is returned
 * and the job still gets its ``free``.
 *
 * Submitting a job twice is a driver bug: the second call warns and fails
 * with -EINVAL, if the job's memory still exists at all.
 *
 * Context: Process context; may sleep (takes the entity's submit mutex,
 * and calls the driver's ``run`` with it held on a direct-submit queue).
 * Return: a new reference to the job's fence (put it with dma_fence_put()),
 * or ERR_PTR(-ESHUTDOWN), ERR_PTR(-EINVAL).
 */
struct dma_fence *dshim_job_submit(struct dshim_job *job)
{
	struct dma_fence *fence, *hw_fence;
	struct dshim_entity *entity;
	u64 seqno;

	might_sleep();
	if (DSHIM_BAD_HANDLE(job))
		return ERR_PTR(-EINVAL);
	if (DSHIM_MISUSE(test_and_set_bit(DSHIM_JOB_SUBMITTED, &job->flags),
			 "job submitted twice\n"))
		return ERR_PTR(-EINVAL);

	entity = job->entity;
	mutex_lock(&entity->submit_lock);
	if (dshim_entity_is_closed(entity)) {
		mutex_unlock(&entity->submit_lock);
		dshim_job_put(job);
		return ERR_PTR(-ESHUTDOWN);
	}

	/* one sequence for the jobs drm_sched runs and those run directly */
	seqno = atomic64_inc_return(&entity->timeline->seqno);
	if (test_bit(DSHIM_SCHED_DIRECT, &entity->sched->flags)) {
		if (dshim_job_can_run_direct(job)) {
			hw_fence = dshim_job_run_direct(job, seqno, &fence);
			mutex_unlock(&entity->submit_lock);
			dshim_job_watch_direct(job, hw_fence);
			return fence;
		}
		if (entity->last_direct &&
		    !dma_fence_is_signaled(entity->last_direct))
			job->after = dma_fence_get(entity->last_direct);
		atomic_inc(&entity->sched_pending);
	}

	drm_sched_job_arm(&job->base);
	/* the entity's reference on its last fence passes to the new one */
	dshim_fence_arm_job(job->fence, entity->timeline, seqno,
			    &job->base.s_fence->finished, entity->last_fence);
	entity->last_fence = dma_fence_get(&job->fence->base);
	set_bit(DSHIM_JOB_ARMED, &job->flags);
	/* cannot fail: the finished fence signals only after the push */
	dma_fence_add_callback(&job->base.s_fence->finished, &job->finished_cb,
			       dshim_job_finished);
	fence = dma_fence_get(&job->fence->base);
	drm_sched_entity_push_job(&job->base);
	mutex_unlock(&entity->submit_lock);
	return fence;
}
EXPORT_SYMBOL_GPL(dshim_job_submit);

/**
 * dshim_job_priv() - driver payload of a job
 * @job: the job
 *
 * Context: Any context.
 * Return: the @priv given to dshim_job_create(), NULL for a bad handle.
 */
void *dshim_job_priv(const struct dshim_job *job)
{
	if (DSHIM_BAD_HANDLE(job))
		return NULL;
	return job->priv;
}
EXPORT_SYMBOL_GPL(dshim_job_priv);

/**
 * dshim_job_entity() - the entity of a job
 * @job: the job
 *
 * Context: Any context.
 * Return: the entity, borrowed: its memory is valid while the caller holds
 * @job; NULL for a bad handle.
 */
struct dshim_entity *dshim_job_entity(const struct dshim_job *job)
{
	if (DSHIM_BAD_HANDLE(job))
		return NULL;
	return job->entity;
}
EXPORT_SYMBOL_GPL(dshim_job_entity);

/**
 * dshim_job_sched() - the scheduler of a job
 * @job: the job
 *
 * Context: Any context.
 * Return: the scheduler, borrowed: its memory is valid while the caller
 * holds @job; NULL for a bad handle.
 */
struct dshim_sched *dshim_job_sched(const struct dshim_job *job)
{
	if (DSHIM_BAD_HANDLE(job))
		return NULL;
	return job->entity->sched;
}
EXPORT_SYMBOL_GPL(dshim_job_sched);

/* Whether a job on the hardware list is done there. */
static bool dshim_job_is_done(struct dshim_job *job)
{
	if (test_bit(DSHIM_JOB_DIRECT, &job->flags))
		return test_bit(DSHIM_JOB_HW_DONE, &job->flags);
	return dma_fence_is_signaled(&job->base.s_fence->finished);
}

/*
 * Claim a job on the hardware for its one &dshim_sched_ops.cancel call.
 * Called with the scheduler's lock held, so that dshim_job_retire(), which
 * unlinks the job under that lock, either never sees the claim or waits
 * until dshim_job_cancel_claimed() is done with the job.
 */
bool dshim_job_claim_cancel(struct dshim_job *job)
{
	lockdep_assert_held(&job->entity->sched->lock);
	if (test_and_set_bit(DSHIM_JOB_CANCELLING, &job->flags))
		return false;
	set_bit(DSHIM_JOB_IN_CANCEL, &job->flags);
	return true;
}

/*
 * Call the driver's cancel for a claimed job, unless its hardware fence
 * signalled meanwhile. The job, its s_fence and the driver's payload are
 * valid until the claim is released. Process context, no lock held.
 */
void dshim_job_cancel_claimed(struct dshim_job *job)
{
	struct dshim_cb_frame frame;
	bool cookie;

	if (!dshim_job_is_done(job)) {
		/* the driver signals the hardware fence: no allocation */
		cookie = dma_fence_begin_signalling();
		dshim_callback_enter(&frame);
		job->entity->sched->ops->cancel(job);
		dshim_callback_exit(&frame);
		dma_fence_end_signalling(cookie);
	}
	clear_and_wake_up_bit(DSHIM_JOB_IN_CANCEL, &job->flags);
}

/* The first error of a dependency that already signalled, or 0. */
static int dshim_job_dependency_error(struct dshim_job *job)
{
	struct dma_fence *fence;
	unsigned long index;

	xa_for_each(&job->base.dependencies, index, fence) {
		if (dma_fence_is_signaled(fence) && fence->error)
			return dshim_fence_dependency_error(fence);
	}
	return 0;
}

#if IS_ENABLED(CONFIG_DRM_SCHED_SHIM_KUNIT_TEST)
/* KUnit only: see dshim_test_hook() */
void (*dshim_test_prepare_hook)(struct dshim_job *job);
void (*dshim_test_put_hook)(struct dshim_job *job);
#endif

/*
 * &drm_sched_backend_ops.prepare_job: called on the run worker once the
 * job's dependencies are resolved, until it returns NULL; a fence it
 * returns is waited for first.
 *
 * A dependency on a job of the same scheduler resolves when that job is
 * scheduled, not finished (pipelining). drm_sched also signals the
 * scheduled fence of a job that never reaches the hardware: one killed
 * with its entity, or whose run failed or returned no fence; it then
 * signals the finished fence, with the error, right after. In between,
 * on another CPU, this job would run past a dependency about to fail.
 * Such a dependency has no hardware fence (parent): wait for it to
 * finish, so that its error is seen by dshim_job_run(). DONT_PIPELINE
 * has drm_sched wait for the finished fence itself, not again for the
 * scheduled one, which is signalled already.
 */
struct dma_fence *dshim_job_prepare(struct drm_sched_job *sched_job,
				    struct drm_sched_entity *s_entity)
{
	struct dshim_job *job = to_dshim_job(sched_job);
	struct drm_sched_fence *s_fence;
	struct dma_fence *fence;
	unsigned long index;

	dshim_test_hook(dshim_test_prepare_hook, job);
	/* the direct jobs before it give their credits back first */
	if (job->after && !dma_fence_is_signaled(job->after))
		return dma_fence_get(job->after);
	xa_for_each(&sched_job->dependencies, index, fence) {
		s_fence = to_drm_sched_fence(fence);
		if (!s_fence || s_fence->sched != sched_job->sched ||
		    dma_fence_is_signaled(fence) ||
		    !dma_fence_is_signaled(&s_fence->scheduled))
			continue;
		/* drm_sched_fence_scheduled() sets it before the signal */
		smp_rmb();
		if (!READ_ONCE(s_fence->parent)) {
			set_bit(DRM_SCHED_FENCE_DONT_PIPELINE, &fence->flags);
			return dma_fence_get(fence);
		}
	}
	return NULL;
}

/*
 * Call the driver's run and put the job on the hardware list. The job's
 * fence is published: memory reclaim may wait for it, so everything here,
 * the driver's run included, is a fence signalling section (no GFP_KERNEL
 * allocation, no fence wait), which lockdep checks. drm_sched 6.12 does
 * not annotate it.
 */
static struct dma_fence *dshim_job_call_run(struct dshim_job *job)
{
	struct dshim_entity *entity = job->entity;
	struct dshim_sched *sched = entity->sched;
	struct dshim_cb_frame frame;
	struct dma_fence *hw_fence;
	bool cancel, cookie;

	cookie = dma_fence_begin_signalling();
	dshim_callback_enter(&frame);
	hw_fence = sched->ops->run(job);
	dshim_callback_exit(&frame);
	dma_fence_end_signalling(cookie);
	if (IS_ERR_OR_NULL(hw_fence))
		return hw_fence;

	/*
	 * A shutdown that scanned hw_jobs before this job got there set its
	 * flag first: then this job cancels itself. Not a direct job: this
	 * is the submitter, maybe holding a lock the driver's cancel takes,
	 * and the kill that closed the entity cancels it anyway (its work
	 * takes the submit lock, held until the job is listed here).
	 */
	spin_lock(&sched->lock);
	list_add_tail(&job->hw_link, &sched->hw_jobs);
	cancel = sched->ops->cancel && dshim_entity_is_closed(entity) &&
		 !test_bit(DSHIM_JOB_DIRECT, &job->flags) &&
		 dshim_job_claim_cancel(job);
	spin_unlock(&sched->lock);
	if (cancel)
		dshim_job_cancel_claimed(job);
	return hw_fence;
}

/* &drm_sched_backend_ops.run_job */
struct dma_fence *dshim_job_run(struct drm_sched_job *sched_job)
{
	struct dshim_job *job = to_dshim_job(sched_job);
	struct dshim_entity *entity = job->entity;
	struct dma_fence *hw_fence;
	int error;

	error = dshim_entity_is_closed(entity) ? -ECANCELED :
		dshim_job_dependency_error(job);
	hw_fence = error ? ERR_PTR(error) : dshim_job_call_run(job);

	/*
	 * Direct submit: from now on a job may run from dshim_job_submit()
	 * again, after this one's run (the release orders it before).
	 */
	if (test_bit(DSHIM_SCHED_DIRECT, &entity->sched->flags))
		atomic_dec_return_release(&entity->sched_pending);
	return hw_fence;
}

/* &drm_sched_backend_ops.timedout_job */
enum drm_gpu_sched_stat dshim_job_timedout(struct drm_sched_job *sched_job)
{
	struct dshim_job *job = to_dshim_job(sched_job);
	struct dshim_sched *sched = job->entity->sched;
	enum dshim_timeout_status status = DSHIM_TIMEOUT_CONTINUE;
	struct dshim_cb_frame frame;
	enum drm_gpu_sched_stat ret;
	bool on_hw, cookie;

	/* once the job is back on the list it may be freed, and the rest */
	dshim_sched_ref(sched);

	/*
	 * drm_sched arms the timer before it calls run_job, so it may fire
	 * while run is still running, or for a job run did not give a
	 * hardware fence. The driver hears only of jobs on its hardware.
	 */
	spin_lock(&sched->lock);
	on_hw = !list_empty(&job->hw_link);
	spin_unlock(&sched->lock);
	/*
	 * Nor of a job that is done: the timer may fire between its hardware
	 * fence signalling and its free work, which shares a per-CPU pool
	 * with the timeout work and may come second.
	 */
	if (on_hw && dma_fence_is_signaled(&sched_job->s_fence->finished))
		on_hw = false;
	if (on_hw && sched->ops->timedout) {
		/* the driver signals the hardware fence: no allocation */
		cookie = dma_fence_begin_signalling();
		dshim_callback_enter(&frame);
		status = sched->ops->timedout(job);
		dshim_callback_exit(&frame);
		dma_fence_end_signalling(cookie);
	}

	/* drm_sched took the job off its pending list for this call */
	ret = dshim_compat_timedout_keep(&sched->base, sched_job,
					 status == DSHIM_TIMEOUT_DEVICE_GONE);
	dshim_sched_unref(sched);
	return ret;
}

/* &drm_sched_backend_ops.free_job */
void dshim_job_free(struct drm_sched_job *sched_job)
{
	struct dshim_job *job = to_dshim_job(sched_job);
	unsigned long flags;

	/*
	 * drm_sched frees a job as soon as its finished fence is marked
	 * signalled, but the fence's callbacks (dshim_job_finished(), which
	 * uses the job) run after that mark, under the fence's lock, maybe
	 * on another CPU. Taking the lock once waits them out.
	 */
	spin_lock_irqsave(&sched_job->s_fence->lock, flags);
	spin_unlock_irqrestore(&sched_job->s_fence->lock, flags);

	dshim_job_retire(job);
}
