/**
 * Reusable work buffers (im2col columns, packed GEMM panels, partial tiles). The JS kernels run
 * synchronously on one thread and never re-enter each other through a slot, so one buffer per
 * slot is enough; it grows to the largest size asked for and is kept for the next call.
 */
const buffers = new Map<string, Float32Array>();

/** A buffer of at least `length` floats for `slot`; its contents are whatever the last user left. */
export function scratch(slot: string, length: number): Float32Array {
  let buffer = buffers.get(slot);
  if (buffer === undefined || buffer.length < length) {
    buffer = new Float32Array(length);
    buffers.set(slot, buffer);
  }
  return buffer;
}
