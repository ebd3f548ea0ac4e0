#include "col2im.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "../runtime/thread_pool.h"
#include "argument_error.h"
#include "task_split.h"
#include "work_cost.h"

namespace convnode {

namespace {

// The input columns [begin, end) whose tap at column offset `offset` (kx DW - pad_left) lands
// inside [0, out): ix SW + offset in [0, out).
struct ColumnRun {
  size_t begin = 0, end = 0;
};

ColumnRun columns_landing(int64_t offset, size_t stride, size_t in, size_t out) {
  const int64_t s = static_cast<int64_t>(stride);
  const int64_t first = offset < 0 ? (-offset + s - 1) / s : 0;
  const int64_t last_out = static_cast<int64_t>(out) - 1 - offset;  // ix SW <= out - 1 - offset
  if (last_out < 0) return {};
  const int64_t end = std::min<int64_t>(static_cast<int64_t>(in), last_out / s + 1);
  if (first >= end) return {};
  return {static_cast<size_t>(first), static_cast<size_t>(end)};
}

// One output row: the bias, then each tap row that lands on it added in, column by column.
// Gathering per output row (instead of scattering per input pixel) writes each output value once
// and keeps the row in L1 while its KH / SH x KW tap rows are added.
void output_row(const Col2imPlan& p, const float* planes, float bias, size_t oy, float* row) {
  std::fill(row, row + p.out_w, bias);
  const size_t tap_plane = p.in_h * p.in_w;
  for (size_t ky = 0; ky < p.kernel_h; ky++) {
    const int64_t t = static_cast<int64_t>(oy + p.pad_top) - static_cast<int64_t>(ky * p.dilation_h);
    if (t < 0 || t % static_cast<int64_t>(p.stride_h) != 0) continue;
    const size_t iy = static_cast<size_t>(t) / p.stride_h;
    if (iy >= p.in_h) continue;
    for (size_t kx = 0; kx < p.kernel_w; kx++) {
      const float* src = planes + (ky * p.kernel_w + kx) * tap_plane + iy * p.in_w;
      const int64_t offset = static_cast<int64_t>(kx * p.dilation_w) - static_cast<int64_t>(p.pad_left);
      const ColumnRun run = columns_landing(offset, p.stride_w, p.in_w, p.out_w);
      if (run.begin >= run.end) continue;  // every column of this tap lands in the padding
      if (p.stride_w == 1) {
        // Contiguous: the compiler vectorises this add.
        float* to = row + (static_cast<int64_t>(run.begin) + offset);
        const float* from = src + run.begin;
        for (size_t i = 0; i < run.end - run.begin; i++) to[i] += from[i];
      } else {
        const size_t sw = p.stride_w;
        for (size_t ix = run.begin; ix < run.end; ix++) row[static_cast<int64_t>(ix * sw) + offset] += src[ix];
      }
    }
  }
}

}  // namespace

void check_col2im(const Col2imPlan& p, size_t cols_length, bool has_bias, size_t bias_length, size_t y_length) {
  const std::pair<const char*, size_t> positive[] = {
      {"batch", p.batch}, {"channels", p.channels}, {"kernelH", p.kernel_h}, {"kernelW", p.kernel_w},
      {"strideH", p.stride_h}, {"strideW", p.stride_w}, {"dilationH", p.dilation_h}, {"dilationW", p.dilation_w},
      {"inH", p.in_h}, {"inW", p.in_w}, {"outH", p.out_h}, {"outW", p.out_w}};
  for (const auto& [name, value] : positive) {
    if (value < 1) range_error(std::string(name) + " must be at least 1, got " + std::to_string(value));
    if (value > static_cast<size_t>(INT32_MAX)) range_error(std::string(name) + " must be below 2^31");
  }
  if (p.pad_top > static_cast<size_t>(INT32_MAX) || p.pad_left > static_cast<size_t>(INT32_MAX)) {
    range_error("padTop and padLeft must be below 2^31");
  }
  // Every product the row loop forms (oy + pad_top, ix SW, kx DW, ...) stays far below 2^63.
  checked_product({p.in_h, p.stride_h}, "inH x strideH");
  checked_product({p.in_w, p.stride_w}, "inW x strideW");
  const size_t cols = checked_product({p.batch, p.channels, p.kernel_h, p.kernel_w, p.in_h, p.in_w}, "cols size");
  expect_length("cols", cols_length, cols, "N x C x KH x KW x inH x inW");
  expect_length("output", y_length, checked_product({p.batch, p.channels, p.out_h, p.out_w}, "output size"),
                "N x C x outH x outW");
  if (has_bias) expect_length("bias", bias_length, p.channels, "one value per output channel");
}

void run_col2im(const Col2imPlan& p, const float* cols, const float* bias, float* y) {
  const size_t plane_taps = p.kernel_h * p.kernel_w * p.in_h * p.in_w;
  const size_t rows = p.batch * p.channels * p.out_h;
  const auto row = [&](size_t r) {
    const size_t plane = r / p.out_h;  // n C + c
    const size_t oy = r % p.out_h;
    output_row(p, cols + plane * plane_taps, bias ? bias[plane % p.channels] : 0.0f, oy, y + r * p.out_w);
  };
  ThreadPool& pool = ThreadPool::instance();
  // Whether to split is the pool's grain rule.
  const size_t threads = pool.threads_for(static_cast<double>(p.batch * p.channels * plane_taps) * kNsPerCol2imTap);
  if (threads == 1) {
    for (size_t r = 0; r < rows; r++) row(r);
    return;
  }
  parallel_for_runs(guided_task_bounds(rows, threads, 4), row);
}

}  // namespace convnode
