// Backend selection: CONVNODE_BACKEND at start, setBackend at run time, no silent fallback when
// 'native' is asked for explicitly.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BackendError, getBackend, setBackend } from '../lib/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function backendIn(env: Record<string, string>): { out: string; err: string; status: number | null } {
  // spawnSync, not execFileSync: a successful run's stderr (where warnings go) must be kept too.
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', "import { getBackend } from 'convnode'; console.log(getBackend());"], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { out: r.stdout.trim(), err: r.stderr, status: r.status };
}

describe('backend selection', () => {
  it('CONVNODE_BACKEND=js picks the pure-JS path without a fallback warning', () => {
    const r = backendIn({ CONVNODE_BACKEND: 'js' });
    expect(r.status).toBe(0);
    expect(r.out).toBe('js');
    // The name promises no warning: the fallback warning is for an automatic choice only.
    expect(r.err).not.toContain('CONVNODE_NATIVE_FALLBACK');
    expect(r.err).not.toContain('using the pure-JS backend');
  });

  it('an unknown CONVNODE_BACKEND is an error naming the variable and the choices', () => {
    const r = backendIn({ CONVNODE_BACKEND: 'gpu' });
    expect(r.status).not.toBe(0);
    expect(r.err).toContain("CONVNODE_BACKEND must be 'js', 'native' or 'wasm', got 'gpu'");
  });

  it('setBackend rejects an unknown name and switches between the known ones', () => {
    const before = getBackend();
    expect(() => setBackend('cuda' as never)).toThrow(BackendError);
    expect(() => setBackend('cuda' as never)).toThrow(/setBackend: name must be 'js', 'native' or 'wasm', got "cuda"/);
    setBackend('js');
    expect(getBackend()).toBe('js');
    setBackend(before);
  });

  it('with no binary that loads: exactly one warning, naming what the user gets and how to get native', () => {
    // A copy of the package with its compiled JS but no build/ and no prebuilds/: what an
    // install whose native build failed (or was skipped) leaves.
    const dir = mkdtempSync(join(tmpdir(), 'convnode-nobinary-'));
    try {
      cpSync(join(root, 'package.json'), join(dir, 'package.json'));
      cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
      const script = `
        import { Conv2d, Tensor, getBackend, loadOnnx } from ${JSON.stringify(join(dir, 'dist', 'index.js'))};
        const warnings = [];
        process.on('warning', (w) => warnings.push({ code: w.code, message: w.message }));
        getBackend();
        const y = await new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3 }).forward(new Tensor([1, 1, 5, 5]));
        const model = await loadOnnx(${JSON.stringify(join(root, 'test', 'fixtures', 'onnx', 'lenet5.onnx'))});
        model.dispose();
        getBackend();
        setImmediate(() => console.log(JSON.stringify({ backend: getBackend(), shape: y.shape, warnings })));
      `;
      const env = { ...process.env };
      delete env.CONVNODE_BACKEND;
      delete env.CONVNODE_ADDON_PATH;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', env });
      expect(r.status, r.stderr).toBe(0);
      const seen = JSON.parse(r.stdout.trim().split('\n').pop()!) as { backend: string; shape: number[]; warnings: Array<{ code: string; message: string }> };
      expect(seen.backend).toBe('js');
      expect(seen.shape).toEqual([1, 2, 3, 3]);
      expect(seen.warnings).toHaveLength(1);
      const [warning] = seen.warnings;
      expect(warning.code).toBe('CONVNODE_NATIVE_FALLBACK');
      expect(warning.message).toMatch(/^convnode: using the pure-JS backend: could not load the convnode addon from /);
      expect(warning.message).toContain('to get the native kernels, install with install scripts allowed or run `npm rebuild convnode`');
      // Printed once on stderr too (Node prints process warnings there).
      expect(r.stderr.split('CONVNODE_NATIVE_FALLBACK').length - 1).toBe(1);
      // Asking for native by name is an error there, never a silent fallback.
      const forced = spawnSync(process.execPath, ['--input-type=module', '-e', `import { getBackend } from ${JSON.stringify(join(dir, 'dist', 'index.js'))}; getBackend();`], {
        cwd: dir, encoding: 'utf8', env: { ...env, CONVNODE_BACKEND: 'native' },
      });
      expect(forced.status).not.toBe(0);
      expect(forced.stderr).toMatch(/BackendError: the native backend is not available: could not load the convnode addon/);
      const forcedWasm = spawnSync(process.execPath, ['--input-type=module', '-e', `import { getBackend } from ${JSON.stringify(join(dir, 'dist', 'index.js'))}; getBackend();`], {
        cwd: dir, encoding: 'utf8', env: { ...env, CONVNODE_BACKEND: 'wasm' },
      });
      expect(forcedWasm.status).not.toBe(0);
      expect(forcedWasm.stderr).toMatch(/BackendError: the wasm backend is not available: no convnode.wasm in /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const builtWasm = join(root, 'build-wasm', 'convnode.wasm');
  it.skipIf(!existsSync(builtWasm) && process.env.CONVNODE_REQUIRE_WASM !== '1')(
    'with no addon that loads but the wasm module shipped: the wasm backend, one warning naming it', () => {
      // The same copy, with the module where an installed package has it (prebuilds/wasm32-wasi).
      const dir = mkdtempSync(join(tmpdir(), 'convnode-wasmonly-'));
      try {
        cpSync(join(root, 'package.json'), join(dir, 'package.json'));
        cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
        symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
        mkdirSync(join(dir, 'prebuilds', 'wasm32-wasi'), { recursive: true });
        cpSync(builtWasm, join(dir, 'prebuilds', 'wasm32-wasi', 'convnode.wasm'));
        // And its threaded build, the default where the host allows threads (CI builds both).
        const builtThreads = join(root, 'build-wasm', 'convnode-threads.wasm');
        if (existsSync(builtThreads)) cpSync(builtThreads, join(dir, 'prebuilds', 'wasm32-wasi', 'convnode-threads.wasm'));
        const script = `
          import { Conv2d, Tensor, getBackend } from ${JSON.stringify(join(dir, 'dist', 'index.js'))};
          const warnings = [];
          process.on('warning', (w) => warnings.push({ code: w.code, message: w.message }));
          const conv = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, bias: false });
          conv.weight = Tensor.from([[[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]]]);
          const y = await conv.forward(Tensor.from([[Array.from({ length: 5 }, () => [255, 255, 0, 0, 0])]]));
          setImmediate(() => console.log(JSON.stringify({ backend: getBackend(), y: y.toArray(), warnings })));
        `;
        const env = { ...process.env };
        delete env.CONVNODE_BACKEND;
        delete env.CONVNODE_ADDON_PATH;
        delete env.CONVNODE_WASM_PATH;
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', env });
        expect(r.status, r.stderr).toBe(0);
        const seen = JSON.parse(r.stdout.trim().split('\n').pop()!) as { backend: string; y: number[][][][]; warnings: Array<{ code: string; message: string }> };
        expect(seen.backend).toBe('wasm');
        expect(seen.y).toEqual([[[[-1020, -1020, 0], [-1020, -1020, 0], [-1020, -1020, 0]]]]);
        expect(seen.warnings).toHaveLength(1);
        expect(seen.warnings[0].code).toBe('CONVNODE_NATIVE_FALLBACK');
        expect(seen.warnings[0].message).toMatch(/^convnode: using the wasm backend \(.*\): could not load the convnode addon from /);
        expect(seen.warnings[0].message).toContain('`npm rebuild convnode`');
        // The threaded build by default, one thread per core (issue 17), and the warning names the count.
        const cores = Math.min(availableParallelism(), 16);
        if (existsSync(builtThreads) && cores > 1) expect(seen.warnings[0].message).toContain(`on ${cores} threads`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
});
