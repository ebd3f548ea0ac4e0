import { ParameterError, ShapeError } from './errors.js';

/** A nested array of numbers, e.g. [[1, 2], [3, 4]], as accepted by Tensor.from. */
export type NestedArray = number | NestedArray[];

/** Describes a shape for error messages: [1, 3, 32, 32] -> "1x3x32x32". */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 0 ? 'scalar' : shape.join('x');
}

/** Number of elements a shape holds; checks that every dimension is a non-negative integer. */
export function shapeSize(shape: readonly number[], what = 'shape'): number {
  if (!Array.isArray(shape)) {
    throw new ParameterError(`${what} must be an array of dimensions, got ${typeof shape}`);
  }
  let size = 1;
  shape.forEach((dim, axis) => {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new ParameterError(
        `${what}[${axis}] must be a non-negative integer, got ${String(dim)} in [${shape.join(', ')}]`,
      );
    }
    size *= dim;
  });
  return size;
}

/**
 * A dense float32 tensor in row-major order; image batches are NCHW.
 * The tensor is a view: `data` may be shared with other tensors (see `reshape`),
 * and kernels read and write it in place, including across the native boundary.
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;

  constructor(shape: readonly number[], data?: Float32Array | ArrayLike<number>) {
    const size = shapeSize(shape);
    this.shape = Object.freeze([...shape]);
    if (data === undefined) {
      this.data = allocate(size, shape);
    } else if (data instanceof Float32Array) {
      this.data = data;
    } else if (isArrayLikeOfNumbers(data)) {
      this.data = Float32Array.from(data);
    } else {
      throw new ParameterError(
        `Tensor data must be a Float32Array or an array of numbers, got ${describeValue(data)}`,
      );
    }
    if (this.data.length !== size) {
      throw new ShapeError(
        `Tensor data has ${this.data.length} elements but shape [${shape.join(', ')}] needs ${size}`,
      );
    }
  }

  static zeros(shape: readonly number[]): Tensor {
    return new Tensor(shape);
  }

  /** Fills a tensor with one value. */
  static full(shape: readonly number[], value: number): Tensor {
    const t = new Tensor(shape);
    t.data.fill(value);
    return t;
  }

  /** Builds a tensor from a nested array; the nesting gives the shape and must be rectangular. */
  static from(nested: NestedArray): Tensor {
    const shape = inferShape(nested);
    const data = allocate(shapeSize(shape), shape);
    let offset = 0;
    const fill = (value: NestedArray, depth: number, path: string): void => {
      if (depth === shape.length) {
        if (typeof value !== 'number') {
          throw new ParameterError(`Tensor.from: element ${path} must be a number, got ${describeValue(value)}`);
        }
        data[offset++] = value;
        return;
      }
      if (!Array.isArray(value) || value.length !== shape[depth]) {
        throw new ShapeError(
          `Tensor.from: nested array is ragged at ${path}: expected ${shape[depth]} elements, got ${
            Array.isArray(value) ? value.length : describeValue(value)
          }`,
        );
      }
      value.forEach((child, i) => fill(child, depth + 1, `${path}[${i}]`));
    };
    fill(nested, 0, 'input');
    return new Tensor(shape, data);
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /**
   * A view of the same data with another shape (no copy). One dimension may be -1,
   * inferred from the others.
   */
  reshape(shape: readonly number[]): Tensor {
    const unknown = shape.filter((d) => d === -1).length;
    if (unknown > 1) {
      throw new ParameterError(`reshape: at most one dimension may be -1, got [${shape.join(', ')}]`);
    }
    let resolved = [...shape];
    if (unknown === 1) {
      const known = shapeSize(shape.filter((d) => d !== -1), 'reshape shape');
      if (known === 0 || this.size % known !== 0) {
        throw new ShapeError(
          `reshape: cannot infer -1 in [${shape.join(', ')}] for a tensor of ${this.size} elements`,
        );
      }
      resolved = shape.map((d) => (d === -1 ? this.size / known : d));
    }
    const size = shapeSize(resolved, 'reshape shape');
    if (size !== this.size) {
      throw new ShapeError(
        `reshape: shape [${resolved.join(', ')}] holds ${size} elements but the tensor has ${this.size} (shape [${this.shape.join(', ')}])`,
      );
    }
    return new Tensor(resolved, this.data);
  }

  /** A deep copy with its own data. */
  clone(): Tensor {
    return new Tensor(this.shape, this.data.slice());
  }

  /** The data as a nested array (for printing and tests). */
  toArray(): NestedArray {
    let offset = 0;
    const build = (depth: number): NestedArray => {
      if (depth === this.shape.length) return this.data[offset++];
      return Array.from({ length: this.shape[depth] }, () => build(depth + 1));
    };
    return build(0);
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)})`;
  }
}

/**
 * A zeroed Float32Array of `size` elements. A size past what the engine can allocate (a shape
 * typo such as [1e6, 1e6], or a layer's output for a huge input) is a ShapeError naming the
 * shape, instead of the engine's bare "Invalid typed array length" RangeError.
 */
function allocate(size: number, shape: readonly number[]): Float32Array {
  try {
    return new Float32Array(size);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new ShapeError(
      `Tensor: shape [${shape.join(', ')}] holds ${size} elements (${(size * 4 / 2 ** 30).toFixed(1)} GiB of float32), more than can be allocated: ${error.message}`,
    );
  }
}

function inferShape(nested: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = nested;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

function isArrayLikeOfNumbers(value: unknown): value is ArrayLike<number> {
  // BigInt arrays hold bigints, which Float32Array.from cannot convert.
  if (value instanceof BigInt64Array || value instanceof BigUint64Array) return false;
  if (ArrayBuffer.isView(value)) return !(value instanceof DataView);
  return Array.isArray(value) && value.every((v) => typeof v === 'number');
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}
