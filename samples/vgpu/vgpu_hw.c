// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu's hardware: one engine per queue that runs the queue's jobs one at
 * a time, in the order they reached it, like a ring. The job at the head
 * has an hrtimer that fires, in hardirq context like a completion
 * interrupt, after the duration userspace asked for; then the next job
 * starts. A hanging job has no timer: only the scheduler's timeout or a
 * cancel takes it off, and the jobs behind it wait as on real hardware.
 * So a queue's hardware fences signal in order, as the fences of one
 * dma_fence context must.
 *
 * The engine is counted: its queue and every job started on it hold a
 * reference, so the raw back end freeing its queue under running jobs
 * (its bug on purpose) does not take the hardware down with it.
 */

#include <linux/dma-fence.h>
#include <linux/ktime.h>
#include <linux/slab.h>

/* version differences, shared with the shim it ships with */
#include "../../c-shim/compat.h"
#include "vgpu_drv.h"

/**
 * vgpu_engine_create() - a new, idle engine
 *
 * Context: Process context.
 * Return: the engine (one reference), or NULL.
 */
struct vgpu_engine *vgpu_engine_create(void)
{
	struct vgpu_engine *engine;

	engine = kzalloc_obj(*engine, GFP_KERNEL);
	if (!engine)
		return NULL;
	kref_init(&engine->ref);
	spin_lock_init(&engine->lock);
	INIT_LIST_HEAD(&engine->jobs);
	return engine;
}

static void vgpu_engine_release(struct kref *ref)
{
	kfree(container_of(ref, struct vgpu_engine, ref));
}

/**
 * vgpu_engine_put() - drop an engine reference
 * @engine: the engine, or NULL
 *
 * Context: Any context.
 */
void vgpu_engine_put(struct vgpu_engine *engine)
{
	if (engine)
		kref_put(&engine->ref, vgpu_engine_release);
}

/* Start the job at the head of the engine, unless it runs. Lock held. */
static void vgpu_engine_start_head(struct vgpu_engine *engine)
{
	struct vgpu_hw_job *hw;

	lockdep_assert_held(&engine->lock);
	/* a stopped job's fence is still to signal: it starts the next one */
	if (engine->stopping)
		return;
	hw = list_first_entry_or_null(&engine->jobs, struct vgpu_hw_job, link);
	if (!hw || hw->started)
		return;
	hw->started = true;
	if (!hw->hang)
		hrtimer_start(&hw->timer,
			      ns_to_ktime((u64)hw->duration_us * NSEC_PER_USEC),
			      HRTIMER_MODE_REL_HARD);
}

/*
 * Signal the fences of the stopped jobs at the head of the engine, in
 * order, then start the next job. Called with the lock held, and returns
 * with it held; drops it around each signal, which may free a job and
 * its engine reference: the caller holds one of its own. One caller at a time does
 * it (@engine->stopping): another that stops a job meanwhile leaves it to
 * the one signalling, which looks at the head again after each signal.
 */
static void vgpu_engine_retire(struct vgpu_engine *engine,
			       unsigned long *flags)
{
	struct vgpu_hw_job *hw;

	lockdep_assert_held(&engine->lock);
	if (engine->stopping)
		return;
	while ((hw = list_first_entry_or_null(&engine->jobs,
					      struct vgpu_hw_job, link)) &&
	       hw->done) {
		list_del_init(&hw->link);
		engine->stopping = 1;
		spin_unlock_irqrestore(&engine->lock, *flags);
		/* @hw may be freed from here on */
		hw->signal(hw->fence, hw->error);
		spin_lock_irqsave(&engine->lock, *flags);
		engine->stopping = 0;
	}
	vgpu_engine_start_head(engine);
}

