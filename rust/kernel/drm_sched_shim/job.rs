// SPDX-License-Identifier: GPL-2.0

//! Jobs: a typestate from creation to submission.
//!
//! C header: [`include/drm/drm_sched_shim.h`](srctree/include/drm/drm_sched_shim.h)

use super::{
    fence::HwFenceSlot,
    sched::{
        sched_data,
        Entity,
        Scheduler, //
    },
    Fence,
    HwFence,
    HwTimeline,
    JobOps, //
};
use crate::{
    bindings,
    error::{
        from_err_ptr,
        to_result, //
    },
    prelude::*,
    sync::aref::ARef,
    types::ForeignOwnable, //
};
use core::{
    marker::PhantomData,
    mem::ManuallyDrop,
    ops::Deref,
    pin::Pin,
    ptr::NonNull, //
};

/// What the shim owns for each job: the driver's data and the job's
/// hardware fence, allocated together in [`Job::new`] so that
/// [`JobOps::run`] allocates nothing.
#[pin_data]
pub(crate) struct Payload<T> {
    /// Armed by [`RunContext::arm`], once.
    pub(crate) slot: HwFenceSlot,
    #[pin]
    pub(crate) data: T,
}

impl<T> Payload<T> {
    /// The driver data of a shared, pinned payload.
    pub(crate) fn data(self: Pin<&Self>) -> Pin<&T> {
        // SAFETY: `data` is structurally pinned (`#[pin]`): it is never moved
        // out of a pinned `Payload`.
        unsafe { self.map_unchecked(|p| &p.data) }
    }
}

mod private {
    pub trait Sealed {}
}

/// The state of a [`Job`] that is not submitted yet.
///
/// A submitted job has no state type: [`Job::submit`] consumes the job, so
/// a submitted job cannot be touched at all. The scheduler owns it, and its
/// data is dropped when the scheduler is done with it.
pub trait JobState: private::Sealed {}

/// A job just created: dependencies may be added.
pub enum Created {}

/// A job whose dependencies are all added: it may be submitted.
pub enum Ready {}

impl private::Sealed for Created {}
impl JobState for Created {}
impl private::Sealed for Ready {}
impl JobState for Ready {}

/// A job carrying driver data `T`, not submitted yet.
///
/// The lifecycle is a typestate: [`Job::new`] gives a `Job<T, Created>`,
/// which takes dependencies ([`Job::add_dependency`]); [`Job::ready`] closes
/// the dependency list; [`Job::submit`] hands a `Job<T, Ready>` to the
/// scheduler and returns the job's fence, consuming the job.
///
/// Dropping a job that was not submitted frees it correctly: the shim
/// drops its data on its worker, exactly once, as for every job.
///
/// # Invariants
///
/// `ptr` is a live `struct dshim_job` created by `dshim_job_create()` on an
/// entity of a scheduler using `OpsTable::<T>::OPS`, not submitted, whose
/// creator's reference this object owns; its payload is a
/// `Pin<KBox<Payload<T>>>` turned foreign.
///
/// # Examples
///
/// A job that waits for a hardware fence of another timeline, and one that
/// is dropped unsubmitted: both have their data dropped exactly once.
///
/// ```
/// use core::sync::atomic::{AtomicU32, Ordering};
/// use kernel::drm_sched_shim::{HwTimeline, JobOps, Queue, RunContext, SchedulerOptions};
/// use kernel::sync::Arc;
///
/// struct Counted(Arc<AtomicU32>);
///
/// impl Drop for Counted {
///     fn drop(&mut self) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// #[vtable]
/// impl JobOps for Counted {
///     type SchedulerData = ();
///
///     fn run(self: Pin<&mut Self>, _job: &mut RunContext<'_, Self>) -> Result {
///         Ok(())
///     }
/// }
///
/// let dropped = Arc::new(AtomicU32::new(0), GFP_KERNEL)?;
/// let q = Queue::<Counted>::new(&SchedulerOptions::new(c"doc-job", 2), ())?;
/// let tl = HwTimeline::new(c"doc-dep")?;
/// let dep = tl.new_fence()?;
///
/// let mut job = q.new_job(1, Counted(dropped.clone()))?;
/// job.add_dependency(dep.fence())?;
/// let fence = job.ready().submit()?;
///
/// let unsubmitted = q.new_job(1, Counted(dropped.clone()))?;
/// drop(unsubmitted);
///
/// // The job waits for its dependency.
/// assert!(!fence.is_signaled());
/// dep.signal(Ok(()));
/// q.wait_idle(5000)?;
/// fence.wait_timeout(5000)?;
/// assert!(fence.result().unwrap().is_ok());
/// assert_eq!(dropped.load(Ordering::Relaxed), 2);
/// # Ok::<(), Error>(())
/// ```
pub struct Job<T: JobOps, S: JobState = Created> {
    ptr: NonNull<bindings::dshim_job>,
    _p: PhantomData<(Pin<KBox<Payload<T>>>, S)>,
}

