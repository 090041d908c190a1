// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: every allocation failure path of the DRM scheduler shim.
 *
 * Every allocation of the shim, and every drm_sched call that allocates,
 * first asks dshim_fail_alloc(). Each case replaces it with a static stub
 * that fails the Nth call, for N = 1, 2, ... until the operation succeeds
 * without reaching N: so every failure point of the operation is hit once,
 * and after each the live object counts must be back where they were.
 */

#include <kunit/static_stub.h>
#include <linux/dma-fence.h>
#include <linux/err.h>

#include "../c-shim/internal.h"
#include "dshim_test.h"

/* the stub has no arguments: tests of one suite run one at a time */
static unsigned int fail_at, fail_calls;

static bool fail_nth_alloc(void)
{
	return ++fail_calls == fail_at;
}

struct alloc_op {
	const char *what;
	/* the operation, undone on success; returns 0 or an error */
	int (*run)(struct kunit *test, struct mock_ctx *ctx, void *arg);
	/* allocation points the operation has; a change here is a change */
	unsigned int points;
};

static int op_timeline(struct kunit *test, struct mock_ctx *ctx, void *arg)
{
	struct dshim_timeline *tl = dshim_timeline_create("tl");

	if (IS_ERR(tl))
		return PTR_ERR(tl);
	dshim_timeline_put(tl);
	return 0;
}

static int op_hw_fence(struct kunit *test, struct mock_ctx *ctx, void *arg)
{
	struct dma_fence *f = dshim_hw_fence_create(ctx->hw_tl);

	if (IS_ERR(f))
		return PTR_ERR(f);
	dshim_hw_fence_signal(f, 0);
	dma_fence_put(f);
	return 0;
}

/* allocated ahead, armed as a driver's run does */
static int op_hw_fence_arm(struct kunit *test, struct mock_ctx *ctx, void *arg)
{
	struct dshim_hw_fence *hwf = dshim_hw_fence_alloc();
	struct dma_fence *f;

	if (IS_ERR(hwf))
		return PTR_ERR(hwf);
	f = dshim_hw_fence_arm(hwf, ctx->hw_tl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	dshim_hw_fence_signal(f, 0);
	dma_fence_put(f);
	return 0;
}

static int op_sched(struct kunit *test, struct mock_ctx *ctx, void *arg)
{
	struct dshim_sched_desc desc = mock_desc(ctx, "sched");
	struct dshim_sched *sched = dshim_sched_create(&desc);

	if (IS_ERR(sched))
		return PTR_ERR(sched);
	dshim_sched_put(sched);
	return 0;
}

static int op_entity(struct kunit *test, struct mock_ctx *ctx, void *arg)
{
	struct dshim_entity *entity = dshim_entity_create(arg, 0);

	if (IS_ERR(entity))
		return PTR_ERR(entity);
	dshim_entity_put(entity);
	return 0;
}

static int op_queue_desc(const struct dshim_sched_desc *desc)
{
	struct dshim_queue *queue = dshim_queue_create(desc);

	if (IS_ERR(queue))
		return PTR_ERR(queue);
	dshim_queue_put(queue);
	return 0;
}

static int op_queue(struct kunit *test, struct mock_ctx *ctx, void *arg)
{
	struct dshim_sched_desc desc = mock_desc(ctx, "queue");

	return op_queue_desc(&desc);
}

/* a queue whose scheduler owns its data (mock_ops_release) */
static int op_queue_release(struct kunit *test, struct mock_ctx *ctx,
			    void *arg)
{
	struct dshim_sched_desc desc = mock_desc(ctx, "queue-release");

	desc.ops = &mock_ops_release;
	return op_queue_desc(&desc);
}

/*
 * create a job (its payload allocates the hardware fence), add three
 * dependencies (two signalled, one not: the shim makes a dependency fence
 * of its own for that one), submit it and wait for it
 */
static int op_job(struct kunit *test, struct mock_ctx *ctx, void *arg)
{
	struct dma_fence *dep, *fence, *gate;
	struct dshim_job *job;
	int ret;

	job = mock_job_create(test, ctx, arg, 0);
	if (IS_ERR(job))
		return PTR_ERR(job);

	dep = dma_fence_get_stub();
	ret = dshim_job_add_dependency(job, dep);
	if (ret)
		goto err_put_job;
	dep = dshim_hw_fence_create(ctx->hw_tl);
	if (IS_ERR(dep)) {
		ret = PTR_ERR(dep);
		goto err_put_job;
	}
	dshim_hw_fence_signal(dep, 0);
	ret = dshim_job_add_dependency(job, dep);
	if (ret)
		goto err_put_job;
	gate = dshim_hw_fence_create(ctx->hw_tl);
	if (IS_ERR(gate)) {
		ret = PTR_ERR(gate);
		goto err_put_job;
	}
	ret = dshim_job_add_dependency(job, dma_fence_get(gate));
	if (ret)
		goto err_put_gate;

	fence = dshim_job_submit(job);
	dshim_hw_fence_signal(gate, 0);
	dma_fence_put(gate);
	if (IS_ERR(fence))
		return PTR_ERR(fence);
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	dma_fence_put(fence);
	return 0;

err_put_gate:
	dshim_hw_fence_signal(gate, 0);
	dma_fence_put(gate);
err_put_job:
	dshim_job_put(job);
	return ret;
}

static void fail_every_point(struct kunit *test, const struct alloc_op *op,
			     void *arg)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_stats baseline;
	unsigned int n;
	int ret;

	dshim_stats_read(&baseline);
	for (n = 1; n <= 64; n++) {
		fail_at = n;
		fail_calls = 0;
		kunit_activate_static_stub(test, dshim_fail_alloc,
					   fail_nth_alloc);
		ret = op->run(test, ctx, arg);
		kunit_deactivate_static_stub(test, dshim_fail_alloc);

		if (fail_calls < n) {
			/* the suite's exit checks the successful attempt */
			KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s", op->what);
			break;
		}
		/* everything the failed attempt allocated goes away */
		dshim_test_expect_stats(test, &baseline);
		KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "%s: failing call %u",
				    op->what, n);
	}
	KUNIT_EXPECT_EQ_MSG(test, n - 1, op->points, "%s", op->what);
	kunit_info(test, "%s: %u allocation failure points unwound\n",
		   op->what, n - 1);
}

