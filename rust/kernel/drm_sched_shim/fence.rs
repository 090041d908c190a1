// SPDX-License-Identifier: GPL-2.0

//! Fences: [`Fence`] for any `dma_fence`, and the hardware-fence helper
//! ([`HwTimeline`], [`HwFence`]) so that drivers never
//! implement `dma_fence_ops`.
//!
//! C header: [`include/drm/drm_sched_shim.h`](srctree/include/drm/drm_sched_shim.h)

use crate::{
    bindings,
    error::{
        from_err_ptr,
        to_result, //
    },
    prelude::*,
    sync::aref::{
        ARef,
        AlwaysRefCounted, //
    },
    types::Opaque, //
};
use core::{
    ptr::NonNull,
    sync::atomic::{
        AtomicPtr,
        Ordering, //
    },
};

/// A counted `struct dma_fence`.
///
/// The fences a scheduler hands out ([`Job::submit`]) are shim fences: they
/// reference a small counted timeline (name and fence context) and never the
/// scheduler, so an [`ARef<Fence>`] may be kept for as long as the driver
/// likes, also after every scheduler, queue and driver object is gone.
///
/// [`Job::submit`]: super::Job::submit
///
/// # Invariants
///
/// The object is a live `struct dma_fence`: it is always reached through a
/// reference that owns (or borrows from an owner of) one of its counts.
///
/// # Examples
///
/// A hardware fence seen as a plain [`Fence`]: pending, then signalled with
/// an error that every holder can read.
///
/// ```
/// use kernel::drm_sched_shim::HwTimeline;
///
/// let tl = HwTimeline::new(c"doc-fence")?;
/// let hw = tl.new_fence()?;
/// let fence = hw.fence();
/// assert!(fence.is_shim());
/// assert!(!fence.is_signaled());
/// assert!(fence.result().is_none());
///
/// hw.signal(Err(ECANCELED));
/// assert!(fence.is_signaled());
/// assert_eq!(fence.result(), Some(Err(ECANCELED)));
/// # Ok::<(), Error>(())
/// ```
#[repr(transparent)]
pub struct Fence(Opaque<bindings::dma_fence>);

// SAFETY: A `dma_fence` is reference counted atomically, and `dma_fence_put()`
// may drop the last reference from any thread and any context.
unsafe impl Send for Fence {}

// SAFETY: Every method of `Fence` takes the fence's own lock or reads it with
// the atomics and barriers of the dma-fence API, so `&Fence` may be used from
// several threads at once.
unsafe impl Sync for Fence {}

