#include "conv2d.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../runtime/scratch.h"
#include "../runtime/thread_pool.h"
#include "argument_error.h"
#include "conv_phase_rows.h"
#include "gemm_driver.h"
#include "pointwise_few.h"
#include "task_split.h"
#include "winograd.h"
#include "work_cost.h"

namespace convnode {

namespace {

std::string str(size_t v) { return std::to_string(v); }

}  // namespace

const char* conv_algorithm_name(ConvAlgorithm a) {
  switch (a) {
    case ConvAlgorithm::Depthwise: return "depthwise";
    case ConvAlgorithm::Pointwise: return "pointwise-gemm";
    case ConvAlgorithm::Im2colGemm: return "im2col-gemm";
    case ConvAlgorithm::WinogradF2x2: return "winograd-f2x2-3x3";
    case ConvAlgorithm::WinogradF4x4: return "winograd-f4x4-3x3";
    case ConvAlgorithm::WinogradF6x6: return "winograd-f6x6-3x3";
    case ConvAlgorithm::GroupedDirect: return "grouped-direct";
  }
  return "?";
}

bool conv_algorithm_from_name(const std::string& name, ConvAlgorithm* out) {
  for (ConvAlgorithm a : {ConvAlgorithm::Depthwise, ConvAlgorithm::Pointwise, ConvAlgorithm::Im2colGemm,
                          ConvAlgorithm::WinogradF2x2, ConvAlgorithm::WinogradF4x4, ConvAlgorithm::GroupedDirect,
                          ConvAlgorithm::WinogradF6x6}) {
    if (name == conv_algorithm_name(a)) {
      *out = a;
      return true;
    }
  }
  return false;
}

std::string conv_algorithm_refusal(const ConvParams& p) {
  const bool depthwise = p.groups == p.in_channels && p.groups > 1;
  switch (p.algorithm) {
    case ConvAlgorithm::Depthwise:
      if (!depthwise) return "needs groups == inChannels > 1 (got groups " + str(p.groups) + ", inChannels " + str(p.in_channels) + ")";
      return "";
    case ConvAlgorithm::Pointwise:
      if (p.kernel_h != 1 || p.kernel_w != 1 || p.stride_h != 1 || p.stride_w != 1) {
        return "needs a 1x1 kernel at stride 1 (got " + str(p.kernel_h) + "x" + str(p.kernel_w) + ", stride " +
               str(p.stride_h) + "x" + str(p.stride_w) + ")";
      }
      return "";
    case ConvAlgorithm::Im2colGemm: return "";
    case ConvAlgorithm::GroupedDirect:
      if (p.groups < 2 || depthwise) {
        return "needs groups > 1, not depthwise (got groups " + str(p.groups) + ", inChannels " + str(p.in_channels) + ")";
      }
      return "";
    case ConvAlgorithm::WinogradF2x2:
    case ConvAlgorithm::WinogradF4x4:
    case ConvAlgorithm::WinogradF6x6:
      if (!winograd_applies(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.groups)) {
        return "needs a 3x3 kernel, stride 1, dilation 1 and groups 1 (got " + str(p.kernel_h) + "x" + str(p.kernel_w) +
               ", stride " + str(p.stride_h) + "x" + str(p.stride_w) + ", dilation " + str(p.dilation_h) + "x" +
               str(p.dilation_w) + ", groups " + str(p.groups) + ")";
      }
      return "";
  }
  return "is unknown";
}

ConvAlgorithm conv_default_algorithm(const ConvParams& p) {
  if (p.groups == p.in_channels && p.groups > 1) return ConvAlgorithm::Depthwise;
  if (p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1) return ConvAlgorithm::Pointwise;
  return ConvAlgorithm::Im2colGemm;
}

namespace {

WinogradTile winograd_tile(ConvAlgorithm a) {
  return a == ConvAlgorithm::WinogradF6x6   ? WinogradTile::F6x6
         : a == ConvAlgorithm::WinogradF4x4 ? WinogradTile::F4x4
                                            : WinogradTile::F2x2;
}

bool is_winograd(ConvAlgorithm a) {
  return a == ConvAlgorithm::WinogradF2x2 || a == ConvAlgorithm::WinogradF4x4 || a == ConvAlgorithm::WinogradF6x6;
}

// The tiles whose input transform spreads each value over every point of a tile (a NaN or an
// infinity would reach outputs outside its footprint): they keep the im2col form too.
bool keeps_exact_form(ConvAlgorithm a) {
  return a == ConvAlgorithm::WinogradF4x4 || a == ConvAlgorithm::WinogradF6x6;
}

// False when any value is NaN or infinite (exponent bits all ones). An integer OR reduction,
// which the compiler vectorises (a float sum could not be reordered); a read of the input, a
// few percent of an F(4x4) layer's time.
bool run_finite(const float* x, size_t n) {
  uint32_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    bad |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

// run_finite over the pool: on the calling thread alone this scan was serial work in every
// F(4x4) layer, whatever the thread count (bench/thread-share.mjs). Runs of at least 1 MiB
// (~40 us at the element-wise engine's copy-speed estimate, native/ops/elementwise.cc), so a
// small layer's scan stays on the caller rather than pay a pool wake-up. Each task writes its
// own flag: nothing is shared per run but the pool's task counter.
bool all_finite(const float* x, size_t n) {
  constexpr size_t kGranule = 16384;  // floats: 64 KiB
  constexpr size_t kMinRunGranules = 16;
  const std::vector<size_t> bounds =
      guided_task_bounds((n + kGranule - 1) / kGranule, ThreadPool::instance().threads(), kMinRunGranules);
  std::vector<unsigned char> finite(bounds.size() - 1, 1);
  ThreadPool::instance().parallel_for(finite.size(), [&](size_t task) {
    const size_t begin = bounds[task] * kGranule;
    const size_t end = std::min(n, bounds[task + 1] * kGranule);
    finite[task] = run_finite(x + begin, end - begin) ? 1 : 0;
  });
  return std::find(finite.begin(), finite.end(), 0) == finite.end();
}

// A 1x1 conv at stride > 1 without padding (ResNet's downsampling shortcuts) reads every
// stride-th pixel of every stride-th row, so it is a pointwise conv on those pixels. Copying
// them out once, plane by plane (sequential reads the prefetcher follows), lets the 1x1 path
// pack B by plain row copies. Packed through im2col instead, its reads hopped a channel plane
// per k row, and the packer took 15% of 1x1/2 256->512 @56 for a copy of 1/32 of the work.
void subsample_planes(const float* input, size_t planes, size_t in_h, size_t in_w, size_t stride_h, size_t stride_w,
                      size_t out_h, size_t out_w, float* out) {
  const size_t chunk = 16;  // planes per task: a few microseconds of copying each
  const double work_ns = static_cast<double>(planes * out_h * out_w) * kNsPerStreamedFloat;
  parallel_for_threads((planes + chunk - 1) / chunk, ThreadPool::instance().threads_for(work_ns), [&](size_t task) {
    const size_t end = std::min(planes, (task + 1) * chunk);
    for (size_t p = task * chunk; p < end; p++) {
      const float* plane = input + p * in_h * in_w;
      float* dst = out + p * out_h * out_w;
      for (size_t oy = 0; oy < out_h; oy++) {
        const float* row = plane + oy * stride_h * in_w;
        for (size_t ox = 0; ox < out_w; ox++) dst[oy * out_w + ox] = row[ox * stride_w];
      }
    }
  });
}

bool is_strided_pointwise(const ConvAlgorithm algorithm, const Window& w) {
  return algorithm == ConvAlgorithm::Im2colGemm && w.kernel_h == 1 && w.kernel_w == 1 &&
         (w.stride_h > 1 || w.stride_w > 1) && w.pad_top == 0 && w.pad_left == 0 && w.pad_bottom == 0 &&
         w.pad_right == 0;
}

}  // namespace

Conv2d::Conv2d(const ConvParams& p, const float* weight, size_t weight_length, const float* bias, size_t bias_length,
               const KernelConfig& config)
    : params_(p), config_(&config) {
  if (p.in_channels < 1 || p.out_channels < 1 || p.groups < 1 || p.kernel_h < 1 || p.kernel_w < 1) {
    range_error("inChannels, outChannels, groups, kernelH and kernelW must all be at least 1");
  }
  if (p.stride_h < 1 || p.stride_w < 1 || p.dilation_h < 1 || p.dilation_w < 1) {
    range_error("strideH, strideW, dilationH and dilationW must all be at least 1");
  }
  if (p.in_channels % p.groups != 0 || p.out_channels % p.groups != 0) {
    range_error("groups " + str(p.groups) + " must divide both inChannels " + str(p.in_channels) +
                " and outChannels " + str(p.out_channels));
  }
  const std::string refusal = conv_algorithm_refusal(p);
  if (!refusal.empty()) range_error(std::string("algorithm '") + conv_algorithm_name(p.algorithm) + "' " + refusal);
  const size_t group_in = p.in_channels / p.groups;
  group_k_ = checked_product({group_in, p.kernel_h, p.kernel_w}, "weight");
  const size_t expected = checked_product({p.out_channels, group_k_}, "weight");
  expect_length("weight", weight_length, expected,
                "[outChannels, inChannels/groups, kernelH, kernelW] = " +
                    format_nchw(p.out_channels, group_in, p.kernel_h, p.kernel_w));
  if (bias != nullptr) expect_length("bias", bias_length, p.out_channels, "outChannels " + str(p.out_channels));
  if (bias != nullptr) bias_.assign(bias, bias + bias_length);

  group_packed_size_ = 0;
  if (p.algorithm == ConvAlgorithm::Depthwise) {
    packed_.assign(weight, weight + weight_length);
  } else if (p.algorithm == ConvAlgorithm::GroupedDirect) {
    pack_grouped_direct(weight);
  } else if (is_winograd(p.algorithm)) {
    const WinogradTile tile = winograd_tile(p.algorithm);
    packed_.resize(winograd_packed_size(config.gemm, tile, p.out_channels, p.in_channels));
    winograd_pack(config.gemm, tile, p.out_channels, p.in_channels, weight, packed_.data());
    if (keeps_exact_form(p.algorithm)) {
      group_packed_size_ = packed_a_size(config.gemm, p.out_channels, group_k_);
      exact_.resize(group_packed_size_);
      pack_a(config.gemm, p.out_channels, group_k_, weight, exact_.data());
    }
  } else {
    const size_t group_out = p.out_channels / p.groups;
    group_packed_size_ = packed_a_size(config.gemm, group_out, group_k_);
    packed_.resize(group_packed_size_ * p.groups);
    for (size_t g = 0; g < p.groups; g++) {
      pack_a(config.gemm, group_out, group_k_, weight + g * group_out * group_k_, packed_.data() + g * group_packed_size_);
    }
  }
}

void Conv2d::check(const ConvRun& r, size_t input_length, size_t output_length, bool has_residual,
                   size_t residual_length) const {
  if (r.in_channels != params_.in_channels) {
    range_error("geometry.inChannels is " + str(r.in_channels) + " but the conv was prepared for " +
                str(params_.in_channels));
  }
  if (r.out_channels != params_.out_channels) {
    range_error("geometry.outChannels is " + str(r.out_channels) + " but the conv was prepared for " +
                str(params_.out_channels));
  }
  if (r.groups != params_.groups) {
    range_error("geometry.groups is " + str(r.groups) + " but the conv was prepared for " + str(params_.groups));
  }
  if (r.window.kernel_h != params_.kernel_h || r.window.kernel_w != params_.kernel_w) {
    range_error("geometry.kernelH x kernelW is " + str(r.window.kernel_h) + "x" + str(r.window.kernel_w) +
                " but the conv was prepared for " + str(params_.kernel_h) + "x" + str(params_.kernel_w));
  }
  if (r.batch < 1) range_error("geometry.batch must be at least 1, got " + str(r.batch));
  check_window(r.window, "geometry", false);
  // The plan was made for this window: a run with another would need another algorithm (or
  // another packing), so it is refused rather than answered wrongly or repacked midway.
  const struct {
    const char* name;
    size_t run, planned;
  } planned[] = {{"strideH", r.window.stride_h, params_.stride_h},
                 {"strideW", r.window.stride_w, params_.stride_w},
                 {"dilationH", r.window.dilation_h, params_.dilation_h},
                 {"dilationW", r.window.dilation_w, params_.dilation_w}};
  for (const auto& field : planned) {
    if (field.run != field.planned) {
      range_error(std::string("geometry.") + field.name + " is " + str(field.run) + " but the conv was planned (" +
                  conv_algorithm_name(params_.algorithm) + ") for " + field.name + " " + str(field.planned) +
                  ": prepare one conv per window");
    }
  }
  const Window& w = r.window;
  const size_t in_size = checked_product({r.batch, r.in_channels, w.in_h, w.in_w}, "input");
  const size_t out_size = checked_product({r.batch, r.out_channels, w.out_h, w.out_w}, "output");
  // The shapes are formatted for the message only: every run is checked, and three heap strings
  // per call are a few hundred ns, the order of a small depthwise conv's own work (960@7).
  if (input_length != in_size) {
    expect_length("input", input_length, in_size, "N x C x H x W = " + format_nchw(r.batch, r.in_channels, w.in_h, w.in_w));
  }
  if (output_length != out_size || (has_residual && residual_length != out_size)) {
    const std::string out_shape = "N x C x outH x outW = " + format_nchw(r.batch, r.out_channels, w.out_h, w.out_w);
    expect_length("output", output_length, out_size, out_shape);
    if (has_residual) expect_length("residual", residual_length, out_size, out_shape);
  }
}

void Conv2d::run(const ConvRun& r, const float* input, float* output, const float* residual) const {
  if (params_.algorithm == ConvAlgorithm::Depthwise) {
    run_depthwise(r, input, output, residual);
  } else if (params_.algorithm == ConvAlgorithm::GroupedDirect) {
    run_grouped_direct(r, input, output, residual);
  } else if (keeps_exact_form(params_.algorithm) && !all_finite(input, r.batch * r.in_channels *
                                                                                      r.window.in_h * r.window.in_w)) {
    run_gemm(r, exact_.data(), input, output, residual);
  } else if (is_winograd(params_.algorithm)) {
    const WinogradRun wr = {config_,         winograd_tile(params_.algorithm),
                            packed_.data(),  r.batch,
                            r.in_channels,   r.out_channels,
                            r.window,        bias_.empty() ? nullptr : bias_.data(),
                            params_.activation};
    winograd_run(wr, input, output, residual);
  } else {
    run_gemm(r, packed_.data(), input, output, residual);
  }
}

void Conv2d::run_gemm(const ConvRun& r, const float* packed, const float* input, float* output,
                      const float* residual) const {
  const Window& w = r.window;
  const size_t groups = params_.groups;
  const size_t group_in = params_.in_channels / groups;
  const size_t group_out = params_.out_channels / groups;
  const size_t pixels = w.out_h * w.out_w;
  const bool subsampled = is_strided_pointwise(params_.algorithm, w);
  if (subsampled) {
    float* picked = scratch_floats(ScratchSlot::Subsampled, r.batch * params_.in_channels * pixels);
    subsample_planes(input, r.batch * params_.in_channels, w.in_h, w.in_w, w.stride_h, w.stride_w, w.out_h, w.out_w,
                     picked);
    input = picked;
  }
  const size_t in_plane = subsampled ? pixels : w.in_h * w.in_w;
  // Pointwise plans (1x1, stride 1) read B straight from the channel rows; a padded run of one
  // (only a caller that names the algorithm itself can make it) goes through im2col, which
  // uses the same packed A.
  const bool pointwise = subsampled || (params_.algorithm == ConvAlgorithm::Pointwise && w.kernel_h == 1 &&
                                        w.kernel_w == 1 && w.stride_h == 1 && w.stride_w == 1 && w.pad_top == 0 &&
                                        w.pad_left == 0 && w.pad_bottom == 0 && w.pad_right == 0);
  const Im2colShape shape = {group_in,     w.in_h,       w.in_w,       w.kernel_h, w.kernel_w,
                             w.stride_h,   w.stride_w,   w.dilation_h, w.dilation_w,
                             w.pad_top,    w.pad_left,   w.out_w};
  const GemmConfig& cfg = config_->gemm;
  // Few outputs on a large map: the micro-kernel reads the input rows in place (pointwise_few.cc).
  if (pointwise && !subsampled && groups == 1 &&
      run_pointwise_few_outputs(cfg, packed, group_out, group_k_, r.batch, pixels, input, output,
                                bias_.empty() ? nullptr : bias_.data(), residual, params_.activation)) {
    return;
  }
  // Stride 2 with a small K (the stems): B rows read in place from the input's column phases.
  if (!pointwise && groups == 1 &&
      run_conv_phase_rows(cfg, packed, group_out, group_k_, r.batch, params_.in_channels, w, input, output,
                          bias_.empty() ? nullptr : bias_.data(), residual, params_.activation)) {
    return;
  }
  const size_t independent = r.batch * groups;
  // Small convs (a 7x7 map at batch 1) stay on the caller when the pool's grain rule says a split
  // would cost more than it saves.
  const double macs = static_cast<double>(independent) * static_cast<double>(group_out) * static_cast<double>(pixels) *
                      static_cast<double>(group_k_);
  const size_t threads = ThreadPool::instance().threads_for(macs * kNsPerGemmMac);
  const GemmSplit split = split_gemm(cfg, independent, group_out, pixels, threads, group_k_);
  parallel_for_threads(split.tasks(independent), threads, [&](size_t task) {
    const size_t mc = task % split.m_chunks;
    const size_t nc = (task / split.m_chunks) % split.n_chunks;
    const size_t image_group = task / (split.m_chunks * split.n_chunks);
    const size_t n = image_group / groups;
    const size_t g = image_group % groups;
    const float* group_input = input + (n * params_.in_channels + g * group_in) * in_plane;
    const size_t first_row = (n * params_.out_channels + g * group_out) * pixels;
    GemmBlock block;
    block.cfg = &cfg;
    block.m = group_out;
    block.k = group_k_;
    block.n = pixels;
    block.packed_a = packed + g * group_packed_size_;
    if (pointwise) {  // B is the input itself: packed by a plain copy of channel rows, no im2col
      block.b.strided = group_input;
      block.b.k_stride = in_plane;
      block.b.n_stride = 1;
    } else {
      block.b.im2col = &shape;
      block.b.im2col_input = group_input;
    }
    block.c = output + first_row;
    block.ldc = pixels;
    block.epilogue.activation = params_.activation;
    block.epilogue.bias = bias_.empty() ? nullptr : bias_.data() + g * group_out;
    block.epilogue.residual = residual != nullptr ? residual + first_row : nullptr;
    block.epilogue.residual_stride = pixels;
    const size_t m0 = mc * split.m_chunk;
    const size_t m1 = std::min(group_out, m0 + split.m_chunk);
    const size_t n0 = nc * split.n_chunk;
    const size_t n1 = std::min(pixels, n0 + split.n_chunk);
    if (m0 < m1 && n0 < n1) gemm_block(block, m0, m1, n0, n1);
  });
}

}  // namespace convnode
