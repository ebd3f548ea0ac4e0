// stridedCopySync / stridedCopy: argument parsing for the plain-C++ strided copy (ops/strided_copy.h).
#pragma once
#include <napi.h>

namespace convnode {

Napi::Value strided_copy_sync(const Napi::CallbackInfo& info);
Napi::Value strided_copy_async(const Napi::CallbackInfo& info);

}  // namespace convnode
