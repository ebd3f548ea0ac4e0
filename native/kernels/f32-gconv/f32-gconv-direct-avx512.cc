// The flat-grid grouped conv, AVX-512 F/BW/DQ/VL (built with the AVX-512 flags): one zmm per 16
// grid pixels, 32 registers (8 channels x 3 vectors, 4 x 4 accumulators per step), row ends and
// the plane's last pixels stored through k-register masks (fault-free, no scalar tails).
// Zen 4 runs a zmm FMA as two 256-bit halves, so its peak equals AVX2's; zmm halves the
// instructions per FMA (the weight broadcasts and loads), and doubles the FMAs per cycle on
// CPUs with full-width AVX-512.
// GCC 12 warns of uninitialised values inside avx512fintrin.h (see dwconv-avx512.inc).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "../../simd/avx512-epilogue.h"

#include <algorithm>
#include <cstddef>

#include "gconv.h"

namespace convnode {
namespace {
namespace gconv_avx512 {

struct Avx512Vec {
  using vec = __m512;
  using mask_t = __mmask16;
  static constexpr size_t kLanes = 16;
  static constexpr size_t kRegisters = 32;
  static constexpr bool kMasked = true;
  static vec zero() { return _mm512_setzero_ps(); }
  static vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, vec v) { _mm512_storeu_ps(p, v); }
  static vec broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static vec fma(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
  static vec add(vec a, vec b) { return _mm512_add_ps(a, b); }
  static vec activate(vec v, const Activation& act) { return avx512_activate(v, act); }
  static mask_t lanes(size_t count, size_t first) { return static_cast<mask_t>(avx512_lanes_mask(count) << first); }
  static vec mask_load(vec v, mask_t m, const float* p) { return _mm512_mask_loadu_ps(v, m, p); }
  static void mask_store(float* p, mask_t m, vec v) { _mm512_mask_storeu_ps(p, m, v); }
};

#include "gconv-flat.inc"

}  // namespace gconv_avx512
}  // namespace

void f32_gconv_direct__avx512(const GconvRows& rows) { gconv_avx512::gconv_rows<gconv_avx512::Avx512Vec>(rows); }

}  // namespace convnode

#pragma GCC diagnostic pop
