// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: jobs of the DRM scheduler shim: submission, fences, errors,
 * dependencies, timeouts, cancellation.
 */

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/ktime.h>
#include <linux/rbtree.h>
#include <linux/xarray.h>

#include "../c-shim/internal.h"
#include "dshim_test.h"

#define NJOBS 8

static struct dshim_queue *make_queue(struct kunit *test, const char *name,
				      const struct dshim_sched_ops *ops,
				      u32 credit_limit, u32 timeout_ms)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, name);
	struct dshim_queue *queue;

	desc.ops = ops;
	desc.credit_limit = credit_limit;
	desc.timeout_ms = timeout_ms;
	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	return queue;
}

/* Jobs run in order; their fences signal 0 in seqno order on one context. */
static void dshim_job_submit_complete(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "q", &mock_ops, 4, 0);
	struct dma_fence *fences[NJOBS];
	int i;

	for (i = 0; i < NJOBS; i++) {
		fences[i] = mock_submit(test, ctx, dshim_queue_entity(queue),
					i % 2 ? 100 : 0);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fences[i]));
		KUNIT_EXPECT_TRUE(test, dshim_fence_is_shim(fences[i]));
	}
	for (i = 0; i < NJOBS; i++) {
		KUNIT_EXPECT_TRUE(test, mock_wait_fence(fences[i]));
		KUNIT_EXPECT_EQ(test, fences[i]->error, 0);
		KUNIT_EXPECT_STREQ(test,
				   dshim_fence_ops_of(fences[i])->get_timeline_name(fences[i]),
				   "q");
		if (i) {
			KUNIT_EXPECT_EQ(test, fences[i]->context,
					fences[0]->context);
			KUNIT_EXPECT_TRUE(test, dma_fence_is_later(fences[i],
								   fences[i - 1]));
		}
	}
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), NJOBS);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), NJOBS);
	for (i = 0; i < NJOBS; i++)
		dma_fence_put(fences[i]);
	dshim_queue_put(queue);
}

struct fence_error_case {
	const char *what;
	u32 duration_us;
	int run_error;
	int hw_error;
	int expected;
};

static const struct fence_error_case fence_error_cases[] = {
	{ "run returns ERR_PTR", 0, -EIO, 0, -EIO },
	{ "run returns NULL", MOCK_NO_FENCE, 0, 0, 0 },
	{ "hw fence signals error at once", 0, 0, -ENODEV, -ENODEV },
	{ "hw fence signals error later", 50, 0, -EFAULT, -EFAULT },
};

static void fence_error_to_desc(const struct fence_error_case *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(fence_error, fence_error_cases, fence_error_to_desc);

/* The job's fence signals with the error of run or of the hw fence. */
static void dshim_job_fence_error(struct kunit *test)
{
	const struct fence_error_case *c = test->param_value;
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "err", &mock_ops, 4, 0);
	struct mock_job *mj = mock_job_alloc(ctx, c->duration_us);
	struct dshim_job *job;
	struct dma_fence *fence;

	KUNIT_ASSERT_NOT_NULL(test, mj);
	mj->run_error = c->run_error;
	mj->hw_error = c->hw_error;
	job = mock_job_wrap(ctx, dshim_queue_entity(queue), mj);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	fence = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));

	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, fence->error, c->expected);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	dma_fence_put(fence);
	dshim_queue_put(queue);
}

/* A job dropped without submission still gets its free, and never runs. */
static void dshim_job_never_submitted(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "unsub", &mock_ops, 4, 0);
	struct dshim_job *job;

	job = mock_job_create(test, ctx, dshim_queue_entity(queue), 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(job, NULL), 0);
	dshim_job_put(job);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 0);
	dshim_queue_put(queue);
}

/* dshim_job_get() keeps the job's memory after free; free is not delayed. */
static void dshim_job_get_outlives_free(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "get", &mock_ops, 4, 0);
	struct dshim_job *job;
	struct dma_fence *fence;

	job = mock_job_create(test, ctx, dshim_queue_entity(queue), 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	KUNIT_EXPECT_PTR_EQ(test, dshim_job_get(job), job);
	fence = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	KUNIT_EXPECT_TRUE(test, test_bit(DSHIM_JOB_FREED, &job->flags));
	KUNIT_EXPECT_PTR_EQ(test, dshim_job_entity(job),
			    dshim_queue_entity(queue));
	KUNIT_EXPECT_PTR_EQ(test, dshim_job_sched(job),
			    dshim_queue_sched(queue));
	dshim_job_put(job);
	dma_fence_put(fence);
	dshim_queue_put(queue);
}

