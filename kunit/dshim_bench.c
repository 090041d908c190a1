// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmarks: the shim against a raw drm_sched driver, side by side in one
 * boot, on the same mock hardware (CONFIG_DRM_SCHED_SHIM_BENCH).
 *
 * Four drivers: "raw", raw drm_sched with its default workqueue (one per
 * scheduler); "raw_shared", raw drm_sched with one workqueue the driver
 * shares between its schedulers; "shim"; and "shim_direct", the shim's
 * queues with %DSHIM_QUEUE_DIRECT_SUBMIT. Each queue runs on mock hardware
 * of its own (a ring and a hardware timeline; up to BENCH_CTXS queues), as
 * firmware-scheduled hardware gives each queue a ring: the drivers share
 * no lock the hardware would not. The timed workloads submit from one
 * thread per online CPU, all at once.
 *
 * Every workload runs through every driver, alternating which goes first,
 * for a fixed number of rounds, and reports medians (or figures over all
 * rounds) as lines
 *
 *	bench: <key> <unit> raw=<v> raw_shared=<v> shim=<v> shim_direct=<v>
 *
 * with "-" for a driver the workload does not measure; the latency of an
 * idle queue also as distributions, for a chart,
 *
 *	bench-cdf: <metric> <driver> ns <permille>:<value> ...
 *
 * and how CPU time was measured as "bench-info: cpu_accounting=<how>".
 * scripts/bench-table.py turns them into a table. No case fails on a
 * figure: only a workload that does not complete, an allocation that
 * fails or a leak fails one.
 */

#include <linux/atomic.h>
#include <linux/build_bug.h>
#include <linux/cache.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/kernel_stat.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/tick.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "../c-shim/internal.h"
#include "dshim_bench.h"

#define BENCH_ROUNDS		15
#define BENCH_QUEUE_ROUNDS	3
#define BENCH_JOBS		16384	/* per submitter and throughput round */
#define BENCH_LAT_JOBS		200	/* per submitter and latency round */
#define BENCH_LAT_US		20	/* a latency job's time on the hardware */
#define BENCH_PINNED_FENCES	4096
#define BENCH_WAIT_MS		60000	/* a workload that takes longer failed */
#define BENCH_CTXS		1024	/* mock devices; queue j on j % 1024 */
#define BENCH_CREDITS		64	/* credit limit of the timed queues */

/*
 * &mock_job.id is the submitter in the top bits, the job's number in its
 * round below: the hardware and the drivers hand it back, and the
 * benchmark finds the submitter's counters from it, with nothing shared.
 */
#define BENCH_SEQ_BITS		24
#define BENCH_SEQ_MASK		((1U << BENCH_SEQ_BITS) - 1)
#define BENCH_MAX_SEQS		(BENCH_SEQ_MASK + 1)
#define BENCH_MAX_SUBS		(1U << (32 - BENCH_SEQ_BITS))

/* under load, 1 job in 2^BENCH_STAMP_SHIFT is timed: a clock read costs */
#define BENCH_STAMP_SHIFT	4
#define BENCH_STAMPS		(BENCH_JOBS >> BENCH_STAMP_SHIFT)

static_assert(BENCH_JOBS <= BENCH_MAX_SEQS);
static_assert(BENCH_PINNED_FENCES <= BENCH_MAX_SEQS);
static_assert(BENCH_LAT_JOBS <= BENCH_STAMPS);

/* a figure a driver does not have: printed as "-" */
#define BENCH_NONE		U64_MAX

enum bench_kind {
	BENCH_RAW,
	BENCH_RAW_SHARED,
	BENCH_SHIM,
	BENCH_SHIM_DIRECT,
	BENCH_KINDS
};

static const char *const bench_kind_name[BENCH_KINDS] = {
	"raw", "raw_shared", "shim", "shim_direct",
};

static bool bench_is_shim(enum bench_kind kind)
{
	return kind == BENCH_SHIM || kind == BENCH_SHIM_DIRECT;
}

/*
 * raw_shared's workqueue, the one a driver allocates once for all its
 * schedulers (panthor's flags). Queues that a failed case left behind may
 * still use it: then it is never destroyed.
 */
static struct workqueue_struct *bench_shared_wq;
static atomic_t bench_shared_queues;

/**
 * struct bench_stamp - timestamps of one job, in ns
 * @submit: before the driver's submit call
 * @run: the driver's run callback
 * @signal: right before the hardware signalled the job's fence
 * @free: the driver's free callback
 */
struct bench_stamp {
	u64 submit;
	u64 run;
	u64 signal;
	u64 free;
};

struct bench;

/**
 * struct bench_submitter - a thread that submits jobs, and its jobs' counts
 * @b: the benchmark
 * @task: the thread, bound to @cpu; NULL when the pool is stopped (the
 *	KUnit thread then submits as submitter 0)
 * @cpu: the CPU the thread runs on
 * @index: the submitter's number, in the top bits of its jobs' ids
 * @gen: the last round the thread ran (see &bench.gen)
 * @ran: its jobs that reached run
 * @freed: its jobs freed
 * @target: when @freed reaches it, @t_freed is set and @wq woken
 * @t_freed: when @freed reached @target, in ns; 0: not yet
 * @wq: the submitter waits here for its jobs
 * @error: what stopped its round; 0: nothing
 * @t_first: when its round started, in ns
 * @t_last: when its last submit call returned, in ns
 * @stamps: timestamps of its timed jobs (see bench_stamp_of())
 * @done: completed at the end of each of its rounds
 *
 * Every driver callback updates the counters of the job's submitter
 * only: no counter shared by every CPU on the path of a job. Cache line
 * aligned so that two submitters' counters never share a line.
 */
struct bench_submitter {
	struct bench *b;
	struct task_struct *task;
	unsigned int cpu;
	unsigned int index;
	unsigned int gen;
	atomic_t ran;
	atomic_t freed;
	int target;
	u64 t_freed;
	wait_queue_head_t wq;
	int error;
	u64 t_first;
	u64 t_last;
	struct bench_stamp *stamps;
	struct completion done;
} ____cacheline_aligned_in_smp;

/**
 * struct bench_queue - one queue of any driver
 * @kind: its driver
 * @ctx: the mock hardware it runs on
 * @raw: the queue, for %BENCH_RAW and %BENCH_RAW_SHARED
 * @shim: the queue, for %BENCH_SHIM and %BENCH_SHIM_DIRECT
 */
struct bench_queue {
	enum bench_kind kind;
	struct mock_ctx *ctx;
	union {
		struct braw_queue *raw;
		struct dshim_queue *shim;
	};
};

/**
 * struct bench_round - what every submitter does in a round
 * @kind: the driver
 * @queues: its queues; submitter s puts its job i on queue
 *	(i * submitters + s) % @nq
 * @nq: entries in @queues
 * @njobs: jobs per submitter
 * @duration_us: each job's time on the hardware
 * @one_at_a_time: wait for each job to be freed before the next
 */
struct bench_round {
	enum bench_kind kind;
	struct bench_queue *queues;
	unsigned int nq;
	unsigned int njobs;
	u32 duration_us;
	bool one_at_a_time;
};

/**
 * struct bench_result - what a round measured
 * @jobs: jobs it ran
 * @rate: jobs per second, from the first submit to the last free
 * @busy: CPU time of all online CPUs from its start to the end of its
 *	deferred work, in ns
 * @switches: context switches over the same time
 */
