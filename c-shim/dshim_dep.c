// SPDX-License-Identifier: GPL-2.0-only
/*
 * DRM scheduler shim: dependency fences, so that a kill never waits for a
 * fence from outside the shim.
 */

#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/slab.h>

#include "internal.h"

/**
 * DOC: dependencies from outside
 *
 * drm_sched kills a queued job only once every dependency of it signalled
 * (drm_sched_entity_kill_jobs_cb()). A dependency from outside the shim's
 * job fences (another driver's fence, a hardware fence of the driver's
 * own) may take long or never signal; a killed process's jobs, their
 * fences, its entity and scheduler would all wait for it. So
 * dshim_job_add_dependency() hands drm_sched a &struct dshim_dep instead:
 * a fence of the shim's that signals when the dependency does, with its
 * error, or at once with -ECANCELED when the job's entity is killed. The
 * killed job's fence then signals -ECANCELED without waiting. (Its buffers
 * may still be written by the dependency's producer: memory management
 * waits for the reservation objects, which still hold that fence.)
 *
 * A dependency that has signalled, and a job fence of the shim, are given
 * to drm_sched as they are: a job of another entity is waited for, as
 * long as it takes (its own kill, timeout or cancel ends it).
 *
 * drm_sched keeps one dependency per fence context (the latest): so does
 * the shim for the fences it wraps, see dshim_dep_covers(). A dependency
 * fence that no job waits for in the end (the job's submission failed or
 * never came) is signalled -ECANCELED at once by dshim_dep_cancel(), so
 * that it pins nothing.
 */

/* the release op frees the dma_fence (dma_fence_free()): it must be first */
static_assert(offsetof(struct dshim_dep, base) == 0);

static const char *dshim_dep_get_driver_name(struct dma_fence *fence)
{
	return "drm_sched_shim";
}

static const char *dshim_dep_get_timeline_name(struct dma_fence *fence)
{
	return "dependency";
}

static void dshim_dep_release(struct dma_fence *fence)
{
	struct dshim_dep *dep = container_of(fence, struct dshim_dep, base);

	dma_fence_put(dep->fence);
	dshim_entity_unref(dep->entity);
	dshim_count_dec(fences);
	dma_fence_free(fence);
}

static const struct dma_fence_ops dshim_dep_ops = {
	.get_driver_name = dshim_dep_get_driver_name,
	.get_timeline_name = dshim_dep_get_timeline_name,
	.release = dshim_dep_release,
};

/*
 * Signal @dep with @error, unless it was signalled: the dependency's
 * callback and the entity's kill may race. Any context.
 */
static void dshim_dep_signal(struct dshim_dep *dep, int error)
{
	if (test_and_set_bit(DSHIM_DEP_DONE, &dep->flags))
		return;
	if (error)
		dma_fence_set_error(&dep->base, error);
	dma_fence_signal(&dep->base);
}

/* Take @dep off its entity's list (if it is on it). Any context. */
static void dshim_dep_unlink(struct dshim_dep *dep)
{
	struct dshim_entity *entity = dep->entity;
	unsigned long flags;

	spin_lock_irqsave(&entity->deps_lock, flags);
	list_del_init(&dep->link);
	spin_unlock_irqrestore(&entity->deps_lock, flags);
}

/* The dependency signalled: so does @dep, unless a kill was first. */
static void dshim_dep_fence_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct dshim_dep *dep = container_of(cb, struct dshim_dep, cb);

	dshim_dep_signal(dep, dshim_fence_dependency_error(fence));
	/* off the list before the list's user may let it go */
	dshim_dep_unlink(dep);
	dma_fence_put(&dep->base);	/* the callback's reference */
}

/* Signal @dep (off the list, or never on it) -ECANCELED; @dep is held by the caller. */
static void dshim_dep_cancel_held(struct dshim_dep *dep)
{
	dshim_dep_signal(dep, -ECANCELED);
	if (dma_fence_remove_callback(dep->fence, &dep->cb))
		dma_fence_put(&dep->base);
}

/**
 * dshim_dep_create() - a fence that signals with @fence, or at @entity's kill
 * @entity: the entity of the job that depends on @fence; the new fence
 *	keeps its memory
 * @fence: the dependency; consumed in both the success and the error case
 *
 * Context: Process context; may sleep.
 * Return: the new fence (the caller's reference), or ERR_PTR(-ENOMEM).
 */
