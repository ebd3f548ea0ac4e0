// A sliding window resolved against one input (what lib/planner/geometry.ts computes in JS).
// Ops re-check it here: the native side never trusts the numbers it is handed.
#pragma once
#include <cstddef>
#include <string>

namespace convnode {

struct Window {
  size_t in_h, in_w;
  size_t kernel_h, kernel_w;
  size_t stride_h, stride_w;
  size_t dilation_h, dilation_w;
  size_t pad_top, pad_left, pad_bottom, pad_right;
  size_t out_h, out_w;
};

// O = floor((in + pads - K_eff) / S) + 1, or the ceil form (PyTorch ceil_mode: the last window
// must start inside the input or its leading padding).
size_t window_output_size(size_t in, size_t kernel, size_t dilation, size_t stride, size_t pad_before,
                          size_t pad_after, bool ceil_mode);

// Throws ArgumentError naming `owner`.field when a value is out of range or out_h / out_w do not
// follow from the rest (floor form, or also the ceil form when allow_ceil).
void check_window(const Window& w, const char* owner, bool allow_ceil);

std::string format_nchw(size_t n, size_t c, size_t h, size_t w);

// The geometry a per-plane kernel call takes from its window (DwconvPlane, PoolPlane: the fields
// they share), set in one place for every op that fills one; the caller adds its pointers and
// whatever else its plane type has.
template <class Plane>
inline void set_plane_window(const Window& w, Plane* p) {
  p->in_h = w.in_h;
  p->in_w = w.in_w;
  p->out_h = w.out_h;
  p->out_w = w.out_w;
  p->kernel_h = w.kernel_h;
  p->kernel_w = w.kernel_w;
  p->stride_h = w.stride_h;
  p->stride_w = w.stride_w;
  p->dilation_h = w.dilation_h;
  p->dilation_w = w.dilation_w;
  p->pad_top = w.pad_top;
  p->pad_left = w.pad_left;
}

}  // namespace convnode