struct bench_result {
	u64 jobs;
	u64 rate;
	u64 busy;
	u64 switches;
};

/**
 * struct bench - state of the running case, in &kunit.priv
 * @test: the case
 * @ctx: %BENCH_CTXS mock devices; queue j runs on device j % %BENCH_CTXS
 * @subs: the submitters, one per online CPU
 * @nr_subs: entries in @subs
 * @go_wq: the submitter threads wait here for a round
 * @gen: the round's number; bumped to start one
 * @round: what the submitters do in the current round
 * @queues: the current workload's queues, per driver
 * @nr_queues: entries in each of @queues
 * @stamping: time jobs, 1 in 2^@stamp_shift
 * @stamp_shift: see @stamping
 * @track_signal: keep @last_signal
 * @last_signal: when the hardware last signalled a fence, in ns
 * @cpu_ticks: some CPU's idle time came from tick samples
 * @submit_ns: per driver, each submitter's submit loop time per job, for
 *	each round
 * @run_ns: per driver, submit to run of each timed job
 * @free_ns: per driver, hardware signal to free of each timed job
 */
struct bench {
	struct kunit *test;
	struct mock_ctx **ctx;
	struct bench_submitter *subs;
	unsigned int nr_subs;
	wait_queue_head_t go_wq;
	unsigned int gen;
	struct bench_round round;
	struct bench_queue *queues[BENCH_KINDS];
	unsigned int nr_queues;
	bool stamping;
	unsigned int stamp_shift;
	bool track_signal;
	u64 last_signal;
	bool cpu_ticks;
	u64 *submit_ns[BENCH_KINDS];
	u64 *run_ns[BENCH_KINDS];
	u64 *free_ns[BENCH_KINDS];
};

static struct bench *bench_of(struct mock_ctx *ctx)
{
	return ctx->test->priv;
}

static unsigned int bench_id(unsigned int submitter, unsigned int seq)
{
	return submitter << BENCH_SEQ_BITS | seq;
}

static struct bench_submitter *bench_submitter_of(struct bench *b,
						  unsigned int id)
{
	unsigned int i = id >> BENCH_SEQ_BITS;

	if (WARN_ON_ONCE(i >= b->nr_subs))
		i = 0;
	return &b->subs[i];
}

/* The timestamps of job @id, if it is one of those timed; else NULL. */
static struct bench_stamp *bench_stamp_of(struct bench *b,
					  struct bench_submitter *s,
					  unsigned int id)
{
	unsigned int seq = id & BENCH_SEQ_MASK;

	if (!READ_ONCE(b->stamping) ||
	    seq & ((1U << b->stamp_shift) - 1))
		return NULL;
	seq >>= b->stamp_shift;
	return seq < BENCH_STAMPS ? &s->stamps[seq] : NULL;
}

static void bench_hw_signal(struct mock_ctx *ctx, unsigned int id)
{
	struct bench *b = bench_of(ctx);
	struct bench_stamp *st = bench_stamp_of(b, bench_submitter_of(b, id),
						id);

	if (st)
		st->signal = ktime_get_ns();
	/* the teardown's only: a clock read and a shared line per job */
	if (READ_ONCE(b->track_signal))
		WRITE_ONCE(b->last_signal, ktime_get_ns());
}

void bench_job_ran(struct mock_job *mj)
{
	struct bench *b = bench_of(mj->ctx);
	struct bench_submitter *s = bench_submitter_of(b, mj->id);
	struct bench_stamp *st = bench_stamp_of(b, s, mj->id);

	if (st)
		st->run = ktime_get_ns();
	atomic_inc(&s->ran);
}

void bench_job_freed(struct mock_ctx *ctx, unsigned int id)
{
	struct bench *b = bench_of(ctx);
	struct bench_submitter *s = bench_submitter_of(b, id);
	struct bench_stamp *st = bench_stamp_of(b, s, id);

	if (st)
		st->free = ktime_get_ns();
	/* one clock read and wake-up per round (per job when one at a time) */
	if (atomic_inc_return(&s->freed) == READ_ONCE(s->target)) {
		/* before the wake-up: the submitter waits for it too */
		WRITE_ONCE(s->t_freed, ktime_get_ns());
		wake_up(&s->wq);
	}
}

/* The shim's side of the benchmark driver: the same hardware calls. */
static struct dma_fence *bshim_run(struct dshim_job *job)
{
	struct mock_job *mj = dshim_job_priv(job);

	bench_job_ran(mj);
	return mock_hw_run(mj);
}

static void bshim_cancel(struct dshim_job *job)
{
	mock_job_complete(dshim_job_priv(job), -ECANCELED);
}

static void bshim_free(struct dshim_job *job)
{
	struct mock_job *mj = dshim_job_priv(job);
	struct mock_ctx *ctx = mj->ctx;
	unsigned int id = mj->id;

	mock_hw_release(mj);
	bench_job_freed(ctx, id);
}

static const struct dshim_sched_ops bshim_ops = {
	.run = bshim_run,
	.cancel = bshim_cancel,
	.free = bshim_free,
};

/* Queue number @j of @kind, on mock device @j % BENCH_CTXS. */
static int bench_queue_create(struct bench *b, enum bench_kind kind,
			      unsigned int j, u32 credit_limit,
			      struct bench_queue *q)
{
	struct mock_ctx *ctx = b->ctx[j % BENCH_CTXS];
	struct dshim_sched_desc desc = {
		.ops = &bshim_ops,
		.priv = ctx,
		.name = "bench",
		.credit_limit = credit_limit,
	};

	q->kind = kind;
	q->ctx = ctx;
	switch (kind) {
	case BENCH_RAW:
		q->raw = braw_queue_create(ctx, "bench", credit_limit, NULL);
		return PTR_ERR_OR_ZERO(q->raw);
	case BENCH_RAW_SHARED:
		q->raw = braw_queue_create(ctx, "bench", credit_limit,
					   bench_shared_wq);
		if (IS_ERR(q->raw))
			return PTR_ERR(q->raw);
		atomic_inc(&bench_shared_queues);
		return 0;
	case BENCH_SHIM_DIRECT:
		desc.flags = DSHIM_QUEUE_DIRECT_SUBMIT;
		fallthrough;
	default:
		q->shim = dshim_queue_create(&desc);
		return PTR_ERR_OR_ZERO(q->shim);
	}
}

/* Raw: returns once all is freed. Shim: returns at once (see the DOC). */
static int bench_queue_destroy(struct bench_queue *q)
{
	int ret;

	switch (q->kind) {
	case BENCH_RAW:
		return braw_queue_destroy(q->raw);
	case BENCH_RAW_SHARED:
		ret = braw_queue_destroy(q->raw);
		if (!ret)
			atomic_dec(&bench_shared_queues);
		return ret;
	default:
		dshim_queue_put(q->shim);
		return 0;
	}
}

