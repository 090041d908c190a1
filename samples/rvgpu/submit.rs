// SPDX-License-Identifier: GPL-2.0

//! `DRM_IOCTL_VGPU_SUBMIT`, the twin of `samples/vgpu/vgpu_submit.c`:
//! in-fences, the job, out-fences.
//!
//! Everything userspace passes is checked before the job is created, in
//! vgpu's order and with vgpu's errors ("uapi validation" in
//! `vgpu_submit.c`):
//!
//! - unknown flags: `EINVAL`;
//! - counts above `MAX_IN_FENCES`: `E2BIG`; a duration above
//!   `MAX_DURATION_US`: `EINVAL`;
//! - an unknown queue, buffer or out-syncobj: `ENOENT`;
//! - then each in-syncobj, then each in-sync-file, in array order: an
//!   unreadable entry `EFAULT`, an unknown syncobj `ENOENT`, a syncobj
//!   without a fence `EINVAL`, an fd that is not an open sync_file `EBADF`.
//!
//! What a check took is dropped on its own when a later one fails, so a
//! failed submit leaves no job, fence or queue reference behind.
//!
//! vgpu's first check, of the struct's size, is not here: see
//! `driver.rs`. And where vgpu reserves the out-sync-file's fd and the
//! buffer's reservation slot before it submits, the shim's API does both
//! with the job's fence, after: those steps' errors (`EMFILE`, `ENOMEM`)
//! come once the job is submitted, which then runs anyway, as vgpu's job
//! does when its sync_file cannot be created.

use kernel::{
    drm::{
        gem::BaseObject,
        Registered, //
    },
    drm_sched_shim::{
        Fence,
        ResvUsage, //
    },
    prelude::*,
    sync::aref::ARef,
    transmute::FromBytes,
    uaccess::UserSlice,
    uapi, //
};

use crate::{
    driver::{
        RvgpuDevice,
        MAX_DURATION_US,
        MAX_IN_FENCES, //
    },
    file::DrmFile,
    gem::Bo,
    stats::STATS, //
};

/// Fails with `ENOENT` if `file` has no syncobj `handle`, before anything is
/// created, as vgpu's lookup of its out-syncobj does.
///
/// The handle may still go before the job's fence is put in it: then the
/// submit returns `ENOENT` after all, with the job submitted.
fn check_syncobj(file: &DrmFile, handle: u32) -> Result {
    match Fence::from_syncobj(file, handle) {
        // There is one, with a fence or without.
        Ok(_) => Ok(()),
        Err(e) if e == EINVAL => Ok(()),
        // No such handle (`ENOENT`), or no syncobjs at all.
        Err(e) => Err(e),
    }
}

/// Appends to `deps` the fence `lookup` gives for each of the `count`
/// entries of type `E` of the user array at `addr`.
///
/// The entries are read one at a time, each looked up before the next is
/// read, as vgpu does with `get_user()`: the first bad entry decides the
/// error.
fn push_in_fences<E: FromBytes>(
    deps: &mut KVec<ARef<Fence>>,
    addr: u64,
    count: u32,
    lookup: impl Fn(E) -> Result<ARef<Fence>>,
) -> Result {
    let count = count as usize;
    let mut entries =
        UserSlice::new(UserPtr::from_addr(addr as usize), count * size_of::<E>()).reader();
    for _ in 0..count {
        deps.push(lookup(entries.read()?)?, GFP_KERNEL)?;
    }
    Ok(())
}

/// The job's dependencies: the fences of the in-syncobjs, then of the
/// in-sync-files.
fn in_fences(file: &DrmFile, args: &uapi::drm_vgpu_submit) -> Result<KVec<ARef<Fence>>> {
    let mut deps = KVec::with_capacity(
        args.num_in_syncobjs as usize + args.num_in_sync_files as usize,
        GFP_KERNEL,
    )?;
    push_in_fences(
        &mut deps,
        args.in_syncobjs,
        args.num_in_syncobjs,
        |handle: u32| Fence::from_syncobj(file, handle),
    )?;
    push_in_fences(
        &mut deps,
        args.in_sync_files,
        args.num_in_sync_files,
        |fd: i32| {
            // The shim says `EINVAL` for any fd that is not an open sync_file
            // (-1, closed, another kind of file); vgpu's uapi says `EBADF`.
            Fence::from_sync_file(fd).map_err(|_| EBADF)
        },
    )?;
    Ok(deps)
}

/// `DRM_IOCTL_VGPU_SUBMIT`; see the module's documentation for the errors.
pub(crate) fn submit_ioctl(
    _dev: &RvgpuDevice<Registered>,
    _reg: &(),
    args: &mut uapi::drm_vgpu_submit,
    file: &DrmFile,
) -> Result<u32> {
    // Also on failure: the DRM core copies the struct back whatever the
    // ioctl returns.
    args.out_sync_file = -1;
    if (args.flags & !uapi::DRM_VGPU_SUBMIT_FLAGS) != 0 {
        return Err(EINVAL);
    }
    if args.num_in_syncobjs > MAX_IN_FENCES || args.num_in_sync_files > MAX_IN_FENCES {
        return Err(E2BIG);
    }
    // Checked also with `DRM_VGPU_SUBMIT_HANG`, which does not use it.
    if args.duration_us > MAX_DURATION_US {
        return Err(EINVAL);
    }
    let hang = (args.flags & uapi::DRM_VGPU_SUBMIT_HANG) != 0;

    let queue = file.inner().queue(args.queue_id).ok_or(ENOENT)?;
    let bo = match args.bo_handle {
        0 => None,
        handle => Some(Bo::lookup_handle(file, handle)?),
    };
    if args.out_syncobj != 0 {
        check_syncobj(file, args.out_syncobj)?;
    }
    let deps = in_fences(file, args)?;

    let fence = queue.submit(args.duration_us, hang, deps)?;
    STATS.jobs_submitted.inc();

    // The job is submitted: it runs whatever fails from here on. Each
    // out-fence is published if it can be, and the first error returned.
    let mut published: Result = Ok(());
    if let Some(bo) = &bo {
        published = published.and(fence.add_to_resv(&**bo, ResvUsage::Write));
    }
    if args.out_syncobj != 0 {
        published = published.and(fence.replace_in_syncobj(file, args.out_syncobj));
    }
    published?;
    if (args.flags & uapi::DRM_VGPU_SUBMIT_OUT_SYNC_FILE) != 0 {
        let sync_file = fence.export_sync_file()?;
        let fd = i32::try_from(sync_file.fd())?;
        // Last: an installed fd is the process's, and an ioctl failing after
        // it would leak it.
        sync_file.install();
        args.out_sync_file = fd;
    }
    Ok(0)
}
