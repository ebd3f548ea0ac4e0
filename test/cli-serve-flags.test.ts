/**
 * Every flag of `convnode serve`: its accepted forms and the server option it sets, and its bad
 * values with their error. The server itself is replaced here by a recorder that resolves what
 * the command hands createServer with the real resolveServeConfig (so every value must also
 * pass the server's own checks) and returns at once; what each option does to a running server
 * is tested in serve*.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serve } from '../lib/cli/commands/serve.js';
import { runCli } from '../lib/cli/main.js';
import type { ServeConfig } from '../lib/serve/config.js';
import { sink } from './helpers/cli.js';

interface Recorded {
  config: ServeConfig;
  logLevel: unknown;
  listen: [number, string];
}
const recorded: Recorded[] = [];

vi.mock('../lib/serve/index.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../lib/serve/index.js')>();
  return {
    ...actual,
    createServer: async (options: Record<string, unknown> & { logger?: { level?: string } }) => {
      const { logger, ...input } = options;
      const entry = { config: actual.resolveServeConfig(input as never), logLevel: logger?.level } as Recorded;
      recorded.push(entry);
      return {
        listen: async (port: number, host: string) => {
          entry.listen = [port, host];
        },
        loaded: Promise.resolve(),
        app: { log: { fatal() {} }, close: async () => {} },
      };
    },
    // The drain "finishes" at once: the command returns its code instead of waiting for SIGTERM.
    installSignalDrain: (_server: unknown, done: (code: number) => void) => done(0),
  };
});

const dir = mkdtempSync(join(tmpdir(), 'convnode-serve-flags-'));
let exit: ReturnType<typeof vi.spyOn>;
beforeAll(() => {
  // serve exits the process 2 s after draining; here the runner must live on.
  exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
});
afterAll(() => {
  exit.mockRestore();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `convnode serve ...flags` and returns what reached the server. */
async function served(...flags: string[]): Promise<Recorded> {
  const stdout = sink();
  const stderr = sink();
  const before = recorded.length;
  const code = await runCli(['serve', ...flags], { stdout, stderr });
  expect(stderr.text, flags.join(' ')).toBe('');
  expect(code, flags.join(' ')).toBe(0);
  expect(recorded.length).toBe(before + 1);
  return recorded[recorded.length - 1];
}

async function refused(flags: string[], message: RegExp): Promise<void> {
  const stderr = sink();
  const before = recorded.length;
  const code = await runCli(['serve', ...flags], { stdout: sink(), stderr });
  expect(code, flags.join(' ')).toBe(2);
  expect(stderr.text, flags.join(' ')).toMatch(message);
  expect(recorded.length, 'no server was made').toBe(before);
}

const TESTED = new Set<string>();

