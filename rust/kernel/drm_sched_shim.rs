// SPDX-License-Identifier: GPL-2.0

//! DRM scheduler shim: an ownership-explicit wrapper around `drm_sched`.
//!
//! The shim wraps `drm_sched` so that every object (scheduler, entity,
//! queue, job, fence, timeline) is reached through a counted reference and
//! teardown never depends on the order in which references are dropped.
//! This module is its safe Rust abstraction; the raw functions remain
//! reachable as `kernel::bindings::dshim_*`.
//!
//! - [`Fence`]: the fences jobs return, which reference only a small
//!   timeline, never the scheduler; [`HwTimeline`] and [`HwFence`]: the
//!   driver's hardware fences, so that no driver implements
//!   `dma_fence_ops`.
//!
//! C header: [`include/drm/drm_sched_shim.h`](srctree/include/drm/drm_sched_shim.h)

use crate::{bindings, error::Error};

mod fence;

pub use fence::{Fence, HwFence, HwTimeline};

/// Error codes the shim reports that 6.12's [`kernel::error::code`] lacks.
///
/// [`kernel::error::code`]: crate::error::code
pub mod code {
    use super::{bindings, Error};

    /// `ECANCELED`: a job that never ran (kill, shutdown), or one cancelled
    /// on the hardware by convention.
    pub fn ecanceled() -> Error {
        Error::from_errno(-(bindings::ECANCELED as i32))
    }

    /// `ESHUTDOWN`: the entity was killed or the scheduler shut down.
    pub fn eshutdown() -> Error {
        Error::from_errno(-(bindings::ESHUTDOWN as i32))
    }

    /// `ETIMEDOUT`: a wait timed out (or a job, by convention, hung).
    pub fn etimedout() -> Error {
        Error::from_errno(-(bindings::ETIMEDOUT as i32))
    }

    /// `EALREADY`: a hardware fence that already signalled.
    pub fn ealready() -> Error {
        Error::from_errno(-(bindings::EALREADY as i32))
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
/// # Context
///
/// Process context; sleeps. Never from a shim callback.
pub fn flush() {
    // SAFETY: Always safe to call from process context.
    unsafe { bindings::dshim_flush() };
}