/* Submit a job of @duration_us numbered @id; returns its fence. */
static struct dma_fence *bench_submit(struct bench *b, struct bench_queue *q,
				      u32 duration_us, unsigned int id)
{
	struct mock_job *mj = mock_job_alloc(q->ctx, duration_us);
	struct bench_stamp *st;
	struct dshim_job *job;

	if (!mj)
		return ERR_PTR(-ENOMEM);
	mj->id = id;
	st = bench_stamp_of(b, bench_submitter_of(b, id), id);
	if (st)
		st->submit = ktime_get_ns();
	if (!bench_is_shim(q->kind))
		return braw_submit(q->raw, mj);
	job = mock_job_wrap(q->ctx, dshim_queue_entity(q->shim), mj);
	if (IS_ERR(job))
		return ERR_CAST(job);
	return dshim_job_submit(job);
}

/* Create @nq queues of every driver: queue j of each on the same device. */
static void bench_queues_create(struct bench *b, unsigned int nq)
{
	struct kunit *test = b->test;
	unsigned int k, j;
	int ret;

	b->nr_queues = nq;
	for (k = 0; k < BENCH_KINDS; k++) {
		b->queues[k] = kvcalloc(nq, sizeof(*b->queues[k]), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, b->queues[k]);
		for (j = 0; j < nq; j++) {
			ret = bench_queue_create(b, k, j, BENCH_CREDITS,
						 &b->queues[k][j]);
			KUNIT_ASSERT_EQ_MSG(test, ret, 0, "%s: queue %u of %u",
					    bench_kind_name[k], j, nq);
		}
	}
}

/* Destroy them, idle: each device is then without jobs of any queue. */
static void bench_queues_destroy(struct bench *b)
{
	struct kunit *test = b->test;
	unsigned int k, j;

	for (k = 0; k < BENCH_KINDS; k++) {
		for (j = 0; j < b->nr_queues; j++)
			KUNIT_ASSERT_EQ(test,
					bench_queue_destroy(&b->queues[k][j]),
					0);
		kvfree(b->queues[k]);
		b->queues[k] = NULL;
	}
	b->nr_queues = 0;
}

static int bench_ran(struct bench *b)
{
	unsigned int i;
	int n = 0;

	for (i = 0; i < b->nr_subs; i++)
		n += atomic_read(&b->subs[i].ran);
	return n;
}

/* Ready @s for a round (or a workload of the KUnit thread's) of @target. */
static void bench_submitter_reset(struct bench_submitter *s, int target)
{
	atomic_set(&s->ran, 0);
	atomic_set(&s->freed, 0);
	WRITE_ONCE(s->target, target);
	WRITE_ONCE(s->t_freed, 0);
	s->t_first = 0;
	s->t_last = 0;
	s->error = 0;
	memset(s->stamps, 0, BENCH_STAMPS * sizeof(*s->stamps));
	reinit_completion(&s->done);
}

/*
 * Wait until @s's jobs freed reach its target (and, if @timed, the time of
 * the last is written).
 */
static bool bench_submitter_wait(struct bench_submitter *s, bool timed)
{
	return wait_event_timeout(s->wq,
				  atomic_read(&s->freed) >=
				  READ_ONCE(s->target) &&
				  (!timed || READ_ONCE(s->t_freed)),
				  msecs_to_jiffies(BENCH_WAIT_MS)) > 0;
}

/* Workloads of the KUnit thread: it submits as submitter 0. */
static void bench_expect(struct bench *b, int target)
{
	bench_submitter_reset(&b->subs[0], target);
}

static bool bench_wait_freed(struct bench *b)
{
	return bench_submitter_wait(&b->subs[0], false);
}

static bool bench_wait_ran(struct bench *b, int n)
{
	unsigned long end = jiffies + msecs_to_jiffies(BENCH_WAIT_MS);

	while (bench_ran(b) < n) {
		if (time_after(jiffies, end))
			return false;
		usleep_range(100, 200);
	}
	return true;
}

static bool stats_settled(const struct dshim_stats *s,
			  const struct dshim_stats *base)
{
	return s->scheds == base->scheds && s->entities == base->entities &&
	       s->queues == base->queues && s->jobs == base->jobs &&
	       s->fences == base->fences && s->timelines == base->timelines;
}

/*
 * Wait until the shim's live objects are back to @base; returns when that
 * was first seen, in ns, or 0 on timeout. Polls every 10-20 us: the
 * figure is that precise.
 */
static u64 bench_wait_shim_freed(const struct dshim_stats *base)
{
	unsigned long end = jiffies + msecs_to_jiffies(BENCH_WAIT_MS);
	struct dshim_stats s;

	for (;;) {
		dshim_stats_read(&s);
		if (stats_settled(&s, base))
			return ktime_get_ns();
		if (time_after(jiffies, end))
			return 0;
		usleep_range(10, 20);
	}
}

/* Let deferred work of the previous workload finish before timing. */
static void bench_settle(struct bench *b)
{
	dshim_flush();
	rcu_barrier();
}

/*
 * The same, and the frees kfree_rcu() batches, which rcu_barrier() does
 * not wait for: both drivers' fences go that way, and their cost belongs
 * to the round that made them, not to the next (of another driver).
 */