/* Double submit and bad handles are driver bugs: error, warning, no leak. */
static void dshim_job_misuse(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "misuse", &mock_ops, 4, 0);
	struct dshim_entity *entity = dshim_queue_entity(queue);
	struct dma_fence *fence, *dep, *hung_fence;
	struct dshim_stats before, after;
	struct dshim_job *job, *hung;

	job = mock_job_create(test, ctx, entity, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	dshim_job_get(job);		/* keep it to submit it again */
	fence = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));

	dep = dshim_hw_fence_create(ctx->hw_tl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(dep));
	dma_fence_get(dep);
	hung = mock_job_create(test, ctx, entity, MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(hung));
	hung_fence = dshim_job_submit(hung);
	KUNIT_ASSERT_FALSE(test, IS_ERR(hung_fence));

	dshim_stats_read(&before);
	dshim_test_expect_warn_begin();
	/* the scheduler owns a submitted job: no put without a get */
	dshim_job_put(hung);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_job_submit(job)), -EINVAL);
	/* consumed even in the error case */
	KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(job, dep), -EINVAL);
	KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(job, ERR_PTR(-EIO)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_job_create(NULL, 1, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_job_submit(NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(NULL, NULL), -EINVAL);
	KUNIT_EXPECT_NULL(test, dshim_job_get(ERR_PTR(-EINVAL)));
	dshim_job_put(ERR_PTR(-EINVAL));
	KUNIT_EXPECT_NULL(test, dshim_job_priv(NULL));
	KUNIT_EXPECT_NULL(test, dshim_job_entity(NULL));
	KUNIT_EXPECT_NULL(test, dshim_job_sched(NULL));
	dshim_test_expect_warn_end();
	dshim_stats_read(&after);
	KUNIT_EXPECT_EQ(test, after.driver_bugs - before.driver_bugs, 12);
	KUNIT_EXPECT_EQ(test, kref_read(&dep->refcount), 1);
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 2));
	mock_hw_advance(ctx, 1, 0);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(hung_fence));
	dma_fence_put(hung_fence);

	dshim_hw_fence_signal(dep, 0);
	dma_fence_put(dep);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	dshim_job_put(job);
	dma_fence_put(fence);
	dshim_queue_put(queue);
}

/* On one scheduler a dependency is unwrapped to drm_sched's own fence. */
static void dshim_job_dependency_same_sched(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "pipe", &mock_ops, 4, 0);
	struct dshim_entity *entity = dshim_queue_entity(queue);
	struct dma_fence *first, *second, *stored;
	struct dshim_job *job;

	first = mock_submit(test, ctx, entity, MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(first));
	job = mock_job_create(test, ctx, entity, MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(job,
						       dma_fence_get(first)),
			0);
	stored = xa_load(&job->base.dependencies, 0);
	KUNIT_ASSERT_NOT_NULL(test, stored);
	KUNIT_EXPECT_FALSE(test, dshim_fence_is_shim(stored));
	KUNIT_EXPECT_NOT_NULL(test, to_drm_sched_fence(stored));
	second = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(second));

	/* pipelined: the second job runs while the first is on the hw */
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 2));
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(first));
	KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 2, 0), 2);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(second));
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	dma_fence_put(first);
	dma_fence_put(second);
	dshim_queue_put(queue);
}

/* Across schedulers the shim fence itself is waited for, in full. */
static void dshim_job_dependency_other_sched(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *qa = make_queue(test, "a", &mock_ops, 4, 0);
	struct dshim_queue *qb = make_queue(test, "b", &mock_ops, 4, 0);
	struct dma_fence *first, *second;
	struct dshim_job *job;

	first = mock_submit(test, ctx, dshim_queue_entity(qa), MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(first));
	job = mock_job_create(test, ctx, dshim_queue_entity(qb), 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(job,
						       dma_fence_get(first)),
			0);
	KUNIT_EXPECT_TRUE(test, dshim_fence_is_shim(xa_load(&job->base.dependencies, 0)));
	second = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(second));

	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 1));
	msleep(20);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(second));
	mock_hw_advance(ctx, 1, 0);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(second));
	KUNIT_EXPECT_EQ(test, second->error, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 2);

	dma_fence_put(first);
	dma_fence_put(second);
	dshim_queue_put(qa);
	dshim_queue_put(qb);
}

