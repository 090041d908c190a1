// SPDX-License-Identifier: GPL-2.0-only
/*
 * Raw drm_sched reproducers: the "before" picture of make demo.
 *
 * Each suite drives drm_sched directly, the way drivers did in 2023 (one
 * scheduler and one entity per userspace queue; at close, destroy the
 * entity, drm_sched_fini() and kfree()), through one teardown order that
 * the shim makes safe. Where the kernel has
 * &drm_sched_backend_ops.cancel_job (7.3), the driver implements it, as a
 * driver written today would: then some scenarios are fixed upstream, and
 * make demo says so. Each is EXPECTED to produce kernel reports (KASAN
 * use-after-free, lockdep, a hung task): that is what they are for. Run
 * each suite in a boot of its own, since KASAN's first report turns
 * lockdep off. Never part of make check; only with
 * CONFIG_DRM_SCHED_SHIM_RAW_REPRO, which nobody should enable elsewhere.
 *
 * The judgement is in the kernel log, read by make demo, not in the
 * cases' results (KUnit fails a case whose own thread hits a KASAN
 * report; a case whose worker deadlocks passes). Their hardware is the shim's
 * hardware fence (a plain dma_fence with no scheduler behind it), which
 * the test signals by hand.
 */

#include <drm/gpu_scheduler.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/kref.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "../c-shim/compat.h"
#include "dshim_test.h"

#define RAW_WAIT	msecs_to_jiffies(2000)

/* A 2023-style driver queue: a scheduler and an entity, refcounted. */
struct raw_queue {
	struct kref ref;
	struct drm_gpu_scheduler sched;
	struct drm_sched_entity entity;
	struct dshim_timeline *hw_tl;
};

/*
 * Completed by the release, after the queue is freed: so it lives outside
 * the queue, and outside the test's stack, since a deadlocked release may
 * complete it after the case has returned. One boot runs one suite.
 */
static struct completion raw_released;

struct raw_job {
	struct drm_sched_job base;
	struct raw_queue *queue;	/* a reference, if held_by_job */
	struct dma_fence *hw_fence;	/* the test's copy of run's fence */
	struct completion ran;
};

static void raw_queue_release(struct kref *ref)
{
	struct raw_queue *q = container_of(ref, struct raw_queue, ref);

	/* what drivers did at close, whatever context the last put is in */
	drm_sched_entity_destroy(&q->entity);
	drm_sched_fini(&q->sched);
	dshim_timeline_put(q->hw_tl);
	kfree(q);
	complete(&raw_released);
}

static void raw_queue_put(struct raw_queue *q)
{
	kref_put(&q->ref, raw_queue_release);
}

static struct dma_fence *raw_run_job(struct drm_sched_job *sj)
{
	struct raw_job *job = container_of(sj, struct raw_job, base);
	struct dma_fence *fence = dshim_hw_fence_create(job->queue->hw_tl);

	if (IS_ERR(fence))
		return fence;
	job->hw_fence = dma_fence_get(fence);
	complete(&job->ran);
	return fence;
}

static enum drm_gpu_sched_stat raw_timedout_job(struct drm_sched_job *sj)
{
	return DSHIM_SCHED_STAT_RESET;
}

#ifdef DSHIM_HAVE_SCHED_CANCEL_JOB
/* drm_sched_fini() cancels the jobs still on the hardware (7.3) */
static void raw_cancel_job(struct drm_sched_job *sj)
{
	struct raw_job *job = container_of(sj, struct raw_job, base);

	if (job->hw_fence)
		dshim_hw_fence_signal(job->hw_fence, -ECANCELED);
}
#endif

static void raw_free_job(struct drm_sched_job *sj)
{
	struct raw_job *job = container_of(sj, struct raw_job, base);
	struct raw_queue *q = job->queue;

	drm_sched_job_cleanup(sj);
	dma_fence_put(job->hw_fence);
	kfree(job);
	/* the job's reference on its queue: maybe the last one */
	raw_queue_put(q);
}