static void bench_settle_all(struct bench *b)
{
	bench_settle(b);
	kvfree_rcu_barrier();
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void bench_sort(u64 *v, unsigned int n)
{
	sort(v, n, sizeof(*v), cmp_u64, NULL);
}

/* Value at @permille of the sorted @v (500: median, 990: p99). */
static u64 bench_at(const u64 *v, unsigned int n, unsigned int permille)
{
	if (!n)
		return BENCH_NONE;
	return v[min_t(u64, n - 1, div_u64((u64)n * permille, 1000))];
}

/* The same, sorting @v first. */
static u64 bench_pct(u64 *v, unsigned int n, unsigned int permille)
{
	bench_sort(v, n);
	return bench_at(v, n, permille);
}

/* One line: @v holds each driver's figure, or BENCH_NONE. */
static void bench_report(struct kunit *test, const char *key,
			 const char *unit, const u64 *v)
{
	char buf[128];
	size_t len = 0;
	unsigned int k;

	for (k = 0; k < BENCH_KINDS; k++) {
		if (v[k] == BENCH_NONE)
			len += scnprintf(buf + len, sizeof(buf) - len, " %s=-",
					 bench_kind_name[k]);
		else
			len += scnprintf(buf + len, sizeof(buf) - len,
					 " %s=%llu", bench_kind_name[k], v[k]);
	}
	kunit_info(test, "bench: %s %s%s\n", key, unit, buf);
}

/* ------------------------------------------------------------ CPU time */

/**
 * struct bench_cpu - a snapshot of the CPUs' idle time
 * @wall: when it was taken, in ns
 * @idle: idle and iowait time of every online CPU since boot, summed, in ns
 * @cpus: online CPUs
 */
struct bench_cpu {
	u64 wall;
	u64 idle;
	unsigned int cpus;
};

/*
 * CPU time is wall time minus idle time, over every online CPU, from the
 * kernel's own accounting: it counts everything a job costs wherever it
 * runs, interrupts, softirqs and RCU callbacks (kfree_rcu(), call_rcu())
 * included. Not the tasks' runtimes: UML's sched_clock() is jiffies, so a
 * task's runtime is 10 ms tick samples, and the softirq and RCU work runs
 * in no task of the benchmark's.
 *
 * get_cpu_idle_time_us() measures with ktime when tickless idle is active:
 * "precise" (CONFIG_NO_HZ_COMMON). On 6.12 it returns -1 otherwise, and the
 * idle time comes from kcpustat, sampled at each tick: "ticks". 7.x's
 * returns the tick-sampled time itself when NO_HZ_COMMON is not built;
 * when it is, it measures the idle periods with the tick stopped and
 * samples those where the tick was kept (an RCU callback pending, say),
 * and nohz=off cannot be told from the outside.
 */
static u64 bench_cpu_idle_ns(struct bench *b, unsigned int cpu)
{
	u64 idle = get_cpu_idle_time_us(cpu, NULL);
	u64 iowait = get_cpu_iowait_time_us(cpu, NULL);

	if (idle != (u64)-1 && iowait != (u64)-1)
		return (idle + iowait) * NSEC_PER_USEC;
	b->cpu_ticks = true;
	return READ_ONCE(kcpustat_cpu(cpu).cpustat[CPUTIME_IDLE]) +
	       READ_ONCE(kcpustat_cpu(cpu).cpustat[CPUTIME_IOWAIT]);
}

static bool bench_cpu_precise(struct bench *b)
{
	return IS_ENABLED(CONFIG_NO_HZ_COMMON) && !b->cpu_ticks;
}

static void bench_cpu_read(struct bench *b, struct bench_cpu *c)
{
	unsigned int cpu;

	c->idle = 0;
	c->cpus = 0;
	c->wall = ktime_get_ns();
	for_each_online_cpu(cpu) {
		c->idle += bench_cpu_idle_ns(b, cpu);
		c->cpus++;
	}
}

/* CPU time between two snapshots, in ns. */
static u64 bench_cpu_busy(const struct bench_cpu *c0,
			  const struct bench_cpu *c1)
{
	u64 wall = (c1->wall - c0->wall) * c1->cpus;
	u64 idle = c1->idle > c0->idle ? c1->idle - c0->idle : 0;

	return wall > idle ? wall - idle : 0;
}

/*
 * Context switches of every thread so far. A thread that exits takes its
 * count with it; the submitters live through every round of a case.
 */
static u64 bench_switches(void)
{
	struct task_struct *p, *t;
	u64 n = 0;

	rcu_read_lock();
	for_each_process_thread(p, t)
		n += READ_ONCE(t->nvcsw) + READ_ONCE(t->nivcsw);
	rcu_read_unlock();
	return n;
}

/* ----------------------------------------------------------- submitters */

/*
 * A submitter's share of the round: its jobs, then the wait for all of
 * them to be freed. Errors go to &bench_submitter.error: KUnit assertions
 * are for the KUnit thread.
 */
static void bench_submitter_run(struct bench_submitter *s)
{
	struct bench *b = s->b;
	const struct bench_round *r = &b->round;
	struct bench_queue *q;
	struct dma_fence *fence;
	unsigned int i;
	int err = 0;

	s->t_first = ktime_get_ns();
	for (i = 0; i < r->njobs; i++) {
		/* with nq a multiple of the submitters, no queue is shared */
		q = &r->queues[(i * b->nr_subs + s->index) % r->nq];
		if (r->one_at_a_time)
			WRITE_ONCE(s->target, i + 1);
		fence = bench_submit(b, q, r->duration_us,
				     bench_id(s->index, i));
		if (IS_ERR(fence)) {
			err = PTR_ERR(fence);
			break;
		}
		dma_fence_put(fence);
		if (r->one_at_a_time && !bench_submitter_wait(s, false)) {
			s->t_last = ktime_get_ns();
			s->error = -ETIMEDOUT;
			return;
		}
	}
	s->t_last = ktime_get_ns();
	if (err) {
		/* the jobs submitted go before the round ends */
		WRITE_ONCE(s->target, i);
		bench_submitter_wait(s, false);
		s->error = err;
		return;
	}
	if (!bench_submitter_wait(s, !r->one_at_a_time))
		s->error = -ETIMEDOUT;
}

/* Whether a round the thread has not run was posted. */
static bool bench_round_posted(struct bench_submitter *s)
{
	/* pairs with bench_round()'s release: the round's parameters */
	return smp_load_acquire(&s->b->gen) != s->gen;
}

/*
 * A submitter thread: a round each time &bench.gen changes. It submits
 * with no KUnit test in current->kunit_test, as a driver would: KUnit's
 * static stub lookups (the shim's allocation-failure hook) cost it
 * nothing, and raw drm_sched has none.
 */
static int bench_submitter_fn(void *arg)
{
	struct bench_submitter *s = arg;
	struct bench *b = s->b;

	for (;;) {
		/* TASK_IDLE: a submitter between rounds is no load */
		wait_event_idle(b->go_wq,
				kthread_should_stop() || bench_round_posted(s));
		if (kthread_should_stop())
			return 0;
		s->gen = READ_ONCE(b->gen);
		bench_submitter_run(s);
		complete(&s->done);
	}
}

/* One submitter thread per online CPU, bound to it, waiting for a round. */
static void bench_pool_start(struct bench *b)
{
	struct kunit *test = b->test;
	struct task_struct *task;
	unsigned int i;

	for (i = 0; i < b->nr_subs; i++) {
		struct bench_submitter *s = &b->subs[i];

		task = kthread_create(bench_submitter_fn, s, "dshim-bench/%u",
				      i);
		KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(task),
				       "kthread_create: %ld", PTR_ERR(task));
		kthread_bind(task, s->cpu);
		/* a round posted before the thread first runs is still its */
		s->gen = b->gen;
		s->task = task;
		wake_up_process(task);
	}
}

/* Stop the threads; one still in a round finishes it first (bounded). */
static void bench_pool_stop(struct bench *b)
{
	unsigned int i;

	for (i = 0; b->subs && i < b->nr_subs; i++) {
		if (b->subs[i].task)
			kthread_stop(b->subs[i].task);
		b->subs[i].task = NULL;
	}
}

/*
 * Run round @r on every submitter at once and measure it. Starts and ends
 * settled: the CPU time includes the round's deferred work, and only its.
 */
static void bench_round(struct bench *b, const struct bench_round *r,
			struct bench_result *res)
{
	struct kunit *test = b->test;
	unsigned long deadline, left;
	struct bench_submitter *s;
	struct bench_cpu c0, c1;
	u64 sw0, sw1, t0 = U64_MAX, t1 = 0;
	unsigned int i;
	bool done;

	b->round = *r;
	for (i = 0; i < b->nr_subs; i++)
		bench_submitter_reset(&b->subs[i],
				      r->one_at_a_time ? 0 : r->njobs);
	sw0 = bench_switches();
	bench_cpu_read(b, &c0);
	/* the submitters see all of the above once they see the new round */
	smp_store_release(&b->gen, b->gen + 1);
	wake_up_all(&b->go_wq);

	/* a submitter's waits time out first: it then reports the error */
	deadline = jiffies + msecs_to_jiffies(BENCH_WAIT_MS * 3 / 2);
	for (i = 0; i < b->nr_subs; i++) {
		s = &b->subs[i];
		left = time_before(jiffies, deadline) ? deadline - jiffies : 1;
		done = wait_for_completion_timeout(&s->done, left);
		KUNIT_ASSERT_TRUE_MSG(test, done, "%s: submitter %u stuck",
				      bench_kind_name[r->kind], i);
	}
	for (i = 0; i < b->nr_subs; i++) {
		s = &b->subs[i];
		KUNIT_ASSERT_EQ_MSG(test, s->error, 0,
				    "%s: submitter %u: %d of %d jobs freed",
				    bench_kind_name[r->kind], i,
				    atomic_read(&s->freed), s->target);
		t0 = min(t0, s->t_first);
		t1 = max(t1, READ_ONCE(s->t_freed));
	}
	bench_settle_all(b);
	bench_cpu_read(b, &c1);
	sw1 = bench_switches();

