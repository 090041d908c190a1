// SPDX-License-Identifier: GPL-2.0

//! Per open file: its queues by id.

use kernel::{
    drm,
    new_spinlock,
    prelude::*,
    sync::{
        Arc,
        SpinLock, //
    }, //
};

use crate::{
    driver::{
        RvgpuDevice,
        RvgpuDriver,
        MAX_QUEUES, //
    },
    queue::RvgpuQueue,
    stats::{
        Live,
        STATS, //
    }, //
};

/// An open file of the render node, as the ioctls get it.
pub(crate) type DrmFile = drm::File<RvgpuFile>;

/// A file's queues: slot `i` holds queue `i + 1` (ids are never 0).
///
/// Not an `XArray` as in vgpu: 7.3's has no `xa_alloc()`, and emulating it
/// (find a free index, then store) is racy, since its store may drop the
/// lock to allocate. `MAX_QUEUES` slots are small and need no allocation.
struct QueueTable([Option<Arc<RvgpuQueue>>; MAX_QUEUES as usize]);

impl QueueTable {
    fn new() -> Self {
        Self([const { None }; MAX_QUEUES as usize])
    }
}

impl Drop for QueueTable {
    /// The file is closing, maybe because its process was killed: every
    /// queue goes, and nothing waits for their jobs.
    fn drop(&mut self) {
        for queue in self.0.iter_mut().filter_map(Option::take) {
            STATS.queues_killed.inc();
            drop(queue);
        }
    }
}

/// The driver's data of an open file.
#[pin_data]
pub(crate) struct RvgpuFile {
    /// Declared first: its queues go before the file stops counting.
    #[pin]
    queues: SpinLock<QueueTable>,
    /// Counts the file in `files` until it is closed.
    _live: Live,
}

impl drm::file::DriverFile for RvgpuFile {
    type Driver = RvgpuDriver;

    fn open(_dev: &RvgpuDevice) -> Result<Pin<KBox<Self>>> {
        let file = KBox::try_pin_init(
            try_pin_init!(Self {
                queues <- new_spinlock!(QueueTable::new()),
                _live: Live::new(&STATS.files),
            }),
            GFP_KERNEL,
        )?;
        STATS.files_opened.inc();
        Ok(file)
    }
}

impl RvgpuFile {
    /// The table slot of queue `id`, if `id` can be a queue's.
    fn slot(id: u32) -> Option<usize> {
        (id as usize).checked_sub(1)
    }

    /// A new reference to the queue `id`, if the file has one.
    pub(crate) fn queue(&self, id: u32) -> Option<Arc<RvgpuQueue>> {
        let slot = Self::slot(id)?;
        self.queues.lock().0.get(slot).cloned().flatten()
    }

    /// Adds `queue` with the lowest free id, as `xa_alloc()` does for vgpu,
    /// and returns the id; `ENOSPC` if the file has `MAX_QUEUES` queues
    /// (`queue` is then dropped, after the lock: the queue is killed).
    pub(crate) fn add_queue(&self, queue: Arc<RvgpuQueue>) -> Result<u32> {
        let mut table = self.queues.lock();
        let (index, slot) = table
            .0
            .iter_mut()
            .enumerate()
            .find(|(_, slot)| slot.is_none())
            .ok_or(ENOSPC)?;
        *slot = Some(queue);
        // `index` is below `MAX_QUEUES`: no truncation, no overflow.
        Ok(index as u32 + 1)
    }

    /// Takes the queue `id` out of the file, if it has one.
    pub(crate) fn remove_queue(&self, id: u32) -> Option<Arc<RvgpuQueue>> {
        let slot = Self::slot(id)?;
        self.queues.lock().0.get_mut(slot)?.take()
    }
}
