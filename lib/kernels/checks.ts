/** Argument checks shared by the kernels' entry points: wrong lengths fail loudly, never as NaN. */
import { ParameterError, ShapeError } from '../errors.js';

/** Checks that `array` is a Float32Array of exactly `expected` elements; `described` explains the number. */
export function expectLength(owner: string, name: string, array: unknown, expected: number, described: string): void {
  if (!(array instanceof Float32Array)) {
    throw new ParameterError(`${owner}: ${name} must be a Float32Array, got ${describe(array)}`);
  }
  if (array.length !== expected) {
    throw new ShapeError(`${owner}: ${name} has ${array.length} elements but ${described} needs ${expected}`);
  }
}

/** Checks a count (batch size, plane size ...) is a non-negative (or positive) integer. */
export function expectCount(owner: string, name: string, value: unknown, min = 0): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ParameterError(
      `${owner}: ${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer, got ${String(value)}`,
    );
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value;
}
