/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private structures of the DRM scheduler shim. Only c-shim/ and the KUnit
 * white-box tests include this; drivers see include/drm/drm_sched_shim.h.
 *
 * Two counts per long-lived object:
 *
 *  - @users counts driver handles (dshim_*_get/put). When it reaches zero
 *    the object shuts down: no new work, queued work cancelled.
 *  - @refcount counts everything that needs the memory: the users as a
 *    group (one reference), each entity of a scheduler, each job of an
 *    entity, and each deferred work item in flight. When it reaches zero
 *    the memory is freed by the shim's free worker after an RCU grace
 *    period, never inline.
 */
#ifndef _DSHIM_INTERNAL_H_
#define _DSHIM_INTERNAL_H_

#include <drm/drm_sched_shim.h>
#include <drm/gpu_scheduler.h>
#include <linux/dma-fence.h>
#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "compat.h"

struct module;
struct seq_file;

/* dshim_main.c: the shim's workqueues, accounting and fault hook */

extern struct workqueue_struct *dshim_submit_wq;
extern struct workqueue_struct *dshim_free_wq;
extern struct kmem_cache *dshim_job_fence_cache;
extern struct kmem_cache *dshim_hw_fence_cache;
extern struct kmem_cache *dshim_timeline_cache;
extern struct kmem_cache *dshim_sched_cache;
extern struct kmem_cache *dshim_entity_cache;
extern struct kmem_cache *dshim_job_cache;

/**
 * struct dshim_counters - live objects, per CPU
 * @scheds: see &struct dshim_stats, as are all the others
 * @entities: entities
 * @queues: queues
 * @jobs: jobs
 * @fences: fences
 * @timelines: timelines
 * @driver_bugs: misuse warned about
 *
 * Every job and fence counts itself in and out: one shared cache line
 * would bounce between every CPU that submits, signals or frees. Each CPU
 * counts on its own copy (an object may be counted in on one CPU and out
 * on another, so a copy alone means nothing); dshim_stats_read() sums
 * them. Kept apart from &struct dshim_stats so that the public snapshot is
 * plain integers (bindgen-friendly).
 */
struct dshim_counters {
	long scheds;
	long entities;
	long queues;
	long jobs;
	long fences;
	long timelines;
	long driver_bugs;
};

DECLARE_PER_CPU(struct dshim_counters, dshim_counters);

/* Count an object of kind @field in or out. Any context. */
#define dshim_count_inc(field)	this_cpu_inc(dshim_counters.field)
#define dshim_count_dec(field)	this_cpu_dec(dshim_counters.field)

bool dshim_fail_alloc(void);
#if IS_ENABLED(CONFIG_KUNIT)
DECLARE_STATIC_KEY_FALSE(dshim_fail_alloc_armed);
#endif
int dshim_stats_show(struct seq_file *m, void *unused);

/* dshim_callback.c */

/**
 * struct dshim_cb_frame - a task inside a driver callback
 * @node: in its bucket of the callback table, under the bucket's lock
 * @task: the task that entered the frame
 *
 * On the stack of the shim function that calls the driver, between
 * dshim_callback_enter() and dshim_callback_exit().
 */
struct dshim_cb_frame {
	struct hlist_node node;
	struct task_struct *task;
};

void dshim_callback_enter(struct dshim_cb_frame *frame);
void dshim_callback_exit(struct dshim_cb_frame *frame);
bool dshim_in_callback(void);

/**
 * DSHIM_MISUSE() - report a driver bug once per call site, count every one
 * @cond: the misuse to test for
 * @fmt: printk format of the warning
 *
 * Return: @cond, so that callers can bail out.
 */
#define DSHIM_MISUSE(cond, fmt, ...) ({					\
	bool __misuse = !!(cond);					\
	if (unlikely(__misuse)) {					\
		dshim_count_inc(driver_bugs);				\
		WARN_ONCE(1, "dshim: " fmt, ##__VA_ARGS__);		\
	}								\
	unlikely(__misuse);						\
})

/* A handle argument that is NULL or an ERR_PTR() is a driver bug. */
#define DSHIM_BAD_HANDLE(ptr) ({					\
	const void *__handle = (ptr);					\
	DSHIM_MISUSE(IS_ERR_OR_NULL(__handle), "%s: bad handle %p\n",	\
		     __func__, __handle);				\
})

/* dshim_timeline.c */

/**
 * struct dshim_timeline - what a signalled fence still needs: a name
 * @refcount: one per fence on the timeline, one per owner
 * @context: dma_fence context of every fence on this timeline
 * @seqno: last sequence number handed out by dshim_hw_fence_arm(), or
 *	to an entity's job fences by dshim_job_submit()
 * @rcu: frees the timeline after readers of a dying fence's name are gone
 * @name: timeline name, returned by &dma_fence_ops.get_timeline_name
 */
