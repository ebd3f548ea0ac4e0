#include "matmul_functions.h"

#include <string>
#include <vector>

#include "../ops/matmul.h"
#include "arguments.h"
#include "async_job.h"

namespace convnode {

namespace {

std::vector<size_t> dims_arg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsArray()) {
    throw ArgumentError(ArgumentError::Kind::Type, std::string(name) + " must be an array of dimensions");
  }
  const Napi::Array array = info[index].As<Napi::Array>();
  if (array.Length() > 16) range_error(std::string(name) + " has rank " + std::to_string(array.Length()) + ", at most 16");
  std::vector<size_t> shape(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    shape[i] = size_value(array.Get(i), std::string(name) + "[" + std::to_string(i) + "]");
  }
  return shape;
}

struct MatMulCall {
  MatMulRun run;
  FloatArray a, b, output;
};

// (a, aShape, b, bShape, output, options)
MatMulCall parse_matmul(const Napi::CallbackInfo& info) {
  MatMulCall call;
  call.run.a_shape = dims_arg(info, 1, "aShape");
  call.run.b_shape = dims_arg(info, 3, "bShape");
  call.run.activation =
      activation_from(info[5].IsUndefined() ? Napi::Object::New(info.Env()) : object_arg(info, 5, "options"));
  plan_matmul(call.run);
  call.a = float_array_arg(info, 0, "a");
  call.b = float_array_arg(info, 2, "b");
  call.output = float_array_arg(info, 4, "output");
  check_matmul(call.run, call.a.length, call.b.length, call.output.length);
  // The GEMM writes C tiles while later tiles still read A (packed first, so A may not alias
  // either, for simplicity) and B.
  expect_disjoint(call.a, "a", call.output, "output");
  expect_disjoint(call.b, "b", call.output, "output");
  return call;
}

}  // namespace

Napi::Value matmul_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const MatMulCall call = parse_matmul(info);
    run_matmul(active_config(), call.run, call.a.data, call.b.data, call.output.data);
  });
  return info.Env().Undefined();
}

Napi::Value matmul_async(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    MatMulCall call = parse_matmul(info);
    const KernelConfig* config = &active_config();
    return AsyncJob::start(
        info.Env(),
        [config, run = std::move(call.run), a = call.a.data, b = call.b.data, out = call.output.data] {
          run_matmul(*config, run, a, b, out);
        },
        {call.a.value, call.b.value, call.output.value},
        JobMemory{{MemoryRange::of(call.a.data, call.a.length), MemoryRange::of(call.b.data, call.b.length)},
                  {MemoryRange::of(call.output.data, call.output.length)}});
  });
}

}  // namespace convnode
