/**
 * Values known without running the model: initializers, Constant nodes, and what the shape
 * chains around a flatten compute from them. Floats keep float32 precision (they become
 * weights); integers (shapes, axes, indices) are plain JS numbers.
 */

export type ConstTensor =
  | { readonly kind: 'float'; readonly dims: readonly number[]; readonly data: Float32Array }
  | { readonly kind: 'int'; readonly dims: readonly number[]; readonly data: readonly number[] };

export function floatConst(dims: readonly number[], data: Float32Array): ConstTensor {
  return { kind: 'float', dims: [...dims], data };
}

export function intConst(dims: readonly number[], data: readonly number[]): ConstTensor {
  return { kind: 'int', dims: [...dims], data: [...data] };
}

/** The values as numbers, whichever kind the tensor holds. */
export function constValues(t: ConstTensor): number[] {
  return Array.from(t.data);
}

/** The values as a Float32Array (a view for float tensors, a conversion for integers). */
export function constAsFloat32(t: ConstTensor): Float32Array {
  return t.kind === 'float' ? t.data : Float32Array.from(t.data);
}
