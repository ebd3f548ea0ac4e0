// Not in the wasm builds: they have their own pool (native/wasm/thread_pool_*.h) and no trace.
#if !defined(__wasi__)
#include "pool_trace.h"

#include <mutex>
#include <vector>

namespace convnode {
namespace pool_trace {

std::atomic<bool> counting_shared{false};
std::atomic<uint64_t> shared_cpu_ns{0};
std::atomic<uint64_t> shared_jobs{0};

std::atomic<bool> tracing_jobs{false};

namespace {
std::mutex& trace_mutex = *new std::mutex();  // never destroyed (exit), as the records
std::vector<ThreadPool::JobTrace>* trace_records = new std::vector<ThreadPool::JobTrace>();  // never freed (exit)
constexpr size_t kMaxTraceRecords = size_t{1} << 20;
}  // namespace

void append_trace(const ThreadPool::JobTrace& trace) {
  std::lock_guard<std::mutex> lock(trace_mutex);
  if (tracing_jobs.load() && trace_records->size() < kMaxTraceRecords) trace_records->push_back(trace);
}

uintptr_t site_offset(const void* return_address) {
  return reinterpret_cast<uintptr_t>(return_address) - reinterpret_cast<uintptr_t>(&ThreadPool::instance);
}

}  // namespace pool_trace

void ThreadPool::count_shared_work(bool on) {
  if (on) {
    pool_trace::shared_cpu_ns.store(0);
    pool_trace::shared_jobs.store(0);
  }
  pool_trace::counting_shared.store(on);
}

ThreadPool::ShareCounters ThreadPool::shared_work() {
  return {pool_trace::shared_cpu_ns.load(), pool_trace::shared_jobs.load()};
}

void ThreadPool::trace_jobs(bool on) {
  std::lock_guard<std::mutex> lock(pool_trace::trace_mutex);
  if (on) pool_trace::trace_records->clear();
  pool_trace::tracing_jobs.store(on);
}

std::vector<ThreadPool::JobTrace> ThreadPool::traced_jobs() {
  std::lock_guard<std::mutex> lock(pool_trace::trace_mutex);
  return *pool_trace::trace_records;
}

}  // namespace convnode
#endif  // !__wasi__
