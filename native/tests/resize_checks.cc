// f32-resize (nearest, nearest 2x, bilinear) through native/ops/resize.cc, so the plane split
// over threads is covered too: each ISA against the scalar table (nearest only moves values:
// identical), the scalar table against the naive definition in double, and the checks that keep
// bad tables from reading outside the input.
#include <algorithm>
#include <functional>

#include "../ops/argument_error.h"
#include "../ops/resize.h"

#include "kernels_test.h"

namespace kernels_test {
namespace {

// Half-pixel tables (the PyTorch / ONNX default) for in -> out: the kernels know no modes, so one
// mapping exercises them; the modes themselves are tested in JS (test/onnx-resize*.test.ts).
ResizeAxisTable half_pixel_table(size_t in, size_t out, bool bilinear) {
  ResizeAxisTable t;
  t.in = in;
  for (size_t o = 0; o < out; o++) {
    const double v = (o + 0.5) * static_cast<double>(in) / static_cast<double>(out) - 0.5;
    const double c = std::min(std::max(v, 0.0), static_cast<double>(in - 1));
    if (!bilinear) {
      t.lo.push_back(static_cast<int32_t>(std::min(std::floor(c + 0.5), static_cast<double>(in - 1))));
      continue;
    }
    const int32_t lo = static_cast<int32_t>(std::floor(c));
    t.lo.push_back(lo);
    t.hi.push_back(std::min<int32_t>(lo + 1, static_cast<int32_t>(in - 1)));
    t.weight.push_back(static_cast<float>(c - lo));
  }
  return t;
}

void naive_resize(const ResizePlan& p, const std::vector<float>& x, std::vector<float>& y) {
  const size_t in_h = p.rows.in, in_w = p.cols.in, out_h = p.rows.lo.size(), out_w = p.cols.lo.size();
  for (size_t c = 0; c < p.planes; c++)
    for (size_t oy = 0; oy < out_h; oy++)
      for (size_t ox = 0; ox < out_w; ox++) {
        const auto at = [&](int32_t r, int32_t q) -> double { return x[(c * in_h + r) * in_w + q]; };
        double v;
        if (!p.bilinear) {
          v = at(p.rows.lo[oy], p.cols.lo[ox]);
        } else {
          const double wx = p.cols.weight[ox], wy = p.rows.weight[oy];
          const double top = at(p.rows.lo[oy], p.cols.lo[ox]) * (1 - wx) + at(p.rows.lo[oy], p.cols.hi[ox]) * wx;
          const double bottom = at(p.rows.hi[oy], p.cols.lo[ox]) * (1 - wx) + at(p.rows.hi[oy], p.cols.hi[ox]) * wx;
          v = top * (1 - wy) + bottom * wy;
        }
        y[(c * out_h + oy) * out_w + ox] = static_cast<float>(v);
      }
}

}  // namespace

void test_resize(const KernelConfig& isa, const KernelConfig& scalar) {
  std::mt19937 rng(12);
  const std::string name = isa_name(isa.isa);
  // {planes, inH, inW, outH, outW}: 2x (the nearest_2x form), 8x (a segmentation head's final
  // upsample), widths around every vector width and its tails, downsampling, 1-pixel axes.
  const size_t shapes[][5] = {{3, 4, 5, 8, 10},   {21, 28, 28, 224, 224}, {2, 7, 9, 14, 18}, {5, 3, 17, 6, 34},
                              {2, 13, 31, 5, 7},  {4, 1, 1, 9, 23},       {1, 6, 6, 1, 1},   {2, 2, 3, 7, 33},
                              {40, 2, 16, 4, 32}, {3, 5, 8, 11, 15}};
  for (const auto& d : shapes) {
    for (bool bilinear : {false, true}) {
      ResizePlan p;
      p.planes = d[0];
      p.bilinear = bilinear;
      p.rows = half_pixel_table(d[1], d[3], bilinear);
      p.cols = half_pixel_table(d[2], d[4], bilinear);
      const auto x = random_floats(d[0] * d[1] * d[2], rng);
      const size_t total = d[0] * d[3] * d[4];
      std::vector<float> naive(total), want(total, NAN), got(total, NAN);
      check_resize(p, x.size(), total);
      naive_resize(p, x, naive);
      run_resize(scalar, p, x.data(), want.data());
      run_resize(isa, p, x.data(), got.data());
      const std::string what = std::string(bilinear ? "bilinear" : (is_nearest_2x(p) ? "nearest 2x" : "nearest")) +
                               " [" + std::to_string(d[0]) + "," + std::to_string(d[1]) + "x" + std::to_string(d[2]) +
                               "->" + std::to_string(d[3]) + "x" + std::to_string(d[4]) + "]";
      if (bilinear) {
        expect_close(want, naive, "scalar resize " + what + " vs naive");
        expect_close(got, want, name + " resize " + what + " vs scalar");
      } else {
        expect_same(want, naive, "scalar resize " + what + " vs naive");
        expect_same(got, want, name + " resize " + what + " vs scalar");
      }
    }
  }
  // The 2x form is taken only for tables that are exactly index / 2, and gives what the general
  // gather gives on the same tables.
  {
    ResizePlan p;
    p.planes = 3;
    p.rows = half_pixel_table(5, 10, false);
    p.cols = half_pixel_table(19, 38, false);
    g_checks++;
    if (!is_nearest_2x(p)) {
      g_failures++;
      std::printf("FAIL resize: half-pixel nearest 5x19 -> 10x38 is not taken as 2x\n");
    }
    const auto x = random_floats(3 * 5 * 19, rng);
    std::vector<float> twice(3 * 10 * 38, NAN), gathered(3 * 10 * 38, NAN);
    isa.resize.nearest_2x(3, 5, 19, x.data(), twice.data());
    isa.resize.nearest(3, {5, 10, p.rows.lo.data()}, {19, 38, p.cols.lo.data()}, x.data(), gathered.data());
    expect_same(twice, gathered, name + " resize nearest_2x vs nearest gather");
    ResizePlan shifted = p;
    shifted.cols.lo[37] = 17;  // one index off: the general form
    g_checks++;
    if (is_nearest_2x(shifted)) {
      g_failures++;
      std::printf("FAIL resize: a table with one index off is taken as 2x\n");
    }
  }
#if defined(__cpp_exceptions)
  // Bad tables are refused before any read.
  {
    ResizePlan p;
    p.planes = 2;
    p.bilinear = true;
    p.rows = half_pixel_table(4, 8, true);
    p.cols = half_pixel_table(4, 8, true);
    const size_t xn = 2 * 4 * 4, yn = 2 * 8 * 8;
    const auto refused = [&](ResizePlan bad, size_t x_len, size_t y_len, const char* label) {
      g_checks++;
      if (!throws_argument_error([&] { check_resize(bad, x_len, y_len); })) {
        g_failures++;
        std::printf("FAIL resize: %s was not refused\n", label);
      }
    };
    refused(p, xn, yn - 1, "an output one float short");
    refused(p, xn + 1, yn, "an input one float long");
    ResizePlan bad = p;
    bad.cols.hi[3] = 4;
    refused(bad, xn, yn, "a column index past the input");
    bad = p;
    bad.rows.lo[0] = -1;
    refused(bad, xn, yn, "a negative row index");
    bad = p;
    bad.rows.weight[2] = 1.5f;
    refused(bad, xn, yn, "a weight above 1");
    bad = p;
    bad.cols.weight.pop_back();
    refused(bad, xn, yn, "a weight table shorter than the output");
    bad = p;
    bad.planes = 0;
    refused(bad, 0, 0, "zero planes");
    g_checks++;
    if (throws_argument_error([&] { check_resize(p, xn, yn); })) {
      g_failures++;
      std::printf("FAIL resize: a good plan was refused\n");
    }
  }
#else
  g_refusals_skipped += 8;
#endif
}

}  // namespace kernels_test
