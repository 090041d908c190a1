// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: teardown orders that crash raw drm_sched, run against the shim.
 *
 * Each case drops references in an order a driver meets when a process is
 * killed or a queue is banned; the suite exit checks that every shim
 * object was freed and every job got exactly one free. KASAN, lockdep and
 * debug objects (see kunit/.kunitconfig) check the rest.
 */

#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "../c-shim/internal.h"
#include "dshim_test.h"

#define NJOBS 4

static void noop_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
}

/*
 * Rule 1 of drm_sched: a scheduler torn down while jobs are on the
 * hardware. Their hardware fences signal after the driver dropped every
 * reference, with no cancel op: the scheduler's memory must still be
 * there for drm_sched_job_done().
 */
static void dshim_teardown_jobs_on_hw(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "ring");
	struct dma_fence *fences[NJOBS];
	struct dshim_entity *entity;
	struct dshim_sched *sched;
	int i;

	desc.ops = &mock_ops_no_cancel;
	entity = mock_sched_entity(test, &desc, &sched);
	for (i = 0; i < NJOBS; i++) {
		fences[i] = mock_submit(test, ctx, entity, 30000);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fences[i]));
	}
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, NJOBS));

	dshim_entity_put(entity);
	dshim_sched_put(sched);
	/* the hrtimers signal the hardware fences ~30 ms later */
	for (i = 0; i < NJOBS; i++) {
		KUNIT_EXPECT_TRUE(test, mock_wait_fence(fences[i]));
		KUNIT_EXPECT_EQ(test, fences[i]->error, 0);
		dma_fence_put(fences[i]);
	}
}

/*
 * Rule 2: the entity of a dying process is killed (jobs freed later from
 * work items) and the scheduler is torn down right after.
 */
static void dshim_teardown_kill_then_sched_put(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "dying");
	struct dma_fence *fences[NJOBS];
	struct dshim_entity *entity;
	struct dshim_sched *sched;
	int i;

	desc.credit_limit = 1;
	entity = mock_sched_entity(test, &desc, &sched);
	for (i = 0; i < NJOBS; i++) {
		fences[i] = mock_submit(test, ctx, entity, 1000);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fences[i]));
	}

	dshim_entity_kill(entity);
	dshim_entity_put(entity);
	dshim_sched_put(sched);
	for (i = 0; i < NJOBS; i++) {
		KUNIT_EXPECT_TRUE(test, mock_wait_fence(fences[i]));
		/* ran to completion, cancelled on the hw, or never ran */
		KUNIT_EXPECT_TRUE(test, !fences[i]->error ||
				  fences[i]->error == -ECANCELED);
		dma_fence_put(fences[i]);
	}
}

static const struct mock_where_case drop_cases[] = {
	{ "in run", MOCK_IN_RUN, 0, 0 },
	{ "in timedout", MOCK_IN_TIMEDOUT, MOCK_HANG, 10 },
	{ "in cancel", MOCK_IN_CANCEL, MOCK_HANG, 0 },
	{ "in free", MOCK_IN_FREE, 0, 0 },
	{ "in hardirq", MOCK_IN_HARDIRQ, 200, 0 },
	{ "in softirq", MOCK_IN_SOFTIRQ, 200, 0 },
};

KUNIT_ARRAY_PARAM(drop, drop_cases, mock_where_case_to_desc);

/*
 * Rule 4: the last reference of a queue dropped from inside a callback
 * (free runs on the scheduler's own workqueue, which teardown flushes) or
 * from interrupt context. The test thread holds nothing but the fence.
 */
static void dshim_teardown_last_put_in_callback(struct kunit *test)
{
	const struct mock_where_case *c = test->param_value;
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_where_desc(ctx, c, "drop");
	struct dshim_queue *queue;
	struct dma_fence *fence;

	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));

	if (c->where == MOCK_IN_CANCEL) {
		/* shutdown calls cancel; cancel drops the last reference */
		mock_park_queue(ctx, dshim_queue_get(queue));
		fence = mock_submit(test, ctx, dshim_queue_entity(queue),
				    c->duration_us);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
		KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, 1));
		dshim_queue_kill(queue);
		dshim_queue_put(queue);
	} else {
		/* the callback drops the test's only reference */
		mock_park_queue(ctx, queue);
		fence = mock_submit(test, ctx, dshim_queue_entity(queue),
				    c->duration_us);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	}

	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_TRUE(test, mock_wait_atomic(&ctx->frees, 1));
	KUNIT_EXPECT_FALSE(test, mock_parked(ctx));
	dma_fence_put(fence);
}

