#include "linear.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "../kernels/f32-gemm/gemm.h"
#include "../runtime/thread_pool.h"
#include "argument_error.h"
#include "gemm_driver.h"
#include "task_split.h"
#include "work_cost.h"

namespace convnode {

Linear::Linear(size_t in_features, size_t out_features, const float* weight, size_t weight_length, const float* bias,
               size_t bias_length, Activation activation, const KernelConfig& config)
    : in_features_(in_features), out_features_(out_features), activation_(activation), config_(&config) {
  if (in_features < 1 || out_features < 1) range_error("inFeatures and outFeatures must be at least 1");
  expect_length("weight", weight_length, checked_product({out_features, in_features}, "weight"),
                "[outFeatures, inFeatures] = " + std::to_string(out_features) + "x" + std::to_string(in_features));
  if (bias != nullptr) {
    expect_length("bias", bias_length, out_features, "outFeatures " + std::to_string(out_features));
    bias_.assign(bias, bias + bias_length);
  }
  packed_.resize(packed_a_size(config.gemm, out_features, in_features));
  pack_a(config.gemm, out_features, in_features, weight, packed_.data());
}

void Linear::check(size_t batch, size_t input_length, size_t output_length) const {
  if (batch < 1) range_error("batch must be at least 1, got " + std::to_string(batch));
  expect_length("input", input_length, checked_product({batch, in_features_}, "input"),
                "batch x inFeatures = " + std::to_string(batch) + "x" + std::to_string(in_features_));
  expect_length("output", output_length, checked_product({batch, out_features_}, "output"),
                "batch x outFeatures = " + std::to_string(batch) + "x" + std::to_string(out_features_));
}

// Up to this batch a GEMV per image beats the GEMM, whose NR-wide B tile the batch fills only
// batch/NR of. Measured (1 thread, AVX2, weights in L3) on 1280 -> 1000, GEMV vs GEMM ms:
// batch 1 0.082 vs 0.236, batch 2 0.151 vs 0.239, batch 4 0.280 vs 0.250.
constexpr size_t kGemvMaxBatch = 2;

void Linear::run(size_t batch, const float* input, float* output) const {
  if (batch <= kGemvMaxBatch && config_->gemm.mr <= kMaxPanelRows) {
    run_gemv(batch, input, output);
    return;
  }
  if (config_->gemm.mr == config_->gemm.nr && batch >= config_->gemm.mr) {
    run_rows(batch, input, output);
    return;
  }
  run_gemm(batch, input, output);
}

// C = x W^T with the images' rows as GEMM rows (A, packed here per call) and the packed weights
// read in place as B (BSource::packed: MR == NR, so pack_a's panels of W are W^T's B panels).
// The output is written in its own layout, and the bias, a per-column value in this orientation,
// goes through the epilogue's residual with a row stride of 0 (every row adds the same vector).
// run_gemm's orientation (outFeatures rows, the batch as columns) gathers x's rows into B panels
// and transposes the output at the end, on one thread: Swin-T's first MLP (3136 rows, 96 -> 384)
// took 4.0 ms as a Linear against 2.6 ms through matMul (session 5, dense's measurement).
void Linear::run_rows(size_t batch, const float* input, float* output) const {
  const GemmConfig& cfg = config_->gemm;
  ThreadPool& pool = ThreadPool::instance();
  const size_t panels = (batch + cfg.mr - 1) / cfg.mr;
  const size_t m_padded = panels * cfg.mr;
  // Not zero-filled (a std::vector's memset was 3% of the run): the packer writes every float.
  const std::unique_ptr<float[]> packed_x(new float[packed_a_size(cfg, batch, in_features_)]);
  // Packed over the pool, a chunk of row panels per task, every K block of each.
  const KBlocks blocks(in_features_, cfg.kc_max);
  constexpr size_t kPackPanels = 8;
  const double pack_ns = static_cast<double>(batch) * static_cast<double>(in_features_) * kNsPerStreamedFloat;
  parallel_for_threads((panels + kPackPanels - 1) / kPackPanels, pool.threads_for(pack_ns), [&](size_t task) {
    const size_t p0 = task * kPackPanels;
    const size_t p1 = std::min(panels, p0 + kPackPanels);
    const size_t rows = std::min(batch, p1 * cfg.mr) - p0 * cfg.mr;
    for (size_t k0 = 0; k0 < in_features_; k0 += blocks.step) {
      const size_t kc = std::min(blocks.step, in_features_ - k0);
      (cfg.pack_a != nullptr ? cfg.pack_a : f32_gemm_pack_a)(cfg.mr, rows, k0, kc,
                                                             input + p0 * cfg.mr * in_features_, in_features_,
                                                             packed_x.get() + m_padded * k0 + p0 * cfg.mr * kc);
    }
  });
  const double macs = static_cast<double>(batch) * static_cast<double>(in_features_) * static_cast<double>(out_features_);
  const size_t threads = pool.threads_for(macs * kNsPerGemmMac);
  const GemmSplit split = split_gemm(cfg, 1, batch, out_features_, threads);
  GemmBlock block;
  block.cfg = &cfg;
  block.m = batch;
  block.k = in_features_;
  block.n = out_features_;
  block.packed_a = packed_x.get();
  block.b.packed = packed_.data();
  block.c = output;
  block.ldc = out_features_;
  block.epilogue.activation = activation_;
  block.epilogue.residual = bias_.empty() ? nullptr : bias_.data();
  block.epilogue.residual_stride = 0;
  parallel_for_threads(split.tasks(1), threads, [&](size_t task) {
    const size_t m0 = (task % split.m_chunks) * split.m_chunk;
    const size_t n0 = (task / split.m_chunks) * split.n_chunk;
    const size_t m1 = std::min(batch, m0 + split.m_chunk);
    const size_t n1 = std::min(out_features_, n0 + split.n_chunk);
    if (m0 < m1 && n0 < n1) gemm_block(block, m0, m1, n0, n1);
  });
}

// Row panels are split over threads. The packed weights are K-block major (each K block holds
// every row panel in turn), so a task walks K blocks outermost and its panels within each: one
// sequential stream through its slab of every block, each image's kc inputs in L1, the sums of
// all its rows (at most 2 images x outFeatures) in L1 too. Walking each panel's K blocks in turn
// (the order before) jumped a whole K block (4 MB on AlexNet's 9216 -> 4096) every 16 KiB, and
// the hardware prefetcher started over at every jump: at batch 1 these layers only stream their
// weights, which are far larger than the caches.
void Linear::run_gemv(size_t batch, const float* input, float* output) const {
  const GemmConfig& cfg = config_->gemm;
  const size_t mr = cfg.mr;
  const size_t panels = (out_features_ + mr - 1) / mr;
  const size_t m_padded = panels * mr;
  const KBlocks blocks(in_features_, cfg.kc_max);
  // At batch 1-2 the job streams the packed weights once: a squeeze-and-excitation gate's are
  // 2-40 us of it, which the pool's grain rule keeps on the caller unless a worker is polling.
  const double work_ns = static_cast<double>(m_padded) * static_cast<double>(in_features_) * kNsPerStreamedFloat;
  const size_t tasks = std::min(panels, ThreadPool::instance().threads_for(work_ns));
  const size_t per_task = (panels + tasks - 1) / tasks;
  ThreadPool::instance().parallel_for(tasks, [&](size_t task) {
    const size_t first = task * per_task;
    const size_t last = std::min(panels, first + per_task);
    if (first >= last) return;
    const size_t task_rows = (last - first) * mr;
    std::vector<float> sums(batch * task_rows, 0.0f);  // [image][row - first * mr]
    for (size_t k0 = 0; k0 < in_features_; k0 += blocks.step) {
      const size_t kc = std::min(blocks.step, in_features_ - k0);
      const float* block = packed_.data() + m_padded * k0;
      for (size_t panel = first; panel < last; panel++) {
        const float* a = block + panel * mr * kc;
        for (size_t n = 0; n < batch; n++) {
          cfg.gemv(mr, kc, a, input + n * in_features_ + k0, sums.data() + n * task_rows + (panel - first) * mr);
        }
      }
    }
    const size_t row0 = first * mr;
    const size_t rows = std::min(out_features_, last * mr) - row0;
    for (size_t n = 0; n < batch; n++) {
      const float* acc = sums.data() + n * task_rows;
      float* out = output + n * out_features_ + row0;
      for (size_t i = 0; i < rows; i++) {
        out[i] = activate(bias_.empty() ? acc[i] : acc[i] + bias_[row0 + i], activation_);
      }
    }
  });
}

void Linear::run_gemm(size_t batch, const float* input, float* output) const {
  std::vector<float> transposed(out_features_ * batch);
  const GemmConfig& cfg = config_->gemm;
  const double macs = static_cast<double>(out_features_) * static_cast<double>(in_features_) * static_cast<double>(batch);
  const size_t threads = ThreadPool::instance().threads_for(macs * kNsPerGemmMac);
  const GemmSplit split = split_gemm(cfg, 1, out_features_, batch, threads);
  GemmBlock block;
  block.cfg = &cfg;
  block.m = out_features_;
  block.k = in_features_;
  block.n = batch;
  block.packed_a = packed_.data();
  block.b.strided = input;  // B[k][n] = x[n][k]
  block.b.k_stride = 1;
  block.b.n_stride = in_features_;
  block.c = transposed.data();
  block.ldc = batch;
  block.epilogue.activation = activation_;
  block.epilogue.bias = bias_.empty() ? nullptr : bias_.data();
  parallel_for_threads(split.tasks(1), threads, [&](size_t task) {
    const size_t m0 = (task % split.m_chunks) * split.m_chunk;
    const size_t n0 = (task / split.m_chunks) * split.n_chunk;
    const size_t m1 = std::min(out_features_, m0 + split.m_chunk);
    const size_t n1 = std::min(batch, n0 + split.n_chunk);
    if (m0 < m1 && n0 < n1) gemm_block(block, m0, m1, n0, n1);
  });
  for (size_t n = 0; n < batch; n++) {
    for (size_t m = 0; m < out_features_; m++) output[n * out_features_ + m] = transposed[m * batch + n];
  }
}

}  // namespace convnode
