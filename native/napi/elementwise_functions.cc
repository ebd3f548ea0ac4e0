#include "elementwise_functions.h"

#include <string>
#include <vector>

#include "../ops/elementwise.h"
#include "arguments.h"
#include "async_job.h"

namespace convnode {

namespace {

// An output may be the very array an operand is (in place, element i read before it is
// written), but must not otherwise share memory with it.
void expect_same_or_disjoint(const FloatArray& in, const char* in_name, const FloatArray& out, const char* out_name,
                             bool may_alias) {
  if (may_alias && in.data == out.data) return;
  expect_disjoint(in, in_name, out, out_name);
}

std::vector<size_t> shape_arg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value v = info[index];
  if (!v.IsArray()) {
    throw ArgumentError(ArgumentError::Kind::Type, std::string(name) + " must be an array of dimensions");
  }
  const Napi::Array array = v.As<Napi::Array>();
  if (array.Length() > 16) range_error(std::string(name) + " has rank " + std::to_string(array.Length()) + ", at most 16");
  std::vector<size_t> shape(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) shape[i] = size_value(array.Get(i), std::string(name) + "[" + std::to_string(i) + "]");
  return shape;
}

Napi::Object options_arg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info[index].IsUndefined()) return Napi::Object::New(info.Env());
  return object_arg(info, index, name);
}

struct UnaryCall {
  Activation activation;
  FloatArray input, output;
};

// (input, output, options)
UnaryCall parse_unary(const Napi::CallbackInfo& info) {
  UnaryCall call;
  call.activation = activation_from(options_arg(info, 2, "options"));
  call.input = float_array_arg(info, 0, "input");
  call.output = float_array_arg(info, 1, "output");
  check_unary(call.input.length, call.output.length);
  expect_same_or_disjoint(call.input, "input", call.output, "output", true);
  return call;
}

BinaryOp op_from(const Napi::Value& v) {
  const std::string op = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (op == "add") return BinaryOp::Add;
  if (op == "sub") return BinaryOp::Sub;
  if (op == "mul") return BinaryOp::Mul;
  if (op == "div") return BinaryOp::Div;
  range_error("op must be one of 'add', 'sub', 'mul', 'div'");
}

struct BinaryCall {
  BinaryRun run;
  FloatArray a, b, output;
};

size_t numel(const std::vector<size_t>& shape) {
  size_t n = 1;
  for (size_t d : shape) n *= d;
  return n;
}

// (op, a, aShape, b, bShape, output, outShape, options)
BinaryCall parse_binary(const Napi::CallbackInfo& info) {
  BinaryCall call;
  call.run.op = op_from(info[0]);
  call.run.a_shape = shape_arg(info, 2, "aShape");
  call.run.b_shape = shape_arg(info, 4, "bShape");
  call.run.out_shape = shape_arg(info, 6, "outShape");
  call.run.activation = activation_from(options_arg(info, 7, "options"));
  call.a = float_array_arg(info, 1, "a");
  call.b = float_array_arg(info, 3, "b");
  call.output = float_array_arg(info, 5, "output");
  check_binary(call.run, call.a.length, call.b.length, call.output.length);
  // In place only where the operand has the output's own shape (index i read before written).
  const size_t total = numel(call.run.out_shape);
  expect_same_or_disjoint(call.a, "a", call.output, "output", numel(call.run.a_shape) == total);
  expect_same_or_disjoint(call.b, "b", call.output, "output", numel(call.run.b_shape) == total);
  return call;
}

struct AffineCall {
  AffineRun run;
  FloatArray input, scale, shift, output;
};

