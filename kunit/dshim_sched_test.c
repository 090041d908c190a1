// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: schedulers, entities and queues of the DRM scheduler shim.
 */

#include <linux/completion.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched/stat.h>
#include <linux/string.h>

#include "../c-shim/internal.h"
#include "dshim_test.h"

/* Create and drop a scheduler; its memory goes on the free worker. */
static void dshim_sched_create_put(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "sched");
	struct dshim_sched *sched;
	struct dshim_stats s;

	sched = dshim_sched_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(sched));
	KUNIT_EXPECT_PTR_EQ(test, dshim_sched_priv(sched), (void *)ctx);
	KUNIT_EXPECT_STREQ(test, sched->base.name, "sched");
	dshim_stats_read(&s);
	KUNIT_EXPECT_EQ(test, s.scheds, 1);

	KUNIT_EXPECT_PTR_EQ(test, dshim_sched_get(sched), sched);
	dshim_sched_put(sched);
	KUNIT_EXPECT_FALSE(test, dshim_sched_is_shutdown(sched));
	dshim_sched_put(sched);
	dshim_sched_put(NULL);
}

struct bad_desc_case {
	const char *what;
	void (*mangle)(struct dshim_sched_desc *desc);
	int error;
	bool driver_bug;
};

static void no_ops(struct dshim_sched_desc *d)
{
	d->ops = NULL;
}

static void no_name(struct dshim_sched_desc *d)
{
	d->name = NULL;
}

static void no_credits(struct dshim_sched_desc *d)
{
	d->credit_limit = 0;
}

static void long_name(struct dshim_sched_desc *d)
{
	d->name = "a-name-that-is-longer-than-thirty-one-characters";
}

static void many_prios(struct dshim_sched_desc *d)
{
	d->num_priorities = DSHIM_MAX_PRIORITIES + 1;
}

/* neither run nor free */
static const struct dshim_sched_ops ops_no_run;

static void no_run(struct dshim_sched_desc *d)
{
	d->ops = &ops_no_run;
}

static const struct bad_desc_case bad_desc_cases[] = {
	{ "NULL ops", no_ops, -EINVAL, true },
	{ "NULL run/free", no_run, -EINVAL, true },
	{ "NULL name", no_name, -EINVAL, true },
	/* may come from userspace: not a driver bug, no warning (issue 15) */
	{ "zero credit limit", no_credits, -EINVAL, false },
	{ "name too long", long_name, -ENAMETOOLONG, false },
	{ "too many priorities", many_prios, -EINVAL, false },
};

static void bad_desc_to_desc(const struct bad_desc_case *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bad_desc, bad_desc_cases, bad_desc_to_desc);

/* Each bad descriptor gets its error code, and nothing is allocated. */
static void dshim_sched_bad_desc(struct kunit *test)
{
	const struct bad_desc_case *c = test->param_value;
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "bad");
	struct dshim_stats before, after;
	struct dshim_sched *sched;

	c->mangle(&desc);
	dshim_stats_read(&before);
	dshim_test_expect_warn_begin();
	sched = dshim_sched_create(&desc);
	dshim_test_expect_warn_end();
	dshim_stats_read(&after);
	KUNIT_EXPECT_EQ(test, PTR_ERR(sched), c->error);
	KUNIT_EXPECT_EQ(test, after.driver_bugs - before.driver_bugs,
			c->driver_bug ? 1 : 0);
	KUNIT_EXPECT_EQ(test, after.scheds, 0);
}

/* A NULL descriptor is refused. */
static void dshim_sched_null_desc(struct kunit *test)
{
	dshim_test_expect_warn_begin();
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_sched_create(NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_queue_create(NULL)), -EINVAL);
	dshim_test_expect_warn_end();
}

