#include "linear_object.h"

#include "arguments.h"
#include "async_job.h"

namespace convnode {

Napi::Function LinearObject::define(Napi::Env env) {
  return DefineClass(env, "Linear",
                     {InstanceMethod("runSync", &LinearObject::run_sync), InstanceMethod("run", &LinearObject::run)});
}

// new Linear(weight, bias | null, {inFeatures, outFeatures, activation, alpha})
LinearObject::LinearObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LinearObject>(info) {
  Napi::Env env = info.Env();
  translate_errors(env, [&] {
    // Options first: their getters may run JS that could detach an array read earlier.
    const Napi::Object options = object_arg(info, 2, "options");
    const size_t in_features = size_property(options, "inFeatures", "options");
    const size_t out_features = size_property(options, "outFeatures", "options");
    const Activation activation = activation_from(options);
    const FloatArray weight = float_array_arg(info, 0, "weight");
    const FloatArray bias = float_array_arg(info, 1, "bias", true);
    linear_ = std::make_shared<const Linear>(in_features, out_features, weight.data, weight.length, bias.data,
                                             bias.length, activation, active_config());
  });
  external_bytes_ = static_cast<int64_t>(linear_->packed_bytes());
  Napi::MemoryManagement::AdjustExternalMemory(env, external_bytes_);
}

LinearObject::~LinearObject() {
  int64_t ignored;  // C API: a failure during environment teardown must not throw from here
  napi_adjust_external_memory(Env(), -external_bytes_, &ignored);
}

// (input, batch, output)
Napi::Value LinearObject::run_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const FloatArray input = float_array_arg(info, 0, "input");
    const size_t batch = size_value(info[1], "batch");
    const FloatArray output = float_array_arg(info, 2, "output");
    linear_->check(batch, input.length, output.length);
    expect_disjoint(input, "input", output, "output");
    linear_->run(batch, input.data, output.data);
  });
  return info.Env().Undefined();
}

Napi::Value LinearObject::run(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    const FloatArray input = float_array_arg(info, 0, "input");
    const size_t batch = size_value(info[1], "batch");
    const FloatArray output = float_array_arg(info, 2, "output");
    linear_->check(batch, input.length, output.length);
    expect_disjoint(input, "input", output, "output");
    std::shared_ptr<const Linear> linear = linear_;
    return AsyncJob::start(
        info.Env(), [linear, batch, in = input.data, out = output.data] { linear->run(batch, in, out); },
        {input.value, output.value, info.This()},
        JobMemory{{MemoryRange::of(input.data, input.length)}, {MemoryRange::of(output.data, output.length)}});
  });
}

}  // namespace convnode
