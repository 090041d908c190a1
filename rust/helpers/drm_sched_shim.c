// SPDX-License-Identifier: GPL-2.0

/*
 * Helpers for the DRM scheduler shim's Rust abstraction
 * (rust/kernel/drm_sched_shim.rs): the dma_fence, drm_syncobj and DRM
 * feature inlines it calls.
 * Sorted alphabetically.
 */

#include <drm/drm_drv.h>
#include <drm/drm_syncobj.h>
#include <linux/dma-fence.h>

__rust_helper struct dma_fence *rust_helper_dma_fence_get(struct dma_fence *fence)
{
	return dma_fence_get(fence);
}

__rust_helper bool rust_helper_dma_fence_is_container(struct dma_fence *fence)
{
	return dma_fence_is_container(fence);
}

__rust_helper bool rust_helper_dma_fence_is_signaled(struct dma_fence *fence)
{
	return dma_fence_is_signaled(fence);
}

__rust_helper void rust_helper_dma_fence_put(struct dma_fence *fence)
{
	dma_fence_put(fence);
}

__rust_helper bool
rust_helper_drm_core_check_feature(const struct drm_device *dev,
				   enum drm_driver_feature feature)
{
	return drm_core_check_feature(dev, feature);
}

__rust_helper void rust_helper_drm_syncobj_put(struct drm_syncobj *obj)
{
	drm_syncobj_put(obj);
}