describe('convnode serve flags', () => {
  it('with no flags: the built-in LeNet-5 as lenet5 on 127.0.0.1:8080, the documented defaults', async () => {
    const { config, listen, logLevel } = await served();
    expect(listen).toEqual([8080, '127.0.0.1']);
    expect(logLevel).toBe('info');
    expect(config.models).toHaveLength(1);
    expect(config.models[0]).toMatchObject({ name: 'lenet5', model: 'builtin:lenet5', maxBatch: 32, maxWaitMs: 2, maxQueue: 256, deadlineMs: 10_000, maxPixels: 24_000_000, failOn: 'error', topK: 5 });
  });

  it('--port / -p and --host: where it listens; ports 0 to 65535', async () => {
    TESTED.add('port').add('host');
    expect((await served('--port', '0')).listen).toEqual([0, '127.0.0.1']);
    expect((await served('-p', '9000', '--host', '0.0.0.0')).listen).toEqual([9000, '0.0.0.0']);
    expect((await served('--port=65535', '--host=::1')).listen).toEqual([65535, '::1']);
    for (const bad of ['65536', 'http', '80.5']) await refused(['--port', bad], new RegExp(`--port must be a whole number from 0 to 65535, got '${bad.replace('.', '\\.')}'`));
    await refused(['--host'], /option '--host' needs a value/);
  });

  it('--log-level: pino\'s level; only its names', async () => {
    TESTED.add('log-level');
    for (const level of ['silent', 'debug', 'fatal']) expect((await served('--log-level', level)).logLevel).toBe(level);
    await refused(['--log-level', 'loud'], /--log-level must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'/);
  });

  it('server-wide numbers: --threads / -t, --body-limit and the four timeouts', async () => {
    const flags: Array<[string, keyof ServeConfig, string?]> = [
      ['threads', 'threads', 't'], ['body-limit', 'bodyLimit'], ['headers-timeout-ms', 'headersTimeoutMs'],
      ['request-timeout-ms', 'requestTimeoutMs'], ['keep-alive-timeout-ms', 'keepAliveTimeoutMs'], ['drain-timeout-ms', 'drainTimeoutMs'],
    ];
    for (const [flag, key, short] of flags) {
      TESTED.add(flag);
      expect((await served(`--${flag}`, '7')).config[key], flag).toBe(7);
      expect((await served(`--${flag}=11`)).config[key], flag).toBe(11);
      if (short) expect((await served(`-${short}`, '3')).config[key]).toBe(3);
      await refused([`--${flag}`, '0'], new RegExp(`--${flag} must be a whole number from 1 to \\d+, got '0'`));
      await refused([`--${flag}`, 'lots'], new RegExp(`--${flag} must be a whole number`));
    }
    await refused(['--threads', '257'], /--threads must be a whole number from 1 to 256, got '257'/);
  });

  it('the one model\'s flags: --model / -m, --name, --labels / -l, --preset, --fail-on, --top / -k', async () => {
    TESTED.add('model').add('name').add('labels').add('preset').add('fail-on').add('top');
    const labels = join(dir, 'labels.txt');
    writeFileSync(labels, Array.from({ length: 10 }, (_, i) => `c${i}`).join('\n'));
    const onnx = join(dir, 'my-net.onnx');
    writeFileSync(onnx, 'not read here');
    const { config } = await served('-m', onnx, '-l', labels, '--preset', 'grayscale28', '--fail-on', 'warning', '-k', '3');
    expect(config.models[0]).toMatchObject({ name: 'my-net', model: onnx, labels, preset: 'grayscale28', failOn: 'warning', topK: 3 });
    expect((await served('--model', onnx, '--name', 'shoes')).config.models[0].name).toBe('shoes');
    expect((await served('--name=fm', '--top=1')).config.models[0]).toMatchObject({ name: 'fm', model: 'builtin:lenet5', topK: 1 });
    await refused(['--preset', 'cifar'], /--preset must be one of imagenet, unit, fashion-mnist, grayscale28, got 'cifar'/);
    await refused(['--fail-on', 'never'], /--fail-on must be one of none, truncated, error, warning, got 'never'/);
    await refused(['--top', '0'], /--top must be a whole number from 1 to 1000, got '0'/);
    await refused(['--top', '1001'], /--top must be a whole number from 1 to 1000/);
  });

  it('the one model\'s queue and batch: --max-batch, --max-wait-ms, --max-queue, --deadline-ms, --max-pixels', async () => {
    TESTED.add('max-batch').add('max-wait-ms').add('max-queue').add('deadline-ms').add('max-pixels');
    const { config } = await served('--max-batch', '16', '--max-wait-ms', '0.5', '--max-queue=9', '--deadline-ms', '250', '--max-pixels', '1000000');
    expect(config.models[0]).toMatchObject({ maxBatch: 16, maxWaitMs: 0.5, maxQueue: 9, deadlineMs: 250, maxPixels: 1_000_000 });
    expect((await served('--max-wait-ms', '0', '--max-batch', '1')).config.models[0]).toMatchObject({ maxWaitMs: 0, maxBatch: 1 });
    await refused(['--max-batch', '4097'], /--max-batch must be a whole number from 1 to 4096, got '4097'/);
    for (const bad of ['10001', '-1x', 'soon']) await refused([`--max-wait-ms=${bad}`], /--max-wait-ms must be a number from 0 to 10000/);
    await refused(['--max-queue', '0'], /--max-queue must be a whole number/);
    await refused(['--deadline-ms', '1.5'], /--deadline-ms must be a whole number/);
    await refused(['--max-pixels', 'many'], /--max-pixels must be a whole number/);
  });

  it('--config / -c: the models of the file; a model flag beside it is refused', async () => {
    TESTED.add('config');
    const file = join(dir, 'models.json');
    writeFileSync(file, JSON.stringify({ models: [{ name: 'a', maxBatch: 4 }, { name: 'b', topK: 2 }], bodyLimit: 1234 }));
    for (const form of [['--config', file], ['-c', file], [`--config=${file}`]]) {
      const { config } = await served(...form);
      expect(config.models.map((m) => m.name)).toEqual(['a', 'b']);
      expect(config.models[0].maxBatch).toBe(4);
      expect(config.bodyLimit).toBe(1234);
    }
    // Server-wide flags still apply with a config file.
    expect((await served('-c', file, '--body-limit', '99')).config.bodyLimit).toBe(99);
    for (const flag of ['--model=x.onnx', '--max-batch=2', '--top=3', '--name=z']) {
      await refused(['-c', file, flag], new RegExp(`--${flag.slice(2).split('=')[0]} describes a model; with --config, set it in the config file`));
    }
  });

  it('tests every serve flag above', () => {
    expect([...TESTED].sort()).toEqual(Object.keys(serve.options).sort());
  });
});
