// SPDX-License-Identifier: GPL-2.0-only
/*
 * DRM scheduler shim: counted schedulers.
 */

#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "compat.h"
#include "internal.h"

/**
 * DOC: scheduler lifetime
 *
 * A &struct dshim_sched embeds a drm_gpu_scheduler. drm_sched_fini() must
 * not run while any job of the scheduler exists: the hardware fence
 * callback of a job still on the hardware writes into the scheduler, and
 * killed jobs are freed later from a work item. So every entity holds a
 * memory reference on its scheduler, every job one on its entity, and
 * drm_sched_fini() runs only when the last of them is gone, on the shim's
 * free worker, after an RCU grace period. The grace period covers the one
 * access drm_sched makes without any reference: drm_sched_job_done(),
 * called from the hardware fence's signalling path (interrupts off, hence
 * an RCU read-side section), still queues the free worker after it
 * signalled the finished fence that allowed the job to be freed.
 *
 * The driver's references are counted apart (&dshim_sched.users): dropping
 * the last one shuts the scheduler down without freeing anything.
 */

/**
 * DOC: driver modules
 *
 * A driver does not wait for its jobs to go, so a driver built as a module
 * could be unloaded while the shim still calls its ``ops``: ``run`` for a
 * job queued earlier, ``free`` for a job whose hardware fence signals
 * later (a scheduler without ``cancel`` lets jobs on the hardware run to
 * completion after shutdown, a killed process's among them). Only jobs
 * call the driver: a scheduler or entity without any calls nothing. So a
 * scheduler holds a reference on its driver's module
 * (&dshim_sched_desc.owner, or the module its ops table lies in) while it
 * has jobs: from the creation of the first until the ``free`` of the last.
 * rmmod is refused meanwhile, and allowed as soon as every scheduler is
 * idle, also one the driver keeps for as long as its device and drops in
 * its exit.
 *
 * Jobs created in a module's init that fails, or in its exit, are beyond
 * the reach of a reference: the module goes whatever its count. The
 * module notifier waits for them when the module is going
 * (dshim_sched_wait_module()), so the module's code stays until the last
 * of them was freed.
 *
 * A scheduler whose ops have ``release_priv`` calls it, the driver's code
 * again, when its memory is freed: later than its last job, and after the
 * driver dropped its last handle, maybe in its exit. The module notifier
 * also waits for those releases (a scheduler still referenced then, a
 * handle the driver leaked, is warned about every 10 s).
 *
 * Fences are not concerned: their &dma_fence_ops and timeline names
 * belong to the shim, which is built in. A callback the driver adds to a
 * fence is its own to remove before it unloads, as for any dma_fence.
 */

/* Schedulers with an owner module, for dshim_sched_wait_module() */
static LIST_HEAD(dshim_owned_scheds);
static DEFINE_SPINLOCK(dshim_owned_lock);	/* dshim_owned_scheds */

static const struct drm_sched_backend_ops dshim_backend_ops = {
	.prepare_job = dshim_job_prepare,
	.run_job = dshim_job_run,
	.timedout_job = dshim_job_timedout,
	.free_job = dshim_job_free,
};

/* Woken when a scheduler with an owner leaves dshim_owned_scheds */
static DECLARE_WAIT_QUEUE_HEAD(dshim_owned_gone_wq);

static void dshim_sched_free_work(struct work_struct *work)
{
	struct dshim_sched *sched =
		container_of(to_rcu_work(work), struct dshim_sched, free_rwork);

	WARN_ON(!list_empty(&sched->entities) || !list_empty(&sched->hw_jobs));
	/*
	 * The last job may have been freed from drm_sched's free-job work,
	 * whose tail re-queues run work if it read pause_submit before
	 * drm_sched_fini() set it. Stopping twice (drm_sched_fini() stops
	 * again) leaves no work queued behind. drm_sched_fini() then cancels
	 * the timeout work synchronously.
	 */
	drm_sched_wqueue_stop(&sched->base);
	drm_sched_fini(&sched->base);
	mutex_destroy(&sched->pause_lock);
	/* the driver's last call for this scheduler: its module waits for it */
	if (test_bit(DSHIM_SCHED_OWNS_PRIV, &sched->flags))
		sched->ops->release_priv(sched->priv);
	if (sched->owner) {
		spin_lock(&dshim_owned_lock);
		list_del(&sched->owned_link);
		spin_unlock(&dshim_owned_lock);
		wake_up_all(&dshim_owned_gone_wq);
	}
	dshim_count_dec(scheds);
	kmem_cache_free(dshim_sched_cache, sched);
}

