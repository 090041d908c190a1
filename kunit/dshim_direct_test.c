// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: direct submit (%DSHIM_QUEUE_DIRECT_SUBMIT, "direct submit" in
 * c-shim/dshim_job.c). A job submitted to an idle queue runs from
 * dshim_job_submit() itself; any other goes through drm_sched, behind the
 * direct jobs before it. The cases check that the choice is made as
 * documented, that order, credits, errors and dependencies hold across the
 * two paths, and that every teardown of a direct job frees it once.
 */

#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/err.h>

#include "dshim_test.h"

static struct dshim_queue *direct_queue(struct kunit *test, u32 credit_limit)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "direct");
	struct dshim_queue *queue;

	desc.credit_limit = credit_limit;
	desc.flags = DSHIM_QUEUE_DIRECT_SUBMIT;
	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, queue);
	return queue;
}

/* The id of the oldest job on the mock hardware, or -1. */
static int first_on_hw(struct mock_ctx *ctx)
{
	struct mock_job *mj;
	int id = -1;

	spin_lock_irq(&ctx->lock);
	mj = list_first_entry_or_null(&ctx->on_hw, struct mock_job, link);
	if (mj)
		id = mj->id;
	spin_unlock_irq(&ctx->lock);
	return id;
}

/* Submit a job of @duration_us numbered @id, with @dep (consumed) if any. */
static struct dma_fence *submit_id(struct kunit *test, struct dshim_queue *q,
				   u32 duration_us, unsigned int id,
				   struct dma_fence *dep)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_job *job;
	struct dma_fence *fence;

	job = mock_job_create(test, ctx, dshim_queue_entity(q), duration_us);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, job);
	((struct mock_job *)dshim_job_priv(job))->id = id;
	if (dep)
		KUNIT_ASSERT_EQ(test, dshim_job_add_dependency(job, dep), 0);
	fence = dshim_job_submit(job);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fence);
	return fence;
}

/* An idle queue runs the job before dshim_job_submit() returns. */
static void dshim_direct_runs_in_submit(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = direct_queue(test, 4);
	struct dma_fence *fence;

	fence = submit_id(test, queue, MOCK_HANG, 1, NULL);
	/* no worker involved: already on the hardware */
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->hw_starts), 1);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(fence));
	KUNIT_EXPECT_TRUE(test, dshim_fence_is_shim(fence));

	KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 1, 0), 1);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, fence->error, 0);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	dma_fence_put(fence);
	dshim_queue_put(queue);
}

/*
 * A job that must wait for a dependency goes through drm_sched; a job
 * behind it does too, though it could run at once: jobs reach run in
 * submission order. The drm_sched job also waits for the direct job
 * before it, whose credits drm_sched does not see. The fences of all
 * three signal in order, on one timeline.
 */
static void dshim_direct_order_behind_sched(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = direct_queue(test, 4);
	struct dma_fence *dep, *f[3];
	int i;

	dep = dshim_hw_fence_create(ctx->hw_tl);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dep);
	f[0] = submit_id(test, queue, MOCK_HANG, 0, NULL);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	f[1] = submit_id(test, queue, MOCK_HANG, 1, dma_fence_get(dep));
	f[2] = submit_id(test, queue, MOCK_HANG, 2, NULL);
	/* neither ran in submit; job 2 must not overtake job 1 */
	msleep(20);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);

	/* job 1 is ready, but waits for job 0, which holds its credits */
	dshim_hw_fence_signal(dep, 0);
	msleep(20);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);

	KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 1, 0), 1);
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 3));
	KUNIT_EXPECT_EQ(test, first_on_hw(ctx), 1);
	KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 2, 0), 2);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_TRUE(test, mock_wait_fence(f[i]));
		KUNIT_EXPECT_EQ(test, f[i]->error, 0);
		if (i) {
			KUNIT_EXPECT_EQ(test, f[i]->context, f[0]->context);
			KUNIT_EXPECT_TRUE(test, dma_fence_is_later(f[i], f[i - 1]));
		}
	}
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	for (i = 0; i < 3; i++)
		dma_fence_put(f[i]);
	dma_fence_put(dep);
	dshim_queue_put(queue);
}

/*
 * Credits: with one credit, a job behind a direct job on the hardware
 * goes to drm_sched and reaches the hardware only once the first is done.
 * After that the queue is idle again, and the next job runs directly.
 */
