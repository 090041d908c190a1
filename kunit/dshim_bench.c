// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmarks: the shim against a raw drm_sched driver, side by side in one
 * boot, on the same mock hardware (CONFIG_DRM_SCHED_SHIM_BENCH).
 *
 * Every workload runs through both drivers, alternating which goes first,
 * for a fixed number of rounds, and reports medians as lines
 *
 *	bench: <key> <unit> raw=<value> shim=<value>
 *
 * that scripts/bench.sh turns into a table. No case fails on a figure:
 * only a workload that does not complete (or leaks) fails.
 */

#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <linux/wait.h>

#include "../c-shim/internal.h"
#include "dshim_bench.h"

#define BENCH_ROUNDS		15
#define BENCH_QUEUE_ROUNDS	3
#define BENCH_JOBS		16384	/* per throughput round */
#define BENCH_LAT_JOBS		200	/* per latency round */
#define BENCH_LAT_US		20	/* a latency job's time on the hardware */
#define BENCH_PINNED_FENCES	4096
#define BENCH_WAIT_MS		60000	/* a workload that takes longer failed */

enum bench_kind { BENCH_RAW, BENCH_SHIM, BENCH_KINDS };

static const char *const bench_kind_name[BENCH_KINDS] = { "raw", "shim" };

/* Timestamps of one job, in ns. */
struct bench_stamp {
	u64 submit;
	u64 run;
	u64 signal;
	u64 free;
};

/**
 * struct bench - state of the running case, in &kunit.priv
 * @test: the case
 * @ctx: the mock hardware
 * @stamps: per-job timestamps, indexed by &mock_job.id; NULL: none taken
 * @nr_stamps: entries in @stamps
 * @ran: jobs that reached run (either driver)
 * @freed: jobs freed (either driver)
 * @target: wake @wq when @freed reaches it
 * @wq: the case waits here for @target
 * @last_signal: when the hardware last signalled a fence, in ns
 */
struct bench {
	struct kunit *test;
	struct mock_ctx *ctx;
	struct bench_stamp *stamps;
	unsigned int nr_stamps;
	atomic_t ran;
	atomic_t freed;
	int target;
	wait_queue_head_t wq;
	u64 last_signal;
};

/* One queue of either driver. */
struct bench_queue {
	enum bench_kind kind;
	union {
		struct braw_queue *raw;
		struct dshim_queue *shim;
	};
};

static struct bench *bench_of(struct mock_ctx *ctx)
{
	return ctx->test->priv;
}

static void bench_hw_signal(struct mock_ctx *ctx, unsigned int id)
{
	struct bench *b = bench_of(ctx);
	u64 now = ktime_get_ns();

	if (b->stamps && id < b->nr_stamps)
		b->stamps[id].signal = now;
	WRITE_ONCE(b->last_signal, now);
}

void bench_job_ran(struct mock_job *mj)
{
	struct bench *b = bench_of(mj->ctx);

	if (b->stamps && mj->id < b->nr_stamps)
		b->stamps[mj->id].run = ktime_get_ns();
	atomic_inc(&b->ran);
}

