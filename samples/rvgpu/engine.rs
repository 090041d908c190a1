// SPDX-License-Identifier: GPL-2.0

//! rvgpu's hardware, the twin of `samples/vgpu/vgpu_hw.c`: one engine per
//! queue that runs the queue's jobs one at a time, in the order they reached
//! it, like a ring.
//!
//! The job at the head has an hrtimer that expires, in hardirq context like
//! a completion interrupt, after the duration userspace asked for; then the
//! next job starts. A hanging job has no timer: only the scheduler's timeout
//! or a cancel takes it off, and the jobs behind it wait as on real
//! hardware. A job stopped while it waits (a cancel) signals after the jobs
//! ahead of it. So an engine's hardware fences signal in the order they
//! were armed, as the fences of one timeline must.
//!
//! Nothing here allocates once a job is submitted: each job's timer and
//! state ([`HwJob`]) are allocated with the job, and each engine's ring with
//! the engine, with room for the queue's credit limit of jobs.

use core::ptr;
use kernel::{
    drm_sched_shim::{
        HwFence,
        HwTimeline, //
    },
    impl_has_hr_timer,
    new_spinlock_irq,
    prelude::*,
    sync::{
        aref::ARef,
        Arc,
        ArcBorrow,
        SpinLockIrq, //
    },
    time::{
        hrtimer::{
            ArcHrTimerHandle,
            HrTimer,
            HrTimerCallback,
            HrTimerCallbackContext,
            HrTimerPointer,
            HrTimerRestart,
            RelativeMode, //
        },
        Delta,
        Monotonic, //
    }, //
};

/// A job on an engine.
struct OnEngine {
    job: Arc<HwJob>,
    /// Signalled when the job leaves the engine, in the engine's order.
    fence: HwFence,
    /// It reached the head of the engine and runs.
    started: bool,
    /// Stopped (completed, timed out, cancelled): its fence is to signal
    /// with this once every job ahead of it on the engine signalled.
    done: Option<Result>,
}

/// An engine's state, under its lock.
struct EngineState {
    /// The jobs on the engine, the running one first.
    ///
    /// A ring rather than a list of the jobs: its capacity, the queue's
    /// credit limit, is reserved when the engine is created, and the
    /// scheduler puts at most that many jobs (of one credit each) on the
    /// hardware, so putting a job on the engine never allocates; taking
    /// one off anywhere (a timeout or a cancel of a job still waiting)
    /// moves at most that many pointers; and it needs no `unsafe`, which
    /// 7.3's `List::remove` does.
    ring: KVec<OnEngine>,
    /// A job taken off is having its fence signalled, outside the lock: no
    /// job starts and no other fence signals meanwhile, so that the
    /// engine's fences signal in order.
    stopping: bool,
}

impl EngineState {
    /// Starts the job at the head of the engine, unless it runs already.
    fn start_head(&mut self) {
        // A stopped job's fence is still to signal: its stop starts the
        // next job.
        if self.stopping {
            return;
        }
        let Some(head) = self.ring.first_mut() else {
            return;
        };
        if head.started {
            return;
        }
        head.started = true;
        if !head.job.hang {
            let handle = head.job.clone().start(head.job.duration);
            // A job starts once, so there is no earlier handle to drop here
            // (which would wait for its callback, under our lock).
            *head.job.timer_handle.lock() = Some(handle);
        }
    }
}

/// The hardware of one queue.
#[pin_data]
pub(crate) struct Engine {
    /// The timeline of the engine's hardware fences.
    timeline: ARef<HwTimeline>,
    /// Whether a kill takes the engine's jobs off (module parameter
    /// `cancel` when the queue was created).
    cancel: bool,
    #[pin]
    state: SpinLockIrq<EngineState>,
}

