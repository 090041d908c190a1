// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the teardown matrix.
 *
 * One parameterised case walks every combination of
 *
 *   order   what the driver tears down first: its scheduler reference, its
 *           entity reference, both in either order, or a queue (the second
 *           of a pair that is not torn down first is dropped at the end);
 *   state   where the job is at that moment: queued behind another job,
 *           waiting on a dependency, on the hardware, or done but not yet
 *           freed (its scheduler's workqueue is held up);
 *   signal  when the hardware fence signals: before the teardown, after it
 *           (the scheduler has no cancel op, the hardware finishes), or
 *           never until the shim calls cancel;
 *   where   where the teardown's references are dropped: the test thread,
 *           or inside run, timedout, cancel or free, or the completion
 *           interrupt in hardirq or softirq context,
 *
 * leaving out the cells that cannot happen (a job that is done cannot
 * time out; nothing calls run for a job already on the hardware). Every
 * cell checks that every job's free ran exactly once, that every fence
 * signalled with the error its job's hardware fence had (-ECANCELED if it
 * never ran) and that every shim object is gone; KASAN, lockdep and debug
 * objects check the rest.
 */

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/workqueue.h>

#include "dshim_test.h"

enum mx_order { MX_SCHED, MX_ENTITY, MX_SCHED_ENTITY, MX_ENTITY_SCHED,
		MX_QUEUE, MX_NR_ORDERS };
enum mx_state { MX_QUEUED, MX_WAITING, MX_ON_HW, MX_DONE, MX_NR_STATES };
enum mx_signal { MX_BEFORE, MX_AFTER, MX_NEVER, MX_NR_SIGNALS };

static const char * const mx_order_names[] = {
	"sched", "entity", "sched+entity", "entity+sched", "queue"
};

static const char * const mx_state_names[] = {
	"queued", "waiting", "on-hw", "done"
};

static const char * const mx_signal_names[] = {
	"signal-before", "signal-after", "signal-never"
};

static const char * const mx_where_names[] = {
	[MOCK_NOWHERE] = "in-test",
	[MOCK_IN_RUN] = "in-run",
	[MOCK_IN_TIMEDOUT] = "in-timedout",
	[MOCK_IN_CANCEL] = "in-cancel",
	[MOCK_IN_FREE] = "in-free",
	[MOCK_IN_HARDIRQ] = "in-hardirq",
	[MOCK_IN_SOFTIRQ] = "in-softirq",
};

#define MX_NR_WHERE	ARRAY_SIZE(mx_where_names)
#define MX_MAX_CELLS	(MX_NR_ORDERS * MX_NR_STATES * MX_NR_SIGNALS * MX_NR_WHERE)
#define MX_JOBS		2
#define MX_TIMEOUT_MS	10

struct mx_cell {
	enum mx_order order;
	enum mx_state state;
	enum mx_signal signal;
	enum mock_where where;
};

/* Whether a cell can happen at all; see the comment at the top. */
static bool mx_valid(const struct mx_cell *c)
{
	bool done = c->state == MX_DONE;
	bool before = c->signal == MX_BEFORE;

	/* a done job's hardware fence signalled before, and only then */
	if (done != before)
		return false;

	switch (c->where) {
	case MOCK_NOWHERE:
		return true;
	case MOCK_IN_RUN:
		/* run comes after the teardown only for jobs not yet run */
		return (c->state == MX_QUEUED && c->signal == MX_AFTER) ||
		       c->state == MX_WAITING;
	case MOCK_IN_TIMEDOUT:
		/* a job hangs on the hardware (the target or its blocker) */
		return c->state == MX_QUEUED || c->state == MX_ON_HW;
	case MOCK_IN_CANCEL:
		/* the shim cancels jobs on the hardware after a kill */
		return c->signal == MX_NEVER &&
		       (c->state == MX_QUEUED || c->state == MX_ON_HW);
	case MOCK_IN_FREE:
		return true;
	case MOCK_IN_HARDIRQ:
	case MOCK_IN_SOFTIRQ:
		/* the interrupt is the hardware finishing a job */
		return c->signal == MX_AFTER &&
		       (c->state == MX_QUEUED || c->state == MX_ON_HW);
	}
	return false;
}

static struct mx_cell mx_cells[MX_MAX_CELLS];
static unsigned int mx_nr_cells;

