// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: torture test of the DRM scheduler shim.
 *
 * The in-kernel version of "run and kill lots of things in parallel":
 * several kthreads create queues, submit jobs of random durations and
 * kinds with dependencies on other threads' fences, kill queues, and drop
 * their last queue reference from the test thread or from inside a job's
 * run or free callback or its completion interrupt. At the end every job
 * must have had exactly one free and every shim object must be gone.
 *
 * Parameters (kernel command line, dshim_kunit.<name>=<value>):
 * torture_ms, torture_min_jobs, torture_threads, torture_seed.
 */

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/moduleparam.h>
#include <linux/prandom.h>
#include <linux/random.h>

#include "dshim_test.h"

static unsigned int torture_ms = 20000;
module_param(torture_ms, uint, 0444);
MODULE_PARM_DESC(torture_ms, "torture: least run time in ms (default 20000)");

static unsigned int torture_min_jobs = 100000;
module_param(torture_min_jobs, uint, 0444);
MODULE_PARM_DESC(torture_min_jobs,
		 "torture: least jobs, run up to 3x torture_ms for them (default 100000)");

static unsigned int torture_threads = 4;
module_param(torture_threads, uint, 0444);
MODULE_PARM_DESC(torture_threads, "torture: submitting kthreads (default 4)");

static unsigned int torture_seed;
module_param(torture_seed, uint, 0444);
MODULE_PARM_DESC(torture_seed, "torture: random seed, 0 picks one (default 0)");

#define TORTURE_MAX_THREADS	16
#define TORTURE_RING		256	/* recent fences, dependencies for all */
#define TORTURE_MAX_JOBS	48	/* per queue */
#define TORTURE_BACKLOG		4096	/* jobs created but not yet freed */
#define TORTURE_DRAIN_MS	60000

struct torture {
	struct mock_ctx *ctx;
	unsigned long end;		/* jiffies: the least run time */
	unsigned long hard_end;		/* jiffies: stop even short of jobs */
	spinlock_t ring_lock;		/* ring, ring_next */
	struct dma_fence *ring[TORTURE_RING];
	unsigned int ring_next;
	atomic_long_t jobs;
	atomic_long_t queues;
	atomic_long_t kills;
	atomic_long_t refused;
	atomic_long_t parked;
};

struct torture_thread {
	struct torture *t;
	struct rnd_state rnd;
	struct completion done;
};

static u32 rnd_below(struct torture_thread *th, u32 n)
{
	return prandom_u32_state(&th->rnd) % n;
}

static bool torture_done(struct torture *t)
{
	if (time_after(jiffies, t->hard_end))
		return true;
	return time_after(jiffies, t->end) &&
	       atomic_long_read(&t->jobs) >= torture_min_jobs;
}

/* Keep @fence (a reference passes to the ring) as a future dependency. */
static void torture_ring_add(struct torture *t, struct dma_fence *fence)
{
	struct dma_fence *old;

	spin_lock(&t->ring_lock);
	old = t->ring[t->ring_next];
	t->ring[t->ring_next] = fence;
	t->ring_next = (t->ring_next + 1) % TORTURE_RING;
	spin_unlock(&t->ring_lock);
	dma_fence_put(old);
}

/* A new reference to a random recent fence, or NULL. */
static struct dma_fence *torture_ring_pick(struct torture_thread *th)
{
	struct torture *t = th->t;
	struct dma_fence *fence;

	spin_lock(&t->ring_lock);
	fence = dma_fence_get(t->ring[rnd_below(th, TORTURE_RING)]);
	spin_unlock(&t->ring_lock);
	return fence;
}

/*
 * One job of a random kind. Jobs that hang get a queue with a timeout, so
 * that they end by themselves; a queue reference is parked only in jobs
 * that neither hang nor depend on anything, so that no drop waits on a
 * job that waits on the drop.
 */
static void torture_job(struct torture_thread *th, struct dshim_queue *queue,
			bool may_hang, bool *parked)
{
	struct torture *t = th->t;
	struct mock_ctx *ctx = t->ctx;
	struct dshim_job *job;
	struct dma_fence *fence;
	struct mock_job *mj;
	u32 kind = rnd_below(th, 100);

	mj = mock_job_alloc(ctx, kind < 25 ? 0 : rnd_below(th, 200));
	if (!mj)
		return;
	if (kind >= 90 && kind < 95 && may_hang)
		mj->duration_us = MOCK_HANG;
	else if (kind >= 95 && kind < 98)
		mj->duration_us = MOCK_NO_FENCE;
	else if (kind >= 98)
		mj->run_error = -EIO;

	job = mock_job_wrap(ctx, dshim_queue_entity(queue), mj);
	if (IS_ERR(job)) {
		atomic_long_inc(&t->refused);
		return;
	}

	if (!*parked && mj->duration_us != MOCK_HANG && !rnd_below(th, 8)) {
		static const enum mock_where places[] = {
			MOCK_IN_RUN, MOCK_IN_FREE, MOCK_IN_HARDIRQ,
		};

		mj->drop_where = places[rnd_below(th, ARRAY_SIZE(places))];
		mj->drop_queue = dshim_queue_get(queue);
		*parked = true;
		atomic_long_inc(&t->parked);
	} else if (rnd_below(th, 2)) {
		dshim_job_add_dependency(job, torture_ring_pick(th));
	}

	fence = dshim_job_submit(job);
	atomic_long_inc(&t->jobs);
	if (IS_ERR(fence)) {
		atomic_long_inc(&t->refused);
		return;
	}
	torture_ring_add(t, fence);
}

