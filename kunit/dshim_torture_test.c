// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: torture test of the DRM scheduler shim.
 *
 * The in-kernel version of "run and kill lots of things in parallel":
 * kthreads bound to every CPU in turn create queues, submit jobs of
 * random durations and kinds with dependencies on other threads' fences,
 * kill queues, and drop their last queue reference from the thread or
 * from inside a job's run or free callback or its completion interrupt.
 * Some jobs also depend on a fence from outside the shim that an hrtimer
 * signals, racing the kill of their queue.
 * Queues are also shared: a thread publishes its queue in a slot, where
 * threads on other CPUs submit to it, kill it and drop it at the same
 * time as its creator. The mock hardware's hrtimers fire on the CPU that
 * ran the job, so completions come from every CPU too. At the end every
 * job must have had exactly one free, every shim object must be gone,
 * and on SMP every CPU must have submitted, killed, dropped and
 * completed jobs.
 *
 * Parameters (kernel command line, dshim_kunit.<name>=<value>):
 * torture_ms, torture_min_jobs, torture_max_ms, torture_threads,
 * torture_seed.
 */

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/moduleparam.h>
#include <linux/prandom.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "dshim_test.h"

static unsigned int torture_ms = 20000;
module_param(torture_ms, uint, 0444);
MODULE_PARM_DESC(torture_ms, "torture: least run time in ms (default 20000)");

static unsigned int torture_min_jobs = 100000;
module_param(torture_min_jobs, uint, 0444);
MODULE_PARM_DESC(torture_min_jobs,
		 "torture: least jobs, run up to 3x torture_ms for them (default 100000)");

static unsigned int torture_max_ms;
module_param(torture_max_ms, uint, 0444);
MODULE_PARM_DESC(torture_max_ms,
		 "torture: stop even short of torture_min_jobs after this (default 3x torture_ms)");

static unsigned int torture_threads;
module_param(torture_threads, uint, 0444);
MODULE_PARM_DESC(torture_threads,
		 "torture: submitting kthreads, bound to the CPUs in turn (default 0: 2 per CPU, at least 4)");

static unsigned int torture_seed;
module_param(torture_seed, uint, 0444);
MODULE_PARM_DESC(torture_seed, "torture: random seed, 0 picks one (default 0)");

#define TORTURE_MAX_THREADS	32
#define TORTURE_RING		256	/* recent fences, dependencies for all */
#define TORTURE_SHARED		8	/* queues that every thread may use */
#define TORTURE_CPUS		64	/* CPUs counted apart (by id modulo) */
/*
 * The test thread and KUnit's runner wait uninterruptibly for the whole
 * run: it must end well within KUnit's 300 s per case, drain included.
 */
#define TORTURE_MAX_MS		200000
#define TORTURE_MAX_JOBS	48	/* per queue */
#define TORTURE_BACKLOG		4096	/* jobs created but not yet freed */
#define TORTURE_DRAIN_MS	60000

struct torture {
	struct mock_ctx *ctx;
	unsigned long end;		/* jiffies: the least run time */
	unsigned long hard_end;		/* jiffies: stop even short of jobs */
	spinlock_t ring_lock;		/* ring, ring_next, shared */
	struct dma_fence *ring[TORTURE_RING];
	unsigned int ring_next;
	struct dshim_queue *shared[TORTURE_SHARED]; /* a reference each */
	struct cpumask bound;		/* CPUs with a thread bound to them */
	atomic_long_t jobs;
	atomic_long_t queues;
	atomic_long_t kills;
	atomic_long_t refused;
	atomic_long_t parked;
	atomic_long_t shared_uses;
	atomic_long_t foreign;
	struct torture_cpu {
		atomic_long_t submits;
		atomic_long_t kills;
		atomic_long_t puts;
	} cpu[TORTURE_CPUS];
};

/* Completions by CPU: the mock's hw_signal hook has only the mock_ctx. */
static atomic_long_t torture_hw_signals[TORTURE_CPUS];