// SAFETY: The job owns its data `T` (which is `Send`), and the `dshim_job_*`
// functions it calls may be called from any thread.
unsafe impl<T: JobOps, S: JobState> Send for Job<T, S> {}

// SAFETY: `&Job` only reads the data (`T` is `Sync`) and the job's fixed
// fields.
unsafe impl<T: JobOps, S: JobState> Sync for Job<T, S> {}

impl<T: JobOps> Job<T, Created> {
    /// Creates a job on `entity` taking `credits` hardware credits (1 to the
    /// scheduler's limit), with driver data initialised in place by `data`:
    /// a fallible initialiser (`try_pin_init!`, error `E` into [`Error`]) or
    /// an infallible one, such as a plain `T` value.
    ///
    /// The data is dropped exactly once by the shim once the job exists;
    /// if creation fails it is dropped here. The job's hardware fence is
    /// allocated with it, for [`RunContext::arm`].
    ///
    /// `credits` may come straight from a submit ioctl: out of range, it is
    /// `EINVAL`, never a warning.
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::drm_sched_shim::{self as dshim, Job, JobOps, Queue, RunContext, SchedulerOptions};
    ///
    /// struct Nop;
    ///
    /// #[vtable]
    /// impl JobOps for Nop {
    ///     type SchedulerData = ();
    ///
    ///     fn run(self: Pin<&mut Self>, _job: &mut RunContext<'_, Self>) -> Result {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let q = Queue::<Nop>::new(&SchedulerOptions::new(c"doc-credits", 4), ())?;
    /// let bugs = dshim::stats().driver_bugs;
    /// for credits in [0, 5, u32::MAX] {
    ///     assert_eq!(Job::new(q.entity(), credits, Nop).err(), Some(EINVAL));
    /// }
    /// assert_eq!(dshim::stats().driver_bugs, bugs); // not a driver bug
    /// let fence = Job::new(q.entity(), 4, Nop)?.ready().submit()?;
    /// fence.wait_timeout(5000)?;
    /// assert!(fence.result().unwrap().is_ok());
    /// # Ok::<(), Error>(())
    /// ```
    pub fn new<E>(entity: &Entity<T>, credits: u32, data: impl PinInit<T, E>) -> Result<Self>
    where
        Error: From<E>,
    {
        let slot = HwFenceSlot::new()?;
        let data = KBox::pin_init(
            try_pin_init!(Payload::<T> { slot, data <- data }? E),
            GFP_KERNEL,
        )?
        .into_foreign();
        // SAFETY: `entity` is live (type invariant of `Entity`); the payload
        // pointer is only used by the shim as an opaque cookie.
        let job = unsafe { bindings::dshim_job_create(entity.as_raw(), credits, data) };
        match from_err_ptr(job) {
            // INVARIANT: a new job of `entity`, with the creator's reference
            // and our payload.
            Ok(job) => Ok(Self {
                // SAFETY: `dshim_job_create()` does not return NULL.
                ptr: unsafe { NonNull::new_unchecked(job) },
                _p: PhantomData,
            }),
            Err(e) => {
                // SAFETY: No job was created, so the shim never calls `free`
                // with `data`: we still own it.
                drop(unsafe { <Pin<KBox<Payload<T>>> as ForeignOwnable>::from_foreign(data) });
                Err(e)
            }
        }
    }

    /// Makes the job wait for `fence` before it runs; if `fence` signals an
    /// error, the job does not run and its fence signals that error.
    ///
    /// `fence` is consumed whether or not this succeeds.
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    pub fn add_dependency(&mut self, fence: ARef<Fence>) -> Result {
        // SAFETY: By the type invariant the job is live and not submitted;
        // the fence's count passes to the shim in every case.
        to_result(unsafe {
            bindings::dshim_job_add_dependency(
                self.ptr.as_ptr(),
                ARef::into_raw(fence).cast().as_ptr(),
            )
        })
    }

