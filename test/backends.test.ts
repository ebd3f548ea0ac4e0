// Backend selection: CONVNODE_BACKEND at start, setBackend at run time, no silent fallback when
// 'native' is asked for explicitly.
import { spawnSync } from 'node:child_process';
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
    expect(r.err).toContain("CONVNODE_BACKEND must be 'js' or 'native', got 'gpu'");
  });

  it('setBackend rejects an unknown name and switches between the known ones', () => {
    const before = getBackend();
    expect(() => setBackend('cuda' as never)).toThrow(BackendError);
    expect(() => setBackend('cuda' as never)).toThrow(/setBackend: name must be 'js' or 'native', got "cuda"/);
    setBackend('js');
    expect(getBackend()).toBe('js');
    setBackend(before);
  });
});
