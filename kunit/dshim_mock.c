// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock hardware for the shim's KUnit suites: see dshim_test.h.
 */

#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/slab.h>

#include "dshim_test.h"

#define MOCK_WAIT_MS	5000

static void mock_put_sched(void *obj)
{
	dshim_sched_put(obj);
}

static void mock_put_entity(void *obj)
{
	dshim_entity_put(obj);
}

static void mock_put_queue(void *obj)
{
	dshim_queue_put(obj);
}

/* Hand a reference to the mock, to be dropped at &mock_ctx.drop_in. */
static void mock_park(struct mock_ctx *ctx, void (*put)(void *obj), void *obj)
{
	int i;

	for (i = 0; i < MOCK_MAX_DROPS; i++) {
		if (!ctx->drop[i].obj) {
			ctx->drop[i].put = put;
			/* a callback that sees @obj sees @put */
			smp_store_release(&ctx->drop[i].obj, obj);
			return;
		}
	}
	KUNIT_FAIL(ctx->test, "more than %d references parked", MOCK_MAX_DROPS);
	put(obj);
}

void mock_park_sched(struct mock_ctx *ctx, struct dshim_sched *sched)
{
	mock_park(ctx, mock_put_sched, sched);
}

void mock_park_entity(struct mock_ctx *ctx, struct dshim_entity *entity)
{
	mock_park(ctx, mock_put_entity, entity);
}

void mock_park_queue(struct mock_ctx *ctx, struct dshim_queue *queue)
{
	mock_park(ctx, mock_put_queue, queue);
}

/*
 * A scheduler descriptor for a test of @c's place: the mock acts there
 * (&mock_ctx.drop_in), and a hanging job's timeout, if any, fails it.
 */
struct dshim_sched_desc mock_where_desc(struct mock_ctx *ctx,
					const struct mock_where_case *c,
					const char *name)
{
	struct dshim_sched_desc desc = mock_desc(ctx, name);

	desc.timeout_ms = c->timeout_ms;
	ctx->timeout_error = -ETIMEDOUT;
	ctx->drop_in = c->where;
	return desc;
}

/* Have the mock call @fn(@arg) once, at &mock_ctx.drop_in. */
void mock_park_call(struct mock_ctx *ctx, void (*fn)(void *arg), void *arg)
{
	mock_park(ctx, fn, arg);
}

/* Whether references wait to be dropped. */
bool mock_parked(struct mock_ctx *ctx)
{
	int i;

	for (i = 0; i < MOCK_MAX_DROPS; i++)
		if (READ_ONCE(ctx->drop[i].obj))
			return true;
	return false;
}

/* Drop the parked references, in the order they were parked. */
void mock_drop_refs(struct mock_ctx *ctx)
{
	void *obj;
	int i;

	for (i = 0; i < MOCK_MAX_DROPS; i++) {
		obj = xchg(&ctx->drop[i].obj, NULL);
		if (obj)
			ctx->drop[i].put(obj);
	}
}

static void mock_maybe_drop(struct mock_ctx *ctx, enum mock_where where)
{
	if (READ_ONCE(ctx->drop_in) == where)
		mock_drop_refs(ctx);
}

/*
 * Drop the job's parked queue reference if this is its place, killing the
 * queue first if asked to.
 */
static void mock_job_maybe_drop(struct mock_job *mj, enum mock_where where)
{
	struct dshim_queue *queue;

	if (mj->drop_where != where)
		return;
	queue = xchg(&mj->drop_queue, NULL);
	if (queue && mj->kill_at_drop)
		dshim_queue_kill(queue);
	dshim_queue_put(queue);
}

/*
 * Take @mj off the hardware, recording the error its hardware fence is
 * about to signal with. Only one caller gets true and signals: the timer,
 * cancel, timedout and mock_hw_advance() may race. Caller holds the lock.
 */
static bool mock_job_unlink(struct mock_job *mj, int error)
{
	if (list_empty(&mj->link))
		return false;
	list_del_init(&mj->link);
	if (mj->outcome)
		WRITE_ONCE(*mj->outcome, error);
	return true;
}