static void dshim_sched_shutdown_work(struct work_struct *work)
{
	struct dshim_sched *sched =
		container_of(work, struct dshim_sched, shutdown_work);
	struct dshim_entity *entity;

	spin_lock(&sched->lock);
	list_for_each_entry(entity, &sched->entities, link)
		dshim_entity_kill(entity);
	spin_unlock(&sched->lock);

	dshim_sched_cancel_hw_jobs(sched, NULL);
	dshim_sched_unref(sched);
}

void dshim_sched_ref(struct dshim_sched *sched)
{
	refcount_inc(&sched->refcount);
}

void dshim_sched_unref(struct dshim_sched *sched)
{
	if (refcount_dec_and_test(&sched->refcount))
		queue_rcu_work(dshim_free_wq, &sched->free_rwork);
}

bool dshim_sched_is_shutdown(const struct dshim_sched *sched)
{
	return test_bit(DSHIM_SCHED_SHUTDOWN, &sched->flags);
}

static int dshim_sched_check_desc(const struct dshim_sched_desc *desc)
{
	if (DSHIM_MISUSE(!desc, "scheduler descriptor is NULL\n"))
		return -EINVAL;
	if (DSHIM_MISUSE(!desc->ops || !desc->ops->run || !desc->ops->free,
			 "scheduler ops or their run/free callbacks are NULL\n"))
		return -EINVAL;
	if (DSHIM_MISUSE(!desc->name, "scheduler name is NULL\n"))
		return -EINVAL;
	if (strnlen(desc->name, DSHIM_NAME_MAX) >= DSHIM_NAME_MAX)
		return -ENAMETOOLONG;
	/* not a driver bug: a queue's depth may come from userspace */
	if (!desc->credit_limit)
		return -EINVAL;
	if (desc->num_priorities > DSHIM_MAX_PRIORITIES)
		return -EINVAL;
	if (DSHIM_MISUSE(desc->flags & ~DSHIM_QUEUE_DIRECT_SUBMIT,
			 "unknown scheduler flags %#x\n", desc->flags))
		return -EINVAL;
	/* drm_sched's timeout does not see the jobs run directly */
	if (DSHIM_MISUSE((desc->flags & DSHIM_QUEUE_DIRECT_SUBMIT) &&
			 desc->timeout_ms,
			 "direct submit with a timeout\n"))
		return -EINVAL;
	return 0;
}

/*
 * The module of @desc's ops: &dshim_sched_desc.owner, or if that is NULL
 * the module the ops table lies in (a Rust driver's: its ops table is
 * instantiated in the driver's crate), NULL for built-in code. The lookup
 * needs preemption off. No reference is taken: the driver calls this, its
 * module cannot go meanwhile.
 */
static struct module *dshim_sched_owner(const struct dshim_sched_desc *desc)
{
	struct module *owner = desc->owner;

	if (!owner) {
		preempt_disable();
		owner = __module_address((unsigned long)desc->ops);
		preempt_enable();
	}
	return owner;
}

/*
 * A job of @sched was created: the first pins the driver's module (see
 * "driver modules"). Called by the driver, whose module is live.
 */
void dshim_sched_job_added(struct dshim_sched *sched)
{
	if (atomic_inc_return(&sched->num_jobs) == 1)
		__module_get(sched->owner);
}

/*
 * A job's free ran: the last one's lets the driver's module go, as no
 * driver code is called from now on. Returns true for the last.
 */
bool dshim_sched_job_gone(struct dshim_sched *sched)
{
	if (!atomic_dec_and_test(&sched->num_jobs))
		return false;
	module_put(sched->owner);
	return true;
}

/* A scheduler of @mod with jobs, with a memory reference; NULL if none. */
static struct dshim_sched *dshim_sched_find_busy(struct module *mod)
{
	struct dshim_sched *sched, *found = NULL;

	spin_lock(&dshim_owned_lock);
	list_for_each_entry(sched, &dshim_owned_scheds, owned_link) {
		if (sched->owner == mod && atomic_read(&sched->num_jobs) &&
		    refcount_inc_not_zero(&sched->refcount)) {
			found = sched;
			break;
		}
	}
	spin_unlock(&dshim_owned_lock);
	return found;
}

