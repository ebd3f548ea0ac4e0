/**
 * `convnode visualize`: what a convolution, a ReLU and a pooling layer do to an image (filter
 * mode), or the feature maps of one layer of an ONNX model (model mode); a PNG, and optionally a
 * self-contained HTML report with the planner table.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConvnodeError } from '../../errors.js';
import { PRESETS, type ImageOptions, type PresetName } from '../../image/options.js';
import type { PaddingSpec } from '../../planner/geometry.js';
import { positiveInt } from '../args.js';
import { UsageError, type CliIO, type Command, type ParsedArgs } from '../command.js';

const PADDING_WORDS = ['valid', 'same', 'full'] as const;

function paddingFlag(value: unknown): PaddingSpec | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if ((PADDING_WORDS as readonly string[]).includes(text)) return text as PaddingSpec;
  if (!/^\d+$/.test(text) || Number(text) > 1024) {
    throw new UsageError(`--padding must be a whole number from 0 to 1024 or one of ${PADDING_WORDS.join(', ')}, got '${text}'`);
  }
  return Number(text);
}

/** A built-in name as it is, or a .json file holding one filter matrix or a list of them. */
async function filterFlag(value: unknown): Promise<{ spec: unknown; name: string }> {
  const text = value === undefined ? 'sobel-x' : String(value);
  if (!text.toLowerCase().endsWith('.json')) return { spec: text, name: text };
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(text, 'utf8'));
  } catch (error) {
    throw new UsageError(`--filter file '${text}' cannot be read as JSON: ${(error as Error).message}`);
  }
  return { spec: parsed, name: basename(text) };
}

function layerFlag(value: unknown): string | number {
  const text = String(value);
  return /^\d+$/.test(text) ? Number(text) : text;
}

function colormapFlag(value: unknown): 'gray' | 'diverging' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'gray' && value !== 'diverging') throw new UsageError(`--colormap must be gray or diverging, got '${String(value)}'`);
  return value;
}

async function writePng(io: CliIO, out: string, picture: { png: Buffer; width: number; height: number }): Promise<void> {
  await writeFile(out, picture.png);
  io.stdout.write(`wrote ${out} (${picture.width}x${picture.height} PNG)\n`);
}

async function writeHtml(io: CliIO, out: string, html: string): Promise<void> {
  await writeFile(out, html);
  io.stdout.write(`wrote ${out} (HTML report, images inlined)\n`);
}

