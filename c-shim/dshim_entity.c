// SPDX-License-Identifier: GPL-2.0-only
/*
 * DRM scheduler shim: counted entities.
 */

#include <linux/err.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "internal.h"

/**
 * DOC: entity kill
 *
 * drm_sched_entity_fini() sleeps (it waits for the scheduler to stop
 * looking at the entity) and frees killed jobs later from a work item.
 * dshim_entity_kill() therefore only marks the entity killed and queues
 * drm_sched_entity_fini() on the shim's worker, so it may be called from
 * any context and never waits. From the moment it returns:
 *
 * * submissions fail with -ESHUTDOWN;
 * * a job drm_sched picks from the entity is not passed to
 *   &dshim_sched_ops.run: its fence signals -ECANCELED;
 * * jobs still queued are cancelled by drm_sched_entity_fini(), whose
 *   -ESRCH the shim reports as -ECANCELED too: one error for "never ran",
 *   without waiting for their dependencies from outside the shim (see
 *   "dependencies from outside");
 * * jobs on the hardware get &dshim_sched_ops.cancel, if the driver has it.
 *
 * The entity's memory lives until its last job and its last dependency
 * fence are freed. The submit lock
 * orders drm_sched_entity_fini() after every push that started before the
 * kill, so no job is ever pushed to a dead entity (drm_sched would drop it
 * without a free_job call). The scheduler's run and free work are paused
 * around drm_sched_entity_fini(), so that no pick of the entity is in
 * flight or starts while fini takes it off the run queue: drm_sched would
 * put it back into the run queue's tree (see dshim_entity_kill_work()).
 * The scheduler's other entities wait that long.
 */

static void dshim_entity_free_work(struct work_struct *work)
{
	struct dshim_entity *entity =
		container_of(to_rcu_work(work), struct dshim_entity,
			     free_rwork);
	struct dshim_sched *sched = entity->sched;

	spin_lock(&sched->lock);
	list_del(&entity->link);
	spin_unlock(&sched->lock);

	dma_fence_put(entity->last_fence);
	dma_fence_put(entity->last_direct);
	dshim_timeline_put(entity->timeline);
	mutex_destroy(&entity->submit_lock);
	dshim_count_dec(entities);
	kmem_cache_free(dshim_entity_cache, entity);
	dshim_sched_unref(sched);
}

static void dshim_entity_kill_work(struct work_struct *work)
{
	struct dshim_entity *entity =
		container_of(work, struct dshim_entity, kill_work);
	struct dshim_sched *sched = entity->sched;

	/* wait out a submit that saw the entity alive: it pushes first */
	mutex_lock(&entity->submit_lock);
	mutex_unlock(&entity->submit_lock);

	/*
	 * A run worker that picked this entity and is inside
	 * drm_sched_entity_pop_job() puts it back into the run queue's FIFO
	 * tree when another job is queued behind the one it pops, whatever
	 * entity->stopped says (drm_sched_rq_update_fifo_locked()). Were that
	 * to happen after fini took the entity off the run queue, the entity
	 * would stay linked in the tree after it is freed, and a worker on
	 * another CPU could pick it and pop its queue while fini's kill pops
	 * it too. So pause the scheduler's run and free work first: the
	 * pick in flight ends, then fini takes the entity out for good, and
	 * no pick happens meanwhile. The other entities of the scheduler
	 * wait that long.
	 */
	mutex_lock(&sched->pause_lock);
	drm_sched_wqueue_stop(&sched->base);
	drm_sched_entity_fini(&entity->base);
	drm_sched_wqueue_start(&sched->base);
	mutex_unlock(&sched->pause_lock);
	/* the killed jobs wait for nothing from outside the shim */
	dshim_entity_cancel_deps(entity);
	dshim_sched_cancel_hw_jobs(sched, entity);
	dshim_entity_unref(entity);
}

void dshim_entity_ref(struct dshim_entity *entity)
{
	refcount_inc(&entity->refcount);
}

