#include "squeeze_excite.h"

#include <memory>
#include <string>

#include "argument_error.h"
#include "elementwise.h"
#include "pool.h"

namespace convnode {

SqueezeExcite::SqueezeExcite(size_t channels, size_t hidden, const SqueezeExciteLayer& reduce,
                             const SqueezeExciteLayer& expand, const KernelConfig& config)
    : channels_(channels),
      hidden_(hidden),
      reduce_(channels, hidden, reduce.weight, reduce.weight_length, reduce.bias, reduce.bias_length, Activation{},
              config),
      expand_(hidden, channels, expand.weight, expand.weight_length, expand.bias, expand.bias_length, Activation{},
              config),
      reduce_activation_(reduce.activation),
      expand_activation_(expand.activation),
      config_(&config) {}

void SqueezeExcite::check(size_t batch, size_t plane, size_t input_length, size_t output_length) const {
  if (batch < 1) range_error("batch must be at least 1, got " + std::to_string(batch));
  if (plane < 1) range_error("plane (H x W) must be at least 1, got " + std::to_string(plane));
  const size_t needed = checked_product({batch, channels_, plane}, "input");
  const std::string shape = "batch x channels x plane = " + std::to_string(batch) + "x" + std::to_string(channels_) +
                            "x" + std::to_string(plane);
  expect_length("input", input_length, needed, shape);
  expect_length("output", output_length, needed, shape);
}

void SqueezeExcite::run(size_t batch, size_t plane, const float* input, float* output) const {
  // pooled, squeezed and gate in one allocation: batch x (2 channels + hidden) floats, a few KB.
  const size_t planes = batch * channels_;
  const std::unique_ptr<float[]> gate_buffers(new float[2 * planes + batch * hidden_]);
  float* pooled = gate_buffers.get();
  float* gate = pooled + planes;
  float* squeezed = gate + planes;
  run_global_pool(*config_, PoolKind::Avg, planes, plane, input, pooled);
  // The activations run as f32-vunary passes over the whole gate rather than in Linear's
  // epilogue, whose scalar activate() calls std::exp once per output.
  reduce_.run(batch, pooled, squeezed);
  run_unary(*config_, batch * hidden_, squeezed, squeezed, reduce_activation_);
  expand_.run(batch, squeezed, gate);
  run_unary(*config_, planes, gate, gate, expand_activation_);
  AffineRun scale;
  scale.batch = batch;
  scale.channels = channels_;
  scale.plane = plane;
  scale.has_scale = true;
  scale.scale_per_image = true;
  run_affine(*config_, scale, input, gate, nullptr, output);
}

}  // namespace convnode
