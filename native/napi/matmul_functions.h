// Batched MatMul's N-API functions, sync and async (native/ops/matmul.h):
//   matMulSync / matMul (a, aShape, b, bShape, output, options)
// aShape and bShape have rank >= 2 (rank-1 operands promoted in JS); options carries the
// resolved activation. output holds the broadcast batch x m x n.
#pragma once
#include <napi.h>

namespace convnode {

Napi::Value matmul_sync(const Napi::CallbackInfo& info);
Napi::Value matmul_async(const Napi::CallbackInfo& info);

}  // namespace convnode
