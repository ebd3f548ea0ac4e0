// ConvTranspose's col2im as N-API functions, sync and async (native/ops/col2im.h):
//   col2imSync / col2im (cols, bias | null, output, params)
//     cols: N x C x KH x KW x inH x inW footprint planes (the GEMM's output), bias: C values,
//     params: { batch, channels, kernelH, kernelW, strideH, strideW, dilationH, dilationW,
//               padTop, padLeft, inH, inW, outH, outW }
#pragma once
#include <napi.h>

namespace convnode {

Napi::Value col2im_sync(const Napi::CallbackInfo& info);
Napi::Value col2im_async(const Napi::CallbackInfo& info);

}  // namespace convnode