/*
 * The name of a scheduler of @mod whose driver data is still to be
 * released (copied to @name), or false if there is none.
 */
static bool dshim_sched_release_pending(struct module *mod, char *name)
{
	struct dshim_sched *sched;
	bool found = false;

	spin_lock(&dshim_owned_lock);
	list_for_each_entry(sched, &dshim_owned_scheds, owned_link) {
		if (sched->owner == mod &&
		    test_bit(DSHIM_SCHED_OWNS_PRIV, &sched->flags)) {
			strscpy(name, sched->name, DSHIM_NAME_MAX);
			found = true;
			break;
		}
	}
	spin_unlock(&dshim_owned_lock);
	return found;
}

/**
 * dshim_sched_wait_module() - wait until no scheduler of a module has jobs
 * @mod: a module that is going: its init failed, or its exit returned
 *
 * From the shim's module notifier: the module's code and data stay until
 * every job of its schedulers got its ``free``, and every scheduler with
 * &dshim_sched_ops.release_priv was released. It warns every 10 s while
 * one has not, e.g. a job on the hardware of a scheduler without
 * ``cancel`` whose hardware fence does not signal, or a scheduler handle
 * the module leaked.
 *
 * Context: Process context; sleeps.
 */
void dshim_sched_wait_module(struct module *mod)
{
	struct dshim_sched *sched;
	char name[DSHIM_NAME_MAX];

	while ((sched = dshim_sched_find_busy(mod))) {
		while (!wait_event_timeout(sched->idle_wq,
					   !atomic_read(&sched->num_jobs),
					   10 * HZ))
			pr_warn("drm_sched_shim: module %s is going while scheduler %s has %d job(s): waiting\n",
				module_name(mod), sched->name,
				atomic_read(&sched->num_jobs));
		dshim_sched_unref(sched);
	}
	while (!wait_event_timeout(dshim_owned_gone_wq,
				   !dshim_sched_release_pending(mod, name),
				   10 * HZ))
		pr_warn("drm_sched_shim: module %s is going while scheduler %s is still referenced: waiting to release its data\n",
			module_name(mod), name);
}

static int dshim_sched_module_notify(struct notifier_block *nb,
				     unsigned long state, void *data)
{
	/* 6.12 names the states only with module support; none go without */
#ifdef CONFIG_MODULES
	if (state == MODULE_STATE_GOING)
		dshim_sched_wait_module(data);
#endif
	return NOTIFY_DONE;
}

struct notifier_block dshim_sched_module_nb = {
	.notifier_call = dshim_sched_module_notify,
};

/* dshim_sched_create(), and dshim_queue_create()'s scheduler */
struct dshim_sched *dshim_sched_new(const struct dshim_sched_desc *desc)
{
	struct drm_sched_init_args args = {};
	struct dshim_sched *sched;
	int ret;

	might_sleep();
	ret = dshim_sched_check_desc(desc);
	if (ret)
		return ERR_PTR(ret);
	if (!dshim_free_wq)
		return ERR_PTR(-ENODEV);

	sched = dshim_fail_alloc() ? NULL :
		kmem_cache_zalloc(dshim_sched_cache, GFP_KERNEL);
	if (!sched)
		return ERR_PTR(-ENOMEM);

	sched->owner = dshim_sched_owner(desc);
	refcount_set(&sched->users, 1);
	refcount_set(&sched->refcount, 1);	/* for the users */
	sched->ops = desc->ops;
	sched->priv = desc->priv;
	spin_lock_init(&sched->lock);
	INIT_LIST_HEAD(&sched->entities);
	INIT_LIST_HEAD(&sched->hw_jobs);
	atomic_set(&sched->num_jobs, 0);
	init_waitqueue_head(&sched->idle_wq);
	mutex_init(&sched->pause_lock);
	INIT_WORK(&sched->shutdown_work, dshim_sched_shutdown_work);
	INIT_RCU_WORK(&sched->free_rwork, dshim_sched_free_work);
	strscpy(sched->name, desc->name, sizeof(sched->name));

	args.ops = &dshim_backend_ops;
	args.submit_wq = desc->submit_wq ?: dshim_submit_wq;
	args.timeout_wq = desc->timeout_wq;
	args.num_rqs = desc->num_priorities ?: 1;
	args.credit_limit = desc->credit_limit;
	args.hang_limit = 0;
	args.timeout = desc->timeout_ms ? msecs_to_jiffies(desc->timeout_ms) :
					  MAX_SCHEDULE_TIMEOUT;
	args.name = sched->name;
	args.dev = desc->dev;
	ret = dshim_fail_alloc() ? -ENOMEM : drm_sched_init(&sched->base, &args);
	if (ret)
		goto err_free_sched;