/*
 * Rules 3 and 5: exported fences outlive the scheduler, its entity and
 * the driver's workqueues; the scheduler's memory (drm_sched's state
 * included: it is embedded) is gone while they live, the workqueues the
 * driver gave it can be destroyed, and everything one does with a fence
 * still works.
 */
static void dshim_teardown_fences_outlive_everything(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "dead-queue");
	struct dma_fence *fences[NJOBS], *fence;
	struct dshim_queue *queue, *other;
	struct dma_fence_cb cb;
	struct dshim_stats s;
	struct dshim_job *job;
	struct dma_fence *last;
	char buf[128] = {}, want[128];
	struct seq_file m = { .buf = buf, .size = sizeof(buf) - 1 };
	int i;

	desc.submit_wq = alloc_ordered_workqueue("dshim-test-submit", 0);
	KUNIT_ASSERT_NOT_NULL(test, desc.submit_wq);
	desc.timeout_wq = alloc_ordered_workqueue("dshim-test-timeout", 0);
	KUNIT_ASSERT_NOT_NULL(test, desc.timeout_wq);
	desc.timeout_ms = 10000;
	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	for (i = 0; i < NJOBS; i++) {
		fences[i] = mock_submit(test, ctx, dshim_queue_entity(queue),
					100);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fences[i]));
	}
	/* let them complete: dropping the queue now would cancel them */
	for (i = 0; i < NJOBS; i++)
		KUNIT_EXPECT_TRUE(test, mock_wait_fence(fences[i]));
	dshim_queue_put(queue);

	/* only the fences and their timelines remain */
	s = (struct dshim_stats){ .fences = NJOBS, .timelines = 2 };
	dshim_test_expect_stats(test, &s);
	/* nothing of the scheduler is left on the driver's workqueues */
	destroy_workqueue(desc.submit_wq);
	destroy_workqueue(desc.timeout_wq);
	desc.submit_wq = NULL;
	desc.timeout_wq = NULL;
	desc.timeout_ms = 0;

	dma_fence_describe(fences[NJOBS - 1], &m);
	dshim_test_describe_expect(want, sizeof(want), fences[NJOBS - 1],
				   "dead-queue", true);
	KUNIT_EXPECT_STREQ(test, buf, want);
	/* the shim's ops answer whoever asks, with everything else gone */
	last = fences[NJOBS - 1];
	KUNIT_EXPECT_STREQ(test, dshim_fence_ops_of(last)->get_timeline_name(last),
			   "dead-queue");
	for (i = 0; i < NJOBS; i++) {
		KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(fences[i], false,
							     1), 0);
		KUNIT_EXPECT_EQ(test, dma_fence_add_callback(fences[i], &cb,
							     noop_cb),
				-ENOENT);
		KUNIT_EXPECT_EQ(test, fences[i]->error, 0);
	}

	/* a dead queue's fences are fine dependencies of a live queue */
	desc.name = "live-queue";
	other = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(other));
	job = mock_job_create(test, ctx, dshim_queue_entity(other), 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	for (i = 0; i < NJOBS; i++)
		KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(job, fences[i]),
				0);
	fence = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	KUNIT_EXPECT_TRUE(test, mock_wait_fence(fence));
	KUNIT_EXPECT_EQ(test, fence->error, 0);
	dma_fence_put(fence);
	dshim_queue_put(other);
}

/* Wait until no scheduler, entity or job of the shim is left. */
static bool no_sched_entity_job(void)
{
	unsigned long end = jiffies + msecs_to_jiffies(5000);
	struct dshim_stats s;

	for (;;) {
		dshim_stats_read(&s);
		if (!s.scheds && !s.entities && !s.jobs)
			return true;
		if (time_after(jiffies, end))
			return false;
		usleep_range(500, 1000);
	}
}

/*
 * Issue 15, defect 5: an entity killed while its job waits on a dependency
 * from outside the shim that never comes. drm_sched's kill waits for every
 * dependency of a killed job; the job's fence, the job, its entity and
 * scheduler waited with it, for good. The kill must cancel the job now:
 * its fence signals -ECANCELED and everything but the fences goes, while
 * the dependency is still pending.
 */
static void dshim_teardown_kill_waiting_on_dependency(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "waiting");
	struct dma_fence *dep, *fence;
	struct dshim_queue *queue;
	struct dshim_job *job;

	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	dep = dshim_hw_fence_create(ctx->hw_tl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(dep));
	job = mock_job_create(test, ctx, dshim_queue_entity(queue), 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(job, dma_fence_get(dep)),
			0);
	fence = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));

	dshim_queue_put(queue);
	KUNIT_EXPECT_TRUE_MSG(test, mock_wait_fence(fence),
			      "the killed job's fence waits for its dependency");
	KUNIT_EXPECT_EQ(test, fence->error, -ECANCELED);
	KUNIT_EXPECT_TRUE_MSG(test, no_sched_entity_job(),
			      "the killed queue's objects wait for its dependency");
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(dep));
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 0);
	dshim_hw_fence_signal(dep, 0);
	dma_fence_put(dep);
	dma_fence_put(fence);
}

