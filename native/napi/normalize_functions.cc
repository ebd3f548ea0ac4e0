#include "normalize_functions.h"

#include <string>
#include <vector>

#include "../ops/normalize.h"
#include "arguments.h"
#include "async_job.h"

namespace convnode {

namespace {

GroupShape shape_from(const Napi::Object& p) {
  GroupShape s;
  s.outer = size_property(p, "outer", "params");
  s.length = size_property(p, "length", "params");
  s.inner = size_property(p, "inner", "params");
  return s;
}

// The output may be the input itself (each group is read before it is written), but must not
// otherwise share memory with it.
void expect_same_or_disjoint(const FloatArray& in, const FloatArray& out) {
  if (in.data != out.data) expect_disjoint(in, "input", out, "output");
}

FloatArray array_property(const Napi::Object& p, const char* key, bool optional) {
  const Napi::Value v = p.Get(key);
  FloatArray out;
  if (optional && (v.IsNull() || v.IsUndefined())) return out;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw ArgumentError(ArgumentError::Kind::Type,
                        std::string("params.") + key + " must be a Float32Array" + (optional ? " or null" : ""));
  }
  Napi::Float32Array array = v.As<Napi::Float32Array>();
  out.data = array.Data();
  out.length = array.ElementLength();
  out.value = v;
  if (out.data == nullptr) range_error(std::string("params.") + key + "'s ArrayBuffer is detached or empty");
  return out;
}

struct LayerNormCall {
  GroupShape shape;
  float epsilon = 0;
  FloatArray input, output, scale, bias;
};

// (input, output, params)
LayerNormCall parse_layernorm(const Napi::CallbackInfo& info) {
  LayerNormCall call;
  const Napi::Object p = object_arg(info, 2, "params");
  call.shape = shape_from(p);
  const Napi::Value eps = p.Get("epsilon");
  if (!eps.IsNumber()) throw ArgumentError(ArgumentError::Kind::Type, "params.epsilon must be a number");
  call.epsilon = static_cast<float>(eps.As<Napi::Number>().DoubleValue());
  call.scale = array_property(p, "scale", false);
  call.bias = array_property(p, "bias", true);
  call.input = float_array_arg(info, 0, "input");
  call.output = float_array_arg(info, 1, "output");
  check_layernorm(call.shape, call.input.length, call.output.length, call.scale.length, call.bias.data != nullptr,
                  call.bias.length, call.epsilon);
  expect_same_or_disjoint(call.input, call.output);
  expect_disjoint(call.scale, "params.scale", call.output, "output");
  if (call.bias.data != nullptr) expect_disjoint(call.bias, "params.bias", call.output, "output");
  return call;
}

struct SoftmaxCall {
  GroupShape shape;
  FloatArray input, output;
};

SoftmaxCall parse_softmax(const Napi::CallbackInfo& info) {
  SoftmaxCall call;
  call.shape = shape_from(object_arg(info, 2, "params"));
  call.input = float_array_arg(info, 0, "input");
  call.output = float_array_arg(info, 1, "output");
  check_softmax(call.shape, call.input.length, call.output.length);
  expect_same_or_disjoint(call.input, call.output);
  return call;
}

std::vector<MemoryRange> ranges(std::initializer_list<const FloatArray*> arrays) {
  std::vector<MemoryRange> out;
  for (const FloatArray* a : arrays) {
    if (a->data != nullptr) out.push_back(MemoryRange::of(a->data, a->length));
  }
  return out;
}

std::vector<Napi::Value> alive(std::initializer_list<const FloatArray*> arrays) {
  std::vector<Napi::Value> values;
  for (const FloatArray* a : arrays) {
    if (a->data != nullptr) values.push_back(a->value);
  }
  return values;
}

}  // namespace

Napi::Value layernorm_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const LayerNormCall c = parse_layernorm(info);
    run_layernorm(active_config(), c.shape, c.input.data, c.scale.data, c.bias.data, c.epsilon, c.output.data);
  });
  return info.Env().Undefined();
}

Napi::Value layernorm_async(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    const LayerNormCall c = parse_layernorm(info);
    const KernelConfig* config = &active_config();
    return AsyncJob::start(
        info.Env(),
        [config, shape = c.shape, in = c.input.data, scale = c.scale.data, bias = c.bias.data, eps = c.epsilon,
         out = c.output.data] { run_layernorm(*config, shape, in, scale, bias, eps, out); },
        alive({&c.input, &c.output, &c.scale, &c.bias}),
        JobMemory{ranges({&c.input, &c.scale, &c.bias}), ranges({&c.output})});
  });
}

Napi::Value softmax_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const SoftmaxCall c = parse_softmax(info);
    run_softmax(active_config(), c.shape, c.input.data, c.output.data);
  });
  return info.Env().Undefined();
}

Napi::Value softmax_async(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    const SoftmaxCall c = parse_softmax(info);
    const KernelConfig* config = &active_config();
    return AsyncJob::start(
        info.Env(),
        [config, shape = c.shape, in = c.input.data, out = c.output.data] { run_softmax(*config, shape, in, out); },
        alive({&c.input, &c.output}), JobMemory{ranges({&c.input}), ranges({&c.output})});
  });
}

}  // namespace convnode