/**
 * vgpu_hw_job_stop() - take a job off its engine with an error
 * @hw: the job's hardware state
 * @error: what its fence signals (0 for a completion)
 *
 * The fences of an engine share one context and must signal in order: a
 * job stopped behind others (a cancel of a job still waiting) signals
 * once those ahead of it did, and the next job starts only once every
 * stopped one at the head signalled (a next job of 0 us started first
 * could complete before).
 *
 * Context: Any context.
 * Return: true if the job was on the engine, not stopped before, and its
 * fence signals @error (now, or after those ahead of it); false if it had
 * completed or was stopped before (or never started).
 */
bool vgpu_hw_job_stop(struct vgpu_hw_job *hw, int error)
{
	struct vgpu_engine *engine = hw->engine;
	unsigned long flags;

	bool stopped = false;

	/* the signal may free @hw, and its engine reference with it */
	kref_get(&engine->ref);
	/* a timer still armed finds the job done and does nothing */
	spin_lock_irqsave(&engine->lock, flags);
	if (!list_empty(&hw->link) && !hw->done) {
		hw->done = true;
		hw->error = error;
		vgpu_engine_retire(engine, &flags);
		stopped = true;
	}
	spin_unlock_irqrestore(&engine->lock, flags);
	vgpu_engine_put(engine);
	return stopped;
}

/* The completion interrupt: the job leaves the engine without an error. */
static enum hrtimer_restart vgpu_hw_job_done(struct hrtimer *timer)
{
	vgpu_hw_job_stop(container_of(timer, struct vgpu_hw_job, timer), 0);
	return HRTIMER_NORESTART;
}

/**
 * vgpu_hw_job_init() - prepare a job for an engine
 * @hw: the job's hardware state
 * @engine: the engine it will run on; @hw takes a reference
 * @signal: how to signal its fence
 *
 * Context: Any context.
 */
void vgpu_hw_job_init(struct vgpu_hw_job *hw, struct vgpu_engine *engine,
		      void (*signal)(struct dma_fence *fence, int error))
{
	dshim_compat_hrtimer_setup(&hw->timer, vgpu_hw_job_done, CLOCK_MONOTONIC,
				   HRTIMER_MODE_REL_HARD);
	INIT_LIST_HEAD(&hw->link);
	kref_get(&engine->ref);
	hw->engine = engine;
	hw->signal = signal;
	hw->fence = NULL;
	hw->started = false;
	hw->done = false;
	hw->error = 0;
}

/**
 * vgpu_hw_job_start() - put a job on its engine
 * @hw: the job's hardware state
 * @fence: its hardware fence; @hw takes a reference
 * @duration_us: how long it runs once it reaches the head of the engine
 * @hang: it never completes
 *
 * Context: Any context.
 */
void vgpu_hw_job_start(struct vgpu_hw_job *hw, struct dma_fence *fence,
		       u32 duration_us, bool hang)
{
	struct vgpu_engine *engine = hw->engine;
	unsigned long flags;

	hw->fence = dma_fence_get(fence);
	hw->duration_us = duration_us;
	hw->hang = hang;
	spin_lock_irqsave(&engine->lock, flags);
	list_add_tail(&hw->link, &engine->jobs);
	vgpu_engine_start_head(engine);
	spin_unlock_irqrestore(&engine->lock, flags);
}

/**
 * vgpu_hw_job_fini() - release a job's hardware state
 * @hw: the job's hardware state
 *
 * A job freed while still on its engine (only the raw back end does that)
 * leaves it: its fence never signals.
 *
 * Context: Process context (waits for a running completion interrupt).
 */
void vgpu_hw_job_fini(struct vgpu_hw_job *hw)
{
	struct vgpu_engine *engine = hw->engine;
	unsigned long flags;

	hrtimer_cancel(&hw->timer);
	spin_lock_irqsave(&engine->lock, flags);
	if (!list_empty(&hw->link)) {
		list_del_init(&hw->link);
		/* it may have held up stopped jobs behind it, or the next */
		vgpu_engine_retire(engine, &flags);
	}
	spin_unlock_irqrestore(&engine->lock, flags);
	vgpu_engine_put(engine);
	dma_fence_put(hw->fence);
	hw->fence = NULL;
}
