// The kernel table of each ISA tier, built once from the per-family kernel lists
// (kernel-lists.h): each slot holds the entry of the best ISA on the tier's fallback chain
// (kernel-spec.h). The active tier is chosen once at load (CONVNODE_ISA may force one), and each
// prepared op captures its table, so its packed weights always match the kernel that reads them.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "cpu.h"
#include "kernel-lists.h"

namespace convnode {

// The element-wise engine (native/ops/elementwise.cc): activations, broadcast binary ops, and
// the per-channel affine step.
struct ElementwiseConfig {
  VUnaryKernel vunary;
  VBinaryKernel vbinary;
  VAffineKernel vaffine;
};

// Normalisations over groups of values (native/ops/normalize.cc): LayerNorm and Softmax, each
// over contiguous rows or across adjacent strided columns.
struct NormalizeConfig {
  LayerNormRowsKernel layernorm_rows;
  LayerNormColumnsKernel layernorm_columns;
  SoftmaxRowsKernel softmax_rows;
  SoftmaxColumnsKernel softmax_columns;
};

struct KernelConfig {
  Isa isa;
  GemmConfig gemm;
  DwconvKernel dwconv_3x3s1;  // K x K stride-S depthwise (any dilation and padding)
  DwconvKernel dwconv_3x3s2;
  DwconvKernel dwconv_5x5s1;
  DwconvKernel dwconv_5x5s2;
  DwconvKernel dwconv_7x7s1;
  DwconvKernel dwconv_7x7s2;
  DwconvKernel dwconv_general;
  PoolKernel maxpool_3x3s2;  // null where there is no specialised kernel
  PoolKernel maxpool_general;
  PoolKernel avgpool_general;
  WinogradInputKernel winograd_input;  // F(2x2, 3x3), with the gemm above
  WinogradOutputKernel winograd_output;
  WinogradInputKernel winograd_4x4_input;  // F(4x4, 3x3), with the gemm above
  WinogradOutputKernel winograd_4x4_output;
  GconvKernel gconv_direct;  // grouped convs without im2col (stride 1)
  GconvLanesKernel gconv_lanes;  // grouped convs with 16 output channels a block, input read in place
  double (*fma_probe_gflops)();  // single-thread FMA throughput, for benchmarks
  ElementwiseConfig elementwise;
  NormalizeConfig normalize;
  GlobalPoolKernel gavgpool;  // global average / max pooling (one value per plane)
  GlobalPoolKernel gmaxpool;
  WinogradInputKernel winograd_6x6_input;  // F(6x6, 3x3), with the gemm above
  WinogradOutputKernel winograd_6x6_output;
  // optional: the point GEMMs' full gemm.mr x gemm.nr tile with U requested ahead (null: the
  // tier has none for its GEMM tiling, and gemm.kernel runs those tiles)
  WinogradGemmKernel winograd_gemm;
  ResizeKernels resize;  // Resize / Upsample (native/ops/resize.cc)
};

// The list entries tier `isa` dispatches, each once (kernels_test checks the lists
// against it). Empty when this build has no such tier.
std::vector<KernelName> kernels_chosen(Isa isa);

// Null when this build or CPU cannot run the ISA.
const KernelConfig* config_for(Isa isa);

// The table new ops use. First call reads CONVNODE_ISA.
const KernelConfig& active_config();

// Empty on success, else why not (unknown name, or the CPU lacks the ISA).
std::string set_active_isa(const char* name);

// Reads CONVNODE_ISA once; empty on success (or when unset), else the reason it was refused.
std::string init_dispatch_from_env();

}  // namespace convnode