    /// Closes the dependency list: the job may now be submitted.
    pub fn ready(self) -> Job<T, Ready> {
        let me = ManuallyDrop::new(self);
        // INVARIANT: the same job and reference, in the next state.
        Job {
            ptr: me.ptr,
            _p: PhantomData,
        }
    }
}

impl<T: JobOps> Job<T, Ready> {
    /// Submits the job and returns its fence, consuming the job.
    ///
    /// The fence references only a small timeline, never the scheduler:
    /// keep it as long as needed. If the entity was killed or the scheduler
    /// shut down, returns `Err(ESHUTDOWN)`; either way the data is dropped by
    /// the shim exactly once.
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    pub fn submit(self) -> Result<ARef<Fence>> {
        let me = ManuallyDrop::new(self);
        // SAFETY: By the type invariant the job is live and not submitted; the
        // creator's reference we own passes to the shim in every case, and
        // `me` is never dropped.
        let fence = from_err_ptr(unsafe { bindings::dshim_job_submit(me.ptr.as_ptr()) })?;
        // SAFETY: On success the shim returned a new reference to the job's
        // fence, not NULL.
        Ok(unsafe { Fence::from_raw(NonNull::new_unchecked(fence)) })
    }
}

impl<T: JobOps, S: JobState> Job<T, S> {
    /// The job's driver data.
    pub fn data(&self) -> Pin<&T> {
        // SAFETY: By the type invariant the payload is a foreign
        // `Pin<KBox<Payload<T>>>`; the job is not submitted, so the shim
        // calls no callback for it, and `free` runs only after our reference
        // is dropped, which outlives `&self`.
        let payload = unsafe {
            <Pin<KBox<Payload<T>>> as ForeignOwnable>::borrow(bindings::dshim_job_priv(
                self.ptr.as_ptr(),
            ))
        };
        payload.data()
    }
}

impl<T: JobOps, S: JobState> Drop for Job<T, S> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own the creator's reference of a
        // job never submitted: dropping it makes the shim's worker call
        // `free`, which drops the data.
        unsafe { bindings::dshim_job_put(self.ptr.as_ptr()) };
    }
}

/// A job the shim is calling back, borrowed for the duration of the call:
/// what [`JobOps::timed_out`] and [`JobOps::cancel`] get, and
/// [`JobOps::run`] through its [`RunContext`].
///
/// It holds no reference of its own, so a callback may stop its queue
/// ([`JobRef::kill`]) without the driver keeping a queue reference in the
/// job's data, which would keep the queue alive for as long as the job is.
///
/// # Invariants
///
/// `ptr` is a job of a scheduler using `OpsTable::<T>::OPS` that the shim
/// keeps alive for `'a`, the duration of a callback.
pub struct JobRef<'a, T: JobOps> {
    ptr: NonNull<bindings::dshim_job>,
    _p: PhantomData<&'a T>,
}