static void torture_round(struct torture_thread *th)
{
	struct torture *t = th->t;
	struct dshim_sched_desc desc = mock_desc(t->ctx, "torture");
	struct dshim_queue *queue;
	bool parked = false;
	u32 n, i;

	/* submitting threads outrun the freeing: keep the backlog bounded */
	while (atomic_read(&t->ctx->created) - atomic_read(&t->ctx->frees) >
	       TORTURE_BACKLOG && !time_after(jiffies, t->hard_end))
		usleep_range(500, 1000);

	desc.credit_limit = 1 + rnd_below(th, 8);
	desc.timeout_ms = rnd_below(th, 4) ? 0 : 5;
	queue = dshim_queue_create(&desc);
	if (IS_ERR(queue))
		return;
	atomic_long_inc(&t->queues);

	n = 1 + rnd_below(th, TORTURE_MAX_JOBS);
	for (i = 0; i < n; i++) {
		torture_job(th, queue, desc.timeout_ms, &parked);
		if (!rnd_below(th, 4 * TORTURE_MAX_JOBS)) {
			dshim_queue_kill(queue);
			atomic_long_inc(&t->kills);
		}
	}
	if (rnd_below(th, 2))
		usleep_range(rnd_below(th, 500), 500);
	dshim_queue_put(queue);
}

static int torture_thread_fn(void *arg)
{
	struct torture_thread *th = arg;

	while (!torture_done(th->t)) {
		torture_round(th);
		cond_resched();
	}
	complete(&th->done);
	return 0;
}

/* Threads submitting, killing and dropping at random, then a full count. */
static void dshim_torture_queues(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	unsigned int nthreads = clamp(torture_threads, 1U,
				      (unsigned int)TORTURE_MAX_THREADS);
	u32 seed = torture_seed ?: get_random_u32() ?: 1;
	struct torture_thread *threads;
	ktime_t start = ktime_get();
	struct torture *t;
	unsigned int i;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	threads = kunit_kcalloc(test, nthreads, sizeof(*threads), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_ASSERT_NOT_NULL(test, threads);
	t->ctx = ctx;
	spin_lock_init(&t->ring_lock);
	t->end = jiffies + msecs_to_jiffies(torture_ms);
	t->hard_end = jiffies + msecs_to_jiffies(3 * torture_ms);
	ctx->timeout_error = -ETIMEDOUT;
	kunit_info(test, "seed %u, %u threads, at least %u ms and %u jobs\n",
		   seed, nthreads, torture_ms, torture_min_jobs);

	for (i = 0; i < nthreads; i++) {
		struct task_struct *task;

		threads[i].t = t;
		prandom_seed_state(&threads[i].rnd, (u64)seed + i);
		init_completion(&threads[i].done);
		task = kthread_run(torture_thread_fn, &threads[i],
				   "dshim-torture/%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	}
	for (i = 0; i < nthreads; i++)
		wait_for_completion(&threads[i].done);
	for (i = 0; i < TORTURE_RING; i++)
		dma_fence_put(t->ring[i]);

	/* every job freed exactly once: the suite exit counts the rest */
	for (i = 0; i < TORTURE_DRAIN_MS / 100 &&
	     atomic_read(&ctx->frees) < atomic_read(&ctx->created); i++)
		msleep(100);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees),
			atomic_read(&ctx->created));
	kunit_info(test,
		   "%lld ms: %ld jobs (%ld refused after a kill), %ld queues, %ld kills, %ld queue refs dropped in callbacks; %d ran, %d cancelled, %d timed out, %d freed of %d created\n",
		   ktime_ms_delta(ktime_get(), start), atomic_long_read(&t->jobs),
		   atomic_long_read(&t->refused), atomic_long_read(&t->queues),
		   atomic_long_read(&t->kills), atomic_long_read(&t->parked),
		   atomic_read(&ctx->runs), atomic_read(&ctx->cancels),
		   atomic_read(&ctx->timeouts), atomic_read(&ctx->frees),
		   atomic_read(&ctx->created));
	KUNIT_EXPECT_GE(test, atomic_long_read(&t->jobs), (long)torture_min_jobs);
}

static struct kunit_case dshim_torture_cases[] = {
	KUNIT_CASE_SLOW(dshim_torture_queues),
	{}
};

static struct kunit_suite dshim_torture_suite = {
	.name = "dshim_torture",
	.init = mock_suite_init,
	.exit = mock_suite_exit,
	.test_cases = dshim_torture_cases,
};

kunit_test_suite(dshim_torture_suite);
