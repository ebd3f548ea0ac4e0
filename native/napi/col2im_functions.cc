#include "col2im_functions.h"

#include "../ops/col2im.h"
#include "arguments.h"
#include "async_job.h"

namespace convnode {

namespace {

struct Col2imCall {
  Col2imPlan plan;
  FloatArray cols, bias, output;
};

// (cols, bias | null, output, params)
Col2imCall parse_col2im(const Napi::CallbackInfo& info) {
  Col2imCall call;
  const Napi::Object p = object_arg(info, 3, "params");
  Col2imPlan& plan = call.plan;
  plan.batch = size_property(p, "batch", "params");
  plan.channels = size_property(p, "channels", "params");
  plan.kernel_h = size_property(p, "kernelH", "params");
  plan.kernel_w = size_property(p, "kernelW", "params");
  plan.stride_h = size_property(p, "strideH", "params");
  plan.stride_w = size_property(p, "strideW", "params");
  plan.dilation_h = size_property(p, "dilationH", "params");
  plan.dilation_w = size_property(p, "dilationW", "params");
  plan.pad_top = size_property(p, "padTop", "params");
  plan.pad_left = size_property(p, "padLeft", "params");
  plan.in_h = size_property(p, "inH", "params");
  plan.in_w = size_property(p, "inW", "params");
  plan.out_h = size_property(p, "outH", "params");
  plan.out_w = size_property(p, "outW", "params");
  call.cols = float_array_arg(info, 0, "cols");
  call.bias = float_array_arg(info, 1, "bias", true);
  call.output = float_array_arg(info, 2, "output");
  check_col2im(plan, call.cols.length, call.bias.data != nullptr, call.bias.length, call.output.length);
  expect_disjoint(call.cols, "cols", call.output, "output");
  if (call.bias.data) expect_disjoint(call.bias, "bias", call.output, "output");
  return call;
}

}  // namespace

Napi::Value col2im_sync(const Napi::CallbackInfo& info) {
  translate_errors(info.Env(), [&] {
    const Col2imCall c = parse_col2im(info);
    run_col2im(c.plan, c.cols.data, c.bias.data, c.output.data);
  });
  return info.Env().Undefined();
}

Napi::Value col2im_async(const Napi::CallbackInfo& info) {
  return translate_errors(info.Env(), [&] {
    Col2imCall c = parse_col2im(info);
    std::vector<MemoryRange> reads{MemoryRange::of(c.cols.data, c.cols.length)};
    std::vector<Napi::Value> keep{c.cols.value, c.output.value};
    if (c.bias.data) {
      reads.push_back(MemoryRange::of(c.bias.data, c.bias.length));
      keep.push_back(c.bias.value);
    }
    const JobMemory memory{reads, {MemoryRange::of(c.output.data, c.output.length)}};
    return AsyncJob::start(
        info.Env(),
        [plan = c.plan, cols = c.cols.data, bias = c.bias.data, out = c.output.data] { run_col2im(plan, cols, bias, out); },
        keep, memory);
  });
}

}  // namespace convnode