static void mx_build_cells(void)
{
	struct mx_cell c;

	mx_nr_cells = 0;
	for (c.order = 0; c.order < MX_NR_ORDERS; c.order++)
		for (c.state = 0; c.state < MX_NR_STATES; c.state++)
			for (c.signal = 0; c.signal < MX_NR_SIGNALS; c.signal++)
				for (c.where = 0; c.where < MX_NR_WHERE; c.where++)
					if (mx_valid(&c))
						mx_cells[mx_nr_cells++] = c;
}

static DSHIM_KUNIT_GEN_PARAMS(mx_gen_params)
{
	const struct mx_cell *c = prev;

	if (!c) {
		mx_build_cells();
		c = mx_cells;
	} else {
		c++;
	}
	if (c >= mx_cells + mx_nr_cells)
		return NULL;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s/%s/%s/%s",
		 mx_order_names[c->order], mx_state_names[c->state],
		 mx_signal_names[c->signal], mx_where_names[c->where]);
	return c;
}

/* One cell's objects: the driver's references and what it submitted. */
struct mx_run {
	const struct mx_cell *cell;
	struct mock_ctx *ctx;
	struct dshim_sched *sched;	/* driver reference, or NULL */
	struct dshim_entity *entity;	/* driver reference, or NULL */
	struct dshim_queue *queue;	/* driver reference, or NULL */
	struct dshim_sched *target_sched;	/* borrowed, for kills */
	struct dshim_entity *target_entity;	/* borrowed */
	struct dshim_queue *target_queue;	/* borrowed, for kills */
	struct workqueue_struct *wq;	/* MX_DONE: holds up free */
	struct work_struct stall;
	struct completion unstall;
	struct dma_fence *dep;		/* MX_WAITING: the dependency */
	struct dma_fence *fences[MX_JOBS];
	int outcomes[MX_JOBS];
	int nr_jobs;
};

static void mx_stall(struct work_struct *work)
{
	struct mx_run *r = container_of(work, struct mx_run, stall);

	wait_for_completion(&r->unstall);
}

static void mx_unstall(struct mx_run *r)
{
	if (r->wq)
		complete(&r->unstall);
}

static void mx_setup(struct kunit *test, struct mx_run *r)
{
	const struct mx_cell *c = r->cell;
	struct dshim_sched_desc desc = mock_desc(r->ctx, "matrix");

	/* no cancel op: only the hardware signals its fences */
	if (c->signal != MX_NEVER)
		desc.ops = &mock_ops_no_cancel;
	if (c->state == MX_QUEUED)
		desc.credit_limit = 1;
	if (c->where == MOCK_IN_TIMEDOUT)
		desc.timeout_ms = MX_TIMEOUT_MS;
	if (c->state == MX_DONE) {
		/* run and free both run on it: a stall holds up the free */
		r->wq = alloc_ordered_workqueue("dshim-matrix", 0);
		KUNIT_ASSERT_NOT_NULL(test, r->wq);
		INIT_WORK(&r->stall, mx_stall);
		init_completion(&r->unstall);
		desc.submit_wq = r->wq;
	}

	if (c->order == MX_QUEUE) {
		r->queue = dshim_queue_create(&desc);
		KUNIT_ASSERT_FALSE(test, IS_ERR(r->queue));
		r->target_queue = r->queue;
		r->target_entity = dshim_queue_entity(r->queue);
		return;
	}
	r->entity = mock_sched_entity(test, &desc, &r->sched);
	r->target_sched = r->sched;
	r->target_entity = r->entity;
}

static void mx_submit(struct kunit *test, struct mx_run *r, u32 duration_us,
		      struct dma_fence *dep)
{
	struct mock_job *mj = mock_job_alloc(r->ctx, duration_us);
	struct dshim_job *job;
	int n = r->nr_jobs;

	KUNIT_ASSERT_NOT_NULL(test, mj);
	r->outcomes[n] = MOCK_NOT_RUN;
	mj->outcome = &r->outcomes[n];
	job = mock_job_wrap(r->ctx, r->target_entity, mj);
	KUNIT_ASSERT_FALSE(test, IS_ERR(job));
	if (dep)
		KUNIT_ASSERT_EQ(test, dshim_job_add_dependency(job, dep), 0);
	r->fences[n] = dshim_job_submit(job);
	KUNIT_ASSERT_FALSE(test, IS_ERR(r->fences[n]));
	r->nr_jobs++;
}

