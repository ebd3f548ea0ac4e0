// Backend selection: CONVNODE_BACKEND at start, setBackend at run time, no silent fallback when
// 'native' is asked for explicitly.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BackendError, getBackend, setBackend } from '../lib/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function backendIn(env: Record<string, string>): { out: string; err: string; status: number } {
  try {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', "import { getBackend } from 'convnode'; console.log(getBackend());"], {
      cwd: root,
      encoding: 'utf8',
      stdio: 'pipe',
      env: { ...process.env, ...env },
    });
    return { out: out.trim(), err: '', status: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; status: number };
    return { out: e.stdout.trim(), err: e.stderr, status: e.status };
  }
}

describe('backend selection', () => {
  it('CONVNODE_BACKEND=js picks the pure-JS path without a fallback warning', () => {
    const r = backendIn({ CONVNODE_BACKEND: 'js' });
    expect(r.out).toBe('js');
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
