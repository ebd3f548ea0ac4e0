#include "arguments.h"

#include <cmath>
#include <cstring>

namespace convnode {

namespace {

[[noreturn]] void type_error(const std::string& message) { throw ArgumentError(ArgumentError::Kind::Type, message); }

std::string describe(const Napi::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsUndefined()) return "undefined";
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float64_array: return "a Float64Array";
      case napi_int32_array: return "an Int32Array";
      case napi_uint8_array: return "a Uint8Array";
      default: return "a typed array of another type";
    }
  }
  if (v.IsArray()) return "an Array";
  if (v.IsNumber()) return "a number";
  if (v.IsString()) return "a string";
  return "an object";
}

}  // namespace

FloatArray float_array_arg(const Napi::CallbackInfo& info, size_t index, const char* name, bool optional) {
  FloatArray out;
  const Napi::Value v = info[index];
  out.value = v;
  if (optional && (v.IsNull() || v.IsUndefined())) return out;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    type_error(std::string(name) + " must be a Float32Array, got " + describe(v));
  }
  Napi::Float32Array array = v.As<Napi::Float32Array>();
  out.length = array.ElementLength();
  out.data = array.Data();
  if (out.data == nullptr && out.length > 0) type_error(std::string(name) + "'s ArrayBuffer is detached");
  return out;
}

void expect_disjoint(const FloatArray& a, const char* a_name, const FloatArray& b, const char* b_name) {
  if (a.data == nullptr || b.data == nullptr || a.length == 0 || b.length == 0) return;
  const bool overlap = a.data < b.data + b.length && b.data < a.data + a.length;
  if (overlap) {
    range_error(std::string(b_name) + " must not share memory with " + a_name +
                " (the kernel would read values it has already overwritten)");
  }
}

size_t size_value(const Napi::Value& value, const std::string& name) {
  if (!value.IsNumber()) type_error(name + " must be a non-negative integer, got " + describe(value));
  const double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != std::floor(d) || d > 2147483647.0) {
    range_error(name + " must be a non-negative integer below 2^31, got " + std::to_string(d));
  }
  return static_cast<size_t>(d);
}

size_t size_property(const Napi::Object& object, const char* key, const std::string& owner) {
  return size_value(object.Get(key), owner + "." + key);
}

Napi::Object object_arg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value v = info[index];
  if (!v.IsObject() || v.IsTypedArray() || v.IsArray()) {
    type_error(std::string(name) + " must be an object, got " + describe(v));
  }
  return v.As<Napi::Object>();
}

Window window_from(const Napi::Object& g) {
  Window w;
  const std::string owner = "geometry";
  w.in_h = size_property(g, "inH", owner);
  w.in_w = size_property(g, "inW", owner);
  w.kernel_h = size_property(g, "kernelH", owner);
  w.kernel_w = size_property(g, "kernelW", owner);
  w.stride_h = size_property(g, "strideH", owner);
  w.stride_w = size_property(g, "strideW", owner);
  w.dilation_h = size_property(g, "dilationH", owner);
  w.dilation_w = size_property(g, "dilationW", owner);
  w.out_h = size_property(g, "outH", owner);
  w.out_w = size_property(g, "outW", owner);
  const Napi::Value pads = g.Get("pads");
  if (!pads.IsObject()) type_error("geometry.pads must be an object {top, left, bottom, right}, got " + describe(pads));
  const Napi::Object p = pads.As<Napi::Object>();
  w.pad_top = size_property(p, "top", "geometry.pads");
  w.pad_left = size_property(p, "left", "geometry.pads");
  w.pad_bottom = size_property(p, "bottom", "geometry.pads");
  w.pad_right = size_property(p, "right", "geometry.pads");
  return w;
}

namespace {

// Names as lib/activation.ts spells them.
const struct {
  const char* name;
  ActivationKind kind;
} kActivationNames[] = {
    {"none", ActivationKind::None},           {"relu", ActivationKind::Relu},
    {"relu6", ActivationKind::Relu6},         {"clip", ActivationKind::Clip},
    {"leakyRelu", ActivationKind::LeakyRelu}, {"elu", ActivationKind::Elu},
    {"hardSigmoid", ActivationKind::HardSigmoid}, {"hardSwish", ActivationKind::HardSwish},
    {"sigmoid", ActivationKind::Sigmoid},     {"silu", ActivationKind::Silu},
    {"tanh", ActivationKind::Tanh},           {"gelu", ActivationKind::Gelu},
    {"geluTanh", ActivationKind::GeluTanh},   {"exp", ActivationKind::Exp},
    {"softplus", ActivationKind::Softplus},   {"mish", ActivationKind::Mish},
};

// An optional float parameter; `finite` refuses +-inf (clip's bounds may be infinite).
void read_float(const Napi::Object& options, const char* key, bool finite, float* out) {
  const Napi::Value value = options.Get(key);
  if (value.IsUndefined()) return;
  if (!value.IsNumber()) type_error(std::string("options.") + key + " must be a number, got " + describe(value));
  const double v = value.As<Napi::Number>().DoubleValue();
  if (std::isnan(v) || (finite && !std::isfinite(v))) {
    type_error(std::string("options.") + key + (finite ? " must be a finite number" : " must not be NaN") + ", got " +
               describe(value));
  }
  *out = static_cast<float>(v);
}

}  // namespace

Activation activation_from(const Napi::Object& options) {
  Activation act;
  const Napi::Value kind = options.Get("activation");
  if (kind.IsUndefined()) return act;
  if (!kind.IsString()) type_error("options.activation must be a string, got " + describe(kind));
  const std::string name = kind.As<Napi::String>().Utf8Value();
  bool found = false;
  std::string known;
  for (const auto& k : kActivationNames) {
    known += std::string(known.empty() ? "'" : ", '") + k.name + "'";
    if (name == k.name) {
      act.kind = k.kind;
      found = true;
    }
  }
  if (!found) range_error("options.activation must be one of " + known + ", got '" + name + "'");
  read_float(options, "alpha", true, &act.alpha);
  read_float(options, "beta", true, &act.beta);
  read_float(options, "min", false, &act.min);
  read_float(options, "max", false, &act.max);
  if (act.min > act.max) range_error("options.min must be <= options.max for clip");
  return act;
}

}  // namespace convnode
