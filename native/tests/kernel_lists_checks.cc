// The kernel lists as a spec (runtime/kernel-lists.h). The per-ISA checks of kernels_test run
// each tier's dispatch table against the scalar table; these checks prove that table is the
// lists' content, so every listed kernel the CPU can run is among the ones compared:
//   - no (family, tile, ISA) is listed twice (the second would never run);
//   - every listed entry whose ISA the CPU has is dispatched by its own ISA's tier (an entry no
//     slot asks for, a tile name misspelled, would be listed but never run or tested);
//   - each tier's slot holds the entry of the best ISA on its fallback chain that lists the tile
//     (recomputed here from the chain, not through select_kernel);
// and say, per ISA, which entries ran and which were skipped because the CPU lacks the ISA.
#include <algorithm>
#include <cstring>
#include <map>

#include "kernels_test.h"

namespace kernels_test {
namespace {

bool same_kernel(const KernelName& a, const KernelName& b) {
  return std::strcmp(a.family, b.family) == 0 && std::strcmp(a.tile, b.tile) == 0 && a.isa == b.isa;
}

std::string kernel_label(const KernelName& k) {
  return std::string(k.family) + (k.tile[0] != '\0' ? std::string(" ") + k.tile : std::string()) + " " +
         isa_name(k.isa);
}

// Rank of `isa` on `tier`'s chain: 0 best; -1 when the tier may not run it.
int chain_rank(Isa tier, Isa isa) {
  const Isa avx512[] = {Isa::Avx512, Isa::Avx2, Isa::Scalar};
  const Isa avx2[] = {Isa::Avx2, Isa::Scalar};
  const Isa neon[] = {Isa::Neon, Isa::Scalar};
  const Isa scalar[] = {Isa::Scalar};
  const Isa* chain = scalar;
  int n = 1;
  if (tier == Isa::Avx512) chain = avx512, n = 3;
  if (tier == Isa::Avx2) chain = avx2, n = 2;
  if (tier == Isa::Neon) chain = neon, n = 2;
  for (int i = 0; i < n; i++) {
    if (chain[i] == isa) return i;
  }
  return -1;
}

void fail_list(const std::string& what) {
  std::printf("FAIL kernel lists: %s\n", what.c_str());
  g_failures++;
}

}  // namespace

void test_kernel_lists() {
  const std::vector<KernelName> listed = listed_kernels();
  const Isa tiers[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon};

  for (size_t i = 0; i < listed.size(); i++) {
    for (size_t j = 0; j < i; j++) {
      g_checks++;
      if (same_kernel(listed[i], listed[j])) fail_list(kernel_label(listed[i]) + " is listed twice");
    }
  }

  std::map<std::string, std::vector<std::string>> skipped;  // ISA name -> entries not run here
  for (const KernelName& k : listed) {
    if (config_for(k.isa) == nullptr) {
      skipped[isa_name(k.isa)].push_back(kernel_label(k));
      continue;
    }
    const std::vector<KernelName> chosen = kernels_chosen(k.isa);
    g_checks++;
    if (std::none_of(chosen.begin(), chosen.end(), [&](const KernelName& c) { return same_kernel(c, k); })) {
      fail_list(kernel_label(k) + " is listed but its own tier does not dispatch it (no slot asks for tile '" +
                k.tile + "', or an earlier entry of that tile shadows it)");
    }
  }

  for (Isa tier : tiers) {
    if (config_for(tier) == nullptr) continue;
    const std::vector<KernelName> chosen = kernels_chosen(tier);
    std::string names;
    for (const KernelName& c : chosen) {
      g_checks++;
      const int rank = chain_rank(tier, c.isa);
      if (rank < 0) {
        fail_list(std::string(isa_name(tier)) + " dispatches " + kernel_label(c) + ", off its fallback chain");
        continue;
      }
      // A better ISA on the chain listing the same (family, tile) must have been taken instead.
      for (const KernelName& k : listed) {
        const int r = chain_rank(tier, k.isa);
        if (r >= 0 && r < rank && std::strcmp(k.family, c.family) == 0 && std::strcmp(k.tile, c.tile) == 0) {
          fail_list(std::string(isa_name(tier)) + " dispatches " + kernel_label(c) + " although " + kernel_label(k) +
                    " is listed");
        }
      }
      names += (names.empty() ? "" : ", ") + kernel_label(c);
    }
    std::printf("kernels_test: lists: %s dispatches %zu entries: %s\n", isa_name(tier), chosen.size(), names.c_str());
  }
  for (const auto& [isa, names] : skipped) {
    std::string joined;
    for (const std::string& n : names) joined += (joined.empty() ? "" : ", ") + n;
    std::printf("kernels_test: lists: %s: skipped %zu listed entries, %s: %s\n", isa.c_str(), names.size(),
                std::strcmp(isa.c_str(), "avx512") == 0 ? "CPU lacks AVX-512F/BW/DQ/VL (or the OS does not save ZMM state)"
                                                        : "CPU lacks it",
                joined.c_str());
  }
}

}  // namespace kernels_test
