/**
 * Prometheus metrics with prom-client, in a registry of the server's own (two servers in one
 * process, as in the tests, do not share counters). Routes are labelled by their template
 * ('/v2/models/:name/infer'), never by the raw URL, so a client cannot grow the label set.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Request latencies from 1 ms to 10 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export interface ServeMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly latency: Histogram<'route' | 'method'>;
  readonly batchSize: Histogram<'model'>;
  readonly inferenceSeconds: Histogram<'model'>;
  readonly queueDepth: Gauge<'model'>;
}

export interface RuntimeInfo {
  readonly version: string;
  readonly backend: string;
  readonly isa: string;
  readonly threads: number;
}

export function createMetrics(info: RuntimeInfo, queueDepthOf: () => Iterable<[string, number]>): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'convnode_' });
  const gauge = new Gauge({
    name: 'convnode_info',
    help: 'Always 1; the labels say what runs the models: convnode version, backend, native ISA, thread pool size',
    labelNames: ['version', 'backend', 'isa', 'threads'],
    registers: [registry],
  });
  gauge.set({ version: info.version, backend: info.backend, isa: info.isa, threads: String(info.threads) }, 1);
  return {
    registry,
    requests: new Counter({
      name: 'convnode_http_requests_total',
      help: 'HTTP requests answered, by route template, method and status code',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'convnode_http_request_duration_seconds',
      help: 'Time from a request arriving to its answer being sent, by route template',
      labelNames: ['route', 'method'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'convnode_batch_size',
      help: 'Images per forward pass, by model',
      labelNames: ['model'],
      buckets: BATCH_BUCKETS,
      registers: [registry],
    }),
    inferenceSeconds: new Histogram({
      name: 'convnode_inference_duration_seconds',
      help: 'Time of one forward pass (a whole batch), by model',
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'convnode_queue_depth',
      help: 'Requests waiting for a forward pass, by model',
      labelNames: ['model'],
      registers: [registry],
      collect() {
        for (const [model, depth] of queueDepthOf()) this.set({ model }, depth);
      },
    }),
  };
}
