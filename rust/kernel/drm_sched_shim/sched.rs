// SPDX-License-Identifier: GPL-2.0

//! Schedulers, entities and queues, and the driver's [`JobOps`].
//!
//! C header: [`include/drm/drm_sched_shim.h`](srctree/include/drm/drm_sched_shim.h)

use super::job::{
    Job,
    JobRef,
    Payload,
    RunContext, //
};
use crate::{
    bindings,
    error::{
        from_err_ptr,
        to_result,
        VTABLE_DEFAULT_ERROR, //
    },
    module::this_module,
    prelude::*,
    sync::aref::{
        ARef,
        AlwaysRefCounted, //
    },
    types::{
        ForeignOwnable,
        Opaque, //
    },
};
use core::{
    ffi::c_void,
    marker::PhantomData,
    pin::Pin,
    ptr::NonNull, //
};

/// What [`JobOps::timed_out`] tells the shim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutStatus {
    /// The device is alive: re-arm the timeout timer. The job stays on the
    /// hardware until its hardware fence signals (the driver typically
    /// signals it with an error before returning this).
    Continue,
    /// The device is gone: do not re-arm the timer.
    DeviceGone,
}

/// The driver's side of a scheduler: the job payload and its callbacks.
///
/// The implementing type is the driver's per-job data. The shim owns it from
/// [`Job::new`] on and hands it back to the callbacks below, with the job
/// itself ([`JobRef`]), which holds no reference; it is dropped
/// exactly once, on the shim's worker, whatever happens to the job (ran,
/// cancelled, killed, never submitted, failed dependency). Rust's [`Drop`]
/// is therefore the C `free` callback.
///
/// Every callback may drop any reference the driver holds, including the
/// last one of the job's [`Queue`], [`Scheduler`] or [`Entity`], or of the
/// job data's own fields: the shim defers all teardown to its own worker.
///
/// # Context
///
/// No callback is called with a shim lock held. [`JobOps::run`] and the
/// drop of the data run on a workqueue; [`JobOps::timed_out`] on the
/// timeout workqueue; [`JobOps::cancel`] on the shim's worker, possibly
/// concurrently with `timed_out` (hence `Sync`). A callback, and the drop
/// of the data, cannot wait for the shim: `wait_idle()` and
/// [`flush()`](super::flush) return `EDEADLK` there, since the job being
/// called back is not freed until the callback returns. Nor may `run`,
/// `timed_out` or `cancel` wait for a fence
/// ([`Fence::wait_timeout`](super::Fence::wait_timeout)): they are fence
/// signalling paths.
///
/// # Implementing
///
/// Implement it with `#[vtable] impl JobOps for MyJob`, setting
/// [`JobOps::SchedulerData`] (`()` for none). `#[vtable]` also
/// gives the trait a `type OwnerModule: ModuleMetadata`, which the impl sets
/// to the implementing crate's `LocalModule`: a driver's `module!` defines
/// it (as do the kernel crate and its doctests).
#[vtable]
pub trait JobOps: Send + Sync + Sized + 'static {
    /// The driver's data of each scheduler (or queue) of jobs of this type,
    /// `()` for none: given to [`Scheduler::new`] or [`Queue::new`], reached
    /// from every handle (`data()`) and from the callbacks
    /// ([`JobRef::scheduler_data`]), dropped by the shim when the
    /// scheduler's memory goes, after its last job and its last handle.
    type SchedulerData: Send + Sync;

    /// Puts the job on the hardware. Called once per job, in submission
    /// order within an entity, once its dependencies signalled.
    ///
    /// `run` has the data to itself (no other callback runs before it
    /// returned). It arms the job's hardware fence with
    /// [`RunContext::arm`] and hands the [`HwFence`](super::HwFence) to
    /// whatever signals it when the hardware is done; the job is then on
    /// the hardware until it signals, even if `run` returns an error after
    /// arming (fail the job by signalling, or dropping, the `HwFence`).
    /// If `run` does not arm it, the job completed synchronously, and an
    /// error fails the job's fence with it.
    ///
    /// Keep the `HwFence` where the completion takes it from (the
    /// hardware's ring, say), not in `Self` alone: `Self` is dropped only
    /// after the fence signalled, so a fence only `Self` holds signals
    /// never.
    ///
    /// A fence signalling path: the job's fence is published and memory
    /// reclaim may wait for it, so `run` must neither allocate with
    /// `GFP_KERNEL` nor wait for a fence. The shim runs it inside
    /// `dma_fence_begin_signalling()`, and lockdep reports either; arming
    /// allocates nothing. The same holds for [`JobOps::timed_out`] and
    /// [`JobOps::cancel`].
    fn run(self: Pin<&mut Self>, job: &mut RunContext<'_, Self>) -> Result;

    /// The job has been on the hardware longer than the scheduler's timeout.
    ///
    /// Called only for a job whose [`JobOps::run`] armed its hardware
    /// fence, still unsignalled. Without this callback the timer is
    /// re-armed. [`JobRef::kill`] bans the job's queue.
    fn timed_out(&self, _job: &JobRef<'_, Self>) -> TimeoutStatus {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Shutdown asks the driver to force-complete a job on the hardware: make
    /// its hardware fence signal soon (with `ECANCELED` by convention).
    ///
    /// Called at most once per job. Without this callback jobs on the
    /// hardware run to completion.
    fn cancel(&self, _job: &JobRef<'_, Self>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The C callbacks of a [`JobOps`] type: one table per driver data type.
pub(crate) struct OpsTable<T>(PhantomData<T>);

impl<T: JobOps> OpsTable<T> {
    const OPS: bindings::dshim_sched_ops = bindings::dshim_sched_ops {
        run: Some(Self::run),
        timedout: if T::HAS_TIMED_OUT {
            Some(Self::timed_out)
        } else {
            None
        },
        cancel: if T::HAS_CANCEL {
            Some(Self::cancel)
        } else {
            None
        },
        free: Some(Self::free),
        release_priv: Some(Self::release_priv),
    };

    /// The payload of a job, borrowed for the duration of a callback.
    ///
    /// # Safety
    ///
    /// `job` must be a job the shim is calling back, of a scheduler created
    /// with [`OpsTable<T>::OPS`], and the shim's `free` callback for it must
    /// not have started; nothing borrows the payload mutably meanwhile.
    unsafe fn payload<'a>(job: *mut bindings::dshim_job) -> Pin<&'a Payload<T>> {
        // SAFETY: The shim keeps `job` alive during the callback. Its payload
        // is a `Pin<KBox<Payload<T>>>` turned foreign by `Job::new` (the only
        // way to create jobs on such a scheduler); `free`, where it is taken
        // back, has not started, and the caller excludes mutable borrows.
        unsafe { <Pin<KBox<Payload<T>>> as ForeignOwnable>::borrow(bindings::dshim_job_priv(job)) }
    }

    /// # Safety
    ///
    /// Called by the shim only, with a job of a scheduler using [`Self::OPS`].
    unsafe extern "C" fn run(job: *mut bindings::dshim_job) -> *mut bindings::dma_fence {
        // SAFETY: The shim calls `run` once per job, on a live job before its
        // `free`, and calls no other callback for it before `run` returned
        // (`timedout` and `cancel` only see jobs `run` put on the hardware
        // list after it returned): the payload is ours alone.
        let payload = unsafe {
            <Pin<KBox<Payload<T>>> as ForeignOwnable>::borrow_mut(bindings::dshim_job_priv(job))
        };
        let payload = payload.project();
        // SAFETY: The shim keeps `job` alive for the call.
        let mut ctx = RunContext::new(unsafe { JobRef::new(job) }, payload.slot);
        let result = T::run(payload.data, &mut ctx);
        match (ctx.into_armed(), result) {
            // Armed: on the hardware until its `HwFence` signals, whatever
            // `run` returned, lest the job's fence signal while the hardware
            // runs it. The hardware fence's count passes to the shim.
            (Some(fence), _) => ARef::into_raw(fence).cast().as_ptr(),
            (None, Ok(())) => core::ptr::null_mut(),
            (None, Err(e)) => e.to_ptr(),
        }
    }

    /// # Safety
    ///
    /// Called by the shim only, with a job of a scheduler using [`Self::OPS`].
    unsafe extern "C" fn timed_out(
        job: *mut bindings::dshim_job,
    ) -> bindings::dshim_timeout_status {
        // SAFETY: The shim calls `timedout` on a live job after its `run`
        // returned and before its `free`.
        let payload = unsafe { Self::payload(job) };
        // SAFETY: The shim keeps `job` alive for the call.
        let job = unsafe { JobRef::new(job) };
        match payload.data().get_ref().timed_out(&job) {
            TimeoutStatus::Continue => bindings::dshim_timeout_status_DSHIM_TIMEOUT_CONTINUE,
            TimeoutStatus::DeviceGone => bindings::dshim_timeout_status_DSHIM_TIMEOUT_DEVICE_GONE,
        }
    }

    /// # Safety
    ///
    /// Called by the shim only, with a job of a scheduler using [`Self::OPS`].
    unsafe extern "C" fn cancel(job: *mut bindings::dshim_job) {
        // SAFETY: The shim calls `cancel` on a live job after its `run`
        // returned, and its `free` waits until `cancel` returned.
        let payload = unsafe { Self::payload(job) };
        // SAFETY: The shim keeps `job` alive for the call.
        let job = unsafe { JobRef::new(job) };
        payload.data().get_ref().cancel(&job);
    }

    /// # Safety
    ///
    /// Called by the shim only, with the `priv` of a scheduler using
    /// [`Self::OPS`].
    unsafe extern "C" fn release_priv(data: *mut c_void) {
        // SAFETY: The shim calls `release_priv` once, when the scheduler's
        // memory goes: no handle, job or callback of it is left to borrow
        // the data, which `SchedulerOptions::create` made with
        // `Pin<KBox<T::SchedulerData>>::into_foreign`.
        drop(unsafe { <Pin<KBox<T::SchedulerData>> as ForeignOwnable>::from_foreign(data) });
    }

    /// # Safety
    ///
    /// Called by the shim only, with a job of a scheduler using [`Self::OPS`].
    unsafe extern "C" fn free(job: *mut bindings::dshim_job) {
        // SAFETY: The shim calls `free` exactly once per job, after every
        // other callback for it returned; the payload came from
        // `Pin<KBox<Payload<T>>>::into_foreign` in `Job::new`, and no borrow
        // of it from a callback outlives that callback.
        drop(unsafe {
            <Pin<KBox<Payload<T>>> as ForeignOwnable>::from_foreign(bindings::dshim_job_priv(job))
        });
    }
}

/// The driver data of a scheduler of `T`.
///
/// # Safety
///
/// `sched` must be a scheduler created with `OpsTable::<T>::OPS` whose
/// memory the caller keeps alive for `'a` (a handle, or a job being called
/// back): the data is released only with that memory.
pub(crate) unsafe fn sched_data<'a, T: JobOps>(
    sched: *const bindings::dshim_sched,
) -> Pin<&'a T::SchedulerData> {
    // SAFETY: The scheduler's `priv` is a `Pin<KBox<T::SchedulerData>>` turned
    // foreign by `SchedulerOptions::create`, released only when the memory the
    // caller keeps goes; nothing borrows it mutably.
    unsafe {
        <Pin<KBox<T::SchedulerData>> as ForeignOwnable>::borrow(bindings::dshim_sched_priv(sched))
    }
}

/// How to create a [`Scheduler`] or a [`Queue`].
#[derive(Clone, Copy, Debug)]
pub struct SchedulerOptions<'a> {
    /// The name of the scheduler and of the timeline of its fences; copied,
    /// shorter than `DSHIM_NAME_MAX` bytes.
    pub name: &'a CStr,
    /// Credits the hardware holds at once (at least 1).
    pub credit_limit: u32,
    /// Run queues, that is entity priorities; 0 means 1.
    pub num_priorities: u32,
    /// Job timeout in milliseconds; 0 disables it.
    pub timeout_ms: u32,
}