/* Signal the job's hardware fence unless it already is. Any context. */
void mock_job_complete(struct mock_job *mj, int error)
{
	struct mock_ctx *ctx = mj->ctx;
	unsigned long flags;
	bool mine;

	spin_lock_irqsave(&ctx->lock, flags);
	mine = mock_job_unlink(mj, error);
	spin_unlock_irqrestore(&ctx->lock, flags);
	if (!mine)
		return;
	if (ctx->hw_signal)
		ctx->hw_signal(ctx, mj->id);
	dshim_hw_fence_signal(mj->hw_fence, error);
}

static enum hrtimer_mode mock_timer_mode(struct mock_ctx *ctx)
{
	return ctx->drop_in == MOCK_IN_SOFTIRQ ? HRTIMER_MODE_REL_SOFT :
						 HRTIMER_MODE_REL;
}

static enum hrtimer_restart mock_job_timer(struct hrtimer *timer)
{
	struct mock_job *mj = container_of(timer, struct mock_job, timer);
	struct mock_ctx *ctx = mj->ctx;

	mock_job_complete(mj, mj->hw_error);
	mock_maybe_drop(ctx, in_hardirq() ? MOCK_IN_HARDIRQ : MOCK_IN_SOFTIRQ);
	mock_job_maybe_drop(mj, in_hardirq() ? MOCK_IN_HARDIRQ :
					       MOCK_IN_SOFTIRQ);
	return HRTIMER_NORESTART;
}

/*
 * Put @mj on the mock hardware: its hardware fence, which the hrtimer
 * signals after the job's duration (at once for 0). Shared by the shim's
 * mock driver and the raw drm_sched driver of the benchmarks, so that both
 * drive the same hardware.
 */
struct dma_fence *mock_hw_run(struct mock_job *mj)
{
	struct mock_ctx *ctx = mj->ctx;
	struct dma_fence *fence;
	unsigned long flags;

	if (mj->duration_us == MOCK_NO_FENCE)
		return NULL;

	/* allocated with the job: run is a signalling path */
	fence = dshim_hw_fence_arm(mj->hw_alloc, ctx->hw_tl);
	mj->hw_alloc = NULL;
	if (IS_ERR(fence))
		return fence;
	mj->hw_fence = fence;

	spin_lock_irqsave(&ctx->lock, flags);
	list_add_tail(&mj->link, &ctx->on_hw);
	/* under the lock: whoever sees the count finds the job listed */
	atomic_inc(&ctx->hw_starts);
	spin_unlock_irqrestore(&ctx->lock, flags);

	if (!mj->duration_us)
		mock_job_complete(mj, mj->hw_error);
	else if (mj->duration_us != MOCK_HANG)
		hrtimer_start(&mj->timer, ns_to_ktime((u64)mj->duration_us * NSEC_PER_USEC),
			      mock_timer_mode(ctx));
	return dma_fence_get(fence);
}

/*
 * Whether the caller is inside a fence signalling section: then
 * dma_fence_begin_signalling() says it nests. (Without lockdep it always
 * says so; in atomic context too, which the shim's callbacks are not.)
 */
bool mock_in_signalling(void)
{
	bool nested = dma_fence_begin_signalling();

	dma_fence_end_signalling(nested);
	return nested;
}

/* The shim must have annotated the callback the mock is in. */
static void mock_check_signalling(struct mock_ctx *ctx)
{
	if (!mock_in_signalling())
		atomic_inc(&ctx->unannotated);
}

static struct dma_fence *mock_run(struct dshim_job *job)
{
	struct mock_job *mj = dshim_job_priv(job);
	struct mock_ctx *ctx = mj->ctx;

	mock_check_signalling(ctx);
	atomic_inc(&ctx->runs);
	mock_maybe_drop(ctx, MOCK_IN_RUN);
	mock_job_maybe_drop(mj, MOCK_IN_RUN);
	if (mj->run_sleep_ms)
		msleep(mj->run_sleep_ms);
	if (mj->run_error)
		return ERR_PTR(mj->run_error);
	return mock_hw_run(mj);
}

static enum dshim_timeout_status mock_timedout(struct dshim_job *job)
{
	struct mock_job *mj = dshim_job_priv(job);
	struct mock_ctx *ctx = mj->ctx;

	mock_check_signalling(ctx);
	atomic_inc(&ctx->timeouts);
	/* a driver bans the queue before it fails the job: nothing runs after */
	mock_maybe_drop(ctx, MOCK_IN_TIMEDOUT);
	mock_job_maybe_drop(mj, MOCK_IN_TIMEDOUT);
	if (ctx->timeout_error)
		mock_job_complete(mj, ctx->timeout_error);
	return ctx->timeout_status;
}

