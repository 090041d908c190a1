// SPDX-License-Identifier: GPL-2.0

//! A mock GPU driver on the DRM scheduler shim's safe Rust API, and the
//! KUnit suite `dshim_rust_mock` that runs its teardown scenarios.
//!
//! The driver uses `kernel::drm_sched_shim` only, and the crate forbids
//! the `unsafe_code` lint: the compiler proves it has none of the code
//! that lint reports (`grep -w` for the keyword finds nothing either). Its "hardware" is a
//! ring of hardware fences that the test completes explicitly, so every
//! scenario is deterministic. Every job's data counts its own drop, and
//! every scenario ends by checking that each job's data was dropped exactly
//! once and that the shim's live objects are back to where they were.
//!
//! The scenarios are the `#[test]` functions of a `#[kunit_tests]` module,
//! each a `fn() -> Result` that fails its case by returning an error. They
//! check with `check!` and `check_eq!`, which print what failed and
//! return `EINVAL`, rather than with the `assert!` that `#[kunit_tests]`
//! maps to KUnit: a failed KUnit assertion ends the test's thread at once,
//! without dropping what the scenario holds (queues, jobs, fences), which
//! would leave the next scenarios' leak checks to fail too.

#![forbid(unsafe_code)]

use core::sync::atomic::{
    AtomicUsize,
    Ordering, //
};
use kernel::drm_sched_shim::{
    self as dshim,
    Fence,
    HwFence,
    HwTimeline,
    Job,
    JobOps,
    JobRef,
    Queue,
    RunContext,
    Scheduler,
    SchedulerOptions,
    TimeoutStatus, //
};
use kernel::{
    new_condvar,
    new_mutex,
    new_spinlock,
    prelude::*,
    sync::{
        aref::ARef,
        Arc,
        CondVar,
        Mutex,
        SpinLock, //
    },
    time::msecs_to_jiffies, //
};

// Built in, like the shim. `module!` also gives the crate its `__LOG_PREFIX`
// (for `pr_err!`) and its `LocalModule`, which every `#[vtable]` impl names as
// its `OwnerModule`.
module! {
    type: DshimRustMock,
    name: "dshim_rust_mock",
    description: "Mock GPU driver on the DRM scheduler shim's safe Rust API (KUnit)",
    license: "GPL",
}

/// The mock driver's module: nothing to set up, the scenarios run as KUnit
/// cases.
struct DshimRustMock;

impl kernel::Module for DshimRustMock {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self)
    }
}

/// Fails the scenario (returns `EINVAL`) unless `$cond` holds.
macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            pr_err!(
                "    # {}:{}: check failed: {}\n",
                file!(),
                line!(),
                stringify!($cond)
            );
            return Err(EINVAL);
        }
    };
}

/// Fails the scenario unless `$a == $b`, printing both.
macro_rules! check_eq {
    ($a:expr, $b:expr) => {{
        let (a, b) = (&$a, &$b);
        if *a != *b {
            pr_err!(
                "    # {}:{}: check failed: {} == {}: {:?} != {:?}\n",
                file!(),
                line!(),
                stringify!($a),
                stringify!($b),
                a,
                b
            );
            return Err(EINVAL);
        }
    }};
}

/// Jobs the mock ring holds at once.
const RING_SLOTS: usize = 32;

/// How long a scenario waits for anything, in milliseconds.
const WAIT_MS: u32 = 5000;

/// What the mock device has seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    created: usize,
    dropped: usize,
    ran: usize,
    cancelled: usize,
    timed_out: usize,
    /// Waits for the shim from a callback or a drop that were refused
    /// (`EDEADLK`), and that were not.
    waits_refused: usize,
    waits_other: usize,
    /// Schedulers' data dropped ([`DataJob`]).
    data_dropped: usize,
    /// Timeouts of [`DataJob`]s whose queue had no handle left: no driver
    /// reference to take from the job.
    orphan_timeouts: usize,
}

/// Where a job's hardware fence is while the job is on the ring: shared by
/// the ring, which signals it on completion, and the job, whose `cancel`
/// and `timed_out` signal it early. Whoever takes it signals it.
type HwCell = SpinLock<Option<HwFence>>;

