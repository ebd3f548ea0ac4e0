/**
 * The kernels a loaded model's ops prepare (conv and Gemm / MatMul weights, packed once): kept
 * in one list so OnnxModel.dispose() can release their native memory at once, and, while
 * loadOnnx loads, packed off the JS thread where the backend can (native), so that a large
 * model's packing does not stall the event loop. The ops see an ordinary Backend: this one
 * wraps the model's and only changes how conv and linear kernels are prepared.
 */
import type {
  Backend, ConvKernel, ConvWeights, LinearKernel, LinearWeights, PackingKernel, SqueezeExciteKernel, SqueezeExciteWeights,
} from '../backends/backend.js';
import type { ConstTensor } from './constant.js';

interface Disposable {
  dispose?(): void;
}

export class ModelKernels {
  private readonly kernels: Disposable[] = [];
  /** Packing jobs of the load in progress; null once loaded (later kernels pack inline). */
  private pending: Promise<void>[] | null;
  private disposed = false;
  /** Weight arrays the ops no longer read, freed at settle() (their packing jobs may still read them). */
  private unread: Float32Array[] = [];
  /** Buffers an op still reads (a residual conv's filters): never freed, whoever else gives them up. */
  private readonly kept = new Set<ArrayBufferLike>();
  /** Set by settle(): the model's constants, whose arrays stay; from then on unread arrays go at once. */
  private constants: ReadonlyMap<string, ConstTensor> | null = null;
  private backend: Backend | null = null;
  /** Bytes of weight copies freed so far (tests and bench/memory.mjs read it). */
  freedBytes = 0;

  /** offThread: collect packing jobs until `loaded()` (async loads); else pack inline. */
  constructor(offThread: boolean) {
    this.pending = offThread ? [] : null;
  }

  /** The backend the ops are built on: `backend` itself for everything but conv / linear preparation. */
  wrap(backend: Backend): Backend {
    this.backend = backend;
    const prepareConv2d = (weights: ConvWeights): ConvKernel =>
      this.keep(backend.prepareConv2dOffThread && this.pending ? backend.prepareConv2dOffThread(weights) : inline(backend.prepareConv2d(weights)));
    const prepareLinear = (weights: LinearWeights): LinearKernel =>
      this.keep(backend.prepareLinearOffThread && this.pending ? backend.prepareLinearOffThread(weights) : inline(backend.prepareLinear(weights)));
    // A squeeze-and-excitation block's gate weights are small: packed inline, released with the model.
    const prepareSqueezeExcite = backend.prepareSqueezeExcite
      ? (weights: SqueezeExciteWeights): SqueezeExciteKernel => this.keep(inline(backend.prepareSqueezeExcite!(weights)))
      : undefined;
    // Defined, not assigned: a frozen backend's methods are read-only on the prototype.
    return Object.create(backend, {
      prepareConv2d: { value: prepareConv2d },
      prepareLinear: { value: prepareLinear },
      ...(prepareSqueezeExcite ? { prepareSqueezeExcite: { value: prepareSqueezeExcite } } : {}),
    }) as Backend;
  }

  /**
   * Waits for every packing job the load started, then packs inline from now on. On a failure
   * every kernel is released and the first error (typed by the backend) is thrown.
   */
  async loaded(): Promise<void> {
    const pending = this.pending ?? [];
    this.pending = null;
    const outcomes = await Promise.allSettled(pending);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      this.dispose();
      throw failed.reason;
    }
  }

  /**
   * An op's word that it will not read these arrays again (it passed them to a kernel, which
   * packed its own copy). On a backend that packs copies they are freed at once after settle(),
   * unless the model keeps them as constants (another node reads the same initializer); on the
   * JS backend, whose kernels read the arrays themselves, nothing is freed.
   */
  unreadWeights(...arrays: ReadonlyArray<Float32Array | null | undefined>): void {
    for (const array of arrays) if (array) this.unread.push(array);
    if (this.constants) this.freeUnread();
  }

  /** An op's word that it reads these arrays again: they are never freed. */
  keepsWeights(...arrays: ReadonlyArray<Float32Array | null | undefined>): void {
    for (const array of arrays) if (array) this.kept.add(array.buffer);
  }

  /**
   * Called once the load's packing jobs are done (after loaded(), or at the end of a sync load):
   * frees what the ops gave up, and whatever they give up later.
   */
  settle(constants: ReadonlyMap<string, ConstTensor>): void {
    this.constants = constants;
    this.freeUnread();
  }

  private freeUnread(): void {
    const free = this.backend?.freeArray;
    const arrays = this.unread.splice(0);
    if (!free || !this.constants) return;
    const kept = new Set<ArrayBufferLike>(this.kept);
    for (const c of this.constants.values()) if (c.data instanceof Float32Array) kept.add(c.data.buffer);
    for (const array of arrays) {
      const bytes = array.byteLength;
      if (!kept.has(array.buffer) && free.call(this.backend, array)) this.freedBytes += bytes;
    }
  }

  /** Releases every kernel's packed weights (runs in flight finish first). Idempotent. */
  dispose(): void {
    this.disposed = true;
    for (const kernel of this.kernels.splice(0)) kernel.dispose?.();
  }

  private keep<K extends Disposable>(packing: PackingKernel<K>): K {
    // A kernel prepared after dispose (a plan made by a call already past its check) goes at once.
    if (this.disposed) packing.kernel.dispose?.();
    else this.kernels.push(packing.kernel);
    if (this.pending) this.pending.push(packing.ready);
    // Observed now, so that a failure before loaded() awaits it is not an unhandled rejection.
    packing.ready.catch(() => {});
    return packing.kernel;
  }
}

function inline<K>(kernel: K): PackingKernel<K> {
  return { kernel, ready: Promise.resolve() };
}
