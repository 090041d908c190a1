// SPDX-License-Identifier: GPL-2.0-only
/*
 * DRM scheduler shim: shared workqueues, accounting, debugfs.
 */

#include <kunit/static_stub.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "internal.h"

/**
 * DOC: ownership contract
 *
 * The shim wraps the kernel's DRM GPU scheduler (drm_sched) in handles
 * whose lifetime rules are all stated here; no rule is hidden in the order
 * a driver happens to tear things down.
 *
 * * Every shim object (scheduler, entity, queue, job, timeline, fence) is
 *   reached only through a counted reference. ``*_get()`` returns a new
 *   reference, ``*_put()`` drops one. Passing NULL to ``*_put()`` does
 *   nothing.
 * * ``*_put()`` may be called from any context: process, softirq, hardirq,
 *   with spinlocks held, and inside every shim callback (``run``,
 *   ``timedout``, ``cancel``, ``free``). It never sleeps and never waits
 *   for the scheduler.
 * * Memory of schedulers and entities is freed only by the shim's own free
 *   worker (never the scheduler's submit or timeout workqueue), after an
 *   RCU grace period, and only once the driver dropped its references,
 *   every entity is gone and every job got its ``free`` callback.
 * * Shutdown is separate from free. Dropping the last driver reference of
 *   a scheduler, entity or queue (or calling ``*_shutdown()``/``*_kill()``)
 *   stops new submissions, cancels jobs that have not reached ``run``
 *   (their fences signal ``-ECANCELED``), asks the driver to ``cancel``
 *   jobs on the hardware, and returns at once. ``*_wait_idle()`` blocks,
 *   with a timeout, for callers that want to.
 * * Every job created gets exactly one ``free`` callback, whatever happens
 *   to it: ran, cancelled, killed, submitted after shutdown, never
 *   submitted, failed dependency. Every failure reaches the job's fence as
 *   an error.
 * * A job's fence (for dma_resv, sync files, syncobjs) references only a
 *   small counted timeline (name and fence context), never the scheduler.
 *   Once signalled it pins nothing else; its driver and timeline names can
 *   be read at any time, also after everything else is gone.
 * * Hardware fences from dshim_hw_fence_arm() obey the same rule, so
 *   drivers need not implement &dma_fence_ops. They are allocated where
 *   the driver may sleep and armed in ``run``, which must not allocate.
 * * ``run``, ``timedout`` and ``cancel`` are fence signalling sections
 *   (dma_fence_begin_signalling()): lockdep reports a driver that
 *   allocates or waits for a fence in them.
 * * Queues share the shim's workqueues: no queue costs a kernel thread or
 *   a workqueue of its own.
 * * ``run`` is called from a workqueue, except on a queue created with
 *   %DSHIM_QUEUE_DIRECT_SUBMIT, where an idle queue's job runs from
 *   dshim_job_submit() itself, with the queue's submit lock held: its
 *   ``run`` must not submit (to any queue) or take a lock the driver
 *   holds around the submit. Every other row holds for those jobs too.
 * * Misuse (bad handles, double submit, reference underflow) returns an
 *   error and warns once (``WARN_ONCE``); nothing leaks and no job loses
 *   its ``free``. Values a driver may pass through from userspace (a
 *   job's credits, a credit limit of 0) only return -EINVAL: a user must
 *   not be able to warn, or with panic_on_warn panic, the machine.
 * * The shim is built into the kernel, never a module, so the
 *   &dma_fence_ops of fences that outlive every driver stay valid.
 */