/// A job's [`HwCell`], allocated with the job: `run` allocates nothing.
fn new_hw_cell() -> Result<Arc<HwCell>> {
    Arc::pin_init(new_spinlock!(None), GFP_KERNEL)
}

struct State {
    counts: Counts,
    /// The jobs on the ring, oldest first.
    ring: KVec<Arc<HwCell>>,
}

/// The mock device: one hardware ring and what it has seen.
#[pin_data]
struct Mock {
    timeline: ARef<HwTimeline>,
    #[pin]
    state: Mutex<State>,
    #[pin]
    changed: CondVar,
}

impl Mock {
    fn new() -> Result<Arc<Self>> {
        let timeline = HwTimeline::new(c"mock-ring")?;
        let ring = KVec::with_capacity(RING_SLOTS, GFP_KERNEL)?;
        Arc::pin_init(
            pin_init!(Self {
                timeline,
                state <- new_mutex!(State { counts: Counts::default(), ring }),
                changed <- new_condvar!(),
            }),
            GFP_KERNEL,
        )
    }

    fn count(&self, f: impl FnOnce(&mut Counts)) {
        let mut state = self.state.lock();
        f(&mut state.counts);
        self.changed.notify_all();
    }

    fn counts(&self) -> Counts {
        self.state.lock().counts
    }

    /// Puts a job on the ring: arms its hardware fence into `cell`.
    ///
    /// Called from `run`, which must not allocate: the ring has a fixed
    /// size, like a real one.
    fn submit_hw<T: JobOps>(&self, job: &mut RunContext<'_, T>, cell: &Arc<HwCell>) -> Result {
        let mut state = self.state.lock();
        if state.ring.len() == state.ring.capacity() {
            return Err(ENOSPC);
        }
        *cell.lock() = Some(job.arm(&self.timeline)?);
        // Within the capacity: `push` allocates nothing.
        state.ring.push(cell.clone(), GFP_NOWAIT)?;
        state.counts.ran += 1;
        self.changed.notify_all();
        Ok(())
    }

    fn on_ring(&self) -> usize {
        self.state.lock().ring.len()
    }

    /// The ring completes every job on it, in order, with `result`.
    fn complete_all(&self, result: Result) -> usize {
        let ring = core::mem::take(&mut self.state.lock().ring);
        for cell in ring.iter() {
            // Taken out first: never signal under the cell's lock. A
            // cancelled or timed-out job's cell is empty already.
            let hw = cell.lock().take();
            if let Some(hw) = hw {
                hw.signal(result);
            }
        }
        ring.len()
    }

    /// Waits until `cond` holds for the counts and the ring length.
    fn wait_for(&self, cond: impl Fn(&Counts, usize) -> bool) -> Result {
        let mut state = self.state.lock();
        for _ in 0..WAIT_MS / 10 {
            if cond(&state.counts, state.ring.len()) {
                return Ok(());
            }
            let _ = self
                .changed
                .wait_interruptible_timeout(&mut state, msecs_to_jiffies(10));
        }
        pr_err!(
            "    # timed out waiting: {:?}, {} on the ring\n",
            state.counts,
            state.ring.len()
        );
        Err(ETIMEDOUT)
    }

    /// Waits until every job's data was dropped, then checks it was dropped
    /// once each: nothing more was dropped than created.
    fn wait_all_dropped(&self) -> Result {
        self.wait_for(|c, _| c.dropped >= c.created)?;
        dshim::flush()?;
        let c = self.counts();
        check_eq!(c.dropped, c.created);
        Ok(())
    }
}

/// A job of a driver without `cancel` or `timed_out`: it stays on the
/// hardware until the ring completes it.
struct PlainJob {
    mock: Arc<Mock>,
    hw: Arc<HwCell>,
}

impl PlainJob {
    fn new(mock: &Arc<Mock>) -> Result<Self> {
        let hw = new_hw_cell()?;
        mock.count(|c| c.created += 1);
        Ok(Self {
            mock: mock.clone(),
            hw,
        })
    }
}

impl Drop for PlainJob {
    fn drop(&mut self) {
        self.mock.count(|c| c.dropped += 1);
    }
}

#[vtable]
impl JobOps for PlainJob {
    type SchedulerData = ();

    fn run(self: Pin<&mut Self>, job: &mut RunContext<'_, Self>) -> Result {
        self.mock.submit_hw(job, &self.hw)
    }
}

