// SPDX-License-Identifier: GPL-2.0-only
/*
 * DRM scheduler shim: fences that reference only their timeline.
 */

#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/slab.h>

#include "internal.h"

/**
 * DOC: fences
 *
 * drm_sched's own fences (&struct drm_sched_fence) read ``fence->sched``
 * for their timeline name, so a fence that outlives its scheduler (kept in
 * a dma_resv, a sync file, a syncobj) oopses when debugfs or a sync file
 * ioctl describes it. The shim never hands them out. A job's exported
 * fence is a &struct dshim_fence that the shim signals from a callback on
 * drm_sched's finished fence, with the same error (for a job run directly
 * from submit, on its hardware fence: see "direct submit"); it holds a
 * reference on nothing but its &struct dshim_timeline.
 *
 * Until it signals, a job fence also keeps drm_sched's finished fence, so
 * that a job on the same scheduler that depends on it can wait for the
 * scheduled fence only, as drm_sched does for its own fences. That
 * reference is dropped when the fence signals.
 *
 * Hardware fences are the same object. The driver allocates one with
 * dshim_hw_fence_alloc() where it may sleep, arms it in ``run`` (which
 * must not allocate: see below) and signals it with
 * dshim_hw_fence_signal().
 *
 * The shim's signalling paths are annotated with
 * dma_fence_begin_signalling() and dma_fence_end_signalling(): the
 * driver's ``run``, ``timedout`` and ``cancel`` calls, the kill's
 * cancelling of dependencies, the signalling of job, dependency and
 * hardware fences. A job's fence is published before ``run``, and
 * reclaim may wait for it, so lockdep then reports any %GFP_KERNEL
 * allocation or fence wait a driver makes in them.
 *
 * The job fences of one entity share a fence context, so they must signal
 * in submission order even when drm_sched finishes jobs out of order: a
 * job cancelled by a kill while the one before it is still on the
 * hardware, a job failed by a dependency or by ``run``. Each job fence
 * keeps the previous one until it signals itself; a job that finishes
 * first waits for it (from a work item: the previous fence's callback
 * holds a lock of the same class). dma_resv replaces fences of one context
 * by the later one, so anything else would report a buffer idle too soon.
 *
 * Job fences, hardware fences and timelines each come from a slab cache
 * of the shim's own (freed with kfree_rcu(), which takes any slab
 * object). A job fence can outlive everything else of its job by far;
 * allocated from a kmalloc cache, it would share slab pages with the
 * short-lived objects of the same size allocated around it (the job's
 * hardware fence, the driver's payload) and keep each such page from
 * being freed: measured with ``make bench``, that was more than twice
 * the memory of the fence and its timeline.
 *
 * Job fences and hardware fences get separate lockdep classes for their
 * locks: signalling a hardware fence signals drm_sched's finished fence,
 * which signals a job fence, all nested.
 */

static const char *dshim_fence_get_driver_name(struct dma_fence *fence)
{
	return "drm_sched_shim";
}

static const char *dshim_fence_get_timeline_name(struct dma_fence *fence)
{
	return container_of(fence, struct dshim_fence, base)->timeline->name;
}

static void dshim_fence_release(struct dma_fence *fence)
{
	struct dshim_fence *f = container_of(fence, struct dshim_fence, base);

	/* a job fence is released only after it signalled */
	WARN_ON_ONCE(f->sched_fence || f->prev);
	dma_fence_put(f->sched_fence);
	dma_fence_put(f->prev);
	dshim_timeline_put(f->timeline);
	dshim_count_dec(fences);
	/* dma-fence readers may still look at the fence under RCU */
	kfree_rcu(f, base.rcu);
}

static const struct dma_fence_ops dshim_fence_ops = {
	.get_driver_name = dshim_fence_get_driver_name,
	.get_timeline_name = dshim_fence_get_timeline_name,
	.release = dshim_fence_release,
};

/* A zeroed fence from @cache: job fences and hardware fences have one each. */
struct dshim_fence *dshim_fence_alloc(struct kmem_cache *cache)
{
	struct dshim_fence *f;

	f = dshim_fail_alloc() ? NULL : kmem_cache_zalloc(cache, GFP_KERNEL);
	if (f)
		dshim_count_inc(fences);
	return f;
}