/* Bad handles to every scheduler, entity and queue call fail cleanly. */
static void dshim_sched_bad_handles(struct kunit *test)
{
	struct dshim_sched *bad_sched = ERR_PTR(-ENOMEM);
	struct dshim_entity *bad_entity = ERR_PTR(-ENOMEM);
	struct dshim_queue *bad_queue = ERR_PTR(-ENOMEM);
	struct dshim_stats before, after;

	dshim_stats_read(&before);
	dshim_test_expect_warn_begin();
	KUNIT_EXPECT_NULL(test, dshim_sched_get(bad_sched));
	dshim_sched_put(bad_sched);
	dshim_sched_shutdown(bad_sched);
	KUNIT_EXPECT_EQ(test, dshim_sched_wait_idle(NULL, 0), -EINVAL);
	KUNIT_EXPECT_NULL(test, dshim_sched_priv(NULL));
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_entity_create(NULL, 0)), -EINVAL);
	KUNIT_EXPECT_NULL(test, dshim_entity_get(bad_entity));
	dshim_entity_put(bad_entity);
	dshim_entity_kill(NULL);
	KUNIT_EXPECT_EQ(test, dshim_entity_wait_idle(NULL, 0), -EINVAL);
	KUNIT_EXPECT_NULL(test, dshim_entity_sched(NULL));
	KUNIT_EXPECT_NULL(test, dshim_queue_get(bad_queue));
	dshim_queue_put(bad_queue);
	dshim_queue_kill(NULL);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(NULL, 0), -EINVAL);
	KUNIT_EXPECT_NULL(test, dshim_queue_entity(NULL));
	KUNIT_EXPECT_NULL(test, dshim_queue_sched(NULL));
	dshim_test_expect_warn_end();
	dshim_stats_read(&after);
	KUNIT_EXPECT_EQ(test, after.driver_bugs - before.driver_bugs, 17);
}

/* Schedulers share the shim's workqueue: no thread or workqueue each. */
static void dshim_sched_shares_workqueue(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "shared");
	struct dshim_sched *a, *b;
	int threads_before, threads_after;

	threads_before = nr_threads;
	a = dshim_sched_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	b = dshim_sched_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	threads_after = nr_threads;

	KUNIT_EXPECT_PTR_EQ(test, a->base.submit_wq, dshim_submit_wq);
	KUNIT_EXPECT_PTR_EQ(test, b->base.submit_wq, dshim_submit_wq);
	KUNIT_EXPECT_FALSE(test, a->base.own_submit_wq);
	KUNIT_EXPECT_EQ(test, threads_after, threads_before);
	dshim_sched_put(a);
	dshim_sched_put(b);
}

/*
 * The shared submit workqueue is per-CPU: a run that sleeps must not hold
 * up another scheduler's jobs (its sleeping worker lets another start).
 */
static void dshim_sched_sleeping_run_holds_up_none(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "sleepy");
	struct dshim_queue *slow, *fast;
	struct dma_fence *slow_fence, *fast_fence;

	slow = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(slow));
	fast = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fast));

	slow_fence = mock_submit_slow_run(test, ctx, dshim_queue_entity(slow),
					  0, 2000);
	/* run entered (and sleeps): the job is not on the hardware yet */
	KUNIT_ASSERT_TRUE(test, mock_wait_atomic(&ctx->runs, 1));

	fast_fence = mock_submit(test, ctx, dshim_queue_entity(fast), 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fast_fence));
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(fast_fence, false,
						     msecs_to_jiffies(1000)),
			0);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(slow_fence));

	KUNIT_EXPECT_TRUE(test, mock_wait_fence(slow_fence));
	dma_fence_put(slow_fence);
	dma_fence_put(fast_fence);
	dshim_queue_put(slow);
	dshim_queue_put(fast);
}

/* A driver-provided submit workqueue is used as given. */
static void dshim_sched_driver_workqueue(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "own-wq");
	struct workqueue_struct *wq;
	struct dshim_sched *sched;
	struct dma_fence *fence;
	struct dshim_entity *entity;
	struct dshim_stats s;

	wq = alloc_ordered_workqueue("dshim-test", 0);
	KUNIT_ASSERT_NOT_NULL(test, wq);
	desc.submit_wq = wq;
	entity = mock_sched_entity(test, &desc, &sched);
	KUNIT_EXPECT_PTR_EQ(test, sched->base.submit_wq, wq);

	fence = mock_submit(test, ctx, entity, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	dma_fence_put(fence);
	KUNIT_EXPECT_EQ(test, dshim_sched_wait_idle(sched, 5000), 0);

	dshim_entity_put(entity);
	dshim_sched_put(sched);
	/* after a flush the shim is done with the driver's workqueue */
	dshim_flush();
	dshim_stats_read(&s);
	KUNIT_EXPECT_EQ(test, s.scheds, 0);
	KUNIT_EXPECT_EQ(test, s.entities, 0);
	destroy_workqueue(wq);
}

