/**
 * One image's feature maps inside an N x C x H x W tensor, and painting them: the shared
 * plumbing of the channel grid (render.ts) and the stages picture (stages.ts).
 */
import { ParameterError, ShapeError } from '../errors.js';
import { Tensor, formatShape } from '../tensor.js';
import { valueRange, type ValueRange, type ValueScale } from './colormap.js';
import { GAP, createImage, paintMap, type RgbImage } from './raster.js';

export const MAX_ZOOM = 64;
/** Pixels between the channel tiles of one stage panel. */
const CHANNEL_GAP = 2;

/** An [N, C, H, W] tensor with everything needed to address one image's maps. */
export interface Maps {
  readonly tensor: Tensor;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Offset of the shown image in tensor.data. */
  readonly base: number;
}

/** Accepts [N, C, H, W], [C, H, W] or [H, W]. */
export function selectMaps(tensor: Tensor, batchIndex: number | undefined, owner: string): Maps {
  if (!(tensor instanceof Tensor)) {
    throw new ParameterError(`${owner}: tensor must be a Tensor, got ${tensor === null ? 'null' : typeof tensor}`);
  }
  const shape = tensor.shape;
  if (shape.length < 2 || shape.length > 4) {
    throw new ShapeError(`${owner}: tensor must be N x C x H x W, C x H x W or H x W to draw as feature maps, got ${formatShape(shape)}`);
  }
  const [n, c, h, w] = [...Array<number>(4 - shape.length).fill(1), ...shape];
  // An empty batch (as imagesToBatch gives when nothing decodes) is a shape problem, not a bad batchIndex.
  if (n === 0 || c === 0 || h === 0 || w === 0) throw new ShapeError(`${owner}: tensor ${formatShape(shape)} has no pixels to draw`);
  const index = batchIndex ?? 0;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new ParameterError(`${owner}: batchIndex must be an integer in [0, ${n - 1}] for a batch of ${n}, got ${JSON.stringify(batchIndex)}`);
  }
  return { tensor, channels: c, height: h, width: w, base: index * c * h * w };
}

export function checkZoom(zoom: number, owner: string): number {
  if (!Number.isInteger(zoom) || zoom < 1 || zoom > MAX_ZOOM) {
    throw new ParameterError(`${owner}: zoom must be an integer from 1 to ${MAX_ZOOM}, got ${JSON.stringify(zoom)}`);
  }
  return zoom;
}

export function autoZoom(pixels: number, mapSide: number): number {
  return Math.min(MAX_ZOOM, Math.max(1, Math.floor(pixels / mapSide)));
}

export function channelRange(maps: Maps, c: number): ValueRange {
  const start = maps.base + c * maps.height * maps.width;
  return valueRange(maps.tensor.data, start, start + maps.height * maps.width);
}

export function imageRange(maps: Maps): ValueRange {
  return valueRange(maps.tensor.data, maps.base, maps.base + maps.channels * maps.height * maps.width);
}

/** One channel painted at `zoom`. */
export function paintChannel(maps: Maps, c: number, zoom: number, scale: ValueScale): RgbImage {
  const image = createImage(maps.width * zoom, maps.height * zoom);
  paintMap(image, 0, 0, maps.tensor.data, maps.base + c * maps.height * maps.width, maps.height, maps.width, zoom, scale);
  return image;
}

/** All channels of one image as a compact grid in a single panel, all on one scale. */
export function paintChannelGrid(maps: Maps, zoom: number, scale: ValueScale): RgbImage {
  const columns = Math.ceil(Math.sqrt(maps.channels));
  const rows = Math.ceil(maps.channels / columns);
  const tileW = maps.width * zoom;
  const tileH = maps.height * zoom;
  const image = createImage(columns * tileW + (columns - 1) * CHANNEL_GAP, rows * tileH + (rows - 1) * CHANNEL_GAP, GAP);
  for (let c = 0; c < maps.channels; c++) {
    const x = (c % columns) * (tileW + CHANNEL_GAP);
    const y = Math.floor(c / columns) * (tileH + CHANNEL_GAP);
    paintMap(image, x, y, maps.tensor.data, maps.base + c * maps.height * maps.width, maps.height, maps.width, zoom, scale);
  }
  return image;
}

