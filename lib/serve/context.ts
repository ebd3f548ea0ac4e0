/** What the routes share: the models, the config, the metrics and whether the server is draining. */
import { ServeError } from './errors.js';
import type { ServeConfig } from './config.js';
import type { ServeMetrics } from './metrics.js';
import type { ServedModel } from './served-model.js';

export interface ServeContext {
  readonly config: ServeConfig;
  readonly models: ReadonlyMap<string, ServedModel>;
  readonly metrics: ServeMetrics;
  readonly version: string;
  /** True from SIGTERM / drain() on: readiness is false and new requests get 503. */
  draining: boolean;
}

/**
 * Readiness: not draining, and every configured model loaded and warm. (Checking only the models
 * loaded so far said "ready" before the first one had loaded: every() of nothing is true.)
 */
export function allModelsReady(context: Pick<ServeContext, 'config' | 'models' | 'draining'>): boolean {
  return !context.draining && context.config.models.every((m) => context.models.get(m.name)?.ready === true);
}

/** The model a URL names, ready to serve; 404 when no model has that name, 503 while it warms up. */
export function modelFor(context: ServeContext, name: string, mustBeReady = true): ServedModel {
  const model = context.models.get(name);
  if (model === undefined && context.config.models.some((m) => m.name === name)) {
    throw new ServeError(503, 'MODEL_NOT_READY', `model '${name}' is still loading`, { 'retry-after': '1' });
  }
  if (model === undefined) {
    const known = [...context.models.keys()].join(', ');
    const shown = /^[A-Za-z0-9._-]{1,64}$/.test(name) ? `'${name}'` : 'with that name';
    throw new ServeError(404, 'MODEL_NOT_FOUND', `no model ${shown}; this server has: ${known}`);
  }
  if (mustBeReady && !model.ready) throw new ServeError(503, 'MODEL_NOT_READY', `model '${model.name}' is still loading`, { 'retry-after': '1' });
  return model;
}

/** Resolves `work`, or rejects with a 504 when the request's deadline passes first. */
export function beforeDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** An AbortSignal that fires with a 504 ServeError `deadlineMs` after `since` (performance.now() ms). */
export function deadlineSignal(since: number, deadlineMs: number): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const left = Math.max(0, since + deadlineMs - performance.now());
  const timer = setTimeout(
    () => controller.abort(new ServeError(504, 'DEADLINE_EXCEEDED', `the request was not answered within its deadline of ${deadlineMs} ms`)),
    left,
  );
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
