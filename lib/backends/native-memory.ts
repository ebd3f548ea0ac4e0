/**
 * The guards an async native run needs around the caller's arrays. An async run reads and writes
 * the arrays' memory from a native thread until its promise settles, while this thread goes on
 * running JS. Two things JS can do meanwhile would pull that memory from under the kernel:
 *
 * - shrinking a resizable ArrayBuffer (`buffer.resize(n)`): V8 gives the freed pages back at once,
 *   and the kernel's next store faults (measured: the process died with SIGSEGV). Such arrays are
 *   refused up front; the sync runs take them, as no JS runs while those hold the memory.
 * - transferring the ArrayBuffer (a postMessage / structuredClone transfer list): the memory moves
 *   to the receiver, and this array is detached. The run's output then lands in memory this
 *   thread no longer owns, so the run rejects, naming the array, instead of resolving as if its
 *   output were written. N-API cannot pin a backing store, so if the receiver also lets go of
 *   the buffer and its GC frees it before the run ends, the kernel touches freed memory: the
 *   README says not to transfer a buffer that a pending run holds.
 *
 * A growable SharedArrayBuffer is fine: it can only grow, and its memory never moves.
 */
import { ParameterError } from '../errors.js';

/** The arrays of one run by argument name; null / undefined entries are absent arguments. */
export type RunArrays = Record<string, Float32Array | null | undefined>;

function isResizable(buffer: ArrayBufferLike): boolean {
  return buffer instanceof ArrayBuffer && (buffer as ArrayBuffer & { resizable?: boolean }).resizable === true;
}

/**
 * Queues `start` (which hands the arrays to the addon) unless an array is unfit for an async
 * run, and resolves when the run did, provided every array still has its memory.
 */
export async function runHoldingArrays(arrays: RunArrays, start: () => Promise<void>): Promise<void> {
  // Called once per queued kernel (a model run makes dozens): a for-in over the few arguments
  // and one list of names, not an entries array of pairs.
  const held: string[] = [];
  for (const name in arrays) {
    const array = arrays[name];
    if (array === null || array === undefined) continue;
    if (isResizable(array.buffer)) {
      throw new ParameterError(
        `${name} is a Float32Array over a resizable ArrayBuffer, which an async run cannot hold: resizing it while ` +
          'the run writes would free memory under the kernel. Use a fixed-length ArrayBuffer, or the sync run (forwardSync).',
      );
    }
    if (array.length > 0) held.push(name);
  }
  await start();
  for (const name of held) {
    if (arrays[name]!.length === 0) {
      throw new ParameterError(
        `${name}'s ArrayBuffer was detached (transferred to another thread?) while the async run was using it; ` +
          'its result is lost. Transfer a buffer only after the run that holds it has settled.',
      );
    }
  }
}