	res->jobs = (u64)b->nr_subs * r->njobs;
	res->rate = div64_u64(res->jobs * NSEC_PER_SEC,
			      t1 > t0 ? t1 - t0 : 1);
	res->busy = bench_cpu_busy(&c0, &c1);
	res->switches = sw1 > sw0 ? sw1 - sw0 : 0;
}

/*
 * Collect the timed jobs of the round that just ended: submit to run into
 * @run, hardware signal to free into @free. Returns how many.
 */
static unsigned int bench_collect(struct bench *b, unsigned int nstamps,
				  u64 *run, u64 *free)
{
	const struct bench_stamp *st;
	unsigned int i, j, n = 0;

	for (i = 0; i < b->nr_subs; i++) {
		for (j = 0; j < nstamps; j++) {
			st = &b->subs[i].stamps[j];
			/* every timed job completes; be safe all the same */
			if (!st->submit || st->run < st->submit ||
			    !st->signal || st->free < st->signal)
				continue;
			run[n] = st->run - st->submit;
			free[n] = st->free - st->signal;
			n++;
		}
	}
	return n;
}

static void bench_stamps_on(struct bench *b, unsigned int shift)
{
	b->stamp_shift = shift;
	WRITE_ONCE(b->stamping, true);
}

static void bench_stamps_off(struct bench *b)
{
	WRITE_ONCE(b->stamping, false);
}

/* Buffers for every driver's samples over all the rounds of a workload. */
static void bench_samples_alloc(struct bench *b)
{
	struct kunit *test = b->test;
	size_t n = (size_t)BENCH_ROUNDS * b->nr_subs * BENCH_STAMPS;
	unsigned int k;

	for (k = 0; k < BENCH_KINDS; k++) {
		b->submit_ns[k] = kvcalloc(BENCH_ROUNDS * b->nr_subs,
					   sizeof(u64), GFP_KERNEL);
		b->run_ns[k] = kvcalloc(n, sizeof(u64), GFP_KERNEL);
		b->free_ns[k] = kvcalloc(n, sizeof(u64), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, b->submit_ns[k]);
		KUNIT_ASSERT_NOT_NULL(test, b->run_ns[k]);
		KUNIT_ASSERT_NOT_NULL(test, b->free_ns[k]);
	}
}

/*
 * Report the latency percentiles of @n[k] samples of each driver, keys
 * latency_{run,free}_p{50,99}@suffix. Sorts the samples.
 */
static void bench_report_latency(struct bench *b, const char *suffix,
				 const unsigned int *n)
{
	static const unsigned int permille[] = { 500, 990 };
	u64 v[BENCH_KINDS];
	unsigned int k, p, f;
	char key[48];

	for (k = 0; k < BENCH_KINDS; k++) {
		bench_sort(b->run_ns[k], n[k]);
		bench_sort(b->free_ns[k], n[k]);
	}
	for (f = 0; f < 2; f++) {
		for (p = 0; p < ARRAY_SIZE(permille); p++) {
			for (k = 0; k < BENCH_KINDS; k++)
				v[k] = bench_at(f ? b->free_ns[k] :
						    b->run_ns[k],
						n[k], permille[p]);
			snprintf(key, sizeof(key), "latency_%s_p%u%s",
				 f ? "free" : "run", permille[p] / 10, suffix);
			bench_report(b->test, key, "ns", v);
		}
	}
}

/* ---------------------------------------------------------------- floor */

struct bench_fence {
	struct dma_fence base;	/* first: dma_fence_free() kfree_rcu()s it */
	spinlock_t lock;	/* the fence's */
	struct dma_fence_cb cb;
};

static const char *bench_fence_name(struct dma_fence *fence)
{
	return "dshim_bench";
}

static const struct dma_fence_ops bench_fence_ops = {
	.get_driver_name = bench_fence_name,
	.get_timeline_name = bench_fence_name,
};

static atomic_t bench_fence_cbs;

static void bench_fence_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	atomic_inc(&bench_fence_cbs);
}

/* ns for @n bare fences: allocated, given a callback, signalled, put. */
static u64 bench_floor_once(unsigned int n)
{
	u64 context = dma_fence_context_alloc(1);
	struct bench_fence *f;
	unsigned int i;
	u64 t0;

	atomic_set(&bench_fence_cbs, 0);
	t0 = ktime_get_ns();
	for (i = 0; i < n; i++) {
		f = kzalloc_obj(*f, GFP_KERNEL);
		if (!f)
			return 0;
		spin_lock_init(&f->lock);
		dma_fence_init(&f->base, &bench_fence_ops, &f->lock, context,
			       i + 1);
		dma_fence_add_callback(&f->base, &f->cb, bench_fence_cb);
		dma_fence_signal(&f->base);
		dma_fence_put(&f->base);
	}
	if (atomic_read(&bench_fence_cbs) != n)
		return 0;
	return ktime_get_ns() - t0;
}

/*
 * The floor: ns for BENCH_JOBS bare fences (median of the rounds), on the
 * KUnit thread alone.
 */
static u64 bench_floor_ns(struct kunit *test)
{
	u64 v[BENCH_ROUNDS];
	unsigned int r;

	for (r = 0; r < BENCH_ROUNDS; r++) {
		v[r] = bench_floor_once(BENCH_JOBS);
		KUNIT_ASSERT_NE_MSG(test, v[r], 0, "floor round %u failed", r);
		rcu_barrier();
	}
	return bench_pct(v, BENCH_ROUNDS, 500);
}

/* ----------------------------------------------------------- throughput */

/*
 * Every submitter submits BENCH_JOBS zero-duration jobs over @nq queues,
 * then waits for them to be freed; BENCH_ROUNDS rounds per driver. The
 * queues of every driver are created first, untimed, and live through
 * all the rounds. Reports jobs/s, CPU time and context switches per job,
 * and the latency of 1 job in 16; @med gets each driver's median jobs/s.
 */
