// Standalone test of the plain-C++ ops (no Node): every vector ISA this CPU runs is compared
// against the scalar table, and the scalar table against the naive definition, over sweeps of
// conv / depthwise / pooling / linear shapes. Built natively it checks AVX2; cross-compiled for
// aarch64 and run under qemu it checks NEON; built with sanitizers it checks memory safety.
// Prints one line per ISA and exits non-zero on the first mismatch. The tables it runs are the
// kernel lists' content (kernel_lists_checks.inc proves it), so each listed kernel is covered.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../ops/argument_error.h"
#include "../ops/conv2d.h"
#include "../ops/gemm_driver.h"
#include "../ops/linear.h"
#include "../ops/pool.h"
#include "../ops/winograd.h"
#include "../runtime/dispatch.h"
#include "../runtime/thread_pool.h"

using namespace convnode;

namespace {

int g_failures = 0;
int g_checks = 0;

std::vector<float> random_floats(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& label) {
  g_checks++;
  for (size_t i = 0; i < want.size(); i++) {
    const float a = got[i];
    const float e = want[i];
    if (std::isnan(a) && std::isnan(e)) continue;
    if (a == e) continue;  // equal infinities too
    if (!(std::fabs(a - e) <= 1e-4f * std::fmax(1.0f, std::fabs(e)))) {
      std::printf("FAIL %s: element %zu is %g, expected %g\n", label.c_str(), i, a, e);
      g_failures++;
      return;
    }
  }
}

struct ConvCase {
  size_t batch, cin, cout, groups, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  ActivationKind act;
  bool bias, residual;
};

std::string describe(const ConvCase& c) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "N%zu %zu->%zu g%zu %zux%zu k%zux%zu s%zux%zu d%zux%zu p%zu,%zu,%zu,%zu act%d%s%s",
                c.batch, c.cin, c.cout, c.groups, c.h, c.w, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.pt, c.pl, c.pb, c.pr,
                static_cast<int>(c.act), c.bias ? " bias" : "", c.residual ? " residual" : "");
  return buf;
}

// Every activation kind, numbered as in epilogue.h (None = 0 ... Mish = 15).
constexpr int kActivationKinds = 16;

// The parameters the tests give each kind (non-default, so a lost parameter shows).
Activation test_activation(ActivationKind kind) {
  Activation a;
  a.kind = kind;
  a.alpha = kind == ActivationKind::HardSigmoid ? 0.3f : 0.1f;
  a.beta = 0.4f;
  a.min = -0.5f;
  a.max = 0.75f;
  return a;
}

// The definition in double precision, written apart from epilogue.h's activate().
float reference_activation(float xf, ActivationKind kind) {
  const Activation a = test_activation(kind);
  if (std::isnan(xf)) return xf;  // every kind passes NaN through (the depthwise sweep feeds NaN)
  const double x = xf;
  const auto softplus = [](double v) { return v > 30 ? v : std::log1p(std::exp(v)); };
  switch (kind) {
    case ActivationKind::None: return xf;
    case ActivationKind::Relu: return x > 0 ? xf : 0;
    case ActivationKind::Relu6: return static_cast<float>(std::fmin(6.0, std::fmax(0.0, x)));
    case ActivationKind::Clip: return static_cast<float>(std::fmin(a.max, std::fmax(a.min, x)));
    case ActivationKind::LeakyRelu: return static_cast<float>(x < 0 ? a.alpha * x : x);
    case ActivationKind::Elu: return static_cast<float>(x < 0 ? a.alpha * (std::exp(x) - 1.0) : x);
    case ActivationKind::HardSigmoid: return static_cast<float>(std::fmin(1.0, std::fmax(0.0, a.alpha * x + a.beta)));
    case ActivationKind::HardSwish: return static_cast<float>(x * std::fmin(6.0, std::fmax(0.0, x + 3.0)) / 6.0);
    case ActivationKind::Sigmoid: return static_cast<float>(1.0 / (1.0 + std::exp(-x)));
    case ActivationKind::Silu: return static_cast<float>(x / (1.0 + std::exp(-x)));
    case ActivationKind::Tanh: return static_cast<float>(std::tanh(x));
    case ActivationKind::Gelu: return static_cast<float>(0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))));
    case ActivationKind::GeluTanh:
      return static_cast<float>(0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))));
    case ActivationKind::Exp: return static_cast<float>(std::exp(x));
    case ActivationKind::Softplus: return static_cast<float>(softplus(x));
    case ActivationKind::Mish: return static_cast<float>(x * std::tanh(softplus(x)));
  }
  return xf;
}

ConvRun run_of(const ConvCase& c) {
  ConvRun r;
  r.batch = c.batch;
  r.in_channels = c.cin;
  r.out_channels = c.cout;
  r.groups = c.groups;
  Window& w = r.window;
  w = {c.h, c.w, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.pt, c.pl, c.pb, c.pr, 0, 0};
  w.out_h = window_output_size(c.h, c.kh, c.dh, c.sh, c.pt, c.pb, false);
  w.out_w = window_output_size(c.w, c.kw, c.dw, c.sw, c.pl, c.pr, false);
  return r;
}

std::vector<float> naive_conv(const ConvCase& c, const ConvRun& r, const std::vector<float>& in, const std::vector<float>& wt,
                              const std::vector<float>& bias, const std::vector<float>& res) {
  const Window& w = r.window;
  std::vector<float> out(c.batch * c.cout * w.out_h * w.out_w);
  const size_t cin_g = c.cin / c.groups;
  const size_t cout_g = c.cout / c.groups;
  size_t at = 0;
  for (size_t n = 0; n < c.batch; n++)
    for (size_t o = 0; o < c.cout; o++)
      for (size_t oy = 0; oy < w.out_h; oy++)
        for (size_t ox = 0; ox < w.out_w; ox++, at++) {
          double sum = c.bias ? bias[o] : 0.0;
          for (size_t ci = 0; ci < cin_g; ci++)
            for (size_t ky = 0; ky < c.kh; ky++)
              for (size_t kx = 0; kx < c.kw; kx++) {
                const long iy = static_cast<long>(oy * c.sh + ky * c.dh) - static_cast<long>(c.pt);
                const long ix = static_cast<long>(ox * c.sw + kx * c.dw) - static_cast<long>(c.pl);
                if (iy < 0 || ix < 0 || iy >= static_cast<long>(c.h) || ix >= static_cast<long>(c.w)) continue;
                const size_t ch = (o / cout_g) * cin_g + ci;
                sum += static_cast<double>(in[((n * c.cin + ch) * c.h + iy) * c.w + ix]) *
                       wt[((o * cin_g + ci) * c.kh + ky) * c.kw + kx];
              }
          if (c.residual) sum += res[at];
          out[at] = reference_activation(static_cast<float>(sum), c.act);
        }
  return out;
}

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

