/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * Uapi of vgpu, the virtual GPU sample driver of the DRM scheduler shim.
 *
 * Version 1. Every struct has a fixed size that the ioctl number encodes;
 * the driver refuses any other size with -EINVAL instead of letting the
 * DRM core zero-extend or truncate it. Every flags field and every pad
 * field must be zero except for the flags defined here (-EINVAL). Arrays
 * are user pointers with a count, limited by &drm_vgpu_info.max_in_fences
 * (-E2BIG). See "uapi validation" in samples/vgpu/vgpu_submit.c.
 */
#ifndef _UAPI_VGPU_DRM_H_
#define _UAPI_VGPU_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* DRM_VGPU_UAPI_VERSION - what &drm_vgpu_info.uapi_version reports */
#define DRM_VGPU_UAPI_VERSION		1

#define DRM_VGPU_GET_INFO		0x00
#define DRM_VGPU_QUEUE_CREATE		0x01
#define DRM_VGPU_QUEUE_DESTROY		0x02
#define DRM_VGPU_SUBMIT			0x03
#define DRM_VGPU_BO_CREATE		0x04

/**
 * struct drm_vgpu_info - what the device is and accepts (all output)
 * @uapi_version: %DRM_VGPU_UAPI_VERSION of the driver
 * @max_queues: queues one open file may have at once
 * @max_in_fences: longest in-fence array of each kind in one submit
 * @max_duration_us: longest &drm_vgpu_submit.duration_us
 * @timeout_ms: how long a job may stay on the hardware before it fails
 *	with -ETIMEDOUT (jobs submitted with %DRM_VGPU_SUBMIT_HANG do)
 * @raw: 1 if the driver drives drm_sched directly (the module parameter
 *	vgpu.raw, the "before" picture), 0 if it goes through the shim
 */
struct drm_vgpu_info {
	__u32 uapi_version;
	__u32 max_queues;
	__u32 max_in_fences;
	__u32 max_duration_us;
	__u32 timeout_ms;
	__u32 raw;
};

/**
 * struct drm_vgpu_queue_create - create a queue (a scheduler of its own)
 * @flags: must be 0
 * @queue_id: output, the queue's id in this file (never 0)
 */
struct drm_vgpu_queue_create {
	__u32 flags;
	__u32 queue_id;
};

/**
 * struct drm_vgpu_queue_destroy - destroy a queue
 * @queue_id: the queue; -ENOENT if this file has none with that id
 * @flags: must be 0
 *
 * Returns at once. Jobs not yet on the hardware fail with -ECANCELED,
 * jobs on the hardware are cancelled; their fences stay valid.
 */
struct drm_vgpu_queue_destroy {
	__u32 queue_id;
	__u32 flags;
};

/* return the job's fence as a sync_file in &drm_vgpu_submit.out_sync_file */
#define DRM_VGPU_SUBMIT_OUT_SYNC_FILE	(1u << 0)
/* the job never completes: it fails after &drm_vgpu_info.timeout_ms */
#define DRM_VGPU_SUBMIT_HANG		(1u << 1)
#define DRM_VGPU_SUBMIT_FLAGS		(DRM_VGPU_SUBMIT_OUT_SYNC_FILE | \
					 DRM_VGPU_SUBMIT_HANG)

/**
 * struct drm_vgpu_submit - run one job on a queue
 * @queue_id: the queue
 * @flags: %DRM_VGPU_SUBMIT_*
 * @duration_us: how long the job keeps the hardware busy, at most
 *	&drm_vgpu_info.max_duration_us (checked also with
 *	%DRM_VGPU_SUBMIT_HANG, which does not use it). A queue's jobs run
 *	one after the other, in submission order
 * @num_in_syncobjs: entries of @in_syncobjs
 * @in_syncobjs: user pointer to __u32 syncobj handles whose fences the
 *	job waits for (each must have a fence: -EINVAL otherwise)
 * @num_in_sync_files: entries of @in_sync_files
 * @out_syncobj: a syncobj that gets the job's fence, or 0
 * @in_sync_files: user pointer to __s32 sync_file fds the job waits for
 * @bo_handle: a buffer whose reservation gets the job's fence as a write,
 *	or 0
 * @out_sync_file: output, a new sync_file fd of the job's fence with
 *	%DRM_VGPU_SUBMIT_OUT_SYNC_FILE, -1 without
 */
struct drm_vgpu_submit {
	__u32 queue_id;
	__u32 flags;
	__u32 duration_us;
	__u32 num_in_syncobjs;
	__u64 in_syncobjs;
	__u32 num_in_sync_files;
	__u32 out_syncobj;
	__u64 in_sync_files;
	__u32 bo_handle;
	__s32 out_sync_file;
};

/**
 * struct drm_vgpu_bo_create - create a buffer (shmem GEM object)
 * @size: bytes, 1 to 64 MiB, rounded up to pages
 * @flags: must be 0
 * @handle: output, the buffer's GEM handle; export it as a dma-buf with
 *	DRM_IOCTL_PRIME_HANDLE_TO_FD
 */
struct drm_vgpu_bo_create {
	__u64 size;
	__u32 flags;
	__u32 handle;
};

#define DRM_IOCTL_VGPU_GET_INFO \
	DRM_IOR(DRM_COMMAND_BASE + DRM_VGPU_GET_INFO, struct drm_vgpu_info)
#define DRM_IOCTL_VGPU_QUEUE_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPU_QUEUE_CREATE, \
		 struct drm_vgpu_queue_create)
#define DRM_IOCTL_VGPU_QUEUE_DESTROY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_VGPU_QUEUE_DESTROY, \
		struct drm_vgpu_queue_destroy)
#define DRM_IOCTL_VGPU_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPU_SUBMIT, struct drm_vgpu_submit)
#define DRM_IOCTL_VGPU_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPU_BO_CREATE, \
		 struct drm_vgpu_bo_create)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_VGPU_DRM_H_ */