	/* from here on the data is the scheduler's (dshim_queue_create() aside) */
	if (desc->ops->release_priv)
		set_bit(DSHIM_SCHED_OWNS_PRIV, &sched->flags);
	if (sched->owner) {
		spin_lock(&dshim_owned_lock);
		list_add(&sched->owned_link, &dshim_owned_scheds);
		spin_unlock(&dshim_owned_lock);
	}
	dshim_count_inc(scheds);
	return sched;

err_free_sched:
	mutex_destroy(&sched->pause_lock);
	kmem_cache_free(dshim_sched_cache, sched);
	return ERR_PTR(ret);
}

/**
 * dshim_sched_create() - create a scheduler
 * @desc: what to create; copied, need not outlive the call (but
 *	&dshim_sched_desc.ops must outlive the scheduler)
 *
 * The caller owns the returned reference. Without a submit workqueue in
 * @desc the scheduler costs no kernel thread and no workqueue.
 *
 * While it has jobs, the scheduler pins &dshim_sched_desc.owner (or, if
 * that is NULL, the module the ops table lies in): see "driver modules".
 *
 * Context: Process context; may sleep.
 * Return: the scheduler, or ERR_PTR(-EINVAL) for a bad descriptor (NULL
 * ops, run or free callback, zero credit limit, too many priorities,
 * unknown flags or %DSHIM_QUEUE_DIRECT_SUBMIT, which is for queues),
 * ERR_PTR(-ENAMETOOLONG), ERR_PTR(-ENOMEM), ERR_PTR(-ENODEV) if the shim
 * failed to initialise.
 */
struct dshim_sched *dshim_sched_create(const struct dshim_sched_desc *desc)
{
	/* a job run directly must be the only kind of its scheduler's */
	if (DSHIM_MISUSE(desc && (desc->flags & DSHIM_QUEUE_DIRECT_SUBMIT),
			 "direct submit is for queues\n"))
		return ERR_PTR(-EINVAL);
	return dshim_sched_new(desc);
}
EXPORT_SYMBOL_GPL(dshim_sched_create);

/**
 * dshim_sched_get() - take a driver reference on a scheduler
 * @sched: the scheduler, held or borrowed
 *
 * A borrowed scheduler (from dshim_entity_sched(), dshim_job_sched(), ...)
 * may have no driver reference left: its driver dropped the last one and
 * it is shutting down, its memory kept only by entities and jobs. Then no
 * reference is taken; it is not a driver bug.
 *
 * Context: Any context.
 * Return: @sched; NULL for a bad handle or a scheduler with no driver
 * reference left.
 */
struct dshim_sched *dshim_sched_get(struct dshim_sched *sched)
{
	if (DSHIM_BAD_HANDLE(sched))
		return NULL;
	return refcount_inc_not_zero(&sched->users) ? sched : NULL;
}
EXPORT_SYMBOL_GPL(dshim_sched_get);

/**
 * dshim_sched_put() - drop a driver reference on a scheduler
 * @sched: the scheduler, or NULL
 *
 * Dropping the last driver reference shuts the scheduler down, as
 * dshim_sched_shutdown() does, even if entities still reference it. The
 * memory lives on until every entity and job is gone; the driver's
 * callbacks keep being called for jobs still on the hardware until their
 * hardware fences signal.
 *
 * Context: Any context, including shim callbacks. Never sleeps.
 */
void dshim_sched_put(struct dshim_sched *sched)
{
	if (!sched || DSHIM_BAD_HANDLE(sched))
		return;
	/* entities may still keep the memory: an extra put is caught here */
	if (DSHIM_MISUSE(!refcount_read(&sched->users),
			 "scheduler %s: reference underflow\n", sched->name))
		return;
	if (refcount_dec_and_test(&sched->users)) {
		dshim_sched_shutdown(sched);
		dshim_sched_unref(sched);
	}
}
EXPORT_SYMBOL_GPL(dshim_sched_put);

