// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite dshim_vgpu_engine: vgpu's hardware runs a queue's jobs one
 * at a time and in order, so the fences of one context signal in order;
 * a hanging job holds up the jobs behind it until it is stopped, and a
 * job stopped behind it signals after it; a job freed while queued leaves
 * the engine.
 */

#include <drm/drm_sched_shim.h>
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/ktime.h>

#include "vgpu_drv.h"

#define JOBS	3

struct engine_test {
	struct vgpu_engine *engine;
	struct dshim_timeline *tl;
	struct vgpu_hw_job hw[JOBS];
	struct dma_fence *fence[JOBS];
	atomic_t signalled;
	int order[JOBS];	/* job index by signal position */
};

static void engine_test_signal(struct dma_fence *fence, int error)
{
	dshim_hw_fence_signal(fence, error);
}

/* Callbacks record the order in which the jobs' fences signal. */
struct order_cb {
	struct dma_fence_cb cb;
	struct engine_test *t;
	int job;
};

static void order_cb_func(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct order_cb *ocb = container_of(cb, struct order_cb, cb);
	int pos = atomic_inc_return(&ocb->t->signalled) - 1;

	if (pos < JOBS)
		ocb->t->order[pos] = ocb->job;
}

static int engine_test_init(struct kunit *test)
{
	struct engine_test *t;
	int i;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->engine = vgpu_engine_create();
	KUNIT_ASSERT_NOT_NULL(test, t->engine);
	t->tl = dshim_timeline_create("vgpu-engine-test");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t->tl));
	for (i = 0; i < JOBS; i++) {
		vgpu_hw_job_init(&t->hw[i], t->engine, engine_test_signal);
		t->fence[i] = dshim_hw_fence_create(t->tl);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t->fence[i]));
		t->order[i] = -1;
	}
	test->priv = t;
	return 0;
}

static void engine_test_exit(struct kunit *test)
{
	struct engine_test *t = test->priv;
	int i;

	for (i = 0; i < JOBS; i++) {
		/* nothing may stay on the hardware: fail what did */
		vgpu_hw_job_stop(&t->hw[i], -ECANCELED);
		vgpu_hw_job_fini(&t->hw[i]);
		/* a fence is not dropped unsignalled (-EALREADY if it is) */
		dshim_hw_fence_signal(t->fence[i], -ECANCELED);
		dma_fence_put(t->fence[i]);
	}
	dshim_timeline_put(t->tl);
	vgpu_engine_put(t->engine);
}

static void watch_order(struct kunit *test, struct engine_test *t,
			struct order_cb *ocb)
{
	int i;

	for (i = 0; i < JOBS; i++) {
		ocb[i].t = t;
		ocb[i].job = i;
		KUNIT_ASSERT_EQ(test, dma_fence_add_callback(t->fence[i],
							     &ocb[i].cb,
							     order_cb_func), 0);
	}
}

/* A long job first: the short ones behind it still complete after it. */
static void dshim_vgpu_engine_in_order(struct kunit *test)
{
	struct engine_test *t = test->priv;
	static const u32 us[JOBS] = { 5000, 100, 100 };
	struct order_cb ocb[JOBS];
	int i;

	watch_order(test, t, ocb);
	for (i = 0; i < JOBS; i++)
		vgpu_hw_job_start(&t->hw[i], t->fence[i], us[i], false);
	KUNIT_ASSERT_GT(test, dma_fence_wait_timeout(t->fence[JOBS - 1], false,
						     HZ), 0);
	for (i = 0; i < JOBS; i++) {
		KUNIT_EXPECT_EQ(test, t->order[i], i);
		KUNIT_EXPECT_EQ(test, t->fence[i]->error, 0);
	}
}

/* A hang holds up the queue until it is stopped; then the next runs. */
static void dshim_vgpu_engine_hang_holds_up(struct kunit *test)
{
	struct engine_test *t = test->priv;

	vgpu_hw_job_start(&t->hw[0], t->fence[0], 0, true);
	vgpu_hw_job_start(&t->hw[1], t->fence[1], 100, false);
	msleep(20);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(t->fence[1]));

	KUNIT_EXPECT_TRUE(test, vgpu_hw_job_stop(&t->hw[0], -ETIMEDOUT));
	KUNIT_EXPECT_EQ(test, t->fence[0]->error, -ETIMEDOUT);
	KUNIT_ASSERT_GT(test, dma_fence_wait_timeout(t->fence[1], false, HZ),
			0);
	KUNIT_EXPECT_EQ(test, t->fence[1]->error, 0);
}

/* Stopping a job that completed changes nothing and says so. */
static void dshim_vgpu_engine_stop_after_done(struct kunit *test)
{
	struct engine_test *t = test->priv;

	vgpu_hw_job_start(&t->hw[0], t->fence[0], 100, false);
	KUNIT_ASSERT_GT(test, dma_fence_wait_timeout(t->fence[0], false, HZ),
			0);
	KUNIT_EXPECT_FALSE(test, vgpu_hw_job_stop(&t->hw[0], -ECANCELED));
	KUNIT_EXPECT_EQ(test, t->fence[0]->error, 0);
}

