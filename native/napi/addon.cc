// Addon entry point. Context-aware (Napi::Addon keeps per-environment state in instance data), so
// it loads in the main thread and in any number of worker_threads. Exports:
//   Conv2d, Linear, SqueezeExcite        prepared ops (classes)
//   pool2dSync/pool2d, globalPool2dSync/globalPool2d
//   unarySync/unary, binarySync/binary, channelAffineSync/channelAffine (the element-wise engine)
//   stridedCopySync/stridedCopy (Transpose / Slice / Gather / Split / Concat data movement)
//   beginBatch/endBatch (the async calls between them run as one job: see async_job.h)
//   beginRecord/endRecord/replay (record async calls once, run them as one job per replay)
//   replayImages, imageRunsMode, setImageRunsMode, failImageRunForTest (image-parallel runs: image_runs.h)
//   matMulSync/matMul (batched MatMul, both operands at run time)
//   layerNormSync/layerNorm, softmaxSync/softmax (normalisations over [outer, length, inner])
//   resizeSync/resize (Resize / Upsample of NCHW planes from per-axis tables)
//   col2imSync/col2im (ConvTranspose's footprint planes added into the output)
//   getIsa, setIsa, availableIsas, setNumThreads, getNumThreads, measurePeakGflops, externalMemory,
//   heldWeightBytes, freeArrayBuffer, countSharedWork, sharedWork, tracePoolJobs, poolJobs, poolWaitCounters
#include <napi.h>

#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <unordered_set>
#include <string>

#include "../runtime/dispatch.h"
#include "../runtime/thread_pool.h"
#include "arguments.h"
#include "async_job.h"
#include "conv_object.h"
#include "copy_functions.h"
#include "elementwise_functions.h"
#include "held_weights.h"
#include "image_runs.h"
#include "linear_object.h"
#include "matmul_functions.h"
#include "normalize_functions.h"
#include "pool_functions.h"
#include "resize_functions.h"
#include "col2im_functions.h"
#include "squeeze_excite_object.h"

namespace convnode {

class ConvnodeAddon : public Napi::Addon<ConvnodeAddon> {
 public:
  ConvnodeAddon(Napi::Env env, Napi::Object exports) {
    const std::string error = init_dispatch_from_env();
    if (!error.empty()) throw Napi::Error::New(env, error);
    DefineAddon(exports, {
                             InstanceValue("Conv2d", ConvObject::define(env)),
                             InstanceValue("Linear", LinearObject::define(env)),
                             InstanceValue("SqueezeExcite", SqueezeExciteObject::define(env)),
                             InstanceMethod("pool2dSync", &ConvnodeAddon::pool_sync),
                             InstanceMethod("pool2d", &ConvnodeAddon::pool),
                             InstanceMethod("globalPool2dSync", &ConvnodeAddon::global_sync),
                             InstanceMethod("globalPool2d", &ConvnodeAddon::global),
                             InstanceMethod("unarySync", &ConvnodeAddon::unary_sync_method),
                             InstanceMethod("unary", &ConvnodeAddon::unary_method),
                             InstanceMethod("binarySync", &ConvnodeAddon::binary_sync_method),
                             InstanceMethod("binary", &ConvnodeAddon::binary_method),
                             InstanceMethod("channelAffineSync", &ConvnodeAddon::channel_affine_sync_method),
                             InstanceMethod("channelAffine", &ConvnodeAddon::channel_affine_method),
                             InstanceMethod("stridedCopySync", &ConvnodeAddon::strided_copy_sync_method),
                             InstanceMethod("stridedCopy", &ConvnodeAddon::strided_copy_method),
                             InstanceMethod("beginBatch", &ConvnodeAddon::begin_batch),
                             InstanceMethod("endBatch", &ConvnodeAddon::end_batch),
                             InstanceMethod("beginRecord", &ConvnodeAddon::begin_record),
                             InstanceMethod("endRecord", &ConvnodeAddon::end_record),
                             InstanceMethod("replay", &ConvnodeAddon::replay),
                             InstanceMethod("replayImages", &ConvnodeAddon::replay_images),
                             InstanceMethod("imageRunsMode", &ConvnodeAddon::image_runs_mode_method),
                             InstanceMethod("setImageRunsMode", &ConvnodeAddon::set_image_runs_mode_method),
                             InstanceMethod("failImageRunForTest", &ConvnodeAddon::fail_image_run_method),
                             InstanceMethod("matMulSync", &ConvnodeAddon::matmul_sync_method),
                             InstanceMethod("matMul", &ConvnodeAddon::matmul_method),
                             InstanceMethod("layerNormSync", &ConvnodeAddon::layernorm_sync_method),
                             InstanceMethod("layerNorm", &ConvnodeAddon::layernorm_method),
                             InstanceMethod("softmaxSync", &ConvnodeAddon::softmax_sync_method),
                             InstanceMethod("softmax", &ConvnodeAddon::softmax_method),
                             InstanceMethod("resizeSync", &ConvnodeAddon::resize_sync_method),
                             InstanceMethod("resize", &ConvnodeAddon::resize_method),
                             InstanceMethod("col2imSync", &ConvnodeAddon::col2im_sync_method),
                             InstanceMethod("col2im", &ConvnodeAddon::col2im_method),
                             InstanceMethod("getIsa", &ConvnodeAddon::get_isa),
                             InstanceMethod("setIsa", &ConvnodeAddon::set_isa),
                             InstanceMethod("availableIsas", &ConvnodeAddon::available_isas),
                             InstanceMethod("setNumThreads", &ConvnodeAddon::set_num_threads),
                             InstanceMethod("getNumThreads", &ConvnodeAddon::get_num_threads),
                             InstanceMethod("measurePeakGflops", &ConvnodeAddon::measure_peak_gflops),
                             InstanceMethod("externalMemory", &ConvnodeAddon::external_memory),
                             InstanceMethod("heldWeightBytes", &ConvnodeAddon::held_weights),
                             InstanceMethod("freeArrayBuffer", &ConvnodeAddon::free_array_buffer),
                             InstanceMethod("countSharedWork", &ConvnodeAddon::count_shared_work),
                             InstanceMethod("sharedWork", &ConvnodeAddon::shared_work),
                             InstanceMethod("tracePoolJobs", &ConvnodeAddon::trace_pool_jobs),
                             InstanceMethod("poolJobs", &ConvnodeAddon::pool_jobs),
                             InstanceMethod("poolWaitCounters", &ConvnodeAddon::pool_wait_counters),
                             InstanceMethod("setPoolMinSplitUs", &ConvnodeAddon::set_pool_min_split_us),
                         });
  }

