// Resize's N-API functions, sync and async (native/ops/resize.h):
//   resizeSync / resize (input, output, params)
//     params: planes (N x C), bilinear (boolean),
//             rows, cols: { in, lo: Int32Array, hi: Int32Array, weight: Float32Array }
//             (hi and weight only when bilinear; each holds one entry per output index)
// The tables are copied (they are O(outH + outW)), so the async form needs only the input and
// output kept alive.
#pragma once
#include <napi.h>

namespace convnode {

Napi::Value resize_sync(const Napi::CallbackInfo& info);
Napi::Value resize_async(const Napi::CallbackInfo& info);

}  // namespace convnode
