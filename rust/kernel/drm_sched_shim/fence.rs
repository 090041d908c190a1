// SPDX-License-Identifier: GPL-2.0

//! Fences: [`Fence`] for any `dma_fence`, and the hardware-fence helper
//! ([`HwTimeline`], [`HwFenceSlot`], [`HwFence`]) so that drivers never
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
/// hw.signal(Err(ECANCELED))?;
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
    /// Takes over a reference to a `dma_fence`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live `dma_fence` and the caller must own one of
    /// its counts, which passes to the returned [`ARef`].
    pub(crate) unsafe fn from_raw(ptr: NonNull<bindings::dma_fence>) -> ARef<Self> {
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
        let jiffies = crate::time::msecs_to_jiffies(timeout_ms);
        // The kernel's `long`, whatever its width: no truncation.
        let timeout = jiffies
            .try_into()
            .unwrap_or(crate::task::MAX_SCHEDULE_TIMEOUT);
        // SAFETY: By the type invariant the fence is live; we may sleep.
        let ret = unsafe { bindings::dma_fence_wait_timeout(self.as_raw(), false, timeout) };
        match ret {
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
/// a.signal(Ok(()))?;
/// b.signal(Ok(()))?;
/// // Once dropped, the timeline lives on in its fences only.
/// drop(tl);
/// assert!(a.is_signaled() && b.is_signaled());
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

    /// Creates the next hardware fence of the timeline: [`HwFenceSlot::new`] and
    /// [`HwFenceSlot::arm`] at once.
    ///
    /// Fences of one timeline must be signalled in the order they were
    /// created, as for any `dma_fence` context.
    ///
    /// # Context
    ///
    /// Process context; may sleep (a `GFP_KERNEL` allocation). Never in
    /// [`JobOps::run`](super::JobOps::run): arm a fence allocated earlier.
    pub fn new_fence(&self) -> Result<ARef<HwFence>> {
        // SAFETY: By the type invariant the timeline is live.
        let f = from_err_ptr(unsafe { bindings::dshim_hw_fence_create(self.0.get()) })?;
        // INVARIANT: the shim made a hardware fence and returned its first
        // count, which passes to the `ARef`.
        // SAFETY: `f` is not NULL on success, and `HwFence` is
        // `repr(transparent)` over `Fence`, itself over the C struct.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(f.cast())) })
    }
}

/// A hardware fence allocated ahead, until it is armed where nothing may
/// allocate.
///
/// [`JobOps::run`](super::JobOps::run) is a fence signalling path: the job's
/// fence is published already and memory reclaim may wait for it, so `run`
/// must not allocate (the shim annotates it, and lockdep reports an
/// allocation there). Create the slot with the job, keep it in the job's
/// data, and arm it in `run`: [`HwFenceSlot::arm`] takes `&self`, as `run`
/// does, and hands the fence out once. A slot dropped unarmed (the job never
/// ran) frees its fence.
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
///
/// # Examples
///
/// ```
/// use kernel::drm_sched_shim::{HwFenceSlot, HwTimeline};
///
/// let tl = HwTimeline::new(c"doc-arm")?;
/// let first = HwFenceSlot::new()?; // where the driver may sleep
/// let second = HwFenceSlot::new()?;
/// let unused = HwFenceSlot::new()?;
/// // Numbered in the order they are armed (in `run`), not allocated.
/// let b = second.arm(&tl)?;
/// let a = first.arm(&tl)?;
/// assert!(a.context() == b.context() && a.seqno() > b.seqno());
/// // A slot hands its fence out once.
/// assert_eq!(first.arm(&tl).map(|_| ()), Err(EALREADY));
/// drop(unused); // never armed: freed
/// b.signal(Ok(()))?;
/// a.signal(Ok(()))?;
/// # Ok::<(), Error>(())
/// ```
pub struct HwFenceSlot(AtomicPtr<bindings::dshim_hw_fence>);

impl HwFenceSlot {
    /// Allocates a hardware fence.
    ///
    /// # Context
    ///
    /// Process context; may sleep (a `GFP_KERNEL` allocation).
    pub fn new() -> Result<Self> {
        // SAFETY: No preconditions (it may sleep, as `# Context` says).
        let f = from_err_ptr(unsafe { bindings::dshim_hw_fence_alloc() })?;
        // INVARIANT: on success the shim returned an unarmed fence, ours.
        Ok(Self(AtomicPtr::new(f)))
    }

    /// Arms the fence as the next one of `timeline` and returns it.
    ///
    /// Allocates nothing, so it may be called in
    /// [`JobOps::run`](super::JobOps::run). Fences of one timeline must be
    /// signalled in the order they were armed. Returns `Err(EALREADY)` if
    /// the slot's fence was armed before.
    ///
    /// # Context
    ///
    /// Any context.
    pub fn arm(&self, timeline: &HwTimeline) -> Result<ARef<HwFence>> {
        // INVARIANT: the slot gives the fence up: NULL from now on.
        let f = self.0.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if f.is_null() {
            return Err(EALREADY);
        }
        // SAFETY: By the type invariant `f` is an unarmed fence that was the
        // slot's and is now ours; the call consumes it. The timeline is live.
        // Neither is NULL or an error pointer, so the shim arms the fence.
        let fence = unsafe { bindings::dshim_hw_fence_arm(f, timeline.0.get()) };
        // INVARIANT: the shim armed a hardware fence and returned its first
        // count, which passes to the `ARef`.
        // SAFETY: `fence` is the armed fence, not NULL, and `HwFence` is
        // `repr(transparent)` over `Fence`, itself over the C struct.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(fence.cast())) })
    }

    /// Whether the slot's fence was armed (and handed out).
    pub fn is_armed(&self) -> bool {
        self.0.load(Ordering::Acquire).is_null()
    }
}

impl Drop for HwFenceSlot {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the pointer is NULL, which the shim
        // ignores, or an unarmed fence of ours.
        unsafe { bindings::dshim_hw_fence_free(*self.0.get_mut()) };
    }
}