/* Bring the jobs to the cell's state. */
static void mx_jobs(struct kunit *test, struct mx_run *r)
{
	struct mock_ctx *ctx = r->ctx;

	switch (r->cell->state) {
	case MX_QUEUED:
		/* credit_limit 1: the second waits for the first to finish */
		mx_submit(test, r, MOCK_HANG, NULL);
		mx_submit(test, r, MOCK_HANG, NULL);
		KUNIT_ASSERT_TRUE(test, mock_wait_on_hw(ctx, 1));
		break;
	case MX_WAITING:
		r->dep = dshim_hw_fence_create(ctx->hw_tl);
		KUNIT_ASSERT_FALSE(test, IS_ERR(r->dep));
		mx_submit(test, r, 0, dma_fence_get(r->dep));
		break;
	case MX_ON_HW:
		mx_submit(test, r, MOCK_HANG, NULL);
		KUNIT_ASSERT_TRUE(test, mock_wait_on_hw(ctx, 1));
		break;
	case MX_DONE:
		mx_submit(test, r, MOCK_HANG, NULL);
		KUNIT_ASSERT_TRUE(test, mock_wait_on_hw(ctx, 1));
		queue_work(r->wq, &r->stall);
		KUNIT_ASSERT_EQ(test, mock_hw_advance(ctx, 1, 0), 1);
		KUNIT_ASSERT_TRUE(test, mock_wait_fence(r->fences[0]));
		break;
	default:
		KUNIT_FAIL(test, "bad state %d", r->cell->state);
	}
}

/*
 * Kill what the order tears down first, without dropping a reference: the
 * references are parked with the mock, not dropped, so the borrowed
 * pointers are good until the kill starts. A scheduler's or entity's
 * memory outlives the call (the job holds it), but the queue handle does
 * not: the kill's cancel may drop its parked last reference, on another
 * CPU, before dshim_queue_kill() is done with it (a use-after-free seen
 * on 4 vCPUs). So a queue is killed as dshim_queue_kill() does, through
 * its parts, held.
 */
static void mx_kill_first(struct mx_run *r)
{
	struct dshim_entity *entity;
	struct dshim_sched *sched;

	switch (r->cell->order) {
	case MX_SCHED:
	case MX_SCHED_ENTITY:
		dshim_sched_shutdown(r->target_sched);
		break;
	case MX_ENTITY:
	case MX_ENTITY_SCHED:
		dshim_entity_kill(r->target_entity);
		break;
	default:
		sched = dshim_sched_get(dshim_queue_sched(r->target_queue));
		entity = dshim_entity_get(r->target_entity);
		dshim_entity_kill(entity);
		dshim_sched_shutdown(sched);
		dshim_entity_put(entity);
		dshim_sched_put(sched);
		break;
	}
}

/* Drop the driver's reference now, or hand it to the mock (@now false). */
static void mx_put_sched(struct mx_run *r, bool now)
{
	if (now)
		dshim_sched_put(r->sched);
	else
		mock_park_sched(r->ctx, r->sched);
	r->sched = NULL;
}

static void mx_put_entity(struct mx_run *r, bool now)
{
	if (now)
		dshim_entity_put(r->entity);
	else
		mock_park_entity(r->ctx, r->entity);
	r->entity = NULL;
}

/*
 * The teardown: the references the order drops first, put now in the test
 * thread or handed to the mock to put at the cell's place. Whatever is
 * left is put at the end of the test.
 */
static void mx_teardown(struct mx_run *r)
{
	bool now = r->cell->where == MOCK_NOWHERE;

	switch (r->cell->order) {
	case MX_SCHED_ENTITY:
		mx_put_sched(r, now);
		mx_put_entity(r, now);
		break;
	case MX_SCHED:
		mx_put_sched(r, now);
		break;
	case MX_ENTITY_SCHED:
		mx_put_entity(r, now);
		mx_put_sched(r, now);
		break;
	case MX_ENTITY:
		mx_put_entity(r, now);
		break;
	default:
		if (now)
			dshim_queue_put(r->queue);
		else
			mock_park_queue(r->ctx, r->queue);
		r->queue = NULL;
		break;
	}
}

