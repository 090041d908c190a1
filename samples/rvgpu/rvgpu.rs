// SPDX-License-Identifier: GPL-2.0

//! rvgpu: the Rust twin of vgpu, the virtual GPU sample driver of the DRM
//! scheduler shim (`samples/vgpu/`).
//!
//! A render node on a faux device, with vgpu's uapi
//! (`include/uapi/drm/vgpu_drm.h`): queues whose jobs run on timer-driven
//! "hardware", shmem buffers exported as dma-bufs through the DRM core's
//! PRIME, fences in from syncobjs and sync files and out to sync files,
//! syncobjs and buffer reservations. It shows what a Rust driver author gets
//! from `kernel::drm_sched_shim` when processes die at random points:
//! closing the file (also by SIGKILL) kills the file's queues and returns at
//! once, and the fences other processes keep stay valid. Everything it does
//! with the shim is safe code; its only `unsafe` is in the module's init:
//! the DRM registration, as 7.3 asks of every driver, and the lifetime of
//! the faux device that registration borrows.
//!
//! As a module it is pinned while anything may still call it: open files
//! and exported dma-bufs (its `file_operations`), and, through the shim,
//! every queue with a job left (the shim pins the module of `JobOps` types).
//!
//! Counters in `/sys/kernel/debug/rvgpu/stats`, with vgpu's keys; the
//! shim's own are in `/sys/kernel/debug/drm_sched_shim/stats`.

use kernel::{
    debugfs,
    device::Bound,
    drm,
    faux,
    prelude::*, //
};

mod driver;
mod engine;
mod file;
mod gem;
mod job;
mod queue;
mod stats;
mod submit;

module! {
    type: RvgpuModule,
    name: "rvgpu",
    description: "rvgpu: Rust virtual GPU sample driver on the DRM scheduler shim",
    license: "GPL",
    params: {
        timeout_ms: u32 {
            default: 100,
            description: "Job timeout in ms (default 100)",
        },
        cancel: bool {
            default: true,
            description: "Killed queues cancel their jobs on the hardware (default: yes)",
        },
    },
}

/// How long a job may stay on the hardware before it fails with
/// `ETIMEDOUT` (module parameter `timeout_ms`).
///
/// 7.3's `module!` parameters are set at load time only (they are not in
/// sysfs), so unlike vgpu's this one cannot change while loaded.
fn timeout_ms() -> u32 {
    module_parameters::timeout_ms.value()
}

/// Whether killed queues cancel their jobs on the hardware (module
/// parameter `cancel`), read when a queue is created. Without, those jobs
/// run to completion, and the shim keeps the module pinned until then.
fn cancel() -> bool {
    module_parameters::cancel.value()
}

/// The one rvgpu device.
///
/// Fields are dropped in the order they are declared: the debugfs file
/// first, then the DRM registration (which unplugs the DRM device), then the
/// faux device the registration borrows from.
struct RvgpuModule {
    _stats: Pin<KBox<debugfs::File<()>>>,
    _debugfs: debugfs::Dir,
    _drm: drm::Registration<'static, driver::RvgpuDriver>,
    _faux: faux::Registration,
}

impl kernel::Module for RvgpuModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let faux = faux::Registration::new(c"rvgpu", None)?;
        let fdev: &faux::Device<Bound> = faux.as_ref();
        // SAFETY: The faux device is the C `struct faux_device` that `faux`
        // points to: moving `faux` (into `Self` below) does not move it, and
        // it stays registered, and bound, until `faux` is dropped. The only
        // holder of the extended reference is the DRM registration, which is
        // in `Self::_drm`, declared before `Self::_faux` and so dropped
        // before it, on every path: at module exit by field order, and on an
        // error below by the reverse order of the locals (`drm` is declared
        // after `faux`).
        let fdev: &'static faux::Device<Bound> = unsafe { &*core::ptr::from_ref(fdev) };

        let unregistered = drm::UnregisteredDevice::<driver::RvgpuDriver>::new(fdev, Ok(()))?;
        // SAFETY: The registration goes into `Self::_drm` and is dropped with
        // the module (or at once if a step below fails); it is never
        // forgotten.
        let drm = unsafe { drm::Registration::new(fdev.as_ref(), unregistered, (), 0)? };

        // debugfs is optional: a failed directory makes empty handles.
        let dir = debugfs::Dir::new(c"rvgpu");
        let stats_file = KBox::pin_init(
            dir.read_callback_file(c"stats", (), &stats::show),
            GFP_KERNEL,
        )?;

        dev_info!(
            fdev,
            "rvgpu: shim back end, job timeout {} ms\n",
            timeout_ms()
        );
        Ok(Self {
            _stats: stats_file,
            _debugfs: dir,
            _drm: drm,
            _faux: faux,
        })
    }
}
