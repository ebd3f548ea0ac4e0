/**
 * Feature maps to pictures: one tile per channel (renderFeatureMaps), or the conv -> ReLU -> pool
 * stages side by side (renderStages). Both return PNG bytes; the compose* variants also return
 * where each map was drawn.
 */
import { ParameterError, ShapeError } from '../errors.js';
import { Tensor, formatShape } from '../tensor.js';
import { scaleFor, valueRange, type ColourMap, type ValueRange, type ValueScale } from './colormap.js';
import { checkPictureSize, composeTiles, type Composition, type Tile } from './compose.js';
import { formatRange, formatValue } from './format.js';
import type { ConvReluPoolStages } from './pipeline.js';
import { GAP, createImage, paintMap, type RgbImage } from './raster.js';

const MAX_ZOOM = 64;
/** Default on-screen size of a map's longer side in a channel grid, and of the input in the stages picture. */
const GRID_TILE_PIXELS = 96;
const STAGE_INPUT_PIXELS = 192;
/** Pixels between the channel tiles of one stage panel. */
const CHANNEL_GAP = 2;

export interface FeatureMapOptions {
  /** 'gray' (default: low black, high white) or 'diverging' (negative blue, zero white, positive red). */
  colormap?: ColourMap;
  /** Scale each channel to its own range ('channel', default) or all channels to the tensor's ('tensor'). */
  normalize?: 'channel' | 'tensor';
  /** Screen pixels per map pixel (default: enough for about 96 pixels per tile, at least 1). */
  zoom?: number;
  /** Tiles per row (default: about square). */
  columns?: number;
  /** Which image of a batch to show (default 0). */
  batchIndex?: number;
  /** Lines drawn above the grid, e.g. the layer's name, shape and receptive field. */
  title?: readonly string[];
}

/** An [N, C, H, W] tensor with everything needed to address one image's maps. */
interface Maps {
  readonly tensor: Tensor;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Offset of the shown image in tensor.data. */
  readonly base: number;
}

/** Accepts [N, C, H, W], [C, H, W] or [H, W]. */
function selectMaps(tensor: Tensor, batchIndex: number | undefined, owner: string): Maps {
  if (!(tensor instanceof Tensor)) {
    throw new ParameterError(`${owner}: tensor must be a Tensor, got ${tensor === null ? 'null' : typeof tensor}`);
  }
  const shape = tensor.shape;
  if (shape.length < 2 || shape.length > 4) {
    throw new ShapeError(`${owner}: tensor must be N x C x H x W, C x H x W or H x W to draw as feature maps, got ${formatShape(shape)}`);
  }
  const [n, c, h, w] = [...Array<number>(4 - shape.length).fill(1), ...shape];
  const index = batchIndex ?? 0;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new ParameterError(`${owner}: batchIndex must be an integer in [0, ${n - 1}] for a batch of ${n}, got ${JSON.stringify(batchIndex)}`);
  }
  if (c === 0 || h === 0 || w === 0) throw new ShapeError(`${owner}: tensor ${formatShape(shape)} has no pixels to draw`);
  return { tensor, channels: c, height: h, width: w, base: index * c * h * w };
}

function checkZoom(zoom: number, owner: string): number {
  if (!Number.isInteger(zoom) || zoom < 1 || zoom > MAX_ZOOM) {
    throw new ParameterError(`${owner}: zoom must be an integer from 1 to ${MAX_ZOOM}, got ${JSON.stringify(zoom)}`);
  }
  return zoom;
}

function autoZoom(pixels: number, mapSide: number): number {
  return Math.min(MAX_ZOOM, Math.max(1, Math.floor(pixels / mapSide)));
}

function channelRange(maps: Maps, c: number): ValueRange {
  const start = maps.base + c * maps.height * maps.width;
  return valueRange(maps.tensor.data, start, start + maps.height * maps.width);
}

