#include "resize_functions.h"

#include <cstdint>
#include <string>
#include <utility>

#include "../ops/resize.h"
#include "arguments.h"
#include "async_job.h"

namespace convnode {

namespace {

// A copy of params.<axis>.<key>, which must be a typed array of E (Int32Array or Float32Array).
template <typename E>
std::vector<E> array_copy(const Napi::Object& axis, const char* key, const std::string& owner,
                                               napi_typedarray_type type, const char* type_name) {
  const Napi::Value v = axis.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw ArgumentError(ArgumentError::Kind::Type, owner + "." + key + " must be " + type_name);
  }
  const Napi::TypedArrayOf<E> array = v.As<Napi::TypedArrayOf<E>>();
  if (array.Data() == nullptr && array.ElementLength() > 0) range_error(owner + "." + key + "'s ArrayBuffer is detached");
  return std::vector<E>(array.Data(), array.Data() + array.ElementLength());
}

ResizeAxisTable axis_from(const Napi::Object& params, const char* name, bool bilinear) {
  const std::string owner = std::string("params.") + name;
  const Napi::Value v = params.Get(name);
  if (!v.IsObject()) throw ArgumentError(ArgumentError::Kind::Type, owner + " must be an object { in, lo, hi, weight }");
  const Napi::Object axis = v.As<Napi::Object>();
  ResizeAxisTable t;
  t.in = size_property(axis, "in", owner);
  t.lo = array_copy<int32_t>(axis, "lo", owner, napi_int32_array, "an Int32Array");
  if (bilinear) {
    t.hi = array_copy<int32_t>(axis, "hi", owner, napi_int32_array, "an Int32Array");
    t.weight = array_copy<float>(axis, "weight", owner, napi_float32_array, "a Float32Array");
  }
  return t;
}

struct ResizeCall {
  ResizePlan plan;
  FloatArray input, output;
};

// (input, output, params)
ResizeCall parse_resize(const Napi::CallbackInfo& info) {
  ResizeCall call;
  const Napi::Object p = object_arg(info, 2, "params");
  call.plan.planes = size_property(p, "planes", "params");
  const Napi::Value bilinear = p.Get("bilinear");
  if (!bilinear.IsBoolean()) throw ArgumentError(ArgumentError::Kind::Type, "params.bilinear must be a boolean");
  call.plan.bilinear = bilinear.As<Napi::Boolean>().Value();
  call.plan.rows = axis_from(p, "rows", call.plan.bilinear);
  call.plan.cols = axis_from(p, "cols", call.plan.bilinear);
  call.input = float_array_arg(info, 0, "input");
  call.output = float_array_arg(info, 1, "output");
  check_resize(call.plan, call.input.length, call.output.length);
  expect_disjoint(call.input, "input", call.output, "output");
  return call;
}

}  // namespace

Napi::Value resize_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const ResizeCall c = parse_resize(info);
    run_resize(active_config(), c.plan, c.input.data, c.output.data);
  });
  return info.Env().Undefined();
}

Napi::Value resize_async(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    ResizeCall c = parse_resize(info);
    const KernelConfig* config = &active_config();
    const JobMemory memory{{MemoryRange::of(c.input.data, c.input.length)},
                           {MemoryRange::of(c.output.data, c.output.length)}};
    return AsyncJob::start(
        info.Env(),
        [config, plan = std::move(c.plan), in = c.input.data, out = c.output.data] {
          run_resize(*config, plan, in, out);
        },
        {c.input.value, c.output.value}, memory);
  });
}

}  // namespace convnode