static void bench_throughput_nq(struct bench *b, unsigned int nq, u64 *med)
{
	struct kunit *test = b->test;
	struct bench_round r = { .nq = nq, .njobs = BENCH_JOBS };
	u64 rate[BENCH_KINDS][BENCH_ROUNDS];
	u64 busy[BENCH_KINDS] = {}, sw[BENCH_KINDS] = {};
	u64 jobs[BENCH_KINDS] = {}, v[BENCH_KINDS];
	unsigned int nsub[BENCH_KINDS] = {}, nlat[BENCH_KINDS] = {};
	struct bench_submitter *s;
	struct bench_result res;
	unsigned int rd, i, k;
	char key[48];

	bench_queues_create(b, nq);
	bench_settle_all(b);
	bench_stamps_on(b, BENCH_STAMP_SHIFT);
	for (rd = 0; rd < BENCH_ROUNDS; rd++) {
		for (i = 0; i < BENCH_KINDS; i++) {
			/* alternate which driver goes first */
			k = (i + rd) % BENCH_KINDS;
			r.kind = k;
			r.queues = b->queues[k];
			bench_round(b, &r, &res);
			rate[k][rd] = res.rate;
			busy[k] += res.busy;
			sw[k] += res.switches;
			jobs[k] += res.jobs;
			for (s = b->subs; s < b->subs + b->nr_subs; s++)
				b->submit_ns[k][nsub[k]++] =
					div_u64(s->t_last - s->t_first,
						BENCH_JOBS);
			nlat[k] += bench_collect(b, BENCH_STAMPS,
						 b->run_ns[k] + nlat[k],
						 b->free_ns[k] + nlat[k]);
		}
	}
	bench_stamps_off(b);
	bench_queues_destroy(b);
	bench_settle(b);

	for (k = 0; k < BENCH_KINDS; k++)
		med[k] = bench_pct(rate[k], BENCH_ROUNDS, 500);
	snprintf(key, sizeof(key), "throughput_%uq", nq);
	bench_report(test, key, "jobs/s", med);

	if (nq == 1) {
		for (k = 0; k < BENCH_KINDS; k++)
			v[k] = bench_pct(b->submit_ns[k], nsub[k], 500);
		bench_report(test, "submit_1q", "ns", v);
	}

	for (k = 0; k < BENCH_KINDS; k++)
		v[k] = div64_u64(busy[k], max(jobs[k], 1ULL));
	snprintf(key, sizeof(key), "cpu_per_job_%uq", nq);
	bench_report(test, key, "ns", v);

	for (k = 0; k < BENCH_KINDS; k++)
		v[k] = div64_u64(sw[k] * 1000, max(jobs[k], 1ULL));
	snprintf(key, sizeof(key), "switches_per_job_%uq", nq);
	bench_report(test, key, "x1000", v);

	snprintf(key, sizeof(key), "_%uq", nq);
	bench_report_latency(b, key, nlat);
}

static const unsigned int bench_queue_counts[] = { 1, 16, 256, 1024 };

static void bench_throughput(struct kunit *test)
{
	struct bench *b = test->priv;
	u64 med[BENCH_KINDS], rate_1q[BENCH_KINDS] = {}, v[BENCH_KINDS];
	u64 floor_ns = bench_floor_ns(test);
	unsigned int n, k;

	bench_samples_alloc(b);
	bench_pool_start(b);
	for (n = 0; n < ARRAY_SIZE(bench_queue_counts); n++) {
		bench_throughput_nq(b, bench_queue_counts[n], med);
		if (bench_queue_counts[n] == 1)
			memcpy(rate_1q, med, sizeof(rate_1q));
	}
	bench_pool_stop(b);
	kunit_info(test, "bench-info: cpu_accounting=%s\n",
		   bench_cpu_precise(b) ? "precise" : "ticks");

	/*
	 * A job at one queue costs this many bare fences (x1000): how far
	 * each driver is from the floor of one fence and one callback.
	 */
	for (k = 0; k < BENCH_KINDS; k++)
		v[k] = div64_u64(NSEC_PER_SEC * 1000ULL * BENCH_JOBS,
				 max(rate_1q[k], 1ULL) * max(floor_ns, 1ULL));
	bench_report(test, "floor_multiple_1q", "x1000", v);
	floor_ns = div64_u64((u64)BENCH_JOBS * NSEC_PER_SEC,
			     max(floor_ns, 1ULL));
	for (k = 0; k < BENCH_KINDS; k++)
		v[k] = floor_ns;
	bench_report(test, "floor_rate", "fences/s", v);
}

/* -------------------------------------------------------------- latency */

/* the distribution points of the latency chart, in permille */
static const unsigned int bench_cdf_permille[] = {
	10, 50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 950, 990, 999,
};

/* One "bench-cdf:" line of the sorted @v. */
static void bench_report_cdf(struct kunit *test, const char *metric,
			     enum bench_kind kind, const u64 *v,
			     unsigned int n)
{
	char buf[384];
	size_t len = 0;
	unsigned int i;

	if (!n)
		return;
	for (i = 0; i < ARRAY_SIZE(bench_cdf_permille); i++)
		len += scnprintf(buf + len, sizeof(buf) - len, " %u:%llu",
				 bench_cdf_permille[i],
				 bench_at(v, n, bench_cdf_permille[i]));
	kunit_info(test, "bench-cdf: %s %s ns%s\n", metric,
		   bench_kind_name[kind], buf);
}

/*
 * The latency of idle queues: each submitter on a queue of its own, one
 * BENCH_LAT_US job at a time, every CPU at once.
 */
static void bench_latency(struct kunit *test)
{
	struct bench *b = test->priv;
	struct bench_round r = {
		.nq = b->nr_subs,
		.njobs = BENCH_LAT_JOBS,
		.duration_us = BENCH_LAT_US,
		.one_at_a_time = true,
	};
	unsigned int n[BENCH_KINDS] = {};
	struct bench_result res;
	unsigned int rd, i, k;

	bench_samples_alloc(b);
	bench_queues_create(b, r.nq);
	bench_pool_start(b);
	bench_settle_all(b);
	bench_stamps_on(b, 0);
	for (rd = 0; rd < BENCH_ROUNDS; rd++) {
		for (i = 0; i < BENCH_KINDS; i++) {
			k = (i + rd) % BENCH_KINDS;
			r.kind = k;
			r.queues = b->queues[k];
			bench_round(b, &r, &res);
			n[k] += bench_collect(b, BENCH_LAT_JOBS,
					      b->run_ns[k] + n[k],
					      b->free_ns[k] + n[k]);
		}
	}
	bench_stamps_off(b);
	bench_pool_stop(b);
	bench_queues_destroy(b);

	bench_report_latency(b, "", n);	/* sorts the samples */
	for (k = 0; k < BENCH_KINDS; k++) {
		bench_report_cdf(test, "latency_run", k, b->run_ns[k], n[k]);
		bench_report_cdf(test, "latency_free", k, b->free_ns[k], n[k]);
	}
}

/* ------------------------------------------------------------- teardown */

/*
 * Destroy a queue with @njobs jobs on the hardware. @ret: how long the
 * destroy call took; @freed: from the hardware's last fence signal (the
 * destroy call, if none) to the moment every byte of the queue and its
 * jobs was freed.
 */
