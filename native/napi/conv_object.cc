#include "conv_object.h"

#include <atomic>
#include <exception>
#include <new>

#include "arguments.h"
#include "async_job.h"
#include "deferred_pack.h"
#include "held_weights.h"

namespace convnode {

struct ConvObject::Call {
  ConvRun geometry;
  FloatArray input, output, residual;
};

Napi::Function ConvObject::define(Napi::Env env) {
  return DefineClass(env, "Conv2d",
                     {InstanceMethod("runSync", &ConvObject::run_sync), InstanceMethod("run", &ConvObject::run),
                      InstanceMethod("describe", &ConvObject::describe), InstanceMethod("pack", &ConvObject::pack),
                      InstanceMethod("finishPack", &ConvObject::finish_pack),
                      InstanceMethod("release", &ConvObject::release)});
}

namespace {

// An optional positive integer option (absent: 1).
size_t optional_window_property(const Napi::Object& options, const char* key) {
  return options.Get(key).IsUndefined() ? 1 : size_property(options, key, "options");
}

}  // namespace

// new Conv2d(weight, bias | null, {inChannels, outChannels, groups, kernelH, kernelW, strideH?,
//   strideW?, dilationH?, dilationW?, algorithm?, packLater?, activation, alpha, ...}): the window fields
// default to 1, the algorithm to conv_default_algorithm (never Winograd: lib/planner/
// conv-plan.ts's rule decides that and names it here).
ConvObject::ConvObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ConvObject>(info) {
  Napi::Env env = info.Env();
  translate_errors(env, [&] {
    // Options first: reading them may run JS (getters) that could detach an array read earlier.
    const Napi::Object options = object_arg(info, 2, "options");
    ConvParams params;
    params.in_channels = size_property(options, "inChannels", "options");
    params.out_channels = size_property(options, "outChannels", "options");
    params.groups = size_property(options, "groups", "options");
    params.kernel_h = size_property(options, "kernelH", "options");
    params.kernel_w = size_property(options, "kernelW", "options");
    params.stride_h = optional_window_property(options, "strideH");
    params.stride_w = optional_window_property(options, "strideW");
    params.dilation_h = optional_window_property(options, "dilationH");
    params.dilation_w = optional_window_property(options, "dilationW");
    const Napi::Value algorithm = options.Get("algorithm");
    if (algorithm.IsUndefined()) {
      params.algorithm = conv_default_algorithm(params);
    } else {
      const std::string name = algorithm.IsString() ? algorithm.As<Napi::String>().Utf8Value() : "";
      if (!conv_algorithm_from_name(name, &params.algorithm)) {
        range_error("options.algorithm must be one of 'depthwise', 'pointwise-gemm', 'im2col-gemm', "
                    "'winograd-f2x2-3x3', 'winograd-f4x4-3x3', 'grouped-direct', 'winograd-f6x6-3x3', got " +
                    (algorithm.IsString() ? "'" + name + "'" : std::string("a non-string")));
      }
    }
    params.activation = activation_from(options);
    const bool pack_later = options.Get("packLater").ToBoolean().Value();
    const FloatArray weight = float_array_arg(info, 0, "weight");
    const FloatArray bias = float_array_arg(info, 1, "bias", true);
    if (!pack_later) {
      conv_ = std::make_shared<const Conv2d>(params, weight.data, weight.length, bias.data, bias.length, active_config());
      return;
    }
    const KernelConfig* config = &active_config();  // the ISA at construction, as for a conv packed at once
    // Reads only: no run can use this conv before finishPack(), and nothing writes the filters.
    packing_.start(
        env,
        [params, weight = weight.data, weight_length = weight.length, bias = bias.data, bias_length = bias.length, config] {
          return std::make_shared<const Conv2d>(params, weight, weight_length, bias, bias_length, *config);
        },
        {weight.value, bias.value, info.This()},
        JobMemory{{MemoryRange::of(weight.data, weight.length), MemoryRange::of(bias.data, bias.length)}, {}});
  });
  if (conv_) external_->update(env, *conv_);
}

constexpr PackNames kConvNames = {"Conv2d", "conv"};

// A packLater conv's packing job: a Promise that resolves once it finished, well or not.
Napi::Value ConvObject::pack(const Napi::CallbackInfo& info) { return packing_.promise(info.Env(), kConvNames); }

// Installs what the packing job made (or throws its error, typed as the constructor would).
Napi::Value ConvObject::finish_pack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  conv_ = packing_.finish(env, kConvNames, released_);
  external_->update(env, *conv_);
  return env.Undefined();
}