struct dma_fence *dshim_dep_create(struct dshim_entity *entity,
				   struct dma_fence *fence)
{
	struct dshim_dep *dep;
	unsigned long flags;
	bool cancelled;

	dep = dshim_fail_alloc() ? NULL : kzalloc_obj(*dep, GFP_KERNEL);
	if (!dep) {
		dma_fence_put(fence);
		return ERR_PTR(-ENOMEM);
	}
	dshim_count_inc(fences);
	spin_lock_init(&dep->lock);
	/* a context each: one of several deps of a job may signal first */
	dma_fence_init(&dep->base, &dshim_dep_ops, &dep->lock,
		       dma_fence_context_alloc(1), 1);
	dep->fence = fence;
	dshim_entity_ref(entity);
	dep->entity = entity;
	INIT_LIST_HEAD(&dep->link);
	INIT_LIST_HEAD(&dep->cb.node);

	dma_fence_get(&dep->base);	/* for the callback */
	if (dma_fence_add_callback(fence, &dep->cb, dshim_dep_fence_cb)) {
		/* signalled meanwhile */
		dshim_dep_fence_cb(fence, &dep->cb);
		return &dep->base;
	}

	/* the callback may have run: a signalled @dep stays off the list */
	spin_lock_irqsave(&entity->deps_lock, flags);
	cancelled = entity->deps_cancelled;
	if (!cancelled && !test_bit(DSHIM_DEP_DONE, &dep->flags))
		list_add_tail(&dep->link, &entity->deps);
	spin_unlock_irqrestore(&entity->deps_lock, flags);
	if (cancelled)		/* the entity is killed: its jobs will not run */
		dshim_dep_cancel_held(dep);
	return &dep->base;
}

/**
 * dshim_dep_cancel() - let a dependency fence go that no job waits for
 * @fence: any fence; only a &struct dshim_dep is touched
 *
 * Signals it -ECANCELED and drops its callback on the dependency, so that
 * it pins neither the dependency nor its entity any more.
 *
 * Context: Any context; the caller holds a reference on @fence.
 */
void dshim_dep_cancel(struct dma_fence *fence)
{
	struct dshim_dep *dep;

	if (dshim_fence_ops_of(fence) != &dshim_dep_ops)
		return;
	dep = container_of(fence, struct dshim_dep, base);
	dshim_dep_unlink(dep);
	dshim_dep_cancel_held(dep);
}

/*
 * dshim_dep_covers() - whether a job waiting for @entry needs no @fence
 * @entry: a dependency of the job
 * @fence: a new dependency from outside the shim
 *
 * True if @entry wraps a fence of @fence's context that is not earlier:
 * drm_sched_job_add_dependency() keeps only the latest fence of a
 * context, and the shim's wrapping must not defeat that.
 *
 * Context: Any context.
 */
bool dshim_dep_covers(struct dma_fence *entry, struct dma_fence *fence)
{
	struct dshim_dep *dep;

	if (dshim_fence_ops_of(entry) != &dshim_dep_ops)
		return false;
	dep = container_of(entry, struct dshim_dep, base);
	return dep->fence->context == fence->context &&
	       !dma_fence_is_later(fence, dep->fence);
}

/**
 * dshim_entity_cancel_deps() - signal the dependency fences of @entity's
 * jobs with -ECANCELED, now and for any made from now on
 * @entity: a killed entity
 *
 * Context: Process context, after drm_sched_entity_fini().
 */
void dshim_entity_cancel_deps(struct dshim_entity *entity)
{
	bool cookie = dma_fence_begin_signalling();
	struct dshim_dep *dep;
	unsigned long flags;

	for (;;) {
		spin_lock_irqsave(&entity->deps_lock, flags);
		WRITE_ONCE(entity->deps_cancelled, true);
		dep = list_first_entry_or_null(&entity->deps, struct dshim_dep,
					       link);
		if (dep) {
			list_del_init(&dep->link);
			/* listed: its callback has not let it go yet */
			dma_fence_get(&dep->base);
		}
		spin_unlock_irqrestore(&entity->deps_lock, flags);
		if (!dep)
			break;
		dshim_dep_cancel_held(dep);
		dma_fence_put(&dep->base);
	}
	dma_fence_end_signalling(cookie);
}