struct dshim_timeline {
	refcount_t refcount;
	u64 context;
	atomic64_t seqno;
	struct rcu_head rcu;
	char name[DSHIM_NAME_MAX];
};

/* dshim_fence.c */

/*
 * Flags in &dma_fence.flags, above the ones dma-fence owns: a fence the
 * driver signals with dshim_hw_fence_signal() (hardware fence), as opposed
 * to a job's exported fence, which only the shim signals.
 */
enum {
	DSHIM_FENCE_FLAG_HW = DMA_FENCE_FLAG_USER_BITS,
};

/**
 * struct dshim_fence - a fence that references only its timeline
 * @base: the dma_fence handed out
 * @lock: protects @base and @sched_fence
 * @timeline: name and context; the only object a fence keeps alive
 * @sched_fence: job fences only: drm_sched's finished fence of the job
 *	until it signals, so that a job on the same scheduler can depend on
 *	the scheduled fence instead (drm_sched's pipelining shortcut).
 *	Cleared, and its reference dropped, when the fence signals.
 * @prev: job fences only: the fence of the entity's previous job, until
 *	this one signals; this one never signals before it
 * @error: job fences only: the error to signal with once @prev signalled
 * @prev_cb: on @prev, when the job finished before the previous one
 * @signal_work: signals the fence after @prev did, outside @prev's lock
 */
struct dshim_fence {
	struct dma_fence base;
	spinlock_t lock;	/* the fence's own lock */
	struct dshim_timeline *timeline;
	struct dma_fence *sched_fence;
	struct dma_fence *prev;
	int error;
	struct dma_fence_cb prev_cb;
	struct work_struct signal_work;
};

/**
 * struct dshim_hw_fence - a hardware fence between its allocation and arming
 * @fence: the fence; dshim_hw_fence_arm() initialises it in place
 *
 * A type of its own, so that an unarmed fence cannot be passed where a
 * dma_fence is expected: dma_fence_put() on it would read garbage.
 */
struct dshim_hw_fence {
	struct dshim_fence fence;
};

struct dshim_fence *dshim_fence_alloc(struct kmem_cache *cache);
void dshim_fence_free_unarmed(struct dshim_fence *fence);
void dshim_fence_arm_job(struct dshim_fence *fence, struct dshim_timeline *tl,
			 u64 seqno, struct dma_fence *sched_fence,
			 struct dma_fence *prev);
void dshim_fence_signal_job(struct dshim_fence *fence, int error);
struct dma_fence *dshim_fence_get_sched_fence(struct dma_fence *fence);
bool dshim_fence_is_job(const struct dma_fence *fence);
int dshim_fence_dependency_error(struct dma_fence *fence);

/* dshim_sched.c */

enum {
	DSHIM_SCHED_SHUTDOWN,		/* no new entities or jobs */
	DSHIM_SCHED_OWNS_PRIV,		/* release_priv(priv) when freed */
	DSHIM_SCHED_DIRECT,		/* a queue's: DSHIM_QUEUE_DIRECT_SUBMIT */
};

/**
 * struct dshim_sched - a counted drm_gpu_scheduler
 * @base: the drm_sched scheduler; drm_sched_fini() runs in the free worker
 * @users: driver handles; zero means shut down
 * @refcount: memory references, see the top of this file
 * @ops: driver callbacks
 * @owner: the module of @ops, pinned while @num_jobs is not zero
 * @owned_link: in the shim's list of schedulers with an owner, under its
 *	lock (dshim_sched.c)
 * @priv: driver data
 * @flags: %DSHIM_SCHED_SHUTDOWN, %DSHIM_SCHED_OWNS_PRIV, %DSHIM_SCHED_DIRECT
 * @lock: protects @entities, @hw_jobs and each job's hw_link
 * @entities: live entities (&dshim_entity.link), for shutdown
 * @hw_jobs: jobs whose @run returned a hardware fence and that are not
 *	freed yet (&dshim_job.hw_link), for &dshim_sched_ops.cancel
 * @num_jobs: jobs created on this scheduler whose @free has not run
 * @idle_wq: woken when @num_jobs (or an entity's) drops to zero
 * @pause_lock: serialises pausing @base's run and free work around an
 *	entity's drm_sched_entity_fini() (dshim_entity.c), so that one kill's
 *	drm_sched_wqueue_start() cannot end another's pause
 * @shutdown_work: kills entities and cancels hardware jobs, in process
 *	context, on behalf of dshim_sched_shutdown() called from any context
 * @free_rwork: drm_sched_fini() and kfree(), after an RCU grace period
 * @name: copy of the descriptor's name; drm_sched keeps a pointer to it
 */
