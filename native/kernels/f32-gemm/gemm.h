// Packed GEMM micro-kernels: C[MR x NR] (+)= A_panel[kc x MR] * B_panel[kc x NR], then the fused
// epilogue. A (the conv weights) is packed once, MR rows interleaved per k; B (im2col pixels, or
// a 1x1 conv's input rows) is read with row stride ldb: NR for a packed panel.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../epilogue.h"

namespace convnode {

// mr <= MR and nr <= NR say how much of the tile is stored; A is always zero-padded to MR rows and
// B always has NR readable columns. accumulate: add into what C holds (a later K block).
// epilogue: null for all but the last K block.
using GemmMicrokernel = void (*)(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb,
                                 float* c, size_t ldc, bool accumulate, const Epilogue* epilogue);

void f32_gemm_4x8__scalar(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                          size_t ldc, bool accumulate, const Epilogue* epilogue);
void f32_gemm_6x16__avx2(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                         size_t ldc, bool accumulate, const Epilogue* epilogue);
// Edge tiles of at most 8 columns, over the 6x16 kernel's panels (B row stride ldb = 16).
void f32_gemm_6x8__avx2(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                        size_t ldc, bool accumulate, const Epilogue* epilogue);
// Sweeps one MR-row A panel over nc columns of NR-wide B panels (kc x NR floats each, one after
// the other), tile by tile: the 1x1 path with few input channels, where a call per tile costs
// about half a tile's FMAs. epilogue->residual points at column 0; bias at the panel's row 0.
using GemmSweepKernel = void (*)(size_t mr, size_t nc, size_t kc, const float* a, const float* b, float* c,
                                 size_t ldc, bool accumulate, const Epilogue* epilogue);
void f32_gemm_6x16_sweep__avx2(size_t mr, size_t nc, size_t kc, const float* a, const float* b, float* c, size_t ldc,
                               bool accumulate, const Epilogue* epilogue);
// AVX-512: 16 rows x 16 columns (zmm), any mr <= 16 without padded rows; 16x8 (ymm) for edge
// tiles of at most 8 columns on the same panels; the sweep as above.
void f32_gemm_16x16__avx512(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                            size_t ldc, bool accumulate, const Epilogue* epilogue);
void f32_gemm_16x8__avx512(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                           size_t ldc, bool accumulate, const Epilogue* epilogue);
void f32_gemm_16x16_sweep__avx512(size_t mr, size_t nc, size_t kc, const float* a, const float* b, float* c,
                                  size_t ldc, bool accumulate, const Epilogue* epilogue);
// The last 1..12 columns of a 16-row panel's tile, one zmm per column (nr FMAs per k step).
void f32_gemm_16x12_columns__avx512(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb,
                                    float* c, size_t ldc, bool accumulate, const Epilogue* epilogue);
// Indirect B (the one K block of a conv read in place, ops/conv_phase_rows.cc): B row k of the
// tile is the 16 floats at b + offsets[k]; otherwise the 16x16 kernel (A panels, mr, nr, the
// epilogue; C is written, never accumulated into).
using GemmIndirectKernel = void (*)(size_t mr, size_t nr, size_t kc, const float* a, const float* b,
                                    const int32_t* offsets, float* c, size_t ldc, const Epilogue* epilogue);
void f32_igemm_16x16__avx512(size_t mr, size_t nr, size_t kc, const float* a, const float* b, const int32_t* offsets,
                             float* c, size_t ldc, const Epilogue* epilogue);
void f32_gemm_8x8__neon(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                        size_t ldc, bool accumulate, const Epilogue* epilogue);
// WebAssembly SIMD (the wasm backend's module, native/wasm/): 4 rows x 8 columns.
void f32_gemm_4x8__wasmsimd(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                            size_t ldc, bool accumulate, const Epilogue* epilogue);

// Packed-panel GEMV: acc[0..mr) += A_panel * x for one K block of a packed A panel (kc steps of
// mr interleaved rows) and the matching kc inputs. Linear layers at small batch use it: a GEMM
// there fills one column of its NR-wide B tile per image (1/16 of the work useful at batch 1 on
// AVX2), while this reads the weights once per image. The scalar one takes any mr; the AVX2 one
// sits with the 6x16 kernel whose 6-row panels it reads (mr must be 6).
using GemvKernel = void (*)(size_t mr, size_t kc, const float* a, const float* x, float* acc);

void f32_gemv_general__scalar(size_t mr, size_t kc, const float* a, const float* x, float* acc);
void f32_gemv_6x1__avx2(size_t mr, size_t kc, const float* a, const float* x, float* acc);
// 16-row panels (one zmm per k); acc[0..mr) is updated, mr <= 16.
void f32_gemv_16x1__avx512(size_t mr, size_t kc, const float* a, const float* x, float* acc);
// WebAssembly SIMD over the 4x8 kernel's 4-row panels (mr must be 4).
void f32_gemv_4x1__wasmsimd(size_t mr, size_t kc, const float* a, const float* x, float* acc);

// Packs rows [0, m) x columns [k0, k0 + kc) of a row-major matrix (row stride lda) into MR-row
// panels, zero-filling the rows past m. dst holds ceil(m / MR) * MR * kc floats.
void f32_gemm_pack_a(size_t mr_tile, size_t m, size_t k0, size_t kc, const float* src, size_t lda, float* dst);

// The same for 16-row panels with AVX-512 (mr_tile must be 16): 16 rows x 16 k at a time, loaded
// as rows and transposed in registers. The portable loop reads one float from each of 16 rows per
// k: packing the rows of x for a Linear over 3136 tokens (Swin's 384 -> 96) took 29% of the run.
void f32_gemm_pack_a_16__avx512(size_t mr_tile, size_t m, size_t k0, size_t kc, const float* src, size_t lda,
                                float* dst);
using GemmPackAKernel = void (*)(size_t mr_tile, size_t m, size_t k0, size_t kc, const float* src, size_t lda,
                                 float* dst);

// Packs B[k][n] = src[k * k_stride + n * n_stride] for k in [0, kc), n in [0, nc) into NR-wide
// panels (panel p holds kc x NR floats), zero-filling columns past nc.
void f32_gemm_pack_b(size_t nr_tile, size_t kc, size_t nc, const float* src, size_t k_stride, size_t n_stride,
                     float* dst);

// The same for contiguous rows (n_stride 1: a 1x1 conv's channel planes, k_stride apart),
// copied a row at a time.
void f32_gemm_pack_b_rows(size_t nr_tile, size_t kc, size_t nc, const float* src, size_t k_stride, float* dst);

}  // namespace convnode
