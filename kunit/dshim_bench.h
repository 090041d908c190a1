/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The benchmarks' drivers of one mock hardware (dshim_mock.c): the shim's,
 * and a minimal raw drm_sched driver written as a 2026 driver writes it
 * (dshim_bench_raw.c): a drm_gpu_scheduler and one entity per queue, with
 * drm_sched's default submit workqueue (one per scheduler) or one the
 * driver shares between all its schedulers.
 */
#ifndef _DSHIM_BENCH_H_
#define _DSHIM_BENCH_H_

#include "dshim_test.h"

struct braw_queue;
struct workqueue_struct;

struct braw_queue *braw_queue_create(struct mock_ctx *ctx, const char *name,
				     u32 credit_limit,
				     struct workqueue_struct *submit_wq);
struct dma_fence *braw_submit(struct braw_queue *q, struct mock_job *mj);
int braw_queue_destroy(struct braw_queue *q);

/* dshim_bench.c: what every driver reports to the benchmark */
void bench_job_ran(struct mock_job *mj);
void bench_job_freed(struct mock_ctx *ctx, unsigned int id);

#endif /* _DSHIM_BENCH_H_ */