/// A job that waits for the shim where it must not: from `run` and from
/// its drop, through the queue reference it holds.
struct WaitingJob {
    mock: Arc<Mock>,
    queue: ARef<Queue<WaitingJob>>,
    hw: Arc<HwCell>,
}

impl WaitingJob {
    fn new(mock: &Arc<Mock>, queue: &Queue<WaitingJob>) -> Result<Self> {
        let hw = new_hw_cell()?;
        mock.count(|c| c.created += 1);
        Ok(Self {
            mock: mock.clone(),
            queue: queue.into(),
            hw,
        })
    }

    /// Each wait would wait for this very job, or the work it runs in.
    fn wait_for_the_shim(&self) {
        for result in [self.queue.wait_idle(WAIT_MS), dshim::flush()] {
            self.mock.count(|c| match result {
                Err(e) if e == EDEADLK => c.waits_refused += 1,
                _ => c.waits_other += 1,
            });
        }
    }
}

impl Drop for WaitingJob {
    fn drop(&mut self) {
        self.wait_for_the_shim();
        self.mock.count(|c| c.dropped += 1);
    }
}

#[vtable]
impl JobOps for WaitingJob {
    type SchedulerData = ();

    fn run(self: Pin<&mut Self>, job: &mut RunContext<'_, Self>) -> Result {
        self.wait_for_the_shim();
        self.mock.submit_hw(job, &self.hw)
    }
}

/// The data of a [`DataJob`] scheduler: the timeouts of its jobs, which its
/// drop reports to the mock.
struct QueueState {
    mock: Arc<Mock>,
    timeouts: AtomicUsize,
    orphan_timeouts: AtomicUsize,
}

impl Drop for QueueState {
    fn drop(&mut self) {
        let timeouts = self.timeouts.load(Ordering::Relaxed);
        let orphans = self.orphan_timeouts.load(Ordering::Relaxed);
        self.mock.count(|c| {
            c.data_dropped += 1;
            c.timed_out += timeouts;
            c.orphan_timeouts += orphans;
        });
    }
}

/// A job of a driver with per-scheduler data: a [`PlainJob`] whose
/// `timed_out` counts in the data and fails the job.
struct DataJob(PlainJob);

#[vtable]
impl JobOps for DataJob {
    type SchedulerData = QueueState;

    fn run(self: Pin<&mut Self>, job: &mut RunContext<'_, Self>) -> Result {
        self.0.mock.submit_hw(job, &self.0.hw)
    }

    fn timed_out(&self, job: &JobRef<'_, Self>) -> TimeoutStatus {
        let data = job.scheduler_data();
        data.timeouts.fetch_add(1, Ordering::Relaxed);
        // With every handle gone, the job gives no driver reference (and a
        // reference it gives is dropped here, inside the callback).
        if job.entity().is_none() && job.scheduler().is_none() {
            data.orphan_timeouts.fetch_add(1, Ordering::Relaxed);
        }
        let hw = self.0.hw.lock().take();
        if let Some(hw) = hw {
            hw.signal(Err(ETIMEDOUT));
        }
        TimeoutStatus::Continue
    }
}

/// What a [`MockJob`] does when run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Run {
    /// Goes on the ring.
    Hw,
    /// Goes on the ring; if it times out, `timed_out` bans its queue
    /// ([`JobRef::kill`]).
    HwBan,
    /// Completes at once, without a hardware fence.
    Sync,
    /// Fails with `EIO`.
    Fail,
    /// Arms its hardware fence and drops it: the fence signals
    /// `ECANCELED`, and so does the job's.
    Lose,
    /// Goes on the ring, then returns `EIO`: the job stays on the
    /// hardware all the same, until the ring completes it.
    HwThenFail,
}

/// The mock device as a `MockJob` holds it: counts the job data's drop.
struct JobMock(Arc<Mock>);

impl core::ops::Deref for JobMock {
    type Target = Mock;

    fn deref(&self) -> &Mock {
        &self.0
    }
}

impl Drop for JobMock {
    fn drop(&mut self) {
        self.0.count(|c| c.dropped += 1);
    }
}

