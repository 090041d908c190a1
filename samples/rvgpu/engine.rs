// SPDX-License-Identifier: GPL-2.0

//! rvgpu's hardware, the twin of `samples/vgpu/vgpu_hw.c`: one engine per
//! queue that runs the queue's jobs one at a time, in the order they reached
//! it, like a ring.
//!
//! The job at the head has an hrtimer that expires, in hardirq context like
//! a completion interrupt, after the duration userspace asked for; then the
//! next job starts. A hanging job has no timer: only the scheduler's timeout
//! or a cancel takes it off, and the jobs behind it wait as on real
//! hardware. So an engine's hardware fences signal in the order they were
//! armed, as the fences of one timeline must.
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
    /// Signalled when the job leaves the engine, by whoever takes it off.
    fence: HwFence,
    /// It reached the head of the engine and runs.
    started: bool,
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
    /// Running jobs taken off whose fence is yet to signal: no job starts
    /// meanwhile, so that the engine's fences signal in order.
    stopping: u32,
}

impl EngineState {
    /// Starts the job at the head of the engine, unless it runs already.
    fn start_head(&mut self) {
        // A stopped job's fence is still to signal: its stop starts the
        // next job.
        if self.stopping > 0 {
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
                state <- new_spinlock_irq!(EngineState { ring, stopping: 0 }),
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
        state
            .ring
            .push_within_capacity(OnEngine {
                job: job.clone(),
                fence,
                started: false,
            })
            .map_err(|_| ENOSPC)?;
        state.start_head();
        Ok(())
    }

    /// Takes `job` off the engine and signals its fence with `result`: its
    /// completion (`Ok`), timeout or cancel.
    ///
    /// The next job starts only once this one's fence signalled: the fences
    /// of an engine share one timeline and must signal in order, and a next
    /// job of 0 us started first could complete before this signal.
    ///
    /// Returns `false` if the job was not on the engine (it completed or was
    /// stopped before): then its fence was someone else's to signal.
    ///
    /// # Context
    ///
    /// Any context.
    fn stop(&self, job: &HwJob, result: Result) -> bool {
        let OnEngine {
            job: taken,
            fence,
            started,
        } = {
            let mut state = self.state.lock();
            let index = state.ring.iter().position(|on| ptr::eq(&*on.job, job));
            let Some(on) = index.and_then(|i| state.ring.remove(i).ok()) else {
                return false;
            };
            state.stopping += u32::from(on.started);
            on
        };
        fence.signal(result);

        let mut state = self.state.lock();
        state.stopping -= u32::from(started);
        state.start_head();
        drop(state);
        // Not the job's last reference: its data holds one until the shim
        // drops it, which cancels the job's timer first, and so waits for
        // this function if it runs in that timer's callback.
        drop(taken);
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
