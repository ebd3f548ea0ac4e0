// The thread pool's optional records (thread_pool.h: count_shared_work, trace_jobs), kept here so
// thread_pool.cc holds the scheduling alone. Both are off by default; when off, the pool reads one
// relaxed atomic per job.
#pragma once
#include <atomic>
#include <cstdint>

#include "thread_pool.h"

namespace convnode {
namespace pool_trace {

// count_shared_work: CPU time and count of jobs shared out over two or more threads.
extern std::atomic<bool> counting_shared;
extern std::atomic<uint64_t> shared_cpu_ns;
extern std::atomic<uint64_t> shared_jobs;

// trace_jobs: one JobTrace per parallel_for call.
extern std::atomic<bool> tracing_jobs;
void append_trace(const ThreadPool::JobTrace& trace);

// A call site as an offset from a function of this binary, so a script can name it with nm and
// addr2line whatever address the binary was loaded at.
uintptr_t site_offset(const void* return_address);

}  // namespace pool_trace
}  // namespace convnode
