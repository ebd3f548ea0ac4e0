/**
 * The static memory plan: every intermediate activation gets an offset in one arena, and two
 * activations share bytes only when their lifetimes (from the step that writes one to the last
 * step that reads it) do not overlap. Placement is greedy by size, largest first, each at the
 * lowest offset that does not collide with an already placed, simultaneously live buffer.
 */

/** One buffer to place: its length in floats and the steps [first, last] during which it is live. */
export interface BufferLifetime {
  readonly length: number;
  readonly first: number;
  readonly last: number;
}

export interface MemoryPlan {
  /** Offset in floats of each buffer in the arena, in the order given. */
  readonly offsets: readonly number[];
  /** Arena length in floats. */
  readonly arenaLength: number;
  /** Bytes of the arena: the peak activation memory of a run. */
  readonly peakBytes: number;
  /** Bytes if every activation had its own buffer. */
  readonly naiveBytes: number;
}

/** Offsets are kept on 64-byte boundaries so SIMD kernels see aligned rows. */
const ALIGN_FLOATS = 16;

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN_FLOATS) * ALIGN_FLOATS;
}

export function planMemory(buffers: readonly BufferLifetime[]): MemoryPlan {
  const order = buffers.map((_, i) => i).sort((a, b) => buffers[b].length - buffers[a].length || a - b);
  const offsets = new Array<number>(buffers.length).fill(0);
  const placed: number[] = [];
  let arenaLength = 0;
  for (const index of order) {
    const buffer = buffers[index];
    const size = alignUp(buffer.length);
    // Buffers live at the same time as this one, by offset.
    const live = placed
      .filter((j) => buffers[j].first <= buffer.last && buffer.first <= buffers[j].last)
      .sort((a, b) => offsets[a] - offsets[b]);
    let offset = 0;
    for (const j of live) {
      if (offset + size <= offsets[j]) break;
      offset = Math.max(offset, offsets[j] + alignUp(buffers[j].length));
    }
    offsets[index] = offset;
    placed.push(index);
    arenaLength = Math.max(arenaLength, offset + size);
  }
  const naiveBytes = buffers.reduce((sum, b) => sum + b.length * 4, 0);
  return { offsets, arenaLength, peakBytes: arenaLength * 4, naiveBytes };
}