void bench_job_freed(struct mock_ctx *ctx, unsigned int id)
{
	struct bench *b = bench_of(ctx);

	if (b->stamps && id < b->nr_stamps)
		b->stamps[id].free = ktime_get_ns();
	/* one wake-up per workload, not one per job: both drivers pay it */
	if (atomic_inc_return(&b->freed) == READ_ONCE(b->target))
		wake_up(&b->wq);
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

static int bench_queue_create(struct bench *b, enum bench_kind kind,
			      u32 credit_limit, struct bench_queue *q)
{
	struct dshim_sched_desc desc = {
		.ops = &bshim_ops,
		.priv = b->ctx,
		.name = "bench",
		.credit_limit = credit_limit,
	};

	q->kind = kind;
	if (kind == BENCH_RAW) {
		q->raw = braw_queue_create(b->ctx, "bench", credit_limit);
		return PTR_ERR_OR_ZERO(q->raw);
	}
	q->shim = dshim_queue_create(&desc);
	return PTR_ERR_OR_ZERO(q->shim);
}

/* Raw: returns once all is freed. Shim: returns at once (see the DOC). */
static int bench_queue_destroy(struct bench_queue *q)
{
	if (q->kind == BENCH_RAW)
		return braw_queue_destroy(q->raw);
	dshim_queue_put(q->shim);
	return 0;
}

/* Submit a job of @duration_us numbered @id; returns its fence. */
static struct dma_fence *bench_submit(struct bench *b, struct bench_queue *q,
				      u32 duration_us, unsigned int id)
{
	struct mock_job *mj = mock_job_alloc(b->ctx, duration_us);
	struct dshim_job *job;

	if (!mj)
		return ERR_PTR(-ENOMEM);
	mj->id = id;
	if (b->stamps && id < b->nr_stamps)
		b->stamps[id].submit = ktime_get_ns();
	if (q->kind == BENCH_RAW)
		return braw_submit(q->raw, mj);
	job = mock_job_wrap(b->ctx, dshim_queue_entity(q->shim), mj);
	if (IS_ERR(job))
		return ERR_CAST(job);
	return dshim_job_submit(job);
}

static void bench_expect(struct bench *b, int target)
{
	atomic_set(&b->ran, 0);
	atomic_set(&b->freed, 0);
	WRITE_ONCE(b->target, target);
}

static bool bench_wait_freed(struct bench *b)
{
	return wait_event_timeout(b->wq,
				  atomic_read(&b->freed) >= b->target,
				  msecs_to_jiffies(BENCH_WAIT_MS)) > 0;
}

static bool bench_wait_ran(struct bench *b, int n)
{
	unsigned long end = jiffies + msecs_to_jiffies(BENCH_WAIT_MS);

	while (atomic_read(&b->ran) < n) {
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

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Value at @permille of the sorted @v (500: median, 990: p99). */
static u64 bench_pct(u64 *v, unsigned int n, unsigned int permille)
{
	if (!n)
		return 0;
	sort(v, n, sizeof(*v), cmp_u64, NULL);
	return v[min_t(unsigned int, n - 1, (u64)n * permille / 1000)];
}

static void bench_report(struct kunit *test, const char *key,
			 const char *unit, u64 raw, u64 shim)
{
	kunit_info(test, "bench: %s %s raw=%llu shim=%llu\n", key, unit, raw,
		   shim);
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

/* The floor: ns for BENCH_JOBS bare fences (median of the rounds). */
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
 * Jobs per second for @njobs zero-duration jobs over @nq queues; @submit:
 * ns per job spent in the submit loop (the rest runs in workers).
 */
static u64 bench_throughput_once(struct bench *b, enum bench_kind kind,
				 unsigned int nq, unsigned int njobs,
				 u64 *submit)
{
	struct kunit *test = b->test;
	struct bench_queue *q;
	struct dma_fence *fence;
	unsigned int i;
	u64 t0, t1, ts;
	bool done;

	q = kvcalloc(nq, sizeof(*q), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	for (i = 0; i < nq; i++)
		KUNIT_ASSERT_EQ(test, bench_queue_create(b, kind, 64, &q[i]), 0);
	bench_settle(b);

	bench_expect(b, njobs);
	t0 = ktime_get_ns();
	for (i = 0; i < njobs; i++) {
		fence = bench_submit(b, &q[i % nq], 0, i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
		dma_fence_put(fence);
	}
	ts = ktime_get_ns();
	done = bench_wait_freed(b);
	t1 = ktime_get_ns();
	KUNIT_ASSERT_TRUE_MSG(test, done, "%s: %d of %u jobs freed",
			      bench_kind_name[kind], atomic_read(&b->freed),
			      njobs);

	for (i = 0; i < nq; i++)
		KUNIT_ASSERT_EQ(test, bench_queue_destroy(&q[i]), 0);
	kvfree(q);
	*submit = div_u64(ts - t0, njobs);
	return div64_u64((u64)njobs * NSEC_PER_SEC, max(t1 - t0, 1ULL));
}

static const unsigned int bench_queue_counts[] = { 1, 16, 256 };

static void bench_throughput(struct kunit *test)
{
	struct bench *b = test->priv;
	u64 v[BENCH_KINDS][ARRAY_SIZE(bench_queue_counts)][BENCH_ROUNDS];
	u64 sub[BENCH_KINDS][BENCH_ROUNDS];
	u64 med[BENCH_KINDS][ARRAY_SIZE(bench_queue_counts)];
	u64 floor_ns = bench_floor_ns(test);
	unsigned int r, k, n, i, nq;
	char key[32];

	for (n = 0; n < ARRAY_SIZE(bench_queue_counts); n++) {
		nq = bench_queue_counts[n];
		for (r = 0; r < BENCH_ROUNDS; r++) {
			for (i = 0; i < BENCH_KINDS; i++) {
				/* alternate which driver goes first */
				k = (i + r) % BENCH_KINDS;
				v[k][n][r] = bench_throughput_once(b, k, nq,
								   BENCH_JOBS,
								   &sub[k][r]);
			}
		}
		for (k = 0; k < BENCH_KINDS; k++)
			med[k][n] = bench_pct(v[k][n], BENCH_ROUNDS, 500);
		snprintf(key, sizeof(key), "throughput_%uq",
			 bench_queue_counts[n]);
		bench_report(test, key, "jobs/s", med[BENCH_RAW][n],
			     med[BENCH_SHIM][n]);
		if (nq == 1)
			bench_report(test, "submit_1q", "ns",
				     bench_pct(sub[BENCH_RAW], BENCH_ROUNDS, 500),
				     bench_pct(sub[BENCH_SHIM], BENCH_ROUNDS,
					       500));
	}

	/*
	 * A job at one queue costs this many bare fences (x1000): how far
	 * each driver is from the floor of one fence and one callback.
	 */
	for (k = 0; k < BENCH_KINDS; k++)
		med[k][0] = div64_u64(NSEC_PER_SEC * 1000ULL * BENCH_JOBS,
				      max(med[k][0], 1ULL) * max(floor_ns, 1ULL));
	bench_report(test, "floor_multiple_1q", "x1000", med[BENCH_RAW][0],
		     med[BENCH_SHIM][0]);
	floor_ns = div64_u64((u64)BENCH_JOBS * NSEC_PER_SEC, max(floor_ns, 1ULL));
	bench_report(test, "floor_rate", "fences/s", floor_ns, floor_ns);
}

/* -------------------------------------------------------------- latency */

static void bench_latency_once(struct bench *b, enum bench_kind kind,
			       u64 *run, u64 *free)
{
	struct kunit *test = b->test;
	struct bench_queue q;
	struct dma_fence *fence;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, bench_queue_create(b, kind, 64, &q), 0);
	memset(b->stamps, 0, b->nr_stamps * sizeof(*b->stamps));
	bench_settle(b);
	/* one job at a time: the latency of an idle queue */
	for (i = 0; i < BENCH_LAT_JOBS; i++) {
		bench_expect(b, 1);
		fence = bench_submit(b, &q, BENCH_LAT_US, i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
		dma_fence_put(fence);
		KUNIT_ASSERT_TRUE_MSG(test, bench_wait_freed(b),
				      "%s: latency job %u not freed",
				      bench_kind_name[kind], i);
	}
	KUNIT_ASSERT_EQ(test, bench_queue_destroy(&q), 0);
	for (i = 0; i < BENCH_LAT_JOBS; i++) {
		struct bench_stamp *s = &b->stamps[i];

		run[i] = s->run - s->submit;
		free[i] = s->free - s->signal;
	}
}

static void bench_latency(struct kunit *test)
{
	struct bench *b = test->priv;
	const unsigned int n = BENCH_ROUNDS * BENCH_LAT_JOBS;
	u64 *run[BENCH_KINDS], *free[BENCH_KINDS];
	unsigned int r, i, k;

	b->nr_stamps = BENCH_LAT_JOBS;
	b->stamps = kunit_kcalloc(test, b->nr_stamps, sizeof(*b->stamps),
				  GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->stamps);
	for (k = 0; k < BENCH_KINDS; k++) {
		run[k] = kunit_kcalloc(test, n, sizeof(u64), GFP_KERNEL);
		free[k] = kunit_kcalloc(test, n, sizeof(u64), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, run[k]);
		KUNIT_ASSERT_NOT_NULL(test, free[k]);
	}
	for (r = 0; r < BENCH_ROUNDS; r++) {
		for (i = 0; i < BENCH_KINDS; i++) {
			k = (i + r) % BENCH_KINDS;
			bench_latency_once(b, k, run[k] + r * BENCH_LAT_JOBS,
					   free[k] + r * BENCH_LAT_JOBS);
		}
	}
	b->stamps = NULL;

	bench_report(test, "latency_run_p50", "ns",
		     bench_pct(run[BENCH_RAW], n, 500),
		     bench_pct(run[BENCH_SHIM], n, 500));
	bench_report(test, "latency_run_p99", "ns",
		     bench_pct(run[BENCH_RAW], n, 990),
		     bench_pct(run[BENCH_SHIM], n, 990));
	bench_report(test, "latency_free_p50", "ns",
		     bench_pct(free[BENCH_RAW], n, 500),
		     bench_pct(free[BENCH_SHIM], n, 500));
	bench_report(test, "latency_free_p99", "ns",
		     bench_pct(free[BENCH_RAW], n, 990),
		     bench_pct(free[BENCH_SHIM], n, 990));
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

	bench_settle(b);
	dshim_stats_read(&base);
	KUNIT_ASSERT_EQ(test, bench_queue_create(b, kind, 1024, &q), 0);
	bench_expect(b, njobs);
	for (i = 0; i < njobs; i++) {
		fence = bench_submit(b, &q, MOCK_HANG, i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
		dma_fence_put(fence);
	}
	KUNIT_ASSERT_TRUE_MSG(test, bench_wait_ran(b, njobs),
			      "%s: %d of %u jobs reached the hardware",
			      bench_kind_name[kind], atomic_read(&b->ran),
			      njobs);

	WRITE_ONCE(b->last_signal, 0);
	t0 = ktime_get_ns();
	KUNIT_ASSERT_EQ(test, bench_queue_destroy(&q), 0);
	t1 = ktime_get_ns();
	t2 = kind == BENCH_RAW ? t1 : bench_wait_shim_freed(&base);
	KUNIT_ASSERT_NE_MSG(test, t2, 0, "shim: queue not freed");
	KUNIT_ASSERT_EQ(test, atomic_read(&b->freed), njobs);
	hw = max(READ_ONCE(b->last_signal), t0);
	*ret = t1 - t0;
	*freed = t2 > hw ? t2 - hw : 0;
}

static const unsigned int bench_teardown_jobs[] = { 0, 100, 1000 };

static void bench_teardown(struct kunit *test)
{
	struct bench *b = test->priv;
	u64 ret[BENCH_KINDS][BENCH_ROUNDS], freed[BENCH_KINDS][BENCH_ROUNDS];
	unsigned int r, i, k, n;
	char key[40];

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
		bench_report(test, key, "ns",
			     bench_pct(ret[BENCH_RAW], BENCH_ROUNDS, 500),
			     bench_pct(ret[BENCH_SHIM], BENCH_ROUNDS, 500));
		snprintf(key, sizeof(key), "destroy_freed_%ujobs",
			 bench_teardown_jobs[n]);
		bench_report(test, key, "ns",
			     bench_pct(freed[BENCH_RAW], BENCH_ROUNDS, 500),
			     bench_pct(freed[BENCH_SHIM], BENCH_ROUNDS, 500));
	}
}

/* ------------------------------------------------------- cost per queue */

/* Kernel memory and tasks, as precisely as the counters allow. */
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

struct bench_queue_cost {
	u64 bytes;		/* kernel memory per queue */
	u64 slab_bytes;		/* of which slab */
	u64 threads_x1000;	/* kernel threads per queue, x1000 */
	u64 create_ns;		/* per queue */
	u64 destroy_ns;		/* per queue, until all is freed */
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
		int ret = bench_queue_create(b, kind, 64, &q[i]);

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
	t2 = kind == BENCH_RAW ? ktime_get_ns() : bench_wait_shim_freed(&base);
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
	struct bench_queue_cost c;
	unsigned int r, i, k, n, f;
	char key[40];

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
			bench_report(test, key, units[f],
				     bench_pct(v[f][BENCH_RAW],
					       BENCH_QUEUE_ROUNDS, 500),
				     bench_pct(v[f][BENCH_SHIM],
					       BENCH_QUEUE_ROUNDS, 500));
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
	unsigned int i;
	u64 own, objects, pinned;
	long d;

	fences = kvcalloc(n, sizeof(*fences), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fences);
	bench_settle(b);
	dshim_stats_read(&base);

	bench_expect(b, n);
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_EQ(test, bench_queue_create(b, BENCH_SHIM, 1, &q),
				0);
		fences[i] = bench_submit(b, &q, 0, i);
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
	kunit_info(test, "bench: fence_own_bytes bytes raw=- shim=%llu\n", own);
	kunit_info(test, "bench: fence_pinned_objects bytes raw=- shim=%llu\n",
		   objects);
	kunit_info(test, "bench: fence_pinned_bytes bytes raw=- shim=%llu\n",
		   pinned > own ? pinned - own : 0);
}

/* ---------------------------------------------------------------- suite */

static int bench_init(struct kunit *test)
{
	struct bench *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	b->test = test;
	init_waitqueue_head(&b->wq);
	test->priv = b;
	b->ctx = mock_ctx_create(test);
	b->ctx->hw_signal = bench_hw_signal;
	return 0;
}

static void bench_exit(struct kunit *test)
{
	struct bench *b = test->priv;

	mock_ctx_fini(b->ctx);
	dshim_test_expect_clean(test);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->ctx->frees),
			atomic_read(&b->ctx->created));
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
	.init = bench_init,
	.exit = bench_exit,
	.test_cases = bench_cases,
};

kunit_test_suite(bench_suite);
