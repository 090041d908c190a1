// SPDX-License-Identifier: GPL-2.0

//! rvgpu's buffers, the twin of `samples/vgpu/vgpu_gem.c`: shmem GEM
//! objects.
//!
//! Userspace exports them as dma-bufs with `DRM_IOCTL_PRIME_HANDLE_TO_FD`,
//! which the DRM core handles for shmem objects; a submit may add its job's
//! fence to a buffer's reservation, which the dma-buf shares, so the fences
//! show up in `/sys/kernel/debug/dma_buf/bufinfo` for as long as any process
//! keeps the dma-buf, whatever happened to the queue that made them.

use kernel::{
    drm::{
        gem::{
            self,
            shmem,
            BaseObject, //
        },
        Registered, //
    },
    page,
    prelude::*,
    uapi, //
};

use crate::{
    driver::{
        RvgpuDevice,
        RvgpuDriver,
        MAX_BO_SIZE, //
    },
    file::DrmFile,
    stats::{
        Live,
        STATS, //
    }, //
};

/// A buffer: a shmem GEM object with rvgpu's data.
pub(crate) type Bo = shmem::Object<BoData>;

/// rvgpu's data of a buffer.
#[pin_data]
pub(crate) struct BoData {
    /// Counts the buffer in `bos` until the DRM core frees it.
    _live: Live,
}

impl gem::DriverObject for BoData {
    type Driver = RvgpuDriver;
    type Args = ();

    fn new(_dev: &RvgpuDevice, _size: usize, _args: ()) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _live: Live::new(&STATS.bos),
        })
    }
}

/// `DRM_IOCTL_VGPU_BO_CREATE`: `EINVAL` for unknown flags or a size of 0 or
/// more than `MAX_BO_SIZE`, `ENOMEM`.
pub(crate) fn create_ioctl(
    dev: &RvgpuDevice<Registered>,
    _reg: &(),
    args: &mut uapi::drm_vgpu_bo_create,
    file: &DrmFile,
) -> Result<u32> {
    if args.flags != 0 || args.size == 0 || args.size > MAX_BO_SIZE {
        return Err(EINVAL);
    }
    // Rounded up to pages, as drm_gem_shmem_create() does for vgpu.
    let size = usize::try_from(args.size)
        .ok()
        .and_then(page::page_align)
        .ok_or(EINVAL)?;
    let bo = Bo::new(dev, size, shmem::ObjectConfig::default(), ())?;
    // The handle holds a reference of its own; `bo`'s goes at return.
    args.handle = bo.create_handle(file)?;
    Ok(0)
}
