// The kernel table: one entry per ISA, chosen once at load (CONVNODE_ISA may force one), and
// captured by each prepared op so its packed weights always match the kernel that reads them.
#pragma once
#include <cstddef>
#include <string>

#include "../kernels/f32-dwconv/dwconv.h"
#include "../kernels/f32-gconv/gconv.h"
#include "../kernels/f32-gemm/gemm.h"
#include "../kernels/f32-im2col/im2col.h"
#include "../kernels/f32-maxpool/pool.h"
#include "../kernels/f32-vaffine/vaffine.h"
#include "../kernels/f32-vbinary/vbinary.h"
#include "../kernels/f32-vunary/vunary.h"
#include "../kernels/f32-winograd/winograd.h"
#include "cpu.h"

namespace convnode {

struct GemmConfig {
  GemmMicrokernel kernel;
  GemmMicrokernel narrow;  // optional: for edge tiles of <= nr/2 columns, on the same panels
  GemvKernel gemv;         // reads the same mr-row packed A panels (Linear at small batch)
  size_t mr, nr;
  size_t kc_max;  // K block: keeps one B micro-panel (kc x nr) in L1
  size_t nc;      // pixel block packed at a time: keeps the B block (kc x nc) in L2
  GemmSweepKernel sweep;  // optional: one A panel over a block's B panels (1x1 convs, small K)
  Im2colPackKernel im2col;  // optional: null means the portable f32_im2col_pack
};

// The element-wise engine (native/ops/elementwise.cc): activations, broadcast binary ops, and
// the per-channel affine step.
struct ElementwiseConfig {
  VUnaryKernel vunary;
  VBinaryKernel vbinary;
  VAffineKernel vaffine;
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
  double (*fma_probe_gflops)();  // single-thread FMA throughput, for benchmarks
  ElementwiseConfig elementwise;
  GlobalPoolKernel gavgpool;  // global average / max pooling (one value per plane)
  GlobalPoolKernel gmaxpool;
  WinogradInputKernel winograd_6x6_input;  // F(6x6, 3x3), with the gemm above
  WinogradOutputKernel winograd_6x6_output;
};

// Null when this build or CPU cannot run the ISA.
const KernelConfig* config_for(Isa isa);

// The table new ops use. First call reads CONVNODE_ISA.
const KernelConfig& active_config();

// Empty on success, else why not (unknown name, or the CPU lacks the ISA).
std::string set_active_isa(const char* name);

// Reads CONVNODE_ISA once; empty on success (or when unset), else the reason it was refused.
std::string init_dispatch_from_env();

}  // namespace convnode
