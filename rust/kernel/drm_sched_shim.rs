// SPDX-License-Identifier: GPL-2.0

//! DRM scheduler shim: an ownership-explicit wrapper around `drm_sched`.
//!
//! The shim wraps `drm_sched` so that every object (scheduler, entity,
//! queue, job, fence, timeline) is reached through a counted reference and
//! teardown never depends on the order in which references are dropped.
//! This module is its safe Rust abstraction; the raw functions remain
//! reachable as `kernel::bindings::dshim_*`.
//!
//! - [`Queue`] (a scheduler and its one entity), [`Scheduler`] and
//!   [`Entity`]: counted handles ([`ARef`]); dropping the last reference
//!   shuts down or kills without waiting, from any context.
//! - [`Job`]: created, dependencies added, submitted, as a typestate;
//!   its driver data `T` is owned by the shim and dropped exactly once.
//! - [`JobOps`]: the driver's callbacks (`run`, `timed_out`, `cancel`),
//!   implemented by `T`; `free` is `T`'s [`Drop`].
//! - [`Fence`]: the fences jobs return, which reference only a small
//!   timeline, never the scheduler; [`HwTimeline`], [`HwFenceSlot`]
//!   and [`HwFence`]: the driver's hardware fences, so that no driver
//!   implements `dma_fence_ops`.
//!
//! C header: [`include/drm/drm_sched_shim.h`](srctree/include/drm/drm_sched_shim.h)
//!
//! # Examples
//!
//! A driver with one queue per userspace queue: its job data holds the
//! hardware fence the "interrupt handler" (here, the test itself) signals.
//! The fence is allocated with the job and armed in `run`, which must not
//! allocate (the job's fence is out; memory reclaim may wait for it).
//! The process dies with its job submitted, maybe on the hardware already:
//! the driver drops everything at once, without waiting, and the fence it
//! exported lives on.
//!
//! ```
//! use kernel::drm_sched_shim::{self as dshim, Fence, HwFence, HwFenceSlot, HwTimeline, JobOps,
//!                              Queue, SchedulerOptions};
//! use kernel::{new_spinlock, sync::{aref::ARef, SpinLock}};
//!
//! #[pin_data]
//! struct MyJob {
//!     ring: ARef<HwTimeline>,
//!     hw_slot: HwFenceSlot,
//!     #[pin]
//!     hw_fence: SpinLock<Option<ARef<HwFence>>>,
//! }
//!
//! #[vtable]
//! impl JobOps for MyJob {
//!     fn run(&self) -> Result<Option<ARef<Fence>>> {
//!         let hw = self.hw_slot.arm(&self.ring)?; // allocates nothing
//!         let fence = hw.fence();
//!         *self.hw_fence.lock() = Some(hw); // the ring now runs the job
//!         Ok(Some(fence))
//!     }
//!
//!     fn cancel(&self) {
//!         let hw = self.hw_fence.lock().take(); // not signalled under our lock
//!         if let Some(hw) = hw {
//!             let _ = hw.signal(Err(ECANCELED));
//!         }
//!     }
//! }
//!
//! // open
//! let ring = HwTimeline::new(c"my-ring")?;
//! let opts = SchedulerOptions { timeout_ms: 5000, ..SchedulerOptions::new(c"my-q", 64) };
//! let queue = Queue::<MyJob>::new(&opts)?;
//!
//! // submit ioctl
//! let job_ring = ring.clone();
//! let hw_slot = HwFenceSlot::new()?;
//! let job = queue.new_job(1, try_pin_init!(MyJob {
//!     ring: job_ring,
//!     hw_slot,
//!     hw_fence <- new_spinlock!(None),
//! }? Error))?;
//! let out_fence = job.ready().submit()?;
//!
//! // postclose of a killed process: no waiting, no ordering
//! drop(queue);
//! drop(ring);
//!
//! // The job was cancelled, on the hardware or before it got there; its
//! // fence outlives everything.
//! out_fence.wait_timeout(5000)?;
//! assert_eq!(out_fence.result(), Some(Err(ECANCELED)));
//! dshim::flush()?;
//! # Ok::<(), Error>(())
//! ```