/* A failed dependency fails the job with its error; run is not called. */
static void dshim_job_dependency_error(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "dep", &mock_ops, 4, 0);
	struct dma_fence *dep, *fence;
	struct dshim_job *job;

	dep = dshim_hw_fence_create(ctx->hw_tl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(dep));
	job = mock_job_create(test, ctx, dshim_queue_entity(queue), 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(job, dma_fence_get(dep)),
			0);
	fence = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));

	dshim_hw_fence_signal(dep, -ENOLINK);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, fence->error, -ENOLINK);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 0);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	dma_fence_put(dep);
	dma_fence_put(fence);
	dshim_queue_put(queue);
}

/*
 * Two entities on one scheduler with a credit limit of 1; a hanging job
 * on the first holds the credit. Returns the scheduler (the caller puts
 * it) and the other two entities in @ea and @eb, and the hanging job's
 * fence in *@hang.
 */
static struct dshim_sched *two_entities(struct kunit *test, u32 credit_limit,
					struct workqueue_struct *submit_wq,
					struct dshim_entity **ea,
					struct dshim_entity **eb)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "two");
	struct dshim_sched *sched;

	desc.credit_limit = credit_limit;
	desc.submit_wq = submit_wq;
	sched = dshim_sched_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(sched));
	*ea = dshim_entity_create(sched, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(*ea));
	*eb = dshim_entity_create(sched, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(*eb));
	return sched;
}

/*
 * Issue 15, defect 4: B depends on A, a job of another entity on the same
 * scheduler, and A's entity is killed before A runs. The dependency the
 * shim hands drm_sched is A's scheduler fence, which drm_sched fails with
 * -ESRCH; B must fail with A's error as the driver sees it, -ECANCELED,
 * and not run.
 */
static void dshim_job_dependency_killed_same_sched(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_entity *ea, *eb;
	struct dma_fence *hang, *a, *b;
	struct dshim_sched *sched;
	struct dshim_job *job;

	sched = two_entities(test, 1, NULL, &ea, &eb);
	/* the only credit: neither A nor B can be picked yet */
	hang = mock_submit(test, ctx, eb, MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(hang));
	KUNIT_ASSERT_TRUE(test, mock_wait_on_hw(ctx, 1));
	a = mock_submit(test, ctx, ea, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	job = mock_job_create(test, ctx, eb, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(job, dma_fence_get(a)), 0);
	b = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));

	dshim_entity_kill(ea);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(a));
	KUNIT_EXPECT_EQ(test, a->error, -ECANCELED);
	KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 1, 0), 1);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(b));
	KUNIT_EXPECT_EQ_MSG(test, b->error, -ECANCELED,
			    "B (depends on the killed A) failed with drm_sched's error");
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	KUNIT_EXPECT_EQ(test, dshim_sched_wait_idle(sched, 5000), 0);

	dma_fence_put(hang);
	dma_fence_put(a);
	dma_fence_put(b);
	dshim_entity_put(ea);
	dshim_entity_put(eb);
	dshim_sched_put(sched);
}

struct sched_window {
	struct dma_fence_cb cb;
	struct mock_ctx *ctx;
	struct dma_fence *a_finished;
	int runs_before;
	bool spun;
};

/*
 * On A's scheduled fence, after the callback that wakes B's entity: hold
 * the CPU that kills A between drm_sched's signal of A's scheduled fence
 * and that of its finished fence, until B was picked on another CPU
 * (it ran, or the shim had it wait for A's finished fence), at most 1 s.
 */
static void sched_window_cb(struct dma_fence *f, struct dma_fence_cb *cb)
{
	struct sched_window *w = container_of(cb, struct sched_window, cb);
	/* interrupts are off: by the clock, not by jiffies */
	ktime_t end = ktime_add_ms(ktime_get(), 1000);

	while (atomic_read(&w->ctx->runs) == w->runs_before &&
	       !test_bit(DRM_SCHED_FENCE_DONT_PIPELINE, &w->a_finished->flags) &&
	       ktime_before(ktime_get(), end))
		cpu_relax();
	WRITE_ONCE(w->spun, true);
}

/* Whether a callback waits on @s's scheduled fence (@s->lock is its lock). */
static bool scheduled_has_callback(struct drm_sched_fence *s)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&s->lock, flags);
	ret = !list_empty(&s->scheduled.cb_list);
	spin_unlock_irqrestore(&s->lock, flags);
	return ret;
}

static void destroy_wq(void *wq)
{
	destroy_workqueue(wq);
}