/* Entity priority must name one of the scheduler's run queues. */
static void dshim_entity_priority(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "prio");
	struct dshim_entity *hi, *lo;
	struct dshim_sched *sched;

	desc.num_priorities = 2;
	sched = dshim_sched_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(sched));
	hi = dshim_entity_create(sched, 0);
	lo = dshim_entity_create(sched, 1);
	KUNIT_EXPECT_FALSE(test, IS_ERR(hi));
	KUNIT_EXPECT_FALSE(test, IS_ERR(lo));
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_entity_create(sched, 2)),
			-EINVAL);
	KUNIT_EXPECT_PTR_EQ(test, dshim_entity_sched(hi), sched);
	KUNIT_EXPECT_PTR_EQ(test, dshim_entity_get(hi), hi);
	dshim_entity_put(hi);
	KUNIT_EXPECT_FALSE(test, dshim_entity_is_killed(hi));
	dshim_entity_put(hi);
	dshim_entity_put(lo);
	dshim_sched_put(sched);
}

/* After shutdown no entity or job can be created. */
static void dshim_sched_shutdown_refuses(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "down");
	struct dshim_entity *entity;
	struct dshim_sched *sched;
	struct dshim_job *job;

	entity = mock_sched_entity(test, &desc, &sched);

	dshim_sched_shutdown(sched);
	dshim_sched_shutdown(sched);		/* idempotent */
	KUNIT_EXPECT_TRUE(test, dshim_sched_is_shutdown(sched));
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_entity_create(sched, 0)),
			-ESHUTDOWN);
	job = mock_job_create(test, ctx, entity, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(job), -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, dshim_sched_wait_idle(sched, 1000), 0);

	dshim_entity_put(entity);
	dshim_sched_put(sched);
}

/* Dropping the scheduler's handle kills its entities, which live on. */
static void dshim_sched_put_kills_entities(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "parent");
	struct dshim_entity *entity;
	struct dshim_sched *sched;

	entity = mock_sched_entity(test, &desc, &sched);

	dshim_sched_put(sched);
	/* the shutdown work kills the entity soon */
	KUNIT_EXPECT_EQ(test, dshim_entity_wait_idle(entity, 1000), 0);
	flush_workqueue(dshim_free_wq);
	KUNIT_EXPECT_TRUE(test, dshim_entity_is_killed(entity));
	KUNIT_EXPECT_EQ(test, PTR_ERR(mock_job_create(test, ctx, entity, 0)),
			-ESHUTDOWN);
	dshim_entity_put(entity);
}

/* A queue is a scheduler and an entity behind one handle. */
static void dshim_queue_create_put(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "queue");
	struct dshim_queue *queue;
	struct dma_fence *fence;
	struct dshim_stats s;

	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	KUNIT_EXPECT_PTR_EQ(test, dshim_entity_sched(dshim_queue_entity(queue)),
			    dshim_queue_sched(queue));
	dshim_stats_read(&s);
	KUNIT_EXPECT_EQ(test, s.queues, 1);
	KUNIT_EXPECT_EQ(test, s.scheds, 1);
	KUNIT_EXPECT_EQ(test, s.entities, 1);

	fence = mock_submit(test, ctx, dshim_queue_entity(queue), 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 1000), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);

	KUNIT_EXPECT_PTR_EQ(test, dshim_queue_get(queue), queue);
	dshim_queue_put(queue);
	dshim_queue_put(queue);
	dshim_queue_put(NULL);
	dma_fence_put(fence);
}

/*
 * The last queue reference kills the queue even while the driver holds
 * other references to its entity and scheduler (taken from a callback's
 * job, say, or from the queue's own accessors): those keep the objects,
 * not the queue alive.
 */
