#include "cpu.h"

#include <cstdint>
#include <cstring>
#include <initializer_list>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

namespace convnode {

namespace {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// XCR0: which register states the OS saves on a context switch. Read with the raw opcode so this
// file needs no -mxsave (it must run on any x86-64); only called once OSXSAVE says XGETBV exists.
uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

// AVX2 (CPUID leaf 7) and FMA (leaf 1), and XCR0 bits 1-2: the OS saves XMM and YMM state.
// CPUID by hand rather than __builtin_cpu_supports: clang's builtin needs compiler-rt's
// __cpu_model, which Zig's runtime (the prebuilds' toolchain) does not provide.
bool detect_avx2_fma() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  const bool fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
  if (!fma || !osxsave || !avx) return false;
  const uint64_t wanted_state = (1u << 1) | (1u << 2);
  if ((read_xcr0() & wanted_state) != wanted_state) return false;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  return (ebx >> 5) & 1;
}

// AVX-512 F, BW, DQ and VL from CPUID leaf 7, and XCR0 bits 1-2 (XMM, YMM) and 5-7 (opmask,
// ZMM0-15 upper halves, ZMM16-31): without the OS's consent the first zmm instruction faults.
bool detect_avx512() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  const bool osxsave = (ecx >> 27) & 1;
  if (!osxsave) return false;
  const uint64_t wanted_state = (1u << 1) | (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7);
  if ((read_xcr0() & wanted_state) != wanted_state) return false;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool f = (ebx >> 16) & 1, dq = (ebx >> 17) & 1, bw = (ebx >> 30) & 1, vl = (ebx >> 31) & 1;
  return f && dq && bw && vl;
}
#endif

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Neon: return "neon";
    case Isa::Scalar: return "scalar";
    case Isa::WasmSimd: return "wasmsimd";
  }
  return "scalar";
}

bool isa_from_name(const char* name, Isa* out) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon, Isa::WasmSimd}) {
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
    {
      static const bool supported = detect_avx2_fma();
      return supported;
    }
#else
      return false;
#endif
    case Isa::Avx512:
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    {
      static const bool supported = cpu_supports(Isa::Avx2) && detect_avx512();
      return supported;
    }
#else
      return false;
#endif
    case Isa::Neon:
#if defined(__aarch64__)
      return true;  // Advanced SIMD is mandatory on AArch64
#else
      return false;
#endif
    case Isa::WasmSimd:
#if defined(__wasm_simd128__)
      return true;  // the engine validated the module's SIMD instructions when it compiled it
#else
      return false;
#endif
  }
  return false;
}

Isa best_isa() {
  if (cpu_supports(Isa::Avx512)) return Isa::Avx512;
  if (cpu_supports(Isa::Avx2)) return Isa::Avx2;
  if (cpu_supports(Isa::Neon)) return Isa::Neon;
  if (cpu_supports(Isa::WasmSimd)) return Isa::WasmSimd;
  return Isa::Scalar;
}

}  // namespace convnode