/*
 * Issue 15, defect 4 on SMP: drm_sched's kill signals a job's scheduled
 * fence before its finished fence, and a job of the same scheduler that
 * depends on it is released by the scheduled fence. A run worker on
 * another CPU (an unbound submit workqueue) then runs B in between,
 * before A's error exists. The test holds the killing CPU right there,
 * after B's wake-up: B must still not run, and fail -ECANCELED. (On one
 * CPU nothing can run in between: there the case checks the outcome
 * only.)
 */
static void dshim_job_dependency_killed_window(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dma_fence *gate, *a, *b, *a_sched;
	struct workqueue_struct *wq;
	struct dshim_entity *ea, *eb;
	struct sched_window *w;
	struct dshim_sched *sched;
	struct dshim_job *job;
	unsigned long end;

	wq = alloc_workqueue("dshim-test-unbound", WQ_UNBOUND, 0);
	KUNIT_ASSERT_NOT_NULL(test, wq);
	/* after the suite's exit waited for every shim object to go */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, destroy_wq, wq), 0);
	w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	w->ctx = ctx;
	sched = two_entities(test, 4, wq, &ea, &eb);

	/* A waits for a foreign fence: queued, never run */
	gate = dshim_hw_fence_create(ctx->hw_tl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(gate));
	job = mock_job_create(test, ctx, ea, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(job, dma_fence_get(gate)), 0);
	a = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	job = mock_job_create(test, ctx, eb, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(job, dma_fence_get(a)), 0);
	b = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));

	/*
	 * B's entity waits on A's scheduled fence (only it does): its
	 * callback comes first, then the window's.
	 */
	a_sched = dshim_fence_get_sched_fence(a);
	KUNIT_ASSERT_NOT_NULL(test, a_sched);
	w->a_finished = a_sched;
	end = jiffies + msecs_to_jiffies(5000);
	while (!scheduled_has_callback(to_drm_sched_fence(a_sched)) &&
	       time_before(jiffies, end))
		usleep_range(200, 500);
	KUNIT_ASSERT_TRUE(test, scheduled_has_callback(to_drm_sched_fence(a_sched)));
	w->runs_before = atomic_read(&ctx->runs);
	if (num_online_cpus() > 1)
		KUNIT_EXPECT_EQ(test,
				dma_fence_add_callback(&to_drm_sched_fence(a_sched)->scheduled,
						       &w->cb, sched_window_cb), 0);

	/*
	 * The kill stops A's entity; only then is A's gate signalled (or
	 * cancelled by the kill: A waits for nothing from outside), so that
	 * A goes through drm_sched's kill, not a run that fails it:
	 * scheduled fence, then finished.
	 */
	dshim_entity_kill(ea);
	end = jiffies + msecs_to_jiffies(5000);
	while (!(READ_ONCE(ea->base.stopped) && !READ_ONCE(ea->base.dependency)) &&
	       time_before(jiffies, end))
		usleep_range(200, 500);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(ea->base.stopped));
	dshim_hw_fence_signal(gate, 0);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(a));
	KUNIT_EXPECT_EQ(test, a->error, -ECANCELED);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(b));
	KUNIT_EXPECT_EQ_MSG(test, b->error, -ECANCELED,
			    "B ran between A's scheduled and finished fences");
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 0);
	/* drm_sched's kill, not a failed run (-ECANCELED) */
	KUNIT_EXPECT_EQ(test, a_sched->error, -ESRCH);
	if (num_online_cpus() > 1) {
		KUNIT_EXPECT_TRUE(test, READ_ONCE(w->spun));
		/* B was picked in the window, and held back by the shim */
		KUNIT_EXPECT_TRUE(test, test_bit(DRM_SCHED_FENCE_DONT_PIPELINE,
						 &a_sched->flags));
	}
	KUNIT_EXPECT_EQ(test, dshim_sched_wait_idle(sched, 5000), 0);

	dma_fence_put(a_sched);
	dma_fence_put(gate);
	dma_fence_put(a);
	dma_fence_put(b);
	dshim_entity_put(ea);
	dshim_entity_put(eb);
	dshim_sched_put(sched);
}

struct put_race {
	struct mock_ctx *ctx;
	struct dshim_job *job;
	bool ran;
};

static struct put_race *put_race;

/* kunit action: whatever the test did, the hook goes with it */
static void put_race_clear(void *unused)
{
	WRITE_ONCE(dshim_test_put_hook, NULL);
	WRITE_ONCE(put_race, NULL);
}

