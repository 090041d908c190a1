// SPDX-License-Identifier: GPL-2.0

//! Fences in and out of the rest of DRM: sync_file fds, syncobj handles and
//! GEM reservation objects.
//!
//! What a submit ioctl does with fences, as safe methods of [`Fence`]: take
//! its in-fences from sync_file fds and syncobj handles of the caller's
//! [`drm::File`], and publish the job's fence as a sync_file fd, in a
//! syncobj, and in the reservation of the buffers it writes. A job's fence
//! references no scheduler, so wherever it goes it may outlive every queue.
//!
//! C headers: [`include/linux/sync_file.h`](srctree/include/linux/sync_file.h),
//! [`include/drm/drm_syncobj.h`](srctree/include/drm/drm_syncobj.h),
//! [`include/linux/dma-resv.h`](srctree/include/linux/dma-resv.h)

use super::Fence;
use crate::{
    bindings,
    drm::{
        self,
        gem::IntoGEMObject, //
    },
    error::to_result,
    fs::{
        file::{
            flags::O_CLOEXEC,
            FileDescriptorReservation, //
        },
        File, //
    },
    prelude::*,
    sync::aref::ARef, //
};
use core::ptr::NonNull;

/// How a fence added to a reservation object is to be waited for
/// (`enum dma_resv_usage`): by writers and readers alike, or by writers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResvUsage {
    /// The job writes the buffer: everyone waits for it.
    Write,
    /// The job reads the buffer: only writers wait for it.
    Read,
    /// Neither: only for the memory manager (`DMA_RESV_USAGE_BOOKKEEP`).
    Bookkeep,
}

impl ResvUsage {
    fn as_raw(self) -> bindings::dma_resv_usage {
        match self {
            Self::Write => bindings::dma_resv_usage_DMA_RESV_USAGE_WRITE,
            Self::Read => bindings::dma_resv_usage_DMA_RESV_USAGE_READ,
            Self::Bookkeep => bindings::dma_resv_usage_DMA_RESV_USAGE_BOOKKEEP,
        }
    }
}

/// A fence as a sync_file, with a file descriptor reserved for it in the
/// calling process, not installed yet.
///
/// Made by [`Fence::export_sync_file`]. An ioctl reserves the fd where it
/// may still fail, and calls [`SyncFileFd::install`] last, when nothing
/// can fail any more: an fd once installed belongs to the process, and an
/// ioctl that fails after that would leak it. Dropped uninstalled, the fd
/// is released and the sync_file freed.
pub struct SyncFileFd {
    fd: FileDescriptorReservation,
    file: ARef<File>,
}

impl SyncFileFd {
    /// The file descriptor number it will have.
    pub fn fd(&self) -> u32 {
        self.fd.reserved_fd()
    }

    /// Installs the sync_file in the process's file table; returns its fd.
    pub fn install(self) -> u32 {
        let fd = self.fd.reserved_fd();
        self.fd.fd_install(self.file);
        fd
    }
}

/// The `struct drm_file` of a [`drm::File`], to look syncobj handles up in:
/// `EOPNOTSUPP` if its driver has no `DRIVER_SYNCOBJ`, whose files have no
/// syncobj table.
fn syncobj_file<F: drm::file::DriverFile>(file: &drm::File<F>) -> Result<*mut bindings::drm_file> {
    // `drm::File<F>` is `repr(transparent)` over `Opaque<drm_file>`.
    let raw = core::ptr::from_ref(file)
        .cast::<bindings::drm_file>()
        .cast_mut();
    // SAFETY: `raw` is an open `drm_file` for as long as `file` is borrowed;
    // its minor and the minor's device outlive it.
    let dev = unsafe { (*(*raw).minor).dev };
    // SAFETY: `dev` is a live DRM device.
    if !unsafe {
        bindings::drm_core_check_feature(dev, bindings::drm_driver_feature_DRIVER_SYNCOBJ)
    } {
        return Err(EOPNOTSUPP);
    }
    Ok(raw)
}

impl Fence {
    /// The fence of a sync_file, by its fd in the calling process: an
    /// in-fence a submit ioctl was given. `EINVAL` if `fd` is not a
    /// sync_file.
    ///
    /// # Context
    ///
    /// Process context (the caller's file table).
    pub fn from_sync_file(fd: i32) -> Result<ARef<Fence>> {
        // SAFETY: Any fd may be passed: it returns NULL unless `fd` is a
        // sync_file of the current task, else a new count of its fence.
        let fence = unsafe { bindings::sync_file_get_fence(fd) };
        let fence = NonNull::new(fence).ok_or(EINVAL)?;
        // SAFETY: A live fence and a count of it, which we own.
        Ok(unsafe { Fence::from_raw(fence) })
    }

