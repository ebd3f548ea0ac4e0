/** Argument checks shared by the kernels' entry points: wrong lengths fail loudly, never as NaN. */
import { ParameterError, ShapeError } from '../errors.js';
import { effectiveKernel, outputSize, type WindowGeometry } from '../planner/geometry.js';

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

/**
 * Checks a window geometry is self-consistent (as planWindow / planConv make it): positive
 * integer kernel, stride and dilation, non-negative pads, and an output size that the shared
 * formula gives (floor, or ceil when `ceilAllowed`, for pooling's ceilMode). A hand-built
 * geometry that disagrees would otherwise make the kernels read the wrong pixels.
 */
export function checkWindowGeometry(owner: string, g: WindowGeometry, ceilAllowed: boolean): void {
  if (g === null || typeof g !== 'object' || g.pads === null || typeof g.pads !== 'object') {
    throw new ParameterError(`${owner}: geometry must be an object from planConv / planWindow, got ${describe(g)}`);
  }
  for (const key of ['inH', 'inW', 'kernelH', 'kernelW', 'strideH', 'strideW', 'dilationH', 'dilationW'] as const) {
    expectCount(owner, `geometry.${key}`, g[key], 1);
  }
  for (const side of ['top', 'left', 'bottom', 'right'] as const) expectCount(owner, `geometry.pads.${side}`, g.pads[side]);
  const axes = [
    ['outH', g.outH, g.inH, g.kernelH, g.dilationH, g.strideH, g.pads.top, g.pads.bottom],
    ['outW', g.outW, g.inW, g.kernelW, g.dilationW, g.strideW, g.pads.left, g.pads.right],
  ] as const;
  for (const [name, actual, inSize, kernel, dilation, stride, before, after] of axes) {
    const kEff = effectiveKernel(kernel, dilation);
    const floor = outputSize(inSize, kEff, stride, before, after, false);
    const ceil = outputSize(inSize, kEff, stride, before, after, true);
    if (floor < 1) {
      throw new ShapeError(`${owner}: the window spans ${kEff} pixels but the padded input is only ${inSize + before + after} along ${name}`);
    }
    if (actual !== floor && !(ceilAllowed && actual === ceil)) {
      const allowed = ceilAllowed && ceil !== floor ? `${floor} (or ${ceil} in ceilMode)` : `${floor}`;
      throw new ShapeError(`${owner}: geometry.${name} is ${String(actual)} but the window gives ${allowed}; build the geometry with planConv / planWindow`);
    }
  }
}