static void dshim_queue_last_put_kills(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "last-put");
	struct dshim_entity *entity;
	struct dshim_sched *sched;
	struct dshim_queue *queue;

	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	entity = dshim_entity_get(dshim_queue_entity(queue));
	sched = dshim_sched_get(dshim_queue_sched(queue));
	KUNIT_ASSERT_NOT_NULL(test, entity);
	KUNIT_ASSERT_NOT_NULL(test, sched);

	dshim_queue_put(queue);
	KUNIT_EXPECT_TRUE(test, dshim_sched_is_shutdown(sched));
	KUNIT_EXPECT_EQ(test, PTR_ERR(mock_job_create(test, ctx, entity, 0)),
			-ESHUTDOWN);
	dshim_entity_put(entity);
	dshim_sched_put(sched);
}

/* Killing a queue refuses new jobs at once, before the worker runs. */
static void dshim_queue_kill_refuses(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "killed");
	struct dshim_queue *queue;
	struct dma_fence *fence;

	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	dshim_queue_kill(queue);
	dshim_queue_kill(queue);
	KUNIT_EXPECT_EQ(test,
			PTR_ERR(mock_job_create(test, ctx,
						dshim_queue_entity(queue), 0)),
			-ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 0), 0);
	dshim_queue_put(queue);

	/* entities of a killed scheduler also refuse submission */
	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	{
		struct dshim_job *job = mock_job_create(test, ctx,
						dshim_queue_entity(queue), 0);

		KUNIT_ASSERT_FALSE(test, IS_ERR(job));
		dshim_sched_shutdown(dshim_queue_sched(queue));
		fence = dshim_job_submit(job);
		KUNIT_EXPECT_EQ(test, PTR_ERR(fence), -ESHUTDOWN);
	}
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 1000), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 0);
	dshim_queue_put(queue);
}

#if IS_ENABLED(CONFIG_MODULE_UNLOAD)
/*
 * A module as the module loader leaves a live one: module_refcount() is
 * the count above the loader's own base of 1 (MODULE_REF_BASE, private to
 * kernel/module/main.c).
 */
static struct module dshim_fake_owner = {
	.name = "dshim_fake_owner",
};

static void dshim_fake_owner_reset(void)
{
	dshim_fake_owner.state = MODULE_STATE_LIVE;
	atomic_set(&dshim_fake_owner.refcnt, 1);
}
#endif

/*
 * Regression: a driver module could be unloaded while its scheduler still
 * had a job on the hardware, the shim calling its code afterwards. A
 * scheduler pins &dshim_sched_desc.owner while it has jobs: here a job on
 * the hardware of a scheduler without cancel, which outlives the driver's
 * last reference. An idle scheduler pins nothing, so that a driver that
 * keeps one per ring until its exit can be unloaded. Without an owner
 * the shim takes the module its ops lie in: none for these built-in ones.
 */
static void dshim_sched_pins_owner(struct kunit *test)
{
#if IS_ENABLED(CONFIG_MODULE_UNLOAD)
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "owned");
	struct dshim_queue *queue, *plain;
	struct dma_fence *fence;

	dshim_fake_owner_reset();
	desc.ops = &mock_ops_no_cancel;
	desc.owner = &dshim_fake_owner;
	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	KUNIT_EXPECT_EQ(test, module_refcount(&dshim_fake_owner), 0);

	fence = mock_submit(test, ctx, dshim_queue_entity(queue), MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	KUNIT_EXPECT_EQ(test, module_refcount(&dshim_fake_owner), 1);
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 1));
	dshim_queue_put(queue);		/* no cancel: the job stays */
	dshim_flush();
	KUNIT_EXPECT_EQ(test, module_refcount(&dshim_fake_owner), 1);

	mock_hw_advance(ctx, 1, 0);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	dma_fence_put(fence);
	dshim_flush();
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	KUNIT_EXPECT_EQ(test, module_refcount(&dshim_fake_owner), 0);

	desc.owner = NULL;
	plain = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(plain));
	KUNIT_EXPECT_NULL(test, dshim_queue_sched(plain)->owner);
	dshim_queue_put(plain);
#else
	kunit_skip(test, "needs CONFIG_MODULE_UNLOAD");
#endif
}

#if IS_ENABLED(CONFIG_MODULE_UNLOAD)
static int going_waiter_fn(void *arg)
{
	dshim_sched_wait_module(&dshim_fake_owner);
	complete(arg);
	return 0;
}
#endif

/*
 * Jobs that a module's failing init (or its exit) leaves behind cannot be
 * covered by a module reference: the module goes whatever its count. The
 * shim's module notifier waits for them, so that the module's code stays
 * until the last one's free ran; until then the waiter stays blocked.
 */
