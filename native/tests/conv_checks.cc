// Conv2d end to end, per ISA against the scalar table and the float64 definition: the fixed
// cases and a random sweep, each with its structural default algorithm, the three Winograd tiles
// where they apply and the grouped direct kernels (f32-gconv flat grid and lanes) where they do; the plan's checks
// (a run off the planned window refused, packed sizes, NaN footprints of the large tiles).
#include <stdexcept>

#include "../ops/argument_error.h"
#include "../ops/winograd.h"

#include "kernels_test.h"

namespace kernels_test {
namespace {

// 3x3 stride-1 convs, which test_convs also runs with both Winograd tiles: the smallest map it takes (6x6), odd sizes whose last tiles are cut, pad 0 and
// asymmetric pads, a tile row longer than one 64-tile segment, K blocks (Cin 300) with chunks of
// 16 tiles that start mid-row, batch > 1, channel counts that are not multiples of 6 or 16,
// every activation with and without residual, Cin 512 for float32 accuracy, and GEMV tails.
std::vector<ConvCase> winograd_cases() {
  using A = ActivationKind;
  return {
      {2, 24, 16, 1, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::None, true, false},
      {1, 25, 19, 1, 9, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Relu, true, true},
      {1, 31, 37, 1, 11, 10, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, A::Relu6, false, true},
      {2, 40, 23, 1, 12, 9, 3, 3, 1, 1, 1, 1, 2, 0, 1, 2, A::LeakyRelu, true, true},
      {1, 33, 17, 1, 8, 140, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::HardSwish, true, true},
      {1, 300, 20, 1, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Sigmoid, true, true},
      {3, 48, 50, 1, 15, 15, 3, 3, 1, 1, 1, 1, 1, 0, 0, 1, A::Relu, true, false},
      {1, 26, 29, 1, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, A::HardSwish, false, false},
      {1, 27, 16, 1, 14, 7, 3, 3, 1, 1, 1, 1, 0, 1, 0, 1, A::Sigmoid, false, false},
      {1, 512, 16, 1, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::None, false, false},
      {1, 512, 17, 1, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::LeakyRelu, true, true},
      // Last panels of 1 or 2 tiles (GEMV columns), and a remainder that joins the last chunk:
      // 49 tiles at Cin 256 (chunks of 16: 16 + 16 + 17), 65 at Cin 64 (64 + 1), 18.
      {1, 256, 20, 1, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Relu, true, true},
      {1, 64, 22, 1, 10, 26, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::HardSwish, true, false},
      {2, 30, 17, 1, 6, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Relu6, false, true},
      // One chunk for several threads: its output channels split into parts (with 3 threads),
      // through gemm_block's K blocks (Cin 512) and with a GEMV tail (18 tiles).
      {1, 512, 100, 1, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Relu, true, true},
      {1, 64, 60, 1, 6, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::LeakyRelu, true, true},
      {1, 256, 60, 1, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Relu6, true, true},
      // ResNet's layer3 / layer4 shapes through the K-blocked point GEMMs (Cin 512 and 256: 3
      // and 2 K blocks; avx512 runs the U-prefetching tile on full 16x16 tiles): batch 2, a
      // partial last row panel (40 = 16 + 16 + 8), odd maps whose last tiles are cut, and 49
      // tiles (a 1-column panel).
      {2, 512, 40, 1, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Relu, true, true},
      {2, 256, 33, 1, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Relu, false, true},
      {1, 257, 48, 1, 13, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::None, true, false},
  };
}

std::vector<ConvCase> conv_cases() {
  using A = ActivationKind;
  std::vector<ConvCase> cases = {
      {1, 3, 5, 1, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::None, true, false},
      {2, 300, 13, 1, 7, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::Relu, true, true},      // 1x1 direct, K blocks
      // 49 and 52 pixels: last tiles of 1 and 4 columns take the narrow (6x8) kernel, with K
      // blocks (accumulate), partial row panels, a residual, and sigmoid's scalar store.
      {1, 300, 13, 1, 7, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::Relu6, true, true},
      {1, 20, 12, 1, 4, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Sigmoid, true, true},
      {1, 3, 7, 1, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::None, true, false},         // odd K (27)
      {1, 16, 64, 1, 16, 16, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::HardSwish, false, false},
      // 1x1 in small pixel blocks, rows prefetched two blocks ahead: K blocks and a 3-column
      // tail (80-pixel blocks on AVX2), 48-pixel blocks, short K (one 240-pixel block plus a
      // tail), groups; weights over 256 KiB keep 240-pixel blocks.
      {2, 300, 13, 1, 17, 19, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::Relu, true, true},
      {1, 256, 10, 1, 15, 13, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::None, false, false},
      {2, 20, 13, 1, 17, 19, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::Relu, true, true},
      {1, 8, 6, 2, 15, 21, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::None, false, false},
      {1, 300, 256, 1, 7, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::Relu6, true, false},
      // 1x1 with K <= 32 (MobileNetV2's expansions): each row panel sweeps the block's columns
      // (f32_gemm_6x16_sweep on AVX2) in pieces. K 1, 3, 16, 17, 24, 32; pixels off 16 and 8
      // (tails of 15, 3, 14, 11, 5 columns), past one 240-pixel block; M 16, 5, 13, 40 (4-row
      // and short panels); every activation, residual or not; batch 1 to 3.
      {1, 1, 16, 1, 13, 11, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::Relu6, true, true},       // 143 px
      {2, 3, 5, 1, 17, 19, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::LeakyRelu, true, false},  // 240 + 83
      {1, 16, 96, 1, 16, 17, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::Relu6, true, true},      // 272
      {3, 17, 13, 1, 9, 30, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::HardSwish, false, true},  // 240 + 30
      {1, 24, 24, 1, 23, 13, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::Sigmoid, true, true},    // 240 + 59
      {2, 32, 40, 1, 3, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::None, true, true},         // 21
      {1, 32, 16, 1, 28, 28, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::Relu, false, false},     // 784
      {1, 40, 70, 1, 20, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Relu6, true, true},    // K and pixel blocks
      // 1x1 at stride > 1 without pads (ResNet's downsampling shortcuts): the input subsampled,
      // then the 1x1 path. Odd maps at batch 2 with a residual, K blocks and unequal strides,
      // groups; a padded one stays on im2col.
      {2, 40, 20, 1, 15, 13, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, A::Relu, true, true},
      {1, 300, 24, 1, 14, 29, 1, 1, 2, 3, 1, 1, 0, 0, 0, 0, A::None, false, false},
      {1, 8, 8, 2, 9, 9, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, A::Sigmoid, true, false},
      {1, 6, 5, 1, 9, 9, 1, 1, 2, 2, 1, 1, 1, 1, 1, 1, A::None, true, false},
      {1, 3, 16, 1, 33, 31, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, A::Sigmoid, true, false},  // stem
      // Stride 2 with one K block (ops/conv_phase_rows.cc on tables with an indirect tile): rows of
      // 28, 14 and 31 outputs (last tiles of 12, 14 and 15 columns), partial row panels (40 = 16 +
      // 16 + 8, 17 = 16 + 1), batch 2 with a residual, asymmetric pads, 5x5 at K 175.
      {2, 3, 40, 1, 30, 56, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, A::Relu, true, true},
      {1, 3, 24, 1, 29, 28, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0, A::Relu6, false, false},
      {1, 7, 17, 1, 40, 62, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, A::HardSwish, true, false},
      {2, 4, 6, 1, 8, 7, 2, 3, 1, 2, 1, 1, 0, 2, 1, 0, A::LeakyRelu, true, true},     // asymmetric pads
      {1, 5, 9, 1, 15, 17, 3, 3, 1, 1, 2, 3, 2, 2, 2, 2, A::None, false, false},     // dilation
      {1, 6, 10, 2, 9, 11, 3, 3, 2, 1, 1, 1, 1, 0, 1, 2, A::Relu, true, false},      // groups
      // Grouped stride 1 (also run by f32-gconv): ResNeXt-like width 4, RegNet-like width 16
      // with 12 outputs per group (blocks of 8 + 4), widths off 8, dilation, 1x1 and 5x5, batch 2.
      {1, 32, 32, 8, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Relu, true, true},
      {2, 64, 48, 4, 7, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::HardSwish, true, false},
      {1, 12, 18, 3, 10, 17, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, A::Relu6, false, true},
      {1, 16, 24, 4, 6, 21, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, A::Sigmoid, true, false},
      {1, 10, 10, 2, 12, 9, 5, 5, 1, 1, 1, 1, 2, 1, 0, 2, A::LeakyRelu, true, true},
      // Grouped stride 2 (f32-gconv on phase planes): odd maps, 24 outputs a group (8 + 8 + 8).
      {1, 32, 32, 8, 15, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, A::Relu, true, true},
      {2, 48, 72, 3, 9, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, A::Silu, true, false},
      // Blocks of 16 outputs >= 3/4 full run f32-gconv lanes (input read in place; the 12 and 24
      // a group above too): RegNetX's width 16 at stride 2 from 14x14, 32 a group with dilation
      // and pads cut unevenly, a map with no interior pixel.
      {1, 32, 32, 2, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, A::Relu, true, true},
      {2, 16, 64, 2, 15, 11, 3, 3, 2, 2, 2, 2, 1, 2, 2, 0, A::Sigmoid, false, true},
      {1, 32, 32, 2, 3, 2, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, A::HardSwish, true, false},
      {1, 12, 12, 12, 37, 41, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Relu6, true, true},   // dw 3x3s1
      {2, 12, 12, 12, 37, 41, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, A::HardSwish, true, false},  // dw 3x3s2
      {1, 5, 10, 5, 19, 35, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0, A::Sigmoid, false, true},   // dw multiplier 2
      {1, 4, 4, 4, 30, 45, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, A::None, true, false},      // dw no pads
      {1, 3, 3, 3, 13, 21, 5, 5, 1, 1, 2, 1, 2, 2, 2, 2, A::LeakyRelu, true, false},  // dw general
      {3, 8, 8, 8, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Relu, true, false},        // dw tiny planes
      // Narrow dw planes (output width < 32) take the zero-padded block path: row tails, spills
      // into the next row, a band's last row, wider pads, sigmoid's scalar epilogue.
      {1, 16, 16, 16, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Relu6, true, true},     // 7x7 (MobileNet)
      {2, 6, 6, 6, 14, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, A::HardSwish, true, true},  // s2, one whole step
      {1, 4, 4, 4, 9, 17, 3, 3, 1, 1, 1, 1, 2, 2, 0, 1, A::None, false, true},        // pad 2, width 18
      {1, 3, 3, 3, 31, 31, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Sigmoid, true, true},     // widest narrow
      {1, 5, 5, 5, 20, 8, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, A::Relu, true, true},         // width 6, no pads
      {1, 4, 8, 4, 11, 29, 3, 3, 2, 2, 1, 1, 0, 1, 2, 0, A::LeakyRelu, true, false},  // s2 multiplier 2
  };
  for (const ConvCase& c : winograd_cases()) cases.push_back(c);
  std::mt19937 rng(1234);
  auto pick = [&](std::initializer_list<size_t> v) { return *(v.begin() + rng() % v.size()); };
  // 40 random geometries, every one valid: a draw whose dilated window is larger than the padded
  // input is drawn again (not dropped), so the sweep's size cannot shrink unnoticed.
  constexpr size_t kRandomCases = 40;
  const size_t fixed_cases = cases.size();
  while (cases.size() - fixed_cases < kRandomCases) {
    ConvCase c{};
    c.batch = pick({1, 2});
    c.groups = pick({1, 1, 2, 3});
    c.cin = c.groups * pick({1, 3, 5, 7});
    c.cout = c.groups * pick({1, 4, 7, 13, 19});
    c.h = pick({5, 7, 12, 19});
    c.w = pick({6, 9, 13, 25, 33});
    c.kh = pick({1, 2, 3, 5});
    c.kw = pick({1, 3, c.kh});
    c.sh = pick({1, 2, 3});
    c.sw = pick({1, 2});
    c.dh = pick({1, 1, 2});
    c.dw = pick({1, 2});
    c.pt = pick({0, 1, 2});
    c.pl = pick({0, 1});
    c.pb = pick({0, 1, 2});
    c.pr = pick({0, 2});
    c.act = static_cast<ActivationKind>(rng() % kActivationKinds);
    c.bias = rng() % 2;
    c.residual = rng() % 2;
    if (c.dh * (c.kh - 1) + 1 > c.h + c.pt + c.pb || c.dw * (c.kw - 1) + 1 > c.w + c.pl + c.pr) continue;
    cases.push_back(c);
  }
  return cases;
}

// The float error model every algorithm is held to (native/README.md): |y - y64| <= c (Cin/groups
// K K) eps32 sum|w x|, per output before the activation, with the bias and residual's own
// rounding on top, times the activation's slope there, and a factor 2 of slack (the float
// activations' own rounding).
constexpr double kErrorModelC = 1.0;

// Each output against the float64 definition under the error model.
void expect_within_error_model(const std::vector<float>& got, const ConvCase& c, const ConvRun& r,
                               const std::vector<float>& in, const std::vector<float>& wt,
                               const std::vector<float>& bias, const std::vector<float>& res,
                               const std::string& label) {
  g_checks++;
  const Window& w = r.window;
  const double n_terms = static_cast<double>(c.cin / c.groups * c.kh * c.kw);
  const double eps32 = 1.1920928955078125e-7;
  const std::vector<ConvSum> sums = conv_sums_f64(c, r, in, wt, bias);
  size_t at = 0;
  for (size_t n = 0; n < c.batch; n++)
    for (size_t o = 0; o < c.cout; o++)
      for (size_t oy = 0; oy < w.out_h; oy++)
        for (size_t ox = 0; ox < w.out_w; ox++, at++) {
          double sum = sums[at].sum;
          const double magnitude = sums[at].magnitude;
          if (c.residual) sum += res[at];
          const double want = reference_activation(static_cast<float>(sum), c.act);
          const double rounding = 2.0 * eps32 * (std::fabs(sum) + (c.bias ? std::fabs(bias[o]) : 0.0) +
                                                 (c.residual ? std::fabs(res[at]) : 0.0));
          const double pre = kErrorModelC * n_terms * eps32 * magnitude + rounding;
          // The activation scales a difference by its slope near the sum (exp's can be large):
          // measured over the error interval itself, at least 1.
          const double h = std::max(pre, 1e-6);
          const double slope = std::fabs(static_cast<double>(reference_activation(static_cast<float>(sum + h), c.act)) -
                                         reference_activation(static_cast<float>(sum - h), c.act)) / (2.0 * h);
          const double bound = 2.0 * pre * std::max(1.0, slope) + 2.0 * eps32 * std::fabs(want) + 1e-30;
          if (!(std::fabs(got[at] - want) <= bound)) {
            std::printf("FAIL %s: element %zu is %.9g, expected %.9g (bound %.3g)\n", label.c_str(), at, got[at], want,
                        bound);
            g_failures++;
            return;
          }
        }
}

}  // namespace

void test_convs(const KernelConfig& isa, const KernelConfig& scalar) {
  std::mt19937 rng(42);
  for (const ConvCase& c : conv_cases()) {
    const ConvRun r = run_of(c);
    const auto in = random_floats(c.batch * c.cin * c.h * c.w, rng);
    const auto wt = random_floats(c.cout * (c.cin / c.groups) * c.kh * c.kw, rng);
    const auto bias = random_floats(c.cout, rng);
    const auto res = random_floats(c.batch * c.cout * r.window.out_h * r.window.out_w, rng);
    // The structural default, and both Winograd tiles wherever they compute the conv.
    std::vector<ConvAlgorithm> algorithms = {conv_default_algorithm(params_of(c))};
    if (winograd_applies(c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.groups)) {
      algorithms.push_back(ConvAlgorithm::WinogradF2x2);
      algorithms.push_back(ConvAlgorithm::WinogradF4x4);
      algorithms.push_back(ConvAlgorithm::WinogradF6x6);
    }
    ConvParams direct = params_of(c);
    direct.algorithm = ConvAlgorithm::GroupedDirect;
    if (conv_algorithm_refusal(direct).empty()) algorithms.push_back(ConvAlgorithm::GroupedDirect);
    for (ConvAlgorithm algorithm : algorithms) {
      const std::string name = std::string(conv_algorithm_name(algorithm)) + " " + describe(c);
      const auto reference = run_conv(scalar, c, r, in, wt, bias, res, static_cast<int>(algorithm));
      expect_within_error_model(reference, c, r, in, wt, bias, res, "scalar vs float64 " + name);
      // F(2x2) and the direct algorithms also keep the old flat tolerance against the naive conv.
      const bool large_tile = algorithm == ConvAlgorithm::WinogradF4x4 || algorithm == ConvAlgorithm::WinogradF6x6;
      if (!large_tile) {
        expect_close(reference, naive_conv(c, r, in, wt, bias, res), "scalar vs naive " + name);
      }
      if (&isa != &scalar) {
        const auto got = run_conv(isa, c, r, in, wt, bias, res, static_cast<int>(algorithm));
        expect_within_error_model(got, c, r, in, wt, bias, res, std::string(isa_name(isa.isa)) + " vs float64 " + name);
        if (!large_tile) {
          expect_close(got, reference, std::string(isa_name(isa.isa)) + " vs scalar " + name);
        }
      }
    }
  }
}

// 1x1 convs with few outputs on large maps, where the micro-kernel reads the input rows in place
// (ops/pointwise_few.cc: at most two MR-row panels, k <= kc_max, >= 56x56 pixels): one and two
// panels, part-filled panels, maps whose pixels end mid-tile (the zero-padded last tile), batch
// 3, residual, bias or none, and shapes just past the limits (33+ outputs, 257 channels, 55x56),
// each against the float64 definition and the scalar table's result. Then the small maps (8x8 to
// 14x14 on one thread: B in place over several K blocks, pointwise_few.cc's run_small_map):
// MobileNetV2's 384 -> 64 and 576 -> 96 @14 (2 and 3 K blocks on avx512), a 14x14 expansion
// (24 panels: past the form's 8, the packed GEMM), part-filled panels (33, 40, 20 outputs), K blocks of odd sizes (400,
// 193, 300 channels), last tiles of 1 and 9 columns (the columns kernel, in place) and of 15 (a
// zero-padded copy), an exact 4-tile 8x8 map, batch 2 and 3, and a 7x7 map (below the form's
// limit), 15x15 (above it) and 1024 -> 256 @14 (an input past its 512 KB).
void test_pointwise_few_outputs(const KernelConfig& isa, const KernelConfig& scalar) {
  struct Shape {
    size_t batch, cin, cout, h, w;
  };
  const Shape shapes[] = {{1, 32, 16, 56, 56}, {1, 3, 1, 57, 59},    {3, 16, 7, 56, 57},   {1, 96, 24, 56, 56},
                          {2, 144, 32, 59, 57}, {1, 256, 17, 56, 56}, {1, 257, 16, 56, 56}, {1, 24, 33, 56, 56},
                          {1, 16, 16, 55, 56},  {3, 40, 24, 113, 112},
                          // small maps
                          {1, 384, 64, 14, 14}, {2, 576, 96, 14, 14}, {1, 64, 384, 14, 14}, {1, 400, 40, 9, 9},
                          {3, 200, 33, 13, 13}, {1, 193, 16, 8, 8},   {2, 300, 20, 127, 1}, {1, 960, 160, 7, 7},
                          {1, 250, 24, 15, 15}, {1, 1024, 256, 14, 14}};
  std::mt19937 rng(1209);
  int kind = 0;
  for (const Shape& s : shapes) {
    ConvCase c{};
    c.batch = s.batch;
    c.cin = s.cin;
    c.cout = s.cout;
    c.groups = 1;
    c.h = s.h;
    c.w = s.w;
    c.kh = c.kw = c.sh = c.sw = c.dh = c.dw = 1;
    c.act = static_cast<ActivationKind>(kind++ % kActivationKinds);
    c.bias = rng() % 3 != 0;
    c.residual = rng() % 2;
    const ConvRun r = run_of(c);
    const auto in = random_floats(c.batch * c.cin * c.h * c.w, rng);
    const auto wt = random_floats(c.cout * c.cin, rng);
    const auto bias = random_floats(c.cout, rng);
    const auto res = random_floats(c.batch * c.cout * c.h * c.w, rng);
    const auto reference = run_conv(scalar, c, r, in, wt, bias, res);
    expect_within_error_model(reference, c, r, in, wt, bias, res, "scalar 1x1 few outputs vs float64 " + describe(c));
    if (&isa != &scalar) {
      const auto got = run_conv(isa, c, r, in, wt, bias, res);
      expect_within_error_model(got, c, r, in, wt, bias, res,
                                std::string(isa_name(isa.isa)) + " 1x1 few outputs vs float64 " + describe(c));
      expect_close(got, reference, std::string(isa_name(isa.isa)) + " 1x1 few outputs vs scalar " + describe(c));
    }
  }
}

// A conv is planned for one window: a run with another stride or dilation is refused with an
// error naming the field, and an algorithm that cannot compute the conv is refused at prepare.
void test_conv_plan_checks(const KernelConfig& isa) {
  using A = ActivationKind;
  const ConvCase c = {1, 24, 16, 1, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::Relu, true, false};
  std::mt19937 rng(5);
  const auto wt = random_floats(c.cout * c.cin * 9, rng);
  ConvParams p = params_of(c);
  p.algorithm = ConvAlgorithm::WinogradF4x4;
  Conv2d conv(p, wt.data(), wt.size(), nullptr, 0, isa);
  ConvParams p6 = params_of(c);
  p6.algorithm = ConvAlgorithm::WinogradF6x6;
  Conv2d conv6(p6, wt.data(), wt.size(), nullptr, 0, isa);
  ConvCase stride2 = c;
  stride2.sh = stride2.sw = 2;
  const ConvRun r = run_of(stride2);
  const size_t in_size = c.cin * c.h * c.w, out_size = c.cout * r.window.out_h * r.window.out_w;
#if defined(__cpp_exceptions)
  g_checks++;
  try {
    conv.check(r, in_size, out_size, false, 0);
    std::printf("FAIL a stride-2 run of a conv planned for stride 1 was accepted\n");
    g_failures++;
  } catch (const ArgumentError& e) {
    if (std::string(e.what()).find("geometry.strideH is 2 but the conv was planned") == std::string::npos) {
      std::printf("FAIL stride mismatch message: %s\n", e.what());
      g_failures++;
    }
  }
  g_checks++;
  ConvParams strided = params_of(stride2);
  strided.algorithm = ConvAlgorithm::WinogradF2x2;
  try {
    Conv2d refused(strided, wt.data(), wt.size(), nullptr, 0, isa);
    std::printf("FAIL Winograd accepted for a stride-2 conv\n");
    g_failures++;
  } catch (const ArgumentError& e) {
    if (std::string(e.what()).find("algorithm 'winograd-f2x2-3x3' needs a 3x3 kernel, stride 1") == std::string::npos) {
      std::printf("FAIL refusal message: %s\n", e.what());
      g_failures++;
    }
  }
#else
  g_refusals_skipped += 2;
  (void)conv; (void)in_size; (void)out_size;
#endif
  // The packed bytes name the forms: 36 MR-padded U matrices (F(4x4)), its im2col form (for
  // non-finite inputs) and no bias.
  g_checks++;
  const size_t rows = (c.cout + isa.gemm.mr - 1) / isa.gemm.mr * isa.gemm.mr;
  const size_t expected = (36 + 9) * rows * c.cin * sizeof(float);
  if (conv.packed_bytes() != expected) {
    std::printf("FAIL F(4x4) packed %zu bytes, expected %zu\n", conv.packed_bytes(), expected);
    g_failures++;
  }
  g_checks++;
  if (conv6.packed_bytes() != (64 + 9) * rows * c.cin * sizeof(float)) {
    std::printf("FAIL F(6x6) packed %zu bytes, expected %zu\n", conv6.packed_bytes(), (64 + 9) * rows * c.cin * sizeof(float));
    g_failures++;
  }
  // A NaN in the input takes the im2col form: it reaches exactly the outputs whose window
  // covers it (F(4x4)'s transforms would spread it over its tiles).
  for (const Conv2d* large : {&conv, &conv6}) {
  g_checks++;
  const ConvRun planned = run_of(c);
  std::vector<float> in(c.cin * c.h * c.w, 0.5f), out(c.cout * planned.window.out_h * planned.window.out_w);
  in[4 * c.w + 4] = NAN;  // channel 0, (4, 4): outputs (3..5, 3..5)
  large->run(planned, in.data(), out.data(), nullptr);
  size_t nans = 0;
  for (size_t y = 0; y < planned.window.out_h; y++)
    for (size_t x = 0; x < planned.window.out_w; x++) {
      const bool inside = y >= 3 && y <= 5 && x >= 3 && x <= 5;
      if (std::isnan(out[y * planned.window.out_w + x]) != inside) nans++;
    }
  if (nans != 0) {
    std::printf("FAIL %s with a NaN input: %zu outputs of channel 0 on the wrong side of its footprint\n",
                large == &conv ? "F(4x4)" : "F(6x6)", nans);
    g_failures++;
  }
  }
}

}  // namespace kernels_test
