/**
 * A minimal RGB canvas: feature maps are painted into it pixel by pixel (nearest-neighbour
 * upscaling is just repeating each value zoom x zoom times), then sharp encodes it once.
 */
import { writeColour, type ValueScale } from './colormap.js';

export type Rgb = readonly [number, number, number];

/** Interleaved RGB bytes, row-major. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export const WHITE: Rgb = [255, 255, 255];
/** Frames maps so a white (zero) diverging map stays visible on the white page. */
export const FRAME: Rgb = [136, 136, 136];
/** Fills the gaps between channel tiles inside one panel. */
export const GAP: Rgb = [200, 200, 200];

export function createImage(width: number, height: number, fill: Rgb = WHITE): RgbImage {
  const data = new Uint8Array(width * height * 3);
  const image = { width, height, data };
  fillRect(image, 0, 0, width, height, fill);
  return image;
}

export function fillRect(image: RgbImage, x0: number, y0: number, width: number, height: number, colour: Rgb): void {
  const x1 = Math.min(image.width, x0 + width);
  const y1 = Math.min(image.height, y0 + height);
  for (let y = Math.max(0, y0); y < y1; y++) {
    for (let x = Math.max(0, x0); x < x1; x++) {
      const o = (y * image.width + x) * 3;
      image.data[o] = colour[0];
      image.data[o + 1] = colour[1];
      image.data[o + 2] = colour[2];
    }
  }
}

/** A one-pixel frame just outside the rectangle (x0, y0, width, height). */
export function frameRect(image: RgbImage, x0: number, y0: number, width: number, height: number, colour: Rgb = FRAME): void {
  fillRect(image, x0 - 1, y0 - 1, width + 2, 1, colour);
  fillRect(image, x0 - 1, y0 + height, width + 2, 1, colour);
  fillRect(image, x0 - 1, y0, 1, height, colour);
  fillRect(image, x0 + width, y0, 1, height, colour);
}

/** Copies `source` into `target` with its top-left corner at (x0, y0). */
export function blit(target: RgbImage, source: RgbImage, x0: number, y0: number): void {
  for (let y = 0; y < source.height; y++) {
    const ty = y0 + y;
    if (ty < 0 || ty >= target.height) continue;
    const from = y * source.width * 3;
    const columns = Math.min(source.width, target.width - x0);
    target.data.set(source.data.subarray(from, from + columns * 3), (ty * target.width + x0) * 3);
  }
}

/**
 * Paints one H x W map (values[offset ..]) at (x0, y0), each value as a zoom x zoom block.
 * The colour of a value is computed once per value, not once per screen pixel.
 */
export function paintMap(
  target: RgbImage,
  x0: number,
  y0: number,
  values: ArrayLike<number>,
  offset: number,
  mapH: number,
  mapW: number,
  zoom: number,
  scale: ValueScale,
): void {
  const colour = new Uint8Array(3);
  for (let my = 0; my < mapH; my++) {
    for (let mx = 0; mx < mapW; mx++) {
      writeColour(values[offset + my * mapW + mx], scale, colour, 0);
      for (let dy = 0; dy < zoom; dy++) {
        let o = ((y0 + my * zoom + dy) * target.width + x0 + mx * zoom) * 3;
        for (let dx = 0; dx < zoom; dx++, o += 3) {
          target.data[o] = colour[0];
          target.data[o + 1] = colour[1];
          target.data[o + 2] = colour[2];
        }
      }
    }
  }
}