ConvParams params_of(const ConvCase& c) {
  ConvParams p{};
  p.in_channels = c.cin, p.out_channels = c.cout, p.groups = c.groups, p.kernel_h = c.kh, p.kernel_w = c.kw;
  p.stride_h = c.sh, p.stride_w = c.sw, p.dilation_h = c.dh, p.dilation_w = c.dw;
  p.activation = test_activation(c.act);
  p.algorithm = conv_default_algorithm(p);
  return p;
}

// With the structural default algorithm unless one is named.
std::vector<float> run_conv(const KernelConfig& config, const ConvCase& c, const ConvRun& r, const std::vector<float>& in,
                            const std::vector<float>& wt, const std::vector<float>& bias, const std::vector<float>& res,
                            int algorithm = -1) {
  ConvParams p = params_of(c);
  if (algorithm >= 0) p.algorithm = static_cast<ConvAlgorithm>(algorithm);
  Conv2d conv(p, wt.data(), wt.size(), c.bias ? bias.data() : nullptr, bias.size(), config);
  std::vector<float> out(c.batch * c.cout * r.window.out_h * r.window.out_w, NAN);
  conv.check(r, in.size(), out.size(), c.residual, res.size());
  conv.run(r, in.data(), out.data(), c.residual ? res.data() : nullptr);
  return out;
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
  const size_t cin_g = c.cin / c.groups, cout_g = c.cout / c.groups;
  const double n_terms = static_cast<double>(cin_g * c.kh * c.kw);
  const double eps32 = 1.1920928955078125e-7;
  size_t at = 0;
  for (size_t n = 0; n < c.batch; n++)
    for (size_t o = 0; o < c.cout; o++)
      for (size_t oy = 0; oy < w.out_h; oy++)
        for (size_t ox = 0; ox < w.out_w; ox++, at++) {
          double sum = c.bias ? bias[o] : 0.0, magnitude = 0.0;
          for (size_t ci = 0; ci < cin_g; ci++)
            for (size_t ky = 0; ky < c.kh; ky++)
              for (size_t kx = 0; kx < c.kw; kx++) {
                const long iy = static_cast<long>(oy * c.sh + ky * c.dh) - static_cast<long>(c.pt);
                const long ix = static_cast<long>(ox * c.sw + kx * c.dw) - static_cast<long>(c.pl);
                if (iy < 0 || ix < 0 || iy >= static_cast<long>(c.h) || ix >= static_cast<long>(c.w)) continue;
                const size_t ch = (o / cout_g) * cin_g + ci;
                const double product = static_cast<double>(in[((n * c.cin + ch) * c.h + iy) * c.w + ix]) *
                                       wt[((o * cin_g + ci) * c.kh + ky) * c.kw + kx];
                sum += product;
                magnitude += std::fabs(product);
              }
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

// The Winograd transforms on their own, against the scalar ones: planes narrower than a vector
// group (all loads masked), pads 0 / 1 / 2 / asymmetric, odd output sizes, chunks that start and
// end mid-row, and B panels whose rows a group straddles. Buffers are exactly as large as the
// contract says, so the sanitizer build sees any read or write past them; slots outside the
// transformed channel's panel rows must keep their sentinel.
// One Winograd tile size's transforms in a table: T x T outputs per tile, `points` products.
struct WinogradTransforms {
  const char* name;
  size_t tile, points;
  WinogradInputKernel input;
  WinogradOutputKernel output;
};

void test_winograd_transforms_of(const KernelConfig& isa, const WinogradTransforms& k, const WinogradTransforms& ref) {
  struct Plane {
    size_t in_h, in_w, pt, pl, pb, pr;
  };
  // 30x130: rows of 65 (F(2x2)) or 33 (F(4x4)) tiles, past one 32-tile segment and two 16-lane groups.
  const Plane planes[] = {{56, 56, 1, 1, 1, 1}, {7, 7, 1, 1, 1, 1},   {9, 13, 2, 0, 1, 2},   {6, 5, 0, 0, 0, 0},
                          {8, 40, 1, 1, 0, 0},  {11, 37, 0, 2, 2, 1}, {30, 130, 1, 1, 1, 1}};
  const size_t channels = 3, channel = 1;  // channel 1's rows of 3-channel panels
  std::mt19937 rng(31);
  for (const Plane& pl : planes) {
    const size_t out_h = pl.in_h + pl.pt + pl.pb - 2, out_w = pl.in_w + pl.pl + pl.pr - 2;
    const size_t T = k.tile;
    const WinogradPlane g = {pl.in_h, pl.in_w, out_h, out_w, pl.pt, pl.pl, (out_w + T - 1) / T};
    const size_t tiles = (out_h + T - 1) / T * g.tiles_w;
    const auto plane = random_floats(pl.in_h * pl.in_w, rng);
    const size_t chunks[][2] = {{0, tiles}, {3, std::min<size_t>(29, tiles - 3)}, {tiles > 5 ? tiles - 5 : 0, std::min<size_t>(5, tiles)},
                                {tiles / 2, tiles - tiles / 2}, {1, std::min<size_t>(16, tiles - 1)}};
    for (const auto& chunk : chunks) {
      const size_t t0 = chunk[0], count = chunk[1];
      if (count == 0 || t0 + count > tiles) continue;  // planes of a few F(4x4) tiles lack some chunks
      for (size_t panel_width : {size_t{16}, size_t{6}, count}) {
        const size_t panels = (count + panel_width - 1) / panel_width;
        const size_t point_stride = panels * channels * panel_width;
        const float sentinel = 1234.5f;
        std::vector<float> want(k.points * point_stride, sentinel), got(want);
        const size_t offset = channel * panel_width, panel_stride = channels * panel_width;
        ref.input(plane.data(), g, t0, count, want.data() + offset, point_stride, panel_width, panel_stride);
        k.input(plane.data(), g, t0, count, got.data() + offset, point_stride, panel_width, panel_stride);
        // Slots past the last tile in the last panel row may hold anything; nothing else may differ.
        for (size_t p = 0; p < k.points; p++) {
          for (size_t o = count; o < panels * panel_width; o++) {
            const size_t at = p * point_stride + offset + (o / panel_width) * panel_stride + o % panel_width;
            got[at] = want[at];
          }
        }
        char label[160];
        std::snprintf(label, sizeof label, "%s winograd %s input %zux%zu pads %zu,%zu tiles [%zu, +%zu) panel %zu",
                      isa_name(isa.isa), k.name, pl.in_h, pl.in_w, pl.pt, pl.pl, t0, count, panel_width);
        expect_close(got, want, label);
      }
      // The output transform, with every activation, with and without residual and bias.
      const size_t point_stride = count + 3;
      const auto m = random_floats((k.points - 1) * point_stride + count, rng);
      const auto residual = random_floats(out_h * out_w, rng);
      for (int act = 0; act < kActivationKinds; act++) {
        const Activation a = test_activation(static_cast<ActivationKind>(act));
        const bool with_residual = act % 2 == 0;
        std::vector<float> want(out_h * out_w, 1234.5f), got(want);
        const float* res = with_residual ? residual.data() : nullptr;
        const float bias = act == 3 ? 0.0f : 0.25f;
        ref.output(m.data(), point_stride, g, t0, count, bias, res, a, want.data());
        k.output(m.data(), point_stride, g, t0, count, bias, res, a, got.data());
        char label[160];
        std::snprintf(label, sizeof label, "%s winograd %s output %zux%zu tiles [%zu, +%zu) act %d%s", isa_name(isa.isa),
                      k.name, out_h, out_w, t0, count, act, with_residual ? " residual" : "");
        expect_close(got, want, label);
      }
    }
  }
}

void test_winograd_transforms(const KernelConfig& isa, const KernelConfig& scalar) {
  test_winograd_transforms_of(isa, {"F(2x2)", kWinogradTile, kWinogradPoints, isa.winograd_input, isa.winograd_output},
                              {"F(2x2)", kWinogradTile, kWinogradPoints, scalar.winograd_input, scalar.winograd_output});
  test_winograd_transforms_of(
      isa, {"F(4x4)", kWinograd4x4Tile, kWinograd4x4Points, isa.winograd_4x4_input, isa.winograd_4x4_output},
      {"F(4x4)", kWinograd4x4Tile, kWinograd4x4Points, scalar.winograd_4x4_input, scalar.winograd_4x4_output});
  test_winograd_transforms_of(
      isa, {"F(6x6)", kWinograd6x6Tile, kWinograd6x6Points, isa.winograd_6x6_input, isa.winograd_6x6_output},
      {"F(6x6)", kWinograd6x6Tile, kWinograd6x6Points, scalar.winograd_6x6_input, scalar.winograd_6x6_output});
}

// The narrow dw path keeps a zero border in per-thread scratch between planes. Convs of the
// other stride (another translation unit) and of other shapes reuse that scratch: the same conv
// run again after them must still see a clean border.
void test_dwconv_scratch_reuse(const KernelConfig& isa, const KernelConfig& scalar) {
  using A = ActivationKind;
  const ConvCase narrow = {1, 6, 6, 6, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, A::None, true, false};
  const ConvCase others[] = {
      {1, 6, 6, 6, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, A::None, true, false},  // stride 2, other layout
      {1, 6, 6, 6, 9, 9, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, A::None, true, false},    // stride 1, no pads
  };
  std::mt19937 rng(99);
  const ConvRun r = run_of(narrow);
  const auto in = random_floats(narrow.batch * narrow.cin * narrow.h * narrow.w, rng);
  const auto wt = random_floats(narrow.cout * 9, rng);
  const auto bias = random_floats(narrow.cout, rng);
  const std::vector<float> no_res;
  const auto reference = run_conv(scalar, narrow, r, in, wt, bias, no_res);
  for (const ConvCase& other : others) {
    run_conv(isa, narrow, r, in, wt, bias, no_res);
    const ConvRun ro = run_of(other);
    // Large inputs, so stale values left in the border would show.
    std::vector<float> big(other.batch * other.cin * other.h * other.w, 1000.0f);
    run_conv(isa, other, ro, big, random_floats(other.cout * 9, rng), bias, no_res);
    expect_close(run_conv(isa, narrow, r, in, wt, bias, no_res), reference,
                 std::string(isa_name(isa.isa)) + " dw 7x7 after " + describe(other));
  }
}

// The K x K stride-S depthwise kernels (K 3 / 5 / 7, S 1 / 2) of every vector ISA against the
// scalar kernel, and the scalar kernel against the definition: dilation 1, 2 and 3x1, pads 0 /
// symmetric / asymmetric / wider than the window's half, widths around the vector and step sizes
// (1..2 lanes of AVX-512 x 2 steps, 7, 14, 112) and under the window, odd heights, multiplier 1
// and 2, batch 2, every activation kind, residual (also in place: residual == output) or not,
// and inputs holding NaN, +inf and -inf. Run with 1 and 3 threads (main), so planes are also cut
// into row bands.
void test_dwconv_kxk(const KernelConfig& isa, const KernelConfig& scalar) {
  struct Plane {
    size_t h, w;
    int pads;  // 0: none, 1: symmetric (k - 1) / 2 * d, 2: asymmetric, 3: wide
  };
  const Plane planes[] = {{7, 7, 1},   {14, 14, 1}, {9, 33, 1},  {5, 61, 0},  {12, 17, 2}, {8, 3, 1},
                          {6, 115, 2}, {3, 16, 3},  {11, 32, 0}, {4, 64, 2},  {15, 1, 3},  {13, 112, 1}};
  std::mt19937 rng(2026);
  size_t tested = 0;
  int kind = 0;
  for (size_t k : {3, 5, 7}) {
    for (size_t s : {1, 2}) {
      for (int dil = 0; dil < 3; dil++) {
        const size_t dh = dil == 0 ? 1 : (dil == 1 ? 2 : 3), dw = dil == 2 ? 1 : dh;
        for (const Plane& pl : planes) {
          ConvCase c{};
          c.batch = 2;
          c.cin = 3;
          c.cout = rng() % 2 ? 3 : 6;
          c.groups = 3;
          c.h = pl.h;
          c.w = pl.w;
          c.kh = c.kw = k;
          c.sh = c.sw = s;
          c.dh = dh;
          c.dw = dw;
          const size_t half_h = (k - 1) / 2 * dh, half_w = (k - 1) / 2 * dw;
          switch (pl.pads) {
            case 0: c.pt = c.pl = c.pb = c.pr = 0; break;
            case 1: c.pt = c.pb = half_h; c.pl = c.pr = half_w; break;
            case 2: c.pt = 0; c.pl = 2 * half_w; c.pb = 2 * half_h; c.pr = 1; break;
            default: c.pt = half_h + 1; c.pl = half_w + 2; c.pb = half_h + 2; c.pr = half_w + 1; break;
          }
          c.act = static_cast<ActivationKind>(kind++ % 16);
          c.bias = rng() % 4 != 0;
          c.residual = rng() % 2;
          if (dh * (k - 1) + 1 > c.h + c.pt + c.pb || dw * (k - 1) + 1 > c.w + c.pl + c.pr) continue;
          const ConvRun r = run_of(c);
          auto in = random_floats(c.batch * c.cin * c.h * c.w, rng);
          // Specials in one plane of three: NaN, +inf, -inf at a border and in the interior.
          // Not with hardSwish: avx512-epilogue.h's avx512_activate (x * clip(x + 3) / 6) gives NaN
          // at -inf, where the scalar and JS definitions (and avx2_activate now) give 0.
          // Nor infinities with the kinds that need exp / tanh / erf: avx2-math's vector forms
          // and the scalar activate() disagree at +-inf (silu(-inf): -inf vs NaN; geluTanh(inf):
          // NaN vs inf), which is the element-wise engine's matter, not the depthwise kernel's.
          const bool transcendental = c.act == ActivationKind::Elu || c.act >= ActivationKind::Sigmoid;
          if (tested % 3 == 0 && c.act != ActivationKind::HardSwish) {
            const float specials[] = {NAN, INFINITY, -INFINITY};
            const int kinds = transcendental ? 1 : 3;
            for (int i = 0; i < 3; i++) in[rng() % in.size()] = specials[i % kinds];
            in[0] = specials[rng() % kinds];
          }
          const auto wt = random_floats(c.cout * k * k, rng);
          const auto bias = random_floats(c.cout, rng);
          const auto res = random_floats(c.batch * c.cout * r.window.out_h * r.window.out_w, rng);
          const auto want = run_conv(scalar, c, r, in, wt, bias, res);
          expect_close(want, naive_conv(c, r, in, wt, bias, res), "scalar dw vs naive " + describe(c));
          if (&isa != &scalar) {
            expect_close(run_conv(isa, c, r, in, wt, bias, res), want, std::string(isa_name(isa.isa)) + " dw vs scalar " + describe(c));
            if (c.residual && c.cout == c.cin) {  // in place: the residual is the output buffer
              const ConvParams p = params_of(c);
              Conv2d conv(p, wt.data(), wt.size(), c.bias ? bias.data() : nullptr, bias.size(), isa);
              std::vector<float> inout = res;
              conv.check(r, in.size(), inout.size(), true, inout.size());
              conv.run(r, in.data(), inout.data(), inout.data());
              expect_close(inout, want, std::string(isa_name(isa.isa)) + " dw in place " + describe(c));
            }
            g_checks++;
            if (isa.isa != Isa::Scalar && depthwise_kernel_for(isa, r.window) == isa.dwconv_general) {
              std::printf("FAIL %s dw %s takes the general kernel\n", isa_name(isa.isa), describe(c).c_str());
              g_failures++;
            }
          }
          tested++;
        }
      }
    }
  }
  if (tested < 150) {
    std::printf("FAIL dw kxk: only %zu geometries were valid\n", tested);
    g_failures++;
  }
}

void expect_same(const std::vector<float>& got, const std::vector<float>& want, const std::string& label);

// Every pool kernel against the scalar ones, bit for bit (the avx512 general kernels sum the taps
// in the scalar order and divide by the same count; max only moves values), on random inputs and
// again with NaN and infinities sprinkled in. Rows of 70 and 100 outputs take whole 16-lane
// vectors and a masked tail; strides 2 and 3 take the gathers.
void test_pools(const KernelConfig& isa, const KernelConfig& scalar) {
  std::mt19937 rng(7);
  struct P {
    size_t h, w, k, s, d, pt, pl, pb, pr;
    bool ceil;
  };
  const P cases[] = {{112, 112, 3, 2, 1, 1, 1, 1, 1, false}, {57, 45, 3, 2, 1, 1, 0, 0, 1, true},
                     {13, 17, 2, 2, 1, 0, 0, 0, 0, true},     {10, 11, 3, 1, 2, 1, 1, 1, 1, false},
                     {40, 41, 3, 2, 1, 0, 0, 0, 0, false},    {7, 8, 4, 3, 1, 2, 1, 1, 2, true},
                     {20, 70, 3, 1, 1, 1, 1, 1, 1, false},    {9, 200, 2, 2, 1, 0, 0, 0, 0, false},
                     {15, 67, 5, 3, 1, 2, 2, 2, 2, true},     {12, 102, 3, 1, 3, 0, 3, 1, 2, false},
                     {6, 33, 7, 1, 1, 3, 3, 3, 3, false}};
  for (const P& p : cases) {
    for (PoolKind kind : {PoolKind::Max, PoolKind::Avg}) {
      for (bool include : {true, false}) {
        PoolRun r;
        r.batch = 2;
        r.channels = 3;
        r.kind = kind;
        r.count_include_pad = include;
        r.window = {p.h, p.w, p.k, p.k, p.s, p.s, p.d, p.d, p.pt, p.pl, p.pb, p.pr, 0, 0};
        r.window.out_h = window_output_size(p.h, p.k, p.d, p.s, p.pt, p.pb, p.ceil);
        r.window.out_w = window_output_size(p.w, p.k, p.d, p.s, p.pl, p.pr, p.ceil);
        auto in = random_floats(2 * 3 * p.h * p.w, rng);
        for (int special = 0; special < 2; special++) {
          if (special == 1) {
            const float values[] = {NAN, INFINITY, -INFINITY};
            for (size_t i = 0; i < in.size(); i += 97) in[i] = values[(i / 97) % 3];
          }
          std::vector<float> want(2 * 3 * r.window.out_h * r.window.out_w), got(want.size(), -7.0f);
          check_pool(r, in.size(), want.size());
          run_pool(scalar, r, in.data(), want.data());
          run_pool(isa, r, in.data(), got.data());
          char label[128];
          std::snprintf(label, sizeof label, "%s pool %s %zux%zu k%zu s%zu d%zu%s%s", isa_name(isa.isa),
                        kind == PoolKind::Max ? "max" : "avg", p.h, p.w, p.k, p.s, p.d, include ? " include-pad" : "",
                        special == 1 ? " with NaN/inf" : "");
          expect_same(got, want, label);
        }
      }
    }
  }
}

// Max pooling moves values without arithmetic, so results must be identical (NaN where the
// reference has NaN; infinities compare equal).
void expect_same(const std::vector<float>& got, const std::vector<float>& want, const std::string& label) {
  g_checks++;
  for (size_t i = 0; i < want.size(); i++) {
    if (std::isnan(got[i]) && std::isnan(want[i])) continue;
    if (!(got[i] == want[i])) {
      std::printf("FAIL %s: element %zu is %g, expected %g\n", label.c_str(), i, got[i], want[i]);
      g_failures++;
      return;
    }
  }
}

// The max pool definition, written apart from pool_taps: every tap of the padded window, taps
// outside the input skipped, NaN wins.
std::vector<float> naive_maxpool_3x3s2(const std::vector<float>& in, size_t planes, const Window& w) {
  std::vector<float> out(planes * w.out_h * w.out_w);
  for (size_t c = 0; c < planes; c++)
    for (size_t oy = 0; oy < w.out_h; oy++)
      for (size_t ox = 0; ox < w.out_w; ox++) {
        float best = -INFINITY;
        for (long a = 0; a < 3; a++)
          for (long b = 0; b < 3; b++) {
            const long y = static_cast<long>(oy * 2) - static_cast<long>(w.pad_top) + a;
            const long x = static_cast<long>(ox * 2) - static_cast<long>(w.pad_left) + b;
            if (y < 0 || x < 0 || y >= static_cast<long>(w.in_h) || x >= static_cast<long>(w.in_w)) continue;
            const float v = in[(c * w.in_h + y) * w.in_w + x];
            if (std::isnan(v) || std::isnan(best)) {
              best = NAN;
            } else if (v > best) {
              best = v;
            }
          }
        out[(c * w.out_h + oy) * w.out_w + ox] = best;
      }
  return out;
}

// The 3x3 stride-2 max pool (a specialised kernel on vector ISAs) against the scalar kernel and
// the definition: widths and heights 3..20 and a few wide rows (vector steps with and without a
// tail, rows narrower than one step), pads 0..2 per side, ceilMode sizes (windows hanging past
// the input), and planes holding NaN / +inf / -inf in border and interior positions.
void test_maxpool_3x3s2(const KernelConfig& isa, const KernelConfig& scalar) {
  std::mt19937 rng(21);
  const size_t sizes[] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  12, 13, 14, 15,
                          16, 17, 18, 19, 20, 33, 34, 35, 36, 49, 112, 113};
  const size_t pads[][4] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {0, 0, 1, 1}, {1, 1, 0, 0}, {2, 2, 2, 2}, {1, 2, 2, 1}};
  const size_t planes = 8;
  size_t tested = 0;
  for (size_t h : {3, 4, 7, 12, 17}) {
    for (size_t wd : sizes) {
      for (const auto& pad : pads) {
        for (bool ceil : {false, true}) {
          PoolRun r;
          r.batch = 2;
          r.channels = planes / 2;
          r.kind = PoolKind::Max;
          r.count_include_pad = false;
          r.window = {h, wd, 3, 3, 2, 2, 1, 1, pad[0], pad[1], pad[2], pad[3], 0, 0};
          r.window.out_h = window_output_size(h, 3, 1, 2, pad[0], pad[2], ceil);
          r.window.out_w = window_output_size(wd, 3, 1, 2, pad[1], pad[3], ceil);
          auto in = random_floats(planes * h * wd, rng);
          // Plane 0 stays finite; the others get 1..4 specials, at a border row / column or
          // anywhere. Plane 1 is all -inf but for one +inf.
          const float specials[] = {NAN, INFINITY, -INFINITY};
          for (size_t c = 1; c < planes; c++) {
            float* plane = in.data() + c * h * wd;
            if (c == 1) {
              for (size_t i = 0; i < h * wd; i++) plane[i] = -INFINITY;
            }
            for (size_t k = 0; k <= c % 4; k++) {
              const size_t y = rng() % 3 == 0 ? (rng() % 2 ? 0 : h - 1) : rng() % h;
              const size_t x = rng() % 3 == 0 ? (rng() % 2 ? 0 : wd - 1) : rng() % wd;
              plane[y * wd + x] = c == 1 ? INFINITY : specials[rng() % 3];
            }
          }
          std::vector<float> want(planes * r.window.out_h * r.window.out_w), got(want.size(), 12345.0f);
          try {
            check_pool(r, in.size(), want.size());
          } catch (const std::exception&) {
            continue;  // a window of padding only (pad 2 on a short axis): rejected, as it should be
          }
          tested++;
          run_pool(scalar, r, in.data(), want.data());
          run_pool(isa, r, in.data(), got.data());
          char label[160];
          std::snprintf(label, sizeof label, "%s maxpool 3x3s2 %zux%zu pads %zu,%zu,%zu,%zu%s", isa_name(isa.isa), h,
                        wd, pad[0], pad[1], pad[2], pad[3], ceil ? " ceil" : "");
          expect_same(want, naive_maxpool_3x3s2(in, planes, r.window), std::string(label) + " (scalar vs definition)");
          expect_same(got, want, label);
        }
      }
    }
  }
  if (tested < 1000) {
    std::printf("FAIL maxpool 3x3s2: only %zu geometries were accepted\n", tested);
    g_failures++;
  }
  // A job big enough to be split over the threads (run_pool keeps small ones on the calling
  // thread): 69 planes, not a multiple of the task count, one NaN in a middle plane.
  PoolRun r;
  r.batch = 3;
  r.channels = 23;
  r.kind = PoolKind::Max;
  r.count_include_pad = false;
  r.window = {112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 56, 56};
  auto in = random_floats(r.batch * r.channels * 112 * 112, rng);
  in[(37 * 112 + 50) * 112 + 7] = NAN;
  std::vector<float> want(r.batch * r.channels * 56 * 56), got(want.size(), 12345.0f);
  check_pool(r, in.size(), want.size());
  run_pool(scalar, r, in.data(), want.data());
  run_pool(isa, r, in.data(), got.data());
  expect_same(got, want, std::string(isa_name(isa.isa)) + " maxpool 3x3s2 3x23x112x112 (threads)");
  expect_same(want, naive_maxpool_3x3s2(in, r.batch * r.channels, r.window),
              "scalar maxpool 3x3s2 3x23x112x112 vs definition");
}

