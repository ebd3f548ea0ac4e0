// A kernel list entry: what a kernel computes (family, tile), the ISA it needs, and the function.
// Each family has one list (runtime/kernel-lists.cc); dispatch, kernels_test and the kernels
// micro-benchmark all read those lists, so a variant added there is dispatched, tested and timed.
//
// A tier runs, for each (family, tile), the entry of the best ISA on its fallback chain: avx512
// -> avx2 -> scalar, avx2 -> scalar, neon -> scalar. "The avx512 tier runs avx2's max pool" is
// then a consequence of the list holding no avx512 max pool, not a repeated table row.
#pragma once
#include <cstddef>
#include <cstring>

#include "cpu.h"

namespace convnode {

template <typename Fn>
struct KernelSpec {
  const char* family;  // the kernel folder's name: "f32-dwconv"
  const char* tile;    // the variant within the family: "3x3s1", a GEMM's "6x16", "" if it has one
  Isa isa;
  Fn fn;
};

// One family's entries (a view of a static array).
template <typename Fn>
struct KernelList {
  const KernelSpec<Fn>* specs;
  size_t count;
  const KernelSpec<Fn>* begin() const { return specs; }
  const KernelSpec<Fn>* end() const { return specs + count; }
};

template <typename Fn, size_t N>
constexpr KernelList<Fn> kernel_list(const KernelSpec<Fn> (&specs)[N]) {
  return {specs, N};
}

// The ISAs a tier may run, best first (itself first, scalar last). Returns how many (<= 3).
inline size_t isa_fallback_chain(Isa tier, Isa chain[3]) {
  switch (tier) {
    case Isa::Avx512: chain[0] = Isa::Avx512, chain[1] = Isa::Avx2, chain[2] = Isa::Scalar; return 3;
    case Isa::Avx2: chain[0] = Isa::Avx2, chain[1] = Isa::Scalar; return 2;
    case Isa::Neon: chain[0] = Isa::Neon, chain[1] = Isa::Scalar; return 2;
    case Isa::WasmSimd: chain[0] = Isa::WasmSimd, chain[1] = Isa::Scalar; return 2;
    case Isa::Scalar: break;
  }
  chain[0] = Isa::Scalar;
  return 1;
}

// The entry of `tile` that tier `tier` runs, or null when no ISA on its chain has one. Lists
// only name kernels this build compiled (the ISA blocks of kernel-lists.cc are #if'd), and
// whether the CPU can run the tier is dispatch's question, not this one's.
template <typename Fn>
const KernelSpec<Fn>* select_kernel(KernelList<Fn> list, const char* tile, Isa tier) {
  Isa chain[3];
  const size_t n = isa_fallback_chain(tier, chain);
  for (size_t i = 0; i < n; i++) {
    for (const KernelSpec<Fn>& spec : list) {
      if (spec.isa == chain[i] && std::strcmp(spec.tile, tile) == 0) return &spec;
    }
  }
  return nullptr;
}

}  // namespace convnode
