/**
 * `convnode serve`: the inference server (lib/serve) on a port. Models come from a JSON config
 * file, or one model from flags (default: the built-in LeNet-5 as 'lenet5'). Logs are pino JSON
 * lines on stdout. It runs until SIGTERM / SIGINT, then drains and exits 0 (1 when the drain
 * timeout cut requests off, or a model failed to load).
 */
import { basename } from 'node:path';
import { ParameterError } from '../../errors.js';
import { PRESETS, type PresetName } from '../../image/options.js';
import { positiveInt } from '../args.js';
import { UsageError, type Command, type ParsedArgs } from '../command.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const FAIL_ON = ['none', 'truncated', 'error', 'warning'];

/** Flags that describe the one model served without --config. */
const MODEL_FLAGS = ['model', 'name', 'labels', 'preset', 'max-batch', 'max-wait-ms', 'max-queue', 'deadline-ms', 'max-pixels', 'fail-on', 'top'];

function modelFromFlags(values: ParsedArgs['values']) {
  const model = values.model === undefined ? undefined : String(values.model);
  const name = values.name === undefined ? (model ? basename(model).replace(/\.onnx$/i, '') : 'lenet5') : String(values.name);
  if (values.preset !== undefined && !Object.hasOwn(PRESETS, String(values.preset))) {
    throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got '${String(values.preset)}'`);
  }
  if (values['fail-on'] !== undefined && !FAIL_ON.includes(String(values['fail-on']))) {
    throw new UsageError(`--fail-on must be one of ${FAIL_ON.join(', ')}, got '${String(values['fail-on'])}'`);
  }
  const waitText = values['max-wait-ms'];
  const maxWaitMs = waitText === undefined ? undefined : Number(waitText);
  if (maxWaitMs !== undefined && !(/^\d+(\.\d+)?$/.test(String(waitText)) && maxWaitMs <= 10_000)) {
    throw new UsageError(`--max-wait-ms must be a number from 0 to 10000, got '${String(waitText)}'`);
  }
  return {
    name,
    model,
    labels: values.labels === undefined ? undefined : String(values.labels),
    preset: values.preset as PresetName | undefined,
    maxBatch: positiveInt('max-batch', values['max-batch'], 4096),
    maxWaitMs,
    maxQueue: positiveInt('max-queue', values['max-queue']),
    deadlineMs: positiveInt('deadline-ms', values['deadline-ms']),
    maxPixels: positiveInt('max-pixels', values['max-pixels']),
    failOn: values['fail-on'] as 'none' | 'truncated' | 'error' | 'warning' | undefined,
    topK: positiveInt('top', values.top, 1000),
  };
}

async function run({ values }: ParsedArgs): Promise<number> {
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!/^\d+$/.test(String(values.port ?? '8080')) || port > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, got '${String(values.port)}'`);
  const level = String(values['log-level'] ?? 'info');
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${level}'`);
  const server = {
    threads: positiveInt('threads', values.threads, 256),
    bodyLimit: positiveInt('body-limit', values['body-limit']),
    headersTimeoutMs: positiveInt('headers-timeout-ms', values['headers-timeout-ms']),
    requestTimeoutMs: positiveInt('request-timeout-ms', values['request-timeout-ms']),
    keepAliveTimeoutMs: positiveInt('keep-alive-timeout-ms', values['keep-alive-timeout-ms']),
    drainTimeoutMs: positiveInt('drain-timeout-ms', values['drain-timeout-ms']),
  };
  const { createServer, installSignalDrain, readServeConfig } = await import('../../serve/index.js');
  let config;
  if (values.config !== undefined) {
    const clash = MODEL_FLAGS.find((f) => values[f] !== undefined);
    if (clash) throw new UsageError(`--${clash} describes a model; with --config, set it in the config file`);
    config = readServeConfig(String(values.config));
  } else {
    config = { models: [modelFromFlags(values)] };
  }
  const defined = Object.fromEntries(Object.entries(server).filter(([, v]) => v !== undefined));
  let instance;
  try {
    instance = await createServer({ ...config, ...defined, logger: { level } });
  } catch (error) {
    if (error instanceof ParameterError) throw new UsageError(error.message);
    throw error;
  }
  const finished = new Promise<number>((resolve) => installSignalDrain(instance, resolve));
  await instance.listen(port, String(values.host ?? '127.0.0.1'));
  try {
    await instance.loaded;
  } catch (error) {
    instance.app.log.fatal({ err: error }, 'a model failed to load');
    await instance.app.close();
    throw error;
  }
  const code = await finished;
  // The listener is closed; should any handle still keep the event loop alive, exit anyway.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}

export const serve: Command = {
  name: 'serve',
  summary: 'Serve models over HTTP: Open Inference Protocol v2, image classification, metrics, graceful drain.',
  usage: 'serve [options]',
  minPositionals: 0,
  maxPositionals: 0,
  options: {
    config: { type: 'string', short: 'c', value: '<file.json>', help: 'models and settings (see the README); without it, one model from the flags below' },
    model: { type: 'string', short: 'm', value: '<m.onnx>', help: 'ONNX classifier (default: the built-in Fashion-MNIST LeNet-5)' },
    name: { type: 'string', value: '<name>', help: "the model's name in URLs (default: the file name, or lenet5)" },
    labels: { type: 'string', short: 'l', value: '<file>', help: 'labels, one per line, in class order' },
    preset: { type: 'string', value: '<name>', help: 'preprocessing: imagenet, unit, fashion-mnist or grayscale28' },
    'max-batch': { type: 'string', value: '<n>', help: 'most images per forward pass (default 32; 1 turns batching off)' },
    'max-wait-ms': { type: 'string', value: '<ms>', help: 'how long a batch waits for more requests (default 2)' },
    'max-queue': { type: 'string', value: '<n>', help: 'requests waiting before new ones get 503 (default 256)' },
    'deadline-ms': { type: 'string', value: '<ms>', help: 'answer 504 when a request takes longer (default 10000)' },
    'max-pixels': { type: 'string', value: '<n>', help: 'refuse images with more pixels with 413 (default 24000000)' },
    'fail-on': { type: 'string', value: '<level>', help: "decoder problems that refuse an image: none, truncated, error (default), warning" },
    top: { type: 'string', short: 'k', value: '<k>', help: 'labels per image unless ?top= asks for fewer (default 5)' },
    host: { type: 'string', value: '<addr>', help: 'address to listen on (default 127.0.0.1; 0.0.0.0 for all)' },
    port: { type: 'string', short: 'p', value: '<port>', help: 'port (default 8080; 0 picks a free one)' },
    threads: { type: 'string', short: 't', value: '<n>', help: 'native kernel threads, shared by all models (default: one per core)' },
    'body-limit': { type: 'string', value: '<bytes>', help: 'largest request body (default 16777216)' },
    'headers-timeout-ms': { type: 'string', value: '<ms>', help: 'time to send the request headers (default 10000)' },
    'request-timeout-ms': { type: 'string', value: '<ms>', help: 'time to send the whole request (default 30000)' },
    'keep-alive-timeout-ms': { type: 'string', value: '<ms>', help: 'idle keep-alive connections close after (default 5000)' },
    'drain-timeout-ms': { type: 'string', value: '<ms>', help: 'after SIGTERM, time for requests in flight to finish (default 30000)' },
    'log-level': { type: 'string', value: '<level>', help: 'pino level: fatal, error, warn, info (default), debug, trace, silent' },
  },
  examples: [
    'convnode serve --port 8080',
    'convnode serve --model mobilenet.onnx --labels imagenet.txt --preset imagenet --max-batch 16',
    'convnode serve --config models.json --host 0.0.0.0',
  ],
  run,
};
