# The standalone kernel test's sources (CMakeLists.txt's convnode_kernels_test; the zig prebuilds
# read this list too, scripts/prebuild-sources.mjs): main, the shared helpers, then one file of
# checks per kernel family. A new family's checks: a new <family>_checks.cc here.
set(CONVNODE_KERNELS_TEST_SOURCES
  native/tests/kernels_test.cc
  native/tests/kernels_test_support.cc
  native/tests/kernel_lists_checks.cc
  native/tests/conv_checks.cc
  native/tests/winograd_checks.cc
  native/tests/dwconv_checks.cc
  native/tests/pool_checks.cc
  native/tests/gemm_checks.cc
  native/tests/elementwise_checks.cc
  native/tests/normalize_checks.cc
  native/tests/resize_checks.cc
  native/tests/thread_pool_checks.cc
  native/tests/col2im_checks.cc
)
