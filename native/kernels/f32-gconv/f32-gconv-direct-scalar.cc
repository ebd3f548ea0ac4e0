// The portable flat-grid grouped conv (the scalar and NEON tables): GCC vector extensions, 8
// floats per vector (two SSE or NEON registers in a plain build), the epilogue lane by lane.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "gconv.h"

// A 32-byte vector type passed by value between inline helpers: GCC notes that its ABI would
// differ with AVX enabled; these helpers never cross this file.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace convnode {
namespace {
namespace gconv_portable {

struct PortableVec {
  typedef float vec __attribute__((vector_size(32)));
  static constexpr size_t kLanes = 8;
  static constexpr size_t kRegisters = 8;  // 16 SSE / 32 NEON registers, two per vector (x86-64 baseline)
  static constexpr bool kMasked = false;
  static vec zero() { return vec{}; }
  static vec load(const float* p) {
    vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(float* p, vec v) { std::memcpy(p, &v, sizeof v); }
  static vec broadcast(const float* p) { return vec{} + *p; }
  static vec fma(vec a, vec b, vec c) { return a * b + c; }
  static vec add(vec a, vec b) { return a + b; }
  static vec activate(vec v, const Activation& act) {
    if (act.kind == ActivationKind::None) return v;
    for (size_t i = 0; i < kLanes; i++) v[i] = convnode::activate(v[i], act);
    return v;
  }
};

#include "gconv-flat.inc"

}  // namespace gconv_portable
}  // namespace

void f32_gconv_direct__scalar(const GconvRows& rows) { gconv_portable::gconv_rows<gconv_portable::PortableVec>(rows); }

}  // namespace convnode
