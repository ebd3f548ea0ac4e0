#include "pool.h"

#include <algorithm>
#include <string>
#include <vector>

#include "../runtime/thread_pool.h"
#include "argument_error.h"
#include "task_split.h"
#include "work_cost.h"

namespace convnode {

void check_pool(const PoolRun& r, size_t input_length, size_t output_length) {
  if (r.batch < 1) range_error("geometry.batch must be at least 1, got " + std::to_string(r.batch));
  if (r.channels < 1) range_error("geometry.channels must be at least 1, got " + std::to_string(r.channels));
  check_window(r.window, "geometry", true);
  const Window& w = r.window;
  // Every window must reach the input: one made only of padding has no max (and no average).
  for (int axis = 0; axis < 2; axis++) {
    const bool rows = axis == 0;
    const size_t out = rows ? w.out_h : w.out_w;
    for (size_t o = 0; o < out; o++) {
      const TapRange taps = rows ? pool_taps(o, w.stride_h, w.pad_top, w.kernel_h, w.dilation_h, w.in_h)
                                 : pool_taps(o, w.stride_w, w.pad_left, w.kernel_w, w.dilation_w, w.in_w);
      if (taps.count == 0) {
        range_error(std::string("geometry: the window of output ") + (rows ? "row " : "column ") + std::to_string(o) +
                    " covers only padding; pads must be small enough that every window overlaps the input");
      }
    }
  }
  expect_length("input", input_length, checked_product({r.batch, r.channels, w.in_h, w.in_w}, "input"),
                "N x C x H x W = " + format_nchw(r.batch, r.channels, w.in_h, w.in_w));
  expect_length("output", output_length, checked_product({r.batch, r.channels, w.out_h, w.out_w}, "output"),
                "N x C x outH x outW = " + format_nchw(r.batch, r.channels, w.out_h, w.out_w));
}

namespace {

}  // namespace

void run_pool(const KernelConfig& config, const PoolRun& r, const float* input, float* output) {
  const Window& w = r.window;
  PoolKernel kernel = r.kind == PoolKind::Max ? config.maxpool_general : config.avgpool_general;
  const bool three_by_two = w.kernel_h == 3 && w.kernel_w == 3 && w.stride_h == 2 && w.stride_w == 2 &&
                            w.dilation_h == 1 && w.dilation_w == 1;
  if (r.kind == PoolKind::Max && three_by_two && config.maxpool_3x3s2 != nullptr) kernel = config.maxpool_3x3s2;
  const size_t in_plane = w.in_h * w.in_w;
  const size_t out_plane = w.out_h * w.out_w;
  const size_t planes = r.batch * r.channels;
  const double outputs = static_cast<double>(planes) * static_cast<double>(out_plane);
  // Whether a job pays for the pool is the one grain rule (ThreadPool::threads_for). Measured when
  // its threshold was a fixed 50 us, with sleeping workers: jobs under ~50 us ran slower on 2
  // threads than on 1 (max 3x3/2 64x56x56 27 -> 33 us, 32x112x112 41 -> 59 us; avg 3x3/2
  // 2x112x112 46 -> 61 us).
  // The 3x3/2 kernels' vector steps need a row of 16 outputs (AVX-512; 8 on AVX2) and 33 input
  // columns; narrower maps run their scalar per-pixel path, 14-18 ns an output (AlexNet's 192@27
  // and 256@13 pools: 0.45 and 0.17 ms on 1 thread, Zen 4), which the vector cost took for
  // 13 and 4 us and so never split.
  const bool vector_rows = kernel == config.maxpool_3x3s2 && w.out_w >= 16 && w.in_w + w.pad_left >= 33;
  const double work_ns = vector_rows ? outputs * kNsPerMaxPool3x3s2Output
                                     : outputs * static_cast<double>(w.kernel_h * w.kernel_w) * kNsPerScalarPoolTap;
  const size_t threads = ThreadPool::instance().threads_for(work_ns);
  const std::vector<size_t> bounds = guided_task_bounds(planes, threads, 1);
  const auto pool_plane = [&](size_t plane) {
    PoolPlane p;
    p.input = input + plane * in_plane;
    p.in_h = w.in_h;
    p.in_w = w.in_w;
    p.output = output + plane * out_plane;
    p.out_h = w.out_h;
    p.out_w = w.out_w;
    p.kernel_h = w.kernel_h;
    p.kernel_w = w.kernel_w;
    p.stride_h = w.stride_h;
    p.stride_w = w.stride_w;
    p.dilation_h = w.dilation_h;
    p.dilation_w = w.dilation_w;
    p.pad_top = w.pad_top;
    p.pad_left = w.pad_left;
    p.pad_bottom = w.pad_bottom;
    p.pad_right = w.pad_right;
    p.count_include_pad = r.count_include_pad;
    kernel(p);
  };
  parallel_for_runs(bounds, pool_plane);
}

void check_global_pool(size_t planes, size_t plane, size_t input_length, size_t output_length) {
  if (planes < 1) range_error("planes must be at least 1, got " + std::to_string(planes));
  if (plane < 1) range_error("plane must be at least 1, got " + std::to_string(plane));
  expect_length("input", input_length, checked_product({planes, plane}, "input"),
                "planes x plane = " + std::to_string(planes) + "x" + std::to_string(plane));
  expect_length("output", output_length, planes, "planes = " + std::to_string(planes));
}

void run_global_pool(PoolKind kind, size_t planes, size_t plane, const float* input, float* output) {
  run_global_pool(active_config(), kind, planes, plane, input, output);
}

void run_global_pool(const KernelConfig& config, PoolKind kind, size_t planes, size_t plane, const float* input,
                     float* output) {
  const GlobalPoolKernel kernel = kind == PoolKind::Max ? config.gmaxpool : config.gavgpool;
  // A squeeze-and-excitation block's pool is 5-15 us of work (MobileNetV3, EfficientNet at batch
  // 1): split into 8 tasks at 2 threads it cost more in hand-offs than it saved.
  const double work_ns = static_cast<double>(planes) * plane * kNsPerStreamedFloat;
  const size_t threads = ThreadPool::instance().threads_for(work_ns);
  if (threads == 1) {
    kernel(input, planes, plane, output);
    return;
  }
  // Up to 4 tasks per thread, each of at least kMinTaskNs.
  const size_t by_work = static_cast<size_t>(work_ns / ThreadPool::kMinTaskNs);
  const size_t tasks = std::min<size_t>(planes, std::min(4 * threads, std::max(threads, by_work)));
  const size_t per_task = (planes + tasks - 1) / tasks;
  ThreadPool::instance().parallel_for(tasks, [&](size_t t) {
    const size_t begin = t * per_task;
    if (begin >= planes) return;
    const size_t count = std::min(per_task, planes - begin);
    kernel(input + begin * plane, count, plane, output + begin);
  });
}

}  // namespace convnode
