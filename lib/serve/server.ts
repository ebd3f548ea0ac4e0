/**
 * `createServer()`: the fastify app behind `convnode serve`. It listens at once (liveness is
 * true from the start), loads and warms every model in the background (readiness turns true
 * when all are warm), and drains on request: readiness false, new requests 503, requests in
 * flight finish, then the listener closes.
 */
import http from 'node:http';
import fastifyMultipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { getBackend } from '../backends/index.js';
import { getIsa } from '../backends/native.js';
import { getNumThreads, setNumThreads } from '../backends/threads.js';
import { ParameterError } from '../errors.js';
import { readFileSync } from 'node:fs';
import { resolveServeConfig, type ServeConfig, type ServeConfigInput } from './config.js';
import type { ServeContext } from './context.js';
import { ServeError } from './errors.js';
import { installErrorHandling } from './http-errors.js';
import { createMetrics } from './metrics.js';
import { registerClassifyRoute } from './routes-classify.js';
import { registerV2Routes } from './routes-v2.js';
import { ServedModel } from './served-model.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request arrived; deadlines count from here. */
    startedAt: number;
  }
}

export interface CreateServerOptions extends ServeConfigInput {
  /** fastify's `logger` (pino options, or false). Default false; the CLI logs JSON lines at info. */
  readonly logger?: FastifyServerOptions['logger'];
}

export interface ConvnodeServer {
  readonly app: FastifyInstance;
  readonly config: ServeConfig;
  /** The models by name, loading or ready. */
  readonly models: ReadonlyMap<string, ServedModel>;
  /** Settles when every model is loaded and warm (readiness true), or rejects with the first load error. */
  readonly loaded: Promise<void>;
  /** Starts listening; resolves to the address, e.g. http://127.0.0.1:8080. */
  listen(port: number, host?: string): Promise<string>;
  /**
   * Readiness false and new requests 503 at once; waits for requests in flight (at most the
   * config's drainTimeoutMs), then closes. Resolves true when every request in flight was
   * answered, false when the timeout cut some off.
   */
  drain(): Promise<boolean>;
  /** Requests received and not yet answered. */
  readonly inFlight: number;
}

function packageVersion(): string {
  // dist/serve/*.js and lib/serve/*.ts are both two levels below the package root.
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Builds the server and starts loading its models; see ConvnodeServer. */
export async function createServer(options: CreateServerOptions = {}): Promise<ConvnodeServer> {
  const { logger = false, ...input } = options;
  const config = resolveServeConfig(input);
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new ParameterError(`headersTimeoutMs (${config.headersTimeoutMs}) must not exceed requestTimeoutMs (${config.requestTimeoutMs})`);
  }
  // The native pool or the wasm backend's workers (one per core at most); the JS backend has one thread.
  if (config.threads !== undefined && getBackend() !== 'js') setNumThreads(config.threads);
  const native = getBackend() === 'native';

  const models = new Map<string, ServedModel>();
  const context: ServeContext = {
    config,
    models,
    version: packageVersion(),
    draining: false,
    metrics: createMetrics(
      { version: packageVersion(), backend: getBackend(), isa: native ? getIsa() : 'none', threads: getBackend() !== 'js' ? getNumThreads() : 1 },
      () => [...models.values()].map((m) => [m.name, m.batcher.queueDepth] as [string, number]),
    ),
  };

  const app = Fastify({
    logger,
    bodyLimit: config.bodyLimit,
    // One line per request would dominate the log under load; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // node:http enforces the header and whole-request timeouts; it checks them every
    // connectionsCheckingInterval (30 s by default, too coarse to stop a stalled client).
    serverFactory: (handler) =>
      http.createServer(
        {
          headersTimeout: config.headersTimeoutMs,
          requestTimeout: config.requestTimeoutMs,
          keepAliveTimeout: config.keepAliveTimeoutMs,
          connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
        },
        handler,
      ),
    ajv: { customOptions: { coerceTypes: true, allErrors: false } },
  });
  app.server.keepAliveTimeout = config.keepAliveTimeoutMs;
  app.decorateRequest('startedAt', 0);

  let inFlight = 0;
  app.addHook('onRequest', async (request, reply) => {
    request.startedAt = performance.now();
    inFlight++;
    // 'close' fires once per response whether it was sent or its connection died first (a
    // client gone mid-request fires neither fastify's onResponse nor, once its body was read,
    // onRequestAbort); counting here keeps inFlight exact for the drain.
    reply.raw.once('close', () => {
      inFlight--;
      const route = request.routeOptions.url ?? 'unmatched';
      const status = reply.raw.writableFinished ? String(reply.statusCode) : 'aborted';
      context.metrics.requests.inc({ route, method: request.method, status });
      context.metrics.latency.observe({ route, method: request.method }, (performance.now() - request.startedAt) / 1000);
    });
    if (context.draining && !request.url.startsWith('/v2/health') && request.url !== '/metrics') {
      throw new ServeError(503, 'SHUTTING_DOWN', 'the server is shutting down; retry on another replica', { connection: 'close' });
    }
  });

  // Images as raw bodies; fastify's own JSON parser stays, its text/plain one goes (nothing takes text).
  app.removeContentTypeParser('text/plain');
  const rawBody = (_request: unknown, body: string | Buffer, done: (error: null, body: Buffer) => void) => done(null, body as Buffer);
  app.addContentTypeParser(/^image\/[\w.+-]+$/i, { parseAs: 'buffer' }, rawBody);
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, rawBody);
  await app.register(fastifyMultipart, {
    limits: { fileSize: config.bodyLimit, files: 4096, fields: 64, fieldSize: 64 * 1024, parts: 4096 + 64 },
    throwFileSizeLimit: true,
  });
  installErrorHandling(app);

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', context.metrics.registry.contentType);
    return context.metrics.registry.metrics();
  });
  registerV2Routes(app, context);
  registerClassifyRoute(app, context);

  const loaded = (async () => {
    // One at a time: loading packs weights on every core, and the first model is ready sooner.
    for (const modelConfig of config.models) {
      const model = await ServedModel.load(modelConfig);
      model.batcher.onBatch = (rows, ms) => {
        context.metrics.batchSize.observe({ model: model.name }, rows);
        context.metrics.inferenceSeconds.observe({ model: model.name }, ms / 1000);
      };
      models.set(model.name, model);
      await model.warmUp();
      app.log.info({ model: model.name, input: model.inputs[0].shape }, 'model ready');
    }
  })();
  loaded.catch(() => {}); // the caller sees the error through `loaded`; never an unhandled rejection

  let draining: Promise<boolean> | undefined;
  const drain = () =>
    (draining ??= (async () => {
      context.draining = true;
      const until = performance.now() + config.drainTimeoutMs;
      while (inFlight > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
      const clean = inFlight === 0;
      if (!clean) app.server.closeAllConnections();
      await app.close();
      return clean;
    })());

  return {
    app,
    config,
    models,
    loaded,
    drain,
    get inFlight() {
      return inFlight;
    },
    async listen(port: number, host = '127.0.0.1') {
      return app.listen({ port, host });
    },
  };
}