/* A queued job freed behind a running one leaves the engine. */
static void dshim_vgpu_engine_fini_queued(struct kunit *test)
{
	struct engine_test *t = test->priv;

	vgpu_hw_job_start(&t->hw[0], t->fence[0], 0, true);
	vgpu_hw_job_start(&t->hw[1], t->fence[1], 100, false);
	vgpu_hw_job_start(&t->hw[2], t->fence[2], 100, false);
	vgpu_hw_job_fini(&t->hw[1]);
	vgpu_hw_job_init(&t->hw[1], t->engine, engine_test_signal);

	KUNIT_EXPECT_TRUE(test, vgpu_hw_job_stop(&t->hw[0], -ECANCELED));
	KUNIT_ASSERT_GT(test, dma_fence_wait_timeout(t->fence[2], false, HZ),
			0);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(t->fence[1]));
}

/*
 * A job stopped while it waits behind the running one (a cancel) signals
 * after it, not at once: the fences of one context signal in order, and
 * a consumer that keeps only the latest fence of a context (drm_sched's
 * dependencies, dma_resv) would otherwise take the running job for done.
 */
static void dshim_vgpu_engine_stop_behind_in_order(struct kunit *test)
{
	struct engine_test *t = test->priv;
	struct order_cb ocb[JOBS];

	watch_order(test, t, ocb);
	vgpu_hw_job_start(&t->hw[0], t->fence[0], 0, true);
	vgpu_hw_job_start(&t->hw[1], t->fence[1], 100, false);
	vgpu_hw_job_start(&t->hw[2], t->fence[2], 0, true);

	KUNIT_EXPECT_TRUE(test, vgpu_hw_job_stop(&t->hw[1], -ECANCELED));
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(t->fence[1]));
	/* stopped once: a second stop (a timeout after the cancel) is not */
	KUNIT_EXPECT_FALSE(test, vgpu_hw_job_stop(&t->hw[1], -ETIMEDOUT));

	KUNIT_EXPECT_TRUE(test, vgpu_hw_job_stop(&t->hw[0], -ETIMEDOUT));
	KUNIT_EXPECT_TRUE(test, dma_fence_is_signaled(t->fence[1]));
	KUNIT_EXPECT_EQ(test, t->order[0], 0);
	KUNIT_EXPECT_EQ(test, t->order[1], 1);
	KUNIT_EXPECT_EQ(test, t->fence[1]->error, -ECANCELED);
	/* the hang behind them now runs, until it is stopped too */
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(t->fence[2]));
	/* (before @ocb, on this stack, goes) */
	KUNIT_EXPECT_TRUE(test, vgpu_hw_job_stop(&t->hw[2], -ECANCELED));
	KUNIT_EXPECT_EQ(test, t->order[2], 2);
}

static struct engine_test *slow_test;

static void engine_test_signal_slow(struct dma_fence *fence, int error)
{
	struct engine_test *t = slow_test;
	ktime_t end;

	/* as a run on another CPU may: a job reaches the engine meanwhile */
	vgpu_hw_job_start(&t->hw[JOBS - 1], t->fence[JOBS - 1], 0, false);
	/*
	 * A timer armed for the next job has all it needs to fire first:
	 * 50 ms, by the clock (UML's delay loops are not calibrated).
	 */
	end = ktime_add_ms(ktime_get(), 50);
	while (!dma_fence_is_signaled(t->fence[1]) && ktime_before(ktime_get(), end))
		cpu_relax();
	dshim_hw_fence_signal(fence, error);
}

/*
 * Issue 15, defect 7: a job stopped at the head of the engine (a timeout,
 * a cancel) signals its fence before the next job starts. The next ones
 * take 0 us: had the next been started before the stop signalled, by the
 * stop or by a job reaching the engine meanwhile, its fence would signal
 * first, out of order on the one context. The stopped job's signal is
 * made slow to hold that window open, and a job is started within it.
 */
static void dshim_vgpu_engine_stop_in_order(struct kunit *test)
{
	struct engine_test *t = test->priv;
	struct order_cb ocb[JOBS];
	int i;

	watch_order(test, t, ocb);
	slow_test = t;
	t->hw[0].signal = engine_test_signal_slow;
	vgpu_hw_job_start(&t->hw[0], t->fence[0], 0, true);
	/* the last one comes during the stop's signal */
	for (i = 1; i < JOBS - 1; i++)
		vgpu_hw_job_start(&t->hw[i], t->fence[i], 0, false);
	KUNIT_EXPECT_TRUE(test, vgpu_hw_job_stop(&t->hw[0], -ETIMEDOUT));
	KUNIT_ASSERT_GT(test, dma_fence_wait_timeout(t->fence[JOBS - 1], false,
						     HZ), 0);
	for (i = 0; i < JOBS; i++)
		KUNIT_EXPECT_EQ_MSG(test, t->order[i], i, "signal %d", i);
	KUNIT_EXPECT_EQ(test, t->fence[0]->error, -ETIMEDOUT);
}

static struct kunit_case dshim_vgpu_engine_cases[] = {
	KUNIT_CASE(dshim_vgpu_engine_in_order),
	KUNIT_CASE(dshim_vgpu_engine_hang_holds_up),
	KUNIT_CASE(dshim_vgpu_engine_stop_after_done),
	KUNIT_CASE(dshim_vgpu_engine_fini_queued),
	KUNIT_CASE(dshim_vgpu_engine_stop_in_order),
	KUNIT_CASE(dshim_vgpu_engine_stop_behind_in_order),
	{}
};

static struct kunit_suite dshim_vgpu_engine_suite = {
	.name = "dshim_vgpu_engine",
	.init = engine_test_init,
	.exit = engine_test_exit,
	.test_cases = dshim_vgpu_engine_cases,
};

kunit_test_suite(dshim_vgpu_engine_suite);
