#include "copy_functions.h"

#include <cmath>
#include <string>
#include <vector>

#include "../ops/strided_copy.h"
#include "arguments.h"
#include "async_job.h"

namespace convnode {

namespace {

// A signed integer offset or stride (|v| < 2^53, integral), named in errors.
int64_t offset_value(const Napi::Value& value, const std::string& name) {
  if (!value.IsNumber()) throw ArgumentError(ArgumentError::Kind::Type, name + " must be an integer");
  const double v = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || std::floor(v) != v || std::fabs(v) > 9007199254740991.0) {
    range_error(name + " must be an integer, got " + std::to_string(v));
  }
  return static_cast<int64_t>(v);
}

struct CopyCall {
  CopyPlan plan;
  FloatArray input, output;
  std::vector<Napi::Value> tables;  // kept alive across an async run
};

// (input, output, plan: { base, dstBase, axes: [{ extent, stride, dstStride }], tables: [Int32Array | undefined] })
CopyCall parse_copy(const Napi::CallbackInfo& info) {
  CopyCall call;
  const Napi::Object p = object_arg(info, 2, "plan");
  call.plan.base = offset_value(p.Get("base"), "plan.base");
  call.plan.dst_base = offset_value(p.Get("dstBase"), "plan.dstBase");
  const Napi::Value axes_value = p.Get("axes");
  const Napi::Value tables_value = p.Get("tables");
  if (!axes_value.IsArray()) throw ArgumentError(ArgumentError::Kind::Type, "plan.axes must be an array");
  const Napi::Array axes = axes_value.As<Napi::Array>();
  if (axes.Length() > 16) range_error("plan.axes has " + std::to_string(axes.Length()) + " axes, at most 16");
  const bool has_tables = tables_value.IsArray();
  for (uint32_t k = 0; k < axes.Length(); k++) {
    const std::string name = "plan.axes[" + std::to_string(k) + "]";
    const Napi::Value entry = axes.Get(k);
    if (!entry.IsObject()) throw ArgumentError(ArgumentError::Kind::Type, name + " must be an object");
    const Napi::Object axis = entry.As<Napi::Object>();
    CopyAxis a;
    a.extent = size_property(axis, "extent", name);
    a.stride = offset_value(axis.Get("stride"), name + ".stride");
    a.dst_stride = offset_value(axis.Get("dstStride"), name + ".dstStride");
    const Napi::Value table = has_tables ? tables_value.As<Napi::Array>().Get(k) : info.Env().Undefined();
    if (!table.IsUndefined() && !table.IsNull()) {
      if (!table.IsTypedArray() || table.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw ArgumentError(ArgumentError::Kind::Type, "plan.tables[" + std::to_string(k) + "] must be an Int32Array");
      }
      Napi::Int32Array t = table.As<Napi::Int32Array>();
      if (t.ElementLength() != a.extent) {
        range_error("plan.tables[" + std::to_string(k) + "] holds " + std::to_string(t.ElementLength()) +
                    " offsets, its axis has extent " + std::to_string(a.extent));
      }
      a.table = t.Data();
      call.tables.push_back(table);
    }
    call.plan.axes.push_back(a);
  }
  // The arrays last: reading the plan's properties could run JS that detaches them.
  call.input = float_array_arg(info, 0, "input");
  call.output = float_array_arg(info, 1, "output");
  check_copy(call.plan, call.input.length, call.output.length);
  expect_disjoint(call.input, "input", call.output, "output");
  return call;
}

}  // namespace

Napi::Value strided_copy_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const CopyCall call = parse_copy(info);
    run_copy(call.plan, call.input.data, call.output.data);
  });
  return info.Env().Undefined();
}

Napi::Value strided_copy_async(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    CopyCall call = parse_copy(info);
    std::vector<Napi::Value> keep = std::move(call.tables);
    keep.push_back(call.input.value);
    keep.push_back(call.output.value);
    return AsyncJob::start(
        info.Env(), [plan = std::move(call.plan), in = call.input.data, out = call.output.data] { run_copy(plan, in, out); },
        keep,
        JobMemory{{MemoryRange::of(call.input.data, call.input.length)}, {MemoryRange::of(call.output.data, call.output.length)}});
  });
}

}  // namespace convnode
