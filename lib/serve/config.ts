/**
 * The server's configuration: one JSON file lists the models, each with its own batching,
 * queue, deadline and image limits, plus server-wide settings (timeouts, body limit, threads).
 * Everything is checked at start-up, and a bad value is an error naming the key and the rule,
 * so a typo never turns into a silent default in production.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ParameterError } from '../errors.js';
import type { FailOn } from '../image/decode.js';
import { PRESETS, type ImageOptions, type PresetName } from '../image/options.js';

/** The `model` value that selects the built-in Fashion-MNIST LeNet-5. */
export const BUILTIN_MODEL = 'builtin:lenet5';

export interface ModelConfig {
  /** The name in URLs: /v2/models/{name}, /v1/models/{name}/classify. Letters, digits, '.', '_', '-'. */
  readonly name: string;
  /** An .onnx path (relative to the config file), or 'builtin:lenet5'. Default 'builtin:lenet5'. */
  readonly model: string;
  /** A labels file, one per line. Default: the built-in model's; for others 'class 0', 'class 1', ... */
  readonly labels?: string;
  /** Preprocessing preset (imagenet, unit, fashion-mnist, grayscale28). Default: the model's own (see ImageClassifier). */
  readonly preset?: PresetName;
  /** Most images in one forward pass. Default 32. */
  readonly maxBatch: number;
  /** How long the first request of a batch waits for others, ms. Default 2. */
  readonly maxWaitMs: number;
  /** Most requests waiting for a forward pass; more get 503. Default 256. */
  readonly maxQueue: number;
  /** A request not answered this long after it arrived gets 504, ms. Default 10000. */
  readonly deadlineMs: number;
  /** Images declaring more pixels than this get 413 before decoding. Default 24,000,000 (a 6000 x 4000 photo). */
  readonly maxPixels: number;
  /** sharp's failOn: the least serious decoder problem that refuses an image. Default 'error'. */
  readonly failOn: FailOn;
  /** How many labels classify answers per image unless ?top= asks for fewer. Default 5. */
  readonly topK: number;
}

export interface ServeConfig {
  readonly models: readonly ModelConfig[];
  /** Native thread pool size, shared by every model. Default: os.availableParallelism(). */
  readonly threads?: number;
  /** Largest request body, bytes (a raw image, a multipart form, a JSON tensor). Default 16 MiB. */
  readonly bodyLimit: number;
  /** A client must send its request headers within this, ms. Default 10000. */
  readonly headersTimeoutMs: number;
  /** A client must send its whole request (headers and body) within this, ms. Default 30000. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, ms. Default 5000. */
  readonly keepAliveTimeoutMs: number;
  /** After SIGTERM / SIGINT, requests in flight get this long to finish, ms. Default 30000. */
  readonly drainTimeoutMs: number;
}

export type ModelConfigInput = Partial<ModelConfig> & { readonly name: string };
export type ServeConfigInput = Partial<Omit<ServeConfig, 'models'>> & { readonly models?: readonly ModelConfigInput[] };

const MODEL_DEFAULTS = {
  model: BUILTIN_MODEL,
  maxBatch: 32,
  maxWaitMs: 2,
  maxQueue: 256,
  deadlineMs: 10_000,
  maxPixels: 24_000_000,
  failOn: 'error' as FailOn,
  topK: 5,
};

const SERVER_DEFAULTS = {
  bodyLimit: 16 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  drainTimeoutMs: 30_000,
};

const MODEL_KEYS = ['name', 'model', 'labels', 'preset', 'maxBatch', 'maxWaitMs', 'maxQueue', 'deadlineMs', 'maxPixels', 'failOn', 'topK'];
const SERVER_KEYS = ['models', 'threads', 'bodyLimit', 'headersTimeoutMs', 'requestTimeoutMs', 'keepAliveTimeoutMs', 'drainTimeoutMs'];
const FAIL_ON: readonly FailOn[] = ['none', 'truncated', 'error', 'warning'];

