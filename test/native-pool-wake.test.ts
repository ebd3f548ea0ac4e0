/**
 * The thread pool's wake policies (native/runtime/thread_pool.h), each in a fresh process since
 * the addon reads CONVNODE_POOL_WAKE / CONVNODE_SPIN_US once at load: a zoo miniature run
 * asynchronously at 2 and 8 threads gives bit for bit the outputs of a 1-thread runSync whatever
 * the policy, and the pool's counters show the policy at work: each async run is a run of the
 * pool (napi/async_job.cc), whose workers poll under 'run', never under 'sleep' or a fixed spin.
 * The job trace (tracePoolJobs / poolJobs, bench/pool-jobs.mjs) records a split run's jobs.
 * Timing is not tested here (bench/pool-jobs.mjs measures it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadNativeBackend } from '../lib/backends/native.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = path.join(ROOT, 'test', 'fixtures', 'zoo', 'mobilenet_v3_small_mini.onnx');
const nativeLoaded = !(loadNativeBackend() instanceof Error);
if (!nativeLoaded && process.env.CONVNODE_REQUIRE_NATIVE === '1') throw loadNativeBackend() as Error;

const CHILD = `
  const addon = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'node-gyp-build'))})(${JSON.stringify(ROOT)});
  (async () => {
    const { loadOnnx } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'onnx', 'index.js'))});
    const { Tensor } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'tensor.js'))});
    const native = await import(${JSON.stringify(path.join(ROOT, 'dist', 'backends', 'native.js'))});
    const model = await loadOnnx(${JSON.stringify(MODEL)}, { backend: 'native' });
    // The miniature's jobs are a few microseconds: the grain rule would keep them all on the
    // caller (always, on a loaded machine, where runs do not poll). Threshold 0: they split.
    addon.setPoolMinSplitUs(0);
    const shape = [2, ...model.inputShapes[0].slice(1)];
    const data = new Float32Array(shape.reduce((a, b) => a * b)).map((_, i) => Math.sin(i * 0.37));
    const feeds = { [model.inputNames[0]]: new Tensor(shape, data) };
    const name = model.outputNames[0];
    native.setNumThreads(1);
    const want = Array.from(model.runSync(feeds)[name].data);
    const result = { same: true, policy: '', polled: 0, traced: 0, tracedSplit: 0 };
    for (const threads of [2, 8]) {
      native.setNumThreads(threads);
      const before = addon.poolWaitCounters();
      if (threads === 2) addon.tracePoolJobs(true);
      for (let i = 0; i < 4; i++) {
        const got = Array.from((await model.run(feeds))[name].data);
        if (got.some((v, k) => !Object.is(v, want[k]))) result.same = false;
      }
      if (threads === 2) {
        addon.tracePoolJobs(false);
        const jobs = addon.poolJobs();
        result.traced = jobs.length / 13;
        for (let j = 0; j < jobs.length; j += 13) if (jobs[j + 1] >= 2 && jobs[j + 2] === 2) result.tracedSplit++;
      }
      const after = addon.poolWaitCounters();
      result.policy = after.policy;
      result.polled += after.runsPolled - before.runsPolled;
    }
    console.log(JSON.stringify(result));
  })().catch((e) => { console.error(e); process.exit(1); });
`;

function runChild(env: Record<string, string>) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('CONVNODE_SPIN_US' in env)) delete childEnv.CONVNODE_SPIN_US;
  if (!('CONVNODE_POOL_WAKE' in env)) delete childEnv.CONVNODE_POOL_WAKE;
  const out = execFileSync(process.execPath, ['-e', CHILD], { encoding: 'utf8', env: childEnv });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as { same: boolean; policy: string; polled: number; traced: number; tracedSplit: number };
}

describe.skipIf(!nativeLoaded)('the pool wake policies', () => {
  it('needs the compiled dist/ (npm test builds it)', () => {
    expect(existsSync(path.join(ROOT, 'dist', 'onnx', 'index.js'))).toBe(true);
  });

  it("'run': every async run polls, outputs equal a 1-thread runSync's at 2 and 8 threads", () => {
    const r = runChild({ CONVNODE_POOL_WAKE: 'run' });
    expect(r.policy).toBe('run');
    expect(r.same).toBe(true);
    expect(r.polled).toBeGreaterThanOrEqual(8);
  });

  it("'sleep' and a fixed CONVNODE_SPIN_US never poll per run; outputs are the same", () => {
    const sleep = runChild({ CONVNODE_POOL_WAKE: 'sleep' });
    expect(sleep.policy).toBe('sleep');
    expect(sleep.same).toBe(true);
    expect(sleep.polled).toBe(0);
    const spin = runChild({ CONVNODE_SPIN_US: '50' });
    expect(spin.policy).toBe('fixed-spin');
    expect(spin.same).toBe(true);
    expect(spin.polled).toBe(0);
  });

  it("'adaptive' (the default) gives the same outputs and traces each run's split jobs", () => {
    const r = runChild({});
    expect(r.policy).toBe('adaptive');
    expect(r.same).toBe(true);
    // Each run of the miniature posts jobs; at 2 threads some are split (two or more tasks).
    expect(r.traced).toBeGreaterThan(4);
    expect(r.tracedSplit).toBeGreaterThan(0);
  });
});
