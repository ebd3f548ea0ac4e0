// The channels-in-lanes grouped conv (gconv.h, GconvLanes), portable (the scalar, NEON and wasm
// tables): one float per "vector", so a pixel's 16 channels are 16 accumulators and a step is
// one pixel; the transpose is the identity.
#include <algorithm>
#include <cstddef>

#include "gconv.h"

namespace convnode {
namespace {
namespace gconv_lanes_portable {

struct ScalarLanes {
  using vec = float;
  static constexpr size_t kLanes = 1;
  static constexpr size_t kPixels = 1;
  static vec zero() { return 0.0f; }
  static vec load(const float* p) { return *p; }
  static void store(float* p, vec v) { *p = v; }
  static vec broadcast(const float* p) { return *p; }
  static vec fma(vec a, vec b, vec c) { return a * b + c; }
  static vec add(vec a, vec b) { return a + b; }
  static vec activate(vec v, const Activation& act) { return convnode::activate(v, act); }
  static void transpose(vec*) {}
  static vec load_first(const float* p, size_t) { return *p; }
  static void store_first(float* p, vec v, size_t) { *p = v; }
};

#include "gconv-lanes.inc"

}  // namespace gconv_lanes_portable
}  // namespace

void f32_gconv_lanes__scalar(const GconvLanes& g) { gconv_lanes_portable::gconv_lanes<gconv_lanes_portable::ScalarLanes>(g); }

}  // namespace convnode
