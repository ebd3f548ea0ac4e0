// The package as users import it: ESM `import` and CommonJS `require` (Node 20's require of
// ESM) of the built dist/, through package.json "exports". `npm test` builds dist/ first.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const script = `
  const { Conv2d, Tensor, lenet5, summarize } = mod;
  const conv = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, bias: false });
  conv.weight = Tensor.from([[[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]]]);
  const image = Tensor.from([[Array.from({ length: 5 }, () => [255, 255, 0, 0, 0])]]);
  console.log(JSON.stringify({ row: Array.from(conv.forwardSync(image).data.slice(0, 3)), params: summarize(lenet5(), [1, 3, 32, 32]).totals.params }));
`;

function run(args: string[]): { row: number[]; params: number } {
  const out = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, CONVNODE_BACKEND: 'js' } });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('package entry points', () => {
  it('works through ESM import of "convnode"', () => {
    expect(run(['--input-type=module', '-e', `import * as mod from 'convnode';\n${script}`])).toEqual({ row: [-1020, -1020, 0], params: 62006 });
  });

  it('works through CommonJS require of "convnode"', () => {
    expect(run(['-e', `const mod = require('convnode');\n${script}`])).toEqual({ row: [-1020, -1020, 0], params: 62006 });
  });
});

describe('convnode/serve', () => {
  it('exports createServer, and importing convnode alone does not load fastify', () => {
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `import 'convnode'; import { createRequire } from 'node:module';
       const fastifyFiles = () => Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('/fastify/')).length;
       const before = fastifyFiles();
       const { createServer } = await import('convnode/serve');
       console.log(JSON.stringify({ before, after: fastifyFiles() > 0, createServer: typeof createServer }));`],
      { cwd: root, encoding: 'utf8', env: { ...process.env, CONVNODE_BACKEND: 'js' } },
    );
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ before: 0, after: true, createServer: 'function' });
  });
});

describe('start-up', () => {
  it('importing convnode does not load sharp (libvips loads on the first image decode)', () => {
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `import 'convnode'; import { createRequire } from 'node:module';
       const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('/sharp/'));
       console.log(JSON.stringify(loaded.length));`],
      { cwd: root, encoding: 'utf8', env: { ...process.env, CONVNODE_BACKEND: 'js' } },
    );
    expect(JSON.parse(out.trim().split('\n').pop()!)).toBe(0);
  });
});
