// SPDX-License-Identifier: GPL-2.0

//! rvgpu's jobs on the DRM scheduler shim, the twin of
//! `samples/vgpu/vgpu_shim.c`: what the shim calls for each job.
//!
//! The job's data is allocated at submit ([`RvgpuJob::new`]); `run`,
//! `timed_out` and `cancel` are fence signalling paths and allocate nothing.
//! The shim owns the data from then on and drops it exactly once, whatever
//! happened to the queue: that drop is vgpu's `free` callback.

use kernel::{
    drm_sched_shim::{
        JobOps,
        JobRef,
        RunContext,
        TimeoutStatus, //
    },
    prelude::*,
    sync::Arc, //
};

use crate::{
    engine::{
        Engine,
        HwJob, //
    },
    stats::{
        Live,
        STATS, //
    }, //
};

/// A job's data.
pub(crate) struct RvgpuJob {
    /// The job's side of the hardware (holds the engine).
    hw: Arc<HwJob>,
    /// Counts the job in `jobs` until the shim drops it.
    _live: Live,
}

impl RvgpuJob {
    /// The data of a job for `engine`.
    ///
    /// # Context
    ///
    /// Process context; may sleep (it allocates what the job needs later).
    pub(crate) fn new(engine: &Arc<Engine>, duration_us: u32, hang: bool) -> Result<Self> {
        Ok(Self {
            hw: HwJob::new(engine, duration_us, hang)?,
            _live: Live::new(&STATS.jobs),
        })
    }
}

impl Drop for RvgpuJob {
    fn drop(&mut self) {
        // The shim drops the data once the job's hardware fence signalled
        // (or if it never ran), on its worker; also the submit ioctl, if
        // the job failed before. The job is off its engine then, but its
        // timer may still be armed or firing.
        self.hw.release_timer();
    }
}

#[vtable]
impl JobOps for RvgpuJob {
    type SchedulerData = ();

    fn run(self: Pin<&mut Self>, job: &mut RunContext<'_, Self>) -> Result {
        self.hw
            .engine()
            .push(&self.hw, |timeline| job.arm(timeline))?;
        STATS.jobs_run.inc();
        Ok(())
    }

    fn timed_out(&self, _job: &JobRef<'_, Self>) -> TimeoutStatus {
        // The job may have completed meanwhile: then it is not on the
        // engine, and not counted.
        if self.hw.stop(ETIMEDOUT) {
            STATS.jobs_timedout.inc();
        }
        TimeoutStatus::Continue
    }

    fn cancel(&self, _job: &JobRef<'_, Self>) {
        // With rvgpu.cancel=0 the job runs to completion, as with a driver
        // without `cancel`; the shim keeps the module pinned until then.
        if self.hw.engine().cancels() && self.hw.stop(ECANCELED) {
            STATS.jobs_cancelled.inc();
        }
    }
}