/// A job of a driver with every callback.
///
/// It has no drop code of its own: fields are dropped in the order they are
/// declared, so `queue` goes first (the last reference of a queue may go
/// there, inside `free`), then `mock` counts the drop. (`#[pinned_drop]`
/// would not do: 7.3's marks the impl it writes with the very keyword that
/// `forbid(unsafe_code)` rejects, at this file's own span.)
#[pin_data]
struct MockJob {
    /// A reference to the job's queue, dropped in `run` or with the data.
    #[pin]
    queue: SpinLock<Option<ARef<Queue<MockJob>>>>,
    /// Declared after `queue`: counts the drop once the queue reference is
    /// gone.
    mock: JobMock,
    run: Run,
    /// Drop the queue reference above in `run` rather than at free.
    drop_queue_in_run: bool,
    /// Where the hardware fence is while the job is on the ring.
    hw: Arc<HwCell>,
}

impl MockJob {
    fn new(
        mock: &Arc<Mock>,
        run: Run,
        queue: Option<ARef<Queue<MockJob>>>,
        drop_queue_in_run: bool,
    ) -> Result<impl PinInit<Self, Error>> {
        let hw = new_hw_cell()?;
        mock.count(|c| c.created += 1);
        let mock = mock.clone();
        Ok(try_pin_init!(Self {
            mock: JobMock(mock),
            run,
            drop_queue_in_run,
            queue <- new_spinlock!(queue),
            hw,
        }? Error))
    }

    /// Signals the job's hardware fence, if it is on the ring.
    fn signal_hw(&self, error: Error) {
        // Taken out first: never signal under our own lock.
        let hw = self.hw.lock().take();
        if let Some(hw) = hw {
            hw.signal(Err(error));
        }
    }
}

#[vtable]
impl JobOps for MockJob {
    type SchedulerData = ();

    fn run(self: Pin<&mut Self>, job: &mut RunContext<'_, Self>) -> Result {
        if self.drop_queue_in_run {
            let queue = self.queue.lock().take();
            drop(queue);
        }
        match self.run {
            Run::Sync => {
                self.mock.count(|c| c.ran += 1);
                Ok(())
            }
            Run::Fail => {
                self.mock.count(|c| c.ran += 1);
                Err(EIO)
            }
            Run::Lose => {
                self.mock.count(|c| c.ran += 1);
                let hw = job.arm(&self.mock.timeline)?;
                // A job has one hardware fence.
                check_eq!(job.arm(&self.mock.timeline).err(), Some(EALREADY));
                drop(hw);
                Ok(())
            }
            Run::Hw | Run::HwBan => self.mock.submit_hw(job, &self.hw),
            Run::HwThenFail => {
                self.mock.submit_hw(job, &self.hw)?;
                Err(EIO)
            }
        }
    }

    fn timed_out(&self, job: &JobRef<'_, Self>) -> TimeoutStatus {
        self.mock.count(|c| c.timed_out += 1);
        // Signalled first: the kill below cancels the jobs of the queue
        // still on the hardware, which this one then no longer is.
        self.signal_hw(ETIMEDOUT);
        // The queue's handle is held: the job gives driver references, which
        // keep the objects, not the queue, running; the kill needs neither.
        if self.run == Run::HwBan && job.entity().is_some() && job.scheduler().is_some() {
            job.kill();
        }
        TimeoutStatus::Continue
    }

    fn cancel(&self, _job: &JobRef<'_, Self>) {
        self.mock.count(|c| c.cancelled += 1);
        self.signal_hw(ECANCELED);
    }
}

/// The suite: one case per scenario.
#[kunit_tests(dshim_rust_mock)]
mod scenarios {
    use super::*;

    /// The shim's live objects other than fences and timelines.
    fn live(s: &dshim::Stats) -> [u64; 4] {
        [s.scheds, s.entities, s.queues, s.jobs]
    }

    /// The end of a scenario with one queue: the queue idle, then dropped,
    /// leaves the shim's live objects where they were at `base`.
    fn settle<T: JobOps>(queue: ARef<Queue<T>>, base: &dshim::Stats) -> Result {
        queue.wait_idle(WAIT_MS)?;
        drop(queue);
        dshim::flush()?;
        check_eq!(live(&dshim::stats()), live(base));
        Ok(())
    }