/*
 * In the test's put of its own reference: complete the job and wait until
 * the scheduler's free is done with it, its reference dropped (the
 * scheduler's put comes back here: the job is claimed once).
 */
static void put_race_hook(struct dshim_job *job)
{
	struct put_race *race = READ_ONCE(put_race);
	unsigned long end = jiffies + msecs_to_jiffies(5000);

	if (!race || cmpxchg(&race->job, job, NULL) != job)
		return;
	mock_hw_advance(race->ctx, 1, 0);
	while ((atomic_read(&race->ctx->frees) < 1 ||
		refcount_read(&job->refcount) > 1) && time_before(jiffies, end))
		usleep_range(200, 500);
	WRITE_ONCE(race->ran, true);
}

/*
 * Issue 15, defect 3: the driver drops its dshim_job_get() reference of a
 * submitted job while, on another CPU, the scheduler frees the job and
 * drops its own. The put must neither call that a misuse (a warning)
 * nor keep the job (a leak of the job, its entity and its scheduler).
 * The hook runs the whole free inside the put: before the fix, between
 * its read of the job's flags and its read of the count, where it failed
 * every time; the put now reads the count first, then the flags, and has
 * no such window: the case checks the outcome.
 */
static void dshim_job_put_races_free(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "put", &mock_ops, 4, 0);
	struct dshim_stats before, after;
	struct put_race *race;
	struct dshim_job *job;
	struct dma_fence *fence;

	race = kunit_kzalloc(test, sizeof(*race), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, race);
	race->ctx = ctx;
	job = mock_job_create(test, ctx, dshim_queue_entity(queue), MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	KUNIT_ASSERT_PTR_EQ(test, dshim_job_get(job), job);
	dshim_stats_read(&before);
	fence = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	KUNIT_ASSERT_TRUE(test, mock_wait_on_hw(ctx, 1));

	race->job = job;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, put_race_clear, NULL), 0);
	WRITE_ONCE(put_race, race);
	WRITE_ONCE(dshim_test_put_hook, put_race_hook);
	dshim_job_put(job);
	put_race_clear(NULL);

	KUNIT_EXPECT_TRUE(test, READ_ONCE(race->ran));
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	dshim_stats_read(&after);
	KUNIT_EXPECT_EQ_MSG(test, after.driver_bugs, before.driver_bugs,
			    "a legal put was called a misuse");
	dma_fence_put(fence);
	dshim_queue_put(queue);
	/* the suite's exit: every object freed, the job, entity, scheduler */
}

/* A hung job times out; the driver fails it from the callback. */
static void dshim_job_timeout_ban(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "hang", &mock_ops, 4, 20);
	struct dma_fence *fence;

	ctx->timeout_error = -ETIMEDOUT;
	fence = mock_submit(test, ctx, dshim_queue_entity(queue), MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, fence->error, -ETIMEDOUT);
	KUNIT_EXPECT_GE(test, atomic_read(&ctx->timeouts), 1);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	dma_fence_put(fence);
	dshim_queue_put(queue);
}

/*
 * Regression: drm_sched 6.12 takes a timed-out job off its pending list
 * and expects the driver to put it back. A driver that only lets the job
 * run on must still see it freed when it completes.
 */
static void dshim_job_timeout_continue(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "slow", &mock_ops, 4, 10);
	struct dma_fence *fence;

	fence = mock_submit(test, ctx, dshim_queue_entity(queue), MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	KUNIT_EXPECT_TRUE(test, mock_wait_atomic(&ctx->timeouts, 2));
	mock_hw_advance(ctx, 1, 0);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, fence->error, 0);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	dma_fence_put(fence);
	dshim_queue_put(queue);
}

/*
 * A driver whose device is gone: drm_sched stops timing the scheduler
 * out (ENODEV), and on no kernel puts the job back itself. It must still
 * be freed, once, when the driver completes it later.
 */
static void dshim_job_timeout_device_gone(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "gone", &mock_ops, 4, 10);
	struct dma_fence *fence;

	ctx->timeout_status = DSHIM_TIMEOUT_DEVICE_GONE;
	fence = mock_submit(test, ctx, dshim_queue_entity(queue), MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	KUNIT_EXPECT_TRUE(test, mock_wait_atomic(&ctx->timeouts, 1));
	/* ten timeout periods: the timer was not armed again */
	msleep(100);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->timeouts), 1);
	mock_hw_advance(ctx, 1, -ENODEV);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, fence->error, -ENODEV);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	dma_fence_put(fence);
	dshim_queue_put(queue);
}