static void dshim_sched_going_module_waits(struct kunit *test)
{
#if IS_ENABLED(CONFIG_MODULE_UNLOAD)
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "going");
	struct completion *done;
	struct task_struct *task;
	struct dshim_queue *queue;
	struct dma_fence *fence;

	/* not kunit_kzalloc(): a waiter that never returns must not see it go */
	done = kzalloc_obj(*done, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, done);
	init_completion(done);
	dshim_fake_owner_reset();
	desc.ops = &mock_ops_no_cancel;
	desc.owner = &dshim_fake_owner;
	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	fence = mock_submit(test, ctx, dshim_queue_entity(queue), MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 1));
	dshim_queue_put(queue);		/* as the failing init does */

	/* its exit returned (or its init failed): the module is going */
	dshim_fake_owner.state = MODULE_STATE_GOING;
	task = kthread_run(going_waiter_fn, done, "dshim-going");
	if (IS_ERR(task)) {
		kfree(done);
		KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(task));
		mock_hw_advance(ctx, 1, 0);
		dma_fence_put(fence);
		return;
	}
	/* the job is on the hardware: the waiter cannot be done */
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(done,
							  msecs_to_jiffies(100)),
			0);
	mock_hw_advance(ctx, 1, 0);
	if (wait_for_completion_timeout(done, msecs_to_jiffies(5000)))
		kfree(done);
	else
		KUNIT_FAIL(test, "the going module's waiter never returned");
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	KUNIT_EXPECT_EQ(test, module_refcount(&dshim_fake_owner), 0);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	dma_fence_put(fence);
	dshim_fake_owner.state = MODULE_STATE_LIVE;
#else
	kunit_skip(test, "needs CONFIG_MODULE_UNLOAD");
#endif
}

/*
 * A scheduler whose ops have release_priv owns its data: released once,
 * when its memory goes, after the last job's free and the last handle;
 * never by a creation that failed, which leaves it to the driver.
 */
static void dshim_sched_release_priv(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "release");
	struct dshim_queue *queue;
	struct dma_fence *fence;

	desc.ops = &mock_ops_release;
	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	KUNIT_EXPECT_PTR_EQ(test, dshim_sched_priv(dshim_queue_sched(queue)),
			    (void *)ctx);
	fence = mock_submit(test, ctx, dshim_queue_entity(queue), MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 1));

	/* no handle left, but a job on the hardware: still the data's */
	dshim_queue_put(queue);
	dshim_flush();
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->releases), 0);
	mock_hw_advance(ctx, 1, 0);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	dma_fence_put(fence);
	dshim_flush();
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->releases), 1);

	/* a failed creation releases nothing (dshim_alloc: every point) */
	desc.name = "a-name-longer-than-the-31-bytes-allowed";
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_queue_create(&desc)), -ENAMETOOLONG);
	dshim_flush();
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->releases), 1);
}

#if IS_ENABLED(CONFIG_MODULE_UNLOAD)
static int release_waiter_fn(void *arg)
{
	dshim_sched_wait_module(&dshim_fake_owner);
	complete(arg);
	return 0;
}
#endif

/*
 * A going module waits for the release of its schedulers' data too, the
 * last driver code the shim calls: here a scheduler the module still
 * references when it goes (a leaked handle), released once it is put.
 */
static void dshim_sched_going_module_waits_release(struct kunit *test)
{
#if IS_ENABLED(CONFIG_MODULE_UNLOAD)
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "going-release");
	struct completion *done;
	struct task_struct *task;
	struct dshim_sched *sched;

	/* not kunit_kzalloc(): a waiter that never returns must not see it go */
	done = kzalloc_obj(*done, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, done);
	init_completion(done);
	dshim_fake_owner_reset();
	desc.ops = &mock_ops_release;
	desc.owner = &dshim_fake_owner;
	sched = dshim_sched_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(sched));
	/* an idle scheduler pins nothing: rmmod proceeds */
	KUNIT_EXPECT_EQ(test, module_refcount(&dshim_fake_owner), 0);

	dshim_fake_owner.state = MODULE_STATE_GOING;
	task = kthread_run(release_waiter_fn, done, "dshim-going");
	if (IS_ERR(task)) {
		kfree(done);
		KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(task));
		dshim_sched_put(sched);
		return;
	}
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(done,
							  msecs_to_jiffies(100)),
			0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->releases), 0);
	dshim_sched_put(sched);
	if (wait_for_completion_timeout(done, msecs_to_jiffies(5000)))
		kfree(done);
	else
		KUNIT_FAIL(test, "the going module's waiter never returned");
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->releases), 1);
	dshim_fake_owner.state = MODULE_STATE_LIVE;
