/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Mock hardware and helpers shared by the shim's KUnit suites.
 *
 * The mock "driver" runs each job by creating a shim hardware fence that an
 * hrtimer signals after the job's duration (in hardirq context), or that
 * the test signals with mock_hw_advance(). It counts every callback, and
 * can drop references it was handed from inside any callback or the timer
 * interrupt, which is how the suites test "last reference dropped from a
 * callback" without the test thread holding anything.
 */
#ifndef _DSHIM_TEST_H_
#define _DSHIM_TEST_H_

#include <drm/drm_sched_shim.h>
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/spinlock.h>

#include "../c-shim/compat.h"

/* duration_us values with a meaning of their own */
#define MOCK_HANG	U32_MAX		/* until mock_hw_advance() or cancel */
#define MOCK_NO_FENCE	(U32_MAX - 1)	/* run returns NULL: done at once */

#define MOCK_MAX_DROPS	2	/* references parked at once */

/* outcome of a job whose hardware fence the mock never signalled */
#define MOCK_NOT_RUN	1

/* where the mock drops the references parked in &mock_ctx.drop */
enum mock_where {
	MOCK_NOWHERE,
	MOCK_IN_RUN,
	MOCK_IN_TIMEDOUT,
	MOCK_IN_CANCEL,
	MOCK_IN_FREE,
	MOCK_IN_HARDIRQ,	/* the hrtimer that completes a job */
	MOCK_IN_SOFTIRQ,	/* the same, as a softirq hrtimer */
};

/**
 * struct mock_where_case - a place the mock acts in, and how a test gets a
 *	job there
 * @what: the case's name
 * @where: the place
 * @duration_us: the job's duration (%MOCK_HANG: until cancel or timeout)
 * @timeout_ms: the scheduler's job timeout (0: none)
 */
struct mock_where_case {
	const char *what;
	enum mock_where where;
	u32 duration_us;
	u32 timeout_ms;
};

