// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu's hardware: each job on it is an hrtimer that signals the job's
 * hardware fence after the duration userspace asked for, in hardirq
 * context like a completion interrupt. A hanging job has no timer: only
 * the scheduler's timeout or a cancel ends it.
 */

#include <linux/dma-fence.h>
#include <linux/ktime.h>

#include "vgpu_drv.h"

static enum hrtimer_restart vgpu_hw_job_done(struct hrtimer *timer)
{
	struct vgpu_hw_job *hw = container_of(timer, struct vgpu_hw_job, timer);

	hw->signal(hw->fence, 0);
	return HRTIMER_NORESTART;
}

/**
 * vgpu_hw_job_init() - prepare a job for the hardware
 * @hw: the job's hardware state
 * @signal: how to signal its fence
 *
 * Context: Any context.
 */
void vgpu_hw_job_init(struct vgpu_hw_job *hw,
		      void (*signal)(struct dma_fence *fence, int error))
{
	hrtimer_init(&hw->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	hw->timer.function = vgpu_hw_job_done;
	hw->signal = signal;
	hw->fence = NULL;
	hw->timed_out = false;
}

/**
 * vgpu_hw_job_start() - put a job on the hardware
 * @hw: the job's hardware state
 * @fence: its hardware fence; @hw takes a reference
 * @duration_us: how long until the completion interrupt
 * @hang: no completion interrupt at all
 *
 * Context: Any context.
 */
void vgpu_hw_job_start(struct vgpu_hw_job *hw, struct dma_fence *fence,
		       u32 duration_us, bool hang)
{
	hw->fence = dma_fence_get(fence);
	if (!hang)
		hrtimer_start(&hw->timer, ns_to_ktime((u64)duration_us * NSEC_PER_USEC),
			      HRTIMER_MODE_REL_HARD);
}

/**
 * vgpu_hw_job_stop() - take a job off the hardware with an error
 * @hw: the job's hardware state
 * @error: what its fence signals, unless it completed already
 *
 * Context: Process context (waits for a running completion interrupt).
 */
void vgpu_hw_job_stop(struct vgpu_hw_job *hw, int error)
{
	if (!hw->fence)
		return;
	/* after this the interrupt cannot signal: the fence is ours to fail */
	hrtimer_cancel(&hw->timer);
	hw->signal(hw->fence, error);
}

/**
 * vgpu_hw_job_fini() - release a job's hardware state
 * @hw: the job's hardware state; its fence has signalled or never existed
 *
 * Context: Process context (waits for a running completion interrupt).
 */
void vgpu_hw_job_fini(struct vgpu_hw_job *hw)
{
	hrtimer_cancel(&hw->timer);
	dma_fence_put(hw->fence);
	hw->fence = NULL;
}
