// JS class Linear(weight, bias, options): a prepared fully connected layer (packed GEMM weights),
// held until release() or collection. options.packLater packs on a libuv thread, as Conv2d's.
#pragma once
#include <napi.h>

#include <memory>

#include "../ops/linear.h"
#include "deferred_pack.h"

namespace convnode {

class LinearObject : public Napi::ObjectWrap<LinearObject> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit LinearObject(const Napi::CallbackInfo& info);
  ~LinearObject() override;

 private:
  Napi::Value run_sync(const Napi::CallbackInfo& info);
  Napi::Value run(const Napi::CallbackInfo& info);
  Napi::Value pack(const Napi::CallbackInfo& info);
  Napi::Value finish_pack(const Napi::CallbackInfo& info);
  Napi::Value release(const Napi::CallbackInfo& info);
  const Linear& prepared(Napi::Env env, const char* method) const;
  void report_memory(Napi::Env env);
  void drop_memory(napi_env env);

  std::shared_ptr<const Linear> linear_;  // shared with in-flight async runs; null once released
  DeferredPack<Linear> packing_;          // a packLater Linear's packing job, until finishPack() or release()
  bool released_ = false;
  int64_t external_bytes_ = 0;
};

}  // namespace convnode