// The table's global pool kernels against two plain loops, planes of 1 value to past a few
// vectors (masked tails), and a plane with a NaN (the max gives NaN).
void test_global_pools(const KernelConfig& isa) {
  std::mt19937 rng(13);
  for (size_t plane : {size_t{61}, size_t{1}, size_t{16}, size_t{49}, size_t{3136}}) {
  const size_t planes = 7;
  auto in = random_floats(planes * plane, rng);
  in[2 * plane + plane / 2] = NAN;  // plane 2
  for (PoolKind kind : {PoolKind::Max, PoolKind::Avg}) {
    std::vector<float> got(planes, -7.0f), want(planes);
    check_global_pool(planes, plane, in.size(), got.size());
    run_global_pool(isa, kind, planes, plane, in.data(), got.data());
    // Two plain loops: one loop choosing max or sum per element hits an internal compiler
    // error in GCC 12's aarch64 vectoriser.
    for (size_t c = 0; c < planes; c++) {
      const float* x = in.data() + c * plane;
      if (kind == PoolKind::Max) {
        float best = x[0];
        bool nan = std::isnan(best);
        for (size_t i = 1; i < plane; i++) best = x[i] > best ? x[i] : best, nan = nan || std::isnan(x[i]);
        want[c] = nan ? NAN : best;
      } else {
        double sum = 0.0;
        for (size_t i = 0; i < plane; i++) sum += x[i];
        want[c] = static_cast<float>(sum / static_cast<double>(plane));
      }
    }
    expect_close(got, want, std::string(isa_name(isa.isa)) + (kind == PoolKind::Max ? " global max " : " global avg ") +
                                std::to_string(plane));
  }
  }
}