/*
 * Regression: drm_sched arms the timeout before it calls run, so it can
 * fire while run is still running; the driver must not hear of a job that
 * is not on its hardware yet.
 */
static void dshim_job_timeout_during_run(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "slowrun", &mock_ops, 4,
					       5);
	struct dma_fence *fence;

	fence = mock_submit_slow_run(test, ctx, dshim_queue_entity(queue), 0, 50);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, fence->error, 0);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->timeouts), 0);
	dma_fence_put(fence);
	dshim_queue_put(queue);
}

/* Dropping a queue cancels its hardware jobs through the driver. */
static void dshim_job_cancel_on_put(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "cancel", &mock_ops, 4, 0);
	struct dma_fence *fences[3];
	int i;

	for (i = 0; i < 3; i++) {
		fences[i] = mock_submit(test, ctx, dshim_queue_entity(queue),
					MOCK_HANG);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fences[i]));
	}
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 3));
	dshim_queue_put(queue);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_TRUE(test, mock_wait_fence(fences[i]));
		KUNIT_EXPECT_EQ(test, fences[i]->error, -ECANCELED);
		dma_fence_put(fences[i]);
	}
	/* each cancel call counts itself after completing its job */
	KUNIT_EXPECT_TRUE(test, mock_wait_atomic(&ctx->cancels, 3));
}

/*
 * Regression: run, timedout and cancel are fence signalling paths (the
 * job's fence is published; reclaim may wait for it), and the shim says
 * so with dma_fence_begin_signalling(), so that lockdep reports a driver
 * that allocates or waits for a fence in them. The mock counts each call
 * made outside a signalling section; the suite's exit checks the count of
 * every case, this one makes sure all three callbacks were called.
 */
static void dshim_job_callbacks_are_signalling(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "annotated", &mock_ops,
					       4, 10);
	/* without lockdep, every section looks nested (the kcsan pass) */
	bool lockdep = IS_ENABLED(CONFIG_LOCKDEP);
	struct dma_fence *hung, *queued;
	bool cookie;

	if (lockdep) {
		/* the probe tells the two apart */
		KUNIT_EXPECT_FALSE(test, mock_in_signalling());
		cookie = dma_fence_begin_signalling();
		KUNIT_EXPECT_TRUE(test, mock_in_signalling());
		dma_fence_end_signalling(cookie);
	}

	hung = mock_submit(test, ctx, dshim_queue_entity(queue), MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(hung));
	queued = mock_submit(test, ctx, dshim_queue_entity(queue), MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queued));
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 2));
	KUNIT_EXPECT_TRUE(test, mock_wait_atomic(&ctx->timeouts, 1));
	dshim_queue_put(queue);		/* cancels both */
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(hung));
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(queued));
	KUNIT_EXPECT_TRUE(test, mock_wait_atomic(&ctx->cancels, 2));
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 2);
	if (lockdep)
		KUNIT_EXPECT_EQ(test, atomic_read(&ctx->unannotated), 0);
	else
		kunit_info(test, "no lockdep: the annotations are not checked here\n");
	dma_fence_put(hung);
	dma_fence_put(queued);
}

/* Without a cancel op, jobs on the hardware finish normally after put. */
static void dshim_job_no_cancel_op(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "nocancel",
					       &mock_ops_no_cancel, 4, 0);
	struct dma_fence *fence;

	fence = mock_submit(test, ctx, dshim_queue_entity(queue), MOCK_HANG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 1));
	dshim_queue_put(queue);
	msleep(20);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(fence));
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
	mock_hw_advance(ctx, 1, 0);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, fence->error, 0);
	dma_fence_put(fence);
}

/* Killing an entity cancels queued jobs and the one on the hardware. */
static void dshim_job_kill_queued(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "kill", &mock_ops, 1, 0);
	struct dma_fence *fences[NJOBS];
	int i;

	for (i = 0; i < NJOBS; i++) {
		fences[i] = mock_submit(test, ctx, dshim_queue_entity(queue),
					MOCK_HANG);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fences[i]));
	}
	/* credit limit 1: one job on the hardware, the rest queued */
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 1));
	dshim_entity_kill(dshim_queue_entity(queue));
	for (i = 0; i < NJOBS; i++) {
		KUNIT_EXPECT_TRUE(test, mock_wait_fence(fences[i]));
		KUNIT_EXPECT_EQ(test, fences[i]->error, -ECANCELED);
		dma_fence_put(fences[i]);
	}
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->cancels), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), NJOBS);
	dshim_queue_put(queue);
}

