// JS class Conv2d(weight, bias, options): a prepared convolution whose packed weights live in
// native memory (reported to V8) until the object is collected.
#pragma once
#include <napi.h>

#include <memory>

#include "../ops/conv2d.h"

namespace convnode {

class ConvObject : public Napi::ObjectWrap<ConvObject> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit ConvObject(const Napi::CallbackInfo& info);
  ~ConvObject() override;

 private:
  struct Call;
  Call parse_call(const Napi::CallbackInfo& info) const;
  Napi::Value run_sync(const Napi::CallbackInfo& info);
  Napi::Value run(const Napi::CallbackInfo& info);
  Napi::Value describe(const Napi::CallbackInfo& info);

  std::shared_ptr<const Conv2d> conv_;  // shared with in-flight async runs
  int64_t external_bytes_ = 0;
};

}  // namespace convnode
