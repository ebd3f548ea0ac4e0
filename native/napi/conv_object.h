// JS class Conv2d(weight, bias, options): a convolution planned and packed once, whose packed
// weights live in native memory (reported to V8 at construction) until the object is collected.
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

  // What V8 has been told this object holds; JS thread only.
  struct ExternalMemory {
    int64_t reported = 0;
    bool closed = false;
    // Tells V8 about packed bytes not yet reported.
    void update(napi_env env, const Conv2d& conv);
  };

  std::shared_ptr<const Conv2d> conv_;  // shared with in-flight async runs
  std::shared_ptr<ExternalMemory> external_ = std::make_shared<ExternalMemory>();
};

}  // namespace convnode
