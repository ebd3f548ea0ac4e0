/**
 * scripts/build-wasm.mjs's source list against the tree: every *-wasmsimd.cc kernel file is
 * compiled into the module (and nothing listed is missing), every one of their functions is in
 * the kernel lists (so dispatch can choose it), and the portable sources come from
 * native/sources.cmake's core group, the one list (thread_pool.cc aside, which wasm replaces).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { THREAD_SOURCES, WASM_SOURCES, coreSources, kernelsTestSources } from '../scripts/build-wasm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function wasmsimdKernelFiles(): string[] {
  const kernels = join(root, 'native', 'kernels');
  return readdirSync(kernels).flatMap((family) =>
    existsSync(join(kernels, family)) && !family.includes('.')
      ? readdirSync(join(kernels, family)).filter((f) => f.endsWith('-wasmsimd.cc')).map((f) => `native/kernels/${family}/${f}`)
      : []);
}

describe('the wasm build', () => {
  it('compiles every wasmsimd kernel file, and each listed file exists', () => {
    const listed = (WASM_SOURCES as string[]).filter((f) => f.startsWith('native/kernels/'));
    expect([...listed].sort()).toEqual(wasmsimdKernelFiles().sort());
    for (const f of WASM_SOURCES as string[]) expect(existsSync(join(root, f)), f).toBe(true);
    expect(listed.length).toBeGreaterThanOrEqual(8);
  });

  it('every wasmsimd kernel is in a kernel list, inside the CONVNODE_HAVE_WASMSIMD blocks', () => {
    const lists = readFileSync(join(root, 'native', 'runtime', 'kernel-lists.cc'), 'utf8');
    const blocks = [...lists.matchAll(/#if defined\(CONVNODE_HAVE_WASMSIMD\)([\s\S]*?)#endif/g)].map((m) => m[1]).join('\n');
    for (const file of wasmsimdKernelFiles()) {
      const functions = [...readFileSync(join(root, file), 'utf8').matchAll(/^void (f32_\w+__wasmsimd)\(/gm)].map((m) => m[1]);
      expect(functions.length, file).toBeGreaterThan(0);
      for (const fn of functions) expect(blocks, `${fn} (${file})`).toContain(fn);
    }
  });

  it("takes the portable sources from sources.cmake's core group, minus the threaded pool", () => {
    const core = coreSources() as string[];
    expect(core).toContain('native/ops/conv2d.cc');
    expect(core).not.toContain('native/runtime/thread_pool.cc');
    const cmake = readFileSync(join(root, 'native', 'sources.cmake'), 'utf8');
    for (const f of core) expect(cmake).toContain(f);
  });

  it('compiles every native/wasm file in one of its variants, and kernels_test from its own list', () => {
    const wasmDir = readdirSync(join(root, 'native', 'wasm')).filter((f) => f.endsWith('.cc')).map((f) => `native/wasm/${f}`);
    const built = new Set([...(WASM_SOURCES as string[]), ...(THREAD_SOURCES as string[])]);
    for (const f of wasmDir) expect(built.has(f), `${f} is in no build-wasm.mjs list`).toBe(true);
    for (const f of THREAD_SOURCES as string[]) expect(existsSync(join(root, f)), f).toBe(true);
    const tests = kernelsTestSources() as string[];
    expect(tests).toContain('native/tests/kernels_test.cc');
    for (const f of tests) expect(existsSync(join(root, f)), f).toBe(true);
  });
});

describe('build-wasm --incremental', () => {
  // @ts-expect-error: a plain .mjs script without types
  const load = () => import('../scripts/build-wasm.mjs') as Promise<{ inputsOf: (d: string) => string[] | null; reusable: (o: string, d: string) => boolean }>;

  it("reads clang's dependency list (continued lines, escaped spaces) and adds the script itself", async () => {
    const { inputsOf } = await load();
    const dir = mkdtempSync(join(tmpdir(), 'convnode-depfile-'));
    const depfile = join(dir, 'a.d');
    writeFileSync(depfile, `${join(dir, 'a.o')}: native/ops/a.cc \\\n  native/ops/a\\ b.h /usr/include/x.h\n`);
    expect(inputsOf(depfile)).toEqual([
      join(root, 'native/ops/a.cc'), join(root, 'native/ops/a b.h'), '/usr/include/x.h', join(root, 'scripts', 'build-wasm.mjs'),
    ]);
    expect(inputsOf(join(dir, 'missing.d'))).toBeNull();
  });

  it('reuses an object only while it is newer than its source, every header it read and the script', async () => {
    const { reusable } = await load();
    const dir = mkdtempSync(join(tmpdir(), 'convnode-depfile-'));
    const [source, header, object, depfile] = ['a.cc', 'a.h', 'a.o', 'a.d'].map((f) => join(dir, f));
    for (const f of [source, header, object]) writeFileSync(f, '');
    writeFileSync(depfile, `${object}: ${source} ${header}\n`);
    const past = new Date(Date.now() - 60_000);
    utimesSync(source, past, past);
    utimesSync(header, past, past);
    const scriptTime = statSync(join(root, 'scripts', 'build-wasm.mjs')).mtime;
    const fresh = new Date(Math.max(Date.now(), scriptTime.getTime() + 1000));
    utimesSync(object, fresh, fresh);
    expect(reusable(object, depfile)).toBe(true);
    const later = new Date(fresh.getTime() + 1000);
    utimesSync(header, later, later); // a header changed after the object was built
    expect(reusable(object, depfile)).toBe(false);
    utimesSync(header, past, past);
    rmSync(header); // a header gone: compile again
    expect(reusable(object, depfile)).toBe(false);
    expect(reusable(object, join(dir, 'none.d'))).toBe(false); // no list: compile
  });
});
