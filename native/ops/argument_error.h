// The one error ops throw for bad input. The napi layer maps kind to a JS TypeError or
// RangeError; the message already names the argument and the rule it broke.
#pragma once
#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <string>

namespace convnode {

class ArgumentError : public std::invalid_argument {
 public:
  enum class Kind { Type, Range };
  ArgumentError(Kind kind, const std::string& message) : std::invalid_argument(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

#if defined(__wasm__) && !defined(__cpp_exceptions)
// The wasm build has no C++ exceptions: the JS loader's import throws the RangeError, which
// unwinds the wasm frames (lib/backends/wasm-module.ts).
extern "C" [[noreturn]] __attribute__((import_module("convnode"), import_name("range_error"))) void
convnode_wasm_range_error(const char* message, size_t length);
[[noreturn]] inline void range_error(const std::string& message) {
  convnode_wasm_range_error(message.data(), message.size());
}
#else
[[noreturn]] inline void range_error(const std::string& message) {
  throw ArgumentError(ArgumentError::Kind::Range, message);
}
#endif

// The product of tensor dimensions, refusing values that would overflow the size type.
inline size_t checked_product(std::initializer_list<size_t> dims, const char* what) {
  size_t total = 1;
  for (size_t d : dims) {
    if (__builtin_mul_overflow(total, d, &total)) range_error(std::string(what) + " is too large (size overflows)");
  }
  return total;
}

// Throws unless a typed array holds exactly the elements a shape needs.
inline void expect_length(const char* name, size_t actual, size_t expected, const std::string& shape) {
  if (actual != expected) {
    range_error(std::string(name) + " has " + std::to_string(actual) + " elements but " + shape + " needs " +
                std::to_string(expected) + (actual == 0 ? " (is its ArrayBuffer detached?)" : ""));
  }
}

}  // namespace convnode
