/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The benchmarks' two drivers of one mock hardware (dshim_mock.c): the
 * shim's, and a minimal raw drm_sched driver written as drivers were in
 * 2023 (dshim_bench_raw.c): one drm_gpu_scheduler, with the submit
 * workqueue drm_sched allocates for it, and one entity per queue.
 */
#ifndef _DSHIM_BENCH_H_
#define _DSHIM_BENCH_H_

#include "dshim_test.h"

struct braw_queue;

struct braw_queue *braw_queue_create(struct mock_ctx *ctx, const char *name,
				     u32 credit_limit);
struct dma_fence *braw_submit(struct braw_queue *q, struct mock_job *mj);
int braw_queue_destroy(struct braw_queue *q);

/* dshim_bench.c: what both drivers report to the benchmark */
void bench_job_ran(struct mock_job *mj);
void bench_job_freed(struct mock_ctx *ctx, unsigned int id);

#endif /* _DSHIM_BENCH_H_ */