impl<'a> SchedulerOptions<'a> {
    /// Options with one priority and no timeout.
    pub const fn new(name: &'a CStr, credit_limit: u32) -> Self {
        Self {
            name,
            credit_limit,
            num_priorities: 1,
            timeout_ms: 0,
        }
    }

    /// Creates a scheduler or a queue (`create`) of `T` from these options,
    /// whose driver data `data` becomes: the scheduler owns it on success,
    /// and it is dropped here on failure.
    fn create<T: JobOps, R, E>(
        &self,
        data: impl PinInit<T::SchedulerData, E>,
        create: impl FnOnce(&bindings::dshim_sched_desc) -> Result<*mut R>,
    ) -> Result<*mut R>
    where
        Error: From<E>,
    {
        let data = KBox::pin_init(data, GFP_KERNEL)?.into_foreign();
        let mut desc = self.desc::<T>();
        desc.priv_ = data;
        create(&desc).inspect_err(|_| {
            // SAFETY: The creation failed, so the shim never calls
            // `release_priv` with `data`: we still own it.
            drop(unsafe { <Pin<KBox<T::SchedulerData>> as ForeignOwnable>::from_foreign(data) });
        })
    }

    fn desc<T: JobOps>(&self) -> bindings::dshim_sched_desc {
        bindings::dshim_sched_desc {
            // A promoted constant, instantiated in the crate that uses `T`
            // (the driver's): it lies in the driver's module, or in the
            // kernel image for built-in code. The callbacks it points to,
            // and `T`'s drop, are that crate's code too.
            ops: &OpsTable::<T>::OPS,
            // `T`'s module (`#[vtable]` sets `OwnerModule` to the
            // implementing crate's `LocalModule`; NULL when built in): the
            // shim pins it while the scheduler has jobs, so the module
            // cannot go while the shim may still call the table or drop a
            // `T` (`dshim_sched_desc.owner`).
            owner: this_module::<T::OwnerModule>().as_ptr(),
            // Set by `create`.
            priv_: core::ptr::null_mut(),
            name: self.name.as_char_ptr(),
            dev: core::ptr::null_mut(),
            credit_limit: self.credit_limit,
            num_priorities: self.num_priorities,
            timeout_ms: self.timeout_ms,
            // The shim's shared workqueues: no thread per scheduler.
            submit_wq: core::ptr::null_mut(),
            timeout_wq: core::ptr::null_mut(),
            // No direct submit: `JobOps::run` would then run inside
            // `Job::submit`, a lock rule the types do not carry yet.
            flags: 0,
        }
    }
}

