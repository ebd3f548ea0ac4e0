// The element-wise engine's N-API functions, sync and async (native/ops/elementwise.h):
//   unarySync / unary                 (input, output, options)
//   binarySync / binary               (op, a, aShape, b, bShape, output, outShape, options)
//   channelAffineSync / channelAffine (input, params, output)
// options / params carry the resolved activation (activation, alpha, beta, min, max); params also
// batch, channels, plane, scale, shift (Float32Array or null).
#pragma once
#include <napi.h>

namespace convnode {

Napi::Value unary_sync(const Napi::CallbackInfo& info);
Napi::Value unary_async(const Napi::CallbackInfo& info);
Napi::Value binary_sync(const Napi::CallbackInfo& info);
Napi::Value binary_async(const Napi::CallbackInfo& info);
Napi::Value channel_affine_sync(const Napi::CallbackInfo& info);
Napi::Value channel_affine_async(const Napi::CallbackInfo& info);

}  // namespace convnode