struct dshim_sched {
	struct drm_gpu_scheduler base;
	refcount_t users;
	refcount_t refcount;
	const struct dshim_sched_ops *ops;
	struct module *owner;
	struct list_head owned_link;
	void *priv;
	unsigned long flags;
	spinlock_t lock;	/* entities, hw_jobs, hw_link */
	struct list_head entities;
	struct list_head hw_jobs;
	atomic_t num_jobs;
	wait_queue_head_t idle_wq;
	struct mutex pause_lock;	/* pausing base's works */
	struct work_struct shutdown_work;
	struct rcu_work free_rwork;
	char name[DSHIM_NAME_MAX];
};

static inline struct dshim_sched *to_dshim_sched(struct drm_gpu_scheduler *s)
{
	return container_of(s, struct dshim_sched, base);
}

struct dshim_sched *dshim_sched_new(const struct dshim_sched_desc *desc);
void dshim_sched_ref(struct dshim_sched *sched);
void dshim_sched_unref(struct dshim_sched *sched);
void dshim_sched_cancel_hw_jobs(struct dshim_sched *sched,
				struct dshim_entity *entity);
bool dshim_sched_is_shutdown(const struct dshim_sched *sched);
void dshim_sched_job_added(struct dshim_sched *sched);
bool dshim_sched_job_gone(struct dshim_sched *sched);
void dshim_sched_wait_module(struct module *mod);
extern struct notifier_block dshim_sched_module_nb;
int dshim_sched_wait_for_jobs(struct dshim_sched *sched, atomic_t *num_jobs,
			      unsigned int timeout_ms);

/* dshim_entity.c */

enum {
	DSHIM_ENTITY_KILLED,		/* no new jobs; queued jobs cancelled */
};

/**
 * struct dshim_entity - a counted drm_sched_entity on one scheduler
 * @base: the drm_sched entity; drm_sched_entity_fini() runs in @kill_work
 * @users: driver handles; zero means killed
 * @refcount: memory references: users, jobs, dependency fences,
 *	@kill_work in flight
 * @sched: the scheduler (a memory reference)
 * @timeline: name and context of the fences of this entity's jobs
 * @last_fence: fence of the last job submitted, under @submit_lock
 * @submit_lock: serialises drm_sched_job_arm() + push (fence order), and
 *	a direct job's run, and orders them before drm_sched_entity_fini()
 *	(no push after fini)
 * @flags: %DSHIM_ENTITY_KILLED
 * @link: in &dshim_sched.entities, under &dshim_sched.lock
 * @num_jobs: jobs created on this entity whose @free has not run
 * @deps_lock: protects @deps and @deps_cancelled; taken in any context
 * @deps: dependency fences of this entity's jobs not signalled yet
 *	(&struct dshim_dep)
 * @deps_cancelled: the entity was killed: new dependency fences signal
 *	-ECANCELED at once
 * @kill_work: drm_sched_entity_fini() in process context
 * @free_rwork: kfree() after an RCU grace period
 * @last_direct: fence of the last job run by dshim_job_submit() itself
 *	(direct submit only), under @submit_lock
 * @sched_pending: jobs pushed to drm_sched whose dshim_job_run() has not
 *	returned (direct submit only): while any, no job runs directly
 * @direct_credits: credits of the jobs run directly whose hardware fence
 *	has not signalled
 */
struct dshim_entity {
	struct drm_sched_entity base;
	refcount_t users;
	refcount_t refcount;
	struct dshim_sched *sched;
	struct dshim_timeline *timeline;
	struct dma_fence *last_fence;
	struct mutex submit_lock;	/* arm + push vs. fini */
	unsigned long flags;
	struct list_head link;
	atomic_t num_jobs;
	spinlock_t deps_lock;		/* deps, deps_cancelled */
	struct list_head deps;
	bool deps_cancelled;
	struct work_struct kill_work;
	struct rcu_work free_rwork;
	struct dma_fence *last_direct;	/* submit_lock */
	atomic_t sched_pending;
	atomic_t direct_credits;
};

void dshim_entity_ref(struct dshim_entity *entity);
void dshim_entity_unref(struct dshim_entity *entity);
bool dshim_entity_is_killed(const struct dshim_entity *entity);
bool dshim_entity_is_closed(const struct dshim_entity *entity);

/* dshim_dep.c */

enum {
	DSHIM_DEP_DONE,			/* signalled, or about to be */
};

/**
 * struct dshim_dep - a job's dependency from outside, as drm_sched sees it
 * @base: the fence drm_sched waits for
 * @lock: the lock of @base
 * @flags: %DSHIM_DEP_DONE
 * @fence: the dependency (a reference)
 * @cb: on @fence; holds a reference on @base until it ran or is removed
 * @entity: the job's entity (a memory reference)
 * @link: in &dshim_entity.deps until signalled, under
 *	&dshim_entity.deps_lock
 */