async function runFilterMode(image: string, values: ParsedArgs['values'], io: CliIO): Promise<number> {
  for (const flag of ['layer', 'colormap', 'preset'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} is for model mode; add --model <m.onnx|builtin>`);
  }
  const { convReluPool, composeStages, buildHtmlReport, loadGrayscale, resolveFilters } = await import('../../visualize/index.js');
  const { summarize } = await import('../../layers/summary.js');
  const { formatShape } = await import('../../tensor.js');
  const filterArg = await filterFlag(values.filter);
  try {
    resolveFilters(filterArg.spec as never, `--filter ${filterArg.name}`);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const stride = positiveInt('stride', values.stride ?? '1', 1024)!;
  const pool = positiveInt('pool', values.pool ?? '2', 1024)!;
  const padding = paddingFlag(values.padding) ?? 0;
  const zoom = positiveInt('zoom', values.zoom, 64);
  const input = await loadGrayscale(image, { maxSize: positiveInt('max-size', values['max-size'] ?? '256', 16384) });
  const stages = await convReluPool(input, { filter: filterArg.spec as never, filterLabel: filterArg.name, stride, padding, pool });
  const picture = await composeStages(stages, { zoom });
  await writePng(io, String(values.out ?? 'visualize.png'), picture);
  if (values.html !== undefined) {
    const report = buildHtmlReport({
      title: `convnode visualize: ${basename(image)}`,
      details: [
        `image ${image}, read as ${formatShape(input.shape)} grayscale, values 0..255`,
        `filter ${filterArg.name}, stride ${stride}, padding ${JSON.stringify(padding)}, max pool ${pool}x${pool}`,
        'colours: input gray (black = min, white = max); conv, ReLU and pool on one scale symmetric around 0 (blue negative, white zero, red positive)',
      ],
      figures: [{ heading: 'Stages', png: picture.png, caption: 'input, conv, ReLU and max pool, each labelled with its shape and value range' }],
      summary: summarize(stages.model, input.shape),
    });
    await writeHtml(io, String(values.html), report);
  }
  // The shapes in the terminal too, so a script can check them without opening the picture.
  for (const [name, t] of [['input', stages.input], ['conv', stages.conv], ['relu', stages.relu], ['pool', stages.pool]] as const) {
    io.stdout.write(`  ${name.padEnd(5)} ${formatShape(t.shape)}\n`);
  }
  return 0;
}

async function runModelMode(image: string, values: ParsedArgs['values'], io: CliIO): Promise<number> {
  for (const flag of ['filter', 'stride', 'padding', 'pool', 'max-size'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} is for filter mode; model mode draws a layer of --model`);
  }
  if (values.layer === undefined) throw new UsageError('--model needs --layer <N|node name|output name|list> (--layer list prints the feature-map layers)');
  const colormap = colormapFlag(values.colormap);
  const zoom = positiveInt('zoom', values.zoom, 64);
  const preset = presetFlag(values.preset);
  const { imageToTensor } = await import('../../image/index.js');
  const { BUILTIN_MODEL_PATH, builtinImageOptions } = await import('../../image/builtin.js');
  const { buildHtmlReport, composeModelLayer, declaredInputShape, layerLabel, listFeatureMapLayers, modelLayerMaps, renderFeatureMaps } = await import('../../visualize/index.js');
  const { formatShape } = await import('../../tensor.js');

  const builtin = values.model === 'builtin';
  const modelPath = builtin ? BUILTIN_MODEL_PATH : String(values.model);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(modelPath);
  } catch (error) {
    throw new UsageError(`--model '${modelPath}' cannot be read: ${(error as Error).message}`);
  }
  // Preprocess as the model expects: the built-in model's stated options, else its declared input
  // size with --preset's normalisation (default imagenet).
  const defaults = builtin ? builtinImageOptions() : modelImageOptions(declaredInputShape(bytes, `'${modelPath}'`));
  const input = await imageToTensor(image, preset === undefined ? defaults : { ...defaults, preset, mean: undefined, std: undefined });
  if (values.layer === 'list') {
    const layers = await listFeatureMapLayers(bytes, input.shape);
    io.stdout.write(`${layers.length} layers of ${basename(modelPath)} output a feature map (input ${formatShape(input.shape)}); --layer N draws layer N:\n`);
    for (const { number, node, shape } of layers) io.stdout.write(`  ${String(number).padStart(3)}  ${node.name} (${node.opType}) ${formatShape(shape)}\n`);
    return 0;
  }
  const result = await modelLayerMaps(bytes, input, layerFlag(values.layer));
  const modelName = builtin ? 'built-in lenet5-fashion' : basename(modelPath);
  const picture = await composeModelLayer(result, { modelName, colormap, zoom });
  await writePng(io, String(values.out ?? 'visualize.png'), picture);
  if (values.html !== undefined) {
    const { node, maps } = result;
    const report = buildHtmlReport({
      title: `convnode visualize: ${basename(image)} through ${modelName}`,
      details: [
        `image ${image}, preprocessed to ${formatShape(input.shape)} as the model expects`,
        `${layerLabel(result)} '${node.name}' (${node.opType}), output ${formatShape(maps.shape)}; each channel scaled to its own range`,
        'planner table of the model loaded unfused, so every node has its own row',
      ],
      figures: [
        { heading: 'Model input', png: await renderFeatureMaps(input, { title: ['model input (normalised), per channel'] }), caption: 'the preprocessed input, one tile per channel' },
        { heading: `Layer '${node.name}'`, png: picture.png, caption: `feature maps of '${node.name}', one tile per channel` },
      ],
      summary: result.summary,
    });
    await writeHtml(io, String(values.html), report);
  }
  io.stdout.write(`  ${layerLabel(result)} '${result.node.name}' (${result.node.opType}) ${formatShape(result.maps.shape)}\n`);
  return 0;
}

