// Not in the wasm builds: their pools (native/wasm/thread_pool_*.h) do not sample the load.
#if !defined(__wasi__)
#include "cpu_load.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "pool_clock.h"

#if defined(__linux__)
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#endif
#if defined(__APPLE__)
#include <stdlib.h>  // getloadavg
#endif

namespace convnode {

namespace {

// Whether the machine has more runnable threads than cores is sampled at most this often.
constexpr uint64_t kLoadSampleNs = 20000000;
// Oversubscribed: threads waited for a CPU more than this share of the last sample's interval
// (Linux pressure stall information, /proc/pressure/cpu "some"), or, where PSI is missing, the
// 1-minute load average exceeds the CPUs by this factor. 50%: a quiet machine's own 2-thread
// runs keep "some" at 5-10% (10% misjudged a fraction of quiet runs); an overloaded one is far above.
constexpr double kMaxCpuStallShare = 0.50;
constexpr double kMaxLoadPerCpu = 1.5;

#if defined(__linux__)
// The start of a small /proc file, NUL-terminated; false if it cannot be read.
bool read_proc(const char* path, char (&text)[256]) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return false;
  text[n] = '\0';
  return true;
}
#endif

// Microseconds that some thread of the machine waited for a CPU, since boot (Linux PSI); -1 where
// the kernel does not report it.
int64_t cpu_stall_us() {
#if defined(__linux__)
  char text[256];
  if (!read_proc("/proc/pressure/cpu", text)) return -1;
  const char* total = std::strstr(text, "total=");  // the first line is "some ... total=N"
  if (total == nullptr) return -1;
  return std::strtoll(total + 6, nullptr, 10);
#else
  return -1;
#endif
}

// The 1-minute load average; -1 where unknown (Windows).
double load_average() {
#if defined(__linux__)
  char text[256];
  return read_proc("/proc/loadavg", text) ? std::strtod(text, nullptr) : -1.0;
#elif defined(__APPLE__)
  double load = 0;
  return getloadavg(&load, 1) == 1 ? load : -1.0;
#else
  return -1.0;
#endif
}

// True when more threads want a CPU than there are CPUs (sampled every kLoadSampleNs; between
// samples the last verdict). Polling then takes time from work: a poller that used up its time
// slice waits behind every other runnable thread, while a worker woken from sleep is run at once
// (2 threads, load ~22 on 2 cores: a 150 us job found a polling worker in 1 case of 40, a
// sleeping one in 27; bench/pool-jobs.mjs --probe).
}  // namespace

bool oversubscribed(size_t cpus) {
  static std::mutex& sample_mutex = *new std::mutex();  // never destroyed: a libuv thread may run at exit
  static uint64_t last_ns = 0;
  static int64_t last_stall_us = -1;
  static std::atomic<bool> verdict{false};
  std::unique_lock<std::mutex> lock(sample_mutex, std::try_to_lock);
  if (!lock.owns_lock()) return verdict.load(std::memory_order_relaxed);  // another thread samples
  const uint64_t now = now_ns();
  if (last_ns != 0 && now - last_ns < kLoadSampleNs) return verdict.load(std::memory_order_relaxed);
  const int64_t stall = cpu_stall_us();
  bool over = false;
  if (stall >= 0) {
    if (last_stall_us >= 0 && last_ns != 0) {
      over = static_cast<double>(stall - last_stall_us) * 1000.0 > kMaxCpuStallShare * static_cast<double>(now - last_ns);
    }
    last_stall_us = stall;
  } else {
    over = load_average() > kMaxLoadPerCpu * static_cast<double>(cpus);
  }
  last_ns = now;
  verdict.store(over, std::memory_order_relaxed);
  return over;
}

size_t available_parallelism() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
#endif
  return std::max<size_t>(1, std::thread::hardware_concurrency());
}

}  // namespace convnode
#endif  // !__wasi__