/**
 * DOC: workqueues and ordering
 *
 * Schedulers created without a &dshim_sched_desc.submit_wq share
 * ``dshim_submit``, one per-CPU (bound) %WQ_MEM_RECLAIM workqueue: one
 * rescuer thread for the whole system instead of an ordered workqueue and
 * a rescuer per scheduler. Ordering is kept because each drm_sched
 * scheduler has a single run-job work item, and a workqueue never runs one
 * work item on two workers at once: ``run`` calls of one scheduler stay
 * serialised, in the order drm_sched picks jobs. Run-job and free-job work
 * of one scheduler may run concurrently, which drm_sched supports (its
 * pending list is protected by ``job_list_lock``; panthor shares a
 * workqueue the same way).
 *
 * Per-CPU, not unbound: drm_sched queues a work item for every job run and
 * every job freed, and requeues its run work after each job. An unbound
 * pool is not concurrency-managed, so each of those queue_work() calls
 * wakes an idle worker, which mostly finds nothing to do; in ``make
 * bench`` those wake-ups were most of the shim's overhead over raw
 * drm_sched (whose ordered workqueue queues work without waking). A
 * per-CPU pool wakes a worker only when none is running on that CPU, and
 * starts another when one sleeps, so a ``run`` that sleeps holds up no
 * other scheduler. The price: work runs on the CPU that queued it (the
 * submitter's for run, the interrupt's for free), and a ``run`` that
 * spins for long delays other schedulers' work on that CPU; drivers with
 * such a ``run`` pass their own &dshim_sched_desc.submit_wq.
 *
 * Deferred work of the shim itself (entity kill, scheduler shutdown,
 * freeing) runs on ``dshim_free``, an unbound %WQ_MEM_RECLAIM
 * workqueue. It waits for the schedulers' works (drm_sched_fini() cancels
 * them synchronously) but they never wait for it, so a last reference
 * dropped inside ``free`` cannot deadlock.
 */

struct workqueue_struct *dshim_submit_wq;
struct workqueue_struct *dshim_free_wq;
struct kmem_cache *dshim_job_fence_cache;
struct kmem_cache *dshim_hw_fence_cache;
struct kmem_cache *dshim_timeline_cache;
/*
 * Caches of exact sizes: a scheduler (544 to 576 bytes), an entity (416 to
 * 456) and a job (280 to 288) are just over kmalloc's 512- and 256-byte
 * classes, which would round them up to 1,024 and 512 bytes.
 */
struct kmem_cache *dshim_sched_cache;
struct kmem_cache *dshim_entity_cache;
struct kmem_cache *dshim_job_cache;
DEFINE_PER_CPU(struct dshim_counters, dshim_counters);

#if IS_ENABLED(CONFIG_KUNIT)
/* Set while the allocation-failure suite has its stub in place. */
DEFINE_STATIC_KEY_FALSE(dshim_fail_alloc_armed);
#endif

/*
 * Every allocation the shim makes, and every drm_sched call that allocates,
 * asks this first. KUnit replaces it with a stub that fails the Nth call,
 * so every allocation failure path is exercised in the test thread. The
 * static key keeps KUnit's stub lookup (a lock and a list walk whenever a
 * KUnit thread calls) off the submit path of every other caller.
 */
bool dshim_fail_alloc(void)
{
#if IS_ENABLED(CONFIG_KUNIT)
	if (!static_branch_unlikely(&dshim_fail_alloc_armed))
		return false;
#endif
	KUNIT_STATIC_STUB_REDIRECT(dshim_fail_alloc);
	return false;
}

/**
 * dshim_stats_read() - snapshot the live object counts
 * @out: filled with the counts
 *
 * The counts cover every user of the shim. Objects are counted until their
 * memory is freed, which the free worker does shortly after the last
 * reference goes away; tests poll until the counts are back to their
 * starting values. Each CPU counts on its own: a snapshot taken while
 * objects come and go may be off for an instant (an object counted out
 * on a CPU already summed, in on one not yet), so compare settled counts.
 *
 * Context: Any context.
 */
void dshim_stats_read(struct dshim_stats *out)
{
	const struct dshim_counters *c;
	int cpu;

	memset(out, 0, sizeof(*out));
	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(&dshim_counters, cpu);
		out->scheds += READ_ONCE(c->scheds);
		out->entities += READ_ONCE(c->entities);
		out->queues += READ_ONCE(c->queues);
		out->jobs += READ_ONCE(c->jobs);
		out->fences += READ_ONCE(c->fences);
		out->timelines += READ_ONCE(c->timelines);
		out->driver_bugs += READ_ONCE(c->driver_bugs);
	}
}
EXPORT_SYMBOL_GPL(dshim_stats_read);

/**
 * dshim_flush() - wait for the shim's deferred work queued so far
 *
 * Puts, shutdowns and kills only queue work. Once a driver dropped all its
 * handles and its dshim_*_wait_idle() calls returned, dshim_flush() returns
 * when that work is done: the shim no longer calls the driver's
 * &dshim_sched_ops nor uses its workqueues, so the driver's module may go.
 * Fences the driver handed out need nothing of the driver.
 *
 * Context: Process context; sleeps. Not from a shim callback: it would
 * wait for the work item it runs in, so there it returns -EDEADLK at once
 * and flushes nothing.
 * Return: 0, or -EDEADLK from a shim callback.
 */
