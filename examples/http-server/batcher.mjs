// Dynamic batching: requests that arrive close together share one forward pass. A batch leaves
// when it is full (maxBatch) or when its oldest request has waited maxWaitMs, whichever is first.
// One forward runs at a time: the model already uses every core, and requests that arrive during
// a forward gather into the next batch instead of competing with it.

export class DynamicBatcher {
  /**
   * @param {(items: unknown[]) => Promise<unknown[]>} runBatch  one result per item, same order
   * @param {{ maxBatch?: number, maxWaitMs?: number }} options  defaults: 32 images, 2 ms
   */
  constructor(runBatch, { maxBatch = 32, maxWaitMs = 2 } = {}) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    if (!(maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be >= 0, got ${maxWaitMs}`);
    this.runBatch = runBatch;
    this.maxBatch = maxBatch;
    this.maxWaitMs = maxWaitMs;
    this.queue = [];
    this.timer = undefined;
    this.running = false;
    /** Sizes of the batches run so far (for tests and the benchmark). */
    this.batchSizes = [];
  }

  /** Resolves with this item's result once its batch has run. */
  submit(item) {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject, since: performance.now() });
      this.schedule();
    });
  }

  schedule() {
    if (this.running || this.queue.length === 0) return;
    // Requests that queued during the previous forward may already have waited long enough.
    const waitLeft = this.queue[0].since + this.maxWaitMs - performance.now();
    if (this.queue.length >= this.maxBatch || waitLeft <= 0) {
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

  async flush() {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.queue.splice(0, this.maxBatch);
    this.batchSizes.push(batch.length);
    try {
      const results = await this.runBatch(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve({ result: results[i], batchSize: batch.length }));
    } catch (error) {
      batch.forEach((b) => b.reject(error));
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}