struct dshim_dep {
	struct dma_fence base;
	spinlock_t lock;		/* base */
	unsigned long flags;
	struct dma_fence *fence;
	struct dma_fence_cb cb;
	struct dshim_entity *entity;
	struct list_head link;		/* entity->deps_lock */
};

struct dma_fence *dshim_dep_create(struct dshim_entity *entity,
				   struct dma_fence *fence);
void dshim_dep_cancel(struct dma_fence *fence);
bool dshim_dep_covers(struct dma_fence *entry, struct dma_fence *fence);
void dshim_entity_cancel_deps(struct dshim_entity *entity);

/* dshim_queue.c */

/**
 * struct dshim_queue - a scheduler and its one entity as a single handle
 * @users: driver handles
 * @sched: a user reference on the scheduler
 * @entity: a user reference on the entity
 */
struct dshim_queue {
	refcount_t users;
	struct dshim_sched *sched;
	struct dshim_entity *entity;
};

/* dshim_job.c */

enum {
	DSHIM_JOB_SUBMITTED,		/* dshim_job_submit() was called */
	DSHIM_JOB_ARMED,		/* the exported fence is initialised */
	DSHIM_JOB_CANCELLING,		/* claimed for &dshim_sched_ops.cancel */
	DSHIM_JOB_IN_CANCEL,		/* cancel running: free waits for it */
	DSHIM_JOB_FREED,		/* &dshim_sched_ops.free was called */
	DSHIM_JOB_DIRECT,		/* run by dshim_job_submit() itself */
	DSHIM_JOB_HW_DONE,		/* direct: its hardware fence signalled */
};

/**
 * struct dshim_job - a counted drm_sched_job with driver payload
 * @base: the drm_sched job
 * @refcount: the creator's reference (passed to the scheduler by submit)
 *	plus dshim_job_get() references
 * @entity: the entity (a memory reference)
 * @fence: the exported fence; armed at submit
 * @priv: driver payload
 * @flags: %DSHIM_JOB_SUBMITTED and friends
 * @hw_link: in &dshim_sched.hw_jobs while on the hardware
 * @finished_cb: on drm_sched's finished fence (on the hardware fence for
 *	a direct job); signals @fence
 * @release_work: runs @free for a job the scheduler never took, or for a
 *	direct job once done
 * @after: a job of a direct-submit queue that goes through drm_sched
 *	waits for this, the fence of the last job run directly before it
 *	(the hardware holds its credits, which drm_sched does not count)
 * @hw_fence: a direct job's hardware fence, until it is freed
 */
struct dshim_job {
	struct drm_sched_job base;
	refcount_t refcount;
	struct dshim_entity *entity;
	struct dshim_fence *fence;
	void *priv;
	unsigned long flags;
	struct list_head hw_link;
	struct dma_fence_cb finished_cb;
	struct work_struct release_work;
	struct dma_fence *after;
	struct dma_fence *hw_fence;
};

static inline struct dshim_job *to_dshim_job(struct drm_sched_job *job)
{
	return container_of(job, struct dshim_job, base);
}

struct dma_fence *dshim_job_prepare(struct drm_sched_job *sched_job,
				    struct drm_sched_entity *s_entity);
struct dma_fence *dshim_job_run(struct drm_sched_job *sched_job);
/*
 * KUnit only: hooks a test sets to act at one place of the shim, as
 * another CPU may: on the run worker with the job it is about to pop
 * (prepare), and in dshim_job_put() before it looks at the job (put).
 * Plain pointers, not KUnit static stubs: those redirect calls made on
 * the test's own thread only. Defined in KUnit builds only; elsewhere
 * dshim_test_hook() compiles to nothing.
 */
extern void (*dshim_test_prepare_hook)(struct dshim_job *job);
extern void (*dshim_test_put_hook)(struct dshim_job *job);
#define dshim_test_hook(hook, job) do {					\
	typeof(hook) __hook = IS_ENABLED(CONFIG_DRM_SCHED_SHIM_KUNIT_TEST) ?	\
			      READ_ONCE(hook) : NULL;			\
									\
	if (__hook)							\
		__hook(job);						\
} while (0)
enum drm_gpu_sched_stat dshim_job_timedout(struct drm_sched_job *sched_job);
void dshim_job_free(struct drm_sched_job *sched_job);
bool dshim_job_claim_cancel(struct dshim_job *job);
void dshim_job_cancel_claimed(struct dshim_job *job);

#endif /* _DSHIM_INTERNAL_H_ */
