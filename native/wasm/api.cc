// The wasm module's C ABI: what lib/backends/wasm-module.ts calls. Plain numbers and pointers
// into the module's own memory (the JS side copies inputs in and outputs out: wasm cannot address
// JS memory). Each entry point checks its arguments with the same op checks the N-API layer
// uses; a refused argument calls the loader's range_error import (native/ops/argument_error.h),
// which throws a RangeError through the wasm frames.
//
// The activation of the next prepare / element-wise call is staged by cn_set_activation, so the
// calls that take one keep a short argument list.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "../ops/argument_error.h"
#include "../ops/conv2d.h"
#include "../ops/elementwise.h"
#include "../ops/linear.h"
#include "../ops/matmul.h"
#include "../ops/normalize.h"
#include "../ops/pool.h"
#include "../ops/squeeze_excite.h"
#include "../runtime/dispatch.h"

#define CN_EXPORT(name) extern "C" __attribute__((export_name(#name), visibility("default")))

namespace convnode {
namespace {

Activation g_activation;  // staged by cn_set_activation, read by the next call that takes one
Activation g_kept_activation;  // cn_keep_activation's copy: a squeeze-excite block's first activation

Window window_of(const uint32_t* w) {
  // The order lib/backends/wasm-module.ts writes: inH inW kernelH kernelW strideH strideW
  // dilationH dilationW padTop padLeft padBottom padRight outH outW.
  return Window{w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[10], w[11], w[12], w[13]};
}

std::vector<size_t> shape_of(const uint32_t* dims, size_t rank) { return std::vector<size_t>(dims, dims + rank); }

}  // namespace
}  // namespace convnode

using namespace convnode;

// 16-byte aligned (f32x4 loads); null when memory cannot grow.
CN_EXPORT(cn_alloc) void* cn_alloc(size_t bytes) { return std::aligned_alloc(16, (bytes + 15) / 16 * 16 + 16); }
CN_EXPORT(cn_free) void cn_free(void* pointer) { std::free(pointer); }

// The ISA tier new convs and linears are prepared for ("wasmsimd", or "scalar" when forced).
CN_EXPORT(cn_isa) const char* cn_isa() { return isa_name(active_config().isa); }
// 0 on success, 1 when this build has no such tier.
CN_EXPORT(cn_set_isa) int cn_set_isa(const char* name) { return set_active_isa(name).empty() ? 0 : 1; }

CN_EXPORT(cn_set_activation) void cn_set_activation(int kind, float alpha, float beta, float min, float max) {
  g_activation.kind = static_cast<ActivationKind>(kind);
  g_activation.alpha = alpha;
  g_activation.beta = beta;
  g_activation.min = min;
  g_activation.max = max;
}

// Keeps the staged activation aside, so a call that takes two (cn_squeeze_excite_create) can have
// its first staged, kept, then its second staged.
CN_EXPORT(cn_keep_activation) void cn_keep_activation() { g_kept_activation = g_activation; }

// algorithm: the index of lib/planner/conv-plan.ts's CONV_ALGORITHMS (the order of ConvAlgorithm).
CN_EXPORT(cn_conv_create)
Conv2d* cn_conv_create(size_t in_channels, size_t out_channels, size_t groups, size_t kernel_h, size_t kernel_w,
                       size_t stride_h, size_t stride_w, size_t dilation_h, size_t dilation_w, int algorithm,
                       const float* weight, size_t weight_length, const float* bias, size_t bias_length) {
  if (algorithm < 0 || algorithm > static_cast<int>(ConvAlgorithm::WinogradF6x6)) {
    convnode::range_error("options.algorithm: unknown algorithm index " + std::to_string(algorithm));
  }
  ConvParams params;
  params.in_channels = in_channels;
  params.out_channels = out_channels;
  params.groups = groups;
  params.kernel_h = kernel_h;
  params.kernel_w = kernel_w;
  params.stride_h = stride_h;
  params.stride_w = stride_w;
  params.dilation_h = dilation_h;
  params.dilation_w = dilation_w;
  params.algorithm = static_cast<ConvAlgorithm>(algorithm);
  params.activation = g_activation;
  return new Conv2d(params, weight, weight_length, bias, bias_length, active_config());
}