/*
 * A dependency from outside added to a job of an entity already killed:
 * the job is refused at submit and freed, without waiting for it.
 */
static void dshim_teardown_dependency_after_kill(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "late");
	struct dma_fence *dep, *fence;
	struct dshim_sched *sched;
	struct dshim_entity *entity;
	struct dshim_job *job;
	unsigned long end;

	entity = mock_sched_entity(test, &desc, &sched);
	job = mock_job_create(test, ctx, entity, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	dshim_entity_kill(entity);
	/* the kill's work has cancelled the entity's dependencies */
	end = jiffies + msecs_to_jiffies(5000);
	while (!READ_ONCE(entity->deps_cancelled) && time_before(jiffies, end))
		usleep_range(200, 500);
	KUNIT_ASSERT_TRUE(test, READ_ONCE(entity->deps_cancelled));

	dep = dshim_hw_fence_create(ctx->hw_tl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(dep));
	KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(job, dma_fence_get(dep)), 0);
	fence = dshim_job_submit(job);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(fence), -ESHUTDOWN);
	dshim_entity_put(entity);
	dshim_sched_put(sched);
	KUNIT_EXPECT_TRUE(test, no_sched_entity_job());
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	dshim_hw_fence_signal(dep, 0);
	dma_fence_put(dep);
}

struct counted_cb {
	struct dma_fence_cb cb;
	atomic_t *calls;
};

static void counted_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	atomic_inc(container_of(cb, struct counted_cb, cb)->calls);
}

/*
 * Callbacks added to and removed from fences whose queue was dropped
 * while their jobs were on the hardware (no cancel op: the hardware
 * finishes them later). The callbacks that stay run once, when the
 * hardware signals; removed ones never.
 */
static void dshim_teardown_fence_callbacks_after_put(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "gone");
	struct counted_cb cbs[NJOBS];
	struct dma_fence *fences[NJOBS];
	struct dshim_queue *queue;
	atomic_t calls = ATOMIC_INIT(0);
	int i;

	desc.ops = &mock_ops_no_cancel;
	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	for (i = 0; i < NJOBS; i++) {
		fences[i] = mock_submit(test, ctx, dshim_queue_entity(queue),
					MOCK_HANG);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fences[i]));
	}
	KUNIT_EXPECT_TRUE(test, mock_wait_on_hw(ctx, NJOBS));
	dshim_queue_put(queue);

	for (i = 0; i < NJOBS; i++) {
		cbs[i].calls = &calls;
		KUNIT_EXPECT_EQ(test, dma_fence_add_callback(fences[i],
							     &cbs[i].cb,
							     counted_cb), 0);
	}
	/* the odd ones change their mind */
	for (i = 1; i < NJOBS; i += 2)
		KUNIT_EXPECT_TRUE(test, dma_fence_remove_callback(fences[i],
								  &cbs[i].cb));

	KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, NJOBS, 0), NJOBS);
	for (i = 0; i < NJOBS; i++) {
		KUNIT_EXPECT_TRUE(test, mock_wait_fence(fences[i]));
		KUNIT_EXPECT_EQ(test, fences[i]->error, 0);
		dma_fence_put(fences[i]);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&calls), NJOBS / 2);
}

/*
 * The timeout path as a driver meets it: a job hangs, timedout bans the
 * queue (fails the job, drops the driver's last reference from inside the
 * callback); the jobs queued behind it never run.
 */
static void dshim_teardown_timeout_bans_queue(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_sched_desc desc = mock_desc(ctx, "banned");
	struct dma_fence *fences[NJOBS];
	struct dshim_queue *queue;
	int i;

	/* no cancel op: the ban's -ETIMEDOUT is the only end of the job */
	desc.ops = &mock_ops_no_cancel;
	desc.credit_limit = 1;
	desc.timeout_ms = 20;
	ctx->timeout_error = -ETIMEDOUT;
	ctx->timeout_status = DSHIM_TIMEOUT_CONTINUE;
	ctx->drop_in = MOCK_IN_TIMEDOUT;
	queue = dshim_queue_create(&desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(queue));
	for (i = 0; i < NJOBS; i++) {
		fences[i] = mock_submit(test, ctx, dshim_queue_entity(queue),
					MOCK_HANG);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fences[i]));
	}
	/* the test's only reference: timedout drops it */
	mock_park_queue(ctx, queue);

	for (i = 0; i < NJOBS; i++)
		KUNIT_EXPECT_TRUE(test, mock_wait_fence(fences[i]));
	KUNIT_EXPECT_EQ(test, fences[0]->error, -ETIMEDOUT);
	for (i = 1; i < NJOBS; i++)
		KUNIT_EXPECT_EQ(test, fences[i]->error, -ECANCELED);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->timeouts), 1);
	KUNIT_EXPECT_FALSE(test, mock_parked(ctx));
	for (i = 0; i < NJOBS; i++)
		dma_fence_put(fences[i]);
}

