/**
 * Default weight initialisation, as PyTorch's Conv2d / Linear do it: uniform in
 * [-1/sqrt(fanIn), 1/sqrt(fanIn)]. Inference users load trained weights; this only makes a
 * fresh layer produce sensible magnitudes (for demos, benchmarks and the planner).
 */
import { Tensor } from '../tensor.js';

export function uniformInit(shape: readonly number[], fanIn: number): Tensor {
  const t = new Tensor(shape);
  const bound = 1 / Math.sqrt(Math.max(fanIn, 1));
  for (let i = 0; i < t.data.length; i++) t.data[i] = (Math.random() * 2 - 1) * bound;
  return t;
}
