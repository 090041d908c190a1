// SPDX-License-Identifier: GPL-2.0

//! The DRM driver: a render node with vgpu's ioctls and shmem buffers.
//!
//! One difference with vgpu's uapi cannot be helped: vgpu refuses an ioctl
//! whose struct size (in the ioctl number) is not its own with `EINVAL`,
//! from a `file_operations.unlocked_ioctl` of its own, before the DRM core
//! zero-extends or truncates the struct. 7.3's `drm::Driver` takes no
//! `file_operations` (every Rust driver gets `drm_ioctl()`), and an ioctl
//! handler does not see the ioctl number; so a `DRM_IOCTL_VGPU_SUBMIT` 8
//! bytes short or long is taken like the right one.

use kernel::{
    device::DeviceContext,
    drm::{
        self,
        ioctl,
        Registered, //
    },
    faux,
    prelude::*,
    uapi, //
};

use crate::{
    file::{
        DrmFile,
        RvgpuFile, //
    },
    gem::Bo, //
};

/// Queues one open file may have at once.
pub(crate) const MAX_QUEUES: u32 = 64;
/// Longest in-fence array of each kind in one submit.
pub(crate) const MAX_IN_FENCES: u32 = 16;
/// Longest job duration.
pub(crate) const MAX_DURATION_US: u32 = 1_000_000;
/// Largest buffer.
pub(crate) const MAX_BO_SIZE: u64 = 64 << 20;
/// Jobs on the hardware per queue.
pub(crate) const CREDIT_LIMIT: u32 = 32;

/// The rvgpu DRM driver.
pub(crate) struct RvgpuDriver;

/// rvgpu's DRM device.
pub(crate) type RvgpuDevice<Ctx = drm::Normal> = drm::Device<RvgpuDriver, Ctx>;

const INFO: drm::DriverInfo = drm::DriverInfo {
    major: 1,
    minor: 0,
    patchlevel: 0,
    name: c"rvgpu",
    desc: c"Rust virtual GPU on the DRM scheduler shim",
};

// The ioctl numbers, which `declare_drm_ioctls!` looks up by name. bindgen
// cannot evaluate vgpu_drm.h's `DRM_IOR()`/`DRM_IOWR()` macros, so they are
// not in `kernel::uapi` (nova_drm.h has an enum for them instead).
const DRM_IOCTL_VGPU_GET_INFO: u32 =
    ioctl::IOR::<uapi::drm_vgpu_info>(uapi::DRM_COMMAND_BASE + uapi::DRM_VGPU_GET_INFO);
const DRM_IOCTL_VGPU_QUEUE_CREATE: u32 = ioctl::IOWR::<uapi::drm_vgpu_queue_create>(
    uapi::DRM_COMMAND_BASE + uapi::DRM_VGPU_QUEUE_CREATE,
);
const DRM_IOCTL_VGPU_QUEUE_DESTROY: u32 = ioctl::IOW::<uapi::drm_vgpu_queue_destroy>(
    uapi::DRM_COMMAND_BASE + uapi::DRM_VGPU_QUEUE_DESTROY,
);
const DRM_IOCTL_VGPU_SUBMIT: u32 =
    ioctl::IOWR::<uapi::drm_vgpu_submit>(uapi::DRM_COMMAND_BASE + uapi::DRM_VGPU_SUBMIT);
const DRM_IOCTL_VGPU_BO_CREATE: u32 =
    ioctl::IOWR::<uapi::drm_vgpu_bo_create>(uapi::DRM_COMMAND_BASE + uapi::DRM_VGPU_BO_CREATE);

#[vtable]
impl drm::Driver for RvgpuDriver {
    type Data = ();
    type RegistrationData<'a> = ();
    type Object = Bo;
    type File = RvgpuFile;
    type ParentDevice<Ctx: DeviceContext> = faux::Device<Ctx>;

    const INFO: drm::DriverInfo = INFO;
    const FEAT_RENDER: bool = true;
    // `DRIVER_SYNCOBJ`: the DRM core's syncobj ioctls and each file's
    // syncobj table, which submit's in- and out-syncobjs use. Not in 7.3's
    // `drm::Driver`: the tree needs the edit that adds it.
    const FEAT_SYNCOBJ: bool = true;

    kernel::declare_drm_ioctls! {
        (VGPU_GET_INFO, drm_vgpu_info, ioctl::RENDER_ALLOW, get_info_ioctl),
        (VGPU_QUEUE_CREATE, drm_vgpu_queue_create, ioctl::RENDER_ALLOW,
            crate::queue::create_ioctl),
        (VGPU_QUEUE_DESTROY, drm_vgpu_queue_destroy, ioctl::RENDER_ALLOW,
            crate::queue::destroy_ioctl),
        (VGPU_SUBMIT, drm_vgpu_submit, ioctl::RENDER_ALLOW, crate::submit::submit_ioctl),
        (VGPU_BO_CREATE, drm_vgpu_bo_create, ioctl::RENDER_ALLOW, crate::gem::create_ioctl),
    }
}

/// `DRM_IOCTL_VGPU_GET_INFO`: what the device is and accepts.
fn get_info_ioctl(
    _dev: &RvgpuDevice<Registered>,
    _reg: &(),
    info: &mut uapi::drm_vgpu_info,
    _file: &DrmFile,
) -> Result<u32> {
    info.uapi_version = uapi::DRM_VGPU_UAPI_VERSION;
    info.max_queues = MAX_QUEUES;
    info.max_in_fences = MAX_IN_FENCES;
    info.max_duration_us = MAX_DURATION_US;
    info.timeout_ms = crate::timeout_ms();
    // Always the shim: rvgpu has no raw drm_sched back end.
    info.raw = 0;
    Ok(0)
}