static void mock_cancel(struct dshim_job *job)
{
	struct mock_job *mj = dshim_job_priv(job);

	mock_check_signalling(mj->ctx);
	mock_job_complete(mj, -ECANCELED);
	/*
	 * The job completes now and drm_sched may try to free it at once;
	 * the payload must stay valid until this callback returns.
	 */
	usleep_range(200, 400);
	atomic_inc(&mj->ctx->cancels);
	mock_maybe_drop(mj->ctx, MOCK_IN_CANCEL);
	mock_job_maybe_drop(mj, MOCK_IN_CANCEL);
}

/* Take @mj off the mock hardware for good and free it. */
void mock_hw_release(struct mock_job *mj)
{
	struct mock_ctx *ctx = mj->ctx;
	unsigned long flags;

	/* off the list first: mock_hw_advance_timer() starts listed timers */
	spin_lock_irqsave(&ctx->lock, flags);
	list_del_init(&mj->link);
	spin_unlock_irqrestore(&ctx->lock, flags);
	hrtimer_cancel(&mj->timer);
	/* a job that never got to its drop place drops (and kills) here */
	mock_job_maybe_drop(mj, mj->drop_where);
	dma_fence_put(mj->hw_fence);
	mock_job_free(mj);		/* with its fence, if it never ran */
	atomic_inc(&ctx->frees);
}

static void mock_free(struct dshim_job *job)
{
	struct mock_job *mj = dshim_job_priv(job);
	struct mock_ctx *ctx = mj->ctx;

	mock_hw_release(mj);
	mock_maybe_drop(ctx, MOCK_IN_FREE);
}

const struct dshim_sched_ops mock_ops = {
	.run = mock_run,
	.timedout = mock_timedout,
	.cancel = mock_cancel,
	.free = mock_free,
};

const struct dshim_sched_ops mock_ops_no_cancel = {
	.run = mock_run,
	.timedout = mock_timedout,
	.free = mock_free,
};

/* The scheduler's data is the mock device (mock_desc()): count releases */
static void mock_release_priv(void *priv)
{
	struct mock_ctx *ctx = priv;

	atomic_inc(&ctx->releases);
}

/* Without cancel: jobs on the hardware stay, and so does the scheduler */
const struct dshim_sched_ops mock_ops_release = {
	.run = mock_run,
	.timedout = mock_timedout,
	.free = mock_free,
	.release_priv = mock_release_priv,
};

struct mock_ctx *mock_ctx_create(struct kunit *test)
{
	struct mock_ctx *ctx;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->test = test;
	spin_lock_init(&ctx->lock);
	INIT_LIST_HEAD(&ctx->on_hw);
	ctx->hw_tl = dshim_timeline_create("mock-hw");
	KUNIT_ASSERT_FALSE(test, IS_ERR(ctx->hw_tl));
	return ctx;
}

void mock_ctx_fini(struct mock_ctx *ctx)
{
	mock_drop_refs(ctx);
	dshim_timeline_put(ctx->hw_tl);
	ctx->hw_tl = NULL;
}

struct dshim_sched_desc mock_desc(struct mock_ctx *ctx, const char *name)
{
	return (struct dshim_sched_desc) {
		.ops = &mock_ops,
		.priv = ctx,
		.name = name,
		.credit_limit = 16,
	};
}

/* A scheduler from @desc (in *@sched) and an entity on it, priority 0. */
struct dshim_entity *mock_sched_entity(struct kunit *test,
				       const struct dshim_sched_desc *desc,
				       struct dshim_sched **sched)
{
	struct dshim_entity *entity;

	*sched = dshim_sched_create(desc);
	KUNIT_ASSERT_FALSE(test, IS_ERR(*sched));
	entity = dshim_entity_create(*sched, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(entity));
	return entity;
}

struct mock_job *mock_job_alloc(struct mock_ctx *ctx, u32 duration_us)
{
	struct mock_job *mj = kzalloc_obj(*mj, GFP_KERNEL);

	if (!mj)
		return NULL;
	mj->hw_alloc = dshim_hw_fence_alloc();
	if (IS_ERR(mj->hw_alloc)) {
		kfree(mj);
		return NULL;
	}
	mj->ctx = ctx;
	mj->duration_us = duration_us;
	INIT_LIST_HEAD(&mj->link);
	dshim_compat_hrtimer_setup(&mj->timer, mock_job_timer, CLOCK_MONOTONIC,
				   mock_timer_mode(ctx));
	return mj;
}

