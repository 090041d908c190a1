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
//!   implemented by `T`; `free` is `T`'s [`Drop`]. Callbacks get the job
//!   as a [`JobRef`] (`run` as a [`RunContext`]), which holds no reference.
//! - [`Fence`]: any `dma_fence`; the fences jobs return reference only a
//!   small timeline, never the scheduler. [`HwTimeline`] and [`HwFence`]:
//!   the driver's hardware fences, so that no driver implements
//!   `dma_fence_ops`; a job's is allocated with the job, armed in `run`,
//!   and signals `ECANCELED` if the driver drops it unsignalled.
//! - Interop with the rest of DRM, on [`Fence`]: dependencies from a
//!   sync_file fd or a syncobj handle ([`Fence::from_sync_file`],
//!   [`Fence::from_syncobj`]); export as a sync_file fd
//!   ([`Fence::export_sync_file`]), into a syncobj
//!   ([`Fence::replace_in_syncobj`]) or a GEM object's reservation
//!   ([`Fence::add_to_resv`]).
//!
//! C header: [`include/drm/drm_sched_shim.h`](srctree/include/drm/drm_sched_shim.h)
//!
//! # Examples
//!
//! A driver with one queue per userspace queue: `run` arms the job's
//! hardware fence, allocated with the job since `run` must not allocate
//! (the job's fence is out; memory reclaim may wait for it), and hands it
//! to the "hardware", here a slot the test itself completes. The process
//! dies with its job on the hardware: the driver drops everything at once,
//! without waiting, and the fence it exported lives on.
//!
//! ```
//! use kernel::drm_sched_shim::{self as dshim, HwFence, HwTimeline, JobOps, JobRef, Queue,
//!                              RunContext, SchedulerOptions, TimeoutStatus};
//! use kernel::{new_spinlock, sync::{aref::ARef, Arc, SpinLock}};
//!
//! /// The hardware: one job at a time.
//! type Engine = SpinLock<Option<HwFence>>;
//!
//! struct MyJob {
//!     ring: ARef<HwTimeline>,
//!     engine: Arc<Engine>,
//! }
//!
//! #[vtable]
//! impl JobOps for MyJob {
//!     type SchedulerData = ();
//!
//!     fn run(self: Pin<&mut Self>, job: &mut RunContext<'_, Self>) -> Result {
//!         let hw = job.arm(&self.ring)?; // allocates nothing
//!         // The engine now runs the job: one at a time (credit limit 1).
//!         let idle = self.engine.lock().replace(hw).is_none();
//!         debug_assert!(idle);
//!         Ok(())
//!     }
//!
//!     fn timed_out(&self, job: &JobRef<'_, Self>) -> TimeoutStatus {
//!         let hw = self.engine.lock().take(); // not signalled under our lock
//!         if let Some(hw) = hw {
//!             hw.signal(Err(ETIMEDOUT));
//!         }
//!         job.kill(); // ban the queue: needs no reference to it
//!         TimeoutStatus::Continue
//!     }
//!
//!     fn cancel(&self, _job: &JobRef<'_, Self>) {
//!         let hw = self.engine.lock().take();
//!         if let Some(hw) = hw {
//!             hw.signal(Err(ECANCELED));
//!         }
//!     }
//! }
//!
//! // open
//! let ring = HwTimeline::new(c"my-ring")?;
//! let engine = Arc::pin_init(new_spinlock!(None), GFP_KERNEL)?;
//! let opts = SchedulerOptions { timeout_ms: 5000, ..SchedulerOptions::new(c"my-q", 1) };
//! let queue = Queue::<MyJob>::new(&opts, ())?;
//!
//! // submit ioctl
//! let job = queue.new_job(1, MyJob { ring: ring.clone(), engine: engine.clone() })?;
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
mod interop;
mod job;
mod sched;

pub use fence::{
    Fence,
    HwFence,
    HwTimeline, //
};
pub use interop::{
    ResvUsage,
    SyncFileFd, //
};
pub use job::{
    Created,
    Job,
    JobRef,
    JobState,
    Ready,
    RunContext, //
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