// SAFETY: `dma_fence_get()` and `dma_fence_put()` maintain the fence's count;
// the fence is freed only when the last count is dropped.
unsafe impl AlwaysRefCounted for Fence {
    fn inc_ref(&self) {
        // SAFETY: By the type invariant the fence is live, and we own a count.
        unsafe { bindings::dma_fence_get(self.as_raw()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a count, which it gives up here.
        unsafe { bindings::dma_fence_put(obj.cast().as_ptr()) };
    }
}

impl Fence {
    /// Takes over a reference to any `dma_fence`, the shim's or another
    /// driver's: to make it a job's dependency, say.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live `dma_fence` and the caller must own one of
    /// its counts, which passes to the returned [`ARef`].
    pub unsafe fn from_raw(ptr: NonNull<bindings::dma_fence>) -> ARef<Self> {
        // SAFETY: `Fence` is `repr(transparent)` over the C struct, and the
        // caller passes its count to the `ARef`.
        unsafe { ARef::from_raw(ptr.cast()) }
    }

    /// The raw `struct dma_fence` pointer.
    pub fn as_raw(&self) -> *mut bindings::dma_fence {
        self.0.get()
    }

    /// The fence's context: the fences of one context signal in order of
    /// their [`Fence::seqno`].
    pub fn context(&self) -> u64 {
        // SAFETY: By the type invariant the fence is live; `context` is set
        // when it is initialised and never changes.
        unsafe { (*self.as_raw()).context }
    }

    /// The fence's sequence number within its [`Fence::context`].
    pub fn seqno(&self) -> u64 {
        // SAFETY: By the type invariant the fence is live; `seqno` is set
        // when it is initialised and never changes.
        unsafe { (*self.as_raw()).seqno }
    }

    /// Whether the fence has signalled (successfully or with an error).
    pub fn is_signaled(&self) -> bool {
        // SAFETY: By the type invariant the fence is live.
        unsafe { bindings::dma_fence_is_signaled(self.as_raw()) }
    }

    /// The outcome of the fence: `None` while pending, then `Some(Ok(()))` or
    /// `Some(Err(error))` with the error it signalled with.
    pub fn result(&self) -> Option<Result> {
        // SAFETY: By the type invariant the fence is live.
        match unsafe { bindings::dma_fence_get_status(self.as_raw()) } {
            0 => None,
            status if status > 0 => Some(Ok(())),
            error => Some(Err(Error::from_errno(error))),
        }
    }

    /// Whether the fence was made by the shim: a job's fence or a
    /// [`HwFence`]. Such fences reference only their timeline.
    pub fn is_shim(&self) -> bool {
        // SAFETY: By the type invariant the fence is live.
        unsafe { bindings::dshim_fence_is_shim(self.as_raw()) }
    }

    /// Waits until the fence signals, for at most `timeout_ms` milliseconds.
    ///
    /// Returns `Ok(())` once signalled (whatever its [`Fence::result`]) and
    /// `Err(ETIMEDOUT)` on timeout.
    ///
    /// # Context
    ///
    /// Process context; sleeps. Never from a [`JobOps`] callback waiting for
    /// a fence of the same scheduler: that job's callback holds up the
    /// scheduler.
    ///
    /// [`JobOps`]: super::JobOps
    pub fn wait_timeout(&self, timeout_ms: u32) -> Result {
        self.wait(false, timeout_ms)
    }

    /// Waits until the fence signals, for at most `timeout_ms` milliseconds,
    /// or until the calling task gets a signal: what an ioctl that waits
    /// does.
    ///
    /// Returns `Ok(())` once signalled (whatever its [`Fence::result`]),
    /// `Err(ETIMEDOUT)` on timeout, and `Err(ERESTARTSYS)` when interrupted,
    /// which the ioctl returns as it is.
    ///
    /// # Context
    ///
    /// Process context; sleeps. Not from a [`JobOps`] callback (a fence
    /// signalling path).
    ///
    /// [`JobOps`]: super::JobOps
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::drm_sched_shim::HwTimeline;
    ///
    /// let hw = HwTimeline::new(c"doc-intr")?.new_fence()?;
    /// let fence = hw.fence();
    /// assert_eq!(fence.wait_interruptible(1), Err(ETIMEDOUT));
    /// hw.signal(Ok(()));
    /// assert_eq!(fence.wait_interruptible(0), Ok(()));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn wait_interruptible(&self, timeout_ms: u32) -> Result {
        self.wait(true, timeout_ms)
    }

    fn wait(&self, intr: bool, timeout_ms: u32) -> Result {
        let jiffies = crate::time::msecs_to_jiffies(timeout_ms);
        // The kernel's `long`, whatever its width: no truncation.
        let timeout = jiffies
            .try_into()
            .unwrap_or(crate::task::MAX_SCHEDULE_TIMEOUT);
        // SAFETY: By the type invariant the fence is live; we may sleep.
        let ret = unsafe { bindings::dma_fence_wait_timeout(self.as_raw(), intr, timeout) };
        match ret {
            // A signalled fence gives 1 even with a zero timeout.
            0 => Err(ETIMEDOUT),
            ret if ret > 0 => Ok(()),
            ret => to_result(ret as i32),
        }
    }
}

/// A hardware timeline: a fence context and a name, counted.
///
/// [`HwFence`]s made on it hold a count of it and nothing else, so a
/// signalled hardware fence pins only this small object.
///
/// # Invariants
///
/// The object is a live `struct dshim_timeline` reached through a count.
///
/// # Examples
///
/// ```
/// use kernel::drm_sched_shim::HwTimeline;
///
/// let tl = HwTimeline::new(c"doc-ring0")?;
/// assert_eq!(tl.name(), c"doc-ring0");
/// let a = tl.new_fence()?;
/// let b = tl.new_fence()?;
/// assert_eq!(tl.context(), tl.clone().context());
/// // Fences of one timeline signal in creation order.
/// let (a_seen, b_seen) = (a.fence(), b.fence());
/// a.signal(Ok(()));
/// b.signal(Ok(()));
/// // Once dropped, the timeline lives on in its fences only.
/// drop(tl);
/// assert!(a_seen.is_signaled() && b_seen.is_signaled());
/// # Ok::<(), Error>(())
/// ```
#[repr(transparent)]
pub struct HwTimeline(Opaque<bindings::dshim_timeline>);

// SAFETY: The timeline's count is atomic and `dshim_timeline_put()` may be
// called from any context; the last put frees it after an RCU grace period.
unsafe impl Send for HwTimeline {}

// SAFETY: The timeline is immutable after creation except for its sequence
// counter, which `dshim_hw_fence_arm()` advances atomically.
unsafe impl Sync for HwTimeline {}

// SAFETY: `dshim_timeline_get()`/`dshim_timeline_put()` maintain the count
// and the memory stays until the last count is dropped.
unsafe impl AlwaysRefCounted for HwTimeline {
    fn inc_ref(&self) {
        // SAFETY: By the type invariant the timeline is live.
        unsafe { bindings::dshim_timeline_get(self.0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a count, which it gives up here.
        unsafe { bindings::dshim_timeline_put(obj.cast().as_ptr()) };
    }
}

impl HwTimeline {
    /// Creates a timeline with a new fence context.
    ///
    /// `name` is copied; it must be shorter than `DSHIM_NAME_MAX` bytes.
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    pub fn new(name: &CStr) -> Result<ARef<Self>> {
        // SAFETY: `name` is a NUL-terminated string; the shim copies it.
        let tl = from_err_ptr(unsafe { bindings::dshim_timeline_create(name.as_char_ptr()) })?;
        // INVARIANT: On success the shim returned a live timeline and its
        // first count, which passes to the `ARef`.
        // SAFETY: `tl` is not NULL on success, and `HwTimeline` is
        // `repr(transparent)` over the C struct.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(tl.cast())) })
    }

    /// The timeline's name.
    pub fn name(&self) -> &CStr {
        // SAFETY: By the type invariant the timeline is live; its name is a
        // NUL-terminated string, copied at creation and never written again,
        // that lives as long as the timeline does, which is at least as long
        // as `&self`.
        unsafe { CStr::from_char_ptr(bindings::dshim_timeline_name(self.0.get())) }
    }

    /// The `dma_fence` context shared by every fence on the timeline.
    pub fn context(&self) -> u64 {
        // SAFETY: By the type invariant the timeline is live.
        unsafe { bindings::dshim_timeline_context(self.0.get()) }
    }

    /// Creates the next hardware fence of the timeline, outside any job (a
    /// dependency, a test): a job's own is armed by
    /// [`RunContext::arm`](super::RunContext::arm).
    ///
    /// Fences of one timeline must be signalled in the order they were
    /// created, as for any `dma_fence` context.
    ///
    /// # Context
    ///
    /// Process context; may sleep (a `GFP_KERNEL` allocation). Never in
    /// [`JobOps::run`](super::JobOps::run): arm a fence allocated earlier.
    pub fn new_fence(&self) -> Result<HwFence> {
        // SAFETY: By the type invariant the timeline is live.
        let f = from_err_ptr(unsafe { bindings::dshim_hw_fence_create(self.0.get()) })?;
        // SAFETY: On success the shim made a hardware fence, not NULL, and
        // returned its first count.
        Ok(unsafe { HwFence::from_raw(f) })
    }
}

/// A hardware fence allocated ahead, until it is armed where nothing may
/// allocate: every job has one, made by [`Job::new`](super::Job::new) and
/// armed by [`RunContext::arm`](super::RunContext::arm).
///
/// `HwFenceSlot` is `Send` and `Sync` as its `AtomicPtr` is: the unarmed
/// fence is plain memory that may be armed or freed from any thread and
/// any context, and [`HwFenceSlot::arm`] takes it out with one atomic swap,
/// so one caller gets it and the others get `EALREADY`.
///
/// # Invariants
///
/// `self.0` is NULL once the fence was armed, or else an unarmed fence from
/// `dshim_hw_fence_alloc()` that `self` owns.
pub(crate) struct HwFenceSlot(AtomicPtr<bindings::dshim_hw_fence>);

impl HwFenceSlot {
    /// Allocates a hardware fence.
    ///
    /// # Context
    ///
    /// Process context; may sleep (a `GFP_KERNEL` allocation).
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: No preconditions (it may sleep, as `# Context` says).
        let f = from_err_ptr(unsafe { bindings::dshim_hw_fence_alloc() })?;
        // INVARIANT: on success the shim returned an unarmed fence, ours.
        Ok(Self(AtomicPtr::new(f)))
    }

    /// Arms the fence as the next one of `timeline` and returns it.
    ///
    /// Allocates nothing. Returns `Err(EALREADY)` if the slot's fence was
    /// armed before.
    ///
    /// # Context
    ///
    /// Any context.
    pub(crate) fn arm(&self, timeline: &HwTimeline) -> Result<HwFence> {
        // INVARIANT: the slot gives the fence up: NULL from now on.
        let f = self.0.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if f.is_null() {
            return Err(EALREADY);
        }
        // SAFETY: By the type invariant `f` is an unarmed fence that was the
        // slot's and is now ours; the call consumes it. The timeline is live.
        // Neither is NULL or an error pointer, so the shim arms the fence.
        let fence = unsafe { bindings::dshim_hw_fence_arm(f, timeline.0.get()) };
        // SAFETY: `fence` is the armed hardware fence, not NULL, with its
        // first count, which passes to the `HwFence`.
        Ok(unsafe { HwFence::from_raw(fence) })
    }
}

impl Drop for HwFenceSlot {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the pointer is NULL, which the shim
        // ignores, or an unarmed fence of ours.
        unsafe { bindings::dshim_hw_fence_free(*self.0.get_mut()) };
    }
}

/// A hardware fence: the one handle that signals it, which the driver keeps
/// until the hardware is done.
///
/// There is one `HwFence` per fence, so it signals once: [`HwFence::signal`]
/// consumes it. Dropped unsignalled (the driver lost its job, or bailed out
/// on an error path), it signals `ECANCELED`: a job can never hang on a
/// hardware fence nobody holds. Everyone else sees the fence as a [`Fence`]
/// ([`HwFence::fence`], or through `Deref`), which holds a count of the
/// fence's [`HwTimeline`] and nothing else.
///
/// A job's hardware fence comes from [`RunContext::arm`], which allocates
/// nothing; [`HwTimeline::new_fence`] makes one outside any job (a
/// dependency, a test). Keep it where the hardware's completion takes it
/// from, not only in the job's own data, which is dropped only once the
/// fence signalled.
///
/// [`RunContext::arm`]: super::RunContext::arm
///
/// # Invariants
///
/// `self.0` is a live shim hardware fence, armed by `dshim_hw_fence_arm()`,
/// and `self` owns one of its counts.
///
/// # Examples
///
/// ```
/// use kernel::drm_sched_shim::HwTimeline;
///
/// let tl = HwTimeline::new(c"doc-hw")?;
/// let hw = tl.new_fence()?;
/// let seen = hw.fence();
/// assert!(seen.is_shim() && seen.result().is_none());
/// hw.signal(Err(EIO)); // consumed: it cannot signal twice
/// assert_eq!(seen.result(), Some(Err(EIO)));
///
/// // Dropped unsignalled, it signals `ECANCELED`.
/// let lost = tl.new_fence()?.fence();
/// assert_eq!(lost.result(), Some(Err(ECANCELED)));
/// # Ok::<(), Error>(())
/// ```
pub struct HwFence(NonNull<bindings::dma_fence>);

// SAFETY: `dshim_hw_fence_signal()` may be called from any thread and any
// context, under the fence's own lock, and so may the last `dma_fence_put()`.
unsafe impl Send for HwFence {}

// SAFETY: `&HwFence` offers only what `&Fence` does, which is `Sync`.
unsafe impl Sync for HwFence {}

impl HwFence {
    /// Takes over the first count of an armed hardware fence.
    ///
    /// # Safety
    ///
    /// `fence` must be a live shim hardware fence armed by
    /// `dshim_hw_fence_arm()` (or made by `dshim_hw_fence_create()`), not
    /// NULL, no other `HwFence` of which exists, and the caller passes one of
    /// its counts.
    unsafe fn from_raw(fence: *mut bindings::dma_fence) -> Self {
        // INVARIANT: guaranteed by the caller.
        // SAFETY: Not NULL, by the caller's guarantee.
        Self(unsafe { NonNull::new_unchecked(fence) })
    }