/*
 * Regression: fences of one entity share a context and must signal in
 * order. Jobs cancelled by a kill must not signal before the job still on
 * the hardware ahead of them (without a cancel op it runs to the end).
 */
static void dshim_job_fences_in_order_after_kill(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "order",
					       &mock_ops_no_cancel, 1, 0);
	struct dma_fence *fences[NJOBS];
	int i;

	for (i = 0; i < NJOBS; i++) {
		fences[i] = mock_submit(test, ctx, dshim_queue_entity(queue),
					MOCK_HANG);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fences[i]));
	}
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 1));
	dshim_queue_kill(queue);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 50), -ETIMEDOUT);
	for (i = 0; i < NJOBS; i++)
		KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(fences[i]));

	mock_hw_advance(ctx, 1, 0);
	for (i = 0; i < NJOBS; i++) {
		KUNIT_EXPECT_TRUE(test, mock_wait_fence(fences[i]));
		KUNIT_EXPECT_EQ(test, fences[i]->error, i ? -ECANCELED : 0);
		if (i)
			KUNIT_EXPECT_LE(test,
					ktime_compare(fences[i - 1]->timestamp,
						      fences[i]->timestamp), 0);
	}
	for (i = 0; i < NJOBS; i++)
		dma_fence_put(fences[i]);
	dshim_queue_put(queue);
}

/*
 * The tests' own protocol (issue 14: a teardown-matrix cell failed on four
 * CPUs): run counts a job on entry and puts it on the mock hardware after,
 * so a test that waits for &mock_ctx.runs and then advances the hardware
 * can find nothing there while run, on another CPU, is in between. A run
 * that sleeps first makes that window wide on one CPU too: waiting with
 * mock_wait_on_hw() must still find the job on the hardware every time.
 */
static void dshim_job_wait_on_hw_slow_run(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "slow-run", &mock_ops, 1, 0);
	struct dma_fence *fence;

	fence = mock_submit_slow_run(test, ctx, dshim_queue_entity(queue),
				     MOCK_HANG, 50);
	KUNIT_ASSERT_TRUE(test, mock_wait_on_hw(ctx, 1));
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 1, 0), 1);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, fence->error, 0);
	dma_fence_put(fence);
	dshim_queue_put(queue);
}

/*
 * Issue 15, defect 6: a job's credits usually come from a submit ioctl.
 * Out of range, they get -EINVAL and nothing else: no warning (outside any
 * expected-warning region, a WARN here fails the log scan), no driver bug
 * counted, no job.
 */
static void dshim_job_bad_credits(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "credits", &mock_ops, 4, 0);
	struct dshim_entity *entity = dshim_queue_entity(queue);
	struct dshim_stats before, after;

	dshim_stats_read(&before);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_job_create(entity, 0, NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_job_create(entity, 5, NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_job_create(entity, U32_MAX, NULL)),
			-EINVAL);
	dshim_stats_read(&after);
	KUNIT_EXPECT_EQ(test, after.driver_bugs - before.driver_bugs, 0);
	KUNIT_EXPECT_EQ(test, after.jobs, before.jobs);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->created), 0);
	dshim_queue_put(queue);
}

/* Holds the run worker inside drm_sched_entity_pop_job(), for one job. */
struct pick_gate {
	struct dshim_job *job;
	struct completion entered;
	struct completion open;
};

static struct pick_gate *pick_gate;

/* kunit action: whatever the test did, the hook goes with it */
static void pick_gate_clear(void *unused)
{
	WRITE_ONCE(dshim_test_prepare_hook, NULL);
	WRITE_ONCE(pick_gate, NULL);
}

static void pick_gate_hook(struct dshim_job *job)
{
	struct pick_gate *gate = READ_ONCE(pick_gate);

	if (!gate || cmpxchg(&gate->job, job, NULL) != job)
		return;
	complete(&gate->entered);
	wait_for_completion(&gate->open);
}

/*
 * Issue 15, defect 1 (and issue 14's oops on four CPUs): an entity killed
 * while the run worker is inside drm_sched_entity_pop_job() for it, with
 * more jobs queued behind. The worker puts the entity back into the run
 * queue's FIFO tree (drm_sched_rq_update_fifo_locked() does not look at
 * entity->stopped); if that comes after drm_sched_entity_fini() took the
 * entity out, the entity stays linked in the tree after it is freed, and
 * on another CPU a second worker can pop its queue while fini's kill pops
 * it too. The gate holds the worker at exactly that point, every time:
 * the kill must end with the entity out of the run queue, list and tree.
 */
