#include "matmul.h"

#include <algorithm>
#include <string>

#include "../runtime/thread_pool.h"
#include "argument_error.h"
#include "gemm_driver.h"
#include "task_split.h"
#include "work_cost.h"

namespace convnode {

namespace {

std::string shape_text(const std::vector<size_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

void plan_matmul(MatMulRun& run) {
  const auto& as = run.a_shape;
  const auto& bs = run.b_shape;
  if (as.size() < 2 || bs.size() < 2) range_error("aShape and bShape must have rank 2 or more");
  run.m = as[as.size() - 2];
  run.k = as[as.size() - 1];
  run.n = bs[bs.size() - 1];
  if (bs[bs.size() - 2] != run.k) {
    range_error("inner dimensions differ: aShape " + shape_text(as) + ", bShape " + shape_text(bs));
  }
  if (run.m < 1 || run.k < 1 || run.n < 1) range_error("matrix dimensions must be at least 1");
  // Batch dimensions, right-aligned; a dimension of 1 broadcasts.
  const size_t a_rank = as.size() - 2, b_rank = bs.size() - 2;
  const size_t rank = std::max(a_rank, b_rank);
  std::vector<size_t> out(rank), a_dim(rank, 1), b_dim(rank, 1);
  for (size_t i = 0; i < rank; i++) {
    if (i + a_rank >= rank) a_dim[i] = as[i + a_rank - rank];
    if (i + b_rank >= rank) b_dim[i] = bs[i + b_rank - rank];
    if (a_dim[i] != b_dim[i] && a_dim[i] != 1 && b_dim[i] != 1) {
      range_error("batch dimensions do not broadcast: aShape " + shape_text(as) + ", bShape " + shape_text(bs));
    }
    out[i] = std::max(a_dim[i], b_dim[i]);
    if (a_dim[i] == 0 || b_dim[i] == 0) range_error("batch dimensions must be at least 1");
  }
  run.batches = 1;
  run.a_matrices = 1;
  run.b_matrices = 1;
  for (size_t i = 0; i < rank; i++) {
    run.batches = checked_product({run.batches, out[i]}, "the output's batch");
    run.a_matrices *= a_dim[i];
    run.b_matrices *= b_dim[i];
  }
  checked_product({run.batches, run.m, run.n}, "output");
  checked_product({run.a_matrices, run.m, run.k}, "a");
  checked_product({run.b_matrices, run.k, run.n}, "b");
  run.a_index.assign(run.batches, 0);
  run.b_index.assign(run.batches, 0);
  for (size_t t = 0; t < run.batches; t++) {
    size_t rest = t, a_stride = 1, b_stride = 1;
    for (size_t i = rank; i-- > 0;) {
      const size_t c = rest % out[i];
      rest /= out[i];
      if (a_dim[i] != 1) run.a_index[t] += c * a_stride;
      if (b_dim[i] != 1) run.b_index[t] += c * b_stride;
      a_stride *= a_dim[i];
      b_stride *= b_dim[i];
    }
  }
}

void check_matmul(const MatMulRun& run, size_t a_length, size_t b_length, size_t output_length) {
  expect_length("a", a_length, run.a_matrices * run.m * run.k, "aShape " + shape_text(run.a_shape));
  expect_length("b", b_length, run.b_matrices * run.k * run.n, "bShape " + shape_text(run.b_shape));
  expect_length("output", output_length, run.batches * run.m * run.n,
                "the broadcast batch x m x n = " + std::to_string(run.batches) + "x" + std::to_string(run.m) + "x" +
                    std::to_string(run.n));
}

void run_matmul(const KernelConfig& config, const MatMulRun& run, const float* a, const float* b, float* output) {
  const GemmConfig& cfg = config.gemm;
  ThreadPool& pool = ThreadPool::instance();
  // Every A matrix is packed once, even when several batches share it (broadcast A).
  const size_t packed_size = packed_a_size(cfg, run.m, run.k);
  std::vector<float> packed(run.a_matrices * packed_size);
  // Both jobs follow the pool's grain rule (attention's small per-head products stay on the caller).
  const double pack_ns = static_cast<double>(run.a_matrices * run.m * run.k) * kNsPerStreamedFloat;
  parallel_for_threads(run.a_matrices, pool.threads_for(pack_ns), [&](size_t i) {
    pack_a(cfg, run.m, run.k, a + i * run.m * run.k, packed.data() + i * packed_size);
  });
  const double macs = static_cast<double>(run.batches) * static_cast<double>(run.m) * static_cast<double>(run.n) *
                      static_cast<double>(run.k);
  const size_t threads = pool.threads_for(macs * kNsPerGemmMac);
  const GemmSplit split = split_gemm(cfg, run.batches, run.m, run.n, threads);
  const size_t per_batch = split.n_chunks * split.m_chunks;
  parallel_for_threads(split.tasks(run.batches), threads, [&](size_t task) {
    const size_t t = task / per_batch;
    const size_t rest = task % per_batch;
    const size_t m0 = (rest % split.m_chunks) * split.m_chunk;
    const size_t n0 = (rest / split.m_chunks) * split.n_chunk;
    const size_t m1 = std::min(run.m, m0 + split.m_chunk);
    const size_t n1 = std::min(run.n, n0 + split.n_chunk);
    if (m0 >= m1 || n0 >= n1) return;
    GemmBlock block;
    block.cfg = &cfg;
    block.m = run.m;
    block.k = run.k;
    block.n = run.n;
    block.packed_a = packed.data() + run.a_index[t] * packed_size;
    block.b.strided = b + run.b_index[t] * run.k * run.n;  // B[k][j] = b[k * n + j]
    block.b.k_stride = run.n;
    block.b.n_stride = 1;
    block.c = output + t * run.m * run.n;
    block.ldc = run.n;
    block.epilogue.activation = run.activation;
    gemm_block(block, m0, m1, n0, n1);
  });
}

}  // namespace convnode