static void dshim_direct_credits(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = direct_queue(test, 1);
	struct dma_fence *f[3];
	int i;

	f[0] = submit_id(test, queue, MOCK_HANG, 0, NULL);
	f[1] = submit_id(test, queue, MOCK_HANG, 1, NULL);
	msleep(20);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->hw_starts), 1);
	KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 1, 0), 1);
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 2));
	KUNIT_EXPECT_EQ(test, first_on_hw(ctx), 1);
	KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 1, 0), 1);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(f[1]));
	/* drm_sched ran job 1: its run has returned, its credit is back */
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);

	f[2] = submit_id(test, queue, MOCK_HANG, 2, NULL);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->hw_starts), 3);
	KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 1, 0), 1);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_TRUE(test, mock_wait_fence(f[i]));
		dma_fence_put(f[i]);
	}
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	dshim_queue_put(queue);
}

struct direct_error_case {
	const char *what;
	u32 duration_us;
	int run_error;
	int hw_error;		/* the hardware fence signals with this */
	int dep_error;		/* the dependency signals with this first */
	int want;		/* the fence's error */
	int runs;		/* run calls */
};

static const struct direct_error_case direct_error_cases[] = {
	{ "run returns an error", 0, -ENOSPC, 0, 0, -ENOSPC, 1 },
	{ "run returns NULL", MOCK_NO_FENCE, 0, 0, 0, 0, 1 },
	{ "hardware error", 0, 0, -EIO, 0, -EIO, 1 },
	{ "hardware error, later", 50, 0, -EIO, 0, -EIO, 1 },
	{ "dependency failed", 0, 0, 0, -ENOLINK, -ENOLINK, 0 },
};

static void direct_error_to_desc(const struct direct_error_case *c,
				 char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(direct_error, direct_error_cases, direct_error_to_desc);

/*
 * A direct job's fence carries run's error, or none; a job whose
 * dependency failed is not run directly: drm_sched fails it, unrun.
 */
static void dshim_direct_errors(struct kunit *test)
{
	const struct direct_error_case *c = test->param_value;
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = direct_queue(test, 4);
	struct dma_fence *dep = NULL, *fence;
	struct mock_job *mj;
	struct dshim_job *job;

	if (c->dep_error) {
		dep = dshim_hw_fence_create(ctx->hw_tl);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dep);
		dshim_hw_fence_signal(dep, c->dep_error);
	}
	job = mock_job_create(test, ctx, dshim_queue_entity(queue),
			      c->duration_us);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, job);
	mj = dshim_job_priv(job);
	mj->run_error = c->run_error;
	mj->hw_error = c->hw_error;
	if (dep)
		KUNIT_ASSERT_EQ(test, dshim_job_add_dependency(job, dep), 0);
	fence = dshim_job_submit(job);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fence);

	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, fence->error, c->want);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), c->runs);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	dma_fence_put(fence);
	dshim_queue_put(queue);
}

/*
 * Only a queue may run jobs directly, without a timeout (drm_sched's timer
 * would not see them), and its scheduler takes no other entity.
 */
static void dshim_direct_refused(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "refused");
	struct dshim_stats before, after;
	struct dshim_queue *queue;

	desc.flags = DSHIM_QUEUE_DIRECT_SUBMIT;
	dshim_stats_read(&before);
	dshim_test_expect_warn_begin();
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_sched_create(&desc)), -EINVAL);
	desc.timeout_ms = 100;
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_queue_create(&desc)), -EINVAL);
	desc.flags = 1U << 31;
	desc.timeout_ms = 0;
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_queue_create(&desc)), -EINVAL);
	dshim_test_expect_warn_end();
	dshim_stats_read(&after);
	KUNIT_EXPECT_EQ(test, after.driver_bugs - before.driver_bugs, 3);

	queue = direct_queue(test, 4);
	KUNIT_EXPECT_EQ(test,
			PTR_ERR(dshim_entity_create(dshim_queue_sched(queue), 0)),
			-EBUSY);
	dshim_queue_put(queue);
}

/*
 * A job of another queue that depends on a direct job waits for it to
 * finish: a direct job has no drm_sched fence to pipeline on.
 */
