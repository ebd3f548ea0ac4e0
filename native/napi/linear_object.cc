#include "linear_object.h"

#include <atomic>
#include <exception>
#include <new>

#include "arguments.h"
#include "async_job.h"
#include "deferred_pack.h"
#include "held_weights.h"

namespace convnode {

Napi::Function LinearObject::define(Napi::Env env) {
  return DefineClass(env, "Linear",
                     {InstanceMethod("runSync", &LinearObject::run_sync), InstanceMethod("run", &LinearObject::run),
                      InstanceMethod("pack", &LinearObject::pack), InstanceMethod("finishPack", &LinearObject::finish_pack),
                      InstanceMethod("release", &LinearObject::release)});
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
    if (!options.Get("packLater").ToBoolean().Value()) {
      linear_ = std::make_shared<const Linear>(in_features, out_features, weight.data, weight.length, bias.data,
                                               bias.length, activation, active_config());
      return;
    }
    const KernelConfig* config = &active_config();
    packing_.start(
        env,
        [in_features, out_features, weight = weight.data, weight_length = weight.length, bias = bias.data,
         bias_length = bias.length, activation, config] {
          return std::make_shared<const Linear>(in_features, out_features, weight, weight_length, bias, bias_length,
                                                activation, *config);
        },
        {weight.value, bias.value, info.This()},
        JobMemory{{MemoryRange::of(weight.data, weight.length), MemoryRange::of(bias.data, bias.length)}, {}});
  });
  if (linear_) report_memory(env);
}

void LinearObject::report_memory(Napi::Env env) {
  external_bytes_ = static_cast<int64_t>(linear_->packed_bytes());
  held_weight_bytes() += external_bytes_;
  Napi::MemoryManagement::AdjustExternalMemory(env, external_bytes_);
}

void LinearObject::drop_memory(napi_env env) {
  held_weight_bytes() -= external_bytes_;
  int64_t ignored;  // C API: a failure during environment teardown must not throw from here
  if (external_bytes_ != 0) napi_adjust_external_memory(env, -external_bytes_, &ignored);
  external_bytes_ = 0;
}

constexpr PackNames kLinearNames = {"Linear", "Linear"};

Napi::Value LinearObject::pack(const Napi::CallbackInfo& info) { return packing_.promise(info.Env(), kLinearNames); }

Napi::Value LinearObject::finish_pack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  linear_ = packing_.finish(env, kLinearNames, released_);
  report_memory(env);
  return env.Undefined();
}

// Frees the packed weights now (in-flight runs keep them until they finish). Idempotent.
Napi::Value LinearObject::release(const Napi::CallbackInfo& info) {
  packing_.reset();
  linear_.reset();
  released_ = true;
  drop_memory(info.Env());
  return info.Env().Undefined();
}

const Linear& LinearObject::prepared(Napi::Env env, const char* method) const {
  if (!linear_) {
    throw Napi::Error::New(env, std::string("Linear.") + method +
                                    (released_ ? ": this Linear was released" : ": this Linear is not packed yet (await pack(), then finishPack())"));
  }
  return *linear_;
}

LinearObject::~LinearObject() { drop_memory(Env()); }

// (input, batch, output)
Napi::Value LinearObject::run_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const FloatArray input = float_array_arg(info, 0, "input");
    const size_t batch = size_value(info[1], "batch");
    const FloatArray output = float_array_arg(info, 2, "output");
    const Linear& linear = prepared(info.Env(), "runSync");
    linear.check(batch, input.length, output.length);
    expect_disjoint(input, "input", output, "output");
    linear.run(batch, input.data, output.data);
  });
  return info.Env().Undefined();
}

Napi::Value LinearObject::run(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    const FloatArray input = float_array_arg(info, 0, "input");
    const size_t batch = size_value(info[1], "batch");
    const FloatArray output = float_array_arg(info, 2, "output");
    prepared(info.Env(), "run").check(batch, input.length, output.length);
    expect_disjoint(input, "input", output, "output");
    std::shared_ptr<const Linear> linear = linear_;
    return AsyncJob::start(
        info.Env(), [linear, batch, in = input.data, out = output.data] { linear->run(batch, in, out); },
        {input.value, output.value, info.This()},
        JobMemory{{MemoryRange::of(input.data, input.length)}, {MemoryRange::of(output.data, output.length)}});
  });
}

}  // namespace convnode