    /// The error a fence signalled with, as an errno; 0 for success.
    fn fence_errno(fence: &Fence) -> Result<i32> {
        fence.wait_timeout(WAIT_MS)?;
        Ok(match fence.result() {
            Some(Ok(())) => 0,
            Some(Err(e)) => e.to_errno(),
            None => return Err(EINVAL),
        })
    }

    /// Rule 1: a queue dropped while its jobs are on the hardware, by a driver
    /// without `cancel`. The jobs keep running; their hardware fences signal
    /// later into memory the shim kept alive, not freed memory.
    #[test]
    fn queue_dropped_with_jobs_on_hw() -> Result {
        let base = dshim::stats();
        let mock = Mock::new()?;
        let queue = Queue::<PlainJob>::new(&SchedulerOptions::new(c"rust-q-drop", 8), ())?;
        let mut fences = KVec::new();
        for _ in 0..4 {
            fences.push(
                queue.new_job(1, PlainJob::new(&mock)?)?.ready().submit()?,
                GFP_KERNEL,
            )?;
        }
        mock.wait_for(|_, on_ring| on_ring == 4)?;

        drop(queue);
        dshim::flush()?;
        // Nothing was cancelled or freed: the jobs are still on the hardware,
        // and the scheduler's memory with them.
        check!(fences.iter().all(|f| !f.is_signaled()));
        check_eq!(mock.counts().dropped, 0);
        check_eq!(dshim::stats().scheds, base.scheds + 1);

        check_eq!(mock.complete_all(Ok(())), 4);
        mock.wait_all_dropped()?;
        for f in fences.iter() {
            check_eq!(fence_errno(f)?, 0);
        }
        check_eq!(live(&dshim::stats()), live(&base));
        Ok(())
    }

    /// Rules 3 and 5: job fences kept after the queue, the jobs, the hardware
    /// timeline and the mock device are gone pin nothing but their timeline.
    #[test]
    fn fences_outlive_everything() -> Result {
        let base = dshim::stats();
        let mock = Mock::new()?;
        let queue = Queue::<PlainJob>::new(&SchedulerOptions::new(c"rust-q-fences", 8), ())?;
        let mut fences = KVec::new();
        for _ in 0..3 {
            fences.push(
                queue.new_job(1, PlainJob::new(&mock)?)?.ready().submit()?,
                GFP_KERNEL,
            )?;
        }
        mock.wait_for(|_, on_ring| on_ring == 3)?;
        check_eq!(mock.complete_all(Ok(())), 3);
        mock.wait_all_dropped()?;
        drop(queue);
        drop(mock);
        dshim::flush()?;

        let s = dshim::stats();
        check_eq!(live(&s), live(&base));
        // Only the three job fences and their entity's timeline are left.
        check_eq!(s.fences, base.fences + 3);
        check_eq!(s.timelines, base.timelines + 1);
        for f in fences.iter() {
            check!(f.is_shim());
            check_eq!(fence_errno(f)?, 0);
        }

        drop(fences);
        dshim::flush()?;
        check_eq!(dshim::stats(), base);
        Ok(())
    }

    /// Rule 4: the last reference of a queue dropped inside `free` (a job's
    /// data held it), and of another queue inside `run`.
    #[test]
    fn last_ref_dropped_in_callbacks() -> Result {
        let base = dshim::stats();
        let mock = Mock::new()?;
        let opts = SchedulerOptions::new(c"rust-q-cb", 8);

        // Queue 1: job A drops its reference in run, job B holds one until its
        // data is dropped; the test drops its own at once.
        let q1 = Queue::<MockJob>::new(&opts, ())?;
        let a = q1.new_job(1, MockJob::new(&mock, Run::Hw, Some(q1.clone()), true)?)?;
        let b = q1.new_job(1, MockJob::new(&mock, Run::Hw, Some(q1.clone()), false)?)?;
        let fa = a.ready().submit()?;
        let fb = b.ready().submit()?;
        drop(q1);

        // Queue 2: its only job holds its only reference and drops it in run;
        // the kill that follows cancels the job on the hardware.
        let q2 = Queue::<MockJob>::new(&opts, ())?;
        let c = q2.new_job(1, MockJob::new(&mock, Run::Hw, Some(q2.clone()), true)?)?;
        drop(q2);
        let fc = c.ready().submit()?;

        mock.wait_for(|c, _| c.ran == 3 && c.cancelled == 1)?;
        mock.complete_all(Ok(()));
        mock.wait_all_dropped()?;
        check_eq!(fence_errno(&fa)?, 0);
        check_eq!(fence_errno(&fb)?, 0);
        check_eq!(fence_errno(&fc)?, ECANCELED.to_errno());
        check_eq!(live(&dshim::stats()), live(&base));
        Ok(())
    }

