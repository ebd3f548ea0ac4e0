// What the thread pool asks of the machine (runtime/thread_pool.cc): how many CPUs this process
// may use, and whether more threads want a CPU than there are (then polling workers take cores
// from work, and the pool's runs do not poll: thread_pool.h).
#pragma once
#include <cstddef>

namespace convnode {

// What os.availableParallelism() reports: the CPUs this process may run on.
size_t available_parallelism();

// True when more threads want a CPU than there are CPUs, sampled at most every 20 ms (between
// samples the last verdict); safe to call from any thread.
bool oversubscribed(size_t cpus);

}  // namespace convnode
