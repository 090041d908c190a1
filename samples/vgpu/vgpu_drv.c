// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgpu: a virtual GPU DRM driver on the DRM scheduler shim.
 *
 * A render node on a platform device, queues of jobs that run on
 * timer-driven hardware, fences exported as sync files, syncobjs and
 * dma-buf reservations. It exists to show what a driver author gets from
 * the shim when real processes die at random points: closing the file
 * (also by SIGKILL) kills the file's queues and returns at once, and the
 * fences other processes keep stay valid. With vgpu.raw=1 on the kernel
 * command line (or raw=1 to insmod) the same driver uses drm_sched
 * directly, the 2023 way.
 *
 * Built in or as a module. As a module on the shim, it is pinned while
 * anything may still call it: open files (its file_operations), exported
 * dma-bufs (the exporter), and, through the shim, every scheduler with a
 * job left, also one whose file is long closed (&dshim_sched_desc.owner).
 * The fences it exported need no pin: their ops and names belong to the
 * shim. With raw=1 none of that holds: raw drm_sched's fences are the
 * module's, and unloading it is as unsafe as the rest of that mode.
 *
 * Counters in /sys/kernel/debug/vgpu/stats; the shim's own are in
 * /sys/kernel/debug/drm_sched_shim/stats.
 */

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_print.h>
#include <drm/vgpu_drm.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/platform_device.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "vgpu_drv.h"

struct vgpu_stats vgpu_stats;

static bool vgpu_raw;
module_param_named(raw, vgpu_raw, bool, 0444);
MODULE_PARM_DESC(raw, "Use drm_sched directly, the 2023 way (crashes; default: the shim)");

unsigned int vgpu_timeout_ms = 100;
module_param_named(timeout_ms, vgpu_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "Job timeout in ms of queues created from now on (default 100)");

bool vgpu_cancel = true;
module_param_named(cancel, vgpu_cancel, bool, 0644);
MODULE_PARM_DESC(cancel, "Queues created from now on cancel their jobs on the hardware when closed (default: yes; no: the jobs run to completion, the driver module stays pinned until then)");

static struct vgpu_device *vgpu_device;
static struct dentry *vgpu_debugfs;

static int vgpu_ioctl_get_info(struct drm_device *drm, void *data,
			       struct drm_file *file)
{
	struct drm_vgpu_info *info = data;

	info->uapi_version = DRM_VGPU_UAPI_VERSION;
	info->max_queues = VGPU_MAX_QUEUES;
	info->max_in_fences = VGPU_MAX_IN_FENCES;
	info->max_duration_us = VGPU_MAX_DURATION_US;
	info->timeout_ms = READ_ONCE(vgpu_timeout_ms);
	info->raw = to_vgpu(drm)->raw;
	return 0;
}

static const struct drm_ioctl_desc vgpu_ioctls[] = {
	DRM_IOCTL_DEF_DRV(VGPU_GET_INFO, vgpu_ioctl_get_info, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_QUEUE_CREATE, vgpu_ioctl_queue_create,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_QUEUE_DESTROY, vgpu_ioctl_queue_destroy,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_SUBMIT, vgpu_ioctl_submit, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_BO_CREATE, vgpu_ioctl_bo_create,
			  DRM_RENDER_ALLOW),
};

/*
 * The DRM core zero-extends a struct that is too small and truncates one
 * that is too big. vgpu's uapi is versioned instead: a struct of another
 * size than this driver's is refused before anything is copied.
 */
static bool vgpu_ioctl_size_ok(unsigned int cmd)
{
	unsigned int nr = DRM_IOCTL_NR(cmd);

	if (_IOC_TYPE(cmd) != DRM_IOCTL_BASE || nr < DRM_COMMAND_BASE ||
	    nr >= DRM_COMMAND_BASE + ARRAY_SIZE(vgpu_ioctls))
		return true;	/* not ours: the DRM core decides */
	nr = array_index_nospec(nr - DRM_COMMAND_BASE, ARRAY_SIZE(vgpu_ioctls));
	return _IOC_SIZE(cmd) == _IOC_SIZE(vgpu_ioctls[nr].cmd);
}

static long vgpu_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	if (!vgpu_ioctl_size_ok(cmd))
		return -EINVAL;
	return drm_ioctl(filp, cmd, arg);
}

#ifdef CONFIG_COMPAT
/* vgpu's structs have one layout: only the core's ioctls need translation */
static long vgpu_compat_ioctl(struct file *filp, unsigned int cmd,
			      unsigned long arg)
{
	if (!vgpu_ioctl_size_ok(cmd))
		return -EINVAL;
	return drm_compat_ioctl(filp, cmd, arg);
}
#else
#define vgpu_compat_ioctl NULL
#endif

static const struct file_operations vgpu_fops = {
	.owner = THIS_MODULE,
	.open = drm_open,
	.release = drm_release,
	.unlocked_ioctl = vgpu_ioctl,
	.compat_ioctl = vgpu_compat_ioctl,
	.poll = drm_poll,
	.read = drm_read,
	.llseek = noop_llseek,
	.mmap = drm_gem_mmap,
	.fop_flags = FOP_UNSIGNED_OFFSET,
};

