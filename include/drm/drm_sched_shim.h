/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * drm_sched_shim: ownership-explicit handles over the DRM GPU scheduler.
 *
 * This is the only header drivers (and bindgen) see. Every object is opaque
 * and reached through a counted reference; the rules each function follows
 * are in its kernel-doc and in the "ownership contract" DOC block of
 * drivers/gpu/drm/sched_shim/c-shim/dshim_main.c.
 */
#ifndef _DRM_SCHED_SHIM_H_
#define _DRM_SCHED_SHIM_H_

#include <linux/bits.h>
#include <linux/dma-fence.h>
#include <linux/types.h>

struct device;
struct module;
struct workqueue_struct;

struct dshim_entity;
struct dshim_hw_fence;
struct dshim_job;
struct dshim_queue;
struct dshim_sched;
struct dshim_timeline;

/** DSHIM_NAME_MAX - longest scheduler or timeline name, including the NUL */
#define DSHIM_NAME_MAX 32

/** DSHIM_MAX_PRIORITIES - most run queues (priorities) a scheduler can have */
#define DSHIM_MAX_PRIORITIES 4

/**
 * enum dshim_timeout_status - what &dshim_sched_ops.timedout tells the shim
 * @DSHIM_TIMEOUT_CONTINUE: the device is alive; re-arm the timeout timer.
 *	The job stays on the hardware until its hardware fence signals.
 * @DSHIM_TIMEOUT_DEVICE_GONE: the device is gone; do not re-arm the timer.
 */
enum dshim_timeout_status {
	DSHIM_TIMEOUT_CONTINUE = 0,
	DSHIM_TIMEOUT_DEVICE_GONE = 1,
};

/**
 * struct dshim_sched_ops - the driver's side of a scheduler
 *
 * Every callback receives a job the shim keeps alive for the duration of
 * the call (a borrowed pointer: take dshim_job_get() to keep it longer).
 * Every callback may drop any shim reference, including the last one of
 * the job's scheduler, entity or queue; that never deadlocks.
 *
 * @run: Put the job on the hardware. Called once per job, from a
 *	workqueue (or from dshim_job_submit() on a queue with
 *	%DSHIM_QUEUE_DIRECT_SUBMIT), in the order jobs were submitted to
 *	their entity. Return
 *	the hardware fence (its reference passes to the shim), NULL if the
 *	job completed synchronously, or an ERR_PTR() which fails the job's
 *	fence with that error. Mandatory.
 * @timedout: The job has been on the hardware longer than the scheduler's
 *	timeout. Typically the driver bans the queue and signals the job's
 *	hardware fence with an error. Called from the timeout workqueue, only
 *	for a job whose @run returned a hardware fence that has not signalled
 *	yet. Optional: without it the timer is re-armed.
 * @cancel: Shutdown asks the driver to force-complete a job that is on the
 *	hardware: the driver must make its hardware fence signal soon (with
 *	-ECANCELED, say). Called at most once per job, in process context,
 *	never under a shim lock. Optional: without it jobs on the hardware
 *	run to completion.
 * @free: Release the driver's payload of the job. Called exactly once for
 *	every job ever created, whatever happened to it, in process context
 *	(a workqueue). Mandatory.
 * @release_priv: Release &dshim_sched_desc.priv, which a scheduler created
 *	with this callback owns: called exactly once, when the scheduler's
 *	memory is freed, after the @free of its last job and once no
 *	handle of any kind is left, in process context (a workqueue). Until
 *	then dshim_sched_priv() may be called on any handle or job of the
 *	scheduler, callbacks included. Not called if the creation fails: the
 *	caller keeps its data. A module with such schedulers does not finish
 *	going until each was released (see "driver modules"). Optional.
 */
struct dshim_sched_ops {
	struct dma_fence *(*run)(struct dshim_job *job);
	enum dshim_timeout_status (*timedout)(struct dshim_job *job);
	void (*cancel)(struct dshim_job *job);
	void (*free)(struct dshim_job *job);
	void (*release_priv)(void *priv);
};

/**
 * struct dshim_sched_desc - describes a scheduler to create
 * @ops: driver callbacks, must outlive the scheduler (normally static).
 * @owner: the module @ops live in: %THIS_MODULE. While the scheduler has
 *	jobs (from the creation of the first to the @ops.free of the last)
 *	it holds a reference on the module, so that rmmod is refused while
 *	the shim may still call it; an idle scheduler pins nothing. If
 *	NULL, the shim takes the module the @ops table lies in, if any (as
 *	for Rust drivers).
 * @priv: driver data, returned by dshim_sched_priv(); released by
 *	&dshim_sched_ops.release_priv, if the ops have it.
 * @name: name, copied; at most %DSHIM_NAME_MAX - 1 characters. Also the
 *	timeline name of every fence the scheduler hands out.
 * @dev: optional device, used only for printing.
 * @credit_limit: credits the hardware can hold at once (>= 1; 0 gets
 *	-EINVAL without a warning, as it may come from userspace).
 * @num_priorities: run queues, 1 to %DSHIM_MAX_PRIORITIES; 0 means 1.
 *	Entity priority 0 is the highest.
 * @timeout_ms: job timeout in milliseconds; 0 disables the timeout.
 * @submit_wq: optional workqueue for run and free work. NULL shares the
 *	shim's own per-CPU %WQ_MEM_RECLAIM workqueue between all schedulers.
 *	(A direct-submit queue's jobs run from submit are freed from the
 *	shim's workqueue.)
 * @timeout_wq: optional workqueue for timeout work; NULL uses system_wq.
 * @flags: %DSHIM_QUEUE_DIRECT_SUBMIT, or 0.
 */
