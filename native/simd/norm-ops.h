// Vector operations for the row / column kernels (f32-layernorm, f32-softmax) beyond those the
// activation math uses: loads and stores, max, sqrt, exp, and reductions across a vector. Each
// ISA's struct is named after it (its out-of-line copies then carry the ISA in their symbols,
// scripts/check-x64-isa.mjs), and each ISA derives its own width-1 struct for tails. Include the
// ISA's part only from files built with its flags: CONVNODE_NORM_OPS_AVX2 / _AVX512 / _NEON.
#pragma once
#include <cmath>
#include <cstddef>

namespace convnode {
namespace {

// The width-1 operations: the scalar kernel, and every vector kernel's tail columns (each ISA
// derives its own named copy).
struct scalar_norm_ops {
  using V = float;
  static constexpr size_t width = 1;
  static inline V load(const float* p) { return *p; }
  static inline void store(float* p, V v) { *p = v; }
  static inline V splat(float v) { return v; }
  static inline V add(V a, V b) { return a + b; }
  static inline V sub(V a, V b) { return a - b; }
  static inline V mul(V a, V b) { return a * b; }
  static inline V div(V a, V b) { return a / b; }
  static inline V fmadd(V a, V b, V c) { return a * b + c; }
  static inline V max(V a, V b) { return a > b ? a : b; }
  static inline V sqrt(V a) { return std::sqrt(a); }
  static inline V exp(V a) { return std::exp(a); }
  static inline float reduce_add(V v) { return v; }
  static inline float reduce_max(V v) { return v; }
};

}  // namespace
}  // namespace convnode

#if defined(CONVNODE_NORM_OPS_AVX2)
#include "avx2-math.h"
namespace convnode {
namespace {
struct avx2_norm_ops : avx2_ops {
  static constexpr size_t width = 8;
  static inline V load(const float* p) { return _mm256_loadu_ps(p); }
  static inline void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static inline V max(V a, V b) { return _mm256_max_ps(a, b); }
  static inline V sqrt(V a) { return _mm256_sqrt_ps(a); }
  static inline V exp(V a) { return vmath::exp<avx2_ops>(a); }
  static inline float reduce_add(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
  static inline float reduce_max(V v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
  }
};
struct avx2_norm_tail_ops : scalar_norm_ops {};
}  // namespace
}  // namespace convnode
#endif

#if defined(CONVNODE_NORM_OPS_AVX512)
#include "avx512-math.h"
namespace convnode {
namespace {
struct avx512_norm_ops : avx512_ops {
  static constexpr size_t width = 16;
  static inline V load(const float* p) { return _mm512_loadu_ps(p); }
  static inline void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static inline V max(V a, V b) { return _mm512_max_ps(a, b); }
  static inline V sqrt(V a) { return _mm512_sqrt_ps(a); }
  static inline V exp(V a) { return vmath::exp<avx512_ops>(a); }
  static inline float reduce_add(V v) { return _mm512_reduce_add_ps(v); }
  static inline float reduce_max(V v) { return _mm512_reduce_max_ps(v); }
};
struct avx512_norm_tail_ops : scalar_norm_ops {};
}  // namespace
}  // namespace convnode
#endif

#if defined(CONVNODE_NORM_OPS_NEON)
#include "neon-math.h"
namespace convnode {
namespace {
struct neon_norm_ops : neon_ops {
  static constexpr size_t width = 4;
  static inline V load(const float* p) { return vld1q_f32(p); }
  static inline void store(float* p, V v) { vst1q_f32(p, v); }
  static inline V max(V a, V b) { return vmaxq_f32(a, b); }
  static inline V sqrt(V a) { return vsqrtq_f32(a); }
  static inline V exp(V a) { return vmath::exp<neon_ops>(a); }
  static inline float reduce_add(V v) { return vaddvq_f32(v); }
  static inline float reduce_max(V v) { return vmaxvq_f32(v); }
};
struct neon_norm_tail_ops : scalar_norm_ops {};
}  // namespace
}  // namespace convnode
#endif
