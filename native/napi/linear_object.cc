#include "linear_object.h"

#include <atomic>
#include <exception>
#include <new>

#include "arguments.h"
#include "async_job.h"
#include "held_weights.h"

namespace convnode {

// What the packing job reads (held by its references, written by nobody) and leaves behind.
struct LinearObject::PendingPack {
  size_t in_features = 0, out_features = 0;
  const float* weight = nullptr;
  size_t weight_length = 0;
  const float* bias = nullptr;
  size_t bias_length = 0;
  Activation activation;
  const KernelConfig* config = nullptr;
  std::shared_ptr<const Linear> result;  // written by the job's thread, read after it settled
  std::exception_ptr failure;
  std::atomic<bool> done{false};
};

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
    auto pending = std::make_shared<PendingPack>();
    pending->in_features = in_features;
    pending->out_features = out_features;
    pending->weight = weight.data;
    pending->weight_length = weight.length;
    pending->bias = bias.data;
    pending->bias_length = bias.length;
    pending->activation = activation;
    pending->config = &active_config();
    Napi::Promise promise = AsyncJob::start(
        env,
        [pending] {
          try {
            pending->result = std::make_shared<const Linear>(pending->in_features, pending->out_features, pending->weight,
                                                             pending->weight_length, pending->bias, pending->bias_length,
                                                             pending->activation, *pending->config);
          } catch (...) {
            pending->failure = std::current_exception();
          }
          pending->done.store(true, std::memory_order_release);
        },
        {weight.value, bias.value, info.This()},
        JobMemory{{MemoryRange::of(weight.data, weight.length), MemoryRange::of(bias.data, bias.length)}, {}});
    packing_ = Napi::Persistent(Napi::Value(promise));
    pending_ = std::move(pending);
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

Napi::Value LinearObject::pack(const Napi::CallbackInfo& info) {
  if (!pending_ || packing_.IsEmpty()) {
    throw Napi::Error::New(info.Env(), "Linear.pack: only a Linear made with packLater and not yet finished or released packs");
  }
  return packing_.Value();
}

Napi::Value LinearObject::finish_pack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!pending_) throw Napi::Error::New(env, released_ ? "Linear.finishPack: this Linear was released" : "Linear.finishPack: nothing to finish");
  if (!pending_->done.load(std::memory_order_acquire)) {
    throw Napi::Error::New(env, "Linear.finishPack: the packing job has not finished (await pack() first)");
  }
  const std::shared_ptr<PendingPack> pending = std::move(pending_);
  packing_.Reset();
  if (pending->failure) {
    translate_errors(env, [&] {
      try {
        std::rethrow_exception(pending->failure);
      } catch (const std::bad_alloc&) {
        throw Napi::Error::New(env, "Linear: out of memory while packing the weights");
      }
    });
  }
  linear_ = std::move(pending->result);
  report_memory(env);
  return env.Undefined();
}

// Frees the packed weights now (in-flight runs keep them until they finish). Idempotent.
Napi::Value LinearObject::release(const Napi::CallbackInfo& info) {
  packing_.Reset();
  pending_.reset();
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
