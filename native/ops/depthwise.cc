// The depthwise half of Conv2d: output channel c filters input channel c / multiplier with its
// own KH x KW filter. Work units are (image, channel, row band), so a batch of one with few
// channels still spreads over every thread; a task takes a contiguous run of units
// (task_split.h), at least kMinTaskWork of them, so tiny planes do not become one task each.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../runtime/env_switch.h"
#include "../runtime/thread_pool.h"
#include "conv2d.h"
#include "task_split.h"
#include "work_cost.h"

namespace convnode {

namespace {

// Multiply-adds a task should hold at least (a few microseconds). One unit per task made 7x7
// planes (441 MACs, ~65 ns each) 7680 tasks at batch 8, and two threads contending for the task
// counter ran 3x slower than one (dw 960@7 batch 8: 0.62 ms on 1 thread, 1.93 ms on 2).
constexpr size_t kMinTaskWork = 32768;
// Under this many multiply-adds (~100 us on 1 thread) a job is small (see run_depthwise).
constexpr size_t kSmallJobWork = 1 << 20;

// The fields of a kernel call that come from the conv's window and activation alone; each
// caller adds the plane's pointers, bias and rows.
DwconvPlane window_plane(const Window& w, const Activation& activation) {
  DwconvPlane p;
  set_plane_window(w, &p);
  p.activation = activation;
  return p;
}

}  // namespace

DwconvKernel depthwise_kernel_for(const KernelConfig& config, const Window& w) {
  if (w.kernel_h != w.kernel_w || w.stride_h != w.stride_w || w.stride_h > 2) return config.dwconv_general;
  const bool s1 = w.stride_h == 1;
  switch (w.kernel_h) {
    case 3: return s1 ? config.dwconv_3x3s1 : config.dwconv_3x3s2;
    case 5: return s1 ? config.dwconv_5x5s1 : config.dwconv_5x5s2;
    case 7: return s1 ? config.dwconv_7x7s1 : config.dwconv_7x7s2;
    default: return config.dwconv_general;
  }
}

// Maps of at most this many outputs (and one filter per input channel) are computed whole,
// a run of planes per kernel call: the kernels' flat-grid path (dwconv-flat.inc) then sets up
// once per call instead of once per plane.
constexpr size_t kSmallPlane = 16 * 16;
// AVX-512 takes runs of planes up to 28x28 outputs (input planes up to 32x32) with channels in
// lanes (kernels/f32-dwconv/dwconv-lanes-avx512.inc; it declines what does not fit, and the
// call falls back to the row kernel plane by plane): MobileNetV2's 192@28, the 5x5 120@28 and
// 240@28 of MobileNetV3 / MnasNet / EfficientNet.
constexpr size_t kLanesPlane = 28 * 28;
constexpr size_t kLanesInput = 32 * 32;

// CONVNODE_DW_LANES=0 turns channels in lanes off (the flat grid and the row kernel as before),
// so whole models can be timed both ways in minutes: at batch 1 it is faster on every small-map
// layer measured, at batch 8 (input from L3 / memory) 3x3 576@14 and 384@14 measured slower
// (native/README.md). Read once.
// Pool tasks read it: env_switch.h says why its cache is an atomic.
static EnvSwitch channels_in_lanes_switch("CONVNODE_DW_LANES");

// CONVNODE_DW_S2_REGS=0 sends the AVX-512 stride-2 planes with wide rows back to the row
// kernel's ring copy (kernels/f32-dwconv/dwconv-s2-avx512.inc reads them in place), so whole
// models can be timed both ways. Read once (env_switch.h: why the cache is an atomic).
static EnvSwitch stride2_in_registers_switch("CONVNODE_DW_S2_REGS");

// CONVNODE_DW_S2_PERMUTE=0 keeps mobile8's in-place 3x3/2 form (loads per tap pair, in-lane
// shuffles) and the row kernel for 5x5/2, instead of the rows split by permutes
// (kernels/f32-dwconv/dwconv-s2-permute-avx512.inc). Read once (env_switch.h).
static EnvSwitch stride2_permute_switch("CONVNODE_DW_S2_PERMUTE");

// CONVNODE_DW_S2_SPLIT=0 sends the AVX-512 3x3 stride-2 planes with wide rows back to the forms
// above (kernels/f32-dwconv/dwconv-s2-split-avx512.inc splits their rows in-lane). Read once
// (env_switch.h).
static EnvSwitch stride2_split_switch("CONVNODE_DW_S2_SPLIT");

// CONVNODE_DW_SHIFTED=0 sends the AVX-512 3x3 stride-1 'same' planes (up to 256 wide) back to
// channels in lanes / the row kernel (kernels/f32-dwconv/dwconv-shifted-avx512.inc reads each
// input row three times, shifted). Read once (env_switch.h).
static EnvSwitch shifted_copies_switch("CONVNODE_DW_SHIFTED");

// CONVNODE_DW_S2_ROWS=0 sends the AVX-512 3x3 stride-2 planes from inputs up to 32 wide back to
// channels in lanes (kernels/f32-dwconv/dwconv-s2-rows-avx512.inc splits each input row by
// permutes). Read once (env_switch.h).
static EnvSwitch stride2_rows_switch("CONVNODE_DW_S2_ROWS");

// The row forms the switches above leave on, into a plane's flags.
static void set_row_forms(DwconvPlane& p) {
  p.stride2_in_registers = stride2_in_registers_switch.on();
  p.stride2_permute = stride2_permute_switch.on();
  p.stride2_split = stride2_split_switch.on();
  p.shifted_copies = shifted_copies_switch.on();
  p.stride2_rows = stride2_rows_switch.on();
}

static bool lanes_runs(const KernelConfig& config, const Window& w) {
  return channels_in_lanes_switch.on() && config.isa == Isa::Avx512 && w.out_h * w.out_w <= kLanesPlane && w.in_h * w.in_w <= kLanesInput &&
         w.dilation_h == 1 && w.dilation_w == 1;
}

void Conv2d::run_depthwise_planes(const ConvRun& r, const float* input, float* output, const float* residual) const {
  const Window& w = r.window;
  const size_t channels = params_.out_channels;
  const size_t planes = r.batch * channels;
  const size_t in_plane = w.in_h * w.in_w;
  const size_t out_plane = w.out_h * w.out_w;
  const size_t taps = w.kernel_h * w.kernel_w;
  const DwconvKernel kernel = depthwise_kernel_for(*config_, w);
  const size_t macs = planes * out_plane * taps;
  // The pool's grain rule decides whether to split at all (a 960@7 layer is ~35 us).
  const size_t threads = ThreadPool::instance().threads_for(static_cast<double>(macs) * kNsPerDwconvMac);
  // Runs of whole blocks of 16 planes: the AVX-512 kernel computes 16 channels per zmm
  // (dwconv-lanes-avx512.inc), and a run of 18 would leave a block of 2.
  const size_t min_run = (std::max<size_t>(1, kMinTaskWork / std::max<size_t>(1, out_plane * taps)) + 15) / 16 * 16;
  const bool small_job = macs < kSmallJobWork;
  const std::vector<size_t> bounds = threads == 1 ? std::vector<size_t>{0, planes}
                                     : small_job  ? equal_task_bounds(planes, std::min((planes + threads - 1) / threads, min_run))
                                                  : guided_task_bounds(planes, threads, min_run);
  ThreadPool::instance().parallel_for(bounds.size() - 1, [&](size_t task) {
    // A call's planes share an image (plane c of a run takes weights c, bias c).
    for (size_t first = bounds[task]; first < bounds[task + 1];) {
      const size_t c = first % channels;
      const size_t count = std::min(bounds[task + 1] - first, channels - c);
      DwconvPlane p = window_plane(w, params_.activation);
      p.input = input + first * in_plane;
      p.weights = packed_.data() + c * taps;
      p.bias = bias_.empty() ? 0.0f : bias_[c];
      p.biases = bias_.empty() ? nullptr : bias_.data() + c;
      p.plane_count = count;
      p.channels_in_lanes = channels_in_lanes_switch.on();
      set_row_forms(p);
      p.output = output + first * out_plane;
      p.row_begin = 0;
      p.row_end = w.out_h;
      p.residual = residual != nullptr ? residual + first * out_plane : nullptr;
      kernel(p);
      first += count;
    }
  });
}

void Conv2d::run_depthwise(const ConvRun& r, const float* input, float* output, const float* residual) const {
  const Window& w = r.window;
  const size_t multiplier = params_.out_channels / params_.in_channels;
  if (multiplier == 1 && (w.out_h * w.out_w <= kSmallPlane || lanes_runs(*config_, w))) {
    run_depthwise_planes(r, input, output, residual);
    return;
  }
  const size_t planes = r.batch * params_.out_channels;
  const double work_ns = static_cast<double>(planes * w.out_h * w.out_w * w.kernel_h * w.kernel_w) * kNsPerDwconvMac;
  const size_t threads = ThreadPool::instance().threads_for(work_ns);
  const size_t bands = std::min(w.out_h, std::max<size_t>(1, (2 * threads + planes - 1) / planes));
  const size_t band_rows = (w.out_h + bands - 1) / bands;
  const DwconvKernel kernel = depthwise_kernel_for(*config_, w);
  const size_t in_plane = w.in_h * w.in_w;
  const size_t out_plane = w.out_h * w.out_w;
  const size_t taps = w.kernel_h * w.kernel_w;
  const size_t units = planes * bands;
  const size_t unit_work = std::max<size_t>(1, band_rows * w.out_w * taps);
  const size_t min_run = kMinTaskWork / unit_work;
  // Big jobs stream memory: guided contiguous runs (dw 3x3 32@112 batch 8 on 2 threads 0.91 ->
  // 0.83 ms, 144@56 stride 2 0.69 -> 0.65; 1 thread unchanged). Small ones keep equal runs of
  // min_run units: the long first runs left the second thread, which wakes ~20 us late, little
  // to do (dw 3x3 960@7 batch 1 on 2 threads 0.050-0.053 ms equal, 0.060-0.061 guided).
  const bool small_job = units * unit_work < kSmallJobWork;
  const size_t per_thread = (units + threads - 1) / threads;
  const std::vector<size_t> bounds = threads == 1 ? std::vector<size_t>{0, units}
                                     : small_job  ? equal_task_bounds(units, std::min(per_thread, min_run))
                                                  : guided_task_bounds(units, threads, min_run);
  parallel_for_runs(bounds, [&](size_t unit) {
    const size_t plane = unit / bands;
    const size_t band = unit % bands;
    const size_t n = plane / params_.out_channels;
    const size_t c = plane % params_.out_channels;
    DwconvPlane p = window_plane(w, params_.activation);
    p.input = input + (n * params_.in_channels + c / multiplier) * in_plane;
    p.weights = packed_.data() + c * taps;
    p.bias = bias_.empty() ? 0.0f : bias_[c];
    p.output = output + plane * out_plane;
    p.row_begin = band * band_rows;
    p.row_end = std::min(w.out_h, p.row_begin + band_rows);
    set_row_forms(p);
    p.residual = residual != nullptr ? residual + plane * out_plane : nullptr;
    if (p.row_begin < p.row_end) kernel(p);
  });
}

}  // namespace convnode