static int vgpu_open(struct drm_device *drm, struct drm_file *file)
{
	struct vgpu_file *vfile;

	vfile = kzalloc_obj(*vfile, GFP_KERNEL);
	if (!vfile)
		return -ENOMEM;
	xa_init_flags(&vfile->queues, XA_FLAGS_ALLOC1);
	file->driver_priv = vfile;
	atomic_long_inc(&vgpu_stats.files);
	atomic_long_inc(&vgpu_stats.files_opened);
	return 0;
}

/* Runs in the closing process, also one dying of SIGKILL: never waits. */
static void vgpu_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct vgpu_file *vfile = file->driver_priv;

	vgpu_queues_kill_all(vfile);
	xa_destroy(&vfile->queues);
	kfree(vfile);
	atomic_long_dec(&vgpu_stats.files);
}

static const struct drm_driver vgpu_driver = {
	.driver_features = DRIVER_GEM | DRIVER_RENDER | DRIVER_SYNCOBJ,
	.open = vgpu_open,
	.postclose = vgpu_postclose,
	.gem_create_object = vgpu_gem_create_object,
	.ioctls = vgpu_ioctls,
	.num_ioctls = ARRAY_SIZE(vgpu_ioctls),
	.fops = &vgpu_fops,
	.name = "vgpu",
	.desc = "Virtual GPU on the DRM scheduler shim",
	.major = 1,
	.minor = 0,
};

static int vgpu_stats_show(struct seq_file *m, void *unused)
{
	struct vgpu_stats *s = &vgpu_stats;

	seq_printf(m, "mode: %s\n", vgpu_device->raw ? "raw" : "shim");
	seq_printf(m, "files: %ld\n", atomic_long_read(&s->files));
	seq_printf(m, "queues: %ld\n", atomic_long_read(&s->queues));
	seq_printf(m, "jobs: %ld\n", atomic_long_read(&s->jobs));
	seq_printf(m, "bos: %ld\n", atomic_long_read(&s->bos));
	seq_printf(m, "files_opened: %ld\n",
		   atomic_long_read(&s->files_opened));
	seq_printf(m, "queues_created: %ld\n",
		   atomic_long_read(&s->queues_created));
	seq_printf(m, "queues_killed: %ld\n",
		   atomic_long_read(&s->queues_killed));
	seq_printf(m, "jobs_submitted: %ld\n",
		   atomic_long_read(&s->jobs_submitted));
	seq_printf(m, "jobs_run: %ld\n", atomic_long_read(&s->jobs_run));
	seq_printf(m, "jobs_timedout: %ld\n",
		   atomic_long_read(&s->jobs_timedout));
	seq_printf(m, "jobs_cancelled: %ld\n",
		   atomic_long_read(&s->jobs_cancelled));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vgpu_stats);

static int __init vgpu_init(void)
{
	struct platform_device *pdev;
	struct vgpu_device *vdev;
	int ret;

	pdev = platform_device_register_simple("vgpu", -1, NULL, 0);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	if (!devres_open_group(&pdev->dev, NULL, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto err_unregister;
	}
	dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));

	vdev = devm_drm_dev_alloc(&pdev->dev, &vgpu_driver,
				  struct vgpu_device, drm);
	if (IS_ERR(vdev)) {
		ret = PTR_ERR(vdev);
		goto err_devres;
	}
	vdev->platform = pdev;
	vdev->raw = vgpu_raw;
	vgpu_device = vdev;
	ret = drm_dev_register(&vdev->drm, 0);
	if (ret)
		goto err_devres;

	/* debugfs is optional: its failures are not errors */
	vgpu_debugfs = debugfs_create_dir("vgpu", NULL);
	debugfs_create_file("stats", 0444, vgpu_debugfs, NULL,
			    &vgpu_stats_fops);
	drm_info(&vdev->drm, "vgpu: %s back end, job timeout %u ms\n",
		 vdev->raw ? "raw drm_sched (2023)" : "shim", vgpu_timeout_ms);
	return 0;

err_devres:
	devres_release_group(&pdev->dev, NULL);
err_unregister:
	platform_device_unregister(pdev);
	return ret;
}
module_init(vgpu_init);

/*
 * rmmod: on the shim, nothing of the driver is in use any more, or the
 * module would still be pinned (see the top of this file): no file, no
 * dma-buf, no job, hence no engine timer.
 */
static void __exit vgpu_exit(void)
{
	struct platform_device *pdev = vgpu_device->platform;

	debugfs_remove_recursive(vgpu_debugfs);
	drm_dev_unregister(&vgpu_device->drm);
	devres_release_group(&pdev->dev, NULL);
	platform_device_unregister(pdev);
	vgpu_device = NULL;
}
module_exit(vgpu_exit);

MODULE_DESCRIPTION("vgpu: virtual GPU sample driver on the DRM scheduler shim");
MODULE_LICENSE("GPL");
