// Reading JS arguments into plain C++ values, with errors that name the argument. Nothing here
// trusts JS: every array is checked for its type and live backing store, every number for range.
#pragma once
#include <napi.h>

#include <cstddef>
#include <string>

#include "../kernels/epilogue.h"
#include "../ops/argument_error.h"
#include "../ops/window.h"

namespace convnode {

struct FloatArray {
  float* data = nullptr;
  size_t length = 0;
  Napi::Value value;  // to keep it alive across an async run
};

// A Float32Array argument at `index`; null / undefined allowed when optional (data stays null).
FloatArray float_array_arg(const Napi::CallbackInfo& info, size_t index, const char* name, bool optional = false);

// Throws unless two arrays' memory is disjoint: kernels write the output while still reading the
// input (and a residual is read after partial sums were stored), so overlap gives wrong answers.
void expect_disjoint(const FloatArray& a, const char* a_name, const FloatArray& b, const char* b_name);

// A non-negative integer (below 2^31) at `value`, named `name` in errors.
size_t size_value(const Napi::Value& value, const std::string& name);
size_t size_property(const Napi::Object& object, const char* key, const std::string& owner);
Napi::Object object_arg(const Napi::CallbackInfo& info, size_t index, const char* name);

// geometry.{inH, inW, kernelH, ..., pads: {top, left, bottom, right}, outH, outW}
Window window_from(const Napi::Object& geometry);

// options.activation ('none' | 'relu' | ...) and options.alpha.
Activation activation_from(const Napi::Object& options);

// Runs f, turning ArgumentError into a JS TypeError / RangeError.
template <typename F>
auto translate_errors(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ArgumentError& e) {
    if (e.kind() == ArgumentError::Kind::Type) throw Napi::TypeError::New(env, e.what());
    throw Napi::RangeError::New(env, e.what());
  }
}

}  // namespace convnode
