// SPDX-License-Identifier: GPL-2.0

//! Jobs: a typestate from creation to submission.
//!
//! C header: [`include/drm/drm_sched_shim.h`](srctree/include/drm/drm_sched_shim.h)

use super::{
    sched::Entity,
    Fence,
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
    pin::Pin,
    ptr::NonNull, //
};

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
/// creator's reference this object owns; its payload is a `Pin<KBox<T>>`
/// turned foreign.
///
/// # Examples
///
/// A job that waits for a hardware fence of another timeline, and one that
/// is dropped unsubmitted: both have their data dropped exactly once.
///
/// ```
/// use core::sync::atomic::{AtomicU32, Ordering};
/// use kernel::drm_sched_shim::{Fence, HwTimeline, Job, JobOps, Queue, SchedulerOptions};
/// use kernel::sync::{aref::ARef, Arc};
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
///     fn run(&self) -> Result<Option<ARef<Fence>>> {
///         Ok(None)
///     }
/// }
///
/// let dropped = Arc::new(AtomicU32::new(0), GFP_KERNEL)?;
/// let q = Queue::<Counted>::new(&SchedulerOptions::new(c"doc-job", 2))?;
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
/// dep.signal(Ok(()))?;
/// q.wait_idle(5000)?;
/// fence.wait_timeout(5000)?;
/// assert!(fence.result().unwrap().is_ok());
/// assert_eq!(dropped.load(Ordering::Relaxed), 2);
/// # Ok::<(), Error>(())
/// ```
pub struct Job<T: JobOps, S: JobState = Created> {
    ptr: NonNull<bindings::dshim_job>,
    _p: PhantomData<(Pin<KBox<T>>, S)>,
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
    /// if creation fails it is dropped here.
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
    /// use kernel::drm_sched_shim::{self as dshim, Fence, Job, JobOps, Queue, SchedulerOptions};
    /// use kernel::sync::aref::ARef;
    ///
    /// struct Nop;
    ///
    /// #[vtable]
    /// impl JobOps for Nop {
    ///     fn run(&self) -> Result<Option<ARef<Fence>>> {
    ///         Ok(None)
    ///     }
    /// }
    ///
    /// let q = Queue::<Nop>::new(&SchedulerOptions::new(c"doc-credits", 4))?;
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
        let data = KBox::pin_init(data, GFP_KERNEL)?.into_foreign();
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
                drop(unsafe { <Pin<KBox<T>> as ForeignOwnable>::from_foreign(data) });
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
        // `Pin<KBox<T>>`; the job is not submitted, so the shim calls no
        // callback for it, and `free` runs only after our reference is
        // dropped, which outlives `&self`.
        unsafe {
            <Pin<KBox<T>> as ForeignOwnable>::borrow(bindings::dshim_job_priv(self.ptr.as_ptr()))
        }
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
