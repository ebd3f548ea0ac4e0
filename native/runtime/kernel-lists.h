// The kernel lists: one per family, each entry naming family, tile, ISA and function
// (runtime/kernel-lists.cc holds them). Dispatch (dispatch.cc) builds each tier's table from
// them; kernels_test checks every entry the CPU can run is the one its own tier dispatches (and
// so is tested against scalar); the kernels micro-benchmark times every entry.
//
// Adding a kernel variant: declare it in its family header, add its source to sources.cmake and
// binding.gyp, and add one line to its family's list. A new family also needs a slot in
// KernelConfig (dispatch.h) and a line in dispatch.cc's build_config.
#pragma once
#include <cstddef>
#include <vector>

#include "../kernels/f32-dwconv/dwconv.h"
#include "../kernels/f32-gconv/gconv.h"
#include "../kernels/f32-gemm/gemm.h"
#include "../kernels/f32-im2col/im2col.h"
#include "../kernels/f32-layernorm/layernorm.h"
#include "../kernels/f32-resize/resize.h"
#include "../kernels/f32-softmax/softmax.h"
#include "../kernels/f32-vaffine/vaffine.h"
#include "../kernels/f32-vbinary/vbinary.h"
#include "../kernels/f32-vunary/vunary.h"
#include "../kernels/f32-winograd/winograd-transforms.h"
#include "../kernels/pool-plane.h"
#include "kernel-spec.h"

namespace convnode {

// A GEMM family entry is one tiling: the main tile and the kernels that read the same packed
// panels (they must come from one entry, so they are listed together). Its tile name is the
// main tile's MRxNR.
struct GemmConfig {
  GemmMicrokernel kernel;
  GemmMicrokernel narrow;  // optional: for edge tiles of <= nr/2 columns, on the same panels
  GemvKernel gemv;         // reads the same mr-row packed A panels (Linear at small batch)
  size_t mr, nr;
  size_t kc_max;  // K block: keeps one B micro-panel (kc x nr) in L1
  size_t nc;      // pixel block packed at a time: keeps the B block (kc x nc) in L2
  GemmSweepKernel sweep;  // optional: one A panel over a block's B panels (1x1 convs, small K)
  Im2colPackKernel im2col;  // optional: null means the portable f32_im2col_pack
  // optional: a tile's last columns when at most columns_max remain, computed column by column
  // (nr FMAs per k, not a full or half tile's); same panels and arguments as kernel.
  GemmMicrokernel columns;
  size_t columns_max;
  GemmPackAKernel pack_a;  // optional: null means the portable f32_gemm_pack_a (same layout)
  // optional: the main tile with B rows at offsets from a base (ops/conv_phase_rows.cc), on
  // pack_a's panels of one K block; tables without it run those convs through im2col.
  GemmIndirectKernel igemm;
};

// A Winograd tile's input and output transforms (they share the tile's point layout).
struct WinogradTransforms {
  WinogradInputKernel input;
  WinogradOutputKernel output;
};

// A normalisation family entry: its rows and columns forms (one ISA's pair).
struct LayerNormKernels {
  LayerNormRowsKernel rows;
  LayerNormColumnsKernel columns;
};
struct SoftmaxKernels {
  SoftmaxRowsKernel rows;
  SoftmaxColumnsKernel columns;
};
// An f32-resize entry: one ISA's three forms (the op picks one per plan).
struct ResizeKernels {
  ResizeNearestKernel nearest;
  ResizeNearest2xKernel nearest_2x;
  ResizeBilinearKernel bilinear;
};

// Single-thread FMA throughput of one tier (GFLOP/s), for the benchmarks' "% of peak".
using FmaProbeKernel = double (*)();

KernelList<GemmConfig> gemm_kernels();                  // f32-gemm: one entry per tiling
KernelList<DwconvKernel> dwconv_kernels();              // f32-dwconv: KxKsS, general
KernelList<PoolKernel> maxpool_kernels();               // f32-maxpool: 3x3s2, general
KernelList<PoolKernel> avgpool_kernels();               // f32-avgpool: general
KernelList<GlobalPoolKernel> gavgpool_kernels();        // f32-gavgpool (global average pool)
KernelList<GlobalPoolKernel> gmaxpool_kernels();        // f32-gmaxpool (global max pool)
KernelList<WinogradTransforms> winograd_kernels();      // f32-winograd: 2x2, 4x4, 6x6 (F(TxT, 3x3))
KernelList<WinogradGemmKernel> winograd_gemm_kernels(); // f32-winograd-gemm: MRxNR of the GEMM (optional)
KernelList<GconvKernel> gconv_kernels();                // f32-gconv: direct
KernelList<GconvLanesKernel> gconv_lanes_kernels();     // f32-gconv: lanes
KernelList<VUnaryKernel> vunary_kernels();              // f32-vunary
KernelList<VBinaryKernel> vbinary_kernels();            // f32-vbinary
KernelList<VAffineKernel> vaffine_kernels();            // f32-vaffine
KernelList<FmaProbeKernel> fma_probe_kernels();         // fma-probe
KernelList<LayerNormKernels> layernorm_kernels();       // f32-layernorm: rows + columns
KernelList<SoftmaxKernels> softmax_kernels();           // f32-softmax: rows + columns
KernelList<ResizeKernels> resize_kernels();             // f32-resize: nearest, nearest 2x, bilinear

// Every listed entry, family by family, without its function: for tests and benchmarks that
// check or report the lists as a whole.
struct KernelName {
  const char* family;
  const char* tile;
  Isa isa;
};
std::vector<KernelName> listed_kernels();

}  // namespace convnode
