// SPDX-License-Identifier: GPL-2.0-only
/*
 * The demo (make demo): a driver's life with the shim, told step by step.
 *
 * A firmware-scheduled GPU driver gives each userspace queue its own
 * scheduler. A process submits dependent work to three queues and is
 * killed while jobs are on the hardware; the driver drops everything at
 * once; the fences the process exported live on and are read afterwards.
 * With raw drm_sched each of these steps is one of its hidden lifetime
 * rules; here every step is checked by KASAN, lockdep and the shim's own
 * accounting.
 */

#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/sched/stat.h>
#include <linux/seq_file.h>

#include "dshim_test.h"

#define DEMO_QUEUES	3
#define DEMO_JOBS	4

static void demo_stats(struct kunit *test, const char *when)
{
	struct dshim_stats s;

	dshim_stats_read(&s);
	kunit_info(test,
		   "%-28s scheds %llu entities %llu queues %llu jobs %llu fences %llu timelines %llu\n",
		   when, s.scheds, s.entities, s.queues, s.jobs, s.fences,
		   s.timelines);
}

static void dshim_demo_killed_process(struct kunit *test)
{
	struct mock_ctx *ctx = test->priv;
	static const char * const names[DEMO_QUEUES] = {
		"render-q0", "compute-q1", "blit-q2"
	};
	struct dma_fence *fences[DEMO_QUEUES * DEMO_JOBS];
	struct dshim_queue *queues[DEMO_QUEUES];
	struct dma_fence *prev;
	int threads, q, j, n = 0;
	char buf[96];

	kunit_info(test, "step 1: a process opens three GPU queues\n");
	threads = nr_threads;
	for (q = 0; q < DEMO_QUEUES; q++) {
		struct dshim_sched_desc desc = mock_desc(ctx, names[q]);

		queues[q] = dshim_queue_create(&desc);
		KUNIT_ASSERT_FALSE(test, IS_ERR(queues[q]));
	}
	kunit_info(test, "  kernel threads added for %d queues: %d\n",
		   DEMO_QUEUES, nr_threads - threads);
	KUNIT_EXPECT_EQ(test, nr_threads, threads);
	demo_stats(test, "  after creation:");

	kunit_info(test,
		   "step 2: it submits %d jobs per queue; each queue's first job waits for the previous queue's first, the last job of each runs for 10 s\n",
		   DEMO_JOBS);
	for (q = 0; q < DEMO_QUEUES; q++) {
		for (j = 0; j < DEMO_JOBS; j++) {
			struct dshim_job *job;

			job = mock_job_create(test, ctx,
					      dshim_queue_entity(queues[q]),
					      j == DEMO_JOBS - 1 ?
					      10 * USEC_PER_SEC : 1000);
			KUNIT_ASSERT_FALSE(test, IS_ERR(job));
			if (!j && q) {
				prev = dma_fence_get(fences[n - DEMO_JOBS]);
				KUNIT_EXPECT_EQ(test,
						dshim_job_add_dependency(job, prev),
						0);
			}
			fences[n] = dshim_job_submit(job);
			KUNIT_ASSERT_FALSE(test, IS_ERR(fences[n]));
			n++;
		}
	}
	KUNIT_EXPECT_TRUE(test, mock_wait_atomic(&ctx->runs, n));
	kunit_info(test, "  jobs on the hardware: %u, run so far: %d\n",
		   mock_hw_count(ctx), atomic_read(&ctx->runs));
	demo_stats(test, "  while running:");

	kunit_info(test,
		   "step 3: the process is killed; the driver drops all queues at once, without waiting\n");
	for (q = 0; q < DEMO_QUEUES; q++)
		dshim_queue_put(queues[q]);
	for (n = 0; n < ARRAY_SIZE(fences); n++)
		KUNIT_EXPECT_TRUE(test, mock_wait_fence(fences[n]));
	KUNIT_EXPECT_TRUE(test, mock_wait_atomic(&ctx->frees, n));
	kunit_info(test,
		   "  all %zu fences signalled: %d jobs reached the hardware, cancelled there: %d, jobs freed: %d (each exactly once)\n",
		   ARRAY_SIZE(fences), atomic_read(&ctx->runs),
		   atomic_read(&ctx->cancels), atomic_read(&ctx->frees));

	kunit_info(test,
		   "step 4: the schedulers are gone; the exported fences are not\n");
	dshim_test_expect_stats(test, &(struct dshim_stats){
		.fences = ARRAY_SIZE(fences), .timelines = DEMO_QUEUES + 1 });
	demo_stats(test, "  with only fences left:");
	for (n = DEMO_JOBS - 1; n < ARRAY_SIZE(fences); n += DEMO_JOBS) {
		struct seq_file m = { .buf = buf, .size = sizeof(buf) - 1 };

		memset(buf, 0, sizeof(buf));
		dma_fence_describe(fences[n], &m);
		kunit_info(test, "  debugfs reads a dead queue's fence: %s",
			   buf);
		kunit_info(test, "  its error: %d (%s)\n", fences[n]->error,
			   fences[n]->error == -ECANCELED ? "-ECANCELED" :
			   fences[n]->error ? "error" : "success");
	}

	kunit_info(test, "step 5: the last fence references go\n");
	for (n = 0; n < ARRAY_SIZE(fences); n++)
		dma_fence_put(fences[n]);
	mock_ctx_fini(ctx);
	dshim_test_expect_clean(test);
	demo_stats(test, "  at the end:");
	test->priv = NULL;
}

static struct kunit_case dshim_demo_cases[] = {
	KUNIT_CASE(dshim_demo_killed_process),
	{}
};

static struct kunit_suite dshim_demo_suite = {
	.name = "dshim_demo",
	.init = mock_suite_init,
	.exit = mock_suite_exit,
	.test_cases = dshim_demo_cases,
};

kunit_test_suite(dshim_demo_suite);
