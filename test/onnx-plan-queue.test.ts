/**
 * ExecutionPlan's queueing of single-call steps, with stand-in ops: a failure of a queued step
 * rejects the run, a step that is not a single call waits for the queued ones before it starts,
 * the run returns only after every queued call settled, and nothing is queued ahead on a backend
 * that does not order calls.
 */
import { describe, expect, it } from 'vitest';
import { ExecutionPlan } from '../lib/onnx/plan.js';
import type { CompiledOp, Execution } from '../lib/onnx/ops/types.js';

function op(name: string, input: string, output: string, execution: Execution): CompiledOp {
  return {
    name, type: 'Fake', inputs: [input], outputs: [output], params: 0,
    plan: (inputs) => ({ outputs: [{ shape: inputs[0]!.shape, field: null }], multiplyAdds: 0, execution }),
  };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('ExecutionPlan queueing', () => {
  it('rejects the run with a queued step\'s failure; the next (unqueued) step waits and does not run', async () => {
    const events: string[] = [];
    const failing = op('fail', 'x', 'y', {
      runSync: () => { throw new Error('sync path not expected'); },
      run: async () => { events.push('fail'); throw new Error('kernel failed'); },
      queuesOneCall: true,
    });
    const slow = op('slow', 'x', 'z', {
      runSync: () => { throw new Error('sync path not expected'); },
      run: async () => { await delay(20); events.push('slow done'); },
    });
    const plan = new ExecutionPlan([failing, slow], () => undefined, ['x'], [[1, 4]], ['y', 'z'], 4, true);
    await expect(plan.run([new Float32Array(4)])).rejects.toThrow('kernel failed');
    // The queued step started first; the non-queued one waited for it (barrier) and never ran.
    expect(events).toEqual(['fail']);
  });

  it('queues consecutive single-call steps without awaiting each, and waits for all before returning', async () => {
    const events: string[] = [];
    const queuedOp = (name: string, input: string, output: string, ms: number) =>
      op(name, input, output, {
        runSync: () => { throw new Error('sync path not expected'); },
        run: async () => { events.push(`start ${name}`); await delay(ms); events.push(`end ${name}`); },
        queuesOneCall: true,
      });
    const plan = new ExecutionPlan([queuedOp('a', 'x', 'y', 15), queuedOp('b', 'y', 'z', 5)], () => undefined, ['x'], [[2, 2]], ['z'], 4, true);
    await plan.run([new Float32Array(4)]);
    // b was queued before a finished (the backend, not the plan, orders them); the run returned
    // only after both ended.
    expect(events.slice(0, 2)).toEqual(['start a', 'start b']);
    expect(events).toContain('end a');
    expect(events).toContain('end b');
  });

  it('awaits every step in turn when the backend does not order calls', async () => {
    const events: string[] = [];
    const step = (name: string, input: string, output: string) =>
      op(name, input, output, {
        runSync: () => { throw new Error('sync path not expected'); },
        run: async () => { events.push(`start ${name}`); await delay(5); events.push(`end ${name}`); },
        queuesOneCall: true,
      });
    const plan = new ExecutionPlan([step('a', 'x', 'y'), step('b', 'y', 'z')], () => undefined, ['x'], [[2, 2]], ['z'], 4, false);
    await plan.run([new Float32Array(4)]);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b']);
  });
});
