/**
 * Concat without copies: where a Concat's output is contiguous per input (the axis has only
 * size-1 dimensions before it, e.g. a channel concat of NCHW at batch 1), each input's producer
 * writes straight into its slice of the concatenated buffer, and the Concat step goes away.
 *
 * Concats are placed last first. So in DenseNet, where every layer concatenates the block's
 * features so far (x0..xk) and the block ends with the concat of all of them (x0..xL), each
 * x_i lands in the final buffer, and every earlier concat, whose inputs then lie side by side in
 * order in it, becomes a view of a prefix of it: the whole block copies nothing. Nested concats
 * chain (a concat placed inside a later one places its own inputs there too).
 *
 * At batch N > 1 a channel concat's slices are strided (N runs of C_i * H * W); the producers'
 * kernels write dense outputs, so those Concats still copy (see README: "Concat in place").
 * An input that cannot be placed (a graph input, a constant, a view, a graph output, a value
 * already placed in another concat, or one listed twice) is copied by the remaining step, and
 * only it.
 */

/** The part of a planned step the placement reads. */
export interface PlacementStep {
  readonly inputIds: readonly number[];
  readonly outputIds: readonly number[];
  /** A Concat's layout: `outer` runs of `blocks[i]` floats from input i (outer 1: contiguous). */
  readonly concat?: { readonly outer: number; readonly blocks: readonly number[] };
}

/** Where a value's data lives inside another value's buffer. */
export interface Placement {
  readonly into: number;
  readonly offset: number;
}

export interface ConcatPlan {
  /** Values that live inside another value's buffer (chains resolve through `resolve`). */
  readonly placement: ReadonlyMap<number, Placement>;
  /** Concat steps by index: the input positions they still copy (empty: the step is dropped). */
  readonly remainingCopies: ReadonlyMap<number, readonly number[]>;
}

/**
 * `canPlace(id)`: the value is written whole by one step into a buffer of its own (not a view,
 * a graph input or output, or a constant), so that buffer may be a slice of another.
 */
export function planConcatsInPlace(steps: readonly PlacementStep[], numel: (id: number) => number, canPlace: (id: number) => boolean): ConcatPlan {
  const placement = new Map<number, Placement>();
  const remainingCopies = new Map<number, number[]>();
  const resolve = (id: number) => resolvePlacement(placement, id);
  for (let s = steps.length - 1; s >= 0; s--) {
    const step = steps[s];
    if (!step.concat || step.concat.outer !== 1) continue;
    const output = step.outputIds[0];
    const offsets: number[] = [];
    let at = 0;
    for (const id of step.inputIds) {
      offsets.push(at);
      at += numel(id);
    }
    // Already side by side, in order, in one buffer: the concat is a view of that run.
    const first = resolve(step.inputIds[0]);
    const contiguous = first.into !== step.inputIds[0] && step.inputIds.every((id, i) => {
      const r = resolve(id);
      return r.into === first.into && r.offset === first.offset + offsets[i];
    });
    if (contiguous && !placement.has(output) && canPlace(output)) {
      placement.set(output, first);
      remainingCopies.set(s, []);
      continue;
    }
    if (!canPlace(output)) continue;
    const copies: number[] = [];
    const target = resolve(output);
    step.inputIds.forEach((id, i) => {
      const r = resolve(id);
      if (r.into === target.into && r.offset === target.offset + offsets[i]) return; // already there
      if (!placement.has(id) && canPlace(id) && id !== output && step.inputIds.indexOf(id) === i) {
        placement.set(id, { into: output, offset: offsets[i] });
        return;
      }
      copies.push(i);
    });
    remainingCopies.set(s, copies);
  }
  return { placement, remainingCopies };
}

/** The buffer a value's data lives in and its offset there, following placements. */
export function resolvePlacement(placement: ReadonlyMap<number, Placement>, id: number): Placement {
  let into = id;
  let offset = 0;
  for (let p = placement.get(into); p; p = placement.get(into)) {
    offset += p.offset;
    into = p.into;
  }
  return { into, offset };
}