    /// Rule 2: a killed queue, with jobs on the hardware, jobs queued, and jobs
    /// created or submitted after the kill. Nothing waits; every job's data is
    /// dropped once and every fence says ECANCELED.
    #[test]
    fn killed_queue() -> Result {
        let base = dshim::stats();
        let mock = Mock::new()?;
        let queue = Queue::<MockJob>::new(&SchedulerOptions::new(c"rust-q-kill", 2), ())?;
        let mut fences = KVec::new();
        for _ in 0..5 {
            let job = queue.new_job(1, MockJob::new(&mock, Run::Hw, None, false)?)?;
            fences.push(job.ready().submit()?, GFP_KERNEL)?;
        }
        let late = queue
            .new_job(1, MockJob::new(&mock, Run::Hw, None, false)?)?
            .ready();
        // Two credits: two jobs on the hardware, three queued.
        mock.wait_for(|_, on_ring| on_ring == 2)?;

        queue.kill();
        check_eq!(
            late.submit().err().map(|e| e.to_errno()),
            Some(ESHUTDOWN.to_errno())
        );
        let refused = queue.new_job(1, MockJob::new(&mock, Run::Hw, None, false)?);
        check_eq!(
            refused.err().map(|e| e.to_errno()),
            Some(ESHUTDOWN.to_errno())
        );

        queue.wait_idle(WAIT_MS)?;
        mock.wait_all_dropped()?;
        for f in fences.iter() {
            check_eq!(fence_errno(f)?, ECANCELED.to_errno());
        }
        let c = mock.counts();
        check_eq!((c.created, c.ran, c.cancelled), (7, 2, 2));
        settle(queue, &base)
    }

    /// Rules 1 and 2 with a scheduler of several entities (a hardware ring):
    /// the scheduler's last reference goes while an entity still lives and has
    /// jobs on the hardware and queued. The shutdown kills every entity and
    /// cancels what is on the hardware; the entity handle stays usable (it
    /// refuses jobs) until the driver drops it.
    #[test]
    fn scheduler_dropped_before_entities() -> Result {
        let base = dshim::stats();
        let mock = Mock::new()?;
        let opts = SchedulerOptions {
            num_priorities: 2,
            ..SchedulerOptions::new(c"rust-ring", 2)
        };
        let sched = Scheduler::<MockJob>::new(&opts, ())?;
        let high = sched.new_entity(0)?;
        let low = sched.new_entity(1)?;
        let mut fences = KVec::new();
        for entity in [&high, &low, &high, &low] {
            let job = Job::new(entity, 1, MockJob::new(&mock, Run::Hw, None, false)?)?;
            fences.push(job.ready().submit()?, GFP_KERNEL)?;
        }
        mock.wait_for(|_, on_ring| on_ring == 2)?;

        drop(sched);
        mock.wait_for(|c, _| c.cancelled == 2)?;
        let refused = Job::new(&low, 1, MockJob::new(&mock, Run::Hw, None, false)?);
        check_eq!(
            refused.err().map(|e| e.to_errno()),
            Some(ESHUTDOWN.to_errno())
        );
        high.wait_idle(WAIT_MS)?;
        low.wait_idle(WAIT_MS)?;
        mock.wait_all_dropped()?;
        for f in fences.iter() {
            check_eq!(fence_errno(f)?, ECANCELED.to_errno());
        }
        let c = mock.counts();
        check_eq!((c.created, c.ran, c.cancelled), (5, 2, 2));
        drop(high);
        drop(low);
        dshim::flush()?;
        check_eq!(live(&dshim::stats()), live(&base));
        Ok(())
    }