/* For a job that never got to submit: the fence was never initialised. */
void dshim_fence_free_unarmed(struct dshim_fence *fence)
{
	if (!fence)
		return;
	dshim_count_dec(fences);
	kfree(fence);
}

static void dshim_fence_signal_now(struct dshim_fence *fence)
{
	struct dma_fence *sched_fence, *prev;
	unsigned long flags;

	spin_lock_irqsave(&fence->lock, flags);
	sched_fence = fence->sched_fence;
	fence->sched_fence = NULL;
	prev = fence->prev;
	fence->prev = NULL;
	if (fence->error)
		dma_fence_set_error(&fence->base, fence->error);
	dma_fence_signal_locked(&fence->base);
	spin_unlock_irqrestore(&fence->lock, flags);

	/* the caller (drm_sched, or the work) holds other references */
	dma_fence_put(sched_fence);
	dma_fence_put(prev);
}

static void dshim_fence_signal_work(struct work_struct *work)
{
	struct dshim_fence *fence =
		container_of(work, struct dshim_fence, signal_work);
	bool cookie = dma_fence_begin_signalling();

	dshim_fence_signal_now(fence);
	dma_fence_end_signalling(cookie);
	dma_fence_put(&fence->base);	/* the chain's reference */
}

static void dshim_fence_prev_signalled(struct dma_fence *prev,
				       struct dma_fence_cb *cb)
{
	struct dshim_fence *fence =
		container_of(cb, struct dshim_fence, prev_cb);

	/* signalling here would nest two job fence locks */
	queue_work(dshim_submit_wq, &fence->signal_work);
}

/*
 * Turn @fence into the exported fence number @seqno on @tl of the job
 * whose drm_sched finished fence is @sched_fence (NULL for a job run
 * directly, which has none), after @prev (the entity's previous job
 * fence, whose reference @fence takes over; may be NULL). Called with the
 * entity's submit lock held, which orders the sequence numbers.
 */
void dshim_fence_arm_job(struct dshim_fence *fence, struct dshim_timeline *tl,
			 u64 seqno, struct dma_fence *sched_fence,
			 struct dma_fence *prev)
{
	spin_lock_init(&fence->lock);
	fence->timeline = dshim_timeline_get(tl);
	fence->sched_fence = dma_fence_get(sched_fence);
	fence->prev = prev;
	INIT_WORK(&fence->signal_work, dshim_fence_signal_work);
	dma_fence_init(&fence->base, &dshim_fence_ops, &fence->lock,
		       tl->context, seqno);
}

/*
 * From the callback on drm_sched's finished fence (any context): signal
 * the job fence with @error, at once or, if the entity's previous job
 * fence has not signalled yet, right after it.
 */
void dshim_fence_signal_job(struct dshim_fence *fence, int error)
{
	struct dma_fence *prev = fence->prev;

	fence->error = error;
	if (prev && !dma_fence_is_signaled(prev)) {
		dma_fence_get(&fence->base);	/* for the chain */
		if (!dma_fence_add_callback(prev, &fence->prev_cb,
					    dshim_fence_prev_signalled))
			return;
		/* it signalled meanwhile; the job holds another reference */
		dma_fence_put(&fence->base);
	}
	dshim_fence_signal_now(fence);
}

/*
 * If @fence is an unsignalled job fence, return a new reference to
 * drm_sched's finished fence behind it, else NULL (also for a job that
 * dshim_job_submit() ran directly: it has none).
 */
struct dma_fence *dshim_fence_get_sched_fence(struct dma_fence *fence)
{
	struct dshim_fence *f;
	struct dma_fence *sched_fence;
	unsigned long flags;

	if (dshim_fence_ops_of(fence) != &dshim_fence_ops ||
	    test_bit(DSHIM_FENCE_FLAG_HW, &fence->flags))
		return NULL;

	f = container_of(fence, struct dshim_fence, base);
	spin_lock_irqsave(&f->lock, flags);
	sched_fence = dma_fence_get(f->sched_fence);
	spin_unlock_irqrestore(&f->lock, flags);
	return sched_fence;
}

