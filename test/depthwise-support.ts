/**
 * The depthwise row-form tests' shared harness (native-dw-shifted, native-dw-stride2): one seeded
 * depthwise conv case run on a backend, and a suite that runs every case on every ISA this CPU
 * has at 1, 2 and 8 threads against the pure-JS path. Every output starts as NaN, so a row or
 * column a kernel skips fails.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Activation } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { availableIsas, getIsa, getNumThreads, loadNativeBackend, setIsa, setNumThreads, type IsaName } from '../lib/backends/native.js';
import { planConv, type PaddingSpec } from '../lib/planner/geometry.js';
import { expectCloseToScale, randomFloats, seededRandom } from './helpers/numeric.js';

export interface DepthwiseCase {
  name: string;
  batch: number;
  channels: number;
  size: [number, number];
  kernel: number;
  stride: number;
  padding: PaddingSpec;
  activation: Activation;
  residual: boolean;
}

export function runDepthwiseCase(c: DepthwiseCase, backend: typeof jsBackend): Float32Array {
  const random = seededRandom(c.channels * 131 + c.size[1] * 7 + c.size[0] * 3 + c.kernel);
  const spec = {
    inChannels: c.channels, outChannels: c.channels, groups: c.channels, kernel: [c.kernel, c.kernel] as [number, number],
    stride: [c.stride, c.stride] as [number, number], dilation: [1, 1] as [number, number], padding: c.padding,
  };
  const g = planConv(c.name, [c.batch, c.channels, c.size[0], c.size[1]], spec);
  const input = randomFloats(c.batch * c.channels * c.size[0] * c.size[1], random);
  const weight = randomFloats(c.channels * c.kernel * c.kernel, random);
  const bias = randomFloats(c.channels, random);
  const outLength = c.batch * c.channels * g.outH * g.outW;
  const residual = c.residual ? Float32Array.from({ length: outLength }, (_, i) => ((i * 7919) % 1000) / 500 - 1) : null;
  const kernel = backend.prepareConv2d({
    inChannels: c.channels, outChannels: c.channels, groups: c.channels, kernelH: c.kernel, kernelW: c.kernel,
    weight, bias, activation: c.activation, stride: spec.stride, dilation: spec.dilation, padding: c.padding,
  });
  const out = new Float32Array(outLength).fill(Number.NaN);
  kernel.runSync(input, g, out, residual);
  return out;
}

// Each case on every ISA and at 1, 2 and 8 threads (planes cut into row bands) against jsBackend.
export function describeDepthwiseAgainstJs(title: string, cases: DepthwiseCase[]): void {
  const loaded = loadNativeBackend();
  const isas: IsaName[] = loaded instanceof Error ? [] : availableIsas();
  describe.skipIf(loaded instanceof Error)(title, () => {
    let before: IsaName | undefined;
    let threadsBefore = 1;
    beforeAll(() => {
      before = getIsa();
      threadsBefore = getNumThreads();
    });
    afterAll(() => {
      if (before) setIsa(before);
      setNumThreads(threadsBefore);
    });
    for (const isa of isas) {
      it.each(cases)(`${isa}: $name`, (c) => {
        setIsa(isa);
        const want = runDepthwiseCase(c, jsBackend);
        for (const threads of [1, 2, 8]) {
          setNumThreads(threads);
          const got = runDepthwiseCase(c, loaded as typeof jsBackend);
          expectCloseToScale(got, want, `${isa}, ${threads} threads: ${c.name}`);
        }
      });
    }
  });
}