/*
 * A queue whose scheduler owns its data: a creation that fails at any
 * point leaves the data to the driver, never releases it; the one that
 * succeeds releases it once, when the queue goes.
 */
static void dshim_alloc_fail_release_priv(struct kunit *test)
{
	static const struct alloc_op op = {
		"queue owning its data", op_queue_release, 5
	};
	struct mock_ctx *ctx = test->priv;

	fail_every_point(test, &op, NULL);
	dshim_flush();
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->releases), 1);
}

/* Timelines, hardware fences, schedulers and queues unwind every failure. */
static void dshim_alloc_fail_create(struct kunit *test)
{
	static const struct alloc_op ops[] = {
		{ "timeline", op_timeline, 1 },
		{ "hw fence", op_hw_fence, 1 },
		{ "hw fence, armed", op_hw_fence_arm, 1 },
		{ "scheduler", op_sched, 2 },
		{ "queue", op_queue, 5 },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		/* the previous operation's success is freed asynchronously */
		dshim_test_expect_stats(test,
					&(struct dshim_stats){ .timelines = 1 });
		fail_every_point(test, &ops[i], NULL);
	}
}

/* Entity creation unwinds every failure, its scheduler unharmed. */
static void dshim_alloc_fail_entity(struct kunit *test)
{
	static const struct alloc_op op = { "entity", op_entity, 2 };
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "sched");
	struct dshim_sched *sched = dshim_sched_create(&desc);

	KUNIT_ASSERT_FALSE(test, IS_ERR(sched));
	fail_every_point(test, &op, sched);
	dshim_sched_put(sched);
}

/*
 * Job creation, dependencies and submission unwind every failure, and
 * every job that was created gets its free.
 */
static void dshim_alloc_fail_job(struct kunit *test)
{
	static const struct alloc_op op = { "job", op_job, 10 };
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "queue");
	struct dshim_queue *queue = dshim_queue_create(&desc);

	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	fail_every_point(test, &op, dshim_queue_entity(queue));
	KUNIT_EXPECT_EQ(test, dshim_queue_wait_idle(queue, 5000), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees),
			atomic_read(&ctx->created));
	dshim_queue_put(queue);
}

static struct kunit_case dshim_alloc_cases[] = {
	KUNIT_CASE(dshim_alloc_fail_create),
	KUNIT_CASE(dshim_alloc_fail_release_priv),
	KUNIT_CASE(dshim_alloc_fail_entity),
	KUNIT_CASE(dshim_alloc_fail_job),
	{}
};

/* dshim_fail_alloc() consults the stub only while the key is on */
static int alloc_suite_init(struct kunit_suite *suite)
{
	static_branch_inc(&dshim_fail_alloc_armed);
	return 0;
}

static void alloc_suite_exit(struct kunit_suite *suite)
{
	static_branch_dec(&dshim_fail_alloc_armed);
}

static struct kunit_suite dshim_alloc_suite = {
	.suite_init = alloc_suite_init,
	.suite_exit = alloc_suite_exit,
	.name = "dshim_alloc_failure",
	.init = mock_suite_init,
	.exit = mock_suite_exit,
	.test_cases = dshim_alloc_cases,
};

kunit_test_suite(dshim_alloc_suite);