static void dshim_job_kill_during_pick(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = make_queue(test, "pick", &mock_ops, 4, 0);
	struct dshim_entity *entity = dshim_queue_entity(queue);
	struct dshim_sched *sched = dshim_queue_sched(queue);
	struct dma_fence *fences[NJOBS];
	struct pick_gate *gate;
	unsigned long end;
	int i;

	/* not on the stack: a worker may still look at it after a failure */
	gate = kunit_kzalloc(test, sizeof(*gate), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, gate);
	init_completion(&gate->entered);
	init_completion(&gate->open);
	gate->job = mock_job_create(test, ctx, entity, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(gate->job));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pick_gate_clear, NULL), 0);
	WRITE_ONCE(pick_gate, gate);
	WRITE_ONCE(dshim_test_prepare_hook, pick_gate_hook);
	fences[0] = dshim_job_submit(gate->job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fences[0]));
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&gate->entered,
							  msecs_to_jiffies(5000)), 0);
	for (i = 1; i < NJOBS; i++) {
		fences[i] = mock_submit(test, ctx, entity, 0);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fences[i]));
	}

	dshim_entity_kill(entity);
	/* the kill is under way: fini stopped the entity, or the scheduler is paused */
	end = jiffies + msecs_to_jiffies(5000);
	while (!READ_ONCE(entity->base.stopped) &&
	       !READ_ONCE(sched->base.pause_submit) && time_before(jiffies, end))
		usleep_range(200, 500);
	complete(&gate->open);

	for (i = 0; i < NJOBS; i++) {
		KUNIT_EXPECT_TRUE(test, mock_wait_fence(fences[i]));
		KUNIT_EXPECT_EQ_MSG(test, fences[i]->error, -ECANCELED, "job %d", i);
	}
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	/* the queue's handle keeps the entity's memory: look at it */
	KUNIT_EXPECT_TRUE(test, READ_ONCE(entity->base.stopped));
	KUNIT_EXPECT_TRUE(test, list_empty(&entity->base.list));
	KUNIT_EXPECT_TRUE_MSG(test, RB_EMPTY_NODE(&entity->base.rb_tree_node),
			      "the killed entity is still in the run queue's tree");
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 0);

	for (i = 0; i < NJOBS; i++)
		dma_fence_put(fences[i]);
	dshim_queue_put(queue);
}

static struct kunit_case dshim_job_cases[] = {
	KUNIT_CASE(dshim_job_submit_complete),
	KUNIT_CASE_PARAM(dshim_job_fence_error, fence_error_gen_params),
	KUNIT_CASE(dshim_job_never_submitted),
	KUNIT_CASE(dshim_job_get_outlives_free),
	KUNIT_CASE(dshim_job_misuse),
	KUNIT_CASE(dshim_job_dependency_same_sched),
	KUNIT_CASE(dshim_job_dependency_other_sched),
	KUNIT_CASE(dshim_job_dependency_error),
	KUNIT_CASE(dshim_job_dependency_killed_same_sched),
	KUNIT_CASE(dshim_job_dependency_killed_window),
	KUNIT_CASE(dshim_job_timeout_ban),
	KUNIT_CASE(dshim_job_timeout_continue),
	KUNIT_CASE(dshim_job_timeout_device_gone),
	KUNIT_CASE(dshim_job_timeout_during_run),
	KUNIT_CASE(dshim_job_cancel_on_put),
	KUNIT_CASE(dshim_job_callbacks_are_signalling),
	KUNIT_CASE(dshim_job_no_cancel_op),
	KUNIT_CASE(dshim_job_kill_queued),
	KUNIT_CASE(dshim_job_fences_in_order_after_kill),
	KUNIT_CASE(dshim_job_wait_on_hw_slow_run),
	KUNIT_CASE(dshim_job_kill_during_pick),
	KUNIT_CASE(dshim_job_bad_credits),
	KUNIT_CASE(dshim_job_put_races_free),
	{}
};

static struct kunit_suite dshim_job_suite = {
	.name = "dshim_job",
	.init = mock_suite_init,
	.exit = mock_suite_exit,
	.test_cases = dshim_job_cases,
};

kunit_test_suite(dshim_job_suite);
