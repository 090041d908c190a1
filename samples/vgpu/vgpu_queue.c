// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu's queues: each open file has a table of them, and each queue is a
 * scheduler of its own in the back end (the shim, or raw drm_sched).
 *
 * A queue is counted: the file's table holds one reference and every
 * submit in flight one more, so a concurrent destroy never frees a queue
 * under a submit. The last reference runs the back end's teardown: with
 * the shim that is a kill and a put, which return at once.
 */

#include <drm/drm_file.h>
#include <drm/vgpu_drm.h>
#include <linux/slab.h>

#include "vgpu_drv.h"

/* numbers queue names; never reused */
static atomic_long_t vgpu_queue_seq;

static void vgpu_queue_release(struct kref *ref)
{
	struct vgpu_queue *q = container_of(ref, struct vgpu_queue, ref);

	q->backend->fini(q);
	kfree(q);
	atomic_long_dec(&vgpu_stats.queues);
}

/**
 * vgpu_queue_put() - drop a queue reference
 * @q: the queue, or NULL
 *
 * Context: Process context. With the shim the last put does not sleep;
 * raw drm_sched's teardown does.
 */
void vgpu_queue_put(struct vgpu_queue *q)
{
	if (q)
		kref_put(&q->ref, vgpu_queue_release);
}

/**
 * vgpu_queue_lookup() - find a queue of a file
 * @vfile: the file
 * @id: the queue's id
 *
 * Context: Any context.
 * Return: a new reference to the queue, or NULL if @vfile has none by @id.
 */
struct vgpu_queue *vgpu_queue_lookup(struct vgpu_file *vfile, u32 id)
{
	struct vgpu_queue *q;

	xa_lock(&vfile->queues);
	q = xa_load(&vfile->queues, id);
	if (q)
		kref_get(&q->ref);
	xa_unlock(&vfile->queues);
	return q;
}

/**
 * vgpu_ioctl_queue_create() - DRM_IOCTL_VGPU_QUEUE_CREATE
 * @drm: the device
 * @data: &struct drm_vgpu_queue_create
 * @file: the caller's file
 *
 * Context: Process context.
 * Return: 0, -EINVAL for unknown flags, -ENOSPC if the file has
 * %VGPU_MAX_QUEUES queues, -ENOMEM.
 */
int vgpu_ioctl_queue_create(struct drm_device *drm, void *data,
			    struct drm_file *file)
{
	struct drm_vgpu_queue_create *args = data;
	struct vgpu_file *vfile = file->driver_priv;
	struct vgpu_device *vdev = to_vgpu(drm);
	struct vgpu_queue *q;
	u32 id;
	int ret;

	if (args->flags)
		return -EINVAL;

	q = kzalloc_obj(*q, GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	kref_init(&q->ref);
	q->vdev = vdev;
	q->backend = vdev->raw ? &vgpu_raw_backend : &vgpu_shim_backend;
	/* the name is unique for the boot: sync files and bufinfo show it */
	snprintf(q->name, sizeof(q->name), "vgpu-%d-q%lu",
		 task_tgid_nr(current), atomic_long_inc_return(&vgpu_queue_seq));
	ret = q->backend->init(q);
	if (ret) {
		kfree(q);
		return ret;
	}
	atomic_long_inc(&vgpu_stats.queues);
	ret = xa_alloc(&vfile->queues, &id, q, XA_LIMIT(1, VGPU_MAX_QUEUES),
		       GFP_KERNEL);
	if (ret) {
		vgpu_queue_put(q);
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	atomic_long_inc(&vgpu_stats.queues_created);
	/* @q may be gone already: a racing destroy of @id dropped it */
	args->queue_id = id;
	return 0;
}

/**
 * vgpu_ioctl_queue_destroy() - DRM_IOCTL_VGPU_QUEUE_DESTROY
 * @drm: the device
 * @data: &struct drm_vgpu_queue_destroy
 * @file: the caller's file
 *
 * Context: Process context.
 * Return: 0, -EINVAL for unknown flags, -ENOENT for an unknown queue.
 */
int vgpu_ioctl_queue_destroy(struct drm_device *drm, void *data,
			     struct drm_file *file)
{
	struct drm_vgpu_queue_destroy *args = data;
	struct vgpu_file *vfile = file->driver_priv;
	struct vgpu_queue *q;

	if (args->flags)
		return -EINVAL;
	q = xa_erase(&vfile->queues, args->queue_id);
	if (!q)
		return -ENOENT;
	vgpu_queue_put(q);
	return 0;
}

/**
 * vgpu_queues_kill_all() - a closing file's queues
 * @vfile: the file
 *
 * What a real driver's postclose does, also when the process was killed:
 * every queue goes; with the shim, without waiting for its jobs.
 *
 * Context: Process context.
 */
void vgpu_queues_kill_all(struct vgpu_file *vfile)
{
	struct vgpu_queue *q;
	unsigned long id;

	xa_for_each(&vfile->queues, id, q) {
		xa_erase(&vfile->queues, id);
		atomic_long_inc(&vgpu_stats.queues_killed);
		vgpu_queue_put(q);
	}
}
