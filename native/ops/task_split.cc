#include "task_split.h"

#include <algorithm>

namespace convnode {

std::vector<size_t> guided_task_bounds(size_t units, size_t threads, size_t min_run) {
  std::vector<size_t> bounds = {0};
  const size_t share = threads <= 1 ? 1 : 2 * threads;
  while (bounds.back() < units) {
    const size_t left = units - bounds.back();
    const size_t run = std::max((left + share - 1) / share, std::max<size_t>(1, min_run));
    bounds.push_back(bounds.back() + std::min(run, left));
  }
  return bounds;
}

std::vector<size_t> equal_task_bounds(size_t units, size_t run) {
  std::vector<size_t> bounds = {0};
  while (bounds.back() < units) bounds.push_back(std::min(units, bounds.back() + std::max<size_t>(1, run)));
  return bounds;
}

}  // namespace convnode