#else
	kunit_skip(test, "needs CONFIG_MODULE_UNLOAD");
#endif
}

/*
 * An extra put on a scheduler or entity whose memory is still referenced
 * is caught, warned about and ignored.
 */
static void dshim_sched_put_underflow(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "underflow");
	struct dshim_stats before, after;
	struct dshim_entity *entity;
	struct dshim_sched *sched;
	struct dshim_job *job;

	entity = mock_sched_entity(test, &desc, &sched);
	job = mock_job_create(test, ctx, entity, 0);	/* keeps the entity */
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));

	dshim_sched_put(sched);
	dshim_entity_put(entity);
	dshim_stats_read(&before);
	dshim_test_expect_warn_begin();
	dshim_sched_put(sched);
	dshim_entity_put(entity);
	dshim_test_expect_warn_end();
	dshim_stats_read(&after);
	KUNIT_EXPECT_EQ(test, after.driver_bugs - before.driver_bugs, 2);
	KUNIT_EXPECT_EQ(test, refcount_read(&sched->users), 0);
	KUNIT_EXPECT_EQ(test, refcount_read(&entity->users), 0);
	dshim_job_put(job);
}

/* wait_idle gives up after its timeout while a job is on the hardware. */
static void dshim_sched_wait_idle_timeout(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "busy");
	struct dshim_queue *queue;
	struct dma_fence *fence;

	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	fence = mock_submit(test, ctx, dshim_queue_entity(queue), MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 10), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, dshim_entity_wait_idle(dshim_queue_entity(queue),
						     0),
			-ETIMEDOUT);
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 1));
	mock_hw_advance(ctx, 1, 0);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	KUNIT_EXPECT_EQ(test, dshim_entity_wait_idle(dshim_queue_entity(queue),
						     0),
			0);
	dma_fence_put(fence);
	dshim_queue_put(queue);
}

/*
 * Regression: a borrowed scheduler or entity whose driver references are
 * all gone (its memory kept by an entity or a job) cannot be revived: get
 * returns NULL, where refcount_inc() from zero warned and saturated; and
 * that is no driver bug.
 */
static void dshim_get_after_last_put(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "borrowed");
	struct dshim_stats before, after;
	struct dshim_entity *entity;
	struct dshim_sched *sched;
	struct dshim_job *job;

	entity = mock_sched_entity(test, &desc, &sched);
	job = mock_job_create(test, ctx, entity, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	dshim_stats_read(&before);

	dshim_sched_put(sched);
	KUNIT_EXPECT_NULL(test, dshim_sched_get(dshim_entity_sched(entity)));
	dshim_entity_put(entity);
	KUNIT_EXPECT_NULL(test, dshim_entity_get(dshim_job_entity(job)));
	KUNIT_EXPECT_NULL(test, dshim_sched_get(dshim_job_sched(job)));
	dshim_stats_read(&after);
	KUNIT_EXPECT_EQ(test, after.driver_bugs, before.driver_bugs);

	/* never submitted: the put frees it, and with it everything */
	dshim_job_put(job);
	KUNIT_EXPECT_TRUE(test, mock_wait_atomic(&ctx->frees, 1));
}

/* What the waits return inside a driver callback. */
struct wait_probe {
	struct dshim_queue *queue;	/* the test's reference */
	int flush;
	int queue_idle;
	int sched_idle;
	int entity_idle;
	bool called;
};

static void wait_probe_call(void *arg)
{
	struct wait_probe *p = arg;

	/* each would wait for this callback's own job, or its own work */
	p->flush = dshim_flush();
	p->queue_idle = dshim_queue_wait_idle(p->queue, 2000);
	p->sched_idle = dshim_sched_wait_idle(dshim_queue_sched(p->queue),
					      2000);
	p->entity_idle = dshim_entity_wait_idle(dshim_queue_entity(p->queue),
						2000);
	/* the test reads the results once the job's fence signalled */
	smp_store_release(&p->called, true);
}