// The micro-kernels of a table on their own, against a float64 product of the same packed
// panels: every row count 1..MR and column count 1..NR (partial tiles load and store through
// masks on avx512: nothing outside the tile may be written), K of 1 to past a few FMA chains,
// accumulate or not, with and without bias / residual, a vector and a scalar-only activation;
// the narrow kernel on tiles of <= NR/2 columns, the sweep over several tiles, and the GEMV.
void test_gemm_tiles(const KernelConfig& isa) {
  const GemmConfig& g = isa.gemm;
  std::mt19937 rng(77);
  const float sentinel = 4321.0f;
  const size_t ldc = 3 * g.nr + 5;
  size_t tested = 0;
  for (size_t kc : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{33}}) {
    const auto a = random_floats(g.mr * kc, rng);
    const auto b = random_floats(kc * 3 * g.nr, rng);  // three consecutive NR-wide panels
    const auto c0 = random_floats((g.mr + 1) * ldc, rng);
    const auto bias = random_floats(g.mr, rng);
    const auto residual = random_floats(g.mr * ldc, rng);
    for (size_t mr = 1; mr <= g.mr; mr++) {
      for (size_t nr = 1; nr <= g.nr; nr++) {
        const int variant = static_cast<int>(tested++ % 4);
        const bool accumulate = variant % 2 == 1;
        Epilogue ep;
        ep.bias = variant >= 2 ? bias.data() : nullptr;
        ep.residual = variant == 3 ? residual.data() : nullptr;
        ep.residual_stride = ldc;
        ep.activation.kind = (mr + nr) % 3 == 0 ? ActivationKind::Sigmoid : ActivationKind::LeakyRelu;
        ep.activation.alpha = 0.1f;
        const bool with_epilogue = variant != 1;
        // want: float64 sums of the first panel, then the epilogue; outside the tile, c0 as it was.
        std::vector<float> want(c0.size());
        for (size_t i = 0; i < c0.size(); i++) want[i] = c0[i];
        for (size_t i = 0; i < mr; i++)
          for (size_t j = 0; j < nr; j++) {
            double sum = accumulate ? c0[i * ldc + j] : 0.0;
            for (size_t k = 0; k < kc; k++) sum += static_cast<double>(a[k * g.mr + i]) * b[k * g.nr + j];
            float v = static_cast<float>(sum);
            if (with_epilogue) {
              if (ep.bias != nullptr) v += bias[i];
              if (ep.residual != nullptr) v += residual[i * ldc + j];
              v = activate(v, ep.activation);
            }
            want[i * ldc + j] = v;
          }
        std::vector<GemmMicrokernel> kernels = {g.kernel};
        if (g.narrow != nullptr && nr <= g.nr / 2) kernels.push_back(g.narrow);
        if (g.columns != nullptr && nr < g.nr && nr <= g.columns_max) kernels.push_back(g.columns);
        for (GemmMicrokernel kernel : kernels) {
          std::vector<float> got(c0);
          kernel(mr, nr, kc, a.data(), b.data(), g.nr, got.data(), ldc, accumulate, with_epilogue ? &ep : nullptr);
          char label[160];
          std::snprintf(label, sizeof label, "%s gemm tile %zux%zu k%zu%s%s%s%s", isa_name(isa.isa), mr, nr, kc,
                        kernel == g.narrow ? " narrow" : (kernel == g.columns ? " columns" : ""), accumulate ? " accumulate" : "",
                        ep.bias != nullptr && with_epilogue ? " bias" : "", ep.residual != nullptr && with_epilogue ? " residual" : "");
          expect_close(got, want, label);
        }
      }
      if (g.sweep != nullptr) {
        // mr rows across 2 full panels and a third of 1..NR columns.
        const size_t nc = 2 * g.nr + 1 + rng() % g.nr;
        Epilogue ep;
        ep.bias = bias.data();
        ep.residual = residual.data();
        ep.residual_stride = ldc;
        ep.activation.kind = mr % 2 == 0 ? ActivationKind::Relu6 : ActivationKind::Sigmoid;
        std::vector<float> want(c0), got(c0);
        for (size_t i = 0; i < mr; i++)
          for (size_t j = 0; j < nc; j++) {
            const size_t panel = j / g.nr, col = j % g.nr;
            double sum = c0[i * ldc + j];
            for (size_t k = 0; k < kc; k++) sum += static_cast<double>(a[k * g.mr + i]) * b[panel * kc * g.nr + k * g.nr + col];
            want[i * ldc + j] = activate(static_cast<float>(sum) + bias[i] + residual[i * ldc + j], ep.activation);
          }
        g.sweep(mr, nc, kc, a.data(), b.data(), got.data(), ldc, true, &ep);
        expect_close(got, want, std::string(isa_name(isa.isa)) + " gemm sweep " + std::to_string(mr) + "x" +
                                    std::to_string(nc) + " k" + std::to_string(kc));
      }
      // GEMV: acc[0..mr) += A x, the rest of acc untouched.
      std::vector<float> acc(g.mr + 1, sentinel), want(acc);
      for (size_t i = 0; i < g.mr; i++) {
        double sum = sentinel;
        for (size_t k = 0; k < kc; k++) sum += static_cast<double>(a[k * g.mr + i]) * b[k];
        want[i] = static_cast<float>(sum);
      }
      g.gemv(g.mr, kc, a.data(), b.data(), acc.data());
      expect_close(acc, want, std::string(isa_name(isa.isa)) + " gemv k" + std::to_string(kc));
    }
  }
}

