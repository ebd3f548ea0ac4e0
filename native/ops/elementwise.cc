#include "elementwise.h"

#include <algorithm>
#include <string>
#include <vector>

#include "../runtime/thread_pool.h"
#include "argument_error.h"
#include "task_split.h"
#include "work_cost.h"

namespace convnode {

namespace {

// Whether to split a job is the pool's one grain rule (ThreadPool::threads_for), on these
// per-element estimates for AVX2 / AVX-512 at 1 thread (work_cost.h): a cheap kind, a binary op
// or the affine step streams at about copy speed, a transcendental kind costs ~0.5-1.5 ns per
// float. bench/elementwise.mjs measures both (and 1 vs 2 threads over sizes).
constexpr double kCheapUsPerElement = kNsPerStreamedFloat * 1e-3;
constexpr double kTranscendentalUsPerElement = kNsPerTranscendentalFloat * 1e-3;
// Task runs are whole multiples of this many floats (16 KiB), so no two threads write one cache line.
constexpr size_t kRunGranule = 4096;

double us_per_element(const Activation& act) {
  switch (act.kind) {
    case ActivationKind::Elu:
    case ActivationKind::Sigmoid:
    case ActivationKind::Silu:
    case ActivationKind::Tanh:
    case ActivationKind::Gelu:
    case ActivationKind::GeluTanh:
    case ActivationKind::Exp:
    case ActivationKind::Softplus:
    case ActivationKind::Mish:
      return kTranscendentalUsPerElement;
    default:
      return kCheapUsPerElement;
  }
}

// fn(begin, end) over [0, total) in contiguous runs: on the calling thread alone when the job
// is too small to pay for waking the pool, else one pool task per run (guided sizes, see
// task_split.h).
template <typename Fn>
void for_element_runs(size_t total, double us_per_elem, const Fn& fn) {
  if (total == 0) return;
  const size_t threads = ThreadPool::instance().threads_for(static_cast<double>(total) * us_per_elem * 1e3);
  if (threads <= 1) {
    fn(size_t{0}, total);
    return;
  }
  const size_t granules = (total + kRunGranule - 1) / kRunGranule;
  // Runs of at least kMinTaskNs: a 15 us affine pass at 2 threads made 10 tasks of 1.5 us.
  const double granule_ns = static_cast<double>(kRunGranule) * us_per_elem * 1e3;
  const size_t min_run = static_cast<size_t>(ThreadPool::kMinTaskNs / granule_ns) + 1;
  const std::vector<size_t> bounds = guided_task_bounds(granules, threads, min_run);
  ThreadPool::instance().parallel_for(bounds.size() - 1, [&](size_t task) {
    const size_t begin = bounds[task] * kRunGranule;
    const size_t end = std::min(total, bounds[task + 1] * kRunGranule);
    if (begin < end) fn(begin, end);
  });
}

// The broadcast index space reduced to rows of one contiguous inner run: outer dimensions (each
// operand's stride along them, 0 where it is broadcast) and the inner run, along which each
// operand either moves (stride 1) or stays (one value: the kernel's scalar forms).
struct Collapsed {
  std::vector<size_t> outer_dims, outer_a, outer_b;
  size_t inner = 1;
  bool a_moves = true, b_moves = true;
};

std::vector<size_t> padded(const std::vector<size_t>& shape, size_t rank) {
  std::vector<size_t> out(rank - shape.size(), 1);
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

// Row-major strides of `shape`, 0 along its size-1 dimensions (broadcast).
std::vector<size_t> broadcast_strides(const std::vector<size_t>& shape) {
  std::vector<size_t> strides(shape.size(), 0);
  size_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = shape[i] == 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

Collapsed collapse(const BinaryRun& r) {
  const size_t rank = r.out_shape.size();
  const std::vector<size_t> sa = broadcast_strides(padded(r.a_shape, rank));
  const std::vector<size_t> sb = broadcast_strides(padded(r.b_shape, rank));
  // From the innermost dimension out: size-1 dimensions drop; a dimension merges into the one
  // inside it when both operands continue contiguously across it (or stay broadcast across both).
  std::vector<size_t> dims, da, db;  // innermost first
  for (size_t i = rank; i-- > 0;) {
    const size_t d = r.out_shape[i];
    if (d == 1) continue;
    if (!dims.empty() && sa[i] == da.back() * dims.back() && sb[i] == db.back() * dims.back()) {
      dims.back() *= d;
      continue;
    }
    dims.push_back(d);
    da.push_back(sa[i]);
    db.push_back(sb[i]);
  }
  Collapsed c;
  if (dims.empty()) return c;  // one element
  c.inner = dims[0];
  c.a_moves = da[0] != 0;
  c.b_moves = db[0] != 0;
  for (size_t k = dims.size(); k-- > 1;) {
    c.outer_dims.push_back(dims[k]);
    c.outer_a.push_back(da[k]);
    c.outer_b.push_back(db[k]);
  }
  return c;
}

}  // namespace

std::string format_shape(const std::vector<size_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void check_unary(size_t input_length, size_t output_length) {
  if (output_length < input_length) {
    range_error("output holds " + std::to_string(output_length) + " values, needs " + std::to_string(input_length) +
                " (one per input value)");
  }
}

void run_unary(const KernelConfig& config, size_t n, const float* input, float* output, const Activation& act) {
  const VUnaryKernel kernel = config.elementwise.vunary;
  for_element_runs(n, us_per_element(act),
                   [&](size_t begin, size_t end) { kernel(end - begin, input + begin, output + begin, act); });
}

void check_binary(const BinaryRun& r, size_t a_length, size_t b_length, size_t output_length) {
  const size_t rank = std::max(r.a_shape.size(), r.b_shape.size());
  if (r.out_shape.size() != rank) {
    range_error("outShape " + format_shape(r.out_shape) + " must have rank " + std::to_string(rank) +
                ", the larger of aShape " + format_shape(r.a_shape) + " and bShape " + format_shape(r.b_shape));
  }
  const std::vector<size_t> a = padded(r.a_shape, rank);
  const std::vector<size_t> b = padded(r.b_shape, rank);
  for (size_t i = 0; i < rank; i++) {
    if (a[i] != b[i] && a[i] != 1 && b[i] != 1) {
      range_error("aShape " + format_shape(r.a_shape) + " and bShape " + format_shape(r.b_shape) +
                  " do not broadcast: dimension " + std::to_string(i) + " is " + std::to_string(a[i]) + " vs " +
                  std::to_string(b[i]) + " (each must be equal or 1)");
    }
    const size_t want = a[i] == 1 ? b[i] : a[i];
    if (r.out_shape[i] != want) {
      range_error("outShape " + format_shape(r.out_shape) + " must be the broadcast of aShape " +
                  format_shape(r.a_shape) + " and bShape " + format_shape(r.b_shape) + ": dimension " +
                  std::to_string(i) + " must be " + std::to_string(want));
    }
  }
  const auto numel = [](const std::vector<size_t>& shape, const char* what) {
    size_t total = 1;
    for (size_t d : shape) {
      if (__builtin_mul_overflow(total, d, &total)) range_error(std::string(what) + " is too large (size overflows)");
    }
    return total;
  };
  const auto expect_at_least = [](const char* name, size_t have, size_t need, const std::vector<size_t>& shape) {
    if (have < need) {
      range_error(std::string(name) + " holds " + std::to_string(have) + " values, its shape " + format_shape(shape) +
                  " needs " + std::to_string(need) + (have == 0 ? " (is its ArrayBuffer detached?)" : ""));
    }
  };
  expect_at_least("a", a_length, numel(r.a_shape, "aShape"), r.a_shape);
  expect_at_least("b", b_length, numel(r.b_shape, "bShape"), r.b_shape);
  expect_at_least("output", output_length, numel(r.out_shape, "outShape"), r.out_shape);
}

void run_binary(const KernelConfig& config, const BinaryRun& r, const float* a, const float* b, float* output) {
  size_t total = 1;
  for (size_t d : r.out_shape) total *= d;
  const Collapsed c = collapse(r);
  const BinaryForm form = c.a_moves && c.b_moves ? BinaryForm::VectorVector
                          : c.a_moves            ? BinaryForm::VectorScalar
                                                 : BinaryForm::ScalarVector;
  const VBinaryKernel kernel = config.elementwise.vbinary;
  const Activation act = r.activation;
  const size_t outer_rank = c.outer_dims.size();
  for_element_runs(total, us_per_element(act) + kCheapUsPerElement, [&](size_t begin, size_t end) {
    // The row `begin` falls in, and each operand's offset there (an odometer over outer dims).
    size_t row = begin / c.inner;
    size_t within = begin % c.inner;
    std::vector<size_t> index(outer_rank, 0);
    size_t off_a = 0, off_b = 0;
    for (size_t k = outer_rank; k-- > 0;) {
      index[k] = row % c.outer_dims[k];
      row /= c.outer_dims[k];
      off_a += index[k] * c.outer_a[k];
      off_b += index[k] * c.outer_b[k];
    }
    for (size_t pos = begin; pos < end;) {
      const size_t count = std::min(c.inner - within, end - pos);
      kernel(r.op, form, count, a + off_a + (c.a_moves ? within : 0), b + off_b + (c.b_moves ? within : 0),
             output + pos, act);
      pos += count;
      within = 0;
      for (size_t k = outer_rank; k-- > 0;) {
        off_a += c.outer_a[k];
        off_b += c.outer_b[k];
        if (++index[k] < c.outer_dims[k]) break;
        off_a -= c.outer_a[k] * c.outer_dims[k];
        off_b -= c.outer_b[k] * c.outer_dims[k];
        index[k] = 0;
      }
    }
  });
}

void check_affine(AffineRun& r, size_t input_length, size_t output_length, size_t scale_length,
                  size_t shift_length) {
  const size_t total = checked_product({r.batch, r.channels, r.plane}, "batch x channels x plane");
  const size_t per_image = r.batch * r.channels;
  const auto values = [&](const char* name, bool present, size_t length, bool* per_image_out) {
    *per_image_out = false;
    if (!present) return;
    if (length == per_image && r.batch > 1) {
      *per_image_out = true;
      return;
    }
    if (length != r.channels) {
      range_error(std::string(name) + " must hold " + std::to_string(r.channels) + " (per channel) or " +
                  std::to_string(per_image) + " (per image and channel) values, got " + std::to_string(length));
    }
  };
  values("scale", r.has_scale, scale_length, &r.scale_per_image);
  values("shift", r.has_shift, shift_length, &r.shift_per_image);
  const auto expect_at_least = [&](const char* name, size_t have) {
    if (have < total) {
      range_error(std::string(name) + " holds " + std::to_string(have) + " values, batch x channels x plane = " +
                  std::to_string(r.batch) + "x" + std::to_string(r.channels) + "x" + std::to_string(r.plane) +
                  " needs " + std::to_string(total));
    }
  };
  expect_at_least("input", input_length);
  expect_at_least("output", output_length);
}

void run_affine(const KernelConfig& config, const AffineRun& r, const float* input, const float* scale,
                const float* shift, float* output) {
  const size_t total = r.batch * r.channels * r.plane;
  const VAffineKernel kernel = config.elementwise.vaffine;
  const Activation act = r.activation;
  for_element_runs(total, us_per_element(act) + kCheapUsPerElement, [&](size_t begin, size_t end) {
    for (size_t pos = begin; pos < end;) {
      const size_t plane_index = pos / r.plane;  // n * channels + c
      const size_t within = pos % r.plane;
      const size_t channel = plane_index % r.channels;
      const float s = scale == nullptr ? 1.0f : scale[r.scale_per_image ? plane_index : channel];
      const float t = shift == nullptr ? 0.0f : shift[r.shift_per_image ? plane_index : channel];
      const size_t count = std::min(r.plane - within, end - pos);
      kernel(count, input + pos, s, t, output + pos, act);
      pos += count;
    }
  });
}

}  // namespace convnode