function imageRange(maps: Maps): ValueRange {
  return valueRange(maps.tensor.data, maps.base, maps.base + maps.channels * maps.height * maps.width);
}

/** One channel painted at `zoom`. */
function paintChannel(maps: Maps, c: number, zoom: number, scale: ValueScale): RgbImage {
  const image = createImage(maps.width * zoom, maps.height * zoom);
  paintMap(image, 0, 0, maps.tensor.data, maps.base + c * maps.height * maps.width, maps.height, maps.width, zoom, scale);
  return image;
}

/** All channels of one image as a compact grid in a single panel, all on one scale. */
function paintChannelGrid(maps: Maps, zoom: number, scale: ValueScale): RgbImage {
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

const SCALE_BAR_WIDTH = 18;

/** A vertical colour bar for a diverging scale: +limit (red) at the top, 0 (white) in the middle, -limit (blue) at the bottom. */
function paintScaleBar(scale: ValueScale, height: number): RgbImage {
  const image = createImage(SCALE_BAR_WIDTH, height);
  const values = new Float32Array(height);
  // Row y shows the value at its centre, top to bottom from +limit to -limit.
  for (let y = 0; y < height; y++) values[y] = scale.high - ((y + 0.5) / height) * (scale.high - scale.low);
  for (let y = 0; y < height; y++) paintMap(image, 0, y, values, y, 1, 1, 1, scale);
  // Widen each one-pixel row to the bar's width.
  for (let y = 0; y < height; y++) {
    const row = image.data.subarray(y * SCALE_BAR_WIDTH * 3, (y + 1) * SCALE_BAR_WIDTH * 3);
    for (let x = 1; x < SCALE_BAR_WIDTH; x++) row.copyWithin(x * 3, 0, 3);
  }
  return image;
}

/** One tile per channel, each captioned with its index and value range; returns the PNG and the layout. */
export async function composeFeatureMaps(tensor: Tensor, options: FeatureMapOptions = {}): Promise<Composition> {
  const owner = 'renderFeatureMaps';
  if (options === null || typeof options !== 'object') throw new ParameterError(`${owner}: options must be an object`);
  const maps = selectMaps(tensor, options.batchIndex, owner);
  const colormap = options.colormap ?? 'gray';
  if (colormap !== 'gray' && colormap !== 'diverging') {
    throw new ParameterError(`${owner}: colormap must be 'gray' or 'diverging', got ${JSON.stringify(options.colormap)}`);
  }
  const normalize = options.normalize ?? 'channel';
  if (normalize !== 'channel' && normalize !== 'tensor') {
    throw new ParameterError(`${owner}: normalize must be 'channel' or 'tensor', got ${JSON.stringify(options.normalize)}`);
  }
  const zoom = checkZoom(options.zoom ?? autoZoom(GRID_TILE_PIXELS, Math.max(maps.height, maps.width)), owner);
  const columns = options.columns ?? Math.ceil(Math.sqrt(maps.channels));
  if (!Number.isInteger(columns) || columns < 1) {
    throw new ParameterError(`${owner}: columns must be a positive integer, got ${JSON.stringify(options.columns)}`);
  }
  // The maps alone, before captions and spacing: refuse early rather than paint thousands of tiles.
  checkPictureSize(Math.min(columns, maps.channels) * maps.width * zoom, Math.ceil(maps.channels / columns) * maps.height * zoom);
  const shared = normalize === 'tensor' ? scaleFor(imageRange(maps), colormap) : null;
  const tiles: Tile[] = [];
  for (let c = 0; c < maps.channels; c++) {
    const range = channelRange(maps, c);
    const scale = shared ?? scaleFor(range, colormap);
    const caption = [`ch ${c}`, formatRange(range.min, range.max)];
    if (range.nonFinite) caption.push(`${range.nonFinite} non-finite`);
    tiles.push({ image: paintChannel(maps, c, zoom, scale), caption });
  }
  return composeTiles(tiles, { columns, title: options.title });
}

/** The feature maps of one image as a PNG: one tile per channel, each normalised. */
export async function renderFeatureMaps(tensor: Tensor, options: FeatureMapOptions = {}): Promise<Buffer> {
  return (await composeFeatureMaps(tensor, options)).png;
}

export interface StageOptions {
  /** Screen pixels per input pixel (default: about 192 pixels for the input's longer side). */
  zoom?: number;
  /** Which image of a batch to show (default 0). */
  batchIndex?: number;
}

/**
 * Input (gray), raw conv response (diverging, symmetric around zero), after ReLU and after max
 * pooling, side by side. Conv, ReLU and pool share one diverging scale, so a colour means the
 * same value in all three. Each stage is drawn at zoom x (its jump), so one output pixel covers
 * the input pixels its stride steps over and the panels line up with the input.
 */
export async function composeStages(stages: ConvReluPoolStages, options: StageOptions = {}): Promise<Composition> {
  const owner = 'renderStages';
  if (stages === null || typeof stages !== 'object' || !(stages.conv instanceof Tensor)) {
    throw new ParameterError(`${owner}: stages must be the result of convReluPool`);
  }
  if (options === null || typeof options !== 'object') throw new ParameterError(`${owner}: options must be an object`);
  const input = selectMaps(stages.input, options.batchIndex, owner);
  const conv = selectMaps(stages.conv, options.batchIndex, owner);
  const relu = selectMaps(stages.relu, options.batchIndex, owner);
  const pool = selectMaps(stages.pool, options.batchIndex, owner);
  const zoom = checkZoom(options.zoom ?? autoZoom(STAGE_INPUT_PIXELS, Math.max(input.height, input.width)), owner);
  const convZoom = checkZoom(zoom * stages.stride, `${owner} (zoom x stride)`);
  const poolZoom = checkZoom(convZoom * stages.poolSize, `${owner} (zoom x stride x pool)`);

  const inputRange = imageRange(input);
  const convRange = imageRange(conv);
  const responseScale = scaleFor(convRange, 'diverging');
  const reluRange = imageRange(relu);
  const poolRange = imageRange(pool);
  const tiles: Tile[] = [
    {
      image: paintChannelGrid(input, zoom, scaleFor(inputRange, 'gray')),
      caption: [`input ${formatShape(stages.input.shape)}`, `gray ${formatRange(inputRange.min, inputRange.max)}`],
    },
    {
      image: paintChannelGrid(conv, convZoom, responseScale),
      caption: [`conv ${formatShape(stages.conv.shape)}`, formatRange(convRange.min, convRange.max)],
    },
    {
      image: paintChannelGrid(relu, convZoom, responseScale),
      caption: [`ReLU ${formatShape(stages.relu.shape)}`, formatRange(reluRange.min, reluRange.max)],
    },
    {
      image: paintChannelGrid(pool, poolZoom, responseScale),
      caption: [`max pool ${formatShape(stages.pool.shape)}`, formatRange(poolRange.min, poolRange.max)],
    },
  ];
  tiles.push({ image: paintScaleBar(responseScale, tiles[1].image.height), caption: ['scale', `±${formatValue(responseScale.high)}`] });
  const padding = typeof stages.padding === 'string' ? stages.padding : JSON.stringify(stages.padding);
  const title = [
    `${stages.filter.label} ${stages.filter.kernelH}x${stages.filter.kernelW}, stride ${stages.stride}, padding ${padding}` +
      ` -> ReLU -> max pool ${stages.poolSize}x${stages.poolSize}   (blue < 0 < red)`,
  ];
  return composeTiles(tiles, { title });
}

/** The stages of convReluPool as one labelled PNG. */
export async function renderStages(stages: ConvReluPoolStages, options: StageOptions = {}): Promise<Buffer> {
  return (await composeStages(stages, options)).png;
}
