/**
 * Hand-crafted 3x3 filters for looking at what one convolution does, and the checks that turn a
 * user's own filter (a JSON file of numbers) into Conv2d weights.
 */
import { ParameterError } from '../errors.js';

/** A square or rectangular filter as rows of numbers, e.g. [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]. */
export type FilterMatrix = readonly (readonly number[])[];

export type FilterName = 'sobel-x' | 'sobel-y' | 'laplacian' | 'blur' | 'sharpen' | 'emboss';

const freezeMatrix = (rows: number[][]): FilterMatrix => Object.freeze(rows.map((row) => Object.freeze(row)));

/**
 * The built-in filters. Conv2d computes cross-correlation (no flip), so a filter responds to the
 * pattern it looks like: sobel-x is positive where the image gets brighter from left to right.
 */
export const FILTERS: Readonly<Record<FilterName, FilterMatrix>> = Object.freeze({
  /** The lecture's vertical-edge detector: horizontal brightness change. */
  'sobel-x': freezeMatrix([
    [-1, 0, 1],
    [-2, 0, 2],
    [-1, 0, 1],
  ]),
  /** Horizontal edges: vertical brightness change (positive where it gets brighter downwards). */
  'sobel-y': freezeMatrix([
    [-1, -2, -1],
    [0, 0, 0],
    [1, 2, 1],
  ]),
  /** Second derivative: zero on flat areas and steady ramps, signed on both sides of an edge. */
  laplacian: freezeMatrix([
    [0, 1, 0],
    [1, -4, 1],
    [0, 1, 0],
  ]),
  /** Box blur: the mean of the 3x3 neighbourhood. */
  blur: freezeMatrix([
    [1 / 9, 1 / 9, 1 / 9],
    [1 / 9, 1 / 9, 1 / 9],
    [1 / 9, 1 / 9, 1 / 9],
  ]),
  /** The pixel minus its neighbours' share: flat areas keep their value, edges are exaggerated. */
  sharpen: freezeMatrix([
    [0, -1, 0],
    [-1, 5, -1],
    [0, -1, 0],
  ]),
  /** Diagonal relief: light from the top left. */
  emboss: freezeMatrix([
    [-2, -1, 0],
    [-1, 1, 1],
    [0, 1, 2],
  ]),
});

export const FILTER_NAMES = Object.freeze(Object.keys(FILTERS) as FilterName[]);

/** A built-in name, one filter matrix, or several same-sized filters (one output channel each). */
export type FilterSpec = FilterName | FilterMatrix | readonly FilterMatrix[];

/** Filters resolved to Conv2d's layout: outChannels filters of kh x kw, row-major. */
export interface ResolvedFilters {
  /** What to call the filter in captions: the built-in name, or 'custom'. */
  readonly label: string;
  readonly count: number;
  readonly kernelH: number;
  readonly kernelW: number;
  /** count * kernelH * kernelW values, filter after filter. */
  readonly weights: Float32Array;
}

/** Largest filter side accepted; bigger is almost certainly a mistake (a whole image passed as a filter). */
const MAX_FILTER_SIDE = 31;

export function resolveFilters(spec: FilterSpec, what = 'filter'): ResolvedFilters {
  if (typeof spec === 'string') {
    if (!Object.hasOwn(FILTERS, spec)) {
      throw new ParameterError(`${what} must be one of ${FILTER_NAMES.join(', ')} or a matrix of numbers, got ${JSON.stringify(spec)}`);
    }
    return { label: spec, ...packFilters([FILTERS[spec]], what) };
  }
  if (!Array.isArray(spec) || spec.length === 0) {
    throw new ParameterError(`${what} must be a filter name or a non-empty array of rows, got ${describe(spec)}`);
  }
  // [[n, n], [n, n]] is one filter; [[[n]], [[n]]] is a list of filters.
  const matrices = Array.isArray(spec[0]) && Array.isArray((spec[0] as unknown[])[0]) ? (spec as FilterMatrix[]) : [spec as FilterMatrix];
  return { label: 'custom', ...packFilters(matrices, what) };
}

function packFilters(matrices: readonly FilterMatrix[], what: string): Omit<ResolvedFilters, 'label'> {
  const first = checkMatrix(matrices[0], matrices.length > 1 ? `${what}[0]` : what);
  const [kernelH, kernelW] = first;
  const weights = new Float32Array(matrices.length * kernelH * kernelW);
  matrices.forEach((matrix, f) => {
    const name = matrices.length > 1 ? `${what}[${f}]` : what;
    const [h, w] = checkMatrix(matrix, name);
    if (h !== kernelH || w !== kernelW) {
      throw new ParameterError(`${name} is ${h}x${w} but ${what}[0] is ${kernelH}x${kernelW}: every filter must have the same size`);
    }
    matrix.forEach((row, y) => row.forEach((value, x) => (weights[(f * kernelH + y) * kernelW + x] = value)));
  });
  return { count: matrices.length, kernelH, kernelW, weights };
}

/** Checks one filter is a rectangle of finite numbers; returns [rows, columns]. */
function checkMatrix(matrix: unknown, name: string): [number, number] {
  if (!Array.isArray(matrix) || matrix.length === 0 || matrix.length > MAX_FILTER_SIDE) {
    throw new ParameterError(`${name} must be an array of 1 to ${MAX_FILTER_SIDE} rows, got ${describe(matrix)}`);
  }
  const width = Array.isArray(matrix[0]) ? matrix[0].length : -1;
  if (width < 1 || width > MAX_FILTER_SIDE) {
    throw new ParameterError(`${name}[0] must be a row of 1 to ${MAX_FILTER_SIDE} numbers, got ${describe(matrix[0])}`);
  }
  matrix.forEach((row: unknown, y) => {
    if (!Array.isArray(row) || row.length !== width) {
      throw new ParameterError(`${name}[${y}] must have ${width} numbers like row 0 (filters are rectangles), got ${describe(row)}`);
    }
    row.forEach((value: unknown, x) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new ParameterError(`${name}[${y}][${x}] must be a finite number, got ${JSON.stringify(value)}`);
      }
    });
  });
  return [matrix.length, width];
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}
