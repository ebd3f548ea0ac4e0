// JS class SqueezeExcite(reduceWeight, reduceBias, expandWeight, expandBias, options): a
// squeeze-and-excitation block prepared once (ops/squeeze_excite.h), run as one call per block.
#pragma once
#include <napi.h>

#include <memory>

#include "../ops/squeeze_excite.h"

namespace convnode {

class SqueezeExciteObject : public Napi::ObjectWrap<SqueezeExciteObject> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit SqueezeExciteObject(const Napi::CallbackInfo& info);
  ~SqueezeExciteObject() override;

 private:
  Napi::Value run_sync(const Napi::CallbackInfo& info);
  Napi::Value run(const Napi::CallbackInfo& info);
  Napi::Value release(const Napi::CallbackInfo& info);
  const SqueezeExcite& prepared(Napi::Env env, const char* method) const;
  void drop_memory(napi_env env);

  std::shared_ptr<const SqueezeExcite> block_;  // shared with in-flight async runs; null once released
  int64_t external_bytes_ = 0;
};

}  // namespace convnode
