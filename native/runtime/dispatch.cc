#include "dispatch.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <cstdlib>
#include <mutex>

namespace convnode {

namespace {

// Picks one slot's kernel for `tier` from its family list, records which entry it took, and
// falls back to `fallback_tile` where no ISA on the tier's chain has `tile` (depthwise windows
// without a row kernel run the general one). tile == nullptr: the family's first entry of the
// best ISA on the chain (the GEMM, whose tile differs per ISA). No entry at all: a null slot.
template <typename Fn>
Fn choose(KernelList<Fn> list, const char* tile, Isa tier, std::vector<KernelName>* chosen,
          const char* fallback_tile = nullptr) {
  const KernelSpec<Fn>* spec = nullptr;
  if (tile == nullptr) {
    Isa chain[3];
    const size_t n = isa_fallback_chain(tier, chain);
    for (size_t i = 0; i < n && spec == nullptr; i++) {
      for (const KernelSpec<Fn>& s : list) {
        if (s.isa == chain[i]) {
          spec = &s;
          break;
        }
      }
    }
  } else {
    spec = select_kernel(list, tile, tier);
    if (spec == nullptr && fallback_tile != nullptr) spec = select_kernel(list, fallback_tile, tier);
  }
  if (spec == nullptr) return Fn{};
  const KernelName name{spec->family, spec->tile, spec->isa};
  const bool seen = std::any_of(chosen->begin(), chosen->end(), [&](const KernelName& c) {
    return c.isa == name.isa && std::strcmp(c.family, name.family) == 0 && std::strcmp(c.tile, name.tile) == 0;
  });
  if (!seen) chosen->push_back(name);  // the general depthwise kernel fills several slots
  return spec->fn;
}

// One tier's table: every slot from its family list.
KernelConfig build_config(Isa tier, std::vector<KernelName>* chosen) {
  KernelConfig c{};
  c.isa = tier;
  c.gemm = choose(gemm_kernels(), nullptr, tier, chosen);
  c.dwconv_3x3s1 = choose(dwconv_kernels(), "3x3s1", tier, chosen, "general");
  c.dwconv_3x3s2 = choose(dwconv_kernels(), "3x3s2", tier, chosen, "general");
  c.dwconv_5x5s1 = choose(dwconv_kernels(), "5x5s1", tier, chosen, "general");
  c.dwconv_5x5s2 = choose(dwconv_kernels(), "5x5s2", tier, chosen, "general");
  c.dwconv_7x7s1 = choose(dwconv_kernels(), "7x7s1", tier, chosen, "general");
  c.dwconv_7x7s2 = choose(dwconv_kernels(), "7x7s2", tier, chosen, "general");
  c.dwconv_general = choose(dwconv_kernels(), "general", tier, chosen);
  c.maxpool_3x3s2 = choose(maxpool_kernels(), "3x3s2", tier, chosen);  // optional: null on scalar
  c.maxpool_general = choose(maxpool_kernels(), "general", tier, chosen);
  c.avgpool_general = choose(avgpool_kernels(), "general", tier, chosen);
  const WinogradTransforms f2x2 = choose(winograd_kernels(), "2x2", tier, chosen);
  c.winograd_input = f2x2.input;
  c.winograd_output = f2x2.output;
  const WinogradTransforms f4x4 = choose(winograd_kernels(), "4x4", tier, chosen);
  c.winograd_4x4_input = f4x4.input;
  c.winograd_4x4_output = f4x4.output;
  const WinogradTransforms f6x6 = choose(winograd_kernels(), "6x6", tier, chosen);
  c.winograd_6x6_input = f6x6.input;
  c.winograd_6x6_output = f6x6.output;
  // Named after the GEMM tiling it shares panels with: "16x16" where the GEMM is 16x16.
  const std::string gemm_tile = std::to_string(c.gemm.mr) + "x" + std::to_string(c.gemm.nr);
  c.winograd_gemm = choose(winograd_gemm_kernels(), gemm_tile.c_str(), tier, chosen);
  c.gavgpool = choose(gavgpool_kernels(), "", tier, chosen);
  c.gmaxpool = choose(gmaxpool_kernels(), "", tier, chosen);
  c.gconv_direct = choose(gconv_kernels(), "direct", tier, chosen);
  c.gconv_lanes = choose(gconv_lanes_kernels(), "lanes", tier, chosen);
  c.fma_probe_gflops = choose(fma_probe_kernels(), "", tier, chosen);
  c.elementwise.vunary = choose(vunary_kernels(), "", tier, chosen);
  c.elementwise.vbinary = choose(vbinary_kernels(), "", tier, chosen);
  c.elementwise.vaffine = choose(vaffine_kernels(), "", tier, chosen);
  const LayerNormKernels layernorm = choose(layernorm_kernels(), "", tier, chosen);
  c.normalize.layernorm_rows = layernorm.rows;
  c.normalize.layernorm_columns = layernorm.columns;
  const SoftmaxKernels softmax = choose(softmax_kernels(), "", tier, chosen);
  c.normalize.softmax_rows = softmax.rows;
  c.normalize.softmax_columns = softmax.columns;
  c.resize = choose(resize_kernels(), "", tier, chosen);
  return c;
}

// The tiers this build compiled (whether the CPU runs them is cpu_supports' answer).
bool built_tier(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
#if defined(CONVNODE_HAVE_AVX2)
    case Isa::Avx2: return true;
#endif
#if defined(CONVNODE_HAVE_AVX512)
    case Isa::Avx512: return true;
#endif
#if defined(CONVNODE_HAVE_NEON)
    case Isa::Neon: return true;
#endif
#if defined(CONVNODE_HAVE_WASMSIMD)
    case Isa::WasmSimd: return true;
#endif
    default: return false;
  }
}

constexpr Isa kTiers[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon, Isa::WasmSimd};
constexpr size_t kTierCount = sizeof kTiers / sizeof kTiers[0];

struct Tables {
  KernelConfig config[kTierCount];
  std::vector<KernelName> chosen[kTierCount];
};

// Built on first use, once; the tables never change after that, so ops may keep pointers. Never
// freed: pool threads or late finalizers may still read a table while the process exits.
const Tables& tables() {
  static const Tables* built = [] {
    auto* t = new Tables();
    for (size_t i = 0; i < kTierCount; i++) {
      if (built_tier(kTiers[i])) t->config[i] = build_config(kTiers[i], &t->chosen[i]);
    }
    return t;
  }();
  return *built;
}

size_t tier_index(Isa isa) {
  for (size_t i = 0; i < kTierCount; i++) {
    if (kTiers[i] == isa) return i;
  }
  return 0;
}

std::atomic<const KernelConfig*> g_active{nullptr};
std::once_flag g_env_once;
std::string g_env_error;

}  // namespace

std::vector<KernelName> kernels_chosen(Isa isa) {
  if (!built_tier(isa)) return {};
  return tables().chosen[tier_index(isa)];
}

const KernelConfig* config_for(Isa isa) {
  if (!built_tier(isa) || !cpu_supports(isa)) return nullptr;
  return &tables().config[tier_index(isa)];
}

std::string set_active_isa(const char* name) {
  Isa isa;
  if (!isa_from_name(name, &isa)) {
    return std::string("unknown ISA '") + name + "' (expected 'scalar', 'avx2', 'avx512', 'neon' or 'wasmsimd')";
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
    g_active.store(best != nullptr ? best : config_for(Isa::Scalar));
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