static void dshim_direct_dependent_waits(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *qa = direct_queue(test, 4);
	struct dshim_queue *qb = direct_queue(test, 4);
	struct dma_fence *first, *second;

	first = submit_id(test, qa, MOCK_HANG, 0, NULL);
	second = submit_id(test, qb, 0, 1, dma_fence_get(first));
	msleep(20);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(second));
	KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 1, 0), 1);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(second));
	KUNIT_EXPECT_EQ(test, second->error, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 2);
	dma_fence_put(first);
	dma_fence_put(second);
	dshim_queue_put(qa);
	dshim_queue_put(qb);
}

/*
 * A job of the queue between drm_sched's pop and the end of its run (here
 * asleep in run) still goes first: a job submitted meanwhile is not run
 * from submit, it is pushed behind it.
 */
static void dshim_direct_behind_a_running_job(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = direct_queue(test, 4);
	struct dma_fence *dep, *f[2];
	struct dshim_job *job;

	/* a dependency sends the first job through drm_sched */
	dep = dshim_hw_fence_create(ctx->hw_tl);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dep);
	job = mock_job_create(test, ctx, dshim_queue_entity(queue), MOCK_HANG);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, job);
	((struct mock_job *)dshim_job_priv(job))->run_sleep_ms = 300;
	KUNIT_ASSERT_EQ(test, dshim_job_add_dependency(job, dma_fence_get(dep)),
			0);
	f[0] = dshim_job_submit(job);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f[0]);
	dshim_hw_fence_signal(dep, 0);
	/* in its run, asleep: popped, not yet on the hardware */
	KUNIT_ASSERT_TRUE(test, mock_wait_atomic(&ctx->runs, 1));

	f[1] = submit_id(test, queue, MOCK_HANG, 1, NULL);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 2));
	KUNIT_EXPECT_EQ(test, first_on_hw(ctx), 0);
	KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 2, 0), 2);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(f[1]));
	KUNIT_EXPECT_TRUE(test, dma_fence_is_signaled(f[0]));
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	dma_fence_put(f[0]);
	dma_fence_put(f[1]);
	dma_fence_put(dep);
	dshim_queue_put(queue);
}

/* A job depending on a direct job of its own queue waits for it to end. */
static void dshim_direct_same_queue_dependency(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = direct_queue(test, 4);
	struct dma_fence *first, *second;

	first = submit_id(test, queue, MOCK_HANG, 0, NULL);
	second = submit_id(test, queue, 0, 1, dma_fence_get(first));
	msleep(20);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 1, 0), 1);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(second));
	KUNIT_EXPECT_EQ(test, second->error, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 2);
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	dma_fence_put(first);
	dma_fence_put(second);
	dshim_queue_put(queue);
}

static void record_task(void *arg)
{
	/* the test reads it once the job's fence signalled */
	smp_store_release((struct task_struct **)arg, current);
}

/*
 * Regression: a direct job whose queue is killed while its run runs was
 * cancelled by dshim_job_submit() itself, on the submitter's stack, where
 * the driver may hold a lock its cancel takes (a deadlock), against the
 * contract's "cancel is never called under a shim lock" (the submit lock
 * was held). The kill's work cancels it, as any other job.
 */
static void dshim_direct_cancel_not_in_submit(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_queue *queue = direct_queue(test, 4);
	struct task_struct *canceller = NULL, *who;
	struct dma_fence *fence;
	struct dshim_job *job;
	struct mock_job *mj;

	ctx->drop_in = MOCK_IN_CANCEL;
	mock_park_call(ctx, record_task, &canceller);
	job = mock_job_create(test, ctx, dshim_queue_entity(queue), MOCK_HANG);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, job);
	/* run kills the queue: the job reaches the hardware of a dead queue */
	mj = dshim_job_priv(job);
	mj->drop_where = MOCK_IN_RUN;
	mj->drop_queue = dshim_queue_get(queue);
	mj->kill_at_drop = true;
	fence = dshim_job_submit(job);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fence);

	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, fence->error, -ECANCELED);
	/* the free waits for cancel to return: then it has recorded itself */
	KUNIT_EXPECT_TRUE(test, mock_wait_atomic(&ctx->frees, 1));
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->cancels), 1);
	/* pairs with the release in record_task() */
	who = smp_load_acquire(&canceller);
	KUNIT_EXPECT_NOT_NULL(test, who);
	KUNIT_EXPECT_PTR_NE_MSG(test, who, current,
				"cancel was called from dshim_job_submit()");
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	dma_fence_put(fence);
	dshim_queue_put(queue);
}