/* Make the callback at the cell's place happen. */
static void mx_trigger(struct kunit *test, struct mx_run *r)
{
	const struct mx_cell *c = r->cell;
	struct mock_ctx *ctx = r->ctx;

	switch (c->where) {
	case MOCK_IN_RUN:
		/* the next job runs once its blocker or dependency is done */
		if (c->state == MX_QUEUED)
			KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 1, 0), 1);
		else
			dshim_hw_fence_signal(r->dep, 0);
		break;
	case MOCK_IN_TIMEDOUT:
		break;		/* the hung job times out by itself */
	case MOCK_IN_CANCEL:
		mx_kill_first(r);
		break;
	case MOCK_IN_FREE:
		/* some job must get to its free without the teardown */
		if (c->state == MX_DONE) {
			mx_unstall(r);
		} else if (c->state == MX_WAITING) {
			if (c->signal == MX_NEVER)
				mx_kill_first(r);
			dshim_hw_fence_signal(r->dep, 0);
		} else if (c->signal == MX_NEVER) {
			mx_kill_first(r);	/* cancel completes, then free */
		} else {
			KUNIT_EXPECT_EQ(test, mock_hw_advance(ctx, 1, 0), 1);
		}
		break;
	case MOCK_IN_HARDIRQ:
	case MOCK_IN_SOFTIRQ:
		KUNIT_EXPECT_TRUE(test, mock_hw_advance_timer(ctx, 100));
		break;
	default:
		break;
	}
}

/* Wait for the parked references to be dropped. */
static bool mx_wait_dropped(struct mock_ctx *ctx)
{
	unsigned long end = jiffies + msecs_to_jiffies(5000);

	while (mock_parked(ctx)) {
		if (time_after(jiffies, end))
			return false;
		usleep_range(200, 500);
	}
	return true;
}

/* Let the hardware finish whatever it still has, until every fence is done. */
static void mx_finish(struct kunit *test, struct mx_run *r)
{
	unsigned long end = jiffies + msecs_to_jiffies(5000);
	int i;

	if (r->dep && !dma_fence_is_signaled(r->dep))
		dshim_hw_fence_signal(r->dep, 0);
	mx_unstall(r);
	for (i = 0; i < r->nr_jobs; i++) {
		while (!dma_fence_is_signaled(r->fences[i])) {
			/* with a cancel op, the shim cancels: never advance */
			if (r->cell->signal != MX_NEVER)
				mock_hw_advance(r->ctx, 1, 0);
			if (time_after(jiffies, end)) {
				KUNIT_FAIL(test, "job %d: fence not signalled", i);
				return;
			}
			usleep_range(200, 500);
		}
	}
}

static void dshim_matrix_teardown(struct kunit *test)
{
	const struct mx_cell *c = test->param_value;
	struct mx_run *r;
	int i, want;

	/* not on the stack: it holds a work item */
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->cell = c;
	r->ctx = test->priv;
	/* before any job exists: the timers' mode depends on it */
	r->ctx->drop_in = c->where;
	mx_setup(test, r);
	mx_jobs(test, r);

	mx_teardown(r);
	if (c->where != MOCK_NOWHERE) {
		mx_trigger(test, r);
		KUNIT_EXPECT_TRUE_MSG(test, mx_wait_dropped(r->ctx),
				      "references not dropped %s",
				      mx_where_names[c->where]);
	}
	mx_finish(test, r);

	/* the other half of a pair not torn down first */
	dshim_entity_put(r->entity);
	dshim_sched_put(r->sched);

	KUNIT_EXPECT_TRUE(test, mock_wait_atomic(&r->ctx->frees, r->nr_jobs));
	for (i = 0; i < r->nr_jobs; i++) {
		want = READ_ONCE(r->outcomes[i]);
		if (want == MOCK_NOT_RUN)
			want = -ECANCELED;
		KUNIT_EXPECT_EQ_MSG(test, r->fences[i]->error, want, "job %d", i);
		dma_fence_put(r->fences[i]);
	}
	dma_fence_put(r->dep);
	if (r->wq) {
		/* every scheduler gone (the mock's timeline stays) */
		struct dshim_stats s = { .timelines = 1 };

		dshim_test_expect_stats(test, &s);
		destroy_workqueue(r->wq);
	}
}

static struct kunit_case dshim_matrix_cases[] = {
	KUNIT_CASE_PARAM(dshim_matrix_teardown, mx_gen_params),
	{}
};

static struct kunit_suite dshim_matrix_suite = {
	.name = "dshim_teardown_matrix",
	.init = mock_suite_init,
	.exit = mock_suite_exit,
	.test_cases = dshim_matrix_cases,
};

kunit_test_suite(dshim_matrix_suite);
