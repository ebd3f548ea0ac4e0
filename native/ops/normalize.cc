#include "normalize.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "../runtime/thread_pool.h"
#include "argument_error.h"
#include "work_cost.h"

namespace convnode {

namespace {

// Columns per task in the columns form: a multiple of every vector width, wide enough that each
// of the `length` rows a task walks is a few cache lines.
constexpr size_t kColumnBlock = 64;
// The narrowest block: one AVX-512 vector (64 bytes, one cache line per row walked).
constexpr size_t kMinColumnBlock = 16;

void check_shape(const GroupShape& s, size_t x_length, size_t y_length) {
  if (s.outer < 1 || s.length < 1 || s.inner < 1) range_error("outer, length and inner must be at least 1");
  const size_t total = checked_product({s.outer, s.length, s.inner}, "outer x length x inner");
  const std::string described = "outer x length x inner = " + std::to_string(s.outer) + "x" + std::to_string(s.length) +
                                "x" + std::to_string(s.inner);
  expect_length("input", x_length, total, described);
  expect_length("output", y_length, total, described);
}

// Calls rows(first, count) over row ranges, or columns(o, first, count) over column blocks of
// each outer index, split over the pool.
void split_groups(const GroupShape& s, const std::function<void(size_t, size_t)>& rows,
                  const std::function<void(size_t, size_t, size_t)>& columns) {
  ThreadPool& pool = ThreadPool::instance();
  const size_t total = s.outer * s.length * s.inner;
  // Whether to split is the pool's grain rule (a 16K-value job is ~10 us).
  const size_t threads = pool.threads_for(static_cast<double>(total) * kNsPerNormalizedFloat);
  if (s.inner == 1) {
    const size_t tasks = std::min(s.outer, threads * 4);
    const size_t per_task = (s.outer + tasks - 1) / tasks;
    const auto task = [&](size_t t) {
      const size_t first = t * per_task;
      if (first < s.outer) rows(first, std::min(per_task, s.outer - first));
    };
    if (threads == 1) {
      rows(0, s.outer);
    } else {
      pool.parallel_for(tasks, task);
    }
    return;
  }
  // Narrower blocks (down to kMinColumnBlock) when the 64-wide ones would leave a thread idle:
  // ConvNeXt's last stage normalises 768 channels over 7 x 7 = 49 columns, one 64-wide block.
  size_t width = kColumnBlock;
  if (threads > 1 && s.outer * ((s.inner + width - 1) / width) < 2 * threads) {
    const size_t per_outer = (2 * threads + s.outer - 1) / s.outer;  // blocks each outer index needs
    const size_t cut = (s.inner + per_outer - 1) / per_outer;
    width = std::max(kMinColumnBlock, std::min(kColumnBlock, (cut + kMinColumnBlock - 1) / kMinColumnBlock * kMinColumnBlock));
  }
  const size_t blocks = (s.inner + width - 1) / width;
  const auto task = [&](size_t t) {
    const size_t o = t / blocks;
    const size_t first = (t % blocks) * width;
    columns(o, first, std::min(width, s.inner - first));
  };
  if (threads == 1) {
    for (size_t o = 0; o < s.outer; o++) columns(o, 0, s.inner);
  } else {
    pool.parallel_for(s.outer * blocks, task);
  }
}

}  // namespace

void check_layernorm(const GroupShape& shape, size_t x_length, size_t y_length, size_t scale_length, bool has_bias,
                     size_t bias_length, float epsilon) {
  check_shape(shape, x_length, y_length);
  const std::string described = "length " + std::to_string(shape.length);
  expect_length("scale", scale_length, shape.length, described);
  if (has_bias) expect_length("bias", bias_length, shape.length, described);
  if (!(epsilon >= 0.0f) || !std::isfinite(epsilon)) range_error("epsilon must be a finite non-negative number");
}

void check_softmax(const GroupShape& shape, size_t x_length, size_t y_length) { check_shape(shape, x_length, y_length); }

void run_layernorm(const KernelConfig& config, const GroupShape& s, const float* x, const float* scale,
                   const float* bias, float epsilon, float* y) {
  const NormalizeConfig& k = config.normalize;
  split_groups(
      s,
      [&](size_t first, size_t count) {
        k.layernorm_rows(count, s.length, x + first * s.length, scale, bias, epsilon, y + first * s.length);
      },
      [&](size_t o, size_t first, size_t count) {
        const size_t at = o * s.length * s.inner + first;
        k.layernorm_columns(count, s.length, s.inner, x + at, scale, bias, epsilon, y + at);
      });
}

void run_softmax(const KernelConfig& config, const GroupShape& s, const float* x, float* y) {
  const NormalizeConfig& k = config.normalize;
  split_groups(
      s, [&](size_t first, size_t count) { k.softmax_rows(count, s.length, x + first * s.length, y + first * s.length); },
      [&](size_t o, size_t first, size_t count) {
        const size_t at = o * s.length * s.inner + first;
        k.softmax_columns(count, s.length, s.inner, x + at, y + at);
      });
}

}  // namespace convnode
