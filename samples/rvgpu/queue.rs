// SPDX-License-Identifier: GPL-2.0

//! rvgpu's queues, the twin of `samples/vgpu/vgpu_queue.c`: each is a shim
//! queue (a scheduler of its own) and an engine (its hardware).
//!
//! A queue is counted: the file's table holds one reference and every
//! submit in flight one more, so a concurrent destroy never frees a queue
//! under a submit. The last reference kills the shim queue and returns at
//! once.

use kernel::{
    drm::Registered,
    drm_sched_shim::{
        Fence,
        Queue,
        SchedulerOptions, //
    },
    prelude::*,
    str::CString,
    sync::{
        aref::ARef,
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc, //
    },
    uapi, //
};

use crate::{
    driver::{
        RvgpuDevice,
        CREDIT_LIMIT, //
    },
    engine::Engine,
    file::DrmFile,
    job::RvgpuJob,
    stats::{
        Live,
        STATS, //
    }, //
};

/// Numbers queue names; never reused. A `u32`, so that the longest name
/// fits the shim's 31 characters.
static QUEUE_SEQ: Atomic<u32> = Atomic::new(1);

/// A userspace queue.
///
/// Dropped when the process closes it or dies: its `queue` field, the shim
/// queue's only handle, then kills the queue and returns, as a real driver
/// does. Jobs not on the hardware yet fail with `ECANCELED`, jobs on it are
/// cancelled (or, with rvgpu.cancel=0, run to completion); nothing waits
/// for them, and their fences stay valid.
pub(crate) struct RvgpuQueue {
    queue: ARef<Queue<RvgpuJob>>,
    engine: Arc<Engine>,
    /// Counts the queue in `queues` until it is freed.
    _live: Live,
}

impl RvgpuQueue {
    /// A new queue, named after the calling process.
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    fn new() -> Result<Arc<Self>> {
        let tgid = current!().tgid();
        let seq = QUEUE_SEQ.fetch_add(1, Relaxed);
        // Unique for the boot: sync files and dma_buf/bufinfo show it.
        let name = CString::try_from_fmt(fmt!("rvgpu-{tgid}-q{seq}"))?;
        let engine = Engine::new(&name, CREDIT_LIMIT as usize, crate::cancel())?;
        let opts = SchedulerOptions {
            timeout_ms: crate::timeout_ms(),
            ..SchedulerOptions::new(&name, CREDIT_LIMIT)
        };
        let queue = Queue::new(&opts, ())?;
        Ok(Arc::new(
            Self {
                queue,
                engine,
                _live: Live::new(&STATS.queues),
            },
            GFP_KERNEL,
        )?)
    }

    /// Creates and submits a job that waits for `deps`; returns its fence.
    ///
    /// # Context
    ///
    /// Process context; may sleep.
    pub(crate) fn submit(
        &self,
        duration_us: u32,
        hang: bool,
        deps: KVec<ARef<Fence>>,
    ) -> Result<ARef<Fence>> {
        let mut job = self
            .queue
            .new_job(1, RvgpuJob::new(&self.engine, duration_us, hang)?)?;
        for dep in deps {
            job.add_dependency(dep)?;
        }
        job.ready().submit()
    }
}

/// `DRM_IOCTL_VGPU_QUEUE_CREATE`: `EINVAL` for unknown flags, `ENOSPC` if
/// the file has `MAX_QUEUES` queues, `ENOMEM`.
pub(crate) fn create_ioctl(
    _dev: &RvgpuDevice<Registered>,
    _reg: &(),
    args: &mut uapi::drm_vgpu_queue_create,
    file: &DrmFile,
) -> Result<u32> {
    if args.flags != 0 {
        return Err(EINVAL);
    }
    // Created first, as vgpu does: on ENOSPC it is killed again at once.
    let id = file.inner().add_queue(RvgpuQueue::new()?)?;
    STATS.queues_created.inc();
    args.queue_id = id;
    Ok(0)
}

/// `DRM_IOCTL_VGPU_QUEUE_DESTROY`: `EINVAL` for unknown flags, `ENOENT` for
/// an unknown queue. Returns at once.
pub(crate) fn destroy_ioctl(
    _dev: &RvgpuDevice<Registered>,
    _reg: &(),
    args: &mut uapi::drm_vgpu_queue_destroy,
    file: &DrmFile,
) -> Result<u32> {
    if args.flags != 0 {
        return Err(EINVAL);
    }
    let queue = file.inner().remove_queue(args.queue_id).ok_or(ENOENT)?;
    // The last reference unless a submit on it is in flight.
    drop(queue);
    Ok(0)
}