int dshim_flush(void)
{
	int hop;

	might_sleep();
	if (dshim_in_callback())
		return -EDEADLK;
	/*
	 * Job release, entity kill and scheduler shutdown work, then the
	 * entity's and the scheduler's RCU-delayed frees: each hop is an
	 * RCU grace period and a work item.
	 */
	for (hop = 0; hop < 4; hop++) {
		rcu_barrier();
		flush_workqueue(dshim_submit_wq);
		flush_workqueue(dshim_free_wq);
	}
	return 0;
}
EXPORT_SYMBOL_GPL(dshim_flush);

int dshim_stats_show(struct seq_file *m, void *unused)
{
	struct dshim_stats s;

	dshim_stats_read(&s);
	seq_printf(m, "scheds: %llu\n", s.scheds);
	seq_printf(m, "entities: %llu\n", s.entities);
	seq_printf(m, "queues: %llu\n", s.queues);
	seq_printf(m, "jobs: %llu\n", s.jobs);
	seq_printf(m, "fences: %llu\n", s.fences);
	seq_printf(m, "timelines: %llu\n", s.timelines);
	seq_printf(m, "driver_bugs: %llu\n", s.driver_bugs);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dshim_stats);

/*
 * The shim's slab caches. Never merged with another cache: keeping
 * long-lived fences off the slab pages of other objects is their point
 * (see "fences" in dshim_fence.c). A scheduler, an entity and a job get
 * theirs for its exact size (see above).
 */
struct dshim_cache_desc {
	struct kmem_cache **cache;
	const char *name;
	unsigned int size;
};

static const struct dshim_cache_desc dshim_caches[] __initconst = {
	{ &dshim_job_fence_cache, "dshim_job_fence",
	  sizeof(struct dshim_fence) },
	{ &dshim_hw_fence_cache, "dshim_hw_fence", sizeof(struct dshim_fence) },
	{ &dshim_timeline_cache, "dshim_timeline",
	  sizeof(struct dshim_timeline) },
	{ &dshim_sched_cache, "dshim_sched", sizeof(struct dshim_sched) },
	{ &dshim_entity_cache, "dshim_entity", sizeof(struct dshim_entity) },
	{ &dshim_job_cache, "dshim_job", sizeof(struct dshim_job) },
};

/* Nothing may use a destroyed cache: the shim is then off (-ENODEV). */
static void __init dshim_caches_destroy(void)
{
	unsigned int i;

	/* kmem_cache_destroy(NULL) does nothing */
	for (i = 0; i < ARRAY_SIZE(dshim_caches); i++) {
		kmem_cache_destroy(*dshim_caches[i].cache);
		*dshim_caches[i].cache = NULL;
	}
}

static int __init dshim_caches_create(void)
{
	const struct dshim_cache_desc *c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dshim_caches); i++) {
		c = &dshim_caches[i];
		*c->cache = kmem_cache_create(c->name, c->size, 0,
					      SLAB_NO_MERGE, NULL);
		if (!*c->cache) {
			dshim_caches_destroy();
			return -ENOMEM;
		}
	}
	return 0;
}

static int __init dshim_init(void)
{
	if (dshim_caches_create())
		return -ENOMEM;

	dshim_submit_wq = alloc_workqueue("dshim_submit",
					  WQ_PERCPU | WQ_MEM_RECLAIM, 0);
	if (!dshim_submit_wq)
		goto err_destroy_caches;

	dshim_free_wq = alloc_workqueue("dshim_free",
					WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!dshim_free_wq)
		goto err_destroy_submit_wq;

	/* a going driver module waits for its jobs (dshim_sched.c) */
	register_module_notifier(&dshim_sched_module_nb);

	/* debugfs is optional: its failures are not errors */
	debugfs_create_file("stats", 0444,
			    debugfs_create_dir("drm_sched_shim", NULL), NULL,
			    &dshim_stats_fops);
	return 0;

err_destroy_submit_wq:
	destroy_workqueue(dshim_submit_wq);
err_destroy_caches:
	dshim_caches_destroy();
	return -ENOMEM;
}

/* before any driver's module_init(): drivers create schedulers there */
subsys_initcall(dshim_init);
