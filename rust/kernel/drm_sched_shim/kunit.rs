// SPDX-License-Identifier: GPL-2.0

//! KUnit suites written in safe Rust, for the shim's Rust tests.
//!
//! Linux 6.12 has no way to register a KUnit suite from Rust: the
//! `#[kunit_tests]` attribute and `kunit_unsafe_test_suite!` arrived in 6.15.
//! [`dshim_kunit_suite!`](crate::dshim_kunit_suite) is a minimal backport of
//! what they generate, so that the shim's Rust mock driver registers its
//! suite without writing `unsafe` itself: a test case is a plain
//! `fn() -> Result`, failed when it returns an error. All the unsafe code
//! (the suite and case tables in `.kunit_test_suites`, the `extern "C"`
//! trampolines, the failure report) lives here, where a reviewer reads it
//! once. On 6.15+ the suite becomes `#[kunit_tests(name)]` mechanically.
//!
//! Why not the alternatives: a C suite calling `#[no_mangle]` Rust
//! functions needs `unsafe`-equivalent attributes in the driver (the
//! `unsafe_code` lint rejects `no_mangle`) and a second language per test;
//! doctests run in the kernel crate's suite, not as a driver would.
//!
//! C header: [`include/kunit/test.h`](srctree/include/kunit/test.h)

use crate::{bindings, error::Result, str::CStr};

/// A test case of a suite registered with
/// [`dshim_kunit_suite!`](crate::dshim_kunit_suite).
#[doc(hidden)]
pub trait Case {
    /// The case's name, as KUnit prints it.
    const NAME: &'static CStr;

    /// Runs the case; an error fails it.
    fn run() -> Result;
}

/// Runs case `C` for KUnit.
///
/// # Safety
///
/// `test` must be the `struct kunit` of the running test: KUnit calls this
/// from the case table built by [`case`].
unsafe extern "C" fn trampoline<C: Case>(test: *mut bindings::kunit) {
    if let Err(e) = C::run() {
        crate::kunit::err(format_args!("    # {}: failed with {:?}\n", C::NAME, e));
        // SAFETY: KUnit passes the running test, which lives for the whole
        // call; this is what the C `kunit_set_failure()` inline does.
        unsafe {
            core::ptr::addr_of_mut!((*test).status)
                .write_volatile(bindings::kunit_status_KUNIT_FAILURE)
        };
    }
}

/// The KUnit case table entry of case `C`.
#[doc(hidden)]
pub const fn case<C: Case>() -> bindings::kunit_case {
    // SAFETY: All-zero is a valid `kunit_case`: NULL pointers, `None`
    // function pointers, `KUNIT_SUCCESS` and `KUNIT_SPEED_UNSET`.
    let mut c: bindings::kunit_case = unsafe { core::mem::zeroed() };
    c.run_case = Some(trampoline::<C>);
    c.name = C::NAME.as_char_ptr();
    c
}

/// The entry that ends a KUnit case table.
#[doc(hidden)]
pub const fn case_null() -> bindings::kunit_case {
    // SAFETY: As in `case`.
    unsafe { core::mem::zeroed() }
}

/// A KUnit suite named `name` running the cases at `cases`.
///
/// # Safety
///
/// `cases` must point to a table of [`case`] entries ended by
/// [`case_null`], valid and used only by KUnit for the rest of the kernel's
/// life (a `static mut`).
#[doc(hidden)]
pub const unsafe fn suite(name: &CStr, cases: *mut bindings::kunit_case) -> bindings::kunit_suite {
    // SAFETY: All-zero is a valid `kunit_suite`, as for `kunit_case`.
    let mut s: bindings::kunit_suite = unsafe { core::mem::zeroed() };
    let bytes = name.as_bytes_with_nul();
    assert!(bytes.len() <= s.name.len(), "KUnit suite name too long");
    let mut i = 0;
    while i < bytes.len() {
        s.name[i] = bytes[i] as _;
        i += 1;
    }
    s.test_cases = cases;
    s
}

/// Registers a KUnit suite of safe test cases, each a `fn() -> Result` in
/// scope, failed when it returns an error.
///
/// A backport of what 6.15's `#[kunit_tests]` generates; see the
/// [module documentation](crate::drm_sched_shim::kunit). Built-in code
/// only: the suite is found by the kernel's KUnit executor in the
/// `.kunit_test_suites` section.
///
/// ```ignore
/// fn adds() -> Result {
///     if 1 + 1 == 2 { Ok(()) } else { Err(EINVAL) }
/// }
///
/// kernel::dshim_kunit_suite!(my_suite, [adds]);
/// ```
#[macro_export]
macro_rules! dshim_kunit_suite {
    ($suite:ident, [$($case:ident),+ $(,)?]) => {
        const _: () = {
            $(
                // A type named after the case (types and functions have
                // separate namespaces) carries it into the generic trampoline.
                #[allow(non_camel_case_types)]
                struct $case {}

                impl $crate::drm_sched_shim::kunit::Case for $case {
                    const NAME: &'static $crate::str::CStr =
                        $crate::c_str!(::core::stringify!($case));

                    fn run() -> $crate::error::Result {
                        $case()
                    }
                }
            )+

            const N: usize = [$(::core::stringify!($case)),+].len();

            static mut CASES: [$crate::bindings::kunit_case; N + 1] = [
                $($crate::drm_sched_shim::kunit::case::<$case>(),)+
                $crate::drm_sched_shim::kunit::case_null(),
            ];

            static mut SUITE: $crate::bindings::kunit_suite =
                // SAFETY: `CASES` is a static table of cases ended by the
                // null case, used by KUnit alone.
                unsafe {
                    $crate::drm_sched_shim::kunit::suite(
                        $crate::c_str!(::core::stringify!($suite)),
                        ::core::ptr::addr_of_mut!(CASES).cast(),
                    )
                };

            // What C's kunit_test_suites() emits: a pointer to the suite in
            // the section the KUnit executor walks at boot.
            #[used]
            #[link_section = ".kunit_test_suites"]
            static mut ENTRY: *const $crate::bindings::kunit_suite =
                ::core::ptr::addr_of!(SUITE);
        };
    };
}