/* Whether @fence is the exported fence of a shim job (not a hw fence). */
bool dshim_fence_is_job(const struct dma_fence *fence)
{
	return dshim_fence_ops_of(fence) == &dshim_fence_ops &&
	       !test_bit(DSHIM_FENCE_FLAG_HW, &fence->flags);
}

/*
 * The error of a signalled dependency as the contract names it: drm_sched
 * fails the jobs of a killed entity with -ESRCH, which a shim job fence
 * exports as -ECANCELED, "never ran"; a scheduler fence (the one behind a
 * job fence of the same scheduler, or another driver's) says the same.
 * (A driver whose own run fails with -ESRCH reads as killed here too.)
 */
int dshim_fence_dependency_error(struct dma_fence *fence)
{
	if (fence->error == -ESRCH && to_drm_sched_fence(fence))
		return -ECANCELED;
	return fence->error;
}

/**
 * dshim_fence_is_shim() - whether a fence was made by the shim
 * @fence: any fence
 *
 * Context: Any context.
 * Return: true for job fences and hardware fences of the shim.
 */
bool dshim_fence_is_shim(const struct dma_fence *fence)
{
	return !IS_ERR_OR_NULL(fence) && dshim_fence_ops_of(fence) == &dshim_fence_ops;
}
EXPORT_SYMBOL_GPL(dshim_fence_is_shim);

/**
 * dshim_hw_fence_alloc() - allocate a hardware fence, to arm later
 *
 * A hardware fence is allocated where the driver may sleep (when it
 * creates the job, say) and armed in &dshim_sched_ops.run, which must not
 * allocate: ``run`` is a fence signalling path (the job's fence is
 * published, and memory reclaim may be waiting for it), and the shim
 * annotates it with dma_fence_begin_signalling(), so lockdep reports a
 * %GFP_KERNEL allocation there. Arming hands out the timeline's next
 * sequence number, so fences are numbered in the order the hardware gets
 * them. An unarmed fence is released with dshim_hw_fence_free(), e.g. from
 * &dshim_sched_ops.free for a job that never ran.
 *
 * Context: Process context; may sleep (GFP_KERNEL allocation).
 * Return: the unarmed fence, owned by the caller; ERR_PTR(-ENOMEM),
 * ERR_PTR(-ENODEV) if the shim failed to initialise.
 */
struct dshim_hw_fence *dshim_hw_fence_alloc(void)
{
	struct dshim_fence *f;

	might_sleep();
	if (!dshim_hw_fence_cache)
		return ERR_PTR(-ENODEV);	/* the shim failed to initialise */
	f = dshim_fence_alloc(dshim_hw_fence_cache);
	if (!f)
		return ERR_PTR(-ENOMEM);
	return container_of(f, struct dshim_hw_fence, fence);
}
EXPORT_SYMBOL_GPL(dshim_hw_fence_alloc);

/**
 * dshim_hw_fence_arm() - turn an allocated hardware fence into a live one
 * @hwf: a fence from dshim_hw_fence_alloc(); consumed, in the error case
 *	too (it is freed)
 * @tl: the hardware timeline the fence belongs to; the fence takes a
 *	reference on it and on nothing else
 *
 * The fence gets the next sequence number of @tl. Return it from
 * &dshim_sched_ops.run and signal it with dshim_hw_fence_signal() when the
 * hardware is done. Fences of one timeline must be signalled in the order
 * they were armed, as for any dma_fence context. Allocates nothing.
 *
 * Context: Any context.
 * Return: the fence, whose one reference the caller owns;
 * ERR_PTR(-EINVAL) for a bad @hwf or @tl, or a fence armed already (a
 * driver bug: warned once; an armed @hwf is not consumed).
 */
struct dma_fence *dshim_hw_fence_arm(struct dshim_hw_fence *hwf,
				     struct dshim_timeline *tl)
{
	struct dshim_fence *f;

	if (DSHIM_BAD_HANDLE(hwf) ||
	    DSHIM_MISUSE(hwf->fence.timeline, "%s: fence armed twice\n",
			 __func__))
		return ERR_PTR(-EINVAL);
	if (DSHIM_BAD_HANDLE(tl)) {
		dshim_hw_fence_free(hwf);
		return ERR_PTR(-EINVAL);
	}