/* Free a payload that no job ever carried. */
void mock_job_free(struct mock_job *mj)
{
	dshim_hw_fence_free(mj->hw_alloc);
	kfree(mj);
}

/*
 * A job carrying @mj, which from now on the job's free releases (or this
 * function, if no job could be created).
 */
struct dshim_job *mock_job_wrap(struct mock_ctx *ctx,
				struct dshim_entity *entity,
				struct mock_job *mj)
{
	struct dshim_job *job = dshim_job_create(entity, 1, mj);

	if (IS_ERR(job)) {
		mock_job_free(mj);
		return job;
	}
	atomic_inc(&ctx->created);
	return job;
}

/* A job with a mock payload; the payload is freed by the job's free. */
struct dshim_job *mock_job_create(struct kunit *test, struct mock_ctx *ctx,
				  struct dshim_entity *entity, u32 duration_us)
{
	struct mock_job *mj = mock_job_alloc(ctx, duration_us);

	/* the alloc suite fails the hardware fence's allocation too */
	if (!mj)
		return ERR_PTR(-ENOMEM);
	return mock_job_wrap(ctx, entity, mj);
}

/* Create and submit a job; returns its fence (the caller puts it). */
struct dma_fence *mock_submit(struct kunit *test, struct mock_ctx *ctx,
			      struct dshim_entity *entity, u32 duration_us)
{
	struct dshim_job *job = mock_job_create(test, ctx, entity,
						 duration_us);

	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	return dshim_job_submit(job);
}

/*
 * Submit a job whose run sleeps @run_sleep_ms before it starts the job on
 * the hardware; returns its fence (the caller puts it).
 */
struct dma_fence *mock_submit_slow_run(struct kunit *test, struct mock_ctx *ctx,
				       struct dshim_entity *entity,
				       u32 duration_us, u32 run_sleep_ms)
{
	struct mock_job *mj = mock_job_alloc(ctx, duration_us);
	struct dshim_job *job;
	struct dma_fence *fence;

	KUNIT_ASSERT_NOT_NULL(test, mj);
	mj->run_sleep_ms = run_sleep_ms;
	job = mock_job_wrap(ctx, entity, mj);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	fence = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fence));
	return fence;
}

/* Complete the first @n jobs on the mock hardware; returns how many. */
unsigned int mock_hw_advance(struct mock_ctx *ctx, unsigned int n, int error)
{
	struct dma_fence *fences[16];
	unsigned int ids[16];
	struct mock_job *mj;
	unsigned long flags;
	unsigned int i, done = 0;

	while (done < n) {
		unsigned int batch = 0;

		spin_lock_irqsave(&ctx->lock, flags);
		while (batch < ARRAY_SIZE(fences) && done + batch < n &&
		       (mj = list_first_entry_or_null(&ctx->on_hw,
						      struct mock_job, link))) {
			mock_job_unlink(mj, error);
			ids[batch] = mj->id;
			fences[batch++] = dma_fence_get(mj->hw_fence);
		}
		spin_unlock_irqrestore(&ctx->lock, flags);
		if (!batch)
			break;
		for (i = 0; i < batch; i++) {
			if (ctx->hw_signal)
				ctx->hw_signal(ctx, ids[i]);
			dshim_hw_fence_signal(fences[i], error);
			dma_fence_put(fences[i]);
		}
		done += batch;
	}
	return done;
}

/*
 * Complete the first job on the mock hardware from its timer in @delay_us:
 * in hardirq context, or softirq if the context's drop place is
 * %MOCK_IN_SOFTIRQ. Returns false if no job is on the hardware.
 */
bool mock_hw_advance_timer(struct mock_ctx *ctx, u32 delay_us)
{
	struct mock_job *mj;
	unsigned long flags;

	spin_lock_irqsave(&ctx->lock, flags);
	mj = list_first_entry_or_null(&ctx->on_hw, struct mock_job, link);
	if (mj)
		hrtimer_start(&mj->timer,
			      ns_to_ktime((u64)delay_us * NSEC_PER_USEC),
			      mock_timer_mode(ctx));
	spin_unlock_irqrestore(&ctx->lock, flags);
	return mj;
}

