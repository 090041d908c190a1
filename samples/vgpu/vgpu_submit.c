// SPDX-License-Identifier: GPL-2.0-only
/*
 * DRM_IOCTL_VGPU_SUBMIT: in-fences, the job, out-fences.
 */

/**
 * DOC: uapi validation
 *
 * Everything userspace passes is checked before anything is created, in
 * this order, and each check has its own error:
 *
 * * the struct's size (the ioctl number's size field) must be the
 *   driver's: -EINVAL (vgpu_drv.c, before the DRM core copies anything);
 * * unknown flags, non-zero pad: -EINVAL;
 * * counts above &drm_vgpu_info.max_in_fences: -E2BIG; a duration above
 *   &drm_vgpu_info.max_duration_us: -EINVAL;
 * * an unknown queue, buffer or syncobj handle: -ENOENT;
 * * an unreadable array: -EFAULT;
 * * an in-syncobj without a fence: -EINVAL; an fd that is not an open
 *   sync_file: -EBADF.
 *
 * Every reference taken up to the failing check is dropped again, so a
 * failed submit leaves no job, no fence and no queue reference behind
 * (the end-to-end test's "badinput" run checks the driver's and the
 * shim's counters after each one). Once the job is submitted, only the
 * out-fence can still fail (-ENOMEM for the sync_file): the job then runs
 * anyway and the error is returned.
 */

#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_syncobj.h>
#include <drm/vgpu_drm.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fcntl.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>

#include "vgpu_drv.h"

/**
 * vgpu_job_desc_put_deps() - drop the dependencies a job did not consume
 * @desc: the job's description
 * @from: the first one not consumed
 *
 * For the submit ioctl's and the back ends' error paths.
 *
 * Context: Any context.
 */
void vgpu_job_desc_put_deps(struct vgpu_job_desc *desc, unsigned int from)
{
	for (; from < desc->num_deps; from++)
		dma_fence_put(desc->deps[from]);
}

/* Fill @desc's dependencies from the in-fence arrays. */
static int vgpu_submit_in_fences(struct drm_file *file,
				 const struct drm_vgpu_submit *args,
				 struct vgpu_job_desc *desc)
{
	u32 __user *syncobjs = u64_to_user_ptr(args->in_syncobjs);
	s32 __user *fds = u64_to_user_ptr(args->in_sync_files);
	struct dma_fence *fence;
	unsigned int i;
	u32 handle;
	s32 fd;
	int ret;

	for (i = 0; i < args->num_in_syncobjs; i++) {
		if (get_user(handle, &syncobjs[i]))
			return -EFAULT;
		ret = drm_syncobj_find_fence(file, handle, 0, 0, &fence);
		if (ret)
			return ret;
		desc->deps[desc->num_deps++] = fence;
	}
	for (i = 0; i < args->num_in_sync_files; i++) {
		if (get_user(fd, &fds[i]))
			return -EFAULT;
		fence = sync_file_get_fence(fd);
		if (!fence)
			return -EBADF;
		desc->deps[desc->num_deps++] = fence;
	}
	return 0;
}

/* Lock @obj's reservation with room for one more fence. */
static int vgpu_submit_lock_bo(struct drm_gem_object *obj)
{
	int ret;

	ret = dma_resv_lock_interruptible(obj->resv, NULL);
	if (ret)
		return ret;
	ret = dma_resv_reserve_fences(obj->resv, 1);
	if (ret)
		dma_resv_unlock(obj->resv);
	return ret;
}

/**
 * vgpu_ioctl_submit() - DRM_IOCTL_VGPU_SUBMIT
 * @drm: the device
 * @data: &struct drm_vgpu_submit
 * @file: the caller's file
 *
 * See "uapi validation" above for the errors.
 *
 * Context: Process context.
 * Return: 0 or a negative error code.
 */
int vgpu_ioctl_submit(struct drm_device *drm, void *data,
		      struct drm_file *file)
{
	struct drm_vgpu_submit *args = data;
	struct vgpu_job_desc desc = {};
	struct drm_syncobj *out_syncobj = NULL;
	struct drm_gem_object *obj = NULL;
	struct sync_file *sync_file;
	struct dma_fence *fence;
	struct vgpu_queue *q;
	int out_fd = -1;
	int ret;

	args->out_sync_file = -1;
	if (args->flags & ~DRM_VGPU_SUBMIT_FLAGS)
		return -EINVAL;
	if (args->num_in_syncobjs > VGPU_MAX_IN_FENCES ||
	    args->num_in_sync_files > VGPU_MAX_IN_FENCES)
		return -E2BIG;
	if (args->duration_us > VGPU_MAX_DURATION_US)
		return -EINVAL;
	desc.duration_us = args->duration_us;
	desc.hang = args->flags & DRM_VGPU_SUBMIT_HANG;

	q = vgpu_queue_lookup(file->driver_priv, args->queue_id);
	if (!q)
		return -ENOENT;
	if (args->bo_handle) {
		obj = drm_gem_object_lookup(file, args->bo_handle);
		if (!obj) {
			ret = -ENOENT;
			goto out_put;
		}
	}
	if (args->out_syncobj) {
		out_syncobj = drm_syncobj_find(file, args->out_syncobj);
		if (!out_syncobj) {
			ret = -ENOENT;
			goto out_put;
		}
	}
	ret = vgpu_submit_in_fences(file, args, &desc);
	if (ret)
		goto out_put_deps;
	if (args->flags & DRM_VGPU_SUBMIT_OUT_SYNC_FILE) {
		out_fd = get_unused_fd_flags(O_CLOEXEC);
		if (out_fd < 0) {
			ret = out_fd;
			goto out_put_deps;
		}
	}
	if (obj) {
		ret = vgpu_submit_lock_bo(obj);
		if (ret)
			goto out_put_deps;
	}

	/* the back end consumes the dependencies, also when it fails */
	fence = q->backend->submit(q, &desc);
	if (IS_ERR(fence)) {
		ret = PTR_ERR(fence);
		if (obj)
			dma_resv_unlock(obj->resv);
		goto out_put_fd;
	}
	atomic_long_inc(&vgpu_stats.jobs_submitted);
	if (obj) {
		dma_resv_add_fence(obj->resv, fence, DMA_RESV_USAGE_WRITE);
		dma_resv_unlock(obj->resv);
	}
	if (out_syncobj)
		drm_syncobj_replace_fence(out_syncobj, fence);
	if (out_fd >= 0) {
		sync_file = sync_file_create(fence);
		if (sync_file) {
			fd_install(out_fd, sync_file->file);
			args->out_sync_file = out_fd;
			out_fd = -1;
		} else {
			ret = -ENOMEM;
		}
	}
	dma_fence_put(fence);
	goto out_put_fd;

out_put_deps:
	vgpu_job_desc_put_deps(&desc, 0);
out_put_fd:
	if (out_fd >= 0)
		put_unused_fd(out_fd);
out_put:
	if (out_syncobj)
		drm_syncobj_put(out_syncobj);
	if (obj)
		drm_gem_object_put(obj);
	vgpu_queue_put(q);
	return ret;
}