use crate::{
    bindings,
    error::{
        to_result,
        Result, //
    },
};

mod fence;
mod job;
mod sched;

pub use fence::{
    Fence,
    HwFence,
    HwFenceSlot,
    HwTimeline, //
};
pub use job::{
    Created,
    Job,
    JobState,
    Ready, //
};
pub use sched::{
    Entity,
    JobOps,
    Queue,
    Scheduler,
    SchedulerOptions,
    TimeoutStatus, //
};

#[cfg(doc)]
use crate::sync::aref::ARef;

/// The error codes the shim reports, by the names its first API gave them.
///
/// Each is the kernel's own code from [`kernel::error::code`], which has them
/// all: new code uses those (`ECANCELED`, ...) directly. These functions stay
/// so that callers of the first API keep building.
///
/// [`kernel::error::code`]: crate::error::code
///
/// # Examples
///
/// ```
/// use kernel::drm_sched_shim::code;
///
/// assert_eq!(code::ecanceled(), ECANCELED);
/// assert_eq!(code::eshutdown(), ESHUTDOWN);
/// assert_eq!(code::etimedout(), ETIMEDOUT);
/// assert_eq!(code::ealready(), EALREADY);
/// ```
pub mod code {
    use crate::error::{
        code::{
            EALREADY,
            ECANCELED,
            ESHUTDOWN,
            ETIMEDOUT, //
        },
        Error, //
    };

    /// `ECANCELED`: a job that never ran (kill, shutdown), or one cancelled
    /// on the hardware by convention.
    #[inline]
    pub fn ecanceled() -> Error {
        ECANCELED
    }

    /// `ESHUTDOWN`: the entity was killed or the scheduler shut down.
    #[inline]
    pub fn eshutdown() -> Error {
        ESHUTDOWN
    }

    /// `ETIMEDOUT`: a wait timed out (or a job, by convention, hung).
    #[inline]
    pub fn etimedout() -> Error {
        ETIMEDOUT
    }

    /// `EALREADY`: a hardware fence that already signalled.
    #[inline]
    pub fn ealready() -> Error {
        EALREADY
    }
}

/// Live shim objects, for leak checks; see [`stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Schedulers whose memory is not freed yet.
    pub scheds: u64,
    /// Entities whose memory is not freed yet.
    pub entities: u64,
    /// Queue handles not freed yet.
    pub queues: u64,
    /// Jobs whose memory is not freed yet.
    pub jobs: u64,
    /// Shim fences (job and hardware) not freed yet.
    pub fences: u64,
    /// Timelines not freed yet.
    pub timelines: u64,
    /// Misuse the shim caught and warned about (never decreases).
    pub driver_bugs: u64,
}

/// Snapshot of the shim's live object counts (global to the shim, not per
/// driver).
///
/// # Context
///
/// Any context.
pub fn stats() -> Stats {
    let mut s = bindings::dshim_stats::default();
    // SAFETY: `s` is a valid, writable `struct dshim_stats`.
    unsafe { bindings::dshim_stats_read(&mut s) };
    Stats {
        scheds: s.scheds,
        entities: s.entities,
        queues: s.queues,
        jobs: s.jobs,
        fences: s.fences,
        timelines: s.timelines,
        driver_bugs: s.driver_bugs,
    }
}

/// Waits for the shim's deferred work queued so far (puts, kills,
/// shutdowns and the frees they lead to).
///
/// A driver calls it before its module goes, once it dropped all handles and
/// its `wait_idle()` calls returned; tests call it before checking
/// [`stats`].
///
/// Returns `Err(EDEADLK)`, at once and having flushed nothing, when called
/// from a [`JobOps`] callback or from the drop of a job's data: there it
/// would wait for the work item it runs in.
///
/// # Context
///
/// Process context; sleeps.
pub fn flush() -> Result {
    // SAFETY: Always safe to call from process context; from a shim
    // callback it returns `-EDEADLK` without waiting.
    to_result(unsafe { bindings::dshim_flush() })
}