    /// A new reference to the fence, as a plain [`Fence`]: to export it, to
    /// wait for it, to make it another job's dependency.
    pub fn fence(&self) -> ARef<Fence> {
        ARef::from(&**self)
    }

    /// Signals the fence, consuming the handle: `Ok(())` for success, or
    /// `Err(error)` for an error the fence (and the job's fence after it)
    /// carries.
    ///
    /// # Context
    ///
    /// Any context.
    pub fn signal(self, result: Result) {
        let error = match result {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        };
        // SAFETY: By the type invariant this is a live shim hardware fence;
        // `error` is 0 or a negative errno, from a valid `Error`. It returns
        // `-EALREADY` only for a fence signalled before, which only this
        // handle does, and it is consumed here.
        unsafe { bindings::dshim_hw_fence_signal(self.0.as_ptr(), error) };
        // `drop(self)` sees the fence signalled, and only puts its count.
    }
}

impl core::ops::Deref for HwFence {
    type Target = Fence;

    fn deref(&self) -> &Fence {
        // SAFETY: By the type invariant the fence is live while `self` holds
        // its count; `Fence` is `repr(transparent)` over the C struct.
        unsafe { &*self.0.as_ptr().cast::<Fence>() }
    }
}

impl Drop for HwFence {
    fn drop(&mut self) {
        if !self.is_signaled() {
            // SAFETY: By the type invariant a live shim hardware fence; only
            // this handle signals it, so it is still unsignalled.
            unsafe { bindings::dshim_hw_fence_signal(self.0.as_ptr(), ECANCELED.to_errno()) };
        }
        // SAFETY: By the type invariant `self` owns one count, given up here.
        unsafe { bindings::dma_fence_put(self.0.as_ptr()) };
    }
}