static struct torture_cpu *torture_this_cpu(struct torture *t)
{
	return &t->cpu[raw_smp_processor_id() % TORTURE_CPUS];
}

static void torture_hw_signal(struct mock_ctx *ctx, unsigned int id)
{
	atomic_long_inc(&torture_hw_signals[raw_smp_processor_id() % TORTURE_CPUS]);
}

static void torture_kill(struct torture *t, struct dshim_queue *queue)
{
	dshim_queue_kill(queue);
	atomic_long_inc(&t->kills);
	atomic_long_inc(&torture_this_cpu(t)->kills);
}

static void torture_put(struct torture *t, struct dshim_queue *queue)
{
	if (!queue)
		return;
	dshim_queue_put(queue);
	atomic_long_inc(&torture_this_cpu(t)->puts);
}

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
	if (time_after(jiffies, READ_ONCE(t->hard_end)))
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
 * A fence from outside the shim (another driver's, say), signalled by a
 * hardirq hrtimer in up to 1 ms, often after the queue of the job that
 * depends on it was killed: the shim's dependency fence races the two.
 */
struct torture_foreign {
	struct dma_fence base;	/* first: dma_fence_free() kfree_rcu()s it */
	spinlock_t lock;	/* the fence's */
	struct hrtimer timer;
};

static const char *torture_foreign_name(struct dma_fence *fence)
{
	return "dshim-torture-foreign";
}

static const struct dma_fence_ops torture_foreign_ops = {
	.get_driver_name = torture_foreign_name,
	.get_timeline_name = torture_foreign_name,
};

static enum hrtimer_restart torture_foreign_fire(struct hrtimer *timer)
{
	struct torture_foreign *tf = container_of(timer, struct torture_foreign,
						  timer);

	dma_fence_signal(&tf->base);
	/* the timer's reference; the fence is freed after RCU */
	dma_fence_put(&tf->base);
	return HRTIMER_NORESTART;
}

/* A new foreign fence (the caller's reference), or NULL. */
static struct dma_fence *torture_foreign(struct torture_thread *th)
{
	struct torture_foreign *tf = kzalloc_obj(*tf, GFP_KERNEL);

	if (!tf)
		return NULL;
	spin_lock_init(&tf->lock);
	dma_fence_init(&tf->base, &torture_foreign_ops, &tf->lock,
		       dma_fence_context_alloc(1), 1);
	dshim_compat_hrtimer_setup(&tf->timer, torture_foreign_fire,
				   CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	dma_fence_get(&tf->base);
	hrtimer_start(&tf->timer, ns_to_ktime((u64)rnd_below(th, 1000) * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_HARD);
	atomic_long_inc(&th->t->foreign);
	return &tf->base;
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
		/* a kill from the callback or interrupt, on whatever CPU */
		mj->kill_at_drop = !rnd_below(th, 16);
		*parked = true;
		atomic_long_inc(&t->parked);
	} else {
		if (rnd_below(th, 2))
			dshim_job_add_dependency(job, torture_ring_pick(th));
		if (!rnd_below(th, 16))
			dshim_job_add_dependency(job, torture_foreign(th));
	}

	fence = dshim_job_submit(job);
	atomic_long_inc(&t->jobs);
	atomic_long_inc(&torture_this_cpu(t)->submits);
	if (IS_ERR(fence)) {
		atomic_long_inc(&t->refused);
		return;
	}
	torture_ring_add(t, fence);
}

/*
 * Use a queue another thread published, at the same time as the threads
 * on the other CPUs: submit to it, kill it, or take it out of its slot and
 * drop the slot's reference; or publish @mine in a slot, dropping the
 * reference of the queue it displaces. The hardware must not hang a
 * shared queue for good: only @mine's timeout is known, so jobs submitted
 * to another thread's queue never hang.
 */
static void torture_share(struct torture_thread *th, struct dshim_queue *mine)
{
	struct torture *t = th->t;
	u32 slot = rnd_below(th, TORTURE_SHARED);
	struct dshim_queue *queue, *old = NULL;
	bool parked = true;	/* no callback drops of foreign queues */
	u32 what = rnd_below(th, 8), i;

	spin_lock(&t->ring_lock);
	if (!what) {
		old = t->shared[slot];
		t->shared[slot] = dshim_queue_get(mine);
		queue = NULL;
	} else if (what == 1) {
		queue = t->shared[slot];	/* the slot's reference is ours */
		t->shared[slot] = NULL;
	} else {
		queue = t->shared[slot] ? dshim_queue_get(t->shared[slot]) : NULL;
	}
	spin_unlock(&t->ring_lock);

	if (old)
		torture_put(t, old);
	if (!queue)
		return;
	atomic_long_inc(&t->shared_uses);
	if (what == 2)
		torture_kill(t, queue);
	else
		for (i = 0; i < 1 + rnd_below(th, 4); i++)
			torture_job(th, queue, false, &parked);
	torture_put(t, queue);
}

/* One queue's life; @first: kill it for sure (every CPU kills). */
static void torture_round(struct torture_thread *th, bool first)
{
	struct torture *t = th->t;
	struct dshim_sched_desc desc = mock_desc(t->ctx, "torture");
	struct dshim_queue *queue;
	bool parked = false;
	u32 n, i;

	/* submitting threads outrun the freeing: keep the backlog bounded */
	while (atomic_read(&t->ctx->created) - atomic_read(&t->ctx->frees) >
	       TORTURE_BACKLOG && !time_after(jiffies, READ_ONCE(t->hard_end)))
		usleep_range(500, 1000);

	desc.credit_limit = 1 + rnd_below(th, 8);
	desc.timeout_ms = rnd_below(th, 4) ? 0 : 5;
	/* half the queues without a timeout run idle-time jobs in submit */
	if (!desc.timeout_ms && rnd_below(th, 2))
		desc.flags = DSHIM_QUEUE_DIRECT_SUBMIT;
	queue = dshim_queue_create(&desc);
	if (IS_ERR(queue))
		return;
	atomic_long_inc(&t->queues);

	n = 1 + rnd_below(th, TORTURE_MAX_JOBS);
	for (i = 0; i < n; i++) {
		torture_job(th, queue, desc.timeout_ms, &parked);
		if (!rnd_below(th, 4 * TORTURE_MAX_JOBS))
			torture_kill(t, queue);
		if (!rnd_below(th, 8))
			torture_share(th, queue);
	}
	if (first)
		torture_kill(t, queue);
	if (rnd_below(th, 2))
		usleep_range(rnd_below(th, 500), 500);
	torture_put(t, queue);
}

static int torture_thread_fn(void *arg)
{
	struct torture_thread *th = arg;

	bool first = true;

	while (!torture_done(th->t)) {
		torture_round(th, first);
		first = false;
		cond_resched();
	}
	complete(&th->done);
	return 0;
}

/*
 * Whether every CPU a thread was bound to submitted, killed, dropped and
 * completed jobs; prints the per-CPU figures.
 */
static bool torture_every_cpu(struct kunit *test, struct torture *t)
{
	unsigned int cpu;
	bool all = true;

	for_each_cpu(cpu, &t->bound) {
		struct torture_cpu *c = &t->cpu[cpu % TORTURE_CPUS];
		long signals = atomic_long_read(&torture_hw_signals[cpu % TORTURE_CPUS]);

		kunit_info(test, "cpu %u: %ld submits, %ld kills, %ld queue puts, %ld hardware completions\n",
			   cpu, atomic_long_read(&c->submits), atomic_long_read(&c->kills),
			   atomic_long_read(&c->puts), signals);
		if (!atomic_long_read(&c->submits) || !atomic_long_read(&c->kills) ||
		    !atomic_long_read(&c->puts) || !signals)
			all = false;
	}
	return all;
}

/* Threads submitting, killing and dropping at random, then a full count. */
static void dshim_torture_queues(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	unsigned int nthreads = torture_threads ?: max(4U, 2 * num_online_cpus());
	u32 seed = torture_seed ?: get_random_u32() ?: 1;
	unsigned int max_ms = min(torture_max_ms ?: 3 * torture_ms, TORTURE_MAX_MS);
	struct torture_thread *threads;
	ktime_t start = ktime_get();
	struct torture *t;
	unsigned int i;

	nthreads = clamp(nthreads, 1U, (unsigned int)TORTURE_MAX_THREADS);
	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	threads = kunit_kcalloc(test, nthreads, sizeof(*threads), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_ASSERT_NOT_NULL(test, threads);
	t->ctx = ctx;
	spin_lock_init(&t->ring_lock);
	t->end = jiffies + msecs_to_jiffies(torture_ms);
	t->hard_end = jiffies + msecs_to_jiffies(max(max_ms, torture_ms));
	ctx->timeout_error = -ETIMEDOUT;
	for (i = 0; i < TORTURE_CPUS; i++)
		atomic_long_set(&torture_hw_signals[i], 0);
	ctx->hw_signal = torture_hw_signal;
	kunit_info(test, "seed %u, %u threads, %u CPUs, at least %u ms and %u jobs (at most %u ms)\n",
		   seed, nthreads, num_online_cpus(), torture_ms, torture_min_jobs,
		   max(max_ms, torture_ms));

	/* one thread per online CPU in turn (the test does no CPU hotplug) */
	for (i = 0; i < nthreads; i++) {
		unsigned int cpu = cpumask_nth(i % num_online_cpus(), cpu_online_mask);
		struct task_struct *task;

		threads[i].t = t;
		prandom_seed_state(&threads[i].rnd, (u64)seed + i);
		init_completion(&threads[i].done);
		task = kthread_create(torture_thread_fn, &threads[i],
				      "dshim-torture/%u", i);
		if (IS_ERR(task)) {
			KUNIT_FAIL(test, "kthread_create: %ld", PTR_ERR(task));
			/* the threads started stop now; the count below runs */
			WRITE_ONCE(t->hard_end, jiffies);
			nthreads = i;
			break;
		}
		kthread_bind(task, cpu);
		cpumask_set_cpu(cpu, &t->bound);
		wake_up_process(task);
	}
	for (i = 0; i < nthreads; i++)
		wait_for_completion(&threads[i].done);
	for (i = 0; i < TORTURE_SHARED; i++)
		torture_put(t, t->shared[i]);
	for (i = 0; i < TORTURE_RING; i++)
		dma_fence_put(t->ring[i]);

	/* every job freed exactly once: the suite exit counts the rest */
	for (i = 0; i < TORTURE_DRAIN_MS / 100 &&
	     atomic_read(&ctx->frees) < atomic_read(&ctx->created); i++)
		msleep(100);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees),
			atomic_read(&ctx->created));
	kunit_info(test,
		   "%lld ms: %ld jobs (%ld refused after a kill), %ld queues, %ld kills, %ld queue refs dropped in callbacks, %ld uses of shared queues, %ld foreign dependencies; %d ran, %d cancelled, %d timed out, %d freed of %d created\n",
		   ktime_ms_delta(ktime_get(), start), atomic_long_read(&t->jobs),
		   atomic_long_read(&t->refused), atomic_long_read(&t->queues),
		   atomic_long_read(&t->kills), atomic_long_read(&t->parked),
		   atomic_long_read(&t->shared_uses), atomic_long_read(&t->foreign),
		   atomic_read(&ctx->runs), atomic_read(&ctx->cancels),
		   atomic_read(&ctx->timeouts), atomic_read(&ctx->frees),
		   atomic_read(&ctx->created));
	KUNIT_EXPECT_GE(test, atomic_long_read(&t->jobs), (long)torture_min_jobs);
	/* hammered from everywhere, not from one CPU at a time */
	KUNIT_EXPECT_TRUE_MSG(test, torture_every_cpu(test, t),
			      "some CPU did not submit, kill, drop and complete");
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