/// A counted DRM GPU scheduler whose jobs carry driver data `T`.
///
/// Dropping the last [`ARef`] shuts the scheduler down without waiting:
/// entities are killed, jobs not yet run signal `ECANCELED`, jobs on the
/// hardware get [`JobOps::cancel`]. The memory lives on, on the shim's
/// side, until the last job was freed.
///
/// # Invariants
///
/// The object is a live `struct dshim_sched`, created with
/// `OpsTable::<T>::OPS`, reached through a driver reference (`users` count)
/// that the holder of `&Scheduler<T>` owns or borrows from an owner.
///
/// # Examples
///
/// A scheduler with two priorities and one entity on each.
///
/// ```
/// use kernel::drm_sched_shim::{Job, JobOps, RunContext, Scheduler, SchedulerOptions};
///
/// struct Nop;
///
/// #[vtable]
/// impl JobOps for Nop {
///     type SchedulerData = ();
///
///     fn run(self: Pin<&mut Self>, _job: &mut RunContext<'_, Self>) -> Result {
///         Ok(()) // done at once: no hardware fence armed
///     }
/// }
///
/// let opts = SchedulerOptions { num_priorities: 2, ..SchedulerOptions::new(c"doc-s", 4) };
/// let sched = Scheduler::<Nop>::new(&opts, ())?;
/// let high = sched.new_entity(0)?;
/// let low = sched.new_entity(1)?;
/// assert!(sched.new_entity(2).is_err());
///
/// let a = Job::new(&low, 1, Nop)?.ready().submit()?;
/// let b = Job::new(&high, 1, Nop)?.ready().submit()?;
/// sched.wait_idle(5000)?;
/// a.wait_timeout(5000)?;
/// b.wait_timeout(5000)?;
/// assert!(a.result().unwrap().is_ok() && b.result().unwrap().is_ok());
///
/// sched.shutdown();
/// assert!(Job::new(&high, 1, Nop).is_err());
/// # Ok::<(), Error>(())
/// ```
#[repr(transparent)]
pub struct Scheduler<T: JobOps>(Opaque<bindings::dshim_sched>, PhantomData<T>);

