/**
 * Numpy-style broadcasting for the binary element-wise ops (Add, Sub, Mul, Div): the shape rule
 * with errors that name the node; the loops live with the kernels (lib/kernels/broadcast.ts).
 */
import { ShapeError } from '../../errors.js';

/** The broadcast result shape, or a ShapeError naming the node and both shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], owner: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${owner}: shapes [${a.join(', ')}] and [${b.join(', ')}] cannot be broadcast together (dimension ${i} from the right is ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

export { broadcastBinary, broadcastStrides, type BinaryFn } from '../../kernels/broadcast.js';