impl Engine {
    /// A new, idle engine, with room for `capacity` jobs and a hardware
    /// timeline called `name`.
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    pub(crate) fn new(name: &CStr, capacity: usize, cancel: bool) -> Result<Arc<Self>> {
        let timeline = HwTimeline::new(name)?;
        let ring = KVec::with_capacity(capacity, GFP_KERNEL)?;
        Arc::pin_init(
            pin_init!(Self {
                timeline,
                cancel,
                state <- new_spinlock_irq!(EngineState { ring, stopping: false }),
            }),
            GFP_KERNEL,
        )
    }

    /// Whether a kill takes the engine's jobs off.
    pub(crate) fn cancels(&self) -> bool {
        self.cancel
    }

    /// Puts `job` on the engine, with the hardware fence that `arm` arms on
    /// the engine's timeline.
    ///
    /// `arm` is called under the engine's lock, so the fences are armed in
    /// the order the engine runs (and signals) them.
    ///
    /// # Context
    ///
    /// Any context; allocates nothing (for [`JobOps::run`]).
    ///
    /// [`JobOps::run`]: kernel::drm_sched_shim::JobOps::run
    pub(crate) fn push(
        &self,
        job: &Arc<HwJob>,
        arm: impl FnOnce(&HwTimeline) -> Result<HwFence>,
    ) -> Result {
        let mut state = self.state.lock();
        // Cannot happen (see `EngineState::ring`): checked before arming all
        // the same, so that a job fails rather than the ring growing.
        if state.ring.len() == state.ring.capacity() {
            return Err(ENOSPC);
        }
        let fence = arm(&self.timeline)?;
        let pushed = state.ring.push_within_capacity(OnEngine {
            job: job.clone(),
            fence,
            started: false,
            done: None,
        });
        state.start_head();
        drop(state);
        // A job that did not fit is dropped here, its fence (which signals
        // `ECANCELED`) outside our lock.
        pushed.map_err(|_| ENOSPC)
    }

    /// Takes `job` off the engine: its fence signals `result` (its
    /// completion, timeout or cancel) once every job ahead of it did.
    ///
    /// The fences of an engine share one timeline and must signal in
    /// order: a job stopped behind others (a cancel of a job still
    /// waiting) signals after them, and the next job starts only once every
    /// stopped job at the head signalled (a next job of 0 us started first
    /// could complete before).
    ///
    /// Returns `false` if the job was not on the engine or stopped before:
    /// then its fence is someone else's to signal.
    ///
    /// # Context
    ///
    /// Any context.
    fn stop(&self, job: &HwJob, result: Result) -> bool {
        let mut state = self.state.lock();
        let Some(on) = state
            .ring
            .iter_mut()
            .find(|on| ptr::eq(&*on.job, job) && on.done.is_none())
        else {
            return false;
        };
        on.done = Some(result);
        // One caller signals at a time, outside the lock: one that stops a
        // job meanwhile leaves it to that one, which looks at the head again
        // after each signal.
        if state.stopping {
            return true;
        }
        while state.ring.first().is_some_and(|on| on.done.is_some()) {
            let Ok(OnEngine {
                job: taken,
                fence,
                done,
                ..
            }) = state.ring.remove(0)
            else {
                break;
            };
            state.stopping = true;
            drop(state);
            fence.signal(done.unwrap_or(Ok(())));
            // Not the job's last reference: its data holds one until the
            // shim drops it, which cancels the job's timer first, and so
            // waits for this function if it runs in that timer's callback.
            drop(taken);
            state = self.state.lock();
            state.stopping = false;
        }
        state.start_head();
        true
    }
}

/// A job's side of the hardware, allocated with the job.
///
/// The engine holds a reference while the job is on it, and the job's
/// timer one while it is armed: the timer's handle, kept in the job itself
/// until the job's data is dropped ([`HwJob::release_timer`]), which ends
/// that cycle.
#[pin_data]
pub(crate) struct HwJob {
    #[pin]
    timer: HrTimer<HwJob>,
    /// The handle of the started timer: holds a reference to the job, and
    /// cancels the timer (waiting for its callback) when dropped.
    #[pin]
    timer_handle: SpinLockIrq<Option<ArcHrTimerHandle<HwJob>>>,
    engine: Arc<Engine>,
    /// How long the job runs once at the head of the engine.
    duration: Delta,
    /// It never completes: the timeout or a cancel takes it off.
    hang: bool,
}