	f = &hwf->fence;
	spin_lock_init(&f->lock);
	f->timeline = dshim_timeline_get(tl);
	dma_fence_init(&f->base, &dshim_fence_ops, &f->lock, tl->context,
		       atomic64_inc_return(&tl->seqno));
	set_bit(DSHIM_FENCE_FLAG_HW, &f->base.flags);
	return &f->base;
}
EXPORT_SYMBOL_GPL(dshim_hw_fence_arm);

/**
 * dshim_hw_fence_free() - release a hardware fence that was never armed
 * @hwf: a fence from dshim_hw_fence_alloc(), or NULL
 *
 * An armed fence is a dma_fence: it goes with its last dma_fence_put();
 * freeing it here is a driver bug, warned once and ignored.
 *
 * Context: Any context.
 */
void dshim_hw_fence_free(struct dshim_hw_fence *hwf)
{
	if (!hwf || DSHIM_BAD_HANDLE(hwf))
		return;
	/* alloc zeroes the fence, arm sets its timeline */
	if (DSHIM_MISUSE(hwf->fence.timeline,
			 "%s: an armed fence goes with dma_fence_put()\n",
			 __func__))
		return;
	dshim_fence_free_unarmed(&hwf->fence);
}
EXPORT_SYMBOL_GPL(dshim_hw_fence_free);

/**
 * dshim_hw_fence_create() - allocate and arm a hardware fence at once
 * @tl: the hardware timeline
 *
 * dshim_hw_fence_alloc() and dshim_hw_fence_arm() in one call, for a fence
 * made where the caller may allocate: never in &dshim_sched_ops.run or
 * any other fence signalling path (see dshim_hw_fence_alloc()).
 *
 * Context: Process context; may sleep (GFP_KERNEL allocation).
 * Return: a new fence the caller owns a reference to, ERR_PTR(-EINVAL) for
 * a bad @tl, ERR_PTR(-ENOMEM).
 */
struct dma_fence *dshim_hw_fence_create(struct dshim_timeline *tl)
{
	struct dshim_hw_fence *hwf;

	if (DSHIM_BAD_HANDLE(tl))
		return ERR_PTR(-EINVAL);
	hwf = dshim_hw_fence_alloc();
	if (IS_ERR(hwf))
		return ERR_CAST(hwf);
	return dshim_hw_fence_arm(hwf, tl);
}
EXPORT_SYMBOL_GPL(dshim_hw_fence_create);

/**
 * dshim_hw_fence_signal() - signal a hardware fence
 * @fence: a fence from dshim_hw_fence_arm() or dshim_hw_fence_create()
 * @error: 0 for success, or a negative error code the fence carries
 *
 * Does not consume a reference: the caller must hold one.
 *
 * Context: Any context.
 * Return: 0, -EINVAL if @fence is not a shim hardware fence or @error is
 * not 0 or a negative error code, -EALREADY if it was already signalled.
 */
int dshim_hw_fence_signal(struct dma_fence *fence, int error)
{
	unsigned long flags;
	spinlock_t *lock;	/* the fence's own: &dshim_fence.lock */
	bool cookie;
	int ret = 0;

	if (DSHIM_MISUSE(!dshim_fence_is_shim(fence) ||
			 !test_bit(DSHIM_FENCE_FLAG_HW, &fence->flags),
			 "%s: not a shim hardware fence\n", __func__))
		return -EINVAL;
	if (DSHIM_MISUSE(error > 0 || error < -MAX_ERRNO,
			 "%s: bad error %d\n", __func__, error))
		return -EINVAL;

	lock = &container_of(fence, struct dshim_fence, base)->lock;
	cookie = dma_fence_begin_signalling();
	spin_lock_irqsave(lock, flags);
	if (test_bit(DMA_FENCE_FLAG_SIGNALED_BIT, &fence->flags)) {
		ret = -EALREADY;
	} else {
		if (error)
			dma_fence_set_error(fence, error);
		dma_fence_signal_locked(fence);
	}
	spin_unlock_irqrestore(lock, flags);
	dma_fence_end_signalling(cookie);
	return ret;
}
EXPORT_SYMBOL_GPL(dshim_hw_fence_signal);