 private:
  Napi::Value pool_sync(const Napi::CallbackInfo& info) { return pool2d_sync(info); }
  Napi::Value pool(const Napi::CallbackInfo& info) { return pool2d_async(info); }
  Napi::Value global_sync(const Napi::CallbackInfo& info) { return global_pool2d_sync(info); }
  Napi::Value global(const Napi::CallbackInfo& info) { return global_pool2d_async(info); }
  Napi::Value unary_sync_method(const Napi::CallbackInfo& info) { return unary_sync(info); }
  Napi::Value unary_method(const Napi::CallbackInfo& info) { return unary_async(info); }
  Napi::Value binary_sync_method(const Napi::CallbackInfo& info) { return binary_sync(info); }
  Napi::Value binary_method(const Napi::CallbackInfo& info) { return binary_async(info); }
  Napi::Value channel_affine_sync_method(const Napi::CallbackInfo& info) { return channel_affine_sync(info); }
  Napi::Value channel_affine_method(const Napi::CallbackInfo& info) { return channel_affine_async(info); }
  Napi::Value strided_copy_sync_method(const Napi::CallbackInfo& info) { return strided_copy_sync(info); }
  Napi::Value strided_copy_method(const Napi::CallbackInfo& info) { return strided_copy_async(info); }

  Napi::Value begin_batch(const Napi::CallbackInfo& info) {
    AsyncJob::begin_batch();
    return info.Env().Undefined();
  }

