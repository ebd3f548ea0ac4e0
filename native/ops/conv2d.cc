#include "conv2d.h"

#include <string>

#include "../runtime/thread_pool.h"
#include "argument_error.h"
#include "gemm_driver.h"
#include "winograd.h"

namespace convnode {

namespace {

std::string str(size_t v) { return std::to_string(v); }

}  // namespace

Conv2d::Conv2d(const ConvParams& p, const float* weight, size_t weight_length, const float* bias, size_t bias_length,
               const KernelConfig& config)
    : params_(p), config_(&config) {
  if (p.in_channels < 1 || p.out_channels < 1 || p.groups < 1 || p.kernel_h < 1 || p.kernel_w < 1) {
    range_error("inChannels, outChannels, groups, kernelH and kernelW must all be at least 1");
  }
  if (p.in_channels % p.groups != 0 || p.out_channels % p.groups != 0) {
    range_error("groups " + str(p.groups) + " must divide both inChannels " + str(p.in_channels) +
                " and outChannels " + str(p.out_channels));
  }
  const size_t group_in = p.in_channels / p.groups;
  group_k_ = checked_product({group_in, p.kernel_h, p.kernel_w}, "weight");
  const size_t expected = checked_product({p.out_channels, group_k_}, "weight");
  expect_length("weight", weight_length, expected,
                "[outChannels, inChannels/groups, kernelH, kernelW] = " +
                    format_nchw(p.out_channels, group_in, p.kernel_h, p.kernel_w));
  if (bias != nullptr) expect_length("bias", bias_length, p.out_channels, "outChannels " + str(p.out_channels));
  if (bias != nullptr) bias_.assign(bias, bias + bias_length);

  depthwise_ = p.groups == p.in_channels && p.groups > 1;
  winograd_ok_ = !depthwise_ && winograd_weights_suit(p.kernel_h, p.kernel_w, p.groups, p.in_channels, p.out_channels);
  if (depthwise_) {
    packed_.assign(weight, weight + weight_length);
    group_packed_size_ = 0;
    packed_floats_.store(packed_.size(), std::memory_order_release);
    return;
  }
  group_packed_size_ = packed_a_size(config.gemm, p.out_channels / p.groups, group_k_);
  // Stride and dilation are only known per run: Winograd convs pack U now, and the im2col form
  // when a run first needs it (see gemm_form).
  if (winograd_ok_) {
    std::lock_guard<std::mutex> lock(forms_mutex_);
    winograd_form_ = std::make_shared<const std::vector<float>>(pack_winograd(weight));
    count_forms();
    return;
  }
  packed_ = pack_gemm(weight);
  packed_floats_.store(packed_.size(), std::memory_order_release);
}

std::vector<float> Conv2d::pack_gemm(const float* filters) const {
  const size_t group_out = params_.out_channels / params_.groups;
  std::vector<float> packed(group_packed_size_ * params_.groups);
  for (size_t g = 0; g < params_.groups; g++) {
    pack_a(config_->gemm, group_out, group_k_, filters + g * group_out * group_k_, packed.data() + g * group_packed_size_);
  }
  return packed;
}

std::vector<float> Conv2d::pack_winograd(const float* filters) const {
  const size_t cout = params_.out_channels, cin = params_.in_channels;
  std::vector<float> packed(winograd_packed_size(config_->gemm, cout, cin));
  winograd_pack(config_->gemm, cout, cin, filters, packed.data());
  return packed;
}

void Conv2d::count_forms() const {
  const size_t floats = (gemm_form_ ? gemm_form_->size() : 0) + (winograd_form_ ? winograd_form_->size() : 0);
  packed_floats_.store(floats, std::memory_order_release);
}

Conv2d::Packed Conv2d::winograd_form() const {
  std::lock_guard<std::mutex> lock(forms_mutex_);
  winograd_used_ = true;
  if (!winograd_form_) {
    // U was dropped by an im2col run that came first: the filters come back exactly from the
    // packed im2col weights (groups 1: one M x K matrix).
    const size_t cout = params_.out_channels;
    std::vector<float> filters(cout * group_k_);
    for (size_t co = 0; co < cout; co++) {
      for (size_t k = 0; k < group_k_; k++) {
        filters[co * group_k_ + k] = (*gemm_form_)[packed_a_index(config_->gemm, cout, group_k_, co, k)];
      }
    }
    winograd_form_ = std::make_shared<const std::vector<float>>(pack_winograd(filters.data()));
    count_forms();
  }
  return winograd_form_;
}

Conv2d::Packed Conv2d::gemm_form() const {
  std::lock_guard<std::mutex> lock(forms_mutex_);
  if (!gemm_form_) {
    std::vector<float> filters(params_.out_channels * group_k_);
    winograd_unpack(config_->gemm, params_.out_channels, params_.in_channels, winograd_form_->data(), filters.data());
    gemm_form_ = std::make_shared<const std::vector<float>>(pack_gemm(filters.data()));
    // No Winograd run yet: most likely a stride-2 conv, which never needs U.
    if (!winograd_used_) winograd_form_.reset();
    count_forms();
  }
  return gemm_form_;
}

bool Conv2d::takes_winograd(const ConvRun& r) const { return winograd_ok_ && winograd_suits(r.window); }

bool Conv2d::run_changes_packing(const ConvRun& r) const {
  if (!winograd_ok_) return false;
  std::lock_guard<std::mutex> lock(forms_mutex_);
  return takes_winograd(r) ? !winograd_form_ : !gemm_form_;
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
  const Window& w = r.window;
  const size_t in_size = checked_product({r.batch, r.in_channels, w.in_h, w.in_w}, "input");
  const size_t out_size = checked_product({r.batch, r.out_channels, w.out_h, w.out_w}, "output");
  expect_length("input", input_length, in_size, "N x C x H x W = " + format_nchw(r.batch, r.in_channels, w.in_h, w.in_w));
  const std::string out_shape = "N x C x outH x outW = " + format_nchw(r.batch, r.out_channels, w.out_h, w.out_w);
  expect_length("output", output_length, out_size, out_shape);
  if (has_residual) expect_length("residual", residual_length, out_size, out_shape);
}

void Conv2d::run(const ConvRun& r, const float* input, float* output, const float* residual) const {
  if (depthwise_) {
    run_depthwise(r, input, output, residual);
  } else if (takes_winograd(r)) {
    const Packed u = winograd_form();
    const WinogradRun wr = {config_,         u->data(),
                            r.batch,         r.in_channels,
                            r.out_channels,  r.window,
                            bias_.empty() ? nullptr : bias_.data(), params_.activation};
    winograd_run(wr, input, output, residual);
  } else if (winograd_ok_) {
    const Packed a = gemm_form();
    run_gemm(r, a->data(), input, output, residual);
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
  const size_t in_plane = w.in_h * w.in_w;
  const size_t pixels = w.out_h * w.out_w;
  const bool pointwise = w.kernel_h == 1 && w.kernel_w == 1 && w.stride_h == 1 && w.stride_w == 1 &&
                         w.pad_top == 0 && w.pad_left == 0 && w.pad_bottom == 0 && w.pad_right == 0;
  const Im2colShape shape = {group_in,     w.in_h,       w.in_w,       w.kernel_h, w.kernel_w,
                             w.stride_h,   w.stride_w,   w.dilation_h, w.dilation_w,
                             w.pad_top,    w.pad_left,   w.out_w};
  const GemmConfig& cfg = config_->gemm;
  const size_t independent = r.batch * groups;
  const GemmSplit split = split_gemm(cfg, independent, group_out, pixels, ThreadPool::instance().threads());
  ThreadPool::instance().parallel_for(split.tasks(independent), [&](size_t task) {
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
