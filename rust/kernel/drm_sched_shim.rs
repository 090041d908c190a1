// SPDX-License-Identifier: GPL-2.0

//! DRM scheduler shim: an ownership-explicit wrapper around `drm_sched`.
//!
//! The shim wraps `drm_sched` so that every object (scheduler, entity,
//! queue, job, fence, timeline) is reached through a counted reference and
//! teardown never depends on the order in which references are dropped.
//! Its functions are reachable as `kernel::bindings::dshim_*`; the safe
//! Rust abstraction over them lives here once it exists.
//!
//! C header: [`include/drm/drm_sched_shim.h`](srctree/include/drm/drm_sched_shim.h)
//!
//! # Examples
//!
//! A timeline (a fence context and a name) through the raw bindings: it is
//! counted by the shim's live-object statistics while a reference exists.
//!
//! ```
//! use kernel::{bindings, c_str, error::from_err_ptr, prelude::*};
//!
//! fn live_timelines() -> u64 {
//!     let mut stats = bindings::dshim_stats::default();
//!     // SAFETY: `stats` is a valid, writable `struct dshim_stats`.
//!     unsafe { bindings::dshim_stats_read(&mut stats) };
//!     stats.timelines
//! }
//!
//! let before = live_timelines();
//! let name = c_str!("rust-doctest");
//! // SAFETY: `name` is a NUL-terminated string; the shim copies it.
//! let tl = from_err_ptr(unsafe { bindings::dshim_timeline_create(name.as_char_ptr()) })?;
//! assert!(!tl.is_null());
//! assert_eq!(live_timelines(), before + 1);
//!
//! // SAFETY: `tl` is a live timeline: we own the reference returned above.
//! let tl_name = unsafe { CStr::from_char_ptr(bindings::dshim_timeline_name(tl)) };
//! assert_eq!(tl_name.as_bytes(), name.as_bytes());
//! // SAFETY: as above.
//! let _context: u64 = unsafe { bindings::dshim_timeline_context(tl) };
//!
//! // SAFETY: drops the reference returned by `dshim_timeline_create()`;
//! // `tl` is not used afterwards.
//! unsafe { bindings::dshim_timeline_put(tl) };
//! # Ok::<(), Error>(())
//! ```