  Napi::Value end_batch(const Napi::CallbackInfo& info) {
    AsyncJob::end_batch(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value begin_record(const Napi::CallbackInfo& info) {
    try {
      AsyncJob::begin_record();
    } catch (const std::logic_error& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
    return info.Env().Undefined();
  }

  // An opaque handle; collected, it frees the references its calls hold.
  Napi::Value end_record(const Napi::CallbackInfo& info) {
    std::shared_ptr<AsyncJob::Recording> recording;
    try {
      recording = AsyncJob::end_record(info.Env());
    } catch (const std::logic_error& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
    using Held = std::shared_ptr<AsyncJob::Recording>;
    Held* held = new Held(std::move(recording));
    live_recordings_->insert(held);
    // The set by shared pointer, not `this`: at environment teardown the finalizer may run after
    // the addon instance is gone.
    return Napi::External<Held>::New(info.Env(), held, [live = live_recordings_](Napi::Env env, Held* h) {
      live->erase(h);
      AsyncJob::release(env, **h);
      delete h;
    });
  }

  Napi::Value replay(const Napi::CallbackInfo& info) {
    using Held = std::shared_ptr<AsyncJob::Recording>;
    // Only an External this addon made and has not freed: any other would be read as one.
    Held* held = info[0].IsExternal() ? info[0].As<Napi::External<Held>>().Data() : nullptr;
    if (held == nullptr || live_recordings_->count(held) == 0) {
      throw Napi::TypeError::New(info.Env(), "replay: recording must be what endRecord returned");
    }
    return AsyncJob::replay(info.Env(), *held, info[0]);
  }

  // replayImages(slots, inputs, outputs, runs): slots [{recording, inputs, outputs}] (what
  // endRecord returned and the Float32Arrays its calls read the graph inputs from / write the
  // graph outputs into, one sub-batch long), the caller's whole-batch inputs and outputs (runs
  // sub-batches long). One job: see image_runs.h.
  Napi::Value replay_images(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    using Held = std::shared_ptr<AsyncJob::Recording>;
    const auto fail = [&](const std::string& message) -> void { throw Napi::TypeError::New(env, "replayImages: " + message); };
    const auto array_of = [&](const Napi::Value& v, const std::string& name) {
      if (!v.IsArray()) fail(name + " must be an array of Float32Arrays");
      Napi::Array list = v.As<Napi::Array>();
      std::vector<FloatSpan> spans;
      for (uint32_t i = 0; i < list.Length(); i++) {
        Napi::Value item = list.Get(i);
        if (!item.IsTypedArray() || item.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
          fail(name + "[" + std::to_string(i) + "] must be a Float32Array");
        }
        Napi::Float32Array array = item.As<Napi::Float32Array>();
        if (array.Data() == nullptr && array.ElementLength() > 0) fail(name + "[" + std::to_string(i) + "]'s ArrayBuffer is detached");
        spans.push_back({array.Data(), array.ElementLength()});
      }
      return spans;
    };
    if (!info[0].IsArray() || info[0].As<Napi::Array>().Length() == 0) fail("slots must be a non-empty array");
    const std::vector<FloatSpan> inputs = array_of(info[1], "inputs");
    const std::vector<FloatSpan> outputs = array_of(info[2], "outputs");
    const size_t runs = translate_errors(env, [&] { return size_value(info[3], "replayImages: runs"); });
    if (runs == 0) throw Napi::RangeError::New(env, "replayImages: runs must be at least 1");
    Napi::Array list = info[0].As<Napi::Array>();
    std::vector<ImageRunSlot> slots;
    for (uint32_t t = 0; t < list.Length(); t++) {
      const std::string name = "slots[" + std::to_string(t) + "]";
      Napi::Value item = list.Get(t);
      if (!item.IsObject()) fail(name + " must be {recording, inputs, outputs}");
      Napi::Object slot = item.As<Napi::Object>();
      Napi::Value handle = slot.Get("recording");
      Held* held = handle.IsExternal() ? handle.As<Napi::External<Held>>().Data() : nullptr;
      if (held == nullptr || live_recordings_->count(held) == 0) fail(name + ".recording must be what endRecord returned");
      ImageRunSlot s{*held, array_of(slot.Get("inputs"), name + ".inputs"), array_of(slot.Get("outputs"), name + ".outputs")};
      if (s.inputs.size() != inputs.size() || s.outputs.size() != outputs.size()) {
        fail(name + " must have one buffer per input and per output");
      }
      for (size_t k = 0; k < inputs.size(); k++) {
        if (s.inputs[k].length * runs != inputs[k].length) {
          throw Napi::RangeError::New(env, "replayImages: inputs[" + std::to_string(k) + "] must hold runs x " + name + ".inputs[" +
                                               std::to_string(k) + "].length floats");
        }
      }
      for (size_t k = 0; k < outputs.size(); k++) {
        if (s.outputs[k].length * runs != outputs[k].length) {
          throw Napi::RangeError::New(env, "replayImages: outputs[" + std::to_string(k) + "] must hold runs x " + name + ".outputs[" +
                                               std::to_string(k) + "].length floats");
        }
      }
      slots.push_back(std::move(s));
    }
    for (size_t k = 0; k < outputs.size(); k++) {
      for (size_t i = 0; i < inputs.size(); i++) {
        if (outputs[k].data < inputs[i].data + inputs[i].length && inputs[i].data < outputs[k].data + outputs[k].length) {
          throw Napi::RangeError::New(env, "replayImages: outputs[" + std::to_string(k) + "] must not share memory with inputs[" +
                                               std::to_string(i) + "]");
        }
      }
    }
    return start_image_runs(env, std::move(slots), inputs, outputs, runs, {info[0], info[1], info[2]});
  }

  Napi::Value image_runs_mode_method(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(image_runs_mode()));
  }

  // setImageRunsMode(mode): 0 off, 1 one image per sub-batch, 2 b / threads; -1 the environment's.
  Napi::Value set_image_runs_mode_method(const Napi::CallbackInfo& info) {
    const double mode = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -2;
    if (mode != -1 && mode != 0 && mode != 1 && mode != 2) {
      throw Napi::RangeError::New(info.Env(), "setImageRunsMode: mode must be -1 (the environment's), 0, 1 or 2");
    }
    set_image_runs_mode(static_cast<long>(mode));
    return info.Env().Undefined();
  }

  Napi::Value fail_image_run_method(const Napi::CallbackInfo& info) {
    if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "failImageRunForTest: index must be a number");
    fail_image_run_for_test(static_cast<long>(info[0].As<Napi::Number>().DoubleValue()));
    return info.Env().Undefined();
  }

  // The recordings of this environment not yet collected (JS thread only).
  std::shared_ptr<std::unordered_set<const void*>> live_recordings_ = std::make_shared<std::unordered_set<const void*>>();

  Napi::Value matmul_sync_method(const Napi::CallbackInfo& info) { return matmul_sync(info); }
  Napi::Value matmul_method(const Napi::CallbackInfo& info) { return matmul_async(info); }

  Napi::Value layernorm_sync_method(const Napi::CallbackInfo& info) { return layernorm_sync(info); }
  Napi::Value layernorm_method(const Napi::CallbackInfo& info) { return layernorm_async(info); }
  Napi::Value softmax_sync_method(const Napi::CallbackInfo& info) { return softmax_sync(info); }
  Napi::Value softmax_method(const Napi::CallbackInfo& info) { return softmax_async(info); }
  Napi::Value resize_sync_method(const Napi::CallbackInfo& info) { return resize_sync(info); }
  Napi::Value resize_method(const Napi::CallbackInfo& info) { return resize_async(info); }
  Napi::Value col2im_sync_method(const Napi::CallbackInfo& info) { return col2im_sync(info); }
  Napi::Value col2im_method(const Napi::CallbackInfo& info) { return col2im_async(info); }

  Napi::Value get_isa(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), isa_name(active_config().isa));
  }

