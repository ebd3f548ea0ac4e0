// The threaded wasm build's guard against V8's stale view of a grown shared memory (issue 17).
//
// When one thread grows the shared memory (malloc -> sbrk -> memory.grow), V8 updates the other
// threads' instances only when each next handles an interrupt. Until then, on a thread that was
// running, memory.size returns the old size and memory.fill / memory.copy (every memset and
// memcpy here: -mbulk-memory) check their bounds against it and trap "memory access out of
// bounds" on the new pages (measured: Node 20 / V8 11.3, a worker spinning while the main thread
// grew 1 -> 10 pages, then memory.fill at page 3: 26-31 traps in 40; plain and atomic stores are
// fine). dlmalloc's sbrk(0) is memory.size, so a stale view can also make it fail an allocation
// (malloc returns null). memory.grow(0) refreshes the calling instance's view at once.
//
// g_memory_pages is the largest size any thread has seen (pages): each thread refreshes when it
// differs from what it last refreshed to, before allocating (under the allocator lock, so
// dlmalloc sees the true break) and before each pool task (tasks read and fill buffers other
// threads allocated).
#pragma once
#include <atomic>
#include <cstdint>

namespace convnode {

// Defined in malloc_lock.cc.
extern std::atomic<uint32_t> g_memory_pages;

// Brings this thread's view of the memory up to g_memory_pages (a memory.grow(0) when it is
// behind; an atomic load and a thread-local compare otherwise).
void see_memory_growth();

// Records this thread's memory.size in g_memory_pages (after it may have grown the memory).
void publish_memory_size();

}  // namespace convnode
