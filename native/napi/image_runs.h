// Image-parallel runs (CONVNODE_IMAGE_PARALLEL): a batch run as whole images per thread instead
// of every op split over the pool. A model plan records its steps once per "slot" (an arena of
// its own, planned for a sub-batch of s images: lib/onnx/plan.ts); one run of a batch of b images
// is then ONE pool job of one task per slot, each task claiming sub-batches (b / s of them, in
// any order) and for each one copying its images into the slot's input buffers, replaying the
// slot's recording on this thread alone (ThreadPool::InlineScope: the ops inside never post jobs
// to the pool) and copying the slot's outputs into the images' place in the caller's outputs.
// No per-layer join: the threads meet once per run, at the end. Images never interact in the
// ops a plan lets run this way, so the outputs equal a whole-batch run's (up to the summation
// order a smaller batch's kernels pick: see README "Image-parallel runs").
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>
#include <vector>

#include "async_job.h"

namespace convnode {

struct FloatSpan {
  float* data = nullptr;
  size_t length = 0;
};

// One recording and the buffers its first call reads the graph inputs from / its last calls
// write the graph outputs into (each one sub-batch long).
struct ImageRunSlot {
  std::shared_ptr<AsyncJob::Recording> recording;
  std::vector<FloatSpan> inputs, outputs;
};

// Queues the run: `runs` sub-batches; input k of sub-batch j is inputs[k][j * len .. (j+1) * len)
// with len = a slot's inputs[k].length (likewise the outputs). Checked by the caller.
Napi::Promise start_image_runs(Napi::Env env, std::vector<ImageRunSlot> slots, std::vector<FloatSpan> inputs,
                               std::vector<FloatSpan> outputs, size_t runs, const std::vector<Napi::Value>& keep_alive);

// The mode runs use: 0 off (every op split over the pool, the path before), 1 one image per
// sub-batch, 2 b / threads images per sub-batch. CONVNODE_IMAGE_PARALLEL=0|image|share, read once
// (env_switch.h); the default is kImageRunsDefault. set_image_runs_mode (tests, benches) overrides it; -1 restores it.
constexpr long kImageRunsDefault = 1;
long image_runs_mode();
void set_image_runs_mode(long mode);

// Tests only: the sub-batch with this index fails (throws) in every image run; -1 (the default): none.
void fail_image_run_for_test(long index);

}  // namespace convnode