impl HwJob {
    /// A job for `engine` that runs for `duration_us`, or forever.
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    pub(crate) fn new(engine: &Arc<Engine>, duration_us: u32, hang: bool) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                timer <- HrTimer::new(),
                timer_handle <- new_spinlock_irq!(None),
                engine: engine.clone(),
                duration: Delta::from_micros(i64::from(duration_us)),
                hang,
            }),
            GFP_KERNEL,
        )
    }

    /// The job's engine.
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Takes the job off its engine with an error; see [`Engine::stop`].
    pub(crate) fn stop(&self, error: Error) -> bool {
        self.engine.stop(self, Err(error))
    }

    /// Cancels the job's timer, waiting for its callback if it runs, and
    /// drops the timer's reference to the job.
    ///
    /// For the drop of the job's data: the job is off its engine by then,
    /// but its timer may still be armed (the job was stopped early) or its
    /// callback still running.
    ///
    /// # Context
    ///
    /// Process context, not in the timer's callback.
    pub(crate) fn release_timer(&self) {
        let handle = self.timer_handle.lock().take();
        // Dropped outside our lock: the callback may be waiting for it.
        drop(handle);
    }
}

impl HrTimerCallback for HwJob {
    type Pointer<'a> = Arc<Self>;

    /// The completion interrupt: the job leaves the engine without an error,
    /// unless a timeout or a cancel took it off first.
    fn run(this: ArcBorrow<'_, Self>, _ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        this.engine.stop(&this, Ok(()));
        HrTimerRestart::NoRestart
    }
}

// Plain (not hard) relative mode: the callback runs in hardirq context, as
// vgpu's, except on PREEMPT_RT, where it runs in softirq context because the
// spinlocks it takes (the engine's, the fence's) sleep there.
impl_has_hr_timer! {
    impl HasHrTimer<Self> for HwJob {
        mode: RelativeMode<Monotonic>,
        field: self.timer
    }
}

#[cfg(CONFIG_DRM_RVGPU_KUNIT_TEST)]
#[kunit_tests(rvgpu_engine)]
mod tests {
    use super::*;

    /// A job stopped while it waits behind the running one (a cancel)
    /// signals after it, not at once: a consumer that keeps only the latest
    /// fence of a timeline (drm_sched's dependencies, dma_resv) would
    /// otherwise take the running job for done.
    #[test]
    fn stop_behind_in_order() -> Result {
        let engine = Engine::new(c"rvgpu-engine-test", 4, true)?;
        let mut jobs = KVec::new();
        let mut seen = KVec::new();
        for _ in 0..3 {
            let job = HwJob::new(&engine, 0, true)?;
            // Made here, where we may allocate, and armed in order.
            let fence = engine.timeline.new_fence()?;
            seen.push(fence.fence(), GFP_KERNEL)?;
            engine.push(&job, |_| Ok(fence))?;
            jobs.push(job, GFP_KERNEL)?;
        }

        assert!(jobs[1].stop(ECANCELED));
        assert!(!seen[1].is_signaled());
        // Stopped once: a timeout after the cancel finds it done.
        assert!(!jobs[1].stop(ETIMEDOUT));

        assert!(jobs[0].stop(ETIMEDOUT));
        assert_eq!(seen[0].result(), Some(Err(ETIMEDOUT)));
        assert_eq!(seen[1].result(), Some(Err(ECANCELED)));
        // The hang behind them now runs, until it is stopped too.
        assert!(!seen[2].is_signaled());
        assert!(jobs[2].stop(ECANCELED));
        assert!(seen[2].is_signaled());
        Ok(())
    }
}