static const struct mock_where_case wait_cases[] = {
	{ "in run", MOCK_IN_RUN, 0, 0 },
	{ "in timedout", MOCK_IN_TIMEDOUT, MOCK_HANG, 10 },
	{ "in cancel", MOCK_IN_CANCEL, MOCK_HANG, 0 },
	{ "in free", MOCK_IN_FREE, 0, 0 },
};

KUNIT_ARRAY_PARAM(wait, wait_cases, mock_where_case_to_desc);

/*
 * dshim_flush() and every *_wait_idle() inside a driver callback return
 * -EDEADLK at once. Before, flush waited for the work item it ran in
 * (run, free: a deadlock) and the waits for the job being called back
 * (each timed out). A safe Rust driver can make these calls through a
 * queue handle in its job data, so they must be an error, not a hang.
 */
static void dshim_sched_wait_in_callback(struct kunit *test)
{
	const struct mock_where_case *c = test->param_value;
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_where_desc(ctx, c, "wait-in-cb");
	struct wait_probe p = {};
	struct dma_fence *fence;

	p.queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(p.queue));
	mock_park_call(ctx, wait_probe_call, &p);
	fence = mock_submit(test, ctx, dshim_queue_entity(p.queue),
			    c->duration_us);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	if (c->where == MOCK_IN_CANCEL) {
		KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 1));
		dshim_queue_kill(p.queue);	/* cancel calls the probe */
	}
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_TRUE(test, mock_wait_atomic(&ctx->frees, 1));
	/* free calls the probe after the fence signalled */
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(p.queue, 5000), 0);
	/* pairs with the release in wait_probe_call(): the results are in */
	KUNIT_ASSERT_TRUE(test, smp_load_acquire(&p.called));
	KUNIT_EXPECT_EQ(test, p.flush, -EDEADLK);
	KUNIT_EXPECT_EQ(test, p.queue_idle, -EDEADLK);
	KUNIT_EXPECT_EQ(test, p.sched_idle, -EDEADLK);
	KUNIT_EXPECT_EQ(test, p.entity_idle, -EDEADLK);
	/* outside a callback, the same calls wait as ever */
	KUNIT_EXPECT_EQ(test, dshim_flush(), 0);
	dshim_queue_put(p.queue);
	dma_fence_put(fence);
}

static struct kunit_case dshim_sched_cases[] = {
	KUNIT_CASE(dshim_sched_create_put),
	KUNIT_CASE_PARAM(dshim_sched_bad_desc, bad_desc_gen_params),
	KUNIT_CASE(dshim_sched_null_desc),
	KUNIT_CASE(dshim_sched_bad_handles),
	KUNIT_CASE(dshim_sched_shares_workqueue),
	KUNIT_CASE_SLOW(dshim_sched_sleeping_run_holds_up_none),
	KUNIT_CASE(dshim_sched_driver_workqueue),
	KUNIT_CASE(dshim_entity_priority),
	KUNIT_CASE(dshim_sched_shutdown_refuses),
	KUNIT_CASE(dshim_sched_put_kills_entities),
	KUNIT_CASE(dshim_queue_create_put),
	KUNIT_CASE(dshim_queue_kill_refuses),
	KUNIT_CASE(dshim_queue_last_put_kills),
	KUNIT_CASE(dshim_sched_put_underflow),
	KUNIT_CASE(dshim_sched_pins_owner),
	KUNIT_CASE(dshim_sched_going_module_waits),
	KUNIT_CASE(dshim_sched_release_priv),
	KUNIT_CASE(dshim_sched_going_module_waits_release),
	KUNIT_CASE(dshim_sched_wait_idle_timeout),
	KUNIT_CASE_PARAM(dshim_sched_wait_in_callback, wait_gen_params),
	KUNIT_CASE(dshim_get_after_last_put),
	{}
};

static struct kunit_suite dshim_sched_suite = {
	.name = "dshim_sched",
	.init = mock_suite_init,
	.exit = mock_suite_exit,
	.test_cases = dshim_sched_cases,
};

kunit_test_suite(dshim_sched_suite);
