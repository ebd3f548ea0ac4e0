// Which instruction sets this CPU (and OS) can run. Asked once; the answer never changes.
#pragma once

namespace convnode {

// Avx512 means AVX-512 F + BW + DQ + VL (with AVX2 and FMA), and an OS that saves ZMM state.
// WasmSimd: WebAssembly 128-bit SIMD (the wasm backend's build, native/wasm/).
enum class Isa { Scalar, Avx2, Avx512, Neon, WasmSimd };

const char* isa_name(Isa isa);
bool isa_from_name(const char* name, Isa* out);
bool cpu_supports(Isa isa);
Isa best_isa();

}  // namespace convnode