// (input, params, output)
AffineCall parse_affine(const Napi::CallbackInfo& info) {
  AffineCall call;
  const Napi::Object p = object_arg(info, 1, "params");
  call.run.batch = size_property(p, "batch", "params");
  call.run.channels = size_property(p, "channels", "params");
  call.run.plane = size_property(p, "plane", "params");
  call.run.activation = activation_from(p);
  const Napi::Value scale = p.Get("scale");
  const Napi::Value shift = p.Get("shift");
  const auto optional_array = [](const Napi::Value& v, const char* name) {
    FloatArray out;
    if (v.IsNull() || v.IsUndefined()) return out;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw ArgumentError(ArgumentError::Kind::Type, std::string(name) + " must be a Float32Array or null");
    }
    Napi::Float32Array array = v.As<Napi::Float32Array>();
    out.data = array.Data();
    out.length = array.ElementLength();
    out.value = v;
    if (out.data == nullptr && out.length > 0) range_error(std::string(name) + "'s ArrayBuffer is detached");
    return out;
  };
  call.scale = optional_array(scale, "params.scale");
  call.shift = optional_array(shift, "params.shift");
  call.run.has_scale = !(scale.IsNull() || scale.IsUndefined());
  call.run.has_shift = !(shift.IsNull() || shift.IsUndefined());
  call.input = float_array_arg(info, 0, "input");
  call.output = float_array_arg(info, 2, "output");
  check_affine(call.run, call.input.length, call.output.length, call.scale.length, call.shift.length);
  expect_same_or_disjoint(call.input, "input", call.output, "output", true);
  expect_disjoint(call.scale, "params.scale", call.output, "output");
  expect_disjoint(call.shift, "params.shift", call.output, "output");
  return call;
}

std::vector<Napi::Value> alive(std::initializer_list<const FloatArray*> arrays) {
  std::vector<Napi::Value> values;
  for (const FloatArray* a : arrays) {
    if (a->data != nullptr) values.push_back(a->value);
  }
  return values;
}

std::vector<MemoryRange> ranges(std::initializer_list<const FloatArray*> arrays) {
  std::vector<MemoryRange> out;
  for (const FloatArray* a : arrays) {
    if (a->data != nullptr) out.push_back(MemoryRange::of(a->data, a->length));
  }
  return out;
}

}  // namespace

Napi::Value unary_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const UnaryCall call = parse_unary(info);
    run_unary(active_config(), call.input.length, call.input.data, call.output.data, call.activation);
  });
  return info.Env().Undefined();
}

Napi::Value unary_async(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    const UnaryCall call = parse_unary(info);
    const KernelConfig* config = &active_config();
    return AsyncJob::start(
        info.Env(),
        [config, act = call.activation, n = call.input.length, in = call.input.data, out = call.output.data] {
          run_unary(*config, n, in, out, act);
        },
        alive({&call.input, &call.output}), JobMemory{ranges({&call.input}), ranges({&call.output})});
  });
}

Napi::Value binary_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const BinaryCall call = parse_binary(info);
    run_binary(active_config(), call.run, call.a.data, call.b.data, call.output.data);
  });
  return info.Env().Undefined();
}

Napi::Value binary_async(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    const BinaryCall call = parse_binary(info);
    const KernelConfig* config = &active_config();
    return AsyncJob::start(
        info.Env(),
        [config, run = call.run, a = call.a.data, b = call.b.data, out = call.output.data] {
          run_binary(*config, run, a, b, out);
        },
        alive({&call.a, &call.b, &call.output}), JobMemory{ranges({&call.a, &call.b}), ranges({&call.output})});
  });
}

Napi::Value channel_affine_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const AffineCall call = parse_affine(info);
    run_affine(active_config(), call.run, call.input.data, call.scale.data, call.shift.data, call.output.data);
  });
  return info.Env().Undefined();
}

Napi::Value channel_affine_async(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    const AffineCall call = parse_affine(info);
    const KernelConfig* config = &active_config();
    return AsyncJob::start(
        info.Env(),
        [config, run = call.run, in = call.input.data, scale = call.scale.data, shift = call.shift.data,
         out = call.output.data] { run_affine(*config, run, in, scale, shift, out); },
        alive({&call.input, &call.scale, &call.shift, &call.output}),
        JobMemory{ranges({&call.input, &call.scale, &call.shift}), ranges({&call.output})});
  });
}

}  // namespace convnode