CN_EXPORT(cn_conv_packed_bytes) size_t cn_conv_packed_bytes(const Conv2d* conv) { return conv->packed_bytes(); }
CN_EXPORT(cn_conv_destroy) void cn_conv_destroy(Conv2d* conv) { delete conv; }

// window: 14 values (window_of); residual may be null.
CN_EXPORT(cn_conv_run)
void cn_conv_run(const Conv2d* conv, size_t batch, size_t in_channels, size_t out_channels, size_t groups,
                 const uint32_t* window, const float* input, size_t input_length, float* output,
                 size_t output_length, const float* residual, size_t residual_length) {
  const ConvRun run{batch, in_channels, out_channels, groups, window_of(window)};
  conv->check(run, input_length, output_length, residual != nullptr, residual_length);
  conv->run(run, input, output, residual);
}

CN_EXPORT(cn_linear_create)
Linear* cn_linear_create(size_t in_features, size_t out_features, const float* weight, size_t weight_length,
                         const float* bias, size_t bias_length) {
  return new Linear(in_features, out_features, weight, weight_length, bias, bias_length, g_activation,
                    active_config());
}

CN_EXPORT(cn_linear_packed_bytes) size_t cn_linear_packed_bytes(const Linear* linear) { return linear->packed_bytes(); }
CN_EXPORT(cn_linear_destroy) void cn_linear_destroy(Linear* linear) { delete linear; }

CN_EXPORT(cn_linear_run)
void cn_linear_run(const Linear* linear, size_t batch, const float* input, size_t input_length, float* output,
                   size_t output_length) {
  linear->check(batch, input_length, output_length);
  linear->run(batch, input, output);
}

// kind: 0 max, 1 average.
CN_EXPORT(cn_pool)
void cn_pool(size_t batch, size_t channels, int kind, int count_include_pad, const uint32_t* window,
             const float* input, size_t input_length, float* output, size_t output_length) {
  const PoolRun run{batch, channels, kind == 0 ? PoolKind::Max : PoolKind::Avg, count_include_pad != 0,
                    window_of(window)};
  check_pool(run, input_length, output_length);
  run_pool(active_config(), run, input, output);
}

CN_EXPORT(cn_global_pool)
void cn_global_pool(int kind, size_t planes, size_t plane, const float* input, size_t input_length, float* output,
                    size_t output_length) {
  check_global_pool(planes, plane, input_length, output_length);
  run_global_pool(active_config(), kind == 0 ? PoolKind::Max : PoolKind::Avg, planes, plane, input, output);
}

// With the staged activation; output may be input.
CN_EXPORT(cn_unary) void cn_unary(const float* input, size_t input_length, float* output, size_t output_length) {
  check_unary(input_length, output_length);
  run_unary(active_config(), input_length, input, output, g_activation);
}

// op: 0 add, 1 sub, 2 mul, 3 div; shapes as uint32 dims; with the staged activation.
CN_EXPORT(cn_binary)
void cn_binary(int op, const float* a, size_t a_length, const uint32_t* a_shape, size_t a_rank, const float* b,
               size_t b_length, const uint32_t* b_shape, size_t b_rank, float* output, size_t output_length,
               const uint32_t* out_shape, size_t out_rank) {
  BinaryRun run;
  run.op = static_cast<BinaryOp>(op);
  run.a_shape = shape_of(a_shape, a_rank);
  run.b_shape = shape_of(b_shape, b_rank);
  run.out_shape = shape_of(out_shape, out_rank);
  run.activation = g_activation;
  check_binary(run, a_length, b_length, output_length);
  run_binary(active_config(), run, a, b, output);
}