impl<'a, T: JobOps> JobRef<'a, T> {
    /// # Safety
    ///
    /// `job` must be a job of a scheduler using `OpsTable::<T>::OPS`, not
    /// NULL, that the shim keeps alive for `'a`.
    pub(crate) unsafe fn new(job: *mut bindings::dshim_job) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self {
            // SAFETY: Not NULL, by the caller's guarantee.
            ptr: unsafe { NonNull::new_unchecked(job) },
            _p: PhantomData,
        }
    }

    /// Kills the job's entity (for a [`Queue`](super::Queue), the queue)
    /// without waiting, as [`Entity::kill`] does: what a driver does to ban a
    /// queue whose job hung. Does nothing to an entity killed before.
    ///
    /// # Context
    ///
    /// Any context.
    pub fn kill(&self) {
        // SAFETY: By the type invariant the job is live, and it holds a count
        // of its entity, which `dshim_entity_kill()` may be given whatever
        // its driver references.
        unsafe { bindings::dshim_entity_kill(bindings::dshim_job_entity(self.ptr.as_ptr())) };
    }

    /// The driver data of the job's scheduler (or queue), as given to
    /// [`Scheduler::new`] or [`Queue::new`](super::Queue::new).
    ///
    /// # Examples
    ///
    /// A queue that counts the jobs it ran, seen from `run` and from the
    /// queue's handle.
    ///
    /// ```
    /// use core::sync::atomic::{AtomicU32, Ordering};
    /// use kernel::drm_sched_shim::{JobOps, Queue, RunContext, SchedulerOptions};
    ///
    /// struct Counting;
    ///
    /// #[vtable]
    /// impl JobOps for Counting {
    ///     /// Jobs the queue ran.
    ///     type SchedulerData = AtomicU32;
    ///
    ///     fn run(self: Pin<&mut Self>, job: &mut RunContext<'_, Self>) -> Result {
    ///         job.scheduler_data().fetch_add(1, Ordering::Relaxed);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let opts = SchedulerOptions::new(c"doc-data", 1);
    /// let q = Queue::<Counting>::new(&opts, AtomicU32::new(0))?;
    /// for _ in 0..3 {
    ///     q.new_job(1, Counting)?.ready().submit()?.wait_timeout(5000)?;
    /// }
    /// assert_eq!(q.data().load(Ordering::Relaxed), 3);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn scheduler_data(&self) -> Pin<&T::SchedulerData> {
        // SAFETY: By the type invariant the job is live for `'a`, which
        // outlives `&self`, and it keeps its scheduler's memory, and so the
        // data, alive; the scheduler uses `OpsTable::<T>::OPS`.
        unsafe { sched_data::<T>(bindings::dshim_job_sched(self.ptr.as_ptr())) }
    }

    /// A driver reference to the job's entity; `None` once the driver
    /// dropped its last one (the entity is killed, its memory kept by its
    /// jobs).
    pub fn entity(&self) -> Option<ARef<Entity<T>>> {
        // SAFETY: By the type invariant the job is live and holds a count of
        // its entity; `dshim_entity_get()` takes a driver reference unless
        // none is left.
        let e =
            unsafe { bindings::dshim_entity_get(bindings::dshim_job_entity(self.ptr.as_ptr())) };
        // SAFETY: When not NULL, `e` is an entity of a scheduler using
        // `OpsTable::<T>::OPS` and we own the reference just taken.
        (!e.is_null()).then(|| unsafe { Entity::from_new(e) })
    }

    /// A driver reference to the job's scheduler; `None` once the driver
    /// dropped its last one (it is shut down).
    pub fn scheduler(&self) -> Option<ARef<Scheduler<T>>> {
        // SAFETY: As in `entity`: the job keeps its scheduler's memory, and
        // `dshim_sched_get()` takes a driver reference unless none is left.
        let s = unsafe { bindings::dshim_sched_get(bindings::dshim_job_sched(self.ptr.as_ptr())) };
        // SAFETY: When not NULL, `s` is a scheduler using
        // `OpsTable::<T>::OPS` and we own the reference just taken.
        (!s.is_null()).then(|| unsafe { Scheduler::from_new(s) })
    }
}

/// What [`JobOps::run`] gets besides its data: the job ([`JobRef`], through
/// `Deref`) and its hardware fence, to arm.
///
/// The hardware fence was allocated with the job ([`Job::new`]): arming it
/// allocates nothing, as `run` must not. If `run` armed the fence, the job
/// is on the hardware until the [`HwFence`] signals (or is dropped, which
/// signals `ECANCELED`), whatever `run` returns; if not, the job completed
/// in `run`, or failed with its error. `run` cannot give the shim a fence
/// of another kind, which nobody might ever signal.
pub struct RunContext<'a, T: JobOps> {
    job: JobRef<'a, T>,
    slot: &'a HwFenceSlot,
    /// The shim's reference to the armed fence, once armed.
    armed: Option<ARef<Fence>>,
}

impl<'a, T: JobOps> RunContext<'a, T> {
    pub(crate) fn new(job: JobRef<'a, T>, slot: &'a HwFenceSlot) -> Self {
        Self {
            job,
            slot,
            armed: None,
        }
    }

    /// Arms the job's hardware fence as the next fence of `timeline` (one
    /// per ring or engine, whose fences signal in the order they were
    /// armed), and returns it for the driver to signal once the hardware is
    /// done. Allocates nothing. Returns `Err(EALREADY)` the second time.
    pub fn arm(&mut self, timeline: &HwTimeline) -> Result<HwFence> {
        let hw = self.slot.arm(timeline)?;
        self.armed = Some(hw.fence());
        Ok(hw)
    }

    /// The shim's reference to the armed fence, if `run` armed it.
    pub(crate) fn into_armed(self) -> Option<ARef<Fence>> {
        self.armed
    }
}

impl<'a, T: JobOps> Deref for RunContext<'a, T> {
    type Target = JobRef<'a, T>;

    fn deref(&self) -> &JobRef<'a, T> {
        &self.job
    }
}
