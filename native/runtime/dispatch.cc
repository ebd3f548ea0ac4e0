#include "dispatch.h"

#include <atomic>
#include <cstdlib>
#include <mutex>

namespace convnode {

double fma_probe_scalar();
double fma_probe_avx2();
double fma_probe_neon();
double fma_probe_avx512();

namespace {

// Blocking from the cache sizes: L1 32 KiB, L2 512 KiB. kc*nr*4 B ~ 16 KiB of B micro-panel in
// L1; kc*nc*4 B ~ 256 KiB of packed B plus an A block in L2.
const KernelConfig kScalar = {Isa::Scalar,
                              {f32_gemm_4x8__scalar, nullptr, f32_gemv_general__scalar, 4, 8, 256, 256, nullptr, nullptr},
                              f32_dwconv_general__scalar,
                              f32_dwconv_general__scalar,
                              f32_dwconv_general__scalar,
                              f32_dwconv_general__scalar,
                              f32_dwconv_general__scalar,
                              f32_dwconv_general__scalar,
                              f32_dwconv_general__scalar,
                              nullptr,
                              f32_maxpool_general__scalar,
                              f32_avgpool_general__scalar,
                              f32_winograd_2x2_input__scalar,
                              f32_winograd_2x2_output__scalar,
                              f32_winograd_4x4_input__scalar,
                              f32_winograd_4x4_output__scalar,
                              f32_gconv_direct__scalar,
                              fma_probe_scalar,
                              {f32_vunary__scalar, f32_vbinary__scalar, f32_vaffine__scalar},
                              f32_gavgpool__scalar,
                              f32_gmaxpool__scalar,
                              f32_winograd_6x6_input__scalar,
                              f32_winograd_6x6_output__scalar};

#if defined(CONVNODE_HAVE_AVX2)
const KernelConfig kAvx2 = {Isa::Avx2,
                            {f32_gemm_6x16__avx2, f32_gemm_6x8__avx2, f32_gemv_6x1__avx2, 6, 16, 256, 240,
                             f32_gemm_6x16_sweep__avx2, nullptr},
                            f32_dwconv_3x3s1__avx2,
                            f32_dwconv_3x3s2__avx2,
                            f32_dwconv_5x5s1__avx2,
                            f32_dwconv_5x5s2__avx2,
                            f32_dwconv_7x7s1__avx2,
                            f32_dwconv_7x7s2__avx2,
                            f32_dwconv_general__scalar,
                            f32_maxpool_3x3s2__avx2,
                            f32_maxpool_general__scalar,
                            f32_avgpool_general__scalar,
                            f32_winograd_2x2_input__avx2,
                            f32_winograd_2x2_output__avx2,
                            f32_winograd_4x4_input__avx2,
                            f32_winograd_4x4_output__avx2,
                            f32_gconv_direct__avx2,
                            fma_probe_avx2,
                            {f32_vunary__avx2, f32_vbinary__avx2, f32_vaffine__avx2},
                              f32_gavgpool__scalar,
                              f32_gmaxpool__scalar,
                              f32_winograd_6x6_input__avx2,
                              f32_winograd_6x6_output__avx2};
#endif

#if defined(CONVNODE_HAVE_AVX512)
// The AVX-512 tier (F/BW/DQ/VL). Families without an avx512 variant yet run their avx2 kernel:
// the tier only adds, and the avx2 code is valid on every AVX-512 CPU.
const KernelConfig kAvx512 = {Isa::Avx512,
                              {f32_gemm_16x16__avx512, f32_gemm_16x8__avx512, f32_gemv_16x1__avx512, 16, 16, 256, 240,
                               f32_gemm_16x16_sweep__avx512, f32_im2col_pack__avx512},
                              f32_dwconv_3x3s1__avx512,
                              f32_dwconv_3x3s2__avx512,
                              f32_dwconv_5x5s1__avx512,
                              f32_dwconv_5x5s2__avx512,
                              f32_dwconv_7x7s1__avx512,
                              f32_dwconv_7x7s2__avx512,
                              f32_dwconv_general__scalar,
                              f32_maxpool_3x3s2__avx512,
                              f32_maxpool_general__avx512,
                              f32_avgpool_general__avx512,
                              f32_winograd_2x2_input__avx2,
                              f32_winograd_2x2_output__avx2,
                              f32_winograd_4x4_input__avx512,
                              f32_winograd_4x4_output__avx512,
                              f32_gconv_direct__avx2,
                              fma_probe_avx512,
                              {f32_vunary__avx512, f32_vbinary__avx512, f32_vaffine__avx512},
                              f32_gavgpool__avx512,
                              f32_gmaxpool__avx512,
                              f32_winograd_6x6_input__avx512,
                              f32_winograd_6x6_output__avx512};
#endif

#if defined(CONVNODE_HAVE_NEON)
const KernelConfig kNeon = {Isa::Neon,
                            {f32_gemm_8x8__neon, nullptr, f32_gemv_general__scalar, 8, 8, 256, 256, nullptr, nullptr},
                            f32_dwconv_3x3s1__neon,
                            f32_dwconv_3x3s2__neon,
                            f32_dwconv_5x5s1__neon,
                            f32_dwconv_5x5s2__neon,
                            f32_dwconv_7x7s1__neon,
                            f32_dwconv_7x7s2__neon,
                            f32_dwconv_general__scalar,
                            f32_maxpool_3x3s2__neon,
                            f32_maxpool_general__scalar,
                            f32_avgpool_general__scalar,
                            f32_winograd_2x2_input__scalar,
                            f32_winograd_2x2_output__scalar,
                            f32_winograd_4x4_input__scalar,
                            f32_winograd_4x4_output__scalar,
                            f32_gconv_direct__scalar,
                            fma_probe_neon,
                            {f32_vunary__neon, f32_vbinary__neon, f32_vaffine__neon},
                              f32_gavgpool__scalar,
                              f32_gmaxpool__scalar,
                              f32_winograd_6x6_input__scalar,
                              f32_winograd_6x6_output__scalar};
#endif

std::atomic<const KernelConfig*> g_active{nullptr};
std::once_flag g_env_once;
std::string g_env_error;

}  // namespace

const KernelConfig* config_for(Isa isa) {
  if (!cpu_supports(isa)) return nullptr;
  switch (isa) {
    case Isa::Scalar: return &kScalar;
#if defined(CONVNODE_HAVE_AVX2)
    case Isa::Avx2: return &kAvx2;
#endif
#if defined(CONVNODE_HAVE_AVX512)
    case Isa::Avx512: return &kAvx512;
#endif
#if defined(CONVNODE_HAVE_NEON)
    case Isa::Neon: return &kNeon;
#endif
    default: return nullptr;
  }
}

std::string set_active_isa(const char* name) {
  Isa isa;
  if (!isa_from_name(name, &isa)) {
    return std::string("unknown ISA '") + name + "' (expected 'scalar', 'avx2', 'avx512' or 'neon')";
  }
  const KernelConfig* config = config_for(isa);
  if (config == nullptr) {
    return std::string("ISA '") + name + "' is not supported by this CPU or build (best available: '" +
           isa_name(best_isa()) + "')";
  }
  g_active.store(config);
  return {};
}

std::string init_dispatch_from_env() {
  std::call_once(g_env_once, [] {
    const KernelConfig* best = config_for(best_isa());
    g_active.store(best != nullptr ? best : &kScalar);
    const char* forced = std::getenv("CONVNODE_ISA");
    if (forced != nullptr && forced[0] != '\0') {
      const std::string error = set_active_isa(forced);
      if (!error.empty()) g_env_error = "CONVNODE_ISA: " + error;
    }
  });
  return g_env_error;
}

const KernelConfig& active_config() {
  init_dispatch_from_env();
  return *g_active.load();
}

}  // namespace convnode
