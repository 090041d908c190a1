/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vgpu: a virtual GPU DRM driver on the DRM scheduler shim.
 *
 * One render node; each open file has queues (one scheduler each) that run
 * jobs on timer-driven "hardware". The same driver has two back ends: the
 * shim (default) and raw drm_sched used the way drivers did in 2023
 * (module parameter vgpu.raw=1), the "before" picture of make demo.
 */
#ifndef _VGPU_DRV_H_
#define _VGPU_DRV_H_

#include <drm/drm_device.h>
#include <linux/atomic.h>
#include <linux/hrtimer.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

/* kernel version differences, kzalloc_obj() on 6.12 among them */
#include "../../c-shim/compat.h"

struct dma_fence;
struct drm_file;

#define VGPU_MAX_QUEUES		64	/* per open file */
#define VGPU_MAX_IN_FENCES	16	/* per array, per submit */
#define VGPU_MAX_DURATION_US	1000000
#define VGPU_MAX_BO_SIZE	(64u << 20)
#define VGPU_CREDIT_LIMIT	32	/* jobs on the hardware per queue */

/**
 * struct vgpu_stats - the driver's counters (debugfs vgpu/stats)
 * @files: open files
 * @queues: queues whose memory is not freed yet
 * @jobs: job payloads not freed yet
 * @bos: buffers not freed yet
 * @files_opened: files opened since boot
 * @queues_created: queues created since boot
 * @queues_killed: queues a closing file killed
 * @jobs_submitted: jobs submitted since boot
 * @jobs_run: jobs put on the hardware (their run was called) since boot
 * @jobs_timedout: jobs the timeout failed
 * @jobs_cancelled: jobs on the hardware that a kill cancelled
 */
struct vgpu_stats {
	atomic_long_t files;
	atomic_long_t queues;
	atomic_long_t jobs;
	atomic_long_t bos;
	atomic_long_t files_opened;
	atomic_long_t queues_created;
	atomic_long_t queues_killed;
	atomic_long_t jobs_submitted;
	atomic_long_t jobs_run;
	atomic_long_t jobs_timedout;
	atomic_long_t jobs_cancelled;
};

extern struct vgpu_stats vgpu_stats;
extern unsigned int vgpu_timeout_ms;
extern bool vgpu_cancel;

/**
 * struct vgpu_device - the one vgpu device
 * @drm: its DRM device
 * @platform: the platform device it hangs off
 * @raw: drive drm_sched directly (fixed at boot)
 */
struct vgpu_device {
	struct drm_device drm;
	struct platform_device *platform;
	bool raw;
};

static inline struct vgpu_device *to_vgpu(struct drm_device *drm)
{
	return container_of(drm, struct vgpu_device, drm);
}

/**
 * struct vgpu_file - per open file
 * @queues: its queues by id (each entry holds a queue reference)
 */
struct vgpu_file {
	struct xarray queues;
};

/**
 * struct vgpu_engine - the hardware of one queue: runs its jobs in order
 * @ref: the queue's reference and one per job initialised on it
 * @lock: protects @jobs, @stopping and the jobs' &vgpu_hw_job.started,
 *	.done and .error; taken in hardirq context
 * @jobs: jobs on the engine, the running one first
 * @stopping: a job taken off is having its fence signalled, outside
 *	the lock: no job starts and no other fence signals meanwhile, so
 *	that the engine's fences signal in order
 */
struct vgpu_engine {
	struct kref ref;
	spinlock_t lock;	/* jobs, stopping, the jobs' started/done/error */
	struct list_head jobs;
	unsigned int stopping;
};

/**
 * struct vgpu_hw_job - a job's state on its engine
 * @timer: completes the job once it runs at the head of the engine
 * @link: in &vgpu_engine.jobs while on the engine
 * @engine: the engine (a reference)
 * @fence: the hardware fence (a reference), NULL until started
 * @signal: signals @fence with an error code (the back end's own)
 * @duration_us: run time at the head of the engine
 * @hang: never completes
 * @started: it reached the head of the engine and runs (engine lock)
 * @done: stopped, its fence to signal with @error once every job ahead
 *	of it on the engine signalled (engine lock)
 * @error: what its fence signals, once @done (engine lock)
 */
struct vgpu_hw_job {
	struct hrtimer timer;
	struct list_head link;
	struct vgpu_engine *engine;
	struct dma_fence *fence;
	void (*signal)(struct dma_fence *fence, int error);
	u32 duration_us;
	bool hang;
	bool started;		/* engine->lock */
	bool done;		/* engine->lock */
	int error;		/* engine->lock */
};

struct vgpu_engine *vgpu_engine_create(void);
void vgpu_engine_put(struct vgpu_engine *engine);
void vgpu_hw_job_init(struct vgpu_hw_job *hw, struct vgpu_engine *engine,
		      void (*signal)(struct dma_fence *fence, int error));
void vgpu_hw_job_start(struct vgpu_hw_job *hw, struct dma_fence *fence,
		       u32 duration_us, bool hang);
bool vgpu_hw_job_stop(struct vgpu_hw_job *hw, int error);
void vgpu_hw_job_fini(struct vgpu_hw_job *hw);

/**
 * struct vgpu_job_desc - what a submit asks of the back end
 * @duration_us: hardware time
 * @hang: never completes; the timeout fails it
 * @deps: fences to wait for (references, consumed by the back end)
 * @num_deps: entries of @deps
 */
struct vgpu_job_desc {
	u32 duration_us;
	bool hang;
	struct dma_fence *deps[2 * VGPU_MAX_IN_FENCES];
	unsigned int num_deps;
};

void vgpu_job_desc_put_deps(struct vgpu_job_desc *desc, unsigned int from);

struct vgpu_queue;

/**
 * struct vgpu_backend - how queues reach a scheduler
 * @init: set up @q's scheduler side (&vgpu_queue.impl)
 * @fini: tear it down; called once, for the last queue reference
 * @submit: create and submit a job, consuming @desc's dependencies in
 *	every case; returns the job's fence (a new reference) or ERR_PTR()
 */
struct vgpu_backend {
	int (*init)(struct vgpu_queue *q);
	void (*fini)(struct vgpu_queue *q);
	struct dma_fence *(*submit)(struct vgpu_queue *q,
				    struct vgpu_job_desc *desc);
};

extern const struct vgpu_backend vgpu_shim_backend;
extern const struct vgpu_backend vgpu_raw_backend;

/**
 * struct vgpu_queue - a userspace queue
 * @ref: references: the file's queue table, and submits in flight
 * @vdev: the device
 * @backend: the shim or raw drm_sched
 * @impl: the back end's queue
 * @name: scheduler and timeline name
 */
struct vgpu_queue {
	struct kref ref;
	struct vgpu_device *vdev;
	const struct vgpu_backend *backend;
	void *impl;
	char name[32];
};

struct vgpu_queue *vgpu_queue_lookup(struct vgpu_file *vfile, u32 id);
void vgpu_queue_put(struct vgpu_queue *q);
void vgpu_queues_kill_all(struct vgpu_file *vfile);

int vgpu_ioctl_queue_create(struct drm_device *drm, void *data,
			    struct drm_file *file);
int vgpu_ioctl_queue_destroy(struct drm_device *drm, void *data,
			     struct drm_file *file);
int vgpu_ioctl_submit(struct drm_device *drm, void *data,
		      struct drm_file *file);
int vgpu_ioctl_bo_create(struct drm_device *drm, void *data,
			 struct drm_file *file);
struct drm_gem_object *vgpu_gem_create_object(struct drm_device *drm,
					      size_t size);

#endif /* _VGPU_DRV_H_ */
