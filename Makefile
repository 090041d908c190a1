# SPDX-License-Identifier: GPL-2.0-only
#
# drm-sched-shim entry points. Each target installs and prepares what is
# missing by itself; see `make help` and README.rst.
#
# This file is for the project's top level only: inside the kernel tree
# the shim is built through Kbuild (drivers/gpu/drm/sched_shim/Kbuild).

SHELL := /bin/bash

# Settings, all optional (make VAR=value target):
#   KERNEL=6.12|7.3|all  the kernels to build and test (default all:
#                  Debian's linux-source-6.12 and linux-source-7.3)
#   KSRC=/path     your own kernel tree (>= 6.12) instead of Debian's
#   DSHIM_CACHE=   cache dir (tree, builds, logs); ~/.cache/drm-sched-shim
#   PASS=c|e2e|amx|rust|rvgpu|smp|kcsan  run one pass of `make check` only
#   SUITES=glob    KUnit suite glob, e.g. SUITES='dshim_fence*'
#   JOBS=n         parallel build jobs (default: number of CPUs)
export KERNEL KSRC DSHIM_CACHE PASS SUITES JOBS

S := scripts

.PHONY: help setup tree check demo bench selftest lint patches clean distclean

help:
	@echo 'drm-sched-shim: an ownership-explicit wrapper around the DRM GPU scheduler'
	@echo
	@echo 'Targets:'
	@echo '  demo       the main command: the 2023 kill loop run by real'
	@echo '             processes against the vgpu driver, raw drm_sched then'
	@echo '             the shim ("e2e: raw ..."); then raw drm_sched teardown'
	@echo '             bugs (KASAN, lockdep, hung task) against the shim in the'
	@echo '             same scenarios, the teardown matrix and a kill storm;'
	@echo '             ends with a table and "demo: raw drm_sched ..."'
	@echo '  check      run every test: log-scanner self-test, the C pass (gcc,'
	@echo '             KASAN, lockdep, debug objects), the e2e pass (uapi'
	@echo '             bad input, 25 s of the kill loop), the amx pass (the'
	@echo '             e2e test on this host made to look like an Intel AMX'
	@echo '             one), the Rust pass (7.3: LLVM, Rust doctests), and on an'
	@echo '             x86-64 guest with 4 vCPUs under QEMU the smp pass'
	@echo '             (suites, torture, kill loop) and the kcsan pass;'
	@echo '             ends with "N passed, M failed"'
	@echo '  bench      the shim against raw drm_sched on the same mock hardware,'
	@echo '             in a kernel without debug options; prints a table'
	@echo '  setup      install missing Debian packages and bindgen-cli'
	@echo '  tree       unpack the kernel tree and overlay the project into it'
	@echo '  selftest   the log scanner self-test only (no kernel)'
	@echo '  lint       checkpatch --strict, kernel-doc, sparse + W=1, rustfmt +'
	@echo '             clippy, ShellCheck, README.rst; then prove each check'
	@echo '             fails on a planted error'
	@echo '  patches    the project as a git format-patch series in build/patches/,'
	@echo '             checkpatch-clean, applied with git am to a pristine'
	@echo '             6.12 tree whose KUnit suites then run'
	@echo '  clean      remove the kernel build dirs and logs (keeps the tree)'
	@echo '  distclean  remove the whole cache (tree, builds, bindgen); with'
	@echo '             KSRC=, also take the overlay out of that tree'
	@echo
	@echo 'Every target runs on both kernels, Linux 6.12 and 7.3 (Debian'"'"'s'
	@echo 'linux-source packages; 7.3 from trixie-backports, fetched into the'
	@echo 'cache), unless KERNEL= picks one.'
	@echo
	@echo 'Variables: KERNEL=6.12|7.3|all, KSRC=/path/to/linux (>= 6.12),'
	@echo '  DSHIM_CACHE=dir, PASS=c|e2e|amx|rust|rvgpu|smp|kcsan, SUITES=glob, JOBS=n'
	@echo "Cache: $${DSHIM_CACHE:-$$HOME/.cache/drm-sched-shim}"

setup:
	@$(S)/setup.sh

tree:
	@$(S)/setup.sh --check || $(S)/setup.sh
	@$(S)/prepare-tree.sh --all

check:
	@$(S)/check.sh

demo:
	@$(S)/demo.sh

bench:
	@$(S)/bench.sh

selftest:
	@$(S)/scan-log-selftest.sh

lint:
	@$(S)/lint.sh
	@$(S)/lint-selftest.sh

patches:
	@$(S)/patches.sh

clean:
	@$(S)/clean.sh

distclean:
	@$(S)/clean.sh --all
