// JS class Conv2d(weight, bias, options): a convolution planned and packed once, whose packed
// weights live in native memory (reported to V8 once packed) until release() or collection.
// With options.packLater, the constructor only checks its arguments; pack() then packs on a
// libuv thread (a large model's weights load without blocking the event loop) and finishPack()
// installs the result on the JS thread.
#pragma once
#include <napi.h>

#include <memory>

#include "../ops/conv2d.h"
#include "deferred_pack.h"

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
  Napi::Value pack(const Napi::CallbackInfo& info);
  Napi::Value finish_pack(const Napi::CallbackInfo& info);
  Napi::Value release(const Napi::CallbackInfo& info);
  // The packed conv, or a JS Error naming `method` when it was released or is not packed yet.
  const Conv2d& prepared(Napi::Env env, const char* method) const;

  // What V8 has been told this object holds; JS thread only.
  struct ExternalMemory {
    int64_t reported = 0;
    int64_t held = 0;  // this object's share of held_weight_bytes()
    bool closed = false;
    // Tells V8 about packed bytes not yet reported.
    void update(napi_env env, const Conv2d& conv);
    // The packed weights are gone: V8 and held_weight_bytes() are told.
    void drop(napi_env env);
  };

  std::shared_ptr<const Conv2d> conv_;  // shared with in-flight async runs; null once released
  DeferredPack<Conv2d> packing_;        // a packLater conv's packing job, until finishPack() or release()
  bool released_ = false;
  std::shared_ptr<ExternalMemory> external_ = std::make_shared<ExternalMemory>();
};

}  // namespace convnode