/** Reads a config file; relative model and labels paths are taken from the file's folder. */
export function readServeConfig(path: string): ServeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ParameterError(`config file '${path}' cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ParameterError(`config file '${path}' is not valid JSON: ${(error as Error).message}`);
  }
  return resolveServeConfig(parsed as ServeConfigInput, dirname(resolve(path)), `config file '${path}'`);
}

/** Applies defaults and checks every value; `baseDir` anchors relative paths. */
export function resolveServeConfig(input: ServeConfigInput = {}, baseDir = process.cwd(), where = 'serve config'): ServeConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new ParameterError(`${where}: must be an object`);
  unknownKeys(input, SERVER_KEYS, where);
  const models = input.models ?? [{ name: 'lenet5' }];
  if (!Array.isArray(models) || models.length === 0) throw new ParameterError(`${where}: 'models' must be a non-empty array`);
  const resolved = models.map((m, i) => resolveModel(m, baseDir, `${where}: models[${i}]`));
  const names = new Set<string>();
  for (const m of resolved) {
    if (names.has(m.name)) throw new ParameterError(`${where}: two models are named '${m.name}'; names must be unique`);
    names.add(m.name);
  }
  const server = { ...SERVER_DEFAULTS, ...definedOnly(input) };
  for (const key of Object.keys(SERVER_DEFAULTS) as (keyof typeof SERVER_DEFAULTS)[]) positiveInt(server[key], `${where}: '${key}'`);
  if (input.threads !== undefined) positiveInt(input.threads, `${where}: 'threads'`, 256);
  return { ...server, threads: input.threads, models: resolved };
}

function resolveModel(input: ModelConfigInput, baseDir: string, where: string): ModelConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new ParameterError(`${where} must be an object`);
  unknownKeys(input, MODEL_KEYS, where);
  const m = { ...MODEL_DEFAULTS, ...definedOnly(input) } as ModelConfig;
  if (typeof m.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(m.name)) {
    throw new ParameterError(`${where}: 'name' must be 1 to 64 letters, digits, '.', '_' or '-' (it goes in URLs), got ${JSON.stringify(m.name)}`);
  }
  if (typeof m.model !== 'string' || m.model === '') throw new ParameterError(`${where}: 'model' must be an .onnx path or '${BUILTIN_MODEL}'`);
  if (m.labels !== undefined && typeof m.labels !== 'string') throw new ParameterError(`${where}: 'labels' must be a file path`);
  if (m.preset !== undefined && !Object.hasOwn(PRESETS, m.preset)) {
    throw new ParameterError(`${where}: 'preset' must be one of ${Object.keys(PRESETS).join(', ')}, got ${JSON.stringify(m.preset)}`);
  }
  positiveInt(m.maxBatch, `${where}: 'maxBatch'`, 4096);
  if (!(typeof m.maxWaitMs === 'number' && m.maxWaitMs >= 0 && m.maxWaitMs <= 10_000)) {
    throw new ParameterError(`${where}: 'maxWaitMs' must be a number from 0 to 10000, got ${JSON.stringify(m.maxWaitMs)}`);
  }
  positiveInt(m.maxQueue, `${where}: 'maxQueue'`);
  positiveInt(m.deadlineMs, `${where}: 'deadlineMs'`);
  positiveInt(m.maxPixels, `${where}: 'maxPixels'`);
  positiveInt(m.topK, `${where}: 'topK'`, 1000);
  if (!FAIL_ON.includes(m.failOn)) throw new ParameterError(`${where}: 'failOn' must be one of ${FAIL_ON.join(', ')}, got ${JSON.stringify(m.failOn)}`);
  const model = m.model === BUILTIN_MODEL ? BUILTIN_MODEL : resolve(baseDir, m.model);
  const labels = m.labels === undefined ? undefined : resolve(baseDir, m.labels);
  if (model === BUILTIN_MODEL && labels !== undefined) throw new ParameterError(`${where}: 'labels' needs an ONNX 'model' (the built-in model brings its own labels)`);
  return { ...m, model, labels };
}

/** The preprocessing options a model config asks for (only the preset: the rest comes from the model). */
export function imageOptionsOf(config: ModelConfig): ImageOptions {
  return config.preset === undefined ? {} : { preset: config.preset };
}

function unknownKeys(object: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw new ParameterError(`${where}: unknown key '${key}' (the keys are ${known.join(', ')})`);
  }
}

function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function positiveInt(value: unknown, what: string, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
    throw new ParameterError(`${what} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`);
  }
}