    /// The current fence of a syncobj, by its handle in `file`. `ENOENT` if
    /// `file` has no such handle, `EINVAL` if the syncobj has no fence,
    /// `EOPNOTSUPP` if the driver has no syncobjs (`DRIVER_SYNCOBJ`).
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    pub fn from_syncobj<F: drm::file::DriverFile>(
        file: &drm::File<F>,
        handle: u32,
    ) -> Result<ARef<Fence>> {
        let raw = syncobj_file(file)?;
        let mut fence = core::ptr::null_mut();
        // SAFETY: `raw` is an open `drm_file` with a syncobj table for the
        // call; `fence` is writable. Point 0 and no flags: the syncobj's
        // current fence, no wait.
        to_result(unsafe { bindings::drm_syncobj_find_fence(raw, handle, 0, 0, &mut fence) })?;
        let fence = NonNull::new(fence).ok_or(EINVAL)?;
        // SAFETY: On success it gave us a count of a live fence.
        Ok(unsafe { Fence::from_raw(fence) })
    }

    /// A new sync_file holding the fence, with an fd reserved for it in the
    /// calling process; see [`SyncFileFd`].
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    pub fn export_sync_file(&self) -> Result<SyncFileFd> {
        let fd = FileDescriptorReservation::get_unused_fd_flags(O_CLOEXEC)?;
        // SAFETY: By the type invariant the fence is live; the sync_file
        // takes a count of its own.
        let sync_file = unsafe { bindings::sync_file_create(self.as_raw()) };
        if sync_file.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: A new sync_file owns its file, of which we now own the
        // one count: the file frees the sync_file when it goes.
        // `fs::File` is `repr(transparent)` over `struct file`.
        let file = unsafe { ARef::from_raw(NonNull::new_unchecked((*sync_file).file.cast())) };
        Ok(SyncFileFd { fd, file })
    }

    /// Makes the fence the current one of the syncobj `handle` of `file`.
    /// `ENOENT` if there is no such handle, `EOPNOTSUPP` if the driver has
    /// no syncobjs (`DRIVER_SYNCOBJ`).
    ///
    /// # Context
    ///
    /// Process context.
    pub fn replace_in_syncobj<F: drm::file::DriverFile>(
        &self,
        file: &drm::File<F>,
        handle: u32,
    ) -> Result {
        let raw = syncobj_file(file)?;
        // SAFETY: `raw` is an open `drm_file` with a syncobj table for the
        // call. It returns NULL or a new count of the syncobj.
        let syncobj = unsafe { bindings::drm_syncobj_find(raw, handle) };
        if syncobj.is_null() {
            return Err(ENOENT);
        }
        // SAFETY: `syncobj` is live, we own a count; the syncobj takes a
        // count of the live fence.
        unsafe { bindings::drm_syncobj_replace_fence(syncobj, self.as_raw()) };
        // SAFETY: We give up the count `drm_syncobj_find()` gave us.
        unsafe { bindings::drm_syncobj_put(syncobj) };
        Ok(())
    }

    /// Adds the fence to the reservation object of a GEM object, for
    /// `usage`: the implicit synchronisation of buffers shared with other
    /// devices and processes.
    ///
    /// `EINVAL` for a container fence (a merged sync_file's array, a
    /// timeline syncobj's chain), which a reservation object cannot hold
    /// (`dma_resv_add_fence()` warns); a job's fence never is one.
    ///
    /// # Context
    ///
    /// Process context; sleeps (takes the reservation lock and may allocate
    /// a slot for the fence).
    pub fn add_to_resv<O: IntoGEMObject>(&self, obj: &O, usage: ResvUsage) -> Result {
        // SAFETY: By the type invariant the fence is live.
        if unsafe { bindings::dma_fence_is_container(self.as_raw()) } {
            return Err(EINVAL);
        }
        // SAFETY: `obj` is a live GEM object for the call; its `resv` points
        // to its reservation object (its own or a shared one) for as long
        // as it lives.
        let resv = unsafe { (*obj.as_raw()).resv };
        // SAFETY: `resv` is live; without an acquire context the lock only
        // fails for a deadlock it cannot have, as the one lock we take.
        to_result(unsafe { bindings::dma_resv_lock(resv, core::ptr::null_mut()) })?;
        // SAFETY: We hold the lock of a live `resv`.
        let ret = to_result(unsafe { bindings::dma_resv_reserve_fences(resv, 1) });
        if ret.is_ok() {
            // SAFETY: We hold the lock and reserved a slot; the fence is live
            // and the reservation takes a count of its own.
            unsafe { bindings::dma_resv_add_fence(resv, self.as_raw(), usage.as_raw()) };
        }
        // SAFETY: We hold the lock, taken above.
        unsafe { bindings::dma_resv_unlock(resv) };
        ret
    }
}