struct dshim_sched_desc {
	const struct dshim_sched_ops *ops;
	struct module *owner;
	void *priv;
	const char *name;
	struct device *dev;
	u32 credit_limit;
	u32 num_priorities;
	u32 timeout_ms;
	struct workqueue_struct *submit_wq;
	struct workqueue_struct *timeout_wq;
	u32 flags;
};

/**
 * DSHIM_QUEUE_DIRECT_SUBMIT - run jobs from dshim_job_submit() when idle
 *
 * For dshim_queue_create() only, without a timeout: a job submitted while
 * the queue has no job waiting in drm_sched, whose dependencies have all
 * signalled without error and whose credits fit next to those on the
 * hardware, is run by dshim_job_submit() itself, in the caller's context
 * and with the queue's submit lock held, instead of by a worker; it is
 * freed from the shim's workqueue once its hardware fence signals. Every
 * other job goes through drm_sched as usual, after the direct ones before
 * it. The driver's &dshim_sched_ops.run must then neither call
 * dshim_job_submit() (on any queue: two queues' submit locks would nest)
 * nor take a lock the driver holds around dshim_job_submit().
 * See "direct submit" in dshim_job.c.
 */
#define DSHIM_QUEUE_DIRECT_SUBMIT	BIT(0)

/**
 * struct dshim_stats - live shim objects, for leak checks
 * @scheds: schedulers whose memory is not yet freed
 * @entities: entities whose memory is not yet freed
 * @queues: queue handles not yet freed
 * @jobs: jobs whose memory is not yet freed
 * @fences: shim fences (job, hardware and dependency) not yet freed
 * @timelines: timelines not yet freed
 * @driver_bugs: misuse the shim caught and warned about (never decreases)
 */
struct dshim_stats {
	u64 scheds;
	u64 entities;
	u64 queues;
	u64 jobs;
	u64 fences;
	u64 timelines;
	u64 driver_bugs;
};

void dshim_stats_read(struct dshim_stats *out);
int dshim_flush(void);

/* Scheduler: one drm_gpu_scheduler, N entities. */
struct dshim_sched *dshim_sched_create(const struct dshim_sched_desc *desc);
struct dshim_sched *dshim_sched_get(struct dshim_sched *sched);
void dshim_sched_put(struct dshim_sched *sched);
void dshim_sched_shutdown(struct dshim_sched *sched);
int dshim_sched_wait_idle(struct dshim_sched *sched, unsigned int timeout_ms);
void *dshim_sched_priv(const struct dshim_sched *sched);

/* Entity: a submission context on one scheduler. */
struct dshim_entity *dshim_entity_create(struct dshim_sched *sched,
					 u32 priority);
struct dshim_entity *dshim_entity_get(struct dshim_entity *entity);
void dshim_entity_put(struct dshim_entity *entity);
void dshim_entity_kill(struct dshim_entity *entity);
int dshim_entity_wait_idle(struct dshim_entity *entity,
			   unsigned int timeout_ms);
struct dshim_sched *dshim_entity_sched(const struct dshim_entity *entity);

/* Queue: a scheduler and its single entity as one handle (1:1 model). */
struct dshim_queue *dshim_queue_create(const struct dshim_sched_desc *desc);
struct dshim_queue *dshim_queue_get(struct dshim_queue *queue);
void dshim_queue_put(struct dshim_queue *queue);
void dshim_queue_kill(struct dshim_queue *queue);
int dshim_queue_wait_idle(struct dshim_queue *queue, unsigned int timeout_ms);
struct dshim_entity *dshim_queue_entity(const struct dshim_queue *queue);
struct dshim_sched *dshim_queue_sched(const struct dshim_queue *queue);

/* Job: created on an entity, submitted once, freed exactly once. */
struct dshim_job *dshim_job_create(struct dshim_entity *entity, u32 credits,
				   void *priv);
struct dshim_job *dshim_job_get(struct dshim_job *job);
void dshim_job_put(struct dshim_job *job);
int dshim_job_add_dependency(struct dshim_job *job, struct dma_fence *fence);
struct dma_fence *dshim_job_submit(struct dshim_job *job);
void *dshim_job_priv(const struct dshim_job *job);
struct dshim_sched *dshim_job_sched(const struct dshim_job *job);
struct dshim_entity *dshim_job_entity(const struct dshim_job *job);

/* Timeline: a fence context and a name, shared by the fences on it. */
struct dshim_timeline *dshim_timeline_create(const char *name);
struct dshim_timeline *dshim_timeline_get(struct dshim_timeline *tl);
void dshim_timeline_put(struct dshim_timeline *tl);
u64 dshim_timeline_context(const struct dshim_timeline *tl);
const char *dshim_timeline_name(const struct dshim_timeline *tl);

/*
 * Fences: hardware fences for drivers, and tests on any fence. Allocate
 * where you may sleep, arm in run (which must not allocate).
 */
struct dshim_hw_fence *dshim_hw_fence_alloc(void);
struct dma_fence *dshim_hw_fence_arm(struct dshim_hw_fence *hwf,
				     struct dshim_timeline *tl);
void dshim_hw_fence_free(struct dshim_hw_fence *hwf);
struct dma_fence *dshim_hw_fence_create(struct dshim_timeline *tl);
int dshim_hw_fence_signal(struct dma_fence *fence, int error);
bool dshim_fence_is_shim(const struct dma_fence *fence);

#endif /* _DRM_SCHED_SHIM_H_ */