    /// A job that hangs on the hardware: `timed_out` signals its hardware
    /// fence with ETIMEDOUT, which reaches the job's fence; the queue carries on.
    #[test]
    fn timeout() -> Result {
        let base = dshim::stats();
        let mock = Mock::new()?;
        let opts = SchedulerOptions {
            timeout_ms: 100,
            ..SchedulerOptions::new(c"rust-q-hang", 4)
        };
        let queue = Queue::<MockJob>::new(&opts, ())?;
        let hung = queue
            .new_job(1, MockJob::new(&mock, Run::Hw, None, false)?)?
            .ready()
            .submit()?;
        check_eq!(fence_errno(&hung)?, ETIMEDOUT.to_errno());
        check_eq!(mock.counts().timed_out, 1);

        let next = queue
            .new_job(1, MockJob::new(&mock, Run::Sync, None, false)?)?
            .ready()
            .submit()?;
        check_eq!(fence_errno(&next)?, 0);
        queue.wait_idle(WAIT_MS)?;
        mock.wait_all_dropped()?;
        settle(queue, &base)
    }

    /// A job that hangs bans its queue from `timed_out`, through the job
    /// alone (the driver holds no queue reference in the job's data): the
    /// job behind it on the hardware is cancelled, and the queue takes no
    /// more jobs.
    #[test]
    fn timeout_bans_queue() -> Result {
        let base = dshim::stats();
        let mock = Mock::new()?;
        let opts = SchedulerOptions {
            timeout_ms: 100,
            ..SchedulerOptions::new(c"rust-q-ban", 4)
        };
        let queue = Queue::<MockJob>::new(&opts, ())?;
        let hung = queue
            .new_job(1, MockJob::new(&mock, Run::HwBan, None, false)?)?
            .ready()
            .submit()?;
        let behind = queue
            .new_job(1, MockJob::new(&mock, Run::Hw, None, false)?)?
            .ready()
            .submit()?;
        check_eq!(fence_errno(&hung)?, ETIMEDOUT.to_errno());
        check_eq!(fence_errno(&behind)?, ECANCELED.to_errno());
        let refused = queue.new_job(1, MockJob::new(&mock, Run::Sync, None, false)?);
        check_eq!(
            refused.err().map(|e| e.to_errno()),
            Some(ESHUTDOWN.to_errno())
        );
        queue.wait_idle(WAIT_MS)?;
        mock.wait_all_dropped()?;
        let c = mock.counts();
        check_eq!((c.ran, c.timed_out, c.cancelled), (2, 1, 1));
        settle(queue, &base)
    }

    /// A scheduler's data outlives its last handle while a job is on the
    /// hardware: the job's `timed_out` still reaches it (and gets no driver
    /// reference from the job: none is left). It is dropped once, when the
    /// last job is done.
    #[test]
    fn scheduler_data_outlives_queue() -> Result {
        let base = dshim::stats();
        let mock = Mock::new()?;
        let opts = SchedulerOptions {
            timeout_ms: 100,
            ..SchedulerOptions::new(c"rust-q-data", 4)
        };
        let state = QueueState {
            mock: mock.clone(),
            timeouts: AtomicUsize::new(0),
            orphan_timeouts: AtomicUsize::new(0),
        };
        let queue = Queue::<DataJob>::new(&opts, state)?;
        let fence = queue
            .new_job(1, DataJob(PlainJob::new(&mock)?))?
            .ready()
            .submit()?;
        mock.wait_for(|_, on_ring| on_ring == 1)?;
        // no `cancel`: the job stays on the hardware
        drop(queue);
        dshim::flush()?;
        check_eq!(mock.counts().data_dropped, 0);

        check_eq!(fence_errno(&fence)?, ETIMEDOUT.to_errno());
        mock.wait_all_dropped()?;
        mock.wait_for(|c, _| c.data_dropped == 1)?;
        dshim::flush()?;
        let c = mock.counts();
        check_eq!((c.data_dropped, c.timed_out, c.orphan_timeouts), (1, 1, 1));
        check_eq!(live(&dshim::stats()), live(&base));
        Ok(())
    }

