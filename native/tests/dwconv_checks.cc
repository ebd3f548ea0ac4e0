// The depthwise kernels (f32-dwconv) through Conv2d: every K x K stride-S row kernel against the
// scalar kernel and the definition, and the narrow path's per-thread scratch reused between convs.


#include "kernels_test.h"

namespace kernels_test {

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

// Small maps run as runs of whole planes per kernel call (ops/depthwise.cc, the kernels' flat
// grid, dwconv-flat.inc): many channels, so a call holds dozens of planes and the double-buffered
// grid alternates; batch 2, so runs stop at the image's last channel (plane c takes weights c);
// maps of 7x7, 14x14 and 16x16 outputs (a grid row of whole vectors at 3x3: the aligned-tap
// form), 5x9 and 1x3, 28x28 and 21x26 (AVX-512's channels-in-lanes runs take maps up to 28x28:
// rows of 8-output chunks and a 1..7 remainder); pads 0, symmetric and asymmetric (a grid that does not hold every input
// column: the row copy instead of the expand fill); residual (also in place) or not; kinds with
// and without a vector form. Each ISA against scalar, scalar against the definition.
static void test_dwconv_plane_runs(const KernelConfig& isa, const KernelConfig& scalar) {
  struct Map {
    size_t h, w;
  };
  const Map maps[] = {{7, 7}, {14, 14}, {16, 16}, {5, 9}, {1, 3}, {13, 13}, {28, 28}, {21, 26}};
  const ActivationKind kinds[] = {ActivationKind::Relu6, ActivationKind::None, ActivationKind::Silu, ActivationKind::HardSwish,
                                  ActivationKind::Sigmoid};
  std::mt19937 rng(611);
  size_t tested = 0;
  for (size_t k : {3, 5, 7}) {
    for (size_t s : {1, 2}) {
      for (const Map& m : maps) {
        for (int pads = 0; pads < 3; pads++) {
          ConvCase c{};
          c.batch = 2;
          c.cin = c.cout = c.groups = 37;
          c.h = m.h * s;
          c.w = m.w * s;
          c.kh = c.kw = k;
          c.sh = c.sw = s;
          c.dh = c.dw = 1;
          const size_t half = (k - 1) / 2;
          if (pads == 0) c.pt = c.pl = c.pb = c.pr = 0;
          if (pads == 1) c.pt = c.pl = c.pb = c.pr = half;
          if (pads == 2) c.pt = 1, c.pl = half + 1, c.pb = 2 * half, c.pr = 0;
          if (k > c.h + c.pt + c.pb || k > c.w + c.pl + c.pr) continue;
          c.act = kinds[tested % 5];
          c.bias = tested % 4 != 1;
          c.residual = tested % 3 != 0;
          const ConvRun r = run_of(c);
          const auto in = random_floats(c.batch * c.cin * c.h * c.w, rng);
          const auto wt = random_floats(c.cout * k * k, rng);
          const auto bias = random_floats(c.cout, rng);
          const auto res = random_floats(c.batch * c.cout * r.window.out_h * r.window.out_w, rng);
          const auto want = run_conv(scalar, c, r, in, wt, bias, res);
          expect_close(want, naive_conv(c, r, in, wt, bias, res), "scalar dw plane runs vs naive " + describe(c));
          if (&isa != &scalar) {
            expect_close(run_conv(isa, c, r, in, wt, bias, res), want, std::string(isa_name(isa.isa)) + " dw plane runs vs scalar " + describe(c));
            if (c.residual) {
              const ConvParams p = params_of(c);
              Conv2d conv(p, wt.data(), wt.size(), c.bias ? bias.data() : nullptr, bias.size(), isa);
              std::vector<float> inout = res;
              conv.check(r, in.size(), inout.size(), true, inout.size());
              conv.run(r, in.data(), inout.data(), inout.data());
              expect_close(inout, want, std::string(isa_name(isa.isa)) + " dw plane runs in place " + describe(c));
            }
          }
          g_checks++;
          tested++;
        }
      }
    }
  }
  if (tested < 80) {
    std::printf("FAIL dw plane runs: only %zu geometries were valid\n", tested);
    g_failures++;
  }
}

// A run of planes handed straight to each ISA's K x K kernel, with the row forms (AVX-512 3x3/1:
// dwconv-shifted-avx512.inc; 3x3/2 from inputs up to 32 wide: dwconv-s2-rows-avx512.inc) and
// channels in lanes (AVX-512: dwconv-lanes-avx512.inc) allowed and not (the flat grid / row
// kernel, as under CONVNODE_DW_SHIFTED=0, CONVNODE_DW_S2_ROWS=0 and CONVNODE_DW_LANES=0, which
// ops/depthwise.cc reads once per process, so Conv2d alone cannot test them all): 29 planes (a
// block of 16 and one of 13), maps 7x7 .. 28x28, residual or not, against the scalar kernel on
// the same call.
static void test_dwconv_lanes_switch(const KernelConfig& isa, const KernelConfig& scalar) {
  std::mt19937 rng(1207);
  const size_t planes = 29;
  size_t tested = 0;
  for (size_t k : {3, 5, 7}) {
    for (size_t s : {1, 2}) {
      for (size_t out : {7, 14, 28}) {
        const size_t pad = (k - 1) / 2;
        const size_t in = out * s;  // (in + 2 pad - k) / s + 1 == out for these pads
        if ((in + 2 * pad - k) / s + 1 != out) continue;
        const DwconvKernel kernel = k == 3 ? (s == 1 ? isa.dwconv_3x3s1 : isa.dwconv_3x3s2)
                                    : k == 5 ? (s == 1 ? isa.dwconv_5x5s1 : isa.dwconv_5x5s2)
                                             : (s == 1 ? isa.dwconv_7x7s1 : isa.dwconv_7x7s2);
        const auto input = random_floats(planes * in * in, rng);
        const auto weights = random_floats(planes * k * k, rng);
        const auto biases = random_floats(planes, rng);
        const auto residual = random_floats(planes * out * out, rng);
        for (int with_residual = 0; with_residual < 2; with_residual++) {
          DwconvPlane p{};
          p.input = input.data();
          p.in_h = p.in_w = in;
          p.weights = weights.data();
          p.out_h = p.out_w = out;
          p.row_begin = 0;
          p.row_end = out;
          p.kernel_h = p.kernel_w = k;
          p.stride_h = p.stride_w = s;
          p.dilation_h = p.dilation_w = 1;
          p.pad_top = p.pad_left = pad;
          p.residual = with_residual ? residual.data() : nullptr;
          p.activation.kind = with_residual ? ActivationKind::Relu6 : ActivationKind::Silu;
          p.plane_count = planes;
          p.biases = biases.data();
          std::vector<float> want(planes * out * out);
          p.output = want.data();
          scalar.dwconv_general(p);
          for (int form = 0; form < 3; form++) {  // row forms (3x3/1 shifted, 3x3/2 split), lanes, neither
            const bool lanes = form < 2;
            std::vector<float> got(want.size(), 1e30f);
            p.output = got.data();
            p.channels_in_lanes = lanes;
            p.shifted_copies = form == 0;
            p.stride2_rows = form == 0;
            kernel(p);
            expect_close(got, want, std::string(isa_name(isa.isa)) + " dw run of planes, row forms " +
                                        (form == 0 ? "on" : "off") + ", channels in lanes " + (lanes ? "on" : "off") +
                                        ", " + std::to_string(k) + "x" + std::to_string(k) + "/" + std::to_string(s) +
                                        " @" + std::to_string(out));
            g_checks++;
            tested++;
          }
        }
      }
    }
  }
  if (tested < 90) {
    std::printf("FAIL dw lanes switch: only %zu cases ran\n", tested);
    g_failures++;
  }
}

// The stride-2 planes with wide rows, handed straight to each ISA's 3x3/2 and 5x5/2 kernels in
// each of their forms: 3x3 rows split in-lane (AVX-512: dwconv-s2-split-avx512.inc, left pads 0
// and 1), rows split by permutes (dwconv-s2-permute-avx512.inc, CONVNODE_DW_S2_SPLIT=0), mobile8's
// in-place shuffles (dwconv-s2-avx512.inc, CONVNODE_DW_S2_PERMUTE=0) and the row kernel's ring (as
// under CONVNODE_DW_S2_REGS=0; ops/depthwise.cc reads them once per process): output widths
// around one and two zmm steps (9 .. 113), pads 0 / symmetric / asymmetric / wider than the
// window's half / one less than the half (every left pad the permute form takes: 3x3 0..2, 5x5
// 1..2), odd input sizes, row bands that start and end mid-plane (odd and even first
// rows), every activation kind, residual or not, against the scalar kernel on the same call.
static void test_dwconv_stride2_switch(const KernelConfig& isa, const KernelConfig& scalar) {
  std::mt19937 rng(1208);
  size_t tested = 0;
  int kind = 0;
  for (size_t k : {3, 5}) {
    const DwconvKernel kernel = k == 3 ? isa.dwconv_3x3s2 : isa.dwconv_5x5s2;
    for (size_t in_w : {17, 18, 31, 33, 56, 63, 64, 65, 112, 113, 128, 130, 161, 226}) {
      for (int pads = 0; pads < 5; pads++) {
        const size_t half = (k - 1) / 2;
        size_t pt = 0, pl = 0, pb = 0, pr = 0;
        if (pads == 1) pt = pl = pb = pr = half;
        if (pads == 2) pt = 0, pl = 2 * half, pb = 2 * half, pr = 1;
        if (pads == 3) pt = half + 1, pl = half + 2, pb = half + 2, pr = half + 1;
        if (pads == 4) pt = half, pl = half - 1, pb = half - 1, pr = half + 1;
        const size_t in_h = 5 + rng() % 9;
        const size_t out_w = (in_w + pl + pr - k) / 2 + 1, out_h = (in_h + pt + pb - k) / 2 + 1;
        const auto input = random_floats(in_h * in_w, rng);
        const auto weights = random_floats(k * k, rng);
        const auto residual = random_floats(out_h * out_w, rng);
        for (int band = 0; band < 3; band++) {
          DwconvPlane p{};
          p.input = input.data();
          p.in_h = in_h;
          p.in_w = in_w;
          p.weights = weights.data();
          p.bias = 0.25f;
          p.out_h = out_h;
          p.out_w = out_w;
          p.row_begin = band == 0 ? 0 : (band == 1 ? 1 : out_h / 2);
          p.row_end = band == 0 ? out_h : (band == 1 ? out_h - 1 : out_h);
          p.kernel_h = p.kernel_w = k;
          p.stride_h = p.stride_w = 2;
          p.dilation_h = p.dilation_w = 1;
          p.pad_top = pt;
          p.pad_left = pl;
          p.residual = band == 1 ? residual.data() : nullptr;
          p.activation.kind = static_cast<ActivationKind>(kind++ % 16);
          p.activation.alpha = 0.1f;
          p.activation.beta = 0.5f;
          if (p.row_begin >= p.row_end) continue;
          std::vector<float> want(out_h * out_w, 1e30f);
          p.output = want.data();
          scalar.dwconv_general(p);
          for (int form = 0; form < 4; form++) {
            const bool in_place = form < 3, permute = form < 2, split = form == 0;
            std::vector<float> got(want.size(), 1e30f);  // rows outside the band stay 1e30 on both
            p.output = got.data();
            p.stride2_in_registers = in_place;
            p.stride2_permute = permute;
            p.stride2_split = split;
            kernel(p);
            const char* form_name = split ? "split in-lane" : permute ? "by permutes" : in_place ? "by shuffles" : "off";
            expect_close(got, want, std::string(isa_name(isa.isa)) + " dw stride 2, rows read in place " +
                                        form_name + ", " + std::to_string(k) + "x" + std::to_string(k) +
                                        " in " + std::to_string(in_h) + "x" + std::to_string(in_w) + " pads " +
                                        std::to_string(pads) + " rows " + std::to_string(p.row_begin) + ".." +
                                        std::to_string(p.row_end));
            g_checks++;
            tested++;
          }
        }
      }
    }
  }
  if (tested < 400) {
    std::printf("FAIL dw stride-2 switch: only %zu cases ran\n", tested);
    g_failures++;
  }
}

// The 3x3 and 5x5 stride-2 kernels over every input width 1 .. 130 (the split form's spans of 4
// (3x3) or 2 (5x5) vectors, its tails with the last vector masked, rows narrower than a vector),
// left pads 0 and 1 (3x3) and 2 and 1 (5x5: 1 is not the split form's) with right pads 0 .. 2
// and wider than the window's half,
// odd and even heights, relu6 / none / SiLU (a pass after), residual on odd widths, in each form
// the switches give (split, permutes, shuffles, ring), against the scalar kernel. Each output
// starts as a sentinel that a skipped column would keep.
static void test_dwconv_s2_widths(const KernelConfig& isa, const KernelConfig& scalar) {
  std::mt19937 rng(4130);
  size_t tested = 0;
  const ActivationKind kinds[] = {ActivationKind::Relu6, ActivationKind::None, ActivationKind::Silu};
  for (size_t k : {3, 5}) {
    const DwconvKernel kernel = k == 3 ? isa.dwconv_3x3s2 : isa.dwconv_5x5s2;
    for (size_t in_w = 1; in_w <= 130; in_w++) {
      for (size_t pl : {k / 2 - 1, k / 2}) {
        // Right pads 0 .. 2, and on every 7th width one past the window (k / 2 + 2: the last
        // vector's first columns are then past the row).
        const size_t pr = in_w % 7 == 0 ? k / 2 + 2 : (in_w + pl) % 3, pt = pl, pb = k / 2 - pl;
        const size_t in_h = 3 + (in_w % 6);
        if (in_w + pl + pr < k || in_h + pt + pb < k) continue;
        const size_t out_w = (in_w + pl + pr - k) / 2 + 1, out_h = (in_h + pt + pb - k) / 2 + 1;
        const auto input = random_floats(in_h * in_w, rng);
        const auto weights = random_floats(k * k, rng);
        const auto residual = random_floats(out_h * out_w, rng);
        DwconvPlane p{};
        p.input = input.data();
        p.in_h = in_h;
        p.in_w = in_w;
        p.weights = weights.data();
        p.bias = -0.125f;
        p.out_h = out_h;
        p.out_w = out_w;
        p.row_begin = 0;
        p.row_end = out_h;
        p.kernel_h = p.kernel_w = k;
        p.stride_h = p.stride_w = 2;
        p.dilation_h = p.dilation_w = 1;
        p.pad_top = pt;
        p.pad_left = pl;
        p.residual = in_w % 2 == 1 ? residual.data() : nullptr;
        p.activation.kind = kinds[(in_w + pl) % 3];
        std::vector<float> want(out_h * out_w, 1e30f);
        p.output = want.data();
        scalar.dwconv_general(p);
        for (int form = 0; form < 4; form++) {
          std::vector<float> got(want.size(), 1e30f);
          p.output = got.data();
          p.stride2_split = form == 0;
          p.stride2_permute = form < 2;
          p.stride2_in_registers = form < 3;
          kernel(p);
          expect_close(got, want, std::string(isa_name(isa.isa)) + " dw " + std::to_string(k) + "x" + std::to_string(k) +
                                      "/2 form " + std::to_string(form) + " in " + std::to_string(in_h) + "x" +
                                      std::to_string(in_w) + " pad left " + std::to_string(pl) + " right " + std::to_string(pr));
          g_checks++;
          tested++;
        }
      }
    }
  }
  if (tested < 4 * 500) {
    std::printf("FAIL dw stride-2 widths: only %zu cases ran\n", tested);
    g_failures++;
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
  test_dwconv_plane_runs(isa, scalar);
  if (&isa != &scalar) test_dwconv_lanes_switch(isa, scalar);
  if (&isa != &scalar) test_dwconv_stride2_switch(isa, scalar);
  if (&isa != &scalar) test_dwconv_s2_widths(isa, scalar);
}

}  // namespace kernels_test