static void bench_teardown_once(struct bench *b, enum bench_kind kind,
				unsigned int njobs, u64 *ret, u64 *freed)
{
	struct kunit *test = b->test;
	struct dshim_stats base;
	struct bench_queue q;
	struct dma_fence *fence;
	u64 t0, t1, t2, hw;
	unsigned int i;
	int on_hw;

	bench_settle(b);
	dshim_stats_read(&base);
	/* device 0, which no other queue uses now: destroy cancels all of it */
	KUNIT_ASSERT_EQ(test, bench_queue_create(b, kind, 0, 1024, &q), 0);
	on_hw = atomic_read(&q.ctx->hw_starts);
	bench_expect(b, njobs);
	for (i = 0; i < njobs; i++) {
		fence = bench_submit(b, &q, MOCK_HANG, bench_id(0, i));
		KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
		dma_fence_put(fence);
	}
	KUNIT_ASSERT_TRUE_MSG(test, bench_wait_ran(b, njobs),
			      "%s: %d of %u jobs reached the hardware",
			      bench_kind_name[kind], bench_ran(b), njobs);
	/*
	 * run counts a job on entry: on another CPU, a cancel could come
	 * before the job is on the hardware, and miss it.
	 */
	KUNIT_ASSERT_TRUE(test, mock_wait_atomic(&q.ctx->hw_starts,
						 on_hw + njobs));

	WRITE_ONCE(b->last_signal, 0);
	t0 = ktime_get_ns();
	KUNIT_ASSERT_EQ(test, bench_queue_destroy(&q), 0);
	t1 = ktime_get_ns();
	t2 = bench_is_shim(kind) ? bench_wait_shim_freed(&base) : t1;
	KUNIT_ASSERT_NE_MSG(test, t2, 0, "shim: queue not freed");
	KUNIT_ASSERT_EQ(test, atomic_read(&b->subs[0].freed), njobs);
	hw = max(READ_ONCE(b->last_signal), t0);
	*ret = t1 - t0;
	*freed = t2 > hw ? t2 - hw : 0;
}

static const unsigned int bench_teardown_jobs[] = { 0, 100, 1000 };

static void bench_teardown(struct kunit *test)
{
	struct bench *b = test->priv;
	u64 ret[BENCH_KINDS][BENCH_ROUNDS], freed[BENCH_KINDS][BENCH_ROUNDS];
	u64 v[BENCH_KINDS];
	unsigned int r, i, k, n;
	char key[48];

	WRITE_ONCE(b->track_signal, true);
	for (n = 0; n < ARRAY_SIZE(bench_teardown_jobs); n++) {
		for (r = 0; r < BENCH_ROUNDS; r++) {
			for (i = 0; i < BENCH_KINDS; i++) {
				k = (i + r) % BENCH_KINDS;
				bench_teardown_once(b, k, bench_teardown_jobs[n],
						    &ret[k][r], &freed[k][r]);
			}
		}
		snprintf(key, sizeof(key), "destroy_return_%ujobs",
			 bench_teardown_jobs[n]);
		for (k = 0; k < BENCH_KINDS; k++)
			v[k] = bench_pct(ret[k], BENCH_ROUNDS, 500);
		bench_report(test, key, "ns", v);
		snprintf(key, sizeof(key), "destroy_freed_%ujobs",
			 bench_teardown_jobs[n]);
		for (k = 0; k < BENCH_KINDS; k++)
			v[k] = bench_pct(freed[k], BENCH_ROUNDS, 500);
		bench_report(test, key, "ns", v);
	}
	WRITE_ONCE(b->track_signal, false);
}

/* ------------------------------------------------------- cost per queue */

/**
 * struct bench_mem - kernel memory and tasks, as precisely as the counters
 *	allow
 * @used_pages: pages neither free nor in per-CPU lists
 * @slab_pages: of which slab
 * @tasks: threads
 */
struct bench_mem {
	long used_pages;
	long slab_pages;
	long tasks;
};

static void bench_mem_read(struct bench_mem *m)
{
	struct task_struct *p, *t;
	struct zone *zone;
	long free = 0;

	/* pages in per-cpu lists are neither free nor used: drain them */
	drain_all_pages(NULL);
	for_each_populated_zone(zone)
		free += zone_page_state_snapshot(zone, NR_FREE_PAGES);
	m->used_pages = totalram_pages() - free;
	m->slab_pages = global_node_page_state_pages(NR_SLAB_RECLAIMABLE_B) +
			global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B);
	m->tasks = 0;
	rcu_read_lock();
	for_each_process_thread(p, t)
		m->tasks++;
	rcu_read_unlock();
}

/**
 * struct bench_queue_cost - what an idle queue costs
 * @bytes: kernel memory per queue
 * @slab_bytes: of which slab
 * @threads_x1000: kernel threads per queue, x1000
 * @create_ns: creation time per queue
 * @destroy_ns: destruction time per queue, until all is freed
 */
struct bench_queue_cost {
	u64 bytes;
	u64 slab_bytes;
	u64 threads_x1000;
	u64 create_ns;
	u64 destroy_ns;
};

static void bench_queue_cost_once(struct bench *b, enum bench_kind kind,
				  unsigned int nq, struct bench_queue_cost *c)
{
	struct kunit *test = b->test;
	struct bench_mem before, after;
	struct dshim_stats base;
	struct bench_queue *q;
	unsigned int i;
	u64 t0, t1, t2;
	long d;

	q = kvcalloc(nq, sizeof(*q), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	bench_settle(b);
	dshim_stats_read(&base);
	bench_mem_read(&before);

	t0 = ktime_get_ns();
	for (i = 0; i < nq; i++) {
		int ret = bench_queue_create(b, kind, i, BENCH_CREDITS, &q[i]);

		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "%s: queue %u of %u",
				    bench_kind_name[kind], i, nq);
	}
	t1 = ktime_get_ns();
	bench_mem_read(&after);

	d = after.used_pages - before.used_pages;
	c->bytes = d > 0 ? div_u64((u64)d * PAGE_SIZE, nq) : 0;
	d = after.slab_pages - before.slab_pages;
	c->slab_bytes = d > 0 ? div_u64((u64)d * PAGE_SIZE, nq) : 0;
	d = after.tasks - before.tasks;
	c->threads_x1000 = d > 0 ? div_u64((u64)d * 1000, nq) : 0;
	c->create_ns = div_u64(t1 - t0, nq);

	t0 = ktime_get_ns();
	for (i = 0; i < nq; i++)
		KUNIT_ASSERT_EQ(test, bench_queue_destroy(&q[i]), 0);
	t2 = bench_is_shim(kind) ? bench_wait_shim_freed(&base) :
				  ktime_get_ns();
	KUNIT_ASSERT_NE_MSG(test, t2, 0, "shim: queues not freed");
	c->destroy_ns = div_u64(t2 - t0, nq);
	kvfree(q);
}

static const unsigned int bench_idle_queues[] = { 1000, 10000 };

#define BENCH_COST_FIELDS 5

static void bench_queue_cost(struct kunit *test)
{
	static const char *const keys[BENCH_COST_FIELDS] = {
		"queue_bytes", "queue_slab_bytes", "queue_threads",
		"queue_create", "queue_destroy",
	};
	static const char *const units[BENCH_COST_FIELDS] = {
		"bytes", "bytes", "x1000", "ns", "ns",
	};
	struct bench *b = test->priv;
	u64 v[BENCH_COST_FIELDS][BENCH_KINDS][BENCH_QUEUE_ROUNDS];
	u64 med[BENCH_KINDS];
	struct bench_queue_cost c;
	unsigned int r, i, k, n, f;
	char key[48];

	for (n = 0; n < ARRAY_SIZE(bench_idle_queues); n++) {
		for (r = 0; r < BENCH_QUEUE_ROUNDS; r++) {
			for (i = 0; i < BENCH_KINDS; i++) {
				k = (i + r) % BENCH_KINDS;
				bench_queue_cost_once(b, k, bench_idle_queues[n],
						      &c);
				v[0][k][r] = c.bytes;
				v[1][k][r] = c.slab_bytes;
				v[2][k][r] = c.threads_x1000;
				v[3][k][r] = c.create_ns;
				v[4][k][r] = c.destroy_ns;
			}
		}
		for (f = 0; f < BENCH_COST_FIELDS; f++) {
			snprintf(key, sizeof(key), "%s_%u", keys[f],
				 bench_idle_queues[n]);
			for (k = 0; k < BENCH_KINDS; k++)
				med[k] = bench_pct(v[f][k], BENCH_QUEUE_ROUNDS,
						   500);
			bench_report(test, key, units[f], med);
		}
	}
}