void dshim_entity_unref(struct dshim_entity *entity)
{
	if (refcount_dec_and_test(&entity->refcount))
		queue_rcu_work(dshim_free_wq, &entity->free_rwork);
}

bool dshim_entity_is_killed(const struct dshim_entity *entity)
{
	return test_bit(DSHIM_ENTITY_KILLED, &entity->flags);
}

/* Killed itself, or its scheduler shut down: takes no more jobs. */
bool dshim_entity_is_closed(const struct dshim_entity *entity)
{
	return dshim_entity_is_killed(entity) ||
	       dshim_sched_is_shutdown(entity->sched);
}

/**
 * dshim_entity_create() - create an entity on a scheduler
 * @sched: the scheduler; the entity keeps its memory alive, not a driver
 *	reference (dropping the scheduler's last driver reference still
 *	shuts it down, killing the entity)
 * @priority: run queue, 0 (highest) to &dshim_sched_desc.num_priorities - 1
 *
 * The entity's fences are on a timeline of their own, named after the
 * scheduler. The caller owns the returned reference.
 *
 * Context: Process context; may sleep.
 * Return: the entity, ERR_PTR(-EINVAL) for a bad handle or priority,
 * ERR_PTR(-ESHUTDOWN) if @sched is shut down, ERR_PTR(-EBUSY) if it is
 * the scheduler of a queue with %DSHIM_QUEUE_DIRECT_SUBMIT,
 * ERR_PTR(-ENOMEM).
 */
