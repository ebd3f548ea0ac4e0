/**
 * Dynamic batching: requests that arrive close together share one forward pass. A batch leaves
 * when it holds `maxBatch` rows (images) or when its oldest request has waited `maxWaitMs`,
 * whichever is first. One forward runs at a time per model: the model already uses every core,
 * and requests that arrive during a forward gather into the next batch instead of competing
 * with it. The queue is bounded, so an overloaded server refuses work at once instead of
 * answering everyone late; and a request that gives up (its deadline passed) leaves the queue.
 */
import { ParameterError } from '../errors.js';

/** One request's share of a batch: `rows` images (the batch dimension of its tensor). */
export interface BatchItem {
  readonly rows: number;
}

export interface BatcherOptions {
  /** Most rows (images) in one forward pass. */
  readonly maxBatch: number;
  /** How long the oldest waiting request may wait for others to join it, in ms. */
  readonly maxWaitMs: number;
  /** Most requests waiting (not yet running); one more is refused with QueueFullError. */
  readonly maxQueue: number;
}

/** Thrown by submit() when the queue holds maxQueue requests. */
export class QueueFullError extends Error {
  constructor(readonly maxQueue: number) {
    super(`the queue is full (${maxQueue} requests waiting)`);
    this.name = 'QueueFullError';
  }
}

export interface BatchResult<R> {
  readonly result: R;
  /** Rows in the forward pass this request shared. */
  readonly batchSize: number;
}

interface Waiting<I, R> {
  readonly item: I;
  readonly since: number;
  readonly resolve: (value: BatchResult<R>) => void;
  readonly reject: (reason: unknown) => void;
}

export class DynamicBatcher<I extends BatchItem, R> {
  private readonly queue: Waiting<I, R>[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Called after every forward with its size in rows and its time in ms (metrics). */
  onBatch: ((rows: number, ms: number) => void) | undefined;

  constructor(
    private readonly runBatch: (items: readonly I[]) => Promise<readonly R[]>,
    readonly options: BatcherOptions,
  ) {
    const { maxBatch, maxWaitMs, maxQueue } = options;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new ParameterError(`maxBatch must be a positive integer, got ${maxBatch}`);
    if (!(typeof maxWaitMs === 'number' && maxWaitMs >= 0 && Number.isFinite(maxWaitMs))) {
      throw new ParameterError(`maxWaitMs must be a finite number >= 0, got ${maxWaitMs}`);
    }
    if (!Number.isInteger(maxQueue) || maxQueue < 1) throw new ParameterError(`maxQueue must be a positive integer, got ${maxQueue}`);
  }

  /** Requests waiting for a forward pass (not counting the one running). */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** True when nothing is queued or running. */
  get idle(): boolean {
    return !this.running && this.queue.length === 0;
  }

  /**
   * Resolves with this item's result once its batch has run. Rejects at once with QueueFullError
   * when the queue is full, with ParameterError when the item alone exceeds maxBatch, and with
   * the signal's reason when `signal` aborts before the result is in.
   */
  submit(item: I, signal?: AbortSignal): Promise<BatchResult<R>> {
    if (!Number.isInteger(item.rows) || item.rows < 1 || item.rows > this.options.maxBatch) {
      return Promise.reject(new ParameterError(`a request may hold 1 to ${this.options.maxBatch} images (the model's max batch), got ${item.rows}`));
    }
    if (this.queue.length >= this.options.maxQueue) return Promise.reject(new QueueFullError(this.options.maxQueue));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        // Still queued: leave the queue, so an abandoned request never takes a batch slot. Already
        // running: the answer is dropped; a forward pass cannot be stopped half way.
        const at = this.queue.indexOf(waiting);
        if (at !== -1) {
          this.queue.splice(at, 1);
          this.queuedRows -= item.rows;
        }
        waiting.reject(signal!.reason);
      };
      let settled = false;
      const once =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          fn(value);
        };
      const waiting: Waiting<I, R> = { item, since: performance.now(), resolve: once(resolve), reject: once(reject) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiting);
      this.queuedRows += item.rows;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    // Requests that queued during the previous forward may already have waited long enough.
    const waitLeft = this.queue[0].since + this.options.maxWaitMs - performance.now();
    if (this.queuedRows >= this.options.maxBatch || waitLeft <= 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, waitLeft);
    }
  }

  /** Takes requests from the head of the queue while their rows fit in one batch. */
  private take(): Waiting<I, R>[] {
    const batch: Waiting<I, R>[] = [];
    let rows = 0;
    while (this.queue.length > 0 && rows + this.queue[0].item.rows <= this.options.maxBatch) {
      const next = this.queue.shift()!;
      rows += next.item.rows;
      batch.push(next);
    }
    this.queuedRows -= rows;
    return batch;
  }

  private async flush(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.take();
    const rows = batch.reduce((sum, b) => sum + b.item.rows, 0);
    const began = performance.now();
    try {
      const results = await this.runBatch(batch.map((b) => b.item));
      this.onBatch?.(rows, performance.now() - began);
      batch.forEach((b, i) => b.resolve({ result: results[i], batchSize: rows }));
    } catch (error) {
      batch.forEach((b) => b.reject(error));
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}