  Napi::Value set_isa(const Napi::CallbackInfo& info) {
    if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "setIsa: name must be a string");
    const std::string error = set_active_isa(info[0].As<Napi::String>().Utf8Value().c_str());
    if (!error.empty()) throw Napi::RangeError::New(info.Env(), "setIsa: " + error);
    return info.Env().Undefined();
  }

  Napi::Value available_isas(const Napi::CallbackInfo& info) {
    Napi::Array list = Napi::Array::New(info.Env());
    uint32_t i = 0;
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
      if (config_for(isa) != nullptr) list.Set(i++, isa_name(isa));
    }
    return list;
  }

  Napi::Value set_num_threads(const Napi::CallbackInfo& info) {
    const size_t n = translate_errors(info.Env(), [&] { return size_value(info[0], "setNumThreads: n"); });
    if (n < 1 || n > 1024) throw Napi::RangeError::New(info.Env(), "setNumThreads: n must be between 1 and 1024");
    ThreadPool::instance().set_threads(n);
    return info.Env().Undefined();
  }

  Napi::Value get_num_threads(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(ThreadPool::instance().threads()));
  }

  // Bytes of external memory this isolate has been told about (packed weights among them): lets
  // tests see weights released when their layer is collected.
  Napi::Value external_memory(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(Napi::MemoryManagement::AdjustExternalMemory(info.Env(), 0)));
  }

  // Bytes of packed weights live Conv2d / Linear objects of this process hold (see held_weights.h).
  Napi::Value held_weights(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(held_weight_bytes().load()));
  }

  // Detaches an ArrayBuffer, so its memory is freed now rather than at some later GC: the loader
  // calls it on the bytes it read from a model file and on decoded weight copies once packed
  // (V8 sees no pressure to collect them, and they were the larger part of RSS after load).
  // Returns false, freeing nothing, for a buffer V8 will not detach (a WebAssembly memory, say).
  Napi::Value free_array_buffer(const Napi::CallbackInfo& info) {
    if (!info[0].IsArrayBuffer()) throw Napi::TypeError::New(info.Env(), "freeArrayBuffer: buffer must be an ArrayBuffer");
    // The C call, not ArrayBuffer::Detach(): a buffer that cannot be detached is an answer here, not an error.
    return Napi::Boolean::New(info.Env(), napi_detach_arraybuffer(info.Env(), info[0]) == napi_ok);
  }

  // setPoolMinSplitUs(us): the grain rule's split threshold (ThreadPool::set_min_split_us, as
  // CONVNODE_MIN_SPLIT_US): 0 splits every job the op's cut allows, a negative value restores the
  // rule. For tests, which reach the split paths with small shapes, and benches.
  Napi::Value set_pool_min_split_us(const Napi::CallbackInfo& info) {
    if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "setPoolMinSplitUs: us must be a number");
    ThreadPool::instance().set_min_split_us(info[0].As<Napi::Number>().DoubleValue());
    return info.Env().Undefined();
  }

  // countSharedWork(on): starts (from zero) or stops counting the CPU time of pool-shared jobs.
  Napi::Value count_shared_work(const Napi::CallbackInfo& info) {
    if (!info[0].IsBoolean()) throw Napi::TypeError::New(info.Env(), "countSharedWork: on must be a boolean");
    ThreadPool::count_shared_work(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  }

  // sharedWork(): {cpuMs, jobs} counted so far (see ThreadPool::shared_work).
  Napi::Value shared_work(const Napi::CallbackInfo& info) {
    const ThreadPool::ShareCounters c = ThreadPool::shared_work();
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("cpuMs", Napi::Number::New(info.Env(), static_cast<double>(c.shared_cpu_ns) / 1e6));
    out.Set("jobs", Napi::Number::New(info.Env(), static_cast<double>(c.shared_jobs)));
    return out;
  }

  // tracePoolJobs(on): starts (from an empty record) or stops recording every parallel_for call.
  Napi::Value trace_pool_jobs(const Napi::CallbackInfo& info) {
    if (!info[0].IsBoolean()) throw Napi::TypeError::New(info.Env(), "tracePoolJobs: on must be a boolean");
    ThreadPool::trace_jobs(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  }

  // poolJobs(): the recorded calls, one Float64Array of kTraceFields numbers each, in the order of
  // ThreadPool::JobTrace's fields (times in ns; site as a signed offset from ThreadPool::instance).
  Napi::Value pool_jobs(const Napi::CallbackInfo& info) {
    const std::vector<ThreadPool::JobTrace> jobs = ThreadPool::traced_jobs();
    constexpr size_t kTraceFields = 13;
    Napi::Float64Array out = Napi::Float64Array::New(info.Env(), jobs.size() * kTraceFields);
    for (size_t i = 0; i < jobs.size(); i++) {
      const ThreadPool::JobTrace& j = jobs[i];
      const double fields[kTraceFields] = {static_cast<double>(static_cast<intptr_t>(j.site)), double(j.tasks),
                                           double(j.threads), double(j.helper_tasks), double(j.polling_workers),
                                           double(j.post_ns), double(j.first_helper_ns), double(j.caller_done_ns),
                                           double(j.end_ns), double(j.caller_cpu_ns), double(j.caller_task_cpu_ns),
                                           double(j.helper_task_cpu_ns), double(j.ideal_span_ns)};
      for (size_t f = 0; f < kTraceFields; f++) out[i * kTraceFields + f] = fields[f];
    }
    return out;
  }

  // poolWaitCounters(): how the pool's threads waited since the process started, and its policy.
  Napi::Value pool_wait_counters(const Napi::CallbackInfo& info) {
    const ThreadPool::WaitCounters c = ThreadPool::wait_counters();
    Napi::Object out = Napi::Object::New(info.Env());
    const ThreadPool::WakePolicy policy = ThreadPool::instance().wake_policy();
    out.Set("policy", policy == ThreadPool::WakePolicy::Adaptive ? "adaptive"
                      : policy == ThreadPool::WakePolicy::Run    ? "run"
                      : policy == ThreadPool::WakePolicy::Sleep  ? "sleep"
                                                                 : "fixed-spin");
    out.Set("pollsFound", double(c.polls_found));
    out.Set("pollsTimedOut", double(c.polls_timed_out));
    out.Set("pollsPreempted", double(c.polls_preempted));
    out.Set("sleeps", double(c.sleeps));
    out.Set("joinsSlept", double(c.joins_slept));
    out.Set("spinMs", double(c.spin_ns) / 1e6);
    out.Set("runsPolled", double(c.runs_polled));
    out.Set("runsQuiet", double(c.runs_quiet));
    return out;
  }

  // The best ISA's single-thread FMA throughput, whatever path is active.
  Napi::Value measure_peak_gflops(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), config_for(best_isa())->fma_probe_gflops());
  }
};

}  // namespace convnode

using convnode::ConvnodeAddon;
NODE_API_ADDON(ConvnodeAddon)