static const struct mock_where_case direct_teardown_cases[] = {
	{ "in test", MOCK_NOWHERE, MOCK_HANG, 0 },
	{ "in run", MOCK_IN_RUN, MOCK_HANG, 0 },
	{ "in cancel", MOCK_IN_CANCEL, MOCK_HANG, 0 },
	{ "in free", MOCK_IN_FREE, 0, 0 },
	{ "in hardirq", MOCK_IN_HARDIRQ, 50, 0 },
	{ "in softirq", MOCK_IN_SOFTIRQ, 50, 0 },
};

KUNIT_ARRAY_PARAM(direct_teardown, direct_teardown_cases,
		  mock_where_case_to_desc);

/*
 * The queue's last reference goes at each place a direct job can be:
 * from run (the submitter's own stack, the submit lock held), from the
 * hardware's completion, from cancel and free, or by the test while the
 * job is on the hardware. The job is cancelled or completes, its free
 * runs once, and everything is freed (the suite's exit checks).
 */
static void dshim_direct_teardown(struct kunit *test)
{
	const struct mock_where_case *c = test->param_value;
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_where_desc(ctx, c, "direct-td");
	struct dshim_queue *queue;
	struct dma_fence *fence;
	int i;

	desc.flags = DSHIM_QUEUE_DIRECT_SUBMIT;
	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, queue);
	/* the mock drops the test's only reference there (in test: below) */
	if (c->where != MOCK_NOWHERE)
		mock_park_queue(ctx, queue);
	fence = submit_id(test, queue, c->duration_us, 0, NULL);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	if (c->where == MOCK_NOWHERE || c->where == MOCK_IN_CANCEL)
		dshim_queue_kill(queue);
	if (c->where == MOCK_NOWHERE)
		dshim_queue_put(queue);

	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, fence->error,
			c->duration_us == MOCK_HANG ? -ECANCELED : 0);
	KUNIT_EXPECT_TRUE(test, mock_wait_atomic(&ctx->frees, 1));
	/* free counts itself before it drops the reference */
	for (i = 0; i < 250 && mock_parked(ctx); i++)
		msleep(20);
	KUNIT_EXPECT_FALSE(test, mock_parked(ctx));
	dma_fence_put(fence);
}

struct direct_wait {
	struct dshim_queue *queue;
	int ret;
	bool called;
};

static void direct_wait_call(void *arg)
{
	struct direct_wait *w = arg;

	w->ret = dshim_queue_wait_idle(w->queue, 2000);
	/* the test reads the result once the job's fence signalled */
	smp_store_release(&w->called, true);
}

/*
 * A direct run is on the submitter's stack, inside a callback frame: a
 * wait there for the queue (which waits for this very job) is -EDEADLK.
 */
static void dshim_direct_wait_in_run(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct direct_wait w = { .ret = 1 };
	struct dma_fence *fence;

	w.queue = direct_queue(test, 4);
	ctx->drop_in = MOCK_IN_RUN;
	mock_park_call(ctx, direct_wait_call, &w);
	fence = submit_id(test, w.queue, 0, 0, NULL);
	/* pairs with the release in direct_wait_call() */
	KUNIT_ASSERT_TRUE(test, smp_load_acquire(&w.called));
	KUNIT_EXPECT_EQ(test, w.ret, -EDEADLK);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(w.queue, 5000), 0);
	dma_fence_put(fence);
	dshim_queue_put(w.queue);
}

static struct kunit_case dshim_direct_cases[] = {
	KUNIT_CASE(dshim_direct_runs_in_submit),
	KUNIT_CASE(dshim_direct_order_behind_sched),
	KUNIT_CASE(dshim_direct_credits),
	KUNIT_CASE_PARAM(dshim_direct_errors, direct_error_gen_params),
	KUNIT_CASE(dshim_direct_refused),
	KUNIT_CASE(dshim_direct_dependent_waits),
	KUNIT_CASE(dshim_direct_behind_a_running_job),
	KUNIT_CASE(dshim_direct_same_queue_dependency),
	KUNIT_CASE(dshim_direct_cancel_not_in_submit),
	KUNIT_CASE_PARAM(dshim_direct_teardown, direct_teardown_gen_params),
	KUNIT_CASE(dshim_direct_wait_in_run),
	{}
};

static struct kunit_suite dshim_direct_suite = {
	.name = "dshim_direct",
	.init = mock_suite_init,
	.exit = mock_suite_exit,
	.test_cases = dshim_direct_cases,
};

kunit_test_suite(dshim_direct_suite);
