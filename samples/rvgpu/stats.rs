// SPDX-License-Identifier: GPL-2.0

//! rvgpu's counters, `/sys/kernel/debug/rvgpu/stats`.
//!
//! The same keys as vgpu's, in its `key: value` format: `scripts/e2e-init.sh`
//! and `vgpu-client` read them, and require the live ones (`files`, `queues`,
//! `jobs`, `bos`) back at 0 once everything is closed. The live counters are
//! kept by [`Live`], a field of each counted object, so that every object
//! counts itself out exactly once, whatever path frees it.

use kernel::{
    fmt,
    sync::atomic::{
        Atomic,
        Relaxed, //
    }, //
};

/// One counter.
pub(crate) struct Counter(Atomic<isize>);

impl Counter {
    const fn new() -> Self {
        Self(Atomic::new(0))
    }

    /// Counts one event.
    pub(crate) fn inc(&self) {
        self.0.add(1, Relaxed);
    }

    fn dec(&self) {
        self.0.add(-1, Relaxed);
    }

    fn get(&self) -> isize {
        self.0.load(Relaxed)
    }
}

/// The driver's counters: vgpu's `struct vgpu_stats`.
pub(crate) struct Stats {
    /// Open files.
    pub(crate) files: Counter,
    /// Queues whose memory is not freed yet.
    pub(crate) queues: Counter,
    /// Job data not dropped yet.
    pub(crate) jobs: Counter,
    /// Buffers not freed yet.
    pub(crate) bos: Counter,
    /// Files opened since boot.
    pub(crate) files_opened: Counter,
    /// Queues created since boot.
    pub(crate) queues_created: Counter,
    /// Queues a closing file killed.
    pub(crate) queues_killed: Counter,
    /// Jobs submitted since boot.
    pub(crate) jobs_submitted: Counter,
    /// Jobs put on the hardware (their `run` was called) since boot.
    pub(crate) jobs_run: Counter,
    /// Jobs the timeout failed.
    pub(crate) jobs_timedout: Counter,
    /// Jobs on the hardware that a kill cancelled.
    pub(crate) jobs_cancelled: Counter,
}

impl Stats {
    /// Every counter with its key, in the order vgpu prints them.
    fn counters(&self) -> [(&'static str, &Counter); 11] {
        [
            ("files", &self.files),
            ("queues", &self.queues),
            ("jobs", &self.jobs),
            ("bos", &self.bos),
            ("files_opened", &self.files_opened),
            ("queues_created", &self.queues_created),
            ("queues_killed", &self.queues_killed),
            ("jobs_submitted", &self.jobs_submitted),
            ("jobs_run", &self.jobs_run),
            ("jobs_timedout", &self.jobs_timedout),
            ("jobs_cancelled", &self.jobs_cancelled),
        ]
    }
}

/// The counters. Global, as vgpu's: job data and buffers count themselves
/// out when the shim or the DRM core frees them, with no device at hand.
pub(crate) static STATS: Stats = Stats {
    files: Counter::new(),
    queues: Counter::new(),
    jobs: Counter::new(),
    bos: Counter::new(),
    files_opened: Counter::new(),
    queues_created: Counter::new(),
    queues_killed: Counter::new(),
    jobs_submitted: Counter::new(),
    jobs_run: Counter::new(),
    jobs_timedout: Counter::new(),
    jobs_cancelled: Counter::new(),
};

/// Counts its owner in a live counter from its creation to its drop.
pub(crate) struct Live(&'static Counter);

impl Live {
    /// Counts one more live object in `counter`.
    pub(crate) fn new(counter: &'static Counter) -> Self {
        counter.inc();
        Self(counter)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Shows the counters: the contents of the debugfs file.
pub(crate) fn show(_data: &(), f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // rvgpu has no raw drm_sched back end: always the shim.
    writeln!(f, "mode: shim")?;
    for (key, counter) in STATS.counters() {
        writeln!(f, "{key}: {}", counter.get())?;
    }
    Ok(())
}