// SAFETY: Every `dshim_sched_*` function may be called from any thread, and
// the last put from any context (it only queues work). The driver data `T`
// it makes the shim own is `Send`, and is dropped on the shim's worker.
unsafe impl<T: JobOps> Send for Scheduler<T> {}

// SAFETY: The shim serialises everything it does on a scheduler with its own
// locks; `&Scheduler<T>` only offers those entry points.
unsafe impl<T: JobOps> Sync for Scheduler<T> {}

// SAFETY: `dshim_sched_get()`/`dshim_sched_put()` maintain the driver count;
// the memory stays while any count (driver, entity or job) exists.
unsafe impl<T: JobOps> AlwaysRefCounted for Scheduler<T> {
    fn inc_ref(&self) {
        // SAFETY: By the type invariant we hold a driver reference.
        unsafe { bindings::dshim_sched_get(self.as_raw()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up its driver reference.
        unsafe { bindings::dshim_sched_put(obj.cast().as_ptr()) };
    }
}

impl<T: JobOps> Scheduler<T> {
    /// Creates a scheduler.
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    pub fn new<E>(
        opts: &SchedulerOptions<'_>,
        data: impl PinInit<T::SchedulerData, E>,
    ) -> Result<ARef<Self>>
    where
        Error: From<E>,
    {
        let s = opts.create::<T, _, _>(data, |desc| {
            // SAFETY: `desc` is valid for the call (the shim copies it); its
            // ops table is a constant of `T`'s module, which `desc.owner`
            // names, so the shim keeps it loaded for as long as it may use
            // the table; its `priv` is a `T::SchedulerData`, as the table's
            // `release_priv` expects.
            from_err_ptr(unsafe { bindings::dshim_sched_create(desc) })
        })?;
        // SAFETY: On success the shim returned a live scheduler using
        // `OpsTable::<T>::OPS`, not NULL, and its first driver reference.
        Ok(unsafe { Self::from_new(s) })
    }

    /// Takes over a driver reference to a scheduler.
    ///
    /// # Safety
    ///
    /// `s` must be a live scheduler, not NULL, created with
    /// `OpsTable::<T>::OPS`, and the caller must own a driver reference to
    /// it, which passes to the returned [`ARef`].
    pub(crate) unsafe fn from_new(s: *mut bindings::dshim_sched) -> ARef<Self> {
        // INVARIANT: guaranteed by the caller.
        // SAFETY: `Scheduler<T>` is `repr(transparent)` over the C struct;
        // the caller guarantees the rest.
        unsafe { ARef::from_raw(NonNull::new_unchecked(s.cast())) }
    }

    fn as_raw(&self) -> *mut bindings::dshim_sched {
        self.0.get()
    }

    /// The driver data given to [`Scheduler::new`].
    pub fn data(&self) -> Pin<&T::SchedulerData> {
        // SAFETY: By the type invariant the scheduler is live and uses
        // `OpsTable::<T>::OPS`.
        unsafe { sched_data::<T>(self.as_raw()) }
    }

    /// Creates an entity (a submission context) at `priority`, 0 being the
    /// highest.
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    pub fn new_entity(&self, priority: u32) -> Result<ARef<Entity<T>>> {
        // SAFETY: By the type invariant the scheduler is live.
        let e = from_err_ptr(unsafe { bindings::dshim_entity_create(self.as_raw(), priority) })?;
        // SAFETY: As in `Entity::from_new`: a new entity of this scheduler
        // and its first reference.
        Ok(unsafe { Entity::from_new(e) })
    }

    /// Shuts the scheduler down without waiting (what dropping the last
    /// reference does): no new entities or jobs; queued jobs signal
    /// `ECANCELED`; jobs on the hardware get [`JobOps::cancel`].
    ///
    /// # Context
    ///
    /// Any context.
    pub fn shutdown(&self) {
        // SAFETY: By the type invariant the scheduler is live.
        unsafe { bindings::dshim_sched_shutdown(self.as_raw()) };
    }

    /// Waits, for at most `timeout_ms`, until the data of every job created
    /// on the scheduler was dropped. Returns `Err(ETIMEDOUT)` on timeout.
    ///
    /// From a [`JobOps`] callback, or from the drop of a job's data, it
    /// returns `Err(EDEADLK)` at once: the job being called back is not
    /// freed before the callback returns.
    ///
    /// # Context
    ///
    /// Process context; sleeps.
    pub fn wait_idle(&self, timeout_ms: u32) -> Result {
        // SAFETY: By the type invariant the scheduler is live.
        to_result(unsafe { bindings::dshim_sched_wait_idle(self.as_raw(), timeout_ms) })
    }
}

/// A counted submission context on a [`Scheduler`].
///
/// Jobs of one entity run, and their fences signal, in submission order.
/// Dropping the last [`ARef`] kills the entity without waiting (queued jobs
/// signal `ECANCELED`, jobs on the hardware get [`JobOps::cancel`]).
///
/// An entity keeps its scheduler's memory, but not the scheduler itself,
/// alive: dropping the scheduler's last reference still shuts it down, and
/// every entity with it.
///
/// # Invariants
///
/// The object is a live `struct dshim_entity` of a scheduler created with
/// `OpsTable::<T>::OPS`, reached through a driver reference.
///
/// # Examples
///
/// A killed entity takes no more jobs; the scheduler carries on.
///
/// ```
/// use kernel::drm_sched_shim::{Job, JobOps, RunContext, Scheduler, SchedulerOptions};
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
/// let sched = Scheduler::<Nop>::new(&SchedulerOptions::new(c"doc-e", 1), ())?;
/// let e1 = sched.new_entity(0)?;
/// let e2 = sched.new_entity(0)?;
/// let job = Job::new(&e1, 1, Nop)?.ready();
/// e1.kill();
/// assert_eq!(job.submit().err(), Some(ESHUTDOWN));
/// let fence = Job::new(&e2, 1, Nop)?.ready().submit()?;
/// e2.wait_idle(5000)?;
/// fence.wait_timeout(5000)?;
/// assert!(fence.result().unwrap().is_ok());
/// e1.wait_idle(5000)?;
/// # Ok::<(), Error>(())
/// ```
#[repr(transparent)]
pub struct Entity<T: JobOps>(Opaque<bindings::dshim_entity>, PhantomData<T>);

// SAFETY: As for `Scheduler`: every `dshim_entity_*` function may be called
// from any thread and the last put from any context.
unsafe impl<T: JobOps> Send for Entity<T> {}

// SAFETY: The shim serialises submissions and kill with its own locks.
unsafe impl<T: JobOps> Sync for Entity<T> {}

// SAFETY: `dshim_entity_get()`/`dshim_entity_put()` maintain the driver
// count; the memory stays while any count (driver or job) exists.
unsafe impl<T: JobOps> AlwaysRefCounted for Entity<T> {
    fn inc_ref(&self) {
        // SAFETY: By the type invariant we hold a driver reference.
        unsafe { bindings::dshim_entity_get(self.as_raw()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up its driver reference.
        unsafe { bindings::dshim_entity_put(obj.cast().as_ptr()) };
    }
}

impl<T: JobOps> Entity<T> {
    /// Takes over the first reference of a new entity.
    ///
    /// # Safety
    ///
    /// `e` must be a live entity, not NULL, of a scheduler created with
    /// `OpsTable::<T>::OPS`, and the caller must own a driver reference to
    /// it, which passes to the returned [`ARef`].
    pub(crate) unsafe fn from_new(e: *mut bindings::dshim_entity) -> ARef<Self> {
        // INVARIANT: guaranteed by the caller.
        // SAFETY: `Entity<T>` is `repr(transparent)` over the C struct; the
        // caller guarantees the rest.
        unsafe { ARef::from_raw(NonNull::new_unchecked(e.cast())) }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::dshim_entity {
        self.0.get()
    }

    /// Kills the entity without waiting: jobs not yet run signal
    /// `ECANCELED`, jobs on the hardware get [`JobOps::cancel`], new
    /// submissions fail with `ESHUTDOWN`.
    ///
    /// # Context
    ///
    /// Any context.
    pub fn kill(&self) {
        // SAFETY: By the type invariant the entity is live.
        unsafe { bindings::dshim_entity_kill(self.as_raw()) };
    }

    /// Waits, for at most `timeout_ms`, until the data of every job of the
    /// entity was dropped. Returns `Err(ETIMEDOUT)` on timeout.
    ///
    /// From a [`JobOps`] callback, or from the drop of a job's data, it
    /// returns `Err(EDEADLK)` at once: the job being called back is not
    /// freed before the callback returns.
    ///
    /// # Context
    ///
    /// Process context; sleeps.
    pub fn wait_idle(&self, timeout_ms: u32) -> Result {
        // SAFETY: By the type invariant the entity is live.
        to_result(unsafe { bindings::dshim_entity_wait_idle(self.as_raw(), timeout_ms) })
    }
}

/// A counted scheduler with a single entity: one per userspace queue of a
/// firmware-scheduled GPU.
///
/// Queues share the shim's workqueues: a queue costs no kernel thread.
/// Dropping the last [`ARef`] kills the queue (see [`Queue::kill`]) without
/// waiting; jobs still on the hardware keep the scheduler's memory alive
/// until their hardware fences signal, and nothing else.
///
/// # Invariants
///
/// The object is a live `struct dshim_queue` whose scheduler was created
/// with `OpsTable::<T>::OPS`, reached through a queue reference.
///
/// # Examples
///
/// ```
/// use kernel::drm_sched_shim::{Job, JobOps, Queue, RunContext, SchedulerOptions};
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
/// let q = Queue::<Nop>::new(&SchedulerOptions::new(c"doc-q", 8), ())?;
/// let fence = Job::new(q.entity(), 1, Nop)?.ready().submit()?;
/// q.wait_idle(5000)?;
/// fence.wait_timeout(5000)?;
/// assert!(fence.result().unwrap().is_ok());
/// q.scheduler().wait_idle(0)?;
/// # Ok::<(), Error>(())
/// ```
#[repr(transparent)]
pub struct Queue<T: JobOps>(Opaque<bindings::dshim_queue>, PhantomData<T>);

// SAFETY: As for `Scheduler`: every `dshim_queue_*` function may be called
// from any thread and the last put from any context.
unsafe impl<T: JobOps> Send for Queue<T> {}

// SAFETY: The queue is immutable after creation but for its count; the
// scheduler and entity behind it serialise their own state.
unsafe impl<T: JobOps> Sync for Queue<T> {}

// SAFETY: `dshim_queue_get()`/`dshim_queue_put()` maintain the count, and
// the handle is freed only by the last put.
unsafe impl<T: JobOps> AlwaysRefCounted for Queue<T> {
    fn inc_ref(&self) {
        // SAFETY: By the type invariant we hold a queue reference.
        unsafe { bindings::dshim_queue_get(self.as_raw()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up its queue reference.
        unsafe { bindings::dshim_queue_put(obj.cast().as_ptr()) };
    }
}

impl<T: JobOps> Queue<T> {
    /// Creates a scheduler and its entity (at priority 0) as one queue.
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    pub fn new<E>(
        opts: &SchedulerOptions<'_>,
        data: impl PinInit<T::SchedulerData, E>,
    ) -> Result<ARef<Self>>
    where
        Error: From<E>,
    {
        let q = opts.create::<T, _, _>(data, |desc| {
            // SAFETY: As in `Scheduler::new`.
            from_err_ptr(unsafe { bindings::dshim_queue_create(desc) })
        })?;
        // INVARIANT: the shim returned a live queue whose scheduler uses
        // `OpsTable::<T>::OPS`, and its first reference.
        // SAFETY: `q` is not NULL on success; `Queue<T>` is
        // `repr(transparent)` over the C struct.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(q.cast())) })
    }

    fn as_raw(&self) -> *mut bindings::dshim_queue {
        self.0.get()
    }

    /// The driver data given to [`Queue::new`].
    pub fn data(&self) -> Pin<&T::SchedulerData> {
        self.scheduler().data()
    }

    /// The queue's entity, to create jobs on.
    pub fn entity(&self) -> &Entity<T> {
        // SAFETY: By the type invariant the queue is live, and it holds a
        // driver reference on its entity for as long as it lives, which is at
        // least as long as `&self`; `Entity<T>` is `repr(transparent)`.
        unsafe { &*bindings::dshim_queue_entity(self.as_raw()).cast::<Entity<T>>() }
    }

    /// The queue's scheduler.
    pub fn scheduler(&self) -> &Scheduler<T> {
        // SAFETY: By the type invariant the queue is live, and it holds a
        // driver reference on its scheduler for as long as it lives;
        // `Scheduler<T>` is `repr(transparent)`.
        unsafe { &*bindings::dshim_queue_sched(self.as_raw()).cast::<Scheduler<T>>() }
    }

    /// Kills the queue without waiting: what a driver does when the process
    /// owning it dies, or to ban a queue that hung. Shuts the scheduler down
    /// (see [`Scheduler::shutdown`]).
    ///
    /// # Context
    ///
    /// Any context.
    pub fn kill(&self) {
        // SAFETY: By the type invariant the queue is live.
        unsafe { bindings::dshim_queue_kill(self.as_raw()) };
    }

    /// Waits, for at most `timeout_ms`, until the data of every job of the
    /// queue was dropped. Returns `Err(ETIMEDOUT)` on timeout.
    ///
    /// From a [`JobOps`] callback, or from the drop of a job's data, it
    /// returns `Err(EDEADLK)` at once: the job being called back is not
    /// freed before the callback returns.
    ///
    /// # Context
    ///
    /// Process context; sleeps.
    pub fn wait_idle(&self, timeout_ms: u32) -> Result {
        // SAFETY: By the type invariant the queue is live.
        to_result(unsafe { bindings::dshim_queue_wait_idle(self.as_raw(), timeout_ms) })
    }

    /// Creates a job on the queue's entity: `Job::new(self.entity(), ..)`.
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    pub fn new_job<E>(&self, credits: u32, data: impl PinInit<T, E>) -> Result<Job<T>>
    where
        Error: From<E>,
    {
        Job::new(self.entity(), credits, data)
    }
}
