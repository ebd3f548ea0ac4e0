// ConvTranspose's col2im (native/ops/col2im.cc, no per-ISA variants): the row-gathering op against
// the scatter definition in double (each input pixel sends each tap to its output pixel), over
// kernels larger than, equal to and smaller than the stride (gaps that get the bias only), padding
// that drops taps on each side, dilation, output_padding's extra row, and sizes large enough to be
// split over the pool; then the sizes it must refuse before any read.
#include <algorithm>
#include <cstdint>
#include <functional>

#include "../ops/argument_error.h"
#include "../ops/col2im.h"

#include "kernels_test.h"

namespace kernels_test {
namespace {

std::vector<float> scatter_f64(const Col2imPlan& p, const std::vector<float>& cols, const std::vector<float>* bias) {
  std::vector<double> y(p.batch * p.channels * p.out_h * p.out_w, 0.0);
  for (size_t n = 0; n < p.batch; n++)
    for (size_t c = 0; c < p.channels; c++) {
      double* plane = y.data() + (n * p.channels + c) * p.out_h * p.out_w;
      if (bias) std::fill(plane, plane + p.out_h * p.out_w, static_cast<double>((*bias)[c]));
      for (size_t ky = 0; ky < p.kernel_h; ky++)
        for (size_t kx = 0; kx < p.kernel_w; kx++)
          for (size_t iy = 0; iy < p.in_h; iy++)
            for (size_t ix = 0; ix < p.in_w; ix++) {
              const int64_t oy = static_cast<int64_t>(iy * p.stride_h + ky * p.dilation_h) - static_cast<int64_t>(p.pad_top);
              const int64_t ox = static_cast<int64_t>(ix * p.stride_w + kx * p.dilation_w) - static_cast<int64_t>(p.pad_left);
              if (oy < 0 || ox < 0 || oy >= static_cast<int64_t>(p.out_h) || ox >= static_cast<int64_t>(p.out_w)) continue;
              const size_t at = ((((n * p.channels + c) * p.kernel_h + ky) * p.kernel_w + kx) * p.in_h + iy) * p.in_w + ix;
              plane[oy * p.out_w + ox] += cols[at];
            }
    }
  return std::vector<float>(y.begin(), y.end());
}

// The ONNX output size with pads (top, left) before and (bottom, right) after: S (in - 1) + D (K - 1) + 1 + extra - pads.
Col2imPlan plan_of(size_t n, size_t c, size_t k, size_t s, size_t d, size_t in_h, size_t in_w, size_t pt, size_t pl,
                   size_t pb, size_t pr, size_t extra) {
  Col2imPlan p;
  p.batch = n;
  p.channels = c;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = s;
  p.dilation_h = p.dilation_w = d;
  p.pad_top = pt;
  p.pad_left = pl;
  p.in_h = in_h;
  p.in_w = in_w;
  p.out_h = s * (in_h - 1) + d * (k - 1) + 1 + extra - pt - pb;
  p.out_w = s * (in_w - 1) + d * (k - 1) + 1 + extra - pl - pr;
  return p;
}

}  // namespace

void test_col2im() {
  std::mt19937 rng(31);
  struct Case {
    const char* label;
    Col2imPlan plan;
    bool bias;
  };
  const Case cases[] = {
      {"4x4/2 pad 1 (UNet, DCGAN)", plan_of(1, 5, 4, 2, 1, 7, 9, 1, 1, 1, 1, 0), true},
      {"3x3/2 pad 1 output_padding 1", plan_of(2, 3, 3, 2, 1, 6, 5, 1, 1, 1, 1, 1), true},
      {"3x3/1 pad 1 (contiguous adds)", plan_of(1, 4, 3, 1, 1, 8, 19, 1, 1, 1, 1, 0), false},
      {"2x2/3 (gaps: bias only)", plan_of(1, 3, 2, 3, 1, 5, 6, 0, 0, 0, 0, 2), true},
      {"3x3/2 dilation 2", plan_of(1, 2, 3, 2, 2, 5, 7, 2, 1, 0, 3, 0), true},
      {"5x5/2 uneven pads", plan_of(2, 3, 5, 2, 1, 6, 6, 3, 0, 1, 4, 1), false},
      {"4x4/2 pad 1, 64 channels @32 (threaded)", plan_of(1, 64, 4, 2, 1, 32, 32, 1, 1, 1, 1, 0), true},
      {"1x1/1 (a copy)", plan_of(1, 2, 1, 1, 1, 3, 4, 0, 0, 0, 0, 0), true},
  };
  for (const Case& c : cases) {
    const Col2imPlan& p = c.plan;
    const auto cols = random_floats(p.batch * p.channels * p.kernel_h * p.kernel_w * p.in_h * p.in_w, rng);
    const auto bias = random_floats(p.channels, rng);
    std::vector<float> got(p.batch * p.channels * p.out_h * p.out_w, NAN);  // every value must be written
    check_col2im(p, cols.size(), c.bias, bias.size(), got.size());
    run_col2im(p, cols.data(), c.bias ? bias.data() : nullptr, got.data());
    expect_close(got, scatter_f64(p, cols, c.bias ? &bias : nullptr), std::string("col2im ") + c.label + " vs float64 scatter");
  }
#if defined(__cpp_exceptions)
  const Col2imPlan p = plan_of(1, 2, 4, 2, 1, 3, 3, 1, 1, 1, 1, 0);
  const size_t cols = 2 * 16 * 9, out = 2 * p.out_h * p.out_w;
  const auto expect_refused = [&](const std::function<void()>& f, const char* label) {
    g_checks++;
    if (!throws_argument_error(f)) {
      g_failures++;
      std::printf("FAIL col2im: %s was not refused\n", label);
    }
  };
  expect_refused([&] { check_col2im(p, cols - 1, false, 0, out); }, "cols one float short");
  expect_refused([&] { check_col2im(p, cols, false, 0, out + 1); }, "an output one float long");
  expect_refused([&] { check_col2im(p, cols, true, 3, out); }, "a bias of 3 values for 2 channels");
  Col2imPlan zero_stride = p;
  zero_stride.stride_w = 0;
  expect_refused([&] { check_col2im(zero_stride, cols, false, 0, out); }, "stride 0");
  Col2imPlan huge = p;
  huge.in_h = size_t{1} << 40;
  expect_refused([&] { check_col2im(huge, cols, false, 0, out); }, "an inH past 2^31");
  g_checks++;
  if (throws_argument_error([&] { check_col2im(p, cols, true, 2, out); })) {
    g_failures++;
    std::printf("FAIL col2im: a valid plan was refused\n");
  }
#else
  g_refusals_skipped += 6;  // the five refusals and the valid plan above (no C++ exceptions here)
#endif
}

}  // namespace kernels_test
