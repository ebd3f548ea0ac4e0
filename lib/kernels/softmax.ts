/**
 * Softmax along one axis of a dense row-major buffer, seen as [outer, length, inner]: each of
 * the outer * inner lines of `length` values (stride `inner`) is normalised to sum to 1. The
 * line's maximum is subtracted first so large logits do not overflow exp. The Softmax layer
 * and the ONNX Softmax op both run this.
 */
export function softmax(src: Float32Array, dst: Float32Array, outer: number, length: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * length * inner + i;
      let max = -Infinity;
      for (let k = 0; k < length; k++) max = Math.max(max, src[base + k * inner]);
      let sum = 0;
      for (let k = 0; k < length; k++) {
        const e = Math.exp(src[base + k * inner] - max);
        dst[base + k * inner] = e;
        sum += e;
      }
      for (let k = 0; k < length; k++) dst[base + k * inner] /= sum;
    }
  }
}