/**
 * dshim_sched_shutdown() - stop a scheduler, without waiting
 * @sched: the scheduler
 *
 * New entities and submissions fail with -ESHUTDOWN from now on. Soon
 * after, on the shim's worker, every entity is killed (jobs that have not
 * reached &dshim_sched_ops.run signal -ECANCELED) and
 * &dshim_sched_ops.cancel is called for every job on the hardware. A
 * second call does nothing. Does not consume a reference.
 *
 * Context: Any context. Never sleeps.
 */
void dshim_sched_shutdown(struct dshim_sched *sched)
{
	if (DSHIM_BAD_HANDLE(sched))
		return;
	if (test_and_set_bit(DSHIM_SCHED_SHUTDOWN, &sched->flags))
		return;
	dshim_sched_ref(sched);		/* for shutdown_work */
	queue_work(dshim_free_wq, &sched->shutdown_work);
}
EXPORT_SYMBOL_GPL(dshim_sched_shutdown);

/**
 * dshim_sched_wait_idle() - wait until every job of a scheduler was freed
 * @sched: the scheduler
 * @timeout_ms: how long to wait at most; 0 only tests
 *
 * Waits until every job created on the scheduler got its
 * &dshim_sched_ops.free callback. Does not shut the scheduler down; jobs
 * submitted meanwhile are waited for too.
 *
 * Context: Process context; sleeps. Not from a shim callback: the job
 * being called back is not freed until it returns, so there it returns
 * -EDEADLK at once.
 * Return: 0 when idle, -ETIMEDOUT, -EDEADLK from a callback, -EINVAL for a
 * bad handle.
 */
int dshim_sched_wait_idle(struct dshim_sched *sched, unsigned int timeout_ms)
{
	might_sleep();
	if (DSHIM_BAD_HANDLE(sched))
		return -EINVAL;
	return dshim_sched_wait_for_jobs(sched, &sched->num_jobs, timeout_ms);
}
EXPORT_SYMBOL_GPL(dshim_sched_wait_idle);

/*
 * Wait until @num_jobs (the scheduler's or one of its entities' job count)
 * drops to zero; dshim_job_release_payload() wakes @sched's idle_wq.
 */
int dshim_sched_wait_for_jobs(struct dshim_sched *sched, atomic_t *num_jobs,
			      unsigned int timeout_ms)
{
	/* a job being called back is not freed before the callback returns */
	if (dshim_in_callback())
		return -EDEADLK;
	if (!wait_event_timeout(sched->idle_wq, !atomic_read(num_jobs),
				msecs_to_jiffies(timeout_ms)))
		return -ETIMEDOUT;
	return 0;
}

/**
 * dshim_sched_priv() - driver data of a scheduler
 * @sched: the scheduler
 *
 * Context: Any context.
 * Return: &dshim_sched_desc.priv given at creation, NULL for a bad handle.
 */
void *dshim_sched_priv(const struct dshim_sched *sched)
{
	if (DSHIM_BAD_HANDLE(sched))
		return NULL;
	return sched->priv;
}
EXPORT_SYMBOL_GPL(dshim_sched_priv);

/* The next job of @entity (any if NULL) on the hardware to cancel. */
static struct dshim_job *
dshim_sched_claim_next_cancel(struct dshim_sched *sched,
			      struct dshim_entity *entity)
{
	struct dshim_job *job;

	lockdep_assert_held(&sched->lock);
	list_for_each_entry(job, &sched->hw_jobs, hw_link) {
		if (entity && job->entity != entity)
			continue;
		if (dshim_job_claim_cancel(job))
			return job;
	}
	return NULL;
}

/*
 * Ask the driver to cancel every job of @entity (every job if NULL) that is
 * on the hardware. The lock is not held across the callback; a claimed job
 * stays valid until its cancel returned (dshim_job_free() waits for it),
 * and claiming under the lock makes concurrent scans (shutdown and entity
 * kills) share the work without missing a job. Jobs that reach the
 * hardware after this scan cancel themselves (see dshim_job_call_run()),
 * or are cancelled by the kill that closed their entity (direct jobs).
 */
void dshim_sched_cancel_hw_jobs(struct dshim_sched *sched,
				struct dshim_entity *entity)
{
	struct dshim_job *job;

	if (!sched->ops->cancel)
		return;

	spin_lock(&sched->lock);
	while ((job = dshim_sched_claim_next_cancel(sched, entity))) {
		spin_unlock(&sched->lock);
		dshim_job_cancel_claimed(job);
		spin_lock(&sched->lock);
	}
	spin_unlock(&sched->lock);
}
