// The kernel lists (kernel-lists.h). Entries are grouped by ISA within each list, and an ISA's
// block is compiled only where the build has that ISA's kernels. Order within an ISA says
// preference: for a (family, tile), the first entry of the best ISA on a tier's chain wins, and
// the GEMM (whose tiles differ per ISA) takes the first tiling of that ISA.
#include "kernel-lists.h"

namespace convnode {

double fma_probe_scalar();
double fma_probe_avx2();
double fma_probe_neon();
double fma_probe_avx512();

namespace {

// GEMM blocking from the cache sizes: L1 32 KiB, L2 512 KiB. kc*nr*4 B ~ 16 KiB of B
// micro-panel in L1; kc*nc*4 B ~ 256 KiB of packed B plus an A block in L2.
const KernelSpec<GemmConfig> kGemm[] = {
    {"f32-gemm", "4x8", Isa::Scalar,
     {f32_gemm_4x8__scalar, nullptr, f32_gemv_general__scalar, 4, 8, 256, 256, nullptr, nullptr, nullptr, 0, nullptr, nullptr}},
#if defined(CONVNODE_HAVE_AVX2)
    {"f32-gemm", "6x16", Isa::Avx2,
     {f32_gemm_6x16__avx2, f32_gemm_6x8__avx2, f32_gemv_6x1__avx2, 6, 16, 256, 240, f32_gemm_6x16_sweep__avx2,
      nullptr, nullptr, 0, nullptr, nullptr}},
#endif
#if defined(CONVNODE_HAVE_AVX512)
    // K blocks of at most 192: a 16-row A panel is as large as the B micro-panel here (16 KiB
    // each at 256, the whole 32 KiB L1), so where A streams from memory, used by one or two
    // tiles (Winograd's point GEMMs at 7x7, 1x1 convs on small maps), it evicted the B panel.
    // At 192 (12 + 12 KiB), bench/model-ab.mjs, Zen 4, load 18-21, 25 rounds, sums of step
    // minima: ResNet-18 3x3 0.89x (3x3 512 @7 0.71-0.82x), all steps 0.92x; ResNet-50 3x3 0.92x,
    // all 0.97x; GoogLeNet, MobileNetV2 1.00-1.02x; two copies of one build 0.99-1.02x apart.
    {"f32-gemm", "16x16", Isa::Avx512,
     {f32_gemm_16x16__avx512, f32_gemm_16x8__avx512, f32_gemv_16x1__avx512, 16, 16, 192, 240,
      f32_gemm_16x16_sweep__avx512, f32_im2col_pack__avx512, f32_gemm_16x12_columns__avx512, 12,
      f32_gemm_pack_a_16__avx512, f32_igemm_16x16__avx512}},
#endif
#if defined(CONVNODE_HAVE_NEON)
    {"f32-gemm", "8x8", Isa::Neon,
     {f32_gemm_8x8__neon, nullptr, f32_gemv_general__scalar, 8, 8, 256, 256, nullptr, nullptr, nullptr, 0, nullptr, nullptr}},
#endif
#if defined(CONVNODE_HAVE_WASMSIMD)
    {"f32-gemm", "4x8", Isa::WasmSimd,
     {f32_gemm_4x8__wasmsimd, nullptr, f32_gemv_4x1__wasmsimd, 4, 8, 256, 256, nullptr,
      f32_im2col_pack__wasmsimd}},
#endif
};

// Depthwise: the general kernel takes any window and is every tier's fallback for the windows
// without a row kernel (dispatch asks for "general" where a KxKsS tile is missing).
const KernelSpec<DwconvKernel> kDwconv[] = {
    {"f32-dwconv", "general", Isa::Scalar, f32_dwconv_general__scalar},
#if defined(CONVNODE_HAVE_AVX2)
    {"f32-dwconv", "3x3s1", Isa::Avx2, f32_dwconv_3x3s1__avx2},
    {"f32-dwconv", "3x3s2", Isa::Avx2, f32_dwconv_3x3s2__avx2},
    {"f32-dwconv", "5x5s1", Isa::Avx2, f32_dwconv_5x5s1__avx2},
    {"f32-dwconv", "5x5s2", Isa::Avx2, f32_dwconv_5x5s2__avx2},
    {"f32-dwconv", "7x7s1", Isa::Avx2, f32_dwconv_7x7s1__avx2},
    {"f32-dwconv", "7x7s2", Isa::Avx2, f32_dwconv_7x7s2__avx2},
#endif
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-dwconv", "3x3s1", Isa::Avx512, f32_dwconv_3x3s1__avx512},
    {"f32-dwconv", "3x3s2", Isa::Avx512, f32_dwconv_3x3s2__avx512},
    {"f32-dwconv", "5x5s1", Isa::Avx512, f32_dwconv_5x5s1__avx512},
    {"f32-dwconv", "5x5s2", Isa::Avx512, f32_dwconv_5x5s2__avx512},
    {"f32-dwconv", "7x7s1", Isa::Avx512, f32_dwconv_7x7s1__avx512},
    {"f32-dwconv", "7x7s2", Isa::Avx512, f32_dwconv_7x7s2__avx512},
#endif
#if defined(CONVNODE_HAVE_NEON)
    {"f32-dwconv", "3x3s1", Isa::Neon, f32_dwconv_3x3s1__neon},
    {"f32-dwconv", "3x3s2", Isa::Neon, f32_dwconv_3x3s2__neon},
    {"f32-dwconv", "5x5s1", Isa::Neon, f32_dwconv_5x5s1__neon},
    {"f32-dwconv", "5x5s2", Isa::Neon, f32_dwconv_5x5s2__neon},
    {"f32-dwconv", "7x7s1", Isa::Neon, f32_dwconv_7x7s1__neon},
    {"f32-dwconv", "7x7s2", Isa::Neon, f32_dwconv_7x7s2__neon},
#endif
#if defined(CONVNODE_HAVE_WASMSIMD)
    {"f32-dwconv", "3x3s1", Isa::WasmSimd, f32_dwconv_3x3s1__wasmsimd},
    {"f32-dwconv", "3x3s2", Isa::WasmSimd, f32_dwconv_3x3s2__wasmsimd},
    {"f32-dwconv", "5x5s1", Isa::WasmSimd, f32_dwconv_5x5s1__wasmsimd},
    {"f32-dwconv", "5x5s2", Isa::WasmSimd, f32_dwconv_5x5s2__wasmsimd},
    {"f32-dwconv", "7x7s1", Isa::WasmSimd, f32_dwconv_7x7s1__wasmsimd},
    {"f32-dwconv", "7x7s2", Isa::WasmSimd, f32_dwconv_7x7s2__wasmsimd},
#endif
};

// Max pool: the 3x3 stride-2 kernel (ResNet's stem pool) is optional; the scalar tier has none
// and runs "general" (ops/pool.cc falls back when the slot is null).
const KernelSpec<PoolKernel> kMaxpool[] = {
    {"f32-maxpool", "general", Isa::Scalar, f32_maxpool_general__scalar},
#if defined(CONVNODE_HAVE_AVX2)
    {"f32-maxpool", "3x3s2", Isa::Avx2, f32_maxpool_3x3s2__avx2},
#endif
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-maxpool", "3x3s2", Isa::Avx512, f32_maxpool_3x3s2__avx512},
    {"f32-maxpool", "general", Isa::Avx512, f32_maxpool_general__avx512},
#endif
#if defined(CONVNODE_HAVE_NEON)
    {"f32-maxpool", "3x3s2", Isa::Neon, f32_maxpool_3x3s2__neon},
#endif
#if defined(CONVNODE_HAVE_WASMSIMD)
    {"f32-maxpool", "3x3s2", Isa::WasmSimd, f32_maxpool_3x3s2__wasmsimd},
#endif
};

const KernelSpec<PoolKernel> kAvgpool[] = {
    {"f32-avgpool", "general", Isa::Scalar, f32_avgpool_general__scalar},
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-avgpool", "general", Isa::Avx512, f32_avgpool_general__avx512},
#endif
};

// Global pooling: one value per plane (squeeze-and-excitation gates, classifier heads).
const KernelSpec<GlobalPoolKernel> kGavgpool[] = {
    {"f32-gavgpool", "", Isa::Scalar, f32_gavgpool__scalar},
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-gavgpool", "", Isa::Avx512, f32_gavgpool__avx512},
#endif
};
const KernelSpec<GlobalPoolKernel> kGmaxpool[] = {
    {"f32-gmaxpool", "", Isa::Scalar, f32_gmaxpool__scalar},
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-gmaxpool", "", Isa::Avx512, f32_gmaxpool__avx512},
#endif
};

// Winograd F(2x2, 3x3), F(4x4, 3x3) and F(6x6, 3x3) transforms; the scalar ones are also NEON's (their loops
// vectorise), reached through NEON's fallback to scalar.
const KernelSpec<WinogradTransforms> kWinograd[] = {
    {"f32-winograd", "2x2", Isa::Scalar, {f32_winograd_2x2_input__scalar, f32_winograd_2x2_output__scalar}},
    {"f32-winograd", "4x4", Isa::Scalar, {f32_winograd_4x4_input__scalar, f32_winograd_4x4_output__scalar}},
    {"f32-winograd", "6x6", Isa::Scalar, {f32_winograd_6x6_input__scalar, f32_winograd_6x6_output__scalar}},
#if defined(CONVNODE_HAVE_AVX2)
    {"f32-winograd", "2x2", Isa::Avx2, {f32_winograd_2x2_input__avx2, f32_winograd_2x2_output__avx2}},
    {"f32-winograd", "4x4", Isa::Avx2, {f32_winograd_4x4_input__avx2, f32_winograd_4x4_output__avx2}},
    {"f32-winograd", "6x6", Isa::Avx2, {f32_winograd_6x6_input__avx2, f32_winograd_6x6_output__avx2}},
#endif
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-winograd", "4x4", Isa::Avx512, {f32_winograd_4x4_input__avx512, f32_winograd_4x4_output__avx512}},
    {"f32-winograd", "6x6", Isa::Avx512, {f32_winograd_6x6_input__avx512, f32_winograd_6x6_output__avx512}},
#endif
};

// The point GEMMs' full tile with U requested ahead (native/ops/winograd.cc): optional, so only
// the ISAs that have one list it. Its tile is the GEMM tiling whose panels it reads; dispatch
// asks for the tier's GEMM tile, so a tier whose GEMM is another tiling gets none.
#if defined(CONVNODE_HAVE_AVX512)
const KernelSpec<WinogradGemmKernel> kWinogradGemm[] = {
    {"f32-winograd-gemm", "16x16", Isa::Avx512, f32_winograd_gemm_16x16__avx512},
};
#endif

const KernelSpec<GconvKernel> kGconv[] = {
    {"f32-gconv", "direct", Isa::Scalar, f32_gconv_direct__scalar},
#if defined(CONVNODE_HAVE_AVX2)
    {"f32-gconv", "direct", Isa::Avx2, f32_gconv_direct__avx2},
#endif
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-gconv", "direct", Isa::Avx512, f32_gconv_direct__avx512},
#endif
};

const KernelSpec<GconvLanesKernel> kGconvLanes[] = {
    {"f32-gconv", "lanes", Isa::Scalar, f32_gconv_lanes__scalar},
#if defined(CONVNODE_HAVE_AVX2)
    {"f32-gconv", "lanes", Isa::Avx2, f32_gconv_lanes__avx2},
#endif
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-gconv", "lanes", Isa::Avx512, f32_gconv_lanes__avx512},
#endif
};

const KernelSpec<VUnaryKernel> kVUnary[] = {
    {"f32-vunary", "", Isa::Scalar, f32_vunary__scalar},
#if defined(CONVNODE_HAVE_AVX2)
    {"f32-vunary", "", Isa::Avx2, f32_vunary__avx2},
#endif
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-vunary", "", Isa::Avx512, f32_vunary__avx512},
#endif
#if defined(CONVNODE_HAVE_NEON)
    {"f32-vunary", "", Isa::Neon, f32_vunary__neon},
#endif
};

const KernelSpec<VBinaryKernel> kVBinary[] = {
    {"f32-vbinary", "", Isa::Scalar, f32_vbinary__scalar},
#if defined(CONVNODE_HAVE_AVX2)
    {"f32-vbinary", "", Isa::Avx2, f32_vbinary__avx2},
#endif
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-vbinary", "", Isa::Avx512, f32_vbinary__avx512},
#endif
#if defined(CONVNODE_HAVE_NEON)
    {"f32-vbinary", "", Isa::Neon, f32_vbinary__neon},
#endif
};

const KernelSpec<VAffineKernel> kVAffine[] = {
    {"f32-vaffine", "", Isa::Scalar, f32_vaffine__scalar},
#if defined(CONVNODE_HAVE_AVX2)
    {"f32-vaffine", "", Isa::Avx2, f32_vaffine__avx2},
#endif
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-vaffine", "", Isa::Avx512, f32_vaffine__avx512},
#endif
#if defined(CONVNODE_HAVE_NEON)
    {"f32-vaffine", "", Isa::Neon, f32_vaffine__neon},
#endif
};

const KernelSpec<FmaProbeKernel> kFmaProbe[] = {
    {"fma-probe", "", Isa::Scalar, fma_probe_scalar},
#if defined(CONVNODE_HAVE_AVX2)
    {"fma-probe", "", Isa::Avx2, fma_probe_avx2},
#endif
#if defined(CONVNODE_HAVE_AVX512)
    {"fma-probe", "", Isa::Avx512, fma_probe_avx512},
#endif
#if defined(CONVNODE_HAVE_NEON)
    {"fma-probe", "", Isa::Neon, fma_probe_neon},
#endif
};

const KernelSpec<LayerNormKernels> kLayerNorm[] = {
    {"f32-layernorm", "", Isa::Scalar, {f32_layernorm_rows__scalar, f32_layernorm_columns__scalar}},
#if defined(CONVNODE_HAVE_AVX2)
    {"f32-layernorm", "", Isa::Avx2, {f32_layernorm_rows__avx2, f32_layernorm_columns__avx2}},
#endif
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-layernorm", "", Isa::Avx512, {f32_layernorm_rows__avx512, f32_layernorm_columns__avx512}},
#endif
#if defined(CONVNODE_HAVE_NEON)
    {"f32-layernorm", "", Isa::Neon, {f32_layernorm_rows__neon, f32_layernorm_columns__neon}},
#endif
};

const KernelSpec<SoftmaxKernels> kSoftmax[] = {
    {"f32-softmax", "", Isa::Scalar, {f32_softmax_rows__scalar, f32_softmax_columns__scalar}},
#if defined(CONVNODE_HAVE_AVX2)
    {"f32-softmax", "", Isa::Avx2, {f32_softmax_rows__avx2, f32_softmax_columns__avx2}},
#endif
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-softmax", "", Isa::Avx512, {f32_softmax_rows__avx512, f32_softmax_columns__avx512}},
#endif
#if defined(CONVNODE_HAVE_NEON)
    {"f32-softmax", "", Isa::Neon, {f32_softmax_rows__neon, f32_softmax_columns__neon}},
#endif
};

const KernelSpec<ResizeKernels> kResize[] = {
    {"f32-resize", "", Isa::Scalar, {f32_resize_nearest__scalar, f32_resize_nearest_2x__scalar, f32_resize_bilinear__scalar}},
#if defined(CONVNODE_HAVE_AVX2)
    {"f32-resize", "", Isa::Avx2, {f32_resize_nearest__avx2, f32_resize_nearest_2x__avx2, f32_resize_bilinear__avx2}},
#endif
#if defined(CONVNODE_HAVE_AVX512)
    {"f32-resize", "", Isa::Avx512, {f32_resize_nearest__avx512, f32_resize_nearest_2x__avx512, f32_resize_bilinear__avx512}},
#endif
#if defined(CONVNODE_HAVE_NEON)
    {"f32-resize", "", Isa::Neon, {f32_resize_nearest__neon, f32_resize_nearest_2x__neon, f32_resize_bilinear__neon}},
#endif
};

template <typename Fn>
void append_names(KernelList<Fn> list, std::vector<KernelName>* out) {
  for (const KernelSpec<Fn>& spec : list) out->push_back({spec.family, spec.tile, spec.isa});
}

}  // namespace

KernelList<GemmConfig> gemm_kernels() { return kernel_list(kGemm); }
KernelList<DwconvKernel> dwconv_kernels() { return kernel_list(kDwconv); }
KernelList<PoolKernel> maxpool_kernels() { return kernel_list(kMaxpool); }
KernelList<PoolKernel> avgpool_kernels() { return kernel_list(kAvgpool); }
KernelList<GlobalPoolKernel> gavgpool_kernels() { return kernel_list(kGavgpool); }
KernelList<GlobalPoolKernel> gmaxpool_kernels() { return kernel_list(kGmaxpool); }
KernelList<WinogradTransforms> winograd_kernels() { return kernel_list(kWinograd); }
KernelList<WinogradGemmKernel> winograd_gemm_kernels() {
#if defined(CONVNODE_HAVE_AVX512)
  return kernel_list(kWinogradGemm);
#else
  return {nullptr, 0};  // no ISA of this build has one
#endif
}
KernelList<GconvKernel> gconv_kernels() { return kernel_list(kGconv); }
KernelList<GconvLanesKernel> gconv_lanes_kernels() { return kernel_list(kGconvLanes); }
KernelList<VUnaryKernel> vunary_kernels() { return kernel_list(kVUnary); }
KernelList<VBinaryKernel> vbinary_kernels() { return kernel_list(kVBinary); }
KernelList<VAffineKernel> vaffine_kernels() { return kernel_list(kVAffine); }
KernelList<FmaProbeKernel> fma_probe_kernels() { return kernel_list(kFmaProbe); }
KernelList<LayerNormKernels> layernorm_kernels() { return kernel_list(kLayerNorm); }
KernelList<SoftmaxKernels> softmax_kernels() { return kernel_list(kSoftmax); }
KernelList<ResizeKernels> resize_kernels() { return kernel_list(kResize); }

std::vector<KernelName> listed_kernels() {
  std::vector<KernelName> names;
  append_names(gemm_kernels(), &names);
  append_names(dwconv_kernels(), &names);
  append_names(maxpool_kernels(), &names);
  append_names(avgpool_kernels(), &names);
  append_names(gavgpool_kernels(), &names);
  append_names(gmaxpool_kernels(), &names);
  append_names(winograd_kernels(), &names);
  append_names(winograd_gemm_kernels(), &names);
  append_names(gconv_kernels(), &names);
  append_names(gconv_lanes_kernels(), &names);
  append_names(vunary_kernels(), &names);
  append_names(vbinary_kernels(), &names);
  append_names(vaffine_kernels(), &names);
  append_names(fma_probe_kernels(), &names);
  append_names(layernorm_kernels(), &names);
  append_names(softmax_kernels(), &names);
  append_names(resize_kernels(), &names);
  return names;
}

}  // namespace convnode
