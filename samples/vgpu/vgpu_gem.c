// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu's buffers: shmem GEM objects. Userspace exports them as dma-bufs
 * with DRM_IOCTL_PRIME_HANDLE_TO_FD; a submit may add its job's fence to a
 * buffer's reservation, which the dma-buf shares, so the fences show up in
 * /sys/kernel/debug/dma_buf/bufinfo for as long as any process keeps the
 * dma-buf, whatever happened to the queue that made them.
 */

#include <drm/drm_file.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/vgpu_drm.h>
#include <linux/slab.h>

#include "vgpu_drv.h"

static void vgpu_gem_free(struct drm_gem_object *obj)
{
	drm_gem_shmem_object_free(obj);
	atomic_long_dec(&vgpu_stats.bos);
}

/* drm_gem_shmem_funcs, plus the count of live buffers */
static const struct drm_gem_object_funcs vgpu_gem_funcs = {
	.free = vgpu_gem_free,
	.print_info = drm_gem_shmem_object_print_info,
	.pin = drm_gem_shmem_object_pin,
	.unpin = drm_gem_shmem_object_unpin,
	.get_sg_table = drm_gem_shmem_object_get_sg_table,
	.vmap = drm_gem_shmem_object_vmap,
	.vunmap = drm_gem_shmem_object_vunmap,
	.mmap = drm_gem_shmem_object_mmap,
	.vm_ops = &drm_gem_shmem_vm_ops,
};

/**
 * vgpu_gem_create_object() - &drm_driver.gem_create_object
 * @drm: the device
 * @size: the buffer's size
 *
 * Context: Process context.
 * Return: a shmem GEM object with vgpu's functions, or ERR_PTR(-ENOMEM).
 */
struct drm_gem_object *vgpu_gem_create_object(struct drm_device *drm,
					      size_t size)
{
	struct drm_gem_shmem_object *shmem;

	shmem = kzalloc_obj(*shmem, GFP_KERNEL);
	if (!shmem)
		return ERR_PTR(-ENOMEM);
	shmem->base.funcs = &vgpu_gem_funcs;
	return &shmem->base;
}

/**
 * vgpu_ioctl_bo_create() - DRM_IOCTL_VGPU_BO_CREATE
 * @drm: the device
 * @data: &struct drm_vgpu_bo_create
 * @file: the caller's file
 *
 * Context: Process context.
 * Return: 0, -EINVAL for unknown flags or a size of 0 or more than
 * %VGPU_MAX_BO_SIZE, -ENOMEM.
 */
int vgpu_ioctl_bo_create(struct drm_device *drm, void *data,
			 struct drm_file *file)
{
	struct drm_vgpu_bo_create *args = data;
	struct drm_gem_shmem_object *shmem;
	int ret;

	if (args->flags || !args->size || args->size > VGPU_MAX_BO_SIZE)
		return -EINVAL;

	shmem = drm_gem_shmem_create(drm, args->size);
	if (IS_ERR(shmem))
		return PTR_ERR(shmem);
	/* from here on vgpu_gem_free() runs for it */
	atomic_long_inc(&vgpu_stats.bos);
	ret = drm_gem_handle_create(file, &shmem->base, &args->handle);
	drm_gem_object_put(&shmem->base);
	return ret;
}