// Servers have 8-64 cores: at batch 1 the GEMM split must still give every one of 16 threads
// work (split_gemm aims at two tasks each; rounding to whole panels can leave fewer, e.g. 28 for
// 16 threads, never fewer than the threads where there are that many tiles), with tasks that tile the problem
// exactly (a task claims a whole chunk with one atomic increment, not one per tile). ResNet-50's
// GEMM shapes (M = output channels of a group, N = output pixels) and MobileNetV2's.
void test_split_scales(const KernelConfig& isa) {
  const size_t shapes[][2] = {{64, 112 * 112}, {64, 56 * 56},  {256, 56 * 56}, {128, 28 * 28}, {512, 28 * 28},
                              {256, 14 * 14},  {1024, 14 * 14}, {512, 7 * 7},  {2048, 7 * 7},  {1280, 7 * 7},
                              {16, 112 * 112}, {24, 56 * 56},  {320, 7 * 7},  {1000, 1}};
  for (size_t threads : {size_t{8}, size_t{16}}) {
    for (const auto& shape : shapes) {
      const size_t m = shape[0], n = shape[1];
      const GemmSplit s = split_gemm(isa.gemm, 1, m, n, threads);
      const size_t tiles = ((m + isa.gemm.mr - 1) / isa.gemm.mr) * ((n + isa.gemm.nr - 1) / isa.gemm.nr);
      const size_t wanted = std::min(tiles, threads);
      g_checks++;
      const bool covers = s.n_chunk % isa.gemm.nr == 0 && s.m_chunk % isa.gemm.mr == 0 && s.n_chunks * s.n_chunk >= n &&
                          (s.n_chunks - 1) * s.n_chunk < n && s.m_chunks * s.m_chunk >= m && (s.m_chunks - 1) * s.m_chunk < m;
      if (s.tasks(1) < wanted || !covers) {
        std::printf("FAIL %s split of M %zu x N %zu for %zu threads: %zu tasks (%zu x %zu px, %zu x %zu rows), wanted >= %zu\n",
                    isa_name(isa.isa), m, n, threads, s.tasks(1), s.n_chunks, s.n_chunk, s.m_chunks, s.m_chunk, wanted);
        g_failures++;
      }
    }
  }
}

