/**
 * Value -> colour. Two maps: 'gray' (low black, high white) for images and activations, and
 * 'diverging' (negative blue, zero white, positive red) on a scale symmetric around zero, so a
 * response's sign is visible at a glance and equal magnitudes get equally strong colours.
 */

export type ColourMap = 'gray' | 'diverging';

/** How values become colours: the map and the value range it spans. */
export interface ValueScale {
  readonly map: ColourMap;
  /** 'gray': the value drawn black. 'diverging': -limit (drawn pure blue). */
  readonly low: number;
  /** 'gray': the value drawn white. 'diverging': +limit (drawn pure red). */
  readonly high: number;
}

/** Non-finite values (NaN, Infinity) from a broken model get a colour neither map uses. */
export const NON_FINITE_RGB: readonly [number, number, number] = [0, 160, 0];

/** Smallest and largest finite value, and how many values were not finite. */
export interface ValueRange {
  readonly min: number;
  readonly max: number;
  readonly nonFinite: number;
}

export function valueRange(values: ArrayLike<number>, start = 0, end = values.length): ValueRange {
  let min = Infinity;
  let max = -Infinity;
  let nonFinite = 0;
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) nonFinite++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  // All values non-finite (or none): an empty range that draws everything at the low end.
  if (min > max) return { min: 0, max: 0, nonFinite };
  return { min, max, nonFinite };
}

/** The scale that spans a range: min..max for 'gray', -m..m with m = max(|min|, |max|) for 'diverging'. */
export function scaleFor(range: ValueRange, map: ColourMap): ValueScale {
  if (map === 'gray') return { map, low: range.min, high: range.max };
  const limit = Math.max(Math.abs(range.min), Math.abs(range.max));
  return { map, low: -limit, high: limit };
}

/** Writes the RGB bytes of one value at out[offset..offset+2]. */
export function writeColour(value: number, scale: ValueScale, out: Uint8Array, offset: number): void {
  if (!Number.isFinite(value)) {
    out[offset] = NON_FINITE_RGB[0];
    out[offset + 1] = NON_FINITE_RGB[1];
    out[offset + 2] = NON_FINITE_RGB[2];
    return;
  }
  if (scale.map === 'gray') {
    const span = scale.high - scale.low;
    // A constant map has no contrast to show: draw it black rather than divide by zero.
    const t = span > 0 ? clamp((value - scale.low) / span, 0, 1) : 0;
    const g = Math.round(t * 255);
    out[offset] = g;
    out[offset + 1] = g;
    out[offset + 2] = g;
    return;
  }
  const limit = scale.high;
  const t = limit > 0 ? clamp(value / limit, -1, 1) : 0;
  // White at zero, fading the other two channels out towards pure blue (t = -1) or pure red (t = 1).
  const fade = Math.round((1 - Math.abs(t)) * 255);
  out[offset] = t < 0 ? fade : 255;
  out[offset + 1] = fade;
  out[offset + 2] = t > 0 ? fade : 255;
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
