// LayerNorm and Softmax's N-API functions, sync and async (native/ops/normalize.h):
//   layerNormSync / layerNorm (input, output, params)  params: outer, length, inner, epsilon,
//                                                      scale (Float32Array), bias (Float32Array or null)
//   softmaxSync / softmax     (input, output, params)  params: outer, length, inner
// output may be input (in place).
#pragma once
#include <napi.h>

namespace convnode {

Napi::Value layernorm_sync(const Napi::CallbackInfo& info);
Napi::Value layernorm_async(const Napi::CallbackInfo& info);
Napi::Value softmax_sync(const Napi::CallbackInfo& info);
Napi::Value softmax_async(const Napi::CallbackInfo& info);

}  // namespace convnode