// scale / shift may be null (1 / 0); with the staged activation.
CN_EXPORT(cn_affine)
void cn_affine(size_t batch, size_t channels, size_t plane, const float* input, size_t input_length,
               const float* scale, size_t scale_length, const float* shift, size_t shift_length, float* output,
               size_t output_length) {
  AffineRun run;
  run.batch = batch;
  run.channels = channels;
  run.plane = plane;
  run.has_scale = scale != nullptr;
  run.has_shift = shift != nullptr;
  run.activation = g_activation;
  check_affine(run, input_length, output_length, scale_length, shift_length);
  run_affine(active_config(), run, input, scale, shift, output);
}

// numpy.matmul of two run-time operands (attention): shapes as uint32 dims, ranks >= 2 (the JS
// side promotes rank-1 operands); with the staged activation. Output may not alias a or b (the
// JS side copies each into its own buffer).
CN_EXPORT(cn_matmul)
void cn_matmul(const float* a, size_t a_length, const uint32_t* a_shape, size_t a_rank, const float* b,
               size_t b_length, const uint32_t* b_shape, size_t b_rank, float* output, size_t output_length) {
  MatMulRun run;
  run.a_shape = shape_of(a_shape, a_rank);
  run.b_shape = shape_of(b_shape, b_rank);
  run.activation = g_activation;
  plan_matmul(run);
  check_matmul(run, a_length, b_length, output_length);
  run_matmul(active_config(), run, a, b, output);
}

// LayerNorm over groups of `length` values `inner` apart; bias may be null.
CN_EXPORT(cn_layernorm)
void cn_layernorm(size_t outer, size_t length, size_t inner, const float* x, size_t x_length, const float* scale,
                  size_t scale_length, const float* bias, size_t bias_length, float epsilon, float* y,
                  size_t y_length) {
  const GroupShape shape{outer, length, inner};
  check_layernorm(shape, x_length, y_length, scale_length, bias != nullptr, bias_length, epsilon);
  run_layernorm(active_config(), shape, x, scale, bias, epsilon, y);
}

CN_EXPORT(cn_softmax)
void cn_softmax(size_t outer, size_t length, size_t inner, const float* x, size_t x_length, float* y, size_t y_length) {
  const GroupShape shape{outer, length, inner};
  check_softmax(shape, x_length, y_length);
  run_softmax(active_config(), shape, x, y);
}

// A squeeze-and-excitation block (ops/squeeze_excite.h): the reduce layer's activation is the
// kept one (cn_keep_activation), the expand layer's (the gate's) the staged one. Biases may be null.
CN_EXPORT(cn_squeeze_excite_create)
SqueezeExcite* cn_squeeze_excite_create(size_t channels, size_t hidden, const float* reduce_weight,
                                        size_t reduce_weight_length, const float* reduce_bias,
                                        size_t reduce_bias_length, const float* expand_weight,
                                        size_t expand_weight_length, const float* expand_bias,
                                        size_t expand_bias_length) {
  SqueezeExciteLayer reduce{reduce_weight, reduce_weight_length, reduce_bias, reduce_bias_length, g_kept_activation};
  SqueezeExciteLayer expand{expand_weight, expand_weight_length, expand_bias, expand_bias_length, g_activation};
  return new SqueezeExcite(channels, hidden, reduce, expand, active_config());
}

CN_EXPORT(cn_squeeze_excite_destroy) void cn_squeeze_excite_destroy(SqueezeExcite* block) { delete block; }

// input and output: batch x channels x plane; output may be input.
CN_EXPORT(cn_squeeze_excite_run)
void cn_squeeze_excite_run(const SqueezeExcite* block, size_t batch, size_t plane, const float* input,
                           size_t input_length, float* output, size_t output_length) {
  block->check(batch, plane, input_length, output_length);
  block->run(batch, plane, input, output);
}
