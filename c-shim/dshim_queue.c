// SPDX-License-Identifier: GPL-2.0-only
/*
 * DRM scheduler shim: queues, a scheduler and its one entity as one handle.
 */

#include <linux/err.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "internal.h"

/**
 * DOC: queues
 *
 * Firmware-scheduled GPUs (Apple AGX, Arm Mali CSF, Intel Xe, NVIDIA GSP)
 * run one drm_sched scheduler per userspace queue, with a single entity.
 * A &struct dshim_queue is that pair behind one handle: creating it
 * creates both, killing it shuts the scheduler down (which kills the
 * entity and cancels jobs on the hardware), and dropping its last
 * reference does the same. Queues cost no kernel thread and no workqueue:
 * they share the shim's (see "workqueues and ordering").
 */

/**
 * dshim_queue_create() - create a scheduler with one entity
 * @desc: the scheduler to create, as for dshim_sched_create(); the entity
 *	gets priority 0. &dshim_sched_desc.flags may have
 *	%DSHIM_QUEUE_DIRECT_SUBMIT; then no other entity can be created on
 *	the queue's scheduler.
 *
 * The caller owns the returned reference.
 *
 * Context: Process context; may sleep.
 * Return: the queue, or an ERR_PTR() as dshim_sched_create() returns,
 * except that %DSHIM_QUEUE_DIRECT_SUBMIT is accepted here (with a timeout
 * it is -EINVAL, a driver bug).
 */
struct dshim_queue *dshim_queue_create(const struct dshim_sched_desc *desc)
{
	struct dshim_queue *queue;
	int ret;

	might_sleep();
	queue = dshim_fail_alloc() ? NULL : kzalloc_obj(*queue, GFP_KERNEL);
	if (!queue)
		return ERR_PTR(-ENOMEM);

	queue->sched = dshim_sched_new(desc);
	if (IS_ERR(queue->sched)) {
		ret = PTR_ERR(queue->sched);
		goto err_free_queue;
	}

	queue->entity = dshim_entity_create(queue->sched, 0);
	if (IS_ERR(queue->entity)) {
		ret = PTR_ERR(queue->entity);
		goto err_put_sched;
	}

	/* from now on no other entity: the queue's runs jobs directly */
	if (desc->flags & DSHIM_QUEUE_DIRECT_SUBMIT)
		set_bit(DSHIM_SCHED_DIRECT, &queue->sched->flags);
	refcount_set(&queue->users, 1);
	dshim_count_inc(queues);
	return queue;

err_put_sched:
	/* a failed creation leaves the driver's data to the driver */
	clear_bit(DSHIM_SCHED_OWNS_PRIV, &queue->sched->flags);
	dshim_sched_put(queue->sched);
err_free_queue:
	kfree(queue);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(dshim_queue_create);

/**
 * dshim_queue_get() - take a reference on a queue
 * @queue: the queue
 *
 * Context: Any context.
 * Return: @queue, or NULL for a bad handle.
 */
struct dshim_queue *dshim_queue_get(struct dshim_queue *queue)
{
	if (DSHIM_BAD_HANDLE(queue))
		return NULL;
	refcount_inc(&queue->users);
	return queue;
}
EXPORT_SYMBOL_GPL(dshim_queue_get);

/**
 * dshim_queue_put() - drop a reference on a queue
 * @queue: the queue, or NULL
 *
 * Dropping the last reference kills the queue, as dshim_queue_kill()
 * does, and frees the handle, also when the driver holds references of
 * its own to the queue's entity or scheduler. The scheduler and entity
 * live on until their last job is freed.
 *
 * Context: Any context, including shim callbacks. Never sleeps.
 */
void dshim_queue_put(struct dshim_queue *queue)
{
	if (!queue || DSHIM_BAD_HANDLE(queue))
		return;
	if (!refcount_dec_and_test(&queue->users))
		return;
	/*
	 * Killed here, not by the puts below: the driver may hold references
	 * of its own to the entity or the scheduler (from a job, say), which
	 * keep those objects, not the queue, alive.
	 */
	dshim_queue_kill(queue);
	dshim_entity_put(queue->entity);
	dshim_sched_put(queue->sched);
	dshim_count_dec(queues);
	kfree(queue);
}
EXPORT_SYMBOL_GPL(dshim_queue_put);

/**
 * dshim_queue_kill() - kill a queue, without waiting
 * @queue: the queue
 *
 * Shuts the queue's scheduler down: see dshim_sched_shutdown(). What a
 * driver does when the process owning the queue dies, or when it bans a
 * queue that hung. Does not consume a reference; the caller holds one
 * across the call (not one that a callback the kill triggers may drop:
 * ``cancel`` may run on another CPU before this returns).
 *
 * Context: Any context. Never sleeps.
 */
void dshim_queue_kill(struct dshim_queue *queue)
{
	if (DSHIM_BAD_HANDLE(queue))
		return;
	dshim_entity_kill(queue->entity);
	dshim_sched_shutdown(queue->sched);
}
EXPORT_SYMBOL_GPL(dshim_queue_kill);

/**
 * dshim_queue_wait_idle() - wait until every job of a queue was freed
 * @queue: the queue
 * @timeout_ms: how long to wait at most; 0 only tests
 *
 * Context: Process context; sleeps. Not from a shim callback (there it
 * returns -EDEADLK at once, see dshim_sched_wait_idle()).
 * Return: 0 when idle, -ETIMEDOUT, -EDEADLK from a callback, -EINVAL for a
 * bad handle.
 */
int dshim_queue_wait_idle(struct dshim_queue *queue, unsigned int timeout_ms)
{
	if (DSHIM_BAD_HANDLE(queue))
		return -EINVAL;
	return dshim_sched_wait_idle(queue->sched, timeout_ms);
}
EXPORT_SYMBOL_GPL(dshim_queue_wait_idle);

/**
 * dshim_queue_entity() - the entity of a queue, to create jobs on
 * @queue: the queue
 *
 * Context: Any context.
 * Return: the entity, borrowed: valid while the caller holds @queue; NULL
 * for a bad handle.
 */
struct dshim_entity *dshim_queue_entity(const struct dshim_queue *queue)
{
	if (DSHIM_BAD_HANDLE(queue))
		return NULL;
	return queue->entity;
}
EXPORT_SYMBOL_GPL(dshim_queue_entity);

/**
 * dshim_queue_sched() - the scheduler of a queue
 * @queue: the queue
 *
 * Context: Any context.
 * Return: the scheduler, borrowed: valid while the caller holds @queue;
 * NULL for a bad handle.
 */
struct dshim_sched *dshim_queue_sched(const struct dshim_queue *queue)
{
	if (DSHIM_BAD_HANDLE(queue))
		return NULL;
	return queue->sched;
}
EXPORT_SYMBOL_GPL(dshim_queue_sched);