/* -------------------------------------------------------- pinned fences */

/*
 * Memory each signalled exported fence still pins, beyond its own
 * allocation, once its queue is destroyed and freed. Two figures: the
 * objects it references (its timeline), and the pages that come free
 * when the fences go, over many fences each from a queue of its own; the
 * latter includes slab pages the fences share with objects freed before
 * them. Only the shim: a raw driver's exported fence is drm_sched's, which
 * reads its freed scheduler.
 */
static void bench_fence_pinned(struct kunit *test)
{
	struct bench *b = test->priv;
	const unsigned int n = BENCH_PINNED_FENCES;
	struct bench_mem held, released;
	struct dma_fence **fences;
	struct dshim_stats base, s;
	struct bench_queue q;
	u64 own, objects, pinned, v[BENCH_KINDS];
	unsigned int i;
	long d;

	fences = kvcalloc(n, sizeof(*fences), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fences);
	bench_settle(b);
	dshim_stats_read(&base);

	bench_expect(b, n);
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_EQ(test,
				bench_queue_create(b, BENCH_SHIM, i, 1, &q), 0);
		fences[i] = bench_submit(b, &q, 0, bench_id(0, i));
		KUNIT_ASSERT_FALSE(test, IS_ERR(fences[i]));
		bench_queue_destroy(&q);
	}
	KUNIT_ASSERT_TRUE(test, bench_wait_freed(b));
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_TRUE(test, mock_wait_fence(fences[i]));

	/* everything but the fences and their timelines is gone */
	base.fences += n;
	base.timelines += n;
	KUNIT_ASSERT_NE_MSG(test, bench_wait_shim_freed(&base), 0,
			    "shim: more than the fences survived the queues");
	bench_settle(b);
	kvfree_rcu_barrier();
	dshim_stats_read(&s);
	KUNIT_ASSERT_EQ(test, s.scheds, 0);
	bench_mem_read(&held);
	own = ksize(fences[0]);
	/* what the fence references: its timeline, shared by no other */
	objects = ksize(container_of(fences[0], struct dshim_fence,
				     base)->timeline);

	for (i = 0; i < n; i++)
		dma_fence_put(fences[i]);
	base.fences -= n;
	base.timelines -= n;
	KUNIT_ASSERT_NE(test, bench_wait_shim_freed(&base), 0);
	bench_settle(b);
	kvfree_rcu_barrier();
	bench_mem_read(&released);
	kvfree(fences);

	d = held.used_pages - released.used_pages;
	pinned = d > 0 ? div_u64((u64)d * PAGE_SIZE, n) : 0;
	/* a direct job's fence is the same object: measured once */
	v[BENCH_RAW] = BENCH_NONE;
	v[BENCH_RAW_SHARED] = BENCH_NONE;
	v[BENCH_SHIM_DIRECT] = BENCH_NONE;
	v[BENCH_SHIM] = own;
	bench_report(test, "fence_own_bytes", "bytes", v);
	v[BENCH_SHIM] = objects;
	bench_report(test, "fence_pinned_objects", "bytes", v);
	v[BENCH_SHIM] = pinned > own ? pinned - own : 0;
	bench_report(test, "fence_pinned_bytes", "bytes", v);
}

/* ---------------------------------------------------------------- suite */

static int bench_init(struct kunit *test)
{
	struct bench *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	struct bench_submitter *s;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, b);
	b->test = test;
	init_waitqueue_head(&b->go_wq);
	test->priv = b;

	/* one submitter per online CPU (the benchmark does no hotplug) */
	b->nr_subs = min(num_online_cpus(), BENCH_MAX_SUBS);
	b->subs = kunit_kcalloc(test, b->nr_subs, sizeof(*b->subs),
				GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->subs);
	for (i = 0; i < b->nr_subs; i++) {
		s = &b->subs[i];
		s->b = b;
		s->index = i;
		s->cpu = cpumask_nth(i, cpu_online_mask);
		init_waitqueue_head(&s->wq);
		init_completion(&s->done);
		s->stamps = kunit_kcalloc(test, BENCH_STAMPS,
					  sizeof(*s->stamps), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, s->stamps);
	}

	/* hardware per queue: no lock or timeline shared between queues */
	b->ctx = kunit_kcalloc(test, BENCH_CTXS, sizeof(*b->ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->ctx);
	for (i = 0; i < BENCH_CTXS; i++) {
		b->ctx[i] = mock_ctx_create(test);
		b->ctx[i]->hw_signal = bench_hw_signal;
	}
	return 0;
}

static void bench_exit(struct kunit *test)
{
	struct bench *b = test->priv;
	int created = 0, frees = 0;
	unsigned int i, k;

	if (!b)
		return;
	/* a failed case may have left the threads in a round */
	bench_pool_stop(b);
	for (k = 0; k < BENCH_KINDS; k++) {
		kvfree(b->queues[k]);
		kvfree(b->submit_ns[k]);
		kvfree(b->run_ns[k]);
		kvfree(b->free_ns[k]);
	}
	for (i = 0; b->ctx && i < BENCH_CTXS && b->ctx[i]; i++)
		mock_ctx_fini(b->ctx[i]);
	dshim_test_expect_clean(test);
	for (i = 0; b->ctx && i < BENCH_CTXS && b->ctx[i]; i++) {
		created += atomic_read(&b->ctx[i]->created);
		frees += atomic_read(&b->ctx[i]->frees);
	}
	KUNIT_EXPECT_EQ(test, frees, created);
}

static int bench_suite_init(struct kunit_suite *suite)
{
	bench_shared_wq = alloc_workqueue("braw_shared",
					  WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	return bench_shared_wq ? 0 : -ENOMEM;
}

static void bench_suite_exit(struct kunit_suite *suite)
{
	if (!bench_shared_wq)
		return;
	if (atomic_read(&bench_shared_queues))
		pr_warn("dshim_bench: %d raw_shared queues leaked, their workqueue too\n",
			atomic_read(&bench_shared_queues));
	else
		destroy_workqueue(bench_shared_wq);
	bench_shared_wq = NULL;
}

static struct kunit_case bench_cases[] = {
	KUNIT_CASE_SLOW(bench_throughput),
	KUNIT_CASE_SLOW(bench_latency),
	KUNIT_CASE_SLOW(bench_teardown),
	KUNIT_CASE_SLOW(bench_queue_cost),
	KUNIT_CASE_SLOW(bench_fence_pinned),
	{}
};

static struct kunit_suite bench_suite = {
	.name = "dshim_bench",
	.suite_init = bench_suite_init,
	.suite_exit = bench_suite_exit,
	.init = bench_init,
	.exit = bench_exit,
	.test_cases = bench_cases,
};

kunit_test_suite(bench_suite);
