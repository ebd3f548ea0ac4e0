/**
 * The conv -> ReLU -> pool stages of convReluPool side by side in one labelled picture, with a
 * colour-scale bar. renderStages returns PNG bytes; composeStages also returns the layout.
 */
import { ParameterError } from '../errors.js';
import { checkOptionNames } from '../options.js';
import { Tensor, formatShape } from '../tensor.js';
import { scaleFor, type ValueScale } from './colormap.js';
import { composeTiles, type Composition, type Tile } from './compose.js';
import { formatRange, formatValue } from './format.js';
import { autoZoom, checkZoom, imageRange, paintChannelGrid, selectMaps } from './maps.js';
import type { ConvReluPoolStages } from './pipeline.js';
import { createImage, paintMap, type RgbImage } from './raster.js';

/** Default on-screen size of the input's longer side. */
const STAGE_INPUT_PIXELS = 192;
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
  checkOptionNames(options, ['zoom', 'batchIndex'] satisfies Array<keyof StageOptions>, owner);
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
