// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine once more, built into the kernel for its KUnit suite
 * (vgpu_hw_test.c) when vgpu itself is a module: the suite runs at boot,
 * like every other suite of the project. The module has its own copy;
 * neither exports the engine's functions, so the two never meet.
 */
#include "vgpu_hw.c"
