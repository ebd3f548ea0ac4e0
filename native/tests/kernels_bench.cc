// The kernels micro-benchmark: every entry of every kernel list (runtime/kernel-lists.h) that
// this CPU can run, timed on its own over a small problem that sits in L1 / L2, so the figure is
// the kernel's and not the memory system's. Prints GFLOP/s for the compute kernels and GB/s
// (bytes read + written) for the data-movement ones, with % of the single-core FMA peak of the
// kernel's own ISA (the fma-probe list, measured here).
//
// Timing: the thread's CPU time (the machine is shared; wall time would count other processes),
// rounds interleaved across all entries so load changes hit every entry alike, median of rounds.
// Run through `npm run bench -- kernels` (bench/kernels.mjs builds it), or directly:
//   convnode_kernels_bench [--rounds N] [--ms M] [--filter TEXT]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "../runtime/cpu.h"
#include "../runtime/fma-probe.h"
#include "../runtime/kernel-lists.h"

using namespace convnode;

namespace {

struct Case {
  std::string name;   // "f32-dwconv 3x3s1 avx2" plus what the problem is
  Isa isa;
  double flops;       // per call of run(); 0 for data-movement kernels
  double bytes;       // read + written per call
  std::function<void()> run;
  std::vector<double> seconds_per_call;  // one per round
};

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Buffers live as long as the cases that point into them.
std::vector<std::vector<float>>& arena() {
  static std::vector<std::vector<float>> buffers;
  return buffers;
}
float* buffer(size_t n, unsigned seed = 1) {
  arena().push_back(random_floats(n + 64, seed));  // slack: kernels may read a vector past the end
  return arena().back().data();
}

std::string label(const char* family, const char* tile, Isa isa, const std::string& what) {
  std::string s = family;
  if (tile[0] != '\0') s += std::string(" ") + tile;
  s += std::string(" ") + isa_name(isa);
  if (!what.empty()) s += " (" + what + ")";
  return s;
}

void add_gemm_cases(std::vector<Case>* cases) {
  for (const KernelSpec<GemmConfig>& spec : gemm_kernels()) {
    const GemmConfig g = spec.fn;
    const size_t kc = 256, panels = 8, mr = g.mr, nr = g.nr;
    const float* a = buffer(mr * kc);
    const float* b = buffer(panels * kc * nr, 2);
    float* c = buffer(mr * panels * nr);
    const size_t ldc = panels * nr;
    cases->push_back({label(spec.family, spec.tile, spec.isa, "k256, 8 tiles"), spec.isa,
                      2.0 * mr * nr * kc * panels, 0,
                      [=] {
                        for (size_t p = 0; p < panels; p++)
                          g.kernel(mr, nr, kc, a, b + p * kc * nr, nr, c + p * nr, ldc, false, nullptr);
                      },
                      {}});
    if (g.narrow != nullptr) {
      const size_t half = nr / 2;
      cases->push_back({label(spec.family, spec.tile, spec.isa, "edge tile " + std::to_string(mr) + "x" +
                                                                    std::to_string(half) + ", k256, 8 tiles"),
                        spec.isa, 2.0 * mr * half * kc * panels, 0,
                        [=] {
                          for (size_t p = 0; p < panels; p++)
                            g.narrow(mr, half, kc, a, b + p * kc * nr, nr, c + p * nr, ldc, false, nullptr);
                        },
                        {}});
    }
    if (g.sweep != nullptr) {
      const size_t skc = 32, nc = 64;  // the 1x1 path's small-K case (MobileNetV2 expansions)
      cases->push_back({label(spec.family, spec.tile, spec.isa, "sweep k32 x 64 px"), spec.isa, 2.0 * mr * nc * skc,
                        0, [=] { g.sweep(mr, nc, skc, a, b, c, nc, false, nullptr); }, {}});
    }
    {
      // GEMV: Linear at batch 1 over the same panels, 64 panels of k256 (weights from L2).
      const size_t gpanels = 64;
      const float* ga = buffer(gpanels * mr * kc, 3);
      const float* x = buffer(kc, 4);
      float* acc = buffer(gpanels * mr);
      cases->push_back({label(spec.family, spec.tile, spec.isa, "gemv " + std::to_string(mr) + "x1, k256"), spec.isa,
                        2.0 * mr * kc * gpanels, 4.0 * gpanels * mr * kc,
                        [=] {
                          for (size_t p = 0; p < gpanels; p++) g.gemv(mr, kc, ga + p * mr * kc, x, acc + p * mr);
                        },
                        {}});
    }
    {
      // im2col: 32 channels 56x56, 3x3 stride 1 pad 1: K 288, one K block x 240 pixels.
      const Im2colShape shape{32, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 56};
      const float* in = buffer(32 * 56 * 56, 5);
      const size_t ikc = 256, inc = 240, cols = (inc + nr - 1) / nr * nr;
      float* dst = buffer(ikc * cols);
      const Im2colPackKernel pack = g.im2col != nullptr ? g.im2col : f32_im2col_pack;
      cases->push_back({label(spec.family, spec.tile, spec.isa,
                              g.im2col != nullptr ? "its im2col pack, k256 x 240 px" : "portable im2col pack, k256 x 240 px"),
                        spec.isa, 0, 4.0 * ikc * cols * 2, [=] { pack(nr, shape, in, 0, ikc, 0, inc, dst); }, {}});
    }
  }
}

void add_dwconv_cases(std::vector<Case>* cases) {
  for (const KernelSpec<DwconvKernel>& spec : dwconv_kernels()) {
    // KxKsS from the tile name; "general" is timed as 3x3 stride 1.
    size_t k = 3, s = 1;
    if (std::strcmp(spec.tile, "general") != 0) std::sscanf(spec.tile, "%zux%*us%zu", &k, &s);
    const size_t h = 56, out = (h + 2 * (k / 2) - k) / s + 1;
    DwconvPlane p{};
    p.input = buffer(h * h);
    p.in_h = p.in_w = h;
    p.weights = buffer(k * k, 2);
    p.bias = 0.1f;
    p.output = buffer(out * out);
    p.out_h = p.out_w = out;
    p.row_begin = 0, p.row_end = out;
    p.kernel_h = p.kernel_w = k;
    p.stride_h = p.stride_w = s;
    p.dilation_h = p.dilation_w = 1;
    p.pad_top = p.pad_left = k / 2;
    p.activation.kind = ActivationKind::Relu6;
    const DwconvKernel fn = spec.fn;
    cases->push_back({label(spec.family, spec.tile, spec.isa,
                            std::to_string(k) + "x" + std::to_string(k) + "/" + std::to_string(s) + " 56x56 plane, relu6"),
                      spec.isa, 2.0 * k * k * out * out, 4.0 * (h * h + out * out), [=] { fn(p); }, {}});
  }
}

PoolPlane pool_plane(size_t h, size_t k, size_t s, size_t pad) {
  PoolPlane p{};
  const size_t out = (h + 2 * pad - k) / s + 1;
  p.input = buffer(h * h);
  p.in_h = p.in_w = h;
  p.output = buffer(out * out);
  p.out_h = p.out_w = out;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = s;
  p.dilation_h = p.dilation_w = 1;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
  return p;
}

void add_pool_cases(std::vector<Case>* cases) {
  for (KernelList<PoolKernel> list : {maxpool_kernels(), avgpool_kernels()}) {
    for (const KernelSpec<PoolKernel>& spec : list) {
      // 3x3 stride 2 pad 1 over 112x112 (ResNet's stem pool) for every entry, so the general
      // kernels read side by side with the specialised one.
      const PoolPlane p = pool_plane(112, 3, 2, 1);
      const PoolKernel fn = spec.fn;
      cases->push_back({label(spec.family, spec.tile, spec.isa, "3x3/2 112x112 plane"), spec.isa, 0,
                        4.0 * (p.in_h * p.in_w + p.out_h * p.out_w), [=] { fn(p); }, {}});
    }
  }
}

void add_winograd_cases(std::vector<Case>* cases) {
  for (const KernelSpec<WinogradTransforms>& spec : winograd_kernels()) {
    const bool large = std::strcmp(spec.tile, "4x4") == 0;
    const size_t t = large ? kWinograd4x4Tile : kWinogradTile;
    const size_t points = large ? kWinograd4x4Points : kWinogradPoints;
    const size_t h = 56, tiles_w = (h + t - 1) / t, tiles = tiles_w * tiles_w;
    const WinogradPlane g{h, h, h, h, 1, 1, tiles_w};
    const float* plane = buffer(h * h);
    float* v = buffer(points * tiles);
    float* out = buffer(h * h);
    const WinogradTransforms fn = spec.fn;
    cases->push_back({label(spec.family, spec.tile, spec.isa, "input transform, 56x56 plane"), spec.isa, 0,
                      4.0 * (h * h + points * tiles),
                      [=] { fn.input(plane, g, 0, tiles, v, tiles, tiles, 0); }, {}});
    Activation none;
    cases->push_back({label(spec.family, spec.tile, spec.isa, "output transform, 56x56 plane"), spec.isa, 0,
                      4.0 * (h * h + points * tiles),
                      [=] { fn.output(v, tiles, g, 0, tiles, 0.1f, nullptr, none, out); }, {}});
  }
}

void add_winograd_gemm_cases(std::vector<Case>* cases) {
  for (const KernelSpec<WinogradGemmKernel>& spec : winograd_gemm_kernels()) {
    // One 16x16 tile of a K block of 192 (ResNet's 256- and 512-channel 3x3 convs on avx512), A
    // and B in L1: the tile's own pace; what its prefetch buys shows only where U streams from
    // memory (bench/model-ab.mjs on ResNet).
    const size_t mr = 16, nr = 16, kc = 192;  // the only tile listed (16x16)
    const float* a = buffer(mr * kc);
    const float* b = buffer(kc * nr, 2);
    float* c = buffer(mr * nr);
    const WinogradGemmKernel fn = spec.fn;
    cases->push_back({label(spec.family, spec.tile, spec.isa, "one tile, K 192"), spec.isa, 2.0 * mr * nr * kc, 0,
                      [=] { fn(kc, a, b, c, nr, false, 64 * 16); }, {}});
  }
}

void add_gconv_cases(std::vector<Case>* cases) {
  for (const KernelSpec<GconvKernel>& spec : gconv_kernels()) {
    // One block of 8 output channels of a group of 8 input channels, 3x3, 56x56 (ResNeXt-like).
    const size_t gin = 8, h = 56, k = 3, padded = h + 2;
    // Stride 1: tap t of grid pixel q reads the padded plane at q + ky * padded + kx, and the grid
    // is as wide as the padded row (its last two pixels per row are computed and not stored).
    static size_t taps[9];
    for (size_t t = 0; t < k * k; ++t) taps[t] = (t / k) * padded + t % k;
    GconvRows r{};
    r.plane_floats = padded * padded + kGconvBlock;
    r.padded = buffer(gin * r.plane_floats);
    r.group_in = gin;
    r.tap_offsets = taps, r.taps = k * k;
    r.weights = buffer(gin * k * k * kGconvBlock, 2);
    r.out_count = kGconvBlock;
    r.out_h = r.out_w = h, r.grid_w = padded;
    r.out = buffer(kGconvBlock * h * h);
    r.activation.kind = ActivationKind::Relu;
    const GconvKernel fn = spec.fn;
    cases->push_back({label(spec.family, spec.tile, spec.isa, "8 in -> 8 out, 3x3, 56x56"), spec.isa,
                      2.0 * gin * kGconvBlock * k * k * h * h, 0, [=] { fn(r); }, {}});
  }
}

void add_elementwise_cases(std::vector<Case>* cases) {
  const size_t n = 4096;  // 16 KiB per operand: L1
  for (const KernelSpec<VUnaryKernel>& spec : vunary_kernels()) {
    for (ActivationKind kind : {ActivationKind::Relu, ActivationKind::Silu}) {
      const float* in = buffer(n);
      float* out = buffer(n);
      Activation act;
      act.kind = kind;
      const VUnaryKernel fn = spec.fn;
      cases->push_back({label(spec.family, spec.tile, spec.isa, std::string(kind == ActivationKind::Relu ? "relu" : "silu") + ", 4096"),
                        spec.isa, 0, 8.0 * n, [=] { fn(n, in, out, act); }, {}});
    }
  }
  for (const KernelSpec<VBinaryKernel>& spec : vbinary_kernels()) {
    const float* a = buffer(n);
    const float* b = buffer(n, 2);
    float* out = buffer(n);
    const VBinaryKernel fn = spec.fn;
    const Activation none;
    cases->push_back({label(spec.family, spec.tile, spec.isa, "add, 4096"), spec.isa, 0, 12.0 * n,
                      [=] { fn(BinaryOp::Add, BinaryForm::VectorVector, n, a, b, out, none); }, {}});
  }
  for (const KernelSpec<VAffineKernel>& spec : vaffine_kernels()) {
    const float* in = buffer(n);
    float* out = buffer(n);
    Activation relu;
    relu.kind = ActivationKind::Relu;
    const VAffineKernel fn = spec.fn;
    cases->push_back({label(spec.family, spec.tile, spec.isa, "x * s + b, relu, 4096"), spec.isa, 0, 8.0 * n,
                      [=] { fn(n, in, 1.5f, 0.25f, out, relu); }, {}});
  }
}

// Seconds of thread CPU time per call: calls in batches until `ms` have passed.
double time_case(Case& c, double ms) {
  size_t calls = 1;
  for (;;) {
    const double start = probe_seconds();
    for (size_t i = 0; i < calls; i++) c.run();
    const double seconds = probe_seconds() - start;
    if (seconds * 1e3 >= ms) return seconds / static_cast<double>(calls);
    calls = seconds <= 0 ? calls * 8 : std::max(calls * 2, static_cast<size_t>(calls * (ms / 1e3) / seconds * 1.2));
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  double ms = 20;
  std::string filter;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    if (arg == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--ms" && i + 1 < argc) ms = std::max(1.0, std::atof(argv[++i]));
    else if (arg == "--filter" && i + 1 < argc) filter = argv[++i];
    else {
      std::fprintf(stderr, "usage: convnode_kernels_bench [--rounds N] [--ms M] [--filter TEXT]\n");
      return 2;
    }
  }

  std::vector<Case> all;
  add_gemm_cases(&all);
  add_dwconv_cases(&all);
  add_pool_cases(&all);
  add_winograd_cases(&all);
  add_winograd_gemm_cases(&all);
  add_gconv_cases(&all);
  add_elementwise_cases(&all);

  // Only what this CPU runs; say what was left out and why (never a silent skip).
  std::vector<Case> cases;
  std::map<std::string, int> skipped;
  for (Case& c : all) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    if (!cpu_supports(c.isa)) {
      skipped[isa_name(c.isa)]++;
      continue;
    }
    cases.push_back(std::move(c));
  }

  // Each ISA's single-core FMA peak, from the fma-probe list.
  std::map<Isa, double> peak;
  for (const KernelSpec<FmaProbeKernel>& spec : fma_probe_kernels()) {
    if (cpu_supports(spec.isa)) peak[spec.isa] = spec.fn();
  }
  for (const auto& [isa, gflops] : peak) std::printf("fma peak %-6s %7.1f GFLOP/s (1 core)\n", isa_name(isa), gflops);
  for (const auto& [isa, count] : skipped) {
    std::printf("%s: skipped %d listed cases, CPU lacks %s\n", isa.c_str(), count,
                isa == "avx512" ? "AVX-512F/BW/DQ/VL (or the OS does not save ZMM state)" : isa.c_str());
  }

  for (int r = 0; r < rounds; r++) {
    for (Case& c : cases) c.seconds_per_call.push_back(time_case(c, ms));
  }

  std::printf("(no %% of peak for scalar entries: the compiler vectorises the portable code for the baseline ISA,\n"
              " SSE2 on x86-64, so the scalar probe's rate is no ceiling for it)\n");
  std::printf("\n%-70s %10s %9s %9s %7s\n", "kernel (problem)", "us/call", "GFLOP/s", "GB/s", "% peak");
  for (const Case& c : cases) {
    const double s = median(c.seconds_per_call);
    const double gflops = c.flops / s / 1e9;
    char flops_col[16] = "-", bytes_col[16] = "-", peak_col[16] = "-";
    if (c.flops > 0) {
      std::snprintf(flops_col, sizeof flops_col, "%.1f", gflops);
      if (peak.count(c.isa) && c.isa != Isa::Scalar) std::snprintf(peak_col, sizeof peak_col, "%.0f%%", 100.0 * gflops / peak[c.isa]);
    }
    if (c.bytes > 0) std::snprintf(bytes_col, sizeof bytes_col, "%.1f", c.bytes / s / 1e9);
    std::printf("%-70s %10.2f %9s %9s %7s\n", c.name.c_str(), s * 1e6, flops_col, bytes_col, peak_col);
  }
  return 0;
}