struct dshim_entity *dshim_entity_create(struct dshim_sched *sched,
					 u32 priority)
{
	struct drm_gpu_scheduler *sched_list[] = { NULL };
	struct dshim_entity *entity;
	int ret;

	might_sleep();
	if (DSHIM_BAD_HANDLE(sched))
		return ERR_PTR(-EINVAL);
	if (priority >= sched->base.num_rqs)
		return ERR_PTR(-EINVAL);
	if (dshim_sched_is_shutdown(sched))
		return ERR_PTR(-ESHUTDOWN);
	/* a direct-submit queue's jobs pass drm_sched: no one to share it */
	if (test_bit(DSHIM_SCHED_DIRECT, &sched->flags))
		return ERR_PTR(-EBUSY);

	entity = dshim_fail_alloc() ? NULL :
		 kmem_cache_zalloc(dshim_entity_cache, GFP_KERNEL);
	if (!entity)
		return ERR_PTR(-ENOMEM);

	entity->timeline = dshim_timeline_create(sched->name);
	if (IS_ERR(entity->timeline)) {
		ret = PTR_ERR(entity->timeline);
		goto err_free_entity;
	}

	sched_list[0] = &sched->base;
	ret = drm_sched_entity_init(&entity->base, priority, sched_list, 1,
				    NULL);
	if (ret)
		goto err_put_timeline;

	refcount_set(&entity->users, 1);
	refcount_set(&entity->refcount, 1);	/* for the users */
	entity->sched = sched;
	mutex_init(&entity->submit_lock);
	spin_lock_init(&entity->deps_lock);
	INIT_LIST_HEAD(&entity->deps);
	atomic_set(&entity->num_jobs, 0);
	INIT_WORK(&entity->kill_work, dshim_entity_kill_work);
	INIT_RCU_WORK(&entity->free_rwork, dshim_entity_free_work);

	/* the shutdown flag is tested under the lock shutdown_work takes */
	spin_lock(&sched->lock);
	if (dshim_sched_is_shutdown(sched)) {
		spin_unlock(&sched->lock);
		ret = -ESHUTDOWN;
		goto err_fini_entity;
	}
	dshim_sched_ref(sched);
	list_add_tail(&entity->link, &sched->entities);
	spin_unlock(&sched->lock);

	dshim_count_inc(entities);
	return entity;

err_fini_entity:
	mutex_destroy(&entity->submit_lock);
	/* never had a job: returns at once */
	drm_sched_entity_fini(&entity->base);
err_put_timeline:
	dshim_timeline_put(entity->timeline);
err_free_entity:
	kmem_cache_free(dshim_entity_cache, entity);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(dshim_entity_create);

/**
 * dshim_entity_get() - take a driver reference on an entity
 * @entity: the entity, held or borrowed
 *
 * A borrowed entity (from dshim_job_entity()) may have no driver
 * reference left: it is killed, its memory kept only by its jobs. Then no
 * reference is taken; it is not a driver bug.
 *
 * Context: Any context.
 * Return: @entity; NULL for a bad handle or an entity with no driver
 * reference left.
 */
struct dshim_entity *dshim_entity_get(struct dshim_entity *entity)
{
	if (DSHIM_BAD_HANDLE(entity))
		return NULL;
	return refcount_inc_not_zero(&entity->users) ? entity : NULL;
}
EXPORT_SYMBOL_GPL(dshim_entity_get);

/**
 * dshim_entity_put() - drop a driver reference on an entity
 * @entity: the entity, or NULL
 *
 * Dropping the last driver reference kills the entity, as
 * dshim_entity_kill() does. Its memory lives until its last job is freed.
 *
 * Context: Any context, including shim callbacks. Never sleeps.
 */
void dshim_entity_put(struct dshim_entity *entity)
{
	if (!entity || DSHIM_BAD_HANDLE(entity))
		return;
	/* jobs may still keep the memory: an extra put is caught here */
	if (DSHIM_MISUSE(!refcount_read(&entity->users),
			 "entity: reference underflow\n"))
		return;
	if (refcount_dec_and_test(&entity->users)) {
		dshim_entity_kill(entity);
		dshim_entity_unref(entity);
	}
}
EXPORT_SYMBOL_GPL(dshim_entity_put);

/**
 * dshim_entity_kill() - kill an entity, without waiting
 * @entity: the entity
 *
 * What a driver does when the process owning the entity dies. See "entity
 * kill" in the shim's documentation for what happens to its jobs. A second
 * call does nothing. Does not consume a reference.
 *
 * Context: Any context. Never sleeps.
 */
void dshim_entity_kill(struct dshim_entity *entity)
{
	if (DSHIM_BAD_HANDLE(entity))
		return;
	if (test_and_set_bit(DSHIM_ENTITY_KILLED, &entity->flags))
		return;
	dshim_entity_ref(entity);	/* for kill_work */
	queue_work(dshim_free_wq, &entity->kill_work);
}
EXPORT_SYMBOL_GPL(dshim_entity_kill);

/**
 * dshim_entity_wait_idle() - wait until every job of an entity was freed
 * @entity: the entity
 * @timeout_ms: how long to wait at most; 0 only tests
 *
 * Context: Process context; sleeps. Not from a shim callback (there it
 * returns -EDEADLK at once, see dshim_sched_wait_idle()).
 * Return: 0 when idle, -ETIMEDOUT, -EDEADLK from a callback, -EINVAL for a
 * bad handle.
 */
int dshim_entity_wait_idle(struct dshim_entity *entity,
			   unsigned int timeout_ms)
{
	might_sleep();
	if (DSHIM_BAD_HANDLE(entity))
		return -EINVAL;
	return dshim_sched_wait_for_jobs(entity->sched, &entity->num_jobs,
					 timeout_ms);
}
EXPORT_SYMBOL_GPL(dshim_entity_wait_idle);

/**
 * dshim_entity_sched() - the scheduler of an entity
 * @entity: the entity
 *
 * Context: Any context.
 * Return: the scheduler, borrowed: its memory is valid while the caller
 * holds @entity; dshim_sched_get() keeps it, or returns NULL once its
 * driver dropped it. NULL for a bad handle.
 */
struct dshim_sched *dshim_entity_sched(const struct dshim_entity *entity)
{
	if (DSHIM_BAD_HANDLE(entity))
		return NULL;
	return entity->sched;
}
EXPORT_SYMBOL_GPL(dshim_entity_sched);