function presetFlag(value: unknown): PresetName | undefined {
  if (value === undefined) return undefined;
  if (!Object.hasOwn(PRESETS, String(value))) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got '${String(value)}'`);
  return value as PresetName;
}

function modelImageOptions(declared: readonly (number | string)[] | null): ImageOptions {
  const options: ImageOptions = { preset: 'imagenet' };
  if (declared && declared.length === 4) {
    const [, c, h, w] = declared;
    if (typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0) options.size = [h, w];
    if (c === 1) options.channels = 'grayscale';
  }
  return options;
}

async function run({ values, positionals }: ParsedArgs, io: CliIO): Promise<number> {
  const [image] = positionals;
  try {
    return values.model === undefined ? await runFilterMode(image, values, io) : await runModelMode(image, values, io);
  } catch (error) {
    // Library errors already name the parameter; keep them one line, as the CLI prints them.
    if (error instanceof ConvnodeError) throw new Error(error.message);
    throw error;
  }
}

export const visualize: Command = {
  name: 'visualize',
  summary: 'Picture what conv -> ReLU -> max pool does to an image, or the feature maps of a layer of an ONNX model.',
  usage: 'visualize <image> [--filter name|file.json] [--stride S] [--padding P] [--pool K] | --model <m.onnx|builtin> --layer <N|name|list> [--out out.png] [--html report.html]',
  minPositionals: 1,
  maxPositionals: 1,
  options: {
    filter: { type: 'string', short: 'f', value: '<name|file.json>', help: 'sobel-x (default), sobel-y, laplacian, blur, sharpen, emboss, or a JSON matrix (or list of matrices)' },
    stride: { type: 'string', short: 's', value: '<S>', help: 'convolution stride (default 1)' },
    padding: { type: 'string', short: 'p', value: '<P|same|valid|full>', help: 'convolution zero padding (default 0)' },
    pool: { type: 'string', value: '<K>', help: 'max-pool window and stride (default 2; 1 = no pooling)' },
    'max-size': { type: 'string', value: '<px>', help: 'shrink larger images to this many pixels on the longer side first (default 256)' },
    model: { type: 'string', short: 'm', value: '<m.onnx|builtin>', help: 'model mode: draw a layer of this ONNX model' },
    layer: { type: 'string', short: 'l', value: '<N|name|list>', help: 'model mode: N counts the layers whose output is a feature map (list prints them with shapes), or a node / output name' },
    preset: { type: 'string', value: '<name>', help: 'model mode: preprocessing preset (imagenet, unit, fashion-mnist, grayscale28; default: the built-in model\'s, else imagenet at the declared size)' },
    colormap: { type: 'string', value: '<gray|diverging>', help: 'model mode: tile colours (default gray, each channel min..max)' },
    zoom: { type: 'string', short: 'z', value: '<n>', help: 'screen pixels per map pixel (default: fit about 192 px)' },
    out: { type: 'string', short: 'o', value: '<file.png>', help: 'where to write the PNG (default visualize.png)' },
    html: { type: 'string', value: '<file.html>', help: 'also write a self-contained HTML report with the planner table' },
  },
  examples: [
    'convnode visualize samples/0000-ankle-boot.png --out boot-sobel.png',
    'convnode visualize photo.jpg --filter laplacian --padding 1 --pool 2 --html report.html',
    'convnode visualize samples/0009-sneaker.png --model builtin --layer /Relu --out relu1.png',
  ],
  run,
};