/// A hardware fence, which the driver signals when the hardware is done.
///
/// Returned (as a [`Fence`], see [`HwFence::fence`]) from
/// [`JobOps::run`](super::JobOps::run); it holds a count of its
/// [`HwTimeline`] and nothing else.
///
/// # Invariants
///
/// The fence is a live shim hardware fence, armed by `dshim_hw_fence_arm()`.
///
/// # Examples
///
/// ```
/// use kernel::drm_sched_shim::HwTimeline;
///
/// let hw = HwTimeline::new(c"doc-hw")?.new_fence()?;
/// hw.signal(Ok(()))?;
/// assert_eq!(hw.result().map(|r| r.is_ok()), Some(true));
/// // A second signal is refused, and changes nothing.
/// assert_eq!(hw.signal(Err(EIO)), Err(EALREADY));
/// assert_eq!(hw.result().map(|r| r.is_ok()), Some(true));
/// # Ok::<(), Error>(())
/// ```
#[repr(transparent)]
pub struct HwFence(Fence);

// SAFETY: As for `Fence`; `dshim_hw_fence_signal()` may be called from any
// context, under the fence's own lock.
unsafe impl Send for HwFence {}

// SAFETY: As for `Fence`.
unsafe impl Sync for HwFence {}

// SAFETY: As for `Fence`: the same `dma_fence` count.
unsafe impl AlwaysRefCounted for HwFence {
    fn inc_ref(&self) {
        self.0.inc_ref();
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: `HwFence` is `repr(transparent)` over `Fence`; the caller
        // gives up its count.
        unsafe { Fence::dec_ref(obj.cast()) };
    }
}

impl core::ops::Deref for HwFence {
    type Target = Fence;

    fn deref(&self) -> &Fence {
        &self.0
    }
}

impl HwFence {
    /// A new reference to the same fence, as a plain [`Fence`]: what
    /// [`JobOps::run`](super::JobOps::run) returns.
    pub fn fence(&self) -> ARef<Fence> {
        ARef::from(&self.0)
    }

    /// Signals the fence: `Ok(())` for success, or `Err(error)` for an error
    /// the fence (and the job's fence after it) carries.
    ///
    /// Returns `Err(EALREADY)` if the fence had already signalled.
    ///
    /// # Context
    ///
    /// Any context.
    pub fn signal(&self, result: Result) -> Result {
        let error = match result {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        };
        // SAFETY: By the type invariant this is a live shim hardware fence;
        // `error` is 0 or a negative errno, from a valid `Error`.
        to_result(unsafe { bindings::dshim_hw_fence_signal(self.as_raw(), error) })
    }
}