static const struct drm_sched_backend_ops raw_ops = {
	.run_job = raw_run_job,
	.timedout_job = raw_timedout_job,
	.free_job = raw_free_job,
#ifdef DSHIM_HAVE_SCHED_CANCEL_JOB
	.cancel_job = raw_cancel_job,
#endif
};

static struct raw_queue *raw_queue_create(struct kunit *test)
{
	struct drm_sched_init_args args = {
		.ops = &raw_ops,
		.num_rqs = DRM_SCHED_PRIORITY_COUNT,
		.credit_limit = 16,
		.timeout = MAX_SCHEDULE_TIMEOUT,
		.name = "raw-queue",
		/* no submit_wq: drm_sched allocates its own, as drivers did */
	};
	struct drm_gpu_scheduler *list[1];
	struct raw_queue *q;

	q = kzalloc_obj(*q, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	kref_init(&q->ref);
	init_completion(&raw_released);
	q->hw_tl = dshim_timeline_create("raw-hw");
	KUNIT_ASSERT_FALSE(test, IS_ERR(q->hw_tl));
	KUNIT_ASSERT_EQ(test, drm_sched_init(&q->sched, &args), 0);
	list[0] = &q->sched;
	KUNIT_ASSERT_EQ(test, drm_sched_entity_init(&q->entity,
						    DRM_SCHED_PRIORITY_NORMAL,
						    list, 1, NULL), 0);
	return q;
}

/* Wait until only the driver's reference is left: the jobs are freed. */
static bool raw_wait_freed(struct raw_queue *q)
{
	unsigned long end = jiffies + RAW_WAIT;

	while (kref_read(&q->ref) > 1) {
		if (time_after(jiffies, end))
			return false;
		usleep_range(1000, 2000);
	}
	return true;
}

/*
 * Submit a job holding a queue reference, after @dep if not NULL (the
 * reference is consumed); returns its finished fence.
 */
static struct dma_fence *raw_submit(struct kunit *test, struct raw_queue *q,
				    struct dma_fence *dep,
				    struct raw_job **out)
{
	struct raw_job *job = kzalloc_obj(*job, GFP_KERNEL);
	struct dma_fence *finished;

	KUNIT_ASSERT_NOT_NULL(test, job);
	init_completion(&job->ran);
	KUNIT_ASSERT_EQ(test, dshim_compat_job_init(&job->base, &q->entity,
						    1, NULL), 0);
	if (dep)
		KUNIT_ASSERT_EQ(test, drm_sched_job_add_dependency(&job->base,
								   dep), 0);
	kref_get(&q->ref);
	job->queue = q;
	drm_sched_job_arm(&job->base);
	finished = dma_fence_get(&job->base.s_fence->finished);
	drm_sched_entity_push_job(&job->base);
	*out = job;
	return finished;
}

/*
 * Rule 1: the scheduler is torn down while a job is on the hardware; the
 * hardware fence signals afterwards and drm_sched_job_done() writes to
 * the freed scheduler.
 */
static void raw_repro_teardown_with_job_on_hw(struct kunit *test)
{
	struct raw_queue *q = raw_queue_create(test);
	struct dma_fence *finished, *hw;
	struct raw_job *job;

	finished = raw_submit(test, q, NULL, &job);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&job->ran, RAW_WAIT),
			0);
	hw = dma_fence_get(job->hw_fence);

	/* process killed: the driver drops its queue; the job still holds one */
	drm_sched_entity_destroy(&q->entity);
	drm_sched_fini(&q->sched);
	dshim_timeline_put(q->hw_tl);
	kfree(q);
	kunit_info(test, "scheduler freed with a job on the hardware\n");

	dshim_hw_fence_signal(hw, 0);	/* the hardware finishes: KASAN */
	dma_fence_put(hw);
	dma_fence_put(finished);
}

/*
 * Rule 3: the fences a process exported outlive its queue, and reading
 * their timeline name (what /sys/kernel/debug/dma_buf/bufinfo and
 * sync_file do) dereferences the freed scheduler.
 */
