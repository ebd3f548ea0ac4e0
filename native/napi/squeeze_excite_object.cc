#include "squeeze_excite_object.h"

#include <string>

#include "arguments.h"
#include "async_job.h"
#include "held_weights.h"

namespace convnode {

Napi::Function SqueezeExciteObject::define(Napi::Env env) {
  return DefineClass(env, "SqueezeExcite",
                     {InstanceMethod("runSync", &SqueezeExciteObject::run_sync),
                      InstanceMethod("run", &SqueezeExciteObject::run),
                      InstanceMethod("release", &SqueezeExciteObject::release)});
}

// new SqueezeExcite(reduceWeight, reduceBias | null, expandWeight, expandBias | null,
//                   {channels, hidden, reduce: {activation, ...}, expand: {activation, ...}})
SqueezeExciteObject::SqueezeExciteObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SqueezeExciteObject>(info) {
  Napi::Env env = info.Env();
  translate_errors(env, [&] {
    // Options first: their getters may run JS that could detach an array read earlier.
    const Napi::Object options = object_arg(info, 4, "options");
    const size_t channels = size_property(options, "channels", "options");
    const size_t hidden = size_property(options, "hidden", "options");
    const Napi::Value reduce_options = options.Get("reduce");
    const Napi::Value expand_options = options.Get("expand");
    if (!reduce_options.IsObject()) throw Napi::TypeError::New(env, "options.reduce must be an object (the first gate layer's activation)");
    if (!expand_options.IsObject()) throw Napi::TypeError::New(env, "options.expand must be an object (the gate's activation)");
    SqueezeExciteLayer reduce, expand;
    reduce.activation = activation_from(reduce_options.As<Napi::Object>());
    expand.activation = activation_from(expand_options.As<Napi::Object>());
    const FloatArray reduce_weight = float_array_arg(info, 0, "reduceWeight");
    const FloatArray reduce_bias = float_array_arg(info, 1, "reduceBias", true);
    const FloatArray expand_weight = float_array_arg(info, 2, "expandWeight");
    const FloatArray expand_bias = float_array_arg(info, 3, "expandBias", true);
    reduce.weight = reduce_weight.data, reduce.weight_length = reduce_weight.length;
    reduce.bias = reduce_bias.data, reduce.bias_length = reduce_bias.length;
    expand.weight = expand_weight.data, expand.weight_length = expand_weight.length;
    expand.bias = expand_bias.data, expand.bias_length = expand_bias.length;
    block_ = std::make_shared<const SqueezeExcite>(channels, hidden, reduce, expand, active_config());
  });
  if (block_) {
    external_bytes_ = static_cast<int64_t>(block_->packed_bytes());
    held_weight_bytes() += external_bytes_;
    Napi::MemoryManagement::AdjustExternalMemory(env, external_bytes_);
  }
}

void SqueezeExciteObject::drop_memory(napi_env env) {
  held_weight_bytes() -= external_bytes_;
  int64_t ignored;  // C API: a failure during environment teardown must not throw from here
  if (external_bytes_ != 0) napi_adjust_external_memory(env, -external_bytes_, &ignored);
  external_bytes_ = 0;
}

SqueezeExciteObject::~SqueezeExciteObject() { drop_memory(Env()); }

// Frees the packed gate weights now (in-flight runs keep them until they finish). Idempotent.
Napi::Value SqueezeExciteObject::release(const Napi::CallbackInfo& info) {
  block_.reset();
  drop_memory(info.Env());
  return info.Env().Undefined();
}

const SqueezeExcite& SqueezeExciteObject::prepared(Napi::Env env, const char* method) const {
  if (!block_) throw Napi::Error::New(env, std::string("SqueezeExcite.") + method + ": this SqueezeExcite was released");
  return *block_;
}

namespace {

struct SeCall {
  FloatArray input, output;
  size_t batch, plane;
};

// (input, batch, plane, output): output may be input itself, but no partial overlap.
SeCall parse_call(const Napi::CallbackInfo& info, const SqueezeExcite& block) {
  SeCall call{float_array_arg(info, 0, "input"), {}, size_value(info[1], "batch"), size_value(info[2], "plane")};
  call.output = float_array_arg(info, 3, "output");
  block.check(call.batch, call.plane, call.input.length, call.output.length);
  if (call.input.data != call.output.data) expect_disjoint(call.input, "input", call.output, "output");
  return call;
}

}  // namespace

Napi::Value SqueezeExciteObject::run_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const SqueezeExcite& block = prepared(info.Env(), "runSync");
    const SeCall call = parse_call(info, block);
    block.run(call.batch, call.plane, call.input.data, call.output.data);
  });
  return info.Env().Undefined();
}

Napi::Value SqueezeExciteObject::run(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    const SeCall call = parse_call(info, prepared(info.Env(), "run"));
    std::shared_ptr<const SqueezeExcite> block = block_;
    return AsyncJob::start(
        info.Env(),
        [block, batch = call.batch, plane = call.plane, in = call.input.data, out = call.output.data] {
          block->run(batch, plane, in, out);
        },
        {call.input.value, call.output.value, info.This()},
        JobMemory{{MemoryRange::of(call.input.data, call.input.length)},
                  {MemoryRange::of(call.output.data, call.output.length)}});
  });
}

}  // namespace convnode