unsigned int mock_hw_count(struct mock_ctx *ctx)
{
	struct mock_job *mj;
	unsigned long flags;
	unsigned int n = 0;

	spin_lock_irqsave(&ctx->lock, flags);
	list_for_each_entry(mj, &ctx->on_hw, link)
		n++;
	spin_unlock_irqrestore(&ctx->lock, flags);
	return n;
}

bool mock_wait_atomic(atomic_t *v, int n)
{
	unsigned long end = jiffies + msecs_to_jiffies(MOCK_WAIT_MS);

	while (atomic_read(v) < n) {
		if (time_after(jiffies, end))
			return false;
		usleep_range(200, 500);
	}
	return true;
}

/*
 * Wait until @n jobs have been put on the mock hardware, so that
 * mock_hw_advance() finds them. Waiting for &mock_ctx.runs is not enough:
 * run counts a job on entry, and on another CPU the test can advance
 * before run has put the job on the hardware.
 */
bool mock_wait_on_hw(struct mock_ctx *ctx, int n)
{
	return mock_wait_atomic(&ctx->hw_starts, n);
}

bool mock_wait_fence(struct dma_fence *fence)
{
	return dma_fence_wait_timeout(fence, false,
				      msecs_to_jiffies(MOCK_WAIT_MS)) > 0;
}

static bool stats_equal(const struct dshim_stats *a,
			const struct dshim_stats *b)
{
	return a->scheds == b->scheds && a->entities == b->entities &&
	       a->queues == b->queues && a->jobs == b->jobs &&
	       a->fences == b->fences && a->timelines == b->timelines;
}

/* The live object counts must settle at @want (driver_bugs ignored). */
void dshim_test_expect_stats(struct kunit *test,
			     const struct dshim_stats *want)
{
	unsigned long end = jiffies + msecs_to_jiffies(2 * MOCK_WAIT_MS);
	struct dshim_stats s;

	for (;;) {
		dshim_stats_read(&s);
		if (stats_equal(&s, want))
			return;
		if (time_after(jiffies, end))
			break;
		usleep_range(500, 1000);
	}
	KUNIT_FAIL(test,
		   "live objects: scheds %llu entities %llu queues %llu jobs %llu fences %llu timelines %llu, want %llu %llu %llu %llu %llu %llu",
		   s.scheds, s.entities, s.queues, s.jobs, s.fences,
		   s.timelines, want->scheds, want->entities, want->queues,
		   want->jobs, want->fences, want->timelines);
}

/* Every shim object created by the test must be freed, soon. */
void dshim_test_expect_clean(struct kunit *test)
{
	static const struct dshim_stats zero;

	dshim_test_expect_stats(test, &zero);
}

/* The log scanner ignores WARNING splats between these two lines. */
/*
 * What dma_fence_describe() prints for shim fence @f on timeline @tl.
 * Since dma_fence_timeline_name() (6.17) it no longer asks a signalled fence for its names (and
 * prints context:seqno first); the shim's ops still answer, which the
 * tests check by calling them.
 */
void dshim_test_describe_expect(char *buf, size_t size, struct dma_fence *f,
				const char *tl, bool signalled)
{
#ifdef DSHIM_HAVE_DMA_FENCE_TIMELINE_NAME
	scnprintf(buf, size, "%llu:%llu %s %s %ssignalled\n", f->context,
		  f->seqno, signalled ? "" : tl,
		  signalled ? "" : "drm_sched_shim", signalled ? "" : "un");
#else
	scnprintf(buf, size, "drm_sched_shim %s seq %llu %ssignalled\n", tl,
		  f->seqno, signalled ? "" : "un");
#endif
}

void dshim_test_expect_warn_begin(void)
{
	pr_info("dshim: expected warning begin\n");
}

void dshim_test_expect_warn_end(void)
{
	pr_info("dshim: expected warning end\n");
}

int mock_suite_init(struct kunit *test)
{
	test->priv = mock_ctx_create(test);
	return 0;
}

void mock_suite_exit(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;

	if (ctx)
		mock_ctx_fini(ctx);
	dshim_test_expect_clean(test);
	if (ctx) {
		KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees),
				atomic_read(&ctx->created));
		/* run, timedout and cancel are fence signalling sections */
		KUNIT_EXPECT_EQ(test, atomic_read(&ctx->unannotated), 0);
	}
}
