#include "image_runs.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "../runtime/env_switch.h"
#include "../runtime/thread_pool.h"

namespace convnode {

namespace {

std::atomic<long> env_mode{kEnvUnread};
std::atomic<long> override_mode{-1};
std::atomic<long> failing_run{-1};

long mode_from_env(const char* text) {
  if (text == nullptr || *text == '\0') return kImageRunsDefault;
  if (std::strcmp(text, "0") == 0 || std::strcmp(text, "off") == 0) return 0;
  if (std::strcmp(text, "share") == 0) return 2;
  if (std::strcmp(text, "image") == 0 || std::strcmp(text, "1") == 0) return 1;
  return kImageRunsDefault;
}

// Sub-batch j: its images in, the slot's recording, its outputs out.
void run_sub_batch(const ImageRunSlot& slot, const std::vector<FloatSpan>& inputs, const std::vector<FloatSpan>& outputs,
                   size_t j) {
  for (size_t k = 0; k < inputs.size(); k++) {
    const FloatSpan& dst = slot.inputs[k];
    std::memcpy(dst.data, inputs[k].data + j * dst.length, dst.length * sizeof(float));
  }
  if (static_cast<long>(j) == failing_run.load(std::memory_order_relaxed)) {
    throw std::runtime_error("convnode: image run " + std::to_string(j) + " failed (the test hook fail_image_run_for_test)");
  }
  AsyncJob::run_recorded(*slot.recording);
  for (size_t k = 0; k < outputs.size(); k++) {
    const FloatSpan& src = slot.outputs[k];
    std::memcpy(outputs[k].data + j * src.length, src.data, src.length * sizeof(float));
  }
}

}  // namespace

long image_runs_mode() {
  const long forced = override_mode.load(std::memory_order_relaxed);
  if (forced >= 0) return forced;
  return read_env_once(env_mode, "CONVNODE_IMAGE_PARALLEL", mode_from_env);
}

void set_image_runs_mode(long mode) { override_mode.store(mode < 0 ? -1 : mode, std::memory_order_relaxed); }

void fail_image_run_for_test(long index) { failing_run.store(index, std::memory_order_relaxed); }

Napi::Promise start_image_runs(Napi::Env env, std::vector<ImageRunSlot> slots, std::vector<FloatSpan> inputs,
                               std::vector<FloatSpan> outputs, size_t runs, const std::vector<Napi::Value>& keep_alive) {
  // The job reads and writes what every slot's recording does, reads the caller's inputs and
  // writes the caller's outputs: later jobs on any of them wait for it (async_job.h).
  JobMemory memory;
  for (const ImageRunSlot& slot : slots) {
    const JobMemory& m = slot.recording->memory;
    memory.reads.insert(memory.reads.end(), m.reads.begin(), m.reads.end());
    memory.writes.insert(memory.writes.end(), m.writes.begin(), m.writes.end());
    for (const FloatSpan& s : slot.inputs) memory.writes.push_back(MemoryRange::of(s.data, s.length));
    for (const FloatSpan& s : slot.outputs) memory.reads.push_back(MemoryRange::of(s.data, s.length));
  }
  for (const FloatSpan& s : inputs) memory.reads.push_back(MemoryRange::of(s.data, s.length));
  for (const FloatSpan& s : outputs) memory.writes.push_back(MemoryRange::of(s.data, s.length));
  auto shared = std::make_shared<std::vector<ImageRunSlot>>(std::move(slots));
  auto work = [shared, inputs = std::move(inputs), outputs = std::move(outputs), runs] {
    const std::vector<ImageRunSlot>& slots = *shared;
    // Sub-batches are claimed one at a time, so a thread that lost its core for a while does
    // not hold back the others (b = 3 on 2 threads: one slot runs two). After a failure the
    // remaining ones are skipped: the run fails as a whole.
    std::atomic<size_t> next{0};
    ThreadPool::instance().parallel_for(slots.size(), [&](size_t t) {
      ThreadPool::InlineScope whole_images_here;
      for (;;) {
        const size_t j = next.fetch_add(1, std::memory_order_relaxed);
        if (j >= runs) return;
        try {
          run_sub_batch(slots[t], inputs, outputs, j);
        } catch (...) {
          next.store(runs, std::memory_order_relaxed);
          throw;
        }
      }
    });
  };
  return AsyncJob::start(env, std::move(work), keep_alive, std::move(memory));
}

}  // namespace convnode
