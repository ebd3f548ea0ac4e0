// JS class Linear(weight, bias, options): a prepared fully connected layer (packed GEMM weights).
#pragma once
#include <napi.h>

#include <memory>

#include "../ops/linear.h"

namespace convnode {

class LinearObject : public Napi::ObjectWrap<LinearObject> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit LinearObject(const Napi::CallbackInfo& info);
  ~LinearObject() override;

 private:
  Napi::Value run_sync(const Napi::CallbackInfo& info);
  Napi::Value run(const Napi::CallbackInfo& info);

  std::shared_ptr<const Linear> linear_;
  int64_t external_bytes_ = 0;
};

}  // namespace convnode
