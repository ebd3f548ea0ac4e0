#include "cpu.h"

#include <cstring>
#include <initializer_list>

namespace convnode {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx2: return "avx2";
    case Isa::Neon: return "neon";
    case Isa::Scalar: return "scalar";
  }
  return "scalar";
}

bool isa_from_name(const char* name, Isa* out) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Neon}) {
    if (std::strcmp(name, isa_name(isa)) == 0) {
      *out = isa;
      return true;
    }
  }
  return false;
}

bool cpu_supports(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2:
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
      // GCC's probe also checks that the OS saves YMM state (OSXSAVE/XGETBV).
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
      return false;
#endif
    case Isa::Neon:
#if defined(__aarch64__)
      return true;  // Advanced SIMD is mandatory on AArch64
#else
      return false;
#endif
  }
  return false;
}

Isa best_isa() {
  if (cpu_supports(Isa::Avx2)) return Isa::Avx2;
  if (cpu_supports(Isa::Neon)) return Isa::Neon;
  return Isa::Scalar;
}

}  // namespace convnode