static void raw_repro_fence_name_after_free(struct kunit *test)
{
	struct raw_queue *q = raw_queue_create(test);
	struct dma_fence *finished;
	struct raw_job *job;
	char buf[128] = {};
	struct seq_file m = { .buf = buf, .size = sizeof(buf) - 1 };

	finished = raw_submit(test, q, NULL, &job);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&job->ran, RAW_WAIT),
			0);
	dshim_hw_fence_signal(job->hw_fence, 0);
	KUNIT_ASSERT_GT(test, dma_fence_wait_timeout(finished, false,
						     RAW_WAIT), 0);
	/* free_job puts the job's reference; the driver's is the last */
	KUNIT_ASSERT_TRUE(test, raw_wait_freed(q));
	raw_queue_put(q);
	KUNIT_ASSERT_TRUE(test, completion_done(&raw_released));

	dma_fence_describe(finished, &m);	/* reads sched->name: KASAN */
	kunit_info(test, "fence read after its scheduler was freed: %s", buf);
	dma_fence_put(finished);
}

/*
 * Rule 2: a dying process's entity is killed with jobs still queued and
 * the scheduler torn down right after; the entity's kill work then frees
 * those jobs through the freed scheduler's ops.
 */
static void raw_repro_kill_then_teardown(struct kunit *test)
{
	struct raw_queue *q = raw_queue_create(test);
	struct dma_fence *finished[8], *dep;
	struct raw_job *job;
	int i;

	/* jobs held back by a dependency the hardware never signals */
	dep = dshim_hw_fence_create(q->hw_tl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(dep));
	for (i = 0; i < ARRAY_SIZE(finished); i++)
		finished[i] = raw_submit(test, q, dma_fence_get(dep), &job);

	/* no flush: the process is dying, the entity is killed at once */
	drm_sched_entity_fini(&q->entity);
	drm_sched_fini(&q->sched);
	kfree(q);
	kunit_info(test, "entity killed and scheduler freed with %zu jobs queued\n",
		   ARRAY_SIZE(finished));

	dshim_hw_fence_signal(dep, 0);	/* kill work runs: KASAN */
	for (i = 0; i < ARRAY_SIZE(finished); i++) {
		dma_fence_wait_timeout(finished[i], false, RAW_WAIT);
		dma_fence_put(finished[i]);
	}
	dma_fence_put(dep);
}

/*
 * Rule 4: the job holds the last reference to its queue and drops it in
 * free_job, on the scheduler's own workqueue: drm_sched_fini() then
 * cancels the very work it runs in (lockdep), waits for it forever (a
 * hung task) and frees the workqueue under it.
 */
static void raw_repro_last_put_in_free_job(struct kunit *test)
{
	struct raw_queue *q = raw_queue_create(test);
	struct dma_fence *finished;
	struct raw_job *job;
	bool released;

	finished = raw_submit(test, q, NULL, &job);
	raw_queue_put(q);	/* only the job holds the queue now */
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&job->ran, RAW_WAIT),
			0);
	dshim_hw_fence_signal(job->hw_fence, 0);

	released = wait_for_completion_timeout(&raw_released, 5 * RAW_WAIT);
	kunit_info(test, "free_job dropped the last queue reference: teardown %s\n",
		   released ? "returned" : "deadlocked in the free_job worker");
	dma_fence_put(finished);
}

#define RAW_SUITE(_name)						\
	static struct kunit_case _name##_cases[] = {			\
		KUNIT_CASE_SLOW(raw_repro_##_name),			\
		{}							\
	};								\
	static struct kunit_suite _name##_suite = {			\
		.name = "raw_drm_sched_" #_name,			\
		.test_cases = _name##_cases,				\
	}

RAW_SUITE(teardown_with_job_on_hw);
RAW_SUITE(fence_name_after_free);
RAW_SUITE(kill_then_teardown);
RAW_SUITE(last_put_in_free_job);

kunit_test_suites(&teardown_with_job_on_hw_suite, &fence_name_after_free_suite,
		  &kill_then_teardown_suite, &last_put_in_free_job_suite);
