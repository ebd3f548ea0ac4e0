#include "resize.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "../runtime/thread_pool.h"
#include "argument_error.h"
#include "work_cost.h"

namespace convnode {

namespace {

void check_axis(const ResizeAxisTable& t, const char* axis, bool bilinear) {
  const std::string name(axis);
  if (t.in < 1 || t.lo.empty()) range_error(name + ": input and output lengths must be at least 1");
  if (t.in > static_cast<size_t>(INT32_MAX)) range_error(name + ": input length must be below 2^31");
  const size_t out = t.lo.size();
  const auto inside = [&](const std::vector<int32_t>& v, const char* what) {
    for (int32_t i : v) {
      if (i < 0 || static_cast<size_t>(i) >= t.in) {
        range_error(name + "." + what + " holds " + std::to_string(i) + ", outside the input's 0.." +
                    std::to_string(t.in - 1));
      }
    }
  };
  inside(t.lo, "lo");
  if (!bilinear) return;
  expect_length((name + ".hi").c_str(), t.hi.size(), out, "the output length " + std::to_string(out));
  expect_length((name + ".weight").c_str(), t.weight.size(), out, "the output length " + std::to_string(out));
  inside(t.hi, "hi");
  for (float w : t.weight) {
    if (!(w >= 0.0f && w <= 1.0f)) range_error(name + ".weight must hold blends in [0, 1], got " + std::to_string(w));
  }
}

ResizeAxis view(const ResizeAxisTable& t) {
  ResizeAxis a;
  a.in = t.in;
  a.out = t.lo.size();
  a.lo = t.lo.data();
  a.hi = t.hi.empty() ? nullptr : t.hi.data();
  a.weight = t.weight.empty() ? nullptr : t.weight.data();
  return a;
}

}  // namespace

void check_resize(const ResizePlan& plan, size_t x_length, size_t y_length) {
  if (plan.planes < 1) range_error("planes (N x C) must be at least 1");
  check_axis(plan.rows, "rows", plan.bilinear);
  check_axis(plan.cols, "cols", plan.bilinear);
  const std::string described = "planes x H x W";
  expect_length("input", x_length, checked_product({plan.planes, plan.rows.in, plan.cols.in}, "input size"),
                described + " of the input");
  expect_length("output", y_length,
                checked_product({plan.planes, plan.rows.lo.size(), plan.cols.lo.size()}, "output size"),
                described + " of the output");
}

bool is_nearest_2x(const ResizePlan& plan) {
  if (plan.bilinear) return false;
  for (const ResizeAxisTable* t : {&plan.rows, &plan.cols}) {
    if (t->lo.size() != 2 * t->in) return false;
    for (size_t i = 0; i < t->lo.size(); i++) {
      if (static_cast<size_t>(t->lo[i]) != i / 2) return false;
    }
  }
  return true;
}

void run_resize(const KernelConfig& config, const ResizePlan& plan, const float* x, float* y) {
  const ResizeKernels& k = config.resize;
  const ResizeAxis rows = view(plan.rows), cols = view(plan.cols);
  const size_t in_plane = rows.in * cols.in, out_plane = rows.out * cols.out;
  const bool twice = is_nearest_2x(plan);
  const auto run_planes = [&](size_t first, size_t count) {
    const float* from = x + first * in_plane;
    float* to = y + first * out_plane;
    if (plan.bilinear) {
      std::vector<float> scratch(2 * cols.out);  // the two source rows' horizontal blends
      k.bilinear(count, rows, cols, from, to, scratch.data());
    } else if (twice) {
      k.nearest_2x(count, rows.in, cols.in, from, to);
    } else {
      k.nearest(count, rows, cols, from, to);
    }
  };
  ThreadPool& pool = ThreadPool::instance();
  // Whether to split is the pool's grain rule.
  const double ns_per_output = plan.bilinear ? kNsPerBilinearOutput : kNsPerNearestOutput;
  const size_t threads = pool.threads_for(static_cast<double>(plan.planes * out_plane) * ns_per_output);
  if (threads == 1 || plan.planes == 1) {
    run_planes(0, plan.planes);
    return;
  }
  const size_t tasks = std::min(plan.planes, threads * 4);
  const size_t per_task = (plan.planes + tasks - 1) / tasks;
  pool.parallel_for(tasks, [&](size_t t) {
    const size_t first = t * per_task;
    if (first < plan.planes) run_planes(first, std::min(per_task, plan.planes - first));
  });
}

}  // namespace convnode
