/**
 * Feature maps to a picture: one tile per channel, each captioned with its index and value range.
 * renderFeatureMaps returns PNG bytes; composeFeatureMaps also returns where each map was drawn.
 */
import { ParameterError } from '../errors.js';
import { checkOptionNames } from '../options.js';
import type { Tensor } from '../tensor.js';
import { scaleFor, type ColourMap } from './colormap.js';
import { checkPictureSize, composeTiles, type Composition, type Tile } from './compose.js';
import { formatRange } from './format.js';
import { autoZoom, channelRange, checkZoom, imageRange, paintChannel, selectMaps } from './maps.js';

/** Default on-screen size of a map's longer side in a channel grid. */
const GRID_TILE_PIXELS = 96;

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

const FEATURE_MAP_OPTIONS = ['colormap', 'normalize', 'zoom', 'columns', 'batchIndex', 'title'] as const satisfies ReadonlyArray<
  keyof FeatureMapOptions
>;

/** One tile per channel, each captioned with its index and value range; returns the PNG and the layout. */
export async function composeFeatureMaps(tensor: Tensor, options: FeatureMapOptions = {}): Promise<Composition> {
  const owner = 'renderFeatureMaps';
  if (options === null || typeof options !== 'object') throw new ParameterError(`${owner}: options must be an object`);
  checkOptionNames(options, FEATURE_MAP_OPTIONS, owner);
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