// A table's im2col packer against the portable one, value for value (it only moves values):
// strides 1, 2, 4, 3 (masked loads, even-column permute, every-fourth permute, gather), dilation, pads on every side past
// the kernel's reach, maps narrower than a panel (runs wrapping over several output rows),
// K blocks starting mid-window, pixel blocks starting mid-row, and a 1-pixel-wide output.
void test_im2col(const KernelConfig& isa) {
  if (isa.gemm.im2col == nullptr) return;
  std::mt19937 rng(63);
  struct S {
    size_t c, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  };
  const S shapes[] = {{3, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  {4, 29, 31, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
                      {3, 40, 37, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3},  {2, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
                      {2, 14, 13, 3, 3, 3, 3, 1, 1, 2, 0, 1, 2},  {3, 15, 17, 3, 3, 1, 1, 2, 3, 2, 2, 2, 2},
                      {2, 9, 5, 2, 3, 1, 2, 1, 1, 0, 2, 1, 0},     {1, 6, 1, 3, 1, 1, 1, 1, 1, 1, 0, 1, 0},
                      {2, 33, 40, 5, 5, 2, 3, 2, 1, 4, 4, 4, 4},  {2, 20, 70, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},
                      // stride 4 (four loads and permutes): AlexNet's 11x11/4 on a narrower map,
                      // a map narrower than a panel, dilation within the loads' 64 columns
                      {3, 23, 227, 11, 11, 4, 4, 1, 1, 2, 2, 2, 2}, {2, 30, 26, 5, 5, 3, 4, 1, 1, 2, 1, 0, 3},
                      {2, 21, 45, 3, 3, 4, 4, 2, 2, 1, 1, 1, 1}};
  for (const S& sh : shapes) {
    const size_t out_h = (sh.h + sh.pt + sh.pb - (sh.dh * (sh.kh - 1) + 1)) / sh.sh + 1;
    const size_t out_w = (sh.w + sh.pl + sh.pr - (sh.dw * (sh.kw - 1) + 1)) / sh.sw + 1;
    const Im2colShape shape = {sh.c, sh.h, sh.w, sh.kh, sh.kw, sh.sh, sh.sw, sh.dh, sh.dw, sh.pt, sh.pl, out_w};
    const auto in = random_floats(sh.c * sh.h * sh.w, rng);
    const size_t k_total = sh.c * sh.kh * sh.kw, n_total = out_h * out_w;
    const size_t nr = isa.gemm.nr;
    const size_t blocks[][4] = {{0, k_total, 0, n_total}, {k_total / 3, k_total - k_total / 3, n_total / 3, n_total / 2 + 1}};
    for (const auto& b : blocks) {
      const size_t k0 = b[0], kc = b[1], n0 = b[2], nc = std::min(b[3], n_total - n0);
      const size_t size = (nc + nr - 1) / nr * nr * kc;
      std::vector<float> want(size, 777.0f), got(size, 555.0f);
      f32_im2col_pack(nr, shape, in.data(), k0, kc, n0, nc, want.data());
      isa.gemm.im2col(nr, shape, in.data(), k0, kc, n0, nc, got.data());
      char label[160];
      std::snprintf(label, sizeof label, "%s im2col c%zu %zux%zu k%zux%zu s%zux%zu d%zux%zu k[%zu,+%zu) n[%zu,+%zu)",
                    isa_name(isa.isa), sh.c, sh.h, sh.w, sh.kh, sh.kw, sh.sh, sh.sw, sh.dh, sh.dw, k0, kc, n0, nc);
      expect_same(got, want, label);
    }
  }
}

void test_linear(const KernelConfig& isa, const KernelConfig& scalar) {
  std::mt19937 rng(9);
  // {in, out, batch}: batches up to 2 take the GEMV path, larger ones the GEMM; K over one block
  // (256), K not a multiple of 4 or 8, out not a multiple of any MR.
  const size_t shapes[][3] = {{10, 3, 1},   {300, 37, 5}, {84, 10, 33}, {1280, 1000, 1}, {517, 13, 2},
                              {7, 5, 4},    {3, 1, 1},    {260, 31, 3},   {260, 31, 2}};
  for (const auto& s : shapes) {
    const auto w = random_floats(s[0] * s[1], rng);
    const auto b = random_floats(s[1], rng);
    const auto x = random_floats(s[0] * s[2], rng);
    std::vector<float> want(s[1] * s[2]), got(want.size(), NAN);
    Linear(s[0], s[1], w.data(), w.size(), b.data(), b.size(), {ActivationKind::Relu, 0.01f}, scalar)
        .run(s[2], x.data(), want.data());
    Linear(s[0], s[1], w.data(), w.size(), b.data(), b.size(), {ActivationKind::Relu, 0.01f}, isa)
        .run(s[2], x.data(), got.data());
    // Scalar against the definition.
    std::vector<float> naive(want.size());
    for (size_t n = 0; n < s[2]; n++)
      for (size_t o = 0; o < s[1]; o++) {
        double sum = b[o];
        for (size_t i = 0; i < s[0]; i++) sum += static_cast<double>(w[o * s[0] + i]) * x[n * s[0] + i];
        naive[n * s[1] + o] = sum > 0 ? static_cast<float>(sum) : 0.0f;
      }
    expect_close(want, naive, "scalar linear vs naive");
    expect_close(got, want, std::string(isa_name(isa.isa)) + " linear vs scalar");
  }
}

}  // namespace

#include "elementwise_checks.inc"
#include "normalize_checks.inc"
#include "kernel_lists_checks.inc"

int main() {
  const KernelConfig* scalar = config_for(Isa::Scalar);
  std::vector<const KernelConfig*> isas = {scalar};
  for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (config_for(isa) != nullptr) isas.push_back(config_for(isa));
  }
#if defined(__x86_64__)
  // Never a silent skip: say why the avx512 tier did not run.
  if (config_for(Isa::Avx512) == nullptr) {
    std::printf("kernels_test: avx512: skipped, %s\n",
                cpu_supports(Isa::Avx512) ? "this build has no avx512 kernels" : "CPU lacks AVX-512F/BW/DQ/VL (or the OS does not save ZMM state)");
  }
#endif
  test_kernel_lists();

  // CONVNODE_KERNELS_TEST_THREADS=1 runs the single-thread pass only: emulated CPUs (qemu) check
  // the dispatch and the instructions, which the task split does not change.
  std::vector<size_t> thread_counts = {1, 3};
  if (const char* only = std::getenv("CONVNODE_KERNELS_TEST_THREADS")) {
    const size_t n = std::strtoul(only, nullptr, 10);
    if (n > 0) thread_counts = {n};
  }
  for (size_t threads : thread_counts) {
    ThreadPool::instance().set_threads(threads);
    for (const KernelConfig* isa : isas) {
      const int before = g_failures;
      const int checks_before = g_checks;
      test_convs(*isa, *scalar);
      test_winograd_transforms(*isa, *scalar);
      test_conv_plan_checks(*isa);
      test_dwconv_scratch_reuse(*isa, *scalar);
      test_dwconv_kxk(*isa, *scalar);
      test_pools(*isa, *scalar);
      test_maxpool_3x3s2(*isa, *scalar);
      test_global_pools(*isa);
      test_linear(*isa, *scalar);
      if (threads == 1) test_gemm_tiles(*isa);
      if (threads == 1) test_split_scales(*isa);
      if (threads == 1) test_im2col(*isa);
      test_elementwise(*isa, *scalar);
      test_normalize(*isa, *scalar);
      std::printf("kernels_test: %-6s threads %zu: %d checks, %s\n", isa_name(isa->isa), threads, g_checks - checks_before,
                  g_failures == before ? "ok" : "FAILED");
    }
  }
  // The activations' accuracy: fewer samples under qemu / sanitizers (CONVNODE_ULP_SAMPLES).
  const char* samples_env = std::getenv("CONVNODE_ULP_SAMPLES");
  const size_t ulp_samples = samples_env != nullptr ? std::strtoul(samples_env, nullptr, 10) : 2000000;
  for (const KernelConfig* isa : isas) {
    if (isa != scalar) test_activation_ulp(*isa, ulp_samples);
  }
  if (isas.size() == 1) std::printf("kernels_test: note: no vector ISA on this CPU/build, scalar only\n");
  std::printf("kernels_test: %s (%d checks, %d failures)\n", g_failures == 0 ? "PASS" : "FAIL", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
