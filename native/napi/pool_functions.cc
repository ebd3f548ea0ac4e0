#include "pool_functions.h"

#include <string>

#include "../ops/pool.h"
#include "arguments.h"
#include "async_job.h"

namespace convnode {

namespace {

PoolKind kind_from(const Napi::Value& v, const char* name) {
  const std::string kind = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (kind == "max") return PoolKind::Max;
  if (kind == "avg") return PoolKind::Avg;
  throw ArgumentError(ArgumentError::Kind::Range, std::string(name) + " must be 'max' or 'avg'");
}

struct PoolCall {
  PoolRun run;
  FloatArray input, output;
};

// (input, geometry, output)
PoolCall parse_pool(const Napi::CallbackInfo& info) {
  PoolCall call;
  // The geometry first: its getters may run JS that could detach an array read earlier.
  const Napi::Object g = object_arg(info, 1, "geometry");
  call.run.batch = size_property(g, "batch", "geometry");
  call.run.channels = size_property(g, "channels", "geometry");
  call.run.kind = kind_from(g.Get("kind"), "geometry.kind");
  call.run.count_include_pad = g.Get("countIncludePad").ToBoolean().Value();
  call.run.window = window_from(g);
  call.input = float_array_arg(info, 0, "input");
  call.output = float_array_arg(info, 2, "output");
  check_pool(call.run, call.input.length, call.output.length);
  expect_disjoint(call.input, "input", call.output, "output");
  return call;
}

struct GlobalCall {
  PoolKind kind;
  size_t planes, plane;
  FloatArray input, output;
};

// (input, kind, planes, plane, output)
GlobalCall parse_global(const Napi::CallbackInfo& info) {
  GlobalCall call;
  call.kind = kind_from(info[1], "kind");
  call.input = float_array_arg(info, 0, "input");
  call.planes = size_value(info[2], "planes");
  call.plane = size_value(info[3], "plane");
  call.output = float_array_arg(info, 4, "output");
  check_global_pool(call.planes, call.plane, call.input.length, call.output.length);
  expect_disjoint(call.input, "input", call.output, "output");
  return call;
}

}  // namespace

Napi::Value pool2d_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const PoolCall call = parse_pool(info);
    run_pool(active_config(), call.run, call.input.data, call.output.data);
  });
  return info.Env().Undefined();
}

Napi::Value pool2d_async(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    const PoolCall call = parse_pool(info);
    const KernelConfig* config = &active_config();
    return AsyncJob::start(
        info.Env(),
        [config, run = call.run, in = call.input.data, out = call.output.data] { run_pool(*config, run, in, out); },
        {call.input.value, call.output.value},
        JobMemory{{MemoryRange::of(call.input.data, call.input.length)}, {MemoryRange::of(call.output.data, call.output.length)}});
  });
}

Napi::Value global_pool2d_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const GlobalCall call = parse_global(info);
    run_global_pool(call.kind, call.planes, call.plane, call.input.data, call.output.data);
  });
  return info.Env().Undefined();
}

Napi::Value global_pool2d_async(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    const GlobalCall call = parse_global(info);
    return AsyncJob::start(
        info.Env(),
        [kind = call.kind, planes = call.planes, plane = call.plane, in = call.input.data, out = call.output.data] {
          run_global_pool(kind, planes, plane, in, out);
        },
        {call.input.value, call.output.value},
        JobMemory{{MemoryRange::of(call.input.data, call.input.length)}, {MemoryRange::of(call.output.data, call.output.length)}});
  });
}

}  // namespace convnode