static inline void mock_where_case_to_desc(const struct mock_where_case *c,
					   char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

/**
 * struct mock_ctx - one mock device: counters, hardware timeline, hooks
 * @test: the running test
 * @hw_tl: timeline of the mock's hardware fences
 * @lock: protects @on_hw
 * @on_hw: jobs whose hardware fence is not signalled, in run order
 * @created: mock jobs created; @frees must reach it
 * @runs: &dshim_sched_ops.run calls (counted on entry: the job may not be
 *	on the hardware yet; wait for @hw_starts before touching it there)
 * @hw_starts: jobs mock_hw_run() put on the hardware, counted once they
 *	are on @on_hw
 * @frees: &dshim_sched_ops.free calls
 * @cancels: &dshim_sched_ops.cancel calls
 * @timeouts: &dshim_sched_ops.timedout calls
 * @releases: &dshim_sched_ops.release_priv calls (mock_ops_release)
 * @unannotated: run, timedout and cancel calls made outside a fence
 *	signalling section (lockdep kernels only: without lockdep every
 *	section looks nested); the suites' exit expects none
 * @drop_in: where to drop @drop (once)
 * @drop: references the mock drops at @drop_in, in order (mock_park_*())
 * @timeout_error: if set, timedout signals the job's hardware fence with it
 * @timeout_status: what timedout returns
 * @hw_signal: if set, called with &mock_job.id right before the hardware
 *	signals a job's fence (for the benchmarks' timestamps)
 */
struct mock_ctx {
	struct kunit *test;
	struct dshim_timeline *hw_tl;
	spinlock_t lock;	/* on_hw */
	struct list_head on_hw;
	atomic_t created;
	atomic_t runs;
	atomic_t hw_starts;
	atomic_t frees;
	atomic_t cancels;
	atomic_t timeouts;
	atomic_t releases;
	atomic_t unannotated;
	enum mock_where drop_in;
	struct mock_drop {
		void (*put)(void *obj);
		void *obj;
	} drop[MOCK_MAX_DROPS];
	int timeout_error;
	enum dshim_timeout_status timeout_status;
	void (*hw_signal)(struct mock_ctx *ctx, unsigned int id);
};

/**
 * struct mock_job - driver payload of one job
 * @ctx: the mock device
 * @hw_alloc: the hardware fence, allocated with the job, until run arms it
 * @hw_fence: the hardware fence run returned (the mock's own reference)
 * @link: in &mock_ctx.on_hw while on the hardware
 * @timer: completes the job after @duration_us
 * @duration_us: run time, or %MOCK_HANG, %MOCK_NO_FENCE
 * @run_sleep_ms: run sleeps this long before it starts the job
 * @run_error: if set, run returns ERR_PTR(@run_error)
 * @hw_error: error the hardware fence signals with on completion
 * @drop_where: where to drop @drop_queue; free drops it at the latest
 * @drop_queue: a queue reference this job's callbacks drop
 * @kill_at_drop: kill @drop_queue's queue right before dropping it
 * @outcome: if set, gets the error the hardware fence signalled with (the
 *	test sets it to %MOCK_NOT_RUN first); outlives the job
 * @id: free for the test's use (the benchmarks number their jobs)
 */
struct mock_job {
	struct mock_ctx *ctx;
	struct dshim_hw_fence *hw_alloc;
	struct dma_fence *hw_fence;
	struct list_head link;
	struct hrtimer timer;
	u32 duration_us;
	u32 run_sleep_ms;
	int run_error;
	int hw_error;
	enum mock_where drop_where;
	struct dshim_queue *drop_queue;
	bool kill_at_drop;
	int *outcome;
	unsigned int id;
};

extern const struct dshim_sched_ops mock_ops;
extern const struct dshim_sched_ops mock_ops_no_cancel;
extern const struct dshim_sched_ops mock_ops_release;

struct mock_ctx *mock_ctx_create(struct kunit *test);
void mock_ctx_fini(struct mock_ctx *ctx);
struct dshim_sched_desc mock_desc(struct mock_ctx *ctx, const char *name);
struct dshim_sched_desc mock_where_desc(struct mock_ctx *ctx,
					const struct mock_where_case *c,
					const char *name);
struct dshim_entity *mock_sched_entity(struct kunit *test,
				       const struct dshim_sched_desc *desc,
				       struct dshim_sched **sched);

struct mock_job *mock_job_alloc(struct mock_ctx *ctx, u32 duration_us);
void mock_job_free(struct mock_job *mj);
struct dshim_job *mock_job_wrap(struct mock_ctx *ctx,
				struct dshim_entity *entity,
				struct mock_job *mj);
struct dshim_job *mock_job_create(struct kunit *test, struct mock_ctx *ctx,
				  struct dshim_entity *entity, u32 duration_us);
struct dma_fence *mock_submit(struct kunit *test, struct mock_ctx *ctx,
			      struct dshim_entity *entity, u32 duration_us);
struct dma_fence *mock_submit_slow_run(struct kunit *test, struct mock_ctx *ctx,
				       struct dshim_entity *entity,
				       u32 duration_us, u32 run_sleep_ms);

struct dma_fence *mock_hw_run(struct mock_job *mj);
void mock_job_complete(struct mock_job *mj, int error);
void mock_hw_release(struct mock_job *mj);

unsigned int mock_hw_advance(struct mock_ctx *ctx, unsigned int n, int error);
unsigned int mock_hw_count(struct mock_ctx *ctx);
bool mock_hw_advance_timer(struct mock_ctx *ctx, u32 delay_us);
void mock_park_sched(struct mock_ctx *ctx, struct dshim_sched *sched);
void mock_park_entity(struct mock_ctx *ctx, struct dshim_entity *entity);
void mock_park_queue(struct mock_ctx *ctx, struct dshim_queue *queue);
void mock_park_call(struct mock_ctx *ctx, void (*fn)(void *arg), void *arg);
bool mock_parked(struct mock_ctx *ctx);
void mock_drop_refs(struct mock_ctx *ctx);

bool mock_in_signalling(void);
bool mock_wait_atomic(atomic_t *v, int n);
bool mock_wait_on_hw(struct mock_ctx *ctx, int n);
bool mock_wait_fence(struct dma_fence *fence);
void dshim_test_expect_stats(struct kunit *test,
			     const struct dshim_stats *want);
void dshim_test_expect_clean(struct kunit *test);
void dshim_test_describe_expect(char *buf, size_t size, struct dma_fence *f,
				const char *tl, bool signalled);
void dshim_test_expect_warn_begin(void);
void dshim_test_expect_warn_end(void);

/* suite init/exit that create a mock_ctx in test->priv and check leaks */
int mock_suite_init(struct kunit *test);
void mock_suite_exit(struct kunit *test);

#endif /* _DSHIM_TEST_H_ */
