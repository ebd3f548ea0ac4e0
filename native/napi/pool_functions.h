// pool2d / globalPool2d, sync and async: argument parsing for the plain-C++ pooling ops.
#pragma once
#include <napi.h>

namespace convnode {

Napi::Value pool2d_sync(const Napi::CallbackInfo& info);
Napi::Value pool2d_async(const Napi::CallbackInfo& info);
Napi::Value global_pool2d_sync(const Napi::CallbackInfo& info);
Napi::Value global_pool2d_async(const Napi::CallbackInfo& info);

}  // namespace convnode
