#include "strided_copy.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "argument_error.h"
#include "task_split.h"
#include "work_cost.h"

namespace convnode {

namespace {

// Offsets beyond this are refused before any sum can overflow int64 (16 axes of at most 2^56).
constexpr int64_t kMaxOffset = int64_t{1} << 56;

// Lowest and highest offset one axis adds, over its extent.
void axis_span(const CopyAxis& axis, bool source, int64_t* low, int64_t* high) {
  if (source && axis.table != nullptr) {
    *low = *high = axis.table[0];
    for (size_t i = 1; i < axis.extent; i++) {
      *low = std::min<int64_t>(*low, axis.table[i]);
      *high = std::max<int64_t>(*high, axis.table[i]);
    }
    return;
  }
  const int64_t step = source ? axis.stride : axis.dst_stride;
  if (step > kMaxOffset || step < -kMaxOffset || axis.extent > (size_t{1} << 31)) {
    range_error("stridedCopy: an axis stride or extent is out of range");
  }
  const int64_t far = step * static_cast<int64_t>(axis.extent - 1);
  *low = std::min<int64_t>(0, far);
  *high = std::max<int64_t>(0, far);
}

void check_side(const CopyPlan& plan, bool source, size_t length, const char* name) {
  int64_t low = source ? plan.base : plan.dst_base;
  int64_t high = low;
  if (low < 0 || low > kMaxOffset) range_error(std::string("stridedCopy: the ") + name + " base offset is out of range");
  for (const CopyAxis& axis : plan.axes) {
    int64_t a, b;
    axis_span(axis, source, &a, &b);
    low += a;
    high += b;
  }
  if (low < 0 || high >= static_cast<int64_t>(length)) {
    range_error(std::string("stridedCopy: the plan reaches ") + name + " elements [" + std::to_string(low) + ", " +
                std::to_string(high) + "] but " + name + " holds " + std::to_string(length));
  }
}

// Copies outer indices [begin, end) (the outer axes' odometer, row-major), each one inner run.
void copy_rows(const CopyPlan& plan, size_t begin, size_t end, const float* input, float* output) {
  const size_t rank = plan.axes.size();
  const CopyAxis& inner = plan.axes[rank - 1];
  const size_t outer_rank = rank - 1;
  size_t counter[16] = {0};
  // The odometer's start: begin decomposed along the outer axes.
  int64_t src = plan.base, dst = plan.dst_base;
  size_t rest = begin;
  for (size_t k = outer_rank; k-- > 0;) {
    const CopyAxis& axis = plan.axes[k];
    counter[k] = rest % axis.extent;
    rest /= axis.extent;
    src += axis.table != nullptr ? axis.table[counter[k]] : axis.stride * static_cast<int64_t>(counter[k]);
    dst += axis.dst_stride * static_cast<int64_t>(counter[k]);
  }
  const bool dense = inner.table == nullptr && inner.stride == 1 && inner.dst_stride == 1;
  for (size_t row = begin; row < end; row++) {
    if (dense) {
      std::memcpy(output + dst, input + src, inner.extent * sizeof(float));
    } else if (inner.table != nullptr) {
      for (size_t i = 0; i < inner.extent; i++) output[dst + static_cast<int64_t>(i) * inner.dst_stride] = input[src + inner.table[i]];
    } else {
      const float* from = input + src;
      float* to = output + dst;
      for (size_t i = 0; i < inner.extent; i++) to[static_cast<int64_t>(i) * inner.dst_stride] = from[static_cast<int64_t>(i) * inner.stride];
    }
    for (size_t k = outer_rank; k-- > 0;) {
      const CopyAxis& axis = plan.axes[k];
      const size_t before = counter[k]++;
      if (counter[k] < axis.extent) {
        src += axis.table != nullptr ? axis.table[counter[k]] - axis.table[before] : axis.stride;
        dst += axis.dst_stride;
        break;
      }
      counter[k] = 0;
      src -= axis.table != nullptr ? axis.table[before] - axis.table[0] : axis.stride * static_cast<int64_t>(before);
      dst -= axis.dst_stride * static_cast<int64_t>(before);
    }
  }
}

}  // namespace

size_t copy_total(const CopyPlan& plan) {
  size_t total = 1;
  for (const CopyAxis& axis : plan.axes) total *= axis.extent;
  return total;
}

void check_copy(const CopyPlan& plan, size_t input_length, size_t output_length) {
  if (plan.axes.size() > 16) range_error("stridedCopy: at most 16 axes, got " + std::to_string(plan.axes.size()));
  size_t total = 1;
  for (const CopyAxis& axis : plan.axes) {
    if (__builtin_mul_overflow(total, axis.extent, &total)) range_error("stridedCopy: the copy is too large (size overflows)");
  }
  if (total == 0) return;
  check_side(plan, true, input_length, "input");
  check_side(plan, false, output_length, "output");
}

void run_copy(const CopyPlan& plan, const float* input, float* output) {
  const size_t total = copy_total(plan);
  if (total == 0) return;
  if (plan.axes.empty()) {
    output[plan.dst_base] = input[plan.base];
    return;
  }
  const size_t rows = total / plan.axes.back().extent;
  // A copy is memory-bound: 2^17 floats (512 KiB each way) take ~25 us on one core, about
  // kNsPerStreamedFloat each; whether that pays for a second thread is the pool's grain rule.
  const size_t threads = ThreadPool::instance().threads_for(static_cast<double>(total) * kNsPerStreamedFloat);
  if (threads == 1 || rows < 2) {
    copy_rows(plan, 0, rows, input, output);
    return;
  }
  const size_t tasks = std::min(rows, threads * 2);
  const std::vector<size_t> bounds = equal_task_bounds(rows, (rows + tasks - 1) / tasks);
  ThreadPool::instance().parallel_for(bounds.size() - 1, [&](size_t task) {
    copy_rows(plan, bounds[task], bounds[task + 1], input, output);
  });
}

}  // namespace convnode