    /// A driver that arms its job's hardware fence and loses it (drops it
    /// unsignalled) does not hang the job: the fence signals `ECANCELED`.
    /// A job has one hardware fence: arming it twice is `EALREADY`.
    #[test]
    fn lost_hw_fence() -> Result {
        let base = dshim::stats();
        let mock = Mock::new()?;
        let queue = Queue::<MockJob>::new(&SchedulerOptions::new(c"rust-q-lost", 4), ())?;
        let lost = queue
            .new_job(1, MockJob::new(&mock, Run::Lose, None, false)?)?
            .ready()
            .submit()?;
        let next = queue
            .new_job(1, MockJob::new(&mock, Run::Sync, None, false)?)?
            .ready()
            .submit()?;
        check_eq!(fence_errno(&lost)?, ECANCELED.to_errno());
        check_eq!(fence_errno(&next)?, 0);
        queue.wait_idle(WAIT_MS)?;
        mock.wait_all_dropped()?;
        check_eq!(mock.counts().ran, 2);
        settle(queue, &base)
    }

    /// A job whose `run` armed its hardware fence and handed it to the
    /// ring, then failed, is on the hardware all the same: its fence does
    /// not signal (and its data is not dropped) before the ring completes
    /// it, lest a buffer the hardware still uses look idle.
    #[test]
    fn run_fails_after_arming() -> Result {
        let base = dshim::stats();
        let mock = Mock::new()?;
        let queue = Queue::<MockJob>::new(&SchedulerOptions::new(c"rust-q-armfail", 4), ())?;
        let fence = queue
            .new_job(1, MockJob::new(&mock, Run::HwThenFail, None, false)?)?
            .ready()
            .submit()?;
        mock.wait_for(|_, on_ring| on_ring == 1)?;
        check_eq!(fence.wait_timeout(100), Err(ETIMEDOUT));
        check_eq!(mock.counts().dropped, 0);
        check_eq!(mock.complete_all(Ok(())), 1);
        check_eq!(fence_errno(&fence)?, 0);
        queue.wait_idle(WAIT_MS)?;
        mock.wait_all_dropped()?;
        settle(queue, &base)
    }

    /// Waiting for the shim inside a callback, or inside the drop of a job's
    /// data, is refused with `EDEADLK` at once: it would wait for the job
    /// being called back, or for the work item it runs in.
    #[test]
    fn waits_in_callbacks() -> Result {
        let base = dshim::stats();
        let mock = Mock::new()?;
        let queue = Queue::<WaitingJob>::new(&SchedulerOptions::new(c"rust-q-wait", 4), ())?;
        let fence = queue
            .new_job(1, WaitingJob::new(&mock, &queue)?)?
            .ready()
            .submit()?;
        mock.wait_for(|c, on_ring| c.ran == 1 && on_ring == 1)?;
        check_eq!(mock.complete_all(Ok(())), 1);
        check_eq!(fence_errno(&fence)?, 0);
        queue.wait_idle(WAIT_MS)?;
        mock.wait_all_dropped()?;
        // two waits in `run`, two in the drop
        let c = mock.counts();
        check_eq!((c.waits_refused, c.waits_other), (4, 0));
        // outside, the same waits wait
        queue.wait_idle(WAIT_MS)?;
        settle(queue, &base)
    }

    /// Every way a job ends that is not the hardware's: never submitted (in
    /// either state), failed dependency (not run), `run` failing.
    #[test]
    fn job_endings() -> Result {
        let base = dshim::stats();
        let mock = Mock::new()?;
        let queue = Queue::<MockJob>::new(&SchedulerOptions::new(c"rust-q-ends", 4), ())?;

        drop(queue.new_job(1, MockJob::new(&mock, Run::Hw, None, false)?)?);
        drop(
            queue
                .new_job(1, MockJob::new(&mock, Run::Hw, None, false)?)?
                .ready(),
        );

        let dep = HwTimeline::new(c"rust-dep")?.new_fence()?;
        let mut job = queue.new_job(1, MockJob::new(&mock, Run::Hw, None, false)?)?;
        job.add_dependency(dep.fence())?;
        let failed_dep = job.ready().submit()?;
        dep.signal(Err(EIO));

        let failed_run = queue
            .new_job(1, MockJob::new(&mock, Run::Fail, None, false)?)?
            .ready()
            .submit()?;
        check_eq!(fence_errno(&failed_dep)?, EIO.to_errno());
        check_eq!(fence_errno(&failed_run)?, EIO.to_errno());
        queue.wait_idle(WAIT_MS)?;
        mock.wait_all_dropped()?;
        let c = mock.counts();
        check_eq!((c.created, c.ran), (4, 1));
        check_eq!(mock.on_ring(), 0);
        settle(queue, &base)
    }
}