#define STRESS_QUEUES	4
#define STRESS_JOBS	32
#define STRESS_MS	3000

/*
 * Submit one job with a random duration to @queue, maybe depending on one
 * of the @n fences so far; store its fence at @fences[@n]. Returns 1, or 0
 * if the queue was killed.
 */
static int stress_submit(struct kunit *test, struct dshim_queue *queue,
			 struct dma_fence **fences, int n)
{
	struct mock_ctx *ctx = test->priv;
	struct dshim_job *job;
	struct dma_fence *dep;

	job = mock_job_create(test, ctx, dshim_queue_entity(queue),
			      get_random_u32_below(300));
	if (IS_ERR(job)) {
		KUNIT_EXPECT_EQ(test, PTR_ERR(job), -ESHUTDOWN);
		return 0;
	}
	if (n && get_random_u32_below(2)) {
		dep = dma_fence_get(fences[get_random_u32_below(n)]);
		KUNIT_EXPECT_EQ(test, dshim_job_add_dependency(job, dep), 0);
	}
	fences[n] = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fences[n]));
	return 1;
}

/*
 * Many short jobs with cross-queue dependencies and queues dropped at
 * random points while they run: the races between completion, free,
 * kill and teardown get hit many times. (The long torture run is a
 * separate, configurable test.)
 */
static void dshim_teardown_stress(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	unsigned long end = jiffies + msecs_to_jiffies(STRESS_MS);
	struct dma_fence *fences[STRESS_QUEUES * STRESS_JOBS];
	struct dshim_queue *queues[STRESS_QUEUES];
	unsigned int rounds = 0, submitted = 0;
	int q, j, n;

	while (time_before(jiffies, end)) {
		n = 0;
		for (q = 0; q < STRESS_QUEUES; q++) {
			struct dshim_sched_desc desc = mock_desc(ctx, "stress");

			desc.credit_limit = 1 + get_random_u32_below(8);
			queues[q] = dshim_queue_create(&desc);
			KUNIT_ASSERT_FALSE(test, IS_ERR(queues[q]));
		}
		for (j = 0; j < STRESS_JOBS; j++) {
			for (q = 0; q < STRESS_QUEUES; q++)
				n += stress_submit(test, queues[q], fences, n);
			/* now and then a queue dies mid-stream */
			if (!get_random_u32_below(STRESS_JOBS))
				dshim_queue_kill(queues[get_random_u32_below(STRESS_QUEUES)]);
		}
		submitted += n;
		/* let some run, then drop the queues in a random order */
		usleep_range(get_random_u32_below(1000), 1000);
		j = get_random_u32_below(STRESS_QUEUES);
		for (q = 0; q < STRESS_QUEUES; q++)
			dshim_queue_put(queues[(q + j) % STRESS_QUEUES]);
		for (j = 0; j < n; j++) {
			KUNIT_EXPECT_TRUE(test, mock_wait_fence(fences[j]));
			dma_fence_put(fences[j]);
		}
		rounds++;
	}
	kunit_info(test, "%u rounds, %u jobs, %d ran, %d cancelled\n", rounds,
		   submitted, atomic_read(&ctx->runs),
		   atomic_read(&ctx->cancels));
}

static struct kunit_case dshim_teardown_cases[] = {
	KUNIT_CASE(dshim_teardown_jobs_on_hw),
	KUNIT_CASE(dshim_teardown_kill_then_sched_put),
	KUNIT_CASE_PARAM(dshim_teardown_last_put_in_callback,
			 drop_gen_params),
	KUNIT_CASE(dshim_teardown_fences_outlive_everything),
	KUNIT_CASE(dshim_teardown_kill_waiting_on_dependency),
	KUNIT_CASE(dshim_teardown_dependency_after_kill),
	KUNIT_CASE(dshim_teardown_fence_callbacks_after_put),
	KUNIT_CASE(dshim_teardown_timeout_bans_queue),
	KUNIT_CASE_SLOW(dshim_teardown_stress),
	{}
};

static struct kunit_suite dshim_teardown_suite = {
	.name = "dshim_teardown",
	.init = mock_suite_init,
	.exit = mock_suite_exit,
	.test_cases = dshim_teardown_cases,
};

kunit_test_suite(dshim_teardown_suite);
