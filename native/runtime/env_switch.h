// Environment switches read once per process (CONVNODE_DW_LANES, CONVNODE_GEMM_SPLIT, ...: the
// A/B switches native/README.md lists). Each caller owns a constant-initialized atomic cache
// instead of a function-local static: pool tasks read these switches, and the threaded wasm
// build's libc++abi guards function-local statics without a lock, so two first calls at once on
// two threads abort ("recursive initialization"). Two threads may both parse the variable the
// first time; they get the same answer.
#pragma once

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace convnode {

// What a cache holds before its variable is read; parsed values are >= 0.
constexpr long kEnvUnread = -1;

// parse(text) maps the variable's text (nullptr when unset) to a value >= 0.
template <typename Parse>
long read_env_once(std::atomic<long>& cache, const char* name, Parse parse) {
  long value = cache.load(std::memory_order_relaxed);
  if (value == kEnvUnread) {
    value = parse(std::getenv(name));
    cache.store(value, std::memory_order_relaxed);
  }
  return value;
}

// Whether the variable is set to exactly `text`.
inline bool env_equals_once(std::atomic<long>& cache, const char* name, const char* text) {
  return read_env_once(cache, name, [text](const char* value) -> long {
           return value != nullptr && std::strcmp(value, text) == 0 ? 1 : 0;
         }) != 0;
}

// An A/B switch that is on unless its variable is "0", read once. Declared at namespace scope
// (constant-initialized: no guard, see above), one per switch.
class EnvSwitch {
 public:
  constexpr explicit EnvSwitch(const char* name) : name_(name) {}
  bool on() { return !env_equals_once(off_, name_, "0"); }

 private:
  const char* name_;
  std::atomic<long> off_{kEnvUnread};
};

}  // namespace convnode
