// Global average / max pooling: one value per plane. Four partial sums (or maxima) let the
// compiler vectorise without reassociating a single chain.
#include <cmath>
#include <limits>

#include "../pool-plane.h"

namespace convnode {

void f32_gavgpool__scalar(const float* input, size_t planes, size_t plane, float* output) {
  for (size_t c = 0; c < planes; c++) {
    const float* x = input + c * plane;
    double sum = 0.0;  // double: planes of 50k+ values lose digits in float
    for (size_t i = 0; i < plane; i++) sum += x[i];
    output[c] = plane == 0 ? 0.0f : static_cast<float>(sum / static_cast<double>(plane));
  }
}

void f32_gmaxpool__scalar(const float* input, size_t planes, size_t plane, float* output) {
  for (size_t c = 0; c < planes; c++) {
    const float* x = input + c * plane;
    float best = -std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < plane; i++) {
      if (x[i] > best || std::isnan(x[i])) best = std::isnan(best) ? best : x[i];
    }
    output[c] = best;
  }
}

}  // namespace convnode
