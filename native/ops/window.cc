#include "window.h"

#include "argument_error.h"

namespace convnode {

size_t window_output_size(size_t in, size_t kernel, size_t dilation, size_t stride, size_t pad_before,
                          size_t pad_after, bool ceil_mode) {
  const size_t k_eff = dilation * (kernel - 1) + 1;
  const size_t padded = in + pad_before + pad_after;
  if (padded < k_eff) return 0;
  const size_t span = padded - k_eff;
  if (!ceil_mode) return span / stride + 1;
  size_t out = (span + stride - 1) / stride + 1;
  if ((out - 1) * stride >= in + pad_before) out--;
  return out;
}

namespace {

void check_axis(const char* owner, const char* axis, size_t in, size_t kernel, size_t stride, size_t dilation,
                size_t pad_before, size_t pad_after, size_t out, bool allow_ceil) {
  const std::string prefix = std::string(owner) + ".";
  if (in < 1) range_error(prefix + "in" + axis + " must be at least 1, got " + std::to_string(in));
  if (kernel < 1) range_error(prefix + "kernel" + axis + " must be at least 1, got " + std::to_string(kernel));
  if (stride < 1) range_error(prefix + "stride" + axis + " must be at least 1, got " + std::to_string(stride));
  if (dilation < 1) range_error(prefix + "dilation" + axis + " must be at least 1, got " + std::to_string(dilation));
  const size_t k_eff = dilation * (kernel - 1) + 1;
  if (k_eff > in + pad_before + pad_after) {
    range_error(prefix + "kernel" + axis + " " + std::to_string(kernel) + " (dilation " + std::to_string(dilation) +
                ") spans " + std::to_string(k_eff) + " pixels but the padded input is " +
                std::to_string(in + pad_before + pad_after));
  }
  const size_t floor_out = window_output_size(in, kernel, dilation, stride, pad_before, pad_after, false);
  const size_t ceil_out = window_output_size(in, kernel, dilation, stride, pad_before, pad_after, true);
  if (out != floor_out && !(allow_ceil && out == ceil_out)) {
    range_error(prefix + "out" + axis + " is " + std::to_string(out) + " but in" + axis + " " + std::to_string(in) +
                ", kernel " + std::to_string(kernel) + ", stride " + std::to_string(stride) + ", dilation " +
                std::to_string(dilation) + " and pads " + std::to_string(pad_before) + "+" +
                std::to_string(pad_after) + " give " + std::to_string(floor_out) +
                (allow_ceil ? " (or " + std::to_string(ceil_out) + " with ceilMode)" : ""));
  }
}

}  // namespace

void check_window(const Window& w, const char* owner, bool allow_ceil) {
  check_axis(owner, "H", w.in_h, w.kernel_h, w.stride_h, w.dilation_h, w.pad_top, w.pad_bottom, w.out_h, allow_ceil);
  check_axis(owner, "W", w.in_w, w.kernel_w, w.stride_w, w.dilation_w, w.pad_left, w.pad_right, w.out_w, allow_ceil);
}

std::string format_nchw(size_t n, size_t c, size_t h, size_t w) {
  return std::to_string(n) + "x" + std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

}  // namespace convnode