// Frees the packed weights now (runs in flight keep them until they finish); any later call
// throws. Idempotent.
Napi::Value ConvObject::release(const Napi::CallbackInfo& info) {
  packing_.reset();  // a packing job still running keeps its own state and drops its result
  conv_.reset();
  released_ = true;
  external_->drop(info.Env());
  return info.Env().Undefined();
}

const Conv2d& ConvObject::prepared(Napi::Env env, const char* method) const {
  if (!conv_) {
    throw Napi::Error::New(env, std::string("Conv2d.") + method +
                                    (released_ ? ": this conv was released" : ": this conv is not packed yet (await pack(), then finishPack())"));
  }
  return *conv_;
}

ConvObject::~ConvObject() {
  // Runs in the GC finalizer (also while a worker's environment is torn down, when the call
  // may fail: the C API reports that instead of throwing from a destructor). In-flight runs
  // keep their own shared_ptr to the packed weights.
  external_->drop(Env());
}

void ConvObject::ExternalMemory::update(napi_env env, const Conv2d& conv) {
  const int64_t now = static_cast<int64_t>(conv.packed_bytes());
  if (closed) return;
  held_weight_bytes() += now - held;
  held = now;
  if (now == reported) return;
  int64_t ignored;
  if (napi_adjust_external_memory(env, now - reported, &ignored) == napi_ok) reported = now;
}

void ConvObject::ExternalMemory::drop(napi_env env) {
  held_weight_bytes() -= held;
  held = 0;
  int64_t ignored;
  if (reported != 0 && napi_adjust_external_memory(env, -reported, &ignored) == napi_ok) reported = 0;
  closed = true;
}

// (input, geometry, output, residual?)
ConvObject::Call ConvObject::parse_call(const Napi::CallbackInfo& info) const {
  return translate_errors(info.Env(), [&] {
    Call call;
    // The geometry first: its getters may run JS, which must not be able to detach an array
    // whose data pointer was already taken.
    const Napi::Object g = object_arg(info, 1, "geometry");
    ConvRun& r = call.geometry;
    r.batch = size_property(g, "batch", "geometry");
    r.in_channels = size_property(g, "inChannels", "geometry");
    r.out_channels = size_property(g, "outChannels", "geometry");
    r.groups = size_property(g, "groups", "geometry");
    r.window = window_from(g);
    call.input = float_array_arg(info, 0, "input");
    call.output = float_array_arg(info, 2, "output");
    call.residual = float_array_arg(info, 3, "residual", true);
    expect_disjoint(call.input, "input", call.output, "output");
    expect_disjoint(call.residual, "residual", call.output, "output");
    prepared(info.Env(), "run").check(r, call.input.length, call.output.length, !call.residual.value.IsNull() && !call.residual.value.IsUndefined(),
                 call.residual.length);
    return call;
  });
}

Napi::Value ConvObject::run_sync(const Napi::CallbackInfo& info) {
  const Call call = parse_call(info);
  try {
    prepared(info.Env(), "runSync").run(call.geometry, call.input.data, call.output.data, call.residual.data);
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(info.Env(), "Conv2d.runSync: out of memory (scratch)");
  }
  return info.Env().Undefined();
}

Napi::Value ConvObject::run(const Napi::CallbackInfo& info) {
  const Call call = parse_call(info);
  std::shared_ptr<const Conv2d> conv = conv_;
  return AsyncJob::start(
      info.Env(),
      [conv, call_geometry = call.geometry, in = call.input.data, out = call.output.data, res = call.residual.data] {
        conv->run(call_geometry, in, out, res);
      },
      {call.input.value, call.output.value, call.residual.value, info.This()},
      JobMemory{{MemoryRange::of(call.input.data, call.input.length), MemoryRange::of(call.residual.data, call.residual.length)},
                {MemoryRange::of(call.output.data, call.output.length)}});
}

Napi::Value ConvObject::describe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Conv2d& conv = prepared(env, "describe");
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", isa_name(conv.isa()));
  o.Set("depthwise", conv.depthwise());
  o.Set("algorithm", conv_algorithm_name(conv.algorithm()));
  o.Set("packedBytes", static_cast<double>(conv.packed_bytes()));
  return o;
}

}  // namespace convnode
